/*
 * parse.h - the small text checks alertd applies to names and numbers that
 * come from outside: operator-chosen names (ingest sources, admin keys),
 * decimal ids and timestamps in paths, queries and headers, and whether
 * text is well-formed UTF-8.
 */
#ifndef ALERTD_PARSE_H
#define ALERTD_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define PARSE_NAME_MAX 63
#define PARSE_ID_MAX_DIGITS 18

/*
 * An operator-chosen name: 1 to PARSE_NAME_MAX characters of [a-z0-9_-],
 * starting with a letter or digit. Names go into URLs, logs and audit rows,
 * so nothing that needs quoting or escaping is allowed.
 */
bool parse_is_name(const char *name);

/*
 * A plain decimal number of 1 to max_digits digits (max_digits at most 18):
 * no sign, no spaces, no leading zero except "0" itself. False, leaving
 * *out alone, for anything else, NULL included.
 */
bool parse_decimal(const char *s, size_t max_digits, long long *out) __attribute__((warn_unused_result));

/* A database id: parse_decimal with at most PARSE_ID_MAX_DIGITS digits, and at least 1. */
bool parse_id(const char *s, long long *out) __attribute__((warn_unused_result));

/*
 * The length (1 to 4) of the one well-formed UTF-8 character at s, which has
 * len bytes left; 0 when s does not start one (RFC 3629: no overlong form,
 * no surrogate, nothing above U+10FFFF, no sequence cut short) or len is 0.
 */
size_t parse_utf8_char(const char *s, size_t len);

/* True when s is a budget unit's code (mã ĐVQHNS): exactly 7 ASCII digits. NULL is false. */
bool parse_unit_code(const char *s);

/* True when s[0..len) is well-formed UTF-8 throughout (NUL bytes included: they are characters). */
bool parse_utf8_valid(const char *s, size_t len);

#endif
