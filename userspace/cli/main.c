// SPDX-License-Identifier: MIT
/*
 * eia: attach remote accelerators and look at them. This file finds the
 * subcommand and runs it; each one lives in a cmd_*.c file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "version.h"

static const struct cli_cmd *const commands[] = {
	&cmd_attach,
	&cmd_detach,
	&cmd_reattach,
	&cmd_list,
	&cmd_describe,
	&cmd_monitor,
	&cmd_server_status,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	size_t i;

	fputs("Usage: eia COMMAND [OPTIONS]\n"
	      "       eia COMMAND --help\n"
	      "       eia --help | --version\n"
	      "\n"
	      "Attach accelerators served by a remote gpud as /dev/eiaN, and look at them.\n"
	      "\n"
	      "Commands:\n", out);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-22s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n"
	      "Exit status: 0 success, 1 failure, 2 usage error. See eia(8).\n", out);
}

static const struct cli_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("eia: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'eia --help'.\n", stderr);
	return EIA_EXIT_USAGE;
}

/* `eia help [COMMAND]`, for those who type it that way round. */
static int run_help(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		print_usage(stdout);
		return EIA_EXIT_OK;
	}
	if (argc > 2)
		return usage_error("help: unexpected argument '%s'", argv[2]);
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[1]);
	return cli_help(cmd);
}

static int dispatch(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		print_usage(stderr);
		return EIA_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return EIA_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("eia %s\n", EIA_VERSION);
		return EIA_EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return run_help(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return usage_error("unknown option '%s'", argv[1]);
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[1]);
	return cmd->run(cmd, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	int ret = dispatch(argc, argv);

	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) || ferror(stdout)) {
		perror("eia: writing output");
		return EIA_EXIT_FAIL;
	}
	return ret;
}
