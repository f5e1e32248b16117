'use strict';
// app.test.js - admin keys, activation codes, device activation and every
// app endpoint, over real HTTP against real PostgreSQL; including the
// attempts to reach another user's data and the credential separation
// between admin and app routes.

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let db, kek, srv, adminKey;
// the central office and every action: the scopes themselves are tested in staff_scope.test.js
const KEY_SCOPE = ['--office', '0001', '--scope', 'roster,activation,unrouted'];
const TOKEN_RE = /^at_[A-Za-z0-9_-]{43}$/;

function roster(dbname) {
  h.psql(dbname, `INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011'), ('1000002', 'Trạm Y tế Phường 1', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name) VALUES
      ('holder1', '1000001', 'Trần Thị Bình'), ('chief1', '1000001', 'Lê Văn Cường'), ('acct1', '1000001', 'Phạm Thu Hà'),
      ('holder2', '1000002', 'Đỗ Minh Khoa');
    INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login IN ('holder1', 'holder2');
    INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login = 'chief1';
    INSERT INTO user_roles SELECT id, 'accountant' FROM users WHERE dvctt_login IN ('chief1', 'acct1');`);
}

function cli(args) {
  return h.runAlertd([...args, '--config', h.writeConfig(h.ingestConfig(db, kek))]);
}

async function issue(login) {
  const r = await h.request(srv.url, 'POST', `/v1/admin/users/${login}/activation-code`, { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(r.status, 201, `${r.body}\n${srv.logs().split('\n').filter((l) => /warn|error/.test(l)).slice(-3).join('\n')}`);
  return r.json.activation_code;
}

let pushSeq = 0;
function device(overrides = {}) {
  pushSeq += 1;
  return { platform: 'android', push_token: `fcm-token-${process.pid}-${pushSeq}`, app_version: '1.0.0', os_version: '14', model: 'Pixel 8', locale: 'vi-VN', ...overrides };
}

function activate(login, code, dev = device()) {
  return h.request(srv.url, 'POST', '/v1/app/activate', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, activation_code: code, device: dev }),
  });
}

async function activated(login, dev) {
  const r = await activate(login, await issue(login), dev);
  assert.equal(r.status, 201, r.body);
  return r.json;
}

function appGet(token, p) {
  return h.request(srv.url, 'GET', p, { headers: { authorization: `Bearer ${token}` } });
}

function appSend(token, method, p, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return h.request(srv.url, method, p, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

test.before(async () => {
  db = h.createDatabase('app');
  kek = h.createKek();
  h.migrate(db);
  roster(db);
  const r = cli(['admin-key', 'add', 'treasury-it', ...KEY_SCOPE]);
  assert.equal(r.code, 0, r.stderr);
  adminKey = r.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { app: { activation_per_login_per_minute: 100, activation_per_ip_per_minute: 1000 } }) });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('admin keys: shown once, stored as a hash, listed, every use audited, revocable', async () => {
  assert.match(adminKey, /^ak_[A-Za-z0-9_-]{43}$/);
  assert.equal(h.psql(db, `SELECT count(*) FROM admin_api_keys WHERE key_hash = sha256('${adminKey}'::bytea)`), '1');
  const list = cli(['admin-key', 'list']);
  assert.match(list.stdout, /treasury-it/);
  assert.ok(!list.stdout.includes(adminKey));
  const before = Number(h.psql(db, "SELECT count(*) FROM audit_log WHERE actor_kind = 'admin_key' AND outcome = 'ok'"));
  const r = await h.request(srv.url, 'GET', '/v1/admin/events/unrouted', { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, { items: [] });
  assert.equal(Number(h.psql(db, "SELECT count(*) FROM audit_log WHERE actor_kind = 'admin_key' AND outcome = 'ok'")), before + 1);
  assert.equal(h.psql(db, "SELECT action || ' ' || target || ' ' || actor_id FROM audit_log WHERE actor_kind = 'admin_key' ORDER BY id DESC LIMIT 1"), 'admin.request GET /v1/admin/events/unrouted treasury-it');
  const tmp = cli(['admin-key', 'add', 'temp-key', ...KEY_SCOPE]);
  const tmpKey = tmp.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  assert.equal((await h.request(srv.url, 'GET', '/v1/admin/events/unrouted', { headers: { authorization: `Bearer ${tmpKey}` } })).status, 200);
  assert.equal(cli(['admin-key', 'revoke', 'temp-key']).code, 0);
  const denied = await h.request(srv.url, 'GET', '/v1/admin/events/unrouted', { headers: { authorization: `Bearer ${tmpKey}` } });
  h.assertProblem(assert, denied, 401, 'unauthorized');
  assert.ok(Number(h.psql(db, "SELECT count(*) FROM audit_log WHERE actor_kind = 'admin_key' AND outcome = 'denied'")) >= 1);
});

test('admin key and source names share one rule: a-z 0-9 _ -, no dot (the stricter of two old copies)', () => {
  for (const bad of ['treasury.it', 'Treasury', '-x', 'a b', 'x'.repeat(64)]) {
    const r = cli(['admin-key', 'add', bad, ...KEY_SCOPE]);
    assert.notEqual(r.code, 0, bad);
    assert.match(r.stderr, /invalid key name/, bad);
  }
  assert.equal(h.psql(db, "SELECT count(*) FROM admin_api_keys WHERE name LIKE '%.%' OR name = 'Treasury'"), '0');
  const ok = cli(['admin-key', 'add', 'it_desk-2', ...KEY_SCOPE]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(cli(['admin-key', 'revoke', 'it_desk-2']).code, 0);
});

test('activation codes: 10 unambiguous characters, hashed, issued by API and CLI; a new code voids the old', async () => {
  const code = await issue('acct1');
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{10}$/);
  assert.equal(h.psql(db, `SELECT count(*) FROM activation_codes WHERE encode(code_hash, 'escape') LIKE '%${code}%'`), '0');
  const c = cli(['activation-code', 'acct1']);
  assert.equal(c.code, 0, c.stderr);
  const cliCode = c.stdout.match(/activation code: (\w{5})-(\w{5})/).slice(1).join('');
  const old = await activate('acct1', code);
  h.assertProblem(assert, old, 401, 'unauthorized');
  // typed with a dash and in lower case, the CLI's code works
  const ok = await activate('acct1', `${cliCode.slice(0, 5)}-${cliCode.slice(5).toLowerCase()}`);
  assert.equal(ok.status, 201, ok.body);
  const unknown = await h.request(srv.url, 'POST', '/v1/admin/users/nobody/activation-code', { headers: { authorization: `Bearer ${adminKey}` } });
  h.assertProblem(assert, unknown, 404, 'not_found');
});

test('activation with the right code returns a device token bound to the device; only its hash is stored', async () => {
  const dev = device({ platform: 'ios', push_token: 'a'.repeat(64) });
  const r = await activate('holder1', await issue('holder1'), dev);
  assert.equal(r.status, 201, r.body);
  assert.match(r.json.access_token, TOKEN_RE);
  assert.ok(Number.isInteger(r.json.device_id));
  const days = (Date.parse(r.json.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 89 && days <= 90, String(days));
  assert.equal(r.json.user.login, 'holder1');
  assert.equal(r.json.user.full_name, 'Trần Thị Bình');
  assert.deepEqual(r.json.user.roles, ['account_holder']);
  assert.deepEqual(r.json.unit, { code: '1000001', name: 'Trường THCS Nguyễn Du', office_code: '0011', office_name: 'KBNN khu vực I' });
  assert.equal(h.psql(db, `SELECT count(*) FROM devices WHERE access_token_hash = sha256('${r.json.access_token}'::bytea) AND id = ${r.json.device_id} AND platform = 'ios'`), '1');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'activation.redeem' AND target = 'holder1' AND outcome = 'ok'"), '1');
});

test('five wrong codes lock the login until a new code is issued; expired and reused codes fail', async () => {
  const code = await issue('chief1');
  for (let i = 0; i < 5; i++) h.assertProblem(assert, await activate('chief1', 'ZZZZZZZZZZ'), 401, 'unauthorized');
  h.assertProblem(assert, await activate('chief1', code), 401, 'unauthorized'); // locked, even with the right code
  assert.equal(h.psql(db, "SELECT f.reasons->>'locked' FROM activation_failures f JOIN users u ON u.id = f.user_id WHERE u.dvctt_login = 'chief1'"), '1');
  const fresh = await issue('chief1');
  assert.equal((await activate('chief1', fresh)).status, 201);
  h.assertProblem(assert, await activate('chief1', fresh), 401, 'unauthorized'); // reused
  const exp = await issue('chief1');
  h.psql(db, "UPDATE activation_codes SET created_at = now() - interval '4 days', expires_at = now() - interval '1 second' WHERE used_at IS NULL AND voided_at IS NULL");
  h.assertProblem(assert, await activate('chief1', exp), 401, 'unauthorized');
  // the lock and the success are audited at once; every failure is counted in its hour's aggregate row
  const reasons = h.psql(db, "SELECT string_agg(details->>'reason', ',' ORDER BY id) FROM audit_log WHERE action = 'activation.redeem' AND target = 'chief1'");
  assert.equal(reasons, 'wrong_code_now_locked,ok');
  const agg = h.psql(db, `SELECT f.attempts || '|' || f.reasons::text FROM activation_failures f JOIN users u ON u.id = f.user_id WHERE u.dvctt_login = 'chief1'`);
  assert.equal(agg, '8|{"locked": 1, "expired": 1, "no_code": 1, "wrong_code": 4, "wrong_code_now_locked": 1}');
});

test('activation input is validated (422) and throttled per login (429)', async () => {
  const bad = await h.request(srv.url, 'POST', '/v1/app/activate', { headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'x', device: { platform: 'windows', locale: '!!', extra: 1 } }) });
  h.assertProblem(assert, bad, 422, 'validation_failed');
  const fields = bad.json.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['activation_code', 'device.extra', 'device.locale', 'device.platform', 'device.push_token']);
  const db2 = h.createDatabase('apprl');
  h.migrate(db2);
  roster(db2);
  const limited = await h.startServer({ db: db2, config: h.ingestConfig(db2, kek, { app: { activation_per_login_per_minute: 3 } }) });
  try {
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const r = await h.request(limited.url, 'POST', '/v1/app/activate', { headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'acct1', activation_code: 'ZZZZZZZZZZ', device: device() }) });
      codes.push(r.status);
      if (r.status === 429) assert.ok(Number(r.headers['retry-after']) >= 1);
    }
    assert.deepEqual(codes, [401, 401, 401, 429]);
  } finally {
    await limited.stop();
  }
});

test('a new device triggers a security alert for the user\'s other active devices only', async () => {
  const first = await activated('holder2', device({ platform: 'ios', push_token: 'b'.repeat(64) }));
  assert.equal(h.psql(db, `SELECT count(*) FROM alerts a JOIN users u ON u.id = a.user_id WHERE u.dvctt_login = 'holder2' AND a.kind = 'security.new_device'`), '0');
  const second = await activated('holder2', device({ model: 'Galaxy S24' }));
  const rows = h.psql(db, `SELECT a.title || '|' || a.body || '|' || o.device_id || '|' || o.provider || '|' || o.priority
    FROM alerts a JOIN push_outbox o ON o.alert_id = a.id JOIN users u ON u.id = a.user_id
    WHERE u.dvctt_login = 'holder2' AND a.kind = 'security.new_device'`).split('\n');
  assert.equal(rows.length, 1);
  const [title, body, deviceId, provider, priority] = rows[0].split('|');
  assert.equal(title, 'Kích hoạt trên thiết bị mới');
  assert.match(body, /^Tài khoản của bạn vừa được kích hoạt trên thiết bị mới \(Galaxy S24, android\) lúc \d\d:\d\d \d\d\/\d\d\/\d{4}\./);
  assert.equal(Number(deviceId), first.device_id);
  assert.equal(provider, 'apns');
  assert.equal(priority, 'high');
  // privacy mode is on by default: the push of this alert is generic too (the inbox keeps the text)
  assert.equal(h.psql(db, "SELECT string_agg(a.details->>'push_privacy', ',') FROM alerts a JOIN users u ON u.id = a.user_id WHERE u.dvctt_login = 'holder2' AND a.kind = 'security.new_device'"), 'true');
  // the alert is in the user's inbox, seen from either device
  const inbox = await appGet(second.access_token, '/v1/app/alerts');
  assert.equal(inbox.json.items[0].kind, 'security.new_device');
});

test('app endpoints: me, heartbeat, devices, inbox with keyset pages, read receipts, preferences', async () => {
  const a = await activated('acct1');
  const me = await appGet(a.access_token, '/v1/app/me');
  assert.equal(me.status, 200);
  assert.equal(me.json.user.login, 'acct1');
  assert.equal(me.json.device_id, a.device_id);
  // heartbeat: new push token and app version, last_seen and expiry move forward
  h.psql(db, `UPDATE devices SET last_seen_at = now() - interval '3 days', access_token_expires_at = now() + interval '1 day' WHERE id = ${a.device_id}`);
  const hb = await appSend(a.access_token, 'PUT', '/v1/app/device', { push_token: 'new-token-acct1', app_version: '1.1.0', locale: 'en' });
  assert.equal(hb.status, 200, hb.body);
  assert.equal(hb.json.app_version, '1.1.0');
  assert.equal(hb.json.locale, 'en');
  assert.ok(Date.parse(hb.json.last_seen_at) > Date.now() - 60000);
  assert.ok(Date.parse(hb.json.token_expires_at) > Date.now() + 89 * 86400000);
  assert.equal(h.psql(db, `SELECT push_token FROM devices WHERE id = ${a.device_id}`), 'new-token-acct1');
  h.assertProblem(assert, await appSend(a.access_token, 'PUT', '/v1/app/device', { platform: 'ios' }), 422, 'validation_failed');
  const devs = await appGet(a.access_token, '/v1/app/devices');
  assert.ok(devs.json.items.some((d) => d.id === a.device_id && d.current && d.state === 'active'));
  // inbox: three alerts, pages of two
  const uid = h.psql(db, "SELECT id FROM users WHERE dvctt_login = 'acct1'");
  for (const t of ['Một', 'Hai', 'Ba']) {
    h.psql(db, `INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body, details) VALUES (${uid}, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', '${t}', '{"amount": -1500000}')`);
  }
  const p1 = await appGet(a.access_token, '/v1/app/alerts?limit=2');
  assert.equal(p1.status, 200);
  assert.deepEqual(p1.json.items.map((x) => x.body), ['Ba', 'Hai']);
  assert.equal(p1.json.items[0].details.amount, -1500000);
  const p2 = await appGet(a.access_token, `/v1/app/alerts?limit=2&before=${p1.json.next_before}`);
  assert.deepEqual(p2.json.items.map((x) => x.body).slice(0, 1), ['Một']);
  h.assertProblem(assert, await appGet(a.access_token, '/v1/app/alerts?limit=0'), 422, 'validation_failed');
  h.assertProblem(assert, await appGet(a.access_token, '/v1/app/alerts?before=abc'), 422, 'validation_failed');
  const one = await appGet(a.access_token, `/v1/app/alerts/${p1.json.items[0].id}`);
  assert.equal(one.json.body, 'Ba');
  assert.equal(one.json.read_at, null);
  const read1 = await appSend(a.access_token, 'POST', `/v1/app/alerts/${one.json.id}/read`);
  assert.equal(read1.status, 200);
  assert.ok(read1.json.read_at);
  await h.sleep(20);
  const read2 = await appSend(a.access_token, 'POST', `/v1/app/alerts/${one.json.id}/read`);
  assert.equal(read2.json.read_at, read1.json.read_at, 'a second read keeps the first time');
  // preferences
  const p0 = await appGet(a.access_token, '/v1/app/preferences');
  assert.deepEqual({ lang: p0.json.lang, min: p0.json.min_amount, q: p0.json.quiet_hours }, { lang: 'vi', min: 0, q: null });
  assert.equal(p0.json.toggles.risk, true);
  const put = await appSend(a.access_token, 'PUT', '/v1/app/preferences', { lang: 'en', min_amount: 1000000, quiet_hours: { from: '22:00', to: '06:30' }, toggles: { 'balance.changed': false } });
  assert.equal(put.status, 200, put.body);
  assert.equal(put.json.lang, 'en');
  assert.equal(put.json.min_amount, 1000000);
  assert.deepEqual(put.json.quiet_hours, { from: '22:00', to: '06:30', time_zone: 'Asia/Ho_Chi_Minh' });
  assert.equal(put.json.toggles['balance.changed'], false);
  assert.equal(put.json.toggles['voucher.status_changed'], true);
  const risk = await appSend(a.access_token, 'PUT', '/v1/app/preferences', { toggles: { risk: false } });
  h.assertProblem(assert, risk, 422, 'validation_failed');
  assert.equal(risk.json.errors[0].field, 'toggles.risk');
  assert.match(risk.json.errors[0].message, /cannot be switched off/);
  const bad = await appSend(a.access_token, 'PUT', '/v1/app/preferences', { lang: 'fr', quiet_hours: { from: '25:00', to: '06:00' }, colour: 'red' });
  assert.deepEqual(bad.json.errors.map((e) => e.field).sort(), ['colour', 'lang', 'quiet_hours']);
  const after = await appGet(a.access_token, '/v1/app/preferences');
  assert.equal(after.json.lang, 'en', 'a refused update changes nothing');
  const off = await appSend(a.access_token, 'PUT', '/v1/app/preferences', { quiet_hours: null });
  assert.equal(off.json.quiet_hours, null);
  assert.equal(off.json.min_amount, 1000000);
});

test('no endpoint reveals another user\'s data: 404 for their alerts and devices', async () => {
  const mine = await activated('chief1');
  const theirs = await activated('holder1');
  const uid = h.psql(db, "SELECT id FROM users WHERE dvctt_login = 'holder1'");
  const alertId = h.psql(db, `INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body) VALUES (${uid}, '1000001', '0011', 'balance.changed', 'vi', 'Riêng', 'Riêng tư') RETURNING id`);
  h.assertProblem(assert, await appGet(mine.access_token, `/v1/app/alerts/${alertId}`), 404, 'not_found');
  h.assertProblem(assert, await appSend(mine.access_token, 'POST', `/v1/app/alerts/${alertId}/read`), 404, 'not_found');
  assert.equal(h.psql(db, `SELECT read_at IS NULL FROM alerts WHERE id = ${alertId}`), 't');
  const list = await appGet(mine.access_token, '/v1/app/alerts?limit=100');
  assert.ok(!list.json.items.some((x) => x.id === Number(alertId)));
  h.assertProblem(assert, await appSend(mine.access_token, 'DELETE', `/v1/app/devices/${theirs.device_id}`), 404, 'not_found');
  assert.equal((await appGet(theirs.access_token, '/v1/app/me')).status, 200, 'their device still works');
  const devs = await appGet(mine.access_token, '/v1/app/devices');
  assert.ok(!devs.json.items.some((d) => d.id === theirs.device_id));
  h.assertProblem(assert, await appGet(mine.access_token, '/v1/app/alerts/999999999'), 404, 'not_found');
  h.assertProblem(assert, await appGet(mine.access_token, '/v1/app/alerts/-1'), 404, 'not_found');
});

test('revoking one of my devices, logout, expiry and deactivation all end the token (401)', async () => {
  const d1 = await activated('acct1');
  const d2 = await activated('acct1');
  assert.equal((await appSend(d1.access_token, 'DELETE', `/v1/app/devices/${d2.device_id}`)).status, 204);
  h.assertProblem(assert, await appGet(d2.access_token, '/v1/app/me'), 401, 'unauthorized');
  assert.equal(h.psql(db, `SELECT state || ' ' || state_reason FROM devices WHERE id = ${d2.device_id}`), 'revoked revoked_by_user');
  assert.equal((await appSend(d1.access_token, 'DELETE', '/v1/app/device')).status, 204);
  h.assertProblem(assert, await appGet(d1.access_token, '/v1/app/me'), 401, 'unauthorized');
  assert.equal(h.psql(db, `SELECT state || ' ' || state_reason || ' ' || (access_token_hash IS NULL) FROM devices WHERE id = ${d1.device_id}`), 'revoked logout true');
  const d3 = await activated('acct1');
  h.psql(db, `UPDATE devices SET access_token_expires_at = now() - interval '1 second' WHERE id = ${d3.device_id}`);
  h.assertProblem(assert, await appGet(d3.access_token, '/v1/app/me'), 401, 'unauthorized');
  const d4 = await activated('acct1');
  h.psql(db, "UPDATE users SET active = false, deactivated_at = now() WHERE dvctt_login = 'acct1'");
  h.assertProblem(assert, await appGet(d4.access_token, '/v1/app/me'), 401, 'unauthorized');
  h.psql(db, "UPDATE users SET active = true, deactivated_at = NULL WHERE dvctt_login = 'acct1'");
  h.assertProblem(assert, await appGet('at_' + 'x'.repeat(43), '/v1/app/me'), 401, 'unauthorized');
});

test('a push token belongs to one device: activating it for another user ends the old binding', async () => {
  const shared = device({ push_token: `shared-${process.pid}` });
  const a = await activated('holder1', shared);
  const b = await activated('holder2', shared);
  assert.equal(h.psql(db, `SELECT state || ' ' || state_reason FROM devices WHERE id = ${a.device_id}`), 'revoked push_token_reused');
  h.assertProblem(assert, await appGet(a.access_token, '/v1/app/me'), 401, 'unauthorized');
  assert.equal((await appGet(b.access_token, '/v1/app/me')).status, 200);
});

test('a device whose push token the provider rejected keeps its session and is active again with a new token', async () => {
  const a = await activated('acct1');
  const stateOf = () => h.psql(db, `SELECT state || ':' || COALESCE(state_reason, '-') FROM devices WHERE id = ${a.device_id}`);
  // as the dispatcher does on UNREGISTERED
  h.psql(db, `UPDATE devices SET state = 'token_invalid', state_reason = 'unregistered: fcm 404 UNREGISTERED' WHERE id = ${a.device_id}`);
  assert.equal((await appGet(a.access_token, '/v1/app/me')).status, 200, 'a dead push token is not a revoked session');
  const same = h.psql(db, `SELECT push_token FROM devices WHERE id = ${a.device_id}`);
  const hb1 = await appSend(a.access_token, 'PUT', '/v1/app/device', { push_token: same });
  assert.equal(hb1.status, 200, hb1.body);
  assert.equal(hb1.json.state, 'token_invalid', 'the rejected token does not revive the device');
  assert.equal(stateOf(), 'token_invalid:unregistered: fcm 404 UNREGISTERED');
  const hb2 = await appSend(a.access_token, 'PUT', '/v1/app/device', { push_token: `fresh-${process.pid}` });
  assert.equal(hb2.status, 200, hb2.body);
  assert.equal(hb2.json.state, 'active');
  assert.equal(stateOf(), 'active:new_push_token');
  assert.equal(h.psql(db, `SELECT string_agg(from_state || '>' || to_state, ',' ORDER BY id) FROM device_state_changes WHERE device_id = ${a.device_id} AND from_state IS NOT NULL`),
    'active>token_invalid,token_invalid>active');
  // a revoked device stays out
  h.psql(db, `UPDATE devices SET state = 'revoked', state_reason = 'logout' WHERE id = ${a.device_id}`);
  assert.equal((await appGet(a.access_token, '/v1/app/me')).status, 401);
});

test('a heartbeat cannot take another user\'s push token (409, audited); their phone keeps it', async () => {
  const victim = await activated('holder2', device({ push_token: `victim-${process.pid}` }));
  const attacker = await activated('acct1');
  const r = await appSend(attacker.access_token, 'PUT', '/v1/app/device', { push_token: `victim-${process.pid}` });
  h.assertProblem(assert, r, 409, 'conflict');
  assert.equal(h.psql(db, `SELECT state FROM devices WHERE id = ${victim.device_id}`), 'active');
  assert.equal((await appGet(victim.access_token, '/v1/app/me')).status, 200);
  assert.ok(Number(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'device.push_token_conflict' AND outcome = 'denied'")) >= 1);
  // moving a token between one's own devices is fine
  const second = await activated('acct1', device({ push_token: `own-${process.pid}` }));
  const move = await appSend(attacker.access_token, 'PUT', '/v1/app/device', { push_token: `own-${process.pid}` });
  assert.equal(move.status, 200, move.body);
  assert.equal(h.psql(db, `SELECT state_reason FROM devices WHERE id = ${second.device_id}`), 'push_token_reused');
});

test('admin requests are throttled per address before the database; an unauthenticated upload is refused before its body is read', async () => {
  const db2 = h.createDatabase('admrl');
  h.migrate(db2);
  const limited = await h.startServer({ db: db2, config: h.ingestConfig(db2, kek, { admin: { requests_per_ip_per_minute: 3 } }) });
  try {
    const codes = [];
    for (let i = 0; i < 5; i++) {
      codes.push((await h.request(limited.url, 'GET', '/v1/admin/events/unrouted', { headers: { authorization: `Bearer ak_${'x'.repeat(43)}` } })).status);
    }
    assert.deepEqual(codes, [401, 401, 401, 429, 429]);
    assert.equal(h.psql(db2, "SELECT count(*) FROM audit_log WHERE action = 'admin.request'"), '3', 'throttled attempts must not reach the audit log');
    // headers announcing 100 MB to the upload route, no credentials, no body sent: answered at once
    const reply = await new Promise((resolve, reject) => {
      const net = require('node:net');
      const s = net.connect(limited.port, '127.0.0.1', () => s.write('POST /v1/admin/roster HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000000\r\n\r\n'));
      let got = '';
      s.on('data', (d) => { got += d.toString(); if (got.includes('\r\n\r\n')) { s.destroy(); resolve(got); } });
      s.on('error', reject);
      setTimeout(() => { s.destroy(); resolve(got); }, 3000);
    });
    assert.match(reply, /^HTTP\/1\.1 (401|429) /);
  } finally {
    await limited.stop();
  }
});

test('admin routes refuse app tokens and app routes refuse admin keys', async () => {
  const d = await activated('holder1');
  h.assertProblem(assert, await h.request(srv.url, 'GET', '/v1/admin/events/unrouted', { headers: { authorization: `Bearer ${d.access_token}` } }), 401, 'unauthorized');
  h.assertProblem(assert, await h.request(srv.url, 'POST', '/v1/admin/users/holder1/activation-code', { headers: { authorization: `Bearer ${d.access_token}` } }), 401, 'unauthorized');
  h.assertProblem(assert, await appGet(adminKey, '/v1/app/me'), 401, 'unauthorized');
  h.assertProblem(assert, await appGet(adminKey, '/v1/app/alerts'), 401, 'unauthorized');
  h.assertProblem(assert, await h.request(srv.url, 'GET', '/v1/app/me'), 401, 'unauthorized');
});

test('install facts are queryable per unit and office: first/last seen and every state change', () => {
  const units = h.psql(db, 'SELECT unit_code, office_code, active_users, users_with_install > 0, covered FROM alertd_unit_coverage(30) ORDER BY 1');
  assert.match(units, /^1000001\|0011\|3\|t\|t$/m);
  assert.match(units, /^1000002\|0011\|1\|t\|t$/m);
  // a device not seen within the window no longer counts
  h.psql(db, "UPDATE devices SET last_seen_at = now() - interval '31 days' FROM users u WHERE u.id = devices.user_id AND u.unit_code = '1000002'");
  assert.match(h.psql(db, "SELECT covered FROM alertd_unit_coverage(30) WHERE unit_code = '1000002'"), /^f$/);
  assert.equal(h.psql(db, "SELECT units || '|' || covered_units || '|' || coverage FROM alertd_office_coverage(30) WHERE office_code = '0011'"), '2|1|0.5000');
  // every revocation above left a timestamped state change with its reason
  const reasons = h.psql(db, "SELECT string_agg(DISTINCT reason, ',' ORDER BY reason) FROM device_state_changes WHERE to_state = 'revoked' AND at IS NOT NULL");
  assert.equal(reasons, 'logout,push_token_reused,revoked_by_user');
});

test('repeated failed activations are one row per hour, user and address, audited once with the count; unknown logins are not kept', async () => {
  h.psql(db, "INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('agg1', '1000002', 'Vũ Thị Lan')");
  const auditBefore = Number(h.psql(db, 'SELECT count(*) FROM audit_log'));
  const unknownBefore = Number(h.psql(db, "SELECT COALESCE(sum(attempts), 0) FROM activation_failures WHERE user_id IS NULL AND ip = '127.0.0.1'"));
  const N = 7;
  for (let i = 0; i < N; i++) h.assertProblem(assert, await activate('agg1', 'ZZZZZZZZZZ'), 401, 'unauthorized');
  for (let i = 0; i < N; i++) h.assertProblem(assert, await activate(`nobody-${i}-guess`, 'ZZZZZZZZZZ'), 401, 'unauthorized');
  assert.equal(Number(h.psql(db, 'SELECT count(*) FROM audit_log')), auditBefore, 'a failure writes no audit row of its own');
  const rows = h.psql(db, `SELECT f.attempts || '|' || f.reasons::text || '|' || f.ip FROM activation_failures f JOIN users u ON u.id = f.user_id WHERE u.dvctt_login = 'agg1'`);
  assert.equal(rows, `${N}|{"no_code": ${N}}|127.0.0.1`);
  assert.equal(Number(h.psql(db, "SELECT sum(attempts) FROM activation_failures WHERE user_id IS NULL AND ip = '127.0.0.1'")), unknownBefore + N);
  assert.equal(h.psql(db, "SELECT count(*) FROM activation_failures WHERE user_id IS NULL AND ip = '127.0.0.1'"), '1');
  // once the hour is over, maintenance turns each row into one audit row with its counts
  h.psql(db, "UPDATE activation_failures SET window_start = window_start - interval '1 hour'");
  const m = cli(['maintenance']);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /activation_failures_audited [1-9]/);
  assert.equal(h.psql(db, 'SELECT count(*) FROM activation_failures'), '0');
  const audited = h.psql(db, `SELECT actor_id || '|' || outcome || '|' || ip || '|' || (details->>'attempts') || '|' || (details->'reasons')::text
    FROM audit_log WHERE action = 'activation.redeem' AND target = 'agg1'`);
  assert.equal(audited, `agg1|denied|127.0.0.1|${N}|{"no_code": ${N}}`);
  const unknown = h.psql(db, `SELECT (details->>'attempts')::int >= ${N} AND actor_id IS NULL AND details->>'reason' = 'repeated_failures'
    FROM audit_log WHERE action = 'activation.redeem' AND target IS NULL AND id > (SELECT max(id) - 10 FROM audit_log)`);
  assert.equal(unknown, 't');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE target LIKE 'nobody-%' OR actor_id LIKE 'nobody-%' OR details::text LIKE '%nobody-%'"), '0');
});

test('a global ceiling on activation attempts holds across logins and addresses (429 with Retry-After)', async () => {
  const db2 = h.createDatabase('appgl');
  h.migrate(db2);
  roster(db2);
  const limited = await h.startServer({ db: db2, config: h.ingestConfig(db2, kek, { app: { activation_global_per_minute: 3, activation_per_ip_per_minute: 1000, activation_per_login_per_minute: 1000 } }) });
  try {
    const codes = [];
    for (const login of ['holder1', 'chief1', 'acct1', 'holder2', 'unknown1']) {
      const r = await h.request(limited.url, 'POST', '/v1/app/activate', { headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, activation_code: 'ZZZZZZZZZZ', device: device() }) });
      codes.push(r.status);
      if (r.status === 429) {
        h.assertProblem(assert, r, 429, 'rate_limited');
        assert.ok(Number(r.headers['retry-after']) >= 1, r.headers['retry-after']);
      }
    }
    assert.deepEqual(codes, [401, 401, 401, 429, 429]);
    assert.equal(h.psql(db2, 'SELECT sum(attempts) FROM activation_failures'), '3', 'refused attempts reach no table');
  } finally {
    await limited.stop();
  }
});

test('a device token ends at its absolute lifetime: heartbeats never extend it past activation + app.token_max_lifetime_days', async () => {
  const d = await activated('holder1');
  // 175 days after activation a heartbeat extends the token only to activation + 180 days (not now + 90)
  h.psql(db, `UPDATE devices SET first_seen_at = now() - interval '175 days' WHERE id = ${d.device_id}`);
  const hb = await appSend(d.access_token, 'PUT', '/v1/app/device', { app_version: '1.2.0' });
  assert.equal(hb.status, 200, hb.body);
  const left = (Date.parse(hb.json.token_expires_at) - Date.now()) / 86400000;
  assert.ok(left > 4.9 && left < 5.01, String(left));
  assert.equal(h.psql(db, `SELECT access_token_expires_at = first_seen_at + interval '180 days' FROM devices WHERE id = ${d.device_id}`), 't');
  // past the lifetime the token is refused with a message to activate again, even if its stored expiry is ahead
  h.psql(db, `UPDATE devices SET first_seen_at = now() - interval '181 days', access_token_expires_at = now() + interval '30 days' WHERE id = ${d.device_id}`);
  const r = await appGet(d.access_token, '/v1/app/me');
  h.assertProblem(assert, r, 401, 'unauthorized');
  assert.match(r.json.detail, /maximum lifetime; activate the app again with a new code/);
  h.assertProblem(assert, await appSend(d.access_token, 'PUT', '/v1/app/device', { app_version: '1.3.0' }), 401, 'unauthorized');
  assert.equal(h.psql(db, `SELECT app_version FROM devices WHERE id = ${d.device_id}`), '1.2.0');
  // other refusals keep the plain answer
  const other = await appGet('at_' + 'y'.repeat(43), '/v1/app/me');
  h.assertProblem(assert, other, 401, 'unauthorized');
  assert.doesNotMatch(other.json.detail || '', /lifetime/);
});

test('an activation gets a token no longer than the lifetime when that is shorter than app.token_ttl_days', async () => {
  const db2 = h.createDatabase('applt');
  h.migrate(db2);
  roster(db2);
  const short = await h.startServer({ db: db2, config: h.ingestConfig(db2, kek, { app: { token_max_lifetime_days: 30 } }) });
  try {
    const c = h.runAlertd(['activation-code', 'acct1', '--config', h.writeConfig(h.ingestConfig(db2, kek))]);
    assert.equal(c.code, 0, c.stderr);
    const code = c.stdout.match(/activation code: (\w{5})-(\w{5})/).slice(1).join('');
    const r = await h.request(short.url, 'POST', '/v1/app/activate', { headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'acct1', activation_code: code, device: device() }) });
    assert.equal(r.status, 201, r.body);
    const days = (Date.parse(r.json.expires_at) - Date.now()) / 86400000;
    assert.ok(days > 29.9 && days <= 30, String(days));
  } finally {
    await short.stop();
  }
});
