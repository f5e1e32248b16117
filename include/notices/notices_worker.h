/*
 * notices_worker.h - the delivery thread of security notices: every
 * notices.check_seconds it materialises due approved notices in chunks of
 * notices.chunk_users recipients (alertd_notice_send_chunk, migration
 * 0024), one transaction per chunk, until none is due. Several instances
 * may run it: a notice row is locked FOR UPDATE SKIP LOCKED for its chunk,
 * and its progress is committed with the chunk, so nothing is written twice
 * and a crash resumes where it stopped.
 */
#ifndef ALERTD_NOTICES_WORKER_H
#define ALERTD_NOTICES_WORKER_H

#include <libpq-fe.h>
#include <stdbool.h>

struct config;
struct notices_worker;
struct config_live;

/*
 * Materialise due notices on conn until none is due or max_chunks chunks
 * were done: *chunks and *users count what was done. False on a database
 * error (the chunk in progress rolled back; PQerrorMessage(conn) says why).
 */
bool notices_worker_run(PGconn *conn, const struct config *cfg, int max_chunks, long long *chunks, long long *users)
	__attribute__((warn_unused_result));

/*
 * Start the thread; it reads its options from a snapshot of live
 * (core/reload.h) taken at each pass; live must outlive it. False when it
 * could not be started.
 */
bool notices_worker_start(struct config_live *live, struct notices_worker **out) __attribute__((warn_unused_result));

/* After a reload: look for due notices now and wait the new notices.check_seconds from then. */
void notices_worker_wake(struct notices_worker *w);

/* Wake and join the thread; returns promptly even mid-interval; NULL is ignored. */
void notices_worker_stop(struct notices_worker *w);

#endif
