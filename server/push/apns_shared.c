/*
 * apns_shared.c - the APNs provider token shared through the database (see
 * apns_shared.h).
 *
 * The row for (team, key) is inserted if absent, then locked FOR UPDATE:
 * two instances renewing at once queue on that lock, and the second finds
 * the first one's fresh token. Ages and a new token's iat come from the
 * database's clock read after the lock is held, so a wait on the lock or an
 * instance whose clock is ahead cannot make a fresh token look old. The
 * token is stored only sealed (secretbox under the KEK, hex in and out of
 * SQL); nothing here logs it.
 */
#include "push/apns_shared.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/secrets.h"
#include "db/db.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A peer that froze while holding the row's lock must not stall this
 * instance's iOS pushes: the lock wait and each statement are bounded, and
 * the server ends a session left idle inside its transaction.
 */
static const char IDLE_LIMIT_SQL[] = "SET LOCAL idle_in_transaction_session_timeout = '10s'";
static const char LOCK_LIMIT_SQL[] = "SET LOCAL lock_timeout = '5s'";
static const char STATEMENT_LIMIT_SQL[] = "SET LOCAL statement_timeout = '10s'";
static const char LOCK_SQL[] = "SELECT coalesce(floor(extract(epoch FROM issued_at))::bigint, 0), encode(nonce, 'hex'),"
			       " encode(token_sealed, 'hex')"
			       " FROM apns_provider_tokens WHERE team_id = $1 AND key_id = $2 FOR UPDATE";
#define UNCOMMITTED_RETRY 60	/* seconds: a token whose COMMIT failed is used this long, then the row read again */
#define CLOCK_SKEW_TOLERATED 60 /* seconds: a stored iat this far ahead of the database's clock is still taken */

/* One base64url part of a compact JWS as a JSON object; NULL if it is not one. The caller decrefs. */
static json_t *jws_part(const char *part, size_t len)
{
	unsigned char buf[1024];
	size_t n = 0;

	if (len == 0 || len > 4 * sizeof(buf) / 3 ||
	    sodium_base642bin(buf, sizeof(buf), part, len, NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	json_t *o = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/*
 * Is token the ES256 provider token of this row: header alg ES256 and kid
 * key_id, claims iss team_id and iat the row's issued_at? The seal proves
 * only that someone with the KEK made it; this ties it to its row, so a
 * sealed token copied from another row (a key rotation keeps two) or put
 * back with a fresher issued_at is not reused.
 */
static bool token_matches_row(const char *token, const struct apns_shared_req *r, long long iat)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	json_t *hdr = NULL, *claims = NULL;
	bool ok = false;

	if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || dot2[1] == '\0')
		return false;
	for (const char *p = token; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return false;
	hdr = jws_part(token, (size_t)(dot1 - token));
	claims = jws_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!hdr || !claims)
		goto out;
	const char *alg = json_string_value(json_object_get(hdr, "alg"));
	const char *kid = json_string_value(json_object_get(hdr, "kid"));
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	json_t *t = json_object_get(claims, "iat");
	ok = alg && strcmp(alg, "ES256") == 0 && kid && strcmp(kid, r->key_id) == 0 && iss &&
	     strcmp(iss, r->team_id) == 0 && json_is_integer(t) && json_integer_value(t) == iat;
out:
	json_decref(hdr);
	json_decref(claims);
	return ok;
}

/*
 * Open the stored token (hex nonce and ciphertext) into out. False if it
 * does not open under kek or is not this row's token (token_matches_row;
 * it goes into an HTTP header); out is then wiped.
 */
static bool open_stored(const struct secrets_kek *kek, const struct apns_shared_req *r, long long iat,
			const char *nonce_hex, const char *ct_hex, char out[PUSH_TOKEN_MAX])
{
	unsigned char nonce[SECRETS_NONCE_BYTES];
	unsigned char *ct = NULL;
	size_t nlen = 0, ctlen = 0, len = 0;
	size_t cap = strlen(ct_hex) / 2 + 1;
	bool ok = false;

	if (cap > PUSH_TOKEN_MAX + crypto_secretbox_MACBYTES || !(ct = malloc(cap)))
		return false;
	if (sodium_hex2bin(nonce, sizeof(nonce), nonce_hex, strlen(nonce_hex), NULL, &nlen, NULL) != 0 ||
	    nlen != sizeof(nonce) || sodium_hex2bin(ct, cap, ct_hex, strlen(ct_hex), NULL, &ctlen, NULL) != 0)
		goto out;
	/* one byte kept for the NUL */
	if (!secrets_open(kek, ct, ctlen, nonce, (unsigned char *)out, PUSH_TOKEN_MAX - 1, &len) || len == 0)
		goto out;
	out[len] = '\0';
	ok = strlen(out) == len && token_matches_row(out, r, iat);
out:
	if (!ok)
		sodium_memzero(out, PUSH_TOKEN_MAX);
	free(ct);
	return ok;
}

/* Sign a token with iat into out, seal it and store it in the locked row. */
static bool sign_and_store(PGconn *conn, const struct apns_shared_req *r, long long iat, char out[PUSH_TOKEN_MAX])
{
	char *jwt = jwt_apns_token(r->key, r->key_id, r->team_id, iat);
	unsigned char nonce[SECRETS_NONCE_BYTES], *ct = NULL;
	size_t ctlen = 0;
	char nonce_hex[2 * SECRETS_NONCE_BYTES + 1], iat_text[24];
	char *ct_hex = NULL;
	bool ok = false;

	if (!jwt || strlen(jwt) >= PUSH_TOKEN_MAX) {
		log_error("push: could not sign the APNs provider token");
		goto out;
	}
	if (!secrets_seal(r->kek, (const unsigned char *)jwt, strlen(jwt), &ct, &ctlen, nonce))
		goto out;
	if (!(ct_hex = malloc(2 * ctlen + 1)))
		goto out;
	sodium_bin2hex(ct_hex, 2 * ctlen + 1, ct, ctlen);
	sodium_bin2hex(nonce_hex, sizeof(nonce_hex), nonce, sizeof(nonce));
	snprintf(iat_text, sizeof(iat_text), "%lld", iat);
	const char *params[5] = { r->team_id, r->key_id, iat_text, nonce_hex, ct_hex };
	if (!db_run(conn,
		    "UPDATE apns_provider_tokens SET issued_at = to_timestamp($3::bigint), nonce = decode($4, 'hex'),"
		    " token_sealed = decode($5, 'hex'), renewals = renewals + 1 WHERE team_id = $1 AND key_id = $2",
		    5, params))
		goto out;
	snprintf(out, PUSH_TOKEN_MAX, "%s", jwt);
	ok = true;
out:
	if (jwt)
		sodium_memzero(jwt, strlen(jwt));
	free(jwt);
	free(ct);
	free(ct_hex);
	return ok;
}

/* The database's clock now, in whole seconds; 0 on failure (logged by db_exec). */
static long long db_clock(PGconn *conn)
{
	PGresult *res = db_exec(conn, "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint", 0, NULL);
	long long now = res && PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;

	PQclear(res);
	return now;
}

bool apns_shared_token(const struct apns_shared_req *r, char out[PUSH_TOKEN_MAX], long long *iat, long long *valid_for,
		       bool *signed_here)
{
	const char *keys[2] = { r->team_id, r->key_id };
	PGresult *res = NULL;
	bool ok = false;

	*signed_here = false;
	if (!r->kek)
		return false;
	PGconn *conn = db_connect(r->conninfo, r->connect_timeout_seconds);
	if (!conn)
		return false;
	if (!db_begin(conn) || !db_run(conn, IDLE_LIMIT_SQL, 0, NULL) || !db_run(conn, LOCK_LIMIT_SQL, 0, NULL) ||
	    !db_run(conn, STATEMENT_LIMIT_SQL, 0, NULL) ||
	    !db_run(conn, "INSERT INTO apns_provider_tokens (team_id, key_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, keys) ||
	    !(res = db_exec(conn, LOCK_SQL, 2, keys)) || PQntuples(res) != 1)
		goto out;
	long long now = db_clock(conn);
	if (now <= 0)
		goto out;
	long long stored_iat = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	long long age = now - stored_iat;
	if (age < 0 && age >= -CLOCK_SKEW_TOLERATED)
		age = 0;
	bool reusable = stored_iat > 0 && age >= 0 && age < r->refresh_seconds && stored_iat != r->refused_iat;
	if (reusable && open_stored(r->kek, r, stored_iat, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), out)) {
		*iat = stored_iat;
		*valid_for = r->refresh_seconds - age;
	} else {
		if (reusable)
			log_error("push: the shared APNs provider token does not open under this instance's "
				  "secrets.key_file or is not this row's token: signing a new one (do all instances use "
				  "the same key file?)");
		/* a renewal after a refusal in the same second must still carry a new iat */
		*iat = now > r->refused_iat ? now : r->refused_iat + 1;
		if (!sign_and_store(conn, r, *iat, out))
			goto out;
		*valid_for = r->refresh_seconds;
		*signed_here = true;
	}
	ok = true;
	/* the token is good whatever COMMIT says: a new one would only be one more renewal for Apple */
	if (!db_commit(conn) && *signed_here) {
		log_warn("push: the new APNs provider token may not be stored: using it here, asking again in a minute");
		*valid_for = UNCOMMITTED_RETRY;
	}
out:
	PQclear(res);
	if (!ok)
		db_rollback(conn);
	PQfinish(conn);
	return ok;
}
