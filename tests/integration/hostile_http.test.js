'use strict';
// hostile_http.test.js - requests a careless client or an attacker sends, as
// exact bytes over raw TCP (node `net`), so that nothing normalises them on
// the way: invalid UTF-8 and encoded NULs in paths and queries, hundreds of
// query parameters, smuggling-shaped framing (two Content-Length, missing or
// doubled Host, unknown Transfer-Encoding, bad chunks, short bodies), JSON
// member names long enough to be cut, and the answers libmicrohttpd still
// gives itself. Each case checks the status, that alertd's own answers are
// problem+json with their code, that the answer is prompt (not the 30 s
// connection timeout), and that nothing happened: no alert read, no device
// revoked, no activation code spent, no junk stored in the preferences.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const h = require('./harness');

const PROMPT_MS = 2000;
let db, kek, srv, adminKey, user, alertId, otherDeviceId;

function roster(dbname) {
  h.psql(dbname, `INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
    INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011');
    INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('holder1', '1000001', 'Trần Thị Bình'), ('acct1', '1000001', 'Phạm Thu Hà');
    INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login = 'holder1';
    INSERT INTO user_roles SELECT id, 'accountant' FROM users WHERE dvctt_login = 'acct1';`);
}

let pushSeq = 0;
function device(overrides = {}) {
  pushSeq += 1;
  return { platform: 'android', push_token: `fcm-hostile-${process.pid}-${pushSeq}`, model: 'Pixel 8', locale: 'vi-VN', ...overrides };
}

async function issue(login) {
  const r = await h.request(srv.url, 'POST', `/v1/admin/users/${login}/activation-code`, { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(r.status, 201, r.body);
  return r.json.activation_code;
}

function activate(body) {
  return h.request(srv.url, 'POST', '/v1/app/activate', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function unusedCodes(login) {
  return h.psql(db, `SELECT count(*) FROM activation_codes c JOIN users u ON u.id = c.user_id
    WHERE u.dvctt_login = '${login}' AND c.used_at IS NULL AND c.voided_at IS NULL AND c.failed_attempts = 0`);
}

/*
 * Send text (latin1: each char one byte) on a new connection; with halfClose
 * the sending side is shut right after. Resolves when the server closes, or
 * after waitMs: { status, headers, body, json, ms (until the first response
 * was complete, or closed), closed, statusLines (how many status lines came) }.
 */
function raw(text, { halfClose = false, waitMs = 5000, port = null } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let got = Buffer.alloc(0);
    let completeAt = null;
    const s = net.connect(port || srv.port, '127.0.0.1', () => {
      s.write(Buffer.from(text, 'latin1'));
      if (halfClose) s.end();
    });
    const finish = (closed) => {
      clearTimeout(timer);
      s.destroy();
      const all = got.toString('latin1');
      const out = { closed, ms: completeAt ?? Date.now() - t0, text: all, statusLines: (all.match(/^HTTP\/1\.[01] \d{3} /gm) || []).length };
      const end = all.indexOf('\r\n\r\n');
      if (end >= 0) {
        const lines = all.slice(0, end).split('\r\n');
        out.status = Number(lines[0].split(' ')[1]);
        out.headers = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          out.headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        const len = Number(out.headers['content-length'] || 0);
        out.body = Buffer.from(all.slice(end + 4), 'latin1').subarray(0, len).toString('utf8');
        try {
          out.json = JSON.parse(out.body);
        } catch (_) {
          out.json = undefined;
        }
      }
      resolve(out);
    };
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const all = got.toString('latin1');
      const end = all.indexOf('\r\n\r\n');
      if (completeAt === null && end >= 0) {
        const m = /\r\ncontent-length: *(\d+)/i.exec(all.slice(0, end));
        if (got.length >= end + 4 + Number(m ? m[1] : 0)) completeAt = Date.now() - t0;
      }
    });
    s.on('close', () => finish(true));
    s.on('error', () => {});
    const timer = setTimeout(() => finish(false), waitMs);
  });
}

// alertd's own answer: the status, problem+json with the code, within PROMPT_MS.
function assertRawProblem(r, status, code, what) {
  assert.equal(r.status, status, `${what}: ${r.text.slice(0, 400)}`);
  assert.match(r.headers['content-type'] || '', /^application\/problem\+json/, what);
  assert.equal(r.json && r.json.code, code, `${what}: ${r.body}`);
  assert.equal(r.json.status, status, what);
  assert.equal(r.statusLines, 1, `${what}: one response`);
  assert.ok(r.ms < PROMPT_MS, `${what}: answered after ${r.ms} ms`);
}

const get = (target, headers = '') => `GET ${target} HTTP/1.1\r\nHost: alertd\r\n${headers}Connection: close\r\n\r\n`;
const appAuth = () => `Authorization: Bearer ${user.access_token}\r\n`;
const adminAuth = () => `Authorization: Bearer ${adminKey}\r\n`;

async function healthy() {
  const r = await h.request(srv.url, 'GET', '/healthz');
  assert.equal(r.status, 200, 'the server still serves on a new connection');
}

test.before(async () => {
  db = h.createDatabase('hostile');
  kek = h.createKek();
  h.migrate(db);
  roster(db);
  const k = h.runAlertd(['admin-key', 'add', 'hostile-it', '--office', '0001', '--scope', 'roster,activation,unrouted', '--config', h.writeConfig(h.ingestConfig(db, kek))]);
  assert.equal(k.code, 0, k.stderr);
  adminKey = k.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { app: { activation_per_login_per_minute: 1000, activation_per_ip_per_minute: 1000 } }) });
  const other = await activate({ login: 'holder1', activation_code: await issue('holder1'), device: device() });
  assert.equal(other.status, 201, other.body);
  otherDeviceId = other.json.device_id;
  const me = await activate({ login: 'holder1', activation_code: await issue('holder1'), device: device() });
  assert.equal(me.status, 201, me.body);
  user = me.json;
  const uid = h.psql(db, "SELECT id FROM users WHERE dvctt_login = 'holder1'");
  alertId = Number(h.psql(db, `INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
    VALUES (${uid}, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', 'Một') RETURNING id`));
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('invalid UTF-8 in a path parameter is 404, never a 500', async () => {
  const cases = [
    ['POST', '/v1/admin/users/%FF/activation-code', adminAuth()],
    ['POST', '/v1/admin/users/a%C3/activation-code', adminAuth()], // cut character
    ['POST', '/v1/admin/users/%C0%AF/activation-code', adminAuth()], // overlong '/'
    ['POST', '/v1/admin/users/%ED%A0%80/activation-code', adminAuth()], // surrogate
    ['POST', '/v1/admin/users/a%01b/activation-code', adminAuth()], // control character
    ['GET', '/v1/app/alerts/%FF', appAuth()],
    ['DELETE', '/v1/app/devices/%E2%82', appAuth()],
    ['POST', '/v1/ingest/%FF/events', ''],
  ];
  for (const [method, target, auth] of cases) {
    const r = await raw(`${method} ${target} HTTP/1.1\r\nHost: alertd\r\n${auth}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    assertRawProblem(r, 404, 'not_found', `${method} ${target}`);
  }
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'activation.issue' AND outcome <> 'ok'"), '0',
    'no activation-code lookup ran for a login that cannot exist');
});

test('a percent-encoded NUL anywhere in the path or query is 400 and does nothing', async () => {
  const cases = [
    ['GET', '/healthz%00'],
    ['GET', `/v1/app/alerts/${alertId}%00junk`],
    ['POST', `/v1/app/alerts/${alertId}%00x/read`],
    ['DELETE', `/v1/app/devices/${otherDeviceId}%00x`],
    ['GET', '/v1/app/alerts?limit=1%00'],
    ['GET', '/v1/app/alerts?unused=%00'],
    ['GET', '/v1/app/alerts?%00=1'],
  ];
  for (const [method, target] of cases) {
    const r = await raw(`${method} ${target} HTTP/1.1\r\nHost: alertd\r\n${appAuth()}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    assertRawProblem(r, 400, 'bad_request', `${method} ${target}`);
  }
  assert.equal(h.psql(db, `SELECT read_at IS NULL FROM alerts WHERE id = ${alertId}`), 't', 'the alert was not marked read');
  assert.equal(h.psql(db, `SELECT state FROM devices WHERE id = ${otherDeviceId}`), 'active', 'the device was not revoked');
  // %2500 is the text "%00", not a NUL: an ordinary 404
  assertRawProblem(await raw(get('/healthz%2500')), 404, 'not_found', '/healthz%2500');
});

test('hundreds of query parameters get a prompt 414 problem, and the server stays healthy', async () => {
  const many = Array.from({ length: 600 }, (_, i) => `p${i}=1`).join('&');
  for (const target of [`/healthz?${many}`, `/v1/app/alerts?limit=5&${many}`]) {
    const r = await raw(get(target, appAuth()));
    assertRawProblem(r, 414, 'uri_too_long', `${target.slice(0, 30)}… (600 parameters)`);
  }
  // short, but more than 32 arguments (empty ones count: libmicrohttpd stores each)
  assertRawProblem(await raw(get(`/healthz?${'a&'.repeat(40)}`)), 414, 'uri_too_long', '40 short parameters');
  assertRawProblem(await raw(get(`/healthz?${'&'.repeat(40)}`)), 414, 'uri_too_long', '40 empty parameters');
  // a request target far beyond the cap but within libmicrohttpd's buffer: our 414 too
  assertRawProblem(await raw(get(`/healthz?x=${'a'.repeat(6000)}`)), 414, 'uri_too_long', '6 kB query');
  // 32 parameters are fine
  const ok = await raw(get(`/v1/app/alerts?limit=5&${Array.from({ length: 31 }, (_, i) => `p${i}=1`).join('&')}`, appAuth()));
  assert.equal(ok.status, 200, ok.text.slice(0, 300));
  await healthy();
});

test('framing that could smuggle a request is refused with 400 and the connection closed', async () => {
  const body = '{"lang":"en"}';
  const put = (headers) => `PUT /v1/app/preferences HTTP/1.1\r\n${headers}${appAuth()}Content-Type: application/json\r\n\r\n${body}`;
  const cases = [
    ['two different Content-Length', put(`Host: alertd\r\nContent-Length: ${body.length}\r\nContent-Length: 0\r\n`)],
    ['the same Content-Length twice', put(`Host: alertd\r\nContent-Length: ${body.length}\r\nContent-Length: ${body.length}\r\n`)],
    ['Content-Length and Transfer-Encoding', put(`Host: alertd\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`)],
    ['space before the colon', put(`Host: alertd\r\nContent-Length : ${body.length}\r\n`)],
    ['HTTP/1.1 without Host', put(`Content-Length: ${body.length}\r\n`)],
    ['two Host headers', put(`Host: alertd\r\nHost: other\r\nContent-Length: ${body.length}\r\n`)],
    // obs-fold: libmicrohttpd joins the continuation to the name; a proxy that unfolds sees another framing
    ['Transfer-Encoding folded onto the next line', put(`Host: alertd\r\nContent-Length: ${body.length}\r\nTransfer-Encoding:\r\n chunked\r\n`)],
    ['Content-Length folded onto the next line', put(`Host: alertd\r\nContent-Length:\r\n ${body.length}\r\n`)],
    ['Host folded onto the next line', put(`Host:\r\n alertd\r\nContent-Length: ${body.length}\r\n`)],
    ['HTTP/1.0 with Transfer-Encoding', `PUT /v1/app/preferences HTTP/1.0\r\n${appAuth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`],
  ];
  for (const [what, text] of cases) {
    const r = await raw(text);
    assertRawProblem(r, 400, 'bad_request', what);
    assert.equal(r.headers.connection, 'close', what);
    assert.ok(r.closed, `${what}: connection closed`);
  }
  assert.equal(h.psql(db, `SELECT lang FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.dvctt_login = 'holder1'`) || 'vi', 'vi',
    'no refused request changed the preferences');
  const get2 = await raw('GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  assertRawProblem(get2, 400, 'bad_request', 'GET with two Host headers');
  // HTTP/1.0 needs no Host
  const old = await raw('GET /healthz HTTP/1.0\r\n\r\n');
  assert.equal(old.status, 200, old.text);
});

test('Transfer-Encoding other than chunked gets a prompt 501; bad chunks and short bodies end at once', async () => {
  for (const te of ['gzip', 'chunked, gzip', 'identity', 'gzip, chunked']) {
    const r = await raw(`PUT /v1/app/preferences HTTP/1.1\r\nHost: alertd\r\n${appAuth()}Content-Type: application/json\r\nTransfer-Encoding: ${te}\r\n\r\n{"lang":"en"}`);
    assertRawProblem(r, 501, 'unsupported_transfer_encoding', `Transfer-Encoding: ${te}`);
    assert.ok(r.closed, `${te}: connection closed`);
  }
  const two = await raw(`PUT /v1/app/preferences HTTP/1.1\r\nHost: alertd\r\n${appAuth()}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n`);
  assertRawProblem(two, 501, 'unsupported_transfer_encoding', 'two Transfer-Encoding headers');
  // bad chunk sizes: libmicrohttpd answers itself (HTML), at once, and closes
  for (const chunk of ['zz\r\nabc\r\n0\r\n\r\n', '-1\r\nabc\r\n0\r\n\r\n', 'fffffffffffffffffffff\r\nabc\r\n', '3\r\nabcXY0\r\n\r\n']) {
    const r = await raw(`PUT /v1/app/preferences HTTP/1.1\r\nHost: alertd\r\n${appAuth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
    assert.ok([400, 413].includes(r.status), `chunk ${JSON.stringify(chunk)}: ${r.text.slice(0, 200)}`);
    assert.ok(r.closed && r.ms < PROMPT_MS, `chunk ${JSON.stringify(chunk)}: closed after ${r.ms} ms`);
  }
  // A body shorter than its Content-Length, then the client half-closes: nothing is done, and the
  // connection ends. libmicrohttpd 0.9.75 usually sees the FIN at once, but when it arrives with the
  // data it may miss it and hold the connection until http.connection_timeout_seconds (seen 3 times
  // in 40 under load): so this case runs on a second server with a 2 s timeout, and the bound is
  // that timeout, not PROMPT_MS (docs/errors.md says so).
  const brief = await h.startServer({ db, config: h.ingestConfig(db, kek, { http: { connection_timeout_seconds: 2 } }) });
  try {
    for (let i = 0; i < 3; i++) {
      const code = await issue('acct1');
      const body = JSON.stringify({ login: 'acct1', activation_code: code, device: device() });
      const short = await raw(`POST /v1/app/activate HTTP/1.1\r\nHost: alertd\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 10}\r\n\r\n${body}`, { halfClose: true, port: brief.port });
      assert.ok(short.closed && short.ms < 4000, `short body: closed after ${short.ms} ms`);
      assert.equal(short.status, undefined, 'no answer to a request whose body never came');
      assert.equal(unusedCodes('acct1'), '1', 'the activation code was not spent');
    }
  } finally {
    await brief.stop();
  }
  await healthy();
});

test('unknown JSON members are refused however long their name, before any side effect', async () => {
  const long = `${'a'.repeat(69)}é`; // the cut in the old fixed buffers fell inside the é
  const longer = `${'b'.repeat(300)}ở`;
  const send = (method, p, body) =>
    h.request(srv.url, method, p, { headers: { authorization: `Bearer ${user.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  for (const name of [long, longer, `${'c'.repeat(62)}é`, `${'d'.repeat(87)}é`]) {
    const r = await send('PUT', '/v1/app/preferences', { [name]: 1 });
    h.assertProblem(assert, r, 422, 'validation_failed');
    assert.equal(r.json.errors.length, 1);
    const field = r.json.errors[0].field;
    assert.ok(name.startsWith(field.replace(/…$/, '')), `field ${field} names the member`);
    assert.ok(Buffer.byteLength(field) <= 128, field);
    const t = await send('PUT', '/v1/app/preferences', { toggles: { [name]: true } });
    h.assertProblem(assert, t, 422, 'validation_failed');
    assert.match(t.json.errors[0].field, /^toggles\./);
    const d = await send('PUT', '/v1/app/device', { [name]: 'x' });
    h.assertProblem(assert, d, 422, 'validation_failed');
  }
  const stored = h.psql(db, "SELECT coalesce((SELECT toggles::text FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.dvctt_login = 'holder1'), '{}')");
  assert.equal(stored, '{}', 'no junk toggles stored');
  // activation: an unknown member, in the device or beside it, refuses the request and leaves the code unspent
  const code = await issue('acct1');
  for (const body of [
    { login: 'acct1', activation_code: code, device: { ...device(), [long]: 1 } },
    { login: 'acct1', activation_code: code, device: device(), [long]: 1 },
    { login: 'acct1', activation_code: code, device: device(), extra: true },
  ]) {
    const r = await activate(body);
    h.assertProblem(assert, r, 422, 'validation_failed');
    assert.equal(unusedCodes('acct1'), '1', 'the code is not spent');
  }
  const ok = await activate({ login: 'acct1', activation_code: code, device: device() });
  assert.equal(ok.status, 201, ok.body);
});

test('every query parameter of every route takes one syntax: plain decimals, true/false, a value', async () => {
  const routes = [
    ['GET', '/v1/app/alerts', 'limit', appAuth(), ''],
    ['GET', '/v1/app/alerts', 'before', appAuth(), ''],
    ['GET', '/v1/admin/events/unrouted', 'limit', adminAuth(), ''],
  ];
  for (const [method, p, name, auth] of routes) {
    for (const v of ['%205', '%2B5', '5%20', '05', '-5', '', '%EF%BC%95' /* fullwidth 5 */, '5.0', '0x5', '%FF']) {
      const r = await raw(`${method} ${p}?${name}=${v} HTTP/1.1\r\nHost: alertd\r\n${auth}Connection: close\r\n\r\n`);
      assertRawProblem(r, 422, 'validation_failed', `${p}?${name}=${v}`);
      assert.equal(r.json.errors[0].field, name);
    }
    const bare = await raw(`${method} ${p}?${name} HTTP/1.1\r\nHost: alertd\r\n${auth}Connection: close\r\n\r\n`);
    assertRawProblem(bare, 422, 'validation_failed', `${p}?${name} without a value`);
    const good = await raw(`${method} ${p}?${name}=5 HTTP/1.1\r\nHost: alertd\r\n${auth}Connection: close\r\n\r\n`);
    assert.equal(good.status, 200, `${p}?${name}=5: ${good.text.slice(0, 300)}`);
  }
  const csv = 'x';
  for (const v of ['%20true', 'TRUE', 'yes', '', '%FF']) {
    const r = await raw(`POST /v1/admin/roster?dry_run=${v} HTTP/1.1\r\nHost: alertd\r\n${adminAuth()}Content-Type: text/csv\r\nContent-Length: ${csv.length}\r\nConnection: close\r\n\r\n${csv}`);
    assertRawProblem(r, 422, 'validation_failed', `roster?dry_run=${v}`);
    assert.equal(r.json.errors[0].field, 'dry_run');
  }
  const bare = await raw(`POST /v1/admin/roster?dry_run HTTP/1.1\r\nHost: alertd\r\n${adminAuth()}Content-Type: text/csv\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`);
  assertRawProblem(bare, 422, 'validation_failed', 'roster?dry_run without a value');
});

test('what libmicrohttpd still answers itself comes at once, closes, and leaves the server healthy', async () => {
  const cases = [
    ['invalid Content-Length', 'POST /healthz HTTP/1.1\r\nHost: alertd\r\nContent-Length: abc\r\n\r\n', 400],
    ['Content-Length beyond 64 bits', 'POST /healthz HTTP/1.1\r\nHost: alertd\r\nContent-Length: 99999999999999999999999\r\n\r\n', 413],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: alertd\r\nno colon here\r\n\r\n', 400],
    ['a request line beyond the connection buffer', `GET /${'a'.repeat(70000)} HTTP/1.1\r\nHost: alertd\r\n\r\n`, 414],
    ['headers beyond the connection buffer', `GET /healthz HTTP/1.1\r\nHost: alertd\r\nX-Big: ${'a'.repeat(70000)}\r\n\r\n`, 431],
    ['thousands of headers', `GET /healthz HTTP/1.1\r\nHost: alertd\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, 431],
    ['HTTP/2.0 on the HTTP/1 port', 'GET /healthz HTTP/2.0\r\nHost: alertd\r\n\r\n', 505],
  ];
  for (const [what, text, status] of cases) {
    const r = await raw(text);
    assert.equal(r.status, status, `${what}: ${r.text.slice(0, 300)}`);
    assert.ok(r.closed && r.ms < PROMPT_MS, `${what}: closed after ${r.ms} ms`);
    await healthy();
  }
});
