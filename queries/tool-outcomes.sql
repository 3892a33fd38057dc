-- name: tool-outcomes
-- decision: Which tool to disable with its kill switch, or whose schema to fix: success, validation failures and false confirmations by tool.
-- bucket: quality
-- parameters: start_date (date), end_date (date)
--
-- One row per tool (tool spans: span_kind 'tool', name = tool) and tool_schema_version
-- over the window. A call succeeded when its span has status 'ok' and was executed (a
-- span without `executed` counts as executed). Validation failures are spans with
-- tool_validation 'failed'; execution errors are executed spans whose status is not
-- 'ok'. False confirmations come from the request records (false_confirmation: the
-- assistant said "done" but the tool failed or was blocked), joined by request_id and
-- charged to the tool calls of that request that did not succeed. A request whose
-- record falls outside the window (a request spanning midnight at the window's edge)
-- contributes no false confirmation.
WITH tool_calls AS (
  SELECT
    request_id,
    name AS tool,
    tool_schema_version,
    status,
    executed IS DISTINCT FROM false AS was_executed,
    tool_validation
  FROM events
  WHERE event_type = 'span'
    AND dt BETWEEN :start_date AND :end_date
    AND span_kind = 'tool'
),
false_confirmed AS (
  SELECT DISTINCT request_id
  FROM events
  WHERE event_type = 'request'
    AND dt BETWEEN :start_date AND :end_date
    AND false_confirmation
)
SELECT
  t.tool,
  t.tool_schema_version,
  count(*) AS calls,
  count_if(t.was_executed) AS executed,
  count_if(t.was_executed AND t.status = 'ok') AS succeeded,
  round(100 * CAST(count_if(t.was_executed AND t.status = 'ok') AS double) / count(*), 2) AS success_rate_pct,
  count_if(t.tool_validation = 'failed') AS validation_failures,
  count_if(t.was_executed AND t.status <> 'ok') AS execution_errors,
  count_if(f.request_id IS NOT NULL AND NOT (t.was_executed AND t.status = 'ok')) AS false_confirmations
FROM tool_calls t
LEFT JOIN false_confirmed f ON f.request_id = t.request_id
GROUP BY t.tool, t.tool_schema_version
ORDER BY success_rate_pct, t.tool
