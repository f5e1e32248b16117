'use strict';
// staff_scope.test.js - the office scope over real HTTP: two regional
// treasuries (0011, 0021) with a transaction office each, staff in each and
// a central admin. A staff member of one office who asks for anything of
// the other gets 404 problem+json on every staff data route, while the same
// request for their own office works; a viewer cannot issue activation
// codes; role changes stay inside the admin's subtree. Admin keys: an
// action not granted is 403 and audited denied; a login outside the key's
// subtree is 404; a roster upload reaching outside it is refused whole
// with nothing applied; unrouted events are filtered to it; and migration
// 0015 gives keys issued before scopes the central office and every action, and 0017 takes the staff read API back.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

let db, kek, cfg, srv;
const staff = {};
const keys = {};
const HEADER = 'office_code,office_name,parent_office_code,unit_code,unit_name,unit_email,unit_phone,accounts,user_login,user_name,user_email,user_phone,roles';

const q = (sql) => h.psql(db, sql);
const keyCall = (key, method, p, { body, type } = {}) =>
  h.request(srv.url, method, p, { headers: { authorization: `Bearer ${key}`, ...(type ? { 'content-type': type } : {}) }, body });
const lastAudit = (action, target) =>
  q(`SELECT actor_kind || ' ' || coalesce(actor_id, '-') || ' ' || outcome || ' ' || details::text FROM audit_log
     WHERE action = '${action}' AND target = '${target}' ORDER BY id DESC LIMIT 1`);
const snapshot = () => q(`SELECT (SELECT string_agg(code || ':' || coalesce(parent_code, '-') || ':' || name, ',' ORDER BY code) FROM offices)
  || '|' || (SELECT string_agg(code || ':' || office_code || ':' || name, ',' ORDER BY code) FROM budget_units)
  || '|' || (SELECT string_agg(dvctt_login || ':' || unit_code || ':' || active, ',' ORDER BY dvctt_login) FROM users)`);

test.before(async () => {
  db = h.createDatabase('scope');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0021', 'KBNN khu vực II', '0001', 2);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3), ('0211', 'Phòng giao dịch số 2', '0021', 3);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0111'),
       ('1000002', 'Trạm Y tế Phường 1', '0211'), ('1000003', 'UBND Phường 3', '0011');
     INSERT INTO unit_accounts (unit_code, account) VALUES ('1000001', '9523.1.1000001'), ('1000002', '9523.1.1000002'), ('1000003', '9523.1.1000003');
     INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('a.holder', '1000001', 'Trần Thị Bình'),
       ('b.holder', '1000002', 'Lê Văn Cường'), ('c.chief', '1000003', 'Phạm Thu Hà');
     INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login IN ('a.holder', 'b.holder');
     INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login = 'c.chief';`);
  cfg = h.writeConfig(h.ingestConfig(db, kek));
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { auth: { signin_per_ip_per_minute: 10000 } }) });
  for (const [login, office, role] of [
    ['op.a', '0011', 'operator'], ['op.b', '0021', 'operator'], ['view.a', '0011', 'viewer'], ['adm.a', '0011', 'admin'],
    ['adm.central', '0001', 'admin'], ['t.a', '0111', 'viewer'], ['t.b', '0211', 'viewer']]) {
    staff[login] = await h.staffReady(srv, cfg, login, office, role);
  }
  // role changes and activation codes need a fresh step-up (auth.reauth_seconds, 300 s)
  await h.staffReauth(srv, staff['op.a']);
  await h.staffReauth(srv, staff['op.b']);
  await h.staffReauth(srv, staff['adm.a']);
  await h.staffReauth(srv, staff['adm.central']);
  // security notices: approvers of 0011 and of the centre; two pending notices of each region
  for (const l of ['adm.a', 'adm.central']) assert.equal(h.runAlertd(['staff', 'approver', l, 'on', '--config', cfg]).code, 0);
  const notice = (office, login) => q(`INSERT INTO notices (office_code, author_id, author, title_vi, body_vi, send_mode)
    SELECT '${office}', id, username, 'Thông báo', 'Nội dung.', 'office_hours' FROM staff WHERE username = '${login}' RETURNING id || ' ' || text_sha256`).split(' ');
  [NOTICE.own, NOTICE.ownHash] = notice('0011', 'op.a');
  [NOTICE.other, NOTICE.otherHash] = notice('0021', 'op.b');
  [NOTICE.own2] = notice('0011', 'op.a');
  [NOTICE.other2] = notice('0021', 'op.b');
  keys.all = h.adminKey(cfg, 'region-1-all', '0011');
  keys.roster = h.adminKey(cfg, 'region-1-roster', '0011', 'roster');
  keys.read = h.adminKey(cfg, 'region-1-read', '0011', 'read');
  keys.central = h.adminKey(cfg, 'central-all', '0001');
  // the worklist items of the start-up refresh, and an escalation per unit (the pass's rows, written here)
  await h.eventually(() => q('SELECT count(*) FROM worklist_items') === '3', 10000);
  q(`INSERT INTO escalations (event_id, risk_rule, unit_code, office_code, reason, alert_created_at, users_alerted)
     SELECT 1, 'large_amount', code, office_code, 'no_reachable_device', now(), 1 FROM budget_units`);
});
test.after(async () => {
  if (srv) await srv.stop();
});

// ---------------------------------------------------------------- every staff data route

// Each staff route with data, asked by a staff member of 0011 (subtree 0011, 0111) for their own office, for office
// 0021's and for something that does not exist: the own request answers `own`, the other two the same 404. A route
// added to api_routes.c under /v1/staff/ (other than the caller's own sign-in routes) must get a case here, or the
// first test fails; a route declared AUTH_STAFF_READ is also asked with admin keys (read, not read, central).
const NOTICE = {};
const noticeBody = (office, preview) => (preview ? { target: { office } } : { title_vi: 'Thông báo kiểm thử', body_vi: 'Nội dung kiểm thử.', target: { office } });
const at = (v) => (typeof v === 'function' ? v() : v);
const CASES = [
  {
    route: 'POST /v1/staff/users/{login}/activation-code', who: 'op.a', own: 201,
    ownPath: '/v1/staff/users/a.holder/activation-code', otherPath: '/v1/staff/users/b.holder/activation-code',
    unknownPath: '/v1/staff/users/nobody/activation-code',
  },
  {
    route: 'PUT /v1/staff/accounts/{login}/role', who: 'adm.a', own: 200, body: { role: 'viewer' },
    ownPath: '/v1/staff/accounts/t.a/role', otherPath: '/v1/staff/accounts/t.b/role',
    unknownPath: '/v1/staff/accounts/nobody/role',
  },
  {
    route: 'GET /v1/staff/units/{code}', who: 'op.a', own: 200,
    ownPath: '/v1/staff/units/1000001', otherPath: '/v1/staff/units/1000002', unknownPath: '/v1/staff/units/9999999',
  },
  ...['csv', 'xlsx'].map((ext) => ({
    route: `GET /v1/staff/units/{code}/users.${ext}`, who: 'adm.a', own: 200,
    ownPath: `/v1/staff/units/1000001/users.${ext}`, otherPath: `/v1/staff/units/1000002/users.${ext}`,
    unknownPath: `/v1/staff/units/9999999/users.${ext}`,
  })),
  ...['', '/units', '/trend'].map((sub) => ({
    route: `GET /v1/staff/coverage${sub}`, who: 'view.a', own: 200,
    ownPath: `/v1/staff/coverage${sub}?office=0111`, otherPath: `/v1/staff/coverage${sub}?office=0211`,
    unknownPath: `/v1/staff/coverage${sub}?office=9999`,
  })),
  ...['csv', 'xlsx'].map((ext) => ({
    route: `GET /v1/staff/coverage/units.${ext}`, who: 'adm.a', own: 200,
    ownPath: `/v1/staff/coverage/units.${ext}?office=0111`, otherPath: `/v1/staff/coverage/units.${ext}?office=0211`,
    unknownPath: `/v1/staff/coverage/units.${ext}?office=9999`,
  })),
  // e-mail (api_staff_mail.c): reminders, a unit's mails, and the bulk instructions, whose units are in the body
  {
    route: 'POST /v1/staff/units/{code}/reminders', who: 'op.a', own: 201,
    ownPath: '/v1/staff/units/1000001/reminders', otherPath: '/v1/staff/units/1000002/reminders', unknownPath: '/v1/staff/units/9999999/reminders',
  },
  {
    route: 'GET /v1/staff/units/{code}/mail', who: 'op.a', own: 200,
    ownPath: '/v1/staff/units/1000001/mail', otherPath: '/v1/staff/units/1000002/mail', unknownPath: '/v1/staff/units/9999999/mail',
  },
  {
    route: 'POST /v1/staff/instructions', who: 'op.a', own: 200,
    ownPath: '/v1/staff/instructions', otherPath: '/v1/staff/instructions', unknownPath: '/v1/staff/instructions',
    ownBody: { units: ['1000001'] }, otherBody: { units: ['1000002'] }, unknownBody: { units: ['9999999'] },
  },
  {
    route: 'GET /v1/staff/risk-alerts', who: 'op.a', own: 200,
    ownPath: '/v1/staff/risk-alerts?office=0111', otherPath: '/v1/staff/risk-alerts?office=0211',
    unknownPath: '/v1/staff/risk-alerts?office=9999',
  },
  // the worklist and escalations (migration 0025): the items and escalations exist once before() ran, so the paths are getters
  ...['worklist', 'worklist/print', 'escalations', 'escalations/count'].map((sub) => ({
    route: `GET /v1/staff/${sub}`, who: 'view.a', own: 200,
    ownPath: `/v1/staff/${sub}?office=0111`, otherPath: `/v1/staff/${sub}?office=0211`, unknownPath: `/v1/staff/${sub}?office=9999`,
  })),
  ...[['GET', '', undefined, 200], ['PUT', '', { due_date: '2099-12-31' }, 200], ['POST', '/contacts', { channel: 'phone', outcome: 'no_answer' }, 201]]
    .map(([method, sub, body, own]) => ({
      route: `${method} /v1/staff/worklist/{id}${sub}`, who: 'op.a', own, body,
      get ownPath() { return `/v1/staff/worklist/${q("SELECT id FROM worklist_items WHERE unit_code = '1000001'")}${sub}`; },
      get otherPath() { return `/v1/staff/worklist/${q("SELECT id FROM worklist_items WHERE unit_code = '1000002'")}${sub}`; },
      unknownPath: `/v1/staff/worklist/999999${sub}`,
    })),
  {
    route: 'POST /v1/staff/escalations/{id}/ack', who: 'op.a', own: 200, body: { note: 'Đã gọi đơn vị' },
    get ownPath() { return `/v1/staff/escalations/${q("SELECT id FROM escalations WHERE unit_code = '1000001'")}/ack`; },
    get otherPath() { return `/v1/staff/escalations/${q("SELECT id FROM escalations WHERE unit_code = '1000002'")}/ack`; },
    unknownPath: '/v1/staff/escalations/999999/ack',
  },
  // security notices: NOTICE.own of 0011 and NOTICE.other of 0021 (written in test.before); the target's office is in the body
  ...['preview', ''].map((sub) => ({
    route: `POST /v1/staff/notices${sub ? `/${sub}` : ''}`, who: 'op.a', own: sub ? 200 : 201,
    ownPath: `/v1/staff/notices${sub ? `/${sub}` : ''}`, otherPath: `/v1/staff/notices${sub ? `/${sub}` : ''}`,
    unknownPath: `/v1/staff/notices${sub ? `/${sub}` : ''}`,
    ownBody: noticeBody('0111', sub), otherBody: noticeBody('0211', sub), unknownBody: noticeBody('9999', sub),
  })),
  {
    route: 'GET /v1/staff/notices', who: 'view.a', own: 200,
    ownPath: '/v1/staff/notices?office=0111', otherPath: '/v1/staff/notices?office=0211', unknownPath: '/v1/staff/notices?office=9999',
  },
  ...['', '/report', '/report.csv', '/report.xlsx'].map((sub) => ({
    route: `GET /v1/staff/notices/{id}${sub}`, who: 'adm.a', own: 200,
    ownPath: () => `/v1/staff/notices/${NOTICE.own}${sub}`, otherPath: () => `/v1/staff/notices/${NOTICE.other}${sub}`,
    unknownPath: `/v1/staff/notices/999999${sub}`,
  })),
  {
    route: 'POST /v1/staff/notices/{id}/approve', who: 'adm.a', own: 200,
    ownPath: () => `/v1/staff/notices/${NOTICE.own}/approve`, otherPath: () => `/v1/staff/notices/${NOTICE.other}/approve`,
    unknownPath: '/v1/staff/notices/999999/approve',
    ownBody: () => ({ text_sha256: NOTICE.ownHash }), otherBody: () => ({ text_sha256: NOTICE.otherHash }),
    unknownBody: () => ({ text_sha256: NOTICE.ownHash }),
  },
  {
    // only the author withdraws: the central admin sees the other office's notice (403, not 404)
    route: 'POST /v1/staff/notices/{id}/withdraw', who: 'op.a', own: 200, central: 403,
    ownPath: () => `/v1/staff/notices/${NOTICE.own2}/withdraw`, otherPath: () => `/v1/staff/notices/${NOTICE.other2}/withdraw`,
    unknownPath: '/v1/staff/notices/999999/withdraw',
  },
];
// the caller's own sign-in routes, the notice templates (compiled-in text of no office), and the audit log: admins only, scoped by who the actor is rather than by a
// path or office parameter (staff_data.test.js checks an admin sees only their subtree's staff)
const OWN_SIGNIN = /^\/v1\/staff\/(session|password|me|reauth|totp\/.*|audit|notice-templates)$/;

// route -> its auth kind, as api_routes.c declares it
const AUTH = new Map([...fs.readFileSync(path.join(h.ROOT, 'server', 'api', 'api_routes.c'), 'utf8')
  .matchAll(/\{ "([A-Z]+)", "(\/v1\/staff\/[^"]+)", \w+, (AUTH_\w+)/g)].map((m) => [`${m[1]} ${m[2]}`, m[3]]));

test('the cases cover every staff data route of the route table', () => {
  const routes = [...AUTH.keys()].filter((r) => !OWN_SIGNIN.test(r.split(' ')[1]));
  assert.ok(routes.length >= 2, routes.join(', '));
  assert.deepEqual(routes.filter((r) => !CASES.some((c) => c.route === r)), [], 'staff data routes without a scope case');
});

for (const c of CASES) {
  test(`${c.route}: another office's is 404 problem+json, as an unknown one is; the own office's works`, async () => {
    const s = staff[c.who];
    const [method] = c.route.split(' ');
    const other = await h.staffCall(srv, s, method, at(c.otherPath), at(c.otherBody ?? c.body));
    h.assertProblem(assert, other, 404, 'not_found');
    const unknown = await h.staffCall(srv, s, method, at(c.unknownPath), at(c.unknownBody ?? c.body));
    h.assertProblem(assert, unknown, 404, 'not_found');
    assert.equal(unknown.json.detail, other.json.detail, 'the same answer for out of scope and unknown');
    const own = await h.staffCall(srv, s, method, at(c.ownPath), at(c.ownBody ?? c.body));
    assert.equal(own.status, c.own, own.body);
    // a central account reaches both
    const central = await h.staffCall(srv, staff['adm.central'], method, at(c.otherPath), at(c.otherBody ?? c.body));
    assert.equal(central.status, c.central ?? c.own, central.body);
    if (AUTH.get(c.route) !== 'AUTH_STAFF_READ') return;
    // the staff read API also serves admin keys granted "read", scoped to the key's office
    assert.equal((await keyCall(keys.read, method, at(c.ownPath))).status, c.own);
    h.assertProblem(assert, await keyCall(keys.read, method, at(c.otherPath)), 404, 'not_found');
    assert.equal((await keyCall(keys.central, method, at(c.otherPath))).status, c.own);
    h.assertProblem(assert, await keyCall(keys.roster, method, at(c.ownPath)), 403, 'action_not_granted');
    const none = await h.request(srv.url, method, at(c.ownPath));
    h.assertProblem(assert, none, 401, 'unauthorized');
    assert.match(none.headers['www-authenticate'], /^Cookie realm="alertd-staff".*, Bearer realm="alertd"$/);
  });
}

// ---------------------------------------------------------------- staff activation codes

test('staff activation code: 201 {login, code, expires_at}, audited with the staff login, redeemable once', async () => {
  const r = await h.staffCall(srv, staff['op.a'], 'POST', '/v1/staff/users/c.chief/activation-code');
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(Object.keys(r.json).sort(), ['code', 'expires_at', 'login']);
  assert.equal(r.json.login, 'c.chief');
  assert.match(r.json.code, /^[0-9A-HJKMNP-TV-Z]{10}$/);
  assert.match(r.json.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(lastAudit('activation.issue', 'c.chief'), 'staff op.a ok {"reason": "issued"}');
  assert.equal(q(`SELECT created_by FROM activation_codes a JOIN users u ON u.id = a.user_id WHERE u.dvctt_login = 'c.chief' ORDER BY a.id DESC LIMIT 1`), 'op.a');
  const act = await h.request(srv.url, 'POST', '/v1/app/activate', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'c.chief', activation_code: r.json.code, device: { platform: 'android', push_token: 'fcm-scope-1' } }),
  });
  assert.equal(act.status, 201, act.body);
});

test('staff activation code: refused out of scope (audited out_of_scope), for a viewer (403 role_not_allowed, audited) and without CSRF', async () => {
  h.assertProblem(assert, await h.staffCall(srv, staff['op.a'], 'POST', '/v1/staff/users/b.holder/activation-code'), 404, 'not_found');
  assert.equal(lastAudit('activation.issue', 'b.holder'), 'staff op.a denied {"reason": "out_of_scope"}');
  h.assertProblem(assert, await h.staffCall(srv, staff['op.a'], 'POST', '/v1/staff/users/nobody/activation-code'), 404, 'not_found');
  assert.equal(lastAudit('activation.issue', 'nobody'), 'staff op.a denied {"reason": "unknown_login"}');
  const codes = q('SELECT count(*) FROM activation_codes');
  const viewer = await h.staffCall(srv, staff['view.a'], 'POST', '/v1/staff/users/a.holder/activation-code');
  h.assertProblem(assert, viewer, 403, 'role_not_allowed');
  assert.equal(lastAudit('activation.issue', 'a.holder'), 'staff view.a denied {"reason": "role"}');
  h.assertProblem(assert, await h.staffCall(srv, staff['op.a'], 'POST', '/v1/staff/users/a.holder/activation-code', undefined, { csrf: null }), 403, 'csrf_failed');
  h.assertProblem(assert, await h.staffCall(srv, null, 'POST', '/v1/staff/users/a.holder/activation-code'), 401, 'unauthorized');
  // an admin key is not a staff session
  h.assertProblem(assert, await keyCall(keys.all, 'POST', '/v1/staff/users/a.holder/activation-code'), 401, 'unauthorized');
  assert.equal(q('SELECT count(*) FROM activation_codes'), codes, 'no code was issued by any refused request');
});

test('staff activation code: needs a fresh re-authentication (403 reauth_required, nothing issued); at most staff.activation_codes_per_day a Vietnam day (429, audited daily_cap)', async () => {
  const capped = await h.startServer({ db, migrateFirst: false,
    config: h.ingestConfig(db, kek, { auth: { signin_per_ip_per_minute: 10000 }, staff: { activation_codes_per_day: 2 } }) });
  try {
    const s = await h.staffReady(capped, cfg, 'op.cap', '0011', 'operator');
    const codes = q('SELECT count(*) FROM activation_codes');
    h.assertProblem(assert, await h.staffCall(capped, s, 'POST', '/v1/staff/users/a.holder/activation-code'), 403, 'reauth_required');
    assert.equal(q('SELECT count(*) FROM activation_codes'), codes);
    assert.equal(lastAudit('activation.issue', 'a.holder'), 'staff op.cap denied {"reason": "reauth_required"}');
    await h.staffReauth(capped, s);
    // six at once, for two users: exactly two pass, however they interleave (the count waits for the lock)
    const raced = await Promise.all(['a.holder', 'c.chief', 'a.holder', 'c.chief', 'a.holder', 'c.chief']
      .map((login) => h.staffCall(capped, s, 'POST', `/v1/staff/users/${login}/activation-code`)));
    assert.deepEqual(raced.map((r) => r.status).sort(), [201, 201, 429, 429, 429, 429], raced.map((r) => r.body).join('\n'));
    const over = await h.staffCall(capped, s, 'POST', '/v1/staff/users/c.chief/activation-code');
    h.assertProblem(assert, over, 429, 'activation_quota_exceeded');
    assert.equal(over.json.limit, 2);
    assert.ok(Number(over.headers['retry-after']) >= 1 && Number(over.headers['retry-after']) <= 86400, over.headers['retry-after']);
    assert.equal(lastAudit('activation.issue', 'c.chief'), 'staff op.cap denied {"reason": "daily_cap"}');
    assert.equal(q('SELECT count(*) FROM activation_codes'), String(Number(codes) + 2));
    // another officer is not held back by op.cap's count
    const other = await h.staffReady(capped, cfg, 'op.cap2', '0011', 'operator');
    await h.staffReauth(capped, other);
    assert.equal((await h.staffCall(capped, other, 'POST', '/v1/staff/users/c.chief/activation-code')).status, 201);
  } finally {
    await capped.stop();
  }
});

// ---------------------------------------------------------------- role changes

test('role change: an admin of the subtree changes it, the account\'s sessions end, audited; the new role applies', async () => {
  const t = await h.staffReady(srv, cfg, 't.role', '0111', 'viewer');
  assert.equal((await h.staffCall(srv, t, 'GET', '/v1/staff/me')).json.role, 'viewer');
  const r = await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/t.role/role', { role: 'operator' });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, { login: 't.role', office: '0111', role: 'operator', active: true, changed: true, sessions_ended: 1 });
  assert.equal(q("SELECT role FROM staff WHERE username = 't.role'"), 'operator');
  assert.equal(lastAudit('staff.role', 't.role'), 'staff adm.a ok {"to": "operator", "from": "viewer", "sessions_ended": 1}');
  h.assertProblem(assert, await h.staffCall(srv, t, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  // its sign-in renewed the session twice (password change, TOTP confirm); the one still open was ended now
  assert.equal(q("SELECT string_agg(coalesce(ended_reason, 'open'), ',') FROM staff_sessions s JOIN staff a ON a.id = s.staff_id WHERE a.username = 't.role' AND ended_reason IS DISTINCT FROM 'renewed'"), 'role_changed');
  // the same role again: nothing changes, nothing ends
  const again = await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/t.role/role', { role: 'operator' });
  assert.equal(again.status, 200, again.body);
  assert.equal(again.json.changed, false);
  assert.equal(again.json.sessions_ended, 0);
});

test('role change: not one\'s own, not by an operator or viewer, not outside the subtree or of the central admin, only known roles', async () => {
  h.assertProblem(assert, await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/adm.a/role', { role: 'viewer' }), 403, 'own_role');
  assert.equal(lastAudit('staff.role', 'adm.a'), 'staff adm.a denied {"reason": "own_role"}');
  h.assertProblem(assert, await h.staffCall(srv, staff['op.a'], 'PUT', '/v1/staff/accounts/t.a/role', { role: 'admin' }), 403, 'role_not_allowed');
  h.assertProblem(assert, await h.staffCall(srv, staff['view.a'], 'PUT', '/v1/staff/accounts/t.a/role', { role: 'admin' }), 403, 'role_not_allowed');
  assert.equal(lastAudit('staff.role', 't.a'), 'staff view.a denied {"reason": "role"}');
  h.assertProblem(assert, await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/adm.central/role', { role: 'viewer' }), 404, 'not_found');
  assert.equal(lastAudit('staff.role', 'adm.central'), 'staff adm.a denied {"reason": "out_of_scope"}');
  h.assertProblem(assert, await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/op.b/role', { role: 'viewer' }), 404, 'not_found');
  for (const body of [{ role: 'office_admin' }, { role: 1 }, {}, { role: 'viewer', extra: true }]) {
    h.assertProblem(assert, await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/t.a/role', body), 422, 'validation_failed');
  }
  h.assertProblem(assert, await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/t.a/role', { role: 'admin' }, { csrf: null }), 403, 'csrf_failed');
  assert.equal(q("SELECT string_agg(username || ':' || role, ',' ORDER BY username) FROM staff WHERE username IN ('adm.a', 'adm.central', 'op.b', 't.a')"),
    'adm.a:admin,adm.central:admin,op.b:operator,t.a:viewer');
  // a deactivated account keeps its role: deactivation is final
  assert.equal(h.runAlertd(['staff', 'deactivate', 'view.a', '--config', cfg]).code, 0);
  h.assertProblem(assert, await h.staffCall(srv, staff['adm.a'], 'PUT', '/v1/staff/accounts/view.a/role', { role: 'admin' }), 409, 'conflict');
  assert.equal(q("SELECT role FROM staff WHERE username = 'view.a'"), 'viewer');
});

test('role change needs a fresh re-authentication: 403 reauth_required before it, nothing changed; allowed after', async () => {
  const adm = await h.staffReady(srv, cfg, 'adm.fresh', '0001', 'admin');
  const before = q("SELECT role FROM staff WHERE username = 't.b'");
  h.assertProblem(assert, await h.staffCall(srv, adm, 'PUT', '/v1/staff/accounts/t.b/role', { role: 'admin' }), 403, 'reauth_required');
  assert.equal(q("SELECT role FROM staff WHERE username = 't.b'"), before);
  await h.staffReauth(srv, adm);
  const r = await h.staffCall(srv, adm, 'PUT', '/v1/staff/accounts/t.b/role', { role: before });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.changed, false);
});

test('alertd staff role LOGIN ROLE: any account, audited with the OS user, sessions ended', () => {
  const r = h.runAlertd(['staff', 'role', 't.b', 'operator', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^staff account t\.b is now operator; 1 session\(s\) ended$/m);
  assert.match(lastAudit('staff.role', 't.b'), /^cli \S+ ok \{"to": "operator", "from": "viewer", "sessions_ended": 1\}$/);
  const bad = h.runAlertd(['staff', 'role', 't.b', 'root', '--config', cfg]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid role 'root'/);
  assert.match(h.runAlertd(['staff', 'role', 'nobody', 'viewer', '--config', cfg]).stderr, /no staff account 'nobody'/);
  assert.equal(h.runAlertd(['staff', 'role', 't.b', '--config', cfg]).code, 2);
});

// ---------------------------------------------------------------- admin key scopes

test('admin-key add: --office and --scope are both required and checked; list shows the scope', () => {
  const add = (args) => h.runAlertd(['admin-key', 'add', ...args, '--config', cfg]);
  assert.equal(add(['k1']).code, 2);
  assert.equal(add(['k1', '--office', '0011']).code, 2);
  assert.equal(add(['k1', '--scope', 'read']).code, 2);
  for (const scope of ['', 'write', 'read,read', 'read,', 'read, roster', 'READ']) {
    const r = add(['k1', '--office', '0011', '--scope', scope]);
    assert.equal(r.code, 2, scope);
    assert.match(r.stderr, /invalid scope/, scope);
  }
  const r = add(['k1', '--office', '9999', '--scope', 'read']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no office with code '9999'/);
  assert.equal(q("SELECT count(*) FROM admin_api_keys WHERE name = 'k1'"), '0');
  const ok = add(['k1', '--scope', 'read,roster', '--office', '0021']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(q("SELECT office_code || ' ' || array_to_string(actions, ',') FROM admin_api_keys WHERE name = 'k1'"), '0021 roster,read');
  assert.match(lastAudit('admin_key.add', 'k1'), /^cli \S+ ok \{"office": "0021", "actions": \["roster", "read"\]\}$/);
  const list = h.runAlertd(['admin-key', 'list', '--config', cfg]);
  assert.match(list.stdout, /^NAME\s+OFFICE\s+SCOPE\s+CREATED/m);
  assert.match(list.stdout, /^region-1-roster\s+0011\s+roster\s/m);
  assert.match(list.stdout, /^k1\s+0021\s+roster,read\s/m);
});

test('admin key: a route whose action is not granted is 403 action_not_granted, audited denied, and does nothing', async () => {
  const codes = q('SELECT count(*) FROM activation_codes');
  const cases = [
    [keys.roster, 'POST', '/v1/admin/users/a.holder/activation-code', 'activation'],
    [keys.roster, 'GET', '/v1/admin/events/unrouted', 'unrouted'],
    [keys.read, 'POST', '/v1/admin/users/a.holder/activation-code', 'activation'],
    // read is the staff read API (personal data), not the unrouted events
    [keys.read, 'GET', '/v1/admin/events/unrouted', 'unrouted'],
    [keys.roster, 'GET', '/v1/staff/coverage', 'read'],
  ];
  for (const [key, method, p, action] of cases) {
    const r = await keyCall(key, method, p);
    h.assertProblem(assert, r, 403, 'action_not_granted');
    const name = key === keys.roster ? 'region-1-roster' : 'region-1-read';
    assert.equal(q(`SELECT actor_id || ' ' || target || ' ' || outcome || ' ' || details::text FROM audit_log WHERE action = 'admin.request' ORDER BY id DESC LIMIT 1`),
      `${name} ${method} ${p.replace('a.holder', '{login}')} denied {"action": "${action}", "reason": "action_not_granted"}`);
  }
  const up = await keyCall(keys.read, 'POST', '/v1/admin/roster', { type: 'text/csv', body: `${HEADER}\n` });
  h.assertProblem(assert, up, 403, 'action_not_granted');
  assert.equal(q('SELECT count(*) FROM activation_codes'), codes);
  // a revoked key is 401 as before, whatever its actions
  const gone = h.adminKey(cfg, 'gone', '0011', 'read');
  assert.equal(h.runAlertd(['admin-key', 'revoke', 'gone', '--config', cfg]).code, 0);
  h.assertProblem(assert, await keyCall(gone, 'GET', '/v1/admin/events/unrouted'), 401, 'unauthorized');
  h.assertProblem(assert, await keyCall(gone, 'POST', '/v1/admin/users/a.holder/activation-code'), 401, 'unauthorized');
});

test('admin key: an activation code only for a user of the key\'s subtree; outside it 404 as unknown, audited out_of_scope', async () => {
  const codesOf = (login) => q(`SELECT count(*) FROM activation_codes a JOIN users u ON u.id = a.user_id WHERE u.dvctt_login = '${login}'`);
  const before = codesOf('b.holder');
  const own = await keyCall(keys.all, 'POST', '/v1/admin/users/a.holder/activation-code');
  assert.equal(own.status, 201, own.body);
  assert.match(own.json.activation_code, /^[0-9A-HJKMNP-TV-Z]{10}$/);
  const other = await keyCall(keys.all, 'POST', '/v1/admin/users/b.holder/activation-code');
  h.assertProblem(assert, other, 404, 'not_found');
  assert.equal(lastAudit('activation.issue', 'b.holder'), 'admin_key region-1-all denied {"reason": "out_of_scope"}');
  const unknown = await keyCall(keys.all, 'POST', '/v1/admin/users/nobody/activation-code');
  h.assertProblem(assert, unknown, 404, 'not_found');
  assert.equal(unknown.json.detail, other.json.detail);
  assert.equal(codesOf('b.holder'), before, 'no code issued out of scope');
  const central = await keyCall(keys.central, 'POST', '/v1/admin/users/b.holder/activation-code');
  assert.equal(central.status, 201, central.body);
});

test('admin key: a roster upload reaching outside the key\'s subtree is refused whole (403 roster_out_of_scope), nothing applied', async () => {
  const upload = (key, rows, dry = false) =>
    keyCall(key, 'POST', `/v1/admin/roster${dry ? '?dry_run=true' : ''}`, { type: 'text/csv', body: [HEADER, ...rows, ''].join('\n') });
  // each case's row comes after one inside the subtree that does not contradict it (rows naming one office must agree)
  const inA = '0011,KBNN khu vực I,0001,1000015,Trường Tiểu học Lê Lợi,,,9523.1.1000015,new.user,Người Mới,,,account_holder';
  const inB = '0111,Phòng giao dịch số 1,0011,1000011,Trường Tiểu học Lê Lợi,,,9523.1.1000011,new.b,Người Mới,,,account_holder';
  const cases = [
    ['a unit of another region', inA, '0211,Phòng giao dịch số 2,0021,1000012,Trường Mầm non Hoa Sen,,,9523.1.1000012,x.one,Ngô Thị Mai,,,account_holder',
      /^office_code: office 0211 is not office 0011 or one of its sub-offices/],
    ['a new office under another region', inA, '0212,Phòng giao dịch mới,0021,1000013,UBND Xã 13,,,9523.1.1000013,x.two,Đỗ Minh Khoa,,,account_holder',
      /^office_code: office 0212 /],
    ['an own office moved under another region', inA, '0111,Phòng giao dịch số 1,0021,1000001,Trường THCS Nguyễn Du,,,9523.1.1000001,a.holder,Trần Thị Bình,,,account_holder',
      /^office_code: office 0111 /],
    ['another region\'s office moved into the subtree', inA, '0211,Phòng giao dịch số 2,0011,1000002,Trạm Y tế Phường 1,,,9523.1.1000002,b.holder,Lê Văn Cường,,,account_holder',
      /^office_code: office 0211 /],
    ['the key\'s own office given a new parent', inB, '0011,KBNN khu vực I,,1000003,UBND Phường 3,,,9523.1.1000003,c.chief,Phạm Thu Hà,,,chief_accountant',
      /^parent_office_code: office 0011 is this key's own office/],
    ['another region\'s unit taken into the subtree', inA, '0111,Phòng giao dịch số 1,0011,1000002,Trạm Y tế Phường 1,,,9523.1.1000002,x.three,Vũ Văn Nam,,,account_holder',
      /^unit_code: this unit is served by an office this key may not touch$/],
    ['another region\'s user taken into the subtree', inA, '0111,Phòng giao dịch số 1,0011,1000014,UBND Xã 14,,,9523.1.1000014,b.holder,Lê Văn Cường,,,account_holder',
      /^user_login: this user belongs to a unit served by an office this key may not touch$/],
  ];
  const before = snapshot();
  for (const [what, companion, row, reason] of cases) {
    for (const dry of [false, true]) {
      const r = await upload(keys.all, [companion, row], dry);
      h.assertProblem(assert, r, 403, 'roster_out_of_scope');
      assert.equal(r.json.rejected.length, 1, `${what}: ${r.body}`);
      assert.equal(r.json.rejected[0].line, 3, what);
      assert.match(r.json.rejected[0].reason, reason, what);
      assert.match(r.json.detail, /1 of 2 rows reach outside office 0011 and its sub-offices; nothing was written/);
    }
  }
  assert.equal(snapshot(), before, 'nothing of any refused upload was applied');
  assert.equal(q("SELECT count(*) FROM audit_log WHERE action = 'roster.import' AND outcome = 'ok'"), '0');
  // each refusal is audited, after the rollback of what it tried
  assert.equal(q("SELECT count(*) || ' ' || min(details::text) FROM audit_log WHERE action = 'roster.import' AND outcome = 'denied' AND actor_id = 'region-1-all'"),
    `${cases.length * 2} {"rows": 2, "office": "0011", "reason": "out_of_scope", "rows_refused": 1}`);
  // every out-of-scope row is listed, in file order
  const two = await upload(keys.all, [cases[0][2], inA, cases[5][2]]);
  h.assertProblem(assert, two, 403, 'roster_out_of_scope');
  assert.deepEqual(two.json.rejected.map((x) => x.line), [2, 4]);
  // invalid rows are still a 422, before the scope is looked at
  h.assertProblem(assert, await upload(keys.all, ['0111,x,0011,12,bad,,,1,y,y,,,account_holder']), 422, 'validation_failed');
  // the same file inside the subtree imports; the central key may do what the regional one may not
  const ok = await upload(keys.all, [inA]);
  assert.equal(ok.status, 200, ok.body);
  assert.equal(q("SELECT unit_code FROM users WHERE dvctt_login = 'new.user'"), '1000015');
  const central = await upload(keys.central, [cases[0][2]]);
  assert.equal(central.status, 200, central.body);
  assert.equal(q("SELECT office_code FROM budget_units WHERE code = '1000012'"), '0211');
});

test('admin key: unrouted events are listed for the key\'s subtree only; those that belong nowhere only from the central office', async () => {
  const src = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']);
  assert.equal(src.code, 0, src.stderr);
  const ev = (id, unit, office) => `((SELECT id FROM ingest_sources WHERE name = 'tabmis'), '${id}', 'balance.changed', now(), '${unit}', ${office ? `'${office}'` : 'NULL'}, '{}', sha256('${id}'::bytea))`;
  q(`INSERT INTO events (source_id, external_id, type, occurred_at, unit_code, office_code, payload, content_sha256) VALUES
     ${ev('u1', '9000001', '0111')}, ${ev('u2', '9000001', '0111')}, ${ev('u3', '9000002', '0211')}, ${ev('u4', '9000003', null)},
     ${ev('u5', '9000004', '9999')}, ${ev('u6', '9000005', '0011')}`);
  const units = async (key) => {
    const r = await keyCall(key, 'GET', '/v1/admin/events/unrouted');
    assert.equal(r.status, 200, r.body);
    return r.json.items.map((i) => `${i.unit_code}:${i.events}`);
  };
  assert.deepEqual(await units(h.adminKey(cfg, 'region-1-unrouted', '0011', 'unrouted')), ['9000001:2', '9000005:1']);
  assert.deepEqual(await units(keys.all), ['9000001:2', '9000005:1']);
  assert.deepEqual(await units(keys.central), ['9000001:2', '9000002:1', '9000003:1', '9000004:1', '9000005:1']);
});

test('migrations 0015 and 0017: a key issued before scopes gets the central office and what it could do (audited), not the staff read API; with no single central office it is revoked', () => {
  const sql = fs.readFileSync(path.join(h.ROOT, 'migrations', '0015_admin_key_scopes.sql'), 'utf8');
  const legacy = h.createDatabase('scopemig');
  h.migrate(legacy);
  // back to the admin_api_keys and staff_sessions of before 0015
  const back = `ALTER TABLE admin_api_keys DROP COLUMN office_code, DROP COLUMN actions;
    ALTER TABLE staff_sessions DROP CONSTRAINT staff_sessions_ended_reason;
    ALTER TABLE staff_sessions ADD CONSTRAINT staff_sessions_ended_reason CHECK (ended_reason IN ('logout'));`;
  h.psql(legacy, `${back}
    INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO admin_api_keys (name, key_hash) VALUES ('old-it', sha256('old'::bytea));
    INSERT INTO admin_api_keys (name, key_hash, revoked_at) VALUES ('old-gone', sha256('gone'::bytea), now());`);
  h.psql(legacy, sql);
  assert.equal(h.psql(legacy, "SELECT name || ' ' || coalesce(office_code, '-') || ' ' || array_to_string(actions, ',') || ' ' || (revoked_at IS NULL) FROM admin_api_keys ORDER BY name"),
    'old-gone -  false\nold-it 0001 roster,activation,read true');
  assert.match(h.psql(legacy, "SELECT actor_kind || ' ' || action || ' ' || target || ' ' || details::text FROM audit_log WHERE target = 'old-it'"),
    /^system admin_key\.scope old-it \{.*"office": "0001".*re-issue a narrower key.*\}$/);
  // 0017: the key 0015 scoped loses the staff read API (personal data) and keeps unrouted events; a key issued
  // with read since keeps it and gains unrouted, which read covered; a key without read is left alone
  h.psql(legacy, `INSERT INTO admin_api_keys (name, key_hash, office_code, actions) VALUES
    ('new-read', sha256('r'::bytea), '0001', '{read}'), ('new-roster', sha256('s'::bytea), '0001', '{roster}')`);
  h.psql(legacy, fs.readFileSync(path.join(h.ROOT, 'migrations', '0017_admin_key_unrouted.sql'), 'utf8'));
  assert.equal(h.psql(legacy, "SELECT name || ' ' || array_to_string(actions, ',') FROM admin_api_keys WHERE revoked_at IS NULL ORDER BY name"),
    'new-read unrouted,read\nnew-roster roster\nold-it roster,activation,unrouted');
  assert.match(h.psql(legacy, "SELECT details::text FROM audit_log WHERE target = 'old-it' AND details->>'reason' LIKE 'migration 0017%'"),
    /loses the staff read API/);
  assert.equal(h.psql(legacy, "SELECT count(*) FROM audit_log WHERE target = 'new-roster'"), '0');
  assert.throws(() => h.psql(legacy, "UPDATE admin_api_keys SET actions = '{write}' WHERE name = 'new-roster'"));
  // no central office: a live key has nothing sound to be scoped to
  const none = h.createDatabase('scopemig');
  h.migrate(none);
  h.psql(none, `${back} INSERT INTO admin_api_keys (name, key_hash) VALUES ('old-it', sha256('old'::bytea));`);
  h.psql(none, sql);
  assert.equal(h.psql(none, "SELECT (office_code IS NULL) || ' ' || (revoked_at IS NOT NULL) FROM admin_api_keys"), 'true true');
  assert.match(h.psql(none, "SELECT action || ' ' || details::text FROM audit_log WHERE target = 'old-it'"), /^admin_key\.revoke .*no single central office/);
  // a live key without an office or an action cannot be stored
  assert.throws(() => h.psql(none, "INSERT INTO admin_api_keys (name, key_hash) VALUES ('bare', sha256('bare'::bytea))"));
  assert.throws(() => h.psql(none, "INSERT INTO admin_api_keys (name, key_hash, office_code, actions) VALUES ('bad', sha256('bad'::bytea), NULL, '{write}')"));
});
