// SPDX-License-Identifier: MIT
/* 3-D Conv against a direct double-precision loop over every tap. */
#include <errno.h>

#include "fixture.h"

struct conv3_case {
	uint32_t dtype;
	int64_t n, c, m, group;
	int64_t in[3], k[3], strides[3], dilations[3], pads[6];
	uint32_t auto_pad;
	bool bias;
};

/* Output size and begin pad of one axis, straight from the ONNX text. */
static int64_t ref_out(const struct conv3_case *k, int a, int64_t *pb)
{
	int64_t s = k->strides[a], ek = (k->k[a] - 1) * k->dilations[a] + 1;
	int64_t out, total;

	switch (k->auto_pad) {
	case EIA_AUTO_PAD_SAME_UPPER:
	case EIA_AUTO_PAD_SAME_LOWER:
		out = (k->in[a] + s - 1) / s;
		total = (out - 1) * s + ek - k->in[a];
		if (total < 0)
			total = 0;
		*pb = k->auto_pad == EIA_AUTO_PAD_SAME_UPPER ? total / 2 :
							      (total + 1) / 2;
		return out;
	case EIA_AUTO_PAD_VALID:
		*pb = 0;
		return (k->in[a] - ek) / s + 1;
	default:
		*pb = k->pads[a];
		return (k->in[a] + k->pads[a] + k->pads[a + 3] - ek) / s + 1;
	}
}

static int64_t run_conv3(struct eia_pool *pool, const struct conv3_case *k)
{
	struct eia_conv3d_attr attr = { .group = k->group, .auto_pad = k->auto_pad };
	int64_t pb[3], o[3], cg = k->c / k->group, mg = k->m / k->group;
	struct eia_tensor x, w, b, y;
	double *ref, tol = tol_of(k->dtype, TOL_F32_BLAS);

	for (int a = 0; a < 3; a++) {
		attr.strides[a] = k->strides[a];
		attr.dilations[a] = k->dilations[a];
		o[a] = ref_out(k, a, &pb[a]);
	}
	for (int i = 0; i < 6; i++)
		attr.pads[i] = k->pads[i];
	x = T(k->dtype, k->n, k->c, k->in[0], k->in[1], k->in[2]);
	w = T(k->dtype, k->m, cg, k->k[0], k->k[1], k->k[2]);
	b = T(k->dtype, k->m);
	y = T(k->dtype, k->n, k->m, o[0], o[1], o[2]);
	ref = ralloc(tcount(&y));
	tfill(&x, -1, 1);
	tfill(&w, -1, 1);
	tfill(&b, -1, 1);
	if (eia_op_conv3d(pool, &attr, &x, &w, k->bias ? &b : NULL, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		int64_t idx[5], g, t[3], at[3];
		double s;

		unravel(i, 5, y.dims, idx);
		g = idx[1] / mg;
		s = k->bias ? tget(&b, idx[1]) : 0.0;
		for (int64_t ci = 0; ci < cg; ci++)
		for (t[0] = 0; t[0] < k->k[0]; t[0]++)
		for (t[1] = 0; t[1] < k->k[1]; t[1]++)
		for (t[2] = 0; t[2] < k->k[2]; t[2]++) {
			bool inside = true;

			for (int a = 0; a < 3; a++) {
				at[a] = idx[2 + a] * k->strides[a] - pb[a] +
					t[a] * k->dilations[a];
				inside = inside && at[a] >= 0 && at[a] < k->in[a];
			}
			if (!inside)
				continue;
			s += tget(&x, (((idx[0] * k->c + g * cg + ci) * k->in[0] +
					at[0]) * k->in[1] + at[1]) * k->in[2] + at[2]) *
			     tget(&w, (((idx[1] * cg + ci) * k->k[0] + t[0]) *
				       k->k[1] + t[1]) * k->k[2] + t[2]);
		}
		ref[i] = s;
	}
	return tcompare(&y, ref, tol, tol);
}

#define CASE(...) (&(struct conv3_case){ .dtype = EIA_DTYPE_F32, .n = 1, \
	.group = 1, .strides = { 1, 1, 1 }, .dilations = { 1, 1, 1 }, \
	__VA_ARGS__ })

TEST_F(ops, conv3d)
{
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.n = 2, .c = 3, .m = 4,
		.in = { 5, 6, 7 }, .k = { 3, 3, 3 }, .pads = { 1, 1, 1, 1, 1, 1 },
		.bias = true)));
	/* Strides, dilations, asymmetric pads, a flat kernel. */
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.c = 2, .m = 3,
		.in = { 9, 7, 8 }, .k = { 2, 3, 1 }, .strides = { 2, 1, 3 },
		.dilations = { 3, 2, 1 }, .pads = { 0, 2, 1, 1, 0, 2 })));
	/* Groups and depthwise. */
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.n = 2, .c = 6, .m = 9,
		.group = 3, .in = { 4, 5, 5 }, .k = { 3, 3, 3 },
		.pads = { 1, 1, 1, 1, 1, 1 }, .bias = true)));
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.c = 4, .m = 4, .group = 4,
		.in = { 6, 6, 6 }, .k = { 3, 3, 3 }, .strides = { 2, 2, 2 })));
	/* A 1x1x1 kernel over a large plane: several tasks per image. */
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.c = 3, .m = 5,
		.in = { 8, 40, 40 }, .k = { 1, 1, 1 })));
	/* Patches long enough that the positions come in several runs. */
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.c = 64, .m = 2,
		.in = { 8, 8, 8 }, .k = { 3, 3, 3 }, .pads = { 1, 1, 1, 1, 1, 1 })));
}

TEST_F(ops, conv3d_auto_pad_f16_bf16)
{
	for (uint32_t ap = EIA_AUTO_PAD_SAME_UPPER; ap <= EIA_AUTO_PAD_VALID; ap++)
		ASSERT_EQ(0, run_conv3(self->pool, CASE(.c = 2, .m = 3,
			.in = { 5, 7, 6 }, .k = { 2, 3, 4 }, .strides = { 2, 1, 3 },
			.auto_pad = ap, .bias = true)));
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.dtype = EIA_DTYPE_F16, .c = 2,
		.m = 3, .in = { 4, 5, 6 }, .k = { 3, 3, 3 },
		.pads = { 1, 0, 1, 0, 1, 1 }, .bias = true)));
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.dtype = EIA_DTYPE_BF16, .c = 2,
		.m = 3, .in = { 4, 5, 6 }, .k = { 3, 3, 3 },
		.pads = { 1, 0, 1, 0, 1, 1 }, .bias = true)));
	/* Nothing to compute. */
	ASSERT_EQ(0, run_conv3(self->pool, CASE(.n = 0, .c = 2, .m = 3,
		.in = { 4, 4, 4 }, .k = { 3, 3, 3 })));
}

TEST_F(ops, conv3d_refusals)
{
	struct eia_conv3d_attr a = EIA_CONV3D_ATTR_INIT;
	struct eia_tensor x = T(EIA_DTYPE_F32, 1, 4, 5, 5, 5);
	struct eia_tensor w = T(EIA_DTYPE_F32, 6, 2, 3, 3, 3);
	struct eia_tensor y = T(EIA_DTYPE_F32, 1, 6, 3, 3, 3);

	a.group = 2;
	ASSERT_EQ(0, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	/* Groups that do not divide, W's channels, rank, dtype. */
	a.group = 3;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	a.group = 1;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	a.group = 2;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a,
					 TP(EIA_DTYPE_F32, 1, 4, 5, 5), &w,
					 NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x,
					 TP(EIA_DTYPE_F16, 6, 2, 3, 3, 3),
					 NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a,
					 TP(EIA_DTYPE_BF16, 1, 4, 5, 5, 5), &w,
					 NULL, TP(EIA_DTYPE_BF16, 1, 6, 3, 3, 3)));
	/* A bias of another length; a kernel that is not W's. */
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w,
					 TP(EIA_DTYPE_F32, 5), &y));
	a.kernel[0] = a.kernel[1] = a.kernel[2] = 2;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	a.kernel[0] = a.kernel[1] = a.kernel[2] = 3;
	ASSERT_EQ(0, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	/* Pads with auto_pad, a zero stride, reserved bits, a small input. */
	a.auto_pad = EIA_AUTO_PAD_VALID;
	a.pads[5] = 1;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	a.auto_pad = EIA_AUTO_PAD_NOTSET;
	a.pads[5] = 0;
	a.strides[1] = 0;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	a.strides[1] = 1;
	a.reserved = 1;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w, NULL, &y));
	a.reserved = 0;
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a,
					 TP(EIA_DTYPE_F32, 1, 4, 2, 5, 5), &w,
					 NULL, &y));
	/* An output of the wrong shape. */
	ASSERT_EQ(-EINVAL, eia_op_conv3d(self->pool, &a, &x, &w, NULL,
					 TP(EIA_DTYPE_F32, 1, 6, 3, 3, 4)));
}

TEST_HARNESS_MAIN
