/*
 * cli_app.h - operator commands for the app side: admin API keys and
 * activation codes. Return the process exit code (0, 1 failure, 2 usage).
 */
#ifndef ALERTD_CLI_APP_H
#define ALERTD_CLI_APP_H

struct config;

int cli_admin_key(const struct config *cfg, char **args, int nargs);
int cli_activation_code(const struct config *cfg, char **args, int nargs);

#endif
