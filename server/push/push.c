/*
 * push.c - the HTTP/2 transport the push providers share (see push.h): one
 * libcurl multi handle per dispatcher thread, multiplexing requests as
 * streams over long-lived TLS connections; requests start and finish one by
 * one, so a slow answer holds back only itself.
 */
#include "push/push.h"
#include "core/config.h"
#include "core/log.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_STREAMS_PER_CONNECTION 1000 /* our side; the server's SETTINGS also bound it */
#define MAX_RETRY_AFTER_SECONDS 86400

struct push_client {
	CURLM *multi;
	const struct config *cfg;
	size_t in_flight;
	/* every easy handle made, running or idle; idle ones are reused (both arrays have room for all) */
	CURL **handles, **idle;
	size_t n_handles, idle_len, cap;
};

static const char *const reason_names[PUSH_R__COUNT] = {
	[PUSH_R_OK] = "ok",
	[PUSH_R_UNREGISTERED] = "unregistered",
	[PUSH_R_EXPIRED_TOKEN] = "expired_token",
	[PUSH_R_BAD_TOKEN] = "bad_token",
	[PUSH_R_QUOTA] = "quota",
	[PUSH_R_UNAVAILABLE] = "unavailable",
	[PUSH_R_INTERNAL] = "internal",
	[PUSH_R_SENDER_ID_MISMATCH] = "sender_id_mismatch",
	[PUSH_R_THIRD_PARTY_AUTH_ERROR] = "third_party_auth_error",
	[PUSH_R_AUTH] = "auth",
	[PUSH_R_CREDENTIALS] = "credentials",
	[PUSH_R_REJECTED] = "rejected",
	[PUSH_R_TRANSPORT] = "transport",
	[PUSH_R_TIMEOUT] = "timeout",
	[PUSH_R_BAD_RESPONSE] = "bad_response",
	[PUSH_R_DEVICE_NOT_ACTIVE] = "device_not_active",
	[PUSH_R_NO_TOKEN] = "no_token",
	[PUSH_R_TOO_OLD] = "too_old",
};

const char *push_reason_name(enum push_reason r)
{
	return (unsigned)r < PUSH_R__COUNT ? reason_names[r] : "unknown";
}

const char *push_provider_name(enum push_provider p)
{
	return p == PUSH_FCM ? "fcm" : p == PUSH_APNS ? "apns" : "unknown";
}

bool push_global_init(void)
{
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	if (!v || !(v->features & CURL_VERSION_HTTP2)) {
		log_error("push: this libcurl has no HTTP/2 support (FCM and APNs need it)");
		return false;
	}
	return true;
}

void push_request_clear(struct push_request *r)
{
	free(r->url);
	free(r->body);
	free(r->response);
	curl_slist_free_all(r->headers);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

long long push_parse_retry_after(const char *value, long long now)
{
	char *end;

	while (*value == ' ' || *value == '\t')
		value++;
	if (*value == '\0')
		return -1;
	if (isdigit((unsigned char)*value)) {
		errno = 0;
		long long s = strtoll(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (errno || *end)
			return -1;
		return s > MAX_RETRY_AFTER_SECONDS ? MAX_RETRY_AFTER_SECONDS : s;
	}
	time_t at = curl_getdate(value, NULL);
	if (at < 0)
		return -1;
	long long s = (long long)at - now;
	return s < 0 ? 0 : s > MAX_RETRY_AFTER_SECONDS ? MAX_RETRY_AFTER_SECONDS : s;
}

/* Response body, cut at PUSH_MAX_RESPONSE_BYTES: a provider never sends more, a broken one must not exhaust us. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct push_request *r = userp;
	size_t n = size * nmemb, keep = n;

	if (r->response_len + keep > PUSH_MAX_RESPONSE_BYTES)
		keep = PUSH_MAX_RESPONSE_BYTES - r->response_len;
	if (keep > 0) {
		char *grown = realloc(r->response, r->response_len + keep + 1);
		if (!grown)
			return 0; /* aborts the transfer: counted as a transport failure */
		r->response = grown;
		memcpy(r->response + r->response_len, data, keep);
		r->response_len += keep;
		r->response[r->response_len] = '\0';
	}
	return n;
}

/* Copy a header's value (trimmed) when its name matches. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	const char *v = line + nl + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t n = (size_t)(end - v);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct push_request *r = userp;
	size_t n = size * nmemb;
	char value[128];

	if (header_value(data, n, "apns-id", r->apns_id, sizeof(r->apns_id)))
		return n;
	if (header_value(data, n, "retry-after", value, sizeof(value)))
		r->retry_after = push_parse_retry_after(value, (long long)time(NULL));
	return n;
}

struct push_client *push_client_new(const struct config *cfg)
{
	struct push_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = cfg;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg->push_connections_per_host);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)MAX_STREAMS_PER_CONNECTION);
	return c;
}

void push_client_free(struct push_client *c)
{
	if (!c)
		return;
	/* transfers still running are abandoned: their requests belong to the caller */
	for (size_t i = 0; i < c->n_handles; i++) {
		curl_multi_remove_handle(c->multi, c->handles[i]); /* a no-op for an idle one */
		curl_easy_cleanup(c->handles[i]);
	}
	free(c->handles);
	free(c->idle);
	curl_multi_cleanup(c->multi);
	free(c);
}

/* A new easy handle with the options every push request shares; NULL when out of memory. */
static CURL *easy_new(struct push_client *c)
{
	const struct config *cfg = c->cfg;

	if (c->n_handles == c->cap) {
		size_t cap = c->cap * 2 + 16;
		CURL **handles = realloc(c->handles, cap * sizeof(*handles));
		if (!handles)
			return NULL;
		c->handles = handles;
		CURL **idle = realloc(c->idle, cap * sizeof(*idle));
		if (!idle)
			return NULL;
		c->idle = idle;
		c->cap = cap;
	}
	CURL *e = curl_easy_init();
	if (!e)
		return NULL;
	c->handles[c->n_handles++] = e;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); /* wait for a connection to multiplex on, rather than open more */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->push_request_timeout_seconds * 1000L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->push_request_timeout_seconds * 1000L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	if (cfg->push_ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->push_ca_file);
	return e;
}

bool push_client_start(struct push_client *c, struct push_request *r)
{
	CURL *e = c->idle_len > 0 ? c->idle[--c->idle_len] : easy_new(c);

	r->status = 0;
	r->curl_code = CURLE_FAILED_INIT;
	r->curl_error[0] = '\0';
	r->retry_after = -1;
	if (!e) {
		snprintf(r->curl_error, sizeof(r->curl_error), "could not start the transfer (out of memory)");
		return false;
	}
	/* every per-request option is set again: a reused handle keeps the last request's */
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		c->idle[c->idle_len++] = e;
		snprintf(r->curl_error, sizeof(r->curl_error), "could not start the transfer");
		return false;
	}
	c->in_flight++;
	return true;
}

bool push_client_wait(struct push_client *c, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms)
{
	int running = 0;
	CURLMcode mc = curl_multi_perform(c->multi, &running);

	if (mc == CURLM_OK)
		mc = curl_multi_poll(c->multi, extra, n_extra, timeout_ms, NULL);
	if (mc == CURLM_OK)
		mc = curl_multi_perform(c->multi, &running);
	if (mc != CURLM_OK) {
		log_error("push: curl multi: %s", curl_multi_strerror(mc));
		return false;
	}
	return true;
}

/* Keep a finished handle for the next request: no new handle, and its caches stay warm. */
static void keep_idle(struct push_client *c, CURL *e)
{
	/* the request it pointed at is the caller's again */
	curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
	c->idle[c->idle_len++] = e;
}

struct push_request *push_client_done(struct push_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *e = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct push_request *r = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
		if (r) {
			r->curl_code = (int)result;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
			curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &r->http_version);
			if (r->curl_code != CURLE_OK && !r->curl_error[0])
				snprintf(r->curl_error, sizeof(r->curl_error), "%s", curl_easy_strerror(result));
		}
		curl_multi_remove_handle(c->multi, e);
		c->in_flight--;
		keep_idle(c, e);
		if (r)
			return r;
	}
	return NULL;
}

size_t push_client_in_flight(const struct push_client *c)
{
	return c->in_flight;
}

void push_outcome_set(struct push_outcome *o, enum push_verdict v, enum push_reason reason, const char *provider,
		      long status, const char *code)
{
	o->verdict = v;
	o->reason = reason;
	snprintf(o->detail, sizeof(o->detail), "%s %ld %s", provider, status, code ? code : "");
}

bool push_outcome_transport(const struct push_request *r, const char *provider, struct push_outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->retry_after = -1;
	if (r->curl_code == CURLE_OK && r->status >= 100) {
		if (!r->require_h2 || r->http_version == CURL_HTTP_VERSION_2_0)
			return false;
		o->verdict = PUSH_RETRY;
		o->reason = PUSH_R_TRANSPORT;
		snprintf(o->detail, sizeof(o->detail), "%s: the answer was not HTTP/2", provider);
		return true;
	}
	/*
	 * A timeout may come after the provider acted: retried later, at worst a
	 * duplicate. Everything else here (refused stream, GOAWAY for a stream
	 * the server did not process, a dropped connection, TLS) is sent again
	 * at once, within the batch. Never counted as delivered.
	 */
	o->verdict = r->curl_code == CURLE_OPERATION_TIMEDOUT ? PUSH_RETRY : PUSH_RESEND;
	o->reason = r->curl_code == CURLE_OPERATION_TIMEDOUT ? PUSH_R_TIMEOUT : PUSH_R_TRANSPORT;
	snprintf(o->detail, sizeof(o->detail), "%s: %.150s", provider,
		 r->curl_error[0] ? r->curl_error : "transfer did not complete");
	return true;
}
