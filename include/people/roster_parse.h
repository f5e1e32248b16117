/*
 * roster_parse.h - reading a roster CSV into the import's state: libcsv is
 * fed one physical line at a time so every row knows the line it starts on;
 * every field is normalised to NFC and trimmed (roster_fields.h); each row is
 * validated on its own and against the earlier rows naming the same office,
 * unit or login, and a rejected row keeps the reason of its leftmost failing
 * column for the report.
 *
 * struct roster_state also carries, per office, unit and row, what
 * roster_apply.c loads from the database for them; the whole state is freed
 * at once with roster_state_free().
 */
#ifndef ALERTD_ROSTER_PARSE_H
#define ALERTD_ROSTER_PARSE_H

#include "core/buf.h"
#include "people/roster.h"
#include "core/strmap.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define ROSTER_HOLDERS_LISTED 5 /* account holders a warning names */

/* Strings that live as long as the import (roster_parse.c). */
struct roster_arena_block;
struct roster_arena {
	struct roster_arena_block *head;
};

/* One column of an office or unit: the first valid value seen and where. */
struct roster_attr {
	const char *v; /* NULL = empty (SQL NULL) */
	long line;
	size_t row;
	bool set;
};

struct roster_office {
	const char *code;
	struct roster_attr name, parent;
	int level; /* resolved: 1-3, 0 unknown/invalid */
	long db;   /* row in the loaded offices, -1 none */
};

struct roster_unit {
	const char *code;
	struct roster_attr office, name, email, phone, accounts; /* accounts: sorted, ';'-joined */
	long valid_rows;
	int holders;
	const char *holder_logins[ROSTER_HOLDERS_LISTED];
	long db;
	const char *db_accounts; /* canonical form of the stored accounts, NULL = none */
};

enum roster_user_action { ROSTER_USER_CREATE, ROSTER_USER_UPDATE, ROSTER_USER_SAME };

struct roster_row {
	long line;
	int reason_col; /* column of the reason; the number of columns while valid */
	const char *reason;
	const char *login, *name, *email, *phone, *unit;
	unsigned roles;
	/* the database side (roster_apply.c) */
	long db; /* row in the loaded users, -1 none */
	unsigned db_roles;
	long long id;
	enum roster_user_action action;
	bool moved, roles_changed;
};

struct roster_state {
	struct roster_arena arena;
	struct roster_row *rows;
	size_t nrows, caprows;
	struct roster_office *offices;
	size_t noffices, capoffices;
	struct roster_unit *units;
	size_t nunits, capunits;
	struct strmap office_map, unit_map, login_map, db_office_map;
	long nrejected;
	bool oom;
	/* scratch for list parsing */
	const char **items;
	size_t capitems;
	struct buf scratch, scratch2;
	/* loaded by roster_apply.c */
	PGresult *db_offices, *db_units, *db_accounts, *db_users, *db_roles, *db_members;
};

/* Start an empty state; cannot fail. Free it with roster_state_free() whatever happens. */
void roster_state_init(struct roster_state *imp);

/* Free everything imp holds: rows, offices, units, maps, strings and loaded results. */
void roster_state_free(struct roster_state *imp);

/*
 * Parse and validate the whole file (len bytes of data, a leading UTF-8 BOM
 * skipped) into imp. ROSTER_OK when the file could be read (rows may still
 * be rejected: imp->nrejected), ROSTER_MALFORMED when it cannot be read as a
 * roster (bad CSV or UTF-8, a carriage return that does not end a line as
 * CRLF, wrong header, a row with the wrong number of columns, no header at
 * all), or ROSTER_DB_ERROR when out of memory (or on
 * another libcsv failure), the last two with a one-line reason in err. imp
 * stays the caller's to free.
 */
enum roster_result roster_parse(struct roster_state *imp, const char *data, size_t len, char *err, size_t errlen);

/*
 * Reject the row that gave office o its parent with "parent_office_code:
 * <reason>", for the hierarchy checks made against the database. A row
 * keeps the reason of its leftmost failing column: a reason already given
 * for office_code or office_name stands, one for a later column is
 * replaced. Out of memory sets imp->oom.
 */
__attribute__((format(printf, 3, 4))) void roster_reject_parent(struct roster_state *imp, const struct roster_office *o,
								const char *fmt, ...);

/*
 * Append to warnings {"unit_code", "message"} for each unit with no, or
 * several, account holders among its valid rows (none for a unit whose
 * every row was rejected). Call once, after the last rejection. False on
 * allocation failure (warnings may then hold some of them).
 */
bool roster_collect_warnings(struct roster_state *imp, json_t *warnings) __attribute__((warn_unused_result));

/*
 * Append {"line", "reason"} to rejected for each rejected row, in file
 * order. False on allocation failure (rejected may then hold some of them).
 */
bool roster_list_rejected(const struct roster_state *imp, json_t *rejected) __attribute__((warn_unused_result));

#endif
