'use strict';
// lifecycle.test.js - shutdown on SIGTERM/SIGINT within the grace period, and
// behaviour across a PostgreSQL outage (readyz 503, then 200 with no restart).

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./harness');

test('SIGTERM stops the server with exit 0 well within the grace period, even with idle keep-alive connections', async () => {
  const db = h.createDatabase('life');
  const srv = await h.startServer({ db, config: { http: { shutdown_grace_seconds: 3 } } });
  const agent = new http.Agent({ keepAlive: true });
  assert.equal((await h.request(srv.url, 'GET', '/healthz', { agent })).status, 200);
  const t0 = Date.now();
  await srv.stop(); // asserts exit code 0
  const took = Date.now() - t0;
  assert.ok(took < 3000, `took ${took} ms`);
  agent.destroy();
  const lines = srv.logLines();
  assert.ok(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
  assert.ok(lines.some((l) => l.msg === 'alertd stopped'));
  // the port is closed
  await assert.rejects(h.request(srv.url, 'GET', '/healthz'));
});

test('SIGINT stops the server with exit 0', async () => {
  const db = h.createDatabase('life');
  const srv = await h.startServer({ db });
  srv.proc.kill('SIGINT');
  const res = await srv.exited;
  assert.equal(res.code, 0, srv.logs());
});

test('while PostgreSQL is down /readyz is 503 with Retry-After; after it restarts /readyz is 200 without restarting alertd', async () => {
  const db = h.createDatabase('life');
  const srv = await h.startServer({ db });
  try {
    assert.equal((await h.request(srv.url, 'GET', '/readyz')).status, 200);
    h.pgcluster('stop');
    const down = await h.request(srv.url, 'GET', '/readyz');
    h.assertProblem(assert, down, 503, 'database_unavailable');
    assert.ok(Number(down.headers['retry-after']) > 0);
    // liveness does not depend on the database
    assert.equal((await h.request(srv.url, 'GET', '/healthz')).status, 200);
    // repeated calls while down fail fast, not after a connect timeout each
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) assert.equal((await h.request(srv.url, 'GET', '/readyz')).status, 503);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    h.pgcluster('start');
  }
  await h.eventually(async () => (await h.request(srv.url, 'GET', '/readyz')).status === 200, 15000, 200);
  assert.equal(srv.proc.exitCode, null, 'alertd was restarted or died');
  await srv.stop();
});
