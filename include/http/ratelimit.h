/*
 * ratelimit.h - token buckets keyed by a 64-bit id (an ingest source).
 *
 * Buckets live in this instance's memory: with several instances behind a
 * load balancer each enforces its own limit, so the effective service-wide
 * limit is rate x instances. That is deliberate: the limit protects this
 * process and the database, and losing it on restart loses nothing.
 */
#ifndef ALERTD_RATELIMIT_H
#define ALERTD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;
struct clock_source;

/*
 * rate tokens per second, at most burst stored, timed by clock's monotonic
 * time (NULL: the system clocks; a test passes its own, which must outlive
 * the limiter). NULL on allocation failure.
 */
struct ratelimit *ratelimit_new(double rate, double burst, const struct clock_source *clock);
void ratelimit_free(struct ratelimit *rl);

/*
 * Take n tokens for key now. Returns true when granted. When
 * refused, *retry_after_s is the whole number of seconds (at least 1) after
 * which the request would be granted. Requests larger than the burst are
 * measured against a full bucket, so they are never refused forever.
 */
bool ratelimit_take(struct ratelimit *rl, int64_t key, double n, int *retry_after_s);

#endif
