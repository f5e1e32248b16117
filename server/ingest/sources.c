/*
 * sources.c - ingest source management (secrets and scopes) and the
 * verification-key cache.
 */
#include "ingest/sources.h"
#include "core/buf.h"
#include "core/parse.h"
#include "core/clock.h"
#include "db/audit.h"
#include "db/db.h"
#include "core/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_SLOTS 64

/* Insert a freshly generated secret for source_id; caller holds the transaction. */
static bool insert_secret(PGconn *conn, const struct secrets_kek *kek, const char *source_id,
			  char secret[SECRETS_TEXT_MAX], long long *secret_id)
{
	unsigned char key[SECRETS_NEW_KEY], nonce[SECRETS_NONCE_BYTES];
	unsigned char *ct = NULL;
	size_t ctlen = 0;
	char ct_hex[2 * (SECRETS_NEW_KEY + crypto_secretbox_MACBYTES) + 1], nonce_hex[2 * SECRETS_NONCE_BYTES + 1];
	PGresult *res = NULL;
	bool ok = false;

	secrets_generate(key, secret);
	if (!secrets_seal(kek, key, sizeof(key), &ct, &ctlen, nonce))
		goto out;
	sodium_bin2hex(ct_hex, sizeof(ct_hex), ct, ctlen);
	sodium_bin2hex(nonce_hex, sizeof(nonce_hex), nonce, sizeof(nonce));
	const char *params[3] = { source_id, ct_hex, nonce_hex };
	res = db_exec(conn,
		      "INSERT INTO ingest_secrets (source_id, ciphertext, nonce)"
		      " VALUES ($1, decode($2, 'hex'), decode($3, 'hex')) RETURNING id",
		      3, params);
	if (!res || PQntuples(res) != 1)
		goto out;
	*secret_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	free(ct);
	PQclear(res);
	return ok;
}

static bool audit(PGconn *conn, const char *actor, const char *action, const char *target, const char *details)
{
	struct audit_entry e = {
		.actor_kind = "cli", .actor_id = actor, .action = action, .target = target, .outcome = "ok", .details = details
	};
	return audit_write(conn, &e);
}

/* Look up an active source's id text into id (size 24). */
static bool find_source(PGconn *conn, const char *name, char id[24], char *err, size_t errlen)
{
	const char *params[1] = { name };
	PGresult *res = db_exec(conn, "SELECT id FROM ingest_sources WHERE name = $1 AND active FOR UPDATE", 1, params);
	bool ok = res && PQntuples(res) == 1;

	if (ok)
		snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
	else
		snprintf(err, errlen, "no active source named '%s'", name);
	PQclear(res);
	return ok;
}

enum step { STEP_OK, STEP_REFUSED, STEP_FAILED };

/* An office code as the roster has it: 4 characters of 0-9 A-Z. */
static bool office_code_valid(const char *s)
{
	return strlen(s) == 4 && strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 4;
}

/*
 * The codes as a PostgreSQL array literal into arr (each checked first, so
 * none needs quoting) and as a sorted JSON array without repeats into *json
 * (the audit detail). False, with err set, for a bad list.
 */
static bool office_list(const char *const *offices, size_t n, struct buf *arr, json_t **json, char *err, size_t errlen)
{
	if (n < 1 || n > SOURCES_MAX_OFFICES) {
		snprintf(err, errlen, "give 1 to %d offices (--office CODE)", SOURCES_MAX_OFFICES);
		return false;
	}
	*json = json_array();
	buf_append(arr, "{", 1);
	for (size_t i = 0; i < n; i++) {
		if (!office_code_valid(offices[i])) {
			snprintf(err, errlen, "invalid office code '%.16s': 4 characters of 0-9 A-Z", offices[i]);
			return false;
		}
		buf_printf(arr, "%s%s", i ? "," : "", offices[i]);
		size_t k, at = json_array_size(*json);
		json_t *v;
		bool seen = false;
		json_array_foreach(*json, k, v) {
			int c = strcmp(json_string_value(v), offices[i]);
			seen = seen || c == 0;
			if (c > 0 && at == json_array_size(*json))
				at = k;
		}
		if (!seen && json_array_insert_new(*json, at, json_string(offices[i])) != 0)
			goto oom;
	}
	buf_append(arr, "}", 1);
	if (buf_ok(arr))
		return true;
oom:
	snprintf(err, errlen, "out of memory");
	return false;
}

/* {"offices": [...], "previous": [...]} (previous left out when NULL) for the audit row; NULL on OOM. */
static char *audit_details(json_t *offices, json_t *previous)
{
	json_t *d = json_pack("{s:O,s:O*}", "offices", offices, "previous", previous);
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(d);
	return text;
}

/*
 * Replace the scope of the locked source source_id by the offices in arr
 * (an array literal from office_list). Every office must be in the roster.
 * *previous receives the old scope as a JSON array (sorted).
 */
static enum step set_scope(PGconn *conn, const char *source_id, const char *arr, json_t **previous, char *err, size_t errlen)
{
	const char *params[2] = { source_id, arr };
	PGresult *res = db_exec(conn,
				"SELECT c FROM unnest($1::text[]) c"
				" WHERE NOT EXISTS (SELECT 1 FROM offices o WHERE o.code = c AND o.active)"
				" ORDER BY c LIMIT 1",
				1, params + 1);
	json_error_t je;

	if (!res)
		return STEP_FAILED;
	if (PQntuples(res) == 1) {
		snprintf(err, errlen,
			 "no active office '%s' in the roster (import the roster first: alertd roster import;"
			 " an inactive office covers nothing)",
			 PQgetvalue(res, 0, 0));
		PQclear(res);
		return STEP_REFUSED;
	}
	PQclear(res);
	res = db_exec(conn,
		      "WITH old AS (DELETE FROM ingest_source_offices WHERE source_id = $1 RETURNING office_code)"
		      " SELECT COALESCE(json_agg(office_code ORDER BY office_code), '[]')::text FROM old",
		      1, params);
	if (!res)
		return STEP_FAILED;
	*previous = json_loads(PQgetvalue(res, 0, 0), 0, &je);
	PQclear(res);
	if (!*previous)
		return STEP_FAILED;
	return db_run(conn,
		      "INSERT INTO ingest_source_offices (source_id, office_code)"
		      " SELECT DISTINCT $1::bigint, c FROM unnest($2::text[]) c",
		      2, params)
		       ? STEP_OK
		       : STEP_FAILED;
}

bool sources_add(PGconn *conn, const struct secrets_kek *kek, const char *name, const char *const *offices, size_t noffices,
		 const char *actor, char secret[SECRETS_TEXT_MAX], long long *secret_id, char *err, size_t errlen)
{
	const char *params[1] = { name };
	PGresult *res = NULL;
	char id[24];
	struct buf arr;
	json_t *scope = NULL, *previous = NULL;
	char *details = NULL;
	enum step st;

	buf_init(&arr, 1024);
	if (!parse_is_name(name)) {
		snprintf(err, errlen,
			 "invalid source name '%.80s': use 1-63 of a-z 0-9 _ -, starting with a letter or digit", name);
		goto refused;
	}
	if (!office_list(offices, noffices, &arr, &scope, err, errlen))
		goto refused;
	if (!db_begin(conn))
		goto fail;
	res = db_exec(conn, "INSERT INTO ingest_sources (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", 1,
		      params);
	if (!res)
		goto fail;
	if (PQntuples(res) != 1) {
		snprintf(err, errlen, "a source named '%s' already exists (use 'alertd source rotate %s')", name, name);
		goto rollback;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	st = set_scope(conn, id, arr.data, &previous, err, errlen);
	if (st == STEP_REFUSED)
		goto rollback;
	if (st == STEP_OK)
		details = audit_details(scope, NULL);
	if (!details || !insert_secret(conn, kek, id, secret, secret_id) || !audit(conn, actor, "source.add", name, details))
		goto fail;
	if (!db_commit(conn))
		goto fail;
	PQclear(res);
	free(details);
	json_decref(scope);
	json_decref(previous);
	buf_free(&arr);
	return true;
fail:
	snprintf(err, errlen, "database error (see log)");
rollback:
	db_rollback(conn);
refused:
	PQclear(res);
	free(details);
	json_decref(scope);
	json_decref(previous);
	buf_free(&arr);
	sodium_memzero(secret, SECRETS_TEXT_MAX);
	return false;
}

bool sources_scope(PGconn *conn, const char *name, const char *const *offices, size_t noffices, const char *actor,
		   char *err, size_t errlen)
{
	char id[24];
	struct buf arr;
	json_t *scope = NULL, *previous = NULL;
	char *details = NULL;
	enum step st;
	bool ok = false;

	buf_init(&arr, 1024);
	if (!office_list(offices, noffices, &arr, &scope, err, errlen))
		goto out;
	if (!db_begin(conn))
		goto fail;
	if (!find_source(conn, name, id, err, errlen))
		goto rollback;
	st = set_scope(conn, id, arr.data, &previous, err, errlen);
	if (st == STEP_REFUSED)
		goto rollback;
	if (st == STEP_FAILED)
		goto fail;
	details = audit_details(scope, previous);
	if (!details || !audit(conn, actor, "source.scope", name, details) || !db_commit(conn))
		goto fail;
	ok = true;
	goto out;
fail:
	snprintf(err, errlen, "database error (see log)");
rollback:
	db_rollback(conn);
out:
	free(details);
	json_decref(scope);
	json_decref(previous);
	buf_free(&arr);
	return ok;
}

/* Add a secret to the locked source source_id unless it has SOURCES_MAX_ACTIVE_SECRETS already. */
static enum step rotate_step(PGconn *conn, const struct secrets_kek *kek, const char *name, const char *source_id,
			     char secret[SECRETS_TEXT_MAX], long long *secret_id, char *err, size_t errlen)
{
	const char *params[1] = { source_id };
	PGresult *res =
		db_exec(conn, "SELECT count(*) FROM ingest_secrets WHERE source_id = $1 AND revoked_at IS NULL", 1, params);
	bool full;

	if (!res)
		return STEP_FAILED;
	full = strtol(PQgetvalue(res, 0, 0), NULL, 10) >= SOURCES_MAX_ACTIVE_SECRETS;
	PQclear(res);
	if (full) {
		snprintf(err, errlen, "source '%s' already has %d active secrets; revoke one first", name,
			 SOURCES_MAX_ACTIVE_SECRETS);
		return STEP_REFUSED;
	}
	return insert_secret(conn, kek, source_id, secret, secret_id) ? STEP_OK : STEP_FAILED;
}

/* Revoke the locked source's active secret secret_id. */
static enum step revoke_step(PGconn *conn, const char *name, const char *source_id, long long secret_id, char *err,
			     size_t errlen)
{
	char sid[24];
	const char *params[2] = { source_id, sid };
	PGresult *res;
	bool found;

	snprintf(sid, sizeof(sid), "%lld", secret_id);
	res = db_exec(conn,
		      "UPDATE ingest_secrets SET revoked_at = now()"
		      " WHERE source_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id",
		      2, params);
	if (!res)
		return STEP_FAILED;
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found) {
		snprintf(err, errlen, "source '%s' has no active secret %lld", name, secret_id);
		return STEP_REFUSED;
	}
	return STEP_OK;
}

/*
 * One transaction on the active source name, its row locked: rotate (kek
 * set: a new secret into secret and *secret_id) or revoke *secret_id (kek
 * NULL), audited as action with the secret's id. On failure nothing is
 * changed, err says why and a new secret is wiped.
 */
static bool change_secret(PGconn *conn, const struct secrets_kek *kek, const char *name, const char *actor,
			  const char *action, char secret[SECRETS_TEXT_MAX], long long *secret_id, char *err, size_t errlen)
{
	char id[24], details[64];
	enum step st;

	if (!db_begin(conn))
		goto fail;
	if (!find_source(conn, name, id, err, errlen))
		goto refused;
	st = kek ? rotate_step(conn, kek, name, id, secret, secret_id, err, errlen)
		 : revoke_step(conn, name, id, *secret_id, err, errlen);
	if (st == STEP_REFUSED)
		goto refused;
	if (st == STEP_FAILED)
		goto fail;
	snprintf(details, sizeof(details), "{\"secret_id\":%lld}", *secret_id);
	if (!audit(conn, actor, action, name, details) || !db_commit(conn))
		goto fail;
	return true;
fail:
	snprintf(err, errlen, "database error (see log)");
refused:
	db_rollback(conn);
	if (secret)
		sodium_memzero(secret, SECRETS_TEXT_MAX);
	return false;
}

bool sources_rotate(PGconn *conn, const struct secrets_kek *kek, const char *name, const char *actor,
		    char secret[SECRETS_TEXT_MAX], long long *secret_id, char *err, size_t errlen)
{
	if (!kek) { /* change_secret reads a NULL kek as "revoke" */
		snprintf(err, errlen, "no key-encryption key to seal the new secret with");
		return false;
	}
	return change_secret(conn, kek, name, actor, "source.rotate", secret, secret_id, err, errlen);
}

bool sources_revoke_secret(PGconn *conn, const char *name, long long secret_id, const char *actor, char *err, size_t errlen)
{
	return change_secret(conn, NULL, name, actor, "source.revoke_secret", NULL, &secret_id, err, errlen);
}

bool sources_list(PGconn *conn, FILE *out, char *err, size_t errlen)
{
	PGresult *res = db_exec(conn,
				"SELECT s.name, s.active, k.id, k.created_at, k.revoked_at,"
				" COALESCE((SELECT string_agg(o.office_code, ',' ORDER BY o.office_code)"
				"   FROM ingest_source_offices o WHERE o.source_id = s.id), 'none')"
				" FROM ingest_sources s LEFT JOIN ingest_secrets k ON k.source_id = s.id"
				" ORDER BY s.name, k.id",
				0, NULL);

	if (!res) {
		snprintf(err, errlen, "database error (see log)");
		return false;
	}
	/* SCOPE "none": the source can write no event until 'alertd source scope' gives it offices */
	fprintf(out, "%-24s %-7s %-16s %-10s %-32s %s\n", "SOURCE", "ACTIVE", "SCOPE", "SECRET_ID", "CREATED", "REVOKED");
	for (int r = 0; r < PQntuples(res); r++)
		fprintf(out, "%-24s %-7s %-16s %-10s %-32s %s\n", PQgetvalue(res, r, 0),
			strcmp(PQgetvalue(res, r, 1), "t") == 0 ? "yes" : "no", PQgetvalue(res, r, 5),
			PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetisnull(res, r, 4) ? "-" : PQgetvalue(res, r, 4));
	PQclear(res);
	return true;
}

/* ---- verification-key cache ---- */

struct cache_entry {
	char name[64];
	bool used;
	bool found;
	long long expires_ms;
	struct source_keys keys;
};

struct source_cache {
	pthread_mutex_t lock;
	bool has_kek;
	struct secrets_kek kek;
	int ttl_ms;
	size_t next_victim;
	struct cache_entry entries[CACHE_SLOTS];
};

struct source_cache *source_cache_new(const struct secrets_kek *kek, int ttl_seconds)
{
	struct source_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	if (kek) {
		c->kek = *kek;
		c->has_kek = true;
	}
	c->ttl_ms = ttl_seconds * 1000;
	return c;
}

void source_cache_free(struct source_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* Read and decrypt from the database. */
static enum source_lookup load(struct source_cache *c, struct db_pool *db, const char *name, struct source_keys *out)
{
	const char *params[1] = { name };
	enum source_lookup result = SOURCE_UNAVAILABLE;
	PGresult *res = NULL;
	PGconn *conn = db_acquire(db, DB_POOL_WAIT_MS);

	memset(out, 0, sizeof(*out));
	if (!conn)
		return SOURCE_UNAVAILABLE;
	res = db_exec(conn,
		      "SELECT s.id, encode(k.ciphertext, 'hex'), encode(k.nonce, 'hex')"
		      " FROM ingest_sources s JOIN ingest_secrets k ON k.source_id = s.id AND k.revoked_at IS NULL"
		      " WHERE s.name = $1 AND s.active ORDER BY k.id DESC LIMIT 8",
		      1, params);
	if (!res)
		goto out;
	result = SOURCE_UNKNOWN;
	for (int r = 0; r < PQntuples(res) && out->nkeys < SOURCES_MAX_ACTIVE_SECRETS; r++) {
		unsigned char ct[SECRETS_MAX_KEY + crypto_secretbox_MACBYTES], nonce[SECRETS_NONCE_BYTES];
		size_t ctlen = 0, noncelen = 0;
		struct webhook_key *k = &out->keys[out->nkeys];
		const char *ct_hex = PQgetvalue(res, r, 1), *nonce_hex = PQgetvalue(res, r, 2);
		if (sodium_hex2bin(ct, sizeof(ct), ct_hex, strlen(ct_hex), NULL, &ctlen, NULL) != 0 ||
		    sodium_hex2bin(nonce, sizeof(nonce), nonce_hex, strlen(nonce_hex), NULL, &noncelen, NULL) != 0 ||
		    noncelen != sizeof(nonce) ||
		    !secrets_open(&c->kek, ct, ctlen, nonce, k->bytes, sizeof(k->bytes), &k->len)) {
			/* wrong KEK or tampered row: never usable, but say so loudly */
			LOG_FIELDS(LOG_ERROR, "ingest secret does not decrypt under secrets.key_file", LOG_S("source", name));
			continue;
		}
		out->source_id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		out->nkeys++;
	}
	if (out->nkeys > 0)
		result = SOURCE_FOUND;
out:
	PQclear(res);
	db_release(db, conn);
	return result;
}

enum source_lookup source_cache_get(struct source_cache *c, struct db_pool *db, const char *name, struct source_keys *out)
{
	enum source_lookup r;

	if (!c->has_kek || !parse_is_name(name))
		return SOURCE_UNKNOWN;
	if (c->ttl_ms > 0) {
		long long now = clock_mono_ms();
		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < CACHE_SLOTS; i++) {
			struct cache_entry *e = &c->entries[i];
			if (e->used && e->expires_ms > now && strcmp(e->name, name) == 0) {
				*out = e->keys;
				r = e->found ? SOURCE_FOUND : SOURCE_UNKNOWN;
				pthread_mutex_unlock(&c->lock);
				return r;
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	r = load(c, db, name, out);
	if (r != SOURCE_UNAVAILABLE && c->ttl_ms > 0) {
		pthread_mutex_lock(&c->lock);
		struct cache_entry *e = NULL;
		for (size_t i = 0; i < CACHE_SLOTS && !e; i++)
			if (c->entries[i].used && strcmp(c->entries[i].name, name) == 0)
				e = &c->entries[i];
		/* an unknown name may only take a free or negative slot: a flood of made-up
		   names must not evict the real sources */
		for (size_t i = 0; i < CACHE_SLOTS && !e; i++)
			if (!c->entries[i].used || !c->entries[i].found)
				e = &c->entries[i];
		if (!e && r == SOURCE_FOUND) {
			e = &c->entries[c->next_victim];
			c->next_victim = (c->next_victim + 1) % CACHE_SLOTS;
		}
		if (!e) {
			pthread_mutex_unlock(&c->lock);
			return r;
		}
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->used = true;
		e->found = r == SOURCE_FOUND;
		e->keys = *out;
		e->expires_ms = clock_mono_ms() + c->ttl_ms;
		pthread_mutex_unlock(&c->lock);
	}
	return r;
}
