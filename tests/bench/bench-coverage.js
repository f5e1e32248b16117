'use strict';
// bench-coverage.js - the HTTP half of `make bench-coverage` (tests/bench/bench-coverage.sh).
//
//   node bench-coverage.js signin URL LOGIN TEMP_PASSWORD NEW_PASSWORD
//       signs in with the temporary password, changes it (the only thing a first session may
//       do; the bench config has auth.require_totp = false) and prints the session cookie and
//       CSRF token as "cookie<TAB>csrf".
//   node bench-coverage.js get URL COOKIE N CONCURRENCY PATH...
//       for each PATH: 5 warm-up requests, then N GETs from CONCURRENCY keep-alive connections
//       (closed loop); prints "PATH<TAB>n<TAB>ok<TAB>non2xx<TAB>p50<TAB>p95<TAB>p99<TAB>max<TAB>bytes"
//       (milliseconds, from writing the request to the last byte of the answer).
//   node bench-coverage.js render URL COOKIE N SELECTOR
//       the overview page in headless Chromium (playwright-core from tests/node_modules,
//       /usr/bin/chromium): N navigations to URL/staff/, each timed from the navigation's start to
//       SELECTOR (the overview's table rows) being in the page; prints "render<TAB>n<TAB>p50<TAB>p95
//       <TAB>p99<TAB>max", or "skip<TAB>reason" when playwright-core, Chromium or the page is absent.
const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');

function request(agent, url, method, p, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(p, url);
    const t0 = process.hrtime.bigint();
    const req = http.request({ agent, method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text, ms });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'nan');

async function signin(url, login, temp, fresh) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const json = { 'content-type': 'application/json' };
  const s = await request(agent, url, 'POST', '/v1/staff/session', { headers: json, body: JSON.stringify({ login, password: temp }) });
  if (s.status !== 201) throw new Error(`sign-in: ${s.status} ${s.text}`);
  let cookie = s.headers['set-cookie'][0].split(';')[0];
  let csrf = JSON.parse(s.text).csrf_token;
  const c = await request(agent, url, 'POST', '/v1/staff/password', {
    headers: { ...json, cookie, 'x-csrf-token': csrf },
    body: JSON.stringify({ current_password: temp, new_password: fresh }),
  });
  if (c.status !== 200) throw new Error(`password change: ${c.status} ${c.text}`);
  cookie = c.headers['set-cookie'][0].split(';')[0];
  csrf = JSON.parse(c.text).csrf_token;
  const me = await request(agent, url, 'GET', '/v1/staff/me', { headers: { cookie } });
  if (me.status !== 200) throw new Error(`me: ${me.status} ${me.text}`);
  agent.destroy();
  process.stdout.write(`${cookie}\t${csrf}\n`);
}

async function get(url, cookie, n, conc, paths) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  for (const p of paths) {
    for (let i = 0; i < 5; i++) await request(agent, url, 'GET', p, { headers: { cookie } });
    const times = [];
    let ok = 0, bad = 0, bytes = 0, next = 0, firstBad = '';
    await Promise.all(Array.from({ length: conc }, async () => {
      while (next < n) {
        next++;
        const r = await request(agent, url, 'GET', p, { headers: { cookie } });
        times.push(r.ms);
        bytes = r.text.length;
        if (r.status >= 200 && r.status < 300) ok++;
        else {
          bad++;
          if (!firstBad) firstBad = `${r.status} ${r.text.slice(0, 200)}`;
        }
      }
    }));
    times.sort((a, b) => a - b);
    process.stdout.write(`${p}\t${times.length}\t${ok}\t${bad}\t${f(pct(times, 50))}\t${f(pct(times, 95))}\t${f(pct(times, 99))}\t${f(times[times.length - 1])}\t${bytes}\n`);
    if (firstBad) process.stderr.write(`bench-coverage: ${p}: first non-2xx answer: ${firstBad}\n`);
  }
  agent.destroy();
}

async function render(url, login, password, n, selector) {
  let pw;
  try {
    pw = require(path.join(__dirname, '..', 'node_modules', 'playwright-core'));
  } catch (e) {
    process.stdout.write('skip\tplaywright-core is not installed under tests/node_modules (the dashboard part of issue 12 adds it)\n');
    return;
  }
  const exe = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((x) => fs.existsSync(x));
  if (!exe) {
    process.stdout.write('skip\tno Chromium (Debian package chromium)\n');
    return;
  }
  const page0 = await request(new http.Agent(), url, 'GET', '/staff/', {});
  if (page0.status !== 200) {
    process.stdout.write(`skip\tGET /staff/ answers ${page0.status}: the dashboard pages are not in this build\n`);
    return;
  }
  const browser = await pw.chromium.launch({ executablePath: exe, headless: true, args: ['--no-sandbox'] });
  try {
    // signed in through the page itself, as an officer is: the session cookie and the tab's CSRF token
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/staff/`);
    await page.waitForSelector('#signin-form');
    await page.fill('#login', login);
    await page.fill('#password', password);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector(selector, { timeout: 15000 });
    const times = [];
    for (let i = 0; i < n + 3; i++) {
      const t0 = process.hrtime.bigint();
      await page.goto(`${url}/staff/`, { waitUntil: 'commit' });
      await page.waitForSelector(selector, { timeout: 15000 });
      if (i >= 3) times.push(Number(process.hrtime.bigint() - t0) / 1e6); // 3 warm-up navigations
    }
    times.sort((a, b) => a - b);
    process.stdout.write(`render\t${times.length}\t${f(pct(times, 50))}\t${f(pct(times, 95))}\t${f(pct(times, 99))}\t${f(times[times.length - 1])}\n`);
  } catch (e) {
    process.stdout.write(`skip\tthe overview did not render (${String(e.message).split('\n')[0]}); set BENCH_OVERVIEW_SELECTOR to the overview table's rows\n`);
  } finally {
    await browser.close();
  }
}

async function main() {
  const [mode, ...a] = process.argv.slice(2);
  if (mode === 'signin' && a.length === 4) return signin(...a);
  if (mode === 'get' && a.length >= 5) return get(a[0], a[1], Number(a[2]), Number(a[3]), a.slice(4));
  if (mode === 'render' && a.length === 5) return render(a[0], a[1], a[2], Number(a[3]), a[4]);
  process.stderr.write('usage: see the header of tests/bench/bench-coverage.js\n');
  process.exit(2);
}
main().catch((e) => {
  process.stderr.write(`bench-coverage.js: ${e.stack || e}\n`);
  process.exit(1);
});
