#include "core/clock.h"

#include <time.h>

#include "core/config.h"

long long
clock_now(void)
{
	return (long long)time(NULL) + cfg.clock_offset;
}
