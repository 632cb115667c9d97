// SPDX-License-Identifier: MIT
/* eia list, eia describe-accelerators: what is attached. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "device.h"
#include "genl.h"
#include "json.h"
#include "version.h"

enum { OPT_JSON = 1 };

static const struct option json_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * Parses the options both commands share. Returns -1 to go on, else the
 * exit code to return (help shown, or a usage error).
 */
static int parse_json_opts(const struct cli_cmd *cmd, int argc, char **argv, bool *json)
{
	int c;

	while ((c = cli_getopt(cmd, argc, argv, json_opts)) != -1) {
		switch (c) {
		case OPT_JSON:
			*json = true;
			break;
		case 'h':
			return cli_help(cmd);
		default:
			return EIA_EXIT_USAGE;
		}
	}
	if (cli_no_more_args(cmd, argc, argv))
		return EIA_EXIT_USAGE;
	return -1;
}

static int max_width(int w, const char *s)
{
	int len = (int)strlen(cli_or_dash(s));

	return len > w ? len : w;
}

static void print_table(const struct eia_device_list *list)
{
	int wname = 4, wtype = 4, wid = 2, wstatus = 6;
	size_t i;

	for (i = 0; i < list->n; i++) {
		const struct eia_device *d = &list->dev[i];

		wname = max_width(wname, d->name);
		wtype = max_width(wtype, d->type);
		wid = max_width(wid, d->accel_id);
		wstatus = max_width(wstatus, eia_status_name(d->status));
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", wname, "NAME", wtype, "TYPE", wid, "ID",
	       wstatus, "STATUS", "SERVER");
	for (i = 0; i < list->n; i++) {
		const struct eia_device *d = &list->dev[i];

		printf("%-*s  %-*s  %-*s  %-*s  %s\n", wname, cli_or_dash(d->name),
		       wtype, cli_or_dash(d->type), wid, cli_or_dash(d->accel_id),
		       wstatus, eia_status_name(d->status), cli_or_dash(d->server));
	}
}

static void print_list_json(const struct eia_device_list *list)
{
	struct json_writer w;
	size_t i;

	json_init(&w, stdout);
	json_object_begin(&w);
	json_key(&w, "devices");
	json_array_begin(&w);
	for (i = 0; i < list->n; i++) {
		const struct eia_device *d = &list->dev[i];

		json_object_begin(&w);
		json_kv_string(&w, "name", d->name);
		json_kv_uint(&w, "index", d->index);
		json_kv_string(&w, "type", d->type);
		json_kv_string(&w, "id", d->accel_id);
		json_kv_string(&w, "status", eia_status_name(d->status));
		json_kv_string(&w, "server", d->server);
		json_kv_uint(&w, "timeout_ms", d->timeout_ms);
		json_kv_uint(&w, "memory_total_bytes", d->memory_total);
		json_kv_uint(&w, "memory_used_bytes", d->memory_used);
		json_kv_milli(&w, "fp32_tflops", d->fp32_mtflops);
		json_kv_milli(&w, "fp16_tflops", d->fp16_mtflops);
		json_kv_uint(&w, "requests", d->requests);
		json_kv_uint(&w, "errors", d->errors);
		json_kv_uint(&w, "bytes_sent", d->bytes_sent);
		json_kv_uint(&w, "bytes_received", d->bytes_received);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
	putchar('\n');
}

static int run_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct eia_device_list list;
	struct eia_nl_error err;
	struct eia_nl nl;
	bool json = false;
	int ret;

	ret = parse_json_opts(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	if (eia_nl_open(&nl))
		return EIA_EXIT_FAIL;
	ret = eia_device_list_get(&nl, &list, &err);
	eia_nl_close(&nl);
	if (ret) {
		eia_nl_report("list", &err);
		return EIA_EXIT_FAIL;
	}
	if (json)
		print_list_json(&list);
	else
		print_table(&list);
	eia_device_list_free(&list);
	return EIA_EXIT_OK;
}

const struct cli_cmd cmd_list = {
	.name = "list",
	.run = run_list,
	.summary = "list attached accelerators",
	.usage =
	"Usage: eia list [--json]\n"
	"\n"
	"List the attached accelerators: NAME TYPE ID STATUS SERVER.\n"
	"\n"
	"Options:\n"
	"  --json      everything the kernel reports about each device, as JSON:\n"
	"              {\"devices\": [{\"name\": \"eia0\", \"index\": 0, \"type\": ..., ...}]}\n"
	"  -h, --help  show this help\n",
};

/* Local time as "YYYY-MM-DD HH:MM:SS", the old tool's format. */
static void format_now(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, cap, "unknown");
}

static void print_describe_json(const struct eia_device_list *list, const char *now)
{
	struct json_writer w;
	size_t i;

	json_init(&w, stdout);
	json_object_begin(&w);
	json_kv_string(&w, "ei_client_version", EIA_VERSION);
	json_kv_string(&w, "time", now);
	json_kv_uint(&w, "attached_accelerators", list->n);
	json_key(&w, "devices");
	json_array_begin(&w);
	for (i = 0; i < list->n; i++) {
		const struct eia_device *d = &list->dev[i];

		json_object_begin(&w);
		json_kv_uint(&w, "ordinal", d->index);
		json_kv_string(&w, "type", d->type);
		json_kv_string(&w, "id", d->accel_id);
		json_kv_string(&w, "status", eia_status_name(d->status));
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
	putchar('\n');
}

static void print_describe_text(const struct eia_device_list *list, const char *now)
{
	size_t i;

	printf("eia client %s, %s: %zu accelerator%s attached\n", EIA_VERSION, now, list->n,
	       list->n == 1 ? "" : "s");
	for (i = 0; i < list->n; i++) {
		const struct eia_device *d = &list->dev[i];
		char total[CLI_NUM_MAX], used[CLI_NUM_MAX];
		char fp32[CLI_NUM_MAX], fp16[CLI_NUM_MAX];

		printf("\n%s (ordinal %" PRIu32 ")\n", d->name, d->index);
		printf("  type         %s\n", cli_or_dash(d->type));
		printf("  id           %s\n", cli_or_dash(d->accel_id));
		printf("  status       %s\n", eia_status_name(d->status));
		printf("  server       %s\n", cli_or_dash(d->server));
		printf("  memory       %s GiB (%s GiB used)\n", cli_fmt_gib(total, d->memory_total),
		       cli_fmt_gib(used, d->memory_used));
		printf("  FP32 TFLOPS  %s\n", cli_fmt_milli(fp32, d->fp32_mtflops));
		printf("  FP16 TFLOPS  %s\n", cli_fmt_milli(fp16, d->fp16_mtflops));
		printf("  timeout      %" PRIu32 " ms\n", d->timeout_ms);
		printf("  requests     %" PRIu64 " (%" PRIu64 " failed)\n", d->requests, d->errors);
		printf("  bytes        %" PRIu64 " sent, %" PRIu64 " received\n", d->bytes_sent,
		       d->bytes_received);
	}
}

static int run_describe(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct eia_device_list list = { NULL, 0 };
	char now[32];
	struct eia_nl_error err;
	struct eia_nl nl;
	bool json = false;
	int ret;

	ret = parse_json_opts(cmd, argc, argv, &json);
	if (ret >= 0)
		return ret;
	format_now(now, sizeof(now));

	/* No module means nothing attached: an answer, not a failure. */
	ret = eia_nl_try_open(&nl);
	if (ret == -ENOENT) {
		cli_err("the eia kernel module is not loaded (modprobe eia): no accelerators");
	} else if (ret) {
		return EIA_EXIT_FAIL;
	} else {
		ret = eia_device_list_get(&nl, &list, &err);
		eia_nl_close(&nl);
		if (ret) {
			eia_nl_report("describe-accelerators", &err);
			return EIA_EXIT_FAIL;
		}
	}
	if (json)
		print_describe_json(&list, now);
	else
		print_describe_text(&list, now);
	eia_device_list_free(&list);
	return EIA_EXIT_OK;
}

const struct cli_cmd cmd_describe = {
	.name = "describe-accelerators",
	.run = run_describe,
	.summary = "describe attached accelerators (--json: the Elastic Inference shape)",
	.usage =
	"Usage: eia describe-accelerators [--json]\n"
	"\n"
	"Describe every attached accelerator: type, id, status, server, memory,\n"
	"compute shares and counters. Without the eia module loaded there are none\n"
	"(a note goes to stderr and the exit status is still 0).\n"
	"\n"
	"Options:\n"
	"  --json      print what the Elastic Inference tool printed:\n"
	"              {\"ei_client_version\": \"" EIA_VERSION "\", \"time\": \"YYYY-MM-DD HH:MM:SS\",\n"
	"               \"attached_accelerators\": N, \"devices\": [{\"ordinal\": 0,\n"
	"               \"type\": \"eia2.medium\", \"id\": \"eia-...\", \"status\": \"healthy\"}]}\n"
	"  -h, --help  show this help\n",
};
