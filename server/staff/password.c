/*
 * password.c - the staff password rules, Argon2id hashing and temporary
 * passwords (see password.h).
 *
 * Characters are counted as Unicode code points (utf8proc), so a password
 * in Vietnamese is measured as a person would count it. Every password is
 * put in NFC before it is checked, hashed or verified: "ạ" typed as one
 * code point or as "a" plus a combining dot is the same password, as it
 * looks the same. cracklib is not documented as thread-safe: its calls are
 * serialised.
 *
 * Each Argon2id computation takes MEMLIMIT (64 MiB) for its duration; at
 * most STAFF_PASSWORD_ARGON2_SLOTS run at once in the process, the others wait their turn,
 * so a flood of sign-in attempts from many addresses (each under the
 * per-address throttle) costs time, not gigabytes of memory.
 */
#include "staff/password.h"

#include <crack.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

static pthread_mutex_t crack_lock = PTHREAD_MUTEX_INITIALIZER;
/* the process-wide Argon2id budget: slots in use, under argon2_lock */
static pthread_mutex_t argon2_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t argon2_free = PTHREAD_COND_INITIALIZER;
static int argon2_busy;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[STAFF_PASSWORD_HASH_MAX];

/* pw folded to lower case (NFKC, case-folded) into a malloc'd string, or NULL. */
static char *folded(const char *s, size_t len)
{
	utf8proc_uint8_t *out = NULL;

	if (utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
			 UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STABLE) < 0)
		return NULL;
	return (char *)out;
}

/*
 * pw in NFC, in a malloc'd NUL-terminated string of *out_len bytes, or NULL
 * when pw is not UTF-8 or memory ran out. The caller wipes and frees it.
 */
static char *nfc(const char *pw, size_t len, size_t *out_len)
{
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t n =
		utf8proc_map((const utf8proc_uint8_t *)pw, (utf8proc_ssize_t)len, &out, UTF8PROC_COMPOSE | UTF8PROC_STABLE);

	if (n < 0)
		return NULL;
	*out_len = (size_t)n;
	return (char *)out;
}

static void wipe_free(char *s, size_t len)
{
	if (s) {
		sodium_memzero(s, len);
		free(s);
	}
}

static enum staff_password_verdict say(enum staff_password_verdict v, char *message, size_t messagelen, const char *text)
{
	snprintf(message, messagelen, "%s", text);
	return v;
}

static enum staff_password_verdict check_nfc(const struct staff_password_policy *policy, const char *pw, size_t len,
					     const char *login, char *message, size_t messagelen)
{
	bool upper = false, lower = false, digit = false, special = false;
	long long chars = 0;
	utf8proc_ssize_t at = 0;
	char text[160], nul_pw[STAFF_PASSWORD_MAX_BYTES + 1];

	if (len > STAFF_PASSWORD_MAX_BYTES)
		goto too_long;
	while ((size_t)at < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)pw + at, (utf8proc_ssize_t)len - at, &cp);
		if (n <= 0 || cp == 0)
			return say(STAFF_PASSWORD_BAD_UTF8, message, messagelen, "must be well-formed UTF-8 text");
		utf8proc_category_t cat = utf8proc_category(cp);
		if (cat == UTF8PROC_CATEGORY_CC)
			return say(STAFF_PASSWORD_BAD_UTF8, message, messagelen, "must not contain control characters");
		/* invisible, private or unassigned characters: nobody can see or retype them reliably */
		if (cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CO ||
		    cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP)
			return say(STAFF_PASSWORD_BAD_UTF8, message, messagelen,
				   "must not contain invisible, private-use or unassigned characters");
		if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT)
			upper = true;
		else if (cat == UTF8PROC_CATEGORY_LL)
			lower = true;
		else if (cat == UTF8PROC_CATEGORY_ND)
			digit = true;
		else if (cat != UTF8PROC_CATEGORY_LM && cat != UTF8PROC_CATEGORY_LO && cat != UTF8PROC_CATEGORY_MN &&
			 cat != UTF8PROC_CATEGORY_MC && cat != UTF8PROC_CATEGORY_ME)
			special = true;
		chars++;
		at += n;
	}
	if (chars < policy->min_chars) {
		snprintf(text, sizeof(text), "must be at least %lld characters long", policy->min_chars);
		return say(STAFF_PASSWORD_TOO_SHORT, message, messagelen, text);
	}
	if (chars > STAFF_PASSWORD_MAX_CHARS)
		goto too_long;
	if (!upper)
		return say(STAFF_PASSWORD_NO_UPPER, message, messagelen, "must contain an upper-case letter");
	if (!lower)
		return say(STAFF_PASSWORD_NO_LOWER, message, messagelen, "must contain a lower-case letter");
	if (!digit)
		return say(STAFF_PASSWORD_NO_DIGIT, message, messagelen, "must contain a digit");
	if (!special)
		return say(STAFF_PASSWORD_NO_SPECIAL, message, messagelen,
			   "must contain a special character (neither a letter nor a digit)");
	if (login && *login) {
		char *fp = folded(pw, len), *fl = folded(login, strlen(login));
		bool has = !fp || !fl || strstr(fp, fl) != NULL;
		/* the folded copy is the password too */
		if (fp)
			sodium_memzero(fp, strlen(fp));
		free(fp);
		free(fl);
		if (has)
			return say(STAFF_PASSWORD_HAS_LOGIN, message, messagelen, "must not contain your login");
	}
	/* cracklib reads a C string; the checks above refused NULs */
	memcpy(nul_pw, pw, len);
	nul_pw[len] = '\0';
	const char *dict = GetDefaultCracklibDict();
	char pwd_file[512];
	snprintf(pwd_file, sizeof(pwd_file), "%s.pwd", dict);
	if (access(pwd_file, R_OK) != 0) {
		sodium_memzero(nul_pw, sizeof(nul_pw));
		return say(STAFF_PASSWORD_NO_DICTIONARY, message, messagelen,
			   "cannot be checked now: the password dictionary is missing (install cracklib-runtime)");
	}
	pthread_mutex_lock(&crack_lock);
	const char *why = FascistCheckUser(nul_pw, dict, login ? login : "", NULL);
	if (why)
		snprintf(text, sizeof(text), "is too easy to guess: %s", why);
	pthread_mutex_unlock(&crack_lock);
	sodium_memzero(nul_pw, sizeof(nul_pw));
	if (why)
		return say(STAFF_PASSWORD_CRACKLIB, message, messagelen, text);
	return say(STAFF_PASSWORD_OK, message, messagelen, "ok");
too_long:
	snprintf(text, sizeof(text), "must be at most %d characters long", STAFF_PASSWORD_MAX_CHARS);
	return say(STAFF_PASSWORD_TOO_LONG, message, messagelen, text);
}

enum staff_password_verdict staff_password_check(const struct staff_password_policy *policy, const char *pw, size_t len,
						 const char *login, char *message, size_t messagelen)
{
	size_t n = 0;
	char *norm;
	enum staff_password_verdict v;

	if (len > STAFF_PASSWORD_MAX_BYTES) {
		snprintf(message, messagelen, "must be at most %d characters long", STAFF_PASSWORD_MAX_CHARS);
		return STAFF_PASSWORD_TOO_LONG;
	}
	norm = nfc(pw, len, &n);
	if (!norm)
		return say(STAFF_PASSWORD_BAD_UTF8, message, messagelen, "must be well-formed UTF-8 text");
	v = check_nfc(policy, norm, n, login, message, messagelen);
	wipe_free(norm, n);
	return v;
}

static void argon2_enter(void)
{
	pthread_mutex_lock(&argon2_lock);
	while (argon2_busy >= STAFF_PASSWORD_ARGON2_SLOTS)
		pthread_cond_wait(&argon2_free, &argon2_lock);
	argon2_busy++;
	pthread_mutex_unlock(&argon2_lock);
}

static void argon2_leave(void)
{
	pthread_mutex_lock(&argon2_lock);
	argon2_busy--;
	pthread_cond_signal(&argon2_free);
	pthread_mutex_unlock(&argon2_lock);
}

int staff_password_argon2_running(void)
{
	pthread_mutex_lock(&argon2_lock);
	int n = argon2_busy;
	pthread_mutex_unlock(&argon2_lock);
	return n;
}

bool staff_password_hash(const char *pw, size_t len, char out[STAFF_PASSWORD_HASH_MAX])
{
	size_t n = 0;
	char *norm = nfc(pw, len, &n);
	bool ok = false;

	if (norm) {
		argon2_enter();
		ok = crypto_pwhash_str(out, norm, n, OPSLIMIT, MEMLIMIT) == 0;
		argon2_leave();
	}
	wipe_free(norm, n);
	return ok;
}

bool staff_password_verify(const char *hash, const char *pw, size_t len)
{
	size_t n = 0;
	char *norm = hash ? nfc(pw, len, &n) : NULL;
	/* text that is not UTF-8 was never accepted as a password, so it matches none */
	bool ok = false;

	if (norm) {
		argon2_enter();
		ok = crypto_pwhash_str_verify(hash, norm, n) == 0;
		argon2_leave();
	}

	wipe_free(norm, n);
	return ok;
}

bool staff_password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, OPSLIMIT, MEMLIMIT) != 0;
}

static void make_dummy(void)
{
	unsigned char random[32];

	randombytes_buf(random, sizeof(random));
	argon2_enter();
	if (crypto_pwhash_str(dummy_hash, (const char *)random, sizeof(random), OPSLIMIT, MEMLIMIT) != 0)
		dummy_hash[0] = '\0';
	argon2_leave();
	sodium_memzero(random, sizeof(random));
}

void staff_password_dummy_verify(const char *pw, size_t len)
{
	pthread_once(&dummy_once, make_dummy);
	if (dummy_hash[0])
		(void)staff_password_verify(dummy_hash, pw, len);
}

/* One draw: the four classes once each, the rest from all of them, at random places. */
static void draw_temporary(char out[STAFF_PASSWORD_TEMP_LEN + 1])
{
	static const char *const classes[4] = { "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789",
						"!#%+-=?@" };
	static const char all[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?@";

	for (int i = 0; i < STAFF_PASSWORD_TEMP_LEN; i++) {
		const char *set = i < 4 ? classes[i] : all;
		out[i] = set[randombytes_uniform((uint32_t)strlen(set))];
	}
	for (int i = STAFF_PASSWORD_TEMP_LEN - 1; i > 0; i--) {
		uint32_t j = randombytes_uniform((uint32_t)i + 1);
		char t = out[i];
		out[i] = out[j];
		out[j] = t;
	}
	out[STAFF_PASSWORD_TEMP_LEN] = '\0';
}

void staff_password_temporary(const char *login, char out[STAFF_PASSWORD_TEMP_LEN + 1])
{
	const struct staff_password_policy defaults = { .min_chars = 8 };
	char message[160];

	/* a refusal is rare and independent between draws: 64 in a row do not happen */
	for (int tries = 0; tries < 64; tries++) {
		draw_temporary(out);
		if (staff_password_check(&defaults, out, strlen(out), login, message, sizeof(message)) == STAFF_PASSWORD_OK)
			return;
	}
}
