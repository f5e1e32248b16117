-- coverage-history.sql - 90 days of coverage_daily for every office, and a target for the central
-- office, for `make bench-coverage` (migration 0014's tables: bench-coverage.sh runs this only when
-- they exist). An office's row counts its whole subtree's units, protected rising from about 55 %
-- 90 days ago to about 85 % yesterday (today's row is the real snapshot). Set-based, deterministic.
\set ON_ERROR_STOP on
INSERT INTO coverage_daily (office_code, day, units, protected, partial, unprotected, never_installed,
                            installed_unreachable, users, covered_users, reachable_devices, volume_30d, volume_at_risk)
SELECT s.code, (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - i, s.units,
       round(s.units * p)::int, round(s.units * (1 - p) * 0.6)::int,
       s.units - round(s.units * p)::int - round(s.units * (1 - p) * 0.6)::int,
       round(s.units * (1 - p) * 0.25)::int, round(s.units * (1 - p) * 0.3)::int,
       s.users, round(s.users * (p + 0.05))::int, round(s.users * (p + 0.1))::int,
       s.units * 9000000000::numeric, round(s.units * 9000000000::numeric * (1 - p))
  FROM (SELECT o.code, sum(own.n)::int AS units, (sum(own.n) * 316 / 100)::int AS users
          FROM offices o
          JOIN (SELECT office_code, count(*) AS n FROM budget_units GROUP BY office_code) own
            ON alertd_office_in_scope(o.code, own.office_code)
         WHERE o.code ~ '^[NRT][0-9]{3}$' GROUP BY o.code) s
 CROSS JOIN generate_series(1, 90) i
 CROSS JOIN LATERAL (SELECT 0.85 - 0.30 * i / 90.0 + 0.01 * sin(i / 3.0) AS p) x
ON CONFLICT (office_code, day) DO NOTHING;
INSERT INTO coverage_targets (office_code, target_pct, target_date, set_by)
VALUES ('N000', 100, (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 180, 'bench')
ON CONFLICT (office_code) DO NOTHING;
ANALYZE coverage_daily;
