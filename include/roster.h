/*
 * roster.h - import of the roster (offices, budget units, their accounts,
 * users and roles) from a CSV file, all-or-nothing in one transaction.
 *
 * The file is a full import for every unit it names: active users of those
 * units who are missing from the file are deactivated (live activation
 * codes voided, devices revoked); units not in the file are untouched.
 * Format and rules: docs/roster.md.
 */
#ifndef ALERTD_ROSTER_H
#define ALERTD_ROSTER_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

enum roster_result { ROSTER_OK, ROSTER_MALFORMED, ROSTER_REJECTED, ROSTER_DB_ERROR };

struct roster_counts {
	long long created, updated, unchanged, deactivated;
};

struct roster_report {
	struct roster_counts offices, units, users;
	long long devices_revoked;
	long long rows;
	json_t *rejected; /* array of {"line": n, "reason": "..."} */
	json_t *warnings; /* array of {"unit_code": "...", "message": "..."} */
};

/*
 * Import CSV text (data, len; need not be NUL-terminated) on conn in one
 * transaction (the function issues BEGIN and COMMIT/ROLLBACK itself; conn
 * must be idle). On ROSTER_OK the data is committed unless dry_run. report
 * is always initialised (free with roster_report_free). err gets a one-line
 * reason for MALFORMED/DB_ERROR (and a summary for REJECTED).
 */
enum roster_result roster_import(PGconn *conn, const char *data, size_t len, bool dry_run,
				 const char *actor_kind, const char *actor_id, struct roster_report *report,
				 char *err, size_t errlen);

void roster_report_free(struct roster_report *report);

/*
 * {"dry_run":b,"rows":n,"offices":{created,updated,unchanged},"units":{...},
 *  "users":{created,updated,unchanged,deactivated},"devices_revoked":n,
 *  "rejected":[...],"warnings":[...]}; caller owns the reference (NULL on
 * allocation failure).
 */
json_t *roster_report_json(const struct roster_report *report, bool dry_run);

/*
 * Field helpers, exposed for the unit tests. Each takes a NUL-terminated,
 * already normalised (NFC, trimmed) value and mirrors the schema's CHECK.
 */
bool roster_email_valid(const char *s);	  /* local@domain.tld, no space/control, <= 254 chars */
bool roster_phone_valid(const char *s);	  /* ^\+?[0-9]{8,15}$ */
bool roster_account_valid(const char *s); /* ^[0-9A-Za-z][0-9A-Za-z.-]{0,31}$ */

/*
 * Parse a ';'-separated role list into a mask (1 account_holder,
 * 2 chief_accountant, 4 accountant; duplicates collapse). Returns false with
 * a reason in err on an empty list, an empty item or an unknown role.
 */
bool roster_roles_parse(const char *s, unsigned *mask, char *err, size_t errlen);

/*
 * Normalise len bytes of in to NFC and trim surrounding Unicode white space.
 * Returns the new NUL-terminated string (caller frees) or NULL with *status:
 * 1 invalid UTF-8 (or a NUL byte), 2 an unassigned code point, 3 out of memory.
 */
char *roster_normalize(const char *in, size_t len, int *status);

#endif
