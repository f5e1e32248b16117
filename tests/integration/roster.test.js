'use strict';
// roster.test.js - `alertd roster import FILE [--dry-run]` against real
// PostgreSQL: the sample roster, unchanged re-imports, leavers (deactivated,
// codes voided, devices revoked), moves between units, role and account
// changes, dry runs, all-or-nothing rejection with exact line numbers,
// malformed files, NFC normalisation, BOM/CRLF files and the
// account-holder warnings. Each test has its own database.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const HEADER =
  'office_code,office_name,parent_office_code,unit_code,unit_name,unit_email,unit_phone,accounts,user_login,user_name,user_email,user_phone,roles';
const SAMPLE = fs.readFileSync(path.join(h.ROOT, 'deploy', 'sample', 'roster.csv'), 'utf8');

// The office and unit columns of the sample's units.
const U1 = ['0011', 'KBNN khu vực I', '0001', '1000001', 'Trường THCS Nguyễn Du', 'thcsnguyendu@hanoi.edu.vn', '02438223344', '9523.1.1012345;9527.1.1012345'];
const U2 = ['0111', 'Phòng giao dịch số 1', '0011', '1000002', 'Trạm Y tế phường Phúc Xá, quận Ba Đình', 'tramytephucxa@hanoi.gov.vn', '', '9523.1.1023456'];

function csvLine(fields) {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}

function csv(rows) {
  return `${[HEADER, ...rows.map(csvLine)].join('\n')}\n`;
}

// The sample with the line of `login` replaced by `fields` (or dropped when fields is null).
function sampleWith(login, fields) {
  const lines = SAMPLE.split('\n');
  const i = lines.findIndex((l) => l.includes(`,${login},`));
  assert.ok(i > 0, `sample has no user ${login}`);
  if (fields) lines[i] = csvLine(fields);
  else lines.splice(i, 1);
  return lines.join('\n');
}

function setup() {
  const db = h.createDatabase('roster');
  h.migrate(db);
  const cfg = h.writeConfig({ database: { url: `"${h.conninfo(db)}"` }, log: { level: 'warn' } });
  return { db, cfg };
}

// Write content (string or Buffer) to a file and run `alertd roster import` on it.
function runImport(cfg, content, extra = []) {
  const file = path.join(h.TMP, `roster-${crypto.randomBytes(4).toString('hex')}.csv`);
  fs.writeFileSync(file, content);
  const r = h.runAlertd(['roster', 'import', file, ...extra, '--config', cfg]);
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch (_) {
    report = undefined;
  }
  return { ...r, report };
}

function importOk(cfg, content, extra = []) {
  const r = runImport(cfg, content, extra);
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.ok(r.report, r.stdout);
  return r.report;
}

function counts(report) {
  return { offices: report.offices, units: report.units, users: report.users, devices_revoked: report.devices_revoked };
}

function userId(db, login) {
  return h.psql(db, `SELECT id FROM users WHERE dvctt_login = '${login}'`);
}

function addDevice(db, login, { state = 'active', token = true } = {}) {
  const hash = token ? `decode('${crypto.randomBytes(32).toString('hex')}', 'hex')` : 'NULL';
  const exp = token ? "now() + interval '30 days'" : 'NULL';
  return h.psql(
    db,
    `INSERT INTO devices (user_id, platform, push_token, state, access_token_hash, access_token_expires_at)
     SELECT id, 'android', 'fcm-${crypto.randomBytes(6).toString('hex')}', '${state}', ${hash}, ${exp}
     FROM users WHERE dvctt_login = '${login}' RETURNING id`,
  );
}

function addCode(db, login, { used = false } = {}) {
  return h.psql(
    db,
    `INSERT INTO activation_codes (user_id, code_hash, expires_at, used_at, created_by)
     SELECT id, decode('${crypto.randomBytes(32).toString('hex')}', 'hex'), now() + interval '1 day',
            ${used ? 'now()' : 'NULL'}, 'test'
     FROM users WHERE dvctt_login = '${login}' RETURNING id`,
  );
}

function tableCounts(db) {
  return h.psql(
    db,
    `SELECT (SELECT count(*) FROM offices) || ' ' || (SELECT count(*) FROM budget_units) || ' ' ||
            (SELECT count(*) FROM unit_accounts) || ' ' || (SELECT count(*) FROM users) || ' ' ||
            (SELECT count(*) FROM user_roles) || ' ' || (SELECT count(*) FROM audit_log WHERE action = 'roster.import')`,
  );
}

test('the sample imports: offices with derived levels, units, accounts, users, roles, one audit entry', () => {
  const { db, cfg } = setup();
  const rep = importOk(cfg, SAMPLE);
  assert.deepEqual(counts(rep), {
    offices: { created: 3, updated: 0, unchanged: 0 },
    units: { created: 3, updated: 0, unchanged: 0 },
    users: { created: 8, updated: 0, unchanged: 0, deactivated: 0 },
    devices_revoked: 0,
  });
  assert.equal(rep.rows, 8);
  assert.equal(rep.dry_run, false);
  assert.deepEqual(rep.rejected, []);
  assert.deepEqual(rep.warnings, []);
  assert.equal(
    h.psql(db, 'SELECT code, level, coalesce(parent_code, \'-\'), name FROM offices ORDER BY code'),
    '0001|1|-|Kho bạc Nhà nước\n0011|2|0001|KBNN khu vực I\n0111|3|0011|Phòng giao dịch số 1',
  );
  assert.equal(
    h.psql(db, "SELECT code, office_code, name, coalesce(contact_phone, '-') FROM budget_units ORDER BY code"),
    '1000001|0011|Trường THCS Nguyễn Du|02438223344\n1000002|0111|Trạm Y tế phường Phúc Xá, quận Ba Đình|-\n1000003|0001|Văn phòng Bộ Tài chính|02422202828',
  );
  assert.equal(
    h.psql(db, "SELECT string_agg(account, ';' ORDER BY account) FROM unit_accounts WHERE unit_code = '1000001'"),
    '9523.1.1012345;9527.1.1012345',
  );
  assert.equal(
    h.psql(
      db,
      `SELECT u.full_name, string_agg(r.role::text, ';' ORDER BY r.role) FROM users u JOIN user_roles r ON r.user_id = u.id
       WHERE u.dvctt_login = 'buithingoc.1000002' GROUP BY u.full_name`,
    ),
    'Bùi Thị Ngọc|chief_accountant;accountant',
  );
  assert.equal(h.psql(db, "SELECT count(*) FROM users WHERE active AND deactivated_at IS NULL AND email IS NULL"), '1');
  const audit = h.psql(db, "SELECT actor_kind, outcome, details::text FROM audit_log WHERE action = 'roster.import'").split('|');
  assert.equal(audit[0], 'cli');
  assert.equal(audit[1], 'ok');
  const details = JSON.parse(audit[2]);
  assert.equal(details.users.created, 8);
  assert.equal(details.offices.created, 3);
  assert.equal(details.rows, 8);
});

test('re-importing the same file changes nothing and writes nothing but the audit entry', () => {
  const { db, cfg } = setup();
  importOk(cfg, SAMPLE);
  const before = h.psql(db, 'SELECT string_agg(id || updated_at::text, \',\' ORDER BY id) FROM users');
  const rep = importOk(cfg, SAMPLE);
  assert.deepEqual(counts(rep), {
    offices: { created: 0, updated: 0, unchanged: 3 },
    units: { created: 0, updated: 0, unchanged: 3 },
    users: { created: 0, updated: 0, unchanged: 8, deactivated: 0 },
    devices_revoked: 0,
  });
  assert.equal(h.psql(db, 'SELECT string_agg(id || updated_at::text, \',\' ORDER BY id) FROM users'), before);
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'roster.import'"), '2');
});

test('a user missing from their unit is deactivated: live code voided, devices revoked and tokens cleared; back in the file, reactivated', () => {
  const { db, cfg } = setup();
  importOk(cfg, SAMPLE);
  const leaver = 'nguyenthuhuong.1000001';
  const d1 = addDevice(db, leaver);
  const d2 = addDevice(db, leaver, { state: 'token_invalid' });
  const d3 = addDevice(db, leaver, { state: 'revoked', token: false });
  const live = addCode(db, leaver);
  const used = addCode(db, leaver, { used: true });
  const other = addDevice(db, 'lethilan.1000001');

  const rep = importOk(cfg, sampleWith(leaver, null));
  assert.deepEqual(counts(rep), {
    offices: { created: 0, updated: 0, unchanged: 3 },
    units: { created: 0, updated: 0, unchanged: 3 },
    users: { created: 0, updated: 0, unchanged: 7, deactivated: 1 },
    devices_revoked: 2,
  });
  assert.equal(h.psql(db, `SELECT active, deactivated_at IS NOT NULL FROM users WHERE dvctt_login = '${leaver}'`), 'f|t');
  for (const id of [d1, d2]) {
    assert.equal(
      h.psql(db, `SELECT state, state_reason, access_token_hash IS NULL, access_token_expires_at IS NULL FROM devices WHERE id = ${id}`),
      'revoked|user_deactivated|t|t',
    );
  }
  assert.equal(h.psql(db, `SELECT state, coalesce(state_reason, '-') FROM devices WHERE id = ${d3}`), 'revoked|-');
  assert.equal(h.psql(db, `SELECT state, access_token_hash IS NOT NULL FROM devices WHERE id = ${other}`), 'active|t');
  assert.equal(h.psql(db, `SELECT voided_at IS NOT NULL FROM activation_codes WHERE id = ${live}`), 't');
  assert.equal(h.psql(db, `SELECT voided_at IS NULL FROM activation_codes WHERE id = ${used}`), 't');
  // the trigger kept the device history
  assert.equal(h.psql(db, `SELECT to_state || ':' || reason FROM device_state_changes WHERE device_id = ${d1} AND from_state = 'active'`), 'revoked:user_deactivated');

  // importing again without them: already inactive, nothing more to do
  const again = importOk(cfg, sampleWith(leaver, null));
  assert.equal(again.users.deactivated, 0);
  assert.equal(again.devices_revoked, 0);

  // back in the file: reactivated (an update); the revoked devices stay revoked
  const back = importOk(cfg, SAMPLE);
  assert.deepEqual(back.users, { created: 0, updated: 1, unchanged: 7, deactivated: 0 });
  assert.equal(h.psql(db, `SELECT active, deactivated_at IS NULL FROM users WHERE dvctt_login = '${leaver}'`), 't|t');
  assert.equal(h.psql(db, `SELECT state FROM devices WHERE id = ${d1}`), 'revoked');
});

test('a user moved to another unit keeps their id, and every device not yet revoked is revoked (user_moved_unit)', () => {
  const { db, cfg } = setup();
  importOk(cfg, SAMPLE);
  const login = 'lethilan.1000001';
  const id = userId(db, login);
  const d1 = addDevice(db, login);
  const d2 = addDevice(db, login, { state: 'token_invalid' });
  const code = addCode(db, login);
  const rep = importOk(cfg, sampleWith(login, [...U2, login, 'Lê Thị Lan', 'lanlt@thcsnguyendu.edu.vn', '0987654321', 'chief_accountant']));
  assert.deepEqual(rep.users, { created: 0, updated: 1, unchanged: 7, deactivated: 0 });
  assert.equal(rep.devices_revoked, 2);
  assert.equal(h.psql(db, `SELECT id, unit_code, active FROM users WHERE dvctt_login = '${login}'`), `${id}|1000002|t`);
  for (const d of [d1, d2]) {
    assert.equal(
      h.psql(db, `SELECT state, state_reason, access_token_hash IS NULL, access_token_expires_at IS NULL FROM devices WHERE id = ${d}`),
      'revoked|user_moved_unit|t|t',
    );
  }
  // a move is not a deactivation: the activation code stays usable
  assert.equal(h.psql(db, `SELECT voided_at IS NULL FROM activation_codes WHERE id = ${code}`), 't');
});

test('role and account changes are updates; roles and accounts become exactly the file\'s sets', () => {
  const { db, cfg } = setup();
  importOk(cfg, SAMPLE);
  let text = sampleWith('nguyenthuhuong.1000001', [...U1, 'nguyenthuhuong.1000001', 'Nguyễn Thu Hương', '', '+84905123456', 'accountant;chief_accountant;accountant']);
  text = text.replace(',chief_accountant;accountant\n', ',accountant\n'); // buithingoc loses chief_accountant
  text = text.split('9523.1.1012345;9527.1.1012345').join('9527.1.1012345;9527.1.1099999');
  const rep = importOk(cfg, text);
  assert.deepEqual(rep.users, { created: 0, updated: 2, unchanged: 6, deactivated: 0 });
  assert.deepEqual(rep.units, { created: 0, updated: 1, unchanged: 2 });
  const roles = (login) =>
    h.psql(db, `SELECT string_agg(r.role::text, ';' ORDER BY r.role) FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.dvctt_login = '${login}'`);
  assert.equal(roles('nguyenthuhuong.1000001'), 'chief_accountant;accountant');
  assert.equal(roles('buithingoc.1000002'), 'accountant');
  assert.equal(
    h.psql(db, "SELECT string_agg(account, ';' ORDER BY account) FROM unit_accounts WHERE unit_code = '1000001'"),
    '9527.1.1012345;9527.1.1099999',
  );
  // and the new state is stable
  const again = importOk(cfg, text);
  assert.deepEqual(again.users, { created: 0, updated: 0, unchanged: 8, deactivated: 0 });
  assert.deepEqual(again.units, { created: 0, updated: 0, unchanged: 3 });
});

test('an office can move in the hierarchy: its level follows its new parent', () => {
  const { db, cfg } = setup();
  importOk(cfg, SAMPLE);
  // 0111 now directly under the central office: level 3 -> 2
  const text = SAMPLE.split('0111,Phòng giao dịch số 1,0011,').join('0111,Phòng giao dịch số 1,0001,');
  const rep = importOk(cfg, text);
  assert.deepEqual(rep.offices, { created: 0, updated: 1, unchanged: 2 });
  assert.equal(h.psql(db, "SELECT level, parent_code FROM offices WHERE code = '0111'"), '2|0001');

  // 0011 becomes top-level and 0111 goes back under it: both levels change in one statement
  const text2 = SAMPLE.split('0011,KBNN khu vực I,0001,').join('0011,KBNN khu vực I,,');
  const rep2 = importOk(cfg, text2);
  assert.deepEqual(rep2.offices, { created: 0, updated: 2, unchanged: 1 });
  assert.equal(h.psql(db, "SELECT string_agg(code || ':' || level || ':' || coalesce(parent_code, '-'), ' ' ORDER BY code) FROM offices"), '0001:1:- 0011:1:- 0111:2:0011');

  // moving 0011 back down without its sub-office 0111 in the file would break 0111: rejected
  const only1 = [HEADER, ...SAMPLE.split('\n').filter((l) => l.includes(',1000001,'))].join('\n').split('0011,KBNN khu vực I,,').join('0011,KBNN khu vực I,0001,');
  const r = runImport(cfg, `${only1}\n`);
  assert.equal(r.code, 1, r.stdout);
  assert.deepEqual(r.report.rejected, [
    {
      line: 2,
      reason:
        'parent_office_code: office 0011 would move to level 2, but its sub-office 0111 (not in the file) must stay one level below it; include the sub-offices in the file',
    },
  ]);
  // a parent that exists only in the database is fine, and so is a unit under it
  const under = csv([['0222', 'Phòng giao dịch số 2', '0011', '1000009', 'Trường Tiểu học Kim Đồng', '', '', '9523.1.1099999', 'kd.1000009', 'Đỗ Minh Khoa', '', '', 'account_holder']]);
  const rep3 = importOk(cfg, under);
  assert.deepEqual(rep3.offices, { created: 1, updated: 0, unchanged: 0 });
  assert.equal(h.psql(db, "SELECT level FROM offices WHERE code = '0222'"), '2');
  // a fourth level is refused
  const deep = csv([
    ['0333', 'Điểm giao dịch', '0444', '1000010', 'Đơn vị', '', '', '1', 'x.1000010', 'X', '', '', 'account_holder'],
    ['0444', 'Phòng giao dịch số 4', '0222', '1000011', 'Đơn vị khác', '', '', '1', 'y.1000011', 'Y', '', '', 'account_holder'],
  ]);
  const r4 = runImport(cfg, deep);
  assert.equal(r4.code, 1, r4.stdout);
  assert.deepEqual(r4.report.rejected, [
    {
      line: 2,
      reason: 'parent_office_code: office 0333 would be at level 4 or deeper; there are at most 3 levels (central, regional, transaction office)',
    },
  ]);
});

test('--dry-run reports exactly what an import would do and writes nothing', () => {
  const { db, cfg } = setup();
  const dry = importOk(cfg, SAMPLE, ['--dry-run']);
  assert.equal(dry.dry_run, true);
  assert.deepEqual(dry.users, { created: 8, updated: 0, unchanged: 0, deactivated: 0 });
  assert.equal(tableCounts(db), '0 0 0 0 0 0');

  importOk(cfg, SAMPLE);
  const leaver = 'vuquocanh.1000003';
  const dev = addDevice(db, leaver);
  const dry2 = importOk(cfg, sampleWith(leaver, null), ['--dry-run']);
  assert.equal(dry2.dry_run, true);
  assert.equal(dry2.users.deactivated, 1);
  assert.equal(dry2.devices_revoked, 1);
  assert.equal(h.psql(db, `SELECT active FROM users WHERE dvctt_login = '${leaver}'`), 't');
  assert.equal(h.psql(db, `SELECT state, access_token_hash IS NOT NULL FROM devices WHERE id = ${dev}`), 'active|t');
  assert.equal(h.psql(db, "SELECT count(*) FROM audit_log WHERE action = 'roster.import'"), '1');
});

test('a file with bad rows is rejected whole: every bad row with its line and a reason naming the column', () => {
  const { db, cfg } = setup();
  const U3 = ['0001', 'Kho bạc Nhà nước', '', '1000003', 'Văn phòng Bộ Tài chính', '', '', '9523.1.1000003'];
  const text = [
    HEADER, // 1
    csvLine([...U3, 'a.1000003', 'Nguyễn Văn A', '', '', 'account_holder']), // 2 ok
    csvLine([...U3, 'b.1000003', 'Trần Thị B', 'b-at-example.vn', '', 'accountant']), // 3
    csvLine([...U3, 'c.1000003', 'Lê Văn C', '', '0912', 'accountant']), // 4
    csvLine([...U3, 'd.1000003', 'Phạm Thị D', '', '', 'accountant;cashier']), // 5
    csvLine([...U3, 'a.1000003', 'Nguyễn Văn A', '', '', 'accountant']), // 6 duplicate login
    csvLine(['0001', 'Kho bạc Nhà nước', '', '100000', 'Văn phòng', '', '', '9523.1.1', 'e.1', 'E', '', '', 'accountant']), // 7
    csvLine(['0001', 'Kho bạc Nhà nước', '', '1000003', 'Văn phòng Bộ Tài chính (cũ)', '', '', '9523.1.1000003', 'f.1000003', 'F', '', '', 'accountant']), // 8
    // 9-10: one row, a quoted name spanning two lines
    csvLine([...U3, 'g.1000003', 'Hoàng\nVăn G', '', '', 'accountant']),
    csvLine(['0002', 'Kho bạc khác', '9999', '2000001', 'Đơn vị khác', '', '', '1.2', 'h.2000001', 'H', '', '', 'account_holder']), // 11
    csvLine(['0003', 'Văn phòng', '', '2000002', 'Đơn vị', '', '', '', 'i.2000002', 'I', '', '', 'account_holder']), // 12
    csvLine([...U3, 'j.1000003', '   ', '', '', 'accountant']), // 13
    csvLine([...U3, 'k 1000003', 'K', '', '', 'accountant']), // 14
    csvLine([...U3, 'l.1000003', 'L', '', '', '']), // 15
    csvLine(['00a1', 'X', '', '2000003', 'Y', '', '', '1', 'm.2000003', 'M', '', '', 'account_holder']), // 16
    csvLine([...U3, 'n.1000003', 'N', 'n@mail.vn', '+84 912 345 678', 'accountant']), // 17
  ].join('\n');
  const r = runImport(cfg, `${text}\n`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /14 of 15 rows rejected; nothing was written/);
  assert.deepEqual(r.report.rejected, [
    { line: 3, reason: 'user_email: is not an email address' },
    { line: 4, reason: 'user_phone: is not a phone number (8-15 digits, optional leading +)' },
    { line: 5, reason: "roles: unknown role 'cashier' (use account_holder, chief_accountant, accountant)" },
    { line: 6, reason: 'user_login: duplicate of line 2' },
    { line: 7, reason: 'unit_code: must be 7 digits' },
    { line: 8, reason: 'unit_name: differs from line 2 for unit 1000003' },
    { line: 9, reason: 'user_name: contains a control character' },
    { line: 11, reason: 'parent_office_code: office 9999 is neither in the file nor in the database' },
    { line: 12, reason: 'accounts: at least one account is required' },
    { line: 13, reason: 'user_name: is required' },
    { line: 14, reason: 'user_login: contains white space or a control character' },
    { line: 15, reason: 'roles: at least one role is required' },
    { line: 16, reason: 'office_code: must be 4 characters of 0-9 and A-Z' },
    { line: 17, reason: 'user_phone: is not a phone number (8-15 digits, optional leading +)' },
  ]);
  assert.equal(r.report.rows, 15);
  assert.equal(tableCounts(db), '0 0 0 0 0 0');

  // with a roster in place, a rejected file deactivates nobody
  importOk(cfg, SAMPLE);
  const U3S = ['0001', 'Kho bạc Nhà nước', '', '1000003', 'Văn phòng Bộ Tài chính', 'vanphong@mof.gov.vn', '02422202828', '9523.1.1000003'];
  const bad = `${sampleWith('vuquocanh.1000003', null)}${csvLine([...U3S, 'x.1000003', 'X', 'not-an-email', '', 'accountant'])}\n`;
  const r2 = runImport(cfg, bad);
  assert.equal(r2.code, 1);
  assert.deepEqual(r2.report.rejected, [{ line: 9, reason: 'user_email: is not an email address' }]);
  assert.equal(h.psql(db, "SELECT count(*) FROM users WHERE active"), '8');
});

test('malformed files are refused with the line, and nothing is written', () => {
  const { db, cfg } = setup();
  const row = csvLine([...U1, 'x.1000001', 'X', '', '', 'account_holder']);
  const cases = [
    ['bad header', `office_code,office_name\n${row}\n`, /line 1: the header must be exactly/],
    ['reordered header', `${HEADER.replace('user_email,user_phone', 'user_phone,user_email')}\n${row}\n`, /line 1: the header/],
    ['empty file', '', /the file is empty/],
    ['unterminated quote', `${HEADER}\n${row}\n${row.replace('x.1000001', 'y.1000001').replace('KBNN', '"KBNN')}\n`, /line 3: unterminated quoted field/],
    ['stray quote', `${HEADER}\n${row}\n${row.replace('x.1000001', 'y"1000001')}\n`, /line 3: invalid CSV/],
    ['too few columns', `${HEADER}\n${row}\n${row.replace(',account_holder', '')}\n`, /line 3: expected 13 columns, found 12/],
    ['too many columns', `${HEADER}\n${row},extra\n`, /line 2: expected 13 columns, found 14/],
    ['CR-only line ends', `${HEADER}\r${row}\r`, /line 1: a carriage return \(CR\) not followed by a line feed; lines must end with LF or CRLF/],
    ['one CR-only line end', `${HEADER}\n${row}\r${row.replace('x.1000001', 'y.1000001')}\n`, /line 2: a carriage return \(CR\)/],
  ];
  for (const [name, text, re] of cases) {
    const r = runImport(cfg, text);
    assert.equal(r.code, 1, `${name}: ${r.stdout}`);
    assert.match(r.stderr, re, name);
    assert.match(r.stderr, /malformed file/, name);
  }
  // invalid UTF-8: a lone continuation byte, then an overlong encoding
  for (const bad of [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80])]) {
    const text = Buffer.concat([Buffer.from(`${HEADER}\n${row}\n${csvLine(U1)},z.1000001,Nguy`), bad, Buffer.from('n,,,account_holder\n')]);
    const r = runImport(cfg, text);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /line 3: invalid UTF-8/);
  }
  assert.equal(tableCounts(db), '0 0 0 0 0 0');
});

test('text is stored in NFC: an NFD name is composed, an NFC name round-trips byte for byte', () => {
  const { db, cfg } = setup();
  const nfc = 'Nguyễn Thị Hồng Nhung';
  const nfd = 'Trần Quốc Việt'.normalize('NFD');
  assert.notEqual(nfd, nfd.normalize('NFC'));
  const top = ['0001', 'Kho bạc Nhà nước', '', ...U1.slice(3)]; // the unit directly under the central office
  const rows = [
    // the first row gives the unit name in NFD, the others in NFC: equal after normalisation, so they agree
    [...top.slice(0, 4), top[4].normalize('NFD'), ...top.slice(5), 'nhung.1000001', `  ${nfc}\t`, '', '', 'account_holder'],
    [...top, 'viet.1000001', nfd, '', '', 'accountant'],
    [...top, 'lan.1000001', 'Lê Thị Lan', '', '', 'chief_accountant'],
  ];
  importOk(cfg, csv(rows));
  const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
  assert.equal(h.psql(db, "SELECT encode(convert_to(full_name, 'UTF8'), 'hex') FROM users WHERE dvctt_login = 'nhung.1000001'"), hex(nfc));
  assert.equal(h.psql(db, "SELECT full_name FROM users WHERE dvctt_login = 'viet.1000001'"), nfd.normalize('NFC'));
  assert.equal(h.psql(db, "SELECT encode(convert_to(full_name, 'UTF8'), 'hex') FROM users WHERE dvctt_login = 'viet.1000001'"), hex(nfd.normalize('NFC')));
  assert.equal(h.psql(db, "SELECT name FROM budget_units WHERE code = '1000001'"), U1[4]);
  // the same people in the other normal form are unchanged
  const flipped = rows.map((r) => r.map((f) => f.normalize(f === f.normalize('NFC') ? 'NFD' : 'NFC')));
  const rep = importOk(cfg, csv(flipped));
  assert.deepEqual(rep.users, { created: 0, updated: 0, unchanged: 3, deactivated: 0 });
  assert.deepEqual(rep.units, { created: 0, updated: 0, unchanged: 1 });
});

test('a UTF-8 BOM and CRLF line ends are accepted; blank lines are ignored but counted', () => {
  const { db, cfg } = setup();
  const crlf = `\ufeff${SAMPLE.trimEnd().split('\n').join('\r\n')}\r\n\r\n`;
  const rep = importOk(cfg, crlf);
  assert.equal(rep.rows, 8);
  assert.equal(rep.users.created, 8);
  assert.equal(h.psql(db, "SELECT count(*) FROM users WHERE full_name LIKE E'%\\r%' OR dvctt_login LIKE E'%\\r%'"), '0');
  assert.equal(h.psql(db, "SELECT count(*) FROM user_roles WHERE role = 'accountant'"), '3');
  // the same content with LF and no BOM is unchanged
  assert.deepEqual(importOk(cfg, SAMPLE).users, { created: 0, updated: 0, unchanged: 8, deactivated: 0 });
  // a blank line in the middle still counts for the line numbers of later rows
  const lines = SAMPLE.trimEnd().split('\r\n').join('\n').split('\n');
  lines.splice(3, 0, '');
  lines.push(csvLine([...U1, 'bad.1000001', 'Bad', 'nope', '', 'accountant']));
  const r = runImport(cfg, `${lines.join('\r\n')}\r\n`);
  assert.equal(r.code, 1);
  assert.deepEqual(r.report.rejected, [{ line: 11, reason: 'user_email: is not an email address' }]);
});

test('zero or several account holders in a unit is a warning, not a rejection; a dropped holder is deactivated', () => {
  const { db, cfg } = setup();
  importOk(cfg, SAMPLE);
  // 1000002: both users account holders; 1000001: the holder leaves the file
  let text = SAMPLE.replace(',chief_accountant;accountant\n', ',account_holder;chief_accountant;accountant\n');
  text = text
    .split('\n')
    .filter((l) => !l.includes(',tranvanbinh.1000001,'))
    .join('\n');
  const rep = importOk(cfg, text);
  assert.deepEqual(rep.warnings, [
    { unit_code: '1000001', message: 'no user has the account_holder role' },
    { unit_code: '1000002', message: '2 users have the account_holder role: phamvanthanh.1000002, buithingoc.1000002' },
  ]);
  assert.equal(rep.users.deactivated, 1);
  assert.equal(rep.users.updated, 1);
  assert.equal(h.psql(db, "SELECT active FROM users WHERE dvctt_login = 'tranvanbinh.1000001'"), 'f');
  // a holder kept with other roles simply loses account_holder
  const text2 = text.replace(',account_holder;chief_accountant;accountant\n', ',chief_accountant;accountant\n')
    .replace(',phamvanthanh.1000002,Phạm Văn Thành,thanhpv@hanoi.gov.vn,0936789012,account_holder', ',phamvanthanh.1000002,Phạm Văn Thành,thanhpv@hanoi.gov.vn,0936789012,accountant');
  const rep2 = importOk(cfg, text2);
  assert.deepEqual(rep2.warnings.map((w) => w.unit_code), ['1000001', '1000002']);
  assert.equal(
    h.psql(db, "SELECT string_agg(r.role::text, ';') FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.dvctt_login = 'phamvanthanh.1000002'"),
    'accountant',
  );
  assert.equal(h.psql(db, "SELECT active FROM users WHERE dvctt_login = 'phamvanthanh.1000002'"), 't');
});

test('usage errors exit 2', () => {
  const { cfg } = setup();
  for (const args of [['roster'], ['roster', 'import'], ['roster', 'export', 'x.csv'], ['roster', 'import', 'a.csv', 'b.csv']]) {
    const r = h.runAlertd([...args, '--config', cfg]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const r = h.runAlertd(['roster', 'import', path.join(h.TMP, 'no-such-file.csv'), '--config', cfg]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot open/);
});
