/*
 * staffview.c - the staff data routes' reads (see staffview.h).
 */
#include "store/staffview.h"
#include "store/store.h"

#include <stdio.h>

#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* A Vietnam day's first instant, from a date parameter */
#define VN_DAY(p) "((" p ")::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
#define USERS_OF_UNIT "users u WHERE u.unit_code = $1 AND u.pseudonymised_at IS NULL"

bool staffview_unit(PGconn *conn, const char *scope, const char *code, PGresult **out)
{
	const char *p[2] = { code, scope };

	*out = store_query(conn, "staff unit",
			   "SELECT b.code, b.name, b.office_code, o.name, b.contact_email, b.contact_phone, b.active,"
			   " coalesce(c.shared_phone, false), coalesce(c.volume_30d, 0)::text,"
			   " to_char(c.computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
			   " FROM budget_units b JOIN offices o ON o.code = b.office_code"
			   " LEFT JOIN coverage_units c ON c.unit_code = b.code"
			   " WHERE b.code = $1 AND alertd_office_in_scope($2, b.office_code)",
			   2, p, SV_UNIT__COUNT);
	return *out != NULL;
}

bool staffview_unit_users(PGconn *conn, const char *code, PGresult **out)
{
	char max[STORE_ID_TEXT];
	const char *p[2] = { code, max };

	snprintf(max, sizeof(max), "%d", STAFFVIEW_UNIT_USERS_MAX);
	*out = store_query(conn, "staff unit users",
			   "SELECT u.id, u.dvctt_login, u.full_name, u.email, u.phone, u.active,"
			   " coalesce((SELECT json_agg(r.role::text ORDER BY r.role)::text FROM user_roles r"
			   " WHERE r.user_id = u.id), '[]'),"
			   " coalesce((SELECT CASE WHEN a.used_at IS NOT NULL THEN 'used'"
			   " WHEN a.voided_at IS NULL AND a.expires_at > now() THEN 'pending' ELSE 'none' END"
			   " FROM activation_codes a WHERE a.user_id = u.id ORDER BY a.id DESC LIMIT 1), 'none')"
			   " FROM " USERS_OF_UNIT " ORDER BY u.active DESC, u.dvctt_login LIMIT $2::int",
			   2, p, SV_USER__COUNT);
	return *out != NULL;
}

bool staffview_unit_devices(PGconn *conn, const char *code, long long active_days, PGresult **out)
{
	char days[STORE_ID_TEXT];
	const char *p[2] = { code, days };

	snprintf(days, sizeof(days), "%lld", active_days);
	*out = store_query(conn, "staff unit devices",
			   "SELECT d.id, d.user_id, d.platform::text, d.state::text, d.state_reason, d.model, d.app_version,"
			   " " TS("d.first_seen_at") ", " TS(
				   "d.last_seen_at") ","
						     " d.state = 'active' AND d.push_token IS NOT NULL"
						     " AND d.last_seen_at > now() - make_interval(days => $2::int)"
						     " FROM devices d WHERE d.user_id IN (SELECT u.id FROM " USERS_OF_UNIT ")"
						     " ORDER BY d.user_id, d.id",
			   2, p, SV_DEV__COUNT);
	return *out != NULL;
}

bool staffview_unit_alerts(PGconn *conn, const char *scope, const char *code, PGresult **out)
{
	char max[STORE_ID_TEXT];
	const char *p[3] = { code, scope, max };

	snprintf(max, sizeof(max), "%d", STAFFVIEW_UNIT_ALERTS);
	/* by user: alerts_inbox_idx (user_id, id DESC) */
	*out = store_query(
		conn, "staff unit alerts",
		"SELECT a.id, a.kind, a.severity::text, a.risk_rule, a.title, " TS(
			"a.created_at") ", u.dvctt_login"
					" FROM alerts a JOIN users u ON u.id = a.user_id"
					" WHERE a.user_id IN (SELECT u.id FROM " USERS_OF_UNIT ") AND a.unit_code = $1"
					" AND alertd_office_in_scope($2, a.office_code) ORDER BY a.id DESC LIMIT $3::int",
		3, p, SV_ALERT__COUNT);
	return *out != NULL;
}

bool staffview_deliveries(PGconn *conn, const char *ids, PGresult **out)
{
	const char *p[1] = { ids };

	*out = store_query(
		conn, "staff unit deliveries",
		"SELECT o.alert_id, o.device_id, o.state::text, o.last_error, o.attempts, " TS(
			"o.sent_at") " FROM push_outbox o WHERE o.alert_id = ANY($1::bigint[]) ORDER BY o.alert_id, o.device_id",
		1, p, SV_DEL__COUNT);
	return *out != NULL;
}

bool staffview_office_in_scope(PGconn *conn, const char *scope, const char *office, bool *in_scope)
{
	const char *p[2] = { scope, office };
	long long n = 0;

	*in_scope = false;
	if (!store_count(conn, "staff office scope", "SELECT alertd_office_in_scope($1, $2)::int", 2, p, &n))
		return false;
	*in_scope = n == 1;
	return true;
}

bool staffview_risk_alerts(PGconn *conn, const char *scope, const struct staffview_risk_filter *f, PGresult **out)
{
	char lim[STORE_ID_TEXT];
	const char *p[8] = { scope, f->rule, f->office, f->from, f->to, f->after_event, f->after_rule, lim };

	snprintf(lim, sizeof(lim), "%lld", f->limit);
	/* the newest events first along alerts_risk_event_idx (event_id DESC, risk_rule) */
	*out = store_query(
		conn, "staff risk alerts",
		"SELECT a.event_id, a.risk_rule, a.unit_code, b.name, a.office_code, " TS(
			"a.event_occurred_at") ","
					       " " TS("min(a.created_at)") ", count(DISTINCT a.user_id),"
									   " count(DISTINCT a.user_id) FILTER (WHERE EXISTS (SELECT 1 FROM push_outbox o"
									   " WHERE o.alert_id = a.id AND o.state = 'sent'))"
									   " FROM alerts a JOIN budget_units b ON b.code = a.unit_code"
									   " WHERE a.severity = 'risk' AND a.event_id IS NOT NULL AND alertd_office_in_scope($1, a.office_code)"
									   " AND ($2::text IS NULL OR a.risk_rule = $2)"
									   " AND ($3::text IS NULL OR alertd_office_in_scope($3, a.office_code))"
									   " AND ($4::text IS NULL OR a.created_at >= " VN_DAY(
										   "$4") ")"
											 " AND ($5::text IS NULL OR a.created_at < " VN_DAY(
												 "$5::date + 1") ")"
														 " AND ($6::bigint IS NULL OR a.event_id < $6::bigint OR (a.event_id = $6::bigint AND a.risk_rule > $7))"
														 " GROUP BY a.event_id, a.risk_rule, a.unit_code, b.name, a.office_code, a.event_occurred_at"
														 " ORDER BY a.event_id DESC, a.risk_rule LIMIT $8::int",
		8, p, SV_RISK__COUNT);
	return *out != NULL;
}

bool staffview_audit(PGconn *conn, const char *scope, const struct staffview_audit_filter *f, PGresult **out)
{
	char lim[STORE_ID_TEXT];
	const char *p[7] = { scope, f->actor, f->action, f->from, f->to, f->before_id, lim };

	snprintf(lim, sizeof(lim), "%lld", f->limit);
	*out = store_query(
		conn, "staff audit",
		"SELECT l.id, " TS(
			"l.at") ", l.actor_kind, l.actor_id, l.action, l.target, l.outcome, l.ip, l.details::text"
				" FROM audit_log l"
				" WHERE (coalesce((SELECT o.parent_code IS NULL FROM offices o WHERE o.code = $1), false)"
				" OR (l.actor_kind = 'staff' AND l.actor_id IN (SELECT s.username FROM staff s"
				" WHERE s.office_code IN (SELECT alertd_office_subtree($1)))))"
				" AND ($2::text IS NULL OR l.actor_id = $2)"
				" AND ($3::text IS NULL OR l.action = $3 OR (right($3, 1) = '.' AND left(l.action, length($3)) = $3))"
				" AND ($4::text IS NULL OR l.at >= " VN_DAY(
					"$4") ")"
					      " AND ($5::text IS NULL OR l.at < " VN_DAY(
						      "$5::date + 1") ")"
								      " AND ($6::bigint IS NULL OR l.id < $6::bigint)"
								      " ORDER BY l.id DESC LIMIT $7::int",
		7, p, SV_AUDIT__COUNT);
	return *out != NULL;
}
