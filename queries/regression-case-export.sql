-- name: regression-case-export
-- decision: Which requests become regression eval cases: every P0 and every negatively rated request of the window.
-- bucket: quality
-- parameters: start_date (date), end_date (date)
--
-- One row per request (distinct request_id: a record delivered twice or rated twice
-- gives one case) that carries a p0_category or has a feedback record with user_rating
-- -1 (the policy's thumbs scale; a five-star policy would use user_rating <= 2), joined
-- by request_id. Feedback is read from the same dt window as the requests, so a rating
-- that arrives after end_date is not seen: end the window a day late to catch them.
-- The rows carry ids, slices, version tags and outcomes, never text: the eval case is
-- rebuilt from the trace (or a debug capture) by trace_id. reason lists why, e.g.
-- 'p0:false_confirmation+negative_rating'.
WITH requests AS (
  SELECT
    request_id,
    trace_id,
    session_id,
    tenant_id,
    user_role,
    intent,
    risk_level,
    app_version,
    prompt_version,
    orchestration_version,
    retrieval_config,
    tool_schema_version,
    guardrail_version,
    model,
    status,
    error_code,
    outcome,
    tool_path,
    guardrail_action,
    p0_category,
    "timestamp",
    row_number() OVER (PARTITION BY request_id ORDER BY event_id) AS delivery
  FROM events
  WHERE event_type = 'request'
    AND dt BETWEEN :start_date AND :end_date
),
negative_ratings AS (
  SELECT request_id, count(DISTINCT event_id) AS negative_ratings
  FROM events
  WHERE event_type = 'feedback'
    AND dt BETWEEN :start_date AND :end_date
    AND user_rating = -1
  GROUP BY request_id
)
SELECT
  r.request_id,
  r.trace_id,
  r.session_id,
  r."timestamp" AS request_time,
  r.tenant_id,
  r.user_role,
  r.intent,
  r.risk_level,
  r.app_version,
  r.prompt_version,
  r.orchestration_version,
  r.retrieval_config,
  r.tool_schema_version,
  r.guardrail_version,
  r.model,
  r.status,
  r.error_code,
  r.outcome,
  r.tool_path,
  r.guardrail_action,
  r.p0_category,
  coalesce(n.negative_ratings, 0) AS negative_ratings,
  concat_ws(
    '+',
    CASE WHEN r.p0_category IS NOT NULL THEN 'p0:' || r.p0_category END,
    CASE WHEN n.request_id IS NOT NULL THEN 'negative_rating' END
  ) AS reason
FROM requests r
LEFT JOIN negative_ratings n ON n.request_id = r.request_id
WHERE r.delivery = 1
  AND (r.p0_category IS NOT NULL OR n.request_id IS NOT NULL)
ORDER BY r."timestamp", r.request_id
