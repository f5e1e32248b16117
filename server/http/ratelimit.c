/*
 * ratelimit.c - token buckets in a small open-addressing table under one
 * mutex. The table holds at most RATELIMIT_SLOTS keys (ingest sources are
 * few); when full, the least recently used bucket is recycled.
 *
 * Refill is measured on the monotonic clock of the limiter's clock source:
 * on the wall clock a backwards step would stop every bucket refilling for
 * as long as the step.
 */
#include "http/ratelimit.h"
#include "core/clock.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#define RATELIMIT_SLOTS 256

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
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static struct bucket *find(struct ratelimit *rl, int64_t key, int64_t now_us)
{
	struct bucket *oldest = &rl->slots[0];
	size_t start = (size_t)((uint64_t)key * 11400714819323198485ull >> 56) % RATELIMIT_SLOTS;

	for (size_t i = 0; i < RATELIMIT_SLOTS; i++) {
		struct bucket *b = &rl->slots[(start + i) % RATELIMIT_SLOTS];
		if (b->used && b->key == key)
			return b;
		if (!b->used) {
			b->used = true;
			b->key = key;
			b->tokens = rl->burst;
			b->last_us = now_us;
			return b;
		}
		if (b->last_us < oldest->last_us)
			oldest = b;
	}
	oldest->key = key;
	oldest->tokens = rl->burst;
	oldest->last_us = now_us;
	return oldest;
}

bool ratelimit_take(struct ratelimit *rl, int64_t key, double n, int *retry_after_s)
{
	int64_t now_us = rl->clock->mono_us(rl->clock->arg);
	bool ok;

	if (n > rl->burst)
		n = rl->burst;
	pthread_mutex_lock(&rl->lock);
	struct bucket *b = find(rl, key, now_us);
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) / 1e6 * rl->rate;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_us = now_us;
	}
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
