/*
 * retention.h - personal-data retention (docs/privacy.md): the rules the
 * maintenance job applies once a row's period in the retention.* options has
 * passed, each in bounded batches of one transaction each, so a large
 * backlog never holds locks for long.
 *
 * The caller (maintenance_run_once) holds the maintenance advisory lock, so
 * one instance applies them at a time; every batch also skips rows another
 * transaction has locked (SKIP LOCKED) and leaves them for the next run.
 */
#ifndef ALERTD_RETENTION_H
#define ALERTD_RETENTION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/* The rules, in the order they run. */
enum retention_rule {
	RETENTION_ACTIVATION_FAILURES, /* closed hours of activation_failures turned into one audit row each */
	RETENTION_OUTBOX,	       /* sent/failed outbox rows deleted */
	RETENTION_ALERTS,	       /* alerts deleted (with their finished outbox rows) */
	RETENTION_DEVICE_TOKENS,       /* push tokens of revoked/retired devices erased */
	RETENTION_ACTIVATION_CODES,    /* used, voided or expired activation codes deleted */
	RETENTION_USERS,	       /* deactivated users pseudonymised */
	RETENTION_AUDIT,	       /* personal fields of audit rows pseudonymised */
	RETENTION__RULES
};

/* "alerts_deleted" and so on: the name in logs, metrics and the CLI's output. */
const char *retention_rule_name(enum retention_rule rule);

struct retention_counts {
	long long rows[RETENTION__RULES];
	bool failed[RETENTION__RULES]; /* the rule stopped on a failed batch (rolled back) */
	int failures;		       /* how many rules failed */
};

/*
 * Apply every rule whose period option is not 0, on conn (outside any
 * transaction). key: the pseudonym key (tokens_pseudonym_key); NULL, when
 * no KEK is configured, makes a random key for this run only (pseudonyms
 * then do not correlate across runs; logged when used). *out counts the
 * rows each rule changed, also those of batches committed before a failure.
 * A rule whose batch fails is rolled back, logged and marked in *out, and the
 * rules after it still run; false at the end, with err naming the first
 * failed rule, when any failed.
 */
bool retention_run(PGconn *conn, const struct config *cfg, const unsigned char *key, struct retention_counts *out,
		   char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
