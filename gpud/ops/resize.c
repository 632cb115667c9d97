// SPDX-License-Identifier: MIT
/*
 * Resize (ONNX Resize-11 .. -18, without tf_crop_and_resize and antialias).
 * Each dim maps an output index back to a source coordinate and turns it
 * into at most four taps (index, weight): one for nearest, two for linear,
 * four for cubic. An output element is the weighted sum over the product of
 * its dims' taps, so an N-d linear resize is N-linear and a dim left alone
 * costs a single tap. Coordinates are computed in double, as ONNX's
 * reference computes them, so that nearest-mode ties fall the same way; the
 * CUDA kernel (kernels.cu) follows this file step by step.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "f16.h"
#include "internal.h"

#define RS_TAPS 4

int resize_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_resize_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];

	if (attr->reserved || attr->mode > EIA_RESIZE_CUBIC ||
	    attr->coord_mode > EIA_RESIZE_TF_HALF_PIXEL_FOR_NN ||
	    attr->nearest_mode > EIA_RESIZE_CEIL || attr->exclude_outside > 1 ||
	    !isfinite(attr->cubic_coeff_a))
		return -EINVAL;
	if (!is_float_dtype(x->dtype) || x->ndim < 1)
		return -EINVAL;
	for (uint32_t i = 0; i < EIA_MAX_DIMS; i++) {
		double s = attr->scales[i];

		if (i >= x->ndim) {
			if (attr->sizes[i] || s != 0.0)
				return -EINVAL;
			continue;
		}
		if (attr->sizes[i] < 0 || !isfinite(s) || s < 0.0)
			return -EINVAL;
		/* An empty dim has nothing to interpolate from. */
		if (!x->dims[i] && attr->sizes[i])
			return -EINVAL;
	}
	set_shape(out, x->dtype, x->ndim, attr->sizes);
	return 0;
}

/* Source coordinate of output index @o along a dim of @in -> @out. */
static double resize_coord(const struct eia_resize_attr *a, double scale,
			   int64_t in, int64_t out, int64_t o)
{
	/* A scale of 0 stands for sizes: then the resized length is exact. */
	double s = scale != 0.0 ? scale : (double)out / (double)in;
	double len = scale != 0.0 ? scale * (double)in : (double)out;
	double x = (double)o;

	switch (a->coord_mode) {
	case EIA_RESIZE_PYTORCH_HALF_PIXEL:
		return len > 1.0 ? (x + 0.5) / s - 0.5 : 0.0;
	case EIA_RESIZE_ALIGN_CORNERS:
		return len == 1.0 ? 0.0 : x * (double)(in - 1) / (len - 1.0);
	case EIA_RESIZE_ASYMMETRIC:
		return x / s;
	case EIA_RESIZE_TF_HALF_PIXEL_FOR_NN:
		return (x + 0.5) / s;
	default:
		return (x + 0.5) / s - 0.5;
	}
}

static int64_t clamp_index(double v, int64_t in)
{
	return !(v >= 0.0) ? 0 : v > (double)(in - 1) ? in - 1 : (int64_t)v;
}

/*
 * The taps of output index @o along one dim, indices clamped into [0, in)
 * (edge replication, as ONNX's reference pads). Taps of weight 0 are left
 * out. Returns their number, 1..4.
 */
static int resize_taps(const struct eia_resize_attr *a, double scale,
		       int64_t in, int64_t out, int64_t o, int64_t *idx,
		       float *w)
{
	double x = resize_coord(a, scale, in, out, o), f = floor(x), r = x - f;
	double c[RS_TAPS], sum = 0.0, A = a->cubic_coeff_a;
	int n = 0;

	switch (a->mode) {
	case EIA_RESIZE_NEAREST:
		switch (a->nearest_mode) {
		case EIA_RESIZE_ROUND_PREFER_CEIL:
			x = floor(x + 0.5);
			break;
		case EIA_RESIZE_FLOOR:
			x = f;
			break;
		case EIA_RESIZE_CEIL:
			x = ceil(x);
			break;
		default:
			x = ceil(x - 0.5);
			break;
		}
		idx[0] = clamp_index(x, in);
		w[0] = 1.0f;
		return 1;
	case EIA_RESIZE_LINEAR:
		c[0] = 1.0 - r;
		c[1] = r;
		for (int k = 0; k < 2; k++) {
			if (c[k] == 0.0)
				continue;
			idx[n] = clamp_index(f + k, in);
			w[n++] = (float)c[k];
		}
		return n;
	default:
		c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
		c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
		c[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
		c[3] = ((A * (2 - r) - 5 * A) * (2 - r) + 8 * A) * (2 - r) - 4 * A;
		for (int k = 0; k < RS_TAPS; k++) {
			if (a->exclude_outside && (f + k - 1 < 0 || f + k - 1 >= (double)in))
				c[k] = 0.0;
			sum += c[k];
		}
		for (int k = 0; k < RS_TAPS; k++) {
			if (c[k] == 0.0)
				continue;
			idx[n] = clamp_index(f + k - 1, in);
			w[n++] = (float)(a->exclude_outside && sum != 0.0 ? c[k] / sum : c[k]);
		}
		/*
		 * Sizes far past what the scale maps can put every tap
		 * outside X: nothing contributes.
		 */
		if (!n) {
			idx[0] = clamp_index(f, in);
			w[0] = 0.0f;
			n = 1;
		}
		return n;
	}
}

struct resize_job {
	const void *x;
	void *y;
	uint32_t dtype, ndim;
	int64_t in[EIA_MAX_DIMS], out[EIA_MAX_DIMS];
	/* Per dim: out[d] rows of RS_TAPS taps and the count of each row. */
	int64_t *idx[EIA_MAX_DIMS];
	float *w[EIA_MAX_DIMS];
	uint8_t *n[EIA_MAX_DIMS];
};

static float resize_one(const struct resize_job *j, int64_t o)
{
	int64_t at[EIA_MAX_DIMS];
	int k[EIA_MAX_DIMS] = { 0 }, cnt[EIA_MAX_DIMS];
	float sum = 0.0f;
	int d;

	for (d = (int)j->ndim - 1; d >= 0; d--) {
		at[d] = o % j->out[d];
		o /= j->out[d];
		cnt[d] = j->n[d][at[d]];
	}
	for (;;) {
		int64_t off = 0;
		float w = 1.0f;

		for (d = 0; d < (int)j->ndim; d++) {
			off = off * j->in[d] + j->idx[d][at[d] * RS_TAPS + k[d]];
			w *= j->w[d][at[d] * RS_TAPS + k[d]];
		}
		sum += w * load_f(j->x, j->dtype, off);
		for (d = (int)j->ndim - 1; d >= 0 && ++k[d] == cnt[d]; d--)
			k[d] = 0;
		if (d < 0)
			return sum;
	}
}

static int resize_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	const struct resize_job *j = arg;

	(void)worker;
	for (int64_t o = begin; o < end; o++)
		store_f(j->y, j->dtype, o, resize_one(j, o));
	return 0;
}

int resize_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_resize_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0], *y = &c->out[0];
	struct resize_job j = {
		.x = x->data, .y = y->data, .dtype = x->dtype, .ndim = x->ndim,
	};
	int64_t rows = 0, total = tensor_count(y);
	int64_t *idx;
	float *w;
	uint8_t *n;
	int ret;

	if (!total)
		return 0;
	for (uint32_t d = 0; d < x->ndim; d++)
		rows += y->dims[d];
	/* The tables are small (rows is at most 8 times the largest dim). */
	idx = malloc((size_t)rows * RS_TAPS * sizeof(*idx));
	w = malloc((size_t)rows * RS_TAPS * sizeof(*w));
	n = malloc((size_t)rows);
	if (!idx || !w || !n) {
		ret = -ENOMEM;
		goto out;
	}
	rows = 0;
	for (uint32_t d = 0; d < x->ndim; d++) {
		j.in[d] = x->dims[d];
		j.out[d] = y->dims[d];
		j.idx[d] = idx + rows * RS_TAPS;
		j.w[d] = w + rows * RS_TAPS;
		j.n[d] = n + rows;
		for (int64_t o = 0; o < j.out[d]; o++)
			j.n[d][o] = (uint8_t)resize_taps(attr, attr->scales[d], j.in[d],
							 j.out[d], o,
							 &j.idx[d][o * RS_TAPS],
							 &j.w[d][o * RS_TAPS]);
		rows += y->dims[d];
	}
	ret = pool_for(pool, total, 4096, resize_range, &j);
out:
	free(idx);
	free(w);
	free(n);
	return ret;
}
