/*
 * test_alertfmt.c - alert text: money in both languages over the whole
 * int64 range, local time (UTC+7, midnight and year crossings, independent
 * of TZ), account masking, UTF-8 truncation at every byte offset, the
 * message catalogue (every template renders, nothing is left over), the
 * placeholder renderer, and rendering balance, voucher, risk, privacy and
 * new-device alerts, including bodies that must be cut to fit.
 */
#include "alerts/alertfmt.h"
#include "alerts/rules.h"
#include "testlib.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <utf8proc.h>

/* 2026-11-21T03:15:00Z == 10:15 21/11/2026 local */
#define OCCURRED_US 1795230900000000LL
#define US 1000000LL

#define ACUTE_NFD "\xcc\x81" /* U+0301 combining acute accent */

/* Every placeholder any template may use, for rendering templates on their own. */
static const struct alertfmt_var all_vars[] = {
	{ "account", "…2345" },		{ "amount", "-1.500.000 VND" },
	{ "time", "10:15 21/11/2026" }, { "balance", "120.000.000 VND" },
	{ "desc", "Chi lương" },	{ "number", "000456" },
	{ "kind", "Ủy nhiệm chi" },	{ "status", "KBNN đã tiếp nhận" },
	{ "reason", "Sai mã nguồn" },	{ "rule", "Giải thích." },
	{ "event", "Sự kiện" },		{ "device", "iPhone 15" },
};
#define N_ALL_VARS (sizeof(all_vars) / sizeof(all_vars[0]))

/* Whole string decodes as UTF-8. */
static bool valid_utf8(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);

	while (left > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
		if (k <= 0)
			return false;
		p += k;
		left -= k;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static bool has_digit(const char *s)
{
	return strpbrk(s, "0123456789") != NULL;
}

static void test_amount(void)
{
	static const struct {
		long long amount;
		const char *currency;
		enum alert_lang lang;
		const char *want;
	} cases[] = {
		{ -1500000, "VND", ALERT_LANG_VI, "-1.500.000 VND" },
		{ -1500000, "VND", ALERT_LANG_EN, "-1,500,000 VND" },
		{ 0, NULL, ALERT_LANG_VI, "0 VND" },
		{ 0, "", ALERT_LANG_EN, "0 VND" },
		{ 1, NULL, ALERT_LANG_VI, "1 VND" },
		{ -1, NULL, ALERT_LANG_VI, "-1 VND" },
		{ 999, NULL, ALERT_LANG_VI, "999 VND" },
		{ -999, NULL, ALERT_LANG_EN, "-999 VND" },
		{ 1000, NULL, ALERT_LANG_VI, "1.000 VND" },
		{ 1000, NULL, ALERT_LANG_EN, "1,000 VND" },
		{ -1000, NULL, ALERT_LANG_VI, "-1.000 VND" },
		{ 9999, NULL, ALERT_LANG_VI, "9.999 VND" },
		{ 10000, NULL, ALERT_LANG_VI, "10.000 VND" },
		{ 100000, NULL, ALERT_LANG_VI, "100.000 VND" },
		{ 999999, NULL, ALERT_LANG_VI, "999.999 VND" },
		{ 1000000, NULL, ALERT_LANG_VI, "1.000.000 VND" },
		{ 1000000, NULL, ALERT_LANG_EN, "1,000,000 VND" },
		{ 120000000, "VND", ALERT_LANG_VI, "120.000.000 VND" },
		{ 1234567, "USD", ALERT_LANG_EN, "1,234,567 USD" },
		{ 1234567, "EUR", ALERT_LANG_VI, "1.234.567 EUR" },
		{ 9000000000000000LL, NULL, ALERT_LANG_VI, "9.000.000.000.000.000 VND" },
		{ INT64_MAX, NULL, ALERT_LANG_VI, "9.223.372.036.854.775.807 VND" },
		{ INT64_MAX, NULL, ALERT_LANG_EN, "9,223,372,036,854,775,807 VND" },
		{ INT64_MIN, NULL, ALERT_LANG_VI, "-9.223.372.036.854.775.808 VND" },
		{ INT64_MIN, "VND", ALERT_LANG_EN, "-9,223,372,036,854,775,808 VND" },
		{ INT64_MIN + 1, NULL, ALERT_LANG_EN, "-9,223,372,036,854,775,807 VND" },
		{ 5, NULL, (enum alert_lang)7, "5 VND" }, /* an out-of-range language is vi */
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		CHECK(alertfmt_amount(cases[i].amount, cases[i].currency, cases[i].lang, out, sizeof(out)));
		CHECK_STR(out, cases[i].want);
		/* exactly enough room, and one byte less */
		size_t need = strlen(cases[i].want) + 1;
		CHECK(alertfmt_amount(cases[i].amount, cases[i].currency, cases[i].lang, out, need));
		CHECK_STR(out, cases[i].want);
		memset(out, 'x', sizeof(out));
		CHECK(!alertfmt_amount(cases[i].amount, cases[i].currency, cases[i].lang, out, need - 1));
		CHECK_STR(out, "");
	}
	CHECK(!alertfmt_amount(1, NULL, ALERT_LANG_VI, NULL, 0));
	CHECK(!alertfmt_amount(1, NULL, ALERT_LANG_VI, out, 0));
}

static void test_time(void)
{
	static const struct {
		int64_t us;
		const char *want;
	} cases[] = {
		{ OCCURRED_US, "10:15 21/11/2026" },
		{ OCCURRED_US + 59 * US + 999999, "10:15 21/11/2026" }, /* seconds are dropped, not rounded */
		{ 1795282200LL * US, "00:30 22/11/2026" },		/* 2026-11-21T17:30:00Z: next day locally */
		{ 1795282200LL * US - 30 * 60 * US - 1, "23:59 21/11/2026" },
		{ 1798736400LL * US, "00:00 01/01/2027" }, /* 2026-12-31T17:00:00Z: next year locally */
		{ 1835370000LL * US, "00:00 29/02/2028" }, /* 2028-02-28T17:00:00Z: leap day */
		{ 0, "07:00 01/01/1970" },
		{ -1, "06:59 01/01/1970" }, /* rounds down */
		{ -7 * 3600 * US, "00:00 01/01/1970" },
		{ -7 * 3600 * US - 1, "23:59 31/12/1969" },
		{ 253402300799LL * US - 7 * 3600 * US, "23:59 31/12/9999" },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		alertfmt_time(cases[i].us, out, sizeof(out));
		CHECK_STR(out, cases[i].want);
	}
	/* the process time zone does not matter */
	const char *old = getenv("TZ");
	char saved[64];
	snprintf(saved, sizeof(saved), "%s", old ? old : "");
	setenv("TZ", "America/New_York", 1);
	tzset();
	alertfmt_time(OCCURRED_US, out, sizeof(out));
	CHECK_STR(out, "10:15 21/11/2026");
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	tzset();
	alertfmt_time(OCCURRED_US, out, sizeof(out));
	CHECK_STR(out, "10:15 21/11/2026");
	if (old)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	/* too small, exactly enough, extreme values */
	alertfmt_time(OCCURRED_US, out, 17);
	CHECK_STR(out, "10:15 21/11/2026");
	alertfmt_time(OCCURRED_US, out, 16);
	CHECK_STR(out, "");
	alertfmt_time(INT64_MAX, out, sizeof(out));
	CHECK(strlen(out) < sizeof(out));
	alertfmt_time(INT64_MIN, out, sizeof(out));
	CHECK(strlen(out) < sizeof(out));
}

static void test_account(void)
{
	static const struct {
		const char *account, *want;
	} cases[] = {
		{ "9523.1.1012345", "…2345" },
		{ "0071000123456", "…3456" },
		{ "12345", "…2345" },
		{ "1234", "1234" },
		{ "123", "123" },
		{ "1", "1" },
		{ "", "" },
		{ NULL, "" },
		{ "TÀI KHOẢN ĐẶC BIỆT", "…BIỆT" }, /* the last 4 characters, not bytes */
		{ "ĐẶC", "ĐẶC" },
		{ "BIỆT", "BIỆT" },
		{ "xBIỆT", "…BIỆT" },
		{ "AB€€", "AB€€" },
		{ "12€€€€", "…€€€€" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		alertfmt_account(cases[i].account, out, sizeof(out));
		CHECK_STR(out, cases[i].want);
		CHECK(valid_utf8(out));
	}
	alertfmt_account("9523.1.1012345", out, 8); /* "…2345" is 7 bytes + NUL */
	CHECK_STR(out, "…2345");
	alertfmt_account("9523.1.1012345", out, 7);
	CHECK_STR(out, "");
}

/*
 * Cut s at every max_bytes from 0 to beyond its length; each result must be
 * valid UTF-8 within the limit, a prefix of s plus "…" when cut, and never
 * leave a combining mark behind its base letter.
 */
static void truncate_everywhere(const char *s, const char *label)
{
	size_t len = strlen(s);
	char buf[2048];

	for (size_t max = 0; max <= len + 2; max++) {
		size_t n, keep;
		bool bad = false;

		snprintf(buf, sizeof(buf), "%s", s);
		n = alertfmt_truncate(buf, max);
		if (n != strlen(buf) || !valid_utf8(buf))
			bad = true;
		else if (max >= len)
			bad = n != len || strcmp(buf, s) != 0;
		else if (n > max)
			bad = true;
		else if (max >= 3) {
			keep = n - 3;
			bad = !ends_with(buf, "…") || memcmp(buf, s, keep) != 0 || (keep > 0 && buf[keep - 1] == ' ');
			/* what follows the kept text in s starts a new character, not an accent */
			if (!bad) {
				utf8proc_int32_t cp;
				utf8proc_iterate((const utf8proc_uint8_t *)s + keep, (utf8proc_ssize_t)(len - keep), &cp);
				bad = utf8proc_category(cp) == UTF8PROC_CATEGORY_MN;
			}
		} else {
			bad = memcmp(buf, s, n) != 0;
		}
		if (bad) {
			fprintf(stderr, "  truncate %s at %zu: got \"%s\" (%zu)\n", label, max, buf, n);
			tl_current_failed = 1;
		}
	}
}

static void test_truncate(void)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "hello world");
	CHECK(alertfmt_truncate(buf, 11) == 11);
	CHECK_STR(buf, "hello world");
	CHECK(alertfmt_truncate(buf, 100) == 11);
	CHECK(alertfmt_truncate(buf, 8) == 8);
	CHECK_STR(buf, "hello…");
	snprintf(buf, sizeof(buf), "hello world");
	CHECK(alertfmt_truncate(buf, 9) == 8); /* "hello " + "…": the space is dropped */
	CHECK_STR(buf, "hello…");
	snprintf(buf, sizeof(buf), "hello world");
	CHECK(alertfmt_truncate(buf, 3) == 3);
	CHECK_STR(buf, "…");
	snprintf(buf, sizeof(buf), "hello world");
	CHECK(alertfmt_truncate(buf, 2) == 2); /* no room for "…" */
	CHECK_STR(buf, "he");
	snprintf(buf, sizeof(buf), "hello world");
	CHECK(alertfmt_truncate(buf, 0) == 0);
	CHECK_STR(buf, "");
	/* "ệ" is 3 bytes: never split */
	snprintf(buf, sizeof(buf), "Việt Nam");
	CHECK(alertfmt_truncate(buf, 7) == 5); /* "Vi" + "…": "Việ" would need 8 */
	CHECK_STR(buf, "Vi…");
	snprintf(buf, sizeof(buf), "Việt Nam");
	CHECK(alertfmt_truncate(buf, 8) == 8);
	CHECK_STR(buf, "Việ…");
	CHECK(alertfmt_truncate(NULL, 5) == 0);

	truncate_everywhere("Chi trả lương tháng 11 cho cán bộ, công chức Sở Tài chính tỉnh Đắk Lắk", "vi");
	truncate_everywhere("Hoàn trả tạm ứng: ưu đãi ổn định, giữ nguyên; Đồng Tháp — Thừa Thiên Huế", "vi 2");
	truncate_everywhere("ệệệệệệệệệệ ơ ư đ Đ ở ữ ỹ", "3-byte letters");
	truncate_everywhere("Lương 💰 tháng 11 🇻🇳 đã chi", "emoji");
	/* decomposed (NFD) Vietnamese: a base letter and its accents stay together */
	truncate_everywhere("Vie\xcc\xa3\xcc\x82t Nam ca" ACUTE_NFD "n bo\xcc\xa3\xcc\x82", "NFD");
}

static void test_catalogue(void)
{
	static const char *const required[] = {
		"balance.changed.title",
		"balance.changed.body",
		"balance.changed.body_desc",
		"voucher.status_changed.title",
		"voucher.status_changed.body",
		"voucher.status_changed.body_reason",
		"voucher.status.submitted",
		"voucher.status.received",
		"voucher.status.checking",
		"voucher.status.approved",
		"voucher.status.rejected",
		"voucher.status.accounted",
		"voucher.status.paid",
		"voucher.kind.budget_withdrawal",
		"voucher.kind.payment_order",
		"voucher.kind.cash_withdrawal",
		"voucher.kind.advance",
		"voucher.kind.refund",
		"voucher.kind.other",
		"risk.body",
		"privacy.title",
		"privacy.body",
		"privacy.body_risk",
		"security.new_device.title",
		"security.new_device.body",
	};
	size_t n = alertfmt_message_count();
	char out[ALERTFMT_BODY_MAX], id[64];

	CHECK(n >= sizeof(required) / sizeof(required[0]) + 2 * RULE__COUNT);
	CHECK(alertfmt_message_id(n) == NULL);
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		CHECK(alertfmt_message(required[i], ALERT_LANG_VI) && alertfmt_message(required[i], ALERT_LANG_EN));
	for (int r = 0; r < RULE__COUNT; r++) {
		snprintf(id, sizeof(id), "risk.%s.title", rules_name((enum rule_id)r));
		CHECK(alertfmt_message(id, ALERT_LANG_VI) && alertfmt_message(id, ALERT_LANG_EN));
		snprintf(id, sizeof(id), "risk.%s.explanation", rules_name((enum rule_id)r));
		CHECK(alertfmt_message(id, ALERT_LANG_VI) && alertfmt_message(id, ALERT_LANG_EN));
	}
	CHECK(alertfmt_message("no.such.id", ALERT_LANG_VI) == NULL);
	CHECK(alertfmt_message(NULL, ALERT_LANG_EN) == NULL);

	/* every row: unique id, both texts present and valid UTF-8, and rendering with every placeholder known
	   leaves no brace behind */
	for (size_t i = 0; i < n; i++) {
		const char *mid = alertfmt_message_id(i);
		CHECK(mid != NULL);
		for (size_t j = 0; j < i; j++)
			if (strcmp(mid, alertfmt_message_id(j)) == 0) {
				fprintf(stderr, "  duplicate message id %s\n", mid);
				tl_current_failed = 1;
			}
		for (int lang = ALERT_LANG_VI; lang <= ALERT_LANG_EN; lang++) {
			const char *text = alertfmt_message(mid, (enum alert_lang)lang);
			bool ok = text && text[0] && valid_utf8(text) &&
				  alertfmt_fill(text, all_vars, N_ALL_VARS, out, sizeof(out)) && !strchr(out, '{') &&
				  !strchr(out, '}');
			if (!ok) {
				fprintf(stderr, "  message %s (%s) does not render: \"%s\"\n", mid, lang ? "en" : "vi",
					text ? text : "(null)");
				tl_current_failed = 1;
			}
		}
		/* titles have no placeholders and fit a title */
		if (ends_with(mid, ".title"))
			for (int lang = ALERT_LANG_VI; lang <= ALERT_LANG_EN; lang++)
				CHECK(alertfmt_fill(alertfmt_message(mid, (enum alert_lang)lang), NULL, 0, out,
						    ALERTFMT_TITLE_MAX));
	}
	/* the wording the brief fixes */
	CHECK_STR(alertfmt_message("voucher.kind.budget_withdrawal", ALERT_LANG_VI), "Giấy rút dự toán");
	CHECK_STR(alertfmt_message("voucher.kind.payment_order", ALERT_LANG_VI), "Ủy nhiệm chi");
	CHECK_STR(alertfmt_message("voucher.kind.cash_withdrawal", ALERT_LANG_VI), "Giấy rút tiền mặt");
	CHECK_STR(alertfmt_message("voucher.kind.advance", ALERT_LANG_VI), "Tạm ứng");
	CHECK_STR(alertfmt_message("voucher.kind.refund", ALERT_LANG_VI), "Hoàn trả");
	CHECK_STR(alertfmt_message("voucher.kind.other", ALERT_LANG_VI), "Chứng từ");
	CHECK_STR(alertfmt_message("voucher.kind.payment_order", ALERT_LANG_EN), "payment order");
	CHECK_STR(alertfmt_message("voucher.kind.other", ALERT_LANG_EN), "voucher");
	CHECK_STR(alertfmt_message("privacy.title", ALERT_LANG_VI), "KBNN: Bạn có thông báo mới");
	CHECK_STR(alertfmt_message("privacy.title", ALERT_LANG_EN), "KBNN: You have a new notification");
	CHECK(alertfmt_lang("en") == ALERT_LANG_EN && alertfmt_lang("vi") == ALERT_LANG_VI);
	CHECK(alertfmt_lang(NULL) == ALERT_LANG_VI && alertfmt_lang("fr") == ALERT_LANG_VI);
}

static void test_fill(void)
{
	struct alertfmt_var v[] = { { "a", "1" }, { "bb", "{a}" }, { "n", NULL } };
	char out[16];

	CHECK(alertfmt_fill("x{a}y{bb}z{n}", v, 3, out, sizeof(out)));
	CHECK_STR(out, "x1y{a}z"); /* values are not expanded again */
	CHECK(alertfmt_fill("", v, 3, out, sizeof(out)));
	CHECK_STR(out, "");
	CHECK(alertfmt_fill("{a}{a}", v, 3, out, sizeof(out)));
	CHECK_STR(out, "11");
	memset(out, 'x', sizeof(out));
	CHECK(!alertfmt_fill("x{c}", v, 3, out, sizeof(out))); /* unknown placeholder */
	CHECK_STR(out, "");
	CHECK(!alertfmt_fill("x{a", v, 3, out, sizeof(out))); /* unterminated */
	CHECK(!alertfmt_fill("x{}", v, 3, out, sizeof(out)));
	CHECK(!alertfmt_fill("{b}", v, 3, out, sizeof(out))); /* a prefix of a name is not the name */
	CHECK(!alertfmt_fill("{A}", v, 3, out, sizeof(out)));
	CHECK(!alertfmt_fill("{a}", NULL, 0, out, sizeof(out)));
	CHECK(!alertfmt_fill(NULL, v, 3, out, sizeof(out)));
	CHECK(alertfmt_fill("0123456789{a}abcd", v, 3, out, 16)); /* 15 bytes + NUL */
	CHECK_STR(out, "01234567891abcd");
	CHECK(!alertfmt_fill("0123456789{a}abcde", v, 3, out, 16));
	CHECK_STR(out, "");
	CHECK(!alertfmt_fill("a", v, 3, out, 0));
	CHECK(!alertfmt_fill("a", v, 3, out, 1));
	CHECK(alertfmt_fill("", v, 3, out, 1));
}

static struct alertfmt_event balance_event(void)
{
	struct alertfmt_event ev = {
		.type = "balance.changed",
		.occurred_at_us = OCCURRED_US,
		.account = "9523.1.1012345",
		.currency = "VND",
		.amount = -1500000,
		.balance_after = 120000000,
		.description = "Chi lương tháng 11",
	};
	return ev;
}

static struct alertfmt_event voucher_event(const char *status)
{
	struct alertfmt_event ev = {
		.type = "voucher.status_changed",
		.occurred_at_us = OCCURRED_US,
		.amount = 50000000,
		.voucher_number = "000456",
		.voucher_kind = "cash_withdrawal",
		.voucher_form = "C4-09/KB",
		.status = status,
	};
	return ev;
}

static void test_render_balance(void)
{
	struct alertfmt_event ev = balance_event();
	char title[ALERTFMT_TITLE_MAX], body[ALERTFMT_BODY_MAX];

	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK_STR(title, "Biến động số dư");
	CHECK_STR(body, "TK …2345: -1.500.000 VND lúc 10:15 21/11/2026. Số dư: 120.000.000 VND. ND: Chi lương tháng 11");
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_EN, false, title, body));
	CHECK_STR(title, "Balance change");
	CHECK_STR(body, "Acct …2345: -1,500,000 VND at 10:15 21/11/2026. Balance: 120,000,000 VND. Note: Chi lương tháng 11");

	ev.description = NULL;
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK_STR(body, "TK …2345: -1.500.000 VND lúc 10:15 21/11/2026. Số dư: 120.000.000 VND.");
	ev.description = "";
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_EN, false, title, body));
	CHECK_STR(body, "Acct …2345: -1,500,000 VND at 10:15 21/11/2026. Balance: 120,000,000 VND.");

	/* an inflow gets a '+', zero none; currency NULL is VND */
	ev.amount = 2500000;
	ev.balance_after = 122500000;
	ev.currency = NULL;
	ev.occurred_at_us = 1795282200LL * US;
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK_STR(body, "TK …2345: +2.500.000 VND lúc 00:30 22/11/2026. Số dư: 122.500.000 VND.");
	ev.amount = 0;
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK_STR(body, "TK …2345: 0 VND lúc 00:30 22/11/2026. Số dư: 122.500.000 VND.");
	/* extremes still fit */
	ev.amount = INT64_MIN;
	ev.balance_after = INT64_MAX;
	ev.currency = "USD";
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_EN, false, title, body));
	CHECK_CONTAINS(body, "-9,223,372,036,854,775,808 USD");
	ev.amount = INT64_MAX;
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_EN, false, title, body));
	CHECK_CONTAINS(body, "+9,223,372,036,854,775,807 USD");
	/* a short account is shown whole; a missing one as nothing */
	ev = balance_event();
	ev.account = "1234";
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK_CONTAINS(body, "TK 1234: ");
}

static void test_render_voucher(void)
{
	static const struct {
		const char *status, *vi, *en;
	} cases[] = {
		{ "submitted", "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: đã được gửi đến KBNN",
		  "Voucher 000456 (cash withdrawal) 50,000,000 VND: submitted to the State Treasury" },
		{ "received", "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: KBNN đã tiếp nhận",
		  "Voucher 000456 (cash withdrawal) 50,000,000 VND: received by the State Treasury" },
		{ "checking", "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: KBNN đang kiểm soát",
		  "Voucher 000456 (cash withdrawal) 50,000,000 VND: being checked by the State Treasury" },
		{ "approved", "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: KBNN đã phê duyệt",
		  "Voucher 000456 (cash withdrawal) 50,000,000 VND: approved by the State Treasury" },
		{ "rejected", "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: KBNN đã từ chối. Lý do: Sai mã nguồn",
		  "Voucher 000456 (cash withdrawal) 50,000,000 VND: rejected by the State Treasury. Reason: Sai mã nguồn" },
		{ "accounted", "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: KBNN đã hạch toán",
		  "Voucher 000456 (cash withdrawal) 50,000,000 VND: posted by the State Treasury" },
		{ "paid", "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: KBNN đã thanh toán",
		  "Voucher 000456 (cash withdrawal) 50,000,000 VND: paid by the State Treasury" },
	};
	static const char *const kinds[] = { "budget_withdrawal", "payment_order", "cash_withdrawal",
					     "advance",		  "refund",	   "other" };
	char title[ALERTFMT_TITLE_MAX], body[ALERTFMT_BODY_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct alertfmt_event ev = voucher_event(cases[i].status);
		ev.reason = "Sai mã nguồn"; /* shown for rejected only */
		CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
		CHECK_STR(title, "Cập nhật trạng thái chứng từ");
		CHECK_STR(body, cases[i].vi);
		CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_EN, false, title, body));
		CHECK_STR(title, "Voucher status update");
		CHECK_STR(body, cases[i].en);
	}
	/* rejected without a reason; every kind; NULL kind is "other" */
	struct alertfmt_event ev = voucher_event("rejected");
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK_STR(body, "Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: KBNN đã từ chối");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (int lang = ALERT_LANG_VI; lang <= ALERT_LANG_EN; lang++) {
			char id[64], want[128];
			snprintf(id, sizeof(id), "voucher.kind.%s", kinds[k]);
			snprintf(want, sizeof(want), " (%s) ", alertfmt_message(id, (enum alert_lang)lang));
			ev.voucher_kind = kinds[k];
			CHECK(alertfmt_render(&ev, NULL, (enum alert_lang)lang, false, title, body));
			CHECK_CONTAINS(body, want);
		}
	ev.voucher_kind = NULL;
	ev.currency = "USD";
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_EN, false, title, body));
	CHECK_STR(body, "Voucher 000456 (voucher) 50,000,000 USD: rejected by the State Treasury");

	/* programming errors: unknown status, kind or type; NULLs */
	static const char *const bad_status[] = { "cancelled", "Paid", "", "paid.", NULL };
	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		ev = voucher_event(bad_status[i]);
		memset(title, 'x', sizeof(title));
		memset(body, 'x', sizeof(body));
		CHECK(!alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
		CHECK_STR(title, "");
		CHECK_STR(body, "");
		CHECK(!alertfmt_render(&ev, NULL, ALERT_LANG_VI, true, title, body));
	}
	ev = voucher_event("paid");
	ev.voucher_kind = "gift";
	CHECK(!alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	ev = voucher_event("paid");
	ev.type = "voucher.deleted";
	CHECK(!alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	ev.type = NULL;
	CHECK(!alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK(!alertfmt_render(NULL, NULL, ALERT_LANG_VI, false, title, body));
	CHECK_STR(title, "");
}

static void test_render_risk(void)
{
	char title[ALERTFMT_TITLE_MAX], body[ALERTFMT_BODY_MAX], line[ALERTFMT_BODY_MAX], id[64], want[2 * ALERTFMT_BODY_MAX];
	struct alertfmt_event events[2] = { balance_event(), voucher_event("rejected") };

	events[1].reason = "Sai mã nguồn";
	for (int r = 0; r < RULE__COUNT; r++)
		for (int lang = ALERT_LANG_VI; lang <= ALERT_LANG_EN; lang++)
			for (int e = 0; e < 2; e++) {
				const char *rule = rules_name((enum rule_id)r);
				CHECK(alertfmt_render(&events[e], NULL, (enum alert_lang)lang, false, title, line));
				CHECK(alertfmt_render(&events[e], rule, (enum alert_lang)lang, false, title, body));
				snprintf(id, sizeof(id), "risk.%s.title", rule);
				CHECK_STR(title, alertfmt_message(id, (enum alert_lang)lang));
				snprintf(id, sizeof(id), "risk.%s.explanation", rule);
				if (snprintf(want, sizeof(want), "%s %s", alertfmt_message(id, (enum alert_lang)lang),
					     line) < 0)
					want[0] = '\0';
				CHECK_STR(body, want);
			}
	/* one exact example */
	struct alertfmt_event ev = voucher_event("submitted");
	CHECK(alertfmt_render(&ev, "cash_withdrawal", ALERT_LANG_VI, false, title, body));
	CHECK_STR(title, "Cảnh báo: rút tiền mặt");
	CHECK_STR(body, "Có chứng từ rút tiền mặt. Nếu đơn vị không thực hiện, hãy báo ngay cho Kho bạc. "
			"Chứng từ 000456 (Giấy rút tiền mặt) 50.000.000 VND: đã được gửi đến KBNN");
	/* unknown rule: a programming error */
	CHECK(!alertfmt_render(&ev, "bogus", ALERT_LANG_VI, false, title, body));
	CHECK(!alertfmt_render(&ev, "", ALERT_LANG_VI, false, title, body));
	CHECK(!alertfmt_render(&ev, "bogus", ALERT_LANG_EN, true, title, body));
	CHECK_STR(body, "");
}

static void test_privacy(void)
{
	struct alertfmt_event events[3] = { balance_event(), voucher_event("rejected"), voucher_event("paid") };
	char title[ALERTFMT_TITLE_MAX], body[ALERTFMT_BODY_MAX];

	events[1].reason = "Sai mã nguồn 123";
	for (int lang = ALERT_LANG_VI; lang <= ALERT_LANG_EN; lang++)
		for (int e = 0; e < 3; e++)
			for (int r = -1; r < RULE__COUNT; r++) {
				const char *rule = r < 0 ? NULL : rules_name((enum rule_id)r);
				CHECK(alertfmt_render(&events[e], rule, (enum alert_lang)lang, true, title, body));
				CHECK_STR(title, alertfmt_message("privacy.title", (enum alert_lang)lang));
				CHECK_STR(body, alertfmt_message(rule ? "privacy.body_risk" : "privacy.body",
								 (enum alert_lang)lang));
				CHECK(!has_digit(title) && !has_digit(body));
				CHECK(!strstr(body, "lương") && !strstr(body, "Sai") && !strstr(body, "…"));
			}
	CHECK(alertfmt_render_new_device("Pixel 8", OCCURRED_US, ALERT_LANG_VI, true, title, body));
	CHECK(!has_digit(title) && !has_digit(body) && !strstr(body, "Pixel"));
}

/* text of n code points cycling through Vietnamese letters of 1, 2 and 3 bytes */
static void vietnamese_text(char *out, size_t outlen, size_t n, const char *const *letters, size_t nletters)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *l = letters[i % nletters];
		size_t m = strlen(l);
		if (len + m + 1 > outlen)
			break;
		memcpy(out + len, l, m + 1);
		len += m;
	}
}

static void test_new_device(void)
{
	static const char *const wide[] = { "Đ", "i", "ệ", "n", " ", "t", "h", "o", "ạ", "i" };
	char title[ALERTFMT_TITLE_MAX], body[ALERTFMT_BODY_MAX], device[1900];

	CHECK(alertfmt_render_new_device("iPhone 15", OCCURRED_US, ALERT_LANG_VI, false, title, body));
	CHECK_STR(title, "Kích hoạt trên thiết bị mới");
	CHECK_STR(body, "Tài khoản của bạn vừa được kích hoạt trên thiết bị mới (iPhone 15) lúc 10:15 21/11/2026. "
			"Nếu không phải bạn, hãy báo ngay cho Kho bạc.");
	CHECK(alertfmt_render_new_device("iPhone 15", OCCURRED_US, ALERT_LANG_EN, false, title, body));
	CHECK_STR(title, "New device activated");
	CHECK_STR(body, "Your account was just activated on a new device (iPhone 15) at 10:15 21/11/2026. "
			"If this was not you, contact your treasury office at once.");
	CHECK(alertfmt_render_new_device(NULL, OCCURRED_US, ALERT_LANG_EN, false, title, body));
	CHECK_CONTAINS(body, "new device () at");
	/* a huge label is cut, the rest of the sentence kept */
	vietnamese_text(device, sizeof(device), 1000, wide, sizeof(wide) / sizeof(wide[0]));
	CHECK(alertfmt_render_new_device(device, OCCURRED_US, ALERT_LANG_VI, false, title, body));
	CHECK(strlen(body) < ALERTFMT_BODY_MAX && strlen(body) > ALERTFMT_BODY_MAX - 10 && valid_utf8(body));
	CHECK(ends_with(body, "…) lúc 10:15 21/11/2026. Nếu không phải bạn, hãy báo ngay cho Kho bạc."));
}

static void test_long_text(void)
{
	static const char *const mixed[] = { "C", "h", "i", " ", "t", "r", "ả", " ", "l",
					     "ư", "ơ", "n", "g", " ", "đ", "ợ", "t", " " };
	static const char *const wide[] = { "ệ", "ộ", "ữ", "ấ", "ặ", "ỳ" };
	static const char *const emoji[] = { "💰", "ư", "ệ" };
	const char *const *sets[] = { mixed, wide, emoji };
	size_t set_sizes[] = { sizeof(mixed) / sizeof(mixed[0]), sizeof(wide) / sizeof(wide[0]), 3 };
	char text[2100], title[ALERTFMT_TITLE_MAX], body[ALERTFMT_BODY_MAX];

	for (size_t s = 0; s < 3; s++) {
		vietnamese_text(text, sizeof(text), 500, sets[s], set_sizes[s]);
		CHECK(valid_utf8(text));
		for (int lang = ALERT_LANG_VI; lang <= ALERT_LANG_EN; lang++)
			for (int r = -1; r < RULE__COUNT; r++) {
				const char *rule = r < 0 ? NULL : rules_name((enum rule_id)r);
				struct alertfmt_event ev = balance_event();
				struct alertfmt_event vev = voucher_event("rejected");

				ev.description = text;
				vev.reason = text;
				vev.voucher_number = "12345678901234567890123456789012"; /* the longest allowed */
				ev.account = "12345678901234567890123456789012";
				for (int e = 0; e < 2; e++) {
					CHECK(alertfmt_render(e ? &vev : &ev, rule, (enum alert_lang)lang, false, title, body));
					size_t n = strlen(body);
					CHECK(n < ALERTFMT_BODY_MAX && valid_utf8(body) && valid_utf8(title));
					/* when the text was cut, the body is full up to a character and a space */
					if (!strstr(body, text))
						CHECK(ends_with(body, "…") && n + 4 + 1 >= ALERTFMT_BODY_MAX - 1);
				}
			}
	}
	/* a description that fits exactly is not cut; one byte more is */
	struct alertfmt_event ev = balance_event();
	char fits[ALERTFMT_BODY_MAX];
	ev.description = "x";
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	size_t room = ALERTFMT_BODY_MAX - 1 - (strlen(body) - 1);
	memset(fits, 'a', room);
	fits[room] = '\0';
	ev.description = fits;
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK(strlen(body) == ALERTFMT_BODY_MAX - 1 && ends_with(body, "aaa"));
	char more[ALERTFMT_BODY_MAX + 1];
	memset(more, 'a', room + 1);
	more[room + 1] = '\0';
	ev.description = more;
	CHECK(alertfmt_render(&ev, NULL, ALERT_LANG_VI, false, title, body));
	CHECK(strlen(body) == ALERTFMT_BODY_MAX - 1 && ends_with(body, "aa…"));
	/* a description far larger than the body */
	char *huge = malloc(20000);
	if (huge) {
		memset(huge, 'b', 19999);
		huge[19999] = '\0';
		ev.description = huge;
		CHECK(alertfmt_render(&ev, "large_amount", ALERT_LANG_EN, false, title, body));
		CHECK(strlen(body) == ALERTFMT_BODY_MAX - 1 && ends_with(body, "bb…"));
		free(huge);
	}
}

int main(void)
{
	RUN(test_amount);
	RUN(test_time);
	RUN(test_account);
	RUN(test_truncate);
	RUN(test_catalogue);
	RUN(test_fill);
	RUN(test_render_balance);
	RUN(test_render_voucher);
	RUN(test_render_risk);
	RUN(test_privacy);
	RUN(test_new_device);
	RUN(test_long_text);
	TEST_SUMMARY("test_alertfmt");
}
