/*
 * smtp.h - sending one message through libcurl's SMTP: STARTTLS required
 * (smtp://) or implicit TLS (smtps://), certificates verified, AUTH with a
 * user name and the password read from smtp.password_file, a timeout on
 * every transfer. No SMTP is written by hand; the SMTP reply code decides
 * whether a failure is permanent (5xx) or worth a retry (4xx, connection,
 * TLS, timeout).
 */
#ifndef ALERTD_MAIL_SMTP_H
#define ALERTD_MAIL_SMTP_H

#include "mail/message.h"

#include <stdbool.h>
#include <stddef.h>

struct config;

/* What a send attempt came to, and its reason class (metrics, last_error). */
enum mail_send_result { MAIL_SEND_OK, MAIL_SEND_RETRY, MAIL_SEND_PERMANENT };
enum mail_reason {
	MAIL_REASON_NONE,
	MAIL_REASON_CONNECT,   /* no connection, or it broke */
	MAIL_REASON_TLS,       /* STARTTLS refused, handshake or certificate failed */
	MAIL_REASON_AUTH,      /* the server refused our credentials (a configuration fault: retried) */
	MAIL_REASON_TIMEOUT,   /* smtp.timeout_seconds passed */
	MAIL_REASON_TEMPORARY, /* a 4xx reply */
	MAIL_REASON_PERMANENT, /* a 5xx reply to MAIL FROM, RCPT TO or DATA */
	MAIL_REASON_INVALID,   /* the row cannot become a message (bad address, subject, sealed body) */
	MAIL_REASON_ATTEMPTS,  /* mail.max_attempts reached */
	MAIL_REASON__COUNT
};

/* The reason's stable name: "connect", "tls", ... */
const char *mail_reason_name(enum mail_reason r);

/* The SMTP client settings, copied from [smtp] at start; the password is wiped by mail_smtp_free. */
struct mail_smtp {
	char *url;
	char *from;
	char *username; /* "" = no AUTH */
	char *password;
	char *ca_file; /* "" = the system's CAs */
	long timeout_seconds;
};

/*
 * Fill s from cfg's [smtp] options, reading the password from
 * smtp.password_file (mode 0600, at most 1 KiB, one trailing newline
 * dropped). False with err (never the password) when the URL is not
 * smtp:// or smtps://, smtp.from is not an address, the file cannot be
 * read, or memory runs out; s then holds nothing. On success free s with
 * mail_smtp_free.
 */
bool mail_smtp_init(struct mail_smtp *s, const struct config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

void mail_smtp_free(struct mail_smtp *s);

struct mail_send_outcome {
	enum mail_send_result result;
	enum mail_reason reason;
	long smtp_code;	 /* the last SMTP reply code libcurl saw, 0 when none */
	char error[256]; /* for last_error: libcurl's message and the code; never a secret */
};

/* Send msg through s; the outcome is always filled (there is no other failure). */
void mail_smtp_send(const struct mail_smtp *s, const struct mail_message *msg, struct mail_send_outcome *out);

#endif
