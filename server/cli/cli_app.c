/*
 * cli_app.c - `alertd admin-key add|list|revoke` and
 * `alertd activation-code LOGIN`. Keys and codes are printed once and
 * stored only as hashes; every change is audited with the OS user.
 */
#include "cli/cli_app.h"
#include "cli/cli.h"
#include "people/activation.h"
#include "people/admin_keys.h"
#include "core/config.h"
#include "db/db.h"
#include "core/secrets.h"

#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static PGconn *connect_or_say(const struct config *cfg, const char *cmd)
{
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);

	if (!conn)
		fprintf(stderr, "alertd: %s: cannot connect to the database\n", cmd);
	return conn;
}

static const char admin_key_usage[] =
	"usage: alertd admin-key add NAME --office CODE --scope ACTION[,ACTION...]\n"
	"                                 a key that may touch only office CODE and its sub-offices, and only\n"
	"                                 the routes of its actions: roster, activation, unrouted, read\n"
	"                                 (read: the staff read API, personal data); prints it once\n"
	"       alertd admin-key revoke NAME\n"
	"       alertd admin-key list\n";

int cli_admin_key(const struct config *cfg, char **args, int nargs)
{
	char err[512], actor[128], key[TOKENS_TEXT_MAX];
	static const char *const add_names[] = { "--office", "--scope" };
	const char *verb = nargs > 0 ? args[0] : "", *add[2] = { NULL, NULL }; /* office, scope */
	unsigned actions = 0;
	PGconn *conn;
	bool ok;

	if (!((strcmp(verb, "add") == 0 && nargs >= 2 && cli_options(args, nargs, 2, add_names, add, 2)) ||
	      (strcmp(verb, "revoke") == 0 && nargs == 2) || (strcmp(verb, "list") == 0 && nargs == 1))) {
		fputs(admin_key_usage, stderr);
		return 2;
	}
	if (add[1] && !admin_keys_parse_actions(add[1], &actions, err, sizeof(err))) {
		fprintf(stderr, "alertd: admin-key add: %s\n", err);
		return 2;
	}
	conn = connect_or_say(cfg, "admin-key");
	if (!conn)
		return 1;
	cli_actor(actor, sizeof(actor));
	if (strcmp(verb, "add") == 0) {
		ok = admin_keys_add(conn, args[1], add[0], actions, actor, key, err, sizeof(err));
		if (ok)
			printf("name:   %s\noffice: %s (and its sub-offices)\nscope:  %s\nkey:    %s\n\n"
			       "Shown once and stored only as a hash. Send it as"
			       " \"Authorization: Bearer <key>\" to /v1/admin/ routes.\n",
			       args[1], add[0], add[1], key);
		sodium_memzero(key, sizeof(key));
	} else if (strcmp(verb, "revoke") == 0) {
		ok = admin_keys_revoke(conn, args[1], actor, err, sizeof(err));
		if (ok)
			printf("revoked admin key %s\n", args[1]);
	} else {
		ok = admin_keys_list(conn, stdout, err, sizeof(err));
	}
	PQfinish(conn);
	if (!ok)
		fprintf(stderr, "alertd: admin-key %s: %s\n", verb, err);
	return ok ? 0 : 1;
}

int cli_activation_code(const struct config *cfg, char **args, int nargs)
{
	char err[512], actor_name[128], code[TOKENS_CODE_LEN + 1], expires[64];
	unsigned char key[32];
	struct secrets_kek kek;
	PGconn *conn;
	int rc = 1;

	if (nargs != 1) {
		fprintf(stderr, "usage: alertd activation-code LOGIN\n");
		return 2;
	}
	if (!cfg->secrets_key_file[0] || !secrets_load_kek(cfg->secrets_key_file, &kek, err, sizeof(err))) {
		fprintf(stderr, "alertd: activation-code: %s\n",
			cfg->secrets_key_file[0] ? err : "secrets.key_file is not set");
		return 1;
	}
	tokens_code_key(&kek, key);
	sodium_memzero(&kek, sizeof(kek));
	conn = connect_or_say(cfg, "activation-code");
	if (!conn)
		goto out;
	cli_actor(actor_name, sizeof(actor_name));
	struct activation_actor actor = { .kind = "cli", .id = actor_name };
	switch (activation_issue(conn, key, args[0], NULL, cfg->app_activation_code_ttl_hours, &actor, code, expires)) {
	case ACTIVATION_OK:
		printf("login:           %s\nactivation code: %.5s-%.5s\nexpires:         %s\n\n"
		       "Give the code to the user in person or by their registered phone; it works once, and issuing\n"
		       "a new one voids this one.\n",
		       args[0], code, code + 5, expires);
		rc = 0;
		break;
	case ACTIVATION_DENIED:
		fprintf(stderr, "alertd: activation-code: no active user with login '%s'\n", args[0]);
		break;
	default:
		fprintf(stderr, "alertd: activation-code: database error (see log)\n");
		break;
	}
	PQfinish(conn);
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(code, sizeof(code));
	return rc;
}
