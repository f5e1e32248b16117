/*
 * roster_apply.c - the roster import's database side (see roster_apply.h and
 * docs/roster.md): load what is stored for the file's offices, units and
 * users, check the office hierarchy, diff in C and write only the
 * differences with one batched statement per kind of change.
 */
#include "people/roster_apply.h"
#include "core/buf.h"
#include "db/db.h"
#include "people/roster_fields.h"
#include "store/devices.h"
#include "core/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column indexes of the loading queries. */
enum { DO_CODE, DO_NAME, DO_PARENT, DO_LEVEL, DO_ACTIVE };
enum { DU_CODE, DU_NAME, DU_OFFICE, DU_EMAIL, DU_PHONE, DU_ACTIVE };
enum { DP_ID, DP_LOGIN, DP_UNIT, DP_NAME, DP_EMAIL, DP_PHONE, DP_ACTIVE };

static const char *dbval(const PGresult *res, long row, int col)
{
	return PQgetisnull(res, (int)row, col) ? NULL : PQgetvalue(res, (int)row, col);
}

/* ---- array parameters ---------------------------------------------------- */

/* A PostgreSQL array literal, built as one text parameter. */
struct arr {
	struct buf b;
	size_t n;
	bool closed;
};

static void arr_init(struct arr *a)
{
	buf_init(&a->b, ROSTER_PARAM_MAX);
	buf_append(&a->b, "{", 1);
	a->n = 0;
	a->closed = false;
}

static void arr_add(struct arr *a, const char *s)
{
	if (a->n++)
		buf_append(&a->b, ",", 1);
	if (!s) {
		buf_append(&a->b, "NULL", 4);
		return;
	}
	buf_append(&a->b, "\"", 1);
	while (*s) {
		size_t k = strcspn(s, "\"\\");
		buf_append(&a->b, s, k);
		s += k;
		if (*s) {
			char esc[2] = { '\\', *s++ };
			buf_append(&a->b, esc, 2);
		}
	}
	buf_append(&a->b, "\"", 1);
}

static void arr_addll(struct arr *a, long long v)
{
	char t[24];

	snprintf(t, sizeof(t), "%lld", v);
	arr_add(a, t);
}

static void arr_free(struct arr *a)
{
	buf_free(&a->b);
}

/* The finished literal (no more elements may be added), or NULL (sets oom) if it did not fit in memory. */
static const char *arr_text(struct roster_state *imp, struct arr *a)
{
	if (!a->closed) {
		buf_append(&a->b, "}", 1);
		a->closed = true;
	}
	if (!buf_ok(&a->b)) {
		imp->oom = true;
		return NULL;
	}
	return a->b.data;
}

/*
 * Run sql with the arrays as parameters $1..$n. NULL on a failed statement
 * (logged by db_exec) or on allocation failure (sets oom).
 */
static PGresult *exec_arrays(struct roster_state *imp, PGconn *conn, const char *sql, struct arr *a, int n)
{
	const char *params[8];

	if (n > 8)
		return NULL;
	for (int i = 0; i < n; i++)
		if (!(params[i] = arr_text(imp, &a[i])))
			return NULL;
	return db_exec(conn, sql, n, params);
}

/* ---- offices and their hierarchy ----------------------------------------- */

/* Stored offices for every office and parent code in the file. */
static bool load_offices(struct roster_state *imp, PGconn *conn)
{
	struct arr codes;

	arr_init(&codes);
	for (size_t i = 0; i < imp->noffices; i++) {
		arr_add(&codes, imp->offices[i].code);
		if (imp->offices[i].parent.v)
			arr_add(&codes, imp->offices[i].parent.v);
	}
	imp->db_offices =
		exec_arrays(imp, conn,
			    "SELECT code, name, parent_code, level, active FROM offices WHERE code = ANY($1::text[])",
			    &codes, 1);
	arr_free(&codes);
	if (!imp->db_offices)
		return false;
	for (long i = 0; i < PQntuples(imp->db_offices); i++) {
		const char *code = PQgetvalue(imp->db_offices, (int)i, DO_CODE);
		size_t oi;
		if (!strmap_put(&imp->db_office_map, code, (size_t)i)) {
			imp->oom = true;
			return false;
		}
		if (strmap_get(&imp->office_map, code, &oi))
			imp->offices[oi].db = i;
	}
	return true;
}

/*
 * Level of office o from the hierarchy: walk up at most 4 steps through the
 * file, then the database. 0 = unknown (an ancestor's parent is invalid or
 * missing, reported on that ancestor), -1 = loop, 4+ = too deep.
 */
static int office_level(struct roster_state *imp, const struct roster_office *o, bool *missing_parent)
{
	const struct roster_office *cur = o;
	size_t i, di;

	*missing_parent = false;
	for (int steps = 0; steps <= 3; steps++) {
		if (!cur->parent.set)
			return 0;
		if (!cur->parent.v)
			return steps + 1;
		if (strmap_get(&imp->office_map, cur->parent.v, &i)) {
			cur = &imp->offices[i];
			if (cur == o)
				return -1;
			continue;
		}
		if (strmap_get(&imp->db_office_map, cur->parent.v, &di))
			return (int)strtol(PQgetvalue(imp->db_offices, (int)di, DO_LEVEL), NULL, 10) + steps + 1;
		*missing_parent = steps == 0;
		return 0;
	}
	return 4 + 1;
}

/* Resolve every office's level, and refuse changes that would break stored sub-offices. */
static bool check_hierarchy(struct roster_state *imp, PGconn *conn)
{
	struct arr moved;
	PGresult *res = NULL;
	bool missing;

	arr_init(&moved);
	for (size_t i = 0; i < imp->noffices; i++) {
		struct roster_office *o = &imp->offices[i];
		int level = office_level(imp, o, &missing);
		o->level = 0;
		if (missing)
			roster_reject_parent(imp, o, "office %s is neither in the file nor in the database", o->parent.v);
		else if (level < 0)
			roster_reject_parent(imp, o, "the office hierarchy loops back to office %s", o->code);
		else if (level > 3)
			roster_reject_parent(imp, o,
					     "office %s would be at level 4 or deeper; there are at most 3 levels"
					     " (central, regional, transaction office)",
					     o->code);
		else
			o->level = level;
		if (o->level && o->db >= 0 && strtol(PQgetvalue(imp->db_offices, (int)o->db, DO_LEVEL), NULL, 10) != o->level)
			arr_add(&moved, o->code);
	}
	if (moved.n == 0) {
		arr_free(&moved);
		return true;
	}
	/* a stored sub-office not in the file keeps its level: its parent must too */
	res = exec_arrays(imp, conn, "SELECT code, parent_code FROM offices WHERE parent_code = ANY($1::text[]) ORDER BY code",
			  &moved, 1);
	arr_free(&moved);
	if (!res)
		return false;
	for (int i = 0; i < PQntuples(res); i++) {
		size_t pi;
		if (strmap_get(&imp->office_map, PQgetvalue(res, i, 0), NULL) ||
		    !strmap_get(&imp->office_map, PQgetvalue(res, i, 1), &pi))
			continue;
		const struct roster_office *o = &imp->offices[pi];
		roster_reject_parent(imp, o,
				     "office %s would move to level %d, but its sub-office %s (not in the file)"
				     " must stay one level below it; include the sub-offices in the file",
				     o->code, o->level, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return true;
}

/* ---- units, users, and the writes ---------------------------------------- */

/*
 * Stored units and their accounts (canonical form), the stored users with
 * the file's logins and their roles, and the active members of the file's
 * units (the leavers among them are those whose login is not in the file).
 * Joins against unnest() let the planner pick hash joins for big files and
 * index lookups for small ones.
 */
static bool load_units_users(struct roster_state *imp, PGconn *conn)
{
	struct arr units, logins, ids;
	struct strmap by_id = { 0 };
	bool ok = false;

	arr_init(&units);
	arr_init(&logins);
	arr_init(&ids);
	for (size_t i = 0; i < imp->nunits; i++)
		arr_add(&units, imp->units[i].code);
	for (size_t i = 0; i < imp->nrows; i++)
		arr_add(&logins, imp->rows[i].login);

	imp->db_units = exec_arrays(imp, conn,
				    "SELECT b.code, b.name, b.office_code, b.contact_email, b.contact_phone, b.active"
				    " FROM unnest($1::text[]) AS f(code) JOIN budget_units b ON b.code = f.code",
				    &units, 1);
	if (!imp->db_units)
		goto out;
	for (long i = 0; i < PQntuples(imp->db_units); i++) {
		size_t ui;
		if (strmap_get(&imp->unit_map, PQgetvalue(imp->db_units, (int)i, DU_CODE), &ui))
			imp->units[ui].db = i;
	}
	imp->db_accounts = exec_arrays(imp, conn,
				       "SELECT a.unit_code, string_agg(a.account, ';' ORDER BY a.account COLLATE \"C\")"
				       " FROM unnest($1::text[]) AS f(code) JOIN unit_accounts a ON a.unit_code = f.code"
				       " GROUP BY a.unit_code",
				       &units, 1);
	if (!imp->db_accounts)
		goto out;
	for (int i = 0; i < PQntuples(imp->db_accounts); i++) {
		size_t ui;
		if (strmap_get(&imp->unit_map, PQgetvalue(imp->db_accounts, i, 0), &ui))
			imp->units[ui].db_accounts = PQgetvalue(imp->db_accounts, i, 1);
	}

	imp->db_users = exec_arrays(imp, conn,
				    "SELECT u.id, u.dvctt_login, u.unit_code, u.full_name, u.email, u.phone, u.active"
				    " FROM unnest($1::text[]) AS l(login) JOIN users u ON u.dvctt_login = l.login",
				    &logins, 1);
	if (!imp->db_users)
		goto out;
	for (long i = 0; i < PQntuples(imp->db_users); i++) {
		size_t ri;
		const char *id = PQgetvalue(imp->db_users, (int)i, DP_ID);
		if (!strmap_get(&imp->login_map, PQgetvalue(imp->db_users, (int)i, DP_LOGIN), &ri))
			continue;
		imp->rows[ri].db = i;
		arr_add(&ids, id);
		if (!strmap_put(&by_id, id, ri)) {
			imp->oom = true;
			goto out;
		}
	}
	imp->db_roles = exec_arrays(
		imp, conn,
		"SELECT r.user_id, r.role FROM unnest($1::bigint[]) AS i(id) JOIN user_roles r ON r.user_id = i.id", &ids, 1);
	if (!imp->db_roles)
		goto out;
	for (int i = 0; i < PQntuples(imp->db_roles); i++) {
		size_t ri;
		const char *role = PQgetvalue(imp->db_roles, i, 1);
		if (strmap_get(&by_id, PQgetvalue(imp->db_roles, i, 0), &ri))
			imp->rows[ri].db_roles |= strcmp(role, "account_holder") == 0	  ? ROSTER_ROLE_HOLDER
						  : strcmp(role, "chief_accountant") == 0 ? ROSTER_ROLE_CHIEF
											  : ROSTER_ROLE_ACCOUNTANT;
	}
	PQclear(imp->db_roles); /* folded into the rows' masks */
	imp->db_roles = NULL;
	imp->db_members = exec_arrays(imp, conn,
				      "SELECT u.id, u.dvctt_login FROM unnest($1::text[]) AS f(code)"
				      " JOIN users u ON u.unit_code = f.code WHERE u.active",
				      &units, 1);
	ok = imp->db_members != NULL;
out:
	strmap_free(&by_id);
	arr_free(&units);
	arr_free(&logins);
	arr_free(&ids);
	return ok;
}

static void count(struct roster_counts *c, bool created, bool changed)
{
	if (created)
		c->created++;
	else if (changed)
		c->updated++;
	else
		c->unchanged++;
}

static bool write_offices(struct roster_state *imp, PGconn *conn, struct roster_counts *c)
{
	struct arr a[4];
	PGresult *res;
	char level[8];

	for (int i = 0; i < 4; i++)
		arr_init(&a[i]);
	for (size_t i = 0; i < imp->noffices; i++) {
		struct roster_office *o = &imp->offices[i];
		const PGresult *d = imp->db_offices;
		bool changed = o->db < 0 || !roster_streq(dbval(d, o->db, DO_NAME), o->name.v) ||
			       !roster_streq(dbval(d, o->db, DO_PARENT), o->parent.v) ||
			       strtol(PQgetvalue(d, (int)o->db, DO_LEVEL), NULL, 10) != o->level ||
			       strcmp(PQgetvalue(d, (int)o->db, DO_ACTIVE), "t") != 0;
		count(c, o->db < 0, changed);
		if (!changed)
			continue;
		snprintf(level, sizeof(level), "%d", o->level);
		arr_add(&a[0], o->code);
		arr_add(&a[1], o->name.v);
		arr_add(&a[2], level);
		arr_add(&a[3], o->parent.v);
	}
	/* one statement: the parent/level foreign key is checked at its end, so row order does not matter */
	res = a[0].n ? exec_arrays(imp, conn,
				   "INSERT INTO offices (code, name, level, parent_code)"
				   " SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[])"
				   " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,"
				   " parent_code = EXCLUDED.parent_code, active = true",
				   a, 4)
		     : NULL;
	bool ok = !a[0].n || res;
	PQclear(res);
	for (int i = 0; i < 4; i++)
		arr_free(&a[i]);
	return ok;
}

static bool write_units(struct roster_state *imp, PGconn *conn, struct roster_counts *c)
{
	struct arr a[5], acc[3];
	PGresult *res = NULL;
	bool ok = false;

	for (int i = 0; i < 5; i++)
		arr_init(&a[i]);
	for (int i = 0; i < 3; i++)
		arr_init(&acc[i]);
	for (size_t i = 0; i < imp->nunits; i++) {
		struct roster_unit *u = &imp->units[i];
		const PGresult *d = imp->db_units;
		bool created = u->db < 0;
		bool accounts = !roster_streq(u->db_accounts, u->accounts.v);
		bool changed = created || accounts || !roster_streq(dbval(d, u->db, DU_NAME), u->name.v) ||
			       !roster_streq(dbval(d, u->db, DU_OFFICE), u->office.v) ||
			       !roster_streq(dbval(d, u->db, DU_EMAIL), u->email.v) ||
			       !roster_streq(dbval(d, u->db, DU_PHONE), u->phone.v) ||
			       strcmp(PQgetvalue(d, (int)u->db, DU_ACTIVE), "t") != 0;
		count(c, created, changed);
		if (!changed)
			continue;
		arr_add(&a[0], u->code);
		arr_add(&a[1], u->name.v);
		arr_add(&a[2], u->office.v);
		arr_add(&a[3], u->email.v);
		arr_add(&a[4], u->phone.v);
		if (!accounts)
			continue;
		if (!created) /* a new unit has no accounts to remove */
			arr_add(&acc[0], u->code);
		for (const char *p = u->accounts.v; *p;) {
			char one[40];
			size_t k = strcspn(p, ";");
			snprintf(one, sizeof(one), "%.*s", (int)k, p); /* accounts are at most 32 characters */
			arr_add(&acc[1], u->code);
			arr_add(&acc[2], one);
			p += k + (p[k] == ';');
		}
	}
	if (a[0].n) {
		res = exec_arrays(
			imp, conn,
			"INSERT INTO budget_units (code, name, office_code, contact_email, contact_phone)"
			" SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
			" ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, office_code = EXCLUDED.office_code,"
			" contact_email = EXCLUDED.contact_email, contact_phone = EXCLUDED.contact_phone, active = true",
			a, 5);
		if (!res)
			goto out;
		PQclear(res);
	}
	if (acc[1].n) {
		/* a unit's accounts become exactly the file's list */
		if (acc[0].n) {
			res = exec_arrays(imp, conn,
					  "DELETE FROM unit_accounts a WHERE a.unit_code = ANY($1::text[]) AND NOT EXISTS"
					  " (SELECT 1 FROM unnest($2::text[], $3::text[]) AS v(unit_code, account)"
					  "  WHERE v.unit_code = a.unit_code AND v.account = a.account)",
					  acc, 3);
			if (!res)
				goto out;
			PQclear(res);
		}
		res = exec_arrays(imp, conn,
				  "INSERT INTO unit_accounts (unit_code, account)"
				  " SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
				  acc + 1, 2);
		if (!res)
			goto out;
		PQclear(res);
	}
	res = NULL;
	ok = true;
out:
	PQclear(res);
	for (int i = 0; i < 5; i++)
		arr_free(&a[i]);
	for (int i = 0; i < 3; i++)
		arr_free(&acc[i]);
	return ok;
}

/* Revoke the devices (not already revoked) of the users in ids; adds the count to *revoked. */
static bool revoke_devices(struct roster_state *imp, PGconn *conn, struct arr *ids, const char *reason, long long *revoked)
{
	struct devices_revoke what = { .user_ids = arr_text(imp, ids), .reason = reason };
	struct devices_revoked done;

	if (!what.user_ids || !devices_revoke(conn, &what, &done))
		return false;
	*revoked += done.revoked;
	return true;
}

static bool write_users(struct roster_state *imp, PGconn *conn, struct roster_report *rep)
{
	/* the statements' array parameters, one block so they are set up and freed in one loop each */
	struct arr params[5 + 5 + 2 + 2 + 1 + 1];
	struct arr *ins = &params[0], *upd = &params[5], *roles = &params[10], *changed_roles = &params[12];
	struct arr *moved = &params[14], *gone = &params[15];
	PGresult *res = NULL;
	const PGresult *d = imp->db_users;
	bool ok = false;

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		arr_init(&params[i]);
	for (int i = 0; i < PQntuples(imp->db_members); i++) {
		/* an active member of a unit the file names, missing from the file: a leaver */
		if (!strmap_get(&imp->login_map, PQgetvalue(imp->db_members, i, 1), NULL)) {
			arr_add(gone, PQgetvalue(imp->db_members, i, 0));
			rep->users.deactivated++;
		}
	}
	for (size_t i = 0; i < imp->nrows; i++) {
		struct roster_row *r = &imp->rows[i];
		if (r->db < 0) {
			r->action = ROSTER_USER_CREATE;
			rep->users.created++;
			arr_add(&ins[0], r->login);
			arr_add(&ins[1], r->unit);
			arr_add(&ins[2], r->name);
			arr_add(&ins[3], r->email);
			arr_add(&ins[4], r->phone);
			continue;
		}
		r->id = strtoll(PQgetvalue(d, (int)r->db, DP_ID), NULL, 10);
		r->moved = strcmp(PQgetvalue(d, (int)r->db, DP_UNIT), r->unit) != 0;
		r->roles_changed = r->db_roles != r->roles;
		bool changed = r->moved || r->roles_changed || !roster_streq(dbval(d, r->db, DP_NAME), r->name) ||
			       !roster_streq(dbval(d, r->db, DP_EMAIL), r->email) ||
			       !roster_streq(dbval(d, r->db, DP_PHONE), r->phone) ||
			       strcmp(PQgetvalue(d, (int)r->db, DP_ACTIVE), "t") != 0;
		r->action = changed ? ROSTER_USER_UPDATE : ROSTER_USER_SAME;
		count(&rep->users, false, changed);
		if (!changed)
			continue;
		arr_addll(&upd[0], r->id);
		arr_add(&upd[1], r->unit);
		arr_add(&upd[2], r->name);
		arr_add(&upd[3], r->email);
		arr_add(&upd[4], r->phone);
		if (r->moved)
			arr_addll(moved, r->id);
	}
	if (ins[0].n) {
		res = exec_arrays(imp, conn,
				  "INSERT INTO users (dvctt_login, unit_code, full_name, email, phone)"
				  " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
				  " RETURNING id, dvctt_login",
				  ins, 5);
		if (!res)
			goto out;
		for (int i = 0; i < PQntuples(res); i++) {
			size_t ri;
			if (strmap_get(&imp->login_map, PQgetvalue(res, i, 1), &ri))
				imp->rows[ri].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		}
		PQclear(res);
		res = NULL;
	}
	if (upd[0].n) {
		res = exec_arrays(imp, conn,
				  "UPDATE users u SET unit_code = v.unit_code, full_name = v.full_name, email = v.email,"
				  " phone = v.phone, active = true, deactivated_at = NULL"
				  " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])"
				  "  AS v(id, unit_code, full_name, email, phone)"
				  " WHERE u.id = v.id",
				  upd, 5);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
	}
	/* roles: exactly the file's set, for new users and users whose set changed */
	for (size_t i = 0; i < imp->nrows; i++) {
		const struct roster_row *r = &imp->rows[i];
		char mask[8];
		if (r->action != ROSTER_USER_CREATE && !r->roles_changed)
			continue;
		snprintf(mask, sizeof(mask), "%u", r->roles);
		arr_addll(&roles[0], r->id);
		arr_add(&roles[1], mask);
		if (r->action == ROSTER_USER_CREATE)
			continue;
		arr_addll(&changed_roles[0], r->id);
		arr_add(&changed_roles[1], mask);
	}
	if (changed_roles[0].n) {
		res = exec_arrays(imp, conn,
				  "DELETE FROM user_roles r USING unnest($1::bigint[], $2::int[]) AS v(id, mask)"
				  " WHERE r.user_id = v.id AND (v.mask & CASE r.role WHEN 'account_holder' THEN 1"
				  " WHEN 'chief_accountant' THEN 2 ELSE 4 END) = 0",
				  changed_roles, 2);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
	}
	if (roles[0].n) {
		res = exec_arrays(imp, conn,
				  "INSERT INTO user_roles (user_id, role)"
				  " SELECT v.id, x.role FROM unnest($1::bigint[], $2::int[]) AS v(id, mask)"
				  " JOIN (VALUES (1, 'account_holder'::user_role), (2, 'chief_accountant'::user_role),"
				  "  (4, 'accountant'::user_role)) AS x(bit, role) ON (v.mask & x.bit) <> 0"
				  " ON CONFLICT DO NOTHING",
				  roles, 2);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
	}
	/* a user moved to another unit must activate their phones again */
	if (moved->n && !revoke_devices(imp, conn, moved, "user_moved_unit", &rep->devices_revoked))
		goto out;
	if (gone->n) {
		/* leavers: deactivated, live activation codes voided, devices revoked */
		res = exec_arrays(imp, conn,
				  "UPDATE users SET active = false, deactivated_at = now() WHERE id = ANY($1::bigint[])",
				  gone, 1);
		if (!res)
			goto out;
		PQclear(res);
		res = exec_arrays(imp, conn,
				  "UPDATE activation_codes SET voided_at = now()"
				  " WHERE user_id = ANY($1::bigint[]) AND used_at IS NULL AND voided_at IS NULL",
				  gone, 1);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
		if (!revoke_devices(imp, conn, gone, "user_deactivated", &rep->devices_revoked))
			goto out;
	}
	ok = true;
out:
	PQclear(res);
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		arr_free(&params[i]);
	return ok;
}

bool roster_apply_check(struct roster_state *imp, PGconn *conn)
{
	return load_offices(imp, conn) && check_hierarchy(imp, conn);
}

bool roster_apply_write(struct roster_state *imp, PGconn *conn, struct roster_report *report)
{
	return load_units_users(imp, conn) && write_offices(imp, conn, &report->offices) &&
	       write_units(imp, conn, &report->units) && write_users(imp, conn, report);
}

/* ---- the scope of a scoped admin key -------------------------------------- */

/*
 * One row per file row with the reason it is outside scope $1, or none.
 * f: the file's offices and their parents as the file gives them; t: the
 * office tree as it would be after the import (the file's parents, then the
 * stored ones); s: the subtree of $1 as stored. The tree has at most three
 * levels, so an office is in the subtree after the import when $1 is the
 * office, its parent or its grandparent in t.
 */
static const char scope_sql[] =
	"WITH f AS (SELECT * FROM unnest($2::text[], $3::text[]) AS f(code, parent)),"
	" t AS (SELECT code, parent FROM f UNION ALL"
	"  SELECT o.code, o.parent_code FROM offices o WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.code = o.code)),"
	" s AS (SELECT alertd_office_subtree($1) AS code),"
	" r AS (SELECT * FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[]) AS r(line, office, unit, login)),"
	" x AS (SELECT r.line, CASE"
	"  WHEN o.code IS NOT NULL AND o.code NOT IN (SELECT code FROM s)"
	"   OR ($1 IS DISTINCT FROM r.office AND $1 IS DISTINCT FROM t1.parent AND $1 IS DISTINCT FROM t2.parent)"
	"   THEN format('office_code: office %s is not office %s or one of its sub-offices, which this key may touch',"
	"    r.office, $1::text)"
	"  WHEN r.office = $1 AND t1.parent IS DISTINCT FROM o.parent_code"
	"   THEN format('parent_office_code: office %s is this key''s own office; only a key of a wider scope may"
	" change its parent', $1::text)"
	"  WHEN b.code IS NOT NULL AND b.office_code NOT IN (SELECT code FROM s)"
	"   THEN 'unit_code: this unit is served by an office this key may not touch'"
	"  WHEN uo.code IS NOT NULL AND uo.office_code NOT IN (SELECT code FROM s)"
	"   THEN 'user_login: this user belongs to a unit served by an office this key may not touch'"
	"  END AS reason"
	"  FROM r LEFT JOIN t t1 ON t1.code = r.office LEFT JOIN t t2 ON t2.code = t1.parent"
	"  LEFT JOIN offices o ON o.code = r.office LEFT JOIN budget_units b ON b.code = r.unit"
	"  LEFT JOIN users u ON u.dvctt_login = r.login LEFT JOIN budget_units uo ON uo.code = u.unit_code)"
	" SELECT line, reason FROM x WHERE reason IS NOT NULL ORDER BY line";

bool roster_apply_scope(struct roster_state *imp, PGconn *conn, const char *scope_office, json_t *refused, long *n)
{
	struct arr a[6];
	const char *params[7] = { scope_office };
	PGresult *res = NULL;
	bool ok = false;

	*n = 0;
	for (size_t i = 0; i < 6; i++)
		arr_init(&a[i]);
	for (size_t i = 0; i < imp->noffices; i++) {
		arr_add(&a[0], imp->offices[i].code);
		arr_add(&a[1], imp->offices[i].parent.v);
	}
	for (size_t i = 0; i < imp->nrows; i++) {
		const struct roster_row *row = &imp->rows[i];
		size_t ui;
		if (!strmap_get(&imp->unit_map, row->unit, &ui))
			goto out; /* every valid row's unit is in the map */
		arr_addll(&a[2], row->line);
		arr_add(&a[3], imp->units[ui].office.v);
		arr_add(&a[4], row->unit);
		arr_add(&a[5], row->login);
	}
	for (size_t i = 0; i < 6; i++)
		if (!(params[i + 1] = arr_text(imp, &a[i])))
			goto out;
	res = db_exec(conn, scope_sql, 7, params);
	if (!res)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *item = json_pack("{s:I,s:s}", "line", (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10),
					 "reason", PQgetvalue(res, i, 1));
		if (!item || json_array_append_new(refused, item) != 0) {
			imp->oom = true;
			goto out;
		}
	}
	*n = PQntuples(res);
	ok = true;
out:
	PQclear(res);
	for (size_t i = 0; i < 6; i++)
		arr_free(&a[i]);
	return ok;
}
