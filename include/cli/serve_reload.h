/*
 * serve_reload.h - SIGHUP reload for `alertd serve` (docs/operations.md §7).
 */
#ifndef ALERTD_SERVE_RELOAD_H
#define ALERTD_SERVE_RELOAD_H

#include "core/config.h"

#include <stdbool.h>

struct app;
struct config_live;

/*
 * Re-read the file at path (may be NULL) with the environment env and
 * validate it fully. If it is good: publish a snapshot in live with the
 * reloadable options changed, apply them to the logger and app's rate
 * limiters, log each changed restart-only option by name (never its value)
 * and one summary line, and return true. On a bad file log the error,
 * change nothing and return false.
 */
bool serve_reload(struct config_live *live, const char *path, config_env_fn env, struct app *app);

/* Apply cfg's rate limits to app's limiters. */
void serve_reload_limits(struct app *app, const struct config *cfg);

#endif
