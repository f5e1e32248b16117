'use strict';
// metrics-promtool.js - Prometheus's own parser on alertd's /metrics (run by
// check-metrics.sh). The alertd has done real work first, so the families
// have samples and labels: events ingested (one good, one with a bad
// signature), alerts fanned out to a unit's users and pushed (push provider
// "log"), a 404 and a 401. `promtool check metrics` must exit 0 with no
// finding: it checks the text format, HELP and TYPE lines, and Prometheus's
// naming rules (counters end in _total, units in base units, ...).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const h = require('../integration/harness');

const TOKEN = 'metrics-check-token-0123456789';
const PROMTOOL = '/usr/bin/promtool';

test('promtool check metrics on a real scrape', async () => {
  const db = h.createDatabase('metrics');
  const kek = h.createKek();
  h.migrate(db);
  h.psql(db, `INSERT INTO offices (code, name, level) VALUES ('0001', 'KBNN', 1);
    INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Lê Lợi', '0001');
    INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('holder1', '1000001', 'Trần Thị Bình'), ('chief1', '1000001', 'Lê Văn Cường');
    INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login = 'holder1';
    INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login = 'chief1';
    INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'tok-' || dvctt_login FROM users;`);
  const secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  const srv = await h.startServer({ db, config: h.ingestConfig(db, kek, {
    push: { provider: 'log' },
    metrics: { token_sha256: crypto.createHash('sha256').update(TOKEN).digest('hex') },
  }) });
  try {
    assert.equal((await h.postSigned(srv, 'tabmis', secret, h.balanceEvent())).status, 202);
    assert.equal((await h.postSigned(srv, 'tabmis', `whsec_${Buffer.alloc(32, 1).toString('base64')}`, h.balanceEvent())).status, 401);
    assert.equal((await h.request(srv.url, 'GET', '/v1/app/me')).status, 401);
    await h.eventually(() => h.psql(db, "SELECT count(*) FROM push_outbox WHERE state = 'sent'") === '2', 15000);
    const scrape = await h.request(srv.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(scrape.status, 200);
    const families = scrape.body.split('\n').filter((l) => l.startsWith('# TYPE ')).length;
    const samples = scrape.body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: scrape.body, encoding: 'utf8' });
    console.log(`promtool check metrics: exit ${r.status}, ${families} families, ${samples} samples${r.stdout || r.stderr ? `:\n${r.stdout}${r.stderr}` : ', no finding'}`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), '', 'promtool reported findings');
    assert.ok(families >= 15, `only ${families} metric families`);
  } finally {
    await srv.stop();
  }
});
