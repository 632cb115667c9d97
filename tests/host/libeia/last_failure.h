/* SPDX-License-Identifier: MIT */
/* What both libeia suites ask of a failed call. */
#ifndef EIA_TEST_LAST_FAILURE_H
#define EIA_TEST_LAST_FAILURE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "eia.h"

/* The last failure of this thread, with its message shown on mismatch. */
static inline eiaFailure last(void)
{
	eiaFailure f;

	eiaGetLastFailure(&f);
	return f;
}

static inline bool has(const eiaFailure *f, const char *needle)
{
	if (strstr(f->message, needle))
		return true;
	fprintf(stderr, "# message '%s' lacks '%s'\n", f->message, needle);
	return false;
}

#endif /* EIA_TEST_LAST_FAILURE_H */
