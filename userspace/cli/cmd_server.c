// SPDX-License-Identifier: MIT
/*
 * eia server-status: ask a gpud directly, over the wire protocol, what it
 * serves. Needs neither the module nor a HELLO.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "connect.h"
#include "json.h"
#include "wire.h"

enum { OPT_SERVER = 1, OPT_JSON };

/* How long gpud has to answer. */
#define REPLY_TIMEOUT_S		10
/* Any tag will do: one request per connection. */
#define STATUS_TAG		1
/* The largest valid answer: the fixed part and every type. */
#define STATUS_MAX_PAYLOAD	(sizeof(struct eia_wire_server_status) + \
				 EIA_WIRE_MAX_TYPES * sizeof(struct eia_wire_type_status))

struct type_status {
	char type[EIA_TYPE_NAME_MAX];
	uint64_t memory_bytes;
	uint32_t fp32_mtflops;
	uint32_t fp16_mtflops;
	uint32_t in_use;
	uint32_t available;
};

/* struct eia_wire_server_status, checked and in CPU byte order. */
struct server_status {
	uint32_t sessions;
	uint32_t connections;
	char backend[sizeof(((struct eia_wire_server_status *)0)->backend)];
	uint32_t ntypes;
	struct type_status types[EIA_WIRE_MAX_TYPES];
};

/*
 * A NUL-terminated field of printable ASCII: what lands on the terminal
 * must not carry escape sequences from the network.
 */
static bool printable_str(const char *field, size_t size)
{
	size_t i;

	for (i = 0; i < size && field[i]; i++)
		if (field[i] < 0x20 || field[i] > 0x7e)
			return false;
	return i < size;
}

/* Returns 0, or -EPROTO with *@why saying what is wrong. */
static int decode_status(const unsigned char *p, uint32_t len, struct server_status *st,
			 const char **why)
{
	struct eia_wire_server_status fixed;
	uint32_t i;

	if (len < sizeof(fixed)) {
		*why = "the answer is shorter than a server status";
		return -EPROTO;
	}
	memcpy(&fixed, p, sizeof(fixed));
	st->sessions = le32toh(fixed.sessions);
	st->connections = le32toh(fixed.connections);
	st->ntypes = le32toh(fixed.ntypes);
	if (st->ntypes > EIA_WIRE_MAX_TYPES) {
		*why = "it lists more types than the protocol allows";
		return -EPROTO;
	}
	if (len != sizeof(fixed) + st->ntypes * sizeof(struct eia_wire_type_status)) {
		*why = "its length does not match its number of types";
		return -EPROTO;
	}
	if (!printable_str(fixed.backend, sizeof(fixed.backend))) {
		*why = "the backend name is not a terminated printable string";
		return -EPROTO;
	}
	memcpy(st->backend, fixed.backend, sizeof(st->backend));
	p += sizeof(fixed);
	for (i = 0; i < st->ntypes; i++, p += sizeof(struct eia_wire_type_status)) {
		struct eia_wire_type_status w;
		struct type_status *t = &st->types[i];

		memcpy(&w, p, sizeof(w));
		if (!printable_str(w.type, sizeof(w.type)) || !w.type[0]) {
			*why = "a type name is empty, unterminated or not printable";
			return -EPROTO;
		}
		memcpy(t->type, w.type, sizeof(t->type));
		t->memory_bytes = le64toh(w.memory_bytes);
		t->fp32_mtflops = le32toh(w.fp32_mtflops);
		t->fp16_mtflops = le32toh(w.fp16_mtflops);
		t->in_use = le32toh(w.in_use);
		t->available = le32toh(w.available);
	}
	return 0;
}

/* Explains a failed receive. */
static void report_recv_error(const struct eia_endpoint *ep, int err,
			      const struct eia_msg_hdr *hdr)
{
	switch (err) {
	case -EPROTONOSUPPORT:
		cli_err("%s speaks wire protocol version %u; this eia speaks %u", ep->name,
			hdr->version, EIA_WIRE_VERSION);
		break;
	case -EBADMSG:
		cli_err("%s sent a malformed header (is it a gpud?)", ep->name);
		break;
	case -EMSGSIZE:
		cli_err("%s sent a server status of %" PRIu32 " bytes (at most %zu expected)",
			ep->name, hdr->payload_len, STATUS_MAX_PAYLOAD);
		break;
	case -ECONNRESET:
		cli_err("%s closed the connection without answering", ep->name);
		break;
	case -EAGAIN:
		cli_err("%s did not answer within %d s", ep->name, REPLY_TIMEOUT_S);
		break;
	default:
		cli_err("reading from %s: %s", ep->name, strerror(-err));
	}
}

/* A refusal's payload is empty or a NUL-terminated message. */
static void report_refusal(const struct eia_endpoint *ep, const struct eia_msg_hdr *hdr,
			   const char *payload)
{
	if (hdr->payload_len && printable_str(payload, hdr->payload_len))
		cli_err("%s refused server-status: %s (%s)", ep->name, payload,
			strerror((int)hdr->status));
	else
		cli_err("%s refused server-status: %s", ep->name, strerror((int)hdr->status));
}

/* Asks for the status on @fd. Returns 0, or -1 after reporting why not. */
static int query(int fd, const struct eia_endpoint *ep, struct server_status *st)
{
	/* Aligned for the wire structs, though they are copied out anyway. */
	union {
		struct eia_wire_server_status status;
		unsigned char bytes[STATUS_MAX_PAYLOAD];
	} buf;
	const struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	struct eia_msg_hdr hdr = { 0 };
	const char *why;
	int ret;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		cli_err("setting socket timeouts: %s", strerror(errno));
		return -1;
	}
	ret = eia_wire_send(fd, EIA_MSG_SERVER_STATUS, 0, 0, STATUS_TAG, NULL, 0);
	if (ret) {
		cli_err("sending to %s: %s", ep->name, strerror(-ret));
		return -1;
	}
	ret = eia_wire_recv(fd, &hdr, buf.bytes, sizeof(buf.bytes));
	if (ret) {
		report_recv_error(ep, ret == -EWOULDBLOCK ? -EAGAIN : ret, &hdr);
		return -1;
	}
	if (hdr.opcode != EIA_MSG_SERVER_STATUS || !(hdr.flags & EIA_WIRE_F_RESPONSE) ||
	    hdr.tag != STATUS_TAG) {
		cli_err("%s answered something else (opcode %u, tag %" PRIu64 ")", ep->name,
			hdr.opcode, hdr.tag);
		return -1;
	}
	if (hdr.status) {
		report_refusal(ep, &hdr, (const char *)buf.bytes);
		return -1;
	}
	if (decode_status(buf.bytes, hdr.payload_len, st, &why)) {
		cli_err("malformed server status from %s: %s", ep->name, why);
		return -1;
	}
	return 0;
}

static int num_width(int w, const char *s)
{
	int len = (int)strlen(s);

	return len > w ? len : w;
}

static void print_text(const struct eia_endpoint *ep, const struct server_status *st)
{
	const char *h_type = "TYPE", *h_mem = "MEMORY GiB", *h_fp32 = "FP32 TFLOPS";
	const char *h_fp16 = "FP16 TFLOPS", *h_use = "IN USE";
	int wtype = (int)strlen(h_type), wmem = (int)strlen(h_mem);
	int wfp32 = (int)strlen(h_fp32), wfp16 = (int)strlen(h_fp16), wuse = (int)strlen(h_use);
	char mem[CLI_NUM_MAX], fp32[CLI_NUM_MAX], fp16[CLI_NUM_MAX];
	uint32_t i;

	printf("server       %s\n", ep->name);
	printf("backend      %s\n", st->backend);
	printf("sessions     %" PRIu32 "\n", st->sessions);
	printf("connections  %" PRIu32 "\n", st->connections);
	printf("\n");
	for (i = 0; i < st->ntypes; i++)
		wtype = num_width(wtype, st->types[i].type);
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", wtype, h_type, wmem, h_mem, wfp32, h_fp32,
	       wfp16, h_fp16, wuse, h_use, "AVAILABLE");
	for (i = 0; i < st->ntypes; i++) {
		const struct type_status *t = &st->types[i];

		printf("%-*s  %-*s  %-*s  %-*s  %-*" PRIu32 "  %" PRIu32 "\n", wtype, t->type,
		       wmem, cli_fmt_gib(mem, t->memory_bytes),
		       wfp32, cli_fmt_milli(fp32, t->fp32_mtflops),
		       wfp16, cli_fmt_milli(fp16, t->fp16_mtflops),
		       wuse, t->in_use, t->available);
	}
}

static void print_json(const struct eia_endpoint *ep, const struct server_status *st)
{
	struct json_writer w;
	uint32_t i;

	json_init(&w, stdout);
	json_object_begin(&w);
	json_kv_string(&w, "server", ep->name);
	json_kv_string(&w, "backend", st->backend);
	json_kv_uint(&w, "sessions", st->sessions);
	json_kv_uint(&w, "connections", st->connections);
	json_key(&w, "types");
	json_array_begin(&w);
	for (i = 0; i < st->ntypes; i++) {
		const struct type_status *t = &st->types[i];

		json_object_begin(&w);
		json_kv_string(&w, "type", t->type);
		json_kv_uint(&w, "memory_bytes", t->memory_bytes);
		json_kv_milli(&w, "fp32_tflops", t->fp32_mtflops);
		json_kv_milli(&w, "fp16_tflops", t->fp16_mtflops);
		json_kv_uint(&w, "in_use", t->in_use);
		json_kv_uint(&w, "available", t->available);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
	putchar('\n');
}

static int run_server_status(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct server_status st;
	const char *server = NULL, *why;
	struct eia_endpoint ep;
	bool json = false;
	int c, fd, ret;

	while ((c = cli_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case OPT_SERVER:
			server = optarg;
			break;
		case OPT_JSON:
			json = true;
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
	if (eia_endpoint_parse(server, &ep, &why))
		return cli_usage_err(cmd, "--server '%s': %s", server, why);

	fd = eia_connect(&ep);
	if (fd < 0)
		return EIA_EXIT_FAIL;
	ret = query(fd, &ep, &st);
	close(fd);
	if (ret)
		return EIA_EXIT_FAIL;
	if (json)
		print_json(&ep, &st);
	else
		print_text(&ep, &st);
	return EIA_EXIT_OK;
}

const struct cli_cmd cmd_server_status = {
	.name = "server-status",
	.run = run_server_status,
	.summary = "ask a gpud what it serves (no module needed)",
	.usage =
	"Usage: eia server-status --server HOST[:PORT] [--json]\n"
	"\n"
	"Ask gpud on HOST (port 8443 unless given) for its sessions, connections,\n"
	"backend, and for each accelerator type it offers: memory, FP32 and FP16\n"
	"TFLOPS, how many are in use and how many more it could grant. Speaks the\n"
	"wire protocol directly: the eia module is not needed.\n"
	"\n"
	"Options:\n"
	"  --server HOST[:PORT]  the gpud to ask\n"
	"  --json                print {\"server\": ..., \"backend\": ..., \"sessions\": N,\n"
	"                        \"connections\": N, \"types\": [{\"type\": ...,\n"
	"                        \"memory_bytes\": N, \"fp32_tflops\": N, \"fp16_tflops\": N,\n"
	"                        \"in_use\": N, \"available\": N}]}\n"
	"  -h, --help            show this help\n",
};
