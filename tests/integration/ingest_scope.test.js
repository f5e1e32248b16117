'use strict';
// ingest_scope.test.js - each ingest source writes events only for the
// units of its offices (subtrees included; the root covers its tree, a second
// root only its own; inactive offices count for nothing): 403 out_of_scope,
// audited once per transaction and counted per event, nothing stored; the
// rule for units not yet in the roster; batches; scope changes at once;
// a source without a scope refuses everything; re-routing respects the
// scope; the CLI (add, scope, list) and its audit rows; and the risk rules'
// history looks only at the event's own source, so a forged voucher or
// payment from another source cannot switch rules off in advance; a batch
// holds its source FOR SHARE against a concurrent scope change.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

const TOKEN = crypto.randomBytes(16).toString('hex');
let db, kek, srv;
const secrets = {};

function q(sql) {
  return h.psql(db, sql);
}

function add(name, ...offices) {
  const r = h.sourceCmd(db, kek, ['add', name, ...offices.flatMap((o) => ['--office', o])]);
  assert.equal(r.code, 0, r.stderr);
  secrets[name] = r.secret;
  return r;
}

function stored(id) {
  return Number(q(`SELECT (SELECT count(*) FROM events WHERE external_id = '${id}') + (SELECT count(*) FROM event_keys WHERE external_id = '${id}')`));
}

async function outOfScopeMetric() {
  const m = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(m.status, 200);
  const line = m.body.split('\n').find((l) => l.startsWith('alertd_ingest_events_total{result="out_of_scope"}'));
  assert.ok(line, 'no out_of_scope counter in /metrics');
  return Number(line.split(' ')[1]);
}

// A voucher paid on a weekday morning, below the large-amount threshold, not cash: only the rules under test can fire.
function voucher(number, { gap = 4, beneficiary = '0123456789', dossier, status = 'submitted' } = {}) {
  const ev = h.voucherEvent({ occurred_at: '2026-11-18T10:15:00+07:00' });
  ev.data.status = status;
  delete ev.data.previous_status;
  Object.assign(ev.data.voucher, { number, kind: 'payment_order', form: 'C4-02a/NS', amount: 1000000 });
  if (dossier) ev.data.voucher.dossier_code = dossier;
  else delete ev.data.voucher.dossier_code;
  ev.data.voucher.beneficiary.account = beneficiary;
  ev.data.voucher.signatures[0].signed_at = '2026-11-18T10:00:00+07:00';
  ev.data.voucher.signatures[1].signed_at = new Date(Date.parse('2026-11-18T10:00:00+07:00') + gap * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return ev;
}

async function rulesOf(source, ev) {
  const r = await h.postSigned(srv, source, secrets[source], ev);
  assert.equal(r.status, 202, r.body);
  const rules = q(`SELECT a.details->'risk_rules' FROM alerts a JOIN events e ON e.id = a.event_id WHERE e.external_id = '${ev.id}' LIMIT 1`);
  return rules ? JSON.parse(rules).sort() : [];
}

test.before(async () => {
  db = h.createDatabase('scope');
  kek = h.createKek();
  h.migrate(db);
  // 0001 central; 0011 (with 0111 below it) and 0022 (with 0222) regional
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2), ('0022', 'KBNN khu vực II', '0001', 2);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0111', 'Phòng giao dịch số 1', '0011', 3), ('0222', 'Phòng giao dịch số 2', '0022', 3);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011'), ('1000002', 'Trạm Y tế', '0111'),
       ('1000003', 'UBND Phường 2', '0022'), ('1000004', 'Trường Tiểu học', '0222');
     INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('a.holder', '1000001', 'Trần Thị Bình');
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-a1' FROM users WHERE dvctt_login = 'a.holder';`);
  add('north', '0011');
  add('south', '0022');
  add('central', '0001');
  add('rogue', '0011'); // another ledger system, also allowed to write for the north's units
  srv = await h.startServer({
    db,
    config: { ...h.ingestConfig(db, kek), metrics: { token_sha256: crypto.createHash('sha256').update(TOKEN).digest('hex') } },
  });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('an event for a unit outside the source\'s scope: 403 out_of_scope, nothing stored, audited without payload, counted', async () => {
  const before = await outOfScopeMetric();
  const ev = h.balanceEvent({ unit_code: '1000003' });
  const r = await h.postSigned(srv, 'north', secrets.north, ev, { headers: { 'x-request-id': 'scope-test-1' } });
  h.assertProblem(assert, r, 403, 'out_of_scope');
  assert.equal(r.json.request_id, 'scope-test-1');
  assert.equal(stored(ev.id), 0);
  const audit = q(`SELECT actor_kind || '|' || actor_id || '|' || target || '|' || outcome || '|' || request_id || '|' || details::text
    FROM audit_log WHERE action = 'ingest.out_of_scope'`).split('\n');
  assert.equal(audit.length, 1);
  const [kind, actor, target, outcome, reqId, details] = audit[0].split('|');
  assert.deepEqual([kind, actor, target, outcome, reqId], ['ingest', 'north', '1000003', 'denied', 'scope-test-1']);
  assert.deepEqual(JSON.parse(details), { source: 'north', events: 1, ids: [ev.id], unit_codes: ['1000003'], request_ids: ['scope-test-1'] });
  assert.ok(!details.includes('9523.1.1012345') && !details.includes('Chi lương'), 'the payload reached the audit log');
  assert.equal(await outOfScopeMetric(), before + 1);
});

test('in scope, subtrees included: 202; the roster\'s office decides for a known unit, not the event\'s office_code', async () => {
  const own = await h.postSigned(srv, 'north', secrets.north, h.balanceEvent({ unit_code: '1000001' }));
  assert.equal(own.status, 202, own.body);
  assert.equal(own.json.routed, true);
  const sub = await h.postSigned(srv, 'north', secrets.north, h.balanceEvent({ unit_code: '1000002' })); // 0111 is under 0011
  assert.equal(sub.status, 202, sub.body);
  const claimed = h.balanceEvent({ unit_code: '1000003', office_code: '0011' }); // claims north's office; the roster says 0022
  h.assertProblem(assert, await h.postSigned(srv, 'north', secrets.north, claimed), 403, 'out_of_scope');
  assert.equal(stored(claimed.id), 0);
  const moved = h.balanceEvent({ unit_code: '1000001', office_code: '0022' }); // an out-of-date office_code on a north unit
  assert.equal((await h.postSigned(srv, 'north', secrets.north, moved)).status, 202);
  h.assertProblem(assert, await h.postSigned(srv, 'south', secrets.south, h.balanceEvent({ unit_code: '1000002' })), 403, 'out_of_scope');
  assert.equal((await h.postSigned(srv, 'south', secrets.south, h.balanceEvent({ unit_code: '1000004' }))).status, 202);
});

test('the central office covers its whole tree, units not yet in the roster included', async () => {
  for (const unit of ['1000001', '1000002', '1000003', '1000004']) {
    assert.equal((await h.postSigned(srv, 'central', secrets.central, h.balanceEvent({ unit_code: unit }))).status, 202, unit);
  }
  const unknown = await h.postSigned(srv, 'central', secrets.central, h.balanceEvent({ unit_code: '7000001' }));
  assert.equal(unknown.status, 202);
  assert.equal(unknown.json.routed, false);
  const nowhere = await h.postSigned(srv, 'central', secrets.central, h.balanceEvent({ unit_code: '7000001', office_code: 'ZZZZ' }));
  assert.equal(nowhere.status, 202);
});

test('a second root office covers only its own subtree, and an inactive office in a scope covers nothing', async () => {
  // the roster import makes every office without a parent level 1: nothing enforces a single root
  q(`INSERT INTO offices (code, name, level) VALUES ('0099', 'Second root', 1), ('0098', 'Closed root', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0991', 'Under the second root', '0099', 2);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000099', 'Unit under 0991', '0991');`);
  add('second', '0099');
  add('closed', '0098');
  q(`UPDATE offices SET active = false WHERE code = '0098'`);
  for (const unit of ['1000001', '1000002', '1000003', '1000004']) {
    const ev = h.balanceEvent({ unit_code: unit });
    h.assertProblem(assert, await h.postSigned(srv, 'second', secrets.second, ev), 403, 'out_of_scope');
    assert.equal(stored(ev.id), 0, unit);
  }
  // a unit in the roster under 0001 that claims the second root's office is still judged by the roster
  h.assertProblem(assert, await h.postSigned(srv, 'second', secrets.second, h.balanceEvent({ unit_code: '1000001', office_code: '0099' })), 403, 'out_of_scope');
  assert.equal((await h.postSigned(srv, 'second', secrets.second, h.balanceEvent({ unit_code: '1000099' }))).status, 202);
  // an event that belongs nowhere is covered by a scope holding a (active) level-1 office, so 0099 too
  assert.equal((await h.postSigned(srv, 'second', secrets.second, h.balanceEvent({ unit_code: '7000099' }))).status, 202);
  // and the real root does not cover the second tree: 0991 is under 0099, not 0001
  h.assertProblem(assert, await h.postSigned(srv, 'central', secrets.central, h.balanceEvent({ unit_code: '1000099' })), 403, 'out_of_scope');
  // an inactive office counts for nothing, for the units of its tree or for events that belong nowhere
  h.assertProblem(assert, await h.postSigned(srv, 'closed', secrets.closed, h.balanceEvent({ unit_code: '7000098' })), 403, 'out_of_scope');
  // and the CLI refuses to put one in a scope
  const refused = h.sourceCmd(db, kek, ['scope', 'second', '--office', '0098']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /no active office '0098' in the roster/);
  assert.equal(q("SELECT string_agg(office_code, ',') FROM ingest_source_offices s JOIN ingest_sources i ON i.id = s.source_id WHERE i.name = 'second'"), '0099');
});

test('a unit not yet in the roster is stored unrouted only when the event names an office in scope', async () => {
  const inScope = h.balanceEvent({ unit_code: '7000002', office_code: '0111' });
  const r = await h.postSigned(srv, 'north', secrets.north, inScope);
  assert.equal(r.status, 202, r.body);
  assert.equal(r.json.routed, false);
  for (const office of ['0022', 'ZZZZ', undefined]) {
    const ev = h.balanceEvent({ unit_code: '7000003', ...(office ? { office_code: office } : {}) });
    h.assertProblem(assert, await h.postSigned(srv, 'north', secrets.north, ev), 403, 'out_of_scope');
    assert.equal(stored(ev.id), 0, String(office));
  }
});

test('re-routing a waiting event checks the scope against the office the unit joins', async () => {
  const fits = h.balanceEvent({ unit_code: '7000004', office_code: '0011' });
  const strays = h.balanceEvent({ unit_code: '7000005', office_code: '0011' });
  assert.equal((await h.postSigned(srv, 'north', secrets.north, fits)).status, 202);
  assert.equal((await h.postSigned(srv, 'north', secrets.north, strays)).status, 202);
  q(`INSERT INTO budget_units (code, name, office_code) VALUES ('7000004', 'Đơn vị mới 4', '0111'), ('7000005', 'Đơn vị mới 5', '0222')`);
  const m = h.runAlertd(['maintenance', '--config', h.writeConfig(h.ingestConfig(db, kek))]);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(q(`SELECT routed_at IS NOT NULL FROM events WHERE external_id = '${fits.id}'`), 't');
  assert.equal(q(`SELECT routed_at IS NOT NULL FROM events WHERE external_id = '${strays.id}'`), 'f', 'an event of the north routed to a south unit');
});

test('a batch: an out-of-scope event is rejected on its own (403 problem in its result), the rest is stored', async () => {
  const good = h.balanceEvent({ unit_code: '1000001' });
  const foreign = h.balanceEvent({ unit_code: '1000004' });
  const invalid = h.balanceEvent({ unit_code: '12' });
  const r = await h.postSigned(srv, 'north', secrets.north, { events: [good, foreign, invalid] }, { batch: true });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json.results.map((x) => x.status), ['accepted', 'rejected', 'rejected']);
  assert.deepEqual(r.json.results[1], {
    index: 1, id: foreign.id, status: 'rejected',
    problem: { type: 'urn:alertd:problem:out_of_scope', title: r.json.results[1].problem.title, status: 403, code: 'out_of_scope',
      detail: 'this source may not send events for this unit; nothing was stored' },
  });
  assert.equal(r.json.results[2].problem.code, 'validation_failed');
  assert.equal(stored(good.id), 2);
  assert.equal(stored(foreign.id), 0);
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'ingest.out_of_scope' AND details->'ids' ? '${foreign.id}'`), '1');
  // nothing of the batch in scope: 403 like a single event, with the results
  const all = [h.balanceEvent({ unit_code: '1000003' }), h.balanceEvent({ unit_code: '1000004' })];
  const none = await h.postSigned(srv, 'north', secrets.north, { events: all }, { batch: true });
  h.assertProblem(assert, none, 403, 'out_of_scope');
  assert.deepEqual(none.json.results.map((x) => x.problem.code), ['out_of_scope', 'out_of_scope']);
  // the whole refused batch is one audit row with the count (the metric counts each event)
  const agg = q(`SELECT details::text FROM audit_log WHERE action = 'ingest.out_of_scope' AND details->'ids' ? '${all[0].id}'`).split('\n');
  assert.equal(agg.length, 1);
  const d = JSON.parse(agg[0]);
  assert.deepEqual([d.events, d.ids, d.unit_codes, d.truncated], [2, all.map((e) => e.id), ['1000003', '1000004'], undefined]);
  // past 20 events the lists are cut and say so
  const many = Array.from({ length: 25 }, (_, i) => h.balanceEvent({ unit_code: String(8000000 + i) }));
  const before = Number(q("SELECT count(*) FROM audit_log WHERE action = 'ingest.out_of_scope'"));
  h.assertProblem(assert, await h.postSigned(srv, 'north', secrets.north, { events: many }, { batch: true }), 403, 'out_of_scope');
  assert.equal(Number(q("SELECT count(*) FROM audit_log WHERE action = 'ingest.out_of_scope'")), before + 1);
  const cut = JSON.parse(q("SELECT details::text FROM audit_log WHERE action = 'ingest.out_of_scope' ORDER BY id DESC LIMIT 1"));
  assert.deepEqual([cut.events, cut.ids.length, cut.unit_codes.length, cut.truncated], [25, 20, 20, true]);
  assert.equal(stored(all[0].id) + stored(all[1].id), 0);
});

test('source scope replaces the set at once and is audited; a source without scope (as after the migration) refuses everything', async () => {
  const r = h.sourceCmd(db, kek, ['scope', 'south', '--office', '0011', '--office', '0111']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await h.postSigned(srv, 'south', secrets.south, h.balanceEvent({ unit_code: '1000001' }))).status, 202);
  h.assertProblem(assert, await h.postSigned(srv, 'south', secrets.south, h.balanceEvent({ unit_code: '1000004' })), 403, 'out_of_scope');
  const audit = q("SELECT actor_kind || '|' || target || '|' || details::text FROM audit_log WHERE action = 'source.scope'");
  const [kind, target, details] = audit.split('|');
  assert.deepEqual([kind, target], ['cli', 'south']);
  assert.deepEqual(JSON.parse(details), { offices: ['0011', '0111'], previous: ['0022'] });
  // what every source created before migration 0009 looks like
  add('legacy', '0001');
  q("DELETE FROM ingest_source_offices WHERE source_id = (SELECT id FROM ingest_sources WHERE name = 'legacy')");
  for (const unit of ['1000001', '7000009']) {
    h.assertProblem(assert, await h.postSigned(srv, 'legacy', secrets.legacy, h.balanceEvent({ unit_code: unit })), 403, 'out_of_scope');
  }
  const list = h.sourceCmd(db, kek, ['list']);
  assert.equal(list.code, 0, list.stderr);
  const rows = Object.fromEntries(list.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)).map((c) => [c[0], c[2]]));
  assert.match(list.stdout.split('\n')[0], /^SOURCE\s+ACTIVE\s+SCOPE\s+SECRET_ID/);
  assert.deepEqual(rows, { central: '0001', closed: '0098', legacy: 'none', north: '0011', rogue: '0011', second: '0099', south: '0011,0111' });
});

test('the CLI: add and scope need offices of the roster; add is audited with its scope', () => {
  const none = h.sourceCmd(db, kek, ['add', 'noscope']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /source add NAME --office CODE/);
  const unknown = h.sourceCmd(db, kek, ['add', 'ghost', '--office', '0097']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no active office '0097' in the roster/);
  const inactive = h.sourceCmd(db, kek, ['add', 'ghost', '--office', '0098']); // 0098 is inactive (above)
  assert.equal(inactive.code, 1);
  assert.match(inactive.stderr, /no active office '0098' in the roster/);
  const bad = h.sourceCmd(db, kek, ['add', 'ghost', '--office', 'x1']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid office code 'x1'/);
  assert.equal(q("SELECT count(*) FROM ingest_sources WHERE name IN ('noscope', 'ghost')"), '0');
  const noSource = h.sourceCmd(db, kek, ['scope', 'ghost', '--office', '0011']);
  assert.equal(noSource.code, 1);
  assert.match(noSource.stderr, /no active source named 'ghost'/);
  assert.equal(h.sourceCmd(db, kek, ['scope', 'north']).code, 2);
  assert.equal(h.sourceCmd(db, kek, ['scope', 'north', '--office', '0097']).code, 1);
  assert.equal(q("SELECT string_agg(office_code, ',') FROM ingest_source_offices o JOIN ingest_sources s ON s.id = o.source_id WHERE s.name = 'north'"), '0011');
  const audit = q("SELECT target || '|' || details::text FROM audit_log WHERE action = 'source.add' ORDER BY id").split('\n');
  assert.deepEqual(audit.slice(0, 4).map((l) => [l.split('|')[0], JSON.parse(l.split('|')[1])]), [
    ['north', { offices: ['0011'] }], ['south', { offices: ['0022'] }], ['central', { offices: ['0001'] }], ['rogue', { offices: ['0011'] }],
  ]);
  assert.equal(q("SELECT count(*) FROM audit_log WHERE action = 'source.scope'"), '1'); // the refused ones changed nothing
});

test('history is per source: a forged earlier voucher from another source does not switch signature_gap off', async () => {
  // rogue sends voucher V-100 first, signed an hour apart (nothing to see)
  assert.ok(!(await rulesOf('rogue', voucher('V-100', { gap: 3600 }))).includes('signature_gap'));
  // the real voucher V-100 from north, signed 4 s apart
  assert.ok((await rulesOf('north', voucher('V-100', { gap: 4 }))).includes('signature_gap'));
  // its own later status still does not repeat the signing alerts
  assert.ok(!(await rulesOf('north', voucher('V-100', { gap: 4, status: 'approved' }))).includes('signature_gap'));
});

test('history is per source: a forged earlier payment from another source does not switch new_beneficiary off', async () => {
  assert.ok((await rulesOf('rogue', voucher('V-200', { gap: 3600, beneficiary: '5550001' }))).includes('new_beneficiary'));
  assert.ok((await rulesOf('north', voucher('V-201', { gap: 3600, beneficiary: '5550001' }))).includes('new_beneficiary'));
  // a second payment by north to that account is no longer new
  assert.ok(!(await rulesOf('north', voucher('V-202', { gap: 3600, beneficiary: '5550001' }))).includes('new_beneficiary'));
});

test('"seen before" is the same voucher: a reused number with another dossier code is a new voucher', async () => {
  assert.ok((await rulesOf('north', voucher('V-300', { dossier: 'HS-2025-300' }))).includes('signature_gap'));
  assert.ok((await rulesOf('north', voucher('V-300', { dossier: 'HS-2026-300' }))).includes('signature_gap'));
  assert.ok(!(await rulesOf('north', voucher('V-300', { dossier: 'HS-2026-300', status: 'approved' }))).includes('signature_gap'));
});

test('a batch holds its source FOR SHARE: a scope change in progress is waited for, and the batch is judged under the new scope', async () => {
  const { spawn } = require('node:child_process');
  // a session doing what `alertd source scope north --office 0022` does, left open before COMMIT
  const cli = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', `${h.PGDIR}/run`, '-U', 'alertd', '-d', db], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  cli.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => cli.on('exit', resolve));
  cli.stdin.write(`BEGIN; SELECT id FROM ingest_sources WHERE name = 'north' AND active FOR UPDATE;
    DELETE FROM ingest_source_offices WHERE source_id = (SELECT id FROM ingest_sources WHERE name = 'north');
    INSERT INTO ingest_source_offices (source_id, office_code) SELECT id, '0022' FROM ingest_sources WHERE name = 'north';\n`);
  await h.eventually(() => q(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`) === '1');
  const ev = h.balanceEvent({ unit_code: '1000001' }); // in north's scope before the change, out of it after
  let answered = false;
  const pending = h.postSigned(srv, 'north', secrets.north, ev).then((r) => { answered = true; return r; });
  await h.sleep(500);
  assert.equal(answered, false, 'the batch did not wait for the scope change');
  cli.stdin.end('COMMIT;\n');
  assert.equal(await exited, 0, stderr);
  h.assertProblem(assert, await pending, 403, 'out_of_scope');
  assert.equal(stored(ev.id), 0);
  // and two batches of the same source do not wait for each other (FOR SHARE does not conflict with FOR SHARE)
  const both = await Promise.all([h.balanceEvent({ unit_code: '1000003' }), h.balanceEvent({ unit_code: '1000004' })]
    .map((e) => h.postSigned(srv, 'north', secrets.north, e)));
  assert.deepEqual(both.map((r) => r.status), [202, 202]);
  q(`UPDATE ingest_source_offices SET office_code = '0011' WHERE source_id = (SELECT id FROM ingest_sources WHERE name = 'north')`);
});
