#include "core/clock.h"

#include <time.h>

#include "core/config.h"

long long
clock_now(void)
{
	return (long long)time(NULL) + cfg.clock_offset;
}

long long
clock_mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double
clock_mono(void)
{
	return (double)clock_mono_ns() / 1e9;
}
