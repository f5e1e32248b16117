/*
 * notices_worker.c - the delivery thread of security notices (see
 * notices_worker.h). The maintenance thread runs hourly, which is far too
 * late for an approved "send now", so notices have their own short tick.
 * Between chunks the thread checks whether it is asked to stop, so a
 * 100,000-user notice never holds up a shutdown for more than one chunk.
 */
#include "notices/notices_worker.h"
#include "core/reload.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct notices_worker {
	struct config_live *live; /* notices.check_seconds is reloadable: a snapshot per pass (core/reload.h) */
	const struct config *cfg; /* that snapshot; only the worker thread reads it */
	bool reloaded;		  /* notices_worker_wake() */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
};

enum chunk_col { C_NOTICE, C_USERS, C_PUSHES, C_MAILS, C_DONE, C__COUNT };

/*
 * One chunk in its own transaction: *did false when nothing was due, *done
 * when it was the notice's last. False on a database error.
 */
static bool one_chunk(PGconn *conn, const struct config *cfg, bool *did, bool *done, long long *users)
{
	char chunk[STORE_ID_TEXT], days[STORE_ID_TEXT];
	const char *params[2] = { store_id(chunk, cfg->notices_chunk_users), store_id(days, cfg->coverage_active_days) };

	*did = false;
	*done = false;
	if (!db_begin(conn))
		return false;
	PGresult *res = store_query(conn, "notice chunk", "SELECT * FROM alertd_notice_send_chunk($1::int, $2::int)", 2,
				    params, C__COUNT);
	if (!res) {
		db_rollback(conn);
		return false;
	}
	if (PQntuples(res) == 1) {
		*did = true;
		*users += store_int(res, 0, C_USERS);
		*done = store_bool(res, 0, C_DONE);
		if (*done)
			LOG_FIELDS(LOG_INFO, "notice materialised", LOG_I("notice_id", store_int(res, 0, C_NOTICE)),
				   LOG_I("last_chunk_users", store_int(res, 0, C_USERS)),
				   LOG_I("pushes", store_int(res, 0, C_PUSHES)), LOG_I("mails", store_int(res, 0, C_MAILS)));
	}
	PQclear(res);
	return db_commit(conn);
}

bool notices_worker_run(PGconn *conn, const struct config *cfg, int max_chunks, long long *chunks, long long *users)
{
	bool did = true, done = false;

	*chunks = 0;
	*users = 0;
	while (did && *chunks < max_chunks) {
		if (!one_chunk(conn, cfg, &did, &done, users))
			return false;
		*chunks += did ? 1 : 0;
		/*
		 * A notice adds up to a row per device to push_outbox within
		 * seconds. The dispatchers' claim is a prepared statement planned
		 * from the table's statistics: planned on the small table of before,
		 * it scanned all those rows at every claim, and a risk alert
		 * written then waited 10 s to be claimed instead of 0.3 s
		 * (tests/integration/notices.test.js). New statistics after the
		 * first chunk and the last one invalidate those plans. Outside the
		 * chunk's transaction: it takes no lock the dispatchers wait for.
		 */
		if (did && (*chunks == 1 || done) && !db_run(conn, "ANALYZE push_outbox", 0, NULL))
			return false;
	}
	return true;
}

static bool stopping(struct notices_worker *w)
{
	pthread_mutex_lock(&w->lock);
	bool s = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return s;
}

static void *worker_main(void *arg)
{
	struct notices_worker *w = arg;
	PGconn *conn = NULL;

	for (;;) {
		const struct config *snap = config_live_acquire(w->live);
		config_live_release(w->live, w->cfg);
		w->cfg = snap;
		if (!conn || db_broken(conn)) {
			if (conn)
				PQfinish(conn);
			conn = db_connect(w->cfg->database_url, (int)w->cfg->database_connect_timeout_seconds);
		}
		/* a few chunks at a time, then a look at the stop flag: a big notice is many short transactions */
		long long chunks = 0, users = 0;
		bool ok = true;
		do {
			ok = conn && notices_worker_run(conn, w->cfg, 4, &chunks, &users);
		} while (ok && chunks == 4 && !stopping(w));
		if (!ok && conn) {
			char err[256];
			snprintf(err, sizeof(err), "%s", PQerrorMessage(conn));
			err[strcspn(err, "\n")] = '\0';
			log_error("notice delivery failed: %s", err);
		}
		struct timespec until;
		clock_mono_deadline(&until, w->cfg->notices_check_seconds * 1000000LL);
		pthread_mutex_lock(&w->lock);
		while (!w->stopping && !w->reloaded)
			if (pthread_cond_timedwait(&w->wake, &w->lock, &until) == ETIMEDOUT)
				break;
		bool stop = w->stopping;
		w->reloaded = false;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
	}
	if (conn)
		PQfinish(conn);
	return NULL;
}

bool notices_worker_start(struct config_live *live, struct notices_worker **out)
{
	struct notices_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return false;
	w->live = live;
	w->cfg = config_live_acquire(live);
	if (!clock_cond_init(&w->wake)) {
		config_live_release(live, w->cfg);
		free(w);
		return false;
	}
	pthread_mutex_init(&w->lock, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		config_live_release(live, w->cfg);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		free(w);
		return false;
	}
	*out = w;
	return true;
}

void notices_worker_stop(struct notices_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	config_live_release(w->live, w->cfg);
	free(w);
}

void notices_worker_wake(struct notices_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->reloaded = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}
