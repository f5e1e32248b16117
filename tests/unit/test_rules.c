/*
 * test_rules.c - the risk rules, table-driven at every boundary: signature
 * gap (10 s exactly, just under, just over, offsets, missing signatures),
 * same certificate or signer (case, spaces, Vietnamese letters), cash
 * withdrawal by kind and by form per status, large amount and its per-unit
 * threshold, off hours (07:00 / 19:00 edges, weekends in local time across
 * the UTC midnight), rejected, new beneficiary and rapid repeat (only at
 * submission), the balance rule, and rule names.
 *
 * Every instant is written as RFC 3339 text and turned into UTC microseconds
 * with event_parse_rfc3339, as the caller does with an event's signed_at.
 */
#include "ingest/event.h"
#include "alerts/rules.h"
#include "testlib.h"

#include <stdint.h>

#define BIT(r) (1u << (r))
#define GAP BIT(RULE_SIGNATURE_GAP)
#define SAME BIT(RULE_SAME_CERTIFICATE)
#define CASH BIT(RULE_CASH_WITHDRAWAL)
#define LARGE BIT(RULE_LARGE_AMOUNT)
#define OFF BIT(RULE_OFF_HOURS)
#define REJ BIT(RULE_REJECTED)
#define NEWB BIT(RULE_NEW_BENEFICIARY)
#define REPEAT BIT(RULE_RAPID_REPEAT)

/* RFC 3339 text to UTC microseconds; a bad literal fails the current test. */
static int64_t T(const char *text)
{
	int64_t us = 0;

	if (!event_parse_rfc3339(text, &us)) {
		fprintf(stderr, "  bad time literal in test: %s\n", text);
		tl_current_failed = 1;
	}
	return us;
}

/*
 * A voucher that fires nothing: approved budget withdrawal of 25,000,000 VND
 * on a Wednesday morning, signed by two different people with different
 * certificates half an hour apart on Tuesday, to a beneficiary paid before.
 */
static struct rules_voucher baseline(void)
{
	struct rules_voucher v = {
		.kind = "budget_withdrawal",
		.form = "C2-02a/NS",
		.status = "approved",
		.amount = 25000000,
		.occurred_at_us = T("2026-11-18T10:15:00+07:00"),
		.beneficiary_account = "0071000123456",
		.nsignatures = 2,
		.signatures = { { "account_holder", "Trần Thị B", "54:01:AB", T("2026-11-17T09:00:00+07:00") },
				{ "chief_accountant", "Lê C", "54:01:AC", T("2026-11-17T09:30:00+07:00") } },
	};
	return v;
}

static const struct rules_history paid_before = { .beneficiary_paid_before = true, .same_amount_recently = false };

static void check_mask(unsigned got, unsigned want, const char *name)
{
	if (got != want) {
		fprintf(stderr, "  %s: rules fired 0x%x, expected 0x%x\n", name, got, want);
		tl_current_failed = 1;
	}
}

static void test_names(void)
{
	static const char *const want[RULE__COUNT] = { "signature_gap",	  "same_certificate", "cash_withdrawal",
						       "large_amount",	  "off_hours",	      "rejected",
						       "new_beneficiary", "rapid_repeat" };
	enum rule_id r = RULE_OFF_HOURS;

	for (int i = 0; i < RULE__COUNT; i++) {
		CHECK_STR(rules_name((enum rule_id)i), want[i]);
		CHECK(rules_from_name(want[i], &r) && r == (enum rule_id)i);
	}
	CHECK(rules_name(RULE__COUNT) == NULL);
	CHECK(rules_name((enum rule_id) - 1) == NULL);
	r = RULE_OFF_HOURS;
	CHECK(!rules_from_name("Signature_gap", &r) && r == RULE_OFF_HOURS);
	CHECK(!rules_from_name("", &r) && !rules_from_name(NULL, &r));
	CHECK(RULE__COUNT <= 32); /* fits the unsigned bitmask */
}

static void test_baseline_and_defaults(void)
{
	struct rules_voucher v = baseline();
	struct rules_config c;

	rules_config_default(&c);
	CHECK(c.signature_gap_seconds == 10 && c.large_amount_threshold == 500000000LL && c.repeat_window_minutes == 10 &&
	      c.day_start_hour == 7 && c.day_end_hour == 19);
	check_mask(rules_voucher(&v, &paid_before, &c), 0, "baseline");
	check_mask(rules_voucher(&v, &paid_before, NULL), 0, "baseline, NULL config");
	check_mask(rules_voucher(NULL, &paid_before, &c), 0, "NULL voucher");
	v.nsignatures = 0;
	check_mask(rules_voucher(&v, &paid_before, &c), 0, "no signatures");
}

struct sig_text {
	const char *role, *signer, *serial, *at;
};

static void test_signatures(void)
{
	static const struct {
		const char *name;
		int n;
		struct sig_text s[4];
		unsigned want;
	} cases[] = {
		{ "exactly 10 s apart",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:10+07:00" } },
		  0 },
		{ "9.999 s apart",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:09.999+07:00" } },
		  GAP },
		{ "10.001 s apart",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:10.001+07:00" } },
		  0 },
		{ "chief first, 9.999 s before",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:09.999+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:00+07:00" } },
		  GAP },
		{ "chief first, exactly 10 s before",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:10+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:00+07:00" } },
		  0 },
		{ "same instant",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:00+07:00" } },
		  GAP },
		{ "9.999999 s apart",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:09.999999+07:00" } },
		  GAP },
		/* offsets: the caller passes UTC, so only the instants matter */
		{ "5 s apart written in +07:00 and -05:00",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-17T21:00:05-05:00" } },
		  GAP },
		{ "5 s apart written in Z and +05:30",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T02:00:00Z" },
		    { "chief_accountant", "B", "2", "2026-11-18T07:30:05+05:30" } },
		  GAP },
		{ "same wall time 09:00:00 in +07:00 and +08:00 is an hour apart",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:00+08:00" } },
		  0 },
		{ "same wall time in +07:00 and Z is 7 hours apart",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:03Z" } },
		  0 },
		/* missing signatures */
		{ "account holder only", 1, { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" } }, 0 },
		{ "chief accountant only", 1, { { "chief_accountant", "A", "1", "2026-11-18T09:00:00+07:00" } }, 0 },
		{ "two account holders 1 s apart, same serial",
		  2,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "account_holder", "A", "1", "2026-11-18T09:00:01+07:00" } },
		  0 },
		{ "two chief accountants 1 s apart, same signer",
		  2,
		  { { "chief_accountant", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "A", "2", "2026-11-18T09:00:01+07:00" } },
		  0 },
		{ "unknown role is ignored",
		  2,
		  { { "director", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "A", "1", "2026-11-18T09:00:01+07:00" } },
		  0 },
		/* several of a role: any pair */
		{ "one of two chief signatures within the gap",
		  3,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:30:00+07:00" },
		    { "chief_accountant", "C", "3", "2026-11-18T09:00:04+07:00" } },
		  GAP },
		{ "four signatures, none within the gap",
		  4,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "2", "2026-11-18T09:00:30+07:00" },
		    { "account_holder", "C", "3", "2026-11-18T10:00:00+07:00" },
		    { "chief_accountant", "D", "4", "2026-11-18T10:00:10+07:00" } },
		  0 },
		{ "second account holder pairs with the chief",
		  3,
		  { { "account_holder", "A", "1", "2026-11-18T09:00:00+07:00" },
		    { "account_holder", "C", "3", "2026-11-18T10:00:00+07:00" },
		    { "chief_accountant", "D", "4", "2026-11-18T10:00:09+07:00" } },
		  GAP },
		/* same certificate or signer */
		{ "same serial, different case",
		  2,
		  { { "account_holder", "A", "54:01:ab", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "54:01:AB", "2026-11-18T10:00:00+07:00" } },
		  SAME },
		{ "serials differ in one character",
		  2,
		  { { "account_holder", "A", "54:01:AB", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "B", "54:01:AC", "2026-11-18T10:00:00+07:00" } },
		  0 },
		{ "same signer with spaces around",
		  2,
		  { { "account_holder", "  Nguyễn Văn A ", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "Nguyễn Văn A", "2", "2026-11-18T10:00:00+07:00" } },
		  SAME },
		{ "same signer, different case, Vietnamese letters",
		  2,
		  { { "account_holder", "TRẦN THỊ ĐÀO", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "trần thị đào", "2", "2026-11-18T10:00:00+07:00" } },
		  SAME },
		{ "same signer, inner spaces doubled and a tab",
		  2,
		  { { "account_holder", "Lê  Văn\tC", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "lê văn c", "2", "2026-11-18T10:00:00+07:00" } },
		  SAME },
		{ "different accents are different people",
		  2,
		  { { "account_holder", "Lê Văn C", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "Lê Vân C", "2", "2026-11-18T10:00:00+07:00" } },
		  0 },
		{ "names that only share a prefix",
		  2,
		  { { "account_holder", "Lê Văn", "1", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "Lê Văn C", "2", "2026-11-18T10:00:00+07:00" } },
		  0 },
		{ "blank signers and serials do not match",
		  2,
		  { { "account_holder", "  ", "", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", " ", "", "2026-11-18T10:00:00+07:00" } },
		  0 },
		{ "same serial on two account holders only",
		  2,
		  { { "account_holder", "A", "X1", "2026-11-18T09:00:00+07:00" },
		    { "account_holder", "B", "x1", "2026-11-18T10:00:00+07:00" } },
		  0 },
		{ "same certificate and seconds apart: both",
		  2,
		  { { "account_holder", "A", "CAFE01", "2026-11-18T09:00:00+07:00" },
		    { "chief_accountant", "A", "cafe01", "2026-11-18T09:00:02+07:00" } },
		  GAP | SAME },
	};
	struct rules_config c;

	rules_config_default(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_voucher v = baseline();
		v.nsignatures = cases[i].n;
		for (int k = 0; k < cases[i].n; k++) {
			v.signatures[k].role = cases[i].s[k].role;
			v.signatures[k].signer = cases[i].s[k].signer;
			v.signatures[k].certificate_serial = cases[i].s[k].serial;
			v.signatures[k].signed_at_us = T(cases[i].s[k].at);
		}
		check_mask(rules_voucher(&v, &paid_before, &c), cases[i].want, cases[i].name);
	}

	/* the gap is configurable; 0 turns the rule off */
	struct rules_voucher v = baseline();
	v.signatures[1].signed_at_us = v.signatures[0].signed_at_us + 29999999;
	c.signature_gap_seconds = 30;
	check_mask(rules_voucher(&v, &paid_before, &c), GAP, "29.999999 s with a 30 s gap");
	v.signatures[1].signed_at_us = v.signatures[0].signed_at_us + 30000000;
	check_mask(rules_voucher(&v, &paid_before, &c), 0, "30 s with a 30 s gap");
	v.signatures[1].signed_at_us = v.signatures[0].signed_at_us;
	c.signature_gap_seconds = 0;
	check_mask(rules_voucher(&v, &paid_before, &c), 0, "gap 0 disables");
	/* nsignatures out of range is clamped; extreme instants do not overflow */
	rules_config_default(&c);
	v = baseline();
	v.nsignatures = -3;
	check_mask(rules_voucher(&v, &paid_before, &c), 0, "negative nsignatures");
	v.nsignatures = 99;
	v.signatures[2] = (struct rules_signature){ "chief_accountant", "Z", "9", v.signatures[0].signed_at_us + 1000000 };
	v.signatures[3] = (struct rules_signature){ "director", "Y", "8", 0 };
	check_mask(rules_voucher(&v, &paid_before, &c), GAP, "nsignatures clamped to 4");
	v = baseline();
	v.signatures[0].signed_at_us = INT64_MIN;
	v.signatures[1].signed_at_us = INT64_MAX;
	CHECK((rules_voucher(&v, &paid_before, &c) & GAP) == 0);
	v.signatures[1].signed_at_us = INT64_MIN + 1;
	CHECK((rules_voucher(&v, &paid_before, &c) & GAP) == GAP);
}

static void test_off_hours(void)
{
	static const struct {
		const char *name;
		const char *status;
		const char *occurred;  /* NULL: baseline */
		const char *signed_at; /* the account holder's signature; NULL: baseline */
		unsigned want;
	} cases[] = {
		/* submission time, Wednesday */
		{ "submitted 06:59:59", "submitted", "2026-11-18T06:59:59+07:00", NULL, OFF },
		{ "submitted 06:59:59.999999", "submitted", "2026-11-18T06:59:59.999999+07:00", NULL, OFF },
		{ "submitted 07:00:00", "submitted", "2026-11-18T07:00:00+07:00", NULL, 0 },
		{ "submitted 12:00", "submitted", "2026-11-18T12:00:00+07:00", NULL, 0 },
		{ "submitted 18:59:59", "submitted", "2026-11-18T18:59:59+07:00", NULL, 0 },
		{ "submitted 18:59:59.999999", "submitted", "2026-11-18T18:59:59.999999+07:00", NULL, 0 },
		{ "submitted 19:00:00", "submitted", "2026-11-18T19:00:00+07:00", NULL, OFF },
		{ "submitted 23:59:59", "submitted", "2026-11-18T23:59:59+07:00", NULL, OFF },
		{ "submitted 00:00:00", "submitted", "2026-11-18T00:00:00+07:00", NULL, OFF },
		/* the same edges written in UTC */
		{ "submitted 23:59:59Z = 06:59:59 local", "submitted", "2026-11-17T23:59:59Z", NULL, OFF },
		{ "submitted 00:00:00Z = 07:00 local", "submitted", "2026-11-18T00:00:00Z", NULL, 0 },
		{ "submitted 11:59:59Z = 18:59:59 local", "submitted", "2026-11-18T11:59:59Z", NULL, 0 },
		{ "submitted 12:00:00Z = 19:00 local", "submitted", "2026-11-18T12:00:00Z", NULL, OFF },
		{ "submitted 09:00-05:00 = 21:00 local", "submitted", "2026-11-18T09:00:00-05:00", NULL, OFF },
		/* weekends */
		{ "submitted Saturday 10:00", "submitted", "2026-11-21T10:00:00+07:00", NULL, OFF },
		{ "submitted Sunday 10:00", "submitted", "2026-11-22T10:00:00+07:00", NULL, OFF },
		{ "submitted Monday 07:00", "submitted", "2026-11-23T07:00:00+07:00", NULL, 0 },
		{ "submitted Friday 18:59:59", "submitted", "2026-11-20T18:59:59+07:00", NULL, 0 },
		/* occurred_at counts only at submission */
		{ "approved at 22:00", "approved", "2026-11-18T22:00:00+07:00", NULL, 0 },
		{ "paid on Sunday", "paid", "2026-11-22T10:00:00+07:00", NULL, 0 },
		/* any signature, whatever the status */
		{ "signed 06:59:59", "approved", NULL, "2026-11-18T06:59:59+07:00", OFF },
		{ "signed 07:00:00", "approved", NULL, "2026-11-18T07:00:00+07:00", 0 },
		{ "signed 19:00:00", "received", NULL, "2026-11-18T19:00:00+07:00", OFF },
		{ "signed Saturday 09:00", "checking", NULL, "2026-11-21T09:00:00+07:00", OFF },
		{ "signed 02:00Z = 09:00 local Wednesday", "approved", NULL, "2026-11-18T02:00:00Z", 0 },
		{ "signed 20:00-05:00 Tuesday = 08:00 Wednesday", "approved", NULL, "2026-11-17T20:00:00-05:00", 0 },
		{ "signed 10:00+09:00 = 08:00 local", "approved", NULL, "2026-11-18T10:00:00+09:00", 0 },
		{ "signed 03:00+09:00 = 01:00 local", "approved", NULL, "2026-11-18T03:00:00+09:00", OFF },
	};
	struct rules_config c;

	rules_config_default(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_voucher v = baseline();
		v.status = cases[i].status;
		if (cases[i].occurred)
			v.occurred_at_us = T(cases[i].occurred);
		if (cases[i].signed_at)
			v.signatures[0].signed_at_us = T(cases[i].signed_at);
		check_mask(rules_voucher(&v, &paid_before, &c), cases[i].want, cases[i].name);
	}

	/* one signature off hours is enough */
	struct rules_voucher v = baseline();
	v.signatures[1].signed_at_us = T("2026-11-17T19:00:00+07:00");
	check_mask(rules_voucher(&v, &paid_before, &c), OFF, "second signature at 19:00");
}

static void test_weekend_in_local_time(void)
{
	/* all-day hours isolate the weekday: Saturday/Sunday local while UTC is still Friday/Saturday */
	static const struct {
		const char *at;
		bool off;
	} cases[] = {
		{ "2026-11-20T16:59:59Z", false }, /* Friday 23:59:59 local */
		{ "2026-11-20T17:00:00Z", true },  /* Friday in UTC, Saturday 00:00 local */
		{ "2026-11-20T17:30:00Z", true },  /* Saturday 00:30 local */
		{ "2026-11-21T16:59:59Z", true },  /* Saturday 23:59:59 local */
		{ "2026-11-21T17:00:00Z", true },  /* Saturday in UTC, Sunday 00:00 local */
		{ "2026-11-22T16:59:59Z", true },  /* Sunday 23:59:59 local */
		{ "2026-11-22T17:00:00Z", false }, /* Sunday in UTC, Monday 00:00 local */
		{ "2026-11-23T00:00:00+07:00", false }, { "2026-11-22T23:59:59+07:00", true },
		{ "2026-11-21T00:00:00+07:00", true },	{ "2026-11-20T23:59:59.999999+07:00", false },
	};
	struct rules_config c;

	rules_config_default(&c);
	c.day_start_hour = 0;
	c.day_end_hour = 24;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_voucher v = baseline();
		v.status = "submitted";
		v.occurred_at_us = T(cases[i].at);
		if (rules_off_hours(v.occurred_at_us, &c) != cases[i].off) {
			fprintf(stderr, "  weekend %s: expected %s\n", cases[i].at, cases[i].off ? "off" : "on");
			tl_current_failed = 1;
		}
		check_mask(rules_voucher(&v, &paid_before, &c), cases[i].off ? OFF : 0, cases[i].at);
	}

	/* other working days; before 1970 rounds down; NULL config is the default */
	CHECK(!rules_off_hours(T("2026-11-19T09:00:00+07:00"), NULL)); /* Thursday */
	CHECK(rules_off_hours(T("2026-11-19T19:00:00+07:00"), NULL));
	CHECK(!rules_off_hours(0, &c));					   /* Thursday 1970-01-01 07:00 local */
	CHECK(!rules_off_hours(0, NULL));				   /* 07:00:00 exactly */
	CHECK(rules_off_hours(-1, NULL));				   /* 06:59:59.999999 */
	CHECK(rules_off_hours(-3600LL * 1000000, NULL));		   /* 06:00 */
	CHECK(!rules_off_hours(-3600LL * 1000000, &c));			   /* all-day hours, Thursday */
	CHECK(!rules_off_hours(-8LL * 3600 * 1000000, &c));		   /* Wednesday 1969-12-31 23:00 local */
	CHECK(rules_off_hours(-(3LL * 86400 + 19 * 3600) * 1000000, &c));  /* Sunday 1969-12-28 12:00 local */
	CHECK(rules_off_hours(-(4LL * 86400 + 19 * 3600) * 1000000, &c));  /* Saturday 1969-12-27 12:00 local */
	CHECK(!rules_off_hours(-(5LL * 86400 + 19 * 3600) * 1000000, &c)); /* Friday 1969-12-26 12:00 local */
	/* the extremes do not overflow (the sanitizer build checks) */
	(void)rules_off_hours(INT64_MIN, NULL);
	(void)rules_off_hours(INT64_MAX, NULL);

	/* custom working day 08:00-17:00 */
	c.day_start_hour = 8;
	c.day_end_hour = 17;
	CHECK(rules_off_hours(T("2026-11-18T07:59:59+07:00"), &c));
	CHECK(!rules_off_hours(T("2026-11-18T08:00:00+07:00"), &c));
	CHECK(!rules_off_hours(T("2026-11-18T16:59:59+07:00"), &c));
	CHECK(rules_off_hours(T("2026-11-18T17:00:00+07:00"), &c));
}

static void test_cash_withdrawal(void)
{
	static const char *const statuses[] = { "submitted", "received",  "checking", "approved",
						"rejected",  "accounted", "paid" };
	static const bool fires[] = { true, false, false, true, false, false, true };
	static const struct {
		const char *kind, *form;
		bool cash;
	} vouchers[] = {
		{ "cash_withdrawal", "C2-02a/NS", true }, /* by kind */
		{ "other", "C4-09/KB", true },		  /* by form */
		{ "budget_withdrawal", "c4-09/kb", true },
		{ "cash_withdrawal", "C4-09/KB", true },
		{ "budget_withdrawal", "C4-08/KB", false },
		{ "payment_order", "C4-09/KB ", false },
		{ "advance", NULL, false },
		{ NULL, NULL, false },
	};
	struct rules_config c;

	rules_config_default(&c);
	for (size_t i = 0; i < sizeof(vouchers) / sizeof(vouchers[0]); i++)
		for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
			struct rules_voucher v = baseline();
			char name[128];
			unsigned want = (vouchers[i].cash && fires[s] ? CASH : 0) | (s == 4 ? REJ : 0);

			v.kind = vouchers[i].kind;
			v.form = vouchers[i].form;
			v.status = statuses[s];
			snprintf(name, sizeof(name), "%s/%s %s", vouchers[i].kind ? vouchers[i].kind : "(null)",
				 vouchers[i].form ? vouchers[i].form : "(null)", statuses[s]);
			check_mask(rules_voucher(&v, &paid_before, &c), want, name);
		}
}

static void test_large_amount(void)
{
	static const struct {
		long long threshold, amount;
		bool fires;
	} cases[] = {
		{ 500000000LL, 499999999LL, false },
		{ 500000000LL, 500000000LL, true },
		{ 500000000LL, 500000001LL, true },
		{ 500000000LL, 0, false },
		{ 500000000LL, 9000000000000000LL, true },
		{ 1000000LL, 999999LL, false }, /* a unit's own, lower threshold */
		{ 1000000LL, 1000000LL, true },
		{ 2000000000LL, 1999999999LL, false }, /* or higher */
		{ 2000000000LL, 2000000000LL, true },
		{ 1, 1, true },
		{ 0, 500000000LL, false }, /* threshold 0 disables the rule */
		{ -5, 500000000LL, false },
	};
	struct rules_config c;

	rules_config_default(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_voucher v = baseline();
		char name[96];

		c.large_amount_threshold = cases[i].threshold;
		v.amount = cases[i].amount;
		snprintf(name, sizeof(name), "voucher %lld at threshold %lld", cases[i].amount, cases[i].threshold);
		check_mask(rules_voucher(&v, &paid_before, &c), cases[i].fires ? LARGE : 0, name);
	}
	struct rules_voucher v = baseline();
	v.amount = 500000000LL;
	check_mask(rules_voucher(&v, &paid_before, NULL), LARGE, "default threshold");
}

static void test_balance(void)
{
	static const struct {
		long long threshold, amount;
		bool fires;
	} cases[] = {
		{ 500000000LL, -499999999LL, false },
		{ 500000000LL, -500000000LL, true },
		{ 500000000LL, -500000001LL, true },
		{ 500000000LL, 500000000LL, false }, /* an inflow never fires */
		{ 500000000LL, 9000000000000000LL, false },
		{ 500000000LL, INT64_MAX, false },
		{ 500000000LL, INT64_MIN, true },
		{ 500000000LL, -INT64_MAX, true },
		{ 500000000LL, 0, false },
		{ 500000000LL, -1, false },
		{ 1000000LL, -999999LL, false },
		{ 1000000LL, -1000000LL, true },
		{ 1, -1, true },
		{ 0, -500000000LL, false },
		{ INT64_MAX, -INT64_MAX, true },
		{ INT64_MAX, -INT64_MAX + 1, false },
	};
	struct rules_config c;

	rules_config_default(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[96];

		c.large_amount_threshold = cases[i].threshold;
		snprintf(name, sizeof(name), "balance %lld at threshold %lld", cases[i].amount, cases[i].threshold);
		check_mask(rules_balance(cases[i].amount, &c), cases[i].fires ? LARGE : 0, name);
	}
	check_mask(rules_balance(-500000000LL, NULL), LARGE, "balance, default threshold");
	check_mask(rules_balance(-499999999LL, NULL), 0, "balance under the default threshold");
}

static void test_status_and_history(void)
{
	static const struct {
		const char *name, *status, *beneficiary;
		bool paid_before, same_recently, no_history;
		unsigned want;
	} cases[] = {
		{ "rejected", "rejected", "0071000123456", true, false, false, REJ },
		{ "rejected, new beneficiary: not at rejection", "rejected", "0071000123456", false, true, false, REJ },
		{ "new beneficiary at submission", "submitted", "0071000123456", false, false, false, NEWB },
		{ "known beneficiary at submission", "submitted", "0071000123456", true, false, false, 0 },
		{ "new beneficiary, no beneficiary account", "submitted", NULL, false, false, false, 0 },
		{ "new beneficiary, empty beneficiary account", "submitted", "", false, true, false, 0 },
		{ "repeat at submission", "submitted", "0071000123456", true, true, false, REPEAT },
		{ "new and repeat at submission", "submitted", "0071000123456", false, true, false, NEWB | REPEAT },
		{ "no history given", "submitted", "0071000123456", false, true, true, 0 },
		{ "received", "received", "0071000123456", false, true, false, 0 },
		{ "checking", "checking", "0071000123456", false, true, false, 0 },
		{ "approved", "approved", "0071000123456", false, true, false, 0 },
		{ "accounted", "accounted", "0071000123456", false, true, false, 0 },
		{ "paid", "paid", "0071000123456", false, true, false, 0 },
		{ "unknown status", "cancelled", "0071000123456", false, true, false, 0 },
		{ "NULL status", NULL, "0071000123456", false, true, false, 0 },
		{ "status is case-sensitive", "Rejected", "0071000123456", true, false, false, 0 },
	};
	struct rules_config c;

	rules_config_default(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_voucher v = baseline();
		struct rules_history h = { cases[i].paid_before, cases[i].same_recently };

		v.status = cases[i].status;
		v.beneficiary_account = cases[i].beneficiary;
		check_mask(rules_voucher(&v, cases[i].no_history ? NULL : &h, &c), cases[i].want, cases[i].name);
	}
}

static void test_many_at_once(void)
{
	/* a cash withdrawal of 600,000,000 VND submitted on Saturday night, signed twice in 3 s with one
	   certificate, to a new beneficiary already paid the same amount minutes ago */
	struct rules_voucher v = {
		.kind = "cash_withdrawal",
		.form = "C4-09/KB",
		.status = "submitted",
		.amount = 600000000LL,
		.occurred_at_us = T("2026-11-21T22:10:00+07:00"),
		.beneficiary_account = "9999",
		.nsignatures = 2,
		.signatures = { { "account_holder", "Phạm D", "AB12", T("2026-11-21T22:05:00+07:00") },
				{ "chief_accountant", "Hoàng E", "ab12", T("2026-11-21T22:05:03+07:00") } },
	};
	struct rules_history h = { .beneficiary_paid_before = false, .same_amount_recently = true };

	check_mask(rules_voucher(&v, &h, NULL), GAP | SAME | CASH | LARGE | OFF | NEWB | REPEAT, "everything but rejected");
	v.status = "rejected";
	check_mask(rules_voucher(&v, &h, NULL), GAP | SAME | LARGE | OFF | REJ, "rejected later");
}

int main(void)
{
	RUN(test_names);
	RUN(test_baseline_and_defaults);
	RUN(test_signatures);
	RUN(test_off_hours);
	RUN(test_weekend_in_local_time);
	RUN(test_cash_withdrawal);
	RUN(test_large_amount);
	RUN(test_balance);
	RUN(test_status_and_history);
	RUN(test_many_at_once);
	TEST_SUMMARY("test_rules");
}
