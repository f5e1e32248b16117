/*
 * serve.c - start alertd, wait for a signal, stop it cleanly.
 *
 * Signals are blocked before any thread exists and collected with
 * sigwait() here, so no handler code ever runs in signal context and no
 * global flag is shared with worker threads. SIGHUP reloads the
 * configuration here, in the main thread (cli/serve_reload.c).
 */
#include "cli/serve.h"
#include "api/api_routes.h"
#include "core/app.h"
#include "core/config.h"
#include "db/db.h"
#include "push/dispatch.h"
#include "mail/worker.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "core/log.h"
#include "db/maintenance.h"
#include "notices/notices.h"
#include "notices/notices_worker.h"
#include "core/metrics.h"
#include "db/migrate.h"
#include "http/ratelimit.h"
#include "core/secrets.h"
#include "ingest/sources.h"
#include "core/tokens.h"
#include "core/reload.h"
#include "cli/serve_reload.h"

#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#define STARTUP_POOL_WAIT_MS 5000
/* after the writer stops, time for the answers it released to be sent */
#define FINAL_DRAIN_MS 2000

static bool schema_ready(const struct config *cfg)
{
	char detail[300];
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	enum migrate_state st;

	if (!conn) {
		log_error("serve: cannot reach the database at startup");
		return false;
	}
	st = migrate_status(conn, detail, sizeof(detail));
	PQfinish(conn);
	if (st != MIGRATE_CURRENT) {
		LOG_FIELDS(LOG_ERROR, "serve: refusing to start on this schema", LOG_S("schema", migrate_state_name(st)),
			   LOG_S("detail", detail));
		return false;
	}
	return true;
}

/* The KEK is optional: without it alertd serves but refuses all ingest. */
static bool load_kek(const struct config *cfg, struct secrets_kek *kek, bool *have)
{
	char err[512];

	*have = false;
	if (!cfg->secrets_key_file[0]) {
		log_warn("secrets.key_file is not set: every ingest request will be refused");
		return true;
	}
	if (!secrets_load_kek(cfg->secrets_key_file, kek, err, sizeof(err))) {
		log_error("%s", err);
		return false;
	}
	*have = true;
	return true;
}

int serve_run(const struct config *cfg, const char *config_path, config_env_fn env)
{
	struct app app;
	struct secrets_kek kek;
	bool have_kek = false;
	struct maintenance *upkeep = NULL;
	struct notices_worker *notices = NULL;
	char holidays[NOTICES_HOLIDAYS_MAX * 11 + 3];
	unsigned char pseudonym_key[32];
	struct dispatcher *dispatcher = NULL;
	struct mail_workers *mail = NULL;
	char instance[96], host[64] = "host";
	struct http_server *srv = NULL;
	sigset_t stop_signals;
	int sig = 0, rc = 1;

	memset(&app, 0, sizeof(app));
	app.cfg = cfg;
	app.routes = api_routes(&app.nroutes);
	if (cfg->metrics_token_sha256[0]) {
		sodium_hex2bin(app.metrics_token_hash, sizeof(app.metrics_token_hash), cfg->metrics_token_sha256,
			       strlen(cfg->metrics_token_sha256), NULL, NULL, NULL);
		app.metrics_token_set = true;
	}

	/* Block before threads start so every thread inherits the mask. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!schema_ready(cfg) || !load_kek(cfg, &kek, &have_kek))
		goto out;
	/* the notices options are lists the option table cannot check: refuse a bad one before serving */
	if (!notices_domains_valid(cfg->notices_allowed_link_domains) ||
	    !notices_holidays_array(cfg->notices_holidays, holidays, sizeof(holidays))) {
		log_error("notices.allowed_link_domains must be comma-separated lower-case domains and notices.holidays "
			  "comma-separated YYYY-MM-DD dates");
		goto out;
	}
	app.live = config_live_new(cfg);
	app.metrics = metrics_new(app.nroutes);
	app.sources = source_cache_new(have_kek ? &kek : NULL, (int)cfg->ingest_secret_cache_seconds);
	app.ingest_limits =
		ratelimit_new((double)cfg->ingest_rate_limit_per_second, (double)cfg->ingest_rate_limit_burst, NULL);
	app.activation_by_ip = ratelimit_new((double)cfg->app_activation_per_ip_per_minute / 60.0,
					     (double)cfg->app_activation_per_ip_per_minute, NULL);
	app.activation_by_login = ratelimit_new((double)cfg->app_activation_per_login_per_minute / 60.0,
						(double)cfg->app_activation_per_login_per_minute, NULL);
	app.activation_global = ratelimit_new((double)cfg->app_activation_global_per_minute / 60.0,
					      (double)cfg->app_activation_global_per_minute, NULL);
	app.admin_by_ip = ratelimit_new((double)cfg->admin_requests_per_ip_per_minute / 60.0,
					(double)cfg->admin_requests_per_ip_per_minute, NULL);
	app.staff_signin_by_ip = ratelimit_new((double)cfg->auth_signin_per_ip_per_minute / 60.0,
					       (double)cfg->auth_signin_per_ip_per_minute, NULL);
	if (have_kek) {
		app.kek = kek;
		app.kek_set = true;
		tokens_code_key(&kek, app.code_key);
		app.code_key_set = true;
		tokens_collapse_key(&kek, app.collapse_key);
		app.collapse_key_set = true;
		tokens_pseudonym_key(&kek, pseudonym_key);
	}
	const unsigned char *collapse_key = app.collapse_key_set ? app.collapse_key : NULL;
	sodium_memzero(&kek, sizeof(kek));
	bool started = app.live && app.metrics && app.sources && app.ingest_limits && app.activation_by_ip &&
		       app.activation_by_login && app.activation_global && app.admin_by_ip && app.staff_signin_by_ip &&
		       db_pool_new(cfg->database_url, (int)cfg->database_pool_size,
				   (int)cfg->database_connect_timeout_seconds, &app.db) &&
		       ingest_writer_start(cfg, app.metrics, collapse_key, &app.ingest) &&
		       maintenance_start(app.live, app.metrics, collapse_key, have_kek ? pseudonym_key : NULL, &upkeep) &&
		       notices_worker_start(app.live, &notices);
	sodium_memzero(pseudonym_key, sizeof(pseudonym_key));
	if (!started) {
		log_error("serve: out of memory or threads");
		goto out;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(instance, sizeof(instance), "%s:%ld", host, (long)getpid());
	if (!dispatch_start(cfg, app.live, app.metrics, app.kek_set ? &app.kek : NULL, instance, &dispatcher)) {
		log_error("serve: the push dispatcher did not start (see the message above)");
		goto out;
	}
	/* without [smtp] the mail rows wait, pending, as push rows wait for an unconfigured provider */
	if (cfg->smtp_url[0] && !mail_workers_start(cfg, app.metrics, app.kek_set ? &app.kek : NULL, instance, &mail)) {
		log_error("serve: the mail workers did not start (see the message above)");
		goto out;
	}
	if (!cfg->smtp_url[0])
		log_info("smtp.url is not set: mail_outbox rows stay pending until it is");
	if (!http_start(&app, &srv))
		goto out;
	{
		LOG_FIELDS(LOG_INFO, "alertd serving", LOG_S("listen", cfg->http_listen),
			   LOG_I("threads", cfg->http_threads), LOG_I("pool_size", cfg->database_pool_size));
	}
	for (;;) {
		if (sigwait(&stop_signals, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		LOG_FIELDS(LOG_INFO, "reload: SIGHUP, reading the configuration again",
			   LOG_S("file", config_path ? config_path : "(none: defaults and environment)"));
		if (serve_reload(app.live, config_path, env, &app)) {
			/* threads that sleep a whole interval take the new snapshot now */
			maintenance_wake(upkeep);
			notices_worker_wake(notices);
		}
	}
	{
		LOG_FIELDS(LOG_INFO, "shutting down", LOG_S("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
			   LOG_I("grace_seconds", cfg->http_shutdown_grace_seconds));
	}
	http_quiesce(srv);
	if (!http_drain(srv, (int)cfg->http_shutdown_grace_seconds * 1000))
		log_warn("shutdown grace period over; finishing queued ingest work, then closing connections");
	/*
	 * The writer answers every job it holds (committed or 503) and then
	 * refuses new ones with 503; it is freed only after the HTTP server has
	 * stopped, since keep-alive connections may still submit until then.
	 */
	ingest_writer_drain(app.ingest);
	http_drain(srv, FINAL_DRAIN_MS);
	http_stop(srv);
	srv = NULL;
	log_info("alertd stopped");
	rc = 0;
out:
	http_stop(srv);
	ingest_writer_stop(app.ingest);
	dispatch_stop(dispatcher);
	mail_workers_stop(mail);
	maintenance_stop(upkeep);
	notices_worker_stop(notices);
	db_pool_free(app.db);
	source_cache_free(app.sources);
	ratelimit_free(app.ingest_limits);
	ratelimit_free(app.activation_by_ip);
	ratelimit_free(app.activation_by_login);
	ratelimit_free(app.activation_global);
	ratelimit_free(app.admin_by_ip);
	ratelimit_free(app.staff_signin_by_ip);
	sodium_memzero(&app.kek, sizeof(app.kek));
	sodium_memzero(app.code_key, sizeof(app.code_key));
	sodium_memzero(app.collapse_key, sizeof(app.collapse_key));
	metrics_free(app.metrics);
	config_live_free(app.live);
	return rc;
}
