/*
 * roster_fields.c - normalising and checking single roster fields. See
 * roster_fields.h; the rules are those of docs/roster.md.
 */
#include "people/roster_fields.h"
#include "ingest/event.h"
#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define EMAIL_MAX_CHARS 254

/* Unicode White_Space. */
static bool is_space_cp(int32_t c)
{
	return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool is_control_cp(int32_t c)
{
	return c < 0x20 || (c >= 0x7F && c < 0xA0);
}

/* True when valid UTF-8 text s contains a control character, or white space if spaces. */
bool roster_has_control(const char *s, bool spaces)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);

	while (len > 0) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p, len, &c);
		if (k <= 0)
			return true;
		if (is_control_cp(c) || (spaces && is_space_cp(c)))
			return true;
		p += k;
		len -= k;
	}
	return false;
}

/*
 * NFC-normalise and trim len bytes of in into out (reset first). Returns 0,
 * or 1 invalid UTF-8 / NUL byte, 2 unassigned code point, 3 out of memory.
 */
int roster_normalize_into(struct buf *out, const char *in, size_t len)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)in;
	utf8proc_uint8_t *mapped = NULL;
	size_t n = len, start = 0;
	bool ascii = true;

	out->len = 0;
	if (out->data)
		out->data[0] = '\0';
	out->failed = false;
	if (len && memchr(in, '\0', len))
		return 1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] & 0x80) {
			ascii = false;
			break;
		}
	}
	/* ASCII is NFC already: skip utf8proc (and its allocation) for most fields */
	if (!ascii) {
		if (len > (size_t)PTRDIFF_MAX / 4)
			return 3;
		utf8proc_ssize_t r = utf8proc_map(s, (utf8proc_ssize_t)len, &mapped,
						  UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_REJECTNA);
		if (r < 0)
			return r == UTF8PROC_ERROR_NOTASSIGNED ? 2 : r == UTF8PROC_ERROR_NOMEM ? 3 : 1;
		s = mapped;
		n = (size_t)r;
	}
	while (start < n) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(s + start, (utf8proc_ssize_t)(n - start), &c);
		if (k <= 0 || !is_space_cp(c))
			break;
		start += (size_t)k;
	}
	while (n > start) {
		size_t b = n - 1;
		utf8proc_int32_t c;
		while (b > start && (s[b] & 0xC0) == 0x80)
			b--;
		if (utf8proc_iterate(s + b, (utf8proc_ssize_t)(n - b), &c) <= 0 || !is_space_cp(c))
			break;
		n = b;
	}
	bool ok = buf_append(out, s + start, n - start) && buf_append(out, "", 0);
	free(mapped);
	return ok ? 0 : 3;
}

char *roster_normalize(const char *in, size_t len, int *status)
{
	struct buf b;

	buf_init(&b, ROSTER_PARAM_MAX);
	*status = roster_normalize_into(&b, in, len);
	if (*status) {
		buf_free(&b);
		return NULL;
	}
	size_t n;
	char *s = buf_steal(&b, &n);
	if (!s)
		s = strdup("");
	if (!s)
		*status = 3;
	return s;
}

/* Copy at most max bytes of valid UTF-8 s into out (size max + 4), cut on a character boundary. */
const char *roster_clip(const char *s, char *out, size_t max)
{
	size_t n = strlen(s);
	bool cut = n > max;

	if (cut) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	memcpy(out + n, cut ? "..." : "", cut ? 4 : 1);
	return out;
}

bool roster_streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool roster_code_valid(const char *s, size_t len, bool digits_only)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (!digits_only && c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

bool roster_email_valid(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || strchr(at + 1, '@') || event_utf8_length(s) > EMAIL_MAX_CHARS || roster_has_control(s, true))
		return false;
	/* the domain needs a '.' that is neither its first nor its last character */
	const char *dom = at + 1;
	size_t dlen = strlen(dom);
	for (size_t i = 1; i + 1 < dlen; i++)
		if (dom[i] == '.')
			return true;
	return false;
}

bool roster_phone_valid(const char *s)
{
	size_t n;

	if (*s == '+')
		s++;
	n = strlen(s);
	return n >= 8 && n <= 15 && strspn(s, "0123456789") == n;
}

bool roster_account_valid(const char *s)
{
	static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, alnum) >= 1 &&
	       strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-") == n;
}

const char *roster_trim_ascii(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

bool roster_roles_parse(const char *s, unsigned *mask, char *err, size_t errlen)
{
	static const char *const names[3] = { "account_holder", "chief_accountant", "accountant" };
	char item[64], clipped[72];
	const char *p = s;

	*mask = 0;
	if (!*s) {
		snprintf(err, errlen, "at least one role is required");
		return false;
	}
	for (;;) {
		size_t k = strcspn(p, ";");
		if (k >= sizeof(item)) {
			char whole[1024];
			snprintf(whole, sizeof(whole), "%.*s", k < 1000 ? (int)k : 1000, p);
			snprintf(err, errlen, "unknown role '%s' (use account_holder, chief_accountant, accountant)",
				 roster_clip(whole, clipped, 40));
			return false;
		}
		memcpy(item, p, k);
		item[k] = '\0';
		const char *t = roster_trim_ascii(item);
		unsigned bit = 0;
		for (unsigned i = 0; i < 3; i++)
			if (strcmp(t, names[i]) == 0)
				bit = 1u << i;
		if (!*t) {
			snprintf(err, errlen, "empty item in the list");
			return false;
		}
		if (!bit) {
			snprintf(err, errlen, "unknown role '%s' (use account_holder, chief_accountant, accountant)",
				 roster_clip(t, clipped, 40));
			return false;
		}
		*mask |= bit;
		if (!p[k])
			return true;
		p += k + 1;
	}
}
