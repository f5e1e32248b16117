'use strict';
// db_failure.test.js - a database connection that breaks while a request is
// being handled (after authentication succeeded) gives 503
// database_unavailable with Retry-After, leaves nothing half-done, and the
// same request succeeds once the database is back (the pool reconnects).
// One route per handler family: app devices, heartbeat, inbox, read
// receipts, preferences, me, admin, admin roster, activation, ingest; and
// /readyz while PostgreSQL is stopped.
//
// How the connection is broken exactly inside the handler: the test's own
// psql session takes a table lock that the handler's statement must wait
// for but the authentication query does not need (auth.c: app tokens only
// SELECT devices JOIN users, which takes ACCESS SHARE; admin keys UPDATE
// admin_api_keys and INSERT audit_log; ingest signatures read
// ingest_sources/ingest_secrets). Once pg_stat_activity shows alertd's
// backend waiting on that lock, pg_terminate_backend() kills it; after it
// is gone the lock is released and the answer awaited.
//
// Lock modes used: EXCLUSIVE blocks INSERT/UPDATE/DELETE and SELECT ... FOR
// UPDATE but still lets plain SELECTs (such as the token check on devices)
// through; ACCESS EXCLUSIVE also blocks plain SELECTs, so it is used only on
// tables no authentication query reads.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const h = require('./harness');

let db, kek, srv, adminKey, ingestSecret;

// Users of unit 1000001, one per case that needs a device, so that no case
// makes another user's second device (which would queue push_outbox rows).
const USERS = ['u_del', 'u_logout', 'u_hb', 'u_inbox', 'u_read', 'u_prefs', 'u_me', 'u_code', 'u_act', 'u_down'];

function seedRoster() {
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name) VALUES
      ${USERS.map((u) => `('${u}', '1000001', 'Người dùng ${u}')`).join(', ')};
    INSERT INTO user_roles SELECT id, 'accountant' FROM users;`);
}

// ---------------------------------------------------------------- requests

function adminSend(method, p, { body, contentType } = {}) {
  const headers = { authorization: `Bearer ${adminKey}` };
  if (contentType) headers['content-type'] = contentType;
  return h.request(srv.url, method, p, { headers, body });
}

function appSend(token, method, p, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return h.request(srv.url, method, p, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

let pushSeq = 0;
function device() {
  pushSeq += 1;
  return { platform: 'android', push_token: `fcm-dbfail-${process.pid}-${pushSeq}`, app_version: '1.0.0', model: 'Pixel 8', locale: 'vi-VN' };
}

function activate(login, code, dev) {
  return h.request(srv.url, 'POST', '/v1/app/activate', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, activation_code: code, device: dev }),
  });
}

async function issueCode(login) {
  const r = await adminSend('POST', `/v1/admin/users/${login}/activation-code`);
  assert.equal(r.status, 201, r.body);
  return r.json.activation_code;
}

async function activated(login) {
  const r = await activate(login, await issueCode(login), device());
  assert.equal(r.status, 201, r.body);
  return r.json;
}

function userId(login) {
  return h.psql(db, `SELECT id FROM users WHERE dvctt_login = '${login}'`);
}

function addAlert(login, body) {
  return h.psql(db, `INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
    VALUES (${userId(login)}, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', '${body}') RETURNING id`);
}

function assertUnavailable(res) {
  h.assertProblem(assert, res, 503, 'database_unavailable');
  assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/, `Retry-After: ${res.headers['retry-after']}`);
}

// ---------------------------------------------------------------- breaking the connection

// Poll fn() (synchronous psql calls are fine) until it returns a truthy value.
async function poll(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await h.sleep(20);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// A psql session of the test's own that holds `lockSql` inside an open
// transaction until release(). Returns { pid, release }.
async function holdLock(lockSql) {
  const name = `dbfail_holder_${crypto.randomBytes(4).toString('hex')}`;
  const proc = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', `${h.PGDIR}/run`, '-U', 'alertd', '-d', db], {
    env: { ...process.env, PGAPPNAME: name },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  // "\;" sends BEGIN and LOCK as one query: the session shows "idle in
  // transaction" only once the lock is granted
  proc.stdin.write(`BEGIN\\; ${lockSql};\n`);
  const pid = await poll(() => {
    if (proc.exitCode !== null) throw new Error(`the psql session taking "${lockSql}" exited: ${stderr}`);
    return h.psql(db, `SELECT pid FROM pg_stat_activity WHERE application_name = '${name}' AND state = 'idle in transaction'`);
  }, 10000, `the test's session to hold "${lockSql}"`);
  let released;
  return {
    pid,
    release() {
      if (!released) {
        proc.stdin.end('ROLLBACK;\n');
        released = exited.then((code) => {
          if (code !== 0) throw new Error(`the psql session holding "${lockSql}" exited ${code}: ${stderr}`);
        });
      }
      return released;
    },
  };
}

// Take `lock`, send the request, wait until alertd's backend waits on the
// lock in a statement matching the SQL condition `statement` (on
// pg_stat_activity.query), terminate that backend, wait until it is gone,
// release the lock, and return the answer. Fails when the request is
// answered before its statement reached the lock (wrong lock: the case
// would prove nothing).
async function answerWhenConnectionBreaks({ lock, statement, send }) {
  const holder = await holdLock(lock);
  let settled = false;
  const answer = send().finally(() => {
    settled = true;
  });
  answer.catch(() => {}); // awaited below; avoid an unhandled rejection meanwhile
  try {
    // the dispatcher's claim query (push_outbox) may wait on the same lock: never terminate it
    const waiting = `datname = current_database() AND application_name = 'alertd' AND wait_event_type = 'Lock'
      AND ${holder.pid} = ANY(pg_blocking_pids(pid)) AND query NOT ILIKE '%push_outbox%' AND (${statement})`;
    const pids = await poll(async () => {
      if (settled) {
        const r = await answer;
        throw new Error(`answered ${r.status} before the handler's statement waited on the lock (${lock}): ${r.body}`);
      }
      return h.psql(db, `SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE ${waiting}`);
    }, 10000, `alertd's statement (${statement}) to wait on "${lock}"`);
    h.psql(db, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (${pids})`);
    await poll(() => h.psql(db, `SELECT count(*) FROM pg_stat_activity WHERE pid IN (${pids})`) === '0', 10000,
      `terminated backend(s) ${pids} to exit`);
  } finally {
    await holder.release();
  }
  return withTimeout(answer, 10000, 'the answer after the connection broke');
}

// ---------------------------------------------------------------- setup

test.before(async () => {
  db = h.createDatabase('dbfail');
  kek = h.createKek();
  h.migrate(db);
  seedRoster();
  const cfg = h.writeConfig(h.ingestConfig(db, kek));
  const k = h.runAlertd(['admin-key', 'add', 'treasury-it', '--office', '0001', '--scope', 'roster,activation,unrouted', '--config', cfg]);
  assert.equal(k.code, 0, k.stderr);
  adminKey = k.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  const s = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']);
  assert.equal(s.code, 0, s.stderr);
  ingestSecret = s.secret;
  srv = await h.startServer({
    db,
    config: h.ingestConfig(db, kek, { app: { activation_per_login_per_minute: 100, activation_per_ip_per_minute: 1000 } }),
  });
});

// As srv.stop() (SIGTERM, exit 0 required), but without leaving a 15 s timer
// behind that keeps node running after the last test.
test.after(async () => {
  if (!srv || srv.proc.exitCode !== null) return;
  srv.proc.kill('SIGTERM');
  const res = await withTimeout(srv.exited, 15000, 'alertd to stop on SIGTERM').catch((e) => {
    srv.proc.kill('SIGKILL');
    throw e;
  });
  assert.equal(res.code, 0, `alertd exited ${res.code} ${res.signal || ''}\n${srv.logs().slice(-4000)}`);
});

// Why each case's result is checked last: on a route that answers 500 the
// rest of the case (nothing half-done, recovery) still runs, so such a
// failure names only the status.

// ---------------------------------------------------------------- app devices (api_app.c)

test('app devices: DELETE /v1/app/devices/{id} whose connection breaks answers 503, the device stays active, then it succeeds', async () => {
  const a = await activated('u_del');
  // devices EXCLUSIVE: the token check (SELECT) passes, revoke()'s SELECT ... FOR UPDATE waits
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE devices IN EXCLUSIVE MODE',
    statement: "query ILIKE '%devices%'",
    send: () => appSend(a.access_token, 'DELETE', `/v1/app/devices/${a.device_id}`),
  });
  assert.equal(h.psql(db, `SELECT state || ' ' || (access_token_hash IS NOT NULL) FROM devices WHERE id = ${a.device_id}`), 'active true');
  assert.equal(h.psql(db, `SELECT count(*) FROM audit_log WHERE action = 'device.revoke' AND target = 'device ${a.device_id}'`), '0');
  assert.equal((await appSend(a.access_token, 'GET', '/v1/app/me')).status, 200, 'the token still works');
  const again = await appSend(a.access_token, 'DELETE', `/v1/app/devices/${a.device_id}`);
  assert.equal(again.status, 204, again.body);
  assert.equal(h.psql(db, `SELECT state || ' ' || state_reason FROM devices WHERE id = ${a.device_id}`), 'revoked revoked_by_user');
  assertUnavailable(res);
});

test('app devices: DELETE /v1/app/device (logout) whose connection breaks answers 503, the session stays, then it succeeds', async () => {
  const a = await activated('u_logout');
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE devices IN EXCLUSIVE MODE',
    statement: "query ILIKE '%devices%'",
    send: () => appSend(a.access_token, 'DELETE', '/v1/app/device'),
  });
  assert.equal(h.psql(db, `SELECT state || ' ' || (access_token_hash IS NOT NULL) FROM devices WHERE id = ${a.device_id}`), 'active true');
  const again = await appSend(a.access_token, 'DELETE', '/v1/app/device');
  assert.equal(again.status, 204, again.body);
  assert.equal(h.psql(db, `SELECT state || ' ' || state_reason FROM devices WHERE id = ${a.device_id}`), 'revoked logout');
  assertUnavailable(res);
});

// ---------------------------------------------------------------- heartbeat (api_app.c)

test('heartbeat: PUT /v1/app/device whose connection breaks mid-transaction answers 503, nothing of it is kept, then it succeeds', async () => {
  const a = await activated('u_hb');
  h.psql(db, `UPDATE devices SET last_seen_at = now() - interval '3 days' WHERE id = ${a.device_id}`);
  const before = () => h.psql(db, `SELECT push_token || ' ' || app_version || ' ' || (last_seen_at < now() - interval '2 days') FROM devices WHERE id = ${a.device_id}`);
  const was = before();
  // devices EXCLUSIVE: the token check and the handler's first SELECT (push-token conflict) pass,
  // its first UPDATE of devices waits, inside the handler's transaction
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE devices IN EXCLUSIVE MODE',
    statement: "query ILIKE '%UPDATE devices%'",
    send: () => appSend(a.access_token, 'PUT', '/v1/app/device', { push_token: `hb-new-${process.pid}`, app_version: '2.0.0' }),
  });
  assert.equal(before(), was, 'push token, app version and last_seen_at are unchanged');
  assert.match(was, / 1\.0\.0 true$/);
  const again = await appSend(a.access_token, 'PUT', '/v1/app/device', { push_token: `hb-new-${process.pid}`, app_version: '2.0.0' });
  assert.equal(again.status, 200, again.body);
  assert.equal(again.json.app_version, '2.0.0');
  assert.equal(h.psql(db, `SELECT push_token FROM devices WHERE id = ${a.device_id}`), `hb-new-${process.pid}`);
  assertUnavailable(res);
});

// ---------------------------------------------------------------- inbox (api_app_alerts.c)

test('inbox: GET /v1/app/alerts whose connection breaks answers 503, then it lists the alert', async () => {
  const a = await activated('u_inbox');
  const alertId = addAlert('u_inbox', 'Hộp thư');
  // alerts ACCESS EXCLUSIVE: no authentication query reads alerts
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE',
    statement: "query ILIKE '%alerts%'",
    send: () => appSend(a.access_token, 'GET', '/v1/app/alerts'),
  });
  // a read: nothing to undo
  const again = await appSend(a.access_token, 'GET', '/v1/app/alerts');
  assert.equal(again.status, 200, again.body);
  assert.deepEqual(again.json.items.map((x) => x.id), [Number(alertId)]);
  assertUnavailable(res);
});

test('inbox: POST /v1/app/alerts/{id}/read whose connection breaks answers 503, the alert stays unread, then it is read', async () => {
  const a = await activated('u_read');
  const alertId = addAlert('u_read', 'Đã đọc?');
  // alerts EXCLUSIVE: the read receipt's UPDATE waits
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE alerts IN EXCLUSIVE MODE',
    statement: "query ILIKE '%alerts%'",
    send: () => appSend(a.access_token, 'POST', `/v1/app/alerts/${alertId}/read`),
  });
  assert.equal(h.psql(db, `SELECT read_at IS NULL FROM alerts WHERE id = ${alertId}`), 't');
  const again = await appSend(a.access_token, 'POST', `/v1/app/alerts/${alertId}/read`);
  assert.equal(again.status, 200, again.body);
  assert.ok(again.json.read_at);
  assert.equal(h.psql(db, `SELECT read_at IS NOT NULL FROM alerts WHERE id = ${alertId}`), 't');
  assertUnavailable(res);
});

// ---------------------------------------------------------------- preferences (api_app_alerts.c)

test('preferences: PUT /v1/app/preferences whose connection breaks answers 503, the preferences are unchanged, then it succeeds', async () => {
  const a = await activated('u_prefs');
  const uid = userId('u_prefs');
  const set = await appSend(a.access_token, 'PUT', '/v1/app/preferences', { lang: 'vi', min_amount: 1000 });
  assert.equal(set.status, 200, set.body);
  const stored = () => h.psql(db, `SELECT lang || ' ' || min_amount FROM user_preferences WHERE user_id = ${uid}`);
  // user_preferences EXCLUSIVE: the upsert waits; no authentication query reads user_preferences
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE user_preferences IN EXCLUSIVE MODE',
    statement: "query ILIKE '%user_preferences%'",
    send: () => appSend(a.access_token, 'PUT', '/v1/app/preferences', { lang: 'en', min_amount: 5000000 }),
  });
  assert.equal(stored(), 'vi 1000');
  const get = await appSend(a.access_token, 'GET', '/v1/app/preferences');
  assert.deepEqual({ lang: get.json.lang, min: get.json.min_amount }, { lang: 'vi', min: 1000 });
  const again = await appSend(a.access_token, 'PUT', '/v1/app/preferences', { lang: 'en', min_amount: 5000000 });
  assert.equal(again.status, 200, again.body);
  assert.equal(stored(), 'en 5000000');
  assertUnavailable(res);
});

// ---------------------------------------------------------------- me (api_app.c)

test('me: GET /v1/app/me whose connection breaks answers 503, then it succeeds', async () => {
  const a = await activated('u_me');
  // user_roles ACCESS EXCLUSIVE: the handler's query reads it, the token check (devices JOIN users) does not
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE user_roles IN ACCESS EXCLUSIVE MODE',
    statement: "query ILIKE '%user_roles%'",
    send: () => appSend(a.access_token, 'GET', '/v1/app/me'),
  });
  const again = await appSend(a.access_token, 'GET', '/v1/app/me');
  assert.equal(again.status, 200, again.body);
  assert.equal(again.json.user.login, 'u_me');
  assertUnavailable(res);
});

// ---------------------------------------------------------------- admin (api_admin.c)

test('admin: POST /v1/admin/users/{login}/activation-code whose connection breaks answers 503, the old code stays valid, then it succeeds', async () => {
  const oldCode = await issueCode('u_code');
  const live = () => h.psql(db, `SELECT string_agg(c.id::text, ',') FROM activation_codes c JOIN users u ON u.id = c.user_id
    WHERE u.dvctt_login = 'u_code' AND c.used_at IS NULL AND c.voided_at IS NULL`);
  const was = live();
  assert.match(was, /^\d+$/);
  // activation_codes EXCLUSIVE: the handler's SELECT users ... FOR UPDATE passes, voiding the old code waits
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE activation_codes IN EXCLUSIVE MODE',
    statement: "query ILIKE '%activation_codes%'",
    send: () => adminSend('POST', '/v1/admin/users/u_code/activation-code'),
  });
  assert.equal(live(), was, 'the old code is neither voided nor joined by a new one');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'activation.issue' AND target = 'u_code'"), '1');
  const again = await adminSend('POST', '/v1/admin/users/u_code/activation-code');
  assert.equal(again.status, 201, again.body);
  assert.notEqual(live(), was, 'the new code replaced the old one');
  assert.notEqual(again.json.activation_code, oldCode);
  assertUnavailable(res);
});

test('admin: GET /v1/admin/events/unrouted whose connection breaks answers 503, then it succeeds', async () => {
  // events ACCESS EXCLUSIVE: admin-key authentication touches only admin_api_keys and audit_log
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE events IN ACCESS EXCLUSIVE MODE',
    statement: "query ILIKE '%events%'",
    send: () => adminSend('GET', '/v1/admin/events/unrouted'),
  });
  // a read: nothing to undo
  const again = await adminSend('GET', '/v1/admin/events/unrouted');
  assert.equal(again.status, 200, again.body);
  assert.ok(Array.isArray(again.json.items));
  assertUnavailable(res);
});

// ---------------------------------------------------------------- admin roster (api_admin_roster.c)

test('admin roster: POST /v1/admin/roster whose connection breaks mid-import answers 503, nothing is imported, then it imports', async () => {
  const csv = [
    'office_code,office_name,parent_office_code,unit_code,unit_name,unit_email,unit_phone,accounts,user_login,user_name,user_email,user_phone,roles',
    '0011,KBNN khu vực I,0001,1000009,Trường Mầm non Hoa Sen,,,9523.1.1099999,ngothimai.1000009,Ngô Thị Mai,,,account_holder',
    '',
  ].join('\n');
  const imported = () => h.psql(db, `SELECT (SELECT count(*) FROM budget_units WHERE code = '1000009') || ' ' ||
    (SELECT count(*) FROM unit_accounts WHERE unit_code = '1000009') || ' ' ||
    (SELECT count(*) FROM users WHERE dvctt_login = 'ngothimai.1000009') || ' ' ||
    (SELECT count(*) FROM audit_log WHERE action = 'roster.import')`);
  assert.equal(imported(), '0 0 0 0');
  // users EXCLUSIVE: the import's SELECTs pass and it writes the unit and its account
  // in its transaction, then its INSERT INTO users waits
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE users IN EXCLUSIVE MODE',
    statement: "query ILIKE '%users%'",
    send: () => adminSend('POST', '/v1/admin/roster', { body: csv, contentType: 'text/csv' }),
  });
  assert.equal(imported(), '0 0 0 0', 'nothing of the import was kept');
  const again = await adminSend('POST', '/v1/admin/roster', { body: csv, contentType: 'text/csv' });
  assert.equal(again.status, 200, again.body);
  assert.equal(again.json.units.created, 1);
  assert.equal(again.json.users.created, 1);
  assert.equal(imported(), '1 1 1 1');
  assertUnavailable(res);
});

// ---------------------------------------------------------------- activation (api_app.c, no bearer auth)

test('activation: POST /v1/app/activate whose connection breaks mid-transaction answers 503, the code is not spent, then it activates', async () => {
  const code = await issueCode('u_act');
  const dev = device();
  const codeState = () => h.psql(db, `SELECT (c.used_at IS NULL) || ' ' || c.failed_attempts FROM activation_codes c JOIN users u ON u.id = c.user_id
    WHERE u.dvctt_login = 'u_act' AND c.voided_at IS NULL`);
  const devices = () => h.psql(db, "SELECT count(*) FROM devices d JOIN users u ON u.id = d.user_id WHERE u.dvctt_login = 'u_act'");
  assert.equal(codeState(), 'true 0');
  // devices EXCLUSIVE: the handler locks the user and the code and marks the code used,
  // then waits on its UPDATE devices (ending other bindings of the push token)
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE devices IN EXCLUSIVE MODE',
    statement: "query ILIKE '%devices%'",
    send: () => activate('u_act', code, dev),
  });
  assert.equal(codeState(), 'true 0', 'the code is neither spent nor counted as a failed attempt');
  assert.equal(devices(), '0');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'activation.redeem' AND target = 'u_act'"), '0');
  const again = await activate('u_act', code, dev);
  assert.equal(again.status, 201, again.body);
  assert.equal(devices(), '1');
  assert.equal((await appSend(again.json.access_token, 'GET', '/v1/app/me')).status, 200);
  assertUnavailable(res);
});

// ---------------------------------------------------------------- ingest (api_ingest.c, group-commit writer)

test('ingest: POST /v1/ingest/{source}/events whose writer connection breaks answers 503, nothing is stored, then it is accepted', async () => {
  const ev = h.balanceEvent();
  const stored = () => h.psql(db, `SELECT (SELECT count(*) FROM events WHERE external_id = '${ev.id}') || ' ' ||
    (SELECT count(*) FROM event_keys WHERE external_id = '${ev.id}')`);
  // event_keys EXCLUSIVE: the signature check reads ingest_sources/ingest_secrets only;
  // the writer's alertd_ingest_batch() waits on its INSERT INTO event_keys
  const res = await answerWhenConnectionBreaks({
    lock: 'LOCK TABLE event_keys IN EXCLUSIVE MODE',
    statement: "query ILIKE '%ingest%'",
    send: () => h.postSigned(srv, 'tabmis', ingestSecret, ev),
  });
  assert.equal(stored(), '0 0');
  // a new delivery (new webhook-id and signature) of the same event
  const again = await h.postSigned(srv, 'tabmis', ingestSecret, ev);
  assert.equal(again.status, 202, again.body);
  assert.equal(again.json.status, 'accepted');
  assert.equal(stored(), '1 1');
  assertUnavailable(res);
});

// ---------------------------------------------------------------- ops (api_ops.c)

// /readyz retries once on a fresh connection (a pooled connection may have
// died with a restarted server), so one broken connection is not a failure
// for it: this case stops PostgreSQL instead. Last, as it stops the cluster.
test('ops: while PostgreSQL is stopped /readyz and an authenticated app route answer 503 with Retry-After; both recover', async () => {
  const a = await activated('u_down');
  try {
    h.pgcluster('stop');
    assertUnavailable(await h.request(srv.url, 'GET', '/readyz'));
    assertUnavailable(await appSend(a.access_token, 'GET', '/v1/app/me'));
  } finally {
    h.pgcluster('start');
  }
  await h.eventually(async () => (await h.request(srv.url, 'GET', '/readyz')).status === 200, 15000, 100);
  await h.eventually(async () => (await appSend(a.access_token, 'GET', '/v1/app/me')).status === 200, 15000, 100);
});
