#!/usr/bin/env node
'use strict';
// seed.js - writes the committed seed corpora tests/fuzz/corpus/<name>/ from
// the test fixtures: deploy/sample (events, roster), the integration tests'
// event builders and bodies (tests/integration/harness.js, ingest, app and
// roster tests), the unit tests' events (tests/unit/test_event.c), the JSON
// and INI examples in docs/, the example configuration and the real route
// table. Run it again after those change: `node tests/fuzz/seed.js`. Each
// seed is one small file named by its content's hash, so reruns only add.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// only the harness's event builders are used: no cluster, no server
process.env.ALERTD_TEST_TMP = process.env.ALERTD_TEST_TMP || os.tmpdir();
process.env.ALERTD_TEST_PGDIR = process.env.ALERTD_TEST_PGDIR || os.tmpdir();
const ROOT = path.resolve(__dirname, '..', '..');
const h = require(path.join(ROOT, 'tests', 'integration', 'harness.js'));
const read = (p) => fs.readFileSync(path.join(ROOT, p), 'utf8');

function put(name, content) {
  const dir = path.join(__dirname, 'corpus', name);
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, crypto.createHash('sha1').update(buf).digest('hex').slice(0, 16)), buf);
}

// Code blocks of one language in the docs.
function docBlocks(lang) {
  const out = [];
  for (const f of fs.readdirSync(path.join(ROOT, 'docs')).filter((n) => n.endsWith('.md'))) {
    const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
    for (const m of read(`docs/${f}`).matchAll(re)) out.push(m[1].replace(/^ {2}/gm, ''));
  }
  return out;
}

// ---- events: the harness runs them at 2026-11-21T12:00:00Z
const NOW_ISO = '2026-11-21T11:00:00Z';
const events = [
  JSON.parse(read('deploy/sample/event-balance.json')),
  JSON.parse(read('deploy/sample/event-voucher.json')),
  h.balanceEvent({ id: 'bal-1', occurred_at: NOW_ISO }),
  h.balanceEvent({ id: 'bal-2', occurred_at: NOW_ISO, office_code: '0011', data: { account: '9523.1.1012345', currency: 'VND', amount: 0, balance_after: 0, reference: 'UNC-0042', counterparty: { name: 'Công ty TNHH Đà Nẵng', account: '0071000123456', bank: 'Vietcombank' } } }),
  h.voucherEvent({ id: 'vch-1' }),
  h.voucherEvent({ id: 'vch-2', data: { voucher: { number: '1', form: 'C2-02a/NS', kind: 'refund', amount: 1, account: 'a' }, status: 'rejected', previous_status: 'checking', reason: 'thiếu chữ ký' } }),
];
// the unit tests' two events (written with ' for ")
const unit = read('tests/unit/test_event.c');
for (const v of ['balance_text', 'voucher_text']) {
  const m = unit.match(new RegExp(`${v} =\\s*([\\s\\S]*?);\\n`));
  const text = [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1]).join('').replace(/'/g, '"');
  events.push(JSON.parse(JSON.parse(`"${text.replace(/"/g, '\\"').replace(/\\\\u/g, '\\u')}"`)));
}
// the integration tests' invalid event (every field wrong)
events.push({ id: 'x y', type: 'voucher.status_changed', occurred_at: '2026-11-21 10:15', unit_code: '12', data: { voucher: { number: '', form: 'C2-02a/NS', kind: 'theft', amount: -5, account: '9523', signatures: [{ role: 'boss' }] }, status: 'rejected', extra: 1 } });
for (const e of events) {
  put('event', JSON.stringify(e));
  put('jsonbody', JSON.stringify(e, null, 2));
}
put('jsonbody', JSON.stringify({ events: events.slice(0, 3) }));
for (const b of docBlocks('json')) put('jsonbody', b);
// the app's bodies (tests/integration/app.test.js)
put('jsonbody', JSON.stringify({ login: 'nguyenvana.1000001', activation_code: 'ABCDE12345', device: { platform: 'android', push_token: 'tok', app_version: '1.0', os_version: '14', model: 'Pixel' } }));
put('jsonbody', JSON.stringify({ lang: 'en', min_amount: 1000000, quiet_hours: { from: '22:00', to: '06:30' }, toggles: { 'balance.changed': false } }));
put('jsonbody', `${'['.repeat(32)}${']'.repeat(32)}`);
put('jsonbody', '{"a":1,"a":2}');

// ---- webhook: "id\ntimestamp\nsignature\nbody" under the harness's first key (32 bytes of 'A')
const NOW = 1795262400;
const key = Buffer.alloc(32, 0x41);
const sig = (id, ts, body) => `v1,${crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
for (const [i, e] of events.slice(0, 4).entries()) {
  const body = JSON.stringify(e);
  const id = `msg_${i}`;
  put('webhook', `${id}\n${NOW}\n${sig(id, NOW, body)}\n${body}`);
  put('webhook', `${id}\n${NOW - 299}\nv1,AAAA v2,xyz ${sig(id, NOW - 299, body)}\n${body}`);
}
put('webhook', `msg_t\n${NOW + 400}\nv1,AAAA v2,xyz\n{}`);
put('webhook', `msg_t\nabc\n\n{}`);

// ---- roster: the sample, as spreadsheets save it, and the integration tests' malformed files
const sample = read('deploy/sample/roster.csv');
const HEADER = sample.split('\n')[0];
const lines = sample.trimEnd().split('\n');
put('roster', sample);
put('roster', `\ufeff${sample.replace(/\n/g, '\r\n')}`);
put('roster', sample.replace(/\n/g, '\r')); // CR-only line ends: refused (the harness found them accepted)
put('roster', `${lines.slice(0, 3).join('\n')}\n,,,,,,,,,,,,\n\n`);
put('roster', `${HEADER}\n"0011","KBNN ""khu vực"" I",0001,1000001,"Trường, THCS",,,9523.1.1012345; 9527.1.1012345,a.1,"Nguye\u0302\u0303n",a@b.vn,+84912345678,account_holder;accountant\n`);
put('roster', `${lines[0]}\n${lines[1].replace('account_holder', 'cashier')}\n${lines[1]}\n`);
put('roster', `office_code,office_name\n${lines[1]}\n`);
put('roster', `${HEADER}\n"unterminated,${lines[1]}\n`);

// ---- config: the example, the integration tests' files, the docs' INI blocks, environment overrides
put('config', read('deploy/alertd.conf.example'));
put('config', '[database]\nurl = "host=/tmp dbname=alertd_test"\npool_size = 4\n[http]\nlisten = 127.0.0.1:18080\nthreads = 2\n[log]\nlevel = info\nformat = json\n');
put('config', '[http]\nlisten = [::1]:8080\ntrust_forwarded_for = on\n[metrics]\ntoken_sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n%%env\nALERTD_HTTP_THREADS=8\nALERTD_DATABASE_URL=postgresql://u@h/db\n');
for (const b of docBlocks('ini')) put('config', b);

// ---- router: "METHOD PATH" for every route of the real table, and near misses
const routes = [...read('server/api/api_routes.c').matchAll(/\{ "([A-Z]+)", "([^"]+)"/g)];
const sampleParam = { source: 'tabmis', login: 'nguyenvana.1000001', id: '42' };
for (const [, method, pattern] of routes) {
  const p = pattern.replace(/\{(\w+)\}/g, (_, n) => sampleParam[n] || 'x');
  put('router', `${method} ${p}`);
}
for (const r of ['HEAD /healthz', 'OPTIONS /v1/app/device', 'GET /v1/app/alerts/1/read', 'GET /healthz/', 'GET //healthz', 'GET /v1/app/alerts/..', `GET /v1/app/alerts/${'9'.repeat(129)}`]) put('router', r);

// ---- dictionaries (libFuzzer -dict): the tokens each input format is made of
function dict(name, words) {
  const esc = (w) => w.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, (c) => [...Buffer.from(c)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''));
  const uniq = [...new Set(words)].filter((w) => w.length > 0);
  fs.writeFileSync(path.join(__dirname, `${name}.dict`), `# ${name}.dict - written by tests/fuzz/seed.js\n${uniq.map((w) => `"${esc(w)}"`).join('\n')}\n`);
}
const JSON_TOKENS = ['{', '}', '[', ']', ':', ',', '"', 'true', 'false', 'null', '-', '0', '1e9', '0.5', '\\u0000', '\\ud800', '\\"', '"":'];
// every quoted word of event.c's field and value tables
const eventWords = [...read('server/ingest/event.c').matchAll(/^static const char \*const \w+\[\] = \{([^}]*)\}/gms)]
  .flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((w) => w[1]));
dict('event', [...JSON_TOKENS, ...eventWords.map((w) => `"${w}":`), ...eventWords.map((w) => `"${w}"`), '"2026-11-21T10:15:00+07:00"', '"1000001"', '"VND"', '9000000000000000', '-9000000000000001']);
dict('jsonbody', JSON_TOKENS);
dict('roster', [...HEADER.split(','), 'account_holder', 'chief_accountant', 'accountant', ',', ';', '"', '""', '\r\n', '\n', '\r', '\ufeff', '\u00a0', '\u3000', 'e\u0302\u0303', '@', '+84', '9523.1.1012345']);
const example = read('deploy/alertd.conf.example');
const confWords = [...example.matchAll(/^\[(\w+)\]$/gm)].map((m) => `[${m[1]}]`)
  .concat([...example.matchAll(/^#?\s*(\w+) = (.*)$/gm)].flatMap((m) => [`${m[1]} = `, m[2]]));
dict('config', [...confWords, '%%env\n', 'ALERTD_', '=', '"', '#', ';', 'on', 'off', '[::1]:', '127.0.0.1:', '\n']);
dict('router', ['GET ', 'HEAD ', 'POST ', 'PUT ', 'DELETE ', 'PATCH ', ...new Set(routes.flatMap(([, , p]) => p.split('/').filter((s) => s && !s.startsWith('{')).map((s) => `/${s}`))), '/', '//', '/.', '/..', '%00', '%2F']);
dict('webhook', ['v1,', 'v2,', ' ', '\n', '=', '==', 'msg_', '1795262400']);
