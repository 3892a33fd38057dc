-- name: new-intents
-- decision: Whether users bring intents the system was not built for (intent drift): intents seen in the window that were not seen in the 28 days before it.
-- bucket: adoption
-- parameters: start_date (date), end_date (date)
--
-- Reads the request records from 28 days before :start_date to :end_date in one scan
-- (the lower dt bound is a constant expression, so partition projection still prunes)
-- and keeps the intents whose first record in that range is inside the window (a WHERE
-- over each intent's first day: Athena takes execution parameters only in a WHERE
-- clause, not in HAVING). With start_date = end_date = today it is the NewIntents
-- metric. One row per new intent with when it was first seen, its requests, distinct
-- users and tenants.
WITH by_intent AS (
  SELECT
    intent,
    min(dt) AS first_day,
    min("timestamp") AS first_seen,
    count(*) AS requests,
    count(DISTINCT user_id) AS users,
    count(DISTINCT tenant_id) AS tenants
  FROM events
  WHERE event_type = 'request'
    AND dt BETWEEN CAST(date_add('day', -28, CAST(:start_date AS date)) AS varchar) AND :end_date
  GROUP BY intent
)
SELECT intent, first_seen, requests, users, tenants
FROM by_intent
WHERE first_day >= :start_date
ORDER BY first_seen, intent
