/*
 * worker.h - the mail workers: threads that claim due mail_outbox rows
 * with a lease (FOR UPDATE SKIP LOCKED, like the push dispatcher, so
 * instances never send one row at once), send each through mail/smtp.c and
 * record the outcome: sent, retried with backoff, or failed (a 5xx, a row
 * that cannot be a message, or mail.max_attempts reached). A body sealed
 * under the KEK is opened only to send it and erased from the row once the
 * row is done. Workers wake on NOTIFY alertd_mail (migration 0023) or every
 * mail.poll_interval_ms. Started by cli/serve.c only when smtp.url is set.
 */
#ifndef ALERTD_MAIL_WORKER_H
#define ALERTD_MAIL_WORKER_H

#include "core/secrets.h"

#include <stdbool.h>

struct config;
struct metrics;
struct mail_workers;

/*
 * Start cfg->mail_workers threads; instance names this process in leases.
 * kek (may be NULL: sealed rows then fail as invalid) is copied. False
 * (logged, nothing started) when the [smtp] options or the password file
 * are unusable or a thread cannot start. On success *out is stopped with
 * mail_workers_stop.
 */
bool mail_workers_start(const struct config *cfg, struct metrics *metrics, const struct secrets_kek *kek,
			const char *instance, struct mail_workers **out) __attribute__((warn_unused_result));

/* Stop the threads (a send in progress finishes first, bounded by smtp.timeout_seconds) and free. NULL is fine. */
void mail_workers_stop(struct mail_workers *w);

#endif
