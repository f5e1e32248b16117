/*
 * dispatch.c - the dispatcher's worker threads (see dispatch.h): each keeps
 * its pipeline (dispatch_pipe.c) full from the outbox and records what comes
 * back, on one database connection used asynchronously, so neither a claim
 * nor a recording ever stops the sending.
 *
 * A worker's loop, one turn per event (an answer, a database result, a
 * notification, a timer):
 *   - the connection idle: record the outcomes waiting if there are enough
 *     (push.batch_size), or the oldest is push.record_interval_ms old, or the
 *     pipeline is empty; otherwise claim as many rows as there is room for
 *     (up to push.batch_size, and at least half of that unless the pipeline
 *     is nearly empty) when rows may be due;
 *   - then one pipeline step: start what may go, wait for answers, the
 *     database socket or the stop pipe.
 * Rows may be due after a notification, a full claim, or the poll interval.
 */
#include "push/dispatch.h"
#include "core/reload.h"
#include "core/clock.h"
#include "push/dispatch_pipe.h"
#include "core/config.h"
#include "db/db.h"
#include "core/log.h"
#include "core/metrics.h"
#include "push/push.h"
#include "push/push_creds.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHANNEL "alertd_outbox"
#define RECORD_TRIES 3		/* a failed recording is retried (new connection) before the leases are left to expire */
#define OUTBOX_GAUGE_INTERVAL 5 /* seconds between outbox depth samples (worker 0) */
#define RECONNECT_PAUSE 1.0	/* seconds between connection attempts while the database is away */

enum db_busy { DB_IDLE, DB_CLAIM, DB_RECORD };

struct worker {
	struct dispatcher *d;
	const struct config *cfg; /* this thread's snapshot (core/reload.h), renewed each loop pass */
	pthread_t thread;
	bool started;
	unsigned index;
	PGconn *conn;
	struct push_client *client;
	struct dispatch_pipe *pipe;
	char lease_owner[128];
	time_t gauge_at;
	enum db_busy busy;     /* the query in flight on conn */
	bool query_failed;     /* its result was an error */
	PGresult *result;      /* its result, acted on only once the statement's commit is confirmed */
	double claim_sent_at;  /* CLOCK_MONOTONIC: a lease starts no earlier */
	char *recording;       /* the outcomes being recorded (JSON text), kept until they land */
	size_t recording_rows; /* how many */
	int record_tries;
	size_t claim_limit;   /* rows the claim in flight asked for */
	bool more_due;	      /* rows may be waiting: claim when there is room */
	double next_poll_at;  /* CLOCK_MONOTONIC: claim then even without a notification */
	double reconnect_at;  /* CLOCK_MONOTONIC: no connection attempt before */
	bool stop_warned;     /* the "stopping without a database" warning is logged once */
	bool last_was_record; /* the last query sent was a recording: a wanted claim goes next */
};

struct dispatcher {
	const struct config *cfg; /* at startup; the workers read their snapshot of live */
	struct config_live *live;
	struct metrics *metrics;
	struct push_creds *creds; /* NULL with the log provider */
	char providers[16];	  /* text[] literal of the providers this instance sends */
	pthread_mutex_t lock;
	bool stopping;
	int wake_pipe[2]; /* written on stop, so a worker blocked in its wait returns */
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

#define CLAIM_SQL                                                                                                                            \
	"WITH c AS (SELECT id FROM push_outbox WHERE state = 'pending' AND due_at <= now()"                                                  \
	"   AND (leased_until IS NULL OR leased_until < now()) AND provider = ANY($4::text[])"                                               \
	"   ORDER BY priority, due_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED)"                                                             \
	" UPDATE push_outbox o SET leased_until = now() + make_interval(secs => $2::int), leased_by = $3,"                                   \
	"   attempts = o.attempts + 1" /* not updated_at nor due_at: indexed; a claim that changes no indexed column is written heap-only */ \
	" FROM c, alerts a, devices d WHERE o.id = c.id AND a.id = o.alert_id AND d.id = o.device_id"                                        \
	" RETURNING o.id, o.provider, o.priority, o.collapse_key, o.attempts,"                                                               \
	"   floor(extract(epoch FROM o.created_at))::bigint, a.id, a.kind, a.severity, a.title, a.body, a.lang,"                             \
	"   COALESCE(a.details->>'push_privacy', 'false'), d.id, d.state, d.push_token,"                                                     \
	"   d.state = 'revoked' AND a.kind = 'security.new_device' AND d.push_token IS NOT NULL"                                             \
	"   AND d.state_changed_at < a.created_at + make_interval(mins => " DISPATCH_WARNING_GRACE_MINUTES ")"                               \
	"   AND NOT EXISTS (SELECT 1 FROM devices t WHERE t.id <> d.id AND t.state = 'active'"                                               \
	"     AND t.platform = d.platform AND t.push_token = d.push_token)"

/*
 * The recording, one statement (so one round trip, sent without waiting):
 * each row sent, failed (with its reason) or due again later, its lease
 * released, only where this worker still holds it; dead devices retired,
 * only if the device still holds the token the provider refused (a phone
 * may have sent a new one meanwhile); and a delivered push is a sign of
 * life (coverage: "seen"): its device's last_seen_at moves to now, at most
 * once an hour per device, skipping a device another transaction holds.
 *
 * No wait for the WAL flush (set_config(..., true) lasts for this
 * statement's own transaction): an outcome lost in a database crash leaves
 * its row leased, so it is sent again after the lease, a duplicate, never a
 * loss. The claim keeps the synchronous commit: the lease is what keeps two
 * instances from sending one row.
 */
#define RECORD_SQL                                                                                                                     \
	"WITH r AS MATERIALIZED (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, state outbox_state, mid text,"            \
	"   err text, delay float8, unsent boolean, dev bigint, tok text, prov text)),"                                                \
	" async AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true) AS v),"                                          \
	" o AS (UPDATE push_outbox o SET state = r.state, provider_message_id = r.mid,"                                                \
	"   last_error = CASE WHEN r.unsent THEN o.last_error ELSE r.err END,"                                                         \
	"   attempts = o.attempts - CASE WHEN r.unsent THEN 1 ELSE 0 END,"                                                             \
	"   sent_at = CASE WHEN r.state = 'sent' THEN now() END,"                                                                      \
	"   due_at = CASE WHEN r.delay IS NOT NULL THEN now() + make_interval(secs => r.delay) ELSE o.due_at END,"                     \
	"   leased_until = NULL, leased_by = NULL, updated_at = now()"                                                                 \
	"   FROM r WHERE o.id = r.id AND o.leased_by = $2 RETURNING o.device_id, o.state),"                                            \
	" retired AS (UPDATE devices d SET state = 'token_invalid', state_reason = left(x.err, 500), state_changed_at = now()"         \
	"   FROM (SELECT dev, tok, err, prov FROM r WHERE dev IS NOT NULL) x" /* a device's outcomes with other tokens do not match */ \
	"   WHERE d.id = x.dev AND d.state = 'active' AND d.push_token = x.tok"                                                        \
	"   AND d.platform = (CASE x.prov WHEN 'apns' THEN 'ios' ELSE 'android' END)::device_platform RETURNING d.platform),"          \
	" seen AS (UPDATE devices d SET last_seen_at = now() WHERE d.id IN (SELECT x.id FROM devices x"                                \
	"   WHERE x.id IN (SELECT device_id FROM o WHERE state = 'sent')"                                                              \
	"   AND x.id NOT IN (SELECT dev FROM r WHERE dev IS NOT NULL)" /* a device is updated once per statement */                    \
	"   AND x.state = 'active' AND x.last_seen_at < now() - interval '1 hour' ORDER BY x.id FOR UPDATE SKIP LOCKED)"               \
	"   RETURNING 1)"                                                                                                              \
	" SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM retired WHERE platform = 'android'),"                                 \
	"   (SELECT count(*) FROM retired WHERE platform = 'ios'), (SELECT count(*) FROM seen), (SELECT v FROM async)"

/*
 * The hot statements, prepared on each worker connection when it is made
 * (connect_and_listen): planned once per connection, not at every claim
 * and recording (planning the claim cost about 2 ms, 40 µs a row of a batch
 * of 50, more than executing it).
 */
enum { S_CLAIM, S_RECORD, S__COUNT };
static const struct {
	const char *name;
	int nparams;
	const char *sql;
} statements[S__COUNT] = {
	[S_CLAIM] = { "alertd_claim", 4, CLAIM_SQL },
	[S_RECORD] = { "alertd_record", 2, RECORD_SQL },
};

static void drop_connection(struct worker *w, const char *why)
{
	PQclear(w->result); /* a result whose commit was never confirmed */
	w->result = NULL;
	if (why)
		log_warn("dispatch: worker %u: %s; a new database connection follows", w->index, why);
	PQfinish(w->conn);
	w->conn = NULL;
	w->busy = DB_IDLE;
	w->reconnect_at = clock_mono_seconds() + RECONNECT_PAUSE;
}

/*
 * A connection with its LISTEN and its prepared statements; false (and no
 * connection) when the database cannot be reached. Blocking: it runs only
 * when there is none.
 */
static bool connect_and_listen(struct worker *w)
{
	const struct config *cfg = w->cfg;

	w->conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!w->conn) {
		w->reconnect_at = clock_mono_seconds() + RECONNECT_PAUSE;
		return false;
	}
	bool ok = db_run(w->conn, "LISTEN " CHANNEL, 0, NULL);
	for (int i = 0; ok && i < S__COUNT; i++)
		ok = db_prepare(w->conn, statements[i].name, statements[i].sql, statements[i].nparams);
	if (!ok) {
		/* a connection without its LISTEN or its statements is no use */
		drop_connection(w, NULL);
		return false;
	}
	w->busy = DB_IDLE;
	w->more_due = true; /* whatever was notified while there was no connection */
	return true;
}

/* Send a prepared statement without waiting for its result. */
static bool send_prepared(struct worker *w, int which, const char *const *params, enum db_busy what)
{
	if (!PQsendQueryPrepared(w->conn, statements[which].name, statements[which].nparams, params, NULL, NULL, 0)) {
		drop_connection(w, PQerrorMessage(w->conn));
		return false;
	}
	w->busy = what;
	w->query_failed = false;
	return true;
}

/* Claim as many due rows as the pipeline has room for (at most push.batch_size). */
static void send_claim(struct worker *w, size_t limit)
{
	const struct config *cfg = w->cfg;
	char limit_text[24], lease[24];

	snprintf(limit_text, sizeof(limit_text), "%zu", limit);
	snprintf(lease, sizeof(lease), "%lld", cfg->push_lease_seconds);
	const char *params[4] = { limit_text, lease, w->lease_owner, w->d->providers };
	w->claim_sent_at = clock_mono_seconds();
	if (send_prepared(w, S_CLAIM, params, DB_CLAIM))
		w->more_due = false; /* until the claim comes back full, a notification, or the poll interval */
}

/* Send the outcomes waiting (or the ones a failed recording kept) to be recorded. */
static void forget_recording(struct worker *w)
{
	free(w->recording);
	w->recording = NULL;
	w->recording_rows = 0;
	w->record_tries = 0;
}

static void send_record(struct worker *w)
{
	if (!w->recording) {
		json_t *outcomes = dispatch_pipe_take_outcomes(w->pipe);
		if (!outcomes)
			return;
		w->recording_rows = json_array_size(outcomes);
		w->recording = json_dumps(outcomes, JSON_COMPACT);
		json_decref(outcomes);
		w->record_tries = 0;
		if (!w->recording) {
			log_warn("dispatch: %zu outcomes lost (out of memory); their leases run out and they are sent again",
				 w->recording_rows);
			return;
		}
	}
	if (w->record_tries >= RECORD_TRIES) {
		/* it could not even be sent RECORD_TRIES times (connections breaking) */
		log_warn("dispatch: recording %zu outcomes failed %d times; their leases expire and they are sent again",
			 w->recording_rows, w->record_tries);
		forget_recording(w);
		return;
	}
	const char *params[2] = { w->recording, w->lease_owner };
	w->record_tries++;
	send_prepared(w, S_RECORD, params, DB_RECORD);
}


/* A claim's result: its rows join the pipeline (which owns res from here). */
static void claimed(struct worker *w, PGresult *res)
{
	const struct config *cfg = w->cfg;
	size_t n = (size_t)PQntuples(res);

	/* room for the last send to time out, and for recording, before the lease ends */
	double release_at =
		w->claim_sent_at + (double)cfg->push_lease_seconds - 2.0 * (double)cfg->push_request_timeout_seconds - 5.0;
	if (n > 0 && n == w->claim_limit)
		w->more_due = true; /* a full claim: more may be due */
	/*
	 * A commit confirmed so late that the lease (from the claim's start)
	 * may have run out: another instance may hold the rows by now. They
	 * are not sent; the lease, if any is left, runs out and they are
	 * claimed again.
	 */
	if (n > 0 && clock_mono_seconds() >= w->claim_sent_at + (double)cfg->push_lease_seconds - 1.0) {
		log_warn("dispatch: %zu claimed rows dropped unsent: the claim's commit came after its lease could have run out",
			 n);
		PQclear(res);
		return;
	}
	if (!dispatch_pipe_admit(w->pipe, res, release_at))
		log_warn("dispatch: %zu claimed rows could not be held; their leases expire and they are sent again", n);
}

/* A recording's result. */
static void recorded(struct worker *w, PGresult *res)
{
	long long rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	unsigned retired[PUSH__PROVIDERS] = { (unsigned)strtoul(PQgetvalue(res, 0, 1), NULL, 10),
					      (unsigned)strtoul(PQgetvalue(res, 0, 2), NULL, 10) };

	if (rows >= 0 && (size_t)rows < w->recording_rows) {
		if (w->record_tries > 1)
			/* an earlier try may have committed before its connection broke */
			log_warn("dispatch: %zu of %zu outcomes not recorded by this retry: an earlier try may have recorded them, "
				 "or their lease had run out",
				 w->recording_rows - (size_t)rows, w->recording_rows);
		else
			/* another worker claimed them after our lease ran out: it sends them again */
			log_warn("dispatch: %zu of %zu outcomes not recorded: their lease had run out (raise push.lease_seconds)",
				 w->recording_rows - (size_t)rows, w->recording_rows);
	}
	for (int p = 0; p < PUSH__PROVIDERS; p++)
		if (retired[p]) {
			metrics_push_retired(w->d->metrics, p, retired[p]);
			log_info("dispatch: retired %u %s device(s) whose push token the provider rejected", retired[p],
				 push_provider_name(p));
		}
	forget_recording(w);
}

/* The in-flight query failed or its connection was lost: a recording is kept for another try. */
static void query_failed(struct worker *w, const char *why)
{
	if (w->busy == DB_RECORD && w->record_tries >= RECORD_TRIES) {
		log_warn("dispatch: recording %zu outcomes failed %d times; their leases expire and they are sent again",
			 w->recording_rows, w->record_tries);
		forget_recording(w);
	}
	/* a new connection, whatever failed: one that lost its prepared statements looks healthy */
	drop_connection(w, why);
}

/* Read what the database sent: notifications, and the in-flight query's result once it is complete. */
static void read_results(struct worker *w)
{
	PGnotify *note;

	if (!PQconsumeInput(w->conn)) {
		query_failed(w, PQerrorMessage(w->conn));
		return;
	}
	while ((note = PQnotifies(w->conn))) {
		PQfreemem(note);
		w->more_due = true;
	}
	while (w->busy != DB_IDLE && !PQisBusy(w->conn)) {
		PGresult *res = PQgetResult(w->conn);
		if (res) {
			if (PQresultStatus(res) != PGRES_TUPLES_OK || w->result ||
			    (w->busy == DB_RECORD && PQntuples(res) != 1)) {
				log_error("dispatch: %s: %s", w->busy == DB_CLAIM ? "claim" : "recording",
					  PQresultStatus(res) == PGRES_TUPLES_OK ? "an unexpected second or malformed result"
										 : PQresultErrorMessage(res));
				w->query_failed = true;
				PQclear(res);
			} else {
				w->result = res;
			}
			continue;
		}
		/*
		 * The query is over, and only now is its commit known (an error
		 * may follow the rows, e.g. from a deferred trigger): claimed rows
		 * are sent, and outcomes forgotten, only once it committed. A
		 * claim that failed to commit leased nothing; rows sent without a
		 * lease could be sent by another instance at the same time.
		 */
		PGresult *done = w->result;
		enum db_busy what = w->busy;
		w->result = NULL;
		if (w->query_failed || !done) {
			PQclear(done);
			query_failed(w, what == DB_CLAIM ? "a claim failed" : "a recording failed");
			break;
		}
		w->busy = DB_IDLE;
		if (what == DB_CLAIM) {
			claimed(w, done); /* the pipeline owns done */
		} else {
			recorded(w, done);
			PQclear(done);
		}
		break;
	}
}

/* Worker 0 samples the outbox depth for /metrics every few seconds (a short synchronous query). */
static void sample_outbox(struct worker *w)
{
	time_t now = time(NULL);

	if (w->index != 0 || now - w->gauge_at < OUTBOX_GAUGE_INTERVAL)
		return;
	w->gauge_at = now;
	PGresult *res = db_exec(w->conn,
				"SELECT count(*), COALESCE(extract(epoch FROM now() - min(due_at))::bigint, 0)"
				" FROM push_outbox WHERE state = 'pending' AND due_at <= now()",
				0, NULL);
	if (res && PQntuples(res) == 1)
		metrics_push_outbox(w->d->metrics, strtoll(PQgetvalue(res, 0, 0), NULL, 10),
				    strtoll(PQgetvalue(res, 0, 1), NULL, 10));
	PQclear(res);
	if (!res)
		drop_connection(w, "the outbox sample failed");
}

/* How many rows to claim now, if any: rows may be due and there is room for a worthwhile claim. */
static size_t claim_wanted(struct worker *w, double now)
{
	const struct config *cfg = w->cfg;

	if (now >= w->next_poll_at) {
		w->more_due = true;
		w->next_poll_at = now + (double)cfg->push_poll_interval_ms / 1000.0;
	}
	size_t room = dispatch_pipe_room(w->pipe), batch = (size_t)cfg->push_batch_size;
	size_t cap = (size_t)cfg->push_max_in_flight, full = batch < cap ? batch : cap;
	size_t want = room < batch ? room : batch;
	/* not a trickle of tiny claims while the pipeline is busy: each claim costs a statement */
	if (w->more_due && want > 0 && (dispatch_pipe_held(w->pipe) == 0 || 2 * want >= full))
		return want;
	return 0;
}

/* With the connection idle: record, or claim, or nothing. */
static void next_query(struct worker *w, double now, bool stop)
{
	const struct config *cfg = w->cfg;
	double oldest;
	size_t ready = dispatch_pipe_outcomes_ready(w->pipe, &oldest);
	size_t held = dispatch_pipe_held(w->pipe);

	bool record_due = w->recording || (ready > 0 && (ready >= (size_t)cfg->push_batch_size || held == 0 || stop ||
							 now - oldest >= (double)cfg->push_record_interval_ms / 1000.0));
	/* a claim gets its turn after each recording: when PostgreSQL is slow, recordings alone would empty the pipeline */
	if (record_due && !(w->last_was_record && !stop && claim_wanted(w, now))) {
		send_record(w);
		w->last_was_record = true;
		return;
	}
	w->last_was_record = false;
	if (stop)
		return;
	size_t want = claim_wanted(w, now);
	if (want > 0) {
		w->claim_limit = want;
		send_claim(w, want);
	}
}

/* How long the pipeline may wait for an answer before this worker has something to do. */
static int wait_ms(struct worker *w, double now)
{
	const struct config *cfg = w->cfg;
	double until = now + 1.0, oldest;

	if (!w->conn)
		until = w->reconnect_at;
	else if (w->busy != DB_IDLE)
		return 1000; /* its result wakes the wait (the socket is watched); nothing else can be sent before */
	else if (w->next_poll_at < until)
		until = w->next_poll_at;
	if (w->conn && dispatch_pipe_outcomes_ready(w->pipe, &oldest) > 0) {
		double due = oldest + (double)cfg->push_record_interval_ms / 1000.0;
		if (due < until)
			until = due;
	}
	double ms = (until - now) * 1000.0;
	return ms <= 0 ? 0 : ms >= 1000 ? 1000 : (int)ms + 1;
}

/* The push tuning options are reloadable: take the current snapshot between two passes, never within one. */
static void renew_config(struct worker *w)
{
	const struct config *next = config_live_acquire(w->d->live);

	if (next == w->cfg) {
		config_live_release(w->d->live, next);
		return;
	}
	config_live_release(w->d->live, w->cfg);
	w->cfg = next;
	dispatch_pipe_set_config(w->pipe, next);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		renew_config(w);
		bool stop = stopping(w->d);
		double now = clock_mono_seconds();
		if (!w->conn && now >= w->reconnect_at && !connect_and_listen(w) && stop) {
			size_t ready = dispatch_pipe_outcomes_ready(w->pipe, &(double){ 0 });
			if ((w->recording || ready) && !w->stop_warned) {
				log_warn("dispatch: stopping without a database: %zu outcomes not recorded; their leases expire "
					 "and they are sent again",
					 w->recording_rows + ready);
				w->stop_warned = true;
			}
			if (dispatch_pipe_held(w->pipe) == 0)
				break;
		}
		if (w->conn && w->busy == DB_IDLE) {
			if (!stop)
				sample_outbox(w);
			if (w->conn) {
				read_results(w); /* notifications that came with the sample */
				if (w->conn)
					next_query(w, now, stop);
			}
		}
		if (stop && dispatch_pipe_held(w->pipe) == 0 && w->busy == DB_IDLE && !w->recording &&
		    dispatch_pipe_outcomes_ready(w->pipe, &(double){ 0 }) == 0)
			break;
		struct curl_waitfd fds[2];
		unsigned n = 0;
		int pg = w->conn ? PQsocket(w->conn) : -1;
		if (pg >= 0)
			fds[n++] = (struct curl_waitfd){ .fd = pg, .events = CURL_WAIT_POLLIN };
		if (!stop) /* once stopping it stays readable: the wait would spin */
			fds[n++] = (struct curl_waitfd){ .fd = w->d->wake_pipe[0], .events = CURL_WAIT_POLLIN };
		/* once stopping, short waits: what is left is the requests in flight and the last recording */
		dispatch_pipe_step(w->pipe, fds, n, stop ? 50 : wait_ms(w, now), stop);
		if (pg >= 0 && w->conn && (fds[0].revents & CURL_WAIT_POLLIN))
			read_results(w);
	}
	return NULL;
}

/* Which providers this instance sends, as a text[] literal for claim(). */
static bool choose_providers(struct dispatcher *d, const struct secrets_kek *kek)
{
	const struct config *cfg = d->cfg;
	char err[512];

	if (cfg->push_provider == CONFIG_PUSH_LOG) {
		snprintf(d->providers, sizeof(d->providers), "{fcm,apns}");
		return true;
	}
	if (!push_global_init())
		return false;
	if (!push_creds_new(cfg, d->metrics, kek, &d->creds, err, sizeof(err))) {
		log_error("push: %s", err);
		return false;
	}
	bool fcm = push_creds_enabled(d->creds, PUSH_FCM), apns = push_creds_enabled(d->creds, PUSH_APNS);
	snprintf(d->providers, sizeof(d->providers), "{%s%s%s}", fcm ? "fcm" : "", fcm && apns ? "," : "", apns ? "apns" : "");
	if (!fcm)
		log_warn("push: fcm.credentials_file is not set: Android outbox rows wait until it is");
	if (!apns)
		log_warn("push: apns.key_file is not set: iOS outbox rows wait until it is");
	if (cfg->push_lease_seconds < 3 * cfg->push_request_timeout_seconds + 5)
		log_warn("push: lease_seconds %lld is short for request_timeout_seconds %lld: a slow batch may be "
			 "claimed again by another worker and sent twice",
			 cfg->push_lease_seconds, cfg->push_request_timeout_seconds);
	return true;
}

bool dispatch_start(const struct config *cfg, struct config_live *live, struct metrics *metrics,
		    const struct secrets_kek *kek, const char *instance, struct dispatcher **out)
{
	struct dispatcher *d;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return false;
	d->cfg = cfg;
	d->live = live;
	d->metrics = metrics;
	d->wake_pipe[0] = d->wake_pipe[1] = -1;
	pthread_mutex_init(&d->lock, NULL);
	if (pipe(d->wake_pipe) != 0 || !choose_providers(d, kek))
		goto fail;
	d->nworkers = (size_t)cfg->push_workers;
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->workers)
		goto fail;
	for (size_t i = 0; i < d->nworkers; i++) {
		struct worker *w = &d->workers[i];
		w->d = d;
		w->index = (unsigned)i;
		w->cfg = config_live_acquire(live);
		snprintf(w->lease_owner, sizeof(w->lease_owner), "%.100s/%u", instance, (unsigned)i);
		if (cfg->push_provider == CONFIG_PUSH_LIVE && !(w->client = push_client_new(cfg)))
			goto fail;
		struct dispatch_ctx ctx = { .cfg = w->cfg, .metrics = metrics, .creds = d->creds, .client = w->client };
		if (!(w->pipe = dispatch_pipe_new(&ctx, (size_t)cfg->push_max_in_flight)))
			goto fail;
	}
	for (size_t i = 0; i < d->nworkers; i++) {
		if (pthread_create(&d->workers[i].thread, NULL, worker_main, &d->workers[i]) != 0)
			goto fail;
		d->workers[i].started = true;
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
	if (d->wake_pipe[1] >= 0 && write(d->wake_pipe[1], "x", 1) < 0)
		log_warn("dispatch: wake pipe: %s", strerror(errno));
	for (size_t i = 0; d->workers && i < d->nworkers; i++) {
		if (d->workers[i].started)
			pthread_join(d->workers[i].thread, NULL);
		if (d->workers[i].conn)
			PQfinish(d->workers[i].conn);
		/* the client first: its transfers point into the pipeline's rows */
		push_client_free(d->workers[i].client);
		dispatch_pipe_free(d->workers[i].pipe);
		free(d->workers[i].recording);
		config_live_release(d->live, d->workers[i].cfg);
	}
	if (d->wake_pipe[0] >= 0)
		close(d->wake_pipe[0]);
	if (d->wake_pipe[1] >= 0)
		close(d->wake_pipe[1]);
	push_creds_free(d->creds);
	pthread_mutex_destroy(&d->lock);
	free(d->workers);
	free(d);
}
