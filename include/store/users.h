/*
 * users.h - the users store: a user and their budget unit as the app shows
 * them. Ownership as in store.h.
 */
#ifndef ALERTD_STORE_USERS_H
#define ALERTD_STORE_USERS_H

#include <libpq-fe.h>
#include <stdbool.h>

/* The columns users_profile returns. */
enum users_col {
	USERS_COL_LOGIN,
	USERS_COL_FULL_NAME,
	USERS_COL_EMAIL, /* may be NULL */
	USERS_COL_PHONE, /* may be NULL */
	USERS_COL_ROLES, /* JSON array text, roles sorted */
	USERS_COL_UNIT_CODE,
	USERS_COL_UNIT_NAME,
	USERS_COL_OFFICE_CODE,
	USERS_COL_OFFICE_NAME,
	USERS_COL__COUNT
};

/* The user with its unit and office. On true *out holds 0 rows (no such user) or 1 (users_col). */
bool users_profile(PGconn *conn, long long user_id, PGresult **out) __attribute__((warn_unused_result));

#endif
