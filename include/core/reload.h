/*
 * reload.h - SIGHUP configuration reload: the live, reference-counted
 * configuration snapshot and the reload itself.
 *
 * A snapshot is an immutable struct config. The current one is published
 * under a mutex; a thread that honours reloadable options takes a reference
 * at the start of each unit of work (a request, a dispatcher loop pass) and
 * drops it afterwards, so a snapshot is freed only when nobody reads it.
 * Restart-only options in every published snapshot keep their startup
 * values, so any field of any snapshot is consistent with what runs.
 */
#ifndef ALERTD_RELOAD_H
#define ALERTD_RELOAD_H

#include "core/config.h"

#include <stdbool.h>

struct config_live;
struct app;

/* A live configuration starting with a deep copy of startup. NULL when out of memory. */
struct config_live *config_live_new(const struct config *startup);

/* Free live; every reference must have been released. NULL is ignored. */
void config_live_free(struct config_live *live);

/* The current snapshot, with a reference the caller gives back with config_live_release(). */
const struct config *config_live_acquire(struct config_live *live);

void config_live_release(struct config_live *live, const struct config *cfg);

/*
 * Re-read the file at path (may be NULL) with the environment env, validate
 * it fully and, if it is good, publish a snapshot with the reloadable
 * options changed and apply them to the logger and app's rate limiters.
 * Changed restart-only options are logged by name and not applied. Values
 * are never logged. On a bad file an error is logged, nothing changes and
 * false is returned.
 */
bool reload_config(struct config_live *live, const char *path, config_env_fn env, struct app *app);

/* Apply cfg's rate limits to app's limiters (startup and every reload). */
void reload_apply_limits(struct app *app, const struct config *cfg);

#endif
