// SPDX-License-Identifier: MIT
/*
 * eia-test-queues: a context's queues run side by side on a gpud backend
 * (on CUDA, a stream per queue: copies on one overlap kernels on another).
 * Speaks the wire protocol itself, so that both buffers are in flight at
 * once on one connection (libeia's tcp:// runs one buffer at a time).
 *
 * A long buffer of MatMuls, sized to take at least LONG_MS on this backend,
 * goes to queue 1; then a copy in and out of 1 MiB goes to queue 2. The copy
 * must come back first, its data intact, and the MatMuls right; the same
 * two buffers on one queue must come back in order. Prints TAP; exits 1
 * when a check fails, 2 when it cannot run.
 *
 *	eia-test-queues PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cb_util.h"

#define N		512		/* MatMul size */
#define LONG_MS		300
#define COPY_BYTES	(1u << 20)

static int failures, tests;
static uint64_t next_tag = 1;

static void check(int ok, const char *what)
{
	tests++;
	if (!ok)
		failures++;
	printf("%sok %d %s\n", ok ? "" : "not ", tests, what);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int send_on(int fd, uint64_t ctx, const struct cb *b, uint16_t queue, uint64_t tag)
{
	return send_submit_raw(fd, ctx, b->ncmds, queue, 0, b->buf, b->len, tag);
}

/* The next response: its tag, or 0 when it is not a SUBMIT's that fully succeeded. */
static uint64_t next_done(int fd, struct sresp *r)
{
	struct msg m;

	memset(r, 0, sizeof(*r));
	if (recv_msg(fd, &m))
		return 0;
	if (sresp_decode(&m, r)) {
		msg_release(&m);
		memset(r, 0, sizeof(*r));
		return 0;
	}
	if (r->status || r->failed != EIA_WIRE_NONE_FAILED) {
		printf("# buffer %llu: status %u, failed command %u: %s\n",
		       (unsigned long long)r->tag, r->status, r->failed, r->err);
		sresp_release(r);
		return 0;
	}
	return r->tag;
}

/* Allocate @bytes in @ctx; 0 on failure. */
static uint64_t alloc(int fd, uint64_t ctx, uint64_t bytes)
{
	struct sresp r;
	struct cb b;
	uint64_t h = 0;

	cb_init(&b);
	cb_alloc(&b, bytes);
	if (!submit(fd, ctx, &b, next_tag++, &r)) {
		if (!r.status && r.failed == EIA_WIRE_NONE_FAILED)
			h = r.res[0].value;
		sresp_release(&r);
	}
	cb_release(&b);
	return h;
}

/* @reps MatMuls of ones (N x N) into C, then C's first 16 floats out. */
static void build_long(struct cb *b, uint64_t h, int reps)
{
	const uint64_t mat = (uint64_t)N * N * sizeof(float);
	struct eia_cb_tensor t[3];
	int k;

	cb_reset(b);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	t[1] = tensor(h, mat, EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	t[2] = tensor(h, 2 * mat, EIA_DTYPE_F32, 2, (int64_t[]){ N, N });
	for (k = 0; k < reps; k++)
		cb_launch(b, EIA_OP_MATMUL, t, 2, 1, NULL, 0);
	cb_d2h(b, h, 2 * mat, 16 * sizeof(float));
}

/* The long buffer's result: every element N. */
static int long_result_ok(const struct sresp *r)
{
	float y[16];
	int i;

	if (r->data_len != sizeof(y))
		return 0;
	memcpy(y, r->data, sizeof(y));
	for (i = 0; i < 16; i++)
		if (y[i] != (float)N)
			return 0;
	return 1;
}

/* MatMuls in one buffer taking about LONG_MS here, found by timing some. */
static int calibrate(int fd, uint64_t ctx, uint64_t h, struct cb *b)
{
	int reps = 4;
	double ms;
	struct sresp r;

	for (;;) {
		build_long(b, h, reps);
		ms = now_ms();
		if (submit(fd, ctx, b, next_tag++, &r))
			return 0;
		ms = now_ms() - ms;
		sresp_release(&r);
		if (ms >= LONG_MS || reps >= EIA_CB_MAX_CMDS / 2)
			break;
		reps = ms < 1 ? reps * 16 : (int)(reps * (LONG_MS * 1.5 / ms)) + 1;
		if (reps > EIA_CB_MAX_CMDS / 2)
			reps = EIA_CB_MAX_CMDS / 2;
	}
	printf("# %d MatMuls of %d x %d take %.0f ms alone\n", reps, N, N, ms);
	return reps;
}

int main(int argc, char **argv)
{
	const uint64_t mat = (uint64_t)N * N * sizeof(float);
	unsigned char *pattern = malloc(COPY_BYTES);
	float *ones = malloc(mat);
	struct cb lng, quick, init;
	struct sresp r1, r2;
	uint64_t ctx, h, hc, t1, t2;
	size_t i;
	int fd, reps;

	if (argc != 2 || !pattern || !ones) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	fd = attach((uint16_t)atoi(argv[1]), "eia2.medium");
	if (fd < 0 || ctx_create(fd, next_tag++, &ctx)) {
		fprintf(stderr, "%s: cannot attach to gpud on port %s\n", argv[0], argv[1]);
		return 2;
	}
	h = alloc(fd, ctx, 3 * mat);
	hc = alloc(fd, ctx, COPY_BYTES);
	if (!h || !hc) {
		fprintf(stderr, "%s: cannot allocate device memory\n", argv[0]);
		return 2;
	}
	for (i = 0; i < (size_t)N * N; i++)
		ones[i] = 1.0f;
	for (i = 0; i < COPY_BYTES; i++)
		pattern[i] = (unsigned char)(i * 7 + 3);
	cb_init(&init);
	cb_h2d(&init, h, 0, ones, mat);
	cb_h2d(&init, h, mat, ones, mat);
	if (submit(fd, ctx, &init, next_tag++, &r1)) {
		fprintf(stderr, "%s: cannot copy the inputs in\n", argv[0]);
		return 2;
	}
	sresp_release(&r1);
	cb_init(&lng);
	reps = calibrate(fd, ctx, h, &lng);
	if (!reps) {
		fprintf(stderr, "%s: the MatMuls do not run\n", argv[0]);
		return 2;
	}
	cb_init(&quick);
	cb_h2d(&quick, hc, 0, pattern, COPY_BYTES);
	cb_d2h(&quick, hc, 0, COPY_BYTES);

	/* Queue 2's copy overtakes queue 1's MatMuls. */
	t1 = next_tag++;
	t2 = next_tag++;
	check(!send_on(fd, ctx, &lng, 1, t1) && !send_on(fd, ctx, &quick, 2, t2),
	      "both buffers sent");
	check(next_done(fd, &r2) == t2, "the copy on queue 2 comes back first");
	check(r2.data_len == COPY_BYTES && !memcmp(r2.data, pattern, COPY_BYTES),
	      "its data came back intact");
	check(next_done(fd, &r1) == t1 && long_result_ok(&r1),
	      "the MatMuls on queue 1 come back next, right");
	sresp_release(&r1);
	sresp_release(&r2);

	/* On one queue, the same two keep their order. */
	t1 = next_tag++;
	t2 = next_tag++;
	check(!send_on(fd, ctx, &lng, 1, t1) && !send_on(fd, ctx, &quick, 1, t2),
	      "both buffers sent to queue 1");
	check(next_done(fd, &r1) == t1 && long_result_ok(&r1),
	      "on one queue, the MatMuls come back first");
	check(next_done(fd, &r2) == t2 && r2.data_len == COPY_BYTES &&
	      !memcmp(r2.data, pattern, COPY_BYTES), "then the copy, intact");
	sresp_release(&r1);
	sresp_release(&r2);

	cb_release(&quick);
	cb_release(&lng);
	cb_release(&init);
	close(fd);
	free(ones);
	free(pattern);
	printf("1..%d\n", tests);
	return failures ? 1 : 0;
}
