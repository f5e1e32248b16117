/*
 * event.c - validation of one ledger event (balance.changed,
 * voucher.status_changed) against the ingest schema, its canonical form and
 * SHA-256, and the strict RFC 3339 and UTF-8 helpers used for it.
 *
 * The event arrives parsed by jansson, so every string is valid UTF-8 and no
 * object has duplicate keys; what is checked here is the schema. Every bad
 * field is reported (one message per field) with its path, e.g.
 * "events[3].data.voucher.signatures[1].signed_at". Lengths are counted in
 * Unicode code points. The canonical form is the event exactly as received
 * (no defaults filled in), dumped compact with sorted keys; a valid event
 * holds only strings, integers, objects and arrays, so that text is stable.
 */
#include "ingest/event.h"
#include "http/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_SEC 1000000LL
#define FUTURE_LIMIT_US (24LL * 3600 * US_PER_SEC)
#define MAX_SIGNATURES 4

#define MSG_REQUIRED "is required"
#define MSG_STRING "must be a string"
#define MSG_OBJECT "must be an object"
#define MSG_ARRAY "must be an array"
#define MSG_INTEGER "must be an integer"
#define MSG_DECIMAL "must be an integer, not a decimal number"
#define MSG_RANGE "out of range (at most ±9000000000000000)"
#define MSG_NEGATIVE "must not be negative"
#define MSG_CONTROL "must not contain control characters"
#define MSG_EMPTY "must not be empty"
#define MSG_UNKNOWN_FIELD "unknown field"
#define MSG_UNKNOWN_TYPE "unknown event type"
#define MSG_TIME "must be an RFC 3339 date-time with an offset"
#define MSG_FUTURE "is more than 24 hours in the future"
#define MSG_TOO_OLD "is older than the retention window"
#define MSG_ID_CHARS "may only contain A-Z, a-z, 0-9, '.', '_', ':' and '-'"
#define MSG_ACCOUNT_CHARS "may only contain A-Z, a-z, 0-9, '.' and '-'"
#define MSG_UNIT_CODE "must be exactly 7 digits"
#define MSG_OFFICE_CODE "must be exactly 4 characters of 0-9 and A-Z"
#define MSG_CURRENCY "must be an ISO 4217 code of 3 upper-case letters"
#define MSG_TOO_MANY_SIGNATURES "must have at most 4 entries"
#define MSG_REASON_REQUIRED "is required when status is rejected"

static const char *const envelope_fields[] = { "id", "type", "occurred_at", "unit_code", "office_code", "data", NULL };
static const char *const balance_fields[] = { "account",     "currency",  "amount",	  "balance_after",
					      "description", "reference", "counterparty", NULL };
static const char *const party_fields[] = { "name", "account", "bank", NULL };
static const char *const voucher_data_fields[] = { "voucher", "status", "previous_status", "reason", NULL };
static const char *const voucher_fields[] = { "number",	  "dossier_code", "form",	 "kind",       "amount",
					      "currency", "account",	  "beneficiary", "signatures", NULL };
static const char *const signature_fields[] = { "role", "signer", "certificate_serial", "signed_at", NULL };

static const char *const voucher_kinds[] = {
	"budget_withdrawal", "payment_order", "cash_withdrawal", "advance", "refund", "other", NULL
};
#define MSG_KIND "must be one of budget_withdrawal, payment_order, cash_withdrawal, advance, refund, other"
static const char *const voucher_statuses[] = { "submitted", "received",  "checking", "approved",
						"rejected",  "accounted", "paid",     NULL };
#define STATUS_REJECTED 4
#define MSG_STATUS "must be one of submitted, received, checking, approved, rejected, accounted, paid"
static const char *const signer_roles[] = { "account_holder", "chief_accountant", NULL };
#define MSG_ROLE "must be one of account_holder, chief_accountant"

static const char *const type_names[] = { [EVENT_BALANCE_CHANGED] = "balance.changed", [EVENT_VOUCHER_STATUS_CHANGED] = "voucher.status_changed" };

/*
 * Validation state. path holds prefix + the path of the value being checked;
 * a key appended right after the prefix (len == base) gets no '.'. failed is
 * set when memory runs out; nothing more is reported after that.
 */
struct vctx {
	json_t *errors;
	char *path;
	size_t len, cap, base;
	size_t nerrors;
	bool failed;
};

static void path_append(struct vctx *c, const char *s, size_t n)
{
	if (c->failed)
		return;
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 128;
		while (cap < c->len + n + 1)
			cap *= 2;
		char *p = realloc(c->path, cap);
		if (!p) {
			c->failed = true;
			return;
		}
		c->path = p;
		c->cap = cap;
	}
	memcpy(c->path + c->len, s, n);
	c->len += n;
	c->path[c->len] = '\0';
}

/* Descend into member key; returns the length to restore with path_pop. */
static size_t path_key(struct vctx *c, const char *key)
{
	size_t saved = c->len;

	if (c->len > c->base)
		path_append(c, ".", 1);
	path_append(c, key, strlen(key));
	return saved;
}

static size_t path_index(struct vctx *c, size_t i)
{
	char buf[32];
	size_t saved = c->len;
	int n = snprintf(buf, sizeof(buf), "[%zu]", i);

	if (n > 0 && (size_t)n < sizeof(buf))
		path_append(c, buf, (size_t)n);
	return saved;
}

static void path_pop(struct vctx *c, size_t saved)
{
	if (saved <= c->len && c->path) {
		c->len = saved;
		c->path[saved] = '\0';
	}
}

/* Report message for member key of the current path (key NULL: the current path itself). */
static void add_error(struct vctx *c, const char *key, const char *message)
{
	size_t saved = c->len;

	c->nerrors++;
	if (key)
		path_key(c, key);
	if (!c->failed && !validate_error(c->errors, c->path, message))
		c->failed = true;
	path_pop(c, saved);
}

/* Report every member of obj not named in allowed (NULL-terminated). */
static void check_unknown(struct vctx *c, const json_t *obj, const char *const *allowed)
{
	const char *key;
	size_t key_len;
	json_t *v;

	/* key_len matters: jansson keys may hold NUL bytes, and "id\u0000x" is not "id" */
	json_object_keylen_foreach((json_t *)obj, key, key_len, v) {
		bool known = false;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strlen(allowed[i]) == key_len && memcmp(allowed[i], key, key_len) == 0;
		if (!known)
			add_error(c, key, MSG_UNKNOWN_FIELD);
	}
}

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			return true;
	}
	return false;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_upper(char ch)
{
	return ch >= 'A' && ch <= 'Z';
}

static bool is_alnum(char ch)
{
	return is_digit(ch) || is_upper(ch) || (ch >= 'a' && ch <= 'z');
}

/* True when every byte of s is an ASCII letter or digit or one of extra. */
static bool only_alnum_and(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!is_alnum(*s) && !strchr(extra, *s))
			return false;
	return true;
}

/*
 * obj[key] as a string free of control characters. Reports "is required"
 * (when required and absent), "must be a string" or the control-character
 * error and returns NULL; also NULL, silently, when optional and absent.
 * JSON null counts as present and wrong.
 */
static const char *get_string(struct vctx *c, const json_t *obj, const char *key, bool required)
{
	const json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			add_error(c, key, MSG_REQUIRED);
		return NULL;
	}
	if (!json_is_string(v)) {
		add_error(c, key, MSG_STRING);
		return NULL;
	}
	if (has_control(json_string_value(v), json_string_length(v))) {
		add_error(c, key, MSG_CONTROL);
		return NULL;
	}
	return json_string_value(v);
}

/* get_string, then a length of min..max Unicode characters. NULL after reporting. */
static const char *get_text(struct vctx *c, const json_t *obj, const char *key, bool required, size_t min, size_t max)
{
	const char *s = get_string(c, obj, key, required);
	size_t n;

	if (!s)
		return NULL;
	n = event_utf8_length(s);
	if (n < min) {
		char msg[64];
		if (min == 1)
			add_error(c, key, MSG_EMPTY);
		else {
			snprintf(msg, sizeof(msg), "must be at least %zu characters", min);
			add_error(c, key, msg);
		}
		return NULL;
	}
	if (n > max) {
		char msg[64];
		snprintf(msg, sizeof(msg), "must be at most %zu characters", max);
		add_error(c, key, msg);
		return NULL;
	}
	return s;
}

/* Index of obj[key] in choices (NULL-terminated), or -1 after reporting (or when optional and absent). */
static int get_choice(struct vctx *c, const json_t *obj, const char *key, bool required, const char *const *choices,
		      const char *message)
{
	const char *s = get_string(c, obj, key, required);

	if (!s)
		return -1;
	for (int i = 0; choices[i]; i++)
		if (strcmp(choices[i], s) == 0)
			return i;
	add_error(c, key, message);
	return -1;
}

/* obj[key] when it is an object; otherwise NULL after reporting (silently when optional and absent). */
static const json_t *get_object(struct vctx *c, const json_t *obj, const char *key, bool required)
{
	const json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			add_error(c, key, MSG_REQUIRED);
		return NULL;
	}
	if (!json_is_object(v)) {
		add_error(c, key, MSG_OBJECT);
		return NULL;
	}
	return v;
}

/* Required obj[key] as a JSON integer within ±EVENT_MAX_ABS_AMOUNT. false after reporting. */
static bool get_amount(struct vctx *c, const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (!v) {
		add_error(c, key, MSG_REQUIRED);
		return false;
	}
	if (json_is_real(v)) {
		add_error(c, key, MSG_DECIMAL);
		return false;
	}
	if (!json_is_integer(v)) {
		add_error(c, key, MSG_INTEGER);
		return false;
	}
	n = json_integer_value(v);
	if (n > EVENT_MAX_ABS_AMOUNT || n < -EVENT_MAX_ABS_AMOUNT) {
		add_error(c, key, MSG_RANGE);
		return false;
	}
	*out = (int64_t)n;
	return true;
}

static void check_account(struct vctx *c, const json_t *obj, const char *key, bool required)
{
	const char *s = get_text(c, obj, key, required, 1, 32);

	if (s && !only_alnum_and(s, ".-"))
		add_error(c, key, MSG_ACCOUNT_CHARS);
}

static void check_currency(struct vctx *c, const json_t *obj)
{
	const char *s = get_string(c, obj, "currency", false);

	if (s && !(strlen(s) == 3 && is_upper(s[0]) && is_upper(s[1]) && is_upper(s[2])))
		add_error(c, "currency", MSG_CURRENCY);
}

/* Optional RFC 3339 member; the parsed time goes to *us when valid. false when absent or bad. */
static bool get_time(struct vctx *c, const json_t *obj, const char *key, bool required, int64_t *us)
{
	const char *s = get_string(c, obj, key, required);

	if (!s)
		return false;
	if (!event_parse_rfc3339(s, us)) {
		add_error(c, key, MSG_TIME);
		return false;
	}
	return true;
}

/* counterparty / beneficiary: {name, account, bank}, all optional. */
static void check_party(struct vctx *c, const json_t *obj, const char *key)
{
	const json_t *p = get_object(c, obj, key, false);
	size_t saved;

	if (!p)
		return;
	saved = path_key(c, key);
	get_text(c, p, "name", false, 0, 200);
	get_text(c, p, "account", false, 1, 64);
	get_text(c, p, "bank", false, 0, 200);
	check_unknown(c, p, party_fields);
	path_pop(c, saved);
}

static void check_balance_data(struct vctx *c, const json_t *data)
{
	int64_t n;

	check_account(c, data, "account", true);
	check_currency(c, data);
	get_amount(c, data, "amount", &n);
	get_amount(c, data, "balance_after", &n);
	get_text(c, data, "description", false, 0, 500);
	get_text(c, data, "reference", false, 1, 64);
	check_party(c, data, "counterparty");
	check_unknown(c, data, balance_fields);
}

static void check_signature(struct vctx *c, const json_t *sig)
{
	int64_t us;

	get_choice(c, sig, "role", true, signer_roles, MSG_ROLE);
	get_text(c, sig, "signer", true, 1, 200);
	get_text(c, sig, "certificate_serial", true, 1, 128);
	get_time(c, sig, "signed_at", true, &us);
	check_unknown(c, sig, signature_fields);
}

static void check_signatures(struct vctx *c, const json_t *voucher)
{
	const json_t *sigs = json_object_get(voucher, "signatures");
	const json_t *sig;
	size_t saved, i;

	if (!sigs)
		return;
	saved = path_key(c, "signatures");
	if (!json_is_array(sigs)) {
		add_error(c, NULL, MSG_ARRAY);
	} else {
		if (json_array_size(sigs) > MAX_SIGNATURES)
			add_error(c, NULL, MSG_TOO_MANY_SIGNATURES);
		json_array_foreach(sigs, i, sig) {
			size_t at = path_index(c, i);
			if (json_is_object(sig))
				check_signature(c, sig);
			else
				add_error(c, NULL, MSG_OBJECT);
			path_pop(c, at);
		}
	}
	path_pop(c, saved);
}

static void check_voucher(struct vctx *c, const json_t *v)
{
	int64_t amount;

	get_text(c, v, "number", true, 1, 32);
	get_text(c, v, "dossier_code", false, 1, 64);
	get_text(c, v, "form", true, 1, 32);
	get_choice(c, v, "kind", true, voucher_kinds, MSG_KIND);
	if (get_amount(c, v, "amount", &amount) && amount < 0)
		add_error(c, "amount", MSG_NEGATIVE);
	check_currency(c, v);
	check_account(c, v, "account", true);
	check_party(c, v, "beneficiary");
	check_signatures(c, v);
	check_unknown(c, v, voucher_fields);
}

static void check_voucher_data(struct vctx *c, const json_t *data)
{
	const json_t *voucher = get_object(c, data, "voucher", true);
	int status;

	if (voucher) {
		size_t saved = path_key(c, "voucher");
		check_voucher(c, voucher);
		path_pop(c, saved);
	}
	status = get_choice(c, data, "status", true, voucher_statuses, MSG_STATUS);
	get_choice(c, data, "previous_status", false, voucher_statuses, MSG_STATUS);
	if (status == STATUS_REJECTED && !json_object_get(data, "reason"))
		add_error(c, "reason", MSG_REASON_REQUIRED);
	else
		get_text(c, data, "reason", false, 1, 500);
	check_unknown(c, data, voucher_data_fields);
}

/* a - b > limit, without overflow. */
static bool exceeds(int64_t a, int64_t b, int64_t limit)
{
	int64_t d;

	if (__builtin_sub_overflow(a, b, &d))
		return a > b;
	return d > limit;
}

bool event_validate(const json_t *ev, const char *prefix, int64_t now_us, int64_t max_age_us, struct event_input *out,
		    json_t *errors)
{
	struct vctx c = { .errors = errors };
	struct event_input e;
	const char *id, *occurred, *unit, *office, *type_s;
	const json_t *data;
	int64_t occurred_us = 0;
	int type = -1;
	bool ok = false;

	memset(&e, 0, sizeof(e));
	if (!json_is_array(errors))
		return false;
	if (!prefix)
		prefix = "";
	if (!json_is_object(ev)) {
		size_t n = strlen(prefix);
		if (n > 0 && prefix[n - 1] == '.')
			n--;
		path_append(&c, prefix, n);
		add_error(&c, NULL, MSG_OBJECT);
		goto fail;
	}
	path_append(&c, prefix, strlen(prefix));
	c.base = c.len;

	id = get_text(&c, ev, "id", true, 1, 128);
	if (id && !only_alnum_and(id, "._:-")) {
		add_error(&c, "id", MSG_ID_CHARS);
		id = NULL;
	}

	type_s = get_string(&c, ev, "type", true);
	if (type_s) {
		for (int i = 0; i < (int)(sizeof(type_names) / sizeof(type_names[0])); i++)
			if (strcmp(type_s, type_names[i]) == 0)
				type = i;
		if (type < 0)
			add_error(&c, "type", MSG_UNKNOWN_TYPE);
	}

	occurred = get_string(&c, ev, "occurred_at", true);
	if (occurred) {
		if (!event_parse_rfc3339(occurred, &occurred_us))
			add_error(&c, "occurred_at", MSG_TIME);
		else if (exceeds(occurred_us, now_us, FUTURE_LIMIT_US))
			add_error(&c, "occurred_at", MSG_FUTURE);
		else if (max_age_us > 0 && exceeds(now_us, occurred_us, max_age_us))
			add_error(&c, "occurred_at", MSG_TOO_OLD);
	}

	unit = get_string(&c, ev, "unit_code", true);
	if (unit && !(strlen(unit) == 7 && strspn(unit, "0123456789") == 7))
		add_error(&c, "unit_code", MSG_UNIT_CODE);

	office = get_string(&c, ev, "office_code", false);
	if (office && !(strlen(office) == 4 && strspn(office, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 4))
		add_error(&c, "office_code", MSG_OFFICE_CODE);

	data = get_object(&c, ev, "data", true);
	if (data && type >= 0) {
		size_t saved = path_key(&c, "data");
		if (type == EVENT_BALANCE_CHANGED)
			check_balance_data(&c, data);
		else
			check_voucher_data(&c, data);
		path_pop(&c, saved);
	}

	check_unknown(&c, ev, envelope_fields);

	if (c.failed || c.nerrors > 0)
		goto fail;

	/* Valid: every length below was checked above (id is ASCII, at most 128 bytes; the time at most 35). */
	snprintf(e.id, sizeof(e.id), "%s", id);
	e.type = (enum event_type)type;
	e.type_name = type_names[type];
	e.occurred_at_us = occurred_us;
	snprintf(e.occurred_at, sizeof(e.occurred_at), "%s", occurred);
	snprintf(e.unit_code, sizeof(e.unit_code), "%s", unit);
	snprintf(e.office_code, sizeof(e.office_code), "%s", office ? office : "");
	e.canonical = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	if (!e.canonical)
		goto fail;
	e.canonical_len = strlen(e.canonical);
	crypto_hash_sha256(e.sha256, (const unsigned char *)e.canonical, e.canonical_len);
	*out = e;
	ok = true;
fail:
	free(c.path);
	return ok;
}

void event_input_free(struct event_input *e)
{
	if (!e)
		return;
	free(e->canonical);
	memset(e, 0, sizeof(*e));
}

size_t event_utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* n decimal digits at s into *out; stops at the first non-digit, so never reads past a NUL. */
static bool fixed_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), for y >= 1. */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = y / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

bool event_parse_rfc3339(const char *s, int64_t *us)
{
	int year, month, day, hour, minute, second, off_h = 0, off_m = 0, sign = 0;
	int64_t frac = 0, secs;
	const char *p;

	if (!s)
		return false;
	/* each check runs only when the previous ones matched, so no read goes past the NUL */
	if (!fixed_digits(s, 4, &year) || s[4] != '-' || !fixed_digits(s + 5, 2, &month) || s[7] != '-' ||
	    !fixed_digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') || !fixed_digits(s + 11, 2, &hour) ||
	    s[13] != ':' || !fixed_digits(s + 14, 2, &minute) || s[16] != ':' || !fixed_digits(s + 17, 2, &second))
		return false;
	p = s + 19;
	if (*p == '.') {
		int n = 0;
		p++;
		while (is_digit(p[n])) {
			if (n == 9)
				return false;
			if (n < 6)
				frac = frac * 10 + (p[n] - '0');
			n++;
		}
		if (n == 0)
			return false;
		for (int i = n; i < 6; i++)
			frac *= 10;
		p += n;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!fixed_digits(p + 1, 2, &off_h) || p[3] != ':' || !fixed_digits(p + 4, 2, &off_m))
			return false;
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
	    minute > 59 || second > 59 || off_h > 15 || off_m > 59)
		return false;
	secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
	       (int64_t)sign * (off_h * 3600 + off_m * 60);
	*us = secs * US_PER_SEC + frac;
	return true;
}
