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

/* Binary operators: eia_binary_{f32,f16}(a, b, y, walk, op). */
enum gpud_cu_binop {
	GPUD_CU_ADD, GPUD_CU_SUB, GPUD_CU_MUL, GPUD_CU_DIV, GPUD_CU_POW,
};

/* Unary operators: eia_unary_{f32,f16}(x, y, n, op). */
enum gpud_cu_unop {
	GPUD_CU_RELU, GPUD_CU_ERF, GPUD_CU_TANH, GPUD_CU_SIGMOID, GPUD_CU_EXP,
	GPUD_CU_SQRT, GPUD_CU_GELU, GPUD_CU_GELU_TANH,
};

/*
 * The kernels, by element type where it matters:
 * - eia_binary_*: y = a op b, walk operands a, b, y;
 * - eia_unary_*: y = op(x) over n dense elements;
 * - eia_scale_*: y = s * x, walk operands x, y (Gemm's beta * C);
 * - eia_copy_e{1,2,4,8}: elements of that many bytes, walk operands src,
 *   dst, both strided (Transpose, Slice, Concat, Split);
 * - eia_where_e{1,2,4,8}: z = cond ? x : y, walk operands cond, x, y, z;
 * - eia_softmax_*: along an axis of length len with @inner elements after
 *   it, @outer before it; one thread per (outer, inner) lane;
 * - eia_conv2d_*, eia_maxpool_*, eia_avgpool_*: one thread per output
 *   element, over a struct gpud_cu_window;
 * - eia_gavgpool_*: mean of each of @planes planes of @size elements;
 * - eia_layernorm_*: one thread per row of @cols elements; Scale and B
 *   read through walk operands 0 and 1 over the row's dims;
 * - eia_reduce_mean_*: one thread per output element; walk @kept (operand
 *   0: X's strides) over the kept dims, @red over the reduced ones;
 * - eia_gather_check_i{32,64}: sets *@bad when an index is outside
 *   [-dim, dim); eia_gather_i{32,64}_e{1,2,4,8}: Y (outer, nidx, inner)
 *   from data (outer, dim, inner).
 */
#define GPUD_CU_KERNELS(X) \
	X(eia_binary_f32) X(eia_binary_f16) \
	X(eia_unary_f32) X(eia_unary_f16) \
	X(eia_scale_f32) X(eia_scale_f16) \
	X(eia_copy_e1) X(eia_copy_e2) X(eia_copy_e4) X(eia_copy_e8) \
	X(eia_where_e1) X(eia_where_e2) X(eia_where_e4) X(eia_where_e8) \
	X(eia_softmax_f32) X(eia_softmax_f16) \
	X(eia_conv2d_f32) X(eia_conv2d_f16) \
	X(eia_maxpool_f32) X(eia_maxpool_f16) \
	X(eia_avgpool_f32) X(eia_avgpool_f16) \
	X(eia_gavgpool_f32) X(eia_gavgpool_f16) \
	X(eia_layernorm_f32) X(eia_layernorm_f16) \
	X(eia_reduce_mean_f32) X(eia_reduce_mean_f16) \
	X(eia_gather_check_i32) X(eia_gather_check_i64) \
	X(eia_gather_i32_e1) X(eia_gather_i32_e2) X(eia_gather_i32_e4) X(eia_gather_i32_e8) \
	X(eia_gather_i64_e1) X(eia_gather_i64_e2) X(eia_gather_i64_e4) X(eia_gather_i64_e8)

#endif /* GPUD_CUDA_KERNELS_H */
