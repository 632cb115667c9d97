/* SPDX-License-Identifier: MIT */
/*
 * What gpud's CUDA kernels (kernels.cu) and their host side (ops_cuda.c) share:
 * the kernels' names, the operation codes they switch on, and the layout of
 * their by-value parameter structs. Plain C, included by both.
 */
#ifndef GPUD_CUDA_KERNELS_H
#define GPUD_CUDA_KERNELS_H

#include <stdint.h>

#define GPUD_CU_MAX_DIMS	8
/* Threads per block of the elementwise kernels. */
#define GPUD_CU_BLOCK		256

/*
 * An elementwise walk over @n elements of an @ndim-dimensional index space
 * @dims: element i of operand k is at sum(coord[d] * stride[k][d]) elements
 * from its base, stride 0 along broadcast dims. The last operand is the
 * output (dense, unless the kernel says otherwise).
 */
struct gpud_cu_walk {
	int32_t ndim;
	int32_t nops;		/* operands described in @stride */
	int64_t n;
	int64_t dims[GPUD_CU_MAX_DIMS];
	int64_t stride[4][GPUD_CU_MAX_DIMS];
};

/*
 * A 2-D sliding window (Conv, MaxPool, AveragePool) over X (N, C, H, W)
 * giving Y (N, M, OH, OW); geometry resolved on the host by gpud/ops's
 * win_setup(), pads being those at the start. Conv: @cg input channels and
 * @mg filters per group. AveragePool counts the taps inside
 * [@lo[i], @hi[i]) of the (padded) input.
 */
struct gpud_cu_window {
	int64_t n, c, h, w;
	int64_t m, oh, ow;
	int64_t k[2], s[2], d[2], p[2];
	int64_t lo[2], hi[2];
	int64_t cg, mg;
	int32_t has_bias;
	int32_t reserved;
};

/*
 * A 3-D window (Conv, MaxPool, AveragePool) over X (N, C, D, H, W) giving
 * Y (N, M, OD, OH, OW), geometry from gpud/ops's win_setup_n(), pads being
 * those at the start. Conv: @cg input channels and @mg filters per group.
 * AveragePool counts the taps inside [@lo[i], @hi[i]) of the (padded)
 * input.
 */
struct gpud_cu_window3 {
	int64_t n, c, m;
	int64_t in[3], out[3];
	int64_t k[3], s[3], d[3], p[3];
	int64_t lo[3], hi[3];
	int64_t cg, mg;
	int32_t has_bias;
	int32_t reserved;
};

/* Tile: Y's dims @out are X's @in repeated; @n elements of Y. */
struct gpud_cu_tile {
	int32_t ndim;
	int32_t reserved;
	int64_t n;
	int64_t in[GPUD_CU_MAX_DIMS];
	int64_t out[GPUD_CU_MAX_DIMS];
};

/* enum eia_resize_mode, eia_resize_coord and eia_resize_nearest's values. */
enum gpud_cu_resize_enums {
	GPUD_CU_NEAREST = 0, GPUD_CU_LINEAR = 1, GPUD_CU_CUBIC = 2,
	GPUD_CU_HALF_PIXEL = 0, GPUD_CU_PYTORCH_HALF_PIXEL = 1,
	GPUD_CU_ALIGN_CORNERS = 2, GPUD_CU_ASYMMETRIC = 3,
	GPUD_CU_TF_HALF_PIXEL_FOR_NN = 4,
	GPUD_CU_ROUND_PREFER_FLOOR = 0, GPUD_CU_ROUND_PREFER_CEIL = 1,
	GPUD_CU_NEAREST_FLOOR = 2, GPUD_CU_NEAREST_CEIL = 3,
};

/*
 * Resize: Y (dims @out) from X (dims @in), @n elements of Y; @scales, the
 * modes and the cubic coefficient as in struct eia_resize_attr.
 */
struct gpud_cu_resize {
	int32_t ndim, mode, coord, nearest, exclude;
	float a;
	int64_t n;
	int64_t in[GPUD_CU_MAX_DIMS], out[GPUD_CU_MAX_DIMS];
	double scales[GPUD_CU_MAX_DIMS];
};

/*
 * ConvTranspose of X (N, C, in...) by W (C, @mg, k...) into Y (N, M, out...),
 * 1-D and 2-D as 3-D with unit leading axes; @p are the pads at the start,
 * @cg the input channels per group.
 */
struct gpud_cu_convt {
	int64_t n, c, m, cg, mg;
	int64_t in[3], k[3], out[3], s[3], d[3], p[3];
	int32_t has_bias;
	int32_t reserved;
};

/* enum eia_dtype's values, for kernels that take dtypes as arguments. */
enum gpud_cu_dtype {
	GPUD_CU_F32 = 1, GPUD_CU_F16 = 2, GPUD_CU_I64 = 3, GPUD_CU_I32 = 4,
	GPUD_CU_BOOL = 5, GPUD_CU_BF16 = 6,
};

/*
 * Binary operators: eia_binary_{f32,f16,bf16}(a, b, y, walk, op); all but
 * Pow also eia_binary_{i64,i32}.
 */
enum gpud_cu_binop {
	GPUD_CU_ADD, GPUD_CU_SUB, GPUD_CU_MUL, GPUD_CU_DIV, GPUD_CU_POW,
	GPUD_CU_MIN, GPUD_CU_MAX,
};

/*
 * Comparisons and logic: eia_compare(a, b, y, walk, op, dtype), y BOOL;
 * logic operators take BOOL inputs.
 */
enum gpud_cu_cmpop {
	GPUD_CU_EQ, GPUD_CU_LT, GPUD_CU_GT, GPUD_CU_LE, GPUD_CU_GE,
	GPUD_CU_AND, GPUD_CU_OR, GPUD_CU_XOR,
};

/* Reductions: eia_reduce_{f32,f16,bf16,i64,i32}(x, y, kept, red, op). */
enum gpud_cu_redop {
	GPUD_CU_RED_MEAN, GPUD_CU_RED_SUM, GPUD_CU_RED_MAX, GPUD_CU_RED_MIN,
	GPUD_CU_RED_PROD, GPUD_CU_RED_L1, GPUD_CU_RED_L2, GPUD_CU_RED_SUM_SQUARE,
	GPUD_CU_RED_LOG_SUM, GPUD_CU_RED_LOG_SUM_EXP,
};

/*
 * Unary operators: eia_unary_{f32,f16,bf16}(x, y, n, op, alpha, beta); Neg,
 * Abs and Sign also eia_unary_{i64,i32}(x, y, n, op).
 */
enum gpud_cu_unop {
	GPUD_CU_RELU, GPUD_CU_ERF, GPUD_CU_TANH, GPUD_CU_SIGMOID, GPUD_CU_EXP,
	GPUD_CU_SQRT, GPUD_CU_GELU, GPUD_CU_GELU_TANH, GPUD_CU_NEG, GPUD_CU_ABS,
	GPUD_CU_RECIPROCAL, GPUD_CU_LOG, GPUD_CU_SIN, GPUD_CU_COS, GPUD_CU_FLOOR,
	GPUD_CU_CEIL, GPUD_CU_SIGN, GPUD_CU_LEAKY_RELU, GPUD_CU_HARD_SIGMOID,
	GPUD_CU_HARD_SWISH, GPUD_CU_ELU, GPUD_CU_SOFTPLUS,
};

/*
 * The kernels, by element type where it matters (the float ones in f32,
 * f16 and bf16):
 * - eia_binary_*: y = a op b, walk operands a, b, y;
 * - eia_unary_*: y = op(x) over n dense elements (@alpha, @beta: LeakyRelu,
 *   HardSigmoid, Elu);
 * - eia_scale_*: y = s * x, walk operands x, y (Gemm's beta * C);
 * - eia_copy_e{1,2,4,8}: elements of that many bytes, walk operands src,
 *   dst, both strided (Transpose, Slice, Concat, Split);
 * - eia_where_e{1,2,4,8}: z = cond ? x : y, walk operands cond, x, y, z;
 * - eia_softmax_*: along an axis of length len with @inner elements after
 *   it, @outer before it; one thread per (outer, inner) lane; LogSoftmax
 *   when @log_softmax;
 * - eia_conv2d_*, eia_maxpool_*, eia_avgpool_*: one thread per output
 *   element, over a struct gpud_cu_window; eia_conv3d_*, eia_maxpool3d_*,
 *   eia_avgpool3d_* likewise over a struct gpud_cu_window3;
 * - eia_gavgpool_*: mean of each of @planes planes of @size elements;
 * - eia_layernorm_*: one thread per row of @cols elements; Scale and B
 *   read through walk operands 0 and 1 over the row's dims;
 * - eia_reduce_*: one thread per output element; walk @kept (operand
 *   0: X's strides) over the kept dims, @red over the reduced ones;
 * - eia_gather_check_i{32,64}: sets *@bad when an index is outside
 *   [-dim, dim); eia_gather_i{32,64}_e{1,2,4,8}: Y (outer, nidx, inner)
 *   from data (outer, dim, inner);
 * - eia_cast: y (dtype @to) = x (dtype @from), n dense elements;
 * - eia_clip: y = min(max(x, *lo), *hi), n dense elements of @dtype;
 * - eia_compare: walk operands a, b, y (BOOL); eia_not: y = !x, n dense;
 * - eia_arg_*: one thread per (outer, inner) lane of an axis of length len,
 *   the index (I64) of its maximum (@max) or minimum, ties to the last with
 *   @last; eia_cumsum_* likewise, the running sums of each lane;
 * - eia_tile_e{1,2,4,8}: one thread per element of Y, over a struct
 *   gpud_cu_tile;
 * - eia_resize_*: one thread per element of Y, over a struct gpud_cu_resize;
 * - eia_conv_transpose_*: one thread per element of Y gathering its taps,
 *   over a struct gpud_cu_convt.
 */
#define GPUD_CU_KERNELS(X) \
	X(eia_binary_f32) X(eia_binary_f16) X(eia_binary_bf16) \
	X(eia_binary_i64) X(eia_binary_i32) \
	X(eia_unary_f32) X(eia_unary_f16) X(eia_unary_bf16) \
	X(eia_unary_i64) X(eia_unary_i32) \
	X(eia_scale_f32) X(eia_scale_f16) X(eia_scale_bf16) \
	X(eia_copy_e1) X(eia_copy_e2) X(eia_copy_e4) X(eia_copy_e8) \
	X(eia_where_e1) X(eia_where_e2) X(eia_where_e4) X(eia_where_e8) \
	X(eia_softmax_f32) X(eia_softmax_f16) X(eia_softmax_bf16) \
	X(eia_conv2d_f32) X(eia_conv2d_f16) X(eia_conv2d_bf16) \
	X(eia_conv3d_f32) X(eia_conv3d_f16) X(eia_conv3d_bf16) \
	X(eia_maxpool3d_f32) X(eia_maxpool3d_f16) X(eia_maxpool3d_bf16) \
	X(eia_avgpool3d_f32) X(eia_avgpool3d_f16) X(eia_avgpool3d_bf16) \
	X(eia_maxpool_f32) X(eia_maxpool_f16) X(eia_maxpool_bf16) \
	X(eia_avgpool_f32) X(eia_avgpool_f16) X(eia_avgpool_bf16) \
	X(eia_gavgpool_f32) X(eia_gavgpool_f16) X(eia_gavgpool_bf16) \
	X(eia_layernorm_f32) X(eia_layernorm_f16) X(eia_layernorm_bf16) \
	X(eia_reduce_f32) X(eia_reduce_f16) X(eia_reduce_bf16) \
	X(eia_reduce_i64) X(eia_reduce_i32) \
	X(eia_gather_check_i32) X(eia_gather_check_i64) \
	X(eia_gather_i32_e1) X(eia_gather_i32_e2) X(eia_gather_i32_e4) X(eia_gather_i32_e8) \
	X(eia_gather_i64_e1) X(eia_gather_i64_e2) X(eia_gather_i64_e4) X(eia_gather_i64_e8) \
	X(eia_cast) X(eia_clip) X(eia_compare) X(eia_not) \
	X(eia_arg_f32) X(eia_arg_f16) X(eia_arg_bf16) X(eia_arg_i64) X(eia_arg_i32) \
	X(eia_cumsum_f32) X(eia_cumsum_f16) X(eia_cumsum_bf16) \
	X(eia_cumsum_i64) X(eia_cumsum_i32) \
	X(eia_tile_e1) X(eia_tile_e2) X(eia_tile_e4) X(eia_tile_e8) \
	X(eia_resize_f32) X(eia_resize_f16) X(eia_resize_bf16) \
	X(eia_conv_transpose_f32) X(eia_conv_transpose_f16) X(eia_conv_transpose_bf16)

#endif /* GPUD_CUDA_KERNELS_H */
