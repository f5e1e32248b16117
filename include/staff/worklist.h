/*
 * worklist.h - the follow-up worklist of units that are not protected
 * (migration 0025, docs/staff.md "Worklist"): the sync that keeps one item
 * per unit episode in step with the coverage refresh, the reads of the
 * staff routes (scoped to an office subtree) and the staff actions
 * (assign, due date, close and reopen by hand, contact attempts), each
 * audited in its transaction.
 */
#ifndef ALERTD_STAFF_WORKLIST_H
#define ALERTD_STAFF_WORKLIST_H

#include <libpq-fe.h>
#include <stdbool.h>

struct config;
struct store_actor;

/* The most units a printable list shows, and contact attempts an item's detail shows. */
#define WORKLIST_PRINT_MAX 500
#define WORKLIST_CONTACTS_MAX 200
#define WORKLIST_NOTE_MAX 1000

/*
 * Bring the items in step with coverage_units (alertd_worklist_sync) inside
 * the caller's transaction, which holds the coverage lock. *changed (may be
 * NULL) gets the items opened, changed, reopened or closed. False on a
 * database error (the caller rolls back; PQerrorMessage says why).
 */
bool worklist_sync(PGconn *conn, const struct config *cfg, int *changed) __attribute__((warn_unused_result));

/* The list's filters; NULL = not given. */
struct worklist_filter {
	const char *office;   /* an office in scope (checked by the caller): its subtree */
	const char *state;    /* "open" (default), "closed" or "all" */
	const char *assignee; /* a staff login, or "" for unassigned */
	const char *overdue;  /* "true" / "false" */
	const char *status;   /* "partial" / "unprotected" */
	const char *after_id; /* keyset cursor: items after this one in (due_at, id) order */
	long long limit;
};

/* Columns of an item (the list, the detail and the printable list). */
enum worklist_col {
	WL_ID,
	WL_UNIT,
	WL_UNIT_NAME,
	WL_OFFICE,
	WL_OFFICE_NAME,
	WL_STATE,
	WL_STATUS,
	WL_REASONS, /* JSON array text, with "days" computed now */
	WL_OPENED,
	WL_DUE,
	WL_OVERDUE,
	WL_ESCALATED_TO, /* the office above the item's office, when overdue; NULL otherwise */
	WL_ASSIGNEE,	 /* staff login, NULL when unassigned */
	WL_ASSIGNEE_NAME,
	WL_ASSIGNED_AT,
	WL_CLOSED_AT,
	WL_CLOSED_BY,
	WL_CLOSE_REASON,
	WL_CLOSE_NOTE,
	WL_REOPENED_AT,
	WL_REOPEN_COUNT,
	WL_LAST_CONTACT,
	WL_CONTACTS, /* how many contact attempts */
	WL_EPISODE_OPEN,
	WL_UNIT_PHONE,
	WL_UNIT_EMAIL,
	WL__COUNT
};

/* Items in scope's subtree matching f, in (due_at, id) order; at most f->limit rows. */
bool worklist_list(PGconn *conn, const char *scope, const struct worklist_filter *f, PGresult **out)
	__attribute__((warn_unused_result));

/* Item id if in scope's subtree: 0 or 1 row. */
bool worklist_get(PGconn *conn, const char *scope, const char *id, PGresult **out) __attribute__((warn_unused_result));

/* The open items of office (exactly that office), by unit code, at most WORKLIST_PRINT_MAX. */
bool worklist_print_items(PGconn *conn, const char *office, PGresult **out) __attribute__((warn_unused_result));

enum worklist_person_col { WLP_UNIT, WLP_ID, WLP_NAME, WLP_ROLES, WLP_PHONE, WLP_ACTIVATION, WLP_COVERED, WLP__COUNT };

/*
 * The active users of office's open items' units (those of
 * worklist_print_items), by unit and login: roles (JSON array text), phone,
 * activation (none | pending | used: the newest code's), covered (a
 * reachable device within active_days).
 */
bool worklist_print_people(PGconn *conn, const char *office, long long active_days, PGresult **out)
	__attribute__((warn_unused_result));

enum worklist_contact_col { WLC_ID, WLC_AT, WLC_CHANNEL, WLC_OUTCOME, WLC_NOTE, WLC_STAFF, WLC__COUNT };

/* Item id's contact attempts, oldest first, at most WORKLIST_CONTACTS_MAX. */
bool worklist_contacts(PGconn *conn, const char *id, PGresult **out) __attribute__((warn_unused_result));

/* A change by hand; NULL / false = not changed. */
struct worklist_change {
	bool set_assignee;
	const char *assignee; /* a staff login, NULL to unassign (with set_assignee) */
	const char *due_date; /* YYYY-MM-DD, a Vietnam day not before today: due at its end */
	const char *state;    /* "closed" or "open" */
	const char *note;     /* required to close; kept with the close */
};

enum worklist_result {
	WORKLIST_OK,
	WORKLIST_NOT_FOUND,    /* no such item in scope */
	WORKLIST_ENDED,	       /* the episode ended (the unit is protected again): history, not changed */
	WORKLIST_BAD_ASSIGNEE, /* not an active operator/admin of the item's office or above, within scope */
	WORKLIST_DUE_IN_PAST,  /* the due date is before today (Vietnam) */
	WORKLIST_ERROR
};

/*
 * Apply c to item id (in scope) in one transaction on conn (outside any),
 * audited as worklist.update by actor with what changed. Anything but
 * WORKLIST_OK leaves the item unchanged.
 */
enum worklist_result worklist_update(PGconn *conn, const char *scope, const char *id, const struct worklist_change *c,
				     const struct store_actor *actor);

/*
 * Record a contact attempt on item id (in scope) by staff_id, audited as
 * worklist.contact, in one transaction on conn (outside any); channel and
 * outcome are checked by the caller (worklist_channel_ok/outcome_ok), note
 * may be NULL. *contact_id gets the new row's id.
 */
enum worklist_result worklist_add_contact(PGconn *conn, const char *scope, const char *id, long long staff_id,
					  const char *channel, const char *outcome, const char *note,
					  const struct store_actor *actor, long long *contact_id);

bool worklist_channel_ok(const char *s);
bool worklist_outcome_ok(const char *s);

#endif
