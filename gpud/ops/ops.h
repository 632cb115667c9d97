/* SPDX-License-Identifier: MIT */
/*
 * gpud's built-in operator library.
 *
 * The first half of this header is backend-neutral: tensor views, operator
 * codes, attribute structs and shape inference. The CPU backend (this
 * directory) and the CUDA backend implement the same operators with the same
 * semantics, which follow the ONNX operator specification; the details, and
 * what each operator refuses, are in Documentation/operators.rst.
 *
 * Inputs come from untrusted clients: every entry point checks every shape,
 * dtype and attribute (element counts included) and returns 0 or a negative
 * errno, -EINVAL for anything malformed. Attribute structs are plain
 * fixed-size structs without implicit padding, so that they can be copied
 * into a wire format as they are; their reserved fields and unused array
 * entries must be zero.
 */
#ifndef EIA_OPS_H
#define EIA_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#define EIA_MAX_DIMS 8
/* Most inputs (Concat) or outputs (Split) one operator takes. */
#define EIA_OP_MAX_IO 64

enum eia_dtype {
	EIA_DTYPE_F32 = 1,
	EIA_DTYPE_F16 = 2,	/* IEEE binary16 storage; computed in fp32 */
	EIA_DTYPE_I64 = 3,
	EIA_DTYPE_I32 = 4,
	EIA_DTYPE_BOOL = 5,	/* one byte; zero is false */
};

/*
 * A dense, row-major tensor. @data must be aligned to the element size and
 * hold @size bytes, at least the tensor's element count times the element
 * size. A tensor with no elements may have a NULL @data. Dimensions are >= 0;
 * the product of the non-zero ones, times the element size, must fit in
 * int64_t. On the CUDA backend @data is a device address.
 */
struct eia_tensor {
	void *data;
	uint64_t size;
	uint32_t dtype;
	uint32_t ndim;				/* 0 (a scalar) .. EIA_MAX_DIMS */
	int64_t dims[EIA_MAX_DIMS];
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

/* Softmax, Gather, Concat: one axis, negative counts from the end. */
struct eia_axis_attr {
	int64_t axis;
};

struct eia_layernorm_attr {
	int64_t axis;
	float epsilon;
	uint32_t reserved;
};

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

/* ONNX defaults for the structs that have non-zero ones. */
#define EIA_GEMM_ATTR_INIT { .alpha = 1.0f, .beta = 1.0f }
#define EIA_CONV2D_ATTR_INIT \
	{ .strides = { 1, 1 }, .dilations = { 1, 1 }, .group = 1 }
#define EIA_POOL2D_ATTR_INIT(kh, kw) \
	{ .kernel = { (kh), (kw) }, .strides = { 1, 1 }, .dilations = { 1, 1 } }
#define EIA_LAYERNORM_ATTR_INIT { .axis = -1, .epsilon = 1e-5f }
#define EIA_REDUCE_ATTR_INIT { .keepdims = 1 }

/* Bytes per element of @dtype, 0 for an unknown dtype. */
size_t eia_dtype_size(uint32_t dtype);

/* The operator's ONNX name, or NULL for an unknown code. */
const char *eia_op_name(uint32_t op);

/*
 * Check a tensor view: known dtype, rank, dimensions, element count and byte
 * size (which must not exceed @t->size), alignment of @t->data. Stores the
 * byte size in *@bytes when not NULL. Returns 0 or -EINVAL.
 */
int eia_tensor_check(const struct eia_tensor *t, uint64_t *bytes);

/*
 * Shape inference: check @attr (exactly @attr_size bytes, the size of the
 * operator's attribute struct, or 0 without one) and the inputs' views, and
 * fill dtype, ndim and dims of each of the @n_out outputs (data and size are
 * left alone). The same checks run inside eia_op_run() on every backend.
 * Returns 0, or -EINVAL for an unknown operator, a wrong number of inputs or
 * outputs, a bad attribute, dtype or shape.
 */
int eia_op_infer(uint32_t op, const void *attr, size_t attr_size,
		 const struct eia_tensor *in, unsigned int n_in,
		 struct eia_tensor *out, unsigned int n_out);

/*
 * CPU backend: run @op on @pool. Everything eia_op_infer() checks is checked,
 * and the outputs must have exactly the inferred dtypes and shapes and must
 * not overlap the inputs or each other (elementwise operators may write an
 * output over an input of the same shape and dtype). Returns 0, -EINVAL,
 * or -ENOMEM (scratch memory).
 */
int eia_op_run(struct eia_pool *pool, uint32_t op, const void *attr,
	       size_t attr_size, const struct eia_tensor *in, unsigned int n_in,
	       const struct eia_tensor *out, unsigned int n_out);

/*
 * Typed entry points: each is eia_op_run() with its operator's arguments.
 * Optional inputs may be NULL.
 */
int eia_op_gemm(struct eia_pool *pool, const struct eia_gemm_attr *attr,
		const struct eia_tensor *a, const struct eia_tensor *b,
		const struct eia_tensor *c, const struct eia_tensor *y);
int eia_op_matmul(struct eia_pool *pool, const struct eia_tensor *a,
		  const struct eia_tensor *b, const struct eia_tensor *y);
int eia_op_conv2d(struct eia_pool *pool, const struct eia_conv2d_attr *attr,
		  const struct eia_tensor *x, const struct eia_tensor *w,
		  const struct eia_tensor *b, const struct eia_tensor *y);
int eia_op_maxpool2d(struct eia_pool *pool, const struct eia_pool2d_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_avgpool2d(struct eia_pool *pool, const struct eia_pool2d_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_global_avgpool(struct eia_pool *pool, const struct eia_tensor *x,
			  const struct eia_tensor *y);
/* @op: EIA_OP_ADD, _SUB, _MUL, _DIV or _POW. */
int eia_op_binary(struct eia_pool *pool, uint32_t op, const struct eia_tensor *a,
		  const struct eia_tensor *b, const struct eia_tensor *c);
/* @op: EIA_OP_RELU, _ERF, _TANH, _SIGMOID, _EXP or _SQRT. */
int eia_op_unary(struct eia_pool *pool, uint32_t op, const struct eia_tensor *x,
		 const struct eia_tensor *y);
int eia_op_gelu(struct eia_pool *pool, const struct eia_gelu_attr *attr,
		const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_softmax(struct eia_pool *pool, const struct eia_axis_attr *attr,
		   const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_layernorm(struct eia_pool *pool,
		     const struct eia_layernorm_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *scale,
		     const struct eia_tensor *bias, const struct eia_tensor *y);
int eia_op_reduce_mean(struct eia_pool *pool,
		       const struct eia_reduce_attr *attr,
		       const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_transpose(struct eia_pool *pool,
		     const struct eia_transpose_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_gather(struct eia_pool *pool, const struct eia_axis_attr *attr,
		  const struct eia_tensor *data, const struct eia_tensor *indices,
		  const struct eia_tensor *y);
int eia_op_where(struct eia_pool *pool, const struct eia_tensor *cond,
		 const struct eia_tensor *x, const struct eia_tensor *y,
		 const struct eia_tensor *z);
int eia_op_concat(struct eia_pool *pool, const struct eia_axis_attr *attr,
		  const struct eia_tensor *in, unsigned int n_in,
		  const struct eia_tensor *y);
int eia_op_split(struct eia_pool *pool, const struct eia_split_attr *attr,
		 const struct eia_tensor *x, const struct eia_tensor *out,
		 unsigned int n_out);
int eia_op_slice(struct eia_pool *pool, const struct eia_slice_attr *attr,
		 const struct eia_tensor *x, const struct eia_tensor *y);

#endif
