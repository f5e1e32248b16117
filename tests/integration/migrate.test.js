'use strict';
// migrate.test.js - embedded migrations: ordered application with checksums,
// concurrent migrators, refusal on edited files, and serve refusing a schema
// that is behind.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const h = require('./harness');

function cfgFor(db) {
  return h.writeConfig({ database: { url: `"${h.conninfo(db)}"` } });
}

test('migrate applies every migration once, in order, with its checksum; a second run applies nothing', () => {
  const db = h.createDatabase('mig');
  const cfg = cfgFor(db);
  const first = h.runAlertd(['migrate', '--config', cfg]);
  assert.equal(first.code, 0, first.stderr);
  const rows = h.psql(db, 'SELECT version, name, length(checksum) FROM schema_migrations ORDER BY version').split('\n');
  assert.ok(rows.length >= 4);
  rows.forEach((row, i) => {
    const [version, name, len] = row.split('|');
    assert.equal(Number(version), i + 1);
    assert.match(name, /^\d{4}_[a-z0-9_]+\.sql$/);
    assert.equal(Number(len), 64);
  });
  const second = h.runAlertd(['migrate', '--config', cfg]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /"applied":0/);
  // the schema really exists
  assert.equal(h.psql(db, "SELECT count(*) FROM pg_class WHERE relname IN ('events','alerts','push_outbox','audit_log','devices')"), '5');
});

test('concurrent migrators serialise on the advisory lock', async () => {
  const db = h.createDatabase('mig');
  const cfg = cfgFor(db);
  const runs = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise((resolve) => {
          const p = spawn(h.BIN, ['migrate', '--config', cfg]);
          let err = '';
          p.stderr.on('data', (d) => {
            err += d;
          });
          p.on('exit', (code) => resolve({ code, err }));
        }),
    ),
  );
  for (const r of runs) assert.equal(r.code, 0, r.err);
  const applied = runs.map((r) => Number((r.err.match(/"applied":(\d+)/) || [])[1]));
  const total = Number(h.psql(db, 'SELECT count(*) FROM schema_migrations'));
  assert.equal(applied.reduce((a, b) => a + b, 0), total, 'each migration applied exactly once in all');
  assert.equal(h.psql(db, 'SELECT count(DISTINCT version) FROM schema_migrations'), String(total));
});

test('serve refuses to start on a schema that is behind', () => {
  const db = h.createDatabase('mig');
  const r = h.runAlertd(['serve', '--config', cfgFor(db)]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /refusing to start/);
  assert.match(r.stderr, /never been migrated/);
  h.migrate(db);
  h.psql(db, 'DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)');
  const r2 = h.runAlertd(['serve', '--config', cfgFor(db)]);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /"schema":"behind"/);
});

test('an applied migration that was edited makes migrate and serve refuse, and /readyz report 503', async () => {
  const db = h.createDatabase('mig');
  const srv = await h.startServer({ db });
  // simulate an edited file: the recorded checksum no longer matches the embedded text
  h.psql(db, "UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1");
  const ready = await h.request(srv.url, 'GET', '/readyz');
  h.assertProblem(assert, ready, 503, 'not_ready');
  assert.equal(ready.json.schema, 'edited');
  assert.match(ready.json.detail, /0001_.*edited/);
  await srv.stop();
  const m = h.runAlertd(['migrate', '--config', cfgFor(db)]);
  assert.notEqual(m.code, 0);
  assert.match(m.stderr, /migration 0001_\w+\.sql was edited after it was applied/);
  const s = h.runAlertd(['serve', '--config', cfgFor(db)]);
  assert.notEqual(s.code, 0);
  assert.match(s.stderr, /"schema":"edited"/);
});

test('migrate against an unreachable database fails cleanly', () => {
  const cfg = h.writeConfig({ database: { url: `"host=${h.TMP}/nowhere dbname=x"`, connect_timeout_seconds: 1 } });
  const r = h.runAlertd(['migrate', '--config', cfg]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot connect/);
});
