/*
 * clock.h - the time sources alertd reads, and Vietnam's civil time.
 *
 * Two clocks, never mixed: monotonic time for anything that measures an
 * interval (rate limits, timeouts, cache lifetimes, backoff), because the
 * wall clock can step backwards or forwards under NTP or an operator; and
 * wall time (UTC) for what is stored or shown. Code that must be tested
 * against clock steps takes a struct clock_source instead of calling these
 * directly.
 */
#ifndef ALERTD_CLOCK_H
#define ALERTD_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Asia/Ho_Chi_Minh is UTC+7 all year: Vietnam has no daylight saving time. */
#define CLOCK_VN_OFFSET_SECONDS (7 * 3600)
#define CLOCK_VN_OFFSET_US ((int64_t)CLOCK_VN_OFFSET_SECONDS * 1000000)
#define CLOCK_VN_TIME_ZONE "Asia/Ho_Chi_Minh"

/* Microseconds since an arbitrary fixed point; never goes backwards. */
int64_t clock_mono_us(void);

/* clock_mono_us() in milliseconds. */
int64_t clock_mono_ms(void);

/* clock_mono_us() in seconds, for arithmetic on fractional delays. */
double clock_mono_seconds(void);

/* Microseconds since the Unix epoch, UTC. May step in either direction. */
int64_t clock_wall_us(void);

/*
 * Initialise cond so that pthread_cond_timedwait() measures its deadline on
 * CLOCK_MONOTONIC: a wall-clock step then neither stretches nor cuts a wait.
 * False (cond untouched) on failure.
 */
bool clock_cond_init(pthread_cond_t *cond) __attribute__((warn_unused_result));

/* An absolute CLOCK_MONOTONIC deadline us microseconds from now, for a condition made by clock_cond_init(). */
void clock_mono_deadline(struct timespec *out, int64_t us);

/*
 * A pair of clocks that can be replaced in tests. Both functions get arg.
 * clock_system() returns the real clocks above (static, never freed).
 */
struct clock_source {
	int64_t (*mono_us)(void *arg);
	int64_t (*wall_us)(void *arg);
	void *arg;
};

const struct clock_source *clock_system(void);

#endif
