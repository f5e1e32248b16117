/*
 * devices.h - the devices store: a phone's access-token check, the "my
 * devices" list, the heartbeat, and the one statement that revokes devices
 * (app logout and device delete, a push token moving to another device at
 * activation or heartbeat, and the roster's leavers and movers).
 *
 * Ownership as in store.h: every function runs on the caller's connection
 * (inside the caller's transaction, if any, except devices_heartbeat, which
 * is its own), returns false when a statement failed (logged), and results
 * handed out are the caller's to PQclear().
 */
#ifndef ALERTD_STORE_DEVICES_H
#define ALERTD_STORE_DEVICES_H

#include "store/store.h"

#include <libpq-fe.h>
#include <stdbool.h>

/* The columns of a device row as devices_list and devices_heartbeat return it. */
enum devices_col {
	DEVICES_COL_ID,
	DEVICES_COL_PLATFORM,
	DEVICES_COL_APP_VERSION, /* NULL when not reported; so are the next three */
	DEVICES_COL_OS_VERSION,
	DEVICES_COL_MODEL,
	DEVICES_COL_LOCALE,
	DEVICES_COL_STATE,
	DEVICES_COL_STATE_REASON,  /* may be NULL */
	DEVICES_COL_FIRST_SEEN,	   /* RFC 3339 UTC, seconds */
	DEVICES_COL_LAST_SEEN,	   /* RFC 3339 UTC, seconds */
	DEVICES_COL_TOKEN_EXPIRES, /* RFC 3339 UTC, seconds; NULL once revoked */
	DEVICES_COL_HAS_PUSH_TOKEN,
	DEVICES_COL__COUNT
};

enum devices_auth {
	DEVICES_AUTH_OK,	   /* *device_id and *user_id are set */
	DEVICES_AUTH_NONE,	   /* no such token, or it expired, or its device or user is no longer active */
	DEVICES_AUTH_LIFETIME_OVER /* the device was activated max_lifetime_days ago or earlier: activate again */
};

/*
 * The device whose access token hashes to token_hash_hex (hex of
 * tokens_hash()): OK if it is active or token_invalid, its token unexpired,
 * its activation (first_seen_at: a device row is one activation) younger
 * than max_lifetime_days and its user active.
 */
bool devices_authenticate(PGconn *conn, const char *token_hash_hex, long long max_lifetime_days, enum devices_auth *result,
			  long long *device_id, long long *user_id) __attribute__((warn_unused_result));

/* The user's devices, newest first, at most 100. On true *out holds the rows (devices_col). */
bool devices_list(PGconn *conn, long long user_id, PGresult **out) __attribute__((warn_unused_result));

/* What a phone reports on its heartbeat; NULL members leave the stored value. */
struct devices_heartbeat {
	long long device_id, user_id; /* the caller: from its access token */
	const char *push_token, *app_version, *os_version, *model, *locale;
	long long token_ttl_days;	   /* the access token's expiry moves to now + this ... */
	long long token_max_lifetime_days; /* ... but never past first_seen_at + this */
	const struct store_actor *actor;   /* named in the audit row of a refused push token */
};

/*
 * The heartbeat, in one transaction: a push token held by an active device
 * of another user is refused (*conflict true, audited as
 * device.push_token_conflict, nothing else changed); one held by the
 * caller's own other active devices moves here (those are revoked,
 * push_token_reused); then what the phone reports, last_seen_at and the
 * token's expiry are stored, and a device the provider had rejected
 * (token_invalid) is active again once it reports a new push token. On true
 * without conflict *out holds the updated row (devices_col). False (rolled
 * back) also when the device is no longer active or token_invalid.
 */
bool devices_heartbeat(PGconn *conn, const struct devices_heartbeat *hb, bool *conflict, PGresult **out)
	__attribute__((warn_unused_result));

/*
 * Which devices to revoke. Every criterion given must hold; at least one of
 * device_id, user_ids and push_token must be given, and platform and
 * token_taker only with push_token.
 */
struct devices_revoke {
	long long device_id;		 /* > 0: this device; then user_id is required */
	long long user_id;		 /* > 0: only devices of this user */
	const char *user_ids;		 /* the devices of these users: a bigint[] literal such as "{3,7}" */
	const char *push_token;		 /* the active devices holding this push token ... */
	const char *platform;		 /* ... on this platform (android | ios) ... */
	long long token_taker;		 /* ... > 0: on this device's platform, other than it (the token moves to it) */
	const char *reason;		 /* the devices' state_reason and the audit rows' details.reason; required */
	const struct store_actor *audit; /* not NULL: one audit row device.revoke per device revoked */
};

struct devices_revoked {
	long long matched; /* devices meeting the criteria, revoked already or not */
	long long revoked; /* of those, revoked by this call */
};

/*
 * Revoke the devices what selects that are not revoked yet (push-token
 * holders: that are active): state revoked with what->reason (the state
 * trigger stamps state_changed_at and logs the change), access token hash
 * and expiry cleared, and with what->audit an audit row each, all in one
 * statement. False, without effect, when the statement failed or what
 * selects nothing (a programming error, logged).
 */
bool devices_revoke(PGconn *conn, const struct devices_revoke *what, struct devices_revoked *out)
	__attribute__((warn_unused_result));

#endif
