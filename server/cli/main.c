/*
 * main.c - the alertd command line: serve, migrate, check-config,
 * config-reference.
 */
#include "cli/cli.h"
#include "cli/cli_app.h"
#include "cli/cli_staff.h"
#include "cli/cli_coverage.h"
#include "cli/cli_office.h"
#include "cli/cli_roster.h"
#include "core/config.h"
#include "db/db.h"
#include "core/log.h"
#include "db/migrate.h"
#include "cli/serve.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALERTD_VERSION "0.1.0"

static const char usage[] =
	"usage: alertd COMMAND [--config FILE]\n"
	"\n"
	"commands:\n"
	"  serve             run the HTTP service until SIGTERM/SIGINT\n"
	"  migrate           apply pending database migrations\n"
	"  check-config      validate the configuration and exit\n"
	"  keygen FILE       create the key file that encrypts ingest secrets (secrets.key_file)\n"
	"  source ...        manage ingest sources: add NAME --office CODE... | scope NAME --office CODE... |\n"
	"                    rotate NAME | revoke-secret NAME ID | list\n"
	"  sign ...          print a signed curl command for an event file (for integrators)\n"
	"  events unrouted   list stored events whose unit is not in the roster\n"
	"  admin-key ...     admin API keys: add NAME --office CODE --scope roster,activation,unrouted,read |\n"
	"                    revoke NAME | list\n"
	"  staff ...         treasury staff accounts: add LOGIN --office CODE --role viewer|operator|admin |\n"
	"                    deactivate LOGIN | reset LOGIN [--totp] | role LOGIN ROLE | list |\n"
	"                    approver LOGIN on|off | demo-totp LOGIN (make run only)\n"
	"  coverage ...      staff coverage figures: refresh | snapshot DAY | target OFFICE PCT YYYY-MM-DD\n"
	"  office duty-email CODE ADDR|--clear  the office's duty address for escalation e-mails\n"
	"  activation-code LOGIN  issue a one-time code to activate the user's phone\n"
	"  roster import FILE [--dry-run]  import the treasury roster CSV (docs/roster.md)\n"
	"  maintenance       create event partitions ahead and apply retention once\n"
	"  pseudonym VALUE   print the pseudonym retention gives VALUE (docs/privacy.md)\n"
	"  config-reference  print the option table (markdown) for docs/config.md\n"
	"  config-example    print an example config file with every option and its default\n"
	"  version           print the version\n"
	"\n"
	"Every option may be overridden by the environment as ALERTD_<SECTION>_<KEY>.\n";

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

static bool load(const char *path, struct config *cfg)
{
	char err[1024];

	if (!config_load(cfg, path, env_lookup, err, sizeof(err))) {
		fprintf(stderr, "alertd: configuration error: %s\n", err);
		return false;
	}
	log_init(cfg->log_level, cfg->log_format);
	return true;
}

static int cmd_migrate(const struct config *cfg)
{
	char err[1024];
	int applied = 0;
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);

	if (!conn) {
		fprintf(stderr, "alertd: migrate: cannot connect to the database\n");
		return 1;
	}
	/* a migration may rewrite a large table: no statement timeout here */
	PQclear(PQexec(conn, "SET statement_timeout = 0"));
	bool ok = migrate_apply(conn, &applied, err, sizeof(err));
	PQfinish(conn);
	if (!ok) {
		fprintf(stderr, "alertd: migrate: %s\n", err);
		return 1;
	}
	LOG_FIELDS(LOG_INFO, "migrations complete", LOG_I("applied", applied),
		   LOG_I("known", (long long)migration_files_count));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	const char *config_path = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	struct config cfg;
	int rc = 2;

	if (!rest)
		return 1;
	/* --config FILE may stand anywhere; every other word belongs to the command */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else
			rest[nrest++] = argv[i];
	}
	if (!cmd || strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(usage, cmd ? stdout : stderr);
		rc = cmd ? 0 : 2;
		goto out;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "config-reference") == 0 || strcmp(cmd, "config-example") == 0) {
		if (strcmp(cmd, "version") == 0)
			printf("alertd %s\n", ALERTD_VERSION);
		else if (strcmp(cmd, "config-example") == 0)
			config_write_example(stdout);
		else
			config_write_reference(stdout);
		rc = 0;
		goto out;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "alertd: libsodium failed to initialise\n");
		rc = 1;
		goto out;
	}
	if (strcmp(cmd, "keygen") == 0) {
		rc = cli_keygen(rest, nrest);
		goto out;
	}
	if (strcmp(cmd, "sign") == 0) {
		rc = cli_sign(rest, nrest);
		goto out;
	}
	bool takes_args = strcmp(cmd, "source") == 0 || strcmp(cmd, "events") == 0 || strcmp(cmd, "admin-key") == 0 ||
			  strcmp(cmd, "staff") == 0 || strcmp(cmd, "activation-code") == 0 || strcmp(cmd, "coverage") == 0 ||
			  strcmp(cmd, "roster") == 0 || strcmp(cmd, "pseudonym") == 0 || strcmp(cmd, "office") == 0;
	bool known = takes_args || strcmp(cmd, "check-config") == 0 || strcmp(cmd, "migrate") == 0 ||
		     strcmp(cmd, "serve") == 0 || strcmp(cmd, "maintenance") == 0;
	if (!known || (!takes_args && nrest > 0)) {
		if (known)
			fprintf(stderr, "alertd: unexpected argument '%s'\n%s", rest[0], usage);
		else
			fprintf(stderr, "alertd: unknown command '%s'\n%s", cmd, usage);
		goto out;
	}
	if (!load(config_path, &cfg))
		goto out;
	if (strcmp(cmd, "check-config") == 0) {
		printf("alertd: configuration OK%s%s\n", config_path ? ": " : "", config_path ? config_path : "");
		rc = 0;
	} else if (strcmp(cmd, "source") == 0) {
		rc = cli_source(&cfg, rest, nrest);
	} else if (strcmp(cmd, "roster") == 0) {
		rc = cli_roster(&cfg, rest, nrest);
	} else if (strcmp(cmd, "admin-key") == 0) {
		rc = cli_admin_key(&cfg, rest, nrest);
	} else if (strcmp(cmd, "staff") == 0) {
		rc = cli_staff(&cfg, rest, nrest);
	} else if (strcmp(cmd, "coverage") == 0) {
		rc = cli_coverage(&cfg, rest, nrest);
	} else if (strcmp(cmd, "office") == 0) {
		rc = cli_office(&cfg, rest, nrest);
	} else if (strcmp(cmd, "activation-code") == 0) {
		rc = cli_activation_code(&cfg, rest, nrest);
	} else if (strcmp(cmd, "events") == 0) {
		rc = cli_events(&cfg, rest, nrest);
	} else if (strcmp(cmd, "maintenance") == 0) {
		rc = cli_maintenance(&cfg);
	} else if (strcmp(cmd, "pseudonym") == 0) {
		rc = cli_pseudonym(&cfg, rest, nrest);
	} else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "alertd: libcurl failed to initialise\n");
		rc = 1;
	} else {
		rc = strcmp(cmd, "migrate") == 0 ? cmd_migrate(&cfg) : serve_run(&cfg, config_path, env_lookup);
		curl_global_cleanup();
	}
	config_free(&cfg);
out:
	free(rest);
	return rc;
}
