'use strict';
// push-mock.selftest.js - checks push-mock.js itself, over the real wire:
// starts it as a child process (free ports, temporary PKI) and talks to it
// with node's HTTP/2 client trusting the test CA, signing OAuth (RS256) and
// APNs (ES256) JWTs the way the dispatcher must.
//   node --test tests/mock/push-mock.selftest.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const http2 = require('node:http2');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const MOCK = path.join(__dirname, 'push-mock.js');
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const DEVICE = 'a1'.repeat(32); // a 64-hex-digit APNs device token
let dir, child, origin, controlPort, ca, sa, apnsCfg, apnsKey, providerToken;

// ---------------------------------------------------------------- helpers

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
function signJwt(header, claims, key, alg = header.alg) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const sig = alg === 'ES256'
    ? crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : crypto.sign('sha256', Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
function oauthAssertion(over = {}, key = sa.private_key) {
  const iat = now();
  return signJwt({ alg: 'RS256', typ: 'JWT', kid: sa.private_key_id },
    { iss: sa.client_email, scope: FCM_SCOPE, aud: sa.token_uri, iat, exp: iat + 3600, ...over }, key);
}
function apnsJwt(iat, key = apnsKey) {
  return signJwt({ alg: 'ES256', kid: apnsCfg.key_id }, { iss: apnsCfg.team_id, iat }, key);
}

function connect(opts = {}) {
  const session = http2.connect(origin, { ca, ...opts });
  session.on('error', () => {});
  return session;
}

// One request; resolves when the stream closes, with status, headers, body
// and, for a reset stream, rstCode.
function h2(session, headers, body) {
  return new Promise((resolve) => {
    const h = Object.fromEntries(Object.entries({ ':method': 'POST', ...headers }).filter(([, v]) => v !== undefined));
    const req = session.request(h);
    let response = null;
    let error = null;
    const chunks = [];
    req.on('response', (h) => { response = h; });
    req.on('data', (c) => chunks.push(c));
    req.on('error', (err) => { error = err; });
    req.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      resolve({ status: response ? response[':status'] : undefined, headers: response, text, json, rstCode: req.rstCode, error });
    });
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

function control(method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: controlPort, method, path: urlPath }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const faults = (rules) => control('POST', '/faults', rules);

async function getAccessToken(session) {
  const r = await h2(session, { ':path': '/token', 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: oauthAssertion() }).toString());
  assert.equal(r.status, 200, r.text);
  return r.json.access_token;
}
const fcmPath = (project = sa.project_id) => `/v1/projects/${project}/messages:send`;
function fcmSend(session, accessToken, message, project) {
  return h2(session, { ':path': fcmPath(project), authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, { message });
}
function apnsSend(session, { token = DEVICE, jwt = providerToken, headers = {}, payload = { aps: { alert: { title: 't', body: 'b' } } } } = {}) {
  return h2(session, {
    ':path': `/3/device/${token}`, authorization: `bearer ${jwt}`, 'apns-topic': apnsCfg.topic,
    'apns-push-type': 'alert', 'apns-priority': '10', ...headers,
  }, payload);
}

// ---------------------------------------------------------------- lifecycle

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'push-mock-'));
  child = spawn(process.execPath, [MOCK, '--pki', dir, '--port', '0', '--control-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`push-mock exited ${code}`)));
  });
  const m = /^push-mock listening (https:\/\/127\.0\.0\.1:\d+) control http:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
  assert.ok(m, line);
  origin = m[1];
  controlPort = Number(m[2]);
  ca = fs.readFileSync(path.join(dir, 'ca.pem'));
  sa = JSON.parse(fs.readFileSync(path.join(dir, 'sa.json'), 'utf8'));
  apnsCfg = JSON.parse(fs.readFileSync(path.join(dir, 'apns.json'), 'utf8'));
  apnsKey = fs.readFileSync(apnsCfg.key_file, 'utf8');
  providerToken = apnsJwt(now() - 5);
});
after(() => {
  if (child) child.kill('SIGTERM');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- PKI

test('PKI: CA-signed server certificate for 127.0.0.1 and localhost, service account and .p8 key', () => {
  const caCert = new crypto.X509Certificate(ca);
  const cert = new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'server.pem')));
  assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
  assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
  assert.match(cert.subjectAltName, /DNS:localhost/);
  assert.equal(sa.type, 'service_account');
  assert.equal(sa.token_uri, `${origin}/token`);
  assert.match(sa.private_key, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(crypto.createPrivateKey(sa.private_key).asymmetricKeyDetails.modulusLength, 2048);
  assert.match(apnsCfg.key_id, /^[A-Z0-9]{10}$/);
  assert.match(apnsCfg.team_id, /^[A-Z0-9]{10}$/);
  assert.match(apnsKey, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(crypto.createPrivateKey(apnsKey).asymmetricKeyDetails.namedCurve, 'prime256v1');
});

test('TLS: certificate valid for the name localhost; HTTP/1.1 is refused at ALPN', async () => {
  const s = connect({ servername: 'localhost' });
  const r = await h2(s, { ':method': 'GET', ':path': '/nope' });
  assert.equal(r.status, 404);
  s.close();
  const err = await new Promise((resolve) => {
    const req = https.request(`${origin}/token`, { ca, method: 'POST' }, () => resolve(null));
    req.on('error', resolve);
    req.end();
  });
  assert.ok(err, 'an HTTP/1.1 request must fail');
});

// ---------------------------------------------------------------- OAuth

test('OAuth: a valid RS256 assertion gets a ya29 access token', async () => {
  const s = connect();
  const r = await h2(s, { ':path': '/token', 'content-type': 'application/x-www-form-urlencoded' },
    `grant_type=${encodeURIComponent('urn:ietf:params:oauth:grant-type:jwt-bearer')}&assertion=${oauthAssertion()}`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.access_token, /^ya29\.[A-Za-z0-9_-]+$/);
  assert.equal(r.json.expires_in, 3599);
  assert.equal(r.json.token_type, 'Bearer');
  s.close();
});

test('OAuth: bad signature, wrong aud, too long a lifetime, missing scope, wrong grant_type', async () => {
  const s = connect();
  const post = (assertion, grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer') =>
    h2(s, { ':path': '/token', 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ grant_type: grant, assertion }).toString());
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  let r = await post(oauthAssertion({}, other));
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
  r = await post(oauthAssertion({ aud: 'https://oauth2.googleapis.com/token' }));
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  assert.match(r.json.error_description, /audience/);
  r = await post(oauthAssertion({ exp: now() + 7200 }));
  assert.equal(r.json.error, 'invalid_grant');
  assert.match(r.json.error_description, /short-lived/);
  r = await post(oauthAssertion({ scope: 'https://www.googleapis.com/auth/userinfo.email' }));
  assert.equal(r.json.error, 'invalid_scope');
  r = await post(oauthAssertion(), 'client_credentials');
  assert.equal(r.json.error, 'unsupported_grant_type');
  await faults({ api: 'oauth', response: 'UNAVAILABLE', times: 1 });
  r = await post(oauthAssertion());
  assert.equal(r.status, 503);
  assert.equal(r.json.error, 'temporarily_unavailable');
  assert.equal((await post(oauthAssertion())).status, 200);
  s.close();
});

// ---------------------------------------------------------------- FCM

test('FCM: success returns the message name', async () => {
  const s = connect();
  const at = await getAccessToken(s);
  const r = await fcmSend(s, at, {
    token: 'fcm-token-1:APA91b', notification: { title: 'Số dư', body: '+1.000.000 VND' },
    data: { alert_id: '42' }, android: { priority: 'high', ttl: '86400s', collapse_key: 'balance' },
  });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.name, new RegExp(`^projects/${sa.project_id}/messages/.+`));
  s.close();
});

test('FCM: authentication, project and payload checks', async () => {
  const s = connect();
  const at = await getAccessToken(s);
  const msg = { token: 'fcm-token-1', data: { a: 'b' } };
  let r = await fcmSend(s, 'ya29.not-issued', msg);
  assert.equal(r.status, 401);
  assert.equal(r.json.error.status, 'UNAUTHENTICATED');
  assert.match(r.json.error.message, /^Request had invalid authentication credentials/);
  r = await fcmSend(s, at, msg, 'someone-else');
  assert.equal(r.status, 403);
  assert.equal(r.json.error.status, 'PERMISSION_DENIED');
  assert.equal(r.json.error.details[0].errorCode, 'SENDER_ID_MISMATCH');
  r = await fcmSend(s, at, { token: 'fcm-token-1', data: { n: 1 } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
  assert.equal(r.json.error.details[0].errorCode, 'INVALID_ARGUMENT');
  r = await fcmSend(s, at, { token: 'fcm-token-1', android: { priority: 'urgent' } });
  assert.equal(r.status, 400);
  r = await fcmSend(s, at, { token: 'fcm-token-1', android: { ttl: '60' } });
  assert.equal(r.status, 400);
  r = await fcmSend(s, at, { token: 'fcm-token-1', data: { big: 'x'.repeat(4096) } });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /too big/);
  r = await fcmSend(s, at, { ...msg, colapse_key: 'typo' });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /Unknown name "colapse_key"/);
  r = await fcmSend(s, at, { token: 'fcm-token-1', data: { from: 'x' } });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /Invalid data payload key: from/);
  r = await fcmSend(s, at, { token: 'fcm-token-1', notification: { title: 5 } });
  assert.equal(r.status, 400);
  r = await fcmSend(s, at, { token: 'fcm-token-1', android: { collapseKey: 'k', priority: 'HIGH', ttl: '3.5s' } });
  assert.equal(r.status, 200, r.text); // proto3 JSON: lowerCamelCase names and enum names are accepted too
  r = await h2(s, { ':path': fcmPath(), authorization: `Bearer ${at}` }, { validate_only: true, message: msg });
  assert.equal(r.json.name, `projects/${sa.project_id}/messages/fake_message_id`);
  // an injected response is not used up by a request that fails authentication
  await faults({ api: 'fcm', response: 'UNREGISTERED', times: 1 });
  assert.equal((await fcmSend(s, 'ya29.bogus', msg)).status, 401);
  assert.equal((await fcmSend(s, at, msg)).status, 404);
  assert.equal((await fcmSend(s, at, msg)).status, 200);
  // expired tokens: the control API expires every issued token
  assert.equal((await control('POST', '/expire-tokens')).status, 200);
  r = await fcmSend(s, at, msg);
  assert.equal(r.status, 401);
  s.close();
});

test('FCM: every injected error has the real v1 error body', async () => {
  const cases = [
    ['UNREGISTERED', 404, 'NOT_FOUND'], ['INVALID_ARGUMENT', 400, 'INVALID_ARGUMENT'],
    ['QUOTA_EXCEEDED', 429, 'RESOURCE_EXHAUSTED'], ['UNAVAILABLE', 503, 'UNAVAILABLE'], ['INTERNAL', 500, 'INTERNAL'],
    ['SENDER_ID_MISMATCH', 403, 'PERMISSION_DENIED'], ['THIRD_PARTY_AUTH_ERROR', 401, 'UNAUTHENTICATED'],
  ];
  const s = connect();
  const at = await getAccessToken(s);
  for (const [code, status, rpc] of cases) {
    await faults([{ api: 'fcm', match: { token: 'victim' }, response: code, times: 1, retry_after: code === 'QUOTA_EXCEEDED' ? 30 : undefined }]);
    const r = await fcmSend(s, at, { token: 'victim', data: { k: 'v' } });
    assert.equal(r.status, status, code);
    assert.equal(r.json.error.code, status);
    assert.equal(r.json.error.status, rpc);
    assert.equal(typeof r.json.error.message, 'string');
    assert.deepEqual(r.json.error.details, [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: code }]);
    if (code === 'QUOTA_EXCEEDED') assert.equal(r.headers['retry-after'], '30');
    if (code === 'UNREGISTERED') assert.equal(r.json.error.message, 'Requested entity was not found.');
    // times: 1 - the next send succeeds
    assert.equal((await fcmSend(s, at, { token: 'victim' })).status, 200);
  }
  // a rule for one token leaves the others alone
  await faults({ api: 'fcm', match: { token: 'gone' }, response: 'UNREGISTERED' });
  assert.equal((await fcmSend(s, at, { token: 'other' })).status, 200);
  assert.equal((await fcmSend(s, at, { token: 'gone' })).status, 404);
  assert.equal((await fcmSend(s, at, { token: 'gone' })).status, 404);
  await control('DELETE', '/faults');
  s.close();
});

// ---------------------------------------------------------------- APNs

test('APNs: one stream per new connection, 1000 after the first valid provider token', async () => {
  const s = connect();
  await new Promise((resolve) => s.once('remoteSettings', resolve));
  assert.equal(s.remoteSettings.maxConcurrentStreams, 1);
  const r = await apnsSend(s);
  assert.equal(r.status, 200, r.text);
  assert.equal(s.remoteSettings.maxConcurrentStreams, 1000);
  s.close();
});

test('APNs: success with an ES256 provider token returns an apns-id', async () => {
  const s = connect();
  let r = await apnsSend(s, { headers: { 'apns-collapse-id': 'balance-9523', 'apns-expiration': String(now() + 3600) } });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['apns-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(r.text, '');
  const id = crypto.randomUUID();
  r = await apnsSend(s, { headers: { 'apns-id': id } });
  assert.equal(r.headers['apns-id'], id);
  s.close();
});

test('APNs: provider token and request checks', async () => {
  const s = connect();
  const reason = async (opts, status, want) => {
    const r = await apnsSend(s, opts);
    assert.equal(r.status, status, `${want}: ${r.text}`);
    assert.equal(r.json.reason, want);
    return r;
  };
  await reason({ jwt: apnsJwt(now() - 3700) }, 403, 'ExpiredProviderToken');
  const otherKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  await reason({ jwt: apnsJwt(now() - 5, otherKey) }, 403, 'InvalidProviderToken');
  // a DER-encoded ECDSA signature is not a JWS ES256 signature
  const [h, c] = providerToken.split('.');
  const der = crypto.sign('sha256', Buffer.from(`${h}.${c}`), apnsKey).toString('base64url');
  await reason({ jwt: `${h}.${c}.${der}` }, 403, 'InvalidProviderToken');
  await reason({ headers: { 'apns-topic': undefined } }, 400, 'MissingTopic');
  await reason({ headers: { 'apns-topic': 'com.example.other' } }, 400, 'TopicDisallowed');
  await reason({ headers: { 'apns-push-type': 'voip' } }, 400, 'InvalidPushType');
  await reason({ headers: { 'apns-priority': '7' } }, 400, 'BadPriority');
  await reason({ headers: { 'apns-expiration': 'tomorrow' } }, 400, 'BadExpirationDate');
  await reason({ headers: { 'apns-collapse-id': 'c'.repeat(65) } }, 400, 'BadCollapseId');
  assert.equal((await apnsSend(s, { headers: { 'apns-collapse-id': 'c'.repeat(64) } })).status, 200);
  await reason({ token: 'not-hex-token' }, 400, 'BadDeviceToken');
  await reason({ payload: { aps: { alert: 'x'.repeat(4096) } } }, 413, 'PayloadTooLarge');
  await reason({ payload: '' }, 400, 'PayloadEmpty');
  s.close();
});

test('APNs: injected Unregistered is 410 with a timestamp; other injected reasons', async () => {
  const s = connect();
  await faults({ api: 'apns', match: { token: 'dead'.repeat(16) }, response: 'Unregistered' });
  const before = Date.now();
  const r = await apnsSend(s, { token: 'dead'.repeat(16) });
  assert.equal(r.status, 410);
  assert.equal(r.json.reason, 'Unregistered');
  assert.ok(Number.isInteger(r.json.timestamp) && r.json.timestamp >= before && r.json.timestamp <= Date.now() + 1);
  assert.ok(r.headers['apns-id']);
  for (const [name, status] of [['BadDeviceToken', 400], ['ExpiredProviderToken', 403], ['TooManyRequests', 429],
    ['InternalServerError', 500], ['ServiceUnavailable', 503]]) {
    await faults({ api: 'apns', response: name, times: 1 });
    const x = await apnsSend(s);
    assert.equal(x.status, status, name);
    assert.deepEqual(x.json, { reason: name });
  }
  await control('DELETE', '/faults');
  s.close();
});

test('APNs: refused_stream resets the stream with REFUSED_STREAM; the connection lives on', async () => {
  const s = connect();
  await faults({ api: 'apns', response: 'refused_stream', times: 1 });
  const r = await apnsSend(s);
  assert.equal(r.status, undefined);
  assert.equal(r.rstCode, http2.constants.NGHTTP2_REFUSED_STREAM);
  assert.equal((await apnsSend(s)).status, 200);
  s.close();
});

test('goaway and drop_connection end the connection; slow delays the answer', async () => {
  let s = connect();
  assert.equal((await apnsSend(s)).status, 200);
  await faults({ api: 'apns', response: 'goaway', times: 1 });
  const goaway = new Promise((resolve) => s.once('goaway', (code, last, data) => resolve({ code, last, data })));
  const r = await apnsSend(s);
  assert.equal(r.status, undefined);
  assert.equal(r.rstCode, http2.constants.NGHTTP2_REFUSED_STREAM);
  const g = await goaway;
  assert.equal(g.code, http2.constants.NGHTTP2_NO_ERROR);
  assert.equal(g.last, 1);
  assert.deepEqual(JSON.parse(g.data), { reason: 'Shutdown' });
  await new Promise((resolve) => (s.closed ? resolve() : s.once('close', resolve)));

  s = connect();
  await faults({ api: 'fcm', response: 'drop_connection', times: 1 });
  const closed = new Promise((resolve) => s.once('close', resolve));
  const d = await fcmSend(s, 'ya29.x', { token: 't' });
  assert.equal(d.status, undefined);
  await closed;

  s = connect();
  await faults({ api: 'apns', response: 'slow', delay_ms: 300, times: 1 });
  const t0 = Date.now();
  assert.equal((await apnsSend(s)).status, 200);
  assert.ok(Date.now() - t0 >= 290);
  s.close();
});

test('APNs: a new provider token within 20 minutes is TooManyProviderTokenUpdates unless disabled', async () => {
  await control('POST', '/reset');
  const s = connect();
  const first = apnsJwt(now() - 10);
  const second = apnsJwt(now() - 2);
  assert.equal((await apnsSend(s, { jwt: first })).status, 200);
  assert.equal((await apnsSend(s, { jwt: first })).status, 200); // the same token again is fine
  const r = await apnsSend(s, { jwt: second });
  assert.equal(r.status, 429);
  assert.deepEqual(r.json, { reason: 'TooManyProviderTokenUpdates' });
  assert.equal((await control('POST', '/config', { apns_token_update_limit: false })).status, 200);
  assert.equal((await apnsSend(s, { jwt: second })).status, 200);
  await control('POST', '/reset');
  s.close();
});

// ---------------------------------------------------------------- control API

test('control: request log (masked authorization, verified claims), stats, validation', async () => {
  await control('POST', '/reset');
  const s = connect();
  const at = await getAccessToken(s);
  await fcmSend(s, at, { token: 'logged', data: { x: 'y' } });
  await apnsSend(s);
  const { json } = await control('GET', '/requests');
  assert.deepEqual(json.requests.map((e) => [e.api, e.status]), [['oauth', 200], ['fcm', 200], ['apns', 200]]);
  const [tok, f, a] = json.requests;
  assert.equal(tok.jwt.claims.iss, sa.client_email);
  assert.doesNotMatch(JSON.stringify(tok.body), /eyJ/); // the assertion itself is not logged
  assert.equal(f.headers.authorization, 'Bearer');
  assert.deepEqual(f.body, { message: { token: 'logged', data: { x: 'y' } } });
  assert.equal(f.jwt.scope, FCM_SCOPE);
  assert.equal(a.headers.authorization, 'bearer');
  assert.equal(a.headers['apns-topic'], apnsCfg.topic);
  assert.equal(a.jwt.claims.iss, apnsCfg.team_id);
  assert.equal(a.jwt.header.kid, apnsCfg.key_id);
  const stats = (await control('GET', '/stats')).json;
  assert.equal(stats.requests.fcm, 1);
  assert.equal(stats.by_status.apns['200'], 1);
  assert.equal(stats.tokens_issued, 1);
  assert.equal((await control('GET', '/requests?api=apns')).json.requests.length, 1);
  await control('DELETE', '/requests');
  assert.equal((await control('GET', '/requests')).json.requests.length, 0);
  assert.equal((await faults({ api: 'fcm', response: 'Unregistered' })).status, 400);
  assert.equal((await faults({ api: 'sms', response: 'INTERNAL' })).status, 400);
  assert.equal((await faults({ api: 'apns', response: 'slow' })).status, 400);
  assert.equal((await faults({ api: 'fcm', response: 'toString' })).status, 400);
  s.close();
});
