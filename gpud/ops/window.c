// SPDX-License-Identifier: MIT
/*
 * Sliding-window geometry shared by Conv (2-D and 3-D), MaxPool and
 * AveragePool: attribute
 * checks, auto_pad, output sizes (ceil_mode included) and, per output, the
 * range of kernel taps that land inside a given interval, computed in O(1) so
 * that a huge kernel over mostly padding costs nothing.
 */
#include <errno.h>

#include "internal.h"

/* ceil(a / b) for b > 0 and any sign of a. */
static int64_t ceil_div(int64_t a, int64_t b)
{
	return a >= 0 ? (a + b - 1) / b : -(-a / b);
}

static bool attr_in(int64_t v, int64_t lo)
{
	return v >= lo && v <= INT32_MAX;
}

static int axis_setup(struct win_axis *w, uint32_t auto_pad, bool ceil_mode)
{
	int64_t ek = (w->k - 1) * w->d + 1, padded;

	if (auto_pad == EIA_AUTO_PAD_VALID) {
		w->pb = w->pe = 0;
	} else if (auto_pad != EIA_AUTO_PAD_NOTSET) {
		/* SAME_*: out = ceil(in / s), the odd pad at the end or start. */
		int64_t total = (ceil_div(w->in, w->s) - 1) * w->s + ek - w->in;

		if (total < 0)
			total = 0;
		w->pb = auto_pad == EIA_AUTO_PAD_SAME_UPPER ? total / 2 :
							     total - total / 2;
		w->pe = total - w->pb;
	}
	padded = w->in + w->pb + w->pe;
	if (padded < ek)
		return -EINVAL;
	if (auto_pad == EIA_AUTO_PAD_SAME_UPPER ||
	    auto_pad == EIA_AUTO_PAD_SAME_LOWER) {
		w->out = ceil_div(w->in, w->s);
	} else if (ceil_mode) {
		w->out = ceil_div(padded - ek, w->s) + 1;
		/* A window may not start in the end padding. */
		if ((w->out - 1) * w->s >= w->in + w->pb)
			w->out--;
	} else {
		w->out = (padded - ek) / w->s + 1;
	}
	return 0;
}

int win_setup_n(int n, const int64_t *kernel, const int64_t *strides,
		const int64_t *dilations, const int64_t *pads, uint32_t auto_pad,
		bool ceil_mode, const int64_t *in, struct win_axis *w)
{
	if (auto_pad > EIA_AUTO_PAD_VALID)
		return -EINVAL;
	if (auto_pad != EIA_AUTO_PAD_NOTSET && !all_zero(pads, 2 * (size_t)n))
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		int ret;

		if (!attr_in(kernel[i], 1) || !attr_in(strides[i], 1) ||
		    !attr_in(dilations[i], 1) || !attr_in(pads[i], 0) ||
		    !attr_in(pads[i + n], 0) || in[i] < 1)
			return -EINVAL;
		w[i].in = in[i];
		w[i].k = kernel[i];
		w[i].s = strides[i];
		w[i].d = dilations[i];
		w[i].pb = pads[i];
		w[i].pe = pads[i + n];
		ret = axis_setup(&w[i], auto_pad, ceil_mode);
		if (ret)
			return ret;
	}
	return 0;
}

int win_setup(const int64_t *kernel, const int64_t *strides,
	      const int64_t *dilations, const int64_t *pads, uint32_t auto_pad,
	      bool ceil_mode, const int64_t *in, struct win_axis *w)
{
	return win_setup_n(2, kernel, strides, dilations, pads, auto_pad,
			   ceil_mode, in, w);
}

void win_taps(const struct win_axis *w, int64_t o, int64_t lo_bound,
	      int64_t hi_bound, int64_t *lo, int64_t *hi)
{
	int64_t start = o * w->s - w->pb;
	int64_t a = ceil_div(lo_bound - start, w->d);
	int64_t b = ceil_div(hi_bound - start, w->d);

	*lo = a > 0 ? a : 0;
	*hi = b < w->k ? b : w->k;
	if (*hi < *lo)
		*hi = *lo;
}
