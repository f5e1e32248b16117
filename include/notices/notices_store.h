/*
 * notices_store.h - the SQL of security notices (migration 0024): create,
 * read, list, reach, approve, withdraw and report, always within the
 * caller's office subtree (a notice outside it is "not found"). Each change
 * writes its audit row in its own transaction. See docs/staff.md
 * "Security notices".
 */
#ifndef ALERTD_NOTICES_STORE_H
#define ALERTD_NOTICES_STORE_H

#include "store/store.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

/* A notice as the author submits it; arrays are PostgreSQL array literals built by the caller. */
struct notice_draft {
	const char *office;   /* the targeted subtree's root */
	const char *template; /* NULL: none */
	const char *title_vi, *body_vi;
	const char *title_en, *body_en; /* both NULL: no English text */
	const char *units;		/* "{1000001,...}" or "{}" */
	const char *roles;		/* "{account_holder,...}" or "{}" */
	bool only_unprotected;
	const char *send_mode;	/* office_hours | immediate | at */
	const char *send_after; /* RFC 3339 time for "at", else NULL */
};

/* The staff member acting: account id and login, and the request (audit fields). */
struct notice_actor {
	long long staff_id;
	const char *login, *ip, *request_id;
};

/* *ok: office exists and lies in scope's subtree. False on a database error. */
bool notices_store_office_in_scope(PGconn *conn, const char *scope, const char *office, bool *ok)
	__attribute__((warn_unused_result));

/*
 * *bad (new JSON array, the caller's) gets the codes of units (an array
 * literal) that are unknown or not of office's subtree. False on a database error.
 */
bool notices_store_units_outside(PGconn *conn, const char *office, const char *units, json_t **bad)
	__attribute__((warn_unused_result));

/* The reach of d's target now (alertd_notice_reach), a new JSON object in *out. False on a database error. */
bool notices_store_reach(PGconn *conn, const struct notice_draft *d, long long active_days, json_t **out)
	__attribute__((warn_unused_result));

/*
 * Store d pending approval and audit notice.create (with its text hash), in
 * one transaction. *out: the notice (alertd_notice_json). False on a
 * database error (rolled back, nothing stored).
 */
bool notices_store_create(PGconn *conn, const struct notice_draft *d, const struct notice_actor *who, json_t **out)
	__attribute__((warn_unused_result));

/* The notice id if in scope's subtree: *out, or NULL when not found. False on a database error. */
bool notices_store_get(PGconn *conn, const char *scope, long long id, json_t **out) __attribute__((warn_unused_result));

/* Newest first, id below before (0: from the newest), state NULL for all; *out a new array. */
bool notices_store_list(PGconn *conn, const char *scope, const char *state, long long before, long long limit, json_t **out)
	__attribute__((warn_unused_result));

enum notice_change {
	NOTICE_CHANGED,
	NOTICE_NOT_FOUND,     /* unknown or outside the scope */
	NOTICE_WRONG_STATE,   /* not pending approval */
	NOTICE_HASH_MISMATCH, /* the approver was shown another text */
	NOTICE_OWN,	      /* the approver is the author */
	NOTICE_NOT_AUTHOR,    /* a withdrawal by someone else */
	NOTICE_CHANGE_ERROR,
};

/*
 * Approve notice id (pending, in scope, not the approver's own, its hash
 * equal to sha256) and schedule it: send_at from its mode and the holidays
 * (a PostgreSQL date array literal), audited notice.approve with the hash,
 * in one transaction. *out: the notice on NOTICE_CHANGED.
 */
enum notice_change notices_store_approve(PGconn *conn, const char *scope, long long id, const char *sha256,
					 const char *holidays, const struct notice_actor *who, json_t **out);

/* Withdraw notice id (pending, in scope, by its author), audited notice.withdraw. */
enum notice_change notices_store_withdraw(PGconn *conn, const char *scope, long long id, const struct notice_actor *who,
					  json_t **out);

/* The delivery report of a notice in scope (alertd_notice_report): *out, or NULL when not found. */
bool notices_store_report(PGconn *conn, const char *scope, long long id, json_t **out) __attribute__((warn_unused_result));

#endif
