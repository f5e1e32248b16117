/*
 * dispatch_send.h - sending one claimed batch of outbox rows and turning the
 * providers' answers into the outcomes dispatch.c records.
 *
 * Rows of one device go out high priority first, then in outbox order: a
 * batch is sent in rounds, each round carrying at most one row per device,
 * all rows of a round multiplexed at once. (High-priority rows never carry a
 * collapse key, so a balance alert's latest row is still the last one sent.) A row the provider did not process (refused stream, GOAWAY,
 * renewed credentials) is sent again in the next round, at most
 * DISPATCH_MAX_RESENDS times, then retried later like any other failure.
 */
#ifndef ALERTD_DISPATCH_SEND_H
#define ALERTD_DISPATCH_SEND_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

struct config;
struct metrics;
struct push_creds;
struct push_client;

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
	struct push_client *client; /* NULL: the log provider */
	/*
	 * No round starts after this (CLOCK_MONOTONIC seconds) or once stopping()
	 * says so: the batch must be recorded before its lease runs out, or
	 * another worker would claim and send it again. Rows not sent by then are
	 * released unsent (due at once, the attempt not counted).
	 */
	double round_deadline;
	bool (*stopping)(void *arg);
	void *stopping_arg;
};


/*
 * Send the claimed rows and return the outcomes for recording: a JSON array
 * of {id, alert, state, mid, err, delay?, unsent?, dev?, tok?} (delay:
 * seconds until the row is due again; unsent: released without an attempt;
 * dev/tok: retire this device if it still holds this token). Counts metrics and raises operator alarms. NULL only when out of
 * memory (nothing is recorded then; the leases expire and the rows are
 * claimed again). The caller frees the array.
 */
json_t *dispatch_send_batch(const struct dispatch_ctx *ctx, PGresult *rows);

/*
 * Delay before attempt attempts+1: base * 2^(attempts-1), at most max, then
 * jittered into [half, whole] by unit_random in [0,1), and never less than
 * retry_after (seconds the provider asked for; -1 none). Pure.
 */
double dispatch_backoff(long long base, long long max, int attempts, long long retry_after, double unit_random);

#endif
