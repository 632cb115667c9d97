// SPDX-License-Identifier: MIT
/*
 * Clip, and the unary operators past the first set (Neg, Abs, Reciprocal,
 * Log, Sin, Cos, Floor, Ceil, Sign, LeakyRelu, HardSigmoid, HardSwish, Elu,
 * Softplus), against double-precision math.h.
 */
#include <errno.h>
#include <math.h>

#include "fixture.h"

static int64_t run_clip(struct eia_pool *pool, struct eia_tensor x, double lo,
			double hi)
{
	struct eia_tensor mn = tscalar(x.dtype), mx = T(x.dtype, 1, 1);
	struct eia_tensor y = tlike(&x);
	double *ref = ralloc(tcount(&x));

	tfill(&x, -10, 10);
	tset(&mn, 0, lo);
	tset(&mx, 0, hi);
	if (eia_op_clip(pool, &x, &mn, &mx, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&x); i++) {
		double v = tget(&x, i);

		v = v < lo ? lo : v;
		ref[i] = v > hi ? hi : v;
	}
	return tcompare(&y, ref, 0, 0);
}

TEST_F(ops, clip)
{
	static const uint32_t dts[] = { EIA_DTYPE_F32, EIA_DTYPE_F16,
					EIA_DTYPE_I64, EIA_DTYPE_I32,
					EIA_DTYPE_BF16 };

	for (size_t k = 0; k < ARRAY_SIZE(dts); k++) {
		ASSERT_EQ(0, run_clip(self->pool, T(dts[k], 3, 41), 0, 6));
		ASSERT_EQ(0, run_clip(self->pool, T(dts[k], 70001), -2, 3));
		ASSERT_EQ(0, run_clip(self->pool, tscalar(dts[k]), -1, 1));
		ASSERT_EQ(0, run_clip(self->pool, T(dts[k], 2, 0), -1, 1));
		/* Min above Max: everything is Max. */
		ASSERT_EQ(0, run_clip(self->pool, T(dts[k], 50), 4, -4));
	}
	ASSERT_EQ(0, run_clip(self->pool, T(EIA_DTYPE_F32, 40), -INFINITY, 0.5));
}

TEST_F(ops, clip_nan_in_place_and_refusals)
{
	struct eia_tensor x = T(EIA_DTYPE_F32, 3), lo = tscalar(EIA_DTYPE_F32);
	struct eia_tensor hi = tscalar(EIA_DTYPE_F32);

	tset(&x, 0, NAN);
	tset(&x, 1, 7);
	tset(&x, 2, -7);
	tset(&hi, 0, 6);
	ASSERT_EQ(0, eia_op_clip(self->pool, &x, &lo, &hi, &x));
	ASSERT_TRUE(isnan(tget(&x, 0)) && tget(&x, 1) == 6 && tget(&x, 2) == 0);
	/* Bounds of another dtype or with more than one element; BOOL. */
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, &x, TP(EIA_DTYPE_F16, 1), &hi,
				       &x));
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, TP(EIA_DTYPE_BF16, 3), &lo,
				       &hi, TP(EIA_DTYPE_BF16, 3)));
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, TP(EIA_DTYPE_BF16, 3),
				       TP(EIA_DTYPE_BF16, 1),
				       TP(EIA_DTYPE_F16, 1),
				       TP(EIA_DTYPE_BF16, 3)));
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, &x, &lo, TP(EIA_DTYPE_F32, 2),
				       &x));
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, &x, &lo,
				       TP(EIA_DTYPE_F32, 0), &x));
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, TP(EIA_DTYPE_BOOL, 2),
				       TP(EIA_DTYPE_BOOL, 1),
				       TP(EIA_DTYPE_BOOL, 1),
				       TP(EIA_DTYPE_BOOL, 2)));
	/* Both bounds are required; the output keeps X's shape. */
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, &x, &lo, NULL, &x));
	ASSERT_EQ(-EINVAL, eia_op_clip(self->pool, &x, &lo, &hi,
				       TP(EIA_DTYPE_F32, 1, 3)));
}

static double ref_unary(uint32_t op, double x, double a, double b)
{
	switch (op) {
	case EIA_OP_NEG:
		return -x;
	case EIA_OP_ABS:
		return fabs(x);
	case EIA_OP_RECIPROCAL:
		return 1 / x;
	case EIA_OP_LOG:
		return log(x);
	case EIA_OP_SIN:
		return sin(x);
	case EIA_OP_COS:
		return cos(x);
	case EIA_OP_FLOOR:
		return floor(x);
	case EIA_OP_CEIL:
		return ceil(x);
	case EIA_OP_SIGN:
		return x > 0 ? 1 : x < 0 ? -1 : 0;
	case EIA_OP_LEAKY_RELU:
		return x < 0 ? a * x : x;
	case EIA_OP_HARD_SIGMOID:
		return fmax(0, fmin(1, a * x + b));
	case EIA_OP_HARD_SWISH:
		return x * fmax(0, fmin(1, x / 6 + 0.5));
	case EIA_OP_ELU:
		return x < 0 ? a * (exp(x) - 1) : x;
	default:
		return log(1 + exp(x));
	}
}

static int64_t run_unary(struct eia_pool *pool, uint32_t op,
			 const struct eia_activation_attr *attr,
			 struct eia_tensor x, double lo, double hi)
{
	struct eia_tensor y = tlike(&x);
	double *ref = ralloc(tcount(&y));
	double tol = tol_of(x.dtype, TOL_F32);
	int ret;

	tfill(&x, lo, hi);
	ret = attr ? eia_op_activation(pool, op, attr, &x, &y) :
		     eia_op_unary(pool, op, &x, &y);
	if (ret)
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++)
		ref[i] = ref_unary(op, tget(&x, i), attr ? attr->alpha : 0,
				   attr ? attr->beta : 0);
	return tcompare(&y, ref, tol, tol);
}

static void check_unary(struct __test_metadata *_metadata,
			struct eia_pool *pool, uint32_t op,
			const struct eia_activation_attr *attr, double lo,
			double hi)
{
	ASSERT_EQ(0, run_unary(pool, op, attr, T(EIA_DTYPE_F32, 3, 7, 5), lo,
			       hi));
	ASSERT_EQ(0, run_unary(pool, op, attr, T(EIA_DTYPE_F16, 2, 33), lo,
			       hi));
	ASSERT_EQ(0, run_unary(pool, op, attr, T(EIA_DTYPE_BF16, 5, 29), lo,
			       hi));
	ASSERT_EQ(0, run_unary(pool, op, attr, T(EIA_DTYPE_F32, 70000), lo,
			       hi));
	ASSERT_EQ(0, run_unary(pool, op, attr, tscalar(EIA_DTYPE_F32), lo, hi));
	ASSERT_EQ(0, run_unary(pool, op, attr, T(EIA_DTYPE_F32, 4, 0), lo, hi));
}

TEST_F(ops, math_unaries)
{
	check_unary(_metadata, self->pool, EIA_OP_NEG, NULL, -5, 5);
	check_unary(_metadata, self->pool, EIA_OP_ABS, NULL, -5, 5);
	check_unary(_metadata, self->pool, EIA_OP_RECIPROCAL, NULL, 0.25, 5);
	check_unary(_metadata, self->pool, EIA_OP_RECIPROCAL, NULL, -5, -0.25);
	check_unary(_metadata, self->pool, EIA_OP_LOG, NULL, 0.01, 100);
	check_unary(_metadata, self->pool, EIA_OP_SIN, NULL, -6, 6);
	check_unary(_metadata, self->pool, EIA_OP_COS, NULL, -6, 6);
	check_unary(_metadata, self->pool, EIA_OP_FLOOR, NULL, -5, 5);
	check_unary(_metadata, self->pool, EIA_OP_CEIL, NULL, -5, 5);
	check_unary(_metadata, self->pool, EIA_OP_SIGN, NULL, -5, 5);
}

TEST_F(ops, activations)
{
	struct eia_activation_attr leaky = EIA_LEAKY_RELU_ATTR_INIT;
	struct eia_activation_attr hs = EIA_HARD_SIGMOID_ATTR_INIT;
	struct eia_activation_attr elu = EIA_ELU_ATTR_INIT;

	check_unary(_metadata, self->pool, EIA_OP_LEAKY_RELU, &leaky, -5, 5);
	leaky.alpha = 2.5f;
	check_unary(_metadata, self->pool, EIA_OP_LEAKY_RELU, &leaky, -5, 5);
	check_unary(_metadata, self->pool, EIA_OP_HARD_SIGMOID, &hs, -6, 6);
	hs = (struct eia_activation_attr){ .alpha = -0.5f, .beta = 0.25f };
	check_unary(_metadata, self->pool, EIA_OP_HARD_SIGMOID, &hs, -6, 6);
	check_unary(_metadata, self->pool, EIA_OP_HARD_SWISH, NULL, -6, 6);
	check_unary(_metadata, self->pool, EIA_OP_ELU, &elu, -5, 5);
	elu.alpha = 0.3f;
	check_unary(_metadata, self->pool, EIA_OP_ELU, &elu, -5, 5);
	check_unary(_metadata, self->pool, EIA_OP_SOFTPLUS, NULL, -20, 20);
}

/* Edges: NaN, signed zeros, infinities, overflow-prone Softplus. */
TEST_F(ops, unary_edges)
{
	static const double in[] = { NAN, -0.0, 0.0, INFINITY, -INFINITY, 100,
				     -100 };
	struct eia_tensor x = T(EIA_DTYPE_F32, ARRAY_SIZE(in));
	struct eia_tensor y = tlike(&x);
	const float *r = y.data;

	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		tset(&x, (int64_t)i, in[i]);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_SIGN, &x, &y));
	ASSERT_TRUE(isnan(r[0]) && r[1] == 0 && r[3] == 1 && r[4] == -1);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_RECIPROCAL, &x, &y));
	ASSERT_TRUE(r[1] == -INFINITY && r[2] == INFINITY && r[3] == 0);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_SOFTPLUS, &x, &y));
	ASSERT_TRUE(isnan(r[0]) && r[3] == INFINITY && r[4] == 0 && r[5] == 100);
	ASSERT_TRUE(r[6] > 0 && r[6] < 1e-40);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_HARD_SWISH, &x, &y));
	ASSERT_TRUE(isnan(r[0]) && r[5] == 100 && r[6] == 0);
	ASSERT_EQ(0, eia_op_activation(self->pool, EIA_OP_HARD_SIGMOID,
		&(struct eia_activation_attr)EIA_HARD_SIGMOID_ATTR_INIT, &x, &y));
	ASSERT_TRUE(isnan(r[0]) && r[3] == 1 && r[4] == 0);
	/* In place. */
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_LOG, &x, &x));
	ASSERT_TRUE(isnan(tget(&x, 0)) && tget(&x, 1) == -INFINITY);
	ASSERT_TRUE(tget(&x, 3) == INFINITY && isnan(tget(&x, 4)));
	/* bf16 keeps NaN and fp32's range: 1 / 1e-30 is finite. */
	x = T(EIA_DTYPE_BF16, 4);
	y = tlike(&x);
	tset(&x, 0, NAN);
	tset(&x, 1, 100);
	tset(&x, 2, 1e-30);
	tset(&x, 3, -INFINITY);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_SOFTPLUS, &x, &y));
	ASSERT_TRUE(isnan(tget(&y, 0)) && tget(&y, 1) == 100 && tget(&y, 3) == 0);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_RECIPROCAL, &x, &x));
	ASSERT_TRUE(isnan(tget(&x, 0)) && fabs(tget(&x, 2) - 1e30) < 1e30 * TOL_BF16);
	ASSERT_TRUE(tget(&x, 3) == 0 && signbit(tget(&x, 3)));
}

/* Neg, Abs and Sign of integers; the minimum wraps. */
TEST_F(ops, integer_unaries)
{
	static const int64_t in[] = { 5, -7, 0, INT64_MIN, INT64_MAX };
	struct eia_tensor x = T(EIA_DTYPE_I64, 5), y = T(EIA_DTYPE_I64, 5);
	struct eia_tensor x32 = T(EIA_DTYPE_I32, 40), y32 = tlike(&x32);
	const int64_t *r = y.data;
	double ref[40];

	for (int i = 0; i < 5; i++)
		((int64_t *)x.data)[i] = in[i];
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_NEG, &x, &y));
	ASSERT_TRUE(r[0] == -5 && r[1] == 7 && r[2] == 0 && r[3] == INT64_MIN &&
		    r[4] == -INT64_MAX);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_ABS, &x, &y));
	ASSERT_TRUE(r[0] == 5 && r[1] == 7 && r[3] == INT64_MIN);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_SIGN, &x, &y));
	ASSERT_TRUE(r[0] == 1 && r[1] == -1 && r[2] == 0 && r[3] == -1);
	tfill(&x32, -1000, 1000);
	for (int i = 0; i < 40; i++)
		ref[i] = fabs(tget(&x32, i));
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_ABS, &x32, &y32));
	ASSERT_EQ(0, tcompare(&y32, ref, 0, 0));
	/* Only these three take integers; none takes BOOL. */
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_FLOOR, &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_NEG,
					TP(EIA_DTYPE_BOOL, 2),
					TP(EIA_DTYPE_BOOL, 2)));
}

TEST_F(ops, unary_refusals)
{
	struct eia_tensor x = T(EIA_DTYPE_F32, 4), y = T(EIA_DTYPE_F32, 4);
	struct eia_activation_attr attr = { .alpha = 0.1f, .beta = 1 };

	/* beta is HardSigmoid's only. */
	ASSERT_EQ(-EINVAL, eia_op_activation(self->pool, EIA_OP_LEAKY_RELU,
					     &attr, &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_activation(self->pool, EIA_OP_ELU, &attr, &x,
					     &y));
	ASSERT_EQ(0, eia_op_activation(self->pool, EIA_OP_HARD_SIGMOID, &attr,
				       &x, &y));
	/* Activations need their attributes; the others take none. */
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_ELU, &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_activation(self->pool, EIA_OP_HARD_SWISH,
					     &attr, &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_run(self->pool, EIA_OP_SOFTPLUS, &attr,
				      sizeof(attr), &x, 1, &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_SIN, &x,
					TP(EIA_DTYPE_F16, 4)));
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_SIN, &x,
					TP(EIA_DTYPE_BF16, 4)));
	ASSERT_EQ(-EINVAL, eia_op_activation(self->pool, EIA_OP_ELU,
		&(struct eia_activation_attr)EIA_ELU_ATTR_INIT,
		TP(EIA_DTYPE_BF16, 4), TP(EIA_DTYPE_F16, 4)));
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_ADD, &x, &y));
}

TEST_HARNESS_MAIN
