'use strict';
// coverage.test.js - install coverage the way the treasury needs it
// (docs/coverage.md), on a hand-built roster whose right answers are known:
// protected, partial, unprotected, installed but unreachable (token_invalid,
// stale last_seen_at), never installed, a unit without a chief accountant, a
// shared phone produced through the app API's token reuse, money at risk from
// ingested events (duplicates, later voucher statuses and old events not
// counted), the roll-up per office level, a moved unit whose old office keeps
// its history, the keyset pages, search, filters, targets, the scope 404s and
// the 422s. Plus: a delivered push counts as "seen" (at most once an hour).
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let db, kek, srv, adminKey, source;
const PASSWORD = 'Tr3asury!Kv9x';
const staff = {}; // login -> session

function q(sql) {
  return h.psql(db, sql);
}
function cli(args) {
  return h.runAlertd([...args, '--config', h.writeConfig(h.ingestConfig(db, kek))]);
}
function refresh() {
  const r = cli(['coverage', 'refresh']);
  assert.equal(r.code, 0, r.stderr);
}

// ---- staff sessions (as staff_auth.test.js does it: TOTP codes computed by the harness) ----
function call(s, method, p, body) {
  const headers = { cookie: s.cookie, 'x-csrf-token': s.csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return h.request(srv.url, method, p, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
function renew(r) {
  assert.ok(r.status === 200 || r.status === 201, r.body);
  return { cookie: r.headers['set-cookie'][0].split(';')[0], csrf: r.json.csrf_token };
}
async function signedIn(login, office) {
  const add = cli(['staff', 'add', login, '--office', office, '--role', 'viewer']);
  assert.equal(add.code, 0, add.stderr);
  const temp = add.stdout.match(/^temporary password: (\S+)$/m)[1];
  let s = renew(await h.request(srv.url, 'POST', '/v1/staff/session', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: temp }) }));
  s = renew(await call(s, 'POST', '/v1/staff/password', { current_password: temp, new_password: PASSWORD }));
  const e = await call(s, 'POST', '/v1/staff/totp/enrol');
  assert.equal(e.status, 201, e.body);
  return renew(await call(s, 'POST', '/v1/staff/totp/confirm', { code: h.totp(e.json.secret) }));
}
async function get(login, p) {
  return call(staff[login], 'GET', p);
}
async function ok(login, p) {
  const r = await get(login, p);
  if (r.status !== 200) await h.sleep(300); // the access log line
  assert.equal(r.status, 200, `${p}: ${r.body}\n${srv.logs().split('\n').filter((l) => /"(warn|error)"/.test(l)).slice(-3).join('\n')}`);
  assert.match(r.headers['content-type'], /^application\/json/);
  return r.json;
}

// ---- the app side: real activations, so the shared phone comes from the token reuse path ----
async function activate(login, pushToken) {
  const c = await h.request(srv.url, 'POST', `/v1/admin/users/${login}/activation-code`, { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(c.status, 201, c.body);
  const r = await h.request(srv.url, 'POST', '/v1/app/activate', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, activation_code: c.json.activation_code, device: { platform: 'android', push_token: pushToken, app_version: '1.0.0', model: 'Pixel 8' } }),
  });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

function vnDay(offset) {
  return q(`SELECT ((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + ${offset})::text`);
}
const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

// Offices: 0001 central; 0011 and 0012 regional; 0111, 0112 under 0011; 0121 under 0012.
// Units (the right answers):
//   1000001 @0111 holder+chief covered, an accountant without the app   -> protected (contacts: the accountant)
//   1000002 @0111 holder covered, chief never installed                  -> partial, missing chief
//   1000003 @0112 holder token_invalid, chief seen 40 days ago            -> unprotected, installed but unreachable
//   1000004 @0112 holder and chief, no device at all                      -> unprotected, never installed
//   1000005 @0121 a covered holder and no chief on the roster            -> partial (never protected without a chief)
//   1000006 @0121 the chief took over the holder's phone (token reuse)    -> partial, shared phone
//   1000007 @0111, later moved to 0121, holder+chief covered             -> protected
const UNITS = [
  ['1000001', 'Trường THCS Nguyễn Du', '0111'],
  ['1000002', 'Trạm Y tế Phường 1', '0111'],
  ['1000003', 'Ủy ban nhân dân xã Đông Hòa', '0112'],
  ['1000004', 'Bệnh viện Đa khoa Tỉnh', '0112'],
  ['1000005', 'Sở Tài chính', '0121'],
  ['1000006', 'Chi cục Thuế Khu vực', '0121'],
  ['1000007', 'Đài Phát thanh', '0111'],
];
const USERS = [
  ['h1', '1000001', 'account_holder'], ['c1', '1000001', 'chief_accountant'], ['a1', '1000001', 'accountant'],
  ['h2', '1000002', 'account_holder'], ['c2', '1000002', 'chief_accountant'],
  ['h3', '1000003', 'account_holder'], ['c3', '1000003', 'chief_accountant'],
  ['h4', '1000004', 'account_holder'], ['c4', '1000004', 'chief_accountant'],
  ['h5', '1000005', 'account_holder'],
  ['h6', '1000006', 'account_holder'], ['c6', '1000006', 'chief_accountant'],
  ['h7', '1000007', 'account_holder'], ['c7', '1000007', 'chief_accountant'],
];

test.before(async () => {
  db = h.createDatabase('coverage');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0012', 'KBNN khu vực II', '0001', 2);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3),
       ('0112', 'Phòng giao dịch số 2', '0011', 3), ('0121', 'Phòng giao dịch số 3', '0012', 3);
     INSERT INTO budget_units (code, name, office_code) VALUES ${UNITS.map(([c, n, o]) => `('${c}', '${n}', '${o}')`).join(',')};
     INSERT INTO users (dvctt_login, unit_code, full_name, email, phone) VALUES
       ${USERS.map(([l, u]) => `('${l}', '${u}', 'Người ${l}', '${l}@example.vn', '090000${l.padStart(4, '0').slice(-4).replace(/[a-z]/g, '1')}')`).join(',')};
     INSERT INTO user_roles (user_id, role) SELECT u.id, r.role::user_role FROM users u
       JOIN (VALUES ${USERS.map(([l, , r]) => `('${l}', '${r}')`).join(',')}) r(login, role) ON r.login = u.dvctt_login;
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'tok-' || dvctt_login FROM users
       WHERE dvctt_login IN ('h1', 'c1', 'h2', 'h5', 'h7', 'c7');
     INSERT INTO devices (user_id, platform, push_token, state, state_reason) SELECT id, 'android', 'tok-h3', 'token_invalid', 'unregistered'
       FROM users WHERE dvctt_login = 'h3';
     INSERT INTO devices (user_id, platform, push_token, last_seen_at) SELECT id, 'ios', 'tok-c3', now() - interval '40 days'
       FROM users WHERE dvctt_login = 'c3';`);
  const r = cli(['admin-key', 'add', 'treasury-it', '--office', '0001', '--scope', 'activation']);
  assert.equal(r.code, 0, r.stderr);
  adminKey = r.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  source = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { push: { provider: 'log' } }) });
  // alertd serve refreshes at start-up (the maintenance thread), and writes today's snapshot
  await h.eventually(() => q("SELECT count(*) FROM coverage_units") === '7', 10000, 100);
  assert.equal(q(`SELECT count(*) FROM coverage_daily WHERE day = '${vnDay(0)}'`), '6');
  staff.central = await signedIn('central.viewer', '0001');
  staff.region = await signedIn('region.viewer', '0011');
  staff.office = await signedIn('office.viewer', '0121');

  // the shared phone: the chief activates on the holder's phone (its push token), the holder's device is revoked
  await activate('h6', 'shared-phone-token');
  await activate('c6', 'shared-phone-token');
  assert.equal(q("SELECT state || ' ' || state_reason FROM devices d JOIN users u ON u.id = d.user_id WHERE u.dvctt_login = 'h6'"), 'revoked push_token_reused');

  // volume: a balance change (|amount| counts), a submitted voucher (counts), the same voucher received later
  // (the same money: not again), a re-delivered duplicate, and an event that occurred 40 days ago
  const bal = h.balanceEvent({ unit_code: '1000001', occurred_at: nowIso(), data: { account: '9523.1.1012345', amount: -1500000, balance_after: 1 } });
  const sub = h.voucherEvent({ unit_code: '1000002', occurred_at: nowIso() });
  sub.data.status = 'submitted';
  delete sub.data.previous_status;
  const rec = h.voucherEvent({ unit_code: '1000002', occurred_at: nowIso() });
  const old = h.balanceEvent({ unit_code: '1000004', occurred_at: new Date(Date.now() - 40 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z') });
  for (const [e, status] of [[bal, 202], [sub, 202], [rec, 202], [bal, 200], [old, 202]]) {
    const p = await h.postSigned(srv, 'tabmis', source, e);
    assert.equal(p.status, status, p.body);
  }
  refresh();
});
test.after(async () => {
  if (srv) await srv.stop();
});

const FIG_KEYS = ['units', 'protected', 'partial', 'unprotected', 'protected_pct', 'never_installed', 'installed_unreachable', 'users',
  'covered_users', 'reachable_devices', 'shared_phone_units', 'volume_30d', 'volume_at_risk', 'money_at_risk_pct'];
function figures(o) {
  return Object.fromEntries(FIG_KEYS.map((k) => [k, o[k]]));
}

test('the per-unit verdicts: protected, partial, unprotected, unreachable vs never installed, no chief, shared phone', async () => {
  const rows = q(`SELECT unit_code, office_code, status, users, covered_users, holders, holders_covered, chiefs, chiefs_covered,
      reachable_devices, unreachable_devices, ever_installed, shared_phone, missing_roles, volume_30d,
      never_installed_users, unreachable_users FROM coverage_units ORDER BY 1`).split('\n');
  assert.deepEqual(rows, [
    '1000001|0111|protected|3|2|1|1|1|1|2|0|t|f|{}|1500000|1|0',
    '1000002|0111|partial|2|1|1|1|1|0|1|0|t|f|{chief_accountant}|50000000|1|0',
    '1000003|0112|unprotected|2|0|1|0|1|0|0|2|t|f|{account_holder,chief_accountant}|0|0|2',
    '1000004|0112|unprotected|2|0|1|0|1|0|0|0|f|f|{account_holder,chief_accountant}|0|2|0',
    '1000005|0121|partial|1|1|1|1|0|0|1|0|t|f|{chief_accountant}|0|0|0',
    '1000006|0121|partial|2|1|1|0|1|1|1|0|t|t|{account_holder}|0|0|1',
    '1000007|0111|protected|2|2|1|1|1|1|2|0|t|f|{}|0|0|0',
  ]);
  // the takeover pair is recorded once, holder -> chief
  assert.equal(q(`SELECT f.dvctt_login || '>' || t.dvctt_login FROM device_token_takeovers k JOIN users f ON f.id = k.from_user_id
    JOIN users t ON t.id = k.to_user_id`), 'h6>c6');
  // a second refresh with nothing changed rewrites nothing
  const r = cli(['coverage', 'refresh']);
  assert.match(r.stdout, /: 0 unit rows changed/);
});

test('the roll-up per office level: central, regional, transaction office, with money at risk', async () => {
  const c = await ok('central', '/v1/staff/coverage');
  assert.deepEqual(c.office, { code: '0001', name: 'Kho bạc Nhà nước', level: 1 });
  assert.equal(c.active_days, 30);
  assert.match(c.computed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(c.target, null);
  assert.deepEqual(figures(c.totals), {
    units: 7, protected: 2, partial: 3, unprotected: 2, protected_pct: 28.57, never_installed: 1, installed_unreachable: 2,
    users: 14, covered_users: 7, reachable_devices: 7, shared_phone_units: 1, volume_30d: '51500000', volume_at_risk: '50000000',
    money_at_risk_pct: 97.09,
  });
  assert.deepEqual(c.children.map((x) => [x.code, x.level, x.units, x.protected, x.partial, x.unprotected]),
    [['0011', 2, 5, 2, 1, 2], ['0012', 2, 2, 0, 2, 0]]);
  const r = await ok('central', '/v1/staff/coverage?office=0011');
  assert.deepEqual(r.children.map((x) => [x.code, x.level, x.units, x.protected, x.volume_30d, x.volume_at_risk]),
    [['0111', 3, 3, 2, '51500000', '50000000'], ['0112', 3, 2, 0, '0', '0']]);
  assert.equal(r.totals.units, 5);
  const o = await ok('central', '/v1/staff/coverage?office=0112');
  assert.deepEqual(o.children, []);
  assert.deepEqual(figures(o.totals), {
    units: 2, protected: 0, partial: 0, unprotected: 2, protected_pct: 0, never_installed: 1, installed_unreachable: 1, users: 4,
    covered_users: 0, reachable_devices: 0, shared_phone_units: 0, volume_30d: '0', volume_at_risk: '0', money_at_risk_pct: 0,
  });
  // the caller's own office is the default
  assert.equal((await ok('region', '/v1/staff/coverage')).office.code, '0011');
});

test('the units list: worst first, keyset pages, the other sorts, filters, search without case or accents, contacts', async () => {
  const worst = ['1000004', '1000003', '1000002', '1000006', '1000005', '1000001', '1000007'];
  const all = await ok('central', '/v1/staff/coverage/units');
  assert.deepEqual(all.units.map((u) => u.code), worst);
  assert.equal(all.next_cursor, null);
  // pages of two give the same order, and the last page has no cursor
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 10; i++) {
    const page = await ok('central', `/v1/staff/coverage/units?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...page.units.map((u) => u.code));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, worst);
  const byName = await ok('central', '/v1/staff/coverage/units?sort=name&limit=3');
  assert.deepEqual(byName.units.map((u) => u.code), ['1000004', '1000006', '1000007']);
  const byName2 = await ok('central', `/v1/staff/coverage/units?sort=name&limit=10&cursor=${byName.next_cursor}`);
  assert.deepEqual(byName2.units.map((u) => u.code), ['1000005', '1000002', '1000001', '1000003']);
  const byCode = await ok('central', '/v1/staff/coverage/units?sort=code');
  assert.deepEqual(byCode.units.map((u) => u.code), [...worst].sort());

  const codes = async (qs) => (await ok('central', `/v1/staff/coverage/units?${qs}`)).units.map((u) => u.code);
  assert.deepEqual(await codes('status=not_protected&sort=code'), ['1000002', '1000003', '1000004', '1000005', '1000006']);
  assert.deepEqual(await codes('status=protected&sort=code'), ['1000001', '1000007']);
  assert.deepEqual(await codes('status=partial&sort=code&office=0012'), ['1000005', '1000006']);
  assert.deepEqual(await codes(`q=${encodeURIComponent('dong hoa')}`), ['1000003']);
  assert.deepEqual(await codes(`q=${encodeURIComponent('ĐÔNG HÒA')}`), ['1000003']);
  assert.deepEqual(await codes(`q=${encodeURIComponent('Đông Hòa'.normalize('NFD'))}`), ['1000003']);
  assert.deepEqual(await codes('q=100000&sort=code'), [...worst].sort());
  assert.deepEqual(await codes('q=1000003'), ['1000003']);
  assert.deepEqual(await codes('q=000003'), [], 'a code matches by its prefix only');
  assert.deepEqual(await codes(`q=${encodeURIComponent('%')}`), [], 'LIKE wildcards are literal');
  assert.deepEqual(await codes(`q=${encodeURIComponent('_')}`), []);

  const u2 = all.units.find((u) => u.code === '1000002');
  assert.deepEqual({ ...u2, contacts: undefined }, {
    code: '1000002', name: 'Trạm Y tế Phường 1', office_code: '0111', office_name: 'Phòng giao dịch số 1', status: 'partial',
    missing_roles: ['chief_accountant'], never_installed: false, installed_unreachable: false, shared_phone: false, users: 2,
    covered_users: 1, reachable_devices: 1, unreachable_devices: 0, never_installed_users: 1, unreachable_users: 0, holders: 1,
    chiefs: 1, volume_30d: '50000000', contact_email: null, contact_phone: null, contacts: undefined,
  });
  assert.deepEqual(u2.contacts, [{ id: Number(h.psql(db, "SELECT id FROM users WHERE dvctt_login = 'c2'")), login: 'c2', full_name: 'Người c2', roles: ['chief_accountant'], email: 'c2@example.vn', phone: u2.contacts[0].phone, covered: false }]);
  const u1 = all.units.find((u) => u.code === '1000001');
  assert.deepEqual(u1.contacts.map((c) => c.login), ['a1'], 'a protected unit still lists its uncovered accountant');
  const u3 = all.units.find((u) => u.code === '1000003');
  assert.deepEqual([u3.never_installed, u3.installed_unreachable, u3.contacts.map((c) => c.login)], [false, true, ['h3', 'c3']]);
  const u4 = all.units.find((u) => u.code === '1000004');
  assert.deepEqual([u4.never_installed, u4.installed_unreachable], [true, false]);
  const u6 = all.units.find((u) => u.code === '1000006');
  assert.deepEqual([u6.shared_phone, u6.installed_unreachable, u6.contacts.map((c) => c.login)], [true, true, ['h6']]);
});

test('a moved unit: its old office keeps its history, the new office counts it from the move on; targets', async () => {
  const d1 = vnDay(-2), d2 = vnDay(-1);
  assert.equal(cli(['coverage', 'snapshot', d1]).code, 0);
  assert.match(cli(['coverage', 'snapshot', d1]).stdout, /: 0 office rows written/, 'a day is written once');
  q("UPDATE budget_units SET office_code = '0121' WHERE code = '1000007'");
  refresh();
  assert.equal(q("SELECT office_code FROM coverage_units WHERE unit_code = '1000007'"), '0121');
  assert.equal(cli(['coverage', 'snapshot', d2]).code, 0);
  const point = (t, day) => t.points.find((p) => p.day === day);
  const old = await ok('central', '/v1/staff/coverage/trend?office=0111&days=90');
  assert.deepEqual(old.office, { code: '0111', name: 'Phòng giao dịch số 1', level: 3 });
  assert.equal(old.days, 90);
  assert.deepEqual([point(old, d1).units, point(old, d1).protected], [3, 2]);
  assert.deepEqual([point(old, d2).units, point(old, d2).protected], [2, 1]);
  const days = old.points.map((p) => p.day);
  assert.deepEqual(days, [...days].sort(), 'oldest first');
  const fresh = await ok('central', '/v1/staff/coverage/trend?office=0121');
  assert.deepEqual([point(fresh, d1).units, point(fresh, d2).units, point(fresh, d2).protected], [2, 3, 1]);
  assert.deepEqual([point(fresh, d2).users, point(fresh, d2).shared_phone_units], [5, 1]);
  // the region above both: the move between its offices does not change it, the central total neither
  const region = await ok('central', '/v1/staff/coverage?office=0012');
  assert.equal(region.totals.units, 3);
  const short = await ok('central', '/v1/staff/coverage/trend?office=0111&days=1');
  assert.ok(!short.points.some((p) => p.day === d1 || p.day === d2), 'days=1 is today only');

  // targets: set by the CLI (audited), shown with the office; bad values refused
  assert.equal(cli(['coverage', 'target', '0012', '95.5', '2027-06-30']).code, 0);
  assert.deepEqual((await ok('office', '/v1/staff/coverage/trend?office=0121')).target, null);
  assert.deepEqual((await ok('central', '/v1/staff/coverage?office=0012')).target, { pct: 95.5, date: '2027-06-30' });
  assert.deepEqual((await ok('central', '/v1/staff/coverage/trend?office=0012')).target, { pct: 95.5, date: '2027-06-30' });
  assert.equal(q("SELECT outcome || ' ' || target || ' ' || details::text FROM audit_log WHERE action = 'coverage.target'"), 'ok 0012 {"pct": 95.5, "date": "2027-06-30"}');
  for (const [args, re] of [[['0012', '0', '2027-06-30'], /percentage/], [['0012', '100.5', '2027-06-30'], /percentage/],
    [['0012', '50.123', '2027-06-30'], /percentage/], [['0012', '50', '2027-02-29'], /real day/], [['9999', '50', '2027-01-01'], /no office 9999/]]) {
    const r = cli(['coverage', 'target', ...args]);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, re);
  }
  assert.equal(q("SELECT count(*) FROM audit_log WHERE action = 'coverage.target'"), '1');
});

test('scope: an office outside the caller\'s subtree, or unknown, is 404 on every coverage route', async () => {
  for (const p of ['/v1/staff/coverage', '/v1/staff/coverage/units', '/v1/staff/coverage/trend']) {
    for (const office of ['0012', '0121', '0001', '9999', 'abc', '']) {
      h.assertProblem(assert, await get('region', `${p}?office=${office}`), 404, 'not_found');
    }
    h.assertProblem(assert, await get('office', `${p}?office=0011`), 404, 'not_found');
    assert.equal((await get('office', `${p}?office=0121`)).status, 200);
    assert.equal((await get('region', `${p}?office=0112`)).status, 200);
  }
  // the region sees only its own units, whatever the filter
  const r = await ok('region', '/v1/staff/coverage/units?q=1000');
  assert.deepEqual(r.units.map((u) => u.code).sort(), ['1000001', '1000002', '1000003', '1000004']);
  const c = await ok('region', '/v1/staff/coverage');
  assert.deepEqual(c.children.map((x) => x.code), ['0111', '0112']);
  // without a session: 401
  h.assertProblem(assert, await h.request(srv.url, 'GET', '/v1/staff/coverage'), 401, 'unauthorized');
});

test('bad query parameters are 422 problem+json naming the field', async () => {
  const cases = [
    ['/v1/staff/coverage/units?limit=0', 'limit'], ['/v1/staff/coverage/units?limit=201', 'limit'],
    ['/v1/staff/coverage/units?limit=x', 'limit'], ['/v1/staff/coverage/units?status=covered', 'status'],
    ['/v1/staff/coverage/units?sort=best', 'sort'], ['/v1/staff/coverage/units?cursor=nonsense', 'cursor'],
    ['/v1/staff/coverage/units?q=', 'q'], [`/v1/staff/coverage/units?q=${'x'.repeat(101)}`, 'q'],
    ['/v1/staff/coverage/trend?days=0', 'days'], ['/v1/staff/coverage/trend?days=367', 'days'],
  ];
  // a cursor handed out for one sort is refused by another
  const page = await ok('central', '/v1/staff/coverage/units?limit=1');
  cases.push([`/v1/staff/coverage/units?sort=code&cursor=${page.next_cursor}`, 'cursor']);
  const forged = Buffer.from(JSON.stringify(['w', 'unprotected', '1 OR 1=1', '1000001'])).toString('base64url');
  cases.push([`/v1/staff/coverage/units?cursor=${forged}`, 'cursor']);
  for (const [p, field] of cases) {
    const r = await get('central', p);
    h.assertProblem(assert, r, 422, 'validation_failed');
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    assert.equal(r.json.errors[0].field, field, p);
  }
});

test('a delivered push counts as seen: last_seen_at moves to now, at most once an hour per device', async () => {
  const pdb = h.createDatabase('coverage_push');
  h.migrate(pdb);
  h.psql(pdb, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
     INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('p.chief', '1000001', 'Lê Văn Cường');
     INSERT INTO devices (user_id, platform, push_token, last_seen_at) SELECT id, 'android', v.tok, now() - v.ago::interval
       FROM users, (VALUES ('tok-stale', '40 days'), ('tok-recent', '10 minutes'), ('tok-revoked', '40 days')) v(tok, ago);
     UPDATE devices SET state = 'revoked', state_reason = 'logout' WHERE push_token = 'tok-revoked';
     WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
       SELECT id, '1000001', '0011', 'balance.changed', 'vi', 't', 'b' FROM users RETURNING id)
     INSERT INTO push_outbox (alert_id, device_id, provider) SELECT a.id, d.id, 'fcm' FROM a, devices d;`);
  const before = h.psql(pdb, "SELECT push_token || '=' || last_seen_at FROM devices ORDER BY id").split('\n');
  const psrv = await h.startServer({ db: pdb, config: h.ingestConfig(pdb, kek, { push: { provider: 'log', poll_interval_ms: 100 } }) });
  try {
    await h.eventually(() => h.psql(pdb, "SELECT count(*) FROM push_outbox WHERE state = 'pending'") === '0', 10000, 100);
    assert.equal(h.psql(pdb, "SELECT string_agg(d.push_token || ':' || o.state, ',' ORDER BY d.id) FROM push_outbox o JOIN devices d ON d.id = o.device_id"),
      'tok-stale:sent,tok-recent:sent,tok-revoked:failed');
    assert.equal(h.psql(pdb, "SELECT last_seen_at > now() - interval '1 minute' FROM devices WHERE push_token = 'tok-stale'"), 't', 'the delivered push did not count as seen');
    const after = h.psql(pdb, "SELECT push_token || '=' || last_seen_at FROM devices ORDER BY id").split('\n');
    assert.equal(after[1], before[1], 'a device seen 10 minutes ago was written again');
    assert.equal(after[2], before[2], 'a push that was not delivered counted as seen');
    // and coverage follows: the stale device is reachable again
    const r = h.runAlertd(['coverage', 'refresh', '--config', h.writeConfig(h.ingestConfig(pdb, kek))]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(h.psql(pdb, 'SELECT reachable_devices || \' \' || covered_users FROM coverage_units'), '2 1');
  } finally {
    await psrv.stop();
  }
});

test('one refresh at a time: serve skips while another holds the lock and tries again next interval; the CLI waits', async () => {
  const { spawn } = require('node:child_process');
  const ldb = h.createDatabase('coverage_lock');
  h.migrate(ldb);
  h.psql(ldb, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');`);
  // another instance's refresh: the same advisory lock (migration 0014), held for a while
  async function holdLock(seconds) {
    const p = spawn('psql', ['-X', '-q', '-h', `${h.PGDIR}/run`, '-U', 'alertd', '-d', ldb, '-c',
      `SELECT pg_advisory_lock(107356483593318), pg_sleep(${seconds})`], { stdio: 'ignore' });
    const released = new Promise((r) => p.on('exit', r));
    await h.eventually(() => h.psql(ldb, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`) === '1', 5000, 50);
    return { p, released };
  }
  const cfg = h.ingestConfig(ldb, kek, { coverage: { refresh_seconds: 10 } });
  const first = await holdLock(3);
  const lsrv = await h.startServer({ db: ldb, config: cfg });
  try {
    await first.released;
    await h.sleep(1500);
    // a waiting refresh would have run the moment the lock was released; a skipped one waits for its next round
    assert.equal(h.psql(ldb, 'SELECT count(*) FROM coverage_units'), '0', 'serve waited for the lock instead of skipping its round');
    await h.eventually(() => h.psql(ldb, 'SELECT count(*) FROM coverage_units') === '1', 15000, 200);
    const second = await holdLock(2);
    const t0 = Date.now();
    const r = h.runAlertd(['coverage', 'refresh', '--config', h.writeConfig(cfg)]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 >= 1000, `the CLI refresh did not wait for the running one (${Date.now() - t0} ms)`);
    await second.released;
  } finally {
    await lsrv.stop();
  }
});
