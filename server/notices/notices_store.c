/*
 * notices_store.c - the SQL of security notices (see notices_store.h). The
 * JSON a handler answers is built by the database (alertd_notice_json,
 * alertd_notice_reach, alertd_notice_report in migration 0024) and parsed
 * here, so the shape is defined once, next to the schema.
 */
#include "notices/notices_store.h"
#include "db/audit.h"
#include "db/db.h"

#include <stdio.h>
#include <string.h>

/*
 * Run sql, whose result is zero or one row of one JSON column: *out the
 * parsed value (the caller's), or NULL for no row. False on a database
 * error or JSON that does not parse (logged by db_exec / store_query).
 */
static bool json_row(PGconn *conn, const char *what, const char *sql, int n, const char *const *params, json_t **out)
{
	PGresult *res = store_query(conn, what, sql, n, params, 1);

	*out = NULL;
	if (!res)
		return false;
	bool ok = true;
	if (PQntuples(res) > 0) {
		*out = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
		ok = *out != NULL;
	}
	PQclear(res);
	return ok;
}

bool notices_store_office_in_scope(PGconn *conn, const char *scope, const char *office, bool *ok)
{
	const char *params[2] = { scope, office };
	long long n = 0;

	if (!store_count(conn, "notice office", "SELECT alertd_office_in_scope($1, $2)::int", 2, params, &n))
		return false;
	*ok = n == 1;
	return true;
}

bool notices_store_units_outside(PGconn *conn, const char *office, const char *units, json_t **bad)
{
	const char *params[2] = { office, units };

	if (!json_row(conn, "notice units",
		      "SELECT coalesce(json_agg(c ORDER BY c), '[]') FROM unnest($2::text[]) c"
		      " WHERE NOT EXISTS (SELECT 1 FROM budget_units b WHERE b.code = c"
		      "   AND b.office_code IN (SELECT alertd_office_subtree($1)))",
		      2, params, bad))
		return false;
	return *bad != NULL;
}

bool notices_store_reach(PGconn *conn, const struct notice_draft *d, long long active_days, json_t **out)
{
	char days[STORE_ID_TEXT];
	const char *params[5] = { d->office, d->units, d->roles, d->only_unprotected ? "true" : "false",
				  store_id(days, active_days) };

	if (!json_row(conn, "notice reach",
		      "SELECT alertd_notice_reach($1, $2::text[], $3::user_role[], $4::boolean, $5::int)", 5, params, out))
		return false;
	return *out != NULL;
}

/* An audit row of a notice action: target the notice id, details a JSON object text (or NULL). */
static bool audit_notice(PGconn *conn, const struct notice_actor *who, const char *action, const char *target,
			 const char *outcome, const char *details)
{
	struct audit_entry e = { .actor_kind = "staff",
				 .actor_id = who->login,
				 .action = action,
				 .target = target,
				 .outcome = outcome,
				 .ip = who->ip,
				 .request_id = who->request_id,
				 .details = details };
	return audit_write(conn, &e);
}

bool notices_store_create(PGconn *conn, const struct notice_draft *d, const struct notice_actor *who, json_t **out)
{
	char sid[STORE_ID_TEXT], target[STORE_ID_TEXT], details[256];
	PGresult *res = NULL;

	*out = NULL;
	const char *params[13] = { d->office,
				   store_id(sid, who->staff_id),
				   who->login,
				   d->template,
				   d->title_vi,
				   d->body_vi,
				   d->title_en,
				   d->body_en,
				   d->units,
				   d->roles,
				   d->only_unprotected ? "true" : "false",
				   d->send_mode,
				   d->send_after };
	if (!db_begin(conn))
		return false;
	res = store_query(conn, "notice create",
			  "WITH n AS (INSERT INTO notices (office_code, author_id, author, template, title_vi, body_vi,"
			  " title_en, body_en, target_units, target_roles, only_unprotected, send_mode, send_after)"
			  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::user_role[], $11::boolean, $12,"
			  " $13::timestamptz) RETURNING *)"
			  " SELECT n.id, n.text_sha256, alertd_notice_json(n)::text FROM n",
			  13, params, 3);
	if (!res || PQntuples(res) != 1)
		goto fail;
	snprintf(target, sizeof(target), "%s", PQgetvalue(res, 0, 0));
	snprintf(details, sizeof(details), "{\"text_sha256\": \"%s\", \"office\": \"%s\", \"send_mode\": \"%s\"}",
		 PQgetvalue(res, 0, 1), d->office, d->send_mode);
	if (!(*out = json_loads(PQgetvalue(res, 0, 2), 0, NULL)))
		goto fail;
	if (!audit_notice(conn, who, "notice.create", target, "ok", details) || !db_commit(conn))
		goto fail;
	PQclear(res);
	return true;
fail:
	json_decref(*out);
	*out = NULL;
	PQclear(res);
	db_rollback(conn);
	return false;
}

bool notices_store_get(PGconn *conn, const char *scope, long long id, json_t **out)
{
	char ids[STORE_ID_TEXT];
	const char *params[2] = { scope, store_id(ids, id) };

	return json_row(conn, "notice get",
			"SELECT alertd_notice_json(n) FROM notices n WHERE n.id = $2::bigint"
			" AND alertd_office_in_scope($1, n.office_code)",
			2, params, out);
}

bool notices_store_list(PGconn *conn, const char *scope, const char *state, long long before, long long limit, json_t **out)
{
	char b[STORE_ID_TEXT], l[STORE_ID_TEXT];
	const char *params[4] = { scope, state, store_id(b, before), store_id(l, limit) };

	if (!json_row(conn, "notice list",
		      "SELECT coalesce(json_agg(alertd_notice_json(n) - 'body_vi' - 'body_en' ORDER BY n.id DESC), '[]')"
		      " FROM (SELECT * FROM notices n WHERE n.office_code IN (SELECT alertd_office_subtree($1))"
		      "   AND ($2::text IS NULL OR n.state = $2) AND ($3::bigint IS NULL OR n.id < $3::bigint)"
		      "   ORDER BY n.id DESC LIMIT $4::int) n",
		      4, params, out))
		return false;
	return *out != NULL;
}

enum lock_col { K_AUTHOR, K_STATE, K_HASH, K__COUNT };

/*
 * Lock notice id within scope for a change, inside the caller's
 * transaction: *res its author id, state and hash, or no row.
 */
static PGresult *lock_notice(PGconn *conn, const char *scope, const char *id)
{
	const char *params[2] = { scope, id };
	return store_query(conn, "notice lock",
			   "SELECT author_id, state, text_sha256 FROM notices WHERE id = $2::bigint"
			   " AND alertd_office_in_scope($1, office_code) FOR UPDATE",
			   2, params, K__COUNT);
}

/* The shared steps of approve and withdraw: the lock, the checks, the update, the audit row, the commit. */
static enum notice_change change(PGconn *conn, const char *scope, long long id, const struct notice_actor *who,
				 bool approve, const char *sha256, const char *holidays, json_t **out)
{
	char ids[STORE_ID_TEXT], sid[STORE_ID_TEXT], details[200];
	enum notice_change r = NOTICE_CHANGE_ERROR;
	PGresult *res = NULL, *upd = NULL;

	*out = NULL;
	store_id(ids, id);
	if (!db_begin(conn))
		return NOTICE_CHANGE_ERROR;
	if (!(res = lock_notice(conn, scope, ids)))
		goto fail;
	if (PQntuples(res) == 0) {
		r = NOTICE_NOT_FOUND;
		goto fail;
	}
	bool own = store_int(res, 0, K_AUTHOR) == who->staff_id;
	if (approve && own)
		r = NOTICE_OWN;
	else if (!approve && !own)
		r = NOTICE_NOT_AUTHOR;
	else if (strcmp(PQgetvalue(res, 0, K_STATE), "pending_approval") != 0)
		r = NOTICE_WRONG_STATE;
	else if (approve && strcmp(PQgetvalue(res, 0, K_HASH), sha256) != 0)
		r = NOTICE_HASH_MISMATCH;
	if (r != NOTICE_CHANGE_ERROR) {
		/* a refusal is audited too, in its own commit */
		static const char *const reason[] = {
			[NOTICE_NOT_FOUND] = "not_found", [NOTICE_WRONG_STATE] = "state", [NOTICE_HASH_MISMATCH] = "text_changed", [NOTICE_OWN] = "own_notice", [NOTICE_NOT_AUTHOR] = "not_author"
		};
		snprintf(details, sizeof(details), "{\"reason\": \"%s\", \"state\": \"%s\"}", reason[r],
			 PQgetvalue(res, 0, K_STATE));
		if (!audit_notice(conn, who, approve ? "notice.approve" : "notice.withdraw", ids, "denied", details) ||
		    !db_commit(conn)) {
			r = NOTICE_CHANGE_ERROR;
			goto fail;
		}
		PQclear(res);
		return r;
	}
	const char *params[4] = { ids, store_id(sid, who->staff_id), who->login, holidays };
	upd = approve ? store_query(conn, "notice approve",
				    "UPDATE notices n SET state = 'approved', approved_by_id = $2::bigint, approved_by = $3,"
				    " approved_at = now(), send_at = CASE n.send_mode WHEN 'immediate' THEN now()"
				    "   ELSE alertd_notice_next_window(greatest(now(), n.send_after), $4::date[]) END"
				    " WHERE n.id = $1::bigint RETURNING n.text_sha256, n.send_at, alertd_notice_json(n)::text",
				    4, params, 3)
		      : store_query(conn, "notice withdraw",
				    "UPDATE notices n SET state = 'withdrawn', withdrawn_at = now() WHERE n.id = $1::bigint"
				    " RETURNING n.text_sha256, n.withdrawn_at, alertd_notice_json(n)::text",
				    1, params, 3);
	if (!upd || PQntuples(upd) != 1 || !(*out = json_loads(PQgetvalue(upd, 0, 2), 0, NULL)))
		goto fail;
	snprintf(details, sizeof(details), "{\"text_sha256\": \"%s\", \"%s\": \"%s\"}", PQgetvalue(upd, 0, 0),
		 approve ? "send_at" : "withdrawn_at", PQgetvalue(upd, 0, 1));
	if (!audit_notice(conn, who, approve ? "notice.approve" : "notice.withdraw", ids, "ok", details) || !db_commit(conn))
		goto fail;
	PQclear(res);
	PQclear(upd);
	return NOTICE_CHANGED;
fail:
	json_decref(*out);
	*out = NULL;
	PQclear(res);
	PQclear(upd);
	db_rollback(conn);
	return r == NOTICE_NOT_FOUND ? NOTICE_NOT_FOUND : NOTICE_CHANGE_ERROR;
}

enum notice_change notices_store_approve(PGconn *conn, const char *scope, long long id, const char *sha256,
					 const char *holidays, const struct notice_actor *who, json_t **out)
{
	return change(conn, scope, id, who, true, sha256, holidays, out);
}

enum notice_change notices_store_withdraw(PGconn *conn, const char *scope, long long id, const struct notice_actor *who,
					  json_t **out)
{
	return change(conn, scope, id, who, false, NULL, NULL, out);
}

bool notices_store_report(PGconn *conn, const char *scope, long long id, json_t **out)
{
	char ids[STORE_ID_TEXT];
	const char *params[2] = { scope, store_id(ids, id) };

	return json_row(conn, "notice report",
			"SELECT alertd_notice_report(n.id) FROM notices n WHERE n.id = $2::bigint"
			" AND alertd_office_in_scope($1, n.office_code)",
			2, params, out);
}
