/*
 * serve.h - the long-running server: pool, schema check, HTTP, signals.
 */
#ifndef ALERTD_SERVE_H
#define ALERTD_SERVE_H

#include "core/config.h"

/*
 * Run until SIGTERM or SIGINT. Returns the process exit code: 0 after a
 * clean shutdown, non-zero when startup failed (reason logged). On SIGHUP
 * the file at config_path (may be NULL) is read again with env
 * (core/reload.h).
 */
int serve_run(const struct config *cfg, const char *config_path, config_env_fn env);

#endif
