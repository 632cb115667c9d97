// SPDX-License-Identifier: MIT
/* eia attach, eia detach, eia reattach: the commands that change devices. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "connect.h"
#include "device.h"
#include "genl.h"

enum { OPT_SERVER = 1, OPT_TYPE, OPT_TIMEOUT };

/**
 * struct link_request - an ATTACH or a RECONFIGURE with a new connection
 * @cmd: EIA_CMD_ATTACH or EIA_CMD_RECONFIGURE
 * @index: the device, for RECONFIGURE
 * @type: the accelerator type, for ATTACH
 * @fd: the connected socket
 * @server: what the kernel shows as the server
 * @timeout_ms: per-request timeout, 0 to leave it to the kernel
 */
struct link_request {
	uint8_t cmd;
	uint32_t index;
	const char *type;
	int fd;
	const char *server;
	uint32_t timeout_ms;
};

static struct nl_msg *build_link_msg(const struct eia_nl *nl, const struct link_request *req)
{
	struct nl_msg *msg = eia_nl_msg(nl, req->cmd, 0);

	if (!msg)
		return NULL;
	if ((req->cmd == EIA_CMD_RECONFIGURE &&
	     nla_put_u32(msg, EIA_ATTR_INDEX, req->index) < 0) ||
	    (req->type && nla_put_string(msg, EIA_ATTR_TYPE, req->type) < 0) ||
	    nla_put_u32(msg, EIA_ATTR_SOCK_FD, (uint32_t)req->fd) < 0 ||
	    nla_put_string(msg, EIA_ATTR_SERVER, req->server) < 0 ||
	    (req->timeout_ms && nla_put_u32(msg, EIA_ATTR_TIMEOUT_MS, req->timeout_ms) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Reports a refused or failed request; EPERM gets its own advice. */
static int report_failure(const char *what, const char *doing, const struct eia_nl_error *err)
{
	if (err->err == -EPERM && err->from_kernel)
		cli_err("%s needs CAP_NET_ADMIN (run as root)", doing);
	else
		eia_nl_report(what, err);
	return EIA_EXIT_FAIL;
}

static int parse_server(const struct cli_cmd *cmd, const char *spec, struct eia_endpoint *ep)
{
	const char *why;

	if (eia_endpoint_parse(spec, ep, &why))
		return cli_usage_err(cmd, "--server '%s': %s", spec, why);
	return 0;
}

static int take_attached(uint8_t cmd, struct nlattr **attrs, void *arg)
{
	if (cmd != EIA_CMD_ATTACH)
		return 0;
	return eia_device_from_attrs(attrs, arg);
}

/*
 * Connects to @ep and sends @req over @nl with the new socket; the kernel
 * holds its own reference to the socket, so ours is closed either way.
 * @reply gets the ATTACH reply. Returns an exit code.
 */
static int send_link_request(struct eia_nl *nl, const struct eia_endpoint *ep,
			     struct link_request *req, struct eia_device *reply,
			     const char *what, const char *doing)
{
	struct eia_nl_error err;
	struct nl_msg *msg;
	int ret;

	req->fd = eia_connect(ep);
	if (req->fd < 0)
		return EIA_EXIT_FAIL;
	req->server = ep->name;
	msg = build_link_msg(nl, req);
	if (!msg) {
		close(req->fd);
		cli_err("out of memory");
		return EIA_EXIT_FAIL;
	}
	ret = eia_nl_call(nl, msg, reply ? take_attached : NULL, reply, &err);
	close(req->fd);
	if (ret)
		return report_failure(what, doing, &err);
	return EIA_EXIT_OK;
}

static int run_attach(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct link_request req = { .cmd = EIA_CMD_ATTACH };
	const char *server = NULL;
	struct eia_device dev = { .name = "" };
	struct eia_endpoint ep;
	struct eia_nl nl;
	int c, ret;

	while ((c = cli_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_SERVER:
			server = optarg;
			break;
		case OPT_TYPE:
			req.type = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_u32(cmd, "--timeout-ms", optarg, EIA_TIMEOUT_MS_MIN,
					  EIA_TIMEOUT_MS_MAX, &req.timeout_ms))
				return EIA_EXIT_USAGE;
			break;
		case 'h':
			return cli_help(cmd);
		default:
			return EIA_EXIT_USAGE;
		}
	}
	if (cli_no_more_args(cmd, argc, argv))
		return EIA_EXIT_USAGE;
	if (!server)
		return cli_usage_err(cmd, "--server is required");
	if (!req.type)
		return cli_usage_err(cmd, "--type is required");
	if (!req.type[0] || strlen(req.type) >= EIA_TYPE_NAME_MAX)
		return cli_usage_err(cmd, "--type must have 1 to %d characters",
				     EIA_TYPE_NAME_MAX - 1);
	if (parse_server(cmd, server, &ep))
		return EIA_EXIT_USAGE;

	/* Find the module before connecting: no gpud session for nothing. */
	if (eia_nl_open(&nl))
		return EIA_EXIT_FAIL;
	ret = send_link_request(&nl, &ep, &req, &dev, "attach", "attaching");
	eia_nl_close(&nl);
	if (ret)
		return ret;
	if (!dev.name[0]) {
		cli_err("attach: the kernel's reply did not name the new device");
		return EIA_EXIT_FAIL;
	}
	printf("%s\n", dev.name);
	return EIA_EXIT_OK;
}

const struct cli_cmd cmd_attach = {
	.name = "attach",
	.run = run_attach,
	.summary = "connect to gpud and attach an accelerator as /dev/eiaN",
	.usage =
	"Usage: eia attach --server HOST[:PORT] --type TYPE [--timeout-ms N]\n"
	"\n"
	"Connect to gpud on HOST (port 8443 unless given), ask it for an accelerator\n"
	"of TYPE, and create /dev/eiaN for it. Prints the new device's name (eia0).\n"
	"\n"
	"Options:\n"
	"  --server HOST[:PORT]  the gpud to use; an IPv6 address with a port goes in\n"
	"                        brackets: [::1]:8443\n"
	"  --type TYPE           accelerator type, e.g. eia2.medium\n"
	"  --timeout-ms N        per-request timeout in ms, 100..600000 (default: the\n"
	"                        module parameter request_timeout_ms)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Needs CAP_NET_ADMIN.\n",
};

/* The one positional argument: a device. Returns 0 or EIA_EXIT_USAGE. */
static int take_device(const struct cli_cmd *cmd, int argc, char **argv, uint32_t *index)
{
	if (optind >= argc)
		return cli_usage_err(cmd, "missing the device (eiaN, /dev/eiaN or N)");
	if (cli_parse_device(cmd, argv[optind], index))
		return EIA_EXIT_USAGE;
	optind++;
	return cli_no_more_args(cmd, argc, argv);
}

static int run_detach(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eia_nl_error err;
	struct nl_msg *msg;
	struct eia_nl nl;
	uint32_t index;
	int c, ret;

	while ((c = cli_getopt(cmd, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_help(cmd);
		return EIA_EXIT_USAGE;
	}
	if (take_device(cmd, argc, argv, &index))
		return EIA_EXIT_USAGE;
	if (eia_nl_open(&nl))
		return EIA_EXIT_FAIL;
	msg = eia_nl_msg(&nl, EIA_CMD_DETACH, 0);
	if (msg && nla_put_u32(msg, EIA_ATTR_INDEX, index) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	if (!msg) {
		eia_nl_close(&nl);
		cli_err("out of memory");
		return EIA_EXIT_FAIL;
	}
	ret = eia_nl_call(&nl, msg, NULL, NULL, &err);
	eia_nl_close(&nl);
	if (ret) {
		char what[32];

		snprintf(what, sizeof(what), "detach eia%u", index);
		return report_failure(what, "detaching", &err);
	}
	return EIA_EXIT_OK;
}

const struct cli_cmd cmd_detach = {
	.name = "detach",
	.run = run_detach,
	.summary = "detach an accelerator (eiaN, /dev/eiaN or N)",
	.usage =
	"Usage: eia detach DEVICE\n"
	"\n"
	"Detach the accelerator DEVICE (eiaN, /dev/eiaN or N): /dev/eiaN goes away,\n"
	"gpud frees the accelerator, and files still open on it get ENODEV.\n"
	"Prints nothing on success.\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n"
	"\n"
	"Needs CAP_NET_ADMIN.\n",
};

static int run_reattach(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct link_request req = { .cmd = EIA_CMD_RECONFIGURE };
	const char *server = NULL;
	struct eia_endpoint ep;
	struct eia_nl nl;
	char what[32];
	int c, ret;

	while ((c = cli_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_SERVER:
			server = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_u32(cmd, "--timeout-ms", optarg, EIA_TIMEOUT_MS_MIN,
					  EIA_TIMEOUT_MS_MAX, &req.timeout_ms))
				return EIA_EXIT_USAGE;
			break;
		case 'h':
			return cli_help(cmd);
		default:
			return EIA_EXIT_USAGE;
		}
	}
	if (take_device(cmd, argc, argv, &req.index))
		return EIA_EXIT_USAGE;
	if (!server)
		return cli_usage_err(cmd, "--server is required");
	if (parse_server(cmd, server, &ep))
		return EIA_EXIT_USAGE;

	if (eia_nl_open(&nl))
		return EIA_EXIT_FAIL;
	snprintf(what, sizeof(what), "reattach eia%u", req.index);
	ret = send_link_request(&nl, &ep, &req, NULL, what, "reattaching");
	eia_nl_close(&nl);
	return ret;
}

const struct cli_cmd cmd_reattach = {
	.name = "reattach",
	.run = run_reattach,
	.summary = "give an accelerator a new connection to gpud",
	.usage =
	"Usage: eia reattach DEVICE --server HOST[:PORT] [--timeout-ms N]\n"
	"\n"
	"Connect to gpud again and hand the new connection to DEVICE (eiaN,\n"
	"/dev/eiaN or N), after a network fault or a gpud restart. gpud grants the\n"
	"device's accelerator id again when it can, and the device becomes healthy.\n"
	"Prints nothing on success.\n"
	"\n"
	"Options:\n"
	"  --server HOST[:PORT]  the gpud to use (port 8443 unless given)\n"
	"  --timeout-ms N        new per-request timeout in ms, 100..600000\n"
	"  -h, --help            show this help\n"
	"\n"
	"Needs CAP_NET_ADMIN.\n",
};
