/*
 * maintenance.c - partition upkeep for events (see maintenance.h).
 *
 * Month boundaries follow the database functions from 0002: midnight in
 * Asia/Ho_Chi_Minh, so "this month" here is the treasury's month.
 */
#include "db/maintenance.h"
#include "core/clock.h"
#include "core/config.h"
#include "db/db.h"
#include "alerts/fanout.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* distinct from the migration lock key */
#define MAINTENANCE_LOCK_KEY "107356483593317"
#define TODAY_VN "(now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

struct maintenance {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	const struct config *cfg;
	const unsigned char *collapse_key; /* borrowed; NULL: none */
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

bool maintenance_run_once(PGconn *conn, const struct config *cfg, int *created, int *dropped, bool *skipped, char *err,
			  size_t errlen)
{
	char months[24], retention[24];
	bool ok;

	*created = *dropped = 0;
	*skipped = false;
	snprintf(months, sizeof(months), "%lld", cfg->events_partitions_ahead_months + 1);
	snprintf(retention, sizeof(retention), "%lld", cfg->events_retention_months);
	if (!db_begin(conn))
		goto fail;
	if (!single_int(conn, "SELECT pg_try_advisory_xact_lock(" MAINTENANCE_LOCK_KEY ")", 0, NULL, &ok)) {
		if (!ok)
			goto fail;
		*skipped = true;
		db_rollback(conn); /* nothing was done: another instance holds the lock */
		return true;
	}
	const char *p1[1] = { months };
	*created = single_int(conn, "SELECT alertd_ensure_event_partitions(" TODAY_VN ", $1::int)", 1, p1, &ok);
	if (!ok)
		goto fail;
	if (cfg->events_retention_months > 0) {
		const char *p2[1] = { retention };
		*dropped = single_int(conn,
				      "SELECT alertd_drop_event_partitions_before((" TODAY_VN
				      " - make_interval(months => $1::int))::date)",
				      1, p2, &ok);
		if (!ok)
			goto fail;
	}
	if (!db_commit(conn))
		goto fail;
	return true;
fail:
	snprintf(err, errlen, "partition maintenance failed: %s", PQerrorMessage(conn));
	err[strcspn(err, "\n")] = '\0';
	db_rollback(conn);
	return false;
}

static void run(const struct config *cfg, const unsigned char *collapse_key)
{
	char err[512];
	int created, dropped;
	bool skipped;
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);

	if (!conn)
		return; /* logged by db_connect; the next interval tries again */
	if (!maintenance_run_once(conn, cfg, &created, &dropped, &skipped, err, sizeof(err))) {
		log_error("%s", err);
	} else if (!skipped) {
		LOG_FIELDS(created || dropped ? LOG_INFO : LOG_DEBUG, "event partition maintenance",
			   LOG_I("partitions_created", created), LOG_I("partitions_dropped", dropped));
	}
	/* a unit added to the roster by any means gets its waiting events routed */
	long long routed = 0, alerts = 0;
	if (fanout_reroute(conn, cfg, collapse_key, &routed, &alerts) && routed > 0) {
		LOG_FIELDS(LOG_INFO, "routed events of units new to the roster", LOG_I("events_routed", routed),
			   LOG_I("alerts_created", alerts));
	}
	PQfinish(conn);
}

static void *maintenance_main(void *arg)
{
	struct maintenance *m = arg;

	for (;;) {
		run(m->cfg, m->collapse_key);
		struct timespec until;
		clock_mono_deadline(&until, m->cfg->events_maintenance_interval_seconds * 1000000LL);
		pthread_mutex_lock(&m->lock);
		while (!m->stopping)
			if (pthread_cond_timedwait(&m->wake, &m->lock, &until) == ETIMEDOUT)
				break;
		bool stop = m->stopping;
		pthread_mutex_unlock(&m->lock);
		if (stop)
			return NULL;
	}
}

bool maintenance_start(const struct config *cfg, const unsigned char *collapse_key, struct maintenance **out)
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
	free(m);
}
