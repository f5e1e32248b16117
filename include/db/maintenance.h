/*
 * maintenance.h - periodic upkeep: monthly event partitions created ahead
 * of time, partitions past events.retention_months dropped, and the
 * personal-data retention rules (retention.h). Safe with several instances:
 * each run holds an advisory lock for its whole length and is skipped when
 * another instance holds it.
 */
#ifndef ALERTD_MAINTENANCE_H
#define ALERTD_MAINTENANCE_H

#include "db/retention.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct maintenance;
struct config_live;
struct metrics;

struct maintenance_report {
	bool skipped; /* another instance was running it: nothing done */
	int partitions_created, partitions_dropped;
	struct retention_counts retention;
	long long staff_disabled; /* staff accounts disabled for inactivity (auth.inactive_disable_days) */
};

/*
 * One run on conn (outside any transaction): partitions in one
 * transaction, then the retention rules in batches. pseudonym_key as
 * retention_run() takes it (NULL without a KEK). False with err on
 * database errors; *out then still counts what was committed.
 */
bool maintenance_run_once(PGconn *conn, const struct config *cfg, const unsigned char *pseudonym_key,
			  struct maintenance_report *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Recompute coverage (alertd_coverage_refresh, migration 0014) with the
 * window coverage.active_days, then write today's snapshot per office if not
 * written yet and bring the worklist in step (worklist_sync), in one
 * transaction on conn (outside any). try_lock: skip (*skipped,
 * true returned) when another instance is refreshing; otherwise wait for
 * it. *rows gets the coverage_units rows written. False on database errors
 * (rolled back; PQerrorMessage(conn) says why).
 */
bool maintenance_coverage_refresh(PGconn *conn, const struct config *cfg, bool try_lock, int *rows, bool *skipped)
	__attribute__((warn_unused_result));

/*
 * Start the background thread: a run now, then every
 * events.maintenance_interval_seconds, and a coverage refresh now, then
 * every coverage.refresh_seconds, and an escalation pass (escalation.h) now,
 * then every escalation.check_seconds; what retention changed is counted
 * in metrics. collapse_key (for rerouted events' alerts, see fanout.h; NULL:
 * none) is borrowed and must outlive the thread; pseudonym_key (NULL
 * without a KEK) is copied. The thread reads its options from a snapshot of
 * live (core/reload.h) taken at each pass; live must outlive it.
 */
bool maintenance_start(struct config_live *live, struct metrics *metrics, const unsigned char *collapse_key,
		       const unsigned char *pseudonym_key, struct maintenance **out) __attribute__((warn_unused_result));

/*
 * After a reload: the thread takes the new snapshot of live now and times
 * each job's next start by its new interval from its last start.
 */
void maintenance_wake(struct maintenance *m);

/* Wake and join the thread; returns promptly even mid-interval. */
void maintenance_stop(struct maintenance *m);

#endif
