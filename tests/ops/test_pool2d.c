// SPDX-License-Identifier: MIT
/* MaxPool, AveragePool and GlobalAveragePool against naive window loops. */
#include <errno.h>
#include <math.h>

#include "fixture.h"

struct pool_case {
	uint32_t dtype;
	bool max;
	int64_t n, c, h, w;
	int64_t k[2], s[2], d[2], pads[4];
	uint32_t auto_pad, ceil_mode, count_include_pad;
};

struct ref_axis {
	int64_t in, k, s, d, pb, pe, out;
};

static struct ref_axis ref_axis(const struct pool_case *p, int i)
{
	struct ref_axis a = {
		.in = i ? p->w : p->h, .k = p->k[i], .s = p->s[i], .d = p->d[i],
		.pb = p->pads[i], .pe = p->pads[i + 2],
	};
	int64_t ek = (a.k - 1) * a.d + 1, span;

	if (p->auto_pad == EIA_AUTO_PAD_SAME_UPPER ||
	    p->auto_pad == EIA_AUTO_PAD_SAME_LOWER) {
		int64_t total;

		a.out = (a.in + a.s - 1) / a.s;
		total = (a.out - 1) * a.s + ek - a.in;
		total = total < 0 ? 0 : total;
		a.pb = p->auto_pad == EIA_AUTO_PAD_SAME_UPPER ? total / 2 :
								(total + 1) / 2;
		a.pe = total - a.pb;
		return a;
	}
	if (p->auto_pad == EIA_AUTO_PAD_VALID)
		a.pb = a.pe = 0;
	span = a.in + a.pb + a.pe - ek;
	a.out = (p->ceil_mode ? (span + a.s - 1) / a.s : span / a.s) + 1;
	/* Windows that would start in the end padding are dropped. */
	if (p->ceil_mode && (a.out - 1) * a.s >= a.in + a.pb)
		a.out--;
	return a;
}

static int64_t run_pool(struct eia_pool *pool, const struct pool_case *p)
{
	struct eia_pool2d_attr attr = {
		.kernel = { p->k[0], p->k[1] }, .strides = { p->s[0], p->s[1] },
		.dilations = { p->d[0], p->d[1] },
		.pads = { p->pads[0], p->pads[1], p->pads[2], p->pads[3] },
		.auto_pad = p->auto_pad, .ceil_mode = p->ceil_mode,
		.count_include_pad = p->count_include_pad,
	};
	struct ref_axis ah = ref_axis(p, 0), aw = ref_axis(p, 1);
	struct eia_tensor x = T(p->dtype, p->n, p->c, p->h, p->w);
	struct eia_tensor y = T(p->dtype, p->n, p->c, ah.out, aw.out);
	double *ref = ralloc(tcount(&y));
	double tol = tol_of(p->dtype, TOL_F32);
	int ret;

	tfill(&x, -4, 4);
	ret = p->max ? eia_op_maxpool2d(pool, &attr, &x, &y) :
		       eia_op_avgpool2d(pool, &attr, &x, &y);
	if (ret)
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		int64_t idx[4], count = 0, used = 0;
		double m = -INFINITY, sum = 0.0;

		unravel(i, 4, y.dims, idx);
		for (int64_t a = 0; a < ah.k; a++) {
			int64_t ih = idx[2] * ah.s - ah.pb + a * ah.d;

			for (int64_t b = 0; b < aw.k; b++) {
				int64_t iw = idx[3] * aw.s - aw.pb + b * aw.d;
				bool inside = ih >= 0 && ih < p->h && iw >= 0 &&
					      iw < p->w;
				bool padded = ih >= -ah.pb && ih < p->h + ah.pe &&
					      iw >= -aw.pb && iw < p->w + aw.pe;

				if (inside) {
					double v = tget(&x, ((idx[0] * p->c + idx[1]) *
							     p->h + ih) * p->w + iw);

					m = v > m ? v : m;
					sum += v;
					used++;
				}
				count += p->count_include_pad ? padded : inside;
			}
		}
		if (!used)
			return -2;	/* the library must refuse such windows */
		ref[i] = p->max ? m : sum / (double)count;
	}
	return tcompare(&y, ref, tol, tol);
}

#define CASE(...) (&(struct pool_case){ .dtype = EIA_DTYPE_F32, .n = 2, \
	.c = 3, .s = { 1, 1 }, .d = { 1, 1 }, __VA_ARGS__ })

TEST_F(ops, maxpool_basic_f16_bf16)
{
	ASSERT_EQ(0, run_pool(self->pool, CASE(.max = true, .h = 8, .w = 6,
		.k = { 2, 2 }, .s = { 2, 2 })));
	ASSERT_EQ(0, run_pool(self->pool, CASE(.dtype = EIA_DTYPE_F16,
		.max = true, .h = 7, .w = 7, .k = { 3, 3 }, .s = { 2, 2 },
		.pads = { 1, 1, 1, 1 })));
	ASSERT_EQ(0, run_pool(self->pool, CASE(.dtype = EIA_DTYPE_BF16,
		.max = true, .h = 7, .w = 7, .k = { 3, 3 }, .s = { 2, 2 },
		.pads = { 1, 1, 1, 1 }, .ceil_mode = 1)));
}

TEST_F(ops, maxpool_dilation_asymmetric_pads)
{
	ASSERT_EQ(0, run_pool(self->pool, CASE(.max = true, .h = 9, .w = 10,
		.k = { 3, 2 }, .s = { 2, 3 }, .d = { 2, 3 },
		.pads = { 2, 0, 1, 2 })));
}

/*
 * fp32 MaxPool goes down the rows then across, four lanes at a time: rows
 * long enough for the vector loops and their tails, windows cut by pads on
 * both sides, dilated and ceil_mode windows.
 */
TEST_F(ops, maxpool_wide_rows)
{
	ASSERT_EQ(0, run_pool(self->pool, CASE(.max = true, .c = 4, .h = 23,
		.w = 37, .k = { 3, 3 }, .s = { 2, 2 },
		.pads = { 1, 1, 1, 1 })));
	ASSERT_EQ(0, run_pool(self->pool, CASE(.max = true, .n = 1, .h = 11,
		.w = 41, .k = { 2, 5 }, .s = { 1, 3 }, .d = { 1, 2 },
		.pads = { 0, 4, 1, 3 }, .ceil_mode = 1)));
}

TEST_F(ops, pool_ceil_mode)
{
	ASSERT_EQ(0, run_pool(self->pool, CASE(.max = true, .h = 5, .w = 6,
		.k = { 2, 3 }, .s = { 2, 2 }, .pads = { 1, 0, 1, 0 },
		.ceil_mode = 1)));
	/* The last window hangs past the input: it averages what it has. */
	ASSERT_EQ(0, run_pool(self->pool, CASE(.h = 6, .w = 6, .k = { 3, 3 },
		.s = { 2, 2 }, .ceil_mode = 1)));
	ASSERT_EQ(0, run_pool(self->pool, CASE(.h = 6, .w = 7, .k = { 3, 3 },
		.s = { 2, 2 }, .pads = { 1, 1, 1, 1 }, .ceil_mode = 1,
		.count_include_pad = 1)));
}

TEST_F(ops, pool_ceil_mode_shapes)
{
	struct eia_pool2d_attr attr = EIA_POOL2D_ATTR_INIT(2, 3);
	struct eia_tensor x = T(EIA_DTYPE_F32, 1, 1, 5, 6), y;

	/* H: (5 + 2 - 2) / 2 -> 2.5: floor 3, ceil 4, but the 4th window
	 * would start at 6 - 1 = 5, in the end padding: 3.
	 * W: (6 - 3) / 2 -> 1.5: floor 2, ceil 3 (starts at 4 < 6).
	 */
	attr.strides[0] = attr.strides[1] = 2;
	attr.pads[0] = attr.pads[2] = 1;
	ASSERT_EQ(0, eia_op_infer(EIA_OP_MAXPOOL2D, &attr, sizeof(attr), &x, 1,
				  &y, 1));
	ASSERT_EQ(3, y.dims[2]);
	ASSERT_EQ(2, y.dims[3]);
	attr.ceil_mode = 1;
	ASSERT_EQ(0, eia_op_infer(EIA_OP_MAXPOOL2D, &attr, sizeof(attr), &x, 1,
				  &y, 1));
	ASSERT_EQ(3, y.dims[2]);
	ASSERT_EQ(3, y.dims[3]);
}

TEST_F(ops, avgpool_count_include_pad)
{
	for (uint32_t cip = 0; cip <= 1; cip++) {
		ASSERT_EQ(0, run_pool(self->pool, CASE(.h = 7, .w = 5,
			.k = { 3, 3 }, .s = { 2, 1 }, .pads = { 1, 2, 2, 1 },
			.count_include_pad = cip)));
		ASSERT_EQ(0, run_pool(self->pool, CASE(.dtype = EIA_DTYPE_F16,
			.h = 6, .w = 6, .k = { 2, 4 }, .s = { 2, 2 },
			.d = { 2, 1 }, .pads = { 1, 1, 0, 2 },
			.count_include_pad = cip)));
		ASSERT_EQ(0, run_pool(self->pool, CASE(.dtype = EIA_DTYPE_BF16,
			.h = 6, .w = 6, .k = { 2, 4 }, .s = { 2, 2 },
			.d = { 2, 1 }, .pads = { 1, 1, 0, 2 },
			.count_include_pad = cip)));
	}
}

TEST_F(ops, pool_auto_pad)
{
	for (uint32_t ap = EIA_AUTO_PAD_SAME_UPPER; ap <= EIA_AUTO_PAD_VALID;
	     ap++) {
		ASSERT_EQ(0, run_pool(self->pool, CASE(.max = true, .h = 7,
			.w = 8, .k = { 3, 2 }, .s = { 2, 3 }, .auto_pad = ap)));
		ASSERT_EQ(0, run_pool(self->pool, CASE(.h = 7, .w = 8,
			.k = { 2, 3 }, .s = { 2, 2 }, .auto_pad = ap)));
	}
}

TEST_F(ops, pool_refusals)
{
	struct eia_pool2d_attr attr = EIA_POOL2D_ATTR_INIT(3, 3), a;
	struct eia_tensor x = T(EIA_DTYPE_F32, 1, 2, 4, 4);
	struct eia_tensor y = T(EIA_DTYPE_F32, 1, 2, 2, 2);

	ASSERT_EQ(0, eia_op_maxpool2d(self->pool, &attr, &x, &y));
	/* A pad as long as the kernel would make all-padding windows. */
	a = attr;
	a.pads[0] = 3;
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &a, &x,
					    TP(EIA_DTYPE_F32, 1, 2, 5, 2)));
	/* Taps further apart than the input is long. */
	a = attr;
	a.kernel[1] = 2;
	a.dilations[1] = 5;
	a.pads[1] = a.pads[3] = 2;
	ASSERT_EQ(-EINVAL, eia_op_avgpool2d(self->pool, &a, &x,
					    TP(EIA_DTYPE_F32, 1, 2, 2, 1)));
	/* count_include_pad means nothing to MaxPool; flags are 0 or 1. */
	a = attr;
	a.count_include_pad = 1;
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &a, &x, &y));
	ASSERT_EQ(0, eia_op_avgpool2d(self->pool, &a, &x, &y));
	a = attr;
	a.ceil_mode = 2;
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &a, &x, &y));
	a = attr;
	a.kernel[0] = 0;
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &a, &x, &y));
	a = attr;
	a.kernel[0] = 5;
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &a, &x, &y));
	/* Not NCHW, zero-size spatial dim, integer input. */
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &attr,
					    TP(EIA_DTYPE_F32, 2, 4, 4), &y));
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &attr,
					    TP(EIA_DTYPE_F32, 1, 2, 0, 4), &y));
	ASSERT_EQ(-EINVAL, eia_op_maxpool2d(self->pool, &attr,
					    TP(EIA_DTYPE_I32, 1, 2, 4, 4),
					    TP(EIA_DTYPE_I32, 1, 2, 2, 2)));
}

static int64_t run_gap(struct eia_pool *pool, struct eia_tensor x)
{
	int64_t dims[EIA_MAX_DIMS] = { x.dims[0], x.dims[1], 1, 1, 1, 1, 1, 1 };
	struct eia_tensor y = tnew(x.dtype, x.ndim, dims);
	int64_t spatial = 1;
	double *ref = ralloc(tcount(&y));
	double tol = tol_of(x.dtype, TOL_F32);

	for (uint32_t i = 2; i < x.ndim; i++)
		spatial *= x.dims[i];
	tfill(&x, -2, 3);
	if (eia_op_global_avgpool(pool, &x, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		for (int64_t j = 0; j < spatial; j++)
			ref[i] += tget(&x, i * spatial + j);
		ref[i] /= (double)spatial;
	}
	return tcompare(&y, ref, tol, tol);
}

TEST_F(ops, global_avgpool)
{
	ASSERT_EQ(0, run_gap(self->pool, T(EIA_DTYPE_F32, 2, 3, 4, 5)));
	ASSERT_EQ(0, run_gap(self->pool, T(EIA_DTYPE_F32, 2, 3, 7)));
	ASSERT_EQ(0, run_gap(self->pool, T(EIA_DTYPE_F16, 1, 4, 3, 3, 2)));
	ASSERT_EQ(0, run_gap(self->pool, T(EIA_DTYPE_BF16, 2, 3, 5, 4)));
	ASSERT_EQ(0, run_gap(self->pool, T(EIA_DTYPE_F32, 0, 3, 4, 4)));
	ASSERT_EQ(-EINVAL, eia_op_global_avgpool(self->pool,
		TP(EIA_DTYPE_F32, 2, 3), TP(EIA_DTYPE_F32, 2, 3)));
	ASSERT_EQ(-EINVAL, eia_op_global_avgpool(self->pool,
		TP(EIA_DTYPE_F32, 2, 3, 0), TP(EIA_DTYPE_F32, 2, 3, 1)));
}

TEST_HARNESS_MAIN
