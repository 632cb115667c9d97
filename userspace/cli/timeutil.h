/* SPDX-License-Identifier: MIT */
/* Monotonic time for deadlines (connect, monitor). */
#ifndef EIA_CLI_TIMEUTIL_H
#define EIA_CLI_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC: immune to wall-clock changes. */
static inline int64_t eia_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* EIA_CLI_TIMEUTIL_H */
