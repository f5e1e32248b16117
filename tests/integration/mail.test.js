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
