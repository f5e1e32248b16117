/*
 * accounts.h - staff accounts as the operator manages them (`alertd staff
 * add|deactivate|list|reset`) and the maintenance job's inactivity rule.
 *
 * Each change and its audit_log row commit together or not at all (actor
 * kind "cli" with the OS user, or "system" for the maintenance job).
 * Temporary passwords are handed back once to print and stored only as
 * Argon2id strings; the caller wipes its copy. Every function runs on a
 * connection the caller holds, outside any transaction of the caller's,
 * and on failure writes a sentence for the operator into err.
 */
#ifndef ALERTD_STAFF_ACCOUNTS_H
#define ALERTD_STAFF_ACCOUNTS_H

#include "core/secrets.h"
#include "staff/password.h"
#include "store/store.h"
#include "staff/totp.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* True when login has the shape staff logins have: 2-64 of a-z 0-9 . _ -, starting with a letter or digit. */
bool staff_accounts_login_ok(const char *login);

/* True when role is viewer, operator or admin. */
bool staff_accounts_role_ok(const char *role);

/* Create an account of office office_code with a temporary password (written to temp). */
bool staff_accounts_add(PGconn *conn, const char *login, const char *office_code, const char *role, const char *actor,
			long long temp_hours, char temp[STAFF_PASSWORD_TEMP_LEN + 1], char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Disable an account for good and end all its sessions at once. */
bool staff_accounts_deactivate(PGconn *conn, const char *login, const char *actor, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * A new temporary password: ends the account's sessions, clears a lockout,
 * re-enables an account the inactivity rule disabled (a deactivated one is
 * refused). With clear_totp the TOTP enrolment and recovery codes are
 * removed too (a lost phone): the next sign-in enrols again.
 */
bool staff_accounts_reset(PGconn *conn, const char *login, bool clear_totp, const char *actor, long long temp_hours,
			  char temp[STAFF_PASSWORD_TEMP_LEN + 1], char *err, size_t errlen)
	__attribute__((warn_unused_result));

enum staff_role_change {
	STAFF_ROLE_CHANGED,
	STAFF_ROLE_UNCHANGED,	/* it had that role already: nothing ended */
	STAFF_ROLE_NOT_FOUND,	/* no such account, or outside scope_office's subtree */
	STAFF_ROLE_DEACTIVATED, /* deactivation is final */
	STAFF_ROLE_ERROR,
};

/* The account a role change leaves. */
struct staff_role_result {
	char office[16]; /* "" = none */
	char role[16];
	bool active;
	long long sessions_ended;
};

/*
 * Give login the role role (viewer, operator or admin; checked by the
 * caller), if its office is in scope_office's subtree (NULL: any account,
 * for the command line); a change ends all the account's sessions at once,
 * so the new role applies from the next sign-in. One statement writes the
 * role, the sessions and the audit row "staff.role" by actor (ok with
 * from/to/sessions_ended; denied with the reason, for an unknown,
 * out-of-scope or deactivated account). out is filled on CHANGED and
 * UNCHANGED.
 */
enum staff_role_change staff_accounts_set_role(PGconn *conn, const char *login, const char *role, const char *scope_office,
					       const struct store_actor *actor, struct staff_role_result *out);
/*
 * The demo data set only (`make run`, deploy/demo/): give the account a
 * fresh, already confirmed TOTP secret (sealed under kek as enrolment
 * does; any recovery codes are removed) and write its base32 text to
 * base32, so the demo banner can print how to compute the codes. Refused
 * unless the account is active, its office's name starts with "[DEMO]" and
 * so does every office's of its tree, from the root down: only the tree
 * `make run` loads is like that, so no real account can be given a second
 * factor its owner did not enrol, even if a roster renamed its office (its
 * real parents and siblings are in its tree). The account's sessions end.
 * Audited as staff.totp_demo.
 */
bool staff_accounts_demo_totp(PGconn *conn, const struct secrets_kek *kek, const char *login, const char *actor,
			      char base32[STAFF_TOTP_BASE32_MAX], char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* One line per account to out. */
bool staff_accounts_list(PGconn *conn, FILE *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * `alertd staff approver LOGIN on|off`: grant or take the permission to
 * approve notices (staff.approver), audited staff.approver with the old and
 * new value by actor (the OS user). Ends no session: the permission is read
 * at every request. *changed false when it already had that value. False
 * with err for an unknown or deactivated account or a database error.
 */
bool staff_accounts_set_approver(PGconn *conn, const char *login, bool on, const char *actor, bool *changed, char *err,
				 size_t errlen) __attribute__((warn_unused_result));

/*
 * Disable the active accounts whose last sign-in (or creation, if never
 * used) is more than days ago, ending their sessions; one audit row each
 * (actor "system"). *disabled is how many.
 */
bool staff_accounts_disable_inactive(PGconn *conn, long long days, long long *disabled) __attribute__((warn_unused_result));

#endif
