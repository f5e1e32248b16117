/*
 * dispatch.c - outbox claiming, sending and recording (see dispatch.h).
 *
 * This release has the "log" provider: it logs what would be sent (never
 * the device token or the body's financial text) and records the row as
 * sent. With push.provider = live and no provider client built in, the
 * dispatcher does not start, and rows stay pending: nothing is lost or
 * marked sent that was not.
 */
#include "dispatch.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHANNEL "alertd_outbox"

struct worker {
	struct dispatcher *d;
	pthread_t thread;
	bool started;
	PGconn *conn;
	char lease_owner[128];
};

struct dispatcher {
	const struct config *cfg;
	struct metrics *metrics;
	pthread_mutex_t lock;
	bool stopping;
	int wake_pipe[2]; /* written on stop, so a worker blocked in poll() returns */
	size_t nworkers;
	struct worker *workers;
};

static bool stopping(struct dispatcher *d)
{
	pthread_mutex_lock(&d->lock);
	bool s = d->stopping;
	pthread_mutex_unlock(&d->lock);
	return s;
}

/* Claim due rows: a lease makes them ours until recorded or expired. */
static PGresult *claim(struct worker *w)
{
	char limit[24], lease[24];
	const struct config *cfg = w->d->cfg;

	snprintf(limit, sizeof(limit), "%lld", cfg->push_batch_size);
	snprintf(lease, sizeof(lease), "%lld", cfg->push_lease_seconds);
	const char *params[3] = { limit, lease, w->lease_owner };
	return db_exec(w->conn,
		       "WITH c AS (SELECT id FROM push_outbox WHERE state = 'pending' AND due_at <= now()"
		       "   AND (leased_until IS NULL OR leased_until < now())"
		       "   ORDER BY due_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED)"
		       " UPDATE push_outbox o SET leased_until = now() + make_interval(secs => $2::int), leased_by = $3,"
		       "   attempts = o.attempts + 1"
		       " FROM c, alerts a, devices d WHERE o.id = c.id AND a.id = o.alert_id AND d.id = o.device_id"
		       " RETURNING o.id, o.provider, o.priority, a.id, a.severity, length(a.title), length(a.body),"
		       "   d.state, o.attempts",
		       3, params);
}

static bool run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_exec(conn, sql, nparams, params);

	PQclear(res);
	return res != NULL;
}

/*
 * Record outcomes in one transaction: each row sent or failed (with its
 * reason), the lease released, and each touched alert's delivery state.
 * Only rows still leased by this worker are touched. The alerts are locked
 * first, in id order: a worker recording other rows of the same alert waits,
 * so the delivery state is computed from committed outcomes, never from a
 * snapshot that misses a concurrent worker's rows.
 */
static bool record(struct worker *w, json_t *outcomes)
{
	char *text = json_dumps(outcomes, JSON_COMPACT);
	bool ok = false;

	if (!text)
		return false;
	const char *params[2] = { text, w->lease_owner };
	if (!run(w->conn, "BEGIN", 0, NULL))
		goto out;
	ok = run(w->conn,
		 "SELECT id FROM alerts WHERE id IN (SELECT (x->>'alert')::bigint FROM jsonb_array_elements($1::jsonb) x)"
		 " ORDER BY id FOR UPDATE",
		 1, params) &&
	     run(w->conn,
		 "UPDATE push_outbox o SET state = r.state, provider_message_id = r.mid, last_error = r.err,"
		 " sent_at = CASE WHEN r.state = 'sent' THEN now() END, leased_until = NULL, leased_by = NULL"
		 " FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, state outbox_state, mid text, err text)"
		 " WHERE o.id = r.id AND o.leased_by = $2",
		 2, params) &&
	     run(w->conn,
		 "UPDATE alerts a SET delivery_state = x.ds"
		 " FROM (SELECT alert_id, CASE WHEN bool_or(state = 'pending') THEN 'pending'"
		 "   WHEN bool_and(state = 'sent') THEN 'sent' WHEN bool_and(state = 'failed') THEN 'failed'"
		 "   ELSE 'partial' END AS ds"
		 "   FROM push_outbox WHERE alert_id IN (SELECT (x->>'alert')::bigint FROM jsonb_array_elements($1::jsonb) x)"
		 "   GROUP BY alert_id) x"
		 " WHERE a.id = x.alert_id",
		 1, params) &&
	     run(w->conn, "COMMIT", 0, NULL);
	if (!ok)
		PQclear(PQexec(w->conn, "ROLLBACK"));
out:
	free(text);
	return ok;
}

/* The log provider: what would be sent, without tokens or message text. */
static void log_push(PGresult *rows, int r)
{
	struct log_field f[] = {
		LOG_S("outbox_id", PQgetvalue(rows, r, 0)), LOG_S("provider", PQgetvalue(rows, r, 1)),
		LOG_S("priority", PQgetvalue(rows, r, 2)),  LOG_S("alert_id", PQgetvalue(rows, r, 3)),
		LOG_S("severity", PQgetvalue(rows, r, 4)),  LOG_S("title_chars", PQgetvalue(rows, r, 5)),
		LOG_S("body_chars", PQgetvalue(rows, r, 6)),
	};
	log_fields(LOG_INFO, "push (log provider)", f, sizeof(f) / sizeof(f[0]));
}

static void process(struct worker *w, PGresult *rows)
{
	json_t *outcomes = json_array();
	unsigned char raw[8];
	char mid[40];

	for (int r = 0; r < PQntuples(rows); r++) {
		const char *id = PQgetvalue(rows, r, 0);
		json_t *o;
		if (strcmp(PQgetvalue(rows, r, 7), "active") != 0) {
			/* the device was revoked or its token rejected after the alert was created */
			o = json_pack("{s:I,s:I,s:s,s:n,s:s}", "id", (json_int_t)strtoll(id, NULL, 10), "alert",
				      (json_int_t)strtoll(PQgetvalue(rows, r, 3), NULL, 10), "state", "failed", "mid", "err",
				      "device_not_active");
			metrics_count(w->d->metrics, METRIC_PUSH_FAILED, 1);
		} else {
			log_push(rows, r);
			randombytes_buf(raw, sizeof(raw));
			memcpy(mid, "log-", 4);
			sodium_bin2hex(mid + 4, sizeof(mid) - 4, raw, sizeof(raw));
			o = json_pack("{s:I,s:I,s:s,s:s,s:n}", "id", (json_int_t)strtoll(id, NULL, 10), "alert",
				      (json_int_t)strtoll(PQgetvalue(rows, r, 3), NULL, 10), "state", "sent", "mid", mid, "err");
			metrics_count(w->d->metrics, METRIC_PUSH_SENT, 1);
		}
		json_array_append_new(outcomes, o);
	}
	if (!record(w, outcomes))
		log_warn("dispatch: recording %zu outcomes failed; their leases expire and they are retried",
			 json_array_size(outcomes));
	json_decref(outcomes);
}

static bool connect_and_listen(struct worker *w)
{
	const struct config *cfg = w->d->cfg;

	if (w->conn && !db_broken(w->conn))
		return true;
	if (w->conn)
		PQfinish(w->conn);
	w->conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!w->conn)
		return false;
	PGresult *res = db_exec(w->conn, "LISTEN " CHANNEL, 0, NULL);
	PQclear(res);
	return res != NULL;
}

/* Sleep until a notification, stop, or the poll interval. */
static void wait_for_work(struct worker *w)
{
	struct pollfd fds[2] = { { .fd = w->conn ? PQsocket(w->conn) : -1, .events = POLLIN },
				 { .fd = w->d->wake_pipe[0], .events = POLLIN } };
	int n = poll(fds, 2, (int)w->d->cfg->push_poll_interval_ms);

	if (n > 0 && w->conn && (fds[0].revents & POLLIN)) {
		PQconsumeInput(w->conn);
		PGnotify *note;
		while ((note = PQnotifies(w->conn)))
			PQfreemem(note);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!stopping(w->d)) {
		if (!connect_and_listen(w)) {
			struct timespec pause = { 1, 0 };
			nanosleep(&pause, NULL);
			continue;
		}
		PGresult *rows = claim(w);
		int n = rows ? PQntuples(rows) : 0;
		if (n > 0)
			process(w, rows);
		PQclear(rows);
		if (n < w->d->cfg->push_batch_size)
			wait_for_work(w); /* a full batch means more may be due: go again at once */
	}
	return NULL;
}

bool dispatch_start(const struct config *cfg, struct metrics *metrics, const char *instance, struct dispatcher **out)
{
	struct dispatcher *d;

	*out = NULL;
	if (cfg->push_provider == 0) {
		log_warn("push.provider = live: FCM/APNs delivery is not in this build; outbox rows stay pending "
			 "(set push.provider = log for development)");
		return true;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return false;
	d->cfg = cfg;
	d->metrics = metrics;
	pthread_mutex_init(&d->lock, NULL);
	if (pipe(d->wake_pipe) != 0) {
		pthread_mutex_destroy(&d->lock);
		free(d);
		return false;
	}
	d->nworkers = (size_t)cfg->push_workers;
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->workers)
		goto fail;
	for (size_t i = 0; i < d->nworkers; i++) {
		struct worker *w = &d->workers[i];
		w->d = d;
		snprintf(w->lease_owner, sizeof(w->lease_owner), "%.100s/%u", instance, (unsigned)i);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			goto fail;
		w->started = true;
	}
	*out = d;
	return true;
fail:
	dispatch_stop(d);
	return false;
}

void dispatch_stop(struct dispatcher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_mutex_unlock(&d->lock);
	if (write(d->wake_pipe[1], "x", 1) < 0)
		log_warn("dispatch: wake pipe: %s", strerror(errno));
	for (size_t i = 0; d->workers && i < d->nworkers; i++) {
		if (d->workers[i].started)
			pthread_join(d->workers[i].thread, NULL);
		if (d->workers[i].conn)
			PQfinish(d->workers[i].conn);
	}
	close(d->wake_pipe[0]);
	close(d->wake_pipe[1]);
	pthread_mutex_destroy(&d->lock);
	free(d->workers);
	free(d);
}
