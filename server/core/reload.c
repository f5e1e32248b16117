/*
 * reload.c - SIGHUP configuration reload.
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
 * Only the main thread (serve.c, on SIGHUP) calls reload_config().
 */
#include "core/reload.h"
#include "core/app.h"
#include "core/log.h"
#include "http/ratelimit.h"
#include "notices/notices.h"

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

/* Publish s (its one reference passes to live); the previous snapshot goes when its readers are done. */
static void publish(struct config_live *live, struct snapshot *s)
{
	pthread_mutex_lock(&live->lock);
	struct snapshot *old = live->current;
	live->current = s;
	pthread_mutex_unlock(&live->lock);
	config_live_release(live, &old->cfg);
}

static void rate_per_minute(struct ratelimit *rl, long long per_minute)
{
	ratelimit_set(rl, (double)per_minute / 60.0, (double)per_minute);
}

void reload_apply_limits(struct app *app, const struct config *cfg)
{
	ratelimit_set(app->ingest_limits, (double)cfg->ingest_rate_limit_per_second, (double)cfg->ingest_rate_limit_burst);
	rate_per_minute(app->activation_by_ip, cfg->app_activation_per_ip_per_minute);
	rate_per_minute(app->activation_by_login, cfg->app_activation_per_login_per_minute);
	rate_per_minute(app->activation_global, cfg->app_activation_global_per_minute);
	rate_per_minute(app->admin_by_ip, cfg->admin_requests_per_ip_per_minute);
	rate_per_minute(app->staff_signin_by_ip, cfg->auth_signin_per_ip_per_minute);
}

/* Append "section.key" to a comma-separated list, cut (with "...") if it does not fit. */
static void list_add(char *list, size_t len, const struct config_option *o)
{
	size_t used = strlen(list);
	int w = snprintf(list + used, len - used, "%s%s.%s", used ? "," : "", o->section, o->key);

	if (w < 0 || (size_t)w >= len - used)
		snprintf(list + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
}

bool reload_config(struct config_live *live, const char *path, config_env_fn env, struct app *app)
{
	char err[1024], applied[2048] = "", restart[2048] = "", holidays[NOTICES_HOLIDAYS_MAX * 11 + 3];
	size_t n, napplied = 0, nrestart = 0;
	const struct config_option *opts = config_options(&n);
	struct snapshot *next = calloc(1, sizeof(*next));
	const struct config *cur = NULL;

	if (!next) {
		log_error("reload: out of memory; the configuration is unchanged");
		return false;
	}
	/* config_load frees what it filled on failure */
	if (!config_load(&next->cfg, path, env, err, sizeof(err))) {
		/* err names the option and, unless it is secret, the value: as at startup */
		LOG_FIELDS(LOG_ERROR, "reload: configuration refused, the running configuration is unchanged",
			   LOG_S("error", err));
		free(next);
		return false;
	}
	if (!notices_domains_valid(next->cfg.notices_allowed_link_domains) ||
	    !notices_holidays_array(next->cfg.notices_holidays, holidays, sizeof(holidays))) {
		LOG_FIELDS(LOG_ERROR, "reload: configuration refused, the running configuration is unchanged",
			   LOG_S("error", "notices.allowed_link_domains must be comma-separated lower-case domains and "
					  "notices.holidays comma-separated YYYY-MM-DD dates"));
		goto fail;
	}
	cur = config_live_acquire(live);
	for (size_t i = 0; i < n; i++) {
		const struct config_option *o = &opts[i];
		if (option_equal(cur, &next->cfg, o))
			continue;
		if (o->restart) {
			/* by name only: the value may be a secret (database.url) */
			char name[160];
			snprintf(name, sizeof(name), "%s.%s", o->section, o->key);
			LOG_FIELDS(LOG_WARN, "reload: restart required, not applied", LOG_S("option", name));
			list_add(restart, sizeof(restart), o);
			nrestart++;
			if (!option_copy(&next->cfg, cur, o)) {
				log_error("reload: out of memory; the configuration is unchanged");
				goto fail;
			}
		} else {
			list_add(applied, sizeof(applied), o);
			napplied++;
		}
	}
	config_live_release(live, cur);
	cur = NULL;
	next->refs = 1;
	const struct config *c = &next->cfg;
	log_set(c->log_level, c->log_format);
	reload_apply_limits(app, c);
	publish(live, next);
	LOG_FIELDS(LOG_INFO, "reload: configuration reloaded", LOG_I("applied_count", (long long)napplied),
		   LOG_S("applied", applied), LOG_I("restart_required_count", (long long)nrestart),
		   LOG_S("restart_required", restart));
	return true;
fail:
	config_live_release(live, cur);
	snapshot_free(next);
	return false;
}
