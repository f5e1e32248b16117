/*
 * events.h - the events store as the admin API reads it: units whose
 * stored events could not be routed. Ownership as in store.h.
 */
#ifndef ALERTD_STORE_EVENTS_H
#define ALERTD_STORE_EVENTS_H

#include <libpq-fe.h>
#include <stdbool.h>

/* The columns events_unrouted returns. */
enum events_unrouted_col {
	EVENTS_UNROUTED_COL_UNIT_CODE,
	EVENTS_UNROUTED_COL_EVENTS,
	EVENTS_UNROUTED_COL_OLDEST, /* RFC 3339 UTC, seconds */
	EVENTS_UNROUTED_COL_NEWEST,
	EVENTS_UNROUTED_COL__COUNT
};

/*
 * At most limit units with unrouted events, most events first; with
 * scope_office (not NULL) only the events that belong to its subtree (the
 * rule of migration 0009). On true *out holds the rows.
 */
bool events_unrouted(PGconn *conn, const char *scope_office, long long limit, PGresult **out)
	__attribute__((warn_unused_result));

#endif
