/*
 * api_ops.h - operational endpoints: liveness, readiness and metrics.
 */
#ifndef ALERTD_API_OPS_H
#define ALERTD_API_OPS_H

#include "http/router.h"

struct app;
struct http_req;
struct http_resp;

/* GET /healthz: 200 while the process runs. */
enum http_outcome api_healthz(const struct app *app, struct http_req *req, struct http_resp *resp);

/* GET /readyz: 200 when the database answers and the schema is current, else 503. */
enum http_outcome api_readyz(const struct app *app, struct http_req *req, struct http_resp *resp);

/* GET /metrics: Prometheus text format. */
enum http_outcome api_metrics(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
