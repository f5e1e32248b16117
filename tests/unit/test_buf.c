/*
 * test_buf.c - the capped byte buffer: a stolen buffer is always a
 * NUL-terminated string, also when nothing was appended (a fresh block
 * from realloc holds no terminator: an export's empty cell once read past
 * it), appends past the cap fail the buffer once and for all, and a failed
 * buffer is never handed out.
 */
#include "core/buf.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static void test_steal_empty_is_a_string(void)
{
	struct buf b;
	size_t len = 99;

	buf_init(&b, 1024);
	char *s = buf_steal(&b, &len);
	CHECK(s != NULL);
	CHECK_STR(s, "");
	CHECK(len == 0);
	free(s);
	/* after a steal the buffer starts again, empty */
	CHECK(buf_append(&b, "", 0));
	s = buf_steal(&b, NULL);
	CHECK(s && strlen(s) == 0);
	free(s);
}

static void test_append_and_cap(void)
{
	static const struct {
		size_t limit;
		const char *parts[3];
		bool ok;
		const char *want;
	} cases[] = {
		{ 16, { "abc", "def", NULL }, true, "abcdef" }, { 6, { "abc", "def", NULL }, true, "abcdef" },
		{ 5, { "abc", "def", NULL }, false, NULL },	{ 5, { "abcdef", "x", NULL }, false, NULL },
		{ 600, { "x", "", "y" }, true, "xy" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		buf_init(&b, cases[i].limit);
		for (size_t k = 0; k < 3 && cases[i].parts[k]; k++)
			(void)buf_append(&b, cases[i].parts[k], strlen(cases[i].parts[k]));
		CHECK(buf_ok(&b) == cases[i].ok);
		size_t len = 0;
		char *s = buf_steal(&b, &len);
		if (cases[i].ok) {
			CHECK(s != NULL);
			CHECK_STR(s, cases[i].want);
			CHECK(len == strlen(cases[i].want));
		} else {
			CHECK(s == NULL);
		}
		free(s);
		buf_free(&b);
	}
}

static void test_printf_long(void)
{
	struct buf b;
	char big[700];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 4096);
	CHECK(buf_printf(&b, "%s-%d", big, 7));
	char *s = buf_steal(&b, NULL);
	CHECK(s && strlen(s) == sizeof(big) - 1 + 2 && strcmp(s + sizeof(big) - 1, "-7") == 0);
	free(s);
}

int main(void)
{
	RUN(test_steal_empty_is_a_string);
	RUN(test_append_and_cap);
	RUN(test_printf_long);
	TEST_SUMMARY("test_buf");
}
