// SPDX-License-Identifier: MIT
/*
 * Gemm and MatMul through OpenBLAS, and the BLAS set-up shared with Conv.
 *
 * OpenBLAS runs single-threaded (openblas_set_num_threads(1)): each call
 * computes one tile on the pool worker that makes it, and the tiles of a
 * product (and the products of a batch) are spread over the pool. Debian's
 * serial flavour takes no lock in its buffer allocator, so concurrent calls
 * from several workers would race; the pthreads flavour does lock, which is
 * why blas_init() insists on it.
 */
#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>

#include "internal.h"

/*
 * OpenBLAS has a fixed table of 128 work buffers (more are added with a
 * warning, and past 640 a call fails). One call takes one, so bound the
 * calls in flight across all pools of the process.
 */
#define BLAS_MAX_CALLS 64

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static int blas_status;
static sem_t blas_calls;

static void blas_setup(void)
{
	openblas_set_num_threads(1);
	/* 1: the pthreads build, whose allocator is safe to call concurrently. */
	if (openblas_get_parallel() != 1 || openblas_get_num_threads() != 1) {
		blas_status = -ENOTSUP;
		return;
	}
	if (sem_init(&blas_calls, 0, BLAS_MAX_CALLS))
		blas_status = -errno;
}

int blas_init(void)
{
	pthread_once(&blas_once, blas_setup);
	return blas_status;
}

void blas_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
		float alpha, const float *a, int64_t lda, const float *b,
		int64_t ldb, float beta, float *c, int64_t ldc)
{
	while (sem_wait(&blas_calls))
		;	/* EINTR only; workers block signals anyway */
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
		    trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
		    alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
	sem_post(&blas_calls);
}

/*
 * A batch of products Y[i] = alpha * op(A[i]) * op(B[i]) + beta * Y[i], each
 * cut into row x column tiles; one task is one tile of one product.
 */
struct gemm_job {
	bool ta, tb;
	int64_t m, n, k;
	float alpha, beta;
	const float *a, *b;
	float *y;
	/* Batch position -> element offset of A and B (0 strides broadcast). */
	uint32_t bndim;
	int64_t bdims[EIA_MAX_DIMS];
	int64_t astride[EIA_MAX_DIMS], bstride[EIA_MAX_DIMS];
	int64_t row_parts, col_parts;
};

static void gemm_tile(const struct gemm_job *j, int64_t task)
{
	int64_t tiles = j->row_parts * j->col_parts;
	int64_t batch = task / tiles, tile = task % tiles;
	int64_t ri = tile / j->col_parts, ci = tile % j->col_parts;
	int64_t r0 = j->m * ri / j->row_parts, r1 = j->m * (ri + 1) / j->row_parts;
	int64_t c0 = j->n * ci / j->col_parts, c1 = j->n * (ci + 1) / j->col_parts;
	int64_t aoff = 0, boff = 0, rest = batch;
	const float *a, *b;

	for (uint32_t i = j->bndim; i-- > 0;) {
		int64_t idx = rest % j->bdims[i];

		rest /= j->bdims[i];
		aoff += idx * j->astride[i];
		boff += idx * j->bstride[i];
	}
	if (r0 == r1 || c0 == c1)
		return;
	/* Row r of op(A): a row of A, or a column when A is transposed. */
	a = j->a + aoff + (j->ta ? r0 : r0 * j->k);
	b = j->b + boff + (j->tb ? c0 * j->k : c0);
	blas_sgemm(j->ta, j->tb, r1 - r0, c1 - c0, j->k, j->alpha, a,
		   j->ta ? j->m : j->k, b, j->tb ? j->k : j->n, j->beta,
		   j->y + batch * j->m * j->n + r0 * j->n + c0, j->n);
}

static int gemm_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	(void)worker;
	for (int64_t t = begin; t < end; t++)
		gemm_tile(arg, t);
	return 0;
}

static int zero_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	(void)worker;
	memset((float *)arg + begin, 0, (size_t)(end - begin) * sizeof(float));
	return 0;
}

/* Below this many multiply-adds a task is not worth handing out. */
#define GEMM_TASK_MACS (1 << 18)

static int gemm_run(struct eia_pool *pool, struct gemm_job *j, int64_t batches)
{
	double macs = (double)j->m * (double)j->n * (double)j->k;
	int64_t want = 4 * (int64_t)eia_pool_size(pool), parts, grain;

	if (!batches || !j->m || !j->n)
		return 0;
	if (!j->k) {		/* op(A) * op(B) is all zeros */
		if (j->beta != 0.0f)
			return 0;
		return pool_for(pool, batches * j->m * j->n, 1 << 16,
				zero_range, j->y);
	}
	/* Enough tasks to balance the pool, none smaller than the floor. */
	parts = batches >= want ? 1 : want / batches;
	if (macs / GEMM_TASK_MACS < (double)parts)
		parts = macs < GEMM_TASK_MACS ? 1 :
			(int64_t)(macs / GEMM_TASK_MACS);
	j->row_parts = parts < j->m ? parts : j->m;
	j->col_parts = (parts + j->row_parts - 1) / j->row_parts;
	if (j->col_parts > j->n)
		j->col_parts = j->n;
	grain = macs >= GEMM_TASK_MACS ? 1 : (int64_t)(GEMM_TASK_MACS / macs);
	return pool_for(pool, batches * j->row_parts * j->col_parts, grain,
			gemm_range, j);
}

static bool blas_dim_ok(int64_t d)
{
	return d <= INT_MAX;
}

int gemm_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_gemm_attr *attr = c->attr;
	const struct eia_tensor *a = &c->in[0], *b = &c->in[1];
	int64_t m, n, k, kb, dims[2];

	if (attr->trans_a > 1 || attr->trans_b > 1)
		return -EINVAL;
	if (!is_float_dtype(a->dtype) || b->dtype != a->dtype ||
	    a->ndim != 2 || b->ndim != 2)
		return -EINVAL;
	m = a->dims[attr->trans_a ? 1 : 0];
	k = a->dims[attr->trans_a ? 0 : 1];
	kb = b->dims[attr->trans_b ? 1 : 0];
	n = b->dims[attr->trans_b ? 0 : 1];
	if (k != kb || !blas_dim_ok(m) || !blas_dim_ok(n) || !blas_dim_ok(k))
		return -EINVAL;
	dims[0] = m;
	dims[1] = n;
	if (c->n_in == 3 && (c->in[2].dtype != a->dtype ||
			     !bcast_to_ok(&c->in[2], 2, dims)))
		return -EINVAL;
	set_shape(out, a->dtype, 2, dims);
	return 0;
}

int gemm_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_gemm_attr *attr = c->attr;
	const struct eia_tensor *yt = &c->out[0];
	struct fview a = { 0 }, b = { 0 }, y = { 0 };
	struct gemm_job j = {
		.ta = attr->trans_a, .tb = attr->trans_b,
		.m = yt->dims[0], .n = yt->dims[1],
		.k = c->in[0].dims[attr->trans_a ? 0 : 1],
		.alpha = attr->alpha,
	};
	int ret;

	ret = fview_in(pool, &c->in[0], &a);
	if (!ret)
		ret = fview_in(pool, &c->in[1], &b);
	if (!ret)
		ret = fview_out(yt, &y);
	if (ret)
		goto out;
	/* Y starts as beta * C so that BLAS only accumulates into it. */
	if (c->n_in == 3 && attr->beta != 0.0f) {
		ret = expand_f32(pool, &c->in[2], 2, yt->dims, attr->beta, y.p);
		if (ret)
			goto out;
		j.beta = 1.0f;
	}
	j.a = a.p;
	j.b = b.p;
	j.y = y.p;
	ret = gemm_run(pool, &j, 1);
	if (!ret)
		ret = fview_commit(pool, yt, &y);
out:
	fview_free(&a);
	fview_free(&b);
	fview_free(&y);
	return ret;
}

/* MatMul's operands seen as (batch dims, rows, cols) after 1-D promotion. */
struct mm_shape {
	int64_t m, n, k;
	struct eia_tensor abatch, bbatch;	/* batch dims only */
	uint32_t bndim;
	int64_t bdims[EIA_MAX_DIMS];
};

static int mm_shape(const struct eia_tensor *a, const struct eia_tensor *b,
		    struct mm_shape *s)
{
	const struct eia_tensor *batches[2] = { &s->abatch, &s->bbatch };
	int64_t kb;

	if (!a->ndim || !b->ndim)
		return -EINVAL;
	s->m = a->ndim == 1 ? 1 : a->dims[a->ndim - 2];
	s->k = a->dims[a->ndim - 1];
	kb = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
	s->n = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
	if (s->k != kb || !blas_dim_ok(s->m) || !blas_dim_ok(s->n) ||
	    !blas_dim_ok(s->k))
		return -EINVAL;
	memset(&s->abatch, 0, sizeof(s->abatch));
	memset(&s->bbatch, 0, sizeof(s->bbatch));
	s->abatch.ndim = a->ndim > 2 ? a->ndim - 2 : 0;
	s->bbatch.ndim = b->ndim > 2 ? b->ndim - 2 : 0;
	memcpy(s->abatch.dims, a->dims, s->abatch.ndim * sizeof(a->dims[0]));
	memcpy(s->bbatch.dims, b->dims, s->bbatch.ndim * sizeof(b->dims[0]));
	return bcast_shape(batches, 2, &s->bndim, s->bdims);
}

int matmul_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *a = &c->in[0], *b = &c->in[1];
	int64_t dims[EIA_MAX_DIMS];
	struct mm_shape s;
	uint32_t nd;
	int ret;

	if (!is_float_dtype(a->dtype) || b->dtype != a->dtype)
		return -EINVAL;
	ret = mm_shape(a, b, &s);
	if (ret)
		return ret;
	memcpy(dims, s.bdims, s.bndim * sizeof(dims[0]));
	nd = s.bndim;
	/* A promoted 1-D operand's extra dimension is removed again. */
	if (a->ndim > 1)
		dims[nd++] = s.m;
	if (b->ndim > 1)
		dims[nd++] = s.n;
	set_shape(out, a->dtype, nd, dims);
	return 0;
}

int matmul_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *yt = &c->out[0];
	struct fview a = { 0 }, b = { 0 }, y = { 0 };
	struct gemm_job j = { .alpha = 1.0f };
	int64_t batches;
	struct mm_shape s;
	bool b_shared;
	int ret;

	mm_shape(&c->in[0], &c->in[1], &s);
	j.m = s.m;
	j.n = s.n;
	j.k = s.k;
	j.bndim = s.bndim;
	memcpy(j.bdims, s.bdims, sizeof(j.bdims));
	bcast_strides(&s.abatch, s.bndim, s.bdims, j.astride);
	bcast_strides(&s.bbatch, s.bndim, s.bdims, j.bstride);
	batches = shape_count(s.bndim, s.bdims);
	b_shared = all_zero(j.bstride, s.bndim);
	for (uint32_t i = 0; i < s.bndim; i++) {
		j.astride[i] *= s.m * s.k;
		j.bstride[i] *= s.k * s.n;
	}
	/*
	 * One B for every batch and an A with no broadcast batch dims: the
	 * batch is a single product with batches * m rows.
	 */
	if (b_shared && shape_count(s.abatch.ndim, s.abatch.dims) == batches &&
	    blas_dim_ok(batches * s.m)) {
		j.m = batches * s.m;
		j.bndim = 0;
		batches = 1;
	}
	ret = fview_in(pool, &c->in[0], &a);
	if (!ret)
		ret = fview_in(pool, &c->in[1], &b);
	if (!ret)
		ret = fview_out(yt, &y);
	if (ret)
		goto out;
	j.a = a.p;
	j.b = b.p;
	j.y = y.p;
	ret = gemm_run(pool, &j, batches);
	if (!ret)
		ret = fview_commit(pool, yt, &y);
out:
	fview_free(&a);
	fview_free(&b);
	fview_free(&y);
	return ret;
}
