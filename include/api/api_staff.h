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

#endif
