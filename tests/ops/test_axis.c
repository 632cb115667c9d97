// SPDX-License-Identifier: MIT
/* ArgMax, ArgMin and CumSum against loops along the axis, written here. */
#include <errno.h>
#include <math.h>

#include "fixture.h"

static const uint32_t numeric[] = { EIA_DTYPE_F32, EIA_DTYPE_F16,
				    EIA_DTYPE_I64, EIA_DTYPE_I32, EIA_DTYPE_BF16 };

/* (outer, len, inner) of @x around @axis. */
static void lanes(const struct eia_tensor *x, int64_t axis, int64_t *outer,
		  int64_t *len, int64_t *inner)
{
	uint32_t a = (uint32_t)(axis < 0 ? axis + x->ndim : axis);

	*outer = *inner = 1;
	for (uint32_t i = 0; i < a; i++)
		*outer *= x->dims[i];
	for (uint32_t i = a + 1; i < x->ndim; i++)
		*inner *= x->dims[i];
	*len = x->dims[a];
}

static int64_t run_arg(struct eia_pool *pool, uint32_t op, struct eia_tensor x,
		       int64_t axis, uint32_t keepdims, uint32_t last)
{
	struct eia_arg_attr attr = { .axis = axis, .keepdims = keepdims,
				     .select_last_index = last };
	int64_t outer, len, inner, dims[EIA_MAX_DIMS];
	uint32_t a = (uint32_t)(axis < 0 ? axis + x.ndim : axis), n = 0;
	struct eia_tensor y;
	double *ref;

	for (uint32_t i = 0; i < x.ndim; i++)
		if (i != a || keepdims)
			dims[n++] = i == a ? 1 : x.dims[i];
	y = tnew(EIA_DTYPE_I64, n, dims);
	ref = ralloc(tcount(&y));
	lanes(&x, axis, &outer, &len, &inner);
	/* A few distinct values, so that ties are common. */
	tfill(&x, -3, 3);
	if (x.dtype == EIA_DTYPE_F32 || x.dtype == EIA_DTYPE_BF16)
		for (int64_t i = 0; i < tcount(&x); i++)
			tset(&x, i, round(tget(&x, i)));
	if (eia_op_arg(pool, op, &attr, &x, &y))
		return -1;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			int64_t best = 0;

			for (int64_t k = 1; k < len; k++) {
				double v = tget(&x, (o * len + k) * inner + in);
				double b = tget(&x, (o * len + best) * inner + in);

				if (op == EIA_OP_ARGMAX ? v > b : v < b)
					best = k;
				else if (v == b && last)
					best = k;
			}
			ref[o * inner + in] = (double)best;
		}
	return tcompare(&y, ref, 0, 0);
}

TEST_F(ops, argmax_argmin)
{
	for (size_t k = 0; k < ARRAY_SIZE(numeric); k++) {
		uint32_t dt = numeric[k];

		for (uint32_t op = EIA_OP_ARGMAX; op <= EIA_OP_ARGMIN; op++) {
			ASSERT_EQ(0, run_arg(self->pool, op, T(dt, 3, 4, 5), 1, 1, 0));
			ASSERT_EQ(0, run_arg(self->pool, op, T(dt, 3, 4, 5), -1, 0, 1));
			ASSERT_EQ(0, run_arg(self->pool, op, T(dt, 3, 4, 5), 0, 0, 0));
			ASSERT_EQ(0, run_arg(self->pool, op, T(dt, 7), 0, 1, 1));
			ASSERT_EQ(0, run_arg(self->pool, op, T(dt, 600, 70), 1, 0, 0));
			ASSERT_EQ(0, run_arg(self->pool, op, T(dt, 0, 3), 1, 0, 0));
		}
	}
}

TEST_F(ops, arg_edges_and_refusals)
{
	static const double in[] = { 1, NAN, 5, NAN, 5 };
	struct eia_tensor x = T(EIA_DTYPE_F32, 5), y = tscalar(EIA_DTYPE_I64);
	struct eia_arg_attr attr = { .axis = 0 };
	struct eia_tensor big = T(EIA_DTYPE_I64, 2), y32 = tscalar(EIA_DTYPE_I32);

	for (int i = 0; i < 5; i++)
		tset(&x, i, in[i]);
	/* A NaN is the extreme either way: the first, or the last one. */
	ASSERT_EQ(0, eia_op_arg(self->pool, EIA_OP_ARGMAX, &attr, &x, &y));
	ASSERT_EQ(1, *(int64_t *)y.data);
	ASSERT_EQ(0, eia_op_arg(self->pool, EIA_OP_ARGMIN, &attr, &x, &y));
	ASSERT_EQ(1, *(int64_t *)y.data);
	attr.select_last_index = 1;
	ASSERT_EQ(0, eia_op_arg(self->pool, EIA_OP_ARGMAX, &attr, &x, &y));
	ASSERT_EQ(3, *(int64_t *)y.data);
	/* I64 beyond double's precision. */
	((int64_t *)big.data)[0] = (1ll << 53) + 1;
	((int64_t *)big.data)[1] = (1ll << 53);
	attr.select_last_index = 0;
	ASSERT_EQ(0, eia_op_arg(self->pool, EIA_OP_ARGMIN, &attr, &big, &y));
	ASSERT_EQ(1, *(int64_t *)y.data);
	/* An empty axis with lanes, bad flags and axes, BOOL, the output. */
	ASSERT_EQ(-EINVAL, eia_op_arg(self->pool, EIA_OP_ARGMAX, &attr,
				      TP(EIA_DTYPE_F32, 0, 3),
				      TP(EIA_DTYPE_I64, 3)));
	attr.keepdims = 2;
	ASSERT_EQ(-EINVAL, eia_op_arg(self->pool, EIA_OP_ARGMAX, &attr, &x, &y));
	attr.keepdims = 0;
	attr.axis = 1;
	ASSERT_EQ(-EINVAL, eia_op_arg(self->pool, EIA_OP_ARGMAX, &attr, &x, &y));
	attr.axis = 0;
	ASSERT_EQ(-EINVAL, eia_op_arg(self->pool, EIA_OP_ARGMAX, &attr,
				      TP(EIA_DTYPE_BOOL, 2), &y));
	ASSERT_EQ(-EINVAL, eia_op_arg(self->pool, EIA_OP_ARGMAX, &attr, &x, &y32));
	ASSERT_EQ(-EINVAL, eia_op_arg(self->pool, EIA_OP_CUMSUM, &attr, &x, &y));
}

static int64_t run_cumsum(struct eia_pool *pool, struct eia_tensor x,
			  int64_t axis, uint32_t exclusive, uint32_t reverse)
{
	struct eia_cumsum_attr attr = { .axis = axis, .exclusive = exclusive,
					.reverse = reverse };
	struct eia_tensor y = tlike(&x);
	double *ref = ralloc(tcount(&x));
	double tol = tol_of(x.dtype, TOL_F32);
	bool half = x.dtype == EIA_DTYPE_F16 || x.dtype == EIA_DTYPE_BF16;
	int64_t outer, len, inner;

	lanes(&x, axis, &outer, &len, &inner);
	tfill(&x, -2, 2);
	if (eia_op_cumsum(pool, &attr, &x, &y))
		return -1;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			double s = 0;

			for (int64_t n = 0; n < len; n++) {
				int64_t k = reverse ? len - 1 - n : n;
				int64_t at = (o * len + k) * inner + in;

				if (!exclusive)
					s += tget(&x, at);
				ref[at] = s;
				if (exclusive)
					s += tget(&x, at);
			}
		}
	/* fp16, bf16: every partial sum is rounded once; compare with its own. */
	return tcompare(&y, ref, tol * (half ? len : 1), tol);
}

TEST_F(ops, cumsum)
{
	for (size_t k = 0; k < ARRAY_SIZE(numeric); k++) {
		uint32_t dt = numeric[k];

		for (uint32_t flags = 0; flags < 4; flags++) {
			ASSERT_EQ(0, run_cumsum(self->pool, T(dt, 3, 4, 5), 1,
						flags & 1, flags >> 1));
			ASSERT_EQ(0, run_cumsum(self->pool, T(dt, 3, 4, 5), -1,
						flags & 1, flags >> 1));
			ASSERT_EQ(0, run_cumsum(self->pool, T(dt, 9), 0, flags & 1,
						flags >> 1));
		}
		ASSERT_EQ(0, run_cumsum(self->pool, T(dt, 700, 30), 0, 0, 0));
		ASSERT_EQ(0, run_cumsum(self->pool, T(dt, 2, 0, 3), 1, 1, 0));
	}
}

TEST_F(ops, cumsum_wraps_and_refusals)
{
	struct eia_tensor x = T(EIA_DTYPE_I64, 2), y = T(EIA_DTYPE_I64, 2);
	struct eia_cumsum_attr attr = { .axis = 0 };

	((int64_t *)x.data)[0] = INT64_MAX;
	((int64_t *)x.data)[1] = 1;
	ASSERT_EQ(0, eia_op_cumsum(self->pool, &attr, &x, &y));
	ASSERT_EQ(INT64_MIN, ((int64_t *)y.data)[1]);
	attr.exclusive = 2;
	ASSERT_EQ(-EINVAL, eia_op_cumsum(self->pool, &attr, &x, &y));
	attr.exclusive = 0;
	attr.axis = -2;
	ASSERT_EQ(-EINVAL, eia_op_cumsum(self->pool, &attr, &x, &y));
	attr.axis = 0;
	ASSERT_EQ(-EINVAL, eia_op_cumsum(self->pool, &attr,
					 TP(EIA_DTYPE_BOOL, 2),
					 TP(EIA_DTYPE_BOOL, 2)));
	ASSERT_EQ(-EINVAL, eia_op_cumsum(self->pool, &attr, &x,
					 TP(EIA_DTYPE_I32, 2)));
	ASSERT_EQ(-EINVAL, eia_op_cumsum(self->pool, &attr,
					 TP(EIA_DTYPE_BF16, 2),
					 TP(EIA_DTYPE_F16, 2)));
}

TEST_HARNESS_MAIN
