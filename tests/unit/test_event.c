/*
 * test_event.c - ledger event validation: the two event types, every schema
 * rule failing with its exact field path and message, several errors at once,
 * amounts, Unicode length limits, signatures, the RFC 3339 parser, the time
 * window, the canonical form and its SHA-256, and path prefixes.
 */
#include "ingest/event.h"
#include "testlib.h"

#include <sodium.h>
#include <stdlib.h>

/* 2026-11-21T12:00:00Z */
#define NOW_US 1795262400000000LL
/* 2026-11-21T10:15:00+07:00 == 2026-11-21T03:15:00Z */
#define OCCURRED_US 1795230900000000LL
#define DAY_US (24LL * 3600 * 1000000)
#define MAX_AGE_US (30 * DAY_US)

static const char *const balance_text =
	"{'id':'ev-2026.11:0001','type':'balance.changed','occurred_at':'2026-11-21T10:15:00+07:00',"
	"'unit_code':'1012345','office_code':'0101',"
	"'data':{'account':'9527.1.1012345','currency':'VND','amount':-1500000,'balance_after':98500000,"
	"'description':'Chi tr\u1ea3 l\u01b0\u01a1ng th\u00e1ng 11','reference':'UNC-0042',"
	"'counterparty':{'name':'C\u00f4ng ty TNHH \u0110\u00e0 N\u1eb5ng','account':'0071000123456',"
	"'bank':'Vietcombank'}}}";

static const char *const voucher_text =
	"{'id':'v-77','type':'voucher.status_changed','occurred_at':'2026-11-21T10:15:00+07:00',"
	"'unit_code':'1012345',"
	"'data':{'status':'approved','previous_status':'checking',"
	"'voucher':{'number':'0000123','dossier_code':'HS-2026-9','form':'C2-02a/NS','kind':'budget_withdrawal',"
	"'amount':25000000,'currency':'VND','account':'8113.1.1012345',"
	"'beneficiary':{'name':'Nguy\u1ec5n V\u0103n A','account':'123','bank':'BIDV'},"
	"'signatures':[{'role':'account_holder','signer':'Tr\u1ea7n Th\u1ecb B','certificate_serial':'54:01:AB',"
	"'signed_at':'2026-11-20T09:00:00+07:00'},"
	"{'role':'chief_accountant','signer':'L\u00ea C','certificate_serial':'54:01:AC',"
	"'signed_at':'2026-11-20T09:30:00Z'}]}}}";

/* Parse JSON written with ' for " (no apostrophes in values). Any JSON value. */
static json_t *J(const char *text)
{
	size_t n = strlen(text);
	char *s = malloc(n + 1);
	json_error_t e;
	json_t *v;

	if (!s)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		s[i] = text[i] == '\'' ? '"' : text[i];
	v = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (!v)
		fprintf(stderr, "  test JSON does not parse: %s: %s\n", e.text, s);
	free(s);
	return v;
}

/* Replace (value) or delete (NULL) the member at a path like "data.voucher.signatures[1].role". Steals value. */
static void set_path(json_t *root, const char *path, json_t *value)
{
	char buf[256];
	char *save = NULL, *tok, *next;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = next) {
		char *bracket = strchr(tok, '[');
		long idx = -1;

		next = strtok_r(NULL, ".", &save);
		if (bracket) {
			*bracket = '\0';
			idx = strtol(bracket + 1, NULL, 10);
		}
		if (!next && idx < 0) {
			if (value)
				json_object_set_new(cur, tok, value);
			else
				json_object_del(cur, tok);
			return;
		}
		cur = json_object_get(cur, tok);
		if (idx >= 0) {
			if (!next) {
				if (value)
					json_array_set_new(cur, (size_t)idx, value);
				else
					json_array_remove(cur, (size_t)idx);
				return;
			}
			cur = json_array_get(cur, (size_t)idx);
		}
	}
	json_decref(value);
}

/* A string of n code points cycling through Vietnamese letters (mostly multibyte). Caller frees. */
static char *viet_text(size_t n)
{
	static const char *const cps[] = { "\u1ec7", "\u0111", "a", "\u01b0", "\u01a1", " ", "\u1ea3", "\u00e0" };
	char *s = malloc(n * 3 + 1), *p = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *cp = cps[i % (sizeof(cps) / sizeof(cps[0]))];
		size_t len = strlen(cp);
		memcpy(p, cp, len);
		p += len;
	}
	*p = '\0';
	return s;
}

static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memset(s, ch, n);
		s[n] = '\0';
	}
	return s;
}

static json_t *str_owned(char *s)
{
	json_t *v = json_string(s);
	free(s);
	return v;
}

static const char *err_field(const json_t *errors, size_t i)
{
	return json_string_value(json_object_get(json_array_get(errors, i), "field"));
}

static const char *err_message(const json_t *errors, size_t i)
{
	return json_string_value(json_object_get(json_array_get(errors, i), "message"));
}

static bool has_error(const json_t *errors, const char *field, const char *message)
{
	for (size_t i = 0; i < json_array_size(errors); i++)
		if (strcmp(err_field(errors, i), field) == 0 && strcmp(err_message(errors, i), message) == 0)
			return true;
	return false;
}

/* Validate ev (consumed) and expect exactly one error, field + message. Reports `what` on failure. */
static bool expect_one(json_t *ev, const char *prefix, const char *field, const char *message, const char *what)
{
	json_t *errors = json_array();
	struct event_input out, before;
	bool ok;

	memset(&out, 0xa5, sizeof(out));
	memcpy(&before, &out, sizeof(out));
	ok = !event_validate(ev, prefix, NOW_US, MAX_AGE_US, &out, errors) && json_array_size(errors) == 1 &&
	     strcmp(err_field(errors, 0), field) == 0 && strcmp(err_message(errors, 0), message) == 0 &&
	     memcmp(&out, &before, sizeof(out)) == 0; /* untouched on failure */
	if (!ok) {
		char *dump = json_dumps(errors, JSON_COMPACT);
		fprintf(stderr, "  %s: expected [%s] %s, got %s\n", what, field, message, dump ? dump : "?");
		free(dump);
	}
	json_decref(errors);
	json_decref(ev);
	return ok;
}

static bool expect_valid(json_t *ev, const char *what)
{
	json_t *errors = json_array();
	struct event_input out;
	bool ok = event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors);

	if (ok)
		event_input_free(&out);
	if (!ok || json_array_size(errors) != 0) {
		char *dump = json_dumps(errors, JSON_COMPACT);
		fprintf(stderr, "  %s: expected valid, got %s\n", what, dump ? dump : "?");
		free(dump);
		ok = false;
	}
	json_decref(errors);
	json_decref(ev);
	return ok;
}

static void test_valid_balance(void)
{
	json_t *ev = J(balance_text), *errors = json_array();
	struct event_input out;
	unsigned char h[32];

	CHECK(ev != NULL);
	CHECK(event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 0);
	CHECK_STR(out.id, "ev-2026.11:0001");
	CHECK(out.type == EVENT_BALANCE_CHANGED);
	CHECK_STR(out.type_name, "balance.changed");
	CHECK(out.occurred_at_us == OCCURRED_US);
	CHECK_STR(out.occurred_at, "2026-11-21T10:15:00+07:00");
	CHECK_STR(out.unit_code, "1012345");
	CHECK_STR(out.office_code, "0101");
	CHECK(out.canonical && out.canonical_len == strlen(out.canonical));
	char *expect = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(out.canonical, expect);
	crypto_hash_sha256(h, (const unsigned char *)expect, strlen(expect));
	CHECK(memcmp(out.sha256, h, 32) == 0);
	free(expect);
	event_input_free(&out);
	CHECK(out.canonical == NULL);
	event_input_free(&out); /* twice is fine */
	event_input_free(NULL);
	json_decref(errors);
	json_decref(ev);

	/* the minimum: optional members absent */
	ev = J("{'id':'x','type':'balance.changed','occurred_at':'2026-11-21T03:15:00Z','unit_code':'0000000',"
	       "'data':{'account':'1','amount':0,'balance_after':0}}");
	errors = json_array();
	CHECK(event_validate(ev, NULL, NOW_US, 0, &out, errors));
	CHECK(json_array_size(errors) == 0);
	CHECK_STR(out.office_code, "");
	CHECK(out.occurred_at_us == OCCURRED_US);
	/* defaults (currency VND) are not filled into the canonical form */
	CHECK(out.canonical && strstr(out.canonical, "currency") == NULL);
	CHECK_STR(out.canonical, "{\"data\":{\"account\":\"1\",\"amount\":0,\"balance_after\":0},\"id\":\"x\","
				 "\"occurred_at\":\"2026-11-21T03:15:00Z\",\"type\":\"balance.changed\","
				 "\"unit_code\":\"0000000\"}");
	event_input_free(&out);
	json_decref(errors);
	json_decref(ev);
}

static void test_valid_voucher(void)
{
	json_t *ev = J(voucher_text), *errors = json_array();
	struct event_input out;

	CHECK(ev != NULL);
	CHECK(event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 0);
	CHECK_STR(out.id, "v-77");
	CHECK(out.type == EVENT_VOUCHER_STATUS_CHANGED);
	CHECK_STR(out.type_name, "voucher.status_changed");
	CHECK(out.occurred_at_us == OCCURRED_US);
	CHECK_STR(out.occurred_at, "2026-11-21T10:15:00+07:00");
	CHECK_STR(out.unit_code, "1012345");
	CHECK_STR(out.office_code, "");
	CHECK(out.canonical_len == strlen(out.canonical));
	event_input_free(&out);
	json_decref(errors);
	json_decref(ev);

	/* minimum voucher: amount 0, no signatures, no optional members */
	CHECK(expect_valid(J("{'id':'v','type':'voucher.status_changed','occurred_at':'2026-11-21T03:15:00Z',"
			     "'unit_code':'1012345','data':{'status':'submitted','voucher':{'number':'1',"
			     "'form':'C4-09/KB','kind':'other','amount':0,'account':'A-1'}}}"),
			   "minimal voucher"));
	/* an empty signatures array is fine */
	ev = J(voucher_text);
	set_path(ev, "data.voucher.signatures", json_array());
	CHECK(expect_valid(ev, "empty signatures"));
}

enum base { BAL, VOU };

struct bad_case {
	enum base base;
	const char *path;  /* member to change */
	const char *value; /* new JSON value (' for "), NULL deletes it */
	const char *field;
	const char *message;
};

#define M_REQ "is required"
#define M_STR "must be a string"
#define M_OBJ "must be an object"
#define M_CTRL "must not contain control characters"
#define M_EMPTY "must not be empty"
#define M_UNKNOWN "unknown field"
#define M_TIME "must be an RFC 3339 date-time with an offset"
#define M_INT "must be an integer"
#define M_DEC "must be an integer, not a decimal number"
#define M_RANGE "out of range (at most \u00b19000000000000000)"
#define M_ID "may only contain A-Z, a-z, 0-9, '.', '_', ':' and '-'"
#define M_ACCOUNT "may only contain A-Z, a-z, 0-9, '.' and '-'"
#define M_CUR "must be an ISO 4217 code of 3 upper-case letters"
#define M_STATUS "must be one of submitted, received, checking, approved, rejected, accounted, paid"

static const struct bad_case bad_cases[] = {
	/* envelope */
	{ BAL, "id", NULL, "id", M_REQ },
	{ BAL, "id", "123", "id", M_STR },
	{ BAL, "id", "null", "id", M_STR },
	{ BAL, "id", "''", "id", M_EMPTY },
	{ BAL, "id", "'a b'", "id", M_ID },
	{ BAL, "id", "'a/b'", "id", M_ID },
	{ BAL, "id", "'m\\u00e3'", "id", M_ID },
	{ BAL, "id", "'ev\\u0001'", "id", M_CTRL },
	{ BAL, "type", NULL, "type", M_REQ },
	{ BAL, "type", "'balance.moved'", "type", "unknown event type" },
	{ BAL, "type", "'Balance.Changed'", "type", "unknown event type" },
	{ BAL, "type", "7", "type", M_STR },
	{ BAL, "occurred_at", NULL, "occurred_at", M_REQ },
	{ BAL, "occurred_at", "1795230900", "occurred_at", M_STR },
	{ BAL, "occurred_at", "'2026-11-21 10:15:00+07:00'", "occurred_at", M_TIME },
	{ BAL, "occurred_at", "'2026-11-21T10:15:00'", "occurred_at", M_TIME },
	{ BAL, "occurred_at", "'2026-11-23T00:00:00Z'", "occurred_at", "is more than 24 hours in the future" },
	{ BAL, "occurred_at", "'2026-01-01T00:00:00Z'", "occurred_at", "is older than the retention window" },
	{ BAL, "unit_code", NULL, "unit_code", M_REQ },
	{ BAL, "unit_code", "1012345", "unit_code", M_STR },
	{ BAL, "unit_code", "'101234'", "unit_code", "must be exactly 7 digits" },
	{ BAL, "unit_code", "'10123456'", "unit_code", "must be exactly 7 digits" },
	{ BAL, "unit_code", "'10123a5'", "unit_code", "must be exactly 7 digits" },
	{ BAL, "unit_code", "'\\uff11012345'", "unit_code", "must be exactly 7 digits" },
	{ BAL, "office_code", "'01a1'", "office_code", "must be exactly 4 characters of 0-9 and A-Z" },
	{ BAL, "office_code", "'01011'", "office_code", "must be exactly 4 characters of 0-9 and A-Z" },
	{ BAL, "office_code", "''", "office_code", "must be exactly 4 characters of 0-9 and A-Z" },
	{ BAL, "office_code", "101", "office_code", M_STR },
	{ BAL, "data", NULL, "data", M_REQ },
	{ BAL, "data", "[]", "data", M_OBJ },
	{ BAL, "data", "'x'", "data", M_OBJ },
	{ BAL, "extra", "1", "extra", M_UNKNOWN },
	{ BAL, "Id", "'x'", "Id", M_UNKNOWN },
	/* balance.changed data */
	{ BAL, "data.account", NULL, "data.account", M_REQ },
	{ BAL, "data.account", "''", "data.account", M_EMPTY },
	{ BAL, "data.account", "'123456789012345678901234567890123'", "data.account", "must be at most 32 characters" },
	{ BAL, "data.account", "'acc/1'", "data.account", M_ACCOUNT },
	{ BAL, "data.account", "'acc_1'", "data.account", M_ACCOUNT },
	{ BAL, "data.account", "'t\\u00e0i'", "data.account", M_ACCOUNT },
	{ BAL, "data.account", "42", "data.account", M_STR },
	{ BAL, "data.currency", "'vnd'", "data.currency", M_CUR },
	{ BAL, "data.currency", "'VN'", "data.currency", M_CUR },
	{ BAL, "data.currency", "'VNDX'", "data.currency", M_CUR },
	{ BAL, "data.currency", "704", "data.currency", M_STR },
	{ BAL, "data.amount", NULL, "data.amount", M_REQ },
	{ BAL, "data.amount", "1.5", "data.amount", M_DEC },
	{ BAL, "data.amount", "100.0", "data.amount", M_DEC },
	{ BAL, "data.amount", "1e3", "data.amount", M_DEC },
	{ BAL, "data.amount", "'100'", "data.amount", M_INT },
	{ BAL, "data.amount", "true", "data.amount", M_INT },
	{ BAL, "data.amount", "null", "data.amount", M_INT },
	{ BAL, "data.amount", "9000000000000001", "data.amount", M_RANGE },
	{ BAL, "data.amount", "-9000000000000001", "data.amount", M_RANGE },
	{ BAL, "data.amount", "9223372036854775807", "data.amount", M_RANGE },
	{ BAL, "data.amount", "-9223372036854775808", "data.amount", M_RANGE },
	{ BAL, "data.balance_after", NULL, "data.balance_after", M_REQ },
	{ BAL, "data.balance_after", "0.5", "data.balance_after", M_DEC },
	{ BAL, "data.balance_after", "'1'", "data.balance_after", M_INT },
	{ BAL, "data.balance_after", "9000000000000001", "data.balance_after", M_RANGE },
	{ BAL, "data.description", "'line\\nbreak'", "data.description", M_CTRL },
	{ BAL, "data.description", "'tab\\there'", "data.description", M_CTRL },
	{ BAL, "data.description", "'del\\u007f'", "data.description", M_CTRL },
	{ BAL, "data.description", "'\\u001f'", "data.description", M_CTRL },
	{ BAL, "data.description", "[]", "data.description", M_STR },
	{ BAL, "data.reference", "''", "data.reference", M_EMPTY },
	{ BAL, "data.reference", "'12345678901234567890123456789012345678901234567890123456789012345'", "data.reference",
	  "must be at most 64 characters" },
	{ BAL, "data.counterparty", "'x'", "data.counterparty", M_OBJ },
	{ BAL, "data.counterparty.account", "''", "data.counterparty.account", M_EMPTY },
	{ BAL, "data.counterparty.name", "5", "data.counterparty.name", M_STR },
	{ BAL, "data.counterparty.bank", "'a\\rb'", "data.counterparty.bank", M_CTRL },
	{ BAL, "data.counterparty.swift", "'X'", "data.counterparty.swift", M_UNKNOWN },
	{ BAL, "data.voucher", "{}", "data.voucher", M_UNKNOWN },
	{ BAL, "data.status", "'paid'", "data.status", M_UNKNOWN },
	/* voucher.status_changed data */
	{ VOU, "data.voucher", NULL, "data.voucher", M_REQ },
	{ VOU, "data.voucher", "'x'", "data.voucher", M_OBJ },
	{ VOU, "data.voucher.number", NULL, "data.voucher.number", M_REQ },
	{ VOU, "data.voucher.number", "''", "data.voucher.number", M_EMPTY },
	{ VOU, "data.voucher.number", "'123456789012345678901234567890123'", "data.voucher.number",
	  "must be at most 32 characters" },
	{ VOU, "data.voucher.number", "123", "data.voucher.number", M_STR },
	{ VOU, "data.voucher.dossier_code", "''", "data.voucher.dossier_code", M_EMPTY },
	{ VOU, "data.voucher.form", NULL, "data.voucher.form", M_REQ },
	{ VOU, "data.voucher.form", "'123456789012345678901234567890123'", "data.voucher.form",
	  "must be at most 32 characters" },
	{ VOU, "data.voucher.kind", NULL, "data.voucher.kind", M_REQ },
	{ VOU, "data.voucher.kind", "'loan'", "data.voucher.kind",
	  "must be one of budget_withdrawal, payment_order, cash_withdrawal, advance, refund, other" },
	{ VOU, "data.voucher.amount", NULL, "data.voucher.amount", M_REQ },
	{ VOU, "data.voucher.amount", "-1", "data.voucher.amount", "must not be negative" },
	{ VOU, "data.voucher.amount", "1.0", "data.voucher.amount", M_DEC },
	{ VOU, "data.voucher.amount", "'1'", "data.voucher.amount", M_INT },
	{ VOU, "data.voucher.amount", "9000000000000001", "data.voucher.amount", M_RANGE },
	{ VOU, "data.voucher.currency", "'usd'", "data.voucher.currency", M_CUR },
	{ VOU, "data.voucher.account", NULL, "data.voucher.account", M_REQ },
	{ VOU, "data.voucher.account", "'a b'", "data.voucher.account", M_ACCOUNT },
	{ VOU, "data.voucher.beneficiary", "[]", "data.voucher.beneficiary", M_OBJ },
	{ VOU, "data.voucher.beneficiary.account", "''", "data.voucher.beneficiary.account", M_EMPTY },
	{ VOU, "data.voucher.beneficiary.iban", "'x'", "data.voucher.beneficiary.iban", M_UNKNOWN },
	{ VOU, "data.voucher.signatures", "{}", "data.voucher.signatures", "must be an array" },
	{ VOU, "data.voucher.signatures[0]", "'x'", "data.voucher.signatures[0]", M_OBJ },
	{ VOU, "data.voucher.signatures[1].role", NULL, "data.voucher.signatures[1].role", M_REQ },
	{ VOU, "data.voucher.signatures[1].role", "'director'", "data.voucher.signatures[1].role",
	  "must be one of account_holder, chief_accountant" },
	{ VOU, "data.voucher.signatures[1].signer", NULL, "data.voucher.signatures[1].signer", M_REQ },
	{ VOU, "data.voucher.signatures[1].signer", "''", "data.voucher.signatures[1].signer", M_EMPTY },
	{ VOU, "data.voucher.signatures[0].certificate_serial", NULL, "data.voucher.signatures[0].certificate_serial", M_REQ },
	{ VOU, "data.voucher.signatures[1].signed_at", NULL, "data.voucher.signatures[1].signed_at", M_REQ },
	{ VOU, "data.voucher.signatures[1].signed_at", "'yesterday'", "data.voucher.signatures[1].signed_at", M_TIME },
	{ VOU, "data.voucher.signatures[1].signed_at", "'2026-11-20T09:30:00'", "data.voucher.signatures[1].signed_at", M_TIME },
	{ VOU, "data.voucher.signatures[0].seal", "true", "data.voucher.signatures[0].seal", M_UNKNOWN },
	{ VOU, "data.voucher.status", "'paid'", "data.voucher.status", M_UNKNOWN },
	{ VOU, "data.status", NULL, "data.status", M_REQ },
	{ VOU, "data.status", "'lost'", "data.status", M_STATUS },
	{ VOU, "data.status", "'Approved'", "data.status", M_STATUS },
	{ VOU, "data.previous_status", "'lost'", "data.previous_status", M_STATUS },
	{ VOU, "data.reason", "''", "data.reason", M_EMPTY },
	{ VOU, "data.reason", "1", "data.reason", M_STR },
	{ VOU, "data.amount", "1", "data.amount", M_UNKNOWN },
};

static void test_each_rule(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *t = &bad_cases[i];
		json_t *ev = J(t->base == BAL ? balance_text : voucher_text);
		char what[320];

		set_path(ev, t->path, t->value ? J(t->value) : NULL);
		snprintf(what, sizeof(what), "case %zu (%s = %s)", i, t->path, t->value ? t->value : "deleted");
		CHECK(expect_one(ev, "", t->field, t->message, what));
	}
}

/* Optional members may be absent; fields at their length limits pass. */
static void test_optional_and_limits(void)
{
	static const char *const balance_optional[] = {
		"office_code",	     "data.currency",	       "data.description",	    "data.reference",
		"data.counterparty", "data.counterparty.name", "data.counterparty.account", "data.counterparty.bank"
	};
	static const char *const voucher_optional[] = { "data.previous_status",	     "data.reason",
							"data.voucher.dossier_code", "data.voucher.currency",
							"data.voucher.beneficiary",  "data.voucher.signatures" };
	json_t *ev;

	for (size_t i = 0; i < sizeof(balance_optional) / sizeof(balance_optional[0]); i++) {
		ev = J(balance_text);
		set_path(ev, balance_optional[i], NULL);
		CHECK(expect_valid(ev, balance_optional[i]));
	}
	for (size_t i = 0; i < sizeof(voucher_optional) / sizeof(voucher_optional[0]); i++) {
		ev = J(voucher_text);
		set_path(ev, voucher_optional[i], NULL);
		CHECK(expect_valid(ev, voucher_optional[i]));
	}

	ev = J(balance_text);
	set_path(ev, "id", str_owned(repeat('a', 128)));
	set_path(ev, "data.account", str_owned(repeat('9', 32)));
	set_path(ev, "data.reference", str_owned(repeat('R', 64)));
	set_path(ev, "data.description", json_string(""));
	set_path(ev, "data.counterparty.name", str_owned(viet_text(200)));
	set_path(ev, "data.counterparty.account", str_owned(repeat('1', 64)));
	set_path(ev, "data.counterparty.bank", json_string(""));
	set_path(ev, "office_code", json_string("Z9A0"));
	set_path(ev, "data.currency", json_string("USD"));
	CHECK(expect_valid(ev, "limits balance"));

	ev = J(balance_text);
	set_path(ev, "id", str_owned(repeat('a', 129)));
	CHECK(expect_one(ev, "", "id", "must be at most 128 characters", "id 129"));
	ev = J(balance_text);
	set_path(ev, "data.counterparty.name", str_owned(viet_text(201)));
	CHECK(expect_one(ev, "", "data.counterparty.name", "must be at most 200 characters", "name 201"));
	ev = J(balance_text);
	set_path(ev, "data.counterparty.bank", str_owned(repeat('b', 201)));
	CHECK(expect_one(ev, "", "data.counterparty.bank", "must be at most 200 characters", "bank 201"));
	ev = J(balance_text);
	set_path(ev, "data.counterparty.account", str_owned(repeat('1', 65)));
	CHECK(expect_one(ev, "", "data.counterparty.account", "must be at most 64 characters", "cp account 65"));

	ev = J(voucher_text);
	set_path(ev, "data.voucher.number", str_owned(viet_text(32)));
	set_path(ev, "data.voucher.form", str_owned(repeat('F', 32)));
	set_path(ev, "data.voucher.dossier_code", str_owned(repeat('D', 64)));
	set_path(ev, "data.voucher.signatures[0].signer", str_owned(viet_text(200)));
	set_path(ev, "data.voucher.signatures[0].certificate_serial", str_owned(repeat('C', 128)));
	set_path(ev, "data.reason", str_owned(viet_text(500)));
	CHECK(expect_valid(ev, "limits voucher"));

	ev = J(voucher_text);
	set_path(ev, "data.voucher.dossier_code", str_owned(repeat('D', 65)));
	CHECK(expect_one(ev, "", "data.voucher.dossier_code", "must be at most 64 characters", "dossier 65"));
	ev = J(voucher_text);
	set_path(ev, "data.voucher.signatures[1].signer", str_owned(viet_text(201)));
	CHECK(expect_one(ev, "", "data.voucher.signatures[1].signer", "must be at most 200 characters", "signer 201"));
	ev = J(voucher_text);
	set_path(ev, "data.voucher.signatures[0].certificate_serial", str_owned(repeat('C', 129)));
	CHECK(expect_one(ev, "", "data.voucher.signatures[0].certificate_serial", "must be at most 128 characters",
			 "serial 129"));
	ev = J(voucher_text);
	set_path(ev, "data.reason", str_owned(viet_text(501)));
	CHECK(expect_one(ev, "", "data.reason", "must be at most 500 characters", "reason 501"));
}

static void test_unicode_description(void)
{
	char *s500 = viet_text(500), *s501 = viet_text(501);
	json_t *ev;

	CHECK(event_utf8_length(s500) == 500 && strlen(s500) > 500);
	CHECK(event_utf8_length(s501) == 501);
	CHECK(event_utf8_length("") == 0);
	CHECK(event_utf8_length("Kho b\u1ea1c Nh\u00e0 n\u01b0\u1edbc") == 16);
	CHECK(event_utf8_length("\xf0\x9f\x92\xb0") == 1); /* one 4-byte code point */

	ev = J(balance_text);
	set_path(ev, "data.description", json_string(s500));
	CHECK(expect_valid(ev, "description 500"));
	ev = J(balance_text);
	set_path(ev, "data.description", json_string(s501));
	CHECK(expect_one(ev, "", "data.description", "must be at most 500 characters", "description 501"));
	free(s500);
	free(s501);

	/* a NUL inside a string (possible in a jansson value) is a control character, not the end */
	ev = J(balance_text);
	set_path(ev, "data.description", json_stringn("ok\0hidden", 9));
	CHECK(expect_one(ev, "", "data.description", M_CTRL, "embedded NUL"));
	ev = J(balance_text);
	set_path(ev, "id", json_stringn("ev-1\0x", 6));
	CHECK(expect_one(ev, "", "id", M_CTRL, "NUL in id"));
	/* a key with a NUL is not the known key it starts with */
	ev = J(balance_text);
	json_object_setn_new(ev, "id\0x", 4, json_string("1"));
	CHECK(expect_one(ev, "", "id", M_UNKNOWN, "NUL in key"));
}

static void test_amounts(void)
{
	static const struct {
		enum base base;
		const char *path;
		const char *value;
	} ok_cases[] = {
		{ BAL, "data.amount", "9000000000000000" },
		{ BAL, "data.amount", "-9000000000000000" },
		{ BAL, "data.amount", "0" },
		{ BAL, "data.amount", "-1" },
		{ BAL, "data.balance_after", "-9000000000000000" },
		{ BAL, "data.balance_after", "9000000000000000" },
		{ VOU, "data.voucher.amount", "9000000000000000" },
		{ VOU, "data.voucher.amount", "0" },
	};

	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		json_t *ev = J(ok_cases[i].base == BAL ? balance_text : voucher_text);
		set_path(ev, ok_cases[i].path, J(ok_cases[i].value));
		CHECK(expect_valid(ev, ok_cases[i].value));
	}
	/* the same negative amount is fine in a balance change and refused in a voucher */
	json_t *ev = J(balance_text);
	set_path(ev, "data.amount", json_integer(-25000000));
	CHECK(expect_valid(ev, "negative balance amount"));
	ev = J(voucher_text);
	set_path(ev, "data.voucher.amount", json_integer(-25000000));
	CHECK(expect_one(ev, "", "data.voucher.amount", "must not be negative", "negative voucher amount"));
	/* out of range on the negative side is a range error, not "must not be negative" */
	ev = J(voucher_text);
	set_path(ev, "data.voucher.amount", json_integer(-9000000000000001LL));
	CHECK(expect_one(ev, "", "data.voucher.amount", M_RANGE, "voucher amount below range"));
}

static void test_reason_only_for_rejected(void)
{
	json_t *ev = J(voucher_text);

	set_path(ev, "data.status", json_string("rejected"));
	CHECK(expect_one(ev, "", "data.reason", "is required when status is rejected", "rejected without reason"));
	ev = J(voucher_text);
	set_path(ev, "data.status", json_string("rejected"));
	set_path(ev, "data.reason", json_string("Sai m\u00e3 ngu\u1ed3n"));
	CHECK(expect_valid(ev, "rejected with reason"));
	ev = J(voucher_text);
	set_path(ev, "data.status", json_string("rejected"));
	set_path(ev, "data.reason", json_string(""));
	CHECK(expect_one(ev, "", "data.reason", M_EMPTY, "rejected with empty reason"));

	static const char *const others[] = { "submitted", "received", "checking", "approved", "accounted", "paid" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ev = J(voucher_text);
		set_path(ev, "data.status", json_string(others[i]));
		set_path(ev, "data.previous_status", json_string(others[i]));
		CHECK(expect_valid(ev, others[i]));
		ev = J(voucher_text);
		set_path(ev, "data.status", json_string(others[i]));
		set_path(ev, "data.reason", json_string("ghi ch\u00fa"));
		CHECK(expect_valid(ev, others[i]));
	}
}

static void test_signatures(void)
{
	static const char *const sig = "{'role':'chief_accountant','signer':'X','certificate_serial':'1',"
				       "'signed_at':'2001-01-01T00:00:00Z'}";
	json_t *ev = J(voucher_text),
	       *sigs = json_object_get(json_object_get(json_object_get(ev, "data"), "voucher"), "signatures");

	/* signed_at has no future or age bound */
	json_array_append_new(sigs, J(sig));
	json_array_append_new(sigs, J("{'role':'account_holder','signer':'Y','certificate_serial':'2',"
				      "'signed_at':'2099-12-31T23:59:59.999999-05:30'}"));
	CHECK(json_array_size(sigs) == 4);
	json_incref(ev);
	CHECK(expect_valid(ev, "4 signatures"));
	json_array_append_new(sigs, J(sig));
	CHECK(expect_one(ev, "", "data.voucher.signatures", "must have at most 4 entries", "5 signatures"));

	/* every bad member of every signature is reported */
	ev = J(voucher_text);
	set_path(ev, "data.voucher.signatures[0].role", json_string("director"));
	set_path(ev, "data.voucher.signatures[1].signed_at", json_string("2026-11-20T09:30:00+24:00"));
	json_t *errors = json_array();
	struct event_input out;
	CHECK(!event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 2);
	CHECK(has_error(errors, "data.voucher.signatures[0].role", "must be one of account_holder, chief_accountant"));
	CHECK(has_error(errors, "data.voucher.signatures[1].signed_at", M_TIME));
	json_decref(errors);
	json_decref(ev);
}

static void test_many_errors_at_once(void)
{
	json_t *ev = J("{'id':'bad id','type':'balance.changed','occurred_at':'2026-11-21T10:15:00+07:00',"
		       "'unit_code':'12','office_code':'x','extra':1,"
		       "'data':{'account':'','amount':1.5,'balance_after':'0','currency':'dong','note':'?',"
		       "'counterparty':{'name':'\\u0007'}}}");
	json_t *errors = json_array();
	struct event_input out;

	CHECK(!event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 10);
	CHECK(has_error(errors, "id", M_ID));
	CHECK(has_error(errors, "unit_code", "must be exactly 7 digits"));
	CHECK(has_error(errors, "office_code", "must be exactly 4 characters of 0-9 and A-Z"));
	CHECK(has_error(errors, "extra", M_UNKNOWN));
	CHECK(has_error(errors, "data.account", M_EMPTY));
	CHECK(has_error(errors, "data.amount", M_DEC));
	CHECK(has_error(errors, "data.balance_after", M_INT));
	CHECK(has_error(errors, "data.currency", M_CUR));
	CHECK(has_error(errors, "data.note", M_UNKNOWN));
	CHECK(has_error(errors, "data.counterparty.name", M_CTRL));
	CHECK(has_error(errors, "occurred_at", "is older than the retention window") == false);
	json_decref(errors);
	json_decref(ev);

	/* unknown or missing type: the envelope is still checked, data only for being an object */
	ev = J("{'type':'balance.removed','occurred_at':'soon','data':{'anything':[1.5]}}");
	errors = json_array();
	CHECK(!event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 4);
	CHECK(has_error(errors, "id", M_REQ));
	CHECK(has_error(errors, "type", "unknown event type"));
	CHECK(has_error(errors, "occurred_at", M_TIME));
	CHECK(has_error(errors, "unit_code", M_REQ));
	json_decref(errors);
	json_decref(ev);

	ev = J("{'id':'1','occurred_at':'2026-11-21T03:15:00Z','unit_code':'1234567','data':7}");
	errors = json_array();
	CHECK(!event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 2);
	CHECK(has_error(errors, "type", M_REQ));
	CHECK(has_error(errors, "data", M_OBJ));
	json_decref(errors);
	json_decref(ev);

	ev = J("{}");
	errors = json_array();
	CHECK(!event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 5);
	CHECK(has_error(errors, "data", M_REQ));
	json_decref(errors);
	json_decref(ev);

	/* voucher with everything wrong inside data */
	ev = J("{'id':'v','type':'voucher.status_changed','occurred_at':'2026-11-21T03:15:00Z','unit_code':'1234567',"
	       "'data':{'status':'rejected','previous_status':5,'voucher':{'amount':-5,'kind':'gift',"
	       "'signatures':[1,{'role':'account_holder'}]}}}");
	errors = json_array();
	CHECK(!event_validate(ev, "", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 11);
	CHECK(has_error(errors, "data.reason", "is required when status is rejected"));
	CHECK(has_error(errors, "data.previous_status", M_STR));
	CHECK(has_error(errors, "data.voucher.number", M_REQ));
	CHECK(has_error(errors, "data.voucher.form", M_REQ));
	CHECK(has_error(errors, "data.voucher.account", M_REQ));
	CHECK(has_error(errors, "data.voucher.amount", "must not be negative"));
	CHECK(has_error(errors, "data.voucher.signatures[0]", M_OBJ));
	CHECK(has_error(errors, "data.voucher.signatures[1].signer", M_REQ));
	CHECK(has_error(errors, "data.voucher.signatures[1].certificate_serial", M_REQ));
	CHECK(has_error(errors, "data.voucher.signatures[1].signed_at", M_REQ));
	json_decref(errors);
	json_decref(ev);
}

static void test_rfc3339(void)
{
	static const struct {
		const char *text;
		bool ok;
		int64_t us; /* checked when ok */
	} cases[] = {
		{ "2026-11-21T03:15:00Z", true, OCCURRED_US },
		{ "2026-11-21T10:15:00+07:00", true, OCCURRED_US },
		{ "2026-11-20T21:45:00-05:30", true, OCCURRED_US },
		{ "2026-11-21t03:15:00z", true, OCCURRED_US },
		{ "2026-11-21T03:15:00.1Z", true, OCCURRED_US + 100000 },
		{ "2026-11-21T03:15:00.12Z", true, OCCURRED_US + 120000 },
		{ "2026-11-21T03:15:00.123Z", true, OCCURRED_US + 123000 },
		{ "2026-11-21T03:15:00.1234Z", true, OCCURRED_US + 123400 },
		{ "2026-11-21T03:15:00.12345Z", true, OCCURRED_US + 123450 },
		{ "2026-11-21T03:15:00.123456Z", true, OCCURRED_US + 123456 },
		{ "2026-11-21T03:15:00.1234567Z", true, OCCURRED_US + 123456 },
		{ "2026-11-21T03:15:00.12345678Z", true, OCCURRED_US + 123456 },
		{ "2026-11-21T03:15:00.999999999+00:00", true, OCCURRED_US + 999999 },
		{ "2026-11-21T03:15:00-00:00", true, OCCURRED_US },
		{ "1970-01-01T00:00:00Z", true, 0 },
		{ "1970-01-01T00:00:00.000001Z", true, 1 },
		{ "2000-02-29T12:00:00Z", true, 951825600000000LL },
		{ "2024-02-29T00:00:00Z", true, 1709164800000000LL },
		{ "2024-12-31T23:59:59Z", true, 1735689599000000LL },
		{ "9999-12-31T23:59:59Z", true, 253402300799000000LL },
		/* offsets stop at 15:59: PostgreSQL cannot store beyond that, and no real zone needs it */
		{ "2026-11-21T23:30:00+15:59", true, 1795246260000000LL },
		{ "2026-11-21T23:30:00+16:00", false, 0 },
		{ "2026-11-21T23:30:00-16:00", false, 0 },
		{ "2026-11-21T03:15:00", false, 0 },
		{ "2026-11-21T03:15:00.Z", false, 0 },
		{ "2026-11-21T03:15:00.1234567890Z", false, 0 },
		{ "2026-02-29T00:00:00Z", false, 0 },
		{ "1900-02-29T00:00:00Z", false, 0 },
		{ "2026-04-31T00:00:00Z", false, 0 },
		{ "2026-00-10T00:00:00Z", false, 0 },
		{ "2026-13-10T00:00:00Z", false, 0 },
		{ "2026-01-00T00:00:00Z", false, 0 },
		{ "2026-01-32T00:00:00Z", false, 0 },
		{ "2026-11-21T24:00:00Z", false, 0 },
		{ "2026-11-21T03:60:00Z", false, 0 },
		{ "2026-11-21T03:15:60Z", false, 0 },
		{ "2026-11-21T03:15:00+24:00", false, 0 },
		{ "2026-11-21T03:15:00+07:60", false, 0 },
		{ "2026-11-21T03:15:00+0700", false, 0 },
		{ "2026-11-21T03:15:00+07", false, 0 },
		{ "2026-11-21T03:15:00ZZ", false, 0 },
		{ "2026-11-21T03:15:00Z ", false, 0 },
		{ "2026-11-21T03:15:00+07:00x", false, 0 },
		{ " 2026-11-21T03:15:00Z", false, 0 },
		{ "2026-11-21 03:15:00Z", false, 0 },
		{ "2026-11-21_03:15:00Z", false, 0 },
		{ "", false, 0 },
		{ "2026", false, 0 },
		{ "2026-11-21", false, 0 },
		{ "2026-1-01T00:00:00Z", false, 0 },
		{ "2026-11-1T00:00:00Z", false, 0 },
		{ "2026-11-21T3:15:00Z", false, 0 },
		{ "+2026-11-21T03:15:00Z", false, 0 },
		{ "1969-12-31T23:59:59Z", false, 0 },
		{ "10000-01-01T00:00:00Z", false, 0 },
		{ "2026-11-21T03:15:00.-1Z", false, 0 },
		{ "２026-11-21T03:15:00Z", false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t us = -42;
		bool ok = event_parse_rfc3339(cases[i].text, &us);
		if (ok != cases[i].ok || (ok && us != cases[i].us) || (!ok && us != -42)) {
			fprintf(stderr, "  rfc3339 \"%s\": got %d %lld\n", cases[i].text, ok, (long long)us);
			tl_current_failed = 1;
		}
	}
	int64_t a = 0, b = 1;
	CHECK(!event_parse_rfc3339(NULL, &a));
	/* the same instant in two offsets */
	CHECK(event_parse_rfc3339("2024-03-01T06:59:59.5+07:00", &a));
	CHECK(event_parse_rfc3339("2024-02-29T18:29:59.500-05:30", &b));
	CHECK(a == b);
}

static void test_time_window(void)
{
	json_t *ev, *errors;
	struct event_input out;

	/* exactly 24 h ahead is allowed, a microsecond more is not */
	ev = J(balance_text);
	set_path(ev, "occurred_at", json_string("2026-11-22T12:00:00Z"));
	CHECK(expect_valid(ev, "24 h ahead"));
	ev = J(balance_text);
	set_path(ev, "occurred_at", json_string("2026-11-22T12:00:00.000001Z"));
	CHECK(expect_one(ev, "", "occurred_at", "is more than 24 hours in the future", "24 h + 1 us"));
	/* exactly max_age old is allowed, older is not */
	ev = J(balance_text);
	set_path(ev, "occurred_at", json_string("2026-10-22T12:00:00Z"));
	CHECK(expect_valid(ev, "max age"));
	ev = J(balance_text);
	set_path(ev, "occurred_at", json_string("2026-10-22T18:59:59.999999+07:00"));
	CHECK(expect_one(ev, "", "occurred_at", "is older than the retention window", "max age + 1 us"));
	/* max_age_us <= 0: no lower bound */
	ev = J(balance_text);
	set_path(ev, "occurred_at", json_string("1970-01-01T00:00:00Z"));
	errors = json_array();
	CHECK(event_validate(ev, "", NOW_US, 0, &out, errors));
	CHECK(out.occurred_at_us == 0);
	event_input_free(&out);
	CHECK(event_validate(ev, "", NOW_US, -1, &out, errors));
	event_input_free(&out);
	/* extreme clocks do not overflow */
	CHECK(!event_validate(ev, "", INT64_MIN, 0, &out, errors));
	CHECK(!event_validate(ev, "", INT64_MAX, DAY_US, &out, errors));
	CHECK(event_validate(ev, "", INT64_MAX, INT64_MAX, &out, errors));
	event_input_free(&out);
	CHECK(json_array_size(errors) == 2);
	json_decref(errors);
	json_decref(ev);
}

static void test_canonical(void)
{
	json_t *a = J("{'type':'balance.changed','id':'c1','unit_code':'1012345','occurred_at':'2026-11-21T03:15:00Z',"
		      "'data':{'balance_after':10,'amount':-5,'account':'A1','counterparty':{'name':'\u0110\u00f4ng',"
		      "'bank':'B'}}}");
	json_t *b = J("{'data':{'counterparty':{'bank':'B','name':'\u0110\u00f4ng'},'account':'A1','amount':-5,"
		      "'balance_after':10},'occurred_at':'2026-11-21T03:15:00Z','id':'c1','unit_code':'1012345',"
		      "'type':'balance.changed'}");
	json_t *errors = json_array();
	struct event_input ea, eb, ec;
	unsigned char h[32];

	CHECK(event_validate(a, "", NOW_US, MAX_AGE_US, &ea, errors));
	CHECK(event_validate(b, "", NOW_US, MAX_AGE_US, &eb, errors));
	CHECK(ea.canonical_len == eb.canonical_len);
	CHECK_STR(ea.canonical, eb.canonical);
	CHECK(memcmp(ea.sha256, eb.sha256, 32) == 0);
	CHECK_STR(ea.canonical, "{\"data\":{\"account\":\"A1\",\"amount\":-5,\"balance_after\":10,"
				"\"counterparty\":{\"bank\":\"B\",\"name\":\"\u0110\u00f4ng\"}},\"id\":\"c1\","
				"\"occurred_at\":\"2026-11-21T03:15:00Z\",\"type\":\"balance.changed\","
				"\"unit_code\":\"1012345\"}");
	crypto_hash_sha256(h, (const unsigned char *)ea.canonical, ea.canonical_len);
	CHECK(memcmp(ea.sha256, h, 32) == 0);

	/* one value differs: different text and hash */
	set_path(b, "data.amount", json_integer(-6));
	CHECK(event_validate(b, "", NOW_US, MAX_AGE_US, &ec, errors));
	CHECK(strcmp(ea.canonical, ec.canonical) != 0);
	CHECK(memcmp(ea.sha256, ec.sha256, 32) != 0);
	CHECK(json_array_size(errors) == 0);
	event_input_free(&ea);
	event_input_free(&eb);
	event_input_free(&ec);
	json_decref(errors);
	json_decref(a);
	json_decref(b);
}

static void test_prefix(void)
{
	json_t *ev, *errors;
	struct event_input out;

	ev = J(balance_text);
	set_path(ev, "id", json_string("a b"));
	CHECK(expect_one(ev, "events[3].", "events[3].id", M_ID, "prefixed id"));
	ev = J(voucher_text);
	set_path(ev, "data.voucher.signatures[1].signed_at", json_string("2026-11-20"));
	CHECK(expect_one(ev, "events[3].", "events[3].data.voucher.signatures[1].signed_at", M_TIME, "prefixed deep"));
	ev = J(balance_text);
	set_path(ev, "data.counterparty.name", json_integer(1));
	CHECK(expect_one(ev, "events[12].", "events[12].data.counterparty.name", M_STR, "prefixed party"));
	ev = J(balance_text);
	set_path(ev, "zzz", json_true());
	CHECK(expect_one(ev, "events[0].", "events[0].zzz", M_UNKNOWN, "prefixed unknown"));

	/* a non-object event: one error on the prefix itself */
	CHECK(expect_one(J("[1]"), "events[3].", "events[3]", M_OBJ, "array event"));
	CHECK(expect_one(J("'x'"), "", "", M_OBJ, "string event"));
	CHECK(expect_one(J("null"), NULL, "", M_OBJ, "null event"));
	CHECK(expect_one(NULL, "events[0].", "events[0]", M_OBJ, "NULL event"));

	/* errors are appended to what the array already holds */
	errors = json_pack("[{s:s,s:s}]", "field", "events[0].id", "message", "is required");
	ev = J(balance_text);
	set_path(ev, "unit_code", NULL);
	CHECK(!event_validate(ev, "events[1].", NOW_US, MAX_AGE_US, &out, errors));
	CHECK(json_array_size(errors) == 2);
	CHECK_STR(err_field(errors, 0), "events[0].id");
	CHECK_STR(err_field(errors, 1), "events[1].unit_code");
	/* and a valid event is valid whatever the array already holds */
	set_path(ev, "unit_code", json_string("7654321"));
	CHECK(event_validate(ev, "events[1].", NOW_US, MAX_AGE_US, &out, errors));
	CHECK_STR(out.unit_code, "7654321");
	CHECK(json_array_size(errors) == 2);
	event_input_free(&out);
	json_decref(errors);
	json_decref(ev);
}

int main(void)
{
	RUN(test_valid_balance);
	RUN(test_valid_voucher);
	RUN(test_each_rule);
	RUN(test_optional_and_limits);
	RUN(test_unicode_description);
	RUN(test_amounts);
	RUN(test_reason_only_for_rejected);
	RUN(test_signatures);
	RUN(test_many_errors_at_once);
	RUN(test_rfc3339);
	RUN(test_time_window);
	RUN(test_canonical);
	RUN(test_prefix);
	TEST_SUMMARY("test_event");
}
