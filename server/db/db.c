/*
 * db.c - fixed pool of libpq connections with lazy (re)connect.
 *
 * Slots are handed out under a mutex; connecting and querying happen outside
 * it. A failed connection attempt stamps last_failure so that while the
 * database is down, requests fail at once instead of each waiting for a
 * connect timeout.
 */
#include "db/db.h"
#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECONNECT_BACKOFF_MS 1000

struct db_slot {
	PGconn *conn;
	bool busy;
};

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	char *conninfo;
	char timeout[16];
	int size;
	int in_use;
	long long last_failure_ms;
	struct db_slot *slots;
};

/* Server NOTICEs go through our logger instead of libpq's raw stderr default. */
static void on_notice(void *arg, const char *message)
{
	char msg[512];

	(void)arg;
	snprintf(msg, sizeof(msg), "%s", message);
	msg[strcspn(msg, "\n")] = '\0';
	LOG_FIELDS(LOG_DEBUG, "database notice", LOG_S("notice", msg));
}

static PGconn *connect_with(const char *conninfo, const char *timeout)
{
	/*
	 * Defaults first: a value inside conninfo overrides them (libpq's
	 * last-wins rule). Keepalives and tcp_user_timeout notice a half-open
	 * TCP connection (failover) within about a minute; statement_timeout
	 * bounds any query, so no thread waits on the database forever.
	 */
	const char *keys[] = {
		"connect_timeout",  "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "options",    "dbname",		 NULL
	};
	const char *vals[] = { timeout,	 "alertd", "1", "30", "10", "3", "30000", "-c statement_timeout=60000",
			       conninfo, NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);

	if (!conn) {
		log_error("database: out of memory creating connection");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		/* PQerrorMessage never includes the password */
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		msg[strcspn(msg, "\n")] = '\0';
		LOG_FIELDS(LOG_WARN, "database connection failed", LOG_S("error", msg));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, on_notice, NULL);
	return conn;
}

PGconn *db_connect(const char *conninfo, int connect_timeout_seconds)
{
	char timeout[16];

	snprintf(timeout, sizeof(timeout), "%d", connect_timeout_seconds);
	return connect_with(conninfo, timeout);
}

bool db_pool_new(const char *conninfo, int size, int connect_timeout_seconds, struct db_pool **out)
{
	struct db_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return false;
	pool->slots = calloc((size_t)size, sizeof(*pool->slots));
	pool->conninfo = strdup(conninfo);
	if (!pool->slots || !pool->conninfo)
		goto fail;
	pool->size = size;
	snprintf(pool->timeout, sizeof(pool->timeout), "%d", connect_timeout_seconds);
	if (!clock_cond_init(&pool->freed))
		goto fail;
	pthread_mutex_init(&pool->lock, NULL);
	*out = pool;
	return true;
fail:
	free(pool->slots);
	free(pool->conninfo);
	free(pool);
	return false;
}

void db_pool_free(struct db_pool *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < pool->size; i++)
		if (pool->slots[i].conn)
			PQfinish(pool->slots[i].conn);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->freed);
	free(pool->slots);
	free(pool->conninfo);
	free(pool);
}

bool db_broken(PGconn *conn)
{
	return !conn || PQstatus(conn) != CONNECTION_OK;
}

static struct db_slot *take_slot(struct db_pool *pool, int wait_ms)
{
	struct timespec deadline;
	struct db_slot *slot = NULL;

	clock_mono_deadline(&deadline, (int64_t)wait_ms * 1000);
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		/* prefer a slot that already holds a connection */
		for (int i = 0; i < pool->size && !slot; i++)
			if (!pool->slots[i].busy && pool->slots[i].conn)
				slot = &pool->slots[i];
		for (int i = 0; i < pool->size && !slot; i++)
			if (!pool->slots[i].busy)
				slot = &pool->slots[i];
		if (slot) {
			slot->busy = true;
			pool->in_use++;
			break;
		}
		if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&pool->lock);
	return slot;
}

static void give_back(struct db_pool *pool, struct db_slot *slot, bool failed_connect)
{
	pthread_mutex_lock(&pool->lock);
	slot->busy = false;
	pool->in_use--;
	if (failed_connect)
		pool->last_failure_ms = clock_mono_ms();
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}

/*
 * Slots are owned by one borrower at a time, but db_release() scans every
 * slot's conn pointer, so each write to slot->conn happens under the lock;
 * connecting and closing (slow) happen outside it.
 */
PGconn *db_acquire(struct db_pool *pool, int wait_ms)
{
	struct db_slot *slot = take_slot(pool, wait_ms);
	PGconn *stale = NULL, *conn;

	if (!slot) {
		log_warn("database: no pool connection free within %d ms", wait_ms);
		return NULL;
	}
	pthread_mutex_lock(&pool->lock);
	conn = slot->conn;
	if (conn && db_broken(conn)) {
		stale = conn;
		slot->conn = conn = NULL;
	}
	bool backing_off = !conn && pool->last_failure_ms && clock_mono_ms() - pool->last_failure_ms < RECONNECT_BACKOFF_MS;
	pthread_mutex_unlock(&pool->lock);
	if (stale)
		PQfinish(stale);
	if (conn)
		return conn;
	if (!backing_off)
		conn = connect_with(pool->conninfo, pool->timeout);
	if (!conn) {
		give_back(pool, slot, !backing_off);
		return NULL;
	}
	pthread_mutex_lock(&pool->lock);
	slot->conn = conn;
	pthread_mutex_unlock(&pool->lock);
	return conn;
}

void db_release(struct db_pool *pool, PGconn *conn)
{
	PGconn *close_it = NULL;

	if (!conn)
		return;
	/* A connection left mid-transaction or broken is not safe to reuse. */
	bool discard = db_broken(conn) || PQtransactionStatus(conn) != PQTRANS_IDLE;
	pthread_mutex_lock(&pool->lock);
	for (int i = 0; i < pool->size; i++) {
		struct db_slot *slot = &pool->slots[i];
		if (slot->conn != conn)
			continue;
		if (discard) {
			close_it = conn;
			slot->conn = NULL;
		}
		slot->busy = false;
		pool->in_use--;
		pthread_cond_signal(&pool->freed);
		pthread_mutex_unlock(&pool->lock);
		if (close_it)
			PQfinish(close_it);
		return;
	}
	pthread_mutex_unlock(&pool->lock);
	log_error("database: release of a connection not from this pool");
}

void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out)
{
	pthread_mutex_lock(&pool->lock);
	out->size = pool->size;
	out->in_use = pool->in_use;
	pthread_mutex_unlock(&pool->lock);
}

/* res when it succeeded; otherwise the server's message logged (never the parameters), res cleared, NULL. */
static PGresult *checked(PGconn *conn, PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	char msg[512];
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	msg[strcspn(msg, "\n")] = '\0';
	LOG_FIELDS(LOG_WARN, "database statement failed", LOG_S("error", msg), LOG_S("sqlstate", sqlstate ? sqlstate : ""));
	PQclear(res);
	return NULL;
}

PGresult *db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	return checked(conn, PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0));
}

bool db_prepare(PGconn *conn, const char *name, const char *sql, int nparams)
{
	PGresult *res = checked(conn, PQprepare(conn, name, sql, nparams, NULL));

	PQclear(res);
	return res != NULL;
}

PGresult *db_exec_prepared(PGconn *conn, const char *name, int nparams, const char *const *params)
{
	return checked(conn, PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0));
}

bool db_run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_exec(conn, sql, nparams, params);

	PQclear(res);
	return res != NULL;
}

bool db_begin(PGconn *conn)
{
	return db_run(conn, "BEGIN", 0, NULL);
}

/* Notice receiver for the time of one COMMIT: flags a WARNING, and logs it as on_notice would. */
static void watch_commit_notice(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
	msg[strcspn(msg, "\n")] = '\0';
	if (severity && strcmp(severity, "WARNING") == 0) {
		*(bool *)arg = true;
		LOG_FIELDS(LOG_ERROR, "database: COMMIT answered with a warning", LOG_S("notice", msg));
	} else {
		LOG_FIELDS(LOG_DEBUG, "database notice", LOG_S("notice", msg));
	}
}

bool db_commit_checked(PGconn *conn, bool *uncertain)
{
	bool warned = false;

	/*
	 * With synchronous replication a COMMIT waits until the standby has the
	 * WAL. If that wait is cancelled (statement_timeout, which alertd always
	 * sets, or pg_cancel_backend) PostgreSQL still answers "COMMIT", with
	 * only a WARNING ("canceling wait for synchronous replication ...: the
	 * transaction has already committed locally, but might not have been
	 * replicated"). Taken as success, alertd would acknowledge work that a
	 * failover can lose - exactly what synchronous replication is there to
	 * prevent. COMMIT itself raises no other warning, so any WARNING while
	 * it runs (by severity, not by message text, which lc_messages
	 * translates) makes the outcome uncertain. libpq's default receiver,
	 * put back afterwards, ignores its argument and calls on_notice.
	 */
	PQnoticeReceiver previous = PQsetNoticeReceiver(conn, watch_commit_notice, &warned);
	PGresult *res = db_exec(conn, "COMMIT", 0, NULL);
	PQsetNoticeReceiver(conn, previous, NULL);
	bool committed = res && strcmp(PQcmdStatus(res), "COMMIT") == 0;

	if (res && !committed)
		log_warn("database: COMMIT answered %s: the transaction had failed", PQcmdStatus(res));
	PQclear(res);
	*uncertain = warned && committed;
	return committed && !warned;
}

bool db_commit(PGconn *conn)
{
	bool uncertain;

	return db_commit_checked(conn, &uncertain);
}

void db_rollback(PGconn *conn)
{
	if (PQtransactionStatus(conn) != PQTRANS_IDLE && PQtransactionStatus(conn) != PQTRANS_UNKNOWN)
		PQclear(PQexec(conn, "ROLLBACK"));
}
