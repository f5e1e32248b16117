'use strict';
// worklist.test.js - the follow-up worklist of units that are not protected
// (docs/staff.md "Worklist"): items open for partial and unprotected units
// with the right reasons and none for protected ones; assignment within
// scope (a bad assignee refused), contact attempts, due dates, overdue items
// shown to the regional treasury; the item closes by itself when the unit
// becomes protected; a hand-closed item reopens when the unit regresses and
// not when it improves; the printable list; scope 404s, viewers refused,
// audit rows, the 422s.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let db, kek, srv, cfg;
const staff = {};

function q(sql) {
  return h.psql(db, sql);
}
function cli(args) {
  return h.runAlertd([...args, '--config', cfg]);
}
function refresh() {
  const r = cli(['coverage', 'refresh']);
  assert.equal(r.code, 0, r.stderr);
}
const call = (who, method, p, body) => h.staffCall(srv, staff[who], method, p, body);
async function ok(who, method, p, body, status = 200) {
  const r = await call(who, method, p, body);
  assert.equal(r.status, status, `${method} ${p}: ${r.body}`);
  return r.json;
}
const itemOf = (unit) => q(`SELECT id FROM worklist_items WHERE unit_code = '${unit}' ORDER BY id DESC LIMIT 1`);
const codes = (item) => item.reasons.map((r) => r.code);
function vnDay(offset) {
  return q(`SELECT ((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + ${offset})::text`);
}

// Offices: 0001 central; 0011, 0012 regional; 0111, 0112 under 0011; 0121 under 0012.
//   2000001 @0111 holder + chief covered                          -> protected: no item
//   2000002 @0111 holder covered, chief never installed            -> partial: no_chief_install, never_installed 1
//   2000003 @0112 holder token_invalid, chief seen 40 days ago     -> unprotected: holder_unreachable, chief_unreachable (40 days)
//   2000004 @0112 a holder without a device, no chief on the roster -> unprotected: chief_missing, no_holder_install, never_installed 1
//   2000005 @0121 holder and chief, no device                      -> unprotected (another region)
const UNITS = [['2000001', 'Trường Tiểu học Lê Lợi', '0111'], ['2000002', 'Trạm Y tế Xã An Bình', '0111'],
  ['2000003', 'UBND Phường 3', '0112'], ['2000004', 'Trung tâm Văn hóa', '0112'], ['2000005', 'Ban Quản lý Chợ', '0121']];
const USERS = [['h1', '2000001', 'account_holder'], ['c1', '2000001', 'chief_accountant'],
  ['h2', '2000002', 'account_holder'], ['c2', '2000002', 'chief_accountant'],
  ['h3', '2000003', 'account_holder'], ['c3', '2000003', 'chief_accountant'],
  ['h4', '2000004', 'account_holder'],
  ['h5', '2000005', 'account_holder'], ['c5', '2000005', 'chief_accountant']];

test.before(async () => {
  db = h.createDatabase('worklist');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0012', 'KBNN khu vực II', '0001', 2);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3),
       ('0112', 'Phòng giao dịch số 2', '0011', 3), ('0121', 'Phòng giao dịch số 3', '0012', 3);
     INSERT INTO budget_units (code, name, office_code, contact_phone) VALUES ${UNITS.map(([c, n, o]) => `('${c}', '${n}', '${o}', '028${c}')`).join(',')};
     INSERT INTO users (dvctt_login, unit_code, full_name, phone) VALUES ${USERS.map(([l, u]) => `('${l}', '${u}', 'Người ${l}', '0912${l.charCodeAt(0)}${l[1]}00')`).join(',')};
     INSERT INTO user_roles (user_id, role) SELECT u.id, r.role::user_role FROM users u
       JOIN (VALUES ${USERS.map(([l, , r]) => `('${l}', '${r}')`).join(',')}) r(login, role) ON r.login = u.dvctt_login;
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'tok-' || dvctt_login FROM users WHERE dvctt_login IN ('h1', 'c1', 'h2');
     INSERT INTO devices (user_id, platform, push_token, state, state_reason) SELECT id, 'android', 'tok-h3', 'token_invalid', 'unregistered'
       FROM users WHERE dvctt_login = 'h3';
     INSERT INTO devices (user_id, platform, push_token, last_seen_at) SELECT id, 'ios', 'tok-c3', now() - interval '40 days 2 hours'
       FROM users WHERE dvctt_login = 'c3';`);
  const conf = h.ingestConfig(db, kek, { coverage: { refresh_seconds: 3600 }, worklist: { due_days: 7 }, push: { provider: 'log' } });
  cfg = h.writeConfig(conf);
  srv = await h.startServer({ db, config: conf });
  // the start-up refresh syncs the worklist too
  await h.eventually(() => q('SELECT count(*) FROM worklist_items') === '4', 10000, 100);
  staff.central = await h.staffReady(srv, cfg, 'central.op', '0001', 'operator');
  staff.region = await h.staffReady(srv, cfg, 'region.op', '0011', 'operator');
  staff.op111 = await h.staffReady(srv, cfg, 'office1.op', '0111', 'operator');
  staff.op112 = await h.staffReady(srv, cfg, 'office2.op', '0112', 'operator');
  staff.viewer = await h.staffReady(srv, cfg, 'office1.viewer', '0111', 'viewer');
  staff.other = await h.staffReady(srv, cfg, 'office3.op', '0121', 'operator');
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('items open for partial and unprotected units with their reasons, none for the protected unit', async () => {
  const all = await ok('central', 'GET', '/v1/staff/worklist?limit=200');
  assert.deepEqual(all.items.map((i) => [i.unit_code, i.office_code, i.state, i.status]).sort(), [
    ['2000002', '0111', 'open', 'partial'], ['2000003', '0112', 'open', 'unprotected'],
    ['2000004', '0112', 'open', 'unprotected'], ['2000005', '0121', 'open', 'unprotected']]);
  assert.equal(all.next_cursor, null);
  const by = Object.fromEntries(all.items.map((i) => [i.unit_code, i]));
  assert.deepEqual(by['2000002'].reasons, [{ code: 'no_chief_install', users: 1 }, { code: 'never_installed', users: 1 }]);
  assert.deepEqual(codes(by['2000003']), ['holder_unreachable', 'chief_unreachable']);
  const chief = by['2000003'].reasons[1];
  assert.equal(chief.days, 40, JSON.stringify(chief));
  assert.equal(chief.users, 1);
  assert.match(chief.last_seen_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(by['2000003'].reasons[0].days, 0);
  assert.deepEqual(by['2000004'].reasons, [{ code: 'chief_missing' }, { code: 'no_holder_install', users: 1 }, { code: 'never_installed', users: 1 }]);
  assert.deepEqual(codes(by['2000005']), ['no_holder_install', 'no_chief_install', 'never_installed']);
  // due worklist.due_days after opening, not overdue, nobody assigned
  const i = by['2000002'];
  assert.equal(Math.round((Date.parse(i.due_at) - Date.parse(i.opened_at)) / 86400e3), 7);
  assert.equal(i.overdue, false);
  assert.equal(i.escalated_to, null);
  assert.equal(i.assignee, null);
  assert.equal(q("SELECT count(*) FROM worklist_items WHERE unit_code = '2000001'"), '0');
  // a refresh with nothing changed changes nothing
  const before = q('SELECT string_agg(id || updated_at::text, \',\' ORDER BY id) FROM worklist_items');
  refresh();
  assert.equal(q('SELECT string_agg(id || updated_at::text, \',\' ORDER BY id) FROM worklist_items'), before);
  // filters and pages
  const page = await ok('central', 'GET', '/v1/staff/worklist?limit=3');
  assert.equal(page.items.length, 3);
  const rest = await ok('central', 'GET', `/v1/staff/worklist?limit=3&cursor=${page.next_cursor}`);
  assert.deepEqual([...page.items, ...rest.items].map((x) => x.id).sort(), all.items.map((x) => x.id).sort());
  assert.deepEqual((await ok('central', 'GET', '/v1/staff/worklist?status=partial')).items.map((x) => x.unit_code), ['2000002']);
  assert.deepEqual((await ok('central', 'GET', '/v1/staff/worklist?office=0012')).items.map((x) => x.unit_code), ['2000005']);
});

test('scope: an office sees its own items; another office\'s item is 404; bad parameters are 422', async () => {
  assert.deepEqual((await ok('op111', 'GET', '/v1/staff/worklist')).items.map((x) => x.unit_code), ['2000002']);
  assert.deepEqual((await ok('region', 'GET', '/v1/staff/worklist')).items.map((x) => x.unit_code).sort(), ['2000002', '2000003', '2000004']);
  for (const p of [`/v1/staff/worklist/${itemOf('2000003')}`, `/v1/staff/worklist/${itemOf('2000005')}`, '/v1/staff/worklist/99999', '/v1/staff/worklist/abc'])
    h.assertProblem(assert, await call('op111', 'GET', p), 404, 'not_found');
  h.assertProblem(assert, await call('region', 'GET', `/v1/staff/worklist/${itemOf('2000005')}`), 404, 'not_found');
  h.assertProblem(assert, await call('op111', 'GET', '/v1/staff/worklist?office=0112'), 404, 'not_found');
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${itemOf('2000003')}`, { due_date: vnDay(3) }), 404, 'not_found');
  h.assertProblem(assert, await call('op111', 'POST', `/v1/staff/worklist/${itemOf('2000003')}/contacts`, { channel: 'phone', outcome: 'reached' }), 404, 'not_found');
  // a cursor naming another region's item pages like an unknown one (no hint of its due date)
  q(`UPDATE worklist_items SET due_at = due_at - interval '1 day' WHERE id = ${itemOf('2000005')}`);
  assert.deepEqual((await ok('op111', 'GET', `/v1/staff/worklist?cursor=${itemOf('2000005')}`)).items, []);
  assert.deepEqual((await ok('op111', 'GET', '/v1/staff/worklist?cursor=99999')).items, []);
  for (const p of ['?state=maybe', '?status=protected', '?overdue=yes', '?limit=0', '?cursor=x'])
    h.assertProblem(assert, await call('central', 'GET', `/v1/staff/worklist${p}`), 422, 'validation_failed');
});

test('a viewer reads but cannot act (403, audited)', async () => {
  const id = itemOf('2000002');
  assert.equal((await ok('viewer', 'GET', '/v1/staff/worklist')).items.length, 1);
  h.assertProblem(assert, await call('viewer', 'PUT', `/v1/staff/worklist/${id}`, { assignee: 'office1.op' }), 403, 'role_not_allowed');
  h.assertProblem(assert, await call('viewer', 'POST', `/v1/staff/worklist/${id}/contacts`, { channel: 'phone', outcome: 'reached' }), 403, 'role_not_allowed');
  assert.equal(q("SELECT count(*) FROM audit_log WHERE actor_id = 'office1.viewer' AND action IN ('worklist.update', 'worklist.contact') AND outcome = 'denied'"), '2');
  assert.equal(q(`SELECT assignee_id IS NULL FROM worklist_items WHERE id = ${id}`), 't');
});

test('assign within scope; a bad assignee is refused; contact attempts and due dates; all audited', async () => {
  const id = itemOf('2000002');
  // not an operator of the item's office or above it, within the caller's subtree
  for (const bad of ['office2.op', 'office1.viewer', 'region.op', 'nobody.here'])
    h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, { assignee: bad }), 422, 'validation_failed');
  // the regional operator may give it to itself or to the office's operator
  let r = await ok('region', 'PUT', `/v1/staff/worklist/${id}`, { assignee: 'region.op' });
  assert.equal(r.item.assignee.login, 'region.op');
  r = await ok('op111', 'PUT', `/v1/staff/worklist/${id}`, { assignee: 'office1.op' });
  assert.deepEqual(r.item.assignee, { login: 'office1.op', full_name: r.item.assignee.full_name });
  assert.ok(r.item.assigned_at);
  assert.deepEqual((await ok('op111', 'GET', '/v1/staff/worklist?assignee=me')).items.map((x) => x.id), [Number(id)]);
  assert.deepEqual((await ok('central', 'GET', '/v1/staff/worklist?assignee=none')).items.map((x) => x.unit_code).sort(), ['2000003', '2000004', '2000005']);

  // a contact attempt
  const c = await ok('op111', 'POST', `/v1/staff/worklist/${id}/contacts`, { channel: 'phone', outcome: 'promised', note: 'Kế toán trưởng hứa cài ứng dụng trong tuần' }, 201);
  assert.ok(c.contact_id > 0);
  assert.equal(c.item.contacts, 1);
  assert.ok(c.item.last_contact_at);
  for (const bad of [{ channel: 'fax', outcome: 'reached' }, { channel: 'phone', outcome: 'maybe' }, { channel: 'phone', outcome: 'reached', note: 'x'.repeat(1001) },
    { channel: 'phone', outcome: 'reached', note: '' }, { channel: 'phone', outcome: 'reached', extra: 1 }, { outcome: 'reached' }])
    h.assertProblem(assert, await call('op111', 'POST', `/v1/staff/worklist/${id}/contacts`, bad), 422, 'validation_failed');

  // due dates: not before today; the end of that Vietnam day
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, { due_date: vnDay(-1) }), 422, 'validation_failed');
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, { due_date: '2026-13-01' }), 422, 'validation_failed');
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, { due_date: '2030-02-30' }), 422, 'validation_failed');
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, { due_date: '2030-04-31' }), 422, 'validation_failed');
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, {}), 422, 'validation_failed');
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, { state: 'closed' }), 422, 'validation_failed');
  r = await ok('op111', 'PUT', `/v1/staff/worklist/${id}`, { due_date: vnDay(3) });
  assert.equal(r.item.due_at, q(`SELECT to_char((('${vnDay(4)}'::date)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`));

  // the detail: contact history and the unit's people, a metered look-up
  const d = await ok('op111', 'GET', `/v1/staff/worklist/${id}`);
  assert.deepEqual(d.contact_attempts.map((x) => [x.channel, x.outcome, x.note, x.staff]), [['phone', 'promised', 'Kế toán trưởng hứa cài ứng dụng trong tuần', 'office1.op']]);
  assert.deepEqual(d.people.map((p) => [p.login, p.roles, p.covered, p.activation]), [['c2', ['chief_accountant'], false, 'none'], ['h2', ['account_holder'], true, 'none']]);
  assert.equal(d.item.unit_phone, '0282000002');
  assert.equal(q("SELECT count(*) FROM audit_log WHERE actor_id = 'office1.op' AND action = 'staff.lookup' AND details->>'what' = 'worklist_item' AND target = '2000002'"), '1');

  assert.deepEqual(q(`SELECT action || ' ' || actor_id || ' ' || coalesce(details->>'assignee', details->>'due_date', details->>'channel') FROM audit_log
    WHERE action IN ('worklist.update', 'worklist.contact') AND outcome = 'ok' ORDER BY id`).split('\n'),
  ['worklist.update region.op region.op', 'worklist.update office1.op office1.op', 'worklist.contact office1.op phone', `worklist.update office1.op ${vnDay(3)}`]);
});

test('an overdue item escalates to the regional treasury\'s view', async () => {
  const id = itemOf('2000003');
  q(`UPDATE worklist_items SET due_at = now() - interval '1 hour' WHERE id = ${id}`);
  const reg = await ok('region', 'GET', '/v1/staff/worklist?overdue=true');
  assert.deepEqual(reg.items.map((x) => [x.unit_code, x.overdue, x.escalated_to]), [['2000003', true, '0011']]);
  // another region sees nothing of it
  assert.deepEqual((await ok('other', 'GET', '/v1/staff/worklist?overdue=true')).items, []);
  assert.equal((await ok('region', 'GET', '/v1/staff/worklist?overdue=false')).items.some((x) => x.unit_code === '2000003'), false);
});

test('the item closes by itself when the unit becomes protected', async () => {
  const id = itemOf('2000002');
  q("INSERT INTO devices (user_id, platform, push_token) SELECT id, 'ios', 'tok-c2' FROM users WHERE dvctt_login = 'c2'");
  refresh();
  const r = await ok('op111', 'GET', `/v1/staff/worklist/${id}`);
  assert.deepEqual([r.item.state, r.item.closed_by, r.item.close_reason, r.item.current, r.item.status], ['closed', 'system', 'protected', false, 'protected']);
  assert.deepEqual((await ok('op111', 'GET', '/v1/staff/worklist')).items, []);
  assert.equal((await ok('op111', 'GET', '/v1/staff/worklist?state=closed')).items[0].id, Number(id));
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE actor_kind = 'system' AND action = 'worklist.close' AND details->>'item' = '${id}'`), '1');
  // history is not changed by hand
  h.assertProblem(assert, await call('op111', 'PUT', `/v1/staff/worklist/${id}`, { state: 'open' }), 409, 'conflict');
  h.assertProblem(assert, await call('op111', 'POST', `/v1/staff/worklist/${id}/contacts`, { channel: 'visit', outcome: 'reached' }), 409, 'conflict');
  // it regresses again: a new episode, a new item
  q("UPDATE devices SET state = 'revoked', state_reason = 'user' WHERE push_token = 'tok-c2'");
  refresh();
  const again = itemOf('2000002');
  assert.notEqual(again, id);
  assert.equal(q(`SELECT state || ' ' || episode_open FROM worklist_items WHERE id = ${again}`), 'open true');
  assert.deepEqual(codes((await ok('op111', 'GET', `/v1/staff/worklist/${again}`)).item), ['chief_unreachable']);
});

test('closed by hand: stays closed while the unit improves, reopens when it regresses', async () => {
  const id = itemOf('2000004');
  let r = await ok('op112', 'PUT', `/v1/staff/worklist/${id}`, { state: 'closed', note: 'Đơn vị đang sáp nhập, chưa có kế toán trưởng' });
  assert.deepEqual([r.item.state, r.item.closed_by, r.item.close_reason, r.item.close_note, r.item.current], ['closed', 'office2.op', 'hand', 'Đơn vị đang sáp nhập, chưa có kế toán trưởng', true]);
  refresh();
  assert.equal(q(`SELECT state FROM worklist_items WHERE id = ${id}`), 'closed');
  // the holder installs: a reason goes, the status improves (partial): still closed
  q("INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'tok-h4' FROM users WHERE dvctt_login = 'h4'");
  refresh();
  assert.equal(q(`SELECT state || ' ' || status FROM worklist_items WHERE id = ${id}`), 'closed partial');
  // a chief joins without the app: a reason that was not there at the close -> reopened
  q(`INSERT INTO users (dvctt_login, unit_code, full_name, phone) VALUES ('c4', '2000004', 'Người c4', '0912990000');
     INSERT INTO user_roles (user_id, role) SELECT id, 'chief_accountant' FROM users WHERE dvctt_login = 'c4'`);
  refresh();
  r = await ok('op112', 'GET', `/v1/staff/worklist/${id}`);
  assert.deepEqual([r.item.state, r.item.reopen_count, r.item.close_note, r.item.status], ['open', 1, null, 'partial']);
  assert.deepEqual(codes(r.item), ['no_chief_install', 'never_installed']);
  assert.ok(r.item.reopened_at);
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE actor_kind = 'system' AND action = 'worklist.reopen' AND details->>'item' = '${id}'`), '1');

  // closed by hand again, then a worse status (unprotected) -> reopened
  await ok('op112', 'PUT', `/v1/staff/worklist/${id}`, { state: 'closed', note: 'Đã nhắc tại quầy' });
  q("UPDATE devices SET state = 'revoked', state_reason = 'user' WHERE push_token = 'tok-h4'");
  refresh();
  assert.equal(q(`SELECT state || ' ' || status || ' ' || reopen_count FROM worklist_items WHERE id = ${id}`), 'open unprotected 2');

  // reopened by hand too
  await ok('op112', 'PUT', `/v1/staff/worklist/${id}`, { state: 'closed', note: 'Tạm đóng' });
  r = await ok('op112', 'PUT', `/v1/staff/worklist/${id}`, { state: 'open' });
  assert.equal(r.item.state, 'open');
});

test('the printable list: units of the office to remind at the counter, with each user\'s activation status (metered)', async () => {
  q("INSERT INTO activation_codes (user_id, code_hash, expires_at, created_by) SELECT id, sha256('c5code'::bytea), now() + interval '1 day', 'test' FROM users WHERE dvctt_login = 'c5'");
  const r = await ok('other', 'GET', '/v1/staff/worklist/print?office=0121');
  assert.equal(r.office, '0121');
  assert.equal(r.truncated, false);
  assert.deepEqual(r.units.map((u) => [u.unit_code, u.unit_name, u.unit_phone]), [['2000005', 'Ban Quản lý Chợ', '0282000005']]);
  assert.deepEqual(r.units[0].users.map((u) => [u.full_name, u.roles, u.activation, u.covered]),
    [['Người c5', ['chief_accountant'], 'pending', false], ['Người h5', ['account_holder'], 'none', false]]);
  assert.equal(q("SELECT count(*) FROM audit_log WHERE actor_id = 'office3.op' AND action = 'staff.lookup' AND details->>'what' = 'worklist_print'"), '1');
  h.assertProblem(assert, await call('other', 'GET', '/v1/staff/worklist/print'), 422, 'validation_failed');
  h.assertProblem(assert, await call('other', 'GET', '/v1/staff/worklist/print?office=0112'), 404, 'not_found');
});

test('a unit that leaves the roster closes its item', async () => {
  const id = itemOf('2000005');
  q("UPDATE budget_units SET active = false WHERE code = '2000005'");
  refresh();
  assert.equal(q(`SELECT state || ' ' || close_reason || ' ' || episode_open FROM worklist_items WHERE id = ${id}`), 'closed unit_inactive false');
});
