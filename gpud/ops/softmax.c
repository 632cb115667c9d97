// SPDX-License-Identifier: MIT
/*
 * Softmax and LogSoftmax (opset 13: along one axis) with the row maximum
 * subtracted before exp() so that large inputs do not overflow.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>

#include "f16.h"
#include "internal.h"

struct softmax_job {
	const void *x;
	void *y;
	uint32_t dtype;
	bool log;		/* LogSoftmax */
	int64_t len, inner;	/* axis length; elements after the axis */
};

static float row_max(const struct softmax_job *j, int64_t base)
{
	float max = -INFINITY;

	for (int64_t i = 0; i < j->len; i++) {
		float v = load_f(j->x, j->dtype, base + i * j->inner);

		max = v > max ? v : max;
	}
	return max;
}

/*
 * fp32 keeps exp(x - max) in Y and scales it; fp16 recomputes the
 * exponentials rather than round them to half precision in between.
 */
static void row_softmax(const struct softmax_job *j, int64_t base)
{
	float max = row_max(j, base);
	double sum = 0.0;
	float inv;

	if (j->log) {
		float lse;

		/* x - max - log(sum(exp(x - max))) */
		for (int64_t i = 0; i < j->len; i++)
			sum += expf(load_f(j->x, j->dtype, base + i * j->inner) - max);
		lse = (float)log(sum);
		for (int64_t i = 0; i < j->len; i++) {
			int64_t k = base + i * j->inner;

			store_f(j->y, j->dtype, k, load_f(j->x, j->dtype, k) - max - lse);
		}
		return;
	}
	if (j->dtype == EIA_DTYPE_F32) {
		const float *x = j->x;
		float *y = j->y;

		for (int64_t i = 0; i < j->len; i++) {
			int64_t k = base + i * j->inner;

			y[k] = expf(x[k] - max);
			sum += y[k];
		}
		inv = (float)(1.0 / sum);
		for (int64_t i = 0; i < j->len; i++)
			y[base + i * j->inner] *= inv;
		return;
	}
	for (int64_t i = 0; i < j->len; i++)
		sum += expf(load_f(j->x, j->dtype, base + i * j->inner) - max);
	inv = (float)(1.0 / sum);
	for (int64_t i = 0; i < j->len; i++) {
		int64_t k = base + i * j->inner;

		store_f(j->y, j->dtype, k,
			expf(load_f(j->x, j->dtype, k) - max) * inv);
	}
}

/* Rows are numbered over (outer, inner); a row's elements are inner apart. */
static int softmax_range(void *arg, int64_t begin, int64_t end,
			 unsigned int worker)
{
	const struct softmax_job *j = arg;

	(void)worker;
	for (int64_t r = begin; r < end; r++)
		row_softmax(j, r / j->inner * j->len * j->inner + r % j->inner);
	return 0;
}

int softmax_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_axis_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	uint32_t axis;

	if (!is_float_dtype(x->dtype) || norm_axis(attr->axis, x->ndim, &axis))
		return -EINVAL;
	set_shape(out, x->dtype, x->ndim, x->dims);
	return 0;
}

int softmax_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_axis_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct softmax_job j = {
		.x = x->data, .y = c->out[0].data, .dtype = x->dtype,
		.log = c->op == EIA_OP_LOG_SOFTMAX,
	};
	uint32_t axis;
	int64_t outer;

	norm_axis(attr->axis, x->ndim, &axis);
	outer = shape_count(axis, x->dims);
	j.len = x->dims[axis];
	j.inner = shape_count(x->ndim - axis - 1, &x->dims[axis + 1]);
	if (!j.len)
		return 0;
	return pool_for(pool, outer * j.inner, 1 + (1 << 13) / j.len,
			softmax_range, &j);
}
