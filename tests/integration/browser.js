'use strict';
// browser.js - what every browser test shares: Debian's /usr/bin/chromium
// launched headless through playwright-core (which never downloads a
// browser of its own), with the flags this closed network needs, the
// dashboard's locale and time zone, and a recorder of Content-Security-
// Policy violations in every page (window.__cspViolations, entries
// { directive, blocked, sample }); and screenshots that must not be empty.
// Screenshots go to $ALERTD_TEST_SCREENSHOTS, else $ALERTD_TEST_TMP/screenshots,
// else tests/output/.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

let chromium;
try {
  ({ chromium } = require('../node_modules/playwright-core'));
} catch (e) {
  throw new Error('playwright-core is missing: tests/run.sh installs it with `npm ci` in tests/ (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1)');
}

const CHROMIUM = process.env.ALERTD_TEST_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOTS = process.env.ALERTD_TEST_SCREENSHOTS ||
  (process.env.ALERTD_TEST_TMP ? path.join(process.env.ALERTD_TEST_TMP, 'screenshots') : path.join(h.ROOT, 'tests', 'output'));

// A persistent context in a fresh profile directory. options: { acceptDownloads }.
async function launch(options = {}) {
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(h.TMP, 'chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: !!options.acceptDownloads,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: { width: 1280, height: 900 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  return context;
}

// Hands a session made over HTTP (harness staffReady/staffSignIn: { cookie, csrf }) to the context: its
// __Host- cookie (Secure, path /, no Domain; Chromium counts 127.0.0.1 as a secure origin) and its CSRF token
// where the dashboard keeps it, this tab's sessionStorage.
async function adoptSession(context, session) {
  const [name, value] = session.cookie.split('=');
  await context.addCookies([{ name, value, domain: '127.0.0.1', path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
  await context.addInitScript((csrf) => sessionStorage.setItem('alertd.csrf', csrf), session.csrf);
}

// Full-page screenshot of page p as SCREENSHOTS/<name>.png; fails when the file is suspiciously small.
async function shot(p, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await p.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 10000, `${file} looks empty`);
  return file;
}

// The CSP violations page p has recorded so far.
function cspViolations(p) {
  return p.evaluate(() => window.__cspViolations || []);
}

module.exports = { launch, adoptSession, shot, cspViolations, SCREENSHOTS };
