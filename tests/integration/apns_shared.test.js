'use strict';
// apns_shared.test.js - three alertd instances on one database share one
// APNs provider token (apns_provider_tokens, migration 0027), so the team's
// token is renewed once per period, not once per instance. The push mock
// enforces Apple's rule (a team's token renewed within 20 minutes is
// refused with 429 TooManyProviderTokenUpdates), which per-instance tokens
// break at once. Also: the token is stored only sealed under the KEK; a
// token Apple calls expired is replaced once, for every instance, and the
// refused push is sent again.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const h = require('./harness');

const USERS = 4;
const EVENTS = 24;

const METRICS_TOKEN = crypto.randomBytes(16).toString('hex');
const METRICS = { token_sha256: crypto.createHash('sha256').update(METRICS_TOKEN).digest('hex') };

let mock, db, kek, secret;
const srvs = [];

// One counter of an instance's /metrics, summed over the label sets matching `labels`.
async function metric(srv, name, labels) {
  const r = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(r.status, 200, r.body);
  let n = 0;
  for (const m of r.body.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)$`, 'gm'))) if (labels.every((l) => m[1].includes(l))) n += Number(m[2]);
  return n;
}

test.before(async () => {
  mock = await h.startMock();
  await mock.control('POST', '/reset');
  db = h.createDatabase('apnsshared');
  kek = h.createKek();
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0011', 'KBNN khu vực I', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name)
      SELECT 'apns.u' || g, '1000001', 'Người dùng ' || g FROM generate_series(1, ${USERS}) g;
    INSERT INTO devices (user_id, platform, push_token)
      SELECT id, 'ios', encode(sha256(('apns-shared-' || id)::bytea), 'hex') FROM users;`);
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0011']).secret;
  assert.ok(secret, 'source add');
  const config = { ...h.ingestConfig(db, kek, mock.config({ workers: 2, poll_interval_ms: 200 })), metrics: METRICS };
  srvs.push(await h.startServer({ db, config }));
  srvs.push(await h.startServer({ db, config, migrateFirst: false }));
  srvs.push(await h.startServer({ db, config, migrateFirst: false }));
});

test.after(async () => {
  // a clean exit 0 of every instance (a sanitizer report under make SANITIZE=... makes it non-zero)
  const stopped = await Promise.allSettled(srvs.map((s) => s.stop()));
  if (mock) await mock.stop();
  const failed = stopped.filter((r) => r.status === 'rejected');
  if (failed.length) throw failed[0].reason;
});

const signedLines = () => srvs.map((s) => (s.logs().match(/signed a new APNs provider token[^"]*shared through the database/g) || []).length);
const unsent = () => h.psql(db, "SELECT count(*) FROM push_outbox WHERE state <> 'sent'");

// Ingest EVENTS events round-robin through the instances, all at once, and wait until every push is sent.
async function ingestAndDeliver() {
  const rs = await Promise.all(Array.from({ length: EVENTS }, (_, i) => h.postSigned(srvs[i % srvs.length], 'tabmis', secret, h.balanceEvent())));
  for (const r of rs) assert.equal(r.status, 202, r.body);
  await h.eventually(() => unsent() === '0', 30000, 200);
}

// Hold the token row's lock from another session for `ms`, as an instance renewing would;
// resolves when the holder has committed. Reports how many sessions queued on it.
async function holdRowLock(ms) {
  const { team_id: team, key_id: key } = mock.apns;
  h.psql(db, `INSERT INTO apns_provider_tokens (team_id, key_id) VALUES ('${team}', '${key}') ON CONFLICT DO NOTHING`);
  const holder = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', `${h.PGDIR}/run`, '-U', 'alertd', '-d', db, '-c',
    `BEGIN; SELECT 1 FROM apns_provider_tokens FOR UPDATE; SELECT pg_sleep(${ms / 1000}); COMMIT;`], { stdio: 'ignore' });
  const done = new Promise((resolve) => holder.on('exit', resolve));
  let queued = 0;
  const watch = (async () => {
    for (let i = 0; i < ms / 100; i++) {
      const n = Number(h.psql(db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
        AND wait_event_type = 'Lock' AND query LIKE '%apns_provider_tokens%'`));
      queued = Math.max(queued, n);
      await h.sleep(100);
    }
  })();
  await h.sleep(300); // the holder has the lock before anything needs a token
  return { done: Promise.all([done, watch]).then(([code]) => ({ code, queued })) };
}

test('three instances queued on the token row sign one provider token between them: no TooManyProviderTokenUpdates, stored only sealed', async () => {
  const lock = await holdRowLock(3000);
  await ingestAndDeliver();
  const { code, queued } = await lock.done;
  assert.equal(code, 0, 'the lock holder ran');
  assert.ok(queued >= 2, `instances queued on the row lock: ${queued}`);
  const reqs = await mock.requests('apns');
  const ok = reqs.filter((r) => r.status === 200);
  assert.ok(ok.length >= EVENTS * USERS, `${ok.length} APNs pushes accepted`);
  const sentBy = await Promise.all(srvs.map((s) => metric(s, 'alertd_push_total', ['provider="apns"', 'result="sent"'])));
  const signedBy = await Promise.all(srvs.map((s) => metric(s, 'alertd_push_token_refreshes_total', ['provider="apns"', 'result="ok"'])));
  const iats = new Set(reqs.filter((r) => r.jwt).map((r) => r.jwt.claims.iat));
  const refusals = reqs.filter((r) => r.status !== 200).map((r) => `${r.status} ${JSON.stringify(r.response || r.body)}`);
  console.log(`apns shared token: ${reqs.length} APNs requests, ${ok.length} accepted, distinct iat ${iats.size}, ` +
    `sent per instance ${JSON.stringify(sentBy)}, signed per instance ${JSON.stringify(signedBy)}, refusals ${refusals.length}, ` +
    `sessions queued on the row lock ${queued}`);
  assert.deepEqual(refusals, [], 'Apple (the mock) refused nothing');
  assert.equal(iats.size, 1, 'one token for the team');
  assert.equal(signedLines().reduce((a, b) => a + b, 0), 1, 'one instance signed it (log)');
  assert.equal(signedBy.reduce((a, b) => a + b, 0), 1, 'one instance signed it (alertd_push_token_refreshes_total)');
  // the others sent with the token they read from the database
  assert.ok(sentBy.filter(Boolean).length >= 2, `APNs pushes sent per instance: ${sentBy}`);

  const row = h.psql(db, `SELECT renewals, extract(epoch FROM issued_at)::bigint, length(token_sealed), length(nonce),
    position('\\x65794a'::bytea IN token_sealed) FROM apns_provider_tokens`).split('|');
  assert.equal(row[0], '1', 'renewed once');
  assert.equal(row[1], String([...iats][0]), 'the stored iat is the one Apple saw');
  assert.ok(Number(row[2]) > 100 && row[3] === '24', 'a sealed token and its 24-byte nonce');
  assert.equal(row[4], '0', 'no JWT text ("eyJ") in the stored bytes');
  for (const s of srvs) assert.doesNotMatch(s.logs(), /eyJ[A-Za-z0-9_-]{10,}\./, 'no token in the logs');
});

test('a token Apple calls expired is replaced once and the push sent again', async () => {
  const before = h.psql(db, 'SELECT extract(epoch FROM issued_at)::bigint FROM apns_provider_tokens');
  // the instances that did not see the refusal keep the old token until their refresh: the mock's
  // 20-minute rule would refuse that, so it is off here (Apple's own rule for a refused token is not documented)
  await mock.control('POST', '/config', { apns_token_update_limit: false });
  await mock.control('POST', '/faults', { api: 'apns', response: 'ExpiredProviderToken', times: 1 });
  await ingestAndDeliver();
  const row = h.psql(db, 'SELECT renewals, extract(epoch FROM issued_at)::bigint FROM apns_provider_tokens').split('|');
  assert.equal(row[0], '2', 'renewed once more');
  assert.ok(Number(row[1]) > Number(before), `a new iat (${before} -> ${row[1]})`);
  const reqs = await mock.requests('apns');
  assert.equal(reqs.filter((r) => r.fault === 'ExpiredProviderToken').length, 1);
  const newIat = reqs.filter((r) => r.status === 200 && r.jwt && r.jwt.claims.iat === Number(row[1])).length;
  assert.ok(newIat >= 1, 'the resend went out with the new token');
  assert.equal(signedLines().reduce((a, b) => a + b, 0), 2);
});

test('a stored token sealed under another KEK is not used: logged as an error, replaced, pushes go on', async () => {
  const renewals = Number(h.psql(db, 'SELECT renewals FROM apns_provider_tokens'));
  // fresh by its issued_at, but its bytes do not open under the instances' KEK; dated 2 s ahead
  // (within the skew tolerated) so that it cannot share its second with the token refused in the
  // test before, which would be replaced without being opened
  h.psql(db, `UPDATE apns_provider_tokens SET token_sealed = decode('${crypto.randomBytes(220).toString('hex')}', 'hex'),
    nonce = decode('${crypto.randomBytes(24).toString('hex')}', 'hex'), issued_at = now() + interval '2 seconds'`);
  // a refusal makes the instance that gets it read the row again
  await mock.control('POST', '/faults', { api: 'apns', response: 'ExpiredProviderToken', times: 1 });
  await ingestAndDeliver();
  assert.equal(Number(h.psql(db, 'SELECT renewals FROM apns_provider_tokens')), renewals + 1);
  assert.equal(srvs.filter((s) => /does not open under this instance's secrets\.key_file/.test(s.logs())).length, 1);
  const reqs = await mock.requests('apns');
  const after = reqs.slice(reqs.findIndex((r) => r.fault === 'ExpiredProviderToken') + 1);
  const iat = Number(h.psql(db, 'SELECT extract(epoch FROM issued_at)::bigint FROM apns_provider_tokens'));
  assert.ok(after.some((r) => r.status === 200 && r.jwt.claims.iat === iat), 'the resend went out with the replacement');
});

test('a sealed token put back under a fresher date is not reused: its iat must be the row\'s', async () => {
  const renewals = Number(h.psql(db, 'SELECT renewals FROM apns_provider_tokens'));
  const errorsBefore = srvs.map((s) => (s.logs().match(/is not this row's token/g) || []).length).reduce((a, b) => a + b, 0);
  // the seal still opens, but issued_at no longer matches the token's own iat
  h.psql(db, "UPDATE apns_provider_tokens SET issued_at = issued_at + interval '7 seconds'");
  await mock.control('POST', '/faults', { api: 'apns', response: 'ExpiredProviderToken', times: 1 });
  await ingestAndDeliver();
  assert.equal(Number(h.psql(db, 'SELECT renewals FROM apns_provider_tokens')), renewals + 1, 'a new token was signed');
  const errorsAfter = srvs.map((s) => (s.logs().match(/is not this row's token/g) || []).length).reduce((a, b) => a + b, 0);
  assert.equal(errorsAfter, errorsBefore + 1);
});
