#!/usr/bin/env node
'use strict';
// bench-peers.js - the peer SDKs of tests/bench/bench-push.sh: sends N notifications from memory
// through a widely used Node SDK to the push mock (tests/mock/push-mock.js) and prints one JSON
// line, so that alertd's dispatch rate can be set side by side with theirs on the same mock.
//
//   node tests/bench/bench-peers.js apns --pki DIR --url https://127.0.0.1:PORT [--count N]
//   node tests/bench/bench-peers.js fcm  --pki DIR --url https://127.0.0.1:PORT [--count N]
//        [--control http://127.0.0.1:CTL] [--chunk N] [--warmup N] [--devices N]
//
//   apns: @parse/node-apn, one Provider (one HTTP/2 connection, ES256 provider token from
//         DIR/apns.json), chunks of --chunk (1,000) notifications sent at once, each chunk awaited.
//   fcm:  firebase-admin, getMessaging().sendEach() over its HTTP/2 transport, batches of --chunk
//         (500, the most sendEach takes), each batch awaited. tests/bench/package.json pins 13.10.0, the
//         last release whose engines include Node 20 (14.x wants Node 22); sendEach opens a new
//         HTTP/2 connection per call, which is the SDK's design and is measured as such.
//
// Output, one line: {"peer","count","ok","failed","seconds","rate_per_s","cpu_user_s","cpu_sys_s",
// "chunk","warmup","mock_200","mock_other","mock_refused_streams","mock_connections"}. seconds and
// the CPU figures (process.cpuUsage of this process) cover the timed part only: from the first
// notification of the first chunk to the last answer. ok counts answers the SDK reported as
// successful. With --control (the mock's control API) mock_* are the differences of the mock's
// GET /stats over the timed part: 200 answers of that API, other answers of that API, refused
// streams, TLS connections opened. The exit status is 1 when any notification failed, or when the
// mock did not answer exactly --count requests of that API with 200; the first failures go to stderr.
//
// Before the clock starts, --warmup (1) notifications are sent and awaited the same way: alertd is
// measured with its connections open and its OAuth token in hand (bench-push.sh drains 10,000 rows
// first), so the peers get their connection, provider token and access token before timing too.
// Those are not in count, ok or the mock_* differences.
//
// Device tokens and payloads are those of bench-push.sh's fixture and of alertd's requests: device
// g (1..--devices, 50,000) has, for even g, an FCM registration token 'bench' + g (6 digits) +
// ':APA91b' + 128 hex digits, and for odd g a 64-hex-digit APNs token; notification i goes to the
// i-th device of the peer's kind (cycling). The text is the bench's balance alert (Vietnamese, about
// 110 bytes of body); APNs: aps.alert {title, body}, sound, thread-id, top-level alert_id and kind,
// apns-push-type alert, priority 10, an expiration and a collapse id; FCM: notification {title,
// body}, data {alert_id, kind, severity}, android {priority high, ttl, collapse_key}.
//
// Pointing the SDKs at the mock, and why (every check of the mock stays as it is):
//   - node-apn: the Provider's own options. address/port are the mock's (its certificate has
//     IP:127.0.0.1 in its SAN, and TLS is verified: rejectUnauthorized stays true, ca = DIR/ca.pem).
//     node-apn passes its whole config to http2.connect, so peerMaxConcurrentStreams: 1 reaches
//     nghttp2: the mock, like APNs, starts every connection at SETTINGS_MAX_CONCURRENT_STREAMS 1
//     (raised to 1,000 with the first answer) and refuses streams above it, including those a
//     client opens before the server's SETTINGS arrive; Node assumes 100 until then, and node-apn
//     does not retry a refused stream (it reports the notification as failed).
//   - firebase-admin, FCM: the SDK has no endpoint option (fcm.googleapis.com is a constant in
//     lib/messaging/messaging.js), and each sendEach() call opens a new HTTP/2 session with
//     http2.connect('https://fcm.googleapis.com', {peerMaxConcurrentStreams: 100, ...}).
//     redirectFcm() below wraps http2.connect in this process for that authority only: the
//     connection goes to the mock's address by createConnection, as a TLS connection verified
//     against DIR/ca.pem for 127.0.0.1 (the name the mock's certificate has; the :authority header
//     stays fcm.googleapis.com), and peerMaxConcurrentStreams is 1, for the reason above: the
//     SDK sets 100 "to respect backend limit" (its comment), the mock's first SETTINGS say 1, and
//     the SDK does not retry a refused stream. It also drops the colon of the SDK's ':scheme: https:' (lib/utils/api-request.js,
//     AsyncHttp2Call.execute, puts the URL's protocol there as it is): RFC 9113 8.3.1 makes that
//     request malformed, and nghttp2, the mock's HTTP/2 stack, resets the stream with
//     PROTOCOL_ERROR before the mock sees it (the SDK works against Google, whose front end
//     evidently accepts it).
//     Everything else of the requests (the path, the JSON, the Bearer header, the other headers)
//     and the parsing of the answers are the SDK's.
//   - firebase-admin, OAuth: its cert() credential cannot get a token from the mock.
//     google-auth-library 10 (which cert() uses) ignores sa.json's token_uri: it posts to the
//     constant https://oauth2.googleapis.com/token, puts that URL in the assertion's aud, and
//     sends over HTTP/1.1 (node-fetch); the mock's token endpoint is HTTP/2 only and checks aud ==
//     token_uri, as alertd's client has it. So the app gets a credential of its own (firebase-admin
//     takes any object with getAccessToken()) built on google-auth-library's JWT client, the one
//     cert() wraps: it signs the RS256 assertion itself, with additionalClaims {aud: token_uri}
//     (the library's option, spread over its default aud), and its gaxios transport gets a
//     fetchImplementation that carries the token request to token_uri over HTTP/2. firebase-admin
//     caches the token as usual; it is fetched once, during the warm-up, and is not on the send path.
const http2 = require('node:http2');
const tls = require('node:tls');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');

const FCM_HOST = 'fcm.googleapis.com';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
// firebase-admin's own scopes for a service account (lib/app/credential-internal.js)
const SCOPES = ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/firebase.database',
  'https://www.googleapis.com/auth/firebase.messaging', 'https://www.googleapis.com/auth/identitytoolkit',
  'https://www.googleapis.com/auth/userinfo.email'];
const TITLE = 'Biến động số dư';
const COLLAPSE = 'bal-9523.1.1012345';
const MAX_AGE_S = 86400; // alertd's push.max_age_seconds default: the TTL/expiration of a fresh alert
const USAGE = 'usage: bench-peers.js apns|fcm --pki DIR --url https://127.0.0.1:PORT [--count N] [--control URL] [--chunk N] [--warmup N] [--devices N]';

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
// the fixture's device tokens (bench-push.sh phase 0), g = 1..devices
const fcmToken = (g) => `bench${String(g).padStart(6, '0')}:APA91b${md5(`f${g}`)}${md5(`g${g}`)}${md5(`h${g}`)}${md5(`i${g}`)}`;
const apnsToken = (g) => g.toString(16).padStart(8, '0') + (md5(`a${g}`) + md5(`b${g}`)).slice(0, 56);

// What notification i says: the fill's alert text (bench-push.sh drain()), with its own alert id.
function alertText(i) {
  const amount = (1000 + i).toLocaleString('de-DE');
  return {
    alertId: String(900000000 + i),
    body: `TK …2345: -${amount}.000 VND lúc 10:15 21/11/2026. Số dư: 120.000.000 VND. ND: Chi lương tháng 11`,
  };
}

// The devices of this peer's kind, `count` of them in order, cycling over the fixture.
function tokens(kind, count, devices) {
  const mine = [];
  for (let g = 1; g <= devices; g++) if ((g % 2 === 0) === (kind === 'fcm')) mine.push(g);
  if (mine.length === 0) throw new Error('--devices leaves no device of this kind');
  const make = kind === 'fcm' ? fcmToken : apnsToken;
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = make(mine[i % mine.length]);
  return out;
}

function getJson(url) {
  return new Promise((resolve, reject) => {
    require('node:http').get(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: ${res.statusCode}`));
        try { resolve(JSON.parse(text)); } catch (err) { reject(err); }
      });
    }).on('error', reject);
  });
}

// The mock's counters for one api: 200 answers, other answers, refused streams, connections.
async function mockCounts(control, api) {
  if (!control) return null;
  const s = await getJson(new URL('/stats', control));
  const by = s.by_status[api] || {};
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  return { ok: by[200] || 0, other: total - (by[200] || 0), refused: s.refused_streams, connections: s.connections_total };
}

// ---------------------------------------------------------------- APNs: @parse/node-apn

async function apnsPeer(opt) {
  const apn = require('@parse/node-apn');
  const cfg = JSON.parse(fs.readFileSync(path.join(opt.pki, 'apns.json'), 'utf8'));
  const provider = new apn.Provider({
    token: { key: cfg.key_file, keyId: cfg.key_id, teamId: cfg.team_id },
    address: opt.url.hostname,
    port: Number(opt.url.port || 443),
    ca: path.join(opt.pki, 'ca.pem'),
    requestTimeout: 15000, // alertd's request_timeout_seconds in the bench
    peerMaxConcurrentStreams: 1, // passed on to http2.connect; see the file comment
  });
  const expiry = Math.floor(Date.now() / 1000) + MAX_AGE_S;
  const note = (i) => {
    const t = alertText(i);
    const n = new apn.Notification();
    n.topic = cfg.topic;
    n.pushType = 'alert';
    n.priority = 10;
    n.expiry = expiry;
    n.collapseId = COLLAPSE;
    n.alert = { title: TITLE, body: t.body };
    n.sound = 'default';
    n.threadId = 'balance.changed';
    n.payload = { alert_id: t.alertId, kind: 'balance.changed' };
    return n;
  };
  // one chunk: every notification sent at once (Provider.send per notification, as each has its
  // own payload), the chunk awaited; the failures node-apn reports are kept
  const sendChunk = async (toks, first, res) => {
    const results = await Promise.all(toks.map((tok, k) => provider.send(note(first + k), tok)));
    for (const r of results) {
      res.ok += r.sent.length;
      res.failed += r.failed.length;
      for (const f of r.failed) {
        if (res.errors.length < 5) res.errors.push({ device: f.device, status: f.status, response: f.response, error: f.error && String(f.error) });
      }
    }
  };
  return { sendChunk, close: () => provider.shutdown() };
}

// ---------------------------------------------------------------- FCM: firebase-admin

// Sends this process's HTTP/2 connections for https://fcm.googleapis.com to the mock; see the file comment.
function redirectFcm(target, ca) {
  const connect = http2.connect;
  http2.connect = function connectRedirected(authority, options, listener) {
    const u = typeof authority === 'string' ? new URL(authority) : authority;
    if (u.hostname !== FCM_HOST) return connect.call(this, authority, options, listener);
    if (typeof options === 'function') [listener, options] = [options, {}];
    const session = connect.call(this, authority, {
      ...options,
      peerMaxConcurrentStreams: 1,
      createConnection: () => tls.connect({ host: target.hostname, port: Number(target.port || 443), ca, ALPNProtocols: ['h2'] }),
    }, listener);
    const request = session.request;
    session.request = function requestSchemeFixed(headers, ...rest) {
      if (headers && headers[':scheme'] === 'https:') headers = { ...headers, ':scheme': 'https' };
      return request.call(this, headers, ...rest);
    };
    return session;
  };
}

// A fetch for gaxios that sends google-auth-library's token request to token_uri over HTTP/2 (the
// mock's token endpoint speaks nothing else); fetch's own Request and Response do the encoding.
function tokenFetch(tokenUri, ca) {
  return async (url, init) => {
    if (String(url) !== GOOGLE_TOKEN_URL) throw new Error(`bench-peers: unexpected request to ${url}`);
    const req = new Request(tokenUri, init);
    const body = Buffer.from(await req.arrayBuffer());
    const target = new URL(tokenUri);
    const session = http2.connect(target.origin, { ca });
    try {
      return await new Promise((resolve, reject) => {
        session.on('error', reject);
        const headers = { ':method': req.method, ':path': target.pathname + target.search };
        for (const [k, v] of req.headers) headers[k] = v;
        const stream = session.request(headers);
        const chunks = [];
        let status = 0, respHeaders = {};
        stream.on('response', (h) => { status = h[':status']; respHeaders = h; });
        stream.on('data', (c) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(respHeaders)) if (!k.startsWith(':')) h.set(k, String(v));
          resolve(new Response(Buffer.concat(chunks), { status, headers: h }));
        });
        stream.end(body);
      });
    } finally {
      session.close();
    }
  };
}

async function fcmPeer(opt) {
  const sa = JSON.parse(fs.readFileSync(path.join(opt.pki, 'sa.json'), 'utf8'));
  const ca = fs.readFileSync(path.join(opt.pki, 'ca.pem'));
  redirectFcm(opt.url, ca);
  const { initializeApp, deleteApp } = require('firebase-admin/app');
  const { getMessaging } = require('firebase-admin/messaging');
  // the copy of google-auth-library that firebase-admin itself loads
  const { JWT } = require(require.resolve('google-auth-library', { paths: [path.dirname(require.resolve('firebase-admin'))] }));
  const jwt = new JWT({
    email: sa.client_email,
    key: sa.private_key,
    scopes: SCOPES,
    additionalClaims: { aud: sa.token_uri },
    transporterOptions: { fetchImplementation: tokenFetch(sa.token_uri, ca) },
  });
  const credential = {
    async getAccessToken() {
      const { token } = await jwt.getAccessToken();
      return { access_token: token, expires_in: Math.floor((jwt.credentials.expiry_date - Date.now()) / 1000) };
    },
  };
  const app = initializeApp({ credential, projectId: sa.project_id }, `bench-peers-${process.pid}`);
  const messaging = getMessaging(app);
  const ttlMs = MAX_AGE_S * 1000;
  const message = (tok, i) => {
    const t = alertText(i);
    return {
      token: tok,
      notification: { title: TITLE, body: t.body },
      data: { alert_id: t.alertId, kind: 'balance.changed', severity: 'info' },
      android: { priority: 'high', ttl: ttlMs, collapseKey: COLLAPSE },
    };
  };
  const sendChunk = async (toks, first, res) => {
    let r;
    try {
      r = await messaging.sendEach(toks.map((tok, k) => message(tok, first + k)));
    } catch (err) {
      // the whole batch failed (a session error); none of it counts as sent
      res.failed += toks.length;
      if (res.errors.length < 5) res.errors.push({ batch: first, error: String(err) });
      return;
    }
    res.ok += r.successCount;
    res.failed += r.failureCount;
    r.responses.forEach((x, k) => {
      if (!x.success && res.errors.length < 5) res.errors.push({ token: toks[k], code: x.error && x.error.code, error: x.error && x.error.message });
    });
  };
  return { sendChunk, close: () => deleteApp(app) };
}

// ---------------------------------------------------------------- main

// The installed version of a package (firebase-admin's "exports" hide its package.json from require).
function pkgVersion(name) {
  for (let dir = path.dirname(require.resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === name) return pkg.version;
    }
  }
  return 'unknown';
}

async function run(opt) {
  const api = opt.peer;
  const peerName = api === 'apns' ? '@parse/node-apn' : 'firebase-admin';
  const version = pkgVersion(peerName);
  const toks = tokens(api, opt.count + opt.warmup, opt.devices);
  const peer = api === 'apns' ? await apnsPeer(opt) : await fcmPeer(opt);

  const sendAll = async (from, to, res) => {
    for (let i = from; i < to; i += opt.chunk) await peer.sendChunk(toks.slice(i, Math.min(i + opt.chunk, to)), i, res);
  };
  const warm = { ok: 0, failed: 0, errors: [] };
  await sendAll(0, opt.warmup, warm);
  if (warm.failed > 0) {
    process.stderr.write(`bench-peers: ${peerName}: the warm-up failed: ${JSON.stringify(warm.errors)}\n`);
    await peer.close();
    return 1;
  }

  const res = { ok: 0, failed: 0, errors: [] };
  const m0 = await mockCounts(opt.control, api);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sendAll(opt.warmup, opt.warmup + opt.count, res);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const m1 = await mockCounts(opt.control, api);
  await peer.close();

  const out = {
    peer: `${peerName}@${version}`, count: opt.count, ok: res.ok, failed: res.failed,
    seconds: Number(seconds.toFixed(3)), rate_per_s: Math.round(res.ok / seconds),
    cpu_user_s: Number((cpu.user / 1e6).toFixed(3)), cpu_sys_s: Number((cpu.system / 1e6).toFixed(3)),
    chunk: opt.chunk, warmup: opt.warmup,
  };
  if (m1) {
    Object.assign(out, { mock_200: m1.ok - m0.ok, mock_other: m1.other - m0.other,
      mock_refused_streams: m1.refused - m0.refused, mock_connections: m1.connections - m0.connections });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  let rc = 0;
  if (res.failed > 0 || res.ok !== opt.count) {
    process.stderr.write(`bench-peers: ${peerName}: ${res.failed} of ${opt.count} notifications failed; first: ${JSON.stringify(res.errors)}\n`);
    rc = 1;
  }
  if (m1 && out.mock_200 !== opt.count) {
    process.stderr.write(`bench-peers: ${peerName}: the mock answered ${out.mock_200} ${api} requests with 200, not ${opt.count}\n`);
    rc = 1;
  }
  return rc;
}

function main() {
  let v, positionals;
  try {
    ({ values: v, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        pki: { type: 'string' }, url: { type: 'string' }, count: { type: 'string', default: '20000' },
        control: { type: 'string' }, chunk: { type: 'string' }, warmup: { type: 'string', default: '1' },
        devices: { type: 'string', default: '50000' },
      },
    }));
  } catch (err) {
    console.error(`${err.message}\n${USAGE}`);
    return process.exit(2);
  }
  const whole = (s, min) => (/^\d+$/.test(s) && Number(s) >= min ? Number(s) : NaN);
  const peer = positionals[0];
  const opt = {
    peer, pki: v.pki, control: v.control,
    count: whole(v.count, 1), warmup: whole(v.warmup, 0), devices: whole(v.devices, 2),
    chunk: whole(v.chunk ?? (peer === 'fcm' ? '500' : '1000'), 1),
  };
  let url = null;
  try { url = new URL(v.url); } catch { /* reported below */ }
  opt.url = url;
  if (positionals.length !== 1 || !['apns', 'fcm'].includes(peer) || !opt.pki || !url || url.protocol !== 'https:' ||
      [opt.count, opt.warmup, opt.devices, opt.chunk].some(Number.isNaN) || (peer === 'fcm' && opt.chunk > 500)) {
    console.error(USAGE);
    return process.exit(2);
  }
  run(opt).then((rc) => process.exit(rc), (err) => {
    console.error(`bench-peers: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
}

main();
