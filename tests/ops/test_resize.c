// SPDX-License-Identifier: MIT
/*
 * Resize against a transcription of ONNX's reference (op_resize.py): per
 * dim, the coefficients of the two (nearest, linear) or four (cubic)
 * neighbours of the source coordinate, an integral coordinate taken as the
 * right one of its pair with ratio 1, indices outside X reading the edge;
 * the output is the sum over the product of every dim's neighbours.
 */
#include <errno.h>
#include <math.h>

#include "fixture.h"

struct rs_case {
	uint32_t dtype, ndim;
	int64_t in[EIA_MAX_DIMS], sizes[EIA_MAX_DIMS];
	double scales[EIA_MAX_DIMS];	/* 0: sizes mode */
	uint32_t mode, coord, nearest, exclude;
	float a;
};

/* Neighbour indices and coefficients of output index @o along dim @d. */
static int ref_dim(const struct rs_case *p, int d, int64_t o, int64_t *idx,
		   double *c)
{
	double in = (double)p->in[d];
	double s = p->scales[d] ? p->scales[d] : (double)p->sizes[d] / in;
	double len = p->scales[d] ? s * in : (double)p->sizes[d], x, r, sum = 0;
	double A = p->a;
	int64_t base;
	int n;

	switch (p->coord) {
	case EIA_RESIZE_HALF_PIXEL: x = (o + 0.5) / s - 0.5; break;
	case EIA_RESIZE_PYTORCH_HALF_PIXEL: x = len > 1 ? (o + 0.5) / s - 0.5 : 0; break;
	case EIA_RESIZE_ALIGN_CORNERS: x = len == 1 ? 0 : o * (in - 1) / (len - 1); break;
	case EIA_RESIZE_ASYMMETRIC: x = o / s; break;
	default: x = (o + 0.5) / s; break;
	}
	if (x == floor(x)) {
		r = 1;
		base = (int64_t)x - 1;
	} else {
		r = x - floor(x);
		base = (int64_t)floor(x);
	}
	if (p->mode == EIA_RESIZE_CUBIC) {
		n = 4;
		base--;
		c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
		c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
		c[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
		c[3] = ((A * (2 - r) - 5 * A) * (2 - r) + 8 * A) * (2 - r) - 4 * A;
	} else if (p->mode == EIA_RESIZE_LINEAR) {
		n = 2;
		c[0] = 1 - r;
		c[1] = r;
	} else {
		bool right = r == 1 || p->nearest == EIA_RESIZE_CEIL ||
			     (p->nearest == EIA_RESIZE_ROUND_PREFER_FLOOR && r > 0.5) ||
			     (p->nearest == EIA_RESIZE_ROUND_PREFER_CEIL && r >= 0.5);

		n = 2;
		c[0] = !right;
		c[1] = right;
	}
	for (int k = 0; k < n; k++) {
		idx[k] = base + k;
		if (p->exclude && (idx[k] < 0 || idx[k] >= p->in[d]))
			c[k] = 0;
		sum += c[k];
	}
	for (int k = 0; k < n; k++) {
		if (p->exclude)
			c[k] /= sum;
		idx[k] = idx[k] < 0 ? 0 : idx[k] >= p->in[d] ? p->in[d] - 1 : idx[k];
	}
	return n;
}

static int64_t run_resize(struct eia_pool *pool, const struct rs_case *p)
{
	struct eia_resize_attr attr = {
		.mode = p->mode, .coord_mode = p->coord, .nearest_mode = p->nearest,
		.exclude_outside = p->exclude, .cubic_coeff_a = p->a,
	};
	struct eia_tensor x = tnew(p->dtype, p->ndim, p->in);
	struct eia_tensor y = tnew(p->dtype, p->ndim, p->sizes);
	double *ref = ralloc(tcount(&y) + 1);

	for (uint32_t d = 0; d < p->ndim; d++) {
		attr.sizes[d] = p->sizes[d];
		attr.scales[d] = p->scales[d];
	}
	tfill(&x, -2, 2);
	if (eia_op_run(pool, EIA_OP_RESIZE, &attr, sizeof(attr), &x, 1, &y, 1))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		int64_t at[EIA_MAX_DIMS], idx[EIA_MAX_DIMS][4], k[EIA_MAX_DIMS] = { 0 };
		double c[EIA_MAX_DIMS][4], sum = 0;
		int n[EIA_MAX_DIMS], d;

		unravel(i, p->ndim, y.dims, at);
		for (d = 0; d < (int)p->ndim; d++)
			n[d] = ref_dim(p, d, at[d], idx[d], c[d]);
		do {
			int64_t src[EIA_MAX_DIMS];
			double w = 1;

			for (d = 0; d < (int)p->ndim; d++) {
				src[d] = idx[d][k[d]];
				w *= c[d][k[d]];
			}
			sum += w * tget(&x, ravel(p->ndim, x.dims, src));
			for (d = (int)p->ndim - 1; d >= 0 && ++k[d] == n[d]; d--)
				k[d] = 0;
		} while (d >= 0);
		ref[i] = sum;
	}
	return tcompare(&y, ref, tol_of(p->dtype, TOL_F32), tol_of(p->dtype, TOL_F32));
}

#define CASE(...) (&(struct rs_case){ .dtype = EIA_DTYPE_F32, .ndim = 4, \
	.a = -0.75f, __VA_ARGS__ })

TEST_F(ops, resize_modes)
{
	static const uint32_t coords[] = {
		EIA_RESIZE_HALF_PIXEL, EIA_RESIZE_PYTORCH_HALF_PIXEL,
		EIA_RESIZE_ALIGN_CORNERS, EIA_RESIZE_ASYMMETRIC,
		EIA_RESIZE_TF_HALF_PIXEL_FOR_NN,
	};

	for (uint32_t mode = 0; mode <= EIA_RESIZE_CUBIC; mode++)
	for (unsigned int ci = 0; ci < sizeof(coords) / sizeof(coords[0]); ci++)
	for (uint32_t nm = 0; nm <= (mode ? 0 : EIA_RESIZE_CEIL); nm++) {
		uint32_t co = coords[ci];

		/* Upsampling by scales, downsampling by sizes, a unit dim. */
		ASSERT_EQ(0, run_resize(self->pool, CASE(.mode = mode, .coord = co,
			.nearest = nm, .in = { 2, 3, 4, 5 }, .sizes = { 2, 3, 8, 12 },
			.scales = { 1, 1, 2, 2.5 })));
		ASSERT_EQ(0, run_resize(self->pool, CASE(.mode = mode, .coord = co,
			.nearest = nm, .in = { 1, 2, 9, 7 }, .sizes = { 1, 2, 4, 3 })));
		ASSERT_EQ(0, run_resize(self->pool, CASE(.mode = mode, .coord = co,
			.nearest = nm, .in = { 1, 2, 4, 5 }, .sizes = { 1, 2, 2, 1 },
			.scales = { 1, 1, 0.6, 0.3 })));
		ASSERT_EQ(0, run_resize(self->pool, CASE(.mode = mode, .coord = co,
			.nearest = nm, .in = { 1, 1, 4, 4 }, .sizes = { 1, 1, 1, 1 })));
	}
}

TEST_F(ops, resize_ranks_dtypes)
{
	/* Trilinear and tricubic 5-D, 3-D, 1-D, every dim resized. */
	ASSERT_EQ(0, run_resize(self->pool, CASE(.ndim = 5, .mode = EIA_RESIZE_LINEAR,
		.in = { 1, 2, 3, 4, 5 }, .sizes = { 1, 2, 6, 8, 10 },
		.scales = { 1, 1, 2, 2, 2 })));
	ASSERT_EQ(0, run_resize(self->pool, CASE(.ndim = 5, .mode = EIA_RESIZE_CUBIC,
		.coord = EIA_RESIZE_ALIGN_CORNERS, .in = { 1, 1, 3, 4, 5 },
		.sizes = { 1, 1, 5, 7, 3 })));
	ASSERT_EQ(0, run_resize(self->pool, CASE(.ndim = 3, .mode = EIA_RESIZE_LINEAR,
		.coord = EIA_RESIZE_PYTORCH_HALF_PIXEL, .in = { 2, 3, 10 },
		.sizes = { 2, 3, 25 })));
	ASSERT_EQ(0, run_resize(self->pool, CASE(.ndim = 1, .mode = EIA_RESIZE_CUBIC,
		.exclude = 1, .a = -0.5f, .in = { 9 }, .sizes = { 4 })));
	ASSERT_EQ(0, run_resize(self->pool, CASE(.ndim = 3, .mode = EIA_RESIZE_LINEAR,
		.in = { 3, 4, 5 }, .sizes = { 5, 2, 5 })));
	/* Cubic excluding the outside taps, upsampling and downsampling. */
	ASSERT_EQ(0, run_resize(self->pool, CASE(.mode = EIA_RESIZE_CUBIC, .exclude = 1,
		.a = -0.5f, .in = { 1, 2, 4, 4 }, .sizes = { 1, 2, 8, 8 },
		.scales = { 1, 1, 2, 2 })));
	ASSERT_EQ(0, run_resize(self->pool, CASE(.mode = EIA_RESIZE_CUBIC, .exclude = 1,
		.a = -0.5f, .in = { 1, 2, 4, 4 }, .sizes = { 1, 2, 3, 3 },
		.scales = { 1, 1, 0.8, 0.8 })));
	for (uint32_t dt = EIA_DTYPE_F16; dt <= EIA_DTYPE_BF16; dt += EIA_DTYPE_BF16 - EIA_DTYPE_F16)
		for (uint32_t mode = 0; mode <= EIA_RESIZE_CUBIC; mode++)
			ASSERT_EQ(0, run_resize(self->pool, CASE(.dtype = dt, .mode = mode,
				.in = { 2, 3, 6, 5 }, .sizes = { 2, 3, 12, 7 })));
	/* Large enough for several tasks; a 0-sized output. */
	ASSERT_EQ(0, run_resize(self->pool, CASE(.mode = EIA_RESIZE_LINEAR,
		.in = { 2, 8, 32, 32 }, .sizes = { 2, 8, 64, 64 },
		.scales = { 1, 1, 2, 2 })));
	ASSERT_EQ(0, run_resize(self->pool, CASE(.in = { 2, 0, 3, 3 },
		.sizes = { 2, 0, 6, 6 })));
}

/* Values from ONNX's own node tests (onnx/backend/test/case/node/resize.py). */
TEST_F(ops, resize_onnx_values)
{
	struct eia_resize_attr a = EIA_RESIZE_ATTR_INIT;
	struct eia_tensor x = T(EIA_DTYPE_F32, 1, 1, 2, 4);
	struct eia_tensor y = T(EIA_DTYPE_F32, 1, 1, 1, 2);

	for (int i = 0; i < 8; i++)
		tset(&x, i, i + 1);
	a.mode = EIA_RESIZE_LINEAR;
	a.coord_mode = EIA_RESIZE_ALIGN_CORNERS;
	a.sizes[0] = a.sizes[1] = a.sizes[2] = 1;
	a.sizes[3] = 2;
	a.scales[0] = a.scales[1] = 1;
	a.scales[2] = a.scales[3] = 0.6f;
	ASSERT_EQ(0, eia_op_run(self->pool, EIA_OP_RESIZE, &a, sizeof(a), &x, 1, &y, 1));
	ASSERT_LT(fabs(tget(&y, 0) - 1.0), 1e-6);
	ASSERT_LT(fabs(tget(&y, 1) - 3.142857), 1e-6);
	a.coord_mode = EIA_RESIZE_HALF_PIXEL;
	ASSERT_EQ(0, eia_op_run(self->pool, EIA_OP_RESIZE, &a, sizeof(a), &x, 1, &y, 1));
	ASSERT_LT(fabs(tget(&y, 0) - 2.6666666), 1e-6);
	ASSERT_LT(fabs(tget(&y, 1) - 4.3333333), 1e-6);
}

TEST_F(ops, resize_refusals)
{
	struct eia_resize_attr a = EIA_RESIZE_ATTR_INIT, b;
	struct eia_tensor x = T(EIA_DTYPE_F32, 1, 2, 3, 4);
	struct eia_tensor y = T(EIA_DTYPE_F32, 1, 2, 6, 8);
	struct eia_tensor out;
	const int64_t dims[] = { 1, 2, 6, 8 };

	for (int i = 0; i < 4; i++)
		a.sizes[i] = dims[i];
	ASSERT_EQ(0, eia_op_run(self->pool, EIA_OP_RESIZE, &a, sizeof(a), &x, 1, &y, 1));
	ASSERT_EQ(0, eia_op_infer(EIA_OP_RESIZE, &a, sizeof(a), &x, 1, &out, 1));
	ASSERT_EQ(4, out.ndim);
	ASSERT_EQ(8, out.dims[3]);
#define REFUSED(field, value) do { \
		b = a; \
		b.field = value; \
		ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_RESIZE, &b, sizeof(b), &x, 1, &out, 1)); \
	} while (0)
	REFUSED(reserved, 1);
	REFUSED(mode, EIA_RESIZE_CUBIC + 1);
	REFUSED(coord_mode, EIA_RESIZE_TF_HALF_PIXEL_FOR_NN + 1);
	REFUSED(nearest_mode, EIA_RESIZE_CEIL + 1);
	REFUSED(exclude_outside, 2);
	REFUSED(cubic_coeff_a, NAN);
	REFUSED(sizes[2], -1);
	REFUSED(sizes[4], 1);	/* past X's rank */
	REFUSED(scales[4], 1.0);
	REFUSED(scales[1], -1.0);
	REFUSED(scales[1], INFINITY);
	REFUSED(scales[1], NAN);
#undef REFUSED
	/* Integers, a scalar, an empty dim to interpolate from, a wrong Y. */
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_RESIZE, &a, sizeof(a),
					TP(EIA_DTYPE_I64, 1, 2, 3, 4), 1, &out, 1));
	b = (struct eia_resize_attr)EIA_RESIZE_ATTR_INIT;
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_RESIZE, &b, sizeof(b),
					&(struct eia_tensor){ .dtype = EIA_DTYPE_F32,
							      .size = 4,
							      .data = y.data },
					1, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_RESIZE, &a, sizeof(a),
					TP(EIA_DTYPE_F32, 1, 2, 0, 4), 1, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(self->pool, EIA_OP_RESIZE, &a, sizeof(a), &x, 1,
				      TP(EIA_DTYPE_F32, 1, 2, 6, 7), 1));
	ASSERT_EQ(-EINVAL, eia_op_run(self->pool, EIA_OP_RESIZE, &a, sizeof(a) - 8, &x, 1,
				      &y, 1));
}

TEST_HARNESS_MAIN
