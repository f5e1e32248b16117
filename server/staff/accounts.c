/*
 * accounts.c - staff account management and the inactivity rule (see
 * accounts.h). Each change is one statement whose CTEs write the account,
 * its password history, its sessions and the audit row together, as
 * people/admin_keys.c does: all of it commits, or none.
 */
#include "staff/accounts.h"
#include "db/db.h"
#include "store/store.h"

#include <sodium.h>
#include <string.h>

bool staff_accounts_login_ok(const char *login)
{
	size_t n = login ? strlen(login) : 0;

	if (n < 2 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = login[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

bool staff_accounts_role_ok(const char *role)
{
	return role && (strcmp(role, "viewer") == 0 || strcmp(role, "operator") == 0 || strcmp(role, "admin") == 0);
}

/* A new temporary password for login and its hash; false (err written) when hashing failed. */
static bool new_temporary(const char *login, char temp[STAFF_PASSWORD_TEMP_LEN + 1], char hash[STAFF_PASSWORD_HASH_MAX],
			  char *err, size_t errlen)
{
	staff_password_temporary(login, temp);
	if (staff_password_hash(temp, strlen(temp), hash))
		return true;
	sodium_memzero(temp, STAFF_PASSWORD_TEMP_LEN + 1);
	snprintf(err, errlen, "cannot hash the password (out of memory?)");
	return false;
}

/* Whether one row matches sql with $1; -1 on a database error. */
static int exists(PGconn *conn, const char *sql, const char *arg)
{
	long long n;
	const char *params[1] = { arg };

	if (!store_count(conn, "staff exists", sql, 1, params, &n))
		return -1;
	return n > 0;
}

bool staff_accounts_add(PGconn *conn, const char *login, const char *office_code, const char *role, const char *actor,
			long long temp_hours, char temp[STAFF_PASSWORD_TEMP_LEN + 1], char *err, size_t errlen)
{
	char hash[STAFF_PASSWORD_HASH_MAX];
	long long n;

	if (!staff_accounts_login_ok(login)) {
		snprintf(err, errlen, "invalid login '%.80s': use 2-64 of a-z 0-9 . _ -, starting with a letter or digit",
			 login);
		return false;
	}
	if (!staff_accounts_role_ok(role)) {
		snprintf(err, errlen, "invalid role '%.40s': use viewer, operator or admin", role);
		return false;
	}
	int office = exists(conn, "SELECT count(*) FROM offices WHERE code = $1", office_code);
	if (office <= 0) {
		snprintf(err, errlen, office < 0 ? "database error (see log)" : "no office with code '%.40s'", office_code);
		return false;
	}
	if (!new_temporary(login, temp, hash, err, errlen))
		return false;
	char hours[32];
	snprintf(hours, sizeof(hours), "%lld", temp_hours);
	const char *params[6] = { login, hash, role, office_code, actor, hours };
	bool ok = store_count(
		conn, "staff add",
		"WITH s AS (INSERT INTO staff (username, full_name, password_hash, role, office_code, temporary_until)"
		" VALUES ($1, $1, $2, $3::staff_role, $4, now() + make_interval(hours => $6::int)) ON CONFLICT (username) DO NOTHING RETURNING id),"
		" h AS (INSERT INTO staff_password_history (staff_id, password_hash) SELECT id, $2 FROM s),"
		" a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, details)"
		" SELECT 'cli', $5, 'staff.add', $1, 'ok', jsonb_build_object('office', $4::text, 'role', $3::text)"
		" FROM s RETURNING id)"
		" SELECT count(*) FROM a",
		6, params, &n);
	sodium_memzero(hash, sizeof(hash));
	if (!ok || n != 1) {
		snprintf(err, errlen, ok ? "a staff account with login '%s' already exists" : "database error (see log)",
			 login);
		sodium_memzero(temp, STAFF_PASSWORD_TEMP_LEN + 1);
		return false;
	}
	return true;
}

bool staff_accounts_deactivate(PGconn *conn, const char *login, const char *actor, char *err, size_t errlen)
{
	long long n;
	const char *params[2] = { login, actor };
	bool ok = store_count(conn, "staff deactivate",
			      "WITH s AS (UPDATE staff SET active = false, disabled_reason = 'deactivated'"
			      " WHERE username = $1 AND disabled_reason IS DISTINCT FROM 'deactivated' RETURNING id),"
			      " x AS (UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'deactivated'"
			      " WHERE staff_id IN (SELECT id FROM s) AND revoked_at IS NULL RETURNING 1),"
			      " a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, details)"
			      " SELECT 'cli', $2, 'staff.deactivate', $1, 'ok',"
			      " jsonb_build_object('sessions_ended', (SELECT count(*) FROM x)) FROM s RETURNING id)"
			      " SELECT count(*) FROM a",
			      2, params, &n);

	if (!ok || n != 1)
		snprintf(err, errlen,
			 ok ? "no staff account '%s' that is not already deactivated" : "database error (see log)", login);
	return ok && n == 1;
}

bool staff_accounts_reset(PGconn *conn, const char *login, bool clear_totp, const char *actor, long long temp_hours,
			  char temp[STAFF_PASSWORD_TEMP_LEN + 1], char *err, size_t errlen)
{
	char hash[STAFF_PASSWORD_HASH_MAX];
	long long n;

	int deactivated =
		exists(conn, "SELECT count(*) FROM staff WHERE username = $1 AND disabled_reason = 'deactivated'", login);
	if (deactivated != 0) {
		snprintf(err, errlen,
			 deactivated < 0 ? "database error (see log)"
					 : "staff account '%s' is deactivated; deactivation is final, add a new account",
			 login);
		return false;
	}
	if (!new_temporary(login, temp, hash, err, errlen))
		return false;
	char hours[32];
	snprintf(hours, sizeof(hours), "%lld", temp_hours);
	const char *params[5] = { login, hash, clear_totp ? "true" : "false", actor, hours };
	bool ok = store_count(
		conn, "staff reset",
		"WITH s AS (UPDATE staff SET password_hash = $2, password_temporary = true, password_changed_at = now(),"
		" temporary_until = now() + make_interval(hours => $5::int),"
		" failed_logins = 0, locked_until = NULL, active = true, disabled_reason = NULL"
		" WHERE username = $1 AND disabled_reason IS DISTINCT FROM 'deactivated' RETURNING id),"
		" h AS (INSERT INTO staff_password_history (staff_id, password_hash) SELECT id, $2 FROM s),"
		" x AS (UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'reset'"
		" WHERE staff_id IN (SELECT id FROM s) AND revoked_at IS NULL RETURNING 1),"
		" t AS (DELETE FROM staff_totp WHERE $3::boolean AND staff_id IN (SELECT id FROM s) RETURNING 1),"
		" r AS (DELETE FROM staff_recovery_codes WHERE $3::boolean AND staff_id IN (SELECT id FROM s) RETURNING 1),"
		" a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, details)"
		" SELECT 'cli', $4, 'staff.reset', $1, 'ok', jsonb_build_object('sessions_ended', (SELECT count(*) FROM x),"
		" 'totp_cleared', $3::boolean AND EXISTS (SELECT 1 FROM t), 'recovery_codes_removed', (SELECT count(*) FROM r))"
		" FROM s RETURNING id)"
		" SELECT count(*) FROM a",
		5, params, &n);
	sodium_memzero(hash, sizeof(hash));
	if (!ok || n != 1) {
		snprintf(err, errlen, ok ? "no staff account '%s'" : "database error (see log)", login);
		sodium_memzero(temp, STAFF_PASSWORD_TEMP_LEN + 1);
		return false;
	}
	return true;
}

enum role_col { R_AUDITED, R_FOUND, R_IN_SCOPE, R_GONE, R_OFFICE, R_ACTIVE, R_CHANGED, R_ENDED, R__COUNT };

enum staff_role_change staff_accounts_set_role(PGconn *conn, const char *login, const char *role, const char *scope_office,
					       const struct store_actor *actor, struct staff_role_result *out)
{
	const char *params[7] = { login, role, scope_office, actor->kind, actor->id, actor->ip, actor->request_id };
	enum staff_role_change rc = STAFF_ROLE_ERROR;

	memset(out, 0, sizeof(*out));
	PGresult *res = store_query(
		conn, "staff role",
		"WITH t AS (SELECT id, coalesce(office_code, '') AS office, role::text AS old, active,"
		"  disabled_reason IS NOT DISTINCT FROM 'deactivated' AS gone,"
		"  ($3::text IS NULL OR alertd_office_in_scope($3, office_code)) AS in_scope"
		"  FROM staff WHERE username = $1 FOR UPDATE),"
		" s AS (UPDATE staff SET role = $2::staff_role FROM t"
		"  WHERE staff.id = t.id AND t.in_scope AND NOT t.gone AND t.old <> $2::text RETURNING staff.id),"
		" x AS (UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'role_changed'"
		"  WHERE staff_id IN (SELECT id FROM s) AND revoked_at IS NULL RETURNING 1),"
		" a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)"
		"  SELECT $4, $5, 'staff.role', $1,"
		"  CASE WHEN coalesce(t.in_scope, false) AND NOT t.gone THEN 'ok' ELSE 'denied' END, $6, $7,"
		"  CASE WHEN t.id IS NULL THEN jsonb_build_object('reason', 'unknown_login')"
		"  WHEN NOT t.in_scope THEN jsonb_build_object('reason', 'out_of_scope')"
		"  WHEN t.gone THEN jsonb_build_object('reason', 'deactivated')"
		"  ELSE jsonb_build_object('from', t.old, 'to', $2::text, 'sessions_ended', (SELECT count(*) FROM x)) END"
		"  FROM (SELECT 1) one LEFT JOIN t ON true RETURNING id)"
		" SELECT (SELECT count(*) FROM a), t.id IS NOT NULL, coalesce(t.in_scope, false), coalesce(t.gone, false),"
		" t.office, t.active, EXISTS (SELECT 1 FROM s), (SELECT count(*) FROM x)"
		" FROM (SELECT 1) one LEFT JOIN t ON true",
		7, params, R__COUNT);

	if (!res)
		return STAFF_ROLE_ERROR;
	if (PQntuples(res) != 1 || store_int(res, 0, R_AUDITED) != 1)
		goto out;
	if (!store_bool(res, 0, R_FOUND) || !store_bool(res, 0, R_IN_SCOPE)) {
		rc = STAFF_ROLE_NOT_FOUND;
		goto out;
	}
	if (store_bool(res, 0, R_GONE)) {
		rc = STAFF_ROLE_DEACTIVATED;
		goto out;
	}
	snprintf(out->office, sizeof(out->office), "%s", PQgetvalue(res, 0, R_OFFICE));
	snprintf(out->role, sizeof(out->role), "%s", role);
	out->active = store_bool(res, 0, R_ACTIVE);
	out->sessions_ended = store_int(res, 0, R_ENDED);
	rc = store_bool(res, 0, R_CHANGED) ? STAFF_ROLE_CHANGED : STAFF_ROLE_UNCHANGED;
out:
	PQclear(res);
	return rc;
}

bool staff_accounts_demo_totp(PGconn *conn, const struct secrets_kek *kek, const char *login, const char *actor,
			      char base32[STAFF_TOTP_BASE32_MAX], char *err, size_t errlen)
{
	char ct_hex[STAFF_TOTP_CT_HEX_MAX], nonce_hex[STAFF_TOTP_NONCE_HEX_MAX];
	long long n = 0;

	if (!staff_totp_new_sealed(kek, base32, ct_hex, nonce_hex)) {
		snprintf(err, errlen, "cannot seal the TOTP secret (out of memory?)");
		return false;
	}
	const char *params[4] = { login, ct_hex, nonce_hex, actor };
	bool ok = store_count(
		conn, "staff demo totp",
		/*
			       * up: the account's office and its ancestors. Every office of that
			       * tree, from its root down, must be a demo one: a real office renamed
			       * "[DEMO]" by a roster is not enough, its real parents and siblings
			       * are in the same tree. (make run's sample roster is another tree.)
			       */
		"WITH RECURSIVE up AS (SELECT o.code, o.parent_code FROM staff st JOIN offices o ON o.code = st.office_code"
		"   WHERE st.username = $1"
		"   UNION SELECT p.code, p.parent_code FROM offices p JOIN up ON p.code = up.parent_code),"
		" s AS (SELECT st.id FROM staff st JOIN offices o ON o.code = st.office_code"
		" WHERE st.username = $1 AND st.active AND starts_with(o.name, '[DEMO]')"
		" AND NOT EXISTS (SELECT 1 FROM offices x WHERE NOT starts_with(x.name, '[DEMO]')"
		"   AND x.code IN (SELECT alertd_office_subtree(up.code) FROM up WHERE up.parent_code IS NULL))),"
		" t AS (INSERT INTO staff_totp (staff_id, secret_ct, secret_nonce, confirmed_at)"
		" SELECT id, decode($2, 'hex'), decode($3, 'hex'), now() FROM s ON CONFLICT (staff_id) DO UPDATE"
		" SET secret_ct = EXCLUDED.secret_ct, secret_nonce = EXCLUDED.secret_nonce, confirmed_at = now(),"
		" last_step = 0, created_at = now() RETURNING staff_id),"
		" r AS (DELETE FROM staff_recovery_codes WHERE staff_id IN (SELECT staff_id FROM t) RETURNING 1),"
		/* a session signed in with the old factor does not outlive it */
		" e AS (UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'reset'"
		" WHERE staff_id IN (SELECT staff_id FROM t) AND revoked_at IS NULL RETURNING 1),"
		" a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, details)"
		" SELECT 'cli', $4, 'staff.totp_demo', $1, 'ok',"
		" jsonb_build_object('recovery_codes_removed', (SELECT count(*) FROM r),"
		" 'sessions_ended', (SELECT count(*) FROM e)) FROM t RETURNING id)"
		" SELECT count(*) FROM a",
		4, params, &n);
	sodium_memzero(ct_hex, sizeof(ct_hex));
	if (!ok || n != 1) {
		snprintf(err, errlen,
			 ok ? "no active staff account '%.64s' of a demo office tree (every office of the tree, from"
			      " its root down, named \"[DEMO] ...\", as only make run loads)"
			    : "database error (see log)",
			 login);
		sodium_memzero(base32, STAFF_TOTP_BASE32_MAX);
		return false;
	}
	return true;
}

enum list_col { L_LOGIN, L_OFFICE, L_ROLE, L_STATE, L_PASSWORD, L_TOTP, L_LAST_LOGIN, L_APPROVER, L__COUNT };

bool staff_accounts_list(PGconn *conn, FILE *out, char *err, size_t errlen)
{
	PGresult *res = store_query(
		conn, "staff list",
		"SELECT s.username, coalesce(s.office_code, '-'), s.role::text,"
		" CASE WHEN NOT s.active THEN s.disabled_reason WHEN s.locked_until > now() THEN 'locked' ELSE 'active' END,"
		" CASE WHEN s.password_temporary THEN 'temporary' ELSE 'set' END,"
		" CASE WHEN t.confirmed_at IS NOT NULL THEN 'enrolled' ELSE 'no' END,"
		" coalesce(to_char(s.last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'),"
		" CASE WHEN s.approver THEN 'yes' ELSE 'no' END"
		" FROM staff s LEFT JOIN staff_totp t ON t.staff_id = s.id ORDER BY s.username",
		0, NULL, L__COUNT);

	if (!res) {
		snprintf(err, errlen, "database error (see log)");
		return false;
	}
	fprintf(out, "%-24s %-6s %-8s %-11s %-9s %-8s %-20s %s\n", "LOGIN", "OFFICE", "ROLE", "STATE", "PASSWORD", "TOTP",
		"LAST_LOGIN", "APPROVER");
	for (int r = 0; r < PQntuples(res); r++)
		fprintf(out, "%-24s %-6s %-8s %-11s %-9s %-8s %-20s %s\n", PQgetvalue(res, r, L_LOGIN),
			PQgetvalue(res, r, L_OFFICE), PQgetvalue(res, r, L_ROLE), PQgetvalue(res, r, L_STATE),
			PQgetvalue(res, r, L_PASSWORD), PQgetvalue(res, r, L_TOTP), PQgetvalue(res, r, L_LAST_LOGIN),
			PQgetvalue(res, r, L_APPROVER));
	PQclear(res);
	return true;
}

enum approver_col { P_FOUND, P_GONE, P_CHANGED, P__COUNT };

bool staff_accounts_set_approver(PGconn *conn, const char *login, bool on, const char *actor, bool *changed, char *err,
				 size_t errlen)
{
	const char *params[3] = { login, on ? "true" : "false", actor };
	PGresult *res = store_query(
		conn, "staff approver",
		"WITH t AS (SELECT id, approver, disabled_reason IS NOT DISTINCT FROM 'deactivated' AS gone"
		"  FROM staff WHERE username = $1 FOR UPDATE),"
		" s AS (UPDATE staff SET approver = $2::boolean FROM t"
		"  WHERE staff.id = t.id AND NOT t.gone AND t.approver <> $2::boolean RETURNING staff.id),"
		" a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, details)"
		"  SELECT 'cli', $3, 'staff.approver', $1, 'ok', jsonb_build_object('from', t.approver, 'to', $2::boolean)"
		"  FROM t WHERE NOT t.gone RETURNING id)"
		" SELECT t.id IS NOT NULL, coalesce(t.gone, false), EXISTS (SELECT 1 FROM s)"
		" FROM (SELECT 1) one LEFT JOIN t ON true",
		3, params, P__COUNT);
	bool ok = false;

	if (!res) {
		snprintf(err, errlen, "database error (see log)");
		return false;
	}
	if (PQntuples(res) != 1)
		snprintf(err, errlen, "database error (see log)");
	else if (!store_bool(res, 0, P_FOUND))
		snprintf(err, errlen, "no staff account '%.80s'", login);
	else if (store_bool(res, 0, P_GONE))
		snprintf(err, errlen, "staff account '%.80s' is deactivated; deactivation is final", login);
	else {
		*changed = store_bool(res, 0, P_CHANGED);
		ok = true;
	}
	PQclear(res);
	return ok;
}

bool staff_accounts_disable_inactive(PGconn *conn, long long days, long long *disabled)
{
	char d[STORE_ID_TEXT];
	const char *params[1] = { store_id(d, days) };

	return store_count(conn, "staff disable inactive",
			   "WITH s AS (UPDATE staff SET active = false, disabled_reason = 'inactive'"
			   " WHERE active AND greatest(coalesce(last_login_at, created_at), password_changed_at)"
			   " < now() - make_interval(days => $1::int) RETURNING id, username),"
			   " x AS (UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'inactive'"
			   " WHERE staff_id IN (SELECT id FROM s) AND revoked_at IS NULL RETURNING 1),"
			   " a AS (INSERT INTO audit_log (actor_kind, action, target, outcome, details)"
			   " SELECT 'system', 'staff.disable_inactive', username, 'ok', jsonb_build_object('days', $1::int)"
			   " FROM s RETURNING id)"
			   " SELECT count(*) FROM a",
			   1, params, disabled);
}
