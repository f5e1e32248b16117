/*
 * parse.c - name and number checks for outside input (see parse.h). No
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
