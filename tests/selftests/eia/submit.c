// SPDX-License-Identifier: GPL-2.0
/*
 * Command buffers on /dev/eiaN: every command end to end, through
 * EIA_IOCTL_SUBMIT and through io_uring (EIA_URING_CMD_SUBMIT) alike; every
 * malformed buffer and bad pointer the driver refuses; gpud's refusals (bad,
 * foreign and freed handles, ranges, the memory quota); contexts freed on
 * close and lost with their connection; a process killed with work in
 * flight; eight processes on one device; 1000 buffers in flight on a ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/tls.h>

#include "kselftest_harness.h"

#include "eia_ops.h"
#include "eia_test_lib.h"
#include "eia_test_main.h"

#define MIB		(1ull << 20)
#define NONE		EIA_SUBMIT_NONE_FAILED
#define CQE_WAIT_S	20

/* Where submits go: an open file, and a ring when they go through io_uring. */
struct target {
	int fd;
	bool uring;
	struct io_uring ring;
};

static int target_open(struct target *t, const char *dev, bool uring,
		       unsigned int ring_flags)
{
	int ret;

	t->uring = uring;
	t->fd = eia_open_dev(dev);
	if (t->fd < 0 || !uring)
		return t->fd < 0 ? t->fd : 0;
	ret = io_uring_queue_init(64, &t->ring,
				  IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | ring_flags);
	if (ret)
		t->uring = false;
	return ret;
}

static void target_close(struct target *t)
{
	if (t->uring)
		io_uring_queue_exit(&t->ring);
	t->uring = false;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Queues a uring_cmd submitting @s on @fd; the rest of the SQE is zero. */
static struct io_uring_sqe *uring_queue_sqe(struct io_uring *ring, int fd,
					    const struct eia_submit *s, uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return NULL;
	memset(sqe, 0, (ring->flags & IORING_SETUP_SQE128) ? 128 : 64);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = EIA_URING_CMD_SUBMIT;
	sqe->user_data = user_data;
	memcpy(sqe->cmd, s, sizeof(*s));
	return sqe;
}

static int uring_queue(struct io_uring *ring, int fd, const struct eia_submit *s,
		       uint64_t user_data)
{
	return uring_queue_sqe(ring, fd, s, user_data) ? 0 : -EBUSY;
}

/* The next CQE: its res, its first extra word (0 without CQE32), its user_data. */
static int uring_reap(struct io_uring *ring, int *res, uint32_t *extra, uint64_t *user_data)
{
	struct __kernel_timespec ts = { .tv_sec = CQE_WAIT_S };
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret;
	*res = cqe->res;
	*extra = (ring->flags & IORING_SETUP_CQE32) ? (uint32_t)cqe->big_cqe[0] : 0;
	if (user_data)
		*user_data = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* One submit through the ring, waiting for its completion. */
static int uring_submit(struct io_uring *ring, int fd, const struct eia_submit *s,
			uint32_t *failed)
{
	uint32_t extra;
	int ret, res;

	ret = uring_queue(ring, fd, s, 0x5eb);
	if (ret)
		return ret;
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = uring_reap(ring, &res, &extra, NULL);
	if (ret)
		return ret;
	if (failed)
		*failed = extra;
	return res;
}

/* Submits @s through @t: 0, the failing command's status or the submit's error. */
static int submit_args(struct target *t, struct eia_submit *s, uint32_t *failed)
{
	if (t->uring)
		return uring_submit(&t->ring, t->fd, s, failed);
	s->failed = 0x12345678;
	if (ioctl(t->fd, EIA_IOCTL_SUBMIT, s)) {
		if (failed)
			*failed = s->failed;
		return -errno;
	}
	if (failed)
		*failed = s->failed;
	return 0;
}

static int submit(struct target *t, const struct eia_cbuf *cb, struct eia_cb_result *results,
		  uint32_t *failed)
{
	struct eia_submit s = eia_cbuf_submit_args(cb, results);

	return submit_args(t, &s, failed);
}

static int alloc(struct target *t, uint64_t bytes, uint64_t *handle)
{
	uint64_t buf[2];
	struct eia_cbuf cb = { .buf = buf, .cap = sizeof(buf) };
	struct eia_cb_result res = { 0 };
	int ret;

	eia_cbuf_alloc(&cb, bytes);
	ret = submit(t, &cb, &res, NULL);
	if (!ret)
		*handle = res.value;
	return ret;
}

static int fence(struct target *t, uint64_t value)
{
	uint64_t buf[2];
	struct eia_cbuf cb = { .buf = buf, .cap = sizeof(buf) };
	struct eia_cb_result res = { 0 };
	int ret;

	eia_cbuf_fence(&cb, value);
	ret = submit(t, &cb, &res, NULL);
	if (!ret && res.value != value)
		return -EPROTO;
	return ret;
}

/* A FENCE through EIA_IOCTL_SUBMIT on @fd. */
static int fence_fd(int fd, uint64_t value)
{
	struct target t = { .fd = fd };

	return fence(&t, value);
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + seed * 7 + (i >> 9));
}

/*
 * Pins taken and not yet released in the whole system. The counters keep
 * per-CPU deltas that /proc/vmstat shows only once folded: fold them first.
 */
static int64_t pins_held(void)
{
	uint64_t acquired, released;
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			fd = -1;
		close(fd);
	}
	if (eia_vmstat("nr_foll_pin_acquired", &acquired) ||
	    eia_vmstat("nr_foll_pin_released", &released))
		return -1;
	return (int64_t)(acquired - released);
}

/* Waits up to @timeout_ms for the pins held to be @want again; the last count. */
static int64_t wait_pins_held(int64_t want, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms, held;

	while ((held = pins_held()) != want && eia_now_ms() < deadline)
		eia_sleep_ms(50);
	return held;
}

static bool feq(float a, float b)
{
	float d = a > b ? a - b : b - a;
	float m = (a < 0 ? -a : a) + (b < 0 ? -b : b);

	return d <= 1e-4f * m + 1e-5f;
}

/* ---- every command, both ways ---------------------------------------- */

FIXTURE(sub) {
	struct eia_nl nl;
	struct eia_dev dev;
	struct target t;
	struct eia_cbuf cb;
	struct eia_cb_result res[64];
	uint32_t failed;
};

FIXTURE_VARIANT(sub) {
	bool uring;
	unsigned int ring_flags;
};

FIXTURE_VARIANT_ADD(sub, ioctl) {
	.uring = false,
};

FIXTURE_VARIANT_ADD(sub, uring) {
	.uring = true,
};

/* Completions run only when the submitter waits: eia.ko must not rely on more. */
FIXTURE_VARIANT_ADD(sub, uring_defer) {
	.uring = true,
	.ring_flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
};

FIXTURE_SETUP(sub)
{
	self->t.fd = -1;
	ASSERT_EQ(0, eia_cbuf_init(&self->cb, EIA_CB_MAX_BYTES + 4096));
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.medium", 0, &self->dev)) {
		TH_LOG("attach: %s", self->nl.errmsg);
	}
	ASSERT_EQ(0, target_open(&self->t, self->dev.name, variant->uring,
				 variant->ring_flags));
}

FIXTURE_TEARDOWN(sub)
{
	target_close(&self->t);
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
	eia_cbuf_fini(&self->cb);
}

#define SUBMIT() submit(&self->t, &self->cb, self->res, &self->failed)

/* Expect the whole buffer to be refused before it runs, with @err. */
#define EXPECT_REFUSED(err) do {					\
	memset(self->res, 0x5a, sizeof(self->res));			\
	EXPECT_EQ(-(err), SUBMIT());					\
	EXPECT_EQ(NONE, self->failed);					\
	EXPECT_EQ(0x5a5a5a5a, (uint32_t)self->res[0].status);		\
} while (0)

TEST_F(sub, h2d_d2h_roundtrip)
{
	const size_t n = 3 * 4096 + 123;
	uint8_t *src = malloc(n + 16), *dst = malloc(n + 16);
	uint64_t h, used;
	unsigned int i;

	ASSERT_TRUE(src && dst);
	fill(src, n + 16, 1);
	memset(dst, 0xee, n + 16);
	ASSERT_EQ(0, alloc(&self->t, MIB, &h));
	EXPECT_NE(0, h);

	/* Unaligned on both sides, across pages; the data comes back in the same buffer. */
	eia_cbuf_h2d(&self->cb, h, 5, src + 3, n);
	eia_cbuf_d2h(&self->cb, dst + 1, h, 5, n);
	eia_cbuf_fence(&self->cb, 42);
	ASSERT_EQ(0, SUBMIT());
	EXPECT_EQ(NONE, self->failed);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, self->res[i].status);
		EXPECT_EQ(0, self->res[i].pad);
	}
	EXPECT_EQ(0, self->res[0].value);
	EXPECT_EQ(42, self->res[2].value);
	EXPECT_EQ(0, memcmp(dst + 1, src + 3, n));
	EXPECT_EQ(0xee, dst[0]);
	EXPECT_EQ(0xee, dst[n + 1]);

	/* A second buffer reads what the first one left. */
	memset(dst, 0, n + 16);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, dst, h, 4, n + 2);
	ASSERT_EQ(0, SUBMIT());
	EXPECT_EQ(0, memcmp(dst + 1, src + 3, n));

	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(MIB, used);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_free(&self->cb, h);
	ASSERT_EQ(0, SUBMIT());
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(0, used);
	free(src);
	free(dst);
}

/* The largest copies a buffer may carry: 8 MiB each way, page-aligned and not. */
TEST_F(sub, large_copies)
{
	const size_t n = 8 * MIB;
	uint8_t *src = malloc(n + 64), *dst = malloc(n + 64);
	uint64_t h;

	ASSERT_TRUE(src && dst);
	fill(src, n + 64, 2);
	ASSERT_EQ(0, alloc(&self->t, n + 64, &h));
	eia_cbuf_h2d(&self->cb, h, 0, src + 7, n);
	ASSERT_EQ(0, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, dst + 9, h, 0, n);
	ASSERT_EQ(0, SUBMIT());
	EXPECT_EQ(0, memcmp(src + 7, dst + 9, n));
	free(src);
	free(dst);
}

TEST_F(sub, d2d_and_memset)
{
	const size_t n = 64 * 1024;
	uint8_t *pat = malloc(n), *out = malloc(n), *ref = malloc(n);
	uint64_t a, b;

	ASSERT_TRUE(pat && out && ref);
	fill(pat, n, 3);
	ASSERT_EQ(0, alloc(&self->t, n, &a));
	ASSERT_EQ(0, alloc(&self->t, n, &b));
	eia_cbuf_h2d(&self->cb, a, 0, pat, n);
	eia_cbuf_memset(&self->cb, b, 0, n, 0x11);
	eia_cbuf_d2d(&self->cb, b, 1000, a, 333, 5000);
	eia_cbuf_memset(&self->cb, b, 7000, 100, 0xab);
	eia_cbuf_d2d(&self->cb, a, 0, a, 100, 10);	/* within one allocation */
	eia_cbuf_d2h(&self->cb, out, b, 0, n);
	ASSERT_EQ(0, SUBMIT());
	EXPECT_EQ(NONE, self->failed);

	memset(ref, 0x11, n);
	memcpy(ref + 1000, pat + 333, 5000);
	memset(ref + 7000, 0xab, 100);
	EXPECT_EQ(0, memcmp(ref, out, n));

	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, out, a, 0, 16);
	ASSERT_EQ(0, SUBMIT());
	memcpy(pat, pat + 100, 10);
	EXPECT_EQ(0, memcmp(pat, out, 16));
	free(pat);
	free(out);
	free(ref);
}

TEST_F(sub, fence_values)
{
	const uint64_t values[] = { 0, 1, 0x8000000000000000ull, ~0ull, 0x0123456789abcdefull };
	unsigned int i;

	for (i = 0; i < 5; i++)
		eia_cbuf_fence(&self->cb, values[i]);
	ASSERT_EQ(0, SUBMIT());
	EXPECT_EQ(NONE, self->failed);
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(0, self->res[i].status);
		EXPECT_EQ(values[i], self->res[i].value);
	}
	/* Without a results array the submit still works. */
	ASSERT_EQ(0, submit(&self->t, &self->cb, NULL, &self->failed));
	EXPECT_EQ(NONE, self->failed);
}

/* Add with broadcasting: A[4,1,8] + B[3,1] -> C[4,3,8], against a reference. */
TEST_F(sub, launch_add)
{
	float a[4][1][8], b[3][1], c[4][3][8], ref[4][3][8];
	const int64_t da[] = { 4, 1, 8 }, db[] = { 3, 1 }, dc[] = { 4, 3, 8 };
	struct eia_cb_tensor t[3];
	uint64_t h;
	int i, j, k, bad = 0;

	for (i = 0; i < 4; i++)
		for (k = 0; k < 8; k++)
			a[i][0][k] = (float)(i * 10 + k) / 4.0f - 3.0f;
	for (j = 0; j < 3; j++)
		b[j][0] = (float)j * 100.5f;
	for (i = 0; i < 4; i++)
		for (j = 0; j < 3; j++)
			for (k = 0; k < 8; k++)
				ref[i][j][k] = a[i][0][k] + b[j][0];
	memset(c, 0, sizeof(c));

	ASSERT_EQ(0, alloc(&self->t, 4096, &h));
	t[0] = eia_tensor(h, 0, EIA_DTYPE_F32, 3, da);
	t[1] = eia_tensor(h, 256, EIA_DTYPE_F32, 2, db);
	t[2] = eia_tensor(h, 512, EIA_DTYPE_F32, 3, dc);
	eia_cbuf_h2d(&self->cb, h, 0, a, sizeof(a));
	eia_cbuf_h2d(&self->cb, h, 256, b, sizeof(b));
	ASSERT_NE(NULL, eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, NULL, 0));
	eia_cbuf_d2h(&self->cb, c, h, 512, sizeof(c));
	ASSERT_EQ(0, SUBMIT()) {
		TH_LOG("failed command %u: %d", self->failed,
		       self->failed < 4 ? self->res[self->failed].status : 0);
	}
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 3; j++) {
			for (k = 0; k < 8; k++)
				bad += !feq(ref[i][j][k], c[i][j][k]);
		}
	}
	EXPECT_EQ(0, bad);
}

/* Gemm: Y = 1.5 * A[17,33] * B^T (B stored [9,33]) + 0.5 * C[9], against a reference. */
TEST_F(sub, launch_gemm)
{
	enum { M = 17, K = 33, N = 9 };
	static float a[M][K], b[N][K], c[N], y[M][N], ref[M][N];
	const int64_t da[] = { M, K }, db[] = { N, K }, dc[] = { N }, dy[] = { M, N };
	const struct eia_gemm_attr attr = { .alpha = 1.5f, .beta = 0.5f, .trans_b = 1 };
	struct eia_cb_tensor t[4];
	uint64_t h, oa = 0, ob = 4096, oc = 8192, oy = 12288;
	int i, j, k, bad = 0;

	for (i = 0; i < M; i++)
		for (k = 0; k < K; k++)
			a[i][k] = (float)((i * 7 + k * 3) % 11) / 8.0f - 0.5f;
	for (j = 0; j < N; j++)
		for (k = 0; k < K; k++)
			b[j][k] = (float)((j * 5 + k) % 13) / 4.0f - 1.25f;
	for (j = 0; j < N; j++)
		c[j] = (float)j - 4.0f;
	for (i = 0; i < M; i++)
		for (j = 0; j < N; j++) {
			double s = 0;

			for (k = 0; k < K; k++)
				s += (double)a[i][k] * b[j][k];
			ref[i][j] = (float)(1.5 * s + 0.5 * c[j]);
		}

	ASSERT_EQ(0, alloc(&self->t, 16384, &h));
	t[0] = eia_tensor(h, oa, EIA_DTYPE_F32, 2, da);
	t[1] = eia_tensor(h, ob, EIA_DTYPE_F32, 2, db);
	t[2] = eia_tensor(h, oc, EIA_DTYPE_F32, 1, dc);
	t[3] = eia_tensor(h, oy, EIA_DTYPE_F32, 2, dy);
	eia_cbuf_h2d(&self->cb, h, oa, a, sizeof(a));
	eia_cbuf_h2d(&self->cb, h, ob, b, sizeof(b));
	eia_cbuf_h2d(&self->cb, h, oc, c, sizeof(c));
	ASSERT_NE(NULL, eia_cbuf_launch(&self->cb, EIA_OP_GEMM, 3, 1, t, &attr, sizeof(attr)));
	eia_cbuf_d2h(&self->cb, y, h, oy, sizeof(y));
	ASSERT_EQ(0, SUBMIT()) {
		TH_LOG("failed command %u: %d", self->failed,
		       self->failed < 5 ? self->res[self->failed].status : 0);
	}
	for (i = 0; i < M; i++) {
		for (j = 0; j < N; j++) {
			if (!feq(ref[i][j], y[i][j]) && !bad++)
				TH_LOG("y[%d][%d] = %f, want %f", i, j, y[i][j], ref[i][j]);
		}
	}
	EXPECT_EQ(0, bad);
}

/*
 * The first failing command stops the buffer: the D2H before it landed, the
 * one after it did not touch its destination, later results say ECANCELED.
 */
TEST_F(sub, failure_stops_buffer)
{
	uint8_t pat[300], out1[300], out2[300];
	uint64_t h;
	unsigned int i;

	fill(pat, sizeof(pat), 4);
	memset(out1, 0, sizeof(out1));
	memset(out2, 0xc3, sizeof(out2));
	ASSERT_EQ(0, alloc(&self->t, 4096, &h));
	eia_cbuf_h2d(&self->cb, h, 0, pat, sizeof(pat));
	eia_cbuf_d2h(&self->cb, out1, h, 0, sizeof(out1));
	eia_cbuf_free(&self->cb, 0x123456789abcull);
	eia_cbuf_d2h(&self->cb, out2, h, 0, sizeof(out2));
	eia_cbuf_fence(&self->cb, 7);
	EXPECT_EQ(-ENOENT, SUBMIT());
	EXPECT_EQ(2, self->failed);
	EXPECT_EQ(0, self->res[0].status);
	EXPECT_EQ(0, self->res[1].status);
	EXPECT_EQ(-ENOENT, self->res[2].status);
	EXPECT_EQ(-ECANCELED, self->res[3].status);
	EXPECT_EQ(-ECANCELED, self->res[4].status);
	EXPECT_EQ(0, self->res[4].value);
	EXPECT_EQ(0, memcmp(pat, out1, sizeof(pat)));
	for (i = 0; i < sizeof(out2); i++)
		ASSERT_EQ(0xc3, out2[i]);
	EXPECT_EQ(0, fence(&self->t, 8));
}

/* Buffers of one file run in the order they were submitted. */
TEST_F(sub, buffers_keep_order)
{
	struct eia_cbuf cbs[20];
	uint64_t vals[20], out = 0, h;
	struct eia_submit s;
	unsigned int i;
	uint32_t failed;
	int res;

	ASSERT_EQ(0, alloc(&self->t, 8, &h));
	for (i = 0; i < 20; i++) {
		vals[i] = 1000 + i;
		ASSERT_EQ(0, eia_cbuf_init(&cbs[i], 64));
		if (i < 19)
			eia_cbuf_h2d(&cbs[i], h, 0, &vals[i], 8);
		else
			eia_cbuf_d2h(&cbs[i], &out, h, 0, 8);
	}
	if (self->t.uring) {
		/* All queued at once, one io_uring_enter. */
		for (i = 0; i < 20; i++) {
			s = eia_cbuf_submit_args(&cbs[i], NULL);
			ASSERT_EQ(0, uring_queue(&self->t.ring, self->t.fd, &s, i));
		}
		ASSERT_EQ(20, io_uring_submit(&self->t.ring));
		for (i = 0; i < 20; i++) {
			ASSERT_EQ(0, uring_reap(&self->t.ring, &res, &failed, NULL));
			EXPECT_EQ(0, res);
			EXPECT_EQ(NONE, failed);
		}
	} else {
		for (i = 0; i < 20; i++)
			ASSERT_EQ(0, submit(&self->t, &cbs[i], NULL, NULL));
	}
	EXPECT_EQ(1018, out);
	for (i = 0; i < 20; i++)
		eia_cbuf_fini(&cbs[i]);
}

/* A long buffer, submitted by a thread of its own through the ioctl. */
struct long_submit {
	struct target *t;
	struct eia_submit s;
	int ret;
	atomic_bool done;
};

static void *long_submit_main(void *arg)
{
	struct long_submit *ls = arg;

	ls->ret = submit_args(ls->t, &ls->s, NULL);
	atomic_store(&ls->done, true);
	return NULL;
}

/*
 * Buffers on different queues of one file run side by side: a fence on
 * queue 2 completes while a long buffer on queue 1, submitted first, runs.
 */
TEST_F_TIMEOUT(sub, queues_overtake, 120)
{
	enum { N = 128, REPS = 32 };
	static float ones[N * N], y[16];
	const int64_t dims[] = { N, N };
	const uint64_t mat = sizeof(ones);
	struct eia_cb_tensor t[3];
	struct long_submit ls = { .t = &self->t };
	struct eia_cb_result qres = { .status = -1 };
	struct eia_cbuf quick;
	uint64_t h, ud = 0;
	struct eia_submit qs;
	pthread_t thread;
	uint32_t failed;
	int i, res;

	for (i = 0; i < N * N; i++)
		ones[i] = 1.0f;
	ASSERT_EQ(0, alloc(&self->t, 3 * mat, &h));
	t[0] = eia_tensor(h, 0, EIA_DTYPE_F32, 2, dims);
	t[1] = eia_tensor(h, mat, EIA_DTYPE_F32, 2, dims);
	t[2] = eia_tensor(h, 2 * mat, EIA_DTYPE_F32, 2, dims);
	eia_cbuf_h2d(&self->cb, h, 0, ones, mat);
	eia_cbuf_h2d(&self->cb, h, mat, ones, mat);
	for (i = 0; i < REPS; i++)
		ASSERT_NE(NULL, eia_cbuf_launch(&self->cb, EIA_OP_MATMUL, 2, 1, t, NULL, 0));
	eia_cbuf_d2h(&self->cb, y, h, 2 * mat, sizeof(y));
	ls.s = eia_cbuf_submit_args(&self->cb, NULL);
	ls.s.queue = 1;
	ASSERT_EQ(0, eia_cbuf_init(&quick, 64));
	eia_cbuf_fence(&quick, 5);
	qs = eia_cbuf_submit_args(&quick, &qres);
	qs.queue = 2;

	if (self->t.uring) {
		/* Both in one io_uring_enter, the long one first. */
		ASSERT_EQ(0, uring_queue(&self->t.ring, self->t.fd, &ls.s, 1));
		ASSERT_EQ(0, uring_queue(&self->t.ring, self->t.fd, &qs, 2));
		ASSERT_EQ(2, io_uring_submit(&self->t.ring));
		ASSERT_EQ(0, uring_reap(&self->t.ring, &res, &failed, &ud));
		EXPECT_EQ(0, res);
		EXPECT_EQ(2, ud);
		ASSERT_EQ(0, uring_reap(&self->t.ring, &res, &failed, &ud));
		EXPECT_EQ(0, res);
		EXPECT_EQ(1, ud);
	} else {
		ASSERT_EQ(0, pthread_create(&thread, NULL, long_submit_main, &ls));
		usleep(200 * 1000);	/* the long buffer reaches gpud first */
		EXPECT_EQ(0, submit_args(&self->t, &qs, NULL));
		EXPECT_FALSE(atomic_load(&ls.done));
		pthread_join(thread, NULL);
		EXPECT_EQ(0, ls.ret);
	}
	EXPECT_EQ(0, qres.status);
	EXPECT_EQ(5, qres.value);
	/* Queue 1's work all ran: N ones times N ones. */
	for (i = 0; i < 16; i++)
		EXPECT_EQ((float)N, y[i]);
	eia_cbuf_fini(&quick);
}

/* ---- gpud's refusals: command results ----------------------------------- */

TEST_F(sub, bad_handle)
{
	eia_cbuf_free(&self->cb, 0xdeadbeefull);
	eia_cbuf_fence(&self->cb, 1);
	EXPECT_EQ(-ENOENT, SUBMIT());
	EXPECT_EQ(0, self->failed);
	EXPECT_EQ(-ENOENT, self->res[0].status);
	EXPECT_EQ(-ECANCELED, self->res[1].status);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_memset(&self->cb, 0, 0, 1, 0);
	EXPECT_EQ(-ENOENT, SUBMIT());
	EXPECT_EQ(0, fence(&self->t, 2));
}

/* Another file's handle is not this context's: ENOENT, and its memory is untouched. */
TEST_F(sub, foreign_handle)
{
	int fd2 = eia_open_dev(self->dev.name);
	uint8_t pat[64], out[64];
	uint64_t h2, mine;

	ASSERT_LE(0, fd2);
	fill(pat, sizeof(pat), 5);
	ASSERT_EQ(0, eia_mem_alloc(fd2, 4096, &h2));
	ASSERT_EQ(0, alloc(&self->t, 4096, &mine));
	ASSERT_NE(h2, mine);

	eia_cbuf_memset(&self->cb, h2, 0, 64, 0xff);
	EXPECT_EQ(-ENOENT, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, out, h2, 0, 64);
	EXPECT_EQ(-ENOENT, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_free(&self->cb, h2);
	EXPECT_EQ(-ENOENT, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2d(&self->cb, mine, 0, h2, 0, 64);
	EXPECT_EQ(-ENOENT, SUBMIT());

	/* The owner still has it, as it was. */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h2, 0, pat, 64);
	eia_cbuf_d2h(&self->cb, out, h2, 0, 64);
	ASSERT_EQ(0, eia_submit_cbuf(fd2, &self->cb, NULL, NULL));
	EXPECT_EQ(0, memcmp(pat, out, 64));
	EXPECT_EQ(0, eia_mem_free(fd2, h2));
	close(fd2);
}

TEST_F(sub, freed_handle)
{
	uint8_t b = 0;
	uint64_t h;

	ASSERT_EQ(0, alloc(&self->t, 4096, &h));
	eia_cbuf_free(&self->cb, h);
	ASSERT_EQ(0, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_memset(&self->cb, h, 0, 1, 1);
	EXPECT_EQ(-ENOENT, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, &b, h, 0, 1);
	EXPECT_EQ(-ENOENT, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_free(&self->cb, h);
	EXPECT_EQ(-ENOENT, SUBMIT());
	/* Freed within one buffer, then used. */
	ASSERT_EQ(0, alloc(&self->t, 4096, &h));
	eia_cbuf_reset(&self->cb);
	eia_cbuf_free(&self->cb, h);
	eia_cbuf_memset(&self->cb, h, 0, 1, 1);
	EXPECT_EQ(-ENOENT, SUBMIT());
	EXPECT_EQ(1, self->failed);
}

TEST_F(sub, range_outside_allocation)
{
	uint8_t buf[256];
	uint64_t h, g;

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, alloc(&self->t, 4096, &h));
	ASSERT_EQ(0, alloc(&self->t, 100, &g));
	eia_cbuf_h2d(&self->cb, h, 4000, buf, 200);
	EXPECT_EQ(-ERANGE, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, buf, h, 4096, 1);
	EXPECT_EQ(-ERANGE, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2d(&self->cb, g, 0, h, 0, 101);
	EXPECT_EQ(-ERANGE, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_memset(&self->cb, g, 50, 51, 0);
	EXPECT_EQ(-ERANGE, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_memset(&self->cb, g, 50, 50, 0);
	EXPECT_EQ(0, SUBMIT());
}

/* Over the quota: EDQUOT, nothing else disturbed, the device keeps working. */
TEST_F(sub, over_quota)
{
	uint64_t total, used, half, h, small;
	uint8_t pat[128], out[128];

	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_total_bytes", &total));
	half = total / 2;
	EXPECT_EQ(-EDQUOT, alloc(&self->t, total + 1, &h));
	EXPECT_EQ(-EDQUOT, alloc(&self->t, ~0ull, &h));
	ASSERT_EQ(0, alloc(&self->t, half, &h));
	EXPECT_EQ(-EDQUOT, alloc(&self->t, total - half + 1, &small));
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(half, used);

	ASSERT_EQ(0, alloc(&self->t, 4096, &small));
	fill(pat, sizeof(pat), 6);
	eia_cbuf_h2d(&self->cb, small, 0, pat, sizeof(pat));
	eia_cbuf_d2h(&self->cb, out, small, 0, sizeof(out));
	ASSERT_EQ(0, SUBMIT());
	EXPECT_EQ(0, memcmp(pat, out, sizeof(pat)));
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(half + 4096, used);

	/* The rest of the quota is there, to the byte. */
	EXPECT_EQ(0, alloc(&self->t, total - half - 4096, &h));
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(total, used);
	EXPECT_EQ(-EDQUOT, alloc(&self->t, 1, &h));
	target_close(&self->t);
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(0, used);
}

/* ---- refused by the driver: nothing runs --------------------------------- */

TEST_F(sub, overflowing_sizes_and_offsets)
{
	static uint8_t big[9 << 20];
	uint64_t h;

	ASSERT_EQ(0, alloc(&self->t, 4096, &h));
	eia_cbuf_h2d(&self->cb, h, ~0ull - 10, big, 100);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, big, h, ~0ull, 1);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2d(&self->cb, h, 1, h, 0, ~0ull);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_memset(&self->cb, h, 1ull << 63, 1ull << 63, 0);
	EXPECT_REFUSED(EINVAL);

	/* More data than one message may carry. */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, big, EIA_WIRE_MAX_PAYLOAD + 1ull);
	EXPECT_REFUSED(EMSGSIZE);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, big, h, 0, ~0ull >> 1);
	EXPECT_REFUSED(EMSGSIZE);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, big, 9 << 20);
	eia_cbuf_d2h(&self->cb, big, h, 0, 9 << 20);
	EXPECT_REFUSED(EMSGSIZE);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, big, 6 << 20);
	eia_cbuf_h2d(&self->cb, h, 0, big, 6 << 20);
	eia_cbuf_h2d(&self->cb, h, 0, big, 6 << 20);
	EXPECT_REFUSED(EMSGSIZE);
	/* Nothing of that reached gpud: a valid buffer still works. */
	EXPECT_EQ(0, fence(&self->t, 3));
}

TEST_F(sub, null_and_unmapped_pointers)
{
	const long pg = sysconf(_SC_PAGESIZE);
	uint8_t *gone, *ro, *half;
	struct eia_submit s;
	int64_t pins;
	uint64_t h;

	pins = pins_held();
	ASSERT_EQ(0, alloc(&self->t, 4 * pg, &h));
	ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	/* One page of data, then one no access is allowed to. */
	half = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, half);
	ASSERT_EQ(0, mprotect(half + pg, pg, PROT_NONE));
	memset(half, 1, pg);
	/* Unmapped last, so that no later mapping takes its place. */
	gone = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	munmap(gone, pg);

	eia_cbuf_h2d(&self->cb, h, 0, NULL, 16);
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, NULL, h, 0, 16);
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, gone, 16);
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, gone, h, 0, 16);
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, ro, h, 0, 16);		/* not writable */
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, half, 2 * pg);	/* runs into PROT_NONE */
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, half + pg, 16);
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, (void *)0xffff888000000000ull, 16);
	EXPECT_REFUSED(EFAULT);
	/* A good copy first, a bad one after: nothing of it runs. */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, h, 0, half, 16);
	eia_cbuf_d2h(&self->cb, half + pg - 8, h, 0, 16);
	EXPECT_REFUSED(EFAULT);

	/* The buffer itself. */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_fence(&self->cb, 1);
	s = eia_cbuf_submit_args(&self->cb, NULL);
	s.cmds = 0;
	EXPECT_EQ(-EFAULT, submit_args(&self->t, &s, NULL));
	s.cmds = (uintptr_t)gone;
	EXPECT_EQ(-EFAULT, submit_args(&self->t, &s, NULL));
	s = eia_cbuf_submit_args(&self->cb, (void *)0xffff888000000000ull);
	EXPECT_EQ(-EFAULT, submit_args(&self->t, &s, NULL));
	/* Unmapped results: the buffer runs, its results cannot be delivered. */
	s = eia_cbuf_submit_args(&self->cb, (void *)gone);
	EXPECT_EQ(-EFAULT, submit_args(&self->t, &s, NULL));

	EXPECT_EQ(0, fence(&self->t, 4));
	if (pins >= 0)
		EXPECT_EQ(pins, wait_pins_held(pins, 2000));
	munmap(ro, pg);
	munmap(half, 2 * pg);
}

/* Bytes the device has sent to gpud. */
static uint64_t bytes_sent(const char *dev)
{
	uint64_t v = 0;

	eia_sysfs_u64(dev, "bytes_sent", &v);
	return v;
}

TEST_F(sub, oversized_buffer)
{
	struct eia_cb_launch_op *l;
	struct eia_submit s;
	uint64_t sent;
	void *attr;
	uint32_t i;
	int ret;

	/* Refused before anything is sent (health checks send a few bytes). */
	eia_cbuf_fence(&self->cb, 1);
	s = eia_cbuf_submit_args(&self->cb, NULL);
	s.cmds_bytes = EIA_CB_MAX_BYTES + EIA_CB_ALIGN;
	sent = bytes_sent(self->dev.name);
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	EXPECT_GT(sent + 1024, bytes_sent(self->dev.name));

	/*
	 * Exactly the largest buffer goes to gpud: 4096 commands, 1 MiB, the
	 * last an operator launch with a large attribute block. gpud, which
	 * takes attributes of at most a few KiB, refuses it as a whole.
	 */
	eia_cbuf_reset(&self->cb);
	for (i = 0; i < EIA_CB_MAX_CMDS - 1; i++)
		eia_cbuf_fence(&self->cb, i);
	attr = calloc(1, EIA_CB_MAX_BYTES);
	ASSERT_NE(NULL, attr);
	l = eia_cbuf_launch(&self->cb, EIA_OP_RELU, 0, 0, NULL, attr,
			    EIA_CB_MAX_BYTES - self->cb.len - sizeof(*l));
	ASSERT_NE(NULL, l);
	free(attr);
	ASSERT_EQ(EIA_CB_MAX_BYTES, self->cb.len);
	sent = bytes_sent(self->dev.name);
	ret = SUBMIT();
	EXPECT_LE(sent + EIA_CB_MAX_BYTES, bytes_sent(self->dev.name));
	EXPECT_EQ(-EINVAL, ret);
	EXPECT_EQ(NONE, self->failed);

	/* One command more is refused at once. */
	eia_cbuf_fence(&self->cb, 1);
	s = eia_cbuf_submit_args(&self->cb, NULL);
	sent = bytes_sent(self->dev.name);
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	EXPECT_GT(sent + 1024, bytes_sent(self->dev.name));

	/* The largest command count, in a small buffer, runs. */
	eia_cbuf_reset(&self->cb);
	for (i = 0; i < EIA_CB_MAX_CMDS; i++)
		eia_cbuf_fence(&self->cb, i * 3ull);
	{
		struct eia_cb_result *res = calloc(EIA_CB_MAX_CMDS, sizeof(*res));

		ASSERT_NE(NULL, res);
		ASSERT_EQ(0, submit(&self->t, &self->cb, res, &self->failed));
		EXPECT_EQ(NONE, self->failed);
		for (i = 0; i < EIA_CB_MAX_CMDS; i++) {
			if (res[i].status || res[i].value != i * 3ull)
				break;
		}
		EXPECT_EQ(EIA_CB_MAX_CMDS, i);
		free(res);
	}
}

TEST_F(sub, ncmds_mismatch)
{
	struct eia_submit s;

	eia_cbuf_fence(&self->cb, 1);
	eia_cbuf_fence(&self->cb, 2);
	s = eia_cbuf_submit_args(&self->cb, self->res);
	s.ncmds = 1;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s.ncmds = 3;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s.ncmds = 0;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s.ncmds = EIA_CB_MAX_CMDS + 1;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	/* A buffer cut inside a command. */
	s = eia_cbuf_submit_args(&self->cb, self->res);
	s.cmds_bytes = 24;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s.cmds_bytes = 0;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s.cmds_bytes = 20;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s = eia_cbuf_submit_args(&self->cb, self->res);
	EXPECT_EQ(0, submit_args(&self->t, &s, NULL));
}

TEST_F(sub, unknown_opcode)
{
	const uint16_t ops[] = { 0, EIA_CB_LAUNCH_KERNEL + 1, 0x100, 0xffff };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		eia_cbuf_reset(&self->cb);
		eia_cbuf_fence(&self->cb, 1);
		eia_cbuf_add(&self->cb, ops[i], 16);
		EXPECT_REFUSED(EINVAL);
	}
}

static const char vadd_ptx[] = ".version 7.0\n.target sm_80\n.address_size 64\n";

static struct eia_cb_module_load *cbuf_module_load(struct eia_cbuf *cb, const void *image,
						   uint64_t bytes)
{
	struct eia_cb_module_load *c = eia_cbuf_add(cb, EIA_CB_MODULE_LOAD, sizeof(*c));

	c->image = (uintptr_t)image;
	c->bytes = bytes;
	return c;
}

static struct eia_cb_module_get_function *cbuf_get_function(struct eia_cbuf *cb,
							    const char *name, uint32_t len)
{
	struct eia_cb_module_get_function *c =
		eia_cbuf_add(cb, EIA_CB_MODULE_GET_FUNCTION,
			     sizeof(*c) + ((len + EIA_CB_ALIGN - 1) & ~(EIA_CB_ALIGN - 1)));

	c->module = 1;
	c->name_len = len;
	memcpy(c + 1, name, len);
	return c;
}

static struct eia_cb_launch_kernel *cbuf_launch_kernel(struct eia_cbuf *cb, uint32_t nptrs,
						       uint32_t params_size)
{
	struct eia_cb_launch_kernel *c =
		eia_cbuf_add(cb, EIA_CB_LAUNCH_KERNEL,
			     sizeof(*c) + nptrs * sizeof(struct eia_cb_kernel_ptr) +
			     ((params_size + EIA_CB_ALIGN - 1) & ~(EIA_CB_ALIGN - 1)));
	int i;

	c->function = 1;
	for (i = 0; i < 3; i++) {
		c->grid[i] = 1;
		c->block[i] = 1;
	}
	c->params_size = params_size;
	c->nptrs = nptrs;
	return c;
}

/*
 * Raw modules: the driver carries the image from user memory like H2D data
 * and checks every field; gpud's CPU backend then refuses the commands.
 */
TEST_F(sub, raw_modules)
{
	const long pg = sysconf(_SC_PAGESIZE);
	struct eia_cb_module_get_function *g;
	struct eia_cb_launch_kernel *k;
	struct eia_cb_kernel_ptr *p;
	int64_t pins = pins_held();
	uint8_t *gone;
	uint64_t h;

	ASSERT_EQ(0, alloc(&self->t, 64, &h));
	gone = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	munmap(gone, pg);

	/* Well-formed: each reaches gpud, which has no CUDA here. */
	cbuf_module_load(&self->cb, vadd_ptx, sizeof(vadd_ptx) - 1);
	EXPECT_EQ(-EOPNOTSUPP, SUBMIT());
	EXPECT_EQ(0, self->failed);
	EXPECT_EQ(0, self->res[0].value);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_fence(&self->cb, 3);
	cbuf_get_function(&self->cb, "vadd", 4);
	EXPECT_EQ(-EOPNOTSUPP, SUBMIT());
	EXPECT_EQ(1, self->failed);
	EXPECT_EQ(3, self->res[0].value);
	eia_cbuf_reset(&self->cb);
	k = cbuf_launch_kernel(&self->cb, 1, 16);
	p = (struct eia_cb_kernel_ptr *)(k + 1);
	p->param_offset = 8;
	p->handle = h;
	EXPECT_EQ(-EOPNOTSUPP, SUBMIT());
	eia_cbuf_reset(&self->cb);
	eia_cbuf_add(&self->cb, EIA_CB_MODULE_UNLOAD, sizeof(struct eia_cb_module_unload));
	EXPECT_EQ(-EOPNOTSUPP, SUBMIT());

	/* The image: NULL, unmapped, empty, larger than any request. */
	eia_cbuf_reset(&self->cb);
	cbuf_module_load(&self->cb, NULL, 64);
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	cbuf_module_load(&self->cb, gone, 64);
	EXPECT_REFUSED(EFAULT);
	eia_cbuf_reset(&self->cb);
	cbuf_module_load(&self->cb, vadd_ptx, 0);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	cbuf_module_load(&self->cb, vadd_ptx, 1ull << 40);
	EXPECT_REFUSED(EMSGSIZE);

	/* The name: empty, with a NUL, bad padding, a size that disagrees. */
	eia_cbuf_reset(&self->cb);
	cbuf_get_function(&self->cb, "", 0);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	cbuf_get_function(&self->cb, "va\0dd", 5);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	g = cbuf_get_function(&self->cb, "vadd", 4);
	((char *)(g + 1))[7] = 'x';
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	cbuf_get_function(&self->cb, "vadd", 4)->name_len = 9;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	cbuf_get_function(&self->cb, "vadd", 4)->pad = 1;
	EXPECT_REFUSED(EINVAL);

	/* The launch: a 0 dimension, limits, a pointer outside, pads, sizes. */
	eia_cbuf_reset(&self->cb);
	cbuf_launch_kernel(&self->cb, 0, 0)->block[1] = 0;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	cbuf_launch_kernel(&self->cb, 0, EIA_CB_KERNEL_PARAMS_MAX + 8);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	p = (struct eia_cb_kernel_ptr *)(cbuf_launch_kernel(&self->cb, 1, 12) + 1);
	p->param_offset = 8;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	p = (struct eia_cb_kernel_ptr *)(cbuf_launch_kernel(&self->cb, 1, 16) + 1);
	p->param_offset = 4;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	p = (struct eia_cb_kernel_ptr *)(cbuf_launch_kernel(&self->cb, 1, 16) + 1);
	p->pad = 1;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	cbuf_launch_kernel(&self->cb, 0, 0)->pad = 1;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	cbuf_launch_kernel(&self->cb, 0, 0)->nptrs = 1;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	k = cbuf_launch_kernel(&self->cb, 0, 4);
	((uint8_t *)(k + 1))[6] = 1;	/* parameter padding */
	EXPECT_REFUSED(EINVAL);

	/* No page stays pinned, and the device still works. */
	EXPECT_EQ(0, fence(&self->t, 9));
	if (pins >= 0)
		EXPECT_EQ(pins, wait_pins_held(pins, 2000));
}

/* Every pad, flag and size the uapi fixes, spoiled in turn. */
TEST_F(sub, nonzero_pad_flags_and_bad_sizes)
{
	const int64_t dims[] = { 2, 2 };
	struct eia_cb_tensor t[3] = {
		eia_tensor(1, 0, EIA_DTYPE_F32, 2, dims),
		eia_tensor(1, 64, EIA_DTYPE_F32, 2, dims),
		eia_tensor(1, 128, EIA_DTYPE_F32, 2, dims),
	};
	const uint8_t attr[12] = { 0 };
	static uint8_t big[16384];
	uint64_t sent;
	struct eia_cb_launch_op *l;
	struct eia_submit s;
	uint8_t src[16];

	memset(src, 0, sizeof(src));
	eia_cbuf_fence(&self->cb, 1)->hdr.flags = 1;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_memset(&self->cb, 1, 0, 1, 0)->pad = 1;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_memset(&self->cb, 1, 0, 1, 256);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, 1, 0, src, 16)->src_offset = 1;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_d2h(&self->cb, src, 1, 0, 16)->dst_offset = 8;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_alloc(&self->cb, 0);
	EXPECT_REFUSED(EINVAL);

	/* Sizes: a FENCE of 24 bytes, a MEM_FREE of 8. */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_add(&self->cb, EIA_CB_FENCE, 24);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_add(&self->cb, EIA_CB_MEM_FREE, 8);
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_fence(&self->cb, 1)->hdr.size = 12;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_fence(&self->cb, 1)->hdr.size = 0;
	EXPECT_REFUSED(EINVAL);

	/* LAUNCH_OP: pad, tensors, attribute padding, size. */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, NULL, 0)->pad = 1;
	EXPECT_REFUSED(EINVAL);
	t[1].ndim = EIA_CB_MAX_DIMS + 1;
	eia_cbuf_reset(&self->cb);
	eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, NULL, 0);
	EXPECT_REFUSED(EINVAL);
	t[1].ndim = 1;		/* dims[1] = 2 is past ndim */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, NULL, 0);
	EXPECT_REFUSED(EINVAL);
	t[1].ndim = 2;
	eia_cbuf_reset(&self->cb);
	l = eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, attr, sizeof(attr));
	((uint8_t *)l)[l->hdr.size - 1] = 1;	/* attribute padding */
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, NULL, 0)->ninputs = 3;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, attr, sizeof(attr))->attr_size = 17;
	EXPECT_REFUSED(EINVAL);
	eia_cbuf_reset(&self->cb);
	eia_cbuf_launch(&self->cb, EIA_OP_ADD, 2, 1, t, NULL, 0)->attr_size = 0xfffffff9u;
	EXPECT_REFUSED(EINVAL);

	/* struct eia_submit itself. */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_fence(&self->cb, 1);
	s = eia_cbuf_submit_args(&self->cb, NULL);
	s.flags = 1;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s = eia_cbuf_submit_args(&self->cb, NULL);
	s.queue = EIA_CB_QUEUES;	/* one past the last queue */
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s = eia_cbuf_submit_args(&self->cb, NULL);
	s.reserved = 0x80000000u;
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	s = eia_cbuf_submit_args(&self->cb, NULL);
	s.cmds += 4;		/* not EIA_CB_ALIGN-aligned */
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));

	/*
	 * gpud would refuse a queue past the last too: eia.ko must not even
	 * send it (health checks send a few bytes; this buffer is 16 KiB).
	 */
	eia_cbuf_reset(&self->cb);
	eia_cbuf_h2d(&self->cb, 1, 0, big, sizeof(big));
	s = eia_cbuf_submit_args(&self->cb, NULL);
	s.queue = EIA_CB_QUEUES;
	sent = bytes_sent(self->dev.name);
	EXPECT_EQ(-EINVAL, submit_args(&self->t, &s, NULL));
	EXPECT_GT(sent + 1024, bytes_sent(self->dev.name));
	EXPECT_EQ(0, fence(&self->t, 5));
}

/* ---- io_uring specifics, contexts, processes ---------------------------- */

FIXTURE(ctx) {
	struct eia_nl nl;
	struct eia_dev dev;
};

FIXTURE_SETUP(ctx)
{
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.medium", 0, &self->dev)) {
		TH_LOG("attach: %s", self->nl.errmsg);
	}
}

FIXTURE_TEARDOWN(ctx)
{
	eia_gpud_kill(SIGCONT);
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
	eia_gpud_ensure();
}

static void fence_cbuf(struct eia_cbuf *cb, uint64_t *buf, uint64_t value)
{
	*cb = (struct eia_cbuf){ .buf = buf, .cap = 16 };
	eia_cbuf_fence(cb, value);
}

TEST_F(ctx, missing_sqe128)
{
	struct io_uring ring;
	struct eia_cbuf cb;
	struct eia_submit s;
	uint64_t buf[2];
	uint32_t extra;
	int fd, res;

	fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fd);
	fence_cbuf(&cb, buf, 9);
	s = eia_cbuf_submit_args(&cb, NULL);

	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	ASSERT_EQ(0, uring_queue(&ring, fd, &s, 1));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, uring_reap(&ring, &res, &extra, NULL));
	EXPECT_EQ(-EINVAL, res);
	io_uring_queue_exit(&ring);

	/* SQE128 without CQE32: the CQE has the status, no failed index. */
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, IORING_SETUP_SQE128));
	ASSERT_EQ(0, uring_queue(&ring, fd, &s, 2));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, uring_reap(&ring, &res, &extra, NULL));
	EXPECT_EQ(0, res);
	io_uring_queue_exit(&ring);
	close(fd);
}

TEST_F(ctx, uring_bad_sqe)
{
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	struct eia_cbuf cb;
	struct eia_submit s;
	uint64_t buf[2];
	uint32_t extra;
	int fd, res;

	fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fd);
	fence_cbuf(&cb, buf, 9);
	s = eia_cbuf_submit_args(&cb, NULL);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32));

	/* Unknown cmd_op. */
	sqe = uring_queue_sqe(&ring, fd, &s, 1);
	ASSERT_NE(NULL, sqe);
	sqe->cmd_op = _IOW(EIA_IOCTL_MAGIC, 0x7f, struct eia_submit);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, uring_reap(&ring, &res, &extra, NULL));
	EXPECT_EQ(-ENOTTY, res);
	EXPECT_EQ(NONE, extra);

	/* The command area past struct eia_submit must be zero. */
	sqe = uring_queue_sqe(&ring, fd, &s, 2);
	ASSERT_NE(NULL, sqe);
	sqe->cmd[79] = 1;
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, uring_reap(&ring, &res, &extra, NULL));
	EXPECT_EQ(-EINVAL, res);
	EXPECT_EQ(NONE, extra);

	/* The same buffer, clean, works. */
	ASSERT_EQ(0, uring_queue(&ring, fd, &s, 3));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, uring_reap(&ring, &res, &extra, NULL));
	EXPECT_EQ(0, res);
	EXPECT_EQ(NONE, extra);

	/* A failing buffer: the CQE32 extra word is the failed index. */
	cb = (struct eia_cbuf){ .buf = buf, .cap = 16 };
	eia_cbuf_free(&cb, 77);
	s = eia_cbuf_submit_args(&cb, NULL);
	ASSERT_EQ(0, uring_queue(&ring, fd, &s, 3));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, uring_reap(&ring, &res, &extra, NULL));
	EXPECT_EQ(-ENOENT, res);
	EXPECT_EQ(0, extra);
	io_uring_queue_exit(&ring);
	close(fd);
}

/* A context lives from the first submit to close(), which frees its memory. */
TEST_F(ctx, close_frees_context_memory)
{
	struct eia_dev_info info;
	struct eia_dev g;
	uint64_t h, used;
	int fd, fd2, i;

	fd = eia_open_dev(self->dev.name);
	fd2 = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, eia_mem_alloc(fd, MIB, &h));
	ASSERT_EQ(0, eia_mem_alloc(fd2, 5 * MIB, &h));
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(8 * MIB, used);
	ASSERT_EQ(0, ioctl(fd, EIA_IOCTL_INFO, &info));
	EXPECT_EQ(8 * MIB, info.memory_used);
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(8 * MIB, g.memory_used);

	close(fd);	/* returns once gpud has freed it */
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(5 * MIB, used);
	close(fd2);
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(0, used);
}

/* A context lost with its connection: ENOLINK while impaired, ESTALE after a reattach. */
TEST_F(ctx, submit_after_link_death)
{
	struct target t = { .fd = -1 }, u = { .fd = -1 };
	int fresh, unused;

	if (!eia_gpud_local())
		SKIP(return, "gpud is not on this machine (%s)", eia_server());
	ASSERT_EQ(0, eia_detach(&self->nl, self->dev.index));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.medium", 2000, &self->dev));
	ASSERT_EQ(0, target_open(&t, self->dev.name, false, 0));
	ASSERT_EQ(0, target_open(&u, self->dev.name, true, 0));
	unused = eia_open_dev(self->dev.name);
	ASSERT_LE(0, unused);
	ASSERT_EQ(0, fence(&t, 1));
	ASSERT_EQ(0, fence(&u, 1));

	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", 5000));
	EXPECT_EQ(-ENOLINK, fence(&t, 2));
	EXPECT_EQ(-ENOLINK, fence(&u, 2));
	EXPECT_EQ(-ENOLINK, fence_fd(unused, 3));

	ASSERT_EQ(0, eia_gpud_start());
	ASSERT_EQ(0, eia_reattach(&self->nl, self->dev.index)) {
		TH_LOG("reattach: %s", self->nl.errmsg);
	}
	EXPECT_EQ(-ESTALE, fence(&t, 4));
	EXPECT_EQ(-ESTALE, fence(&u, 4));
	EXPECT_EQ(-ESTALE, fence(&t, 5));
	/* A file that had no context yet, and a new one, work. */
	EXPECT_EQ(0, fence_fd(unused, 6));
	fresh = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fresh);
	EXPECT_EQ(0, fence_fd(fresh, 7));
	close(fresh);
	close(unused);
	target_close(&t);
	target_close(&u);
}

/* Buffers in flight when the device is detached complete at once. */
TEST_F(ctx, detach_with_uring_in_flight)
{
	enum { NBUF = 24 };
	uint64_t bufs[NBUF][6], h, ud;
	struct target t = { .fd = -1 };
	struct eia_cbuf cb;
	struct eia_submit s;
	int i, res, enodev = 0, ok = 0;
	uint32_t extra;

	ASSERT_EQ(0, target_open(&t, self->dev.name, true, 0));
	ASSERT_EQ(0, alloc(&t, 32 * MIB, &h));
	for (i = 0; i < NBUF; i++) {
		cb = (struct eia_cbuf){ .buf = bufs[i], .cap = sizeof(bufs[i]) };
		eia_cbuf_memset(&cb, h, 0, 32 * MIB, (uint32_t)i);
		s = eia_cbuf_submit_args(&cb, NULL);
		ASSERT_EQ(0, uring_queue(&t.ring, t.fd, &s, (uint64_t)i));
	}
	ASSERT_EQ(NBUF, io_uring_submit(&t.ring));
	ASSERT_EQ(0, eia_detach(&self->nl, self->dev.index));
	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(0, uring_reap(&t.ring, &res, &extra, &ud));
		if (res == -ENODEV)
			enodev++;
		else if (res == 0)
			ok++;
		else
			TH_LOG("buffer %llu: %d", (unsigned long long)ud, res);
	}
	EXPECT_EQ(NBUF, ok + enodev);
	TH_LOG("%d completed, %d failed by the detach", ok, enodev);
	EXPECT_EQ(-ENODEV, fence(&t, 1));
	target_close(&t);
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));
}

/*
 * The task whose io_uring command reads the socket is stuck sending while
 * that command's large response arrives. One submission queues a large
 * D2H, a fence on another context and a large H2D: gpud's executor fills
 * the socket with the D2H data, its reader waits to answer the fence, so
 * it stops reading the H2D, whose send waits in the very task that was to
 * read. The receive worker must read instead; all three complete, with the
 * data whole and the link healthy.
 */
TEST_F_TIMEOUT(ctx, uring_reader_stuck_sending, 60)
{
	const size_t n = 14 * MIB;
	struct target t = { .fd = -1 }, u = { .fd = -1 };
	uint8_t *src = malloc(n), *dst = malloc(n), *up = malloc(n);
	uint64_t b1[6], b2[2], b3[6], ha, hb, ud, seen = 0;
	struct eia_cbuf c1 = { .buf = b1, .cap = sizeof(b1) };
	struct eia_cbuf c2 = { .buf = b2, .cap = sizeof(b2) };
	struct eia_cbuf c3 = { .buf = b3, .cap = sizeof(b3) };
	struct eia_submit s1, s2, s3;
	uint32_t extra;
	int i, res;

	ASSERT_TRUE(src && dst && up);
	fill(src, n, 5);
	fill(up, n, 6);
	ASSERT_EQ(0, target_open(&t, self->dev.name, true, 0));
	ASSERT_EQ(0, target_open(&u, self->dev.name, false, 0));
	ASSERT_EQ(0, alloc(&t, n, &ha));
	ASSERT_EQ(0, alloc(&t, n, &hb));
	ASSERT_EQ(0, fence(&u, 1));	/* u's context exists */
	eia_cbuf_h2d(&c1, ha, 0, src, n);
	ASSERT_EQ(0, submit(&t, &c1, NULL, NULL));

	eia_cbuf_reset(&c1);
	eia_cbuf_d2h(&c1, dst, ha, 0, n);
	eia_cbuf_fence(&c2, 2);
	eia_cbuf_h2d(&c3, hb, 0, up, n);
	s1 = eia_cbuf_submit_args(&c1, NULL);
	s2 = eia_cbuf_submit_args(&c2, NULL);
	s3 = eia_cbuf_submit_args(&c3, NULL);
	ASSERT_EQ(0, uring_queue(&t.ring, t.fd, &s1, 1));
	ASSERT_EQ(0, uring_queue(&t.ring, u.fd, &s2, 2));
	ASSERT_EQ(0, uring_queue(&t.ring, t.fd, &s3, 4));
	ASSERT_EQ(3, io_uring_submit(&t.ring));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, uring_reap(&t.ring, &res, &extra, &ud));
		EXPECT_EQ(0, res);
		seen |= ud;
	}
	EXPECT_EQ(7, seen);
	EXPECT_EQ(0, memcmp(src, dst, n));
	eia_cbuf_reset(&c1);
	memset(dst, 0, n);
	eia_cbuf_d2h(&c1, dst, hb, 0, n);
	EXPECT_EQ(0, submit(&t, &c1, NULL, NULL));
	EXPECT_EQ(0, memcmp(up, dst, n));
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "healthy", 100));
	target_close(&u);
	target_close(&t);
	free(src);
	free(dst);
	free(up);
}

/*
 * With IORING_SETUP_DEFER_TASKRUN, task work runs only when the submitter
 * waits on its ring. A buffer is in flight on such a ring while its task
 * sleeps elsewhere (reading a pipe): another process's synchronous submits
 * on the same device must still complete, and the buffer's completion must
 * arrive once the task does wait.
 */
TEST_F_TIMEOUT(ctx, uring_defer_taskrun_not_waiting, 60)
{
	const uint64_t ud = 77;
	struct target t, u;
	struct eia_submit s1;
	uint64_t buf[2];
	struct eia_cbuf c1 = { .buf = buf, .cap = sizeof(buf) };
	uint32_t extra;
	int pfd[2], res, status, i;
	uint64_t got;
	pid_t pid;
	char c;

	ASSERT_EQ(0, target_open(&t, self->dev.name, true,
				 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN));
	ASSERT_EQ(0, pipe(pfd));
	eia_cbuf_fence(&c1, 5);
	s1 = eia_cbuf_submit_args(&c1, NULL);
	ASSERT_EQ(0, uring_queue(&t.ring, t.fd, &s1, ud));
	ASSERT_EQ(1, io_uring_submit(&t.ring));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(pfd[0]);
		if (target_open(&u, self->dev.name, false, 0))
			_exit(2);
		for (i = 0; i < 20; i++)
			if (fence(&u, 100 + i))
				_exit(3);
		target_close(&u);
		c = 'k';
		_exit(write(pfd[1], &c, 1) == 1 ? 0 : 4);
	}
	close(pfd[1]);
	/* Asleep outside io_uring while the other process works. */
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, uring_reap(&t.ring, &res, &extra, &got));
	EXPECT_EQ(0, res);
	EXPECT_EQ(ud, got);
	EXPECT_EQ(0, fence(&t, 9));
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "healthy", 100));
	close(pfd[0]);
	target_close(&t);
}

/* 1000 buffers in flight on one ring, each completing with its own results. */
TEST_F_TIMEOUT(ctx, thousand_in_flight, 120)
{
	enum { NBUF = 1000 };
	struct target t = { .fd = -1 };
	static uint64_t bufs[NBUF][8], vals[NBUF], out[NBUF];
	static struct eia_cb_result res[NBUF][2];
	static bool seen[NBUF];
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	struct eia_cbuf cb;
	struct eia_submit s;
	uint32_t extra;
	uint64_t h, ud;
	int i, r;

	t.fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, io_uring_queue_init_params(1024, &t.ring, &p));
	t.uring = true;
	ASSERT_EQ(0, alloc(&t, sizeof(out), &h));
	for (i = 0; i < NBUF; i++) {
		vals[i] = 0xf00d0000ull + i;
		cb = (struct eia_cbuf){ .buf = bufs[i], .cap = sizeof(bufs[i]) };
		eia_cbuf_h2d(&cb, h, i * 8ull, &vals[i], 8);
		eia_cbuf_fence(&cb, vals[i]);
		s = eia_cbuf_submit_args(&cb, res[i]);
		ASSERT_EQ(0, uring_queue(&t.ring, t.fd, &s, (uint64_t)i));
	}
	ASSERT_EQ(NBUF, io_uring_submit(&t.ring));
	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(0, uring_reap(&t.ring, &r, &extra, &ud));
		ASSERT_GT(NBUF, ud);
		EXPECT_EQ(0, r);
		EXPECT_EQ(NONE, extra);
		EXPECT_FALSE(seen[ud]);
		seen[ud] = true;
		EXPECT_EQ(vals[ud], res[ud][1].value);
	}
	cb = (struct eia_cbuf){ .buf = bufs[0], .cap = sizeof(bufs[0]) };
	eia_cbuf_d2h(&cb, out, h, 0, sizeof(out));
	ASSERT_EQ(0, submit(&t, &cb, NULL, NULL));
	EXPECT_EQ(0, memcmp(vals, out, sizeof(out)));
	target_close(&t);
}

/* What one of the eight processes does: its own data through both paths. */
static int sharer(const char *dev, unsigned int id)
{
	enum { N = 96 * 1024 };
	struct target t = { .fd = -1 };
	uint8_t *src = malloc(N), *dst = malloc(N);
	uint64_t buf[16], h;
	struct eia_cbuf cb;
	unsigned int i;
	int ret;

	if (!src || !dst || target_open(&t, dev, id % 2, 0))
		return 10;
	if (alloc(&t, N, &h))
		return 11;
	for (i = 0; i < 20; i++) {
		fill(src, N, id * 100 + i);
		memset(dst, 0, N);
		cb = (struct eia_cbuf){ .buf = buf, .cap = sizeof(buf) };
		eia_cbuf_h2d(&cb, h, 0, src, N);
		eia_cbuf_d2h(&cb, dst, h, 0, N);
		eia_cbuf_fence(&cb, id);
		ret = submit(&t, &cb, NULL, NULL);
		if (ret)
			return 12;
		if (memcmp(src, dst, N))
			return 13;
	}
	target_close(&t);
	return 0;
}

TEST_F_TIMEOUT(ctx, eight_processes, 120)
{
	pid_t pids[8];
	int i, status, fd;
	uint64_t used;

	for (i = 0; i < 8; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(sharer(self->dev.name, i));
	}
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("process %d failed at step %d", i, WEXITSTATUS(status));
		}
	}
	/*
	 * Contexts run concurrently on gpud, so the last of the eight answers
	 * may carry an older figure: one more buffer asks gpud for the latest.
	 */
	fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fence_fd(fd, 1));
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "memory_used_bytes", &used));
	EXPECT_EQ(0, used);
	close(fd);
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "healthy", 100));
}

struct victim_ioctl {
	int fd;
	uint64_t h;
	uint8_t *dst;
};

/* Keeps ioctl submits in flight until the process dies. */
static void *victim_ioctl_main(void *arg)
{
	struct victim_ioctl *v = arg;
	uint64_t buf[16];
	struct eia_cbuf cb;

	for (;;) {
		cb = (struct eia_cbuf){ .buf = buf, .cap = sizeof(buf) };
		eia_cbuf_memset(&cb, v->h, 0, 16 * MIB, 1);
		eia_cbuf_d2h(&cb, v->dst, v->h, 0, MIB);
		eia_submit_cbuf(v->fd, &cb, NULL, NULL);
	}
	return NULL;
}

/*
 * A process killed with buffers in flight, through io_uring and the ioctl,
 * with D2H destinations pinned: every buffer ends, every pin is released,
 * and its context is destroyed on gpud.
 */
static void victim(const char *dev, int ready)
{
	enum { NBUF = 200 };
	static uint64_t bufs[NBUF][16];
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	struct victim_ioctl v;
	struct target t = { .fd = -1 };
	struct eia_cbuf cb;
	struct eia_submit s;
	pthread_t thread;
	uint8_t *dst;
	uint64_t h;
	int i;

	dst = malloc(MIB);
	t.fd = eia_open_dev(dev);
	if (!dst || t.fd < 0 || io_uring_queue_init_params(256, &t.ring, &p))
		_exit(1);
	t.uring = true;
	if (alloc(&t, 16 * MIB, &h))
		_exit(2);
	v = (struct victim_ioctl){ .fd = t.fd, .h = h, .dst = dst };
	if (pthread_create(&thread, NULL, victim_ioctl_main, &v))
		_exit(3);
	for (i = 0; i < NBUF; i++) {
		cb = (struct eia_cbuf){ .buf = bufs[i], .cap = sizeof(bufs[i]) };
		eia_cbuf_memset(&cb, h, 0, 16 * MIB, (uint32_t)i);
		eia_cbuf_d2h(&cb, dst, h, (uint64_t)i * 4096, MIB);
		s = eia_cbuf_submit_args(&cb, NULL);
		if (uring_queue(&t.ring, t.fd, &s, (uint64_t)i))
			_exit(4);
	}
	if (io_uring_submit(&t.ring) != NBUF)
		_exit(5);
	if (write(ready, "r", 1) != 1)
		_exit(6);
	pause();
	_exit(0);
}

TEST_F_TIMEOUT(ctx, killed_with_buffers_in_flight, 120)
{
	int64_t pins = pins_held();
	struct eia_dev before, after;
	int pipefd[2], status, fd;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &before));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		victim(self->dev.name, pipefd[1]);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));

	/* Its buffers ran or failed, its context went: nothing is left. */
	EXPECT_EQ(0, eia_wait_memory_used(self->dev.name, 0, 60000));
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &after));
	EXPECT_EQ(EIA_STATUS_HEALTHY, after.status);
	EXPECT_LE(before.requests + 3, after.requests);
	if (pins >= 0)
		EXPECT_EQ(pins, wait_pins_held(pins, 2000));

	/* And the device serves the next process. */
	fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fence_fd(fd, 11));
	close(fd);
}

/* ---- a stalled gpud: sends that block, timeouts, the in-flight bound ---- */

#define NEED_LOCAL_GPUD() do {						\
	if (!eia_gpud_local())						\
		SKIP(return, "gpud is not on this machine (%s)", eia_server()); \
} while (0)

/* More than the loopback socket buffers hold: the send waits for gpud. */
#define BIG_H2D		(14 * MIB)

/* Attach again with a request timeout of @timeout_ms. */
static int reattach_with_timeout(struct eia_nl *nl, struct eia_dev *dev, uint32_t timeout_ms)
{
	int ret = eia_detach(nl, dev->index);

	return ret ? ret : eia_attach(nl, "eia1.medium", timeout_ms, dev);
}

/*
 * A process killed while its message is half on the wire: the rest is
 * still sent (gpud would otherwise read garbage), so the link lives on,
 * and the process's context goes as usual.
 */
TEST_F_TIMEOUT(ctx, killed_mid_send, 60)
{
	int ready[2], go[2], fd, status;
	uint64_t before, after, h;
	struct eia_dev g;
	pid_t pid;
	char c;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, reattach_with_timeout(&self->nl, &self->dev, 30000));
	fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fence_fd(fd, 1));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint8_t *src = calloc(1, BIG_H2D);
		struct target t = { .fd = eia_open_dev(self->dev.name) };
		uint64_t buf[6];
		struct eia_cbuf cb = { .buf = buf, .cap = sizeof(buf) };

		if (!src || t.fd < 0 || alloc(&t, BIG_H2D, &h))
			_exit(1);
		eia_cbuf_h2d(&cb, h, 0, src, BIG_H2D);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		submit(&t, &cb, NULL, NULL);
		_exit(3);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "bytes_sent", &before));
	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));
	ASSERT_EQ(1, write(go[1], "g", 1));
	eia_sleep_ms(500);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	eia_sleep_ms(300);
	/* It cannot go before its message is whole. */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(0, eia_gpud_kill(SIGCONT));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));

	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "bytes_sent", &after));
	EXPECT_LE(before + BIG_H2D, after);
	EXPECT_EQ(0, eia_wait_memory_used(self->dev.name, 0, 10000));
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
	EXPECT_EQ(0, fence_fd(fd, 2));
	close(fd);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

struct poker {
	pthread_t target;
	pthread_t thread;
};

/* Interrupts the target's send with a signal, then lets gpud read again. */
static void *poker_main(void *arg)
{
	struct poker *p = arg;

	eia_sleep_ms(300);
	pthread_kill(p->target, SIGUSR1);
	eia_sleep_ms(300);
	pthread_kill(p->target, SIGUSR1);
	eia_gpud_kill(SIGCONT);
	return NULL;
}

/* A signal with a handler interrupting a long send does not fail the submit. */
TEST_F_TIMEOUT(ctx, signal_mid_send, 60)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct target t = { .fd = -1 };
	uint8_t *src = malloc(BIG_H2D), *dst = malloc(BIG_H2D);
	struct poker p = { .target = pthread_self() };
	uint64_t buf[6], h;
	struct eia_cbuf cb = { .buf = buf, .cap = sizeof(buf) };

	NEED_LOCAL_GPUD();
	ASSERT_TRUE(src && dst);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */
	ASSERT_EQ(0, reattach_with_timeout(&self->nl, &self->dev, 30000));
	ASSERT_EQ(0, target_open(&t, self->dev.name, false, 0));
	ASSERT_EQ(0, alloc(&t, BIG_H2D, &h));
	fill(src, BIG_H2D, 8);

	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));
	ASSERT_EQ(0, pthread_create(&p.thread, NULL, poker_main, &p));
	eia_cbuf_h2d(&cb, h, 0, src, BIG_H2D);
	EXPECT_EQ(0, submit(&t, &cb, NULL, NULL));
	pthread_join(p.thread, NULL);

	eia_cbuf_reset(&cb);
	eia_cbuf_d2h(&cb, dst, h, 0, BIG_H2D);
	ASSERT_EQ(0, submit(&t, &cb, NULL, NULL));
	EXPECT_EQ(0, memcmp(src, dst, BIG_H2D));
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "healthy", 100));
	target_close(&t);
	free(src);
	free(dst);
}

struct storm {
	pthread_t target;
	pthread_t thread;
	volatile bool stop;
	unsigned int sent;
};

/* Signals the target every 200 us until told to stop. */
static void *storm_main(void *arg)
{
	struct storm *st = arg;

	while (!st->stop) {
		pthread_kill(st->target, SIGUSR1);
		st->sent++;
		usleep(200);
	}
	return NULL;
}

/*
 * A submitter reading its own response is interrupted by signals with a
 * handler: before the response begins (gpud stopped), and in the middle of
 * large D2H payloads. The submits succeed, the data is whole and the link
 * stays healthy: a read cut short would break the stream for everyone.
 */
TEST_F_TIMEOUT(ctx, signal_mid_receive, 60)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct target t = { .fd = -1 };
	uint8_t *src = malloc(BIG_H2D), *dst = malloc(BIG_H2D);
	struct poker p = { .target = pthread_self() };
	struct storm st = { .target = pthread_self() };
	uint64_t buf[6], h;
	struct eia_cbuf cb = { .buf = buf, .cap = sizeof(buf) };
	unsigned int i;

	NEED_LOCAL_GPUD();
	ASSERT_TRUE(src && dst);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */
	ASSERT_EQ(0, reattach_with_timeout(&self->nl, &self->dev, 30000));
	ASSERT_EQ(0, target_open(&t, self->dev.name, false, 0));
	ASSERT_EQ(0, alloc(&t, BIG_H2D, &h));
	fill(src, BIG_H2D, 11);
	eia_cbuf_h2d(&cb, h, 0, src, BIG_H2D);
	ASSERT_EQ(0, submit(&t, &cb, NULL, NULL));

	/* Signals while the response has not begun. */
	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));
	ASSERT_EQ(0, pthread_create(&p.thread, NULL, poker_main, &p));
	eia_cbuf_reset(&cb);
	eia_cbuf_d2h(&cb, dst, h, 0, BIG_H2D);
	EXPECT_EQ(0, submit(&t, &cb, NULL, NULL));
	pthread_join(p.thread, NULL);
	EXPECT_EQ(0, memcmp(src, dst, BIG_H2D));

	/* Signals in the middle of payloads. */
	ASSERT_EQ(0, pthread_create(&st.thread, NULL, storm_main, &st));
	for (i = 0; i < 4; i++) {
		memset(dst, 0, BIG_H2D);
		EXPECT_EQ(0, submit(&t, &cb, NULL, NULL));
		EXPECT_EQ(0, memcmp(src, dst, BIG_H2D));
	}
	st.stop = true;
	pthread_join(st.thread, NULL);
	EXPECT_LT(0, st.sent);
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "healthy", 100));
	EXPECT_EQ(0, fence_fd(t.fd, 3));
	target_close(&t);
	free(src);
	free(dst);
}

/* Buffers nobody waits for still time out: the CQE says ETIMEDOUT. */
TEST_F_TIMEOUT(ctx, request_timeout_async, 60)
{
	struct target t = { .fd = -1 }, u = { .fd = -1 };
	struct eia_cbuf cb;
	struct eia_submit s;
	uint64_t buf[2];
	int64_t start, took;
	uint32_t extra;
	int res;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, reattach_with_timeout(&self->nl, &self->dev, 500));
	ASSERT_EQ(0, target_open(&t, self->dev.name, true, 0));
	ASSERT_EQ(0, target_open(&u, self->dev.name, false, 0));
	ASSERT_EQ(0, fence(&t, 1));
	ASSERT_EQ(0, fence(&u, 1));
	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));

	fence_cbuf(&cb, buf, 2);
	s = eia_cbuf_submit_args(&cb, NULL);
	start = eia_now_ms();
	ASSERT_EQ(0, uring_queue(&t.ring, t.fd, &s, 1));
	ASSERT_EQ(1, io_uring_submit(&t.ring));
	ASSERT_EQ(0, uring_reap(&t.ring, &res, &extra, NULL));
	took = eia_now_ms() - start;
	EXPECT_EQ(-ETIMEDOUT, res);
	EXPECT_EQ(NONE, extra);
	EXPECT_LE(400, took);
	EXPECT_GT(3000, took);
	EXPECT_EQ(0, eia_wait_status(self->dev.name, "impaired", 2000));
	EXPECT_EQ(-ENOLINK, fence(&u, 3));
	ASSERT_EQ(0, eia_gpud_kill(SIGCONT));
	target_close(&t);
	target_close(&u);
}

/* The same through the ioctl, which has no timeout of its own. */
TEST_F_TIMEOUT(ctx, request_timeout_ioctl, 60)
{
	int64_t start, took;
	int fd;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, reattach_with_timeout(&self->nl, &self->dev, 500));
	fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fence_fd(fd, 1));
	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));
	start = eia_now_ms();
	EXPECT_EQ(-ETIMEDOUT, fence_fd(fd, 2));
	took = eia_now_ms() - start;
	EXPECT_LE(400, took);
	EXPECT_GT(3000, took);
	EXPECT_EQ(-ENOLINK, fence_fd(fd, 3));
	ASSERT_EQ(0, eia_gpud_kill(SIGCONT));
	close(fd);
}

struct blocked_submit {
	int fd;
	int ret;
	int64_t done_ms;
	pthread_t thread;
};

static void *blocked_submit_main(void *arg)
{
	struct blocked_submit *b = arg;

	b->ret = fence_fd(b->fd, 77);
	b->done_ms = eia_now_ms();
	return NULL;
}

/*
 * At most EIA_MAX_INFLIGHT (1024) requests per connection: past it a
 * uring_cmd completes with EBUSY at once, an ioctl waits for room.
 */
TEST_F_TIMEOUT(ctx, inflight_bound, 60)
{
	enum { NBUF = 1100 };
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	static uint64_t bufs[NBUF][2];
	struct target t = { .fd = -1 };
	struct blocked_submit b;
	struct eia_cbuf cb;
	struct eia_submit s;
	int i, res, busy = 0, ok = 0, other = 0;
	int64_t resumed;
	uint32_t extra;
	uint64_t ud;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, reattach_with_timeout(&self->nl, &self->dev, 30000));
	t.fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, io_uring_queue_init_params(2048, &t.ring, &p));
	t.uring = true;
	ASSERT_EQ(0, fence(&t, 1));
	b = (struct blocked_submit){ .fd = t.fd, .ret = 1 };

	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));
	for (i = 0; i < NBUF; i++) {
		cb = (struct eia_cbuf){ .buf = bufs[i], .cap = sizeof(bufs[i]) };
		eia_cbuf_fence(&cb, i);
		s = eia_cbuf_submit_args(&cb, NULL);
		ASSERT_EQ(0, uring_queue(&t.ring, t.fd, &s, (uint64_t)i));
	}
	ASSERT_EQ(NBUF, io_uring_submit(&t.ring));
	/* Those past the bound completed already. */
	while (!io_uring_peek_cqe(&t.ring, &(struct io_uring_cqe *){ NULL })) {
		ASSERT_EQ(0, uring_reap(&t.ring, &res, &extra, &ud));
		if (res == -EBUSY)
			busy++;
		else
			other++;
	}
	EXPECT_LE(NBUF - 1024, busy);
	EXPECT_GE(NBUF - 1024 + 1, busy);	/* a health check may hold a slot */
	EXPECT_EQ(0, other);

	ASSERT_EQ(0, pthread_create(&b.thread, NULL, blocked_submit_main, &b));
	eia_sleep_ms(500);
	EXPECT_EQ(1, b.ret);		/* still waiting for room */
	resumed = eia_now_ms();
	ASSERT_EQ(0, eia_gpud_kill(SIGCONT));
	for (i = 0; i < NBUF - busy; i++) {
		ASSERT_EQ(0, uring_reap(&t.ring, &res, &extra, &ud));
		if (!res)
			ok++;
	}
	EXPECT_EQ(NBUF - busy, ok);
	pthread_join(b.thread, NULL);
	EXPECT_EQ(0, b.ret);
	EXPECT_LE(resumed, b.done_ms);
	target_close(&t);
}

/* ---- kTLS ---------------------------------------------------------------- */

/*
 * A relay between a kTLS socket and gpud's plain TCP: the kernel's end of
 * the connection is kTLS (keys set directly, as the CLI would after its
 * handshake), the relay's end decrypts and forwards to gpud, and back.
 */
struct ktls_relay {
	int tls_fd;		/* the relay's kTLS end */
	int gpud_fd;
	pthread_t up, down;
};

struct relay_dir {
	int from, to;
};

static void *relay_main(void *arg)
{
	struct relay_dir *d = arg;
	static __thread char buf[65536];
	ssize_t n, w, off;

	while ((n = read(d->from, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += w) {
			w = write(d->to, buf + off, n - off);
			if (w <= 0)
				goto out;
		}
	}
out:
	shutdown(d->to, SHUT_WR);
	return NULL;
}

static void ktls_keys(struct tls12_crypto_info_aes_gcm_128 *k, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	k->info.version = TLS_1_2_VERSION;
	k->info.cipher_type = TLS_CIPHER_AES_GCM_128;
	memset(k->key, seed, sizeof(k->key));
	memset(k->iv, seed + 1, sizeof(k->iv));
	memset(k->salt, seed + 2, sizeof(k->salt));
}

static int ktls_on(int fd, const struct tls12_crypto_info_aes_gcm_128 *tx,
		   const struct tls12_crypto_info_aes_gcm_128 *rx)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) ||
	    setsockopt(fd, SOL_TLS, TLS_TX, tx, sizeof(*tx)) ||
	    setsockopt(fd, SOL_TLS, TLS_RX, rx, sizeof(*rx)))
		return -errno;
	return 0;
}

/* A connected kTLS socket for the kernel, its other end relayed to gpud. */
static int ktls_relay_start(struct ktls_relay *r, struct relay_dir dirs[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tls12_crypto_info_aes_gcm_128 up, down;
	socklen_t len = sizeof(sin);
	int lfd, cfd = -1, ret;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len))
		return -errno;
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sin, sizeof(sin)))
		return -errno;
	r->tls_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (r->tls_fd < 0)
		return -errno;
	ktls_keys(&up, 0x11);
	ktls_keys(&down, 0x77);
	ret = ktls_on(cfd, &up, &down);
	if (!ret)
		ret = ktls_on(r->tls_fd, &down, &up);
	if (ret)
		return ret;
	r->gpud_fd = eia_connect(eia_server());
	if (r->gpud_fd < 0)
		return r->gpud_fd;
	dirs[0] = (struct relay_dir){ .from = r->tls_fd, .to = r->gpud_fd };
	dirs[1] = (struct relay_dir){ .from = r->gpud_fd, .to = r->tls_fd };
	if (pthread_create(&r->up, NULL, relay_main, &dirs[0]) ||
	    pthread_create(&r->down, NULL, relay_main, &dirs[1]))
		return -EAGAIN;
	return cfd;
}

/* The data path over kTLS: copies both ways and an operator, ioctl and io_uring. */
TEST_F_TIMEOUT(ctx, ktls_data_path, 60)
{
	const size_t n = 3 * MIB + 5;
	uint8_t *src = malloc(n), *dst = malloc(n);
	struct relay_dir dirs[2];
	struct ktls_relay r;
	struct target t;
	uint64_t buf[16], h;
	struct eia_cbuf cb;
	struct eia_dev dev;
	int cfd, pass;

	ASSERT_TRUE(src && dst);
	ASSERT_EQ(0, eia_detach(&self->nl, self->dev.index));
	cfd = ktls_relay_start(&r, dirs);
	if (cfd == -ENOENT)
		SKIP(return, "no kTLS in this kernel");
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, eia_attach_fd(&self->nl, cfd, "eia1.medium", 0, NULL, &dev)) {
		TH_LOG("attach over kTLS: %s", self->nl.errmsg);
	}
	close(cfd);
	for (pass = 0; pass < 2; pass++) {
		ASSERT_EQ(0, target_open(&t, dev.name, pass, 0));
		ASSERT_EQ(0, alloc(&t, n, &h));
		fill(src, n, 9 + pass);
		memset(dst, 0, n);
		cb = (struct eia_cbuf){ .buf = buf, .cap = sizeof(buf) };
		eia_cbuf_h2d(&cb, h, 0, src, n);
		eia_cbuf_fence(&cb, 5);
		eia_cbuf_d2h(&cb, dst, h, 0, n);
		EXPECT_EQ(0, submit(&t, &cb, NULL, NULL));
		EXPECT_EQ(0, memcmp(src, dst, n));
		EXPECT_EQ(0, fence(&t, 6));
		target_close(&t);
	}
	EXPECT_EQ(0, eia_wait_status(dev.name, "healthy", 100));
	ASSERT_EQ(0, eia_detach(&self->nl, dev.index));
	pthread_join(r.up, NULL);
	pthread_join(r.down, NULL);
	close(r.tls_fd);
	close(r.gpud_fd);
	free(src);
	free(dst);
}

EIA_TEST_MAIN
