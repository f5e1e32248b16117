'use strict';
// retention.test.js - personal-data retention (docs/privacy.md): rows seeded
// with old timestamps, one maintenance run, and exactly what was deleted,
// erased or pseudonymised and what was kept (young rows, pending pushes,
// every audit row); a returning person pseudonymised twice; a failing rule
// not blocking the others; the audit log's guard and its 30-day floor;
// bounded batches; the counts in the CLI's output and in /metrics of a
// serving instance.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

let db, kek;
const METRICS_TOKEN = 'retention-metrics-token';

function q(sql) {
  return h.psql(db, sql);
}

function cfg(extra = {}) {
  return h.writeConfig(h.ingestConfig(db, kek, extra));
}

function maintenance(extra) {
  const r = h.runAlertd(['maintenance', '--config', cfg(extra)]);
  assert.equal(r.code, 0, r.stderr);
  const counts = {};
  for (const m of r.stdout.match(/^retention:(.*)$/m)[1].matchAll(/ (\w+) (\d+)/g)) counts[m[1]] = Number(m[2]);
  return counts;
}

function pseudonym(value) {
  const r = h.runAlertd(['pseudonym', value, '--config', cfg()]);
  assert.equal(r.code, 0, r.stderr);
  const p = r.stdout.trim();
  assert.match(p, /^~[0-9a-f]{32}$/);
  return p;
}

const id = (sql) => Number(q(sql));

test.before(() => {
  db = h.createDatabase('ret');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');`);
});

test('one maintenance run deletes, erases and pseudonymises exactly what is past its period and keeps the rest', () => {
  // users: one deactivated long ago, one recently, one active
  q(`INSERT INTO users (dvctt_login, unit_code, full_name, email, phone, active, deactivated_at) VALUES
       ('old.leaver', '1000001', 'Nguyễn Văn Cũ', 'cu@example.vn', '0901234567', false, now() - interval '400 days'),
       ('new.leaver', '1000001', 'Trần Thị Mới', 'moi@example.vn', '0907654321', false, now() - interval '10 days');
     INSERT INTO users (dvctt_login, unit_code, full_name, email) VALUES ('active.user', '1000001', 'Lê Văn Còn', 'con@example.vn');
     INSERT INTO user_roles SELECT id, 'accountant' FROM users;
     INSERT INTO user_preferences (user_id, lang) SELECT id, 'en' FROM users;`);
  const oldU = id("SELECT id FROM users WHERE dvctt_login = 'old.leaver'");
  const newU = id("SELECT id FROM users WHERE dvctt_login = 'new.leaver'");
  const act = id("SELECT id FROM users WHERE dvctt_login = 'active.user'");

  // devices: revoked/retired long ago and recently, active, and the old leaver's
  const dev = (user, state, daysAgo, token, model = 'Pixel 8') => id(`INSERT INTO devices (user_id, platform, push_token, model, os_version, app_version, locale, state, state_changed_at)
      VALUES (${user}, 'android', '${token}', '${model}', '14', '1.0.0', 'vi-VN', '${state}', now() - interval '${daysAgo} days') RETURNING id`);
  const dActive = dev(act, 'active', 100, 'tok-active');
  const dRevokedOld = dev(act, 'revoked', 40, 'tok-revoked-old');
  const dInvalidOld = dev(act, 'token_invalid', 31, 'tok-invalid-old');
  const dRevokedYoung = dev(act, 'revoked', 5, 'tok-revoked-young');
  const dLeaver = dev(oldU, 'revoked', 399, 'tok-leaver', 'iPhone 15');
  const dNewLeaver = dev(newU, 'revoked', 3, 'tok-new-leaver');

  // alerts and outbox rows, timestamps set explicitly
  const alert = (monthsAgo) => id(`INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body, created_at)
      VALUES (${act}, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', 'TK …2345: -1.500.000 VND', now() - interval '${monthsAgo} months') RETURNING id`);
  const out = (alertId, device, state, daysAgo) => id(`INSERT INTO push_outbox (alert_id, device_id, provider, state, sent_at, created_at, updated_at)
      VALUES (${alertId}, ${device}, 'fcm', '${state}', ${state === 'sent' ? `now() - interval '${daysAgo} days'` : 'NULL'},
              now() - interval '${daysAgo} days', now() - interval '${daysAgo} days') RETURNING id`);
  const aOld = alert(14);
  const aOldPending = alert(14);
  const aYoung = alert(1);
  const oOfOld = out(aOld, dActive, 'sent', 420);
  const oPendingOfOld = out(aOldPending, dActive, 'pending', 420);
  const oSentOld = out(aYoung, dActive, 'sent', 91);
  const oFailedOld = out(aYoung, dRevokedOld, 'failed', 100);
  const oSentYoung = out(aYoung, dRevokedYoung, 'sent', 10);
  const oPendingOld = out(aYoung, dInvalidOld, 'pending', 100);
  // a young alert whose one push failed long ago: its row goes, the alert keeps saying failed (migration 0020)
  const aDone = alert(1);
  const oOfDone = out(aDone, dActive, 'failed', 100);

  // activation codes: used, voided and expired 40 days ago go; used 5 days ago and live stay
  const code = (user, cols) => id(`INSERT INTO activation_codes (user_id, code_hash, created_by, ${Object.keys(cols).join(', ')})
      VALUES (${user}, '\\x${crypto.randomBytes(32).toString('hex')}', 'operator', ${Object.values(cols).join(', ')}) RETURNING id`);
  const ago = (d) => `now() - interval '${d} days'`;
  const cUsedOld = code(act, { created_at: ago(41), expires_at: ago(38), used_at: ago(40) });
  const cVoidedOld = code(act, { created_at: ago(41), expires_at: ago(38), voided_at: ago(40) });
  const cUsedYoung = code(act, { created_at: ago(6), expires_at: ago(3), used_at: ago(5) });
  const cLive = code(act, { created_at: 'now()', expires_at: "now() + interval '3 days'" });
  const cExpiredOld = code(newU, { created_at: ago(44), expires_at: ago(41) });
  const cLeaver = code(oldU, { created_at: 'now()', expires_at: "now() + interval '1 day'", voided_at: 'now()' });

  // audit rows: old ones of every kind, and a young one
  const audit = (daysAgo, kind, actor, action, target, ip) => id(`INSERT INTO audit_log (at, actor_kind, actor_id, action, target, outcome, ip, request_id, details)
      VALUES (now() - interval '${daysAgo} days', '${kind}', ${actor ? `'${actor}'` : 'NULL'}, '${action}', ${target ? `'${target}'` : 'NULL'}, 'ok',
              ${ip ? `'${ip}'` : 'NULL'}, 'req-${action}', '{"reason":"test"}') RETURNING id`);
  const auRedeem = audit(400, 'app', 'old.leaver', 'activation.redeem', 'old.leaver', '10.1.2.3');
  const auAdmin = audit(400, 'admin_key', 'treasury-it', 'admin.request', 'GET /v1/admin/events/unrouted', '10.1.2.4');
  const auCli = audit(400, 'cli', 'nguyenvana (sudo)', 'source.add', 'tabmis', null);
  const auDevice = audit(366, 'app', `${dLeaver}`, 'device.revoke', `device ${dLeaver}`, '10.1.2.3');
  const auSystem = audit(400, 'system', null, 'roster.import', null, null);
  const auYoung = audit(10, 'app', 'active.user', 'activation.redeem', 'active.user', '10.9.9.9');
  // an aggregate of failed activations whose hour is over
  q(`INSERT INTO activation_failures (window_start, user_id, ip, attempts, reasons, last_request_id)
       VALUES (date_trunc('hour', now()) - interval '2 hours', ${act}, '10.5.5.5', 3, '{"wrong_code": 3}', 'req-f'),
              (date_trunc('hour', now()), ${act}, '10.5.5.6', 1, '{"no_code": 1}', 'req-g')`);
  const auditIds = q('SELECT string_agg(id::text, \',\' ORDER BY id) FROM audit_log');

  const counts = maintenance({ retention: { batch_size: 2 } });
  assert.deepEqual(counts, {
    activation_failures_audited: 1,
    outbox_deleted: 4, // oSentOld, oFailedOld, oOfDone, oOfOld (its alert then has none left to cascade)
    alerts_deleted: 1,
    device_tokens_erased: 3, // dRevokedOld, dInvalidOld, dLeaver
    activation_codes_deleted: 3,
    users_pseudonymised: 1,
    audit_rows_pseudonymised: 5,
  });

  // outbox and alerts: finished and old go; pending rows and their alert stay; young rows stay
  const outbox = q('SELECT string_agg(id::text, \',\' ORDER BY id) FROM push_outbox');
  assert.equal(outbox, [oPendingOfOld, oSentYoung, oPendingOld].join(','));
  assert.equal(q('SELECT string_agg(id::text, \',\' ORDER BY id) FROM alerts'), [aOldPending, aYoung, aDone].join(','));
  assert.ok(oOfOld && oSentOld && oFailedOld && aOld && oOfDone);
  // the delivery state outlives the outbox rows: kept on the alert when its first rows went
  assert.equal(q(`SELECT delivery_state || ' ' || alertd_delivery_state(id, delivery_state) FROM alerts WHERE id = ${aDone}`), 'failed failed');
  // aYoung still has a pending row: nothing is kept yet, the state is read from the rows left
  assert.equal(q(`SELECT delivery_state || ' ' || alertd_delivery_state(id, delivery_state) FROM alerts WHERE id = ${aYoung}`), 'pending pending');

  // devices: tokens of revoked and retired devices past 30 days erased, rows kept
  const tokens = q('SELECT string_agg(id || \'=\' || COALESCE(push_token, \'-\'), \',\' ORDER BY id) FROM devices');
  assert.equal(tokens, `${dActive}=tok-active,${dRevokedOld}=-,${dInvalidOld}=-,${dRevokedYoung}=tok-revoked-young,${dLeaver}=-,${dNewLeaver}=tok-new-leaver`);
  assert.equal(q(`SELECT model || ' ' || state FROM devices WHERE id = ${dRevokedOld}`), 'Pixel 8 revoked', 'the device row and its facts stay');

  // activation codes
  assert.equal(q('SELECT string_agg(id::text, \',\' ORDER BY id) FROM activation_codes'), [cUsedYoung, cLive].join(','));
  assert.ok(cUsedOld && cVoidedOld && cExpiredOld && cLeaver);

  // the old leaver is pseudonymised: the login becomes the row's pseudonym ("user:<id>:<login>"), the name the
  // login's (the one the audit rows carry), contact data and devices' facts go
  const p = pseudonym('old.leaver');
  assert.equal(q(`SELECT dvctt_login || '|' || full_name || '|' || COALESCE(email, '-') || '|' || COALESCE(phone, '-') || '|' || (pseudonymised_at IS NOT NULL) || '|' || active FROM users WHERE id = ${oldU}`),
    `${pseudonym(`user:${oldU}:old.leaver`)}|${p}|-|-|true|false`);
  assert.equal(q(`SELECT COALESCE(model, '-') || COALESCE(os_version, '-') || COALESCE(app_version, '-') || COALESCE(locale, '-') || state FROM devices WHERE id = ${dLeaver}`), '----revoked');
  assert.equal(q(`SELECT count(*) FROM user_preferences WHERE user_id = ${oldU}`), '0');
  assert.equal(q(`SELECT count(*) FROM user_roles WHERE user_id = ${oldU}`), '1');
  assert.equal(q("SELECT count(*) FROM users WHERE full_name LIKE 'Nguyễn Văn Cũ%' OR email = 'cu@example.vn' OR phone = '0901234567' OR dvctt_login = 'old.leaver'"), '0');
  // the recent leaver and the active user are untouched
  assert.equal(q(`SELECT dvctt_login || '|' || full_name || '|' || email || '|' || phone FROM users WHERE id = ${newU}`), 'new.leaver|Trần Thị Mới|moi@example.vn|0907654321');
  assert.equal(q(`SELECT dvctt_login || '|' || email FROM users WHERE id = ${act}`), 'active.user|con@example.vn');
  assert.equal(q('SELECT count(*) FROM user_preferences'), '2');

  // audit: no row lost, the failures' closed hour became one row, personal fields of old rows are pseudonyms
  const after = q('SELECT string_agg(id::text, \',\' ORDER BY id) FROM audit_log');
  assert.ok(after.startsWith(`${auditIds},`), 'every audit row is still there');
  assert.equal(after.split(',').length, auditIds.split(',').length + 1);
  const row = (i) => q(`SELECT actor_kind || '|' || COALESCE(actor_id, '-') || '|' || action || '|' || COALESCE(target, '-') || '|' || outcome || '|' || COALESCE(ip, '-')
      || '|' || request_id || '|' || details::text || '|' || (pseudonymised_at IS NOT NULL) FROM audit_log WHERE id = ${i}`);
  const ip3 = pseudonym('10.1.2.3');
  assert.equal(row(auRedeem), `app|${p}|activation.redeem|${p}|ok|${ip3}|req-activation.redeem|{"reason": "test"}|true`);
  assert.equal(row(auAdmin), `admin_key|treasury-it|admin.request|GET /v1/admin/events/unrouted|ok|${pseudonym('10.1.2.4')}|req-admin.request|{"reason": "test"}|true`);
  assert.equal(row(auCli), `cli|${pseudonym('nguyenvana (sudo)')}|source.add|tabmis|ok|-|req-source.add|{"reason": "test"}|true`);
  assert.equal(row(auDevice), `app|${pseudonym(String(dLeaver))}|device.revoke|${pseudonym(`device ${dLeaver}`)}|ok|${ip3}|req-device.revoke|{"reason": "test"}|true`);
  assert.equal(row(auSystem), 'system|-|roster.import|-|ok|-|req-roster.import|{"reason": "test"}|true');
  assert.equal(row(auYoung), 'app|active.user|activation.redeem|active.user|ok|10.9.9.9|req-activation.redeem|{"reason": "test"}|false');
  const flushed = q(`SELECT actor_id || '|' || target || '|' || ip || '|' || (details->>'attempts') || '|' || (details->'reasons')::text || '|' || request_id
      FROM audit_log WHERE id > ${after.split(',').slice(-2)[0]}`);
  assert.equal(flushed, 'active.user|active.user|10.5.5.5|3|{"wrong_code": 3}|req-f');
  assert.equal(q('SELECT ip FROM activation_failures'), '10.5.5.6', 'the current hour stays open');

  // a second run finds nothing to do
  const again = maintenance();
  assert.ok(Object.values(again).every((n) => n === 0), JSON.stringify(again));
});

test('a person who comes back under the same login and leaves again is pseudonymised again; a failing rule does not stop the others', () => {
  const leaver = (login) => id(`INSERT INTO users (dvctt_login, unit_code, full_name, email, active, deactivated_at)
      VALUES ('${login}', '1000001', 'Phạm Văn Về', 've@example.vn', false, now() - interval '400 days') RETURNING id`);
  const first = leaver('come.back');
  assert.equal(maintenance().users_pseudonymised, 1);
  // the roster import gives the returning person a new row under the same login; they leave again
  const second = leaver('come.back');
  const counts = maintenance();
  assert.equal(counts.users_pseudonymised, 1);
  const rows = q(`SELECT string_agg(dvctt_login || '|' || full_name || '|' || (pseudonymised_at IS NOT NULL), ',' ORDER BY id) FROM users WHERE id IN (${first}, ${second})`);
  const p = pseudonym('come.back');
  assert.equal(rows, `${pseudonym(`user:${first}:come.back`)}|${p}|true,${pseudonym(`user:${second}:come.back`)}|${p}|true`);
  assert.equal(q("SELECT count(*) FROM users WHERE dvctt_login = 'come.back' OR email = 've@example.vn'"), '0');

  // a rule that fails (here: a trigger that refuses every UPDATE of users) is reported, and the rules after it still run
  q(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: users refused'; END $$;
     CREATE TRIGGER test_refuse BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION test_refuse();`);
  try {
    const stuck = leaver('stuck.leaver');
    const audit = id(`INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details, at)
        VALUES ('app', 'stuck.leaver', 'activation.redeem', 'stuck.leaver', 'ok', '10.8.8.8', 'req-stuck', '{}', now() - interval '400 days') RETURNING id`);
    const r = h.runAlertd(['maintenance', '--config', cfg()]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /retention \(users_pseudonymised\) failed/);
    assert.match(r.stderr, /test: users refused/);
    assert.equal(q(`SELECT dvctt_login || '|' || (pseudonymised_at IS NULL) FROM users WHERE id = ${stuck}`), 'stuck.leaver|true');
    assert.equal(q(`SELECT actor_id || '|' || ip || '|' || (pseudonymised_at IS NOT NULL) FROM audit_log WHERE id = ${audit}`),
      `${pseudonym('stuck.leaver')}|${pseudonym('10.8.8.8')}|true`, 'the audit rule ran after the failed users rule');
  } finally {
    q('DROP TRIGGER test_refuse ON users; DROP FUNCTION test_refuse();');
  }
  assert.equal(maintenance().users_pseudonymised, 1, 'the next run catches up');
});

test('the audit log stays append-only: only maintenance pseudonymises, once, and nothing else changes', () => {
  const young = id("SELECT id FROM audit_log WHERE pseudonymised_at IS NULL ORDER BY id LIMIT 1");
  const done = id("SELECT id FROM audit_log WHERE pseudonymised_at IS NOT NULL ORDER BY id LIMIT 1");
  const refused = (sql) => assert.throws(() => q(sql), /audit_log is append-only/, sql);
  const fake = `'~${'0'.repeat(32)}'`;
  refused(`UPDATE audit_log SET ip = ${fake}, pseudonymised_at = now() WHERE id = ${young}`);
  refused(`DELETE FROM audit_log WHERE id = ${done}`);
  refused('TRUNCATE audit_log');
  // even in the mode maintenance uses: never twice, never a clear value, never another column
  const as = (sql) => `BEGIN; SELECT set_config('alertd.audit_pseudonymise', 'on', true); ${sql}; COMMIT;`;
  refused(as(`UPDATE audit_log SET ip = ${fake} WHERE id = ${done}`));
  refused(as(`UPDATE audit_log SET ip = '10.0.0.1', pseudonymised_at = now() WHERE id = ${young}`));
  refused(as(`UPDATE audit_log SET outcome = 'denied', pseudonymised_at = now() WHERE id = ${young}`));
  refused(as(`UPDATE audit_log SET details = '{}', pseudonymised_at = now() WHERE id = ${young}`));
  refused(as(`DELETE FROM audit_log WHERE id = ${young}`));
  // and never a row younger than 30 days, even with a well-formed pseudonym (retention.audit_personal_days >= 30)
  const fresh = id(`INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)
      VALUES ('app', 'fresh.user', 'activation.redeem', 'fresh.user', 'ok', '10.6.6.6', 'req-fresh', '{}') RETURNING id`);
  const month = id(`INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details, at)
      VALUES ('app', 'month.user', 'activation.redeem', 'month.user', 'ok', '10.6.6.7', 'req-month', '{}', now() - interval '29 days') RETURNING id`);
  for (const row of [fresh, month]) {
    refused(as(`UPDATE audit_log SET actor_id = ${fake}, target = ${fake}, ip = ${fake}, pseudonymised_at = now() WHERE id = ${row}`));
  }
  assert.equal(q(`SELECT string_agg(actor_id, ',' ORDER BY id) FROM audit_log WHERE id IN (${fresh}, ${month})`), 'fresh.user,month.user');
  // so the option cannot ask for less
  const tooSoon = h.runAlertd(['check-config', '--config', cfg({ retention: { audit_personal_days: 29 } })]);
  assert.notEqual(tooSoon.code, 0);
  assert.match(tooSoon.stderr, /retention\.audit_personal_days: must be 0 \(never\) or at least 30/);
  assert.equal(h.runAlertd(['check-config', '--config', cfg({ retention: { audit_personal_days: 30 } })]).code, 0);
  assert.equal(q(`SELECT pseudonymised_at IS NULL FROM audit_log WHERE id = ${young}`), 't');
  // a login that starts like a pseudonym cannot enter through the roster
  const csv = `${require('node:os').tmpdir()}/ret-${process.pid}.csv`;
  require('node:fs').writeFileSync(csv, 'office_code,office_name,parent_office_code,unit_code,unit_name,unit_email,unit_phone,accounts,user_login,user_name,user_email,user_phone,roles\n'
    + `0011,KBNN khu vực I,0001,1000001,Trường THCS Nguyễn Du,,,9523.1.1000001,${q('SELECT dvctt_login FROM users WHERE pseudonymised_at IS NOT NULL ORDER BY id LIMIT 1')},Người Khác,,,accountant\n`);
  const imp = h.runAlertd(['roster', 'import', csv, '--dry-run', '--config', cfg()]);
  assert.match(imp.stdout + imp.stderr, /reserved for pseudonymised accounts/, imp.stdout);
});

test('a backlog is worked off in bounded batches across runs; a rule set to 0 is off', () => {
  const act = id("SELECT id FROM users WHERE dvctt_login = 'active.user'");
  const dev = id(`SELECT id FROM devices WHERE user_id = ${act} AND state = 'active'`);
  const a = id(`INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body) VALUES (${act}, '1000001', '0011', 'balance.changed', 'vi', 't', 'b') RETURNING id`);
  q(`INSERT INTO push_outbox (alert_id, device_id, provider, state, sent_at, created_at, updated_at)
     SELECT ${a}, ${dev}, 'fcm', 'failed', NULL, now() - interval '200 days', now() - interval '200 days' FROM generate_series(1, 1)`);
  // the one-per-(alert, device) rule: more old rows need more alerts
  for (let i = 0; i < 4; i++) {
    const b = id(`INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body) VALUES (${act}, '1000001', '0011', 'balance.changed', 'vi', 't', 'b') RETURNING id`);
    q(`INSERT INTO push_outbox (alert_id, device_id, provider, state, created_at, updated_at) VALUES (${b}, ${dev}, 'fcm', 'failed', now() - interval '200 days', now() - interval '200 days')`);
  }
  const old = () => Number(q("SELECT count(*) FROM push_outbox WHERE state = 'failed' AND updated_at < now() - interval '90 days'"));
  assert.equal(old(), 5);
  assert.equal(maintenance({ retention: { outbox_days: 0 } }).outbox_deleted, 0);
  assert.equal(old(), 5);
  assert.equal(maintenance({ retention: { batch_size: 1, max_batches_per_run: 2 } }).outbox_deleted, 2);
  assert.equal(old(), 3);
  assert.equal(maintenance({ retention: { batch_size: 2, max_batches_per_run: 1 } }).outbox_deleted, 2);
  assert.equal(maintenance({ retention: { batch_size: 2, max_batches_per_run: 1 } }).outbox_deleted, 1);
  assert.equal(old(), 0);
});

test('a serving instance applies retention in its maintenance thread and counts it in /metrics', async () => {
  const act = id("SELECT id FROM users WHERE dvctt_login = 'active.user'");
  q(`INSERT INTO devices (user_id, platform, push_token, state, state_changed_at) VALUES (${act}, 'ios', 'ab12', 'revoked', now() - interval '60 days')`);
  const srv = await h.startServer({
    db,
    config: { ...h.ingestConfig(db, kek), metrics: { token_sha256: crypto.createHash('sha256').update(METRICS_TOKEN).digest('hex') } },
  });
  try {
    await h.eventually(async () => {
      const m = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      return /^alertd_retention_rows_total\{rule="device_tokens_erased"\} 1$/m.test(m.body);
    });
    assert.equal(q("SELECT count(*) FROM devices WHERE push_token = 'ab12'"), '0');
    // the counters are bumped just before the log line is written: wait for the line too
    const line = await h
      .eventually(() => srv.logLines().find((l) => l.msg === 'retention applied'), 5000)
      .catch(() => assert.fail(srv.logs().slice(-2000)));
    assert.equal(line.device_tokens_erased, 1);
  } finally {
    await srv.stop();
  }
});
