'use strict';
// coverage_export.test.js - the units list as CSV and XLSX
// (GET /v1/staff/coverage/units.csv, .xlsx) and the look-up meter on the
// units list's contacts: a fresh re-authentication first, a UTF-8 BOM,
// every cell quoted, formula-looking text neutralised in both formats (a
// unit named like a formula, a person whose name starts with "+"), the XLSX
// opened by python3's zipfile as a spreadsheet would, the contacts counted
// against staff.lookups_per_minute, the 429 and the audit rows.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const h = require('./harness');

let db, kek, cfg, srv;
const HEADERS = ['code', 'name', 'office_code', 'office_name', 'status', 'missing_roles', 'never_installed',
  'installed_unreachable', 'shared_phone', 'users', 'covered_users', 'reachable_devices', 'volume_30d',
  'contact_email', 'contact_phone', 'contacts'];

function q(sql) {
  return h.psql(db, sql);
}

test.before(async () => {
  db = h.createDatabase('cexp');
  h.migrate(db);
  kek = h.createKek();
  q(`INSERT INTO offices (code, name, level, parent_code) VALUES ('0001', 'KBNN', 1, NULL), ('0011', 'KBNN khu vực I', 2, '0001'),
       ('0111', 'Phòng giao dịch số 1', 3, '0011'), ('0021', 'KBNN khu vực II', 2, '0001'), ('0211', 'Phòng giao dịch số 2', 3, '0021');
     INSERT INTO budget_units (code, name, office_code, contact_email) VALUES
       ('1000001', '=HYPERLINK("http://evil.example/x","Bấm vào đây")', '0111', 'hb@example.vn'),
       ('1000002', 'Trường Mầm non Hoa Sen', '0111', NULL), ('1000003', 'UBND Phường 3', '0211', NULL);
     INSERT INTO users (dvctt_login, unit_code, full_name, phone) VALUES ('h1', '1000001', '+Trần Văn An', '0912000001'),
       ('c1', '1000001', 'Lê Thị Bình', '0912000002'), ('h2', '1000002', 'Phạm Văn Cường', NULL),
       ('c2', '1000002', 'Đỗ Thu Hà', '0912000004'), ('h3', '1000003', 'Ngô Văn Đức', '0912000005');
     INSERT INTO user_roles SELECT id, 'account_holder' FROM users WHERE dvctt_login IN ('h1', 'h2', 'h3');
     INSERT INTO user_roles SELECT id, 'chief_accountant' FROM users WHERE dvctt_login IN ('c1', 'c2');
     INSERT INTO devices (user_id, platform, push_token) SELECT id, 'android', 'tok-c1' FROM users WHERE dvctt_login = 'c1';`);
  const config = h.ingestConfig(db, kek, { auth: { signin_per_ip_per_minute: 10000 }, staff: { lookups_per_minute: 3 } });
  cfg = h.writeConfig(config);
  srv = await h.startServer({ db, config });
  const r = h.runAlertd(['coverage', 'refresh', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
});
test.after(async () => {
  if (srv) await srv.stop();
});

// RFC 4180 fields of one CSV text (quoted fields, "" inside, CRLF rows, newlines inside quotes)
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    field += ch; i++;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('units.csv: re-authentication first; BOM, the 16 columns, one row per unit worst first, formulas neutralised, only the subtree', async () => {
  const s = await h.staffReady(srv, cfg, 'exp.csv', '0011', 'viewer');
  const url = '/v1/staff/coverage/units.csv?office=0011';
  h.assertProblem(assert, await h.staffCall(srv, s, 'GET', url), 403, 'reauth_required');
  await h.staffReauth(srv, s);
  const r = await h.request(srv.url, 'GET', url, { headers: { cookie: s.cookie } });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8');
  assert.equal(r.headers['content-disposition'], 'attachment; filename="coverage-0011-units.csv"');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.ok(r.body.startsWith('\ufeff'), 'a UTF-8 byte-order mark first');
  assert.ok(r.body.startsWith('\ufeff"code","name"'), 'every field quoted');
  const rows = parseCsv(r.body.slice(1));
  assert.deepEqual(rows[0], HEADERS);
  // worst first: 1000002 (nobody covered) before 1000001 (the chief covered); 1000003 is another region's
  assert.deepEqual(rows.slice(1).map((x) => x[0]), ['1000002', '1000001']);
  const u1 = Object.fromEntries(HEADERS.map((k, i) => [k, rows[2][i]]));
  assert.equal(u1.name, `'=HYPERLINK("http://evil.example/x","Bấm vào đây")`, 'a formula-looking name is text');
  assert.equal(u1.status, 'partial');
  assert.equal(u1.missing_roles, 'account_holder');
  assert.deepEqual([u1.never_installed, u1.installed_unreachable, u1.shared_phone], ['no', 'no', 'no']);
  assert.deepEqual([u1.users, u1.covered_users, u1.reachable_devices, u1.volume_30d], ['2', '1', '1', '0']);
  assert.equal(u1.contact_email, 'hb@example.vn');
  assert.equal(u1.contact_phone, '');
  assert.equal(u1.contacts, "'+Trần Văn An (h1; account_holder): 0912000001, -", 'whom to call, neutralised too');
  const u2 = Object.fromEntries(HEADERS.map((k, i) => [k, rows[1][i]]));
  assert.equal(u2.status, 'unprotected');
  assert.equal(u2.missing_roles, 'account_holder chief_accountant');
  assert.equal(u2.contacts, 'Phạm Văn Cường (h2; account_holder): -, -\nĐỗ Thu Hà (c2; chief_accountant): 0912000004, -');
  // who looked at whom: the three people named
  const audit = q(`SELECT details->>'what', details->>'people', target FROM audit_log WHERE action = 'staff.lookup' AND actor_id = 'exp.csv'`);
  assert.equal(audit, 'coverage_units_export|3|0011');
  // out of the subtree, or unknown: the same 404, re-authenticated or not
  h.assertProblem(assert, await h.staffCall(srv, s, 'GET', '/v1/staff/coverage/units.csv?office=0021'), 404, 'not_found');
});

test('units.xlsx: a workbook python3 opens; every cell a string, no formula, the formula-looking name neutralised', async () => {
  const s = await h.staffReady(srv, cfg, 'exp.xlsx', '0011', 'viewer');
  await h.staffReauth(srv, s);
  const r = await h.request(srv.url, 'GET', '/v1/staff/coverage/units.xlsx?office=0111&status=partial', { headers: { cookie: s.cookie } });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  const f = path.join(h.TMP, `units-${process.pid}.xlsx`);
  fs.writeFileSync(f, r.raw);
  const out = execFileSync('python3', [path.join(__dirname, '..', 'unit', 'xlsx_cells.py'), f], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(out[0], 'sheet\tunits');
  assert.equal(out[out.length - 1], 'formulas\t0');
  const cells = Object.fromEntries(out.slice(1, -1).map((l) => l.split('\t')).map(([ref, type, text]) => [ref, { type, text }]));
  assert.deepEqual(cells.A1, { type: 'str', text: 'code' });
  assert.deepEqual(cells.P1, { type: 'str', text: 'contacts' });
  assert.deepEqual(cells.A2, { type: 'str', text: '1000001' }, 'status=partial: only 1000001');
  assert.deepEqual(cells.B2, { type: 'str', text: `'=HYPERLINK("http://evil.example/x","Bấm vào đây")` });
  assert.deepEqual(cells.J2, { type: 'str', text: '2' }, 'numbers too are written as text');
  assert.equal(cells.A3, undefined);
});

test('the units list counts its contacts against staff.lookups_per_minute: 429 past it, nothing shown, audited', async () => {
  const s = await h.staffReady(srv, cfg, 'exp.list', '0011', 'viewer');
  // 0111 lists h1 (1000001) and h2, c2 (1000002): three people, the whole minute's quota
  const first = await h.staffCall(srv, s, 'GET', '/v1/staff/coverage/units?office=0111');
  assert.equal(first.status, 200, first.body);
  assert.deepEqual(first.json.units.flatMap((u) => u.contacts.map((c) => c.login)).sort(), ['c2', 'h1', 'h2']);
  // a page naming nobody costs nothing: the protected units only (none here)
  const none = await h.staffCall(srv, s, 'GET', '/v1/staff/coverage/units?office=0111&status=protected');
  assert.equal(none.status, 200, none.body);
  assert.deepEqual(none.json.units, []);
  const again = await h.staffCall(srv, s, 'GET', '/v1/staff/coverage/units?office=0111');
  h.assertProblem(assert, again, 429, 'lookup_quota_exceeded');
  assert.ok(Number(again.headers['retry-after']) >= 1);
  assert.equal(again.json.units, undefined, 'nothing of the list in the refusal');
  assert.equal(q(`SELECT count(*) FROM audit_log WHERE action = 'staff.lookup_quota_exceeded' AND actor_id = 'exp.list' AND outcome = 'denied'`), '1');
  const ids = JSON.parse(q(`SELECT details->'user_ids' FROM audit_log WHERE action = 'staff.lookup' AND actor_id = 'exp.list'`));
  assert.deepEqual(ids.sort(), q(`SELECT string_agg(id::text, ',' ORDER BY id) FROM users WHERE dvctt_login IN ('h1', 'h2', 'c2')`).split(',').map(Number).sort());
  // the overview names nobody and is never metered
  assert.equal((await h.staffCall(srv, s, 'GET', '/v1/staff/coverage?office=0111')).status, 200);
});

test('a unit moved to another office since the last refresh is left out of the old office\'s list until the next refresh', async () => {
  // two accounts: the unit names two people, and the minute's quota here is three
  const s = await h.staffReady(srv, cfg, 'exp.move', '0011', 'viewer');
  const s2 = await h.staffReady(srv, cfg, 'exp.move2', '0011', 'viewer');
  const list = async (who = s) => {
    const r = await h.staffCall(srv, who, 'GET', '/v1/staff/coverage/units?office=0011&q=1000002');
    assert.equal(r.status, 200, r.body);
    return r.json.units.map((u) => u.code);
  };
  assert.deepEqual(await list(), ['1000002']);
  q("UPDATE budget_units SET office_code = '0211' WHERE code = '1000002'");
  try {
    assert.deepEqual(await list(), []);
  } finally {
    q("UPDATE budget_units SET office_code = '0111' WHERE code = '1000002'");
  }
  assert.deepEqual(await list(s2), ['1000002']);
});

test('units.csv past one page of the export (2,000 units): every unit once, in order; an export naming more people than a minute allows is 429 first', async () => {
  q(`INSERT INTO budget_units (code, name, office_code) SELECT (3000000 + g)::text, 'Đơn vị ' || g, '0211' FROM generate_series(1, 2050) g`);
  const r0 = h.runAlertd(['coverage', 'refresh', '--config', cfg]);
  assert.equal(r0.code, 0, r0.stderr);
  const s = await h.staffReady(srv, cfg, 'exp.big', '0001', 'viewer');
  await h.staffReauth(srv, s);
  const r = await h.request(srv.url, 'GET', '/v1/staff/coverage/units.csv?office=0211&sort=code', { headers: { cookie: s.cookie } });
  assert.equal(r.status, 200, r.body);
  const codes = parseCsv(r.body.slice(1)).slice(1).map((x) => x[0]);
  const want = ['1000003', ...Array.from({ length: 2050 }, (_, i) => String(3000001 + i))];
  assert.equal(codes.length, want.length);
  assert.deepEqual(codes, want);
  // the whole country names h1, h2, c2 and h3: four people, over the minute's three, refused before the list is built
  const all = await h.request(srv.url, 'GET', '/v1/staff/coverage/units.csv?office=0001', { headers: { cookie: s.cookie } });
  h.assertProblem(assert, all, 429, 'lookup_quota_exceeded');
  assert.equal(q(`SELECT details->>'people' FROM audit_log WHERE action = 'staff.lookup_quota_exceeded' AND actor_id = 'exp.big'`), '4');
});
