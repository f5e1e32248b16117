/*
 * alerts.c - the alerts store (see alerts.h).
 */
#include "store/alerts.h"
#include "store/store.h"

#include <stdio.h>

/* An alert row in alerts_col order. */
#define ALERT_COLUMNS                                                                                      \
	"a.id, a.kind, a.severity, a.risk_rule, a.lang, a.title, a.body, a.details::text,"                 \
	" to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"                  \
	" to_char(a.read_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), a.event_id,"         \
	" to_char(a.event_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), a.unit_code," \
	" alertd_delivery_state(a.id, a.delivery_state)"

/* The user $N's alerts: of their current unit, or without an event (about their own account); see alerts.h. */
#define MINE(n)                                                                                        \
	"a.user_id = $" n " AND (a.event_id IS NULL OR a.unit_code = (SELECT u.unit_code FROM users u" \
	" WHERE u.id = $" n "))"

bool alerts_list(PGconn *conn, long long user_id, long long before, long long limit, PGresult **out)
{
	char uid[STORE_ID_TEXT], bef[STORE_ID_TEXT], lim[STORE_ID_TEXT];
	const char *params[3] = { store_id(uid, user_id), store_id(bef, before), lim };

	snprintf(lim, sizeof(lim), "%lld", limit);
	*out = store_query(conn, "alerts_list",
			   "SELECT " ALERT_COLUMNS " FROM alerts a WHERE " MINE("1") " AND ($2::bigint IS NULL OR a.id < $2)"
										     " ORDER BY a.id DESC LIMIT $3",
			   3, params, ALERTS_COL__COUNT);
	return *out != NULL;
}

bool alerts_get(PGconn *conn, long long user_id, long long alert_id, bool mark_read, PGresult **out)
{
	char uid[STORE_ID_TEXT], aid[STORE_ID_TEXT];
	const char *params[2] = { store_id(aid, alert_id), store_id(uid, user_id) };

	/* the read receipt is idempotent: the first read time stays */
	*out = store_query(conn, mark_read ? "alerts_get read" : "alerts_get",
			   mark_read ? "UPDATE alerts a SET read_at = COALESCE(a.read_at, now())"
				       " WHERE a.id = $1 AND " MINE("2") " RETURNING " ALERT_COLUMNS
				     : "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.id = $1 AND " MINE("2"),
			   2, params, ALERTS_COL__COUNT);
	return *out != NULL;
}
