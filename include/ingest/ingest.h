/*
 * ingest.h - the group-commit writer for ledger events.
 *
 * HTTP handlers validate events, wrap them in a job and submit it; the
 * writer thread takes every job queued while its previous commit ran (up to
 * ingest.group_commit_max_events events, optionally waiting
 * ingest.group_commit_max_wait_us for more) and stores them with one
 * statement, one transaction and one WAL flush. The same transaction writes
 * the alerts and outbox rows of every new, routed event (fanout.c), so an
 * acknowledged event always has its alerts and a rolled-back one never does. Under load the batches grow
 * by themselves, because requests queue while a commit is in flight; an
 * extra wait only added latency in tests/bench/bench-ingest.sh. Only then is each job's
 * done() called, so no request is acknowledged before its data is durable.
 */
#ifndef ALERTD_INGEST_H
#define ALERTD_INGEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct metrics;
struct ingest_writer;

enum ingest_status {
	INGEST_PENDING,
	INGEST_ACCEPTED,
	INGEST_DUPLICATE,
	INGEST_CONFLICT,
	INGEST_UNAVAILABLE,  /* the database could not be reached before COMMIT: nothing stored */
	INGEST_FAILED,	     /* the database refused the batch: nothing stored */
	INGEST_OUT_OF_SCOPE, /* the unit is outside the source's scope: nothing stored, audited */
	INGEST_UNKNOWN,	     /* the connection broke during COMMIT: stored or not, nobody can tell */
};

struct ingest_item {
	long long source_id; /* with id: the idempotency key */
	char id[129];
	char unit_code[8];
	const json_t *event; /* the validated event, kept alive by the submitter until done() */
	char *row;	     /* malloc'd JSON object for alertd_ingest_batch(): see 0005_ingest_batch.sql */
	size_t row_len;
	enum ingest_status status;
	long long event_id;
	bool routed;
};

struct ingest_job {
	struct ingest_item *items;
	size_t nitems;
	/* Called once, from the writer thread, after the job's fate is final. */
	void (*done)(struct ingest_job *job);
	void *arg;
	struct ingest_job *next; /* queue link, owned by the writer */
};

/*
 * Start the writer threads, each with its own database connection (opened
 * lazily). collapse_key (FANOUT_COLLAPSE_KEY_BYTES, or NULL) is borrowed for
 * the fan-out and must outlive the writer.
 */
bool ingest_writer_start(const struct config *cfg, struct metrics *metrics, const unsigned char *collapse_key,
			 struct ingest_writer **out) __attribute__((warn_unused_result));

/*
 * Queue a job. Never blocks on the database. After ingest_writer_stop() has
 * begun, the job is finished at once as INGEST_UNAVAILABLE.
 */
void ingest_writer_submit(struct ingest_writer *w, struct ingest_job *job);

/*
 * Finish the queued jobs and join the threads. Afterwards w stays valid:
 * ingest_writer_submit() answers every new job INGEST_UNAVAILABLE at once,
 * so HTTP threads still serving keep-alive connections never touch freed
 * memory. Idempotent.
 */
void ingest_writer_drain(struct ingest_writer *w);

/* Drain (if not yet done) and free w; only once no HTTP thread can submit. */
void ingest_writer_stop(struct ingest_writer *w);

const char *ingest_status_name(enum ingest_status st);

#endif
