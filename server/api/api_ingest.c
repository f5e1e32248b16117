/*
 * api_ingest.c - ledger event intake.
 *
 * Authentication (the source's Standard Webhooks signature) has already run
 * in auth.c and set req->principal_id to the source id. Here: rate limit,
 * parse, validate, then hand the valid events to the group-commit writer
 * and suspend the request; it is answered from the resume callback once
 * the writer's transaction has committed (or failed), never before.
 */
#include "api/api_ingest.h"
#include "core/clock.h"
#include "core/app.h"
#include "core/config.h"
#include "ingest/event.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "core/metrics.h"
#include "http/ratelimit.h"
#include "http/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define OUT_OF_SCOPE_DETAIL "this source may not send events for this unit; nothing was stored"
/* the connection broke while COMMIT was in flight: a retry is answered duplicate if it did commit */
#define UNKNOWN_DETAIL "the outcome is unknown; retry with the same id"

struct pending {
	struct ingest_job job;
	struct http_req *req;
	json_t *held;	   /* the parsed request, read by the writer's fan-out until done() */
	size_t nresults;   /* batch: every submitted event, valid or not */
	json_t *results;   /* batch: results array, rejected items already filled */
	size_t *positions; /* batch: job item k -> position in results */
	struct ingest_item items[];
};

/*
 * The oldest event still inside retention, as an age: retention drops whole
 * Vietnam-time months (maintenance.c), keeping the month that holds "today
 * minus retention_months". An older event would lose its idempotency key
 * at the next upkeep, and a re-delivery could then alert people twice.
 */
static int64_t max_age_us(const struct app *app)
{
	long long months = app->cfg->events_retention_months;
	time_t now = time(NULL), local = now + CLOCK_VN_OFFSET_SECONDS;
	struct tm tm, cut;

	if (months <= 0)
		return 0;
	gmtime_r(&local, &tm);
	long long index = (long long)tm.tm_year * 12 + tm.tm_mon - months;
	memset(&cut, 0, sizeof(cut));
	cut.tm_year = (int)(index / 12);
	cut.tm_mon = (int)(index % 12);
	cut.tm_mday = 1;
	time_t cutoff = timegm(&cut) - CLOCK_VN_OFFSET_SECONDS; /* midnight on the 1st, Vietnam time */
	return ((int64_t)now - (int64_t)cutoff) * 1000000;
}

/*
 * The element alertd_ingest_batch() takes for one event; the request id and
 * the client address go into the audit row if the event is out of scope.
 * NULL on allocation failure.
 */
static char *build_row(const struct http_req *req, const struct event_input *in, json_t *ev, size_t *len)
{
	char hex[65];
	char *text;
	json_t *row;

	sodium_bin2hex(hex, sizeof(hex), in->sha256, sizeof(in->sha256));
	row = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:O,s:s,s:s,s:s?}", "s", (json_int_t)req->principal_id, "x", in->id,
			"t", in->type_name, "o", in->occurred_at, "u", in->unit_code, "f",
			in->office_code[0] ? in->office_code : NULL, "p", ev, "h", hex, "q", req->request_id, "a",
			req->remote[0] ? req->remote : NULL);
	if (!row)
		return NULL;
	text = json_dumps(row, JSON_COMPACT);
	json_decref(row);
	if (text)
		*len = strlen(text);
	return text;
}

static void free_pending(struct pending *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->job.nitems; i++)
		free(p->items[i].row);
	json_decref(p->results);
	json_decref(p->held);
	free(p->positions);
	free(p);
}

static struct pending *new_pending(struct http_req *req, size_t nitems)
{
	struct pending *p = calloc(1, sizeof(*p) + nitems * sizeof(struct ingest_item));

	if (!p)
		return NULL;
	p->req = req;
	p->job.items = p->items;
	p->job.arg = p;
	return p;
}

/* Writer thread: the job is final; wake the request. */
static void job_done(struct ingest_job *job)
{
	struct pending *p = job->arg;

	http_resume(p->req);
}

static bool rate_ok(const struct app *app, struct http_req *req, struct http_resp *resp, size_t events)
{
	int retry = 1;
	char value[16];

	if (ratelimit_take(app->ingest_limits, req->principal_id, (double)events, &retry))
		return true;
	metrics_count(app->metrics, METRIC_INGEST_RATE_LIMITED, events);
	snprintf(value, sizeof(value), "%d", retry);
	http_resp_problem(resp, req, PROBLEM_RATE_LIMITED, "this source is sending events faster than its limit", NULL);
	http_resp_header(resp, "Retry-After", value);
	return false;
}

static void validation_problem(const struct app *app, struct http_req *req, struct http_resp *resp, json_t *errors)
{
	metrics_count(app->metrics, METRIC_INGEST_REJECTED, 1);
	validate_reply(resp, req, "the event does not match the schema", errors);
}


/*
 * The writer's outcome. Its connection is not the request's, so a 503 is
 * answered here from the job's status rather than by the HTTP layer.
 */
static enum http_outcome single_resume(const struct app *app, struct http_req *req, struct http_resp *resp, void *arg)
{
	struct pending *p = arg;
	struct ingest_item *it = &p->items[0];
	const char *id = json_string_value(json_object_get(p->results, "id"));

	(void)app;
	switch (it->status) {
	case INGEST_ACCEPTED:
		http_resp_json(resp, 202, json_pack("{s:s,s:s,s:b}", "status", "accepted", "id", id, "routed", it->routed));
		break;
	case INGEST_DUPLICATE:
		http_resp_json(resp, 200, json_pack("{s:s,s:s}", "status", "duplicate", "id", id));
		break;
	case INGEST_CONFLICT:
		http_resp_problem(resp, req, PROBLEM_EVENT_ID_CONFLICT,
				  "this source already sent an event with this id and different content", NULL);
		break;
	case INGEST_OUT_OF_SCOPE:
		http_resp_problem(resp, req, PROBLEM_OUT_OF_SCOPE, OUT_OF_SCOPE_DETAIL, NULL);
		break;
	case INGEST_UNAVAILABLE:
		http_resp_unavailable(resp, req, "nothing was stored; retry later");
		break;
	case INGEST_UNKNOWN:
		http_resp_unavailable(resp, req, UNKNOWN_DETAIL);
		break;
	default:
		http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "nothing was stored", NULL);
		break;
	}
	free_pending(p);
	return HTTP_DONE;
}

enum http_outcome api_ingest_event(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct event_input in;
	struct pending *p = NULL;
	json_t *ev = NULL, *errors = NULL;
	enum http_outcome result = HTTP_DONE;

	memset(&in, 0, sizeof(in));
	if (!rate_ok(app, req, resp, 1))
		goto out;
	/* parsed here, after the rate limit, rather than declared as the route's JSON body */
	ev = http_req_json(app, req, resp);
	if (!ev)
		goto out;
	result = HTTP_FAILED;
	errors = json_array();
	if (!errors)
		goto out;
	if (!event_validate(ev, "", clock_wall_us(), max_age_us(app), &in, errors)) {
		if (json_array_size(errors) > 0) { /* empty: out of memory, a 500 */
			validation_problem(app, req, resp, errors);
			result = HTTP_DONE;
		}
		goto out;
	}
	p = new_pending(req, 1);
	if (!p)
		goto out;
	p->job.nitems = 1;
	p->job.done = job_done;
	p->results = json_pack("{s:s}", "id", in.id); /* keeps the id for the answer */
	p->items[0].source_id = req->principal_id;
	snprintf(p->items[0].id, sizeof(p->items[0].id), "%s", in.id);
	snprintf(p->items[0].unit_code, sizeof(p->items[0].unit_code), "%s", in.unit_code);
	p->items[0].event = ev;
	p->held = json_incref(ev);
	p->items[0].row = build_row(req, &in, ev, &p->items[0].row_len);
	if (!p->results || !p->items[0].row)
		goto out;
	http_suspend(req, single_resume, p);
	ingest_writer_submit(app->ingest, &p->job);
	p = NULL; /* owned by the resume callback now */
	result = HTTP_SUSPENDED;
out:
	free_pending(p);
	event_input_free(&in);
	json_decref(errors);
	json_decref(ev);
	return result;
}

static json_t *item_problem(enum problem_code code, const char *detail, json_t *errors)
{
	const struct problem_def *d = problem_def(code);
	char type[96];

	snprintf(type, sizeof(type), "%s%s", PROBLEM_TYPE_PREFIX, d->code);
	json_t *o = json_pack("{s:s,s:s,s:i,s:s}", "type", type, "title", d->title, "status", d->status, "code", d->code);
	if (o && detail)
		json_object_set_new(o, "detail", json_string(detail));
	if (o && errors)
		json_object_set(o, "errors", errors);
	return o;
}

/* As single_resume, for a batch. */
static enum http_outcome batch_resume(const struct app *app, struct http_req *req, struct http_resp *resp, void *arg)
{
	struct pending *p = arg;
	bool stored = false;
	size_t out_of_scope = 0;

	(void)app;
	for (size_t k = 0; k < p->job.nitems; k++) {
		struct ingest_item *it = &p->items[k];
		json_t *r = json_array_get(p->results, p->positions[k]);
		if (it->status == INGEST_UNAVAILABLE || it->status == INGEST_FAILED || it->status == INGEST_PENDING ||
		    it->status == INGEST_UNKNOWN) {
			/* the batch is one transaction: all of it or nothing was stored */
			if (it->status == INGEST_UNAVAILABLE)
				http_resp_unavailable(resp, req, "nothing was stored; retry later");
			else if (it->status == INGEST_UNKNOWN)
				http_resp_unavailable(resp, req, "the outcome is unknown; retry with the same ids");
			else
				http_resp_problem(resp, req, PROBLEM_INTERNAL_ERROR, "nothing was stored", NULL);
			goto out;
		}
		if (it->status == INGEST_ACCEPTED) {
			json_object_set_new(r, "status", json_string("accepted"));
			json_object_set_new(r, "routed", json_boolean(it->routed));
			stored = true;
		} else if (it->status == INGEST_DUPLICATE) {
			json_object_set_new(r, "status", json_string("duplicate"));
			stored = true;
		} else if (it->status == INGEST_OUT_OF_SCOPE) {
			json_object_set_new(r, "status", json_string("rejected"));
			json_object_set_new(r, "problem", item_problem(PROBLEM_OUT_OF_SCOPE, OUT_OF_SCOPE_DETAIL, NULL));
			out_of_scope++;
		} else {
			json_object_set_new(r, "status", json_string("rejected"));
			json_object_set_new(r, "problem",
					    item_problem(PROBLEM_EVENT_ID_CONFLICT,
							 "this id was already used with different content", NULL));
		}
	}
	if (stored) {
		http_resp_json(resp, 200, json_pack("{s:O}", "results", p->results));
	} else {
		/* every event of the batch out of scope: the batch is, as a single event would be */
		bool all_out = out_of_scope == json_array_size(p->results);
		json_t *extra = json_pack("{s:O}", "results", p->results);
		http_resp_problem(resp, req, all_out ? PROBLEM_OUT_OF_SCOPE : PROBLEM_VALIDATION_FAILED,
				  all_out ? "this source may not send events for these units; nothing was stored"
					  : "no event of the batch was stored",
				  extra);
		json_decref(extra);
	}
out:
	free_pending(p);
	return HTTP_DONE;
}

/* {"events": [...]} with 1..API_INGEST_MAX_BATCH items and nothing else. */
static json_t *batch_events(json_t *body, json_t *errors)
{
	json_t *events = json_object_get(body, "events");
	const char *key;
	json_t *v;

	if (!json_is_object(body)) {
		validate_error(errors, "", "must be an object");
		return NULL;
	}
	json_object_foreach(body, key, v)
		if (strcmp(key, "events") != 0)
			validate_error(errors, key, "unknown field");
	if (!json_is_array(events) || json_array_size(events) < 1 || json_array_size(events) > API_INGEST_MAX_BATCH)
		validate_error(errors, "events", "must be an array of 1 to 1000 events");
	return json_array_size(errors) ? NULL : events;
}

enum http_outcome api_ingest_batch(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	struct pending *p = NULL;
	json_t *body = req->json, *errors = NULL, *events;
	size_t n, valid = 0, i;
	int64_t now = clock_wall_us();
	enum http_outcome result = HTTP_FAILED;

	errors = json_array();
	if (!errors)
		goto out;
	result = HTTP_DONE;
	events = batch_events(body, errors);
	if (!events) {
		validate_reply(resp, req, "the batch envelope is malformed; nothing was stored", errors);
		goto out;
	}
	n = json_array_size(events);
	if (!rate_ok(app, req, resp, n))
		goto out;
	result = HTTP_FAILED;
	p = new_pending(req, n);
	if (!p)
		goto out;
	p->results = json_array();
	p->held = json_incref(body);
	p->positions = calloc(n, sizeof(*p->positions));
	if (!p->results || !p->positions)
		goto out;
	p->job.done = job_done;
	for (i = 0; i < n; i++) {
		json_t *ev = json_array_get(events, i);
		json_t *item_errors = json_array();
		struct event_input in;
		char prefix[32];
		const char *given = json_string_value(json_object_get(ev, "id"));
		json_t *r = json_pack("{s:i,s:s?}", "index", (int)i, "id", given);

		memset(&in, 0, sizeof(in));
		snprintf(prefix, sizeof(prefix), "events[%zu].", i);
		if (!item_errors || !r || json_array_append_new(p->results, r))
			goto out;
		if (!event_validate(ev, prefix, now, max_age_us(app), &in, item_errors)) {
			if (json_array_size(item_errors) == 0) { /* out of memory */
				json_decref(item_errors);
				goto out;
			}
			json_object_set_new(r, "status", json_string("rejected"));
			json_object_set_new(r, "problem",
					    item_problem(PROBLEM_VALIDATION_FAILED, "the event does not match the schema",
							 item_errors));
			metrics_count(app->metrics, METRIC_INGEST_REJECTED, 1);
			json_decref(item_errors);
			continue;
		}
		json_decref(item_errors);
		p->items[valid].source_id = req->principal_id;
		snprintf(p->items[valid].id, sizeof(p->items[valid].id), "%s", in.id);
		snprintf(p->items[valid].unit_code, sizeof(p->items[valid].unit_code), "%s", in.unit_code);
		p->items[valid].event = ev;
		p->items[valid].row = build_row(req, &in, ev, &p->items[valid].row_len);
		event_input_free(&in);
		if (!p->items[valid].row)
			goto out;
		p->positions[valid++] = i;
		p->job.nitems = valid;
	}
	if (valid == 0) {
		json_t *extra = json_pack("{s:O}", "results", p->results);
		http_resp_problem(resp, req, PROBLEM_VALIDATION_FAILED, "no event of the batch is valid", extra);
		json_decref(extra);
		result = HTTP_DONE;
		goto out;
	}
	http_suspend(req, batch_resume, p);
	ingest_writer_submit(app->ingest, &p->job);
	p = NULL;
	result = HTTP_SUSPENDED;
out:
	free_pending(p);
	json_decref(errors);
	return result;
}
