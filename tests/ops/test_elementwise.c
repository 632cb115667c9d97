// SPDX-License-Identifier: MIT
/*
 * Add/Sub/Mul/Div/Pow/Min/Max (floats and integers) and Where under
 * broadcasting, and the unary activations, against double-precision math.h.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fixture.h"

struct shape {
	uint32_t nd;
	int64_t d[4];
};

/* Operand pairs (and the third of Where): equal, trailing, 1-sized, missing
 * and zero-sized dims, scalars, and one large enough for several tasks.
 */
static const struct shape shapes[][3] = {
	{ { 3, { 2, 3, 4 } }, { 3, { 2, 3, 4 } }, { 1, { 4 } } },
	{ { 3, { 2, 3, 4 } }, { 1, { 4 } }, { 2, { 3, 1 } } },
	{ { 3, { 2, 1, 4 } }, { 2, { 3, 1 } }, { 0, { 0 } } },
	{ { 1, { 1 } }, { 2, { 2, 3 } }, { 1, { 3 } } },
	{ { 0, { 0 } }, { 2, { 3, 2 } }, { 2, { 1, 2 } } },
	{ { 2, { 0, 3 } }, { 2, { 1, 3 } }, { 1, { 1 } } },
	{ { 4, { 5, 1, 1, 7 } }, { 3, { 1, 6, 1 } }, { 2, { 6, 7 } } },
	{ { 3, { 3, 1, 5 } }, { 3, { 3, 4, 1 } }, { 3, { 1, 4, 5 } } },
	{ { 2, { 300, 257 } }, { 1, { 257 } }, { 2, { 300, 1 } } },
};

/* numpy's broadcast of @n shapes, written out independently. */
static struct shape bshape(const struct shape *s, int n)
{
	struct shape o = { 0 };

	for (int k = 0; k < n; k++)
		o.nd = s[k].nd > o.nd ? s[k].nd : o.nd;
	for (uint32_t i = 0; i < o.nd; i++) {
		o.d[i] = 1;
		for (int k = 0; k < n; k++) {
			int64_t pos = (int64_t)i - (o.nd - s[k].nd);

			if (pos >= 0 && s[k].d[pos] != 1)
				o.d[i] = s[k].d[pos];
		}
	}
	return o;
}

static double ref_binary(uint32_t op, double a, double b)
{
	switch (op) {
	case EIA_OP_ADD:
		return a + b;
	case EIA_OP_SUB:
		return a - b;
	case EIA_OP_MUL:
		return a * b;
	case EIA_OP_DIV:
		return a / b;
	case EIA_OP_MIN:
		return fmin(a, b);
	case EIA_OP_MAX:
		return fmax(a, b);
	default:
		return pow(a, b);
	}
}

static int64_t run_binary(struct eia_pool *pool, uint32_t op, uint32_t dt,
			  const struct shape *s)
{
	struct shape os = bshape(s, 2);
	struct eia_tensor a = tnew(dt, s[0].nd, s[0].d);
	struct eia_tensor b = tnew(dt, s[1].nd, s[1].d);
	struct eia_tensor y = tnew(dt, os.nd, os.d);
	double *ref = ralloc(tcount(&y));
	double tol = tol_of(dt, TOL_F32);
	int64_t idx[EIA_MAX_DIMS];

	/* Pow and Div stay away from negative bases and zero divisors. */
	tfill(&a, op == EIA_OP_POW ? 0.25 : -4, 4);
	tfill(&b, op == EIA_OP_POW ? -2 : 0.5, 2);
	if (eia_op_binary(pool, op, &a, &b, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		unravel(i, y.ndim, y.dims, idx);
		ref[i] = ref_binary(op, bget(&a, y.ndim, idx),
				    bget(&b, y.ndim, idx));
	}
	return tcompare(&y, ref, tol, tol);
}

static void check_binary(struct __test_metadata *_metadata,
			 struct eia_pool *pool, uint32_t op)
{
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		ASSERT_EQ(0, run_binary(pool, op, EIA_DTYPE_F32, shapes[i]));
		ASSERT_EQ(0, run_binary(pool, op, EIA_DTYPE_F16, shapes[i]));
		ASSERT_EQ(0, run_binary(pool, op, EIA_DTYPE_BF16, shapes[i]));
	}
}

TEST_F(ops, add)
{
	check_binary(_metadata, self->pool, EIA_OP_ADD);
}

TEST_F(ops, sub)
{
	check_binary(_metadata, self->pool, EIA_OP_SUB);
}

TEST_F(ops, mul)
{
	check_binary(_metadata, self->pool, EIA_OP_MUL);
}

TEST_F(ops, div)
{
	struct eia_tensor a = T(EIA_DTYPE_F32, 3), z = T(EIA_DTYPE_F32, 1);
	struct eia_tensor y = T(EIA_DTYPE_F32, 3);

	check_binary(_metadata, self->pool, EIA_OP_DIV);
	/* IEEE division by zero. */
	tset(&a, 0, 1);
	tset(&a, 1, -1);
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_DIV, &a, &z, &y));
	ASSERT_TRUE(tget(&y, 0) == INFINITY);
	ASSERT_TRUE(tget(&y, 1) == -INFINITY);
	ASSERT_TRUE(isnan(tget(&y, 2)));
}

TEST_F(ops, pow)
{
	check_binary(_metadata, self->pool, EIA_OP_POW);
}

TEST_F(ops, min_max)
{
	struct eia_tensor a = T(EIA_DTYPE_F32, 3), b = T(EIA_DTYPE_F32, 3);
	struct eia_tensor y = T(EIA_DTYPE_F32, 3);

	check_binary(_metadata, self->pool, EIA_OP_MIN);
	check_binary(_metadata, self->pool, EIA_OP_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		ASSERT_EQ(0, run_binary(self->pool, EIA_OP_MIN, EIA_DTYPE_I64,
					shapes[i]));
		ASSERT_EQ(0, run_binary(self->pool, EIA_OP_MAX, EIA_DTYPE_I32,
					shapes[i]));
	}
	/* A NaN on either side wins, as in numpy. */
	tset(&a, 0, NAN);
	tset(&b, 0, 1);
	tset(&a, 1, 1);
	tset(&b, 1, NAN);
	tset(&a, 2, -2);
	tset(&b, 2, 3);
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_MAX, &a, &b, &y));
	ASSERT_TRUE(isnan(tget(&y, 0)) && isnan(tget(&y, 1)) && tget(&y, 2) == 3);
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_MIN, &a, &b, &y));
	ASSERT_TRUE(isnan(tget(&y, 0)) && isnan(tget(&y, 1)) && tget(&y, 2) == -2);
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_MAX,
					 TP(EIA_DTYPE_BOOL, 2),
					 TP(EIA_DTYPE_BOOL, 2),
					 TP(EIA_DTYPE_BOOL, 2)));
}

/* Integer Add, Sub, Mul and Div: wrapping, truncating, 0 for x / 0. */
TEST_F(ops, integer_arithmetic)
{
	static const int64_t a[] = { 7, -7, 7, -7, 5, INT64_MIN, INT64_MAX, 3 };
	static const int64_t b[] = { 2, 2, -2, -2, 0, -1, 1, INT64_MAX };
	struct eia_tensor ta = T(EIA_DTYPE_I64, 8), tb = T(EIA_DTYPE_I64, 8);
	struct eia_tensor y = T(EIA_DTYPE_I64, 8);
	const int64_t *r = y.data;

	for (uint32_t op = EIA_OP_ADD; op <= EIA_OP_MUL; op++)
		for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
			ASSERT_EQ(0, run_binary(self->pool, op, EIA_DTYPE_I64,
						shapes[i]));
			ASSERT_EQ(0, run_binary(self->pool, op, EIA_DTYPE_I32,
						shapes[i]));
		}
	memcpy(ta.data, a, sizeof(a));
	memcpy(tb.data, b, sizeof(b));
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_DIV, &ta, &tb, &y));
	ASSERT_TRUE(r[0] == 3 && r[1] == -3 && r[2] == -3 && r[3] == 3);
	ASSERT_TRUE(r[4] == 0 && r[5] == INT64_MIN && r[6] == INT64_MAX &&
		    r[7] == 0);
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_ADD, &ta, &tb, &y));
	ASSERT_TRUE(r[6] == INT64_MIN && r[5] == INT64_MAX);
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_MUL, &ta, &tb, &y));
	ASSERT_TRUE(r[5] == INT64_MIN && r[7] == (int64_t)(3 * (uint64_t)INT64_MAX));
}

TEST_F(ops, binary_in_place)
{
	struct eia_tensor a = T(EIA_DTYPE_F32, 4, 5), b = T(EIA_DTYPE_F32, 5);
	double ref[20];

	tfill(&a, -1, 1);
	tfill(&b, -1, 1);
	for (int i = 0; i < 20; i++)
		ref[i] = tget(&a, i) * tget(&b, i % 5);
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_MUL, &a, &b, &a));
	ASSERT_EQ(0, tcompare(&a, ref, TOL_F32, TOL_F32));
}

TEST_F(ops, binary_refusals)
{
	struct eia_tensor a = T(EIA_DTYPE_F32, 2, 3), y = T(EIA_DTYPE_F32, 2, 3);
	struct eia_tensor big = T(EIA_DTYPE_F32, 7), in, out;

	/* Incompatible dims, mixed dtypes, integers, wrong output shape. */
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_ADD, &a,
					 TP(EIA_DTYPE_F32, 3, 2), &y));
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_ADD, &a,
					 TP(EIA_DTYPE_F16, 2, 3), &y));
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_MUL, &a,
					 TP(EIA_DTYPE_BF16, 2, 3), &y));
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_MAX,
					 TP(EIA_DTYPE_BF16, 2),
					 TP(EIA_DTYPE_F16, 2),
					 TP(EIA_DTYPE_BF16, 2)));
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_ADD, &a, &a,
					 TP(EIA_DTYPE_BF16, 2, 3)));
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_ADD,
					 TP(EIA_DTYPE_BOOL, 2),
					 TP(EIA_DTYPE_BOOL, 2),
					 TP(EIA_DTYPE_BOOL, 2)));
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_POW,
					 TP(EIA_DTYPE_I32, 2),
					 TP(EIA_DTYPE_I32, 2),
					 TP(EIA_DTYPE_I32, 2)));
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_SUB, &a, &a,
					 TP(EIA_DTYPE_F32, 3, 2)));
	/* An output overlapping an input one element further on. */
	in = a;
	in.data = big.data;
	in.size = big.size;
	out = in;
	out.data = (float *)big.data + 1;
	out.size -= sizeof(float);
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_ADD, &in,
					 TP(EIA_DTYPE_F32, 1), &out));
	ASSERT_EQ(0, eia_op_binary(self->pool, EIA_OP_ADD, &in,
				   TP(EIA_DTYPE_F32, 1), &in));
	/* Not a binary operator. */
	ASSERT_EQ(-EINVAL, eia_op_binary(self->pool, EIA_OP_RELU, &a, &a, &y));
}

static int64_t run_where(struct eia_pool *pool, uint32_t dt,
			 const struct shape *s)
{
	struct shape os = bshape(s, 3);
	struct eia_tensor c = tnew(EIA_DTYPE_BOOL, s[2].nd, s[2].d);
	struct eia_tensor x = tnew(dt, s[0].nd, s[0].d);
	struct eia_tensor y = tnew(dt, s[1].nd, s[1].d);
	struct eia_tensor z = tnew(dt, os.nd, os.d);
	double *ref = ralloc(tcount(&z));
	int64_t idx[EIA_MAX_DIMS];

	tfill(&c, 0, 1);
	tfill(&x, -100, 100);
	tfill(&y, -100, 100);
	if (eia_op_where(pool, &c, &x, &y, &z))
		return -1;
	for (int64_t i = 0; i < tcount(&z); i++) {
		unravel(i, z.ndim, z.dims, idx);
		ref[i] = bget(&c, z.ndim, idx) ? bget(&x, z.ndim, idx) :
						 bget(&y, z.ndim, idx);
	}
	return tcompare(&z, ref, 0, 0);
}

TEST_F(ops, where)
{
	static const uint32_t dts[] = { EIA_DTYPE_F32, EIA_DTYPE_F16,
					EIA_DTYPE_I64, EIA_DTYPE_I32,
					EIA_DTYPE_BOOL, EIA_DTYPE_BF16 };

	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
		for (size_t k = 0; k < ARRAY_SIZE(dts); k++)
			ASSERT_EQ(0, run_where(self->pool, dts[k], shapes[i]));
	/* Elements of the same size are not the same dtype. */
	ASSERT_EQ(-EINVAL, eia_op_where(self->pool, TP(EIA_DTYPE_BOOL, 2),
					TP(EIA_DTYPE_BF16, 2),
					TP(EIA_DTYPE_F16, 2),
					TP(EIA_DTYPE_BF16, 2)));
	/* Condition not bool; X and Y of different dtypes; no broadcast. */
	ASSERT_EQ(-EINVAL, eia_op_where(self->pool, TP(EIA_DTYPE_I32, 2),
					TP(EIA_DTYPE_F32, 2),
					TP(EIA_DTYPE_F32, 2),
					TP(EIA_DTYPE_F32, 2)));
	ASSERT_EQ(-EINVAL, eia_op_where(self->pool, TP(EIA_DTYPE_BOOL, 2),
					TP(EIA_DTYPE_F32, 2),
					TP(EIA_DTYPE_F16, 2),
					TP(EIA_DTYPE_F32, 2)));
	ASSERT_EQ(-EINVAL, eia_op_where(self->pool, TP(EIA_DTYPE_BOOL, 3),
					TP(EIA_DTYPE_F32, 2),
					TP(EIA_DTYPE_F32, 2),
					TP(EIA_DTYPE_F32, 2)));
}

/* Unary operators */

static double ref_unary(uint32_t op, uint32_t approx, double x)
{
	switch (op) {
	case EIA_OP_RELU:
		return x > 0 ? x : 0;
	case EIA_OP_GELU:
		if (approx == EIA_GELU_TANH)
			return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) *
						   (x + 0.044715 * x * x * x)));
		return 0.5 * x * (1 + erf(x / sqrt(2)));
	case EIA_OP_ERF:
		return erf(x);
	case EIA_OP_TANH:
		return tanh(x);
	case EIA_OP_SIGMOID:
		return 1 / (1 + exp(-x));
	case EIA_OP_EXP:
		return exp(x);
	default:
		return sqrt(x);
	}
}

static int64_t run_unary(struct eia_pool *pool, uint32_t op, uint32_t approx,
			 struct eia_tensor x, double lo, double hi)
{
	struct eia_gelu_attr attr = { .approximate = approx };
	struct eia_tensor y = tlike(&x);
	double *ref = ralloc(tcount(&y));
	double tol = tol_of(x.dtype, TOL_F32);
	int ret;

	tfill(&x, lo, hi);
	ret = op == EIA_OP_GELU ? eia_op_gelu(pool, &attr, &x, &y) :
				  eia_op_unary(pool, op, &x, &y);
	if (ret)
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++)
		ref[i] = ref_unary(op, approx, tget(&x, i));
	return tcompare(&y, ref, tol, tol);
}

static void check_unary(struct __test_metadata *_metadata,
			struct eia_pool *pool, uint32_t op, uint32_t approx,
			double lo, double hi)
{
	ASSERT_EQ(0, run_unary(pool, op, approx, T(EIA_DTYPE_F32, 3, 7, 5),
			       lo, hi));
	ASSERT_EQ(0, run_unary(pool, op, approx, T(EIA_DTYPE_F16, 2, 33),
			       lo, hi));
	ASSERT_EQ(0, run_unary(pool, op, approx, T(EIA_DTYPE_BF16, 3, 41),
			       lo, hi));
	ASSERT_EQ(0, run_unary(pool, op, approx, T(EIA_DTYPE_F32, 70000),
			       lo, hi));
	ASSERT_EQ(0, run_unary(pool, op, approx, tscalar(EIA_DTYPE_F32),
			       lo, hi));
	ASSERT_EQ(0, run_unary(pool, op, approx, T(EIA_DTYPE_F32, 4, 0),
			       lo, hi));
}

TEST_F(ops, relu)
{
	static const double in[] = { -2, 3, NAN, -INFINITY, INFINITY, -0.0,
				     -1e-40, 1e-40, NAN };
	struct eia_tensor x = T(EIA_DTYPE_F32, 9);

	check_unary(_metadata, self->pool, EIA_OP_RELU, 0, -5, 5);
	/* In place; NaN passes through, -0 stays, in vectors and the tail. */
	for (int i = 0; i < 9; i++)
		tset(&x, i, in[i]);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_RELU, &x, &x));
	ASSERT_TRUE(tget(&x, 0) == 0 && tget(&x, 1) == 3 && isnan(tget(&x, 2)));
	ASSERT_TRUE(tget(&x, 3) == 0 && tget(&x, 4) == INFINITY);
	ASSERT_TRUE(tget(&x, 5) == 0 && signbit(tget(&x, 5)));
	ASSERT_TRUE(tget(&x, 6) == 0 && tget(&x, 7) > 0 && isnan(tget(&x, 8)));
}

TEST_F(ops, gelu)
{
	struct eia_gelu_attr bad = { .approximate = 2 };
	struct eia_tensor x = T(EIA_DTYPE_F32, 2);

	check_unary(_metadata, self->pool, EIA_OP_GELU, EIA_GELU_NONE, -6, 6);
	check_unary(_metadata, self->pool, EIA_OP_GELU, EIA_GELU_TANH, -6, 6);
	ASSERT_EQ(-EINVAL, eia_op_gelu(self->pool, &bad, &x, &x));
	bad.approximate = 0;
	bad.reserved = 1;
	ASSERT_EQ(-EINVAL, eia_op_gelu(self->pool, &bad, &x, &x));
}

TEST_F(ops, erf_tanh_sigmoid_exp)
{
	struct eia_tensor x = T(EIA_DTYPE_F32, 2), y = T(EIA_DTYPE_F32, 2);

	check_unary(_metadata, self->pool, EIA_OP_ERF, 0, -3, 3);
	check_unary(_metadata, self->pool, EIA_OP_TANH, 0, -5, 5);
	check_unary(_metadata, self->pool, EIA_OP_SIGMOID, 0, -8, 8);
	check_unary(_metadata, self->pool, EIA_OP_EXP, 0, -6, 6);
	/* Saturation without NaN; overflow to infinity. */
	tset(&x, 0, -100);
	tset(&x, 1, 100);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_SIGMOID, &x, &y));
	ASSERT_TRUE(tget(&y, 0) >= 0 && tget(&y, 0) < 1e-40);
	ASSERT_TRUE(tget(&y, 1) == 1);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_EXP, &x, &y));
	ASSERT_TRUE(tget(&y, 0) < 1e-40 && tget(&y, 1) == INFINITY);
}

TEST_F(ops, sqrt)
{
	struct eia_tensor x = T(EIA_DTYPE_F16, 1), y = T(EIA_DTYPE_F16, 1);

	check_unary(_metadata, self->pool, EIA_OP_SQRT, 0, 0, 50);
	tset(&x, 0, -1);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_SQRT, &x, &y));
	ASSERT_TRUE(isnan(tget(&y, 0)));
	x.dtype = y.dtype = EIA_DTYPE_BF16;
	tset(&x, 0, -1);
	ASSERT_EQ(0, eia_op_unary(self->pool, EIA_OP_SQRT, &x, &y));
	ASSERT_TRUE(isnan(tget(&y, 0)));
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_SQRT, &x,
					TP(EIA_DTYPE_F16, 1)));
	/* Integers, a shape change, a non-unary code. */
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_SQRT,
					TP(EIA_DTYPE_I64, 2),
					TP(EIA_DTYPE_I64, 2)));
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_SQRT,
					TP(EIA_DTYPE_F32, 2),
					TP(EIA_DTYPE_F32, 1, 2)));
	ASSERT_EQ(-EINVAL, eia_op_unary(self->pool, EIA_OP_GELU, &x, &y));
}

TEST_HARNESS_MAIN
