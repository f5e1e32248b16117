'use strict';
// spec_report.js - prints the contract coverage of an integration run:
// operations and (operation, status) pairs the suite received vs those
// docs/openapi.yaml documents, and every response that did not match the spec
// (each distinct mismatch once, with its count). Reads the lines spec_check.js
// appended to FILE. Usage: node spec_report.js FILE; exit 1 when any mismatch.

const fs = require('node:fs');
const yaml = require('js-yaml');
const { SPEC } = require('./spec_check');

const doc = yaml.load(fs.readFileSync(SPEC, 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const ops = new Map();
for (const [p, item] of Object.entries(doc.paths || {}))
  for (const m of METHODS)
    if (item[m]) ops.set(item[m].operationId || `${m.toUpperCase()} ${p}`, new Set(Object.keys(item[m].responses || {})));
const pairs = [...ops.values()].reduce((n, s) => n + s.size, 0);

const seenOps = new Set();
const seenPairs = new Set();
const bad = new Map();
const lines = fs.existsSync(process.argv[2]) ? fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean) : [];
for (const l of lines) {
  const r = JSON.parse(l);
  if (r.ok) {
    seenOps.add(r.op);
    const st = ops.get(r.op);
    const key = st && (st.has(String(r.status)) ? String(r.status) : st.has(`${String(r.status)[0]}XX`) ? `${String(r.status)[0]}XX` : 'default');
    seenPairs.add(`${r.op} ${key}`);
  } else bad.set(r.error, (bad.get(r.error) || 0) + 1);
}
console.log(`== API contract (docs/openapi.yaml): ${lines.length} responses checked, ${lines.length - [...bad.values()].reduce((a, b) => a + b, 0)} matched`);
console.log(`   operations exercised ${seenOps.size} of ${ops.size} documented; (operation, status) pairs ${seenPairs.size} of ${pairs}`);
const missing = [...ops.keys()].filter((o) => !seenOps.has(o));
if (missing.length) console.log(`   operations never exercised: ${missing.join(', ')}`);
if (bad.size) {
  console.log(`   ${bad.size} distinct mismatches:`);
  for (const [e, n] of [...bad].sort()) console.log(`   ${n}x ${e}`);
}
process.exit(bad.size ? 1 : 0);
