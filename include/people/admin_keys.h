/*
 * admin_keys.h - admin API keys: created from the CLI (shown once, stored as
 * SHA-256), sent as "Authorization: Bearer ak_...", revocable, and every use
 * is audited.
 */
#ifndef ALERTD_ADMIN_KEYS_H
#define ALERTD_ADMIN_KEYS_H

#include "core/tokens.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum admin_auth { ADMIN_AUTH_OK, ADMIN_AUTH_DENIED, ADMIN_AUTH_UNAVAILABLE };

bool admin_keys_add(PGconn *conn, const char *name, const char *actor, char key[TOKENS_TEXT_MAX], char *err, size_t errlen)
	__attribute__((warn_unused_result));
bool admin_keys_revoke(PGconn *conn, const char *name, const char *actor, char *err, size_t errlen)
	__attribute__((warn_unused_result));
bool admin_keys_list(PGconn *conn, FILE *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Check a presented key and, in the same statement, record the use in the
 * audit log (action "admin.request", target e.g. "GET /v1/admin/roster",
 * ip, request_id). On ADMIN_AUTH_OK name receives the
 * key's name. A refused key that looks like an admin key is audited as
 * denied.
 */
enum admin_auth admin_keys_authenticate(PGconn *conn, const char *token, size_t len, const char *target, const char *ip,
					const char *request_id, char name[64]);

#endif
