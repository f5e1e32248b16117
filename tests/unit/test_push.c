/*
 * test_push.c - the push providers without a network: the FCM and APNs
 * requests built for a message (URL, headers, payload, privacy, limits), the
 * verdict on every kind of answer (Google's and Apple's error tables, bodies
 * without the expected id, transport failures, HTTP/1.1 from APNs), the
 * Retry-After parser and the retry backoff.
 */
#include "push/dispatch_pipe.h"
#include "push/push.h"
#include "push/push_apns.h"
#include "push/push_fcm.h"
#include "testlib.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>

static struct push_msg msg(enum push_provider p, const char *token)
{
	return (struct push_msg){ .provider = p,
				  .token = token,
				  .alert_id = "42",
				  .kind = "balance.changed",
				  .title = "Biến động số dư",
				  .body = "TK …2345: -1.500.000 VND",
				  .collapse_key = "bal-1",
				  .thread_id = "balance.changed",
				  .expires_at = 2000,
				  .high_priority = false };
}

static bool has_header(const struct push_request *r, const char *line)
{
	for (const struct curl_slist *h = r->headers; h; h = h->next)
		if (strcmp(h->data, line) == 0)
			return true;
	return false;
}

static void fcm_request_shape(void)
{
	struct push_request r = { 0 };
	struct push_msg m = msg(PUSH_FCM, "tok:1");

	CHECK(push_fcm_request(&m, "https://fcm.example/v1/projects/p/messages:send", "ya29.x", 1000, &r));
	CHECK_STR(r.url, "https://fcm.example/v1/projects/p/messages:send");
	CHECK(has_header(&r, "authorization: Bearer ya29.x"));
	CHECK_STR(r.body, "{\"message\":{\"token\":\"tok:1\",\"notification\":{\"title\":\"Biến động số dư\",\"body\":\"TK "
			  "…2345: -1.500.000 VND\"},\"data\":{\"alert_id\":\"42\",\"kind\":\"balance.changed\",\"severity\":"
			  "\"info\"},\"android\":{\"priority\":\"normal\",\"ttl\":\"1000s\",\"collapse_key\":\"bal-1\"}}}");
	push_request_clear(&r);

	m.privacy = true;
	m.risk = m.high_priority = true;
	m.collapse_key = NULL;
	CHECK(push_fcm_request(&m, "https://x/y", "t", 3000, &r));
	CHECK_CONTAINS(r.body, "\"data\":{\"alert_id\":\"42\"}");
	CHECK_CONTAINS(r.body, "\"android\":{\"priority\":\"high\",\"ttl\":\"0s\"}");
	push_request_clear(&r);
}

static void payload_limit(void)
{
	struct push_request r = { 0 };
	char *big = malloc(5000);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	struct push_msg m = msg(PUSH_FCM, "tok");
	m.body = big;
	CHECK(!push_fcm_request(&m, "https://x/y", "t", 0, &r));
	CHECK(r.url == NULL && r.body == NULL && r.headers == NULL);
	m = msg(PUSH_APNS, "abcd");
	m.body = big;
	CHECK(!push_apns_request(&m, "https://apns", "vn.kbnn.alertd", "jwt", &r));
	CHECK(r.url == NULL && r.body == NULL);
	free(big);
}

static void apns_request_shape(void)
{
	struct push_request r = { 0 };
	struct push_msg m = msg(PUSH_APNS, "a1b2");

	CHECK(push_apns_request(&m, "https://api.push.apple.com", "vn.kbnn.alertd", "jwt.x.y", &r));
	CHECK_STR(r.url, "https://api.push.apple.com/3/device/a1b2");
	CHECK(r.require_h2);
	CHECK(has_header(&r, "authorization: bearer jwt.x.y"));
	CHECK(has_header(&r, "apns-topic: vn.kbnn.alertd"));
	CHECK(has_header(&r, "apns-push-type: alert"));
	CHECK(has_header(&r, "apns-priority: 5"));
	CHECK(has_header(&r, "apns-expiration: 2000"));
	CHECK(has_header(&r, "apns-collapse-id: bal-1"));
	CHECK_STR(r.body,
		  "{\"aps\":{\"alert\":{\"title\":\"Biến động số dư\",\"body\":\"TK …2345: -1.500.000 VND\"},"
		  "\"sound\":\"default\",\"thread-id\":\"balance.changed\"},\"alert_id\":\"42\",\"kind\":\"balance.changed\"}");
	push_request_clear(&r);

	m.high_priority = true; /* a security alert: urgent, not time-sensitive */
	CHECK(push_apns_request(&m, "https://a", "t", "j", &r));
	CHECK(has_header(&r, "apns-priority: 10"));
	CHECK(strstr(r.body, "time-sensitive") == NULL);
	push_request_clear(&r);
	m.high_priority = false;

	m.risk = true;
	m.privacy = true;
	m.collapse_key = "0123456789012345678901234567890123456789012345678901234567890123456789"; /* 70 > 64 bytes */
	CHECK(push_apns_request(&m, "https://a", "t", "j", &r));
	CHECK(has_header(&r, "apns-priority: 10"));
	for (const struct curl_slist *h = r.headers; h; h = h->next)
		CHECK(strncmp(h->data, "apns-collapse-id", 16) != 0);
	CHECK_STR(r.body,
		  "{\"aps\":{\"alert\":{\"title\":\"Biến động số dư\",\"body\":\"TK …2345: -1.500.000 VND\"},"
		  "\"sound\":\"default\",\"thread-id\":\"kbnn\",\"interruption-level\":\"time-sensitive\"},\"alert_id\":\"42\"}");
	push_request_clear(&r);

	CHECK(push_apns_token_ok("00ff"));
	CHECK(!push_apns_token_ok("0ff"));
	CHECK(!push_apns_token_ok("zz"));
	CHECK(!push_apns_token_ok(""));
	CHECK(!push_apns_token_ok("../x"));
	m = msg(PUSH_APNS, "not/hex");
	CHECK(!push_apns_request(&m, "https://a", "t", "j", &r));
}

/* A finished request as the transport would leave it. */
static struct push_request answer(long status, const char *body)
{
	struct push_request r = { 0 };

	r.curl_code = CURLE_OK;
	r.status = status;
	r.http_version = CURL_HTTP_VERSION_2_0;
	r.retry_after = -1;
	if (body) {
		r.response = strdup(body);
		r.response_len = strlen(body);
	}
	return r;
}

static struct push_outcome fcm(long status, const char *body, long long retry_after)
{
	struct push_request r = answer(status, body);
	struct push_outcome o;

	r.retry_after = retry_after;
	push_fcm_classify(&r, &o);
	push_request_clear(&r);
	return o;
}

#define FCM_ERR(code, status, ecode)                                                                          \
	"{\"error\":{\"code\":" #code ",\"message\":\"m\",\"status\":\"" status "\",\"details\":[{\"@type\":" \
	"\"type.googleapis.com/google.firebase.fcm.v1.FcmError\",\"errorCode\":\"" ecode "\"}]}}"

static void fcm_verdicts(void)
{
	struct push_outcome o = fcm(200, "{\"name\":\"projects/p/messages/0:1\"}", -1);
	CHECK(o.verdict == PUSH_SENT);
	CHECK_STR(o.message_id, "projects/p/messages/0:1");
	o = fcm(200, "{}", -1);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_BAD_RESPONSE);
	o = fcm(200, NULL, -1);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_BAD_RESPONSE);

	o = fcm(404, FCM_ERR(404, "NOT_FOUND", "UNREGISTERED"), -1);
	CHECK(o.verdict == PUSH_RETIRE && o.reason == PUSH_R_UNREGISTERED);
	CHECK_STR(o.detail, "fcm 404 UNREGISTERED");
	/* INVALID_ARGUMENT on the token retires; on another field only the message fails */
	o = fcm(400,
		"{\"error\":{\"code\":400,\"message\":\"The registration token is not a valid FCM registration token\","
		"\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"errorCode\":\"INVALID_ARGUMENT\"},{\"fieldViolations\":"
		"[{\"field\":\"message.token\"}]}]}}",
		-1);
	CHECK(o.verdict == PUSH_RETIRE && o.reason == PUSH_R_BAD_TOKEN);
	o = fcm(400,
		"{\"error\":{\"code\":400,\"message\":\"Invalid value at 'message.android.ttl'\",\"status\":\"INVALID_"
		"ARGUMENT\",\"details\":[{\"errorCode\":\"INVALID_ARGUMENT\"},{\"fieldViolations\":[{\"field\":"
		"\"message.android.ttl\"}]}]}}",
		-1);
	CHECK(o.verdict == PUSH_FAILED && o.reason == PUSH_R_REJECTED);

	o = fcm(429, FCM_ERR(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), -1);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_QUOTA && o.retry_after == 60);
	o = fcm(429, FCM_ERR(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), 120);
	CHECK(o.retry_after == 120);
	o = fcm(503, FCM_ERR(503, "UNAVAILABLE", "UNAVAILABLE"), 7);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_UNAVAILABLE && o.retry_after == 7);
	o = fcm(500, FCM_ERR(500, "INTERNAL", "INTERNAL"), -1);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_INTERNAL);
	o = fcm(502, "<html>bad gateway</html>", -1);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_INTERNAL);

	o = fcm(403, FCM_ERR(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), -1);
	CHECK(o.verdict == PUSH_FAILED && o.reason == PUSH_R_SENDER_ID_MISMATCH && o.alarm);
	o = fcm(401, FCM_ERR(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"), -1);
	CHECK(o.verdict == PUSH_FAILED && o.reason == PUSH_R_THIRD_PARTY_AUTH_ERROR && o.alarm);
	/* a 401 without an FcmError: our access token */
	o = fcm(401, "{\"error\":{\"code\":401,\"message\":\"m\",\"status\":\"UNAUTHENTICATED\"}}", -1);
	CHECK(o.verdict == PUSH_RESEND && o.reason == PUSH_R_AUTH && o.stale_credentials && !o.alarm);
	o = fcm(413, NULL, -1);
	CHECK(o.verdict == PUSH_FAILED && o.reason == PUSH_R_REJECTED);
}

static struct push_outcome apns(long status, const char *body, const char *apns_id)
{
	struct push_request r = answer(status, body);
	struct push_outcome o;

	r.require_h2 = true;
	if (apns_id)
		snprintf(r.apns_id, sizeof(r.apns_id), "%s", apns_id);
	push_apns_classify(&r, &o);
	push_request_clear(&r);
	return o;
}

static void apns_verdicts(void)
{
	struct push_outcome o = apns(200, NULL, "6f1f3c4e-0000-4000-8000-000000000001");
	CHECK(o.verdict == PUSH_SENT);
	CHECK_STR(o.message_id, "6f1f3c4e-0000-4000-8000-000000000001");
	o = apns(200, NULL, NULL);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_BAD_RESPONSE);
	o = apns(410, "{\"reason\":\"Unregistered\",\"timestamp\":1700000000000}", "x");
	CHECK(o.verdict == PUSH_RETIRE && o.reason == PUSH_R_UNREGISTERED);
	CHECK_STR(o.detail, "apns 410 Unregistered");
	o = apns(410, "{\"reason\":\"ExpiredToken\",\"timestamp\":1700000000000}", "x");
	CHECK(o.verdict == PUSH_RETIRE && o.reason == PUSH_R_EXPIRED_TOKEN);
	o = apns(400, "{\"reason\":\"BadDeviceToken\"}", "x");
	CHECK(o.verdict == PUSH_RETIRE && o.reason == PUSH_R_BAD_TOKEN);
	o = apns(403, "{\"reason\":\"ExpiredProviderToken\"}", "x");
	CHECK(o.verdict == PUSH_RESEND && o.stale_credentials);
	o = apns(403, "{\"reason\":\"InvalidProviderToken\"}", "x");
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_AUTH && o.alarm);
	o = apns(429, "{\"reason\":\"TooManyProviderTokenUpdates\"}", "x");
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_AUTH && !o.stale_credentials);
	o = apns(429, "{\"reason\":\"TooManyRequests\"}", "x");
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_QUOTA);
	o = apns(503, "{\"reason\":\"ServiceUnavailable\"}", "x");
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_UNAVAILABLE);
	o = apns(500, "{\"reason\":\"InternalServerError\"}", "x");
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_INTERNAL);
	o = apns(400, "{\"reason\":\"TopicDisallowed\"}", "x");
	CHECK(o.verdict == PUSH_FAILED && o.reason == PUSH_R_REJECTED);
	CHECK_STR(o.detail, "apns 400 TopicDisallowed");
	o = apns(413, "{\"reason\":\"PayloadTooLarge\"}", "x");
	CHECK(o.verdict == PUSH_FAILED);
}

static void transport_failures(void)
{
	struct push_request r = answer(0, NULL);
	struct push_outcome o;

	/* a refused stream or GOAWAY: no status, sent again at once */
	r.curl_code = CURLE_HTTP2_STREAM;
	snprintf(r.curl_error, sizeof(r.curl_error), "Stream error in the HTTP/2 framing layer");
	push_apns_classify(&r, &o);
	CHECK(o.verdict == PUSH_RESEND && o.reason == PUSH_R_TRANSPORT);
	CHECK_CONTAINS(o.detail, "HTTP/2 framing");
	/* old libcurl: an aborted stream reported as complete, with no status */
	r.curl_code = CURLE_OK;
	r.status = 0;
	push_fcm_classify(&r, &o);
	CHECK(o.verdict == PUSH_RESEND);
	/* a timeout: the provider may have acted, so later, not at once */
	r.curl_code = CURLE_OPERATION_TIMEDOUT;
	push_fcm_classify(&r, &o);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_TIMEOUT);
	/* APNs answered over HTTP/1.1: not APNs */
	r = answer(200, NULL);
	r.require_h2 = true;
	r.http_version = CURL_HTTP_VERSION_1_1;
	snprintf(r.apns_id, sizeof(r.apns_id), "x");
	push_apns_classify(&r, &o);
	CHECK(o.verdict == PUSH_RETRY && o.reason == PUSH_R_TRANSPORT);
	push_request_clear(&r);
}

static void retry_after_and_backoff(void)
{
	CHECK(push_parse_retry_after("30", 0) == 30);
	CHECK(push_parse_retry_after(" 30 \r\n", 0) == 30);
	CHECK(push_parse_retry_after("99999999", 0) == 86400);
	CHECK(push_parse_retry_after("3x", 0) == -1);
	CHECK(push_parse_retry_after("", 0) == -1);
	CHECK(push_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412420) == 60);
	CHECK(push_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412540) == 0);
	CHECK(push_parse_retry_after("not a date", 0) == -1);

	/* base 5, max 1800: 5, 10, 20 ... jittered into [half, whole] */
	CHECK(dispatch_backoff(5, 1800, 1, -1, 0.0) == 2.5);
	CHECK(dispatch_backoff(5, 1800, 1, -1, 0.999) < 5.0);
	CHECK(dispatch_backoff(5, 1800, 3, -1, 0.0) == 10.0);
	CHECK(dispatch_backoff(5, 1800, 60, -1, 0.0) == 900.0);
	CHECK(dispatch_backoff(5, 1800, 60, -1, 0.999) <= 1800.0);
	/* Retry-After wins when longer */
	CHECK(dispatch_backoff(5, 1800, 1, 60, 0.5) == 60.0);
	CHECK(dispatch_backoff(5, 1800, 8, 1, 0.0) == 320.0);
}

int main(void)
{
	RUN(fcm_request_shape);
	RUN(payload_limit);
	RUN(apns_request_shape);
	RUN(fcm_verdicts);
	RUN(apns_verdicts);
	RUN(transport_failures);
	RUN(retry_after_and_backoff);
	TEST_SUMMARY("test_push");
}
