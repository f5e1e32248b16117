/*
 * db.h - a fixed pool of libpq connections.
 *
 * Connections are opened lazily and re-opened after they break, so the pool
 * survives a PostgreSQL restart without restarting alertd. While the server
 * is unreachable, db_acquire() fails fast (at most one connection attempt
 * per second per pool) and callers answer 503.
 */
#ifndef ALERTD_DB_H
#define ALERTD_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct db_pool;

struct db_pool_stats {
	int size;
	int in_use;
};

/*
 * Create a pool of size slots for conninfo (a libpq keyword string or URI).
 * No connection is made yet. Returns false only on allocation failure.
 */
bool db_pool_new(const char *conninfo, int size, int connect_timeout_seconds, struct db_pool **out)
	__attribute__((warn_unused_result));

/* Close every connection and free the pool. All connections must be released. */
void db_pool_free(struct db_pool *pool);

/*
 * How long a request or a cache refill waits for a free pooled connection
 * before answering 503: long enough to ride out a burst, short enough that
 * clients retry rather than pile up.
 */
#define DB_POOL_WAIT_MS 2000

/*
 * Borrow a connected, idle connection, waiting up to wait_ms for a free slot.
 * Returns NULL when none is free in time or the database cannot be reached;
 * the reason is logged. Give it back with db_release().
 */
PGconn *db_acquire(struct db_pool *pool, int wait_ms);

/*
 * Return a connection. A broken connection, or one left inside a
 * transaction, is closed so the next borrower gets a clean one.
 */
void db_release(struct db_pool *pool, PGconn *conn);

void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out);

/* Open one standalone connection (for migrations and CLI commands). NULL on failure, logged. */
PGconn *db_connect(const char *conninfo, int connect_timeout_seconds);

/*
 * Run a parameterised statement (text parameters). Returns the result when
 * its status is PGRES_COMMAND_OK or PGRES_TUPLES_OK; otherwise logs the
 * server's message (never the parameters, they may be secret), clears the
 * result and returns NULL. The caller PQclear()s a non-NULL result.
 */
PGresult *db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params);

/*
 * Prepare sql on conn under name (nparams text parameters), for
 * db_exec_prepared() on that connection for as long as it lives: a hot
 * statement is then planned once per connection instead of at every call.
 * False when it failed (logged).
 */
bool db_prepare(PGconn *conn, const char *name, const char *sql, int nparams) __attribute__((warn_unused_result));

/* db_exec() of the statement db_prepare() named name on conn; the same result and logging. */
PGresult *db_exec_prepared(PGconn *conn, const char *name, int nparams, const char *const *params);

/* db_exec() for a statement whose rows, if any, are not wanted. False when it failed (logged). */
bool db_run(PGconn *conn, const char *sql, int nparams, const char *const *params) __attribute__((warn_unused_result));

/*
 * Transactions. db_begin() and db_commit() return false (logged) when the
 * statement failed; db_commit() also when the server answered ROLLBACK,
 * which it does for a transaction already aborted by an earlier error, so a
 * true db_commit() always means the work is durable. db_rollback() is best
 * effort and silent: on a broken connection there is nothing to roll back,
 * and db_release() closes a connection left inside a transaction anyway.
 */
bool db_begin(PGconn *conn) __attribute__((warn_unused_result));
bool db_commit(PGconn *conn) __attribute__((warn_unused_result));
/*
 * db_commit() that also tells why it returned false: *uncertain is true when
 * the server committed locally but a WARNING during COMMIT (a cancelled wait
 * for synchronous replication) means the work may not be on the standby, so
 * it is not durable across a failover; the caller must not acknowledge it as
 * done (503: retry; ingest is idempotent). db_commit() treats that as false.
 */
bool db_commit_checked(PGconn *conn, bool *uncertain) __attribute__((warn_unused_result));
void db_rollback(PGconn *conn);

/* True when the connection is unusable (server gone, socket closed). */
bool db_broken(PGconn *conn);

#endif
