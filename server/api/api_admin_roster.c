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
#include "alerts/fanout.h"
#include "http/http.h"
#include "http/validate.h"
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

enum http_outcome api_admin_roster(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct roster_report report;
	PGconn *conn;
	char err[300] = "";
	bool dry_run;
	json_t *body = NULL;
	enum http_outcome result = HTTP_DONE;

	if (!is_csv(http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		http_resp_problem(resp, req, PROBLEM_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be text/csv (UTF-8)", NULL);
		return HTTP_DONE;
	}
	if (!validate_bool_or_reply(req, resp, "dry_run", http_query(req, "dry_run"), false, &dry_run))
		return HTTP_DONE;
	conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	memset(&report, 0, sizeof(report));
	/* the key's office: a file reaching outside its subtree is refused whole */
	enum roster_result r = roster_import(conn, req->body, req->body_len, dry_run, req->scope_office, "admin_key",
					     req->principal_name, &report, err, sizeof(err));
	body = roster_report_json(&report, dry_run);
	switch (r) {
	case ROSTER_OK: {
		/* units new to the roster: their waiting events are routed now (young ones alerted) */
		long long routed = 0, alerts = 0;
		if (!dry_run &&
		    fanout_reroute(conn, app->cfg, app->collapse_key_set ? app->collapse_key : NULL, &routed, &alerts))
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
	case ROSTER_OUT_OF_SCOPE: {
		json_t *extra = json_pack("{s:O}", "rejected", json_object_get(body, "rejected"));
		http_resp_problem(resp, req, PROBLEM_ROSTER_OUT_OF_SCOPE, err, extra);
		json_decref(extra);
		break;
	}
	case ROSTER_MALFORMED:
		http_resp_problem(resp, req, PROBLEM_BAD_REQUEST, err, NULL);
		break;
	case ROSTER_DB_ERROR:
		req->unavailable_detail = "nothing was imported";
		result = HTTP_FAILED;
		break;
	}
	json_decref(body);
	roster_report_free(&report);
	return result;
}
