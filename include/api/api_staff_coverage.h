/*
 * api_staff_coverage.h - the staff coverage routes: GET /v1/staff/coverage,
 * /v1/staff/coverage/units (also .csv and .xlsx) and /v1/staff/coverage/trend (docs/coverage.md,
 * docs/openapi.yaml). Thin: parameters checked here (422), the queries in
 * staff/coverage.h, every one bounded by req->scope_office (404 outside).
 */
#ifndef ALERTD_API_STAFF_COVERAGE_H
#define ALERTD_API_STAFF_COVERAGE_H

#include "http/http.h"

enum http_outcome api_staff_coverage(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_coverage_units(const struct app *app, struct http_req *req, struct http_resp *resp);
/* the units list as CSV (UTF-8 with BOM) or XLSX: re-authentication first, its contacts metered */
enum http_outcome api_staff_coverage_units_csv(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_coverage_units_xlsx(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_staff_coverage_trend(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
