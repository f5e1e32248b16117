/*
 * password.h - staff passwords: the treasury's rules (docs/staff.md),
 * Argon2id hashing through libsodium's crypto_pwhash_str, and the
 * temporary passwords `alertd staff add|reset` hand out.
 *
 * Hashes use crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE
 * (64 MiB, 2 passes: about 80 ms on the reference 2-core VM; MODERATE took
 * 460 ms and 256 MiB per attempt, which a burst of sign-ins would turn into
 * memory exhaustion, and the no-reuse check verifies up to ten hashes).
 * Passwords are never logged; callers wipe their copies.
 */
#ifndef ALERTD_STAFF_PASSWORD_H
#define ALERTD_STAFF_PASSWORD_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

/* The hard ceiling of the rules, in characters (code points), and the longest input read at all, in bytes. */
#define STAFF_PASSWORD_MAX_CHARS 128
#define STAFF_PASSWORD_MAX_BYTES (4 * STAFF_PASSWORD_MAX_CHARS)
#define STAFF_PASSWORD_HASH_MAX crypto_pwhash_STRBYTES
/* Temporary passwords: 20 characters from a set without look-alikes, one of each class guaranteed. */
#define STAFF_PASSWORD_TEMP_LEN 20

struct staff_password_policy {
	long long min_chars; /* auth.password_min_length, at least 8 */
};

enum staff_password_verdict {
	STAFF_PASSWORD_OK,
	STAFF_PASSWORD_BAD_UTF8,      /* not well-formed UTF-8, or a control character */
	STAFF_PASSWORD_TOO_SHORT,     /* fewer characters than policy->min_chars */
	STAFF_PASSWORD_TOO_LONG,      /* more than STAFF_PASSWORD_MAX_CHARS characters */
	STAFF_PASSWORD_NO_UPPER,      /* no upper-case letter (Unicode category Lu/Lt) */
	STAFF_PASSWORD_NO_LOWER,      /* no lower-case letter (Ll) */
	STAFF_PASSWORD_NO_DIGIT,      /* no decimal digit (Nd) */
	STAFF_PASSWORD_NO_SPECIAL,    /* nothing that is neither a letter nor a digit */
	STAFF_PASSWORD_HAS_LOGIN,     /* contains the login, ignoring case */
	STAFF_PASSWORD_CRACKLIB,      /* cracklib's FascistCheckUser refused it; see the message */
	STAFF_PASSWORD_NO_DICTIONARY, /* cracklib's dictionary cannot be read: nothing can be accepted */
};

/*
 * Check pw (len bytes, not NUL-terminated necessarily) against the rules,
 * in the order of the enum; the first failure is the verdict. message
 * (at least 128 bytes) receives the sentence shown to the staff member.
 * The no-reuse rule needs the stored hashes: see staff_accounts.
 */
enum staff_password_verdict staff_password_check(const struct staff_password_policy *policy, const char *pw, size_t len,
						 const char *login, char *message, size_t messagelen);

/* Argon2id string of pw into out. False when libsodium fails (out of memory). */
bool staff_password_hash(const char *pw, size_t len, char out[STAFF_PASSWORD_HASH_MAX]) __attribute__((warn_unused_result));

/* True when pw matches the stored string hash (constant work per hash). */
bool staff_password_verify(const char *hash, const char *pw, size_t len);

/* True when hash was made with other parameters than today's: rehash on the next successful sign-in. */
bool staff_password_needs_rehash(const char *hash);

/*
 * Spend the work of one verification against a hash that matches nothing,
 * so an unknown login costs what a wrong password does.
 */
void staff_password_dummy_verify(const char *pw, size_t len);

/* At most this many Argon2id computations run at once in the process (each takes 64 MiB); others wait. */
#define STAFF_PASSWORD_ARGON2_SLOTS 4

/* How many Argon2id computations are running now (for tests and gauges). */
int staff_password_argon2_running(void);

/*
 * A fresh random temporary password for login (NULL: none) that passes the
 * rules at their defaults, cracklib's dictionary check included,
 * NUL-terminated. Drawn again until it passes: cracklib now and then finds
 * a random string "too systematic" (about 1 in 40 draws).
 */
void staff_password_temporary(const char *login, char out[STAFF_PASSWORD_TEMP_LEN + 1]);

#endif
