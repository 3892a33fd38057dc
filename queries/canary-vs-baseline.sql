-- name: canary-vs-baseline
-- decision: Whether a canary passes the release gate: canary vs baseline by version tag and intent (no P0, error, p95 latency, refusal and tool failure rates within tolerance).
-- bucket: reliability
-- parameters: start_date (date), end_date (date), version_tag (prompt_version|app_version|orchestration_version|retrieval_config|tool_schema_version|guardrail_version|model), baseline (string), canary (string)
--
-- :version_tag picks the tag that tells the two arms apart (the policy's
-- gates.dimension, prompt_version by default): the tag names are the rows of `tags`,
-- the WHERE keeps the row named by :version_tag and a CASE over that row picks the
-- column, so the column is chosen by a bound string literal, never by splicing an
-- identifier into the SQL. :baseline and :canary are the two values of that tag; each
-- arm is its own WHERE (a canary value equal to the baseline counts as baseline). Every
-- parameter sits in a WHERE clause, the only place Athena takes execution parameters.
-- One row per arm and slice: each intent, plus '(all)' for the whole arm. Rates are in
-- percent. Tool failure rate: requests with a tool path (read or write) that had a tool
-- error, a tool validation failure or a false confirmation, over requests with a tool
-- path (NULL when none). p0_count counts distinct request_id. Compare with the policy's
-- gates (min_requests, tolerances); the query does not judge.
WITH tags (tag_name) AS (
  VALUES
    ('prompt_version'),
    ('app_version'),
    ('orchestration_version'),
    ('retrieval_config'),
    ('tool_schema_version'),
    ('guardrail_version'),
    ('model')
),
tagged AS (
  SELECT
    CASE t.tag_name
      WHEN 'prompt_version' THEN e.prompt_version
      WHEN 'app_version' THEN e.app_version
      WHEN 'orchestration_version' THEN e.orchestration_version
      WHEN 'retrieval_config' THEN e.retrieval_config
      WHEN 'tool_schema_version' THEN e.tool_schema_version
      WHEN 'guardrail_version' THEN e.guardrail_version
      WHEN 'model' THEN e.model
    END AS version,
    e.request_id,
    e.intent,
    e.status,
    e.latency_ms,
    e.guardrail_action,
    e.tool_path,
    e.tool_errors,
    e.tool_validation_failures,
    e.false_confirmation,
    e.p0_category
  FROM events e
  CROSS JOIN tags t
  WHERE e.event_type = 'request'
    AND e.dt BETWEEN :start_date AND :end_date
    AND t.tag_name = :version_tag
),
arms AS (
  SELECT 'baseline' AS arm, tagged.*
  FROM tagged
  WHERE version = :baseline
  UNION ALL
  SELECT 'canary' AS arm, tagged.*
  FROM tagged
  WHERE version = :canary
    AND version <> :baseline
)
SELECT
  arm,
  version,
  CASE WHEN grouping(intent) = 1 THEN '(all)' ELSE intent END AS slice,
  count(*) AS requests,
  round(100 * CAST(count_if(status IN ('error', 'timeout')) AS double) / count(*), 2) AS error_rate_pct,
  approx_percentile(latency_ms, 0.95) AS p95_latency_ms,
  round(100 * CAST(count_if(guardrail_action = 'block') AS double) / count(*), 2) AS refusal_rate_pct,
  count_if(tool_path <> 'none') AS tool_requests,
  round(
    100 * CAST(count_if(tool_path <> 'none' AND (tool_errors > 0 OR tool_validation_failures > 0 OR false_confirmation)) AS double)
      / NULLIF(count_if(tool_path <> 'none'), 0),
    2
  ) AS tool_failure_rate_pct,
  count(DISTINCT CASE WHEN p0_category IS NOT NULL THEN request_id END) AS p0_count
FROM arms
GROUP BY GROUPING SETS ((arm, version, intent), (arm, version))
ORDER BY slice, arm
