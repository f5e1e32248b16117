/*
 * events.c - the events store (see events.h).
 */
#include "store/events.h"
#include "store/store.h"

#include <stdio.h>

bool events_unrouted(PGconn *conn, const char *scope_office, long long limit, PGresult **out)
{
	char lim[STORE_ID_TEXT];
	const char *params[2] = { lim, scope_office };

	snprintf(lim, sizeof(lim), "%lld", limit);
	/*
	 * Where an event belongs is 0009's rule: a roster unit's office, else the
	 * office the event names if it is in the roster; an event that belongs
	 * nowhere is seen only from a central (level 1) office.
	 */
	*out = store_query(conn, "events_unrouted",
			   "SELECT e.unit_code, count(*),"
			   " to_char(min(e.occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
			   " to_char(max(e.occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
			   " FROM events e LEFT JOIN budget_units b ON b.code = e.unit_code"
			   " LEFT JOIN offices o ON o.code = coalesce(b.office_code, e.office_code)"
			   " WHERE e.routed_at IS NULL AND ($2::text IS NULL OR o.code IN (SELECT alertd_office_subtree($2))"
			   " OR (o.code IS NULL AND EXISTS (SELECT 1 FROM offices c WHERE c.code = $2 AND c.level = 1)))"
			   " GROUP BY e.unit_code ORDER BY count(*) DESC, e.unit_code LIMIT $1::int",
			   2, params, EVENTS_UNROUTED_COL__COUNT);
	return *out != NULL;
}
