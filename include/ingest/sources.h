/*
 * sources.h - ingest sources (ledger systems) and their signing secrets.
 *
 * Management (add, scope, rotate, revoke, list) runs from the CLI on its own
 * connection, inside one transaction with its audit entry. A source's scope
 * is the set of offices (each with its subtree) it may write events for;
 * the ingest writer checks it in its transaction (0009_source_scopes.sql),
 * so it needs no cache. Verification
 * reads a source's active keys through a short-lived cache so that each
 * signed request does not cost a database round trip and a decryption.
 */
#ifndef ALERTD_SOURCES_H
#define ALERTD_SOURCES_H

#include "core/secrets.h"
#include "ingest/webhook.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SOURCES_MAX_ACTIVE_SECRETS 8
#define SOURCES_MAX_OFFICES 64 /* office codes in one add or scope command */

struct db_pool;
struct source_cache;

struct source_keys {
	long long source_id;
	size_t nkeys;
	struct webhook_key keys[SOURCES_MAX_ACTIVE_SECRETS];
};

enum source_lookup { SOURCE_FOUND, SOURCE_UNKNOWN, SOURCE_UNAVAILABLE };

/*
 * actor is who runs the command (for the audit log). Each call is one
 * transaction. offices: 1..SOURCES_MAX_OFFICES office codes of the roster
 * (repeats allowed); add creates the source with that scope, scope replaces
 * a source's scope. On failure nothing is changed and err says why.
 */
bool sources_add(PGconn *conn, const struct secrets_kek *kek, const char *name, const char *const *offices,
		 size_t noffices, const char *actor, char secret[SECRETS_TEXT_MAX], long long *secret_id, char *err,
		 size_t errlen) __attribute__((warn_unused_result));
bool sources_scope(PGconn *conn, const char *name, const char *const *offices, size_t noffices, const char *actor,
		   char *err, size_t errlen) __attribute__((warn_unused_result));
bool sources_rotate(PGconn *conn, const struct secrets_kek *kek, const char *name, const char *actor,
		    char secret[SECRETS_TEXT_MAX], long long *secret_id, char *err, size_t errlen)
	__attribute__((warn_unused_result));
bool sources_revoke_secret(PGconn *conn, const char *name, long long secret_id, const char *actor, char *err, size_t errlen)
	__attribute__((warn_unused_result));
bool sources_list(PGconn *conn, FILE *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * kek may be NULL (no key file configured): every lookup then reports
 * SOURCE_UNKNOWN. ttl_seconds 0 disables caching. NULL on allocation failure.
 */
struct source_cache *source_cache_new(const struct secrets_kek *kek, int ttl_seconds);
void source_cache_free(struct source_cache *cache);

/*
 * The active keys of the active source name. SOURCE_UNAVAILABLE when the
 * database cannot be asked (callers answer 503, never 401).
 */
enum source_lookup source_cache_get(struct source_cache *cache, struct db_pool *db, const char *name, struct source_keys *out);

#endif
