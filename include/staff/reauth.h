/*
 * reauth.h - the check a sensitive staff action makes first (an export, a
 * role change, later the approval of a notice): the session gave its
 * password and a second factor again (POST /v1/staff/reauth) within
 * auth.reauth_seconds. See docs/staff.md "Step-up re-authentication".
 *
 *	enum http_outcome out;
 *	if (!staff_reauth_fresh_or_reply(app, req, resp, &out))
 *		return out;
 *
 * One of the two "...or reply" helpers of staff/ that answer a request
 * themselves (with staff/lookups.h), the way http/validate.h's do.
 */
#ifndef ALERTD_STAFF_REAUTH_H
#define ALERTD_STAFF_REAUTH_H

#include "http/http.h"

#include <stdbool.h>

/*
 * True when req's staff session re-authenticated within
 * auth.reauth_seconds. Otherwise false with *outcome to return: HTTP_DONE
 * after answering 403 reauth_required (also to a caller without a staff
 * session, such as an admin key: only a person can re-authenticate), or
 * HTTP_FAILED on a database error (the route must declare ROUTE_DB).
 */
bool staff_reauth_fresh_or_reply(const struct app *app, struct http_req *req, struct http_resp *resp,
				 enum http_outcome *outcome) __attribute__((warn_unused_result));

#endif
