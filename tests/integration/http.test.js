'use strict';
// http.test.js - the HTTP core over real HTTP against a real alertd and
// PostgreSQL: health, routing errors, body cap, request ids, metrics auth,
// and the access log.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const h = require('./harness');

const TOKEN = crypto.randomBytes(32).toString('hex');
const TOKEN_HASH = crypto.createHash('sha256').update(TOKEN).digest('hex');
let srv;

test.before(async () => {
  const db = h.createDatabase('http');
  srv = await h.startServer({ db, config: { metrics: { token_sha256: TOKEN_HASH }, http: { max_body_bytes: 4096 } } });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('GET /healthz answers 200 JSON', async () => {
  const r = await h.request(srv.url, 'GET', '/healthz');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.deepEqual(r.json, { status: 'ok' });
  assert.equal(r.headers['cache-control'], 'no-store');
});

test('GET /readyz answers 200 when the database answers and the schema is current', async () => {
  const r = await h.request(srv.url, 'GET', '/readyz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ready', database: 'ok', schema: 'current' });
});

test('HEAD /healthz has no body', async () => {
  const r = await h.request(srv.url, 'HEAD', '/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
});

test('an unknown path gets a 404 problem+json', async () => {
  for (const p of ['/nope', '/healthz/', '//healthz', '/v1/../healthz', '/HEALTHZ']) {
    const r = await h.request(srv.url, 'GET', p);
    h.assertProblem(assert, r, 404, 'not_found');
  }
});

test('answers under /v1/staff/ carry the staff browser headers even when no route matched (404, 405)', async () => {
  for (const [method, p, status] of [['GET', '/v1/staff/nope', 404], ['PUT', '/v1/staff/session', 405], ['GET', '/v1/staff/password', 405]]) {
    const r = await h.request(srv.url, method, p);
    assert.equal(r.status, status, `${method} ${p}`);
    assert.match(r.headers['content-security-policy'] || '', /default-src 'none'/, `${method} ${p}`);
    assert.match(r.headers['content-security-policy'] || '', /frame-ancestors 'none'/, `${method} ${p}`);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', `${method} ${p}`);
    assert.equal(r.headers['x-frame-options'], 'DENY', `${method} ${p}`);
  }
  assert.equal((await h.request(srv.url, 'GET', '/v1/app/nope')).headers['content-security-policy'], undefined);
});

test('a wrong method gets 405 with an Allow header', async () => {
  const r = await h.request(srv.url, 'DELETE', '/healthz');
  h.assertProblem(assert, r, 405, 'method_not_allowed');
  assert.equal(r.headers.allow, 'GET, HEAD');
  const m = await h.request(srv.url, 'POST', '/metrics', { body: '{}', headers: { 'content-type': 'application/json' } });
  h.assertProblem(assert, m, 405, 'method_not_allowed');
});

// The declared size is checked before routing, so no route reads an oversized body.
// (A chunked body has no declared size: it is capped while being read by routes
// that take a body; the ingest tests cover that.)
test('a body declared over the cap gets 413 before anything is read', async () => {
  const big = 'x'.repeat(5000);
  const a = await h.request(srv.url, 'POST', '/healthz', {
    body: big,
    headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
  });
  h.assertProblem(assert, a, 413, 'payload_too_large');
  const b = await h.request(srv.url, 'POST', '/no-such-route', {
    body: big,
    headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
  });
  h.assertProblem(assert, b, 413, 'payload_too_large');
  // exactly at the cap is not too large (here: routed, then 405)
  const atCap = 'y'.repeat(4096);
  const c0 = await h.request(srv.url, 'POST', '/healthz', {
    body: atCap,
    headers: { 'content-type': 'application/json', 'content-length': '4096' },
  });
  h.assertProblem(assert, c0, 405, 'method_not_allowed');
  // absurd Content-Length values are refused without reading
  const c = await rawRequest(`POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n`);
  assert.match(c, /^HTTP\/1\.1 413 /);
  // the server still serves afterwards
  assert.equal((await h.request(srv.url, 'GET', '/healthz')).status, 200);
});

function rawRequest(text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(srv.port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
    });
    s.on('end', () => resolve(got));
    s.on('error', reject);
    setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 3000);
  });
}

test('a well-formed X-Request-Id is echoed; a malformed one is replaced', async () => {
  const good = await h.request(srv.url, 'GET', '/healthz', { headers: { 'x-request-id': 'abc-123.X_y' } });
  assert.equal(good.headers['x-request-id'], 'abc-123.X_y');
  const bad = await h.request(srv.url, 'GET', '/nope', { headers: { 'x-request-id': 'has space<script>' } });
  assert.match(bad.headers['x-request-id'], /^[0-9a-f]{32}$/);
  assert.equal(bad.json.request_id, bad.headers['x-request-id']);
  const long = await h.request(srv.url, 'GET', '/healthz', { headers: { 'x-request-id': 'a'.repeat(65) } });
  assert.match(long.headers['x-request-id'], /^[0-9a-f]{32}$/);
  const none1 = await h.request(srv.url, 'GET', '/healthz');
  const none2 = await h.request(srv.url, 'GET', '/healthz');
  assert.notEqual(none1.headers['x-request-id'], none2.headers['x-request-id']);
});

test('/metrics requires the bearer token', async () => {
  const none = await h.request(srv.url, 'GET', '/metrics');
  h.assertProblem(assert, none, 401, 'unauthorized');
  assert.match(none.headers['www-authenticate'], /^Bearer/);
  // flip the last hex digit, so the wrong token always differs from the right one
  const flipped = TOKEN.slice(0, -1) + (TOKEN.endsWith('0') ? '1' : '0');
  const wrong = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${flipped}` } });
  h.assertProblem(assert, wrong, 401, 'unauthorized');
  const basic = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Basic ${TOKEN}` } });
  h.assertProblem(assert, basic, 401, 'unauthorized');
});

test('/metrics serves Prometheus text with request counts, latency and pool gauges', async () => {
  await h.request(srv.url, 'GET', '/healthz');
  await h.request(srv.url, 'GET', '/nope');
  const r = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const count = (re) => {
    const m = r.body.match(re);
    return m ? Number(m[1]) : -1;
  };
  assert.ok(count(/alertd_http_requests_total\{method="GET",route="\/healthz",status="200"\} (\d+)/) >= 2);
  assert.ok(count(/alertd_http_requests_total\{method="",route="unmatched",status="404"\} (\d+)/) >= 1);
  assert.ok(count(/alertd_http_requests_total\{method="GET",route="\/metrics",status="401"\} (\d+)/) >= 3);
  assert.match(r.body, /alertd_http_request_duration_seconds_bucket\{method="GET",route="\/healthz",le="\+Inf"\} \d+/);
  assert.match(r.body, /alertd_http_request_duration_seconds_count\{method="GET",route="\/healthz"\} \d+/);
  assert.match(r.body, /alertd_db_pool_connections\{state="in_use"\} \d+/);
  assert.match(r.body, /alertd_db_pool_size 4/);
});

test('one JSON access-log line per request, without tokens or bodies', async () => {
  const id = `log-${crypto.randomBytes(4).toString('hex')}`;
  const secretBody = `SECRET-BODY-${crypto.randomBytes(4).toString('hex')}`;
  await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}`, 'x-request-id': id } });
  await h.request(srv.url, 'POST', '/healthz', { body: secretBody, headers: { 'x-request-id': `${id}b` } });
  const lines = await h.eventually(() => {
    const l = srv.logLines().filter((x) => x.msg === 'access' && (x.request_id === id || x.request_id === `${id}b`));
    return l.length === 2 ? l : null;
  }, 5000);
  const [m] = lines.filter((x) => x.request_id === id);
  assert.equal(m.method, 'GET');
  assert.equal(m.route, '/metrics');
  assert.equal(m.status, 200);
  assert.equal(typeof m.duration_ms, 'number');
  assert.equal(m.remote, '127.0.0.1');
  assert.ok(!srv.logs().includes(TOKEN), 'the bearer token appears in the log');
  assert.ok(!srv.logs().includes(secretBody), 'a request body appears in the log');
  for (const line of srv.logs().split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), line);
});
