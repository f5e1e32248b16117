/*
 * event.h - validation of one signed ledger event (balance.changed,
 * voucher.status_changed) already parsed by jansson, its canonical form and
 * content hash, and the strict RFC 3339 and UTF-8 helpers it relies on.
 */
#ifndef ALERTD_EVENT_H
#define ALERTD_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum event_type { EVENT_BALANCE_CHANGED, EVENT_VOUCHER_STATUS_CHANGED };

#define EVENT_MAX_ABS_AMOUNT 9000000000000000LL /* 9e15 */

struct event_input {
	char id[129];
	enum event_type type;
	const char *type_name;	/* static string: "balance.changed" or "voucher.status_changed" */
	int64_t occurred_at_us; /* microseconds since the Unix epoch, UTC */
	char occurred_at[64];	/* the RFC 3339 text as sent */
	char unit_code[8];
	char office_code[5]; /* "" when absent */
	char *canonical;     /* malloc'd: the whole event object re-serialised compact with sorted keys */
	size_t canonical_len;
	unsigned char sha256[32]; /* SHA-256 of canonical (use libsodium crypto_hash_sha256) */
};

/*
 * Validate one event object. Every problem found is appended to `errors` (a
 * jansson array) as {"field": prefix + path, "message": text}; ALL bad fields
 * are reported, not just the first. prefix is prepended to field paths (e.g.
 * "" or "events[3]."; NULL means ""). Returns true when valid, and only then
 * fills *out (caller frees with event_input_free); on false *out is left
 * untouched. now_us is the current time; occurred_at must not be more than
 * 24 h after now_us, and when max_age_us > 0 not more than max_age_us before
 * now_us.
 *
 * Also returns false when memory runs out; errors may then be incomplete, and
 * false with an empty errors array means exactly that (an internal error, not
 * a bad event).
 */
bool event_validate(const json_t *ev, const char *prefix, int64_t now_us, int64_t max_age_us, struct event_input *out,
		    json_t *errors);

/* Free what event_validate allocated in e and clear it. NULL and an already freed or zeroed e are fine. */
void event_input_free(struct event_input *e);

/*
 * Strict RFC 3339 date-time with a mandatory offset:
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|z|+hh:mm|-hh:mm), 'T' may be 't'. Fraction
 * 1-9 digits (microseconds kept, the rest truncated). Ranges are checked:
 * years 1970-9999, month 1-12, day within the month (leap years included),
 * hour 0-23, minute 0-59, second 0-59 (a leap second 60 is refused), offset
 * hours 0-23 and minutes 0-59. On success stores UTC microseconds since the
 * epoch in *us and returns true; anything else (trailing text, missing
 * offset, spaces, NULL) returns false and leaves *us untouched.
 */
bool event_parse_rfc3339(const char *s, int64_t *us);

/* Number of Unicode code points in a valid UTF-8 string (for length limits in characters). */
size_t event_utf8_length(const char *s);

#endif
