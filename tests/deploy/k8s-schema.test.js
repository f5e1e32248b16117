'use strict';
// k8s-schema.test.js - deploy/k8s/alertd.yaml validated against the
// Kubernetes API's own OpenAPI schemas, without a cluster (none runs where
// this project is tested): npm kubernetes-models (tests/package.json), whose
// classes carry the schemas of the Kubernetes release they were generated
// from and validate with ajv: types, enums, required fields, int-or-string.
// It does not refuse unknown fields (kubectl --validate=strict would), so a
// misspelt field passes here; the settings that matter (probes, limits,
// security context, selectors) are checked by name in check-k8s.py.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');

const FILE = path.join(__dirname, '..', '..', 'deploy', 'k8s', 'alertd.yaml');

// kind -> [module, class] for the API versions the file may use
const MODELS = {
  'apps/v1 Deployment': ['kubernetes-models/apps/v1', 'Deployment'],
  'policy/v1 PodDisruptionBudget': ['kubernetes-models/policy/v1', 'PodDisruptionBudget'],
  'v1 Service': ['kubernetes-models/v1', 'Service'],
};

async function modelFor(doc) {
  const key = `${doc.apiVersion} ${doc.kind}`;
  const m = MODELS[key];
  assert.ok(m, `no schema for ${key} (add it to MODELS)`);
  return (await import(m[0]))[m[1]];
}

const docs = yaml.loadAll(fs.readFileSync(FILE, 'utf8')).filter(Boolean);

test('every object of deploy/k8s/alertd.yaml is valid against its Kubernetes API schema', async () => {
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['Deployment', 'PodDisruptionBudget', 'Service']);
  for (const doc of docs) {
    const Model = await modelFor(doc);
    assert.doesNotThrow(() => new Model(doc).validate(), `${doc.kind} ${doc.metadata && doc.metadata.name}`);
    console.log(`valid: ${doc.apiVersion} ${doc.kind} ${doc.metadata.name}`);
  }
});

// The validator must be able to say no, or the test above proves nothing.
test('the validator refuses a wrong type, a missing required field and a bad int-or-string', async () => {
  const dep = docs.find((d) => d.kind === 'Deployment');
  const Deployment = await modelFor(dep);
  const cases = [
    ['replicas as text', (d) => { d.spec.replicas = 'two'; }, /spec\/replicas must be integer/],
    ['no selector', (d) => { delete d.spec.selector; }, /spec must have required property selector/],
    ['probe port an object', (d) => { d.spec.template.spec.containers[0].readinessProbe.httpGet.port = {}; }, /httpGet\/port/],
    ['runAsNonRoot as text', (d) => { d.spec.template.spec.securityContext.runAsNonRoot = 'yes'; }, /runAsNonRoot must be boolean/],
  ];
  for (const [what, mutate, message] of cases) {
    const bad = structuredClone(dep);
    mutate(bad);
    assert.throws(() => new Deployment(bad).validate(), message, what);
  }
});
