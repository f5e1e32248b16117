/*
 * cli_office.c - `alertd office duty-email` (see cli_office.h). The address
 * is checked by the database (offices_duty_email, the same shape
 * mail_outbox accepts), so what is stored can always be queued.
 */
#include "cli/cli_office.h"
#include "cli/cli.h"
#include "core/config.h"
#include "db/audit.h"
#include "db/db.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char office_usage[] =
	"usage: alertd office duty-email CODE ADDRESS   e-mail escalations of office CODE to ADDRESS\n"
	"       alertd office duty-email CODE --clear   stop e-mailing them\n";

int cli_office(const struct config *cfg, char **args, int nargs)
{
	char actor[128];
	PGresult *res = NULL;
	int rc = 1;

	if (nargs != 3 || strcmp(args[0], "duty-email") != 0 || strlen(args[1]) == 0 || strlen(args[1]) > 15 ||
	    strlen(args[2]) > 254) {
		fprintf(stderr, office_usage);
		return 2;
	}
	const char *addr = strcmp(args[2], "--clear") == 0 ? NULL : args[2];
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: office: cannot connect to the database\n");
		return 1;
	}
	const char *p[2] = { args[1], addr };
	if (!db_begin(conn))
		goto dberr;
	res = db_exec(conn, "UPDATE offices SET duty_email = $2 WHERE code = $1 RETURNING code", 2, p);
	if (!res)
		goto dberr;
	if (PQntuples(res) != 1) {
		fprintf(stderr, "alertd: office: no office %s in the roster\n", args[1]);
		db_rollback(conn);
		goto out;
	}
	cli_actor(actor, sizeof(actor));
	json_t *d = json_pack("{s:s?}", "duty_email", addr);
	char *details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	struct audit_entry a = { .actor_kind = "cli",
				 .actor_id = actor,
				 .action = "office.duty_email",
				 .target = args[1],
				 .outcome = "ok",
				 .details = details };
	bool ok = details && audit_write(conn, &a) && db_commit(conn);
	free(details);
	if (!ok)
		goto dberr;
	printf(addr ? "office %s: escalations are e-mailed to %s\n" : "office %s: escalations are not e-mailed%s\n",
	       args[1], addr ? addr : "");
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "alertd: office: the database refused the change (is the address well-formed?): %s",
		PQerrorMessage(conn));
	db_rollback(conn);
out:
	PQclear(res);
	PQfinish(conn);
	return rc;
}
