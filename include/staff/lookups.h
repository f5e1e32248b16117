/*
 * lookups.h - the meter of personal-data look-ups: every answer that shows
 * users' names, phones or e-mails (a unit's people, a list of contacts, an
 * export by its rows) is counted per principal (a staff account, or an
 * admin key when a key reads) against staff.lookups_per_minute and
 * staff.lookups_per_day, all instances together (table
 * staff_lookup_counts, migration 0016). See docs/staff.md "Look-ups of
 * personal data".
 *
 * The handler finds what it will show first (404 answers before anything
 * is counted), then calls staff_lookups_take_or_reply, and builds the
 * answer only when it returns true:
 *
 *	struct staff_lookup l = { .what = "unit_detail", .target = code, .people = n, .user_ids = ids, .nuser_ids = n };
 *	enum http_outcome out;
 *	if (!staff_lookups_take_or_reply(app, req, resp, &l, &out))
 *		return out;
 *
 * An allowed look-up is audited as staff.lookup (who looked at whom: the
 * target and the user ids); one above a quota is answered 429
 * lookup_quota_exceeded with Retry-After, nothing shown, audited as
 * staff.lookup_quota_exceeded (outcome denied, which the office's admins
 * read in GET /v1/staff/audit), counted in
 * alertd_staff_lookup_quota_exceeded_total and logged at WARN with the
 * login and office. A refused look-up adds nothing to the counters.
 */
#ifndef ALERTD_STAFF_LOOKUPS_H
#define ALERTD_STAFF_LOOKUPS_H

#include "http/http.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/* The most user ids one audit row records; past it the row says how many were left out. */
#define STAFF_LOOKUP_AUDIT_IDS 5000

struct staff_lookup {
	const char *what;	   /* what was looked at, audit details "what": "unit_detail", "units_export", ... */
	const char *target;	   /* the audit row's target: the unit code, the export's name; may be NULL */
	long long people;	   /* the people the answer shows (an export: its rows); >= 0 */
	const long long *user_ids; /* whom: recorded in the audit row; may be NULL */
	size_t nuser_ids;
};

/* Who looks: "staff" with the login, or "admin_key" with the key's name. */
struct staff_lookup_principal {
	const char *kind;
	const char *name;
	const char *office; /* the caller's scope office, for the log and the audit row */
	const char *ip;
	const char *request_id;
};

enum staff_lookup_result { STAFF_LOOKUP_ALLOWED, STAFF_LOOKUP_REFUSED, STAFF_LOOKUP_ERROR };

/* Why a look-up was refused. */
struct staff_lookup_refusal {
	const char *window;    /* "minute" or "day" (the day when both are over) */
	long long limit;       /* that window's quota */
	long long used;	       /* already counted in it */
	long long retry_after; /* seconds until that window ends, >= 1 */
};

/*
 * Count l against who's quotas on conn (outside any transaction of the
 * caller's): both windows' rows are locked, both quotas checked, and
 * either both counters grow by l->people and staff.lookup is audited, or
 * neither grows and staff.lookup_quota_exceeded is audited (*why says
 * which window), in one transaction. STAFF_LOOKUP_ERROR when the database
 * failed (nothing counted; the caller shows nothing).
 */
enum staff_lookup_result staff_lookups_take(PGconn *conn, const struct config *cfg, const struct staff_lookup_principal *who,
					    const struct staff_lookup *l, struct staff_lookup_refusal *why);

/*
 * staff_lookups_take for req's principal (its staff session, else its
 * admin key). True when allowed: build the answer. False with *outcome to
 * return: HTTP_DONE after the 429 (metric, WARN log line), HTTP_FAILED on a
 * database error. The route must declare ROUTE_DB.
 */
bool staff_lookups_take_or_reply(const struct app *app, struct http_req *req, struct http_resp *resp,
				 const struct staff_lookup *l, enum http_outcome *outcome)
	__attribute__((warn_unused_result));

/* The maintenance job: delete the windows that have ended (*deleted rows). */
bool staff_lookups_cleanup(PGconn *conn, long long *deleted) __attribute__((warn_unused_result));

#endif
