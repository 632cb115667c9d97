/* SPDX-License-Identifier: MIT */
/*
 * gpud's built-in operator library.
 *
 * Operator codes, dtypes and attribute structs are the ABI in
 * uapi/eia_ops.h; this header adds the backend-neutral tensor view and shape
 * inference, and the CPU backend's entry points. The CPU backend (this
 * directory) and the CUDA backend implement the same operators with the same
 * semantics, which follow the ONNX operator specification; the details, and
 * what each operator refuses, are in Documentation/operators.rst.
 *
 * Inputs come from untrusted clients: every entry point checks every shape,
 * dtype and attribute (element counts included) and returns 0 or a negative
 * errno, -EINVAL for anything malformed.
 */
#ifndef EIA_OPS_H
#define EIA_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eia_ops.h"
#include "pool.h"

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

/* Bytes per element of @dtype, 0 for an unknown dtype. */
size_t eia_dtype_size(uint32_t dtype);

/* The operator's ONNX name, or NULL for an unknown code. */
const char *eia_op_name(uint32_t op);

/*
 * Whether @op may write an output over an input with the same data
 * pointer, dtype and shape (the elementwise operators); false for an
 * unknown code.
 */
bool eia_op_in_place(uint32_t op);

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
int eia_op_conv3d(struct eia_pool *pool, const struct eia_conv3d_attr *attr,
		  const struct eia_tensor *x, const struct eia_tensor *w,
		  const struct eia_tensor *b, const struct eia_tensor *y);
int eia_op_maxpool2d(struct eia_pool *pool, const struct eia_pool2d_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_avgpool2d(struct eia_pool *pool, const struct eia_pool2d_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y);
/* @op: EIA_OP_MAXPOOL3D or EIA_OP_AVGPOOL3D. */
int eia_op_pool3d(struct eia_pool *pool, uint32_t op,
		  const struct eia_pool3d_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y);
int eia_op_global_avgpool(struct eia_pool *pool, const struct eia_tensor *x,
			  const struct eia_tensor *y);
/* @op: EIA_OP_ADD, _SUB, _MUL, _DIV, _POW, _MIN or _MAX. */
int eia_op_binary(struct eia_pool *pool, uint32_t op, const struct eia_tensor *a,
		  const struct eia_tensor *b, const struct eia_tensor *c);
/*
 * @op: a unary operator without attributes (EIA_OP_RELU, _ERF, _TANH,
 * _SIGMOID, _EXP, _SQRT, _NEG, _ABS, ..., _HARD_SWISH, _SOFTPLUS).
 */
int eia_op_unary(struct eia_pool *pool, uint32_t op, const struct eia_tensor *x,
		 const struct eia_tensor *y);
/* @op: EIA_OP_LEAKY_RELU, _HARD_SIGMOID or _ELU. */
int eia_op_activation(struct eia_pool *pool, uint32_t op,
		      const struct eia_activation_attr *attr,
		      const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_gelu(struct eia_pool *pool, const struct eia_gelu_attr *attr,
		const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_softmax(struct eia_pool *pool, const struct eia_axis_attr *attr,
		   const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_log_softmax(struct eia_pool *pool, const struct eia_axis_attr *attr,
		       const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_layernorm(struct eia_pool *pool,
		     const struct eia_layernorm_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *scale,
		     const struct eia_tensor *bias, const struct eia_tensor *y);
int eia_op_reduce_mean(struct eia_pool *pool,
		       const struct eia_reduce_attr *attr,
		       const struct eia_tensor *x, const struct eia_tensor *y);
/* @op: EIA_OP_REDUCE_MEAN or EIA_OP_REDUCE_SUM .. _REDUCE_LOG_SUM_EXP. */
int eia_op_reduce(struct eia_pool *pool, uint32_t op,
		  const struct eia_reduce_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y);
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
int eia_op_cast(struct eia_pool *pool, const struct eia_cast_attr *attr,
		const struct eia_tensor *x, const struct eia_tensor *y);
/* @op: EIA_OP_ARGMAX or EIA_OP_ARGMIN. */
int eia_op_arg(struct eia_pool *pool, uint32_t op,
	       const struct eia_arg_attr *attr, const struct eia_tensor *x,
	       const struct eia_tensor *y);
int eia_op_cumsum(struct eia_pool *pool, const struct eia_cumsum_attr *attr,
		  const struct eia_tensor *x, const struct eia_tensor *y);
int eia_op_tile(struct eia_pool *pool, const struct eia_tile_attr *attr,
		const struct eia_tensor *x, const struct eia_tensor *y);
/*
 * @op: EIA_OP_EQUAL, _LESS, _GREATER, _LESS_OR_EQUAL, _GREATER_OR_EQUAL,
 * _AND, _OR or _XOR.
 */
int eia_op_compare(struct eia_pool *pool, uint32_t op,
		   const struct eia_tensor *a, const struct eia_tensor *b,
		   const struct eia_tensor *c);
int eia_op_not(struct eia_pool *pool, const struct eia_tensor *x,
	       const struct eia_tensor *y);
int eia_op_clip(struct eia_pool *pool, const struct eia_tensor *x,
		const struct eia_tensor *min, const struct eia_tensor *max,
		const struct eia_tensor *y);

#endif
