/*
 * metrics.c - Prometheus text exposition of request counters, latency
 * histograms and pool gauges.
 */
#include "core/metrics.h"
#include "core/buf.h"
#include "db/db.h"
#include "push/push.h"
#include "http/router.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define STATUS_MIN 100
#define STATUS_SLOTS 500 /* 100..599 */
#define METRICS_MAX_TEXT (4 * 1024 * 1024)

static const double bucket_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct route_metrics {
	atomic_ullong by_status[STATUS_SLOTS];
	atomic_ullong buckets[N_BUCKETS]; /* non-cumulative; summed when rendered */
	atomic_ullong count;
	atomic_ullong sum_us;
};

struct metrics {
	size_t nslots;
	struct route_metrics *slots;
	atomic_ullong counters[METRIC__COUNT];
	atomic_ullong push[PUSH__PROVIDERS][METRICS_PUSH__RESULTS][PUSH_R__COUNT];
	atomic_ullong push_tokens[PUSH__PROVIDERS][2]; /* [ok] */
	atomic_ullong push_retired[PUSH__PROVIDERS];
	atomic_ullong push_alarms[PUSH_R__COUNT];
	atomic_llong outbox_pending, outbox_oldest_age;
	atomic_llong esc_open, esc_oldest_epoch, esc_acked, esc_ack_ms;
};

/* name, labels, help: counters sharing a name are rendered under one HELP/TYPE */
static const struct {
	const char *name;
	const char *labels;
	const char *help;
} counter_defs[METRIC__COUNT] = {
	[METRIC_INGEST_ACCEPTED] = { "alertd_ingest_events_total", "result=\"accepted\"", "Ledger events by ingest result." },
	[METRIC_INGEST_DUPLICATE] = { "alertd_ingest_events_total", "result=\"duplicate\"", NULL },
	[METRIC_INGEST_CONFLICT] = { "alertd_ingest_events_total", "result=\"conflict\"", NULL },
	[METRIC_INGEST_REJECTED] = { "alertd_ingest_events_total", "result=\"rejected\"", NULL },
	[METRIC_INGEST_NOT_STORED] = { "alertd_ingest_events_total", "result=\"not_stored\"", NULL },
	[METRIC_INGEST_RATE_LIMITED] = { "alertd_ingest_events_total", "result=\"rate_limited\"", NULL },
	[METRIC_INGEST_OUT_OF_SCOPE] = { "alertd_ingest_events_total", "result=\"out_of_scope\"", NULL },
	[METRIC_INGEST_OUTCOME_UNKNOWN] = { "alertd_ingest_events_total", "result=\"unknown\"", NULL },
	[METRIC_INGEST_UNROUTED] = { "alertd_ingest_unrouted_events_total", "",
				     "Accepted events whose unit is not in the roster (stored, not routed)." },
	[METRIC_INGEST_COMMITS] = { "alertd_ingest_commits_total", "", "Group-commit transactions of the ingest writer." },
	[METRIC_INGEST_COMMITTED_EVENTS] = { "alertd_ingest_committed_events_total", "",
					     "Events sent in those transactions, including duplicates and repeat rounds (divide for the mean batch)." },
	[METRIC_ALERTS_CREATED] = { "alertd_alerts_created_total", "", "Alerts created for people (with their outbox rows)." },
	[METRIC_RETENTION_ACTIVATION_FAILURES] = { "alertd_retention_rows_total", "rule=\"activation_failures_audited\"",
						   "Rows deleted, erased or pseudonymised by the retention rules (docs/privacy.md)." },
	[METRIC_RETENTION_OUTBOX] = { "alertd_retention_rows_total", "rule=\"outbox_deleted\"", NULL },
	[METRIC_RETENTION_ALERTS] = { "alertd_retention_rows_total", "rule=\"alerts_deleted\"", NULL },
	[METRIC_RETENTION_DEVICE_TOKENS] = { "alertd_retention_rows_total", "rule=\"device_tokens_erased\"", NULL },
	[METRIC_RETENTION_ACTIVATION_CODES] = { "alertd_retention_rows_total", "rule=\"activation_codes_deleted\"", NULL },
	[METRIC_RETENTION_USERS] = { "alertd_retention_rows_total", "rule=\"users_pseudonymised\"", NULL },
	[METRIC_RETENTION_AUDIT] = { "alertd_retention_rows_total", "rule=\"audit_rows_pseudonymised\"", NULL },
	[METRIC_ACTIVATION_GLOBAL_LIMITED] = { "alertd_activation_global_limited_total", "",
					       "Activation attempts refused by the ceiling for all clients together." },
	[METRIC_STAFF_LOOKUP_QUOTA_EXCEEDED] = { "alertd_staff_lookup_quota_exceeded_total", "",
						 "Look-ups of personal data refused by staff.lookups_per_minute or per_day." },
	[METRIC_MAIL_SENT] = { "alertd_mail_total", "result=\"sent\",reason=\"none\"",
			       "Mail attempts by outcome and reason class (mail_outbox)." },
	[METRIC_MAIL_RETRY_CONNECT] = { "alertd_mail_total", "result=\"retry\",reason=\"connect\"", NULL },
	[METRIC_MAIL_RETRY_TLS] = { "alertd_mail_total", "result=\"retry\",reason=\"tls\"", NULL },
	[METRIC_MAIL_RETRY_AUTH] = { "alertd_mail_total", "result=\"retry\",reason=\"auth\"", NULL },
	[METRIC_MAIL_RETRY_TIMEOUT] = { "alertd_mail_total", "result=\"retry\",reason=\"timeout\"", NULL },
	[METRIC_MAIL_RETRY_TEMPORARY] = { "alertd_mail_total", "result=\"retry\",reason=\"temporary\"", NULL },
	[METRIC_MAIL_FAILED_PERMANENT] = { "alertd_mail_total", "result=\"failed\",reason=\"permanent\"", NULL },
	[METRIC_MAIL_FAILED_INVALID] = { "alertd_mail_total", "result=\"failed\",reason=\"invalid\"", NULL },
	[METRIC_MAIL_FAILED_ATTEMPTS] = { "alertd_mail_total", "result=\"failed\",reason=\"attempts\"", NULL },
};

void metrics_count(struct metrics *m, enum metrics_counter c, unsigned long long n)
{
	if ((unsigned)c < METRIC__COUNT)
		atomic_fetch_add_explicit(&m->counters[c], n, memory_order_relaxed);
}

void metrics_push(struct metrics *m, int provider, enum metrics_push_result result, int reason, unsigned long long n)
{
	if (provider >= 0 && provider < PUSH__PROVIDERS && (unsigned)result < METRICS_PUSH__RESULTS && reason >= 0 &&
	    reason < PUSH_R__COUNT)
		atomic_fetch_add_explicit(&m->push[provider][result][reason], n, memory_order_relaxed);
}

void metrics_push_token(struct metrics *m, int provider, bool ok)
{
	if (provider >= 0 && provider < PUSH__PROVIDERS)
		atomic_fetch_add_explicit(&m->push_tokens[provider][ok ? 1 : 0], 1, memory_order_relaxed);
}

void metrics_push_retired(struct metrics *m, int provider, unsigned long long n)
{
	if (provider >= 0 && provider < PUSH__PROVIDERS)
		atomic_fetch_add_explicit(&m->push_retired[provider], n, memory_order_relaxed);
}

void metrics_push_alarm(struct metrics *m, int reason)
{
	if (reason >= 0 && reason < PUSH_R__COUNT)
		atomic_fetch_add_explicit(&m->push_alarms[reason], 1, memory_order_relaxed);
}

void metrics_push_outbox(struct metrics *m, long long pending_due, long long oldest_due_age_seconds)
{
	atomic_store_explicit(&m->outbox_pending, pending_due, memory_order_relaxed);
	atomic_store_explicit(&m->outbox_oldest_age, oldest_due_age_seconds, memory_order_relaxed);
}

void metrics_escalations(struct metrics *m, long long open, long long oldest_epoch, long long acked, long long ack_ms_sum)
{
	atomic_store_explicit(&m->esc_open, open, memory_order_relaxed);
	atomic_store_explicit(&m->esc_oldest_epoch, oldest_epoch, memory_order_relaxed);
	atomic_store_explicit(&m->esc_acked, acked, memory_order_relaxed);
	atomic_store_explicit(&m->esc_ack_ms, ack_ms_sum, memory_order_relaxed);
}

static void render_escalations(struct metrics *m, struct buf *b)
{
	long long open = atomic_load_explicit(&m->esc_open, memory_order_relaxed);
	long long oldest = atomic_load_explicit(&m->esc_oldest_epoch, memory_order_relaxed);
	long long age = open > 0 && oldest > 0 ? (long long)time(NULL) - oldest : 0;

	buf_printf(b,
		   "# HELP alertd_escalations_unacknowledged Risk alerts escalated to an office and not acknowledged (whole database).\n"
		   "# TYPE alertd_escalations_unacknowledged gauge\n"
		   "alertd_escalations_unacknowledged %lld\n"
		   "# HELP alertd_escalation_oldest_unacknowledged_seconds Age of the oldest unacknowledged escalation.\n"
		   "# TYPE alertd_escalation_oldest_unacknowledged_seconds gauge\n"
		   "alertd_escalation_oldest_unacknowledged_seconds %lld\n"
		   "# HELP alertd_escalation_ack_seconds Time from escalation to acknowledgement (whole database).\n"
		   "# TYPE alertd_escalation_ack_seconds summary\n"
		   "alertd_escalation_ack_seconds_sum %.3f\n"
		   "alertd_escalation_ack_seconds_count %lld\n",
		   open, age < 0 ? 0 : age, (double)atomic_load_explicit(&m->esc_ack_ms, memory_order_relaxed) / 1000.0,
		   (long long)atomic_load_explicit(&m->esc_acked, memory_order_relaxed));
}

static void render_push(struct metrics *m, struct buf *b)
{
	static const char *const results[METRICS_PUSH__RESULTS] = { "sent", "retry", "failed" };

	buf_printf(b, "# HELP alertd_push_total Push attempts finished by this instance, by provider, result and reason.\n"
		      "# TYPE alertd_push_total counter\n");
	for (int p = 0; p < PUSH__PROVIDERS; p++)
		for (int r = 0; r < METRICS_PUSH__RESULTS; r++)
			for (int k = 0; k < PUSH_R__COUNT; k++) {
				unsigned long long v = atomic_load_explicit(&m->push[p][r][k], memory_order_relaxed);
				/* sent/ok always shown, so a dashboard has a series from the start */
				if (v || (r == METRICS_PUSH_SENT && k == PUSH_R_OK))
					buf_printf(b, "alertd_push_total{provider=\"%s\",result=\"%s\",reason=\"%s\"} %llu\n",
						   push_provider_name(p), results[r], push_reason_name(k), v);
			}
	buf_printf(b, "# HELP alertd_push_token_refreshes_total New FCM access tokens and APNs provider tokens, by result.\n"
		      "# TYPE alertd_push_token_refreshes_total counter\n");
	for (int p = 0; p < PUSH__PROVIDERS; p++)
		for (int ok = 1; ok >= 0; ok--)
			buf_printf(b, "alertd_push_token_refreshes_total{provider=\"%s\",result=\"%s\"} %llu\n",
				   push_provider_name(p), ok ? "ok" : "failed",
				   atomic_load_explicit(&m->push_tokens[p][ok], memory_order_relaxed));
	buf_printf(b, "# HELP alertd_push_devices_retired_total Devices retired because the provider called their token dead.\n"
		      "# TYPE alertd_push_devices_retired_total counter\n");
	for (int p = 0; p < PUSH__PROVIDERS; p++)
		buf_printf(b, "alertd_push_devices_retired_total{provider=\"%s\"} %llu\n", push_provider_name(p),
			   atomic_load_explicit(&m->push_retired[p], memory_order_relaxed));
	buf_printf(b, "# HELP alertd_push_alarms_total Provider answers an operator must act on (credentials, project).\n"
		      "# TYPE alertd_push_alarms_total counter\n");
	for (int k = 0; k < PUSH_R__COUNT; k++) {
		unsigned long long v = atomic_load_explicit(&m->push_alarms[k], memory_order_relaxed);
		if (v || k == PUSH_R_SENDER_ID_MISMATCH || k == PUSH_R_THIRD_PARTY_AUTH_ERROR || k == PUSH_R_AUTH)
			buf_printf(b, "alertd_push_alarms_total{reason=\"%s\"} %llu\n", push_reason_name(k), v);
	}
	buf_printf(b,
		   "# HELP alertd_push_outbox_due Outbox rows due now and not yet sent (whole database).\n"
		   "# TYPE alertd_push_outbox_due gauge\n"
		   "alertd_push_outbox_due %lld\n"
		   "# HELP alertd_push_outbox_oldest_due_seconds How long the oldest due outbox row has waited.\n"
		   "# TYPE alertd_push_outbox_oldest_due_seconds gauge\n"
		   "alertd_push_outbox_oldest_due_seconds %lld\n",
		   (long long)atomic_load_explicit(&m->outbox_pending, memory_order_relaxed),
		   (long long)atomic_load_explicit(&m->outbox_oldest_age, memory_order_relaxed));
}

static void render_counters(struct metrics *m, struct buf *b)
{
	for (int c = 0; c < METRIC__COUNT; c++) {
		if (counter_defs[c].help)
			buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", counter_defs[c].name, counter_defs[c].help,
				   counter_defs[c].name);
		unsigned long long v = atomic_load_explicit(&m->counters[c], memory_order_relaxed);
		if (counter_defs[c].labels[0])
			buf_printf(b, "%s{%s} %llu\n", counter_defs[c].name, counter_defs[c].labels, v);
		else
			buf_printf(b, "%s %llu\n", counter_defs[c].name, v);
	}
}

struct metrics *metrics_new(size_t nroutes)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nslots = nroutes + 1;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

void metrics_observe_request(struct metrics *m, size_t route_index, int status, double seconds)
{
	if (route_index >= m->nslots)
		route_index = m->nslots - 1;
	struct route_metrics *rm = &m->slots[route_index];
	if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_SLOTS)
		atomic_fetch_add_explicit(&rm->by_status[status - STATUS_MIN], 1, memory_order_relaxed);
	size_t b = 0;
	while (b < N_BUCKETS && seconds > bucket_bounds[b])
		b++;
	if (b < N_BUCKETS)
		atomic_fetch_add_explicit(&rm->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rm->count, 1, memory_order_relaxed);
	if (seconds < 0)
		seconds = 0;
	atomic_fetch_add_explicit(&rm->sum_us, (unsigned long long)(seconds * 1e6), memory_order_relaxed);
}

static void route_label(const struct route *routes, size_t nroutes, size_t i, char *out, size_t len)
{
	if (i < nroutes)
		snprintf(out, len, "method=\"%s\",route=\"%s\"", routes[i].method, routes[i].pattern);
	else
		snprintf(out, len, "method=\"\",route=\"unmatched\"");
}

char *metrics_render(struct metrics *m, const struct route *routes, size_t nroutes, struct db_pool *pool, size_t *len)
{
	struct buf b;
	char label[256];
	struct db_pool_stats ps;

	buf_init(&b, METRICS_MAX_TEXT);
	buf_printf(&b, "# HELP alertd_http_requests_total HTTP requests answered, by route and status.\n"
		       "# TYPE alertd_http_requests_total counter\n");
	for (size_t i = 0; i < m->nslots; i++) {
		route_label(routes, nroutes, i, label, sizeof(label));
		for (int s = 0; s < STATUS_SLOTS; s++) {
			unsigned long long v = atomic_load_explicit(&m->slots[i].by_status[s], memory_order_relaxed);
			if (v)
				buf_printf(&b, "alertd_http_requests_total{%s,status=\"%d\"} %llu\n", label,
					   s + STATUS_MIN, v);
		}
	}
	buf_printf(&b, "# HELP alertd_http_request_duration_seconds Time from request headers to response, by route.\n"
		       "# TYPE alertd_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < m->nslots; i++) {
		struct route_metrics *rm = &m->slots[i];
		unsigned long long count = atomic_load_explicit(&rm->count, memory_order_relaxed);
		if (count == 0)
			continue;
		route_label(routes, nroutes, i, label, sizeof(label));
		unsigned long long cum = 0;
		for (size_t k = 0; k < N_BUCKETS; k++) {
			cum += atomic_load_explicit(&rm->buckets[k], memory_order_relaxed);
			buf_printf(&b, "alertd_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", label,
				   bucket_bounds[k], cum);
		}
		/* count is read after the buckets, so +Inf is never below a finite bucket */
		if (count < cum)
			count = cum;
		buf_printf(&b, "alertd_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", label, count);
		buf_printf(&b, "alertd_http_request_duration_seconds_sum{%s} %.6f\n", label,
			   (double)atomic_load_explicit(&rm->sum_us, memory_order_relaxed) / 1e6);
		buf_printf(&b, "alertd_http_request_duration_seconds_count{%s} %llu\n", label, count);
	}
	render_counters(m, &b);
	render_push(m, &b);
	render_escalations(m, &b);
	db_pool_stats(pool, &ps);
	buf_printf(&b,
		   "# HELP alertd_db_pool_connections Database pool connections by state.\n"
		   "# TYPE alertd_db_pool_connections gauge\n"
		   "alertd_db_pool_connections{state=\"in_use\"} %d\n"
		   "alertd_db_pool_connections{state=\"idle\"} %d\n"
		   "# HELP alertd_db_pool_size Configured size of the database pool.\n"
		   "# TYPE alertd_db_pool_size gauge\n"
		   "alertd_db_pool_size %d\n",
		   ps.in_use, ps.size - ps.in_use, ps.size);
	return buf_steal(&b, len);
}
