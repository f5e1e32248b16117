/*
 * reminders.c - install reminders by e-mail (see reminders.h).
 *
 * One transaction per unit: the unit (within the caller's scope), a lock
 * on its transaction office, its uncovered users, the day's counts, the
 * rows, the audit row. The lock is per office and is the only one taken,
 * so two instances reminding units of one office queue one after the
 * other and the second counts what the first committed (the count is a
 * statement of its own after the lock: under READ COMMITTED a statement
 * sees what committed before it began).
 */
#include "mail/reminders.h"
#include "alerts/alertfmt.h"
#include "core/config.h"
#include "core/log.h"
#include "db/audit.h"
#include "db/db.h"
#include "mail/mailfmt.h"
#include "mail/message.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* the start of today in Vietnam (UTC+7 all year), as SQL */
#define VN_TODAY "date_trunc('day', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'Asia/Ho_Chi_Minh'"
#define REACHABLE                                                                       \
	"EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.state = 'active'" \
	" AND d.push_token IS NOT NULL AND d.last_seen_at > now() - make_interval(days => $2::int))"
#define RECENT_REMINDER                                                                                  \
	"EXISTS (SELECT 1 FROM mail_outbox m WHERE m.purpose = 'reminder' AND m.unit_code = u.unit_code" \
	" AND (m.user_id = u.id OR m.to_addr = COALESCE(u.email, b.contact_email))"                      \
	" AND m.created_at > now() - make_interval(days => $3::int))"

long long mail_reminders_retry_after(void)
{
	long long now = (long long)time(NULL);
	return 86400 - (now + 7 * 3600) % 86400;
}

bool mail_uncovered_users(PGconn *conn, const struct config *cfg, const char *unit_code, PGresult **out)
{
	char days[24], interval[24];

	snprintf(days, sizeof(days), "%lld", cfg->coverage_active_days);
	snprintf(interval, sizeof(interval), "%lld", cfg->mail_reminder_interval_days);
	const char *params[3] = { unit_code, days, interval };
	*out = db_exec(conn,
		       "SELECT u.id, u.dvctt_login, u.full_name, u.email, COALESCE(p.lang, 'vi'), " RECENT_REMINDER
		       " FROM users u JOIN budget_units b ON b.code = u.unit_code"
		       " LEFT JOIN user_preferences p ON p.user_id = u.id"
		       " WHERE u.unit_code = $1 AND u.active AND NOT " REACHABLE " ORDER BY u.id",
		       3, params);
	return *out != NULL;
}

static bool audit_reminder(PGconn *conn, const struct mail_reminder_request *rq, const char *outcome, json_t *details)
{
	char *text = json_dumps(details, JSON_COMPACT);
	struct audit_entry e = { .actor_kind = rq->actor_kind ? rq->actor_kind : "system",
				 .actor_id = rq->actor_id,
				 .action = "mail.reminder",
				 .target = rq->unit_code,
				 .outcome = outcome,
				 .ip = rq->ip,
				 .request_id = rq->request_id,
				 .details = text };
	bool ok = text && audit_write(conn, &e);
	free(text);
	return ok;
}

/*
 * The rows to queue for the uncovered users in users: one per address, the
 * user's own else the unit's contact address; counts what was skipped in
 * out. NULL on OOM or a text that does not fit.
 */
static json_t *reminder_rows(PGresult *users, const struct mail_reminder_request *rq, const char *unit_name,
			     const char *office_code, const char *office_name, const char *contact,
			     struct mail_reminder_outcome *out)
{
	json_t *rows = json_array();
	const char *sent[64];
	size_t nsent = 0;

	for (int r = 0; rows && r < PQntuples(users); r++) {
		const char *email = PQgetisnull(users, r, MAIL_UC_EMAIL) ? NULL : PQgetvalue(users, r, MAIL_UC_EMAIL);
		const char *addr = email && mail_addr_ok(email) ? email : NULL, *kind = "user";
		if (!addr && contact && mail_addr_ok(contact)) {
			addr = contact;
			kind = "unit_contact";
		}
		if (!addr) {
			out->no_address++;
			continue;
		}
		if (!rq->manual && strcmp(PQgetvalue(users, r, MAIL_UC_RECENT), "t") == 0) {
			out->recent++;
			continue;
		}
		bool dup = nsent >= sizeof(sent) / sizeof(sent[0]);
		for (size_t k = 0; k < nsent && !dup; k++)
			dup = strcasecmp(sent[k], addr) == 0;
		if (dup) {
			out->duplicate++;
			continue;
		}
		sent[nsent++] = addr;
		char subject[MAILFMT_SUBJECT_MAX], body[MAILFMT_BODY_MAX];
		const char *lang = PQgetvalue(users, r, MAIL_UC_LANG);
		if (!mailfmt_reminder(alertfmt_lang(lang), rq->unit_code, unit_name, office_name, subject, body) ||
		    json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "u",
							  PQgetvalue(users, r, MAIL_UC_USER_ID), "unit", rq->unit_code,
							  "office", office_code, "kind", kind, "addr", addr, "lang",
							  strcmp(lang, "en") == 0 ? "en" : "vi", "subject", subject)) ||
		    json_object_set_new(json_array_get(rows, json_array_size(rows) - 1), "body", json_string(body))) {
			json_decref(rows);
			return NULL;
		}
	}
	return rows;
}

enum mail_reminder_result mail_reminders_queue(PGconn *conn, const struct config *cfg,
					       const struct mail_reminder_request *rq, struct mail_reminder_outcome *out)
{
	PGresult *unit = NULL, *users = NULL, *res = NULL;
	enum mail_reminder_result rc = MAIL_REMINDER_ERROR;
	json_t *rows = NULL, *details = NULL;
	char *text = NULL;

	memset(out, 0, sizeof(*out));
	if (!db_begin(conn))
		return MAIL_REMINDER_ERROR;
	const char *p1[2] = { rq->unit_code, rq->scope_office };
	unit = db_exec(conn,
		       "SELECT b.name, b.office_code, o.name, b.contact_email FROM budget_units b"
		       " JOIN offices o ON o.code = b.office_code"
		       " WHERE b.code = $1 AND b.active AND ($2::text IS NULL OR alertd_office_in_scope($2, b.office_code))",
		       2, p1);
	if (!unit)
		goto rollback;
	if (PQntuples(unit) != 1) {
		rc = MAIL_REMINDER_NOT_FOUND;
		goto rollback;
	}
	const char *office_code = PQgetvalue(unit, 0, 1);
	const char *contact = PQgetisnull(unit, 0, 3) ? NULL : PQgetvalue(unit, 0, 3);
	const char *p2[1] = { office_code };
	if (!(res = db_exec(conn, "SELECT pg_advisory_xact_lock(hashtextextended('mail.reminder:' || $1, 0))", 1, p2)))
		goto rollback;
	PQclear(res);
	res = NULL;
	if (!mail_uncovered_users(conn, cfg, rq->unit_code, &users))
		goto rollback;
	if (!(rows = reminder_rows(users, rq, PQgetvalue(unit, 0, 0), office_code, PQgetvalue(unit, 0, 2), contact, out)))
		goto rollback;
	long long n = (long long)json_array_size(rows);
	const char *p3[2] = { rq->unit_code, office_code };
	res = db_exec(conn,
		      "SELECT count(*) FILTER (WHERE unit_code = $1), count(*) FROM mail_outbox"
		      " WHERE purpose = 'reminder' AND office_code = $2 AND created_at >= " VN_TODAY,
		      2, p3);
	if (!res || PQntuples(res) != 1)
		goto rollback;
	long long unit_used = strtoll(PQgetvalue(res, 0, 0), NULL, 10),
		  office_used = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	res = NULL;
	if (n > 0 && (unit_used + n > cfg->mail_reminders_per_unit_per_day ||
		      office_used + n > cfg->mail_reminders_per_office_per_day)) {
		bool by_unit = unit_used + n > cfg->mail_reminders_per_unit_per_day;
		out->limit = by_unit ? cfg->mail_reminders_per_unit_per_day : cfg->mail_reminders_per_office_per_day;
		out->used = by_unit ? unit_used : office_used;
		details = json_pack("{s:s,s:b,s:I,s:I,s:I}", "reason", by_unit ? "unit_limit" : "office_limit", "manual",
				    rq->manual, "mails", (json_int_t)n, "limit", (json_int_t)out->limit, "used",
				    (json_int_t)out->used);
		if (!details || !audit_reminder(conn, rq, "denied", details) || !db_commit(conn))
			goto rollback;
		rc = by_unit ? MAIL_REMINDER_UNIT_LIMIT : MAIL_REMINDER_OFFICE_LIMIT;
		goto out;
	}
	if (n > 0) {
		if (!(text = json_dumps(rows, JSON_COMPACT)))
			goto rollback;
		const char *p4[3] = { text, rq->manual ? "t" : "f", rq->actor_id };
		if (!db_run(conn,
			    "INSERT INTO mail_outbox (purpose, user_id, unit_code, office_code, to_kind, to_addr, lang, subject,"
			    " body, manual, created_by)"
			    " SELECT 'reminder', u, unit, office, kind, addr, lang, subject, body, $2::boolean, $3"
			    " FROM jsonb_to_recordset($1::jsonb) AS (u bigint, unit text, office text, kind text, addr text,"
			    "   lang text, subject text, body text)",
			    3, p4))
			goto rollback;
	}
	out->queued = (int)n;
	details = json_pack("{s:b,s:i,s:i,s:i,s:i}", "manual", rq->manual, "queued", out->queued, "no_address",
			    out->no_address, "recent", out->recent, "duplicate", out->duplicate);
	if (!details || !audit_reminder(conn, rq, "ok", details) || !db_commit(conn))
		goto rollback;
	rc = MAIL_REMINDER_QUEUED;
	goto out;
rollback:
	db_rollback(conn);
out:
	free(text);
	json_decref(rows);
	json_decref(details);
	PQclear(res);
	PQclear(users);
	PQclear(unit);
	return rc;
}

bool mail_reminders_auto(PGconn *conn, const struct config *cfg, int max_units, long long *queued)
{
	char days[24], interval[24], limit[24], per_unit[24];
	PGresult *res;

	*queued = 0;
	snprintf(days, sizeof(days), "%lld", cfg->coverage_active_days);
	snprintf(interval, sizeof(interval), "%lld", cfg->mail_reminder_interval_days);
	snprintf(limit, sizeof(limit), "%d", max_units);
	snprintf(per_unit, sizeof(per_unit), "%lld", cfg->mail_reminders_per_unit_per_day);
	/* units a reminder would reach: not protected, an uncovered user with an address not reminded lately */
	const char *params[4] = { limit, days, interval, per_unit };
	res = db_exec(conn,
		      "SELECT c.unit_code FROM coverage_units c JOIN budget_units b ON b.code = c.unit_code"
		      " WHERE c.status <> 'protected' AND b.active AND c.covered_users < c.users"
		      " AND EXISTS (SELECT 1 FROM users u WHERE u.unit_code = c.unit_code AND u.active"
		      "   AND COALESCE(u.email, b.contact_email) IS NOT NULL AND NOT " REACHABLE " AND NOT " RECENT_REMINDER ")"
		      " AND (SELECT count(*) FROM mail_outbox m WHERE m.purpose = 'reminder' AND m.unit_code = c.unit_code"
		      "   AND m.created_at >= " VN_TODAY ") < $4::int"
		      " ORDER BY c.unit_code LIMIT $1::int",
		      4, params);
	if (!res)
		return false;
	bool ok = true;
	for (int r = 0; r < PQntuples(res) && ok; r++) {
		struct mail_reminder_request rq = { .unit_code = PQgetvalue(res, r, 0), .manual = false };
		struct mail_reminder_outcome o;
		enum mail_reminder_result rr = mail_reminders_queue(conn, cfg, &rq, &o);
		ok = rr != MAIL_REMINDER_ERROR;
		*queued += o.queued;
	}
	PQclear(res);
	if (*queued > 0)
		LOG_FIELDS(LOG_INFO, "mail: automatic reminders queued", LOG_I("mails", *queued));
	return ok;
}
