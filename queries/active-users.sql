-- name: active-users
-- decision: Whether the assistant is used and kept: daily and weekly active users by tenant.
-- bucket: adoption
-- parameters: start_date (date), end_date (date)
--
-- For each day of the window that has requests, and each tenant: daily active users
-- (distinct pseudonymized user_id with a request that UTC day) and weekly active users
-- (distinct user_id over that day and the 6 days before it, read from up to 6 days
-- before :start_date). Tenant '(all)' is the whole account (a user active in two
-- tenants counts once there). Requests without user_id are not counted. Days without
-- any request do not appear; a tenant appears on a day when it had a user in the 7 days.
WITH active AS (
  SELECT DISTINCT dt, tenant_id, user_id
  FROM events
  WHERE event_type = 'request'
    AND dt BETWEEN CAST(date_add('day', -6, CAST(:start_date AS date)) AS varchar) AND :end_date
    AND user_id IS NOT NULL
),
days AS (
  SELECT DISTINCT dt AS active_day
  FROM active
  WHERE dt BETWEEN :start_date AND :end_date
)
SELECT
  d.active_day AS activity_date,
  CASE WHEN grouping(a.tenant_id) = 1 THEN '(all)' ELSE a.tenant_id END AS tenant_id,
  count(DISTINCT CASE WHEN a.dt = d.active_day THEN a.user_id END) AS daily_active_users,
  count(DISTINCT a.user_id) AS weekly_active_users
FROM days d
JOIN active a
  ON a.dt BETWEEN CAST(date_add('day', -6, CAST(d.active_day AS date)) AS varchar) AND d.active_day
GROUP BY GROUPING SETS ((d.active_day, a.tenant_id), (d.active_day))
ORDER BY activity_date, tenant_id
