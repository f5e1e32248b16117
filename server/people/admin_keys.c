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

static const struct {
	enum admin_action action;
	const char *name;
} action_names[] = {
	{ ADMIN_ACTION_ROSTER, "roster" },
	{ ADMIN_ACTION_ACTIVATION, "activation" },
	{ ADMIN_ACTION_UNROUTED, "unrouted" },
	{ ADMIN_ACTION_READ, "read" },
};
#define NACTIONS (sizeof(action_names) / sizeof(action_names[0]))

const char *admin_keys_action_name(enum admin_action action)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (action_names[i].action == action)
			return action_names[i].name;
	return NULL;
}

bool admin_keys_parse_actions(const char *list, unsigned *actions, char *err, size_t errlen)
{
	const char *p = list ? list : "";

	*actions = 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		size_t i = 0;
		while (i < NACTIONS && !(strlen(action_names[i].name) == n && strncmp(p, action_names[i].name, n) == 0))
			i++;
		if (i == NACTIONS || (*actions & action_names[i].action)) {
			snprintf(err, errlen,
				 i == NACTIONS ? "invalid scope '%.80s': a comma-separated list of roster, activation, unrouted, read"
					       : "invalid scope '%.80s': an action is named twice",
				 list ? list : "");
			*actions = 0;
			return false;
		}
		*actions |= action_names[i].action;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

/* actions as a PostgreSQL text[] literal, in the canonical order: "{roster,read}". */
static void actions_literal(unsigned actions, char out[64])
{
	size_t len = 0;

	out[len++] = '{';
	for (size_t i = 0; i < NACTIONS; i++)
		if (actions & action_names[i].action)
			len += (size_t)snprintf(out + len, 64 - len, "%s%s", len > 1 ? "," : "", action_names[i].name);
	snprintf(out + len, 64 - len, "}");
}

bool admin_keys_add(PGconn *conn, const char *name, const char *office_code, unsigned actions, const char *actor,
		    char key[TOKENS_TEXT_MAX], char *err, size_t errlen)
{
	char hex[2 * TOKENS_HASH_BYTES + 1], acts[64];
	PGresult *res;

	if (!parse_is_name(name)) {
		snprintf(err, errlen,
			 "invalid key name '%.80s': use 1-63 of a-z 0-9 _ -, starting with a letter or digit", name);
		return false;
	}
	if (actions == 0 || (actions & ~(unsigned)ADMIN_ACTIONS_ALL)) {
		snprintf(err, errlen, "a key needs at least one of the actions roster, activation, unrouted, read");
		return false;
	}
	const char *oparams[1] = { office_code };
	res = db_exec(conn, "SELECT 1 FROM offices WHERE code = $1", 1, oparams);
	if (!res || PQntuples(res) != 1) {
		snprintf(err, errlen, res ? "no office with code '%.40s'" : "database error (see log)", office_code);
		PQclear(res);
		return false;
	}
	PQclear(res);
	actions_literal(actions, acts);
	tokens_generate("ak", key);
	hash_hex(key, strlen(key), hex);
	const char *params[5] = { name, hex, actor, office_code, acts };
	/* one statement: the key and its audit entry exist together or not at all */
	res = db_exec(conn,
		      "WITH k AS (INSERT INTO admin_api_keys (name, key_hash, office_code, actions)"
		      " VALUES ($1, decode($2, 'hex'), $4, $5::text[]) ON CONFLICT (name) DO NOTHING RETURNING id)"
		      " INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, details)"
		      " SELECT 'cli', $3, 'admin_key.add', $1, 'ok',"
		      " jsonb_build_object('office', $4::text, 'actions', $5::text[]) FROM k RETURNING id",
		      5, params);
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
	PGresult *res = db_exec(conn,
				"SELECT name, coalesce(office_code, '-'), coalesce(nullif(array_to_string(actions, ','), ''), '-'),"
				" created_at, last_used_at, revoked_at FROM admin_api_keys ORDER BY name",
				0, NULL);

	if (!res) {
		snprintf(err, errlen, "database error (see log)");
		return false;
	}
	fprintf(out, "%-24s %-6s %-31s %-32s %-32s %s\n", "NAME", "OFFICE", "SCOPE", "CREATED", "LAST_USED", "REVOKED");
	for (int r = 0; r < PQntuples(res); r++)
		fprintf(out, "%-24s %-6s %-31s %-32s %-32s %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
			PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetisnull(res, r, 4) ? "-" : PQgetvalue(res, r, 4),
			PQgetisnull(res, r, 5) ? "-" : PQgetvalue(res, r, 5));
	PQclear(res);
	return true;
}

enum admin_auth admin_keys_authenticate(PGconn *conn, const char *token, size_t len, enum admin_action action,
					const char *target, const char *ip, const char *request_id,
					struct admin_key_principal *who)
{
	char hex[2 * TOKENS_HASH_BYTES + 1];
	const char *act = admin_keys_action_name(action);
	PGresult *res;

	memset(who, 0, sizeof(*who));
	if (!tokens_has_prefix(token, len, "ak"))
		return ADMIN_AUTH_DENIED; /* not an admin key at all: nothing to audit */
	if (!act)
		act = "none"; /* a route naming no single action: no key is granted it */
	hash_hex(token, len, hex);
	const char *params[5] = { hex, target, ip, request_id, act };
	/* granted is false for "none": it is not in any key's actions */
	res = db_exec(conn,
		      "WITH k AS (UPDATE admin_api_keys SET last_used_at = now()"
		      " WHERE key_hash = decode($1, 'hex') AND revoked_at IS NULL AND office_code IS NOT NULL"
		      " RETURNING name, office_code, $5::text = ANY(actions) AS granted),"
		      " a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)"
		      " SELECT 'admin_key', k.name, 'admin.request', $2, CASE WHEN k.granted THEN 'ok' ELSE 'denied' END,"
		      " $3, $4, CASE WHEN k.granted THEN '{}'::jsonb"
		      " ELSE jsonb_build_object('reason', 'action_not_granted', 'action', $5::text) END FROM k"
		      " UNION ALL SELECT 'admin_key', NULL, 'admin.request', $2, 'denied', $3, $4, '{}'::jsonb"
		      " WHERE NOT EXISTS (SELECT 1 FROM k)"
		      " RETURNING actor_id)"
		      " SELECT a.actor_id, k.office_code, k.granted FROM a LEFT JOIN k ON k.name = a.actor_id",
		      5, params);
	if (!res)
		return db_broken(conn) ? ADMIN_AUTH_UNAVAILABLE : ADMIN_AUTH_DENIED;
	enum admin_auth r = ADMIN_AUTH_DENIED;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && !PQgetisnull(res, 0, 1)) {
		snprintf(who->name, sizeof(who->name), "%s", PQgetvalue(res, 0, 0));
		snprintf(who->office, sizeof(who->office), "%s", PQgetvalue(res, 0, 1));
		r = strcmp(PQgetvalue(res, 0, 2), "t") == 0 ? ADMIN_AUTH_OK : ADMIN_AUTH_NOT_GRANTED;
	}
	PQclear(res);
	return r;
}
