/*
 * rules.c - the treasury's risk rules on one voucher status change or
 * balance change. Each rule is a small pure predicate; rules_voucher and
 * rules_balance return the bitmask of those that fire. The caller loads the
 * thresholds (risk.* config, the unit's large-amount override) and the
 * history facts, and turns each fired rule into a risk alert.
 *
 * Times are UTC microseconds; "local" means Asia/Ho_Chi_Minh, UTC+7 all year
 * (Vietnam has no DST), computed here without the process TZ. Signer names
 * and certificate serials are compared case-insensitively (Unicode simple
 * lower case, so "TRẦN" equals "trần"), ignoring leading and trailing
 * whitespace and treating any run of inner whitespace as one space.
 */
#include "alerts/rules.h"
#include "core/clock.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#define US_PER_SEC 1000000LL
#define SECONDS_PER_DAY 86400LL
#define MAX_SIGNATURES 4

static const char *const names[RULE__COUNT] = {
	[RULE_SIGNATURE_GAP] = "signature_gap",
	[RULE_SAME_CERTIFICATE] = "same_certificate",
	[RULE_CASH_WITHDRAWAL] = "cash_withdrawal",
	[RULE_LARGE_AMOUNT] = "large_amount",
	[RULE_OFF_HOURS] = "off_hours",
	[RULE_REJECTED] = "rejected",
	[RULE_NEW_BENEFICIARY] = "new_beneficiary",
	[RULE_RAPID_REPEAT] = "rapid_repeat",
};

const char *rules_name(enum rule_id r)
{
	return (unsigned)r < RULE__COUNT ? names[r] : NULL;
}

bool rules_from_name(const char *name, enum rule_id *out)
{
	if (!name)
		return false;
	for (unsigned i = 0; i < RULE__COUNT; i++)
		if (strcmp(names[i], name) == 0) {
			*out = (enum rule_id)i;
			return true;
		}
	return false;
}

void rules_config_default(struct rules_config *c)
{
	c->signature_gap_seconds = RULES_DEFAULT_SIGNATURE_GAP_SECONDS;
	c->large_amount_threshold = RULES_DEFAULT_LARGE_AMOUNT_THRESHOLD;
	c->repeat_window_minutes = RULES_DEFAULT_REPEAT_WINDOW_MINUTES;
	c->day_start_hour = RULES_DEFAULT_DAY_START_HOUR;
	c->day_end_hour = RULES_DEFAULT_DAY_END_HOUR;
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/*
 * Reads a string as a stream of lower-cased code points with whitespace
 * trimmed at both ends and each inner run given as one ' '.
 */
struct folded {
	const utf8proc_uint8_t *p;
	utf8proc_ssize_t left;
	utf8proc_int32_t held; /* a code point read past a whitespace run, or -1 */
	bool started;
};

static bool is_space(utf8proc_int32_t cp)
{
	return cp == ' ' || cp == '\t' || utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

/* The next code point, or -1 at the end. */
static utf8proc_int32_t folded_next(struct folded *f)
{
	utf8proc_int32_t cp;
	bool space = false;

	if (f->held >= 0) {
		cp = f->held;
		f->held = -1;
		return cp;
	}
	while (f->left > 0) {
		utf8proc_ssize_t k = utf8proc_iterate(f->p, f->left, &cp);
		if (k <= 0) { /* not UTF-8: compare the byte as itself */
			cp = 0xDC00 + *f->p;
			k = 1;
		}
		f->p += k;
		f->left -= k;
		if (is_space(cp)) {
			space = true;
			continue;
		}
		cp = utf8proc_tolower(cp);
		if (space && f->started) {
			f->held = cp;
			return ' ';
		}
		f->started = true;
		return cp;
	}
	return -1;
}

/* a and b name the same thing (case and surrounding spaces ignored); never true for NULL or blank text. */
static bool same_text(const char *a, const char *b)
{
	struct folded fa = { (const utf8proc_uint8_t *)a, 0, -1, false };
	struct folded fb = { (const utf8proc_uint8_t *)b, 0, -1, false };
	utf8proc_int32_t ca, cb;
	bool any = false;

	if (!a || !b)
		return false;
	fa.left = (utf8proc_ssize_t)strlen(a);
	fb.left = (utf8proc_ssize_t)strlen(b);
	do {
		ca = folded_next(&fa);
		cb = folded_next(&fb);
		if (ca != cb)
			return false;
		any = any || ca >= 0;
	} while (ca >= 0);
	return any;
}

/* |a - b| < limit_us, without overflow. */
static bool within(int64_t a, int64_t b, int64_t limit_us)
{
	uint64_t d = a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;

	return limit_us > 0 && d < (uint64_t)limit_us;
}

static int clamp_signatures(const struct rules_voucher *v)
{
	return v->nsignatures < 0 ? 0 : v->nsignatures > MAX_SIGNATURES ? MAX_SIGNATURES : v->nsignatures;
}

/* Whether some (account_holder, chief_accountant) pair of v's signatures satisfies pred. */
static bool any_pair(const struct rules_voucher *v, const struct rules_config *c,
		     bool (*pred)(const struct rules_signature *, const struct rules_signature *, const struct rules_config *))
{
	int n = clamp_signatures(v);

	for (int i = 0; i < n; i++) {
		if (!eq(v->signatures[i].role, "account_holder"))
			continue;
		for (int j = 0; j < n; j++)
			if (eq(v->signatures[j].role, "chief_accountant") && pred(&v->signatures[i], &v->signatures[j], c))
				return true;
	}
	return false;
}

static bool gap_too_short(const struct rules_signature *a, const struct rules_signature *b, const struct rules_config *c)
{
	return within(a->signed_at_us, b->signed_at_us, (int64_t)c->signature_gap_seconds * US_PER_SEC);
}

static bool same_identity(const struct rules_signature *a, const struct rules_signature *b, const struct rules_config *c)
{
	(void)c;
	return same_text(a->certificate_serial, b->certificate_serial) || same_text(a->signer, b->signer);
}

bool rules_off_hours(int64_t us, const struct rules_config *c)
{
	struct rules_config defaults;
	int64_t secs = us / US_PER_SEC, local, day, second_of_day;
	int weekday; /* 0 = Sunday */

	if (!c) {
		rules_config_default(&defaults);
		c = &defaults;
	}
	if (us % US_PER_SEC < 0)
		secs--;
	local = secs + CLOCK_VN_OFFSET_SECONDS;
	day = local / SECONDS_PER_DAY;
	if (local % SECONDS_PER_DAY < 0)
		day--;
	second_of_day = local - day * SECONDS_PER_DAY;
	weekday = (int)(((day + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	return weekday == 0 || weekday == 6 || second_of_day < (int64_t)c->day_start_hour * 3600 ||
	       second_of_day >= (int64_t)c->day_end_hour * 3600;
}

static bool off_hours(const struct rules_voucher *v, const struct rules_config *c)
{
	int n = clamp_signatures(v);

	for (int i = 0; i < n; i++)
		if (rules_off_hours(v->signatures[i].signed_at_us, c))
			return true;
	return eq(v->status, "submitted") && rules_off_hours(v->occurred_at_us, c);
}

static bool large(long long amount, const struct rules_config *c)
{
	return c->large_amount_threshold > 0 && amount >= c->large_amount_threshold;
}

static bool cash_withdrawal(const struct rules_voucher *v)
{
	bool cash = eq(v->kind, "cash_withdrawal") || (v->form && strcasecmp(v->form, "C4-09/KB") == 0);

	return cash && (eq(v->status, "submitted") || eq(v->status, "approved") || eq(v->status, "paid"));
}

unsigned rules_voucher(const struct rules_voucher *v, const struct rules_history *h, const struct rules_config *c)
{
	struct rules_config defaults;
	bool submitted, beneficiary;
	unsigned fired = 0;

	if (!v)
		return 0;
	if (!c) {
		rules_config_default(&defaults);
		c = &defaults;
	}
	submitted = eq(v->status, "submitted");
	beneficiary = v->beneficiary_account && v->beneficiary_account[0];
	if (any_pair(v, c, gap_too_short))
		fired |= 1u << RULE_SIGNATURE_GAP;
	if (any_pair(v, c, same_identity))
		fired |= 1u << RULE_SAME_CERTIFICATE;
	if (cash_withdrawal(v))
		fired |= 1u << RULE_CASH_WITHDRAWAL;
	if (large(v->amount, c))
		fired |= 1u << RULE_LARGE_AMOUNT;
	if (off_hours(v, c))
		fired |= 1u << RULE_OFF_HOURS;
	if (eq(v->status, "rejected"))
		fired |= 1u << RULE_REJECTED;
	if (h && submitted && beneficiary && !h->beneficiary_paid_before)
		fired |= 1u << RULE_NEW_BENEFICIARY;
	if (h && submitted && beneficiary && h->same_amount_recently)
		fired |= 1u << RULE_RAPID_REPEAT;
	return fired;
}

unsigned rules_balance(long long amount, const struct rules_config *c)
{
	struct rules_config defaults;
	unsigned long long outflow;

	if (!c) {
		rules_config_default(&defaults);
		c = &defaults;
	}
	if (amount >= 0 || c->large_amount_threshold <= 0)
		return 0;
	outflow = 0ULL - (unsigned long long)amount; /* INT64_MIN included */
	return outflow >= (unsigned long long)c->large_amount_threshold ? 1u << RULE_LARGE_AMOUNT : 0;
}
