/*
 * audit.h - append-only audit log (table audit_log; UPDATE and DELETE are
 * refused by a trigger).
 */
#ifndef ALERTD_AUDIT_H
#define ALERTD_AUDIT_H

#include <libpq-fe.h>
#include <stdbool.h>

struct audit_entry {
	const char *actor_kind; /* admin_key | staff | app | system | cli | ingest */
	const char *actor_id;	/* may be NULL */
	const char *action;	/* e.g. "source.add" */
	const char *target;	/* may be NULL */
	const char *outcome;	/* ok | denied | error */
	const char *ip;		/* may be NULL */
	const char *request_id; /* may be NULL */
	const char *details;	/* JSON object text, or NULL for {} */
};

/*
 * Write one entry on conn (inside the caller's transaction, if any).
 * Returns false when the insert failed (logged); callers that must not act
 * without an audit trail roll back on false.
 */
bool audit_write(PGconn *conn, const struct audit_entry *e) __attribute__((warn_unused_result));

#endif
