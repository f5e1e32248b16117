/*
 * fanout.h - turn stored events into alerts for people and push outbox rows
 * for their phones, inside the transaction that stores the events.
 *
 * For each routed event: every active user of the unit is a recipient
 * (whatever roles they hold, one alert per event); the risk rules decide
 * the severity; the user's language, min_amount, toggles and quiet hours
 * decide what is said and when it is due (risk alerts ignore the last
 * three); one outbox row per active device.
 */
#ifndef ALERTD_FANOUT_H
#define ALERTD_FANOUT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/*
 * The key balance alerts' collapse keys are made with (tokens_collapse_key):
 * "bal-" and 32 hex digits of an HMAC-SHA256 of the account under it, so
 * Google and Apple see a stable, opaque id per account, never the account.
 * Callers pass it borrowed, or NULL when no KEK is configured: balance
 * alerts then get no collapse key (each is shown; nothing leaks).
 */
#define FANOUT_COLLAPSE_KEY_BYTES 32

struct fanout_event {
	long long event_id;
	long long source_id; /* the rules' history is this source's events only */
	const char *unit_code;
	const json_t *event; /* the event object as received (borrowed) */
};

/*
 * Create the alerts and outbox rows for events on conn, which must be inside
 * the caller's transaction (the caller commits or rolls back). *alerts
 * receives how many alerts were created. False on a database error (logged).
 */
bool fanout_events(PGconn *conn, const struct config *cfg, const unsigned char *collapse_key,
		   const struct fanout_event *events, size_t n, long long *alerts) __attribute__((warn_unused_result));

/*
 * Route events stored while their unit was unknown, now that it is known:
 * those younger than alerts.reroute_max_age_hours get alerts, older ones are
 * only marked routed. Runs its own transaction on conn. *routed receives the
 * number of events routed. False on database error.
 */
bool fanout_reroute(PGconn *conn, const struct config *cfg, const unsigned char *collapse_key, long long *routed,
		    long long *alerts) __attribute__((warn_unused_result));

#endif
