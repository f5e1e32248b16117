'use strict';
// openapi.test.js - GET /openapi.yaml serves docs/openapi.yaml byte for byte,
// behind the metrics token; the spec is lint-clean under @redocly/cli (0
// errors, 0 warnings, exceptions only in docs/redocly.yaml and
// docs/.redocly.lint-ignore.yaml); the contract checker finds a mismatch.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./harness');
const specCheck = require('./spec_check');

const TOKEN = crypto.randomBytes(32).toString('hex');
const TOKEN_HASH = crypto.createHash('sha256').update(TOKEN).digest('hex');
const ROOT = path.resolve(__dirname, '..', '..');
let srv;

test.before(async () => {
  srv = await h.startServer({ db: h.createDatabase('openapi'), config: { metrics: { token_sha256: TOKEN_HASH } } });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('GET /openapi.yaml serves the embedded spec, identical to docs/openapi.yaml', async () => {
  const r = await h.request(srv.url, 'GET', '/openapi.yaml', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/yaml/);
  assert.ok(r.raw.equals(fs.readFileSync(specCheck.SPEC)), 'served spec differs from docs/openapi.yaml');
});

test('GET /openapi.yaml needs the metrics token', async () => {
  const none = await h.request(srv.url, 'GET', '/openapi.yaml');
  h.assertProblem(assert, none, 401, 'unauthorized');
  const wrong = await h.request(srv.url, 'GET', '/openapi.yaml', { headers: { authorization: `Bearer ${'0'.repeat(64)}` } });
  h.assertProblem(assert, wrong, 401, 'unauthorized');
});

test('redocly lint: 0 errors, 0 warnings', () => {
  const bin = path.join(ROOT, 'tests', 'node_modules', '.bin', 'redocly');
  const r = spawnSync(bin, ['lint', '--config', 'redocly.yaml', '--format=stylish', 'openapi.yaml'], { cwd: path.join(ROOT, 'docs'), encoding: 'utf8' });
  const out = `${r.stdout}\n${r.stderr}`;
  console.log(out.split('\n').filter((l) => /error|warning|valid|ignored/i.test(l)).join('\n'));
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /\d+ warnings?/, out);
  assert.match(out, /Your API description is valid/);
});

test('the contract check refuses an undocumented status, a wrong content type and a body off its schema', async () => {
  const ok = { status: 200, headers: { 'content-type': 'application/json' }, json: { status: 'ok' }, raw: Buffer.from('{"status":"ok"}') };
  assert.equal(await specCheck.check('GET', '/healthz', ok, { record: false }), null);
  assert.match(await specCheck.check('GET', '/healthz', { ...ok, status: 418 }, { record: false }), /status 418 is not documented/);
  assert.match(await specCheck.check('GET', '/healthz', { ...ok, headers: { 'content-type': 'text/html' } }, { record: false }), /content type text\/html/);
  assert.match(await specCheck.check('GET', '/healthz', { ...ok, json: { status: 'fine' } }, { record: false }), /getHealthz 200/);
  assert.match(await specCheck.check('GET', '/no/such/route', ok, { record: false }), /no operation/);
});
