/*
 * maintenance.h - periodic upkeep of the events table: monthly partitions
 * created ahead of time, and partitions past events.retention_months
 * dropped. Safe with several instances: each run takes a transaction-level
 * advisory lock and skips when another instance holds it.
 */
#ifndef ALERTD_MAINTENANCE_H
#define ALERTD_MAINTENANCE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct maintenance;

/*
 * One run on conn. *created and *dropped count partitions. *skipped is true
 * when another instance was running it. False with err on database errors.
 */
bool maintenance_run_once(PGconn *conn, const struct config *cfg, int *created, int *dropped, bool *skipped, char *err,
			  size_t errlen) __attribute__((warn_unused_result));

/*
 * Start the background thread: a run now, then every
 * events.maintenance_interval_seconds. collapse_key (for rerouted events'
 * alerts, see fanout.h; NULL: none) is borrowed and must outlive the thread.
 */
bool maintenance_start(const struct config *cfg, const unsigned char *collapse_key, struct maintenance **out)
	__attribute__((warn_unused_result));

/* Wake and join the thread; returns promptly even mid-interval. */
void maintenance_stop(struct maintenance *m);

#endif
