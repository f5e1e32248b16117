/*
 * api_admin.c - admin endpoints for activation codes and unrouted events.
 */
#include "api/api_admin.h"
#include "people/activation.h"
#include "core/app.h"
#include "core/config.h"
#include "db/db.h"
#include "http/http.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



void api_admin_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	char code[TOKENS_CODE_LEN + 1] = "", expires[64];
	const char *login = router_param(&req->match, "login");

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	if (!app->code_key_set) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "activation is not configured (secrets.key_file)", NULL);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	struct activation_actor actor = { .kind = "admin_key", .id = req->principal_name, .ip = req->remote,
					  .request_id = req->request_id };
	switch (activation_issue(conn, app->code_key, login, app->cfg->app_activation_code_ttl_hours, &actor, code, expires)) {
	case ACTIVATION_OK:
		http_resp_json(resp, 201, json_pack("{s:s,s:s,s:s}", "login", login, "activation_code", code, "expires_at", expires));
		break;
	case ACTIVATION_DENIED:
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, "no active user with this login", NULL);
		break;
	case ACTIVATION_DB_ERROR:
		if (db_broken(conn))
			http_resp_unavailable(resp, req, NULL);
		break;
	}
out:
	sodium_memzero(code, sizeof(code));
	db_release(app->db, conn);
}

void api_admin_unrouted(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	const char *limit = http_query(req, "limit");
	char *end = NULL;
	long n = limit ? strtol(limit, &end, 10) : 100;

	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	if ((limit && (*end || end == limit)) || n < 1 || n > 10000) {
		json_t *extra = json_pack("{s:[{s:s,s:s}]}", "errors", "field", "limit", "message", "must be 1 to 10000");
		http_resp_problem(resp, req, PROBLEM_VALIDATION_FAILED, NULL, extra);
		json_decref(extra);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	char lim[24];
	snprintf(lim, sizeof(lim), "%ld", n);
	const char *params[1] = { lim };
	res = db_exec(conn,
		      "SELECT unit_code, count(*),"
		      " to_char(min(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		      " to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		      " FROM events WHERE routed_at IS NULL GROUP BY unit_code ORDER BY count(*) DESC, unit_code LIMIT $1::int",
		      1, params);
	if (!res)
		goto out;
	json_t *items = json_array();
	for (int r = 0; r < PQntuples(res); r++)
		json_array_append_new(items, json_pack("{s:s,s:I,s:s,s:s}", "unit_code", PQgetvalue(res, r, 0), "events",
						       (json_int_t)strtoll(PQgetvalue(res, r, 1), NULL, 10), "oldest",
						       PQgetvalue(res, r, 2), "newest", PQgetvalue(res, r, 3)));
	http_resp_json(resp, 200, json_pack("{s:o}", "items", items));
out:
	PQclear(res);
	db_release(app->db, conn);
}
