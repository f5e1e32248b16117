/*
 * roster.c - CSV roster import: the entry point, its transaction and its
 * report (see roster.h and docs/roster.md).
 *
 * Three phases:
 *   1. parse and validate every row (roster_parse.c, with the field checks
 *      of roster_fields.c);
 *   2. in one transaction (serialised with other imports by an advisory
 *      lock): load the stored offices and check the hierarchy
 *      (roster_apply.c);
 *   3. unless a row was rejected: load the stored units and users, diff in
 *      C and write only the differences (roster_apply.c), then audit.
 * Nothing is written unless every row is valid.
 */
#include "people/roster.h"
#include "core/clock.h"
#include "db/audit.h"
#include "db/db.h"
#include "core/log.h"
#include "people/roster_apply.h"
#include "people/roster_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "alertdro" in ASCII; other alertd advisory locks use other keys. */
#define ROSTER_LOCK_KEY "7020097461417177711"

static json_t *counts_json(const struct roster_counts *c, bool with_deactivated)
{
	json_t *o = json_pack("{s:I,s:I,s:I}", "created", (json_int_t)c->created, "updated", (json_int_t)c->updated,
			      "unchanged", (json_int_t)c->unchanged);

	if (o && with_deactivated && json_object_set_new(o, "deactivated", json_integer(c->deactivated)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The counts only: the audit entry's details and the core of the report. */
static json_t *counts_object(const struct roster_report *rep)
{
	return json_pack("{s:I,s:o*,s:o*,s:o*,s:I}", "rows", (json_int_t)rep->rows, "offices",
			 counts_json(&rep->offices, false), "units", counts_json(&rep->units, false), "users",
			 counts_json(&rep->users, true), "devices_revoked", (json_int_t)rep->devices_revoked);
}

json_t *roster_report_json(const struct roster_report *report, bool dry_run)
{
	return json_pack("{s:b,s:I,s:o*,s:o*,s:o*,s:I,s:o*,s:o*}", "dry_run", dry_run, "rows", (json_int_t)report->rows,
			 "offices", counts_json(&report->offices, false), "units", counts_json(&report->units, false),
			 "users", counts_json(&report->users, true), "devices_revoked", (json_int_t)report->devices_revoked,
			 "rejected", report->rejected ? json_incref(report->rejected) : json_array(), "warnings",
			 report->warnings ? json_incref(report->warnings) : json_array());
}

void roster_report_free(struct roster_report *report)
{
	json_decref(report->rejected);
	json_decref(report->warnings);
	report->rejected = NULL;
	report->warnings = NULL;
}

static bool audit_import(PGconn *conn, const struct roster_report *rep, const char *actor_kind, const char *actor_id)
{
	json_t *counts = counts_object(rep);
	char *details = counts ? json_dumps(counts, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	struct audit_entry e = {
		.actor_kind = actor_kind, .actor_id = actor_id, .action = "roster.import", .outcome = "ok", .details = details
	};
	bool ok = details && audit_write(conn, &e);

	free(details);
	json_decref(counts);
	return ok;
}

/* The denied roster.import row of a file refused for reaching outside scope_office. */
static bool audit_refused(PGconn *conn, const char *actor_kind, const char *actor_id, const char *scope_office,
			  long refused, long long rows)
{
	char details[160];
	struct audit_entry e = {
		.actor_kind = actor_kind, .actor_id = actor_id, .action = "roster.import", .outcome = "denied", .details = details
	};

	/* scope_office is an office code (4 of 0-9 A-Z, offices.code): nothing to escape */
	snprintf(details, sizeof(details),
		 "{\"reason\":\"out_of_scope\",\"office\":\"%.8s\",\"rows\":%lld,\"rows_refused\":%ld}", scope_office,
		 rows, refused);
	return audit_write(conn, &e);
}

enum roster_result roster_import(PGconn *conn, const char *data, size_t len, bool dry_run, const char *scope_office,
				 const char *actor_kind, const char *actor_id, struct roster_report *report, char *err,
				 size_t errlen)
{
	struct roster_state imp;
	enum roster_result rc;
	bool in_tx = false;
	long long started = clock_mono_ms(), parsed = 0;

	memset(report, 0, sizeof(*report));
	report->rejected = json_array();
	report->warnings = json_array();
	roster_state_init(&imp);
	if (errlen)
		err[0] = '\0';
	if (!report->rejected || !report->warnings) {
		imp.oom = true;
		goto fail;
	}
	rc = roster_parse(&imp, data, len, err, errlen);
	if (rc != ROSTER_OK)
		goto out;
	parsed = clock_mono_ms();
	report->rows = (long long)imp.nrows;
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		snprintf(err, errlen, "the database connection is not idle");
		rc = ROSTER_DB_ERROR;
		goto out;
	}
	if (!db_begin(conn))
		goto fail;
	in_tx = true;
	/* one import at a time: each diffs against what it loaded */
	if (!db_run(conn, "SELECT pg_advisory_xact_lock(" ROSTER_LOCK_KEY ")", 0, NULL))
		goto fail;
	/* big set-based statements: hash joins in memory, no JIT compile time (both end with the transaction) */
	/* a national import takes longer than the connection's default statement timeout */
	if (!db_run(conn, "SET LOCAL work_mem = '64MB'", 0, NULL) || !db_run(conn, "SET LOCAL jit = off", 0, NULL) ||
	    !db_run(conn, "SET LOCAL statement_timeout = 0", 0, NULL))
		goto fail;
	if (!roster_apply_check(&imp, conn) || imp.oom)
		goto fail;
	if (!roster_collect_warnings(&imp, report->warnings)) {
		imp.oom = true;
		goto fail;
	}
	if (imp.nrejected) {
		if (!roster_list_rejected(&imp, report->rejected)) {
			imp.oom = true;
			goto fail;
		}
		snprintf(err, errlen, "%ld of %lld rows rejected; nothing was written", imp.nrejected, report->rows);
		rc = ROSTER_REJECTED;
		goto rollback;
	}
	if (scope_office) {
		long refused;
		if (!roster_apply_scope(&imp, conn, scope_office, report->rejected, &refused))
			goto fail;
		if (refused) {
			snprintf(err, errlen,
				 "%ld of %lld rows reach outside office %s and its sub-offices; nothing was written",
				 refused, report->rows, scope_office);
			db_rollback(conn);
			in_tx = false;
			/* a key reaching outside its offices leaves a trace, after the rollback of what it tried */
			if (!audit_refused(conn, actor_kind, actor_id, scope_office, refused, report->rows))
				goto fail;
			rc = ROSTER_OUT_OF_SCOPE;
			goto out;
		}
	}
	if (!roster_apply_write(&imp, conn, report))
		goto fail;
	if (!dry_run && !audit_import(conn, report, actor_kind, actor_id))
		goto fail;
	if (dry_run)
		db_rollback(conn); /* a dry run writes everything, reports it, and keeps none of it */
	else if (!db_commit(conn))
		goto fail;
	in_tx = false;
	LOG_FIELDS(LOG_INFO, "roster imported", LOG_I("rows", report->rows), LOG_I("users_created", report->users.created),
		   LOG_I("users_updated", report->users.updated), LOG_I("users_deactivated", report->users.deactivated),
		   LOG_I("devices_revoked", report->devices_revoked), LOG_I("dry_run", dry_run),
		   LOG_I("parse_ms", parsed - started), LOG_I("database_ms", clock_mono_ms() - parsed));
	rc = ROSTER_OK;
	goto out;
fail:
	snprintf(err, errlen, "%s", imp.oom ? "out of memory" : "database error (see log)");
	rc = ROSTER_DB_ERROR;
	/* the counts of a failed import mean nothing */
	memset(&report->offices, 0, sizeof(report->offices));
	memset(&report->units, 0, sizeof(report->units));
	memset(&report->users, 0, sizeof(report->users));
	report->devices_revoked = 0;
rollback:
	if (in_tx)
		db_rollback(conn);
out:
	roster_state_free(&imp);
	return rc;
}
