'use strict';
// config.test.js - the CLI's view of configuration: check-config and
// environment overrides, as an operator would use them.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

test('check-config with http.listen = nonsense exits non-zero and names http.listen', () => {
  const cfg = h.writeConfig({ http: { listen: 'nonsense' } });
  const r = h.runAlertd(['check-config', '--config', cfg]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /http\.listen = "nonsense"/);
});

test('check-config accepts a valid file, including the shipped example', () => {
  const ok = h.runAlertd(['check-config', '--config', h.writeConfig({ http: { listen: '127.0.0.1:9999', threads: 8 } })]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /configuration OK/);
  const example = h.runAlertd(['check-config', '--config', path.join(h.ROOT, 'deploy', 'alertd.conf.example')]);
  assert.equal(example.code, 0, example.stderr);
});

test('environment overrides win over the file and are validated too', () => {
  const cfg = h.writeConfig({ http: { listen: '127.0.0.1:9999' } });
  const r = h.runAlertd(['check-config', '--config', cfg], { ALERTD_HTTP_LISTEN: 'bad' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ALERTD_HTTP_LISTEN/);
  assert.match(r.stderr, /http\.listen/);
  const r2 = h.runAlertd(['check-config', '--config', cfg], { ALERTD_HTTP_THREADS: '999' });
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /http\.threads/);
});

test('unknown keys, bad bounds and a missing file are errors that say where', () => {
  const r = h.runAlertd(['check-config', '--config', h.writeConfig({ http: { lisen: '127.0.0.1:1' } })]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /:2: http\.lisen: unknown option/);
  const b = h.runAlertd(['check-config', '--config', h.writeConfig({ http: { max_body_bytes: 10 } })]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /http\.max_body_bytes = "10": must be between 1024 and 67108864/);
  const m = h.runAlertd(['check-config', '--config', '/nonexistent.conf']);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /nonexistent\.conf/);
});

test('check-config refuses an APNs key or team id that is not letters and digits (the shared token row needs them so)', () => {
  for (const apns of [{ key_id: '"AB-12"' }, { team_id: '"T EAM"' }]) {
    const r = h.runAlertd(['check-config', '--config', h.writeConfig({ apns })]);
    assert.equal(r.code, 2, JSON.stringify(apns));
    assert.match(r.stderr, /apns\.key_id and apns\.team_id: Apple's identifiers are letters and digits only/);
  }
  const ok = h.runAlertd(['check-config', '--config', h.writeConfig({ apns: { key_id: 'ABC123DEFG', team_id: 'TEAM123456' } })]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('a password in database.url is never echoed', () => {
  const r = h.runAlertd(['check-config'], { ALERTD_DATABASE_URL: 'password=hunter2 = broken' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /database\.url/);
  assert.ok(!r.stderr.includes('hunter2'));
});

test('docs/config.md carries the generated option table', () => {
  const r = h.runAlertd(['config-reference']);
  assert.equal(r.code, 0);
  const doc = fs.readFileSync(path.join(h.ROOT, 'docs', 'config.md'), 'utf8');
  assert.ok(doc.includes(r.stdout), 'docs/config.md is out of date: run tools/gen-config-doc.sh');
});

test('deploy/alertd.conf.example lists every option with its default (generated, so it cannot drift)', () => {
  const r = h.runAlertd(['config-example']);
  assert.equal(r.code, 0);
  const shipped = fs.readFileSync(path.join(h.ROOT, 'deploy', 'alertd.conf.example'), 'utf8');
  assert.equal(shipped, r.stdout, 'regenerate with: build/alertd config-example > deploy/alertd.conf.example');
  const ref = h.runAlertd(['config-reference']).stdout;
  for (const m of ref.matchAll(/^\| `([a-z_]+)\.([a-z_0-9]+)` /gm)) {
    assert.ok(shipped.includes(`[${m[1]}]`) && shipped.includes(`#${m[2]} = `), `${m[1]}.${m[2]} missing from the example`);
  }
});
