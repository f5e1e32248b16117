/*
 * test_staff_totp.c - the TOTP check through liboath against the RFC 6238
 * test vectors (SHA-1, 6 digits), the window and the time step it reports;
 * the QR SVG (a well-formed document whose squares are exactly
 * libqrencode's dark modules, 21 for a version-1 symbol); base32 secrets;
 * recovery codes and their normalisation.
 */
#include "staff/totp.h"
#include "testlib.h"

#include <qrencode.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void test_rfc6238(void)
{
	static const struct {
		time_t t;
		const char *code;
		uint64_t step;
	} cases[] = {
		/* RFC 6238 appendix B, SHA-1, the last 6 of the 8 digits */
		{ 59, "287082", 1 },
		{ 1111111109, "081804", 37037036 },
		{ 1111111111, "050471", 37037037 },
		{ 1234567890, "005924", 41152263 },
		{ 2000000000, "279037", 66666666 },
	};
	const unsigned char *secret = (const unsigned char *)"12345678901234567890";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t step = 0;
		if (!staff_totp_verify(secret, 20, cases[i].code, cases[i].t, &step) || step != cases[i].step) {
			fprintf(stderr, "  case %zu: step %llu\n", i, (unsigned long long)step);
			CHECK(0);
		}
		/* one step of skew either side is accepted, two are not */
		CHECK(staff_totp_verify(secret, 20, cases[i].code, cases[i].t + 30, &step) && step == cases[i].step);
		CHECK(staff_totp_verify(secret, 20, cases[i].code, cases[i].t - 30, &step) && step == cases[i].step);
		CHECK(!staff_totp_verify(secret, 20, cases[i].code, cases[i].t + 61, &step));
	}
	uint64_t step;
	CHECK(!staff_totp_verify(secret, 20, "28708", 59, &step));
	CHECK(!staff_totp_verify(secret, 20, "2870822", 59, &step));
	CHECK(!staff_totp_verify(secret, 20, "28708a", 59, &step));
	CHECK(!staff_totp_verify(secret, 20, NULL, 59, &step));
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_qr_svg(void)
{
	int modules = 0;
	char *svg = staff_totp_qr_svg("HELLO", &modules);

	CHECK(svg != NULL);
	if (!svg)
		return;
	CHECK(modules == 21); /* version 1 */
	CHECK(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\"", 59) == 0);
	CHECK(strcmp(svg + strlen(svg) - 9, "\"/></svg>") == 0);
	CHECK(count(svg, "<svg") == 1 && count(svg, "</svg>") == 1 && count(svg, "<path") == 1 && count(svg, "<rect") == 1);
	/* one square per dark module of libqrencode's symbol, at the module's place plus the quiet zone */
	QRcode *qr = QRcode_encodeString("HELLO", 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int dark = 0;
	for (int i = 0; i < qr->width * qr->width; i++)
		dark += qr->data[i] & 1;
	CHECK(count(svg, "h1v1h-1z") == dark);
	CHECK(strstr(svg, "M4 4h1v1h-1z") != NULL); /* a finder pattern's corner is dark */
	QRcode_free(qr);
	free(svg);
	/* an otpauth URI fits a larger version */
	svg = staff_totp_qr_svg("otpauth://totp/alertd:nguyen.van?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=alertd"
				"&algorithm=SHA1&digits=6&period=30",
				&modules);
	CHECK(svg && modules > 21 && (modules - 17) % 4 == 0);
	free(svg);
}

static void test_secret_and_recovery(void)
{
	unsigned char secret[STAFF_TOTP_SECRET_BYTES];
	char b32[STAFF_TOTP_BASE32_MAX], code[STAFF_RECOVERY_CODE_LEN + 1], upper[STAFF_RECOVERY_CODE_LEN + 1];
	unsigned char h1[32], h2[32];

	staff_totp_new_secret(secret, b32);
	CHECK(strlen(b32) == 32 && strspn(b32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == 32);
	staff_totp_recovery_code(code);
	CHECK(strlen(code) == 19 && code[4] == '-' && code[9] == '-' && code[14] == '-');
	CHECK(strspn(code, "abcdefghjkmnpqrstuvwxyz23456789-") == 19);
	for (int i = 0; i < 19; i++)
		upper[i] = code[i] >= 'a' && code[i] <= 'z' ? (char)(code[i] - 'a' + 'A') : code[i];
	upper[19] = '\0';
	unsigned char key[32], other[32];
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	CHECK(staff_totp_recovery_hash(key, 42, code, h1) && staff_totp_recovery_hash(key, 42, upper, h2) &&
	      memcmp(h1, h2, 32) == 0);
	char spaced[32], bare[17];
	snprintf(spaced, sizeof(spaced), "%.4s %.4s %.4s %.4s", code, code + 5, code + 10, code + 15);
	CHECK(staff_totp_recovery_hash(key, 42, spaced, h2) && memcmp(h1, h2, 32) == 0);
	/* a keyed hash of the account and the code: not the SHA-256 of the code, nor another account's or key's */
	snprintf(bare, sizeof(bare), "%.4s%.4s%.4s%.4s", code, code + 5, code + 10, code + 15);
	crypto_hash_sha256(h2, (const unsigned char *)bare, 16);
	CHECK(memcmp(h1, h2, 32) != 0);
	CHECK(staff_totp_recovery_hash(key, 43, code, h2) && memcmp(h1, h2, 32) != 0);
	CHECK(staff_totp_recovery_hash(other, 42, code, h2) && memcmp(h1, h2, 32) != 0);
	CHECK(!staff_totp_recovery_hash(key, 42, "abcd-efgh-jkmn-pqr", h2));   /* too short */
	CHECK(!staff_totp_recovery_hash(key, 42, "abcd-efgh-jkmn-pqrst", h2)); /* too long */
	CHECK(!staff_totp_recovery_hash(key, 42, "abcd-efgh-jkmn-pq1s", h2));  /* 1 is not in the alphabet */
	CHECK(!staff_totp_recovery_hash(key, 42, NULL, h2));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(test_rfc6238);
	RUN(test_qr_svg);
	RUN(test_secret_and_recovery);
	TEST_SUMMARY("staff_totp");
}
