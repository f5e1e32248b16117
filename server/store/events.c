/*
 * events.c - the events store (see events.h).
 */
#include "store/events.h"
#include "store/store.h"

#include <stdio.h>

bool events_unrouted(PGconn *conn, long long limit, PGresult **out)
{
	char lim[STORE_ID_TEXT];
	const char *params[1] = { lim };

	snprintf(lim, sizeof(lim), "%lld", limit);
	*out = store_query(
		conn, "events_unrouted",
		"SELECT unit_code, count(*),"
		" to_char(min(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		" to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		" FROM events WHERE routed_at IS NULL GROUP BY unit_code ORDER BY count(*) DESC, unit_code LIMIT $1::int",
		1, params, EVENTS_UNROUTED_COL__COUNT);
	return *out != NULL;
}
