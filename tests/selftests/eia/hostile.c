// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile gpud: a peer in the test itself that speaks the wire protocol
 * correctly up to one wrong answer. To the HELLO: the attach fails, with
 * EPROTO and the reason in the extended ack for a malformed answer, and no
 * device is left behind. To a SUBMIT: the link dies, the submit fails with
 * ENOLINK (through the ioctl and through io_uring), the device turns
 * impaired and later submits fail at once. A refusal that is well formed
 * fails only its submit; an answer that is right but trickles in a byte at
 * a time works. close() returns whatever gpud does with its CTX_DESTROY. The VM runs with oops=panic and SLUB debugging: a bad
 * pointer or a leak of the driver's on any of these paths ends the run.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "eia_test_lib.h"
#include "eia_test_main.h"
#include "wire.h"

#define TYPE		"eia2.medium"
#define ACCEL_ID	"eia-0123456789abcdef0123456789abcdef"
#define CTX_ID		7
#define FENCE_VALUE	0x5eedf00dull
#define TIMEOUT_MS	2000
#define CQE_WAIT_S	20

/* How the peer answers; each HELLO_* replaces the HELLO's answer. */
enum answer {
	GOOD,
	GOOD_TRICKLED,		/* every answer one byte per write() */
	HELLO_GARBAGE,
	HELLO_WRONG_TAG,
	HELLO_NOT_RESPONSE,
	HELLO_BAD_ACCEL_ID,
	HELLO_OTHER_TYPE,
	HELLO_SMALL_MAX_PAYLOAD,
	HELLO_SHORT,
	HELLO_ERRMSG_UNTERMINATED,
	HELLO_CLOSED,
	HELLO_SILENT,
	CTX_SHORT,
	SUBMIT_UNKNOWN_TAG,
	SUBMIT_WRONG_OPCODE,
	SUBMIT_NOT_RESPONSE,
	SUBMIT_BAD_MAGIC,
	SUBMIT_HUGE_PAYLOAD,
	SUBMIT_NO_RESULTS,
	SUBMIT_WRONG_NCMDS,
	SUBMIT_FAILED_OUT_OF_RANGE,
	SUBMIT_WRONG_VALUE,
	SUBMIT_EXTRA_BYTES,
	SUBMIT_CUT,
	SUBMIT_ERRMSG_UNTERMINATED,
	SUBMIT_ERRMSG_TOO_LONG,
	SUBMIT_REFUSED,
	PING_WRONG_COOKIE,
	DESTROY_BAD_MAGIC,
	DESTROY_SILENT,
};

/* ---- the peer ------------------------------------------------------------- */

static void put(int fd, const void *buf, size_t len, bool trickle)
{
	const char *p = buf;

	if (!trickle) {
		if (eia_write_full(fd, p, len))
			_exit(1);
		return;
	}
	for (; len; p++, len--) {
		if (eia_write_full(fd, p, 1))
			_exit(1);
		usleep(500);
	}
}

/* A message whose payload is @a then @b (either may be empty). */
static void answer(int fd, uint16_t opcode, uint32_t flags, uint32_t status,
		   uint64_t tag, const void *a, size_t alen, const void *b, size_t blen,
		   bool trickle)
{
	struct eia_wire_hdr h;

	eia_wire_hdr_pack(&h, opcode, flags, status, tag, (uint32_t)(alen + blen));
	put(fd, &h, sizeof(h), trickle);
	put(fd, a, alen, trickle);
	put(fd, b, blen, trickle);
}

static void reply(int fd, const struct eia_msg_hdr *req, const void *a,
		  size_t alen, const void *b, size_t blen, bool trickle)
{
	answer(fd, req->opcode, EIA_WIRE_F_RESPONSE, 0, req->tag, a, alen, b, blen,
	       trickle);
}

static void answer_hello(int fd, const struct eia_msg_hdr *req,
			 const struct eia_wire_hello_req *hello, enum answer how)
{
	static const char garbage[] = "HTTP/1.1 400 Bad Request\r\n\r\nnot eia";
	struct eia_wire_hello_resp resp;

	memset(&resp, 0, sizeof(resp));
	memcpy(resp.accel_id, ACCEL_ID, sizeof(ACCEL_ID));
	memcpy(resp.type, hello->type, sizeof(resp.type));
	resp.memory_bytes = htole64(1ull << 30);
	resp.fp32_mtflops = htole32(1000);
	resp.fp16_mtflops = htole32(8000);
	resp.max_payload = htole32(1 << 20);

	switch (how) {
	case HELLO_GARBAGE:
		put(fd, garbage, sizeof(garbage), false);
		return;
	case HELLO_WRONG_TAG:
		answer(fd, EIA_MSG_HELLO, EIA_WIRE_F_RESPONSE, 0, req->tag + 1,
		       &resp, sizeof(resp), NULL, 0, false);
		return;
	case HELLO_NOT_RESPONSE:
		answer(fd, EIA_MSG_HELLO, 0, 0, req->tag, &resp, sizeof(resp),
		       NULL, 0, false);
		return;
	case HELLO_BAD_ACCEL_ID:
		memset(resp.accel_id, 'x', sizeof(resp.accel_id));
		break;
	case HELLO_OTHER_TYPE:
		memset(resp.type, 0, sizeof(resp.type));
		memcpy(resp.type, "eia2.xlarge", sizeof("eia2.xlarge"));
		break;
	case HELLO_SMALL_MAX_PAYLOAD:
		resp.max_payload = htole32(512);
		break;
	case HELLO_SHORT:
		reply(fd, req, &resp, sizeof(resp) - 8, NULL, 0, false);
		return;
	case HELLO_ERRMSG_UNTERMINATED:
		answer(fd, EIA_MSG_HELLO, EIA_WIRE_F_RESPONSE, ENOSPC, req->tag,
		       "full", 4, NULL, 0, false);
		return;
	case HELLO_CLOSED:
		_exit(0);
	case HELLO_SILENT:
		pause();
		_exit(0);
	default:
		break;
	}
	reply(fd, req, &resp, sizeof(resp), NULL, 0, how == GOOD_TRICKLED);
}

static void answer_ctx(int fd, const struct eia_msg_hdr *req, enum answer how)
{
	struct eia_wire_ctx ctx = { .ctx = htole64(CTX_ID) };

	reply(fd, req, &ctx, how == CTX_SHORT ? 4 : sizeof(ctx), NULL, 0,
	      how == GOOD_TRICKLED);
}

/*
 * The answer to a SUBMIT of one FENCE (what the tests send): right, or
 * wrong in one way. After a wrong one the peer goes on serving, as a
 * broken gpud would; the driver is the one to hang up.
 */
static void answer_submit(int fd, const struct eia_msg_hdr *req,
			  const char *payload, enum answer how)
{
	const struct eia_cb_fence *f = (const void *)(payload + sizeof(struct eia_wire_submit));
	struct eia_wire_submit_resp resp = {
		.ncmds = htole32(1),
		.failed = htole32(EIA_WIRE_NONE_FAILED),
	};
	struct eia_cb_result res = { .value = f->value };
	struct eia_wire_hdr h;
	char long_msg[300];

	switch (how) {
	case SUBMIT_UNKNOWN_TAG:
		answer(fd, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, 0, req->tag + 1000,
		       &resp, sizeof(resp), &res, sizeof(res), false);
		return;
	case SUBMIT_WRONG_OPCODE:
		answer(fd, EIA_MSG_PING, EIA_WIRE_F_RESPONSE, 0, req->tag,
		       &resp, sizeof(resp), &res, sizeof(res), false);
		return;
	case SUBMIT_NOT_RESPONSE:
		answer(fd, EIA_MSG_SUBMIT, 0, 0, req->tag, &resp, sizeof(resp),
		       &res, sizeof(res), false);
		return;
	case SUBMIT_BAD_MAGIC:
		eia_wire_hdr_pack(&h, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, 0, req->tag,
				  sizeof(resp) + sizeof(res));
		h.magic = htole32(0x0badf00d);
		put(fd, &h, sizeof(h), false);
		put(fd, &resp, sizeof(resp), false);
		put(fd, &res, sizeof(res), false);
		return;
	case SUBMIT_HUGE_PAYLOAD:
		eia_wire_hdr_pack(&h, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, 0, req->tag,
				  EIA_WIRE_MAX_PAYLOAD + 1);
		put(fd, &h, sizeof(h), false);
		return;
	case SUBMIT_NO_RESULTS:
		reply(fd, req, &resp, sizeof(resp), NULL, 0, false);
		return;
	case SUBMIT_WRONG_NCMDS:
		resp.ncmds = htole32(2);
		break;
	case SUBMIT_FAILED_OUT_OF_RANGE:
		resp.failed = htole32(5);
		break;
	case SUBMIT_WRONG_VALUE:
		res.value = htole64(le64toh(f->value) + 1);
		break;
	case SUBMIT_EXTRA_BYTES:
		eia_wire_hdr_pack(&h, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, 0, req->tag,
				  sizeof(resp) + sizeof(res) + 8);
		put(fd, &h, sizeof(h), false);
		put(fd, &resp, sizeof(resp), false);
		put(fd, &res, sizeof(res), false);
		put(fd, "trailing", 8, false);
		return;
	case SUBMIT_CUT:
		eia_wire_hdr_pack(&h, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, 0, req->tag,
				  sizeof(resp) + sizeof(res));
		put(fd, &h, sizeof(h), false);
		put(fd, &resp, sizeof(resp) / 2, false);
		_exit(0);
	case SUBMIT_ERRMSG_UNTERMINATED:
		answer(fd, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, EINVAL, req->tag,
		       "bad", 3, NULL, 0, false);
		return;
	case SUBMIT_ERRMSG_TOO_LONG:
		memset(long_msg, 'a', sizeof(long_msg));
		long_msg[sizeof(long_msg) - 1] = '\0';
		answer(fd, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, EINVAL, req->tag,
		       long_msg, sizeof(long_msg), NULL, 0, false);
		return;
	case SUBMIT_REFUSED:
		answer(fd, EIA_MSG_SUBMIT, EIA_WIRE_F_RESPONSE, EINVAL, req->tag,
		       "no such handle", sizeof("no such handle"), NULL, 0, false);
		return;
	default:
		break;
	}
	reply(fd, req, &resp, sizeof(resp), &res, sizeof(res), how == GOOD_TRICKLED);
}

static void answer_destroy(int fd, const struct eia_msg_hdr *req, enum answer how)
{
	struct eia_wire_mem_status st = { .memory_used = 0 };
	struct eia_wire_hdr h;

	switch (how) {
	case DESTROY_BAD_MAGIC:
		eia_wire_hdr_pack(&h, EIA_MSG_CTX_DESTROY, EIA_WIRE_F_RESPONSE, 0, req->tag,
				  sizeof(st));
		h.magic = htole32(0x0badf00d);
		put(fd, &h, sizeof(h), false);
		put(fd, &st, sizeof(st), false);
		return;
	case DESTROY_SILENT:
		return;
	default:
		reply(fd, req, &st, sizeof(st), NULL, 0, false);
	}
}

/* The peer's whole life: answer requests until the driver hangs up. */
static void serve(int fd, enum answer how)
{
	char payload[4096];
	struct eia_msg_hdr req;

	while (!eia_wire_recv(fd, &req, payload, sizeof(payload))) {
		switch (req.opcode) {
		case EIA_MSG_HELLO:
			answer_hello(fd, &req, (const void *)payload, how);
			break;
		case EIA_MSG_PING:
			if (how == PING_WRONG_COOKIE)
				payload[0] ^= 1;
			reply(fd, &req, payload, req.payload_len, NULL, 0, false);
			break;
		case EIA_MSG_CTX_DESTROY:
			answer_destroy(fd, &req, how);
			break;
		case EIA_MSG_CTX_CREATE:
			answer_ctx(fd, &req, how);
			break;
		case EIA_MSG_SUBMIT:
			answer_submit(fd, &req, payload, how);
			break;
		default:
			answer(fd, req.opcode, EIA_WIRE_F_RESPONSE, EOPNOTSUPP,
			       req.tag, NULL, 0, NULL, 0, false);
		}
	}
	_exit(0);
}

struct peer {
	pid_t pid;
	int fd;		/* our end, for the attach */
};

/* A connected pair on 127.0.0.1; the peer serves its end in a child. */
static int peer_start(struct peer *p, enum answer how)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int lfd, sfd, one = 1;

	p->pid = -1;
	p->fd = -1;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sin, &len))
		goto fail;
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)))
		goto fail;
	sfd = accept(lfd, NULL, NULL);
	if (sfd < 0)
		goto fail;
	close(lfd);
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->pid = fork();
	if (p->pid == 0) {
		close(p->fd);
		serve(sfd, how);
	}
	close(sfd);
	return p->pid < 0 ? -errno : 0;
fail:
	if (lfd >= 0)
		close(lfd);
	return -errno;
}

static void peer_stop(struct peer *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->fd >= 0)
		close(p->fd);
	p->pid = -1;
	p->fd = -1;
}

/* The kernel log from now on. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Whether the log, since kmsg_open(), says within TIMEOUT_MS that a link
 * died because of @why. The driver logs it after failing the requests, so
 * the line may come after the submit returned.
 */
static bool kmsg_find(int fd, const char *why)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char rec[1024], want[300];
	ssize_t n;

	snprintf(want, sizeof(want), "dead: %s (", why);
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten before we read it */
		if (n < 0 && errno == EAGAIN && poll(&pfd, 1, TIMEOUT_MS) == 1)
			continue;
		if (n <= 0)
			return false;
		rec[n] = '\0';
		if (strstr(rec, want))
			return true;
	}
}

/* What a test leaves: the device file, devices, the peer, the log reader. */
static void cleanup(struct eia_nl *nl, struct peer *peer, int fd, int kmsg)
{
	if (kmsg >= 0)
		close(kmsg);
	if (fd >= 0)
		close(fd);
	if (nl->sk)
		eia_detach_all(nl);
	eia_nl_close(nl);
	peer_stop(peer);
}

/* ---- the HELLO -------------------------------------------------------------- */

FIXTURE(hello) {
	struct eia_nl nl;
	struct peer peer;
};

FIXTURE_VARIANT(hello) {
	enum answer how;
	int err;		/* of the attach */
	const char *msg;	/* in the extended ack, when it fails */
};

/* A whole answer in 128 one-byte segments is still the answer. */
FIXTURE_VARIANT_ADD(hello, trickled_answer_works) {
	.how = GOOD_TRICKLED,
};

#define MALFORMED(name, answer_)						\
	FIXTURE_VARIANT_ADD(hello, name) {				\
		.how = answer_, .err = -EPROTO,				\
		.msg = "malformed HELLO response",			\
	}

MALFORMED(garbage, HELLO_GARBAGE);
MALFORMED(wrong_tag, HELLO_WRONG_TAG);
MALFORMED(not_a_response, HELLO_NOT_RESPONSE);
MALFORMED(bad_accel_id, HELLO_BAD_ACCEL_ID);
MALFORMED(other_type, HELLO_OTHER_TYPE);
MALFORMED(small_max_payload, HELLO_SMALL_MAX_PAYLOAD);
MALFORMED(short_payload, HELLO_SHORT);
MALFORMED(unterminated_error_message, HELLO_ERRMSG_UNTERMINATED);

FIXTURE_VARIANT_ADD(hello, closed) {
	.how = HELLO_CLOSED, .err = -ECONNRESET, .msg = "connection to gpud failed",
};

FIXTURE_VARIANT_ADD(hello, silent) {
	.how = HELLO_SILENT, .err = -ETIMEDOUT, .msg = "did not answer the HELLO",
};

FIXTURE_SETUP(hello)
{
	self->peer.pid = -1;
	self->peer.fd = -1;
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
	ASSERT_EQ(0, peer_start(&self->peer, variant->how));
}

FIXTURE_TEARDOWN(hello)
{
	cleanup(&self->nl, &self->peer, -1, -1);
}

TEST_F(hello, attach)
{
	struct eia_dev dev;

	ASSERT_EQ(variant->err, eia_attach_fd(&self->nl, self->peer.fd, TYPE,
					      variant->err ? 500 : TIMEOUT_MS, NULL, &dev));
	if (!variant->err) {
		EXPECT_STREQ(ACCEL_ID, dev.accel_id);
		EXPECT_EQ(EIA_STATUS_HEALTHY, dev.status);
		return;
	}
	EXPECT_NE(NULL, strstr(self->nl.errmsg, variant->msg)) {
		TH_LOG("extended ack: '%s'", self->nl.errmsg);
	}
	/* Nothing is left of the attempt. */
	EXPECT_EQ(0, eia_dump(&self->nl, &dev, 1));
}

/* ---- answers to requests on an attached device ----------------------------- */

FIXTURE(submit) {
	struct eia_nl nl;
	struct peer peer;
	struct eia_dev dev;
	int fd;
	struct io_uring ring;
	bool ring_up;
	int kmsg;
};

FIXTURE_VARIANT(submit) {
	enum answer how;
	bool uring;
	int err;		/* of the first submit: 0, or an errno */
	const char *why;	/* the link dies, and the kernel log says why */
};

#define DIES(name, answer_, uring_, why_)				\
	FIXTURE_VARIANT_ADD(submit, name) {				\
		.how = answer_, .uring = uring_, .err = ENOLINK,	\
		.why = why_,						\
	}

DIES(unknown_tag, SUBMIT_UNKNOWN_TAG, false, "response with an unknown tag");
DIES(wrong_opcode, SUBMIT_WRONG_OPCODE, false, "response opcode differs from the request");
DIES(not_a_response, SUBMIT_NOT_RESPONSE, false, "gpud sent a request");
DIES(bad_magic, SUBMIT_BAD_MAGIC, false, "malformed header");
DIES(payload_over_protocol_max, SUBMIT_HUGE_PAYLOAD, false, "malformed header");
DIES(no_results, SUBMIT_NO_RESULTS, false, "SUBMIT response shorter than its results");
DIES(wrong_ncmds, SUBMIT_WRONG_NCMDS, false,
     "SUBMIT response for another number of commands");
DIES(failed_index_out_of_range, SUBMIT_FAILED_OUT_OF_RANGE, false,
     "SUBMIT failed index out of range");
DIES(fence_value_changed, SUBMIT_WRONG_VALUE, false,
     "result value is not what the command gives");
DIES(payload_longer_than_results, SUBMIT_EXTRA_BYTES, false,
     "SUBMIT response length is not that of its D2H data");
DIES(closed_mid_answer, SUBMIT_CUT, false, "gpud closed the connection");
DIES(unterminated_error_message, SUBMIT_ERRMSG_UNTERMINATED, false,
     "unterminated error message");
DIES(error_message_too_long, SUBMIT_ERRMSG_TOO_LONG, false, "error message too long");
DIES(uring_unknown_tag, SUBMIT_UNKNOWN_TAG, true, "response with an unknown tag");
DIES(uring_closed_mid_answer, SUBMIT_CUT, true, "gpud closed the connection");

/* The context never comes: the submit fails, the link stays up. */
FIXTURE_VARIANT_ADD(submit, context_malformed) {
	.how = CTX_SHORT, .err = EPROTO,
};

FIXTURE_VARIANT_ADD(submit, refusal_fails_only_its_submit) {
	.how = SUBMIT_REFUSED, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(submit, uring_refusal_fails_only_its_submit) {
	.how = SUBMIT_REFUSED, .uring = true, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(submit, trickled_answers_work) {
	.how = GOOD_TRICKLED,
};

FIXTURE_VARIANT_ADD(submit, uring_trickled_answers_work) {
	.how = GOOD_TRICKLED, .uring = true,
};

FIXTURE_SETUP(submit)
{
	self->fd = -1;
	self->ring_up = false;
	self->peer.pid = -1;
	self->peer.fd = -1;
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
	ASSERT_EQ(0, peer_start(&self->peer, variant->how));
	ASSERT_EQ(0, eia_attach_fd(&self->nl, self->peer.fd, TYPE, TIMEOUT_MS, NULL,
				   &self->dev));
	self->fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, self->fd);
	if (variant->uring) {
		ASSERT_EQ(0, io_uring_queue_init(8, &self->ring,
						 IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
		self->ring_up = true;
	}
}

FIXTURE_TEARDOWN(submit)
{
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	cleanup(&self->nl, &self->peer, self->fd, self->kmsg);
}

/* One FENCE of @value; 0 or the errno it failed with, result in @res. */
static int submit_fence(int fd, struct io_uring *ring, uint64_t value,
			struct eia_cb_result *res)
{
	struct eia_cb_fence f = {
		.hdr = { .op = EIA_CB_FENCE, .size = sizeof(f) },
		.value = value,
	};
	struct eia_submit s = {
		.cmds = (uintptr_t)&f,
		.cmds_bytes = sizeof(f),
		.ncmds = 1,
		.results = (uintptr_t)res,
	};
	struct __kernel_timespec ts = { .tv_sec = CQE_WAIT_S };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!ring)
		return ioctl(fd, EIA_IOCTL_SUBMIT, &s) ? errno : 0;
	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = EIA_URING_CMD_SUBMIT;
	memcpy(sqe->cmd, &s, sizeof(s));
	if (io_uring_submit(ring) != 1)
		return EIO;
	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return -ret;
	ret = -cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

TEST_F(submit, answered)
{
	struct io_uring *ring = variant->uring ? &self->ring : NULL;
	struct eia_cb_result res;
	struct eia_dev g;

	ASSERT_EQ(variant->err, submit_fence(self->fd, ring, FENCE_VALUE, &res));
	if (!variant->err) {
		EXPECT_EQ(0, res.status);
		EXPECT_EQ(FENCE_VALUE, res.value);
	}
	if (variant->why) {
		ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", TIMEOUT_MS));
		EXPECT_TRUE(kmsg_find(self->kmsg, variant->why)) {
			TH_LOG("no \"dead: %s\" in the kernel log", variant->why);
		}
		ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
		EXPECT_EQ(EIA_STATUS_IMPAIRED, g.status);
		/* Fails at once: nothing is sent on a dead link. */
		EXPECT_EQ(ENOLINK, submit_fence(self->fd, ring, FENCE_VALUE, &res));
		return;
	}
	/* The link lives on: the next buffer runs, or is refused alike. */
	EXPECT_EQ(variant->err, submit_fence(self->fd, ring, FENCE_VALUE + 1, &res));
	if (!variant->err)
		EXPECT_EQ(FENCE_VALUE + 1, res.value);
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
}

/* ---- other answers ---------------------------------------------------------- */

FIXTURE(other) {
	struct eia_nl nl;
	struct peer peer;
	struct eia_dev dev;
	int fd;
	int kmsg;
};

FIXTURE_SETUP(other)
{
	self->fd = -1;
	self->peer.pid = -1;
	self->peer.fd = -1;
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
}

FIXTURE_TEARDOWN(other)
{
	cleanup(&self->nl, &self->peer, self->fd, self->kmsg);
}

/* Attach to a peer answering @how, and open the device; 0 or -errno. */
static int attach_peer(FIXTURE_DATA(other) *self, enum answer how)
{
	int ret = peer_start(&self->peer, how);

	if (!ret)
		ret = eia_attach_fd(&self->nl, self->peer.fd, TYPE, TIMEOUT_MS, NULL,
				    &self->dev);
	if (!ret) {
		self->fd = eia_open_dev(self->dev.name);
		ret = self->fd < 0 ? self->fd : 0;
	}
	return ret;
}

/* A PING echo that is not the cookie sent fails the ping, not the link. */
TEST_F(other, ping_wrong_cookie)
{
	struct eia_ping ping = { .cookie = 0x1234 };
	struct eia_dev g;

	ASSERT_EQ(0, attach_peer(self, PING_WRONG_COOKIE));
	EXPECT_EQ(-1, ioctl(self->fd, EIA_IOCTL_PING, &ping));
	EXPECT_EQ(EPROTO, errno);
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
}

/* close() sends CTX_DESTROY: a malformed answer kills the link, close() returns. */
TEST_F(other, context_destroy_malformed)
{
	struct eia_cb_result res;

	ASSERT_EQ(0, attach_peer(self, DESTROY_BAD_MAGIC));
	ASSERT_EQ(0, submit_fence(self->fd, NULL, FENCE_VALUE, &res));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "impaired", TIMEOUT_MS));
	EXPECT_TRUE(kmsg_find(self->kmsg, "malformed header"));
}

/* A gpud silent on CTX_DESTROY holds close() up for the timeout, no longer. */
TEST_F(other, context_destroy_unanswered)
{
	struct eia_cb_result res;
	int64_t start, took;

	ASSERT_EQ(0, attach_peer(self, DESTROY_SILENT));
	ASSERT_EQ(0, submit_fence(self->fd, NULL, FENCE_VALUE, &res));
	start = eia_now_ms();
	EXPECT_EQ(0, close(self->fd));
	took = eia_now_ms() - start;
	self->fd = -1;
	EXPECT_LE(TIMEOUT_MS - 100, took);
	EXPECT_GT(TIMEOUT_MS + 5000, took);
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "impaired", TIMEOUT_MS));
	EXPECT_TRUE(kmsg_find(self->kmsg, "gpud did not answer within the request timeout"));
}

EIA_TEST_MAIN
