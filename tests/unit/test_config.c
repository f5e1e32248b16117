/*
 * test_config.c - the option table, INI loader, environment overrides and
 * the promise that docs/config.md matches the table.
 */
#include "core/config.h"
#include "core/log.h"
#include "testlib.h"

#include <stdlib.h>
#include <unistd.h>

static char errbuf[1024];

/* A fake environment: NAME=VALUE pairs. */
static const char *fake_env[8];
static const char *env_lookup(const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; fake_env[i]; i++)
		if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
			return fake_env[i] + n + 1;
	return NULL;
}

static char *write_temp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/alertd-cfg-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

static bool load_text(const char *text, struct config *cfg)
{
	char *path = write_temp(text);
	bool ok = config_load(cfg, path, env_lookup, errbuf, sizeof(errbuf));
	unlink(path);
	return ok;
}

static void test_defaults_are_valid(void)
{
	struct config cfg;
	CHECK(config_defaults(&cfg, errbuf, sizeof(errbuf)));
	CHECK(cfg.http_max_body_bytes == 1048576);
	CHECK(cfg.database_pool_size == 8);
	CHECK_STR(cfg.http_listen, "127.0.0.1:8080");
	CHECK(cfg.log_level == LOG_INFO);
	CHECK(cfg.log_format == LOG_FORMAT_JSON);
	CHECK_STR(cfg.metrics_token_sha256, "");
	config_free(&cfg);
}

static void test_file_values(void)
{
	struct config cfg;
	fake_env[0] = NULL;
	CHECK(load_text("# comment\n; also a comment\n\n[database]\nurl = \"host=/tmp dbname=x application_name='a#b'\"\n"
			"pool_size=3\n[http]\n  listen = [::1]:9000  \nthreads = 2\n[log]\nlevel = debug\nformat = text\n",
			&cfg));
	CHECK_STR(cfg.database_url, "host=/tmp dbname=x application_name='a#b'");
	CHECK(cfg.database_pool_size == 3);
	CHECK_STR(cfg.http_listen, "[::1]:9000");
	CHECK(cfg.http_listen_addr.ss_family == AF_INET6);
	CHECK(cfg.http_threads == 2);
	CHECK(cfg.log_level == LOG_DEBUG);
	CHECK(cfg.log_format == LOG_FORMAT_TEXT);
	config_free(&cfg);
}

static void test_bad_listen_names_key(void)
{
	struct config cfg;
	fake_env[0] = NULL;
	CHECK(!load_text("[http]\nlisten = nonsense\n", &cfg));
	CHECK_CONTAINS(errbuf, "http.listen");
	CHECK_CONTAINS(errbuf, "nonsense");
	CHECK_CONTAINS(errbuf, ":2:");
	CHECK(!load_text("[http]\nlisten = 127.0.0.1:0\n", &cfg));
	CHECK(!load_text("[http]\nlisten = 127.0.0.1:65536\n", &cfg));
	CHECK(!load_text("[http]\nlisten = 999.0.0.1:80\n", &cfg));
	CHECK(!load_text("[http]\nlisten = localhost:80\n", &cfg));
}

static void test_bounds_and_types(void)
{
	struct config cfg;
	fake_env[0] = NULL;
	CHECK(!load_text("[http]\nthreads = 0\n", &cfg));
	CHECK_CONTAINS(errbuf, "http.threads");
	CHECK_CONTAINS(errbuf, "between 1 and 64");
	CHECK(!load_text("[http]\nthreads = 4x\n", &cfg));
	CHECK_CONTAINS(errbuf, "whole number");
	CHECK(!load_text("[http]\nmax_body_bytes = 99999999999999999999999\n", &cfg));
	CHECK(!load_text("[log]\nlevel = loud\n", &cfg));
	CHECK_CONTAINS(errbuf, "log.level");
	CHECK(!load_text("[metrics]\ntoken_sha256 = ABCDEF\n", &cfg));
	CHECK_CONTAINS(errbuf, "metrics.token_sha256");
	CHECK(!load_text("[metrics]\ntoken_sha256 = "
			 "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\n",
			 &cfg));
	CHECK(load_text("[metrics]\ntoken_sha256 = "
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
			&cfg));
	config_free(&cfg);
}

static void test_unknown_keys_and_syntax(void)
{
	struct config cfg;
	fake_env[0] = NULL;
	CHECK(!load_text("[http]\nlisten_port = 80\n", &cfg));
	CHECK_CONTAINS(errbuf, "http.listen_port");
	CHECK_CONTAINS(errbuf, "unknown option");
	CHECK(!load_text("[nope]\n", &cfg));
	CHECK_CONTAINS(errbuf, "unknown section [nope]");
	CHECK(!load_text("threads = 2\n", &cfg));
	CHECK_CONTAINS(errbuf, "outside of a [section]");
	CHECK(!load_text("[http\n", &cfg));
	CHECK_CONTAINS(errbuf, "malformed section");
	CHECK(!load_text("[http]\njust words\n", &cfg));
	CHECK_CONTAINS(errbuf, "key = value");
	char *longline = malloc(6000);
	memset(longline, 'a', 5998);
	longline[5998] = '\n';
	longline[5999] = '\0';
	CHECK(!load_text(longline, &cfg));
	CHECK_CONTAINS(errbuf, "longer than");
	free(longline);
	CHECK(!config_load(&cfg, "/nonexistent/alertd.conf", NULL, errbuf, sizeof(errbuf)));
	CHECK_CONTAINS(errbuf, "/nonexistent/alertd.conf");
}

static void test_env_overrides(void)
{
	struct config cfg;
	fake_env[0] = "ALERTD_HTTP_THREADS=7";
	fake_env[1] = "ALERTD_DATABASE_URL=postgresql://u@h/db";
	fake_env[2] = NULL;
	CHECK(load_text("[http]\nthreads = 2\n", &cfg));
	CHECK(cfg.http_threads == 7);
	CHECK_STR(cfg.database_url, "postgresql://u@h/db");
	config_free(&cfg);

	fake_env[0] = "ALERTD_HTTP_LISTEN=nonsense";
	fake_env[1] = NULL;
	CHECK(!load_text("", &cfg));
	CHECK_CONTAINS(errbuf, "ALERTD_HTTP_LISTEN");
	CHECK_CONTAINS(errbuf, "http.listen");
	fake_env[0] = NULL;
}

static void test_secret_values_not_echoed(void)
{
	struct config cfg;
	fake_env[0] = NULL;
	CHECK(!load_text("[database]\nurl = \"host=x password=hunter2 bogus\"\n", &cfg));
	CHECK_CONTAINS(errbuf, "database.url");
	CHECK(!strstr(errbuf, "hunter2"));
}

static void test_reference_matches_docs(void)
{
	char *ref = NULL, *doc = NULL;
	size_t reflen = 0;
	FILE *mem = open_memstream(&ref, &reflen);
	config_write_reference(mem);
	fclose(mem);

	FILE *f = fopen("docs/config.md", "r");
	CHECK(f != NULL);
	if (f) {
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		fseek(f, 0, SEEK_SET);
		doc = calloc(1, (size_t)n + 1);
		CHECK(fread(doc, 1, (size_t)n, f) == (size_t)n);
		fclose(f);
	}
	if (doc && !strstr(doc, ref))
		fprintf(stderr, "  docs/config.md is out of date; regenerate the table with: build/alertd config-reference\n");
	CHECK(doc && strstr(doc, ref));
	free(ref);
	free(doc);
}

int main(void)
{
	RUN(test_defaults_are_valid);
	RUN(test_file_values);
	RUN(test_bad_listen_names_key);
	RUN(test_bounds_and_types);
	RUN(test_unknown_keys_and_syntax);
	RUN(test_env_overrides);
	RUN(test_secret_values_not_echoed);
	RUN(test_reference_matches_docs);
	TEST_SUMMARY("test_config");
}
