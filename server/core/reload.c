/*
 * reload.c - the live configuration: reference-counted, immutable snapshots
 * for SIGHUP reload (the reload itself is cli/serve_reload.c).
 *
 * Design (the least invasive one that is correct with threads):
 * - Options that one subsystem holds in its own state are applied through
 *   that subsystem's locked setter: the log level and format (log_set,
 *   atomics in log.c) and the rate limits (ratelimit_set, under each
 *   limiter's mutex).
 * - Options read where the work happens are read from a snapshot: an
 *   immutable, reference-counted struct config published under a mutex
 *   (struct config_live). An HTTP handler (notices.allowed_link_domains)
 *   takes a reference per request; each push dispatcher thread swaps its
 *   reference at the start of each loop pass (push.max_attempts,
 *   retry_*_seconds, max_age_seconds, poll and record intervals), and so do
 *   the maintenance thread (events.maintenance_interval_seconds,
 *   coverage.refresh_seconds, escalation.check_seconds and after_minutes)
 *   and the notices thread (notices.check_seconds), which serve.c wakes
 *   after a reload so a new interval counts from the job's last start. A
 *   thread never sees a snapshot change under it, and a snapshot is freed
 *   when the last reference goes.
 * - A new snapshot is the freshly loaded and fully validated file, with
 *   every restart-only option set back to the running value, so those
 *   fields always describe what runs; their changes are logged by name.
 * Only the main thread (cli/serve_reload.c, on SIGHUP) publishes.
 */
#include "core/reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cfg first, so a const struct config * handed out is also the snapshot's address */
struct snapshot {
	struct config cfg;
	unsigned refs; /* under config_live.lock */
};

struct config_live {
	pthread_mutex_t lock;
	struct snapshot *current; /* holds one reference of its own */
};

static char **string_slot(struct config *cfg, const struct config_option *o)
{
	return (char **)((char *)cfg + o->offset);
}

static bool is_string(const struct config_option *o)
{
	return o->type == CONFIG_STRING || o->type == CONFIG_LISTEN || o->type == CONFIG_SHA256_HEX;
}

static size_t value_size(const struct config_option *o)
{
	return o->type == CONFIG_INT ? sizeof(long long) : o->type == CONFIG_BOOL ? sizeof(bool) : sizeof(int);
}

static bool option_equal(const struct config *a, const struct config *b, const struct config_option *o)
{
	if (is_string(o))
		return strcmp(*string_slot((struct config *)a, o), *string_slot((struct config *)b, o)) == 0;
	return memcmp((const char *)a + o->offset, (const char *)b + o->offset, value_size(o)) == 0;
}

/* dst's value of o becomes src's. False (dst unchanged) when out of memory. */
static bool option_copy(struct config *dst, const struct config *src, const struct config_option *o)
{
	if (!is_string(o)) {
		memcpy((char *)dst + o->offset, (const char *)src + o->offset, value_size(o));
		return true;
	}
	char *copy = strdup(*string_slot((struct config *)src, o));
	if (!copy)
		return false;
	free(*string_slot(dst, o));
	*string_slot(dst, o) = copy;
	if (o->type == CONFIG_LISTEN)
		dst->http_listen_addr = src->http_listen_addr;
	return true;
}

static void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	config_free(&s->cfg);
	free(s);
}

struct config_live *config_live_new(const struct config *startup)
{
	size_t n;
	const struct config_option *opts = config_options(&n);
	struct config_live *live = calloc(1, sizeof(*live));
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!live || !s)
		goto fail;
	/* the plain fields at once, then each string its own copy */
	s->cfg = *startup;
	for (size_t i = 0; i < n; i++)
		if (is_string(&opts[i]))
			*string_slot(&s->cfg, &opts[i]) = NULL;
	for (size_t i = 0; i < n; i++)
		if (is_string(&opts[i]) && !option_copy(&s->cfg, startup, &opts[i]))
			goto fail;
	s->refs = 1;
	pthread_mutex_init(&live->lock, NULL);
	live->current = s;
	return live;
fail:
	snapshot_free(s);
	free(live);
	return NULL;
}

void config_live_free(struct config_live *live)
{
	if (!live)
		return;
	snapshot_free(live->current);
	pthread_mutex_destroy(&live->lock);
	free(live);
}

const struct config *config_live_acquire(struct config_live *live)
{
	pthread_mutex_lock(&live->lock);
	struct snapshot *s = live->current;
	s->refs++;
	pthread_mutex_unlock(&live->lock);
	return &s->cfg;
}

void config_live_release(struct config_live *live, const struct config *cfg)
{
	struct snapshot *s = (struct snapshot *)cfg;

	if (!cfg)
		return;
	pthread_mutex_lock(&live->lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&live->lock);
	if (last)
		snapshot_free(s);
}

bool config_live_differs(const struct config *next, const struct config *cur, const struct config_option *o)
{
	return !option_equal(cur, next, o);
}

bool config_live_restore(struct config *next, const struct config *cur, const struct config_option *o, bool *changed)
{
	*changed = !option_equal(cur, next, o);
	return !*changed || option_copy(next, cur, o);
}

struct config *config_live_blank(void)
{
	return calloc(1, sizeof(struct snapshot));
}

void config_live_discard(struct config *next)
{
	snapshot_free((struct snapshot *)next);
}

void config_live_publish(struct config_live *live, struct config *next)
{
	struct snapshot *s = (struct snapshot *)next;

	s->refs = 1;
	pthread_mutex_lock(&live->lock);
	struct snapshot *old = live->current;
	live->current = s;
	pthread_mutex_unlock(&live->lock);
	config_live_release(live, &old->cfg);
}
