/*
 * dispatch_pipe.h - one dispatcher worker's pipeline: the claimed outbox
 * rows it holds, sent with a steady number of requests in flight, and the
 * outcomes waiting to be recorded.
 *
 * Rows are admitted as they are claimed (dispatch.c) and each is sent as
 * soon as it may be: a slow answer holds back only its own device. Rows of
 * one device go out one at a time, in admission order, urgent (lane high) first
 * within a claim (high-priority rows never carry a collapse key, so a balance
 * alert's latest row is still the last one sent). A row the provider did not
 * process (refused stream, GOAWAY, renewed credentials) is sent again at
 * once, at most DISPATCH_MAX_RESENDS times, then retried later like any
 * other failure. Each answer becomes an outcome at once; the worker records
 * them in bulk while sending goes on.
 */
#ifndef ALERTD_DISPATCH_PIPE_H
#define ALERTD_DISPATCH_PIPE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct metrics;
struct push_creds;
struct push_client;
struct curl_waitfd;

#define DISPATCH_MAX_RESENDS 2
/* A sibling revoked less than this long after a new activation still gets its warning (SQL text, minutes). */
#define DISPATCH_WARNING_GRACE_MINUTES "10"

/* The claim's columns, in order. */
enum dispatch_col {
	DISPATCH_COL_ID,
	DISPATCH_COL_PROVIDER,
	DISPATCH_COL_PRIORITY,
	DISPATCH_COL_COLLAPSE,
	DISPATCH_COL_ATTEMPTS,
	DISPATCH_COL_CREATED, /* unix seconds */
	DISPATCH_COL_ALERT,
	DISPATCH_COL_KIND,
	DISPATCH_COL_SEVERITY,
	DISPATCH_COL_TITLE,
	DISPATCH_COL_BODY,
	DISPATCH_COL_LANG,
	DISPATCH_COL_PRIVACY,
	DISPATCH_COL_DEVICE,
	DISPATCH_COL_DEVICE_STATE,
	DISPATCH_COL_TOKEN,
	DISPATCH_COL_WARN_REVOKED, /* "t": a new-device warning for a sibling revoked within the grace (dispatch.c) */
	DISPATCH_COL__COUNT
};

struct dispatch_ctx {
	const struct config *cfg;
	struct metrics *metrics;
	struct push_creds *creds;   /* NULL: the log provider */
	struct push_client *client; /* NULL: the log provider; borrowed */
};

struct dispatch_pipe;

/* A pipeline holding at most capacity rows (push.max_in_flight). NULL when out of memory. */
struct dispatch_pipe *dispatch_pipe_new(const struct dispatch_ctx *ctx, size_t capacity);

/* The configuration p reads from now on (a reload); called by p's own thread between steps. */
void dispatch_pipe_set_config(struct dispatch_pipe *p, const struct config *cfg);

/* Free p and the rows it holds (their leases run out; they are claimed again). */
void dispatch_pipe_free(struct dispatch_pipe *p);

/* Rows p can still take. */
size_t dispatch_pipe_room(const struct dispatch_pipe *p);

/* Rows held: waiting for their device or in flight. */
size_t dispatch_pipe_held(const struct dispatch_pipe *p);

/*
 * Take claimed rows (columns DISPATCH_COL_*; no more than the room). p owns
 * rows from here, whatever happens. No row of them is sent after
 * release_at (CLOCK_MONOTONIC seconds): the outcome must be recorded before
 * the lease runs out, or another worker would claim and send the row again;
 * rows not sent by then are released unsent (due at once, the attempt not
 * counted). False when out of memory: the rows are dropped unsent and their
 * leases run out.
 */
bool dispatch_pipe_admit(struct dispatch_pipe *p, PGresult *rows, double release_at);

/*
 * Start every row that may go now, wait up to timeout_ms for answers or for
 * one of the extra descriptors (their revents are set), and turn the
 * answers into outcomes. With stop, waiting rows are released unsent and
 * only the requests in flight are finished.
 */
void dispatch_pipe_step(struct dispatch_pipe *p, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms, bool stop);

/* Outcomes waiting to be taken, and the CLOCK_MONOTONIC time the oldest was made (0 if none). */
size_t dispatch_pipe_outcomes_ready(const struct dispatch_pipe *p, double *oldest);

/*
 * The outcomes made so far, for recording: a JSON array of {id, state, mid,
 * err, delay?, unsent?, dev?, tok?, prov?} (delay: seconds until the row is
 * due again; unsent: released without an attempt; dev/tok/prov: retire this
 * device if it still holds this token). Logs the operator alarms they
 * raised. The caller owns the array; NULL when none is ready or out of
 * memory (then the outcomes are kept for the next call).
 */
json_t *dispatch_pipe_take_outcomes(struct dispatch_pipe *p);

/*
 * Delay before attempt attempts+1: base * 2^(attempts-1), at most max, then
 * jittered into [half, whole] by unit_random in [0,1), and never less than
 * retry_after (seconds the provider asked for; -1 none). Pure.
 */
double dispatch_backoff(long long base, long long max, int attempts, long long retry_after, double unit_random);

#endif
