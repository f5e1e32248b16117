'use strict';
// push.test.js - the live dispatcher against tests/mock/push-mock.js (OAuth,
// FCM HTTP v1 and APNs over HTTP/2 + TLS with real JWT checks): events go in
// through the signed ingest endpoint, and the tests assert the exact requests
// the mock received, every error class (dead tokens retired, retries with
// backoff and Retry-After, permanent failures with operator alarms), token
// refreshes, and transport faults (refused stream, GOAWAY, dropped
// connection) that are resent and never counted as delivered.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

let db, kek, secret, mock, srv;
const METRICS_TOKEN = 'push-metrics-token';
const tokens = {
  chief: 'fcm-chief_1:APA91b-chief',
  acctAndroid: 'fcm-acct_2:APA91b-acct',
  acctIos: 'a1'.repeat(32),
};

function q(sql) {
  return h.psql(db, sql);
}

function config(push = {}) {
  return {
    ...h.ingestConfig(db, kek),
    ...mock.config(push),
    // these tests check the full texts; privacy mode (the default) is switched on per unit where tested
    alerts: { privacy_mode: 'off' },
    metrics: { token_sha256: crypto.createHash('sha256').update(METRICS_TOKEN).digest('hex') },
  };
}

async function post(ev) {
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 202, r.body);
  return Number(q(`SELECT id FROM events WHERE external_id = '${ev.id}'`));
}

// outbox rows of an event: token -> {state, attempts, err, mid, due_in}
function outbox(eventId) {
  const rows = q(`SELECT d.push_token, o.state, o.attempts, COALESCE(o.last_error, ''), COALESCE(o.provider_message_id, ''),
      round(extract(epoch FROM o.due_at - now()))::int
    FROM push_outbox o JOIN alerts a ON a.id = o.alert_id JOIN devices d ON d.id = o.device_id WHERE a.event_id = ${eventId}`);
  const out = {};
  for (const r of rows ? rows.split('\n') : []) {
    const [tok, state, attempts, err, mid, dueIn] = r.split('|');
    out[tok] = { state, attempts: Number(attempts), err, mid, dueIn: Number(dueIn) };
  }
  return out;
}

// wait until no row of the event is pending; on timeout, say what the rows and the log show
async function waitSettled(eventId, ms = 10000) {
  try {
    await h.eventually(settled(eventId), ms, 50);
  } catch (e) {
    throw new Error(`${e.message}\n${JSON.stringify(outbox(eventId), null, 1)}\n${srv.logs().slice(-3000)}`);
  }
}

const settled = (eventId) => () => q(`SELECT count(*) FILTER (WHERE o.state = 'pending') = 0 FROM push_outbox o JOIN alerts a ON a.id = o.alert_id WHERE a.event_id = ${eventId}`) === 't';

const fcmFor = (reqs, token) => reqs.filter((r) => r.api === 'fcm' && r.body && r.body.message && r.body.message.token === token);
const apnsFor = (reqs, token) => reqs.filter((r) => r.api === 'apns' && r.path === `/3/device/${token}`);

async function metrics() {
  const r = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(r.status, 200);
  return r.body;
}

function resetDevices() {
  q(`UPDATE devices SET state = 'active', state_reason = NULL WHERE state <> 'active'`);
}

test.before(async () => {
  db = h.createDatabase('push');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
     INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('b.chief', '1000001', 'Lê Văn Cường'), ('c.acct', '1000001', 'Phạm Thu Hà');
     INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login = 'b.chief';
     INSERT INTO user_roles SELECT id, 'accountant' FROM users WHERE dvctt_login = 'c.acct';
     INSERT INTO user_preferences (user_id, lang) SELECT id, 'en' FROM users WHERE dvctt_login = 'c.acct';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', '${tokens.chief}' FROM users WHERE dvctt_login = 'b.chief';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', '${tokens.acctAndroid}' FROM users WHERE dvctt_login = 'c.acct';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'ios', '${tokens.acctIos}' FROM users WHERE dvctt_login = 'c.acct';`);
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0011']).secret;
  mock = await h.startMock();
  // A restart reuses the APNs provider token shared through the database, but the
  // ExpiredProviderToken test below needs a second one within 20 minutes, which the mock
  // (stricter than Apple, which counts per connection) would refuse.
  await mock.control('POST', '/config', { apns_token_update_limit: false });
  srv = await h.startServer({ db, config: config() });
});

test.after(async () => {
  if (srv) await srv.stop();
  if (mock) await mock.stop();
});

test.beforeEach(async () => {
  await mock.control('DELETE', '/faults');
  await mock.control('DELETE', '/requests');
  resetDevices();
});

test('a balance change reaches every device: exact FCM and APNs requests, localized text, recorded as sent', async () => {
  const id = await post(h.balanceEvent({ occurred_at: '2026-11-21T10:15:00+07:00' }));
  await waitSettled(id, 10000);
  const reqs = await mock.requests();
  const ob = outbox(id);

  // FCM, Vietnamese user
  const [chief] = fcmFor(reqs, tokens.chief);
  assert.equal(fcmFor(reqs, tokens.chief).length, 1);
  assert.equal(chief.status, 200);
  assert.equal(chief.path, `/v1/projects/${mock.sa.project_id}/messages:send`);
  assert.equal(chief.headers.authorization, 'Bearer');
  assert.match(chief.headers['content-type'], /^application\/json/);
  // the collapse key is opaque: a keyed hash of the account, never the account itself
  const collapse = chief.body.message.android.collapse_key;
  assert.match(collapse, /^bal-[0-9a-f]{32}$/);
  assert.ok(!collapse.includes('1012345'), `the account is in the collapse key ${collapse}`);
  assert.deepEqual(chief.body, {
    message: {
      token: tokens.chief,
      notification: {
        title: 'Biến động số dư',
        body: 'TK …2345: -1.500.000 VND lúc 10:15 21/11/2026. Số dư: 120.000.000 VND. ND: Chi lương tháng 11',
      },
      data: { alert_id: chief.body.message.data.alert_id, kind: 'balance.changed', severity: 'info' },
      android: { priority: 'normal', ttl: chief.body.message.android.ttl, collapse_key: collapse },
    },
  });
  assert.match(chief.body.message.data.alert_id, /^\d+$/);
  const ttl = Number(chief.body.message.android.ttl.replace(/s$/, ''));
  assert.ok(ttl > 86000 && ttl <= 86400, `ttl ${ttl}`);
  assert.equal(chief.jwt.iss, mock.sa.client_email, 'the access token came from our service account');
  assert.equal(ob[tokens.chief].state, 'sent');
  assert.equal(ob[tokens.chief].mid, chief.response.name, 'the FCM message name is recorded');

  // FCM, English user
  const [acct] = fcmFor(reqs, tokens.acctAndroid);
  assert.equal(acct.body.message.notification.title, 'Balance change');
  assert.match(acct.body.message.notification.body, /^Acct …2345: -1,500,000 VND at 10:15 21\/11\/2026/);

  // APNs, English user
  const ios = apnsFor(reqs, tokens.acctIos);
  assert.equal(ios.length, 1);
  const a = ios[0];
  assert.equal(a.status, 200);
  assert.equal(a.headers['apns-topic'], mock.apns.topic);
  assert.equal(a.headers['apns-push-type'], 'alert');
  assert.equal(a.headers['apns-priority'], '5');
  assert.equal(a.headers['apns-collapse-id'], collapse);
  assert.match(a.headers['apns-expiration'], /^\d+$/);
  assert.ok(Number(a.headers['apns-expiration']) > Date.now() / 1000 + 86000);
  assert.equal(a.headers.authorization, 'bearer');
  assert.deepEqual(a.jwt.header, { alg: 'ES256', kid: mock.apns.key_id });
  assert.equal(a.jwt.claims.iss, mock.apns.team_id);
  assert.deepEqual(a.body, {
    aps: { alert: { title: 'Balance change', body: acct.body.message.notification.body }, sound: 'default', 'thread-id': 'balance.changed' },
    alert_id: a.body.alert_id,
    kind: 'balance.changed',
  });
  assert.equal(ob[tokens.acctIos].state, 'sent');
  assert.match(ob[tokens.acctIos].mid, /^[0-9a-f-]{36}$/i, 'the apns-id is recorded');
  assert.equal(q(`SELECT string_agg(DISTINCT alertd_delivery_state(id, delivery_state), ',') FROM alerts WHERE event_id = ${id}`), 'sent');

  // HTTP/2 multiplexing: one OAuth token for all FCM sends, requests share connections
  assert.equal(reqs.filter((r) => r.api === 'oauth').length <= 1, true);
  const m = await metrics();
  assert.match(m, /alertd_push_total\{provider="fcm",result="sent",reason="ok"\} [1-9]/);
  assert.match(m, /alertd_push_total\{provider="apns",result="sent",reason="ok"\} [1-9]/);
  assert.match(m, /alertd_push_token_refreshes_total\{provider="fcm",result="ok"\} 1/);
});

test('a risk alert is high priority and time-sensitive; privacy mode sends only generic text and the id', async () => {
  // two signatures 4 s apart: signature_gap
  const id = await post(h.voucherEvent());
  await waitSettled(id, 10000);
  let reqs = await mock.requests();
  const risk = fcmFor(reqs, tokens.chief).find((r) => r.body.message.data.severity === 'risk');
  assert.ok(risk, 'a risk alert went to FCM');
  assert.equal(risk.body.message.android.priority, 'high');
  assert.equal(risk.body.message.android.collapse_key, undefined, 'risk alerts never collapse');
  const iosRisk = apnsFor(reqs, tokens.acctIos).find((r) => r.body.aps['interruption-level'] === 'time-sensitive');
  assert.ok(iosRisk, 'a time-sensitive APNs alert');
  assert.equal(iosRisk.headers['apns-priority'], '10');
  assert.equal(iosRisk.body.aps['thread-id'], 'risk');

  q(`UPDATE budget_units SET privacy_mode = true WHERE code = '1000001'`);
  try {
    await mock.control('DELETE', '/requests');
    const id2 = await post(h.balanceEvent());
    await waitSettled(id2, 10000);
    reqs = await mock.requests();
    const [p] = fcmFor(reqs, tokens.chief);
    assert.deepEqual(p.body.message.notification, { title: 'KBNN: Bạn có thông báo mới', body: 'Mở ứng dụng để xem chi tiết.' });
    assert.deepEqual(Object.keys(p.body.message.data), ['alert_id']);
    const [pi] = apnsFor(reqs, tokens.acctIos);
    assert.deepEqual(pi.body.aps.alert, { title: 'KBNN: You have a new notification', body: 'Open the app to see the details.' });
    assert.equal(pi.body.aps['thread-id'], 'kbnn');
    assert.deepEqual(Object.keys(pi.body).sort(), ['alert_id', 'aps']);
    assert.ok(!JSON.stringify(reqs).includes('1.500.000'), 'an amount went to the provider in privacy mode');
  } finally {
    q(`UPDATE budget_units SET privacy_mode = false WHERE code = '1000001'`);
  }
});

// What may never reach Google or Apple in privacy mode: the accounts, amounts, balances, names of
// the unit, its people, the beneficiary and the signers, the voucher's identity and the free text.
const PRIVATE = ['9523.1.1012345', '1012345', '…2345', '1500000', '1.500.000', '1,500,000', '120000000', '120.000.000',
  '50000000', '50.000.000', 'Trường THCS', 'Nguyễn', 'Lê Văn', 'Phạm Thu Hà', 'Trần Thị', 'Vietcombank', '0123456789',
  '000456', 'HS-2026', 'Chi lương', '1000001', 'b.chief', 'c.acct', 'Pixel'];

test('privacy mode: no request that reaches the mock (path, headers, body) holds an account, amount, name or note', async () => {
  q(`UPDATE budget_units SET privacy_mode = true WHERE code = '1000001'`);
  let ids;
  try {
    ids = [await post(h.balanceEvent()), await post(h.voucherEvent()), await post(h.balanceEvent())];
    for (const id of ids) await waitSettled(id, 10000);
    const reqs = (await mock.requests()).filter((r) => r.api === 'fcm' || r.api === 'apns');
    assert.ok(reqs.length >= 9, `${reqs.length} pushes`);
    for (const r of reqs) {
      const wire = JSON.stringify({ path: r.path, headers: r.headers, body: r.body });
      for (const s of PRIVATE) assert.ok(!wire.includes(s), `${s} reached ${r.api}: ${wire}`);
    }
    // balance alerts still collapse per account: the same opaque key for the same account
    const keys = new Set(reqs.filter((r) => r.api === 'fcm').map((r) => r.body.message.android.collapse_key).filter(Boolean));
    const ios = new Set(reqs.filter((r) => r.api === 'apns').map((r) => r.headers['apns-collapse-id']).filter(Boolean));
    assert.deepEqual([...keys], [...ios]);
    assert.equal(keys.size, 1, [...keys].join(' '));
    assert.match([...keys][0], /^bal-[0-9a-f]{32}$/);
  } finally {
    q(`UPDATE budget_units SET privacy_mode = false WHERE code = '1000001'`);
  }
  // another account collapses under another key
  await mock.control('DELETE', '/requests');
  const other = await post(h.balanceEvent({ data: { account: '9527.1.1012345', amount: 1000, balance_after: 2000 } }));
  await waitSettled(other, 10000);
  const [o] = fcmFor(await mock.requests(), tokens.chief);
  assert.match(o.body.message.android.collapse_key, /^bal-[0-9a-f]{32}$/);
  const first = q(`SELECT DISTINCT collapse_key FROM push_outbox o JOIN alerts a ON a.id = o.alert_id WHERE a.event_id = ${ids[0]}`);
  assert.notEqual(o.body.message.android.collapse_key, first);
});

test('dead tokens retire their device: FCM UNREGISTERED and INVALID_ARGUMENT, APNs Unregistered', async () => {
  await mock.control('POST', '/faults', [
    { api: 'fcm', match: { token: tokens.chief }, response: 'UNREGISTERED' },
    { api: 'fcm', match: { token: tokens.acctAndroid }, response: 'INVALID_ARGUMENT' },
    { api: 'apns', match: { token: tokens.acctIos }, response: 'Unregistered' },
  ]);
  const id = await post(h.balanceEvent());
  await waitSettled(id, 10000);
  const ob = outbox(id);
  assert.equal(ob[tokens.chief].state, 'failed');
  assert.match(ob[tokens.chief].err, /^unregistered: fcm 404 UNREGISTERED/);
  assert.match(ob[tokens.acctAndroid].err, /^bad_token: fcm 400 INVALID_ARGUMENT/);
  assert.match(ob[tokens.acctIos].err, /^unregistered: apns 410 Unregistered/);
  assert.equal(q(`SELECT string_agg(state || ':' || split_part(state_reason, ':', 1), ',' ORDER BY id) FROM devices`),
    'token_invalid:unregistered,token_invalid:bad_token,token_invalid:unregistered');
  assert.equal(q(`SELECT count(*) FROM device_state_changes WHERE to_state = 'token_invalid'`) >= '3', true);
  assert.equal(q(`SELECT string_agg(DISTINCT alertd_delivery_state(id, delivery_state), ',') FROM alerts WHERE event_id = ${id}`), 'failed');
  // a retired device gets no new rows, and nothing more is sent to it
  const id2 = await post(h.balanceEvent());
  assert.equal(q(`SELECT count(*) FROM push_outbox o JOIN alerts a ON a.id = o.alert_id WHERE a.event_id = ${id2}`), '0');
  const m = await metrics();
  assert.match(m, /alertd_push_devices_retired_total\{provider="fcm"\} [2-9]/);
  assert.match(m, /alertd_push_devices_retired_total\{provider="apns"\} [1-9]/);
  assert.match(m, /alertd_push_total\{provider="fcm",result="failed",reason="unregistered"\} [1-9]/);
});

test('APNs BadDeviceToken retires; other 4xx fail only the message and are logged with the reason', async () => {
  await mock.control('POST', '/faults', [
    { api: 'apns', match: { token: tokens.acctIos }, response: 'BadDeviceToken', times: 1 },
    { api: 'fcm', match: { token: tokens.chief }, response: 'SENDER_ID_MISMATCH', times: 1 },
    { api: 'fcm', match: { token: tokens.acctAndroid }, response: 'THIRD_PARTY_AUTH_ERROR', times: 1 },
  ]);
  const id = await post(h.balanceEvent());
  await waitSettled(id, 10000);
  const ob = outbox(id);
  assert.match(ob[tokens.acctIos].err, /^bad_token: apns 400 BadDeviceToken/);
  assert.match(ob[tokens.chief].err, /^sender_id_mismatch: fcm 403 SENDER_ID_MISMATCH/);
  assert.match(ob[tokens.acctAndroid].err, /^third_party_auth_error: fcm 401 THIRD_PARTY_AUTH_ERROR/);
  // permanent for the message, not the device; an operator alarm in the log and metrics
  assert.equal(q(`SELECT string_agg(state::text, ',' ORDER BY id) FROM devices`), 'active,active,token_invalid');
  // the two answers may come back in different recording batches: wait for both lines (log lines trail the commit)
  const alarmsLogged = () => srv.logLines().filter((l) => /OPERATOR ALARM/.test(l.msg)).map((l) => l.alarm);
  await h.eventually(() => ['sender_id_mismatch', 'third_party_auth_error'].every((a) => alarmsLogged().includes(a)), 5000, 50)
    .catch(() => {});
  const alarms = alarmsLogged();
  assert.ok(alarms.includes('sender_id_mismatch') && alarms.includes('third_party_auth_error'), alarms.join());
  const m = await metrics();
  assert.match(m, /alertd_push_alarms_total\{reason="sender_id_mismatch"\} [1-9]/);
  assert.match(m, /alertd_push_alarms_total\{reason="third_party_auth_error"\} [1-9]/);

  resetDevices();
  await mock.control('POST', '/faults', { api: 'apns', match: { token: tokens.acctIos }, response: 'DeviceTokenNotForTopic', times: 1 });
  const id2 = await post(h.balanceEvent());
  await waitSettled(id2, 10000);
  assert.match(outbox(id2)[tokens.acctIos].err, /^rejected: apns 400 DeviceTokenNotForTopic/);
  assert.equal(q(`SELECT state FROM devices WHERE push_token = '${tokens.acctIos}'`), 'active');
  await h.eventually(() => srv.logLines().some((l) => /refused by the provider: apns 400 DeviceTokenNotForTopic/.test(l.msg)), 5000, 50);
});

test('503, 500 and APNs 429 are retried with backoff and honour Retry-After; the retry is delivered', async () => {
  await mock.control('POST', '/faults', [
    { api: 'fcm', match: { token: tokens.chief }, response: 'UNAVAILABLE', times: 1 },
    { api: 'fcm', match: { token: tokens.acctAndroid }, response: 'INTERNAL', times: 1 },
    { api: 'apns', match: { token: tokens.acctIos }, response: 'TooManyRequests', times: 1, retry_after: 3 },
  ]);
  const t0 = Date.now();
  const id = await post(h.balanceEvent());
  // first attempt fails and the rows wait (retry_base_seconds = 1, Retry-After 3 s for APNs)
  // one snapshot in which every row has failed once (the retries come 0.5-1 s later)
  let ob;
  await h.eventually(() => {
    ob = outbox(id);
    return Object.values(ob).every((o) => o.attempts === 1 && o.err !== '');
  }, 10000, 20);
  assert.equal(ob[tokens.chief].state, 'pending');
  assert.match(ob[tokens.chief].err, /^unavailable: fcm 503 UNAVAILABLE/);
  assert.match(ob[tokens.acctAndroid].err, /^internal: fcm 500 INTERNAL/);
  assert.match(ob[tokens.acctIos].err, /^quota: apns 429 TooManyRequests/);
  assert.ok(ob[tokens.acctIos].dueIn >= 2, `APNs retry due in ${ob[tokens.acctIos].dueIn} s despite Retry-After 3`);
  await waitSettled(id, 15000);
  ob = outbox(id);
  for (const t of Object.values(tokens)) {
    assert.equal(ob[t].state, 'sent', t);
    assert.equal(ob[t].attempts, 2, t);
  }
  const reqs = await mock.requests();
  const iosTimes = apnsFor(reqs, tokens.acctIos).map((r) => Date.parse(r.time));
  assert.equal(iosTimes.length, 2);
  assert.ok(iosTimes[1] - iosTimes[0] >= 2900, `APNs retried after ${iosTimes[1] - iosTimes[0]} ms`);
  assert.ok(Date.now() - t0 < 15000);
  const m = await metrics();
  assert.match(m, /alertd_push_total\{provider="fcm",result="retry",reason="unavailable"\} [1-9]/);
  assert.match(m, /alertd_push_total\{provider="apns",result="retry",reason="quota"\} [1-9]/);
});

test('APNs 503 and 500 are retried; APNs ExpiredToken (410 with a timestamp) retires the device', async () => {
  await mock.control('POST', '/faults', [
    { api: 'apns', match: { token: tokens.acctIos }, response: 'ServiceUnavailable', times: 1 },
    { api: 'apns', match: { token: tokens.acctIos }, response: 'InternalServerError', times: 1 },
  ]);
  const id = await post(h.balanceEvent());
  await waitSettled(id, 15000);
  let ob = outbox(id);
  assert.equal(ob[tokens.acctIos].state, 'sent');
  assert.equal(ob[tokens.acctIos].attempts, 3);
  assert.deepEqual(apnsFor(await mock.requests(), tokens.acctIos).map((r) => r.status), [503, 500, 200]);

  await mock.control('POST', '/faults', { api: 'apns', match: { token: tokens.acctIos }, response: 'ExpiredToken', times: 1 });
  const id2 = await post(h.balanceEvent());
  await waitSettled(id2);
  ob = outbox(id2);
  assert.equal(ob[tokens.acctIos].state, 'failed');
  assert.match(ob[tokens.acctIos].err, /^expired_token: apns 410 ExpiredToken/);
  assert.equal(q(`SELECT state FROM devices WHERE push_token = '${tokens.acctIos}'`), 'token_invalid');
  const m = await metrics();
  assert.match(m, /alertd_push_total\{provider="apns",result="retry",reason="unavailable"\} [1-9]/);
  assert.match(m, /alertd_push_total\{provider="apns",result="retry",reason="internal"\} [1-9]/);
});

test('FCM QUOTA_EXCEEDED without Retry-After waits at least 60 s', async () => {
  await mock.control('POST', '/faults', { api: 'fcm', match: { token: tokens.chief }, response: 'QUOTA_EXCEEDED', times: 1 });
  const id = await post(h.balanceEvent());
  await h.eventually(() => outbox(id)[tokens.chief].err !== '', 10000, 50);
  const ob = outbox(id);
  assert.equal(ob[tokens.chief].state, 'pending');
  assert.match(ob[tokens.chief].err, /^quota: fcm 429 QUOTA_EXCEEDED/);
  assert.ok(ob[tokens.chief].dueIn >= 58, `due in ${ob[tokens.chief].dueIn} s`);
  q(`UPDATE push_outbox SET due_at = now() FROM alerts a WHERE a.id = push_outbox.alert_id AND a.event_id = ${id} AND push_outbox.state = 'pending'`);
  q(`NOTIFY alertd_outbox`);
  await waitSettled(id, 10000);
  assert.equal(outbox(id)[tokens.chief].state, 'sent');
});

test('retries stop at push.max_attempts: the row ends failed with its last reason', async () => {
  await srv.stop();
  srv = await h.startServer({ db, config: config({ max_attempts: 2 }) });
  try {
    await mock.control('POST', '/faults', { api: 'fcm', match: { token: tokens.chief }, response: 'UNAVAILABLE' });
    const id = await post(h.balanceEvent());
    await waitSettled(id, 15000);
    const ob = outbox(id);
    assert.equal(ob[tokens.chief].state, 'failed');
    assert.equal(ob[tokens.chief].attempts, 2);
    assert.match(ob[tokens.chief].err, /^max_attempts \(2\) reached; last: unavailable: fcm 503 UNAVAILABLE/);
    assert.equal(ob[tokens.acctAndroid].state, 'sent');
    assert.equal(q(`SELECT state FROM devices WHERE push_token = '${tokens.chief}'`), 'active', 'a failing provider retires nothing');
  } finally {
    await srv.stop();
    srv = await h.startServer({ db, config: config() });
  }
});

test('an expired OAuth access token is renewed once and the message delivered; APNs ExpiredProviderToken too', async () => {
  let id = await post(h.balanceEvent());
  await waitSettled(id, 10000);
  const before = (await mock.control('GET', '/stats')).tokens_issued;
  await mock.control('POST', '/expire-tokens');
  await mock.control('DELETE', '/requests');
  id = await post(h.balanceEvent());
  await waitSettled(id, 10000);
  let ob = outbox(id);
  assert.equal(ob[tokens.chief].state, 'sent');
  assert.equal(ob[tokens.acctAndroid].state, 'sent');
  assert.equal(ob[tokens.chief].attempts, 1, 'a refused access token is not a failed attempt');
  const stats = await mock.control('GET', '/stats');
  assert.equal(stats.tokens_issued, before + 1, 'exactly one new access token (no thundering herd)');
  const reqs = await mock.requests();
  assert.ok(reqs.some((r) => r.api === 'fcm' && r.status === 401), 'the stale token was refused first');

  // APNs: Apple calls the provider token expired -> a new token (new iat) and the message is resent
  await mock.control('POST', '/faults', { api: 'apns', response: 'ExpiredProviderToken', times: 1 });
  await mock.control('DELETE', '/requests');
  id = await post(h.balanceEvent());
  await waitSettled(id, 10000);
  ob = outbox(id);
  assert.equal(ob[tokens.acctIos].state, 'sent');
  const ios = apnsFor(await mock.requests(), tokens.acctIos);
  assert.deepEqual(ios.map((r) => r.status), [403, 200]);
  const m = await metrics();
  assert.match(m, /alertd_push_token_refreshes_total\{provider="fcm",result="ok"\} [2-9]/);
});

test('refused streams, GOAWAY and a dropped connection are resent and never counted as delivered first', async () => {
  // One fault at a time. Injected together, a GOAWAY for one token could also end the connection that
  // carried another token's resent stream, so that token was sometimes sent three times (at-least-once
  // allows it; this test counts requests exactly, so the faults must not interleave).
  for (const [api, token, response, forToken] of [
    ['fcm', tokens.chief, 'refused_stream', fcmFor],
    ['fcm', tokens.acctAndroid, 'goaway', fcmFor],
    ['apns', tokens.acctIos, 'drop_connection', apnsFor],
  ]) {
    await mock.control('DELETE', '/requests');
    await mock.control('POST', '/faults', [{ api, match: { token }, response, times: 1 }]);
    const id = await post(h.balanceEvent());
    await waitSettled(id, 15000);
    const list = forToken(await mock.requests(), token);
    assert.equal(outbox(id)[token].state, 'sent', `${response}: ${token}`);
    assert.equal(list.length, 2, `${response}: ${token}: ${list.map((r) => r.status)}`);
    assert.equal(list[0].status, null, `${response}: the first stream got no answer`);
    assert.equal(list[1].status, 200, response);
  }
  const stats = await mock.control('GET', '/stats');
  assert.ok(stats.refused_streams >= 1 && stats.goaways >= 1 && stats.dropped_connections >= 1, JSON.stringify(stats));
});

test('a provider that never answers in time: the row is retried later, not marked sent', async () => {
  await srv.stop();
  srv = await h.startServer({ db, config: config({ request_timeout_seconds: 1 }) });
  try {
    await mock.control('POST', '/faults', { api: 'fcm', match: { token: tokens.chief }, response: 'slow', delay_ms: 2500, times: 1 });
    const id = await post(h.balanceEvent());
    await h.eventually(() => outbox(id)[tokens.chief].err !== '', 10000, 50);
    assert.match(outbox(id)[tokens.chief].err, /^timeout: fcm/);
    assert.equal(outbox(id)[tokens.chief].state, 'pending');
    await waitSettled(id, 15000);
    assert.equal(outbox(id)[tokens.chief].state, 'sent');
    assert.equal(outbox(id)[tokens.chief].attempts, 2);
  } finally {
    await srv.stop();
    srv = await h.startServer({ db, config: config() });
  }
});

test('a high-priority row is sent before a backlog of information rows that were due earlier', async () => {
  // one worker, so the order of the requests is the order of the claims
  await srv.stop();
  srv = await h.startServer({ db, config: config({ workers: 1 }) });
  try {
    // in one transaction: 300 balance rows due an hour ago (quiet hours just ended), then one risk row due now
    const alertFor = (kind, sev, rule, prio, due, body) => `WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, severity, risk_rule, lang, title, body)
        SELECT d.user_id, '1000001', '0011', '${kind}', '${sev}', ${rule}, 'vi', 'T', '${body}' || g FROM devices d, generate_series(1, ${prio === 'high' ? 1 : 300}) g
        WHERE d.push_token = '${tokens.chief}' RETURNING id)
      INSERT INTO push_outbox (alert_id, device_id, provider, priority, due_at)
        SELECT a.id, d.id, 'fcm', '${prio}', ${due} FROM a, devices d WHERE d.push_token = '${tokens.chief}';`;
    q(alertFor('balance.changed', 'info', 'NULL', 'normal', "now() - interval '1 hour'", 'backlog ') +
      alertFor('voucher.status_changed', 'risk', "'cash_withdrawal'", 'high', 'now()', 'risk ') + 'NOTIFY alertd_outbox;');
    const risk = q("SELECT max(id) FROM alerts WHERE body = 'risk 1'");
    await h.eventually(() => q("SELECT count(*) FROM push_outbox WHERE state = 'pending'") === '0', 30000, 100);
    const sent = fcmFor(await mock.requests(), tokens.chief).filter((r) => r.status === 200);
    assert.equal(sent.length, 301);
    const at = sent.findIndex((r) => r.body.message.data.alert_id === risk);
    assert.equal(at, 0, `the risk alert was sent as number ${at + 1} of 301`);
  } finally {
    await srv.stop();
    srv = await h.startServer({ db, config: config() });
  }
});

test('a sibling revoked by the new phone within 10 minutes still gets its security.new_device warning', async () => {
  const r = h.runAlertd(['admin-key', 'add', 'push-it', '--office', '0011', '--scope', 'roster,activation,unrouted', '--config', h.writeConfig(config())]);
  assert.equal(r.code, 0, r.stderr);
  const adminKey = r.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  // the siblings' first attempt fails and waits 3 s, so the revoke surely comes before the push
  await mock.control('POST', '/faults', [
    { api: 'apns', match: { token: tokens.acctIos }, response: 'TooManyRequests', times: 1, retry_after: 3 },
    { api: 'fcm', match: { token: tokens.acctAndroid }, response: 'UNAVAILABLE', times: 1, retry_after: 3 },
  ]);
  const code = await h.request(srv.url, 'POST', '/v1/admin/users/c.acct/activation-code', { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(code.status, 201, code.body);
  const act = await h.request(srv.url, 'POST', '/v1/app/activate', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'c.acct', activation_code: code.json.activation_code, device: { platform: 'android', push_token: 'fcm-intruder_9:APA91b-new', model: 'Unknown' } }),
  });
  assert.equal(act.status, 201, act.body);
  const newDevice = act.json.device_id;
  try {
    const ios = q(`SELECT id FROM devices WHERE push_token = '${tokens.acctIos}'`);
    const del = await h.request(srv.url, 'DELETE', `/v1/app/devices/${ios}`, { headers: { authorization: `Bearer ${act.json.access_token}` } });
    assert.equal(del.status, 204, del.body);
    assert.equal(q(`SELECT state FROM devices WHERE id = ${ios}`), 'revoked');
    const warning = q(`SELECT id FROM alerts WHERE kind = 'security.new_device' ORDER BY id DESC LIMIT 1`);
    await h.eventually(() => q(`SELECT count(*) FROM push_outbox WHERE alert_id = ${warning} AND state = 'pending'`) === '0', 15000, 100);
    assert.equal(q(`SELECT string_agg(provider || ':' || state, ',' ORDER BY provider) FROM push_outbox WHERE alert_id = ${warning}`), 'apns:sent,fcm:sent');
    const pushed = apnsFor(await mock.requests(), tokens.acctIos).filter((x) => x.status === 200);
    assert.equal(pushed.length, 1);
    assert.equal(pushed[0].body.kind, 'security.new_device');
    assert.equal(pushed[0].body.alert_id, warning);

    // past the 10 minutes, or for anything but the warning, a revoked device gets nothing
    q(`UPDATE alerts SET created_at = now() - interval '11 minutes' WHERE id = ${warning};
       UPDATE push_outbox SET state = 'pending', sent_at = NULL, attempts = 0 WHERE alert_id = ${warning} AND provider = 'apns'`);
    await h.eventually(() => q(`SELECT state FROM push_outbox WHERE alert_id = ${warning} AND provider = 'apns'`) !== 'pending', 10000, 100);
    assert.equal(q(`SELECT state || ' ' || split_part(last_error, ':', 1) FROM push_outbox WHERE alert_id = ${warning} AND provider = 'apns'`), 'failed device_not_active');
    const id = await post(h.balanceEvent());
    await waitSettled(id);
    assert.equal(outbox(id)[tokens.acctIos], undefined, 'no new rows for a revoked device');
  } finally {
    q(`DELETE FROM push_outbox WHERE device_id = ${newDevice}; DELETE FROM device_state_changes WHERE device_id = ${newDevice};
       DELETE FROM devices WHERE id = ${newDevice}`);
  }
});

test('no secret reaches the log: no push token, access token, JWT or message text', async () => {
  const id = await post(h.balanceEvent());
  await waitSettled(id, 10000);
  const logs = srv.logs();
  for (const t of Object.values(tokens)) assert.ok(!logs.includes(t), 'a device token was logged');
  assert.ok(!/ya29\.|eyJ[A-Za-z0-9_-]{10,}/.test(logs), 'an access token or JWT was logged');
  assert.ok(!logs.includes('1.500.000'), 'message text was logged');
});

test('one APNs provider token is reused across requests and connections; a failing token endpoint delays FCM, loses nothing', async () => {
  for (let i = 0; i < 3; i++) await waitSettled(await post(h.balanceEvent()));
  const ios = (await mock.requests('apns')).filter((r) => r.status === 200);
  assert.equal(ios.length, 3);
  assert.equal(new Set(ios.map((r) => r.jwt.claims.iat)).size, 1, 'a new provider token per request');

  await srv.stop();
  srv = await h.startServer({ db, config: config() });
  await mock.control('POST', '/faults', { api: 'oauth', response: 'UNAVAILABLE', times: 1 });
  const id = await post(h.balanceEvent());
  let ob;
  await h.eventually(() => {
    ob = outbox(id);
    return ob[tokens.chief].err !== '';
  }, 10000, 20);
  assert.match(ob[tokens.chief].err, /^credentials: fcm: no OAuth access token/);
  assert.equal(ob[tokens.acctIos].state, 'sent', 'APNs does not wait for Google');
  await waitSettled(id, 15000);
  assert.equal(outbox(id)[tokens.chief].state, 'sent');
  await h.eventually(() => /FCM token endpoint answered 503/.test(srv.logs()), 5000, 50);
  const m = await metrics();
  assert.match(m, /alertd_push_token_refreshes_total\{provider="fcm",result="failed"\} 1/);
});

test('an unconfigured provider leaves its rows pending (nothing is marked sent or failed)', async () => {
  await srv.stop();
  const cfg = config();
  cfg.fcm = { credentials_file: '' };
  srv = await h.startServer({ db, config: cfg });
  try {
    const id = await post(h.balanceEvent());
    await h.eventually(() => outbox(id)[tokens.acctIos].state === 'sent', 10000, 50);
    await h.sleep(500);
    const ob = outbox(id);
    assert.equal(ob[tokens.chief].state, 'pending');
    assert.equal(ob[tokens.chief].attempts, 0);
    assert.ok(srv.logLines().some((l) => /fcm.credentials_file is not set/.test(l.msg)));
  } finally {
    await srv.stop();
    srv = await h.startServer({ db, config: config() });
  }
  // the configured instance sends what waited
  await h.eventually(() => q("SELECT count(*) FROM push_outbox WHERE state = 'pending'") === '0', 10000, 50);
});

test('bad push credentials or endpoints stop alertd at start with a clear message, never quoting a key', async () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const broken = path.join(mock.pki, 'broken-sa.json');
  fs.writeFileSync(broken, JSON.stringify({ ...mock.sa, private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }));
  const cases = [
    [{ fcm: { endpoint: 'http://127.0.0.1:1' } }, /fcm.endpoint and apns.endpoint must be https/],
    [{ apns: { endpoint: `${mock.url}/` } }, /without a trailing slash/],
    [{ fcm: { credentials_file: path.join(mock.pki, 'missing.json') } }, /missing\.json/],
    [{ fcm: { credentials_file: broken } }, /broken-sa\.json|private key/i],
    [{ apns: { key_file: path.join(mock.pki, 'ca.pem') } }, /ca\.pem/],
    [{ apns: { team_id: '' } }, /apns.key_id, apns.team_id and apns.topic are needed/],
    [{ apns: { key_file: path.join(mock.pki, 'readable.p8') } }, /readable\.p8: mode 0644 lets other accounts read a private key/],
  ];
  fs.copyFileSync(mock.apns.key_file, path.join(mock.pki, 'readable.p8'));
  fs.chmodSync(path.join(mock.pki, 'readable.p8'), 0o644);
  fs.chmodSync(broken, 0o600);
  for (const [override, message] of cases) {
    const cfg = config();
    for (const [section, keys] of Object.entries(override)) cfg[section] = { ...cfg[section], ...keys };
    await assert.rejects(h.startServer({ db, config: cfg }), (e) => {
      assert.match(e.message, /exited early \([1-9]/);
      assert.match(e.message, message);
      assert.ok(!e.message.includes('AAAA') && !/PRIVATE KEY/.test(e.message), 'key material in the message');
      return true;
    });
  }
});
