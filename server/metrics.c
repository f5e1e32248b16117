/*
 * metrics.c - Prometheus text exposition of request counters, latency
 * histograms and pool gauges.
 */
#include "metrics.h"
#include "buf.h"
#include "db.h"
#include "router.h"

#include <stdatomic.h>
#include <stdlib.h>

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
	[METRIC_INGEST_UNROUTED] = { "alertd_ingest_unrouted_events_total", "",
				     "Accepted events whose unit is not in the roster (stored, not routed)." },
	[METRIC_INGEST_COMMITS] = { "alertd_ingest_commits_total", "", "Group-commit transactions of the ingest writer." },
	[METRIC_INGEST_COMMITTED_EVENTS] = { "alertd_ingest_committed_events_total", "",
					     "Events sent in those transactions, including duplicates and repeat rounds (divide for the mean batch)." },
	[METRIC_ALERTS_CREATED] = { "alertd_alerts_created_total", "", "Alerts created for people (with their outbox rows)." },
	[METRIC_PUSH_SENT] = { "alertd_push_total", "result=\"sent\"", "Outbox rows finished by this instance's dispatcher." },
	[METRIC_PUSH_FAILED] = { "alertd_push_total", "result=\"failed\"", NULL },
};

void metrics_count(struct metrics *m, enum metrics_counter c, unsigned long long n)
{
	if ((unsigned)c < METRIC__COUNT)
		atomic_fetch_add_explicit(&m->counters[c], n, memory_order_relaxed);
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

char *metrics_render(struct metrics *m, const struct route *routes, size_t nroutes,
		     struct db_pool *pool, size_t *len)
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
				buf_printf(&b, "alertd_http_requests_total{%s,status=\"%d\"} %llu\n", label, s + STATUS_MIN, v);
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
	db_pool_stats(pool, &ps);
	buf_printf(&b, "# HELP alertd_db_pool_connections Database pool connections by state.\n"
		       "# TYPE alertd_db_pool_connections gauge\n"
		       "alertd_db_pool_connections{state=\"in_use\"} %d\n"
		       "alertd_db_pool_connections{state=\"idle\"} %d\n"
		       "# HELP alertd_db_pool_size Configured size of the database pool.\n"
		       "# TYPE alertd_db_pool_size gauge\n"
		       "alertd_db_pool_size %d\n",
		   ps.in_use, ps.size - ps.in_use, ps.size);
	return buf_steal(&b, len);
}
