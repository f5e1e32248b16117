/*
 * admin_keys.h - admin API keys: created from the CLI (shown once, stored as
 * SHA-256), sent as "Authorization: Bearer ak_...", revocable, and every use
 * is audited.
 *
 * Every key has a scope (migration 0015): an office, whose subtree is all it
 * may touch (alertd_office_in_scope), and a set of actions, each naming the
 * routes it opens (docs/operator-guide.md): roster = POST /v1/admin/roster,
 * activation = POST /v1/admin/users/{login}/activation-code, read = GET
 * /v1/admin/events/unrouted and the staff read API.
 */
#ifndef ALERTD_ADMIN_KEYS_H
#define ALERTD_ADMIN_KEYS_H

#include "core/tokens.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum admin_auth {
	ADMIN_AUTH_OK,
	ADMIN_AUTH_DENIED,	/* not a live key */
	ADMIN_AUTH_NOT_GRANTED, /* a live key whose actions lack the route's */
	ADMIN_AUTH_UNAVAILABLE,
};

/* The actions a key may be granted; a key holds a set of them (or-ed). */
enum admin_action {
	ADMIN_ACTION_ROSTER = 1u << 0,
	ADMIN_ACTION_ACTIVATION = 1u << 1,
	ADMIN_ACTION_READ = 1u << 2,	 /* the staff read API: personal data */
	ADMIN_ACTION_UNROUTED = 1u << 3, /* GET /v1/admin/events/unrouted */
};
#define ADMIN_ACTIONS_ALL (ADMIN_ACTION_ROSTER | ADMIN_ACTION_ACTIVATION | ADMIN_ACTION_UNROUTED | ADMIN_ACTION_READ)

/* "roster", "activation", "unrouted" or "read"; NULL for anything but one action. */
const char *admin_keys_action_name(enum admin_action action);

/*
 * Parse a comma-separated list of action names ("roster,activation,unrouted,read";
 * no spaces, no empty item, each at most once) into *actions. False, with a
 * sentence in err, for anything else.
 */
bool admin_keys_parse_actions(const char *list, unsigned *actions, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Create a key named name, scoped to office_code (an existing office) and
 * actions (non-empty); key receives the key text, to be shown once.
 */
bool admin_keys_add(PGconn *conn, const char *name, const char *office_code, unsigned actions, const char *actor,
		    char key[TOKENS_TEXT_MAX], char *err, size_t errlen) __attribute__((warn_unused_result));
bool admin_keys_revoke(PGconn *conn, const char *name, const char *actor, char *err, size_t errlen)
	__attribute__((warn_unused_result));
bool admin_keys_list(PGconn *conn, FILE *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Who a key is: its name and the office whose subtree it may touch. */
struct admin_key_principal {
	char name[64];
	char office[16];
};

/*
 * Check a presented key for a route that needs action and, in the same
 * statement, record the use in the audit log (action "admin.request",
 * target e.g. "GET /v1/admin/roster", ip, request_id): "ok" when the key is
 * live and granted action; "denied" with details {"reason":
 * "action_not_granted", "action": ...} when it is live but not granted it
 * (ADMIN_AUTH_NOT_GRANTED); "denied" too for a refused key that looks like
 * an admin key (ADMIN_AUTH_DENIED). who is filled on ADMIN_AUTH_OK and
 * ADMIN_AUTH_NOT_GRANTED.
 */
enum admin_auth admin_keys_authenticate(PGconn *conn, const char *token, size_t len, enum admin_action action,
					const char *target, const char *ip, const char *request_id,
					struct admin_key_principal *who);

#endif
