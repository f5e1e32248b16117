'use strict';
// staff_data.test.js - the staff data routes of issue 12 over real HTTP:
// step-up re-authentication (good, wrong password counted, replayed code,
// stale after auth.reauth_seconds, lock), the personal-data look-up quotas
// per minute and per Vietnam day (429 shape, Retry-After, nothing shown,
// counters unchanged, audit rows of who looked at whom and of the refusal,
// the WARN line), a unit's detail on a small hand-built roster, its users
// exported as CSV and XLSX (opened with python3's zipfile), risk alerts
// with their filters and keyset cursor, the audit log for admins only and
// within their subtree, 404s across offices and 422s for bad parameters.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./harness');
const { totp } = require('./totp');

let db, kek, srv;
const PASSWORD = 'Tr3asury!Kv9x';
const PER_MINUTE = 12;
const PER_DAY = 1000;
const METRICS_TOKEN = 'staff-data-metrics-token';

function cli(args) {
  return h.runAlertd([...args, '--config', h.writeConfig(h.ingestConfig(db, kek))]);
}
function cookieOf(r) {
  return r.headers['set-cookie'][0].split(';')[0];
}
function call(s, method, p, body) {
  const headers = { cookie: s.cookie };
  if (method !== 'GET') headers['x-csrf-token'] = s.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return h.request(srv.url, method, p, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
// An account of office with role, its temporary password changed and TOTP confirmed: its secret, codes, session.
async function enrolled(login, office, role) {
  const r = cli(['staff', 'add', login, '--office', office, '--role', role]);
  assert.equal(r.code, 0, r.stderr);
  const temp = r.stdout.match(/^temporary password: (\S+)$/m)[1];
  const si = await h.request(srv.url, 'POST', '/v1/staff/session', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: temp }) });
  assert.equal(si.status, 201, si.body);
  let s = { cookie: cookieOf(si), csrf: si.json.csrf_token };
  const pw = await call(s, 'POST', '/v1/staff/password', { current_password: temp, new_password: PASSWORD });
  assert.equal(pw.status, 200, pw.body);
  s = { cookie: cookieOf(pw), csrf: pw.json.csrf_token };
  const e = await call(s, 'POST', '/v1/staff/totp/enrol');
  assert.equal(e.status, 201, e.body);
  const c = await call(s, 'POST', '/v1/staff/totp/confirm', { code: totp(e.json.secret) });
  assert.equal(c.status, 200, c.body);
  return { login, secret: e.json.secret, recovery: c.json.recovery_codes, session: { cookie: cookieOf(c), csrf: c.json.csrf_token } };
}
function q(sql) {
  return h.psql(db, sql);
}
function auditRows(actor, action) {
  return q(`SELECT outcome || ' ' || coalesce(target, '-') || ' ' || details::text FROM audit_log WHERE actor_id = '${actor}' AND action = '${action}' ORDER BY id`).split('\n').filter(Boolean);
}
function counters(login) {
  return q(`SELECT window_kind || '=' || looked_up FROM staff_lookup_counts WHERE principal = 'staff:${login}' ORDER BY window_kind, window_start`).split('\n').filter(Boolean);
}
// Wait until at least `need` seconds remain in the current minute, so a per-minute test stays in one window.
async function roomInMinute(need) {
  while (60 - (Date.now() / 1000) % 60 < need) await h.sleep(250);
}

let ids = {};
test.before(async () => {
  db = h.createDatabase('staffdata');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0012', 'KBNN khu vực II', '0001', 2);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3);
    INSERT INTO budget_units (code, name, office_code, contact_email, contact_phone) VALUES
      ('1000001', 'Trường Tiểu học Hoà Bình', '0111', 'thhb@example.vn', '0241234567'),
      ('1000002', 'Bệnh viện Đa khoa Tỉnh', '0012', NULL, NULL);
    INSERT INTO users (dvctt_login, unit_code, full_name, email, phone) VALUES
      ('hb.holder', '1000001', 'Nguyễn Thị Hồng', 'hong@example.vn', '0912345678'),
      ('hb.chief', '1000001', 'Trần Văn Bình', NULL, '0987654321'),
      ('hb.acct', '1000001', '=HYPERLINK("http://x","y")', NULL, NULL),
      ('bv.holder', '1000002', 'Lê Thị Mai', NULL, NULL);
    INSERT INTO users (dvctt_login, unit_code, full_name, active, deactivated_at) VALUES ('hb.gone', '1000001', 'Phạm Cũ', false, now());
    INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login IN ('hb.holder', 'bv.holder');
    INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login = 'hb.chief';
    INSERT INTO user_roles SELECT id, 'accountant' FROM users WHERE dvctt_login IN ('hb.acct', 'hb.chief');
    INSERT INTO activation_codes (user_id, code_hash, expires_at, used_at, created_by)
      SELECT id, sha256('a'::bytea), now() + interval '1 day', now(), 'test' FROM users WHERE dvctt_login = 'hb.holder';
    INSERT INTO activation_codes (user_id, code_hash, expires_at, created_by)
      SELECT id, sha256('b'::bytea), now() + interval '1 day', 'test' FROM users WHERE dvctt_login = 'hb.chief';
    INSERT INTO devices (user_id, platform, push_token, model, app_version, last_seen_at)
      SELECT id, 'android', 'tok-holder', 'Pixel 7', '1.2.0', now() - interval '1 day' FROM users WHERE dvctt_login = 'hb.holder';
    INSERT INTO devices (user_id, platform, push_token, state, state_reason, model, last_seen_at)
      SELECT id, 'ios', 'tok-chief', 'token_invalid', 'Unregistered', 'iPhone 13', now() - interval '2 days' FROM users WHERE dvctt_login = 'hb.chief';
    INSERT INTO devices (user_id, platform, push_token, model, last_seen_at)
      SELECT id, 'android', 'tok-old', 'Galaxy A5', now() - interval '40 days' FROM users WHERE dvctt_login = 'hb.chief';`);
  for (const l of ['hb.holder', 'hb.chief', 'hb.acct', 'hb.gone', 'bv.holder']) ids[l] = Number(q(`SELECT id FROM users WHERE dvctt_login = '${l}'`));
  ids.devHolder = Number(q(`SELECT id FROM devices WHERE push_token = 'tok-holder'`));
  ids.devChief = Number(q(`SELECT id FROM devices WHERE push_token = 'tok-chief'`));
  ids.devOld = Number(q(`SELECT id FROM devices WHERE push_token = 'tok-old'`));
  // risk alerts: event 101 (large_amount, two users, one delivered), 102 (rapid_repeat), 103 in the other region
  q(`INSERT INTO alerts (event_id, event_occurred_at, user_id, unit_code, office_code, kind, severity, risk_rule, lang, title, body, created_at)
      SELECT 101, '2026-01-10 09:59+07', id, '1000001', '0111', 'risk.large_amount', 'risk', 'large_amount', 'vi', 'Giao dịch lớn', 'b', '2026-01-10 10:00+07'
        FROM users WHERE dvctt_login IN ('hb.holder', 'hb.chief');
    INSERT INTO alerts (event_id, event_occurred_at, user_id, unit_code, office_code, kind, severity, risk_rule, lang, title, body, created_at)
      SELECT 102, '2026-02-10 08:00+07', id, '1000001', '0111', 'risk.rapid_repeat', 'risk', 'rapid_repeat', 'vi', 'Lặp lại nhanh', 'b', '2026-02-10 08:01+07'
        FROM users WHERE dvctt_login = 'hb.holder';
    INSERT INTO alerts (event_id, event_occurred_at, user_id, unit_code, office_code, kind, severity, risk_rule, lang, title, body, created_at)
      SELECT 103, '2026-02-11 08:00+07', id, '1000002', '0012', 'risk.large_amount', 'risk', 'large_amount', 'vi', 'Giao dịch lớn', 'b', '2026-02-11 08:01+07'
        FROM users WHERE dvctt_login = 'bv.holder';
    INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body, created_at)
      SELECT id, '1000001', '0111', 'device.new', 'vi', 'Thiết bị mới', 'b', '2026-02-12 09:00+07' FROM users WHERE dvctt_login = 'hb.holder';
    INSERT INTO push_outbox (alert_id, device_id, provider, state, attempts, sent_at)
      SELECT a.id, ${ids.devHolder}, 'fcm', 'sent', 1, '2026-01-10 10:00:05+07' FROM alerts a WHERE a.event_id = 101 AND a.user_id = ${ids['hb.holder']};
    INSERT INTO push_outbox (alert_id, device_id, provider, state, attempts, last_error)
      SELECT a.id, ${ids.devChief}, 'apns', 'failed', 3, 'Unregistered' FROM alerts a WHERE a.event_id = 101 AND a.user_id = ${ids['hb.chief']};`);
  srv = await h.startServer({
    db,
    config: h.ingestConfig(db, kek, {
      auth: { reauth_seconds: 2, signin_per_ip_per_minute: 10000, lockout_seconds: 60 },
      staff: { lookups_per_minute: PER_MINUTE, lookups_per_day: PER_DAY },
      metrics: { token_sha256: crypto.createHash('sha256').update(METRICS_TOKEN).digest('hex') },
    }),
  });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('unit detail: users, roles, devices with state and reachability, activation, coverage, recent alerts with deliveries; audited as who looked at whom', async () => {
  const a = await enrolled('op.one', '0011', 'operator');
  const r = await call(a.session, 'GET', '/v1/staff/units/1000001');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['cache-control'], 'no-store');
  // the last coverage refresh (serve runs one at start-up) gives the shared-phone flag and the 30 days' volume
  assert.match(r.json.unit.computed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual({ ...r.json.unit, computed_at: undefined }, {
    computed_at: undefined, shared_phone: false, volume_30d: '0',
    code: '1000001', name: 'Trường Tiểu học Hoà Bình', office_code: '0111', office_name: 'Phòng giao dịch số 1',
    contact_email: 'thhb@example.vn', contact_phone: '0241234567', active: true,
    // the holder is covered, the chief's devices are a rejected token and one not seen for 40 days: partial
    status: 'partial', missing_roles: ['chief_accountant'], users: 3, covered_users: 1, holders: 1, holders_covered: 1,
    chiefs: 1, chiefs_covered: 0, reachable_devices: 1, unreachable_devices: 2, ever_installed: true,
  });
  const users = Object.fromEntries(r.json.users.map((u) => [u.login, u]));
  assert.deepEqual(r.json.users.map((u) => u.login), ['hb.acct', 'hb.chief', 'hb.holder', 'hb.gone']);
  assert.deepEqual({ ...users['hb.holder'], devices: undefined }, {
    id: ids['hb.holder'], login: 'hb.holder', full_name: 'Nguyễn Thị Hồng', roles: ['account_holder'], email: 'hong@example.vn',
    phone: '0912345678', active: true, covered: true, activation: 'used', devices: undefined,
  });
  assert.equal(users['hb.holder'].devices.length, 1);
  const d = users['hb.holder'].devices[0];
  assert.deepEqual({ ...d, first_seen_at: undefined, last_seen_at: undefined }, {
    id: ids.devHolder, platform: 'android', state: 'active', state_reason: null, model: 'Pixel 7', app_version: '1.2.0', reachable: true,
    first_seen_at: undefined, last_seen_at: undefined,
  });
  assert.match(d.last_seen_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(users['hb.chief'].roles, ['chief_accountant', 'accountant']);
  assert.equal(users['hb.chief'].activation, 'pending');
  assert.equal(users['hb.chief'].covered, false);
  assert.deepEqual(users['hb.chief'].devices.map((x) => [x.id, x.state, x.state_reason, x.reachable]),
    [[ids.devChief, 'token_invalid', 'Unregistered', false], [ids.devOld, 'active', null, false]]);
  assert.equal(users['hb.acct'].activation, 'none');
  assert.deepEqual(users['hb.acct'].devices, []);
  assert.equal(users['hb.gone'].active, false);
  // recent alerts, newest first, with each device's delivery outcome
  const ra = r.json.recent_alerts;
  assert.deepEqual(ra.slice(0, 2).map((x) => [x.kind, x.user_login, x.risk_rule, x.severity]), [
    ['device.new', 'hb.holder', null, 'info'], ['risk.rapid_repeat', 'hb.holder', 'rapid_repeat', 'risk'],
  ]);
  assert.ok(ra[0].id > ra[1].id && ra[1].id > ra[2].id && ra[2].id > ra[3].id);
  const big = Object.fromEntries(ra.slice(2).map((x) => [x.user_login, x]));
  assert.deepEqual(Object.keys(big).sort(), ['hb.chief', 'hb.holder']);
  assert.deepEqual(big['hb.chief'].deliveries, [{ device_id: ids.devChief, state: 'failed', reason: 'Unregistered', attempts: 3, sent_at: null }]);
  assert.deepEqual(big['hb.holder'].deliveries, [{ device_id: ids.devHolder, state: 'sent', reason: null, attempts: 1, sent_at: '2026-01-10T03:00:05Z' }]);
  assert.equal(big['hb.holder'].title, 'Giao dịch lớn');
  assert.equal(big['hb.holder'].created_at, '2026-01-10T03:00:00Z');
  assert.deepEqual(ra[0].deliveries, []);
  // who looked at whom: the unit and the four users shown
  const rows = auditRows('op.one', 'staff.lookup');
  assert.equal(rows.length, 1);
  const [outcome, target, ...json] = rows[0].split(' ');
  assert.equal(outcome, 'ok');
  assert.equal(target, '1000001');
  const det = JSON.parse(json.join(' '));
  assert.deepEqual({ ...det, user_ids: det.user_ids.sort() }, {
    what: 'unit_detail', people: 4, office: '0011',
    user_ids: [ids['hb.acct'], ids['hb.chief'], ids['hb.holder'], ids['hb.gone']].sort(),
  });
  assert.deepEqual(counters('op.one'), ['day=4', 'minute=4']);
});

test('404s: another region\'s unit, an unknown one and a malformed code are the same answer, counted nowhere; central sees all', async () => {
  const a = await enrolled('op.two', '0011', 'operator');
  for (const p of ['/v1/staff/units/1000002', '/v1/staff/units/9999999', '/v1/staff/units/abc', '/v1/staff/units/1000002/users.csv',
    '/v1/staff/units/1000002/users.xlsx', '/v1/staff/risk-alerts?office=0012', '/v1/staff/risk-alerts?office=ZZZZ', '/v1/staff/risk-alerts?office=00000000000000000000']) {
    const r = await call(a.session, 'GET', p);
    h.assertProblem(assert, r, 404, 'not_found');
  }
  assert.deepEqual(counters('op.two'), []);
  assert.deepEqual(auditRows('op.two', 'staff.lookup'), []);
  const c = await enrolled('ce.one', '0001', 'viewer');
  const r = await call(c.session, 'GET', '/v1/staff/units/1000002');
  assert.equal(r.status, 200, r.body);
  // its holder has no device and nobody is its chief accountant
  assert.equal(r.json.unit.status, 'unprotected');
  assert.deepEqual(r.json.unit.missing_roles, ['account_holder', 'chief_accountant']);
  assert.deepEqual(r.json.recent_alerts.map((x) => x.risk_rule), ['large_amount']);
});

// the cells of an XLSX as python3's zipfile and ElementTree read them (tests/unit/xlsx_cells.py)
function xlsxCells(buf) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staffdata-'));
  const f = path.join(dir, 'x.xlsx');
  fs.writeFileSync(f, buf);
  try {
    return execFileSync('python3', [path.join(__dirname, '..', 'unit', 'xlsx_cells.py'), f], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
function raw(s, p) {
  return new Promise((resolve, reject) => {
    const http = require('node:http');
    const req = http.request(srv.url + p, { headers: { cookie: s.cookie } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('re-authentication: exports need it; a wrong password counts toward lockout; a replayed code is refused; it goes stale after auth.reauth_seconds', async () => {
  const a = await enrolled('ex.one', '0011', 'operator');
  const s = a.session;
  // no re-authentication yet: 403 reauth_required, nothing counted
  h.assertProblem(assert, await call(s, 'GET', '/v1/staff/units/1000001/users.csv'), 403, 'reauth_required');
  assert.deepEqual(counters('ex.one'), []);
  // input: a password is required, one code at most, no unknown fields; a GET is not the route
  h.assertProblem(assert, await call(s, 'POST', '/v1/staff/reauth', { totp_code: '123456' }), 422, 'validation_failed');
  h.assertProblem(assert, await call(s, 'POST', '/v1/staff/reauth', { password: PASSWORD, totp_code: '1', recovery_code: 'x' }), 422, 'validation_failed');
  h.assertProblem(assert, await call(s, 'POST', '/v1/staff/reauth', { password: PASSWORD, remember: true }), 422, 'validation_failed');
  // CSRF applies
  h.assertProblem(assert, await h.request(srv.url, 'POST', '/v1/staff/reauth', { headers: { cookie: s.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD, totp_code: totp(a.secret, 1) }) }), 403, 'csrf_failed');
  // a wrong password: refused, counted, audited
  let r = await call(s, 'POST', '/v1/staff/reauth', { password: 'Wr0ng!Password', totp_code: totp(a.secret, 1) });
  h.assertProblem(assert, r, 403, 'forbidden');
  assert.equal(q(`SELECT failed_logins FROM staff WHERE username = 'ex.one'`), '1');
  // the right password without a code (TOTP is enrolled): refused and counted too
  h.assertProblem(assert, await call(s, 'POST', '/v1/staff/reauth', { password: PASSWORD }), 403, 'forbidden');
  assert.equal(q(`SELECT failed_logins FROM staff WHERE username = 'ex.one'`), '2');
  h.assertProblem(assert, await call(s, 'GET', '/v1/staff/units/1000001/users.csv'), 403, 'reauth_required');
  // the next step's code: 204, the session stamped, the failures cleared
  const code = totp(a.secret, 1);
  r = await call(s, 'POST', '/v1/staff/reauth', { password: PASSWORD, totp_code: code });
  assert.equal(r.status, 204, r.body);
  assert.equal(q(`SELECT failed_logins FROM staff WHERE username = 'ex.one'`), '0');
  assert.equal(q(`SELECT count(*) FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id WHERE s.username = 'ex.one' AND ss.reauth_at > now() - interval '10 seconds' AND ss.revoked_at IS NULL`), '1');
  // the same code again: replayed
  h.assertProblem(assert, await call(s, 'POST', '/v1/staff/reauth', { password: PASSWORD, totp_code: code }), 403, 'forbidden');
  assert.deepEqual(q(`SELECT outcome || ' ' || details::text FROM audit_log WHERE action = 'staff.reauth' AND actor_id = 'ex.one' ORDER BY id`).split('\n'), [
    'denied {"locked": false, "reason": "wrong_password"}',
    'denied {"locked": false, "reason": "code_missing"}',
    'ok {"factor": "totp"}',
    'denied {"locked": false, "reason": "replayed_code"}',
  ]);
  // fresh: the CSV of the unit's users (BOM, quoted, neutralised), counted by its rows
  const csv = await raw(s, '/v1/staff/units/1000001/users.csv');
  assert.equal(csv.status, 200, csv.body.toString());
  assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
  assert.equal(csv.headers['content-disposition'], 'attachment; filename="unit-1000001-users.csv"');
  assert.equal(csv.headers['cache-control'], 'no-store');
  const text = csv.body.toString('utf8');
  assert.ok(csv.body.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])));
  assert.deepEqual(text.slice(1).split('\r\n'), [
    '"login","full_name","roles","email","phone","active","covered","activation","devices","reachable_devices"',
    '"hb.acct","\'=HYPERLINK(""http://x"",""y"")","accountant","","","yes","no","none","0","0"',
    '"hb.chief","Trần Văn Bình","chief_accountant accountant","","0987654321","yes","no","pending","2","0"',
    '"hb.holder","Nguyễn Thị Hồng","account_holder","hong@example.vn","0912345678","yes","yes","used","1","1"',
    '"hb.gone","Phạm Cũ","","","","no","no","none","0","0"',
    '',
  ]);
  assert.deepEqual(counters('ex.one'), ['day=4', 'minute=4']);
  const rows = auditRows('ex.one', 'staff.lookup');
  assert.equal(rows.length, 1);
  assert.match(rows[0], /^ok 1000001 /);
  const det = JSON.parse(rows[0].slice('ok 1000001 '.length));
  assert.equal(det.what, 'unit_users_export');
  assert.equal(det.people, 4);
  assert.equal(det.user_ids.length, 4);
  // the XLSX: a workbook python's zipfile opens, every cell a string, the formula neutralised, none written
  const x = await raw(s, '/v1/staff/units/1000001/users.xlsx');
  assert.equal(x.status, 200, x.body.toString());
  assert.equal(x.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  const cells = xlsxCells(x.body).split('\n');
  assert.equal(cells[0], 'sheet\t1000001');
  assert.ok(cells.includes('B2\tstr\t\'=HYPERLINK("http://x","y")'), cells.join('\n'));
  assert.ok(cells.includes('B3\tstr\tTrần Văn Bình'));
  assert.ok(cells.includes('E4\tstr\t0912345678'));
  assert.ok(cells.includes('formulas\t0'));
  assert.ok(cells.every((c) => !/^[A-Z]+\d+\t/.test(c) || /\tstr\t/.test(c)));
  assert.deepEqual(counters('ex.one'), ['day=8', 'minute=8']);
  // stale once auth.reauth_seconds (2 here) have passed
  await h.sleep(2300);
  h.assertProblem(assert, await call(s, 'GET', '/v1/staff/units/1000001/users.xlsx'), 403, 'reauth_required');
  // a recovery code re-authenticates too
  r = await call(s, 'POST', '/v1/staff/reauth', { password: PASSWORD, recovery_code: a.recovery[0] });
  assert.equal(r.status, 204, r.body);
  assert.equal((await raw(s, '/v1/staff/units/1000001/users.csv')).status, 200);
});

test('re-authentication: the wrong password that reaches auth.lockout_failures locks the account and ends its sessions', async () => {
  const a = await enrolled('lk.one', '0011', 'viewer');
  for (let i = 0; i < 4; i++) h.assertProblem(assert, await call(a.session, 'POST', '/v1/staff/reauth', { password: 'Wr0ng!Password' }), 403, 'forbidden');
  assert.equal((await call(a.session, 'GET', '/v1/staff/me')).status, 200);
  h.assertProblem(assert, await call(a.session, 'POST', '/v1/staff/reauth', { password: 'Wr0ng!Password' }), 403, 'forbidden');
  assert.equal(q(`SELECT locked_until > now() FROM staff WHERE username = 'lk.one'`), 't');
  h.assertProblem(assert, await call(a.session, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  assert.match(auditRows('lk.one', 'staff.reauth').at(-1), /"locked": true/);
});

test('quota per minute: the look-up past staff.lookups_per_minute gets 429 with Retry-After, shows nothing, counts nothing, is audited and logged', async () => {
  const a = await enrolled('qm.one', '0011', 'viewer');
  await roomInMinute(15);
  // each view shows 4 people: 4, 8, 12 fit in 12 a minute, the fourth does not
  for (let i = 0; i < PER_MINUTE / 4; i++) assert.equal((await call(a.session, 'GET', '/v1/staff/units/1000001')).status, 200);
  const r = await call(a.session, 'GET', '/v1/staff/units/1000001');
  h.assertProblem(assert, r, 429, 'lookup_quota_exceeded');
  assert.equal(r.headers['content-type'], 'application/problem+json');
  const retry = Number(r.headers['retry-after']);
  assert.ok(retry >= 1 && retry <= 60, r.headers['retry-after']);
  assert.equal(r.json.window, 'minute');
  assert.equal(r.json.limit, PER_MINUTE);
  assert.equal(r.json.retry_after, retry);
  assert.equal(r.json.users, undefined);
  assert.doesNotMatch(r.body, /Nguyễn|hb\.holder|0912345678/);
  assert.deepEqual(counters('qm.one'), [`day=${PER_MINUTE}`, `minute=${PER_MINUTE}`]);
  const denied = auditRows('qm.one', 'staff.lookup_quota_exceeded');
  assert.equal(denied.length, 1);
  const [outcome, target, ...json] = denied[0].split(' ');
  assert.equal(outcome, 'denied');
  assert.equal(target, '1000001');
  assert.deepEqual({ ...JSON.parse(json.join(' ')), user_ids: undefined }, { what: 'unit_detail', people: 4, office: '0011', window: 'minute', limit: PER_MINUTE, used: PER_MINUTE, user_ids: undefined });
  assert.equal(auditRows('qm.one', 'staff.lookup').length, PER_MINUTE / 4);
  // the alerting event: a WARN line naming the login and office, and the metric
  await h.eventually(() => /personal-data look-up quota exceeded/.test(srv.logs()) || undefined);
  const line = srv.logs().split('\n').find((l) => l.includes('personal-data look-up quota exceeded') && l.includes('qm.one'));
  assert.ok(line, srv.logs());
  const log = JSON.parse(line);
  assert.equal(log.level, 'warn');
  assert.equal(log.login, 'qm.one');
  assert.equal(log.office, '0011');
  const m = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(m.status, 200);
  assert.match(m.body, /^alertd_staff_lookup_quota_exceeded_total [1-9]/m);
  // a unit that shows nobody is not refused; nor is a look-up in another principal's quota
  const other = await enrolled('qm.two', '0011', 'viewer');
  assert.equal((await call(other.session, 'GET', '/v1/staff/units/1000001')).status, 200);
});

test('quota per minute across two instances at once: exactly as many look-ups pass as the quota holds', async () => {
  const a = await enrolled('qc.one', '0011', 'viewer');
  const srv2 = await h.startServer({ db, config: h.ingestConfig(db, kek, { staff: { lookups_per_minute: PER_MINUTE, lookups_per_day: PER_DAY } }) });
  try {
    await roomInMinute(15);
    const get = (server) => h.request(server.url, 'GET', '/v1/staff/units/1000001', { headers: { cookie: a.session.cookie } });
    // one view first, so that the window's rows exist and the race is on their lock, not on their insert
    assert.equal((await get(srv2)).status, 200);
    // then sixteen views of four people each, eight on each instance, all at once: 8 left let two through
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => get(i % 2 ? srv2 : srv)));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((x) => x === 200).length, 2, statuses.join(' '));
    assert.equal(statuses.filter((x) => x === 429).length, 14, statuses.join(' '));
    assert.deepEqual(counters('qc.one'), [`day=${PER_MINUTE}`, `minute=${PER_MINUTE}`]);
    assert.equal(auditRows('qc.one', 'staff.lookup').length, 3);
    assert.equal(auditRows('qc.one', 'staff.lookup_quota_exceeded').length, 14);
  } finally {
    await srv2.stop();
  }
});

test('quota per day: counted in PostgreSQL, shared by every instance; the day window refuses with a Retry-After to Vietnam midnight', async () => {
  const a = await enrolled('qd.one', '0011', 'viewer');
  // what another instance counted earlier today
  q(`INSERT INTO staff_lookup_counts (principal, window_kind, window_start, looked_up)
      VALUES ('staff:qd.one', 'day', date_trunc('day', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'Asia/Ho_Chi_Minh', ${PER_DAY - 5})`);
  assert.equal((await call(a.session, 'GET', '/v1/staff/units/1000001')).status, 200);
  const r = await call(a.session, 'GET', '/v1/staff/units/1000001');
  h.assertProblem(assert, r, 429, 'lookup_quota_exceeded');
  assert.equal(r.json.window, 'day');
  assert.equal(r.json.limit, PER_DAY);
  const retry = Number(r.headers['retry-after']);
  const vnNow = new Date(Date.now() + 7 * 3600e3);
  const toMidnight = 86400 - (vnNow.getUTCHours() * 3600 + vnNow.getUTCMinutes() * 60 + vnNow.getUTCSeconds());
  assert.ok(Math.abs(retry - toMidnight) <= 3, `${retry} vs ${toMidnight}`);
  assert.deepEqual(counters('qd.one'), [`day=${PER_DAY - 1}`, 'minute=4']);
  assert.match(auditRows('qd.one', 'staff.lookup_quota_exceeded')[0], /"window": "day"/);
  // ended windows are cleaned up by the maintenance job's statement
  q(`INSERT INTO staff_lookup_counts (principal, window_kind, window_start, looked_up) VALUES
      ('staff:qd.one', 'minute', now() - interval '10 minutes', 3), ('staff:qd.one', 'day', now() - interval '3 days', 7)`);
  const m = cli(['maintenance']);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(q(`SELECT count(*) FROM staff_lookup_counts WHERE principal = 'staff:qd.one'`), '2');
});

test('risk alerts: one row per event and rule in the caller\'s subtree, newest first; rule, office and day filters; keyset cursor', async () => {
  const a = await enrolled('ra.one', '0011', 'viewer');
  let r = await call(a.session, 'GET', '/v1/staff/risk-alerts');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, {
    alerts: [
      { event_id: 102, rule: 'rapid_repeat', unit_code: '1000001', unit_name: 'Trường Tiểu học Hoà Bình', office_code: '0111', occurred_at: '2026-02-10T01:00:00Z', created_at: '2026-02-10T01:01:00Z', users_alerted: 1, delivered_users: 0 },
      { event_id: 101, rule: 'large_amount', unit_code: '1000001', unit_name: 'Trường Tiểu học Hoà Bình', office_code: '0111', occurred_at: '2026-01-10T02:59:00Z', created_at: '2026-01-10T03:00:00Z', users_alerted: 2, delivered_users: 1 },
    ],
    next_cursor: null,
  });
  const events = async (qs, s = a.session) => {
    const x = await call(s, 'GET', `/v1/staff/risk-alerts${qs}`);
    assert.equal(x.status, 200, x.body);
    return x.json.alerts.map((e) => e.event_id);
  };
  assert.deepEqual(await events('?rule=large_amount'), [101]);
  assert.deepEqual(await events('?rule=signature_gap'), []);
  assert.deepEqual(await events('?office=0111'), [102, 101]);
  assert.deepEqual(await events('?office=0011&rule=rapid_repeat'), [102]);
  assert.deepEqual(await events('?from=2026-02-01'), [102]);
  assert.deepEqual(await events('?to=2026-01-31'), [101]);
  // Vietnam days: 2026-01-10 10:00 +07 is on the 10th, not the 9th
  assert.deepEqual(await events('?from=2026-01-10&to=2026-01-10'), [101]);
  assert.deepEqual(await events('?from=2026-01-11&to=2026-02-09'), []);
  // pages of one
  r = await call(a.session, 'GET', '/v1/staff/risk-alerts?limit=1');
  assert.deepEqual(r.json.alerts.map((e) => e.event_id), [102]);
  assert.equal(r.json.next_cursor, '102:rapid_repeat');
  r = await call(a.session, 'GET', `/v1/staff/risk-alerts?limit=1&cursor=${encodeURIComponent(r.json.next_cursor)}`);
  assert.deepEqual(r.json.alerts.map((e) => e.event_id), [101]);
  assert.equal(r.json.next_cursor, null);
  // the central office sees the other region's event too
  const c = await enrolled('ra.central', '0001', 'viewer');
  assert.deepEqual(await events('', c.session), [103, 102, 101]);
  assert.deepEqual(await events('?office=0012', c.session), [103]);
  // bad parameters
  for (const qs of ['?rule=Large', '?rule=a%20b', '?from=2026-02-30', '?from=26-01-01', '?to=2026-13-01', '?from=2026-02-02&to=2026-02-01',
    '?limit=0', '?limit=201', '?limit=x', '?cursor=abc', '?cursor=101', '?cursor=0:large_amount', '?cursor=101:BAD']) {
    const x = await call(a.session, 'GET', `/v1/staff/risk-alerts${qs}`);
    h.assertProblem(assert, x, 422, 'validation_failed');
  }
  // risk alerts name no people: not metered
  assert.deepEqual(counters('ra.one'), []);
});

test('audit: admins only; an admin reads the entries of staff in their subtree, the central admin every entry; filters and cursor', async () => {
  const viewer = await enrolled('au.viewer', '0111', 'viewer');
  const op = await enrolled('au.op', '0011', 'operator');
  h.assertProblem(assert, await call(viewer.session, 'GET', '/v1/staff/audit'), 403, 'forbidden');
  h.assertProblem(assert, await call(op.session, 'GET', '/v1/staff/audit'), 403, 'forbidden');
  const reg = await enrolled('au.admin', '0011', 'admin');
  const other = await enrolled('au.admin2', '0012', 'admin');
  const central = await enrolled('au.central', '0001', 'admin');
  const all = async (s, qs = '') => {
    const out = [];
    let cursor = null;
    do {
      const x = await call(s, 'GET', `/v1/staff/audit?limit=200${qs}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(x.status, 200, x.body);
      out.push(...x.json.entries);
      cursor = x.json.next_cursor;
    } while (cursor);
    return out;
  };
  const regional = await all(reg.session);
  const actors = new Set(regional.map((e) => `${e.actor_kind}:${e.actor_id}`));
  // staff of 0011 and of 0111 below it; not 0012's admin, not the central one, not the CLI
  for (const x of ['staff:au.viewer', 'staff:au.op', 'staff:au.admin', 'staff:op.one', 'staff:qm.one']) assert.ok(actors.has(x), x);
  for (const x of ['staff:au.admin2', 'staff:au.central', 'staff:ce.one', 'staff:ra.central']) assert.ok(!actors.has(x), x);
  assert.ok([...actors].every((x) => x.startsWith('staff:')));
  // the quota refusal of 0011's viewer is there for its admin
  const alert = regional.find((e) => e.action === 'staff.lookup_quota_exceeded' && e.actor_id === 'qm.one');
  assert.ok(alert);
  assert.equal(alert.outcome, 'denied');
  assert.equal(alert.target, '1000001');
  assert.equal(alert.details.window, 'minute');
  assert.match(alert.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(typeof alert.id, 'number');
  assert.ok('ip' in alert);
  const otherActors = new Set((await all(other.session)).map((e) => e.actor_id));
  assert.deepEqual([...otherActors], ['au.admin2']);
  // the central admin sees every entry, the CLI's and the unknown logins' included
  const every = await all(central.session);
  // (reading the audit log writes no entry, so nothing was added meanwhile)
  assert.equal(every.length, Number(q('SELECT count(*) FROM audit_log')));
  assert.ok(every.some((e) => e.actor_kind === 'cli'));
  assert.ok(every.some((e) => e.actor_id === 'au.admin2'));
  assert.ok(every.every((e, i) => i === 0 || every[i - 1].id > e.id));
  // filters
  const mine = await all(reg.session, '&actor=op.one&action=staff.lookup');
  assert.deepEqual(mine.map((e) => [e.actor_id, e.action, e.target]), [['op.one', 'staff.lookup', '1000001']]);
  assert.deepEqual(await all(reg.session, '&actor=au.central'), []);
  const prefix = await all(reg.session, '&action=staff.reauth');
  assert.ok(prefix.length > 0 && prefix.every((e) => e.action === 'staff.reauth'));
  const dotted = await all(reg.session, '&actor=ex.one&action=staff.');
  assert.ok(dotted.some((e) => e.action === 'staff.reauth') && dotted.some((e) => e.action === 'staff.lookup'));
  const today = new Date(Date.now() + 7 * 3600e3).toISOString().slice(0, 10);
  assert.equal((await all(reg.session, `&from=${today}&to=${today}`)).length, regional.length);
  assert.deepEqual(await all(reg.session, '&to=2025-12-31'), []);
  // pages
  const p1 = await call(reg.session, 'GET', '/v1/staff/audit?limit=2');
  assert.equal(p1.json.entries.length, 2);
  assert.equal(p1.json.next_cursor, String(p1.json.entries[1].id));
  const p2 = await call(reg.session, 'GET', `/v1/staff/audit?limit=2&cursor=${p1.json.next_cursor}`);
  assert.ok(p2.json.entries[0].id < p1.json.entries[1].id);
  // bad parameters
  for (const qs of ['?limit=0', '?cursor=x', '?cursor=-1', '?action=Staff', '?action=a%20b', '?from=2026-02-30', `?actor=${'a'.repeat(129)}`, '?from=2026-03-02&to=2026-03-01']) {
    h.assertProblem(assert, await call(reg.session, 'GET', `/v1/staff/audit${qs}`), 422, 'validation_failed');
  }
});
