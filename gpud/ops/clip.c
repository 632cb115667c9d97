// SPDX-License-Identifier: MIT
/*
 * Clip (ONNX Clip-13): Y = min(max(X, Min), Max) for floats and integers,
 * Min and Max one element each (the model runner supplies the type's
 * extremes for a bound the model leaves out). A NaN in X stays NaN; when
 * Min > Max everything becomes Max, as the ONNX text says.
 */
#include <errno.h>

#include "f16.h"
#include "internal.h"

struct clip_job {
	const void *x;
	void *y;
	uint32_t dtype;
	float flo, fhi;
	int64_t ilo, ihi;
};

/* Comparisons are false for NaN, which stays; Max wins when Min > Max. */
static inline float clip_f(float v, float lo, float hi)
{
	v = v < lo ? lo : v;
	return v > hi ? hi : v;
}

static inline int64_t clip_i(int64_t v, int64_t lo, int64_t hi)
{
	v = v < lo ? lo : v;
	return v > hi ? hi : v;
}

static int clip_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	const struct clip_job *j = arg;

	(void)worker;
	switch (j->dtype) {
	case EIA_DTYPE_F32: {
		const float *x = j->x;
		float *y = j->y;

		for (int64_t i = begin; i < end; i++)
			y[i] = clip_f(x[i], j->flo, j->fhi);
		break;
	}
	case EIA_DTYPE_F16:
	case EIA_DTYPE_BF16:
		for (int64_t i = begin; i < end; i++) {
			float v = load_f(j->x, j->dtype, i);

			store_f(j->y, j->dtype, i, clip_f(v, j->flo, j->fhi));
		}
		break;
	case EIA_DTYPE_I64: {
		const int64_t *x = j->x;
		int64_t *y = j->y;

		for (int64_t i = begin; i < end; i++)
			y[i] = clip_i(x[i], j->ilo, j->ihi);
		break;
	}
	default: {
		const int32_t *x = j->x;
		int32_t *y = j->y;

		for (int64_t i = begin; i < end; i++)
			y[i] = (int32_t)clip_i(x[i], j->ilo, j->ihi);
		break;
	}
	}
	return 0;
}

int clip_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];

	if (x->dtype == EIA_DTYPE_BOOL)
		return -EINVAL;
	for (unsigned int k = 1; k < 3; k++)
		if (c->in[k].dtype != x->dtype || tensor_count(&c->in[k]) != 1)
			return -EINVAL;
	set_shape(out, x->dtype, x->ndim, x->dims);
	return 0;
}

int clip_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0], *lo = &c->in[1], *hi = &c->in[2];
	struct clip_job j = {
		.x = x->data, .y = c->out[0].data, .dtype = x->dtype,
	};

	switch (x->dtype) {
	case EIA_DTYPE_I64:
		j.ilo = *(const int64_t *)lo->data;
		j.ihi = *(const int64_t *)hi->data;
		break;
	case EIA_DTYPE_I32:
		j.ilo = *(const int32_t *)lo->data;
		j.ihi = *(const int32_t *)hi->data;
		break;
	default:
		j.flo = load_f(lo->data, lo->dtype, 0);
		j.fhi = load_f(hi->data, hi->dtype, 0);
	}
	return pool_for(pool, tensor_count(x), 1 << 15, clip_range, &j);
}
