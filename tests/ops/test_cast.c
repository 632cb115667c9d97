// SPDX-License-Identifier: MIT
/* Cast between every pair of dtypes, against conversions written here. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fixture.h"

static const uint32_t dtypes[] = { EIA_DTYPE_F32, EIA_DTYPE_F16, EIA_DTYPE_I64,
				   EIA_DTYPE_I32, EIA_DTYPE_BOOL, EIA_DTYPE_BF16 };

/* What Cast must give for the value @v (of dtype @from) as @to. */
static double ref_cast(double v, uint32_t from, uint32_t to)
{
	if (from == EIA_DTYPE_BOOL)
		v = v != 0;
	switch (to) {
	case EIA_DTYPE_F32:
		return (float)v;
	case EIA_DTYPE_F16:
		return ref_f16_decode(ref_f16_encode(v));
	case EIA_DTYPE_BF16:
		return ref_bf16_decode(ref_bf16_encode(v));
	case EIA_DTYPE_I64:
	case EIA_DTYPE_I32: {
		double lim = to == EIA_DTYPE_I64 ? 0x1p63 : 0x1p31;

		if (isnan(v))
			return 0;
		if (v >= lim)
			return lim - (to == EIA_DTYPE_I32);
		if (v <= -lim)
			return -lim;
		return trunc(v);
	}
	default:
		return v != 0;
	}
}

static int64_t run_cast(struct eia_pool *pool, uint32_t from, uint32_t to,
			struct eia_tensor x)
{
	struct eia_cast_attr attr = { .to = to };
	struct eia_tensor y = tnew(to, x.ndim, x.dims);
	double *ref = ralloc(tcount(&x));

	tfill(&x, -300, 300);
	if (eia_op_cast(pool, &attr, &x, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&x); i++)
		ref[i] = ref_cast(tget(&x, i), from, to);
	return tcompare(&y, ref, 0, 0);
}

TEST_F(ops, cast_every_pair)
{
	for (size_t a = 0; a < ARRAY_SIZE(dtypes); a++) {
		for (size_t b = 0; b < ARRAY_SIZE(dtypes); b++) {
			uint32_t from = dtypes[a], to = dtypes[b];

			ASSERT_EQ(0, run_cast(self->pool, from, to,
					      T(from, 3, 37)));
			ASSERT_EQ(0, run_cast(self->pool, from, to,
					      tscalar(from)));
			ASSERT_EQ(0, run_cast(self->pool, from, to,
					      T(from, 2, 0, 3)));
			ASSERT_EQ(0, run_cast(self->pool, from, to,
					      T(from, 70001)));
		}
	}
}

/* NaN, infinities, out-of-range and fractional values, rounding. */
TEST_F(ops, cast_edges)
{
	static const double in[] = { NAN, INFINITY, -INFINITY, 1e10, -1e10,
				     2.75, -2.75, -0.0, 65519, 65520, 1e-8,
				     -3e9, 3.4e38, 1e-39, 257, 259 };
	struct eia_tensor x = T(EIA_DTYPE_F32, ARRAY_SIZE(in));
	struct eia_tensor i64 = T(EIA_DTYPE_I64, 5), f32 = T(EIA_DTYPE_F32, 5);
	struct eia_tensor i32 = T(EIA_DTYPE_I32, 5);
	static const int64_t big[] = { INT64_MAX, INT64_MIN, 16777217,
				       0x100000005ll, 0x80000000ll };

	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		tset(&x, (int64_t)i, in[i]);
	for (size_t b = 0; b < ARRAY_SIZE(dtypes); b++) {
		struct eia_tensor y = T(dtypes[b], ARRAY_SIZE(in));
		struct eia_cast_attr attr = { .to = dtypes[b] };
		double ref[ARRAY_SIZE(in)];

		ASSERT_EQ(0, eia_op_cast(self->pool, &attr, &x, &y));
		for (size_t i = 0; i < ARRAY_SIZE(in); i++)
			ref[i] = ref_cast(tget(&x, (int64_t)i), EIA_DTYPE_F32,
					  dtypes[b]);
		ASSERT_EQ(0, tcompare(&y, ref, 0, 0));
		/* Saturation, exactly: doubles cannot tell INT64_MAX apart. */
		if (dtypes[b] == EIA_DTYPE_I64) {
			ASSERT_EQ(INT64_MAX, ((int64_t *)y.data)[1]);
			ASSERT_EQ(INT64_MIN, ((int64_t *)y.data)[2]);
		}
	}
	/* Integers: I64 to I32 wraps, to F32 rounds to nearest even. */
	memcpy(i64.data, big, sizeof(big));
	ASSERT_EQ(0, eia_op_cast(self->pool, &(struct eia_cast_attr){
		.to = EIA_DTYPE_I32 }, &i64, &i32));
	ASSERT_EQ(-1, ((int32_t *)i32.data)[0]);
	ASSERT_EQ(0, ((int32_t *)i32.data)[1]);
	ASSERT_EQ(16777217, ((int32_t *)i32.data)[2]);
	ASSERT_EQ(5, ((int32_t *)i32.data)[3]);
	ASSERT_EQ(INT32_MIN, ((int32_t *)i32.data)[4]);
	ASSERT_EQ(0, eia_op_cast(self->pool, &(struct eia_cast_attr){
		.to = EIA_DTYPE_F32 }, &i64, &f32));
	ASSERT_TRUE(tget(&f32, 0) == 0x1p63 && tget(&f32, 1) == -0x1p63);
	ASSERT_TRUE(tget(&f32, 2) == 16777216.0);
}

/*
 * Integers become bf16 rounded once: through fp32's nearest, 2^24 + 2^16 + 1
 * would become the tie 2^24 + 2^16 and then 2^24.
 */
TEST_F(ops, cast_int_to_bf16_rounds_once)
{
	static const struct { int64_t v; uint16_t b; } cases[] = {
		{ (1 << 24) + (1 << 16) + 1, 0x4b81 },
		{ -((1 << 24) + (1 << 16) + 1), 0xcb81 },
		{ (1 << 24) + (1 << 16), 0x4b80 },		/* ties to even */
		{ (1 << 24) + 3 * (1 << 16), 0x4b82 },
		{ 0x0101000000000001ll, 0x5b81 },	/* 2^56 + 2^48 + 1 */
		{ INT64_MAX, 0x5f00 },
		{ INT64_MIN, 0xdf00 },
		{ 16777217, 0x4b80 },
		{ 257, 0x4380 },
		{ 259, 0x4382 },
		{ 0, 0x0000 },
		{ -1, 0xbf80 },
	};
	struct eia_tensor x = T(EIA_DTYPE_I64, ARRAY_SIZE(cases));
	struct eia_tensor y = T(EIA_DTYPE_BF16, ARRAY_SIZE(cases));
	struct eia_tensor x32 = T(EIA_DTYPE_I32, 3), y32 = T(EIA_DTYPE_BF16, 3);
	struct eia_cast_attr attr = { .to = EIA_DTYPE_BF16 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		((int64_t *)x.data)[i] = cases[i].v;
	ASSERT_EQ(0, eia_op_cast(self->pool, &attr, &x, &y));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		EXPECT_EQ(cases[i].b, ((uint16_t *)y.data)[i]);
	((int32_t *)x32.data)[0] = (1 << 24) + (1 << 16) + 1;
	((int32_t *)x32.data)[1] = INT32_MAX;
	((int32_t *)x32.data)[2] = INT32_MIN;
	ASSERT_EQ(0, eia_op_cast(self->pool, &attr, &x32, &y32));
	ASSERT_EQ(0x4b81, ((uint16_t *)y32.data)[0]);
	ASSERT_EQ(0x4f00, ((uint16_t *)y32.data)[1]);
	ASSERT_EQ(0xcf00, ((uint16_t *)y32.data)[2]);
}

/* bf16 to and from the other floats: NaN stays NaN; fp16's range is smaller. */
TEST_F(ops, cast_bf16_floats)
{
	static const uint16_t bits[] = { 0x7fc0, 0xff81, 0x7f80, 0x477f, 0x4780,
					 0x0001, 0x3f81, 0xc2f7 };
	struct eia_tensor x = T(EIA_DTYPE_BF16, ARRAY_SIZE(bits));
	struct eia_tensor f32 = T(EIA_DTYPE_F32, ARRAY_SIZE(bits));
	struct eia_tensor f16 = T(EIA_DTYPE_F16, ARRAY_SIZE(bits));
	struct eia_tensor back = T(EIA_DTYPE_BF16, ARRAY_SIZE(bits));

	memcpy(x.data, bits, sizeof(bits));
	ASSERT_EQ(0, eia_op_cast(self->pool, &(struct eia_cast_attr){
		.to = EIA_DTYPE_F32 }, &x, &f32));
	ASSERT_EQ(0, eia_op_cast(self->pool, &(struct eia_cast_attr){
		.to = EIA_DTYPE_F16 }, &x, &f16));
	ASSERT_EQ(0, eia_op_cast(self->pool, &(struct eia_cast_attr){
		.to = EIA_DTYPE_BF16 }, &f32, &back));
	ASSERT_TRUE(isnan(tget(&f32, 0)) && isnan(tget(&f32, 1)));
	ASSERT_TRUE(isnan(tget(&f16, 0)) && isnan(tget(&f16, 1)));
	/* Back exactly; the signalling NaN made quiet, its sign kept. */
	ASSERT_EQ(0xffc1, ((uint16_t *)back.data)[1]);
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		if (i != 1)
			ASSERT_EQ(bits[i], ((uint16_t *)back.data)[i]);
	/* 65280 fits fp16, 65536 overflows it; 2^-133 is below its range. */
	ASSERT_EQ(INFINITY, tget(&f16, 2));
	ASSERT_EQ(65280.0, tget(&f16, 3));
	ASSERT_EQ(INFINITY, tget(&f16, 4));
	ASSERT_EQ(0.0, tget(&f16, 5));
	ASSERT_EQ(1.0078125, tget(&f16, 6));
	ASSERT_EQ(-123.5, tget(&f16, 7));
}

TEST_F(ops, cast_in_place_and_refusals)
{
	struct eia_tensor x = T(EIA_DTYPE_BOOL, 4), f = T(EIA_DTYPE_F32, 4);
	struct eia_cast_attr attr = { .to = EIA_DTYPE_BOOL };

	((uint8_t *)x.data)[1] = 7;
	ASSERT_EQ(0, eia_op_cast(self->pool, &attr, &x, &x));
	ASSERT_EQ(1, ((uint8_t *)x.data)[1]);
	/* Unknown dtypes, reserved bits, an output of another dtype or shape. */
	attr.to = 0;
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &f, &f));
	attr.to = EIA_DTYPE_BF16 + 1;
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &f, &f));
	attr.to = EIA_DTYPE_F32;
	attr.reserved = 1;
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &f, &f));
	attr.reserved = 0;
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &x, &x));
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &x,
				       TP(EIA_DTYPE_F32, 2, 2)));
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &x,
				       TP(EIA_DTYPE_F16, 4)));
	attr.to = EIA_DTYPE_BF16;
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &x,
				       TP(EIA_DTYPE_F16, 4)));
	ASSERT_EQ(0, eia_op_cast(self->pool, &attr, &x, TP(EIA_DTYPE_BF16, 4)));
	attr.to = EIA_DTYPE_F32;
	/* In place only when nothing changes size or meaning. */
	attr.to = EIA_DTYPE_I32;
	ASSERT_EQ(-EINVAL, eia_op_cast(self->pool, &attr, &f,
				       &(struct eia_tensor){ .data = f.data,
					.size = f.size, .dtype = EIA_DTYPE_I32,
					.ndim = 1, .dims = { 4 } }));
	ASSERT_EQ(-EINVAL, eia_op_run(self->pool, EIA_OP_CAST, &attr,
				      sizeof(attr) - 1, &f, 1, &f, 1));
}

TEST_HARNESS_MAIN
