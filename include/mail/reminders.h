/*
 * reminders.h - install and activation reminders by e-mail (no secret in
 * them) to a unit's uncovered users: to each one's own address, else the
 * unit's contact address, once per address. Sent by hand by staff
 * (POST /v1/staff/units/{code}/reminders) or by the scheduled rule of the
 * maintenance thread (mail.auto_reminders). Both are limited per unit and
 * per transaction office per Vietnam day (mail.reminders_per_*_per_day),
 * counted from mail_outbox under a per-office lock so racing instances
 * cannot pass the limits; an automatic reminder also skips a user reminded
 * within mail.reminder_interval_days. See docs/staff.md "Reminders".
 */
#ifndef ALERTD_MAIL_REMINDERS_H
#define ALERTD_MAIL_REMINDERS_H

#include <libpq-fe.h>
#include <stdbool.h>

struct config;

/* Columns of mail_uncovered_users' result. */
enum mail_uncovered_col {
	MAIL_UC_USER_ID,
	MAIL_UC_LOGIN,
	MAIL_UC_FULL_NAME,
	MAIL_UC_EMAIL, /* NULL when none */
	MAIL_UC_LANG,
	MAIL_UC_RECENT, /* "t": reminded within mail.reminder_interval_days */
	MAIL_UC__COUNT
};

/*
 * The active users of unit_code with no reachable device (docs/coverage.md),
 * by id. False on a database error (logged); on success the caller
 * PQclear()s *out.
 */
bool mail_uncovered_users(PGconn *conn, const struct config *cfg, const char *unit_code, PGresult **out)
	__attribute__((warn_unused_result));

enum mail_reminder_result {
	MAIL_REMINDER_QUEUED,	    /* committed; out->queued may be 0 (nobody to remind) */
	MAIL_REMINDER_NOT_FOUND,    /* no such active unit within scope_office */
	MAIL_REMINDER_UNIT_LIMIT,   /* mail.reminders_per_unit_per_day would be passed: nothing queued */
	MAIL_REMINDER_OFFICE_LIMIT, /* mail.reminders_per_office_per_day would be passed: nothing queued */
	MAIL_REMINDER_ERROR,	    /* database error, rolled back */
};

struct mail_reminder_request {
	const char *unit_code;
	const char *scope_office; /* NULL: the system (no scope) */
	bool manual;		  /* by hand: the weekly per-user limit does not apply */
	/* who, for mail_outbox.created_by and the audit row: staff login, or NULL for the system */
	const char *actor_kind, *actor_id, *ip, *request_id;
};

struct mail_reminder_outcome {
	int queued;	       /* mails queued */
	int no_address;	       /* uncovered users with no usable address, own or the unit's */
	int recent;	       /* skipped: reminded within the interval (automatic only) */
	int duplicate;	       /* users whose address was already mailed by this round */
	long long limit, used; /* the limit refused and what was already used of it today */
};

/*
 * Queue one unit's reminders in one transaction of its own (conn must be
 * outside one): lock, count, insert, audit (mail.reminder; a refusal by a
 * limit too, outcome denied). *out is always filled.
 */
enum mail_reminder_result mail_reminders_queue(PGconn *conn, const struct config *cfg,
					       const struct mail_reminder_request *rq, struct mail_reminder_outcome *out);

/*
 * The scheduled rule (mail.auto_reminders): units that are not protected
 * with an uncovered user not reminded within the interval, at most
 * max_units per run, each queued as by hand but manual = false; a unit or
 * office at its limit is left for another day. *queued counts the mails.
 * False on a database error.
 */
bool mail_reminders_auto(PGconn *conn, const struct config *cfg, int max_units, long long *queued)
	__attribute__((warn_unused_result));

/* Seconds until the next Vietnam midnight, when the daily limits start again (>= 1). */
long long mail_reminders_retry_after(void);

#endif
