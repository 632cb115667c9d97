// SPDX-License-Identifier: MIT
/*
 * Conv (2-D, NCHW), two ways.
 *
 * Where the CPU has AVX-512 (conv_avx512.c), the input is staged once per
 * call (conv.h) and the kernel reads the patches straight from it; a task is
 * a block of filters over a block of output positions of one image and
 * group. Otherwise, and for strides the staged layout does not take, im2col
 * + BLAS: a task is one image, one group and one run of output positions; it
 * unfolds the input patches of those positions into its worker's scratch
 * matrix and multiplies the group's filters by it. 1x1 convolutions with
 * unit stride and no padding skip the unfolding and read the input in place.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"

/* Scratch floats per worker: the unfolded patches of one task. */
#define CONV_SCRATCH (1 << 19)
/* Fewest filters a BLAS task is given when the filters are split. */
#define CONV_BLAS_MIN_ROWS 16
/* AVX-512 tasks: at most this many output positions, this many per worker. */
#define CONV_TASK_POSITIONS 192
#define CONV_TASKS_PER_WORKER 16

int conv_check_operands(const struct op_call *c, uint32_t ndim, int64_t group)
{
	const struct eia_tensor *x = &c->in[0], *w = &c->in[1];

	if (!is_float_dtype(x->dtype) || w->dtype != x->dtype || x->ndim != ndim ||
	    w->ndim != ndim)
		return -EINVAL;
	if (group < 1 || group > INT32_MAX || x->dims[1] % group ||
	    x->dims[1] / group != w->dims[1] || w->dims[0] % group || !w->dims[1])
		return -EINVAL;
	if (c->n_in == 3 && (c->in[2].dtype != x->dtype ||
			     c->in[2].ndim != 1 || c->in[2].dims[0] != w->dims[0]))
		return -EINVAL;
	return 0;
}

int conv2d_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_conv2d_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0], *w = &c->in[1];
	struct win_axis win[2];
	int64_t dims[4], kernel[2], ohw;
	int ret;

	if (attr->reserved)
		return -EINVAL;
	ret = conv_check_operands(c, 4, attr->group);
	if (ret)
		return ret;
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

/*
 * dst[t] = row[start + t * step] for t in [0, n), 0 where that index falls
 * outside [0, len) (padding); a NULL row is all padding.
 */
static void gather_row(float *dst, const float *row, int64_t len,
		       int64_t start, int64_t step, int64_t n)
{
	int64_t lo = 0, hi = 0;

	if (row) {
		/* The t whose index lands in [0, len), found in O(1). */
		lo = start >= 0 ? 0 : (-start + step - 1) / step;
		hi = len - start > 0 ? (len - start + step - 1) / step : 0;
		if (hi > n)
			hi = n;
		if (lo > hi)
			lo = hi;
	}
	memset(dst, 0, (size_t)lo * sizeof(float));
	if (step == 1 && hi > lo)
		memcpy(dst + lo, row + start + lo, (size_t)(hi - lo) * sizeof(float));
	else
		for (int64_t t = lo; t < hi; t++)
			dst[t] = row[start + t * step];
	memset(dst + hi, 0, (size_t)(n - hi) * sizeof(float));
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

				/* One run per output row the positions cross. */
				for (int64_t p = 0; p < n; oh++, ow = 0) {
					int64_t run = ww->out - ow < n - p ?
						      ww->out - ow : n - p;
					int64_t ih = oh * wh->s - wh->pb + ki * wh->d;

					gather_row(col + p, ih >= 0 && ih < j->h ?
						   plane + ih * j->wd : NULL,
						   j->wd, ow * ww->s - ww->pb + kj * ww->d,
						   ww->s, run);
					p += run;
				}
				col += n;
			}
		}
	}
}

static int blas_task(void *arg, size_t task, unsigned int worker)
{
	struct conv_job *j = arg;
	int64_t chunk = (int64_t)task % j->nchunks;
	int64_t mi = (int64_t)task / j->nchunks % j->mparts;
	int64_t ng = (int64_t)task / j->nchunks / j->mparts;
	int64_t g = ng % j->group, n = ng / j->group;
	int64_t p0 = chunk * j->chunk, p1 = p0 + j->chunk;
	int64_t m0 = mi * j->mblock, m1 = m0 + j->mblock;
	const float *x = j->x + (n * j->c + g * j->cg) * j->h * j->wd;
	float *y = j->y + (n * j->m + g * j->mg + m0) * j->ohw;
	const float *col;
	int64_t ldb;

	if (p1 > j->ohw)
		p1 = j->ohw;
	if (m1 > j->mg)
		m1 = j->mg;
	if (j->direct) {
		col = x + p0;
		ldb = j->ohw;
	} else {
		float *scratch = pool_scratch(j->pool, worker,
					      (size_t)(j->kdim * j->chunk) *
					      sizeof(float));

		if (!scratch)
			return -ENOMEM;
		im2col(j, x, p0, p1, scratch);
		col = scratch;
		ldb = p1 - p0;
	}
	blas_sgemm(false, false, m1 - m0, p1 - p0, j->kdim, 1.0f,
		   j->w + (g * j->mg + m0) * j->kdim, j->kdim, col, ldb, 0.0f,
		   y + p0, j->ohw);
	if (j->bias) {
		for (int64_t r = m0; r < m1; r++) {
			float b = j->bias[g * j->mg + r];
			float *row = y + (r - m0) * j->ohw;

			for (int64_t p = p0; p < p1; p++)
				row[p] += b;
		}
	}
	return 0;
}

/*
 * Runs of output positions that fit the scratch; when there are fewer
 * tasks than workers (small planes), the filters are split too, each part
 * unfolding the same patches for itself.
 */
static int conv_blas(struct eia_pool *pool, struct conv_job *j)
{
	int64_t nw = eia_pool_size(pool), most, tasks;

	j->pool = pool;
	j->direct = j->win[0].k == 1 && j->win[1].k == 1 && j->win[0].s == 1 &&
		    j->win[1].s == 1 && !j->win[0].pb && !j->win[0].pe &&
		    !j->win[1].pb && !j->win[1].pe;
	j->chunk = CONV_SCRATCH / j->kdim;
	if (j->chunk < 1)
		j->chunk = 1;
	if (j->chunk > j->ohw)
		j->chunk = j->ohw;
	j->nchunks = (j->ohw + j->chunk - 1) / j->chunk;
	tasks = j->n * j->group * j->nchunks;
	most = j->mg / CONV_BLAS_MIN_ROWS;
	j->mparts = tasks < nw ? (nw + tasks - 1) / tasks : 1;
	if (j->mparts > most)
		j->mparts = most > 1 ? most : 1;
	j->mblock = (j->mg + j->mparts - 1) / j->mparts;
	j->mparts = (j->mg + j->mblock - 1) / j->mblock;
	return eia_pool_run(pool, (size_t)(tasks * j->mparts), blas_task, j);
}

/* The stride phases one axis of the kernel touches, and the staged rows. */
struct stage_axis {
	int nph;
	int64_t phase[CONV_STAGE_MAX_STRIDE];	/* phase of each staged one */
	int idx[CONV_STAGE_MAX_STRIDE];		/* staged index of a phase */
	int64_t rows;				/* staged rows (or columns) */
};

static void stage_axis_setup(const struct win_axis *w, struct stage_axis *a)
{
	bool used[CONV_STAGE_MAX_STRIDE] = { false };

	/* Tap phases repeat with a period of at most the stride. */
	for (int64_t t = 0; t < w->k && t < w->s; t++)
		used[t * w->d % w->s] = true;
	a->nph = 0;
	for (int p = 0; p < w->s; p++) {
		if (!used[p])
			continue;
		a->idx[p] = a->nph;
		a->phase[a->nph++] = p;
	}
	a->rows = w->out + (w->k - 1) * w->d / w->s;
}

struct stage_job {
	const struct conv_job *j;
	struct stage_axis ax[2];
	float *dst;
};

/* Stage the planes [begin, end) of X, numbered over (image, channel). */
static int stage_range(void *arg, int64_t begin, int64_t end,
		       unsigned int worker)
{
	const struct stage_job *s = arg;
	const struct conv_job *j = s->j;
	const struct win_axis *wh = &j->win[0], *ww = &j->win[1];
	float *dst = s->dst + begin * s->ax[0].nph * s->ax[1].nph *
		     s->ax[0].rows * j->wq;

	(void)worker;
	for (int64_t pl = begin; pl < end; pl++) {
		const float *plane = j->x + pl * j->h * j->wd;

		for (int a = 0; a < s->ax[0].nph; a++) {
			for (int b = 0; b < s->ax[1].nph; b++) {
				for (int64_t i = 0; i < s->ax[0].rows; i++) {
					int64_t ih = i * wh->s + s->ax[0].phase[a] - wh->pb;

					gather_row(dst, ih >= 0 && ih < j->h ?
						   plane + ih * j->wd : NULL, j->wd,
						   s->ax[1].phase[b] - ww->pb, ww->s,
						   j->wq);
					dst += j->wq;
				}
			}
		}
	}
	return 0;
}

/*
 * Lay out the staged input (conv.h): offsets of the patch rows and the
 * staging job, @staged floats in all (0: X is read in place). -E2BIG when
 * the layout does not take this geometry or would dwarf X and Y.
 */
static int stage_plan(struct conv_job *j, struct stage_job *s,
		      int64_t *staged, int64_t **off)
{
	const struct win_axis *wh = &j->win[0], *ww = &j->win[1];
	int64_t plane, per_ch, k = 0;

	if (wh->s > CONV_STAGE_MAX_STRIDE || ww->s > CONV_STAGE_MAX_STRIDE)
		return -E2BIG;
	s->j = j;
	stage_axis_setup(wh, &s->ax[0]);
	stage_axis_setup(ww, &s->ax[1]);
	j->wq = s->ax[1].rows;
	if (__builtin_mul_overflow(s->ax[0].rows, j->wq, &plane) ||
	    __builtin_mul_overflow(plane, s->ax[0].nph * s->ax[1].nph, &per_ch) ||
	    __builtin_mul_overflow(per_ch, j->n * j->c, staged) ||
	    *staged / 2 > j->n * j->c * j->h * j->wd + j->n * j->m * j->ohw +
			  (1 << 16))
		return -E2BIG;
	j->len = (wh->out - 1) * j->wq + ww->out;
	*off = malloc((size_t)j->kdim * sizeof(**off));
	if (!*off)
		return -ENOMEM;
	for (int64_t ci = 0; ci < j->cg; ci++) {
		for (int64_t ki = 0; ki < wh->k; ki++) {
			int64_t th = ki * wh->d;

			for (int64_t kj = 0; kj < ww->k; kj++, k++) {
				int64_t tw = kj * ww->d;
				int64_t ph = (ci * s->ax[0].nph + s->ax[0].idx[th % wh->s]) *
					     s->ax[1].nph + s->ax[1].idx[tw % ww->s];

				(*off)[k] = ph * plane + th / wh->s * j->wq + tw / ww->s;
			}
		}
	}
	/* Unit strides, no pads: the staged planes would be X's own. */
	if (wh->s == 1 && ww->s == 1 && !wh->pb && !wh->pe && !ww->pb &&
	    !ww->pe) {
		*staged = 0;
		j->src_img = j->c * j->h * j->wd;
		j->src_grp = j->cg * j->h * j->wd;
	} else {
		j->src_img = j->c * per_ch;
		j->src_grp = j->cg * per_ch;
	}
	return 0;
}

static int fast_task(void *arg, size_t task, unsigned int worker)
{
	const struct conv_job *j = arg;
	int64_t t = (int64_t)task;
	int64_t gi = t % j->gparts, mi = t / j->gparts % j->mparts;
	int64_t ng = t / j->gparts / j->mparts;
	int64_t m0 = mi * j->mblock, g0 = gi * j->gblock;
	int64_t m1 = m0 + j->mblock < j->mg ? m0 + j->mblock : j->mg;
	int64_t g1 = g0 + j->gblock < j->len ? g0 + j->gblock : j->len;

	(void)worker;
	conv_avx512_block(j, ng / j->group, ng % j->group, m0, m1, g0, g1);
	return 0;
}

/*
 * Blocks of positions no larger than CONV_TASK_POSITIONS, then the filters
 * halved while there are fewer than CONV_TASKS_PER_WORKER tasks per worker
 * (and a block keeps 8 filters, a tile's worth).
 */
static void fast_split(struct eia_pool *pool, struct conv_job *j)
{
	int64_t want = CONV_TASKS_PER_WORKER * (int64_t)eia_pool_size(pool);
	int64_t outer = j->n * j->group;

	j->gparts = (j->len + CONV_TASK_POSITIONS - 1) / CONV_TASK_POSITIONS;
	j->gblock = (j->len + j->gparts - 1) / j->gparts;
	j->mparts = 1;
	while (outer * j->gparts * j->mparts < want && j->mg / (2 * j->mparts) >= 8)
		j->mparts *= 2;
	j->mblock = (j->mg + j->mparts - 1) / j->mparts;
	j->mblock = (j->mblock + 7) / 8 * 8;
	j->mparts = (j->mg + j->mblock - 1) / j->mblock;
}

static int conv_fast(struct eia_pool *pool, struct conv_job *j)
{
	struct stage_job s;
	int64_t staged, *off = NULL;
	float *buf = NULL;
	int ret;

	ret = stage_plan(j, &s, &staged, &off);
	if (ret)
		return ret;
	j->off = off;
	j->src = j->x;
	if (staged) {
		buf = malloc((size_t)staged * sizeof(float));
		if (!buf) {
			ret = -ENOMEM;
			goto out;
		}
		s.dst = buf;
		j->src = buf;
		ret = pool_for(pool, j->n * j->c, 1 + (1 << 14) / (staged / (j->n * j->c)),
			       stage_range, &s);
		if (ret)
			goto out;
	}
	fast_split(pool, j);
	ret = eia_pool_run(pool, (size_t)(j->n * j->group * j->mparts * j->gparts),
			   fast_task, j);
out:
	free(buf);
	free(off);
	return ret;
}

int conv2d_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_conv2d_attr *attr = c->attr;
	const struct eia_tensor *xt = &c->in[0], *wt = &c->in[1];
	const struct eia_tensor *yt = &c->out[0];
	struct fview x = { 0 }, w = { 0 }, b = { 0 }, y = { 0 };
	struct conv_job j = {
		.n = xt->dims[0], .c = xt->dims[1], .h = xt->dims[2],
		.wd = xt->dims[3], .m = wt->dims[0], .group = attr->group,
		.cg = wt->dims[1], .ohw = yt->dims[2] * yt->dims[3],
	};
	int64_t kernel[2] = { wt->dims[2], wt->dims[3] };
	int ret;

	win_setup(kernel, attr->strides, attr->dilations, attr->pads,
		  attr->auto_pad, false, &xt->dims[2], j.win);
	j.mg = j.m / j.group;
	j.kdim = j.cg * kernel[0] * kernel[1];
	if (!j.n || !j.mg || !j.ohw)
		return 0;
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
	ret = -E2BIG;
	if (conv_avx512_usable())
		ret = conv_fast(pool, &j);
	if (ret == -E2BIG)
		ret = conv_blas(pool, &j);
	if (!ret)
		ret = fview_commit(pool, yt, &y);
out:
	fview_free(&x);
	fview_free(&w);
	fview_free(&b);
	fview_free(&y);
	return ret;
}
