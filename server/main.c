/*
 * main.c - the alertd command line: serve, migrate, check-config,
 * config-reference.
 */
#include "config.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "serve.h"

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
	"  config-reference  print the option table (markdown) for docs/config.md\n"
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
	log_init((enum log_level)cfg->log_level, (enum log_format)cfg->log_format);
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
	bool ok = migrate_apply(conn, &applied, err, sizeof(err));
	PQfinish(conn);
	if (!ok) {
		fprintf(stderr, "alertd: migrate: %s\n", err);
		return 1;
	}
	struct log_field f[] = { LOG_I("applied", applied), LOG_I("known", (long long)migration_files_count) };
	log_fields(LOG_INFO, "migrations complete", f, 2);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	const char *config_path = NULL;
	struct config cfg;
	int rc = 2;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else {
			fprintf(stderr, "alertd: unexpected argument '%s'\n%s", argv[i], usage);
			return 2;
		}
	}
	if (!cmd || strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? 0 : 2;
	}
	if (strcmp(cmd, "version") == 0) {
		printf("alertd %s\n", ALERTD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "config-reference") == 0) {
		config_write_reference(stdout);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "alertd: libsodium failed to initialise\n");
		return 1;
	}
	if (strcmp(cmd, "check-config") == 0) {
		if (!load(config_path, &cfg))
			return 2;
		printf("alertd: configuration OK%s%s\n", config_path ? ": " : "", config_path ? config_path : "");
		config_free(&cfg);
		return 0;
	}
	if (strcmp(cmd, "migrate") != 0 && strcmp(cmd, "serve") != 0) {
		fprintf(stderr, "alertd: unknown command '%s'\n%s", cmd, usage);
		return 2;
	}
	if (!load(config_path, &cfg))
		return 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "alertd: libcurl failed to initialise\n");
		config_free(&cfg);
		return 1;
	}
	rc = strcmp(cmd, "migrate") == 0 ? cmd_migrate(&cfg) : serve_run(&cfg);
	curl_global_cleanup();
	config_free(&cfg);
	return rc;
}
