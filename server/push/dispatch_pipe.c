/*
 * dispatch_pipe.c - one dispatcher worker's pipeline (see dispatch_pipe.h):
 * claimed rows held in fixed slots, each sent through FCM/APNs (or the log
 * provider) as soon as its device is free, and each answer mapped to an
 * outcome for recording.
 *
 * The slots never move, so a request in flight can point into its job. The
 * claim result a job's strings are borrowed from is freed when its last job
 * has its outcome.
 */
#include "push/dispatch_pipe.h"
#include "core/clock.h"
#include "alerts/alertfmt.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "push/push.h"
#include "push/push_apns.h"
#include "push/push_creds.h"
#include "push/push_fcm.h"

#include <curl/curl.h>
#include <math.h>
#include <poll.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Requests in flight per provider and worker, whatever push.max_in_flight
 * says. Google's front ends allow 100 concurrent streams per connection
 * (APNs 1,000, after starting at 1), and this libcurl (7.88) was seen to put
 * more than that on one connection instead of opening the second: with 200
 * in flight the mock, which advertises 100 like Google, got up to 156
 * streams on one connection and closed it (GOAWAY), and the requests it had
 * already answered came back as framing errors and were sent twice.
 */
#define PIPE_MAX_SENDING_PER_PROVIDER 100

#define PIPE_PACE 0.002		       /* seconds: one libcurl pass at most per this while requests are in flight */
#define PIPE_PACE_PER_TRANSFER 0.00002 /* ... or per this times the transfers in flight, if less */

/* One claim result, shared by the jobs made from it. */
struct chunk {
	PGresult *rows;
	size_t live; /* its jobs without an outcome yet */
};

enum job_state { JOB_FREE, JOB_WAITING, JOB_SENDING };

struct job {
	enum job_state state;
	struct chunk *chunk;
	long long id, alert, device, created;
	int attempts;
	bool unsent;  /* released at its deadline or on stop: no attempt made */
	bool blocked; /* has waited for its device: its release deadline applies from now on */
	bool urgent;  /* claim lane 'high' (risk alerts, the new-device warning): started before the others */
	enum push_provider provider;
	const char *alert_text; /* decimal alert id, borrowed from the claim result */
	struct push_msg msg;
	int resends;
	bool done;
	unsigned cred_gen; /* generation of the token the last send used */
	double release_at;
	struct push_outcome out;
	struct push_request req;
};

struct dispatch_pipe {
	struct dispatch_ctx ctx;
	size_t cap;
	struct job *jobs;   /* cap slots */
	size_t *free_slots; /* stack of free slot indexes */
	size_t n_free;
	size_t *order; /* held slots in admission order: a device's rows go out in this order */
	size_t n_order;
	/* devices with a row in flight, or an earlier row waiting (open addressing; an entry is live when its gen matches) */
	long long *busy_dev;
	unsigned *busy_gen;
	size_t busy_mask;
	unsigned gen;
	size_t sending[PUSH__PROVIDERS]; /* requests in flight per provider */
	json_t *outcomes;
	double oldest_outcome;
	size_t released;  /* unsent rows released since the last log line */
	double last_pass; /* CLOCK_MONOTONIC of the last libcurl pass (pacing) */
	unsigned alarm_count[PUSH_R__COUNT];
	char alarm_example[PUSH_R__COUNT][sizeof(((struct push_outcome *)0)->detail)];
};

double dispatch_backoff(long long base, long long max, int attempts, long long retry_after, double unit_random)
{
	double d = (double)base;

	for (int i = 1; i < attempts && d < (double)max; i++)
		d *= 2;
	if (d > (double)max)
		d = (double)max;
	/* "equal jitter": between half and all of the step, so instances that failed together spread out */
	d = d / 2 + d / 2 * unit_random;
	if (retry_after >= 0 && d < (double)retry_after)
		d = (double)retry_after;
	return d;
}

static void set_outcome(struct job *j, enum push_verdict v, enum push_reason reason, const char *detail)
{
	memset(&j->out, 0, sizeof(j->out));
	j->out.retry_after = -1;
	j->out.verdict = v;
	j->out.reason = reason;
	snprintf(j->out.detail, sizeof(j->out.detail), "%s", detail);
	j->done = true;
}

static const char *col(PGresult *rows, int r, enum dispatch_col c)
{
	return PQgetisnull(rows, r, c) ? NULL : PQgetvalue(rows, r, c);
}

/* Read one claimed row into j; rows that cannot be sent get their outcome here (j->done). */
static void load_job(const struct dispatch_ctx *ctx, PGresult *rows, int r, long long now, struct job *j)
{
	enum alert_lang lang = alertfmt_lang(col(rows, r, DISPATCH_COL_LANG));
	const char *state = col(rows, r, DISPATCH_COL_DEVICE_STATE);
	bool warn_revoked = strcmp(col(rows, r, DISPATCH_COL_WARN_REVOKED), "t") == 0;

	j->id = strtoll(col(rows, r, DISPATCH_COL_ID), NULL, 10);
	j->alert_text = col(rows, r, DISPATCH_COL_ALERT);
	j->alert = strtoll(j->alert_text, NULL, 10);
	j->device = strtoll(col(rows, r, DISPATCH_COL_DEVICE), NULL, 10);
	j->attempts = (int)strtol(col(rows, r, DISPATCH_COL_ATTEMPTS), NULL, 10);
	j->created = strtoll(col(rows, r, DISPATCH_COL_CREATED), NULL, 10);
	j->provider = strcmp(col(rows, r, DISPATCH_COL_PROVIDER), "apns") == 0 ? PUSH_APNS : PUSH_FCM;
	const char *priority = col(rows, r, DISPATCH_COL_PRIORITY);
	j->urgent = strcmp(priority, "high") == 0;
	j->msg = (struct push_msg){
		.provider = j->provider,
		.token = col(rows, r, DISPATCH_COL_TOKEN),
		.alert_id = j->alert_text,
		.kind = col(rows, r, DISPATCH_COL_KIND),
		.title = col(rows, r, DISPATCH_COL_TITLE),
		.body = col(rows, r, DISPATCH_COL_BODY),
		.collapse_key = col(rows, r, DISPATCH_COL_COLLAPSE),
		.risk = strcmp(col(rows, r, DISPATCH_COL_SEVERITY), "risk") == 0,
		/* a security notice has its own claim lane but reaches the phone like a warning */
		.high_priority = strcmp(priority, "high") == 0 || strcmp(priority, "notice") == 0,
		.privacy = strcmp(col(rows, r, DISPATCH_COL_PRIVACY), "true") == 0,
		.expires_at = j->created + ctx->cfg->push_max_age_seconds,
	};
	j->msg.thread_id = j->msg.risk ? "risk" : j->msg.kind;
	if (j->msg.privacy) {
		/* Google and Apple carry only a generic text; the app fetches the alert itself */
		j->msg.title = alertfmt_message("privacy.title", lang);
		j->msg.body = alertfmt_message(j->msg.risk ? "privacy.body_risk" : "privacy.body", lang);
	}
	if ((!state || strcmp(state, "active") != 0) && !warn_revoked)
		set_outcome(j, PUSH_FAILED, PUSH_R_DEVICE_NOT_ACTIVE,
			    "the device was revoked or retired after the alert was made");
	else if (!j->msg.token)
		set_outcome(j, PUSH_FAILED, PUSH_R_NO_TOKEN, "the device has no push token");
	else if (now >= j->msg.expires_at)
		set_outcome(j, PUSH_FAILED, PUSH_R_TOO_OLD, "older than push.max_age_seconds");
	else if (!j->msg.title || !j->msg.body)
		set_outcome(j, PUSH_FAILED, PUSH_R_REJECTED, "no text for the alert's language");
	else if (ctx->client && j->provider == PUSH_APNS && !push_apns_token_ok(j->msg.token))
		set_outcome(j, PUSH_RETIRE, PUSH_R_BAD_TOKEN, "apns: the device token is not hex");
}

/* The log provider: record as sent what would have been sent; no token or text in the log. */
static void send_log(struct job *j)
{
	unsigned char raw[8];

	LOG_FIELDS(LOG_INFO, "push (log provider)", LOG_I("outbox_id", j->id),
		   LOG_S("provider", push_provider_name(j->provider)), LOG_I("alert_id", j->alert),
		   LOG_S("kind", j->msg.kind), LOG_S("severity", j->msg.risk ? "risk" : "info"),
		   LOG_I("title_bytes", (long long)strlen(j->msg.title)));
	set_outcome(j, PUSH_SENT, PUSH_R_OK, "log");
	randombytes_buf(raw, sizeof(raw));
	memcpy(j->out.message_id, "log-", 4);
	sodium_bin2hex(j->out.message_id + 4, sizeof(j->out.message_id) - 4, raw, sizeof(raw));
}

/* Provider text may be cut mid-character by our buffers: keep it plain ASCII so it is always valid UTF-8. */
static void ascii(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
			*s = '?';
}

/* The recorded form of one outcome; counts it in the metrics. NULL when out of memory. */
static json_t *outcome_json(const struct dispatch_ctx *ctx, struct job *j, long long now)
{
	const struct config *cfg = ctx->cfg;
	struct push_outcome *o = &j->out;
	char err[320];
	enum metrics_push_result result = METRICS_PUSH_FAILED;
	double delay = -1;

	if (j->unsent)
		return json_pack("{s:I,s:s,s:f,s:b}", "id", (json_int_t)j->id, "state", "pending", "delay", 0.0, "unsent", 1);
	snprintf(err, sizeof(err), "%s: %s", push_reason_name(o->reason), o->detail);
	ascii(o->message_id);
	if (o->verdict == PUSH_SENT) {
		result = METRICS_PUSH_SENT;
	} else if (o->verdict == PUSH_RETRY || o->verdict == PUSH_RESEND) {
		double unit = (double)randombytes_uniform(1u << 24) / (double)(1u << 24);
		delay = dispatch_backoff(cfg->push_retry_base_seconds, cfg->push_retry_max_seconds, j->attempts,
					 o->retry_after, unit);
		if (j->attempts >= cfg->push_max_attempts) {
			snprintf(err, sizeof(err), "max_attempts (%d) reached; last: %s: %s", j->attempts,
				 push_reason_name(o->reason), o->detail);
			delay = -1;
		} else if ((double)now + delay >= (double)(j->created + cfg->push_max_age_seconds)) {
			snprintf(err, sizeof(err), "too_old: max_age_seconds passes before the next attempt; last: %s: %s",
				 push_reason_name(o->reason), o->detail);
			delay = -1;
		} else {
			result = METRICS_PUSH_RETRY;
		}
	}
	metrics_push(ctx->metrics, j->provider, result, o->reason, 1);
	json_t *x = json_pack("{s:I,s:s}", "id", (json_int_t)j->id, "state",
			      result == METRICS_PUSH_SENT    ? "sent"
			      : result == METRICS_PUSH_RETRY ? "pending"
							     : "failed");
	if (!x)
		return NULL;
	ascii(err);
	if (result == METRICS_PUSH_SENT)
		json_object_set_new(x, "mid", json_string(o->message_id));
	else
		json_object_set_new(x, "err", json_string(err));
	if (result == METRICS_PUSH_RETRY)
		json_object_set_new(x, "delay", json_real(ceil(delay * 1000) / 1000));
	if (o->verdict == PUSH_RETIRE) {
		json_object_set_new(x, "dev", json_integer(j->device));
		json_object_set_new(x, "tok", json_string(j->msg.token));
		json_object_set_new(x, "prov", json_string(push_provider_name(j->provider)));
	}
	return x;
}

/* Count an alarming outcome; take_outcomes logs one line per reason. */
static void note_alarm(struct dispatch_pipe *p, const struct job *j)
{
	const struct push_outcome *o = &j->out;

	if (o->verdict == PUSH_FAILED && o->reason == PUSH_R_REJECTED)
		log_warn("push: outbox row %lld refused by the provider: %s", j->id, o->detail);
	if (!o->alarm)
		return;
	metrics_push_alarm(p->ctx.metrics, o->reason);
	if (p->alarm_count[o->reason]++ == 0)
		snprintf(p->alarm_example[o->reason], sizeof(p->alarm_example[o->reason]), "%s", o->detail);
}

/* One job of c is done with it: the claim result goes with the last. */
static void chunk_release(struct chunk *c)
{
	if (--c->live == 0) {
		PQclear(c->rows);
		free(c);
	}
}

/*
 * The job has its outcome: queue it for recording and free the slot. If the
 * outcome cannot be built (out of memory) the row is simply not recorded:
 * its lease runs out and it is claimed again.
 */
static void complete(struct dispatch_pipe *p, struct job *j)
{
	json_t *x = outcome_json(&p->ctx, j, (long long)time(NULL));

	note_alarm(p, j);
	if (!x || json_array_append_new(p->outcomes, x) != 0)
		log_warn("dispatch: outcome of outbox row %lld lost (out of memory); it is sent again after its lease", j->id);
	else if (json_array_size(p->outcomes) == 1)
		p->oldest_outcome = clock_mono_seconds();
	chunk_release(j->chunk);
	push_request_clear(&j->req);
	memset(j, 0, sizeof(*j));
	p->free_slots[p->n_free++] = (size_t)(j - p->jobs);
}

/* Drop freed slots from the admission order. */
static void compact_order(struct dispatch_pipe *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n_order; i++)
		if (p->jobs[p->order[i]].state != JOB_FREE)
			p->order[k++] = p->order[i];
	p->n_order = k;
}

void dispatch_pipe_set_config(struct dispatch_pipe *p, const struct config *cfg)
{
	p->ctx.cfg = cfg;
}

struct dispatch_pipe *dispatch_pipe_new(const struct dispatch_ctx *ctx, size_t capacity)
{
	struct dispatch_pipe *p = calloc(1, sizeof(*p));
	size_t buckets = 16;

	if (!p)
		return NULL;
	while (buckets < 2 * capacity)
		buckets *= 2;
	p->ctx = *ctx;
	p->cap = capacity;
	p->jobs = calloc(capacity, sizeof(*p->jobs));
	p->free_slots = calloc(capacity, sizeof(*p->free_slots));
	p->order = calloc(capacity, sizeof(*p->order));
	p->busy_dev = calloc(buckets, sizeof(*p->busy_dev));
	p->busy_gen = calloc(buckets, sizeof(*p->busy_gen));
	p->busy_mask = buckets - 1;
	p->outcomes = json_array();
	if (!p->jobs || !p->free_slots || !p->order || !p->busy_dev || !p->busy_gen || !p->outcomes) {
		dispatch_pipe_free(p);
		return NULL;
	}
	for (size_t i = 0; i < capacity; i++)
		p->free_slots[i] = capacity - 1 - i;
	p->n_free = capacity;
	return p;
}

void dispatch_pipe_free(struct dispatch_pipe *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->jobs && i < p->cap; i++) {
		struct job *j = &p->jobs[i];
		if (j->state == JOB_FREE)
			continue;
		push_request_clear(&j->req);
		chunk_release(j->chunk);
	}
	free(p->jobs);
	free(p->free_slots);
	free(p->order);
	free(p->busy_dev);
	free(p->busy_gen);
	json_decref(p->outcomes);
	free(p);
}

size_t dispatch_pipe_room(const struct dispatch_pipe *p)
{
	return p->n_free;
}

size_t dispatch_pipe_held(const struct dispatch_pipe *p)
{
	return p->cap - p->n_free;
}

size_t dispatch_pipe_outcomes_ready(const struct dispatch_pipe *p, double *oldest)
{
	size_t n = json_array_size(p->outcomes);

	*oldest = n ? p->oldest_outcome : 0;
	return n;
}

struct sort_key {
	bool high;
	long long id;
	size_t slot;
};

static int by_priority_id(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->high != y->high)
		return x->high ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sort order[from..from+n) urgent (lane 'high') first, then by outbox id. False when out of memory (left as claimed). */
static bool sort_claim(struct dispatch_pipe *p, size_t from, size_t n)
{
	struct sort_key *keys = calloc(n, sizeof(*keys));

	if (!keys)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct job *j = &p->jobs[p->order[from + i]];
		keys[i] = (struct sort_key){ j->urgent, j->id, p->order[from + i] };
	}
	qsort(keys, n, sizeof(*keys), by_priority_id);
	for (size_t i = 0; i < n; i++)
		p->order[from + i] = keys[i].slot;
	free(keys);
	return true;
}

bool dispatch_pipe_admit(struct dispatch_pipe *p, PGresult *rows, double release_at)
{
	size_t n = (size_t)PQntuples(rows);
	struct chunk *c = NULL;
	long long now = (long long)time(NULL);

	compact_order(p);
	if (n == 0 || n > p->n_free || PQnfields(rows) != DISPATCH_COL__COUNT || !(c = calloc(1, sizeof(*c)))) {
		if (n > 0)
			log_error("dispatch: %zu claimed rows dropped unsent (%s); their leases run out", n,
				  n > p->n_free ? "more than the pipeline's room" : "out of memory or wrong columns");
		PQclear(rows);
		return n == 0;
	}
	c->rows = rows;
	c->live = n;
	size_t first = p->n_order;
	for (size_t r = 0; r < n; r++) {
		size_t slot = p->free_slots[--p->n_free];
		struct job *j = &p->jobs[slot];
		memset(j, 0, sizeof(*j));
		j->chunk = c;
		j->state = JOB_WAITING;
		j->release_at = release_at;
		push_request_clear(&j->req);
		load_job(&p->ctx, rows, (int)r, now, j);
		p->order[p->n_order++] = slot;
	}
	/* within a claim a device's high-priority rows go first, then by outbox id */
	if (!sort_claim(p, first, n))
		log_warn("dispatch: a claim is sent in the order it came (out of memory sorting it)");
	for (size_t i = first; i < p->n_order; i++) {
		struct job *j = &p->jobs[p->order[i]];
		if (!j->done && !p->ctx.client)
			send_log(j);
		if (j->done)
			complete(p, j); /* c is freed with its last job */
	}
	compact_order(p);
	return true;
}

/* The busy set: cleared by a new generation at every step. */
static void busy_reset(struct dispatch_pipe *p)
{
	if (++p->gen == 0) {
		memset(p->busy_gen, 0, (p->busy_mask + 1) * sizeof(*p->busy_gen));
		p->gen = 1;
	}
}

/* Mark device busy; true if it already was. */
static bool busy_take(struct dispatch_pipe *p, long long device)
{
	size_t i = ((unsigned long long)device * 0x9E3779B97F4A7C15ull) & p->busy_mask;

	while (p->busy_gen[i] == p->gen) {
		if (p->busy_dev[i] == device)
			return true;
		i = (i + 1) & p->busy_mask;
	}
	p->busy_gen[i] = p->gen;
	p->busy_dev[i] = device;
	return false;
}

/* Provider tokens fetched once per step, wiped after it. */
struct step_tokens {
	char value[PUSH__PROVIDERS][PUSH_TOKEN_MAX];
	unsigned gen[PUSH__PROVIDERS];
	bool tried[PUSH__PROVIDERS], have[PUSH__PROVIDERS];
};

/* Build and start j's request; on any failure j gets its outcome (j->done). */
static void start_job(struct dispatch_pipe *p, struct job *j, struct step_tokens *t)
{
	const struct config *cfg = p->ctx.cfg;
	enum push_provider pv = j->provider;
	long long now = (long long)time(NULL);

	if (!t->tried[pv]) {
		t->tried[pv] = true;
		t->have[pv] = push_creds_token(p->ctx.creds, pv, t->value[pv], &t->gen[pv]);
	}
	if (!t->have[pv]) {
		set_outcome(j, PUSH_RETRY, PUSH_R_CREDENTIALS,
			    pv == PUSH_FCM ? "fcm: no OAuth access token (token endpoint failing)"
					   : "apns: no provider token (signing failed)");
		return;
	}
	push_request_clear(&j->req);
	bool built = pv == PUSH_FCM ? push_fcm_request(&j->msg, push_creds_fcm_url(p->ctx.creds), t->value[pv], now, &j->req)
				    : push_apns_request(&j->msg,
							cfg->apns_endpoint[0] ? cfg->apns_endpoint
							: cfg->apns_sandbox   ? "https://api.sandbox.push.apple.com"
									      : "https://api.push.apple.com",
							cfg->apns_topic, t->value[pv], &j->req);
	if (!built) {
		set_outcome(j, PUSH_FAILED, PUSH_R_REJECTED, "the payload could not be built (over 4096 bytes?)");
		return;
	}
	j->cred_gen = t->gen[pv];
	if (!push_client_start(p->ctx.client, &j->req)) {
		set_outcome(j, PUSH_RETRY, PUSH_R_TRANSPORT, "the transfer could not be started");
		return;
	}
	j->state = JOB_SENDING;
	p->sending[pv]++;
}

static void release(struct dispatch_pipe *p, struct job *j)
{
	set_outcome(j, PUSH_RETRY, PUSH_R_OK, "released unsent");
	j->unsent = true;
	p->released++;
	complete(p, j);
}

/*
 * Release the waiting row at order[i] unsent, and the device's later rows
 * waiting behind it: they are claimed again together, in outbox order, so
 * none overtakes it. Its device stays busy for the rest of the step.
 */
static void release_device(struct dispatch_pipe *p, size_t i)
{
	long long device = p->jobs[p->order[i]].device;

	for (size_t k = i; k < p->n_order; k++) {
		struct job *j = &p->jobs[p->order[k]];
		if (j->state == JOB_WAITING && j->device == device)
			release(p, j);
	}
	busy_take(p, device);
}

/*
 * One pass over the waiting rows in admission order (only the urgent ones
 * when urgent_only): start each whose device and provider are free, release
 * those past their deadline (or all, on stop).
 */
static void start_pass(struct dispatch_pipe *p, bool urgent_only, bool stop, struct step_tokens **t)
{
	for (size_t i = 0; i < p->n_order; i++) {
		struct job *j = &p->jobs[p->order[i]];
		if (j->state != JOB_WAITING || (urgent_only && !j->urgent))
			continue;
		/* read for each row: a token fetch in start_job may have taken seconds */
		double now = clock_mono_seconds();
		/* a row's first chance is always taken, so a short lease still makes progress */
		if (stop || ((j->blocked || j->resends > 0) && now > j->release_at)) {
			release_device(p, i);
			continue;
		}
		if (busy_take(p, j->device) || p->sending[j->provider] >= PIPE_MAX_SENDING_PER_PROVIDER) {
			j->blocked = true; /* an earlier row of its device is in flight or waiting, or its provider is full */
			continue;
		}
		if (!*t && !(*t = calloc(1, sizeof(**t)))) {
			j->blocked = true; /* out of memory: the next step tries again */
			continue;
		}
		start_job(p, j, *t);
		if (j->done)
			complete(p, j);
	}
}

/*
 * Start every waiting row that may go. Urgent rows first, whatever came
 * before them: a risk alert claimed behind a pipeline full of information
 * rows takes the next free stream of its provider, not the hundredth. (A
 * device's urgent row may so overtake its own earlier information row: the
 * same order as within one claim.)
 */
static void start_ready(struct dispatch_pipe *p, bool stop)
{
	struct step_tokens *t = NULL;
	bool any_urgent = false;

	busy_reset(p);
	for (size_t i = 0; i < p->n_order; i++) {
		struct job *j = &p->jobs[p->order[i]];
		if (j->state == JOB_SENDING)
			busy_take(p, j->device);
		else if (j->state == JOB_WAITING && j->urgent)
			any_urgent = true;
	}
	if (any_urgent && !stop)
		start_pass(p, true, false, &t);
	start_pass(p, false, stop, &t);
	if (t) {
		sodium_memzero(t, sizeof(*t));
		free(t);
	}
	compact_order(p);
	if (p->released) {
		log_info("dispatch: released %zu unsent row(s): their lease would run out, or stopping", p->released);
		p->released = 0;
	}
}

/* Turn one answer into its outcome, or send it again at the next step. */
static void collect(struct dispatch_pipe *p, struct job *j)
{
	p->sending[j->provider]--;
	if (j->provider == PUSH_FCM)
		push_fcm_classify(&j->req, &j->out);
	else
		push_apns_classify(&j->req, &j->out);
	push_request_clear(&j->req);
	j->done = true;
	if (j->out.stale_credentials)
		push_creds_refused(p->ctx.creds, j->provider, j->cred_gen);
	if (j->out.verdict == PUSH_RESEND) {
		if (j->resends < DISPATCH_MAX_RESENDS) {
			j->resends++;
			j->done = false;
			j->state = JOB_WAITING; /* keeps its place: its device's later rows still wait for it */
			return;
		}
		j->out.verdict = PUSH_RETRY;
	}
	complete(p, j);
}

void dispatch_pipe_step(struct dispatch_pipe *p, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms, bool stop)
{
	start_ready(p, stop);
	if (!p->ctx.client) {
		struct pollfd fds[8];
		unsigned n = n_extra < 8 ? n_extra : 8;
		for (unsigned i = 0; i < n; i++)
			fds[i] = (struct pollfd){ .fd = extra[i].fd, .events = (short)extra[i].events };
		int got = poll(fds, n, timeout_ms);
		for (unsigned i = 0; i < n; i++)
			extra[i].revents = got > 0 ? (unsigned short)fds[i].revents : 0;
		return;
	}
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = 0;
	/*
	 * Pacing: with requests in flight, one pass of libcurl per PIPE_PACE
	 * at most. libcurl 7.88 (Debian 12) checks every transfer of a multi
	 * handle with a poll() of its own at each pass (Curl_readwrite), and
	 * returns from its wait at once, again and again, while an HTTP/2
	 * upload waits for a stream or for flow control (fixed in 8.0): the
	 * bench measured 800 µs of alertd CPU per push, 77 % of it in those
	 * polls. Waking once per PIPE_PACE (less with few transfers in flight,
	 * so that one device's rows, sent one by one, are not held up) takes
	 * every answer that came in meanwhile in one pass, for a delay of at
	 * most PIPE_PACE per answer.
	 */
	double now = clock_mono_seconds();
	size_t flying = push_client_in_flight(p->ctx.client);
	/* a pass costs about one poll() per transfer: a few in flight (one device's rows, one by one) pace little */
	double pace =
		(double)flying * PIPE_PACE_PER_TRANSFER < PIPE_PACE ? (double)flying * PIPE_PACE_PER_TRANSFER : PIPE_PACE;
	if (flying > 0 && now - p->last_pass < pace) {
		double rest = pace - (now - p->last_pass);
		struct timespec pause = { 0, (long)(rest * 1e9) };
		nanosleep(&pause, NULL);
		if (timeout_ms > 0)
			timeout_ms = timeout_ms > (int)(rest * 1000) ? timeout_ms - (int)(rest * 1000) : 0;
	}
	if (!push_client_wait(p->ctx.client, extra, n_extra, timeout_ms)) {
		struct timespec pause = { 0, 10 * 1000 * 1000L }; /* a multi error: do not spin */
		nanosleep(&pause, NULL);
	}
	p->last_pass = clock_mono_seconds();
	struct push_request *r;
	bool any = false;
	while ((r = push_client_done(p->ctx.client))) {
		collect(p, (struct job *)((char *)r - offsetof(struct job, req)));
		any = true;
	}
	if (any)
		compact_order(p);
}

json_t *dispatch_pipe_take_outcomes(struct dispatch_pipe *p)
{
	json_t *fresh;

	if (json_array_size(p->outcomes) == 0 || !(fresh = json_array()))
		return NULL;
	json_t *taken = p->outcomes;
	p->outcomes = fresh;
	for (int r = 0; r < PUSH_R__COUNT; r++)
		if (p->alarm_count[r]) {
			LOG_FIELDS(LOG_ERROR, "push: OPERATOR ALARM: the provider refuses our credentials or project",
				   LOG_S("alarm", push_reason_name((enum push_reason)r)),
				   LOG_I("messages", p->alarm_count[r]), LOG_S("provider_answer", p->alarm_example[r]));
			p->alarm_count[r] = 0;
		}
	return taken;
}
