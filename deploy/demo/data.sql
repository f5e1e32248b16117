-- data.sql - the demo data set's phones, events, alerts and pushes, after deploy/demo/roster.sql's
-- roster is imported (deploy/demo/load.sh runs both). Set-based and deterministic: every choice is
-- a function of the unit code and the user's number in the unit, never random(); times are relative
-- to the moment of loading (the last 30 days), so the figures look current on the day it runs.
--
-- What a unit gets is its "plan", from (code * 37) mod 100, about:
--   88 %  protected: the account holder and the chief accountant each have a reachable phone;
--    3 %  chief unreachable: the chief's phone was installed but is unreachable (push token
--         rejected, state token_invalid, or not seen for longer than coverage.active_days);
--    2 %  holder never installed the app;
--    3 %  everything installed is unreachable;
--    4 %  nobody ever installed the app;
-- plus two shared-phone units (9900017 and 9900142): the chief accountant activated the app on the
-- account holder's phone. As people/activation.c does it, in one transaction: the holder's device
-- is revoked with state_reason 'push_token_reused', then the chief's new device is inserted with
-- the same push token; so the pair is what a real takeover leaves behind (and what migration
-- 0014's takeover trigger records), the separation-of-duties case of docs/coverage.md.
-- Accountants: about 65 % reachable, 10 % stale, 5 % token_invalid, 20 % never installed.
--
-- Events come from the ingest source demo-ledger (load.sh creates it with `alertd source add`):
-- balance changes every working day and vouchers every few days, in VND, for every unit over the
-- last 30 days, plus eight vouchers that fired a risk rule (each rule once). Alerts and their push
-- outbox rows are made for the last 3 days of events and for the risk events, as fan-out would
-- have made them (one alert per active user, one push per then-active device).
\set ON_ERROR_STOP on
BEGIN;

-- events are partitioned by month (0002): make sure the last two months and the next exist
SELECT alertd_ensure_event_partitions((current_date - 40)::date, 3) AS partitions_created \gset

CREATE TEMP TABLE demo_unit ON COMMIT DROP AS
SELECT b.code, b.office_code, b.code::int - 9900000 AS g,
       CASE WHEN b.code IN ('9900017', '9900142') THEN 'shared'
            WHEN (b.code::int * 37) % 100 < 88 THEN 'protected'
            WHEN (b.code::int * 37) % 100 < 91 THEN 'chief_unreachable'
            WHEN (b.code::int * 37) % 100 < 93 THEN 'holder_never'
            WHEN (b.code::int * 37) % 100 < 96 THEN 'all_unreachable'
            ELSE 'never' END AS plan
  FROM budget_units b WHERE b.code LIKE '99%' AND starts_with(b.name, '[DEMO]');

-- one row per demo user: what their phone is (reachable, stale, invalid, shared_old, shared_new, none)
CREATE TEMP TABLE demo_user ON COMMIT DROP AS
SELECT u.id AS user_id, u.unit_code, du.g, du.plan, split_part(u.dvctt_login, '.', 3)::int AS n,
       CASE
         WHEN du.plan = 'never' THEN 'none'
         WHEN du.plan = 'shared' AND split_part(u.dvctt_login, '.', 3) = '1' THEN 'shared_old'
         WHEN du.plan = 'shared' AND split_part(u.dvctt_login, '.', 3) = '2' THEN 'shared_new'
         WHEN du.plan = 'holder_never' AND split_part(u.dvctt_login, '.', 3) = '1' THEN 'none'
         WHEN du.plan = 'all_unreachable' OR (du.plan = 'chief_unreachable' AND split_part(u.dvctt_login, '.', 3) = '2')
           THEN CASE WHEN u.id % 2 = 0 THEN 'invalid' ELSE 'stale' END
         WHEN split_part(u.dvctt_login, '.', 3)::int <= 2 THEN 'reachable'
         WHEN (u.id * 53) % 100 < 65 THEN 'reachable'
         WHEN (u.id * 53) % 100 < 75 THEN 'stale'
         WHEN (u.id * 53) % 100 < 80 THEN 'invalid'
         ELSE 'none' END AS phone
  FROM users u JOIN demo_unit du ON du.code = u.unit_code
 WHERE u.active;

-- the phones: Android mostly, as in Vietnam; tokens shaped like FCM registration tokens and APNs tokens
INSERT INTO devices (user_id, platform, push_token, app_version, os_version, model, locale, state, state_reason,
                     state_changed_at, first_seen_at, last_seen_at)
SELECT d.user_id, d.platform,
       CASE WHEN d.platform = 'android'
            THEN 'demo' || d.tok || ':APA91b' || md5('a' || d.tok) || md5('b' || d.tok) || md5('c' || d.tok)
            ELSE md5('i' || d.tok) || md5('j' || d.tok) END,
       CASE WHEN d.user_id % 4 = 0 THEN '2.2.0' ELSE '2.3.1' END,
       CASE WHEN d.platform = 'android' THEN 'Android ' || (12 + d.user_id % 3) ELSE 'iOS 17.' || (d.user_id % 6) END,
       CASE WHEN d.platform = 'android'
            THEN (ARRAY['Samsung Galaxy A54', 'Xiaomi Redmi Note 12', 'OPPO A78', 'vivo Y36', 'Samsung Galaxy S23'])[d.user_id % 5 + 1]
            ELSE (ARRAY['iPhone 13', 'iPhone 14', 'iPhone 15 Pro', 'iPhone 12'])[d.user_id % 4 + 1] END,
       'vi-VN', d.state, d.reason, d.changed, d.first_seen, d.last_seen
  FROM (SELECT du.user_id,
               CASE WHEN du.phone IN ('shared_old', 'shared_new') OR (du.user_id::int * 7) % 10 < 7 THEN 'android' ELSE 'ios' END
                   ::device_platform AS platform,
               -- the shared phone's token is the unit's, so the holder's and the chief's devices carry the same one
               CASE WHEN du.phone IN ('shared_old', 'shared_new') THEN 'shared' || du.unit_code ELSE 'u' || du.user_id END AS tok,
               CASE du.phone WHEN 'invalid' THEN 'token_invalid' ELSE 'active' END::device_state AS state,
               CASE du.phone WHEN 'invalid' THEN 'unregistered' END AS reason,
               now() - make_interval(days => 60 + (du.user_id::int * 17) % 150) AS first_seen,
               CASE du.phone
                 WHEN 'reachable' THEN now() - make_interval(mins => 5 + (du.user_id::int * 97) % (5 * 24 * 60))
                 WHEN 'stale' THEN now() - make_interval(days => 35 + (du.user_id::int * 13) % 50)
                 WHEN 'invalid' THEN now() - make_interval(days => 3 + (du.user_id::int * 11) % 20)
                 WHEN 'shared_old' THEN now() - make_interval(hours => 5) END AS last_seen,
               CASE du.phone
                 WHEN 'invalid' THEN now() - make_interval(days => 3 + (du.user_id::int * 11) % 20) + interval '2 hours'
                 ELSE now() - make_interval(days => 60 + (du.user_id::int * 17) % 150) END AS changed
          FROM demo_user du WHERE du.phone NOT IN ('none', 'shared_new')) d;
-- the shared phone: the chief accountant activates the app on the holder's phone. The holder's
-- device is revoked for the token's move (devices_revoke: no more access token), then the
-- chief's device is registered with that token (activation.c, in this order, in one transaction).
UPDATE devices d SET state = 'revoked', state_reason = 'push_token_reused', access_token_hash = NULL,
                     access_token_expires_at = NULL
  FROM demo_user du WHERE du.user_id = d.user_id AND du.phone = 'shared_old';
INSERT INTO devices (user_id, platform, push_token, app_version, os_version, model, locale)
SELECT chief.user_id, old.platform, old.push_token, old.app_version, old.os_version, old.model, old.locale
  FROM demo_user chief
  JOIN demo_user holder ON holder.unit_code = chief.unit_code AND holder.phone = 'shared_old'
  JOIN devices old ON old.user_id = holder.user_id AND old.state_reason = 'push_token_reused'
 WHERE chief.phone = 'shared_new';
-- some people signed out of an older phone once (a revoked device each, reason logout)
INSERT INTO devices (user_id, platform, push_token, app_version, os_version, model, locale, state, state_reason,
                     state_changed_at, first_seen_at, last_seen_at)
SELECT du.user_id, 'android', 'demoold' || du.user_id || ':APA91b' || md5('old' || du.user_id), '2.1.0', 'Android 11',
       'Samsung Galaxy A12', 'vi-VN', 'revoked', 'logout', now() - make_interval(days => 200 + du.user_id::int % 30),
       now() - make_interval(days => 400 + du.user_id::int % 30), now() - make_interval(days => 200 + du.user_id::int % 30)
  FROM demo_user du WHERE du.phone = 'reachable' AND du.user_id::int % 12 = 5;

-- ---------------------------------------------------------------------------------------------
-- Events over the last 30 days (Vietnam time), through the events table as ingest stores them.
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE demo_event ON COMMIT DROP AS
-- balance changes: 1-3 on each working day per unit, outflows (payments) and inflows (allocations)
SELECT 'demo-bal-' || u.code || '-' || d || '-' || k AS external_id, 'balance.changed' AS type, u.code, u.office_code,
       least(((current_date - d)::timestamp + make_interval(hours => 8 + (u.g * 3 + k * 5 + d) % 9,
                                                           mins => (u.g * 7 + k * 11) % 60))
             AT TIME ZONE 'Asia/Ho_Chi_Minh', now() - interval '10 minutes') AS occurred_at,
       CASE WHEN (u.g + d + k) % 5 = 0 THEN 1 ELSE -1 END
         * (500000 * (1 + (u.g * 31 + d * 17 + k * 7) % 240))::bigint AS amount,
       NULL::text AS rule, k
  FROM demo_unit u
 CROSS JOIN generate_series(0, 29) d
 CROSS JOIN LATERAL generate_series(1, 1 + (u.g + d) % 3) k
 WHERE extract(isodow FROM current_date - d) < 6
UNION ALL
-- vouchers: one every third day per unit, as submitted to the treasury
SELECT 'demo-vou-' || u.code || '-' || d, 'voucher.status_changed', u.code, u.office_code,
       least(((current_date - d)::timestamp + make_interval(hours => 9 + (u.g + d) % 7, mins => (u.g * 13) % 60))
             AT TIME ZONE 'Asia/Ho_Chi_Minh', now() - interval '20 minutes'),
       (1000000 * (5 + (u.g * 19 + d * 23) % 295))::bigint, NULL, 0
  FROM demo_unit u
 CROSS JOIN generate_series(1, 29) d
 WHERE (u.g + d) % 3 = 0 AND extract(isodow FROM current_date - d) < 6;

-- the eight risk events, one per rule; the shared-phone unit's is the same-certificate signature
INSERT INTO demo_event (external_id, type, code, office_code, occurred_at, amount, rule, k)
SELECT 'demo-risk-' || r.rule, 'voucher.status_changed', r.code, b.office_code,
       ((current_date - r.days_ago)::timestamp + r.at) AT TIME ZONE 'Asia/Ho_Chi_Minh', r.amount, r.rule, 0
  FROM (VALUES ('same_certificate', '9900017', 2, time '10:42', 186000000::bigint),
               ('large_amount', '9900050', 4, time '14:05', 1250000000),
               ('cash_withdrawal', '9900088', 6, time '09:20', 80000000),
               ('off_hours', '9900120', 9, time '22:40', 45000000),
               ('new_beneficiary', '9900200', 12, time '15:10', 312000000),
               ('rapid_repeat', '9900233', 15, time '10:03', 27500000),
               ('signature_gap', '9900260', 20, time '11:31', 96000000),
               ('rejected', '9900290', 25, time '16:45', 15000000)) AS r(rule, code, days_ago, at, amount)
  JOIN budget_units b ON b.code = r.code;

CREATE TEMP TABLE demo_stored ON COMMIT DROP AS
WITH p AS (
    SELECT e.*, jsonb_build_object(
               'id', e.external_id, 'type', e.type,
               'occurred_at', to_char(e.occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD"T"HH24:MI:SS"+07:00"'),
               'unit_code', e.code, 'office_code', e.office_code,
               'data', CASE WHEN e.type = 'balance.changed' THEN jsonb_build_object(
                           'account', '9523.1.' || e.code, 'currency', 'VND', 'amount', e.amount,
                           'balance_after', 2000000000::bigint + (e.code::int % 97) * 15000000 + e.amount,
                           'description', CASE WHEN e.amount > 0 THEN 'Cấp dự toán kinh phí' ELSE
                               (ARRAY['Chi lương', 'Chi mua sắm văn phòng phẩm', 'Chi tiền điện', 'Chi công tác phí',
                                      'Chi sửa chữa thường xuyên'])[(e.code::int + e.k) % 5 + 1] END,
                           'reference', 'UNC-' || right(e.external_id, 12),
                           'counterparty', CASE WHEN e.amount > 0
                               THEN jsonb_build_object('name', '[DEMO] Sở Tài chính', 'account', '9552.2.0000001', 'bank', 'KBNN')
                               ELSE jsonb_build_object('name', '[DEMO] Công ty TNHH Minh Phát', 'account', '0123456789',
                                                       'bank', 'Vietcombank') END)
                        ELSE jsonb_build_object('voucher', jsonb_build_object(
                           'number', lpad((abs(hashtext(e.external_id)) % 1000000)::text, 6, '0'),
                           'dossier_code', 'HS-' || right(e.external_id, 14),
                           'form', CASE WHEN e.rule = 'cash_withdrawal' THEN 'C4-09/KB' ELSE 'C4-02a/KB' END,
                           'kind', CASE WHEN e.rule = 'cash_withdrawal' THEN 'cash_withdrawal' ELSE 'transfer' END,
                           'amount', e.amount, 'currency', 'VND', 'account', '9523.1.' || e.code,
                           'beneficiary', jsonb_build_object('name', CASE WHEN e.rule = 'new_beneficiary'
                                                                          THEN '[DEMO] Hộ kinh doanh Phát Tài'
                                                                          ELSE '[DEMO] Công ty TNHH Minh Phát' END,
                                                             'account', CASE WHEN e.rule = 'new_beneficiary'
                                                                             THEN '9988776655' ELSE '0123456789' END,
                                                             'bank', 'Vietcombank'),
                           'signatures', jsonb_build_array(
                               jsonb_build_object('role', 'account_holder', 'signer', 'Chủ tài khoản',
                                                  'certificate_serial', CASE WHEN e.rule = 'same_certificate' THEN '7A11C3'
                                                                             ELSE '54A1' || right(e.code, 2) END,
                                                  'signed_at', to_char((e.occurred_at - interval '30 minutes') AT TIME ZONE 'Asia/Ho_Chi_Minh',
                                                                       'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')),
                               jsonb_build_object('role', 'chief_accountant', 'signer', 'Kế toán trưởng',
                                                  'certificate_serial', CASE WHEN e.rule = 'same_certificate' THEN '7A11C3'
                                                                             ELSE '77F2' || right(e.code, 2) END,
                                                  'signed_at', to_char((e.occurred_at - CASE WHEN e.rule = 'signature_gap'
                                                                                             THEN interval '29 minutes 57 seconds'
                                                                                             ELSE interval '12 minutes' END)
                                                                       AT TIME ZONE 'Asia/Ho_Chi_Minh',
                                                                       'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')))),
                           'status', CASE WHEN e.rule = 'rejected' THEN 'rejected' ELSE 'submitted' END,
                           'previous_status', CASE WHEN e.rule = 'rejected' THEN 'received' ELSE 'draft' END) END) AS payload
      FROM demo_event e
), numbered AS (
    SELECT p.*, src.id AS source_id, row_number() OVER (ORDER BY p.occurred_at, p.external_id) - 1 AS r
      FROM p CROSS JOIN (SELECT id FROM ingest_sources WHERE name = 'demo-ledger') src
), arr AS (
    -- in batches of 500, as a writer thread's group commit holds at most a few hundred
    SELECT r / 500 AS batch,
           jsonb_agg(jsonb_build_object('s', source_id, 'x', external_id, 't', type, 'o', occurred_at,
                                        'u', code, 'f', office_code, 'p', payload,
                                        'h', encode(sha256(convert_to(payload::text, 'UTF8')), 'hex'), 'q', 'demo')
                     ORDER BY r) AS events,
           array_agg(external_id ORDER BY r) AS ids
      FROM numbered GROUP BY r / 500
)
-- stored through the ingest path's own statement (the one a writer thread runs), so whatever it
-- maintains besides the events (the idempotency keys, the coverage volume) is maintained here too
-- (the rows it inserts are not visible to this statement: what the rest needs comes from demo_event)
SELECT b.event_id AS id, e.external_id, e.occurred_at, e.type, e.code AS unit_code, e.office_code, b.status
  FROM arr CROSS JOIN LATERAL alertd_ingest_batch(arr.events) b
  JOIN demo_event e ON e.external_id = arr.ids[b.idx + 1];
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM demo_stored WHERE status <> 'accepted')
       OR (SELECT count(*) FROM demo_stored) <> (SELECT count(*) FROM demo_event) THEN
        RAISE EXCEPTION 'demo: % events were not accepted by alertd_ingest_batch',
            (SELECT count(*) FROM demo_stored WHERE status <> 'accepted');
    END IF;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Alerts (the app inbox) and their pushes, as fan-out makes them.
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE demo_alert ON COMMIT DROP AS
WITH a AS (
    INSERT INTO alerts (event_id, event_occurred_at, user_id, unit_code, office_code, kind, severity, risk_rule, lang,
                        title, body, details, created_at, read_at)
    SELECT s.id, s.occurred_at, u.id, s.unit_code, b.office_code, s.type,
           CASE WHEN e.rule IS NULL THEN 'info' ELSE 'risk' END::alert_severity, e.rule, 'vi',
           CASE e.rule
             WHEN 'same_certificate' THEN 'Cảnh báo: trùng chữ ký số'
             WHEN 'large_amount' THEN 'Cảnh báo: giao dịch giá trị lớn'
             WHEN 'cash_withdrawal' THEN 'Cảnh báo: rút tiền mặt'
             WHEN 'off_hours' THEN 'Cảnh báo: giao dịch ngoài giờ làm việc'
             WHEN 'new_beneficiary' THEN 'Cảnh báo: người thụ hưởng mới'
             WHEN 'rapid_repeat' THEN 'Cảnh báo: chi lặp lại'
             WHEN 'signature_gap' THEN 'Cảnh báo: hai chữ ký gần như cùng lúc'
             WHEN 'rejected' THEN 'Cảnh báo: chứng từ bị từ chối'
             ELSE CASE WHEN s.type = 'balance.changed' THEN 'Biến động số dư' ELSE 'Cập nhật trạng thái chứng từ' END
           END,
           '[DEMO] TK …' || right('9523.1.' || s.unit_code, 4) || ': '
             || CASE WHEN e.amount > 0 AND s.type = 'balance.changed' THEN '+' WHEN s.type = 'balance.changed' THEN '-' ELSE '' END
             || replace(to_char(abs(e.amount), 'FM999G999G999G999'), ',', '.') || ' VND lúc '
             || to_char(s.occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI DD/MM/YYYY') || '.',
           jsonb_build_object('event_type', s.type, 'risk_rules',
                              CASE WHEN e.rule IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(e.rule) END,
                              'push_privacy', false),
           s.occurred_at + interval '2 seconds',
           CASE WHEN (u.id + s.id) % 3 = 0 THEN s.occurred_at + interval '25 minutes' END
      FROM demo_stored s
      JOIN demo_event e ON e.external_id = s.external_id
      JOIN budget_units b ON b.code = s.unit_code
      JOIN users u ON u.unit_code = s.unit_code AND u.active
     WHERE e.rule IS NOT NULL OR s.occurred_at > now() - interval '3 days'
    RETURNING id, user_id, created_at, severity
)
SELECT * FROM a;

-- one push per device that was active at the time: sent, or failed when FCM/APNs rejected the token
INSERT INTO push_outbox (alert_id, device_id, provider, state, due_at, attempts, last_error, priority, created_at,
                         updated_at, sent_at, provider_message_id)
SELECT a.id, d.id, CASE d.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END,
       CASE WHEN d.state = 'token_invalid' THEN 'failed' ELSE 'sent' END::outbox_state,
       a.created_at, 1, CASE WHEN d.state = 'token_invalid' THEN 'unregistered: the provider rejected the token' END,
       CASE WHEN a.severity = 'risk' THEN 'high' ELSE 'normal' END, a.created_at, a.created_at + interval '1 second',
       CASE WHEN d.state = 'token_invalid' THEN NULL ELSE a.created_at + interval '1 second' END,
       CASE WHEN d.state = 'token_invalid' THEN NULL ELSE 'demo-' || a.id || '-' || d.id END
  FROM demo_alert a
  JOIN devices d ON d.user_id = a.user_id AND d.first_seen_at <= a.created_at
                AND (d.state = 'active' OR (d.state <> 'revoked' AND d.state_changed_at > a.created_at - interval '3 days')
                     OR (d.state = 'revoked' AND d.state_reason = 'push_token_reused' AND d.state_changed_at > a.created_at));

-- the roll-up of each alert's pushes (alerts.delivery_state)
UPDATE alerts al SET delivery_state = CASE WHEN o.sent = o.n THEN 'sent' WHEN o.sent = 0 THEN 'failed' ELSE 'partial' END
  FROM (SELECT p.alert_id, count(*) AS n, count(*) FILTER (WHERE p.state = 'sent') AS sent
          FROM push_outbox p JOIN demo_alert a ON a.id = p.alert_id GROUP BY p.alert_id) o
 WHERE al.id = o.alert_id;
UPDATE alerts al SET delivery_state = 'failed'
  FROM demo_alert a WHERE al.id = a.id AND NOT EXISTS (SELECT 1 FROM push_outbox p WHERE p.alert_id = a.id);

COMMIT;
ANALYZE;
