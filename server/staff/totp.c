/*
 * totp.c - TOTP with liboath, the QR code SVG and recovery codes (see
 * totp.h). No HOTP arithmetic is written here: liboath computes and
 * compares the codes.
 */
#include "staff/totp.h"
#include "core/buf.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static bool oath_ready;

static void init_oath(void)
{
	oath_ready = oath_init() == OATH_OK;
}

void staff_totp_new_secret(unsigned char secret[STAFF_TOTP_SECRET_BYTES], char base32[STAFF_TOTP_BASE32_MAX])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t o = 0;

	randombytes_buf(secret, STAFF_TOTP_SECRET_BYTES);
	/* RFC 4648 base32: 20 bytes are exactly 32 characters */
	for (size_t i = 0; i < STAFF_TOTP_SECRET_BYTES; i += 5) {
		uint64_t v = 0;
		for (size_t j = 0; j < 5; j++)
			v = (v << 8) | secret[i + j];
		for (int k = 7; k >= 0; k--)
			base32[o++] = alphabet[(v >> (5 * k)) & 31];
	}
	base32[o] = '\0';
}

bool staff_totp_new_sealed(const struct secrets_kek *kek, char base32[STAFF_TOTP_BASE32_MAX],
			   char ct_hex[STAFF_TOTP_CT_HEX_MAX], char nonce_hex[STAFF_TOTP_NONCE_HEX_MAX])
{
	unsigned char secret[STAFF_TOTP_SECRET_BYTES], nonce[SECRETS_NONCE_BYTES], *ct = NULL;
	size_t ctlen = 0;

	staff_totp_new_secret(secret, base32);
	bool sealed = secrets_seal(kek, secret, sizeof(secret), &ct, &ctlen, nonce) && ctlen <= 128;
	sodium_memzero(secret, sizeof(secret));
	if (sealed) {
		sodium_bin2hex(ct_hex, STAFF_TOTP_CT_HEX_MAX, ct, ctlen);
		sodium_bin2hex(nonce_hex, STAFF_TOTP_NONCE_HEX_MAX, nonce, sizeof(nonce));
	} else {
		sodium_memzero(base32, STAFF_TOTP_BASE32_MAX);
	}
	free(ct);
	return sealed;
}

bool staff_totp_verify(const unsigned char *secret, size_t len, const char *code, time_t now, uint64_t *step)
{
	int pos;

	pthread_once(&oath_once, init_oath);
	if (!oath_ready || !code || strlen(code) != STAFF_TOTP_DIGITS || strspn(code, "0123456789") != STAFF_TOTP_DIGITS)
		return false;
	return oath_totp_validate3((const char *)secret, len, now, STAFF_TOTP_STEP, OATH_TOTP_DEFAULT_START_TIME,
				   STAFF_TOTP_WINDOW, &pos, step, code) >= 0;
}

char *staff_totp_uri(const char *login, const char *base32)
{
	size_t n = strlen(login) + strlen(base32) + 128;
	char *uri = malloc(n);

	if (uri)
		snprintf(uri, n, "otpauth://totp/alertd:%s?secret=%s&issuer=alertd&algorithm=SHA1&digits=%d&period=%d",
			 login, base32, STAFF_TOTP_DIGITS, STAFF_TOTP_STEP);
	return uri;
}

char *staff_totp_qr_svg(const char *text, int *modules)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	struct buf b;
	char line[160];
	bool ok = true;

	if (!qr)
		return NULL;
	int w = qr->width, size = w + 8;
	buf_init(&b, (size_t)1 << 22);
	snprintf(line, sizeof(line),
		 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">", size,
		 size);
	ok &= buf_append(&b, line, strlen(line));
	snprintf(line, sizeof(line), "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"", size, size);
	ok &= buf_append(&b, line, strlen(line));
	/* one unit square per dark module (bit 0 of each byte), offset by the quiet zone */
	for (int y = 0; y < w && ok; y++)
		for (int x = 0; x < w && ok; x++)
			if (qr->data[y * w + x] & 1) {
				int n = snprintf(line, sizeof(line), "M%d %dh1v1h-1z", x + 4, y + 4);
				ok &= buf_append(&b, line, (size_t)n);
			}
	ok &= buf_append(&b, "\"/></svg>", 9);
	QRcode_free(qr);
	size_t len;
	char *svg = ok && buf_ok(&b) ? buf_steal(&b, &len) : NULL;
	buf_free(&b);
	if (svg)
		*modules = w;
	return svg;
}

static const char recovery_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

void staff_totp_recovery_code(char out[STAFF_RECOVERY_CODE_LEN + 1])
{
	for (int i = 0; i < STAFF_RECOVERY_CODE_LEN; i++)
		out[i] = i % 5 == 4 ? '-'
				    : recovery_alphabet[randombytes_uniform((uint32_t)(sizeof(recovery_alphabet) - 1))];
	out[STAFF_RECOVERY_CODE_LEN] = '\0';
}

bool staff_totp_recovery_hash(const unsigned char key[32], long long staff_id, const char *typed, unsigned char hash[32])
{
	char norm[STAFF_RECOVERY_CODE_CHARS];
	unsigned char id[8];
	size_t n = 0;
	bool ok = typed != NULL;

	for (const char *p = typed; ok && *p; p++) {
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		if (c == '-' || c == ' ')
			continue;
		if (n >= STAFF_RECOVERY_CODE_CHARS || !strchr(recovery_alphabet, c))
			ok = false;
		else
			norm[n++] = c;
	}
	if (ok && n == STAFF_RECOVERY_CODE_CHARS) {
		crypto_auth_hmacsha256_state st;
		/* the account's id first: one code's HMAC is good for its own account only */
		for (int i = 0; i < 8; i++)
			id[i] = (unsigned char)((unsigned long long)staff_id >> (56 - 8 * i));
		crypto_auth_hmacsha256_init(&st, key, 32);
		crypto_auth_hmacsha256_update(&st, id, sizeof(id));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)norm, n);
		crypto_auth_hmacsha256_final(&st, hash);
		sodium_memzero(&st, sizeof(st));
	} else
		ok = false;
	sodium_memzero(norm, sizeof(norm));
	return ok;
}
