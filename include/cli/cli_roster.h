/*
 * cli_roster.h - `alertd roster import FILE [--dry-run]`: import the roster
 * CSV (docs/roster.md) and print the report as JSON.
 *
 * Returns the process exit code: 0 imported (or dry run passed), 1 rejected,
 * malformed or failed (reason on stderr), 2 usage error. args/nargs are the
 * words after `roster`.
 */
#ifndef ALERTD_CLI_ROSTER_H
#define ALERTD_CLI_ROSTER_H

struct config;

int cli_roster(const struct config *cfg, char **args, int nargs);

#endif
