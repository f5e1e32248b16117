'use strict';
// reload.test.js - SIGHUP configuration reload (docs/operations.md §7): a
// reloadable change (an admin rate limit, push.max_attempts, the notices link
// allow-list, the log level and format) changes what the running server does;
// a restart-only change (http.listen, http.threads, database.url) is named in
// the log, never with its value, and not applied; a broken file leaves the
// server running on its old configuration with the error logged; reloads
// under a light load of requests lose none of them.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const h = require('./harness');

let db, kek, secret, mock, srv, author;
const TOKEN = 'fcm-reload-flaky-1';

function q(sql) {
  return h.psql(db, sql);
}

// Set section.key = value in the INI file (the harness wrote it), adding the section or key if missing.
function setOption(file, section, key, value) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let cur = null;
  let sectionEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    const m = /^\[(.+)\]$/.exec(lines[i].trim());
    if (m) { cur = m[1]; continue; }
    if (cur !== section) continue;
    sectionEnd = i;
    if (new RegExp(`^${key}\\s*=`).test(lines[i].trim())) {
      lines[i] = `${key} = ${value}`;
      fs.writeFileSync(file, lines.join('\n'));
      return;
    }
  }
  if (sectionEnd >= 0) lines.splice(sectionEnd + 1, 0, `${key} = ${value}`);
  else lines.push(`[${section}]`, `${key} = ${value}`);
  fs.writeFileSync(file, lines.join('\n'));
}

const reloadLines = (s) => s.logLines().filter((l) => /^reload: configuration (reloaded|refused)/.test(l.msg));

// Send SIGHUP and wait for the reload's outcome line; returns it.
async function sighup(s = srv) {
  const before = reloadLines(s).length;
  s.proc.kill('SIGHUP');
  await h.eventually(() => reloadLines(s).length > before, 15000, 50);
  return reloadLines(s)[before];
}

const adminGet = () => h.request(srv.url, 'GET', '/v1/admin/events/unrouted', { headers: { authorization: `Bearer ak_${'x'.repeat(43)}` } });

test.before(async () => {
  db = h.createDatabase('reload');
  kek = h.createKek();
  h.migrate(db);
  secret = h.seedOnePhone(db, kek, TOKEN);
  mock = await h.startMock();
  await mock.control('POST', '/config', { apns_token_update_limit: false });
  srv = await h.startServer({
    db,
    config: { ...h.ingestConfig(db, kek, { admin: { requests_per_ip_per_minute: 100 }, coverage: { refresh_seconds: 10 }, events: { maintenance_interval_seconds: 3600 } }), ...mock.config() },
  });
  author = await h.staffReady(srv, srv.config, 'tac.gia', '0011', 'operator');
});

test.after(async () => {
  if (srv) await srv.stop();
  if (mock) await mock.stop();
});

test('a rate limit changed in the file and SIGHUP applies at once', async () => {
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await adminGet()).status);
  assert.deepEqual(codes, [401, 401, 401, 401], 'the startup limit (100 a minute) lets these through');
  setOption(srv.config, 'admin', 'requests_per_ip_per_minute', 2);
  const line = await sighup();
  assert.equal(line.msg, 'reload: configuration reloaded');
  assert.match(line.applied, /(^|,)admin\.requests_per_ip_per_minute(,|$)/);
  assert.equal(line.restart_required, '');
  const after = [];
  for (let i = 0; i < 4; i++) after.push((await adminGet()).status);
  // the bucket kept its tokens, cut to the new burst of 2
  assert.deepEqual(after, [401, 401, 429, 429]);
  setOption(srv.config, 'admin', 'requests_per_ip_per_minute', 100000);
  await sighup();
});

test('push.max_attempts changed by SIGHUP ends a retrying row at the new limit', async () => {
  await mock.control('POST', '/faults', [{ api: 'fcm', match: { token: TOKEN }, response: 'UNAVAILABLE', times: 1000 }]);
  const id = q(`WITH a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body)
      SELECT id, '1000001', '0011', 'balance.changed', 'vi', 'Biến động số dư', 'TK …2345: +1 VND' FROM users WHERE dvctt_login = 'c.acct' RETURNING id, user_id)
    INSERT INTO push_outbox (alert_id, device_id, provider) SELECT a.id, d.id, 'fcm' FROM a JOIN devices d ON d.user_id = a.user_id RETURNING id`);
  const row = () => q(`SELECT state || ' ' || attempts || ' ' || COALESCE(last_error, '-') FROM push_outbox WHERE id = ${id}`);
  // the startup limit is 10: after 3 failed attempts the row is still being retried
  await h.eventually(() => /^pending [3-9] /.test(row()), 30000, 100);
  setOption(srv.config, 'push', 'max_attempts', 2);
  const line = await sighup();
  assert.match(line.applied, /(^|,)push\.max_attempts(,|$)/);
  await h.eventually(() => row().startsWith('failed '), 20000, 100);
  assert.match(row(), /^failed \d+ max_attempts \(\d+\) reached; last: unavailable/);
  const attempts = Number(row().split(' ')[1]);
  assert.ok(attempts < 10, `ended after ${attempts} attempts, before the old limit of 10`);
  await mock.control('DELETE', '/faults');
});

test('the notices link allow-list changed by SIGHUP applies to the next request', async () => {
  const draft = {
    template: 'phishing',
    title_vi: 'Cảnh giác lừa đảo',
    body_vi: 'Xem hướng dẫn tại https://huongdan.example.org/canh-bao trước khi đăng nhập.',
    target: { office: '0011' },
    send: { mode: 'immediate' },
  };
  const refused = await h.staffCall(srv, author, 'POST', '/v1/staff/notices', draft);
  assert.equal(refused.status, 422, refused.body);
  assert.match(refused.body, /huongdan\.example\.org/);
  setOption(srv.config, 'notices', 'allowed_link_domains', 'kbnn.vn,vst.gov.vn,example.org');
  const line = await sighup();
  assert.match(line.applied, /(^|,)notices\.allowed_link_domains(,|$)/);
  const ok = await h.staffCall(srv, author, 'POST', '/v1/staff/notices', draft);
  assert.equal(ok.status, 201, ok.body);
});

test('a worker interval changed by SIGHUP counts from the job\'s last start, not after the old interval', async () => {
  const runs = () => Number(q("SELECT COALESCE((SELECT runs FROM job_runs WHERE job = 'maintenance'), 0)"));
  await h.eventually(() => runs() === 1, 15000, 100); // the start-up run; the next is an hour away
  setOption(srv.config, 'events', 'maintenance_interval_seconds', 10);
  const line = await sighup();
  assert.match(line.applied, /(^|,)events\.maintenance_interval_seconds(,|$)/);
  await h.eventually(() => runs() >= 2, 30000, 200);
  setOption(srv.config, 'events', 'maintenance_interval_seconds', 3600);
  await sighup();
});

test('restart-only changes are named in the log, values never, and not applied', async () => {
  const port = await h.freePort();
  const before = srv.logs().length;
  setOption(srv.config, 'http', 'listen', `127.0.0.1:${port}`);
  setOption(srv.config, 'http', 'threads', 3);
  // a password in database.url must never reach the log
  const url = fs.readFileSync(srv.config, 'utf8').match(/^url = "(.*)"$/m)[1];
  setOption(srv.config, 'database', 'url', `"${url} password=S3cretReloadPw"`);
  const line = await sighup();
  assert.equal(line.msg, 'reload: configuration reloaded');
  const warned = srv.logLines().filter((l) => l.msg === 'reload: restart required, not applied').map((l) => l.option);
  for (const o of ['http.listen', 'http.threads', 'database.url']) {
    assert.ok(warned.includes(o), `${o} named: ${warned}`);
    assert.match(line.restart_required, new RegExp(`(^|,)${o.replace('.', '\\.')}(,|$)`));
  }
  const logs = srv.logs().slice(before);
  assert.ok(!logs.includes('S3cretReloadPw'), 'a database password reached the log');
  assert.ok(!logs.includes(String(port)), 'a value of a restart-only option reached the log');
  // still on the old address, nothing on the new one
  assert.equal((await h.request(srv.url, 'GET', '/healthz')).status, 200);
  await assert.rejects(h.request(`http://127.0.0.1:${port}`, 'GET', '/healthz'));
  // the old database connection still works (the new url would too: the socket trusts the user)
  assert.equal((await h.staffCall(srv, author, 'GET', '/v1/staff/notices?office=0011')).status, 200);
});

test('a broken file changes nothing: the error is logged by option and the old configuration stays', async () => {
  const good = fs.readFileSync(srv.config, 'utf8');
  try {
    setOption(srv.config, 'admin', 'requests_per_ip_per_minute', 1);
    setOption(srv.config, 'log', 'level', 'loud');
    const line = await sighup();
    assert.equal(line.msg, 'reload: configuration refused, the running configuration is unchanged');
    assert.match(line.error, /log\.level/);
    assert.equal(line.level, 'error');
    // the rate limit of 1 in the same file was not applied either
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await adminGet()).status);
    assert.deepEqual(codes, [401, 401, 401]);
    fs.writeFileSync(srv.config, `${good}\n[nosuch]\nx = 1\n`);
    const unknown = await sighup();
    assert.match(unknown.error, /unknown section \[nosuch\]/);
    fs.writeFileSync(srv.config, good.replace(/allowed_link_domains = .*/, 'allowed_link_domains = KBNN.VN,,'));
    const domains = await sighup();
    assert.match(domains.error, /notices\.allowed_link_domains/);
    assert.equal((await h.request(srv.url, 'GET', '/healthz')).status, 200);
  } finally {
    fs.writeFileSync(srv.config, good);
  }
  const back = await sighup();
  assert.equal(back.msg, 'reload: configuration reloaded');
});

test('reloads under a light load of requests lose none of them', async () => {
  let stop = false;
  const results = { health: 0, ingest: 0, failed: [] };
  const sent = [];
  const loop = async (kind) => {
    while (!stop) {
      try {
        if (kind === 'ingest') {
          const ev = h.balanceEvent();
          const r = await h.postSigned(srv, 'tabmis', secret, ev);
          if (r.status === 202) { results.ingest++; sent.push(ev.id); } else results.failed.push(`ingest ${r.status} ${r.body}`);
        } else {
          const r = await h.request(srv.url, 'GET', '/healthz');
          if (r.status === 200) results.health++; else results.failed.push(`healthz ${r.status}`);
        }
      } catch (e) {
        results.failed.push(`${kind}: ${e.message}`);
      }
    }
  };
  const loops = [loop('health'), loop('health'), loop('ingest'), loop('ingest')];
  try {
    for (let i = 0; i < 5; i++) {
      // requests on both sides of each reload
      const seen = results.health + results.ingest;
      await h.eventually(() => results.health + results.ingest >= seen + 10, 15000, 20);
      setOption(srv.config, 'ingest', 'rate_limit_per_second', 1000 + i);
      const line = await sighup();
      assert.equal(line.msg, 'reload: configuration reloaded');
      assert.match(line.applied, /ingest\.rate_limit_per_second/);
    }
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  assert.deepEqual(results.failed, []);
  assert.ok(results.health > 10 && results.ingest > 5, JSON.stringify({ health: results.health, ingest: results.ingest }));
  const stored = q(`SELECT count(*) FROM events WHERE external_id IN (${sent.map((s) => `'${s}'`).join(',')})`);
  assert.equal(Number(stored), sent.length, 'every accepted event is stored');
});

test('log level and format changed by SIGHUP apply in every thread', async () => {
  const debugLines = () => srv.logLines().filter((l) => l.level === 'debug');
  assert.equal(debugLines().length, 0, 'info level at startup');
  setOption(srv.config, 'log', 'level', 'debug');
  const line = await sighup();
  assert.match(line.applied, /(^|,)log\.level(,|$)/);
  // the maintenance thread's coverage refresh (every 10 s) logs at debug
  await h.eventually(() => debugLines().some((l) => l.msg === 'coverage refreshed'), 30000, 200);
  const before = srv.logs().length;
  setOption(srv.config, 'log', 'format', 'text');
  srv.proc.kill('SIGHUP');
  await h.eventually(() => /reload: configuration reloaded .*applied=log\.format/.test(srv.logs().slice(before)), 15000, 50);
  const text = srv.logs().slice(before).split('\n').filter((l) => l.includes('reload: configuration reloaded'));
  assert.ok(text.length === 1 && !text[0].startsWith('{'), text.join('\n'));
  // to warn: the summary still says so, and the info lines stop (a SIGHUP line would be info)
  const mark = srv.logs().length;
  setOption(srv.config, 'log', 'level', 'warn');
  srv.proc.kill('SIGHUP');
  await h.eventually(() => /reload: configuration reloaded .*applied=log\.level/.test(srv.logs().slice(mark)), 15000, 50);
  const cut = srv.logs().length;
  srv.proc.kill('SIGHUP');
  // the file still differs in restart-only options (the test above): the reload warns about them, at warn
  await h.eventually(() => /warn +reload: restart required, not applied option=database\.url/.test(srv.logs().slice(cut)), 15000, 50);
  const infos = srv.logs().slice(cut).split('\n').filter((l) => / info /.test(l));
  assert.deepEqual(infos, [], 'info lines after the level went to warn');
});
