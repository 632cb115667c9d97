/* SPDX-License-Identifier: MIT */
/*
 * What every part of the eia CLI shares: exit codes, the subcommand table
 * entry, messages, option parsing and the number formats.
 */
#ifndef EIA_CLI_H
#define EIA_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes, as documented in eia(8). */
#define EIA_EXIT_OK	0
#define EIA_EXIT_FAIL	1
#define EIA_EXIT_USAGE	2

/**
 * struct cli_cmd - one subcommand
 * @name: what the user types ("attach")
 * @run: runs it; argv[0] is @name. Returns an exit code.
 * @usage: full help text for `eia @name --help`, starting with "Usage:"
 * @summary: one line for the command list of `eia --help`
 */
struct cli_cmd {
	const char *name;
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
	const char *usage;
	const char *summary;
};

/* The subcommands (cmd_*.c). */
extern const struct cli_cmd cmd_attach, cmd_detach, cmd_reattach;
extern const struct cli_cmd cmd_list, cmd_describe;
extern const struct cli_cmd cmd_monitor, cmd_server_status;

/* "eia: MESSAGE" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * "eia CMD: MESSAGE" and a pointer to --help on stderr.
 * Returns EIA_EXIT_USAGE, so callers can `return cli_usage_err(...)`.
 */
int cli_usage_err(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints @cmd's usage on stdout. Returns EIA_EXIT_OK. */
int cli_help(const struct cli_cmd *cmd);

/* cli_getopt() returns this for an option error it has already reported. */
#define CLI_OPT_BAD	'?'

/*
 * getopt_long() over @cmd's arguments with -h/--help handled: returns 'h'
 * for help (the caller prints it), CLI_OPT_BAD after reporting an unknown
 * option or a missing argument, else what getopt_long() returns.
 */
int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv,
	       const struct option *longopts);

/*
 * Reports a positional argument left after the options, if any.
 * Returns 0, or EIA_EXIT_USAGE after reporting it.
 */
int cli_no_more_args(const struct cli_cmd *cmd, int argc, char **argv);

/*
 * Parses a decimal number (digits only) in [@min, @max] for option @opt;
 * reports a bad one. Returns 0 or EIA_EXIT_USAGE.
 */
int cli_parse_u32(const struct cli_cmd *cmd, const char *opt, const char *s,
		  uint32_t min, uint32_t max, uint32_t *out);

/*
 * Parses a device as the user may name it: "eiaN", "/dev/eiaN" or "N".
 * Returns 0 or EIA_EXIT_USAGE after reporting a bad one.
 */
int cli_parse_device(const struct cli_cmd *cmd, const char *s, uint32_t *index);

/* @s, or "-" when it is empty: what tables show for a missing value. */
const char *cli_or_dash(const char *s);

/* Room for any number cli_fmt_milli() writes, with its NUL. */
#define CLI_NUM_MAX	32

/*
 * Formats thousandths (milli-TFLOPS) as a decimal: whole numbers without a
 * point ("8"), others with up to three decimals and no trailing zeros
 * ("0.5", "1.25"). The result is also a valid JSON number. Returns @buf.
 */
char *cli_fmt_milli(char buf[CLI_NUM_MAX], uint64_t milli);

/*
 * Formats a byte count in GiB the same way (thousandths of a GiB, rounded
 * to nearest). Returns @buf.
 */
char *cli_fmt_gib(char buf[CLI_NUM_MAX], uint64_t bytes);

#endif /* EIA_CLI_H */
