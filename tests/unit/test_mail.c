/*
 * test_mail.c - the mail message builder: RFC 2047 subjects (each encoded
 * word at most 75 characters, cut only between UTF-8 characters, decoding
 * back to the input), header injection refused (CR, LF, other control
 * characters, malformed UTF-8), address checks, CRLF bodies, the RFC 5322
 * date, and the mail texts (the fallback never carries an amount).
 */
#include "core/parse.h"
#include "mail/mailfmt.h"
#include "mail/message.h"
#include "testlib.h"

#include <sodium.h>
#include <stdlib.h>

/* Decode "=?UTF-8?B?...?=" words separated by CRLF SP back to text; false on any other shape. */
static bool decode_words(const char *enc, char *out, size_t cap)
{
	size_t used = 0;
	const char *p = enc;

	for (;;) {
		if (strncmp(p, "=?UTF-8?B?", 10) != 0)
			return false;
		const char *end = strstr(p + 10, "?=");
		if (!end || end - p + 2 > MAIL_ENCODED_WORD_MAX)
			return false;
		size_t n = 0;
		unsigned char bin[64];
		if (sodium_base642bin(bin, sizeof(bin), p + 10, (size_t)(end - p - 10), NULL, &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0)
			return false;
		/* every word is whole UTF-8 on its own */
		if (n > 63)
			return false;
		char word[65];
		memcpy(word, bin, n);
		word[n] = '\0';
		if (!mail_header_value_ok(word) || used + n + 1 > cap)
			return false;
		memcpy(out + used, bin, n);
		used += n;
		p = end + 2;
		if (!*p)
			break;
		if (strncmp(p, "\r\n ", 3) != 0)
			return false;
		p += 3;
	}
	out[used] = '\0';
	return true;
}

static void test_subject_encoding(void)
{
	static const char *const subjects[] = {
		"Cảnh báo rủi ro - đơn vị 1000001: hai chữ ký gần như cùng lúc",
		"Mã kích hoạt ứng dụng cảnh báo KBNN",
		"ệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệ", /* 3-byte characters only */
		"a𝄞b𝄞c𝄞d𝄞e𝄞f𝄞g𝄞h𝄞i𝄞j𝄞k𝄞l𝄞m𝄞n𝄞",					 /* 4-byte characters */
		"Plain ASCII =? looks like a word",
	};
	char enc[4 * MAIL_SUBJECT_MAX], dec[MAIL_SUBJECT_MAX + 1];

	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		CHECK(mail_encode_subject(subjects[i], enc, sizeof(enc)));
		CHECK(decode_words(enc, dec, sizeof(dec)));
		CHECK_STR(dec, subjects[i]);
	}
	CHECK(mail_encode_subject("Reminder: install the app", enc, sizeof(enc)));
	CHECK_STR(enc, "Reminder: install the app");
	/* too small an output is refused, never cut */
	CHECK(!mail_encode_subject(subjects[0], enc, 30));
	CHECK_STR(enc, "");
}

static void test_header_injection(void)
{
	static const char *const bad[] = {
		"Hi\r\nBcc: evil@example.com",
		"Hi\nBcc: x",
		"Hi\rX",
		"tab\there",
		"nul\x01",
		"del\x7f",
		"c1 \xc2\x85 next line",
		"bad utf8 \xc3\x28",
		"overlong \xc0\xaf",
		"cut \xe1\xbb",
	};
	char enc[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!mail_header_value_ok(bad[i]));
		CHECK(!mail_encode_subject(bad[i], enc, sizeof(enc)));
	}
	CHECK(mail_header_value_ok("Cảnh báo: ổn"));
	struct mail_message m;
	char err[128];
	CHECK(!mail_message_build(&m, "canhbao@kbnn.gov.vn", "a@b.vn", "x\r\nBcc: e@x.vn", "body", 0, err, sizeof(err)));
	CHECK_CONTAINS(err, "subject");
	CHECK(!mail_message_build(&m, "canhbao@kbnn.gov.vn", "a@b.vn\r\nRCPT TO:<e@x.vn>", "s", "body", 0, err, sizeof(err)));
	CHECK_CONTAINS(err, "recipient");
	CHECK(!mail_message_build(&m, "canhbao@kbnn.gov.vn", "a@b.vn", "s", "bad \xff body", 0, err, sizeof(err)));
}

static void test_addresses(void)
{
	static const struct {
		const char *addr;
		bool ok;
	} cases[] = {
		{ "holder1@donvi.vn", true },
		{ "a.b+c@sub.kbnn.gov.vn", true },
		{ "x@y.z", true },
		{ "no-at.vn", false },
		{ "a@b", false },
		{ "a@@b.vn", false },
		{ "a@b@c.vn", false },
		{ "@b.vn", false },
		{ "a@.b.vn", false },
		{ "a@b..vn", false },
		{ "a@-b.vn", false },
		{ "a@b-.vn", false },
		{ "a b@c.vn", false },
		{ "a<b@c.vn", false },
		{ "a>@c.vn", false },
		{ "\"a\"@c.vn", false },
		{ "a,b@c.vn", false },
		{ "a;b@c.vn", false },
		{ "a@c.vn\r\nX: y", false },
		{ "á@c.vn", false },
		{ "a@c_d.vn", false },
		{ "", false },
		{ "a@b.vn ", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mail_addr_ok(cases[i].addr) != cases[i].ok)
			fprintf(stderr, "  address \"%s\"\n", cases[i].addr);
		CHECK(mail_addr_ok(cases[i].addr) == cases[i].ok);
	}
	char longaddr[300];
	memset(longaddr, 'a', sizeof(longaddr));
	memcpy(longaddr + 250, "@b.vn", 6);
	CHECK(!mail_addr_ok(longaddr));
	CHECK(!mail_addr_ok(NULL));
	/* the unit codes the mail routes take (core/parse.c) */
	CHECK(parse_unit_code("1000001"));
	CHECK(!parse_unit_code("100000"));
	CHECK(!parse_unit_code("10000011"));
	CHECK(!parse_unit_code("10000a1"));
	CHECK(!parse_unit_code("\xd9\xa1"
			       "000001")); /* an Arabic-Indic digit one */
	CHECK(!parse_unit_code(NULL));
}

static void test_message(void)
{
	struct mail_message m;
	char err[128];

	/* 2026-12-03T14:09:40Z is a Thursday */
	CHECK(mail_message_build(&m, "canhbao@kbnn.gov.vn", "holder1@donvi.vn", "Cảnh báo", "dòng 1\ndòng 2\r\nđ\r",
				 1796306980, err, sizeof(err)));
	CHECK_STR(m.h_date, "Date: Thu, 03 Dec 2026 14:09:40 +0000");
	CHECK_STR(m.h_from, "From: <canhbao@kbnn.gov.vn>");
	CHECK_STR(m.h_to, "To: <holder1@donvi.vn>");
	CHECK(strncmp(m.h_subject, "Subject: =?UTF-8?B?", 19) == 0);
	CHECK(strncmp(m.h_message_id, "Message-ID: <", 13) == 0);
	CHECK_CONTAINS(m.h_message_id, "@kbnn.gov.vn>");
	CHECK_STR(m.body, "dòng 1\r\ndòng 2\r\nđ\r\n");
	CHECK(m.body_len == strlen(m.body));
	mail_message_free(&m);
	CHECK(m.body == NULL);
}

static void test_texts(void)
{
	char subject[MAILFMT_SUBJECT_MAX], body[MAILFMT_BODY_MAX];

	CHECK(mailfmt_fallback(ALERT_LANG_VI, "large_amount", 1796306980000000LL, "1000001", "Phòng giao dịch số 1",
			       subject, body));
	CHECK_STR(subject, "Cảnh báo rủi ro - đơn vị 1000001: giao dịch giá trị lớn");
	CHECK_CONTAINS(body, "đăng nhập ứng dụng cảnh báo KBNN");
	CHECK_CONTAINS(body, "21:09 03/12/2026");
	CHECK_CONTAINS(body, "Phòng giao dịch số 1");
	CHECK(mailfmt_fallback(ALERT_LANG_EN, "rejected", 0, "1000001", "Office 1", subject, body));
	CHECK_STR(subject, "Risk alert - unit 1000001: voucher rejected");
	CHECK_CONTAINS(body, "log in to the KBNN alert app");
	/* a value cannot inject a placeholder */
	CHECK(mailfmt_reminder(ALERT_LANG_VI, "1000001", "{office}", "Phòng 1", subject, body));
	CHECK_CONTAINS(body, "({office})");
	CHECK(mailfmt_instructions(ALERT_LANG_VI, "Trần Thị Bình", "holder1", "ABCDE12345", "2026-12-04T14:09:40Z",
				   "Phòng 1", subject, body));
	CHECK_STR(subject, "Mã kích hoạt ứng dụng cảnh báo KBNN");
	CHECK_CONTAINS(body, "Nhập mã kích hoạt: ABCDE12345");
	CHECK_CONTAINS(body, "21:09 04/12/2026");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(test_subject_encoding);
	RUN(test_header_injection);
	RUN(test_addresses);
	RUN(test_message);
	RUN(test_texts);
	TEST_SUMMARY("test_mail");
}
