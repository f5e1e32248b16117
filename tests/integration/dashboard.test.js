'use strict';
// dashboard.test.js - the staff dashboard in a real headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core; no browser is ever
// downloaded) against a real alertd and PostgreSQL with a hand-built roster:
// the pages' headers (CSP, nosniff, no-referrer, DENY, caching, ETag), no
// inline script or style, no CSP violation in the console; sign in with the
// temporary password, the forced change (the server's refusal shown), TOTP
// enrolment (QR and secret, recovery codes once); then the overview (the
// chart's and the table's figures against the roster's known answers), the
// unprotected units, the CSV export behind re-authentication, sign-out.
// Screenshots of the overview and the units page at 1280 and 768 px go to
// $ALERTD_TEST_SCREENSHOTS, else $ALERTD_TEST_TMP/screenshots (make test prints nothing of it and removes
// it with the run's folder; set ALERTD_TEST_SCREENSHOTS to keep them), else tests/output/ (gitignored).
//
// The coverage and unit API come from other parts of issue 12: while GET
// /v1/staff/coverage answers 404 for the caller's own office (no such route),
// the overview, units and export tests are skipped, saying so.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./harness');

const browser = require('./browser');

const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const TEMP_REFUSED = 'Password1!'; // cracklib: "it is based on a dictionary word"
const NEW_PASSWORD = 'Kh0-bac!Tr9vx';

let db, kek, srv, context, page, cdpLog = [];
const state = { recovery: [], secret: null, coverage: false };

function cli(args) {
  return h.runAlertd([...args, '--config', h.writeConfig(h.ingestConfig(db, kek))]);
}

// The roster whose coverage is known (docs/coverage.md): region 0011 with transaction offices 0111 and 0112,
// and region 0021, which staff of 0011 must never see.
function seed() {
  h.psql(db, `
    INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0021', 'KBNN khu vực II', '0001', 2);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch Ba Đình', '0011', 3), ('0112', 'Phòng giao dịch Đống Đa', '0011', 3);
    INSERT INTO budget_units (code, name, office_code, contact_phone) VALUES
      ('1000001', 'Trường THCS Lê Lợi', '0111', '0241000001'),
      ('1000002', 'UBND xã An Bình', '0111', '0241000002'),
      ('1000003', 'Trạm Y tế Phú Mỹ', '0111', '0241000003'),
      ('1000004', 'Trường Mầm non Hoa Sen', '0112', '0241000004'),
      ('1000005', 'Ban Quản lý dự án Hòa Bình', '0112', '0241000005'),
      ('2000001', 'Sở Tài chính (khu vực II)', '0021', '0281000001');
    INSERT INTO users (dvctt_login, unit_code, full_name, phone, email)
      SELECT 'u' || b.code || '.' || r.n, b.code, r.who || ' ' || b.code, '09' || b.code || r.n, 'u' || b.code || r.n || '@dv.example.vn'
        FROM budget_units b, (VALUES (1, 'Chủ tài khoản'), (2, 'Kế toán trưởng')) AS r (n, who);
    INSERT INTO user_roles (user_id, role)
      SELECT id, CASE WHEN dvctt_login LIKE '%.1' THEN 'account_holder' ELSE 'chief_accountant' END::user_role FROM users;
    -- reachable phones: both of 1000001, 1000004 and 2000001; only the holder of 1000002 (partial);
    -- 1000003's holder installed the app but the push token was rejected (installed, unreachable); 1000005 never installed
    INSERT INTO devices (user_id, platform, push_token, model, app_version, state)
      SELECT id, 'android', 'tok-' || dvctt_login, 'Samsung A54', '1.4.0', 'active' FROM users
       WHERE unit_code IN ('1000001', '1000004', '2000001') OR dvctt_login = 'u1000002.1';
    INSERT INTO devices (user_id, platform, push_token, model, app_version, state, state_reason)
      SELECT id, 'ios', 'tok-' || dvctt_login, 'iPhone 13', '1.4.0', 'token_invalid', 'Unregistered' FROM users WHERE dvctt_login = 'u1000003.1';
  `);
}

// The known answers for office 0011 (coverage per the contract): 5 units, 2 protected, 1 partial, 2 unprotected.
const EXPECT = {
  totals: { units: 5, protected: 2, partial: 1, unprotected: 2, protected_pct: 40, reachable_devices: 5, users: 10, covered_users: 5, never_installed: 1, installed_unreachable: 1 },
  children: {
    '0111': { units: 3, protected: 1, partial: 1, unprotected: 1, pct: '33,3 %' },
    '0112': { units: 2, protected: 1, partial: 0, unprotected: 1, pct: '50 %' },
  },
  unprotected: ['1000003', '1000005'],
};

function dismissDialogs(p) {
  p.on('dialog', (d) => d.accept()); // window.confirm of "issue activation code"
}

async function newPage(width) {
  const p = await context.newPage();
  await p.setViewportSize({ width, height: 900 });
  dismissDialogs(p);
  const cdp = await context.newCDPSession(p);
  await cdp.send('Log.enable');
  cdp.on('Log.entryAdded', ({ entry }) => cdpLog.push(entry));
  cdp.on('Runtime.consoleAPICalled', () => {});
  p.on('console', (m) => {
    if (m.type() === 'error') cdpLog.push({ level: 'error', source: 'console', text: m.text() });
  });
  p.on('pageerror', (e) => cdpLog.push({ level: 'error', source: 'pageerror', text: String(e) }));
  return p;
}

// Every CSP violation the page reported (securitypolicyviolation events, collected by an init script, which
// Chromium runs outside the page's CSP) and every console error.
async function violations(p) {
  const events = await p.evaluate(() => window.__cspViolations || []);
  const csp = cdpLog.filter((e) => /Content Security Policy|Refused to/i.test(e.text));
  return { events, csp, errors: cdpLog.filter((e) => e.level === 'error') };
}

async function noInlineCode(p) {
  return p.evaluate(() => {
    const bad = [];
    for (const s of document.querySelectorAll('script')) if (!s.src || s.textContent.trim()) bad.push(`inline script: ${s.outerHTML.slice(0, 80)}`);
    for (const s of document.querySelectorAll('style')) bad.push(`style element: ${s.outerHTML.slice(0, 80)}`);
    for (const el of document.querySelectorAll('*')) {
      if (el.hasAttribute('style')) bad.push(`style attribute on ${el.tagName}`);
      for (const a of el.attributes) if (/^on/i.test(a.name)) bad.push(`${a.name} on ${el.tagName}`);
      for (const a of ['href', 'src', 'action']) if (/^\s*javascript:/i.test(el.getAttribute(a) || '')) bad.push(`javascript: URL on ${el.tagName}`);
    }
    return bad;
  });
}

const shot = browser.shot;

// Screenshots at 1280 px and on a tablet, 768 px (the same tab: the CSRF token is per tab, in sessionStorage);
// no CSP violation so far.
async function shots(p, name) {
  await shot(p, `${name}-1280`);
  await p.setViewportSize({ width: 768, height: 1024 });
  await shot(p, `${name}-768`);
  await p.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual((await violations(p)).events, []);
}

// A GET from inside the signed-in page (its cookie): { status, json }.
function pageGet(p, url) {
  return p.evaluate(async (u) => {
    const r = await fetch(u, { headers: { Accept: 'application/json' } });
    let json = null;
    try { json = await r.json(); } catch (_) { /* not JSON */ }
    return { status: r.status, json };
  }, url);
}

test.before(async () => {
  db = h.createDatabase('dashboard');
  kek = h.createKek();
  h.migrate(db);
  seed();
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { auth: { signin_per_ip_per_minute: 10000 } }) });
  context = await browser.launch({ acceptDownloads: true });
  page = await newPage(1280);
});

test.after(async () => {
  if (context) await context.close();
  if (srv) await srv.stop();
});

test('the pages: headers, the redirect, caching by version and ETag, 404s, nothing inline', async () => {
  const r = await h.request(srv.url, 'GET', '/staff');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, '/staff/');
  assert.equal(r.headers['content-security-policy'], PAGE_CSP);

  const shell = await h.request(srv.url, 'GET', '/staff/');
  assert.equal(shell.status, 200);
  assert.equal(shell.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(shell.headers['content-security-policy'], PAGE_CSP);
  assert.equal(shell.headers['x-content-type-options'], 'nosniff');
  assert.equal(shell.headers['referrer-policy'], 'no-referrer');
  assert.equal(shell.headers['x-frame-options'], 'DENY');
  assert.equal(shell.headers['cache-control'], 'no-store');
  assert.doesNotMatch(shell.body, /<script(?![^>]*\bsrc=)[^>]*>/i, 'an inline script');
  assert.doesNotMatch(shell.body, /<style|\sstyle=|\son[a-z]+=|javascript:/i);
  // HEAD answers as GET does, without a body
  const head = await h.request(srv.url, 'HEAD', '/staff/');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');

  // every asset the shell names is versioned by its ETag; that URL may be cached, the bare one revalidates
  const refs = [...shell.body.matchAll(/assets\/([a-z0-9._-]+)\?v=([0-9a-f]{32})/g)];
  assert.deepEqual([...new Set(refs.map((m) => m[1]))].sort(), ['app.css', 'app.js', 'favicon.svg']);
  for (const [, name, v] of refs) {
    const a = await h.request(srv.url, 'GET', `/staff/assets/${name}?v=${v}`);
    assert.equal(a.status, 200, name);
    assert.equal(a.headers.etag, `"${v}"`);
    assert.equal(a.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(a.headers['content-security-policy'], PAGE_CSP);
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.equal(require('node:crypto').createHash('sha256').update(Buffer.from(a.body, 'utf8')).digest('hex').slice(0, 32), v, `${name}: the ETag is its SHA-256`);
  }
  const js = await h.request(srv.url, 'GET', '/staff/assets/app.js');
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(js.headers['cache-control'], 'no-cache');
  const stale = await h.request(srv.url, 'GET', '/staff/assets/app.js?v=0123456789abcdef0123456789abcdef');
  assert.equal(stale.headers['cache-control'], 'no-cache', 'an old version is not cached for good');
  assert.equal((await h.request(srv.url, 'GET', '/staff/assets/app.css')).headers['content-type'], 'text/css; charset=utf-8');
  assert.equal((await h.request(srv.url, 'GET', '/staff/assets/favicon.svg')).headers['content-type'], 'image/svg+xml');
  const not = await h.request(srv.url, 'GET', '/staff/assets/app.js', { headers: { 'if-none-match': js.headers.etag } });
  assert.equal(not.status, 304);
  assert.equal(not.body, '');
  assert.equal(not.headers.etag, js.headers.etag);
  assert.equal((await h.request(srv.url, 'GET', '/staff/assets/app.js', { headers: { 'if-none-match': '"abc", W/"def"' } })).status, 200);
  assert.equal((await h.request(srv.url, 'GET', '/staff/assets/app.js', { headers: { 'if-none-match': `"x", W/${js.headers.etag}` } })).status, 304);

  // no such file, the shell under another name, paths around the pages: 404 problem+json, with the page headers
  for (const p of ['/staff/assets/nope.js', '/staff/assets/index.html', '/staff/assets/', '/staff//', '/staff/index.html', '/staff/assets/..%2fapp.js']) {
    const n = await h.request(srv.url, 'GET', p);
    h.assertProblem(assert, n, 404, 'not_found');
    assert.equal(n.headers['content-security-policy'], PAGE_CSP, p);
    assert.equal(n.headers['cache-control'], 'no-store', p);
  }
  const post = await h.request(srv.url, 'POST', '/staff/');
  h.assertProblem(assert, post, 405, 'method_not_allowed');
  assert.equal(post.headers.allow, 'GET, HEAD');
  // the pages never say who is signed in: the same bytes without a session and with a bogus one
  const other = await h.request(srv.url, 'GET', '/staff/', { headers: { cookie: '__Host-alertd_session=bogus' } });
  assert.equal(other.body, shell.body);
  // the API keeps its own, stricter policy
  assert.doesNotMatch((await h.request(srv.url, 'GET', '/v1/staff/me')).headers['content-security-policy'], /connect-src|data:/);
});

test('the build refuses pages the CSP would break: inline script or style, handlers, javascript: URLs, unknown assets', () => {
  const tool = path.join(path.dirname(h.BIN), 'embed_web');
  const dir = fs.mkdtempSync(path.join(h.TMP, 'web-'));
  fs.writeFileSync(path.join(dir, 'app.js'), 'export {};\n');
  const build = (html) => {
    fs.writeFileSync(path.join(dir, 'index.html'), html);
    return spawnSync(tool, [path.join(dir, 'out.c'), path.join(dir, 'index.html'), path.join(dir, 'app.js')], { encoding: 'utf8' });
  };
  const ok = build('<!doctype html><script type="module" src="assets/app.js"></script><p>Xin chào</p>');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'out.c'), 'utf8'), /assets\/app\.js\\077v=[0-9a-f]{32}/, 'the reference is versioned');
  for (const [html, why] of [
    ['<script>alert(1)</script>', /inline <script>/],
    ['<SCRIPT type="module">x()</SCRIPT>', /inline <script>/],
    ['<style>p{}</style>', /<style>/],
    ['<p style="color:red">x</p>', /style=/],
    ['<button onclick="x()">x</button>', /event handler/],
    ['<a href="javascript:x()">x</a>', /javascript: URL/],
    ['<script src="assets/nope.js"></script>', /nope\.js, which is not embedded/],
  ]) {
    const r = build(html);
    assert.equal(r.status, 1, html);
    assert.match(r.stderr, why, html);
  }
});

test('the CSP blocks inline script in the page, and the test sees the violation', async () => {
  await page.goto(`${srv.url}/staff/`);
  await page.waitForSelector('#signin-form');
  const ran = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.head.append(s);
    s.remove();
    return new Promise((r) => setTimeout(() => r(window.__inlineRan === true), 100));
  });
  assert.equal(ran, false, 'an inline script ran');
  const v = await violations(page);
  assert.ok(v.events.some((e) => /script-src/.test(e.directive)), JSON.stringify(v));
  cdpLog = [];
  await page.evaluate(() => { window.__cspViolations = []; });
});

test('sign in with the temporary password, the forced change (refusal shown), TOTP enrolment and recovery codes', async () => {
  const add = cli(['staff', 'add', 'lan.nguyen', '--office', '0011', '--role', 'operator']);
  assert.equal(add.code, 0, add.stderr);
  const temp = add.stdout.match(/^temporary password: (\S+)$/m)[1];

  const resp = await page.goto(`${srv.url}/staff`);
  assert.equal(page.url(), `${srv.url}/staff/`);
  assert.equal(resp.headers()['content-security-policy'], PAGE_CSP);
  await page.waitForSelector('#signin-form');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.match(await page.textContent('h1'), /Đăng nhập/);
  // no saved passwords: the browser is told not to fill or keep them
  assert.equal(await page.getAttribute('#password', 'autocomplete'), 'new-password');
  assert.equal(await page.getAttribute('#login', 'autocomplete'), 'off');
  assert.equal(await page.$('input[type=checkbox]'), null, 'no "remember me"');

  // a wrong password: the one answer for every refusal
  await page.fill('#login', 'lan.nguyen');
  await page.fill('#password', 'Wrong-passw0rd!');
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('.form-error .msg-error');
  assert.match(await page.textContent('.form-error'), /không đúng/);
  assert.equal(await page.inputValue('#password'), '', 'the password field is cleared');

  await page.fill('#password', temp);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#password-form');
  assert.equal(new URL(page.url()).hash, '#/password');
  assert.match(await page.textContent('main'), /mật khẩu tạm thời/);
  assert.match(await page.textContent('#pw-rules'), /ít nhất 8 ký tự/);
  // the csrf token is in sessionStorage only, never in localStorage; no password anywhere
  const storage = await page.evaluate(() => ({ local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
  assert.match(storage.session, /alertd\.csrf/);
  assert.doesNotMatch(storage.local, /csrf|lan\.nguyen/);
  assert.ok(!storage.local.includes(temp) && !storage.session.includes(temp));

  // the server's refusal, in Vietnamese: cracklib
  await page.fill('#current_password', temp);
  await page.fill('#new_password', TEMP_REFUSED);
  await page.fill('#confirm_password', TEMP_REFUSED);
  await page.click('#password-form button[type=submit]');
  await page.waitForSelector('#password-form .msg-error');
  assert.match(await page.textContent('#password-form .form-error'), /quá dễ đoán \(cracklib: it is based on a dictionary word\)/);
  // the two new passwords differ: said before asking the server
  await page.fill('#new_password', NEW_PASSWORD);
  await page.fill('#confirm_password', `${NEW_PASSWORD}x`);
  await page.click('#password-form button[type=submit]');
  await page.waitForFunction(() => /không giống nhau/.test(document.querySelector('#password-form .form-error').textContent));

  await page.fill('#confirm_password', NEW_PASSWORD);
  await page.click('#password-form button[type=submit]');
  await page.waitForSelector('#totp-secret');
  assert.equal(new URL(page.url()).hash, '#/totp');
  const qr = await page.getAttribute('img.qr', 'src');
  assert.match(qr, /^data:image\/svg\+xml;base64,/);
  assert.match(Buffer.from(qr.split(',')[1], 'base64').toString('utf8'), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(await page.evaluate(() => document.querySelector('img.qr').naturalWidth > 0), 'the QR code image loads under the CSP');
  state.secret = await page.getAttribute('#totp-secret', 'data-secret');
  assert.match(state.secret, /^[A-Z2-7]{16,}$/);
  assert.equal((await page.textContent('#totp-secret')).replace(/\s/g, ''), state.secret);

  await page.fill('#totp_code', '000000' === h.totpCode(state.secret) ? '111111' : '000000');
  await page.click('#totp-form button[type=submit]');
  await page.waitForSelector('#totp-form .msg-error');
  await page.fill('#totp_code', h.totpCode(state.secret));
  await page.click('#totp-form button[type=submit]');
  await page.waitForSelector('#recovery-codes');
  state.recovery = await page.$$eval('#recovery-codes li', (li) => li.map((x) => x.textContent.trim()));
  assert.equal(state.recovery.length, 10);
  for (const c of state.recovery) assert.match(c, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);

  // the account is ready: the audit says so
  const trail = h.psql(db, "SELECT string_agg(action || ':' || outcome, ',' ORDER BY id) FROM audit_log WHERE target = 'lan.nguyen' AND action <> 'staff.add'");
  assert.match(trail, /^staff\.signin:denied,staff\.signin:ok,.*staff\.password_change:ok,staff\.totp_enrol:ok,staff\.totp_confirm:denied,staff\.totp_confirm:ok$/);

  await page.click('#recovery-done');
  // the overview, signed in: the navigation shows, and the page has its figures or says why not
  await page.waitForSelector('main[data-ready="#/overview"]');
  assert.equal(await page.isVisible('#nav'), true);
  assert.deepEqual(await noInlineCode(page), []);
  const v = await violations(page);
  assert.deepEqual(v.events, [], 'CSP violations');
  assert.deepEqual(v.csp, [], 'CSP messages in the console');
});

test('the coverage API is there (else the overview, units and export tests are skipped)', async () => {
  const r = await pageGet(page, '/v1/staff/coverage');
  state.coverage = r.status !== 404;
  if (!state.coverage) {
    // the page says it plainly instead of breaking
    assert.match(await page.textContent('main'), /Không tìm thấy|không thuộc phạm vi/);
    return;
  }
  assert.equal(r.status, 200, JSON.stringify(r.json));
});

function skipUnlessCoverage(t) {
  if (!state.coverage) {
    t.skip('GET /v1/staff/coverage is not on this branch yet (404): overview, units and export untested');
    return true;
  }
  return false;
}

test('the overview shows the roster\'s known figures: cards, child offices table, trend chart against the target', async (t) => {
  if (skipUnlessCoverage(t)) return;
  const r = cli(['coverage', 'refresh']);
  assert.equal(r.code, 0, r.stderr);
  // history: three earlier days of the region, and today's snapshot; a target of 100 %
  h.psql(db, `
    INSERT INTO coverage_daily (office_code, day, units, protected, partial, unprotected, never_installed, installed_unreachable,
                                users, covered_users, reachable_devices, volume_30d, volume_at_risk)
    SELECT '0011', (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - d, 5, p, 1, 4 - p, 1, 1, 10, 3 + p, 3 + p, 0, 0
      FROM (VALUES (3, 0), (2, 1), (1, 2)) AS x (d, p) ON CONFLICT DO NOTHING;
    SELECT alertd_coverage_snapshot((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date);
    INSERT INTO coverage_targets (office_code, target_pct, target_date, set_by) VALUES ('0011', 100, '2027-06-30', 'test');`);
  await page.goto(`${srv.url}/staff/#/overview`);
  await page.reload();
  await page.waitForSelector('main[data-ready="#/overview"] #children table');
  const e = EXPECT.totals;
  assert.match(await page.textContent('h1'), /KBNN khu vực I/);
  assert.equal(await page.textContent('#stat-protected .stat-value'), '40 %');
  assert.match(await page.textContent('#stat-protected .stat-sub'), /2 đơn vị trên 5 đơn vị/);
  assert.equal(await page.textContent('#stat-partial .stat-value'), '20 %');
  assert.equal(await page.textContent('#stat-unprotected .stat-value'), '40 %');
  assert.match(await page.textContent('#stat-unprotected .stat-sub'), new RegExp(`Chưa từng cài ứng dụng: ${e.never_installed}.*Đã cài nhưng không nhận được: ${e.installed_unreachable}`));
  assert.equal(await page.textContent('#stat-devices .stat-value'), String(e.reachable_devices));
  assert.match(await page.textContent('#stat-devices .stat-sub'), /5\/10 người dùng/);
  assert.match(await page.textContent('.target-line'), /Mục tiêu: 100 % trước 30\/06\/2027/);

  for (const [code, c] of Object.entries(EXPECT.children)) {
    const cells = await page.$$eval(`#children tr[data-office="${code}"] td`, (td) => td.map((x) => x.textContent.trim()));
    assert.deepEqual(cells.slice(0, 4), [c.units, c.protected, c.partial, c.unprotected].map(String), code);
    assert.match(cells[4], new RegExp(`^${c.pct.replace(/[()]/g, '\\$&')}`), code);
  }
  assert.equal(await page.$('#children tr[data-office="0021"]'), null, 'another region is not shown');
  // sortable: by units, descending on the second click; the header says so
  await page.click('#children th[data-key="units"] button');
  await page.click('#children th[data-key="units"] button');
  assert.equal(await page.getAttribute('#children th[data-key="units"]', 'aria-sort'), 'descending');
  assert.deepEqual(await page.$$eval('#children tbody tr', (tr) => tr.map((x) => x.dataset.office)), ['0111', '0112']);

  // the chart: four days, the last at 40 %, the target line at 100 %
  assert.equal(await page.getAttribute('svg.trend', 'data-points'), '4');
  assert.equal(Number(await page.getAttribute('svg.trend', 'data-last-pct')), 40);
  assert.equal(await page.$$eval('svg.trend polyline', (p) => p[0].getAttribute('points').split(' ').length), 4);
  assert.equal(Number(await page.getAttribute('svg.trend .target line', 'data-pct')), 100);
  assert.match(await page.textContent('svg.trend desc'), /Từ 0 % ngày .* đến 40 % ngày/);
  await page.click('.help summary');
  assert.match(await page.textContent('#definitions'), /mọi chủ tài khoản và mọi kế toán trưởng/);
  await shots(page, 'overview');
});

test('units: filter the unprotected ones, and whom to call', async (t) => {
  if (skipUnlessCoverage(t)) return;
  await page.click('#nav a[data-page="units"]');
  await page.waitForSelector('#units-filter');
  await page.waitForSelector('main[data-ready="#/units"]');
  await page.selectOption('#f-status', 'unprotected');
  await page.click('#units-filter button[type=submit]');
  await page.waitForSelector('main[data-ready="#/units?status=unprotected"] #units-table');
  const rows = await page.$$eval('#units-table tbody tr', (tr) => tr.map((x) => [x.dataset.unit, x.dataset.status]));
  assert.deepEqual(rows.map((r) => r[0]).sort(), EXPECT.unprotected);
  assert.ok(rows.every((r) => r[1] === 'unprotected'));
  // whom to call: the uncovered users of 1000005, with their phones as tel: links
  assert.match(await page.textContent('#units-table tr[data-unit="1000005"]'), /Chủ tài khoản 1000005/);
  assert.ok(await page.$('#units-table tr[data-unit="1000005"] a[href="tel:0910000051"]'));
  // never installed is told apart from installed but unreachable
  assert.ok(await page.$('#units-table tr[data-unit="1000005"] [data-flag="never_installed"]'));
  assert.ok(await page.$('#units-table tr[data-unit="1000003"] [data-flag="installed_unreachable"]'));
  assert.equal(await page.$('#units-table tr[data-unit="1000003"] [data-flag="never_installed"]'), null);
  await shots(page, 'units');
});

test('the CSV export of the filtered units, behind re-authentication', async (t) => {
  if (skipUnlessCoverage(t)) return;
  const probe = await pageGet(page, '/v1/staff/coverage/units.csv?status=unprotected');
  if (probe.status === 404) {
    t.skip('GET /v1/staff/coverage/units.csv is not on this branch yet (404): the export is untested');
    return;
  }
  assert.equal(probe.status, 403, 'the export asks for re-authentication first');
  assert.equal(probe.json.code, 'reauth_required');
  await page.waitForSelector('main[data-ready="#/units?status=unprotected"] #export-csv');

  // the export needs a fresh re-authentication: the dialog asks, a recovery code answers (the TOTP code of this
  // 30 s step was used by the enrolment)
  await page.click('#export-csv');
  await page.waitForSelector('dialog[open] #reauth-form');
  await page.fill('#reauth_password', NEW_PASSWORD);
  await page.fill('#reauth_code', state.recovery[0]);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#reauth-form button[type=submit]')]);
  const file = await download.path();
  const csv = fs.readFileSync(file);
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const text = csv.toString('utf8').slice(1);
  // records end in CRLF; a cell's own line breaks (the contacts, one per line) are bare LF inside its quotes
  const lines = text.replace(/\r\n$/, '').split('\r\n');
  assert.ok(lines.length === 3, text);
  assert.match(lines[0], /code|mã/i);
  assert.ok(EXPECT.unprotected.every((c) => text.includes(c)));
  assert.ok(!text.includes('1000001') && !text.includes('2000001'));
  assert.match(download.suggestedFilename(), /\.csv$/);
  assert.equal(await page.$('dialog[open]'), null);
  assert.deepEqual((await violations(page)).events, []);
});

test('unit detail: its users, their phones and reachability; an operator issues an activation code, shown once', async (t) => {
  const probe = await pageGet(page, '/v1/staff/units/1000003');
  if (probe.status === 404) {
    t.skip('GET /v1/staff/units/{code} is not on this branch yet (404): unit detail untested');
    return;
  }
  assert.equal(probe.status, 200, JSON.stringify(probe.json));
  await page.goto(`${srv.url}/staff/#/units/1000003`);
  await page.waitForSelector('main[data-ready="#/units/1000003"] table.people');
  assert.equal(await page.textContent('h1'), 'Trạm Y tế Phú Mỹ');
  assert.equal(await page.getAttribute('.unit-meta .badge', 'data-status'), 'unprotected');
  const holder = await page.textContent('table.people tr[data-login="u1000003.1"]');
  assert.match(holder, /Chủ tài khoản 1000003/);
  assert.match(holder, /không nhận được cảnh báo/);
  assert.match(holder, /iOS iPhone 13.*không nhận được.*token_invalid, Unregistered/);
  assert.match(await page.textContent('table.people tr[data-login="u1000003.2"]'), /Chưa có thiết bị/);
  await page.click('table.people button[data-login="u1000003.2"]');
  // issuing a code needs a fresh re-authentication too (unless the export above just had it)
  const askedFirst = await Promise.race([page.waitForSelector('dialog[open] #reauth-form').then(() => true),
    page.waitForSelector('#issued .msg').then(() => false)]);
  if (askedFirst) {
    await page.fill('#reauth_password', NEW_PASSWORD);
    await page.fill('#reauth_code', state.recovery[3]);
    await page.click('#reauth-form button[type=submit]');
  }
  await page.waitForSelector('#issued .msg');
  if (/Không tìm thấy/.test(await page.textContent('#issued'))) {
    t.skip('POST /v1/staff/users/{login}/activation-code is not on this branch yet (404)');
    return;
  }
  const code = await page.getAttribute('#issued code[data-code]', 'data-code');
  assert.ok(code && code.length >= 6, code);
  assert.match(await page.textContent('#issued'), /Mã kích hoạt cho u1000003\.2: .* \(hết hạn \d{2}:\d{2} \d{2}\/\d{2}\/\d{4}\)/);
  // the unit's users as CSV: re-authentication first (unless the export above just had it), then the file
  const file = page.waitForEvent('download');
  await page.click('#users-csv');
  const asked = await Promise.race([page.waitForSelector('dialog[open] #reauth-form').then(() => true), file.then(() => false)]);
  if (asked) {
    await page.fill('#reauth_password', 'wrong-Passw0rd!');
    await page.fill('#reauth_code', state.recovery[1]);
    await page.click('#reauth-form button[type=submit]');
    await page.waitForSelector('#reauth-form .msg-error');
    await page.fill('#reauth_password', NEW_PASSWORD);
    await page.fill('#reauth_code', state.recovery[2]);
    await page.click('#reauth-form button[type=submit]');
  }
  const csv = fs.readFileSync(await (await file).path());
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  assert.ok(csv.includes('u1000003.1') && csv.includes('u1000003.2') && !csv.includes('u1000001.1'), csv.toString());
  assert.equal((await file).suggestedFilename(), 'unit-1000003-users.csv');

  // shown once: a new page of the unit does not show it again
  await page.reload();
  await page.waitForSelector('main[data-ready="#/units/1000003"] table.people');
  assert.equal(await page.$('#issued code'), null);
  assert.ok(!(await page.textContent('main')).includes(code));
});

test('a unit out of scope or unknown says "not found or not in your offices"', async (t) => {
  if (skipUnlessCoverage(t)) return;
  for (const code of ['2000001', '9999999']) {
    await page.goto(`${srv.url}/staff/#/units/${code}`);
    await page.waitForSelector(`main[data-ready="#/units/${code}"]`);
    assert.match(await page.textContent('main'), /Không tìm thấy, hoặc không thuộc phạm vi đơn vị của bạn/, code);
  }
});

test('English on request, kept across reloads; then sign out ends the session on the server', async () => {
  await page.goto(`${srv.url}/staff/#/account`);
  await page.waitForSelector('main[data-ready="#/account"] #account-who');
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(await page.textContent('h1'), /Your account/);
  await page.reload();
  await page.waitForSelector('#account-who');
  assert.match(await page.textContent('#account-who'), /Account lan\.nguyen, office 0011, role Operator/);
  assert.equal(await page.evaluate(() => localStorage.getItem('alertd.lang')), 'en');
  assert.deepEqual(await noInlineCode(page), []);

  await page.click('#signout');
  await page.waitForSelector('#signin-form');
  assert.match(await page.textContent('.form-error'), /You have signed out/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('alertd.csrf')), null);
  assert.equal(h.psql(db, "SELECT count(*) FROM staff_sessions s JOIN staff st ON st.id = s.staff_id WHERE st.username = 'lan.nguyen' AND s.revoked_at IS NULL"), '0');
  assert.equal((await pageGet(page, '/v1/staff/me')).status, 401);
  // an old page's hash cannot bring the data back: it lands on sign-in, and opens after it (a recovery code here)
  await page.goto(`${srv.url}/staff/#/account`);
  await page.waitForSelector('main[data-ready="#/account"] #signin-form');
  await page.fill('#login', 'lan.nguyen');
  await page.fill('#password', NEW_PASSWORD);
  await page.fill('#code', state.recovery[5]);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('main[data-ready="#/account"] #account-who');
  assert.match(h.psql(db, "SELECT details::text FROM audit_log WHERE action = 'staff.signin' AND target = 'lan.nguyen' ORDER BY id DESC LIMIT 1"), /recovery/);
  await page.click('#signout');
  await page.waitForSelector('#signin-form');
  const v = await violations(page);
  assert.deepEqual(v.events, [], 'CSP violations');
  assert.deepEqual(v.csp, [], 'CSP messages in the console');
});
