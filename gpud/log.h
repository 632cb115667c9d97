/* SPDX-License-Identifier: MIT */
/*
 * gpud's log: one line per event on stderr, "TIMESTAMP gpud: message", written
 * with a single write() so that lines from concurrent threads never mix.
 */
#ifndef GPUD_LOG_H
#define GPUD_LOG_H

#include <stdbool.h>

/* Show debug lines (--verbose). Call once, before any thread starts. */
void gpud_log_init(bool verbose);

/* A tenant worker's lines say "gpud[PID]:" instead (tenant.h). Call once, early. */
void gpud_log_worker(void);

/* True when debug lines are shown, so callers can skip costly formatting. */
bool gpud_log_verbose(void);

/* "gpud: MESSAGE" */
void gpud_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "gpud: error: MESSAGE" */
void gpud_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "gpud: debug: MESSAGE", only with --verbose */
void gpud_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* GPUD_LOG_H */
