'use strict';
// ingest_outcome.test.js - what a 503 says when the writer's connection is
// lost: before COMMIT was sent nothing was stored; during COMMIT the outcome
// is unknown. Made deterministic with triggers of this test's own on
// event_keys that sleep, either in the insert (before COMMIT) or, deferred,
// in COMMIT itself; the test terminates the sleeping backend.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

const TOKEN = crypto.randomBytes(16).toString('hex');
let db, kek, srv, secret;

// POST body; once the writer's backend is asleep in a statement matching `like`, terminate it.
// Returns the answer, which must be a 503 database_unavailable.
async function postAndLoseConnection(body, like, opts = {}) {
  const pending = h.postSigned(srv, 'tabmis', secret, body, opts);
  await h.eventually(() => h.psql(db, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event = 'PgSleep' AND query LIKE '${like}'`) === 't', 20000, 50);
  const r = await pending;
  h.assertProblem(assert, r, 503, 'database_unavailable');
  assert.ok(Number(r.headers['retry-after']) >= 1);
  return r;
}

async function metric(result) {
  const m = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  const line = m.body.split('\n').find((l) => l.startsWith(`alertd_ingest_events_total{result="${result}"}`));
  return line ? Number(line.split(' ')[1]) : 0;
}

test.before(async () => {
  db = h.createDatabase('outcome');
  kek = h.createKek();
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0001', 'KBNN', 1);
    CREATE FUNCTION test_sleep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.external_id LIKE TG_ARGV[0] THEN PERFORM pg_sleep(30); END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER test_sleep_in_insert AFTER INSERT ON event_keys FOR EACH ROW EXECUTE FUNCTION test_sleep('slow-insert-%');
    CREATE CONSTRAINT TRIGGER test_sleep_in_commit AFTER INSERT ON event_keys DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION test_sleep('slow-commit-%');`);
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  srv = await h.startServer({
    db,
    config: {
      ...h.ingestConfig(db, kek, { ingest: { writers: 1 } }),
      metrics: { token_sha256: crypto.createHash('sha256').update(TOKEN).digest('hex') },
    },
  });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('connection lost before COMMIT was sent: 503 "nothing was stored"', async () => {
  const ev = h.balanceEvent({ id: `slow-insert-${crypto.randomBytes(4).toString('hex')}` });
  const r = await postAndLoseConnection(ev, '%alertd_ingest_batch%');
  assert.equal(r.json.detail, 'nothing was stored; retry later');
  assert.equal(h.psql(db, `SELECT count(*) FROM event_keys WHERE external_id = '${ev.id}'`), '0');
});

test('connection lost while COMMIT was in flight: 503 "the outcome is unknown"; the retry with the same id settles it', async () => {
  const before = await metric('unknown');
  const ev = h.balanceEvent({ id: `slow-commit-${crypto.randomBytes(4).toString('hex')}` });
  const r = await postAndLoseConnection(ev, 'COMMIT');
  assert.equal(r.json.detail, 'the outcome is unknown; retry with the same id');
  assert.equal(await metric('unknown'), before + 1);
  // a batch whose COMMIT is lost says the same, for its ids
  const batch = [h.balanceEvent({ id: `slow-commit-${crypto.randomBytes(4).toString('hex')}` }), h.balanceEvent()];
  const rb = await postAndLoseConnection({ events: batch }, 'COMMIT', { batch: true });
  assert.equal(rb.json.detail, 'the outcome is unknown; retry with the same ids');
  // here the backend died before the commit record, so the retry stores the event now
  h.psql(db, 'DROP TRIGGER test_sleep_in_commit ON event_keys');
  const again = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(again.status, 202, again.body);
  const batchAgain = await h.postSigned(srv, 'tabmis', secret, { events: batch }, { batch: true });
  assert.deepEqual(batchAgain.json.results.map((x) => x.status), ['accepted', 'accepted']);
});
