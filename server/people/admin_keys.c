/*
 * admin_keys.c - admin API key management and verification.
 */
#include "people/admin_keys.h"
#include "core/parse.h"
#include "db/audit.h"
#include "db/db.h"

#include <sodium.h>
#include <string.h>

static void hash_hex(const char *token, size_t len, char hex[2 * TOKENS_HASH_BYTES + 1])
{
	unsigned char h[TOKENS_HASH_BYTES];

	tokens_hash(token, len, h);
	sodium_bin2hex(hex, 2 * TOKENS_HASH_BYTES + 1, h, sizeof(h));
}

bool admin_keys_add(PGconn *conn, const char *name, const char *actor, char key[TOKENS_TEXT_MAX], char *err, size_t errlen)
{
	char hex[2 * TOKENS_HASH_BYTES + 1];
	PGresult *res;

	if (!parse_is_name(name)) {
		snprintf(err, errlen,
			 "invalid key name '%.80s': use 1-63 of a-z 0-9 _ -, starting with a letter or digit", name);
		return false;
	}
	tokens_generate("ak", key);
	hash_hex(key, strlen(key), hex);
	const char *params[4] = { name, hex, actor, name };
	/* one statement: the key and its audit entry exist together or not at all */
	res = db_exec(conn,
		      "WITH k AS (INSERT INTO admin_api_keys (name, key_hash) VALUES ($1, decode($2, 'hex'))"
		      " ON CONFLICT (name) DO NOTHING RETURNING id)"
		      " INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome)"
		      " SELECT 'cli', $3, 'admin_key.add', $4, 'ok' FROM k RETURNING id",
		      4, params);
	if (!res || PQntuples(res) != 1) {
		snprintf(err, errlen, res ? "an admin key named '%s' already exists" : "database error (see log)", name);
		PQclear(res);
		sodium_memzero(key, TOKENS_TEXT_MAX);
		return false;
	}
	PQclear(res);
	return true;
}

bool admin_keys_revoke(PGconn *conn, const char *name, const char *actor, char *err, size_t errlen)
{
	const char *params[3] = { name, actor, name };
	PGresult *res = db_exec(conn,
				"WITH k AS (UPDATE admin_api_keys SET revoked_at = now()"
				" WHERE name = $1 AND revoked_at IS NULL RETURNING id)"
				" INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome)"
				" SELECT 'cli', $2, 'admin_key.revoke', $3, 'ok' FROM k RETURNING id",
				3, params);
	bool ok = res && PQntuples(res) == 1;

	if (!ok)
		snprintf(err, errlen, res ? "no active admin key named '%s'" : "database error (see log)", name);
	PQclear(res);
	return ok;
}

bool admin_keys_list(PGconn *conn, FILE *out, char *err, size_t errlen)
{
	PGresult *res = db_exec(conn, "SELECT name, created_at, last_used_at, revoked_at FROM admin_api_keys ORDER BY name",
				0, NULL);

	if (!res) {
		snprintf(err, errlen, "database error (see log)");
		return false;
	}
	fprintf(out, "%-24s %-32s %-32s %s\n", "NAME", "CREATED", "LAST_USED", "REVOKED");
	for (int r = 0; r < PQntuples(res); r++)
		fprintf(out, "%-24s %-32s %-32s %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
			PQgetisnull(res, r, 2) ? "-" : PQgetvalue(res, r, 2),
			PQgetisnull(res, r, 3) ? "-" : PQgetvalue(res, r, 3));
	PQclear(res);
	return true;
}

enum admin_auth admin_keys_authenticate(PGconn *conn, const char *token, size_t len, const char *target, const char *ip,
					const char *request_id, char name[64])
{
	char hex[2 * TOKENS_HASH_BYTES + 1];
	PGresult *res;

	if (!tokens_has_prefix(token, len, "ak"))
		return ADMIN_AUTH_DENIED; /* not an admin key at all: nothing to audit */
	hash_hex(token, len, hex);
	const char *params[4] = { hex, target, ip, request_id };
	res = db_exec(conn,
		      "WITH k AS (UPDATE admin_api_keys SET last_used_at = now()"
		      " WHERE key_hash = decode($1, 'hex') AND revoked_at IS NULL RETURNING name)"
		      " INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id)"
		      " SELECT 'admin_key', k.name, 'admin.request', $2, 'ok', $3, $4 FROM k"
		      " UNION ALL SELECT 'admin_key', NULL, 'admin.request', $2, 'denied', $3, $4"
		      " WHERE NOT EXISTS (SELECT 1 FROM k)"
		      " RETURNING actor_id",
		      4, params);
	if (!res)
		return db_broken(conn) ? ADMIN_AUTH_UNAVAILABLE : ADMIN_AUTH_DENIED;
	bool ok = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0);
	if (ok)
		snprintf(name, 64, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ok ? ADMIN_AUTH_OK : ADMIN_AUTH_DENIED;
}
