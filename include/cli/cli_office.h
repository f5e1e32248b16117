/*
 * cli_office.h - `alertd office duty-email CODE ADDR|--clear`: set or clear
 * a transaction office's duty address, where escalations of risk alerts
 * that reached nobody are e-mailed (docs/operator-guide.md). Audited as
 * office.duty_email.
 */
#ifndef ALERTD_CLI_OFFICE_H
#define ALERTD_CLI_OFFICE_H

struct config;

/* Exit status: 0 done, 1 refused or failed (said on stderr), 2 usage. */
int cli_office(const struct config *cfg, char **args, int nargs);

#endif
