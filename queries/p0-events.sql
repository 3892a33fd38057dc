-- name: p0-events
-- decision: Which kill switch to flip and which version to roll back: P0 events over time, with the version tags they ran under.
-- bucket: safety
-- parameters: start_date (date), end_date (date)
--
-- One row per UTC hour, P0 category, tenant, intent and the full set of version tags
-- (app, prompt, orchestration, retrieval_config, tool schema, guardrail, model), over
-- the request records of the window that carry a p0_category. p0_requests counts
-- distinct request_id, so a record delivered twice (at-least-once delivery) counts once.
-- Export the requests themselves with regression-case-export.
SELECT
  date_trunc('hour', from_iso8601_timestamp("timestamp")) AS hour_utc,
  p0_category,
  tenant_id,
  intent,
  app_version,
  prompt_version,
  orchestration_version,
  retrieval_config,
  tool_schema_version,
  guardrail_version,
  model,
  count(DISTINCT request_id) AS p0_requests,
  min("timestamp") AS first_seen,
  max("timestamp") AS last_seen
FROM events
WHERE event_type = 'request'
  AND dt BETWEEN :start_date AND :end_date
  AND p0_category IS NOT NULL
GROUP BY
  date_trunc('hour', from_iso8601_timestamp("timestamp")),
  p0_category,
  tenant_id,
  intent,
  app_version,
  prompt_version,
  orchestration_version,
  retrieval_config,
  tool_schema_version,
  guardrail_version,
  model
ORDER BY hour_utc, p0_category, tenant_id
