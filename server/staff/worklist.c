/*
 * worklist.c - the follow-up worklist (see worklist.h): the sync after the
 * coverage refresh, the scoped reads and the audited staff actions.
 */
#include "staff/worklist.h"
#include "core/config.h"
#include "db/audit.h"
#include "db/db.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The item's columns in enum worklist_col order; the FROM joins b, o, s. */
/* one column per line; the formatter's wrapping of TS() would not be readable */
/* clang-format off */
#define ITEM_COLS \
	"w.id, w.unit_code, b.name, w.office_code, o.name, w.state, w.status::text," \
	" alertd_worklist_reasons_now(w.reasons)::text," \
	" " TS("w.opened_at") "," \
	" " TS("w.due_at") "," \
	" w.state = 'open' AND w.due_at < now()," \
	" CASE WHEN w.state = 'open' AND w.due_at < now() THEN o.parent_code END," \
	" s.username, s.full_name," \
	" " TS("w.assigned_at") "," \
	" " TS("w.closed_at") "," \
	" w.closed_by, w.close_reason, w.close_note," \
	" " TS("w.reopened_at") "," \
	" w.reopen_count," \
	" " TS("w.last_contact_at") "," \
	" (SELECT count(*) FROM worklist_contacts c WHERE c.item_id = w.id)," \
	" w.episode_open, b.contact_phone, b.contact_email"
/* clang-format on */
#define ITEM_FROM                                                                                                     \
	" FROM worklist_items w JOIN budget_units b ON b.code = w.unit_code JOIN offices o ON o.code = w.office_code" \
	" LEFT JOIN staff s ON s.id = w.assignee_id"

bool worklist_sync(PGconn *conn, const struct config *cfg, int *changed)
{
	char days[24], due[24];
	const char *p[2] = { days, due };

	snprintf(days, sizeof(days), "%lld", cfg->coverage_active_days);
	snprintf(due, sizeof(due), "%lld", cfg->worklist_due_days);
	PGresult *res = store_query(conn, "worklist sync", "SELECT alertd_worklist_sync($1::int, $2::int)", 2, p, 1);
	bool ok = res && PQntuples(res) == 1;
	if (ok && changed)
		*changed = (int)store_int(res, 0, 0);
	PQclear(res);
	return ok;
}

bool worklist_list(PGconn *conn, const char *scope, const struct worklist_filter *f, PGresult **out)
{
	char limit[STORE_ID_TEXT];
	const char *p[8] = { scope,	  f->office, f->state ? f->state : "open", f->assignee, f->overdue, f->status,
			     f->after_id, limit };

	snprintf(limit, sizeof(limit), "%lld", f->limit);
	*out = store_query(conn, "worklist list",
			   "SELECT " ITEM_COLS ITEM_FROM " WHERE w.office_code IN (SELECT alertd_office_subtree($1))"
			   " AND ($2::text IS NULL OR w.office_code IN (SELECT alertd_office_subtree($2)))"
			   " AND ($3 = 'all' OR w.state = $3)"
			   " AND ($4::text IS NULL OR ($4 = '' AND w.assignee_id IS NULL) OR s.username = $4)"
			   " AND ($5::boolean IS NULL OR (w.state = 'open' AND w.due_at < now()) = $5::boolean)"
			   " AND ($6::text IS NULL OR w.status::text = $6)"
			   " AND ($7::bigint IS NULL OR (w.due_at, w.id) > (SELECT c.due_at, c.id FROM worklist_items c"
			   " WHERE c.id = $7::bigint AND c.office_code IN (SELECT alertd_office_subtree($1))))"
			   " ORDER BY w.due_at, w.id LIMIT $8::int",
			   8, p, WL__COUNT);
	return *out != NULL;
}

bool worklist_get(PGconn *conn, const char *scope, const char *id, PGresult **out)
{
	const char *p[2] = { id, scope };

	*out = store_query(conn, "worklist item",
			   "SELECT " ITEM_COLS ITEM_FROM
			   " WHERE w.id = $1::bigint AND w.office_code IN (SELECT alertd_office_subtree($2))",
			   2, p, WL__COUNT);
	return *out != NULL;
}

bool worklist_print_items(PGconn *conn, const char *office, PGresult **out)
{
	char max[STORE_ID_TEXT];
	const char *p[2] = { office, max };

	snprintf(max, sizeof(max), "%d", WORKLIST_PRINT_MAX);
	*out = store_query(conn, "worklist print",
			   "SELECT " ITEM_COLS ITEM_FROM
			   " WHERE w.office_code = $1 AND w.state = 'open' ORDER BY w.unit_code LIMIT $2::int",
			   2, p, WL__COUNT);
	return *out != NULL;
}

bool worklist_print_people(PGconn *conn, const char *office, long long active_days, PGresult **out)
{
	char max[STORE_ID_TEXT], days[STORE_ID_TEXT];
	const char *p[3] = { office, max, days };

	snprintf(max, sizeof(max), "%d", WORKLIST_PRINT_MAX);
	snprintf(days, sizeof(days), "%lld", active_days);
	*out = store_query(conn, "worklist print people",
			   "WITH units AS (SELECT w.unit_code FROM worklist_items w WHERE w.office_code = $1"
			   " AND w.state = 'open' ORDER BY w.unit_code LIMIT $2::int)"
			   " SELECT u.unit_code, u.id, u.full_name,"
			   " coalesce((SELECT json_agg(r.role::text ORDER BY r.role)::text FROM user_roles r"
			   " WHERE r.user_id = u.id), '[]'), u.phone,"
			   " alertd_activation_state(u.id),"
			   " EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.state = 'active'"
			   " AND d.push_token IS NOT NULL AND d.last_seen_at > now() - make_interval(days => $3::int))"
			   " FROM units JOIN users u ON u.unit_code = units.unit_code AND u.active AND u.pseudonymised_at IS NULL"
			   " ORDER BY u.unit_code, u.dvctt_login",
			   3, p, WLP__COUNT);
	return *out != NULL;
}

bool worklist_contacts(PGconn *conn, const char *id, PGresult **out)
{
	char max[STORE_ID_TEXT];
	const char *p[2] = { id, max };

	snprintf(max, sizeof(max), "%d", WORKLIST_CONTACTS_MAX);
	/* clang-format off */
	*out = store_query(conn, "worklist contacts",
			   "SELECT c.id, " TS("c.at") ","
			   " c.channel, c.outcome, c.note, s.username"
			   " FROM worklist_contacts c JOIN staff s ON s.id = c.staff_id"
			   " WHERE c.item_id = $1::bigint ORDER BY c.id LIMIT $2::int",
			   2, p, WLC__COUNT);
	/* clang-format on */
	return *out != NULL;
}

bool worklist_channel_ok(const char *s)
{
	static const char *const names[] = { "phone", "email", "visit", "counter", NULL };

	for (int i = 0; s && names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

bool worklist_outcome_ok(const char *s)
{
	static const char *const names[] = { "reached", "no_answer", "wrong_number", "promised", "refused", "other", NULL };

	for (int i = 0; s && names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

/*
 * Lock item id (in scope) for the caller's transaction: WORKLIST_OK with
 * *office (>= 16 bytes) set, WORKLIST_NOT_FOUND, WORKLIST_ENDED or
 * WORKLIST_ERROR.
 */
static enum worklist_result lock_item(PGconn *conn, const char *scope, const char *id, char *office, size_t officelen,
				      char *unit, size_t unitlen)
{
	const char *p[2] = { id, scope };
	PGresult *res = store_query(conn, "worklist lock",
				    "SELECT w.office_code, w.unit_code, w.episode_open FROM worklist_items w"
				    " WHERE w.id = $1::bigint AND w.office_code IN (SELECT alertd_office_subtree($2))"
				    " FOR UPDATE",
				    2, p, 3);
	enum worklist_result r = WORKLIST_ERROR;

	if (!res)
		return r;
	if (PQntuples(res) != 1)
		r = WORKLIST_NOT_FOUND;
	else if (!store_bool(res, 0, 2))
		r = WORKLIST_ENDED;
	else {
		snprintf(office, officelen, "%s", PQgetvalue(res, 0, 0));
		snprintf(unit, unitlen, "%s", PQgetvalue(res, 0, 1));
		r = WORKLIST_OK;
	}
	PQclear(res);
	return r;
}

/* Write the audit row (details: a JSON object, stolen) in the caller's transaction. */
static bool audit_change(PGconn *conn, const struct store_actor *actor, const char *action, const char *target, json_t *details)
{
	char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
	struct audit_entry e = { .actor_kind = actor->kind,
				 .actor_id = actor->id,
				 .action = action,
				 .target = target,
				 .outcome = "ok",
				 .ip = actor->ip,
				 .request_id = actor->request_id,
				 .details = text };
	bool ok = text && audit_write(conn, &e);

	free(text);
	json_decref(details);
	return ok;
}

/* The assignment part of a change: the assignee checked, then set. */
static enum worklist_result apply_assignee(PGconn *conn, const char *scope, const char *id, const char *office,
					   const struct worklist_change *c)
{
	const char *p[4] = { id, c->assignee, office, scope };

	if (!c->assignee)
		return db_run(conn,
			      "UPDATE worklist_items SET assignee_id = NULL, assigned_at = NULL WHERE id = $1::bigint", 1, p)
			       ? WORKLIST_OK
			       : WORKLIST_ERROR;
	/* an active operator or admin whose office is the item's or above it, itself within the caller's subtree */
	PGresult *res = store_query(conn, "worklist assign",
				    "UPDATE worklist_items w SET assignee_id = s.id, assigned_at = now() FROM staff s"
				    " WHERE w.id = $1::bigint AND s.username = $2 AND s.active"
				    " AND s.role::text IN ('operator', 'admin') AND s.office_code IS NOT NULL"
				    " AND alertd_office_in_scope(s.office_code, $3) AND alertd_office_in_scope($4, s.office_code)"
				    " RETURNING w.id",
				    4, p, 1);
	enum worklist_result r = !res ? WORKLIST_ERROR : PQntuples(res) == 1 ? WORKLIST_OK : WORKLIST_BAD_ASSIGNEE;

	PQclear(res);
	return r;
}

/* The due date part: the end of that Vietnam day; a day before today is refused. */
static enum worklist_result apply_due(PGconn *conn, const char *id, const char *day)
{
	const char *p[2] = { id, day };
	PGresult *res = store_query(conn, "worklist due",
				    "UPDATE worklist_items SET due_at = (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
				    " WHERE id = $1::bigint AND $2::date >= (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
				    " RETURNING id",
				    2, p, 1);
	enum worklist_result r = !res ? WORKLIST_ERROR : PQntuples(res) == 1 ? WORKLIST_OK : WORKLIST_DUE_IN_PAST;

	PQclear(res);
	return r;
}

/* Close by hand (remembering the status and reason codes a regression is measured against) or reopen. */
static bool apply_state(PGconn *conn, const char *id, const char *state, const char *note, const char *login)
{
	const char *p[3] = { id, note, login };

	if (strcmp(state, "closed") == 0)
		return db_run(conn,
			      "UPDATE worklist_items SET state = 'closed', closed_at = now(), closed_by = $3,"
			      " close_reason = 'hand', close_note = $2, closed_status = status,"
			      " closed_reasons = ARRAY(SELECT e->>'code' FROM jsonb_array_elements(reasons) e)"
			      " WHERE id = $1::bigint AND state = 'open'",
			      3, p);
	return db_run(conn,
		      "UPDATE worklist_items SET state = 'open', closed_at = NULL, closed_by = NULL, close_reason = NULL,"
		      " close_note = NULL, closed_status = NULL, closed_reasons = NULL, reopened_at = now(),"
		      " reopen_count = reopen_count + 1 WHERE id = $1::bigint AND state = 'closed'",
		      1, p);
}

enum worklist_result worklist_update(PGconn *conn, const char *scope, const char *id, const struct worklist_change *c,
				     const struct store_actor *actor)
{
	char office[16], unit[16];
	enum worklist_result r;

	if (!db_begin(conn))
		return WORKLIST_ERROR;
	r = lock_item(conn, scope, id, office, sizeof(office), unit, sizeof(unit));
	if (r == WORKLIST_OK && c->set_assignee)
		r = apply_assignee(conn, scope, id, office, c);
	if (r == WORKLIST_OK && c->due_date)
		r = apply_due(conn, id, c->due_date);
	if (r == WORKLIST_OK && c->state && !apply_state(conn, id, c->state, c->note, actor->id))
		r = WORKLIST_ERROR;
	if (r != WORKLIST_OK)
		goto fail;
	json_t *d = json_pack("{s:s,s:s,s:s}", "item", id, "unit", unit, "office", office);
	if (d && c->set_assignee)
		json_object_set_new(d, "assignee", c->assignee ? json_string(c->assignee) : json_null());
	if (d && c->due_date)
		json_object_set_new(d, "due_date", json_string(c->due_date));
	if (d && c->state)
		json_object_set_new(d, "state", json_string(c->state));
	if (!audit_change(conn, actor, "worklist.update", unit, d) || !db_commit(conn)) {
		r = WORKLIST_ERROR;
		goto fail;
	}
	return WORKLIST_OK;
fail:
	db_rollback(conn);
	return r;
}

enum worklist_result worklist_add_contact(PGconn *conn, const char *scope, const char *id, long long staff_id,
					  const char *channel, const char *outcome, const char *note,
					  const struct store_actor *actor, long long *contact_id)
{
	char office[16], unit[16], sid[STORE_ID_TEXT];
	const char *p[5] = { id, channel, outcome, note, store_id(sid, staff_id) };
	enum worklist_result r;
	PGresult *res = NULL;

	if (!db_begin(conn))
		return WORKLIST_ERROR;
	r = lock_item(conn, scope, id, office, sizeof(office), unit, sizeof(unit));
	if (r != WORKLIST_OK)
		goto fail;
	r = WORKLIST_ERROR;
	res = store_query(conn, "worklist contact",
			  "WITH c AS (INSERT INTO worklist_contacts (item_id, channel, outcome, note, staff_id)"
			  " VALUES ($1::bigint, $2, $3, $4, $5::bigint) RETURNING id, at)"
			  " UPDATE worklist_items w SET last_contact_at = c.at FROM c WHERE w.id = $1::bigint RETURNING c.id",
			  5, p, 1);
	if (!res || PQntuples(res) != 1)
		goto fail;
	*contact_id = store_int(res, 0, 0);
	/* the note may name people: the audit row says that one was written, not what */
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:I,s:b}", "item", id, "unit", unit, "office", office, "channel", channel,
			      "contact", (json_int_t)*contact_id, "note", note != NULL);
	if (d)
		json_object_set_new(d, "outcome", json_string(outcome));
	if (!audit_change(conn, actor, "worklist.contact", unit, d) || !db_commit(conn))
		goto fail;
	PQclear(res);
	return WORKLIST_OK;
fail:
	PQclear(res);
	db_rollback(conn);
	return r;
}
