-- name: abandonment
-- decision: Which flows users give up on, by intent and tenant, to fix them first.
-- bucket: adoption
-- parameters: start_date (date), end_date (date)
--
-- One row per intent and tenant over the request records of the window: requests, and
-- abandoned requests (distinct request_id with outcome 'abandoned' or with a feedback
-- record saying abandoned, from the same window), and the abandonment rate in percent.
-- Highest rate first.
WITH abandoned_feedback AS (
  SELECT DISTINCT request_id
  FROM events
  WHERE event_type = 'feedback'
    AND dt BETWEEN :start_date AND :end_date
    AND abandoned
)
SELECT
  r.intent,
  r.tenant_id,
  count(DISTINCT r.request_id) AS requests,
  count(DISTINCT CASE WHEN r.outcome = 'abandoned' OR f.request_id IS NOT NULL THEN r.request_id END) AS abandoned,
  round(
    100 * CAST(count(DISTINCT CASE WHEN r.outcome = 'abandoned' OR f.request_id IS NOT NULL THEN r.request_id END) AS double)
      / count(DISTINCT r.request_id),
    2
  ) AS abandonment_rate_pct
FROM events r
LEFT JOIN abandoned_feedback f ON f.request_id = r.request_id
WHERE r.event_type = 'request'
  AND r.dt BETWEEN :start_date AND :end_date
GROUP BY r.intent, r.tenant_id
ORDER BY abandonment_rate_pct DESC, r.intent, r.tenant_id
