/*
 * roster.h - import of the roster (offices, budget units, their accounts,
 * users and roles) from a CSV file, all-or-nothing in one transaction.
 *
 * The file is a full import for every unit it names: active users of those
 * units who are missing from the file are deactivated (live activation
 * codes voided, devices revoked); units not in the file are untouched.
 * Format and rules: docs/roster.md. The work is split between
 * roster_parse.h (reading and checking the file, with roster_fields.h) and
 * roster_apply.h (the database side).
 */
#ifndef ALERTD_ROSTER_H
#define ALERTD_ROSTER_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

enum roster_result {
	ROSTER_OK,
	ROSTER_MALFORMED,
	ROSTER_REJECTED,
	ROSTER_DB_ERROR,
	ROSTER_OUT_OF_SCOPE, /* rows reach outside scope_office's subtree (listed in rejected); nothing written */
};

struct roster_counts {
	long long created, updated, unchanged, deactivated;
};

struct roster_report {
	struct roster_counts offices, units, users;
	long long devices_revoked;
	long long rows;
	json_t *rejected; /* array of {"line": n, "reason": "..."}: invalid rows, or rows out of scope */
	json_t *warnings; /* array of {"unit_code": "...", "message": "..."} */
};

/*
 * Import CSV text (data, len; need not be NUL-terminated) on conn in one
 * transaction (the function issues BEGIN and COMMIT/ROLLBACK itself; conn
 * must be idle). On ROSTER_OK the data is committed unless dry_run. With
 * scope_office (a scoped admin key's office; NULL for the command line) a
 * file with a row outside that office's subtree is refused whole, once
 * every row is valid: ROSTER_OUT_OF_SCOPE (roster_apply_scope). report is
 * always initialised (free with roster_report_free). err gets a one-line
 * reason for MALFORMED/DB_ERROR (and a summary for REJECTED/OUT_OF_SCOPE).
 */
enum roster_result roster_import(PGconn *conn, const char *data, size_t len, bool dry_run, const char *scope_office,
				 const char *actor_kind, const char *actor_id, struct roster_report *report, char *err,
				 size_t errlen);

void roster_report_free(struct roster_report *report);

/*
 * {"dry_run":b,"rows":n,"offices":{created,updated,unchanged},"units":{...},
 *  "users":{created,updated,unchanged,deactivated},"devices_revoked":n,
 *  "rejected":[...],"warnings":[...]}; caller owns the reference (NULL on
 * allocation failure).
 */
json_t *roster_report_json(const struct roster_report *report, bool dry_run);

#endif
