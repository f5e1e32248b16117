-- 0006_install_coverage.sql - install coverage as a query: the facts the
-- app side records (devices, their state changes, first/last seen) turned
-- into per-unit and per-office figures.
--
-- A device is an active install when it is not revoked, its push token was
-- not rejected by FCM/APNs (state token_invalid), and it was seen within
-- p_active_days (config coverage.active_days, default 30). A unit is covered
-- when at least one of its active users has an active install. The staff
-- dashboard builds on these; they are functions rather than views because
-- the window is a parameter.

CREATE FUNCTION alertd_unit_coverage(p_active_days int)
RETURNS TABLE (unit_code text, office_code text, active_users bigint, users_with_install bigint,
               active_installs bigint, covered boolean)
LANGUAGE sql STABLE AS $$
    SELECT b.code, b.office_code,
           count(DISTINCT u.id),
           count(DISTINCT d.user_id),
           count(d.id),
           count(d.id) > 0
      FROM budget_units b
      LEFT JOIN users u ON u.unit_code = b.code AND u.active
      LEFT JOIN devices d ON d.user_id = u.id AND d.state = 'active'
                         AND d.last_seen_at > now() - make_interval(days => p_active_days)
     WHERE b.active
     GROUP BY b.code, b.office_code
$$;

-- Per office, counting only the units it owns directly; roll up the
-- hierarchy with offices.parent_code.
CREATE FUNCTION alertd_office_coverage(p_active_days int)
RETURNS TABLE (office_code text, units bigint, covered_units bigint, coverage numeric)
LANGUAGE sql STABLE AS $$
    SELECT c.office_code, count(*), count(*) FILTER (WHERE c.covered),
           round(count(*) FILTER (WHERE c.covered)::numeric / count(*), 4)
      FROM alertd_unit_coverage(p_active_days) c
     GROUP BY c.office_code
$$;
