/*
 * test_reload.c - the live configuration snapshots of a SIGHUP reload
 * (core/reload.c): a reader keeps its snapshot after a newer one is
 * published (ASan would see a use after free), restart-only options are
 * set back to the running value, reloadable ones keep the new one; and
 * ratelimit_set() cuts the buckets to a lower burst at once.
 */
#include "core/clock.h"
#include "core/reload.h"
#include "http/ratelimit.h"
#include "testlib.h"

#include <string.h>

static const char *fake_env(const char *name)
{
	if (strcmp(name, "ALERTD_LOG_LEVEL") == 0)
		return "debug";
	if (strcmp(name, "ALERTD_HTTP_THREADS") == 0)
		return "9";
	if (strcmp(name, "ALERTD_DATABASE_URL") == 0)
		return "dbname=other password=x";
	if (strcmp(name, "ALERTD_NOTICES_ALLOWED_LINK_DOMAINS") == 0)
		return "kbnn.vn,example.org";
	return NULL;
}

static void test_snapshots_and_restart_options(void)
{
	struct config start;
	char err[512];
	size_t n;
	const struct config_option *opts = config_options(&n);

	CHECK(config_defaults(&start, err, sizeof(err)));
	struct config_live *live = config_live_new(&start);
	CHECK(live != NULL);
	const struct config *a = config_live_acquire(live);
	CHECK(a != &start);
	CHECK(a->database_url != start.database_url); /* a deep copy */
	CHECK_STR(a->database_url, start.database_url);

	struct config *next = config_live_blank();
	CHECK(next != NULL);
	CHECK(config_load(next, NULL, fake_env, err, sizeof(err)));
	int restart_changed = 0, reloadable_changed = 0;
	for (size_t i = 0; i < n; i++) {
		bool changed = false;
		if (opts[i].restart) {
			CHECK(config_live_restore(next, a, &opts[i], &changed));
			restart_changed += changed;
		} else {
			reloadable_changed += config_live_differs(next, a, &opts[i]);
		}
	}
	CHECK(restart_changed == 2);	/* http.threads, database.url */
	CHECK(reloadable_changed == 2); /* log.level, notices.allowed_link_domains */
	config_live_publish(live, next);

	const struct config *b = config_live_acquire(live);
	CHECK(b == next);
	CHECK(b->log_level == LOG_DEBUG);
	CHECK(b->http_threads == start.http_threads);
	CHECK_STR(b->database_url, start.database_url);
	CHECK_STR(b->notices_allowed_link_domains, "kbnn.vn,example.org");
	/* the older snapshot is still whole for the reader that holds it */
	CHECK(a->log_level == LOG_INFO);
	CHECK_STR(a->notices_allowed_link_domains, start.notices_allowed_link_domains);
	config_live_release(live, a);
	config_live_release(live, b);
	config_live_discard(NULL);
	config_live_free(live);
	config_free(&start);
}

static int64_t fixed_mono(void *arg)
{
	return *(int64_t *)arg;
}

static void test_ratelimit_set_cuts_burst(void)
{
	int64_t now = 1000000;
	struct clock_source src = { fixed_mono, fixed_mono, &now };
	struct ratelimit *rl = ratelimit_new(1.0, 100.0, &src);
	int retry = 0;

	CHECK(rl != NULL);
	CHECK(ratelimit_take(rl, 1, 1, &retry)); /* key 1 holds 99 tokens */
	ratelimit_set(rl, 1.0, 2.0);
	CHECK(ratelimit_take(rl, 1, 1, &retry));
	CHECK(ratelimit_take(rl, 1, 1, &retry));
	CHECK(!ratelimit_take(rl, 1, 1, &retry));
	CHECK(retry == 1);
	ratelimit_set(rl, 0.5, 2.0); /* a slower refill: Retry-After follows it */
	CHECK(!ratelimit_take(rl, 1, 1, &retry));
	CHECK(retry == 2);
	ratelimit_set(NULL, 1.0, 1.0);
	ratelimit_free(rl);
}

int main(void)
{
	RUN(test_snapshots_and_restart_options);
	RUN(test_ratelimit_set_cuts_burst);
	TEST_SUMMARY("test_reload");
}
