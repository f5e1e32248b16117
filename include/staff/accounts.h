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

#include "staff/password.h"

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

/* One line per account to out. */
bool staff_accounts_list(PGconn *conn, FILE *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Disable the active accounts whose last sign-in (or creation, if never
 * used) is more than days ago, ending their sessions; one audit row each
 * (actor "system"). *disabled is how many.
 */
bool staff_accounts_disable_inactive(PGconn *conn, long long days, long long *disabled) __attribute__((warn_unused_result));

#endif
