/*
 * preferences.h - the preferences store: a user's notification settings,
 * with the defaults for a user who never set any. Ownership as in store.h.
 */
#ifndef ALERTD_STORE_PREFERENCES_H
#define ALERTD_STORE_PREFERENCES_H

#include <libpq-fe.h>
#include <stdbool.h>

/* The columns of a preferences row (defaults filled in). */
enum preferences_col {
	PREFERENCES_COL_LANG,	    /* vi | en */
	PREFERENCES_COL_MIN_AMOUNT, /* whole VND */
	PREFERENCES_COL_QUIET_FROM, /* HH:MM local time; NULL: no quiet hours */
	PREFERENCES_COL_QUIET_TO,   /* HH:MM */
	PREFERENCES_COL_TOGGLES,    /* JSON object text: alert type -> bool, only those set */
	PREFERENCES_COL__COUNT
};

/* A change; NULL members (and quiet_set false) leave the stored value. */
struct preferences_update {
	const char *lang;
	const char *min_amount;		   /* decimal text */
	bool quiet_set;			   /* quiet hours become quiet_from..quiet_to (both NULL: none) */
	const char *quiet_from, *quiet_to; /* HH:MM */
	const char *toggles;		   /* JSON object text merged into the stored toggles */
};

/* The user's preferences. On true *out holds 1 row (preferences_col), 0 when there is no such user. */
bool preferences_get(PGconn *conn, long long user_id, PGresult **out) __attribute__((warn_unused_result));

/* Store u for the user (creating the row on first change), then as preferences_get. */
bool preferences_put(PGconn *conn, long long user_id, const struct preferences_update *u, PGresult **out)
	__attribute__((warn_unused_result));

#endif
