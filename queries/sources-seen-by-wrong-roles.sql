-- name: sources-seen-by-wrong-roles
-- decision: Which connector to disable now: restricted sources (HR policy documents) that reached roles not allowed to see them.
-- bucket: safety
-- parameters: start_date (date), end_date (date)
--
-- restricted_sources below is the access rule, edited here and reviewed with the
-- connector ACLs: a source whose name starts with source_prefix may only be seen by
-- allowed_roles (add a row per restricted connector; a source matching several rows
-- must be allowed by each). One row per source, role, tenant and retrieval_config with
-- the requests (distinct request_id) and distinct users whose `sources` included it,
-- and how many of those ingest already flagged as a P0 access_violation (a gap between
-- the two means the application's own check missed them).
WITH restricted_sources (source_prefix, allowed_roles) AS (
  VALUES
    ('hr_policies', ARRAY['hr_specialist', 'admin'])
),
seen AS (
  SELECT
    e.request_id,
    e.user_id,
    e.user_role,
    e.tenant_id,
    e.retrieval_config,
    e.p0_category,
    e."timestamp",
    s.source
  FROM events e
  CROSS JOIN UNNEST(e.sources) AS s (source)
  WHERE e.event_type = 'request'
    AND e.dt BETWEEN :start_date AND :end_date
)
SELECT
  seen.source,
  seen.user_role,
  seen.tenant_id,
  seen.retrieval_config,
  count(DISTINCT seen.request_id) AS requests,
  count(DISTINCT seen.user_id) AS users,
  count(DISTINCT CASE WHEN seen.p0_category = 'access_violation' THEN seen.request_id END) AS flagged_as_p0,
  min(seen."timestamp") AS first_seen,
  max(seen."timestamp") AS last_seen
FROM seen
JOIN restricted_sources r ON starts_with(seen.source, r.source_prefix)
WHERE NOT contains(r.allowed_roles, seen.user_role)
GROUP BY seen.source, seen.user_role, seen.tenant_id, seen.retrieval_config
ORDER BY requests DESC, seen.source, seen.user_role, seen.tenant_id
