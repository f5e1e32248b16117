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
function request(base, method, urlPath, { headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(base); // the path is sent as given, unnormalised
    const req = http.request(
      { host: u.hostname, port: u.port, path: urlPath, method, headers, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch (_) {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json });
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
      const res = await Promise.race([exited, sleep(15000).then(() => ({ timeout: true }))]);
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

module.exports = {
  ROOT, BIN, PGDIR, TMP, conninfo, psql, createDatabase, pgcluster, freePort, writeConfig, runAlertd,
  migrate, request, startServer, eventually, sleep, assertProblem,
};
