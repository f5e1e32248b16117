/*
 * metrics.h - per-instance Prometheus metrics: HTTP requests by route and
 * status, a latency histogram per route, and database pool usage.
 *
 * Counters are lock-free atomics so the request path never blocks on them.
 */
#ifndef ALERTD_METRICS_H
#define ALERTD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct metrics;
struct route;
struct db_pool;

/* Plain counters outside the per-route request metrics. */
enum metrics_counter {
	METRIC_INGEST_ACCEPTED,
	METRIC_INGEST_DUPLICATE,
	METRIC_INGEST_CONFLICT,
	METRIC_INGEST_REJECTED,	  /* failed validation */
	METRIC_INGEST_NOT_STORED, /* database unavailable (before COMMIT) or refused */
	METRIC_INGEST_RATE_LIMITED,
	METRIC_INGEST_OUT_OF_SCOPE,    /* for a unit outside the source's scope: refused, audited */
	METRIC_INGEST_OUTCOME_UNKNOWN, /* the connection broke during COMMIT */
	METRIC_INGEST_UNROUTED,	       /* accepted for a unit not (yet) in the roster */
	METRIC_INGEST_COMMITS,
	METRIC_INGEST_COMMITTED_EVENTS,
	METRIC_ALERTS_CREATED,
	/* rows changed by the retention rules (db/retention.h), by this instance's maintenance */
	METRIC_RETENTION_ACTIVATION_FAILURES,
	METRIC_RETENTION_OUTBOX,
	METRIC_RETENTION_ALERTS,
	METRIC_RETENTION_DEVICE_TOKENS,
	METRIC_RETENTION_ACTIVATION_CODES,
	METRIC_RETENTION_USERS,
	METRIC_RETENTION_AUDIT,
	METRIC_ACTIVATION_GLOBAL_LIMITED,   /* activation attempts refused by app.activation_global_per_minute */
	METRIC_STAFF_LOOKUP_QUOTA_EXCEEDED, /* personal-data look-ups refused by staff.lookups_per_* */
	/* mail_outbox rows by outcome and reason class (mail/worker.c) */
	METRIC_MAIL_SENT,
	METRIC_MAIL_RETRY_CONNECT,
	METRIC_MAIL_RETRY_TLS,
	METRIC_MAIL_RETRY_AUTH,
	METRIC_MAIL_RETRY_TIMEOUT,
	METRIC_MAIL_RETRY_TEMPORARY,
	METRIC_MAIL_FAILED_PERMANENT,
	METRIC_MAIL_FAILED_INVALID,
	METRIC_MAIL_FAILED_ATTEMPTS,
	METRIC__COUNT
};

void metrics_count(struct metrics *m, enum metrics_counter c, unsigned long long n);

/*
 * Push dispatch (indices from push.h: provider enum push_provider, reason
 * enum push_reason; result 0 sent, 1 retry, 2 failed). Out-of-range indices
 * are ignored.
 */
enum metrics_push_result { METRICS_PUSH_SENT, METRICS_PUSH_RETRY, METRICS_PUSH_FAILED, METRICS_PUSH__RESULTS };
void metrics_push(struct metrics *m, int provider, enum metrics_push_result result, int reason, unsigned long long n);
void metrics_push_token(struct metrics *m, int provider, bool ok);
void metrics_push_retired(struct metrics *m, int provider, unsigned long long n);
void metrics_push_alarm(struct metrics *m, int reason);
/* The outbox as the dispatcher last saw it (shared by all instances on the database). */
void metrics_push_outbox(struct metrics *m, long long pending_due, long long oldest_due_age_seconds);
/*
 * Escalations as the last tick read them from the database (all instances
 * agree): open ones, the oldest open one's creation (epoch seconds, 0:
 * none; its age is computed when rendered), acknowledgements and their
 * total time to acknowledgement in milliseconds.
 */
void metrics_escalations(struct metrics *m, long long open, long long oldest_epoch, long long acked, long long ack_ms_sum);

/* One slot per route plus one for requests that matched no route. NULL on OOM. */
struct metrics *metrics_new(size_t nroutes);
void metrics_free(struct metrics *m);

/* route_index == nroutes means "no route matched". status 100-599. */
void metrics_observe_request(struct metrics *m, size_t route_index, int status, double seconds);

/*
 * Render the text exposition format. Returns a malloc'd string the caller
 * frees, or NULL on allocation failure.
 */
char *metrics_render(struct metrics *m, const struct route *routes, size_t nroutes, struct db_pool *pool, size_t *len);

#endif
