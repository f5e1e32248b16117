/*
 * coverage.h - the staff's coverage figures (docs/coverage.md): an office's
 * totals and its child offices, the units list (worst first, searchable,
 * keyset pages), the daily trend, and the targets.
 *
 * Everything reads what the refresh maintains (coverage_units,
 * coverage_offices, coverage_daily; migration 0014), never the raw roster,
 * so a national-scale answer costs a few index look-ups. Every read is
 * bounded by scope, the caller's office (http_req.scope_office): an office
 * outside scope's subtree, or unknown, is COVERAGE_NOT_FOUND, the same
 * answer as nonexistent. Functions run on a connection the caller holds;
 * JSON handed out is the caller's (json_decref); on COVERAGE_ERROR the
 * statement failed (logged) and nothing is handed out.
 */
#ifndef ALERTD_STAFF_COVERAGE_H
#define ALERTD_STAFF_COVERAGE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

enum coverage_result { COVERAGE_OK, COVERAGE_NOT_FOUND, COVERAGE_ERROR };

/*
 * The longest q= accepted, in bytes, and a cursor's text: a name sort's
 * cursor carries the folded name (255 characters, up to 4 bytes each, JSON
 * escapes doubling some), in base64.
 */
#define COVERAGE_Q_MAX 100
#define COVERAGE_CURSOR_MAX 3000

enum coverage_sort { COVERAGE_SORT_WORST, COVERAGE_SORT_CODE, COVERAGE_SORT_NAME, COVERAGE_SORT__COUNT };

/* The query names of the sorts and status filters, NULL-terminated, in enum order. */
extern const char *const coverage_sort_names[];
extern const char *const coverage_status_names[]; /* protected, partial, unprotected, not_protected */

/* What the units list selects; the strings are borrowed. */
struct coverage_units_filter {
	const char *office;	 /* the subtree listed; must be in scope */
	const char *status;	 /* NULL: all; else one of coverage_status_names */
	const char *q;		 /* NULL: none; a code prefix or a name substring, case and accent blind */
	enum coverage_sort sort; /* worst: unprotected, partial, protected; then volume_30d desc, code desc */
	const char *cursor;	 /* NULL: first page; else a next_cursor this sort handed out */
	long long active_days;	 /* for the contacts: who is not covered now */
};

/*
 * Is text a cursor that sort could have handed out? The handler answers 422
 * otherwise, before any query.
 */
bool coverage_cursor_ok(enum coverage_sort sort, const char *text);

/*
 * {"office":{"code","name","level"},"computed_at"|null,"active_days",
 * "totals":figures,"target":{"pct","date"}|null,"children":[{code,name,
 * level,...figures}]} for office (in scope).
 */
enum coverage_result coverage_overview(PGconn *conn, const char *scope, const char *office, json_t **out)
	__attribute__((warn_unused_result));

/* {"office":{...},"days","target"|null,"points":[{"day",...figures}]}, oldest first, the last days Vietnam days. */
enum coverage_result coverage_trend(PGconn *conn, const char *scope, const char *office, long long days, json_t **out)
	__attribute__((warn_unused_result));

/*
 * The units list, the one query the JSON page and the exports share: at
 * most limit units of f (each as coverage_unit_json() builds it) appended
 * to units, and *next_cursor (malloc'd, the caller frees; NULL when this
 * was the last page) for the page after. f->cursor must have passed
 * coverage_cursor_ok(). An export calls it page by page until
 * *next_cursor is NULL or its cap is reached.
 */
enum coverage_result coverage_units_list(PGconn *conn, const char *scope, const struct coverage_units_filter *f,
					 long long limit, json_t *units, char **next_cursor)
	__attribute__((warn_unused_result));

/*
 * An estimate of the people the whole of f's list names as contacts, from
 * the last refresh's counts (at most 20 a unit, as the list shows), in
 * *people. Cheap: the export asks it first, so an export the look-up quota
 * could never allow is refused before the list is built.
 */
enum coverage_result coverage_units_people_estimate(PGconn *conn, const char *scope, const struct coverage_units_filter *f,
						    long long *people) __attribute__((warn_unused_result));

/*
 * Set office's target (pct "0.01" to "100", at most two decimals; date
 * YYYY-MM-DD) in one transaction with its audit row (coverage.target, actor
 * kind and id). False with a sentence in err: a bad value, an unknown
 * office, or a database error.
 */
bool coverage_set_target(PGconn *conn, const char *office, const char *pct, const char *date, const char *actor_kind,
			 const char *actor_id, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
