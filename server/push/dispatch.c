/*
 * dispatch.c - outbox claiming and recording, and the worker threads (see
 * dispatch.h). Sending a claimed batch is dispatch_send.c.
 *
 * A worker's loop: claim due rows (lease + SKIP LOCKED) -> send them ->
 * record every outcome in one transaction -> claim again at once if the
 * batch was full, else sleep until NOTIFY, stop or the poll interval.
 */
#include "push/dispatch.h"
#include "core/clock.h"
#include "push/dispatch_send.h"
#include "core/config.h"
#include "db/db.h"
#include "core/log.h"
#include "core/metrics.h"
#include "push/push.h"
#include "push/push_creds.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHANNEL "alertd_outbox"
#define RECORD_TRIES 3		/* a failed recording is retried (new connection) before the lease is left to expire */
#define OUTBOX_GAUGE_INTERVAL 5 /* seconds between outbox depth samples (worker 0) */

struct worker {
	struct dispatcher *d;
	pthread_t thread;
	bool started;
	unsigned index;
	PGconn *conn;
	struct push_client *client;
	char lease_owner[128];
	time_t gauge_at;
};

struct dispatcher {
	const struct config *cfg;
	struct metrics *metrics;
	struct push_creds *creds; /* NULL with the log provider */
	char providers[16];	  /* text[] literal of the providers this instance sends */
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

static bool stopping_cb(void *arg)
{
	return stopping(arg);
}

#define CLAIM_SQL                                                                                                                                       \
	"WITH c AS (SELECT id FROM push_outbox WHERE state = 'pending' AND due_at <= now()"                                                             \
	"   AND (leased_until IS NULL OR leased_until < now()) AND provider = ANY($4::text[])"                                                          \
	"   ORDER BY priority, due_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED)"                                                                        \
	" UPDATE push_outbox o SET leased_until = now() + make_interval(secs => $2::int), leased_by = $3,"                                              \
	"   attempts = o.attempts + 1" /* not updated_at: it is indexed (retention), and a claim that changes no indexed column is written heap-only */ \
	" FROM c, alerts a, devices d WHERE o.id = c.id AND a.id = o.alert_id AND d.id = o.device_id"                                                   \
	" RETURNING o.id, o.provider, o.priority, o.collapse_key, o.attempts,"                                                                          \
	"   floor(extract(epoch FROM o.created_at))::bigint, a.id, a.kind, a.severity, a.title, a.body, a.lang,"                                        \
	"   COALESCE(a.details->>'push_privacy', 'false'), d.id, d.state, d.push_token,"                                                                \
	"   d.state = 'revoked' AND a.kind = 'security.new_device' AND d.push_token IS NOT NULL"                                                        \
	"   AND d.state_changed_at < a.created_at + make_interval(mins => " DISPATCH_WARNING_GRACE_MINUTES ")"                                          \
	"   AND NOT EXISTS (SELECT 1 FROM devices t WHERE t.id <> d.id AND t.state = 'active'"                                                          \
	"     AND t.platform = d.platform AND t.push_token = d.push_token)"

/*
 * The hot statements, prepared on each worker connection when it is made
 * (connect_and_listen): planned once per connection, not at every claim
 * and recording (planning the claim cost about 2 ms, 40 µs a row of a batch
 * of 50, more than executing it).
 */
enum { S_CLAIM, S_RECORD, S_RETIRE_FCM, S_RETIRE_APNS, S__COUNT };
static const struct {
	const char *name;
	int nparams;
	const char *sql;
} statements[S__COUNT] = {
	[S_CLAIM] = { "alertd_claim", 4, CLAIM_SQL },
	/*
	 * A delivered push is a sign of life (coverage: "seen"): its device's
	 * last_seen_at moves to now, at most once an hour per device so the hot
	 * path writes almost nothing more; a device another transaction holds (a
	 * heartbeat, another worker) is skipped, never waited for.
	 */
	[S_RECORD] = { "alertd_record", 2,
		       "WITH o AS (UPDATE push_outbox o SET state = r.state, provider_message_id = r.mid,"
		       " last_error = CASE WHEN r.unsent THEN o.last_error ELSE r.err END,"
		       " attempts = o.attempts - CASE WHEN r.unsent THEN 1 ELSE 0 END,"
		       " sent_at = CASE WHEN r.state = 'sent' THEN now() END,"
		       " due_at = CASE WHEN r.delay IS NOT NULL THEN now() + make_interval(secs => r.delay) ELSE o.due_at END,"
		       " leased_until = NULL, leased_by = NULL, updated_at = now()"
		       " FROM jsonb_to_recordset($1::jsonb)"
		       "   AS r(id bigint, state outbox_state, mid text, err text, delay float8, unsent boolean)"
		       " WHERE o.id = r.id AND o.leased_by = $2 RETURNING o.id, o.device_id, o.state),"
		       " seen AS (UPDATE devices d SET last_seen_at = now() WHERE d.id IN (SELECT x.id FROM devices x"
		       "   WHERE x.id IN (SELECT device_id FROM o WHERE state = 'sent') AND x.state = 'active'"
		       "   AND x.last_seen_at < now() - interval '1 hour' ORDER BY x.id FOR UPDATE SKIP LOCKED) RETURNING 1)"
		       " SELECT id FROM o" },
	/* a token is retired only if the device still holds it: a phone may have sent a new one meanwhile */
	[S_RETIRE_FCM] = { "alertd_retire_fcm", 1,
			   "UPDATE devices d SET state = 'token_invalid', state_reason = left(r.err, 500), state_changed_at = now()"
			   " FROM (SELECT DISTINCT ON (dev) (x->>'dev')::bigint AS dev, x->>'tok' AS tok, x->>'err' AS err"
			   "       FROM jsonb_array_elements($1::jsonb) x WHERE x ? 'dev' ORDER BY dev) r"
			   " WHERE d.id = r.dev AND d.state = 'active' AND d.push_token = r.tok AND d.platform = 'android'"
			   " RETURNING d.id" },
	[S_RETIRE_APNS] = { "alertd_retire_apns", 1,
			    "UPDATE devices d SET state = 'token_invalid', state_reason = left(r.err, 500), state_changed_at = now()"
			    " FROM (SELECT DISTINCT ON (dev) (x->>'dev')::bigint AS dev, x->>'tok' AS tok, x->>'err' AS err"
			    "       FROM jsonb_array_elements($1::jsonb) x WHERE x ? 'dev' ORDER BY dev) r"
			    " WHERE d.id = r.dev AND d.state = 'active' AND d.push_token = r.tok AND d.platform = 'ios'"
			    " RETURNING d.id" },
};

/*
 * Claim due rows: a lease makes them ours until recorded or expired. The
 * columns are those dispatch_send_batch reads (DISPATCH_COL_*).
 *
 * High-priority rows (risk alerts, the new-device warning) first, then by
 * due time: 'high' sorts before 'normal' (the only two values), in the order
 * of push_outbox_priority_claim_idx (migration 0010), so a backlog of
 * information alerts never delays a warning.
 *
 * The warning of a new activation is still delivered to a sibling device
 * revoked less than DISPATCH_WARNING_GRACE_MINUTES after that activation
 * (DISPATCH_COL_WARN_REVOKED): otherwise whoever activated the new phone
 * could revoke the siblings at once and so cancel the warnings meant for the
 * real owner. Only while the revoked device still has its push token and no
 * active device holds that token now (it would reach another binding).
 */
static PGresult *claim(struct worker *w)
{
	char limit[24], lease[24];
	const struct config *cfg = w->d->cfg;

	snprintf(limit, sizeof(limit), "%lld", cfg->push_batch_size);
	snprintf(lease, sizeof(lease), "%lld", cfg->push_lease_seconds);
	const char *params[4] = { limit, lease, w->lease_owner, w->d->providers };
	return db_exec_prepared(w->conn, statements[S_CLAIM].name, statements[S_CLAIM].nparams, params);
}

static bool run(PGconn *conn, const char *sql, int nparams, const char *const *params, int *affected)
{
	PGresult *res = db_exec(conn, sql, nparams, params);

	if (res && affected)
		*affected = PQntuples(res);
	PQclear(res);
	return res != NULL;
}

/* run() for statements[which], prepared on conn by connect_and_listen. */
static bool run_prepared(PGconn *conn, int which, const char *const *params, int *affected)
{
	PGresult *res = db_exec_prepared(conn, statements[which].name, statements[which].nparams, params);

	if (res && affected)
		*affected = PQntuples(res);
	PQclear(res);
	return res != NULL;
}

/*
 * Record outcomes in one transaction: each row sent, failed (with its
 * reason) or due again later, its lease released; and dead devices
 * retired. Only rows still leased by this worker are touched. *retired
 * counts the devices retired, per provider.
 */
static bool record_once(struct worker *w, const char *text, size_t n_outcomes, unsigned retired[PUSH__PROVIDERS])
{
	const char *params[2] = { text, w->lease_owner };
	int n_fcm = 0, n_apns = 0, n_rows = 0;

	/*
	 * No wait for the WAL flush: an outcome lost in a database crash leaves
	 * its row leased, so it is sent again after the lease (a duplicate, never
	 * a loss), and a batch's commit no longer stalls the worker on fsync.
	 */
	if (!db_begin(w->conn) || !run(w->conn, "SET LOCAL synchronous_commit = off", 0, NULL, NULL)) {
		db_rollback(w->conn);
		return false;
	}
	/* the alerts are not touched: their delivery state is read from these rows (migration 0020) */
	bool ok = run_prepared(w->conn, S_RECORD, params, &n_rows) && run_prepared(w->conn, S_RETIRE_FCM, params, &n_fcm) &&
		  run_prepared(w->conn, S_RETIRE_APNS, params, &n_apns) && db_commit(w->conn);
	if (!ok) {
		db_rollback(w->conn);
		return false;
	}
	retired[PUSH_FCM] = (unsigned)n_fcm;
	retired[PUSH_APNS] = (unsigned)n_apns;
	if ((size_t)n_rows < n_outcomes)
		/* another worker claimed them after our lease ran out: it sends them again */
		log_warn("dispatch: %zu of %zu outcomes not recorded: their lease had run out (raise push.lease_seconds)",
			 n_outcomes - (size_t)n_rows, n_outcomes);
	return true;
}

static bool connect_and_listen(struct worker *w);

/*
 * Record, retrying on a new connection: a recording that never lands leaves
 * the rows leased, and they would be sent a second time after the lease.
 */
static bool record(struct worker *w, json_t *outcomes)
{
	char *text = json_dumps(outcomes, JSON_COMPACT);
	unsigned retired[PUSH__PROVIDERS] = { 0, 0 };
	bool ok = false;

	if (!text)
		return false;
	for (int t = 0; t < RECORD_TRIES && !ok; t++) {
		if (t > 0) {
			struct timespec pause = { 0, 200 * 1000 * 1000L * t };
			nanosleep(&pause, NULL);
			/* a new connection, whatever failed: one that lost its prepared statements looks healthy */
			PQfinish(w->conn);
			w->conn = NULL;
			if (!connect_and_listen(w))
				continue;
		}
		ok = record_once(w, text, json_array_size(outcomes), retired);
	}
	free(text);
	for (int p = 0; ok && p < PUSH__PROVIDERS; p++)
		if (retired[p]) {
			metrics_push_retired(w->d->metrics, p, retired[p]);
			log_info("dispatch: retired %u %s device(s) whose push token the provider rejected", retired[p],
				 push_provider_name(p));
		}
	return ok;
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
	bool ok = res != NULL;
	for (int i = 0; ok && i < S__COUNT; i++)
		ok = db_prepare(w->conn, statements[i].name, statements[i].sql, statements[i].nparams);
	if (!ok) {
		/* a connection without its LISTEN or its statements is no use: a new one at the next try */
		PQfinish(w->conn);
		w->conn = NULL;
	}
	return ok;
}

/* Drop queued notifications; true if there were any. */
static bool drain_notifications(PGconn *conn)
{
	PGnotify *note;
	bool any = false;

	PQconsumeInput(conn);
	while ((note = PQnotifies(conn))) {
		PQfreemem(note);
		any = true;
	}
	return any;
}

/*
 * Sleep until a notification, stop, or the poll interval. A notification
 * that arrived while the worker ran its claim or recording is already in
 * libpq's queue, not on the socket: it is checked first, or the worker
 * would sleep a whole poll interval with new rows waiting.
 */
static void wait_for_work(struct worker *w)
{
	if (w->conn && drain_notifications(w->conn))
		return;
	struct pollfd fds[2] = { { .fd = w->conn ? PQsocket(w->conn) : -1, .events = POLLIN },
				 { .fd = w->d->wake_pipe[0], .events = POLLIN } };
	int n = poll(fds, 2, (int)w->d->cfg->push_poll_interval_ms);

	if (n > 0 && w->conn && (fds[0].revents & POLLIN))
		drain_notifications(w->conn);
}

/* Worker 0 samples the outbox depth for /metrics every few seconds. */
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
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct dispatch_ctx ctx = {
		.cfg = w->d->cfg, .metrics = w->d->metrics, .creds = w->d->creds, .stopping = stopping_cb, .stopping_arg = w->d
	};

	while (!stopping(w->d)) {
		if (!connect_and_listen(w)) {
			struct timespec pause = { 1, 0 };
			nanosleep(&pause, NULL);
			continue;
		}
		sample_outbox(w);
		double claimed_at = clock_mono_seconds();
		PGresult *rows = claim(w);
		if (!rows) {
			/* replaced at the next round: a connection that lost its prepared statements looks healthy */
			PQfinish(w->conn);
			w->conn = NULL;
		}
		int n = rows ? PQntuples(rows) : 0;
		if (n > 0) {
			ctx.client = w->client;
			/* room for one more round (and a token fetch) before the lease ends, and for recording */
			ctx.round_deadline = claimed_at + (double)w->d->cfg->push_lease_seconds -
					     2.0 * (double)w->d->cfg->push_request_timeout_seconds - 5.0;
			json_t *outcomes = dispatch_send_batch(&ctx, rows);
			if (!outcomes || !record(w, outcomes))
				log_warn("dispatch: recording %d outcomes failed; their leases expire and they are sent again",
					 n);
			json_decref(outcomes);
		}
		PQclear(rows);
		if (n < w->d->cfg->push_batch_size)
			wait_for_work(w); /* a full batch means more may be due: go again at once */
	}
	return NULL;
}

/* Which providers this instance sends, as a text[] literal for claim(). */
static bool choose_providers(struct dispatcher *d)
{
	const struct config *cfg = d->cfg;
	char err[512];

	if (cfg->push_provider == CONFIG_PUSH_LOG) {
		snprintf(d->providers, sizeof(d->providers), "{fcm,apns}");
		return true;
	}
	if (!push_global_init())
		return false;
	if (!push_creds_new(cfg, d->metrics, &d->creds, err, sizeof(err))) {
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

bool dispatch_start(const struct config *cfg, struct metrics *metrics, const char *instance, struct dispatcher **out)
{
	struct dispatcher *d;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return false;
	d->cfg = cfg;
	d->metrics = metrics;
	d->wake_pipe[0] = d->wake_pipe[1] = -1;
	pthread_mutex_init(&d->lock, NULL);
	if (pipe(d->wake_pipe) != 0 || !choose_providers(d))
		goto fail;
	d->nworkers = (size_t)cfg->push_workers;
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->workers)
		goto fail;
	for (size_t i = 0; i < d->nworkers; i++) {
		struct worker *w = &d->workers[i];
		w->d = d;
		w->index = (unsigned)i;
		snprintf(w->lease_owner, sizeof(w->lease_owner), "%.100s/%u", instance, (unsigned)i);
		if (cfg->push_provider == CONFIG_PUSH_LIVE && !(w->client = push_client_new(cfg)))
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
		push_client_free(d->workers[i].client);
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
