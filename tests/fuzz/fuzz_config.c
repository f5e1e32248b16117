/*
 * fuzz_config.c - libFuzzer harness for the configuration loader: the input
 * up to a line "%%env" is an INI file, which config_load() reads from a file
 * (a memfd, through /proc/self/fd); the lines after it are NAME=VALUE pairs
 * served as the environment overrides (ALERTD_<SECTION>_<KEY>). Checked
 * besides crashes and leaks: a failure says why; a loaded configuration has
 * every whole-number option within its bounds, every choice within its
 * table and every string within its length; a rejected database.url (a
 * secret) from the environment never appears in the message.
 */
#define _GNU_SOURCE
#include "core/config.h"
#include "fuzz.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ENV_MARK "%%env\n"
#define SECRET_MARK "\x01secret-marker\x01"

static int fd = -1;
static char path[64];
static char env_text[8192];
static char secret_value[8192 + sizeof(SECRET_MARK)];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz_config", 0);
	REQUIRE(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

/* The environment: a line NAME=VALUE of the input's tail; ALERTD_DATABASE_URL gets the secret marker. */
static const char *fuzz_env(const char *name)
{
	size_t nlen = strlen(name);

	for (char *line = env_text; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > nlen && line[nlen] == '=' && memcmp(line, name, nlen) == 0) {
			static char value[sizeof(env_text)];
			memcpy(value, line + nlen + 1, len - nlen - 1);
			value[len - nlen - 1] = '\0';
			if (strcmp(name, "ALERTD_DATABASE_URL") == 0) {
				snprintf(secret_value, sizeof(secret_value), "%s%s", SECRET_MARK, value);
				return secret_value;
			}
			return value;
		}
		line += nl ? len + 1 : len;
	}
	return NULL;
}

static void check_loaded(const struct config *cfg)
{
	size_t n;
	const struct config_option *opts = config_options(&n);
	const char *base = (const char *)cfg;

	for (size_t i = 0; i < n; i++) {
		const struct config_option *o = &opts[i];
		const void *field = base + o->offset;
		switch (o->type) {
		case CONFIG_INT: {
			long long v = *(const long long *)field;
			REQUIRE(v >= o->min && v <= o->max);
			break;
		}
		case CONFIG_ENUM: {
			int v = *(const int *)field, nchoices = 0;
			while (o->choices[nchoices])
				nchoices++;
			REQUIRE(v >= 0 && v < nchoices);
			break;
		}
		case CONFIG_BOOL:
			break;
		case CONFIG_STRING:
		case CONFIG_LISTEN:
		case CONFIG_SHA256_HEX: {
			const char *s = *(char *const *)field;
			REQUIRE(s != NULL);
			if (o->type == CONFIG_STRING)
				REQUIRE((long long)strlen(s) >= o->min && (long long)strlen(s) <= o->max);
			if (o->type == CONFIG_SHA256_HEX)
				REQUIRE(strlen(s) == 0 || strlen(s) == 64);
			break;
		}
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct config cfg;
	char err[1024] = "";
	const unsigned char *mark = memmem(data, size, ENV_MARK, strlen(ENV_MARK));
	size_t file_len = mark ? (size_t)(mark - data) : size;

	env_text[0] = '\0';
	if (mark) {
		size_t n = size - file_len - strlen(ENV_MARK);
		if (n >= sizeof(env_text))
			n = sizeof(env_text) - 1;
		memcpy(env_text, mark + strlen(ENV_MARK), n);
		env_text[n] = '\0';
	}
	REQUIRE(ftruncate(fd, 0) == 0);
	REQUIRE(pwrite(fd, data, file_len, 0) == (ssize_t)file_len);
	if (config_load(&cfg, path, mark ? fuzz_env : NULL, err, sizeof(err))) {
		check_loaded(&cfg);
		config_free(&cfg);
	} else {
		REQUIRE(err[0] != '\0');
		/* the secret's value is never shown: unless the input holds the marker, only the secret does */
		if (!memmem(data, size, SECRET_MARK, strlen(SECRET_MARK)))
			REQUIRE(strstr(err, SECRET_MARK) == NULL);
	}
	return 0;
}
