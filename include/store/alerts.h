/*
 * alerts.h - the alerts store, as the app reads a user's inbox: pages
 * newest first, one alert, its read receipt. Every statement is scoped by
 * the user, so another user's alert is simply not there. Ownership as in
 * store.h.
 *
 * "The user's alerts" are those of their current unit, plus those made
 * without an event (the security alerts about their own account): a user
 * moved to another unit by the roster no longer reads the old unit's money
 * movements, one by one or in the inbox, nor marks them read. The rows stay
 * (the unit's history and its other people keep them); moving back shows
 * them again.
 */
#ifndef ALERTD_STORE_ALERTS_H
#define ALERTD_STORE_ALERTS_H

#include <libpq-fe.h>
#include <stdbool.h>

/* The columns of an alert row. */
enum alerts_col {
	ALERTS_COL_ID,
	ALERTS_COL_KIND,
	ALERTS_COL_SEVERITY,
	ALERTS_COL_RISK_RULE, /* may be NULL */
	ALERTS_COL_LANG,
	ALERTS_COL_TITLE,
	ALERTS_COL_BODY,
	ALERTS_COL_DETAILS,	      /* JSON object text */
	ALERTS_COL_CREATED_AT,	      /* RFC 3339 UTC, milliseconds */
	ALERTS_COL_READ_AT,	      /* RFC 3339 UTC, milliseconds; NULL while unread */
	ALERTS_COL_EVENT_ID,	      /* NULL for alerts without an event (security alerts) */
	ALERTS_COL_EVENT_OCCURRED_AT, /* RFC 3339 UTC, seconds */
	ALERTS_COL_UNIT_CODE,
	ALERTS_COL_DELIVERY_STATE,
	ALERTS_COL__COUNT
};

/*
 * At most limit of the user's alerts (as above), newest first, older than alert id
 * before (0: from the newest). On true *out holds the rows (alerts_col).
 */
bool alerts_list(PGconn *conn, long long user_id, long long before, long long limit, PGresult **out)
	__attribute__((warn_unused_result));

/*
 * The user's alert alert_id; with mark_read also marked read (the first
 * read time stays). On true *out holds 0 rows (not the user's, or of a
 * unit they have left) or 1.
 */
bool alerts_get(PGconn *conn, long long user_id, long long alert_id, bool mark_read, PGresult **out)
	__attribute__((warn_unused_result));

#endif
