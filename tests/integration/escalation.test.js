'use strict';
// escalation.test.js - risk alerts that reached nobody (docs/alerts.md
// "Escalation"): a risk event for a unit whose users have no device
// escalates once escalation.after_minutes have passed (the alerts are
// backdated in SQL: no production backdoor), with the reason; a unit whose
// push was sent and read does not; one sent but unread does (unread); the
// office's duty address gets a mail_outbox row without amounts; the list
// shows the phones (metered); acknowledgement with a note clears it, is
// audited, measures the time, and moves the metrics; scope, roles, 422s.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

let db, kek, srv, cfg, source, adminKey;
const staff = {};
const TOKEN = crypto.randomBytes(32).toString('hex');
const TOKEN_HASH = crypto.createHash('sha256').update(TOKEN).digest('hex');

function q(sql) {
  return h.psql(db, sql);
}
const call = (who, method, p, body) => h.staffCall(srv, staff[who], method, p, body);
async function ok(who, method, p, body, status = 200) {
  const r = await call(who, method, p, body);
  assert.equal(r.status, status, `${method} ${p}: ${r.body}`);
  return r.json;
}
async function metric(name) {
  const r = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  const m = r.body.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}
async function activate(login, pushToken) {
  const c = await h.request(srv.url, 'POST', `/v1/admin/users/${login}/activation-code`, { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(c.status, 201, c.body);
  const r = await h.request(srv.url, 'POST', '/v1/app/activate', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, activation_code: c.json.activation_code, device: { platform: 'android', push_token: pushToken, app_version: '1.0.0', model: 'Pixel 8' } }),
  });
  assert.equal(r.status, 201, r.body);
  return r.json.access_token;
}
async function riskEvent(unit) {
  const e = h.balanceEvent({ unit_code: unit, data: { account: '9523.1.1012345', amount: -987654321, balance_after: 5, description: 'Chi' } });
  const p = await h.postSigned(srv, 'tabmis', source, e);
  assert.equal(p.status, 202, p.body);
  await h.eventually(() => q(`SELECT count(*) FROM alerts a JOIN events e ON e.id = a.event_id WHERE e.external_id = '${e.id}' AND a.severity = 'risk'`) !== '0');
  return q(`SELECT id FROM events WHERE external_id = '${e.id}'`);
}
const backdate = (eventId) => q(`UPDATE alerts SET created_at = created_at - interval '3 minutes' WHERE event_id = ${eventId}`);

// 0001 central; 0011 regional; 0111, 0112 under 0011.
//   3000001 @0111 holder and chief without any device     -> no_reachable_device
//   3000002 @0111 holder with a phone who reads the alert   -> not escalated
//   3000003 @0112 holder with a phone, the alert unread     -> unread
test.before(async () => {
  db = h.createDatabase('escalation');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3), ('0112', 'Phòng giao dịch số 2', '0011', 3);
     INSERT INTO budget_units (code, name, office_code, contact_phone) VALUES ('3000001', 'Trường Mầm non Hoa Sen', '0111', '02838000001'),
       ('3000002', 'Trạm Y tế Xã Tân Phú', '0111', '02838000002'), ('3000003', 'UBND Xã Bình Minh', '0112', '02838000003');
     INSERT INTO users (dvctt_login, unit_code, full_name, phone) VALUES ('e.h1', '3000001', 'Nguyễn Văn Chủ', '0912000001'),
       ('e.c1', '3000001', 'Trần Thị Kế', '0912000002'), ('e.h2', '3000002', 'Lê Văn Đọc', '0912000003'), ('e.h3', '3000003', 'Phạm Thị Bận', '0912000004');
     INSERT INTO user_roles (user_id, role) SELECT id, CASE WHEN dvctt_login = 'e.c1' THEN 'chief_accountant' ELSE 'account_holder' END::user_role FROM users;`);
  const conf = h.ingestConfig(db, kek, {
    push: { provider: 'log' }, risk: { large_amount_vnd: 1000 }, metrics: { token_sha256: TOKEN_HASH },
    escalation: { after_minutes: 2, check_seconds: 1 },
  });
  cfg = h.writeConfig(conf);
  const k = h.runAlertd(['admin-key', 'add', 'it', '--office', '0001', '--scope', 'activation', '--config', cfg]);
  assert.equal(k.code, 0, k.stderr);
  adminKey = k.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  source = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  const d = h.runAlertd(['office', 'duty-email', '0111', 'truc.pgd1@kbnn.vn', '--config', cfg]);
  assert.equal(d.code, 0, d.stderr);
  srv = await h.startServer({ db, config: conf });
  staff.op111 = await h.staffReady(srv, cfg, 'esc.op1', '0111', 'operator');
  staff.op112 = await h.staffReady(srv, cfg, 'esc.op2', '0112', 'operator');
  staff.viewer = await h.staffReady(srv, cfg, 'esc.viewer', '0111', 'viewer');
  staff.region = await h.staffReady(srv, cfg, 'esc.region', '0011', 'viewer');
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('the duty address: set and cleared by the CLI, audited, checked', () => {
  assert.equal(q("SELECT duty_email FROM offices WHERE code = '0111'"), 'truc.pgd1@kbnn.vn');
  assert.equal(q("SELECT count(*) FROM audit_log WHERE action = 'office.duty_email' AND target = '0111' AND actor_kind = 'cli'"), '1');
  let r = h.runAlertd(['office', 'duty-email', '0112', 'not an address', '--config', cfg]);
  assert.equal(r.code, 1);
  r = h.runAlertd(['office', 'duty-email', '9999', 'a@b.vn', '--config', cfg]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no office 9999/);
  r = h.runAlertd(['office', 'duty-email', '0112', 'x@kbnn.vn', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  r = h.runAlertd(['office', 'duty-email', '0112', '--clear', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(q("SELECT duty_email IS NULL FROM offices WHERE code = '0112'"), 't');
  assert.equal(h.runAlertd(['office', 'duty-email', '0112', '--config', cfg]).code, 2);
});

test('an undelivered risk alert escalates after the set minutes; one read in time does not; one unread does', async () => {
  const reader = await activate('e.h2', 'tok-reader');
  await activate('e.h3', 'tok-busy');
  const none = await riskEvent('3000001');
  const read = await riskEvent('3000002');
  const unread = await riskEvent('3000003');
  // the pushes of the log provider are recorded as sent
  await h.eventually(() => q(`SELECT count(*) FROM push_outbox o JOIN alerts a ON a.id = o.alert_id WHERE a.event_id IN (${read}, ${unread}) AND o.state = 'sent'`) === '2');
  // not before after_minutes: the pass runs every second and leaves the fresh alerts alone
  await h.sleep(2500);
  assert.equal(q('SELECT count(*) FROM escalations'), '0');
  // the holder of 3000002 reads the alert
  const inbox = await h.request(srv.url, 'GET', '/v1/app/alerts', { headers: { authorization: `Bearer ${reader}` } });
  const alert = inbox.json.items.find((a) => a.severity === 'risk');
  const rd = await h.request(srv.url, 'POST', `/v1/app/alerts/${alert.id}/read`, { headers: { authorization: `Bearer ${reader}` } });
  assert.ok(rd.status === 200 || rd.status === 204, rd.body);
  // time passes (older than escalation.after_minutes)
  q(`UPDATE alerts SET created_at = created_at - interval '3 minutes' WHERE event_id IN (${none}, ${read}, ${unread})`);
  await h.eventually(() => q('SELECT count(*) FROM escalations') === '2', 10000);
  assert.deepEqual(q('SELECT unit_code, office_code, risk_rule, reason, users_alerted FROM escalations ORDER BY unit_code').split('\n'),
    ['3000001|0111|large_amount|no_reachable_device|2', '3000003|0112|large_amount|unread|1']);
  assert.equal(q(`SELECT event_id FROM escalations WHERE unit_code = '3000001'`), none);
  // once: later passes add nothing
  await h.sleep(1500);
  assert.equal(q('SELECT count(*) FROM escalations'), '2');
  assert.match(srv.logs(), /risk alert escalated: call the unit/);
});

test('the duty e-mail row: office 0111 has an address, 0112 has none; Vietnamese, no amount', () => {
  const rows = q("SELECT unit_code, office_code, to_kind, to_addr, lang, state FROM mail_outbox WHERE purpose = 'escalation'").split('\n');
  assert.deepEqual(rows, ['3000001|0111|office_duty|truc.pgd1@kbnn.vn|vi|pending']);
  const subject = q("SELECT subject FROM mail_outbox WHERE purpose = 'escalation'");
  const body = q("SELECT body FROM mail_outbox WHERE purpose = 'escalation'");
  assert.match(subject, /3000001/);
  assert.match(body, /3000001 - Trường Mầm non Hoa Sen/);
  assert.match(body, /Hãy gọi cho đơn vị ngay/);
  assert.match(body, /Quy tắc: Cảnh báo: giao dịch giá trị lớn/);
  assert.doesNotMatch(body, /987|VND|9523/);
});

test('the list: "call this unit now" with the phones (metered), scoped; the badge count', async () => {
  const l = await ok('op111', 'GET', '/v1/staff/escalations');
  assert.equal(l.escalations.length, 1);
  const e = l.escalations[0];
  assert.deepEqual([e.unit_code, e.unit_name, e.rule, e.reason, e.unit_phone, e.acknowledged_at], ['3000001', 'Trường Mầm non Hoa Sen', 'large_amount', 'no_reachable_device', '02838000001', null]);
  assert.deepEqual(e.people.map((p) => [p.full_name, p.phone, p.roles]).sort(), [['Nguyễn Văn Chủ', '0912000001', ['account_holder']], ['Trần Thị Kế', '0912000002', ['chief_accountant']]]);
  assert.ok(e.age_seconds >= 0);
  assert.equal(q("SELECT count(*) FROM audit_log WHERE actor_id = 'esc.op1' AND action = 'staff.lookup' AND details->>'what' = 'escalations'"), '1');
  assert.deepEqual((await ok('op112', 'GET', '/v1/staff/escalations')).escalations.map((x) => x.unit_code), ['3000003']);
  assert.deepEqual((await ok('region', 'GET', '/v1/staff/escalations')).escalations.map((x) => x.unit_code), ['3000003', '3000001']);
  assert.deepEqual((await ok('region', 'GET', '/v1/staff/escalations?office=0112')).escalations.map((x) => x.unit_code), ['3000003']);
  assert.equal((await ok('region', 'GET', '/v1/staff/escalations/count')).open, 2);
  assert.equal((await ok('op111', 'GET', '/v1/staff/escalations/count')).open, 1);
  h.assertProblem(assert, await call('op111', 'GET', '/v1/staff/escalations?office=0112'), 404, 'not_found');
  h.assertProblem(assert, await call('op111', 'GET', '/v1/staff/escalations?state=closed'), 422, 'validation_failed');
  const page = await ok('region', 'GET', '/v1/staff/escalations?limit=1');
  assert.equal(page.escalations.length, 1);
  const next = await ok('region', 'GET', `/v1/staff/escalations?limit=1&cursor=${page.next_cursor}`);
  assert.deepEqual(next.escalations.map((x) => x.unit_code), ['3000001']);
  assert.equal(next.next_cursor, null);
});

test('acknowledgement: a note, operator or admin, in scope; time to acknowledge measured; the metrics follow', async () => {
  await h.eventually(async () => (await metric('alertd_escalations_unacknowledged')) === 2, 10000);
  assert.ok((await metric('alertd_escalation_oldest_unacknowledged_seconds')) >= 0);
  assert.equal(await metric('alertd_escalation_ack_seconds_count'), 0);
  const id = q("SELECT id FROM escalations WHERE unit_code = '3000001'");
  h.assertProblem(assert, await call('viewer', 'POST', `/v1/staff/escalations/${id}/ack`, { note: 'x' }), 403, 'role_not_allowed');
  h.assertProblem(assert, await call('op112', 'POST', `/v1/staff/escalations/${id}/ack`, { note: 'x' }), 404, 'not_found');
  h.assertProblem(assert, await call('op111', 'POST', '/v1/staff/escalations/99999/ack', { note: 'x' }), 404, 'not_found');
  for (const bad of [{}, { note: '' }, { note: 'x'.repeat(1001) }, { note: 5 }, { note: 'ok', extra: true }])
    h.assertProblem(assert, await call('op111', 'POST', `/v1/staff/escalations/${id}/ack`, bad), 422, 'validation_failed');
  const r = await ok('op111', 'POST', `/v1/staff/escalations/${id}/ack`, { note: 'Đã gọi kế toán trưởng, đơn vị xác nhận giao dịch' });
  assert.equal(r.acknowledged_by, 'esc.op1');
  h.assertProblem(assert, await call('op111', 'POST', `/v1/staff/escalations/${id}/ack`, { note: 'again' }), 409, 'conflict');
  assert.equal(q(`SELECT acknowledged_by || '|' || ack_note || '|' || (ack_seconds >= 0 AND ack_seconds < 3600) FROM escalations WHERE id = ${id}`),
    'esc.op1|Đã gọi kế toán trưởng, đơn vị xác nhận giao dịch|true');
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'escalation.ack' AND actor_id = 'esc.op1' AND target = '3000001' AND details->>'escalation' = '${id}'`), '1');
  assert.equal(q("SELECT count(*) FROM audit_log WHERE action = 'escalation.ack' AND outcome = 'denied' AND actor_id = 'esc.viewer'"), '1');
  // cleared from the open list, in the acknowledged one
  assert.deepEqual((await ok('op111', 'GET', '/v1/staff/escalations')).escalations, []);
  const done = await ok('op111', 'GET', '/v1/staff/escalations?state=acknowledged');
  assert.deepEqual(done.escalations.map((x) => [x.unit_code, x.acknowledged_by, x.note]), [['3000001', 'esc.op1', 'Đã gọi kế toán trưởng, đơn vị xác nhận giao dịch']]);
  assert.ok(done.escalations[0].ack_seconds >= 0);
  assert.equal((await ok('op111', 'GET', '/v1/staff/escalations/count')).open, 0);
  await h.eventually(async () => (await metric('alertd_escalations_unacknowledged')) === 1, 10000);
  assert.equal(await metric('alertd_escalation_ack_seconds_count'), 1);
  // the other one too: nothing open, the oldest age back to 0
  await ok('op112', 'POST', `/v1/staff/escalations/${q("SELECT id FROM escalations WHERE unit_code = '3000003'")}/ack`, { note: 'Đã nhắc' });
  await h.eventually(async () => (await metric('alertd_escalations_unacknowledged')) === 0, 10000);
  assert.equal(await metric('alertd_escalation_oldest_unacknowledged_seconds'), 0);
  assert.equal(await metric('alertd_escalation_ack_seconds_count'), 2);
});
