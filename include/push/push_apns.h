/*
 * push_apns.h - Apple Push Notification service (token-based provider API
 * over HTTP/2): the request for one message and the verdict on Apple's
 * answer ({"reason": ...}).
 */
#ifndef ALERTD_PUSH_APNS_H
#define ALERTD_PUSH_APNS_H

#include "push/push.h"

#include <stdbool.h>

/* Is token a plausible APNs device token (even-length hex, at most 200 digits)? */
bool push_apns_token_ok(const char *token);

/*
 * Fill out (zeroed or cleared by the caller) with POST
 * endpoint/3/device/<token> for m, with the topic and the provider token
 * (an ES256 JWT). False on allocation failure, a bad device token or a
 * payload over PUSH_MAX_PAYLOAD_BYTES; out is then cleared.
 */
bool push_apns_request(const struct push_msg *m, const char *endpoint, const char *topic, const char *provider_token,
		       struct push_request *out) __attribute__((warn_unused_result));

/* The verdict on a finished request. */
void push_apns_classify(const struct push_request *r, struct push_outcome *o);

#endif
