/*
 * cli_staff.h - `alertd staff add|deactivate|reset|list`: treasury staff
 * accounts (docs/staff.md). Returns the process exit code (0, 1 failure,
 * 2 usage).
 */
#ifndef ALERTD_CLI_STAFF_H
#define ALERTD_CLI_STAFF_H

struct config;

int cli_staff(const struct config *cfg, char **args, int nargs);

#endif
