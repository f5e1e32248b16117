/*
 * activation.h - making a phone trusted: one-time activation codes issued
 * by an admin or staff member, redeemed by the app for a device access
 * token bound to that device.
 */
#ifndef ALERTD_ACTIVATION_H
#define ALERTD_ACTIVATION_H

#include "core/tokens.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define ACTIVATION_MAX_ATTEMPTS 5

struct activation_actor {
	const char *kind; /* cli | admin_key | staff | app */
	const char *id;
	const char *ip;
	const char *request_id;
	/*
	 * > 0: the most codes this actor (kind and id) may issue per Vietnam
	 * day, all instances together (staff.activation_codes_per_day); 0: no
	 * cap (the command line, admin keys).
	 */
	long long daily_cap;
	/*
	 * Optional (activation_issue only): called inside the issuing
	 * transaction once the code row is written and before the audit row
	 * and the commit, with the user's id, the code and its end; false rolls
	 * it all back (ACTIVATION_DB_ERROR, nothing issued). The bulk
	 * instructions (mail/instructions.c) queue the sealed e-mail with it, so
	 * a code exists exactly when its mail is queued.
	 */
	bool (*on_issued)(PGconn *conn, void *ctx, const char *user_id, const char *code, const char *expires_at);
	void *on_issued_ctx;
};

enum activation_result { ACTIVATION_OK, ACTIVATION_DENIED, ACTIVATION_CAPPED, ACTIVATION_DB_ERROR };

/*
 * Issue a new code for the active user login, voiding any live one, valid
 * ttl_hours. On ACTIVATION_OK code and expires_at (RFC 3339) are filled.
 * scope_office, when not NULL, is the office whose subtree the actor may
 * touch (a scoped admin key, a staff member): a user whose unit is served
 * outside it is refused like an unknown one. ACTIVATION_DENIED: no such
 * active user (or out of scope; the audit row's reason says which).
 * ACTIVATION_CAPPED: the actor has issued actor->daily_cap codes this
 * Vietnam day already (counted from the audit log under a per-actor lock,
 * so concurrent requests cannot pass it); nothing issued. Audited always.
 */
enum activation_result activation_issue(PGconn *conn, const unsigned char key[32], const char *login,
					const char *scope_office, long long ttl_hours, const struct activation_actor *actor,
					char code[TOKENS_CODE_LEN + 1], char expires_at[64]);

struct activation_device {
	const char *platform; /* android | ios */
	const char *push_token;
	const char *app_version, *os_version, *model, *locale; /* may be NULL */
};

struct activation_outcome {
	const char *reason; /* for the audit log: unknown_login, no_code, locked, expired, wrong_code, ok */
	long long device_id;
	long long user_id;
	char access_token[TOKENS_TEXT_MAX];
	char expires_at[64];
	int other_devices_alerted;
};

/*
 * Redeem code for login and register device, in one transaction. A wrong
 * code counts an attempt (committed); after ACTIVATION_MAX_ATTEMPTS the
 * code is locked until a new one is issued. On success the code is used up,
 * any other active device holding the same push token is revoked, and the
 * user's other active devices get a new-device security alert. A success
 * and a code locked by this attempt are audited at once; every failure is
 * counted per hour, user (or unknown login) and client address in
 * activation_failures, which maintenance turns into one audit row each.
 * token_ttl_days is capped by token_max_lifetime_days; privacy_mode
 * (alerts.privacy_mode) makes the new-device push generic, as the unit's own
 * privacy_mode does.
 */
enum activation_result activation_redeem(PGconn *conn, const unsigned char key[32], const char *login,
					 const char *typed_code, const struct activation_device *dev,
					 long long token_ttl_days, long long token_max_lifetime_days, bool privacy_mode,
					 const struct activation_actor *actor, struct activation_outcome *out);

#endif
