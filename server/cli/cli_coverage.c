/*
 * cli_coverage.c - `alertd coverage refresh|snapshot|target` (see
 * cli_coverage.h). The refresh waits for one running elsewhere instead of
 * skipping, so its figures are fresh when it returns.
 */
#include "cli/cli_coverage.h"
#include "cli/cli.h"
#include "core/config.h"
#include "db/db.h"
#include "db/maintenance.h"
#include "staff/coverage.h"

#include <stdio.h>
#include <string.h>

static const char coverage_usage[] =
	"usage: alertd coverage refresh        recompute every unit's coverage now (and today's snapshot)\n"
	"       alertd coverage snapshot DAY   write DAY's (YYYY-MM-DD) row per office from the last refresh, once\n"
	"       alertd coverage target OFFICE PCT YYYY-MM-DD\n"
	"                                      set the office's target: PCT%% of its units protected by that day\n";

int cli_coverage(const struct config *cfg, char **args, int nargs)
{
	const char *verb = nargs > 0 ? args[0] : "";
	char err[512], actor[128];
	PGconn *conn;
	int rc = 1;

	if (!((strcmp(verb, "refresh") == 0 && nargs == 1) || (strcmp(verb, "snapshot") == 0 && nargs == 2) ||
	      (strcmp(verb, "target") == 0 && nargs == 4))) {
		fprintf(stderr, coverage_usage);
		return 2;
	}
	conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: coverage: cannot connect to the database\n");
		return 1;
	}
	if (strcmp(verb, "refresh") == 0) {
		int rows;
		bool skipped;
		if (maintenance_coverage_refresh(conn, cfg, false, &rows, &skipped)) {
			printf("coverage refreshed: %d unit rows changed\n", rows);
			rc = 0;
		} else {
			fprintf(stderr, "alertd: coverage refresh failed: %s", PQerrorMessage(conn));
		}
	} else if (strcmp(verb, "snapshot") == 0) {
		const char *p[1] = { args[1] };
		PGresult *res = db_exec(conn, "SELECT alertd_coverage_snapshot($1::date)", 1, p);
		if (res && PQntuples(res) == 1) {
			printf("coverage snapshot %s: %s office rows written\n", args[1], PQgetvalue(res, 0, 0));
			rc = 0;
		} else {
			fprintf(stderr, "alertd: coverage snapshot failed (DAY is YYYY-MM-DD): %s", PQerrorMessage(conn));
		}
		PQclear(res);
	} else {
		cli_actor(actor, sizeof(actor));
		if (coverage_set_target(conn, args[1], args[2], args[3], "cli", actor, err, sizeof(err))) {
			printf("coverage target of office %s: %s%% by %s\n", args[1], args[2], args[3]);
			rc = 0;
		} else {
			fprintf(stderr, "alertd: coverage target: %s\n", err);
		}
	}
	PQfinish(conn);
	return rc;
}
