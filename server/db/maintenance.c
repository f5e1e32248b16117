/*
 * maintenance.c - partition upkeep for events and the retention rules
 * (see maintenance.h).
 *
 * Month boundaries follow the database functions from 0002: midnight in
 * Asia/Ho_Chi_Minh, so "this month" here is the treasury's month.
 */
#include "mail/reminders.h"
#include "db/maintenance.h"
#include "core/clock.h"
#include "core/config.h"
#include "db/db.h"
#include "alerts/fanout.h"
#include "core/log.h"
#include "core/metrics.h"
#include "staff/accounts.h"
#include "staff/escalation.h"
#include "staff/lookups.h"
#include "staff/worklist.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* distinct from the migration lock key */
#define MAINTENANCE_LOCK_KEY "107356483593317"
/* the most units the reminder rule mails per run; the rest wait for the next run */
#define MAINTENANCE_REMINDER_UNITS 200
/* the coverage refresh's transaction lock; alertd_coverage_refresh() (0014) takes the same key */
#define COVERAGE_LOCK_KEY "107356483593318"
#define TODAY_VN "(now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

struct maintenance {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	const struct config *cfg;
	const unsigned char *collapse_key; /* borrowed; NULL: none */
	struct metrics *metrics;
	unsigned char key[32]; /* the pseudonym key, when key_set */
	bool key_set;
};

static int single_int(PGconn *conn, const char *sql, int nparams, const char *const *params, bool *ok)
{
	PGresult *res = db_exec(conn, sql, nparams, params);
	int v = 0;

	*ok = res && PQntuples(res) == 1;
	if (*ok)
		v = PQgetisnull(res, 0, 0)
			    ? 0
			    : (strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1 : (int)strtol(PQgetvalue(res, 0, 0), NULL, 10));
	PQclear(res);
	return v;
}

/* Best effort: on a broken connection the server has released the lock already. */
static void unlock(PGconn *conn)
{
	PQclear(db_exec(conn, "SELECT pg_advisory_unlock(" MAINTENANCE_LOCK_KEY ")", 0, NULL));
}

bool maintenance_run_once(PGconn *conn, const struct config *cfg, const unsigned char *pseudonym_key,
			  struct maintenance_report *out, char *err, size_t errlen)
{
	char months[24], retention[24];
	bool ok, locked = false;

	memset(out, 0, sizeof(*out));
	snprintf(months, sizeof(months), "%lld", cfg->events_partitions_ahead_months + 1);
	snprintf(retention, sizeof(retention), "%lld", cfg->events_retention_months);
	/* a session lock: the retention batches after the partitions commit one by one under it */
	locked = single_int(conn, "SELECT pg_try_advisory_lock(" MAINTENANCE_LOCK_KEY ")", 0, NULL, &ok);
	if (!ok)
		goto fail;
	if (!locked) {
		out->skipped = true; /* another instance holds the lock */
		return true;
	}
	if (!db_begin(conn))
		goto fail;
	const char *p1[1] = { months };
	out->partitions_created =
		single_int(conn, "SELECT alertd_ensure_event_partitions(" TODAY_VN ", $1::int)", 1, p1, &ok);
	if (!ok)
		goto fail;
	if (cfg->events_retention_months > 0) {
		const char *p2[1] = { retention };
		out->partitions_dropped = single_int(conn,
						     "SELECT alertd_drop_event_partitions_before((" TODAY_VN
						     " - make_interval(months => $1::int))::date)",
						     1, p2, &ok);
		if (!ok)
			goto fail;
	}
	if (!db_commit(conn))
		goto fail;
	ok = retention_run(conn, cfg, pseudonym_key, &out->retention, err, errlen);
	/* under the same lock: two instances never disable (and audit) the same account twice */
	if (ok && !staff_accounts_disable_inactive(conn, cfg->auth_inactive_disable_days, &out->staff_disabled)) {
		snprintf(err, errlen, "disabling inactive staff accounts failed: %s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		ok = false;
	}
	/* the look-up meter's windows that have ended (staff/lookups.h) */
	long long lookup_rows = 0;
	if (ok && !staff_lookups_cleanup(conn, &lookup_rows)) {
		snprintf(err, errlen, "deleting ended look-up windows failed: %s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		ok = false;
	}
	/* the scheduled reminder rule (mail/reminders.h), off unless mail.auto_reminders; one instance at a time */
	long long reminders = 0;
	if (ok && cfg->mail_auto_reminders && !mail_reminders_auto(conn, cfg, MAINTENANCE_REMINDER_UNITS, &reminders)) {
		snprintf(err, errlen, "automatic reminders failed: %s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		ok = false;
	}
	unlock(conn);
	return ok;
fail:
	snprintf(err, errlen, "partition maintenance failed: %s", PQerrorMessage(conn));
	err[strcspn(err, "\n")] = '\0';
	db_rollback(conn);
	if (locked)
		unlock(conn);
	return false;
}

/* Metrics and one log line for what a run's retention rules changed. */
static void report_retention(struct metrics *metrics, const struct retention_counts *c)
{
	static const enum metrics_counter counter[RETENTION__RULES] = {
		[RETENTION_ACTIVATION_FAILURES] = METRIC_RETENTION_ACTIVATION_FAILURES,
		[RETENTION_OUTBOX] = METRIC_RETENTION_OUTBOX,
		[RETENTION_ALERTS] = METRIC_RETENTION_ALERTS,
		[RETENTION_DEVICE_TOKENS] = METRIC_RETENTION_DEVICE_TOKENS,
		[RETENTION_ACTIVATION_CODES] = METRIC_RETENTION_ACTIVATION_CODES,
		[RETENTION_USERS] = METRIC_RETENTION_USERS,
		[RETENTION_AUDIT] = METRIC_RETENTION_AUDIT,
	};
	long long any = 0;

	for (int r = 0; r < RETENTION__RULES; r++) {
		if (metrics && c->rows[r] > 0)
			metrics_count(metrics, counter[r], (unsigned long long)c->rows[r]);
		any += c->rows[r];
	}
	LOG_FIELDS(any ? LOG_INFO : LOG_DEBUG, "retention applied",
		   LOG_I(retention_rule_name(RETENTION_ACTIVATION_FAILURES), c->rows[RETENTION_ACTIVATION_FAILURES]),
		   LOG_I(retention_rule_name(RETENTION_OUTBOX), c->rows[RETENTION_OUTBOX]),
		   LOG_I(retention_rule_name(RETENTION_ALERTS), c->rows[RETENTION_ALERTS]),
		   LOG_I(retention_rule_name(RETENTION_DEVICE_TOKENS), c->rows[RETENTION_DEVICE_TOKENS]),
		   LOG_I(retention_rule_name(RETENTION_ACTIVATION_CODES), c->rows[RETENTION_ACTIVATION_CODES]),
		   LOG_I(retention_rule_name(RETENTION_USERS), c->rows[RETENTION_USERS]),
		   LOG_I(retention_rule_name(RETENTION_AUDIT), c->rows[RETENTION_AUDIT]));
}

/*
 * Claims this period's maintenance run for this instance (job_runs, 0026):
 * true when no instance started one in the last 90% of the interval (the
 * margin lets a timer that fires a little early still run). One statement,
 * so the row lock serialises instances that wake together. False on a
 * database error too (db_exec logs it): the next interval tries again.
 */
static bool maintenance_claim_period(PGconn *conn, long long interval_seconds)
{
	char secs[24];
	const char *p[1] = { secs };

	snprintf(secs, sizeof(secs), "%lld", interval_seconds * 9 / 10);
	PGresult *res = db_exec(conn,
				"INSERT INTO job_runs (job, last_started_at) VALUES ('maintenance', now()) "
				"ON CONFLICT (job) DO UPDATE SET last_started_at = now(), runs = job_runs.runs + 1 "
				"WHERE job_runs.last_started_at <= now() - make_interval(secs => $1::int) RETURNING runs",
				1, p);
	bool due = res && PQntuples(res) == 1; /* NULL: db_exec logged the error */
	PQclear(res);
	return due;
}

static void run(const struct maintenance *m)
{
	const struct config *cfg = m->cfg;
	char err[512];
	struct maintenance_report rep = { .skipped = true };
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);

	if (!conn)
		return; /* logged by db_connect; the next interval tries again */
	/* once per period across all instances, not once per instance; `alertd maintenance` always runs */
	bool ok = !maintenance_claim_period(conn, cfg->events_maintenance_interval_seconds) ||
		  maintenance_run_once(conn, cfg, m->key_set ? m->key : NULL, &rep, err, sizeof(err));
	if (!ok)
		log_error("%s", err);
	if (!rep.skipped) {
		LOG_FIELDS(rep.partitions_created || rep.partitions_dropped ? LOG_INFO : LOG_DEBUG,
			   "event partition maintenance", LOG_I("partitions_created", rep.partitions_created),
			   LOG_I("partitions_dropped", rep.partitions_dropped));
		report_retention(m->metrics, &rep.retention);
		if (rep.staff_disabled > 0)
			LOG_FIELDS(LOG_INFO, "staff accounts disabled for inactivity", LOG_I("accounts", rep.staff_disabled));
	}
	/* a unit added to the roster by any means gets its waiting events routed */
	long long routed = 0, alerts = 0;
	if (fanout_reroute(conn, cfg, m->collapse_key, &routed, &alerts) && routed > 0) {
		LOG_FIELDS(LOG_INFO, "routed events of units new to the roster", LOG_I("events_routed", routed),
			   LOG_I("alerts_created", alerts));
	}
	PQfinish(conn);
}

bool maintenance_coverage_refresh(PGconn *conn, const struct config *cfg, bool try_lock, int *rows, bool *skipped)
{
	char days[24];
	const char *p[1] = { days };
	bool ok;

	*rows = 0;
	*skipped = false;
	snprintf(days, sizeof(days), "%lld", cfg->coverage_active_days);
	if (!db_begin(conn))
		goto fail;
	/* -1: another instance holds the lock (the function itself waits for it when called directly) */
	int n = single_int(conn,
			   try_lock ? "SELECT CASE WHEN pg_try_advisory_xact_lock(" COVERAGE_LOCK_KEY
				      ") THEN alertd_coverage_refresh($1::int) ELSE -1 END"
				    : "SELECT alertd_coverage_refresh($1::int)",
			   1, p, &ok);
	if (!ok)
		goto fail;
	if (n < 0) {
		*skipped = true;
		db_rollback(conn);
		return true;
	}
	/* today's row per office, once (ON CONFLICT DO NOTHING): the first refresh of the Vietnam day writes it */
	single_int(conn, "SELECT alertd_coverage_snapshot(" TODAY_VN ")", 0, NULL, &ok);
	/* the worklist follows the figures just computed, in the same transaction (staff/worklist.h) */
	if (ok)
		ok = worklist_sync(conn, cfg, NULL);
	if (!ok || !db_commit(conn))
		goto fail;
	*rows = n;
	return true;
fail:
	db_rollback(conn);
	return false;
}

static bool mono_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* One coverage refresh (and the day's snapshot), on its own connection. */
static void refresh_coverage(const struct maintenance *m)
{
	const struct config *cfg = m->cfg;
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	int rows;
	bool skipped;

	if (!conn)
		return;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!maintenance_coverage_refresh(conn, cfg, true, &rows, &skipped)) {
		char err[256];
		snprintf(err, sizeof(err), "%s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		log_error("coverage refresh failed: %s", err);
	} else if (!skipped) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long long ms = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000LL;
		LOG_FIELDS(LOG_DEBUG, "coverage refreshed", LOG_I("units_changed", rows), LOG_I("ms", ms));
	}
	PQfinish(conn);
}

static void *maintenance_main(void *arg)
{
	struct maintenance *m = arg;
	struct timespec next_run, next_coverage, next_escalation;

	/* all at start-up, then each on its own interval */
	clock_mono_deadline(&next_run, 0);
	clock_mono_deadline(&next_coverage, 0);
	clock_mono_deadline(&next_escalation, 0);
	for (;;) {
		struct timespec now;
		clock_mono_deadline(&now, 0);
		if (!mono_before(&now, &next_escalation)) {
			escalation_tick(m->cfg, m->metrics);
			clock_mono_deadline(&next_escalation, m->cfg->escalation_check_seconds * 1000000LL);
		}
		if (!mono_before(&now, &next_coverage)) {
			refresh_coverage(m);
			clock_mono_deadline(&next_coverage, m->cfg->coverage_refresh_seconds * 1000000LL);
		}
		if (!mono_before(&now, &next_run)) {
			run(m);
			clock_mono_deadline(&next_run, m->cfg->events_maintenance_interval_seconds * 1000000LL);
		}
		const struct timespec *until = mono_before(&next_coverage, &next_run) ? &next_coverage : &next_run;
		if (mono_before(&next_escalation, until))
			until = &next_escalation;
		pthread_mutex_lock(&m->lock);
		while (!m->stopping)
			if (pthread_cond_timedwait(&m->wake, &m->lock, until) == ETIMEDOUT)
				break;
		bool stop = m->stopping;
		pthread_mutex_unlock(&m->lock);
		if (stop)
			return NULL;
	}
}

bool maintenance_start(const struct config *cfg, struct metrics *metrics, const unsigned char *collapse_key,
		       const unsigned char *pseudonym_key, struct maintenance **out)
{
	struct maintenance *m = calloc(1, sizeof(*m));

	if (!m)
		return false;
	m->cfg = cfg;
	if (!clock_cond_init(&m->wake)) {
		free(m);
		return false;
	}
	m->collapse_key = collapse_key;
	m->metrics = metrics;
	if (pseudonym_key) {
		memcpy(m->key, pseudonym_key, sizeof(m->key));
		m->key_set = true;
	}
	pthread_mutex_init(&m->lock, NULL);
	if (pthread_create(&m->thread, NULL, maintenance_main, m) != 0) {
		pthread_mutex_destroy(&m->lock);
		pthread_cond_destroy(&m->wake);
		free(m);
		return false;
	}
	*out = m;
	return true;
}

void maintenance_stop(struct maintenance *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->wake);
	sodium_memzero(m->key, sizeof(m->key));
	free(m);
}
