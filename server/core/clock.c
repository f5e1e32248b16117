/*
 * clock.c - monotonic and wall time (see clock.h).
 */
#include "core/clock.h"

static int64_t read_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_us(void)
{
	return read_us(CLOCK_MONOTONIC);
}

int64_t clock_mono_ms(void)
{
	return read_us(CLOCK_MONOTONIC) / 1000;
}

double clock_mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t clock_wall_us(void)
{
	return read_us(CLOCK_REALTIME);
}

bool clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	bool ok;

	if (pthread_condattr_init(&attr) != 0)
		return false;
	ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 && pthread_cond_init(cond, &attr) == 0;
	pthread_condattr_destroy(&attr);
	return ok;
}

void clock_mono_deadline(struct timespec *out, int64_t us)
{
	clock_gettime(CLOCK_MONOTONIC, out);
	out->tv_sec += (time_t)(us / 1000000);
	out->tv_nsec += (long)(us % 1000000) * 1000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

static int64_t system_mono(void *arg)
{
	(void)arg;
	return clock_mono_us();
}

static int64_t system_wall(void *arg)
{
	(void)arg;
	return clock_wall_us();
}

static const struct clock_source system_clock = { system_mono, system_wall, NULL };

const struct clock_source *clock_system(void)
{
	return &system_clock;
}
