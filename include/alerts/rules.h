/*
 * rules.h - the treasury's fraud signals (risk rules) evaluated on one
 * voucher status change or balance change. Pure functions: no I/O, no
 * globals, no allocation; whatever history a rule needs is queried by the
 * caller and passed in.
 */
#ifndef ALERTD_RULES_H
#define ALERTD_RULES_H

#include <stdbool.h>
#include <stdint.h>

enum rule_id {
	RULE_SIGNATURE_GAP,
	RULE_SAME_CERTIFICATE,
	RULE_CASH_WITHDRAWAL,
	RULE_LARGE_AMOUNT,
	RULE_OFF_HOURS,
	RULE_REJECTED,
	RULE_NEW_BENEFICIARY,
	RULE_RAPID_REPEAT,
	RULE__COUNT
};

/* "signature_gap" ... "rapid_repeat" (the alerts.risk_rule value); NULL when r is out of range. */
const char *rules_name(enum rule_id r);

/* The rule named name (as rules_name gives it) in *out; false, *out untouched, when unknown or NULL. */
bool rules_from_name(const char *name, enum rule_id *out) __attribute__((warn_unused_result));

struct rules_signature {
	const char *role; /* account_holder | chief_accountant */
	const char *signer;
	const char *certificate_serial;
	int64_t signed_at_us; /* UTC microseconds (offsets already applied) */
};

struct rules_voucher {
	const char *kind, *form, *status;
	long long amount;
	int64_t occurred_at_us;		 /* the event's occurred_at (status change time), UTC us */
	int64_t submitted_at_us;	 /* occurred_at when status == submitted, else 0 */
	const char *beneficiary_account; /* may be NULL */
	int nsignatures;		 /* entries used in signatures[]; clamped to 0..4 */
	struct rules_signature signatures[4];
};

struct rules_history {		      /* queried by the caller, in the same transaction */
	bool beneficiary_paid_before; /* the unit already has an earlier voucher to this beneficiary account */
	bool same_amount_recently; /* same amount to the same beneficiary within repeat_window, another voucher number */
};

#define RULES_DEFAULT_SIGNATURE_GAP_SECONDS 10
#define RULES_DEFAULT_LARGE_AMOUNT_THRESHOLD 500000000LL /* VND */
#define RULES_DEFAULT_REPEAT_WINDOW_MINUTES 10
#define RULES_DEFAULT_DAY_START_HOUR 7
#define RULES_DEFAULT_DAY_END_HOUR 19

struct rules_config {
	int signature_gap_seconds;	  /* default 10; <= 0 disables signature_gap */
	long long large_amount_threshold; /* default 500000000 VND; the unit's override when set; <= 0 disables */
	int repeat_window_minutes;	  /* default 10 (used by the caller's history query) */
	int day_start_hour, day_end_hour; /* 7 and 19: outside [07:00, 19:00) local time or Sat/Sun = off hours */
};

/* Fill c with the defaults above. */
void rules_config_default(struct rules_config *c);

/*
 * Bitmask of (1u << rule_id) for every rule that fires for this voucher
 * event (see docs/alerts.md for each rule). h NULL: no history known, so
 * new_beneficiary and rapid_repeat do not fire. c NULL: the defaults. v NULL: 0.
 */
unsigned rules_voucher(const struct rules_voucher *v, const struct rules_history *h, const struct rules_config *c);

/*
 * For a balance change: only large_amount can fire, for an outflow
 * (amount < 0) whose absolute value >= threshold. c NULL: the defaults.
 */
unsigned rules_balance(long long amount, const struct rules_config *c);

/*
 * True when the instant us (UTC microseconds) is off hours in
 * Asia/Ho_Chi_Minh (UTC+7): before day_start_hour:00, at or after
 * day_end_hour:00, or on a Saturday or Sunday local time. c NULL: defaults.
 */
bool rules_off_hours(int64_t us, const struct rules_config *c);

#endif
