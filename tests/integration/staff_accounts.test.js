'use strict';
// staff_accounts.test.js - `alertd staff add|list|deactivate|reset` and the
// maintenance job's inactivity rule, against real PostgreSQL: temporary
// passwords shown once and stored only as Argon2id, the password history,
// sessions ended at once, every action audited.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let db, kek;

function cli(args, extra = {}) {
  return h.runAlertd([...args, '--config', h.writeConfig(h.ingestConfig(db, kek, extra))]);
}
function tempPassword(r) {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.match(/^temporary password: (\S+)$/m)[1];
}
function staffId(login) {
  return h.psql(db, `SELECT id FROM staff WHERE username = '${login}'`);
}
function fakeSession(login) {
  const hash = require('node:crypto').randomBytes(32).toString('hex');
  h.psql(db, `INSERT INTO staff_sessions (token_hash, staff_id, expires_at) VALUES (decode('${hash}', 'hex'), ${staffId(login)}, now() + interval '8 hours')`);
  return hash;
}
function sessionOpen(hash) {
  return h.psql(db, `SELECT revoked_at IS NULL FROM staff_sessions WHERE token_hash = decode('${hash}', 'hex')`) === 't';
}
function lastAudit(action) {
  return h.psql(db, `SELECT actor_kind || ' ' || coalesce(actor_id, '-') || ' ' || target || ' ' || outcome || ' ' || details::text FROM audit_log WHERE action = '${action}' ORDER BY id DESC LIMIT 1`);
}

test.before(() => {
  db = h.createDatabase('staff');
  kek = h.createKek();
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);`);
});

test('staff add: a temporary password printed once, stored only as Argon2id, in the history, audited', () => {
  const pw = tempPassword(cli(['staff', 'add', 'nguyen.an', '--office', '0011', '--role', 'operator']));
  assert.match(pw, /^[A-Za-z0-9!#%+\-=?@]{20}$/);
  const row = h.psql(db, "SELECT role || ' ' || office_code || ' ' || password_temporary || ' ' || active FROM staff WHERE username = 'nguyen.an'");
  assert.equal(row, 'operator 0011 true true');
  const hash = h.psql(db, "SELECT password_hash FROM staff WHERE username = 'nguyen.an'");
  assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
  assert.ok(!hash.includes(pw));
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_password_history WHERE staff_id = ${staffId('nguyen.an')} AND password_hash = '${hash}'`), '1');
  assert.equal(h.psql(db, `SELECT count(*) FROM audit_log WHERE details::text LIKE '%${pw}%'`), '0');
  assert.match(lastAudit('staff.add'), /^cli \S+ nguyen\.an ok \{"role": "operator", "office": "0011"\}$/);
  const pw2 = tempPassword(cli(['staff', 'add', 'tran.binh', '--role', 'viewer', '--office', '0001']));
  assert.notEqual(pw, pw2);
});

test('staff add refuses a bad login, role or office, and a duplicate, with a clear message and nothing stored', () => {
  const cases = [
    [['staff', 'add', 'Bad Login', '--office', '0011', '--role', 'viewer'], /invalid login/],
    [['staff', 'add', 'ok.login', '--office', '0011', '--role', 'office_admin'], /invalid role 'office_admin': use viewer, operator or admin/],
    [['staff', 'add', 'ok.login', '--office', '9999', '--role', 'viewer'], /no office with code '9999'/],
    [['staff', 'add', 'nguyen.an', '--office', '0011', '--role', 'viewer'], /already exists/],
  ];
  const before = h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'staff.add'");
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stdout, /temporary password/);
  }
  assert.equal(cli(['staff', 'add', 'x.y', '--office', '0011']).code, 2);
  assert.equal(h.psql(db, "SELECT count(*) FROM staff WHERE username IN ('ok.login', 'bad login', 'x.y')"), '0');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'staff.add'"), before);
});

test('staff list shows office, role, state, password state and TOTP, never a secret', () => {
  const r = cli(['staff', 'list']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^LOGIN\s+OFFICE\s+ROLE\s+STATE\s+PASSWORD\s+TOTP\s+LAST_LOGIN\s+APPROVER$/m);
  assert.match(r.stdout, /^nguyen\.an\s+0011\s+operator\s+active\s+temporary\s+no\s+-\s+no$/m);
  assert.doesNotMatch(r.stdout, /argon2/);
});

test('staff reset: a new temporary password, sessions ended, lockout cleared, history kept; --totp clears the enrolment', () => {
  const id = staffId('nguyen.an');
  const oldHash = h.psql(db, `SELECT password_hash FROM staff WHERE id = ${id}`);
  h.psql(db, `UPDATE staff SET failed_logins = 5, locked_until = now() + interval '15 minutes', password_temporary = false WHERE id = ${id}`);
  const s = fakeSession('nguyen.an');
  h.psql(db, `INSERT INTO staff_totp (staff_id, secret_ct, secret_nonce, confirmed_at) VALUES (${id}, '\\x${'00'.repeat(36)}', '\\x${'00'.repeat(24)}', now());
    INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES (${id}, sha256('a'::bytea)), (${id}, sha256('b'::bytea));`);
  tempPassword(cli(['staff', 'reset', 'nguyen.an']));
  assert.equal(sessionOpen(s), false);
  assert.equal(h.psql(db, `SELECT ended_reason FROM staff_sessions WHERE token_hash = decode('${s}', 'hex')`), 'reset');
  assert.equal(h.psql(db, `SELECT failed_logins || ' ' || (locked_until IS NULL) || ' ' || password_temporary FROM staff WHERE id = ${id}`), '0 true true');
  assert.notEqual(h.psql(db, `SELECT password_hash FROM staff WHERE id = ${id}`), oldHash);
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_password_history WHERE staff_id = ${id}`), '2');
  // without --totp the enrolment stays: a forgotten password is not a lost phone
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_totp WHERE staff_id = ${id}`), '1');
  assert.match(lastAudit('staff.reset'), /nguyen\.an ok .*"totp_cleared": false.*"sessions_ended": 1/);
  tempPassword(cli(['staff', 'reset', 'nguyen.an', '--totp']));
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_totp WHERE staff_id = ${id}`), '0');
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_recovery_codes WHERE staff_id = ${id}`), '0');
  assert.match(lastAudit('staff.reset'), /"totp_cleared": true/);
  assert.match(lastAudit('staff.reset'), /"recovery_codes_removed": 2/);
  const none = cli(['staff', 'reset', 'nobody.here']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no staff account 'nobody\.here'/);
});

test('staff deactivate ends every session at once, is audited and final (reset refuses it)', () => {
  tempPassword(cli(['staff', 'add', 'le.cuong', '--office', '0011', '--role', 'viewer']));
  const a = fakeSession('le.cuong');
  const b = fakeSession('le.cuong');
  const r = cli(['staff', 'deactivate', 'le.cuong']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sessionOpen(a), false);
  assert.equal(sessionOpen(b), false);
  assert.equal(h.psql(db, "SELECT active || ' ' || disabled_reason FROM staff WHERE username = 'le.cuong'"), 'false deactivated');
  assert.match(lastAudit('staff.deactivate'), /le\.cuong ok \{"sessions_ended": 2\}/);
  assert.match(cli(['staff', 'list']).stdout, /^le\.cuong\s+0011\s+viewer\s+deactivated/m);
  const again = cli(['staff', 'deactivate', 'le.cuong']);
  assert.equal(again.code, 1);
  const reset = cli(['staff', 'reset', 'le.cuong']);
  assert.equal(reset.code, 1);
  assert.match(reset.stderr, /deactivated; deactivation is final/);
});

test('maintenance disables accounts unused for auth.inactive_disable_days, ends their sessions, audits it; reset re-enables', () => {
  tempPassword(cli(['staff', 'add', 'pham.ha', '--office', '0011', '--role', 'viewer']));
  tempPassword(cli(['staff', 'add', 'do.khoa', '--office', '0011', '--role', 'viewer']));
  // pham.ha: signed in 46 days ago; do.khoa: signed in 44 days ago (stays)
  h.psql(db, `UPDATE staff SET created_at = now() - interval '100 days', password_changed_at = now() - interval '100 days', last_login_at = now() - interval '46 days' WHERE username = 'pham.ha';
    UPDATE staff SET created_at = now() - interval '100 days', password_changed_at = now() - interval '100 days', last_login_at = now() - interval '44 days' WHERE username = 'do.khoa';`);
  const s = fakeSession('pham.ha');
  const r = cli(['maintenance']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^staff accounts disabled for inactivity: 1$/m);
  assert.equal(h.psql(db, "SELECT active || ' ' || coalesce(disabled_reason, '-') FROM staff WHERE username = 'pham.ha'"), 'false inactive');
  assert.equal(h.psql(db, "SELECT active || ' ' || coalesce(disabled_reason, '-') FROM staff WHERE username = 'do.khoa'"), 'true -');
  assert.equal(sessionOpen(s), false);
  assert.match(lastAudit('staff.disable_inactive'), /^system - pham\.ha ok \{"days": 45\}$/);
  // a shorter configured period catches do.khoa too
  const r2 = cli(['maintenance'], { auth: { inactive_disable_days: 30 } });
  assert.match(r2.stdout, /^staff accounts disabled for inactivity: 1$/m);
  // reset brings an account disabled for inactivity back, with 45 fresh days
  tempPassword(cli(['staff', 'reset', 'pham.ha']));
  assert.equal(h.psql(db, "SELECT active || ' ' || coalesce(disabled_reason, '-') FROM staff WHERE username = 'pham.ha'"), 'true -');
  assert.match(cli(['maintenance']).stdout, /^staff accounts disabled for inactivity: 0$/m);
});
