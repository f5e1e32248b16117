/*
 * jwt.h - compact JWS (JWT) signing for the push providers, on OpenSSL EVP,
 * jansson and libsodium.
 *
 * - Google FCM HTTP v1: the OAuth2 JWT-bearer grant assertion, RS256
 *   (RSASSA-PKCS1-v1_5 with SHA-256) under the service account's RSA key.
 * - Apple APNs: the provider token, ES256 (ECDSA P-256 with SHA-256) under
 *   the .p8 key; the signature is the raw 64-byte R||S of RFC 7518 §3.4.
 *
 * Only signing: alertd never needs to verify a JWT. A loaded key is
 * read-only, so one key may sign from several threads at once. Error texts
 * name files and fields, never key material.
 */
#ifndef ALERTD_JWT_H
#define ALERTD_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest key or service-account file read, and the largest serialised header or claims signed. */
#define JWT_MAX_FILE_BYTES 65536
#define JWT_MAX_JSON_BYTES 16384
/* Google accepts assertions valid for at most an hour. */
#define JWT_GOOGLE_MAX_LIFETIME 3600

struct jwt_key; /* an OpenSSL EVP_PKEY inside */

/*
 * Load a PEM private key: RSA of at least 2048 bits (PKCS#8 "BEGIN PRIVATE
 * KEY" or PKCS#1 "BEGIN RSA PRIVATE KEY") for RS256, or an EC P-256 key
 * (PKCS#8 as in an Apple .p8 file, or SEC1) for ES256. Encrypted keys are
 * refused, never prompted for. From a string (pem, len; need not be
 * NUL-terminated) or a file (at most JWT_MAX_FILE_BYTES). NULL on failure
 * with a short reason in err (never key material). Free with jwt_key_free.
 */
struct jwt_key *jwt_key_from_pem(const char *pem, size_t len, char *err, size_t errlen);
struct jwt_key *jwt_key_from_file(const char *path, char *err, size_t errlen);
/* NULL is fine. */
void jwt_key_free(struct jwt_key *key);
/* True for an EC (ES256) key, false for RSA (RS256) or NULL. */
bool jwt_key_is_ec(const struct jwt_key *key);

/*
 * Sign a compact JWS: base64url(header) "." base64url(claims) "."
 * base64url(signature), base64url without padding. header and claims are
 * jansson objects (borrowed; serialised compact, keys in insertion order,
 * each at most JWT_MAX_JSON_BYTES). alg must match the key: "RS256" for an
 * RSA key, "ES256" for a P-256 key (signature as raw 64-byte R||S, not
 * DER); header must carry the same "alg". Returns a malloc'd NUL-terminated
 * string the caller frees, or NULL on any failure (wrong alg for the key,
 * alg missing from or different in header, not objects, too large, no
 * memory, OpenSSL error).
 */
char *jwt_sign(const struct jwt_key *key, const char *alg, const json_t *header, const json_t *claims);

/*
 * Google service account: the JWT for the OAuth2 JWT-bearer grant. Header
 * {"alg":"RS256","typ":"JWT","kid":key_id}; claims {"iss":client_email,
 * "scope":scope,"aud":token_uri,"iat":now,"exp":now+lifetime_seconds}.
 * NULL when the key is not RSA, a string is NULL, empty or not UTF-8, or
 * lifetime_seconds is outside 1..JWT_GOOGLE_MAX_LIFETIME. Caller frees.
 */
char *jwt_google_assertion(const struct jwt_key *key, const char *key_id, const char *client_email, const char *scope,
			   const char *token_uri, int64_t now, int lifetime_seconds);

/*
 * APNs provider token: header {"alg":"ES256","kid":key_id}; claims
 * {"iss":team_id,"iat":now}. NULL when the key is not EC P-256 or a string
 * is NULL, empty or not UTF-8. Caller frees.
 */
char *jwt_apns_token(const struct jwt_key *key, const char *key_id, const char *team_id, int64_t now);

/*
 * The service-account JSON file fields alertd needs, each a non-empty
 * string; malloc'd, free with jwt_service_account_free. private_key is the
 * PEM text, for jwt_key_from_pem.
 */
struct jwt_service_account {
	char *project_id, *private_key_id, *private_key, *client_email, *token_uri;
};

/*
 * Read the service-account file at path (at most JWT_MAX_FILE_BYTES). False
 * with err naming the file and the missing or invalid field (or saying the
 * file is unreadable or not JSON, without quoting it); out is then all NULL
 * and needs no freeing.
 */
bool jwt_service_account_load(const char *path, struct jwt_service_account *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Free the strings (the private key wiped first) and set them NULL; safe to call twice. */
void jwt_service_account_free(struct jwt_service_account *sa);

#endif
