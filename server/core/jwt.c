/*
 * jwt.c - compact JWS signing (RS256, ES256) for the FCM OAuth2 assertion
 * and the APNs provider token. See jwt.h. Keys and signatures are OpenSSL
 * EVP, the JSON is jansson, base64url is libsodium.
 */
#include "core/jwt.h"
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
/* R and S of a P-256 signature, each padded to the field size. */
#define ES256_HALF 32
#define RSA_MIN_BITS 2048

struct jwt_key {
	EVP_PKEY *pkey;
	bool ec;
};

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Never prompt for a pass phrase: an encrypted key simply fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static bool is_p256(EVP_PKEY *pkey)
{
	char name[64];
	size_t nlen = 0;

	if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &nlen) != 1)
		return false;
	return OBJ_sn2nid(name) == NID_X9_62_prime256v1 || strcmp(name, "P-256") == 0;
}

struct jwt_key *jwt_key_from_pem(const char *pem, size_t len, char *err, size_t errlen)
{
	struct jwt_key *key = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	bool ec = false;

	if (!pem || len == 0) {
		seterr(err, errlen, "empty private key");
		return NULL;
	}
	if (len > JWT_MAX_FILE_BYTES) {
		seterr(err, errlen, "private key larger than %d bytes", JWT_MAX_FILE_BYTES);
		return NULL;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!pkey) {
		/* OpenSSL's reason strings are fixed texts; the error data (which may quote input) is not used */
		const char *why = ERR_reason_error_string(ERR_peek_last_error());
		seterr(err, errlen, "not a usable PEM private key (%s)", why ? why : "unknown error");
		goto fail;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		ec = false;
		if (EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS) {
			seterr(err, errlen, "RSA key shorter than %d bits", RSA_MIN_BITS);
			goto fail;
		}
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		ec = true;
		if (!is_p256(pkey)) {
			seterr(err, errlen, "EC key is not on curve P-256");
			goto fail;
		}
	} else {
		seterr(err, errlen, "private key is neither RSA nor EC P-256");
		goto fail;
	}
	key = malloc(sizeof(*key));
	if (!key) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	key->pkey = pkey;
	key->ec = ec;
	BIO_free(bio);
	return key;
fail:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return NULL;
}

struct jwt_key *jwt_key_from_file(const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	char *pem = fileio_read(path, JWT_MAX_FILE_BYTES, &len, err, errlen);
	struct jwt_key *key;
	char why[160];

	if (!pem)
		return NULL;
	key = jwt_key_from_pem(pem, len, why, sizeof(why));
	if (!key)
		seterr(err, errlen, "%s: %s", path, why);
	sodium_memzero(pem, len);
	free(pem);
	return key;
}

void jwt_key_free(struct jwt_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

bool jwt_key_is_ec(const struct jwt_key *key)
{
	return key && key->ec;
}

/*
 * Sign in with SHA-256 under the key: PKCS#1 v1.5 for RSA, raw R||S for EC.
 * Returns a malloc'd signature (*siglen bytes) the caller frees, or NULL.
 */
static unsigned char *sign_sha256(const struct jwt_key *key, const unsigned char *in, size_t inlen, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL, *raw = NULL;
	const unsigned char *p;
	const BIGNUM *r, *s;
	size_t n = 0;

	if (!md || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key->pkey) != 1)
		goto fail;
	if (!key->ec && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
		goto fail;
	if (EVP_DigestSign(md, NULL, &n, in, inlen) != 1 || n == 0)
		goto fail;
	der = malloc(n);
	if (!der || EVP_DigestSign(md, der, &n, in, inlen) != 1)
		goto fail;
	if (!key->ec) {
		*siglen = n;
		EVP_MD_CTX_free(md);
		return der;
	}
	/* ECDSA comes out DER-encoded; JWS wants the two integers as fixed 32-byte big-endian halves */
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)n);
	if (!es || p != der + n)
		goto fail;
	ECDSA_SIG_get0(es, &r, &s);
	raw = malloc(2 * ES256_HALF);
	if (!raw || BN_bn2binpad(r, raw, ES256_HALF) != ES256_HALF ||
	    BN_bn2binpad(s, raw + ES256_HALF, ES256_HALF) != ES256_HALF)
		goto fail;
	*siglen = 2 * ES256_HALF;
	ECDSA_SIG_free(es);
	free(der);
	EVP_MD_CTX_free(md);
	return raw;
fail:
	free(raw);
	ECDSA_SIG_free(es);
	free(der);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return NULL;
}

/* Append base64url(bin) at out + *pos (room already reserved) and advance *pos. */
static void put_b64url(char *out, size_t cap, size_t *pos, const void *bin, size_t len)
{
	sodium_bin2base64(out + *pos, cap - *pos, bin, len, B64URL);
	*pos += strlen(out + *pos);
}

char *jwt_sign(const struct jwt_key *key, const char *alg, const json_t *header, const json_t *claims)
{
	char *h = NULL, *c = NULL, *out = NULL;
	unsigned char *sig = NULL;
	size_t hlen, clen, siglen = 0, cap, pos = 0;
	const char *halg;

	if (!key || !alg || !json_is_object(header) || !json_is_object(claims))
		return NULL;
	if (strcmp(alg, key->ec ? "ES256" : "RS256") != 0)
		return NULL;
	halg = json_string_value(json_object_get(header, "alg"));
	if (!halg || strcmp(halg, alg) != 0)
		return NULL;
	h = json_dumps(header, JSON_COMPACT);
	c = json_dumps(claims, JSON_COMPACT);
	if (!h || !c)
		goto fail;
	hlen = strlen(h);
	clen = strlen(c);
	if (hlen > JWT_MAX_JSON_BYTES || clen > JWT_MAX_JSON_BYTES)
		goto fail;
	/* each ENCODED_LEN counts a NUL, which leaves room for the two dots and the final NUL */
	cap = sodium_base64_ENCODED_LEN(hlen, B64URL) + sodium_base64_ENCODED_LEN(clen, B64URL) +
	      sodium_base64_ENCODED_LEN((size_t)EVP_PKEY_get_size(key->pkey), B64URL);
	out = malloc(cap);
	if (!out)
		goto fail;
	put_b64url(out, cap, &pos, h, hlen);
	out[pos++] = '.';
	put_b64url(out, cap, &pos, c, clen);
	sig = sign_sha256(key, (const unsigned char *)out, pos, &siglen);
	if (!sig || siglen > (size_t)EVP_PKEY_get_size(key->pkey))
		goto fail;
	out[pos++] = '.';
	put_b64url(out, cap, &pos, sig, siglen);
	free(sig);
	free(c);
	free(h);
	return out;
fail:
	free(sig);
	free(out);
	free(c);
	free(h);
	return NULL;
}

static bool nonempty(const char *s)
{
	return s && *s;
}

/* jwt_sign, then release header and claims; NULL when either is NULL (json_pack failed) or signing fails. */
static char *sign_and_release(const struct jwt_key *key, const char *alg, json_t *header, json_t *claims)
{
	char *jwt = header && claims ? jwt_sign(key, alg, header, claims) : NULL;

	json_decref(claims);
	json_decref(header);
	return jwt;
}

char *jwt_google_assertion(const struct jwt_key *key, const char *key_id, const char *client_email, const char *scope,
			   const char *token_uri, int64_t now, int lifetime_seconds)
{
	json_t *header, *claims;

	if (!key || key->ec || !nonempty(key_id) || !nonempty(client_email) || !nonempty(scope) || !nonempty(token_uri))
		return NULL;
	if (lifetime_seconds < 1 || lifetime_seconds > JWT_GOOGLE_MAX_LIFETIME || now < 0 || now > INT64_MAX - lifetime_seconds)
		return NULL;
	/* json_pack fails on strings that are not valid UTF-8 */
	header = json_pack("{s:s,s:s,s:s}", "alg", "RS256", "typ", "JWT", "kid", key_id);
	claims = json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", client_email, "scope", scope, "aud", token_uri, "iat",
			   (json_int_t)now, "exp", (json_int_t)(now + lifetime_seconds));
	return sign_and_release(key, "RS256", header, claims);
}

char *jwt_apns_token(const struct jwt_key *key, const char *key_id, const char *team_id, int64_t now)
{
	json_t *header, *claims;

	if (!key || !key->ec || !nonempty(key_id) || !nonempty(team_id) || now < 0)
		return NULL;
	header = json_pack("{s:s,s:s}", "alg", "ES256", "kid", key_id);
	claims = json_pack("{s:s,s:I}", "iss", team_id, "iat", (json_int_t)now);
	return sign_and_release(key, "ES256", header, claims);
}

/* A copy of the non-empty string member name of o, or NULL with err naming the field. */
static char *sa_field(const json_t *o, const char *name, const char *path, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, name);
	const char *s = json_string_value(v);
	char *copy;

	if (!v) {
		seterr(err, errlen, "%s: missing field \"%s\"", path, name);
		return NULL;
	}
	if (!s || *s == '\0' || strlen(s) != json_string_length(v)) {
		seterr(err, errlen, "%s: field \"%s\" must be a non-empty string", path, name);
		return NULL;
	}
	copy = strdup(s);
	if (!copy)
		seterr(err, errlen, "%s: out of memory", path);
	return copy;
}

bool jwt_service_account_load(const char *path, struct jwt_service_account *out, char *err, size_t errlen)
{
	size_t len = 0;
	char *text;
	json_t *o = NULL;
	json_error_t je;

	memset(out, 0, sizeof(*out));
	text = fileio_read(path, JWT_MAX_FILE_BYTES, &len, err, errlen);
	if (!text)
		return false;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	sodium_memzero(text, len);
	free(text);
	if (!json_is_object(o)) {
		/* je.text may quote the input, which holds the private key: only say where */
		if (o)
			seterr(err, errlen, "%s: not a JSON object", path);
		else
			seterr(err, errlen, "%s: not valid JSON (line %d, column %d)", path, je.line, je.column);
		goto fail;
	}
	if (!(out->project_id = sa_field(o, "project_id", path, err, errlen)) ||
	    !(out->private_key_id = sa_field(o, "private_key_id", path, err, errlen)) ||
	    !(out->private_key = sa_field(o, "private_key", path, err, errlen)) ||
	    !(out->client_email = sa_field(o, "client_email", path, err, errlen)) ||
	    !(out->token_uri = sa_field(o, "token_uri", path, err, errlen)))
		goto fail;
	json_decref(o);
	return true;
fail:
	json_decref(o);
	jwt_service_account_free(out);
	return false;
}

void jwt_service_account_free(struct jwt_service_account *sa)
{
	if (!sa)
		return;
	if (sa->private_key)
		sodium_memzero(sa->private_key, strlen(sa->private_key));
	free(sa->project_id);
	free(sa->private_key_id);
	free(sa->private_key);
	free(sa->client_email);
	free(sa->token_uri);
	memset(sa, 0, sizeof(*sa));
}
