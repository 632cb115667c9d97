// SPDX-License-Identifier: MIT
/* 3-D MaxPool and AveragePool against naive window loops. */
#include <errno.h>
#include <math.h>

#include "fixture.h"

struct pool3_case {
	uint32_t dtype;
	bool max;
	int64_t n, c, in[3];
	int64_t k[3], s[3], d[3], pads[6];
	uint32_t auto_pad, ceil_mode, count_include_pad;
};

struct ref_axis {
	int64_t in, k, s, d, pb, pe, out;
};

/* One axis's geometry, from the ONNX text (as the 2-D pool test has it). */
static struct ref_axis ref_axis(const struct pool3_case *p, int i)
{
	struct ref_axis a = {
		.in = p->in[i], .k = p->k[i], .s = p->s[i], .d = p->d[i],
		.pb = p->pads[i], .pe = p->pads[i + 3],
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
	if (p->ceil_mode && (a.out - 1) * a.s >= a.in + a.pb)
		a.out--;
	return a;
}

static int64_t run_pool3(struct eia_pool *pool, const struct pool3_case *p)
{
	struct eia_pool3d_attr attr = {
		.auto_pad = p->auto_pad, .ceil_mode = p->ceil_mode,
		.count_include_pad = p->count_include_pad,
	};
	struct ref_axis ax[3];
	struct eia_tensor x, y;
	double *ref, tol = tol_of(p->dtype, TOL_F32);

	for (int a = 0; a < 3; a++) {
		attr.kernel[a] = p->k[a];
		attr.strides[a] = p->s[a];
		attr.dilations[a] = p->d[a];
		ax[a] = ref_axis(p, a);
	}
	for (int i = 0; i < 6; i++)
		attr.pads[i] = p->pads[i];
	x = T(p->dtype, p->n, p->c, p->in[0], p->in[1], p->in[2]);
	y = T(p->dtype, p->n, p->c, ax[0].out, ax[1].out, ax[2].out);
	ref = ralloc(tcount(&y));
	tfill(&x, -4, 4);
	if (eia_op_pool3d(pool, p->max ? EIA_OP_MAXPOOL3D : EIA_OP_AVGPOOL3D,
			  &attr, &x, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		int64_t idx[5], t[3], at[3], count = 0, used = 0;
		double m = -INFINITY, sum = 0.0;

		unravel(i, 5, y.dims, idx);
		for (t[0] = 0; t[0] < ax[0].k; t[0]++)
		for (t[1] = 0; t[1] < ax[1].k; t[1]++)
		for (t[2] = 0; t[2] < ax[2].k; t[2]++) {
			bool inside = true, padded = true;

			for (int a = 0; a < 3; a++) {
				at[a] = idx[2 + a] * ax[a].s - ax[a].pb + t[a] * ax[a].d;
				inside = inside && at[a] >= 0 && at[a] < ax[a].in;
				padded = padded && at[a] >= -ax[a].pb &&
					 at[a] < ax[a].in + ax[a].pe;
			}
			if (inside) {
				double v = tget(&x, (((idx[0] * p->c + idx[1]) *
						      p->in[0] + at[0]) * p->in[1] +
						     at[1]) * p->in[2] + at[2]);

				m = v > m ? v : m;
				sum += v;
				used++;
			}
			count += p->count_include_pad ? padded : inside;
		}
		if (!used)
			return -2;	/* the library must refuse such windows */
		ref[i] = p->max ? m : sum / (double)count;
	}
	return tcompare(&y, ref, tol, tol);
}

#define CASE(...) (&(struct pool3_case){ .dtype = EIA_DTYPE_F32, .n = 2, \
	.c = 3, .s = { 1, 1, 1 }, .d = { 1, 1, 1 }, __VA_ARGS__ })

TEST_F(ops, pool3d)
{
	for (int max = 0; max < 2; max++) {
		ASSERT_EQ(0, run_pool3(self->pool, CASE(.max = max,
			.in = { 6, 8, 7 }, .k = { 2, 2, 2 }, .s = { 2, 2, 2 })));
		ASSERT_EQ(0, run_pool3(self->pool, CASE(.max = max,
			.in = { 5, 7, 9 }, .k = { 3, 2, 3 }, .s = { 2, 1, 3 },
			.d = { 1, 2, 1 }, .pads = { 1, 0, 2, 1, 1, 0 })));
		ASSERT_EQ(0, run_pool3(self->pool, CASE(.max = max,
			.in = { 7, 6, 5 }, .k = { 3, 3, 3 }, .s = { 2, 2, 2 },
			.pads = { 1, 1, 1, 1, 1, 1 }, .ceil_mode = 1)));
		ASSERT_EQ(0, run_pool3(self->pool, CASE(.max = max,
			.dtype = EIA_DTYPE_F16, .in = { 4, 5, 6 },
			.k = { 2, 3, 2 }, .auto_pad = EIA_AUTO_PAD_SAME_UPPER)));
		ASSERT_EQ(0, run_pool3(self->pool, CASE(.max = max,
			.dtype = EIA_DTYPE_BF16, .in = { 4, 5, 6 },
			.k = { 2, 3, 2 }, .auto_pad = EIA_AUTO_PAD_SAME_UPPER)));
		ASSERT_EQ(0, run_pool3(self->pool, CASE(.max = max,
			.in = { 4, 5, 6 }, .k = { 2, 3, 2 }, .s = { 2, 2, 3 },
			.auto_pad = EIA_AUTO_PAD_SAME_LOWER)));
	}
	/* AveragePool counting the padding, not the ceil_mode overhang. */
	ASSERT_EQ(0, run_pool3(self->pool, CASE(.in = { 7, 6, 5 },
		.k = { 3, 3, 3 }, .s = { 2, 2, 2 }, .pads = { 1, 1, 1, 1, 1, 1 },
		.ceil_mode = 1, .count_include_pad = 1)));
	ASSERT_EQ(0, run_pool3(self->pool, CASE(.n = 1, .c = 2,
		.in = { 20, 30, 30 }, .k = { 3, 3, 3 }, .s = { 1, 2, 2 },
		.pads = { 0, 1, 1, 0, 1, 1 }, .count_include_pad = 1)));
}

TEST_F(ops, pool3d_refusals)
{
	struct eia_pool3d_attr a = EIA_POOL3D_ATTR_INIT(2, 2, 2);
	struct eia_tensor x = T(EIA_DTYPE_F32, 1, 2, 4, 4, 4);
	struct eia_tensor y = T(EIA_DTYPE_F32, 1, 2, 3, 3, 3);

	ASSERT_EQ(0, eia_op_pool3d(self->pool, EIA_OP_MAXPOOL3D, &a, &x, &y));
	/* count_include_pad on MaxPool, bad flags, a 0 kernel. */
	a.count_include_pad = 1;
	ASSERT_EQ(-EINVAL, eia_op_pool3d(self->pool, EIA_OP_MAXPOOL3D, &a, &x, &y));
	ASSERT_EQ(0, eia_op_pool3d(self->pool, EIA_OP_AVGPOOL3D, &a, &x, &y));
	a.count_include_pad = 0;
	a.ceil_mode = 2;
	ASSERT_EQ(-EINVAL, eia_op_pool3d(self->pool, EIA_OP_AVGPOOL3D, &a, &x, &y));
	a.ceil_mode = 0;
	a.kernel[2] = 0;
	ASSERT_EQ(-EINVAL, eia_op_pool3d(self->pool, EIA_OP_AVGPOOL3D, &a, &x, &y));
	/* A pad as long as the kernel: a window of padding only. */
	a = (struct eia_pool3d_attr)EIA_POOL3D_ATTR_INIT(2, 2, 2);
	a.pads[0] = 2;
	ASSERT_EQ(-EINVAL, eia_op_pool3d(self->pool, EIA_OP_MAXPOOL3D, &a, &x,
					 TP(EIA_DTYPE_F32, 1, 2, 5, 3, 3)));
	/* Rank 4, integers, not a 3-D pool code. */
	a.pads[0] = 0;
	ASSERT_EQ(-EINVAL, eia_op_pool3d(self->pool, EIA_OP_MAXPOOL3D, &a,
					 TP(EIA_DTYPE_F32, 1, 2, 4, 4),
					 TP(EIA_DTYPE_F32, 1, 2, 3, 3)));
	ASSERT_EQ(-EINVAL, eia_op_pool3d(self->pool, EIA_OP_MAXPOOL3D, &a,
					 TP(EIA_DTYPE_I64, 1, 2, 4, 4, 4),
					 TP(EIA_DTYPE_I64, 1, 2, 3, 3, 3)));
	ASSERT_EQ(-EINVAL, eia_op_pool3d(self->pool, EIA_OP_MAXPOOL2D, &a, &x, &y));
}

TEST_HARNESS_MAIN
