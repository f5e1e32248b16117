/*
 * cli_coverage.h - `alertd coverage refresh|snapshot|target`: recompute the
 * staff's coverage figures now, write a day's snapshot, set an office's
 * target (audited). docs/coverage.md. Returns the process exit code (0, 1
 * failure, 2 usage).
 */
#ifndef ALERTD_CLI_COVERAGE_H
#define ALERTD_CLI_COVERAGE_H

struct config;

int cli_coverage(const struct config *cfg, char **args, int nargs);

#endif
