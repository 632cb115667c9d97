// SPDX-License-Identifier: MIT
/*
 * ReduceMean (opset 18 semantics; opset 13's axes attribute maps onto it).
 * Each output element sums its reduced sub-tensor in double, walking it with
 * the strided iterator so that contiguous reduced dimensions form long runs.
 */
#include <errno.h>
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

int reduce_mean_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	struct reduce_plan p;
	int ret;

	if (!is_float_dtype(x->dtype))
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
	uint32_t dtype;
	/* Kept dims (output order) and the reduced sub-tensor's walk. */
	uint32_t kndim;
	int64_t kdims[EIA_MAX_DIMS], kstrides[EIA_MAX_DIMS];
	struct nd_iter red;
	int64_t count;
};

struct sum_ctx {
	const struct reduce_job *j;
	int64_t base;
	double sum;
};

static void sum_span(void *arg, const int64_t *offs, int64_t n,
		     const int64_t *st)
{
	struct sum_ctx *s = arg;
	const struct reduce_job *j = s->j;
	double sum = 0.0;

	for (int64_t i = 0; i < n; i++)
		sum += load_f(j->x, j->dtype, s->base + offs[0] + i * st[0]);
	s->sum += sum;
}

static int reduce_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	const struct reduce_job *j = arg;

	(void)worker;
	for (int64_t o = begin; o < end; o++) {
		struct sum_ctx s = { .j = j };
		int64_t rest = o;

		for (uint32_t i = j->kndim; i-- > 0;) {
			s.base += rest % j->kdims[i] * j->kstrides[i];
			rest /= j->kdims[i];
		}
		nd_iter_range(&j->red, 0, j->count, sum_span, &s);
		/* An empty reduction is 0 / 0: NaN, as numpy's mean gives. */
		store_f(j->y, j->dtype, o, (float)(s.sum / (double)j->count));
	}
	return 0;
}

int reduce_mean_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0], *y = &c->out[0];
	struct reduce_job j = {
		.x = x->data, .y = y->data, .dtype = x->dtype,
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
