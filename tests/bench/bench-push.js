#!/usr/bin/env node
'use strict';
// bench-push.js - node helpers for tests/bench/bench-push.sh (Node built-ins only).
//
//   node bench-push.js apns-token PKI_DIR
//       print an APNs provider token for the mock's key (PKI_DIR/apns.json):
//       header {alg: ES256, kid}, claims {iss: team_id, iat: now}, signature
//       as the raw 64-byte r||s (JWS, ieee-p1363), base64url.
//   node bench-push.js mock-times < requests.json
//       read the mock's GET /requests answer on stdin and print one line per
//       request answered 200 by FCM or APNs: "<alert_id>\t<device token>\t
//       <receipt time, µs since the epoch>". alertd puts the alert id in every
//       push (FCM message.data.alert_id, APNs top-level alert_id); with the
//       device token it names one outbox row.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

function apnsToken(dir) {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'apns.json'), 'utf8'));
  const key = crypto.createPrivateKey(fs.readFileSync(cfg.key_file));
  const input = `${b64url({ alg: 'ES256', kid: cfg.key_id })}.${b64url({ iss: cfg.team_id, iat: Math.floor(Date.now() / 1000) })}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  process.stdout.write(`${input}.${sig.toString('base64url')}\n`);
}

function mockTimes() {
  const { requests } = JSON.parse(fs.readFileSync(0, 'utf8'));
  const out = [];
  for (const e of requests) {
    if (e.status !== 200 || !e.body) continue;
    let alert, token;
    if (e.api === 'fcm' && e.body.message) {
      alert = e.body.message.data && e.body.message.data.alert_id;
      token = e.body.message.token;
    } else if (e.api === 'apns') {
      alert = e.body.alert_id;
      token = e.path.slice('/3/device/'.length);
    }
    if (!/^[0-9]+$/.test(String(alert)) || typeof token !== 'string') continue;
    // the log's time: when the request's headers arrived, millisecond resolution
    out.push(`${alert}\t${token}\t${Date.parse(e.time) * 1000}`);
  }
  process.stdout.write(out.length ? out.join('\n') + '\n' : '');
}

const [cmd, arg] = process.argv.slice(2);
if (cmd === 'apns-token' && arg) apnsToken(arg);
else if (cmd === 'mock-times') mockTimes();
else {
  console.error('usage: bench-push.js apns-token PKI_DIR | mock-times < requests.json');
  process.exit(2);
}
