-- name: citation-presence
-- decision: Which prompt_version or retrieval_config to revert when policy answers stop citing their sources.
-- bucket: quality
-- parameters: start_date (date), end_date (date)
--
-- One row per prompt_version and retrieval_config over the policy answers of the
-- window: requests with intent 'policy_qna' and status 'ok' (the PolicyAnswers metric),
-- those with citations_present, and citation presence in percent (the alarm fires
-- below 90). Lowest presence first.
SELECT
  prompt_version,
  retrieval_config,
  count(*) AS policy_answers,
  count_if(citations_present) AS cited_answers,
  round(100 * CAST(count_if(citations_present) AS double) / count(*), 2) AS citation_presence_pct
FROM events
WHERE event_type = 'request'
  AND dt BETWEEN :start_date AND :end_date
  AND intent = 'policy_qna'
  AND status = 'ok'
GROUP BY prompt_version, retrieval_config
ORDER BY citation_presence_pct, policy_answers DESC
