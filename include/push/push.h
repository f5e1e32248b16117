/*
 * push.h - what the push providers share: the message to send, the verdict
 * on a provider's answer, and the HTTP/2 transport (libcurl multi).
 *
 * A push_client belongs to one dispatcher thread (a curl multi handle is not
 * thread-safe). Requests are started one by one and come back as they are
 * answered, multiplexed as streams over at most push.connections_per_host
 * long-lived TLS connections per provider host; the easy handles are kept
 * and reused, so a request costs no handle set-up.
 */
#ifndef ALERTD_PUSH_H
#define ALERTD_PUSH_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct curl_slist;

enum push_provider { PUSH_FCM = 0, PUSH_APNS, PUSH__PROVIDERS };

/* What to do with an outbox row after a provider's answer. */
enum push_verdict {
	PUSH_SENT,   /* 2xx with the expected message id */
	PUSH_RESEND, /* not processed (stream refused, GOAWAY, credentials renewed): send again at once */
	PUSH_RETRY,  /* later, after a backoff (or the provider's Retry-After) */
	PUSH_FAILED, /* permanent for this message */
	PUSH_RETIRE, /* the device token is dead: retire the device, fail the message */
};

/*
 * Stable reasons: metric labels and the start of push_outbox.last_error.
 * Keep push_reason_name() in step.
 */
enum push_reason {
	PUSH_R_OK,
	PUSH_R_UNREGISTERED,	       /* FCM UNREGISTERED, APNs Unregistered */
	PUSH_R_EXPIRED_TOKEN,	       /* APNs ExpiredToken */
	PUSH_R_BAD_TOKEN,	       /* FCM INVALID_ARGUMENT on the token, APNs BadDeviceToken, or not hex */
	PUSH_R_QUOTA,		       /* FCM QUOTA_EXCEEDED, APNs TooManyRequests */
	PUSH_R_UNAVAILABLE,	       /* 503 */
	PUSH_R_INTERNAL,	       /* 500 and other 5xx */
	PUSH_R_SENDER_ID_MISMATCH,     /* FCM; operator alarm */
	PUSH_R_THIRD_PARTY_AUTH_ERROR, /* FCM; operator alarm */
	PUSH_R_AUTH,		       /* our credentials: FCM 401, APNs 403 *ProviderToken, token updates */
	PUSH_R_CREDENTIALS,	       /* no access token could be obtained (token endpoint down or refusing) */
	PUSH_R_REJECTED,	       /* other 4xx: permanent for the message */
	PUSH_R_TRANSPORT,	       /* connection, TLS, refused stream, GOAWAY, dropped connection */
	PUSH_R_TIMEOUT,
	PUSH_R_BAD_RESPONSE,	  /* 2xx without the message id, or a status the provider does not use */
	PUSH_R_DEVICE_NOT_ACTIVE, /* revoked or retired after the alert was made */
	PUSH_R_NO_TOKEN,	  /* the device has no push token */
	PUSH_R_TOO_OLD,		  /* push.max_age_seconds passed */
	PUSH_R__COUNT
};

const char *push_reason_name(enum push_reason r);
const char *push_provider_name(enum push_provider p);

/* A rendered message; every string is borrowed for the duration of the send. */
struct push_msg {
	enum push_provider provider;
	const char *token;	  /* FCM registration token or APNs hex device token */
	const char *alert_id;	  /* decimal */
	const char *kind;	  /* e.g. balance.changed */
	const char *title, *body; /* already in the user's language (generic text in privacy mode) */
	const char *collapse_key; /* NULL: none */
	const char *thread_id;	  /* APNs thread-id: groups a conversation on the phone */
	bool risk;		  /* risk alert: time-sensitive on iOS */
	bool high_priority;	  /* the outbox row's priority: FCM high, APNs 10 (risk and security alerts) */
	bool privacy;		  /* send only the generic text and the alert id */
	long long expires_at;	  /* unix seconds: the provider may drop it after this */
};

/* The provider's verdict on one send, from push_fcm_classify/push_apns_classify. */
struct push_outcome {
	enum push_verdict verdict;
	enum push_reason reason;
	char detail[200];	/* for last_error and logs: provider, status, provider's code; no token, no text */
	char message_id[160];	/* FCM name or APNs apns-id, when sent */
	long long retry_after;	/* seconds the provider asked us to wait; -1: none */
	bool alarm;		/* needs an operator: credentials or project misconfigured */
	bool stale_credentials; /* our access/provider token was refused: renew it before resending */
};

#define PUSH_MAX_RESPONSE_BYTES 65536 /* a provider's answer body is cut here */
#define PUSH_MAX_PAYLOAD_BYTES 4096   /* FCM and APNs limit */

/* One HTTP request of a batch, and what came back. */
struct push_request {
	/* filled by the provider module */
	char *url; /* malloc'd */
	struct curl_slist *headers;
	char *body; /* malloc'd */
	size_t body_len;
	bool require_h2; /* APNs: a non-HTTP/2 answer is a transport failure */
	/* filled by push_client_done */
	int curl_code; /* CURLcode */
	char curl_error[256];
	long status;	   /* 0 when no response */
	long http_version; /* CURL_HTTP_VERSION_* of the answer */
	char *response;	   /* malloc'd, NUL-terminated, at most PUSH_MAX_RESPONSE_BYTES; NULL if empty */
	size_t response_len;
	char apns_id[64];      /* the apns-id response header */
	long long retry_after; /* Retry-After in seconds; -1 when absent */
};

/* Free what a request holds and zero it; safe on a zeroed request. */
void push_request_clear(struct push_request *r);

struct push_client;

/* NULL on failure (logged). Free with push_client_free. */
struct push_client *push_client_new(const struct config *cfg);
void push_client_free(struct push_client *c);

struct curl_waitfd;

/*
 * Start one request: it is multiplexed as a stream over the client's
 * HTTP/2 connections, bounded by push.request_timeout_seconds, and comes
 * back from push_client_done. r is borrowed until then and must not move.
 * False when it could not be started (nothing was sent; r->curl_error says
 * why).
 */
bool push_client_start(struct push_client *c, struct push_request *r) __attribute__((warn_unused_result));

/*
 * Drive the transfers: wait up to timeout_ms for any of them or for one of
 * the extra descriptors (their revents are set), and make what progress
 * there is. False on a libcurl multi error (logged); the transfers stay.
 */
bool push_client_wait(struct push_client *c, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms)
	__attribute__((warn_unused_result));

/*
 * The next finished request, its curl_code, status, response and headers
 * filled; NULL when none has finished. It is no longer the client's.
 */
struct push_request *push_client_done(struct push_client *c);

/* Requests started and not yet returned by push_client_done. */
size_t push_client_in_flight(const struct push_client *c);

/*
 * Start o afresh. When the transfer failed below HTTP (no status: refused
 * stream, GOAWAY, dropped connection, TLS, timeout), or require_h2 was not
 * met, set o's verdict (PUSH_RESEND, or PUSH_RETRY on a timeout, since the
 * provider may have acted) and return true. provider names it in detail.
 */
bool push_outcome_transport(const struct push_request *r, const char *provider, struct push_outcome *o)
	__attribute__((warn_unused_result));

/* Set o's verdict, reason and detail ("<provider> <status> <code>"). */
void push_outcome_set(struct push_outcome *o, enum push_verdict v, enum push_reason reason, const char *provider,
		      long status, const char *code);

/* Seconds from a Retry-After value (delta-seconds or an HTTP date); -1 if unparseable. Capped at one day. */
long long push_parse_retry_after(const char *value, long long now);

/* Global libcurl set-up; call once before threads start. */
bool push_global_init(void) __attribute__((warn_unused_result));

#endif
