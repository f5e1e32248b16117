/*
 * alertfmt.h - what an alert says: money, time, account and text formatting,
 * the vi/en message catalogue, and rendering an event (plain, risk or
 * privacy-mode) into a push title and body. Pure: no database, no I/O, no
 * allocation, no dependence on the process locale or TZ.
 */
#ifndef ALERTD_ALERTFMT_H
#define ALERTD_ALERTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum alert_lang { ALERT_LANG_VI, ALERT_LANG_EN };

/* "en" is ALERT_LANG_EN; anything else (including NULL) is ALERT_LANG_VI, the default language. */
enum alert_lang alertfmt_lang(const char *code);

/*
 * Money: "-1.500.000 VND" (vi: '.' thousands), "-1,500,000 VND" (en: ','),
 * "0 VND"; positive amounts carry no sign. currency is printed as given
 * ("VND" when NULL or empty). The full long long range, INT64_MIN included.
 * Returns false if out is too small (out then holds "" when outlen > 0).
 */
bool alertfmt_amount(long long amount, const char *currency, enum alert_lang lang, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/*
 * Local time in Asia/Ho_Chi_Minh (UTC+7 all year; Vietnam has no DST),
 * "HH:MM DD/MM/YYYY", e.g. "10:15 21/11/2026", from microseconds since the
 * epoch (UTC); negative values round down to the second. Independent of the
 * process TZ. out should be >= 20 bytes; when the text does not fit (or the
 * year is beyond what struct tm holds) out holds "" (when outlen > 0).
 */
void alertfmt_time(int64_t us, char *out, size_t outlen);

/*
 * Masked account: "…2345" - U+2026 then the last 4 characters (code
 * points); accounts of 4 or fewer characters are shown whole. NULL is "".
 * The caller prefixes "TK ". When out is too small it holds "" (outlen > 0).
 */
void alertfmt_account(const char *account, char *out, size_t outlen);

/*
 * Cut a valid UTF-8 string in place to at most max_bytes bytes, never inside
 * a code point nor inside a grapheme cluster (a base letter keeps its
 * combining accents); when cut, trailing spaces before the cut are dropped
 * and "…" (3 bytes) is appended within the limit. With max_bytes < 3 there is
 * no room for "…" and the text is only cut. Returns the new length.
 */
size_t alertfmt_truncate(char *s, size_t max_bytes);

/*
 * The message catalogue: one static table in alertfmt.c, one row per id with
 * a vi and an en text. Ids:
 *   balance.changed.{title,body,body_desc}
 *   voucher.status_changed.{title,body,body_reason}
 *   voucher.status.{submitted,received,checking,approved,rejected,accounted,paid}
 *   voucher.kind.{budget_withdrawal,payment_order,cash_withdrawal,advance,refund,other}
 *   risk.<rule>.{title,explanation} for every rules_name(), and risk.body
 *   privacy.{title,body,body_risk}
 *   security.new_device.{title,body}
 * Templates use the placeholders {account} {amount} {time} {balance} {desc}
 * {number} {kind} {status} {reason} {rule} {event} {device}.
 * Returns the static text, or NULL for an unknown id (or NULL id).
 */
const char *alertfmt_message(const char *id, enum alert_lang lang);

/* Number of catalogue rows, and the id of row i (NULL when i >= count): lets tests walk the whole table. */
size_t alertfmt_message_count(void);
const char *alertfmt_message_id(size_t i);

/* One placeholder value for alertfmt_fill: name without braces ("amount"), value inserted verbatim. */
struct alertfmt_var {
	const char *name;
	const char *value;
};

/*
 * Render template tmpl into out, replacing each "{name}" by the value of the
 * var of that name (NULL value: ""). Values are not scanned again, so text
 * from an event can never inject a placeholder. Returns false (out then holds
 * "" when outlen > 0) on a placeholder not in vars, an unterminated "{", a
 * NULL tmpl, or when the result does not fit in outlen bytes.
 */
bool alertfmt_fill(const char *tmpl, const struct alertfmt_var *vars, size_t nvars, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/*
 * What an alert says about one event. Borrowed pointers; nothing is kept.
 * amount and currency are the balance change for balance.changed and the
 * voucher's amount and currency for voucher.status_changed.
 */
struct alertfmt_event {
	const char *type; /* "balance.changed" | "voucher.status_changed" */
	int64_t occurred_at_us;
	/* balance.changed */
	const char *account;
	const char *currency; /* may be NULL: VND; voucher: the voucher's currency */
	long long amount;     /* balance: signed change, shown with '+' when > 0; voucher: the voucher's amount */
	long long balance_after;
	const char *description; /* may be NULL or "": no "ND:"/"Note:" part */
	/* voucher.status_changed */
	const char *voucher_number;
	const char *voucher_kind; /* budget_withdrawal ... other; NULL: other */
	const char *voucher_form; /* e.g. C4-09/KB; not shown */
	const char *status;	  /* submitted ... paid */
	const char *reason;	  /* shown for rejected only; may be NULL */
};

#define ALERTFMT_TITLE_MAX 200 /* bytes, incl. NUL */
#define ALERTFMT_BODY_MAX 1000 /* bytes, incl. NUL; the push payload must stay < 4096 bytes overall */

/*
 * Render title and body for ev in lang. risk_rule NULL for an information
 * alert; else the rule id ("signature_gap" ...): the title becomes the rule's
 * risk title and the body is the rule's explanation, a space, then the event
 * line (template risk.body). privacy: generic title/body only (no amounts,
 * accounts, numbers or names; privacy.body_risk for a risk alert). Long
 * descriptions/reasons are cut with alertfmt_truncate so the body fits.
 * Returns false only on a programming error (NULL ev/type, unknown type,
 * status, kind or rule, a broken template); title and body are then "".
 */
bool alertfmt_render(const struct alertfmt_event *ev, const char *risk_rule, enum alert_lang lang, bool privacy,
		     char title[ALERTFMT_TITLE_MAX], char body[ALERTFMT_BODY_MAX]) __attribute__((warn_unused_result));

/*
 * The security.new_device alert: the user's account was activated on device
 * (a label such as "iPhone 15", cut to fit; NULL: "") at at_us. privacy as
 * for alertfmt_render. Returns false only on a programming error (title and
 * body then "").
 */
bool alertfmt_render_new_device(const char *device, int64_t at_us, enum alert_lang lang, bool privacy,
				char title[ALERTFMT_TITLE_MAX], char body[ALERTFMT_BODY_MAX])
	__attribute__((warn_unused_result));

#endif
