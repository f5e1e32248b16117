'use strict';
// instances.test.js - three alertd instances on one PostgreSQL under a mixed
// load sent through all three (signed ingest, app heartbeats, staff reads):
// every acknowledged event is stored once, every alert reaches the push mock
// once per device (a repeat only for a row the killed instance held), the
// maintenance run and the daily coverage snapshot happen once per period
// (job_runs, coverage_daily), not once per instance; one instance is killed
// with SIGKILL mid-load and the others take over its leased rows once the
// lease has run out.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

const USERS = 5;
const EVENTS = 90;
const LEASE = 5;

let mock;
test.before(async () => {
  mock = await h.startMock();
});
test.after(async () => {
  if (mock) await mock.stop();
});

test('three instances: stored once, delivered once, jobs once per period, a killed instance\'s leases taken over', async (t) => {
  await mock.control('POST', '/reset');
  const db = h.createDatabase('instances');
  const kek = h.createKek();
  h.migrate(db);
  const tokens = Array.from({ length: USERS }, () => `at_${crypto.randomBytes(32).toString('base64url').slice(0, 43)}`);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name)
      SELECT 'inst.u' || g, '1000001', 'Người dùng ' || g FROM generate_series(1, ${USERS}) g;`);
  tokens.forEach((tok, i) => h.psql(db, `INSERT INTO devices (user_id, platform, push_token, access_token_hash, access_token_expires_at)
      SELECT id, 'android', 'fcm-inst_' || id || ':x', sha256('${tok}'::bytea), now() + interval '30 days' FROM users WHERE dvctt_login = 'inst.u${i + 1}'`));
  const secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0011']).secret;
  // every push answered after 400 ms, so the killed instance has rows in flight
  await mock.control('POST', '/faults', { api: 'fcm', response: 'slow', delay_ms: 400 });
  const config = h.ingestConfig(db, kek, {
    ...mock.config({ workers: 1, batch_size: 10, max_in_flight: 10, lease_seconds: LEASE, poll_interval_ms: 200, request_timeout_seconds: 3, record_interval_ms: 100 }),
    coverage: { refresh_seconds: 10 },
    log: { level: 'debug' }, // the maintenance run's line is at debug level when it changes nothing
  });
  const srvs = [await h.startServer({ db, config })];
  srvs.push(await h.startServer({ db, config, migrateFirst: false }));
  srvs.push(await h.startServer({ db, config, migrateFirst: false }));
  const [a, b, c] = srvs;
  const acked = [];
  const status = {};
  const count = (k) => { status[k] = (status[k] || 0) + 1; };
  let killedHeld = [];
  let t0, tDone;
  try {
    const staff = await h.staffReady(a, a.config, 'inst.staff', '0011', 'viewer');
    t0 = Date.now();
    for (let i = 0; i < EVENTS; i++) {
      const alive = i < EVENTS / 3 ? srvs : [a, b];
      const srv = alive[i % alive.length];
      const ev = h.balanceEvent();
      const hb = srvs.filter((s) => alive.includes(s))[(i + 1) % alive.length];
      const [r, beat, read] = await Promise.all([
        h.postSigned(srv, 'tabmis', secret, ev),
        h.request(hb.url, 'PUT', '/v1/app/device', { headers: { authorization: `Bearer ${tokens[i % USERS]}`, 'content-type': 'application/json' }, body: JSON.stringify({ app_version: '1.0.' + i }) }),
        h.staffCall(alive[(i + 2) % alive.length], staff, 'GET', ['/v1/staff/coverage', '/v1/staff/coverage/units', '/v1/staff/me'][i % 3]),
      ]);
      count(`ingest:${r.status}`);
      count(`heartbeat:${beat.status}`);
      count(`staff:${read.status}`);
      if (r.status === 202) acked.push(ev.id);
      if (i === Math.floor(EVENTS / 3)) {
        // c has claimed rows by now (its pushes take 400 ms each): kill it in the middle
        await h.eventually(() => Number(h.psql(db, `SELECT count(*) FROM push_outbox WHERE leased_by LIKE '%:${c.proc.pid}/%'`)) > 0, 15000, 20);
        c.proc.kill('SIGKILL');
        assert.equal((await c.exited).signal, 'SIGKILL');
        killedHeld = h.psql(db, `SELECT id FROM push_outbox WHERE state = 'pending' AND leased_by LIKE '%:${c.proc.pid}/%'`).split('\n').filter(Boolean);
      }
    }
    await mock.control('DELETE', '/faults');
    await h.eventually(() => h.psql(db, "SELECT count(*) FROM push_outbox WHERE state = 'pending'") === '0', 60000, 200);
    tDone = Date.now();
  } finally {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await a.stop();
    await b.stop();
  }
  t.diagnostic(`statuses ${JSON.stringify(status)}; ${acked.length} events acknowledged; all delivered ${tDone - t0} ms after the load began`);
  assert.equal(status['ingest:202'], EVENTS, JSON.stringify(status));
  assert.equal(status['heartbeat:200'], EVENTS, JSON.stringify(status));
  assert.equal(status['staff:200'], EVENTS, JSON.stringify(status));

  // stored once: every acknowledged event is one row
  const ids = acked.map((x) => `'${x}'`).join(',');
  assert.equal(h.psql(db, `SELECT count(*) || '/' || count(DISTINCT external_id) FROM events WHERE external_id IN (${ids})`), `${EVENTS}/${EVENTS}`);
  assert.equal(h.psql(db, 'SELECT count(*) FROM events'), String(EVENTS));
  // one alert per user per event, one outbox row per alert, all sent
  assert.equal(h.psql(db, 'SELECT count(*) FROM alerts'), String(EVENTS * USERS));
  assert.equal(h.psql(db, "SELECT count(*) FROM push_outbox WHERE state = 'sent'"), String(EVENTS * USERS),
    h.psql(db, 'SELECT state, left(last_error, 80), count(*) FROM push_outbox GROUP BY 1, 2'));
  assert.equal(h.psql(db, 'SELECT count(*) FROM push_outbox WHERE leased_by IS NOT NULL'), '0');

  // delivered once at the mock; a repeat only for a row the killed instance held when it died
  const seen = new Map();
  for (const r of await mock.requests('fcm')) {
    if (r.status !== 200) continue;
    const k = `${r.body.message.data.alert_id} ${r.body.message.token}`;
    seen.set(k, (seen.get(k) || 0) + 1);
  }
  const expected = h.psql(db, 'SELECT o.alert_id || \' \' || d.push_token FROM push_outbox o JOIN devices d ON d.id = o.device_id').split('\n');
  const missing = expected.filter((k) => !seen.has(k));
  assert.equal(missing.length, 0, `never delivered: ${missing.slice(0, 5)}`);
  assert.equal(seen.size, expected.length, 'the mock got pairs that are not in the outbox');
  const held = new Set(h.psql(db, `SELECT o.alert_id || ' ' || d.push_token FROM push_outbox o JOIN devices d ON d.id = o.device_id
    WHERE o.id IN (${killedHeld.length ? killedHeld.join(',') : '0'})`).split('\n'));
  const repeats = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(repeats.filter(([k, n]) => n > 2 || !held.has(k)), [], 'sent twice but not held by the killed instance');
  const takenOver = Number(h.psql(db, `SELECT count(*) FROM push_outbox WHERE id IN (${killedHeld.length ? killedHeld.join(',') : '0'}) AND attempts = 2`));
  assert.ok(killedHeld.length > 0 && takenOver === killedHeld.length, `${takenOver} of ${killedHeld.length} held rows taken over`);
  assert.equal(h.psql(db, "SELECT count(*) FROM push_outbox WHERE attempts <> 1 AND id NOT IN (" + (killedHeld.join(',') || '0') + ')'), '0');
  t.diagnostic(`${expected.length} outbox rows; the killed instance held ${killedHeld.length}, taken over after the ${LEASE} s lease; ${repeats.length} reached the mock twice (answered to the killed instance, not recorded)`);

  // jobs once per period: all three started within the maintenance interval (1 h): one run
  assert.equal(h.psql(db, "SELECT runs FROM job_runs WHERE job = 'maintenance'"), '1');
  assert.equal(h.psql(db, "SELECT string_agg(office_code || ':' || n, ',') FROM (SELECT office_code, count(*) n FROM coverage_daily GROUP BY 1) x"), '0011:1');
  const lines = srvs.flatMap((s) => s.logLines().filter((l) => l.msg === 'event partition maintenance'));
  assert.equal(lines.length, 1, `${lines.length} maintenance runs logged by the three instances`);
  t.diagnostic(`maintenance runs ${h.psql(db, "SELECT runs FROM job_runs WHERE job = 'maintenance'")}, coverage_daily rows for today ${h.psql(db, 'SELECT count(*) FROM coverage_daily')}`);
});
