/*
 * push_creds.h - the credentials the push providers need, shared by all
 * dispatcher threads of one instance:
 *
 * - FCM: an OAuth2 access token from Google's token endpoint (JWT-bearer
 *   grant signed with the service account's RSA key), cached and renewed
 *   five minutes before it expires or when FCM refuses it. One thread fetches
 *   while the others wait for its result: no thundering herd.
 * - APNs: the ES256 provider token, renewed once per
 *   apns.token_refresh_minutes (20-50 min; Apple refuses renewals more often
 *   than every 20 and tokens older than 60), or when Apple calls it expired.
 *   All instances on the database share one (apns_shared.h), so the team's
 *   token is renewed once per period, not once per instance.
 *
 * The FCM token lives only in memory; the APNs token is cached in memory and
 * stored only sealed under the KEK.
 */
#ifndef ALERTD_PUSH_CREDS_H
#define ALERTD_PUSH_CREDS_H

#include "push/push.h"

#include <stdbool.h>
#include <stddef.h>

struct config;
struct metrics;
struct push_creds;
struct secrets_kek;

#define PUSH_TOKEN_MAX 2048 /* longest access or provider token kept */

/*
 * Load the key files the configuration names (fcm.credentials_file,
 * apns.key_file); a provider with no file configured is simply off. False
 * with err (naming the file and the problem, never key material) when a
 * configured file cannot be used. kek (copied; NULL when secrets.key_file is
 * not set) seals the shared APNs token; without it each instance signs its
 * own. The caller frees *out with push_creds_free.
 */
bool push_creds_new(const struct config *cfg, struct metrics *metrics, const struct secrets_kek *kek,
		    struct push_creds **out, char *err, size_t errlen) __attribute__((warn_unused_result));
void push_creds_free(struct push_creds *pc);

/* Is this provider configured? */
bool push_creds_enabled(const struct push_creds *pc, enum push_provider p);

/* FCM's send URL (endpoint/v1/projects/<project>/messages:send); borrowed, valid until push_creds_free. */
const char *push_creds_fcm_url(const struct push_creds *pc);

/*
 * Copy the current token for p into out (NUL-terminated) and its generation
 * into *gen, obtaining or renewing it first when needed. False when none can
 * be had now (token endpoint down or refusing; the failure is logged and
 * counted, and no new attempt is made for a few seconds).
 */
bool push_creds_token(struct push_creds *pc, enum push_provider p, char out[PUSH_TOKEN_MAX], unsigned *gen)
	__attribute__((warn_unused_result));

/*
 * The provider refused the token of generation gen: drop it, so the next
 * push_creds_token makes a new one. A refusal of an older generation (already
 * replaced by another thread) changes nothing.
 */
void push_creds_refused(struct push_creds *pc, enum push_provider p, unsigned gen);

#endif
