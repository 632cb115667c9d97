// SPDX-License-Identifier: MIT
/*
 * ConvTranspose (ONNX ConvTranspose-11) over 1, 2 or 3 spatial dims, as
 * the gradient of Conv: input position i scatters x * w[k] to output
 * position i * s - pad_begin + k * d. Computed the other way round, by
 * gathering: each output element visits the kernel taps whose source
 * position lands on the input grid, then sums over the group's channels.
 * No scatter means no two tasks ever write one element, and the CUDA
 * kernel (kernels.cu) is the same loop with one thread per element.
 * Fewer spatial dims are the 3-D case with unit leading axes.
 */
#include <errno.h>
#include <stdint.h>

#include "internal.h"

static bool ct_val(int64_t v, int64_t lo)
{
	return v >= lo && v <= INT32_MAX;
}

int conv_transpose_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_conv_transpose_attr *a = c->attr;
	const struct eia_tensor *x = &c->in[0], *w = &c->in[1];
	const struct eia_tensor *b = c->n_in > 2 ? &c->in[2] : NULL;
	int64_t dims[5], m;
	int n = (int)x->ndim - 2;

	if (x->ndim < 3 || x->ndim > 5 || w->ndim != x->ndim ||
	    !is_float_dtype(x->dtype) || w->dtype != x->dtype ||
	    (b && (b->dtype != x->dtype || b->ndim != 1)))
		return -EINVAL;
	if (a->group < 1 || a->group > INT32_MAX || x->dims[1] % a->group ||
	    w->dims[0] != x->dims[1] || !x->dims[1])
		return -EINVAL;
	if (__builtin_mul_overflow(w->dims[1], a->group, &m) || (b && b->dims[0] != m))
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		int64_t ext, len;

		if (i >= n) {
			if (a->strides[i] || a->dilations[i] || a->pads[i] ||
			    a->pads[3 + i] || a->output_padding[i])
				return -EINVAL;
			continue;
		}
		if (!ct_val(a->strides[i], 1) || !ct_val(a->dilations[i], 1) ||
		    !ct_val(a->pads[i], 0) || !ct_val(a->pads[3 + i], 0) ||
		    !ct_val(a->output_padding[i], 0) ||
		    !ct_val(x->dims[2 + i], 1) || !ct_val(w->dims[2 + i], 1))
			return -EINVAL;
		/* Every term is at most 2^31, so 64 bits cannot overflow. */
		ext = (w->dims[2 + i] - 1) * a->dilations[i] + 1;
		len = a->strides[i] * (x->dims[2 + i] - 1) + a->output_padding[i] +
		      ext - a->pads[i] - a->pads[3 + i];
		if (len < 1)
			return -EINVAL;
		dims[2 + i] = len;
	}
	dims[0] = x->dims[0];
	dims[1] = m;
	set_shape(out, x->dtype, x->ndim, dims);
	return 0;
}

struct ct_job {
	const float *x, *w, *b;
	float *y;
	int64_t c, cg, mg, m;		/* channels in, per group; filters */
	int64_t in[3], k[3], out[3];	/* spatial, padded to 3-D */
	int64_t s[3], d[3], pb[3];
	int64_t in_plane, k_plane, out_plane;
};

static float ct_one(const struct ct_job *j, int64_t o)
{
	int64_t at[3] = { o / (j->out[1] * j->out[2]) % j->out[0],
			  o / j->out[2] % j->out[1], o % j->out[2] };
	int64_t ch = o / j->out_plane % j->m, img = o / j->out_plane / j->m;
	int64_t g = ch / j->mg;
	const float *xg = j->x + (img * j->c + g * j->cg) * j->in_plane;
	const float *wg = j->w + (g * j->cg * j->mg + ch % j->mg) * j->k_plane;
	float sum = j->b ? j->b[ch] : 0.0f;

	/* t falls as k rises: once below 0 no later tap lands on the input. */
	for (int64_t kz = 0; kz < j->k[0]; kz++) {
		int64_t tz = at[0] + j->pb[0] - kz * j->d[0];

		if (tz < 0)
			break;
		if (tz % j->s[0] || tz / j->s[0] >= j->in[0])
			continue;
		for (int64_t ky = 0; ky < j->k[1]; ky++) {
			int64_t ty = at[1] + j->pb[1] - ky * j->d[1];

			if (ty < 0)
				break;
			if (ty % j->s[1] || ty / j->s[1] >= j->in[1])
				continue;
			for (int64_t kx = 0; kx < j->k[2]; kx++) {
				int64_t tx = at[2] + j->pb[2] - kx * j->d[2];
				int64_t xi, wi;

				if (tx < 0)
					break;
				if (tx % j->s[2] || tx / j->s[2] >= j->in[2])
					continue;
				xi = (tz / j->s[0] * j->in[1] + ty / j->s[1]) * j->in[2] +
				     tx / j->s[2];
				wi = (kz * j->k[1] + ky) * j->k[2] + kx;
				for (int64_t ci = 0; ci < j->cg; ci++)
					sum += xg[ci * j->in_plane + xi] *
					       wg[ci * j->mg * j->k_plane + wi];
			}
		}
	}
	return sum;
}

static int ct_range(void *arg, int64_t begin, int64_t end, unsigned int worker)
{
	const struct ct_job *j = arg;

	(void)worker;
	for (int64_t o = begin; o < end; o++)
		j->y[o] = ct_one(j, o);
	return 0;
}

int conv_transpose_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_conv_transpose_attr *a = c->attr;
	const struct eia_tensor *xt = &c->in[0], *wt = &c->in[1], *yt = &c->out[0];
	struct fview x = { 0 }, w = { 0 }, b = { 0 }, y = { 0 };
	struct ct_job j = {
		.c = xt->dims[1], .cg = xt->dims[1] / a->group, .mg = wt->dims[1],
		.m = yt->dims[1], .in_plane = 1, .k_plane = 1, .out_plane = 1,
	};
	int n = (int)xt->ndim - 2, ret;
	int64_t total = tensor_count(yt), work;

	if (!total)
		return 0;
	for (int i = 0; i < 3; i++) {
		int ax = i - (3 - n);	/* the leading axes are the missing ones */
		bool real = ax >= 0;

		j.in[i] = real ? xt->dims[2 + ax] : 1;
		j.k[i] = real ? wt->dims[2 + ax] : 1;
		j.out[i] = real ? yt->dims[2 + ax] : 1;
		j.s[i] = real ? a->strides[ax] : 1;
		j.d[i] = real ? a->dilations[ax] : 1;
		j.pb[i] = real ? a->pads[ax] : 0;
		j.in_plane *= j.in[i];
		j.k_plane *= j.k[i];
		j.out_plane *= j.out[i];
	}
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
	j.b = b.p;
	j.y = y.p;
	/* Grain from the taps and channels each element may visit, bounded. */
	work = j.cg * j.k_plane;
	ret = pool_for(pool, total, 1 + (1 << 16) / (work < (1 << 16) ? work : (1 << 16)),
		       ct_range, &j);
	if (!ret)
		ret = fview_commit(pool, yt, &y);
out:
	fview_free(&x);
	fview_free(&w);
	fview_free(&b);
	fview_free(&y);
	return ret;
}
