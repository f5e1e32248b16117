-- wal-per-event-fill.sql - the roster for wal-per-event.sql: 1,000 units with 3 users and
-- 4 devices each (the coverage bench's 3.2 users and 4.2 devices per unit, rounded), one source.
-- Run on a scratch database with all migrations applied and pgcrypto (for gen_random_bytes):
--   psql -c 'CREATE EXTENSION pgcrypto' && psql -f wal-per-event-fill.sql
-- Used for docs/scaling.md §2 (WAL and storage per event); not part of make test.
INSERT INTO offices (code, name, level, parent_code) VALUES ('0001','Central',1,NULL),('0101','Region',2,'0001'),('0111','Office',3,'0101');
INSERT INTO budget_units (code, name, office_code) SELECT (1000000+g)::text, 'Unit '||g, '0111' FROM generate_series(1,1000) g;
INSERT INTO users (dvctt_login, unit_code, full_name) SELECT 'u'||g, (1000000+(g-1)/3+1)::text, 'Nguyễn Văn '||g FROM generate_series(1,3000) g;
INSERT INTO devices (user_id, platform, push_token) SELECT u.id, CASE WHEN g%2=0 THEN 'android' ELSE 'ios' END::device_platform, encode(gen_random_bytes(80),'hex')
  FROM users u CROSS JOIN generate_series(1,2) g WHERE g=1 OR u.id%3=0;
INSERT INTO ingest_sources (name) VALUES ('tabmis');
