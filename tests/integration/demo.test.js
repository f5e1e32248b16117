'use strict';
// demo.test.js - the `make run` demo data set (deploy/demo/load.sh) and its staff account:
// `alertd staff demo-totp` refuses every account outside a "[DEMO]" office, or whose office tree holds any
// real office, and gives a demo
// account a confirmed TOTP secret, sealed like an enrolment's, that signs in; the data set loads
// into a fresh database with the shape the brief asks for (2 regional treasuries, 10 transaction
// offices, 302 units near 90 % protected, unreachable and never-installed phones, a shared phone as
// activation leaves it, VND events over 30 days, one risk alert per rule), once, and the sign-in
// text make run prints is right on every run.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

let kek;
test.before(() => {
  kek = h.createKek();
});

function cli(db, args) {
  return h.runAlertd([...args, '--config', h.writeConfig(h.ingestConfig(db, kek))]);
}
function addStaff(db, login, office) {
  const r = cli(db, ['staff', 'add', login, '--office', office, '--role', 'viewer']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.match(/^temporary password: (\S+)$/m)[1];
}
function signin(srv, body) {
  return h.request(srv.url, 'POST', '/v1/staff/session', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

test('staff demo-totp: refused outside a [DEMO] office, for unknown or deactivated logins; a demo account gets a confirmed secret that signs in', async () => {
  const db = h.createDatabase('demototp');
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1), ('D900', '[DEMO] Kho bạc mẫu', 1),
    ('0002', 'Văn phòng [DEMO] giữa tên', 1);
    INSERT INTO offices (code, name, level, parent_code) VALUES ('0012', '[DEMO] a real office a roster renamed', 2, '0001'),
      ('0003', 'Phòng giao dịch thật', 2, 'D900')`);
  addStaff(db, 'real.one', '0001');
  addStaff(db, 'middle.one', '0002');
  addStaff(db, 'renamed.one', '0012');
  const temp = addStaff(db, 'demo.one', 'D900');
  addStaff(db, 'demo.gone', 'D900');
  assert.equal(cli(db, ['staff', 'deactivate', 'demo.gone']).code, 0);

  // renamed.one: its office is named "[DEMO] ..." but its tree's root is real; demo.one too: its tree holds a
  // real office (0003)
  const refusedAll = (logins) => {
    for (const login of logins) {
      const r = cli(db, ['staff', 'demo-totp', login]);
      assert.equal(r.code, 1, `${login}: ${r.stdout}`);
      assert.match(r.stderr, /no active staff account '.*' of a demo office tree/);
      assert.equal(r.stdout, '');
    }
  };
  refusedAll(['real.one', 'middle.one', 'renamed.one', 'nobody', 'demo.gone', 'demo.one']);
  // without 0003 the D900 tree is demo only; the other trees (as make run's sample roster) do not matter
  h.psql(db, "DELETE FROM offices WHERE code = '0003'");
  refusedAll(['real.one', 'renamed.one', 'nobody', 'demo.gone']);
  assert.equal(cli(db, ['staff', 'demo-totp']).code, 2);
  assert.equal(cli(db, ['staff', 'demo-totp', 'demo.one', 'extra']).code, 2);
  assert.equal(h.psql(db, 'SELECT count(*) FROM staff_totp'), '0');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'staff.totp_demo'"), '0');
  // without a KEK nothing can be sealed
  const nokek = h.runAlertd(['staff', 'demo-totp', 'demo.one', '--config', h.writeConfig({ database: { url: `"${h.conninfo(db)}"` } })]);
  assert.equal(nokek.code, 1);
  assert.match(nokek.stderr, /secrets\.key_file is not set/);

  const r = cli(db, ['staff', 'demo-totp', 'demo.one']);
  assert.equal(r.code, 0, r.stderr);
  const secret = r.stdout.match(/^totp secret: ([A-Z2-7]{32})$/m)[1];
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_totp t JOIN staff s ON s.id = t.staff_id
    WHERE s.username = 'demo.one' AND t.confirmed_at IS NOT NULL AND t.last_step = 0
      AND position(convert_to('${secret}', 'UTF8') IN t.secret_ct) = 0`), '1');
  assert.equal(h.psql(db, "SELECT outcome || ' ' || actor_kind || ' ' || details::text FROM audit_log WHERE action = 'staff.totp_demo' AND target = 'demo.one'"),
    'ok cli {"sessions_ended": 0, "recovery_codes_removed": 0}');

  const srv = await h.startServer({ db, migrateFirst: false, config: h.ingestConfig(db, kek, { auth: { signin_per_ip_per_minute: 10000 } }) });
  try {
    // the password alone is not enough: the account is enrolled
    h.assertProblem(assert, await signin(srv, { login: 'demo.one', password: temp }), 401, 'unauthorized');
    h.assertProblem(assert, await signin(srv, { login: 'demo.one', password: temp, totp_code: h.totp(secret, 5) }), 401, 'unauthorized');
    const ok = await signin(srv, { login: 'demo.one', password: temp, totp_code: h.totp(secret) });
    assert.equal(ok.status, 201, ok.body);
    assert.equal(ok.json.totp_enrolled, true);
    assert.equal(ok.json.next, 'change_password');

    // a second run replaces the secret: the old one's codes are refused, the new one's accepted
    const again = cli(db, ['staff', 'demo-totp', 'demo.one']);
    assert.equal(again.code, 0, again.stderr);
    const secret2 = again.stdout.match(/^totp secret: ([A-Z2-7]{32})$/m)[1];
    assert.notEqual(secret2, secret);
    // the session signed in with the old secret ended with it
    assert.equal(h.psql(db, `SELECT string_agg(coalesce(ended_reason, 'live'), ',') FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
      WHERE s.username = 'demo.one'`), 'reset');
    h.assertProblem(assert, await signin(srv, { login: 'demo.one', password: temp, totp_code: h.totp(secret, 1) }), 401, 'unauthorized');
    assert.equal((await signin(srv, { login: 'demo.one', password: temp, totp_code: h.totp(secret2) })).status, 201);
  } finally {
    await srv.stop();
  }
});

function load(db, varDir) {
  const cfg = h.writeConfig(h.ingestConfig(db, kek));
  const r = spawnSync('deploy/demo/load.sh', [cfg, varDir, '-h', `${h.PGDIR}/run`, '-U', 'alertd', '-d', db], {
    cwd: h.ROOT, encoding: 'utf8', timeout: 120000, env: { ...process.env, ALERTD: h.BIN },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return { out: r.stdout + r.stderr, signin: fs.readFileSync(path.join(varDir, 'demo-signin.txt'), 'utf8'), cfg };
}
const q = (db, sql) => h.psql(db, sql);

test('the demo data set: its shape, loaded once, and the sign-in make run prints', async () => {
  const db = h.createDatabase('demo');
  h.migrate(db);
  // as make run does (deploy/run-local.sh): the sample roster first, its real-looking offices another tree
  const sample = h.runAlertd(['roster', 'import', path.join(h.ROOT, 'deploy', 'sample', 'roster.csv'), '--config', h.writeConfig(h.ingestConfig(db, kek))]);
  assert.equal(sample.code, 0, sample.stderr);
  const varDir = fs.mkdtempSync(path.join(h.TMP, 'demo-var-'));
  const first = load(db, varDir);
  assert.doesNotMatch(first.out, /demo-totp|warning/i, 'the demo account got its second factor');
  assert.match(first.out, /loaded the demo data set in \d+ s: 13 offices, 302 units, \d+ users, \d+ devices, \d+ events, \d+ risk alerts/);

  // offices: one central, 2 regional treasuries, 10 transaction offices, every name labelled
  assert.equal(q(db, "SELECT string_agg(level || ':' || count, ' ' ORDER BY level) FROM (SELECT level, count(*) FROM offices WHERE code LIKE 'D%' GROUP BY level) x"), '1:1 2:2 3:10');
  assert.equal(q(db, "SELECT count(*) FROM offices WHERE code LIKE 'D%' AND NOT starts_with(name, '[DEMO]')"), '0');
  assert.equal(q(db, "SELECT count(*) FROM budget_units WHERE code BETWEEN '9900001' AND '9900302' AND starts_with(name, '[DEMO]')"), '302');
  // roles: every unit has one holder and one chief; accountants in most
  assert.equal(q(db, `SELECT count(*) FROM budget_units b WHERE b.code LIKE '99%' AND (
    (SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id WHERE u.unit_code = b.code AND r.role = 'account_holder') <> 1 OR
    (SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id WHERE u.unit_code = b.code AND r.role = 'chief_accountant') <> 1)`), '0');
  assert.ok(Number(q(db, "SELECT count(*) FROM user_roles WHERE role = 'accountant'")) > 250);

  // protected by docs/coverage.md's definition (every holder and chief with a reachable phone): near 90 %
  const cov = q(db, `WITH p AS (SELECT u.unit_code, bool_and(EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.state = 'active'
      AND d.push_token IS NOT NULL AND d.last_seen_at > now() - interval '30 days')) AS covered
    FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role IN ('account_holder', 'chief_accountant')
    WHERE u.unit_code LIKE '99%' AND u.active GROUP BY u.unit_code)
    SELECT round(100.0 * count(*) FILTER (WHERE covered) / count(*)) FROM p`);
  assert.ok(Number(cov) >= 84 && Number(cov) <= 92, `protected ${cov} %`);
  // unreachable phones of both kinds, and people who never installed the app
  const phones = q(db, `SELECT count(*) FILTER (WHERE d.state = 'token_invalid') || ' ' ||
      count(*) FILTER (WHERE d.state = 'active' AND d.last_seen_at < now() - interval '30 days') || ' ' ||
      count(*) FILTER (WHERE d.state = 'active' AND d.last_seen_at > now() - interval '30 days')
    FROM devices d JOIN users u ON u.id = d.user_id WHERE u.dvctt_login LIKE 'demo.%'`).split(' ').map(Number);
  assert.ok(phones[0] >= 10 && phones[1] >= 10 && phones[2] >= 600, String(phones));
  assert.ok(Number(q(db, "SELECT count(*) FROM users u WHERE u.dvctt_login LIKE 'demo.%' AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)")) >= 50);

  // the shared phone, as activation leaves it: the holder's device revoked for the token's move, the
  // chief's device of the same unit holding the same token on the same platform, registered at that moment
  assert.equal(q(db, `SELECT string_agg(ho.unit_code, ',' ORDER BY ho.unit_code) FROM devices o
      JOIN users ho ON ho.id = o.user_id JOIN user_roles hr ON hr.user_id = ho.id AND hr.role = 'account_holder'
      JOIN devices n ON n.platform = o.platform AND n.push_token = o.push_token AND n.state = 'active'
      JOIN users ch ON ch.id = n.user_id AND ch.unit_code = ho.unit_code JOIN user_roles cr ON cr.user_id = ch.id AND cr.role = 'chief_accountant'
     WHERE o.state = 'revoked' AND o.state_reason = 'push_token_reused' AND o.access_token_hash IS NULL
       AND n.first_seen_at = o.state_changed_at AND o.first_seen_at < n.first_seen_at`), '9900017,9900142');

  // events of the last 30 days, in VND, through the ingest statement (keys stored); risk alerts: every rule
  const ev = q(db, `SELECT count(*) || ' ' || sum(abs((payload -> 'data' ->> 'amount')::numeric)) || ' ' ||
      count(*) FILTER (WHERE occurred_at < now() - interval '30 days' OR occurred_at > now())
    FROM events WHERE unit_code LIKE '99%'`).split(' ');
  assert.ok(Number(ev[0]) > 10000 && Number(ev[1]) > 1e11 && ev[2] === '0', ev.join(' '));
  assert.equal(q(db, "SELECT count(*) FROM events e WHERE e.unit_code LIKE '99%' AND NOT EXISTS (SELECT 1 FROM event_keys k WHERE k.event_id = e.id)"), '0');
  assert.equal(q(db, "SELECT string_agg(DISTINCT risk_rule, ',' ORDER BY risk_rule) FROM alerts WHERE severity = 'risk' AND unit_code LIKE '99%'"),
    'cash_withdrawal,large_amount,new_beneficiary,off_hours,rapid_repeat,rejected,same_certificate,signature_gap');
  assert.equal(q(db, "SELECT count(*) FROM alerts a WHERE a.severity = 'risk' AND NOT EXISTS (SELECT 1 FROM push_outbox p WHERE p.alert_id = a.id AND p.priority = 'high')"),
    q(db, "SELECT count(*) FROM alerts a JOIN users u ON u.id = a.user_id WHERE a.severity = 'risk' AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.first_seen_at <= a.created_at)"));
  assert.ok(Number(q(db, "SELECT count(*) FROM push_outbox WHERE state = 'failed'")) > 0);

  // 0014's history and targets, when that migration is in this build
  if (q(db, "SELECT to_regclass('coverage_daily') IS NOT NULL") === 't') {
    const hist = q(db, `SELECT count(*) || ' ' || min(protected) || ' ' || max(protected) FROM coverage_daily WHERE office_code = 'D000'`).split(' ').map(Number);
    assert.ok(hist[0] >= 90 && hist[1] < hist[2] * 0.8, String(hist));
    assert.equal(q(db, "SELECT count(*) FROM coverage_targets WHERE office_code IN ('D000', 'D100')"), '2');
    assert.equal(q(db, "SELECT count(*) FROM coverage_units WHERE unit_code LIKE '99%'"), '302');
    assert.equal(q(db, "SELECT count(*) FROM coverage_units WHERE unit_code LIKE '99%' AND shared_phone"), '2');
  } else {
    assert.match(first.out, /note: no coverage_daily table/);
  }

  // the sign-in text: the demo account of the central demo office, its temporary password, the TOTP secret
  const pw = first.signin.match(/^ {4}password: {3}(\S+) {2}\(temporary/m)[1];
  const secret = first.signin.match(/^ {4}TOTP code: {2}oathtool --totp -b ([A-Z2-7]{32})$/m)[1];
  assert.match(first.signin, /^ {4}login: {6}demo\.admin /m);
  assert.equal(q(db, "SELECT role || ' ' || office_code FROM staff WHERE username = 'demo.admin'"), 'admin D000');
  assert.equal(fs.statSync(path.join(varDir, 'demo-signin.txt')).mode & 0o077, 0);
  const srv = await h.startServer({ db, migrateFirst: false, config: h.ingestConfig(db, kek) });
  try {
    const s = await signin(srv, { login: 'demo.admin', password: pw, totp_code: h.totp(secret) });
    assert.equal(s.status, 201, s.body);
    assert.equal(s.json.next, 'change_password');
  } finally {
    await srv.stop();
  }

  // a second run loads nothing twice; the password is still temporary, so a new one is shown
  const counts = "SELECT (SELECT count(*) FROM budget_units) || ' ' || (SELECT count(*) FROM devices) || ' ' || (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM alerts)";
  const before = q(db, counts);
  const second = load(db, varDir);
  assert.match(second.out, /already loaded/);
  assert.equal(q(db, counts), before);
  const pw2 = second.signin.match(/^ {4}password: {3}(\S+) {2}\(temporary/m)[1];
  assert.notEqual(pw2, pw);
  // once the newcomer chose a password, it is left alone
  q(db, "UPDATE staff SET password_temporary = false, temporary_until = NULL WHERE username = 'demo.admin'");
  const third = load(db, varDir);
  assert.match(third.signin, /password: {3}the one you chose at your first sign-in/);
  assert.equal(q(db, "SELECT password_temporary FROM staff WHERE username = 'demo.admin'"), 'f');
});
