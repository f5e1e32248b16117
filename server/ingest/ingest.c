/*
 * ingest.c - group commit of ledger events (see ingest.h).
 *
 * The whole batch goes to PostgreSQL as one jsonb array built by joining the
 * rows the handlers prepared (so the single writer thread does no JSON
 * serialisation), and alertd_ingest_batch() answers one row per event in
 * input order, including out_of_scope for an event its source may not write
 * (0009_source_scopes.sql: not stored, audited in the same statement). The
 * statements and the fan-out run in one transaction. If the batch fails for
 * a reason other than a lost connection, each job is retried alone so that
 * one bad job cannot sink the others. A connection lost before COMMIT was
 * sent means nothing was stored (UNAVAILABLE); lost while COMMIT was in
 * flight, the transaction may or may not have committed (UNKNOWN).
 */
#include "ingest/ingest.h"
#include "core/clock.h"
#include "core/buf.h"
#include "core/config.h"
#include "db/db.h"
#include "alerts/fanout.h"
#include "core/log.h"
#include "core/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_SQL "SELECT idx, status, event_id, routed FROM alertd_ingest_batch($1::jsonb)"
#define RECONNECT_BACKOFF_MS 1000
#define MAX_BATCH_BYTES (256u * 1024 * 1024)

/* One writer thread and its own connection. */
struct writer_thread {
	struct ingest_writer *w;
	pthread_t thread;
	bool started;
	PGconn *conn;
	long long last_connect_failure_ms;
};

struct ingest_writer {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ingest_job *head, *tail;
	size_t queued_events;
	bool stopping;
	const struct config *cfg;
	struct metrics *metrics;
	const unsigned char *collapse_key; /* borrowed; NULL: none */
	size_t nthreads;
	struct writer_thread *threads;
};

const char *ingest_status_name(enum ingest_status st)
{
	static const char *names[] = { "pending",     "accepted", "duplicate",	  "conflict",
				       "unavailable", "failed",	  "out_of_scope", "unknown" };
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

static void finish(struct ingest_writer *w, struct ingest_job *job, enum ingest_status fallback)
{
	for (size_t i = 0; i < job->nitems; i++) {
		struct ingest_item *it = &job->items[i];
		if (it->status == INGEST_PENDING)
			it->status = fallback;
		switch (it->status) {
		case INGEST_ACCEPTED:
			metrics_count(w->metrics, METRIC_INGEST_ACCEPTED, 1);
			if (!it->routed)
				metrics_count(w->metrics, METRIC_INGEST_UNROUTED, 1);
			break;
		case INGEST_DUPLICATE:
			metrics_count(w->metrics, METRIC_INGEST_DUPLICATE, 1);
			break;
		case INGEST_CONFLICT:
			metrics_count(w->metrics, METRIC_INGEST_CONFLICT, 1);
			break;
		case INGEST_OUT_OF_SCOPE:
			metrics_count(w->metrics, METRIC_INGEST_OUT_OF_SCOPE, 1);
			break;
		case INGEST_UNKNOWN:
			metrics_count(w->metrics, METRIC_INGEST_OUTCOME_UNKNOWN, 1);
			break;
		default:
			metrics_count(w->metrics, METRIC_INGEST_NOT_STORED, 1);
			break;
		}
	}
	job->done(job);
}

static bool ensure_connection(struct writer_thread *t)
{
	const struct config *cfg = t->w->cfg;

	if (t->conn && !db_broken(t->conn))
		return true;
	if (t->conn) {
		PQfinish(t->conn);
		t->conn = NULL;
	}
	if (t->last_connect_failure_ms && clock_mono_ms() - t->last_connect_failure_ms < RECONNECT_BACKOFF_MS)
		return false;
	t->conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!t->conn) {
		t->last_connect_failure_ms = clock_mono_ms();
		return false;
	}
	t->last_connect_failure_ms = 0;
	return true;
}

/* UNAVAILABLE: the connection broke before COMMIT was sent; UNKNOWN: while it was in flight. */
enum batch_outcome { BATCH_OK, BATCH_UNAVAILABLE, BATCH_FAILED, BATCH_UNKNOWN };

/* Sort key: idempotency key, then arrival order. */
struct ordered {
	struct ingest_item *it;
	size_t pos;
};

static int by_key(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;
	int c;

	if (x->it->source_id != y->it->source_id)
		return x->it->source_id < y->it->source_id ? -1 : 1;
	c = strcmp(x->it->id, y->it->id);
	if (c)
		return c;
	return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

static bool same_key(const struct ingest_item *a, const struct ingest_item *b)
{
	return a->source_id == b->source_id && strcmp(a->id, b->id) == 0;
}

/* One statement over the given items (no key twice). Sets their status unless "retry". */
static enum batch_outcome run_round(struct writer_thread *t, struct ingest_item **items, size_t n)
{
	struct ingest_writer *w = t->w;
	struct buf b;
	enum batch_outcome outcome = BATCH_FAILED;
	PGresult *res = NULL;

	buf_init(&b, MAX_BATCH_BYTES);
	buf_append(&b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_append(&b, ",", 1);
		buf_append(&b, items[i]->row, items[i]->row_len);
	}
	buf_append(&b, "]", 1);
	if (!buf_ok(&b)) {
		log_error("ingest: batch too large to send");
		goto out;
	}
	const char *params[1] = { b.data };
	res = db_exec(t->conn, BATCH_SQL, 1, params);
	if (!res) {
		outcome = db_broken(t->conn) ? BATCH_UNAVAILABLE : BATCH_FAILED;
		goto out;
	}
	if ((size_t)PQntuples(res) != n) {
		log_error("ingest: %d results for %zu events", PQntuples(res), n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ingest_item *it = items[i];
		const char *st = PQgetvalue(res, (int)i, 1);
		if (strcmp(st, "retry") == 0)
			continue;
		it->event_id = strtoll(PQgetvalue(res, (int)i, 2), NULL, 10);
		it->routed = strcmp(PQgetvalue(res, (int)i, 3), "t") == 0;
		it->status = strcmp(st, "accepted") == 0       ? INGEST_ACCEPTED
			     : strcmp(st, "duplicate") == 0    ? INGEST_DUPLICATE
			     : strcmp(st, "out_of_scope") == 0 ? INGEST_OUT_OF_SCOPE
							       : INGEST_CONFLICT;
	}
	metrics_count(w->metrics, METRIC_INGEST_COMMITS, 1);
	metrics_count(w->metrics, METRIC_INGEST_COMMITTED_EVENTS, n);
	outcome = BATCH_OK;
out:
	PQclear(res);
	buf_free(&b);
	return outcome;
}

/* Alerts for the events this transaction accepted for known units. */
static bool fan_out(struct writer_thread *t, struct ordered *all, size_t n)
{
	struct fanout_event *evs = calloc(n + 1, sizeof(*evs));
	size_t k = 0;
	long long alerts = 0;
	bool ok;

	if (!evs)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct ingest_item *it = all[i].it;
		if (it->status != INGEST_ACCEPTED || !it->routed || !it->event)
			continue;
		evs[k].event_id = it->event_id;
		evs[k].source_id = it->source_id;
		evs[k].unit_code = it->unit_code;
		evs[k].event = it->event;
		k++;
	}
	ok = fanout_events(t->conn, t->w->cfg, t->w->collapse_key, evs, k, &alerts);
	if (ok)
		metrics_count(t->w->metrics, METRIC_ALERTS_CREATED, (unsigned long long)alerts);
	free(evs);
	return ok;
}

/*
 * Store the still-pending items of the jobs from first up to (not
 * including) stop. Each round sends, per key, the earliest pending
 * occurrence, so a key never appears twice in one statement; repeats and
 * "retry" answers go in the next round. Items left pending are finished by
 * the caller with the failure status.
 */
static enum batch_outcome store(struct writer_thread *t, struct ingest_job *first, struct ingest_job *stop)
{
	size_t n = 0, pos = 0, nround = 0;
	struct ordered *all = NULL;
	struct ingest_item **round = NULL;
	enum batch_outcome outcome = BATCH_FAILED;

	for (struct ingest_job *j = first; j != stop; j = j->next)
		for (size_t i = 0; i < j->nitems; i++)
			n += j->items[i].status == INGEST_PENDING;
	if (n == 0)
		return BATCH_OK;
	if (!ensure_connection(t))
		return BATCH_UNAVAILABLE;
	all = calloc(n, sizeof(*all));
	round = calloc(n, sizeof(*round));
	if (!all || !round)
		goto out;
	for (struct ingest_job *j = first; j != stop; j = j->next)
		for (size_t i = 0; i < j->nitems; i++) {
			if (j->items[i].status != INGEST_PENDING)
				continue;
			all[pos].it = &j->items[i];
			all[pos].pos = pos;
			pos++;
		}
	qsort(all, n, sizeof(*all), by_key);
	/* one transaction: the events, then their alerts; nothing is final until COMMIT */
	if (!db_begin(t->conn)) {
		outcome = db_broken(t->conn) ? BATCH_UNAVAILABLE : BATCH_FAILED;
		goto out;
	}
	/* n + 2 rounds bound both repeats (at most n of a key) and retry races */
	for (size_t r = 0; r < n + 2; r++) {
		nround = 0;
		for (size_t i = 0; i < n; i++) {
			if (all[i].it->status != INGEST_PENDING)
				continue;
			if (nround > 0 && same_key(round[nround - 1], all[i].it))
				continue; /* a later occurrence waits for the next round */
			round[nround++] = all[i].it;
		}
		if (nround == 0)
			break;
		outcome = run_round(t, round, nround);
		if (outcome != BATCH_OK)
			goto rollback;
	}
	if (nround != 0) {
		log_error("ingest: events still unresolved after every round");
		outcome = BATCH_FAILED;
		goto rollback;
	}
	if (!fan_out(t, all, n)) {
		outcome = db_broken(t->conn) ? BATCH_UNAVAILABLE : BATCH_FAILED;
		goto rollback;
	}
	/* the connection was sound when COMMIT went out: if it breaks now, the commit may have happened */
	bool uncertain = false;
	if (!db_commit_checked(t->conn, &uncertain)) {
		/* committed locally but perhaps not replicated: as unknown as a broken connection */
		outcome = db_broken(t->conn) || uncertain ? BATCH_UNKNOWN : BATCH_FAILED;
		goto rollback;
	}
	outcome = BATCH_OK;
	goto out;
rollback:
	db_rollback(t->conn);
	/* nothing of this transaction is known to have happened: its items are pending again */
	for (size_t i = 0; i < n; i++)
		all[i].it->status = INGEST_PENDING;
out:
	free(all);
	free(round);
	return outcome;
}

static void process(struct writer_thread *t, struct ingest_job *batch)
{
	enum batch_outcome outcome = store(t, batch, NULL);

	bool isolate = outcome == BATCH_FAILED && batch->next;

	for (struct ingest_job *j = batch, *next; j; j = next) {
		next = j->next;
		enum batch_outcome own = outcome;
		if (isolate) /* the database refused the batch: retry each job alone so one bad job cannot sink the rest */
			own = store(t, j, next);
		finish(t->w, j,
		       own == BATCH_UNAVAILABLE ? INGEST_UNAVAILABLE
		       : own == BATCH_UNKNOWN	? INGEST_UNKNOWN
						: INGEST_FAILED);
	}
}

/* Take queued jobs up to max_events (at least one job). Caller holds the lock. */
static struct ingest_job *take(struct ingest_writer *w, size_t max_events)
{
	struct ingest_job *first = w->head, *last = w->head;
	size_t events = first->nitems;

	while (last->next && events + last->next->nitems <= max_events) {
		last = last->next;
		events += last->nitems;
	}
	w->head = last->next;
	if (!w->head)
		w->tail = NULL;
	last->next = NULL;
	w->queued_events -= events;
	return first;
}

static void *writer_main(void *arg)
{
	struct writer_thread *t = arg;
	struct ingest_writer *w = t->w;
	size_t max_events = (size_t)w->cfg->ingest_group_commit_max_events;
	long long max_wait_us = w->cfg->ingest_group_commit_max_wait_us;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!w->head && w->stopping)
			break;
		/* Let more requests join, briefly, unless the batch is already full. */
		if (max_wait_us > 0 && !w->stopping && w->queued_events < max_events) {
			struct timespec until;
			clock_mono_deadline(&until, max_wait_us);
			while (w->queued_events < max_events && !w->stopping)
				if (pthread_cond_timedwait(&w->wake, &w->lock, &until) == ETIMEDOUT)
					break;
		}
		struct ingest_job *batch = take(w, max_events);
		pthread_mutex_unlock(&w->lock);
		process(t, batch);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

bool ingest_writer_start(const struct config *cfg, struct metrics *metrics, const unsigned char *collapse_key,
			 struct ingest_writer **out)
{
	struct ingest_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return false;
	if (!clock_cond_init(&w->wake)) {
		free(w);
		return false;
	}
	w->cfg = cfg;
	w->metrics = metrics;
	w->collapse_key = collapse_key;
	w->nthreads = (size_t)cfg->ingest_writers;
	w->threads = calloc(w->nthreads, sizeof(*w->threads));
	pthread_mutex_init(&w->lock, NULL);
	if (!w->threads)
		goto fail;
	for (size_t i = 0; i < w->nthreads; i++) {
		w->threads[i].w = w;
		if (pthread_create(&w->threads[i].thread, NULL, writer_main, &w->threads[i]) != 0)
			goto fail;
		w->threads[i].started = true;
	}
	*out = w;
	return true;
fail:
	ingest_writer_stop(w);
	return false;
}

void ingest_writer_submit(struct ingest_writer *w, struct ingest_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		finish(w, job, INGEST_UNAVAILABLE);
		return;
	}
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	w->queued_events += job->nitems;
	/* wake the writer for the first job, and when the batch fills up */
	if (w->head == job || w->queued_events >= (size_t)w->cfg->ingest_group_commit_max_events)
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void ingest_writer_drain(struct ingest_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; w->threads && i < w->nthreads; i++) {
		if (w->threads[i].started)
			pthread_join(w->threads[i].thread, NULL);
		w->threads[i].started = false;
		if (w->threads[i].conn)
			PQfinish(w->threads[i].conn);
		w->threads[i].conn = NULL;
	}
}

void ingest_writer_stop(struct ingest_writer *w)
{
	if (!w)
		return;
	ingest_writer_drain(w);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w->threads);
	free(w);
}
