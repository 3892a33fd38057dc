-- name: refusal-rate
-- decision: Which intent and role the guardrail over-blocks, and whether a guardrail_version change caused it.
-- bucket: quality
-- parameters: start_date (date), end_date (date)
--
-- One row per intent, user_role and guardrail_version over the request records of the
-- window: requests, refusals (guardrail_action 'block', the Refusals metric) and the
-- refusal rate in percent, with the blocks that were classified as injection or
-- exfiltration attempts (expected blocks, not over-blocking). Highest rate first.
SELECT
  intent,
  user_role,
  guardrail_version,
  count(*) AS requests,
  count_if(guardrail_action = 'block') AS refusals,
  round(100 * CAST(count_if(guardrail_action = 'block') AS double) / count(*), 2) AS refusal_rate_pct,
  count_if(guardrail_action = 'block' AND guardrail_category IN ('injection', 'exfiltration')) AS attack_blocks
FROM events
WHERE event_type = 'request'
  AND dt BETWEEN :start_date AND :end_date
GROUP BY intent, user_role, guardrail_version
ORDER BY refusal_rate_pct DESC, requests DESC, intent, user_role
