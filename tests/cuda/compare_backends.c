// SPDX-License-Identifier: MIT
/*
 * eia-compare-backends: run the same operator invocations on two gpud
 * devices (libeia tcp:// URLs), typically one gpud with --backend cpu and
 * one with --backend cuda, and compare: the same status, and outputs within
 * the tolerances of Documentation/operators.rst (exact for data movement,
 * NaN equal to NaN). Each case says whether it must run or be refused,
 * so a refusal on both sides cannot pass for agreement. Prints TAP; exits 1
 * when any case differs.
 *
 *	eia-compare-backends tcp://127.0.0.1:PORT_A tcp://127.0.0.1:PORT_B
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eia.h"
#include "eia_ops.h"

#define MAX_IO	4

/* Bytes per element (eia_ops.h dtypes). */
static size_t eia_dtype_size(uint32_t dtype)
{
	switch (dtype) {
	case EIA_DTYPE_F32:
	case EIA_DTYPE_I32:
		return 4;
	case EIA_DTYPE_F16:
	case EIA_DTYPE_BF16:
		return 2;
	case EIA_DTYPE_I64:
		return 8;
	}
	return 1;
}

/* A host copy of a tensor's shape and data. */
struct eia_tensor {
	void *data;
	uint64_t size;
	uint32_t dtype;
	uint32_t ndim;
	int64_t dims[EIA_MAX_DIMS];
};

struct desc {
	uint32_t dtype;
	uint32_t ndim;
	int64_t dims[EIA_MAX_DIMS];
};

struct tcase {
	const char *name;
	uint32_t op;
	const void *attr;
	size_t attr_size;
	unsigned int n_in, n_out;
	struct desc in[MAX_IO], out[MAX_IO];
	double tol;		/* float outputs; 0: exact */
	bool positive;		/* float inputs in [0.25, 2] instead of [-1, 1] */
	const int64_t *index;	/* values of integer inputs, cycled */
	unsigned int nindex;
	bool refused;		/* both must refuse it (else both must run it) */
};

#define F32(...)	{ EIA_DTYPE_F32, sizeof((int64_t[]){ __VA_ARGS__ }) / 8, { __VA_ARGS__ } }
#define F16(...)	{ EIA_DTYPE_F16, sizeof((int64_t[]){ __VA_ARGS__ }) / 8, { __VA_ARGS__ } }
#define BF16(...)	{ EIA_DTYPE_BF16, sizeof((int64_t[]){ __VA_ARGS__ }) / 8, { __VA_ARGS__ } }
#define I64(...)	{ EIA_DTYPE_I64, sizeof((int64_t[]){ __VA_ARGS__ }) / 8, { __VA_ARGS__ } }
#define I32(...)	{ EIA_DTYPE_I32, sizeof((int64_t[]){ __VA_ARGS__ }) / 8, { __VA_ARGS__ } }
#define BOOL(...)	{ EIA_DTYPE_BOOL, sizeof((int64_t[]){ __VA_ARGS__ }) / 8, { __VA_ARGS__ } }
#define ATTR(a)		.attr = &(a), .attr_size = sizeof(a)

static const struct eia_gemm_attr gemm_ab = { .alpha = 0.5f, .beta = 2.0f };
static const struct eia_gemm_attr gemm_t = { .alpha = 1.0f, .beta = 1.0f, .trans_a = 1,
					     .trans_b = 1 };
static const struct eia_conv2d_attr conv_g2 = {
	.strides = { 2, 2 }, .dilations = { 1, 1 }, .pads = { 1, 1, 1, 1 }, .group = 2,
};
static const struct eia_conv2d_attr conv_same = {
	.strides = { 1, 1 }, .dilations = { 2, 1 }, .group = 1,
	.auto_pad = EIA_AUTO_PAD_SAME_UPPER,
};
static const struct eia_conv3d_attr conv3d_g2 = {
	.strides = { 1, 2, 2 }, .dilations = { 1, 1, 2 }, .pads = { 1, 1, 0, 0, 1, 2 },
	.group = 2,
};
static const struct eia_conv3d_attr conv3d_same = {
	.strides = { 2, 1, 1 }, .dilations = { 1, 1, 1 }, .group = 1,
	.auto_pad = EIA_AUTO_PAD_SAME_LOWER,
};
static const struct eia_pool3d_attr maxpool3d = {
	.kernel = { 2, 3, 3 }, .strides = { 2, 2, 2 }, .dilations = { 1, 1, 1 },
	.pads = { 0, 1, 1, 1, 1, 1 }, .ceil_mode = 1,
};
static const struct eia_pool3d_attr avgpool3d = {
	.kernel = { 3, 2, 3 }, .strides = { 1, 2, 1 }, .dilations = { 1, 1, 2 },
	.pads = { 1, 0, 1, 1, 1, 0 }, .count_include_pad = 1,
};
static const struct eia_pool2d_attr maxpool = {
	.kernel = { 3, 3 }, .strides = { 2, 2 }, .dilations = { 1, 1 }, .pads = { 1, 1, 1, 1 },
};
static const struct eia_pool2d_attr avgpool = {
	.kernel = { 3, 3 }, .strides = { 2, 2 }, .dilations = { 1, 1 }, .pads = { 1, 1, 1, 1 },
	.ceil_mode = 1, .count_include_pad = 1,
};
static const struct eia_pool2d_attr avgpool_ex = {
	.kernel = { 2, 3 }, .strides = { 2, 1 }, .dilations = { 1, 2 }, .pads = { 0, 1, 1, 0 },
};
static const struct eia_gelu_attr gelu = { .approximate = EIA_GELU_NONE };
static const struct eia_gelu_attr gelu_tanh = { .approximate = EIA_GELU_TANH };
static const struct eia_axis_attr axis0 = { .axis = 0 };
static const struct eia_axis_attr axis1 = { .axis = 1 };
static const struct eia_axis_attr axis_last = { .axis = -1 };
static const struct eia_layernorm_attr ln_last = { .axis = -1, .epsilon = 1e-5f };
static const struct eia_layernorm_attr ln_1 = { .axis = 1, .epsilon = 1e-3f };
static const struct eia_reduce_attr reduce_1 = { .axes = { 1 }, .n_axes = 1 };
static const struct eia_reduce_attr reduce_all = { .keepdims = 1 };
static const struct eia_reduce_attr reduce_02 = { .axes = { 0, -1 }, .n_axes = 2 };
static const struct eia_reduce_attr reduce_noop = { .noop_with_empty_axes = 1 };
static const struct eia_transpose_attr perm_201 = { .perm = { 2, 0, 1 }, .n_perm = 3 };
static const struct eia_transpose_attr perm_rev = { .n_perm = 0 };
static const struct eia_split_attr split3 = { .axis = 0 };
static const struct eia_split_attr split_sizes = { .axis = -1, .n_split = 2,
						    .split = { 1, 3 } };
static const struct eia_slice_attr slice = {
	.starts = { 1, -1 }, .ends = { 5, 0 }, .axes = { 0, 1 }, .steps = { 2, -2 }, .n = 2,
};
static const struct eia_cast_attr to_f32 = { .to = EIA_DTYPE_F32 };
static const struct eia_cast_attr to_f16 = { .to = EIA_DTYPE_F16 };
static const struct eia_cast_attr to_bf16 = { .to = EIA_DTYPE_BF16 };
static const struct eia_cast_attr to_i64 = { .to = EIA_DTYPE_I64 };
static const struct eia_cast_attr to_i32 = { .to = EIA_DTYPE_I32 };
static const struct eia_cast_attr to_bool = { .to = EIA_DTYPE_BOOL };
static const struct eia_activation_attr leaky = EIA_LEAKY_RELU_ATTR_INIT;
static const struct eia_activation_attr hard_sigmoid = EIA_HARD_SIGMOID_ATTR_INIT;
static const struct eia_activation_attr elu = { .alpha = 0.7f };
static const struct eia_arg_attr arg_1 = { .axis = 1, .keepdims = 1 };
static const struct eia_arg_attr arg_last = { .axis = -1, .select_last_index = 1 };
static const struct eia_cumsum_attr cumsum_1 = { .axis = 1 };
static const struct eia_cumsum_attr cumsum_rev = { .axis = 0, .exclusive = 1, .reverse = 1 };
static const struct eia_tile_attr tile_23 = { .repeats = { 2, 1, 3 } };
static const struct eia_resize_attr resize_linear = {
	.sizes = { 2, 3, 10, 15 }, .scales = { 1, 1, 2, 2.5 }, .mode = EIA_RESIZE_LINEAR,
	.cubic_coeff_a = -0.75f,
};
static const struct eia_resize_attr resize_cubic = {
	.sizes = { 1, 2, 4, 7, 3 }, .mode = EIA_RESIZE_CUBIC, .exclude_outside = 1,
	.coord_mode = EIA_RESIZE_ALIGN_CORNERS, .cubic_coeff_a = -0.5f,
};
static const struct eia_resize_attr resize_nearest = {
	.sizes = { 2, 3, 7, 13 }, .coord_mode = EIA_RESIZE_ASYMMETRIC,
	.nearest_mode = EIA_RESIZE_FLOOR, .cubic_coeff_a = -0.75f,
};
static const struct eia_conv_transpose_attr convt_2d = {
	.strides = { 2, 3 }, .dilations = { 1, 2 }, .pads = { 1, 0, 0, 0, 2 },
	.output_padding = { 1, 1 }, .group = 2,
};
static const struct eia_conv_transpose_attr convt_3d = {
	.strides = { 2, 2, 2 }, .dilations = { 1, 1, 1 }, .pads = { 1, 1, 1, 1, 1, 1 },
	.group = 1,
};
static const int64_t gather_idx[] = { 4, -1, 0 };
static const int64_t gather_bad[] = { 1, 5 };
static const int64_t bits[] = { 1, 0, 0, 1, 1 };
static const int64_t wide[] = { 3, -7, 0, 16777217, INT64_MAX, INT64_MIN, 0x100000005ll };
/* 2^24 + 2^16 + 1 and 2^56 + 2^48 + 1: a tie after rounding to fp32 first. */
static const int64_t wide_bf16[] = { 3, -7, 16777217, 0x1010001, -0x1010001,
				     0x0101000000000001ll, INT64_MAX, INT64_MIN };

static const struct tcase cases[] = {
	{ "Gemm alpha beta C[N]", EIA_OP_GEMM, ATTR(gemm_ab), 3, 1,
	  { F32(64, 48), F32(48, 32), F32(32) }, { F32(64, 32) }, 1e-4 },
	{ "Gemm transposed C[M,1]", EIA_OP_GEMM, ATTR(gemm_t), 3, 1,
	  { F32(48, 20), F32(30, 48), F32(20, 1) }, { F32(20, 30) }, 1e-4 },
	{ "Gemm fp16", EIA_OP_GEMM, ATTR(gemm_ab), 2, 1, { F16(32, 64), F16(64, 16) },
	  { F16(32, 16) }, 2e-3 },
	{ "Gemm K mismatch refused", EIA_OP_GEMM, ATTR(gemm_ab), 2, 1,
	  { F32(4, 5), F32(6, 3) }, { F32(4, 3) }, 0, .refused = true },
	{ "MatMul batched, shared B", EIA_OP_MATMUL, NULL, 0, 2, 1,
	  { F32(2, 3, 16, 24), F32(24, 8) }, { F32(2, 3, 16, 8) }, 1e-4 },
	{ "MatMul broadcast batches", EIA_OP_MATMUL, NULL, 0, 2, 1,
	  { F32(5, 1, 4, 6), F32(3, 6, 7) }, { F32(5, 3, 4, 7) }, 1e-4 },
	{ "MatMul 1-D A", EIA_OP_MATMUL, NULL, 0, 2, 1, { F32(24), F32(2, 24, 8) },
	  { F32(2, 8) }, 1e-4 },
	{ "MatMul 1-D B", EIA_OP_MATMUL, NULL, 0, 2, 1, { F32(3, 5, 24), F32(24) },
	  { F32(3, 5) }, 1e-4 },
	{ "MatMul fp16 batched", EIA_OP_MATMUL, NULL, 0, 2, 1,
	  { F16(4, 32, 64), F16(4, 64, 16) }, { F16(4, 32, 16) }, 2e-3 },
	{ "Conv grouped, strided, padded, bias", EIA_OP_CONV2D, ATTR(conv_g2), 3, 1,
	  { F32(2, 4, 9, 9), F32(6, 2, 3, 3), F32(6) }, { F32(2, 6, 5, 5) }, 1e-4 },
	{ "Conv SAME_UPPER dilated", EIA_OP_CONV2D, ATTR(conv_same), 2, 1,
	  { F32(1, 3, 8, 7), F32(4, 3, 3, 2) }, { F32(1, 4, 8, 7) }, 1e-4 },
	{ "Conv fp16", EIA_OP_CONV2D, ATTR(conv_g2), 2, 1,
	  { F16(1, 4, 6, 6), F16(2, 2, 3, 3) }, { F16(1, 2, 3, 3) }, 2e-3 },
	{ "MaxPool padded", EIA_OP_MAXPOOL2D, ATTR(maxpool), 1, 1, { F32(2, 3, 8, 8) },
	  { F32(2, 3, 4, 4) }, 1e-5 },
	{ "AveragePool ceil_mode count_include_pad", EIA_OP_AVGPOOL2D, ATTR(avgpool), 1, 1,
	  { F32(1, 2, 7, 7) }, { F32(1, 2, 4, 4) }, 1e-5 },
	{ "AveragePool dilated, asymmetric pads", EIA_OP_AVGPOOL2D, ATTR(avgpool_ex), 1, 1,
	  { F32(1, 2, 6, 7) }, { F32(1, 2, 3, 4) }, 1e-5 },
	{ "GlobalAveragePool", EIA_OP_GLOBAL_AVGPOOL, NULL, 0, 1, 1, { F32(2, 3, 5, 5) },
	  { F32(2, 3, 1, 1) }, 1e-5 },
	{ "Add broadcast", EIA_OP_ADD, NULL, 0, 2, 1, { F32(4, 1, 6), F32(3, 1) },
	  { F32(4, 3, 6) }, 1e-5 },
	{ "Sub scalar", EIA_OP_SUB, NULL, 0, 2, 1, { F32(5, 7), { EIA_DTYPE_F32, 0, { 0 } } },
	  { F32(5, 7) }, 1e-5 },
	{ "Mul fp16", EIA_OP_MUL, NULL, 0, 2, 1, { F16(3, 8), F16(8) }, { F16(3, 8) }, 2e-3 },
	{ "Div", EIA_OP_DIV, NULL, 0, 2, 1, { F32(2, 3, 4), F32(2, 1, 4) }, { F32(2, 3, 4) },
	  1e-5 },
	{ "Pow", EIA_OP_POW, NULL, 0, 2, 1, { F32(6, 5), F32(5) }, { F32(6, 5) }, 1e-5,
	  .positive = true },
	{ "Relu", EIA_OP_RELU, NULL, 0, 1, 1, { F32(1000) }, { F32(1000) }, 1e-5 },
	{ "Gelu", EIA_OP_GELU, ATTR(gelu), 1, 1, { F32(3, 100) }, { F32(3, 100) }, 1e-5 },
	{ "Gelu tanh fp16", EIA_OP_GELU, ATTR(gelu_tanh), 1, 1, { F16(3, 100) },
	  { F16(3, 100) }, 2e-3 },
	{ "Erf", EIA_OP_ERF, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Tanh", EIA_OP_TANH, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Sigmoid", EIA_OP_SIGMOID, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Exp", EIA_OP_EXP, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Sqrt (NaN for negatives)", EIA_OP_SQRT, NULL, 0, 1, 1, { F32(257) }, { F32(257) },
	  1e-5 },
	{ "Softmax axis 1", EIA_OP_SOFTMAX, ATTR(axis1), 1, 1, { F32(3, 5, 7) },
	  { F32(3, 5, 7) }, 1e-5 },
	{ "Softmax last axis fp16", EIA_OP_SOFTMAX, ATTR(axis_last), 1, 1, { F16(4, 33) },
	  { F16(4, 33) }, 2e-3 },
	{ "LayerNormalization last axis, bias", EIA_OP_LAYERNORM, ATTR(ln_last), 3, 1,
	  { F32(4, 6, 8), F32(8), F32(8) }, { F32(4, 6, 8) }, 1e-5 },
	{ "LayerNormalization axis 1", EIA_OP_LAYERNORM, ATTR(ln_1), 2, 1,
	  { F32(4, 6, 8), F32(6, 1) }, { F32(4, 6, 8) }, 1e-5 },
	{ "ReduceMean axis 1", EIA_OP_REDUCE_MEAN, ATTR(reduce_1), 1, 1, { F32(3, 4, 5) },
	  { F32(3, 5) }, 1e-5 },
	{ "ReduceMean all, keepdims", EIA_OP_REDUCE_MEAN, ATTR(reduce_all), 1, 1,
	  { F32(3, 4, 5) }, { F32(1, 1, 1) }, 1e-5 },
	{ "Transpose perm", EIA_OP_TRANSPOSE, ATTR(perm_201), 1, 1, { F32(2, 3, 4) },
	  { F32(4, 2, 3) }, 0 },
	{ "Transpose reverse fp16", EIA_OP_TRANSPOSE, ATTR(perm_rev), 1, 1, { F16(2, 3, 4, 5) },
	  { F16(5, 4, 3, 2) }, 0 },
	{ "Gather I64 axis 0", EIA_OP_GATHER, ATTR(axis0), 2, 1, { F32(5, 4), I64(3) },
	  { F32(3, 4) }, 0, .index = gather_idx, .nindex = 3 },
	{ "Gather I32 axis 1, 2-D indices", EIA_OP_GATHER, ATTR(axis1), 2, 1,
	  { F32(3, 5, 2), I32(2, 3) }, { F32(3, 2, 3, 2) }, 0, .index = gather_idx,
	  .nindex = 3 },
	{ "Gather out-of-range index refused", EIA_OP_GATHER, ATTR(axis0), 2, 1,
	  { F32(5, 4), I64(2) }, { F32(2, 4) }, 0, .index = gather_bad, .nindex = 2,
	  .refused = true },
	{ "Where broadcast", EIA_OP_WHERE, NULL, 0, 3, 1, { BOOL(3, 1), F32(1, 4), F32(3, 4) },
	  { F32(3, 4) }, 0, .index = bits, .nindex = 5 },
	{ "Concat axis 1", EIA_OP_CONCAT, ATTR(axis1), 3, 1,
	  { F32(2, 3, 4), F32(2, 1, 4), F32(2, 0, 4) }, { F32(2, 4, 4) }, 0 },
	{ "Split equal parts", EIA_OP_SPLIT, ATTR(split3), 1, 3, { F32(6, 4) },
	  { F32(2, 4), F32(2, 4), F32(2, 4) }, 0 },
	{ "Split sizes, last axis", EIA_OP_SPLIT, ATTR(split_sizes), 1, 2, { I64(3, 4) },
	  { I64(3, 1), I64(3, 3) }, 0, .index = gather_idx, .nindex = 3 },
	{ "Slice negative step", EIA_OP_SLICE, ATTR(slice), 1, 1, { F32(6, 8) },
	  { F32(2, 4) }, 0 },
	{ "Cast F32 to F16", EIA_OP_CAST, ATTR(to_f16), 1, 1, { F32(5, 7) }, { F16(5, 7) }, 0 },
	{ "Cast F16 to F32", EIA_OP_CAST, ATTR(to_f32), 1, 1, { F16(5, 7) }, { F32(5, 7) }, 0 },
	{ "Cast F32 to I64 (truncated)", EIA_OP_CAST, ATTR(to_i64), 1, 1, { F32(300) },
	  { I64(300) }, 0, .positive = true },
	{ "Cast F16 to I32", EIA_OP_CAST, ATTR(to_i32), 1, 1, { F16(300) }, { I32(300) }, 0,
	  .positive = true },
	{ "Cast F32 to BOOL", EIA_OP_CAST, ATTR(to_bool), 1, 1, { F32(300) }, { BOOL(300) }, 0 },
	{ "Cast I64 to F32", EIA_OP_CAST, ATTR(to_f32), 1, 1, { I64(7) }, { F32(7) }, 0,
	  .index = wide, .nindex = 7 },
	{ "Cast I64 to I32 (wraps)", EIA_OP_CAST, ATTR(to_i32), 1, 1, { I64(7) }, { I32(7) }, 0,
	  .index = wide, .nindex = 7 },
	{ "Cast I64 to F16", EIA_OP_CAST, ATTR(to_f16), 1, 1, { I64(7) }, { F16(7) }, 0,
	  .index = wide, .nindex = 7 },
	{ "Cast BOOL to I64", EIA_OP_CAST, ATTR(to_i64), 1, 1, { BOOL(5) }, { I64(5) }, 0,
	  .index = bits, .nindex = 5 },
	{ "Clip F32", EIA_OP_CLIP, NULL, 0, 3, 1,
	  { F32(6, 50), { EIA_DTYPE_F32, 0, { 0 } }, F32(1) }, { F32(6, 50) }, 0 },
	{ "Clip F16", EIA_OP_CLIP, NULL, 0, 3, 1, { F16(300), F16(1), F16(1) }, { F16(300) }, 0 },
	{ "Clip I64", EIA_OP_CLIP, NULL, 0, 3, 1, { I64(7), I64(1), I64(1) }, { I64(7) }, 0,
	  .index = wide, .nindex = 7 },
	{ "Clip I32", EIA_OP_CLIP, NULL, 0, 3, 1, { I32(7), I32(1), I32(1) }, { I32(7) }, 0,
	  .index = gather_idx, .nindex = 3 },
	{ "Clip with two-element bounds refused", EIA_OP_CLIP, NULL, 0, 3, 1,
	  { F32(6), F32(2), F32(1) }, { F32(6) }, 0, .refused = true },
	{ "Equal F32 broadcast", EIA_OP_EQUAL, NULL, 0, 2, 1, { F32(4, 1, 6), F32(3, 1) },
	  { BOOL(4, 3, 6) }, 0 },
	{ "Less F16", EIA_OP_LESS, NULL, 0, 2, 1, { F16(3, 8), F16(8) }, { BOOL(3, 8) }, 0 },
	{ "Greater I64", EIA_OP_GREATER, NULL, 0, 2, 1, { I64(7), I64(7, 1) }, { BOOL(7, 7) }, 0,
	  .index = wide, .nindex = 7 },
	{ "LessOrEqual I32", EIA_OP_LESS_OR_EQUAL, NULL, 0, 2, 1, { I32(3), I32(2, 1) },
	  { BOOL(2, 3) }, 0, .index = gather_idx, .nindex = 3 },
	{ "GreaterOrEqual F32 scalar", EIA_OP_GREATER_OR_EQUAL, NULL, 0, 2, 1,
	  { F32(5, 7), { EIA_DTYPE_F32, 0, { 0 } } }, { BOOL(5, 7) }, 0 },
	{ "Equal BOOL", EIA_OP_EQUAL, NULL, 0, 2, 1, { BOOL(5), BOOL(2, 1) }, { BOOL(2, 5) }, 0,
	  .index = bits, .nindex = 5 },
	{ "And", EIA_OP_AND, NULL, 0, 2, 1, { BOOL(5), BOOL(2, 1) }, { BOOL(2, 5) }, 0,
	  .index = bits, .nindex = 5 },
	{ "Or", EIA_OP_OR, NULL, 0, 2, 1, { BOOL(5), BOOL(2, 1) }, { BOOL(2, 5) }, 0,
	  .index = bits, .nindex = 5 },
	{ "Xor", EIA_OP_XOR, NULL, 0, 2, 1, { BOOL(5), BOOL(2, 1) }, { BOOL(2, 5) }, 0,
	  .index = bits, .nindex = 5 },
	{ "Not", EIA_OP_NOT, NULL, 0, 1, 1, { BOOL(5) }, { BOOL(5) }, 0, .index = bits,
	  .nindex = 5 },
	{ "Less on BOOL refused", EIA_OP_LESS, NULL, 0, 2, 1, { BOOL(5), BOOL(5) }, { BOOL(5) },
	  0, .refused = true },
	{ "LogSoftmax axis 1", EIA_OP_LOG_SOFTMAX, ATTR(axis1), 1, 1, { F32(3, 5, 7) },
	  { F32(3, 5, 7) }, 1e-5 },
	{ "LogSoftmax last axis fp16", EIA_OP_LOG_SOFTMAX, ATTR(axis_last), 1, 1,
	  { F16(4, 33) }, { F16(4, 33) }, 2e-3 },
	{ "ReduceSum axes 0, -1", EIA_OP_REDUCE_SUM, ATTR(reduce_02), 1, 1, { F32(3, 4, 5) },
	  { F32(4) }, 1e-5 },
	{ "ReduceSum I64 all", EIA_OP_REDUCE_SUM, ATTR(reduce_all), 1, 1, { I64(3, 7) },
	  { I64(1, 1) }, 0, .index = wide, .nindex = 7 },
	{ "ReduceSum noop", EIA_OP_REDUCE_SUM, ATTR(reduce_noop), 1, 1, { F32(3, 4) },
	  { F32(3, 4) }, 0 },
	{ "ReduceMax axis 1 fp16", EIA_OP_REDUCE_MAX, ATTR(reduce_1), 1, 1, { F16(3, 4, 5) },
	  { F16(3, 5) }, 2e-3 },
	{ "ReduceMax I32", EIA_OP_REDUCE_MAX, ATTR(reduce_1), 1, 1, { I32(2, 3, 2) },
	  { I32(2, 2) }, 0, .index = gather_idx, .nindex = 3 },
	{ "ReduceMin empty", EIA_OP_REDUCE_MIN, ATTR(reduce_1), 1, 1, { F32(3, 0, 5) },
	  { F32(3, 5) }, 0 },
	{ "ReduceProd", EIA_OP_REDUCE_PROD, ATTR(reduce_1), 1, 1, { F32(3, 4, 5) },
	  { F32(3, 5) }, 1e-5 },
	{ "ReduceProd I64", EIA_OP_REDUCE_PROD, ATTR(reduce_all), 1, 1, { I64(7) }, { I64(1) },
	  0, .index = wide, .nindex = 7 },
	{ "ReduceL1", EIA_OP_REDUCE_L1, ATTR(reduce_02), 1, 1, { F32(3, 4, 5) }, { F32(4) },
	  1e-5 },
	{ "ReduceL2", EIA_OP_REDUCE_L2, ATTR(reduce_1), 1, 1, { F32(3, 4, 5) }, { F32(3, 5) },
	  1e-5 },
	{ "ReduceSumSquare I32", EIA_OP_REDUCE_SUM_SQUARE, ATTR(reduce_1), 1, 1,
	  { I32(2, 3, 2) }, { I32(2, 2) }, 0, .index = gather_idx, .nindex = 3 },
	{ "ReduceLogSum", EIA_OP_REDUCE_LOG_SUM, ATTR(reduce_1), 1, 1, { F32(3, 4, 5) },
	  { F32(3, 5) }, 1e-5, .positive = true },
	{ "ReduceLogSumExp", EIA_OP_REDUCE_LOG_SUM_EXP, ATTR(reduce_02), 1, 1,
	  { F32(3, 4, 5) }, { F32(4) }, 1e-5 },
	{ "ReduceL2 I64 refused", EIA_OP_REDUCE_L2, ATTR(reduce_1), 1, 1, { I64(3, 4, 5) },
	  { I64(3, 5) }, 0, .refused = true },
	{ "Neg", EIA_OP_NEG, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 0 },
	{ "Neg I64", EIA_OP_NEG, NULL, 0, 1, 1, { I64(7) }, { I64(7) }, 0, .index = wide,
	  .nindex = 7 },
	{ "Abs fp16", EIA_OP_ABS, NULL, 0, 1, 1, { F16(257) }, { F16(257) }, 0 },
	{ "Abs I32", EIA_OP_ABS, NULL, 0, 1, 1, { I32(3) }, { I32(3) }, 0, .index = gather_idx,
	  .nindex = 3 },
	{ "Reciprocal", EIA_OP_RECIPROCAL, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5,
	  .positive = true },
	{ "Log", EIA_OP_LOG, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5, .positive = true },
	{ "Sin", EIA_OP_SIN, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Cos", EIA_OP_COS, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Floor", EIA_OP_FLOOR, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 0 },
	{ "Ceil fp16", EIA_OP_CEIL, NULL, 0, 1, 1, { F16(257) }, { F16(257) }, 0 },
	{ "Sign", EIA_OP_SIGN, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 0 },
	{ "Sign I64", EIA_OP_SIGN, NULL, 0, 1, 1, { I64(7) }, { I64(7) }, 0, .index = wide,
	  .nindex = 7 },
	{ "Add I64 broadcast (wraps)", EIA_OP_ADD, NULL, 0, 2, 1, { I64(7), I64(7, 1) },
	  { I64(7, 7) }, 0, .index = wide, .nindex = 7 },
	{ "Mul I32", EIA_OP_MUL, NULL, 0, 2, 1, { I32(3), I32(2, 1) }, { I32(2, 3) }, 0,
	  .index = gather_idx, .nindex = 3 },
	{ "Div I64 (by zero too)", EIA_OP_DIV, NULL, 0, 2, 1, { I64(7), I64(7, 1) },
	  { I64(7, 7) }, 0, .index = wide, .nindex = 7 },
	{ "Pow I64 refused", EIA_OP_POW, NULL, 0, 2, 1, { I64(7), I64(7) }, { I64(7) }, 0,
	  .refused = true },
	{ "Min broadcast", EIA_OP_MIN, NULL, 0, 2, 1, { F32(4, 1, 6), F32(3, 1) },
	  { F32(4, 3, 6) }, 0 },
	{ "Max fp16", EIA_OP_MAX, NULL, 0, 2, 1, { F16(3, 8), F16(8) }, { F16(3, 8) }, 0 },
	{ "Max I64", EIA_OP_MAX, NULL, 0, 2, 1, { I64(7), I64(7, 1) }, { I64(7, 7) }, 0,
	  .index = wide, .nindex = 7 },
	{ "Min I32", EIA_OP_MIN, NULL, 0, 2, 1, { I32(3), I32(2, 1) }, { I32(2, 3) }, 0,
	  .index = gather_idx, .nindex = 3 },
	{ "LeakyRelu", EIA_OP_LEAKY_RELU, ATTR(leaky), 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "HardSigmoid", EIA_OP_HARD_SIGMOID, ATTR(hard_sigmoid), 1, 1, { F32(257) },
	  { F32(257) }, 1e-5 },
	{ "HardSwish", EIA_OP_HARD_SWISH, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Elu fp16", EIA_OP_ELU, ATTR(elu), 1, 1, { F16(257) }, { F16(257) }, 2e-3 },
	{ "Softplus", EIA_OP_SOFTPLUS, NULL, 0, 1, 1, { F32(257) }, { F32(257) }, 1e-5 },
	{ "Floor I64 refused", EIA_OP_FLOOR, NULL, 0, 1, 1, { I64(7) }, { I64(7) }, 0,
	  .refused = true },
	{ "Conv 3-D grouped, strided, dilated, bias", EIA_OP_CONV3D, ATTR(conv3d_g2), 3, 1,
	  { F32(2, 4, 5, 6, 7), F32(6, 2, 3, 3, 2), F32(6) }, { F32(2, 6, 4, 3, 4) }, 1e-4 },
	{ "Conv 3-D SAME_LOWER fp16", EIA_OP_CONV3D, ATTR(conv3d_same), 2, 1,
	  { F16(1, 3, 5, 4, 4), F16(2, 3, 3, 2, 3) }, { F16(1, 2, 3, 4, 4) }, 2e-3 },
	{ "MaxPool 3-D ceil_mode", EIA_OP_MAXPOOL3D, ATTR(maxpool3d), 1, 1, { F32(2, 3, 5, 6, 7) },
	  { F32(2, 3, 3, 4, 4) }, 1e-5 },
	{ "AveragePool 3-D count_include_pad fp16", EIA_OP_AVGPOOL3D, ATTR(avgpool3d), 1, 1,
	  { F16(1, 2, 5, 6, 7) }, { F16(1, 2, 5, 3, 4) }, 2e-3 },
	{ "Conv 3-D on 4-D X refused", EIA_OP_CONV3D, ATTR(conv3d_same), 2, 1,
	  { F32(1, 3, 5, 4), F32(2, 3, 3, 2, 3) }, { F32(1, 2, 3, 4) }, 0, .refused = true },
	{ "ArgMax axis 1", EIA_OP_ARGMAX, ATTR(arg_1), 1, 1, { F32(3, 40, 5) }, { I64(3, 1, 5) },
	  0 },
	{ "ArgMin last index, I64 ties", EIA_OP_ARGMIN, ATTR(arg_last), 1, 1, { I64(4, 7) },
	  { I64(4) }, 0, .index = gather_idx, .nindex = 3 },
	{ "ArgMax fp16", EIA_OP_ARGMAX, ATTR(arg_last), 1, 1, { F16(4, 33) }, { I64(4) }, 0 },
	{ "CumSum axis 1", EIA_OP_CUMSUM, ATTR(cumsum_1), 1, 1, { F32(3, 40, 5) },
	  { F32(3, 40, 5) }, 1e-5 },
	{ "CumSum exclusive reverse I32", EIA_OP_CUMSUM, ATTR(cumsum_rev), 1, 1, { I32(7, 3) },
	  { I32(7, 3) }, 0, .index = gather_idx, .nindex = 3 },
	{ "Tile", EIA_OP_TILE, ATTR(tile_23), 1, 1, { F32(2, 3, 5) }, { F32(4, 3, 15) }, 0 },
	{ "Tile BOOL", EIA_OP_TILE, ATTR(tile_23), 1, 1, { BOOL(2, 3, 5) }, { BOOL(4, 3, 15) }, 0,
	  .index = bits, .nindex = 5 },
	{ "Tile with a repeat past the rank refused", EIA_OP_TILE, ATTR(tile_23), 1, 1,
	  { F32(2, 3) }, { F32(4, 3) }, 0, .refused = true },
	{ "Cast to another output dtype refused", EIA_OP_CAST, ATTR(to_f32), 1, 1, { F32(3) },
	  { F16(3) }, 0, .refused = true },
	{ "Resize bilinear by scales", EIA_OP_RESIZE, ATTR(resize_linear), 1, 1,
	  { F32(2, 3, 5, 6) }, { F32(2, 3, 10, 15) }, 1e-5 },
	{ "Resize tricubic align_corners exclude_outside fp16", EIA_OP_RESIZE,
	  ATTR(resize_cubic), 1, 1, { F16(1, 2, 3, 5, 6) }, { F16(1, 2, 4, 7, 3) }, 2e-3 },
	{ "Resize nearest asymmetric floor bf16", EIA_OP_RESIZE, ATTR(resize_nearest), 1, 1,
	  { BF16(2, 3, 4, 5) }, { BF16(2, 3, 7, 13) }, 0 },
	{ "Resize to another shape refused", EIA_OP_RESIZE, ATTR(resize_nearest), 1, 1,
	  { F32(2, 3, 4, 5) }, { F32(2, 3, 7, 12) }, 0, .refused = true },
	{ "ConvTranspose 2-D grouped, strided, dilated, bias", EIA_OP_CONV_TRANSPOSE,
	  ATTR(convt_2d), 3, 1, { F32(2, 4, 5, 6), F32(4, 3, 3, 2), F32(6) },
	  { F32(2, 6, 11, 17) }, 1e-4 },
	{ "ConvTranspose 3-D padded fp16", EIA_OP_CONV_TRANSPOSE, ATTR(convt_3d), 2, 1,
	  { F16(1, 3, 3, 4, 4), F16(3, 2, 3, 3, 3) }, { F16(1, 2, 5, 7, 7) }, 2e-3 },
	{ "ConvTranspose on a 2-D X refused", EIA_OP_CONV_TRANSPOSE, ATTR(convt_3d), 2, 1,
	  { F32(3, 4), F32(3, 2) }, { F32(2, 7) }, 0, .refused = true },
	/* bf16: 8 significant bits, so two roundings may differ by 2^-7. */
	{ "Gemm bf16", EIA_OP_GEMM, ATTR(gemm_t), 2, 1, { BF16(64, 32), BF16(16, 64) },
	  { BF16(32, 16) }, 1e-2 },
	{ "MatMul bf16 broadcast batches", EIA_OP_MATMUL, NULL, 0, 2, 1,
	  { BF16(3, 1, 16, 48), BF16(2, 48, 8) }, { BF16(3, 2, 16, 8) }, 1e-2 },
	{ "Conv bf16 grouped, bias", EIA_OP_CONV2D, ATTR(conv_g2), 3, 1,
	  { BF16(2, 4, 9, 9), BF16(6, 2, 3, 3), BF16(6) }, { BF16(2, 6, 5, 5) }, 1e-2 },
	{ "Add bf16 broadcast", EIA_OP_ADD, NULL, 0, 2, 1, { BF16(4, 1, 6), BF16(3, 1) },
	  { BF16(4, 3, 6) }, 1e-2 },
	{ "Div bf16", EIA_OP_DIV, NULL, 0, 2, 1, { BF16(3, 8), BF16(8) }, { BF16(3, 8) }, 1e-2,
	  .positive = true },
	{ "Max bf16", EIA_OP_MAX, NULL, 0, 2, 1, { BF16(3, 8), BF16(8) }, { BF16(3, 8) }, 0 },
	{ "Less bf16 to a BF16 output refused", EIA_OP_LESS, NULL, 0, 2, 1,
	  { BF16(3, 8), BF16(8) }, { BF16(3, 8) }, 0, .refused = true },
	{ "Equal bf16", EIA_OP_EQUAL, NULL, 0, 2, 1, { BF16(3, 8), BF16(8) }, { BOOL(3, 8) }, 0 },
	{ "Gelu bf16", EIA_OP_GELU, ATTR(gelu), 1, 1, { BF16(3, 100) }, { BF16(3, 100) }, 1e-2 },
	{ "Sigmoid bf16", EIA_OP_SIGMOID, NULL, 0, 1, 1, { BF16(257) }, { BF16(257) }, 1e-2 },
	{ "Neg bf16", EIA_OP_NEG, NULL, 0, 1, 1, { BF16(257) }, { BF16(257) }, 0 },
	{ "Softmax bf16 axis 1", EIA_OP_SOFTMAX, ATTR(axis1), 1, 1, { BF16(3, 5, 7) },
	  { BF16(3, 5, 7) }, 1e-2 },
	{ "LogSoftmax bf16 last axis", EIA_OP_LOG_SOFTMAX, ATTR(axis_last), 1, 1,
	  { BF16(4, 33) }, { BF16(4, 33) }, 1e-2 },
	{ "LayerNormalization bf16 last axis, bias", EIA_OP_LAYERNORM, ATTR(ln_last), 3, 1,
	  { BF16(4, 6, 8), BF16(8), BF16(8) }, { BF16(4, 6, 8) }, 1e-2 },
	{ "LayerNormalization bf16 with F32 scale refused", EIA_OP_LAYERNORM, ATTR(ln_last), 2,
	  1, { BF16(4, 8), F32(8) }, { BF16(4, 8) }, 0, .refused = true },
	{ "ReduceSum bf16 axes 0, -1", EIA_OP_REDUCE_SUM, ATTR(reduce_02), 1, 1,
	  { BF16(3, 4, 5) }, { BF16(4) }, 1e-2 },
	{ "MaxPool bf16 padded", EIA_OP_MAXPOOL2D, ATTR(maxpool), 1, 1, { BF16(2, 3, 8, 8) },
	  { BF16(2, 3, 4, 4) }, 0 },
	{ "ArgMax bf16", EIA_OP_ARGMAX, ATTR(arg_last), 1, 1, { BF16(4, 33) }, { I64(4) }, 0 },
	{ "CumSum bf16", EIA_OP_CUMSUM, ATTR(cumsum_1), 1, 1, { BF16(3, 40, 5) },
	  { BF16(3, 40, 5) }, 1e-2 },
	{ "Clip bf16", EIA_OP_CLIP, NULL, 0, 3, 1, { BF16(300), BF16(1), BF16(1) },
	  { BF16(300) }, 0 },
	{ "Transpose bf16", EIA_OP_TRANSPOSE, ATTR(perm_201), 1, 1, { BF16(2, 3, 4) },
	  { BF16(4, 2, 3) }, 0 },
	{ "Cast F32 to BF16", EIA_OP_CAST, ATTR(to_bf16), 1, 1, { F32(5, 7) }, { BF16(5, 7) },
	  0 },
	{ "Cast BF16 to F32", EIA_OP_CAST, ATTR(to_f32), 1, 1, { BF16(5, 7) }, { F32(5, 7) },
	  0 },
	{ "Cast BF16 to F16", EIA_OP_CAST, ATTR(to_f16), 1, 1, { BF16(5, 7) }, { F16(5, 7) },
	  0 },
	{ "Cast I64 to BF16 (rounded once)", EIA_OP_CAST, ATTR(to_bf16), 1, 1, { I64(8) },
	  { BF16(8) }, 0, .index = wide_bf16, .nindex = 8 },
	{ "Cast BF16 to I32", EIA_OP_CAST, ATTR(to_i32), 1, 1, { BF16(300) }, { I32(300) }, 0,
	  .positive = true },
	{ "Mul bf16 by F32 refused", EIA_OP_MUL, NULL, 0, 2, 1, { BF16(3, 8), F32(8) },
	  { BF16(3, 8) }, 0, .refused = true },
};

/* Host data of a case's inputs, the same for both devices. */
struct io {
	struct eia_tensor in[MAX_IO], out[EIA_OP_MAX_IO];
	unsigned char *data_in[MAX_IO];
	unsigned char *data_out[2][EIA_OP_MAX_IO];
	eiaError_t status[2];
};

/* IEEE binary16, rounded to nearest even (our own: clang 14 lacks _Float16 on x86). */
static uint16_t to_half(float f)
{
	uint32_t x, sign, mant, half, rem, shift;
	int exp;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000u;
	mant = x & 0x7fffffu;
	if (((x >> 23) & 0xff) == 0xff)
		return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
	exp = (int)((x >> 23) & 0xff) - 112;
	if (exp >= 31)
		return (uint16_t)(sign | 0x7c00u);
	if (exp <= 0) {
		if (exp < -10)
			return (uint16_t)sign;
		mant |= 0x800000u;
		shift = (uint32_t)(14 - exp);
		half = mant >> shift;
		rem = mant & ((1u << shift) - 1);
		if (rem > 1u << (shift - 1) || (rem == 1u << (shift - 1) && (half & 1)))
			half++;
		return (uint16_t)(sign | half);
	}
	half = (uint32_t)exp << 10 | mant >> 13;
	rem = mant & 0x1fffu;
	if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
		half++;
	return (uint16_t)(sign | half);
}

static double from_half(uint16_t h)
{
	int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	double v;

	if (!exp)
		v = ldexp(mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexp(mant | 0x400, exp - 25);
	return h & 0x8000 ? -v : v;
}

/* The upper half of a binary32, rounded to nearest even (no NaN comes here). */
static uint16_t to_bfloat(float f)
{
	uint32_t x;

	memcpy(&x, &f, sizeof(x));
	x += 0x7fffu + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

static double from_bfloat(uint16_t b)
{
	uint32_t x = (uint32_t)b << 16;
	float f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

static uint32_t rng = 12345;

/*
 * k/256 in [-1, 1] (or [0.25, 2]): exact in fp16, so both sides start equal
 * (bf16 rounds the positive ones).
 */
static float value(bool positive)
{
	int k;

	rng = rng * 1103515245u + 12345u;
	k = (int)(rng >> 16) % 513 - 256;
	return positive ? 0.25f + (float)(k + 256) / 292.0f : (float)k / 256.0f;
}

static uint64_t bytes_of(const struct eia_tensor *t)
{
	uint64_t n = eia_dtype_size(t->dtype);
	uint32_t d;

	for (d = 0; d < t->ndim; d++)
		n *= (uint64_t)t->dims[d];
	return n;
}

static void fill(const struct tcase *c, struct eia_tensor *t, unsigned char *p)
{
	uint64_t n = bytes_of(t) / eia_dtype_size(t->dtype), i;

	for (i = 0; i < n; i++) {
		int64_t v = c->nindex ? c->index[i % c->nindex] : 0;

		switch (t->dtype) {
		case EIA_DTYPE_F32:
			((float *)p)[i] = value(c->positive);
			break;
		case EIA_DTYPE_F16:
			((uint16_t *)p)[i] = to_half(value(c->positive));
			break;
		case EIA_DTYPE_BF16:
			((uint16_t *)p)[i] = to_bfloat(value(c->positive));
			break;
		case EIA_DTYPE_I64:
			((int64_t *)p)[i] = v;
			break;
		case EIA_DTYPE_I32:
			((int32_t *)p)[i] = (int32_t)v;
			break;
		default:
			p[i] = (unsigned char)(v != 0);
		}
	}
}

static int prepare(const struct tcase *c, struct io *io)
{
	unsigned int k;

	memset(io, 0, sizeof(*io));
	for (k = 0; k < c->n_in; k++) {
		struct eia_tensor *t = &io->in[k];

		t->dtype = c->in[k].dtype;
		t->ndim = c->in[k].ndim;
		memcpy(t->dims, c->in[k].dims, sizeof(t->dims));
		t->size = bytes_of(t);
		io->data_in[k] = aligned_alloc(64, t->size + 64);
		if (!io->data_in[k])
			return -1;
		t->data = t->size ? io->data_in[k] : NULL;
		fill(c, t, io->data_in[k]);
	}
	for (k = 0; k < c->n_out; k++) {
		io->out[k].dtype = c->out[k].dtype;
		io->out[k].ndim = c->out[k].ndim;
		memcpy(io->out[k].dims, c->out[k].dims, sizeof(io->out[k].dims));
		io->out[k].size = bytes_of(&io->out[k]);
		io->data_out[0][k] = calloc(1, io->out[k].size + 1);
		io->data_out[1][k] = calloc(1, io->out[k].size + 1);
		if (!io->data_out[0][k] || !io->data_out[1][k])
			return -1;
	}
	return 0;
}

static void release(const struct tcase *c, struct io *io)
{
	unsigned int k;

	for (k = 0; k < c->n_in; k++)
		free(io->data_in[k]);
	for (k = 0; k < c->n_out; k++) {
		free(io->data_out[0][k]);
		free(io->data_out[1][k]);
	}
}

static void to_eia(const struct eia_tensor *t, eiaDeviceptr p, eiaTensor *e)
{
	memset(e, 0, sizeof(*e));
	e->ptr = p;
	e->dtype = (int)t->dtype;
	e->ndim = (int)t->ndim;
	memcpy(e->dims, t->dims, sizeof(e->dims));
}

/* Run @c on @dev; the status in io->status[@side], the outputs in data_out[@side]. */
static eiaError_t run_on(eiaDevice_t dev, const struct tcase *c, struct io *io, int side)
{
	eiaDeviceptr in[MAX_IO] = { 0 }, out[EIA_OP_MAX_IO] = { 0 };
	eiaTensor ein[MAX_IO], eout[EIA_OP_MAX_IO];
	eiaStream_t s = NULL;
	eiaError_t e;
	unsigned int k;

	e = eiaStreamCreate(&s, dev, EIA_STREAM_DEFAULT);
	for (k = 0; !e && k < c->n_in; k++) {
		e = eiaMemAlloc(dev, &in[k], io->in[k].size + 8);
		if (!e && io->in[k].size)
			e = eiaMemcpyHtoD(dev, in[k], 0, io->data_in[k], io->in[k].size);
		to_eia(&io->in[k], in[k], &ein[k]);
	}
	for (k = 0; !e && k < c->n_out; k++) {
		e = eiaMemAlloc(dev, &out[k], io->out[k].size + 8);
		to_eia(&io->out[k], out[k], &eout[k]);
	}
	if (e)
		goto out;
	io->status[side] = eiaLaunchOp(s, (int)c->op, ein, (int)c->n_in, eout, (int)c->n_out,
				       c->attr, c->attr_size);
	if (!io->status[side])
		io->status[side] = eiaStreamSynchronize(s);
	for (k = 0; !io->status[side] && k < c->n_out; k++)
		if (io->out[k].size)
			e = eiaMemcpyDtoH(dev, io->data_out[side][k], out[k], 0, io->out[k].size);
out:
	for (k = 0; k < c->n_in; k++)
		if (in[k])
			eiaMemFree(dev, in[k]);
	for (k = 0; k < c->n_out; k++)
		if (out[k])
			eiaMemFree(dev, out[k]);
	eiaStreamDestroy(s);
	return e;
}

static double as_double(const unsigned char *p, uint32_t dtype, uint64_t i)
{
	switch (dtype) {
	case EIA_DTYPE_F16:
		return from_half(((const uint16_t *)p)[i]);
	case EIA_DTYPE_BF16:
		return from_bfloat(((const uint16_t *)p)[i]);
	}
	return ((const float *)p)[i];
}

/* NULL when @io's two runs agree, else what differs. */
static const char *differ(const struct tcase *c, const struct io *io, char *buf, size_t len)
{
	unsigned int k;

	if ((io->status[0] != EIA_SUCCESS) != c->refused) {
		snprintf(buf, len, "A: %s, expected %s", eiaGetErrorName(io->status[0]),
			 c->refused ? "a refusal" : "success");
		return buf;
	}
	if (io->status[0] != io->status[1]) {
		snprintf(buf, len, "status %s vs %s", eiaGetErrorName(io->status[0]),
			 eiaGetErrorName(io->status[1]));
		return buf;
	}
	for (k = 0; !io->status[0] && k < c->n_out; k++) {
		const struct eia_tensor *t = &io->out[k];
		uint64_t n = t->size / eia_dtype_size(t->dtype), i;
		bool is_float = t->dtype == EIA_DTYPE_F32 || t->dtype == EIA_DTYPE_F16 ||
				t->dtype == EIA_DTYPE_BF16;

		if (!is_float || !c->tol) {
			if (memcmp(io->data_out[0][k], io->data_out[1][k], t->size)) {
				snprintf(buf, len, "output %u differs", k);
				return buf;
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			double a = as_double(io->data_out[0][k], t->dtype, i);
			double b = as_double(io->data_out[1][k], t->dtype, i);

			if ((isnan(a) && isnan(b)) || fabs(a - b) <= c->tol + c->tol * fabs(a))
				continue;
			snprintf(buf, len, "output %u element %llu: %.9g vs %.9g", k,
				 (unsigned long long)i, a, b);
			return buf;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	size_t n = sizeof(cases) / sizeof(cases[0]), i;
	eiaDevice_t dev[2];
	int failed = 0, side;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEVICE_A DEVICE_B (tcp://HOST:PORT URLs)\n", argv[0]);
		return 2;
	}
	if (eiaInit(0))
		return 2;
	for (side = 0; side < 2; side++) {
		eiaError_t e = eiaDeviceOpen(&dev[side], argv[1 + side]);

		if (e) {
			fprintf(stderr, "%s: %s\n", argv[1 + side], eiaGetErrorString(e));
			return 2;
		}
	}
	printf("TAP version 13\n1..%zu\n", n);
	for (i = 0; i < n; i++) {
		const struct tcase *c = &cases[i];
		const char *why = NULL;
		char buf[160];
		struct io io;

		if (prepare(c, &io)) {
			why = "cannot prepare the inputs";
		} else {
			for (side = 0; side < 2 && !why; side++)
				if (run_on(dev[side], c, &io, side))
					why = side ? "transport error on B" : "transport error on A";
			if (!why)
				why = differ(c, &io, buf, sizeof(buf));
		}
		release(c, &io);
		printf("%sok %zu %s%s%s\n", why ? "not " : "", i + 1, c->name, why ? " # " : "",
		       why ? why : "");
		failed += why != NULL;
	}
	eiaDeviceClose(dev[0]);
	eiaDeviceClose(dev[1]);
	printf("# %zu cases, %d differ\n", n, failed);
	return failed ? 1 : 0;
}
