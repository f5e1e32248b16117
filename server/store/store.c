/*
 * store.c - the shared part of the store layer: column-checked queries and
 * column readers (see store.h).
 */
#include "store/store.h"
#include "core/log.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *store_id(char buf[STORE_ID_TEXT], long long id)
{
	if (id <= 0)
		return NULL;
	snprintf(buf, STORE_ID_TEXT, "%lld", id);
	return buf;
}

bool store_columns_ok(const PGresult *res, const char *what, int ncols)
{
	if (PQnfields(res) == ncols)
		return true;
	LOG_FIELDS(LOG_ERROR, "store: result columns do not match the column enum", LOG_S("query", what),
		   LOG_I("columns", PQnfields(res)), LOG_I("expected", ncols));
	return false;
}

PGresult *store_query(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params, int ncols)
{
	PGresult *res = db_exec(conn, sql, nparams, params);

	if (res && !store_columns_ok(res, what, ncols)) {
		PQclear(res);
		return NULL;
	}
	return res;
}

bool store_count(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params, long long *n)
{
	PGresult *res = store_query(conn, what, sql, nparams, params, 1);
	bool ok = res && PQntuples(res) == 1;

	if (ok)
		*n = store_int(res, 0, 0);
	PQclear(res);
	return ok;
}

const char *store_opt(const PGresult *res, int r, int col)
{
	return PQgetisnull(res, r, col) ? NULL : PQgetvalue(res, r, col);
}

long long store_int(const PGresult *res, int r, int col)
{
	return strtoll(PQgetvalue(res, r, col), NULL, 10);
}

bool store_bool(const PGresult *res, int r, int col)
{
	return strcmp(PQgetvalue(res, r, col), "t") == 0;
}
