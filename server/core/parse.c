/*
 * parse.c - name, number and UTF-8 checks for outside input (see parse.h). No
 * strtoll: its sign, leading spaces and locale are exactly what these
 * checks exist to refuse, and 18 digits cannot overflow a long long.
 */
#include "core/parse.h"

#include <string.h>

bool parse_is_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len < 1 || len > PARSE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return false;
	}
	return true;
}

bool parse_decimal(const char *s, size_t max_digits, long long *out)
{
	long long v = 0;
	size_t n;

	if (!s || max_digits == 0 || max_digits > PARSE_ID_MAX_DIGITS)
		return false;
	n = strlen(s);
	if (n == 0 || n > max_digits || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool parse_id(const char *s, long long *out)
{
	long long v;

	if (!parse_decimal(s, PARSE_ID_MAX_DIGITS, &v) || v < 1)
		return false;
	*out = v;
	return true;
}

bool parse_unit_code(const char *s)
{
	if (!s || strlen(s) != 7)
		return false;
	for (int i = 0; i < 7; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

size_t parse_utf8_char(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp, min;
	size_t n;

	if (len == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2, cp = u[0] & 0x1fu, min = 0x80;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3, cp = u[0] & 0x0fu, min = 0x800;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4, cp = u[0] & 0x07u, min = 0x10000;
	} else {
		return 0; /* a continuation byte, 0xc0/0xc1 (always overlong) or 0xf5 and up */
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0u) != 0x80u)
			return 0;
		cp = cp << 6 | (u[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool parse_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = parse_utf8_char(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}
