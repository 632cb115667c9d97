// SPDX-License-Identifier: MIT
/*
 * Constant folding: a node whose inputs are all constants (initializers or
 * earlier folds) is computed here, on the host, at prepare time, so that
 * the shape arithmetic exporters write (Shape -> Gather -> Unsqueeze ->
 * Concat -> Reshape, Range, Cast, ConstantOfShape, ...) never reaches the
 * device. Shape and Size fold whenever their input's shape is known.
 * Views (Reshape, Flatten, Squeeze, Unsqueeze, Identity) of a constant
 * share its data.
 *
 * Also here: merging nodes into a Conv: a BatchNormalization right after a
 * Conv with constant weights becomes new weights and bias, and a zero Pad
 * of the spatial dims right before a Conv becomes the Conv's own pads.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef int (*rt_fold_fn)(struct eia_model *m, struct rt_node *nd,
			  struct rt_tensor *out, struct eia_runner_error *err);

static double rt_ld_d(const void *p, int dt, size_t i)
{
	switch (dt) {
	case EIA_DTYPE_F32:
	case EIA_DTYPE_F16:
	case EIA_DTYPE_BF16:
		return rt_float_at(p, dt, i);
	case EIA_DTYPE_I64:
		return (double)((const int64_t *)p)[i];
	case EIA_DTYPE_I32:
		return ((const int32_t *)p)[i];
	case EIA_DTYPE_BOOL:
		return ((const uint8_t *)p)[i] != 0;
	}
	return 0;
}

static int64_t rt_ld_i(const void *p, int dt, size_t i)
{
	switch (dt) {
	case EIA_DTYPE_I64:
		return ((const int64_t *)p)[i];
	case EIA_DTYPE_I32:
		return ((const int32_t *)p)[i];
	case EIA_DTYPE_BOOL:
		return ((const uint8_t *)p)[i] != 0;
	}
	return 0;
}

static void rt_st_d(void *p, int dt, size_t i, double v)
{
	switch (dt) {
	case EIA_DTYPE_F32:
	case EIA_DTYPE_F16:
	case EIA_DTYPE_BF16:
		rt_float_set(p, dt, i, (float)v);
		break;
	case EIA_DTYPE_I64:
		((int64_t *)p)[i] = eia_cast_to_i64(v);
		break;
	case EIA_DTYPE_I32:
		((int32_t *)p)[i] = eia_cast_to_i32(v);
		break;
	case EIA_DTYPE_BOOL:
		((uint8_t *)p)[i] = v != 0;
		break;
	}
}

static void rt_st_i(void *p, int dt, size_t i, int64_t v)
{
	switch (dt) {
	case EIA_DTYPE_I64:
		((int64_t *)p)[i] = v;
		break;
	case EIA_DTYPE_I32:
		((int32_t *)p)[i] = (int32_t)(uint32_t)(uint64_t)v;
		break;
	case EIA_DTYPE_BOOL:
		((uint8_t *)p)[i] = v != 0;
		break;
	case EIA_DTYPE_BF16:
		((uint16_t *)p)[i] = rt_int_to_bfloat(v);
		break;
	default:
		/* Straight to fp32: through double would round twice. */
		rt_st_d(p, dt, i, (float)v);
	}
}

/* Linear offset in @in of output element @i when @in broadcasts to @out. */
static size_t rt_bc_offset(const struct rt_shape *out, const struct rt_shape *in,
			   size_t i)
{
	size_t off = 0, stride = 1;
	int k, lead = out->ndim - in->ndim;

	for (k = out->ndim - 1; k >= 0; k--) {
		size_t c = i % (size_t)out->d[k];

		i /= (size_t)out->d[k];
		if (k - lead < 0)
			continue;
		if (in->d[k - lead] != 1)
			off += c * stride;
		stride *= (size_t)in->d[k - lead];
	}
	return off;
}

static size_t rt_numel(const struct rt_tensor *t)
{
	int64_t n = rt_shape_numel(&t->shape, t->dtype);

	return n < 0 ? 0 : (size_t)n;
}

static int rt_alloc_out(struct rt_tensor *out, struct eia_runner_error *err)
{
	out->nbytes = rt_numel(out) * rt_dtype_size(out->dtype);
	out->data = calloc(1, out->nbytes + 1);
	if (!out->data)
		return rt_fail(err, ENOMEM, "out of memory folding '%s'", out->name);
	out->owns_data = true;
	return 0;
}

static int rt_fold_view(struct eia_model *m, struct rt_node *nd,
			struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);

	(void)err;
	out->data = x->data;
	out->nbytes = x->nbytes;
	out->owns_data = false;
	return 0;
}

static int rt_fold_shape(struct eia_model *m, struct rt_node *nd,
			 struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	int64_t start;
	size_t i;
	int ret;

	ret = rt_attr_int(nd, "start", 0, &start, err);
	if (!ret)
		ret = rt_alloc_out(out, err);
	if (ret)
		return ret;
	if (start < 0)
		start += x->shape.ndim;
	if (start < 0)
		start = 0;
	for (i = 0; i < rt_numel(out); i++)
		((int64_t *)out->data)[i] = x->shape.d[(size_t)start + i];
	return 0;
}

static int rt_fold_size(struct eia_model *m, struct rt_node *nd,
			struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	int ret = rt_alloc_out(out, err);

	if (!ret)
		*(int64_t *)out->data = (int64_t)rt_numel(x);
	return ret;
}

static int rt_fold_constant(struct eia_model *m, struct rt_node *nd,
			    struct rt_tensor *out, struct eia_runner_error *err)
{
	const Onnx__AttributeProto *a = nd->proto->attribute[0];
	struct rt_shape s;
	const void *data;
	void *owned;
	int dtype, ret;

	(void)m;
	if (!strcmp(a->name, "value")) {
		ret = rt_tensor_proto_decode(a->t, "constant", &dtype, &s, &data,
					     &out->nbytes, &owned, err);
		if (ret)
			return ret;
		out->data = owned ? owned : (void *)data;
		out->owns_data = owned != NULL;
		return 0;
	}
	if (!strcmp(a->name, "value_floats") || !strcmp(a->name, "value_ints")) {
		out->data = a->n_floats ? (void *)a->floats : (void *)a->ints;
		out->nbytes = rt_numel(out) * rt_dtype_size(out->dtype);
		return 0;
	}
	ret = rt_alloc_out(out, err);
	if (ret)
		return ret;
	if (!strcmp(a->name, "value_float"))
		*(float *)out->data = a->f;
	else
		*(int64_t *)out->data = a->i;
	return 0;
}

static int rt_fold_constant_of_shape(struct eia_model *m, struct rt_node *nd,
				     struct rt_tensor *out, struct eia_runner_error *err)
{
	const Onnx__AttributeProto *a = rt_attr(nd, "value");
	size_t esize = rt_dtype_size(out->dtype), i, n = rt_numel(out);
	struct rt_shape s;
	const void *data;
	void *owned = NULL;
	size_t nbytes;
	int dtype, ret;

	(void)m;
	ret = rt_alloc_out(out, err);
	if (ret || !a)
		return ret;
	ret = rt_tensor_proto_decode(a->t, "value", &dtype, &s, &data, &nbytes, &owned, err);
	if (ret)
		return ret;
	if (nbytes != esize) {
		free(owned);
		return rt_node_fail(err, EINVAL, nd, "value must hold one element");
	}
	for (i = 0; i < n; i++)
		memcpy((char *)out->data + i * esize, data, esize);
	free(owned);
	return 0;
}

static int rt_fold_range(struct eia_model *m, struct rt_node *nd,
			 struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *st = rt_in(m, nd, 0), *dl = rt_in(m, nd, 2);
	size_t i;
	int ret = rt_alloc_out(out, err);

	if (ret)
		return ret;
	for (i = 0; i < rt_numel(out); i++) {
		if (out->dtype == EIA_DTYPE_F32)
			rt_st_d(out->data, out->dtype, i,
				rt_ld_d(st->data, st->dtype, 0) +
				(double)i * rt_ld_d(dl->data, dl->dtype, 0));
		else
			rt_st_i(out->data, out->dtype, i,
				rt_ld_i(st->data, st->dtype, 0) +
				(int64_t)i * rt_ld_i(dl->data, dl->dtype, 0));
	}
	return 0;
}

static int rt_fold_cast(struct eia_model *m, struct rt_node *nd,
			struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	size_t i;
	int ret;

	if (x->dtype == out->dtype)
		return rt_fold_view(m, nd, out, err);
	ret = rt_alloc_out(out, err);
	if (ret)
		return ret;
	for (i = 0; i < rt_numel(out); i++) {
		if (rt_dtype_float(x->dtype))
			rt_st_d(out->data, out->dtype, i, rt_ld_d(x->data, x->dtype, i));
		else
			rt_st_i(out->data, out->dtype, i, rt_ld_i(x->data, x->dtype, i));
	}
	return 0;
}

static double rt_unary_d(const char *op, double v)
{
	if (!strcmp(op, "Neg"))
		return -v;
	if (!strcmp(op, "Sqrt"))
		return sqrt(v);
	if (!strcmp(op, "Relu"))
		return v > 0 ? v : (v != v ? v : 0);
	if (!strcmp(op, "Tanh"))
		return tanh(v);
	if (!strcmp(op, "Erf"))
		return erf(v);
	if (!strcmp(op, "Exp"))
		return exp(v);
	/* Sigmoid */
	return v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v));
}

static int rt_fold_unary(struct eia_model *m, struct rt_node *nd,
			 struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	size_t i;
	int ret = rt_alloc_out(out, err);

	if (ret)
		return ret;
	for (i = 0; i < rt_numel(out); i++) {
		if (!strcmp(nd->op, "Not"))
			rt_st_i(out->data, out->dtype, i, !rt_ld_i(x->data, x->dtype, i));
		else if (!rt_dtype_float(x->dtype))
			/* Neg of an integer; INT64_MIN stays itself, as it wraps. */
			rt_st_i(out->data, out->dtype, i,
				(int64_t)(0 - (uint64_t)rt_ld_i(x->data, x->dtype, i)));
		else
			rt_st_d(out->data, out->dtype, i,
				rt_unary_d(nd->op, rt_ld_d(x->data, x->dtype, i)));
	}
	return 0;
}

static int rt_binary_i(const struct rt_node *nd, int64_t a, int64_t b, int64_t *r,
		       struct eia_runner_error *err)
{
	const char *op = nd->op;
	bool ovf = false;

	if (!strcmp(op, "Add"))
		ovf = __builtin_add_overflow(a, b, r);
	else if (!strcmp(op, "Sub"))
		ovf = __builtin_sub_overflow(a, b, r);
	else if (!strcmp(op, "Mul"))
		ovf = __builtin_mul_overflow(a, b, r);
	else if (!strcmp(op, "Div")) {
		if (!b || (a == INT64_MIN && b == -1))
			return rt_node_fail(err, EINVAL, nd, "integer division by zero or overflow");
		*r = a / b;
	} else if (!strcmp(op, "Pow"))
		*r = eia_cast_to_i64(pow((double)a, (double)b));
	else if (!strcmp(op, "Equal"))
		*r = a == b;
	else if (!strcmp(op, "Less"))
		*r = a < b;
	else if (!strcmp(op, "Greater"))
		*r = a > b;
	else if (!strcmp(op, "LessOrEqual"))
		*r = a <= b;
	else if (!strcmp(op, "GreaterOrEqual"))
		*r = a >= b;
	else if (!strcmp(op, "And"))
		*r = a && b;
	else if (!strcmp(op, "Or"))
		*r = a || b;
	else
		*r = !a != !b;
	if (ovf)
		return rt_node_fail(err, EINVAL, nd, "integer overflow");
	return 0;
}

static double rt_binary_d(const char *op, double a, double b)
{
	if (!strcmp(op, "Add"))
		return a + b;
	if (!strcmp(op, "Sub"))
		return a - b;
	if (!strcmp(op, "Mul"))
		return a * b;
	if (!strcmp(op, "Div"))
		return a / b;
	if (!strcmp(op, "Pow"))
		return pow(a, b);
	if (!strcmp(op, "Equal"))
		return a == b;
	if (!strcmp(op, "Less"))
		return a < b;
	if (!strcmp(op, "Greater"))
		return a > b;
	if (!strcmp(op, "LessOrEqual"))
		return a <= b;
	return a >= b;
}

static int rt_fold_binary(struct eia_model *m, struct rt_node *nd,
			  struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *a = rt_in(m, nd, 0), *b = rt_in(m, nd, 1);
	bool fl = rt_dtype_float(a->dtype) || rt_dtype_float(b->dtype);
	size_t i;
	int ret = rt_alloc_out(out, err);

	for (i = 0; !ret && i < rt_numel(out); i++) {
		size_t ia = rt_bc_offset(&out->shape, &a->shape, i);
		size_t ib = rt_bc_offset(&out->shape, &b->shape, i);
		int64_t r = 0;

		if (fl) {
			rt_st_d(out->data, out->dtype, i,
				rt_binary_d(nd->op, rt_ld_d(a->data, a->dtype, ia),
					    rt_ld_d(b->data, b->dtype, ib)));
			continue;
		}
		ret = rt_binary_i(nd, rt_ld_i(a->data, a->dtype, ia),
				  rt_ld_i(b->data, b->dtype, ib), &r, err);
		if (!ret)
			rt_st_i(out->data, out->dtype, i, r);
	}
	return ret;
}

static int rt_fold_where(struct eia_model *m, struct rt_node *nd,
			 struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *c = rt_in(m, nd, 0), *x = rt_in(m, nd, 1),
			       *y = rt_in(m, nd, 2);
	size_t es = rt_dtype_size(out->dtype), i;
	int ret = rt_alloc_out(out, err);

	for (i = 0; !ret && i < rt_numel(out); i++) {
		bool take_x = ((const uint8_t *)c->data)[rt_bc_offset(&out->shape, &c->shape, i)];
		const struct rt_tensor *src = take_x ? x : y;

		memcpy((char *)out->data + i * es,
		       (const char *)src->data + rt_bc_offset(&out->shape, &src->shape, i) * es,
		       es);
	}
	return ret;
}

static int rt_fold_expand(struct eia_model *m, struct rt_node *nd,
			  struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	size_t es = rt_dtype_size(out->dtype), i;
	int ret = rt_alloc_out(out, err);

	for (i = 0; !ret && i < rt_numel(out); i++)
		memcpy((char *)out->data + i * es,
		       (const char *)x->data + rt_bc_offset(&out->shape, &x->shape, i) * es, es);
	return ret;
}

/* Row-major coordinates of element @i of @s. */
static void rt_coords(const struct rt_shape *s, size_t i, int64_t *c)
{
	int k;

	for (k = s->ndim - 1; k >= 0; k--) {
		c[k] = (int64_t)(i % (size_t)s->d[k]);
		i /= (size_t)s->d[k];
	}
}

static size_t rt_linear(const struct rt_shape *s, const int64_t *c)
{
	size_t off = 0;
	int k;

	for (k = 0; k < s->ndim; k++)
		off = off * (size_t)s->d[k] + (size_t)c[k];
	return off;
}

static int rt_fold_transpose(struct eia_model *m, struct rt_node *nd,
			     struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	int64_t perm[EIA_MAX_DIMS], oc[EIA_MAX_DIMS], ic[EIA_MAX_DIMS];
	size_t es = rt_dtype_size(out->dtype), i;
	int k, ret;

	ret = rt_transpose_perm(nd, x->shape.ndim, perm, err);
	if (!ret)
		ret = rt_alloc_out(out, err);
	for (i = 0; !ret && i < rt_numel(out); i++) {
		rt_coords(&out->shape, i, oc);
		for (k = 0; k < x->shape.ndim; k++)
			ic[perm[k]] = oc[k];
		memcpy((char *)out->data + i * es,
		       (const char *)x->data + rt_linear(&x->shape, ic) * es, es);
	}
	return ret;
}

static int rt_fold_slice(struct eia_model *m, struct rt_node *nd,
			 struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	struct eia_slice_attr attr;
	struct rt_slice sl;
	struct rt_shape s;
	int64_t c[EIA_MAX_DIMS];
	size_t es = rt_dtype_size(out->dtype), i;
	int k, ret;

	ret = rt_slice_params(m, nd, &sl, &attr, &s, err);
	if (!ret)
		ret = rt_alloc_out(out, err);
	for (i = 0; !ret && i < rt_numel(out); i++) {
		rt_coords(&out->shape, i, c);
		for (k = 0; k < x->shape.ndim; k++)
			c[k] = sl.start[k] + c[k] * sl.step[k];
		memcpy((char *)out->data + i * es,
		       (const char *)x->data + rt_linear(&x->shape, c) * es, es);
	}
	return ret;
}

static int rt_fold_gather(struct eia_model *m, struct rt_node *nd,
			  struct rt_tensor *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0), *idx = rt_in(m, nd, 1);
	size_t es = rt_dtype_size(out->dtype), outer = 1, inner = es, n, i, j;
	int64_t axis, dim;
	int a, k, ret;

	ret = rt_attr_int(nd, "axis", 0, &axis, err);
	if (ret)
		return ret;
	a = rt_axis(axis, x->shape.ndim);
	dim = x->shape.d[a];
	for (k = 0; k < a; k++)
		outer *= (size_t)x->shape.d[k];
	for (k = a + 1; k < x->shape.ndim; k++)
		inner *= (size_t)x->shape.d[k];
	n = rt_numel(idx);
	for (j = 0; j < n; j++) {
		int64_t v = rt_ld_i(idx->data, idx->dtype, j);

		if (v < -dim || v >= dim)
			return rt_node_fail(err, EINVAL, nd, "index %lld out of range for dim %lld",
					    (long long)v, (long long)dim);
	}
	ret = rt_alloc_out(out, err);
	for (i = 0; !ret && i < outer; i++)
		for (j = 0; j < n; j++) {
			int64_t v = rt_ld_i(idx->data, idx->dtype, j);

			v += v < 0 ? dim : 0;
			memcpy((char *)out->data + (i * n + j) * inner,
			       (const char *)x->data + (i * (size_t)dim + (size_t)v) * inner, inner);
		}
	return ret;
}

/* Bytes of one slab along @a (the dims after it) and the count before it. */
static void rt_slabs(const struct rt_shape *s, int a, size_t es, size_t *outer,
		     size_t *inner)
{
	int k;

	*outer = 1;
	*inner = es;
	for (k = 0; k < a; k++)
		*outer *= (size_t)s->d[k];
	for (k = a + 1; k < s->ndim; k++)
		*inner *= (size_t)s->d[k];
}

static int rt_fold_concat(struct eia_model *m, struct rt_node *nd,
			  struct rt_tensor *out, struct eia_runner_error *err)
{
	size_t es = rt_dtype_size(out->dtype), outer, inner, o, pos = 0;
	int64_t axis;
	int a, k, ret;

	ret = rt_attr_int(nd, "axis", 0, &axis, err);
	if (!ret)
		ret = rt_alloc_out(out, err);
	if (ret)
		return ret;
	a = rt_axis(axis, out->shape.ndim);
	rt_slabs(&out->shape, a, es, &outer, &inner);
	for (k = 0; k < nd->nin; k++) {
		const struct rt_tensor *x = rt_in(m, nd, k);
		size_t len = inner * (size_t)x->shape.d[a];

		for (o = 0; o < outer; o++)
			memcpy((char *)out->data + o * inner * (size_t)out->shape.d[a] + pos,
			       (const char *)x->data + o * len, len);
		pos += len;
	}
	return 0;
}

static int rt_fold_split(struct eia_model *m, struct rt_node *nd,
			 struct rt_tensor *out0, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	size_t es = rt_dtype_size(x->dtype), outer, inner, o, pos = 0;
	int64_t sizes[EIA_OP_MAX_IO];
	int axis, k, ret;

	(void)out0;
	ret = rt_split_params(m, nd, &axis, sizes, err);
	if (ret)
		return ret;
	rt_slabs(&x->shape, axis, es, &outer, &inner);
	for (k = 0; k < nd->nout; k++) {
		struct rt_tensor *out = rt_out(m, nd, k);
		size_t len = inner * (size_t)sizes[k];

		if (out) {
			ret = rt_alloc_out(out, err);
			if (ret)
				return ret;
			for (o = 0; o < outer; o++)
				memcpy((char *)out->data + o * len,
				       (const char *)x->data + o * inner * (size_t)x->shape.d[axis] + pos,
				       len);
		}
		pos += len;
	}
	return 0;
}

struct rt_fold_desc {
	const char *op;
	rt_fold_fn fold;
	bool view;		/* shares its input's data: no size limit */
};

static const struct rt_fold_desc rt_folds[] = {
	{ "Identity", rt_fold_view, true },
	{ "Reshape", rt_fold_view, true },
	{ "Flatten", rt_fold_view, true },
	{ "Squeeze", rt_fold_view, true },
	{ "Unsqueeze", rt_fold_view, true },
	{ "Shape", rt_fold_shape, false },
	{ "Size", rt_fold_size, false },
	{ "Constant", rt_fold_constant, false },
	{ "ConstantOfShape", rt_fold_constant_of_shape, false },
	{ "Range", rt_fold_range, false },
	{ "Cast", rt_fold_cast, false },
	{ "CastLike", rt_fold_cast, false },
	{ "Neg", rt_fold_unary, false },
	{ "Not", rt_fold_unary, false },
	{ "Sqrt", rt_fold_unary, false },
	{ "Relu", rt_fold_unary, false },
	{ "Tanh", rt_fold_unary, false },
	{ "Erf", rt_fold_unary, false },
	{ "Exp", rt_fold_unary, false },
	{ "Sigmoid", rt_fold_unary, false },
	{ "Add", rt_fold_binary, false },
	{ "Sub", rt_fold_binary, false },
	{ "Mul", rt_fold_binary, false },
	{ "Div", rt_fold_binary, false },
	{ "Pow", rt_fold_binary, false },
	{ "Equal", rt_fold_binary, false },
	{ "Less", rt_fold_binary, false },
	{ "Greater", rt_fold_binary, false },
	{ "LessOrEqual", rt_fold_binary, false },
	{ "GreaterOrEqual", rt_fold_binary, false },
	{ "And", rt_fold_binary, false },
	{ "Or", rt_fold_binary, false },
	{ "Xor", rt_fold_binary, false },
	{ "Where", rt_fold_where, false },
	{ "Expand", rt_fold_expand, false },
	{ "Transpose", rt_fold_transpose, false },
	{ "Slice", rt_fold_slice, false },
	{ "Gather", rt_fold_gather, false },
	{ "Concat", rt_fold_concat, false },
	{ "Split", rt_fold_split, false },
};

static const struct rt_fold_desc *rt_find_fold(const char *op)
{
	size_t i;

	for (i = 0; i < sizeof(rt_folds) / sizeof(rt_folds[0]); i++)
		if (!strcmp(rt_folds[i].op, op))
			return &rt_folds[i];
	return NULL;
}

bool rt_foldable(struct eia_model *m, const struct rt_node *nd)
{
	const struct rt_fold_desc *d = rt_find_fold(nd->op);
	uint64_t bytes = 0;
	int i;

	if (!d || nd->nout < 1 || (nd->out[0] < 0 && strcmp(nd->op, "Split")))
		return false;
	if (!strcmp(nd->op, "Shape") || !strcmp(nd->op, "Size"))
		return true;
	for (i = 0; i < nd->nin; i++)
		if (nd->in[i] >= 0 && m->t[nd->in[i]].kind != RT_CONST)
			return false;
	if (d->view)
		return true;
	for (i = 0; i < nd->nout; i++) {
		const struct rt_tensor *t = rt_out(m, nd, i);

		if (t)
			bytes += rt_numel(t) * rt_dtype_size(t->dtype);
	}
	return bytes <= RT_MAX_FOLD_BYTES;
}

int rt_fold_node(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_fold_desc *d = rt_find_fold(nd->op);
	struct rt_tensor *out = rt_out(m, nd, 0);
	int i, ret;

	ret = d->fold(m, nd, out, err);
	if (ret)
		return ret;
	for (i = 0; i < nd->nout; i++)
		if (nd->out[i] >= 0)
			m->t[nd->out[i]].kind = RT_CONST;
	nd->folded = true;
	m->nfolded++;
	return 0;
}

/* How many live, unmerged nodes read @t, plus one if it is a graph output. */
static int rt_uses(const struct eia_model *m, int t)
{
	int i, j, n = m->t[t].is_output;

	for (i = 0; i < m->nn; i++) {
		const struct rt_node *nd = &m->n[i];

		if (!nd->live || nd->folded || nd->merged)
			continue;
		for (j = 0; j < nd->nin; j++)
			n += nd->in[j] == t;
	}
	return n;
}

static bool rt_is_const_f32(const struct rt_tensor *t)
{
	return t && t->kind == RT_CONST && t->dtype == EIA_DTYPE_F32;
}

/* Conv weights and bias with the BatchNormalization @bn applied. */
static int rt_merge_bn(struct eia_model *m, struct rt_node *conv, struct rt_node *bn,
		       struct eia_runner_error *err)
{
	const struct rt_tensor *w = rt_in(m, conv, 1), *b = rt_in(m, conv, 2);
	const float *gamma = rt_in(m, bn, 1)->data, *beta = rt_in(m, bn, 2)->data,
		    *mean = rt_in(m, bn, 3)->data, *var = rt_in(m, bn, 4)->data;
	struct rt_shape ws = w->shape, bs = { .ndim = 1, .d = { ws.d[0] } };
	size_t per = rt_numel(w) / (size_t)ws.d[0], o, k;
	float *nw = malloc(rt_numel(w) * sizeof(float) + 1);
	float *nb = malloc((size_t)ws.d[0] * sizeof(float) + 1);
	char base[256];
	float eps;
	int iw, ib, ret;

	ret = rt_attr_float(bn, "epsilon", 1e-5f, &eps, err);
	if (ret || !nw || !nb) {
		free(nw);
		free(nb);
		return ret ? ret : rt_fail(err, ENOMEM, "out of memory");
	}
	for (o = 0; o < (size_t)ws.d[0]; o++) {
		double s = gamma[o] / sqrt((double)var[o] + eps);
		double b0 = b ? ((const float *)b->data)[o] : 0;

		for (k = 0; k < per; k++)
			nw[o * per + k] = (float)(((const float *)w->data)[o * per + k] * s);
		nb[o] = (float)((b0 - mean[o]) * s + beta[o]);
	}
	snprintf(base, sizeof(base), "%.200s+bn", w->name);
	ret = rt_const_add(m, base, EIA_DTYPE_F32, &ws, nw, &iw, err);
	if (ret) {
		free(nb);
		return ret;
	}
	ret = rt_const_add(m, base, EIA_DTYPE_F32, &bs, nb, &ib, err);
	if (ret)
		return ret;
	/* The node's input array always has a spare slot for a missing B. */
	conv->in[1] = iw;
	conv->in[2] = ib;
	conv->nin = 3;
	m->t[conv->out[0]].needed = false;
	conv->out[0] = bn->out[0];
	m->t[bn->out[0]].producer = (int)(conv - m->n);
	bn->merged = true;
	m->nmerged++;
	return 0;
}

static bool rt_bn_mergeable(struct eia_model *m, const struct rt_node *bn)
{
	const struct rt_tensor *x = rt_in(m, bn, 0);
	const struct rt_node *conv;
	int64_t spatial;
	int i;

	if (x->producer < 0 || rt_attr_int(bn, "spatial", 1, &spatial, NULL) || spatial != 1)
		return false;
	conv = &m->n[x->producer];
	if (strcmp(conv->op, "Conv") || conv->folded || conv->merged ||
	    !rt_is_const_f32(rt_in(m, conv, 1)) || rt_in(m, conv, 1)->shape.d[0] < 1 ||
	    (rt_in(m, conv, 2) && !rt_is_const_f32(rt_in(m, conv, 2))) ||
	    rt_uses(m, bn->in[0]) != 1)
		return false;
	for (i = 1; i < 5; i++)
		if (!rt_is_const_f32(rt_in(m, bn, i)))
			return false;
	return true;
}

/* A constant zero Pad of H and W only, read by nothing but a Conv's X. */
static int rt_merge_pad(struct eia_model *m, struct rt_node *pad,
			struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, pad, 0), *v = rt_in(m, pad, 2);
	int64_t pads[2 * EIA_MAX_DIMS];
	struct rt_node *conv = NULL;
	char mode[16], ap[16];
	int i, j, ret;

	if (x->shape.ndim != 4 || rt_uses(m, pad->out[0]) != 1 || m->t[pad->out[0]].is_output)
		return 0;
	ret = rt_pad_params(m, pad, pads, mode, sizeof(mode), err);
	if (ret)
		return ret;
	if (strcmp(mode, "constant") || pads[0] || pads[1] || pads[4] || pads[5])
		return 0;
	for (i = 2; i < 8; i++)
		if (pads[i] < 0)
			return 0;
	if (v && rt_ld_d(v->data, v->dtype, 0) != 0)
		return 0;
	if (m->opset < 11) {
		float value;

		if (rt_attr_float(pad, "value", 0, &value, NULL) || value != 0)
			return 0;
	}
	for (i = 0; i < m->nn && !conv; i++) {
		struct rt_node *nd = &m->n[i];

		if (nd->live && !nd->folded && !nd->merged && nd->nin && nd->in[0] == pad->out[0])
			conv = nd;
	}
	if (!conv || strcmp(conv->op, "Conv"))
		return 0;
	for (j = 1; j < conv->nin; j++)
		if (conv->in[j] == pad->out[0])
			return 0;
	if (rt_attr_string(conv, "auto_pad", "NOTSET", ap, sizeof(ap), NULL) ||
	    strcmp(ap, "NOTSET"))
		return 0;
	conv->extra_pads[0] += pads[2];
	conv->extra_pads[1] += pads[3];
	conv->extra_pads[2] += pads[6];
	conv->extra_pads[3] += pads[7];
	conv->in[0] = pad->in[0];
	pad->merged = true;
	m->nmerged++;
	return 0;
}

int rt_merge_nodes(struct eia_model *m, struct eia_runner_error *err)
{
	int i, ret;

	for (i = 0; i < m->nn; i++) {
		struct rt_node *nd = &m->n[m->order[i]];

		if (!nd->live || nd->folded || nd->merged)
			continue;
		if (!strcmp(nd->op, "BatchNormalization") && rt_bn_mergeable(m, nd)) {
			ret = rt_merge_bn(m, &m->n[rt_in(m, nd, 0)->producer], nd, err);
			if (ret)
				return ret;
		} else if (!strcmp(nd->op, "Pad")) {
			ret = rt_merge_pad(m, nd, err);
			if (ret)
				return ret;
		}
	}
	return 0;
}
