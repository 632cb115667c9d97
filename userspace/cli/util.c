// SPDX-License-Identifier: MIT
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("eia: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_err(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "eia %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'eia %s --help'.\n", cmd->name);
	return EIA_EXIT_USAGE;
}

int cli_help(const struct cli_cmd *cmd)
{
	fputs(cmd->usage, stdout);
	return EIA_EXIT_OK;
}

int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv,
	       const struct option *longopts)
{
	/* Leading ':' makes getopt report a missing argument as ':', and
	 * opterr = 0 keeps its own messages out: ours name the subcommand.
	 */
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":h", longopts, NULL);
	if (c == '?' || c == ':') {
		const char *arg = argv[optind - 1];
		char shortopt[3] = { '-', (char)optopt, '\0' };

		/* For "--name" getopt leaves the offending word in argv; for a
		 * short option it may be inside a cluster, so rebuild "-x".
		 */
		if (strncmp(arg, "--", 2) != 0)
			arg = shortopt;
		if (c == '?')
			cli_usage_err(cmd, "unknown option '%s'", arg);
		else
			cli_usage_err(cmd, "option '%s' needs an argument", arg);
		return CLI_OPT_BAD;
	}
	return c;
}

int cli_no_more_args(const struct cli_cmd *cmd, int argc, char **argv)
{
	if (optind < argc)
		return cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Decimal digits only, no sign or space: strtoul alone accepts " -1". */
static int parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_parse_u32(const struct cli_cmd *cmd, const char *opt, const char *s,
		  uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int ret = parse_decimal(s, UINT32_MAX, &v);

	if (ret == -EINVAL)
		return cli_usage_err(cmd, "%s: '%s' is not a number", opt, s);
	if (ret || v < min || v > max)
		return cli_usage_err(cmd, "%s: %s is out of range (%" PRIu32 "..%" PRIu32 ")",
				     opt, s, min, max);
	*out = (uint32_t)v;
	return 0;
}

int cli_parse_device(const struct cli_cmd *cmd, const char *s, uint32_t *index)
{
	const char *num = s;
	uint64_t v;

	if (!strncmp(num, "/dev/", 5))
		num += 5;
	if (!strncmp(num, "eia", 3))
		num += 3;
	else if (num != s)
		num = "";	/* "/dev/" must be followed by "eia" */
	if (parse_decimal(num, UINT32_MAX, &v))
		return cli_usage_err(cmd, "'%s' is not a device (expected eiaN, /dev/eiaN or N)", s);
	*index = (uint32_t)v;
	return 0;
}

const char *cli_or_dash(const char *s)
{
	return s[0] ? s : "-";
}

char *cli_fmt_milli(char buf[CLI_NUM_MAX], uint64_t milli)
{
	uint64_t whole = milli / 1000;
	unsigned int frac = (unsigned int)(milli % 1000);
	int len;

	if (!frac) {
		snprintf(buf, CLI_NUM_MAX, "%" PRIu64, whole);
		return buf;
	}
	len = snprintf(buf, CLI_NUM_MAX, "%" PRIu64 ".%03u", whole, frac);
	while (buf[len - 1] == '0')
		buf[--len] = '\0';
	return buf;
}

char *cli_fmt_gib(char buf[CLI_NUM_MAX], uint64_t bytes)
{
	const unsigned int shift = 30;
	uint64_t whole = bytes >> shift;
	uint64_t rest = bytes & ((UINT64_C(1) << shift) - 1);
	/* rest < 2^30, so rest * 1000 cannot overflow. */
	uint64_t frac = (rest * 1000 + (UINT64_C(1) << (shift - 1))) >> shift;

	/* Rounding may carry into the whole part (frac == 1000); whole is at
	 * most 2^34, so whole * 1000 + frac fits in 64 bits.
	 */
	return cli_fmt_milli(buf, whole * 1000 + frac);
}
