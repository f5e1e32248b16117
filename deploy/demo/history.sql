-- history.sql - the demo data set's 90 days of coverage history (coverage_daily) and coverage
-- targets (coverage_targets), both from migration 0014 (docs/coverage.md). deploy/demo/load.sh runs
-- it after data.sql, only when those tables exist, and then takes today's real snapshot with
-- alertd_coverage_snapshot(current_date); so the history stops at yesterday (Vietnam time) and
-- today's row is the real figures.
--
-- The past is made up, deterministically: each demo office's own units start 90 days ago with
-- about 30 % fewer protected units than today (the campaign to install the app), rising along a
-- curve with a small wobble of its own to today's figures (computed here the way docs/coverage.md
-- defines them); an office's row is the sum of its subtree's, as the snapshot writes it. Rows that
-- exist already are kept (ON CONFLICT DO NOTHING, as the snapshot does).
\set ON_ERROR_STOP on
BEGIN;

CREATE TEMP TABLE demo_now ON COMMIT DROP AS
WITH person AS (
    SELECT u.id, u.unit_code,
           EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role IN ('account_holder', 'chief_accountant')) AS key_role,
           (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.state = 'active' AND d.push_token IS NOT NULL
                AND d.last_seen_at > now() - interval '30 days') AS reachable,
           EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id) AS ever,
           EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.state IN ('active', 'token_invalid')) AS installed
      FROM users u JOIN budget_units b ON b.code = u.unit_code
     WHERE u.active AND b.active AND starts_with(b.name, '[DEMO]')
), unit AS (
    SELECT b.code, b.office_code,
           coalesce(bool_and(p.reachable > 0) FILTER (WHERE p.key_role), false) AS all_key_covered,
           coalesce(bool_or(p.reachable > 0), false) AS some_covered,
           coalesce(bool_or(p.ever), false) AS ever_installed,
           coalesce(bool_or(p.installed AND p.reachable = 0), false) AS unreachable,
           count(p.id) AS users, count(p.id) FILTER (WHERE p.reachable > 0) AS covered_users,
           coalesce(sum(p.reachable), 0) AS reachable_devices,
           (SELECT coalesce(sum(CASE WHEN e.type = 'balance.changed' THEN abs((e.payload -> 'data' ->> 'amount')::numeric)
                                     WHEN e.payload -> 'data' ->> 'status' = 'submitted'
                                     THEN (e.payload -> 'data' -> 'voucher' ->> 'amount')::numeric END), 0)
              FROM events e WHERE e.unit_code = b.code AND e.occurred_at > now() - interval '30 days') AS volume
      FROM budget_units b LEFT JOIN person p ON p.unit_code = b.code
     WHERE b.active AND starts_with(b.name, '[DEMO]')
     GROUP BY b.code, b.office_code
)
SELECT office_code, count(*)::int AS units,
       count(*) FILTER (WHERE all_key_covered)::int AS protected,
       count(*) FILTER (WHERE NOT all_key_covered AND some_covered)::int AS partial,
       count(*) FILTER (WHERE NOT some_covered)::int AS unprotected,
       count(*) FILTER (WHERE NOT ever_installed)::int AS never_installed,
       count(*) FILTER (WHERE NOT all_key_covered AND unreachable)::int AS installed_unreachable,
       sum(users)::int AS users, sum(covered_users)::int AS covered_users, sum(reachable_devices)::int AS reachable_devices,
       sum(volume) AS volume, coalesce(sum(volume) FILTER (WHERE NOT all_key_covered), 0) AS volume_at_risk
  FROM unit GROUP BY office_code;

-- each office's own units, day by day: i days ago, a share s of today's progress is not yet made
CREATE TEMP TABLE demo_own ON COMMIT DROP AS
WITH d AS (
    SELECT n.*, i, ((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - i) AS day,
           least(0.95, 0.30 * power(i / 90.0, 1.2) + 0.015 * sin(i / 4.0 + ascii(substr(n.office_code, 4)))) AS s
      FROM demo_now n CROSS JOIN generate_series(1, 90) i
), f AS (
    SELECT d.*, least(d.protected, greatest(0, round(d.units * d.s)))::int AS lost
      FROM d
)
SELECT office_code, day, units,
       protected - lost AS protected,
       partial + (lost * 6 / 10) AS partial,
       unprotected + (lost - lost * 6 / 10) AS unprotected,
       least(unprotected + (lost - lost * 6 / 10), never_installed + (lost - lost * 6 / 10) / 2) AS never_installed,
       installed_unreachable + lost / 3 AS installed_unreachable,
       users,
       greatest(0, covered_users - round(covered_users * s * 0.9))::int AS covered_users,
       greatest(0, reachable_devices - round(reachable_devices * s * 0.9))::int AS reachable_devices,
       round(volume * (0.93 + 0.07 * cos(i / 6.0))) AS volume_30d,
       least(round(volume * (0.93 + 0.07 * cos(i / 6.0))),
             round(volume_at_risk * (0.93 + 0.07 * cos(i / 6.0)) + volume * s * 0.8)) AS volume_at_risk
  FROM f;

-- every demo office's subtree, summed
INSERT INTO coverage_daily (office_code, day, units, protected, partial, unprotected, never_installed,
                            installed_unreachable, users, covered_users, reachable_devices, volume_30d, volume_at_risk)
SELECT o.code, w.day, sum(w.units), sum(w.protected), sum(w.partial), sum(w.unprotected), sum(w.never_installed),
       sum(w.installed_unreachable), sum(w.users), sum(w.covered_users), sum(w.reachable_devices), sum(w.volume_30d),
       sum(w.volume_at_risk)
  FROM offices o
  JOIN demo_own w ON w.office_code IN (SELECT alertd_office_subtree(o.code))
 WHERE starts_with(o.name, '[DEMO]')
 GROUP BY o.code, w.day
ON CONFLICT (office_code, day) DO NOTHING;

-- targets: the whole (demo) country 95 % and the first regional treasury 100 % by the end of the
-- quarter after next; the second regional treasury none (the page shows "no target")
INSERT INTO coverage_targets (office_code, target_pct, target_date, set_by)
VALUES ('D000', 95, (date_trunc('quarter', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') + interval '6 months' - interval '1 day')::date, 'demo'),
       ('D100', 100, (date_trunc('quarter', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') + interval '6 months' - interval '1 day')::date, 'demo')
ON CONFLICT (office_code) DO NOTHING;

COMMIT;
