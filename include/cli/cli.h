/*
 * cli.h - operator commands beyond serve/migrate: ingest sources and their
 * secrets, request signing for integrators, unrouted events, maintenance,
 * pseudonyms.
 *
 * Each returns the process exit code: 0 success, 1 failure (reason on
 * stderr), 2 usage error. args/nargs are the words after the command.
 */
#ifndef ALERTD_CLI_H
#define ALERTD_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* Who runs the command, for the audit log: the sudo caller when there is one, else the OS user. */
void cli_actor(char *out, size_t len);

/*
 * args[from..nargs) as "--NAME VALUE" pairs, in any order, for the n option
 * names given ("--office", ...): each exactly once, nothing else. values[i]
 * receives the value of names[i]. False on anything else (a usage error).
 */
bool cli_options(char **args, int nargs, int from, const char *const *names, const char **values, size_t n);

int cli_keygen(char **args, int nargs);
int cli_source(const struct config *cfg, char **args, int nargs);
int cli_sign(char **args, int nargs);
int cli_events(const struct config *cfg, char **args, int nargs);
int cli_maintenance(const struct config *cfg);
/* Print the pseudonym retention gives VALUE, to find a person's pseudonymised rows (docs/privacy.md). */
int cli_pseudonym(const struct config *cfg, char **args, int nargs);

#endif
