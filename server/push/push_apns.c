/*
 * push_apns.c - APNs provider API requests and the verdict on Apple's
 * answers (see push_apns.h), after Apple's "Handling notification responses
 * from APNs" table.
 */
#include "push/push_apns.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APNS_TOKEN_MAX_HEX 200
#define APNS_COLLAPSE_ID_MAX 64

bool push_apns_token_ok(const char *token)
{
	size_t n = 0;

	if (!token)
		return false;
	for (const char *p = token; *p; p++, n++) {
		char c = *p;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return n > 0 && n % 2 == 0 && n <= APNS_TOKEN_MAX_HEX;
}

static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return false;
	*list = l;
	return true;
}

static json_t *payload(const struct push_msg *m)
{
	json_t *aps = json_pack("{s:{s:s,s:s},s:s,s:s}", "alert", "title", m->title, "body", m->body, "sound", "default",
				"thread-id", m->privacy ? "kbnn" : m->thread_id);

	if (!aps)
		return NULL;
	/* risk alerts break through Focus and scheduled summaries */
	if (m->risk && json_object_set_new(aps, "interruption-level", json_string("time-sensitive"))) {
		json_decref(aps);
		return NULL;
	}
	return m->privacy ? json_pack("{s:o,s:s}", "aps", aps, "alert_id", m->alert_id)
			  : json_pack("{s:o,s:s,s:s}", "aps", aps, "alert_id", m->alert_id, "kind", m->kind);
}

bool push_apns_request(const struct push_msg *m, const char *endpoint, const char *topic, const char *provider_token,
		       struct push_request *out)
{
	json_t *body = NULL;
	char line[2300];
	size_t n;

	if (!push_apns_token_ok(m->token))
		goto fail;
	body = payload(m);
	if (!body || !(out->body = json_dumps(body, JSON_COMPACT)))
		goto fail;
	out->body_len = strlen(out->body);
	if (out->body_len > PUSH_MAX_PAYLOAD_BYTES)
		goto fail;
	n = strlen(endpoint) + strlen(m->token) + sizeof("/3/device/");
	if (!(out->url = malloc(n)))
		goto fail;
	snprintf(out->url, n, "%s/3/device/%s", endpoint, m->token);
	out->require_h2 = true;
	snprintf(line, sizeof(line), "authorization: bearer %s", provider_token);
	bool ok = add_header(&out->headers, line);
	memset(line, 0, sizeof(line));
	snprintf(line, sizeof(line), "apns-topic: %s", topic);
	ok = ok && add_header(&out->headers, line) && add_header(&out->headers, "apns-push-type: alert") &&
	     add_header(&out->headers, m->risk || m->high_priority ? "apns-priority: 10" : "apns-priority: 5") &&
	     add_header(&out->headers, "content-type: application/json");
	snprintf(line, sizeof(line), "apns-expiration: %lld", m->expires_at > 0 ? m->expires_at : 0);
	ok = ok && add_header(&out->headers, line);
	if (m->collapse_key && strlen(m->collapse_key) <= APNS_COLLAPSE_ID_MAX) {
		snprintf(line, sizeof(line), "apns-collapse-id: %s", m->collapse_key);
		ok = ok && add_header(&out->headers, line);
	}
	if (!ok)
		goto fail;
	json_decref(body);
	return true;
fail:
	json_decref(body);
	push_request_clear(out);
	return false;
}

static bool is(const char *reason, const char *name)
{
	return reason && strcmp(reason, name) == 0;
}

void push_apns_classify(const struct push_request *r, struct push_outcome *o)
{
	json_t *doc;
	long s = r->status;

	if (push_outcome_transport(r, "apns", o))
		return;
	if (s == 200) {
		if (r->apns_id[0] && strlen(r->apns_id) < sizeof(o->message_id)) {
			push_outcome_set(o, PUSH_SENT, PUSH_R_OK, "apns", s, NULL);
			snprintf(o->message_id, sizeof(o->message_id), "%s", r->apns_id);
		} else {
			push_outcome_set(o, PUSH_RETRY, PUSH_R_BAD_RESPONSE, "apns", s, "no apns-id");
		}
		return;
	}
	doc = r->response ? json_loadb(r->response, r->response_len, 0, NULL) : NULL;
	const char *reason = json_string_value(json_object_get(doc, "reason"));
	o->retry_after = r->retry_after;

	if (s == 410 && is(reason, "ExpiredToken"))
		push_outcome_set(o, PUSH_RETIRE, PUSH_R_EXPIRED_TOKEN, "apns", s, reason);
	else if (s == 410)
		push_outcome_set(o, PUSH_RETIRE, PUSH_R_UNREGISTERED, "apns", s, reason ? reason : "Unregistered");
	else if (s == 400 && is(reason, "BadDeviceToken"))
		push_outcome_set(o, PUSH_RETIRE, PUSH_R_BAD_TOKEN, "apns", s, reason);
	else if (s == 403 && is(reason, "ExpiredProviderToken")) {
		push_outcome_set(o, PUSH_RESEND, PUSH_R_AUTH, "apns", s, reason);
		o->stale_credentials = true;
	} else if (s == 403 && (is(reason, "InvalidProviderToken") || is(reason, "MissingProviderToken"))) {
		/* our key, key id or team id is wrong: the messages are fine, the operator must act */
		push_outcome_set(o, PUSH_RETRY, PUSH_R_AUTH, "apns", s, reason);
		o->alarm = true;
	} else if (s == 429 && is(reason, "TooManyProviderTokenUpdates"))
		push_outcome_set(o, PUSH_RETRY, PUSH_R_AUTH, "apns", s, reason);
	else if (s == 429)
		push_outcome_set(o, PUSH_RETRY, PUSH_R_QUOTA, "apns", s, reason);
	else if (s == 503)
		push_outcome_set(o, PUSH_RETRY, PUSH_R_UNAVAILABLE, "apns", s, reason);
	else if (s >= 500)
		push_outcome_set(o, PUSH_RETRY, PUSH_R_INTERNAL, "apns", s, reason);
	else if (s >= 400)
		push_outcome_set(o, PUSH_FAILED, PUSH_R_REJECTED, "apns", s, reason);
	else
		push_outcome_set(o, PUSH_RETRY, PUSH_R_BAD_RESPONSE, "apns", s, reason);
	json_decref(doc);
}
