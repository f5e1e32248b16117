/*
 * serve.h - the long-running server: pool, schema check, HTTP, signals.
 */
#ifndef ALERTD_SERVE_H
#define ALERTD_SERVE_H

struct config;

/*
 * Run until SIGTERM or SIGINT. Returns the process exit code: 0 after a
 * clean shutdown, non-zero when startup failed (reason logged).
 */
int serve_run(const struct config *cfg);

#endif
