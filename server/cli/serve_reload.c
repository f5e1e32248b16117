/*
 * serve_reload.c - what `alertd serve` does on SIGHUP: read the file again,
 * validate it fully, publish a new configuration snapshot (core/reload.h)
 * and hand the reloadable values to the subsystems that keep their own
 * state (the logger, the rate limiters).
 *
 * It lives in cli/ because it reaches into several subsystems (notices'
 * list checks, http's rate limiters); core/reload.c, which every thread
 * reads, depends on the option table alone. Only serve.c's main thread calls
 * it, so two reloads never run at once.
 */
#include "cli/serve_reload.h"
#include "core/app.h"
#include "core/log.h"
#include "core/reload.h"
#include "http/ratelimit.h"
#include "notices/notices.h"

#include <stdio.h>
#include <string.h>

static void rate_per_minute(struct ratelimit *rl, long long per_minute)
{
	ratelimit_set(rl, (double)per_minute / 60.0, (double)per_minute);
}

void serve_reload_limits(struct app *app, const struct config *cfg)
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

static void refused(const char *why)
{
	/* why names the option and, unless it is secret, the value: as at startup */
	LOG_FIELDS(LOG_ERROR, "reload: configuration refused, the running configuration is unchanged", LOG_S("error", why));
}

bool serve_reload(struct config_live *live, const char *path, config_env_fn env, struct app *app)
{
	char err[1024], applied[2048] = "", restart[2048] = "", holidays[NOTICES_HOLIDAYS_MAX * 11 + 3];
	size_t n, napplied = 0, nrestart = 0;
	const struct config_option *opts = config_options(&n);
	struct config *next = config_live_blank();
	const struct config *cur = NULL;

	if (!next) {
		refused("out of memory");
		return false;
	}
	if (!config_load(next, path, env, err, sizeof(err))) {
		refused(err);
		goto fail;
	}
	/* the notices lists are checked at startup beyond what the option table can */
	if (!notices_domains_valid(next->notices_allowed_link_domains) ||
	    !notices_holidays_array(next->notices_holidays, holidays, sizeof(holidays))) {
		refused("notices.allowed_link_domains must be comma-separated lower-case domains and notices.holidays "
			"comma-separated YYYY-MM-DD dates");
		goto fail;
	}
	cur = config_live_acquire(live);
	for (size_t i = 0; i < n; i++) {
		const struct config_option *o = &opts[i];
		bool changed;
		if (!o->restart) {
			/* the new value stays */
			if (config_live_differs(next, cur, o)) {
				list_add(applied, sizeof(applied), o);
				napplied++;
			}
			continue;
		}
		if (!config_live_restore(next, cur, o, &changed)) {
			refused("out of memory");
			goto fail;
		}
		if (changed) {
			/* by name only: the value may be a secret (database.url) */
			char name[160];
			snprintf(name, sizeof(name), "%s.%s", o->section, o->key);
			LOG_FIELDS(LOG_WARN, "reload: restart required, not applied", LOG_S("option", name));
			list_add(restart, sizeof(restart), o);
			nrestart++;
		}
	}
	/* the summary at the more verbose of the two levels, so a reload to "error" still says it happened */
	enum log_level quiet = next->log_level, verbose = cur->log_level < quiet ? cur->log_level : quiet;
	enum log_format format = next->log_format;
	config_live_release(live, cur);
	serve_reload_limits(app, next);
	log_set(verbose, format);
	config_live_publish(live, next);
	LOG_FIELDS(LOG_INFO, "reload: configuration reloaded", LOG_I("applied_count", (long long)napplied),
		   LOG_S("applied", applied), LOG_I("restart_required_count", (long long)nrestart),
		   LOG_S("restart_required", restart));
	log_set(quiet, format);
	return true;
fail:
	config_live_release(live, cur);
	config_live_discard(next);
	return false;
}
