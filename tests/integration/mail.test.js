'use strict';
// mail.test.js - e-mail through libcurl's SMTP against a real SMTP server
// (smtp-server with STARTTLS on a test CA and AUTH, tests/integration/smtp.js):
// the risk-alert fallback written at fan-out (to the user, else one copy to
// the unit's contact address, none for a user with a reachable phone; no
// amount), its MIME structure and RFC 2047 Vietnamese subject, retries
// through an SMTP outage, a permanent 5xx refusal, two instances sharing
// the outbox, manual and automatic reminders with their limits, the bulk
// activation instructions (scope, re-authentication, own address only, the
// code works and is never stored readable), the outcomes per unit, and no
// secret in the logs.

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { createPki, startSmtp, smtpConfig } = require('./smtp');

const PASS = 'smtp-Pa55-word-9f3k';
let db, kek, srv, srv2, secret, pki, smtp, cfgFile;
const staff = {};

function q(sql) {
  return h.psql(db, sql);
}

function mailRows(where) {
  const out = q(`SELECT json_agg(m ORDER BY id) FROM mail_outbox m WHERE ${where}`);
  return out ? JSON.parse(out) : [];
}

async function post(ev) {
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 202, r.body);
  return Number(q(`SELECT id FROM events WHERE external_id = '${ev.id}'`));
}

function riskVoucher(unit, office, number) {
  // signed seconds apart, a cash withdrawal: a risk alert (rule signature_gap names it) for every user of the unit
  return h.voucherEvent({ unit_code: unit, office_code: office, data: { ...h.voucherEvent().data,
    voucher: { ...h.voucherEvent().data.voucher, number } } });
}

// RFC 2047 encoded words of a raw header, after unfolding
function subjectWords(raw) {
  const head = raw.split('\r\n\r\n')[0].replace(/\r\n[ \t]/g, ' ');
  const line = head.split('\r\n').find((l) => /^subject:/i.test(l));
  return line.replace(/^subject:\s*/i, '').split(' ');
}

test.before(async () => {
  db = h.createDatabase('mail');
  kek = h.createKek();
  h.migrate(db);
  pki = createPki();
  smtp = await startSmtp({ pki, pass: PASS });
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0021', 'KBNN khu vực II', '0001', 2);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3),
       ('0112', 'Phòng giao dịch số 2', '0011', 3), ('0211', 'Phòng giao dịch số 3', '0021', 3);
     INSERT INTO budget_units (code, name, office_code, contact_email) VALUES
       ('1000001', 'Trường THCS Nguyễn Du', '0111', 'ketoan.1000001@donvi.vn'),
       ('1000002', 'Trạm Y tế Phường 1', '0111', NULL),
       ('1000003', 'Trường Tiểu học Lê Lợi', '0112', 'ketoan.1000003@donvi.vn'),
       ('1000004', 'UBND Phường 4', '0112', NULL),
       ('1000005', 'Trường Mầm non Hoa Sen', '0112', NULL),
       ('2000001', 'Bệnh viện Quận', '0211', 'bv@donvi.vn');
     INSERT INTO users (dvctt_login, unit_code, full_name, email) VALUES
       ('holder1', '1000001', 'Trần Thị Bình', 'holder1@donvi.vn'), ('chief1', '1000001', 'Lê Văn Cường', NULL),
       ('acct1', '1000001', 'Phạm Thu Hà', NULL), ('dev1', '1000001', 'Ngô Quang Minh', 'dev1@donvi.vn'),
       ('holder2', '1000002', 'Đỗ Minh Khoa', 'holder2@donvi.vn'),
       ('r1', '1000003', 'Vũ Thị Lan', 'r1@donvi.vn'), ('r2', '1000003', 'Hồ Văn Nam', 'r2@donvi.vn'), ('r3', '1000003', 'Lý Thu', NULL),
       ('s1', '1000004', 'Mai Anh', 's1@donvi.vn'), ('s2', '1000004', 'Mai Bình', 's2@donvi.vn'),
       ('t1', '1000005', 'Tạ Chi', 't1@donvi.vn'), ('t2', '1000005', 'Tạ Dũng', 't2@donvi.vn'),
       ('far1', '2000001', 'Cao Văn Xa', 'far1@donvi.vn');
     INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login IN ('holder1', 'holder2', 'r1', 's1', 't1', 'far1');
     INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login IN ('chief1', 'r2', 's2', 't2');
     INSERT INTO user_roles SELECT id, 'accountant' FROM users WHERE dvctt_login IN ('acct1', 'dev1', 'r3');
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-dev1' FROM users WHERE dvctt_login = 'dev1';
     UPDATE user_preferences SET lang = 'vi';`);
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  const config = h.ingestConfig(db, kek, { ...smtpConfig(smtp, pki, PASS, { workers: 2, reminders_per_unit_per_day: 4, reminders_per_office_per_day: 8 }),
    push: { provider: 'log' } });
  cfgFile = h.writeConfig(config);
  srv = await h.startServer({ db, config });
  staff.op = await h.staffReady(srv, cfgFile, 'op.one', '0111', 'operator');
  staff.op2 = await h.staffReady(srv, cfgFile, 'op.two', '0011', 'operator');
  staff.viewer = await h.staffReady(srv, cfgFile, 'view.one', '0111', 'viewer');
});

test.after(async () => {
  if (srv2) await srv2.stop();
  if (srv) await srv.stop();
  if (smtp) await smtp.stop();
});

test('fallback: a risk alert goes by e-mail to the user without a reachable phone, MIME and Vietnamese subject intact', async () => {
  const id = await post(riskVoucher('1000001', '0111', 'FB-0001'));
  const rows = mailRows(`purpose = 'fallback' AND alert_id IN (SELECT id FROM alerts WHERE event_id = ${id})`);
  // holder1 (own address), one copy for chief1 and acct1 (the unit's contact address), none for dev1 (a reachable phone)
  assert.deepEqual(rows.map((r) => [r.to_kind, r.to_addr]).sort(),
    [['unit_contact', 'ketoan.1000001@donvi.vn'], ['user', 'holder1@donvi.vn']]);
  const m = await h.eventually(() => smtp.to('holder1@donvi.vn').find((x) => /FB-0001|1000001/.test(x.parsed.subject)));
  assert.equal(m.mailFrom, 'canhbao@kbnn.gov.vn');
  assert.deepEqual(m.rcptTo, ['holder1@donvi.vn']);
  assert.equal(m.secure, true, 'STARTTLS before the message');
  assert.equal(m.user, 'alertd', 'AUTH before the message');
  assert.equal(m.parsed.subject, 'Cảnh báo rủi ro - đơn vị 1000001: hai chữ ký gần như cùng lúc');
  for (const w of subjectWords(m.raw)) {
    assert.match(w, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    assert.ok(w.length <= 75, w);
    // each word decodes on its own: never cut inside a UTF-8 sequence
    const bytes = Buffer.from(w.slice(10, -2), 'base64');
    assert.equal(Buffer.from(bytes.toString('utf8'), 'utf8').compare(bytes), 0);
    assert.ok(!bytes.toString('utf8').includes('\ufffd'));
  }
  assert.equal(m.parsed.from.value[0].address, 'canhbao@kbnn.gov.vn');
  assert.equal(m.parsed.to.value[0].address, 'holder1@donvi.vn');
  assert.equal(m.parsed.headers.get('auto-submitted'), 'auto-generated');
  assert.match(m.parsed.messageId, /^<[0-9a-f]{32}@kbnn\.gov\.vn>$/);
  assert.ok(m.parsed.date instanceof Date && Math.abs(m.parsed.date - Date.now()) < 600000);
  assert.match(m.raw, /^mime-version: 1\.0\r$/im);
  assert.match(m.raw, /^content-type: text\/plain; charset=UTF-8\r$/im);
  assert.match(m.raw, /^content-transfer-encoding: base64\r$/im);
  assert.match(m.parsed.text, /đăng nhập ứng dụng cảnh báo KBNN hoặc Dịch vụ công trực tuyến \(DVCTT\)/);
  assert.match(m.parsed.text, /Phòng giao dịch số 1/);
  // privacy mode always: no amount, no counterparty, no account
  for (const secretText of ['50.000.000', '50000000', 'Nguyễn Văn A', '0123456789', 'Vietcombank', '9523']) {
    assert.ok(!m.parsed.text.includes(secretText), secretText);
  }
  const c = await h.eventually(() => smtp.to('ketoan.1000001@donvi.vn').find((x) => x.parsed.subject.includes('1000001')));
  assert.ok(c);
  await h.eventually(() => mailRows(`purpose = 'fallback' AND state = 'sent'`).length === 2);
  assert.equal(smtp.to('ketoan.1000001@donvi.vn').length, 1, 'one copy to the unit mailbox');
  assert.equal(smtp.to('dev1@donvi.vn').length, 0, 'a user with a reachable phone gets no mail');
  const sent = mailRows(`purpose = 'fallback' AND to_addr = 'holder1@donvi.vn'`)[0];
  assert.equal(sent.attempts, 1);
  assert.equal(sent.leased_by, null);
});

test('fallback: an info alert sends no mail; a re-sent event adds none', async () => {
  const before = q(`SELECT count(*) FROM mail_outbox`);
  await post(h.balanceEvent({ unit_code: '1000001', data: { account: '9523.1.1012345', amount: 1000, balance_after: 5000 } }));
  const ev = riskVoucher('1000002', '0111', 'FB-0002');
  await post(ev);
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 200, r.body);
  assert.equal(Number(q(`SELECT count(*) FROM mail_outbox`)), Number(before) + 1);
  await h.eventually(() => smtp.to('holder2@donvi.vn').length === 1);
});

function queueMail(subject, to, extra = '') {
  return Number(q(`INSERT INTO mail_outbox (purpose, unit_code, office_code, to_kind, to_addr, lang, subject, body${extra ? ', due_at' : ''})
    VALUES ('escalation', '1000002', '0111', 'office_duty', '${to}', 'vi', '${subject}', 'Gọi ngay cho đơn vị 1000002.'${extra ? `, ${extra}` : ''}) RETURNING id`));
}

test('SMTP down: the row is retried with its reason and delivered once the server is back, once', async () => {
  const port = smtp.port;
  await smtp.stop();
  const id = queueMail('Outage test 1', 'duty@kbnn.gov.vn');
  await h.eventually(() => {
    const r = mailRows(`id = ${id}`)[0];
    return r.state === 'pending' && r.attempts >= 2 && /^connect: /.test(r.last_error) && r.leased_by === null;
  });
  smtp = await startSmtp({ pki, pass: PASS, port });
  await h.eventually(() => mailRows(`id = ${id}`)[0].state === 'sent', 20000);
  const r = mailRows(`id = ${id}`)[0];
  assert.equal(r.last_error, null);
  assert.ok(r.sent_at);
  // a later poll must not send it again
  const later = queueMail('Outage test 2', 'duty@kbnn.gov.vn');
  await h.eventually(() => mailRows(`id = ${later}`)[0].state === 'sent');
  assert.equal(smtp.messages.filter((m) => m.parsed.subject === 'Outage test 1').length, 1);
});

test('a 5xx refusal fails the row at once with the reason; a 4xx is retried until it passes', async () => {
  smtp.refuse('gone@donvi.vn', 550, 'No such mailbox');
  smtp.refuse('busy@donvi.vn', 451, 'Try again later');
  const gone = queueMail('Refused 550', 'gone@donvi.vn');
  const busy = queueMail('Refused 451', 'busy@donvi.vn');
  await h.eventually(() => mailRows(`id = ${gone}`)[0].state === 'failed');
  const g = mailRows(`id = ${gone}`)[0];
  assert.equal(g.attempts, 1);
  assert.match(g.last_error, /^permanent: .*\(smtp 550\)$/);
  await h.eventually(() => mailRows(`id = ${busy}`)[0].attempts >= 2);
  const b = mailRows(`id = ${busy}`)[0];
  assert.equal(b.state, 'pending');
  assert.match(b.last_error, /^temporary: .*\(smtp 451\)$/);
  smtp.allow('busy@donvi.vn');
  await h.eventually(() => mailRows(`id = ${busy}`)[0].state === 'sent', 20000);
  assert.equal(smtp.to('busy@donvi.vn').length, 1);
  assert.equal(smtp.to('gone@donvi.vn').length, 0);
});

test('a row that cannot be a message (bad subject) fails as invalid, with nothing sent', async () => {
  const id = Number(q(`INSERT INTO mail_outbox (purpose, unit_code, office_code, to_kind, to_addr, lang, subject, body)
    VALUES ('escalation', '1000002', '0111', 'office_duty', 'duty@kbnn.gov.vn', 'vi', E'Hi\\r\\nBcc: evil@example.com', 'x') RETURNING id`));
  await h.eventually(() => mailRows(`id = ${id}`)[0].state === 'failed');
  assert.match(mailRows(`id = ${id}`)[0].last_error, /^invalid: subject/);
  assert.ok(!smtp.messages.some((m) => m.rcptTo.includes('evil@example.com') || /evil@example\.com/.test(m.raw)));
});

test('a lost lease is reclaimed; an exhausted one fails; a sealed body that cannot be opened fails and is erased', async () => {
  // an instance died while sending: its lease ran out, any worker takes the row again; and one whose lost
  // lease was its last attempt (mail.max_attempts is 8). Written whole in one statement, so no worker sees them half-made.
  const dead = (subject, attempts) => Number(q(`INSERT INTO mail_outbox (purpose, unit_code, office_code, to_kind, to_addr, lang, subject, body,
      due_at, leased_by, leased_until, attempts)
    VALUES ('escalation', '1000002', '0111', 'office_duty', 'duty@kbnn.gov.vn', 'vi', '${subject}', 'x',
      now() - interval '1 second', 'dead-host:1/m0#7', now() - interval '1 second', ${attempts}) RETURNING id`));
  const lost = dead('Lease lost', 1);
  const spent = dead('Lease spent', 8);
  const sealed = Number(q(`INSERT INTO mail_outbox (purpose, unit_code, office_code, to_kind, to_addr, lang, subject, body_sealed)
    VALUES ('escalation', '1000002', '0111', 'office_duty', 'duty@kbnn.gov.vn', 'vi', 'Sealed garbage', decode(repeat('ab', 80), 'hex')) RETURNING id`));
  await h.eventually(() => mailRows(`id IN (${lost}, ${spent}, ${sealed})`).every((r) => r.state !== 'pending'));
  const [l, sp, se] = [lost, spent, sealed].map((id) => mailRows(`id = ${id}`)[0]);
  assert.equal(l.state, 'sent');
  assert.equal(l.attempts, 2);
  assert.equal(smtp.messages.filter((m) => m.parsed.subject === 'Lease lost').length, 1);
  assert.equal(sp.state, 'failed');
  assert.match(sp.last_error, /^attempts: the lease of the last attempt ran out/);
  assert.equal(se.state, 'failed');
  assert.match(se.last_error, /^invalid: the sealed body cannot be opened/);
  assert.equal(se.body_sealed, null);
  assert.ok(!smtp.messages.some((m) => ['Lease spent', 'Sealed garbage'].includes(m.parsed.subject)));
});

test('two instances share the outbox: every row is sent exactly once', async () => {
  srv2 = await h.startServer({ db, migrateFirst: false, config: h.ingestConfig(db, kek, { ...smtpConfig(smtp, pki, PASS,
    { workers: 2, batch_size: 3, reminders_per_unit_per_day: 4, reminders_per_office_per_day: 8 }), push: { provider: 'log' } }) });
  const values = Array.from({ length: 40 }, (_, i) => `('escalation', '1000002', '0111', 'office_duty', 'pair${i % 4}@kbnn.gov.vn', 'vi', 'Pair ${i}', 'Hai máy chủ')`);
  q(`INSERT INTO mail_outbox (purpose, unit_code, office_code, to_kind, to_addr, lang, subject, body) VALUES ${values.join(',')}`);
  await h.eventually(() => Number(q(`SELECT count(*) FROM mail_outbox WHERE subject LIKE 'Pair %' AND state = 'sent'`)) === 40, 30000);
  // sent rows are recorded; allow any message in flight to land before counting
  await h.eventually(() => smtp.messages.filter((m) => /^Pair \d+$/.test(m.parsed.subject)).length >= 40);
  const counts = {};
  for (const m of smtp.messages) if (/^Pair \d+$/.test(m.parsed.subject)) counts[m.parsed.subject] = (counts[m.parsed.subject] || 0) + 1;
  assert.equal(Object.keys(counts).length, 40);
  for (const [s, n] of Object.entries(counts)) assert.equal(n, 1, `${s} sent ${n} times`);
});

test('reminders: role, scope, two instances racing, per-unit and per-office limits (429 with Retry-After), audited', async () => {
  let r = await h.staffCall(srv, staff.viewer, 'POST', '/v1/staff/units/1000001/reminders');
  h.assertProblem(assert, r, 403, 'role_not_allowed');
  r = await h.staffCall(srv, staff.op, 'POST', '/v1/staff/units/1000003/reminders');
  h.assertProblem(assert, r, 404, 'not_found');
  r = await h.staffCall(srv, staff.op, 'POST', '/v1/staff/units/9999999/reminders');
  h.assertProblem(assert, r, 404, 'not_found');
  r = await h.staffCall(srv, staff.op, 'POST', '/v1/staff/units/1000001/reminders', undefined, { csrf: null });
  assert.equal(r.status, 403, r.body);
  // 3 mails (r1, r2, the unit's contact address for r3); the limit is 4 a day: two racing requests, one passes
  const both = await Promise.all([
    h.staffCall(srv, staff.op2, 'POST', '/v1/staff/units/1000003/reminders'),
    h.staffCall(srv2, staff.op2, 'POST', '/v1/staff/units/1000003/reminders'),
  ]);
  both.sort((a, b) => a.status - b.status);
  assert.equal(both[0].status, 201, both[0].body);
  assert.deepEqual(both[0].json, { unit: '1000003', queued: 3, skipped: { no_address: 0, duplicate_address: 0 } });
  h.assertProblem(assert, both[1], 429, 'reminder_limit_reached');
  assert.equal(both[1].json.window, 'unit_day');
  assert.equal(both[1].json.limit, 4);
  assert.equal(both[1].json.used, 3);
  assert.ok(Number(both[1].headers['retry-after']) >= 1 && Number(both[1].headers['retry-after']) <= 86400);
  const rows = mailRows(`purpose = 'reminder' AND unit_code = '1000003'`);
  assert.deepEqual(rows.map((x) => [x.to_kind, x.to_addr, x.manual, x.created_by]).sort(),
    [['unit_contact', 'ketoan.1000003@donvi.vn', true, 'op.two'], ['user', 'r1@donvi.vn', true, 'op.two'], ['user', 'r2@donvi.vn', true, 'op.two']]);
  const m = await h.eventually(() => smtp.to('r1@donvi.vn')[0]);
  assert.equal(m.parsed.subject, 'Nhắc cài đặt ứng dụng cảnh báo KBNN - đơn vị 1000003');
  assert.match(m.parsed.text, /Cài ứng dụng cảnh báo KBNN từ App Store hoặc Google Play/);
  assert.match(m.parsed.text, /Phòng giao dịch số 2/);
  await h.eventually(() => smtp.to('ketoan.1000003@donvi.vn').length === 1);
  // the office's limit (8): 3 + 2 + 2 pass, then 2 more would be 9
  r = await h.staffCall(srv, staff.op2, 'POST', '/v1/staff/units/1000004/reminders');
  assert.equal(r.status, 201, r.body);
  r = await h.staffCall(srv, staff.op2, 'POST', '/v1/staff/units/1000005/reminders');
  assert.equal(r.status, 201, r.body);
  assert.equal(r.json.queued, 2);
  r = await h.staffCall(srv, staff.op2, 'POST', '/v1/staff/units/1000004/reminders');
  h.assertProblem(assert, r, 429, 'reminder_limit_reached');
  assert.equal(r.json.window, 'office_day');
  assert.equal(r.json.limit, 8);
  assert.equal(r.json.used, 7);
  assert.equal(q(`SELECT count(*) FROM mail_outbox WHERE purpose = 'reminder' AND office_code = '0112'`), '7');
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'mail.reminder' AND outcome = 'ok' AND actor_id = 'op.two'`), '3');
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'mail.reminder' AND outcome = 'denied' AND details->>'reason' = 'office_limit'`), '1');
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'mail.reminder' AND outcome = 'denied' AND details->>'reason' = 'role'`), '1');
});

test('bulk instructions: role, re-authentication, validation, scope refuses the whole request', async () => {
  let r = await h.staffCall(srv, staff.viewer, 'POST', '/v1/staff/instructions', { units: ['1000001'] });
  h.assertProblem(assert, r, 403, 'role_not_allowed');
  r = await h.staffCall(srv, staff.op, 'POST', '/v1/staff/instructions', { units: ['1000001'] });
  h.assertProblem(assert, r, 403, 'reauth_required');
  await h.staffReauth(srv, staff.op);
  for (const body of [{ units: [] }, { units: ['1000001', '1000001'] }, { units: ['12'] }, { units: '1000001' }, { units: ['1000001'], x: 1 }]) {
    r = await h.staffCall(srv, staff.op, 'POST', '/v1/staff/instructions', body);
    h.assertProblem(assert, r, 422, 'validation_failed');
  }
  r = await h.staffCall(srv, staff.op, 'POST', '/v1/staff/instructions', { units: ['1000001', '2000001'] });
  h.assertProblem(assert, r, 404, 'not_found');
  assert.equal(q(`SELECT count(*) FROM activation_codes`), '0');
  assert.equal(q(`SELECT count(*) FROM mail_outbox WHERE purpose = 'instructions'`), '0');
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'mail.instructions' AND outcome = 'denied'`), '3');
});

test('bulk instructions: the code goes only to the user\'s own address, arrives, works, and is never stored readable', async () => {
  const r = await h.staffCall(srv, staff.op, 'POST', '/v1/staff/instructions', { units: ['1000001', '1000002'] });
  assert.equal(r.status, 200, r.body);
  const u1 = r.json.units.find((u) => u.unit === '1000001');
  assert.deepEqual(u1.mailed.map((x) => x.login), ['holder1']);
  assert.deepEqual(u1.skipped, [{ login: 'chief1', reason: 'no_email' }, { login: 'acct1', reason: 'no_email' }]);
  assert.deepEqual(r.json.units.find((u) => u.unit === '1000002').mailed.map((x) => x.login), ['holder2']);
  const row = mailRows(`id = ${u1.mailed[0].mail_id}`)[0];
  assert.equal(row.purpose, 'instructions');
  assert.equal(row.to_kind, 'user');
  assert.equal(row.to_addr, 'holder1@donvi.vn');
  assert.equal(row.body, null);
  const m = await h.eventually(() => smtp.to('holder1@donvi.vn').find((x) => x.parsed.subject === 'Mã kích hoạt ứng dụng cảnh báo KBNN'));
  const code = m.parsed.text.match(/Nhập mã kích hoạt: ([0-9A-Z]{10})/)[1];
  assert.match(m.parsed.text, /tên đăng nhập DVCTT: holder1/);
  await h.eventually(() => mailRows(`id = ${u1.mailed[0].mail_id}`)[0].state === 'sent');
  const done = mailRows(`id = ${u1.mailed[0].mail_id}`)[0];
  assert.equal(done.body, null);
  assert.equal(done.body_sealed, null, 'the sealed body is erased once the row is done');
  // never to the unit's shared mailbox
  assert.ok(!smtp.to('ketoan.1000001@donvi.vn').some((x) => /Mã kích hoạt|activation code/.test(x.parsed.subject)));
  // nowhere readable in the database
  const dump = q(`SELECT concat_ws(' ', (SELECT string_agg(m::text, ' ') FROM mail_outbox m), (SELECT string_agg(a::text, ' ') FROM audit_log a),
    (SELECT string_agg(c::text, ' ') FROM activation_codes c))`);
  assert.ok(!dump.includes(code));
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'activation.issue' AND outcome = 'ok' AND actor_id = 'op.one' AND target = 'holder1'`), '1');
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'mail.instructions' AND outcome = 'ok' AND target = 'holder1'
    AND (details->>'mail_id')::bigint = ${u1.mailed[0].mail_id}`), '1');
  const a = await h.request(srv.url, 'POST', '/v1/app/activate', { headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'holder1', activation_code: code, device: { platform: 'android', push_token: 'fcm-holder1', app_version: '1.0.0', os_version: '14', model: 'Pixel 8', locale: 'vi-VN' } }) });
  assert.equal(a.status, 201, a.body);
  assert.ok(!srv.logs().includes(code) && !srv2.logs().includes(code), 'the code is never logged');
});

test('mail outcomes per unit: scoped, addresses masked', async () => {
  let r = await h.staffCall(srv, staff.op, 'GET', '/v1/staff/units/1000001/mail');
  assert.equal(r.status, 200, r.body);
  assert.ok(!r.body.includes('holder1@donvi.vn') && !r.body.includes('ketoan.1000001@donvi.vn'));
  const fb = r.json.items.filter((i) => i.purpose === 'fallback');
  assert.deepEqual(fb.map((i) => [i.to_kind, i.to, i.state, i.attempts]).sort(),
    [['unit_contact', 'k***@donvi.vn', 'sent', 1], ['user', 'h***@donvi.vn', 'sent', 1]]);
  const ins = r.json.items.find((i) => i.purpose === 'instructions');
  assert.equal(ins.manual, true);
  assert.equal(ins.created_by, 'op.one');
  assert.ok(ins.sent_at);
  r = await h.staffCall(srv, staff.op, 'GET', '/v1/staff/units/2000001/mail');
  h.assertProblem(assert, r, 404, 'not_found');
  r = await h.staffCall(srv, staff.op, 'GET', '/v1/staff/units/9999999/mail');
  h.assertProblem(assert, r, 404, 'not_found');
  r = await h.staffCall(srv, staff.op, 'GET', '/v1/staff/units/1000002/mail');
  assert.equal(r.status, 200);
  const failed = r.json.items.find((i) => i.to === 'g***@donvi.vn');
  assert.equal(failed.state, 'failed');
  assert.ok(!failed.last_error.includes('gone@donvi.vn'));
});

test('no secret in the logs: neither the SMTP password nor a code', () => {
  for (const s of [srv, srv2]) {
    assert.ok(!s.logs().includes(PASS));
    assert.match(s.logs(), /"mail sent"/);
  }
});

test('automatic reminders (mail.auto_reminders): units not protected, at most once per interval per user, manual ones bypass it', async () => {
  const adb = h.createDatabase('mailauto');
  h.migrate(adb);
  const aq = (sql) => h.psql(adb, sql);
  aq(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
      INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
      INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3);
      INSERT INTO budget_units (code, name, office_code) VALUES ('3000001', 'Đơn vị A', '0111'), ('3000002', 'Đơn vị B', '0111'), ('3000003', 'Đơn vị C', '0111');
      INSERT INTO users (dvctt_login, unit_code, full_name, email) VALUES ('a1', '3000001', 'A Một', 'a1@donvi.vn'), ('a2', '3000001', 'A Hai', 'a2@donvi.vn'),
        ('a3', '3000001', 'A Ba', NULL), ('a4', '3000001', 'A Bốn', 'a4@donvi.vn'),
        ('p1', '3000002', 'P Một', 'p1@donvi.vn'), ('p2', '3000002', 'P Hai', 'p2@donvi.vn'), ('b1', '3000003', 'B Một', 'b1@donvi.vn');
      INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login IN ('a1', 'p1', 'b1');
      INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login IN ('a2', 'p2');
      INSERT INTO user_roles SELECT id, 'accountant' FROM users WHERE dvctt_login IN ('a3', 'a4');
      INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-' || dvctt_login FROM users WHERE dvctt_login IN ('a4', 'p1', 'p2');
      -- a1 had an automatic reminder 3 days ago (inside the 7-day interval), a2 one 8 days ago (outside it)
      INSERT INTO mail_outbox (purpose, user_id, unit_code, office_code, to_kind, to_addr, lang, subject, body, state, sent_at, created_at)
        SELECT 'reminder', id, '3000001', '0111', 'user', email, 'vi', 'old', 'old', 'sent', now() - make_interval(days => d), now() - make_interval(days => d)
        FROM users, LATERAL (SELECT CASE dvctt_login WHEN 'a1' THEN 3 ELSE 8 END AS d) x WHERE dvctt_login IN ('a1', 'a2');
      -- a mail done 100 days ago: retention.outbox_days (90) deletes it; a pending one as old stays
      INSERT INTO mail_outbox (purpose, unit_code, office_code, to_kind, to_addr, lang, subject, body, state, updated_at)
        VALUES ('escalation', '3000002', '0111', 'office_duty', 'old@kbnn.gov.vn', 'vi', 'expired', 'x', 'failed', now() - interval '100 days');`);
  const config = h.ingestConfig(adb, kek, { ...smtpConfig(smtp, pki, PASS, { auto_reminders: 'on', reminders_per_unit_per_day: 5 }),
    events: { maintenance_interval_seconds: 10 }, coverage: { refresh_seconds: 10 }, log: { level: 'debug' } });
  const s3 = await h.startServer({ db: adb, migrateFirst: false, config });
  try {
    const runs = () => (s3.logs().match(/"event partition maintenance"/g) || []).length;
    await h.eventually(() => aq(`SELECT count(*) FROM mail_outbox WHERE purpose = 'reminder' AND subject <> 'old'`) === '2', 30000);
    const auto = JSON.parse(aq(`SELECT json_agg(json_build_array(to_addr, manual, created_by) ORDER BY to_addr) FROM mail_outbox WHERE subject <> 'old'`));
    assert.deepEqual(auto, [['a2@donvi.vn', false, null], ['b1@donvi.vn', false, null]]);
    await h.eventually(() => smtp.to('a2@donvi.vn').length === 1 && smtp.to('b1@donvi.vn').length === 1);
    assert.equal(smtp.to('a1@donvi.vn').length, 0, 'reminded 3 days ago: not again');
    assert.equal(smtp.to('p1@donvi.vn').length + smtp.to('a4@donvi.vn').length, 0, 'covered users and protected units get none');
    assert.equal(aq(`SELECT count(*) FROM audit_log WHERE action = 'mail.reminder' AND actor_kind = 'system' AND outcome = 'ok'`), '2');
    // a later run sends nothing more: everyone was reminded within the interval
    const seen = runs();
    await h.eventually(() => runs() >= seen + 1, 30000, 500);
    assert.equal(aq(`SELECT count(*) FROM mail_outbox WHERE purpose = 'reminder' AND subject <> 'old'`), '2');
    // by hand the weekly limit does not apply: a1 and a2 both get one now
    const op = await h.staffReady(s3, h.writeConfig(config), 'op.auto', '0111', 'operator');
    const r = await h.staffCall(s3, op, 'POST', '/v1/staff/units/3000001/reminders');
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(r.json, { unit: '3000001', queued: 2, skipped: { no_address: 1, duplicate_address: 0 } });
    await h.eventually(() => smtp.to('a1@donvi.vn').length === 1 && smtp.to('a2@donvi.vn').length === 2);
    assert.equal(aq(`SELECT count(*) FROM mail_outbox WHERE subject = 'expired'`), '0', 'retention deleted the old done row');
  } finally {
    await s3.stop();
  }
});

test('TLS and AUTH are not optional: no STARTTLS, an unknown CA or a wrong password retry, and nothing goes in clear text', async () => {
  const tdb = h.createDatabase('mailtls');
  h.migrate(tdb);
  const tq = (sql) => h.psql(tdb, sql);
  tq(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
      INSERT INTO mail_outbox (purpose, office_code, to_kind, to_addr, lang, subject, body)
        VALUES ('escalation', '0001', 'office_duty', 'duty@kbnn.gov.vn', 'vi', 'TLS test', 'x');`);
  const plain = await startSmtp({ pki, pass: PASS, hideSTARTTLS: true });
  const otherPki = createPki(); // a CA alertd was not told about
  const cases = [
    { name: 'no STARTTLS offered', cfg: smtpConfig(plain, pki, PASS), reason: /^tls: /, server: plain },
    { name: 'an unknown CA', cfg: smtpConfig(smtp, otherPki, PASS), reason: /^tls: /, server: smtp },
    { name: 'a wrong password', cfg: smtpConfig(smtp, pki, 'not-the-password'), reason: /^auth: /, server: smtp },
  ];
  try {
    for (const c of cases) {
      const before = c.server.messages.length;
      tq(`UPDATE mail_outbox SET attempts = 0, last_error = NULL, due_at = now()`);
      const s = await h.startServer({ db: tdb, migrateFirst: false, config: { ...c.cfg, database: { url: `"${h.conninfo(tdb)}"` } } });
      try {
        await h.eventually(() => {
          const r = JSON.parse(tq(`SELECT row_to_json(m) FROM mail_outbox m`));
          return r.attempts >= 1 && r.last_error && r.leased_by === null ? r : null;
        });
        const r = JSON.parse(tq(`SELECT row_to_json(m) FROM mail_outbox m`));
        assert.equal(r.state, 'pending', c.name);
        assert.match(r.last_error, c.reason, `${c.name}: ${r.last_error}`);
        assert.equal(c.server.messages.length, before, `${c.name}: nothing delivered`);
        assert.ok(!s.logs().includes(PASS) && !s.logs().includes('not-the-password'));
      } finally {
        await s.stop();
      }
    }
    // the plain server never saw AUTH: libcurl stopped before it
    assert.ok(plain.sessions.every((x) => !x.user));
  } finally {
    await plain.stop();
  }
});
