/*
 * cli_staff.c - `alertd staff add|deactivate|reset|role|list`. Temporary
 * passwords are printed once, to stdout, and stored only as Argon2id
 * strings; every change is audited with the OS user (staff/accounts.h).
 * `alertd staff demo-totp LOGIN` serves the `make run` demo data set only
 * (deploy/demo/): it refuses any account outside a "[DEMO]" office.
 */
#include "cli/cli_staff.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/secrets.h"
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
	"       alertd staff role LOGIN viewer|operator|admin\n"
	"                                 change its role; ends its sessions (the new role applies at once)\n"
	"       alertd staff approver LOGIN on|off\n"
	"                                 grant or take the permission to approve notices (ends no session)\n"
	"       alertd staff list\n"
	"       alertd staff demo-totp LOGIN\n"
	"                                 demo data set only (make run): a confirmed TOTP secret for an\n"
	"                                 account of a \"[DEMO]\" office; prints its base32 text\n";

/* `staff role LOGIN ROLE`: any account (the command line is not scoped), audited with the OS user. */
static bool change_role(PGconn *conn, const char *login, const char *new_role, const char *actor, char *err, size_t errlen)
{
	struct store_actor who = { .kind = "cli", .id = actor };
	struct staff_role_result out;

	if (!staff_accounts_role_ok(new_role)) {
		snprintf(err, errlen, "invalid role '%.40s': use viewer, operator or admin", new_role);
		return false;
	}
	switch (staff_accounts_set_role(conn, login, new_role, NULL, &who, &out)) {
	case STAFF_ROLE_CHANGED:
		printf("staff account %s is now %s; %lld session(s) ended\n", login, out.role, out.sessions_ended);
		return true;
	case STAFF_ROLE_UNCHANGED:
		printf("staff account %s is already %s; nothing changed\n", login, out.role);
		return true;
	case STAFF_ROLE_NOT_FOUND:
		snprintf(err, errlen, "no staff account '%.80s'", login);
		return false;
	case STAFF_ROLE_DEACTIVATED:
		snprintf(err, errlen, "staff account '%.80s' is deactivated; deactivation is final", login);
		return false;
	case STAFF_ROLE_ERROR:
		break;
	}
	snprintf(err, errlen, "database error (see log)");
	return false;
}

/* `staff demo-totp LOGIN`: the secret goes to stdout only, as `add` prints a temporary password. */
static int demo_totp(const struct config *cfg, const char *login)
{
	char err[512], actor[128], base32[STAFF_TOTP_BASE32_MAX] = "";
	struct secrets_kek kek;
	PGconn *conn;

	if (!cfg->secrets_key_file[0]) {
		fprintf(stderr,
			"alertd: staff demo-totp: secrets.key_file is not set (create one with: alertd keygen FILE)\n");
		return 1;
	}
	if (!secrets_load_kek(cfg->secrets_key_file, &kek, err, sizeof(err))) {
		fprintf(stderr, "alertd: staff demo-totp: %s\n", err);
		return 1;
	}
	conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		sodium_memzero(&kek, sizeof(kek));
		fprintf(stderr, "alertd: staff demo-totp: cannot connect to the database\n");
		return 1;
	}
	cli_actor(actor, sizeof(actor));
	bool ok = staff_accounts_demo_totp(conn, &kek, login, actor, base32, err, sizeof(err));
	sodium_memzero(&kek, sizeof(kek));
	PQfinish(conn);
	if (!ok) {
		fprintf(stderr, "alertd: staff demo-totp: %s\n", err);
		return 1;
	}
	printf("login:       %s\ntotp secret: %s\n", login, base32);
	sodium_memzero(base32, sizeof(base32));
	return 0;
}

int cli_staff(const struct config *cfg, char **args, int nargs)
{
	char err[512], actor[128], temp[STAFF_PASSWORD_TEMP_LEN + 1] = "";
	static const char *const add_names[] = { "--office", "--role" };
	const char *verb = nargs > 0 ? args[0] : "", *add[2] = { NULL, NULL }; /* office, role */
	bool clear_totp = nargs == 3 && strcmp(args[2], "--totp") == 0;
	PGconn *conn;
	bool ok;

	if (!((strcmp(verb, "add") == 0 && nargs >= 2 && cli_options(args, nargs, 2, add_names, add, 2)) ||
	      (strcmp(verb, "deactivate") == 0 && nargs == 2) ||
	      (strcmp(verb, "reset") == 0 && (nargs == 2 || clear_totp)) || (strcmp(verb, "role") == 0 && nargs == 3) ||
	      (strcmp(verb, "approver") == 0 && nargs == 3 && (strcmp(args[2], "on") == 0 || strcmp(args[2], "off") == 0)) ||
	      (strcmp(verb, "list") == 0 && nargs == 1) || (strcmp(verb, "demo-totp") == 0 && nargs == 2))) {
		fputs(staff_usage, stderr);
		return 2;
	}
	if (strcmp(verb, "demo-totp") == 0)
		return demo_totp(cfg, args[1]);
	conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: staff: cannot connect to the database\n");
		return 1;
	}
	cli_actor(actor, sizeof(actor));
	if (strcmp(verb, "add") == 0 || strcmp(verb, "reset") == 0) {
		ok = strcmp(verb, "add") == 0
			     ? staff_accounts_add(conn, args[1], add[0], add[1], actor,
						  cfg->auth_temporary_password_hours, temp, err, sizeof(err))
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
	} else if (strcmp(verb, "role") == 0) {
		ok = change_role(conn, args[1], args[2], actor, err, sizeof(err));
	} else if (strcmp(verb, "approver") == 0) {
		bool on = strcmp(args[2], "on") == 0, changed = false;
		ok = staff_accounts_set_approver(conn, args[1], on, actor, &changed, err, sizeof(err));
		if (ok)
			printf("staff account %s %s approve notices%s\n", args[1], on ? "may" : "may not",
			       changed ? "" : " (unchanged)");
	} else {
		ok = staff_accounts_list(conn, stdout, err, sizeof(err));
	}
	PQfinish(conn);
	if (!ok)
		fprintf(stderr, "alertd: staff %s: %s\n", verb, err);
	return ok ? 0 : 1;
}
