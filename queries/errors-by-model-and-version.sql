-- name: errors-by-model-and-version
-- decision: Which model, app, orchestration or prompt version to roll back or fail over when errors or provider timeouts rise.
-- bucket: reliability
-- parameters: start_date (date), end_date (date)
--
-- One row per model and version tags (app_version, orchestration_version,
-- prompt_version) over the request records of the window. Errors are requests with
-- status 'error' or 'timeout'; provider timeouts are requests with status 'timeout' or
-- error_code 'provider_timeout' (the ErrorRate and ProviderTimeoutRate metrics). Rates
-- are in percent. Worst error rate first. A NULL tag means the producer did not set it.
SELECT
  model,
  app_version,
  orchestration_version,
  prompt_version,
  count(*) AS requests,
  count_if(status IN ('error', 'timeout')) AS errors,
  round(100 * CAST(count_if(status IN ('error', 'timeout')) AS double) / count(*), 2) AS error_rate_pct,
  count_if(status = 'timeout' OR error_code = 'provider_timeout') AS provider_timeouts,
  round(100 * CAST(count_if(status = 'timeout' OR error_code = 'provider_timeout') AS double) / count(*), 2) AS provider_timeout_rate_pct
FROM events
WHERE event_type = 'request'
  AND dt BETWEEN :start_date AND :end_date
GROUP BY model, app_version, orchestration_version, prompt_version
ORDER BY error_rate_pct DESC, requests DESC
