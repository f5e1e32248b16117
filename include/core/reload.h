/*
 * reload.h - the live configuration for SIGHUP reload: reference-counted,
 * immutable snapshots (the reload itself: cli/serve_reload.h).
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

/* A live configuration starting with a deep copy of startup. NULL when out of memory. */
struct config_live *config_live_new(const struct config *startup);

/* Free live; every reference must have been released. NULL is ignored. */
void config_live_free(struct config_live *live);

/* The current snapshot, with a reference the caller gives back with config_live_release(). */
const struct config *config_live_acquire(struct config_live *live);

void config_live_release(struct config_live *live, const struct config *cfg);

/* The steps of a reload (cli/serve_reload.c), in order. */

/* An empty configuration to fill with config_load() and publish. NULL when out of memory. */
struct config *config_live_blank(void);

/* Whether option o differs between next and cur. */
bool config_live_differs(const struct config *next, const struct config *cur, const struct config_option *o);

/* Set next's o back to cur's value (a restart-only option); *changed says whether it differed. False: out of memory. */
bool config_live_restore(struct config *next, const struct config *cur, const struct config_option *o, bool *changed)
	__attribute__((warn_unused_result));

/* Make next (from config_live_blank) the current snapshot; live owns it from now on. */
void config_live_publish(struct config_live *live, struct config *next);

/* Free next (from config_live_blank) instead of publishing it. NULL is ignored. */
void config_live_discard(struct config *next);

#endif
