'use strict';
// dispatch.test.js - the outbox dispatcher with the log provider: rows are
// claimed with a lease, sent once, recorded with the alert's delivery state;
// new rows wake it at once (LISTEN/NOTIFY); two instances never send the same
// row; a crashed instance's expired leases are taken over.

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let db, kek, secret;

function q(sql) {
  return h.psql(db, sql);
}

function sentLines(srv) {
  return srv.logLines().filter((l) => l.msg === 'push (log provider)');
}

// n alerts for user c.acct (2 devices) -> 2n outbox rows, inserted directly.
function makeOutbox(n) {
  q(`WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
       SELECT u.id, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', 'TK …2345: +' || g || ' VND'
       FROM users u, generate_series(1, ${n}) g WHERE u.dvctt_login = 'c.acct' RETURNING id, user_id)
     INSERT INTO push_outbox (alert_id, device_id, provider)
     SELECT a.id, d.id, CASE d.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END FROM a JOIN devices d ON d.user_id = a.user_id AND d.state = 'active'`);
}

const pushConfig = (extra = {}) => h.ingestConfig(db, kek, { push: { provider: 'log', poll_interval_ms: 30000, ...extra } });

test.before(() => {
  db = h.createDatabase('dispatch');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
     INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('b.chief', '1000001', 'Lê Văn Cường'), ('c.acct', '1000001', 'Phạm Thu Hà');
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-secret-token-b1' FROM users WHERE dvctt_login = 'b.chief';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'ios', 'apns-secret-token-c1' FROM users WHERE dvctt_login = 'c.acct';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-secret-token-c2' FROM users WHERE dvctt_login = 'c.acct';`);
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0011']).secret;
});

test('an ingested event is pushed at once (woken by NOTIFY, not polling) and recorded as sent', async () => {
  const srv = await h.startServer({ db, config: pushConfig() });
  try {
    const ev = h.balanceEvent();
    const t0 = Date.now();
    const r = await h.postSigned(srv, 'tabmis', secret, ev);
    assert.equal(r.status, 202, r.body);
    const eid = q(`SELECT id FROM events WHERE external_id = '${ev.id}'`);
    await h.eventually(() => q(`SELECT count(*) FILTER (WHERE o.state = 'sent') = 3 AND count(*) = 3 FROM push_outbox o JOIN alerts a ON a.id = o.alert_id WHERE a.event_id = ${eid}`) === 't', 5000, 50);
    assert.ok(Date.now() - t0 < 5000, 'sent long before the 30 s poll');
    assert.equal(q(`SELECT string_agg(DISTINCT alertd_delivery_state(id, delivery_state), ',') FROM alerts WHERE event_id = ${eid}`), 'sent');
    const rows = q(`SELECT count(*) FROM push_outbox o JOIN alerts a ON a.id = o.alert_id WHERE a.event_id = ${eid}
      AND o.sent_at IS NOT NULL AND o.provider_message_id LIKE 'log-%' AND o.leased_by IS NULL AND o.attempts = 1`);
    assert.equal(rows, '3');
    const logs = srv.logs();
    assert.ok(!logs.includes('secret-token'), 'a push token reached the log');
    assert.ok(!logs.includes('1.500.000'), 'message text reached the log');
    const m = await h.request(srv.url, 'GET', '/healthz');
    assert.equal(m.status, 200);
  } finally {
    await srv.stop();
  }
});

test('a row whose device was revoked meanwhile ends failed, and the alert is partial', async () => {
  makeOutbox(1);
  const alertId = q("SELECT max(id) FROM alerts");
  q(`UPDATE devices SET state = 'revoked', state_reason = 'logout' WHERE push_token = 'apns-secret-token-c1'`);
  const srv = await h.startServer({ db, config: pushConfig({ poll_interval_ms: 100 }) });
  try {
    await h.eventually(() => q(`SELECT bool_and(state <> 'pending') FROM push_outbox WHERE alert_id = ${alertId}`) === 't', 5000, 50);
    assert.equal(q(`SELECT string_agg(provider || ':' || state || ':' || COALESCE(split_part(last_error, ':', 1), '-'), ',' ORDER BY provider) FROM push_outbox WHERE alert_id = ${alertId}`),
      'apns:failed:device_not_active,fcm:sent:-');
    assert.equal(q(`SELECT alertd_delivery_state(id, delivery_state) FROM alerts WHERE id = ${alertId}`), 'partial');
  } finally {
    q(`UPDATE devices SET state = 'active', state_reason = NULL WHERE push_token = 'apns-secret-token-c1'`);
    await srv.stop();
  }
});

test('the delivery state is read from the outbox rows: none (no device) pending, mixed as the rows are, a stored final state wins', () => {
  const lone = q(`INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
    SELECT id, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', 'x' FROM users WHERE dvctt_login = 'c.acct' RETURNING id`);
  const state = (id) => q(`SELECT alertd_delivery_state(id, delivery_state) FROM alerts WHERE id = ${id}`);
  assert.equal(state(lone), 'pending', 'an alert with no outbox row (a user with no active device)');
  const dev = q("SELECT min(id) FROM devices WHERE state = 'active'");
  const dev2 = q("SELECT max(id) FROM devices WHERE state = 'active'");
  q(`INSERT INTO push_outbox (alert_id, device_id, provider, state, sent_at) VALUES (${lone}, ${dev}, 'fcm', 'sent', now())`);
  assert.equal(state(lone), 'sent');
  q(`INSERT INTO push_outbox (alert_id, device_id, provider, state) VALUES (${lone}, ${dev2}, 'apns', 'pending')`);
  assert.equal(state(lone), 'pending');
  q(`UPDATE push_outbox SET state = 'failed' WHERE alert_id = ${lone} AND provider = 'apns'`);
  assert.equal(state(lone), 'partial');
  q(`UPDATE push_outbox SET state = 'failed', sent_at = NULL WHERE alert_id = ${lone}`);
  assert.equal(state(lone), 'failed');
  q(`UPDATE alerts SET delivery_state = 'sent' WHERE id = ${lone}`);
  assert.equal(state(lone), 'sent', 'a state retention stored is final');
  q(`DELETE FROM push_outbox WHERE alert_id = ${lone}`);
});

test('two instances on one database deliver every row exactly once', async () => {
  const before = Number(q('SELECT count(*) FROM push_outbox'));
  const a = await h.startServer({ db, config: pushConfig({ batch_size: 50, poll_interval_ms: 50 }) });
  const b = await h.startServer({ db, config: pushConfig({ batch_size: 50, poll_interval_ms: 50 }) });
  try {
    makeOutbox(1000); // 2,000 rows
    await h.eventually(() => q("SELECT count(*) FROM push_outbox WHERE state = 'pending'") === '0', 30000, 100);
  } finally {
    // stopped first, so every log line they wrote has been read
    await a.stop();
    await b.stop();
  }
  const total = Number(q('SELECT count(*) FROM push_outbox')) - before;
  const ids = [...sentLines(a), ...sentLines(b)].map((l) => l.outbox_id);
  assert.equal(new Set(ids).size, ids.length, 'a row was sent twice');
  assert.equal(ids.length, total, `${ids.length} sends for ${total} rows`);
  assert.ok(sentLines(a).length > 0 && sentLines(b).length > 0, 'both instances took part');
  assert.equal(q("SELECT count(*) FROM push_outbox WHERE state = 'sent' AND attempts <> 1"), '0');
});

test("a crashed instance's rows are taken over once their lease expires, not before", async () => {
  makeOutbox(5); // 10 rows
  // as if an instance claimed them and died: one lease still running, one expired
  q(`UPDATE push_outbox SET leased_by = 'dead-host:1/0', leased_until = now() + interval '1 hour', attempts = 1
     WHERE id IN (SELECT id FROM push_outbox WHERE state = 'pending' ORDER BY id LIMIT 4)`);
  q(`UPDATE push_outbox SET leased_by = 'dead-host:1/0', leased_until = now() - interval '1 second', attempts = 1
     WHERE state = 'pending' AND leased_by IS NULL`);
  const srv = await h.startServer({ db, config: pushConfig({ poll_interval_ms: 100 }) });
  try {
    await h.eventually(() => q("SELECT count(*) FROM push_outbox WHERE state = 'pending'") === '4', 5000, 50);
    await h.sleep(500);
    assert.equal(q("SELECT count(*) FROM push_outbox WHERE state = 'pending' AND leased_by = 'dead-host:1/0'"), '4', 'a live lease was taken');
    assert.equal(q("SELECT count(*) FROM push_outbox WHERE state = 'sent' AND attempts = 2"), '6');
    q("UPDATE push_outbox SET leased_until = now() - interval '1 second' WHERE leased_by = 'dead-host:1/0'");
    await h.eventually(() => q("SELECT count(*) FROM push_outbox WHERE state = 'pending'") === '0', 5000, 50);
  } finally {
    await srv.stop();
  }
});

test('a claim whose commit fails sends nothing: rows are sent only once the lease is committed', async () => {
  // its own database: a deferred trigger makes every claim's COMMIT fail after the rows came back
  const cdb = h.createDatabase('dispatchcommit');
  h.migrate(cdb);
  h.psql(cdb, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('cf.u1', '1000001', 'Người dùng');
    INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-commit-fail-1' FROM users;
    CREATE TABLE fail_claim (active boolean); INSERT INTO fail_claim VALUES (true);
    CREATE FUNCTION fail_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF (SELECT active FROM fail_claim) AND NEW.leased_by IS NOT NULL THEN RAISE EXCEPTION 'commit-time failure'; END IF;
      RETURN NULL; END $$;
    CREATE CONSTRAINT TRIGGER fail_claim AFTER UPDATE ON push_outbox DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION fail_claim();`);
  const srv = await h.startServer({ db: cdb, config: h.ingestConfig(cdb, kek, { push: { provider: 'log', workers: 1, poll_interval_ms: 100 } }) });
  try {
    h.psql(cdb, `WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
        SELECT id, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', 'TK …2345: +1 VND' FROM users RETURNING id, user_id)
      INSERT INTO push_outbox (alert_id, device_id, provider) SELECT a.id, d.id, 'fcm' FROM a JOIN devices d ON d.user_id = a.user_id;
      NOTIFY alertd_outbox;`);
    await h.eventually(() => srv.logLines().filter((l) => /commit-time failure/.test(l.msg || '')).length >= 3, 10000, 50);
    assert.equal(sentLines(srv).length, 0, 'a row was sent on a claim that never committed');
    assert.equal(h.psql(cdb, "SELECT state || ' ' || attempts || ' ' || coalesce(leased_by, '-') FROM push_outbox"), 'pending 0 -');
    h.psql(cdb, 'UPDATE fail_claim SET active = false');
    await h.eventually(() => h.psql(cdb, 'SELECT state FROM push_outbox') === 'sent', 10000, 50);
    await h.eventually(() => sentLines(srv).length === 1, 5000, 50); // the log line may trail the commit
    await h.sleep(300);
    assert.equal(sentLines(srv).length, 1);
    assert.equal(h.psql(cdb, 'SELECT attempts FROM push_outbox'), '1');
  } finally {
    await srv.stop();
  }
});
