// SPDX-License-Identifier: MIT
/*
 * The checks every call goes through: tensor views, operator codes,
 * attribute sizes, arity, outputs, overlap, inferred shapes; and the fp16
 * and bf16 codecs against independent ones.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "f16.h"

#define F32 EIA_DTYPE_F32

TEST(tensor_view_checks)
{
	float buf[8];
	struct eia_tensor t = { .data = buf, .size = sizeof(buf),
				.dtype = F32, .ndim = 2, .dims = { 2, 4 } };
	uint64_t bytes = 0;

	ASSERT_EQ(0, eia_tensor_check(&t, &bytes));
	ASSERT_EQ(32u, bytes);
	t.dims[1] = 5;				/* larger than the buffer */
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	t.dims[1] = -4;
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	t.dims[0] = (int64_t)1 << 40;		/* count overflows */
	t.dims[1] = (int64_t)1 << 40;
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	/* Empty, but the other dims' strides would still overflow. */
	t.ndim = 3;
	t.dims[2] = 0;
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	t.dims[0] = t.dims[1] = (int64_t)1 << 20;
	ASSERT_EQ(0, eia_tensor_check(&t, &bytes));
	ASSERT_EQ(0u, bytes);
	/* NULL data is fine only when there are no elements. */
	t.data = NULL;
	ASSERT_EQ(0, eia_tensor_check(&t, NULL));
	t = (struct eia_tensor){ .data = NULL, .size = 64, .dtype = F32,
				 .ndim = 1, .dims = { 1 } };
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	t.data = (char *)buf + 2;		/* misaligned */
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	t.data = buf;
	t.ndim = EIA_MAX_DIMS + 1;
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	t.ndim = 0;				/* a scalar */
	ASSERT_EQ(0, eia_tensor_check(&t, &bytes));
	ASSERT_EQ(4u, bytes);
	t.dtype = 0;
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	t.dtype = EIA_DTYPE_BF16 + 1;
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	/* A buffer that would wrap around the address space. */
	t = (struct eia_tensor){ .data = (void *)(UINTPTR_MAX - 63),
				 .size = 256, .dtype = F32, .ndim = 1,
				 .dims = { 64 } };
	ASSERT_EQ(-EINVAL, eia_tensor_check(&t, NULL));
	ASSERT_EQ(-EINVAL, eia_tensor_check(NULL, NULL));
}

TEST(op_names)
{
	ASSERT_STREQ("Gemm", eia_op_name(EIA_OP_GEMM));
	ASSERT_STREQ("LayerNormalization", eia_op_name(EIA_OP_LAYERNORM));
	ASSERT_STREQ("Slice", eia_op_name(EIA_OP_SLICE));
	ASSERT_STREQ("GreaterOrEqual", eia_op_name(EIA_OP_GREATER_OR_EQUAL));
	ASSERT_STREQ("ReduceLogSumExp", eia_op_name(EIA_OP_REDUCE_LOG_SUM_EXP));
	ASSERT_STREQ("Conv", eia_op_name(EIA_OP_CONV3D));
	ASSERT_STREQ("Tile", eia_op_name(EIA_OP_TILE));
	ASSERT_NULL(eia_op_name(0));
	ASSERT_NULL(eia_op_name(EIA_OP_CONV_TRANSPOSE + 1));
	/* The elementwise operators may write over an input. */
	ASSERT_TRUE(eia_op_in_place(EIA_OP_ADD) && eia_op_in_place(EIA_OP_CAST));
	ASSERT_TRUE(eia_op_in_place(EIA_OP_XOR) && eia_op_in_place(EIA_OP_ELU));
	ASSERT_FALSE(eia_op_in_place(EIA_OP_GEMM) || eia_op_in_place(EIA_OP_TILE));
	ASSERT_FALSE(eia_op_in_place(0) || eia_op_in_place(EIA_OP_CONV_TRANSPOSE + 1));
	ASSERT_EQ(2, eia_dtype_size(EIA_DTYPE_F16));
	ASSERT_EQ(2, eia_dtype_size(EIA_DTYPE_BF16));
	ASSERT_EQ(0, eia_dtype_size(99));
}

TEST_F(ops, dispatch_refusals)
{
	struct eia_tensor in[3] = { T(F32, 2, 3), T(F32, 2, 3), T(F32, 2, 3) };
	struct eia_tensor y = T(F32, 2, 3);
	struct eia_axis_attr axis = { .axis = 1 };
	struct eia_pool *p = self->pool;

	ASSERT_EQ(0, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 2, &y, 1));
	/* Unknown operators. */
	ASSERT_EQ(-EINVAL, eia_op_run(p, 0, NULL, 0, in, 2, &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_CONV_TRANSPOSE + 1, NULL, 0, in, 2, &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(p, UINT32_MAX, NULL, 0, in, 2, &y, 1));
	/* Attribute size and presence. */
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, &axis, sizeof(axis), in, 2,
				      &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_SOFTMAX, &axis, sizeof(axis) - 1,
				      in, 1, &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_SOFTMAX, NULL, sizeof(axis), in,
				      1, &y, 1));
	ASSERT_EQ(0, eia_op_run(p, EIA_OP_SOFTMAX, &axis, sizeof(axis), in, 1,
				&y, 1));
	/* Arity. */
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 3, &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 1, &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 2, &y, 0));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 2, in, 2));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, NULL, 2, &y, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 2, NULL, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(NULL, EIA_OP_ADD, NULL, 0, in, 2, &y, 1));
	/* Output dtype, output view itself. */
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 2,
				      TP(EIA_DTYPE_F16, 2, 3), 1));
	y.size -= 1;
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 2, &y, 1));
	y.size += 1;
	/* Exact in-place is for elementwise operators only. */
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_SOFTMAX, &axis, sizeof(axis), in,
				      1, in, 1));
	ASSERT_EQ(0, eia_op_run(p, EIA_OP_SIGMOID, NULL, 0, in, 1, in, 1));
	/* A bad input anywhere in the list. */
	in[1].dims[0] = -1;
	ASSERT_EQ(-EINVAL, eia_op_run(p, EIA_OP_ADD, NULL, 0, in, 2, &y, 1));
	/* A required input missing from a typed entry point. */
	ASSERT_EQ(-EINVAL, eia_op_matmul(p, NULL, &in[0], &y));
	ASSERT_EQ(-EINVAL, eia_op_gemm(p, &(struct eia_gemm_attr)EIA_GEMM_ATTR_INIT,
				       &in[0], NULL, &in[2], &y));
}

TEST_F(ops, split_outputs_must_not_overlap)
{
	struct eia_split_attr attr = { .axis = 0 };
	struct eia_tensor x = T(F32, 4), out[2] = { T(F32, 2), T(F32, 2) };

	ASSERT_EQ(0, eia_op_split(self->pool, &attr, &x, out, 2));
	out[1].data = (float *)out[0].data + 1;
	out[1].size = 4;
	out[1].dims[0] = 1;
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, &x, out, 2));
	out[1] = out[0];
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, &x, out, 2));
}

/* Views of memory that is never touched: shape inference only. */
static struct eia_tensor fake(uint32_t dtype, uint32_t ndim, const int64_t *dims)
{
	struct eia_tensor t = { .data = (void *)(uintptr_t)0x10000,
				.size = UINT64_MAX / 2, .dtype = dtype,
				.ndim = ndim };

	memcpy(t.dims, dims, ndim * sizeof(dims[0]));
	return t;
}

#define FAKE(dt, ...) fake(dt, (uint32_t)NDIMS(__VA_ARGS__), \
			   (const int64_t[]){ __VA_ARGS__ })

TEST(infer_shapes_and_limits)
{
	struct eia_axis_attr axis = { .axis = 0 };
	struct eia_conv2d_attr conv = EIA_CONV2D_ATTR_INIT;
	struct eia_tensor in[2], out[2];

	in[0] = FAKE(F32, 2, 1, 4, 5);
	in[1] = FAKE(F32, 3, 5, 6);
	ASSERT_EQ(0, eia_op_infer(EIA_OP_MATMUL, NULL, 0, in, 2, out, 1));
	ASSERT_EQ(4, out[0].ndim);
	ASSERT_EQ(3, out[0].dims[1]);
	ASSERT_EQ(6, out[0].dims[3]);
	conv.strides[0] = 2;
	conv.pads[2] = 1;
	in[0] = FAKE(EIA_DTYPE_F16, 1, 3, 9, 9);
	in[1] = FAKE(EIA_DTYPE_F16, 8, 3, 3, 3);
	ASSERT_EQ(0, eia_op_infer(EIA_OP_CONV2D, &conv, sizeof(conv), in, 2,
				  out, 1));
	ASSERT_EQ(EIA_DTYPE_F16, out[0].dtype);
	ASSERT_EQ(8, out[0].dims[1]);
	ASSERT_EQ(4, out[0].dims[2]);
	ASSERT_EQ(7, out[0].dims[3]);
	/* Concatenated dims overflowing, or the count overflowing. */
	in[0] = FAKE(EIA_DTYPE_BOOL, INT64_MAX / 2 + 1);
	in[1] = FAKE(EIA_DTYPE_BOOL, INT64_MAX / 2 + 1);
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONCAT, &axis, sizeof(axis), in,
					2, out, 1));
	in[0] = FAKE(EIA_DTYPE_F32, (int64_t)1 << 60);
	in[1] = FAKE(EIA_DTYPE_F32, (int64_t)1 << 60);
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONCAT, &axis, sizeof(axis), in,
					2, out, 1));
	/* Broadcasting two large tensors into one too large. */
	in[0] = FAKE(F32, (int64_t)1 << 30, 1);
	in[1] = FAKE(F32, (int64_t)1 << 31);
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_ADD, NULL, 0, in, 2, out, 1));
	/* Past what BLAS can index. */
	in[0] = FAKE(F32, 2, (int64_t)1 << 31);
	in[1] = FAKE(F32, (int64_t)1 << 31, 2);
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_MATMUL, NULL, 0, in, 2, out, 1));
	/* Outputs are not checked by inference: out[1] may hold anything. */
	memset(&out[1], 0xff, sizeof(out[1]));
	in[0] = FAKE(F32, 6);
	ASSERT_EQ(0, eia_op_infer(EIA_OP_SPLIT, &(struct eia_split_attr){ 0 },
				  sizeof(struct eia_split_attr), in, 1, out, 2));
	ASSERT_EQ(3, out[1].dims[0]);
}

TEST(fp16_codec)
{
	static const struct { float f; uint16_t h; } cases[] = {
		{ 65504.0f, 0x7bff }, { 65519.99f, 0x7bff }, { 65520.0f, 0x7c00 },
		{ 1e10f, 0x7c00 }, { -1e10f, 0xfc00 }, { 0x1p-25f, 0x0000 },
		{ 0x1.000002p-25f, 0x0001 }, { 0x1.8p-24f, 0x0002 },
		{ 0x1p-14f, 0x0400 }, { 0x1.ff8p-15f, 0x03ff }, { 0x1.ffcp-15f, 0x0400 },
		{ -0.0f, 0x8000 },
		{ 1.0f, 0x3c00 }, { 1.00048828125f, 0x3c00 },
		{ 1.00146484375f, 0x3c02 }, { INFINITY, 0x7c00 },
	};
	uint64_t bad = 0;

	/* Every half: decodes like the reference and encodes back. */
	for (uint32_t h = 0; h <= 0xffff; h++) {
		float f = f16_to_f32((uint16_t)h);
		double r = ref_f16_decode((uint16_t)h);

		if (isnan(r)) {
			uint16_t back = f32_to_f16(f);

			bad += !isnan(f) || (back & 0x7c00) != 0x7c00 ||
			       !(back & 0x3ff);
		} else {
			bad += (double)f != r || f32_to_f16(f) != h;
		}
	}
	ASSERT_EQ(0, bad);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ASSERT_EQ(cases[i].h, f32_to_f16(cases[i].f));
	/* Random finite floats round like the search-based encoder. */
	tseed(7);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = trand();
		/* Exponents around half's range: 2^-32 .. 2^18. */
		uint32_t bits = (uint32_t)(r & 0x807fffff) |
				(uint32_t)(95 + (r >> 40) % 51) << 23;
		float f;

		memcpy(&f, &bits, sizeof(f));
		if (f32_to_f16(f) != ref_f16_encode(f) && bad++ < 5)
			TH_LOG("%a: %#x, want %#x", f, f32_to_f16(f),
			       ref_f16_encode(f));
	}
	ASSERT_EQ(0, bad);
}

static float from_bits(uint32_t x)
{
	float f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

TEST(bf16_codec)
{
	static const struct { uint32_t f; uint16_t b; } cases[] = {
		{ 0x3f800000, 0x3f80 },		/* 1 */
		{ 0x3f808000, 0x3f80 },		/* tie: to even, down */
		{ 0x3f808001, 0x3f81 },
		{ 0x3f817fff, 0x3f81 },
		{ 0x3f818000, 0x3f82 },		/* tie: to even, up */
		{ 0xbf818000, 0xbf82 },
		{ 0x80000000, 0x8000 },		/* -0 */
		{ 0x7f7f7fff, 0x7f7f },		/* the largest finite */
		{ 0x7f7f8000, 0x7f80 },		/* tie past it: infinity */
		{ 0x7f7fffff, 0x7f80 },		/* FLT_MAX */
		{ 0xff7fffff, 0xff80 },
		{ 0x7f800000, 0x7f80 },		/* infinities */
		{ 0xff800000, 0xff80 },
		{ 0x00000001, 0x0000 },		/* subnormals */
		{ 0x00008000, 0x0000 },
		{ 0x00008001, 0x0001 },
		{ 0x00018000, 0x0002 },
		{ 0x00010000, 0x0001 },
		{ 0x807f8000, 0x8080 },		/* up to the smallest normal */
		{ 0x007fffff, 0x0080 },
		/* NaNs stay NaN, quiet, even with only low payload bits. */
		{ 0x7fc00000, 0x7fc0 },
		{ 0x7f800001, 0x7fc0 },
		{ 0xff800001, 0xffc0 },
		{ 0x7fa00000, 0x7fe0 },
		{ 0x7fffffff, 0x7fff },
	};
	uint64_t bad = 0;

	/* Every pattern: decodes like the reference and encodes back. */
	for (uint32_t b = 0; b <= 0xffff; b++) {
		float f = bf16_to_f32((uint16_t)b);
		double r = ref_bf16_decode((uint16_t)b);

		if (isnan(r))
			bad += !isnan(f) || f32_to_bf16(f) != (b | 0x40);
		else
			bad += (double)f != r || f32_to_bf16(f) != b;
	}
	ASSERT_EQ(0, bad);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint16_t got = f32_to_bf16(from_bits(cases[i].f));

		if (got != cases[i].b && bad++ < 5)
			TH_LOG("%#x: %#x, want %#x", cases[i].f, got, cases[i].b);
	}
	ASSERT_EQ(0, bad);
	/* Random finite floats, every exponent, round like the search. */
	tseed(11);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = trand();
		uint32_t bits = (uint32_t)(r & 0x807fffff) |
				(uint32_t)((r >> 40) % 255) << 23;
		float f = from_bits(bits);

		if (f32_to_bf16(f) != ref_bf16_encode(f) && bad++ < 5)
			TH_LOG("%a: %#x, want %#x", f, f32_to_bf16(f),
			       ref_bf16_encode(f));
	}
	ASSERT_EQ(0, bad);
}

TEST_HARNESS_MAIN
