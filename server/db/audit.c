/*
 * audit.c - write audit_log rows with a parameterised INSERT.
 */
#include "db/audit.h"
#include "db/db.h"

bool audit_write(PGconn *conn, const struct audit_entry *e)
{
	const char *params[8] = { e->actor_kind, e->actor_id, e->action,     e->target,
				  e->outcome,	 e->ip,	      e->request_id, e->details ? e->details : "{}" };
	PGresult *res = db_exec(conn,
				"INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)"
				" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
				8, params);

	PQclear(res);
	return res != NULL;
}
