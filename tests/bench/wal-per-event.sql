-- wal-per-event.sql - WAL and storage per event, for docs/scaling.md §2. Not alertd itself:
-- statements of the same shape as ingest (events + event_keys), the fan-out (one alert per
-- user, one push_outbox row per device) and dispatch (a claim update, an outcome update),
-- set-based, with pg_current_wal_lsn() between the steps. It prints alerts, pushes and the
-- WAL bytes per event of each step. After wal-per-event-fill.sql:
--   psql -c CHECKPOINT && psql -v off=0 -v off_id=0 -f wal-per-event.sql
--   psql -v off=100000 -v off_id=10000 -f wal-per-event.sql   (a second batch)
\set N 10000
SELECT pg_current_wal_lsn() AS l0 \gset
INSERT INTO events (source_id, external_id, type, occurred_at, unit_code, office_code, payload, content_sha256)
SELECT 1, 'V'||(:off+g), 'voucher.status_changed', now(), (1000000+(g%1000)+1)::text, '0111',
  jsonb_build_object('voucher_id','CT-2026-'||(:off+g),'status','approved','previous_status','submitted','amount',(g*1000)::text,'currency','VND','account','9527.1.'||(1000000+g%1000),'signed_by',jsonb_build_array('holder','chief'),'at',now()),
  sha256(g::text::bytea)
FROM generate_series(1,:N) g;
INSERT INTO event_keys (source_id, external_id, event_id, occurred_at, content_sha256)
SELECT source_id, external_id, id, occurred_at, content_sha256 FROM events WHERE external_id LIKE 'V%' AND id > :off_id;
SELECT pg_current_wal_lsn() AS l1 \gset
INSERT INTO alerts (event_id, event_occurred_at, user_id, unit_code, office_code, kind, lang, title, body, details)
SELECT e.id, e.occurred_at, u.id, e.unit_code, e.office_code, 'voucher.status_changed', 'vi', 'Chứng từ CT-2026 đã được duyệt',
  'Chứng từ ' || (e.payload->>'voucher_id') || ' của đơn vị ' || e.unit_code || ' đã được Kho bạc duyệt lúc 10:42.', '{}'::jsonb
FROM events e JOIN users u ON u.unit_code = e.unit_code WHERE e.id > :off_id;
SELECT pg_current_wal_lsn() AS l2 \gset
INSERT INTO push_outbox (alert_id, device_id, provider, collapse_key, priority)
SELECT a.id, d.id, CASE d.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END, 'unit-'||a.unit_code, 'normal'
FROM alerts a JOIN devices d ON d.user_id = a.user_id WHERE a.event_id > :off_id;
SELECT pg_current_wal_lsn() AS l3 \gset
UPDATE push_outbox SET leased_until = now() + interval '60 s', leased_by = 'inst-1', attempts = attempts + 1 WHERE state = 'pending';
SELECT pg_current_wal_lsn() AS l4 \gset
UPDATE push_outbox SET state = 'sent', sent_at = now(), provider_message_id = 'projects/x/messages/0:' || id, leased_until = NULL, leased_by = NULL WHERE state = 'pending';
SELECT pg_current_wal_lsn() AS l5 \gset
SELECT (SELECT count(*) FROM alerts WHERE event_id > :off_id) AS alerts, (SELECT count(*) FROM push_outbox p JOIN alerts a ON a.id=p.alert_id WHERE a.event_id > :off_id) AS pushes,
 pg_wal_lsn_diff(:'l1', :'l0')/:N AS ev_b, pg_wal_lsn_diff(:'l2', :'l1')/:N AS alerts_b, pg_wal_lsn_diff(:'l3', :'l2')/:N AS outbox_ins_b,
 pg_wal_lsn_diff(:'l4', :'l3')/:N AS claim_b, pg_wal_lsn_diff(:'l5', :'l4')/:N AS record_b, pg_wal_lsn_diff(:'l5', :'l0')/:N AS total_per_event;
