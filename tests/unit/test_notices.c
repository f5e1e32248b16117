/*
 * test_notices.c - the text rules of security notices (notices/notices.h):
 * which links pass the allow-list (the domain or a subdomain, http(s)
 * only, bare domains and e-mail domains too) and which are refused with
 * the link named; numbers and ordinary Vietnamese text are not links;
 * invisible and control characters and the length caps; the domain and
 * holiday option lists; the templates.
 */
#include "notices/notices.h"
#include "testlib.h"

#include <string.h>

static const char *const DOMAINS = "kbnn.vn,vst.gov.vn";

static bool ok(const char *s, char *msg)
{
	return notices_text_ok(s, strlen(s), NOTICES_BODY_MAX, true, DOMAINS, msg, 256);
}

static void test_links_allowed(void)
{
	static const char *const good[] = {
		"Xem https://kbnn.vn/a hoặc https://dvc.kbnn.vn/b?x=1#y.",
		"Trang HTTPS://KBNN.VN và www.vst.gov.vn.",
		"Viết cho hotro@kbnn.vn (giờ hành chính).",
		"Số dư 1.234.567 VND, phí 100.000đ, phiên bản v2.0, v.v.",
		"Không bấm vào đường link lạ!",
		"https://kbnn.vn:443/path",
		"Dòng một\nDòng hai",
	};
	char msg[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		msg[0] = '\0';
		if (!ok(good[i], msg))
			fprintf(stderr, "  refused: %s (%s)\n", good[i], msg);
		CHECK(ok(good[i], msg));
	}
}

static void test_links_refused(void)
{
	static const struct {
		const char *text, *named;
	} bad[] = {
		{ "Vào https://evil.com/login ngay", "evil.com" },
		{ "Vào http://kbnn.vn.evil.com", "kbnn.vn.evil.com" },
		{ "Vào https://evilkbnn.vn", "evilkbnn.vn" },
		{ "Vào www.kbnn-vn.com", "kbnn-vn.com" },
		{ "Xem bit.ly/abc", "bit.ly" },
		{ "https://kbnn.vn@evil.com/x", "evil.com" },
		{ "Gửi về hotro@gmail.com", "gmail.com" },
		{ "ftp://kbnn.vn/a", "only http and https" },
		{ "javascript:alert(1)", "javascript:" },
		{ "tel:+84123456", "tel:" },
		{ "https://1.2.3.4/x", "1.2.3.4" },
		{ "https://kbnп.vn", "kbnп.vn" }, /* a Cyrillic look-alike */
		{ "TP.HCM", "TP.HCM" },		  /* looks like a domain: the author writes "TP. HCM" */
	};
	char msg[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!ok(bad[i].text, msg));
		CHECK_CONTAINS(msg, bad[i].named);
	}
}

static void test_characters_and_caps(void)
{
	char msg[256], big[NOTICES_TITLE_MAX * 3 + 8];
	CHECK(!notices_text_ok("a\xe2\x80\x8b"
			       "b",
			       5, 100, true, DOMAINS, msg, sizeof(msg))); /* U+200B zero-width space */
	CHECK_CONTAINS(msg, "U+200B");
	CHECK(!notices_text_ok("a\xe2\x80\xae"
			       "b",
			       5, 100, true, DOMAINS, msg, sizeof(msg))); /* U+202E right-to-left override */
	CHECK(!notices_text_ok("a\x01", 2, 100, true, DOMAINS, msg, sizeof(msg)));
	CHECK(!notices_text_ok("a\nb", 3, 100, false, DOMAINS, msg, sizeof(msg)));
	CHECK_CONTAINS(msg, "line break");
	CHECK(!notices_text_ok("\xff", 1, 100, true, DOMAINS, msg, sizeof(msg)));
	CHECK(!notices_text_ok("", 0, 100, true, DOMAINS, msg, sizeof(msg)));
	/* the cap counts characters, not bytes: 200 "đ" (400 bytes) pass, 201 do not */
	size_t n = 0;
	for (int i = 0; i < NOTICES_TITLE_MAX; i++, n += 2)
		memcpy(big + n, "\xc4\x91", 2);
	CHECK(notices_text_ok(big, n, NOTICES_TITLE_MAX, false, DOMAINS, msg, sizeof(msg)));
	memcpy(big + n, "\xc4\x91", 2);
	CHECK(!notices_text_ok(big, n + 2, NOTICES_TITLE_MAX, false, DOMAINS, msg, sizeof(msg)));
}

static void test_options(void)
{
	char out[64];
	CHECK(notices_domains_valid("kbnn.vn,vst.gov.vn"));
	CHECK(!notices_domains_valid(""));
	CHECK(!notices_domains_valid("kbnn"));
	CHECK(!notices_domains_valid("KBNN.vn"));
	CHECK(!notices_domains_valid("kbnn.vn,"));
	CHECK(notices_host_allowed("a.b.kbnn.vn", "kbnn.vn"));
	CHECK(!notices_host_allowed("xkbnn.vn", "kbnn.vn"));
	CHECK(notices_holidays_array("", out, sizeof(out)));
	CHECK_STR(out, "{}");
	CHECK(notices_holidays_array("2026-01-01,2026-04-30", out, sizeof(out)));
	CHECK_STR(out, "{2026-01-01,2026-04-30}");
	CHECK(!notices_holidays_array("2026-1-01", out, sizeof(out)));
	CHECK(!notices_holidays_array("2026-13-01", out, sizeof(out)));
	CHECK(!notices_holidays_array("2026-01-01;x", out, sizeof(out)));
}

static void test_templates(void)
{
	size_t n;
	const struct notice_template *t = notices_templates(&n);
	char msg[256];
	CHECK(n == 4);
	for (size_t i = 0; i < n; i++) {
		/* every template passes the rules it is submitted under */
		CHECK(notices_text_ok(t[i].title_vi, strlen(t[i].title_vi), NOTICES_TITLE_MAX, false, DOMAINS, msg, 256));
		CHECK(notices_text_ok(t[i].body_vi, strlen(t[i].body_vi), NOTICES_BODY_MAX, true, DOMAINS, msg, 256));
		CHECK(notices_text_ok(t[i].title_en, strlen(t[i].title_en), NOTICES_TITLE_MAX, false, DOMAINS, msg, 256));
		CHECK(notices_text_ok(t[i].body_en, strlen(t[i].body_en), NOTICES_BODY_MAX, true, DOMAINS, msg, 256));
	}
	CHECK(notices_template("phishing") != NULL);
	CHECK(notices_template("nope") == NULL);
}

int main(void)
{
	RUN(test_links_allowed);
	RUN(test_links_refused);
	RUN(test_characters_and_caps);
	RUN(test_options);
	RUN(test_templates);
	TEST_SUMMARY("test_notices");
}
