'use strict';
// push_priority.test.js - claim lanes at scale, live dispatcher against the
// FCM/APNs mock: with 100,000 rows due (60,000 balance alerts, then a
// 40,000-row security notice), a risk alert that arrives in the middle of
// the drain reaches the mock within 1 s; and the notice waits for the
// balance alerts (lanes high, then normal, then notice: migration 0021).

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let mock;

test.before(async () => {
  mock = await h.startMock();
  // 100,000 requests: count them, do not keep them in the mock's log
  await mock.control('POST', '/config', { log_requests: false, apns_token_update_limit: false });
});

test.after(async () => {
  if (mock) await mock.stop();
});

test('with 100,000 rows due, a new risk alert reaches the mock within 1 s, and a notice waits behind the balance alerts', async (t) => {
  const db = h.createDatabase('pushprio');
  h.migrate(db);
  // 1,000 users with an Android and an iOS phone each; 30 balance alerts and 20 notices per user, all due an hour ago
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name)
      SELECT 'prio.u' || g, '1000001', 'Người dùng ' || g FROM generate_series(1, 1000) g;
    INSERT INTO devices (user_id, platform, push_token)
      SELECT u.id, p::device_platform, CASE p WHEN 'android' THEN 'fcm-prio_' || u.id || ':' || substr(md5(u.id::text), 1, 16)
                                       ELSE encode(sha256(('apns-prio-' || u.id)::bytea), 'hex') END
      FROM users u, unnest(ARRAY['android', 'ios']) p ORDER BY u.id, p;
    WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
        SELECT u.id, '1000001', '0011', CASE WHEN g <= 30 THEN 'balance.changed' ELSE 'security.notice' END, 'vi',
               CASE WHEN g <= 30 THEN 'Biến động số dư' ELSE 'Thông báo bảo mật' END, 'nội dung ' || g
        FROM users u, generate_series(1, 50) g ORDER BY g, u.id RETURNING id, user_id, kind)
    INSERT INTO push_outbox (alert_id, device_id, provider, priority, due_at)
      SELECT a.id, d.id, CASE d.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END,
             CASE a.kind WHEN 'balance.changed' THEN 'normal' ELSE 'notice' END, now() - interval '1 hour'
      FROM a JOIN devices d ON d.user_id = a.user_id ORDER BY a.id, d.id;
    ANALYZE push_outbox;`);
  const count = (where) => Number(h.psql(db, `SELECT count(*) FROM push_outbox WHERE ${where}`));
  assert.equal(count("state = 'pending' AND priority = 'normal'"), 60000);
  assert.equal(count("state = 'pending' AND priority = 'notice'"), 40000);

  const srv = await h.startServer({ db, config: mock.config(), migrateFirst: false });
  let latencyMs;
  let pendingThen;
  try {
    // the drain is under way
    await h.eventually(() => count("state = 'sent'") >= 3000, 60000, 100);
    // a risk alert for one phone, as the fan-out writes it: priority high, due now
    h.psql(db, `WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, severity, risk_rule, lang, title, body)
        SELECT d.user_id, '1000001', '0011', 'voucher.status_changed', 'risk', 'cash_withdrawal', 'vi', 'Cảnh báo', 'risk-now'
        FROM devices d WHERE d.push_token = 'fcm-prio_7:' || substr(md5('7'), 1, 16) RETURNING id, user_id)
      INSERT INTO push_outbox (alert_id, device_id, provider, priority)
        SELECT a.id, d.id, 'fcm', 'high' FROM a JOIN devices d ON d.user_id = a.user_id AND d.platform = 'android';
      NOTIFY alertd_outbox;`);
    await h.eventually(() => count("priority = 'high' AND state = 'sent'") === 1, 10000, 20);
    // sent_at is written after the mock's answer, so it bounds the time the push reached the mock
    latencyMs = Number(h.psql(db, `SELECT round(extract(epoch FROM o.sent_at - o.created_at) * 1000) FROM push_outbox o WHERE priority = 'high'`));
    pendingThen = count("state = 'pending' AND priority <> 'high'");
  } finally {
    await srv.stop();
  }
  t.diagnostic(`risk alert recorded as sent ${latencyMs} ms after it was written, with ${pendingThen} backlog rows still pending`);
  assert.ok(pendingThen >= 50000, `the backlog was nearly drained (${pendingThen} pending): the test proves nothing`);
  assert.ok(latencyMs <= 1000, `the risk alert took ${latencyMs} ms to reach the mock behind the backlog`);
  // lanes: not one notice row was claimed while balance alerts were due
  const noticesStarted = count("priority = 'notice' AND (state <> 'pending' OR attempts > 0)");
  assert.equal(noticesStarted, 0, `${noticesStarted} notice rows were claimed before the balance alerts`);
  assert.equal(h.psql(db, "SELECT count(*) FROM push_outbox WHERE state = 'failed'"), '0');
});
