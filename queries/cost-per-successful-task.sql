-- name: cost-per-successful-task
-- decision: Where spend per successful task is over budget, and whether a cheaper model, caching or shorter prompts would pay.
-- bucket: cost
-- parameters: start_date (date), end_date (date)
--
-- One row per intent and tenant over the request records of the window: the cost of
-- every request (failures included: successes carry their cost) divided by the
-- requests with outcome 'success' (the CostPerSuccessfulTask metric), with tokens and
-- cache hits to see why. cost_usd is optional in the contract: requests_without_cost
-- counts the requests whose cost is missing from the sum (the ingest metrics estimate
-- them from the policy's price table; this query does not). NULL cost per task means
-- no successful task.
SELECT
  intent,
  tenant_id,
  count(*) AS requests,
  count_if(outcome = 'success') AS successful_tasks,
  round(sum(cost_usd), 4) AS cost_usd,
  count_if(cost_usd IS NULL) AS requests_without_cost,
  round(sum(cost_usd) / NULLIF(count_if(outcome = 'success'), 0), 4) AS cost_per_successful_task_usd,
  round(avg(input_tokens), 1) AS avg_input_tokens,
  round(avg(output_tokens), 1) AS avg_output_tokens,
  round(100 * CAST(count_if(cache_hit) AS double) / count(*), 2) AS cache_hit_rate_pct
FROM events
WHERE event_type = 'request'
  AND dt BETWEEN :start_date AND :end_date
GROUP BY intent, tenant_id
ORDER BY cost_per_successful_task_usd DESC NULLS FIRST, intent, tenant_id
