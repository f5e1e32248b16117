/*
 * instructions.h - bulk "issue activation codes and e-mail the
 * instructions" for the missing (uncovered) users of selected units.
 *
 * Each code is issued through people/activation.c (so the actor's daily
 * cap, the audit row activation.issue and the voiding of an older code are
 * the same as for a single code) and, in the same transaction, queued as an
 * instructions mail whose body is sealed under the KEK (mail_outbox
 * body_sealed): the code is never stored readable, and the worker erases
 * the sealed body once the row is done. A code enrols a phone as its user,
 * so it goes only to the user's own address, never to the unit's shared
 * contact mailbox; a user without one is skipped as no_email.
 */
#ifndef ALERTD_MAIL_INSTRUCTIONS_H
#define ALERTD_MAIL_INSTRUCTIONS_H

#include "core/secrets.h"
#include "people/activation.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/* The most units one request may select. */
#define MAIL_INSTRUCTIONS_MAX_UNITS 100

enum mail_instructions_result {
	MAIL_INSTRUCTIONS_DONE,	     /* *report filled */
	MAIL_INSTRUCTIONS_NOT_FOUND, /* a unit is unknown, inactive or outside scope_office: nothing done */
	MAIL_INSTRUCTIONS_ERROR,     /* database error; codes issued before it stay issued with their mails */
};

/*
 * For each of the n unit codes (distinct, checked by the caller), each
 * uncovered user: skipped (no_email) or a code issued and its sealed mail
 * queued (each in its own transaction), as actor (daily_cap applies).
 * *report (caller decrefs; only on DONE) is
 *   [{"unit": code, "mailed": [{"login", "mail_id"}], "skipped": [{"login", "reason"}]}]
 * with reason no_email, daily_cap or not_found (deactivated meanwhile).
 */
enum mail_instructions_result mail_instructions_bulk(PGconn *conn, const struct config *cfg,
						     const unsigned char code_key[32], const struct secrets_kek *kek,
						     const char *const *units, size_t n, const char *scope_office,
						     const struct activation_actor *actor, json_t **report);

#endif
