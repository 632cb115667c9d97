// SPDX-License-Identifier: MIT
/*
 * Equal, Less, Greater, LessOrEqual, GreaterOrEqual, And, Or, Xor and Not
 * under broadcasting, against C's own comparisons of the values.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fixture.h"

struct shape {
	uint32_t nd;
	int64_t d[4];
};

/* Equal, trailing, 1-sized, missing and zero-sized dims, scalars, large. */
static const struct shape shapes[][2] = {
	{ { 3, { 2, 3, 4 } }, { 3, { 2, 3, 4 } } },
	{ { 3, { 2, 3, 4 } }, { 1, { 4 } } },
	{ { 3, { 2, 1, 4 } }, { 2, { 3, 1 } } },
	{ { 0, { 0 } }, { 2, { 3, 2 } } },
	{ { 2, { 0, 3 } }, { 2, { 1, 3 } } },
	{ { 4, { 5, 1, 1, 7 } }, { 3, { 1, 6, 1 } } },
	{ { 2, { 300, 257 } }, { 2, { 300, 1 } } },
};

static const uint32_t numeric[] = { EIA_DTYPE_F32, EIA_DTYPE_F16,
				    EIA_DTYPE_I64, EIA_DTYPE_I32, EIA_DTYPE_BF16 };

static bool ref_compare(uint32_t op, double a, double b)
{
	switch (op) {
	case EIA_OP_EQUAL:
		return a == b;
	case EIA_OP_LESS:
		return a < b;
	case EIA_OP_GREATER:
		return a > b;
	case EIA_OP_LESS_OR_EQUAL:
		return a <= b;
	case EIA_OP_GREATER_OR_EQUAL:
		return a >= b;
	case EIA_OP_AND:
		return a && b;
	case EIA_OP_OR:
		return a || b;
	default:
		return !a != !b;
	}
}

static int64_t run_compare(struct eia_pool *pool, uint32_t op, uint32_t dt,
			   const struct shape *s)
{
	struct eia_tensor a = tnew(dt, s[0].nd, s[0].d);
	struct eia_tensor b = tnew(dt, s[1].nd, s[1].d);
	struct eia_tensor y;
	int64_t idx[EIA_MAX_DIMS], dims[EIA_MAX_DIMS];
	uint32_t nd = s[0].nd > s[1].nd ? s[0].nd : s[1].nd;
	double *ref;

	for (uint32_t i = 0; i < nd; i++) {
		int64_t pa = (int64_t)i - (nd - s[0].nd);
		int64_t pb = (int64_t)i - (nd - s[1].nd);
		int64_t da = pa >= 0 ? s[0].d[pa] : 1, db = pb >= 0 ? s[1].d[pb] : 1;

		dims[i] = da == 1 ? db : da;
	}
	y = tnew(EIA_DTYPE_BOOL, nd, dims);
	ref = ralloc(tcount(&y));
	/* Few distinct values, so that equal pairs are common. */
	tfill(&a, -3, 3);
	tfill(&b, -3, 3);
	if (dt == EIA_DTYPE_F32 || dt == EIA_DTYPE_F16 || dt == EIA_DTYPE_BF16) {
		for (int64_t i = 0; i < tcount(&a); i++)
			tset(&a, i, round(tget(&a, i) * 2) / 2);
		for (int64_t i = 0; i < tcount(&b); i++)
			tset(&b, i, round(tget(&b, i) * 2) / 2);
	}
	if (eia_op_compare(pool, op, &a, &b, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		unravel(i, y.ndim, y.dims, idx);
		ref[i] = ref_compare(op, bget(&a, y.ndim, idx),
				     bget(&b, y.ndim, idx));
	}
	return tcompare(&y, ref, 0, 0);
}

TEST_F(ops, comparisons)
{
	for (uint32_t op = EIA_OP_EQUAL; op <= EIA_OP_GREATER_OR_EQUAL; op++)
		for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
			for (size_t k = 0; k < ARRAY_SIZE(numeric); k++)
				ASSERT_EQ(0, run_compare(self->pool, op,
							 numeric[k], shapes[i]));
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		ASSERT_EQ(0, run_compare(self->pool, EIA_OP_EQUAL,
					 EIA_DTYPE_BOOL, shapes[i]));
		ASSERT_EQ(0, run_compare(self->pool, EIA_OP_AND,
					 EIA_DTYPE_BOOL, shapes[i]));
		ASSERT_EQ(0, run_compare(self->pool, EIA_OP_OR,
					 EIA_DTYPE_BOOL, shapes[i]));
		ASSERT_EQ(0, run_compare(self->pool, EIA_OP_XOR,
					 EIA_DTYPE_BOOL, shapes[i]));
	}
}

/* NaN compares false, -0 equals 0, I64 beyond double's precision. */
TEST_F(ops, comparison_edges)
{
	struct eia_tensor a = T(EIA_DTYPE_F32, 3), b = T(EIA_DTYPE_F32, 3);
	struct eia_tensor y = T(EIA_DTYPE_BOOL, 3), big = T(EIA_DTYPE_I64, 1);
	struct eia_tensor bigger = T(EIA_DTYPE_I64, 1), yb = T(EIA_DTYPE_BOOL, 1);
	uint8_t *r = y.data;

	tset(&a, 0, NAN);
	tset(&b, 0, NAN);
	tset(&a, 1, -0.0);
	tset(&a, 2, NAN);
	tset(&b, 2, 1);
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_EQUAL, &a, &b, &y));
	ASSERT_TRUE(!r[0] && r[1] && !r[2]);
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_LESS_OR_EQUAL, &a, &b, &y));
	ASSERT_TRUE(!r[0] && r[1] && !r[2]);
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_GREATER, &a, &b, &y));
	ASSERT_TRUE(!r[0] && !r[1] && !r[2]);
	/* The same as bf16 values, and values fp16 could not hold. */
	a = T(EIA_DTYPE_BF16, 4);
	b = T(EIA_DTYPE_BF16, 4);
	y = T(EIA_DTYPE_BOOL, 4);
	r = y.data;
	tset(&a, 0, NAN);
	tset(&b, 0, NAN);
	tset(&a, 1, -0.0);
	tset(&a, 2, 1e30);
	tset(&b, 2, 2e30);
	tset(&a, 3, 1e-30);
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_EQUAL, &a, &b, &y));
	ASSERT_TRUE(!r[0] && r[1] && !r[2] && !r[3]);
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_LESS, &a, &b, &y));
	ASSERT_TRUE(!r[0] && !r[1] && r[2] && !r[3]);
	((int64_t *)big.data)[0] = (1ll << 53) + 1;
	((int64_t *)bigger.data)[0] = (1ll << 53) + 2;
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_LESS, &big, &bigger, &yb));
	ASSERT_EQ(1, ((uint8_t *)yb.data)[0]);
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_EQUAL, &big, &bigger, &yb));
	ASSERT_EQ(0, ((uint8_t *)yb.data)[0]);
}

TEST_F(ops, logic_not)
{
	struct eia_tensor x = T(EIA_DTYPE_BOOL, 5, 70);
	struct eia_tensor y = tlike(&x);
	double *ref = ralloc(tcount(&x));

	tfill(&x, 0, 1);
	((uint8_t *)x.data)[3] = 9;	/* any non-zero byte is true */
	for (int64_t i = 0; i < tcount(&x); i++)
		ref[i] = !tget(&x, i);
	ASSERT_EQ(0, eia_op_not(self->pool, &x, &y));
	ASSERT_EQ(0, tcompare(&y, ref, 0, 0));
	ASSERT_EQ(0, eia_op_not(self->pool, &x, &x));
	ASSERT_EQ(0, tcompare(&x, ref, 0, 0));
	ASSERT_EQ(0, eia_op_not(self->pool, TP(EIA_DTYPE_BOOL, 0),
				TP(EIA_DTYPE_BOOL, 0)));
	ASSERT_EQ(-EINVAL, eia_op_not(self->pool, TP(EIA_DTYPE_F32, 2),
				      TP(EIA_DTYPE_BOOL, 2)));
	ASSERT_EQ(-EINVAL, eia_op_not(self->pool, TP(EIA_DTYPE_BOOL, 2),
				      TP(EIA_DTYPE_BOOL, 3)));
}

TEST_F(ops, comparison_refusals)
{
	struct eia_tensor f = T(EIA_DTYPE_F32, 2, 3), bl = T(EIA_DTYPE_BOOL, 2, 3);

	/* Mixed dtypes, no broadcast, an output that is not BOOL. */
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_EQUAL, &f,
					  TP(EIA_DTYPE_F16, 2, 3), &bl));
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_LESS,
					  TP(EIA_DTYPE_BF16, 2, 3),
					  TP(EIA_DTYPE_F16, 2, 3), &bl));
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_EQUAL, &f,
					  TP(EIA_DTYPE_BF16, 2, 3), &bl));
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_LESS, &f,
					  TP(EIA_DTYPE_F32, 3, 2), &bl));
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_GREATER, &f, &f,
					  TP(EIA_DTYPE_F32, 2, 3)));
	/* Order and logic: BOOL only where ONNX takes it. */
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_LESS, &bl, &bl,
					  TP(EIA_DTYPE_BOOL, 2, 3)));
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_AND, &f, &f,
					  TP(EIA_DTYPE_BOOL, 2, 3)));
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_XOR,
					  TP(EIA_DTYPE_I64, 2),
					  TP(EIA_DTYPE_I64, 2),
					  TP(EIA_DTYPE_BOOL, 2)));
	/* In place over a BOOL input of the output's shape. */
	ASSERT_EQ(0, eia_op_compare(self->pool, EIA_OP_OR, &bl,
				    TP(EIA_DTYPE_BOOL, 3), &bl));
	/* Not a binary comparison or logic code. */
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_NOT, &bl, &bl, &bl));
	ASSERT_EQ(-EINVAL, eia_op_compare(self->pool, EIA_OP_ADD, &f, &f, &f));
}

TEST_HARNESS_MAIN
