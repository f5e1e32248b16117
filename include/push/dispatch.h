/*
 * dispatch.h - the push dispatcher: empties push_outbox.
 *
 * Worker threads claim due rows in batches with FOR UPDATE SKIP LOCKED and
 * a lease (leased_until, leased_by), so several alertd instances on one
 * database never send the same row concurrently, and a crashed instance's
 * rows are claimed again once their lease expires. New rows wake the
 * workers at once through LISTEN/NOTIFY (channel alertd_outbox, notified
 * by the fan-out's transaction on commit); polling is the fallback.
 * Outcomes are recorded in bulk, with the alert's delivery state, in one
 * transaction per batch.
 */
#ifndef ALERTD_DISPATCH_H
#define ALERTD_DISPATCH_H

#include <stdbool.h>

struct config;
struct metrics;
struct dispatcher;
struct config_live;
struct secrets_kek;

/*
 * Start push.workers threads. instance names this process in leased_by.
 * Each thread reads the reloadable push options from live (core/reload.h),
 * which must outlive the dispatcher. kek (copied; NULL without
 * secrets.key_file) seals the APNs provider token the instances share.
 */
bool dispatch_start(const struct config *cfg, struct config_live *live, struct metrics *metrics,
		    const struct secrets_kek *kek, const char *instance, struct dispatcher **out)
	__attribute__((warn_unused_result));

/* Stop claiming, finish the batches in hand, join the threads, free d. */
void dispatch_stop(struct dispatcher *d);

#endif
