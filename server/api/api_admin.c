/*
 * api_admin.c - admin endpoints for activation codes and unrouted events.
 */
#include "api/api_admin.h"
#include "people/activation.h"
#include "core/app.h"
#include "core/config.h"
#include "http/http.h"
#include "http/validate.h"
#include "store/events.h"
#include "store/store.h"

#include <sodium.h>
#include <time.h>

enum http_outcome api_issue_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp,
					    const struct activation_actor *actor, const char *code_member)
{
	PGconn *conn;
	char code[TOKENS_CODE_LEN + 1] = "", expires[64];
	const char *login = router_param(&req->match, "login");
	enum http_outcome result = HTTP_DONE;

	if (!app->code_key_set) {
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "activation is not configured (secrets.key_file)", NULL);
		return HTTP_DONE;
	}
	conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	/* the caller's scope: a user served outside it gets the same 404 as an unknown one */
	switch (activation_issue(conn, app->code_key, login, req->scope_office, app->cfg->app_activation_code_ttl_hours,
				 actor, code, expires)) {
	case ACTIVATION_OK:
		http_resp_json(resp, 201,
			       json_pack("{s:s,s:s,s:s}", "login", login, code_member, code, "expires_at", expires));
		break;
	case ACTIVATION_DENIED:
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, "no active user with this login", NULL);
		break;
	case ACTIVATION_CAPPED: {
		/* until Vietnam midnight (UTC+7, no daylight saving) */
		char retry[24];
		long long now = (long long)time(NULL);
		snprintf(retry, sizeof(retry), "%lld", 86400 - (now + 7 * 3600) % 86400);
		json_t *extra = json_pack("{s:I}", "limit", (json_int_t)actor->daily_cap);
		http_resp_problem(resp, req, PROBLEM_ACTIVATION_QUOTA_EXCEEDED,
				  "this account has issued staff.activation_codes_per_day codes today; another officer, or"
				  " tomorrow",
				  extra);
		json_decref(extra);
		http_resp_header(resp, "Retry-After", retry);
		break;
	}
	case ACTIVATION_DB_ERROR:
		result = HTTP_FAILED;
		break;
	}
	sodium_memzero(code, sizeof(code));
	return result;
}

enum http_outcome api_admin_activation_code(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct activation_actor actor = {
		.kind = "admin_key", .id = req->principal_name, .ip = req->remote, .request_id = req->request_id
	};

	return api_issue_activation_code(app, req, resp, &actor, "activation_code");
}

static const struct validate_int unrouted_limit = { 1, 10000, 100, "must be 1 to 10000" };

enum http_outcome api_admin_unrouted(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	PGconn *conn;
	PGresult *res = NULL;
	long long limit;

	(void)app;
	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &unrouted_limit, &limit))
		return HTTP_DONE;
	conn = http_db(req);
	if (!conn || !events_unrouted(conn, req->scope_office, limit, &res))
		return HTTP_FAILED;
	json_t *items = json_array();
	for (int r = 0; r < PQntuples(res); r++)
		json_array_append_new(items, json_pack("{s:s,s:I,s:s,s:s}", "unit_code",
						       PQgetvalue(res, r, EVENTS_UNROUTED_COL_UNIT_CODE), "events",
						       (json_int_t)store_int(res, r, EVENTS_UNROUTED_COL_EVENTS),
						       "oldest", PQgetvalue(res, r, EVENTS_UNROUTED_COL_OLDEST), "newest",
						       PQgetvalue(res, r, EVENTS_UNROUTED_COL_NEWEST)));
	PQclear(res);
	http_resp_json(resp, 200, json_pack("{s:o}", "items", items));
	return HTTP_DONE;
}
