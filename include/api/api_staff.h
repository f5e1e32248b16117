/*
 * api_staff.h - the staff sign-in routes (/v1/staff/...): session, me,
 * password change, TOTP enrolment. See docs/staff.md and docs/openapi.yaml.
 */
#ifndef ALERTD_API_STAFF_H
#define ALERTD_API_STAFF_H

#include "http/http.h"

enum http_outcome api_staff_signin(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_signout(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_me(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_password(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_totp_enrol(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_totp_confirm(const struct app *app, struct http_req *req, struct http_resp *resp);

/* POST /v1/staff/reauth (api_staff.c) and the staff data routes (api_staff_data.c) */
enum http_outcome api_staff_reauth(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_unit(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_risk_alerts(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_audit(const struct app *app, struct http_req *req, struct http_resp *resp);
/* GET /v1/staff/units/{code}/users.csv and .xlsx: re-authentication required, metered by rows */
enum http_outcome api_staff_unit_users_csv(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_unit_users_xlsx(const struct app *app, struct http_req *req, struct http_resp *resp);

struct staff_export;
/*
 * Answer 200 with t written as XLSX or CSV (staff/export.h), as the
 * attachment filename.xlsx or .csv. The caller has checked the
 * re-authentication and counted the rows (staff/reauth.h, staff/lookups.h).
 * HTTP_FAILED (500, logged) when the writer fails.
 */
enum http_outcome api_staff_export_send(struct http_req *req, struct http_resp *resp, bool xlsx,
					const struct staff_export *t, const char *filename);

#endif
