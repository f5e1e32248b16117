'use strict';
// dashboard_worklist.test.js - the worklist and escalation pages in a real
// headless Chromium (Debian's /usr/bin/chromium, playwright-core) against a
// real alertd and PostgreSQL: an operator of a transaction office signs in
// (password and a recovery code), works one worklist item (assigns it to
// themself, records a contact attempt, sets a due date: each checked in the
// database), sees the escalation badge and acknowledges the escalation with
// a note (the badge goes), and opens the printable counter list (print media
// emulated). No CSP violation, nothing inline. Screenshots go to
// $ALERTD_TEST_SCREENSHOTS, else $ALERTD_TEST_TMP/screenshots, else
// tests/output/ (as dashboard.test.js).
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const browser = require('./browser');

let db, kek, srv, cfg, context, page, op;
const errors = [];

function q(sql) {
  return h.psql(db, sql);
}
const shot = (name) => browser.shot(page, name);
async function clean() {
  const bad = await page.evaluate(() => {
    const out = [...(window.__cspViolations || []).map((v) => `csp: ${v.directive} ${v.blocked}`)];
    for (const s of document.querySelectorAll('script')) if (!s.src) out.push('inline script');
    for (const el of document.querySelectorAll('*')) {
      if (el.hasAttribute('style')) out.push(`style attribute on ${el.tagName}`);
      for (const a of el.attributes) if (/^on/i.test(a.name)) out.push(`${a.name} on ${el.tagName}`);
    }
    return out;
  });
  assert.deepEqual(bad, []);
  assert.deepEqual(errors, []);
}

test.before(async () => {
  db = h.createDatabase('dashwl');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch Ba Đình', '0011', 3), ('0112', 'Phòng giao dịch Đống Đa', '0011', 3);
     INSERT INTO budget_units (code, name, office_code, contact_phone) VALUES
       ('4000001', 'Trường THCS Lê Lợi', '0111', '02431000001'), ('4000002', 'UBND phường Kim Mã', '0111', '02431000002'),
       ('4000003', 'Trạm Y tế Ngọc Hà', '0111', '02431000003'), ('4000004', 'Trường Mầm non Hoa Sen', '0112', '02431000004');
     INSERT INTO users (dvctt_login, unit_code, full_name, phone)
       SELECT 'u' || b.code || '.' || r.n, b.code, r.who || ' ' || right(b.code, 1), '0912' || right(b.code, 3) || r.n || '00'
         FROM budget_units b, (VALUES (1, 'Nguyễn Văn Chủ'), (2, 'Trần Thị Kế')) AS r (n, who);
     INSERT INTO user_roles (user_id, role)
       SELECT id, CASE WHEN dvctt_login LIKE '%.1' THEN 'account_holder' ELSE 'chief_accountant' END::user_role FROM users;
     -- 4000001 protected; 4000002 partial (the chief never installed); 4000003 nobody installed; 4000004 another office
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'tok-' || dvctt_login FROM users
       WHERE unit_code = '4000001' OR dvctt_login = 'u4000002.1';
     INSERT INTO activation_codes (user_id, code_hash, expires_at, created_by)
       SELECT id, sha256(dvctt_login::bytea), now() + interval '2 days', 'test' FROM users WHERE dvctt_login = 'u4000003.1';`);
  const conf = h.ingestConfig(db, kek, {
    auth: { signin_per_ip_per_minute: 10000 }, push: { provider: 'log' }, risk: { large_amount_vnd: 1000 },
    escalation: { after_minutes: 1, check_seconds: 1 },
  });
  cfg = h.writeConfig(conf);
  const source = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  srv = await h.startServer({ db, config: conf });
  await h.eventually(() => q('SELECT count(*) FROM worklist_items') === '3', 10000);
  op = await h.staffReady(srv, cfg, 'lan.nguyen', '0111', 'operator');
  // a risk alert for 4000003, whose users have no phone, old enough to escalate
  const e = h.balanceEvent({ unit_code: '4000003', data: { account: '9523.1.1012345', amount: -25000000, balance_after: 5 } });
  const p = await h.postSigned(srv, 'tabmis', source, e);
  assert.equal(p.status, 202, p.body);
  await h.eventually(() => q("SELECT count(*) FROM alerts WHERE unit_code = '4000003' AND severity = 'risk'") === '2');
  q("UPDATE alerts SET created_at = created_at - interval '4 minutes' WHERE unit_code = '4000003'");
  await h.eventually(() => q('SELECT count(*) FROM escalations') === '1', 10000);

  context = await browser.launch();
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
});

test.after(async () => {
  if (context) await context.close();
  if (srv) await srv.stop();
});

test('sign in, work one worklist item: assign to me, record a contact attempt, set a due date', async () => {
  await page.goto(`${srv.url}/staff/#/worklist`);
  await page.waitForSelector('#signin-form');
  await page.fill('#login', 'lan.nguyen');
  await page.fill('#password', op.password);
  await page.fill('#code', op.recovery.shift());
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('main[data-ready="#/worklist"] table.worklist');
  // the office's two items, worst reasons in words; the protected unit and the other office's are not there
  const rows = await page.$$eval('table.worklist tbody tr', (trs) => trs.map((tr) => tr.querySelector('th a').textContent));
  assert.deepEqual(rows.sort(), ['4000002', '4000003']);
  assert.match(await page.textContent('tr[data-item] [data-reason="no_chief_install"]'), /Kế toán trưởng chưa cài ứng dụng \(1\)/);
  await clean();
  await shot('worklist-list-1280');

  const id = q("SELECT id FROM worklist_items WHERE unit_code = '4000002'");
  await page.click(`#work-${id}`);
  await page.waitForSelector(`main[data-ready="#/worklist/${id}"] #assign-form`);
  await shot('worklist-item-before-1280');
  // assign to me (the field is prefilled with the caller's login)
  assert.equal(await page.inputValue('#assignee'), 'lan.nguyen');
  await page.click('#assign-form button[type=submit]');
  await page.waitForFunction(() => /lan\.nguyen/.test(document.querySelector('#item-assignee')?.textContent || ''));
  assert.equal(q(`SELECT s.username FROM worklist_items w JOIN staff s ON s.id = w.assignee_id WHERE w.id = ${id}`), 'lan.nguyen');
  // a contact attempt
  await page.selectOption('#channel', 'phone');
  await page.selectOption('#outcome', 'promised');
  await page.fill('#note', 'Kế toán trưởng hứa cài ứng dụng trước thứ Sáu');
  await page.click('#contact-form button[type=submit]');
  await page.waitForFunction(() => /hứa cài ứng dụng trước thứ Sáu/.test(document.querySelector('#contact-history')?.textContent || ''));
  assert.equal(q(`SELECT channel || ' ' || outcome FROM worklist_contacts WHERE item_id = ${id}`), 'phone promised');
  // a due date three days on
  const day = q("SELECT ((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 3)::text");
  await page.fill('#due_date', day);
  await page.click('#due-form button[type=submit]');
  const [y, m, d] = day.split('-');
  await page.waitForFunction((txt) => (document.querySelector('#item-due')?.textContent || '').includes(txt), `${d}/${m}/${y}`);
  assert.equal(q(`SELECT ((due_at AT TIME ZONE 'Asia/Ho_Chi_Minh') - interval '1 second')::date::text FROM worklist_items WHERE id = ${id}`), day);
  await page.waitForSelector('#contact-history li');
  await clean();
  await shot('worklist-item-1280');
  await page.setViewportSize({ width: 768, height: 1024 });
  await shot('worklist-item-768');
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.equal(q("SELECT count(*) FROM audit_log WHERE actor_id = 'lan.nguyen' AND action IN ('worklist.update', 'worklist.contact') AND outcome = 'ok'"), '3');
});

test('the escalation badge, the "call this unit now" list, acknowledgement with a note', async () => {
  await page.waitForSelector('#escalation-badge');
  assert.equal(await page.textContent('#escalation-badge'), '1');
  await page.click('#nav a[data-page="escalations"]');
  await page.waitForSelector('main[data-ready="#/escalations"] article.escalation');
  const card = await page.textContent('article.escalation');
  assert.match(card, /4000003/);
  assert.match(card, /Giao dịch giá trị lớn/);
  assert.match(card, /02431000003/);
  const tels = await page.$$eval('article.escalation a.tel', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(tels.includes('tel:02431000003'), tels.join(','));
  assert.ok(tels.length >= 3);
  await clean();
  await shot('escalations-1280');
  const id = q('SELECT id FROM escalations');
  await page.fill(`#note-${id}`, 'Đã gọi chủ tài khoản: giao dịch đúng');
  await page.click(`#ack-${id} button[type=submit]`);
  await page.waitForSelector('main[data-ready="#/escalations"] .msg-info');
  await h.eventually(() => page.$('#escalation-badge').then((b) => b === null), 10000);
  assert.equal(q(`SELECT acknowledged_by || ' ' || ack_note FROM escalations WHERE id = ${id}`), 'lan.nguyen Đã gọi chủ tài khoản: giao dịch đúng');
  await page.click('#esc-acked-link');
  await page.waitForSelector('main[data-ready="#/escalations?state=acknowledged"] article.escalation');
  assert.match(await page.textContent('article.escalation'), /Đã xác nhận bởi lan\.nguyen/);
  await clean();
  await shot('escalations-acknowledged-1280');
});

test('the printable counter list, in print media', async () => {
  await page.goto(`${srv.url}/staff/#/worklist`);
  await page.waitForSelector('main[data-ready="#/worklist"] #worklist-print-link');
  await page.click('#worklist-print-link');
  await page.waitForSelector('main[data-ready="#/worklist/print?office=0111"] .print-unit');
  const units = await page.$$eval('.print-unit', (s) => s.map((x) => x.dataset.unit));
  assert.deepEqual(units, ['4000002', '4000003']);
  assert.deepEqual(await page.$$eval('.print-unit[data-unit="4000003"] td[data-activation]', (tds) => tds.map((td) => td.dataset.activation)), ['pending', 'none']);
  await clean();
  await shot('worklist-print-screen-1280');
  await page.emulateMedia({ media: 'print' });
  // the controls are gone on paper
  assert.equal(await page.isVisible('#print-button'), false);
  assert.equal(await page.isVisible('#nav'), false);
  assert.equal(await page.isVisible('.print-unit'), true);
  await shot('worklist-print-media');
  await page.emulateMedia({ media: 'screen' });
});
