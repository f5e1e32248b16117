'use strict';
// failover.test.js - the failover drill of docs/operations.md §9: a primary
// and a streaming standby (pg_basebackup -R) on loopback TCP ports with
// synchronous replication, alertd with a multi-host database.url
// (target_session_attrs=read-write) and the push mock, ingest under load,
// kill -9 of the primary's postmaster, promotion of the standby, and then:
// alertd carries on without a restart, every event answered 2xx is on the
// promoted server, every alert of those events is delivered at the mock.
// Prints the outage clients saw (503s with Retry-After, first/last, span)
// and any other non-2xx answer.
//
// The clusters are this test's own (not the shared one of tests/run.sh),
// made by pgnode.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const TMP = process.env.ALERTD_TEST_TMP || fs.mkdtempSync('/tmp/alertd-failover-');
const PRIMARY = path.join(TMP, 'primary');
const STANDBY = path.join(TMP, 'standby');
// the harness's psql/migrate helpers talk to the primary's socket directory
process.env.ALERTD_TEST_PGDIR = PRIMARY;
const h = require('../integration/harness');

const pg = require('./pgnode');
const { pgAs, pgStart, postmasterPid, childPids } = pg;

function psqlAt(dir, db, sql) {
  return pg.psqlAt(dir, dir === PRIMARY ? p1 : p2, db, sql);
}

let p1, p2, db, kek, mock, srv, secret;
const orphans = []; // the killed primary's backends: ended by pid at the end

test.before(async () => {
  p1 = await h.freePort();
  p2 = await h.freePort();
  // the harness's psql and `alertd migrate` reach the primary's socket with this port
  process.env.PGPORT = String(p1);
  pg.initdb(PRIMARY, p1, `
wal_level = replica
max_wal_senders = 5
synchronous_standby_names = 'FIRST 1 (standby1)'
synchronous_commit = on
`);
  pg.prepareDir(STANDBY);
  pgStart(PRIMARY);
  pgAs('pg_basebackup', ['-h', '127.0.0.1', '-p', String(p1), '-U', 'alertd', '-D', `${STANDBY}/data`, '-R', '-X', 'stream', '-c', 'fast']);
  fs.appendFileSync(`${STANDBY}/data/postgresql.auto.conf`, `
port = ${p2}
unix_socket_directories = '${STANDBY}/run'
primary_conninfo = 'host=127.0.0.1 port=${p1} user=alertd application_name=standby1'
`);
  pgStart(STANDBY);
  await h.eventually(() => psqlAt(PRIMARY, 'postgres',
    "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby1' AND sync_state = 'sync'") === '1', 30000, 200);

  db = h.createDatabase('failover');
  kek = h.createKek();
  h.migrate(db);
  secret = h.seedOnePhone(db, kek, 'fcm-failover-1');
  mock = await h.startMock();
  const url = `host=127.0.0.1,127.0.0.1 port=${p1},${p2} dbname=${db} user=alertd target_session_attrs=read-write`;
  srv = await h.startServer({
    db,
    migrateFirst: false,
    config: {
      ...h.ingestConfig(db, kek, mock.config({ poll_interval_ms: 200, lease_seconds: 10 })),
      database: { url: `"${url}"`, pool_size: 4, connect_timeout_seconds: 2 },
    },
  });
});

test.after(async () => {
  if (srv) await srv.stop().catch(() => {});
  if (mock) await mock.stop();
  for (const pid of orphans) {
    try { process.kill(pid, 'SIGKILL'); } catch (_) { /* already gone */ }
  }
  for (const dir of [STANDBY, PRIMARY]) pg.pgStop(dir, 'immediate');
});

test('kill -9 of the primary under ingest load: alertd moves to the promoted standby, nothing acknowledged is lost, every alert is delivered', async () => {
  const answers = []; // { id, status, t, retryAfter }
  let running = true;
  const t0 = Date.now();
  async function worker() {
    while (running) {
      const ev = h.balanceEvent();
      let r;
      try {
        r = await h.postSigned(srv, 'tabmis', secret, ev);
      } catch (e) {
        answers.push({ id: ev.id, status: `error ${e.code || e.message}`, t: Date.now() });
        await h.sleep(100);
        continue;
      }
      answers.push({ id: ev.id, status: r.status, t: Date.now(), retryAfter: r.headers['retry-after'], code: r.json && r.json.code });
      if (r.status === 503) await h.sleep(Math.min(1000, 1000 * Number(r.headers['retry-after'] || 1)) / 4);
    }
  }
  const workers = Array.from({ length: 8 }, worker);
  await h.eventually(() => answers.filter((a) => a.status === 202).length >= 200, 60000, 50);

  const pm = postmasterPid(PRIMARY);
  orphans.push(...childPids(pm));
  const tKill = Date.now();
  process.kill(pm, 'SIGKILL');
  await h.sleep(1000); // the operator's reaction time, kept short
  pgAs('pg_ctl', ['-D', `${STANDBY}/data`, '-w', '-t', '60', 'promote']);
  // The runbook's second step (docs/operations.md §9): the standby's
  // postgresql.conf is pg_basebackup's copy of the primary's, so the promoted
  // server too waits for a synchronous standby `standby1` - which no longer
  // exists - and every COMMIT would hang (IPC/SyncRep) until one is attached.
  // With no second standby the operator runs asynchronously until a new one
  // is built; with `ANY 1 (s1, s2)` and two standbys this step is not needed.
  psqlAt(STANDBY, 'postgres', "ALTER SYSTEM SET synchronous_standby_names = ''");
  psqlAt(STANDBY, 'postgres', 'SELECT pg_reload_conf()');
  const tPromote = Date.now();
  // carry on until alertd has answered 2xx a good while after the promotion
  const statuses = () => JSON.stringify(answers.reduce((m, a) => { m[a.status] = (m[a.status] || 0) + 1; return m; }, {}));
  console.log(`killed primary ${pm}, promoted after ${tPromote - tKill} ms; answers so far ${statuses()}`);
  try {
    await h.eventually(() => answers.filter((a) => a.status === 202 && a.t > tPromote + 3000).length >= 100, 60000, 50);
  } catch (e) {
    running = false;
    // a request stuck in alertd must not hang the check: give the workers 10 s
    await Promise.race([Promise.all(workers), h.sleep(10000)]);
    throw new Error(`alertd did not carry on after the promotion: answers ${statuses()}\n${srv.logs().slice(-3000)}`);
  }
  running = false;
  await Promise.all(workers);

  const acked = answers.filter((a) => a.status >= 200 && a.status < 300);
  const u503 = answers.filter((a) => a.status === 503);
  const other = answers.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 503);
  const first503 = u503.length ? Math.min(...u503.map((a) => a.t)) : null;
  const last503 = u503.length ? Math.max(...u503.map((a) => a.t)) : null;
  const firstOkAfter = Math.min(...acked.filter((a) => first503 !== null && a.t > first503).map((a) => a.t));

  // every acknowledged event is on the promoted server
  const ids = acked.map((a) => `'${a.id}'`).join(',');
  const stored = Number(psqlAt(STANDBY, db, `SELECT count(*) FROM events WHERE external_id IN (${ids})`));
  // every alert of those events delivered: outbox rows sent, and seen by the mock
  await h.eventually(() => psqlAt(STANDBY, db, `SELECT count(*) FROM push_outbox o JOIN alerts a ON a.id = o.alert_id
    JOIN events e ON e.id = a.event_id WHERE e.external_id IN (${ids}) AND o.state <> 'sent'`) === '0', 60000, 250);
  const alertIds = psqlAt(STANDBY, db, `SELECT a.id FROM alerts a JOIN events e ON e.id = a.event_id WHERE e.external_id IN (${ids})`)
    .split('\n').filter(Boolean);
  const reqs = await mock.requests('fcm');
  const delivered = new Set(reqs.filter((r) => r.status === 200 && r.body && r.body.message).map((r) => String(r.body.message.data.alert_id)));
  const missing = alertIds.filter((a) => !delivered.has(a));

  const summary = {
    answers: answers.length,
    acked: acked.length,
    stored_on_promoted: stored,
    alerts: alertIds.length,
    delivered_at_mock: alertIds.length - missing.length,
    status_503: u503.length,
    status_503_with_retry_after: u503.filter((a) => /^[1-9][0-9]*$/.test(String(a.retryAfter))).length,
    first_503_ms_after_kill: first503 === null ? null : first503 - tKill,
    last_503_ms_after_kill: last503 === null ? null : last503 - tKill,
    outage_503_span_ms: first503 === null ? 0 : last503 - first503,
    first_2xx_ms_after_first_503: first503 === null ? null : firstOkAfter - first503,
    first_2xx_ms_after_promote: Math.min(...acked.filter((a) => a.t > tPromote).map((a) => a.t)) - tPromote,
    promote_ms_after_kill: tPromote - tKill,
    other_answers: other.reduce((m, a) => { m[a.status] = (m[a.status] || 0) + 1; return m; }, {}),
    load_seconds: (Date.now() - t0) / 1000,
  };
  console.log(`failover drill: ${JSON.stringify(summary)}`);

  assert.equal(srv.proc.exitCode, null, 'alertd kept running (no restart)');
  assert.equal(stored, acked.length, 'every 2xx event is on the promoted server');
  assert.deepEqual(missing, [], 'every alert of an acknowledged event reached the push mock');
  assert.ok(alertIds.length >= acked.length, 'one alert per event at least');
  assert.equal(summary.status_503_with_retry_after, u503.length, 'every 503 carries Retry-After');
  assert.ok(u503.every((a) => a.code === 'database_unavailable'), 'every 503 is database_unavailable');
  assert.deepEqual(other, [], 'no answer other than 2xx and 503');
});

// A COMMIT whose wait for the synchronous standby is cancelled (here by
// pg_cancel_backend; in production by statement_timeout) is answered
// "COMMIT" with only a WARNING: committed locally, perhaps not replicated.
// alertd must not acknowledge such an event with a 2xx (a failover could
// lose it): 503 with Retry-After, and the client's retry is stored once.
test('a commit whose wait for the synchronous standby is cancelled is not acknowledged', async () => {
  // runs after the drill: the promoted server is the primary now
  psqlAt(STANDBY, 'postgres', "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (absent_standby)'");
  psqlAt(STANDBY, 'postgres', 'SELECT pg_reload_conf()');
  const ev = h.balanceEvent();
  try {
    const pending = h.postSigned(srv, 'tabmis', secret, ev);
    let cancelled = '';
    await h.eventually(() => {
      cancelled = psqlAt(STANDBY, 'postgres', `SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
        WHERE datname = '${db}' AND wait_event = 'SyncRep'`);
      return cancelled !== '0';
    }, 20000, 100);
    const r = await pending;
    console.log(`cancelled synchronous-replication wait: answered ${r.status}, Retry-After ${r.headers['retry-after']}`);
    assert.equal(r.status, 503, 'not acknowledged');
    assert.match(String(r.headers['retry-after']), /^[1-9][0-9]*$/);
    assert.match(srv.logs(), /COMMIT answered with a warning/);
  } finally {
    psqlAt(STANDBY, 'postgres', "ALTER SYSTEM SET synchronous_standby_names = ''");
    psqlAt(STANDBY, 'postgres', 'SELECT pg_reload_conf()');
  }
  // the client retries the same event: acknowledged now, stored once
  const again = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.ok(again.status >= 200 && again.status < 300, `retry answered ${again.status}`);
  assert.equal(psqlAt(STANDBY, db, `SELECT count(*) FROM events WHERE external_id = '${ev.id}'`), '1');
  // under the sanitizer build (ALERTD_BIN=build/sanitize/alertd) its reports go to the same log
  assert.doesNotMatch(srv.logs(), /AddressSanitizer|runtime error:/);
});
