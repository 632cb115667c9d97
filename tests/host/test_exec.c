// SPDX-License-Identifier: MIT
/*
 * gpud running work: contexts, command buffers and operators, driven with
 * raw wire messages over real sockets against the real (ASan/UBSan) gpud.
 * Every command kind with its data checked end to end, every malformed
 * buffer and bad argument, quotas, ordering of pipelined buffers,
 * back-pressure, and connections that go away with work in flight. Every
 * test ends by checking that gpud exits 0, freed all device memory and that
 * its sanitizers reported nothing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cb_util.h"
#include "gpud_util.h"
#include "kselftest_harness.h"

#define WAIT_MS		10000
#define KIB		(1ull << 10)
#define MIB		(1ull << 20)
#define MEDIUM_QUOTA	(1ull << 30)
/* A roomy capacity; "tiny" and "small" types for quota tests and the fuzz. */
#define CONF "capacity memory=1T fp32=1000\n" \
	     "type tiny memory=1M fp32=1 fp16=8\n" \
	     "type small memory=16M fp32=1 fp16=8\n"
#define NONE		EIA_WIRE_NONE_FAILED
/* gpud's bound on a LAUNCH_OP's attributes (GPUD_CB_MAX_ATTR). */
#define MAX_ATTR	4096
/* gpud/sched.h's GPUD_EXECUTORS: executor threads per connection, at most. */
#define GPUD_EXECUTORS_MAX	4

static const char *const two_threads[] = { "--threads", "2", NULL };
static const char *const verbose_two_threads[] = { "--threads", "2", "--verbose", NULL };

static uint64_t last_tag;

static uint64_t tag(void)
{
	return ++last_tag;
}

/* gpud exits 0 on SIGTERM with every byte of device memory freed, and clean. */
static void check_clean_exit(struct __test_metadata *_metadata, struct gpud_proc *g)
{
	int status;

	if (g->pid <= 0)
		return;
	status = gpud_stop(g);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(gpud_log_has(g, "gpud: shutting down ("));
	EXPECT_FALSE(gpud_log_has(g, "still allocated at exit"));
	EXPECT_FALSE(gpud_log_has(g, "not accounted for"));
	EXPECT_TRUE(gpud_sanitizer_clean(g));
	if (!_metadata->passed && g->log)
		TH_LOG("gpud's log (last 6000 bytes):\n%s",
		       g->log + (g->len > 6000 ? g->len - 6000 : 0));
	gpud_free(g);
}

/* Run @b in @ctx; the header status must be 0, @failed the first failure. */
static void run(struct __test_metadata *_metadata, int fd, uint64_t ctx,
		const struct cb *b, uint32_t failed, struct sresp *r)
{
	ASSERT_EQ(0, submit(fd, ctx, b, tag(), r));
	if (r->status)
		TH_LOG("SUBMIT refused: %s: %s", strerrorname_np((int)r->status), r->err);
	ASSERT_EQ(0, r->status);
	ASSERT_EQ(b->ncmds, r->ncmds);
	EXPECT_EQ(failed, r->failed);
}

/* One ALLOC in @ctx; returns the handle. */
static uint64_t alloc(struct __test_metadata *_metadata, int fd, uint64_t ctx,
		      uint64_t bytes)
{
	struct sresp r;
	struct cb b;
	uint64_t h;

	cb_init(&b);
	cb_alloc(&b, bytes);
	run(_metadata, fd, ctx, &b, NONE, &r);
	EXPECT_EQ(0, r.res[0].status);
	h = r.res[0].value;
	EXPECT_NE(0, h);
	sresp_release(&r);
	cb_release(&b);
	return h;
}

/* The accelerator's memory in use, read with an empty buffer. */
static uint64_t memory_used(struct __test_metadata *_metadata, int fd, uint64_t ctx)
{
	struct sresp r;
	struct cb b;
	uint64_t used;

	cb_init(&b);
	cb_fence(&b, 0);
	run(_metadata, fd, ctx, &b, NONE, &r);
	used = r.memory_used;
	sresp_release(&r);
	cb_release(&b);
	return used;
}

/* Expect the header status @err with @text in the message; nothing ran. */
static void expect_refused(struct __test_metadata *_metadata, int fd, uint64_t tag_,
			   int err, const char *text)
{
	struct sresp r;
	struct msg m;

	ASSERT_EQ(0, recv_for(fd, EIA_MSG_SUBMIT, tag_, &m));
	ASSERT_EQ(0, sresp_decode(&m, &r));
	EXPECT_EQ(err, r.status);
	if (!strstr(r.err, text))
		TH_LOG("message '%s' lacks '%s'", r.err, text);
	EXPECT_TRUE(strstr(r.err, text) != NULL);
	EXPECT_EQ(r.m.hdr.payload_len, strlen(r.err) + 1);
	sresp_release(&r);
}

FIXTURE(exec) {
	struct gpud_proc g;
	int fd;
	uint64_t ctx;
};

FIXTURE_SETUP(exec)
{
	self->fd = -1;
	ASSERT_EQ(0, gpud_start(&self->g, CONF, two_threads));
	self->fd = attach(self->g.port, "eia1.medium");
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &self->ctx));
}

FIXTURE_TEARDOWN(exec)
{
	if (self->fd >= 0)
		close(self->fd);
	check_clean_exit(_metadata, &self->g);
}

TEST_F(exec, ctx_create_and_destroy)
{
	uint64_t ids[8], used = 1;
	int i, j;

	EXPECT_NE(0, self->ctx);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, ctx_create(self->fd, tag(), &ids[i]));
		EXPECT_NE(0, ids[i]);
		EXPECT_NE(self->ctx, ids[i]);
		for (j = 0; j < i; j++)
			EXPECT_NE(ids[j], ids[i]);
	}
	alloc(_metadata, self->fd, ids[3], 1000);
	EXPECT_EQ(1000, memory_used(_metadata, self->fd, self->ctx));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, ctx_destroy(self->fd, ids[i], tag(), &used));
		EXPECT_EQ(i < 3 ? 1000 : 0, used);
		/* Gone: a second destroy and a submit are refused. */
		EXPECT_EQ(ENOENT, ctx_destroy(self->fd, ids[i], tag(), &used));
	}
	EXPECT_EQ(ENOENT, ctx_destroy(self->fd, 0, tag(), &used));
	EXPECT_EQ(0, ctx_destroy(self->fd, self->ctx, tag(), &used));
	/* A new one never gets an old id. */
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &self->ctx));
	for (i = 0; i < 8; i++)
		EXPECT_NE(ids[i], self->ctx);
}

TEST_F(exec, ctx_requests_malformed_or_before_hello)
{
	struct eia_wire_ctx c = { .ctx = htole64(self->ctx) };
	unsigned char junk[16] = { 0 };
	struct eia_wire_hdr h;
	struct msg m;
	int fd;

	eia_wire_hdr_pack(&h, EIA_MSG_CTX_CREATE, 0, 0, 10, 8);
	ASSERT_EQ(0, send_raw(self->fd, &h, junk, 8));
	ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_CTX_CREATE, 10, &m));
	EXPECT_EQ(EINVAL, m.hdr.status);
	EXPECT_TRUE(strstr((char *)m.payload, "takes no payload") != NULL);
	msg_release(&m);
	eia_wire_hdr_pack(&h, EIA_MSG_CTX_DESTROY, 0, 0, 11, 16);
	ASSERT_EQ(0, send_raw(self->fd, &h, junk, 16));
	ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_CTX_DESTROY, 11, &m));
	EXPECT_EQ(EINVAL, m.hdr.status);
	EXPECT_TRUE(strstr((char *)m.payload, "payload is 16 bytes, expected 8") != NULL);
	msg_release(&m);

	/* Before HELLO: EPERM for all three, and the stream stays in step. */
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	eia_wire_hdr_pack(&h, EIA_MSG_CTX_CREATE, 0, 0, 12, 0);
	ASSERT_EQ(0, send_raw(fd, &h, NULL, 0));
	eia_wire_hdr_pack(&h, EIA_MSG_CTX_DESTROY, 0, 0, 13, sizeof(c));
	ASSERT_EQ(0, send_raw(fd, &h, &c, sizeof(c)));
	ASSERT_EQ(0, send_submit_raw(fd, self->ctx, 1, 0, 0, junk, 16, 14));
	ASSERT_EQ(0, recv_for(fd, EIA_MSG_CTX_CREATE, 12, &m));
	EXPECT_EQ(EPERM, m.hdr.status);
	EXPECT_STREQ("CTX_CREATE before HELLO", (char *)m.payload);
	msg_release(&m);
	ASSERT_EQ(0, recv_for(fd, EIA_MSG_CTX_DESTROY, 13, &m));
	EXPECT_EQ(EPERM, m.hdr.status);
	msg_release(&m);
	ASSERT_EQ(0, recv_for(fd, EIA_MSG_SUBMIT, 14, &m));
	EXPECT_EQ(EPERM, m.hdr.status);
	EXPECT_STREQ("SUBMIT before HELLO", (char *)m.payload);
	msg_release(&m);
	EXPECT_EQ(0, do_ping(self->fd, 1, 0, 15, &(struct reply){ 0 }));
	close(fd);
}

TEST_F_TIMEOUT(exec, ctx_limit_emfile, 60)
{
	uint64_t id, used, first_new;
	struct msg m;
	int i, ok = 0, emfile = 0;

	/* One exists; 4096 more asked, pipelined: the last is refused. */
	for (i = 0; i < EIA_WIRE_MAX_CTXS; i++)
		ASSERT_EQ(0, eia_wire_send(self->fd, EIA_MSG_CTX_CREATE, 0, 0, 100000 + i,
					   NULL, 0));
	for (i = 0; i < EIA_WIRE_MAX_CTXS; i++) {
		ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_CTX_CREATE, 100000 + i, &m));
		if (m.hdr.status == 0)
			ok++;
		else if (m.hdr.status == EMFILE)
			emfile++;
		if (i == EIA_WIRE_MAX_CTXS - 1) {
			EXPECT_EQ(EMFILE, m.hdr.status);
			EXPECT_TRUE(strstr((char *)m.payload, "at most 4096 contexts") != NULL);
		}
		msg_release(&m);
	}
	EXPECT_EQ(EIA_WIRE_MAX_CTXS - 1, ok);
	EXPECT_EQ(1, emfile);
	/* One goes: room for one more, with a fresh id. */
	ASSERT_EQ(0, ctx_destroy(self->fd, self->ctx, tag(), &used));
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &first_new));
	EXPECT_EQ(EMFILE, ctx_create(self->fd, tag(), &id));
	EXPECT_GT(first_new, self->ctx + EIA_WIRE_MAX_CTXS - 1);
	self->ctx = first_new;
	alloc(_metadata, self->fd, self->ctx, 64);
}

static void pattern(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 8)) & 0xff);
}

TEST_F(exec, h2d_d2h_round_trip)
{
	unsigned char a[1000], z[13] = "thirteen byte", want[1000];
	struct sresp r;
	struct cb b;
	uint64_t h;

	h = alloc(_metadata, self->fd, self->ctx, 4096);
	pattern(a, sizeof(a), 1);
	cb_init(&b);
	cb_h2d(&b, h, 100, a, sizeof(a));
	/* Before a later write: its data is what it saw then. */
	cb_d2h(&b, h, 100, sizeof(a));
	cb_h2d(&b, h, 300, z, sizeof(z));	/* odd size: padded */
	cb_fence(&b, 0xfeedfacecafe);
	cb_d2h(&b, h, 100, sizeof(a));
	cb_d2h(&b, h, 4090, 6);		/* never written: zeros */
	cb_d2h(&b, h, 4096, 0);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	EXPECT_EQ(4096, r.memory_used);
	EXPECT_EQ(0xfeedfacecafe, r.res[3].value);
	EXPECT_EQ(0, r.res[0].value);
	ASSERT_EQ(2 * sizeof(a) + 6, r.data_len);
	EXPECT_EQ(0, memcmp(r.data, a, sizeof(a)));
	memcpy(want, a, sizeof(a));
	memcpy(want + 200, z, sizeof(z));
	EXPECT_EQ(0, memcmp(r.data + sizeof(a), want, sizeof(a)));
	EXPECT_EQ(0, memcmp(r.data + 2 * sizeof(a), "\0\0\0\0\0\0", 6));
	for (unsigned int i = 0; i < r.ncmds; i++) {
		EXPECT_EQ(0, r.res[i].status);
		EXPECT_EQ(0, r.res[i].pad);
	}
	sresp_release(&r);

	/* And in a later buffer. */
	cb_reset(&b);
	cb_d2h(&b, h, 300, sizeof(z));
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	ASSERT_EQ(sizeof(z), r.data_len);
	EXPECT_EQ(0, memcmp(r.data, z, sizeof(z)));
	sresp_release(&r);
	cb_release(&b);
}

TEST_F(exec, d2d_memset_fence)
{
	unsigned char a[256], want[512];
	struct sresp r;
	struct cb b;
	uint64_t x, y;

	x = alloc(_metadata, self->fd, self->ctx, 256);
	y = alloc(_metadata, self->fd, self->ctx, 512);
	pattern(a, sizeof(a), 2);
	cb_init(&b);
	cb_h2d(&b, x, 0, a, sizeof(a));
	cb_memset(&b, y, 0, 512, 0xab);
	cb_d2d(&b, y, 100, x, 16, 200);
	cb_memset(&b, y, 500, 12, 0);
	/* Overlapping, within one allocation: memmove semantics. */
	cb_d2d(&b, x, 8, x, 0, 100);
	cb_fence(&b, 42);
	cb_d2h(&b, y, 0, 512);
	cb_d2h(&b, x, 0, 256);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	EXPECT_EQ(42, r.res[5].value);
	EXPECT_EQ(768, r.memory_used);
	memset(want, 0xab, 512);
	memcpy(want + 100, a + 16, 200);
	memset(want + 500, 0, 12);
	ASSERT_EQ(768, r.data_len);
	EXPECT_EQ(0, memcmp(r.data, want, 512));
	memcpy(want, a, 256);
	memmove(want + 8, want, 100);
	EXPECT_EQ(0, memcmp(r.data + 512, want, 256));
	sresp_release(&r);

	/* 255 is the largest value; 256 is refused. */
	cb_reset(&b);
	cb_memset(&b, x, 0, 4, 255);
	cb_memset(&b, x, 0, 4, 256);
	cb_d2h(&b, x, 0, 4);
	run(_metadata, self->fd, self->ctx, &b, 1, &r);
	EXPECT_EQ(0, r.res[0].status);
	EXPECT_EQ(-EINVAL, r.res[1].status);
	EXPECT_EQ(-ECANCELED, r.res[2].status);
	EXPECT_EQ(0, r.data_len);
	sresp_release(&r);
	cb_release(&b);
}

TEST_F_TIMEOUT(exec, large_copies_on_the_pool, 60)
{
	const size_t n = 8 * MIB;
	unsigned char *a = malloc(n), *want = malloc(n);
	struct sresp r;
	struct cb b;
	uint64_t h;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, want);
	h = alloc(_metadata, self->fd, self->ctx, n);
	pattern(a, n, 3);
	cb_init(&b);
	cb_h2d(&b, h, 0, a, n);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	sresp_release(&r);

	/* An overlapping move of 4 MiB, then 8 MiB back. */
	cb_reset(&b);
	cb_d2d(&b, h, 1000, h, 0, 4 * MIB);
	cb_d2h(&b, h, 0, n);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	memcpy(want, a, n);
	memmove(want + 1000, want, 4 * MIB);
	ASSERT_EQ(n, r.data_len);
	EXPECT_EQ(0, memcmp(r.data, want, n));
	sresp_release(&r);

	/* A fill of 6 MiB, read before and after a later write. */
	cb_reset(&b);
	cb_memset(&b, h, MIB, 6 * MIB, 0x5a);
	cb_d2h(&b, h, 0, 2 * MIB);
	cb_memset(&b, h, 0, MIB, 0);
	cb_d2h(&b, h, 0, 2 * MIB);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	memset(want + MIB, 0x5a, 6 * MIB);
	ASSERT_EQ(4 * MIB, r.data_len);
	EXPECT_EQ(0, memcmp(r.data, want, 2 * MIB));
	memset(want, 0, MIB);
	EXPECT_EQ(0, memcmp(r.data + 2 * MIB, want, 2 * MIB));
	sresp_release(&r);
	cb_release(&b);
	free(a);
	free(want);
}

static float val(int i, int salt)
{
	return (float)((i * 7 + salt * 3) % 11 - 5) / 4.0f;
}

static bool close_enough(float got, double want)
{
	return fabs(got - want) <= 1e-4 * (1 + fabs(want));
}

TEST_F(exec, gemm_and_add_match_reference)
{
	enum { M = 3, K = 4, N = 5 };
	struct eia_gemm_attr ga = { .alpha = 0.5f, .beta = 2.0f, .trans_b = 1 };
	float A[M * K], Bt[N * K], C[N], Y[M * N], X[2 * 3], V[3], S[2 * 3];
	struct eia_cb_tensor t[4];
	struct sresp r;
	struct cb b;
	uint64_t h;
	int i, j, k;

	for (i = 0; i < M * K; i++)
		A[i] = val(i, 1);
	for (i = 0; i < N * K; i++)
		Bt[i] = val(i, 2);
	for (i = 0; i < N; i++)
		C[i] = val(i, 3);
	for (i = 0; i < 6; i++)
		X[i] = val(i, 4);
	for (i = 0; i < 3; i++)
		V[i] = val(i, 5) + 10;

	h = alloc(_metadata, self->fd, self->ctx, 4096);
	cb_init(&b);
	cb_h2d(&b, h, 0, A, sizeof(A));
	cb_h2d(&b, h, 256, Bt, sizeof(Bt));
	cb_h2d(&b, h, 512, C, sizeof(C));
	/* Gemm: A (3x4) times B^T (B stored 5x4) plus 2 C broadcast over rows. */
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ M, K });
	t[1] = tensor(h, 256, EIA_DTYPE_F32, 2, (int64_t[]){ N, K });
	t[2] = tensor(h, 512, EIA_DTYPE_F32, 1, (int64_t[]){ N });
	t[3] = tensor(h, 1024, EIA_DTYPE_F32, 2, (int64_t[]){ M, N });
	cb_launch(&b, EIA_OP_GEMM, t, 3, 1, &ga, sizeof(ga));
	cb_d2h(&b, h, 1024, sizeof(Y));
	/* Add: X (2x3) + V (3), broadcast; then Relu in place. */
	cb_h2d(&b, h, 2048, X, sizeof(X));
	cb_h2d(&b, h, 2304, V, sizeof(V));
	t[0] = tensor(h, 2048, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
	t[1] = tensor(h, 2304, EIA_DTYPE_F32, 1, (int64_t[]){ 3 });
	t[2] = tensor(h, 2560, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
	cb_launch(&b, EIA_OP_ADD, t, 2, 1, NULL, 0);
	cb_d2h(&b, h, 2560, sizeof(S));
	t[0] = tensor(h, 2048, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
	t[1] = t[0];
	cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0);
	cb_d2h(&b, h, 2048, sizeof(X));
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	ASSERT_EQ(sizeof(Y) + sizeof(S) + sizeof(X), r.data_len);

	memcpy(Y, r.data, sizeof(Y));
	for (i = 0; i < M; i++)
		for (j = 0; j < N; j++) {
			double want = 2.0 * C[j];

			for (k = 0; k < K; k++)
				want += 0.5 * A[i * K + k] * Bt[j * K + k];
			if (!close_enough(Y[i * N + j], want))
				TH_LOG("Y[%d][%d] = %g, want %g", i, j, Y[i * N + j], want);
			EXPECT_TRUE(close_enough(Y[i * N + j], want));
		}
	memcpy(S, r.data + sizeof(Y), sizeof(S));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			EXPECT_TRUE(close_enough(S[i * 3 + j], (double)X[i * 3 + j] + V[j]));
	memcpy(S, r.data + sizeof(Y) + sizeof(S), sizeof(S));
	for (i = 0; i < 6; i++)
		EXPECT_TRUE(close_enough(S[i], X[i] > 0 ? X[i] : 0));
	sresp_release(&r);
	cb_release(&b);
}

/* Queue @b on queue @queue of @ctx, without waiting. */
static void send_on(struct __test_metadata *_metadata, int fd, uint64_t ctx,
		    const struct cb *b, uint16_t queue, uint64_t t)
{
	ASSERT_EQ(0, send_submit_raw(fd, ctx, b->ncmds, queue, 0, b->buf, b->len, t));
}

/*
 * The tag of the next response, which must be a SUBMIT's whose commands all
 * succeeded; any D2H data must be floats equal to @want.
 */
static uint64_t next_done(struct __test_metadata *_metadata, int fd, float want)
{
	struct sresp r;
	struct msg m;
	uint64_t t = 0;
	size_t i;
	int ret;

	ret = recv_msg(fd, &m);
	EXPECT_EQ(0, ret);
	if (ret)
		return 0;
	ret = sresp_decode(&m, &r);
	EXPECT_EQ(0, ret);
	if (ret)
		return 0;
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(NONE, r.failed);
	for (i = 0; i + sizeof(float) <= r.data_len; i += sizeof(float)) {
		float f;

		memcpy(&f, r.data + i, sizeof(f));
		EXPECT_EQ(want, f);
	}
	t = r.tag;
	sresp_release(&r);
	return t;
}

/*
 * Queues of one context run side by side: a quick buffer on one overtakes
 * a long one on another. Each queue keeps its own order, and a buffer that
 * frees is a barrier: it waits for what came before it on every queue, and
 * what comes after it waits for it.
 */
TEST_F(exec, queues_run_side_by_side_barriers_between)
{
	enum { N = 384, REPS = 24 };
	const size_t mat = (size_t)N * N * sizeof(float);
	struct eia_cb_tensor t[3];
	struct cb lng, quick, frees;
	uint64_t h, spare;
	float *ones;
	size_t i;
	int k;

	ones = malloc(mat);
	ASSERT_NE(NULL, ones);
	for (i = 0; i < (size_t)N * N; i++)
		ones[i] = 1.0f;
	h = alloc(_metadata, self->fd, self->ctx, 3 * mat);
	spare = alloc(_metadata, self->fd, self->ctx, 64);
	cb_init(&lng);
	cb_h2d(&lng, h, 0, ones, mat);
	cb_h2d(&lng, h, mat, ones, mat);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	t[1] = tensor(h, mat, EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	t[2] = tensor(h, 2 * mat, EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	for (k = 0; k < REPS; k++)
		cb_launch(&lng, EIA_OP_MATMUL, t, 2, 1, NULL, 0);
	cb_d2h(&lng, h, 2 * mat, 64);	/* every element: N ones times N ones */
	cb_init(&quick);
	cb_fence(&quick, 1);
	cb_init(&frees);
	cb_free(&frees, spare);

	/* Another queue overtakes. */
	send_on(_metadata, self->fd, self->ctx, &lng, 1, 100);
	send_on(_metadata, self->fd, self->ctx, &quick, 2, 101);
	EXPECT_EQ(101, next_done(_metadata, self->fd, N));
	EXPECT_EQ(100, next_done(_metadata, self->fd, N));
	/* The same queue does not. */
	send_on(_metadata, self->fd, self->ctx, &lng, 1, 102);
	send_on(_metadata, self->fd, self->ctx, &quick, 1, 103);
	EXPECT_EQ(102, next_done(_metadata, self->fd, N));
	EXPECT_EQ(103, next_done(_metadata, self->fd, N));
	/* A free waits for the long buffer; a fence after it waits for the free. */
	send_on(_metadata, self->fd, self->ctx, &lng, 1, 104);
	send_on(_metadata, self->fd, self->ctx, &frees, 2, 105);
	send_on(_metadata, self->fd, self->ctx, &quick, 3, 106);
	EXPECT_EQ(104, next_done(_metadata, self->fd, N));
	EXPECT_EQ(105, next_done(_metadata, self->fd, N));
	EXPECT_EQ(106, next_done(_metadata, self->fd, N));
	EXPECT_EQ(3 * mat, memory_used(_metadata, self->fd, self->ctx));
	cb_release(&frees);
	cb_release(&quick);
	cb_release(&lng);
	free(ones);
}

/* One malformed buffer: how it is built, and what the message must say. */
struct bad_case {
	const char *name;
	void (*build)(struct cb *b, uint64_t h, uint32_t *ncmds, uint32_t *flags);
	const char *msg;
};

static void bad_ncmds_more(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_alloc(b, 64);
	cb_fence(b, 1);
	*n = 3;
}

static void bad_ncmds_fewer(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_alloc(b, 64);
	cb_fence(b, 1);
	*n = 1;
}

static void bad_ncmds_zero(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_fence(b, 1);
	*n = 0;
}

static void bad_ncmds_huge(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_fence(b, 1);
	*n = EIA_CB_MAX_CMDS + 1;
}

static void bad_submit_flags(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_alloc(b, 64);
	*f = 1;
}

static void bad_size_unaligned(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_hdr *c;

	cb_alloc(b, 64);
	c = cb_at(b, cb_fence(b, 1));
	c->size = 12;
}

static void bad_size_wrong(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_hdr *c;

	cb_alloc(b, 64);
	c = cb_at(b, cb_fence(b, 1));
	c->size = 24;
	cb_put(b, NULL, 8);
}

static void bad_cmd_flags(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_hdr *c;

	cb_alloc(b, 64);
	c = cb_at(b, cb_fence(b, 1));
	c->flags = 0x8000;
}

static void bad_op(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_hdr *c;

	cb_alloc(b, 64);
	c = cb_at(b, cb_fence(b, 1));
	c->op = 13;
}

static void bad_op_zero(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_hdr *c = cb_at(b, cb_fence(b, 1));

	c->op = 0;
}

static void bad_h2d_truncated(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	unsigned char data[64] = { 1 };
	struct eia_cb_copy *c;

	cb_alloc(b, 64);
	c = cb_at(b, cb_h2d(b, h, 0, data, sizeof(data)));
	c->bytes = 100;
}

static void bad_h2d_padding(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	unsigned char data[5] = { 1, 2, 3, 4, 5 };

	cb_alloc(b, 64);
	cb_h2d(b, h, 0, data, sizeof(data));
	b->buf[b->len - 1] = 0x11;
}

static void bad_h2d_src(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	unsigned char data[8] = { 1 };
	struct eia_cb_copy *c;

	c = cb_at(b, cb_h2d(b, h, 0, data, sizeof(data)));
	c->src = 0x7fff0000;
}

/*
 * Lone COPY_H2Ds, whose data gpud may receive straight into device memory:
 * 64 bytes that would fit the destination, were the buffer well formed.
 */
static const unsigned char lone_data[64] = "never to be written: the buffer is malformed";

static void bad_lone_h2d_flags(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_copy *c = cb_at(b, cb_h2d(b, h, 0, lone_data, sizeof(lone_data)));

	c->hdr.flags = 1;
}

static void bad_lone_h2d_src(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_copy *c = cb_at(b, cb_h2d(b, h, 0, lone_data, sizeof(lone_data)));

	c->src_offset = 8;
}

static void bad_lone_h2d_size(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_copy *c = cb_at(b, cb_h2d(b, h, 0, lone_data, sizeof(lone_data)));

	c->hdr.size = sizeof(*c) + 8;
}

static void bad_lone_h2d_padding(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_h2d(b, h, 0, lone_data, 61);
	b->buf[b->len - 1] = 0x11;
}

static void bad_lone_h2d_ncmds(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_h2d(b, h, 0, lone_data, sizeof(lone_data));
	*n = 2;
}

static void bad_lone_h2d_short(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_h2d(b, h, 0, lone_data, sizeof(lone_data));
	b->len -= 8;
}

static void bad_lone_h2d_trailing(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_h2d(b, h, 0, lone_data, sizeof(lone_data));
	cb_put(b, NULL, 8);
}

static void bad_lone_h2d_submit_flags(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_h2d(b, h, 0, lone_data, sizeof(lone_data));
	*f = 2;
}

static void bad_d2h_dst(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_copy *c = cb_at(b, cb_d2h(b, h, 0, 8));

	c->dst_offset = 8;
}

static void bad_memset_pad(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_memset *c = cb_at(b, cb_memset(b, h, 0, 8, 1));

	c->pad = 1;
}

static const int64_t dims4[] = { 4 };

static void bad_launch_pad(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims4),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims4) };
	struct eia_cb_launch_op *c = cb_at(b, cb_launch(b, EIA_OP_RELU, t, 1, 1, NULL, 0));

	c->pad = 2;
}

static void bad_launch_too_many(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	static struct eia_cb_tensor t[66];
	int i;

	for (i = 0; i < 66; i++)
		t[i] = tensor(h, 0, EIA_DTYPE_F32, 1, dims4);
	cb_launch(b, EIA_OP_CONCAT, t, 65, 1, &(struct eia_axis_attr){ 0 },
		  sizeof(struct eia_axis_attr));
}

static void bad_launch_ndim(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims4),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims4) };

	t[1].ndim = 9;
	cb_launch(b, EIA_OP_RELU, t, 1, 1, NULL, 0);
}

static void bad_launch_dims_tail(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims4),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims4) };

	t[0].dims[7] = 1;
	cb_launch(b, EIA_OP_RELU, t, 1, 1, NULL, 0);
}

static void bad_launch_attr_size(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	static unsigned char attr[5000];
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims4),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims4) };

	cb_launch(b, EIA_OP_RELU, t, 1, 1, attr, sizeof(attr));
}

static void bad_launch_size(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims4),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims4) };
	struct eia_cb_launch_op *c = cb_at(b, cb_launch(b, EIA_OP_RELU, t, 1, 1, NULL, 0));

	c->noutputs = 0;	/* the size still counts two tensors */
}

static void bad_launch_past_end(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims4),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims4) };

	cb_launch(b, EIA_OP_RELU, t, 1, 1, NULL, 0);
	b->len -= sizeof(t[1]);
}

static void bad_launch_attr_padding(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims4),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims4) };
	uint32_t attr = 0;

	cb_launch(b, EIA_OP_RELU, t, 1, 1, &attr, sizeof(attr));
	b->buf[b->len - 1] = 1;
}

static void bad_too_many_bytes(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	static struct eia_cb_tensor t[128];
	static unsigned char attr[MAX_ATTR];
	int i;

	for (i = 0; i < 128; i++)
		t[i] = tensor(h, 0, EIA_DTYPE_F32, 1, dims4);
	/* 24 + 128 * 88 + 4096 bytes each: 69 of them pass 1 MiB. */
	for (i = 0; i < 69; i++)
		cb_launch(b, EIA_OP_SPLIT, t, 64, 64, attr, sizeof(attr));
}

static void bad_trailing_bytes(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_fence(b, 1);
	cb_put(b, NULL, 8);
}

static const char ptx[] = ".version 7.0\n.target sm_80\n.address_size 64\n";

static void bad_module_image(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_module_load *c = cb_at(b, cb_module_load(b, ptx, sizeof(ptx) - 1));

	c->image = 0x1000;	/* a user address leaked onto the wire */
}

static void bad_module_empty(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_module_load(b, NULL, 0);
}

static void bad_module_truncated(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_module_load *c = cb_at(b, cb_module_load(b, ptx, 16));

	c->bytes = 100;
}

static void bad_module_padding(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_module_load(b, ptx, 13);
	b->buf[b->len - 1] = 1;
}

static void bad_function_name_len(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_get_function(b, h, "", 0);
}

static void bad_function_name_nul(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_get_function(b, h, "va\0dd", 5);
}

static void bad_function_name_padding(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	cb_get_function(b, h, "vadd", 4);
	b->buf[b->len - 1] = 'x';
}

static void bad_function_size(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_module_get_function *c = cb_at(b, cb_get_function(b, h, "vadd", 4));

	c->name_len = 9;	/* the size holds 8 bytes of name */
}

static void bad_kernel_grid(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_launch_kernel *c = cb_at(b, cb_launch_kernel(b, h, NULL, 0, NULL, 0));

	c->grid[2] = 0;
}

static void bad_kernel_params(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	static unsigned char params[EIA_CB_KERNEL_PARAMS_MAX + 8];

	cb_launch_kernel(b, h, NULL, 0, params, sizeof(params));
}

static void bad_kernel_ptr(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_kernel_ptr p = { .param_offset = 8, .handle = h };
	uint64_t params[2] = { 0 };

	cb_launch_kernel(b, h, &p, 1, params, 12);	/* 8 + 8 > 12 */
}

static void bad_kernel_size(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_launch_kernel *c = cb_at(b, cb_launch_kernel(b, h, NULL, 0, NULL, 0));

	c->nptrs = 1;
}

static void bad_function_pad(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_module_get_function *c = cb_at(b, cb_get_function(b, h, "vadd", 4));

	c->pad = 1;
}

static void bad_kernel_ptr_unaligned(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_kernel_ptr p = { .param_offset = 4, .handle = h };
	uint64_t params[2] = { 0 };

	cb_launch_kernel(b, h, &p, 1, params, sizeof(params));
}

static void bad_kernel_ptr_pad(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_kernel_ptr p = { .param_offset = 0, .pad = 1, .handle = h };
	uint64_t params[2] = { 0 };

	cb_launch_kernel(b, h, &p, 1, params, sizeof(params));
}

static void bad_kernel_param_padding(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	uint32_t param = 7;

	cb_launch_kernel(b, h, NULL, 0, &param, sizeof(param));
	b->buf[b->len - 1] = 1;
}

static void bad_kernel_pad(struct cb *b, uint64_t h, uint32_t *n, uint32_t *f)
{
	struct eia_cb_launch_kernel *c = cb_at(b, cb_launch_kernel(b, h, NULL, 0, NULL, 0));

	c->pad = 1;
}

static const struct bad_case bad_cases[] = {
	{ "module image", bad_module_image, "(MODULE_LOAD): image must be 0 on the wire" },
	{ "module empty", bad_module_empty, "(MODULE_LOAD): an empty image" },
	{ "module truncated", bad_module_truncated, "100 bytes of image, only 16 left" },
	{ "module padding", bad_module_padding, "(MODULE_LOAD): image padding must be 0" },
	{ "name of 0", bad_function_name_len, "name of 0 bytes, 1..1024 allowed" },
	{ "name with NUL", bad_function_name_nul, "(MODULE_GET_FUNCTION): the name holds a NUL" },
	{ "name padding", bad_function_name_padding, "name padding must be 0" },
	{ "name size", bad_function_size, "expected 40 for a name of 9 bytes" },
	{ "grid 0", bad_kernel_grid, "grid 1x1x0, block 32x1x1: each at least 1" },
	{ "params 4104", bad_kernel_params, "4104 parameter bytes and 0 pointers, at most 4096 and 64" },
	{ "ptr outside", bad_kernel_ptr, "pointer 0 at parameter offset 8: must be 8-aligned, inside 12" },
	{ "kernel size", bad_kernel_size, "expected 80 for 1 pointers and 0 parameter bytes" },
	{ "kernel pad", bad_kernel_pad, "command 0 (LAUNCH_KERNEL): pad must be 0" },
	{ "function pad", bad_function_pad, "command 0 (MODULE_GET_FUNCTION): pad must be 0" },
	{ "ptr unaligned", bad_kernel_ptr_unaligned, "pointer 0 at parameter offset 4" },
	{ "ptr pad", bad_kernel_ptr_pad, "pointer 0 at parameter offset 0" },
	{ "param padding", bad_kernel_param_padding, "(LAUNCH_KERNEL): parameter padding must be 0" },
	{ "ncmds more", bad_ncmds_more, "the buffer ends after 2 of 3 commands" },
	{ "ncmds fewer", bad_ncmds_fewer, "16 bytes after the last of 1 commands" },
	{ "ncmds 0", bad_ncmds_zero, "ncmds 0 is not in 1..4096" },
	{ "ncmds 4097", bad_ncmds_huge, "ncmds 4097 is not in 1..4096" },
	{ "submit flags", bad_submit_flags, "SUBMIT flags must be 0" },
	{ "unaligned size", bad_size_unaligned, "command 1 (FENCE): size 12 is not a multiple of 8" },
	{ "wrong size", bad_size_wrong, "command 1 (FENCE): size is 24, expected 16" },
	{ "command flags", bad_cmd_flags, "command 1 (FENCE): flags must be 0" },
	{ "unknown op", bad_op, "command 1: unknown op 13" },
	{ "op 0", bad_op_zero, "command 0: unknown op 0" },
	{ "truncated H2D data", bad_h2d_truncated, "100 bytes of data, only 64 left" },
	{ "H2D padding", bad_h2d_padding, "command 1 (COPY_H2D): data padding must be 0" },
	{ "H2D src", bad_h2d_src, "src and src_offset must be 0 on the wire" },
	{ "lone H2D flags", bad_lone_h2d_flags, "command 0 (COPY_H2D): flags must be 0" },
	{ "lone H2D src_offset", bad_lone_h2d_src, "src and src_offset must be 0 on the wire" },
	{ "lone H2D size", bad_lone_h2d_size, "command 0 (COPY_H2D): size is 56, expected 48" },
	{ "lone H2D padding", bad_lone_h2d_padding, "command 0 (COPY_H2D): data padding must be 0" },
	{ "lone H2D ncmds 2", bad_lone_h2d_ncmds, "the buffer ends after 1 of 2 commands" },
	{ "lone H2D short", bad_lone_h2d_short, "64 bytes of data, only 56 left" },
	{ "lone H2D trailing", bad_lone_h2d_trailing, "8 bytes after the last of 1 commands" },
	{ "lone H2D submit flags", bad_lone_h2d_submit_flags, "SUBMIT flags must be 0" },
	{ "D2H dst", bad_d2h_dst, "dst and dst_offset must be 0 on the wire" },
	{ "MEMSET pad", bad_memset_pad, "command 0 (MEMSET): pad must be 0" },
	{ "LAUNCH pad", bad_launch_pad, "command 0 (LAUNCH_OP): pad must be 0" },
	{ "65 tensors", bad_launch_too_many, "65 inputs and 1 outputs, at most 64 each" },
	{ "ndim 9", bad_launch_ndim, "tensor 1 has 9 dims, at most 8" },
	{ "dims past ndim", bad_launch_dims_tail, "tensor 0 has dims past ndim 1" },
	{ "attr_size", bad_launch_attr_size, "attr_size 5000 over 4096" },
	{ "LAUNCH size", bad_launch_size, "expected 112 for 1 tensors" },
	{ "LAUNCH past end", bad_launch_past_end, "(LAUNCH_OP) runs past the end" },
	{ "attr padding", bad_launch_attr_padding, "attribute padding must be 0" },
	{ "over 1 MiB", bad_too_many_bytes, "commands exceed 1048576 bytes" },
	{ "trailing bytes", bad_trailing_bytes, "8 bytes after the last of 1 commands" },
};

TEST_F(exec, malformed_buffers_refused_whole)
{
	static const unsigned char junk64[64];
	unsigned char junk[8] = { 0 };
	struct sresp r;
	struct eia_wire_hdr hdr;
	uint32_t ncmds, flags;
	unsigned int i;
	struct cb b;
	uint64_t h, t;

	h = alloc(_metadata, self->fd, self->ctx, 64);
	cb_init(&b);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		cb_reset(&b);
		ncmds = 0;
		flags = 0;
		bad_cases[i].build(&b, h, &ncmds, &flags);
		if (!ncmds && strcmp(bad_cases[i].name, "ncmds 0"))
			ncmds = b.ncmds;
		t = tag();
		ASSERT_EQ(0, send_submit_raw(self->fd, self->ctx, ncmds, 0, (uint16_t)flags, b.buf,
					     b.len, t));
		expect_refused(_metadata, self->fd, t, EINVAL, bad_cases[i].msg);
		if (!_metadata->passed) {
			TH_LOG("failed at case '%s'", bad_cases[i].name);
			break;
		}
	}
	/* A queue past the context's last. */
	cb_reset(&b);
	cb_alloc(&b, 64);
	ASSERT_EQ(0, send_submit_raw(self->fd, self->ctx, 1, EIA_CB_QUEUES, 0, b.buf, b.len, 78));
	expect_refused(_metadata, self->fd, 78, EINVAL, "queue 8 is not in 0..7");
	/* The same for a lone COPY_H2D, whose data gpud may receive in place. */
	cb_reset(&b);
	cb_h2d(&b, h, 0, lone_data, sizeof(lone_data));
	ASSERT_EQ(0, send_submit_raw(self->fd, self->ctx, 1, EIA_CB_QUEUES, 0, b.buf, b.len, 79));
	expect_refused(_metadata, self->fd, 79, EINVAL, "queue 8 is not in 0..7");
	/* Shorter than struct eia_wire_submit. */
	eia_wire_hdr_pack(&hdr, EIA_MSG_SUBMIT, 0, 0, 77, sizeof(junk));
	ASSERT_EQ(0, send_raw(self->fd, &hdr, junk, sizeof(junk)));
	expect_refused(_metadata, self->fd, 77, EINVAL, "SUBMIT payload is 8 bytes, at least 16");
	/* Nothing ran: none of their allocations happened, none of their data landed. */
	EXPECT_EQ(64, memory_used(_metadata, self->fd, self->ctx));
	cb_reset(&b);
	cb_d2h(&b, h, 0, 64);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	ASSERT_EQ(64, r.data_len);
	EXPECT_EQ(0, memcmp(r.data, junk64, 64));
	sresp_release(&r);
	cb_release(&b);
}

/*
 * The CPU backend has no raw modules: each such command fails with
 * EOPNOTSUPP, cancels the rest of its buffer, and charges nothing.
 */
TEST_F(exec, raw_modules_eopnotsupp_on_cpu)
{
	struct eia_cb_kernel_ptr p;
	uint64_t params[2] = { 0 };
	struct sresp r;
	struct cb b;
	uint64_t h;
	int k;

	h = alloc(_metadata, self->fd, self->ctx, 64);
	p = (struct eia_cb_kernel_ptr){ .param_offset = 0, .handle = h };
	cb_init(&b);
	for (k = 0; k < 4; k++) {
		cb_reset(&b);
		cb_fence(&b, 5);
		if (k == 0)
			cb_module_load(&b, ptx, sizeof(ptx) - 1);
		else if (k == 1)
			cb_module_unload(&b, h);
		else if (k == 2)
			cb_get_function(&b, h, "vadd", 4);
		else
			cb_launch_kernel(&b, h, &p, 1, params, sizeof(params));
		cb_memset(&b, h, 0, 64, 7);
		run(_metadata, self->fd, self->ctx, &b, 1, &r);
		ASSERT_EQ(0, r.res[0].status);
		ASSERT_EQ(5, r.res[0].value);
		ASSERT_EQ(-EOPNOTSUPP, r.res[1].status);
		ASSERT_EQ(0, r.res[1].value);
		ASSERT_EQ(-ECANCELED, r.res[2].status);
		sresp_release(&r);
	}
	/* The memsets never ran, and nothing but the allocation is charged. */
	EXPECT_EQ(64, memory_used(_metadata, self->fd, self->ctx));
	cb_reset(&b);
	cb_d2h(&b, h, 0, 8);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	ASSERT_EQ(8, r.data_len);
	EXPECT_EQ(0, r.data[0]);
	sresp_release(&r);
	cb_release(&b);
}

TEST_F(exec, unknown_context_enoent)
{
	uint64_t other_ctx, used;
	struct cb b;
	uint64_t t;
	int other;

	other = attach(self->g.port, "eia1.medium");
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, ctx_create(other, tag(), &other_ctx));
	cb_init(&b);
	cb_alloc(&b, 64);
	t = tag();
	ASSERT_EQ(0, send_submit(self->fd, 0, &b, t));
	expect_refused(_metadata, self->fd, t, ENOENT, "no context 0 on this connection");
	t = tag();
	ASSERT_EQ(0, send_submit(self->fd, self->ctx + 1000, &b, t));
	expect_refused(_metadata, self->fd, t, ENOENT, "no context");
	/* Another connection's context is not this one's. */
	ASSERT_NE(other_ctx, self->ctx);
	t = tag();
	ASSERT_EQ(0, send_submit(self->fd, other_ctx, &b, t));
	expect_refused(_metadata, self->fd, t, ENOENT, "no context");
	EXPECT_EQ(ENOENT, ctx_destroy(self->fd, other_ctx, tag(), &used));
	/* Destroyed: its id is unknown from then on. */
	ASSERT_EQ(0, ctx_destroy(other, other_ctx, tag(), &used));
	t = tag();
	ASSERT_EQ(0, send_submit(other, other_ctx, &b, t));
	expect_refused(_metadata, other, t, ENOENT, "no context");
	EXPECT_EQ(0, memory_used(_metadata, self->fd, self->ctx));
	close(other);
	cb_release(&b);
}

/* Expect @b to fail at command 0 with @err, the rest cancelled. */
static void expect_cmd_error(struct __test_metadata *_metadata, int fd, uint64_t ctx,
			     struct cb *b, int err)
{
	struct sresp r;
	unsigned int i;

	run(_metadata, fd, ctx, b, 0, &r);
	EXPECT_EQ(err, r.res[0].status);
	EXPECT_EQ(0, r.res[0].value);
	for (i = 1; i < r.ncmds; i++)
		EXPECT_EQ(-ECANCELED, r.res[i].status);
	EXPECT_EQ(0, r.data_len);
	sresp_release(&r);
}

/* Each handle in @bad is refused by every command that takes a handle. */
static void expect_handles_refused(struct __test_metadata *_metadata, int fd,
				   uint64_t ctx, uint64_t good, const uint64_t *bad,
				   unsigned int nbad)
{
	struct eia_cb_tensor t[2];
	unsigned char d[8] = { 0 };
	unsigned int i;
	struct cb b;

	cb_init(&b);
	for (i = 0; i < nbad; i++) {
		cb_reset(&b);
		cb_d2h(&b, bad[i], 0, 8);
		cb_fence(&b, 1);
		expect_cmd_error(_metadata, fd, ctx, &b, -ENOENT);
		cb_reset(&b);
		cb_h2d(&b, bad[i], 0, d, 8);
		expect_cmd_error(_metadata, fd, ctx, &b, -ENOENT);
		cb_reset(&b);
		cb_d2d(&b, good, 0, bad[i], 0, 8);
		expect_cmd_error(_metadata, fd, ctx, &b, -ENOENT);
		cb_reset(&b);
		cb_d2d(&b, bad[i], 0, good, 0, 8);
		expect_cmd_error(_metadata, fd, ctx, &b, -ENOENT);
		cb_reset(&b);
		cb_memset(&b, bad[i], 0, 8, 0);
		expect_cmd_error(_metadata, fd, ctx, &b, -ENOENT);
		cb_reset(&b);
		t[0] = tensor(good, 0, EIA_DTYPE_F32, 1, dims4);
		t[1] = tensor(bad[i], 0, EIA_DTYPE_F32, 1, dims4);
		cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0);
		expect_cmd_error(_metadata, fd, ctx, &b, -ENOENT);
		cb_reset(&b);
		cb_free(&b, bad[i]);
		expect_cmd_error(_metadata, fd, ctx, &b, -ENOENT);
		if (!_metadata->passed) {
			TH_LOG("failed at handle %#llx", (unsigned long long)bad[i]);
			break;
		}
	}
	cb_release(&b);
}

TEST_F(exec, bad_foreign_and_freed_handles_enoent)
{
	uint64_t ctx2, ctx3, a, a2, own, mine, theirs, used, bad[8];
	unsigned char d[8] = "8 bytes";
	struct sresp r;
	struct cb b;
	int other;

	ASSERT_EQ(0, ctx_create(self->fd, tag(), &ctx2));
	other = attach(self->g.port, "eia1.medium");
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, ctx_create(other, tag(), &ctx3));
	own = alloc(_metadata, self->fd, self->ctx, 64);
	a = alloc(_metadata, self->fd, self->ctx, 64);
	mine = alloc(_metadata, self->fd, ctx2, 64);
	theirs = alloc(_metadata, other, ctx3, 64);
	bad[0] = mine;				/* same connection, other context */
	bad[1] = theirs;			/* other connection */
	bad[2] = 0;
	bad[3] = 0x123456789abcdefull;
	bad[4] = a ^ (1ull << 16);		/* another generation */
	bad[5] = a ^ (1ull << 40);		/* another context's tag */
	bad[6] = a + 1;				/* a slot never used */
	bad[7] = UINT64_MAX;
	expect_handles_refused(_metadata, self->fd, self->ctx, own, bad, 8);

	/* Freed: refused, and stays refused after its slot is reused. */
	cb_init(&b);
	cb_free(&b, a);
	cb_alloc(&b, 64);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	a2 = r.res[1].value;
	EXPECT_NE(a, a2);
	EXPECT_EQ(a & 0xffff, a2 & 0xffff);	/* the same slot, reused */
	sresp_release(&r);
	expect_handles_refused(_metadata, self->fd, self->ctx, own, &a, 1);

	/* The owners' handles all still work. */
	cb_reset(&b);
	cb_h2d(&b, mine, 0, d, 8);
	cb_d2h(&b, mine, 0, 8);
	run(_metadata, self->fd, ctx2, &b, NONE, &r);
	EXPECT_EQ(0, memcmp(r.data, d, 8));
	sresp_release(&r);
	cb_reset(&b);
	cb_h2d(&b, theirs, 0, d, 8);
	cb_d2h(&b, theirs, 0, 8);
	run(_metadata, other, ctx3, &b, NONE, &r);
	EXPECT_EQ(0, memcmp(r.data, d, 8));
	EXPECT_EQ(64, r.memory_used);
	sresp_release(&r);
	EXPECT_EQ(192, memory_used(_metadata, self->fd, self->ctx));
	ASSERT_EQ(0, ctx_destroy(self->fd, ctx2, tag(), &used));
	EXPECT_EQ(128, used);
	close(other);
	cb_release(&b);
}

TEST_F(exec, out_of_range_erange)
{
	unsigned char d[32] = { 0 };
	struct eia_cb_tensor t[2];
	struct sresp r;
	struct cb b;
	uint64_t h, g;

	h = alloc(_metadata, self->fd, self->ctx, 100);
	g = alloc(_metadata, self->fd, self->ctx, 200);
	cb_init(&b);
#define EXPECT_RANGE(stmt)						\
	do {								\
		cb_reset(&b);						\
		stmt;							\
		cb_fence(&b, 9);					\
		expect_cmd_error(_metadata, self->fd, self->ctx, &b, -ERANGE); \
	} while (0)
	EXPECT_RANGE(cb_h2d(&b, h, 90, d, 20));
	EXPECT_RANGE(cb_h2d(&b, h, UINT64_MAX - 8, d, 16));
	EXPECT_RANGE(cb_d2h(&b, h, 101, 0));
	EXPECT_RANGE(cb_d2h(&b, h, 0, 101));
	EXPECT_RANGE(cb_d2h(&b, h, UINT64_MAX - 3, 8));
	EXPECT_RANGE(cb_d2h(&b, h, 8, 93));
	EXPECT_RANGE(cb_d2d(&b, g, 0, h, 50, 60));
	EXPECT_RANGE(cb_d2d(&b, h, 50, g, 0, 60));
	EXPECT_RANGE(cb_d2d(&b, g, UINT64_MAX, h, 0, 1));
	EXPECT_RANGE(cb_memset(&b, h, 50, 51, 1));
	EXPECT_RANGE(cb_memset(&b, h, 0, UINT64_MAX, 1));
	/* A tensor of 30 floats (120 bytes) in 100, and one past the end. */
	t[0] = tensor(g, 0, EIA_DTYPE_F32, 1, (int64_t[]){ 30 });
	t[1] = tensor(h, 0, EIA_DTYPE_F32, 1, (int64_t[]){ 30 });
	EXPECT_RANGE(cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0));
	t[1] = tensor(h, 0, EIA_DTYPE_F32, 1, (int64_t[]){ 25 });
	t[0] = tensor(g, 120, EIA_DTYPE_F32, 1, (int64_t[]){ 25 });
	EXPECT_RANGE(cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0));
	t[0] = tensor(g, UINT64_MAX - 3, EIA_DTYPE_F32, 1, (int64_t[]){ 25 });
	EXPECT_RANGE(cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0));
#undef EXPECT_RANGE
	/* The edges themselves are fine. */
	cb_reset(&b);
	cb_d2h(&b, h, 100, 0);
	cb_d2h(&b, h, 92, 8);
	cb_memset(&b, h, 0, 100, 3);
	cb_d2d(&b, g, 100, h, 0, 100);
	t[0] = tensor(g, 100, EIA_DTYPE_F32, 1, (int64_t[]){ 25 });
	t[1] = tensor(h, 0, EIA_DTYPE_F32, 1, (int64_t[]){ 25 });
	cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	EXPECT_EQ(8, r.data_len);
	sresp_release(&r);
	cb_release(&b);
}

/*
 * A buffer of one COPY_H2D whose data needs no padding may be received
 * straight into device memory: it must land exactly as any other copy, and
 * one that cannot run must leave its destination untouched.
 */
TEST_F_TIMEOUT(exec, lone_h2d_lands_whole_or_not_at_all, 60)
{
	const size_t n = 8 * MIB;
	unsigned char *a = malloc(n), *z = calloc(1, n), odd[13] = "thirteen byte";
	struct sresp r;
	struct cb b;
	uint64_t h, g;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, z);
	h = alloc(_metadata, self->fd, self->ctx, n + 64);
	g = alloc(_metadata, self->fd, self->ctx, 64);
	pattern(a, n, 4);
	cb_init(&b);
	cb_h2d(&b, h, 64, a, n);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	EXPECT_EQ(0, r.res[0].status);
	EXPECT_EQ(0, r.res[0].value);
	EXPECT_EQ(0, r.data_len);
	EXPECT_EQ(n + 128, r.memory_used);
	sresp_release(&r);
	/* Small, empty, and odd-sized (padded: read whole) ones too. */
	cb_reset(&b);
	cb_h2d(&b, g, 8, a, 16);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	sresp_release(&r);
	cb_reset(&b);
	cb_h2d(&b, g, 64, a, 0);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	sresp_release(&r);
	cb_reset(&b);
	cb_h2d(&b, g, 40, odd, sizeof(odd));
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	sresp_release(&r);

	/* Out of range, by a byte or whole, or a bad handle: nothing written. */
	cb_reset(&b);
	cb_h2d(&b, h, 72, z, n);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -ERANGE);
	cb_reset(&b);
	cb_h2d(&b, g, 0, z, 72);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -ERANGE);
	cb_reset(&b);
	cb_h2d(&b, h, UINT64_MAX - 7, z, 8);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -ERANGE);
	cb_reset(&b);
	cb_h2d(&b, h ^ (1ull << 16), 0, z, n);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -ENOENT);

	cb_reset(&b);
	cb_d2h(&b, h, 0, n + 64);
	cb_d2h(&b, g, 0, 64);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	ASSERT_EQ(n + 128, r.data_len);
	EXPECT_EQ(0, memcmp(r.data, z, 64));
	EXPECT_EQ(0, memcmp(r.data + 64, a, n));
	EXPECT_EQ(0, memcmp(r.data + n + 64, z, 8));
	EXPECT_EQ(0, memcmp(r.data + n + 72, a, 16));
	EXPECT_EQ(0, memcmp(r.data + n + 88, z, 16));
	EXPECT_EQ(0, memcmp(r.data + n + 104, odd, sizeof(odd)));
	EXPECT_EQ(0, memcmp(r.data + n + 104 + sizeof(odd), z, 24 - sizeof(odd)));
	sresp_release(&r);
	cb_release(&b);
	free(a);
	free(z);
}

/*
 * Earlier work of the context still reads or writes the destination of a
 * lone COPY_H2D: its data must not land before that work is done.
 */
TEST_F_TIMEOUT(exec, lone_h2d_waits_for_earlier_work, 60)
{
	const size_t n = 8 * MIB;
	unsigned char *a = malloc(n), *c = malloc(n);
	struct sresp r;
	struct msg m;
	struct cb b;
	uint64_t h;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, c);
	h = alloc(_metadata, self->fd, self->ctx, n);
	pattern(a, n, 5);
	pattern(c, n, 6);
	cb_init(&b);
	cb_h2d(&b, h, 0, a, n);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	sresp_release(&r);

	/*
	 * A read whose 8 MiB answer gpud sends from device memory, and which
	 * stalls while this test does not read: the next copy arrives whole
	 * meanwhile.
	 */
	cb_reset(&b);
	cb_d2h(&b, h, 0, n);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 101));
	cb_reset(&b);
	cb_h2d(&b, h, 0, c, n);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 102));
	ASSERT_EQ(0, recv_msg(self->fd, &m));
	ASSERT_EQ(0, sresp_decode(&m, &r));
	EXPECT_EQ(101, r.tag);
	ASSERT_EQ(n, r.data_len);
	EXPECT_EQ(0, memcmp(r.data, a, n));
	sresp_release(&r);
	ASSERT_EQ(0, recv_msg(self->fd, &m));
	ASSERT_EQ(0, sresp_decode(&m, &r));
	EXPECT_EQ(102, r.tag);
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(NONE, r.failed);
	sresp_release(&r);

	/* A fill on the executor, then a copy over it: the copy wins. */
	cb_reset(&b);
	cb_memset(&b, h, 0, n, 0x11);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 103));
	cb_reset(&b);
	cb_h2d(&b, h, 0, a, n);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 104));
	cb_reset(&b);
	cb_d2h(&b, h, 0, n);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 105));
	for (uint64_t t = 103; t <= 105; t++) {
		/* A context's responses come in order. */
		ASSERT_EQ(0, recv_msg(self->fd, &m));
		ASSERT_EQ(0, sresp_decode(&m, &r));
		EXPECT_EQ(t, r.tag);
		EXPECT_EQ(0, r.status);
		EXPECT_EQ(NONE, r.failed);
		if (t == 105) {
			ASSERT_EQ(n, r.data_len);
			EXPECT_EQ(0, memcmp(r.data, a, n));
		}
		sresp_release(&r);
	}
	cb_release(&b);
	free(a);
	free(c);
}

TEST_F_TIMEOUT(exec, lone_h2d_pipelined_in_order, 60)
{
	enum { NBUF = 200 };
	uint64_t ctx[2], h[2], big[2], v;
	uint64_t want_h2d[2] = { 0, 0 };
	struct sresp r;
	struct msg m;
	struct cb b;
	int i, c;

	ctx[0] = self->ctx;
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &ctx[1]));
	for (c = 0; c < 2; c++) {
		h[c] = alloc(_metadata, self->fd, ctx[c], 8);
		big[c] = alloc(_metadata, self->fd, ctx[c], 256 * KIB);
	}
	cb_init(&b);
	/* Pairs: a lone copy of i, then a read of it, some behind a fill. */
	for (i = 0; i < NBUF; i++) {
		c = i / 2 % 2;
		v = 0x5000000000ull + (uint64_t)i;
		cb_reset(&b);
		if (i % 2 == 0) {
			cb_h2d(&b, h[c], 0, &v, 8);
		} else {
			if (i % 3 == 0)
				cb_memset(&b, big[c], 0, 256 * KIB, 7);
			cb_d2h(&b, h[c], 0, 8);
		}
		ASSERT_EQ(0, send_submit(self->fd, ctx[c], &b, 700000 + i));
	}
	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(0, recv_msg(self->fd, &m));
		ASSERT_EQ(0, sresp_decode(&m, &r));
		ASSERT_EQ(0, r.status);
		ASSERT_EQ(NONE, r.failed);
		ASSERT_GE(r.tag, 700000);
		ASSERT_LT(r.tag, 700000 + NBUF);
		c = (int)(r.tag - 700000) / 2 % 2;
		if ((r.tag - 700000) % 2 == 0) {
			/* A context's responses come in order. */
			EXPECT_GT(r.tag, want_h2d[c]);
			want_h2d[c] = r.tag;
			EXPECT_EQ(0, r.data_len);
		} else {
			EXPECT_EQ(want_h2d[c] + 1, r.tag);
			v = 0x5000000000ull + (want_h2d[c] - 700000);
			ASSERT_EQ(8, r.data_len);
			EXPECT_EQ(0, memcmp(r.data, &v, 8));
		}
		sresp_release(&r);
	}
	cb_release(&b);
}

TEST_F(exec, quota_shared_by_contexts_edquot)
{
	uint64_t c1, c2, c3, h1, h2, h3, used;
	unsigned char d[16] = "still here 1234";
	struct sresp r;
	struct cb b;
	int tiny, tiny2;

	tiny = attach(self->g.port, "tiny");
	ASSERT_GE(tiny, 0);
	ASSERT_EQ(0, ctx_create(tiny, tag(), &c1));
	ASSERT_EQ(0, ctx_create(tiny, tag(), &c2));
	h1 = alloc(_metadata, tiny, c1, 768 * KIB);
	cb_init(&b);
	cb_h2d(&b, h1, 0, d, sizeof(d));
	run(_metadata, tiny, c1, &b, NONE, &r);
	sresp_release(&r);

	cb_reset(&b);
	cb_alloc(&b, 512 * KIB);
	cb_fence(&b, 1);
	run(_metadata, tiny, c1, &b, 0, &r);
	EXPECT_EQ(-EDQUOT, r.res[0].status);
	EXPECT_EQ(-ECANCELED, r.res[1].status);
	EXPECT_EQ(768 * KIB, r.memory_used);
	sresp_release(&r);

	/* The other context shares what is left: exactly 256 KiB. */
	h2 = alloc(_metadata, tiny, c2, 256 * KIB);
	cb_reset(&b);
	cb_alloc(&b, 1);
	expect_cmd_error(_metadata, tiny, c2, &b, -EDQUOT);
	cb_reset(&b);
	cb_alloc(&b, UINT64_MAX);
	expect_cmd_error(_metadata, tiny, c1, &b, -EDQUOT);
	cb_reset(&b);
	cb_alloc(&b, 2 * MIB);
	expect_cmd_error(_metadata, tiny, c1, &b, -EDQUOT);
	cb_reset(&b);
	cb_alloc(&b, 0);
	expect_cmd_error(_metadata, tiny, c1, &b, -EINVAL);

	/* Nothing else disturbed: the data is intact. */
	cb_reset(&b);
	cb_d2h(&b, h1, 0, sizeof(d));
	run(_metadata, tiny, c1, &b, NONE, &r);
	EXPECT_EQ(0, memcmp(r.data, d, sizeof(d)));
	EXPECT_EQ(MIB, r.memory_used);
	sresp_release(&r);

	/* Another grant has its own quota. */
	tiny2 = attach(self->g.port, "tiny");
	ASSERT_GE(tiny2, 0);
	ASSERT_EQ(0, ctx_create(tiny2, tag(), &c3));
	h3 = alloc(_metadata, tiny2, c3, MIB);
	EXPECT_NE(0, h3);

	/* Freed memory can be allocated again, by any context. */
	cb_reset(&b);
	cb_free(&b, h1);
	run(_metadata, tiny, c1, &b, NONE, &r);
	EXPECT_EQ(256 * KIB, r.memory_used);
	sresp_release(&r);
	alloc(_metadata, tiny, c2, 768 * KIB);
	ASSERT_EQ(0, ctx_destroy(tiny, c1, tag(), &used));
	EXPECT_EQ(MIB, used);
	ASSERT_EQ(0, ctx_destroy(tiny, c2, tag(), &used));
	EXPECT_EQ(0, used);
	(void)h2;
	close(tiny);
	close(tiny2);
	cb_release(&b);
}

TEST_F_TIMEOUT(exec, allocation_count_bounded_emfile, 60)
{
	uint64_t c2, first = 0, used;
	struct sresp r;
	struct cb b;
	int i, k;

	/* 65536 live allocations per connection, whatever their contexts. */
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &c2));
	cb_init(&b);
	for (k = 0; k < EIA_CB_MAX_CMDS; k++)
		cb_alloc(&b, 1);
	for (i = 0; i < 16; i++) {
		run(_metadata, self->fd, self->ctx, &b, NONE, &r);
		if (!i)
			first = r.res[0].value;
		for (k = 0; k < EIA_CB_MAX_CMDS; k++)
			EXPECT_EQ(0, r.res[k].status);
		sresp_release(&r);
	}
	EXPECT_EQ(65536, memory_used(_metadata, self->fd, self->ctx));
	cb_reset(&b);
	cb_alloc(&b, 1);
	expect_cmd_error(_metadata, self->fd, c2, &b, -EMFILE);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EMFILE);
	/* One freed: one more fits, in any context. */
	cb_reset(&b);
	cb_free(&b, first);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	sresp_release(&r);
	alloc(_metadata, self->fd, c2, 1);
	ASSERT_EQ(0, ctx_destroy(self->fd, self->ctx, tag(), &used));
	EXPECT_EQ(1, used);
	alloc(_metadata, self->fd, c2, 1);
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &self->ctx));
	cb_release(&b);
}

TEST_F(exec, operator_errors)
{
	struct eia_cb_tensor t[3];
	struct eia_gemm_attr ga = EIA_GEMM_ATTR_INIT;
	struct sresp r;
	struct cb b;
	uint64_t h;

	h = alloc(_metadata, self->fd, self->ctx, 4096);
	cb_init(&b);
	/* Unknown operator code: not supported. */
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 1, dims4);
	t[1] = tensor(h, 64, EIA_DTYPE_F32, 1, dims4);
	cb_launch(&b, 999, t, 1, 1, NULL, 0);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EOPNOTSUPP);
	/* Shapes that do not broadcast. */
	cb_reset(&b);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
	t[1] = tensor(h, 64, EIA_DTYPE_F32, 1, (int64_t[]){ 4 });
	t[2] = tensor(h, 128, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 3 });
	cb_launch(&b, EIA_OP_ADD, t, 2, 1, NULL, 0);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EINVAL);
	/* An unknown dtype, a negative dimension. */
	cb_reset(&b);
	t[0] = tensor(h, 0, 99, 1, dims4);
	t[1] = tensor(h, 64, EIA_DTYPE_F32, 1, dims4);
	cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EINVAL);
	cb_reset(&b);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 1, (int64_t[]){ -4 });
	cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EINVAL);
	/* A misaligned float, the wrong number of inputs, an attribute size. */
	cb_reset(&b);
	t[0] = tensor(h, 2, EIA_DTYPE_F32, 1, dims4);
	cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EINVAL);
	cb_reset(&b);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 1, dims4);
	t[2] = tensor(h, 128, EIA_DTYPE_F32, 1, dims4);
	cb_launch(&b, EIA_OP_RELU, t, 2, 1, NULL, 0);
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EINVAL);
	cb_reset(&b);
	cb_launch(&b, EIA_OP_RELU, t, 1, 1, &ga, sizeof(ga));
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EINVAL);
	/* Gemm writing over its own input. */
	cb_reset(&b);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 2 });
	t[1] = tensor(h, 64, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 2 });
	t[2] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 2 });
	cb_launch(&b, EIA_OP_GEMM, t, 2, 1, &ga, sizeof(ga));
	expect_cmd_error(_metadata, self->fd, self->ctx, &b, -EINVAL);
	/* Still fine afterwards. */
	cb_reset(&b);
	t[2] = tensor(h, 128, EIA_DTYPE_F32, 2, (int64_t[]){ 2, 2 });
	cb_launch(&b, EIA_OP_GEMM, t, 2, 1, &ga, sizeof(ga));
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	sresp_release(&r);
	cb_release(&b);
}

TEST_F(exec, first_failure_cancels_the_rest)
{
	struct sresp r;
	struct cb b;

	cb_init(&b);
	cb_alloc(&b, 64);
	cb_free(&b, 0x4242);
	cb_alloc(&b, 64);
	cb_fence(&b, 5);
	cb_d2h(&b, 0x4242, 0, 8);
	run(_metadata, self->fd, self->ctx, &b, 1, &r);
	EXPECT_EQ(0, r.res[0].status);
	EXPECT_NE(0, r.res[0].value);
	EXPECT_EQ(-ENOENT, r.res[1].status);
	EXPECT_EQ(-ECANCELED, r.res[2].status);
	EXPECT_EQ(-ECANCELED, r.res[3].status);
	EXPECT_EQ(0, r.res[3].value);
	EXPECT_EQ(-ECANCELED, r.res[4].status);
	EXPECT_EQ(0, r.data_len);
	/* What ran before the failure stays done. */
	EXPECT_EQ(64, r.memory_used);
	sresp_release(&r);
	cb_release(&b);
}

TEST_F_TIMEOUT(exec, d2h_over_max_payload_emsgsize, 60)
{
	const uint64_t most = EIA_WIRE_MAX_PAYLOAD - sizeof(struct eia_wire_submit_resp) -
			      sizeof(struct eia_cb_result);
	struct sresp r;
	struct cb b;
	uint64_t h, t;

	h = alloc(_metadata, self->fd, self->ctx, 16 * MIB);
	cb_init(&b);
	cb_alloc(&b, 1);
	cb_d2h(&b, h, 0, 8 * MIB);
	cb_d2h(&b, h, 0, 8 * MIB);
	t = tag();
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, t));
	expect_refused(_metadata, self->fd, t, EMSGSIZE, "the response would exceed 16777216");
	cb_reset(&b);
	cb_d2h(&b, h, 0, 8 * MIB);
	cb_d2h(&b, h, 0, UINT64_MAX - 4 * MIB);
	t = tag();
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, t));
	expect_refused(_metadata, self->fd, t, EMSGSIZE, "would exceed");
	cb_reset(&b);
	cb_d2h(&b, h, 0, most + 1);
	t = tag();
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, t));
	expect_refused(_metadata, self->fd, t, EMSGSIZE, "would exceed");
	/* Exactly the largest response. */
	cb_reset(&b);
	cb_d2h(&b, h, 0, most);
	run(_metadata, self->fd, self->ctx, &b, NONE, &r);
	EXPECT_EQ(most, r.data_len);
	EXPECT_EQ(EIA_WIRE_MAX_PAYLOAD, r.m.hdr.payload_len);
	sresp_release(&r);
	/* The refused ALLOC never ran. */
	EXPECT_EQ(16 * MIB, memory_used(_metadata, self->fd, self->ctx));
	cb_release(&b);
}

/* Buffer @k of the ordering tests: read, write k, read again. */
static void order_buffer(struct cb *b, uint64_t h, uint64_t big, uint32_t k)
{
	cb_reset(b);
	cb_d2h(b, h, 0, 4);
	cb_h2d(b, h, 0, &k, 4);
	cb_d2h(b, h, 0, 4);
	/* Every third one is not light: it goes through the executor. */
	if (k % 3 == 0)
		cb_memset(b, big, 0, 256 * KIB, k & 0xff);
	cb_fence(b, k);
}

TEST_F_TIMEOUT(exec, pipelined_buffers_run_in_order, 60)
{
	enum { NBUF = 300 };
	uint64_t ctx[2], h[2], big[2];
	uint32_t last_seen[2] = { 0, 0 }, prev[2] = { 0, 0 }, first, second;
	static uint64_t tags[NBUF];
	struct sresp r;
	struct msg m;
	struct cb b;
	int i, c;

	ctx[0] = self->ctx;
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &ctx[1]));
	for (c = 0; c < 2; c++) {
		h[c] = alloc(_metadata, self->fd, ctx[c], 8);
		big[c] = alloc(_metadata, self->fd, ctx[c], 256 * KIB);
	}
	cb_init(&b);
	for (i = 1; i < NBUF; i++) {
		c = i % 2;
		order_buffer(&b, h[c], big[c], (uint32_t)i);
		tags[i] = 500000 + i;
		ASSERT_EQ(0, send_submit(self->fd, ctx[c], &b, tags[i]));
	}
	for (i = 1; i < NBUF; i++) {
		ASSERT_EQ(0, recv_msg(self->fd, &m));
		ASSERT_EQ(0, sresp_decode(&m, &r));
		ASSERT_EQ(0, r.status);
		ASSERT_GT(r.tag, 500000);
		ASSERT_LT(r.tag, 500000 + NBUF);
		ASSERT_EQ(NONE, r.failed);
		ASSERT_EQ(8, r.data_len);
		c = (int)(r.tag - 500000) % 2;
		memcpy(&first, r.data, 4);
		memcpy(&second, r.data + 4, 4);
		/* Each saw its context's previous write, and its own. */
		EXPECT_EQ(r.tag - 500000, second);
		EXPECT_EQ(prev[c], first);
		/* A context's responses come in order. */
		EXPECT_GT(second, last_seen[c]);
		last_seen[c] = second;
		prev[c] = second;
		sresp_release(&r);
	}
	cb_release(&b);
}

TEST_F_TIMEOUT(exec, thousand_buffers_in_flight, 120)
{
	enum { NBUF = 1000, NCTX = 4 };
	struct eia_wire_ping p = { .cookie = htole64(0xabcdef) };
	static bool seen[NBUF];
	uint64_t ctx[NCTX], h[NCTX], big[NCTX], v;
	struct sresp r;
	struct msg m;
	struct cb b;
	int i, pings = 0;

	ctx[0] = self->ctx;
	for (i = 1; i < NCTX; i++)
		ASSERT_EQ(0, ctx_create(self->fd, tag(), &ctx[i]));
	for (i = 0; i < NCTX; i++) {
		h[i] = alloc(_metadata, self->fd, ctx[i], 64);
		big[i] = alloc(_metadata, self->fd, ctx[i], 256 * KIB);
	}
	cb_init(&b);
	for (i = 0; i < NBUF; i++) {
		v = 0x1000000000ull + (uint64_t)i;
		cb_reset(&b);
		cb_fence(&b, v);
		cb_h2d(&b, h[i % NCTX], 8, &v, 8);
		cb_d2h(&b, h[i % NCTX], 8, 8);
		/* Some through the executor, some run at once by the reader. */
		if (i % 5 == 0)
			cb_memset(&b, big[i % NCTX], 0, 128 * KIB, 1);
		ASSERT_EQ(0, send_submit(self->fd, ctx[i % NCTX], &b, 900000 + i));
		if (i == NBUF / 2)
			ASSERT_EQ(0, eia_wire_send(self->fd, EIA_MSG_PING, 0, 0, 77, &p,
						   sizeof(p)));
	}
	for (i = 0; i < NBUF + 1; i++) {
		ASSERT_EQ(0, recv_msg(self->fd, &m));
		if (m.hdr.opcode == EIA_MSG_PING) {
			EXPECT_EQ(77, m.hdr.tag);
			EXPECT_EQ(0, m.hdr.status);
			pings++;
			msg_release(&m);
			continue;
		}
		ASSERT_EQ(0, sresp_decode(&m, &r));
		ASSERT_EQ(0, r.status);
		ASSERT_GE(r.tag, 900000);
		ASSERT_LT(r.tag, 900000 + NBUF);
		EXPECT_FALSE(seen[r.tag - 900000]);
		seen[r.tag - 900000] = true;
		v = 0x1000000000ull + (r.tag - 900000);
		EXPECT_EQ(v, r.res[0].value);
		ASSERT_EQ(8, r.data_len);
		EXPECT_EQ(0, memcmp(r.data, &v, 8));
		EXPECT_EQ(NCTX * (64 + 256 * KIB), r.memory_used);
		sresp_release(&r);
	}
	EXPECT_EQ(1, pings);
	for (i = 0; i < NBUF; i++)
		EXPECT_TRUE(seen[i]);
	cb_release(&b);
}

TEST_F(exec, batched_responses_never_wait_on_later_requests)
{
	struct eia_wire_ping p = { .cookie = htole64(3), .delay_ms = htole32(1500) };
	unsigned char *two;
	struct eia_wire_hdr h;
	struct sresp r;
	struct msg m;
	struct cb b;
	size_t one;
	long long start;

	/* A whole request and half of the next, in one write. */
	cb_init(&b);
	cb_fence(&b, 77);
	one = sizeof(h) + sizeof(struct eia_wire_submit) + b.len;
	two = malloc(2 * one);
	ASSERT_NE(NULL, two);
	eia_wire_hdr_pack(&h, EIA_MSG_SUBMIT, 0, 0, 1, (uint32_t)(one - sizeof(h)));
	memcpy(two, &h, sizeof(h));
	memcpy(two + sizeof(h), &(struct eia_wire_submit){ .ctx = htole64(self->ctx),
							   .ncmds = htole32(1) },
	       sizeof(struct eia_wire_submit));
	memcpy(two + one - b.len, b.buf, b.len);
	memcpy(two + one, two, one);
	((struct eia_wire_hdr *)(two + one))->tag = htole64(2);
	ASSERT_EQ(0, eia_write_full(self->fd, two, one + one / 2));
	/* The first is answered although gpud holds part of the second. */
	ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_SUBMIT, 1, &m));
	ASSERT_EQ(0, sresp_decode(&m, &r));
	EXPECT_EQ(77, r.res[0].value);
	sresp_release(&r);
	ASSERT_EQ(0, eia_write_full(self->fd, two + one + one / 2, one - one / 2));
	ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_SUBMIT, 2, &m));
	msg_release(&m);

	/* A request, then a slow PING right behind it: the first is not held. */
	eia_wire_hdr_pack(&h, EIA_MSG_PING, 0, 0, 3, sizeof(p));
	memcpy(two + one, &h, sizeof(h));
	memcpy(two + one + sizeof(h), &p, sizeof(p));
	start = now_ms();
	ASSERT_EQ(0, eia_write_full(self->fd, two, one + sizeof(h) + sizeof(p)));
	ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_SUBMIT, 1, &m));
	/* Answered while the PING's reply is still due. */
	EXPECT_EQ(0, poll(&(struct pollfd){ .fd = self->fd, .events = POLLIN }, 1, 0));
	msg_release(&m);
	ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_PING, 3, &m));
	EXPECT_GE(now_ms() - start, 1500);
	msg_release(&m);
	free(two);
	cb_release(&b);
}

/*
 * A buffer of @n 512x512 Gemms on @h (3 MiB: A, B, Y): long-running work
 * whose length tests calibrate rather than assume.
 */
static void heavy_buffer(struct cb *b, uint64_t h, unsigned int n)
{
	struct eia_gemm_attr ga = { .alpha = 1.0f };
	struct eia_cb_tensor t[3];
	const int64_t d[] = { 512, 512 };
	unsigned int i;

	cb_reset(b);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, d);
	t[1] = tensor(h, MIB, EIA_DTYPE_F32, 2, d);
	t[2] = tensor(h, 2 * MIB, EIA_DTYPE_F32, 2, d);
	for (i = 0; i < n; i++)
		cb_launch(b, EIA_OP_GEMM, t, 2, 1, &ga, sizeof(ga));
}

/* How many Gemms of heavy_buffer() take about @ms here. */
static unsigned int calibrate(struct __test_metadata *_metadata, int fd, uint64_t ctx,
			      uint64_t h, unsigned int ms)
{
	struct sresp r;
	struct cb b;
	long long start, took;
	unsigned int n;

	cb_init(&b);
	heavy_buffer(&b, h, 8);
	start = now_ms();
	run(_metadata, fd, ctx, &b, NONE, &r);
	took = now_ms() - start;
	sresp_release(&r);
	cb_release(&b);
	n = (unsigned int)(8 * ms / (took > 0 ? took : 1));
	return n < 8 ? 8 : n > 3000 ? 3000 : n;
}

TEST_F_TIMEOUT(exec, ping_and_status_answered_while_a_buffer_runs, 60)
{
	struct eia_wire_ping p = { .cookie = htole64(5) };
	struct server_status st;
	struct sresp r;
	struct msg m;
	struct cb b;
	uint64_t h;
	unsigned int n;

	h = alloc(_metadata, self->fd, self->ctx, 3 * MIB);
	n = calibrate(_metadata, self->fd, self->ctx, h, 1500);
	cb_init(&b);
	heavy_buffer(&b, h, n);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 4242));
	usleep(100 * 1000);
	/* Answered first, although asked after. */
	ASSERT_EQ(0, eia_wire_send(self->fd, EIA_MSG_PING, 0, 0, 4243, &p, sizeof(p)));
	ASSERT_EQ(0, recv_msg(self->fd, &m));
	EXPECT_EQ(EIA_MSG_PING, m.hdr.opcode);
	EXPECT_EQ(4243, m.hdr.tag);
	msg_release(&m);
	ASSERT_EQ(0, do_status(self->fd, &st));
	EXPECT_EQ(1, st.sessions);
	ASSERT_EQ(0, recv_for(self->fd, EIA_MSG_SUBMIT, 4242, &m));
	ASSERT_EQ(0, sresp_decode(&m, &r));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(NONE, r.failed);
	EXPECT_EQ(n, r.ncmds);
	sresp_release(&r);
	cb_release(&b);
}

TEST_F_TIMEOUT(exec, destroy_waits_for_earlier_submits, 60)
{
	uint64_t c2, h, used;
	struct sresp r;
	struct msg m;
	struct cb b;
	struct eia_wire_ctx c = { .ctx = htole64(self->ctx) };
	bool done[6] = { false };
	unsigned int n;
	int i;

	ASSERT_EQ(0, ctx_create(self->fd, tag(), &c2));
	h = alloc(_metadata, self->fd, c2, 3 * MIB);
	n = calibrate(_metadata, self->fd, c2, h, 800);
	cb_init(&b);
	/* Context 1: allocations queued behind nothing; context 2: long work. */
	cb_alloc(&b, MIB);
	cb_alloc(&b, MIB);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 1));
	heavy_buffer(&b, h, n);
	ASSERT_EQ(0, send_submit(self->fd, c2, &b, 2));
	cb_reset(&b);
	cb_alloc(&b, MIB);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 3));
	ASSERT_EQ(0, eia_wire_send(self->fd, EIA_MSG_CTX_DESTROY, 0, 0, 4, &c, sizeof(c)));
	/* Sent after the DESTROY: the context is gone for it. */
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 5));
	/* Every SUBMIT sent before the DESTROY answers before it. */
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, recv_msg(self->fd, &m));
		ASSERT_LE(m.hdr.tag, 5);
		done[m.hdr.tag] = true;
		if (m.hdr.tag == 4) {
			EXPECT_TRUE(done[1] && done[2] && done[3]);
			EXPECT_EQ(EIA_MSG_CTX_DESTROY, m.hdr.opcode);
			EXPECT_EQ(0, m.hdr.status);
			memcpy(&used, m.payload, 8);
			/* Only context 2's memory is left. */
			EXPECT_EQ(3 * MIB, le64toh(used));
			msg_release(&m);
			continue;
		}
		ASSERT_EQ(0, sresp_decode(&m, &r));
		EXPECT_EQ(r.tag == 5 ? ENOENT : 0, r.status);
		sresp_release(&r);
	}
	ASSERT_EQ(0, ctx_destroy(self->fd, c2, tag(), &used));
	EXPECT_EQ(0, used);
	ASSERT_EQ(0, ctx_create(self->fd, tag(), &self->ctx));
	cb_release(&b);
}

TEST_F_TIMEOUT(exec, close_with_buffers_in_flight_frees_everything, 60)
{
	uint64_t c1, c2, h;
	struct eia_wire_ctx c;
	char line[160];
	struct cb b;
	unsigned int n, i;
	int fd;

	fd = attach(self->g.port, "eia2.medium");
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ctx_create(fd, tag(), &c1));
	ASSERT_EQ(0, ctx_create(fd, tag(), &c2));
	h = alloc(_metadata, fd, c1, 3 * MIB);
	alloc(_metadata, fd, c2, 5 * MIB);
	n = calibrate(_metadata, fd, c1, h, 500);
	cb_init(&b);
	heavy_buffer(&b, h, n);
	ASSERT_EQ(0, send_submit(fd, c1, &b, 1));
	for (i = 0; i < 20; i++) {
		cb_reset(&b);
		cb_alloc(&b, MIB);
		cb_memset(&b, h, 0, 3 * MIB, 1);
		ASSERT_EQ(0, send_submit(fd, i % 2 ? c1 : c2, &b, 10 + i));
	}
	c.ctx = htole64(c2);
	ASSERT_EQ(0, eia_wire_send(fd, EIA_MSG_CTX_DESTROY, 0, 0, 99, &c, sizeof(c)));
	close(fd);

	/* The connection's end frees its contexts, with the queue run or dropped. */
	ASSERT_TRUE(wait_counts(self->g.port, 1, 1, WAIT_MS));
	snprintf(line, sizeof(line), "gpud: detach id=");
	ASSERT_TRUE(gpud_log_wait(&self->g, line, WAIT_MS));
	EXPECT_TRUE(gpud_log_wait(&self->g, "type=eia2.medium peer=127.0.0.1:", WAIT_MS));
	EXPECT_TRUE(gpud_log_wait(&self->g, "(2 contexts, ", WAIT_MS) ||
		    gpud_log_wait(&self->g, "(1 contexts, ", WAIT_MS));
	/* The other client never noticed. */
	EXPECT_EQ(0, memory_used(_metadata, self->fd, self->ctx));
	cb_release(&b);
}

TEST_F(exec, close_mid_submit_frees_everything)
{
	struct eia_wire_submit s = { .ncmds = htole32(1) };
	struct eia_wire_hdr h;
	uint64_t c1;
	int fd;

	fd = attach(self->g.port, "eia1.large");
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ctx_create(fd, tag(), &c1));
	alloc(_metadata, fd, c1, 2 * MIB);
	/* Half a SUBMIT, then gone. */
	s.ctx = htole64(c1);
	eia_wire_hdr_pack(&h, EIA_MSG_SUBMIT, 0, 0, 1, 4096);
	ASSERT_EQ(0, send_raw(fd, &h, &s, sizeof(s)));
	close(fd);
	ASSERT_TRUE(wait_counts(self->g.port, 1, 1, WAIT_MS));
	EXPECT_TRUE(gpud_log_wait(&self->g, "gpud: detach id=", WAIT_MS));
	EXPECT_TRUE(gpud_log_wait(&self->g, "(1 contexts, 2097152 bytes freed)", WAIT_MS));
}

TEST_F_TIMEOUT(exec, sigterm_stops_a_long_buffer, 60)
{
	long long start, took;
	struct cb b;
	uint64_t h;
	unsigned int n;
	int status;

	h = alloc(_metadata, self->fd, self->ctx, 3 * MIB);
	n = calibrate(_metadata, self->fd, self->ctx, h, 4000);
	cb_init(&b);
	heavy_buffer(&b, h, n);
	ASSERT_EQ(0, send_submit(self->fd, self->ctx, &b, 1));
	usleep(300 * 1000);
	start = now_ms();
	ASSERT_EQ(0, kill(self->g.pid, SIGTERM));
	status = gpud_wait(&self->g, WAIT_MS);
	took = now_ms() - start;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* At the next command, not after the 4 s of work: no reply is sent. */
	TH_LOG("gpud stopped %lld ms after SIGTERM", took);
	EXPECT_TRUE(peer_closed(self->fd));
	cb_release(&b);
}

struct sender {
	int fd;
	uint64_t ctx, h;
	unsigned int n;
	int err;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	unsigned char *data = malloc(MIB);
	struct cb b;
	unsigned int i;

	cb_init(&b);
	for (i = 0; i < s->n && data && !s->err; i++) {
		memset(data, (int)i, MIB);
		cb_reset(&b);
		cb_h2d(&b, s->h, 0, data, MIB);
		cb_d2h(&b, s->h, (uint64_t)i * 4096 % MIB, 1);
		s->err = send_submit(s->fd, s->ctx, &b, 1000 + i);
	}
	cb_release(&b);
	free(data);
	return NULL;
}

TEST_F_TIMEOUT(exec, back_pressure_bounds_the_queue, 90)
{
	struct sender snd = { .n = 48 };
	struct gpud_proc g2;
	pthread_t th;
	struct sresp r;
	struct msg m;
	struct cb b;
	uint64_t ctx, heavy, h;
	unsigned int n, i, got = 0;
	int fd;

	/* A gpud that says when it paused reading. */
	ASSERT_EQ(0, gpud_start(&g2, CONF, verbose_two_threads));
	fd = attach(g2.port, "eia1.medium");
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ctx_create(fd, tag(), &ctx));
	heavy = alloc(_metadata, fd, ctx, 3 * MIB);
	h = alloc(_metadata, fd, ctx, MIB);
	n = calibrate(_metadata, fd, ctx, heavy, 1500);
	cb_init(&b);
	heavy_buffer(&b, heavy, n);
	ASSERT_EQ(0, send_submit(fd, ctx, &b, 1));
	/* 48 MiB behind it, more than the queue holds, read as they come. */
	snd.fd = fd;
	snd.ctx = ctx;
	snd.h = h;
	ASSERT_EQ(0, pthread_create(&th, NULL, sender_main, &snd));
	for (i = 0; i < snd.n + 1; i++) {
		ASSERT_EQ(0, recv_msg(fd, &m));
		ASSERT_EQ(0, sresp_decode(&m, &r));
		EXPECT_EQ(0, r.status);
		EXPECT_EQ(NONE, r.failed);
		if (r.tag >= 1000) {
			ASSERT_EQ(1, r.data_len);
			EXPECT_EQ((unsigned char)(r.tag - 1000), r.data[0]);
			got++;
		}
		sresp_release(&r);
	}
	pthread_join(th, NULL);
	EXPECT_EQ(0, snd.err);
	EXPECT_EQ(snd.n, got);
	EXPECT_TRUE(gpud_log_wait(&g2, "resumed reading (queue was over 33554432 bytes)",
				  WAIT_MS));
	close(fd);
	check_clean_exit(_metadata, &g2);
	cb_release(&b);
}

/* xorshift64*: reproducible garbage. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* A valid buffer using every command, on handles @h[0..1]. */
static void fuzz_base(struct cb *b, const uint64_t *h)
{
	struct eia_gemm_attr ga = EIA_GEMM_ATTR_INIT;
	struct eia_cb_tensor t[3];
	unsigned char d[40];

	memset(d, 0x3c, sizeof(d));
	cb_reset(b);
	cb_alloc(b, 4096);
	cb_h2d(b, h[0], 16, d, sizeof(d));
	cb_d2h(b, h[0], 0, 64);
	cb_d2d(b, h[1], 0, h[0], 0, 128);
	cb_memset(b, h[1], 256, 64, 7);
	t[0] = tensor(h[0], 0, EIA_DTYPE_F32, 2, (int64_t[]){ 4, 4 });
	t[1] = tensor(h[0], 64, EIA_DTYPE_F32, 2, (int64_t[]){ 4, 4 });
	t[2] = tensor(h[1], 512, EIA_DTYPE_F32, 2, (int64_t[]){ 4, 4 });
	cb_launch(b, EIA_OP_GEMM, t, 2, 1, &ga, sizeof(ga));
	t[1] = tensor(h[1], 1024, EIA_DTYPE_F32, 2, (int64_t[]){ 4, 4 });
	cb_launch(b, EIA_OP_ADD, t, 2, 1, NULL, 0);
	cb_fence(b, 11);
	cb_d2h(b, h[1], 512, 64);
	cb_free(b, 0);
}

/* Copies, fills and operators on @h[0..1], nothing allocated or freed: no barrier. */
static void fuzz_base_no_barrier(struct cb *b, const uint64_t *h)
{
	struct eia_cb_tensor t[3];
	unsigned char d[40];

	memset(d, 0x5a, sizeof(d));
	cb_reset(b);
	cb_h2d(b, h[0], 1024, d, sizeof(d));
	cb_d2d(b, h[1], 2048, h[0], 1024, 64);
	t[0] = tensor(h[1], 2048, EIA_DTYPE_F32, 1, (int64_t[]){ 16 });
	t[1] = tensor(h[0], 1024, EIA_DTYPE_F32, 1, (int64_t[]){ 16 });
	t[2] = tensor(h[1], 3072, EIA_DTYPE_F32, 1, (int64_t[]){ 16 });
	cb_launch(b, EIA_OP_MUL, t, 2, 1, NULL, 0);
	cb_memset(b, h[0], 3072, 32, 1);
	cb_d2h(b, h[1], 3072, 64);
}

/* Flip 1 to 4 bytes of @b to small values or any byte; sometimes cut it short. */
static void fuzz_mutate(struct cb *b, uint64_t *seed)
{
	unsigned int k, nflip = 1 + (unsigned int)(rnd(seed) % 4);

	for (k = 0; k < nflip; k++) {
		size_t at = (size_t)(rnd(seed) % b->len);

		/* Small values or any byte: sizes, counts, offsets, handles. */
		b->buf[at] = rnd(seed) % 2 ? (unsigned char)(rnd(seed) % 5) :
					     (unsigned char)rnd(seed);
	}
	if (rnd(seed) % 16 == 0)
		b->len -= (size_t)(rnd(seed) % b->len);
}

/*
 * A fuzzed buffer's answer: a whole-buffer refusal (EINVAL, EMSGSIZE) or
 * results consistent with @ncmds commands run up to the first failure.
 * Counts the header statuses in @statuses (0, EINVAL, EMSGSIZE).
 */
static void check_fuzz_answer(struct __test_metadata *_metadata, const struct sresp *r,
			      uint32_t ncmds, unsigned int *statuses)
{
	static const int header_ok[] = { 0, EINVAL, EMSGSIZE };
	bool ok = false;
	unsigned int k;

	for (k = 0; k < 3; k++)
		if ((int)r->status == header_ok[k]) {
			statuses[k]++;
			ok = true;
		}
	if (!ok)
		TH_LOG("status %u: %s", r->status, r->err);
	EXPECT_TRUE(ok);
	if (r->status)
		return;
	EXPECT_EQ(ncmds, r->ncmds);
	for (k = 0; k < r->ncmds; k++) {
		int want = r->failed == NONE || k < r->failed ? 0 :
			   k > r->failed ? -ECANCELED : r->res[k].status;

		EXPECT_EQ(want, r->res[k].status);
		if (k == r->failed)
			EXPECT_LT(r->res[k].status, 0);
	}
	EXPECT_LE(r->memory_used, 16 * MIB);
}

/* A new context in *@ctx with two 4 KiB allocations, @h[0..1]. */
static void fuzz_ctx(struct __test_metadata *_metadata, int fd, uint64_t *ctx, uint64_t *h)
{
	ASSERT_EQ(0, ctx_create(fd, tag(), ctx));
	h[0] = alloc(_metadata, fd, *ctx, 4096);
	h[1] = alloc(_metadata, fd, *ctx, 4096);
}

/* Destroy *@ctx (all its memory must go with it), then fuzz_ctx() again. */
static void fuzz_start_over(struct __test_metadata *_metadata, int fd, uint64_t *ctx,
			    uint64_t *h)
{
	uint64_t used;

	ASSERT_EQ(0, ctx_destroy(fd, *ctx, tag(), &used));
	EXPECT_EQ(0, used);
	fuzz_ctx(_metadata, fd, ctx, h);
}

TEST_F_TIMEOUT(exec, command_buffer_fuzz, 120)
{
	uint64_t seed = 0x243f6a8885a308d3ull, ctx, h[2], t;
	unsigned int statuses[3] = { 0 }, i;
	struct sresp r;
	struct msg m;
	struct cb b;
	int fd;

	fd = attach(self->g.port, "small");
	ASSERT_GE(fd, 0);
	fuzz_ctx(_metadata, fd, &ctx, h);
	cb_init(&b);
	for (i = 0; i < 600; i++) {
		fuzz_base(&b, h);
		fuzz_mutate(&b, &seed);
		t = tag();
		ASSERT_EQ(0, send_submit_raw(fd, ctx, b.ncmds, (uint16_t)(rnd(&seed) % EIA_CB_QUEUES), 0,
					     b.buf, b.len, t));
		ASSERT_EQ(0, recv_for(fd, EIA_MSG_SUBMIT, t, &m));
		ASSERT_EQ(0, sresp_decode(&m, &r));
		check_fuzz_answer(_metadata, &r, b.ncmds, statuses);
		sresp_release(&r);
		/* Keep within the quota: start over now and then. */
		if (i % 50 == 49)
			fuzz_start_over(_metadata, fd, &ctx, h);
	}
	/* Both kinds of answer happened; the buffer as built still runs. */
	EXPECT_GT(statuses[0], 0);
	EXPECT_GT(statuses[1], 0);
	fuzz_base(&b, h);
	run(_metadata, fd, ctx, &b, 9, &r);	/* the final MEM_FREE of 0 */
	EXPECT_EQ(-ENOENT, r.res[9].status);
	EXPECT_EQ(11, r.res[7].value);
	sresp_release(&r);
	close(fd);
	cb_release(&b);
}

/*
 * The fuzz again, pipelined: bursts of buffers on random queues, barriers
 * (allocating and freeing) among buffers that run side by side, all sent
 * before any answer is read. Every buffer gets one answer, consistent with
 * it, and gpud's sanitizers stay quiet.
 */
TEST_F_TIMEOUT(exec, command_buffer_fuzz_pipelined, 120)
{
	enum { BURST = 24, BURSTS = 25 };
	uint64_t seed = 0x13198a2e03707344ull, ctx, h[2], first;
	unsigned int statuses[3] = { 0 }, i, j;
	uint32_t ncmds[BURST];
	bool seen[BURST];
	struct sresp r;
	struct msg m;
	struct cb b;
	int fd;

	fd = attach(self->g.port, "small");
	ASSERT_GE(fd, 0);
	fuzz_ctx(_metadata, fd, &ctx, h);
	cb_init(&b);
	for (i = 0; i < BURSTS; i++) {
		first = last_tag + 1;
		for (j = 0; j < BURST; j++) {
			if (rnd(&seed) % 3)
				fuzz_base_no_barrier(&b, h);
			else
				fuzz_base(&b, h);
			if (rnd(&seed) % 2)
				fuzz_mutate(&b, &seed);
			ncmds[j] = b.ncmds;
			seen[j] = false;
			ASSERT_EQ(0, send_submit_raw(fd, ctx, b.ncmds,
						     (uint16_t)(rnd(&seed) % EIA_CB_QUEUES), 0,
						     b.buf, b.len, tag()));
		}
		for (j = 0; j < BURST; j++) {
			uint64_t k;

			ASSERT_EQ(0, recv_msg(fd, &m));
			ASSERT_EQ(EIA_MSG_SUBMIT, m.hdr.opcode);
			ASSERT_EQ(0, sresp_decode(&m, &r));
			k = r.tag - first;
			ASSERT_LT(k, BURST);
			EXPECT_FALSE(seen[k]);
			seen[k] = true;
			check_fuzz_answer(_metadata, &r, ncmds[k], statuses);
			sresp_release(&r);
		}
		/* Keep within the quota: start over now and then. */
		if (i % 5 == 4)
			fuzz_start_over(_metadata, fd, &ctx, h);
	}
	EXPECT_GT(statuses[0], 0);
	EXPECT_GT(statuses[1], 0);
	close(fd);
	cb_release(&b);
}

FIXTURE(proc) {
	struct gpud_proc g;
};

FIXTURE_SETUP(proc)
{
}

FIXTURE_TEARDOWN(proc)
{
	check_clean_exit(_metadata, &self->g);
}

/*
 * gpud's threads, less $EIA_GPUD_EXTRA_THREADS: those a sanitizer adds
 * (ThreadSanitizer runs one of its own in each process).
 */
static unsigned int count_threads(pid_t pid)
{
	const char *extra = getenv("EIA_GPUD_EXTRA_THREADS");
	char path[64];
	unsigned int n = 0;
	FILE *f;
	char line[256];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			n = (unsigned int)strtoul(line + 8, NULL, 10);
	fclose(f);
	return n - (extra ? (unsigned int)atoi(extra) : 0);
}

static bool environ_has(pid_t pid, const char *var)
{
	char path[64], buf[65536];
	size_t n, i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strcmp(buf + i, var))
			return true;
	return false;
}

/* The pid of the worker serving the client on @fd, from gpud's log; 0 if none. */
static pid_t worker_of(struct gpud_proc *g, int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char needle[64];
	const char *at, *p;
	pid_t pid = 0;

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	snprintf(needle, sizeof(needle), " serves peer=127.0.0.1:%u\n", ntohs(sin.sin_port));
	if (!gpud_log_wait(g, needle, WAIT_MS))
		return 0;
	pthread_mutex_lock(&g->lock);
	at = strstr(g->log, needle);
	for (p = at; p && p > g->log && p[-1] != '\n'; p--)
		;
	p = p ? strstr(p, "worker pid ") : NULL;
	if (p && p < at)
		pid = (pid_t)strtol(p + strlen("worker pid "), NULL, 10);
	pthread_mutex_unlock(&g->lock);
	return pid;
}

/* Data through @fd's context: H2D, an operator, D2H, checked. */
static void relu_round_trip(struct __test_metadata *_metadata, int fd, uint64_t ctx,
			    uint64_t h)
{
	const float in[4] = { -1.5f, 2.0f, -3.0f, 7.25f }, want[4] = { 0, 2.0f, 0, 7.25f };
	const int64_t dims[] = { 4 };
	struct eia_cb_tensor t[2] = { tensor(h, 0, EIA_DTYPE_F32, 1, dims),
				      tensor(h, 16, EIA_DTYPE_F32, 1, dims) };
	struct sresp r;
	struct cb b;

	cb_init(&b);
	cb_h2d(&b, h, 0, in, sizeof(in));
	cb_launch(&b, EIA_OP_RELU, t, 1, 1, NULL, 0);
	cb_d2h(&b, h, 16, sizeof(want));
	run(_metadata, fd, ctx, &b, NONE, &r);
	ASSERT_EQ(sizeof(want), r.data_len);
	EXPECT_EQ(0, memcmp(r.data, want, sizeof(want)));
	sresp_release(&r);
	cb_release(&b);
}

/*
 * Process isolation: each tenant's work runs in a worker of its own. One
 * that dies (as a CUDA fault ends it) takes only its own connection: the
 * other tenant's memory and work go on, the grant comes back, and gpud
 * still exits cleanly.
 */
TEST(tenant_worker_death_is_isolated)
{
	static const char *const args[] = { "--threads", "2", "--isolation", "process", NULL };
	uint64_t ctx_a, ctx_b, h_a, h_b;
	struct eia_wire_hdr hdr;
	char want[96];
	struct gpud_proc g;
	struct msg m;
	struct cb b;
	struct sresp r;
	int fa, fb, fc;
	pid_t wb;

	ASSERT_EQ(0, gpud_start(&g, CONF, args));
	fa = attach(g.port, "eia1.medium");
	fb = attach(g.port, "eia1.medium");
	ASSERT_GE(fa, 0);
	ASSERT_GE(fb, 0);
	ASSERT_EQ(0, ctx_create(fa, tag(), &ctx_a));
	ASSERT_EQ(0, ctx_create(fb, tag(), &ctx_b));
	h_a = alloc(_metadata, fa, ctx_a, 4096);
	h_b = alloc(_metadata, fb, ctx_b, 4096);
	relu_round_trip(_metadata, fa, ctx_a, h_a);
	relu_round_trip(_metadata, fb, ctx_b, h_b);
	wb = worker_of(&g, fb);
	ASSERT_GT(wb, 0);
	ASSERT_NE(wb, worker_of(&g, fa));
	ASSERT_NE(wb, g.pid);

	/* A tenant's connection is its worker's: SERVER_STATUS goes elsewhere. */
	eia_wire_hdr_pack(&hdr, EIA_MSG_SERVER_STATUS, 0, 0, 42, 0);
	ASSERT_EQ(0, send_raw(fa, &hdr, NULL, 0));
	ASSERT_EQ(0, recv_for(fa, EIA_MSG_SERVER_STATUS, 42, &m));
	EXPECT_EQ(EOPNOTSUPP, m.hdr.status);
	msg_release(&m);

	ASSERT_EQ(0, kill(wb, SIGKILL));
	snprintf(want, sizeof(want), "worker pid %d killed by SIGKILL; other tenants are unaffected",
		 (int)wb);
	EXPECT_TRUE(gpud_log_wait(&g, want, WAIT_MS));
	/* B's connection is gone; A's memory and work are intact. */
	cb_init(&b);
	cb_fence(&b, 1);
	EXPECT_NE(0, submit(fb, ctx_b, &b, tag(), &r));
	cb_release(&b);
	relu_round_trip(_metadata, fa, ctx_a, h_a);
	EXPECT_EQ(4096, memory_used(_metadata, fa, ctx_a));
	/* The grant came back: another tenant attaches and works. */
	EXPECT_TRUE(gpud_log_wait(&g, "(its worker ended)", WAIT_MS));
	fc = attach(g.port, "eia1.medium");
	ASSERT_GE(fc, 0);
	close(fb);
	close(fc);
	close(fa);
	check_clean_exit(_metadata, &g);
}

/* The name of process @pid, as ps shows it. */
static bool comm_is(pid_t pid, const char *want)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, want);
}

TEST_F(proc, threads_bounded_and_no_blas_threads)
{
	static const char *const args[] = { "--threads", "3", NULL };
	enum { N = 256 };
	struct eia_cb_tensor t[3];
	uint64_t ctx, h;
	unsigned int q;
	struct cb b;
	int fd, k;

	/* Whatever the caller's environment says, gpud runs with one BLAS thread. */
	setenv("OPENBLAS_NUM_THREADS", "8", 1);
	ASSERT_EQ(0, gpud_start(&self->g, CONF, args));
	EXPECT_TRUE(gpud_log_has(&self->g, "; 3 threads"));
	EXPECT_TRUE(environ_has(self->g.pid, "OPENBLAS_NUM_THREADS=1"));
	/* Executed again through /proc/self/exe, but still named gpud. */
	EXPECT_TRUE(comm_is(self->g.pid, "gpud"));
	/* The main thread and three operator workers, nothing idle besides. */
	EXPECT_EQ(4, count_threads(self->g.pid));
	fd = attach(self->g.port, "eia1.medium");
	ASSERT_GE(fd, 0);
	/* A connection's reader; its executor starts with its first context. */
	EXPECT_EQ(5, count_threads(self->g.pid));
	ASSERT_EQ(0, ctx_create(fd, tag(), &ctx));
	EXPECT_EQ(6, count_threads(self->g.pid));
	/* Work on every queue at once: executors start, at most four. */
	h = alloc(_metadata, fd, ctx, 3 * N * N * sizeof(float));
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	t[1] = tensor(h, N * N * sizeof(float), EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	t[2] = tensor(h, 2 * N * N * sizeof(float), EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	cb_init(&b);
	for (k = 0; k < 8; k++)
		cb_launch(&b, EIA_OP_MATMUL, t, 2, 1, NULL, 0);
	for (q = 0; q < EIA_CB_QUEUES; q++)
		send_on(_metadata, fd, ctx, &b, (uint16_t)q, 1000 + q);
	for (q = 0; q < EIA_CB_QUEUES; q++) {
		EXPECT_GE(5 + GPUD_EXECUTORS_MAX, count_threads(self->g.pid));
		EXPECT_NE(0, next_done(_metadata, fd, 0));
	}
	EXPECT_LT(6, count_threads(self->g.pid));
	EXPECT_GE(5 + GPUD_EXECUTORS_MAX, count_threads(self->g.pid));
	cb_release(&b);
	close(fd);
	ASSERT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
}

TEST_F(proc, threads_from_config_and_bad_values)
{
	static const char *const zero[] = { "--threads", "0", NULL };
	static const char *const many[] = { "--threads", "65", NULL };
	static const char *const word[] = { "--threads", "two", NULL };
	const char *const *bad[] = { zero, many, word };
	unsigned int i;
	int status;

	ASSERT_EQ(0, gpud_start(&self->g, "threads 2\n", NULL));
	EXPECT_TRUE(gpud_log_has(&self->g, "; 2 threads"));
	check_clean_exit(_metadata, &self->g);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, gpud_spawn(&self->g, NULL, bad[i]));
		status = gpud_wait(&self->g, WAIT_MS);
		gpud_stop(&self->g);
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(2, WEXITSTATUS(status));
		EXPECT_TRUE(gpud_log_has(&self->g, "invalid threads"));
		EXPECT_TRUE(gpud_log_has(&self->g, "(expected 1..64)"));
		gpud_free(&self->g);
	}
	ASSERT_EQ(0, gpud_spawn(&self->g, "threads 100\n", NULL));
	status = gpud_wait(&self->g, WAIT_MS);
	gpud_stop(&self->g);
	EXPECT_EQ(2, WEXITSTATUS(status));
	EXPECT_TRUE(gpud_log_has(&self->g, ":1: invalid threads '100'"));
	gpud_free(&self->g);
}

TEST_HARNESS_MAIN
