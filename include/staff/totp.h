/*
 * totp.h - the staff second factor: RFC 6238 TOTP (30 s, 6 digits, SHA-1)
 * verified by liboath, the otpauth:// URI and its QR code as SVG (encoded
 * by libqrencode, drawn here), and recovery codes.
 *
 * Secrets leave this module only sealed under the KEK (core/secrets.h) or
 * as the base32 text shown once at enrolment; callers wipe their copies.
 */
#ifndef ALERTD_STAFF_TOTP_H
#define ALERTD_STAFF_TOTP_H

#include "core/secrets.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STAFF_TOTP_SECRET_BYTES 20
/* base32 of 20 bytes: 32 characters, no padding */
#define STAFF_TOTP_BASE32_MAX 33
#define STAFF_TOTP_STEP 30
#define STAFF_TOTP_DIGITS 6
/* codes of one step either side are accepted (clock skew) */
#define STAFF_TOTP_WINDOW 1
#define STAFF_RECOVERY_CODES 10
/* xxxx-xxxx-xxxx-xxxx: 16 of a-z 2-9 without look-alikes (31 characters, ~79 bits) */
#define STAFF_RECOVERY_CODE_CHARS 16
#define STAFF_RECOVERY_CODE_LEN 19

/* A new random secret and its base32 text (RFC 4648, no padding). */
void staff_totp_new_secret(unsigned char secret[STAFF_TOTP_SECRET_BYTES], char base32[STAFF_TOTP_BASE32_MAX]);

/* Sealed secrets as staff_totp stores them (secret_ct, secret_nonce), hex for SQL's decode(..., 'hex'). */
#define STAFF_TOTP_CT_HEX_MAX (2 * 128 + 1)
#define STAFF_TOTP_NONCE_HEX_MAX (2 * SECRETS_NONCE_BYTES + 1)

/*
 * A new random secret sealed under kek: its base32 text for the person, and the ciphertext and
 * nonce in hex for staff_totp. The clear secret is wiped here. False (base32 wiped) when
 * sealing failed.
 */
bool staff_totp_new_sealed(const struct secrets_kek *kek, char base32[STAFF_TOTP_BASE32_MAX],
			   char ct_hex[STAFF_TOTP_CT_HEX_MAX], char nonce_hex[STAFF_TOTP_NONCE_HEX_MAX])
	__attribute__((warn_unused_result));

/*
 * Check code (6 digits) against secret at now, within STAFF_TOTP_WINDOW
 * steps. On success *step is the RFC 6238 time-step counter the code
 * belongs to: the caller refuses it unless it is above the last one used.
 */
bool staff_totp_verify(const unsigned char *secret, size_t len, const char *code, time_t now, uint64_t *step);

/* "otpauth://totp/alertd:LOGIN?secret=...&issuer=alertd&..." (malloc'd), or NULL. login is [a-z0-9._-]. */
char *staff_totp_uri(const char *login, const char *base32);

/*
 * The QR code of text as a standalone SVG document (malloc'd; *modules is
 * its width in modules, without the 4-module quiet zone), or NULL. The
 * encoding is libqrencode's (error correction M); only the squares are
 * drawn here.
 */
char *staff_totp_qr_svg(const char *text, int *modules);

/* A new recovery code, NUL-terminated. */
void staff_totp_recovery_code(char out[STAFF_RECOVERY_CODE_LEN + 1]);

/*
 * HMAC-SHA256 under key (core/tokens.h tokens_recovery_key) of staff_id (8
 * bytes, big-endian) and the recovery code as typed, after folding case and
 * dropping spaces and dashes; false if malformed.
 */
bool staff_totp_recovery_hash(const unsigned char key[32], long long staff_id, const char *typed, unsigned char hash[32])
	__attribute__((warn_unused_result));

#endif
