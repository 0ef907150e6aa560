#include "core/clock.h"

#include <time.h>

#include "core/config.h"

long long
clock_now(void)
{
	return (long long)time(NULL) + cfg.clock_offset;
}

double
clock_mono_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
