// SPDX-License-Identifier: MIT
/*
 * MaxPool and AveragePool (2-D, NCHW) by direct loops over the taps of each
 * window that fall inside the input, and GlobalAveragePool (any rank >= 3).
 */
#include <errno.h>
#include <math.h>

#include "f16.h"
#include "internal.h"

struct pool_job {
	const void *x;
	void *y;
	uint32_t dtype;
	bool max, count_pad;
	struct win_axis win[2];
	int64_t h, w;
};

int pool2d_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_pool2d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct win_axis win[2];
	int64_t dims[4];
	int ret;

	if (attr->reserved || attr->ceil_mode > 1 || attr->count_include_pad > 1 ||
	    (c->op == EIA_OP_MAXPOOL2D && attr->count_include_pad))
		return -EINVAL;
	if (!is_float_dtype(x->dtype) || x->ndim != 4)
		return -EINVAL;
	ret = win_setup(attr->kernel, attr->strides, attr->dilations,
			attr->pads, attr->auto_pad, attr->ceil_mode,
			&x->dims[2], win);
	if (ret)
		return ret;
	/*
	 * Every window must hold an input element: pads shorter than the
	 * dilated kernel, and taps no further apart than the input is long.
	 */
	for (int i = 0; i < 2; i++) {
		int64_t ek = (win[i].k - 1) * win[i].d + 1;

		if (win[i].pb >= ek || win[i].pe >= ek || win[i].in < win[i].d)
			return -EINVAL;
	}
	dims[0] = x->dims[0];
	dims[1] = x->dims[1];
	dims[2] = win[0].out;
	dims[3] = win[1].out;
	set_shape(out, x->dtype, 4, dims);
	return 0;
}

static float pool_window(const struct pool_job *j, const void *plane,
			 int64_t oh, int64_t ow)
{
	const struct win_axis *wh = &j->win[0], *ww = &j->win[1];
	int64_t hlo, hhi, wlo, whi, count;
	float m = -INFINITY;
	double sum = 0.0;

	win_taps(wh, oh, 0, j->h, &hlo, &hhi);
	win_taps(ww, ow, 0, j->w, &wlo, &whi);
	for (int64_t i = hlo; i < hhi; i++) {
		int64_t row = (oh * wh->s - wh->pb + i * wh->d) * j->w;

		for (int64_t k = wlo; k < whi; k++) {
			float v = load_f(plane, j->dtype,
					 row + ow * ww->s - ww->pb + k * ww->d);

			if (j->max)
				m = v > m ? v : m;
			else
				sum += v;
		}
	}
	if (j->max)
		return m;
	if (j->count_pad) {
		/* Padding counts, but not the ceil_mode overhang past it. */
		win_taps(wh, oh, -wh->pb, j->h + wh->pe, &hlo, &hhi);
		win_taps(ww, ow, -ww->pb, j->w + ww->pe, &wlo, &whi);
	}
	count = (hhi - hlo) * (whi - wlo);
	return (float)(sum / (double)count);
}

/* One range of output rows, numbered over (n, c, oh). */
static int pool_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	const struct pool_job *j = arg;
	int64_t oh_n = j->win[0].out, ow_n = j->win[1].out;
	size_t esize = eia_dtype_size(j->dtype);

	(void)worker;
	for (int64_t r = begin; r < end; r++) {
		int64_t plane = r / oh_n, oh = r % oh_n;
		const char *src = (const char *)j->x +
				  (size_t)(plane * j->h * j->w) * esize;

		for (int64_t ow = 0; ow < ow_n; ow++)
			store_f(j->y, j->dtype, r * ow_n + ow,
				pool_window(j, src, oh, ow));
	}
	return 0;
}

int pool2d_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_pool2d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct pool_job j = {
		.x = x->data, .y = c->out[0].data, .dtype = x->dtype,
		.max = c->op == EIA_OP_MAXPOOL2D,
		.count_pad = attr->count_include_pad,
		.h = x->dims[2], .w = x->dims[3],
	};
	int64_t rows;

	win_setup(attr->kernel, attr->strides, attr->dilations, attr->pads,
		  attr->auto_pad, attr->ceil_mode, &x->dims[2], j.win);
	rows = x->dims[0] * x->dims[1] * j.win[0].out;
	return pool_for(pool, rows, 1 + (1 << 12) / j.win[1].out, pool_range,
			&j);
}

int global_avgpool_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	int64_t dims[EIA_MAX_DIMS];

	if (!is_float_dtype(x->dtype) || x->ndim < 3)
		return -EINVAL;
	dims[0] = x->dims[0];
	dims[1] = x->dims[1];
	for (uint32_t i = 2; i < x->ndim; i++) {
		if (!x->dims[i])	/* the mean of nothing */
			return -EINVAL;
		dims[i] = 1;
	}
	set_shape(out, x->dtype, x->ndim, dims);
	return 0;
}

struct gap_job {
	const void *x;
	void *y;
	uint32_t dtype;
	int64_t spatial;
};

static int gap_range(void *arg, int64_t begin, int64_t end,
		     unsigned int worker)
{
	const struct gap_job *j = arg;

	(void)worker;
	for (int64_t p = begin; p < end; p++) {
		double sum = 0.0;

		for (int64_t i = 0; i < j->spatial; i++)
			sum += load_f(j->x, j->dtype, p * j->spatial + i);
		store_f(j->y, j->dtype, p, (float)(sum / (double)j->spatial));
	}
	return 0;
}

int global_avgpool_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0];
	struct gap_job j = {
		.x = x->data, .y = c->out[0].data, .dtype = x->dtype,
		.spatial = shape_count(x->ndim - 2, &x->dims[2]),
	};

	return pool_for(pool, x->dims[0] * x->dims[1],
			1 + (1 << 15) / j.spatial, gap_range, &j);
}
