/*
 * smtp.c - one message through libcurl's SMTP (see smtp.h).
 *
 * One easy handle per message: mail is a trickle beside push, and a fresh
 * handle carries nothing from the previous recipient's transfer. libcurl
 * writes the MIME structure (CURLOPT_MIMEPOST: one text/plain part in
 * UTF-8, base64) and the SMTP dialogue; the header lines come from
 * mail/message.c, checked there.
 */
#include "mail/smtp.h"
#include "core/config.h"
#include "core/fileio.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD_MAX 1024
#define CONNECT_TIMEOUT_MAX 10L

const char *mail_reason_name(enum mail_reason r)
{
	static const char *const names[MAIL_REASON__COUNT] = {
		[MAIL_REASON_NONE] = "none",
		[MAIL_REASON_CONNECT] = "connect",
		[MAIL_REASON_TLS] = "tls",
		[MAIL_REASON_AUTH] = "auth",
		[MAIL_REASON_TIMEOUT] = "timeout",
		[MAIL_REASON_TEMPORARY] = "temporary",
		[MAIL_REASON_PERMANENT] = "permanent",
		[MAIL_REASON_INVALID] = "invalid",
		[MAIL_REASON_ATTEMPTS] = "attempts",
	};
	return (unsigned)r < MAIL_REASON__COUNT ? names[r] : "unknown";
}

void mail_smtp_free(struct mail_smtp *s)
{
	if (s->password) {
		sodium_memzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->url);
	free(s->from);
	free(s->username);
	free(s->ca_file);
	memset(s, 0, sizeof(*s));
}

bool mail_smtp_init(struct mail_smtp *s, const struct config *cfg, char *err, size_t errlen)
{
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	if (strncmp(cfg->smtp_url, "smtp://", 7) != 0 && strncmp(cfg->smtp_url, "smtps://", 8) != 0) {
		snprintf(err, errlen, "smtp.url must start with smtp:// (STARTTLS is then required) or smtps://");
		return false;
	}
	if (!mail_addr_ok(cfg->smtp_from)) {
		snprintf(err, errlen, "smtp.from must be a plain address (local@domain)");
		return false;
	}
	if (cfg->smtp_username[0] && !cfg->smtp_password_file[0]) {
		snprintf(err, errlen, "smtp.username is set but smtp.password_file is not");
		return false;
	}
	if (cfg->smtp_password_file[0]) {
		char *pw = fileio_read_private(cfg->smtp_password_file, PASSWORD_MAX, &len, err, errlen);
		if (!pw)
			return false;
		while (len > 0 && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
			pw[--len] = '\0';
		if (len == 0 || strlen(pw) != len) {
			sodium_memzero(pw, len);
			free(pw);
			snprintf(err, errlen, "%s: the password is empty or holds a NUL byte", cfg->smtp_password_file);
			return false;
		}
		s->password = pw;
	}
	s->url = strdup(cfg->smtp_url);
	s->from = strdup(cfg->smtp_from);
	s->username = strdup(cfg->smtp_username);
	s->ca_file = strdup(cfg->smtp_ca_file);
	s->timeout_seconds = (long)cfg->smtp_timeout_seconds;
	if (!s->url || !s->from || !s->username || !s->ca_file) {
		mail_smtp_free(s);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

/* The outcome of a finished transfer: its libcurl code and the SMTP reply code it ended on. */
static void classify(CURLcode rc, long code, struct mail_send_outcome *out)
{
	out->smtp_code = code;
	if (rc == CURLE_OK) {
		out->result = MAIL_SEND_OK;
		out->reason = MAIL_REASON_NONE;
		return;
	}
	out->result = MAIL_SEND_RETRY;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		out->reason = MAIL_REASON_TIMEOUT;
		return;
	case CURLE_LOGIN_DENIED:
		/* our credentials, not the message: retried until an operator fixes them */
		out->reason = MAIL_REASON_AUTH;
		return;
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
		out->reason = MAIL_REASON_TLS;
		return;
	default:
		break;
	}
	/* a refusal of MAIL FROM, RCPT TO or DATA ends the transfer with the server's reply code */
	if (code >= 500 && code < 600) {
		out->result = MAIL_SEND_PERMANENT;
		out->reason = MAIL_REASON_PERMANENT;
	} else if (code >= 400 && code < 500) {
		out->reason = MAIL_REASON_TEMPORARY;
	} else {
		out->reason = MAIL_REASON_CONNECT;
	}
}

void mail_smtp_send(const struct mail_smtp *s, const struct mail_message *msg, struct mail_send_outcome *out)
{
	char errbuf[CURL_ERROR_SIZE] = "", envelope_from[MAIL_ADDR_MAX + 3], envelope_to[MAIL_ADDR_MAX + 3];
	struct curl_slist *rcpt = NULL, *headers = NULL, *h;
	curl_mime *mime = NULL;
	CURL *curl = curl_easy_init();
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	long code = 0;

	memset(out, 0, sizeof(*out));
	if (!curl)
		goto done;
	snprintf(envelope_from, sizeof(envelope_from), "<%s>", msg->from);
	snprintf(envelope_to, sizeof(envelope_to), "<%s>", msg->to);
	rcpt = curl_slist_append(NULL, envelope_to);
	const char *lines[] = {
		msg->h_date, msg->h_from, msg->h_to, msg->h_subject, msg->h_message_id, "MIME-Version: 1.0", "Auto-Submitted: auto-generated"
	};
	for (size_t i = 0; rcpt && i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!(h = curl_slist_append(headers, lines[i])))
			goto done;
		headers = h;
	}
	curl_mimepart *part;
	if (!rcpt || !headers || !(mime = curl_mime_init(curl)) || !(part = curl_mime_addpart(mime)) ||
	    curl_mime_data(part, msg->body, msg->body_len) != CURLE_OK ||
	    curl_mime_type(part, "text/plain; charset=UTF-8") != CURLE_OK || curl_mime_encoder(part, "base64") != CURLE_OK)
		goto done;
	long connect_timeout = s->timeout_seconds < CONNECT_TIMEOUT_MAX ? s->timeout_seconds : CONNECT_TIMEOUT_MAX;
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, s->timeout_seconds);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect_timeout);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_URL, s->url);
	/* smtp:// must upgrade with STARTTLS or fail: never AUTH or a body in clear text */
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (s->ca_file[0])
		curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
	if (s->username[0]) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, s->username);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, s->password);
	}
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envelope_from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
done:
	classify(rc, code, out);
	if (rc != CURLE_OK)
		/* precisions that fit out->error: the message is cut, never the code */
		snprintf(out->error, sizeof(out->error), "%.60s%s%.160s (smtp %ld)", curl_easy_strerror(rc),
			 errbuf[0] ? ": " : "", errbuf, code);
	curl_mime_free(mime);
	curl_slist_free_all(headers);
	curl_slist_free_all(rcpt);
	if (curl)
		curl_easy_cleanup(curl);
}
