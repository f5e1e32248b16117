/*
 * fuzz.h - what every libFuzzer harness in tests/fuzz/ shares: the two entry
 * points libFuzzer calls, and REQUIRE, which aborts (a crash libFuzzer
 * reports and saves as a reproducer) when a harness's property fails.
 */
#ifndef ALERTD_FUZZ_H
#define ALERTD_FUZZ_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define REQUIRE(cond)                                                                               \
	do {                                                                                        \
		if (!(cond)) {                                                                      \
			fprintf(stderr, "property failed: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                    \
		}                                                                                   \
	} while (0)

#endif
