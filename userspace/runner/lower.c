// SPDX-License-Identifier: MIT
/*
 * Lowering: every node left after folding and merging becomes operator
 * launches (steps) of eia's built-in set, or a view of another tensor.
 *
 *   direct        Conv and pools (2-D, 3-D), Gemm, MatMul, elementwise,
 *                 comparisons and logic, unary and activations, Clip, Cast,
 *                 Softmax, LogSoftmax, LayerNormalization, the reductions,
 *                 ArgMax, ArgMin, CumSum, Tile, Transpose, Gather, Where,
 *                 Concat, Split, Slice, Resize and Upsample, ConvTranspose
 *   views         Identity, Reshape, Flatten, Squeeze, Unsqueeze, and Cast
 *                 or Expand that change nothing: the output shares the
 *                 input's storage with other dims
 *   compositions  BatchNormalization not merged into a Conv: Mul + Add with
 *                 per-channel constants; Pad: Slice and Concat with constant
 *                 or sliced borders, axis by axis; Expand: Where(true, X,
 *                 zeros of the missing dims); 1-D Conv and pools: the 2-D
 *                 operator on views with a unit height; Softmax-1/11 over
 *                 several axes: a 2-D view, Softmax, and a view back;
 *                 variadic Min, Max, Sum, Mean: a chain of binary steps;
 *                 InstanceNormalization: LayerNormalization of a 2-D view,
 *                 then Mul and Add per channel; Clip's missing bounds:
 *                 constants; GlobalMaxPool: ReduceMax over the spatial dims;
 *                 PRelu: Where(Less(X, 0), Mul(X, Slope), X); Trilu:
 *                 Where(a constant triangle, X, 0); Dropout (inference): a
 *                 view, its mask a constant
 * Anything else (integer Pow at run time, ...) has no eia operator yet and
 * is refused, naming the node. Everything is decided here, at prepare time.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int rt_step_add(struct eia_model *m, const struct rt_node *nd, int op,
		       const int *in, int nin, const int *out, int nout,
		       const void *attr, size_t attr_size, struct eia_runner_error *err)
{
	struct rt_step *s;

	if (nin > EIA_OP_MAX_IO || nout > EIA_OP_MAX_IO)
		return rt_node_fail(err, EOPNOTSUPP, nd, "more than %d inputs or outputs",
				    EIA_OP_MAX_IO);
	if (m->nsteps == m->capsteps) {
		int cap = m->capsteps ? m->capsteps * 2 : 128;

		s = realloc(m->steps, (size_t)cap * sizeof(*s));
		if (!s)
			return rt_fail(err, ENOMEM, "out of memory");
		m->steps = s;
		m->capsteps = cap;
	}
	s = &m->steps[m->nsteps];
	memset(s, 0, sizeof(*s));
	s->op = op;
	s->node = (int)(nd - m->n);
	s->in = malloc(((size_t)nin + 1) * sizeof(int));
	s->out = malloc(((size_t)nout + 1) * sizeof(int));
	s->attr = attr_size ? malloc(attr_size) : NULL;
	if (!s->in || !s->out || (attr_size && !s->attr)) {
		free(s->in);
		free(s->out);
		free(s->attr);
		return rt_fail(err, ENOMEM, "out of memory");
	}
	memcpy(s->in, in, (size_t)nin * sizeof(int));
	memcpy(s->out, out, (size_t)nout * sizeof(int));
	if (attr_size)
		memcpy(s->attr, attr, attr_size);
	s->nin = nin;
	s->nout = nout;
	s->attr_size = attr_size;
	m->nsteps++;
	return 0;
}

/* A new intermediate tensor computed by @nd's steps. */
static int rt_value_add(struct eia_model *m, const struct rt_node *nd, int dtype,
			const struct rt_shape *shape, int *index,
			struct eia_runner_error *err)
{
	int ret = rt_const_add(m, nd->label, dtype, shape, NULL, index, err);

	if (ret)
		return ret;
	m->t[*index].kind = RT_VALUE;
	m->t[*index].owns_data = false;
	m->t[*index].producer = (int)(nd - m->n);
	return 0;
}

/* A constant of @shape filled with @value, stored as @dtype. */
static int rt_fill_const(struct eia_model *m, const struct rt_node *nd, int dtype,
			 const struct rt_shape *shape, double value, int *index,
			 struct eia_runner_error *err)
{
	int64_t n = rt_shape_numel(shape, dtype), i;
	void *data;

	if (n < 0)
		return rt_node_fail(err, EFBIG, nd, "constant too large");
	data = calloc(1, (size_t)n * rt_dtype_size(dtype) + 1);
	if (!data)
		return rt_fail(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		switch (dtype) {
		case EIA_DTYPE_F32:
		case EIA_DTYPE_F16:
		case EIA_DTYPE_BF16:
			rt_float_set(data, dtype, (size_t)i, (float)value);
			break;
		case EIA_DTYPE_I64:
			((int64_t *)data)[i] = (int64_t)value;
			break;
		case EIA_DTYPE_I32:
			((int32_t *)data)[i] = (int32_t)value;
			break;
		default:
			((uint8_t *)data)[i] = value != 0;
		}
	}
	return rt_const_add(m, nd->label, dtype, shape, data, index, err);
}

static void rt_view(struct eia_model *m, int out, int in)
{
	m->t[out].alias = in;
	m->nviews++;
}

static int rt_step1(struct eia_model *m, const struct rt_node *nd, int op,
		    const void *attr, size_t attr_size, struct eia_runner_error *err)
{
	int nin = nd->nin;

	/* Trailing omitted optional inputs are left out. */
	while (nin > 0 && nd->in[nin - 1] < 0)
		nin--;
	return rt_step_add(m, nd, op, nd->in, nin, nd->out, 1, attr, attr_size, err);
}

/* Operators that take the node's inputs as they are and no attributes. */
static const struct {
	const char *name;
	int op;
} rt_direct_ops[] = {
	{ "Relu", EIA_OP_RELU }, { "Tanh", EIA_OP_TANH }, { "Erf", EIA_OP_ERF },
	{ "Sqrt", EIA_OP_SQRT }, { "Sigmoid", EIA_OP_SIGMOID }, { "Exp", EIA_OP_EXP },
	{ "Where", EIA_OP_WHERE }, { "MatMul", EIA_OP_MATMUL },
	{ "GlobalAveragePool", EIA_OP_GLOBAL_AVGPOOL },
	{ "Equal", EIA_OP_EQUAL }, { "Less", EIA_OP_LESS }, { "Greater", EIA_OP_GREATER },
	{ "LessOrEqual", EIA_OP_LESS_OR_EQUAL },
	{ "GreaterOrEqual", EIA_OP_GREATER_OR_EQUAL },
	{ "Not", EIA_OP_NOT }, { "And", EIA_OP_AND }, { "Or", EIA_OP_OR }, { "Xor", EIA_OP_XOR },
	{ "Neg", EIA_OP_NEG }, { "Abs", EIA_OP_ABS }, { "Reciprocal", EIA_OP_RECIPROCAL },
	{ "Log", EIA_OP_LOG }, { "Sin", EIA_OP_SIN }, { "Cos", EIA_OP_COS },
	{ "Floor", EIA_OP_FLOOR }, { "Ceil", EIA_OP_CEIL }, { "Sign", EIA_OP_SIGN },
	{ "HardSwish", EIA_OP_HARD_SWISH }, { "Softplus", EIA_OP_SOFTPLUS },
};

static int rt_lower_binary(struct eia_model *m, struct rt_node *nd,
			   struct eia_runner_error *err)
{
	static const struct {
		const char *name;
		int op;
	} ops[] = {
		{ "Add", EIA_OP_ADD }, { "Sub", EIA_OP_SUB }, { "Mul", EIA_OP_MUL },
		{ "Div", EIA_OP_DIV }, { "Pow", EIA_OP_POW },
	};
	const struct rt_tensor *a = rt_in(m, nd, 0), *b = rt_in(m, nd, 1);
	int in[2] = { nd->in[0], nd->in[1] };
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, nd->op))
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "needs an eia %s operator (only constant inputs are computed on the host)",
				    nd->op);
	if (!rt_dtype_float(a->dtype) && ops[i].op == EIA_OP_POW)
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "%s Pow at run time needs an integer eia operator",
				    eia_dtype_name(a->dtype));
	if (b->dtype != a->dtype) {
		/* Pow with an integer or other-float exponent: a constant converts. */
		struct rt_shape s = b->shape;
		int64_t n = rt_shape_numel(&s, b->dtype), k;
		float *f;
		int ret;

		if (b->kind != RT_CONST || a->dtype != EIA_DTYPE_F32)
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "an exponent of another dtype must be constant");
		f = malloc((size_t)n * sizeof(float) + 1);
		if (!f)
			return rt_fail(err, ENOMEM, "out of memory");
		for (k = 0; k < n; k++)
			f[k] = b->dtype == EIA_DTYPE_I64 ? (float)((const int64_t *)b->data)[k] :
			       b->dtype == EIA_DTYPE_I32 ? (float)((const int32_t *)b->data)[k] :
			       rt_float_at(b->data, b->dtype, (size_t)k);
		ret = rt_const_add(m, nd->label, EIA_DTYPE_F32, &s, f, &in[1], err);
		if (ret)
			return ret;
	}
	return rt_step_add(m, nd, ops[i].op, in, 2, nd->out, 1, NULL, 0, err);
}

/* LeakyRelu, HardSigmoid and Elu, with ONNX's defaults. */
static int rt_lower_activation(struct eia_model *m, struct rt_node *nd,
			       struct eia_runner_error *err)
{
	struct eia_activation_attr attr = { 0 };
	int op, ret;

	if (!strcmp(nd->op, "LeakyRelu")) {
		op = EIA_OP_LEAKY_RELU;
		ret = rt_attr_float(nd, "alpha", 0.01f, &attr.alpha, err);
	} else if (!strcmp(nd->op, "Elu")) {
		op = EIA_OP_ELU;
		ret = rt_attr_float(nd, "alpha", 1.0f, &attr.alpha, err);
	} else {
		op = EIA_OP_HARD_SIGMOID;
		ret = rt_attr_float(nd, "alpha", 0.2f, &attr.alpha, err);
		if (!ret)
			ret = rt_attr_float(nd, "beta", 0.5f, &attr.beta, err);
	}
	return ret ? ret : rt_step1(m, nd, op, &attr, sizeof(attr), err);
}

/*
 * Min, Max, Sum and Mean of any number of inputs: one binary step per input
 * after the first, each result broadcast so far; Mean divides by the count.
 * One input is a view of it.
 */
static int rt_lower_variadic(struct eia_model *m, struct rt_node *nd,
			     struct eia_runner_error *err)
{
	bool mean = !strcmp(nd->op, "Mean");
	int op = !strcmp(nd->op, "Min") ? EIA_OP_MIN : !strcmp(nd->op, "Max") ? EIA_OP_MAX :
		 EIA_OP_ADD;
	int dtype = m->t[nd->in[0]].dtype, in[2] = { nd->in[0], -1 }, k, ret;
	struct rt_shape s = m->t[nd->in[0]].shape, one = { 0 };

	if (nd->nin == 1) {
		rt_view(m, nd->out[0], nd->in[0]);
		return 0;
	}
	for (k = 1; k < nd->nin; k++) {
		int out = nd->out[0];

		rt_broadcast(&s, &m->t[nd->in[k]].shape, &s);
		if (k + 1 < nd->nin || mean) {
			ret = rt_value_add(m, nd, dtype, &s, &out, err);
			if (ret)
				return ret;
		}
		in[1] = nd->in[k];
		ret = rt_step_add(m, nd, op, in, 2, &out, 1, NULL, 0, err);
		if (ret)
			return ret;
		in[0] = out;
	}
	if (!mean)
		return 0;
	ret = rt_fill_const(m, nd, dtype, &one, nd->nin, &in[1], err);
	return ret ? ret : rt_step_add(m, nd, EIA_OP_DIV, in, 2, nd->out, 1, NULL, 0, err);
}

/* Cast and CastLike: a view when the dtype stays, else eia's Cast. */
static int rt_lower_cast(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0), *y = rt_out(m, nd, 0);
	struct eia_cast_attr attr = { .to = (uint32_t)y->dtype };

	if (x->dtype == y->dtype) {
		rt_view(m, nd->out[0], nd->in[0]);
		return 0;
	}
	return rt_step_add(m, nd, EIA_OP_CAST, &nd->in[0], 1, nd->out, 1, &attr, sizeof(attr),
			   err);
}

/* A bound Clip leaves out: @f for floats, the integer type's extreme else. */
static int rt_clip_bound(struct eia_model *m, const struct rt_node *nd, int dtype,
			 bool upper, float f, int *index, struct eia_runner_error *err)
{
	struct rt_shape s = { 0 };
	void *data;

	if (rt_dtype_float(dtype))
		return rt_fill_const(m, nd, dtype, &s, f, index, err);
	data = malloc(sizeof(int64_t));
	if (!data)
		return rt_fail(err, ENOMEM, "out of memory");
	if (dtype == EIA_DTYPE_I64)
		*(int64_t *)data = upper ? INT64_MAX : INT64_MIN;
	else
		*(int32_t *)data = upper ? INT32_MAX : INT32_MIN;
	return rt_const_add(m, nd->label, dtype, &s, data, index, err);
}

/*
 * Clip-11 and later take the bounds as optional inputs, Clip-6 as
 * attributes defaulting to the largest finite floats; eia's Clip always
 * takes both as inputs.
 */
static int rt_lower_clip(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	/* Adding constants moves m->t: keep the dtype, not a pointer. */
	int dtype = rt_in(m, nd, 0)->dtype, in[3] = { nd->in[0], -1, -1 }, i, ret;

	for (i = 0; i < 2; i++) {
		float f = i ? INFINITY : -INFINITY;

		if (m->opset >= 11 && rt_in(m, nd, i + 1)) {
			in[i + 1] = nd->in[i + 1];
			continue;
		}
		if (m->opset < 11) {
			ret = rt_attr_float(nd, i ? "max" : "min", i ? FLT_MAX : -FLT_MAX, &f,
					    err);
			if (ret)
				return ret;
		}
		ret = rt_clip_bound(m, nd, dtype, i, f, &in[i + 1], err);
		if (ret)
			return ret;
	}
	return rt_step_add(m, nd, EIA_OP_CLIP, in, 3, nd->out, 1, NULL, 0, err);
}

static int rt_lower_expand(struct eia_model *m, struct rt_node *nd,
			   struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0), *y = rt_out(m, nd, 0);
	struct rt_shape zs = y->shape, one = { 0 };
	int in[3] = { -1, nd->in[0], -1 }, lead = y->shape.ndim - x->shape.ndim, i, ret;

	if (rt_shape_eq(&x->shape, &y->shape)) {
		rt_view(m, nd->out[0], nd->in[0]);
		return 0;
	}
	/* Zeros only as large as the dims X lacks: Where broadcasts the rest. */
	for (i = lead; i < zs.ndim; i++)
		if (x->shape.d[i - lead] == zs.d[i])
			zs.d[i] = 1;
	/* X's last use: adding constants moves m->t. */
	ret = rt_fill_const(m, nd, x->dtype, &zs, 0, &in[2], err);
	if (!ret)
		ret = rt_fill_const(m, nd, EIA_DTYPE_BOOL, &one, 1, &in[0], err);
	return ret ? ret : rt_step_add(m, nd, EIA_OP_WHERE, in, 3, nd->out, 1, NULL, 0, err);
}

/* Softmax and LogSoftmax (@op). */
static int rt_lower_softmax(struct eia_model *m, struct rt_node *nd, int op,
			    struct eia_runner_error *err)
{
	const struct rt_tensor *x = rt_in(m, nd, 0);
	struct eia_axis_attr attr = { .axis = 1 };
	struct rt_shape flat = { .ndim = 2, .d = { 1, 1 } };
	int64_t axis;
	int a, i, in2, out2, dtype, ret;

	ret = rt_attr_int(nd, "axis", m->opset >= 13 ? -1 : 1, &axis, err);
	if (ret)
		return ret;
	a = rt_axis(axis, x->shape.ndim);
	if (a < 0)
		return rt_node_fail(err, EINVAL, nd, "axis %lld out of range", (long long)axis);
	if (m->opset >= 13 || a == x->shape.ndim - 1) {
		attr.axis = a;
		return rt_step1(m, nd, op, &attr, sizeof(attr), err);
	}
	/* Opsets 1 and 11 normalise over all dims from axis on, flattened. */
	for (i = 0; i < x->shape.ndim; i++)
		flat.d[i < a ? 0 : 1] *= x->shape.d[i];
	dtype = x->dtype;	/* adding tensors moves m->t */
	ret = rt_value_add(m, nd, dtype, &flat, &in2, err);
	if (!ret)
		ret = rt_value_add(m, nd, dtype, &flat, &out2, err);
	if (ret)
		return ret;
	m->t[in2].producer = m->t[nd->in[0]].producer;
	rt_view(m, in2, nd->in[0]);
	rt_view(m, nd->out[0], out2);
	return rt_step_add(m, nd, op, &in2, 1, &out2, 1, &attr, sizeof(attr), err);
}

/* One intermediate of @nd's shape @s, or output @i of @nd when it has one. */
static int rt_out_or_value(struct eia_model *m, const struct rt_node *nd, int i,
			   const struct rt_shape *s, int *t, struct eia_runner_error *err)
{
	if (i < nd->nout && nd->out[i] >= 0) {
		*t = nd->out[i];
		return 0;
	}
	return rt_value_add(m, nd, EIA_DTYPE_F32, s, t, err);
}

/*
 * LayerNormalization's Mean and InvStdDev outputs, which the operator does
 * not give: Mean = ReduceMean(X) over the normalised axes, InvStdDev =
 * 1 / Sqrt(ReduceMean((X - Mean)^2) + epsilon), in F32 (stash_type 1).
 */
static int rt_layernorm_stats(struct eia_model *m, const struct rt_node *nd,
			      const struct eia_layernorm_attr *ln,
			      struct eia_runner_error *err)
{
	/* A copy: adding tensors moves m->t. */
	const struct rt_shape xs = rt_in(m, nd, 0)->shape;
	struct eia_reduce_attr red = EIA_REDUCE_ATTR_INIT;
	struct rt_shape stat = xs, one = { 0 };
	int a = rt_axis(ln->axis, xs.ndim), i, mean, d, sq, var, ve, sd, eps, c1, ret;
	int in[2];

	if (rt_in(m, nd, 0)->dtype != EIA_DTYPE_F32)
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "the Mean and InvStdDev outputs are supported for F32 only");
	for (i = a; i < xs.ndim; i++) {
		red.axes[red.n_axes++] = i;
		stat.d[i] = 1;
	}
	ret = rt_out_or_value(m, nd, 1, &stat, &mean, err);
	if (!ret)
		ret = rt_step_add(m, nd, EIA_OP_REDUCE_MEAN, &nd->in[0], 1, &mean, 1, &red,
				  sizeof(red), err);
	if (ret || nd->nout < 3 || nd->out[2] < 0)
		return ret;
	ret = rt_value_add(m, nd, EIA_DTYPE_F32, &xs, &d, err);
	if (!ret)
		ret = rt_value_add(m, nd, EIA_DTYPE_F32, &xs, &sq, err);
	if (!ret)
		ret = rt_value_add(m, nd, EIA_DTYPE_F32, &stat, &var, err);
	if (!ret)
		ret = rt_value_add(m, nd, EIA_DTYPE_F32, &stat, &ve, err);
	if (!ret)
		ret = rt_value_add(m, nd, EIA_DTYPE_F32, &stat, &sd, err);
	if (!ret)
		ret = rt_fill_const(m, nd, EIA_DTYPE_F32, &one, ln->epsilon, &eps, err);
	if (!ret)
		ret = rt_fill_const(m, nd, EIA_DTYPE_F32, &one, 1, &c1, err);
	if (ret)
		return ret;
	in[0] = nd->in[0];
	in[1] = mean;
	ret = rt_step_add(m, nd, EIA_OP_SUB, in, 2, &d, 1, NULL, 0, err);
	in[0] = d;
	in[1] = d;
	if (!ret)
		ret = rt_step_add(m, nd, EIA_OP_MUL, in, 2, &sq, 1, NULL, 0, err);
	if (!ret)
		ret = rt_step_add(m, nd, EIA_OP_REDUCE_MEAN, &sq, 1, &var, 1, &red,
				  sizeof(red), err);
	in[0] = var;
	in[1] = eps;
	if (!ret)
		ret = rt_step_add(m, nd, EIA_OP_ADD, in, 2, &ve, 1, NULL, 0, err);
	if (!ret)
		ret = rt_step_add(m, nd, EIA_OP_SQRT, &ve, 1, &sd, 1, NULL, 0, err);
	in[0] = c1;
	in[1] = sd;
	if (!ret)
		ret = rt_step_add(m, nd, EIA_OP_DIV, in, 2, &nd->out[2], 1, NULL, 0, err);
	return ret;
}

static int rt_lower_layernorm(struct eia_model *m, struct rt_node *nd,
			      struct eia_runner_error *err)
{
	struct eia_layernorm_attr attr = EIA_LAYERNORM_ATTR_INIT;
	int64_t stash;
	int ret, i;

	ret = rt_attr_int(nd, "axis", -1, &attr.axis, err);
	if (!ret)
		ret = rt_attr_float(nd, "epsilon", 1e-5f, &attr.epsilon, err);
	if (!ret)
		ret = rt_attr_int(nd, "stash_type", 1, &stash, err);
	if (ret)
		return ret;
	if (stash != 1)
		return rt_node_fail(err, EOPNOTSUPP, nd, "stash_type %lld is not supported",
				    (long long)stash);
	ret = rt_step1(m, nd, EIA_OP_LAYERNORM, &attr, sizeof(attr), err);
	for (i = 1; !ret && i < nd->nout; i++)
		if (nd->out[i] >= 0 && m->t[nd->out[i]].needed)
			return rt_layernorm_stats(m, nd, &attr, err);
	return ret;
}

static int rt_lower_gemm(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	struct eia_gemm_attr attr = EIA_GEMM_ATTR_INIT;
	int64_t ta, tb;
	int ret;

	ret = rt_attr_float(nd, "alpha", 1.0f, &attr.alpha, err);
	if (!ret)
		ret = rt_attr_float(nd, "beta", 1.0f, &attr.beta, err);
	if (!ret)
		ret = rt_attr_int(nd, "transA", 0, &ta, err);
	if (!ret)
		ret = rt_attr_int(nd, "transB", 0, &tb, err);
	if (ret)
		return ret;
	if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
		return rt_node_fail(err, EINVAL, nd, "transA and transB are 0 or 1");
	attr.trans_a = (uint32_t)ta;
	attr.trans_b = (uint32_t)tb;
	return rt_step1(m, nd, EIA_OP_GEMM, &attr, sizeof(attr), err);
}

/* A view of tensor @t with the dims @s (a tensor of its own, sharing storage). */
static int rt_view_as(struct eia_model *m, const struct rt_node *nd, int t,
		      const struct rt_shape *s, int *view, struct eia_runner_error *err)
{
	int ret = rt_value_add(m, nd, m->t[t].dtype, s, view, err);

	if (ret)
		return ret;
	m->t[*view].producer = m->t[t].producer;
	rt_view(m, *view, t);
	return 0;
}

/* @s with a unit dim inserted before dim 2: (N, C, L) becomes (N, C, 1, L). */
static struct rt_shape rt_unit_height(const struct rt_shape *s)
{
	struct rt_shape r = { .ndim = 4, .d = { s->d[0], s->d[1], 1, s->d[2] } };

	return r;
}

/*
 * @op on @nd's inputs, a 1-D node computed by the 2-D operator: X (and W,
 * for Conv) seen with a unit height, Y written with one and seen without.
 */
static int rt_step_1d(struct eia_model *m, struct rt_node *nd, int op, const void *attr,
		      size_t attr_size, int nwin, struct eia_runner_error *err)
{
	int in[3] = { -1, -1, -1 }, nin = nd->nin, y4, i, ret;
	struct rt_shape s;

	while (nin > 0 && nd->in[nin - 1] < 0)
		nin--;
	for (i = 0; i < nin; i++) {
		in[i] = nd->in[i];
		if (i >= nwin)
			continue;
		s = rt_unit_height(&m->t[nd->in[i]].shape);
		ret = rt_view_as(m, nd, nd->in[i], &s, &in[i], err);
		if (ret)
			return ret;
	}
	s = rt_unit_height(&m->t[nd->out[0]].shape);
	ret = rt_value_add(m, nd, m->t[nd->out[0]].dtype, &s, &y4, err);
	if (ret)
		return ret;
	rt_view(m, nd->out[0], y4);
	return rt_step_add(m, nd, op, in, nin, &y4, 1, attr, attr_size, err);
}

static int rt_lower_conv(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	int rank = m->t[nd->in[0]].shape.ndim, i, ret;
	struct eia_conv2d_attr attr;

	if (rank == 5) {
		struct eia_conv3d_attr attr3;

		ret = rt_conv3d_attr(m, nd, &attr3, err);
		return ret ? ret : rt_step1(m, nd, EIA_OP_CONV3D, &attr3, sizeof(attr3), err);
	}
	ret = rt_conv_attr(m, nd, &attr, err);
	if (ret)
		return ret;
	if (rank == 3)
		return rt_step_1d(m, nd, EIA_OP_CONV2D, &attr, sizeof(attr), 2, err);
	for (i = 0; i < 4; i++)
		attr.pads[i] += nd->extra_pads[i];
	return rt_step1(m, nd, EIA_OP_CONV2D, &attr, sizeof(attr), err);
}

static int rt_lower_pool(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	int op = strcmp(nd->op, "MaxPool") ? EIA_OP_AVGPOOL2D : EIA_OP_MAXPOOL2D;
	struct eia_pool2d_attr attr;
	int ret;

	if (nd->nout > 1 && nd->out[1] >= 0 && m->t[nd->out[1]].needed)
		return rt_node_fail(err, EOPNOTSUPP, nd, "the Indices output is not supported");
	if (m->t[nd->in[0]].shape.ndim == 5) {
		struct eia_pool3d_attr attr3;

		ret = rt_pool3d_attr(m, nd, &attr3, err);
		return ret ? ret : rt_step1(m, nd, op == EIA_OP_MAXPOOL2D ? EIA_OP_MAXPOOL3D :
								      EIA_OP_AVGPOOL3D,
					    &attr3, sizeof(attr3), err);
	}
	ret = rt_pool_attr(m, nd, &attr, err);
	if (ret)
		return ret;
	if (m->t[nd->in[0]].shape.ndim == 3)
		return rt_step_1d(m, nd, op, &attr, sizeof(attr), 1, err);
	return rt_step1(m, nd, op, &attr, sizeof(attr), err);
}

static int rt_lower_arg(struct eia_model *m, struct rt_node *nd,
			struct eia_runner_error *err)
{
	struct eia_arg_attr attr = EIA_ARG_ATTR_INIT;
	int64_t keep, last;
	int ret;

	ret = rt_attr_int(nd, "axis", 0, &attr.axis, err);
	if (!ret)
		ret = rt_attr_int(nd, "keepdims", 1, &keep, err);
	if (!ret)
		ret = rt_attr_int(nd, "select_last_index", 0, &last, err);
	if (ret)
		return ret;
	if ((keep != 0 && keep != 1) || (last != 0 && last != 1))
		return rt_node_fail(err, EINVAL, nd, "keepdims and select_last_index are 0 or 1");
	attr.keepdims = (uint32_t)keep;
	attr.select_last_index = (uint32_t)last;
	return rt_step1(m, nd, strcmp(nd->op, "ArgMax") ? EIA_OP_ARGMIN : EIA_OP_ARGMAX,
			&attr, sizeof(attr), err);
}

/* CumSum and Tile take their axis or repeats as attributes, not inputs. */
static int rt_lower_cumsum(struct eia_model *m, struct rt_node *nd,
			   struct eia_runner_error *err)
{
	struct eia_cumsum_attr attr = { 0 };
	int64_t excl, rev;
	int axis, ret;

	ret = rt_cumsum_axis(m, nd, &axis, err);
	if (!ret)
		ret = rt_attr_int(nd, "exclusive", 0, &excl, err);
	if (!ret)
		ret = rt_attr_int(nd, "reverse", 0, &rev, err);
	if (ret)
		return ret;
	if ((excl != 0 && excl != 1) || (rev != 0 && rev != 1))
		return rt_node_fail(err, EINVAL, nd, "exclusive and reverse are 0 or 1");
	attr.axis = axis;
	attr.exclusive = (uint32_t)excl;
	attr.reverse = (uint32_t)rev;
	return rt_step_add(m, nd, EIA_OP_CUMSUM, &nd->in[0], 1, nd->out, 1, &attr, sizeof(attr),
			   err);
}

static int rt_lower_tile(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	struct eia_tile_attr attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	ret = rt_tile_repeats(m, nd, attr.repeats, err);
	return ret ? ret : rt_step_add(m, nd, EIA_OP_TILE, &nd->in[0], 1, nd->out, 1, &attr,
				       sizeof(attr), err);
}

/* Resize: only X travels; roi, scales and sizes are in the attributes. */
static int rt_lower_resize(struct eia_model *m, struct rt_node *nd,
			   struct eia_runner_error *err)
{
	struct eia_resize_attr attr;
	int ret = rt_resize_attr(m, nd, &attr, err);

	return ret ? ret : rt_step_add(m, nd, EIA_OP_RESIZE, &nd->in[0], 1, nd->out, 1, &attr,
				       sizeof(attr), err);
}

/*
 * InstanceNormalization: LayerNormalization of X seen as (N * C, spatial),
 * with a scale of 1, then the per-channel Scale and B, seen as (C, 1, ...),
 * by Mul and Add.
 */
static int rt_lower_instancenorm(struct eia_model *m, struct rt_node *nd,
				 struct eia_runner_error *err)
{
	struct eia_layernorm_attr attr = { .axis = 1 };
	const struct rt_shape xs = m->t[nd->in[0]].shape;
	struct rt_shape flat = { .ndim = 2, .d = { xs.d[0] * xs.d[1], 1 } };
	struct rt_shape per = { .ndim = xs.ndim - 1, .d = { xs.d[1] } }, one = { .ndim = 1 };
	int dtype = m->t[nd->in[0]].dtype, in[2], xv, yv, y, scaled, i, ret;

	ret = rt_attr_float(nd, "epsilon", 1e-5f, &attr.epsilon, err);
	if (ret)
		return ret;
	for (i = 2; i < xs.ndim; i++) {
		flat.d[1] *= xs.d[i];
		per.d[i - 1] = 1;
	}
	one.d[0] = 1;
	ret = rt_view_as(m, nd, nd->in[0], &flat, &xv, err);
	if (!ret)
		ret = rt_fill_const(m, nd, dtype, &one, 1, &in[1], err);
	if (!ret)
		ret = rt_value_add(m, nd, dtype, &flat, &yv, err);
	if (ret)
		return ret;
	in[0] = xv;
	ret = rt_step_add(m, nd, EIA_OP_LAYERNORM, in, 2, &yv, 1, &attr, sizeof(attr), err);
	if (!ret)
		ret = rt_view_as(m, nd, yv, &xs, &y, err);
	if (!ret)
		ret = rt_view_as(m, nd, nd->in[1], &per, &in[1], err);
	if (!ret)
		ret = rt_value_add(m, nd, dtype, &xs, &scaled, err);
	if (ret)
		return ret;
	in[0] = y;
	ret = rt_step_add(m, nd, EIA_OP_MUL, in, 2, &scaled, 1, NULL, 0, err);
	if (!ret)
		ret = rt_view_as(m, nd, nd->in[2], &per, &in[1], err);
	if (ret)
		return ret;
	in[0] = scaled;
	return rt_step_add(m, nd, EIA_OP_ADD, in, 2, nd->out, 1, NULL, 0, err);
}

static int rt_lower_axis_op(struct eia_model *m, struct rt_node *nd, int op,
			    struct eia_runner_error *err)
{
	struct eia_axis_attr attr;
	int ret = rt_attr_int(nd, "axis", 0, &attr.axis, err);

	return ret ? ret : rt_step1(m, nd, op, &attr, sizeof(attr), err);
}

static int rt_lower_transpose(struct eia_model *m, struct rt_node *nd,
			      struct eia_runner_error *err)
{
	struct eia_transpose_attr attr;
	int rank = rt_in(m, nd, 0)->shape.ndim, ret;

	memset(&attr, 0, sizeof(attr));
	ret = rt_transpose_perm(nd, rank, attr.perm, err);
	if (ret)
		return ret;
	attr.n_perm = (uint32_t)rank;
	return rt_step1(m, nd, EIA_OP_TRANSPOSE, &attr, sizeof(attr), err);
}

static const struct {
	const char *name;
	int op;
} rt_reduce_ops[] = {
	{ "ReduceMean", EIA_OP_REDUCE_MEAN }, { "ReduceSum", EIA_OP_REDUCE_SUM },
	{ "ReduceMax", EIA_OP_REDUCE_MAX }, { "ReduceMin", EIA_OP_REDUCE_MIN },
	{ "ReduceProd", EIA_OP_REDUCE_PROD }, { "ReduceL1", EIA_OP_REDUCE_L1 },
	{ "ReduceL2", EIA_OP_REDUCE_L2 }, { "ReduceSumSquare", EIA_OP_REDUCE_SUM_SQUARE },
	{ "ReduceLogSum", EIA_OP_REDUCE_LOG_SUM },
	{ "ReduceLogSumExp", EIA_OP_REDUCE_LOG_SUM_EXP },
};

/* Dropout for inference: a view; its mask, when used, a constant true. */
static int rt_lower_dropout(struct eia_model *m, struct rt_node *nd,
			    struct eia_runner_error *err)
{
	const struct rt_shape s = m->t[nd->in[0]].shape;
	int mask, ret;

	rt_view(m, nd->out[0], nd->in[0]);
	if (nd->nout < 2 || nd->out[1] < 0 || !m->t[nd->out[1]].needed)
		return 0;
	ret = rt_fill_const(m, nd, EIA_DTYPE_BOOL, &s, 1, &mask, err);
	if (!ret)
		rt_view(m, nd->out[1], mask);
	return ret;
}

/* PRelu: Where(X < 0, X * Slope, X). */
static int rt_lower_prelu(struct eia_model *m, struct rt_node *nd,
			  struct eia_runner_error *err)
{
	const struct rt_shape xs = m->t[nd->in[0]].shape, one = { 0 };
	int dtype = m->t[nd->in[0]].dtype, in[3], neg, scaled, ret;

	ret = rt_fill_const(m, nd, dtype, &one, 0, &in[1], err);
	if (!ret)
		ret = rt_value_add(m, nd, EIA_DTYPE_BOOL, &xs, &neg, err);
	if (!ret)
		ret = rt_value_add(m, nd, dtype, &xs, &scaled, err);
	if (ret)
		return ret;
	in[0] = nd->in[0];
	ret = rt_step_add(m, nd, EIA_OP_LESS, in, 2, &neg, 1, NULL, 0, err);
	if (!ret)
		ret = rt_step_add(m, nd, EIA_OP_MUL, nd->in, 2, &scaled, 1, NULL, 0, err);
	if (ret)
		return ret;
	in[0] = neg;
	in[1] = scaled;
	in[2] = nd->in[0];
	return rt_step_add(m, nd, EIA_OP_WHERE, in, 3, nd->out, 1, NULL, 0, err);
}

/* Trilu: Where(the triangle, X, 0), the triangle a constant of X's last two dims. */
static int rt_lower_trilu(struct eia_model *m, struct rt_node *nd,
			  struct eia_runner_error *err)
{
	const struct rt_shape xs = m->t[nd->in[0]].shape, one = { 0 };
	struct rt_shape ms = { .ndim = 2, .d = { xs.d[xs.ndim - 2], xs.d[xs.ndim - 1] } };
	int dtype = m->t[nd->in[0]].dtype, in[3] = { -1, nd->in[0], -1 }, ret;
	int64_t k, upper, i, j;
	uint8_t *keep;

	ret = rt_trilu_k(m, nd, &k, err);
	if (!ret)
		ret = rt_attr_int(nd, "upper", 1, &upper, err);
	if (!ret)
		ret = rt_fill_const(m, nd, EIA_DTYPE_BOOL, &ms, 0, &in[0], err);
	if (!ret)
		ret = rt_fill_const(m, nd, dtype, &one, 0, &in[2], err);
	if (ret)
		return ret;
	keep = m->t[in[0]].data;
	for (i = 0; i < ms.d[0]; i++)
		for (j = 0; j < ms.d[1]; j++)
			keep[i * ms.d[1] + j] = upper ? j - i >= k : j - i <= k;
	return rt_step_add(m, nd, EIA_OP_WHERE, in, 3, nd->out, 1, NULL, 0, err);
}

/* GlobalMaxPool: ReduceMax over the spatial dims, kept. */
static int rt_lower_global_max(struct eia_model *m, struct rt_node *nd,
			       struct eia_runner_error *err)
{
	struct eia_reduce_attr attr = EIA_REDUCE_ATTR_INIT;
	int i;

	for (i = 2; i < m->t[nd->in[0]].shape.ndim; i++)
		attr.axes[attr.n_axes++] = i;
	return rt_step1(m, nd, EIA_OP_REDUCE_MAX, &attr, sizeof(attr), err);
}

/* The reduction @op, with the axes resolved (the axes input is not passed). */
static int rt_lower_reduce(struct eia_model *m, struct rt_node *nd, int op,
			   struct eia_runner_error *err)
{
	struct eia_reduce_attr attr;
	int in = nd->in[0];
	int ret = rt_reduce_attr(m, nd, &attr, err);

	return ret ? ret : rt_step_add(m, nd, op, &in, 1, nd->out, 1, &attr, sizeof(attr), err);
}

static int rt_lower_slice(struct eia_model *m, struct rt_node *nd,
			  struct eia_runner_error *err)
{
	struct eia_slice_attr attr;
	struct rt_slice sl;
	struct rt_shape s;
	int in = nd->in[0];
	int ret = rt_slice_params(m, nd, &sl, &attr, &s, err);

	return ret ? ret : rt_step_add(m, nd, EIA_OP_SLICE, &in, 1, nd->out, 1,
				       &attr, sizeof(attr), err);
}

static int rt_lower_split(struct eia_model *m, struct rt_node *nd,
			  struct eia_runner_error *err)
{
	/* Copies: adding tensors moves m->t. */
	const struct rt_shape xs = rt_in(m, nd, 0)->shape;
	int dtype = rt_in(m, nd, 0)->dtype;
	struct eia_split_attr attr;
	int out[EIA_OP_MAX_IO], axis, i, ret;

	memset(&attr, 0, sizeof(attr));
	ret = rt_split_params(m, nd, &axis, attr.split, err);
	if (ret)
		return ret;
	attr.axis = axis;
	attr.n_split = (uint32_t)nd->nout;
	for (i = 0; i < nd->nout; i++) {
		struct rt_shape s = xs;

		out[i] = nd->out[i];
		if (out[i] >= 0)
			continue;
		/* An output nobody named still needs somewhere to go. */
		s.d[axis] = attr.split[i];
		ret = rt_value_add(m, nd, dtype, &s, &out[i], err);
		if (ret)
			return ret;
	}
	return rt_step_add(m, nd, EIA_OP_SPLIT, &nd->in[0], 1, out, nd->nout, &attr,
			   sizeof(attr), err);
}

/* Y = X * scale + bias, per channel, with both computed here. */
static int rt_lower_batchnorm(struct eia_model *m, struct rt_node *nd,
			      struct eia_runner_error *err)
{
	/* Copies: adding tensors moves m->t. */
	const struct rt_shape xs = rt_in(m, nd, 0)->shape;
	const int dtype = rt_in(m, nd, 0)->dtype;
	struct rt_shape ps = { .ndim = xs.ndim - 1 };
	int64_t c = xs.d[1], k;
	int in[2], tmp, ret, i, sc, bi;
	float eps;
	double *s, *b;

	for (i = 1; i < 5; i++) {
		const struct rt_tensor *p = rt_in(m, nd, i);

		if (p->kind != RT_CONST || !rt_dtype_float(p->dtype))
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "scale, bias, mean and variance must be constants, of a float dtype");
	}
	ret = rt_attr_float(nd, "epsilon", 1e-5f, &eps, err);
	if (ret)
		return ret;
	ps.d[0] = c;
	for (i = 1; i < ps.ndim; i++)
		ps.d[i] = 1;
	s = malloc((size_t)c * sizeof(double) + 1);
	b = malloc((size_t)c * sizeof(double) + 1);
	if (!s || !b) {
		free(s);
		free(b);
		return rt_fail(err, ENOMEM, "out of memory");
	}
	for (k = 0; k < c; k++) {
		double g[4];

		for (i = 0; i < 4; i++) {
			const struct rt_tensor *p = rt_in(m, nd, i + 1);

			g[i] = rt_float_at(p->data, p->dtype, (size_t)k);
		}
		s[k] = g[0] / sqrt(g[3] + eps);
		b[k] = g[1] - g[2] * s[k];
	}
	ret = rt_fill_const(m, nd, dtype, &ps, 0, &sc, err);
	if (!ret)
		ret = rt_fill_const(m, nd, dtype, &ps, 0, &bi, err);
	if (!ret) {
		for (k = 0; k < c; k++) {
			rt_float_set(m->t[sc].data, dtype, (size_t)k, (float)s[k]);
			rt_float_set(m->t[bi].data, dtype, (size_t)k, (float)b[k]);
		}
	}
	free(s);
	free(b);
	if (!ret)
		ret = rt_value_add(m, nd, dtype, &xs, &tmp, err);
	if (ret)
		return ret;
	in[0] = nd->in[0];
	in[1] = sc;
	ret = rt_step_add(m, nd, EIA_OP_MUL, in, 2, &tmp, 1, NULL, 0, err);
	in[0] = tmp;
	in[1] = bi;
	return ret ? ret : rt_step_add(m, nd, EIA_OP_ADD, in, 2, nd->out, 1, NULL, 0, err);
}

/* One Slice of @src along @axis into a new tensor. */
static int rt_slice_step(struct eia_model *m, const struct rt_node *nd, int src,
			 int axis, int64_t start, int64_t end, int64_t step,
			 int64_t len, int *out, struct eia_runner_error *err)
{
	struct eia_slice_attr attr;
	struct rt_shape s = m->t[src].shape;
	int ret;

	memset(&attr, 0, sizeof(attr));
	attr.n = 1;
	attr.starts[0] = start;
	attr.ends[0] = end;
	attr.axes[0] = axis;
	attr.steps[0] = step;
	s.d[axis] = len;
	ret = rt_value_add(m, nd, m->t[src].dtype, &s, out, err);
	return ret ? ret : rt_step_add(m, nd, EIA_OP_SLICE, &src, 1, out, 1, &attr,
				       sizeof(attr), err);
}

/* The border of @len elements before (@before) or after @cur along @a. */
static int rt_pad_border(struct eia_model *m, const struct rt_node *nd,
			 const char *mode, double value, int cur, int a, int64_t len,
			 bool before, int *pieces, int *np, struct eia_runner_error *err)
{
	struct rt_shape s = m->t[cur].shape;
	int64_t dim = s.d[a], k;
	int t, ret;

	if (!len)
		return 0;
	s.d[a] = len;
	if (!strcmp(mode, "constant")) {
		ret = rt_fill_const(m, nd, m->t[cur].dtype, &s, value, &t, err);
		if (!ret)
			pieces[(*np)++] = t;
		return ret;
	}
	if (!strcmp(mode, "reflect")) {
		/* An end before the first element is INT64_MIN, not -1 (the last). */
		int64_t end = dim - 2 - len < 0 ? INT64_MIN : dim - 2 - len;

		ret = before ? rt_slice_step(m, nd, cur, a, len, 0, -1, len, &t, err)
			     : rt_slice_step(m, nd, cur, a, dim - 2, end, -1, len, &t, err);
		if (!ret)
			pieces[(*np)++] = t;
		return ret;
	}
	/* edge: the first or last slab, repeated. */
	if (*np + len + 2 > EIA_OP_MAX_IO)
		return rt_node_fail(err, EOPNOTSUPP, nd, "edge pads longer than %d",
				    EIA_OP_MAX_IO - 3);
	ret = rt_slice_step(m, nd, cur, a, before ? 0 : dim - 1, before ? 1 : dim, 1, 1, &t,
			    err);
	for (k = 0; !ret && k < len; k++)
		pieces[(*np)++] = t;
	return ret;
}

static int rt_lower_pad(struct eia_model *m, struct rt_node *nd,
			struct eia_runner_error *err)
{
	const struct rt_tensor *v = rt_in(m, nd, 2);
	int64_t pads[2 * EIA_MAX_DIMS];
	int r = rt_in(m, nd, 0)->shape.ndim, cur = nd->in[0], a, last = -1, ret;
	double value = 0;
	char mode[16];
	float fv;

	ret = rt_pad_params(m, nd, pads, mode, sizeof(mode), err);
	if (!ret && m->opset < 11)
		ret = rt_attr_float(nd, "value", 0, &fv, err);
	if (ret)
		return ret;
	if (m->opset < 11)
		value = fv;
	else if (v)
		value = rt_dtype_float(v->dtype) ? rt_float_at(v->data, v->dtype, 0) :
			v->dtype == EIA_DTYPE_I64 ? (double)((const int64_t *)v->data)[0] :
			v->dtype == EIA_DTYPE_I32 ? ((const int32_t *)v->data)[0] :
			((const uint8_t *)v->data)[0];
	for (a = 0; a < r; a++)
		if (pads[a] || pads[r + a])
			last = a;
	if (last < 0) {
		rt_view(m, nd->out[0], nd->in[0]);
		return 0;
	}
	for (a = 0; a <= last; a++) {
		int64_t pb = pads[a], pe = pads[r + a], dim = m->t[cur].shape.d[a];
		int pieces[EIA_OP_MAX_IO], np = 0, next;
		struct rt_shape s;

		if (!pb && !pe)
			continue;
		/* Negative pads crop first. */
		if (pb < 0 || pe < 0) {
			int64_t s0 = pb < 0 ? -pb : 0, e0 = dim - (pe < 0 ? -pe : 0);

			ret = rt_slice_step(m, nd, cur, a, s0, e0, 1, e0 - s0, &cur, err);
			if (ret)
				return ret;
			pb = pb < 0 ? 0 : pb;
			pe = pe < 0 ? 0 : pe;
			if (!pb && !pe) {
				if (a == last)
					rt_view(m, nd->out[0], cur);
				continue;
			}
		}
		ret = rt_pad_border(m, nd, mode, value, cur, a, pb, true, pieces, &np, err);
		if (ret)
			return ret;
		pieces[np++] = cur;
		ret = rt_pad_border(m, nd, mode, value, cur, a, pe, false, pieces, &np, err);
		if (ret)
			return ret;
		s = m->t[cur].shape;
		s.d[a] += pb + pe;
		if (a == last) {
			next = nd->out[0];
		} else {
			ret = rt_value_add(m, nd, m->t[cur].dtype, &s, &next, err);
			if (ret)
				return ret;
		}
		{
			struct eia_axis_attr attr = { .axis = a };

			ret = rt_step_add(m, nd, EIA_OP_CONCAT, pieces, np, &next, 1, &attr,
					  sizeof(attr), err);
		}
		if (ret)
			return ret;
		cur = next;
	}
	return 0;
}

static bool rt_is_view_op(const char *op)
{
	return !strcmp(op, "Identity") || !strcmp(op, "Reshape") || !strcmp(op, "Flatten") ||
	       !strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze");
}

static int rt_lower_node(struct eia_model *m, struct rt_node *nd,
			 struct eia_runner_error *err)
{
	const char *op = nd->op;
	size_t i;

	for (i = 0; i < sizeof(rt_direct_ops) / sizeof(rt_direct_ops[0]); i++)
		if (!strcmp(rt_direct_ops[i].name, op))
			return rt_step1(m, nd, rt_direct_ops[i].op, NULL, 0, err);
	if (rt_is_view_op(op)) {
		rt_view(m, nd->out[0], nd->in[0]);
		return 0;
	}
	if (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") ||
	    !strcmp(op, "Div") || !strcmp(op, "Pow"))
		return rt_lower_binary(m, nd, err);
	if (!strcmp(op, "LeakyRelu") || !strcmp(op, "HardSigmoid") || !strcmp(op, "Elu"))
		return rt_lower_activation(m, nd, err);
	if (!strcmp(op, "Min") || !strcmp(op, "Max") || !strcmp(op, "Sum") ||
	    !strcmp(op, "Mean"))
		return rt_lower_variadic(m, nd, err);
	if (!strcmp(op, "Cast") || !strcmp(op, "CastLike"))
		return rt_lower_cast(m, nd, err);
	if (!strcmp(op, "Expand"))
		return rt_lower_expand(m, nd, err);
	if (!strcmp(op, "Clip"))
		return rt_lower_clip(m, nd, err);
	if (!strcmp(op, "Gemm"))
		return rt_lower_gemm(m, nd, err);
	if (!strcmp(op, "Conv"))
		return rt_lower_conv(m, nd, err);
	if (!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool"))
		return rt_lower_pool(m, nd, err);
	if (!strcmp(op, "Softmax"))
		return rt_lower_softmax(m, nd, EIA_OP_SOFTMAX, err);
	if (!strcmp(op, "LogSoftmax"))
		return rt_lower_softmax(m, nd, EIA_OP_LOG_SOFTMAX, err);
	if (!strcmp(op, "LayerNormalization"))
		return rt_lower_layernorm(m, nd, err);
	for (i = 0; i < sizeof(rt_reduce_ops) / sizeof(rt_reduce_ops[0]); i++)
		if (!strcmp(rt_reduce_ops[i].name, op))
			return rt_lower_reduce(m, nd, rt_reduce_ops[i].op, err);
	if (!strcmp(op, "Transpose"))
		return rt_lower_transpose(m, nd, err);
	if (!strcmp(op, "Gather"))
		return rt_lower_axis_op(m, nd, EIA_OP_GATHER, err);
	if (!strcmp(op, "Concat"))
		return rt_lower_axis_op(m, nd, EIA_OP_CONCAT, err);
	if (!strcmp(op, "Split"))
		return rt_lower_split(m, nd, err);
	if (!strcmp(op, "Slice"))
		return rt_lower_slice(m, nd, err);
	if (!strcmp(op, "BatchNormalization"))
		return rt_lower_batchnorm(m, nd, err);
	if (!strcmp(op, "Pad"))
		return rt_lower_pad(m, nd, err);
	if (!strcmp(op, "ArgMax") || !strcmp(op, "ArgMin"))
		return rt_lower_arg(m, nd, err);
	if (!strcmp(op, "CumSum"))
		return rt_lower_cumsum(m, nd, err);
	if (!strcmp(op, "Tile"))
		return rt_lower_tile(m, nd, err);
	if (!strcmp(op, "Resize") || !strcmp(op, "Upsample"))
		return rt_lower_resize(m, nd, err);
	if (!strcmp(op, "ConvTranspose")) {
		struct eia_conv_transpose_attr attr;
		int ret = rt_conv_transpose_attr(m, nd, &attr, err);

		return ret ? ret : rt_step1(m, nd, EIA_OP_CONV_TRANSPOSE, &attr, sizeof(attr), err);
	}
	if (!strcmp(op, "GlobalMaxPool"))
		return rt_lower_global_max(m, nd, err);
	if (!strcmp(op, "Dropout"))
		return rt_lower_dropout(m, nd, err);
	if (!strcmp(op, "PRelu"))
		return rt_lower_prelu(m, nd, err);
	if (!strcmp(op, "Trilu"))
		return rt_lower_trilu(m, nd, err);
	if (!strcmp(op, "InstanceNormalization"))
		return rt_lower_instancenorm(m, nd, err);
	return rt_node_fail(err, EOPNOTSUPP, nd,
			    "has no eia operator: it runs only when its inputs are constants the runner can fold");
}

int rt_lower(struct eia_model *m, struct eia_runner_error *err)
{
	int i, ret;

	for (i = 0; i < m->nn; i++) {
		struct rt_node *nd = &m->n[m->order[i]];

		if (!nd->live || nd->folded || nd->merged)
			continue;
		ret = rt_lower_node(m, nd, err);
		if (ret)
			return ret;
	}
	return 0;
}
