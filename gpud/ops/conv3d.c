// SPDX-License-Identifier: MIT
/*
 * Conv over three spatial dims (NCDHW) by im2col + BLAS. A task is one
 * image, one group and one run of output positions: it unfolds the input
 * patches of those positions into its worker's scratch matrix (patch rows
 * by positions) and multiplies the group's filters by it. The window
 * geometry is Conv's (window.c), over three axes.
 */
#include <errno.h>
#include <limits.h>

#include "internal.h"

/* Scratch floats per worker: the unfolded patches of one task. */
#define CONV3D_SCRATCH (1 << 19)

int conv3d_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_conv3d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0], *w = &c->in[1];
	struct win_axis win[3];
	int64_t dims[5], pos;
	int ret;

	if (attr->reserved)
		return -EINVAL;
	ret = conv_check_operands(c, 5, attr->group);
	if (ret)
		return ret;
	if (!all_zero(attr->kernel, 3) &&
	    (attr->kernel[0] != w->dims[2] || attr->kernel[1] != w->dims[3] ||
	     attr->kernel[2] != w->dims[4]))
		return -EINVAL;
	ret = win_setup_n(3, &w->dims[2], attr->strides, attr->dilations,
			  attr->pads, attr->auto_pad, false, &x->dims[2], win);
	if (ret)
		return ret;
	/* BLAS indexes with int: filter rows, patch size, output positions. */
	if (w->dims[0] / attr->group > INT_MAX ||
	    w->dims[1] * w->dims[2] * w->dims[3] * w->dims[4] > INT_MAX ||
	    __builtin_mul_overflow(win[0].out, win[1].out, &pos) ||
	    __builtin_mul_overflow(pos, win[2].out, &pos) || pos > INT_MAX)
		return -EINVAL;
	dims[0] = x->dims[0];
	dims[1] = w->dims[0];
	for (int i = 0; i < 3; i++)
		dims[2 + i] = win[i].out;
	set_shape(out, x->dtype, 5, dims);
	return 0;
}

struct conv3d_job {
	struct eia_pool *pool;
	const float *x, *w, *bias;
	float *y;
	int64_t c, m, group, cg, mg;
	int64_t in[3];			/* input depth, height, width */
	struct win_axis win[3];
	int64_t kdim;			/* patch rows: cg * kd * kh * kw */
	int64_t positions;		/* output positions per channel */
	int64_t chunk, nchunks;		/* positions per task */
};

/* Unfold the patches of output positions [p0, p1) into col (kdim x n). */
static void im2col3(const struct conv3d_job *j, const float *x, int64_t p0,
		    int64_t p1, float *col)
{
	const struct win_axis *wz = &j->win[0], *wy = &j->win[1], *wx = &j->win[2];
	int64_t n = p1 - p0, plane = j->in[0] * j->in[1] * j->in[2];

	for (int64_t ci = 0; ci < j->cg; ci++) {
		const float *src = x + ci * plane;

		for (int64_t kz = 0; kz < wz->k; kz++)
		for (int64_t ky = 0; ky < wy->k; ky++)
		for (int64_t kx = 0; kx < wx->k; kx++, col += n) {
			for (int64_t p = p0; p < p1; p++) {
				int64_t ox = p % wx->out, oy = p / wx->out % wy->out;
				int64_t oz = p / wx->out / wy->out;
				int64_t iz = oz * wz->s - wz->pb + kz * wz->d;
				int64_t iy = oy * wy->s - wy->pb + ky * wy->d;
				int64_t ix = ox * wx->s - wx->pb + kx * wx->d;
				bool inside = iz >= 0 && iz < j->in[0] &&
					      iy >= 0 && iy < j->in[1] &&
					      ix >= 0 && ix < j->in[2];

				col[p - p0] = inside ?
					src[(iz * j->in[1] + iy) * j->in[2] + ix] : 0.0f;
			}
		}
	}
}

static int conv3d_task(void *arg, size_t task, unsigned int worker)
{
	const struct conv3d_job *j = arg;
	int64_t chunk = (int64_t)task % j->nchunks;
	int64_t ng = (int64_t)task / j->nchunks, g = ng % j->group, img = ng / j->group;
	int64_t p0 = chunk * j->chunk, p1 = p0 + j->chunk;
	const float *x = j->x + (img * j->c + g * j->cg) *
			 j->in[0] * j->in[1] * j->in[2];
	float *y = j->y + (img * j->m + g * j->mg) * j->positions;
	float *col;

	if (p1 > j->positions)
		p1 = j->positions;
	col = pool_scratch(j->pool, worker,
			   (size_t)(j->kdim * j->chunk) * sizeof(float));
	if (!col)
		return -ENOMEM;
	im2col3(j, x, p0, p1, col);
	blas_sgemm(false, false, j->mg, p1 - p0, j->kdim, 1.0f,
		   j->w + g * j->mg * j->kdim, j->kdim, col, p1 - p0, 0.0f,
		   y + p0, j->positions);
	if (j->bias) {
		for (int64_t r = 0; r < j->mg; r++) {
			float b = j->bias[g * j->mg + r];
			float *row = y + r * j->positions;

			for (int64_t p = p0; p < p1; p++)
				row[p] += b;
		}
	}
	return 0;
}

int conv3d_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_conv3d_attr *attr = c->attr;
	const struct eia_tensor *xt = &c->in[0], *wt = &c->in[1];
	const struct eia_tensor *yt = &c->out[0];
	struct fview x = { 0 }, w = { 0 }, b = { 0 }, y = { 0 };
	struct conv3d_job j = {
		.pool = pool, .c = xt->dims[1], .m = wt->dims[0],
		.group = attr->group, .cg = wt->dims[1],
		.in = { xt->dims[2], xt->dims[3], xt->dims[4] },
		.positions = yt->dims[2] * yt->dims[3] * yt->dims[4],
	};
	int ret;

	win_setup_n(3, &wt->dims[2], attr->strides, attr->dilations,
		    attr->pads, attr->auto_pad, false, &xt->dims[2], j.win);
	j.mg = j.m / j.group;
	j.kdim = j.cg * wt->dims[2] * wt->dims[3] * wt->dims[4];
	if (!xt->dims[0] || !j.mg || !j.positions)
		return 0;
	j.chunk = CONV3D_SCRATCH / j.kdim;
	if (j.chunk < 1)
		j.chunk = 1;
	if (j.chunk > j.positions)
		j.chunk = j.positions;
	j.nchunks = (j.positions + j.chunk - 1) / j.chunk;
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
	ret = eia_pool_run(pool, (size_t)(xt->dims[0] * j.group * j.nchunks),
			   conv3d_task, &j);
	if (!ret)
		ret = fview_commit(pool, yt, &y);
out:
	fview_free(&x);
	fview_free(&w);
	fview_free(&b);
	fview_free(&y);
	return ret;
}
