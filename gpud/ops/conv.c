// SPDX-License-Identifier: MIT
/*
 * Conv (2-D, NCHW) as im2col + BLAS. A task is one batch image, one group and
 * one run of output positions: it unfolds the input patches of those
 * positions into its worker's scratch matrix and multiplies the group's
 * filters by it. 1x1 convolutions with unit stride and no padding skip the
 * unfolding and read the input in place.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Scratch floats per worker: the unfolded patches of one task. */
#define CONV_SCRATCH (1 << 19)

struct conv_job {
	const float *x, *w, *bias;
	float *y;
	int64_t c, h, wd;		/* input channels, height, width */
	int64_t m, group, cg, mg;	/* output channels; per group */
	struct win_axis win[2];
	int64_t kdim;			/* cg * kh * kw */
	int64_t ohw;
	int64_t chunk, nchunks;		/* output positions per task */
	bool direct;
	float **scratch;		/* per worker, kdim * chunk floats */
};

int conv2d_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_conv2d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0], *w = &c->in[1];
	struct win_axis win[2];
	int64_t dims[4], kernel[2], ohw;
	int ret;

	if (attr->reserved || !is_float_dtype(x->dtype) ||
	    w->dtype != x->dtype || x->ndim != 4 || w->ndim != 4)
		return -EINVAL;
	if (attr->group < 1 || attr->group > INT32_MAX ||
	    x->dims[1] % attr->group ||
	    x->dims[1] / attr->group != w->dims[1] ||
	    w->dims[0] % attr->group || !w->dims[1])
		return -EINVAL;
	if (c->n_in == 3 && (c->in[2].dtype != x->dtype ||
			     c->in[2].ndim != 1 || c->in[2].dims[0] != w->dims[0]))
		return -EINVAL;
	kernel[0] = w->dims[2];
	kernel[1] = w->dims[3];
	if ((attr->kernel[0] || attr->kernel[1]) &&
	    (attr->kernel[0] != kernel[0] || attr->kernel[1] != kernel[1]))
		return -EINVAL;
	ret = win_setup(kernel, attr->strides, attr->dilations, attr->pads,
			attr->auto_pad, false, &x->dims[2], win);
	if (ret)
		return ret;
	/*
	 * BLAS indexes with int: filter rows, patch size, input and output
	 * planes. W's and X's products are bounded by their checked shapes.
	 */
	if (w->dims[0] / attr->group > INT_MAX ||
	    w->dims[1] * kernel[0] * kernel[1] > INT_MAX ||
	    x->dims[2] * x->dims[3] > INT_MAX ||
	    __builtin_mul_overflow(win[0].out, win[1].out, &ohw) ||
	    ohw > INT_MAX)
		return -EINVAL;
	dims[0] = x->dims[0];
	dims[1] = w->dims[0];
	dims[2] = win[0].out;
	dims[3] = win[1].out;
	set_shape(out, x->dtype, 4, dims);
	return 0;
}

/* Unfold the patches of output positions [p0, p1) into col (kdim x n). */
static void im2col(const struct conv_job *j, const float *x, int64_t p0,
		   int64_t p1, float *col)
{
	const struct win_axis *wh = &j->win[0], *ww = &j->win[1];
	int64_t n = p1 - p0;

	for (int64_t ci = 0; ci < j->cg; ci++) {
		const float *plane = x + ci * j->h * j->wd;

		for (int64_t ki = 0; ki < wh->k; ki++) {
			for (int64_t kj = 0; kj < ww->k; kj++) {
				int64_t oh = p0 / ww->out, ow = p0 % ww->out;

				for (int64_t p = 0; p < n; p++) {
					int64_t ih = oh * wh->s - wh->pb + ki * wh->d;
					int64_t iw = ow * ww->s - ww->pb + kj * ww->d;

					col[p] = ih >= 0 && ih < j->h && iw >= 0 &&
						 iw < j->wd ?
						 plane[ih * j->wd + iw] : 0.0f;
					if (++ow == ww->out) {
						ow = 0;
						oh++;
					}
				}
				col += n;
			}
		}
	}
}

static int conv_task(void *arg, size_t task, unsigned int worker)
{
	struct conv_job *j = arg;
	int64_t chunk = (int64_t)task % j->nchunks;
	int64_t ng = (int64_t)task / j->nchunks;
	int64_t g = ng % j->group, n = ng / j->group;
	int64_t p0 = chunk * j->chunk, p1 = p0 + j->chunk;
	const float *x = j->x + (n * j->c + g * j->cg) * j->h * j->wd;
	float *y = j->y + (n * j->m + g * j->mg) * j->ohw;
	const float *col;
	int64_t ldb;

	if (p1 > j->ohw)
		p1 = j->ohw;
	if (j->direct) {
		col = x + p0;
		ldb = j->ohw;
	} else {
		/* Each worker allocates its own scratch, on first use. */
		if (!j->scratch[worker])
			j->scratch[worker] = malloc((size_t)(j->kdim * j->chunk) *
						    sizeof(float));
		if (!j->scratch[worker])
			return -ENOMEM;
		im2col(j, x, p0, p1, j->scratch[worker]);
		col = j->scratch[worker];
		ldb = p1 - p0;
	}
	blas_sgemm(false, false, j->mg, p1 - p0, j->kdim, 1.0f,
		   j->w + g * j->mg * j->kdim, j->kdim, col, ldb, 0.0f, y + p0,
		   j->ohw);
	if (j->bias) {
		for (int64_t mi = 0; mi < j->mg; mi++) {
			float b = j->bias[g * j->mg + mi];
			float *row = y + mi * j->ohw;

			for (int64_t p = p0; p < p1; p++)
				row[p] += b;
		}
	}
	return 0;
}

static int conv_plan(struct eia_pool *pool, struct conv_job *j)
{
	unsigned int nw = eia_pool_size(pool);

	j->chunk = CONV_SCRATCH / j->kdim;
	if (j->chunk < 1)
		j->chunk = 1;
	if (j->chunk > j->ohw)
		j->chunk = j->ohw;
	j->nchunks = (j->ohw + j->chunk - 1) / j->chunk;
	if (j->direct)
		return 0;
	j->scratch = calloc(nw, sizeof(*j->scratch));
	return j->scratch ? 0 : -ENOMEM;
}

static void conv_unplan(struct eia_pool *pool, struct conv_job *j)
{
	if (!j->scratch)
		return;
	for (unsigned int i = 0; i < eia_pool_size(pool); i++)
		free(j->scratch[i]);
	free(j->scratch);
}

int conv2d_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_conv2d_attr *attr = c->attr;
	const struct eia_tensor *xt = &c->in[0], *wt = &c->in[1];
	const struct eia_tensor *yt = &c->out[0];
	struct fview x = { 0 }, w = { 0 }, b = { 0 }, y = { 0 };
	struct conv_job j = {
		.c = xt->dims[1], .h = xt->dims[2], .wd = xt->dims[3],
		.m = wt->dims[0], .group = attr->group, .cg = wt->dims[1],
		.ohw = yt->dims[2] * yt->dims[3],
	};
	int64_t kernel[2] = { wt->dims[2], wt->dims[3] };
	int64_t tasks;
	int ret;

	win_setup(kernel, attr->strides, attr->dilations, attr->pads,
		  attr->auto_pad, false, &xt->dims[2], j.win);
	j.mg = j.m / j.group;
	j.kdim = j.cg * kernel[0] * kernel[1];
	j.direct = kernel[0] == 1 && kernel[1] == 1 && j.win[0].s == 1 &&
		   j.win[1].s == 1 && !j.win[0].pb && !j.win[0].pe &&
		   !j.win[1].pb && !j.win[1].pe;
	tasks = xt->dims[0] * j.group;
	if (!tasks || !j.mg || !j.ohw)
		return 0;
	ret = conv_plan(pool, &j);
	if (!ret)
		ret = fview_in(pool, xt, &x);
	if (!ret)
		ret = fview_in(pool, wt, &w);
	if (!ret && c->n_in == 3)
		ret = fview_in(pool, &c->in[2], &b);
	if (!ret)
		ret = fview_out(yt, &y);
	if (ret)
		goto out;
	j.x = x.p;
	j.w = w.p;
	j.bias = b.p;
	j.y = y.p;
	ret = eia_pool_run(pool, (size_t)(tasks * j.nchunks), conv_task, &j);
	if (!ret)
		ret = fview_commit(pool, yt, &y);
out:
	conv_unplan(pool, &j);
	fview_free(&x);
	fview_free(&w);
	fview_free(&b);
	fview_free(&y);
	return ret;
}
