/*
 * reauth.c - the freshness check of a step-up re-authentication (see
 * reauth.h); the re-authentication itself is staff_session_reauth.
 */
#include "staff/reauth.h"
#include "core/app.h"
#include "staff/session.h"

bool staff_reauth_fresh_or_reply(const struct app *app, struct http_req *req, struct http_resp *resp, enum http_outcome *outcome)
{
	bool fresh = false;

	*outcome = HTTP_DONE;
	if (req->staff.staff_id > 0) {
		PGconn *conn = http_db(req);
		if (!conn || !staff_session_reauth_fresh(conn, app->cfg, &req->staff, &fresh)) {
			*outcome = HTTP_FAILED;
			return false;
		}
	}
	if (fresh)
		return true;
	http_resp_problem(resp, req, PROBLEM_REAUTH_REQUIRED,
			  req->staff.staff_id > 0 ? "give your password and a code again (POST /v1/staff/reauth), then retry"
						  : "only a staff session can re-authenticate for this action",
			  NULL);
	return false;
}
