'use strict';
// spec_check.js - the contract check of every response the integration tests
// receive (harness.js request() calls check()): the operation is found in
// docs/openapi.yaml by method and path, the status is documented for it
// (exactly, as NXX or default), the content type is one of that response's
// media types, and a JSON body validates against its schema. Validation is
// openapi-backend's (maintained, Ajv-based, OpenAPI 3.1; its router matches
// templated paths and validateResponse checks a body for a status).
//
// Each checked response appends one line to $ALERTD_TEST_TMP/spec-coverage.jsonl
// ({op, status, ok, error}); tests/run.sh prints the totals and the mismatches.
// ALERTD_SPEC_STRICT=1 makes a mismatch throw, failing the test that got it.
// A request that is not an API operation (hostile framing, unknown paths on
// purpose) opts out per call with { spec: false }.

const fs = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');
const { default: OpenAPIBackend } = require('openapi-backend');

const SPEC = path.resolve(__dirname, '..', '..', 'docs', 'openapi.yaml');
const OUT = process.env.ALERTD_TEST_TMP ? path.join(process.env.ALERTD_TEST_TMP, 'spec-coverage.jsonl') : null;
const STRICT = process.env.ALERTD_SPEC_STRICT === '1';
let api;

let ready;
function backend() {
  if (!ready) {
    // quick: skips openapi-backend's own check of the document, which is against
    // the OpenAPI 3.0 schema and refuses 3.1 (type arrays, const); the document
    // is checked by @redocly/cli lint instead (openapi.test.js)
    api = new OpenAPIBackend({ definition: yaml.load(fs.readFileSync(SPEC, 'utf8')), quick: true, validate: true });
    ready = api.init().then(() => api);
  }
  return ready;
}

// A request that matches no operation gets the router's answer, described in
// the spec's info.description: 404 not_found, 405 method_not_allowed (with
// Allow), 400 bad_request, 413 payload_too_large (the body cap, before routing) or 414 uri_too_long, as a Problem. Anything else is
// a mismatch.
const ROUTER = { 400: 'bad_request', 404: 'not_found', 405: 'method_not_allowed', 413: 'payload_too_large', 414: 'uri_too_long' };
function routerAnswer(a, method, p, res) {
  const type = String(res.headers['content-type'] || '').split(';')[0].trim();
  if (ROUTER[res.status] && (method === 'HEAD' || (type === 'application/problem+json' && res.json && res.json.code === ROUTER[res.status])))
    if (res.status !== 405 || res.headers.allow) return null;
  return `no operation ${method} ${p} in docs/openapi.yaml (and not the router's 400/404/405/413/414 problem: ${res.status})`;
}

// The documented response object for status, or undefined.
function documented(op, status) {
  const r = op.responses || {};
  return r[String(status)] || r[`${String(status)[0]}XX`] || r.default;
}

function mismatch(a, method, urlPath, res, op) {
  const [p, q = ''] = urlPath.split('?');
  if (!op) return routerAnswer(a, method, p, res);
  const resp = documented(op, res.status);
  if (!resp) return `status ${res.status} is not documented for ${op.operationId}`;
  if (method === 'HEAD' || res.status === 304 || res.status === 204 || res.status === 301 || !resp.content) {
    if (resp.content && res.raw.length && method !== 'HEAD') return `${op.operationId} ${res.status}: a body where the spec has none`;
    return null;
  }
  const type = String(res.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  const media = Object.keys(resp.content);
  if (!media.some((m) => m.toLowerCase() === type || m === '*/*' || (m.endsWith('/*') && type.startsWith(m.slice(0, -1)))))
    return `${op.operationId} ${res.status}: content type ${type || '(none)'} not in ${media.join(', ')}`;
  if (/json$/.test(type) && resp.content[type] && resp.content[type].schema) {
    if (res.json === undefined) return `${op.operationId} ${res.status}: body is not JSON`;
    let v;
    try {
      v = a.validateResponse(res.json, op, res.status);
    } catch (e) {
      return `${op.operationId} ${res.status}: the schema does not compile: ${e.message}`;
    }
    if (v.errors && v.errors.length)
      return `${op.operationId} ${res.status}: ${v.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`;
  }
  void q;
  return null;
}

// Check one response; returns null or the mismatch. Records it (unless
// record is false: the checker's own test) and throws when strict.
async function check(method, urlPath, res, { record = true } = {}) {
  const a = await backend();
  const p = urlPath.split('?')[0];
  let op;
  try {
    op = a.router.matchOperation({ method: method === 'HEAD' ? 'get' : method.toLowerCase(), path: p, headers: {} });
  } catch (_) {
    op = undefined;
  }
  const error = mismatch(a, method, urlPath, res, op);
  if (OUT && record) fs.appendFileSync(OUT, JSON.stringify({ op: op ? op.operationId : `${method} ${p}`, status: res.status, ok: !error, error }) + '\n');
  if (error && STRICT && record) throw new Error(`response does not match docs/openapi.yaml: ${error}`);
  return error;
}

module.exports = { check, SPEC };
