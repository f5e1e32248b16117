/*
 * api_staff_notices.h - the staff routes of security notices
 * (docs/staff.md "Security notices"): templates, reach preview, create,
 * list, read, approve (approver, another account, fresh re-authentication),
 * withdraw (the author), and the delivery report with its CSV and XLSX
 * exports. Everything is scoped to the caller's office subtree.
 */
#ifndef ALERTD_API_STAFF_NOTICES_H
#define ALERTD_API_STAFF_NOTICES_H

#include "http/http.h"

enum http_outcome api_staff_notice_templates(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_preview(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_create(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_list(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_get(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_approve(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_withdraw(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_report(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_report_csv(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_notice_report_xlsx(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
