// SPDX-License-Identifier: MIT
/* eia monitor: print the module's events as they come. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "genl.h"
#include "timeutil.h"

enum { OPT_COUNT = 1, OPT_TIMEOUT };

/**
 * struct monitor - progress of one eia monitor
 * @want: stop after this many events; 0 for no limit
 * @seen: events printed so far
 */
struct monitor {
	uint32_t want;
	uint32_t seen;
};

/* Prints one event line; returns false for a command this tool does not know. */
static bool print_event(uint8_t cmd, const struct eia_device *d)
{
	switch (cmd) {
	case EIA_CMD_EVENT_ATTACHED:
		printf("attached %s type=%s id=%s server=%s\n", d->name, cli_or_dash(d->type),
		       cli_or_dash(d->accel_id), cli_or_dash(d->server));
		break;
	case EIA_CMD_EVENT_DETACHED:
		printf("detached %s\n", d->name);
		break;
	case EIA_CMD_EVENT_LINK_DEAD:
		printf("link-dead %s id=%s\n", d->name, cli_or_dash(d->accel_id));
		break;
	case EIA_CMD_EVENT_LINK_RESTORED:
		printf("link-restored %s id=%s server=%s\n", d->name, cli_or_dash(d->accel_id),
		       cli_or_dash(d->server));
		break;
	default:
		return false;
	}
	/* Whoever reads us (a test, a pipe) sees each event at once. */
	fflush(stdout);
	return true;
}

static int on_event(uint8_t cmd, struct nlattr **attrs, void *arg)
{
	struct monitor *m = arg;
	struct eia_device dev;

	/* Events read in the same batch as the last one wanted are dropped. */
	if (m->want && m->seen >= m->want)
		return 0;
	if (eia_device_from_attrs(attrs, &dev)) {
		cli_err("ignored an event without a device index");
		return 0;
	}
	if (print_event(cmd, &dev))
		m->seen++;
	return 0;
}

/*
 * Waits for events until @m has what it wants or @timeout_ms (when not
 * negative) has passed. Returns 0, or a negative errno after reporting it.
 */
static int watch(struct eia_nl *nl, struct monitor *m, int64_t timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = eia_nl_fd(nl), .events = POLLIN };

	while (!m->want || m->seen < m->want) {
		int wait = -1, n, ret;

		if (timeout_ms >= 0) {
			int64_t left = deadline - eia_now_ms();

			if (left <= 0)
				break;
			wait = left > INT_MAX ? INT_MAX : (int)left;
		}
		n = poll(&pfd, 1, wait);
		if (n < 0 && errno != EINTR) {
			cli_err("monitor: poll: %s", strerror(errno));
			return -errno;
		}
		if (n <= 0)
			continue;
		ret = eia_nl_recv_events(nl, on_event, m);
		if (ret == -ENOBUFS)
			cli_err("monitor: some events were lost (the kernel sent them faster than they were read)");
		else if (ret)
			return ret;
	}
	return 0;
}

static int run_monitor(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct monitor m = { 0, 0 };
	int64_t timeout_ms = -1;
	uint32_t timeout;
	struct eia_nl nl;
	int c, ret;

	while ((c = cli_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_COUNT:
			if (cli_parse_u32(cmd, "--count", optarg, 1, UINT32_MAX, &m.want))
				return EIA_EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_u32(cmd, "--timeout-ms", optarg, 1, INT32_MAX, &timeout))
				return EIA_EXIT_USAGE;
			timeout_ms = timeout;
			break;
		case 'h':
			return cli_help(cmd);
		default:
			return EIA_EXIT_USAGE;
		}
	}
	if (cli_no_more_args(cmd, argc, argv))
		return EIA_EXIT_USAGE;

	if (eia_nl_open(&nl))
		return EIA_EXIT_FAIL;
	if (eia_nl_subscribe_events(&nl)) {
		eia_nl_close(&nl);
		return EIA_EXIT_FAIL;
	}
	/* From here no event can be missed: tell whoever waits for us. */
	printf("monitoring\n");
	fflush(stdout);
	ret = watch(&nl, &m, timeout_ms);
	eia_nl_close(&nl);
	if (ret)
		return EIA_EXIT_FAIL;
	if (m.want && m.seen < m.want) {
		cli_err("monitor: timed out after %" PRIu32 " of %" PRIu32 " events", m.seen, m.want);
		return EIA_EXIT_FAIL;
	}
	return EIA_EXIT_OK;
}

const struct cli_cmd cmd_monitor = {
	.name = "monitor",
	.run = run_monitor,
	.summary = "print attach, detach and link events as they happen",
	.usage =
	"Usage: eia monitor [--count N] [--timeout-ms MS]\n"
	"\n"
	"Print a line \"monitoring\" once subscribed, then one line per event:\n"
	"  attached eia0 type=TYPE id=ID server=SERVER\n"
	"  detached eia0\n"
	"  link-dead eia0 id=ID\n"
	"  link-restored eia0 id=ID server=SERVER\n"
	"Runs until interrupted, unless limited:\n"
	"\n"
	"Options:\n"
	"  --count N        exit after N events (status 0)\n"
	"  --timeout-ms MS  exit after MS milliseconds; with --count, fewer than N\n"
	"                   events by then is a failure (status 1)\n"
	"  -h, --help       show this help\n",
};
