/*
 * api_ops.c - /healthz, /readyz and /metrics.
 *
 * /readyz takes its own connections rather than the request's (its route
 * declares no ROUTE_DB): it retries once on a fresh one, and its 503 is the
 * readiness answer itself, with its own detail.
 */
#include "api/api_ops.h"
#include "core/app.h"
#include "db/db.h"
#include "http/http.h"
#include "core/metrics.h"
#include "db/migrate.h"

#include <stdlib.h>

#define READYZ_POOL_WAIT_MS 1000
#define RETRY_AFTER_SECONDS "5"

enum http_outcome api_healthz(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	(void)app;
	(void)req;
	http_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
	return HTTP_DONE;
}

enum http_outcome api_readyz(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	char detail[300];
	enum migrate_state st = MIGRATE_ERROR;
	PGconn *conn = NULL;

	/* A pooled connection may have died with a restarted server: one fresh retry. */
	for (int attempt = 0; attempt < 2; attempt++) {
		conn = db_acquire(app->db, READYZ_POOL_WAIT_MS);
		if (!conn)
			break;
		st = migrate_status(conn, detail, sizeof(detail));
		if (st != MIGRATE_ERROR || !db_broken(conn))
			break;
		db_release(app->db, conn);
		conn = NULL;
	}
	if (!conn || st == MIGRATE_ERROR) {
		http_resp_unavailable(resp, req, "the database does not answer");
		goto out;
	}
	if (st != MIGRATE_CURRENT) {
		json_t *extra = json_pack("{s:s}", "schema", migrate_state_name(st));
		http_resp_problem(resp, req, PROBLEM_NOT_READY, detail, extra);
		json_decref(extra);
		http_resp_header(resp, "Retry-After", RETRY_AFTER_SECONDS);
		goto out;
	}
	http_resp_json(resp, 200, json_pack("{s:s,s:s,s:s}", "status", "ready", "database", "ok", "schema", "current"));
out:
	db_release(app->db, conn);
	return HTTP_DONE;
}

enum http_outcome api_metrics(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	size_t len = 0;
	char *text = metrics_render(app->metrics, app->routes, app->nroutes, app->db, &len);

	(void)req;
	if (!text)
		return HTTP_FAILED;
	http_resp_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	return HTTP_DONE;
}
