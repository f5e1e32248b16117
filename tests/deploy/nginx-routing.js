'use strict';
// nginx-routing.js - deploy/nginx-alertd.conf as shipped, in front of a real
// alertd on loopback (run by check-nginx.sh, which starts PostgreSQL). The
// shipped file is copied with only its deployment-specific lines replaced:
// listen ports, certificate paths, log paths, the upstream address, and the
// PLACEHOLDER networks of the two allow-lists, which become loopback
// addresses (the whole of 127.0.0.0/8 is local on Linux, so a client picks
// its address with `localAddress`): 127.0.0.2 is the ledger system,
// 127.0.0.3 the treasury network, 127.0.0.4 the public internet. One run
// also switches on the optional client-certificate check for ingest, as the
// comments in the file say, with a client certificate from a test CA.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const https = require('node:https');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const h = require('../integration/harness');

const LEDGER = '127.0.0.2';
const TREASURY = '127.0.0.3';
const PUBLIC = '127.0.0.4';
const LOGIN = 'nguyen.van.secretlogin';
const SEARCH = 'TranThiTimKiem';
const NGINX = fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const work = fs.mkdtempSync(path.join(h.TMP, 'nginx-'));
let srv, nginx, port, db, kek, secret, pki;

function openssl(args) {
  execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
}

// The shipped config with its deployment-specific lines replaced; everything else (locations, maps, geo
// logic, headers, log format) is what an operator installs.
function siteConfig(upstreamPort, mtls) {
  let s = fs.readFileSync(path.join(h.ROOT, 'deploy', 'nginx-alertd.conf'), 'utf8');
  const sub = (re, to) => {
    assert.match(s, re, `the shipped config has no ${re}`);
    s = s.replace(re, to);
  };
  sub(/^\s*listen 80;\n\s*listen \[::\]:80;\n/m, '    listen 127.0.0.1:1;\n'.replace(':1', `:${port + 1}`));
  sub(/^\s*listen 443 ssl http2;\n\s*listen \[::\]:443 ssl http2;\n/m, `    listen 127.0.0.1:${port} ssl http2;\n    listen ${LEDGER}:${port} ssl http2;\n    listen ${TREASURY}:${port} ssl http2;\n    listen ${PUBLIC}:${port} ssl http2;\n`);
  sub(/\/etc\/nginx\/tls\/alertd\.fullchain\.pem/, path.join(pki, 'server.pem'));
  sub(/\/etc\/nginx\/tls\/alertd\.key\.pem/, path.join(pki, 'server.key'));
  s = s.replace(/\/var\/log\/nginx\//g, `${work}/`);
  sub(/server 127\.0\.0\.1:8080 /, `server 127.0.0.1:${upstreamPort} `);
  sub(/192\.0\.2\.16\/28\s+1;/, `${LEDGER}/32 1;`);
  sub(/198\.51\.100\.0\/24 1;/, `${TREASURY}/32 1;`);
  if (mtls) {
    sub(/(ssl_session_tickets off;\n)/, `$1    ssl_client_certificate ${path.join(pki, 'clients-ca.pem')};\n    ssl_verify_client optional;\n`);
    sub(/# (if \(\$ssl_client_verify != SUCCESS\) \{ return 403; \})/, '$1');
  }
  return s;
}

function mainConfig(mtls) {
  fs.writeFileSync(path.join(work, 'alertd.conf'), siteConfig(srv.port, mtls));
  const root = process.getuid() === 0 ? 'user root root;\n' : '';
  fs.writeFileSync(path.join(work, 'nginx.conf'), `${root}worker_processes 1;
pid ${work}/nginx.pid;
error_log ${work}/error.log warn;
events { worker_connections 64; }
http {
  client_body_temp_path ${work}/body; proxy_temp_path ${work}/proxy; fastcgi_temp_path ${work}/fcgi;
  uwsgi_temp_path ${work}/uwsgi; scgi_temp_path ${work}/scgi;
  default_type application/octet-stream;
  include ${work}/alertd.conf;
}
`);
  return path.join(work, 'nginx.conf');
}

async function startNginx(mtls) {
  const conf = mainConfig(mtls);
  const t = spawnSync(NGINX, ['-t', '-p', work, '-c', conf], { encoding: 'utf8' });
  console.log(`nginx -t (${mtls ? 'with' : 'without'} client certificates): exit ${t.status}: ${t.stderr.trim().replace(/\n/g, ' | ')}`);
  assert.equal(t.status, 0, t.stderr);
  nginx = spawn(NGINX, ['-p', work, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  await h.eventually(async () => (await get(PUBLIC, '/healthz').catch(() => ({ status: 0 }))).status === 200, 10000);
}

async function stopNginx() {
  if (!nginx) return;
  const done = new Promise((r) => nginx.once('exit', r));
  nginx.kill('SIGQUIT');
  await done;
  nginx = null;
}

// One HTTPS request through nginx from address `from`: { status, body, json }.
function call(from, method, p, { body, headers = {}, clientCert = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method, path: p, localAddress: from, servername: 'localhost',
      ca: fs.readFileSync(path.join(pki, 'ca.pem')), headers, agent: false,
      ...(clientCert ? { cert: fs.readFileSync(path.join(pki, 'client.pem')), key: fs.readFileSync(path.join(pki, 'client.key')) } : {}),
      rejectUnauthorized: false, // the mock PKI's server certificate names 127.0.0.1 and localhost; TLS itself is not under test
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch (_) { /* not JSON */ }
        resolve({ status: res.statusCode, body: data, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    if (body) req.write(body);
    req.end();
  });
}
const get = (from, p) => call(from, 'GET', p);

// nginx's own refusal: 403 problem+json with the title only nginx uses.
function refusedByNginx(r) {
  return r.status === 403 && r.json && r.json.title === 'Not allowed from this network';
}

function signedEvent() {
  const text = JSON.stringify(h.balanceEvent({ unit_code: '1000001' }));
  const id = `msg_nginx_${Date.now()}_${Math.random().toString(16).slice(2)}`;
  const ts = String(h.nowSeconds());
  return { body: text, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': h.sign(secret, id, ts, text) } };
}

test.before(async () => {
  pki = fs.mkdtempSync(path.join(work, 'pki-'));
  execFileSync(process.execPath, [path.join(h.ROOT, 'tests', 'mock', 'push-mock.js'), '--pki', pki], { stdio: 'ignore' });
  // a separate CA for the ledger systems' client certificates, and one client certificate
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=ledger clients CA',
    '-keyout', 'clients-ca.key', '-out', 'clients-ca.pem']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=tabmis', '-keyout', 'client.key', '-out', 'client.csr']);
  openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'clients-ca.pem', '-CAkey', 'clients-ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.pem']);
  db = h.createDatabase('nginx');
  kek = h.createKek();
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0001', 'KBNN', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Lê Lợi', '0001');`);
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  assert.ok(secret);
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { http: { trust_forwarded_for: 'on' } }) });
  port = await h.freePort();
});

test.after(async () => {
  await stopNginx();
  if (srv) await srv.stop();
});

test('who may reach which path, through the shipped config', async () => {
  await startNginx(false);
  const rows = [];
  const expect = async (from, who, method, p, want, opts) => {
    const r = await call(from, method, p, opts);
    const got = refusedByNginx(r) ? 'refused' : 'passed';
    rows.push(`${who.padEnd(8)} ${method.padEnd(4)} ${p.padEnd(36)} ${r.status} ${got}`);
    assert.equal(got, want, `${who} ${method} ${p}: ${r.status} ${r.body}`);
    return r;
  };
  // the phones' API is public; alertd itself then asks for a device token
  const app = await expect(PUBLIC, 'public', 'GET', '/v1/app/me', 'passed');
  assert.equal(app.status, 401);
  await expect(PUBLIC, 'public', 'GET', '/healthz', 'passed');
  for (const p of ['/v1/staff/me', '/staff/', '/v1/admin/events/unrouted', '/openapi.yaml']) await expect(PUBLIC, 'public', 'GET', p, 'refused');
  await expect(PUBLIC, 'public', 'POST', '/v1/ingest/tabmis/events', 'refused', signedEvent());
  // the treasury network reaches the dashboard and the staff and admin APIs, not ingest
  assert.equal((await expect(TREASURY, 'treasury', 'GET', '/v1/staff/me', 'passed')).status, 401);
  assert.equal((await expect(TREASURY, 'treasury', 'GET', '/staff/', 'passed')).status, 200);
  await expect(TREASURY, 'treasury', 'GET', '/v1/admin/events/unrouted', 'passed');
  await expect(TREASURY, 'treasury', 'POST', '/v1/ingest/tabmis/events', 'refused', signedEvent());
  // the ledger system reaches ingest, and its signed event is stored; nothing else
  const ev = await expect(LEDGER, 'ledger', 'POST', '/v1/ingest/tabmis/events', 'passed', signedEvent());
  assert.equal(ev.status, 202, ev.body);
  await expect(LEDGER, 'ledger', 'GET', '/v1/staff/me', 'refused');
  console.log(rows.join('\n'));
  assert.equal(h.psql(db, 'SELECT count(*) FROM events'), '1');
  await stopNginx();
});

test('optional mutual TLS for ingest: a client certificate of the ledger CA is required', async () => {
  await startNginx(true);
  const without = await call(LEDGER, 'POST', '/v1/ingest/tabmis/events', signedEvent());
  assert.ok(refusedByNginx(without), `${without.status} ${without.body}`);
  const withCert = await call(LEDGER, 'POST', '/v1/ingest/tabmis/events', { ...signedEvent(), clientCert: true });
  assert.equal(withCert.status, 202, withCert.body);
  // the phones need no certificate
  assert.equal((await call(PUBLIC, 'GET', '/v1/app/me')).status, 401);
  console.log(`mTLS: without a client certificate ${without.status} (nginx), with one ${withCert.status} (alertd)`);
  assert.equal(h.psql(db, 'SELECT count(*) FROM events'), '2');
  await stopNginx();
});

test('the access log carries no login and no query string', async () => {
  await startNginx(false);
  const r = await call(TREASURY, 'GET', `/v1/staff/users/${LOGIN}/activation-code?q=${SEARCH}`);
  assert.ok(!refusedByNginx(r));
  await call(TREASURY, 'POST', `/v1/staff/accounts/${LOGIN}/role`, { body: '{}', headers: { 'content-type': 'application/json' } });
  await call(TREASURY, 'GET', `/v1/admin/users/${LOGIN}/activation-code`);
  await stopNginx(); // flushes the log
  const log = fs.readFileSync(path.join(work, 'alertd.access.log'), 'utf8');
  console.log(log.trim().split('\n').slice(-3).join('\n'));
  assert.ok(!log.includes(LOGIN), 'a login is in the access log');
  assert.ok(!log.includes(SEARCH), 'a query string is in the access log');
  assert.match(log, /GET \/v1\/staff\/users\/\{login\}\/activation-code HTTP/);
  assert.match(log, /POST \/v1\/staff\/accounts\/\{login\}\/role HTTP/);
  assert.match(log, /GET \/v1\/admin\/users\/\{login\}\/activation-code HTTP/);
});
