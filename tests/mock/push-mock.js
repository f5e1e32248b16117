#!/usr/bin/env node
'use strict';
// push-mock.js - a stand-in for the push providers alertd's dispatcher talks
// to, on their real wire protocols, for the integration tests:
//
//   - Google OAuth2 token endpoint (POST /token, JWT-bearer grant, RS256),
//   - FCM HTTP v1 (POST /v1/projects/{id}/messages:send, Bearer access token),
//   - APNs provider API (POST /3/device/{token}, ES256 provider token),
//
// all on ONE HTTP/2-over-TLS port (h2 only, no HTTP/1.1), with a certificate
// from a test CA, plus a plain HTTP/1.1 JSON control API on 127.0.0.1 for
// fault injection and inspection. Node built-ins and the openssl CLI only.
//
//   node tests/mock/push-mock.js --pki DIR                 create the test PKI, exit
//   node tests/mock/push-mock.js --pki DIR --port N [--control-port M]
//
// --port 0 picks a free port (the control port then defaults to a free one
// too); the startup line tells the real ports. See tests/mock/README.md.

const http = require('node:http');
const http2 = require('node:http2');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { parseArgs } = require('node:util');

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR } = http2.constants;
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';
const MAX_BODY = 1 << 20; // read at most this much of any request body
const PAYLOAD_LIMIT = 4096; // FCM and APNs (non-VoIP) payload limit, bytes
const STREAMS = { initial: 1, apns: 1000, google: 100 };
const ACCESS_TOKEN_LIFETIME_S = 3599;
const AUTH_HELP = 'Expected OAuth 2 access token, login cookie or other valid authentication credential. ' +
  'See https://developers.google.com/identity/sign-in/web/devconsole-project.';

// FCM v1 errors: errorCode -> [HTTP status, google.rpc status, message]
const FCM_ERRORS = {
  UNREGISTERED: [404, 'NOT_FOUND', 'Requested entity was not found.'],
  INVALID_ARGUMENT: [400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token'],
  QUOTA_EXCEEDED: [429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for sending messages.'],
  UNAVAILABLE: [503, 'UNAVAILABLE', 'The service is currently unavailable.'],
  INTERNAL: [500, 'INTERNAL', 'Internal error encountered.'],
  SENDER_ID_MISMATCH: [403, 'PERMISSION_DENIED', 'SenderId mismatch'],
  THIRD_PARTY_AUTH_ERROR: [401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service'],
};
// APNs reasons -> HTTP status (Apple's table; 410 ones carry a timestamp)
const APNS_REASONS = {
  BadCollapseId: 400, BadDeviceToken: 400, BadExpirationDate: 400, BadMessageId: 400, BadPriority: 400,
  BadTopic: 400, DeviceTokenNotForTopic: 400, InvalidPushType: 400, MissingDeviceToken: 400,
  MissingTopic: 400, PayloadEmpty: 400, TopicDisallowed: 400, ExpiredProviderToken: 403,
  InvalidProviderToken: 403, MissingProviderToken: 403, BadPath: 404, MethodNotAllowed: 405,
  ExpiredToken: 410, Unregistered: 410, PayloadTooLarge: 413, TooManyProviderTokenUpdates: 429,
  TooManyRequests: 429, InternalServerError: 500, ServiceUnavailable: 503, Shutdown: 503,
};
// Injectable token-endpoint failures: name -> [HTTP status, OAuth error, description]
const OAUTH_ERRORS = {
  invalid_grant: [400, 'invalid_grant', 'Invalid JWT Signature.'],
  QUOTA_EXCEEDED: [429, 'rate_limit_exceeded', 'Rate limit exceeded.'],
  INTERNAL: [500, 'internal_failure', 'Backend Error'],
  UNAVAILABLE: [503, 'temporarily_unavailable', 'The service is currently unavailable.'],
};
const TRANSPORT_FAULTS = ['refused_stream', 'goaway', 'drop_connection', 'slow'];
const RESPONSES = { fcm: FCM_ERRORS, apns: APNS_REASONS, oauth: OAUTH_ERRORS };

// ---------------------------------------------------------------- test PKI

function openssl(args) {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function randomChars(n, alphabet) {
  return Array.from(crypto.randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
}
function writeFileAtomic(file, text, mode = 0o600) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}
const OPENSSL_CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = alertd push-mock test CA
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

// Creates whatever is missing in dir; existing files are kept, so a config
// that points at them stays valid across runs. Delete DIR to start afresh.
function createPki(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const f = (name) => path.join(dir, name);
  if (!['ca.pem', 'ca.key', 'server.pem', 'server.key'].every((n) => fs.existsSync(f(n)))) {
    const cnf = f('openssl.cnf.tmp');
    fs.writeFileSync(cnf, OPENSSL_CNF);
    try {
      const ec = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
      writeFileAtomic(f('ca.key'), openssl(ec));
      openssl(['req', '-x509', '-new', '-config', cnf, '-extensions', 'ca_ext', '-key', f('ca.key'),
        '-days', '3650', '-sha256', '-out', f('ca.pem')]);
      writeFileAtomic(f('server.key'), openssl(ec));
      const csr = openssl(['req', '-new', '-config', cnf, '-key', f('server.key'), '-subj', '/CN=127.0.0.1']);
      fs.writeFileSync(f('server.csr.tmp'), csr);
      openssl(['x509', '-req', '-in', f('server.csr.tmp'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
        '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-days', '825', '-sha256',
        '-extfile', cnf, '-extensions', 'server_ext', '-out', f('server.pem')]);
    } finally {
      fs.rmSync(cnf, { force: true });
      fs.rmSync(f('server.csr.tmp'), { force: true });
    }
  }
  if (!fs.existsSync(f('sa.json'))) {
    const project = 'alertd-push-test';
    const sa = {
      type: 'service_account',
      project_id: project,
      private_key_id: crypto.randomBytes(20).toString('hex'),
      private_key: openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']),
      client_email: `alertd-push@${project}.iam.gserviceaccount.com`,
      client_id: randomChars(21, '0123456789'),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://127.0.0.1:PORT/token', // rewritten when the server starts
      auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/alertd-push%40${project}.iam.gserviceaccount.com`,
      universe_domain: 'googleapis.com',
    };
    writeFileAtomic(f('sa.json'), JSON.stringify(sa, null, 2) + '\n');
  }
  if (!fs.existsSync(f('apns.json'))) {
    const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const keyId = randomChars(10, ALNUM);
    const keyFile = path.resolve(dir, `AuthKey_${keyId}.p8`);
    writeFileAtomic(keyFile, openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']));
    const apns = { key_id: keyId, team_id: randomChars(10, ALNUM), key_file: keyFile, topic: 'vn.kbnn.alertd' };
    writeFileAtomic(f('apns.json'), JSON.stringify(apns, null, 2) + '\n');
  }
}

// ---------------------------------------------------------------- state

let sa, saPublicKey, apnsCfg, apnsPublicKey, tokenUri;
let connSeq = 0;
const openSessions = new Set();
let state;

function freshState() {
  return {
    faults: [], faultSeq: 0, log: [], reqSeq: 0,
    oauthTokens: new Map(), // access token -> { expiresAt, claims }
    apnsTeams: new Map(), // team id -> { iat, since } of the current provider token
    // log_requests: false keeps GET /requests empty (benchmarks: no memory growth per request)
    config: { apns_token_update_limit: true, apns_token_update_interval_s: 1200, log_requests: true },
    stats: {
      requests: { oauth: 0, fcm: 0, apns: 0, other: 0 }, by_status: { oauth: {}, fcm: {}, apns: {}, other: {} },
      tokens_issued: 0, faults_fired: 0, connections_total: 0, refused_streams: 0, goaways: 0,
      dropped_connections: 0, peak_concurrent_streams: 0,
    },
  };
}

// The first pending rule for this api and token, of the transport kind (acted
// on at arrival) or not (a response, given after authentication); used up here.
function takeFault(ctx, transport) {
  const i = state.faults.findIndex((r) => r.api === ctx.api && TRANSPORT_FAULTS.includes(r.response) === transport &&
    (r.match.token === undefined || r.match.token === ctx.target));
  if (i < 0) return null;
  const rule = state.faults[i];
  rule.hits++;
  if (rule.times !== undefined && --rule.times <= 0) state.faults.splice(i, 1);
  state.stats.faults_fired++;
  ctx.entry.fault = rule.response;
  return rule;
}

// ---------------------------------------------------------------- JWT

const isObj = (o) => o !== null && typeof o === 'object' && !Array.isArray(o);
// Compact JWS, strictly: three base64url parts without padding, JSON objects.
function parseJwt(text) {
  const parts = String(text).split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) return null;
  try {
    const [header, claims] = parts.slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
    if (!isObj(header) || !isObj(claims)) return null;
    return { header, claims, input: Buffer.from(`${parts[0]}.${parts[1]}`), sig: Buffer.from(parts[2], 'base64url') };
  } catch {
    return null;
  }
}
const verifyRs256 = (jwt) => crypto.verify('sha256', jwt.input, saPublicKey, jwt.sig);
// ES256 signatures are the raw 64-byte r||s (JWS), not DER.
const verifyEs256 = (jwt) => jwt.sig.length === 64 &&
  crypto.verify('sha256', jwt.input, { key: apnsPublicKey, dsaEncoding: 'ieee-p1363' }, jwt.sig);
const nowS = () => Date.now() / 1000;

// ---------------------------------------------------------------- HTTP/2 server

const maskHeaders = (headers) => Object.fromEntries(Object.entries(headers)
  .map(([k, v]) => [k, k === 'authorization' ? String(v).split(/\s+/)[0] : v]));

function onStream(stream, headers) {
  const session = stream.session;
  stream.on('error', () => {});
  const url = String(headers[':path'] || '');
  const pathname = url.split('?')[0];
  const api = pathname === '/token' ? 'oauth' : pathname.startsWith('/v1/') ? 'fcm' : pathname.startsWith('/3/') ? 'apns' : 'other';
  state.stats.requests[api]++;
  session.mockOpen.add(stream.id);
  state.stats.peak_concurrent_streams = Math.max(state.stats.peak_concurrent_streams, session.mockOpen.size);
  stream.on('close', () => session.mockOpen.delete(stream.id));
  const entry = {
    seq: ++state.reqSeq, time: new Date().toISOString(), connection: session.mockId, stream: stream.id,
    api, method: headers[':method'], path: url, headers: maskHeaders(headers),
    body: null, status: null, response: null, jwt: null, fault: null,
  };
  if (state.config.log_requests) state.log.push(entry);
  const ctx = { stream, session, headers, entry, api, pathname, done: false };
  const chunks = [];
  let size = 0;
  stream.on('data', (c) => (size += c.length) <= MAX_BODY && chunks.push(c));
  stream.on('end', () => {
    ctx.raw = Buffer.concat(chunks);
    ctx.tooBig = size > MAX_BODY;
    handle(ctx).catch((err) => {
      console.error('push-mock: internal error:', err);
      send(ctx, 500, { error: `push-mock bug: ${err.message}` });
    });
  });
}

function send(ctx, status, body, headers = {}) {
  const { stream, entry } = ctx;
  if (ctx.done || stream.destroyed || stream.closed) return;
  ctx.done = true;
  entry.status = status;
  entry.response = body === undefined ? null : body;
  const by = state.stats.by_status[ctx.api];
  by[status] = (by[status] || 0) + 1;
  const h = { ':status': status, ...headers };
  const text = body === undefined ? '' : JSON.stringify(body);
  if (text) h['content-type'] = 'application/json; charset=UTF-8';
  stream.respond(h);
  stream.end(text);
}

// Raise SETTINGS_MAX_CONCURRENT_STREAMS on this connection (never lowers it).
function raiseStreams(session, n) {
  if (session.mockStreams >= n || session.destroyed) return;
  session.mockStreams = n;
  session.settings({ maxConcurrentStreams: n });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function handle(ctx) {
  const { api, entry } = ctx;
  if (ctx.tooBig) return send(ctx, 413, { error: 'push-mock: request body over 1 MiB' });
  const text = ctx.raw.toString('utf8');
  if (api === 'oauth') {
    ctx.form = new URLSearchParams(text);
    entry.body = Object.fromEntries(ctx.form);
    if (entry.body.assertion) entry.body.assertion = `(JWT, ${entry.body.assertion.length} chars)`;
  } else if (text.length) {
    try {
      ctx.body = JSON.parse(text);
      entry.body = ctx.body;
    } catch (err) {
      ctx.jsonError = err.message;
      entry.body = { unparsed: text.slice(0, 2000) };
    }
  }
  if (api === 'apns') ctx.deviceToken = ctx.pathname.slice('/3/device/'.length);
  ctx.target = api === 'apns' ? ctx.deviceToken : api === 'fcm' ? ctx.body?.message?.token : undefined;
  const fault = api === 'other' ? null : takeFault(ctx, true);
  if (fault) {
    if (fault.delay_ms) await sleep(fault.delay_ms);
    if (transportFault(ctx, fault)) return; // "slow" falls through: delayed, then answered normally
  }
  if (api === 'oauth') return oauth(ctx);
  if (api === 'fcm') return fcm(ctx);
  if (api === 'apns') return apns(ctx);
  return send(ctx, 404, { error: `push-mock: no such endpoint ${ctx.pathname}` });
}

// refused_stream / goaway / drop_connection act on the connection before any
// checks; true when the request is finished with.
function transportFault(ctx, fault) {
  const { stream, session } = ctx;
  if (stream.destroyed || session.destroyed) return true;
  switch (fault.response) {
    case 'refused_stream':
      state.stats.refused_streams++;
      stream.close(NGHTTP2_REFUSED_STREAM);
      return true;
    case 'goaway': {
      // Last-stream-id: below this stream (so the client knows it was not
      // processed) unless other streams in progress are above it; they finish.
      state.stats.goaways++;
      const last = Math.max(0, stream.id - 2, ...[...session.mockOpen].filter((id) => id !== stream.id));
      const debug = ctx.api === 'apns' ? Buffer.from('{"reason":"Shutdown"}') : undefined;
      session.goaway(NGHTTP2_NO_ERROR, last, debug);
      stream.close(NGHTTP2_REFUSED_STREAM);
      session.close();
      setTimeout(() => session.destroy(), 2000).unref();
      return true;
    }
    case 'drop_connection':
      state.stats.dropped_connections++;
      session.mockSocket.destroy(); // the TLS socket itself: no GOAWAY, no RST_STREAM
      return true;
    default:
      return false;
  }
}

// An injected error response, if a rule matches; after authentication.
async function respondFault(ctx) {
  const f = takeFault(ctx, false);
  if (!f) return false;
  if (f.delay_ms) await sleep(f.delay_ms);
  const h = f.retry_after !== undefined ? { 'retry-after': String(f.retry_after) } : {};
  if (ctx.api === 'fcm') send(ctx, FCM_ERRORS[f.response][0], fcmError(f.response), h);
  else if (ctx.api === 'apns') apnsReason(ctx, f.response, h);
  else send(ctx, OAUTH_ERRORS[f.response][0], { error: OAUTH_ERRORS[f.response][1], error_description: OAUTH_ERRORS[f.response][2] }, h);
  return true;
}

// ---------------------------------------------------------------- OAuth2 token endpoint

async function oauth(ctx) {
  const fail = (description, error = 'invalid_grant') => send(ctx, 400, { error, error_description: description });
  if (ctx.headers[':method'] !== 'POST') return send(ctx, 405, { error: 'invalid_request', error_description: 'POST only' });
  raiseStreams(ctx.session, STREAMS.google);
  if (!/^application\/x-www-form-urlencoded\b/i.test(ctx.headers['content-type'] || '')) {
    return fail('Content-Type must be application/x-www-form-urlencoded', 'invalid_request');
  }
  const grant = ctx.form.get('grant_type');
  if (grant !== JWT_GRANT) return fail(`Invalid grant_type: ${grant || ''}`, 'unsupported_grant_type');
  const assertion = ctx.form.get('assertion');
  if (!assertion) return fail('Missing required parameter: assertion', 'invalid_request');
  const jwt = parseJwt(assertion);
  if (!jwt) return fail('Invalid JWT: not a compact-serialised JWS (header.claims.signature, base64url without padding).');
  const { header, claims } = jwt;
  if (claims.iss !== sa.client_email) return fail('Invalid grant: account not found');
  if (header.alg !== 'RS256' || (header.kid !== undefined && header.kid !== sa.private_key_id) || !verifyRs256(jwt)) {
    return fail('Invalid JWT Signature.');
  }
  if (claims.aud !== tokenUri) return fail(`Invalid JWT: Failed audience check. The right audience is ${tokenUri}`);
  const { iat, exp } = claims;
  const now = nowS();
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat || exp - iat > 3600 || now < iat - 60 || now > exp) {
    return fail('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. ' +
      'Check your iat and exp values in the JWT claim.');
  }
  if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(FCM_SCOPE)) {
    return fail('Invalid OAuth scope or ID token audience provided.', 'invalid_scope');
  }
  ctx.entry.jwt = { header, claims };
  if (await respondFault(ctx)) return;
  const token = `ya29.${crypto.randomBytes(96).toString('base64url')}`;
  state.oauthTokens.set(token, { expiresAt: Date.now() + ACCESS_TOKEN_LIFETIME_S * 1000, claims });
  state.stats.tokens_issued++;
  return send(ctx, 200, { access_token: token, expires_in: ACCESS_TOKEN_LIFETIME_S, token_type: 'Bearer' },
    { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache' });
}

// ---------------------------------------------------------------- FCM HTTP v1

function fcmError(code, message) {
  const [status, rpcStatus, defaultMessage] = FCM_ERRORS[code];
  return { error: { code: status, message: message || defaultMessage, status: rpcStatus, details: [{ '@type': FCM_ERROR_TYPE, errorCode: code }] } };
}
function invalidArgument(field, description) {
  const body = fcmError('INVALID_ARGUMENT', description);
  body.error.details.push({ '@type': BAD_REQUEST_TYPE, fieldViolations: [{ field, description }] });
  return body;
}

// Fields the v1 API knows (proto3 JSON: snake_case and lowerCamelCase both accepted).
const FIELDS = {
  request: ['message', 'validate_only', 'validateOnly'],
  message: ['name', 'data', 'notification', 'android', 'webpush', 'apns', 'fcm_options', 'fcmOptions', 'token', 'topic', 'condition'],
  notification: ['title', 'body', 'image'],
  android: ['collapse_key', 'collapseKey', 'priority', 'ttl', 'restricted_package_name', 'restrictedPackageName', 'data',
    'notification', 'fcm_options', 'fcmOptions', 'direct_boot_ok', 'directBootOk'],
};

// null when the send request is well-formed, else [field, description].
function checkFcmMessage(req) {
  const invalid = (at, v, type) => [at, `Invalid value at '${at}' (${type}), ${JSON.stringify(v)}`];
  const shape = (obj, kind, at) => {
    if (!isObj(obj)) return invalid(at, obj, 'object');
    const k = Object.keys(obj).find((key) => !FIELDS[kind].includes(key));
    return k === undefined ? null : [at, `Invalid JSON payload received. Unknown name "${k}" at '${at}': Cannot find field.`];
  };
  const strings = (obj, at, map) => {
    const entries = Object.entries(obj);
    for (let i = 0; i < entries.length; i++) {
      const [k, v] = entries[i];
      if (typeof v !== 'string') return invalid(map ? `${at}[${i}].value` : `${at}.${k}`, v, 'TYPE_STRING');
      if (map && /^(from|notification|message_type|google\..*|gcm\..*)$/.test(k)) return [at, `Invalid data payload key: ${k}`];
    }
    return null;
  };
  const data = (d, at) => (isObj(d) ? strings(d, at, true) : invalid(at, d, 'type.googleapis.com/google.protobuf.Map'));
  let bad;
  if ((bad = shape(req, 'request', ''))) return bad;
  const m = req.message;
  if ((bad = shape(m, 'message', 'message'))) return bad;
  if (m.topic !== undefined || m.condition !== undefined) return ['message', 'push-mock supports token targets only'];
  if (typeof m.token !== 'string' || !/^[A-Za-z0-9_:.-]{1,4096}$/.test(m.token)) return ['message.token', FCM_ERRORS.INVALID_ARGUMENT[2]];
  if (m.data !== undefined && (bad = data(m.data, 'message.data'))) return bad;
  if (m.notification !== undefined && (bad = shape(m.notification, 'notification', 'message.notification') ||
    strings(m.notification, 'message.notification'))) return bad;
  const a = m.android;
  if (a !== undefined) {
    if ((bad = shape(a, 'android', 'message.android'))) return bad;
    if (a.priority !== undefined && !/^(high|normal)$/i.test(a.priority)) {
      return invalid('message.android.priority', a.priority, 'type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority');
    }
    const ttl = /^(\d+)(\.\d{1,9})?s$/.exec(typeof a.ttl === 'string' ? a.ttl : '');
    if (a.ttl !== undefined && !ttl) return invalid('message.android.ttl', a.ttl, 'type.googleapis.com/google.protobuf.Duration');
    if (ttl && Number(ttl[1]) > 2419200) return ['message.android.ttl', 'TTL must not exceed 4 weeks (2419200s)'];
    const ck = a.collapse_key ?? a.collapseKey;
    if (ck !== undefined && typeof ck !== 'string') return invalid('message.android.collapse_key', ck, 'TYPE_STRING');
    if (a.data !== undefined && (bad = data(a.data, 'message.android.data'))) return bad;
  }
  // Payload size: the notification and data the device receives, as compact JSON.
  const size = Buffer.byteLength(JSON.stringify({ notification: m.notification, data: m.data }));
  if (size > PAYLOAD_LIMIT) return ['message', `Message is too big: ${size} bytes of notification and data, the limit is ${PAYLOAD_LIMIT}`];
  return null;
}

async function fcm(ctx) {
  const unauthenticated = (message) => send(ctx, 401, { error: { code: 401, message, status: 'UNAUTHENTICATED' } },
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
  const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(ctx.pathname);
  if (!m || ctx.headers[':method'] !== 'POST') {
    return send(ctx, 404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
  }
  raiseStreams(ctx.session, STREAMS.google);
  const auth = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization || '');
  if (!auth) return unauthenticated(`Request is missing required authentication credential. ${AUTH_HELP}`);
  const issued = state.oauthTokens.get(auth[1]);
  if (!issued || issued.expiresAt <= Date.now()) return unauthenticated(`Request had invalid authentication credentials. ${AUTH_HELP}`);
  ctx.entry.jwt = issued.claims;
  if (m[1] !== sa.project_id) return send(ctx, 403, fcmError('SENDER_ID_MISMATCH'));
  if (ctx.jsonError) return send(ctx, 400, invalidArgument('', `Invalid JSON payload received. ${ctx.jsonError}`));
  if (await respondFault(ctx)) return;
  const bad = checkFcmMessage(ctx.body);
  if (bad) return send(ctx, 400, invalidArgument(bad[0], bad[1]));
  const validateOnly = ctx.body.validate_only === true || ctx.body.validateOnly === true;
  const id = validateOnly ? 'fake_message_id' : `0:${Date.now()}%${crypto.randomBytes(8).toString('hex')}`;
  return send(ctx, 200, { name: `projects/${sa.project_id}/messages/${id}` });
}

// ---------------------------------------------------------------- APNs provider API

function apnsReason(ctx, reason, headers = {}) {
  const body = { reason };
  if (APNS_REASONS[reason] === 410) body.timestamp = Date.now();
  return send(ctx, APNS_REASONS[reason], body, { 'apns-id': ctx.apnsId, ...headers });
}

// Verifies the provider token; returns a failure reason or null.
function checkProviderToken(ctx) {
  const auth = ctx.headers.authorization;
  if (!auth) return 'MissingProviderToken';
  const m = /^bearer\s+(\S+)$/i.exec(auth);
  const jwt = m && parseJwt(m[1]);
  if (!jwt) return 'InvalidProviderToken';
  const { header, claims } = jwt;
  if (header.alg !== 'ES256' || header.kid !== apnsCfg.key_id || claims.iss !== apnsCfg.team_id ||
      typeof claims.iat !== 'number' || !verifyEs256(jwt)) return 'InvalidProviderToken';
  const now = nowS();
  if (now - claims.iat > 3600) return 'ExpiredProviderToken';
  if (claims.iat > now + 60) return 'InvalidProviderToken'; // issued in the future
  const cur = state.apnsTeams.get(claims.iss);
  if (!cur || cur.iat !== claims.iat) {
    const interval = state.config.apns_token_update_interval_s * 1000;
    if (cur && state.config.apns_token_update_limit && Date.now() - cur.since < interval) return 'TooManyProviderTokenUpdates';
    state.apnsTeams.set(claims.iss, { iat: claims.iat, since: Date.now() });
  }
  ctx.entry.jwt = { header, claims };
  return null;
}

async function apns(ctx) {
  const h = ctx.headers;
  const reqId = h['apns-id'];
  const uuidOk = reqId === undefined || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(reqId);
  ctx.apnsId = uuidOk && reqId ? reqId : crypto.randomUUID();
  if (!/^\/3\/device\/[^/]*$/.test(ctx.pathname)) return apnsReason(ctx, 'BadPath');
  if (h[':method'] !== 'POST') return apnsReason(ctx, 'MethodNotAllowed');
  const authFailure = checkProviderToken(ctx);
  if (authFailure) return apnsReason(ctx, authFailure);
  raiseStreams(ctx.session, STREAMS.apns);
  if (await respondFault(ctx)) return;
  if (!uuidOk) return apnsReason(ctx, 'BadMessageId');
  if (!h['apns-topic']) return apnsReason(ctx, 'MissingTopic');
  if (h['apns-topic'] !== apnsCfg.topic) return apnsReason(ctx, 'TopicDisallowed');
  const pushType = h['apns-push-type'];
  if (pushType !== 'alert' && pushType !== 'background') return apnsReason(ctx, 'InvalidPushType');
  const prio = h['apns-priority'];
  if (prio !== undefined && prio !== '5' && prio !== '10') return apnsReason(ctx, 'BadPriority');
  if (pushType === 'background' && prio !== '5') return apnsReason(ctx, 'BadPriority');
  if (h['apns-expiration'] !== undefined && !/^\d+$/.test(h['apns-expiration'])) return apnsReason(ctx, 'BadExpirationDate');
  if (h['apns-collapse-id'] !== undefined && Buffer.byteLength(h['apns-collapse-id']) > 64) return apnsReason(ctx, 'BadCollapseId');
  if (!ctx.deviceToken) return apnsReason(ctx, 'MissingDeviceToken');
  if (!/^([0-9a-fA-F]{2})+$/.test(ctx.deviceToken)) return apnsReason(ctx, 'BadDeviceToken');
  if (ctx.raw.length === 0) return apnsReason(ctx, 'PayloadEmpty');
  if (ctx.raw.length > PAYLOAD_LIMIT) return apnsReason(ctx, 'PayloadTooLarge');
  // Not an Apple reason: Apple documents none for a payload that is not a JSON object with "aps".
  if (!isObj(ctx.body) || !isObj(ctx.body.aps)) {
    return send(ctx, 400, { reason: 'BadPayload', 'push-mock': 'payload must be a JSON object with an "aps" object' }, { 'apns-id': ctx.apnsId });
  }
  return send(ctx, 200, undefined, { 'apns-id': ctx.apnsId });
}

// ---------------------------------------------------------------- control API (HTTP/1.1)

function validateRule(r) {
  if (!isObj(r)) return 'a rule must be an object';
  if (!Object.hasOwn(RESPONSES, r.api)) return 'api must be "fcm", "apns" or "oauth"';
  if (!TRANSPORT_FAULTS.includes(r.response) && !Object.hasOwn(RESPONSES[r.api], r.response)) {
    return `response for ${r.api} must be one of ${[...Object.keys(RESPONSES[r.api]), ...TRANSPORT_FAULTS].join(', ')}`;
  }
  if (r.match !== undefined && (!isObj(r.match) || (r.match.token !== undefined && typeof r.match.token !== 'string'))) return 'match must be {token?: string}';
  for (const k of ['times', 'retry_after', 'delay_ms']) {
    if (r[k] !== undefined && !(Number.isInteger(r[k]) && r[k] >= (k === 'times' ? 1 : 0))) return `${k} must be a non-negative integer${k === 'times' ? ' >= 1' : ''}`;
  }
  if (r.response === 'slow' && r.delay_ms === undefined) return '"slow" needs delay_ms';
  return null;
}

function control(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 1) + '\n');
    };
    const u = new URL(req.url, 'http://control');
    let body = null;
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim()) body = JSON.parse(text);
    } catch { return reply(400, { error: 'body is not JSON' }); }
    const route = `${req.method} ${u.pathname}`;
    switch (route) {
      case 'POST /faults': {
        const rules = Array.isArray(body) ? body : isObj(body) && Array.isArray(body.rules) ? body.rules : [body];
        for (const r of rules) {
          const err = validateRule(r);
          if (err) return reply(400, { error: err, rule: r });
        }
        const added = rules.map((r) => ({ id: ++state.faultSeq, match: {}, ...r, hits: 0 }));
        state.faults.push(...added);
        return reply(200, { added, faults: state.faults });
      }
      case 'GET /faults': return reply(200, { faults: state.faults });
      case 'DELETE /faults': state.faults = []; return reply(200, { faults: [] });
      case 'POST /expire-tokens':
        for (const t of state.oauthTokens.values()) t.expiresAt = 0;
        return reply(200, { expired: state.oauthTokens.size });
      case 'POST /reset': state = freshState(); return reply(200, { reset: true });
      case 'GET /requests':
        return reply(200, { requests: state.log.filter((e) => !u.searchParams.has('api') || e.api === u.searchParams.get('api')) });
      case 'DELETE /requests': state.log = []; return reply(200, { requests: [] });
      case 'GET /stats': return reply(200, { ...state.stats, connections_open: openSessions.size, faults_pending: state.faults.length });
      case 'GET /config': return reply(200, state.config);
      case 'POST /config': {
        if (!isObj(body)) return reply(400, { error: 'body must be an object' });
        for (const [k, v] of Object.entries(body)) {
          if (typeof state.config[k] !== typeof v) return reply(400, { error: `unknown key or wrong type: ${k}` });
        }
        Object.assign(state.config, body);
        return reply(200, state.config);
      }
      default: return reply(404, { error: `no route ${route}` });
    }
  });
}

// ---------------------------------------------------------------- main

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function start(dir, port, controlPort) {
  const f = (name) => path.join(dir, name);
  sa = JSON.parse(fs.readFileSync(f('sa.json'), 'utf8'));
  saPublicKey = crypto.createPublicKey(sa.private_key);
  apnsCfg = JSON.parse(fs.readFileSync(f('apns.json'), 'utf8'));
  apnsPublicKey = crypto.createPublicKey(fs.readFileSync(apnsCfg.key_file));
  state = freshState();

  const server = http2.createSecureServer({
    key: fs.readFileSync(f('server.key')), cert: fs.readFileSync(f('server.pem')),
    allowHTTP1: false, settings: { maxConcurrentStreams: STREAMS.initial },
  });
  let lastSocket = null; // node creates the session synchronously inside its own listener
  server.prependListener('secureConnection', (socket) => { lastSocket = socket; });
  server.on('session', (session) => {
    session.mockSocket = lastSocket;
    session.mockId = ++connSeq;
    session.mockStreams = STREAMS.initial;
    session.mockOpen = new Set(); // ids of the streams in progress
    state.stats.connections_total++;
    openSessions.add(session);
    session.on('close', () => openSessions.delete(session));
    session.on('error', () => {});
  });
  server.on('stream', onStream);
  server.on('sessionError', () => {});
  server.on('unknownProtocol', (socket) => socket.destroy()); // no h2 in ALPN: hang up
  const controlServer = http.createServer(control);

  const tlsPort = await listen(server, port);
  const ctlPort = await listen(controlServer, controlPort ?? (port === 0 ? 0 : port + 1));
  tokenUri = `https://127.0.0.1:${tlsPort}/token`;
  sa.token_uri = tokenUri;
  writeFileAtomic(f('sa.json'), JSON.stringify(sa, null, 2) + '\n');
  process.stdout.write(`push-mock listening https://127.0.0.1:${tlsPort} control http://127.0.0.1:${ctlPort}\n`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
}

function main() {
  const die = (msg, code) => { console.error(msg); process.exit(code); };
  const usage = 'usage: push-mock.js --pki DIR [--port N [--control-port M]]';
  let v = {};
  try {
    v = parseArgs({ options: { pki: { type: 'string' }, port: { type: 'string' }, 'control-port': { type: 'string' } } }).values;
  } catch (err) { die(`${err.message}\n${usage}`, 2); }
  const num = (x) => (x === undefined ? undefined : /^\d{1,5}$/.test(x) && Number(x) < 65536 ? Number(x) : NaN);
  const port = num(v.port), ctl = num(v['control-port']);
  if (!v.pki || Number.isNaN(port) || Number.isNaN(ctl) || (ctl !== undefined && port === undefined)) die(usage, 2);
  createPki(v.pki);
  if (port === undefined) return console.log(`push-mock: test PKI in ${path.resolve(v.pki)}`);
  start(v.pki, port, ctl).catch((err) => die(`push-mock: ${err.message}`, 1));
}

main();
