/*
 * mailfmt.h - what alertd's e-mails say, in Vietnamese or English: the
 * risk-alert fallback (privacy mode always: no amount, no counterparty,
 * "log in to see the details"), the install reminder and the activation
 * instructions. Pure: no database, no I/O, no allocation. The texts are
 * rendered when a mail_outbox row is written, so the row is what is sent.
 */
#ifndef ALERTD_MAIL_MAILFMT_H
#define ALERTD_MAIL_MAILFMT_H

#include "alerts/alertfmt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* bytes incl. NUL; mail_outbox allows 200 characters of subject and 20000 of body */
#define MAILFMT_SUBJECT_MAX 400
#define MAILFMT_BODY_MAX 4000

/*
 * The fallback for a risk alert nobody's phone can receive: rule is the
 * rules_name() that named the alert, occurred_at_us the event's time,
 * unit_code the unit, office the transaction office's name (whom to call).
 * False (outputs "") when a text does not fit.
 */
bool mailfmt_fallback(enum alert_lang lang, const char *rule, int64_t occurred_at_us, const char *unit_code,
		      const char *office, char subject[MAILFMT_SUBJECT_MAX], char body[MAILFMT_BODY_MAX])
	__attribute__((warn_unused_result));

/* The install and activation reminder for a unit's uncovered users (no secret in it). */
bool mailfmt_reminder(enum alert_lang lang, const char *unit_code, const char *unit_name, const char *office,
		      char subject[MAILFMT_SUBJECT_MAX], char body[MAILFMT_BODY_MAX]) __attribute__((warn_unused_result));

/*
 * The activation instructions with the user's own code (the body is then
 * sealed under the KEK before it is stored): login is the DVCTT login the
 * app asks for, expires_at the code's end (RFC 3339, shown in Vietnam time).
 */
bool mailfmt_instructions(enum alert_lang lang, const char *full_name, const char *login, const char *code,
			  const char *expires_at, const char *office, char subject[MAILFMT_SUBJECT_MAX],
			  char body[MAILFMT_BODY_MAX]) __attribute__((warn_unused_result));

#endif
