// SPDX-License-Identifier: MIT
/*
 * LayerNormalization (opset 17): each row X[outer, :] over the dimensions
 * from axis on is normalised with its mean and variance (accumulated in
 * double), then scaled and shifted by Scale and B broadcast to that shape.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "f16.h"
#include "internal.h"

struct ln_job {
	const void *x;
	void *y;
	uint32_t dtype;
	int64_t d;		/* row length */
	float epsilon;
	const float *scale, *bias;	/* expanded to d floats; bias may be NULL */
};

static int ln_range(void *arg, int64_t begin, int64_t end, unsigned int worker)
{
	const struct ln_job *j = arg;

	(void)worker;
	for (int64_t r = begin; r < end; r++) {
		int64_t base = r * j->d;
		double mean = 0.0, var = 0.0;
		float inv;

		for (int64_t i = 0; i < j->d; i++)
			mean += load_f(j->x, j->dtype, base + i);
		mean /= (double)j->d;
		for (int64_t i = 0; i < j->d; i++) {
			double t = load_f(j->x, j->dtype, base + i) - mean;

			var += t * t;
		}
		var /= (double)j->d;
		inv = (float)(1.0 / sqrt(var + j->epsilon));
		for (int64_t i = 0; i < j->d; i++) {
			float v = ((float)(load_f(j->x, j->dtype, base + i) - mean)) *
				  inv * j->scale[i];

			if (j->bias)
				v += j->bias[i];
			store_f(j->y, j->dtype, base + i, v);
		}
	}
	return 0;
}

int layernorm_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_layernorm_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	uint32_t axis;

	if (attr->reserved || !is_float_dtype(x->dtype) ||
	    norm_axis(attr->axis, x->ndim, &axis))
		return -EINVAL;
	for (unsigned int i = 1; i < c->n_in; i++)
		if (c->in[i].dtype != x->dtype ||
		    !bcast_to_ok(&c->in[i], x->ndim - axis, &x->dims[axis]))
			return -EINVAL;
	set_shape(out, x->dtype, x->ndim, x->dims);
	return 0;
}

int layernorm_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_layernorm_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct ln_job j = {
		.x = x->data, .y = c->out[0].data, .dtype = x->dtype,
		.epsilon = attr->epsilon,
	};
	uint32_t axis, nd;
	float *params;
	int ret;

	norm_axis(attr->axis, x->ndim, &axis);
	nd = x->ndim - axis;
	j.d = shape_count(nd, &x->dims[axis]);
	if (!j.d || !tensor_count(x))
		return 0;
	params = (uint64_t)j.d > SIZE_MAX / 2 / sizeof(float) ? NULL :
		 malloc((size_t)j.d * 2 * sizeof(float));
	if (!params)
		return -ENOMEM;
	j.scale = params;
	ret = expand_f32(pool, &c->in[1], nd, &x->dims[axis], 1.0f, params);
	if (!ret && c->n_in == 3) {
		j.bias = params + j.d;
		ret = expand_f32(pool, &c->in[2], nd, &x->dims[axis], 1.0f,
				 params + j.d);
	}
	if (!ret)
		ret = pool_for(pool, tensor_count(x) / j.d, 1 + (1 << 14) / j.d,
			       ln_range, &j);
	free(params);
	return ret;
}
