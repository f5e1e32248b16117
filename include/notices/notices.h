/*
 * notices.h - what a security notice may say and when it may be sent,
 * as pure functions (no database): the length caps and the characters
 * refused, the link allow-list (notices.allowed_link_domains), the
 * compiled-in templates, and the notices.holidays list. The SQL of
 * notices lives in notices/notices_store.h, the delivery thread in
 * notices/notices_worker.h. See docs/staff.md "Security notices".
 */
#ifndef ALERTD_NOTICES_H
#define ALERTD_NOTICES_H

#include <stdbool.h>
#include <stddef.h>

/* Caps in Unicode characters (the alerts table holds titles of 200 and bodies of 4000). */
#define NOTICES_TITLE_MAX 200
#define NOTICES_BODY_MAX 4000
/* The most unit codes one notice targets. */
#define NOTICES_UNITS_MAX 1000
/* The longest notices.allowed_link_domains / notices.holidays entry list handled. */
#define NOTICES_DOMAINS_MAX 32
#define NOTICES_HOLIDAYS_MAX 128

struct notice_template {
	const char *id;
	const char *title_vi, *body_vi, *title_en, *body_en;
};

/* The compiled-in templates; *n gets their number. */
const struct notice_template *notices_templates(size_t *n);

/* The template called id, or NULL. */
const struct notice_template *notices_template(const char *id);

/*
 * Check one text of a notice (len bytes of UTF-8): 1 to max characters,
 * no control character (a newline is allowed when multiline), no
 * invisible format character (zero-width, bidirectional controls: they
 * hide what a link really says), no private-use or unassigned character,
 * and every link allowed by domains (notices_link_allowed). False with a
 * message in msg (msglen bytes) naming the first problem, the link
 * included.
 */
bool notices_text_ok(const char *s, size_t len, size_t max, bool multiline, const char *domains, char *msg, size_t msglen);

/*
 * Is host (lower case, no port) equal to or a subdomain of an entry of
 * domains (comma-separated, as notices.allowed_link_domains)?
 */
bool notices_host_allowed(const char *host, const char *domains);

/*
 * True when list (notices.allowed_link_domains) is well formed: 1 to
 * NOTICES_DOMAINS_MAX comma-separated lower-case domain names of two labels or more.
 */
bool notices_domains_valid(const char *list);

/*
 * The holidays (notices.holidays: comma-separated YYYY-MM-DD, maybe empty)
 * as a PostgreSQL array literal "{2026-01-01,...}" in out. False when an
 * entry is not a date or out is too small.
 */
bool notices_holidays_array(const char *list, char *out, size_t outlen);

#endif
