/*
 * roster_apply.h - the database side of a roster import, run inside the
 * transaction roster_import() opens. The stored offices, units with their
 * accounts, and users with their roles are loaded for everything the file
 * names with a handful of set-based queries (= ANY($1::text[]), joins
 * against unnest()); the office hierarchy is checked; then the differences
 * are computed in C and written with one batched statement per kind of
 * change (INSERT ... SELECT FROM unnest(...) / UPDATE ... FROM unnest(...)):
 * offices, units and their accounts, users and their roles; leavers are
 * deactivated with their live activation codes voided, and the devices of
 * leavers and of users moved to another unit are revoked. An unchanged
 * re-import writes nothing. Only data travels in the array parameters; no
 * SQL text is ever built from the file.
 */
#ifndef ALERTD_ROSTER_APPLY_H
#define ALERTD_ROSTER_APPLY_H

#include "people/roster.h"
#include "people/roster_parse.h"

#include <libpq-fe.h>
#include <stdbool.h>

/*
 * Load the stored offices for every office and parent code of the parsed
 * file and resolve each office's level (at most 3). A missing parent, a loop,
 * a fourth level, or a level change that would strand a stored sub-office
 * not in the file is recorded as a rejection of the row that set the parent
 * (roster_reject). The loaded result stays in imp (freed with
 * roster_state_free). False on a failed statement (logged) or when out of
 * memory (imp->oom set); the caller then rolls back. Callers also check
 * imp->oom on success, as a rejection may have run out of memory.
 */
bool roster_apply_check(struct roster_state *imp, PGconn *conn) __attribute__((warn_unused_result));

/*
 * With no row rejected and after roster_apply_check: load the stored units,
 * accounts, users, roles and active members, then write the differences,
 * counting them into report's offices, units, users and devices_revoked.
 * False on a failed statement (logged) or when out of memory (imp->oom set);
 * the caller must then roll back, and the counts mean nothing.
 */
bool roster_apply_write(struct roster_state *imp, PGconn *conn, struct roster_report *report)
	__attribute__((warn_unused_result));

/*
 * For an import by a key scoped to scope_office, after roster_apply_check
 * and with no row rejected: append {"line", "reason"} to refused for each
 * row that reaches outside the subtree of scope_office, and count them in
 * *n. A row is outside when its office is outside the subtree as stored or
 * as the file would leave it (the file's parents), when it changes the
 * parent of scope_office itself, or when its unit or its user exists and is
 * served by an office outside the stored subtree (a key may not take units
 * or people from another office). False on a failed statement (logged) or
 * when out of memory (imp->oom set).
 */
bool roster_apply_scope(struct roster_state *imp, PGconn *conn, const char *scope_office, json_t *refused, long *n)
	__attribute__((warn_unused_result));

#endif
