// SPDX-License-Identifier: MIT
/*
 * Shape inference: the dtype and dims of every node's outputs, from its
 * inputs' and its attributes. Inputs that decide a shape (Reshape's shape,
 * Slice's starts, ...) must be constant by now: the model's own constants or
 * what fold.c computed from them, which is why inference and folding run
 * node by node in topological order.
 *
 * This is also where a node first meets the runner: an unknown operator, a
 * missing input or an attribute the runner does not know is refused here.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef int (*rt_infer_fn)(struct eia_model *m, struct rt_node *nd,
			   struct eia_runner_error *err);

struct rt_op_desc {
	const char *name;
	rt_infer_fn infer;
	int min_in, max_in, min_out, max_out;
	const char *const *attrs;
};

int rt_axis(int64_t axis, int rank)
{
	if (axis < -rank || axis >= rank)
		return -1;
	return (int)(axis < 0 ? axis + rank : axis);
}

bool rt_broadcast(const struct rt_shape *a, const struct rt_shape *b,
		  struct rt_shape *out)
{
	int r = a->ndim > b->ndim ? a->ndim : b->ndim, i;
	struct rt_shape s = { .ndim = r };	/* @out may be @a or @b */

	for (i = 0; i < r; i++) {
		int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
		int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;

		if (da != db && da != 1 && db != 1)
			return false;
		s.d[i] = da == 1 ? db : da;
	}
	*out = s;
	return true;
}

static int rt_set_out(struct eia_model *m, struct rt_node *nd, int i, int dtype,
		      const struct rt_shape *s, struct eia_runner_error *err)
{
	struct rt_tensor *t = rt_out(m, nd, i);
	char buf[160];

	if (!t)
		return 0;
	if (s->ndim < 0 || s->ndim > EIA_MAX_DIMS)
		return rt_node_fail(err, EOPNOTSUPP, nd, "output '%s' would have rank %d (at most %d)",
				    t->name, s->ndim, EIA_MAX_DIMS);
	if (rt_shape_numel(s, dtype) < 0)
		return rt_node_fail(err, EFBIG, nd, "output '%s' would have absurd dims %s",
				    t->name, rt_shape_str(s, buf, sizeof(buf)));
	t->dtype = dtype;
	t->shape = *s;
	t->shaped = true;
	return 0;
}

static struct rt_tensor *rt_req(struct eia_model *m, const struct rt_node *nd,
				int i)
{
	return rt_in(m, nd, i);
}

int rt_const_ints(struct eia_model *m, const struct rt_node *nd, int i,
		  const char *what, int64_t *vals, int max, int *n,
		  struct eia_runner_error *err)
{
	const struct rt_tensor *t = rt_in(m, nd, i);
	int64_t cnt;
	int k;

	if (!t)
		return rt_node_fail(err, EINVAL, nd, "input %d (%s) is missing", i, what);
	if (t->kind != RT_CONST)
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "input '%s' (%s) must be a constant the runner can compute at load time",
				    t->name, what);
	if (t->dtype != EIA_DTYPE_I64 && t->dtype != EIA_DTYPE_I32)
		return rt_node_fail(err, EINVAL, nd, "input '%s' (%s) is %s, not an integer",
				    t->name, what, eia_dtype_name(t->dtype));
	if (t->shape.ndim > 1)
		return rt_node_fail(err, EINVAL, nd, "input '%s' (%s) has rank %d, not 1",
				    t->name, what, t->shape.ndim);
	cnt = rt_shape_numel(&t->shape, t->dtype);
	if (cnt > max)
		return rt_node_fail(err, EOPNOTSUPP, nd, "input '%s' (%s) has %lld values, at most %d",
				    t->name, what, (long long)cnt, max);
	for (k = 0; k < cnt; k++)
		vals[k] = t->dtype == EIA_DTYPE_I64 ? ((const int64_t *)t->data)[k]
						    : ((const int32_t *)t->data)[k];
	*n = (int)cnt;
	return 0;
}

/* Axes from an attribute (older opsets) or from input @i (newer ones). */
static int rt_axes(struct eia_model *m, const struct rt_node *nd, int i,
		   int64_t *axes, int *n, struct eia_runner_error *err)
{
	int ret = rt_attr_ints(nd, "axes", axes, EIA_MAX_DIMS, n, err);

	if (ret || *n >= 0)
		return ret;
	if (rt_in(m, nd, i))
		return rt_const_ints(m, nd, i, "axes", axes, EIA_MAX_DIMS, n, err);
	*n = -1;
	return 0;
}

static int rt_same(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);

	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

static int rt_same_float(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);

	if (!rt_dtype_float(x->dtype))
		return rt_node_fail(err, EOPNOTSUPP, nd, "input '%s' is %s; only F32, F16 and BF16 are supported",
				    x->name, eia_dtype_name(x->dtype));
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

/* Floats and integers: the operators (Neg, Abs, Sign) eia has for both. */
static int rt_same_numeric(struct eia_model *m, struct rt_node *nd,
			   struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);

	if (x->dtype == EIA_DTYPE_BOOL)
		return rt_node_fail(err, EOPNOTSUPP, nd, "BOOL input '%s' is not supported",
				    x->name);
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

/* Min, Max, Sum and Mean: any number of inputs of one dtype, broadcast. */
static int rt_variadic(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x0 = rt_req(m, nd, 0);
	bool ints = !strcmp(nd->op, "Min") || !strcmp(nd->op, "Max");
	struct rt_shape s = x0->shape;
	int i;

	if (!rt_dtype_float(x0->dtype) &&
	    (!ints || (x0->dtype != EIA_DTYPE_I64 && x0->dtype != EIA_DTYPE_I32)))
		return rt_node_fail(err, EOPNOTSUPP, nd, "%s inputs are not supported",
				    eia_dtype_name(x0->dtype));
	for (i = 1; i < nd->nin; i++) {
		const struct rt_tensor *x = rt_in(m, nd, i);

		if (!x)
			return rt_node_fail(err, EINVAL, nd, "input %d is missing", i);
		if (x->dtype != x0->dtype)
			return rt_node_fail(err, EINVAL, nd, "inputs of different dtypes (%s, %s)",
					    eia_dtype_name(x0->dtype), eia_dtype_name(x->dtype));
		if (!rt_broadcast(&s, &x->shape, &s))
			return rt_node_fail(err, EINVAL, nd, "input '%s' does not broadcast",
					    x->name);
	}
	return rt_set_out(m, nd, 0, x0->dtype, &s, err);
}

static int rt_arg(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape s = { 0 };
	int64_t axis, keep;
	int a, i, ret;

	ret = rt_attr_int(nd, "axis", 0, &axis, err);
	if (!ret)
		ret = rt_attr_int(nd, "keepdims", 1, &keep, err);
	if (ret)
		return ret;
	a = rt_axis(axis, x->shape.ndim);
	if (a < 0)
		return rt_node_fail(err, EINVAL, nd, "axis %lld out of range", (long long)axis);
	if (x->dtype == EIA_DTYPE_BOOL)
		return rt_node_fail(err, EOPNOTSUPP, nd, "BOOL input '%s' is not supported",
				    x->name);
	for (i = 0; i < x->shape.ndim; i++)
		if (i != a || keep)
			s.d[s.ndim++] = i == a ? 1 : x->shape.d[i];
	return rt_set_out(m, nd, 0, EIA_DTYPE_I64, &s, err);
}

int rt_cumsum_axis(struct eia_model *m, const struct rt_node *nd, int *axis,
		   struct eia_runner_error *err)
{
	int64_t v;
	int n, ret = rt_const_ints(m, nd, 1, "axis", &v, 1, &n, err);

	if (ret)
		return ret;
	*axis = n == 1 ? rt_axis(v, rt_in(m, nd, 0)->shape.ndim) : -1;
	if (*axis < 0)
		return rt_node_fail(err, EINVAL, nd, "axis out of range");
	return 0;
}

static int rt_cumsum(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int axis, ret = rt_cumsum_axis(m, nd, &axis, err);

	if (ret)
		return ret;
	if (x->dtype == EIA_DTYPE_BOOL)
		return rt_node_fail(err, EOPNOTSUPP, nd, "BOOL input '%s' is not supported",
				    x->name);
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

int rt_tile_repeats(struct eia_model *m, const struct rt_node *nd, int64_t *repeats,
		    struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	int n, i, ret = rt_const_ints(m, nd, 1, "repeats", repeats, EIA_MAX_DIMS, &n, err);

	if (ret)
		return ret;
	if (n != x->shape.ndim)
		return rt_node_fail(err, EINVAL, nd, "%d repeats for rank %d", n, x->shape.ndim);
	for (i = 0; i < n; i++)
		if (repeats[i] < 0)
			return rt_node_fail(err, EINVAL, nd, "repeat %lld", (long long)repeats[i]);
	return 0;
}

static int rt_tile(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int64_t repeats[EIA_MAX_DIMS];
	struct rt_shape s = x->shape;
	int i, ret = rt_tile_repeats(m, nd, repeats, err);

	if (ret)
		return ret;
	for (i = 0; i < s.ndim; i++)
		if (__builtin_mul_overflow(s.d[i], repeats[i], &s.d[i]))
			return rt_node_fail(err, EINVAL, nd, "dim %d overflows", i);
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_instancenorm(struct eia_model *m, struct rt_node *nd,
			   struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int i;

	if (x->shape.ndim < 3 || !rt_dtype_float(x->dtype))
		return rt_node_fail(err, EINVAL, nd, "X must be float of rank >= 3");
	for (i = 1; i < 3; i++) {
		const struct rt_tensor *p = rt_req(m, nd, i);

		if (p->dtype != x->dtype || p->shape.ndim != 1 || p->shape.d[0] != x->shape.d[1])
			return rt_node_fail(err, EINVAL, nd, "'%s' is not (C) of X's dtype",
					    p->name);
	}
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

/* Dropout for inference: the input; the mask, when asked for, all true. */
static int rt_dropout(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0), *train = rt_in(m, nd, 2);
	int ret;

	if (train && (train->kind != RT_CONST || train->dtype != EIA_DTYPE_BOOL ||
		      rt_shape_numel(&train->shape, train->dtype) != 1))
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "training_mode must be a constant BOOL scalar");
	if (train && *(const uint8_t *)train->data)
		return rt_node_fail(err, EOPNOTSUPP, nd, "training mode is not supported");
	ret = rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
	return ret ? ret : rt_set_out(m, nd, 1, EIA_DTYPE_BOOL, &x->shape, err);
}

static int rt_size(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	struct rt_shape s = { 0 };

	(void)rt_req(m, nd, 0);
	return rt_set_out(m, nd, 0, EIA_DTYPE_I64, &s, err);
}

/* PRelu: Slope broadcasts unidirectionally to X. */
static int rt_prelu(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0), *slope = rt_req(m, nd, 1);
	struct rt_shape s;

	if (!rt_dtype_float(x->dtype) || slope->dtype != x->dtype)
		return rt_node_fail(err, EOPNOTSUPP, nd, "X and slope must share a float dtype");
	if (!rt_broadcast(&x->shape, &slope->shape, &s) || !rt_shape_eq(&s, &x->shape))
		return rt_node_fail(err, EINVAL, nd, "slope does not broadcast to X");
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

/* Trilu's diagonal offset k (input 1, constant; 0 without it). */
int rt_trilu_k(struct eia_model *m, const struct rt_node *nd, int64_t *k,
	       struct eia_runner_error *err)
{
	int n, ret;

	*k = 0;
	if (!rt_in(m, nd, 1))
		return 0;
	ret = rt_const_ints(m, nd, 1, "k", k, 1, &n, err);
	if (!ret && n != 1)
		return rt_node_fail(err, EINVAL, nd, "k is not one value");
	return ret;
}

static int rt_trilu(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int64_t k;
	int ret = rt_trilu_k(m, nd, &k, err);

	if (ret)
		return ret;
	if (x->shape.ndim < 2)
		return rt_node_fail(err, EINVAL, nd, "X has rank %d", x->shape.ndim);
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

static int rt_not(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);

	if (x->dtype != EIA_DTYPE_BOOL)
		return rt_node_fail(err, EINVAL, nd, "input '%s' is not BOOL", x->name);
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

static bool rt_is_compare(const char *op)
{
	return !strcmp(op, "Equal") || !strcmp(op, "Less") || !strcmp(op, "Greater") ||
	       !strcmp(op, "LessOrEqual") || !strcmp(op, "GreaterOrEqual");
}

static int rt_binary(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *a = rt_req(m, nd, 0), *b = rt_req(m, nd, 1);
	bool logic = !strcmp(nd->op, "And") || !strcmp(nd->op, "Or") || !strcmp(nd->op, "Xor");
	struct rt_shape s;
	char sa[160], sb[160];

	if (!rt_broadcast(&a->shape, &b->shape, &s))
		return rt_node_fail(err, EINVAL, nd, "shapes %s and %s do not broadcast",
				    rt_shape_str(&a->shape, sa, sizeof(sa)),
				    rt_shape_str(&b->shape, sb, sizeof(sb)));
	/* Pow-15 lets the exponent have a type of its own. */
	if (a->dtype != b->dtype && strcmp(nd->op, "Pow"))
		return rt_node_fail(err, EINVAL, nd, "inputs of different dtypes (%s, %s)",
				    eia_dtype_name(a->dtype), eia_dtype_name(b->dtype));
	/* BOOL: the logic operators' only dtype, and Equal's too. */
	if (logic ? a->dtype != EIA_DTYPE_BOOL :
		    a->dtype == EIA_DTYPE_BOOL && strcmp(nd->op, "Equal"))
		return rt_node_fail(err, EINVAL, nd, "%s inputs are not supported",
				    eia_dtype_name(a->dtype));
	return rt_set_out(m, nd, 0, rt_is_compare(nd->op) ? EIA_DTYPE_BOOL : a->dtype,
			  &s, err);
}

static int rt_where(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *c = rt_req(m, nd, 0), *x = rt_req(m, nd, 1),
			       *y = rt_req(m, nd, 2);
	struct rt_shape s;

	if (c->dtype != EIA_DTYPE_BOOL)
		return rt_node_fail(err, EINVAL, nd, "condition '%s' is not BOOL", c->name);
	if (x->dtype != y->dtype)
		return rt_node_fail(err, EINVAL, nd, "X and Y have different dtypes");
	if (!rt_broadcast(&c->shape, &x->shape, &s) || !rt_broadcast(&s, &y->shape, &s))
		return rt_node_fail(err, EINVAL, nd, "shapes do not broadcast");
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_cast(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int64_t to;
	int ret, dtype;

	ret = rt_attr_int(nd, "to", 0, &to, err);
	if (ret)
		return ret;
	dtype = rt_dtype_from_onnx((int32_t)to);
	if (!dtype)
		return rt_node_fail(err, EOPNOTSUPP, nd, "cast to %s is not supported",
				    rt_onnx_type_name((int32_t)to));
	return rt_set_out(m, nd, 0, dtype, &x->shape, err);
}

static int rt_clip(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int i;

	if (x->dtype == EIA_DTYPE_BOOL)
		return rt_node_fail(err, EOPNOTSUPP, nd, "BOOL input '%s' is not supported",
				    x->name);
	for (i = 1; i < nd->nin; i++) {
		const struct rt_tensor *b = rt_in(m, nd, i);

		if (b && (b->dtype != x->dtype || rt_shape_numel(&b->shape, b->dtype) != 1))
			return rt_node_fail(err, EINVAL, nd,
					    "bound '%s' is not one value of the input's dtype",
					    b->name);
	}
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

static int rt_cast_like(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0), *like = rt_req(m, nd, 1);

	return rt_set_out(m, nd, 0, like->dtype, &x->shape, err);
}

static int rt_shape_op(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape s = { .ndim = 1 };
	int64_t start, end;
	int ret;

	ret = rt_attr_int(nd, "start", 0, &start, err);
	if (!ret)
		ret = rt_attr_int(nd, "end", x->shape.ndim, &end, err);
	if (ret)
		return ret;
	/* Shape-15 clamps both ends to [0, rank]. */
	if (start < 0)
		start += x->shape.ndim;
	if (end < 0)
		end += x->shape.ndim;
	start = start < 0 ? 0 : start > x->shape.ndim ? x->shape.ndim : start;
	end = end < 0 ? 0 : end > x->shape.ndim ? x->shape.ndim : end;
	s.d[0] = end > start ? end - start : 0;
	return rt_set_out(m, nd, 0, EIA_DTYPE_I64, &s, err);
}

static int rt_constant(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	struct rt_shape s = { 0 };
	const Onnx__AttributeProto *a;

	if (nd->proto->n_attribute != 1)
		return rt_node_fail(err, EINVAL, nd, "needs exactly one value attribute");
	a = nd->proto->attribute[0];
	if (!strcmp(a->name, "value")) {
		const void *data;
		void *owned;
		size_t nbytes;
		int dtype, ret;

		if (!a->t)
			return rt_node_fail(err, EINVAL, nd, "attribute 'value' holds no tensor");
		ret = rt_tensor_proto_decode(a->t, "constant", &dtype, &s, &data,
					     &nbytes, &owned, err);
		free(owned);
		if (ret)
			return ret;
		return rt_set_out(m, nd, 0, dtype, &s, err);
	}
	if (!strcmp(a->name, "value_float"))
		return rt_set_out(m, nd, 0, EIA_DTYPE_F32, &s, err);
	if (!strcmp(a->name, "value_int"))
		return rt_set_out(m, nd, 0, EIA_DTYPE_I64, &s, err);
	s.ndim = 1;
	if (!strcmp(a->name, "value_floats")) {
		s.d[0] = (int64_t)a->n_floats;
		return rt_set_out(m, nd, 0, EIA_DTYPE_F32, &s, err);
	}
	if (!strcmp(a->name, "value_ints")) {
		s.d[0] = (int64_t)a->n_ints;
		return rt_set_out(m, nd, 0, EIA_DTYPE_I64, &s, err);
	}
	return rt_node_fail(err, EOPNOTSUPP, nd, "attribute '%s' is not supported", a->name);
}

static int rt_constant_of_shape(struct eia_model *m, struct rt_node *nd,
				struct eia_runner_error *err)
{
	const Onnx__AttributeProto *a = rt_attr(nd, "value");
	struct rt_shape s;
	int dtype = EIA_DTYPE_F32, ret, i;

	ret = rt_const_ints(m, nd, 0, "shape", s.d, EIA_MAX_DIMS, &s.ndim, err);
	if (ret)
		return ret;
	for (i = 0; i < s.ndim; i++)
		if (s.d[i] < 0)
			return rt_node_fail(err, EINVAL, nd, "negative dim %lld",
					    (long long)s.d[i]);
	if (a) {
		if (!a->t || !rt_dtype_from_onnx(a->t->data_type))
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "attribute 'value' is not a tensor of a supported dtype");
		dtype = rt_dtype_from_onnx(a->t->data_type);
	}
	return rt_set_out(m, nd, 0, dtype, &s, err);
}

static double rt_scalar(const struct rt_tensor *t)
{
	switch (t->dtype) {
	case EIA_DTYPE_F32:
		return *(const float *)t->data;
	case EIA_DTYPE_I64:
		return (double)*(const int64_t *)t->data;
	case EIA_DTYPE_I32:
		return *(const int32_t *)t->data;
	}
	return NAN;
}

static int rt_range(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *v[3];
	struct rt_shape s = { .ndim = 1 };
	double n;
	int i;

	for (i = 0; i < 3; i++) {
		v[i] = rt_req(m, nd, i);
		if (v[i]->kind != RT_CONST || rt_shape_numel(&v[i]->shape, v[i]->dtype) != 1)
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "input '%s' must be a constant scalar", v[i]->name);
		if (v[i]->dtype != v[0]->dtype ||
		    (v[i]->dtype != EIA_DTYPE_F32 && v[i]->dtype != EIA_DTYPE_I64 &&
		     v[i]->dtype != EIA_DTYPE_I32))
			return rt_node_fail(err, EOPNOTSUPP, nd, "inputs must share F32, I64 or I32");
	}
	if (rt_scalar(v[2]) == 0)
		return rt_node_fail(err, EINVAL, nd, "delta is 0");
	n = ceil((rt_scalar(v[1]) - rt_scalar(v[0])) / rt_scalar(v[2]));
	if (!(n < (double)RT_MAX_TENSOR_BYTES))
		return rt_node_fail(err, EFBIG, nd, "too many elements");
	s.d[0] = n > 0 ? (int64_t)n : 0;
	return rt_set_out(m, nd, 0, v[0]->dtype, &s, err);
}

static int rt_reshape(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape s;
	int64_t allowzero, known = 1, total = rt_shape_numel(&x->shape, x->dtype);
	int ret, i, infer = -1;

	ret = rt_attr_int(nd, "allowzero", 0, &allowzero, err);
	if (!ret)
		ret = rt_const_ints(m, nd, 1, "shape", s.d, EIA_MAX_DIMS, &s.ndim, err);
	if (ret)
		return ret;
	for (i = 0; i < s.ndim; i++) {
		if (s.d[i] == 0 && !allowzero) {
			if (i >= x->shape.ndim)
				return rt_node_fail(err, EINVAL, nd, "dim %d copies a dim the input lacks", i);
			s.d[i] = x->shape.d[i];
		}
		if (s.d[i] == -1) {
			if (infer >= 0)
				return rt_node_fail(err, EINVAL, nd, "more than one -1 in the shape");
			infer = i;
			continue;
		}
		if (s.d[i] < 0)
			return rt_node_fail(err, EINVAL, nd, "dim %lld in the shape", (long long)s.d[i]);
		if (__builtin_mul_overflow(known, s.d[i], &known))
			return rt_node_fail(err, EINVAL, nd, "shape overflows");
	}
	if (infer >= 0) {
		if (!known || total % known)
			return rt_node_fail(err, EINVAL, nd, "cannot infer the -1 dim");
		s.d[infer] = total / known;
		known = total;
	}
	if (known != total)
		return rt_node_fail(err, EINVAL, nd, "%lld elements cannot become %lld",
				    (long long)total, (long long)known);
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_flatten(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape s = { .ndim = 2, .d = { 1, 1 } };
	int64_t axis;
	int ret, a, i;

	ret = rt_attr_int(nd, "axis", 1, &axis, err);
	if (ret)
		return ret;
	a = axis == x->shape.ndim ? x->shape.ndim : rt_axis(axis, x->shape.ndim);
	if (a < 0)
		return rt_node_fail(err, EINVAL, nd, "axis %lld out of range", (long long)axis);
	for (i = 0; i < x->shape.ndim; i++)
		s.d[i < a ? 0 : 1] *= x->shape.d[i];
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_squeeze(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	bool drop[EIA_MAX_DIMS] = { false };
	int64_t axes[EIA_MAX_DIMS];
	struct rt_shape s = { 0 };
	int n, i, ret;

	ret = rt_axes(m, nd, 1, axes, &n, err);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		int a = rt_axis(axes[i], x->shape.ndim);

		if (a < 0 || x->shape.d[a] != 1)
			return rt_node_fail(err, EINVAL, nd, "axis %lld is not a dim of size 1",
					    (long long)axes[i]);
		drop[a] = true;
	}
	for (i = 0; i < x->shape.ndim; i++)
		if (!(n < 0 ? x->shape.d[i] == 1 : drop[i]))
			s.d[s.ndim++] = x->shape.d[i];
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_unsqueeze(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	bool add[EIA_MAX_DIMS] = { false };
	int64_t axes[EIA_MAX_DIMS];
	struct rt_shape s;
	int n, i, j, ret;

	ret = rt_axes(m, nd, 1, axes, &n, err);
	if (ret)
		return ret;
	if (n < 0)
		return rt_node_fail(err, EINVAL, nd, "no axes");
	s.ndim = x->shape.ndim + n;
	if (s.ndim > EIA_MAX_DIMS)
		return rt_node_fail(err, EOPNOTSUPP, nd, "rank %d is above %d", s.ndim, EIA_MAX_DIMS);
	for (i = 0; i < n; i++) {
		int a = rt_axis(axes[i], s.ndim);

		if (a < 0 || add[a])
			return rt_node_fail(err, EINVAL, nd, "axis %lld out of range or repeated",
					    (long long)axes[i]);
		add[a] = true;
	}
	for (i = 0, j = 0; i < s.ndim; i++)
		s.d[i] = add[i] ? 1 : x->shape.d[j++];
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_expand(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape want, s;
	int ret, i;

	ret = rt_const_ints(m, nd, 1, "shape", want.d, EIA_MAX_DIMS, &want.ndim, err);
	if (ret)
		return ret;
	for (i = 0; i < want.ndim; i++)
		if (want.d[i] < 0)
			return rt_node_fail(err, EINVAL, nd, "negative dim in the shape");
	if (!rt_broadcast(&x->shape, &want, &s))
		return rt_node_fail(err, EINVAL, nd, "input does not broadcast to the shape");
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_concat(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x0 = rt_req(m, nd, 0);
	struct rt_shape s = x0->shape;
	int64_t axis;
	int a, i, j, ret;

	ret = rt_attr_int(nd, "axis", INT64_MIN, &axis, err);
	if (ret)
		return ret;
	a = rt_axis(axis, s.ndim);
	if (a < 0)
		return rt_node_fail(err, EINVAL, nd, "axis missing or out of range");
	for (i = 1; i < nd->nin; i++) {
		const struct rt_tensor *x = rt_req(m, nd, i);

		if (!x)
			return rt_node_fail(err, EINVAL, nd, "input %d is missing", i);
		if (x->dtype != x0->dtype || x->shape.ndim != s.ndim)
			return rt_node_fail(err, EINVAL, nd, "input '%s' differs in dtype or rank",
					    x->name);
		for (j = 0; j < s.ndim; j++)
			if (j != a && x->shape.d[j] != s.d[j])
				return rt_node_fail(err, EINVAL, nd, "input '%s' differs in dim %d",
						    x->name, j);
		s.d[a] += x->shape.d[a];
	}
	return rt_set_out(m, nd, 0, x0->dtype, &s, err);
}

int rt_split_params(struct eia_model *m, const struct rt_node *nd, int *axis,
		    int64_t *sizes, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	int64_t ax, split[EIA_OP_MAX_IO], num, sum = 0, dim;
	int n, i, ret;

	ret = rt_attr_int(nd, "axis", 0, &ax, err);
	if (!ret)
		ret = rt_attr_ints(nd, "split", split, EIA_OP_MAX_IO, &n, err);
	if (!ret && n < 0 && rt_in(m, nd, 1))
		ret = rt_const_ints(m, nd, 1, "split", split, EIA_OP_MAX_IO, &n, err);
	if (!ret)
		ret = rt_attr_int(nd, "num_outputs", 0, &num, err);
	if (ret)
		return ret;
	*axis = rt_axis(ax, x->shape.ndim);
	if (*axis < 0)
		return rt_node_fail(err, EINVAL, nd, "axis %lld out of range", (long long)ax);
	dim = x->shape.d[*axis];
	if (n >= 0) {
		if (n != nd->nout)
			return rt_node_fail(err, EINVAL, nd, "%d split sizes for %d outputs",
					    n, nd->nout);
		for (i = 0; i < n; i++) {
			if (split[i] < 0)
				return rt_node_fail(err, EINVAL, nd, "negative split size");
			sizes[i] = split[i];
			sum += split[i];
		}
		if (sum != dim)
			return rt_node_fail(err, EINVAL, nd, "split sizes sum to %lld, not %lld",
					    (long long)sum, (long long)dim);
		return 0;
	}
	/* Equal parts, the last shorter (Split-18's num_outputs rule). */
	n = nd->nout;
	if (num && num != n)
		return rt_node_fail(err, EINVAL, nd, "num_outputs %lld for %d outputs",
				    (long long)num, n);
	for (i = 0; i < n; i++) {
		int64_t part = (dim + n - 1) / n;

		sizes[i] = sum + part <= dim ? part : dim - sum;
		sum += sizes[i];
	}
	if (n && sizes[n - 1] <= 0 && dim)
		return rt_node_fail(err, EINVAL, nd, "dim %lld does not split into %d parts",
				    (long long)dim, n);
	return 0;
}

static int rt_split(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int64_t sizes[EIA_OP_MAX_IO];
	int axis, i, ret;

	ret = rt_split_params(m, nd, &axis, sizes, err);
	for (i = 0; !ret && i < nd->nout; i++) {
		struct rt_shape s = x->shape;

		s.d[axis] = sizes[i];
		ret = rt_set_out(m, nd, i, x->dtype, &s, err);
	}
	return ret;
}

static int64_t rt_clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int rt_slice_params(struct eia_model *m, const struct rt_node *nd,
		    struct rt_slice *sl, struct eia_slice_attr *attr,
		    struct rt_shape *out, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	int64_t starts[EIA_MAX_DIMS], ends[EIA_MAX_DIMS], axes[EIA_MAX_DIMS],
		steps[EIA_MAX_DIMS];
	bool seen[EIA_MAX_DIMS] = { false };
	int n, ne, na = -1, ns = -1, i, ret;

	if (m->opset < 10) {
		ret = rt_attr_ints(nd, "starts", starts, EIA_MAX_DIMS, &n, err);
		if (!ret)
			ret = rt_attr_ints(nd, "ends", ends, EIA_MAX_DIMS, &ne, err);
		if (!ret)
			ret = rt_attr_ints(nd, "axes", axes, EIA_MAX_DIMS, &na, err);
	} else {
		ret = rt_const_ints(m, nd, 1, "starts", starts, EIA_MAX_DIMS, &n, err);
		if (!ret)
			ret = rt_const_ints(m, nd, 2, "ends", ends, EIA_MAX_DIMS, &ne, err);
		if (!ret && rt_in(m, nd, 3))
			ret = rt_const_ints(m, nd, 3, "axes", axes, EIA_MAX_DIMS, &na, err);
		if (!ret && rt_in(m, nd, 4))
			ret = rt_const_ints(m, nd, 4, "steps", steps, EIA_MAX_DIMS, &ns, err);
	}
	if (ret)
		return ret;
	if (n < 0 || n != ne || (na >= 0 && na != n) || (ns >= 0 && ns != n))
		return rt_node_fail(err, EINVAL, nd, "starts, ends, axes and steps differ in length");
	memset(attr, 0, sizeof(*attr));
	attr->n = (uint32_t)n;
	*out = x->shape;
	for (i = 0; i < x->shape.ndim; i++) {
		sl->start[i] = 0;
		sl->step[i] = 1;
	}
	for (i = 0; i < n; i++) {
		int64_t ax = na >= 0 ? axes[i] : i, step = ns >= 0 ? steps[i] : 1;
		int64_t dim, s, e, len;
		int a = rt_axis(ax, x->shape.ndim);

		if (a < 0 || seen[a])
			return rt_node_fail(err, EINVAL, nd, "axis %lld out of range or repeated",
					    (long long)ax);
		if (!step || step == INT64_MIN)
			return rt_node_fail(err, EINVAL, nd, "step %lld", (long long)step);
		seen[a] = true;
		attr->starts[i] = starts[i];
		attr->ends[i] = ends[i];
		attr->axes[i] = a;
		attr->steps[i] = step;
		dim = x->shape.d[a];
		s = starts[i] < 0 ? (starts[i] < -dim ? 0 : starts[i] + dim) : starts[i];
		e = ends[i] < 0 ? (ends[i] < -dim ? -1 : ends[i] + dim) : ends[i];
		if (step > 0) {
			s = rt_clamp(s, 0, dim);
			e = rt_clamp(e, 0, dim);
			len = e > s ? (e - s - 1) / step + 1 : 0;
		} else {
			s = rt_clamp(s, 0, dim - 1);
			e = rt_clamp(e, -1, dim - 1);
			len = s > e ? (s - e - 1) / -step + 1 : 0;
		}
		sl->start[a] = s;
		sl->step[a] = step;
		out->d[a] = len;
	}
	return 0;
}

static int rt_slice(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	struct eia_slice_attr attr;
	struct rt_slice sl;
	struct rt_shape s;
	int ret = rt_slice_params(m, nd, &sl, &attr, &s, err);

	return ret ? ret : rt_set_out(m, nd, 0, rt_req(m, nd, 0)->dtype, &s, err);
}

static int rt_gather(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0), *idx = rt_req(m, nd, 1);
	struct rt_shape s = { 0 };
	int64_t axis;
	int a, i, ret;

	ret = rt_attr_int(nd, "axis", 0, &axis, err);
	if (ret)
		return ret;
	a = rt_axis(axis, x->shape.ndim);
	if (a < 0)
		return rt_node_fail(err, EINVAL, nd, "axis %lld out of range", (long long)axis);
	if (idx->dtype != EIA_DTYPE_I64 && idx->dtype != EIA_DTYPE_I32)
		return rt_node_fail(err, EINVAL, nd, "indices '%s' are not I64 or I32", idx->name);
	if (x->shape.ndim + idx->shape.ndim - 1 > EIA_MAX_DIMS)
		return rt_node_fail(err, EOPNOTSUPP, nd, "output rank above %d", EIA_MAX_DIMS);
	for (i = 0; i < a; i++)
		s.d[s.ndim++] = x->shape.d[i];
	for (i = 0; i < idx->shape.ndim; i++)
		s.d[s.ndim++] = idx->shape.d[i];
	for (i = a + 1; i < x->shape.ndim; i++)
		s.d[s.ndim++] = x->shape.d[i];
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

int rt_transpose_perm(const struct rt_node *nd, int rank, int64_t *perm,
		      struct eia_runner_error *err)
{
	bool seen[EIA_MAX_DIMS] = { false };
	int n, i, ret;

	ret = rt_attr_ints(nd, "perm", perm, EIA_MAX_DIMS, &n, err);
	if (ret)
		return ret;
	if (n < 0) {
		for (i = 0; i < rank; i++)
			perm[i] = rank - 1 - i;
		return 0;
	}
	if (n != rank)
		return rt_node_fail(err, EINVAL, nd, "perm has %d entries for rank %d", n, rank);
	for (i = 0; i < n; i++) {
		if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
			return rt_node_fail(err, EINVAL, nd, "perm is not a permutation");
		seen[perm[i]] = true;
	}
	return 0;
}

static int rt_transpose(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int64_t perm[EIA_MAX_DIMS];
	struct rt_shape s = { .ndim = x->shape.ndim };
	int i, ret;

	ret = rt_transpose_perm(nd, x->shape.ndim, perm, err);
	if (ret)
		return ret;
	for (i = 0; i < s.ndim; i++)
		s.d[i] = x->shape.d[perm[i]];
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

int rt_reduce_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_reduce_attr *attr, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	bool seen[EIA_MAX_DIMS] = { false };
	int64_t keep, noop;
	int n, i, ret;

	memset(attr, 0, sizeof(*attr));
	ret = rt_axes(m, nd, 1, attr->axes, &n, err);
	if (!ret)
		ret = rt_attr_int(nd, "keepdims", 1, &keep, err);
	if (!ret)
		ret = rt_attr_int(nd, "noop_with_empty_axes", 0, &noop, err);
	if (ret)
		return ret;
	if ((keep != 0 && keep != 1) || (noop != 0 && noop != 1))
		return rt_node_fail(err, EINVAL, nd, "keepdims and noop_with_empty_axes are 0 or 1");
	for (i = 0; i < n; i++) {
		int a = rt_axis(attr->axes[i], x->shape.ndim);

		if (a < 0 || seen[a])
			return rt_node_fail(err, EINVAL, nd, "axis %lld out of range or repeated",
					    (long long)attr->axes[i]);
		seen[a] = true;
		attr->axes[i] = a;
	}
	attr->n_axes = n < 0 ? 0 : (uint32_t)n;
	attr->keepdims = (uint32_t)keep;
	attr->noop_with_empty_axes = (uint32_t)noop;
	return 0;
}

/* ReduceMean, ReduceSum, ReduceMax, ... (all the reductions). */
static int rt_reduce(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct eia_reduce_attr attr;
	bool red[EIA_MAX_DIMS] = { false };
	struct rt_shape s = { 0 };
	unsigned int i;
	int ret;

	ret = rt_reduce_attr(m, nd, &attr, err);
	if (ret)
		return ret;
	/* Integers for the reductions that stay integers, as in gpud. */
	if (!rt_dtype_float(x->dtype) &&
	    (x->dtype == EIA_DTYPE_BOOL || !strcmp(nd->op, "ReduceMean") ||
	     !strcmp(nd->op, "ReduceL2") || !strncmp(nd->op, "ReduceLog", 9)))
		return rt_node_fail(err, EOPNOTSUPP, nd, "%s input is not supported",
				    eia_dtype_name(x->dtype));
	if (!attr.n_axes && attr.noop_with_empty_axes)
		return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
	for (i = 0; i < (unsigned int)x->shape.ndim; i++)
		red[i] = !attr.n_axes;
	for (i = 0; i < attr.n_axes; i++)
		red[attr.axes[i]] = true;
	for (i = 0; i < (unsigned int)x->shape.ndim; i++) {
		if (!red[i])
			s.d[s.ndim++] = x->shape.d[i];
		else if (attr.keepdims)
			s.d[s.ndim++] = 1;
	}
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_matmul(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *a = rt_req(m, nd, 0), *b = rt_req(m, nd, 1);
	struct rt_shape sa = a->shape, sb = b->shape, batch_a, batch_b, s;
	int64_t mm, k, kb, nn;
	int i;

	if (sa.ndim < 1 || sb.ndim < 1 || a->dtype != b->dtype || !rt_dtype_float(a->dtype))
		return rt_node_fail(err, EINVAL, nd, "needs float operands of rank >= 1 and one dtype");
	k = sa.d[sa.ndim - 1];
	mm = sa.ndim >= 2 ? sa.d[sa.ndim - 2] : 1;
	kb = sb.ndim >= 2 ? sb.d[sb.ndim - 2] : sb.d[0];
	nn = sb.ndim >= 2 ? sb.d[sb.ndim - 1] : 1;
	if (k != kb)
		return rt_node_fail(err, EINVAL, nd, "inner dims %lld and %lld differ",
				    (long long)k, (long long)kb);
	batch_a.ndim = sa.ndim > 2 ? sa.ndim - 2 : 0;
	batch_b.ndim = sb.ndim > 2 ? sb.ndim - 2 : 0;
	memcpy(batch_a.d, sa.d, sizeof(int64_t) * (size_t)batch_a.ndim);
	memcpy(batch_b.d, sb.d, sizeof(int64_t) * (size_t)batch_b.ndim);
	if (!rt_broadcast(&batch_a, &batch_b, &s))
		return rt_node_fail(err, EINVAL, nd, "batch dims do not broadcast");
	if (sa.ndim >= 2)
		s.d[s.ndim++] = mm;
	if (sb.ndim >= 2)
		s.d[s.ndim++] = nn;
	for (i = 0; i < s.ndim; i++)
		if (s.d[i] < 0)
			return rt_node_fail(err, EINVAL, nd, "negative dim");
	return rt_set_out(m, nd, 0, a->dtype, &s, err);
}

static int rt_gemm(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *a = rt_req(m, nd, 0), *b = rt_req(m, nd, 1),
			       *c = rt_in(m, nd, 2);
	struct rt_shape s = { .ndim = 2 }, cs;
	int64_t ta, tb;
	int ret;

	ret = rt_attr_int(nd, "transA", 0, &ta, err);
	if (!ret)
		ret = rt_attr_int(nd, "transB", 0, &tb, err);
	if (ret)
		return ret;
	if (a->shape.ndim != 2 || b->shape.ndim != 2)
		return rt_node_fail(err, EINVAL, nd, "A and B must be 2-D");
	if (a->dtype != b->dtype || !rt_dtype_float(a->dtype))
		return rt_node_fail(err, EINVAL, nd, "A and B must share a float dtype");
	if (a->shape.d[ta ? 0 : 1] != b->shape.d[tb ? 1 : 0])
		return rt_node_fail(err, EINVAL, nd, "inner dims differ");
	s.d[0] = a->shape.d[ta ? 1 : 0];
	s.d[1] = b->shape.d[tb ? 0 : 1];
	if (c && (!rt_broadcast(&c->shape, &s, &cs) || !rt_shape_eq(&cs, &s)))
		return rt_node_fail(err, EINVAL, nd, "C does not broadcast to (M, N)");
	return rt_set_out(m, nd, 0, a->dtype, &s, err);
}

static int rt_auto_pad(const struct rt_node *nd, uint32_t *mode,
		       struct eia_runner_error *err)
{
	char s[32];
	int ret = rt_attr_string(nd, "auto_pad", "NOTSET", s, sizeof(s), err);

	if (ret)
		return ret;
	if (!strcmp(s, "NOTSET"))
		*mode = EIA_AUTO_PAD_NOTSET;
	else if (!strcmp(s, "SAME_UPPER"))
		*mode = EIA_AUTO_PAD_SAME_UPPER;
	else if (!strcmp(s, "SAME_LOWER"))
		*mode = EIA_AUTO_PAD_SAME_LOWER;
	else if (!strcmp(s, "VALID"))
		*mode = EIA_AUTO_PAD_VALID;
	else
		return rt_node_fail(err, EINVAL, nd, "auto_pad '%s' is unknown", s);
	return 0;
}

/*
 * Window attributes of Conv and the pools over @n spatial dims: pads are
 * the @n begins, then the ends; kernel 0 where kernel_shape is absent.
 */
struct rt_win {
	int n;
	int64_t kernel[3], strides[3], dilations[3], pads[6];
	uint32_t auto_pad;
};

/* One window attribute of @n ints (@def where absent). */
static int rt_window_ints(const struct rt_node *nd, const char *name, int n, int64_t def,
			  int64_t *v, struct eia_runner_error *err)
{
	int cnt, i, ret = rt_attr_ints(nd, name, v, 2 * EIA_MAX_DIMS, &cnt, err);

	if (ret)
		return ret;
	if (cnt >= 0 && cnt != n)
		return rt_node_fail(err, EINVAL, nd, "%s has %d values for %d spatial dims",
				    name, cnt, n);
	for (i = cnt < 0 ? 0 : n; i < n; i++)
		v[i] = def;
	return 0;
}

/* The window attributes Conv and the pools share, over @n spatial dims. */
static int rt_window(const struct rt_node *nd, int n, struct rt_win *w,
		     struct eia_runner_error *err)
{
	int i, ret;

	if (n < 1 || n > 3)
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "only 1-D, 2-D and 3-D windows are supported, not %d-D", n);
	memset(w, 0, sizeof(*w));
	w->n = n;
	ret = rt_window_ints(nd, "kernel_shape", n, 0, w->kernel, err);
	if (!ret)
		ret = rt_window_ints(nd, "strides", n, 1, w->strides, err);
	if (!ret)
		ret = rt_window_ints(nd, "dilations", n, 1, w->dilations, err);
	if (!ret)
		ret = rt_window_ints(nd, "pads", 2 * n, 0, w->pads, err);
	if (!ret)
		ret = rt_auto_pad(nd, &w->auto_pad, err);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (w->strides[i] < 1 || w->dilations[i] < 1 || w->kernel[i] < 0 ||
		    w->strides[i] > INT32_MAX || w->dilations[i] > INT32_MAX ||
		    w->kernel[i] > INT32_MAX)
			return rt_node_fail(err, EINVAL, nd, "kernel, strides or dilations out of range");
	for (i = 0; i < 2 * n; i++) {
		if (w->pads[i] < 0 || w->pads[i] > INT32_MAX)
			return rt_node_fail(err, EINVAL, nd, "pads out of range");
		if (w->pads[i] && w->auto_pad != EIA_AUTO_PAD_NOTSET)
			return rt_node_fail(err, EINVAL, nd, "pads given with auto_pad");
	}
	return 0;
}

/* One spatial output dim of a window; -1 when the window does not fit. */
static int64_t rt_window_dim(int64_t in, int64_t k, int64_t s, int64_t d,
			     int64_t pb, int64_t pe, uint32_t auto_pad, bool ceil_mode)
{
	int64_t dk = (k - 1) * d + 1, span, out;

	if (auto_pad == EIA_AUTO_PAD_SAME_UPPER || auto_pad == EIA_AUTO_PAD_SAME_LOWER)
		return in ? (in + s - 1) / s : -1;
	span = in + pb + pe - dk;
	if (span < 0)
		return -1;
	if (!ceil_mode)
		return span / s + 1;
	out = (span + s - 1) / s + 1;
	/* The last window must start inside the input or the begin padding. */
	if ((out - 1) * s >= in + pb)
		out--;
	return out;
}

/*
 * A 1-D window as a 2-D one over a unit height, which the 2-D operators
 * compute with it unpadded: @w2 gets (1, x) pairs and (0, begin, 0, end)
 * pads; a 2-D window is copied.
 */
static void rt_window_2d(const struct rt_win *w, struct rt_win *w2)
{
	int i;

	if (w->n == 2) {
		*w2 = *w;
		return;
	}
	memset(w2, 0, sizeof(*w2));
	w2->n = 2;
	w2->auto_pad = w->auto_pad;
	w2->kernel[0] = w->kernel[0] ? 1 : 0;
	w2->kernel[1] = w->kernel[0];
	w2->strides[0] = w2->dilations[0] = 1;
	w2->strides[1] = w->strides[0];
	w2->dilations[1] = w->dilations[0];
	for (i = 0; i < 2; i++)
		w2->pads[2 * i + 1] = w->pads[i];
}

/*
 * Hand @w's @n axes to an operator's attributes, which hold kernel,
 * strides, dilations, pads and auto_pad alike for Conv and the pools.
 */
static void rt_window_out(const struct rt_win *w, int n, int64_t *kernel, int64_t *strides,
			  int64_t *dilations, int64_t *pads, uint32_t *auto_pad)
{
	size_t axes = (size_t)n * sizeof(int64_t);

	memcpy(kernel, w->kernel, axes);
	memcpy(strides, w->strides, axes);
	memcpy(dilations, w->dilations, axes);
	memcpy(pads, w->pads, 2 * axes);
	*auto_pad = w->auto_pad;
}

/* Conv's window and group, checked against X's and W's dims (any rank). */
static int rt_conv_window(struct eia_model *m, const struct rt_node *nd, struct rt_win *w,
			  int64_t *group, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0), *wt = rt_in(m, nd, 1);
	int i, ret;

	if (x->shape.ndim != wt->shape.ndim || x->shape.ndim < 3)
		return rt_node_fail(err, EINVAL, nd, "X has rank %d and W rank %d",
				    x->shape.ndim, wt->shape.ndim);
	ret = rt_window(nd, x->shape.ndim - 2, w, err);
	if (!ret)
		ret = rt_attr_int(nd, "group", 1, group, err);
	if (ret)
		return ret;
	for (i = 0; i < w->n; i++)
		if (w->kernel[i] && w->kernel[i] != wt->shape.d[2 + i])
			return rt_node_fail(err, EINVAL, nd, "kernel_shape differs from W's dims");
	if (*group < 1 || x->shape.d[1] % *group || wt->shape.d[0] % *group ||
	    x->shape.d[1] / *group != wt->shape.d[1])
		return rt_node_fail(err, EINVAL, nd, "group %lld does not fit C %lld and W's dims",
				    (long long)*group, (long long)x->shape.d[1]);
	return 0;
}

int rt_conv_attr(struct eia_model *m, const struct rt_node *nd,
		 struct eia_conv2d_attr *attr, struct eia_runner_error *err)
{
	struct rt_win w, w2;
	int ret;

	memset(attr, 0, sizeof(*attr));
	ret = rt_conv_window(m, nd, &w, &attr->group, err);
	if (ret)
		return ret;
	if (w.n > 2)
		return rt_node_fail(err, EINVAL, nd, "not a 1-D or 2-D Conv");
	rt_window_2d(&w, &w2);
	rt_window_out(&w2, 2, attr->kernel, attr->strides, attr->dilations, attr->pads,
		      &attr->auto_pad);
	return 0;
}

int rt_conv3d_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_conv3d_attr *attr, struct eia_runner_error *err)
{
	struct rt_win w;
	int ret;

	memset(attr, 0, sizeof(*attr));
	ret = rt_conv_window(m, nd, &w, &attr->group, err);
	if (ret)
		return ret;
	if (w.n != 3)
		return rt_node_fail(err, EINVAL, nd, "not a 3-D Conv");
	rt_window_out(&w, 3, attr->kernel, attr->strides, attr->dilations, attr->pads,
		      &attr->auto_pad);
	return 0;
}

static int rt_conv(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0), *wt = rt_req(m, nd, 1),
			       *b = rt_in(m, nd, 2);
	struct rt_shape s = { .ndim = x->shape.ndim };
	struct rt_win w;
	int64_t group;
	int ret, i;

	ret = rt_conv_window(m, nd, &w, &group, err);
	if (ret)
		return ret;
	if (x->dtype != wt->dtype || !rt_dtype_float(x->dtype) || (b && b->dtype != x->dtype))
		return rt_node_fail(err, EINVAL, nd, "X, W and B must share a float dtype");
	if (b && (b->shape.ndim != 1 || b->shape.d[0] != wt->shape.d[0]))
		return rt_node_fail(err, EINVAL, nd, "B is not (M)");
	s.d[0] = x->shape.d[0];
	s.d[1] = wt->shape.d[0];
	for (i = 0; i < w.n; i++) {
		s.d[2 + i] = rt_window_dim(x->shape.d[2 + i], wt->shape.d[2 + i], w.strides[i],
					   w.dilations[i], w.pads[i], w.pads[w.n + i],
					   w.auto_pad, false);
		if (s.d[2 + i] < 1)
			return rt_node_fail(err, EINVAL, nd, "the input is smaller than the kernel");
	}
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

/* The window of a pool over X's spatial dims, with its flags. */
static int rt_pool_window(struct eia_model *m, const struct rt_node *nd, struct rt_win *w,
			  uint32_t *ceil_mode, uint32_t *cip, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	bool avg = !strcmp(nd->op, "AveragePool");
	int64_t cm, ci = 0, order;
	int i, ret;

	if (x->shape.ndim < 3)
		return rt_node_fail(err, EINVAL, nd, "X has rank %d", x->shape.ndim);
	ret = rt_window(nd, x->shape.ndim - 2, w, err);
	if (!ret)
		ret = rt_attr_int(nd, "ceil_mode", 0, &cm, err);
	if (!ret && avg)
		ret = rt_attr_int(nd, "count_include_pad", 0, &ci, err);
	if (!ret)
		ret = rt_attr_int(nd, "storage_order", 0, &order, err);
	if (ret)
		return ret;
	for (i = 0; i < w->n; i++)
		if (!w->kernel[i])
			return rt_node_fail(err, EINVAL, nd, "kernel_shape is required");
	if (order)
		return rt_node_fail(err, EOPNOTSUPP, nd, "storage_order 1 is not supported");
	if ((cm != 0 && cm != 1) || (ci != 0 && ci != 1))
		return rt_node_fail(err, EINVAL, nd, "ceil_mode and count_include_pad are 0 or 1");
	*ceil_mode = (uint32_t)cm;
	*cip = (uint32_t)ci;
	return 0;
}

int rt_pool_attr(struct eia_model *m, const struct rt_node *nd,
		 struct eia_pool2d_attr *attr, struct eia_runner_error *err)
{
	struct rt_win w, w2;
	int ret;

	memset(attr, 0, sizeof(*attr));
	ret = rt_pool_window(m, nd, &w, &attr->ceil_mode, &attr->count_include_pad, err);
	if (ret)
		return ret;
	if (w.n > 2)
		return rt_node_fail(err, EINVAL, nd, "not a 1-D or 2-D pool");
	rt_window_2d(&w, &w2);
	rt_window_out(&w2, 2, attr->kernel, attr->strides, attr->dilations, attr->pads,
		      &attr->auto_pad);
	return 0;
}

int rt_pool3d_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_pool3d_attr *attr, struct eia_runner_error *err)
{
	struct rt_win w;
	int ret;

	memset(attr, 0, sizeof(*attr));
	ret = rt_pool_window(m, nd, &w, &attr->ceil_mode, &attr->count_include_pad, err);
	if (ret)
		return ret;
	if (w.n != 3)
		return rt_node_fail(err, EINVAL, nd, "not a 3-D pool");
	rt_window_out(&w, 3, attr->kernel, attr->strides, attr->dilations, attr->pads,
		      &attr->auto_pad);
	return 0;
}

static int rt_pool(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape s = x->shape;
	struct rt_win w;
	uint32_t ceil_mode, cip;
	int ret, i;

	ret = rt_pool_window(m, nd, &w, &ceil_mode, &cip, err);
	if (ret)
		return ret;
	if (!rt_dtype_float(x->dtype))
		return rt_node_fail(err, EINVAL, nd, "X must be float");
	for (i = 0; i < w.n; i++) {
		s.d[2 + i] = rt_window_dim(x->shape.d[2 + i], w.kernel[i], w.strides[i],
					   w.dilations[i], w.pads[i], w.pads[w.n + i],
					   w.auto_pad, ceil_mode);
		if (s.d[2 + i] < 1)
			return rt_node_fail(err, EINVAL, nd, "the input is smaller than the window");
	}
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_global_pool(struct eia_model *m, struct rt_node *nd,
			  struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape s = x->shape;
	int i;

	if (s.ndim < 3 || !rt_dtype_float(x->dtype))
		return rt_node_fail(err, EINVAL, nd, "X must be float of rank >= 3");
	for (i = 2; i < s.ndim; i++)
		s.d[i] = 1;
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

int rt_pad_params(struct eia_model *m, const struct rt_node *nd, int64_t *pads,
		  char *mode, size_t mode_len, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	int64_t raw[2 * EIA_MAX_DIMS], axes[EIA_MAX_DIMS];
	int r = x->shape.ndim, n, na = -1, i, ret;

	ret = rt_attr_string(nd, "mode", "constant", mode, mode_len, err);
	if (ret)
		return ret;
	if (strcmp(mode, "constant") && strcmp(mode, "reflect") && strcmp(mode, "edge"))
		return rt_node_fail(err, EOPNOTSUPP, nd, "mode '%s' is not supported", mode);
	if (m->opset < 11)
		ret = rt_attr_ints(nd, "pads", raw, 2 * EIA_MAX_DIMS, &n, err);
	else
		ret = rt_const_ints(m, nd, 1, "pads", raw, 2 * EIA_MAX_DIMS, &n, err);
	if (!ret && m->opset >= 18 && rt_in(m, nd, 3))
		ret = rt_const_ints(m, nd, 3, "axes", axes, EIA_MAX_DIMS, &na, err);
	if (ret)
		return ret;
	if (na < 0) {
		na = r;
		for (i = 0; i < r; i++)
			axes[i] = i;
	}
	if (n != 2 * na)
		return rt_node_fail(err, EINVAL, nd, "%d pads for %d axes", n, na);
	for (i = 0; i < 2 * r; i++)
		pads[i] = 0;
	for (i = 0; i < na; i++) {
		int a = rt_axis(axes[i], r);

		if (a < 0)
			return rt_node_fail(err, EINVAL, nd, "axis %lld out of range",
					    (long long)axes[i]);
		pads[a] = raw[i];
		pads[r + a] = raw[na + i];
	}
	return 0;
}

static int rt_pad(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0), *v = rt_in(m, nd, 2);
	int64_t pads[2 * EIA_MAX_DIMS];
	struct rt_shape s = x->shape;
	char mode[16];
	int i, ret;

	ret = rt_pad_params(m, nd, pads, mode, sizeof(mode), err);
	if (ret)
		return ret;
	if (v && (v->kind != RT_CONST || v->dtype != x->dtype ||
		  rt_shape_numel(&v->shape, v->dtype) != 1))
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "constant_value must be a constant scalar of X's dtype");
	for (i = 0; i < s.ndim; i++) {
		if (__builtin_add_overflow(s.d[i], pads[i], &s.d[i]) ||
		    __builtin_add_overflow(s.d[i], pads[s.ndim + i], &s.d[i]) || s.d[i] < 0)
			return rt_node_fail(err, EINVAL, nd, "pads make dim %d negative", i);
		if (strcmp(mode, "constant") && (pads[i] || pads[s.ndim + i]) &&
		    (pads[i] >= x->shape.d[i] || pads[s.ndim + i] >= x->shape.d[i] ||
		     pads[i] < 0 || pads[s.ndim + i] < 0))
			return rt_node_fail(err, EINVAL, nd,
					    "%s pads must be positive and shorter than the dim", mode);
	}
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static int rt_batchnorm(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	int64_t training;
	int i, ret;

	ret = rt_attr_int(nd, "training_mode", 0, &training, err);
	if (ret)
		return ret;
	if (training)
		return rt_node_fail(err, EOPNOTSUPP, nd, "training_mode is not supported");
	if (x->shape.ndim < 2 || !rt_dtype_float(x->dtype))
		return rt_node_fail(err, EINVAL, nd, "X must be float of rank >= 2");
	for (i = 1; i < 5; i++) {
		const struct rt_tensor *p = rt_req(m, nd, i);

		if (p->shape.ndim != 1 || p->shape.d[0] != x->shape.d[1])
			return rt_node_fail(err, EINVAL, nd, "'%s' is not (C)", p->name);
	}
	for (i = 1; i < nd->nout; i++)
		if (nd->out[i] >= 0)
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "the running mean and variance outputs are not supported");
	return rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
}

static int rt_layernorm(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct rt_shape stat = x->shape;
	int64_t axis;
	int a, i, ret;

	ret = rt_attr_int(nd, "axis", -1, &axis, err);
	if (ret)
		return ret;
	a = rt_axis(axis, x->shape.ndim);
	if (a < 0 || !rt_dtype_float(x->dtype))
		return rt_node_fail(err, EINVAL, nd, "axis out of range or X not float");
	for (i = a; i < stat.ndim; i++)
		stat.d[i] = 1;
	ret = rt_set_out(m, nd, 0, x->dtype, &x->shape, err);
	for (i = 1; !ret && i < nd->nout; i++)
		ret = rt_set_out(m, nd, i, EIA_DTYPE_F32, &stat, err);
	return ret;
}

/* Index of @name's string value in the NULL-terminated @names, as a uint32. */
static int rt_attr_enum(const struct rt_node *nd, const char *name, const char *def,
			const char *const *names, uint32_t *val, struct eia_runner_error *err)
{
	char buf[40];
	int i, ret = rt_attr_string(nd, name, def, buf, sizeof(buf), err);

	if (ret)
		return ret;
	for (i = 0; names[i]; i++)
		if (!strcmp(buf, names[i])) {
			*val = (uint32_t)i;
			return 0;
		}
	return rt_node_fail(err, EOPNOTSUPP, nd, "%s '%s' is not supported", name, buf);
}

/* Resize's or Upsample's float scales, from an input or Upsample-7's attribute. */
static int rt_resize_scales(struct eia_model *m, const struct rt_node *nd, int i,
			    double *scales, int *n, struct eia_runner_error *err)
{
	const struct rt_tensor *t = rt_in(m, nd, i);
	const Onnx__AttributeProto *a = rt_attr(nd, "scales");
	int64_t cnt;
	int k;

	*n = -1;
	if (a) {
		if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS ||
		    a->n_floats > EIA_MAX_DIMS)
			return rt_node_fail(err, EINVAL, nd, "attribute 'scales' is not up to %d floats",
					    EIA_MAX_DIMS);
		for (k = 0; k < (int)a->n_floats; k++)
			scales[k] = a->floats[k];
		*n = (int)a->n_floats;
		return 0;
	}
	if (!t || !(cnt = rt_shape_numel(&t->shape, t->dtype)))
		return 0;
	if (t->kind != RT_CONST)
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "input '%s' (scales) must be a constant the runner can compute at load time",
				    t->name);
	if (!rt_dtype_float(t->dtype) || t->shape.ndim != 1 || cnt > EIA_MAX_DIMS)
		return rt_node_fail(err, EINVAL, nd, "input '%s' (scales) is not up to %d floats",
				    t->name, EIA_MAX_DIMS);
	for (k = 0; k < cnt; k++)
		scales[k] = rt_float_at(t->data, t->dtype, (size_t)k);
	*n = (int)cnt;
	return 0;
}

int rt_resize_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_resize_attr *attr, struct eia_runner_error *err)
{
	static const char *const modes[] = { "nearest", "linear", "cubic", NULL };
	static const char *const coords[] = {
		"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
		"tf_half_pixel_for_nn", NULL
	};
	static const char *const nearest[] = {
		"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL
	};
	static const char *const policies[] = { "stretch", "not_larger", "not_smaller", NULL };
	const struct rt_tensor *x = rt_in(m, nd, 0);
	/* Upsample and Resize-10 scale asymmetrically and floor, as torch did. */
	bool old = !strcmp(nd->op, "Upsample") || m->opset < 11;
	int r = x->shape.ndim, na = -1, ns = -1, nz = -1, i, ret;
	int64_t axes[EIA_MAX_DIMS], sizes[EIA_MAX_DIMS], anti = 0, excl = 0;
	double scales[EIA_MAX_DIMS], common = 0.0;
	bool seen[EIA_MAX_DIMS] = { false }, have_common = false;
	uint32_t policy = 0;
	char coord[40];

	memset(attr, 0, sizeof(*attr));
	attr->cubic_coeff_a = -0.75f;
	if (!rt_dtype_float(x->dtype) || r < 1)
		return rt_node_fail(err, EOPNOTSUPP, nd, "input '%s' is %s of rank %d; only floats of rank >= 1 are supported",
				    x->name, eia_dtype_name(x->dtype), r);
	ret = rt_attr_enum(nd, "mode", "nearest", modes, &attr->mode, err);
	if (!ret && old) {
		attr->coord_mode = EIA_RESIZE_ASYMMETRIC;
		attr->nearest_mode = EIA_RESIZE_FLOOR;
		ret = rt_resize_scales(m, nd, 1, scales, &ns, err);
	} else if (!ret) {
		ret = rt_attr_string(nd, "coordinate_transformation_mode", "half_pixel", coord,
				     sizeof(coord), err);
		if (!ret && !strcmp(coord, "tf_crop_and_resize"))
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "coordinate_transformation_mode tf_crop_and_resize is not supported");
		if (!ret)
			ret = rt_attr_enum(nd, "coordinate_transformation_mode", "half_pixel",
					   coords, &attr->coord_mode, err);
		if (!ret)
			ret = rt_attr_enum(nd, "nearest_mode", "round_prefer_floor", nearest,
					   &attr->nearest_mode, err);
		if (!ret)
			ret = rt_attr_float(nd, "cubic_coeff_a", -0.75f, &attr->cubic_coeff_a, err);
		if (!ret)
			ret = rt_attr_int(nd, "exclude_outside", 0, &excl, err);
		if (!ret)
			ret = rt_attr_int(nd, "antialias", 0, &anti, err);
		if (!ret)
			ret = rt_attr_enum(nd, "keep_aspect_ratio_policy", "stretch", policies,
					   &policy, err);
		if (!ret)
			ret = rt_attr_ints(nd, "axes", axes, EIA_MAX_DIMS, &na, err);
		if (!ret)
			ret = rt_resize_scales(m, nd, 2, scales, &ns, err);
		if (!ret && rt_in(m, nd, 3))
			ret = rt_const_ints(m, nd, 3, "sizes", sizes, EIA_MAX_DIMS, &nz, err);
	}
	if (ret)
		return ret;
	if (old && attr->mode == EIA_RESIZE_CUBIC)
		return rt_node_fail(err, EINVAL, nd, "mode cubic needs Resize-11");
	if (anti)
		return rt_node_fail(err, EOPNOTSUPP, nd, "antialias is not supported");
	if ((excl != 0 && excl != 1) || !isfinite(attr->cubic_coeff_a))
		return rt_node_fail(err, EINVAL, nd, "exclude_outside is 0 or 1, cubic_coeff_a finite");
	attr->exclude_outside = (uint32_t)excl;
	if ((ns > 0) == (nz > 0))
		return rt_node_fail(err, EINVAL, nd, "takes either scales or sizes, not %s",
				    ns > 0 ? "both" : "neither");
	if (na < 0) {
		na = r;
		for (i = 0; i < r; i++)
			axes[i] = i;
	}
	if ((ns > 0 ? ns : nz) != na)
		return rt_node_fail(err, EINVAL, nd, "%d %s for %d axes", ns > 0 ? ns : nz,
				    ns > 0 ? "scales" : "sizes", na);
	for (i = 0; i < r; i++)
		attr->sizes[i] = x->shape.d[i];
	for (i = 0; i < na; i++) {
		int a = rt_axis(axes[i], r);
		int64_t in;

		if (a < 0 || seen[a])
			return rt_node_fail(err, EINVAL, nd, "axis %lld out of range or repeated",
					    (long long)axes[i]);
		seen[a] = true;
		in = x->shape.d[a];
		if (ns > 0) {
			double out = floor(scales[i] * (double)in);

			if (!isfinite(scales[i]) || scales[i] <= 0.0 || out > (double)INT64_MAX)
				return rt_node_fail(err, EINVAL, nd, "scale %g", scales[i]);
			attr->scales[a] = scales[i];
			attr->sizes[a] = (int64_t)out;
		} else if (sizes[i] < 0 || (!in && sizes[i])) {
			return rt_node_fail(err, EINVAL, nd, "size %lld for dim %lld",
					    (long long)sizes[i], (long long)in);
		} else if (policy && in) {
			double s = (double)sizes[i] / (double)in;

			if (!have_common || (policy == 1 ? s < common : s > common))
				common = s;
			have_common = true;
		} else {
			attr->sizes[a] = sizes[i];
		}
	}
	/* keep_aspect_ratio_policy: one scale for every listed axis, rounded. */
	for (i = 0; have_common && i < r; i++) {
		if (!seen[i] || !x->shape.d[i])
			continue;
		attr->scales[i] = common;
		attr->sizes[i] = (int64_t)floor(common * (double)x->shape.d[i] + 0.5);
	}
	return 0;
}

static int rt_resize(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0);
	struct eia_resize_attr attr;
	struct rt_shape s = { .ndim = x->shape.ndim };
	int ret = rt_resize_attr(m, nd, &attr, err);

	if (ret)
		return ret;
	memcpy(s.d, attr.sizes, sizeof(int64_t) * (size_t)s.ndim);
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

/* Python's a // 2, which ONNX's reference splits negative totals with. */
static int64_t rt_half_floor(int64_t a)
{
	return a >= 0 ? a / 2 : -((1 - a) / 2);
}

int rt_conv_transpose_attr(struct eia_model *m, const struct rt_node *nd,
			   struct eia_conv_transpose_attr *attr,
			   struct eia_runner_error *err)
{
	static const char *const autopads[] = { "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", NULL };
	const struct rt_tensor *x = rt_in(m, nd, 0), *w = rt_in(m, nd, 1);
	int64_t kernel[3], strides[3], dil[3], pads[6], opad[3], oshape[EIA_MAX_DIMS];
	int r = x->shape.ndim, n = r - 2, nk, ns, nd_, np, no, nos, i, ret;
	uint32_t autopad;

	memset(attr, 0, sizeof(*attr));
	if (r < 3 || r > 5 || w->shape.ndim != r)
		return rt_node_fail(err, r > 5 ? EOPNOTSUPP : EINVAL, nd,
				    "X has rank %d and W rank %d (1 to 3 spatial dims supported)",
				    r, w->shape.ndim);
	ret = rt_attr_enum(nd, "auto_pad", "NOTSET", autopads, &autopad, err);
	if (!ret)
		ret = rt_attr_ints(nd, "kernel_shape", kernel, 3, &nk, err);
	if (!ret)
		ret = rt_attr_ints(nd, "strides", strides, 3, &ns, err);
	if (!ret)
		ret = rt_attr_ints(nd, "dilations", dil, 3, &nd_, err);
	if (!ret)
		ret = rt_attr_ints(nd, "pads", pads, 6, &np, err);
	if (!ret)
		ret = rt_attr_ints(nd, "output_padding", opad, 3, &no, err);
	if (!ret)
		ret = rt_attr_ints(nd, "output_shape", oshape, EIA_MAX_DIMS, &nos, err);
	if (!ret)
		ret = rt_attr_int(nd, "group", 1, &attr->group, err);
	if (ret)
		return ret;
	/* output_shape may also be written with N and C in front. */
	if (nos == r) {
		memmove(oshape, oshape + 2, sizeof(int64_t) * (size_t)n);
		nos = n;
	}
	if ((nk >= 0 && nk != n) || (ns >= 0 && ns != n) || (nd_ >= 0 && nd_ != n) ||
	    (np >= 0 && np != 2 * n) || (no >= 0 && no != n) || (nos >= 0 && nos != n))
		return rt_node_fail(err, EINVAL, nd, "attributes of the wrong length for %d spatial dims",
				    n);
	if (np >= 0 && autopad != 0)
		return rt_node_fail(err, EINVAL, nd, "pads and auto_pad together");
	if (attr->group < 1 || x->shape.d[1] % attr->group || w->shape.d[0] != x->shape.d[1])
		return rt_node_fail(err, EINVAL, nd, "group %lld does not fit C %lld and W's dims",
				    (long long)attr->group, (long long)x->shape.d[1]);
	for (i = 0; i < n; i++) {
		int64_t k = w->shape.d[2 + i], in = x->shape.d[2 + i], s, d, ek, total, pb, pe;

		if (nk >= 0 && kernel[i] != k)
			return rt_node_fail(err, EINVAL, nd, "kernel_shape differs from W's dims");
		s = ns >= 0 ? strides[i] : 1;
		d = nd_ >= 0 ? dil[i] : 1;
		attr->output_padding[i] = no >= 0 ? opad[i] : 0;
		if (s < 1 || d < 1 || s > INT32_MAX || d > INT32_MAX || k > INT32_MAX ||
		    in > INT32_MAX || attr->output_padding[i] < 0 ||
		    attr->output_padding[i] > INT32_MAX)
			return rt_node_fail(err, EINVAL, nd, "strides, dilations or output_padding out of range");
		ek = (k - 1) * d + 1;
		pb = np >= 0 ? pads[i] : 0;
		pe = np >= 0 ? pads[n + i] : 0;
		/* output_shape, or SAME's in * stride, decides the pads. */
		if (nos >= 0 || autopad == 1 || autopad == 2) {
			int64_t want = nos >= 0 ? oshape[i] : in * s;

			total = s * (in - 1) + attr->output_padding[i] + ek - want;
			pb = autopad == 1 ? rt_half_floor(total) : total - rt_half_floor(total);
			pe = total - pb;
		}
		/* A negative end pad is more output: zeros, then the bias. */
		if (pe < 0) {
			attr->output_padding[i] -= pe;
			pe = 0;
		}
		if (pb < 0 || pb > INT32_MAX || pe > INT32_MAX || attr->output_padding[i] > INT32_MAX)
			return rt_node_fail(err, pb < 0 ? EOPNOTSUPP : EINVAL, nd,
					    "pads %lld, %lld for dim %d are not supported",
					    (long long)pb, (long long)pe, i);
		attr->strides[i] = s;
		attr->dilations[i] = d;
		attr->pads[i] = pb;
		attr->pads[3 + i] = pe;
	}
	return 0;
}

static int rt_conv_transpose(struct eia_model *m, struct rt_node *nd,
			     struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_req(m, nd, 0), *w = rt_req(m, nd, 1),
			       *b = rt_in(m, nd, 2);
	struct eia_conv_transpose_attr attr;
	struct rt_shape s = { .ndim = x->shape.ndim };
	int ret = rt_conv_transpose_attr(m, nd, &attr, err), i;

	if (ret)
		return ret;
	if (x->dtype != w->dtype || !rt_dtype_float(x->dtype) || (b && b->dtype != x->dtype))
		return rt_node_fail(err, EINVAL, nd, "X, W and B must share a float dtype");
	s.d[0] = x->shape.d[0];
	s.d[1] = w->shape.d[1] * attr.group;
	if (b && (b->shape.ndim != 1 || b->shape.d[0] != s.d[1]))
		return rt_node_fail(err, EINVAL, nd, "B is not (M)");
	for (i = 0; i < s.ndim - 2; i++) {
		s.d[2 + i] = attr.strides[i] * (x->shape.d[2 + i] - 1) + attr.output_padding[i] +
			     (w->shape.d[2 + i] - 1) * attr.dilations[i] + 1 - attr.pads[i] -
			     attr.pads[3 + i];
		if (s.d[2 + i] < 1)
			return rt_node_fail(err, EINVAL, nd, "the output would be empty");
	}
	return rt_set_out(m, nd, 0, x->dtype, &s, err);
}

static const char *const no_attrs[] = { NULL };
static const char *const axis_attrs[] = { "axis", NULL };
static const char *const shape_attrs[] = { "start", "end", NULL };
static const char *const const_attrs[] = {
	"value", "value_float", "value_floats", "value_int", "value_ints",
	"sparse_value", "value_string", "value_strings", NULL
};
static const char *const value_attrs[] = { "value", NULL };
static const char *const cast_attrs[] = { "to", NULL };
static const char *const clip_attrs[] = { "min", "max", NULL };
static const char *const alpha_attrs[] = { "alpha", NULL };
static const char *const arg_attrs[] = { "axis", "keepdims", "select_last_index", NULL };
static const char *const cumsum_attrs[] = { "exclusive", "reverse", NULL };
static const char *const eps_attrs[] = { "epsilon", NULL };
static const char *const dropout_attrs[] = { "ratio", "seed", "is_test", NULL };
static const char *const trilu_attrs[] = { "upper", NULL };
static const char *const alpha_beta_attrs[] = { "alpha", "beta", NULL };
static const char *const reshape_attrs[] = { "allowzero", NULL };
static const char *const axes_attrs[] = { "axes", NULL };
static const char *const split_attrs[] = { "axis", "split", "num_outputs", NULL };
static const char *const slice_attrs[] = { "starts", "ends", "axes", NULL };
static const char *const perm_attrs[] = { "perm", NULL };
static const char *const reduce_attrs[] = { "axes", "keepdims", "noop_with_empty_axes", NULL };
static const char *const gemm_attrs[] = { "alpha", "beta", "transA", "transB", NULL };
static const char *const conv_attrs[] = {
	"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL
};
static const char *const maxpool_attrs[] = {
	"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
	"storage_order", "strides", NULL
};
static const char *const avgpool_attrs[] = {
	"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape",
	"pads", "strides", NULL
};
static const char *const pad_attrs[] = { "mode", "pads", "value", NULL };
static const char *const bn_attrs[] = {
	"epsilon", "momentum", "training_mode", "spatial", NULL
};
static const char *const ln_attrs[] = { "axis", "epsilon", "stash_type", NULL };
static const char *const resize_attrs[] = {
	"antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a",
	"exclude_outside", "extrapolation_value", "keep_aspect_ratio_policy", "mode",
	"nearest_mode", NULL
};
static const char *const upsample_attrs[] = { "mode", "scales", NULL };
static const char *const convt_attrs[] = {
	"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape",
	"pads", "strides", NULL
};

#define ANY 64
static const struct rt_op_desc rt_ops[] = {
	{ "Identity", rt_same, 1, 1, 1, 1, no_attrs },
	{ "Relu", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Tanh", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Erf", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Sqrt", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Sigmoid", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Exp", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Neg", rt_same_numeric, 1, 1, 1, 1, no_attrs },
	{ "Abs", rt_same_numeric, 1, 1, 1, 1, no_attrs },
	{ "Sign", rt_same_numeric, 1, 1, 1, 1, no_attrs },
	{ "Reciprocal", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Log", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Sin", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Cos", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Floor", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Ceil", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "HardSwish", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "Softplus", rt_same_float, 1, 1, 1, 1, no_attrs },
	{ "LeakyRelu", rt_same_float, 1, 1, 1, 1, alpha_attrs },
	{ "Elu", rt_same_float, 1, 1, 1, 1, alpha_attrs },
	{ "HardSigmoid", rt_same_float, 1, 1, 1, 1, alpha_beta_attrs },
	{ "ArgMax", rt_arg, 1, 1, 1, 1, arg_attrs },
	{ "ArgMin", rt_arg, 1, 1, 1, 1, arg_attrs },
	{ "CumSum", rt_cumsum, 2, 2, 1, 1, cumsum_attrs },
	{ "Tile", rt_tile, 2, 2, 1, 1, no_attrs },
	{ "InstanceNormalization", rt_instancenorm, 3, 3, 1, 1, eps_attrs },
	{ "Dropout", rt_dropout, 1, 3, 1, 2, dropout_attrs },
	{ "Size", rt_size, 1, 1, 1, 1, no_attrs },
	{ "PRelu", rt_prelu, 2, 2, 1, 1, no_attrs },
	{ "Trilu", rt_trilu, 1, 2, 1, 1, trilu_attrs },
	{ "Min", rt_variadic, 1, ANY, 1, 1, no_attrs },
	{ "Max", rt_variadic, 1, ANY, 1, 1, no_attrs },
	{ "Sum", rt_variadic, 1, ANY, 1, 1, no_attrs },
	{ "Mean", rt_variadic, 1, ANY, 1, 1, no_attrs },
	{ "Not", rt_not, 1, 1, 1, 1, no_attrs },
	{ "Softmax", rt_same_float, 1, 1, 1, 1, axis_attrs },
	{ "LogSoftmax", rt_same_float, 1, 1, 1, 1, axis_attrs },
	{ "Add", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Sub", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Mul", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Div", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Pow", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Equal", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Less", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Greater", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "LessOrEqual", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "GreaterOrEqual", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "And", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Or", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Xor", rt_binary, 2, 2, 1, 1, no_attrs },
	{ "Where", rt_where, 3, 3, 1, 1, no_attrs },
	{ "Cast", rt_cast, 1, 1, 1, 1, cast_attrs },
	{ "CastLike", rt_cast_like, 2, 2, 1, 1, no_attrs },
	{ "Clip", rt_clip, 1, 3, 1, 1, clip_attrs },
	{ "Shape", rt_shape_op, 1, 1, 1, 1, shape_attrs },
	{ "Constant", rt_constant, 0, 0, 1, 1, const_attrs },
	{ "ConstantOfShape", rt_constant_of_shape, 1, 1, 1, 1, value_attrs },
	{ "Range", rt_range, 3, 3, 1, 1, no_attrs },
	{ "Reshape", rt_reshape, 2, 2, 1, 1, reshape_attrs },
	{ "Flatten", rt_flatten, 1, 1, 1, 1, axis_attrs },
	{ "Squeeze", rt_squeeze, 1, 2, 1, 1, axes_attrs },
	{ "Unsqueeze", rt_unsqueeze, 1, 2, 1, 1, axes_attrs },
	{ "Expand", rt_expand, 2, 2, 1, 1, no_attrs },
	{ "Concat", rt_concat, 1, ANY, 1, 1, axis_attrs },
	{ "Split", rt_split, 1, 2, 1, ANY, split_attrs },
	{ "Slice", rt_slice, 1, 5, 1, 1, slice_attrs },
	{ "Gather", rt_gather, 2, 2, 1, 1, axis_attrs },
	{ "Transpose", rt_transpose, 1, 1, 1, 1, perm_attrs },
	{ "ReduceMean", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceSum", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceMax", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceMin", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceProd", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceL1", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceL2", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceSumSquare", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceLogSum", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "ReduceLogSumExp", rt_reduce, 1, 2, 1, 1, reduce_attrs },
	{ "MatMul", rt_matmul, 2, 2, 1, 1, no_attrs },
	{ "Gemm", rt_gemm, 2, 3, 1, 1, gemm_attrs },
	{ "Conv", rt_conv, 2, 3, 1, 1, conv_attrs },
	{ "MaxPool", rt_pool, 1, 1, 1, 2, maxpool_attrs },
	{ "AveragePool", rt_pool, 1, 1, 1, 1, avgpool_attrs },
	{ "GlobalAveragePool", rt_global_pool, 1, 1, 1, 1, no_attrs },
	{ "GlobalMaxPool", rt_global_pool, 1, 1, 1, 1, no_attrs },
	{ "Pad", rt_pad, 1, 4, 1, 1, pad_attrs },
	{ "BatchNormalization", rt_batchnorm, 5, 5, 1, 5, bn_attrs },
	{ "LayerNormalization", rt_layernorm, 2, 3, 1, 3, ln_attrs },
	{ "Resize", rt_resize, 1, 4, 1, 1, resize_attrs },
	{ "Upsample", rt_resize, 1, 2, 1, 1, upsample_attrs },
	{ "ConvTranspose", rt_conv_transpose, 2, 3, 1, 1, convt_attrs },
};

static const struct rt_op_desc *rt_find_op(const char *op)
{
	size_t i;

	for (i = 0; i < sizeof(rt_ops) / sizeof(rt_ops[0]); i++)
		if (!strcmp(rt_ops[i].name, op))
			return &rt_ops[i];
	return NULL;
}

int rt_infer_node(struct eia_model *m, struct rt_node *nd, struct eia_runner_error *err)
{
	const struct rt_op_desc *d = rt_find_op(nd->op);
	int i, ret;

	if (!d)
		return rt_node_fail(err, EOPNOTSUPP, nd, "operator %s is not supported", nd->op);
	if (nd->nin < d->min_in || nd->nin > d->max_in ||
	    nd->nout < d->min_out || nd->nout > d->max_out)
		return rt_node_fail(err, EINVAL, nd, "%d inputs and %d outputs (takes %d..%d and %d..%d)",
				    nd->nin, nd->nout, d->min_in, d->max_in, d->min_out, d->max_out);
	for (i = 0; i < d->min_in; i++)
		if (nd->in[i] < 0)
			return rt_node_fail(err, EINVAL, nd, "required input %d is empty", i);
	for (i = 0; i < nd->nin; i++) {
		const struct rt_tensor *t = rt_in(m, nd, i);

		if (t && (!t->shaped || !t->dtype))
			return rt_node_fail(err, EINVAL, nd, "input '%s' has no known shape", t->name);
	}
	ret = rt_attr_check(nd, d->attrs, err);
	if (ret)
		return ret;
	return d->infer(m, nd, err);
}
