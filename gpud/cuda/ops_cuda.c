// SPDX-License-Identifier: MIT
/*
 * The CUDA backend's operators. Every call is checked as eia_op_run()
 * checks it on the CPU (eia_op_infer() for the inputs and attributes, then
 * the outputs' shapes and overlaps), so both backends refuse the same
 * inputs; then it is queued on the context's stream: Gemm and MatMul through
 * cuBLAS (fp32, or fp16 and bf16 on tensor cores, all accumulating in
 * fp32), the others as kernels of kernels.cu. An operator without a CUDA
 * implementation yet returns -EOPNOTSUPP and logs its name
 * (Documentation/cuda-backend.rst).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "gpud_cuda.h"
#include "internal.h"
#include "log.h"

#define dptr(t)		((CUdeviceptr)(uintptr_t)(t)->data)

_Static_assert((int)GPUD_CU_F32 == EIA_DTYPE_F32 && (int)GPUD_CU_F16 == EIA_DTYPE_F16 &&
	       (int)GPUD_CU_I64 == EIA_DTYPE_I64 && (int)GPUD_CU_I32 == EIA_DTYPE_I32 &&
	       (int)GPUD_CU_BOOL == EIA_DTYPE_BOOL && (int)GPUD_CU_BF16 == EIA_DTYPE_BF16,
	       "kernel dtype codes");

static bool overlaps(const struct eia_tensor *a, uint64_t an,
		     const struct eia_tensor *b, uint64_t bn)
{
	uintptr_t pa = (uintptr_t)a->data, pb = (uintptr_t)b->data;

	return an && bn && pa < pb + bn && pb < pa + an;
}

/* eia_op_run()'s checks (gpud/ops/ops.c), on device addresses. */
static int check(uint32_t op, const void *attr, size_t attr_size,
		 const struct eia_tensor *in, unsigned int n_in,
		 const struct eia_tensor *out, unsigned int n_out)
{
	struct eia_tensor expect[EIA_OP_MAX_IO];
	uint64_t in_bytes[EIA_OP_MAX_IO], out_bytes[EIA_OP_MAX_IO];
	unsigned int i, j;
	int ret;

	memset(expect, 0, sizeof(expect));
	ret = eia_op_infer(op, attr, attr_size, in, n_in, expect, n_out);
	if (ret)
		return ret;
	for (i = 0; i < n_in; i++)
		eia_tensor_check(&in[i], &in_bytes[i]);
	for (i = 0; i < n_out; i++) {
		ret = eia_tensor_check(&out[i], &out_bytes[i]);
		if (ret)
			return ret;
		if (out[i].dtype != expect[i].dtype || !same_shape(&out[i], &expect[i]))
			return -EINVAL;
		for (j = 0; j < n_in; j++)
			if (overlaps(&out[i], out_bytes[i], &in[j], in_bytes[j]) &&
			    (!eia_op_in_place(op) || out[i].data != in[j].data ||
			     out[i].dtype != in[j].dtype || !same_shape(&out[i], &in[j])))
				return -EINVAL;
		for (j = 0; j < i; j++)
			if (overlaps(&out[i], out_bytes[i], &out[j], out_bytes[j]))
				return -EINVAL;
	}
	return 0;
}

static int64_t count(const struct eia_tensor *t)
{
	int64_t n = 1;
	uint32_t d;

	for (d = 0; d < t->ndim; d++)
		n *= t->dims[d];
	return n;
}

static void dense_strides(const struct eia_tensor *t, int64_t *stride)
{
	int64_t s = 1;
	int d;

	for (d = (int)t->ndim - 1; d >= 0; d--) {
		stride[d] = s;
		s *= t->dims[d];
	}
}

/* Strides of @t broadcast to the @ndim dims of the walk (right-aligned). */
static void walk_bcast(const struct eia_tensor *t, int ndim, int64_t *stride)
{
	int64_t dense[EIA_MAX_DIMS];
	int shift = ndim - (int)t->ndim, d;

	dense_strides(t, dense);
	for (d = 0; d < ndim; d++)
		stride[d] = d < shift || t->dims[d - shift] == 1 ? 0 : dense[d - shift];
}

/* A walk over @shape's elements, with @nops operands to fill in. */
static void walk_init(struct gpud_cu_walk *w, const struct eia_tensor *shape, int nops)
{
	memset(w, 0, sizeof(*w));
	w->ndim = (int32_t)shape->ndim;
	w->nops = nops;
	w->n = count(shape);
	memcpy(w->dims, shape->dims, shape->ndim * sizeof(w->dims[0]));
}

/*
 * Merge neighbouring dims that every operand walks contiguously, so that a
 * same-shape elementwise walk becomes one flat loop. A 0-dim walk is a
 * scalar: one dim of 1.
 */
static void walk_simplify(struct gpud_cu_walk *w)
{
	int d, k, out = 0;

	for (d = 0; d < w->ndim; d++) {
		bool merge = out > 0;

		for (k = 0; merge && k < w->nops; k++)
			merge = w->stride[k][out - 1] == w->stride[k][d] * w->dims[d];
		if (merge) {
			w->dims[out - 1] *= w->dims[d];
			for (k = 0; k < w->nops; k++)
				w->stride[k][out - 1] = w->stride[k][d];
			continue;
		}
		w->dims[out] = w->dims[d];
		for (k = 0; k < w->nops; k++)
			w->stride[k][out] = w->stride[k][d];
		out++;
	}
	if (!out) {
		w->dims[0] = 1;
		out = 1;
	}
	w->ndim = out;
}

static CUfunction pick(const struct eia_tensor *t, CUfunction f32, CUfunction f16,
		       CUfunction bf16)
{
	switch (t->dtype) {
	case EIA_DTYPE_F16:
		return f16;
	case EIA_DTYPE_BF16:
		return bf16;
	}
	return f32;
}

/* The instance of float kernel @name for @t's dtype. */
#define FLOAT_KERNEL(cu, t, name) \
	pick(t, (cu)->k.name##_f32, (cu)->k.name##_f16, (cu)->k.name##_bf16)

static int binary(struct gpud_cu *cu, struct gpud_queue *q, uint32_t op,
		  const struct eia_tensor *in, const struct eia_tensor *y)
{
	CUdeviceptr a = dptr(&in[0]), b = dptr(&in[1]), c = dptr(y);
	int code = op == EIA_OP_MIN ? GPUD_CU_MIN : op == EIA_OP_MAX ? GPUD_CU_MAX :
		   GPUD_CU_ADD + (int)(op - EIA_OP_ADD);
	CUfunction f[] = {
		[EIA_DTYPE_F32] = cu->k.eia_binary_f32, [EIA_DTYPE_F16] = cu->k.eia_binary_f16,
		[EIA_DTYPE_BF16] = cu->k.eia_binary_bf16, [EIA_DTYPE_I64] = cu->k.eia_binary_i64,
		[EIA_DTYPE_I32] = cu->k.eia_binary_i32,
	};
	struct gpud_cu_walk w;
	void *args[] = { &a, &b, &c, &w, &code };

	walk_init(&w, y, 3);
	walk_bcast(&in[0], w.ndim, w.stride[0]);
	walk_bcast(&in[1], w.ndim, w.stride[1]);
	dense_strides(y, w.stride[2]);
	walk_simplify(&w);
	return gpud_cu_launch(cu, q, f[y->dtype], w.n, args, eia_op_name(op));
}

static int unary(struct gpud_cu *cu, struct gpud_queue *q, uint32_t op, const void *attr,
		 const struct eia_tensor *x, const struct eia_tensor *y)
{
	static const int codes[] = {
		[EIA_OP_RELU] = GPUD_CU_RELU, [EIA_OP_ERF] = GPUD_CU_ERF,
		[EIA_OP_TANH] = GPUD_CU_TANH, [EIA_OP_SIGMOID] = GPUD_CU_SIGMOID,
		[EIA_OP_EXP] = GPUD_CU_EXP, [EIA_OP_SQRT] = GPUD_CU_SQRT,
		[EIA_OP_GELU] = GPUD_CU_GELU, [EIA_OP_NEG] = GPUD_CU_NEG,
		[EIA_OP_ABS] = GPUD_CU_ABS, [EIA_OP_RECIPROCAL] = GPUD_CU_RECIPROCAL,
		[EIA_OP_LOG] = GPUD_CU_LOG, [EIA_OP_SIN] = GPUD_CU_SIN,
		[EIA_OP_COS] = GPUD_CU_COS, [EIA_OP_FLOOR] = GPUD_CU_FLOOR,
		[EIA_OP_CEIL] = GPUD_CU_CEIL, [EIA_OP_SIGN] = GPUD_CU_SIGN,
		[EIA_OP_LEAKY_RELU] = GPUD_CU_LEAKY_RELU,
		[EIA_OP_HARD_SIGMOID] = GPUD_CU_HARD_SIGMOID,
		[EIA_OP_HARD_SWISH] = GPUD_CU_HARD_SWISH, [EIA_OP_ELU] = GPUD_CU_ELU,
		[EIA_OP_SOFTPLUS] = GPUD_CU_SOFTPLUS,
	};
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	int64_t n = count(y);
	int code = codes[op];
	float alpha = 0.0f, beta = 0.0f;
	void *args[] = { &xp, &yp, &n, &code, &alpha, &beta };
	void *int_args[] = { &xp, &yp, &n, &code };

	if (op == EIA_OP_GELU &&
	    ((const struct eia_gelu_attr *)attr)->approximate == EIA_GELU_TANH)
		code = GPUD_CU_GELU_TANH;
	if (op == EIA_OP_LEAKY_RELU || op == EIA_OP_HARD_SIGMOID || op == EIA_OP_ELU) {
		alpha = ((const struct eia_activation_attr *)attr)->alpha;
		beta = ((const struct eia_activation_attr *)attr)->beta;
	}
	switch (y->dtype) {
	case EIA_DTYPE_I64:
		return gpud_cu_launch(cu, q, cu->k.eia_unary_i64, n, int_args, eia_op_name(op));
	case EIA_DTYPE_I32:
		return gpud_cu_launch(cu, q, cu->k.eia_unary_i32, n, int_args, eia_op_name(op));
	}
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_unary), n, args, eia_op_name(op));
}

static uint32_t axis_of(int64_t axis, uint32_t rank)
{
	return (uint32_t)(axis < 0 ? axis + rank : axis);
}

static int softmax(struct gpud_cu *cu, struct gpud_queue *q, uint32_t op,
		   const struct eia_axis_attr *attr, const struct eia_tensor *x,
		   const struct eia_tensor *y)
{
	uint32_t axis = axis_of(attr->axis, x->ndim), d;
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	int64_t outer = 1, len = x->dims[axis], inner = 1;
	int log_softmax = op == EIA_OP_LOG_SOFTMAX;
	void *args[] = { &xp, &yp, &outer, &len, &inner, &log_softmax };

	for (d = 0; d < axis; d++)
		outer *= x->dims[d];
	for (d = axis + 1; d < x->ndim; d++)
		inner *= x->dims[d];
	if (!len)
		return 0;
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_softmax), outer * inner, args,
			      eia_op_name(op));
}

static CUfunction copy_kernel(struct gpud_cu *cu, uint32_t dtype)
{
	switch (eia_dtype_size(dtype)) {
	case 1:
		return cu->k.eia_copy_e1;
	case 2:
		return cu->k.eia_copy_e2;
	case 4:
		return cu->k.eia_copy_e4;
	}
	return cu->k.eia_copy_e8;
}

/* Copy a strided walk (operand 0 the source, 1 the destination). */
static int copy_walk(struct gpud_cu *cu, struct gpud_queue *q, uint32_t dtype,
		     CUdeviceptr src, CUdeviceptr dst, struct gpud_cu_walk *w,
		     const char *what)
{
	void *args[] = { &src, &dst, w };

	walk_simplify(w);
	return gpud_cu_launch(cu, q, copy_kernel(cu, dtype), w->n, args, what);
}

static int transpose(struct gpud_cu *cu, struct gpud_queue *q,
		     const struct eia_transpose_attr *attr, const struct eia_tensor *x,
		     const struct eia_tensor *y)
{
	int64_t xs[EIA_MAX_DIMS];
	struct gpud_cu_walk w;
	uint32_t d, r = x->ndim;

	dense_strides(x, xs);
	walk_init(&w, y, 2);
	for (d = 0; d < r; d++)
		w.stride[0][d] = xs[attr->n_perm ? (uint32_t)attr->perm[d] : r - 1 - d];
	dense_strides(y, w.stride[1]);
	return copy_walk(cu, q, x->dtype, dptr(x), dptr(y), &w, "Transpose");
}

/* Concat (@into) or Split: each part is a window along @axis of the whole. */
static int parts(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *whole,
		 const struct eia_tensor *part, unsigned int n, uint32_t axis, bool into)
{
	size_t es = eia_dtype_size(whole->dtype);
	int64_t ws[EIA_MAX_DIMS], at = 0;
	unsigned int k;
	int ret;

	dense_strides(whole, ws);
	for (k = 0; k < n; k++) {
		CUdeviceptr win = dptr(whole) + (CUdeviceptr)(at * ws[axis] * (int64_t)es);
		struct gpud_cu_walk w;

		walk_init(&w, &part[k], 2);
		dense_strides(&part[k], w.stride[into ? 0 : 1]);
		memcpy(w.stride[into ? 1 : 0], ws, sizeof(ws));
		at += part[k].dims[axis];
		if (!w.n)
			continue;
		ret = into ? copy_walk(cu, q, whole->dtype, dptr(&part[k]), win, &w, "Concat") :
			     copy_walk(cu, q, whole->dtype, win, dptr(&part[k]), &w, "Split");
		if (ret)
			return ret;
	}
	return 0;
}

/* The first element and step per dim, as slice_plan() in gpud/ops. */
static int slice(struct gpud_cu *cu, struct gpud_queue *q,
		 const struct eia_slice_attr *attr, const struct eia_tensor *x,
		 const struct eia_tensor *y)
{
	int64_t xs[EIA_MAX_DIMS], base = 0;
	struct gpud_cu_walk w;
	uint32_t i;

	dense_strides(x, xs);
	walk_init(&w, y, 2);
	memcpy(w.stride[0], xs, sizeof(xs));
	dense_strides(y, w.stride[1]);
	for (i = 0; i < attr->n; i++) {
		uint32_t a = axis_of(attr->axes[i], x->ndim);
		int64_t s = attr->starts[i], d = x->dims[a], st = attr->steps[i];

		if (s < 0)
			s += d;
		if (st > 0)
			s = s < 0 ? 0 : s > d ? d : s;
		else
			s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
		if (y->dims[a])
			base += s * xs[a];
		w.stride[0][a] = st * xs[a];
	}
	if (!w.n)
		return 0;
	return copy_walk(cu, q, x->dtype,
			 dptr(x) + (CUdeviceptr)(base * (int64_t)eia_dtype_size(x->dtype)),
			 dptr(y), &w, "Slice");
}

static int where(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *in,
		 const struct eia_tensor *z)
{
	CUdeviceptr c = dptr(&in[0]), x = dptr(&in[1]), y = dptr(&in[2]), zp = dptr(z);
	static const size_t idx[] = { [1] = 0, [2] = 1, [4] = 2, [8] = 3 };
	CUfunction f[] = { cu->k.eia_where_e1, cu->k.eia_where_e2, cu->k.eia_where_e4,
			   cu->k.eia_where_e8 };
	struct gpud_cu_walk w;
	void *args[] = { &c, &x, &y, &zp, &w };
	int k;

	walk_init(&w, z, 4);
	for (k = 0; k < 3; k++)
		walk_bcast(&in[k], w.ndim, w.stride[k]);
	dense_strides(z, w.stride[3]);
	walk_simplify(&w);
	return gpud_cu_launch(cu, q, f[idx[eia_dtype_size(z->dtype)]], w.n, args, "Where");
}

/*
 * A row-major batch of C = alpha op(A) op(B) + beta C as cuBLAS's
 * column-major C^T = op(B)^T op(A)^T: the operands swap, not the flags.
 */
struct gemm {
	bool trans_a, trans_b;
	cudaDataType_t type;
	int m, n, k;
	float alpha, beta;
	CUdeviceptr a, b, c;
	long long stride_a, stride_b, stride_c;	/* elements between batches */
	int batch;
};

static int gemm_run(struct gpud_cu *cu, struct gpud_queue *q, const struct gemm *g)
{
	cudaDataType_t t = g->type;
	int lda = g->trans_a ? g->m : g->k, ldb = g->trans_b ? g->k : g->n;
	cublasStatus_t st;

	st = cu->blas.cublasGemmStridedBatchedEx(
		q->blas, g->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
		g->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g->n, g->m, g->k, &g->alpha,
		(const void *)(uintptr_t)g->b, t, ldb, g->stride_b,
		(const void *)(uintptr_t)g->a, t, lda, g->stride_a, &g->beta,
		(void *)(uintptr_t)g->c, t, g->n, g->stride_c, g->batch,
		CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
	if (st == CUBLAS_STATUS_SUCCESS)
		return 0;
	gpud_err("cuda: cublasGemmStridedBatchedEx: %s", cu->blas.cublasGetStatusName(st));
	return st == CUBLAS_STATUS_ALLOC_FAILED ? -ENOMEM : -EIO;
}

/* cuBLAS's type of a float dtype: the 16-bit ones run on tensor cores. */
static cudaDataType_t blas_type(const struct eia_tensor *t)
{
	switch (t->dtype) {
	case EIA_DTYPE_F16:
		return CUDA_R_16F;
	case EIA_DTYPE_BF16:
		return CUDA_R_16BF;
	}
	return CUDA_R_32F;
}

static int zero(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *y)
{
	uint64_t bytes = (uint64_t)count(y) * eia_dtype_size(y->dtype);

	return bytes ? gpud_cu_err(cu, cu->drv.cuMemsetD8Async(dptr(y), 0, bytes, q->stream),
				   "cuMemsetD8Async") : 0;
}

/* Y = alpha op(A) op(B) + beta C, C broadcast into Y first. */
static int gemm(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_gemm_attr *attr,
		const struct eia_tensor *in, unsigned int n_in, const struct eia_tensor *y)
{
	struct gemm g = {
		.trans_a = attr->trans_a, .trans_b = attr->trans_b, .type = blas_type(y),
		.m = (int)y->dims[0], .n = (int)y->dims[1],
		.k = (int)(attr->trans_a ? in[0].dims[0] : in[0].dims[1]),
		.alpha = attr->alpha, .a = dptr(&in[0]), .b = dptr(&in[1]), .c = dptr(y),
		.batch = 1,
	};
	bool with_c = n_in == 3 && attr->beta != 0.0f;
	int ret;

	if (!g.m || !g.n)
		return 0;
	if (with_c) {
		CUdeviceptr cp = dptr(&in[2]), yp = dptr(y);
		float beta = attr->beta;
		struct gpud_cu_walk w;
		void *args[] = { &cp, &yp, &w, &beta };

		walk_init(&w, y, 2);
		walk_bcast(&in[2], 2, w.stride[0]);
		dense_strides(y, w.stride[1]);
		walk_simplify(&w);
		ret = gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_scale), w.n, args, "Gemm");
		g.beta = 1.0f;
	} else {
		ret = g.k ? 0 : zero(cu, q, y);
	}
	if (ret || !g.k)
		return ret;
	return gemm_run(cu, q, &g);
}

/* Batch dims of @t (all but the last two, after 1-D promotion), right-aligned to @nb. */
static void batch_strides(const struct eia_tensor *t, int nb, int64_t mat, int64_t *stride)
{
	int tb = t->ndim > 2 ? (int)t->ndim - 2 : 0, shift = nb - tb, d;
	int64_t s = mat;

	for (d = nb - 1; d >= 0; d--) {
		if (d < shift || t->dims[d - shift] == 1) {
			stride[d] = 0;
		} else {
			stride[d] = s;
			s *= t->dims[d - shift];
		}
	}
}

/*
 * numpy matmul. When each operand's batches are evenly spaced (all its own,
 * or one shared) the whole product is one strided-batched call; otherwise
 * one call per output batch.
 */
static int matmul(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *in,
		  const struct eia_tensor *y)
{
	const struct eia_tensor *a = &in[0], *b = &in[1];
	int64_t m = a->ndim == 1 ? 1 : a->dims[a->ndim - 2], k = a->dims[a->ndim - 1];
	int64_t n = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
	/* The output: batch dims, then M unless A is 1-D, then N unless B is. */
	int nb = (int)y->ndim - (a->ndim > 1) - (b->ndim > 1);
	int64_t sa[EIA_MAX_DIMS], sb[EIA_MAX_DIMS], batches = 1, an = 1, bn = 1, i;
	size_t es = eia_dtype_size(y->dtype);
	struct gemm g = { .type = blas_type(y), .m = (int)m, .n = (int)n, .k = (int)k,
			  .alpha = 1.0f };
	int d, ret;

	for (d = 0; d < nb; d++)
		batches *= y->dims[d];
	if (!batches || !m || !n)
		return 0;
	if (!k)
		return zero(cu, q, y);
	batch_strides(a, nb, m * k, sa);
	batch_strides(b, nb, k * n, sb);
	for (d = 0; d + 2 < (int)a->ndim; d++)
		an *= a->dims[d];
	for (d = 0; d + 2 < (int)b->ndim; d++)
		bn *= b->dims[d];
	if ((an == 1 || an == batches) && (bn == 1 || bn == batches) && batches <= INT_MAX) {
		g.a = dptr(a);
		g.b = dptr(b);
		g.c = dptr(y);
		g.stride_a = an == 1 ? 0 : m * k;
		g.stride_b = bn == 1 ? 0 : k * n;
		g.stride_c = m * n;
		g.batch = (int)batches;
		return gemm_run(cu, q, &g);
	}
	g.batch = 1;
	for (i = 0; i < batches; i++) {
		int64_t r = i, oa = 0, ob = 0;

		for (d = nb - 1; d >= 0; d--) {
			int64_t c = r % y->dims[d];

			r /= y->dims[d];
			oa += c * sa[d];
			ob += c * sb[d];
		}
		g.a = dptr(a) + (CUdeviceptr)(oa * (int64_t)es);
		g.b = dptr(b) + (CUdeviceptr)(ob * (int64_t)es);
		g.c = dptr(y) + (CUdeviceptr)(i * m * n * (int64_t)es);
		ret = gemm_run(cu, q, &g);
		if (ret)
			return ret;
	}
	return 0;
}

/* The window of Conv or a pool, from gpud/ops's own geometry. */
static void window_init(struct gpud_cu_window *cw, const struct eia_tensor *x,
			const struct eia_tensor *y, const struct win_axis *win)
{
	int i;

	memset(cw, 0, sizeof(*cw));
	cw->n = x->dims[0];
	cw->c = x->dims[1];
	cw->h = x->dims[2];
	cw->w = x->dims[3];
	cw->m = y->dims[1];
	cw->oh = y->dims[2];
	cw->ow = y->dims[3];
	for (i = 0; i < 2; i++) {
		cw->k[i] = win[i].k;
		cw->s[i] = win[i].s;
		cw->d[i] = win[i].d;
		cw->p[i] = win[i].pb;
		cw->lo[i] = 0;
		cw->hi[i] = win[i].in;
	}
}

static int conv2d(struct gpud_cu *cu, struct gpud_queue *q,
		  const struct eia_conv2d_attr *attr, const struct eia_tensor *in,
		  unsigned int n_in, const struct eia_tensor *y)
{
	const struct eia_tensor *x = &in[0], *w = &in[1];
	int64_t kernel[2] = { w->dims[2], w->dims[3] };
	CUdeviceptr xp = dptr(x), wp = dptr(w), bp = n_in == 3 ? dptr(&in[2]) : 0;
	CUdeviceptr yp = dptr(y);
	struct win_axis win[2];
	struct gpud_cu_window cw;
	void *args[] = { &xp, &wp, &bp, &yp, &cw };

	/* eia_op_infer() accepted these: win_setup() cannot fail here. */
	if (win_setup(kernel, attr->strides, attr->dilations, attr->pads, attr->auto_pad,
		      false, &x->dims[2], win))
		return -EINVAL;
	window_init(&cw, x, y, win);
	cw.cg = w->dims[1];
	cw.mg = y->dims[1] / attr->group;
	cw.has_bias = n_in == 3;
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_conv2d), count(y), args, "Conv");
}

/* A 3-D window from gpud/ops's own geometry; the taps counted: the input's. */
static void window3_init(struct gpud_cu_window3 *cw, const struct eia_tensor *x,
			 const struct eia_tensor *y, const struct win_axis *win)
{
	int i;

	memset(cw, 0, sizeof(*cw));
	cw->n = x->dims[0];
	cw->c = x->dims[1];
	cw->m = y->dims[1];
	for (i = 0; i < 3; i++) {
		cw->in[i] = win[i].in;
		cw->out[i] = win[i].out;
		cw->k[i] = win[i].k;
		cw->s[i] = win[i].s;
		cw->d[i] = win[i].d;
		cw->p[i] = win[i].pb;
		cw->lo[i] = 0;
		cw->hi[i] = win[i].in;
	}
}

static int conv3d(struct gpud_cu *cu, struct gpud_queue *q,
		  const struct eia_conv3d_attr *attr, const struct eia_tensor *in,
		  unsigned int n_in, const struct eia_tensor *y)
{
	const struct eia_tensor *x = &in[0], *w = &in[1];
	CUdeviceptr xp = dptr(x), wp = dptr(w), bp = n_in == 3 ? dptr(&in[2]) : 0;
	CUdeviceptr yp = dptr(y);
	struct win_axis win[3];
	struct gpud_cu_window3 cw;
	void *args[] = { &xp, &wp, &bp, &yp, &cw };

	/* eia_op_infer() accepted these: win_setup_n() cannot fail here. */
	if (win_setup_n(3, &w->dims[2], attr->strides, attr->dilations, attr->pads,
			attr->auto_pad, false, &x->dims[2], win))
		return -EINVAL;
	window3_init(&cw, x, y, win);
	cw.cg = w->dims[1];
	cw.mg = y->dims[1] / attr->group;
	cw.has_bias = n_in == 3;
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_conv3d), count(y), args, "Conv");
}

static int pool3d(struct gpud_cu *cu, struct gpud_queue *q,
		  const struct eia_pool3d_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y, bool avg)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	struct win_axis win[3];
	struct gpud_cu_window3 cw;
	void *args[] = { &xp, &yp, &cw };
	int i;

	if (win_setup_n(3, attr->kernel, attr->strides, attr->dilations, attr->pads,
			attr->auto_pad, attr->ceil_mode, &x->dims[2], win))
		return -EINVAL;
	window3_init(&cw, x, y, win);
	/* count_include_pad counts padding, never the ceil_mode overhang past it. */
	for (i = 0; avg && attr->count_include_pad && i < 3; i++) {
		cw.lo[i] = -win[i].pb;
		cw.hi[i] = win[i].in + win[i].pe;
	}
	if (avg)
		return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_avgpool3d), count(y), args,
				      "AveragePool");
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_maxpool3d), count(y), args,
			      "MaxPool");
}

_Static_assert((int)GPUD_CU_CUBIC == (int)EIA_RESIZE_CUBIC &&
	       (int)GPUD_CU_TF_HALF_PIXEL_FOR_NN == (int)EIA_RESIZE_TF_HALF_PIXEL_FOR_NN &&
	       (int)GPUD_CU_NEAREST_CEIL == (int)EIA_RESIZE_CEIL, "resize enums");

static int resize(struct gpud_cu *cu, struct gpud_queue *q,
		  const struct eia_resize_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	struct gpud_cu_resize r = {
		.ndim = (int32_t)x->ndim, .mode = (int32_t)attr->mode,
		.coord = (int32_t)attr->coord_mode, .nearest = (int32_t)attr->nearest_mode,
		.exclude = (int32_t)attr->exclude_outside, .a = attr->cubic_coeff_a,
		.n = count(y),
	};
	void *args[] = { &xp, &yp, &r };

	memcpy(r.in, x->dims, sizeof(r.in));
	memcpy(r.out, y->dims, sizeof(r.out));
	memcpy(r.scales, attr->scales, sizeof(r.scales));
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_resize), r.n, args, "Resize");
}

static int conv_transpose(struct gpud_cu *cu, struct gpud_queue *q,
			  const struct eia_conv_transpose_attr *attr,
			  const struct eia_tensor *in, unsigned int n_in,
			  const struct eia_tensor *y)
{
	const struct eia_tensor *x = &in[0], *w = &in[1];
	CUdeviceptr xp = dptr(x), wp = dptr(w), bp = n_in == 3 ? dptr(&in[2]) : 0;
	CUdeviceptr yp = dptr(y);
	int n = (int)x->ndim - 2;
	struct gpud_cu_convt c = {
		.n = x->dims[0], .c = x->dims[1], .m = y->dims[1],
		.cg = x->dims[1] / attr->group, .mg = w->dims[1], .has_bias = n_in == 3,
	};
	void *args[] = { &xp, &wp, &bp, &yp, &c };

	/* The leading axes are the missing ones, as on the CPU. */
	for (int i = 0; i < 3; i++) {
		int ax = i - (3 - n);
		bool real = ax >= 0;

		c.in[i] = real ? x->dims[2 + ax] : 1;
		c.k[i] = real ? w->dims[2 + ax] : 1;
		c.out[i] = real ? y->dims[2 + ax] : 1;
		c.s[i] = real ? attr->strides[ax] : 1;
		c.d[i] = real ? attr->dilations[ax] : 1;
		c.p[i] = real ? attr->pads[ax] : 0;
	}
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_conv_transpose), count(y), args,
			      "ConvTranspose");
}

static int pool2d(struct gpud_cu *cu, struct gpud_queue *q,
		  const struct eia_pool2d_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y, bool avg)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	struct win_axis win[2];
	struct gpud_cu_window cw;
	void *args[] = { &xp, &yp, &cw };
	int i;

	if (win_setup(attr->kernel, attr->strides, attr->dilations, attr->pads,
		      attr->auto_pad, attr->ceil_mode, &x->dims[2], win))
		return -EINVAL;
	window_init(&cw, x, y, win);
	/* count_include_pad counts padding, never the ceil_mode overhang past it. */
	for (i = 0; avg && attr->count_include_pad && i < 2; i++) {
		cw.lo[i] = -win[i].pb;
		cw.hi[i] = win[i].in + win[i].pe;
	}
	if (avg)
		return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_avgpool), count(y), args,
				      "AveragePool");
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_maxpool), count(y), args,
			      "MaxPool");
}

static int gavgpool(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *x,
		    const struct eia_tensor *y)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	int64_t planes = x->dims[0] * x->dims[1], size = count(x) / (planes ? planes : 1);
	void *args[] = { &xp, &yp, &planes, &size };

	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_gavgpool), planes, args,
			      "GlobalAveragePool");
}

static int layernorm(struct gpud_cu *cu, struct gpud_queue *q,
		     const struct eia_layernorm_attr *attr, const struct eia_tensor *in,
		     unsigned int n_in, const struct eia_tensor *y)
{
	const struct eia_tensor *x = &in[0];
	uint32_t axis = axis_of(attr->axis, x->ndim), d;
	CUdeviceptr xp = dptr(x), sp = dptr(&in[1]), bp = n_in == 3 ? dptr(&in[2]) : 0;
	CUdeviceptr yp = dptr(y);
	int64_t rows = 1, cols = 1;
	float eps = attr->epsilon;
	int has_bias = n_in == 3;
	struct gpud_cu_walk w;
	void *args[] = { &xp, &sp, &bp, &yp, &rows, &cols, &w, &eps, &has_bias };

	memset(&w, 0, sizeof(w));
	w.ndim = (int32_t)(x->ndim - axis);
	w.nops = 2;
	for (d = 0; d < axis; d++)
		rows *= x->dims[d];
	for (d = axis; d < x->ndim; d++) {
		cols *= x->dims[d];
		w.dims[d - axis] = x->dims[d];
	}
	w.n = cols;
	walk_bcast(&in[1], w.ndim, w.stride[0]);
	if (has_bias)
		walk_bcast(&in[2], w.ndim, w.stride[1]);
	walk_simplify(&w);
	if (!cols)
		return 0;
	return gpud_cu_launch(cu, q, FLOAT_KERNEL(cu, y, eia_layernorm), rows, args,
			      "LayerNormalization");
}

/* A walk of one operand (X) over the dims of @x that @pick selects. */
static void walk_dims(struct gpud_cu_walk *w, const struct eia_tensor *x,
		      const bool *reduced, bool pick_reduced)
{
	int64_t xs[EIA_MAX_DIMS];
	uint32_t d;

	dense_strides(x, xs);
	memset(w, 0, sizeof(*w));
	w->nops = 1;
	w->n = 1;
	for (d = 0; d < x->ndim; d++) {
		if (reduced[d] != pick_reduced)
			continue;
		w->dims[w->ndim] = x->dims[d];
		w->stride[0][w->ndim++] = xs[d];
		w->n *= x->dims[d];
	}
	walk_simplify(w);
}

static int reduce(struct gpud_cu *cu, struct gpud_queue *q, uint32_t op,
		  const struct eia_reduce_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y)
{
	bool reduced[EIA_MAX_DIMS] = { false };
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	struct gpud_cu_walk kept, red;
	int code = op == EIA_OP_REDUCE_MEAN ? GPUD_CU_RED_MEAN :
		   GPUD_CU_RED_SUM + (int)(op - EIA_OP_REDUCE_SUM);
	void *args[] = { &xp, &yp, &kept, &red, &code };
	CUfunction f[] = {
		[EIA_DTYPE_F32] = cu->k.eia_reduce_f32, [EIA_DTYPE_F16] = cu->k.eia_reduce_f16,
		[EIA_DTYPE_BF16] = cu->k.eia_reduce_bf16, [EIA_DTYPE_I64] = cu->k.eia_reduce_i64,
		[EIA_DTYPE_I32] = cu->k.eia_reduce_i32,
	};
	uint32_t i;

	if (!attr->n_axes && attr->noop_with_empty_axes) {	/* Y is X */
		walk_init(&kept, x, 2);
		dense_strides(x, kept.stride[0]);
		dense_strides(x, kept.stride[1]);
		return kept.n ? copy_walk(cu, q, x->dtype, xp, yp, &kept, eia_op_name(op)) : 0;
	}
	for (i = 0; i < x->ndim; i++)
		reduced[i] = !attr->n_axes;
	for (i = 0; i < attr->n_axes; i++)
		reduced[axis_of(attr->axes[i], x->ndim)] = true;
	walk_dims(&kept, x, reduced, false);
	walk_dims(&red, x, reduced, true);
	return gpud_cu_launch(cu, q, f[x->dtype], kept.n, args, eia_op_name(op));
}

/*
 * Every index is checked before anything is written, as on the CPU: a
 * kernel flags a bad one in the queue's scratch word, which the host reads
 * back (one stream synchronisation).
 */
static int gather(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_axis_attr *attr,
		  const struct eia_tensor *in, const struct eia_tensor *y)
{
	const struct eia_tensor *data = &in[0], *idx = &in[1];
	uint32_t axis = axis_of(attr->axis, data->ndim), d;
	bool i64 = idx->dtype == EIA_DTYPE_I64;
	CUdeviceptr dp = dptr(data), ip = dptr(idx), yp = dptr(y), flag = q->scratch;
	int64_t outer = 1, dim = data->dims[axis], inner = 1, nidx = count(idx);
	void *check_args[] = { &ip, &nidx, &dim, &flag };
	void *args[] = { &dp, &ip, &yp, &outer, &dim, &nidx, &inner };
	static const size_t col[] = { [1] = 0, [2] = 1, [4] = 2, [8] = 3 };
	CUfunction f[2][4] = {
		{ cu->k.eia_gather_i32_e1, cu->k.eia_gather_i32_e2, cu->k.eia_gather_i32_e4,
		  cu->k.eia_gather_i32_e8 },
		{ cu->k.eia_gather_i64_e1, cu->k.eia_gather_i64_e2, cu->k.eia_gather_i64_e4,
		  cu->k.eia_gather_i64_e8 },
	};
	int bad = 0, ret;

	for (d = 0; d < axis; d++)
		outer *= data->dims[d];
	for (d = axis + 1; d < data->ndim; d++)
		inner *= data->dims[d];
	if (!nidx)
		return 0;
	ret = gpud_cu_err(cu, cu->drv.cuMemsetD8Async(flag, 0, sizeof(int), q->stream),
			  "cuMemsetD8Async");
	if (!ret)
		ret = gpud_cu_launch(cu, q, i64 ? cu->k.eia_gather_check_i64 :
						  cu->k.eia_gather_check_i32,
				     nidx, check_args, "Gather");
	if (!ret)
		ret = gpud_cu_err(cu, cu->drv.cuMemcpyDtoHAsync(&bad, flag, sizeof(bad),
								q->stream),
				  "cuMemcpyDtoHAsync");
	if (!ret)
		ret = gpud_cu_err(cu, cu->drv.cuStreamSynchronize(q->stream),
				  "cuStreamSynchronize");
	if (ret)
		return ret;
	if (bad)
		return -EINVAL;
	return gpud_cu_launch(cu, q, f[i64][col[eia_dtype_size(data->dtype)]],
			      count(y), args, "Gather");
}

static int cast(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *x,
		const struct eia_tensor *y)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	int64_t n = count(x);
	int from = (int)x->dtype, to = (int)y->dtype;
	void *args[] = { &xp, &yp, &n, &from, &to };

	return gpud_cu_launch(cu, q, cu->k.eia_cast, n, args, "Cast");
}

static int clip(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *in,
		const struct eia_tensor *y)
{
	CUdeviceptr xp = dptr(&in[0]), lo = dptr(&in[1]), hi = dptr(&in[2]), yp = dptr(y);
	int64_t n = count(y);
	int dtype = (int)y->dtype;
	void *args[] = { &xp, &lo, &hi, &yp, &n, &dtype };

	return gpud_cu_launch(cu, q, cu->k.eia_clip, n, args, "Clip");
}

static int compare(struct gpud_cu *cu, struct gpud_queue *q, uint32_t op,
		   const struct eia_tensor *in, const struct eia_tensor *y)
{
	static const int codes[] = {
		[EIA_OP_EQUAL - EIA_OP_EQUAL] = GPUD_CU_EQ,
		[EIA_OP_LESS - EIA_OP_EQUAL] = GPUD_CU_LT,
		[EIA_OP_GREATER - EIA_OP_EQUAL] = GPUD_CU_GT,
		[EIA_OP_LESS_OR_EQUAL - EIA_OP_EQUAL] = GPUD_CU_LE,
		[EIA_OP_GREATER_OR_EQUAL - EIA_OP_EQUAL] = GPUD_CU_GE,
		[EIA_OP_AND - EIA_OP_EQUAL] = GPUD_CU_AND,
		[EIA_OP_OR - EIA_OP_EQUAL] = GPUD_CU_OR,
		[EIA_OP_XOR - EIA_OP_EQUAL] = GPUD_CU_XOR,
	};
	CUdeviceptr a = dptr(&in[0]), b = dptr(&in[1]), c = dptr(y);
	int code = codes[op - EIA_OP_EQUAL], dtype = (int)in[0].dtype;
	struct gpud_cu_walk w;
	void *args[] = { &a, &b, &c, &w, &code, &dtype };

	walk_init(&w, y, 3);
	walk_bcast(&in[0], w.ndim, w.stride[0]);
	walk_bcast(&in[1], w.ndim, w.stride[1]);
	dense_strides(y, w.stride[2]);
	walk_simplify(&w);
	return gpud_cu_launch(cu, q, cu->k.eia_compare, w.n, args, eia_op_name(op));
}

static int logic_not(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *x,
		     const struct eia_tensor *y)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	int64_t n = count(y);
	void *args[] = { &xp, &yp, &n };

	return gpud_cu_launch(cu, q, cu->k.eia_not, n, args, "Not");
}

/* ArgMax, ArgMin (@op) and CumSum: the lanes along one axis. */
static int axis_op(struct gpud_cu *cu, struct gpud_queue *q, uint32_t op, const void *attr,
		   const struct eia_tensor *x, const struct eia_tensor *y)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	int64_t outer = 1, len, inner = 1, axis_attr;
	int flag1, flag2;
	void *args[] = { &xp, &yp, &outer, &len, &inner, &flag1, &flag2 };
	uint32_t axis, d;
	CUfunction arg[] = {
		[EIA_DTYPE_F32] = cu->k.eia_arg_f32, [EIA_DTYPE_F16] = cu->k.eia_arg_f16,
		[EIA_DTYPE_BF16] = cu->k.eia_arg_bf16, [EIA_DTYPE_I64] = cu->k.eia_arg_i64,
		[EIA_DTYPE_I32] = cu->k.eia_arg_i32,
	};
	CUfunction sum[] = {
		[EIA_DTYPE_F32] = cu->k.eia_cumsum_f32, [EIA_DTYPE_F16] = cu->k.eia_cumsum_f16,
		[EIA_DTYPE_BF16] = cu->k.eia_cumsum_bf16, [EIA_DTYPE_I64] = cu->k.eia_cumsum_i64,
		[EIA_DTYPE_I32] = cu->k.eia_cumsum_i32,
	};

	if (op == EIA_OP_CUMSUM) {
		const struct eia_cumsum_attr *a = attr;

		axis_attr = a->axis;
		flag1 = (int)a->exclusive;
		flag2 = (int)a->reverse;
	} else {
		const struct eia_arg_attr *a = attr;

		axis_attr = a->axis;
		flag1 = op == EIA_OP_ARGMAX;
		flag2 = (int)a->select_last_index;
	}
	axis = axis_of(axis_attr, x->ndim);
	len = x->dims[axis];
	for (d = 0; d < axis; d++)
		outer *= x->dims[d];
	for (d = axis + 1; d < x->ndim; d++)
		inner *= x->dims[d];
	return gpud_cu_launch(cu, q, op == EIA_OP_CUMSUM ? sum[x->dtype] : arg[x->dtype],
			      outer * inner, args, eia_op_name(op));
}

static int tile(struct gpud_cu *cu, struct gpud_queue *q, const struct eia_tensor *x,
		const struct eia_tensor *y)
{
	CUdeviceptr xp = dptr(x), yp = dptr(y);
	static const size_t col[] = { [1] = 0, [2] = 1, [4] = 2, [8] = 3 };
	CUfunction f[] = { cu->k.eia_tile_e1, cu->k.eia_tile_e2, cu->k.eia_tile_e4,
			   cu->k.eia_tile_e8 };
	struct gpud_cu_tile t;
	void *args[] = { &xp, &yp, &t };

	memset(&t, 0, sizeof(t));
	t.ndim = (int32_t)x->ndim;
	t.n = count(y);
	memcpy(t.in, x->dims, x->ndim * sizeof(t.in[0]));
	memcpy(t.out, y->dims, y->ndim * sizeof(t.out[0]));
	return gpud_cu_launch(cu, q, f[col[eia_dtype_size(x->dtype)]], t.n, args, "Tile");
}

int gpud_cu_run_op(struct gpud_engine *eng, struct gpud_queue *q, uint32_t op,
		   const void *attr, size_t attr_size,
		   const struct eia_tensor *in, unsigned int n_in,
		   const struct eia_tensor *out, unsigned int n_out)
{
	struct gpud_cu *cu = eng->priv;
	int ret = check(op, attr, attr_size, in, n_in, out, n_out);

	if (!ret)
		ret = gpud_cu_enter(cu);
	if (ret)
		return ret;
	switch (op) {
	case EIA_OP_GEMM:
		return gemm(cu, q, attr, in, n_in, out);
	case EIA_OP_MATMUL:
		return matmul(cu, q, in, out);
	case EIA_OP_ADD: case EIA_OP_SUB: case EIA_OP_MUL: case EIA_OP_DIV: case EIA_OP_POW:
	case EIA_OP_MIN: case EIA_OP_MAX:
		return binary(cu, q, op, in, out);
	case EIA_OP_RELU: case EIA_OP_GELU: case EIA_OP_ERF: case EIA_OP_TANH:
	case EIA_OP_SIGMOID: case EIA_OP_EXP: case EIA_OP_SQRT: case EIA_OP_NEG:
	case EIA_OP_ABS: case EIA_OP_RECIPROCAL: case EIA_OP_LOG: case EIA_OP_SIN:
	case EIA_OP_COS: case EIA_OP_FLOOR: case EIA_OP_CEIL: case EIA_OP_SIGN:
	case EIA_OP_LEAKY_RELU: case EIA_OP_HARD_SIGMOID: case EIA_OP_HARD_SWISH:
	case EIA_OP_ELU: case EIA_OP_SOFTPLUS:
		return unary(cu, q, op, attr, in, out);
	case EIA_OP_SOFTMAX:
	case EIA_OP_LOG_SOFTMAX:
		return softmax(cu, q, op, attr, in, out);
	case EIA_OP_TRANSPOSE:
		return transpose(cu, q, attr, in, out);
	case EIA_OP_WHERE:
		return where(cu, q, in, out);
	case EIA_OP_CONCAT:
		return parts(cu, q, out, in, n_in,
			     axis_of(((const struct eia_axis_attr *)attr)->axis, out->ndim),
			     true);
	case EIA_OP_SPLIT:
		return parts(cu, q, in, out, n_out,
			     axis_of(((const struct eia_split_attr *)attr)->axis, in->ndim),
			     false);
	case EIA_OP_SLICE:
		return slice(cu, q, attr, in, out);
	case EIA_OP_CONV2D:
		return conv2d(cu, q, attr, in, n_in, out);
	case EIA_OP_CONV3D:
		return conv3d(cu, q, attr, in, n_in, out);
	case EIA_OP_ARGMAX: case EIA_OP_ARGMIN: case EIA_OP_CUMSUM:
		return axis_op(cu, q, op, attr, in, out);
	case EIA_OP_TILE:
		return tile(cu, q, in, out);
	case EIA_OP_MAXPOOL3D:
	case EIA_OP_AVGPOOL3D:
		return pool3d(cu, q, attr, in, out, op == EIA_OP_AVGPOOL3D);
	case EIA_OP_RESIZE:
		return resize(cu, q, attr, in, out);
	case EIA_OP_CONV_TRANSPOSE:
		return conv_transpose(cu, q, attr, in, n_in, out);
	case EIA_OP_MAXPOOL2D:
	case EIA_OP_AVGPOOL2D:
		return pool2d(cu, q, attr, in, out, op == EIA_OP_AVGPOOL2D);
	case EIA_OP_GLOBAL_AVGPOOL:
		return gavgpool(cu, q, in, out);
	case EIA_OP_LAYERNORM:
		return layernorm(cu, q, attr, in, n_in, out);
	case EIA_OP_REDUCE_MEAN: case EIA_OP_REDUCE_SUM: case EIA_OP_REDUCE_MAX:
	case EIA_OP_REDUCE_MIN: case EIA_OP_REDUCE_PROD: case EIA_OP_REDUCE_L1:
	case EIA_OP_REDUCE_L2: case EIA_OP_REDUCE_SUM_SQUARE: case EIA_OP_REDUCE_LOG_SUM:
	case EIA_OP_REDUCE_LOG_SUM_EXP:
		return reduce(cu, q, op, attr, in, out);
	case EIA_OP_GATHER:
		return gather(cu, q, attr, in, out);
	case EIA_OP_CAST:
		return cast(cu, q, in, out);
	case EIA_OP_CLIP:
		return clip(cu, q, in, out);
	case EIA_OP_EQUAL: case EIA_OP_LESS: case EIA_OP_GREATER: case EIA_OP_LESS_OR_EQUAL:
	case EIA_OP_GREATER_OR_EQUAL: case EIA_OP_AND: case EIA_OP_OR: case EIA_OP_XOR:
		return compare(cu, q, op, in, out);
	case EIA_OP_NOT:
		return logic_not(cu, q, in, out);
	}
	gpud_err("cuda: operator %s is not implemented on the CUDA backend", eia_op_name(op));
	return -EOPNOTSUPP;
}
