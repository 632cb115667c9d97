// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool log_verbose;
static char log_name[32] = "gpud";

void gpud_log_init(bool verbose)
{
	log_verbose = verbose;
}

void gpud_log_worker(void)
{
	snprintf(log_name, sizeof(log_name), "gpud[%ld]", (long)getpid());
}

bool gpud_log_verbose(void)
{
	return log_verbose;
}

/* Builds the whole line first: stderr is unbuffered, one write keeps it whole. */
static void log_line(const char *level, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	len = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: %s",
		       ts.tv_nsec / 1000000, log_name, level);
	n += (size_t)len;
	len = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (len < 0)
		return;
	n += (size_t)len;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* Nothing sensible to do when stderr itself fails. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void gpud_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void gpud_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("error: ", fmt, ap);
	va_end(ap);
}

void gpud_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_line("debug: ", fmt, ap);
	va_end(ap);
}
