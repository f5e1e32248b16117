/*
 * test_parse.c - the one name validator, decimal/id parser, UTF-8 check and
 * file reader (data-driven). Where the old copies disagreed the stricter rule won: an
 * admin-key name may no longer contain '.', and CLI ids refuse signs,
 * spaces and leading zeros as the path ids always did.
 */
#include "core/fileio.h"
#include "core/parse.h"
#include "ingest/webhook.h"
#include "testlib.h"

#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_names(void)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "ledger-1", true },
		{ "a", true },
		{ "0", true },
		{ "treasury_it", true },
		{ "", false },
		{ "-x", false },
		{ "_x", false },
		{ "Ledger", false },
		{ "treasury.it", false },
		{ "a b", false },
		{ "a/b", false },
		{ "t\xc3\xa0i", false },
		{ "123456789012345678901234567890123456789012345678901234567890123", true },
		{ "1234567890123456789012345678901234567890123456789012345678901234", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (parse_is_name(cases[i].name) != cases[i].ok) {
			fprintf(stderr, "  name \"%s\": expected %s\n", cases[i].name, cases[i].ok ? "valid" : "invalid");
			tl_current_failed = 1;
		}
	CHECK(!parse_is_name(NULL));
}

static void test_ids_and_decimals(void)
{
	static const struct {
		const char *s;
		bool id_ok;
		long long id;
	} cases[] = {
		{ "1", true, 1 },
		{ "42", true, 42 },
		{ "999999999999999999", true, 999999999999999999LL },
		{ "1000000000000000000", false, 0 }, /* 19 digits */
		{ "0", false, 0 },
		{ "007", false, 0 },
		{ "+5", false, 0 },
		{ "-5", false, 0 },
		{ " 5", false, 0 },
		{ "5 ", false, 0 },
		{ "5x", false, 0 },
		{ "", false, 0 },
		{ "\xff", false, 0 },
		{ "1e3", false, 0 },
	};
	long long v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -1;
		bool ok = parse_id(cases[i].s, &v);
		if (ok != cases[i].id_ok || (ok && v != cases[i].id)) {
			fprintf(stderr, "  id \"%s\": got %s %lld\n", cases[i].s, ok ? "ok" : "refused", v);
			tl_current_failed = 1;
		}
		if (!ok)
			CHECK(v == -1); /* *out untouched on refusal */
	}
	CHECK(!parse_id(NULL, &v));
	CHECK(parse_decimal("0", 12, &v) && v == 0);
	CHECK(parse_decimal("1700000000", 12, &v) && v == 1700000000LL);
	CHECK(!parse_decimal("0123", 12, &v));
	CHECK(!parse_decimal("1234567890123", 12, &v));
	CHECK(!parse_decimal("1", 19, &v)); /* more digits than a long long is sure to hold */
}

static void test_utf8(void)
{
	static const struct {
		const char *s;
		size_t len;
		size_t first; /* parse_utf8_char of the first byte */
		bool valid;
	} cases[] = {
		{ "a", 1, 1, true },
		{ "", 0, 0, true },
		{ "\0x", 2, 1, true }, /* NUL is a character */
		{ "\xc3\xa9", 2, 2, true },
		{ "\xe1\xbb\x9f", 3, 3, true },
		{ "\xef\xbf\xbd", 3, 3, true },
		{ "\xf0\x9f\x98\x80", 4, 4, true },
		{ "\xf4\x8f\xbf\xbf", 4, 4, true }, /* U+10FFFF */
		{ "\xc2\x80", 2, 2, true },	    /* smallest two-byte */
		{ "\xe0\xa0\x80", 3, 3, true },	    /* smallest three-byte */
		{ "\xf0\x90\x80\x80", 4, 4, true }, /* smallest four-byte */
		{ "\xff", 1, 0, false },
		{ "\x80", 1, 0, false },
		{ "\xc3", 1, 0, false },	     /* cut short */
		{ "\xe1\xbb", 2, 0, false },	     /* cut short */
		{ "\xc3\x28", 2, 0, false },	     /* bad continuation */
		{ "\xc0\x80", 2, 0, false },	     /* overlong NUL */
		{ "\xc1\xbf", 2, 0, false },	     /* overlong */
		{ "\xe0\x9f\xbf", 3, 0, false },     /* overlong */
		{ "\xf0\x8f\xbf\xbf", 4, 0, false }, /* overlong */
		{ "\xed\xa0\x80", 3, 0, false },     /* surrogate */
		{ "\xed\xbf\xbf", 3, 0, false },     /* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0, false }, /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0, false },
		{ "a\xc3\xa9\xff", 4, 1, false }, /* bad at the end */
		{ "\xc3\xa9"
		  "a\xe1\xbb",
		  5, 2, false }, /* cut at the end */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t first = parse_utf8_char(cases[i].s, cases[i].len);
		bool valid = parse_utf8_valid(cases[i].s, cases[i].len);
		if (first != cases[i].first || valid != cases[i].valid) {
			fprintf(stderr, "  utf8 case %zu: char %zu valid %d, expected %zu %d\n", i, first, valid,
				cases[i].first, cases[i].valid);
			tl_current_failed = 1;
		}
	}
	CHECK(parse_utf8_char("\xc3\xa9", 1) == 0); /* len bounds the read */
}

static void test_file_reader(void)
{
	char path[] = "/tmp/alertd-test-fileio.XXXXXX", err[256];
	int fd = mkstemp(path);
	size_t len = 99;
	char *data;

	CHECK(fd >= 0);
	CHECK(write(fd, "abc\0def", 7) == 7);
	close(fd);
	data = fileio_read(path, 7, &len, err, sizeof(err));
	CHECK(data && len == 7 && memcmp(data, "abc\0def", 8) == 0); /* NUL-terminated after the data */
	free(data);
	CHECK(fileio_read(path, 6, &len, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "larger than 6 bytes");
	CHECK_CONTAINS(err, path);
	unlink(path);
	CHECK(fileio_read(path, 100, &len, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "cannot open");
	CHECK(fileio_read("/tmp", 100, &len, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "not a regular file");

	/* a file larger than the first chunk grows the buffer and keeps every byte */
	char path2[] = "/tmp/alertd-test-fileio.XXXXXX";
	fd = mkstemp(path2);
	CHECK(fd >= 0);
	char big[10000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	CHECK(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	close(fd);
	data = fileio_read(path2, sizeof(big), &len, err, sizeof(err));
	CHECK(data && len == sizeof(big) && memcmp(data, big, sizeof(big)) == 0 && data[len] == '\0');
	free(data);
	unlink(path2);
}

/* A FIFO is refused at once (opened without blocking), not read and not waited on. */
static void test_file_reader_refuses_fifo(void)
{
	char dir[] = "/tmp/alertd-test-fifo.XXXXXX", path[64], err[256];
	size_t len;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0);
	CHECK(fileio_read(path, 100, &len, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "not a regular file");
	unlink(path);
	rmdir(dir);
}

/* A key file must be the owner's alone and not a symbolic link; both checked on the open file. */
static void test_private_reader(void)
{
	char dir[] = "/tmp/alertd-test-private.XXXXXX", path[64], link_path[64], err[256];
	size_t len = 0;
	char *data;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/key", dir);
	snprintf(link_path, sizeof(link_path), "%s/link", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, "0123456789", 10) == 10);
	close(fd);
	data = fileio_read_private(path, 32, &len, err, sizeof(err));
	CHECK(data && len == 10);
	free(data);
	CHECK(chmod(path, 0640) == 0);
	CHECK(fileio_read_private(path, 32, &len, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "mode 0640 lets other accounts read a private key");
	data = fileio_read(path, 32, &len, err, sizeof(err)); /* the plain reader does not care */
	CHECK(data != NULL);
	free(data);
	CHECK(chmod(path, 0600) == 0 && symlink(path, link_path) == 0);
	CHECK(fileio_read_private(link_path, 32, &len, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "cannot open");
	unlink(link_path);
	unlink(path);
	rmdir(dir);
}

/*
 * The webhook-timestamp goes through parse_decimal: the stricter of the two
 * old parsers, so a leading zero is refused even when the signature over it
 * is right and the value is inside the tolerance.
 */
static void test_webhook_timestamp_is_strict(void)
{
	struct webhook_key key = { .len = 24 };
	char sig[WEBHOOK_SIGNATURE_TEXT];
	const char *body = "{}";

	memset(key.bytes, 7, key.len);
	CHECK(webhook_sign(&key, "msg_1", "1700000000", body, 2, sig));
	CHECK(webhook_verify(&key, 1, "msg_1", "1700000000", sig, body, 2, 1700000000, 300) == WEBHOOK_OK);
	CHECK(webhook_sign(&key, "msg_1", "01700000000", body, 2, sig));
	CHECK(webhook_verify(&key, 1, "msg_1", "01700000000", sig, body, 2, 1700000000, 300) == WEBHOOK_BAD_TIMESTAMP);
	CHECK(webhook_sign(&key, "msg_1", "+1700000000", body, 2, sig));
	CHECK(webhook_verify(&key, 1, "msg_1", "+1700000000", sig, body, 2, 1700000000, 300) == WEBHOOK_BAD_TIMESTAMP);
}

int main(void)
{
	RUN(test_names);
	RUN(test_ids_and_decimals);
	RUN(test_utf8);
	RUN(test_file_reader);
	RUN(test_file_reader_refuses_fifo);
	RUN(test_private_reader);
	RUN(test_webhook_timestamp_is_strict);
	TEST_SUMMARY("test_parse");
}
