// SPDX-License-Identifier: MIT
/* Transpose, Gather, Concat, Split and Slice, compared exactly. */
#include <errno.h>
#include <stdint.h>

#include "fixture.h"

#define F32 EIA_DTYPE_F32

static int64_t run_transpose(struct eia_pool *pool, struct eia_tensor x,
			     const struct eia_transpose_attr *attr)
{
	uint32_t perm[EIA_MAX_DIMS];
	int64_t dims[EIA_MAX_DIMS], idx[EIA_MAX_DIMS], xi[EIA_MAX_DIMS];
	struct eia_tensor y;
	double *ref;

	for (uint32_t i = 0; i < x.ndim; i++) {
		perm[i] = attr->n_perm ? (uint32_t)attr->perm[i] : x.ndim - 1 - i;
		dims[i] = x.dims[perm[i]];
	}
	y = tnew(x.dtype, x.ndim, dims);
	ref = ralloc(tcount(&y));
	tfill(&x, -1000, 1000);
	if (eia_op_transpose(pool, attr, &x, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		unravel(i, y.ndim, y.dims, idx);
		for (uint32_t d = 0; d < x.ndim; d++)
			xi[perm[d]] = idx[d];
		ref[i] = tget(&x, ravel(x.ndim, x.dims, xi));
	}
	return tcompare(&y, ref, 0, 0);
}

#define PERM(...) (&(struct eia_transpose_attr){ \
	.n_perm = (uint32_t)NDIMS(__VA_ARGS__), .perm = { __VA_ARGS__ } })

TEST_F(ops, transpose)
{
	struct eia_transpose_attr rev = { 0 };

	ASSERT_EQ(0, run_transpose(self->pool, T(F32, 3, 4, 5), &rev));
	ASSERT_EQ(0, run_transpose(self->pool, T(F32, 2, 3, 4, 5),
				   PERM(0, 2, 1, 3)));
	ASSERT_EQ(0, run_transpose(self->pool, T(EIA_DTYPE_I64, 2, 3, 4),
				   PERM(2, 0, 1)));
	ASSERT_EQ(0, run_transpose(self->pool, T(EIA_DTYPE_F16, 7, 9),
				   PERM(1, 0)));
	ASSERT_EQ(0, run_transpose(self->pool, T(EIA_DTYPE_BF16, 3, 7, 9),
				   PERM(2, 0, 1)));
	ASSERT_EQ(0, run_transpose(self->pool, T(EIA_DTYPE_BOOL, 2, 1, 3),
				   PERM(1, 2, 0)));
	ASSERT_EQ(0, run_transpose(self->pool, T(F32, 2, 0, 3), PERM(2, 1, 0)));
	ASSERT_EQ(0, run_transpose(self->pool, tscalar(F32), &rev));
	ASSERT_EQ(0, run_transpose(self->pool, T(F32, 2, 2, 2, 2, 2, 2, 2, 2),
				   PERM(7, 6, 5, 4, 3, 2, 1, 0)));
	ASSERT_EQ(0, run_transpose(self->pool, T(F32, 300, 257), PERM(1, 0)));
}

TEST_F(ops, transpose_refusals)
{
	struct eia_tensor x = T(F32, 2, 3, 4), y = T(F32, 3, 2, 4);
	struct eia_transpose_attr *p = PERM(1, 0, 2);

	ASSERT_EQ(0, eia_op_transpose(self->pool, p, &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_transpose(self->pool, PERM(1, 1, 2), &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_transpose(self->pool, PERM(1, 0, 3), &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_transpose(self->pool, PERM(1, -1, 2), &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_transpose(self->pool, PERM(1, 0), &x, &y));
	p->perm[5] = 1;
	ASSERT_EQ(-EINVAL, eia_op_transpose(self->pool, p, &x, &y));
	p->perm[5] = 0;
	p->reserved = 1;
	ASSERT_EQ(-EINVAL, eia_op_transpose(self->pool, p, &x, &y));
	/* The output shape must be the permuted one. */
	ASSERT_EQ(-EINVAL, eia_op_transpose(self->pool, PERM(1, 0, 2), &x,
					    TP(F32, 2, 3, 4)));
}

static int64_t run_gather(struct eia_pool *pool, struct eia_tensor data,
			  struct eia_tensor idx, int64_t axis)
{
	struct eia_axis_attr attr = { .axis = axis };
	uint32_t a = (uint32_t)(axis < 0 ? axis + data.ndim : axis);
	int64_t dims[EIA_MAX_DIMS], oi[EIA_MAX_DIMS], di[EIA_MAX_DIMS];
	uint32_t n = 0;
	struct eia_tensor y;
	double *ref;

	for (uint32_t i = 0; i < a; i++)
		dims[n++] = data.dims[i];
	for (uint32_t i = 0; i < idx.ndim; i++)
		dims[n++] = idx.dims[i];
	for (uint32_t i = a + 1; i < data.ndim; i++)
		dims[n++] = data.dims[i];
	y = tnew(data.dtype, n, dims);
	ref = ralloc(tcount(&y));
	tfill(&data, -1000, 1000);
	tfill(&idx, -data.dims[a], data.dims[a] - 1);
	if (eia_op_gather(pool, &attr, &data, &idx, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		int64_t k;

		unravel(i, y.ndim, y.dims, oi);
		for (uint32_t d = 0; d < a; d++)
			di[d] = oi[d];
		k = (int64_t)tget(&idx, ravel(idx.ndim, idx.dims, &oi[a]));
		di[a] = k < 0 ? k + data.dims[a] : k;
		for (uint32_t d = a + 1; d < data.ndim; d++)
			di[d] = oi[d - 1 + idx.ndim];
		ref[i] = tget(&data, ravel(data.ndim, data.dims, di));
	}
	return tcompare(&y, ref, 0, 0);
}

TEST_F(ops, gather)
{
	ASSERT_EQ(0, run_gather(self->pool, T(F32, 5, 4),
				T(EIA_DTYPE_I64, 3), 0));
	ASSERT_EQ(0, run_gather(self->pool, T(F32, 3, 5, 4),
				T(EIA_DTYPE_I32, 2, 3), 1));
	ASSERT_EQ(0, run_gather(self->pool, T(EIA_DTYPE_F16, 3, 5, 4),
				T(EIA_DTYPE_I64, 6), -1));
	ASSERT_EQ(0, run_gather(self->pool, T(EIA_DTYPE_BF16, 3, 5, 4),
				T(EIA_DTYPE_I32, 2, 2), 1));
	ASSERT_EQ(0, run_gather(self->pool, T(EIA_DTYPE_I64, 10, 2),
				tscalar(EIA_DTYPE_I64), 0));
	ASSERT_EQ(0, run_gather(self->pool, T(F32, 1000, 64),
				T(EIA_DTYPE_I32, 4, 500), 0));
	ASSERT_EQ(0, run_gather(self->pool, T(F32, 3, 4),
				T(EIA_DTYPE_I64, 0), 1));
	ASSERT_EQ(0, run_gather(self->pool, T(F32, 3, 4, 0),
				T(EIA_DTYPE_I64, 2), 1));
}

TEST_F(ops, gather_refusals)
{
	struct eia_axis_attr attr = { .axis = 1 };
	struct eia_tensor data = T(F32, 2, 3), idx = T(EIA_DTYPE_I64, 2);
	struct eia_tensor y = T(F32, 2, 2);

	tfill(&data, 1, 9);
	tset(&idx, 0, -3);
	tset(&idx, 1, 2);
	ASSERT_EQ(0, eia_op_gather(self->pool, &attr, &data, &idx, &y));
	ASSERT_EQ(tget(&data, 0), tget(&y, 0));
	ASSERT_EQ(tget(&data, 5), tget(&y, 3));
	/* Out of range either way: refused before anything is written. */
	tset(&y, 0, -1);
	tset(&idx, 1, 3);
	ASSERT_EQ(-EINVAL, eia_op_gather(self->pool, &attr, &data, &idx, &y));
	tset(&idx, 1, -4);
	ASSERT_EQ(-EINVAL, eia_op_gather(self->pool, &attr, &data, &idx, &y));
	tset(&idx, 1, INT64_MIN);
	ASSERT_EQ(-EINVAL, eia_op_gather(self->pool, &attr, &data, &idx, &y));
	ASSERT_EQ(-1, tget(&y, 0));
	/* Float indices, bad axis, output rank over 8. */
	ASSERT_EQ(-EINVAL, eia_op_gather(self->pool, &attr, &data,
					 TP(F32, 2), &y));
	attr.axis = 2;
	ASSERT_EQ(-EINVAL, eia_op_gather(self->pool, &attr, &data, &idx, &y));
	attr.axis = 0;
	ASSERT_EQ(-EINVAL, eia_op_gather(self->pool, &attr, &data,
		TP(EIA_DTYPE_I64, 1, 1, 1, 1, 1, 1, 1, 1), TP(F32, 1)));
}

TEST_F(ops, concat)
{
	struct eia_axis_attr attr = { .axis = 1 };
	struct eia_tensor in[3] = { T(F32, 2, 3, 2), T(F32, 2, 0, 2),
				    T(F32, 2, 4, 2) };
	struct eia_tensor y = T(F32, 2, 7, 2), i64[2], y64;
	int64_t idx[3];
	double *ref = ralloc(28);

	for (int k = 0; k < 3; k++)
		tfill(&in[k], -9, 9);
	ASSERT_EQ(0, eia_op_concat(self->pool, &attr, in, 3, &y));
	for (int64_t i = 0; i < 28; i++) {
		unravel(i, 3, y.dims, idx);
		ref[i] = idx[1] < 3 ? tget(&in[0], (idx[0] * 3 + idx[1]) * 2 + idx[2]) :
			 tget(&in[2], (idx[0] * 4 + idx[1] - 3) * 2 + idx[2]);
	}
	ASSERT_EQ(0, tcompare(&y, ref, 0, 0));
	/* Negative axis, int64, a single input. */
	attr.axis = -1;
	i64[0] = T(EIA_DTYPE_I64, 2, 2);
	i64[1] = T(EIA_DTYPE_I64, 2, 1);
	tfill(&i64[0], -5, 5);
	tfill(&i64[1], -5, 5);
	y64 = T(EIA_DTYPE_I64, 2, 3);
	ASSERT_EQ(0, eia_op_concat(self->pool, &attr, i64, 2, &y64));
	ASSERT_EQ(tget(&i64[1], 1), tget(&y64, 5));
	ASSERT_EQ(tget(&i64[0], 1), tget(&y64, 1));
	ASSERT_EQ(0, eia_op_concat(self->pool, &attr, i64, 1,
				   &(struct eia_tensor[]){ tlike(&i64[0]) }[0]));
	/* Other dims differ, dtypes differ, ranks differ, axis out of range. */
	ASSERT_EQ(-EINVAL, eia_op_concat(self->pool, &attr,
		(struct eia_tensor[]){ T(F32, 2, 2), T(F32, 3, 2) }, 2,
		TP(F32, 2, 4)));
	ASSERT_EQ(-EINVAL, eia_op_concat(self->pool, &attr,
		(struct eia_tensor[]){ T(F32, 2, 2), T(EIA_DTYPE_F16, 2, 2) }, 2,
		TP(F32, 2, 4)));
	/* Elements of one size are not enough: the dtypes must match. */
	ASSERT_EQ(-EINVAL, eia_op_concat(self->pool, &attr,
		(struct eia_tensor[]){ T(EIA_DTYPE_BF16, 2, 2),
				       T(EIA_DTYPE_F16, 2, 2) }, 2,
		TP(EIA_DTYPE_BF16, 2, 4)));
	ASSERT_EQ(0, eia_op_concat(self->pool, &attr,
		(struct eia_tensor[]){ T(EIA_DTYPE_BF16, 2, 2),
				       T(EIA_DTYPE_BF16, 2, 1) }, 2,
		TP(EIA_DTYPE_BF16, 2, 3)));
	ASSERT_EQ(-EINVAL, eia_op_concat(self->pool, &attr,
		(struct eia_tensor[]){ T(F32, 2, 2), T(F32, 2) }, 2,
		TP(F32, 2, 3)));
	attr.axis = 2;
	ASSERT_EQ(-EINVAL, eia_op_concat(self->pool, &attr, i64, 2, &y64));
	ASSERT_EQ(-EINVAL, eia_op_concat(self->pool, &attr, i64, 0, &y64));
}

TEST_F(ops, split)
{
	struct eia_split_attr attr = { .axis = 1, .n_split = 3,
				       .split = { 2, 0, 3 } };
	struct eia_tensor x = T(F32, 3, 5), out[3];
	int64_t sizes[3] = { 3, 3, 1 };

	tfill(&x, -9, 9);
	out[0] = T(F32, 3, 2);
	out[1] = T(F32, 3, 0);
	out[2] = T(F32, 3, 3);
	ASSERT_EQ(0, eia_op_split(self->pool, &attr, &x, out, 3));
	for (int64_t r = 0; r < 3; r++)
		for (int64_t c = 0; c < 5; c++)
			ASSERT_EQ(tget(&x, r * 5 + c),
				  c < 2 ? tget(&out[0], r * 2 + c) :
					  tget(&out[2], r * 3 + c - 2));
	/* Equal parts of ceil(7 / 3) = 3, the last one smaller. */
	x = T(EIA_DTYPE_F16, 7, 2);
	tfill(&x, -9, 9);
	attr = (struct eia_split_attr){ .axis = -2 };
	for (int k = 0; k < 3; k++)
		out[k] = T(EIA_DTYPE_F16, sizes[k], 2);
	ASSERT_EQ(0, eia_op_split(self->pool, &attr, &x, out, 3));
	ASSERT_EQ(tget(&x, 13), tget(&out[2], 1));
	ASSERT_EQ(tget(&x, 6), tget(&out[1], 0));
	x.dtype = EIA_DTYPE_BF16;
	tfill(&x, -9, 9);
	for (int k = 0; k < 3; k++)
		out[k].dtype = EIA_DTYPE_BF16;
	ASSERT_EQ(0, eia_op_split(self->pool, &attr, &x, out, 3));
	ASSERT_EQ(tget(&x, 13), tget(&out[2], 1));
	ASSERT_EQ(tget(&x, 7), tget(&out[1], 1));
	out[1].dtype = EIA_DTYPE_F16;
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, &x, out, 3));
	/* 5 into 4 parts of 2 would leave the last one nothing. */
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, TP(F32, 5, 1),
		(struct eia_tensor[]){ T(F32, 2, 1), T(F32, 2, 1),
				       T(F32, 1, 1), T(F32, 0, 1) }, 4));
	/* Sizes not adding up, negative, count not matching the outputs. */
	attr = (struct eia_split_attr){ .n_split = 2, .split = { 2, 4 } };
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, TP(F32, 5),
		(struct eia_tensor[]){ T(F32, 2), T(F32, 4) }, 2));
	attr.split[0] = -1;
	attr.split[1] = 6;
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, TP(F32, 5),
		(struct eia_tensor[]){ T(F32, 0), T(F32, 6) }, 2));
	attr.split[0] = 1;
	attr.split[1] = 4;
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, TP(F32, 5),
		(struct eia_tensor[]){ T(F32, 1), T(F32, 4), T(F32, 0) }, 3));
	attr.split[5] = 1;
	ASSERT_EQ(-EINVAL, eia_op_split(self->pool, &attr, TP(F32, 5),
		(struct eia_tensor[]){ T(F32, 1), T(F32, 4) }, 2));
}

/* Slice: indices enumerated one by one under the ONNX clamping rules. */
static int64_t slice_index(int64_t d, int64_t s, int64_t e, int64_t st,
			   int64_t *list)
{
	int64_t n = 0;

	s = s < 0 ? s + d : s;
	e = e < 0 ? e + d : e;
	if (st > 0) {
		s = s < 0 ? 0 : (s > d ? d : s);
		e = e < 0 ? 0 : (e > d ? d : e);
		for (int64_t i = s; i < e; i = e - i > st ? i + st : e)
			list[n++] = i;
	} else {
		s = s < 0 ? 0 : (s > d - 1 ? d - 1 : s);
		e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
		for (int64_t i = s; i > e; i = i - e > -st ? i + st : e)
			list[n++] = i;
	}
	return n;
}

static int64_t run_slice(struct eia_pool *pool, struct eia_tensor x,
			 const struct eia_slice_attr *attr)
{
	int64_t lists[EIA_MAX_DIMS][64], dims[EIA_MAX_DIMS];
	int64_t oi[EIA_MAX_DIMS], xi[EIA_MAX_DIMS];
	struct eia_tensor y;
	double *ref;

	for (uint32_t d = 0; d < x.ndim; d++) {
		dims[d] = x.dims[d];
		for (int64_t i = 0; i < x.dims[d]; i++)
			lists[d][i] = i;
	}
	for (uint32_t k = 0; k < attr->n; k++) {
		uint32_t a = (uint32_t)(attr->axes[k] < 0 ?
					attr->axes[k] + x.ndim : attr->axes[k]);

		dims[a] = slice_index(x.dims[a], attr->starts[k], attr->ends[k],
				      attr->steps[k], lists[a]);
	}
	y = tnew(x.dtype, x.ndim, dims);
	ref = ralloc(tcount(&y));
	tfill(&x, -1000, 1000);
	if (eia_op_slice(pool, attr, &x, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		unravel(i, y.ndim, y.dims, oi);
		for (uint32_t d = 0; d < x.ndim; d++)
			xi[d] = lists[d][oi[d]];
		ref[i] = tget(&x, ravel(x.ndim, x.dims, xi));
	}
	return tcompare(&y, ref, 0, 0);
}

#define SLICE(...) (&(struct eia_slice_attr){ __VA_ARGS__ })

TEST_F(ops, slice)
{
	ASSERT_EQ(0, run_slice(self->pool, T(F32, 5, 6), SLICE(.n = 2,
		.starts = { 1, 0 }, .ends = { 4, 6 }, .axes = { 0, 1 },
		.steps = { 1, 2 })));
	/* Negative starts and ends, an end past the dim, int64 extremes. */
	ASSERT_EQ(0, run_slice(self->pool, T(F32, 4, 10), SLICE(.n = 2,
		.starts = { -3, -100 }, .ends = { INT64_MAX, -2 },
		.axes = { 0, -1 }, .steps = { 1, 3 })));
	/* Negative steps: the whole axis reversed, and a strided tail. */
	ASSERT_EQ(0, run_slice(self->pool, T(EIA_DTYPE_I64, 3, 7), SLICE(.n = 1,
		.starts = { -1 }, .ends = { INT64_MIN }, .axes = { 1 },
		.steps = { -1 })));
	ASSERT_EQ(0, run_slice(self->pool, T(EIA_DTYPE_F16, 9, 2, 3), SLICE(.n = 2,
		.starts = { 100, 2 }, .ends = { 1, -100 }, .axes = { 0, 2 },
		.steps = { -3, -1 })));
	ASSERT_EQ(0, run_slice(self->pool, T(EIA_DTYPE_BF16, 9, 2, 3), SLICE(.n = 2,
		.starts = { 1, 0 }, .ends = { 9, 3 }, .axes = { 0, 2 },
		.steps = { 2, 2 })));
	/* Empty results: start past end, and a 0-sized dim. */
	ASSERT_EQ(0, run_slice(self->pool, T(F32, 4, 4), SLICE(.n = 1,
		.starts = { 3 }, .ends = { 1 }, .axes = { 0 }, .steps = { 1 })));
	ASSERT_EQ(0, run_slice(self->pool, T(F32, 0, 4), SLICE(.n = 1,
		.starts = { 0 }, .ends = { 5 }, .axes = { 0 }, .steps = { -1 })));
	/* Huge steps take one element. */
	ASSERT_EQ(0, run_slice(self->pool, T(F32, 6), SLICE(.n = 1,
		.starts = { 2 }, .ends = { 6 }, .axes = { 0 },
		.steps = { INT64_MAX })));
	ASSERT_EQ(0, run_slice(self->pool, T(F32, 3, 4), SLICE(.n = 0)));
}

TEST_F(ops, slice_refusals)
{
	struct eia_tensor x = T(F32, 4, 4), y = T(F32, 2, 4);
	struct eia_slice_attr *a = SLICE(.n = 1, .starts = { 1 }, .ends = { 3 },
					 .axes = { 0 }, .steps = { 1 });

	ASSERT_EQ(0, eia_op_slice(self->pool, a, &x, &y));
	a->steps[0] = 0;
	ASSERT_EQ(-EINVAL, eia_op_slice(self->pool, a, &x, &y));
	a->steps[0] = INT64_MIN;
	ASSERT_EQ(-EINVAL, eia_op_slice(self->pool, a, &x, &y));
	a->steps[0] = 1;
	a->axes[0] = 2;
	ASSERT_EQ(-EINVAL, eia_op_slice(self->pool, a, &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_slice(self->pool, SLICE(.n = 2,
		.starts = { 1, 1 }, .ends = { 3, 3 }, .axes = { 0, -2 },
		.steps = { 1, 1 }), &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_slice(self->pool, SLICE(.n = 3), &x, &y));
	ASSERT_EQ(-EINVAL, eia_op_slice(self->pool, SLICE(.n = 1,
		.starts = { 1 }, .ends = { 3 }, .axes = { 0 }, .steps = { 1, 1 }),
		&x, &y));
	ASSERT_EQ(-EINVAL, eia_op_slice(self->pool, SLICE(.n = 1,
		.starts = { 1 }, .ends = { 3 }, .axes = { 0 }, .steps = { 1 }),
		&x, TP(F32, 3, 4)));
}

#define REPEATS(...) ((const int64_t[]){ __VA_ARGS__ })

static int64_t run_tile(struct eia_pool *pool, struct eia_tensor x,
			const int64_t *repeats)
{
	struct eia_tile_attr attr = { { 0 } };
	int64_t dims[EIA_MAX_DIMS], idx[EIA_MAX_DIMS], src[EIA_MAX_DIMS];
	struct eia_tensor y;
	double *ref;

	for (uint32_t i = 0; i < x.ndim; i++) {
		attr.repeats[i] = repeats[i];
		dims[i] = x.dims[i] * repeats[i];
	}
	y = tnew(x.dtype, x.ndim, dims);
	ref = ralloc(tcount(&y));
	tfill(&x, -100, 100);
	if (eia_op_tile(pool, &attr, &x, &y))
		return -1;
	for (int64_t i = 0; i < tcount(&y); i++) {
		unravel(i, y.ndim, y.dims, idx);
		for (uint32_t d = 0; d < x.ndim; d++)
			src[d] = idx[d] % x.dims[d];
		ref[i] = tget(&x, ravel(x.ndim, x.dims, src));
	}
	return tcompare(&y, ref, 0, 0);
}

TEST_F(ops, tile)
{
	static const uint32_t dts[] = { EIA_DTYPE_F32, EIA_DTYPE_F16,
					EIA_DTYPE_I64, EIA_DTYPE_BOOL,
					EIA_DTYPE_BF16 };

	for (size_t k = 0; k < ARRAY_SIZE(dts); k++) {
		ASSERT_EQ(0, run_tile(self->pool, T(dts[k], 2, 3), REPEATS(2, 3)));
		ASSERT_EQ(0, run_tile(self->pool, T(dts[k], 2, 1, 3),
				      REPEATS(1, 4, 1)));
		ASSERT_EQ(0, run_tile(self->pool, T(dts[k], 5), REPEATS(3)));
		ASSERT_EQ(0, run_tile(self->pool, T(dts[k], 2, 3), REPEATS(0, 2)));
		ASSERT_EQ(0, run_tile(self->pool, T(dts[k], 2, 1, 2, 1, 2, 1, 2, 1),
				      REPEATS(1, 2, 1, 2, 1, 2, 1, 2)));
		ASSERT_EQ(0, run_tile(self->pool, T(dts[k], 300, 7),
				      REPEATS(2, 30)));
	}
}

TEST_F(ops, tile_scalar_and_refusals)
{
	struct eia_tensor x = tscalar(EIA_DTYPE_I32), y = tscalar(EIA_DTYPE_I32);
	struct eia_tile_attr attr = { { 0 } };

	*(int32_t *)x.data = 42;
	ASSERT_EQ(0, eia_op_tile(self->pool, &attr, &x, &y));
	ASSERT_EQ(42, *(int32_t *)y.data);
	/* Repeats past the rank, negative, overflowing; the output's dims. */
	attr.repeats[0] = 2;
	ASSERT_EQ(-EINVAL, eia_op_tile(self->pool, &attr, &x, &y));
	attr.repeats[0] = -1;
	ASSERT_EQ(-EINVAL, eia_op_tile(self->pool, &attr, TP(EIA_DTYPE_F32, 2),
				       TP(EIA_DTYPE_F32, 2)));
	attr.repeats[0] = INT64_MAX;
	ASSERT_EQ(-EINVAL, eia_op_tile(self->pool, &attr, TP(EIA_DTYPE_F32, 2),
				       TP(EIA_DTYPE_F32, 2)));
	attr.repeats[0] = 3;
	ASSERT_EQ(-EINVAL, eia_op_tile(self->pool, &attr, TP(EIA_DTYPE_F32, 2),
				       TP(EIA_DTYPE_F32, 5)));
}

TEST_HARNESS_MAIN
