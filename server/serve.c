/*
 * serve.c - start alertd, wait for a signal, stop it cleanly.
 *
 * Signals are blocked before any thread exists and collected with
 * sigwait() here, so no handler code ever runs in signal context and no
 * global flag is shared with worker threads.
 */
#include "serve.h"
#include "api_routes.h"
#include "app.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"

#include <signal.h>
#include <sodium.h>
#include <string.h>

#define STARTUP_POOL_WAIT_MS 5000

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
		struct log_field f[] = { LOG_S("schema", migrate_state_name(st)), LOG_S("detail", detail) };
		log_fields(LOG_ERROR, "serve: refusing to start on this schema", f, 2);
		return false;
	}
	return true;
}

int serve_run(const struct config *cfg)
{
	struct app app;
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
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!schema_ready(cfg))
		goto out;
	app.metrics = metrics_new(app.nroutes);
	if (!app.metrics || !db_pool_new(cfg->database_url, (int)cfg->database_pool_size,
					 (int)cfg->database_connect_timeout_seconds, &app.db)) {
		log_error("serve: out of memory");
		goto out;
	}
	if (!http_start(&app, &srv))
		goto out;
	{
		struct log_field f[] = { LOG_S("listen", cfg->http_listen), LOG_I("threads", cfg->http_threads),
					 LOG_I("pool_size", cfg->database_pool_size) };
		log_fields(LOG_INFO, "alertd serving", f, 3);
	}
	while (sigwait(&stop_signals, &sig) != 0)
		;
	{
		struct log_field f[] = { LOG_S("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
					 LOG_I("grace_seconds", cfg->http_shutdown_grace_seconds) };
		log_fields(LOG_INFO, "shutting down", f, 2);
	}
	http_quiesce(srv);
	if (!http_drain(srv, (int)cfg->http_shutdown_grace_seconds * 1000))
		log_warn("shutdown grace period over; closing connections with requests in flight");
	http_stop(srv);
	srv = NULL;
	log_info("alertd stopped");
	rc = 0;
out:
	http_stop(srv);
	db_pool_free(app.db);
	metrics_free(app.metrics);
	return rc;
}
