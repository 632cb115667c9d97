// SPDX-License-Identifier: MIT
/* Conv (2-D) against a direct double-precision loop over every tap. */
#include <errno.h>

#include "fixture.h"

struct conv_case {
	uint32_t dtype;
	int64_t n, c, h, w, m, kh, kw, group;
	int64_t strides[2], dilations[2], pads[4];
	uint32_t auto_pad;
	bool bias;
};

/* Output size and begin pad of one axis, straight from the ONNX text. */
static int64_t ref_out(const struct conv_case *k, int axis, int64_t *pb)
{
	int64_t in = axis ? k->w : k->h, kk = axis ? k->kw : k->kh;
	int64_t s = k->strides[axis], ek = (kk - 1) * k->dilations[axis] + 1;
	int64_t out, total;

	switch (k->auto_pad) {
	case EIA_AUTO_PAD_SAME_UPPER:
	case EIA_AUTO_PAD_SAME_LOWER:
		out = (in + s - 1) / s;
		total = (out - 1) * s + ek - in;
		if (total < 0)
			total = 0;
		*pb = k->auto_pad == EIA_AUTO_PAD_SAME_UPPER ? total / 2 :
							      (total + 1) / 2;
		return out;
	case EIA_AUTO_PAD_VALID:
		*pb = 0;
		return (in - ek) / s + 1;
	default:
		*pb = k->pads[axis];
		return (in + k->pads[axis] + k->pads[axis + 2] - ek) / s + 1;
	}
}

static int64_t run_conv(struct eia_pool *pool, const struct conv_case *k)
{
	struct eia_conv2d_attr attr = {
		.strides = { k->strides[0], k->strides[1] },
		.dilations = { k->dilations[0], k->dilations[1] },
		.group = k->group, .auto_pad = k->auto_pad,
	};
	int64_t pt, pl, oh = ref_out(k, 0, &pt), ow = ref_out(k, 1, &pl);
	int64_t cg = k->c / k->group, mg = k->m / k->group;
	struct eia_tensor x = T(k->dtype, k->n, k->c, k->h, k->w);
	struct eia_tensor w = T(k->dtype, k->m, cg, k->kh, k->kw);
	struct eia_tensor b = T(k->dtype, k->m);
	struct eia_tensor y = T(k->dtype, k->n, k->m, oh, ow);
	double *ref = ralloc(tcount(&y));
	double tol = tol_of(k->dtype, TOL_F32_BLAS);

	for (int i = 0; i < 4; i++)
		attr.pads[i] = k->pads[i];
	tfill(&x, -1, 1);
	tfill(&w, -1, 1);
	tfill(&b, -1, 1);
	if (eia_op_conv2d(pool, &attr, &x, &w, k->bias ? &b : NULL, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		int64_t idx[4], g;
		double s;

		unravel(i, 4, y.dims, idx);
		g = idx[1] / mg;
		s = k->bias ? tget(&b, idx[1]) : 0.0;
		for (int64_t ci = 0; ci < cg; ci++)
			for (int64_t a = 0; a < k->kh; a++)
				for (int64_t e = 0; e < k->kw; e++) {
					int64_t ih = idx[2] * k->strides[0] - pt +
						     a * k->dilations[0];
					int64_t iw = idx[3] * k->strides[1] - pl +
						     e * k->dilations[1];

					if (ih < 0 || ih >= k->h || iw < 0 ||
					    iw >= k->w)
						continue;
					s += tget(&x, ((idx[0] * k->c + g * cg + ci) *
						       k->h + ih) * k->w + iw) *
					     tget(&w, ((idx[1] * cg + ci) * k->kh + a) *
						       k->kw + e);
				}
		ref[i] = s;
	}
	return tcompare(&y, ref, tol, tol);
}

#define CASE(...) (&(struct conv_case){ .dtype = EIA_DTYPE_F32, .n = 1, \
	.group = 1, .strides = { 1, 1 }, .dilations = { 1, 1 }, __VA_ARGS__ })

TEST_F(ops, conv_basic_padded)
{
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 2, .c = 3, .h = 7, .w = 6,
		.m = 4, .kh = 3, .kw = 3, .pads = { 1, 1, 1, 1 }, .bias = true)));
}

TEST_F(ops, conv_strides_dilations_asymmetric_pads)
{
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 2, .c = 2, .h = 11, .w = 9,
		.m = 3, .kh = 3, .kw = 2, .strides = { 2, 1 },
		.dilations = { 2, 3 }, .pads = { 1, 0, 2, 3 })));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 3, .h = 8, .w = 8, .m = 5,
		.kh = 5, .kw = 1, .strides = { 3, 2 }, .pads = { 0, 2, 4, 1 },
		.bias = true)));
}

TEST_F(ops, conv_groups_and_depthwise)
{
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 2, .c = 6, .h = 5, .w = 5,
		.m = 9, .kh = 3, .kw = 3, .group = 3, .pads = { 1, 1, 1, 1 })));
	/* Depthwise: group = channels. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 2, .c = 8, .h = 9, .w = 7,
		.m = 8, .kh = 3, .kw = 3, .group = 8, .pads = { 1, 1, 1, 1 },
		.strides = { 2, 2 }, .bias = true)));
}

TEST_F(ops, conv_1x1)
{
	/* Unit stride, no padding: the input is multiplied in place. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 3, .c = 8, .h = 6, .w = 5,
		.m = 4, .kh = 1, .kw = 1, .group = 2, .bias = true)));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 4, .h = 6, .w = 5, .m = 4,
		.kh = 1, .kw = 1, .strides = { 2, 2 })));
}

TEST_F(ops, conv_auto_pad)
{
	for (uint32_t ap = EIA_AUTO_PAD_SAME_UPPER; ap <= EIA_AUTO_PAD_VALID;
	     ap++)
		ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 2, .h = 7, .w = 8,
			.m = 3, .kh = 4, .kw = 3, .strides = { 2, 3 },
			.auto_pad = ap)));
}

TEST_F(ops, conv_f16_bf16)
{
	ASSERT_EQ(0, run_conv(self->pool, CASE(.dtype = EIA_DTYPE_F16, .n = 2,
		.c = 4, .h = 6, .w = 6, .m = 6, .kh = 3, .kw = 3, .group = 2,
		.pads = { 1, 1, 1, 1 }, .bias = true)));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.dtype = EIA_DTYPE_BF16, .n = 2,
		.c = 4, .h = 6, .w = 6, .m = 6, .kh = 3, .kw = 3, .group = 2,
		.pads = { 1, 1, 1, 1 }, .bias = true)));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.dtype = EIA_DTYPE_BF16,
		.c = 3, .h = 9, .w = 8, .m = 4, .kh = 3, .kw = 2,
		.strides = { 2, 1 }, .dilations = { 1, 2 }, .group = 1)));
}

TEST_F(ops, conv_several_chunks)
{
	/* 64 * 3 * 3 = 576 rows of patches: the 40x40 plane takes 2 tasks. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 64, .h = 40, .w = 40,
		.m = 8, .kh = 3, .kw = 3, .pads = { 1, 1, 1, 1 }, .bias = true)));
}

/*
 * The staged layout (AVX-512 CPUs): every stride phase a kernel can touch,
 * phases it cannot (a 1x1 kernel, a dilation that is a multiple of the
 * stride), dropped grid columns, filter counts off the tile's 8, several
 * tiles and tasks per image, and strides past the layout's limit of 4 (they
 * take im2col + BLAS).
 */
TEST_F(ops, conv_strided_phases)
{
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 2, .c = 3, .h = 17, .w = 19,
		.m = 13, .kh = 3, .kw = 3, .strides = { 2, 2 },
		.pads = { 1, 1, 1, 1 }, .bias = true)));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 5, .h = 23, .w = 29,
		.m = 9, .kh = 5, .kw = 4, .strides = { 3, 4 },
		.dilations = { 1, 2 }, .pads = { 2, 0, 1, 3 })));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 6, .h = 15, .w = 14,
		.m = 17, .kh = 1, .kw = 1, .strides = { 2, 3 }, .bias = true)));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 2, .h = 16, .w = 16,
		.m = 3, .kh = 3, .kw = 2, .strides = { 2, 2 },
		.dilations = { 2, 4 }, .pads = { 0, 1, 1, 0 })));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 3, .h = 21, .w = 22,
		.m = 4, .kh = 3, .kw = 3, .strides = { 5, 6 },
		.pads = { 1, 1, 1, 1 }, .bias = true)));
}

TEST_F(ops, conv_unpadded_and_1x1_padded)
{
	/* Unit stride, no pads: X read in place, the grid wider than Y. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 2, .c = 4, .h = 9, .w = 70,
		.m = 10, .kh = 3, .kw = 5, .bias = true)));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 3, .h = 12, .w = 11,
		.m = 8, .kh = 2, .kw = 3, .dilations = { 3, 2 })));
	/* A 1x1 kernel with pads is not the in-place case: pads read 0. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 5, .h = 7, .w = 6,
		.m = 11, .kh = 1, .kw = 1, .pads = { 1, 2, 0, 3 },
		.bias = true)));
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 2, .c = 4, .h = 5, .w = 5,
		.m = 6, .kh = 1, .kw = 1, .group = 2,
		.auto_pad = EIA_AUTO_PAD_SAME_UPPER)));
}

TEST_F(ops, conv_long_patches_many_filters)
{
	/* 2700-long patches, 70 filters, 2 groups: tails everywhere. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 600, .h = 9, .w = 10,
		.m = 70, .kh = 3, .kw = 3, .group = 2, .pads = { 1, 1, 1, 1 },
		.bias = true)));
	/* One small plane: the filters are what the workers share. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 8, .h = 6, .w = 7,
		.m = 45, .kh = 3, .kw = 3, .pads = { 1, 1, 1, 1 },
		.bias = true)));
	/* A ResNet stage: 64 to 64 filters over a 56x56 plane. */
	ASSERT_EQ(0, run_conv(self->pool, CASE(.c = 64, .h = 56, .w = 56,
		.m = 64, .kh = 3, .kw = 3, .pads = { 1, 1, 1, 1 },
		.bias = true)));
}

TEST_F(ops, conv_empty_batch)
{
	ASSERT_EQ(0, run_conv(self->pool, CASE(.n = 0, .c = 2, .h = 4, .w = 4,
		.m = 2, .kh = 3, .kw = 3)));
}

TEST_F(ops, conv_refusals)
{
	struct eia_conv2d_attr attr = EIA_CONV2D_ATTR_INIT;
	struct eia_tensor x = T(EIA_DTYPE_F32, 1, 4, 5, 5);
	struct eia_tensor w = T(EIA_DTYPE_F32, 6, 4, 3, 3);
	struct eia_tensor y = T(EIA_DTYPE_F32, 1, 6, 3, 3);
	struct eia_conv2d_attr a;

	ASSERT_EQ(0, eia_op_conv2d(self->pool, &attr, &x, &w, NULL, &y));
	/* group does not divide C or M, or disagrees with W. */
	a = attr;
	a.group = 3;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	a.group = 2;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	a.group = 0;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	/* kernel_shape disagreeing with W. */
	a = attr;
	a.kernel[0] = 2;
	a.kernel[1] = 3;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	/* Zero stride, zero dilation, negative or huge pad. */
	a = attr;
	a.strides[1] = 0;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	a = attr;
	a.dilations[0] = 0;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	a = attr;
	a.pads[3] = -1;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	a.pads[3] = (int64_t)1 << 40;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	/* auto_pad with explicit pads, unknown auto_pad, reserved bits. */
	a = attr;
	a.auto_pad = EIA_AUTO_PAD_SAME_UPPER;
	a.pads[0] = 1;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	a = attr;
	a.auto_pad = 4;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	a = attr;
	a.reserved = 1;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	/* Input smaller than the dilated kernel. */
	a = attr;
	a.dilations[0] = 3;
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &a, &x, &w, NULL, &y));
	/* Bias of the wrong length, W of another dtype, 3-D input. */
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &attr, &x, &w,
					 TP(EIA_DTYPE_F32, 5), &y));
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &attr, &x,
					 TP(EIA_DTYPE_F16, 6, 4, 3, 3), NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &attr, &x,
					 TP(EIA_DTYPE_BF16, 6, 4, 3, 3), NULL, &y));
	ASSERT_EQ(-EINVAL, eia_op_conv2d(self->pool, &attr,
					 TP(EIA_DTYPE_F32, 4, 5, 5), &w, NULL,
					 &y));
}

TEST_HARNESS_MAIN
