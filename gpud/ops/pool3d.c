// SPDX-License-Identifier: MIT
/*
 * MaxPool and AveragePool over three spatial dims (NCDHW) by direct loops
 * over the taps of each window that fall inside the input, with the
 * geometry and divisor rules of the 2-D pools (pool2d.c, window.c).
 */
#include <errno.h>
#include <math.h>

#include "f16.h"
#include "internal.h"

int pool3d_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_pool3d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct win_axis win[3];
	int64_t dims[5];
	int ret;

	if (attr->reserved || attr->ceil_mode > 1 || attr->count_include_pad > 1 ||
	    (c->op == EIA_OP_MAXPOOL3D && attr->count_include_pad))
		return -EINVAL;
	if (!is_float_dtype(x->dtype) || x->ndim != 5)
		return -EINVAL;
	ret = win_setup_n(3, attr->kernel, attr->strides, attr->dilations,
			  attr->pads, attr->auto_pad, attr->ceil_mode,
			  &x->dims[2], win);
	if (ret)
		return ret;
	/* Every window must hold an input element, as in 2-D. */
	for (int i = 0; i < 3; i++) {
		int64_t ek = (win[i].k - 1) * win[i].d + 1;

		if (win[i].pb >= ek || win[i].pe >= ek || win[i].in < win[i].d)
			return -EINVAL;
		dims[2 + i] = win[i].out;
	}
	dims[0] = x->dims[0];
	dims[1] = x->dims[1];
	set_shape(out, x->dtype, 5, dims);
	return 0;
}

struct pool3d_job {
	const void *x;
	void *y;
	uint32_t dtype;
	bool max, count_pad;
	struct win_axis win[3];
	int64_t plane;		/* input elements per (image, channel) */
	int64_t per;		/* output elements per (image, channel) */
};

static float pool3d_one(const struct pool3d_job *j, int64_t o)
{
	const struct win_axis *w = j->win;
	int64_t at[3] = { o % j->per / (w[1].out * w[2].out),
			  o % (w[1].out * w[2].out) / w[2].out, o % w[2].out };
	int64_t lo[3], hi[3], count = 1;
	const int64_t base = o / j->per * j->plane;
	float m = -INFINITY;
	double sum = 0.0;

	for (int a = 0; a < 3; a++)
		win_taps(&w[a], at[a], 0, w[a].in, &lo[a], &hi[a]);
	for (int64_t z = lo[0]; z < hi[0]; z++) {
		int64_t iz = at[0] * w[0].s - w[0].pb + z * w[0].d;

		for (int64_t y = lo[1]; y < hi[1]; y++) {
			int64_t iy = at[1] * w[1].s - w[1].pb + y * w[1].d;
			int64_t row = base + (iz * w[1].in + iy) * w[2].in;

			for (int64_t x = lo[2]; x < hi[2]; x++) {
				float v = load_f(j->x, j->dtype, row + at[2] * w[2].s -
						 w[2].pb + x * w[2].d);

				m = v > m ? v : m;	/* NaN never wins, as in 2-D */
				sum += v;
			}
		}
	}
	if (j->max)
		return m;
	for (int a = 0; a < 3; a++) {
		/* Padding counts, but not the ceil_mode overhang past it. */
		if (j->count_pad)
			win_taps(&w[a], at[a], -w[a].pb, w[a].in + w[a].pe,
				 &lo[a], &hi[a]);
		count *= hi[a] - lo[a];
	}
	return (float)(sum / (double)count);
}

static int pool3d_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	const struct pool3d_job *j = arg;

	(void)worker;
	for (int64_t o = begin; o < end; o++)
		store_f(j->y, j->dtype, o, pool3d_one(j, o));
	return 0;
}

int pool3d_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_pool3d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0], *y = &c->out[0];
	struct pool3d_job j = {
		.x = x->data, .y = y->data, .dtype = x->dtype,
		.max = c->op == EIA_OP_MAXPOOL3D,
		.count_pad = attr->count_include_pad,
		.plane = x->dims[2] * x->dims[3] * x->dims[4],
		.per = y->dims[2] * y->dims[3] * y->dims[4],
	};
	int64_t taps = 1;

	/* Taps per window for the grain, no more than it needs: no overflow. */
	for (int a = 0; a < 3 && taps < (1 << 14); a++)
		taps *= attr->kernel[a];
	win_setup_n(3, attr->kernel, attr->strides, attr->dilations,
		    attr->pads, attr->auto_pad, attr->ceil_mode, &x->dims[2],
		    j.win);
	return pool_for(pool, tensor_count(y), 1 + (1 << 14) / taps,
			pool3d_range, &j);
}
