/*
 * message.h - one e-mail as libcurl sends it: the RFC 5322 header lines
 * (From, To, Subject as RFC 2047 encoded words, Date, Message-ID,
 * Auto-Submitted) and the plain-text body in CRLF form. libcurl's MIME API
 * writes the MIME structure and the body's transfer encoding (mail/smtp.c);
 * this module checks what goes into the headers, so that nothing from a
 * row (an address, a subject) can add a header line (header injection).
 */
#ifndef ALERTD_MAIL_MESSAGE_H
#define ALERTD_MAIL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321: an address is at most 254 octets; a header line at most 998. */
#define MAIL_ADDR_MAX 254
#define MAIL_SUBJECT_MAX 800 /* bytes of UTF-8 (the row allows 200 characters) */
#define MAIL_BODY_MAX 40000
/* one encoded word, "=?UTF-8?B?...?=", is at most 75 characters (RFC 2047 section 2) */
#define MAIL_ENCODED_WORD_MAX 75

/*
 * True when addr is a plain ASCII addr-spec this service sends to or from:
 * local@domain, at most MAIL_ADDR_MAX bytes, no space, control character,
 * quote, angle bracket, comma, semicolon, parenthesis, bracket or
 * backslash, a domain of dot-separated labels of letters, digits and
 * hyphens with at least one dot.
 */
bool mail_addr_ok(const char *addr);

/*
 * True when value may stand in a header: valid UTF-8 with no control
 * character (CR, LF, TAB, DEL, C1 included).
 */
bool mail_header_value_ok(const char *value);

/*
 * The Subject value for text into out (capacity cap): text itself when it
 * is printable ASCII, else RFC 2047 encoded words ("=?UTF-8?B?...?="), each
 * at most MAIL_ENCODED_WORD_MAX characters and cut only between UTF-8
 * characters, separated by CRLF SP (folding). False (out empty) when text
 * fails mail_header_value_ok or out is too small.
 */
bool mail_encode_subject(const char *text, char *out, size_t cap) __attribute__((warn_unused_result));

struct mail_message {
	char from[MAIL_ADDR_MAX + 1];
	char to[MAIL_ADDR_MAX + 1];
	/* complete header lines, "Name: value", no CRLF: libcurl adds it */
	char h_from[MAIL_ADDR_MAX + 16];
	char h_to[MAIL_ADDR_MAX + 16];
	char h_subject[4 * MAIL_SUBJECT_MAX + 16];
	char h_date[64];
	char h_message_id[MAIL_ADDR_MAX + 80];
	/* the body with every line ending CRLF; malloc'd, freed by mail_message_free */
	char *body;
	size_t body_len;
};

/*
 * Build msg from the sender from, the recipient to, subject and body (UTF-8;
 * "\n" or "\r\n" line ends), dated now_s (seconds since the epoch). False
 * with the reason in err when an address fails mail_addr_ok, the subject
 * or the body is not valid UTF-8, the subject has a control character, or
 * memory runs out; msg then holds nothing to free. On success the caller
 * frees msg with mail_message_free.
 */
bool mail_message_build(struct mail_message *msg, const char *from, const char *to, const char *subject, const char *body,
			long long now_s, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Free what msg holds (the body is wiped first: it may carry an activation code). */
void mail_message_free(struct mail_message *msg);

#endif
