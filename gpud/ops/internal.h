/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces of the CPU operator library: the operator table, tensor
 * and shape helpers, the strided iterator shared by broadcasting and copying
 * operators, fp16 and bf16 staging, and parallel loops over the pool.
 */
#ifndef EIA_OPS_INTERNAL_H
#define EIA_OPS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ops.h"

/* One operator invocation, as eia_op_infer()/eia_op_run() received it. */
struct op_call {
	uint32_t op;
	const void *attr;
	const struct eia_tensor *in;
	unsigned int n_in;
	const struct eia_tensor *out;	/* NULL during shape inference */
	unsigned int n_out;
};

/*
 * infer: check the attributes and the (already individually checked) inputs,
 * fill dtype, ndim and dims of out[0..n_out). exec: compute; by then the
 * outputs match infer's result and overlap nothing they must not.
 */
typedef int (*op_infer_fn)(const struct op_call *c, struct eia_tensor *out);
typedef int (*op_exec_fn)(struct eia_pool *pool, const struct op_call *c);

#define DECLARE_OP(name) \
	int name##_infer(const struct op_call *c, struct eia_tensor *out); \
	int name##_exec(struct eia_pool *pool, const struct op_call *c)

DECLARE_OP(gemm);
DECLARE_OP(matmul);
DECLARE_OP(conv2d);
DECLARE_OP(pool2d);
DECLARE_OP(global_avgpool);
DECLARE_OP(binary);
DECLARE_OP(unary);
DECLARE_OP(softmax);
DECLARE_OP(layernorm);
DECLARE_OP(reduce);
DECLARE_OP(transpose);
DECLARE_OP(gather);
DECLARE_OP(where);
DECLARE_OP(concat);
DECLARE_OP(split);
DECLARE_OP(slice);
DECLARE_OP(cast);
DECLARE_OP(clip);
DECLARE_OP(compare);
DECLARE_OP(logic_not);
DECLARE_OP(conv3d);
DECLARE_OP(arg);
DECLARE_OP(cumsum);
DECLARE_OP(tile);
DECLARE_OP(pool3d);
DECLARE_OP(resize);
DECLARE_OP(conv_transpose);

/* Tables indexed by dtype: one past the largest enum eia_dtype value. */
#define DTYPE_END (EIA_DTYPE_BF16 + 1)

/* tensor.c */
/* Known dtype, rank and dims, byte size within int64_t; stores the size. */
int shape_check(uint32_t dtype, uint32_t ndim, const int64_t *dims,
		uint64_t *bytes);
bool is_float_dtype(uint32_t dtype);
int64_t shape_count(uint32_t ndim, const int64_t *dims);
static inline int64_t tensor_count(const struct eia_tensor *t)
{
	return shape_count(t->ndim, t->dims);
}
bool same_shape(const struct eia_tensor *a, const struct eia_tensor *b);
void set_shape(struct eia_tensor *t, uint32_t dtype, uint32_t ndim,
	       const int64_t *dims);
/* Map @axis in [-rank, rank) to [0, rank); -EINVAL outside. */
int norm_axis(int64_t axis, uint32_t rank, uint32_t *out);
/* True when @n int64 values at @v are all zero (unused attribute entries). */
bool all_zero(const int64_t *v, size_t n);
/* Row-major element strides of a shape. */
void contig_strides(uint32_t ndim, const int64_t *dims, int64_t *strides);

/* broadcast.c */
/* Multidirectional (numpy) broadcast of @n shapes; -EINVAL if incompatible. */
int bcast_shape(const struct eia_tensor *const *ts, unsigned int n,
		uint32_t *ndim, int64_t *dims);
/* Whether @t broadcasts unidirectionally to the shape (@ndim, @dims). */
bool bcast_to_ok(const struct eia_tensor *t, uint32_t ndim, const int64_t *dims);
/* Element strides to read @t as the shape (@ndim, @dims): 0 on broadcast dims. */
void bcast_strides(const struct eia_tensor *t, uint32_t ndim,
		   const int64_t *dims, int64_t *strides);

#define ND_MAX_OPS 4

/*
 * Walks a shape in row-major order carrying one element offset per operand
 * (signed strides: 0 broadcasts, negative walks backwards). Dimensions that
 * can be merged for every operand are merged, so the innermost span is as long
 * as possible.
 */
struct nd_iter {
	unsigned int ndim;
	unsigned int nops;
	int64_t dims[EIA_MAX_DIMS];
	int64_t strides[ND_MAX_OPS][EIA_MAX_DIMS];
};

/* Called for each innermost run of @n elements; offs[k] is operand k's start. */
typedef void (*nd_span_fn)(void *ctx, const int64_t *offs, int64_t n,
			   const int64_t *inner_strides);

void nd_iter_init(struct nd_iter *it, uint32_t ndim, const int64_t *dims,
		  unsigned int nops, const int64_t (*strides)[EIA_MAX_DIMS]);
/* Visit the linear positions [begin, end) of the iteration space. */
void nd_iter_range(const struct nd_iter *it, int64_t begin, int64_t end,
		   nd_span_fn fn, void *ctx);

/*
 * dst (contiguous, shape @ndim/@dims, fp32) = @scale * src broadcast to that
 * shape, converted from src's float dtype.
 */
int expand_f32(struct eia_pool *pool, const struct eia_tensor *src,
	       uint32_t ndim, const int64_t *dims, float scale, float *dst);

/*
 * dst (contiguous, shape @ndim/@dims) = elements of @esize bytes read from
 * @src with the given signed element strides (Transpose, Slice).
 */
int strided_copy(struct eia_pool *pool, size_t esize, uint32_t ndim,
		 const int64_t *dims, const void *src, const int64_t *strides,
		 void *dst);

/*
 * Four floats and their bits: vector code that every compiler and ISA takes
 * (compare, select by mask), for loops -O2 leaves scalar. Unaligned loads
 * and stores go through memcpy().
 */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* (v > m) ? v : m per lane: NaN never replaces m, as in scalar MaxPool. */
static inline v4f v4f_max(v4f m, v4f v)
{
	v4i gt = v > m;

	return (v4f)(((v4i)v & gt) | ((v4i)m & ~gt));
}

/* window.c: one spatial axis of Conv or a pool. */
struct win_axis {
	int64_t in, k, s, d;	/* input size, kernel, stride, dilation */
	int64_t pb, pe;		/* pads at the start and the end */
	int64_t out;
};

/*
 * Check the (height, width) attributes (pads ONNX-ordered) against the input's
 * spatial size @in and fill @w[0..1]: pads resolved from @auto_pad, output
 * sizes with @ceil_mode. -EINVAL for bad values or an input smaller than the
 * (dilated) kernel even with padding.
 */
int win_setup(const int64_t *kernel, const int64_t *strides,
	      const int64_t *dilations, const int64_t *pads, uint32_t auto_pad,
	      bool ceil_mode, const int64_t *in, struct win_axis *w);
/* The same over @n spatial axes; pads are the @n begins, then the ends. */
int win_setup_n(int n, const int64_t *kernel, const int64_t *strides,
		const int64_t *dilations, const int64_t *pads, uint32_t auto_pad,
		bool ceil_mode, const int64_t *in, struct win_axis *w);

/*
 * Conv's operands, 2-D or 3-D (@ndim 4 or 5): X and W of one float dtype
 * and rank @ndim, @group dividing X's channels and W's filters, X's
 * channels per group equal to W's, and an optional 1-D bias with one value
 * per filter. 0 or -EINVAL.
 */
int conv_check_operands(const struct op_call *c, uint32_t ndim, int64_t group);
/* Taps [*lo, *hi) of output @o's window landing in [lo_bound, hi_bound). */
void win_taps(const struct win_axis *w, int64_t o, int64_t lo_bound,
	      int64_t hi_bound, int64_t *lo, int64_t *hi);

/* pool.c: split [0, total) into at most a few ranges per worker. */
typedef int (*range_fn)(void *ctx, int64_t begin, int64_t end,
			unsigned int worker);
/* Ranges hold at least @grain elements (except a short last one). */
int pool_for(struct eia_pool *pool, int64_t total, int64_t grain, range_fn fn,
	     void *ctx);

/*
 * Scratch memory of at least @size (> 0) bytes, aligned to
 * POOL_SCRATCH_ALIGN, for the task running on @worker; NULL when out of
 * memory. The worker keeps it (growing it when asked for more) from job to
 * job; what a task leaves in it means nothing to the next.
 */
#define POOL_SCRATCH_ALIGN 64
void *pool_scratch(struct eia_pool *pool, unsigned int worker, size_t size);

/* gemm.c: OpenBLAS set-up, once per process (pool creation calls it). */
int blas_init(void);

/*
 * Row-major C(m x n) = alpha * op(A) * op(B) + beta * C through BLAS, one
 * call on the calling worker. Dimensions must fit in int (checked by the
 * callers' shape inference).
 */
void blas_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
		float alpha, const float *a, int64_t lda, const float *b,
		int64_t ldb, float beta, float *c, int64_t ldc);

/*
 * f16.c: fp32 views of float tensors, converting fp16 and bf16 through
 * scratch.
 */
struct fview {
	float *p;
	float *owned;	/* scratch to free, NULL when p is the tensor itself */
};

/* Read view of @t (converted in parallel when fp16 or bf16). */
int fview_in(struct eia_pool *pool, const struct eia_tensor *t,
	     struct fview *v);
/* Write view of @t; fview_commit() stores it back into a 16-bit tensor. */
int fview_out(const struct eia_tensor *t, struct fview *v);
int fview_commit(struct eia_pool *pool, const struct eia_tensor *t,
		 const struct fview *v);
void fview_free(struct fview *v);

#endif
