'use strict';
// push_scale.test.js - the live dispatcher (push.provider = live) against the
// FCM/APNs mock at scale: two instances on one database deliver 10,000
// outbox rows with no duplicate and none missing at the mock; an instance
// killed with SIGKILL in the middle of its work loses nothing, and only the
// rows answered to it in its last recording interval reach the mock twice.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

const METRICS_TOKEN = crypto.randomBytes(16).toString('hex');
const METRICS = { token_sha256: crypto.createHash('sha256').update(METRICS_TOKEN).digest('hex') };

let mock;

test.before(async () => {
  mock = await h.startMock();
});

test.after(async () => {
  if (mock) await mock.stop();
});

// A fresh database with one office, one unit and `users` users, each with an
// Android (FCM) and an iOS (APNs) device (device ids alternate between them).
function rosterDb(prefix, users) {
  const db = h.createDatabase(prefix);
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name)
      SELECT 'scale.u' || g, '1000001', 'Người dùng ' || g FROM generate_series(1, ${users}) g;
    INSERT INTO devices (user_id, platform, push_token)
      SELECT u.id, p::device_platform, CASE p WHEN 'android' THEN 'fcm-scale_' || u.id || ':' || substr(md5(u.id::text), 1, 16)
                                       ELSE encode(sha256(('apns-scale-' || u.id)::bytea), 'hex') END
      FROM users u, unnest(ARRAY['android', 'ios']) p ORDER BY u.id, p;`);
  return db;
}

// perUser alerts for every user, one outbox row per (alert, active device),
// then wake the dispatchers. byDevice: outbox ids run device by device, so a
// batch holds several rows of one device (sent in several rounds); otherwise
// they run alert by alert and a batch holds distinct devices.
function makeOutbox(db, perUser, { byDevice = false } = {}) {
  h.psql(db, `WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
      SELECT u.id, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', 'TK …2345: +' || g || ' VND'
      FROM users u, generate_series(1, ${perUser}) g ORDER BY g, u.id RETURNING id, user_id)
    INSERT INTO push_outbox (alert_id, device_id, provider)
    SELECT a.id, d.id, CASE d.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END
    FROM a JOIN devices d ON d.user_id = a.user_id AND d.state = 'active'
    ORDER BY ${byDevice ? 'd.id, a.id' : 'a.id, d.id'};
    NOTIFY alertd_outbox;`);
}

// Every outbox row as "alert_id token".
function expectedPairs(db, where = 'true') {
  const text = h.psql(db, `SELECT o.alert_id || ' ' || d.push_token FROM push_outbox o JOIN devices d ON d.id = o.device_id WHERE ${where}`);
  return text ? text.split('\n') : [];
}

// What the mock received: per "alert_id token", the number of 200 answers;
// plus counts of every status (null: reset or connection closed).
async function mockPairs() {
  const ok = new Map();
  const copies = new Map(); // key -> [{connection, time}] of its 200 answers, in arrival order
  const statuses = {};
  for (const api of ['fcm', 'apns']) {
    for (const r of await mock.requests(api)) {
      statuses[`${api}:${r.status}`] = (statuses[`${api}:${r.status}`] || 0) + 1;
      if (r.status !== 200) continue;
      const token = api === 'fcm' ? r.body.message.token : r.path.slice('/3/device/'.length);
      const alert = api === 'fcm' ? r.body.message.data.alert_id : r.body.alert_id;
      const key = `${alert} ${token}`;
      ok.set(key, (ok.get(key) || 0) + 1);
      if (!copies.has(key)) copies.set(key, []);
      copies.get(key).push({ connection: r.connection, time: Date.parse(r.time) });
    }
  }
  return { ok, copies, statuses };
}

// Split repeated pairs into those explained by the mock ending the connection
// the earlier copy was on, and real duplicates. nghttp2's reset-rate limit
// ends a connection after about 1,100 of this libcurl's requests, answers
// unsent (tests/mock/README.md), and at-least-once sends them again: a copy is
// explained when its connection carried at least RESET_LIMIT requests and took
// none after the next copy arrived, so it had ended by then.
const RESET_LIMIT = 1000;
async function splitRepeats(ok, copies) {
  const perConnection = new Map(); // connection -> { n, last }
  for (const r of [...await mock.requests('fcm'), ...await mock.requests('apns')]) {
    const c = perConnection.get(r.connection) || { n: 0, last: 0 };
    c.n++;
    c.last = Math.max(c.last, Date.parse(r.time));
    perConnection.set(r.connection, c);
  }
  const explained = [];
  const unexplained = [];
  for (const [k, n] of ok) {
    if (n < 2) continue;
    const c = copies.get(k);
    const ended = c.every((x, i) => {
      if (i === c.length - 1) return true;
      const conn = perConnection.get(x.connection);
      return x.connection !== c[i + 1].connection && conn.n >= RESET_LIMIT && conn.last <= c[i + 1].time;
    });
    (ended ? explained : unexplained).push([k, n]);
  }
  const ends = [...perConnection.values()].filter((c) => c.n >= RESET_LIMIT).length;
  return { explained, unexplained, busyConnections: ends };
}

// Rows this instance recorded as sent, from its /metrics.
async function sentByInstance(srv) {
  const r = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(r.status, 200, r.body);
  let n = 0;
  for (const m of r.body.matchAll(/^alertd_push_total\{provider="(?:fcm|apns)",result="sent",reason="ok"\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}

function pendingCount(db) {
  return Number(h.psql(db, "SELECT count(*) FROM push_outbox WHERE state = 'pending'"));
}

async function resetMock() {
  await mock.control('POST', '/reset');
  await mock.control('POST', '/config', { apns_token_update_limit: false });
}

test('two instances on one database deliver 10,000 alerts with no duplicate at the mock and none missing', async (t) => {
  await resetMock();
  const db = rosterDb('pushscale', 1000); // 2,000 devices
  const config = { ...mock.config({ workers: 2, batch_size: 200, poll_interval_ms: 200, request_timeout_seconds: 15 }), metrics: METRICS };
  const a = await h.startServer({ db, config });
  const b = await h.startServer({ db, config, migrateFirst: false });
  let sentA, sentB, ms;
  try {
    const t0 = Date.now();
    makeOutbox(db, 5); // 5,000 alerts x 2 devices = 10,000 rows, half fcm, half apns
    await h.eventually(() => pendingCount(db) === 0, 60000, 100);
    ms = Date.now() - t0;
    sentA = await sentByInstance(a);
    sentB = await sentByInstance(b);
  } finally {
    try {
      await a.stop();
    } finally {
      await b.stop();
    }
  }

  assert.equal(h.psql(db, 'SELECT count(*) FROM push_outbox'), '10000');
  assert.equal(h.psql(db, "SELECT string_agg(provider || ':' || n, ',' ORDER BY provider) FROM (SELECT provider, count(*) n FROM push_outbox GROUP BY 1) x"),
    'apns:5000,fcm:5000');
  assert.equal(h.psql(db, `SELECT count(*) FROM push_outbox WHERE state = 'sent' AND sent_at IS NOT NULL
    AND provider_message_id IS NOT NULL AND provider_message_id <> '' AND last_error IS NULL`), '10000',
    h.psql(db, 'SELECT state, left(last_error, 120), count(*) FROM push_outbox GROUP BY 1, 2'));
  assert.equal(h.psql(db, 'SELECT count(*) FROM push_outbox WHERE leased_by IS NOT NULL OR leased_until IS NOT NULL'), '0', 'a row stayed leased');
  assert.equal(h.psql(db, "SELECT count(*) FROM push_outbox WHERE state = 'sent' AND attempts <> 1"), '0', 'a row was claimed more than once');
  assert.equal(h.psql(db, "SELECT count(*) FROM push_outbox WHERE provider = 'apns' AND provider_message_id !~ '^[0-9a-fA-F-]{36}$'"), '0',
    'an APNs row without its apns-id');
  assert.equal(h.psql(db, "SELECT count(*) FROM push_outbox WHERE provider = 'fcm' AND provider_message_id NOT LIKE 'projects/%/messages/%'"), '0',
    'an FCM row without its message name');
  assert.equal(h.psql(db, 'SELECT count(DISTINCT provider_message_id) FROM push_outbox'), '10000', 'two rows share a message id');
  assert.equal(h.psql(db, "SELECT string_agg(s || ':' || n, ',') FROM (SELECT alertd_delivery_state(id, delivery_state) AS s, count(*) n FROM alerts GROUP BY 1) x"), 'sent:5000');

  const expected = expectedPairs(db);
  assert.equal(new Set(expected).size, 10000);
  const { ok, copies, statuses } = await mockPairs();
  const { explained, unexplained: dup, busyConnections } = await splitRepeats(ok, copies);
  const missing = expected.filter((k) => !ok.has(k));
  const expectedSet = new Set(expected);
  const unknown = [...ok.keys()].filter((k) => !expectedSet.has(k));
  assert.equal(dup.length, 0, `delivered more than once: ${dup.slice(0, 5).map(([k, n]) => `${k} x${n}`).join(', ')}`);
  t.diagnostic(`${explained.length} pairs sent again because the mock ended their connection (${busyConnections} connections carried ${RESET_LIMIT}+ requests)`);
  assert.equal(missing.length, 0, `never delivered: ${missing.slice(0, 5).join(', ')}`);
  assert.equal(unknown.length, 0, `delivered but not in the outbox: ${unknown.slice(0, 5).join(', ')}`);
  assert.equal(ok.size, 10000);

  // each instance counts the rows it sent; together exactly the outbox
  assert.ok(sentA > 0 && sentB > 0, `both instances took part (a ${sentA}, b ${sentB})`);
  assert.equal(sentA + sentB, 10000);
  t.diagnostic(`10,000 rows dispatched in ${ms} ms (instance a ${sentA}, b ${sentB}); mock statuses ${JSON.stringify(statuses)}`);
});

test('kill -9 of an instance mid-dispatch loses nothing', async (t) => {
  await resetMock();
  const db = rosterDb('pushkill', 200); // 400 devices
  // 3 alerts per user -> 1,200 rows, three per device in a row: a batch of 30
  // is 10 devices x 3 rows, sent in 3 rounds of 10 requests.
  const WORKERS = 2;
  const BATCH = 30;
  const RECORD_MS = 100;
  const push = { workers: WORKERS, batch_size: BATCH, max_in_flight: BATCH, record_interval_ms: RECORD_MS, lease_seconds: 5, poll_interval_ms: 100, request_timeout_seconds: 5 };
  // every FCM and APNs request is answered after 1 s, so a batch takes 3 s or more
  await mock.control('POST', '/faults', [
    { api: 'fcm', response: 'slow', delay_ms: 1000 },
    { api: 'apns', response: 'slow', delay_ms: 1000 },
  ]);
  makeOutbox(db, 3, { byDevice: true });
  const total = 1200;
  assert.equal(pendingCount(db), total);

  const a = await h.startServer({ db, config: mock.config(push) });
  let inFlight, b, killedAt;
  try {
    // about the first round of A's batches has been answered: later rounds are in flight
    await h.eventually(async () => (await mock.requests()).filter((r) => (r.api === 'fcm' || r.api === 'apns') && r.status === 200).length >= 10,
      15000, 50);
    await h.sleep(300);
    killedAt = Date.now();
    a.proc.kill('SIGKILL');
    const exit = await a.exited;
    assert.equal(exit.signal, 'SIGKILL');
    // rows A claimed and never recorded: still leased by it until another instance takes them
    inFlight = expectedPairs(db, `o.state = 'pending' AND o.leased_by LIKE '%:${a.proc.pid}/%'`);
    const recordedByA = Number(h.psql(db, "SELECT count(*) FROM push_outbox WHERE state <> 'pending'"));
    assert.ok(inFlight.length > 0, 'A was not in the middle of a batch');
    // what A held (max_in_flight per worker) and the answers it had not recorded yet
    assert.ok(inFlight.length <= 2 * BATCH * WORKERS, `${inFlight.length} rows leased by A`);
    t.diagnostic(`A killed with ${inFlight.length} rows in flight, ${recordedByA} recorded`);

    await mock.control('DELETE', '/faults');
    const t0 = Date.now();
    b = await h.startServer({ db, config: mock.config({ ...push, poll_interval_ms: 200 }), migrateFirst: false });
    // B sends everything else at once, and A's rows once their 5 s lease has run out
    await h.eventually(() => pendingCount(db) === 0, 30000, 100);
    t.diagnostic(`B finished in ${Date.now() - t0} ms`);
  } finally {
    if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    if (b) await b.stop();
  }

  assert.equal(h.psql(db, `SELECT count(*) FROM push_outbox WHERE state = 'sent' AND sent_at IS NOT NULL AND provider_message_id IS NOT NULL`),
    String(total), h.psql(db, 'SELECT state, left(last_error, 120), count(*) FROM push_outbox GROUP BY 1, 2'));
  assert.equal(h.psql(db, 'SELECT count(*) FROM push_outbox WHERE leased_by IS NOT NULL OR leased_until IS NOT NULL'), '0', 'a row stayed leased');
  assert.equal(h.psql(db, "SELECT count(*) FROM alerts WHERE alertd_delivery_state(id, delivery_state) <> 'sent'"), '0');
  // A's rows were claimed twice (A, then B), every other row once
  const inFlightSet = new Set(inFlight);
  const twice = expectedPairs(db, 'o.attempts = 2');
  assert.deepEqual(twice.filter((k) => !inFlightSet.has(k)), [], 'a row A did not hold was claimed twice');
  assert.equal(h.psql(db, 'SELECT count(*) FROM push_outbox WHERE attempts NOT IN (1, 2)'), '0');

  const expected = expectedPairs(db);
  const { ok, statuses } = await mockPairs();
  const missing = expected.filter((k) => !ok.has(k));
  assert.equal(missing.length, 0, `never delivered: ${missing.slice(0, 5).join(', ')}`);
  assert.equal(ok.size, total, 'the mock got pairs that are not in the outbox');
  // 1,200 rows over A's and B's connections stay under the mock's reset limit: every repeat counts
  const dup = [...ok].filter(([, n]) => n > 1);
  assert.ok(dup.every(([k, n]) => n === 2 && inFlightSet.has(k)),
    `duplicates of rows A did not have in flight: ${dup.filter(([k]) => !inFlightSet.has(k)).slice(0, 5).map(([k]) => k).join(', ')}`);
  // Outcomes are recorded within record_interval_ms of the answer, so the only
  // rows sent again are those answered to A just before it died: every request
  // takes 1 s at the mock, so a request that arrived at t was answered at t + 1 s.
  const seen = [...await mock.requests('fcm'), ...await mock.requests('apns')];
  const answeredBeforeKill = (within) => seen.filter((r) => r.status === 200 && Date.parse(r.time) + 1000 <= killedAt && Date.parse(r.time) + 1000 > killedAt - within).length;
  const lastInterval = answeredBeforeKill(RECORD_MS);
  const lastHalfSecond = answeredBeforeKill(500);
  assert.ok(dup.length <= lastHalfSecond,
    `${dup.length} duplicates, more than the ${lastHalfSecond} rows answered to A in the 500 ms before the kill`);
  t.diagnostic(`attempts: ${h.psql(db, "SELECT string_agg(attempts || ':' || n, ' ') FROM (SELECT attempts, count(*) n FROM push_outbox GROUP BY 1 ORDER BY 1) x")}`);
  t.diagnostic(`duplicates per kill: ${dup.length} (all among A's ${inFlight.length} leased rows; ${lastInterval} rows were answered to A in the last ${RECORD_MS} ms before the kill, ${lastHalfSecond} in the last 500 ms); mock statuses ${JSON.stringify(statuses)}`);
});

test('a batch that would outlast its lease releases its unsent rows: each row reaches the phone once, in order', async () => {
  await resetMock();
  // one user with one phone: 25 rows of one device are sent one round each, and every request takes 1 s
  const db = rosterDb('pushlease', 1);
  h.psql(db, "UPDATE devices SET state = 'revoked', state_reason = 'logout' WHERE platform = 'ios'");
  makeOutbox(db, 25);
  await mock.control('POST', '/faults', { api: 'fcm', response: 'slow', delay_ms: 1000 });
  // lease 20 s, timeout 5 s: no round may start after 20 - 2*5 - 5 = 5 s into the batch
  const srv = await h.startServer({ db, config: { ...mock.config({ workers: 1, batch_size: 200, lease_seconds: 20, request_timeout_seconds: 5 }) } });
  try {
    await h.eventually(() => pendingCount(db) === 0, 90000, 200);
  } finally {
    await srv.stop();
  }
  const { ok } = await mockPairs();
  assert.equal(ok.size, 25, 'every row reached the mock');
  assert.deepEqual([...new Set(ok.values())], [1], 'a row was sent twice');
  assert.equal(h.psql(db, "SELECT count(*) FROM push_outbox WHERE provider = 'fcm' AND (state <> 'sent' OR attempts <> 1)"), '0',
    'released rows count no attempt');
  // in outbox order (one worker: across workers the order holds only within a batch)
  const order = (await mock.requests('fcm')).filter((r) => r.status === 200).map((r) => Number(r.body.message.data.alert_id));
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  assert.ok(srv.logLines().some((l) => /released \d+ unsent row/.test(l.msg)), 'the batch was cut at its deadline');
  assert.ok(!srv.logLines().some((l) => /lease had run out/.test(l.msg)));
});
