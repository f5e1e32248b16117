/*
 * roster_fields.h - one roster field at a time: NFC normalisation and
 * trimming (utf8proc), the checks that mirror the schema's CHECKs (codes,
 * email, phone, account), role lists, and the small text helpers the
 * import's messages use. Nothing here keeps state; only
 * roster_normalize() allocates.
 */
#ifndef ALERTD_ROSTER_FIELDS_H
#define ALERTD_ROSTER_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* Cap on any one buffer of an import: a normalised field, a list, an array parameter. */
#define ROSTER_PARAM_MAX ((size_t)1 << 30)

/* Role bits of a mask (roster_roles_parse). */
#define ROSTER_ROLE_HOLDER 1u
#define ROSTER_ROLE_CHIEF 2u
#define ROSTER_ROLE_ACCOUNTANT 4u

/*
 * Normalise len bytes of in to NFC and trim surrounding Unicode white space.
 * Returns the new NUL-terminated string (caller frees) or NULL with *status:
 * 1 invalid UTF-8 (or a NUL byte), 2 an unassigned code point, 3 out of memory.
 */
char *roster_normalize(const char *in, size_t len, int *status);

/*
 * The same into out (reset first; the caller keeps owning and frees it), for
 * a buffer reused field after field. Returns 0, or the status above (out then
 * holds no value).
 */
int roster_normalize_into(struct buf *out, const char *in, size_t len);

/*
 * Field checks, exposed for the unit tests. Each takes a NUL-terminated,
 * already normalised (NFC, trimmed) value and mirrors the schema's CHECK.
 */
bool roster_email_valid(const char *s);	  /* local@domain.tld, no space/control, <= 254 chars */
bool roster_phone_valid(const char *s);	  /* ^\+?[0-9]{8,15}$ */
bool roster_account_valid(const char *s); /* ^[0-9A-Za-z][0-9A-Za-z.-]{0,31}$ */

/* s is exactly len characters of 0-9 (and A-Z unless digits_only). */
bool roster_code_valid(const char *s, size_t len, bool digits_only);

/*
 * Parse a ';'-separated role list into a mask (1 account_holder,
 * 2 chief_accountant, 4 accountant; duplicates collapse). Returns false with
 * a reason in err on an empty list, an empty item or an unknown role.
 */
bool roster_roles_parse(const char *s, unsigned *mask, char *err, size_t errlen) __attribute__((warn_unused_result));

/* True when valid UTF-8 text s contains a control character, or white space if spaces. */
bool roster_has_control(const char *s, bool spaces);

/* Strip ASCII spaces and tabs in place: returns the start within s, the end cut with a NUL. */
const char *roster_trim_ascii(char *s);

/*
 * Copy at most max bytes of valid UTF-8 s into out (size max + 4), cut on a
 * character boundary and marked "..." when cut; returns out.
 */
const char *roster_clip(const char *s, char *out, size_t max);

/* Equal strings, or both NULL (an empty optional field, SQL NULL). */
bool roster_streq(const char *a, const char *b);

#endif
