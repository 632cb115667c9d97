// SPDX-License-Identifier: MIT
/*
 * Softmax, LogSoftmax, LayerNormalization and ReduceMean against double
 * loops.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fixture.h"

static int64_t run_softmax_op(struct eia_pool *pool, bool log_softmax,
			      struct eia_tensor x, int64_t axis, double lo,
			      double hi)
{
	struct eia_axis_attr attr = { .axis = axis };
	struct eia_tensor y = tlike(&x);
	double *ref = ralloc(tcount(&x));
	uint32_t a = (uint32_t)(axis < 0 ? axis + x.ndim : axis);
	int64_t outer = 1, len = x.dims[a], inner = 1;
	double tol = tol_of(x.dtype, TOL_F32);

	for (uint32_t i = 0; i < a; i++)
		outer *= x.dims[i];
	for (uint32_t i = a + 1; i < x.ndim; i++)
		inner *= x.dims[i];
	tfill(&x, lo, hi);
	if (log_softmax ? eia_op_log_softmax(pool, &attr, &x, &y) :
			  eia_op_softmax(pool, &attr, &x, &y))
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

				ref[k] = log_softmax ? tget(&x, k) - m - log(s) :
						       exp(tget(&x, k) - m) / s;
			}
		}
	return tcompare(&y, ref, tol, tol);
}

static int64_t run_softmax(struct eia_pool *pool, struct eia_tensor x,
			   int64_t axis, double lo, double hi)
{
	return run_softmax_op(pool, false, x, axis, lo, hi);
}

static int64_t run_log_softmax(struct eia_pool *pool, struct eia_tensor x,
			       int64_t axis, double lo, double hi)
{
	return run_softmax_op(pool, true, x, axis, lo, hi);
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

TEST_F(ops, softmax_large_inputs_f16_bf16)
{
	/* exp(1000) overflows unless the maximum is subtracted first. */
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F32, 3, 8), 1, 990,
				 1000));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_F16, 6, 9, 2), 1, -8,
				 8));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_BF16, 6, 9, 2), 1, -8,
				 8));
	ASSERT_EQ(0, run_softmax(self->pool, T(EIA_DTYPE_BF16, 5, 40), -1, 900,
				 1000));
	ASSERT_EQ(-EINVAL, eia_op_softmax(self->pool,
		&(struct eia_axis_attr){ .axis = 0 }, TP(EIA_DTYPE_BF16, 3),
		TP(EIA_DTYPE_F32, 3)));
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

TEST_F(ops, log_softmax)
{
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_F32, 4, 10), -1,
				     -5, 5));
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_F32, 2, 5, 3, 4), 1,
				     -5, 5));
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_F32, 7), 0, -5, 5));
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_F32, 3, 0, 2), 1,
				     -5, 5));
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_F32, 512, 300), -1,
				     -5, 5));
	/* Large inputs: no overflow, however large the logits. */
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_F32, 3, 8), 1, 990,
				     1000));
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_F16, 6, 9, 2), 1,
				     -8, 8));
	ASSERT_EQ(0, run_log_softmax(self->pool, T(EIA_DTYPE_BF16, 6, 9, 2), 1,
				     -8, 8));
	ASSERT_EQ(-EINVAL, eia_op_log_softmax(self->pool,
		&(struct eia_axis_attr){ .axis = 2 }, TP(EIA_DTYPE_F32, 3, 4),
		TP(EIA_DTYPE_F32, 3, 4)));
	ASSERT_EQ(-EINVAL, eia_op_log_softmax(self->pool,
		&(struct eia_axis_attr){ .axis = 0 }, TP(EIA_DTYPE_I64, 3),
		TP(EIA_DTYPE_I64, 3)));
	ASSERT_EQ(-EINVAL, eia_op_log_softmax(self->pool,
		&(struct eia_axis_attr){ .axis = 0 }, TP(EIA_DTYPE_F32, 3),
		TP(EIA_DTYPE_F16, 3)));
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
	double tol = tol_of(x.dtype, TOL_F32);

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
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_BF16, 5, 24), 1,
				   1e-5f, T(EIA_DTYPE_BF16, 24),
				   TP(EIA_DTYPE_BF16, 24)));
	ASSERT_EQ(0, run_layernorm(self->pool, T(EIA_DTYPE_BF16, 2, 3, 5, 6), 2,
				   1e-3f, T(EIA_DTYPE_BF16, 6), NULL));
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
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr,
					    TP(EIA_DTYPE_BF16, 4, 6),
					    TP(EIA_DTYPE_F32, 6), NULL,
					    TP(EIA_DTYPE_BF16, 4, 6)));
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr,
					    TP(EIA_DTYPE_BF16, 4, 6),
					    TP(EIA_DTYPE_BF16, 6),
					    TP(EIA_DTYPE_F16, 6),
					    TP(EIA_DTYPE_BF16, 4, 6)));
	attr.axis = 2;
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr, &x,
					    TP(EIA_DTYPE_F32, 6), NULL, &y));
	attr.axis = -1;
	attr.reserved = 1;
	ASSERT_EQ(-EINVAL, eia_op_layernorm(self->pool, &attr, &x,
					    TP(EIA_DTYPE_F32, 6), NULL, &y));
}

/* ReduceMean: the expected output shape is passed in by each case. */
/* The reduction of the @n values at @v, as ONNX defines it. */
static double ref_reduce(uint32_t op, uint32_t dtype, const double *v, int64_t n)
{
	double acc = op == EIA_OP_REDUCE_PROD ? 1 : 0, mx = -INFINITY;
	bool i64 = dtype == EIA_DTYPE_I64, i32 = dtype == EIA_DTYPE_I32;

	if (op == EIA_OP_REDUCE_MAX)
		acc = i64 ? -0x1p63 : i32 ? INT32_MIN : -INFINITY;
	if (op == EIA_OP_REDUCE_MIN)
		acc = i64 ? 0x1p63 : i32 ? INT32_MAX : INFINITY;
	for (int64_t k = 0; k < n; k++)
		mx = fmax(mx, v[k]);
	for (int64_t k = 0; k < n; k++) {
		switch (op) {
		case EIA_OP_REDUCE_MAX:
			acc = fmax(acc, v[k]);
			break;
		case EIA_OP_REDUCE_MIN:
			acc = fmin(acc, v[k]);
			break;
		case EIA_OP_REDUCE_PROD:
			acc *= v[k];
			break;
		case EIA_OP_REDUCE_L1:
			acc += fabs(v[k]);
			break;
		case EIA_OP_REDUCE_L2:
		case EIA_OP_REDUCE_SUM_SQUARE:
			acc += v[k] * v[k];
			break;
		case EIA_OP_REDUCE_LOG_SUM_EXP:
			acc += exp(v[k] - mx);
			break;
		default:
			acc += v[k];
		}
	}
	switch (op) {
	case EIA_OP_REDUCE_MEAN:
		return n ? acc / (double)n : NAN;
	case EIA_OP_REDUCE_L2:
		return sqrt(acc);
	case EIA_OP_REDUCE_LOG_SUM:
		return log(acc);
	case EIA_OP_REDUCE_LOG_SUM_EXP:
		return n ? mx + log(acc) : -INFINITY;
	}
	return acc;
}

static int64_t run_reduce_op(struct eia_pool *pool, uint32_t op,
			     struct eia_tensor x, struct eia_reduce_attr attr,
			     struct eia_tensor y)
{
	bool red[EIA_MAX_DIMS] = { false };
	int64_t idx[EIA_MAX_DIMS], oidx[EIA_MAX_DIMS], *cnt;
	int64_t per = tcount(&y) ? tcount(&x) / tcount(&y) : 0;
	double *vals, *ref = ralloc(tcount(&y));
	double tol = tol_of(x.dtype, TOL_F32);

	for (uint32_t i = 0; i < attr.n_axes; i++)
		red[attr.axes[i] < 0 ? attr.axes[i] + x.ndim : attr.axes[i]] = 1;
	if (!attr.n_axes && !attr.noop_with_empty_axes)
		memset(red, 1, sizeof(red));
	if (x.dtype == EIA_DTYPE_I64 || x.dtype == EIA_DTYPE_I32)
		tfill(&x, -3, 3);
	else if (op == EIA_OP_REDUCE_LOG_SUM)
		tfill(&x, 0.1, 2);
	else
		tfill(&x, -2, 2);
	if (eia_op_reduce(pool, op, &attr, &x, &y))
		return -1;
	/* Each output's values, gathered in order. */
	vals = ralloc(tcount(&x));
	cnt = (int64_t *)ralloc(tcount(&y));
	for (int64_t i = 0; i < tcount(&x); i++) {
		uint32_t n = 0;
		int64_t o;

		unravel(i, x.ndim, x.dims, idx);
		for (uint32_t d = 0; d < x.ndim; d++)
			if (!red[d])
				oidx[n++] = idx[d];
			else if (attr.keepdims)
				oidx[n++] = 0;
		o = ravel(y.ndim, y.dims, oidx);
		vals[o * per + cnt[o]++] = tget(&x, i);
	}
	/* noop_with_empty_axes: Y is X, whatever the reduction (ONNX's text). */
	for (int64_t o = 0; o < tcount(&y); o++)
		ref[o] = attr.noop_with_empty_axes && !attr.n_axes ? vals[o * per] :
			 ref_reduce(op, x.dtype, vals + o * per, cnt[o]);
	return tcompare(&y, ref, tol, tol);
}

static int64_t run_reduce(struct eia_pool *pool, struct eia_tensor x,
			  struct eia_reduce_attr attr, struct eia_tensor y)
{
	return run_reduce_op(pool, EIA_OP_REDUCE_MEAN, x, attr, y);
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
	ASSERT_EQ(0, run_reduce(self->pool, T(EIA_DTYPE_BF16, 6, 40),
				RATTR(0, 1), T(EIA_DTYPE_BF16, 6)));
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

static void check_reduce(struct __test_metadata *_metadata,
			 struct eia_pool *pool, uint32_t op, uint32_t dt)
{
	ASSERT_EQ(0, run_reduce_op(pool, op, T(dt, 3, 4, 5), RATTR(1, 1),
				   T(dt, 3, 1, 5)));
	ASSERT_EQ(0, run_reduce_op(pool, op, T(dt, 3, 4, 5), RATTR(0, 0, 2),
				   T(dt, 4)));
	ASSERT_EQ(0, run_reduce_op(pool, op, T(dt, 2, 3, 4, 5), RATTR(1, -3, 3),
				   T(dt, 2, 1, 4, 1)));
	ASSERT_EQ(0, run_reduce_op(pool, op, T(dt, 3, 4),
				   (struct eia_reduce_attr){ .keepdims = 0 },
				   tscalar(dt)));
	ASSERT_EQ(0, run_reduce_op(pool, op, T(dt, 3, 4),
				   (struct eia_reduce_attr){
					.noop_with_empty_axes = 1 },
				   T(dt, 3, 4)));
	ASSERT_EQ(0, run_reduce_op(pool, op, T(dt, 700, 9), RATTR(0, -1),
				   T(dt, 700)));
	/* Over nothing: each reduction's identity (or extreme). */
	ASSERT_EQ(0, run_reduce_op(pool, op, T(dt, 3, 0), RATTR(0, 1),
				   T(dt, 3)));
}

TEST_F(ops, reductions)
{
	static const uint32_t ints[] = { EIA_OP_REDUCE_SUM, EIA_OP_REDUCE_MAX,
		EIA_OP_REDUCE_MIN, EIA_OP_REDUCE_PROD, EIA_OP_REDUCE_L1,
		EIA_OP_REDUCE_SUM_SQUARE };
	static const uint32_t floats[] = { EIA_OP_REDUCE_L2,
		EIA_OP_REDUCE_LOG_SUM, EIA_OP_REDUCE_LOG_SUM_EXP };

	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		check_reduce(_metadata, self->pool, ints[i], EIA_DTYPE_F32);
		check_reduce(_metadata, self->pool, ints[i], EIA_DTYPE_F16);
		check_reduce(_metadata, self->pool, ints[i], EIA_DTYPE_BF16);
		check_reduce(_metadata, self->pool, ints[i], EIA_DTYPE_I64);
		check_reduce(_metadata, self->pool, ints[i], EIA_DTYPE_I32);
	}
	for (size_t i = 0; i < ARRAY_SIZE(floats); i++) {
		check_reduce(_metadata, self->pool, floats[i], EIA_DTYPE_F32);
		check_reduce(_metadata, self->pool, floats[i], EIA_DTYPE_F16);
		check_reduce(_metadata, self->pool, floats[i], EIA_DTYPE_BF16);
		ASSERT_EQ(-EINVAL, eia_op_reduce(self->pool, floats[i],
						 &RATTR(0, 0),
						 TP(EIA_DTYPE_I64, 2),
						 TP(EIA_DTYPE_I64)));
	}
}

/* NaN wins Max and Min; LogSumExp neither overflows nor hides infinities. */
TEST_F(ops, reduction_edges)
{
	static const double rows[][3] = {
		{ 1, NAN, 3 }, { 1000, 999, -1000 }, { -INFINITY, -INFINITY, -INFINITY },
		{ INFINITY, 1, 2 },
	};
	struct eia_tensor x = T(EIA_DTYPE_F32, 4, 3), y = T(EIA_DTYPE_F32, 4);
	struct eia_tensor i = T(EIA_DTYPE_I64, 2), yi = tscalar(EIA_DTYPE_I64);
	struct eia_reduce_attr last = RATTR(0, 1);
	const float *r = y.data;

	for (int k = 0; k < 12; k++)
		tset(&x, k, rows[k / 3][k % 3]);
	ASSERT_EQ(0, eia_op_reduce(self->pool, EIA_OP_REDUCE_MAX, &last, &x, &y));
	ASSERT_TRUE(isnan(r[0]) && r[1] == 1000 && r[2] == -INFINITY &&
		    r[3] == INFINITY);
	ASSERT_EQ(0, eia_op_reduce(self->pool, EIA_OP_REDUCE_MIN, &last, &x, &y));
	ASSERT_TRUE(isnan(r[0]) && r[1] == -1000 && r[2] == -INFINITY && r[3] == 1);
	ASSERT_EQ(0, eia_op_reduce(self->pool, EIA_OP_REDUCE_LOG_SUM_EXP, &last,
				   &x, &y));
	ASSERT_TRUE(isnan(r[0]) && fabs(r[1] - (1000 + log1p(exp(-1.0)))) < 1e-3);
	ASSERT_TRUE(r[2] == -INFINITY && r[3] == INFINITY);
	/* Integer sums wrap; extremes survive. */
	((int64_t *)i.data)[0] = INT64_MAX;
	((int64_t *)i.data)[1] = 1;
	ASSERT_EQ(0, eia_op_reduce(self->pool, EIA_OP_REDUCE_SUM,
				   &(struct eia_reduce_attr){ 0 }, &i, &yi));
	ASSERT_EQ(INT64_MIN, *(int64_t *)yi.data);
	ASSERT_EQ(0, eia_op_reduce(self->pool, EIA_OP_REDUCE_MAX,
				   &(struct eia_reduce_attr){ 0 }, &i, &yi));
	ASSERT_EQ(INT64_MAX, *(int64_t *)yi.data);
	/* Not reductions; BOOL; ReduceMean of integers; another output dtype. */
	ASSERT_EQ(-EINVAL, eia_op_reduce(self->pool, EIA_OP_REDUCE_SUM, &last,
					 TP(EIA_DTYPE_BF16, 2, 2),
					 TP(EIA_DTYPE_F32, 2)));
	ASSERT_EQ(-EINVAL, eia_op_reduce(self->pool, EIA_OP_SOFTMAX, &last, &x,
					 &y));
	ASSERT_EQ(-EINVAL, eia_op_reduce(self->pool, EIA_OP_REDUCE_SUM, &last,
					 TP(EIA_DTYPE_BOOL, 2, 2),
					 TP(EIA_DTYPE_BOOL, 2)));
	ASSERT_EQ(-EINVAL, eia_op_reduce(self->pool, EIA_OP_REDUCE_MEAN, &last,
					 TP(EIA_DTYPE_I32, 2, 2),
					 TP(EIA_DTYPE_I32, 2)));
}

TEST_HARNESS_MAIN
