/*
 * dispatch_send.c - send a claimed batch through FCM/APNs (or the log
 * provider) and map each answer to an outcome (see dispatch_send.h).
 */
#include "push/dispatch_send.h"
#include "core/clock.h"
#include "alerts/alertfmt.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "push/push.h"
#include "push/push_apns.h"
#include "push/push_creds.h"
#include "push/push_fcm.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
	long long id, alert, device, created;
	int attempts;
	bool unsent; /* released at the round deadline or on stop: no attempt made */
	enum push_provider provider;
	const char *alert_text; /* decimal alert id, borrowed from the claim result */
	struct push_msg msg;
	int resends;
	bool done;
	unsigned cred_gen; /* generation of the token the last send used */
	struct push_outcome out;
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

static void finish(struct job *j, enum push_verdict v, enum push_reason reason, const char *detail)
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

/* Read one claimed row into j; rows that cannot be sent get their outcome here. */
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
	j->msg = (struct push_msg){
		.provider = j->provider,
		.token = col(rows, r, DISPATCH_COL_TOKEN),
		.alert_id = j->alert_text,
		.kind = col(rows, r, DISPATCH_COL_KIND),
		.title = col(rows, r, DISPATCH_COL_TITLE),
		.body = col(rows, r, DISPATCH_COL_BODY),
		.collapse_key = col(rows, r, DISPATCH_COL_COLLAPSE),
		.risk = strcmp(col(rows, r, DISPATCH_COL_SEVERITY), "risk") == 0,
		.high_priority = strcmp(col(rows, r, DISPATCH_COL_PRIORITY), "high") == 0,
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
		finish(j, PUSH_FAILED, PUSH_R_DEVICE_NOT_ACTIVE, "the device was revoked or retired after the alert was made");
	else if (!j->msg.token)
		finish(j, PUSH_FAILED, PUSH_R_NO_TOKEN, "the device has no push token");
	else if (now >= j->msg.expires_at)
		finish(j, PUSH_FAILED, PUSH_R_TOO_OLD, "older than push.max_age_seconds");
	else if (!j->msg.title || !j->msg.body)
		finish(j, PUSH_FAILED, PUSH_R_REJECTED, "no text for the alert's language");
	else if (ctx->client && j->provider == PUSH_APNS && !push_apns_token_ok(j->msg.token))
		finish(j, PUSH_RETIRE, PUSH_R_BAD_TOKEN, "apns: the device token is not hex");
}

static int by_device_priority_id(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	if (x->msg.high_priority != y->msg.high_priority)
		return x->msg.high_priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The log provider: record as sent what would have been sent; no token or text in the log. */
static void send_log(struct job *jobs, size_t n)
{
	unsigned char raw[8];

	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		if (j->done)
			continue;
		LOG_FIELDS(LOG_INFO, "push (log provider)", LOG_I("outbox_id", j->id),
			   LOG_S("provider", push_provider_name(j->provider)), LOG_I("alert_id", j->alert),
			   LOG_S("kind", j->msg.kind), LOG_S("severity", j->msg.risk ? "risk" : "info"),
			   LOG_I("title_bytes", (long long)strlen(j->msg.title)));
		finish(j, PUSH_SENT, PUSH_R_OK, "log");
		randombytes_buf(raw, sizeof(raw));
		memcpy(j->out.message_id, "log-", 4);
		sodium_bin2hex(j->out.message_id + 4, sizeof(j->out.message_id) - 4, raw, sizeof(raw));
	}
}

/* Pick this round's jobs: the first unfinished one of each device (jobs sorted by device, priority, id). */
static size_t pick_round(struct job *jobs, size_t n, size_t *picked)
{
	size_t k = 0;
	long long device = -1;
	bool taken = false;

	for (size_t i = 0; i < n; i++) {
		if (i == 0 || jobs[i].device != device) {
			device = jobs[i].device;
			taken = false;
		}
		if (!jobs[i].done && !taken) {
			picked[k++] = i;
			taken = true;
		}
	}
	return k;
}

/* One round: build, send concurrently, classify. False only when out of memory (nothing sent). */
static bool send_round(const struct dispatch_ctx *ctx, struct job *jobs, const size_t *picked, size_t k,
		       struct push_request *reqs)
{
	char token[PUSH__PROVIDERS][PUSH_TOKEN_MAX];
	unsigned gen[PUSH__PROVIDERS] = { 0, 0 };
	bool have[PUSH__PROVIDERS] = { false, false }, tried[PUSH__PROVIDERS] = { false, false };
	long long now = (long long)time(NULL);
	size_t m = 0;
	size_t *slot = calloc(k, sizeof(*slot));

	if (!slot)
		return false; /* the jobs stay unfinished; the caller turns them into retries */
	for (size_t i = 0; i < k; i++) {
		struct job *j = &jobs[picked[i]];
		enum push_provider p = j->provider;
		if (!tried[p]) {
			tried[p] = true;
			have[p] = push_creds_token(ctx->creds, p, token[p], &gen[p]);
		}
		if (!have[p]) {
			finish(j, PUSH_RETRY, PUSH_R_CREDENTIALS,
			       p == PUSH_FCM ? "fcm: no OAuth access token (token endpoint failing)"
					     : "apns: no provider token (signing failed)");
			continue;
		}
		struct push_request *rq = &reqs[m];
		push_request_clear(rq);
		bool built = p == PUSH_FCM ? push_fcm_request(&j->msg, push_creds_fcm_url(ctx->creds), token[p], now, rq)
					   : push_apns_request(&j->msg,
							       ctx->cfg->apns_endpoint[0] ? ctx->cfg->apns_endpoint
							       : ctx->cfg->apns_sandbox ? "https://api.sandbox.push.apple.com"
											: "https://api.push.apple.com",
							       ctx->cfg->apns_topic, token[p], rq);
		if (!built) {
			finish(j, PUSH_FAILED, PUSH_R_REJECTED, "the payload could not be built (over 4096 bytes?)");
			continue;
		}
		j->cred_gen = gen[p];
		slot[m++] = picked[i];
	}
	sodium_memzero(token, sizeof(token));
	if (m > 0 && !push_client_run(ctx->client, reqs, m)) {
		for (size_t i = 0; i < m; i++)
			finish(&jobs[slot[i]], PUSH_RETRY, PUSH_R_TRANSPORT, "the transfers could not be started");
		m = 0;
	}
	for (size_t i = 0; i < m; i++) {
		struct job *j = &jobs[slot[i]];
		if (j->provider == PUSH_FCM)
			push_fcm_classify(&reqs[i], &j->out);
		else
			push_apns_classify(&reqs[i], &j->out);
		j->done = true;
		if (j->out.stale_credentials)
			push_creds_refused(ctx->creds, j->provider, j->cred_gen);
		if (j->out.verdict == PUSH_RESEND) {
			if (j->resends < DISPATCH_MAX_RESENDS) {
				j->resends++;
				j->done = false; /* the next round sends it again */
			} else {
				j->out.verdict = PUSH_RETRY;
			}
		}
	}
	for (size_t i = 0; i < m; i++)
		push_request_clear(&reqs[i]);
	free(slot);
	return true;
}

/* Rows still waiting for their round: due again at once, without counting an attempt. */
static void release_unsent(struct job *jobs, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		if (!jobs[i].done) {
			finish(&jobs[i], PUSH_RETRY, PUSH_R_OK, "released unsent");
			jobs[i].unsent = true;
			count++;
		}
	log_info("dispatch: released %zu unsent row(s) of the batch (its lease would run out, or stopping)", count);
}

static void send_live(const struct dispatch_ctx *ctx, struct job *jobs, size_t n)
{
	size_t *picked = calloc(n, sizeof(*picked));
	struct push_request *reqs = calloc(n, sizeof(*reqs));
	size_t k;

	/* rounds end: every round finishes a job or spends one of its bounded resends */
	bool first = true;
	if (picked && reqs)
		while ((k = pick_round(jobs, n, picked)) > 0) {
			/* the first round always runs, so a short lease still makes progress */
			if (!first && (clock_mono_seconds() > ctx->round_deadline ||
				       (ctx->stopping && ctx->stopping(ctx->stopping_arg)))) {
				release_unsent(jobs, n);
				break;
			}
			first = false;
			if (!send_round(ctx, jobs, picked, k, reqs))
				break;
		}
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].done)
			finish(&jobs[i], PUSH_RETRY, PUSH_R_TRANSPORT, "out of memory");
	free(picked);
	free(reqs);
}

/* Provider text may be cut mid-character by our buffers: keep it plain ASCII so it is always valid UTF-8. */
static void ascii(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
			*s = '?';
}

/* The recorded form of one outcome; counts it in the metrics. */
static json_t *outcome_json(const struct dispatch_ctx *ctx, struct job *j, long long now)
{
	const struct config *cfg = ctx->cfg;
	struct push_outcome *o = &j->out;
	char err[320];
	enum metrics_push_result result = METRICS_PUSH_FAILED;
	double delay = -1;

	if (j->unsent)
		return json_pack("{s:I,s:I,s:s,s:f,s:b}", "id", (json_int_t)j->id, "alert", (json_int_t)j->alert, "state",
				 "pending", "delay", 0.0, "unsent", 1);
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
	json_t *x = json_pack("{s:I,s:I,s:s}", "id", (json_int_t)j->id, "alert", (json_int_t)j->alert, "state",
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
	}
	return x;
}

/* One log line per alarming reason in the batch: an operator must fix credentials or the project. */
static void raise_alarms(const struct dispatch_ctx *ctx, const struct job *jobs, size_t n)
{
	unsigned count[PUSH_R__COUNT] = { 0 };
	const char *example[PUSH_R__COUNT] = { 0 };

	for (size_t i = 0; i < n; i++) {
		const struct push_outcome *o = &jobs[i].out;
		if (o->verdict == PUSH_FAILED && o->reason == PUSH_R_REJECTED)
			log_warn("push: outbox row %lld refused by the provider: %s", jobs[i].id, o->detail);
		if (!o->alarm)
			continue;
		metrics_push_alarm(ctx->metrics, o->reason);
		if (count[o->reason]++ == 0)
			example[o->reason] = o->detail;
	}
	for (int r = 0; r < PUSH_R__COUNT; r++)
		if (count[r]) {
			LOG_FIELDS(LOG_ERROR, "push: OPERATOR ALARM: the provider refuses our credentials or project",
				   LOG_S("alarm", push_reason_name((enum push_reason)r)), LOG_I("messages", count[r]),
				   LOG_S("provider_answer", example[r]));
		}
}

json_t *dispatch_send_batch(const struct dispatch_ctx *ctx, PGresult *rows)
{
	size_t n = (size_t)PQntuples(rows);
	struct job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	json_t *outcomes = json_array();
	long long now = (long long)time(NULL);

	if (!jobs || !outcomes || PQnfields(rows) != DISPATCH_COL__COUNT)
		goto fail;
	for (size_t i = 0; i < n; i++)
		load_job(ctx, rows, (int)i, now, &jobs[i]);
	qsort(jobs, n, sizeof(*jobs), by_device_priority_id);
	if (!ctx->client)
		send_log(jobs, n);
	else
		send_live(ctx, jobs, n);
	raise_alarms(ctx, jobs, n);
	now = (long long)time(NULL);
	for (size_t i = 0; i < n; i++) {
		json_t *x = outcome_json(ctx, &jobs[i], now);
		if (!x || json_array_append_new(outcomes, x) != 0)
			goto fail;
	}
	free(jobs);
	return outcomes;
fail:
	free(jobs);
	json_decref(outcomes);
	return NULL;
}
