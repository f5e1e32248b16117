'use strict';
// ingest.test.js - ledger event intake through real signed HTTP requests:
// both event types, idempotency, batches, every 4xx class, replay, secret
// rotation and revocation, unrouted events, independent signers.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const h = require('./harness');

const TOKEN = crypto.randomBytes(16).toString('hex');
let db, kek, srv, secret;

test.before(async () => {
  db = h.createDatabase('ingest');
  kek = h.createKek();
  h.migrate(db);
  h.psql(db, "INSERT INTO offices (code, name, level) VALUES ('0001', 'KBNN', 1) ON CONFLICT DO NOTHING"); // the source's scope (migration 0009)
  const add = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']);
  assert.equal(add.code, 0, add.stderr);
  secret = add.secret;
  srv = await h.startServer({
    db,
    config: {
      ...h.ingestConfig(db, kek),
      http: { max_body_bytes: 65536 },
      metrics: { token_sha256: crypto.createHash('sha256').update(TOKEN).digest('hex') },
    },
  });
});
test.after(async () => {
  if (srv) await srv.stop();
});

function storedEvent(id) {
  const row = h.psql(db, `SELECT e.type || '|' || e.unit_code || '|' || (e.routed_at IS NOT NULL) || '|' || e.payload::text
    FROM events e JOIN ingest_sources s ON s.id = e.source_id WHERE s.name = 'tabmis' AND e.external_id = '${id}'`);
  if (!row) return null;
  const [type, unit, routed, ...rest] = row.split('|');
  return { type, unit, routed: routed === 'true', payload: JSON.parse(rest.join('|')) };
}

test('source add prints a whsec_ secret of 32 random bytes, stored only encrypted', () => {
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
  const stored = h.psql(db, "SELECT encode(ciphertext, 'base64') FROM ingest_secrets k JOIN ingest_sources s ON s.id = k.source_id WHERE s.name = 'tabmis'");
  assert.ok(stored.length > 0);
  assert.ok(!stored.includes(secret.slice(6)), 'the secret is stored in the clear');
  const audit = h.psql(db, "SELECT action || ' ' || target FROM audit_log WHERE action = 'source.add'");
  assert.equal(audit, 'source.add tabmis');
  const again = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
});

test('balance.changed: 202 after commit, stored with its payload', async () => {
  const ev = h.balanceEvent();
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 202, r.body);
  assert.deepEqual(r.json, { status: 'accepted', id: ev.id, routed: false });
  const row = storedEvent(ev.id);
  assert.equal(row.type, 'balance.changed');
  assert.equal(row.unit, '1000001');
  assert.deepEqual(row.payload, ev);
});

test('voucher.status_changed: 202 and stored', async () => {
  const ev = h.voucherEvent();
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 202, r.body);
  assert.equal(r.json.status, 'accepted');
  assert.deepEqual(storedEvent(ev.id).payload, ev);
});

test('the same id with the same content is a 200 duplicate that changes nothing; other content is a 409', async () => {
  const ev = h.balanceEvent();
  assert.equal((await h.postSigned(srv, 'tabmis', secret, ev)).status, 202);
  // same content, keys in another order and other whitespace: canonically identical
  const reordered = `{ "data": ${JSON.stringify(ev.data)}, "unit_code": "${ev.unit_code}", "type": "${ev.type}", "occurred_at": "${ev.occurred_at}", "id": "${ev.id}" }`;
  const dup = await h.postSigned(srv, 'tabmis', secret, reordered);
  assert.equal(dup.status, 200, dup.body);
  assert.deepEqual(dup.json, { status: 'duplicate', id: ev.id });
  const conflict = await h.postSigned(srv, 'tabmis', secret, { ...ev, data: { ...ev.data, amount: -1500001 } });
  h.assertProblem(assert, conflict, 409, 'event_id_conflict');
  assert.equal(h.psql(db, `SELECT count(*) FROM events WHERE external_id = '${ev.id}'`), '1');
  assert.equal(storedEvent(ev.id).payload.data.amount, -1500000);
});

test('a batch mixing good, duplicate, invalid, conflicting and repeated items gets one result each', async () => {
  const earlier = h.balanceEvent();
  assert.equal((await h.postSigned(srv, 'tabmis', secret, earlier)).status, 202);
  const good1 = h.balanceEvent();
  const good2 = h.voucherEvent();
  const bad = h.balanceEvent({ unit_code: '12', data: { account: 'x', amount: 1.5, balance_after: '7' } });
  const conflict = { ...earlier, data: { ...earlier.data, amount: 1 } };
  const repeat = h.balanceEvent();
  const events = [good1, earlier, bad, good2, conflict, repeat, repeat, { ...repeat, data: { ...repeat.data, amount: 2 } }];
  const r = await h.postSigned(srv, 'tabmis', secret, { events }, { batch: true });
  assert.equal(r.status, 200, r.body);
  const res = r.json.results;
  assert.equal(res.length, events.length);
  assert.deepEqual(res.map((x) => x.status), ['accepted', 'duplicate', 'rejected', 'accepted', 'rejected', 'accepted', 'duplicate', 'rejected']);
  res.forEach((x, i) => assert.equal(x.index, i));
  assert.equal(res[0].id, good1.id);
  assert.equal(res[2].problem.code, 'validation_failed');
  const fields = res[2].problem.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['events[2].data.amount', 'events[2].data.balance_after', 'events[2].unit_code']);
  assert.equal(res[4].problem.code, 'event_id_conflict');
  assert.equal(res[7].problem.code, 'event_id_conflict');
  for (const ev of [good1, good2, repeat]) assert.ok(storedEvent(ev.id), ev.id);
  assert.equal(storedEvent(bad.id), null);
  assert.equal(storedEvent(repeat.id).payload.data.amount, repeat.data.amount);
});

test('a batch whose envelope is malformed is rejected whole; one with no valid item stores nothing', async () => {
  for (const body of [{ events: [] }, { events: {} }, { event: [h.balanceEvent()] }, [h.balanceEvent()],
    { events: Array.from({ length: 1001 }, () => ({})) }]) {
    const r = await h.postSigned(srv, 'tabmis', secret, body, { batch: true });
    h.assertProblem(assert, r, 422, 'validation_failed');
    assert.ok(r.json.errors.length >= 1);
  }
  const allBad = await h.postSigned(srv, 'tabmis', secret, { events: [{ id: 'x' }, { type: 'nope' }] }, { batch: true });
  h.assertProblem(assert, allBad, 422, 'validation_failed');
  assert.equal(allBad.json.results.length, 2);
  assert.ok(allBad.json.results.every((x) => x.status === 'rejected'));
});

test('schema violations: 422 naming every bad field', async () => {
  const ev = {
    id: 'has space',
    type: 'voucher.status_changed',
    occurred_at: '2026-11-21 10:15',
    unit_code: '123456',
    office_code: 'toolong',
    data: { voucher: { number: '', form: 'C2-02a/NS', kind: 'theft', amount: -5, account: '9523', signatures: [{ role: 'boss' }] }, status: 'rejected', extra: 1 },
  };
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  h.assertProblem(assert, r, 422, 'validation_failed');
  const fields = r.json.errors.map((e) => e.field);
  for (const f of ['id', 'occurred_at', 'unit_code', 'office_code', 'data.voucher.number', 'data.voucher.kind',
    'data.voucher.amount', 'data.voucher.signatures[0].role', 'data.voucher.signatures[0].signer', 'data.reason', 'data.extra']) {
    assert.ok(fields.includes(f), `missing error for ${f}: ${JSON.stringify(r.json.errors)}`);
  }
  for (const e of r.json.errors) assert.equal(typeof e.message, 'string');
  const types = await h.postSigned(srv, 'tabmis', secret, h.balanceEvent({ type: 'balance.exploded' }));
  h.assertProblem(assert, types, 422, 'validation_failed');
  const big = await h.postSigned(srv, 'tabmis', secret, h.balanceEvent({ data: { account: '1', amount: 9000000000000001, balance_after: 0 } }));
  h.assertProblem(assert, big, 422, 'validation_failed');
  assert.equal(big.json.errors[0].field, 'data.amount');
});

test('malformed JSON is 400, a wrong content type 415, GET 405', async () => {
  const bad = await h.postSigned(srv, 'tabmis', secret, '{"id": "x",');
  h.assertProblem(assert, bad, 400, 'malformed_json');
  const dupKeys = await h.postSigned(srv, 'tabmis', secret, '{"id":"a","id":"b"}');
  h.assertProblem(assert, dupKeys, 400, 'malformed_json');
  const ct = await h.postSigned(srv, 'tabmis', secret, JSON.stringify(h.balanceEvent()), { headers: { 'content-type': 'text/plain' } });
  h.assertProblem(assert, ct, 415, 'unsupported_media_type');
  const get = await h.request(srv.url, 'GET', '/v1/ingest/tabmis/events');
  h.assertProblem(assert, get, 405, 'method_not_allowed');
  assert.equal(get.headers.allow, 'POST');
});

test('oversized bodies get 413, declared or chunked, and nothing is stored', async () => {
  const ev = h.balanceEvent({ data: { account: '1', amount: 1, balance_after: 1, description: 'x'.repeat(70000) } });
  const text = JSON.stringify(ev);
  const declared = await h.postSigned(srv, 'tabmis', secret, text, { headers: { 'content-length': String(Buffer.byteLength(text)) } });
  h.assertProblem(assert, declared, 413, 'payload_too_large');
  const chunked = await h.postSigned(srv, 'tabmis', secret, text, { headers: { 'transfer-encoding': 'chunked' } });
  h.assertProblem(assert, chunked, 413, 'payload_too_large');
  assert.equal(storedEvent(ev.id), null);
});

test('missing or bad signatures and unknown sources all get the same 401', async () => {
  const ev = h.balanceEvent();
  const cases = [
    await h.postSigned(srv, 'tabmis', secret, ev, { headers: { 'webhook-signature': null } }),
    await h.postSigned(srv, 'tabmis', secret, ev, { headers: { 'webhook-id': null } }),
    await h.postSigned(srv, 'tabmis', `whsec_${crypto.randomBytes(32).toString('base64')}`, ev),
    await h.postSigned(srv, 'tabmis', secret, ev, { headers: { 'webhook-signature': 'v1,AAAA v2,xyz' } }),
    await h.postSigned(srv, 'nosuchsource', secret, ev),
    await h.postSigned(srv, 'NotAValidName', secret, ev),
  ];
  for (const r of cases) {
    h.assertProblem(assert, r, 401, 'unauthorized');
    assert.equal(r.json.detail, undefined, 'a 401 must not say why');
  }
  // the body tampered after signing
  const text = JSON.stringify(ev);
  const ts = String(h.nowSeconds());
  const tampered = await h.request(srv.url, 'POST', '/v1/ingest/tabmis/events', {
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_t', 'webhook-timestamp': ts, 'webhook-signature': h.sign(secret, 'msg_t', ts, text) },
    body: text.replace('1500000', '9500000'),
  });
  h.assertProblem(assert, tampered, 401, 'unauthorized');
  assert.equal(storedEvent(ev.id), null);
});

test('a replayed request with an old timestamp is refused; within tolerance a replay is only a duplicate', async () => {
  const ev = h.balanceEvent();
  const old = await h.postSigned(srv, 'tabmis', secret, ev, { ts: h.nowSeconds() - 301 });
  h.assertProblem(assert, old, 401, 'unauthorized');
  const future = await h.postSigned(srv, 'tabmis', secret, ev, { ts: h.nowSeconds() + 301 });
  h.assertProblem(assert, future, 401, 'unauthorized');
  const msgId = 'msg_replay';
  const ts = h.nowSeconds() - 10;
  assert.equal((await h.postSigned(srv, 'tabmis', secret, ev, { ts, msgId })).status, 202);
  const replay = await h.postSigned(srv, 'tabmis', secret, ev, { ts, msgId });
  assert.equal(replay.status, 200);
  assert.equal(replay.json.status, 'duplicate');
  assert.equal(h.psql(db, `SELECT count(*) FROM events WHERE external_id = '${ev.id}'`), '1');
});

test('after rotation both secrets work until the old one is revoked', async () => {
  const rot = h.sourceCmd(db, kek, ['rotate', 'tabmis']);
  assert.equal(rot.code, 0, rot.stderr);
  assert.notEqual(rot.secret, secret);
  assert.equal((await h.postSigned(srv, 'tabmis', rot.secret, h.balanceEvent())).status, 202);
  assert.equal((await h.postSigned(srv, 'tabmis', secret, h.balanceEvent())).status, 202);
  // a request signed with both (the spec's list form) is fine too
  const ev = h.balanceEvent();
  const text = JSON.stringify(ev);
  const ts = String(h.nowSeconds());
  const both = await h.request(srv.url, 'POST', '/v1/ingest/tabmis/events', {
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_both', 'webhook-timestamp': ts,
      'webhook-signature': `${h.sign(secret, 'msg_both', ts, text)} ${h.sign(rot.secret, 'msg_both', ts, text)}` },
    body: text,
  });
  assert.equal(both.status, 202, both.body);
  const list = h.sourceCmd(db, kek, ['list']);
  assert.equal(list.code, 0);
  const oldId = h.psql(db, "SELECT min(k.id) FROM ingest_secrets k JOIN ingest_sources s ON s.id = k.source_id WHERE s.name = 'tabmis'");
  const rev = h.sourceCmd(db, kek, ['revoke-secret', 'tabmis', oldId]);
  assert.equal(rev.code, 0, rev.stderr);
  h.assertProblem(assert, await h.postSigned(srv, 'tabmis', secret, h.balanceEvent()), 401, 'unauthorized');
  assert.equal((await h.postSigned(srv, 'tabmis', rot.secret, h.balanceEvent())).status, 202);
  const again = h.sourceCmd(db, kek, ['revoke-secret', 'tabmis', oldId]);
  assert.equal(again.code, 1);
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action IN ('source.rotate','source.revoke_secret')"), '2');
  secret = rot.secret;
});

test('an event for a unit missing from the roster is stored unrouted, counted and listed', async () => {
  const ev = h.balanceEvent({ unit_code: '7777777' });
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 202);
  assert.equal(r.json.routed, false);
  assert.equal(storedEvent(ev.id).routed, false);
  const cfg = h.writeConfig(h.ingestConfig(db, kek));
  const list = h.runAlertd(['events', 'unrouted', '--config', cfg]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^7777777\s+1\s/m);
  const m = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.ok(Number(m.body.match(/alertd_ingest_unrouted_events_total (\d+)/)[1]) >= 1);
  assert.ok(Number(m.body.match(/alertd_ingest_events_total\{result="accepted"\} (\d+)/)[1]) >= 1);
  // once the unit is in the roster, its new events are routed
  h.psql(db, "INSERT INTO offices (code, name, level) VALUES ('0001', 'KBNN', 1) ON CONFLICT DO NOTHING");
  h.psql(db, "INSERT INTO budget_units (code, name, office_code) VALUES ('7777777', 'Trường THCS Thử nghiệm', '0001')");
  const ev2 = h.balanceEvent({ unit_code: '7777777' });
  const r2 = await h.postSigned(srv, 'tabmis', secret, ev2);
  assert.equal(r2.status, 202);
  assert.equal(r2.json.routed, true);
  assert.equal(storedEvent(ev2.id).routed, true);
});

test('signatures made by openssl and by alertd sign are accepted', async () => {
  const ev = h.balanceEvent();
  const file = path.join(h.TMP, `ev-${ev.id}.json`);
  fs.writeFileSync(file, JSON.stringify(ev));
  const msgId = 'msg_openssl';
  const ts = String(h.nowSeconds());
  const keyHex = Buffer.from(secret.slice(6), 'base64').toString('hex');
  const content = Buffer.concat([Buffer.from(`${msgId}.${ts}.`), fs.readFileSync(file)]);
  const mac = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${keyHex}`, '-binary'], { input: content });
  const r = await h.request(srv.url, 'POST', '/v1/ingest/tabmis/events', {
    headers: { 'content-type': 'application/json', 'webhook-id': msgId, 'webhook-timestamp': ts, 'webhook-signature': `v1,${mac.toString('base64')}` },
    body: fs.readFileSync(file),
  });
  assert.equal(r.status, 202, r.body);

  const ev2 = h.balanceEvent();
  const file2 = path.join(h.TMP, `ev-${ev2.id}.json`);
  fs.writeFileSync(file2, JSON.stringify(ev2));
  const secretFile = path.join(h.TMP, `secret-${process.pid}`);
  fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const s = h.runAlertd(['sign', '--source', 'tabmis', '--secret-file', secretFile, '--url', srv.url, file2]);
  assert.equal(s.code, 0, s.stderr);
  assert.ok(!s.stdout.includes(secret.slice(6)), 'sign must not print the secret');
  const out = execFileSync('bash', ['-c', s.stdout], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), { status: 'accepted', id: ev2.id, routed: false });
});

test('alertd sign quotes every value for the shell: a URL and a file name with quotes, spaces and $(...) reach curl intact', () => {
  // sh runs the printed command with a stub curl first on PATH that writes its arguments, NUL-separated
  const dir = fs.mkdtempSync(path.join(h.TMP, 'sign-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const argsFile = path.join(dir, 'curl-args');
  fs.writeFileSync(path.join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\0' "$@" > '${argsFile}'\n`, { mode: 0o755 });
  // sh runs in dir: a command smuggled in a value would leave a pwned-* file there
  const ev = h.balanceEvent();
  const file = path.join(dir, `it's a 'x' $(touch pwned-file) \`touch pwned-tick\` "q" \\ o'k ev.json`);
  fs.writeFileSync(file, JSON.stringify(ev));
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const url = `http://127.0.0.1:1/o'neil's $(touch pwned-url);'{a,b}'`;
  const s = h.runAlertd(['sign', '--source', 'tabmis', '--secret-file', secretFile, '--url', url, file]);
  assert.equal(s.code, 0, s.stderr);
  const r = spawnSync('sh', [], { cwd: dir, input: s.stdout, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  assert.equal(r.status, 0, `${r.stderr}\n${s.stdout}`);
  const args = fs.readFileSync(argsFile, 'utf8').split('\0').slice(0, -1);
  assert.ok(args.includes(`${url}/v1/ingest/tabmis/events`), args.join('\n'));
  assert.equal(args[args.indexOf('--data-binary') + 1], `@${file}`);
  assert.ok(args.includes('--globoff'), 'curl must not expand {a,b} or [1-2] in the URL');
  const sig = args.find((a) => a.startsWith('webhook-signature: '));
  const id = args.find((a) => a.startsWith('webhook-id: ')).slice(12);
  const ts = args.find((a) => a.startsWith('webhook-timestamp: ')).slice(19);
  assert.equal(sig.slice(19), h.sign(secret, id, ts, fs.readFileSync(file, 'utf8')));
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('pwned')), [], 'nothing in the values may run');
});

test('events land in their monthly partition; maintenance creates partitions ahead', () => {
  const cfg = h.writeConfig(h.ingestConfig(db, kek));
  const r = h.runAlertd(['maintenance', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /partitions created: \d+, dropped: \d+/);
  const parts = h.psql(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass").trim();
  assert.ok(Number(parts) >= 5, parts);
  const where = h.psql(db, "SELECT DISTINCT tableoid::regclass FROM events WHERE occurred_at = '2026-11-21T10:15:00+07:00'");
  assert.equal(where, 'events_y2026m11');
});

test('past the per-source rate limit: 429 with Retry-After', async () => {
  const db2 = h.createDatabase('ingestrl');
  h.migrate(db2);
  h.psql(db2, "INSERT INTO offices (code, name, level) VALUES ('0001', 'KBNN', 1)");
  const add = h.sourceCmd(db2, kek, ['add', 'ledger', '--office', '0001']);
  const limited = await h.startServer({ db: db2, config: h.ingestConfig(db2, kek, { ingest: { rate_limit_per_second: 1, rate_limit_burst: 3 } }) });
  try {
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await h.postSigned(limited, 'ledger', add.secret, h.balanceEvent())).status);
    assert.deepEqual(codes.slice(0, 3), [202, 202, 202]);
    const r = await h.postSigned(limited, 'ledger', add.secret, h.balanceEvent());
    h.assertProblem(assert, r, 429, 'rate_limited');
    assert.ok(Number(r.headers['retry-after']) >= 1);
    const batch = await h.postSigned(limited, 'ledger', add.secret, { events: [h.balanceEvent(), h.balanceEvent()] }, { batch: true });
    h.assertProblem(assert, batch, 429, 'rate_limited');
  } finally {
    await limited.stop();
  }
});
