// SPDX-License-Identifier: MIT
/* Gemm and MatMul against naive double-precision loops. */
#include <errno.h>
#include <math.h>

#include "fixture.h"

struct gemm_case {
	uint32_t dtype;
	int64_t m, n, k;
	bool ta, tb;
	float alpha, beta;
	int cndim;		/* -1: no C */
	int64_t cdims[2];
};

static void ref_gemm(const struct gemm_case *g, const struct eia_tensor *a,
		     const struct eia_tensor *b, const struct eia_tensor *c,
		     double *y)
{
	for (int64_t i = 0; i < g->m; i++) {
		for (int64_t j = 0; j < g->n; j++) {
			int64_t idx[2] = { i, j };
			double s = 0.0;

			for (int64_t p = 0; p < g->k; p++)
				s += tget(a, g->ta ? p * g->m + i : i * g->k + p) *
				     tget(b, g->tb ? j * g->k + p : p * g->n + j);
			y[i * g->n + j] = g->alpha * s;
			if (c && g->beta != 0.0f)
				y[i * g->n + j] += g->beta * bget(c, 2, idx);
		}
	}
}

/* Runs one Gemm case; returns the number of mismatches (or -1). */
static int64_t run_gemm(struct eia_pool *pool, const struct gemm_case *g)
{
	struct eia_gemm_attr attr = {
		.alpha = g->alpha, .beta = g->beta,
		.trans_a = g->ta, .trans_b = g->tb,
	};
	struct eia_tensor a = g->ta ? T(g->dtype, g->k, g->m) :
				      T(g->dtype, g->m, g->k);
	struct eia_tensor b = g->tb ? T(g->dtype, g->n, g->k) :
				      T(g->dtype, g->k, g->n);
	struct eia_tensor y = T(g->dtype, g->m, g->n), c;
	double *ref = ralloc(g->m * g->n);
	double tol = tol_of(g->dtype, TOL_F32_BLAS);

	tfill(&a, -1, 1);
	tfill(&b, -1, 1);
	if (g->cndim >= 0) {
		c = tnew(g->dtype, (uint32_t)g->cndim, g->cdims);
		tfill(&c, -1, 1);
	}
	if (eia_op_gemm(pool, &attr, &a, &b, g->cndim >= 0 ? &c : NULL, &y))
		return -1;
	ref_gemm(g, &a, &b, g->cndim >= 0 ? &c : NULL, ref);
	return tcompare(&y, ref, tol, tol);
}

TEST_F(ops, gemm_plain)
{
	struct gemm_case g = { .dtype = EIA_DTYPE_F32, .m = 7, .n = 3, .k = 5,
			       .alpha = 1, .beta = 1, .cndim = -1 };

	ASSERT_EQ(0, run_gemm(self->pool, &g));
}

TEST_F(ops, gemm_transposes_alpha_beta)
{
	for (int t = 0; t < 4; t++) {
		struct gemm_case g = {
			.dtype = EIA_DTYPE_F32, .m = 9, .n = 11, .k = 6,
			.ta = t & 1, .tb = t & 2, .alpha = 0.5f, .beta = 2.0f,
			.cndim = 2, .cdims = { 9, 11 },
		};

		ASSERT_EQ(0, run_gemm(self->pool, &g));
	}
}

TEST_F(ops, gemm_c_broadcast)
{
	static const struct { int nd; int64_t d[2]; } cs[] = {
		{ 0, { 0 } }, { 1, { 5 } }, { 1, { 1 } }, { 2, { 1, 5 } },
		{ 2, { 4, 1 } }, { 2, { 1, 1 } }, { 2, { 4, 5 } },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cs); i++) {
		struct gemm_case g = {
			.dtype = EIA_DTYPE_F32, .m = 4, .n = 5, .k = 3,
			.tb = true, .alpha = 1.0f, .beta = 0.75f,
			.cndim = cs[i].nd, .cdims = { cs[i].d[0], cs[i].d[1] },
		};

		ASSERT_EQ(0, run_gemm(self->pool, &g));
	}
}

TEST_F(ops, gemm_beta_zero_does_not_read_c)
{
	struct eia_gemm_attr attr = { .alpha = 1.0f, .beta = 0.0f };
	struct eia_tensor a = T(EIA_DTYPE_F32, 2, 3), b = T(EIA_DTYPE_F32, 3, 2);
	struct eia_tensor c = T(EIA_DTYPE_F32, 2, 2), y = T(EIA_DTYPE_F32, 2, 2);

	tfill(&a, -1, 1);
	tfill(&b, -1, 1);
	for (int i = 0; i < 4; i++)
		tset(&c, i, NAN);
	ASSERT_EQ(0, eia_op_gemm(self->pool, &attr, &a, &b, &c, &y));
	for (int i = 0; i < 4; i++)
		ASSERT_TRUE(isfinite(tget(&y, i)));
}

TEST_F(ops, gemm_large_tiles_f32_f16_bf16)
{
	struct gemm_case g = {
		.dtype = EIA_DTYPE_F32, .m = 130, .n = 70, .k = 257, .ta = true,
		.alpha = 1.0f, .beta = 1.0f, .cndim = 1, .cdims = { 70 },
	};

	ASSERT_EQ(0, run_gemm(self->pool, &g));
	g.dtype = EIA_DTYPE_F16;
	g.k = 64;
	ASSERT_EQ(0, run_gemm(self->pool, &g));
	g.dtype = EIA_DTYPE_BF16;
	ASSERT_EQ(0, run_gemm(self->pool, &g));
	/* One row: the work is split over columns instead. */
	g.dtype = EIA_DTYPE_F32;
	g.m = 1;
	g.n = 600;
	g.k = 512;
	g.cdims[0] = 600;
	ASSERT_EQ(0, run_gemm(self->pool, &g));
}

TEST_F(ops, gemm_empty_dims)
{
	/* K = 0: the product is zero, Y = beta * C. */
	struct gemm_case g = {
		.dtype = EIA_DTYPE_F32, .m = 3, .n = 4, .k = 0, .alpha = 1.0f,
		.beta = 2.0f, .cndim = 2, .cdims = { 3, 4 },
	};

	ASSERT_EQ(0, run_gemm(self->pool, &g));
	g.cndim = -1;
	ASSERT_EQ(0, run_gemm(self->pool, &g));
	g.k = 3;
	g.m = 0;
	ASSERT_EQ(0, run_gemm(self->pool, &g));
}

TEST_F(ops, gemm_refusals)
{
	struct eia_gemm_attr attr = EIA_GEMM_ATTR_INIT;
	struct eia_tensor a = T(EIA_DTYPE_F32, 2, 3), b = T(EIA_DTYPE_F32, 4, 2);
	struct eia_tensor y = T(EIA_DTYPE_F32, 2, 2), c = T(EIA_DTYPE_F32, 3);
	struct eia_tensor b16 = T(EIA_DTYPE_F16, 3, 2), b3 = T(EIA_DTYPE_F32, 3, 2);
	struct eia_tensor a3 = T(EIA_DTYPE_F32, 1, 2, 3);

	/* K mismatch, dtype mismatch, rank 3, C not broadcastable. */
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, &a, &b, NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, &a, &b16, NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, TP(EIA_DTYPE_BF16, 2, 3),
				       &b16, NULL, TP(EIA_DTYPE_BF16, 2, 2)));
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, TP(EIA_DTYPE_BF16, 2, 3),
				       TP(EIA_DTYPE_BF16, 3, 2), &c,
				       TP(EIA_DTYPE_BF16, 2, 2)));
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, TP(EIA_DTYPE_BF16, 2, 3),
				       TP(EIA_DTYPE_BF16, 3, 2), NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, &a3, &b3, NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, &a, &b3, &c, &y));
	attr.trans_a = 2;
	ASSERT_EQ(-EINVAL, eia_op_gemm(self->pool, &attr, &a, &b3, NULL, &y));
	attr.trans_a = 0;
	ASSERT_EQ(0, eia_op_gemm(self->pool, &attr, &a, &b3, NULL, &y));
}

/* MatMul: numpy matmul semantics in double. */
static void ref_matmul(const struct eia_tensor *a, const struct eia_tensor *b,
		       const struct eia_tensor *y, double *out)
{
	bool a1 = a->ndim == 1, b1 = b->ndim == 1;
	int64_t m = a1 ? 1 : a->dims[a->ndim - 2], k = a->dims[a->ndim - 1];
	int64_t n = b1 ? 1 : b->dims[b->ndim - 1];
	uint32_t bnd = y->ndim - !a1 - !b1;
	uint32_t abn = a1 ? 0 : a->ndim - 2, bnd_b = b1 ? 0 : b->ndim - 2;
	int64_t nb = 1, idx[EIA_MAX_DIMS];

	for (uint32_t i = 0; i < bnd; i++)
		nb *= y->dims[i];
	for (int64_t bi = 0; bi < nb; bi++) {
		int64_t aoff = 0, boff = 0;

		unravel(bi, bnd, y->dims, idx);
		for (uint32_t i = 0; i < abn; i++)
			aoff = aoff * a->dims[i] +
			       (a->dims[i] == 1 ? 0 : idx[bnd - abn + i]);
		for (uint32_t i = 0; i < bnd_b; i++)
			boff = boff * b->dims[i] +
			       (b->dims[i] == 1 ? 0 : idx[bnd - bnd_b + i]);
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < n; j++) {
				double s = 0.0;

				for (int64_t p = 0; p < k; p++)
					s += tget(a, (aoff * m + i) * k + p) *
					     tget(b, (boff * k + p) * n + j);
				out[(bi * m + i) * n + j] = s;
			}
	}
}

static int64_t run_matmul(struct eia_pool *pool, uint32_t dt,
			  struct eia_tensor a, struct eia_tensor b,
			  struct eia_tensor y)
{
	double *ref = ralloc(tcount(&y));
	double tol = tol_of(dt, TOL_F32_BLAS);

	tfill(&a, -1, 1);
	tfill(&b, -1, 1);
	if (eia_op_matmul(pool, &a, &b, &y))
		return -1;
	ref_matmul(&a, &b, &y, ref);
	return tcompare(&y, ref, tol, tol);
}

#define F32 EIA_DTYPE_F32
#define F16 EIA_DTYPE_F16
#define BF16 EIA_DTYPE_BF16

TEST_F(ops, matmul_2d_and_flattened_batch)
{
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 5, 7), T(F32, 7, 3),
				T(F32, 5, 3)));
	/* Shared B: computed as one (4*3) x 5 by 5 x 6 product. */
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 4, 3, 5),
				T(F32, 5, 6), T(F32, 4, 3, 6)));
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 2, 1, 3, 5),
				T(F32, 1, 5, 6), T(F32, 2, 1, 3, 6)));
}

TEST_F(ops, matmul_batch_broadcast)
{
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 2, 1, 4, 5),
				T(F32, 3, 5, 6), T(F32, 2, 3, 4, 6)));
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 4, 5),
				T(F32, 3, 5, 6), T(F32, 3, 4, 6)));
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 3, 1, 2, 8, 4),
				T(F32, 5, 1, 4, 2), T(F32, 3, 5, 2, 8, 2)));
}

TEST_F(ops, matmul_1d_promotion)
{
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 6), T(F32, 6),
				tscalar(F32)));
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 6), T(F32, 2, 6, 3),
				T(F32, 2, 3)));
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 2, 4, 6), T(F32, 6),
				T(F32, 2, 4)));
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 6), T(F32, 6, 5),
				T(F32, 5)));
}

TEST_F(ops, matmul_f16_bf16_and_large)
{
	ASSERT_EQ(0, run_matmul(self->pool, F16, T(F16, 3, 17, 40),
				T(F16, 3, 40, 9), T(F16, 3, 17, 9)));
	ASSERT_EQ(0, run_matmul(self->pool, BF16, T(BF16, 3, 17, 40),
				T(BF16, 3, 40, 9), T(BF16, 3, 17, 9)));
	ASSERT_EQ(0, run_matmul(self->pool, BF16, T(BF16, 2, 1, 4, 48),
				T(BF16, 3, 48, 6), T(BF16, 2, 3, 4, 6)));
	ASSERT_EQ(0, run_matmul(self->pool, BF16, T(BF16, 24), T(BF16, 24, 5),
				T(BF16, 5)));
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 2, 96, 128),
				T(F32, 2, 128, 80), T(F32, 2, 96, 80)));
}

TEST_F(ops, matmul_empty)
{
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 0, 3, 4),
				T(F32, 4, 2), T(F32, 0, 3, 2)));
	/* K = 0: zeros. */
	ASSERT_EQ(0, run_matmul(self->pool, F32, T(F32, 2, 3, 0),
				T(F32, 0, 5), T(F32, 2, 3, 5)));
}

TEST_F(ops, matmul_refusals)
{
	struct eia_tensor y = T(F32, 2, 2);

	/* K mismatch, a scalar operand, batch dims 2 vs 3. */
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, TP(F32, 2, 3),
					 TP(F32, 4, 2), &y));
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, &(struct eia_tensor[]){
			tscalar(F32) }[0], TP(F32, 1, 2), &y));
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, TP(F32, 2, 2, 3),
					 TP(F32, 3, 3, 2), TP(F32, 3, 2, 2)));
	/* Wrong output shape. */
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, TP(F32, 2, 3),
					 TP(F32, 3, 4), &y));
	/* Mixed floats; int64 is not a MatMul type here. */
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, TP(BF16, 2, 3),
					 TP(F32, 3, 2), &y));
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, TP(BF16, 2, 3),
					 TP(F16, 3, 2), TP(BF16, 2, 2)));
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, TP(BF16, 2, 3),
					 TP(BF16, 3, 2), &y));
	ASSERT_EQ(-EINVAL, eia_op_matmul(self->pool, TP(EIA_DTYPE_I64, 2, 3),
					 TP(EIA_DTYPE_I64, 3, 2),
					 TP(EIA_DTYPE_I64, 2, 2)));
}

TEST_HARNESS_MAIN
