#!/usr/bin/env node
'use strict';
// jwt_check.js - an independent JWS verifier for tests/unit/test_jwt.c, on
// node's crypto only (no code shared with server/jwt.c):
//
//   node tests/unit/jwt_check.js RS256|ES256 KEY.pem JWT
//
// KEY.pem is a public or private key (the public half is used). The JWT must
// be three strict base64url parts (no padding, canonical), the header and
// claims JSON objects, header.alg equal to the alg argument, and the
// signature must verify: RS256 as RSASSA-PKCS1-v1_5 SHA-256 under an RSA
// key, ES256 as exactly 64 bytes of raw R||S (ieee-p1363) under a P-256 key.
//
// Exit 0 printing {"header":...,"claims":...} on one line; 1 when the
// signature (or alg) does not verify; 2 on bad usage or a malformed token.

const crypto = require('node:crypto');
const fs = require('node:fs');

function die(code, msg) {
  process.stderr.write(`jwt_check: ${msg}\n`);
  process.exit(code);
}

const [alg, keyPath, jwt] = process.argv.slice(2);
if (process.argv.length !== 5 || !['RS256', 'ES256'].includes(alg)) {
  die(2, 'usage: jwt_check.js RS256|ES256 KEY.pem JWT');
}

let key;
try {
  key = crypto.createPublicKey(fs.readFileSync(keyPath));
} catch (e) {
  die(2, `cannot read key ${keyPath}: ${e.message}`);
}
if (alg === 'RS256' && key.asymmetricKeyType !== 'rsa') die(2, 'RS256 needs an RSA key');
if (alg === 'ES256' && (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails.namedCurve !== 'prime256v1')) {
  die(2, 'ES256 needs a P-256 key');
}

const parts = jwt.split('.');
if (parts.length !== 3) die(2, 'not three dot-separated parts');
const bytes = parts.map((p, i) => {
  if (!/^[A-Za-z0-9_-]*$/.test(p)) die(2, `part ${i + 1} is not base64url without padding`);
  const b = Buffer.from(p, 'base64url');
  if (b.toString('base64url') !== p) die(2, `part ${i + 1} is not canonical base64url`);
  return b;
});

const json = (b, what) => {
  let v;
  try {
    v = JSON.parse(b.toString('utf8'));
  } catch (e) {
    die(2, `${what} is not JSON: ${e.message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) die(2, `${what} is not a JSON object`);
  return v;
};
const header = json(bytes[0], 'header');
const claims = json(bytes[1], 'claims');
if (header.alg !== alg) die(1, `header alg ${JSON.stringify(header.alg)} is not ${alg}`);

const input = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
const sig = bytes[2];
let ok;
if (alg === 'RS256') {
  ok = crypto.verify('sha256', input, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, sig);
} else {
  if (sig.length !== 64) die(1, `ES256 signature is ${sig.length} bytes, not 64 (DER instead of raw R||S?)`);
  ok = crypto.verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig);
}
if (!ok) die(1, 'signature does not verify');
process.stdout.write(`${JSON.stringify({ header, claims })}\n`);
