/*
 * test_roster.c - the roster import's field helpers: email, phone and
 * account checks mirroring the schema's CHECKs, role lists, and NFC
 * normalisation with trimming and rejection of invalid UTF-8.
 */
#include "people/roster_fields.h"
#include "testlib.h"

#include <stdlib.h>

static void test_email(void)
{
	char long_local[300];

	CHECK(roster_email_valid("a@b.vn"));
	CHECK(roster_email_valid("nguyen.van.a+kbnn@mail.gov.vn"));
	CHECK(roster_email_valid("a@.b.vn")); /* as the CHECK: some '.' inside the domain */
	CHECK(!roster_email_valid(""));
	CHECK(!roster_email_valid("a@b"));
	CHECK(!roster_email_valid("@b.vn"));
	CHECK(!roster_email_valid("a@.vn"));
	CHECK(!roster_email_valid("a@b."));
	CHECK(!roster_email_valid("a@b@c.vn"));
	CHECK(!roster_email_valid("a b@c.vn"));
	CHECK(!roster_email_valid("a@c.vn\t"));
	CHECK(!roster_email_valid("a\x01@c.vn"));
	CHECK(!roster_email_valid("a\xc2\xa0"
				  "b@c.vn")); /* no-break space */
	memset(long_local, 'x', sizeof(long_local));
	memcpy(long_local + 248, "@ab.vn", 7); /* 254 characters */
	CHECK(roster_email_valid(long_local));
	memcpy(long_local + 249, "@ab.vn", 7); /* 255 */
	CHECK(!roster_email_valid(long_local));
}

static void test_phone(void)
{
	CHECK(roster_phone_valid("0912345678"));
	CHECK(roster_phone_valid("+84912345678"));
	CHECK(roster_phone_valid("12345678"));
	CHECK(roster_phone_valid("123456789012345"));
	CHECK(!roster_phone_valid("1234567"));
	CHECK(!roster_phone_valid("1234567890123456"));
	CHECK(!roster_phone_valid("+"));
	CHECK(!roster_phone_valid(""));
	CHECK(!roster_phone_valid("++84912345678"));
	CHECK(!roster_phone_valid("091 234 5678"));
	CHECK(!roster_phone_valid("0912-345-678"));
}

static void test_account(void)
{
	CHECK(roster_account_valid("9523.1.1012345"));
	CHECK(roster_account_valid("a"));
	CHECK(roster_account_valid("A-1.b"));
	CHECK(roster_account_valid("12345678901234567890123456789012"));
	CHECK(!roster_account_valid("123456789012345678901234567890123"));
	CHECK(!roster_account_valid(""));
	CHECK(!roster_account_valid(".123"));
	CHECK(!roster_account_valid("-123"));
	CHECK(!roster_account_valid("95_23"));
	CHECK(!roster_account_valid("9523 1"));
}

static void test_roles(void)
{
	unsigned mask = 99;
	char err[200];

	CHECK(roster_roles_parse("account_holder", &mask, err, sizeof(err)) && mask == 1);
	CHECK(roster_roles_parse("accountant;chief_accountant;accountant", &mask, err, sizeof(err)) && mask == 6);
	CHECK(roster_roles_parse(" accountant ; account_holder ", &mask, err, sizeof(err)) && mask == 5);
	CHECK(!roster_roles_parse("", &mask, err, sizeof(err)));
	CHECK_STR(err, "at least one role is required");
	CHECK(!roster_roles_parse("accountant;;account_holder", &mask, err, sizeof(err)));
	CHECK_STR(err, "empty item in the list");
	CHECK(!roster_roles_parse("accountant;", &mask, err, sizeof(err)));
	CHECK(!roster_roles_parse("Accountant", &mask, err, sizeof(err)));
	CHECK(!roster_roles_parse("accountant;cashier", &mask, err, sizeof(err)));
	CHECK_STR(err, "unknown role 'cashier' (use account_holder, chief_accountant, accountant)");
	CHECK(!roster_roles_parse("a_very_long_role_name_that_goes_on_and_on_and_on_and_on_and_on_and_on", &mask, err,
				  sizeof(err)));
	CHECK_CONTAINS(err, "unknown role 'a_very_long_role_name_that_goes_on_and_o...'");
}

static void check_norm(const char *in, size_t len, const char *want, int want_status)
{
	int status = -1;
	char *out = roster_normalize(in, len, &status);

	CHECK(status == want_status);
	if (want)
		CHECK_STR(out, want);
	else
		CHECK(out == NULL);
	free(out);
}

static void test_normalize(void)
{
	/* NFD "Việt" (e + circumflex + dot below) composes to NFC U+1EC7 */
	check_norm("Vie\xcc\x82\xcc\xa3t", 8, "Vi\xe1\xbb\x87t", 0);
	/* the other order of the marks is canonically equivalent */
	check_norm("Vie\xcc\xa3\xcc\x82t", 8, "Vi\xe1\xbb\x87t", 0);
	/* NFC stays byte for byte */
	check_norm("Nguy\xe1\xbb\x85n Th\xe1\xbb\x8b", 14, "Nguy\xe1\xbb\x85n Th\xe1\xbb\x8b", 0);
	/* white space trimmed: ASCII, no-break space, ideographic space; inner spaces kept */
	check_norm(" \t\xc2\xa0Tr\xe1\xba\xa7n  V\xc4\x83n\xe3\x80\x80 ", 19, "Tr\xe1\xba\xa7n  V\xc4\x83n", 0);
	check_norm("  plain  ", 9, "plain", 0);
	check_norm("", 0, "", 0);
	check_norm("   ", 3, "", 0);
	/* length is honoured: no NUL terminator needed */
	check_norm("abcdef", 3, "abc", 0);
	/* invalid UTF-8: truncated sequence, lone continuation, overlong, surrogate, NUL byte */
	check_norm("a\xc3", 2, NULL, 1);
	check_norm("\x80", 1, NULL, 1);
	check_norm("\xc0\xaf", 2, NULL, 1);
	check_norm("\xed\xa0\x80", 3, NULL, 1);
	check_norm("a\0b", 3, NULL, 1);
	/* an unassigned code point (U+0378) */
	check_norm("x\xcd\xb8", 3, NULL, 2);
}

int main(void)
{
	RUN(test_email);
	RUN(test_phone);
	RUN(test_account);
	RUN(test_roles);
	RUN(test_normalize);
	TEST_SUMMARY("test_roster");
}
