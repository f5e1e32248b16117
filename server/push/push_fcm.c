/*
 * push_fcm.c - FCM HTTP v1 requests and the verdict on their answers (see
 * push_fcm.h). Error handling follows Google's table for
 * projects.messages.send: the errorCode in error.details decides, the HTTP
 * status is the fallback.
 */
#include "push/push_fcm.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_DEFAULT_WAIT 60 /* seconds, when a 429 has no Retry-After */

static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return false;
	*list = l;
	return true;
}

/* The "notification" and "data" parts: the 4 KB limit applies to these. */
static json_t *payload_parts(const struct push_msg *m, json_t **data)
{
	json_t *notification = json_pack("{s:s,s:s}", "title", m->title, "body", m->body);

	*data = m->privacy ? json_pack("{s:s}", "alert_id", m->alert_id)
			   : json_pack("{s:s,s:s,s:s}", "alert_id", m->alert_id, "kind", m->kind, "severity",
				       m->risk ? "risk" : "info");
	if (!notification || !*data) {
		json_decref(notification);
		json_decref(*data);
		*data = NULL;
		return NULL;
	}
	return notification;
}

bool push_fcm_request(const struct push_msg *m, const char *url, const char *access_token, long long now,
		      struct push_request *out)
{
	json_t *data = NULL, *notification = payload_parts(m, &data), *android = NULL, *body = NULL;
	char ttl[32], line[PUSH_MAX_PAYLOAD_BYTES];
	long long left = m->expires_at - now;

	if (!notification)
		goto fail;
	/* Google counts the payload as notification plus data */
	json_t *measured = json_pack("{s:O,s:O}", "notification", notification, "data", data);
	size_t size = measured ? json_dumpb(measured, NULL, 0, JSON_COMPACT) : 0;
	json_decref(measured);
	if (size == 0 || size > PUSH_MAX_PAYLOAD_BYTES)
		goto fail;
	snprintf(ttl, sizeof(ttl), "%llds", left > 0 ? left : 0);
	android = json_pack("{s:s,s:s}", "priority", m->high_priority ? "high" : "normal", "ttl", ttl);
	if (!android || (m->collapse_key && json_object_set_new(android, "collapse_key", json_string(m->collapse_key))))
		goto fail;
	body = json_pack("{s:{s:s,s:o,s:o,s:o}}", "message", "token", m->token, "notification", notification, "data",
			 data, "android", android);
	notification = data = android = NULL; /* stolen by json_pack, even on failure */
	if (!body)
		goto fail;
	out->body = json_dumps(body, JSON_COMPACT);
	out->url = strdup(url);
	if (!out->body || !out->url)
		goto fail;
	out->body_len = strlen(out->body);
	snprintf(line, sizeof(line), "authorization: Bearer %s", access_token);
	bool ok = add_header(&out->headers, line) &&
		  add_header(&out->headers, "content-type: application/json; charset=UTF-8");
	memset(line, 0, sizeof(line));
	if (!ok)
		goto fail;
	json_decref(body);
	return true;
fail:
	json_decref(notification);
	json_decref(data);
	json_decref(android);
	json_decref(body);
	push_request_clear(out);
	return false;
}

/* Does an INVALID_ARGUMENT error concern the registration token (and not our payload)? */
static bool about_token(const json_t *error)
{
	const json_t *d;
	size_t i;
	const char *msg = json_string_value(json_object_get(error, "message"));
	bool fields_named = false;

	json_array_foreach(json_object_get(error, "details"), i, d) {
		const json_t *v;
		size_t k;
		json_array_foreach(json_object_get(d, "fieldViolations"), k, v) {
			const char *field = json_string_value(json_object_get(v, "field"));
			if (!field)
				continue;
			fields_named = true;
			if (strcmp(field, "message.token") == 0)
				return true;
		}
	}
	/* no field named: Google's message for a bad token says so */
	return !fields_named && msg && strstr(msg, "registration token") != NULL;
}

static const char *error_code(const json_t *error)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(error, "details"), i, d) {
		const char *code = json_string_value(json_object_get(d, "errorCode"));
		if (code)
			return code;
	}
	return NULL;
}

void push_fcm_classify(const struct push_request *r, struct push_outcome *o)
{
	json_t *doc;
	long s = r->status;

	if (push_outcome_transport(r, "fcm", o))
		return;
	doc = r->response ? json_loadb(r->response, r->response_len, 0, NULL) : NULL;
	if (s == 200) {
		const char *name = json_string_value(json_object_get(doc, "name"));
		if (name && *name && strlen(name) < sizeof(o->message_id)) {
			push_outcome_set(o, PUSH_SENT, PUSH_R_OK, "fcm", s, NULL);
			snprintf(o->message_id, sizeof(o->message_id), "%s", name);
		} else {
			/* a 200 without the message name is not proof of delivery */
			push_outcome_set(o, PUSH_RETRY, PUSH_R_BAD_RESPONSE, "fcm", s, "no message name");
		}
		goto out;
	}
	const json_t *error = json_object_get(doc, "error");
	const char *code = error_code(error);
	const char *status = json_string_value(json_object_get(error, "status"));
	const char *shown = code ? code : status ? status : "";
	o->retry_after = r->retry_after;

	if ((code && strcmp(code, "UNREGISTERED") == 0) || (!code && s == 404))
		push_outcome_set(o, PUSH_RETIRE, PUSH_R_UNREGISTERED, "fcm", s, shown);
	else if ((code && strcmp(code, "INVALID_ARGUMENT") == 0) || (!code && s == 400))
		push_outcome_set(o, about_token(error) ? PUSH_RETIRE : PUSH_FAILED,
				 about_token(error) ? PUSH_R_BAD_TOKEN : PUSH_R_REJECTED, "fcm", s, shown);
	else if ((code && strcmp(code, "QUOTA_EXCEEDED") == 0) || s == 429) {
		push_outcome_set(o, PUSH_RETRY, PUSH_R_QUOTA, "fcm", s, shown);
		if (o->retry_after < QUOTA_DEFAULT_WAIT)
			o->retry_after = QUOTA_DEFAULT_WAIT;
	} else if ((code && strcmp(code, "SENDER_ID_MISMATCH") == 0) || (!code && s == 403)) {
		push_outcome_set(o, PUSH_FAILED, PUSH_R_SENDER_ID_MISMATCH, "fcm", s, shown);
		o->alarm = true;
	} else if (code && strcmp(code, "THIRD_PARTY_AUTH_ERROR") == 0) {
		push_outcome_set(o, PUSH_FAILED, PUSH_R_THIRD_PARTY_AUTH_ERROR, "fcm", s, shown);
		o->alarm = true;
	} else if (s == 401) {
		/* our access token was refused (expired or revoked early): renew it and send again */
		push_outcome_set(o, PUSH_RESEND, PUSH_R_AUTH, "fcm", s, shown);
		o->stale_credentials = true;
	} else if ((code && strcmp(code, "UNAVAILABLE") == 0) || s == 503)
		push_outcome_set(o, PUSH_RETRY, PUSH_R_UNAVAILABLE, "fcm", s, shown);
	else if ((code && strcmp(code, "INTERNAL") == 0) || s >= 500)
		push_outcome_set(o, PUSH_RETRY, PUSH_R_INTERNAL, "fcm", s, shown);
	else if (s >= 400 && s < 500)
		push_outcome_set(o, PUSH_FAILED, PUSH_R_REJECTED, "fcm", s, shown);
	else
		push_outcome_set(o, PUSH_RETRY, PUSH_R_BAD_RESPONSE, "fcm", s, shown);
out:
	json_decref(doc);
}
