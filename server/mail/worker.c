/*
 * worker.c - the mail workers (see worker.h).
 *
 * Mail is a trickle beside push, so each thread is simple and synchronous:
 * one libpq connection, claim a batch, send its rows one after another,
 * record each outcome as soon as it is known, then wait for a notification,
 * the poll interval or the stop pipe. A claim moves due_at to the lease's
 * end, so a row whose instance died is simply due again then, and any
 * instance claims it. Every recording is fenced by the claim's own lease
 * name: a row reclaimed meanwhile is not touched.
 */
#include "mail/worker.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/db.h"
#include "mail/message.h"
#include "mail/smtp.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHANNEL "alertd_mail"
#define RECONNECT_PAUSE_MS 2000
/* what a send may take beyond smtp.timeout_seconds before the lease is at risk */
#define LEASE_MARGIN_SECONDS 5

struct mail_workers;

struct worker {
	struct mail_workers *pool;
	unsigned index;
	pthread_t thread;
	bool started;
	PGconn *conn;
	unsigned long long claims;
};

struct mail_workers {
	const struct config *cfg;
	struct metrics *metrics;
	struct mail_smtp smtp;
	struct secrets_kek kek;
	bool have_kek;
	char instance[96];
	int stop_pipe[2];
	unsigned nworkers;
	struct worker *workers;
};

static bool stopping(const struct mail_workers *p)
{
	struct pollfd fd = { .fd = p->stop_pipe[0], .events = POLLIN };
	return poll(&fd, 1, 0) > 0;
}

/* Wait up to ms for the stop pipe or, when conn is set, a notification; false when stopping. */
static bool wait_for_work(struct worker *w, int ms)
{
	struct pollfd fds[2] = { { .fd = w->pool->stop_pipe[0], .events = POLLIN }, { .fd = -1, .events = POLLIN } };
	PGnotify *note;

	/* a notification libpq already read during the last statements would leave the socket quiet: look first */
	if (w->conn && PQconsumeInput(w->conn) && (note = PQnotifies(w->conn))) {
		do
			PQfreemem(note);
		while ((note = PQnotifies(w->conn)));
		return true;
	}
	if (w->conn)
		fds[1].fd = PQsocket(w->conn);
	if (poll(fds, fds[1].fd >= 0 ? 2 : 1, ms) < 0 || (fds[0].revents & POLLIN))
		return !stopping(w->pool);
	if (w->conn && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(w->conn)) {
		log_warn("mail: worker %u: the database connection broke; reconnecting", w->index);
		PQfinish(w->conn);
		w->conn = NULL;
	}
	while (w->conn && (note = PQnotifies(w->conn)))
		PQfreemem(note);
	return true;
}

static bool connect_and_listen(struct worker *w)
{
	const struct config *cfg = w->pool->cfg;

	w->conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (w->conn && !db_run(w->conn, "LISTEN " CHANNEL, 0, NULL)) {
		PQfinish(w->conn);
		w->conn = NULL;
	}
	return w->conn != NULL;
}

static void count(struct worker *w, enum mail_send_result result, enum mail_reason reason)
{
	static const enum metrics_counter by_reason[MAIL_REASON__COUNT] = {
		[MAIL_REASON_CONNECT] = METRIC_MAIL_RETRY_CONNECT,
		[MAIL_REASON_TLS] = METRIC_MAIL_RETRY_TLS,
		[MAIL_REASON_AUTH] = METRIC_MAIL_RETRY_AUTH,
		[MAIL_REASON_TIMEOUT] = METRIC_MAIL_RETRY_TIMEOUT,
		[MAIL_REASON_TEMPORARY] = METRIC_MAIL_RETRY_TEMPORARY,
		[MAIL_REASON_PERMANENT] = METRIC_MAIL_FAILED_PERMANENT,
		[MAIL_REASON_INVALID] = METRIC_MAIL_FAILED_INVALID,
		[MAIL_REASON_ATTEMPTS] = METRIC_MAIL_FAILED_ATTEMPTS,
	};
	if (result == MAIL_SEND_OK)
		metrics_count(w->pool->metrics, METRIC_MAIL_SENT, 1);
	else if ((unsigned)reason < MAIL_REASON__COUNT && reason != MAIL_REASON_NONE)
		metrics_count(w->pool->metrics, by_reason[reason], 1);
}

/*
 * Rows whose last attempt's lease ran out (the instance died while
 * sending) after mail.max_attempts attempts: failed, their sealed bodies
 * erased, instead of one more try.
 */
static bool fail_exhausted(struct worker *w)
{
	char max[24];
	snprintf(max, sizeof(max), "%lld", w->pool->cfg->mail_max_attempts);
	const char *params[1] = { max };
	PGresult *res = db_exec(w->conn,
				"UPDATE mail_outbox SET state = 'failed', leased_by = NULL, leased_until = NULL,"
				" body_sealed = NULL, last_error = left('attempts: the lease of the last attempt ran out; '"
				"   || COALESCE(last_error, ''), 500)"
				" WHERE state = 'pending' AND due_at <= now() AND attempts >= $1::int",
				1, params);
	if (!res)
		return false;
	long long n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (n > 0) {
		metrics_count(w->pool->metrics, METRIC_MAIL_FAILED_ATTEMPTS, (unsigned long long)n);
		LOG_FIELDS(LOG_WARN, "mail: rows failed after their last lease ran out", LOG_I("rows", n));
	}
	return true;
}

/* Record one row's outcome under the claim's lease name; false on a database error. */
static bool record(struct worker *w, const char *id, const char *lease, const struct mail_send_outcome *o, int attempts)
{
	const struct config *cfg = w->pool->cfg;
	char error[300], delay[24];
	enum mail_send_result result = o->result;
	enum mail_reason reason = o->reason;
	PGresult *res;

	snprintf(error, sizeof(error), "%s: %s", mail_reason_name(o->reason), o->error);
	if (result == MAIL_SEND_RETRY && attempts >= cfg->mail_max_attempts) {
		result = MAIL_SEND_PERMANENT;
		reason = MAIL_REASON_ATTEMPTS;
		snprintf(error, sizeof(error), "attempts: %d, last %s: %s", attempts, mail_reason_name(o->reason), o->error);
	}
	if (result == MAIL_SEND_OK) {
		const char *params[2] = { id, lease };
		res = db_exec(w->conn,
			      "UPDATE mail_outbox SET state = 'sent', sent_at = now(), leased_by = NULL, leased_until = NULL,"
			      " body_sealed = NULL, last_error = NULL WHERE id = $1::bigint AND leased_by = $2",
			      2, params);
	} else if (result == MAIL_SEND_RETRY) {
		long long d = cfg->mail_retry_base_seconds;
		for (int i = 1; i < attempts && d < cfg->mail_retry_max_seconds; i++)
			d *= 2;
		snprintf(delay, sizeof(delay), "%lld", d < cfg->mail_retry_max_seconds ? d : cfg->mail_retry_max_seconds);
		const char *params[4] = { id, lease, error, delay };
		res = db_exec(w->conn,
			      "UPDATE mail_outbox SET due_at = now() + make_interval(secs => $4::int), leased_by = NULL,"
			      " leased_until = NULL, last_error = $3 WHERE id = $1::bigint AND leased_by = $2",
			      4, params);
	} else {
		const char *params[3] = { id, lease, error };
		res = db_exec(w->conn,
			      "UPDATE mail_outbox SET state = 'failed', leased_by = NULL, leased_until = NULL,"
			      " body_sealed = NULL, last_error = $3 WHERE id = $1::bigint AND leased_by = $2",
			      3, params);
	}
	if (!res)
		return false;
	bool matched = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	count(w, result, reason);
	if (!matched)
		LOG_FIELDS(LOG_WARN, "mail: the row's lease was lost before its outcome was recorded", LOG_S("id", id));
	else if (result == MAIL_SEND_OK)
		LOG_FIELDS(LOG_INFO, "mail sent", LOG_S("id", id), LOG_I("attempts", attempts));
	else
		LOG_FIELDS(result == MAIL_SEND_RETRY ? LOG_WARN : LOG_ERROR,
			   result == MAIL_SEND_RETRY ? "mail not sent, retried later" : "mail failed", LOG_S("id", id),
			   LOG_S("reason", mail_reason_name(reason)), LOG_I("attempts", attempts),
			   LOG_I("smtp_code", o->smtp_code));
	return true;
}

/* Open a sealed body (hex of nonce || secretbox) into a malloc'd NUL-terminated string; NULL when it cannot be. */
static char *open_sealed(const struct mail_workers *p, const char *hex)
{
	size_t hexlen = strlen(hex), len = 0, plain_len = 0;
	unsigned char *raw = malloc(hexlen / 2 + 1);
	char *plain = NULL;

	if (!p->have_kek || !raw || sodium_hex2bin(raw, hexlen / 2 + 1, hex, hexlen, NULL, &len, NULL) != 0 ||
	    len <= SECRETS_NONCE_BYTES + crypto_secretbox_MACBYTES)
		goto out;
	plain = malloc(len + 1);
	if (!plain || !secrets_open(&p->kek, raw + SECRETS_NONCE_BYTES, len - SECRETS_NONCE_BYTES, raw,
				    (unsigned char *)plain, len, &plain_len)) {
		free(plain);
		plain = NULL;
		goto out;
	}
	plain[plain_len] = '\0';
out:
	free(raw);
	return plain;
}

/* Build and send one claimed row; the outcome is always filled. */
static void send_row(struct worker *w, PGresult *res, int r, struct mail_send_outcome *o)
{
	struct mail_message msg;
	char *opened = NULL;
	const char *body = PQgetisnull(res, r, 3) ? NULL : PQgetvalue(res, r, 3);

	memset(o, 0, sizeof(*o));
	if (!body && !PQgetisnull(res, r, 4) && !(body = opened = open_sealed(w->pool, PQgetvalue(res, r, 4)))) {
		o->result = MAIL_SEND_PERMANENT;
		o->reason = MAIL_REASON_INVALID;
		snprintf(o->error, sizeof(o->error), "the sealed body cannot be opened with this instance's key");
		return;
	}
	if (!mail_message_build(&msg, w->pool->smtp.from, PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), body,
				clock_wall_us() / 1000000, o->error, sizeof(o->error))) {
		o->result = MAIL_SEND_PERMANENT;
		o->reason = MAIL_REASON_INVALID;
	} else {
		mail_smtp_send(&w->pool->smtp, &msg, o);
		mail_message_free(&msg);
	}
	if (opened) {
		sodium_memzero(opened, strlen(opened));
		free(opened);
	}
}

/*
 * Claim up to mail.batch_size due rows and send them. *full is true when
 * the claim came back full (more may be due). False on a database error.
 */
static bool claim_and_send(struct worker *w, bool *full)
{
	const struct config *cfg = w->pool->cfg;
	char lease[128], secs[24], limit[24];
	PGresult *res;

	*full = false;
	if (!fail_exhausted(w))
		return false;
	/* a lease name of its own per claim: a recording can only touch the rows of this claim */
	snprintf(lease, sizeof(lease), "%s/m%u#%llu", w->pool->instance, w->index, ++w->claims);
	snprintf(secs, sizeof(secs), "%lld", cfg->mail_lease_seconds);
	snprintf(limit, sizeof(limit), "%lld", cfg->mail_batch_size);
	const char *params[3] = { lease, secs, limit };
	int64_t claimed_at = clock_mono_ms();
	res = db_exec(w->conn,
		      "UPDATE mail_outbox m SET leased_by = $1, leased_until = now() + make_interval(secs => $2::int),"
		      "   due_at = now() + make_interval(secs => $2::int), attempts = m.attempts + 1"
		      " FROM (SELECT id FROM mail_outbox WHERE state = 'pending' AND due_at <= now()"
		      "   ORDER BY due_at, id LIMIT $3::int FOR UPDATE SKIP LOCKED) c"
		      " WHERE m.id = c.id"
		      " RETURNING m.id, m.to_addr, m.subject, m.body, encode(m.body_sealed, 'hex'), m.attempts",
		      3, params);
	if (!res)
		return false;
	int n = PQntuples(res);
	*full = n >= cfg->mail_batch_size;
	bool ok = true;
	for (int r = 0; r < n && ok; r++) {
		const char *id = PQgetvalue(res, r, 0);
		int attempts = (int)strtol(PQgetvalue(res, r, 5), NULL, 10);
		/* a send that could outlast the lease waits for the next claim: another instance may take it then */
		if (stopping(w->pool) ||
		    clock_mono_ms() - claimed_at + (cfg->smtp_timeout_seconds + LEASE_MARGIN_SECONDS) * 1000 >
			    cfg->mail_lease_seconds * 1000) {
			const char *p2[2] = { id, lease };
			ok = db_run(w->conn,
				    "UPDATE mail_outbox SET due_at = now(), leased_by = NULL, leased_until = NULL,"
				    " attempts = attempts - 1 WHERE id = $1::bigint AND leased_by = $2",
				    2, p2);
			*full = true;
			continue;
		}
		struct mail_send_outcome o;
		send_row(w, res, r, &o);
		ok = record(w, id, lease, &o, attempts);
	}
	PQclear(res);
	return ok;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct config *cfg = w->pool->cfg;

	while (!stopping(w->pool)) {
		if (!w->conn && !connect_and_listen(w)) {
			if (!wait_for_work(w, RECONNECT_PAUSE_MS))
				break;
			continue;
		}
		bool full = false;
		if (!claim_and_send(w, &full)) {
			/* rows claimed and not recorded are due again when their lease ends */
			log_warn("mail: worker %u: a database statement failed; reconnecting", w->index);
			PQfinish(w->conn);
			w->conn = NULL;
			continue;
		}
		if (!full && !wait_for_work(w, (int)cfg->mail_poll_interval_ms))
			break;
	}
	PQfinish(w->conn);
	w->conn = NULL;
	return NULL;
}

void mail_workers_stop(struct mail_workers *p)
{
	if (!p)
		return;
	if (p->stop_pipe[1] >= 0 && write(p->stop_pipe[1], "x", 1) < 0)
		log_warn("mail: could not signal the workers to stop");
	for (unsigned i = 0; p->workers && i < p->nworkers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	free(p->workers);
	if (p->stop_pipe[0] >= 0)
		close(p->stop_pipe[0]);
	if (p->stop_pipe[1] >= 0)
		close(p->stop_pipe[1]);
	mail_smtp_free(&p->smtp);
	sodium_memzero(&p->kek, sizeof(p->kek));
	free(p);
}

bool mail_workers_start(const struct config *cfg, struct metrics *metrics, const struct secrets_kek *kek,
			const char *instance, struct mail_workers **out)
{
	char err[512];
	struct mail_workers *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return false;
	p->stop_pipe[0] = p->stop_pipe[1] = -1;
	p->cfg = cfg;
	p->metrics = metrics;
	snprintf(p->instance, sizeof(p->instance), "%s", instance);
	if (kek) {
		p->kek = *kek;
		p->have_kek = true;
	}
	if (!mail_smtp_init(&p->smtp, cfg, err, sizeof(err))) {
		LOG_FIELDS(LOG_ERROR, "mail: the [smtp] settings are unusable", LOG_S("error", err));
		goto fail;
	}
	p->nworkers = (unsigned)cfg->mail_workers;
	if (pipe(p->stop_pipe) != 0 || !(p->workers = calloc(p->nworkers, sizeof(*p->workers))))
		goto fail;
	for (unsigned i = 0; i < p->nworkers; i++) {
		p->workers[i].pool = p;
		p->workers[i].index = i;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0)
			goto fail;
		p->workers[i].started = true;
	}
	LOG_FIELDS(LOG_INFO, "mail workers started", LOG_I("workers", cfg->mail_workers),
		   LOG_S("smtp", strncmp(cfg->smtp_url, "smtps://", 8) == 0 ? "implicit TLS" : "STARTTLS"));
	*out = p;
	return true;
fail:
	mail_workers_stop(p);
	return false;
}
