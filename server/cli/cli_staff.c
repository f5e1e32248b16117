/*
 * cli_staff.c - `alertd staff add|deactivate|reset|list`. Temporary
 * passwords are printed once, to stdout, and stored only as Argon2id
 * strings; every change is audited with the OS user (staff/accounts.h).
 */
#include "cli/cli_staff.h"
#include "cli/cli.h"
#include "core/config.h"
#include "db/db.h"
#include "staff/accounts.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char staff_usage[] =
	"usage: alertd staff add LOGIN --office CODE --role viewer|operator|admin\n"
	"                                 create an account; prints its temporary password once\n"
	"       alertd staff deactivate LOGIN  disable it for good and end its sessions at once\n"
	"       alertd staff reset LOGIN [--totp]\n"
	"                                 a new temporary password (ends its sessions, clears a lockout);\n"
	"                                 --totp also removes its TOTP enrolment and recovery codes\n"
	"       alertd staff list\n";

/* "--office CODE --role ROLE" in either order from args[from..]. */
static bool add_args(char **args, int nargs, const char **office, const char **role)
{
	*office = *role = NULL;
	for (int i = 2; i < nargs; i += 2) {
		if (i + 1 >= nargs)
			return false;
		if (strcmp(args[i], "--office") == 0 && !*office)
			*office = args[i + 1];
		else if (strcmp(args[i], "--role") == 0 && !*role)
			*role = args[i + 1];
		else
			return false;
	}
	return *office && *role;
}

int cli_staff(const struct config *cfg, char **args, int nargs)
{
	char err[512], actor[128], temp[STAFF_PASSWORD_TEMP_LEN + 1] = "";
	const char *verb = nargs > 0 ? args[0] : "", *office = NULL, *role = NULL;
	bool clear_totp = nargs == 3 && strcmp(args[2], "--totp") == 0;
	PGconn *conn;
	bool ok;

	if (!((strcmp(verb, "add") == 0 && nargs >= 2 && add_args(args, nargs, &office, &role)) ||
	      (strcmp(verb, "deactivate") == 0 && nargs == 2) ||
	      (strcmp(verb, "reset") == 0 && (nargs == 2 || clear_totp)) || (strcmp(verb, "list") == 0 && nargs == 1))) {
		fputs(staff_usage, stderr);
		return 2;
	}
	conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: staff: cannot connect to the database\n");
		return 1;
	}
	cli_actor(actor, sizeof(actor));
	if (strcmp(verb, "add") == 0 || strcmp(verb, "reset") == 0) {
		ok = strcmp(verb, "add") == 0
			     ? staff_accounts_add(conn, args[1], office, role, actor, cfg->auth_temporary_password_hours,
						  temp, err, sizeof(err))
			     : staff_accounts_reset(conn, args[1], clear_totp, actor, cfg->auth_temporary_password_hours,
						    temp, err, sizeof(err));
		if (ok)
			printf("login:              %s\ntemporary password: %s\n\n"
			       "Shown once and stored only as an Argon2id hash. Give it to the staff member in person;\n"
			       "it must be changed at the first sign-in.\n",
			       args[1], temp);
		sodium_memzero(temp, sizeof(temp));
	} else if (strcmp(verb, "deactivate") == 0) {
		ok = staff_accounts_deactivate(conn, args[1], actor, err, sizeof(err));
		if (ok)
			printf("deactivated staff account %s; its sessions are ended\n", args[1]);
	} else {
		ok = staff_accounts_list(conn, stdout, err, sizeof(err));
	}
	PQfinish(conn);
	if (!ok)
		fprintf(stderr, "alertd: staff %s: %s\n", verb, err);
	return ok ? 0 : 1;
}
