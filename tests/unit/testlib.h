/*
 * testlib.h - the smallest useful unit-test harness. Each test binary prints
 * "ok"/"not ok" per test and ends with "<name>: N passed, N failed", which
 * tests/run.sh adds up. A failed CHECK reports the expression and location
 * and marks the current test failed; the test keeps running.
 */
#ifndef ALERTD_TESTLIB_H
#define ALERTD_TESTLIB_H

#include <stdio.h>
#include <string.h>

static int tl_passed, tl_failed, tl_current_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			tl_current_failed = 1;                                                     \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                                                  \
	do {                                                                                                             \
		const char *tl_a = (a), *tl_b = (b);                                                                     \
		if (!tl_a || !tl_b || strcmp(tl_a, tl_b) != 0) {                                                         \
			fprintf(stderr, "  %s:%d: CHECK_STR failed: %s = \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
				#a, tl_a ? tl_a : "(null)", tl_b ? tl_b : "(null)");                                     \
			tl_current_failed = 1;                                                                           \
		}                                                                                                        \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                                      \
	do {                                                                                             \
		const char *tl_h = (hay);                                                                \
		if (!tl_h || !strstr(tl_h, (needle))) {                                                  \
			fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
				tl_h ? tl_h : "(null)", (needle));                                       \
			tl_current_failed = 1;                                                           \
		}                                                                                        \
	} while (0)

#define RUN(test)                                       \
	do {                                            \
		tl_current_failed = 0;                  \
		test();                                 \
		if (tl_current_failed) {                \
			tl_failed++;                    \
			printf("not ok - %s\n", #test); \
		} else {                                \
			tl_passed++;                    \
			printf("ok - %s\n", #test);     \
		}                                       \
	} while (0)

#define TEST_SUMMARY(name)                                                          \
	do {                                                                        \
		printf("%s: %d passed, %d failed\n", (name), tl_passed, tl_failed); \
		return tl_failed ? 1 : 0;                                           \
	} while (0)

#endif
