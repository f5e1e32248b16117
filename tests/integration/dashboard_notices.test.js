'use strict';
// dashboard_notices.test.js - the security notices pages in a real headless
// Chromium (Debian's /usr/bin/chromium, playwright-core) against a real
// alertd: an operator signs in, composes a notice from a template, previews
// its reach (the figures against the roster's known answers) and submits
// it; an approver of the parent office signs in, reads it, approves it in
// the re-authentication dialog (password and a recovery code), and sees
// its delivery report once sent (push provider "log" records pushes as
// sent). No CSP violation on the way. Screenshots go where dashboard.test.js
// puts them ($ALERTD_TEST_SCREENSHOTS, else $ALERTD_TEST_TMP/screenshots,
// else tests/output/).
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const browser = require('./browser');

let db, kek, srv, context, page;
const errors = [];

const shot = (name) => browser.shot(page, name);

// Sign in through the page with the password and one of the account's recovery codes (a TOTP code of the
// step staffReady just used would be a replay).
async function signIn(s, login) {
  await page.goto(`${srv.url}/staff/#/signin`);
  await page.waitForSelector('#signin-form');
  await page.fill('#login', login);
  await page.fill('#password', s.password);
  await page.fill('#code', s.recovery.shift());
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('main[data-ready="#/overview"]');
}

test.before(async () => {
  db = h.createDatabase('dashnotices');
  kek = h.createKek();
  h.migrate(db);
  h.psql(db, `
    INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0021', 'KBNN khu vực II', '0001', 2);
    INSERT INTO budget_units (code, name, office_code, contact_email) VALUES ('1000001', 'Trường THCS Lê Lợi', '0011', 'thcs@example.vn'),
      ('1000002', 'UBND xã An Bình', '0011', NULL), ('2000001', 'Sở Tài chính (khu vực II)', '0021', NULL);
    INSERT INTO users (dvctt_login, unit_code, full_name)
      SELECT 'u' || b.code || '.' || n, b.code, 'Người dùng ' || n FROM budget_units b, generate_series(1, 2) n;
    INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'tok-' || dvctt_login FROM users WHERE dvctt_login <> 'u1000001.2';`);
  srv = await h.startServer({ db, config: { ...h.ingestConfig(db, kek, { auth: { signin_per_ip_per_minute: 10000 } }), push: { provider: 'log' }, notices: { check_seconds: 1 } } });
  context = await browser.launch();
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
});

test.after(async () => {
  if (context) await context.close();
  if (srv) await srv.stop();
});

test('compose a notice, preview its reach, approve it as a second staff member with re-authentication, see its report', async () => {
  const author = await h.staffReady(srv, srv.config, 'soan.thao', '0011', 'operator');
  const approver = await h.staffReady(srv, srv.config, 'phe.duyet', '0001', 'operator');
  assert.equal(h.runAlertd(['staff', 'approver', 'phe.duyet', 'on', '--config', srv.config]).code, 0);

  // the author composes from a template and previews the reach
  await signIn(author, 'soan.thao');
  await page.click('nav a[data-page="notices"]');
  await page.waitForSelector('main[data-ready="#/notices"]');
  await page.click('#notice-new');
  await page.waitForSelector('main[data-ready="#/notices/new"] #notice-form');
  await page.selectOption('#template', 'password_42_days');
  assert.equal(await page.inputValue('#title_vi'), 'Đổi mật khẩu DVCTT định kỳ 42 ngày');
  assert.match(await page.inputValue('#body_en'), /every 42 days/);
  await page.check('input[name=mode][value=immediate]');
  await page.click('#notice-preview');
  await page.waitForSelector('#notice-reach');
  const reach = await page.$$eval('#notice-reach tbody tr', (rows) => rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent]));
  // region 0011: 2 units, 4 users, 3 phones; one user without a phone gets the e-mail to the unit's address
  assert.deepEqual(reach.map((r) => r[1]), ['2', '4', '3', '3', '3', '1', '1', '0']);
  await shot('notices-compose-1280');
  // a link elsewhere is refused, with the link named
  await page.fill('#body_vi', 'Đổi mật khẩu tại https://kbnn-doimatkhau.com ngay hôm nay.');
  await page.click('#notice-submit');
  await page.waitForSelector('#notice-form .msg-error');
  assert.match(await page.textContent('#notice-form .msg-error'), /kbnn-doimatkhau\.com/);
  await page.selectOption('#template', 'password_42_days');
  await page.click('#notice-submit');
  await page.waitForSelector('main[data-ready^="#/notices/"] .notice-text');
  const id = (await page.evaluate(() => location.hash)).split('/')[2];
  assert.match(id, /^\d+$/);
  assert.equal(await page.textContent('.badge[data-state]'), 'Chờ phê duyệt');
  assert.equal(await page.$('#notice-approve'), null, 'the author is offered no approval');
  assert.ok(await page.$('#notice-withdraw'));
  await shot('notices-pending-1280');
  await page.click('#signout');
  await page.waitForSelector('#signin-form');

  // the approver of the parent office reads it and approves it, giving the password and a code again
  await signIn(approver, 'phe.duyet');
  await page.goto(`${srv.url}/staff/#/notices/${id}`);
  await page.waitForSelector(`main[data-ready="#/notices/${id}"] #notice-approve`);
  const hash = h.psql(db, `SELECT text_sha256 FROM notices WHERE id = ${id}`);
  assert.equal(await page.textContent('code.hash'), hash);
  await page.click('#notice-approve');
  await page.waitForSelector('#reauth-form');
  await page.fill('#reauth_password', approver.password);
  await page.fill('#reauth_code', approver.recovery.shift());
  await page.click('#reauth-form button[type=submit]');
  await page.waitForSelector('main .msg-info');
  assert.equal(h.psql(db, `SELECT approved_by FROM notices WHERE id = ${id}`), 'phe.duyet');
  // sent by the delivery tick: the report shows what was written
  await h.eventually(() => h.psql(db, `SELECT state FROM notices WHERE id = ${id}`) === 'sent', 20000);
  await h.eventually(() => h.psql(db, `SELECT count(*) FROM push_outbox WHERE state = 'sent'`) === '3', 20000);
  await page.reload();
  await page.waitForSelector(`main[data-ready="#/notices/${id}"] #notice-report`);
  const report = await page.$$eval('#notice-report tbody tr', (rows) => rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent]));
  assert.deepEqual(report.slice(0, 7).map((r) => r[1]), ['4', '4', '0', '3', '3', '0', '0']);
  assert.ok(report.some(([k, v]) => /E-mail/.test(k) && v === '1'), JSON.stringify(report));
  await shot('notices-report-1280');
  await page.click('#lang');
  await page.waitForSelector(`main[data-ready="#/notices/${id}"] #notice-report`);
  assert.equal(await page.textContent('#notice-report h2'), 'Delivery report');
  await page.setViewportSize({ width: 768, height: 1024 });
  await shot('notices-report-768');
  assert.deepEqual(await browser.cspViolations(page), []);
  assert.deepEqual(errors, []);
});
