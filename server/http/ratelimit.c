/*
 * ratelimit.c - token buckets in a small open-addressing table under one
 * mutex (see ratelimit.h for what a full table does). A slot once used stays
 * used (it is only recycled in place), so a lookup may stop at the first
 * unused slot of its probe sequence.
 *
 * Refill is measured on the monotonic clock of the limiter's clock source:
 * on the wall clock a backwards step would stop every bucket refilling for
 * as long as the step.
 */
#include "http/ratelimit.h"
#include "core/clock.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

struct bucket {
	int64_t key;
	bool used;
	double tokens;
	int64_t last_us;
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate;
	double burst;
	const struct clock_source *clock;
	struct bucket spill; /* an upper bound on the bucket of every key not in the table */
	struct bucket slots[RATELIMIT_SLOTS];
};

struct ratelimit *ratelimit_new(double rate, double burst, const struct clock_source *clock)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate;
	rl->burst = burst;
	rl->clock = clock ? clock : clock_system();
	rl->spill.tokens = burst; /* no key has been forgotten yet */
	rl->spill.last_us = rl->clock->mono_us(rl->clock->arg);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* b's tokens at now. */
static double level(const struct ratelimit *rl, const struct bucket *b, int64_t now_us)
{
	double t = b->tokens;

	if (now_us > b->last_us)
		t += (double)(now_us - b->last_us) / 1e6 * rl->rate;
	return t > rl->burst ? rl->burst : t;
}

/* Bring b's tokens up to now. */
static void refill(const struct ratelimit *rl, struct bucket *b, int64_t now_us)
{
	if (now_us <= b->last_us)
		return;
	b->tokens = level(rl, b, now_us);
	b->last_us = now_us;
}

/*
 * key's bucket, refilled to now. A key not in the table takes the first
 * unused slot of its probe sequence or, when the table is full, the slot
 * whose forgetting costs least (most tokens now, then least recently used),
 * whose tokens then also bound the spill bucket; the newcomer starts with
 * the spill bucket's tokens, never more, and empties it (unless the victim
 * had refilled completely, when nothing was lost by forgetting it).
 */
static struct bucket *find(struct ratelimit *rl, int64_t key, int64_t now_us)
{
	struct bucket *victim = NULL, *b = NULL;
	double victim_tokens = 0;
	size_t start = (size_t)((uint64_t)key * 11400714819323198485ull >> 56) % RATELIMIT_SLOTS;

	for (size_t i = 0; i < RATELIMIT_SLOTS; i++) {
		struct bucket *s = &rl->slots[(start + i) % RATELIMIT_SLOTS];
		if (!s->used) {
			b = s;
			break;
		}
		if (s->key == key) {
			refill(rl, s, now_us);
			return s;
		}
		double t = level(rl, s, now_us);
		if (!victim || t > victim_tokens || (t == victim_tokens && s->last_us < victim->last_us)) {
			victim = s;
			victim_tokens = t;
		}
	}
	refill(rl, &rl->spill, now_us);
	double start_tokens = rl->spill.tokens;
	if (!b) {
		b = victim;
		if (victim_tokens >= rl->burst) {
			start_tokens = rl->burst; /* the victim had refilled completely: forgetting it loses nothing */
		} else {
			/*
			 * Something is forgotten: the newcomer gets no more than the victim
			 * had, and takes the spill bucket's tokens with it, so every key
			 * beyond the table shares one refill instead of each getting it.
			 */
			start_tokens = victim_tokens < rl->spill.tokens ? victim_tokens : rl->spill.tokens;
			rl->spill.tokens = 0;
		}
	}
	b->used = true;
	b->key = key;
	b->tokens = start_tokens;
	b->last_us = now_us;
	return b;
}

void ratelimit_set(struct ratelimit *rl, double rate, double burst)
{
	if (!rl)
		return;
	pthread_mutex_lock(&rl->lock);
	rl->rate = rate;
	rl->burst = burst;
	if (rl->spill.tokens > burst)
		rl->spill.tokens = burst;
	for (size_t i = 0; i < RATELIMIT_SLOTS; i++)
		if (rl->slots[i].tokens > burst)
			rl->slots[i].tokens = burst;
	pthread_mutex_unlock(&rl->lock);
}

bool ratelimit_take(struct ratelimit *rl, int64_t key, double n, int *retry_after_s)
{
	int64_t now_us = rl->clock->mono_us(rl->clock->arg);
	bool ok;

	pthread_mutex_lock(&rl->lock);
	if (n > rl->burst)
		n = rl->burst;
	struct bucket *b = find(rl, key, now_us);
	ok = b->tokens >= n;
	if (ok) {
		b->tokens -= n;
	} else {
		double wait = ceil((n - b->tokens) / rl->rate);
		*retry_after_s = wait < 1 ? 1 : (int)wait;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

static int64_t bytes_key(const void *p, size_t n)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	int64_t key;

	crypto_hash_sha256(h, p, n);
	memcpy(&key, h, sizeof(key));
	return key;
}

int64_t ratelimit_text_key(const char *text)
{
	return bytes_key(text, strlen(text));
}

int64_t ratelimit_address_key(const char *addr)
{
	unsigned char a[16];
	/* tagged so that an IPv4 address and an IPv6 prefix with the same bytes differ */
	unsigned char tagged[1 + 8];

	if (inet_pton(AF_INET, addr, a) == 1) {
		tagged[0] = 4;
		memcpy(tagged + 1, a, 4);
		return bytes_key(tagged, 5);
	}
	if (inet_pton(AF_INET6, addr, a) == 1) {
		static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			tagged[0] = 4;
			memcpy(tagged + 1, a + 12, 4);
			return bytes_key(tagged, 5);
		}
		tagged[0] = 6;
		memcpy(tagged + 1, a, 8);
		return bytes_key(tagged, sizeof(tagged));
	}
	return ratelimit_text_key(addr);
}
