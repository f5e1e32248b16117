/*
 * escalation.c - risk alerts that reached nobody (see escalation.h).
 *
 * Several instances run the pass; a transaction advisory lock lets one do
 * it at a time, and the unique key (event, rule, unit) makes it insert an
 * escalation once even so. The figures for /metrics are read by every
 * instance (one indexed query each tick), so all of them report the same.
 */
#include "staff/escalation.h"
#include "alerts/alertfmt.h"
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

/* distinct from the maintenance, migration and coverage keys */
#define ESCALATION_LOCK_KEY "107356483593319"
#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum pass_col { P_ID, P_EVENT, P_RULE, P_UNIT, P_UNIT_NAME, P_OFFICE, P_DUTY, P_REASON, P_ALERT_US, P__COUNT };

static const char *reason_vi(const char *reason)
{
	if (strcmp(reason, "no_reachable_device") == 0)
		return "không người dùng nào của đơn vị có điện thoại nhận được thông báo";
	if (strcmp(reason, "all_failed") == 0)
		return "mọi thông báo đẩy đều không gửi được";
	return "thông báo đã gửi nhưng chưa ai đọc";
}

/*
 * Queue the duty e-mail of pass row r (its office has a duty address) in
 * the caller's transaction. Vietnamese, no amount and no counterparty: the
 * unit, the rule, when, why, and "call the unit".
 */
static bool queue_mail(PGconn *conn, const struct config *cfg, PGresult *res, int r)
{
	char subject[200], when[32], rule_key[96], minutes[24];
	struct buf_text {
		char *p;
		size_t n;
	} body = { 0 };
	const char *rule = PQgetvalue(res, r, P_RULE);
	bool ok = false;

	snprintf(rule_key, sizeof(rule_key), "risk.%s.title", rule);
	const char *rule_title = alertfmt_message(rule_key, ALERT_LANG_VI);
	alertfmt_time(strtoll(PQgetvalue(res, r, P_ALERT_US), NULL, 10), when, sizeof(when));
	snprintf(minutes, sizeof(minutes), "%lld", cfg->escalation_after_minutes);
	snprintf(subject, sizeof(subject), "Cần gọi ngay đơn vị %s: cảnh báo rủi ro chưa đến được ai",
		 PQgetvalue(res, r, P_UNIT));
	FILE *f = open_memstream(&body.p, &body.n);
	if (!f)
		return false;
	fprintf(f,
		"Cảnh báo rủi ro cho đơn vị %s - %s chưa đến được người nào của đơn vị sau %s phút.\n\n"
		"Quy tắc: %s\n"
		"Thời điểm cảnh báo: %s (giờ Việt Nam)\n"
		"Lý do: %s\n\n"
		"Hãy gọi cho đơn vị ngay. Số điện thoại của đơn vị và của người dùng có trong bảng điều khiển alertd, "
		"mục \"Cần gọi ngay\"; ghi nhận cuộc gọi ở đó.\n\n"
		"Thư này do alertd gửi tự động và không chứa số tiền hay thông tin giao dịch.\n",
		PQgetvalue(res, r, P_UNIT), PQgetvalue(res, r, P_UNIT_NAME), minutes, rule_title ? rule_title : rule,
		when, reason_vi(PQgetvalue(res, r, P_REASON)));
	if (fclose(f) != 0 || !body.p)
		goto out;
	/* the unit's name is cut to fit the body's cap; a duty address is checked by the offices CHECK and mail_outbox's */
	const char *p[5] = { PQgetvalue(res, r, P_UNIT), PQgetvalue(res, r, P_OFFICE), PQgetvalue(res, r, P_DUTY),
			     subject, body.p };
	ok = body.n <= 20000 &&
	     db_run(conn,
		    "INSERT INTO mail_outbox (purpose, unit_code, office_code, to_kind, to_addr, lang, subject, body)"
		    " VALUES ('escalation', $1, $2, 'office_duty', $3, 'vi', $4, $5)",
		    5, p);
out:
	free(body.p);
	return ok;
}

bool escalation_run(PGconn *conn, const struct config *cfg, struct escalation_pass *out)
{
	char after[24], lookback[24];
	const char *p[2] = { after, lookback };
	PGresult *res = NULL;

	memset(out, 0, sizeof(*out));
	snprintf(after, sizeof(after), "%lld", cfg->escalation_after_minutes);
	snprintf(lookback, sizeof(lookback), "%d", ESCALATION_LOOKBACK_HOURS);
	if (!db_begin(conn))
		return false;
	res = store_query(conn, "escalation lock", "SELECT pg_try_advisory_xact_lock(" ESCALATION_LOCK_KEY ")", 0, NULL, 1);
	if (!res || PQntuples(res) != 1)
		goto fail;
	if (!store_bool(res, 0, 0)) {
		out->skipped = true;
		PQclear(res);
		db_rollback(conn);
		return true;
	}
	PQclear(res);
	res = store_query(conn, "escalation pass",
			  "SELECT e.id, e.event_id, e.risk_rule, e.unit_code, e.unit_name, e.office_code, e.duty_email,"
			  " e.reason, (extract(epoch FROM e.alert_created_at) * 1000000)::bigint"
			  " FROM alertd_escalate($1::int, $2::int) e",
			  2, p, P__COUNT);
	if (!res)
		goto fail;
	out->created = PQntuples(res);
	for (int r = 0; r < out->created; r++) {
		if (!cfg->escalation_email || PQgetisnull(res, r, P_DUTY))
			continue;
		if (!queue_mail(conn, cfg, res, r))
			goto fail;
		out->mails++;
	}
	if (!db_commit(conn))
		goto fail;
	for (int r = 0; r < out->created; r++)
		LOG_FIELDS(LOG_WARN, "risk alert escalated: call the unit", LOG_S("unit", PQgetvalue(res, r, P_UNIT)),
			   LOG_S("office", PQgetvalue(res, r, P_OFFICE)), LOG_S("rule", PQgetvalue(res, r, P_RULE)),
			   LOG_S("reason", PQgetvalue(res, r, P_REASON)), LOG_S("escalation", PQgetvalue(res, r, P_ID)));
	PQclear(res);
	return true;
fail:
	PQclear(res);
	db_rollback(conn);
	return false;
}

bool escalation_figures(PGconn *conn, struct escalation_figures *out)
{
	/* the open ones through escalations_open_idx; the acknowledged ones are few (one per risk alert nobody read) */
	PGresult *res = store_query(conn, "escalation figures",
				    "SELECT (SELECT count(*) FROM escalations WHERE acknowledged_at IS NULL),"
				    " COALESCE((SELECT extract(epoch FROM min(created_at)) FROM escalations"
				    " WHERE acknowledged_at IS NULL), 0),"
				    " count(*), COALESCE(sum(ack_seconds), 0)"
				    " FROM escalations WHERE acknowledged_at IS NOT NULL",
				    0, NULL, 4);
	bool ok = res && PQntuples(res) == 1;

	if (ok) {
		out->open = store_int(res, 0, 0);
		out->oldest_epoch = strtod(PQgetvalue(res, 0, 1), NULL);
		out->acked = store_int(res, 0, 2);
		out->ack_seconds_sum = strtod(PQgetvalue(res, 0, 3), NULL);
	}
	PQclear(res);
	return ok;
}

void escalation_tick(const struct config *cfg, struct metrics *metrics)
{
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	struct escalation_pass pass;
	struct escalation_figures fig;

	if (!conn)
		return; /* logged by db_connect; the next tick tries again */
	if (!escalation_run(conn, cfg, &pass)) {
		char err[256];
		snprintf(err, sizeof(err), "%s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		log_error("escalation pass failed: %s", err);
	} else if (pass.created > 0) {
		LOG_FIELDS(LOG_INFO, "escalation pass", LOG_I("escalations_created", pass.created),
			   LOG_I("duty_mails_queued", pass.mails));
	}
	if (metrics && escalation_figures(conn, &fig))
		metrics_escalations(metrics, fig.open, (long long)fig.oldest_epoch, fig.acked,
				    (long long)(fig.ack_seconds_sum * 1000.0));
	PQfinish(conn);
}

bool escalation_list(PGconn *conn, const char *scope, const char *office, bool acknowledged, const char *before_id,
		     long long limit, PGresult **out)
{
	char lim[STORE_ID_TEXT];
	const char *p[5] = { scope, office, acknowledged ? "t" : "f", before_id, lim };

	snprintf(lim, sizeof(lim), "%lld", limit);
	/* one column per line */
	/* clang-format off */
	*out = store_query(conn, "escalation list",
			   "SELECT e.id, e.event_id, e.risk_rule, e.unit_code, b.name, e.office_code, e.reason,"
			   " " TS("e.alert_created_at") ","
			   " " TS("e.created_at") ","
			   " floor(extract(epoch FROM COALESCE(e.acknowledged_at, now()) - e.created_at))::bigint,"
			   " e.users_alerted, b.contact_phone,"
			   " " TS("e.acknowledged_at") ","
			   " e.acknowledged_by, e.ack_note, round(e.ack_seconds)::bigint"
			   " FROM escalations e JOIN budget_units b ON b.code = e.unit_code"
			   " WHERE e.office_code IN (SELECT alertd_office_subtree($1))"
			   " AND ($2::text IS NULL OR e.office_code IN (SELECT alertd_office_subtree($2)))"
			   " AND (e.acknowledged_at IS NOT NULL) = $3::boolean"
			   " AND ($4::bigint IS NULL OR e.id < $4::bigint)"
			   " ORDER BY e.id DESC LIMIT $5::int",
			   5, p, ESC__COUNT);
	/* clang-format on */
	return *out != NULL;
}

bool escalation_count_open(PGconn *conn, const char *scope, const char *office, long long *n)
{
	const char *p[2] = { scope, office };

	return store_count(conn, "escalation count",
			   "SELECT count(*) FROM escalations WHERE acknowledged_at IS NULL"
			   " AND office_code IN (SELECT alertd_office_subtree($1))"
			   " AND ($2::text IS NULL OR office_code IN (SELECT alertd_office_subtree($2)))",
			   2, p, n);
}

bool escalation_contacts(PGconn *conn, const char *units, PGresult **out)
{
	char max[STORE_ID_TEXT];
	const char *p[2] = { units, max };

	snprintf(max, sizeof(max), "%d", ESCALATION_CONTACTS_MAX);
	*out = store_query(conn, "escalation contacts",
			   "SELECT x.unit_code, x.id, x.full_name, x.roles, x.phone FROM ("
			   " SELECT u.unit_code, u.id, u.full_name, u.phone, r.roles,"
			   " row_number() OVER (PARTITION BY u.unit_code ORDER BY (r.roles::text LIKE '%account_holder%'"
			   " OR r.roles::text LIKE '%chief_accountant%') DESC, u.dvctt_login) AS n"
			   " FROM users u CROSS JOIN LATERAL (SELECT coalesce(json_agg(ur.role::text ORDER BY ur.role)::text,"
			   " '[]') AS roles FROM user_roles ur WHERE ur.user_id = u.id) r"
			   " WHERE u.unit_code = ANY ($1::text[]) AND u.active AND u.pseudonymised_at IS NULL) x"
			   " WHERE x.n <= $2::int ORDER BY x.unit_code, x.n",
			   2, p, ESCU__COUNT);
	return *out != NULL;
}

enum escalation_ack_result escalation_ack(PGconn *conn, const char *scope, const char *id, const char *note,
					  const struct store_actor *actor)
{
	const char *p[2] = { id, scope }, *pu[3] = { id, note, actor->id };
	enum escalation_ack_result r = ESCALATION_ERROR;
	PGresult *res = NULL;
	char *details = NULL;

	if (!db_begin(conn))
		return r;
	res = store_query(conn, "escalation lock row",
			  "SELECT unit_code, office_code, acknowledged_at IS NOT NULL FROM escalations"
			  " WHERE id = $1::bigint AND office_code IN (SELECT alertd_office_subtree($2)) FOR UPDATE",
			  2, p, 3);
	if (!res)
		goto fail;
	if (PQntuples(res) != 1) {
		r = ESCALATION_NOT_FOUND;
		goto fail;
	}
	if (store_bool(res, 0, 2)) {
		r = ESCALATION_ALREADY;
		goto fail;
	}
	PGresult *upd = store_query(conn, "escalation ack",
				    "UPDATE escalations SET acknowledged_at = now(), acknowledged_by = $3, ack_note = $2,"
				    " ack_seconds = GREATEST(extract(epoch FROM now() - created_at), 0)"
				    " WHERE id = $1::bigint RETURNING round(ack_seconds)::bigint",
				    3, pu, 1);
	if (!upd || PQntuples(upd) != 1) {
		PQclear(upd);
		goto fail;
	}
	json_t *d = json_pack("{s:s,s:s,s:I}", "escalation", id, "office", PQgetvalue(res, 0, 1), "ack_seconds",
			      (json_int_t)store_int(upd, 0, 0));
	PQclear(upd);
	details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	struct audit_entry e = { .actor_kind = actor->kind,
				 .actor_id = actor->id,
				 .action = "escalation.ack",
				 .target = PQgetvalue(res, 0, 0),
				 .outcome = "ok",
				 .ip = actor->ip,
				 .request_id = actor->request_id,
				 .details = details };
	if (!details || !audit_write(conn, &e) || !db_commit(conn))
		goto fail;
	free(details);
	PQclear(res);
	return ESCALATION_ACKED;
fail:
	free(details);
	PQclear(res);
	db_rollback(conn);
	return r;
}
