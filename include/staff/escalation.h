/*
 * escalation.h - risk alerts that reached nobody (migration 0025,
 * docs/alerts.md "Escalation"): the pass that finds them and puts them on
 * the unit's office's "call this unit now" list (with an e-mail to the
 * office's duty address), the scoped reads, the acknowledgement, and the
 * gauges of /metrics, read from the database so every instance agrees.
 */
#ifndef ALERTD_STAFF_ESCALATION_H
#define ALERTD_STAFF_ESCALATION_H

#include <libpq-fe.h>
#include <stdbool.h>

struct config;
struct metrics;
struct store_actor;

/* Risk alerts older than this are not looked at any more (the pass's window). */
#define ESCALATION_LOOKBACK_HOURS 24
/* The most users of a unit whose phones an escalation shows. */
#define ESCALATION_CONTACTS_MAX 20

/* What one pass did. */
struct escalation_pass {
	bool skipped; /* another instance held the lock */
	int created;  /* escalations inserted */
	int mails;    /* duty e-mails queued */
};

/*
 * One pass on conn (outside any transaction), under a try-lock so one
 * instance at a time: escalations inserted (alertd_escalate) and, when
 * escalation.email is on, one mail_outbox row (purpose escalation, to_kind
 * office_duty, Vietnamese) per new escalation whose office has a duty
 * address, in one transaction. False on a database error (rolled back).
 */
bool escalation_run(PGconn *conn, const struct config *cfg, struct escalation_pass *out) __attribute__((warn_unused_result));

/* The database's figures for the metrics: open count, oldest open (epoch seconds, 0 when none), acks and their sum. */
struct escalation_figures {
	long long open;
	double oldest_epoch;
	long long acked;
	double ack_seconds_sum;
};
bool escalation_figures(PGconn *conn, struct escalation_figures *out) __attribute__((warn_unused_result));

/* The maintenance thread's tick: a pass and the figures, on its own connection; failures are logged. */
void escalation_tick(const struct config *cfg, struct metrics *metrics);

enum escalation_col {
	ESC_ID,
	ESC_EVENT,
	ESC_RULE,
	ESC_UNIT,
	ESC_UNIT_NAME,
	ESC_OFFICE,
	ESC_REASON,
	ESC_ALERT_CREATED,
	ESC_CREATED,
	ESC_AGE_SECONDS, /* since created_at, until acknowledged_at or now */
	ESC_USERS_ALERTED,
	ESC_UNIT_PHONE,
	ESC_ACKED_AT,
	ESC_ACKED_BY,
	ESC_NOTE,
	ESC_ACK_SECONDS,
	ESC__COUNT
};

/* Escalations in scope (office: a subtree within it, NULL = all), open or acknowledged, newest first. */
bool escalation_list(PGconn *conn, const char *scope, const char *office, bool acknowledged, const char *before_id,
		     long long limit, PGresult **out) __attribute__((warn_unused_result));

/* Open escalations in scope (office: a subtree within it, NULL = all): the dashboard's badge. */
bool escalation_count_open(PGconn *conn, const char *scope, const char *office, long long *n)
	__attribute__((warn_unused_result));

enum escalation_contact_col { ESCU_UNIT, ESCU_ID, ESCU_NAME, ESCU_ROLES, ESCU_PHONE, ESCU__COUNT };

/* The active users of the units (a PostgreSQL array text), holders and chiefs first, ESCALATION_CONTACTS_MAX each. */
bool escalation_contacts(PGconn *conn, const char *units, PGresult **out) __attribute__((warn_unused_result));

enum escalation_ack_result { ESCALATION_ACKED, ESCALATION_NOT_FOUND, ESCALATION_ALREADY, ESCALATION_ERROR };

/* Acknowledge id (in scope) with note, audited as escalation.ack, in one transaction on conn (outside any). */
enum escalation_ack_result escalation_ack(PGconn *conn, const char *scope, const char *id, const char *note,
					  const struct store_actor *actor);

#endif
