// SPDX-License-Identifier: MIT
/* Softmax, LayerNormalization and ReduceMean against double loops. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fixture.h"

static int64_t run_softmax(struct eia_pool *pool, struct eia_tensor x,
			   int64_t axis, double lo, double hi)
{
	struct eia_axis_attr attr = { .axis = axis };
	struct eia_tensor y = tlike(&x);
	double *ref = ralloc(tcount(&x));
	uint32_t a = (uint32_t)(axis < 0 ? axis + x.ndim : axis);
	int64_t outer = 1, len = x.dims[a], inner = 1;
	double tol = x.dtype == EIA_DTYPE_F16 ? TOL_F16 : TOL_F32;

	for (uint32_t i = 0; i < a; i++)
		outer *= x.dims[i];
	for (uint32_t i = a + 1; i < x.ndim; i++)
		inner *= x.dims[i];
	tfill(&x, lo, hi);
	if (eia_op_softmax(pool, &attr, &x, &y))
		return -1;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t j = 0; j < inner; j++) {
			double m = -INFINITY, s = 0;

			for (int64_t i = 0; i < len; i++)
				m = fmax(m, tget(&x, (o * len + i) * inner + j));
			for (int64_t i = 0; i < len; i++)
				s += exp(tget(&x, (o * len + i) * inner + j) - m);
			for (int64_t i = 0; i < len; i++) {
				int64_t k = (o * len + i) * inner + j;

				ref[k] = exp(tget(&x, k) - m) / s;
			}
		}
	return tcompare(&y, ref, tol, tol);
}

TEST_F(ops, softmax_axes)
{
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 4, 10), -1, -5, 5));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 4, 10), 0, -5, 5));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 2, 5, 3, 4), 1,
				 -5, 5));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 2, 5, 3, 4), -2,
				 -5, 5));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 7), 0, -5, 5));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 3, 1), 1, -5, 5));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 3, 0, 2), 1, -5, 5));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 512, 300), -1,
				 -5, 5));
}

TEST_F(ops, softmax_large_inputs_and_f16)
{
	/* exp(1000) overflows unless the maximum is subtracted first. */
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 3, 8), 1, 990,
				 1000));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F16, 6, 9, 2), 1, -8,
				 8));
	ASSERT_EQ(-EINVAL, eia_op_softmax(self->pool,
		&(struct eia_axis_attr){ .axis = 2 }, TP(EIA_DTYPE_F32, 3, 4),
		TP(EIA_DTYPE_F32, 3, 4)));
	ASSERT_EQ(-EINVAL, eia_op_softmax(self->pool,
		&(struct eia_axis_attr){ .axis = -3 }, TP(EIA_DTYPE_F32, 3, 4),
		TP(EIA_DTYPE_F32, 3, 4)));
	ASSERT_EQ(-EINVAL, eia_op_softmax(self->pool,
		&(struct eia_axis_attr){ .axis = 0 }, TP(EIA_DTYPE_I32, 3),
		TP(EIA_DTYPE_I32, 3)));
}

static int64_t run_layernorm(struct eia_pool *pool, struct eia_tensor x,
			     int64_t axis, float eps, struct eia_tensor scale,
			     struct eia_tensor *bias)
{
	struct eia_layernorm_attr attr = { .axis = axis, .epsilon = eps };
	struct eia_tensor y = tlike(&x);
	uint32_t a = (uint32_t)(axis < 0 ? axis + x.ndim : axis);
	int64_t d = 1, rows, idx[EIA_MAX_DIMS];
	double *ref = ralloc(tcount(&x));
	double tol = x.dtype == EIA_DTYPE_F16 ? TOL_F16 : TOL_F32;

	for (uint32_t i = a; i < x.ndim; i++)
		d *= x.dims[i];
	rows = d ? tcount(&x) / d : 0;
	tfill(&x, -3, 3);
	tfill(&scale, 0.5, 1.5);
	if (bias)
		tfill(bias, -1, 1);
	if (eia_op_layernorm(pool, &attr, &x, &scale, bias, &y))
		return -1;
	for (int64_t r = 0; r < rows; r++) {
		double mean = 0, var = 0;

		for (int64_t i = 0; i < d; i++)
			mean += tget(&x, r * d + i);
		mean /= d;
		for (int64_t i = 0; i < d; i++)
			var += pow(tget(&x, r * d + i) - mean, 2);
		var /= d;
		for (int64_t i = 0; i < d; i++) {
			/* Index into the normalised shape x.dims[a:]. */
			unravel(i, x.ndim - a, &x.dims[a], idx);
			ref[r * d + i] = (tget(&x, r * d + i) - mean) /
					 sqrt(var + eps) *
					 bget(&scale, x.ndim - a, idx) +
					 (bias ? bget(bias, x.ndim - a, idx) : 0);
		}
	}
	return tcompare(&y, ref, tol, tol);
}

TEST_F(ops, layernorm)
{
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_F32, 4, 16), -1,
				   1e-5f, T(EIA_DTYPE_F32, 16),
				   TP(EIA_DTYPE_F32, 16)));
	/* Over the last two dims, scale broadcast along the first of them. */
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_F32, 2, 3, 5, 6), 2,
				   1e-3f, T(EIA_DTYPE_F32, 6),
				   TP(EIA_DTYPE_F32, 5, 1)));
	/* No bias; the whole tensor as one row. */
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_F32, 3, 7), 0,
				   1e-5f, T(EIA_DTYPE_F32, 3, 7), NULL));
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_F16, 5, 24), 1,
				   1e-5f, T(EIA_DTYPE_F16, 24),
				   TP(EIA_DTYPE_F16, 24)));
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_F32, 0, 8), -1,
				   1e-5f, T(EIA_DTYPE_F32, 8), NULL));
	/* A constant row normalises to the bias. */
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_F32, 2, 1), -1,
				   1e-5f, T(EIA_DTYPE_F32, 1),
				   TP(EIA_DTYPE_F32, 1)));
}

TEST_F(ops, layernorm_refusals)
{
	struct eia_layernorm_attr attr = EIA_LAYERNORM_ATTR_INIT;
	struct eia_tensor x = T(EIA_DTYPE_F32, 4, 6), y = T(EIA_DTYPE_F32, 4, 6);

	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr, &x,
					    TP(EIA_DTYPE_F32, 4), NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr, &x,
					    TP(EIA_DTYPE_F32, 6),
					    TP(EIA_DTYPE_F32, 2, 6), &y));
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr, &x,
					    TP(EIA_DTYPE_F16, 6), NULL, &y));
	attr.axis = 2;
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr, &x,
					    TP(EIA_DTYPE_F32, 6), NULL, &y));
	attr.axis = -1;
	attr.reserved = 1;
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr, &x,
					    TP(EIA_DTYPE_F32, 6), NULL, &y));
}

/* ReduceMean: the expected output shape is passed in by each case. */
static int64_t run_reduce(struct eia_pool *pool, struct eia_tensor x,
			  struct eia_reduce_attr attr, struct eia_tensor y)
{
	bool red[EIA_MAX_DIMS] = { false };
	int64_t idx[EIA_MAX_DIMS], oidx[EIA_MAX_DIMS];
	double *sum = ralloc(tcount(&y)), *cnt = ralloc(tcount(&y));
	double tol = x.dtype == EIA_DTYPE_F16 ? TOL_F16 : TOL_F32;

	for (uint32_t i = 0; i < attr.n_axes; i++)
		red[attr.axes[i] < 0 ? attr.axes[i] + x.ndim : attr.axes[i]] = 1;
	if (!attr.n_axes && !attr.noop_with_empty_axes)
		memset(red, 1, sizeof(red));
	tfill(&x, -2, 2);
	if (eia_op_reduce_mean(pool, &attr, &x, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&x); i++) {
		uint32_t n = 0;

		unravel(i, x.ndim, x.dims, idx);
		for (uint32_t d = 0; d < x.ndim; d++)
			if (!red[d])
				oidx[n++] = idx[d];
			else if (attr.keepdims)
				oidx[n++] = 0;
		sum[ravel(y.ndim, y.dims, oidx)] += tget(&x, i);
		cnt[ravel(y.ndim, y.dims, oidx)] += 1;
	}
	for (int64_t o = 0; o < tcount(&y); o++)
		sum[o] = cnt[o] ? sum[o] / cnt[o] : NAN;
	return tcompare(&y, sum, tol, tol);
}

#define RATTR(keep, ...) ((struct eia_reduce_attr){ .keepdims = keep, \
	.n_axes = (uint32_t)NDIMS(__VA_ARGS__), .axes = { __VA_ARGS__ } })

TEST_F(ops, reduce_mean_axes)
{
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 3, 4, 5),
				RATTR(1, 1), T(EIA_DTYPE_F32, 3, 1, 5)));
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 3, 4, 5),
				RATTR(0, 0, 2), T(EIA_DTYPE_F32, 4)));
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 3, 4, 5),
				RATTR(0, -1), T(EIA_DTYPE_F32, 3, 4)));
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 2, 3, 4, 5),
				RATTR(1, -3, 3), T(EIA_DTYPE_F32, 2, 1, 4, 1)));
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F16, 6, 40),
				RATTR(0, 1), T(EIA_DTYPE_F16, 6)));
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 1000, 64),
				RATTR(1, 1), T(EIA_DTYPE_F32, 1000, 1)));
}

TEST_F(ops, reduce_mean_all_noop_and_empty)
{
	struct eia_reduce_attr all = { .keepdims = 1 };

	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 3, 4), all,
				T(EIA_DTYPE_F32, 1, 1)));
	all.keepdims = 0;
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 3, 4), all,
				tscalar(EIA_DTYPE_F32)));
	all.noop_with_empty_axes = 1;
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 3, 4), all,
				T(EIA_DTYPE_F32, 3, 4)));
	/* The mean of nothing is NaN; nothing to reduce gives no output. */
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 3, 0),
				RATTR(0, 1), T(EIA_DTYPE_F32, 3)));
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_F32, 0, 4),
				RATTR(0, 1), T(EIA_DTYPE_F32, 0)));
}

TEST_F(ops, reduce_mean_refusals)
{
	struct eia_tensor x = T(EIA_DTYPE_F32, 3, 4), y = T(EIA_DTYPE_F32, 3);
	struct eia_reduce_attr a = RATTR(0, 1);

	ASSERT_EQ(0, eia_op_reduce_mean(self->pool, &a, &x, &y));
	a = RATTR(0, 1, -1);		/* the same axis twice */
	ASSERT_EQ(-EINVAL, eia_op_reduce_mean(self->pool, &a, &x, &y));
	a = RATTR(0, 2);
	ASSERT_EQ(-EINVAL, eia_op_reduce_mean(self->pool, &a, &x, &y));
	a = RATTR(0, 1);
	a.axes[3] = 7;			/* unused entries must be zero */
	ASSERT_EQ(-EINVAL, eia_op_reduce_mean(self->pool, &a, &x, &y));
	a = RATTR(2, 1);
	ASSERT_EQ(-EINVAL, eia_op_reduce_mean(self->pool, &a, &x, &y));
	a = RATTR(0, 1);
	a.n_axes = 9;
	ASSERT_EQ(-EINVAL, eia_op_reduce_mean(self->pool, &a, &x, &y));
	a = RATTR(0, 1);		/* keepdims 0 but a rank-2 output */
	ASSERT_EQ(-EINVAL, eia_op_reduce_mean(self->pool, &a, &x,
					      TP(EIA_DTYPE_F32, 3, 1)));
}

TEST_HARNESS_MAIN
