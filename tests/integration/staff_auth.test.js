'use strict';
// staff_auth.test.js - staff sign-in over real HTTP with cookies: the
// password rules at the forced change, lockout, expiry, TOTP enrolment
// (codes computed by totp.js, RFC 6238 over node's HMAC-SHA1), replay and
// recovery codes, CSRF, cookie attributes, the security headers, logout,
// deactivation, idle and absolute timeouts, the per-address throttle, one
// answer for unknown logins, and the audit rows.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');
const { totp } = require('./totp');

let db, kek, srv;
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const GOOD = ['Tr3asury!Kv9x', 'Zq7!mK2#pLw', 'Hx4$nRt8@Vb', 'Mw2%kQz9!Lp'];

function cli(args) {
  return h.runAlertd([...args, '--config', h.writeConfig(h.ingestConfig(db, kek))]);
}
function addStaff(login) {
  const r = cli(['staff', 'add', login, '--office', '0011', '--role', 'operator']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.match(/^temporary password: (\S+)$/m)[1];
}
function signin(server, body) {
  return h.request(server.url, 'POST', '/v1/staff/session', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
function cookieOf(r) {
  const set = r.headers['set-cookie'];
  assert.ok(set && set.length === 1, JSON.stringify(r.headers));
  return set[0].split(';')[0];
}
function session(r) {
  assert.equal(r.status, 201, r.body);
  return { cookie: cookieOf(r), csrf: r.json.csrf_token, json: r.json };
}
// The answer of a step that renews the session (password change from a temporary or expired password, TOTP
// confirm): a new cookie and CSRF token, different from the old ones.
function renewed(r, old) {
  assert.equal(r.status, 200, r.body);
  const s = { cookie: cookieOf(r), csrf: r.json.csrf_token, json: r.json };
  assert.match(s.csrf, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(s.cookie, old.cookie);
  assert.notEqual(s.csrf, old.csrf);
  return s;
}
function call(server, s, method, p, body, { csrf = s && s.csrf } = {}) {
  const headers = {};
  if (s) headers.cookie = s.cookie;
  if (csrf !== undefined && csrf !== null) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return h.request(server.url, method, p, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
function audit(login, action) {
  return h.psql(db, `SELECT outcome || ' ' || details::text FROM audit_log WHERE action = '${action}' AND target = '${login}' ORDER BY id`).split('\n').filter(Boolean);
}
// A ready account: temporary password changed, TOTP confirmed; returns its secret, recovery codes and a session.
async function enrolled(login, password = GOOD[0], server = srv) {
  const temp = addStaff(login);
  let s = session(await signin(server, { login, password: temp }));
  assert.equal(s.json.next, 'change_password');
  s = renewed(await call(server, s, 'POST', '/v1/staff/password', { current_password: temp, new_password: password }), s);
  const e = await call(server, s, 'POST', '/v1/staff/totp/enrol');
  assert.equal(e.status, 201, e.body);
  const c = await call(server, s, 'POST', '/v1/staff/totp/confirm', { code: totp(e.json.secret) });
  s = renewed(c, s);
  return { secret: e.json.secret, recovery: c.json.recovery_codes, session: s };
}

test.before(async () => {
  db = h.createDatabase('staffauth');
  kek = h.createKek();
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);`);
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { auth: { lockout_seconds: 2, signin_per_ip_per_minute: 10000 } }) });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('first sign-in: the cookie exactly, the CSRF token, and a temporary password allows only a change (and sign-out)', async () => {
  const temp = addStaff('an.first');
  const r = await signin(srv, { login: 'an.first', password: temp });
  assert.equal(r.status, 201, r.body);
  const set = r.headers['set-cookie'];
  assert.equal(set.length, 1);
  assert.match(set[0], /^__Host-alertd_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  assert.doesNotMatch(set[0], /Max-Age|Expires|Domain/i);
  assert.match(r.json.csrf_token, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual({ ...r.json, csrf_token: undefined }, { login: 'an.first', office: '0011', role: 'operator', password_temporary: true, password_expired: false, totp_enrolled: false, next: 'change_password', approver: false, idle_timeout_seconds: 900, csrf_token: undefined });
  // only hashes are stored
  const token = set[0].split(';')[0].split('=')[1];
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_sessions WHERE token_hash = sha256('${token}'::bytea) AND csrf_hash = sha256('${r.json.csrf_token}'::bytea)`), '1');
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_sessions WHERE encode(token_hash, 'escape') LIKE '%${token.slice(0, 10)}%'`), '0');
  let s = session(r);
  h.assertProblem(assert, await call(srv, s, 'GET', '/v1/staff/me'), 403, 'password_change_required');
  h.assertProblem(assert, await call(srv, s, 'POST', '/v1/staff/totp/enrol'), 403, 'password_change_required');
  s = renewed(await call(srv, s, 'POST', '/v1/staff/password', { current_password: temp, new_password: GOOD[0] }), s);
  assert.equal(s.json.next, 'enrol_totp');
  assert.equal(s.json.password_temporary, false);
  // now TOTP enrolment is the one thing left
  h.assertProblem(assert, await call(srv, s, 'GET', '/v1/staff/me'), 403, 'totp_enrolment_required');
  assert.deepEqual(audit('an.first', 'staff.signin'), ['ok {"factor": "password"}']);
  assert.deepEqual(audit('an.first', 'staff.password_change'), ['ok {}']);
});

test('every password rule refused at the change, each with its own message (cracklib included), none reused of the last 10', async () => {
  const temp = addStaff('binh.rules');
  let s = session(await signin(srv, { login: 'binh.rules', password: temp }));
  const cases = [
    ['Zq7!mK2', /at least 8 characters/],
    ['zq7!mk2#pl', /upper-case letter/],
    ['ZQ7!MK2#PL', /lower-case letter/],
    ['Zqx!mKy#pL', /digit/],
    ['Zq7xmK2ypL', /special character/],
    [`Zq7!${'k'.repeat(130)}`, /at most 128 characters/],
    ['Xx1!BINH.RULESq', /must not contain your login/],
    ['Password1!', /too easy to guess: it is based on a dictionary word/],
    [temp, /must differ from your last 10 passwords/],
  ];
  for (const [pw, re] of cases) {
    const r = await call(srv, s, 'POST', '/v1/staff/password', { current_password: temp, new_password: pw });
    h.assertProblem(assert, r, 422, 'validation_failed');
    assert.equal(r.json.errors.length, 1, r.body);
    assert.equal(r.json.errors[0].field, 'new_password');
    assert.match(r.json.errors[0].message, re, pw);
  }
  const wrong = await call(srv, s, 'POST', '/v1/staff/password', { current_password: 'Not-the-1-current', new_password: GOOD[1] });
  h.assertProblem(assert, wrong, 422, 'validation_failed');
  assert.deepEqual(wrong.json.errors, [{ field: 'current_password', message: 'is not your current password' }]);
  // 8 characters in more bytes are enough: characters are counted, not bytes
  s = renewed(await call(srv, s, 'POST', '/v1/staff/password', { current_password: temp, new_password: 'Đạt7!àxQ' }), s);
  // (further changes once TOTP is enrolled: until then a session may only enrol)
  h.assertProblem(assert, await call(srv, s, 'POST', '/v1/staff/password', { current_password: 'Đạt7!àxQ', new_password: GOOD[1] }), 403, 'totp_enrolment_required');
  const e = await call(srv, s, 'POST', '/v1/staff/totp/enrol');
  s = renewed(await call(srv, s, 'POST', '/v1/staff/totp/confirm', { code: totp(e.json.secret) }), s);
  // the history: a password used before is refused even after several changes
  let current = 'Đạt7!àxQ';
  for (const pw of [GOOD[1], GOOD[2]]) {
    assert.equal((await call(srv, s, 'POST', '/v1/staff/password', { current_password: current, new_password: pw })).status, 204);
    current = pw;
  }
  const reuse = await call(srv, s, 'POST', '/v1/staff/password', { current_password: current, new_password: 'Đạt7!àxQ' });
  assert.match(reuse.json.errors[0].message, /must differ from your last 10 passwords/);
  assert.ok(audit('binh.rules', 'staff.password_change').includes('denied {"reason": "reused"}'));
});

test('TOTP: enrolment gives the secret, an otpauth URI and an SVG QR code; a wrong code is refused; a used code cannot be replayed', async () => {
  const temp = addStaff('cuong.totp');
  let s = session(await signin(srv, { login: 'cuong.totp', password: temp }));
  s = renewed(await call(srv, s, 'POST', '/v1/staff/password', { current_password: temp, new_password: GOOD[0] }), s);
  const e = await call(srv, s, 'POST', '/v1/staff/totp/enrol');
  assert.equal(e.status, 201, e.body);
  assert.match(e.json.secret, /^[A-Z2-7]{32}$/);
  assert.equal(e.json.otpauth_uri, `otpauth://totp/alertd:cuong.totp?secret=${e.json.secret}&issuer=alertd&algorithm=SHA1&digits=6&period=30`);
  assert.match(e.json.qr_svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d+) \1"/);
  assert.match(e.json.qr_svg, /<\/svg>$/);
  // stored sealed under the KEK, never in the clear
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_totp WHERE position(convert_to('${e.json.secret}', 'UTF8') IN secret_ct) > 0`), '0');
  const bad = await call(srv, s, 'POST', '/v1/staff/totp/confirm', { code: totp(e.json.secret, 5) });
  h.assertProblem(assert, bad, 422, 'validation_failed');
  assert.equal(bad.json.errors[0].field, 'code');
  const code = totp(e.json.secret);
  const ok = await call(srv, s, 'POST', '/v1/staff/totp/confirm', { code });
  s = renewed(ok, s);
  assert.equal(ok.json.recovery_codes.length, 10);
  for (const c of ok.json.recovery_codes) assert.match(c, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  assert.equal(new Set(ok.json.recovery_codes).size, 10);
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_recovery_codes r JOIN staff s ON s.id = r.staff_id WHERE s.username = 'cuong.totp'`), '10');
  const me = await call(srv, s, 'GET', '/v1/staff/me');
  assert.equal(me.status, 200, me.body);
  assert.equal(me.json.totp_enrolled, true);
  assert.equal(me.json.next, null);
  h.assertProblem(assert, await call(srv, s, 'POST', '/v1/staff/totp/enrol'), 409, 'totp_already_enrolled');
  // sign-in now needs the code; the confirming code is spent already
  h.assertProblem(assert, await signin(srv, { login: 'cuong.totp', password: GOOD[0] }), 401, 'unauthorized');
  h.assertProblem(assert, await signin(srv, { login: 'cuong.totp', password: GOOD[0], totp_code: code }), 401, 'unauthorized');
  const next = totp(e.json.secret, 1); // the next step, inside the window
  session(await signin(srv, { login: 'cuong.totp', password: GOOD[0], totp_code: next }));
  h.assertProblem(assert, await signin(srv, { login: 'cuong.totp', password: GOOD[0], totp_code: next }), 401, 'unauthorized');
  const reasons = audit('cuong.totp', 'staff.signin').join('\n');
  assert.match(reasons, /denied \{"locked": false, "reason": "code_missing"\}/);
  assert.match(reasons, /denied \{"locked": false, "reason": "replayed_code"\}/);
  assert.match(reasons, /ok \{"factor": "totp"\}/);
  assert.ok(audit('cuong.totp', 'staff.totp_confirm').includes('denied {"reason": "wrong_code"}'));
  assert.ok(audit('cuong.totp', 'staff.totp_confirm').includes('ok {"recovery_codes": 10}'));
  h.psql(db, "UPDATE staff SET failed_logins = 0 WHERE username = 'cuong.totp'");
});

test('a recovery code signs in once instead of a TOTP code', async () => {
  const a = await enrolled('dung.recovery');
  const code = a.recovery[3];
  // 16 characters of a-z 2-9 without look-alikes (~79 bits), in groups of four
  for (const c of a.recovery) assert.match(c, /^[abcdefghjkmnpqrstuvwxyz23456789]{4}(-[abcdefghjkmnpqrstuvwxyz23456789]{4}){3}$/);
  // stored as an HMAC under a key derived from the KEK, not as a plain SHA-256 a dump could be cracked against
  const stored = h.psql(db, "SELECT encode(code_hash, 'hex') FROM staff_recovery_codes r JOIN staff s ON s.id = r.staff_id WHERE s.username = 'dung.recovery'").split('\n');
  assert.equal(stored.length, 10);
  for (const c of a.recovery) {
    const plain = crypto.createHash('sha256').update(c.replace(/-/g, '')).digest('hex');
    assert.ok(!stored.includes(plain), 'a recovery code is stored as its SHA-256');
  }
  session(await signin(srv, { login: 'dung.recovery', password: GOOD[0], recovery_code: code.toUpperCase() }));
  h.assertProblem(assert, await signin(srv, { login: 'dung.recovery', password: GOOD[0], recovery_code: code }), 401, 'unauthorized');
  session(await signin(srv, { login: 'dung.recovery', password: GOOD[0], recovery_code: a.recovery[4] }));
  assert.equal(h.psql(db, `SELECT count(*) FROM staff_recovery_codes r JOIN staff s ON s.id = r.staff_id WHERE s.username = 'dung.recovery' AND used_at IS NOT NULL`), '2');
  assert.match(audit('dung.recovery', 'staff.signin').join('\n'), /ok \{"factor": "recovery_code"\}/);
});

test('5 failures lock the account (the right password too is refused), and it unlocks after auth.lockout_seconds', async () => {
  const a = await enrolled('em.lock');
  for (let i = 0; i < 5; i++) h.assertProblem(assert, await signin(srv, { login: 'em.lock', password: 'Wrong-pass-1' }), 401, 'unauthorized');
  const locked = await signin(srv, { login: 'em.lock', password: GOOD[0], totp_code: totp(a.secret, 1) });
  h.assertProblem(assert, locked, 401, 'unauthorized');
  const rows = audit('em.lock', 'staff.signin');
  assert.equal(rows.filter((x) => x === 'denied {"locked": false, "reason": "wrong_password"}').length, 4);
  assert.equal(rows.filter((x) => x === 'denied {"locked": true, "reason": "wrong_password"}').length, 1);
  assert.ok(rows.includes('denied {"locked": false, "reason": "locked"}'));
  await h.sleep(2200);
  session(await signin(srv, { login: 'em.lock', password: GOOD[0], totp_code: totp(a.secret, 1) }));
});

test('an unknown login gets the same answer as a wrong password, after similar work', async () => {
  await enrolled('giang.same');
  const wrong = await signin(srv, { login: 'giang.same', password: 'Wrong-pass-1' });
  const unknown = await signin(srv, { login: 'nobody.at.all', password: 'Wrong-pass-1' });
  const badShape = await signin(srv, { login: 'Not A Login', password: 'Wrong-pass-1' });
  for (const r of [unknown, badShape]) {
    assert.equal(r.status, wrong.status);
    assert.deepEqual({ ...r.json, request_id: undefined, instance: undefined }, { ...wrong.json, request_id: undefined, instance: undefined });
    assert.equal(r.headers['set-cookie'], undefined);
  }
  const time = async (login) => {
    const t = process.hrtime.bigint();
    await signin(srv, { login, password: 'Wrong-pass-1' });
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  let known = 0, missing = 0;
  for (let i = 0; i < 3; i++) {
    known += await time('giang.same');
    missing += await time('nobody.at.all');
  }
  // both verify one Argon2id hash (~80 ms): loosely the same, an unknown login is never the fast one
  assert.ok(missing > known / 3 && missing < known * 3, `known ${known} ms, unknown ${missing} ms`);
  assert.ok(audit('nobody.at.all', 'staff.signin').includes('denied {"reason": "unknown_login"}'));
  h.psql(db, "UPDATE staff SET failed_logins = 0 WHERE username = 'giang.same'");
});

test('an expired password allows nothing but a change at the next sign-in', async () => {
  const a = await enrolled('hoa.expired');
  h.psql(db, "UPDATE staff SET password_changed_at = now() - interval '43 days' WHERE username = 'hoa.expired'");
  const r = await signin(srv, { login: 'hoa.expired', password: GOOD[0], totp_code: totp(a.secret, 1) });
  let s = session(r);
  assert.equal(r.json.password_expired, true);
  assert.equal(r.json.next, 'change_password');
  const refused = await call(srv, s, 'GET', '/v1/staff/me');
  h.assertProblem(assert, refused, 403, 'password_change_required');
  assert.match(refused.json.detail, /expired/);
  s = renewed(await call(srv, s, 'POST', '/v1/staff/password', { current_password: GOOD[0], new_password: GOOD[1] }), s);
  assert.equal((await call(srv, s, 'GET', '/v1/staff/me')).status, 200);
});

test('CSRF: a state-changing request without the token or with a wrong one is 403 csrf_failed', async () => {
  const a = await enrolled('khanh.csrf');
  const s = a.session;
  h.assertProblem(assert, await call(srv, s, 'DELETE', '/v1/staff/session', undefined, { csrf: null }), 403, 'csrf_failed');
  h.assertProblem(assert, await call(srv, s, 'DELETE', '/v1/staff/session', undefined, { csrf: 'x'.repeat(43) }), 403, 'csrf_failed');
  h.assertProblem(assert, await call(srv, s, 'POST', '/v1/staff/password', { current_password: GOOD[0], new_password: GOOD[1] }, { csrf: '' }), 403, 'csrf_failed');
  // another session's token is wrong too
  const other = session(await signin(srv, { login: 'khanh.csrf', password: GOOD[0], totp_code: totp(a.secret, 1) }));
  h.assertProblem(assert, await call(srv, s, 'DELETE', '/v1/staff/session', undefined, { csrf: other.csrf }), 403, 'csrf_failed');
  // GET needs none; the session is still open
  assert.equal((await call(srv, s, 'GET', '/v1/staff/me', undefined, { csrf: null })).status, 200);
});

test('the staff routes send CSP, Referrer-Policy, X-Frame-Options and no-store, on errors too', async () => {
  const a = await enrolled('lan.headers');
  for (const r of [await call(srv, a.session, 'GET', '/v1/staff/me'), await call(srv, null, 'GET', '/v1/staff/me'), await signin(srv, { login: 'x' })]) {
    assert.equal(r.headers['content-security-policy'], CSP);
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['cache-control'], 'no-store');
  }
  const none = await call(srv, null, 'GET', '/v1/staff/me');
  h.assertProblem(assert, none, 401, 'unauthorized');
  assert.match(none.headers['www-authenticate'], /__Host-alertd_session/);
  // other routes do not get the staff headers
  assert.equal((await h.request(srv.url, 'GET', '/healthz')).headers['content-security-policy'], undefined);
});

test('sign-out ends the session on the server: the old cookie is refused', async () => {
  const a = await enrolled('minh.logout');
  const r = await call(srv, a.session, 'DELETE', '/v1/staff/session');
  assert.equal(r.status, 204);
  assert.match(r.headers['set-cookie'][0], /^__Host-alertd_session=; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=0$/);
  h.assertProblem(assert, await call(srv, a.session, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  assert.equal(h.psql(db, "SELECT ended_reason FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id WHERE s.username = 'minh.logout' AND revoked_at IS NOT NULL AND ended_reason <> 'renewed'"), 'logout');
  assert.deepEqual(audit('minh.logout', 'staff.signout'), ['ok {}']);
});

test('deactivation kills the sessions at once; a changed password ends the other sessions', async () => {
  const a = await enrolled('ngoc.deact');
  const other = session(await signin(srv, { login: 'ngoc.deact', password: GOOD[0], totp_code: totp(a.secret, 1) }));
  assert.equal((await call(srv, a.session, 'POST', '/v1/staff/password', { current_password: GOOD[0], new_password: GOOD[1] })).status, 204);
  h.assertProblem(assert, await call(srv, other, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  assert.equal((await call(srv, a.session, 'GET', '/v1/staff/me')).status, 200);
  assert.equal(cli(['staff', 'deactivate', 'ngoc.deact']).code, 0);
  h.assertProblem(assert, await call(srv, a.session, 'GET', '/v1/staff/me'), 401, 'unauthorized');
});

test('idle timeout, absolute lifetime and the per-address throttle, short by configuration', async () => {
  const short = await h.startServer({
    db,
    migrateFirst: false,
    config: h.ingestConfig(db, kek, { auth: { session_idle_seconds: 2, session_lifetime_seconds: 5, signin_per_ip_per_minute: 6 } }),
  });
  try {
    const a = await enrolled('oanh.timeout', GOOD[0], short); // 1 sign-in, 1 password change
    // idle: unused for more than 2 s
    await h.sleep(2300);
    h.assertProblem(assert, await call(short, a.session, 'GET', '/v1/staff/me'), 401, 'unauthorized');
    // absolute: used every second, still over after 5 s
    const s = session(await signin(short, { login: 'oanh.timeout', password: GOOD[0], totp_code: totp(a.secret, 1) }));
    const started = Date.now();
    while (Date.now() - started < 4000) {
      assert.equal((await call(short, s, 'GET', '/v1/staff/me')).status, 200);
      await h.sleep(1000);
    }
    await h.sleep(Math.max(0, 5300 - (Date.now() - started)));
    h.assertProblem(assert, await call(short, s, 'GET', '/v1/staff/me'), 401, 'unauthorized');
    // throttle: 6 attempts a minute from one address, counted before any password work
    let limited;
    for (let i = 0; i < 6 && !limited; i++) {
      const r = await signin(short, { login: 'nobody.x', password: 'Wrong-pass-1' });
      if (r.status === 429) limited = r;
    }
    assert.ok(limited, 'no 429 from the sign-in throttle');
    h.assertProblem(assert, limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  } finally {
    await short.stop();
  }
});

test('wrong current passwords at the change count toward the lockout: at the limit the account locks and every session ends', async () => {
  const a = await enrolled('phuc.guess');
  const other = session(await signin(srv, { login: 'phuc.guess', password: GOOD[0], totp_code: totp(a.secret, 1) }));
  for (let i = 0; i < 4; i++) {
    const r = await call(srv, a.session, 'POST', '/v1/staff/password', { current_password: `Wrong-pass-${i}`, new_password: GOOD[2] });
    h.assertProblem(assert, r, 422, 'validation_failed');
  }
  // the 5th locks the account and ends its sessions, this one included
  h.assertProblem(assert, await call(srv, a.session, 'POST', '/v1/staff/password', { current_password: 'Wrong-pass-4', new_password: GOOD[2] }), 401, 'unauthorized');
  h.assertProblem(assert, await call(srv, a.session, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  h.assertProblem(assert, await call(srv, other, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  h.assertProblem(assert, await signin(srv, { login: 'phuc.guess', password: GOOD[0], totp_code: totp(a.secret, 2) }), 401, 'unauthorized');
  const rows = audit('phuc.guess', 'staff.password_change');
  assert.equal(rows.filter((x) => x === 'denied {"locked": false, "reason": "wrong_current"}').length, 4, rows.join('\n'));
  assert.equal(rows.filter((x) => x === 'denied {"locked": true, "reason": "wrong_current"}').length, 1, rows.join('\n'));
  assert.equal(h.psql(db, "SELECT count(*) FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id WHERE s.username = 'phuc.guess' AND revoked_at IS NULL"), '0');
  await h.sleep(2200);
  const back = await signin(srv, { login: 'phuc.guess', password: GOOD[0], recovery_code: a.recovery[0] });
  session(back);
});

test('an unknown login that is not a valid login is audited as "(malformed)", never verbatim', async () => {
  h.assertProblem(assert, await signin(srv, { login: 'Tr3asury!Secret9', password: 'Wrong-pass-1' }), 401, 'unauthorized');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE target = 'Tr3asury!Secret9' OR actor_id = 'Tr3asury!Secret9' OR details::text LIKE '%Secret9%'"), '0');
  assert.ok(audit('(malformed)', 'staff.signin').includes('denied {"reason": "unknown_login"}'));
  h.assertProblem(assert, await signin(srv, { login: 'valid.but.unknown', password: 'Wrong-pass-1' }), 401, 'unauthorized');
  assert.ok(audit('valid.but.unknown', 'staff.signin').includes('denied {"reason": "unknown_login"}'));
});

test('without a KEK a TOTP sign-in is a 500 saying so, and is not counted as a wrong code', async () => {
  const a = await enrolled('quang.nokek');
  const config = h.ingestConfig(db, kek);
  delete config.secrets;
  const nokek = await h.startServer({ db, migrateFirst: false, config });
  try {
    for (let i = 0; i < 6; i++) {
      const r = await signin(nokek, { login: 'quang.nokek', password: GOOD[0], totp_code: totp(a.secret, 1) });
      h.assertProblem(assert, r, 500, 'internal_error');
      assert.match(r.json.detail, /secrets\.key_file/);
    }
  } finally {
    await nokek.stop();
  }
  assert.equal(h.psql(db, "SELECT failed_logins || ' ' || (locked_until IS NULL) FROM staff WHERE username = 'quang.nokek'"), '0 true');
  session(await signin(srv, { login: 'quang.nokek', password: GOOD[0], totp_code: totp(a.secret, 1) }));
});

test('a temporary password expires after auth.temporary_password_hours: the same 401, audited as temporary_expired; staff reset issues a fresh one', async () => {
  const temp = addStaff('son.tempexp');
  const hours = Number(h.psql(db, "SELECT round(extract(epoch FROM temporary_until - now()) / 3600) FROM staff WHERE username = 'son.tempexp'"));
  assert.equal(hours, 72);
  h.psql(db, "UPDATE staff SET temporary_until = now() - interval '1 second' WHERE username = 'son.tempexp'");
  const r = await signin(srv, { login: 'son.tempexp', password: temp });
  const wrong = await signin(srv, { login: 'son.tempexp', password: 'Wrong-pass-1' });
  h.assertProblem(assert, r, 401, 'unauthorized');
  assert.equal(r.json.detail, wrong.json.detail);
  assert.equal(r.headers['set-cookie'], undefined);
  assert.ok(audit('son.tempexp', 'staff.signin').includes('denied {"locked": false, "reason": "temporary_expired"}'));
  const reset = cli(['staff', 'reset', 'son.tempexp']);
  assert.equal(reset.code, 0, reset.stderr);
  const fresh = reset.stdout.match(/^temporary password: (\S+)$/m)[1];
  const s = session(await signin(srv, { login: 'son.tempexp', password: fresh }));
  assert.equal(s.json.next, 'change_password');
  renewed(await call(srv, s, 'POST', '/v1/staff/password', { current_password: fresh, new_password: GOOD[0] }), s);
  assert.equal(h.psql(db, "SELECT temporary_until IS NULL FROM staff WHERE username = 'son.tempexp'"), 't');
});

test('the session is renewed when it gains access: after the change of a temporary password and after TOTP confirm the old cookie and CSRF token are refused, the new ones work', async () => {
  const temp = addStaff('tam.renew');
  const first = session(await signin(srv, { login: 'tam.renew', password: temp }));
  const r = await call(srv, first, 'POST', '/v1/staff/password', { current_password: temp, new_password: GOOD[0] });
  const second = renewed(r, first);
  assert.match(r.headers['set-cookie'][0], /^__Host-alertd_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  assert.equal(r.json.next, 'enrol_totp');
  h.assertProblem(assert, await call(srv, first, 'POST', '/v1/staff/totp/enrol'), 401, 'unauthorized');
  // the new cookie with the old CSRF token is refused too
  h.assertProblem(assert, await call(srv, { cookie: second.cookie, csrf: first.csrf }, 'POST', '/v1/staff/totp/enrol'), 403, 'csrf_failed');
  const e = await call(srv, second, 'POST', '/v1/staff/totp/enrol');
  assert.equal(e.status, 201, e.body);
  const c = await call(srv, second, 'POST', '/v1/staff/totp/confirm', { code: totp(e.json.secret) });
  const third = renewed(c, second);
  assert.equal(c.json.recovery_codes.length, 10);
  h.assertProblem(assert, await call(srv, second, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  const me = await call(srv, third, 'GET', '/v1/staff/me');
  assert.equal(me.status, 200, me.body);
  assert.equal(me.json.next, null);
  assert.equal(h.psql(db, "SELECT string_agg(coalesce(ended_reason, 'open'), ' ' ORDER BY ss.created_at) FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id WHERE s.username = 'tam.renew'"), 'renewed renewed open');
  // a later change of a current password keeps the session (204)
  assert.equal((await call(srv, third, 'POST', '/v1/staff/password', { current_password: GOOD[0], new_password: GOOD[1] })).status, 204);
  assert.equal((await call(srv, third, 'GET', '/v1/staff/me')).status, 200);
});

test('while the account is locked (by sign-in failures) the password change is refused, even with the right password, and ends its sessions', async () => {
  const a = await enrolled('uyen.locked');
  for (let i = 0; i < 5; i++) h.assertProblem(assert, await signin(srv, { login: 'uyen.locked', password: 'Wrong-pass-1' }), 401, 'unauthorized');
  // the open session goes on for reading...
  assert.equal((await call(srv, a.session, 'GET', '/v1/staff/me')).status, 200);
  // ...but cannot change the password while locked
  h.assertProblem(assert, await call(srv, a.session, 'POST', '/v1/staff/password', { current_password: GOOD[0], new_password: GOOD[1] }), 401, 'unauthorized');
  h.assertProblem(assert, await call(srv, a.session, 'GET', '/v1/staff/me'), 401, 'unauthorized');
  assert.ok(audit('uyen.locked', 'staff.password_change').includes('denied {"reason": "locked"}'));
  await h.sleep(2200);
  session(await signin(srv, { login: 'uyen.locked', password: GOOD[0], totp_code: totp(a.secret, 1) }));
});
