/*
 * ratelimit.h - token buckets keyed by a 64-bit id (an ingest source, a
 * hashed client address or login).
 *
 * Buckets live in this instance's memory: with several instances behind a
 * load balancer each enforces its own limit, so the effective service-wide
 * limit is rate x instances. That is deliberate: the limit protects this
 * process and the database, and losing it on restart loses nothing.
 *
 * A full table never hands out a fresh burst. The table tracks at most
 * RATELIMIT_SLOTS keys; a key not in it is bounded by one shared "spill"
 * bucket (same rate and burst), which starts full. When a new key needs a
 * slot and none is free, the bucket whose forgetting costs least (the most
 * tokens, then the least recently used) is recycled, and the spill bucket is
 * lowered to that bucket's tokens if it had fewer; a new key starts with the
 * spill bucket's tokens and takes them with it (the spill bucket is emptied),
 * unless the recycled bucket had refilled completely. So a key pushed out and coming back gets at most
 * what it had when it was forgotten plus the normal refill since, and an
 * attacker cycling many keys (IPv6 addresses) through a table of drained
 * buckets gets nothing beyond the refill rate, whether the keys are new or
 * recycled. While buckets are idle and full again, forgetting them loses
 * nothing and new keys get their burst at once. The cost, under such an
 * attack, is that keys new to the table or pushed out of it share the spill
 * bucket's refill (fail-closed); a refused request's Retry-After says when
 * its key has the tokens.
 */
#ifndef ALERTD_RATELIMIT_H
#define ALERTD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Keys a limiter tracks at once. */
#define RATELIMIT_SLOTS 256

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
 * Change rate and burst while threads take tokens (configuration reload).
 * Buckets keep their tokens, cut to the new burst; NULL rl is ignored.
 */
void ratelimit_set(struct ratelimit *rl, double rate, double burst);

/*
 * Take n tokens for key now. Returns true when granted. When
 * refused, *retry_after_s is the whole number of seconds (at least 1) after
 * which the request would be granted. Requests larger than the burst are
 * measured against a full bucket, so they are never refused forever.
 */
bool ratelimit_take(struct ratelimit *rl, int64_t key, double n, int *retry_after_s);

/*
 * The bucket key of a client address (text as in http_req.remote). One
 * subscriber holds a whole IPv6 /64, so an IPv6 address is keyed by its
 * first 64 bits, or else rotating through the prefix would give a fresh
 * bucket per request; an IPv4 address (also when IPv4-mapped) by all 32.
 * Text that is not an address is keyed as it is.
 */
int64_t ratelimit_address_key(const char *addr);

/* The bucket key of any other text, such as a login. */
int64_t ratelimit_text_key(const char *text);

#endif
