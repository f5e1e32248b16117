/*
 * cli_roster.c - `alertd roster import FILE [--dry-run]`.
 *
 * Reads the whole file (at most CLI_ROSTER_MAX_FILE bytes), imports it on a
 * standalone connection through roster_import() (audited as actor_kind
 * "cli", actor the OS user) and prints the report, pretty JSON, to stdout.
 */
#include "cli/cli_roster.h"
#include "core/fileio.h"
#include "cli/cli.h"
#include "core/config.h"
#include "db/db.h"
#include "people/roster.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLI_ROSTER_MAX_FILE ((size_t)256 * 1024 * 1024)

static const char roster_usage[] =
	"usage: alertd roster import FILE [--dry-run]\n"
	"Imports the roster CSV (offices, budget units, accounts, users, roles; see docs/roster.md).\n"
	"Every unit in the file is imported in full: its active users missing from the file are\n"
	"deactivated. Nothing is written unless every row is valid. --dry-run reports without writing.\n";


int cli_roster(const struct config *cfg, char **args, int nargs)
{
	const char *file = NULL;
	bool dry_run = false, usage = nargs < 2 || strcmp(args[0], "import") != 0;
	char err[1024], actor[128];
	struct roster_report report;
	PGconn *conn = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc = 1;

	for (int i = 1; i < nargs && !usage; i++) {
		if (strcmp(args[i], "--dry-run") == 0 && !dry_run)
			dry_run = true;
		else if (!file && args[i][0] != '-')
			file = args[i];
		else
			usage = true;
	}
	if (usage || !file) {
		fputs(roster_usage, stderr);
		return 2;
	}
	data = fileio_read(file, CLI_ROSTER_MAX_FILE, &len, err, sizeof(err));
	if (!data) {
		fprintf(stderr, "alertd: roster import: %s\n", err);
		return 1;
	}
	conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: roster import: cannot connect to the database\n");
		free(data);
		return 1;
	}
	cli_actor(actor, sizeof(actor));
	enum roster_result res = roster_import(conn, data, len, dry_run, NULL, "cli", actor, &report, err, sizeof(err));
	if (res == ROSTER_OK || res == ROSTER_REJECTED) {
		json_t *j = roster_report_json(&report, dry_run);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
			snprintf(err, sizeof(err), "cannot print the report");
			res = res == ROSTER_OK ? ROSTER_DB_ERROR : res;
		}
		fputc('\n', stdout);
		json_decref(j);
	}
	if (res == ROSTER_OK)
		rc = 0;
	else
		fprintf(stderr, "alertd: roster import: %s%s\n", res == ROSTER_MALFORMED ? "malformed file: " : "", err);
	if (res == ROSTER_OK && dry_run)
		fprintf(stderr, "alertd: roster import: dry run, nothing was written\n");
	roster_report_free(&report);
	PQfinish(conn);
	free(data);
	return rc;
}
