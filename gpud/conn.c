// SPDX-License-Identifier: MIT
#include "conn.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "server.h"
#include "wire.h"

/* Every request payload gpud reads; a larger one is read and dropped. */
union request {
	struct eia_wire_hello_req hello;
	struct eia_wire_ping ping;
};

/* Returns 0, or -1 when the connection is lost. */
static int reply(struct gpud_conn *c, const struct eia_msg_hdr *req,
		 const void *payload, uint32_t len)
{
	int ret = eia_wire_send(c->fd, req->opcode, EIA_WIRE_F_RESPONSE, 0,
				req->tag, payload, len);

	if (ret)
		gpud_debug("peer=%s: send failed: %s", c->peer, strerrordesc_np(-ret));
	return ret ? -1 : 0;
}

/* A failed response: @err (positive errno) and a NUL-terminated message. */
static int __attribute__((format(printf, 4, 5)))
reply_err(struct gpud_conn *c, const struct eia_msg_hdr *req, int err,
	  const char *fmt, ...)
{
	char msg[EIA_WIRE_ERRMSG_MAX];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gpud_debug("peer=%s op=%u tag=%llu: %s: %s", c->peer, req->opcode,
		   (unsigned long long)req->tag, strerrorname_np(err), msg);
	ret = eia_wire_send(c->fd, req->opcode, EIA_WIRE_F_RESPONSE, (uint32_t)err,
			    req->tag, msg, (uint32_t)strlen(msg) + 1);
	return ret ? -1 : 0;
}

static int handle_hello(struct gpud_conn *c, const struct eia_msg_hdr *h,
			const struct eia_wire_hello_req *req)
{
	struct eia_wire_hello_resp resp;
	char msg[EIA_WIRE_ERRMSG_MAX];
	const struct gpud_type *t;
	int ret;

	if (c->attached)
		return reply_err(c, h, EALREADY, "already attached as %s", c->grant.id);
	if (h->payload_len != sizeof(*req))
		return reply_err(c, h, EINVAL, "HELLO payload is %u bytes, expected %zu",
				 h->payload_len, sizeof(*req));
	if (!eia_wire_str_ok(req->type, sizeof(req->type)) ||
	    !eia_wire_str_ok(req->resume_id, sizeof(req->resume_id)))
		return reply_err(c, h, EINVAL, "HELLO type and resume_id must hold a NUL");
	if (req->flags || req->reserved)
		return reply_err(c, h, EINVAL, "HELLO flags and reserved must be zero");
	if (req->resume_id[0] && !gpud_accel_id_ok(req->resume_id))
		return reply_err(c, h, EINVAL,
				 "malformed resume_id (expected eia- and 32 lowercase hex digits)");

	ret = gpud_registry_grant(c->reg, req->type, req->resume_id, &c->grant,
				  msg, sizeof(msg));
	if (ret)
		return reply_err(c, h, -ret, "%s", msg);
	c->attached = true;
	t = c->grant.type;
	gpud_info("attach id=%s type=%s peer=%s", c->grant.id, t->name, c->peer);
	if (req->resume_id[0])
		gpud_debug("peer=%s asked to resume %s: %s", c->peer, req->resume_id,
			   strcmp(req->resume_id, c->grant.id) ? "in use, new id" : "resumed");

	memset(&resp, 0, sizeof(resp));
	memcpy(resp.accel_id, c->grant.id, sizeof(resp.accel_id));
	memcpy(resp.type, t->name, sizeof(resp.type));
	resp.memory_bytes = htole64(t->memory_bytes);
	resp.fp32_mtflops = htole32(t->fp32_mtflops);
	resp.fp16_mtflops = htole32(t->fp16_mtflops);
	resp.max_payload = htole32(GPUD_MAX_PAYLOAD);
	return reply(c, h, &resp, sizeof(resp));
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleeps @ms; true when gpud started shutting down meanwhile. */
static bool stopped_while_waiting(struct gpud_conn *c, unsigned int ms)
{
	struct pollfd pfd = { .fd = c->stop_fd, .events = POLLIN };
	long long end = mono_ns() + ms * 1000000LL, left;
	int n;

	for (;;) {
		left = end - mono_ns();
		if (left <= 0)
			return false;
		/* Rounded up: never answer before the full delay. */
		n = poll(&pfd, 1, (int)((left + 999999) / 1000000));
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return true;
	}
}

static int handle_ping(struct gpud_conn *c, const struct eia_msg_hdr *h,
		       const struct eia_wire_ping *req)
{
	struct eia_wire_ping resp;
	unsigned int delay;

	if (!c->attached)
		return reply_err(c, h, EPERM, "PING before HELLO");
	if (h->payload_len != sizeof(*req))
		return reply_err(c, h, EINVAL, "PING payload is %u bytes, expected %zu",
				 h->payload_len, sizeof(*req));
	if (req->reserved)
		return reply_err(c, h, EINVAL, "PING reserved must be zero");
	delay = le32toh(req->delay_ms);
	if (delay > EIA_WIRE_PING_MAX_DELAY_MS)
		return reply_err(c, h, EINVAL, "PING delay_ms %u exceeds %u", delay,
				 EIA_WIRE_PING_MAX_DELAY_MS);
	if (delay && stopped_while_waiting(c, delay))
		return -1;
	memset(&resp, 0, sizeof(resp));
	resp.cookie = req->cookie;
	return reply(c, h, &resp, sizeof(resp));
}

static int handle_status(struct gpud_conn *c, const struct eia_msg_hdr *h)
{
	size_t size = gpud_registry_status_size(c->reg);
	void *buf;
	int ret;

	if (h->payload_len)
		return reply_err(c, h, EINVAL, "SERVER_STATUS takes no payload");
	buf = malloc(size);
	if (!buf)
		return reply_err(c, h, ENOMEM, "out of memory");
	gpud_registry_status(c->reg, gpud_server_connections(c->srv), buf);
	ret = reply(c, h, buf, (uint32_t)size);
	free(buf);
	return ret;
}

/* Answers one well-framed request. Returns 0, or -1 to close the connection. */
static int handle(struct gpud_conn *c, const struct eia_msg_hdr *h,
		  const union request *req)
{
	if (h->flags & EIA_WIRE_F_RESPONSE)
		return reply_err(c, h, EINVAL, "a request must not carry the RESPONSE flag");
	if (h->status)
		return reply_err(c, h, EINVAL, "a request must carry status 0");
	switch (h->opcode) {
	case EIA_MSG_HELLO:
		return handle_hello(c, h, &req->hello);
	case EIA_MSG_PING:
		return handle_ping(c, h, &req->ping);
	case EIA_MSG_SERVER_STATUS:
		return handle_status(c, h);
	}
	return reply_err(c, h, EOPNOTSUPP, "unknown opcode %u", h->opcode);
}

/* A header that failed eia_wire_check_hdr(), or a read that failed. */
static void fatal_error(struct gpud_conn *c, const struct eia_msg_hdr *h, int err)
{
	switch (err) {
	case -EBADMSG:
		reply_err(c, h, EBADMSG,
			  "malformed header (magic %#x, flags %#x, reserved %#x)",
			  h->magic, h->flags, h->reserved);
		break;
	case -EPROTONOSUPPORT:
		reply_err(c, h, EPROTONOSUPPORT,
			  "protocol version %u not supported (gpud speaks version %u)",
			  h->version, EIA_WIRE_VERSION);
		break;
	case -EMSGSIZE:
		reply_err(c, h, EMSGSIZE, "payload of %u bytes exceeds the limit of %u",
			  h->payload_len, GPUD_MAX_PAYLOAD);
		break;
	default:
		gpud_debug("peer=%s: connection closed: %s", c->peer,
			   err == -ECONNRESET ? "end of stream" : strerrordesc_np(-err));
	}
}

void gpud_conn_serve(struct gpud_conn *c)
{
	struct eia_msg_hdr h;
	union request req;
	int ret;

	for (;;) {
		ret = eia_wire_recv(c->fd, &h, &req, sizeof(req));
		/* Larger than any request but within bounds: dropped, still in step. */
		if (ret == -EMSGSIZE && h.payload_len <= GPUD_MAX_PAYLOAD)
			ret = 0;
		if (ret) {
			fatal_error(c, &h, ret);
			break;
		}
		gpud_debug("peer=%s op=%u tag=%llu len=%u", c->peer, h.opcode,
			   (unsigned long long)h.tag, h.payload_len);
		if (handle(c, &h, &req))
			break;
	}
	if (c->attached) {
		gpud_registry_release(c->reg, &c->grant);
		gpud_info("detach id=%s type=%s peer=%s", c->grant.id,
			  c->grant.type->name, c->peer);
		c->attached = false;
	}
}
