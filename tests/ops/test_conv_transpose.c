// SPDX-License-Identifier: MIT
/*
 * ConvTranspose against its definition, by scattering: input position i
 * of channel c adds x * W[c, m % (M / group), k] to output position
 * i * s - pad_begin + k * d of every filter m of c's group, in double.
 */
#include <errno.h>

#include "fixture.h"

struct ct_case {
	uint32_t dtype;
	int n;				/* spatial dims */
	int64_t batch, c, m, group;
	int64_t in[3], k[3], s[3], d[3], pads[6], opad[3];
	bool bias;
};

static int64_t run_ct(struct eia_pool *pool, const struct ct_case *p)
{
	struct eia_conv_transpose_attr attr = { .group = p->group };
	int64_t xd[5] = { p->batch, p->c }, wd[5] = { p->c, p->m / p->group };
	int64_t yd[5] = { p->batch, p->m }, bd[1] = { p->m };
	struct eia_tensor x, w, b, y, in[3];
	double *ref;
	int64_t mg = p->m / p->group, cg = p->c / p->group;

	for (int i = 0; i < p->n; i++) {
		attr.strides[i] = p->s[i];
		attr.dilations[i] = p->d[i];
		attr.pads[i] = p->pads[i];
		attr.pads[3 + i] = p->pads[3 + i];
		attr.output_padding[i] = p->opad[i];
		xd[2 + i] = p->in[i];
		wd[2 + i] = p->k[i];
		yd[2 + i] = p->s[i] * (p->in[i] - 1) + p->opad[i] + (p->k[i] - 1) * p->d[i] +
			    1 - p->pads[i] - p->pads[3 + i];
	}
	x = tnew(p->dtype, (uint32_t)p->n + 2, xd);
	w = tnew(p->dtype, (uint32_t)p->n + 2, wd);
	b = tnew(p->dtype, 1, bd);
	y = tnew(p->dtype, (uint32_t)p->n + 2, yd);
	tfill(&x, -1, 1);
	tfill(&w, -1, 1);
	tfill(&b, -1, 1);
	in[0] = x;
	in[1] = w;
	in[2] = b;
	if (eia_op_run(pool, EIA_OP_CONV_TRANSPOSE, &attr, sizeof(attr), in,
		       p->bias ? 3 : 2, &y, 1))
		return -1;
	ref = ralloc(tcount(&y) + 1);
	for (int64_t i = 0; i < tcount(&y); i++)
		ref[i] = p->bias ? tget(&b, i / (tcount(&y) / p->batch / p->m) % p->m) : 0;
	for (int64_t i = 0; i < tcount(&x); i++) {
		int64_t xi[5], wi[5], yi[5];

		unravel(i, x.ndim, x.dims, xi);
		for (int64_t j = 0; j < tcount(&w) / p->c; j++) {
			bool inside = true;

			wi[0] = xi[1];
			unravel(j, w.ndim - 1, &w.dims[1], &wi[1]);
			yi[0] = xi[0];
			yi[1] = xi[1] / cg * mg + wi[1];
			for (int a = 0; a < p->n; a++) {
				yi[2 + a] = xi[2 + a] * p->s[a] - p->pads[a] + wi[2 + a] * p->d[a];
				inside = inside && yi[2 + a] >= 0 && yi[2 + a] < y.dims[2 + a];
			}
			if (inside)
				ref[ravel(y.ndim, y.dims, yi)] += tget(&x, i) *
					tget(&w, ravel(w.ndim, w.dims, wi));
		}
	}
	return tcompare(&y, ref, tol_of(p->dtype, TOL_F32_BLAS),
			tol_of(p->dtype, TOL_F32_BLAS));
}

#define CASE(...) (&(struct ct_case){ .dtype = EIA_DTYPE_F32, .n = 2, \
	.batch = 2, .c = 3, .m = 4, .group = 1, .s = { 1, 1, 1 }, \
	.d = { 1, 1, 1 }, .bias = true, __VA_ARGS__ })

TEST_F(ops, conv_transpose_2d)
{
	ASSERT_EQ(0, run_ct(self->pool, CASE(.in = { 3, 3 }, .k = { 3, 3 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.in = { 5, 4 }, .k = { 3, 2 },
		.s = { 3, 2 }, .bias = false)));
	/* Pads, output_padding past the last tap, dilations. */
	ASSERT_EQ(0, run_ct(self->pool, CASE(.in = { 4, 5 }, .k = { 3, 3 },
		.s = { 3, 2 }, .pads = { 1, 2, 1, 2 }, .opad = { 1, 1 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.in = { 4, 5 }, .k = { 2, 3 },
		.d = { 2, 3 }, .s = { 2, 1 }, .pads = { 0, 1, 2, 0 })));
	/* The decoder's 2x upsampling: k 4, s 2, p 1. */
	ASSERT_EQ(0, run_ct(self->pool, CASE(.c = 8, .m = 6, .in = { 8, 8 },
		.k = { 4, 4 }, .s = { 2, 2 }, .pads = { 1, 1, 1, 1 })));
	/* Grouped and depthwise. */
	ASSERT_EQ(0, run_ct(self->pool, CASE(.c = 4, .m = 6, .group = 2,
		.in = { 5, 5 }, .k = { 3, 3 }, .s = { 2, 2 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.c = 4, .m = 4, .group = 4,
		.in = { 6, 5 }, .k = { 3, 3 }, .s = { 1, 2 }, .pads = { 1, 1, 1, 1 })));
	/* A stride larger than the kernel leaves positions with the bias only. */
	ASSERT_EQ(0, run_ct(self->pool, CASE(.in = { 3, 4 }, .k = { 2, 2 },
		.s = { 4, 3 }, .opad = { 3, 2 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.dtype = EIA_DTYPE_F16, .in = { 4, 4 },
		.k = { 3, 3 }, .s = { 2, 2 }, .pads = { 1, 1, 0, 0 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.dtype = EIA_DTYPE_BF16, .in = { 4, 4 },
		.k = { 3, 3 }, .s = { 2, 2 }, .opad = { 1, 0 })));
}

TEST_F(ops, conv_transpose_1d_3d)
{
	ASSERT_EQ(0, run_ct(self->pool, CASE(.n = 1, .in = { 7 }, .k = { 3 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.n = 1, .in = { 7 }, .k = { 4 },
		.s = { 3 }, .d = { 2 }, .pads = { 2, 0, 0, 1 }, .opad = { 2 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.n = 3, .in = { 3, 4, 5 },
		.k = { 3, 3, 3 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.n = 3, .c = 4, .m = 2, .group = 2,
		.in = { 3, 4, 3 }, .k = { 2, 3, 2 }, .s = { 2, 1, 3 },
		.d = { 1, 2, 1 }, .pads = { 1, 0, 1, 0, 2, 0 }, .opad = { 1, 0, 2 })));
	ASSERT_EQ(0, run_ct(self->pool, CASE(.n = 3, .dtype = EIA_DTYPE_F16,
		.in = { 2, 3, 3 }, .k = { 2, 2, 2 }, .s = { 2, 2, 2 })));
}

TEST_F(ops, conv_transpose_refusals)
{
	struct eia_conv_transpose_attr a = EIA_CONV_TRANSPOSE_ATTR_INIT, bad;
	struct eia_tensor in[3] = {
		T(EIA_DTYPE_F32, 1, 4, 3, 3), T(EIA_DTYPE_F32, 4, 3, 2, 2),
		T(EIA_DTYPE_F32, 6),
	};
	struct eia_tensor y = T(EIA_DTYPE_F32, 1, 6, 6, 6), out;

	a.strides[2] = a.dilations[2] = 0;
	a.strides[0] = a.strides[1] = 2;
	a.group = 2;
	ASSERT_EQ(0, eia_op_run(self->pool, EIA_OP_CONV_TRANSPOSE, &a, sizeof(a), in, 3,
				&y, 1));
	ASSERT_EQ(0, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &a, sizeof(a), in, 2, &out, 1));
	ASSERT_EQ(6, out.dims[1]);
	ASSERT_EQ(6, out.dims[3]);
#define REFUSED(field, value) do { \
		bad = a; \
		bad.field = value; \
		ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &bad, sizeof(bad), \
						in, 3, &out, 1)); \
	} while (0)
	REFUSED(group, 0);
	REFUSED(group, 3);		/* does not divide C */
	REFUSED(strides[0], 0);
	REFUSED(dilations[1], 0);
	REFUSED(pads[0], -1);
	REFUSED(output_padding[1], -1);
	REFUSED(strides[0], (int64_t)INT32_MAX + 1);
	REFUSED(strides[2], 1);		/* past the spatial dims */
	REFUSED(pads[5], 1);
	REFUSED(output_padding[2], 1);
	REFUSED(pads[0], 6);		/* an output of 0 rows */
#undef REFUSED
	/* W's C, B's length, mixed dtypes, ranks, integers. */
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &a, sizeof(a),
		(struct eia_tensor[]){ in[0], T(EIA_DTYPE_F32, 3, 3, 2, 2) }, 2, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &a, sizeof(a),
		(struct eia_tensor[]){ in[0], in[1], T(EIA_DTYPE_F32, 5) }, 3, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &a, sizeof(a),
		(struct eia_tensor[]){ in[0], T(EIA_DTYPE_F16, 4, 3, 2, 2) }, 2, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &a, sizeof(a),
		(struct eia_tensor[]){ in[0], T(EIA_DTYPE_F32, 4, 3, 2) }, 2, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &a, sizeof(a),
		(struct eia_tensor[]){ T(EIA_DTYPE_I64, 1, 4, 3, 3),
				       T(EIA_DTYPE_I64, 4, 3, 2, 2) }, 2, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_infer(EIA_OP_CONV_TRANSPOSE, &a, sizeof(a),
		(struct eia_tensor[]){ T(EIA_DTYPE_F32, 1, 4),
				       T(EIA_DTYPE_F32, 4, 3) }, 2, &out, 1));
	ASSERT_EQ(-EINVAL, eia_op_run(self->pool, EIA_OP_CONV_TRANSPOSE, &a, sizeof(a), in, 3,
				      TP(EIA_DTYPE_F32, 1, 6, 6, 5), 1));
}

TEST_HARNESS_MAIN
