'use strict';
// fanout.test.js - events become alerts and outbox rows in the same
// transaction: a unit of three users with 0, 1 and 2 devices, both event
// types through the real ingest endpoint, risk rules, preferences (language,
// min_amount, toggles, quiet hours), privacy mode, re-routing of events that
// waited for the roster, the app inbox, and kill -9 mid-burst.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./harness');

let db, kek, srv, secret;
const users = {};

function q(sql) {
  return h.psql(db, sql);
}

function alertsFor(eventId) {
  const rows = q(`SELECT u.dvctt_login || '|' || a.kind || '|' || a.severity || '|' || COALESCE(a.risk_rule, '-') || '|' || a.lang || '|' || a.title || '|' || a.body
    FROM alerts a JOIN users u ON u.id = a.user_id WHERE a.event_id = ${eventId} ORDER BY u.dvctt_login`);
  return rows ? rows.split('\n').map((r) => {
    const [login, kind, severity, rule, lang, title, body] = r.split('|');
    return { login, kind, severity, rule, lang, title, body };
  }) : [];
}

function outboxFor(eventId) {
  const rows = q(`SELECT u.dvctt_login || '|' || o.provider || '|' || o.priority || '|' || COALESCE(o.collapse_key, '-') || '|' || o.state || '|' || extract(epoch FROM o.due_at - now())::int
    FROM push_outbox o JOIN alerts a ON a.id = o.alert_id JOIN users u ON u.id = a.user_id WHERE a.event_id = ${eventId} ORDER BY u.dvctt_login, o.device_id`);
  return rows ? rows.split('\n').map((r) => {
    const [login, provider, priority, collapse, state, dueIn] = r.split('|');
    return { login, provider, priority, collapse, state, dueIn: Number(dueIn) };
  }) : [];
}

async function post(ev) {
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 202, r.body);
  return Number(q(`SELECT id FROM events WHERE external_id = '${ev.id}'`));
}

test.before(async () => {
  db = h.createDatabase('fanout');
  kek = h.createKek();
  h.migrate(db);
  q(`INSERT INTO offices (code, name, level) VALUES ('0001', 'Kho bạc Nhà nước', 1);
     INSERT INTO offices (code, name, parent_code, level) VALUES ('0011', 'KBNN khu vực I', '0001', 2);
     INSERT INTO budget_units (code, name, office_code) VALUES ('1000001', 'Trường THCS Nguyễn Du', '0011'), ('1000002', 'Trạm Y tế', '0011');
     INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('a.holder', '1000001', 'Trần Thị Bình'), ('b.chief', '1000001', 'Lê Văn Cường'),
       ('c.acct', '1000001', 'Phạm Thu Hà'), ('z.other', '1000002', 'Đỗ Minh Khoa');
     INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login = 'a.holder';
     INSERT INTO user_roles SELECT id, r::user_role FROM users, unnest(ARRAY['chief_accountant', 'accountant']) r WHERE dvctt_login = 'b.chief';
     INSERT INTO user_roles SELECT id, 'accountant' FROM users WHERE dvctt_login IN ('c.acct', 'z.other');
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-b1' FROM users WHERE dvctt_login = 'b.chief';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'ios', 'apns-c1' FROM users WHERE dvctt_login = 'c.acct';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-c2' FROM users WHERE dvctt_login = 'c.acct';
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'fcm-z1' FROM users WHERE dvctt_login = 'z.other';`);
  for (const l of ['a.holder', 'b.chief', 'c.acct']) users[l] = Number(q(`SELECT id FROM users WHERE dvctt_login = '${l}'`));
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0001']).secret;
  // the unit-level opt-in is tested below, so the service-wide default (on) is turned off here
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek, { alerts: { privacy_mode: 'off' } }) });
});
test.after(async () => {
  if (srv) await srv.stop();
});

test('balance.changed: one alert per user of the unit (none elsewhere), one outbox row per active device', async () => {
  const id = await post(h.balanceEvent({ occurred_at: '2026-11-21T10:15:00+07:00' }));
  const alerts = alertsFor(id);
  assert.deepEqual(alerts.map((a) => a.login), ['a.holder', 'b.chief', 'c.acct']);
  for (const a of alerts) {
    assert.equal(a.kind, 'balance.changed');
    assert.equal(a.severity, 'info');
    assert.equal(a.lang, 'vi');
    assert.equal(a.title, 'Biến động số dư');
    assert.equal(a.body, 'TK …2345: -1.500.000 VND lúc 10:15 21/11/2026. Số dư: 120.000.000 VND. ND: Chi lương tháng 11');
  }
  const out = outboxFor(id);
  assert.deepEqual(out.map((o) => `${o.login}:${o.provider}`), ['b.chief:fcm', 'c.acct:apns', 'c.acct:fcm']);
  for (const o of out) {
    assert.equal(o.priority, 'normal');
    assert.match(o.collapse, /^bal-[0-9a-f]{32}$/, 'an opaque key, not the account');
    assert.equal(o.collapse, out[0].collapse);
    assert.equal(o.state, 'pending');
    assert.ok(Math.abs(o.dueIn) <= 5);
  }
  assert.equal(q(`SELECT count(*) FROM alerts a JOIN users u ON u.id = a.user_id WHERE u.dvctt_login = 'z.other'`), '0');
});

test('a phone whose access token lapsed gets no outbox row: it must activate again first', async () => {
  q(`UPDATE devices SET access_token_hash = sha256('lapsed'::bytea), access_token_expires_at = now() - interval '1 minute'
     WHERE push_token = 'apns-c1'`);
  try {
    const id = await post(h.balanceEvent());
    assert.deepEqual(outboxFor(id).map((o) => `${o.login}:${o.provider}`), ['b.chief:fcm', 'c.acct:fcm']);
    assert.equal(alertsFor(id).length, 3, 'the user still gets the alert in the app inbox');
  } finally {
    q(`UPDATE devices SET access_token_hash = NULL, access_token_expires_at = NULL WHERE push_token = 'apns-c1'`);
  }
});

test('a duplicate delivery creates nothing more', async () => {
  const ev = h.balanceEvent();
  const id = await post(ev);
  const before = q('SELECT count(*) FROM alerts') + '/' + q('SELECT count(*) FROM push_outbox');
  const again = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(again.json.status, 'duplicate');
  assert.equal(q('SELECT count(*) FROM alerts') + '/' + q('SELECT count(*) FROM push_outbox'), before);
  assert.equal(alertsFor(id).length, 3);
});

test('voucher status: info alert in each user\'s language; English for a user who chose it', async () => {
  q(`INSERT INTO user_preferences (user_id, lang) VALUES (${users['c.acct']}, 'en')`);
  const ev = h.voucherEvent({ occurred_at: '2026-11-19T10:15:00+07:00' });
  ev.data.voucher.kind = 'payment_order';
  ev.data.voucher.form = 'C4-02a/NS';
  ev.data.voucher.amount = 25000000;
  ev.data.voucher.signatures[1].signed_at = '2026-11-19T10:14:59+07:00';
  ev.data.voucher.signatures[0].signed_at = '2026-11-19T09:00:00+07:00';
  ev.data.voucher.beneficiary = undefined;
  delete ev.data.voucher.beneficiary;
  const id = await post(ev);
  const alerts = alertsFor(id);
  assert.deepEqual(alerts.map((a) => [a.login, a.lang, a.severity]), [['a.holder', 'vi', 'info'], ['b.chief', 'vi', 'info'], ['c.acct', 'en', 'info']]);
  assert.equal(alerts[0].body, 'Chứng từ 000456 (Ủy nhiệm chi) 25.000.000 VND: KBNN đã tiếp nhận');
  assert.equal(alerts[2].title, 'Voucher status update');
  assert.equal(alerts[2].body, 'Voucher 000456 (payment order) 25,000,000 VND: received by the State Treasury');
});

test('risk: signatures seconds apart on a cash withdrawal is a high-priority risk alert naming the rule; a later status does not repeat it', async () => {
  const ev = h.voucherEvent(); // a cash withdrawal whose two signatures are 4 s apart, on a Friday morning
  ev.data.status = 'submitted';
  ev.data.voucher.number = '000789'; // a voucher this unit has not sent before
  delete ev.data.previous_status;
  ev.occurred_at = '2026-11-20T10:15:00+07:00';
  ev.data.voucher.signatures[0].signed_at = '2026-11-20T10:14:01+07:00';
  ev.data.voucher.signatures[1].signed_at = '2026-11-20T10:14:05+07:00';
  const id = await post(ev);
  const alerts = alertsFor(id);
  assert.equal(alerts.length, 3);
  for (const a of alerts) {
    assert.equal(a.severity, 'risk');
    assert.equal(a.rule, 'signature_gap');
  }
  const rules = JSON.parse(q(`SELECT details->'risk_rules' FROM alerts WHERE event_id = ${id} LIMIT 1`));
  assert.deepEqual(rules.sort(), ['cash_withdrawal', 'new_beneficiary', 'signature_gap']);
  assert.ok(outboxFor(id).every((o) => o.priority === 'high' && o.collapse === '-'));
  // the same voucher approved: cash_withdrawal still fires at approved, the signature rules do not repeat
  const approved = { ...ev, id: `${ev.id}-approved`, occurred_at: '2026-11-20T11:00:00+07:00', data: { ...ev.data, status: 'approved', previous_status: 'submitted' } };
  const id2 = await post(approved);
  const a2 = alertsFor(id2);
  assert.ok(a2.every((a) => a.severity === 'risk' && a.rule === 'cash_withdrawal'), JSON.stringify(a2));
  assert.deepEqual(JSON.parse(q(`SELECT details->'risk_rules' FROM alerts WHERE event_id = ${id2} LIMIT 1`)), ['cash_withdrawal']);
});

test('preferences: min_amount and toggles mute info alerts, never risk alerts; quiet hours delay info pushes only', async () => {
  q(`INSERT INTO user_preferences (user_id, min_amount) VALUES (${users['b.chief']}, 10000000)
     ON CONFLICT (user_id) DO UPDATE SET min_amount = 10000000`);
  q(`INSERT INTO user_preferences (user_id, toggles) VALUES (${users['a.holder']}, '{"balance.changed": false}')
     ON CONFLICT (user_id) DO UPDATE SET toggles = '{"balance.changed": false}'`);
  // quiet hours around now (Vietnam time) for c.acct
  q(`UPDATE user_preferences SET quiet_from = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh' - interval '1 hour')::time,
     quiet_to = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh' + interval '1 hour')::time WHERE user_id = ${users['c.acct']}`);
  const small = await post(h.balanceEvent({ data: { account: '9523.1.1012345', amount: -1500000, balance_after: 1 } }));
  assert.deepEqual(alertsFor(small).map((a) => a.login), ['c.acct'], 'muted by min_amount (b) and by the toggle (a)');
  const due = outboxFor(small);
  assert.equal(due.length, 2);
  for (const o of due) assert.ok(o.dueIn > 3000 && o.dueIn <= 3600, `due in ${o.dueIn}s: at the end of quiet hours`);
  // an outflow at the large-amount threshold is a risk alert for everyone, due now
  const big = await post(h.balanceEvent({ data: { account: '9523.1.1012345', amount: -500000000, balance_after: 1 } }));
  const risk = alertsFor(big);
  assert.deepEqual(risk.map((a) => [a.login, a.severity, a.rule]), [['a.holder', 'risk', 'large_amount'], ['b.chief', 'risk', 'large_amount'], ['c.acct', 'risk', 'large_amount']]);
  assert.ok(outboxFor(big).every((o) => Math.abs(o.dueIn) <= 5 && o.priority === 'high'));
  q(`UPDATE user_preferences SET min_amount = 0, toggles = '{}', quiet_from = NULL, quiet_to = NULL`);
});

test('a unit in privacy mode: the alert keeps its details for the app, the push is marked generic', async () => {
  q("UPDATE budget_units SET privacy_mode = true WHERE code = '1000001'");
  try {
    const id = await post(h.balanceEvent());
    assert.equal(q(`SELECT DISTINCT details->>'push_privacy' FROM alerts WHERE event_id = ${id}`), 'true');
    assert.match(alertsFor(id)[0].body, /1\.500\.000 VND/);
  } finally {
    q("UPDATE budget_units SET privacy_mode = false WHERE code = '1000001'");
  }
});

test('privacy mode is on by default: with no option, every push of every unit is generic', async () => {
  const plain = await h.startServer({ db, config: h.ingestConfig(db, kek) });
  try {
    assert.equal(q("SELECT privacy_mode FROM budget_units WHERE code = '1000001'"), 'f');
    const r = await h.postSigned(plain, 'tabmis', secret, h.balanceEvent());
    assert.equal(r.status, 202, r.body);
    const id = Number(q(`SELECT id FROM events WHERE external_id = '${r.json.id}'`));
    assert.equal(q(`SELECT string_agg(DISTINCT details->>'push_privacy', ',') FROM alerts WHERE event_id = ${id}`), 'true');
  } finally {
    await plain.stop();
  }
});

test('events that waited for their unit are routed when it joins the roster: young ones alerted, old ones not', async () => {
  const young = h.balanceEvent({ unit_code: '1000003' });
  const old = h.balanceEvent({ unit_code: '1000003', occurred_at: new Date(Date.now() - 4 * 86400000).toISOString().replace(/\.\d+Z$/, 'Z') });
  const ry = await h.postSigned(srv, 'tabmis', secret, young);
  const ro = await h.postSigned(srv, 'tabmis', secret, old);
  assert.equal(ry.json.routed, false);
  assert.equal(ro.json.routed, false);
  q(`INSERT INTO budget_units (code, name, office_code) VALUES ('1000003', 'UBND Phường 2', '0011');
     INSERT INTO users (dvctt_login, unit_code, full_name) VALUES ('n.new', '1000003', 'Nguyễn Văn Mới');`);
  const m = h.runAlertd(['maintenance', '--config', h.writeConfig(h.ingestConfig(db, kek))]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /events routed: 2, alerts created: 1/);
  const yid = q(`SELECT id FROM events WHERE external_id = '${young.id}'`);
  const oid = q(`SELECT id FROM events WHERE external_id = '${old.id}'`);
  assert.deepEqual(alertsFor(yid).map((a) => a.login), ['n.new']);
  assert.deepEqual(alertsFor(oid), []);
  assert.equal(q(`SELECT count(*) FROM events WHERE unit_code = '1000003' AND routed_at IS NULL`), '0');
});

test('alerts reach the app inbox', async () => {
  const code = q("SELECT 1"); // keep psql warm
  assert.equal(code, '1');
  const r = h.runAlertd(['admin-key', 'add', 'fanout-admin', '--office', '0001', '--scope', 'roster,activation,unrouted', '--config', h.writeConfig(h.ingestConfig(db, kek))]);
  const key = r.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  const issued = await h.request(srv.url, 'POST', '/v1/admin/users/b.chief/activation-code', { headers: { authorization: `Bearer ${key}` } });
  const act = await h.request(srv.url, 'POST', '/v1/app/activate', { headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'b.chief', activation_code: issued.json.activation_code, device: { platform: 'android', push_token: 'fcm-b2' } }) });
  assert.equal(act.status, 201, act.body);
  const ev = h.balanceEvent({ data: { account: '9523.1.1012345', amount: 777000, balance_after: 1 } });
  await post(ev);
  const inbox = await h.request(srv.url, 'GET', '/v1/app/alerts?limit=5', { headers: { authorization: `Bearer ${act.json.access_token}` } });
  assert.equal(inbox.status, 200);
  const mine = inbox.json.items.find((a) => a.body.includes('+777.000 VND'));
  assert.ok(mine, JSON.stringify(inbox.json.items.map((a) => a.body)));
  assert.equal(mine.kind, 'balance.changed');
  assert.equal(mine.event.id, Number(q(`SELECT id FROM events WHERE external_id = '${ev.id}'`)));
});

test('kill -9 mid-burst: no stored event of a known unit is left without its alerts', async () => {
  const victim = await h.startServer({ db, config: h.ingestConfig(db, kek) });
  const firstId = Number(q('SELECT COALESCE(max(id), 0) FROM events'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let stop = false;
  const worker = async () => {
    while (!stop) {
      try {
        await h.postSigned(victim, 'tabmis', secret, h.balanceEvent(), { agent });
      } catch (_) {
        /* killed */
      }
    }
  };
  const ws = Array.from({ length: 16 }, worker);
  await h.sleep(1200);
  victim.proc.kill('SIGKILL');
  await victim.exited;
  stop = true;
  await Promise.all(ws);
  agent.destroy();
  const stored = Number(q(`SELECT count(*) FROM events WHERE unit_code = '1000001' AND id > ${firstId}`));
  assert.ok(stored > 50, `only ${stored} events`);
  // every event stored during the burst has exactly its three alerts (nothing mutes them now)
  assert.equal(q(`SELECT count(*) FROM events e WHERE e.unit_code = '1000001' AND e.id > ${firstId}
    AND (SELECT count(*) FROM alerts a WHERE a.event_id = e.id) <> 3`), '0');
});
