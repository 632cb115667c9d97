/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * eia built-in operators: codes, data types and attribute structs, as they
 * travel inside EIA_CB_LAUNCH_OP commands (eia_cmdbuf.h). Userspace only:
 * eia.ko passes operator launches through without parsing them, and gpud
 * checks them. The semantics follow the ONNX operator specification; the
 * details, and what each operator refuses, are in Documentation/operators.rst.
 *
 * Attribute structs are plain fixed-size structs without implicit padding,
 * copied into command buffers as they are (little-endian hosts); their
 * reserved fields and unused array entries must be zero.
 */
#ifndef _UAPI_EIA_OPS_H
#define _UAPI_EIA_OPS_H

#include <stdint.h>

#define EIA_MAX_DIMS 8
/* Most inputs (Concat) or outputs (Split) one operator takes. */
#define EIA_OP_MAX_IO 64

/*
 * F16 and BF16 are storage formats: every operator computes in fp32 and
 * rounds once, to nearest even (a NaN stays a NaN), when it stores. BF16
 * keeps fp32's exponent range, so values that would overflow fp16 do not,
 * with 8 significant bits to fp16's 11.
 */
enum eia_dtype {
	EIA_DTYPE_F32 = 1,
	EIA_DTYPE_F16 = 2,	/* IEEE binary16 */
	EIA_DTYPE_I64 = 3,
	EIA_DTYPE_I32 = 4,
	EIA_DTYPE_BOOL = 5,	/* one byte; zero is false */
	EIA_DTYPE_BF16 = 6,	/* bfloat16: the upper half of a binary32 */
};

/*
 * Operator codes, stable numbers. Inputs and outputs in ONNX order; an
 * optional trailing input is left out by passing fewer inputs.
 */
enum eia_op {
	EIA_OP_GEMM = 1,	/* A, B[, C] -> Y            eia_gemm_attr */
	EIA_OP_MATMUL = 2,	/* A, B -> Y                 no attributes */
	EIA_OP_CONV2D = 3,	/* X, W[, B] -> Y            eia_conv2d_attr */
	EIA_OP_MAXPOOL2D = 4,	/* X -> Y                    eia_pool2d_attr */
	EIA_OP_AVGPOOL2D = 5,	/* X -> Y                    eia_pool2d_attr */
	EIA_OP_GLOBAL_AVGPOOL = 6, /* X -> Y                 no attributes */
	EIA_OP_ADD = 7,		/* A, B -> C                 no attributes */
	EIA_OP_SUB = 8,
	EIA_OP_MUL = 9,
	EIA_OP_DIV = 10,
	EIA_OP_POW = 11,
	EIA_OP_RELU = 12,	/* X -> Y                    no attributes */
	EIA_OP_GELU = 13,	/* X -> Y                    eia_gelu_attr */
	EIA_OP_ERF = 14,
	EIA_OP_TANH = 15,
	EIA_OP_SIGMOID = 16,
	EIA_OP_EXP = 17,
	EIA_OP_SQRT = 18,
	EIA_OP_SOFTMAX = 19,	/* X -> Y                    eia_axis_attr */
	EIA_OP_LAYERNORM = 20,	/* X, Scale[, B] -> Y        eia_layernorm_attr */
	EIA_OP_REDUCE_MEAN = 21, /* X -> Y                   eia_reduce_attr */
	EIA_OP_TRANSPOSE = 22,	/* X -> Y                    eia_transpose_attr */
	EIA_OP_GATHER = 23,	/* Data, Indices -> Y        eia_axis_attr */
	EIA_OP_WHERE = 24,	/* Cond, X, Y -> Z           no attributes */
	EIA_OP_CONCAT = 25,	/* X1..Xn -> Y               eia_axis_attr */
	EIA_OP_SPLIT = 26,	/* X -> Y1..Yn               eia_split_attr */
	EIA_OP_SLICE = 27,	/* X -> Y                    eia_slice_attr */
	EIA_OP_CAST = 28,	/* X -> Y                    eia_cast_attr */
	EIA_OP_CLIP = 29,	/* X, Min, Max -> Y          no attributes */
	EIA_OP_EQUAL = 30,	/* A, B -> C (BOOL)          no attributes */
	EIA_OP_LESS = 31,
	EIA_OP_GREATER = 32,
	EIA_OP_LESS_OR_EQUAL = 33,
	EIA_OP_GREATER_OR_EQUAL = 34,
	EIA_OP_NOT = 35,	/* X -> Y (BOOL)             no attributes */
	EIA_OP_AND = 36,	/* A, B -> C (BOOL)          no attributes */
	EIA_OP_OR = 37,
	EIA_OP_XOR = 38,
	EIA_OP_LOG_SOFTMAX = 39, /* X -> Y                   eia_axis_attr */
	EIA_OP_REDUCE_SUM = 40,	/* X -> Y                    eia_reduce_attr */
	EIA_OP_REDUCE_MAX = 41,
	EIA_OP_REDUCE_MIN = 42,
	EIA_OP_REDUCE_PROD = 43,
	EIA_OP_REDUCE_L1 = 44,
	EIA_OP_REDUCE_L2 = 45,
	EIA_OP_REDUCE_SUM_SQUARE = 46,
	EIA_OP_REDUCE_LOG_SUM = 47,
	EIA_OP_REDUCE_LOG_SUM_EXP = 48,
	EIA_OP_NEG = 49,	/* X -> Y                    no attributes */
	EIA_OP_ABS = 50,
	EIA_OP_RECIPROCAL = 51,
	EIA_OP_LOG = 52,
	EIA_OP_SIN = 53,
	EIA_OP_COS = 54,
	EIA_OP_FLOOR = 55,
	EIA_OP_CEIL = 56,
	EIA_OP_SIGN = 57,
	EIA_OP_MIN = 58,	/* A, B -> C                 no attributes */
	EIA_OP_MAX = 59,
	EIA_OP_LEAKY_RELU = 60,	/* X -> Y                    eia_activation_attr */
	EIA_OP_HARD_SIGMOID = 61, /* X -> Y                  eia_activation_attr */
	EIA_OP_HARD_SWISH = 62,	/* X -> Y                    no attributes */
	EIA_OP_ELU = 63,	/* X -> Y                    eia_activation_attr */
	EIA_OP_SOFTPLUS = 64,	/* X -> Y                    no attributes */
	EIA_OP_CONV3D = 65,	/* X, W[, B] -> Y            eia_conv3d_attr */
	EIA_OP_ARGMAX = 66,	/* X -> Y (I64)              eia_arg_attr */
	EIA_OP_ARGMIN = 67,
	EIA_OP_CUMSUM = 68,	/* X -> Y                    eia_cumsum_attr */
	EIA_OP_TILE = 69,	/* X -> Y                    eia_tile_attr */
	EIA_OP_MAXPOOL3D = 70,	/* X -> Y                    eia_pool3d_attr */
	EIA_OP_AVGPOOL3D = 71,	/* X -> Y                    eia_pool3d_attr */
	EIA_OP_RESIZE = 72,	/* X -> Y                    eia_resize_attr */
	EIA_OP_CONV_TRANSPOSE = 73, /* X, W[, B] -> Y        eia_conv_transpose_attr */
};

struct eia_gemm_attr {
	float alpha;
	float beta;		/* 0: C is not read (as in BLAS) */
	uint32_t trans_a;	/* 0 or 1 */
	uint32_t trans_b;	/* 0 or 1 */
};

enum eia_auto_pad {
	EIA_AUTO_PAD_NOTSET = 0,	/* use pads[] */
	EIA_AUTO_PAD_SAME_UPPER = 1,
	EIA_AUTO_PAD_SAME_LOWER = 2,
	EIA_AUTO_PAD_VALID = 3,
};

/*
 * Spatial attributes are (height, width) pairs; pads are ONNX-ordered
 * (top, left, bottom, right). Every value is at most INT32_MAX.
 */
struct eia_conv2d_attr {
	int64_t kernel[2];	/* {0, 0}: taken from W */
	int64_t strides[2];	/* >= 1 */
	int64_t dilations[2];	/* >= 1 */
	int64_t pads[4];	/* >= 0; all 0 unless auto_pad is NOTSET */
	int64_t group;		/* >= 1, divides C and M */
	uint32_t auto_pad;	/* enum eia_auto_pad */
	uint32_t reserved;
};

struct eia_pool2d_attr {
	int64_t kernel[2];	/* >= 1 */
	int64_t strides[2];
	int64_t dilations[2];
	int64_t pads[4];
	uint32_t auto_pad;
	uint32_t ceil_mode;		/* 0 or 1 */
	uint32_t count_include_pad;	/* 0 or 1; AveragePool only */
	uint32_t reserved;
};

enum eia_gelu_approx {
	EIA_GELU_NONE = 0,
	EIA_GELU_TANH = 1,
};

struct eia_gelu_attr {
	uint32_t approximate;	/* enum eia_gelu_approx */
	uint32_t reserved;
};

/* Softmax, LogSoftmax, Gather, Concat: one axis, negative from the end. */
struct eia_axis_attr {
	int64_t axis;
};

struct eia_layernorm_attr {
	int64_t axis;
	float epsilon;
	uint32_t reserved;
};

/* ReduceMean and the other reductions (ReduceSum .. ReduceLogSumExp). */
struct eia_reduce_attr {
	int64_t axes[EIA_MAX_DIMS];
	uint32_t n_axes;	/* 0: every axis (none with noop_with_empty_axes) */
	uint32_t keepdims;		/* 0 or 1 */
	uint32_t noop_with_empty_axes;	/* 0 or 1 */
	uint32_t reserved;
};

struct eia_transpose_attr {
	int64_t perm[EIA_MAX_DIMS];
	uint32_t n_perm;	/* 0: reverse the dimensions; else the rank */
	uint32_t reserved;
};

struct eia_split_attr {
	int64_t axis;
	uint32_t n_split;	/* 0: equal parts (ONNX num_outputs); else outputs */
	uint32_t reserved;
	int64_t split[EIA_OP_MAX_IO];
};

struct eia_slice_attr {
	int64_t starts[EIA_MAX_DIMS];
	int64_t ends[EIA_MAX_DIMS];
	int64_t axes[EIA_MAX_DIMS];
	int64_t steps[EIA_MAX_DIMS];	/* non-zero */
	uint32_t n;			/* entries used in each array */
	uint32_t reserved;
};

/* Cast: Y has the dtype @to and X's shape; any dtype to any other. */
struct eia_cast_attr {
	uint32_t to;		/* enum eia_dtype */
	uint32_t reserved;
};

/*
 * Cast's rule from a float to an integer, here so that gpud and the model
 * runner's constant folding cannot disagree: toward zero, saturated at the
 * integer's range, NaN as 0. (Every float and fp32 value is a double.)
 */
static inline int64_t eia_cast_to_i64(double v)
{
	if (v != v)
		return 0;
	if (v >= 0x1p63)
		return INT64_MAX;
	if (v <= -0x1p63)
		return INT64_MIN;
	return (int64_t)v;
}

static inline int32_t eia_cast_to_i32(double v)
{
	if (v != v)
		return 0;
	if (v >= 0x1p31)
		return INT32_MAX;
	if (v <= -0x1p31)
		return INT32_MIN;
	return (int32_t)v;
}

/*
 * LeakyRelu (alpha), HardSigmoid (alpha, beta), Elu (alpha); @beta is 0
 * where the operator has no beta.
 */
struct eia_activation_attr {
	float alpha;
	float beta;
};

/*
 * 3-D Conv: spatial attributes are (depth, height, width) triples; pads are
 * ONNX-ordered (the three begins, then the three ends). As for 2-D, every
 * value is at most INT32_MAX.
 */
struct eia_conv3d_attr {
	int64_t kernel[3];	/* {0, 0, 0}: taken from W */
	int64_t strides[3];	/* >= 1 */
	int64_t dilations[3];	/* >= 1 */
	int64_t pads[6];	/* >= 0; all 0 unless auto_pad is NOTSET */
	int64_t group;		/* >= 1, divides C and M */
	uint32_t auto_pad;	/* enum eia_auto_pad */
	uint32_t reserved;
};

/* 3-D MaxPool and AveragePool: eia_pool2d_attr's fields, one axis more. */
struct eia_pool3d_attr {
	int64_t kernel[3];	/* >= 1 */
	int64_t strides[3];
	int64_t dilations[3];
	int64_t pads[6];
	uint32_t auto_pad;
	uint32_t ceil_mode;		/* 0 or 1 */
	uint32_t count_include_pad;	/* 0 or 1; AveragePool only */
	uint32_t reserved;
};

/* ArgMax, ArgMin: the index along @axis, I64. */
struct eia_arg_attr {
	int64_t axis;
	uint32_t keepdims;		/* 0 or 1 */
	uint32_t select_last_index;	/* 0 or 1: ties go to the last */
};

struct eia_cumsum_attr {
	int64_t axis;
	uint32_t exclusive;	/* 0 or 1: each sum leaves its own element out */
	uint32_t reverse;	/* 0 or 1: sums run from the end */
};

/* Tile: Y's dim i is X's times @repeats[i] (>= 0), for each of X's dims. */
struct eia_tile_attr {
	int64_t repeats[EIA_MAX_DIMS];
};

enum eia_resize_mode {
	EIA_RESIZE_NEAREST = 0,
	EIA_RESIZE_LINEAR = 1,	/* N-linear over every resized dim */
	EIA_RESIZE_CUBIC = 2,	/* Keys cubic with @cubic_coeff_a */
};

/* ONNX coordinate_transformation_mode (tf_crop_and_resize is not offered). */
enum eia_resize_coord {
	EIA_RESIZE_HALF_PIXEL = 0,
	EIA_RESIZE_PYTORCH_HALF_PIXEL = 1,
	EIA_RESIZE_ALIGN_CORNERS = 2,
	EIA_RESIZE_ASYMMETRIC = 3,
	EIA_RESIZE_TF_HALF_PIXEL_FOR_NN = 4,
};

/* ONNX nearest_mode: how a nearest source coordinate becomes an index. */
enum eia_resize_nearest {
	EIA_RESIZE_ROUND_PREFER_FLOOR = 0,
	EIA_RESIZE_ROUND_PREFER_CEIL = 1,
	EIA_RESIZE_FLOOR = 2,
	EIA_RESIZE_CEIL = 3,
};

/*
 * Resize: Y's dim i is @sizes[i]; @scales[i] is the scale the coordinate
 * transform divides by (ONNX's scales input, or sizes[i] / X's dim i when
 * the model gives sizes). Both are given for each of X's dims, zero past.
 */
struct eia_resize_attr {
	int64_t sizes[EIA_MAX_DIMS];	/* >= 0 */
	double scales[EIA_MAX_DIMS];	/* finite, > 0 */
	uint32_t mode;			/* enum eia_resize_mode */
	uint32_t coord_mode;		/* enum eia_resize_coord */
	uint32_t nearest_mode;		/* enum eia_resize_nearest */
	uint32_t exclude_outside;	/* 0 or 1: cubic taps outside X drop out */
	float cubic_coeff_a;		/* finite */
	uint32_t reserved;
};

/*
 * ConvTranspose over 1, 2 or 3 spatial dims (X's rank less 2); entries past
 * them are zero. W is (C, M / group, k...), as ONNX lays it out. Y's spatial
 * dim is s * (in - 1) + output_padding + (k - 1) * d + 1 - pad_begin - pad_end.
 */
struct eia_conv_transpose_attr {
	int64_t strides[3];		/* >= 1 */
	int64_t dilations[3];		/* >= 1 */
	int64_t pads[6];		/* >= 0: begin i at [i], end i at [3 + i] */
	int64_t output_padding[3];	/* >= 0 */
	int64_t group;			/* >= 1, divides C and M */
};

/* ONNX defaults for the structs that have non-zero ones. */
#define EIA_GEMM_ATTR_INIT { .alpha = 1.0f, .beta = 1.0f }
#define EIA_CONV2D_ATTR_INIT \
	{ .strides = { 1, 1 }, .dilations = { 1, 1 }, .group = 1 }
#define EIA_POOL2D_ATTR_INIT(kh, kw) \
	{ .kernel = { (kh), (kw) }, .strides = { 1, 1 }, .dilations = { 1, 1 } }
#define EIA_LAYERNORM_ATTR_INIT { .axis = -1, .epsilon = 1e-5f }
#define EIA_REDUCE_ATTR_INIT { .keepdims = 1 }
#define EIA_CONV3D_ATTR_INIT \
	{ .strides = { 1, 1, 1 }, .dilations = { 1, 1, 1 }, .group = 1 }
#define EIA_POOL3D_ATTR_INIT(kd, kh, kw) \
	{ .kernel = { (kd), (kh), (kw) }, .strides = { 1, 1, 1 }, \
	  .dilations = { 1, 1, 1 } }
#define EIA_LEAKY_RELU_ATTR_INIT { .alpha = 0.01f }
#define EIA_HARD_SIGMOID_ATTR_INIT { .alpha = 0.2f, .beta = 0.5f }
#define EIA_ELU_ATTR_INIT { .alpha = 1.0f }
#define EIA_ARG_ATTR_INIT { .keepdims = 1 }
#define EIA_RESIZE_ATTR_INIT { .cubic_coeff_a = -0.75f }
/* For 1-D or 2-D, zero the entries of the missing axes. */
#define EIA_CONV_TRANSPOSE_ATTR_INIT \
	{ .strides = { 1, 1, 1 }, .dilations = { 1, 1, 1 }, .group = 1 }

#endif /* _UAPI_EIA_OPS_H */
