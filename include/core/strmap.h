/*
 * strmap.h - an open-addressing hash map from a NUL-terminated string to an
 * index (size_t). Keys are not copied: each must outlive the map (the roster
 * import keeps them in its arena or in the PGresults it holds).
 */
#ifndef ALERTD_STRMAP_H
#define ALERTD_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Zero-initialise ({ 0 }) for an empty map; release with strmap_free(). */
struct strmap {
	size_t cap, n;
	const char **keys;
	uint64_t *hashes;
	size_t *vals;
};

/* True when key is present, its value then in *val (if val is not NULL). A NULL key is never present. */
bool strmap_get(const struct strmap *m, const char *key, size_t *val);

/*
 * Insert key (replacing the value of an equal key). False on allocation
 * failure; the map is then unchanged and still usable (and still the
 * caller's to free).
 */
bool strmap_put(struct strmap *m, const char *key, size_t val) __attribute__((warn_unused_result));

/* Free the table (not the keys) and leave an empty map. */
void strmap_free(struct strmap *m);

#endif
