// SPDX-License-Identifier: MIT
/*
 * The reductions (opset 18 semantics; opset 13's axes attribute maps onto
 * them): ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd,
 * ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum and ReduceLogSumExp.
 * Each output element accumulates its reduced sub-tensor, walking it with
 * the strided iterator so that contiguous reduced dimensions form long
 * runs: floats in double, integers in 64 bits (wrapping, as numpy's
 * integer sums do).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "f16.h"
#include "internal.h"

/* The input's dims split into kept and reduced ones, with their strides. */
struct reduce_plan {
	bool noop;
	bool reduced[EIA_MAX_DIMS];
	uint32_t ndim;		/* output rank */
	int64_t dims[EIA_MAX_DIMS];
};

static int reduce_plan(const struct eia_reduce_attr *attr,
		       const struct eia_tensor *x, struct reduce_plan *p)
{
	memset(p, 0, sizeof(*p));
	if (attr->reserved || attr->keepdims > 1 ||
	    attr->noop_with_empty_axes > 1 || attr->n_axes > x->ndim ||
	    !all_zero(&attr->axes[attr->n_axes], EIA_MAX_DIMS - attr->n_axes))
		return -EINVAL;
	for (uint32_t i = 0; i < attr->n_axes; i++) {
		uint32_t a;

		if (norm_axis(attr->axes[i], x->ndim, &a) || p->reduced[a])
			return -EINVAL;
		p->reduced[a] = true;
	}
	if (!attr->n_axes) {
		p->noop = attr->noop_with_empty_axes;
		for (uint32_t i = 0; i < x->ndim; i++)
			p->reduced[i] = !p->noop;
	}
	for (uint32_t i = 0; i < x->ndim; i++) {
		if (!p->reduced[i])
			p->dims[p->ndim++] = x->dims[i];
		else if (attr->keepdims)
			p->dims[p->ndim++] = 1;
	}
	return 0;
}

/* Reductions that also take I64 and I32 (the others are float only). */
static bool reduce_takes_int(uint32_t op)
{
	switch (op) {
	case EIA_OP_REDUCE_SUM:
	case EIA_OP_REDUCE_MAX:
	case EIA_OP_REDUCE_MIN:
	case EIA_OP_REDUCE_PROD:
	case EIA_OP_REDUCE_L1:
	case EIA_OP_REDUCE_SUM_SQUARE:
		return true;
	}
	return false;
}

int reduce_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	struct reduce_plan p;
	int ret;

	if (!is_float_dtype(x->dtype) &&
	    (!reduce_takes_int(c->op) ||
	     (x->dtype != EIA_DTYPE_I64 && x->dtype != EIA_DTYPE_I32)))
		return -EINVAL;
	ret = reduce_plan(c->attr, x, &p);
	if (ret)
		return ret;
	set_shape(out, x->dtype, p.ndim, p.dims);
	return 0;
}

struct reduce_job {
	const void *x;
	void *y;
	uint32_t op, dtype;
	/* Kept dims (output order) and the reduced sub-tensor's walk. */
	uint32_t kndim;
	int64_t kdims[EIA_MAX_DIMS], kstrides[EIA_MAX_DIMS];
	struct nd_iter red;
	int64_t count;
};

/*
 * One output element's accumulator. @op is the job's, except in the first
 * pass of ReduceLogSumExp, which finds the maximum (@max) first.
 */
struct acc {
	const struct reduce_job *j;
	uint32_t op;
	int64_t base;
	double d, max;
	uint64_t u;	/* integer sums and products, wrapping */
	int64_t i;	/* integer maximum or minimum */
};

static void float_span(struct acc *a, int64_t o, int64_t n, int64_t s)
{
	const struct reduce_job *j = a->j;

	for (int64_t k = 0; k < n; k++) {
		double v = load_f(j->x, j->dtype, o + k * s);

		switch (a->op) {
		case EIA_OP_REDUCE_MAX:
			/* NaN wins, and stays: numpy's max. */
			if (v > a->d || v != v)
				a->d = v;
			break;
		case EIA_OP_REDUCE_MIN:
			if (v < a->d || v != v)
				a->d = v;
			break;
		case EIA_OP_REDUCE_PROD:
			a->d *= v;
			break;
		case EIA_OP_REDUCE_L1:
			a->d += fabs(v);
			break;
		case EIA_OP_REDUCE_L2:
		case EIA_OP_REDUCE_SUM_SQUARE:
			a->d += v * v;
			break;
		case EIA_OP_REDUCE_LOG_SUM_EXP:
			a->d += exp(v - a->max);
			break;
		default:	/* Mean, Sum, LogSum */
			a->d += v;
		}
	}
}

static int64_t load_int(const struct reduce_job *j, int64_t i)
{
	return j->dtype == EIA_DTYPE_I64 ? ((const int64_t *)j->x)[i] :
					   ((const int32_t *)j->x)[i];
}

static void int_span(struct acc *a, int64_t o, int64_t n, int64_t s)
{
	const struct reduce_job *j = a->j;

	for (int64_t k = 0; k < n; k++) {
		int64_t v = load_int(j, o + k * s);

		switch (a->op) {
		case EIA_OP_REDUCE_MAX:
			a->i = v > a->i ? v : a->i;
			break;
		case EIA_OP_REDUCE_MIN:
			a->i = v < a->i ? v : a->i;
			break;
		case EIA_OP_REDUCE_PROD:
			a->u *= (uint64_t)v;
			break;
		case EIA_OP_REDUCE_L1:
			a->u += v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
			break;
		case EIA_OP_REDUCE_SUM_SQUARE:
			a->u += (uint64_t)v * (uint64_t)v;
			break;
		default:	/* Sum */
			a->u += (uint64_t)v;
		}
	}
}

static void acc_span(void *arg, const int64_t *offs, int64_t n,
		     const int64_t *st)
{
	struct acc *a = arg;

	if (is_float_dtype(a->j->dtype))
		float_span(a, a->base + offs[0], n, st[0]);
	else
		int_span(a, a->base + offs[0], n, st[0]);
}

/* The value of a reduction over nothing, where the accumulation starts. */
static void acc_start(struct acc *a, uint32_t op)
{
	bool i64 = a->j->dtype == EIA_DTYPE_I64;

	a->op = op;
	a->d = 0.0;
	a->u = 0;
	switch (op) {
	case EIA_OP_REDUCE_MAX:
		a->d = -INFINITY;
		a->i = i64 ? INT64_MIN : INT32_MIN;
		break;
	case EIA_OP_REDUCE_MIN:
		a->d = INFINITY;
		a->i = i64 ? INT64_MAX : INT32_MAX;
		break;
	case EIA_OP_REDUCE_PROD:
		a->d = 1.0;
		a->u = 1;
		break;
	}
}

static double float_result(const struct acc *a, int64_t count)
{
	switch (a->op) {
	case EIA_OP_REDUCE_MEAN:
		return a->d / (double)count;	/* 0 / 0: NaN, numpy's mean */
	case EIA_OP_REDUCE_L2:
		return sqrt(a->d);
	case EIA_OP_REDUCE_LOG_SUM:
		return log(a->d);
	case EIA_OP_REDUCE_LOG_SUM_EXP:
		/* An infinite or NaN maximum (or none: -inf) is the result. */
		return isfinite(a->max) ? a->max + log(a->d) : a->max;
	}
	return a->d;
}

static void reduce_one(const struct reduce_job *j, int64_t o, int64_t base)
{
	struct acc a = { .j = j, .base = base };

	if (j->op == EIA_OP_REDUCE_LOG_SUM_EXP) {
		acc_start(&a, EIA_OP_REDUCE_MAX);
		nd_iter_range(&j->red, 0, j->count, acc_span, &a);
		a.max = a.d;
	}
	acc_start(&a, j->op);
	if (j->op != EIA_OP_REDUCE_LOG_SUM_EXP || isfinite(a.max))
		nd_iter_range(&j->red, 0, j->count, acc_span, &a);
	switch (j->dtype) {
	case EIA_DTYPE_I64:
		((int64_t *)j->y)[o] = j->op == EIA_OP_REDUCE_MAX ||
				       j->op == EIA_OP_REDUCE_MIN ? a.i : (int64_t)a.u;
		break;
	case EIA_DTYPE_I32:
		((int32_t *)j->y)[o] = j->op == EIA_OP_REDUCE_MAX ||
				       j->op == EIA_OP_REDUCE_MIN ?
				       (int32_t)a.i : (int32_t)(uint32_t)a.u;
		break;
	default:
		store_f(j->y, j->dtype, o, (float)float_result(&a, j->count));
	}
}

static int reduce_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	const struct reduce_job *j = arg;

	(void)worker;
	for (int64_t o = begin; o < end; o++) {
		int64_t base = 0, rest = o;

		for (uint32_t i = j->kndim; i-- > 0;) {
			base += rest % j->kdims[i] * j->kstrides[i];
			rest /= j->kdims[i];
		}
		reduce_one(j, o, base);
	}
	return 0;
}

int reduce_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0], *y = &c->out[0];
	struct reduce_job j = {
		.x = x->data, .y = y->data, .op = c->op, .dtype = x->dtype,
	};
	int64_t strides[EIA_MAX_DIMS], rdims[EIA_MAX_DIMS];
	int64_t rstrides[1][EIA_MAX_DIMS];
	uint32_t rndim = 0;
	struct reduce_plan p;

	reduce_plan(c->attr, x, &p);
	contig_strides(x->ndim, x->dims, strides);
	if (p.noop)		/* noop_with_empty_axes: Y is X */
		return strided_copy(pool, eia_dtype_size(x->dtype), x->ndim,
				    x->dims, x->data, strides, y->data);
	for (uint32_t i = 0; i < x->ndim; i++) {
		if (p.reduced[i]) {
			rdims[rndim] = x->dims[i];
			rstrides[0][rndim++] = strides[i];
		} else {
			j.kdims[j.kndim] = x->dims[i];
			j.kstrides[j.kndim++] = strides[i];
		}
	}
	j.count = shape_count(rndim, rdims);
	nd_iter_init(&j.red, rndim, rdims, 1, rstrides);
	return pool_for(pool, tensor_count(y),
			1 + (1 << 14) / (j.count ? j.count : 1), reduce_range,
			&j);
}
