/*
 * lookups.c - the personal-data look-up meter (see lookups.h).
 *
 * Windows: the current minute (date_trunc of now(), UTC) and the current
 * Vietnam day (midnight in Asia/Ho_Chi_Minh). now() is the transaction's
 * start, so both statements of a look-up see the same windows. The rows
 * are created if missing (ON CONFLICT DO NOTHING), then locked FOR UPDATE
 * in one order (day before minute), so concurrent look-ups of one
 * principal on several instances queue on the rows instead of both
 * passing a check that only one of them should.
 */
#include "staff/lookups.h"
#include "core/app.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/audit.h"
#include "db/db.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The windows' starts, as SQL. */
#define DAY_START "date_trunc('day', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'Asia/Ho_Chi_Minh'"
#define MINUTE_START "date_trunc('minute', now())"
#define THIS_WINDOW                                                                              \
	"((window_kind = 'day' AND window_start = " DAY_START ") OR (window_kind = 'minute' AND" \
	" window_start = " MINUTE_START "))"

enum win_col { W_KIND, W_USED, W_RETRY, W__COUNT };

/* The audit row's details: what, how many people, whom (user ids), and for a refusal the window. */
static char *details_of(const struct staff_lookup *l, const struct staff_lookup_principal *who,
			const struct staff_lookup_refusal *why)
{
	json_t *ids = json_array(), *d;
	size_t n = l->user_ids ? l->nuser_ids : 0, kept = n < STAFF_LOOKUP_AUDIT_IDS ? n : STAFF_LOOKUP_AUDIT_IDS;
	char *text = NULL;

	for (size_t i = 0; ids && i < kept; i++)
		if (json_array_append_new(ids, json_integer(l->user_ids[i])) != 0) {
			json_decref(ids);
			ids = NULL;
		}
	if (!ids)
		return NULL;
	d = json_pack("{s:s,s:I,s:o,s:s}", "what", l->what ? l->what : "", "people", (json_int_t)l->people, "user_ids",
		      ids, "office", who->office ? who->office : "");
	if (d && n > kept && json_object_set_new(d, "user_ids_left_out", json_integer((json_int_t)(n - kept))) != 0)
		goto out;
	if (d && why &&
	    json_object_update_new(d, json_pack("{s:s,s:I,s:I}", "window", why->window, "limit", (json_int_t)why->limit,
						"used", (json_int_t)why->used)) != 0)
		goto out;
	if (d)
		text = json_dumps(d, JSON_COMPACT);
out:
	json_decref(d);
	return text;
}

enum staff_lookup_result staff_lookups_take(PGconn *conn, const struct config *cfg, const struct staff_lookup_principal *who,
					    const struct staff_lookup *l, struct staff_lookup_refusal *why)
{
	char principal[96], people[STORE_ID_TEXT];
	enum staff_lookup_result result = STAFF_LOOKUP_ERROR;
	PGresult *res = NULL;
	char *details = NULL;
	long long used_day = -1, used_minute = -1, retry_day = 1, retry_minute = 1;

	memset(why, 0, sizeof(*why));
	if (l->people < 0 || snprintf(principal, sizeof(principal), "%s:%s", who->kind, who->name) >= (int)sizeof(principal))
		return STAFF_LOOKUP_ERROR;
	snprintf(people, sizeof(people), "%lld", l->people);
	const char *p1[1] = { principal };
	if (!db_begin(conn))
		return STAFF_LOOKUP_ERROR;
	if (!db_run(conn,
		    "INSERT INTO staff_lookup_counts (principal, window_kind, window_start)"
		    " VALUES ($1, 'day', " DAY_START "), ($1, 'minute', " MINUTE_START ") ON CONFLICT DO NOTHING",
		    1, p1))
		goto out;
	res = store_query(conn, "staff lookup windows",
			  "SELECT window_kind, looked_up,"
			  " greatest(1, ceil(extract(epoch FROM window_start + CASE window_kind WHEN 'day'"
			  " THEN interval '1 day' ELSE interval '1 minute' END - now())))::bigint"
			  " FROM staff_lookup_counts WHERE principal = $1 AND " THIS_WINDOW " ORDER BY window_kind FOR UPDATE",
			  1, p1, W__COUNT);
	if (!res || PQntuples(res) != 2)
		goto out;
	for (int r = 0; r < 2; r++) {
		bool day = strcmp(PQgetvalue(res, r, W_KIND), "day") == 0;
		*(day ? &used_day : &used_minute) = store_int(res, r, W_USED);
		*(day ? &retry_day : &retry_minute) = store_int(res, r, W_RETRY);
	}
	if (used_day < 0 || used_minute < 0)
		goto out;
	/* the day first: its wait is the longer one */
	if (used_day + l->people > cfg->staff_lookups_per_day)
		*why = (struct staff_lookup_refusal){ "day", cfg->staff_lookups_per_day, used_day, retry_day };
	else if (used_minute + l->people > cfg->staff_lookups_per_minute)
		*why = (struct staff_lookup_refusal){ "minute", cfg->staff_lookups_per_minute, used_minute, retry_minute };
	bool refused = why->window != NULL;
	details = details_of(l, who, refused ? why : NULL);
	if (!details)
		goto out;
	const char *p2[2] = { principal, people };
	if (!refused &&
	    !db_run(conn, "UPDATE staff_lookup_counts SET looked_up = looked_up + $2::bigint WHERE principal = $1 AND " THIS_WINDOW,
		    2, p2))
		goto out;
	struct audit_entry e = { .actor_kind = who->kind,
				 .actor_id = who->name,
				 .action = refused ? "staff.lookup_quota_exceeded" : "staff.lookup",
				 .target = l->target,
				 .outcome = refused ? "denied" : "ok",
				 .ip = who->ip,
				 .request_id = who->request_id,
				 .details = details };
	if (!audit_write(conn, &e) || !db_commit(conn))
		goto out;
	result = refused ? STAFF_LOOKUP_REFUSED : STAFF_LOOKUP_ALLOWED;
out:
	PQclear(res);
	free(details);
	if (result == STAFF_LOOKUP_ERROR) {
		db_rollback(conn);
		memset(why, 0, sizeof(*why));
	}
	return result;
}

bool staff_lookups_take_or_reply(const struct app *app, struct http_req *req, struct http_resp *resp,
				 const struct staff_lookup *l, enum http_outcome *outcome)
{
	struct staff_lookup_principal who = { .office = req->scope_office, .ip = req->remote, .request_id = req->request_id };
	struct staff_lookup_refusal why;
	char detail[200], retry[STORE_ID_TEXT];

	*outcome = HTTP_FAILED;
	if (req->staff.staff_id > 0)
		who.kind = "staff", who.name = req->staff.login;
	else if (req->principal_name[0])
		who.kind = "admin_key", who.name = req->principal_name;
	else
		return false; /* a route that shows people to nobody known: a programming error, 500 */
	PGconn *conn = http_db(req);
	if (!conn)
		return false;
	switch (staff_lookups_take(conn, app->cfg, &who, l, &why)) {
	case STAFF_LOOKUP_ALLOWED:
		return true;
	case STAFF_LOOKUP_ERROR:
		return false;
	case STAFF_LOOKUP_REFUSED:
		break;
	}
	metrics_count(app->metrics, METRIC_STAFF_LOOKUP_QUOTA_EXCEEDED, 1);
	LOG_FIELDS(LOG_WARN, "personal-data look-up quota exceeded", LOG_S("actor_kind", who.kind),
		   LOG_S("login", who.name), LOG_S("office", who.office), LOG_S("window", why.window),
		   LOG_I("limit", why.limit), LOG_I("used", why.used), LOG_I("asked", l->people),
		   LOG_S("what", l->what ? l->what : ""), LOG_S("request_id", req->request_id));
	snprintf(detail, sizeof(detail),
		 "this would show %lld people, over your quota of %lld per %s (%lld used); the office admin is told",
		 l->people, why.limit, why.window, why.used);
	json_t *extra = json_pack("{s:s,s:I,s:I}", "window", why.window, "limit", (json_int_t)why.limit, "retry_after",
				  (json_int_t)why.retry_after);
	http_resp_problem(resp, req, PROBLEM_LOOKUP_QUOTA_EXCEEDED, detail, extra);
	json_decref(extra);
	snprintf(retry, sizeof(retry), "%lld", why.retry_after);
	http_resp_header(resp, "Retry-After", retry);
	*outcome = HTTP_DONE;
	return false;
}

bool staff_lookups_cleanup(PGconn *conn, long long *deleted)
{
	*deleted = 0;
	return store_count(conn, "staff lookup cleanup",
			   "WITH d AS (DELETE FROM staff_lookup_counts WHERE window_start < now() - CASE window_kind"
			   " WHEN 'day' THEN interval '2 days' ELSE interval '2 minutes' END RETURNING 1)"
			   " SELECT count(*) FROM d",
			   0, NULL, deleted);
}
