/*
 * api_admin_roster.c - POST /v1/admin/roster: the treasury's roster export
 * as text/csv, imported in one transaction (see docs/roster.md).
 *
 * 200 with the report when imported (or with ?dry_run=true, checked and
 * rolled back); 422 when rows are rejected (nothing written, every bad row
 * listed with its line); 400 when the file is not the documented CSV.
 */
#define _GNU_SOURCE /* strcasestr */
#include "api/api_admin.h"
#include "core/app.h"
#include "core/config.h"
#include "db/db.h"
#include "alerts/fanout.h"
#include "http/http.h"
#include "people/roster.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>


static bool is_csv(const char *ct)
{
	static const char want[] = "text/csv";

	if (!ct || strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return false;
	ct += sizeof(want) - 1;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || (*ct == ';' && (strcasestr(ct, "charset=utf-8") || !strcasestr(ct, "charset")));
}

void api_admin_roster(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct roster_report report;
	PGconn *conn = NULL;
	char err[300] = "";
	const char *dry = http_query(req, "dry_run");
	bool dry_run = dry && (strcmp(dry, "true") == 0 || strcmp(dry, "1") == 0);
	json_t *body = NULL;

	memset(&report, 0, sizeof(report));
	http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, NULL, NULL);
	if (!is_csv(http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		http_resp_problem(resp, req, PROBLEM_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be text/csv (UTF-8)", NULL);
		goto out;
	}
	if (dry && !dry_run && strcmp(dry, "false") != 0 && strcmp(dry, "0") != 0) {
		json_t *extra = json_pack("{s:[{s:s,s:s}]}", "errors", "field", "dry_run", "message", "must be true or false");
		http_resp_problem(resp, req, PROBLEM_VALIDATION_FAILED, NULL, extra);
		json_decref(extra);
		goto out;
	}
	conn = db_acquire(app->db, DB_POOL_WAIT_MS);
	if (!conn) {
		http_resp_unavailable(resp, req, NULL);
		goto out;
	}
	enum roster_result r = roster_import(conn, req->body, req->body_len, dry_run, "admin_key", req->principal_name,
					     &report, err, sizeof(err));
	body = roster_report_json(&report, dry_run);
	switch (r) {
	case ROSTER_OK: {
		/* units new to the roster: their waiting events are routed now (young ones alerted) */
		long long routed = 0, alerts = 0;
		if (!dry_run && fanout_reroute(conn, app->cfg, &routed, &alerts))
			json_object_set_new(body, "events_routed", json_integer(routed));
		http_resp_json(resp, 200, body);
		body = NULL;
		break;
	}
	case ROSTER_REJECTED: {
		json_t *extra = json_pack("{s:O,s:O}", "rejected", json_object_get(body, "rejected"), "report", body);
		http_resp_problem(resp, req, PROBLEM_VALIDATION_FAILED, "rows were rejected; nothing was imported", extra);
		json_decref(extra);
		break;
	}
	case ROSTER_MALFORMED:
		http_resp_problem(resp, req, PROBLEM_BAD_REQUEST, err, NULL);
		break;
	case ROSTER_DB_ERROR:
		if (db_broken(conn)) {
			http_resp_unavailable(resp, req, "nothing was imported");
		}
		break;
	}
out:
	json_decref(body);
	roster_report_free(&report);
	db_release(app->db, conn);
}
