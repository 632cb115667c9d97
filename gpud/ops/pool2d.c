// SPDX-License-Identifier: MIT
/*
 * MaxPool and AveragePool (2-D, NCHW) by direct loops over the taps of each
 * window that fall inside the input, and GlobalAveragePool (any rank >= 3).
 * fp32 MaxPool is separable and takes it: per output row, the maximum down
 * the kernel's rows, then across its columns, four lanes at a time.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "f16.h"
#include "internal.h"

struct pool_job {
	struct eia_pool *pool;
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

/* Taps [*lo, *hi) of output @o inside [0, in): O(1), the common case first. */
static void in_taps(const struct win_axis *w, int64_t o, int64_t *lo,
		    int64_t *hi)
{
	int64_t start = o * w->s - w->pb;

	if (start >= 0 && start + (w->k - 1) * w->d < w->in) {
		*lo = 0;
		*hi = w->k;
	} else {
		win_taps(w, o, 0, w->in, lo, hi);
	}
}

/* Window (oh, ow) over the taps [hlo, hhi) x [wlo, whi) inside the input. */
static float pool_window(const struct pool_job *j, const void *plane,
			 int64_t oh, int64_t ow, int64_t hlo, int64_t hhi,
			 int64_t wlo, int64_t whi)
{
	const struct win_axis *wh = &j->win[0], *ww = &j->win[1];
	int64_t count;
	float m = -INFINITY;
	double sum = 0.0;

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

/* Output range [*lo, *hi) whose windows lie wholly inside the input. */
static void inner_outputs(const struct win_axis *w, int64_t *lo, int64_t *hi)
{
	int64_t last = w->in - 1 - (w->k - 1) * w->d + w->pb;

	*lo = (w->pb + w->s - 1) / w->s;
	*hi = last >= 0 ? last / w->s + 1 : 0;
	if (*hi > w->out)
		*hi = w->out;
	if (*lo > w->out)
		*lo = w->out;
	if (*hi < *lo)
		*hi = *lo;
}

/*
 * Output row @oh of fp32 MaxPool over input rows taps [hlo, hhi), using
 * 2 * width floats of @tmp: the column maxima, then the window maxima at
 * every start inside the input.
 */
static void max_row_f32(const struct pool_job *j, const float *plane,
			int64_t oh, int64_t hlo, int64_t hhi, float *yrow,
			float *tmp)
{
	const struct win_axis *wh = &j->win[0], *ww = &j->win[1];
	float *col = tmp, *win = tmp + j->w;
	int64_t lo, hi, w = j->w, i;

	for (i = 0; i < w; i++)
		col[i] = -INFINITY;
	for (int64_t t = hlo; t < hhi; t++) {
		const float *row = plane + (oh * wh->s - wh->pb + t * wh->d) * w;

		for (i = 0; i + 4 <= w; i += 4) {
			v4f m, v;

			memcpy(&m, col + i, sizeof(m));
			memcpy(&v, row + i, sizeof(v));
			m = v4f_max(m, v);
			memcpy(col + i, &m, sizeof(m));
		}
		for (; i < w; i++)
			col[i] = row[i] > col[i] ? row[i] : col[i];
	}
	inner_outputs(ww, &lo, &hi);
	if (lo < hi) {
		int64_t i0 = lo * ww->s - ww->pb, i1 = (hi - 1) * ww->s - ww->pb + 1;

		for (i = i0; i < i1; i++)
			win[i] = -INFINITY;
		for (int64_t t = 0; t < ww->k; t++) {
			const float *c = col + t * ww->d;

			for (i = i0; i + 4 <= i1; i += 4) {
				v4f m, v;

				memcpy(&m, win + i, sizeof(m));
				memcpy(&v, c + i, sizeof(v));
				m = v4f_max(m, v);
				memcpy(win + i, &m, sizeof(m));
			}
			for (; i < i1; i++)
				win[i] = c[i] > win[i] ? c[i] : win[i];
		}
		for (int64_t ow = lo; ow < hi; ow++)
			yrow[ow] = win[ow * ww->s - ww->pb];
	}
	/* Windows cut by the padding. */
	for (int64_t ow = 0; ow < ww->out; ow++) {
		int64_t wlo, whi;
		float m = -INFINITY;

		if (ow >= lo && ow < hi)
			continue;
		win_taps(ww, ow, 0, w, &wlo, &whi);
		for (int64_t t = wlo; t < whi; t++) {
			float v = col[ow * ww->s - ww->pb + t * ww->d];

			m = v > m ? v : m;
		}
		yrow[ow] = m;
	}
}

/* One range of output rows, numbered over (n, c, oh). */
static int pool_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	const struct pool_job *j = arg;
	int64_t oh_n = j->win[0].out, ow_n = j->win[1].out;
	size_t esize = eia_dtype_size(j->dtype);
	float *tmp = NULL;

	if (j->max && j->dtype == EIA_DTYPE_F32) {
		tmp = pool_scratch(j->pool, worker, 2 * (size_t)j->w * sizeof(float));
		if (!tmp)
			return -ENOMEM;
	}
	for (int64_t r = begin; r < end; r++) {
		int64_t plane = r / oh_n, oh = r % oh_n, hlo, hhi;
		const char *src = (const char *)j->x +
				  (size_t)(plane * j->h * j->w) * esize;

		in_taps(&j->win[0], oh, &hlo, &hhi);
		if (tmp) {
			max_row_f32(j, (const float *)src, oh, hlo, hhi,
				    (float *)j->y + r * ow_n, tmp);
			continue;
		}
		for (int64_t ow = 0; ow < ow_n; ow++) {
			int64_t wlo, whi;

			in_taps(&j->win[1], ow, &wlo, &whi);
			store_f(j->y, j->dtype, r * ow_n + ow,
				pool_window(j, src, oh, ow, hlo, hhi, wlo, whi));
		}
	}
	return 0;
}

int pool2d_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_pool2d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct pool_job j = {
		.pool = pool, .x = x->data, .y = c->out[0].data,
		.dtype = x->dtype,
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
