// SPDX-License-Identifier: MIT
/*
 * libeia over tcp:// against a fake gpud scripted here: a thread that
 * speaks the wire protocol with the real structs and codec, answers as gpud
 * would, and misbehaves where a test says so. A broken answer must give its
 * exact error, leave the device unhealthy and make later calls fail at once
 * with the same error; an answer that comes a byte at a time, or shares a
 * write with others, must give the right results.
 *
 * Host only: no gpud and no eia.ko take part, so the VM binary leaves it out.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eia.h"
#include "eia_cmdbuf.h"
#include "kselftest_harness.h"
#include "last_failure.h"
#include "wire.h"

/* What the fake grants. */
#define FAKE_MAX_PAYLOAD	(1u << 20)
#define FAKE_MEMORY		(2ull << 30)
#define FAKE_CTX		0x5eedull
#define FAKE_ACCEL_ID		"eia-0123456789abcdef0123456789abcdef"
/* libeia's timeout in every test's URL: what a silent fake costs. */
#define CLIENT_TIMEOUT_MS	1000
/* The fake's own bound on waiting for the client, so no test hangs. */
#define FAKE_TIMEOUT_MS		5000
/* Largest request the fake takes. */
#define FAKE_REQ_MAX		(64u << 10)
/* A device memory handle: the fake checks none. */
#define HANDLE			0x1000ull

/* Bytes the fake is about to send. */
struct out {
	unsigned char *b;
	size_t len;
	size_t cap;
	bool nomem;
};

static void out_put(struct out *o, const void *p, size_t n)
{
	unsigned char *b;

	if (!n || o->nomem)
		return;
	if (o->len + n > o->cap) {
		b = realloc(o->b, 2 * (o->len + n));
		if (!b) {
			o->nomem = true;
			return;
		}
		o->b = b;
		o->cap = 2 * (o->len + n);
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

/* A response's header, for @len bytes of payload. */
static void out_hdr(struct out *o, uint16_t opcode, uint32_t status, uint64_t tag,
		    uint32_t len)
{
	struct eia_wire_hdr h;

	eia_wire_hdr_pack(&h, opcode, EIA_WIRE_F_RESPONSE, status, tag, len);
	out_put(o, &h, sizeof(h));
}

/* A whole response: header and payload. */
static void out_msg(struct out *o, uint16_t opcode, uint32_t status, uint64_t tag,
		    const void *payload, uint32_t len)
{
	out_hdr(o, opcode, status, tag, len);
	out_put(o, payload, len);
}

/* The parts of the one message in @o, for spoiling it. */
static struct eia_wire_hdr *hdr_of(struct out *o)
{
	return (struct eia_wire_hdr *)o->b;
}

static void *payload_of(struct out *o)
{
	return o->b + sizeof(struct eia_wire_hdr);
}

static struct eia_wire_submit_resp *submit_of(struct out *o)
{
	return payload_of(o);
}

static struct eia_cb_result *result_of(struct out *o)
{
	return (struct eia_cb_result *)(submit_of(o) + 1);
}

/* The byte at @pos of device memory @handle, as the fake's D2H copies give it. */
static unsigned char dev_byte(uint64_t handle, uint64_t pos)
{
	return (unsigned char)(pos * 7 + (pos >> 8) + handle);
}

/* A misdeed: the answer to the first @opcode request, spoiled by @spoil. */
struct misdeed {
	uint16_t opcode;
	void (*spoil)(struct out *o);
	bool hang_up;		/* close the connection right after it */
};

/* The fake gpud: one connection, answered by a thread of its own. */
struct fake {
	int lfd;
	uint16_t port;
	char url[96];
	pthread_t thread;
	bool running;
	/* How it answers; set before fake_start(). */
	bool bytewise;		/* one byte per write(), with pauses */
	unsigned int batch;	/* SUBMIT answers sent together, the last first */
	bool open_at_once;	/* HELLO's answer and CTX_CREATE's in one write */
	struct misdeed m;
	/* The thread's alone until fake_stop(). */
	int fd;
	struct eia_msg_hdr h;	/* the request being answered */
	unsigned char *req;	/* its payload */
	uint64_t hello_tag;
	char err[256];		/* what it found wrong, or "" */
};

static void __attribute__((format(printf, 2, 3)))
fake_fail(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

/* The next request into f->h and f->req: false once the client hung up. */
static bool fake_recv(struct fake *f)
{
	int ret = eia_wire_recv(f->fd, &f->h, f->req, FAKE_REQ_MAX);

	if (ret == -ECONNRESET)
		return false;
	if (ret) {
		fake_fail(f, "receiving a request: %s", strerror(-ret));
		return false;
	}
	if (f->h.flags || f->h.status) {
		fake_fail(f, "a request with flags %#x, status %u", f->h.flags, f->h.status);
		return false;
	}
	return true;
}

static void answer_hello(struct fake *f, struct out *o)
{
	const struct eia_wire_hello_req *req = (const void *)f->req;
	struct eia_wire_hello_resp r;

	if (f->h.payload_len != sizeof(*req) || !eia_wire_str_ok(req->type, sizeof(req->type)))
		fake_fail(f, "a malformed HELLO");
	memset(&r, 0, sizeof(r));
	eia_wire_put_str(r.accel_id, sizeof(r.accel_id), FAKE_ACCEL_ID);
	memcpy(r.type, req->type, sizeof(r.type));
	r.type[sizeof(r.type) - 1] = '\0';
	r.memory_bytes = htole64(FAKE_MEMORY);
	r.fp32_mtflops = htole32(1000);
	r.fp16_mtflops = htole32(8000);
	r.max_payload = htole32(FAKE_MAX_PAYLOAD);
	f->hello_tag = f->h.tag;
	out_msg(o, EIA_MSG_HELLO, 0, f->h.tag, &r, sizeof(r));
}

static void answer_ctx(struct out *o, uint64_t tag)
{
	struct eia_wire_ctx c = { .ctx = htole64(FAKE_CTX) };

	out_msg(o, EIA_MSG_CTX_CREATE, 0, tag, &c, sizeof(c));
}

/*
 * The commands of the SUBMIT in f->req, run: each FENCE gives back its
 * value, each COPY_D2H appends its bytes of dev_byte() to @data. Returns
 * their number, or 0 for a request the fake does not take.
 */
static uint32_t run_submit(struct fake *f, struct eia_cb_result *res, struct out *data)
{
	const struct eia_wire_submit *sub = (const void *)f->req;
	uint32_t ncmds = le32toh(sub->ncmds), i;
	size_t pos = sizeof(*sub), len = f->h.payload_len;
	uint64_t b;

	if (len < pos || le64toh(sub->ctx) != FAKE_CTX || !ncmds || ncmds > EIA_CB_MAX_CMDS)
		return 0;
	for (i = 0; i < ncmds; i++) {
		const struct eia_cb_hdr *h = (const void *)(f->req + pos);
		const struct eia_cb_copy *c = (const void *)h;

		if (len - pos < sizeof(*h) || h->size < sizeof(*h) || h->size > len - pos ||
		    h->op == EIA_CB_COPY_H2D || h->op == EIA_CB_MODULE_LOAD)
			return 0;
		memset(&res[i], 0, sizeof(res[i]));
		if (h->op == EIA_CB_FENCE)
			res[i].value = ((const struct eia_cb_fence *)h)->value;
		for (b = 0; h->op == EIA_CB_COPY_D2H && b < c->bytes; b++) {
			unsigned char byte = dev_byte(c->src, c->src_offset + b);

			out_put(data, &byte, 1);
		}
		pos += h->size;
	}
	return ncmds;
}

/* gpud's answer to the SUBMIT in f->req when every command succeeds. */
static void answer_submit(struct fake *f, struct out *o)
{
	struct eia_cb_result *res = calloc(EIA_CB_MAX_CMDS, sizeof(*res));
	struct out data = { 0 };
	struct eia_wire_submit_resp r = { .failed = htole32(EIA_WIRE_NONE_FAILED) };
	uint32_t ncmds = res ? run_submit(f, res, &data) : 0;
	size_t len = sizeof(r) + ncmds * sizeof(*res) + data.len;

	if (!ncmds || data.nomem) {
		fake_fail(f, "a SUBMIT the fake cannot answer");
	} else {
		r.ncmds = htole32(ncmds);
		out_hdr(o, EIA_MSG_SUBMIT, 0, f->h.tag, (uint32_t)len);
		out_put(o, &r, sizeof(r));
		out_put(o, res, ncmds * sizeof(*res));
		out_put(o, data.b, data.len);
	}
	free(data.b);
	free(res);
}

/* Answer the request in f->h as gpud would, into @o. */
static void answer(struct fake *f, struct out *o)
{
	switch (f->h.opcode) {
	case EIA_MSG_HELLO:
		answer_hello(f, o);
		if (f->open_at_once)
			answer_ctx(o, f->h.tag + 1);	/* libeia's next tag */
		return;
	case EIA_MSG_CTX_CREATE:
		if (!f->open_at_once)
			answer_ctx(o, f->h.tag);
		else if (f->h.tag != f->hello_tag + 1)
			fake_fail(f, "CTX_CREATE's tag is not HELLO's + 1: answered wrongly");
		return;
	case EIA_MSG_SUBMIT:
		answer_submit(f, o);
		return;
	}
	fake_fail(f, "an unexpected request, opcode %u", f->h.opcode);
}

static void fake_send(struct fake *f, const struct out *o)
{
	size_t i;
	int ret = 0;

	if (o->nomem) {
		fake_fail(f, "out of memory");
		return;
	}
	if (!f->bytewise)
		ret = eia_write_full(f->fd, o->b, o->len);
	for (i = 0; f->bytewise && !ret && i < o->len; i++) {
		ret = eia_write_full(f->fd, o->b + i, 1);
		usleep(100);
	}
	if (ret)
		fake_fail(f, "sending an answer: %s", strerror(-ret));
}

/* Answer requests until the client hangs up (or the misdeed says to). */
static void serve(struct fake *f)
{
	struct out o = { 0 }, held = { 0 }, tmp;
	unsigned int nheld = 0;

	while (fake_recv(f)) {
		o.len = 0;
		answer(f, &o);
		if (f->m.spoil && f->h.opcode == f->m.opcode) {
			f->m.spoil(&o);
			f->m.spoil = NULL;
			if (f->m.hang_up) {
				fake_send(f, &o);
				close(f->fd);
				f->fd = -1;
				break;
			}
		}
		if (f->h.opcode != EIA_MSG_SUBMIT || f->batch < 2) {
			fake_send(f, &o);
			continue;
		}
		/* This answer, then those held before it. */
		out_put(&o, held.b, held.len);
		tmp = held;
		held = o;
		o = tmp;
		if (++nheld < f->batch)
			continue;
		fake_send(f, &held);
		held.len = 0;
		nheld = 0;
	}
	free(o.b);
	free(held.b);
}

static void *fake_main(void *arg)
{
	struct timeval tv = { .tv_sec = FAKE_TIMEOUT_MS / 1000 };
	struct fake *f = arg;
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };
	int one = 1;

	if (poll(&p, 1, FAKE_TIMEOUT_MS) != 1) {
		fake_fail(f, "libeia did not connect");
		return NULL;
	}
	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (f->fd < 0 ||
	    setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		fake_fail(f, "accepting: %s", strerror(errno));
		return NULL;
	}
	serve(f);
	return NULL;
}

/* Listen on 127.0.0.1, a port of the kernel's choice. Returns 0 or -1. */
static int fake_listen(struct fake *f)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->req = malloc(FAKE_REQ_MAX);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!f->req || f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(f->lfd, 1) || getsockname(f->lfd, (struct sockaddr *)&sin, &len))
		return -1;
	f->port = ntohs(sin.sin_port);
	snprintf(f->url, sizeof(f->url), "tcp://127.0.0.1:%u?timeout_ms=%d", f->port,
		 CLIENT_TIMEOUT_MS);
	return 0;
}

static int fake_start(struct fake *f)
{
	if (pthread_create(&f->thread, NULL, fake_main, f))
		return -1;
	f->running = true;
	return 0;
}

/* Wait for the thread (bounded by its timeouts) and free the fake. */
static void fake_stop(struct fake *f)
{
	if (f->running)
		pthread_join(f->thread, NULL);
	f->running = false;
	if (f->fd >= 0)
		close(f->fd);
	if (f->lfd >= 0)
		close(f->lfd);
	free(f->req);
	f->fd = f->lfd = -1;
	f->req = NULL;
}

/* Close the device, stop the fake, and check it saw nothing wrong. */
static void fake_teardown(struct __test_metadata *_metadata, struct fake *f,
			  eiaDevice_t dev)
{
	if (dev)
		EXPECT_EQ(EIA_SUCCESS, eiaDeviceClose(dev));
	fake_stop(f);
	EXPECT_STREQ("", f->err);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Whether @n bytes at @p are @handle's from @pos on. */
static bool is_dev_data(const unsigned char *p, size_t n, uint64_t handle, uint64_t pos)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != dev_byte(handle, pos + i))
			return false;
	return true;
}

/* D2H of @n bytes from @off through a synchronous call; 0 when they match. */
static int d2h_matches(eiaDevice_t dev, size_t off, size_t n)
{
	unsigned char *buf = malloc(n + 2);
	int ret = -1;

	if (!buf)
		return -1;
	memset(buf, 0xee, n + 2);
	/* At an odd address, between guard bytes. */
	if (!eiaMemcpyDtoH(dev, buf + 1, HANDLE, off, n))
		ret = !is_dev_data(buf + 1, n, HANDLE, off) || buf[0] != 0xee ||
		      buf[n + 1] != 0xee;
	free(buf);
	return ret;
}

/* An event recorded on @s and waited for: one SUBMIT of one FENCE. */
static eiaError_t fence(eiaStream_t s, eiaEvent_t ev)
{
	eiaError_t err = eiaEventRecord(ev, s);

	return err ? err : eiaEventSynchronize(ev);
}

FIXTURE(hostile) {
	struct fake f;
	eiaDevice_t dev;
};

FIXTURE_SETUP(hostile)
{
	ASSERT_EQ(0, fake_listen(&self->f));
	self->f.batch = 1;
	self->dev = NULL;
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
}

FIXTURE_TEARDOWN(hostile)
{
	fake_teardown(_metadata, &self->f, self->dev);
}

/* What the fake's HELLO granted is what the device says. */
static void check_grant(struct __test_metadata *_metadata, eiaDevice_t dev)
{
	eiaDeviceProp p;

	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, dev));
	EXPECT_STREQ(FAKE_ACCEL_ID, p.accelId);
	EXPECT_STREQ("eia2.medium", p.type);
	EXPECT_EQ(FAKE_MEMORY, p.memoryTotal);
	EXPECT_EQ(FAKE_MAX_PAYLOAD, p.maxRequestBytes);
	EXPECT_EQ(8.0, p.fp16Tflops);
	EXPECT_EQ(1, p.healthy);
}

/* Every answer, HELLO's included, a byte per write(): reassembled whole. */
TEST_F(hostile, answers_a_byte_at_a_time)
{
	eiaStream_t s;
	eiaEvent_t ev;
	int i;

	self->f.bytewise = true;
	ASSERT_EQ(0, fake_start(&self->f));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, self->f.url));
	check_grant(_metadata, self->dev);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, EIA_STREAM_SYNC));
	ASSERT_EQ(EIA_SUCCESS, eiaEventCreate(&ev, 0));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(EIA_SUCCESS, fence(s, ev));
	ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8(self->dev, HANDLE, 0, 0x5a, 64));
	ASSERT_EQ(0, d2h_matches(self->dev, 3, 100));
	ASSERT_EQ(EIA_SUCCESS, eiaEventDestroy(ev));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
}

/* CTX_CREATE's answer comes in HELLO's read, before it was asked for. */
TEST_F(hostile, open_answers_in_one_write)
{
	self->f.open_at_once = true;
	ASSERT_EQ(0, fake_start(&self->f));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, self->f.url));
	check_grant(_metadata, self->dev);
	ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8(self->dev, HANDLE, 0, 0x5a, 64));
	ASSERT_EQ(0, d2h_matches(self->dev, 0, 10));
}

#define PAIR_ROUNDS	5

/* A thread with a stream of its own: D2H from its handle, then a FENCE. */
struct pair_worker {
	eiaDevice_t dev;
	uint64_t handle;
	unsigned char data[300];
	int rounds_ok;
	eiaError_t err;
};

static void *pair_main(void *arg)
{
	struct pair_worker *w = arg;
	eiaStream_t s = NULL;
	eiaEvent_t ev = NULL;
	int r;

	w->err = eiaStreamCreate(&s, w->dev, EIA_STREAM_SYNC);
	if (!w->err)
		w->err = eiaEventCreate(&ev, 0);
	for (r = 0; !w->err && r < PAIR_ROUNDS; r++) {
		memset(w->data, 0, sizeof(w->data));
		w->err = eiaMemcpyDtoHAsync(s, w->data, w->handle, (size_t)r, sizeof(w->data));
		if (!w->err)
			w->err = fence(s, ev);
		if (!w->err && is_dev_data(w->data, sizeof(w->data), w->handle, (uint64_t)r))
			w->rounds_ok++;
	}
	eiaEventDestroy(ev);
	eiaStreamDestroy(s);
	return NULL;
}

/*
 * Two threads' buffers in flight; the fake answers both in one write, the
 * later one first: one read() brings both, and each lands in its thread's
 * memory.
 */
TEST_F(hostile, two_answers_in_one_write)
{
	struct pair_worker w[2];
	pthread_t t[2];
	int i;

	self->f.batch = 2;
	ASSERT_EQ(0, fake_start(&self->f));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, self->f.url));
	for (i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].dev = self->dev;
		w[i].handle = HANDLE + 0x100 * (uint64_t)i + 1;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, pair_main, &w[i]));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(EIA_SUCCESS, w[i].err) TH_LOG("thread %d", i);
		EXPECT_EQ(PAIR_ROUNDS, w[i].rounds_ok) TH_LOG("thread %d", i);
	}
}

/*
 * D2H data from a few bytes (out of the receive buffer) to far more than
 * it holds (read straight into the destination), byte for byte.
 */
TEST_F(hostile, d2h_data_small_and_large)
{
	static const size_t sizes[] = { 1, 5, 4000, 4096, 4096 + 17, (64u << 10) + 13,
					(256u << 10) + 1 };
	size_t i;

	ASSERT_EQ(0, fake_start(&self->f));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, self->f.url));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		EXPECT_EQ(0, d2h_matches(self->dev, 3 + i, sizes[i])) TH_LOG("%zu bytes", sizes[i]);
}

/* One answer with the data of several D2H copies, small and large mixed. */
TEST_F(hostile, d2h_pieces_in_one_answer)
{
	static const size_t sizes[] = { 3, 70000, 7, 5000, 4093 };
	unsigned char *buf[5];
	eiaStream_t s;
	size_t i;

	ASSERT_EQ(0, fake_start(&self->f));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, self->f.url));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, EIA_STREAM_DEFAULT));
	for (i = 0; i < 5; i++) {
		buf[i] = calloc(1, sizes[i]);
		ASSERT_NE(NULL, buf[i]);
		ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, buf[i], HANDLE + i, 11 * i,
							  sizes[i]));
	}
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	for (i = 0; i < 5; i++) {
		EXPECT_TRUE(is_dev_data(buf[i], sizes[i], HANDLE + i, 11 * i))
			TH_LOG("copy %zu", i);
		free(buf[i]);
	}
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
}

/* Spoilers of a right answer (the one message in @o). */

static void wrong_tag(struct out *o)
{
	hdr_of(o)->tag = htole64(le64toh(hdr_of(o)->tag) + 100);
}

static void wrong_opcode(struct out *o)
{
	hdr_of(o)->opcode = htole16(EIA_MSG_PING);
}

static void not_a_response(struct out *o)
{
	hdr_of(o)->flags = 0;
}

static void unknown_flag(struct out *o)
{
	hdr_of(o)->flags = htole32(EIA_WIRE_F_RESPONSE | 0x80);
}

static void future_version(struct out *o)
{
	hdr_of(o)->version = htole16(EIA_WIRE_VERSION + 1);
}

static void over_max_payload(struct out *o)
{
	hdr_of(o)->payload_len = htole32(FAKE_MAX_PAYLOAD + EIA_WIRE_ERRMSG_MAX + 1);
}

/* The last byte of the payload left out, in the length too. */
static void one_byte_short(struct out *o)
{
	hdr_of(o)->payload_len = htole32(le32toh(hdr_of(o)->payload_len) - 1);
	o->len--;
}

static void one_byte_long(struct out *o)
{
	hdr_of(o)->payload_len = htole32(le32toh(hdr_of(o)->payload_len) + 1);
	out_put(o, "", 1);
}

static void ncmds_differs(struct out *o)
{
	submit_of(o)->ncmds = htole32(le32toh(submit_of(o)->ncmds) + 1);
}

static void failed_out_of_range(struct out *o)
{
	submit_of(o)->failed = htole32(1);
	result_of(o)->status = -EIO;
}

static void failed_but_succeeded(struct out *o)
{
	submit_of(o)->failed = htole32(0);
}

static void failure_unreported(struct out *o)
{
	result_of(o)->status = -EIO;
}

static void positive_status(struct out *o)
{
	submit_of(o)->failed = htole32(0);
	result_of(o)->status = EIO;
}

static void status_not_errno(struct out *o)
{
	submit_of(o)->failed = htole32(0);
	result_of(o)->status = -5000;
}

/* The request refused: @status, with @len bytes of message. */
static void refuse(struct out *o, uint32_t status, const char *msg, uint32_t len)
{
	uint16_t opcode = le16toh(hdr_of(o)->opcode);
	uint64_t tag = le64toh(hdr_of(o)->tag);

	o->len = 0;
	out_msg(o, opcode, status, tag, msg, len);
}

static void refused(struct out *o)
{
	static const char msg[] = "malformed buffer";

	refuse(o, EINVAL, msg, sizeof(msg));
}

static void refused_no_room(struct out *o)
{
	static const char msg[] = "no eia2.medium left";

	refuse(o, ENOSPC, msg, sizeof(msg));
}

static void refused_too_many(struct out *o)
{
	refuse(o, EMFILE, NULL, 0);
}

static void refused_unterminated(struct out *o)
{
	refuse(o, EINVAL, "no NUL", 6);
}

static void refused_not_errno(struct out *o)
{
	refuse(o, 0x80000000u, NULL, 0);
}

static void refused_too_long(struct out *o)
{
	char msg[EIA_WIRE_ERRMSG_MAX + 1];

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	refuse(o, EINVAL, msg, sizeof(msg));
}

static void cut_in_header(struct out *o)
{
	o->len = 10;
}

static void cut_in_payload(struct out *o)
{
	o->len = sizeof(struct eia_wire_hdr) + 8;
}

static void nothing(struct out *o)
{
	o->len = 0;
}

static void garbage(struct out *o)
{
	memset(o->b, 0xa5, o->len);
}

static void small_max_payload(struct out *o)
{
	((struct eia_wire_hello_resp *)payload_of(o))->max_payload = htole32(4095);
}

static void huge_max_payload(struct out *o)
{
	((struct eia_wire_hello_resp *)payload_of(o))->max_payload =
		htole32(EIA_WIRE_MAX_PAYLOAD + 1);
}

static void unterminated_accel_id(struct out *o)
{
	struct eia_wire_hello_resp *r = payload_of(o);

	memset(r->accel_id, 'a', sizeof(r->accel_id));
}

static void unterminated_type(struct out *o)
{
	struct eia_wire_hello_resp *r = payload_of(o);

	memset(r->type, 'a', sizeof(r->type));
}

static void ctx_zero(struct out *o)
{
	((struct eia_wire_ctx *)payload_of(o))->ctx = 0;
}

/*
 * The answer to one SUBMIT spoiled: the call gets @error (with @sys_errno);
 * unless @healthy, the connection is lost for good.
 */
FIXTURE(bad_submit) {
	struct fake f;
	eiaDevice_t dev;
};

FIXTURE_VARIANT(bad_submit) {
	void (*spoil)(struct out *o);
	bool hang_up;
	eiaError_t error;
	int sys_errno;
	bool healthy;
};

#define BAD_SUBMIT(name_, spoil_, error_, errno_) \
	FIXTURE_VARIANT_ADD(bad_submit, name_) { \
		.spoil = spoil_, .error = error_, .sys_errno = errno_, \
	}

BAD_SUBMIT(wrong_tag, wrong_tag, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(wrong_opcode, wrong_opcode, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(not_a_response, not_a_response, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(unknown_flag, unknown_flag, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(future_version, future_version, EIA_ERROR_PROTOCOL, EPROTONOSUPPORT);
BAD_SUBMIT(over_max_payload, over_max_payload, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(one_byte_short, one_byte_short, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(one_byte_long, one_byte_long, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(ncmds_differs, ncmds_differs, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(failed_out_of_range, failed_out_of_range, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(failed_but_succeeded, failed_but_succeeded, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(failure_unreported, failure_unreported, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(positive_status, positive_status, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(status_not_errno, status_not_errno, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(refused_unterminated, refused_unterminated, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(refused_not_errno, refused_not_errno, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(refused_too_long, refused_too_long, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(garbage, garbage, EIA_ERROR_PROTOCOL, EPROTO);
BAD_SUBMIT(silent, nothing, EIA_ERROR_TIMEOUT, ETIMEDOUT);
BAD_SUBMIT(silent_in_payload, cut_in_payload, EIA_ERROR_TIMEOUT, ETIMEDOUT);

FIXTURE_VARIANT_ADD(bad_submit, hang_up) {
	.spoil = nothing, .hang_up = true,
	.error = EIA_ERROR_CONNECTION_LOST, .sys_errno = ECONNRESET,
};

FIXTURE_VARIANT_ADD(bad_submit, hang_up_in_header) {
	.spoil = cut_in_header, .hang_up = true,
	.error = EIA_ERROR_CONNECTION_LOST, .sys_errno = ECONNRESET,
};

FIXTURE_VARIANT_ADD(bad_submit, hang_up_in_payload) {
	.spoil = cut_in_payload, .hang_up = true,
	.error = EIA_ERROR_CONNECTION_LOST, .sys_errno = ECONNRESET,
};

/* A well-formed refusal is no fault of the connection. */
FIXTURE_VARIANT_ADD(bad_submit, refused) {
	.spoil = refused, .error = EIA_ERROR_INVALID_VALUE, .sys_errno = EINVAL,
	.healthy = true,
};

FIXTURE_SETUP(bad_submit)
{
	ASSERT_EQ(0, fake_listen(&self->f));
	self->f.batch = 1;
	self->f.m = (struct misdeed){
		.opcode = EIA_MSG_SUBMIT, .spoil = variant->spoil, .hang_up = variant->hang_up,
	};
	self->dev = NULL;
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	ASSERT_EQ(0, fake_start(&self->f));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, self->f.url));
}

FIXTURE_TEARDOWN(bad_submit)
{
	fake_teardown(_metadata, &self->f, self->dev);
}

TEST_F(bad_submit, fails_with_its_error)
{
	eiaDeviceProp p;
	long long t0;
	eiaFailure f;

	t0 = now_ms();
	ASSERT_EQ(variant->error, eiaMemsetD8(self->dev, HANDLE, 0, 0x5a, 64));
	f = last();
	ASSERT_EQ(variant->sys_errno, f.sysErrno);
	ASSERT_STREQ("eiaMemsetD8", f.function);
	/* Only a silent gpud makes it wait, and then for the device's timeout. */
	if (variant->error == EIA_ERROR_TIMEOUT)
		ASSERT_LE(CLIENT_TIMEOUT_MS - 50, now_ms() - t0);
	ASSERT_GT(CLIENT_TIMEOUT_MS * 3, now_ms() - t0);
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_EQ(variant->healthy, p.healthy);
	if (variant->healthy) {
		ASSERT_TRUE(has(&f, "malformed buffer"));
		ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, HANDLE));
		return;
	}
	ASSERT_TRUE(has(&f, "the connection to gpud failed"));
	/* Later calls fail at once, with the same error. */
	t0 = now_ms();
	ASSERT_EQ(variant->error, eiaMemFree(self->dev, HANDLE));
	ASSERT_GT(CLIENT_TIMEOUT_MS / 2, now_ms() - t0);
	f = last();
	ASSERT_EQ(variant->sys_errno, f.sysErrno);
	ASSERT_TRUE(has(&f, "failed earlier"));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_EQ(0, p.healthy);
}

/* The answer to HELLO or CTX_CREATE spoiled: eiaDeviceOpen() fails clearly. */
FIXTURE(bad_open) {
	struct fake f;
	eiaDevice_t dev;
};

FIXTURE_VARIANT(bad_open) {
	uint16_t opcode;
	void (*spoil)(struct out *o);
	bool hang_up;
	eiaError_t error;
	int sys_errno;
	const char *says;
};

#define BAD_HELLO(name_, spoil_, error_, errno_, says_) \
	FIXTURE_VARIANT_ADD(bad_open, name_) { \
		.opcode = EIA_MSG_HELLO, .spoil = spoil_, .error = error_, \
		.sys_errno = errno_, .says = says_, \
	}

/* gpud's HELLO answer spoiled so that libeia must call it malformed. */
#define MALFORMED_HELLO(name_, spoil_) \
	BAD_HELLO(name_, spoil_, EIA_ERROR_PROTOCOL, EPROTO, \
		  "HELLO failed: malformed answer from gpud")

MALFORMED_HELLO(hello_small_max_payload, small_max_payload);
MALFORMED_HELLO(hello_huge_max_payload, huge_max_payload);
MALFORMED_HELLO(hello_unterminated_accel_id, unterminated_accel_id);
MALFORMED_HELLO(hello_unterminated_type, unterminated_type);
MALFORMED_HELLO(hello_wrong_tag, wrong_tag);
MALFORMED_HELLO(hello_wrong_opcode, wrong_opcode);
MALFORMED_HELLO(hello_one_byte_short, one_byte_short);
MALFORMED_HELLO(hello_refused_unterminated, refused_unterminated);
MALFORMED_HELLO(hello_refused_not_errno, refused_not_errno);
BAD_HELLO(hello_refused, refused_no_room, EIA_ERROR_NO_CAPACITY, ENOSPC,
	  "gpud refused HELLO: ENOSPC: no eia2.medium left");
BAD_HELLO(hello_silent, nothing, EIA_ERROR_TIMEOUT, ETIMEDOUT,
	  "HELLO failed: Connection timed out");

FIXTURE_VARIANT_ADD(bad_open, hello_hang_up) {
	.opcode = EIA_MSG_HELLO, .spoil = nothing, .hang_up = true,
	.error = EIA_ERROR_CONNECTION_LOST, .sys_errno = ECONNRESET,
	.says = "HELLO failed: Connection reset by peer",
};

FIXTURE_VARIANT_ADD(bad_open, ctx_zero) {
	.opcode = EIA_MSG_CTX_CREATE, .spoil = ctx_zero,
	.error = EIA_ERROR_PROTOCOL, .sys_errno = EPROTO,
	.says = "CTX_CREATE failed: malformed answer from gpud",
};

FIXTURE_VARIANT_ADD(bad_open, ctx_refused) {
	.opcode = EIA_MSG_CTX_CREATE, .spoil = refused_too_many,
	.error = EIA_ERROR_OUT_OF_RESOURCES, .sys_errno = EMFILE,
	.says = "gpud refused CTX_CREATE: EMFILE",
};

FIXTURE_VARIANT_ADD(bad_open, ctx_garbage) {
	.opcode = EIA_MSG_CTX_CREATE, .spoil = garbage,
	.error = EIA_ERROR_PROTOCOL, .sys_errno = EPROTO,
	.says = "CTX_CREATE failed: malformed answer from gpud",
};

FIXTURE_SETUP(bad_open)
{
	ASSERT_EQ(0, fake_listen(&self->f));
	self->f.batch = 1;
	self->f.m = (struct misdeed){
		.opcode = variant->opcode, .spoil = variant->spoil, .hang_up = variant->hang_up,
	};
	self->dev = NULL;
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	ASSERT_EQ(0, fake_start(&self->f));
}

FIXTURE_TEARDOWN(bad_open)
{
	fake_teardown(_metadata, &self->f, self->dev);
}

TEST_F(bad_open, open_fails)
{
	long long t0 = now_ms();
	eiaFailure f;

	ASSERT_EQ(variant->error, eiaDeviceOpen(&self->dev, self->f.url));
	ASSERT_GT(CLIENT_TIMEOUT_MS * 3, now_ms() - t0);
	ASSERT_EQ(NULL, self->dev);
	f = last();
	ASSERT_EQ(variant->sys_errno, f.sysErrno);
	ASSERT_STREQ("eiaDeviceOpen", f.function);
	ASSERT_TRUE(has(&f, self->f.url));
	ASSERT_TRUE(has(&f, variant->says));
}

TEST_HARNESS_MAIN
