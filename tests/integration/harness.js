'use strict';
// harness.js - shared helpers for the integration tests: a fresh database
// per test file on the throwaway cluster that tests/run.sh started, real
// alertd processes on free ports, raw HTTP requests, and psql queries.

const { spawn, execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const specCheck = require('./spec_check');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.ALERTD_BIN || path.join(ROOT, 'build', 'alertd');
const PGDIR = process.env.ALERTD_TEST_PGDIR;
const TMP = process.env.ALERTD_TEST_TMP || fs.mkdtempSync('/tmp/alertd-it-');

if (!PGDIR) throw new Error('ALERTD_TEST_PGDIR is not set: run the tests through `make test`');

function conninfo(db) {
  return `host=${PGDIR}/run dbname=${db} user=alertd`;
}

function psql(db, sql) {
  return execFileSync('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', `${PGDIR}/run`, '-U', 'alertd', '-d', db, '-c', sql], {
    encoding: 'utf8',
  }).trim();
}

// A new, empty database with a unique name.
function createDatabase(prefix = 't') {
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  psql('postgres', `CREATE DATABASE ${name}`);
  return name;
}

// Run the cluster helper from deploy/pgcluster.sh (stop/start the shared cluster).
function pgcluster(action) {
  execFileSync('bash', ['-c', `. deploy/pgcluster.sh && pgcluster_${action} "$0"`, PGDIR], { cwd: ROOT, stdio: 'inherit' });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Write a config file; `sections` is { section: { key: value } }.
function writeConfig(sections) {
  const file = path.join(TMP, `alertd-${crypto.randomBytes(4).toString('hex')}.conf`);
  let text = '';
  for (const [section, keys] of Object.entries(sections)) {
    text += `[${section}]\n`;
    for (const [k, v] of Object.entries(keys)) text += `${k} = ${v}\n`;
  }
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

// Run an alertd subcommand to completion.
function runAlertd(args, env = {}) {
  const r = spawnSync(BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function migrate(db) {
  const cfg = writeConfig({ database: { url: `"${conninfo(db)}"` } });
  const r = runAlertd(['migrate', '--config', cfg]);
  if (r.code !== 0) throw new Error(`migrate failed (${r.code}): ${r.stderr}`);
  return r;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Raw HTTP/1.1 request. Resolves { status, headers, body, json }.
// Every response is checked against docs/openapi.yaml (spec_check.js) unless
// the call passes { spec: false }: only for requests that are not API operations.
async function request(base, method, urlPath, opts = {}) {
  const res = await rawRequest(base, method, urlPath, opts);
  if (opts.spec !== false) await specCheck.check(method, urlPath, res);
  return res;
}

function rawRequest(base, method, urlPath, { headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(base); // the path is sent as given, unnormalised
    const req = http.request(
      { host: u.hostname, port: u.port, path: urlPath, method, headers, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch (_) {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json, raw });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Start `alertd serve` on a free port. Options: db (database name), config
// (extra sections), env. Returns a handle with url, logs() and stop().
async function startServer({ db, config = {}, env = {}, migrateFirst = true, waitReady = true } = {}) {
  if (migrateFirst) migrate(db);
  const port = await freePort();
  const sections = {
    database: { url: `"${conninfo(db)}"`, pool_size: 4, connect_timeout_seconds: 2 },
    http: { listen: `127.0.0.1:${port}`, threads: 2, shutdown_grace_seconds: 5 },
    log: { level: 'info', format: 'json' },
  };
  for (const [s, keys] of Object.entries(config)) sections[s] = { ...(sections[s] || {}), ...keys };
  const cfg = writeConfig(sections);
  const proc = spawn(BIN, ['serve', '--config', cfg], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d.toString('utf8');
  });
  proc.stdout.on('data', (d) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const handle = {
    url,
    port,
    proc,
    config: cfg,
    exited,
    logs: () => stderr,
    logLines: () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    // Stop with SIGTERM and require a clean exit 0 (sanitizer reports make it non-zero).
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      // a cleared timer: a pending one would keep node (and the test file) alive 15 s after the last test
      let timer;
      const timeout = new Promise((r) => { timer = setTimeout(() => r({ timeout: true }), 15000); });
      const res = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (res.timeout) {
        proc.kill('SIGKILL');
        throw new Error(`alertd did not stop within 15 s\n${stderr.slice(-3000)}`);
      }
      if (res.code !== 0) throw new Error(`alertd exited ${res.code} ${res.signal || ''}\n${stderr.slice(-4000)}`);
      return res;
    },
  };
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`alertd exited early (${proc.exitCode}):\n${stderr}`);
    try {
      const r = await request(url, 'GET', waitReady ? '/readyz' : '/healthz');
      if (r.status === 200) break;
    } catch (_) {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`alertd did not become ready:\n${stderr}`);
    }
    await sleep(50);
  }
  return handle;
}

// Wait until fn() resolves truthy, polling every `every` ms, up to `ms`.
async function eventually(fn, ms = 15000, every = 100) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms (last: ${last})`);
    await sleep(every);
  }
}

function assertProblem(assert, res, status, code) {
  assert.equal(res.status, status, `status ${res.status}: ${res.body}`);
  assert.match(res.headers['content-type'], /^application\/problem\+json/);
  assert.equal(res.json.status, status);
  assert.equal(res.json.code, code);
  assert.equal(res.json.type, `urn:alertd:problem:${code}`);
  assert.equal(typeof res.json.title, 'string');
  assert.equal(res.json.request_id, res.headers['x-request-id']);
}

// ---- staff helpers ----

// RFC 6238 codes of a base32 secret, computed independently of alertd (and of liboath): totp.js.
const { totp } = require('./totp');
module.exports = {
  ROOT, BIN, PGDIR, TMP, conninfo, psql, createDatabase, pgcluster, freePort, writeConfig, runAlertd,
  migrate, request, startServer, eventually, sleep, assertProblem, totp,
};

// ---- ingest helpers ----

// A key-encryption key file for secrets.key_file (mode 0600).
function createKek() {
  const file = path.join(TMP, `kek-${crypto.randomBytes(4).toString('hex')}`);
  const r = runAlertd(['keygen', file]);
  if (r.code !== 0) throw new Error(`keygen failed: ${r.stderr}`);
  return file;
}

// Config sections for a database with ingest enabled.
function ingestConfig(db, kek, extra = {}) {
  const base = {
    database: { url: `"${conninfo(db)}"` },
    secrets: { key_file: kek },
    ingest: { secret_cache_seconds: 0 },
  };
  for (const [s, keys] of Object.entries(extra)) base[s] = { ...(base[s] || {}), ...keys };
  return base;
}

// `alertd source VERB ...` against db; returns { code, stdout, stderr, secret, secretId }.
function sourceCmd(db, kek, args) {
  const cfg = writeConfig(ingestConfig(db, kek));
  const r = runAlertd(['source', ...args, '--config', cfg]);
  const secret = (r.stdout.match(/^secret:\s+(whsec_\S+)$/m) || [])[1];
  const secretId = Number((r.stdout.match(/^secret_id:\s+(\d+)$/m) || [])[1]);
  return { ...r, secret, secretId };
}

// Standard Webhooks signature, computed independently of alertd with node's crypto.
function sign(secret, id, ts, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// POST a signed body to a source's endpoint. opts: ts, msgId, batch, headers, secret override.
function postSigned(srv, source, secret, body, opts = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const ts = String(opts.ts ?? nowSeconds());
  const msgId = opts.msgId ?? `msg_${crypto.randomBytes(8).toString('hex')}`;
  const headers = {
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': ts,
    'webhook-signature': sign(secret, msgId, ts, text),
    ...(opts.headers || {}),
  };
  for (const [k, v] of Object.entries(headers)) if (v === null) delete headers[k];
  const p = opts.batch ? `/v1/ingest/${source}/events/batch` : `/v1/ingest/${source}/events`;
  return request(srv.url, 'POST', p, { headers, body: text, agent: opts.agent });
}

let eventSeq = 0;
function balanceEvent(overrides = {}) {
  eventSeq += 1;
  return {
    id: `bal-${process.pid}-${Date.now()}-${eventSeq}`,
    type: 'balance.changed',
    occurred_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    unit_code: '1000001',
    data: { account: '9523.1.1012345', amount: -1500000, balance_after: 120000000, description: 'Chi lương tháng 11' },
    ...overrides,
  };
}

function voucherEvent(overrides = {}) {
  eventSeq += 1;
  return {
    id: `vch-${process.pid}-${Date.now()}-${eventSeq}`,
    type: 'voucher.status_changed',
    occurred_at: '2026-11-21T10:15:00+07:00',
    unit_code: '1000001',
    office_code: '0011',
    data: {
      voucher: {
        number: '000456',
        dossier_code: 'HS-2026-000456',
        form: 'C4-09/KB',
        kind: 'cash_withdrawal',
        amount: 50000000,
        currency: 'VND',
        account: '9523.1.1012345',
        beneficiary: { name: 'Nguyễn Văn A', account: '0123456789', bank: 'Vietcombank' },
        signatures: [
          { role: 'account_holder', signer: 'Trần Thị B', certificate_serial: '54A1', signed_at: '2026-11-21T10:14:01+07:00' },
          { role: 'chief_accountant', signer: 'Lê Văn C', certificate_serial: '77F2', signed_at: '2026-11-21T10:14:05+07:00' },
        ],
      },
      status: 'received',
      previous_status: 'submitted',
    },
    ...overrides,
  };
}

// One office, one unit (1000001, the events' default), one user with one
// Android phone whose FCM token is `pushToken`, and an ingest source
// `tabmis` for that office; returns the source's secret.
function seedOnePhone(db, kek, pushToken) {
  psql(db, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('c.acct', '1000001', 'Phạm Thu Hà');
    INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', '${pushToken}' FROM users;`);
  const { secret, stderr } = sourceCmd(db, kek, ['add', 'tabmis', '--office', '0011']);
  if (!secret) throw new Error(`source add failed: ${stderr}`);
  return secret;
}

Object.assign(module.exports, { createKek, ingestConfig, sourceCmd, sign, nowSeconds, postSigned, balanceEvent, voucherEvent, seedOnePhone });

// ---------------------------------------------------------------- push mock

// Start tests/mock/push-mock.js on free ports with its own PKI directory.
// Returns { url, control(method, path, body) -> parsed JSON, pki, apns, sa, stop() }.
async function startMock() {
  const pki = fs.mkdtempSync(path.join(TMP, 'pki-'));
  const proc = spawn(process.execPath, [path.join(ROOT, 'tests', 'mock', 'push-mock.js'), '--pki', pki, '--port', '0', '--control-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`push-mock did not start: ${err}`)), 30000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening (https:\/\/\S+) control (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`push-mock exited ${code}: ${err}`)); });
  });
  const controlUrl = line[2];
  const control = async (method, p, body) => {
    // the mock's control API is not alertd's: not checked against its spec
    const r = await request(controlUrl, method, p, body === undefined ? { spec: false } : { spec: false, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (r.status !== 200) throw new Error(`mock control ${method} ${p}: ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  };
  const apns = JSON.parse(fs.readFileSync(path.join(pki, 'apns.json'), 'utf8'));
  // alertd refuses private key files other accounts could read
  fs.chmodSync(path.join(pki, 'sa.json'), 0o600);
  fs.chmodSync(apns.key_file, 0o600);
  const sa = JSON.parse(fs.readFileSync(path.join(pki, 'sa.json'), 'utf8'));
  return {
    url: line[1], controlUrl, control, pki, apns, sa,
    // alertd's config sections for this mock
    config: (push = {}) => ({
      push: { provider: 'live', ca_file: path.join(pki, 'ca.pem'), poll_interval_ms: 200, retry_base_seconds: 1, retry_max_seconds: 2, request_timeout_seconds: 5, ...push },
      fcm: { credentials_file: path.join(pki, 'sa.json'), endpoint: line[1] },
      apns: { key_file: apns.key_file, key_id: apns.key_id, team_id: apns.team_id, topic: apns.topic, endpoint: line[1] },
    }),
    requests: async (api) => (await control('GET', `/requests${api ? `?api=${api}` : ''}`)).requests,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((resolve) => proc.on('exit', resolve));
      }
    },
  };
}

Object.assign(module.exports, { startMock });

// ---------------------------------------------------------------- admin keys and staff

// `alertd admin-key add NAME --office OFFICE --scope SCOPE` with the config file cfg; returns the key.
function adminKey(cfg, name, office, scope = 'roster,activation,unrouted,read') {
  const r = runAlertd(['admin-key', 'add', name, '--office', office, '--scope', scope, '--config', cfg]);
  if (r.code !== 0) throw new Error(`admin-key add ${name} failed: ${r.stderr}`);
  return r.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
}

// The same codes under the name the staff tests use.
const totpCode = totp;

// A staff request with session s ({ cookie, csrf }, or null for none); the CSRF header unless csrf is null.
function staffCall(srv, s, method, p, body, { csrf = s && s.csrf } = {}) {
  const headers = {};
  if (s) headers.cookie = s.cookie;
  if (csrf !== undefined && csrf !== null) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return request(srv.url, method, p, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

// `alertd staff add`, then the whole first sign-in (temporary password changed, TOTP enrolled) over HTTP.
// Returns { cookie, csrf, secret } of a session that may do anything its role allows.
async function staffReady(srv, cfg, login, office, role, password = 'Tr3asury!Kv9x') {
  const r = runAlertd(['staff', 'add', login, '--office', office, '--role', role, '--config', cfg]);
  if (r.code !== 0) throw new Error(`staff add ${login} failed: ${r.stderr}`);
  const temp = r.stdout.match(/^temporary password: (\S+)$/m)[1];
  const session = (res, status) => {
    if (res.status !== status) throw new Error(`${login}: ${res.status} ${res.body}`);
    return { cookie: res.headers['set-cookie'][0].split(';')[0], csrf: res.json.csrf_token };
  };
  let s = session(await staffCall(srv, null, 'POST', '/v1/staff/session', { login, password: temp }), 201);
  s = session(await staffCall(srv, s, 'POST', '/v1/staff/password', { current_password: temp, new_password: password }), 200);
  const e = await staffCall(srv, s, 'POST', '/v1/staff/totp/enrol');
  if (e.status !== 201) throw new Error(`${login}: enrol ${e.status} ${e.body}`);
  const c = await staffCall(srv, s, 'POST', '/v1/staff/totp/confirm', { code: totpCode(e.json.secret) });
  s = session(c, 200);
  return { ...s, secret: e.json.secret, password, recovery: [...c.json.recovery_codes] };
}

// Step up session s of staffReady (POST /v1/staff/reauth) with its password and one of its recovery codes:
// a TOTP code would be a replay when the same 30 s step was already used.
async function staffReauth(srv, s) {
  const r = await staffCall(srv, s, 'POST', '/v1/staff/reauth', { password: s.password, recovery_code: s.recovery.shift() });
  if (r.status !== 204) throw new Error(`reauth: ${r.status} ${r.body}`);
}

Object.assign(module.exports, { adminKey, totpCode, staffCall, staffReady, staffReauth });
