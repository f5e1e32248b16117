'use strict';
// docs_lists.test.js - the docs list what the code has, both ways: every
// metric family alertd can expose has a row in docs/operator-guide.md §7's
// metric table and every row there is a family alertd exposes; every CLI
// command of `alertd --help` is shown as `alertd COMMAND` somewhere in the
// docs (docs/*.md, README.md) and every `alertd WORD` in an inline code span
// there is a real command; every option of `alertd config-reference` is in
// docs/config.md (config.test.js also checks that the table is the generated
// one). A new metric, command or option without docs fails, and so do docs
// of one that was removed.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const read = (...p) => fs.readFileSync(path.join(h.ROOT, ...p), 'utf8');
const docs = () => [...fs.readdirSync(path.join(h.ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => read('docs', f)), read('README.md')].join('\n');

function diff(code, documented) {
  return { undocumented: [...code].filter((x) => !documented.has(x)).sort(), stale: [...documented].filter((x) => !code.has(x)).sort() };
}

test('every metric family is in the operator guide\'s metric table, and every row is a real family', () => {
  const src = fs.readdirSync(path.join(h.ROOT, 'server'), { recursive: true }).filter((f) => f.endsWith('.c')).map((f) => read('server', f)).join('\n');
  const families = new Set([
    ...[...src.matchAll(/# TYPE (alertd_[a-z0-9_]+) /g)].map((m) => m[1]),
    // the counter table in core/metrics.c: { "name", "labels", "help" }
    ...[...read('server', 'core', 'metrics.c').matchAll(/\{ "(alertd_[a-z0-9_]+)", "/g)].map((m) => m[1]),
  ]);
  const guide = read('docs', 'operator-guide.md');
  const section = guide.slice(guide.indexOf('## 7. Metrics'), guide.indexOf('## 8. Logs'));
  const rows = new Set([...section.matchAll(/^\| `(alertd_[a-z0-9_]+)` \|/gm)].map((m) => m[1]));
  assert.ok(families.size >= 20, `only ${families.size} families found in server/`);
  assert.deepEqual(diff(families, rows), { undocumented: [], stale: [] });
});

test('every CLI command is documented, and every documented `alertd COMMAND` exists', () => {
  const help = h.runAlertd(['--help']);
  const text = help.stdout + help.stderr;
  const list = text.slice(text.indexOf('commands:'), text.indexOf('Every option'));
  const commands = new Set([...list.matchAll(/^  ([a-z][a-z-]+)/gm)].map((m) => m[1]));
  assert.ok(commands.has('serve') && commands.size >= 15, `commands read from --help: ${[...commands]}`);
  commands.add('help'); // prints that list itself (server/cli/main.c), so it is not in it
  const documented = new Set([...docs().matchAll(/`alertd ([a-z][a-z-]*)/g)].map((m) => m[1]));
  assert.deepEqual(diff(commands, documented), { undocumented: [], stale: [] });
});

test('every option is in docs/config.md, and every option there exists', () => {
  const ref = h.runAlertd(['config-reference']).stdout;
  const options = new Set([...ref.matchAll(/^\| `([a-z_]+\.[a-z_]+)` \|/gm)].map((m) => m[1]));
  const documented = new Set([...read('docs', 'config.md').matchAll(/^\| `([a-z_]+\.[a-z_]+)` \|/gm)].map((m) => m[1]));
  assert.ok(options.size > 50, `${options.size} options`);
  assert.deepEqual(diff(options, documented), { undocumented: [], stale: [] });
});
