/*
 * apns_shared.h - the APNs provider token that every alertd instance on one
 * database shares, kept in apns_provider_tokens (migration 0027) sealed
 * under the KEK.
 *
 * Apple refuses a team's provider token renewed more often than every 20
 * minutes. One token per instance would mean N renewals per refresh period;
 * through the table the instances renew once per period between them: the
 * first to find the stored token too old signs a new one under the row's
 * lock, the others reuse it.
 */
#ifndef ALERTD_APNS_SHARED_H
#define ALERTD_APNS_SHARED_H

#include "push/push_creds.h"

#include <stdbool.h>

struct jwt_key;
struct secrets_kek;

/* What apns_shared_token needs: all borrowed. */
struct apns_shared_req {
	const char *conninfo;	     /* database.url */
	int connect_timeout_seconds; /* database.connect_timeout_seconds */
	const struct secrets_kek *kek;
	const struct jwt_key *key; /* the .p8 key */
	const char *key_id, *team_id;
	long long refresh_seconds; /* apns.token_refresh_minutes * 60 */
	long long refused_iat;	   /* iat of the token Apple refused, 0 for none */
};

/*
 * Get the shared token, in one transaction on a connection of its own
 * (opened and closed here: a renewal happens a few times an hour; inside
 * the transaction the lock wait is bounded at 5 s, each statement at 10 s
 * and idling at 10 s; connecting by database.connect_timeout_seconds per
 * host). Called without any
 * lock of the caller held. The stored token is reused when it is younger
 * than refresh_seconds by the database's clock and its iat is not
 * refused_iat; otherwise (none yet, too old, refused, or sealed under
 * another KEK: logged at error) a new one is signed with the database's
 * clock as iat (after refused_iat), sealed and stored.
 *
 * On success out holds the token, *iat its iat, *valid_for how many more
 * seconds to reuse it (by the database's clock, so instances whose clocks
 * differ a little still agree on when it is due), and *signed_here whether
 * this call made it. A token signed here whose COMMIT failed is still
 * returned (logged) with *valid_for one minute: it is valid, only not
 * shared. A stored token is reused only if its header and claims name this
 * row (kid, iss, iat = issued_at). False, with out wiped or undefined, when
 * there is no KEK, the database cannot be used (logged by the db layer) or
 * signing or sealing failed: the caller decides what to send with.
 */
bool apns_shared_token(const struct apns_shared_req *r, char out[PUSH_TOKEN_MAX], long long *iat, long long *valid_for,
		       bool *signed_here) __attribute__((warn_unused_result));

#endif
