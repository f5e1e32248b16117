/*
 * test_ratelimit.c - token buckets under an injected clock: refill, burst,
 * Retry-After, and that a wall-clock step (backwards or forwards) neither
 * blocks a key nor hands it a full bucket, because refill is measured on
 * the monotonic clock; and that a full table never hands a key a fresh
 * burst by recycling a bucket.
 */
#include "core/clock.h"
#include "http/ratelimit.h"
#include "testlib.h"

struct fake_clock {
	int64_t mono_us;
	int64_t wall_us;
};

static int64_t fake_mono(void *arg)
{
	return ((struct fake_clock *)arg)->mono_us;
}

static int64_t fake_wall(void *arg)
{
	return ((struct fake_clock *)arg)->wall_us;
}

/* Advance both clocks by us, as real time passing does. */
static void pass(struct fake_clock *fc, int64_t us)
{
	fc->mono_us += us;
	fc->wall_us += us;
}

static void test_refill_and_retry_after(void)
{
	struct fake_clock fc = { 1000000, 1700000000LL * 1000000 };
	struct clock_source src = { fake_mono, fake_wall, &fc };
	struct ratelimit *rl = ratelimit_new(1.0, 3.0, &src); /* 1 token/s, burst 3 */
	int retry = 0;

	CHECK(rl != NULL);
	CHECK(ratelimit_take(rl, 7, 1, &retry));
	CHECK(ratelimit_take(rl, 7, 1, &retry));
	CHECK(ratelimit_take(rl, 7, 1, &retry));
	CHECK(!ratelimit_take(rl, 7, 1, &retry));
	CHECK(retry == 1);
	CHECK(ratelimit_take(rl, 8, 1, &retry)); /* another key has its own bucket */
	pass(&fc, 999999);
	CHECK(!ratelimit_take(rl, 7, 1, &retry));
	pass(&fc, 1);
	CHECK(ratelimit_take(rl, 7, 1, &retry));
	CHECK(!ratelimit_take(rl, 7, 2, &retry));
	CHECK(retry == 2);
	pass(&fc, 60 * 1000000LL); /* a long pause refills only up to the burst */
	CHECK(ratelimit_take(rl, 7, 3, &retry));
	CHECK(!ratelimit_take(rl, 7, 1, &retry));
	ratelimit_free(rl);
}

static void test_wall_clock_step_back_still_refills(void)
{
	struct fake_clock fc = { 5000000, 1700000000LL * 1000000 };
	struct clock_source src = { fake_mono, fake_wall, &fc };
	struct ratelimit *rl = ratelimit_new(1.0, 2.0, &src);
	int retry = 0;

	CHECK(ratelimit_take(rl, 1, 2, &retry));
	CHECK(!ratelimit_take(rl, 1, 1, &retry));
	fc.wall_us -= 3600 * 1000000LL; /* NTP or an operator sets the clock back an hour */
	pass(&fc, 2 * 1000000LL);
	CHECK(ratelimit_take(rl, 1, 2, &retry)); /* two seconds later the bucket is full again */
	ratelimit_free(rl);
}

static void test_wall_clock_step_forward_grants_nothing_extra(void)
{
	struct fake_clock fc = { 5000000, 1700000000LL * 1000000 };
	struct clock_source src = { fake_mono, fake_wall, &fc };
	struct ratelimit *rl = ratelimit_new(1.0, 2.0, &src);
	int retry = 0;

	CHECK(ratelimit_take(rl, 1, 2, &retry));
	fc.wall_us += 3600 * 1000000LL;
	CHECK(!ratelimit_take(rl, 1, 1, &retry));
	CHECK(retry == 1);
	ratelimit_free(rl);
}

/*
 * 256 drained keys fill the table. A 257th key, and then a key recycled out
 * of the table, must get no more than they would have had with a bucket of
 * their own: an attacker cycling addresses gains nothing by overflowing the
 * table. With time the forgotten keys refill at the normal rate.
 */
static void test_recycled_key_gets_no_fresh_burst(void)
{
	struct fake_clock fc = { 5000000, 1700000000LL * 1000000 };
	struct clock_source src = { fake_mono, fake_wall, &fc };
	struct ratelimit *rl = ratelimit_new(1.0, 3.0, &src); /* 1 token/s, burst 3 */
	int retry = 0, granted = 0;

	for (int64_t k = 1; k <= RATELIMIT_SLOTS; k++)
		CHECK(ratelimit_take(rl, k, 3, &retry));	    /* each drains its own burst */
	CHECK(!ratelimit_take(rl, RATELIMIT_SLOTS + 1, 1, &retry)); /* no room: no fresh burst either */
	CHECK(retry == 1);
	CHECK(!ratelimit_take(rl, 1, 1, &retry)); /* key 1, maybe recycled meanwhile, is still drained */
	/* cycling many new keys grants nothing at all */
	for (int64_t k = 1000; k < 1000 + 4 * RATELIMIT_SLOTS; k++)
		granted += ratelimit_take(rl, k, 1, &retry);
	CHECK(granted == 0);
	for (int64_t k = 1; k <= RATELIMIT_SLOTS; k++)
		granted += ratelimit_take(rl, k, 1, &retry);
	CHECK(granted == 0);
	/* one second later a key has one token, not a burst of three */
	pass(&fc, 1000000);
	CHECK(ratelimit_take(rl, 5000, 1, &retry));
	CHECK(!ratelimit_take(rl, 5000, 1, &retry));
	CHECK(retry == 1);
	/* once everything has refilled, keys get their full burst again */
	pass(&fc, 10 * 1000000LL);
	CHECK(ratelimit_take(rl, 6000, 3, &retry));
	CHECK(ratelimit_take(rl, 7, 3, &retry));
	ratelimit_free(rl);
}

/*
 * Fresh keys cycled through a full table of partly refilled buckets share
 * one refill: over ten seconds at 0.5 tokens/s they get about five grants
 * in all, not one per key (the review's case: 256 a second before the fix).
 */
static void test_cycling_keys_share_one_refill(void)
{
	struct fake_clock fc = { 5000000, 1700000000LL * 1000000 };
	struct clock_source src = { fake_mono, fake_wall, &fc };
	struct ratelimit *rl = ratelimit_new(0.5, 30.0, &src);
	int retry = 0, granted = 0;
	int64_t next = 100000;

	for (int64_t k = 1; k <= RATELIMIT_SLOTS; k++)
		CHECK(ratelimit_take(rl, k, 30, &retry));
	for (int step = 0; step < 100; step++) {
		pass(&fc, 100000); /* 0.1 s */
		for (int i = 0; i < 64; i++)
			granted += ratelimit_take(rl, next++, 1, &retry);
	}
	CHECK(granted <= 6);
	ratelimit_free(rl);
}

/* A table of keys that are idle and full again: a new key gets its full burst at once. */
static void test_full_table_of_idle_keys_admits_new_keys(void)
{
	struct fake_clock fc = { 5000000, 1700000000LL * 1000000 };
	struct clock_source src = { fake_mono, fake_wall, &fc };
	struct ratelimit *rl = ratelimit_new(1.0, 3.0, &src);
	int retry = 0;

	for (int64_t k = 1; k <= RATELIMIT_SLOTS; k++)
		CHECK(ratelimit_take(rl, k, 1, &retry));
	pass(&fc, 2 * 1000000LL); /* every bucket is full again */
	for (int64_t k = 10000; k < 10000 + RATELIMIT_SLOTS; k++)
		CHECK(ratelimit_take(rl, k, 3, &retry));
	ratelimit_free(rl);
}

static void test_system_clock_is_monotonic(void)
{
	const struct clock_source *sys = clock_system();
	int64_t a = sys->mono_us(sys->arg), b = clock_mono_us();

	CHECK(a > 0 && b >= a);
	CHECK(clock_mono_ms() >= a / 1000);
	CHECK(clock_wall_us() > 1600000000LL * 1000000); /* after 2020 */
	CHECK(CLOCK_VN_OFFSET_SECONDS == 25200);
}

/* Which client addresses share a bucket: same when `same`, different otherwise. */
static const struct {
	const char *a, *b;
	int same;
} address_cases[] = {
	{ "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 1 }, /* one /64: one subscriber */
	{ "2001:db8:1:2::1", "2001:db8:1:3::1", 0 },		      /* the next /64 */
	{ "2001:db8:1:2::1", "2001:0db8:0001:0002:0:0:0:9", 1 },      /* spelling does not matter */
	{ "192.0.2.1", "::ffff:192.0.2.1", 1 },			      /* IPv4-mapped is IPv4 */
	{ "192.0.2.1", "192.0.2.2", 0 },			      /* IPv4 is keyed whole */
	{ "192.0.2.1", "c000:201::", 0 },			      /* same leading bytes, other family */
	{ "-", "-", 1 },
	{ "-", "192.0.2.1", 0 },
};

static void test_address_keys(void)
{
	for (size_t i = 0; i < sizeof(address_cases) / sizeof(address_cases[0]); i++) {
		int same = ratelimit_address_key(address_cases[i].a) == ratelimit_address_key(address_cases[i].b);
		if (same != address_cases[i].same)
			fprintf(stderr, "  case %zu: %s vs %s\n", i, address_cases[i].a, address_cases[i].b);
		CHECK(same == address_cases[i].same);
	}
	CHECK(ratelimit_text_key("alice") != ratelimit_text_key("bob"));
}

int main(void)
{
	RUN(test_refill_and_retry_after);
	RUN(test_wall_clock_step_back_still_refills);
	RUN(test_wall_clock_step_forward_grants_nothing_extra);
	RUN(test_recycled_key_gets_no_fresh_burst);
	RUN(test_full_table_of_idle_keys_admits_new_keys);
	RUN(test_cycling_keys_share_one_refill);
	RUN(test_system_clock_is_monotonic);
	RUN(test_address_keys);
	TEST_SUMMARY("test_ratelimit");
}
