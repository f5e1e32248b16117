/*
 * strmap.c - open-addressing string-to-index hash map. See strmap.h.
 */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	/* FNV's low bits are weak for keys that differ in a few digits; the table uses the low bits */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* Slot of key, or of the empty slot where it would go. */
static size_t strmap_slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->keys[i] && (m->hashes[i] != h || strcmp(m->keys[i], key) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	if (!m->cap || !key)
		return false;
	size_t i = strmap_slot(m, key, hash_str(key));
	if (!m->keys[i])
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}

/* Insert key (replacing the value of an equal key). False on allocation failure. */
bool strmap_put(struct strmap *m, const char *key, size_t val)
{
	if (2 * (m->n + 1) > m->cap) {
		struct strmap bigger = { .cap = m->cap ? 2 * m->cap : 256 };
		bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
		bigger.hashes = calloc(bigger.cap, sizeof(*bigger.hashes));
		bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
		if (!bigger.keys || !bigger.hashes || !bigger.vals) {
			free(bigger.keys);
			free(bigger.hashes);
			free(bigger.vals);
			return false;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			size_t j = m->hashes[i] & (bigger.cap - 1);
			while (bigger.keys[j])
				j = (j + 1) & (bigger.cap - 1);
			bigger.keys[j] = m->keys[i];
			bigger.hashes[j] = m->hashes[i];
			bigger.vals[j] = m->vals[i];
		}
		bigger.n = m->n;
		free(m->keys);
		free(m->hashes);
		free(m->vals);
		*m = bigger;
	}
	uint64_t h = hash_str(key);
	size_t i = strmap_slot(m, key, h);
	if (!m->keys[i])
		m->n++;
	m->keys[i] = key;
	m->hashes[i] = h;
	m->vals[i] = val;
	return true;
}

void strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->hashes);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
