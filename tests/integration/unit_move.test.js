'use strict';
// unit_move.test.js - a user who moves to another budget unit (roster
// import) no longer reads the old unit's alerts: not in the inbox, not one
// by one, and no read receipt; the alerts about their own account (a new
// device) stay theirs, and the new unit's alerts reach them.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

let db, kek, srv, adminKey, secret;
const HEADER = 'office_code,office_name,parent_office_code,unit_code,unit_name,unit_email,unit_phone,accounts,user_login,user_name,user_email,user_phone,roles';
const UNIT_A = '0011,KBNN khu vực I,,1000001,Trường THCS Nguyễn Du,,,9523.1.1012345';
const UNIT_B = '0011,KBNN khu vực I,,1000002,Trạm Y tế Phường 1,,,9523.1.2000002';

function cfg() {
  return h.writeConfig(h.ingestConfig(db, kek));
}

function importRoster(rows) {
  const file = path.join(h.TMP, `move-${crypto.randomBytes(4).toString('hex')}.csv`);
  fs.writeFileSync(file, [HEADER, ...rows, ''].join('\n'));
  const r = h.runAlertd(['roster', 'import', file, '--config', cfg()]);
  assert.equal(r.code, 0, r.stderr);
}

let pushSeq = 0;
async function activate(login) {
  const code = await h.request(srv.url, 'POST', `/v1/admin/users/${login}/activation-code`, { headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(code.status, 201, code.body);
  pushSeq += 1;
  const r = await h.request(srv.url, 'POST', '/v1/app/activate', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, activation_code: code.json.activation_code, device: { platform: 'android', push_token: `fcm-move-${pushSeq}`, model: 'Pixel 8' } }),
  });
  assert.equal(r.status, 201, r.body);
  return r.json.access_token;
}

function app(token, method, p) {
  return h.request(srv.url, method, p, { headers: { authorization: `Bearer ${token}` } });
}

async function postBalance(unit, account) {
  const ev = h.balanceEvent({ unit_code: unit, data: { account, amount: -1500000, balance_after: 120000000, description: 'Chi lương' } });
  const r = await h.postSigned(srv, 'tabmis', secret, ev);
  assert.equal(r.status, 202, r.body);
  return h.psql(db, `SELECT a.id FROM alerts a JOIN events e ON e.id = a.event_id JOIN users u ON u.id = a.user_id
    WHERE e.external_id = '${ev.id}' AND u.dvctt_login = 'mover'`);
}

test.before(async () => {
  db = h.createDatabase('move');
  kek = h.createKek();
  h.migrate(db);
  importRoster([`${UNIT_A},mover,Phạm Thu Hà,,,accountant`, `${UNIT_A},stayer,Lê Văn Cường,,,chief_accountant`,
    `${UNIT_B},holder2,Đỗ Minh Khoa,,,account_holder`]);
  const k = h.runAlertd(['admin-key', 'add', 'treasury-it', '--office', '0011', '--scope', 'roster,activation,unrouted', '--config', cfg()]);
  assert.equal(k.code, 0, k.stderr);
  adminKey = k.stdout.match(/^key:\s+(ak_\S+)$/m)[1];
  secret = h.sourceCmd(db, kek, ['add', 'tabmis', '--office', '0011']).secret;
  srv = await h.startServer({ db, config: h.ingestConfig(db, kek) });
});

test.after(async () => {
  if (srv) await srv.stop();
});

test('after a move to another unit the old unit\'s alerts are gone from the inbox, one alert and the read receipt', async () => {
  const phone1 = await activate('mover');
  const oldAlert = await postBalance('1000001', '9523.1.1012345');
  assert.match(oldAlert, /^\d+$/, 'the mover got an alert for unit A');
  await activate('mover'); // a second phone: the first gets the security alert about the mover's own account
  const security = h.psql(db, "SELECT a.id FROM alerts a JOIN users u ON u.id = a.user_id WHERE u.dvctt_login = 'mover' AND a.kind = 'security.new_device'");
  const before = await app(phone1, 'GET', '/v1/app/alerts');
  assert.deepEqual(before.json.items.map((x) => x.id).sort(), [Number(oldAlert), Number(security)].sort());

  // the roster moves the mover to unit B: their phones must be activated again
  importRoster([`${UNIT_B},holder2,Đỗ Minh Khoa,,,account_holder`, `${UNIT_B},mover,Phạm Thu Hà,,,accountant`]);
  assert.equal(h.psql(db, "SELECT unit_code FROM users WHERE dvctt_login = 'mover'"), '1000002');
  h.assertProblem(assert, await app(phone1, 'GET', '/v1/app/alerts'), 401, 'unauthorized');
  const phone3 = await activate('mover');

  const list = await app(phone3, 'GET', '/v1/app/alerts?limit=100');
  assert.equal(list.status, 200, list.body);
  assert.ok(!list.json.items.some((x) => x.unit_code === '1000001' && x.kind !== 'security.new_device'), JSON.stringify(list.json.items));
  assert.ok(!list.json.items.some((x) => x.id === Number(oldAlert)), 'unit A\'s alert is still listed');
  assert.ok(list.json.items.some((x) => x.id === Number(security)), 'the alert about the mover\'s own account stays theirs');
  h.assertProblem(assert, await app(phone3, 'GET', `/v1/app/alerts/${oldAlert}`), 404, 'not_found');
  h.assertProblem(assert, await app(phone3, 'POST', `/v1/app/alerts/${oldAlert}/read`), 404, 'not_found');
  assert.equal(h.psql(db, `SELECT read_at IS NULL FROM alerts WHERE id = ${oldAlert}`), 't', 'no read receipt on unit A\'s alert');
  assert.equal((await app(phone3, 'GET', `/v1/app/alerts/${security}`)).status, 200);

  // unit B's alerts reach the mover; unit A's people still read theirs
  const newAlert = await postBalance('1000002', '9523.1.2000002');
  const after = await app(phone3, 'GET', '/v1/app/alerts');
  assert.equal(after.json.items[0].id, Number(newAlert));
  assert.equal(after.json.items[0].unit_code, '1000002');
  assert.equal((await app(phone3, 'POST', `/v1/app/alerts/${newAlert}/read`)).status, 200);
  const stayer = await activate('stayer');
  const theirs = await app(stayer, 'GET', '/v1/app/alerts');
  assert.ok(theirs.json.items.some((x) => x.unit_code === '1000001' && x.kind === 'balance.changed'));
});
