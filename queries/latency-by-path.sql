-- name: latency-by-path
-- decision: Which path and stage to tune or roll back when latency rises (p50/p95/p99 of retrieval, tool and plain requests).
-- bucket: reliability
-- parameters: start_date (date), end_date (date)
--
-- One row per path over the request records of the window: request count, p50/p95/p99
-- of end-to-end latency_ms, and the average of each stage so the slow stage stands out.
-- Path, as the Latency metric's Path dimension: 'rag' when retrieval_used, else 'tool'
-- when tool_path is read or write, else 'plain' (a request that retrieves and calls a
-- tool counts as rag). approx_percentile is Athena's approximate percentile.
SELECT
  CASE
    WHEN retrieval_used THEN 'rag'
    WHEN tool_path IN ('read', 'write') THEN 'tool'
    ELSE 'plain'
  END AS path,
  count(*) AS requests,
  approx_percentile(latency_ms, 0.50) AS p50_latency_ms,
  approx_percentile(latency_ms, 0.95) AS p95_latency_ms,
  approx_percentile(latency_ms, 0.99) AS p99_latency_ms,
  round(avg(retrieval_latency_ms), 1) AS avg_retrieval_latency_ms,
  round(avg(llm_latency_ms), 1) AS avg_llm_latency_ms,
  round(avg(tool_latency_ms), 1) AS avg_tool_latency_ms
FROM events
WHERE event_type = 'request'
  AND dt BETWEEN :start_date AND :end_date
GROUP BY 1
ORDER BY path
