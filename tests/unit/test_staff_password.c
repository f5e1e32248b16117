/*
 * test_staff_password.c - the staff password rules (data-driven), in the
 * order they apply, with cracklib's dictionary check; Argon2id hashing,
 * verification and the rehash test; temporary passwords pass the rules;
 * staff login shapes.
 */
#include "staff/accounts.h"
#include "staff/password.h"
#include "testlib.h"

#include <pthread.h>
#include <unistd.h>

#include <string.h>

static void test_rules(void)
{
	static const struct {
		const char *pw;
		long long min;
		enum staff_password_verdict want;
		const char *message; /* a part of the message */
	} cases[] = {
		{ "Tr3asury!Kv9x", 8, STAFF_PASSWORD_OK, "ok" },
		{ "Zq7!mK2#pL", 8, STAFF_PASSWORD_OK, "ok" },
		{ "Zq7!mK2#", 8, STAFF_PASSWORD_OK, "ok" },
		{ "Zq7!mK2", 8, STAFF_PASSWORD_TOO_SHORT, "at least 8 characters" },
		{ "Zq7!mK2#pL", 12, STAFF_PASSWORD_TOO_SHORT, "at least 12 characters" },
		/* 7 characters in 12 bytes: counted as characters, too short */
		{ "\xc4\x90\xe1\xba\xa1t7!\xc3\xa0x", 8, STAFF_PASSWORD_TOO_SHORT, "at least 8" },
		/* 8 characters of Vietnamese (Đạt7!àxQ): letters with diacritics count as one each */
		{ "\xc4\x90\xe1\xba\xa1t7!\xc3\xa0xQ", 8, STAFF_PASSWORD_OK, "ok" },
		{ "zq7!mk2#pl", 8, STAFF_PASSWORD_NO_UPPER, "upper-case" },
		{ "ZQ7!MK2#PL", 8, STAFF_PASSWORD_NO_LOWER, "lower-case" },
		{ "Zqx!mKy#pL", 8, STAFF_PASSWORD_NO_DIGIT, "digit" },
		{ "Zq7xmK2ypL", 8, STAFF_PASSWORD_NO_SPECIAL, "special character" },
		{ "Zq7\tmK2#pL", 8, STAFF_PASSWORD_BAD_UTF8, "control characters" },
		{ "Zq7!mK2#p\xff", 8, STAFF_PASSWORD_BAD_UTF8, "UTF-8" },
		{ "Xx1!NGUYEN.VANaq", 8, STAFF_PASSWORD_HAS_LOGIN, "login" },
		{ "Password1!", 8, STAFF_PASSWORD_CRACKLIB, "dictionary word" },
		{ "Sunshine1!", 8, STAFF_PASSWORD_CRACKLIB, "too easy to guess" },
		{ "Abcdefg1!", 8, STAFF_PASSWORD_CRACKLIB, "simplistic" },
	};
	char message[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct staff_password_policy policy = { .min_chars = cases[i].min };
		enum staff_password_verdict got = staff_password_check(&policy, cases[i].pw, strlen(cases[i].pw),
								       "nguyen.van", message, sizeof(message));
		if (got != cases[i].want || !strstr(message, cases[i].message)) {
			fprintf(stderr, "  case %zu: got verdict %d \"%s\", expected %d \"...%s...\"\n", i, (int)got,
				message, (int)cases[i].want, cases[i].message);
			CHECK(0);
		}
	}
}

static void test_length_ceiling(void)
{
	char pw[STAFF_PASSWORD_MAX_BYTES + 8], message[160];
	struct staff_password_policy policy = { .min_chars = 8 };

	/* 128 characters pass the length rules, 129 do not; a too-long input is refused before it is read */
	memset(pw, 'k', sizeof(pw));
	memcpy(pw, "Zq7!mK2#pL", 10);
	CHECK(staff_password_check(&policy, pw, 128, "someone", message, sizeof(message)) == STAFF_PASSWORD_OK);
	CHECK(staff_password_check(&policy, pw, 129, "someone", message, sizeof(message)) == STAFF_PASSWORD_TOO_LONG);
	CHECK_CONTAINS(message, "at most 128 characters");
	CHECK(staff_password_check(&policy, pw, sizeof(pw), "someone", message, sizeof(message)) == STAFF_PASSWORD_TOO_LONG);
}

static void test_hash(void)
{
	char h[STAFF_PASSWORD_HASH_MAX];

	CHECK(staff_password_hash("Tr3asury!Kv9x", 13, h));
	CHECK(strncmp(h, "$argon2id$", 10) == 0);
	CHECK(staff_password_verify(h, "Tr3asury!Kv9x", 13));
	CHECK(!staff_password_verify(h, "Tr3asury!Kv9y", 13));
	CHECK(!staff_password_verify(NULL, "x", 1));
	CHECK(!staff_password_needs_rehash(h));
	/* a hash with weaker parameters is upgraded at the next sign-in */
	char weak[crypto_pwhash_STRBYTES];
	CHECK(crypto_pwhash_str(weak, "x", 1, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0);
	CHECK(staff_password_needs_rehash(weak));
	staff_password_dummy_verify("anything", 8);
}

/*
 * One password however its accents were typed: hashed in NFC, verified in
 * NFC. "Kho bạc!2025x" with U+1EA1 and with "a" + U+0323 is one password.
 * Invisible characters (a zero-width space) are refused, not counted as
 * the special character.
 */
static void test_normalised(void)
{
	static const char composed[] = "Kho b\xe1\xba\xa1"
				       "c!2025x"; /* U+1EA1 */
	static const char decomposed[] = "Kho ba\xcc\xa3"
					 "c!2025x"; /* a + U+0323 */
	char h[STAFF_PASSWORD_HASH_MAX], message[200];
	struct staff_password_policy policy = { .min_chars = 8 };

	CHECK(strcmp(composed, decomposed) != 0);
	CHECK(staff_password_hash(composed, strlen(composed), h));
	CHECK(staff_password_verify(h, decomposed, strlen(decomposed)));
	CHECK(staff_password_verify(h, composed, strlen(composed)));
	CHECK(!staff_password_verify(h, "Kho bac!2025x", 13));
	CHECK(staff_password_hash(decomposed, strlen(decomposed), h));
	CHECK(staff_password_verify(h, composed, strlen(composed)));
	CHECK(staff_password_check(&policy, "Qm7vXk2pRt\xe2\x80\x8b", 13, "lan", message, sizeof(message)) ==
	      STAFF_PASSWORD_BAD_UTF8);
	CHECK(strstr(message, "invisible") != NULL);
}

static void test_temporary(void)
{
	char t[STAFF_PASSWORD_TEMP_LEN + 1], u[STAFF_PASSWORD_TEMP_LEN + 1], message[160];
	struct staff_password_policy policy = { .min_chars = 8 };

	/* 400 draws: before every temporary password was checked, about 1 in 40 was refused by cracklib */
	for (int i = 0; i < 400; i++) {
		staff_password_temporary("somebody", t);
		CHECK(strlen(t) == STAFF_PASSWORD_TEMP_LEN);
		enum staff_password_verdict v =
			staff_password_check(&policy, t, strlen(t), "somebody", message, sizeof(message));
		if (v != STAFF_PASSWORD_OK)
			fprintf(stderr, "  temporary password refused: %s\n", message);
		CHECK(v == STAFF_PASSWORD_OK);
	}
	staff_password_temporary(NULL, u);
	CHECK(strcmp(t, u) != 0);
}

static void test_logins(void)
{
	static const struct {
		const char *login;
		bool ok;
	} cases[] = {
		{ "nguyen.van", true }, { "ab", true },	  { "a", false },    { ".ab", false },
		{ "Ab", false },	{ "a b", false }, { "a_b-c", true }, { "", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (staff_accounts_login_ok(cases[i].login) != cases[i].ok) {
			fprintf(stderr, "  login \"%s\"\n", cases[i].login);
			CHECK(0);
		}
	CHECK(staff_accounts_role_ok("operator") && !staff_accounts_role_ok("office_admin"));
}

struct verifier {
	const char *hash;
	int rounds;
};

static void *verify_repeatedly(void *arg)
{
	const struct verifier *v = arg;

	for (int i = 0; i < v->rounds; i++)
		(void)staff_password_verify(v->hash, "Wrong-Guess-42", 14);
	return NULL;
}

/* Ten threads verifying at once: never more than the slots run Argon2id together, and all of them are used. */
static void test_argon2_slots(void)
{
	char hash[STAFF_PASSWORD_HASH_MAX];
	pthread_t t[10];
	struct verifier v = { hash, 2 };
	int most = 0;
	size_t started = 0;

	CHECK(staff_password_hash("Sao-Mai-2026!", 13, hash));
	for (; started < sizeof(t) / sizeof(t[0]); started++)
		if (pthread_create(&t[started], NULL, verify_repeatedly, &v) != 0)
			break;
	CHECK(started == sizeof(t) / sizeof(t[0]));
	for (int i = 0; i < 4000; i++) {
		int n = staff_password_argon2_running();
		if (n > most)
			most = n;
		usleep(250);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	CHECK(most <= STAFF_PASSWORD_ARGON2_SLOTS);
	CHECK(most == STAFF_PASSWORD_ARGON2_SLOTS);
	CHECK(staff_password_argon2_running() == 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(test_rules);
	RUN(test_length_ceiling);
	RUN(test_hash);
	RUN(test_normalised);
	RUN(test_temporary);
	RUN(test_logins);
	RUN(test_argon2_slots);
	TEST_SUMMARY("staff_password");
}
