/*
 * message.c - the header lines and body of one e-mail (see message.h).
 *
 * Nothing here writes MIME structure or transfer encodings: libcurl does
 * (mail/smtp.c). What is done here is what libcurl cannot know: that a
 * value from a row is safe as a header (no CR, LF or other control
 * character, so it cannot start another header line), RFC 2047 encoded
 * words for a Vietnamese subject (base64 by libsodium), an RFC 5322 date
 * that no locale can change, and a Message-ID from random bytes.
 */
#include "mail/message.h"
#include "core/parse.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* bytes of UTF-8 per encoded word: 45 bytes are 60 base64 characters, plus "=?UTF-8?B?" and "?=" makes 72 <= 75 */
#define WORD_BYTES 45
#define WORD_PREFIX "=?UTF-8?B?"
#define WORD_SUFFIX "?="

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool mail_addr_ok(const char *addr)
{
	const char *at;
	size_t len;

	if (!addr || (len = strlen(addr)) < 3 || len > MAIL_ADDR_MAX || !(at = strchr(addr, '@')) || at == addr ||
	    strchr(at + 1, '@'))
		return false;
	for (const char *p = addr; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]", c))
			return false;
	}
	/* the domain: labels of letters, digits and hyphens, no empty label, at least two */
	const char *d = at + 1;
	size_t label = 0, labels = 0;
	for (const char *p = d;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-' || p[-label] == '-')
				return false;
			labels++;
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!label_char(*p))
			return false;
		label++;
	}
	return labels >= 2;
}

bool mail_header_value_ok(const char *value)
{
	size_t len = value ? strlen(value) : 0;

	if (!value || !parse_utf8_valid(value, len))
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = parse_utf8_char(value + i, len - i);
		unsigned char c = (unsigned char)value[i];
		if (n == 1 && (c < 0x20 || c == 0x7f))
			return false;
		/* C1 controls, U+0080..U+009F, are C2 80..C2 9F */
		if (n == 2 && c == 0xc2 && (unsigned char)value[i + 1] < 0xa0)
			return false;
		i += n;
	}
	return true;
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

bool mail_encode_subject(const char *text, char *out, size_t cap)
{
	size_t len, used = 0;

	if (cap == 0)
		return false;
	out[0] = '\0';
	if (!mail_header_value_ok(text))
		return false;
	len = strlen(text);
	/* "=?" in plain text would be read as the start of an encoded word */
	if (printable_ascii(text) && !strstr(text, "=?")) {
		if (len + 1 > cap)
			return false;
		memcpy(out, text, len + 1);
		return true;
	}
	for (size_t i = 0; i < len;) {
		size_t take = 0;
		/* whole characters only: a word never ends inside a UTF-8 sequence */
		while (i + take < len) {
			size_t n = parse_utf8_char(text + i + take, len - i - take);
			if (take + n > WORD_BYTES)
				break;
			take += n;
		}
		char b64[sodium_base64_ENCODED_LEN(WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)text + i, take, sodium_base64_VARIANT_ORIGINAL);
		int w = snprintf(out + used, cap - used, "%s" WORD_PREFIX "%s" WORD_SUFFIX, used ? "\r\n " : "", b64);
		if (w < 0 || (size_t)w >= cap - used) {
			out[0] = '\0';
			return false;
		}
		used += (size_t)w;
		i += take;
	}
	return true;
}

/* RFC 5322 date-time in UTC, with English names whatever the locale. */
static void rfc5322_date(long long now_s, char out[64])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)now_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* body with every line end as CRLF (bare LF and bare CR both become CRLF); NULL on OOM */
static char *crlf_body(const char *body, size_t *out_len)
{
	size_t len = strlen(body), n = 0;
	char *out = malloc(2 * len + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
			continue; /* the LF that follows writes the pair */
		if (body[i] == '\n' || body[i] == '\r') {
			out[n++] = '\r';
			out[n++] = '\n';
		} else {
			out[n++] = body[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

bool mail_message_build(struct mail_message *msg, const char *from, const char *to, const char *subject, const char *body,
			long long now_s, char *err, size_t errlen)
{
	char subject_enc[sizeof(msg->h_subject) - 16];
	unsigned char rnd[16];
	char hex[33];

	memset(msg, 0, sizeof(*msg));
	if (!mail_addr_ok(from) || !mail_addr_ok(to)) {
		snprintf(err, errlen, "%s address is not a plain addr-spec", mail_addr_ok(from) ? "recipient" : "sender");
		return false;
	}
	if (!subject || strlen(subject) > MAIL_SUBJECT_MAX ||
	    !mail_encode_subject(subject, subject_enc, sizeof(subject_enc))) {
		snprintf(err, errlen, "subject is empty, too long, not UTF-8 or has a control character");
		return false;
	}
	if (!body || !body[0] || strlen(body) > MAIL_BODY_MAX || !parse_utf8_valid(body, strlen(body))) {
		snprintf(err, errlen, "body is empty, too long or not UTF-8");
		return false;
	}
	snprintf(msg->from, sizeof(msg->from), "%s", from);
	snprintf(msg->to, sizeof(msg->to), "%s", to);
	snprintf(msg->h_from, sizeof(msg->h_from), "From: <%s>", from);
	snprintf(msg->h_to, sizeof(msg->h_to), "To: <%s>", to);
	snprintf(msg->h_subject, sizeof(msg->h_subject), "Subject: %s", subject_enc);
	rfc5322_date(now_s, msg->h_date);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(msg->h_message_id, sizeof(msg->h_message_id), "Message-ID: <%s@%s>", hex, strchr(from, '@') + 1);
	if (!(msg->body = crlf_body(body, &msg->body_len))) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

void mail_message_free(struct mail_message *msg)
{
	if (msg->body) {
		sodium_memzero(msg->body, msg->body_len);
		free(msg->body);
	}
	msg->body = NULL;
	msg->body_len = 0;
}
