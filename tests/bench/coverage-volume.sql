-- coverage-volume.sql - the HOOK for 30 days of per-unit VND volume at national scale, for
-- `make bench-coverage`. Volume is maintained by migration 0014 (helper A's part of issue 12),
-- which the shared contract does not name a table for; this file fills the table 0014 has while
-- this is written, coverage_volume_daily (day, unit_code, slot, volume, events): one row per unit
-- and Vietnam day of the last 30, slot 0. bench-coverage.sh runs it only when that table exists.
-- IF 0014 KEEPS VOLUME ELSEWHERE, CHANGE THIS FILE (and nothing else): the refresh then reads it.
-- Set-based and deterministic.
\set ON_ERROR_STOP on
INSERT INTO coverage_volume_daily (day, unit_code, slot, volume, events)
SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - d, b.code, 0,
       (500000 * (1 + (b.code::int * 31 + d * 17) % 600))::numeric, 1 + (b.code::int + d) % 4
  FROM budget_units b CROSS JOIN generate_series(0, 29) d
 WHERE b.code LIKE '5%'
ON CONFLICT DO NOTHING;
ANALYZE coverage_volume_daily;
