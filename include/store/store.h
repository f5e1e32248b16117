/*
 * store.h - what the store modules (store/devices.h, alerts.h,
 * preferences.h, users.h, events.h) share: running a statement whose rows
 * are read through a column enum, and reading those columns.
 *
 * Every store function runs its SQL on a connection the caller holds and
 * returns a checked bool: false means the statement failed (logged by
 * db_exec) or a result had the wrong shape (logged here as a programming
 * error); whether the connection broke is for the caller to ask
 * (db_broken), which the HTTP layer does for every failed request. Results
 * handed out are the caller's to PQclear().
 */
#ifndef ALERTD_STORE_H
#define ALERTD_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>

/* Who an audit row names (db/audit.h's actor fields). */
struct store_actor {
	const char *kind;	/* admin_key | staff | app | system | cli | ingest */
	const char *id;		/* may be NULL */
	const char *ip;		/* may be NULL */
	const char *request_id; /* may be NULL */
};

/* Room for a bigint as text, sign and NUL included. */
#define STORE_ID_TEXT 24

/* id as decimal text in buf, for a statement parameter; NULL (SQL NULL) when id <= 0. */
const char *store_id(char buf[STORE_ID_TEXT], long long id);

/*
 * db_exec() for a statement whose rows are read by a column enum of ncols
 * columns (what names it in the log). Returns NULL, logged, when the
 * statement failed or its result does not have exactly ncols columns: a
 * column enum that drifted from its SELECT list is a programming error,
 * never read out of range. The caller PQclear()s a non-NULL result.
 */
PGresult *store_query(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params, int ncols);

/* A statement whose result is one row of one integer, such as a count(*): *n is that integer. */
bool store_count(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params, long long *n)
	__attribute__((warn_unused_result));

/*
 * True when res has exactly ncols columns; otherwise logs the mismatch as a
 * programming error naming what. store_query() applies it to every result.
 */
bool store_columns_ok(const PGresult *res, const char *what, int ncols);

/* Column col of row r: its text, or NULL when it is SQL NULL. */
const char *store_opt(const PGresult *res, int r, int col);

/* Column col of row r as an integer; 0 when NULL or not a number. */
long long store_int(const PGresult *res, int r, int col);

/* Column col of row r is the boolean true. */
bool store_bool(const PGresult *res, int r, int col);

#endif
