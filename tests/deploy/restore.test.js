'use strict';
// restore.test.js - the restore drill of docs/operations.md §10: a primary
// that archives its WAL (archive_command), a base backup with pg_basebackup
// checked by pg_verifybackup, then events acknowledged after the backup, an
// operator's mistake (TRUNCATE events CASCADE) and events after it, the loss
// of the primary, and a point-in-time restore to just before the mistake on
// a new server (restore_command, recovery_target_time). Checks on the
// restored server: every event acknowledged before the target is there with
// its alerts, nothing after the target is, the mistake is undone; alertd
// starts on it with the same KEK file, the ledger's replay of the lost window
// is stored once (what was kept is answered "duplicate"), and the replayed
// events' alerts reach the push mock. Prints the backup's size and time, the
// WAL archived and the restore's time.
//
// The servers are this test's own (pgnode.js), not the shared cluster of
// tests/run.sh.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const TMP = process.env.ALERTD_TEST_TMP || fs.mkdtempSync('/tmp/alertd-restore-');
const PRIMARY = path.join(TMP, 'primary');
const RESTORED = path.join(TMP, 'restored');
const ARCHIVE = path.join(TMP, 'wal-archive');
const BASE = path.join(TMP, 'base');
// the harness's psql/migrate helpers talk to the primary's socket directory
process.env.ALERTD_TEST_PGDIR = PRIMARY;
const h = require('../integration/harness');
const pg = require('./pgnode');

let p1, p2, db, kek, mock, srv, secret;

// Run a command as the cluster's OS user (cp and touch into its directories).
function asPostgres(cmd, args) {
  const [c, a] = pg.ROOT_USER ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Ingest `n` events, four at a time; returns the events answered 202.
async function ingest(n) {
  const acked = [];
  const events = Array.from({ length: n }, () => h.balanceEvent());
  for (let i = 0; i < events.length; i += 4) {
    const rs = await Promise.all(events.slice(i, i + 4).map((ev) => h.postSigned(srv, 'tabmis', secret, ev)));
    rs.forEach((r, j) => {
      assert.equal(r.status, 202, `ingest answered ${r.status}: ${r.body}`);
      acked.push(events[i + j]);
    });
  }
  return acked;
}

// alertd with the push mock against the server on `port` (loopback TCP).
function startAlertd(port) {
  return h.startServer({
    db,
    migrateFirst: false,
    config: {
      ...h.ingestConfig(db, kek, mock.config({ poll_interval_ms: 200 })),
      database: { url: `"host=127.0.0.1 port=${port} dbname=${db} user=alertd"`, pool_size: 4, connect_timeout_seconds: 2 },
    },
  });
}

const idList = (evs) => evs.map((e) => `'${e.id}'`).join(',');

function unsent(dir, port, evs) {
  return pg.psqlAt(dir, port, db, `SELECT count(*) FROM push_outbox o JOIN alerts a ON a.id = o.alert_id
    JOIN events e ON e.id = a.event_id WHERE e.external_id IN (${idList(evs)}) AND o.state <> 'sent'`);
}

test.before(async () => {
  p1 = await h.freePort();
  p2 = await h.freePort();
  process.env.PGPORT = String(p1);
  fs.mkdirSync(ARCHIVE, { recursive: true });
  fs.mkdirSync(BASE, { recursive: true });
  if (pg.ROOT_USER) execFileSync('chown', ['postgres:', ARCHIVE, BASE]);
  fs.chmodSync(ARCHIVE, 0o700);
  // `test ! -f` refuses to overwrite a segment already archived, as the
  // PostgreSQL manual's example does; production uses pgBackRest (§10)
  pg.initdb(PRIMARY, p1, `
wal_level = replica
max_wal_senders = 3
archive_mode = on
archive_command = 'test ! -f ${ARCHIVE}/%f && cp %p ${ARCHIVE}/%f'
`);
  pg.pgStart(PRIMARY);
  db = h.createDatabase('restore');
  kek = h.createKek();
  h.migrate(db);
  secret = h.seedOnePhone(db, kek, 'fcm-restore-1');
  mock = await h.startMock();
  srv = await startAlertd(p1);
});

test.after(async () => {
  if (srv) await srv.stop().catch(() => {});
  if (mock) await mock.stop();
  pg.pgStop(RESTORED, 'immediate');
  pg.pgStop(PRIMARY, 'immediate');
});

test('base backup, WAL archive, loss of the primary, point-in-time restore to before a mistake: nothing acknowledged before it is lost', async () => {
  const beforeBackup = await ingest(40);

  // 1. the base backup, while alertd keeps writing, and its check
  const tBackup = Date.now();
  pg.pgAs('pg_basebackup', ['-h', '127.0.0.1', '-p', String(p1), '-U', 'alertd', '-D', `${BASE}/data`, '-X', 'stream', '-c', 'fast']);
  const backupMs = Date.now() - tBackup;
  const verify = pg.pgAs('pg_verifybackup', [`${BASE}/data`]);
  assert.match(verify, /backup successfully verified/);

  // 2. events after the backup, delivered: they live only in the WAL archive
  const afterBackup = await ingest(40);
  await h.eventually(() => unsent(PRIMARY, p1, [...beforeBackup, ...afterBackup]) === '0', 30000, 200);
  await h.sleep(1100);
  const target = pg.psqlAt(PRIMARY, p1, 'postgres', "SELECT to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.US TZH:TZM')");
  await h.sleep(1100);

  // 3. the mistake, and events after it (lost by the restore, replayed by the ledger)
  pg.psqlAt(PRIMARY, p1, db, 'TRUNCATE events CASCADE');
  const afterMistake = await ingest(12);
  assert.equal(pg.psqlAt(PRIMARY, p1, db, 'SELECT count(*) FROM events'), String(afterMistake.length));

  // 4. close the last WAL segment and wait until it is archived, then lose the primary
  const lastWal = pg.psqlAt(PRIMARY, p1, 'postgres', 'SELECT pg_walfile_name(pg_switch_wal())');
  await h.eventually(() => pg.psqlAt(PRIMARY, p1, 'postgres', 'SELECT coalesce(last_archived_wal, \'\') FROM pg_stat_archiver') >= lastWal, 30000, 100);
  const failedArchives = pg.psqlAt(PRIMARY, p1, 'postgres', 'SELECT failed_count FROM pg_stat_archiver');
  await srv.stop();
  srv = null;
  pg.pgStop(PRIMARY, 'immediate');
  const walFiles = fs.readdirSync(ARCHIVE).filter((f) => /^[0-9A-F]{24}$/.test(f));

  // 5. the restore onto a new server: the base backup, the archive, a target time
  const tRestore = Date.now();
  pg.prepareDir(RESTORED);
  asPostgres('cp', ['-a', `${BASE}/data`, `${RESTORED}/data`]);
  fs.appendFileSync(`${RESTORED}/data/postgresql.auto.conf`, `
port = ${p2}
unix_socket_directories = '${RESTORED}/run'
archive_mode = off
restore_command = 'cp ${ARCHIVE}/%f %p'
recovery_target_time = '${target}'
recovery_target_action = 'promote'
`);
  asPostgres('touch', [`${RESTORED}/data/recovery.signal`]);
  pg.pgStart(RESTORED);
  await h.eventually(() => pg.psqlAt(RESTORED, p2, 'postgres', 'SELECT pg_is_in_recovery()') === 'f', 60000, 100);
  const restoreMs = Date.now() - tRestore;
  const log = fs.readFileSync(`${RESTORED}/postgres.log`, 'utf8');
  assert.match(log, /recovery stopping before commit of transaction/, 'recovery stopped at the target');

  // 6. what the restored server holds
  const count = (evs) => Number(pg.psqlAt(RESTORED, p2, db, `SELECT count(*) FROM events WHERE external_id IN (${idList(evs)})`));
  const kept = [...beforeBackup, ...afterBackup];
  assert.equal(count(beforeBackup), beforeBackup.length, 'events acknowledged before the base backup');
  assert.equal(count(afterBackup), afterBackup.length, 'events acknowledged after the base backup (replayed from the WAL archive)');
  assert.equal(count(afterMistake), 0, 'nothing after the target time');
  assert.equal(unsent(RESTORED, p2, kept), '0', 'their alerts are recorded as sent, as they were at the target');
  const alertsKept = Number(pg.psqlAt(RESTORED, p2, db, `SELECT count(*) FROM alerts a JOIN events e ON e.id = a.event_id
    WHERE e.external_id IN (${idList(kept)})`));
  assert.ok(alertsKept >= kept.length, 'one alert per event at least');

  // 7. alertd on the restored server, same KEK file: the ledger replays the window
  const sentBefore = (await mock.requests('fcm')).filter((r) => r.status === 200).length;
  srv = await startAlertd(p2);
  const replay = [...afterBackup.slice(-5), ...afterMistake];
  const answers = [];
  for (const ev of replay) answers.push((await h.postSigned(srv, 'tabmis', secret, ev)).status);
  assert.deepEqual(answers.slice(0, 5), [200, 200, 200, 200, 200], 'what the restore kept is answered duplicate');
  assert.ok(answers.slice(5).every((s) => s === 202), `the lost window is accepted again: ${answers}`);
  assert.equal(count(afterMistake), afterMistake.length);
  assert.equal(pg.psqlAt(RESTORED, p2, db, `SELECT count(*) FROM events WHERE external_id IN (${idList(replay)})`), String(replay.length),
    'each replayed event stored once');
  await h.eventually(() => unsent(RESTORED, p2, afterMistake) === '0', 30000, 200);
  const reqs = (await mock.requests('fcm')).filter((r) => r.status === 200);
  assert.ok(reqs.length - sentBefore >= afterMistake.length, 'the replayed events were pushed');

  console.log(`restore drill: ${JSON.stringify({
    events_before_backup: beforeBackup.length,
    events_after_backup: afterBackup.length,
    events_after_target_lost_then_replayed: afterMistake.length,
    base_backup_ms: backupMs,
    base_backup_bytes: pg.duBytes(`${BASE}/data`),
    wal_segments_archived: walFiles.length,
    archive_failures: Number(failedArchives),
    restore_ms_copy_to_promoted: restoreMs,
    target,
  })}`);
});
