// SPDX-License-Identifier: MIT
#include "conn.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "devmem_race.h"
#include "exec.h"
#include "log.h"
#include "tenant.h"
#include "server.h"
#include "wire.h"

/* Every request payload the reader keeps in place; SUBMIT's is allocated. */
union request {
	struct eia_wire_hello_req hello;
	struct eia_wire_ping ping;
	struct eia_wire_ctx ctx;
};

/* The start of a SUBMIT of one COPY_H2D, read before its data (read_submit()). */
struct h2d_head {
	struct eia_wire_submit sub;
	struct eia_cb_copy copy;
};

/*
 * The connection's I/O. The reader reads through a buffer, so that pipelined
 * requests cost one read() for many; while more input is buffered, the
 * reader's own responses collect in @out and go out in one write before the
 * reader would next block (to read, to wait for room, in a PING delay), so
 * batching never delays a response behind a wait. The executor writes its
 * responses at once. Both write whole messages under @write_lock.
 *
 * Responses of both threads can leave in another order than they were made,
 * so the memory_used they report is read under @write_lock as each goes out:
 * the last one a client reads always carries the latest figure.
 */

/* Byte offset of memory_used in a SUBMIT or CTX_DESTROY response. */
#define SUBMIT_MEM_OFF	(sizeof(struct eia_wire_hdr) + \
			 offsetof(struct eia_wire_submit_resp, memory_used))
#define DESTROY_MEM_OFF	(sizeof(struct eia_wire_hdr) + \
			 offsetof(struct eia_wire_mem_status, memory_used))

/* Store @le at byte @off of the message spread over @iov. */
static void iov_patch_u64(struct iovec *iov, unsigned int n, size_t off, uint64_t le)
{
	const unsigned char *src = (const unsigned char *)&le;
	size_t left = sizeof(le);

	for (; n && left; iov++, n--) {
		size_t take;

		if (off >= iov->iov_len) {
			off -= iov->iov_len;
			continue;
		}
		take = iov->iov_len - off < left ? iov->iov_len - off : left;
		memcpy((unsigned char *)iov->iov_base + off, src, take);
		src += take;
		left -= take;
		off = 0;
	}
}

/* Writes all of @iov (any count); returns 0 or a negative errno. */
static int writev_full(int fd, struct iovec *iov, unsigned int n)
{
	while (n) {
		struct msghdr msg = {
			.msg_iov = iov,
			.msg_iovlen = n < IOV_MAX ? n : IOV_MAX,
		};
		ssize_t sent;

		/* A response's D2H data may be sent straight from device memory. */
		gpud_devmem_begin();
		sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
		gpud_devmem_end();
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n && (size_t)sent >= iov->iov_len) {
			sent -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + sent;
			iov->iov_len -= (size_t)sent;
		}
	}
	return 0;
}

/*
 * Write what the reader held back (@held: only the reader passes it), then
 * @iov (n may be 0), whose memory_used is at @mem_off (0: none). Returns 0
 * or -1.
 */
static int send_locked(struct gpud_conn *c, bool held, struct iovec *iov,
		       unsigned int n, size_t mem_off)
{
	struct iovec h = { .iov_base = c->out, .iov_len = held ? c->out_len : 0 };
	uint64_t used;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&c->write_lock);
	used = htole64(atomic_load(&c->acct.used));
	if (h.iov_len) {
		for (i = 0; i < c->held_mem_n; i++)
			memcpy(c->out + c->held_mem[i], &used, sizeof(used));
		ret = writev_full(c->fd, &h, 1);
	}
	if (!ret && n) {
		if (mem_off)
			iov_patch_u64(iov, n, mem_off, used);
		ret = writev_full(c->fd, iov, n);
	}
	pthread_mutex_unlock(&c->write_lock);
	if (held) {
		c->out_len = 0;
		c->held_mem_n = 0;
	}
	if (ret)
		gpud_debug("peer=%s: send failed: %s", c->peer, strerrordesc_np(-ret));
	return ret ? -1 : 0;
}

static int flush_out(struct gpud_conn *c)
{
	return c->out_len ? send_locked(c, true, NULL, 0, 0) : 0;
}

/*
 * Send one whole message, @iov[0] starting with its packed header: from the
 * reader (@reader) held back while more input waits and it fits, else now.
 * Returns 0, or -1: connection lost.
 */
static int emit(struct gpud_conn *c, bool reader, struct iovec *iov, unsigned int n,
		size_t mem_off)
{
	size_t total = 0;
	unsigned int i;

	if (!reader)
		return send_locked(c, false, iov, n, mem_off);
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (c->in_end == c->in_start || total > GPUD_CONN_OUT - c->out_len ||
	    (mem_off && c->held_mem_n == GPUD_CONN_HELD_MEM))
		return send_locked(c, true, iov, n, mem_off);
	if (mem_off)
		c->held_mem[c->held_mem_n++] = (uint32_t)(c->out_len + mem_off);
	for (i = 0; i < n; i++) {
		memcpy(c->out + c->out_len, iov[i].iov_base, iov[i].iov_len);
		c->out_len += iov[i].iov_len;
	}
	return 0;
}

/* Read more input: at least one byte. Returns 0 or a negative errno. */
static int in_fill(struct gpud_conn *c)
{
	ssize_t n;

	if (flush_out(c))
		return -EPIPE;
	if (c->in_start == c->in_end) {
		c->in_start = c->in_end = 0;
	} else if (c->in_end == GPUD_CONN_IN) {
		memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
		c->in_end -= c->in_start;
		c->in_start = 0;
	}
	do
		n = read(c->fd, c->in + c->in_end, GPUD_CONN_IN - c->in_end);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -errno;
	c->in_end += (size_t)n;
	return 0;
}

/* The next @len bytes of input into @dst, or dropped when @dst is NULL. */
static int in_take(struct gpud_conn *c, void *dst, size_t len)
{
	unsigned char *p = dst;
	size_t n;
	int ret;

	while (len) {
		n = c->in_end - c->in_start;
		if (!n && p && len >= GPUD_CONN_IN) {
			/* Bulk data goes straight where it belongs. */
			if (flush_out(c))
				return -EPIPE;
			return eia_read_full(c->fd, p, len);
		}
		if (!n) {
			ret = in_fill(c);
			if (ret)
				return ret;
			continue;
		}
		if (n > len)
			n = len;
		if (p) {
			memcpy(p, c->in + c->in_start, n);
			p += n;
		}
		c->in_start += n;
		len -= n;
	}
	return 0;
}

static int send_msg_mem(struct gpud_conn *c, bool reader, uint16_t opcode,
			uint32_t status, uint64_t tag, const void *payload,
			uint32_t len, size_t mem_off)
{
	struct eia_wire_hdr hdr;
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};

	eia_wire_hdr_pack(&hdr, opcode, EIA_WIRE_F_RESPONSE, status, tag, len);
	return emit(c, reader, iov, len ? 2 : 1, mem_off);
}

static int send_msg(struct gpud_conn *c, bool reader, uint16_t opcode,
		    uint32_t status, uint64_t tag, const void *payload, uint32_t len)
{
	return send_msg_mem(c, reader, opcode, status, tag, payload, len, 0);
}

static int reply(struct gpud_conn *c, const struct eia_msg_hdr *req,
		 const void *payload, uint32_t len)
{
	return send_msg(c, true, req->opcode, 0, req->tag, payload, len);
}

/* A failed response: @err (positive errno) and a NUL-terminated message. */
static int __attribute__((format(printf, 6, 7)))
send_err(struct gpud_conn *c, bool reader, uint16_t opcode, uint64_t tag, int err,
	 const char *fmt, ...)
{
	char msg[EIA_WIRE_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gpud_debug("peer=%s op=%u tag=%llu: %s: %s", c->peer, opcode,
		   (unsigned long long)tag, strerrorname_np(err), msg);
	return send_msg(c, reader, opcode, (uint32_t)err, tag, msg,
			(uint32_t)strlen(msg) + 1);
}

/* The reader's failed response to @req. */
#define reply_err(c, req, err, ...) \
	send_err((c), true, (req)->opcode, (req)->tag, (err), __VA_ARGS__)

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
	/* An isolated tenant's worker joins the arbiter itself (tenant.h). */
	if (!c->isolate &&
	    gpud_sched_join(&c->sched, c->eng->fair, c->grant.type->fp32_mtflops)) {
		gpud_registry_release(c->reg, &c->grant);
		return reply_err(c, h, ENOSPC, "no room left in the backend's scheduler");
	}
	c->attached = true;
	t = c->grant.type;
	c->acct.limit = t->memory_bytes;
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
	ret = reply(c, h, &resp, sizeof(resp));
	if (ret || !c->isolate)
		return ret;
	/* The worker answers everything from here: nothing may stay held back. */
	if (!flush_out(c))
		gpud_tenant_run(c, c->in + c->in_start, c->in_end - c->in_start);
	return -1;
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

	if (h->payload_len != sizeof(*req))
		return reply_err(c, h, EINVAL, "PING payload is %u bytes, expected %zu",
				 h->payload_len, sizeof(*req));
	if (req->reserved)
		return reply_err(c, h, EINVAL, "PING reserved must be zero");
	delay = le32toh(req->delay_ms);
	if (delay > EIA_WIRE_PING_MAX_DELAY_MS)
		return reply_err(c, h, EINVAL, "PING delay_ms %u exceeds %u", delay,
				 EIA_WIRE_PING_MAX_DELAY_MS);
	if (delay && (flush_out(c) || stopped_while_waiting(c, delay)))
		return -1;
	memset(&resp, 0, sizeof(resp));
	resp.cookie = req->cookie;
	return reply(c, h, &resp, sizeof(resp));
}

static int handle_status(struct gpud_conn *c, const struct eia_msg_hdr *h)
{
	size_t size = c->reg ? gpud_registry_status_size(c->reg) : 0;
	void *buf;
	int ret;

	if (h->payload_len)
		return reply_err(c, h, EINVAL, "SERVER_STATUS takes no payload");
	if (!c->reg)
		return reply_err(c, h, EOPNOTSUPP,
				 "SERVER_STATUS is answered on a connection of its own, not a tenant's");
	buf = malloc(size);
	if (!buf)
		return reply_err(c, h, ENOMEM, "out of memory");
	gpud_registry_status(c->reg, gpud_server_connections(c->srv), buf);
	ret = reply(c, h, buf, (uint32_t)size);
	free(buf);
	return ret;
}

static int handle_ctx_create(struct gpud_conn *c, const struct eia_msg_hdr *h)
{
	struct eia_wire_ctx resp;
	struct gpud_ctx *ctx;
	int ret;

	if (h->payload_len)
		return reply_err(c, h, EINVAL, "CTX_CREATE takes no payload");
	ret = gpud_sched_start(&c->sched, c->exec_attr);
	if (ret)
		return reply_err(c, h, -ret, "cannot start the executor thread: %s",
				 strerror(-ret));
	ret = gpud_ctx_table_create(&c->ctxs, &ctx);
	if (ret == -EMFILE)
		return reply_err(c, h, EMFILE, "at most %u contexts per connection",
				 EIA_WIRE_MAX_CTXS);
	if (ret)
		return reply_err(c, h, -ret, "cannot create a context: %s", strerror(-ret));
	gpud_debug("peer=%s: context %llu created", c->peer, (unsigned long long)ctx->id);
	resp.ctx = htole64(ctx->id);
	return reply(c, h, &resp, sizeof(resp));
}

static int send_mem_status(struct gpud_conn *c, bool reader, uint64_t tag)
{
	struct eia_wire_mem_status st = { 0 };	/* memory_used: filled in at send */

	return send_msg_mem(c, reader, EIA_MSG_CTX_DESTROY, 0, tag, &st, sizeof(st),
			    DESTROY_MEM_OFF);
}

/*
 * Not calloc(): glibc's never takes from the per-thread cache that malloc()
 * and free() share, so with a calloc() and free() for every request the
 * cache fills and each free() goes to the arena (twice the instructions of
 * a whole light SUBMIT). GCC turns malloc() and memset() into calloc(); a
 * zeroed struct it leaves alone.
 */
static struct gpud_job *new_job(void)
{
	struct gpud_job *job = malloc(sizeof(*job));

	if (job)
		*job = (struct gpud_job){ 0 };
	return job;
}

static void destroy_ctx(struct gpud_conn *c, struct gpud_ctx *ctx)
{
	gpud_debug("peer=%s: context %llu destroyed (%u allocations, %llu bytes)", c->peer,
		   (unsigned long long)ctx->id, ctx->live, (unsigned long long)ctx->bytes);
	gpud_ctx_free(c->eng, ctx, &c->acct);
}

static int handle_ctx_destroy(struct gpud_conn *c, const struct eia_msg_hdr *h,
			      const struct eia_wire_ctx *req)
{
	struct gpud_ctx *ctx;
	struct gpud_job *job;
	uint64_t id;

	if (h->payload_len != sizeof(*req))
		return reply_err(c, h, EINVAL, "CTX_DESTROY payload is %u bytes, expected %zu",
				 h->payload_len, sizeof(*req));
	id = le64toh(req->ctx);
	ctx = gpud_ctx_table_find(&c->ctxs, id);
	if (!ctx)
		return reply_err(c, h, ENOENT, "no context %llu on this connection",
				 (unsigned long long)id);
	/* Nothing earlier to wait for: no need for the executor. */
	if (gpud_sched_idle(&c->sched)) {
		gpud_ctx_table_remove(&c->ctxs, ctx);
		destroy_ctx(c, ctx);
		return send_mem_status(c, true, h->tag);
	}
	/* Answered after what the reader holds back, which came before it. */
	if (flush_out(c))
		return -1;
	job = new_job();
	if (!job)
		return reply_err(c, h, ENOMEM, "out of memory");
	/* Gone for later requests at once; freed when its turn comes. */
	gpud_ctx_table_remove(&c->ctxs, ctx);
	job->kind = GPUD_JOB_DESTROY;
	job->ctx = ctx;
	job->tag = h->tag;
	job->cost = sizeof(*job) + sizeof(struct eia_wire_mem_status);
	gpud_sched_queue(&c->sched, job);
	return 0;
}

/* Runs a SUBMIT and sends its response. Returns 0, or -1: connection lost. */
static int run_submit(struct gpud_conn *c, bool reader, struct gpud_job *job)
{
	struct gpud_resp r;
	int ret;

	if (gpud_resp_init(&r, &job->cb, c->eng->be->host_visible))
		return send_err(c, reader, EIA_MSG_SUBMIT, job->tag, ENOMEM,
				"out of memory for the response; nothing was run");
	/*
	 * The reader runs only light buffers and received lone H2Ds: too short
	 * to be worth a wait for the backend, which would stall the reader.
	 */
	if (!reader)
		gpud_sched_backend_get(&c->sched);
	gpud_exec(c->eng, job->ctx, job->queue, &c->acct, &job->cb, &r);
	if (!reader)
		gpud_sched_backend_put(&c->sched);
	eia_wire_hdr_pack((struct eia_wire_hdr *)r.head, EIA_MSG_SUBMIT,
			  EIA_WIRE_F_RESPONSE, 0, job->tag, r.payload_len);
	ret = emit(c, reader, r.iov, r.niov, SUBMIT_MEM_OFF);
	gpud_resp_free(&r);
	/* Every later command would fail the same way: end the connection. */
	if (r.device_lost && !atomic_exchange(&c->device_lost, true)) {
		gpud_err("id=%s peer=%s: a fault on the device lost its context; closing the connection",
			 c->grant.id, c->peer);
		shutdown(c->fd, SHUT_RD);
	}
	return ret;
}

/* The executor's gpud_job_fn. */
static int run_job(void *arg, struct gpud_job *job, bool discard)
{
	struct gpud_conn *c = arg;
	int ret = 0;

	if (job->kind == GPUD_JOB_DESTROY) {
		destroy_ctx(c, job->ctx);
		if (!discard)
			ret = send_mem_status(c, false, job->tag);
	} else if (!discard) {
		ret = run_submit(c, false, job);
	}
	/* Unusable for writing: make the reader see it too. */
	if (ret)
		shutdown(c->fd, SHUT_RDWR);
	return ret;
}

/*
 * Hand a SUBMIT to the executor. What the reader holds back goes out first:
 * the job's response must not overtake the responses to earlier requests.
 */
static int queue_submit(struct gpud_conn *c, struct gpud_job *job)
{
	if (flush_out(c)) {
		gpud_job_free(job);
		return -1;
	}
	gpud_sched_queue(&c->sched, job);
	return 0;
}

/*
 * Takes @payload (the request after the header; NULL if it was not kept).
 * @placed: the payload is a lone COPY_H2D whose data read_submit() received
 * into its destination.
 */
static int handle_submit(struct gpud_conn *c, const struct eia_msg_hdr *h, void *payload,
			 bool placed)
{
	const struct eia_wire_submit *sub = payload;
	char msg[EIA_WIRE_ERRMSG_MAX];
	struct gpud_job *job;
	struct gpud_ctx *ctx;
	uint32_t ncmds;
	int ret;

	job = new_job();
	if (!job) {
		free(payload);
		return reply_err(c, h, ENOMEM, "out of memory");
	}
	job->payload = payload;
	if (h->payload_len < sizeof(*sub)) {
		ret = reply_err(c, h, EINVAL, "SUBMIT payload is %u bytes, at least %zu",
				h->payload_len, sizeof(*sub));
		goto out;
	}
	if (!payload) {
		ret = reply_err(c, h, ENOMEM, "out of memory for a %u-byte SUBMIT",
				h->payload_len);
		goto out;
	}
	ncmds = le32toh(sub->ncmds);
	if (sub->flags) {
		ret = reply_err(c, h, EINVAL, "SUBMIT flags must be 0");
		goto out;
	}
	job->queue = le16toh(sub->queue);
	if (job->queue >= EIA_CB_QUEUES) {
		ret = reply_err(c, h, EINVAL, "queue %u is not in 0..%u", job->queue,
				EIA_CB_QUEUES - 1);
		goto out;
	}
	if (!ncmds || ncmds > EIA_CB_MAX_CMDS) {
		ret = reply_err(c, h, EINVAL, "ncmds %u is not in 1..%u", ncmds,
				EIA_CB_MAX_CMDS);
		goto out;
	}
	ctx = gpud_ctx_table_find(&c->ctxs, le64toh(sub->ctx));
	if (!ctx) {
		ret = reply_err(c, h, ENOENT, "no context %llu on this connection",
				(unsigned long long)le64toh(sub->ctx));
		goto out;
	}
	if (placed)
		ret = gpud_cmdbuf_check_placed(&job->cb, sub + 1, sizeof(struct eia_cb_copy),
					       h->payload_len - sizeof(struct h2d_head),
					       GPUD_MAX_PAYLOAD, msg, sizeof(msg));
	else
		ret = gpud_cmdbuf_check(&job->cb, sub + 1, h->payload_len - sizeof(*sub),
					ncmds, GPUD_MAX_PAYLOAD, msg, sizeof(msg));
	if (ret) {
		ret = reply_err(c, h, -ret, "%s; nothing was run", msg);
		goto out;
	}
	job->kind = GPUD_JOB_SUBMIT;
	job->ctx = ctx;
	job->tag = h->tag;
	/*
	 * Quick and nothing before it in its context: no hand-off. A placed
	 * buffer is both (h2d_target() made sure), its data already moved.
	 */
	if (job->cb.placed || (job->cb.light && gpud_sched_ctx_idle(&c->sched, ctx))) {
		ret = run_submit(c, true, job);
		goto out;
	}
	job->cost = sizeof(*job) + h->payload_len + job->cb.resp_len;
	return queue_submit(c, job);
out:
	gpud_job_free(job);
	return ret;
}

/* Answers one well-framed request. Returns 0, or -1 to close the connection. */
static int handle(struct gpud_conn *c, const struct eia_msg_hdr *h,
		  const union request *req, void *payload, bool placed)
{
	if (h->flags & EIA_WIRE_F_RESPONSE || h->status) {
		free(payload);
		if (h->flags & EIA_WIRE_F_RESPONSE)
			return reply_err(c, h, EINVAL,
					 "a request must not carry the RESPONSE flag");
		return reply_err(c, h, EINVAL, "a request must carry status 0");
	}
	switch (h->opcode) {
	case EIA_MSG_HELLO:
		return handle_hello(c, h, &req->hello);
	case EIA_MSG_SERVER_STATUS:
		return handle_status(c, h);
	case EIA_MSG_PING:
	case EIA_MSG_CTX_CREATE:
	case EIA_MSG_CTX_DESTROY:
	case EIA_MSG_SUBMIT:
		break;
	default:
		return reply_err(c, h, EOPNOTSUPP, "unknown opcode %u", h->opcode);
	}
	if (!c->attached) {
		free(payload);
		return reply_err(c, h, EPERM, "%s before HELLO",
				 h->opcode == EIA_MSG_PING ? "PING" :
				 h->opcode == EIA_MSG_SUBMIT ? "SUBMIT" :
				 h->opcode == EIA_MSG_CTX_CREATE ? "CTX_CREATE" : "CTX_DESTROY");
	}
	switch (h->opcode) {
	case EIA_MSG_PING:
		return handle_ping(c, h, &req->ping);
	case EIA_MSG_CTX_CREATE:
		return handle_ctx_create(c, h);
	case EIA_MSG_CTX_DESTROY:
		return handle_ctx_destroy(c, h, &req->ctx);
	}
	return handle_submit(c, h, payload, placed);
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

/*
 * Where the data of the SUBMIT (@h) that starts with @head may be received
 * straight into device memory, sparing a copy of it after it arrived; or
 * NULL: read the payload whole. Only when that can change nothing the
 * buffer's normal run would not: the buffer is a lone COPY_H2D that
 * handle_submit() will accept (checked completely now, before any data
 * arrives, so a malformed buffer is still refused whole), its destination
 * is valid, and its context has no earlier work queued or running that
 * could read or write that memory meanwhile (D2H data sent from device
 * memory included). Only the reader queues work, so the context stays idle
 * while the data arrives. A connection that fails midway leaves the
 * destination partly written, but gpud then frees its contexts: no one
 * can see it.
 */
static void *h2d_target(struct gpud_conn *c, const struct eia_msg_hdr *h,
			const struct h2d_head *head)
{
	char msg[EIA_WIRE_ERRMSG_MAX];
	unsigned int queue = le16toh(head->sub.queue);
	struct gpud_cmdbuf cb;
	struct gpud_queue *q;
	struct gpud_ctx *ctx;
	void *dst;

	if (!c->eng->be->host_visible || h->flags || h->status || head->sub.flags ||
	    le32toh(head->sub.ncmds) != 1 || queue >= EIA_CB_QUEUES)
		return NULL;
	ctx = gpud_ctx_table_find(&c->ctxs, le64toh(head->sub.ctx));
	if (!ctx ||
	    gpud_cmdbuf_check_placed(&cb, &head->copy, sizeof(head->copy),
				     h->payload_len - sizeof(*head), GPUD_MAX_PAYLOAD, msg,
				     sizeof(msg)))
		return NULL;
	/* Whatever would fail the copy when it runs is left to gpud_exec() to report. */
	if (!gpud_sched_ctx_idle(&c->sched, ctx) || atomic_load(&c->eng->stopping) ||
	    gpud_ctx_queue(c->eng, ctx, queue, &q) ||
	    gpud_mem_range(ctx, head->copy.dst, head->copy.dst_offset, head->copy.bytes, &dst))
		return NULL;
	return dst;
}

/*
 * Read a SUBMIT's payload (at least a struct eia_wire_submit) into a buffer
 * of its own in *@payload, or NULL if there is no memory for it: then it is
 * dropped. A lone COPY_H2D may have its data received into device memory
 * instead (h2d_target()): then the buffer holds the rest and *@placed is set.
 */
static int read_submit(struct gpud_conn *c, const struct eia_msg_hdr *h, void **payload,
		       bool *placed)
{
	size_t first = h->payload_len < sizeof(struct h2d_head) ? h->payload_len :
								  sizeof(struct h2d_head);
	struct h2d_head head;
	void *dst = NULL;
	int ret;

	ret = in_take(c, &head, first);
	if (ret)
		return ret;
	if (first == sizeof(head))
		dst = h2d_target(c, h, &head);
	*payload = malloc(dst ? sizeof(head) : h->payload_len);
	if (*payload)
		memcpy(*payload, &head, first);
	if (dst && *payload) {
		*placed = true;
		ret = in_take(c, dst, h->payload_len - first);
	} else {
		ret = in_take(c, *payload ? (unsigned char *)*payload + first : NULL,
			      h->payload_len - first);
	}
	if (ret) {
		free(*payload);
		*payload = NULL;
	}
	return ret;
}

/*
 * Read one request. A SUBMIT's payload (of an attached client) goes to
 * *@payload (read_submit()); other payloads that fit go to @req, larger ones
 * are dropped: the handlers refuse their size, and the stream stays in step.
 * Returns 0 or a negative errno (header checks included, with @h filled).
 */
static int read_request(struct gpud_conn *c, struct eia_msg_hdr *h,
			union request *req, void **payload, bool *placed)
{
	struct eia_wire_hdr raw;
	int ret;

	*payload = NULL;
	*placed = false;
	ret = in_take(c, &raw, sizeof(raw));
	if (ret)
		return ret;
	ret = eia_wire_hdr_unpack(&raw, h);
	if (ret)
		return ret;
	if (h->opcode == EIA_MSG_SUBMIT && c->attached &&
	    h->payload_len >= sizeof(struct eia_wire_submit))
		return read_submit(c, h, payload, placed);
	return in_take(c, h->payload_len <= sizeof(*req) ? req : NULL, h->payload_len);
}

/* The end of the connection: its work, its contexts, its grant. */
static void conn_end(struct gpud_conn *c)
{
	struct gpud_ctx *ctx;
	unsigned int nctx = 0;
	uint64_t bytes;

	flush_out(c);
	gpud_sched_finish(&c->sched);
	bytes = atomic_load(&c->acct.used);
	while ((ctx = gpud_ctx_table_pop(&c->ctxs))) {
		gpud_ctx_free(c->eng, ctx, &c->acct);
		nctx++;
	}
	if (atomic_load(&c->acct.used) || atomic_load(&c->acct.nallocs))
		gpud_err("peer=%s: %llu bytes in %u allocations not accounted for", c->peer,
			 (unsigned long long)atomic_load(&c->acct.used),
			 (unsigned int)atomic_load(&c->acct.nallocs));
	if (c->attached) {
		gpud_sched_leave(&c->sched, c->peer);
		if (c->reg)
			gpud_registry_release(c->reg, &c->grant);
		if (c->isolate)
			gpud_info("detach id=%s type=%s peer=%s (its worker ended)", c->grant.id,
				  c->grant.type->name, c->peer);
		else
			gpud_info("detach id=%s type=%s peer=%s (%u contexts, %llu bytes freed)",
				  c->grant.id, c->grant.type->name, c->peer, nctx,
				  (unsigned long long)bytes);
		c->attached = false;
	}
	gpud_sched_destroy(&c->sched);
	pthread_mutex_destroy(&c->write_lock);
	free(c->in);
	free(c->out);
}

void gpud_conn_serve(struct gpud_conn *c)
{
	struct eia_msg_hdr h;
	union request req;
	void *payload;
	bool placed;
	int ret;

	pthread_mutex_init(&c->write_lock, NULL);
	gpud_sched_init(&c->sched, run_job, c);
	c->in = malloc(GPUD_CONN_IN);
	c->out = malloc(GPUD_CONN_OUT);
	if (!c->in || !c->out) {
		gpud_err("out of memory, dropping %s", c->peer);
		conn_end(c);
		return;
	}
	if (c->attached && gpud_sched_join(&c->sched, c->eng->fair,
					   c->grant.type->fp32_mtflops)) {
		gpud_err("id=%s peer=%s: no room left in the backend's scheduler", c->grant.id,
			 c->peer);
		conn_end(c);
		return;
	}
	/* A worker's preload is at most what gpud's own buffer held. */
	if (c->preload_len && c->preload_len <= GPUD_CONN_IN) {
		memcpy(c->in, c->preload, c->preload_len);
		c->in_end = c->preload_len;
	}
	for (;;) {
		if (gpud_sched_full(&c->sched) && flush_out(c))
			break;
		if (gpud_sched_wait_room(&c->sched))
			gpud_debug("peer=%s: resumed reading (queue was over %u bytes)", c->peer,
				   GPUD_QUEUE_BYTES);
		memset(&h, 0, sizeof(h));
		ret = read_request(c, &h, &req, &payload, &placed);
		if (ret) {
			fatal_error(c, &h, ret);
			break;
		}
		gpud_debug("peer=%s op=%u tag=%llu len=%u", c->peer, h.opcode,
			   (unsigned long long)h.tag, h.payload_len);
		if (handle(c, &h, &req, payload, placed))
			break;
	}
	conn_end(c);
}
