/*
 * api_ingest.h - POST /v1/ingest/{source}/events and .../events/batch.
 */
#ifndef ALERTD_API_INGEST_H
#define ALERTD_API_INGEST_H

#include "http/router.h"

struct app;
struct http_req;
struct http_resp;

#define API_INGEST_MAX_BATCH 1000

/* One event: 202 accepted, 200 duplicate, 409 conflict, 4xx, 503 while the database is down. */
enum http_outcome api_ingest_event(const struct app *app, struct http_req *req, struct http_resp *resp);

/* {"events":[...]} of 1-1000 events, each with its own result; valid ones commit together. */
enum http_outcome api_ingest_batch(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
