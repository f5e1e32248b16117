/*
 * push_fcm.h - Firebase Cloud Messaging HTTP v1: the request for one message
 * and the verdict on FCM's answer (error.details[].errorCode).
 */
#ifndef ALERTD_PUSH_FCM_H
#define ALERTD_PUSH_FCM_H

#include "push/push.h"

#include <stdbool.h>

/*
 * Fill out (zeroed or cleared first by the caller) with the POST to url
 * (.../v1/projects/<id>/messages:send) carrying m, authorised by
 * access_token. now is unix seconds (for android.ttl). False on allocation
 * failure or a payload over PUSH_MAX_PAYLOAD_BYTES; out is then cleared.
 */
bool push_fcm_request(const struct push_msg *m, const char *url, const char *access_token, long long now,
		      struct push_request *out) __attribute__((warn_unused_result));

/* The verdict on a finished request (transport result, status, body). */
void push_fcm_classify(const struct push_request *r, struct push_outcome *o);

#endif
