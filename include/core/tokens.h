/*
 * tokens.h - bearer tokens and activation codes: generation, hashing and
 * normalisation. Only hashes are ever stored.
 *
 * - Admin API keys ("ak_...") and device access tokens ("at_...") carry 256
 *   random bits, so a plain SHA-256 is a safe stored form.
 * - Activation codes are short (10 characters of Crockford base32, 50 bits)
 *   and meant to be typed, so they are stored as an HMAC under a key derived
 *   from the key-encryption key: a copy of the database alone does not allow
 *   guessing them offline.
 */
#ifndef ALERTD_TOKENS_H
#define ALERTD_TOKENS_H

#include "core/secrets.h"

#include <stdbool.h>
#include <stddef.h>

#define TOKENS_HASH_BYTES 32
#define TOKENS_RANDOM_BYTES 32
/* "ak_" + base64url(32 bytes, no padding) + NUL */
#define TOKENS_TEXT_MAX (3 + 43 + 1)
#define TOKENS_CODE_LEN 10

/* New token "<prefix>_<base64url>" with 256 random bits; prefix is "ak" or "at". */
void tokens_generate(const char *prefix, char out[TOKENS_TEXT_MAX]);

/* SHA-256 of the token text. */
void tokens_hash(const char *token, size_t len, unsigned char out[TOKENS_HASH_BYTES]);

/* True when text looks like a token of that prefix (cheap pre-check before any lookup). */
bool tokens_has_prefix(const char *token, size_t len, const char *prefix);

/* A new activation code: 10 characters of Crockford base32 (no I, L, O, U). */
void tokens_new_code(char out[TOKENS_CODE_LEN + 1]);

/*
 * Normalise what a person typed: drop spaces and dashes, upper-case, and
 * read the look-alikes O as 0 and I/L as 1. False unless exactly 10 valid
 * characters remain.
 */
bool tokens_normalize_code(const char *typed, char out[TOKENS_CODE_LEN + 1]) __attribute__((warn_unused_result));

/* Key for activation-code HMACs, derived from the KEK. */
void tokens_code_key(const struct secrets_kek *kek, unsigned char key[32]);

/*
 * Key for the opaque collapse keys of balance pushes (alerts/fanout.c): a
 * keyed hash of the account under it goes to Google and Apple instead of
 * the account. Derived from the KEK under its own context, so it is stable
 * across restarts and instances and unrelated to the code key.
 */
void tokens_collapse_key(const struct secrets_kek *kek, unsigned char key[32]);

/*
 * Key for the HMACs of staff recovery codes (staff/totp.c), derived from
 * the KEK under its own context: a database dump without the KEK gives
 * nothing to crack the codes against.
 */
void tokens_recovery_key(const struct secrets_kek *kek, unsigned char key[32]);

/* HMAC-SHA256 of a normalised code under key. */
void tokens_code_hash(const unsigned char key[32], const char code[TOKENS_CODE_LEN + 1], unsigned char out[TOKENS_HASH_BYTES]);

/* A pseudonym: "~" and 32 lower-case hex digits (the form migration 0011's audit guard accepts). */
#define TOKENS_PSEUDONYM_LEN 33

/* Key for pseudonyms of personal data past its retention period, derived from the KEK. */
void tokens_pseudonym_key(const struct secrets_kek *kek, unsigned char key[32]);

/*
 * The pseudonym of text: "~" and the first 16 bytes of HMAC-SHA256(key,
 * text) in hex. The same text gives the same pseudonym, so one person's
 * rows still correlate; without the key it cannot be reversed or guessed.
 */
void tokens_pseudonym(const unsigned char key[32], const char *text, size_t len, char out[TOKENS_PSEUDONYM_LEN + 1]);

#endif
