// SPDX-License-Identifier: MIT
/*
 * The operator table and the two generic entry points: every call, whatever
 * its entry point, goes through the same arity, attribute, shape, output and
 * overlap checks here before an operator's kernel sees it.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* The attribute structs travel as they are: no implicit padding anywhere. */
_Static_assert(sizeof(struct eia_gemm_attr) == 16, "gemm attr layout");
_Static_assert(sizeof(struct eia_conv2d_attr) == 96, "conv attr layout");
_Static_assert(sizeof(struct eia_pool2d_attr) == 96, "pool attr layout");
_Static_assert(sizeof(struct eia_gelu_attr) == 8, "gelu attr layout");
_Static_assert(sizeof(struct eia_axis_attr) == 8, "axis attr layout");
_Static_assert(sizeof(struct eia_layernorm_attr) == 16, "ln attr layout");
_Static_assert(sizeof(struct eia_reduce_attr) == 80, "reduce attr layout");
_Static_assert(sizeof(struct eia_transpose_attr) == 72, "perm attr layout");
_Static_assert(sizeof(struct eia_split_attr) == 528, "split attr layout");
_Static_assert(sizeof(struct eia_slice_attr) == 264, "slice attr layout");
_Static_assert(sizeof(struct eia_cast_attr) == 8, "cast attr layout");
_Static_assert(sizeof(struct eia_activation_attr) == 8, "act attr layout");
_Static_assert(sizeof(struct eia_conv3d_attr) == 136, "conv3d attr layout");
_Static_assert(sizeof(struct eia_arg_attr) == 16, "arg attr layout");
_Static_assert(sizeof(struct eia_cumsum_attr) == 16, "cumsum attr layout");
_Static_assert(sizeof(struct eia_tile_attr) == 64, "tile attr layout");
_Static_assert(sizeof(struct eia_pool3d_attr) == 136, "pool3d attr layout");
_Static_assert(sizeof(struct eia_resize_attr) == 152, "resize attr layout");
_Static_assert(sizeof(struct eia_conv_transpose_attr) == 128,
	       "conv transpose attr layout");

struct op_def {
	const char *name;
	uint32_t attr_size;
	uint8_t min_in, max_in, min_out, max_out;
	/* An output may be exactly an input (same data, dtype and shape). */
	bool in_place;
	op_infer_fn infer;
	op_exec_fn exec;
};

#define OP(code, nm, attr, lo_in, hi_in, lo_out, hi_out, inplace, impl) \
	[code] = { .name = nm, .attr_size = attr, .min_in = lo_in, \
		   .max_in = hi_in, .min_out = lo_out, .max_out = hi_out, \
		   .in_place = inplace, .infer = impl##_infer, \
		   .exec = impl##_exec }

#define BINARY(code, nm) OP(code, nm, 0, 2, 2, 1, 1, true, binary)
#define UNARY(code, nm) OP(code, nm, 0, 1, 1, 1, 1, true, unary)
#define ACTIVATION(code, nm) \
	OP(code, nm, sizeof(struct eia_activation_attr), 1, 1, 1, 1, true, unary)
#define COMPARE(code, nm) OP(code, nm, 0, 2, 2, 1, 1, true, compare)
#define REDUCE(code, nm) \
	OP(code, nm, sizeof(struct eia_reduce_attr), 1, 1, 1, 1, false, reduce)

static const struct op_def op_table[] = {
	OP(EIA_OP_GEMM, "Gemm", sizeof(struct eia_gemm_attr), 2, 3, 1, 1,
	   false, gemm),
	OP(EIA_OP_MATMUL, "MatMul", 0, 2, 2, 1, 1, false, matmul),
	OP(EIA_OP_CONV2D, "Conv", sizeof(struct eia_conv2d_attr), 2, 3, 1, 1,
	   false, conv2d),
	OP(EIA_OP_MAXPOOL2D, "MaxPool", sizeof(struct eia_pool2d_attr), 1, 1,
	   1, 1, false, pool2d),
	OP(EIA_OP_AVGPOOL2D, "AveragePool", sizeof(struct eia_pool2d_attr), 1,
	   1, 1, 1, false, pool2d),
	OP(EIA_OP_GLOBAL_AVGPOOL, "GlobalAveragePool", 0, 1, 1, 1, 1, false,
	   global_avgpool),
	BINARY(EIA_OP_ADD, "Add"),
	BINARY(EIA_OP_SUB, "Sub"),
	BINARY(EIA_OP_MUL, "Mul"),
	BINARY(EIA_OP_DIV, "Div"),
	BINARY(EIA_OP_POW, "Pow"),
	UNARY(EIA_OP_RELU, "Relu"),
	OP(EIA_OP_GELU, "Gelu", sizeof(struct eia_gelu_attr), 1, 1, 1, 1,
	   true, unary),
	UNARY(EIA_OP_ERF, "Erf"),
	UNARY(EIA_OP_TANH, "Tanh"),
	UNARY(EIA_OP_SIGMOID, "Sigmoid"),
	UNARY(EIA_OP_EXP, "Exp"),
	UNARY(EIA_OP_SQRT, "Sqrt"),
	OP(EIA_OP_SOFTMAX, "Softmax", sizeof(struct eia_axis_attr), 1, 1, 1, 1,
	   false, softmax),
	OP(EIA_OP_LAYERNORM, "LayerNormalization",
	   sizeof(struct eia_layernorm_attr), 2, 3, 1, 1, false, layernorm),
	REDUCE(EIA_OP_REDUCE_MEAN, "ReduceMean"),
	OP(EIA_OP_TRANSPOSE, "Transpose", sizeof(struct eia_transpose_attr), 1,
	   1, 1, 1, false, transpose),
	OP(EIA_OP_GATHER, "Gather", sizeof(struct eia_axis_attr), 2, 2, 1, 1,
	   false, gather),
	OP(EIA_OP_WHERE, "Where", 0, 3, 3, 1, 1, true, where),
	OP(EIA_OP_CONCAT, "Concat", sizeof(struct eia_axis_attr), 1,
	   EIA_OP_MAX_IO, 1, 1, false, concat),
	OP(EIA_OP_SPLIT, "Split", sizeof(struct eia_split_attr), 1, 1, 1,
	   EIA_OP_MAX_IO, false, split),
	OP(EIA_OP_SLICE, "Slice", sizeof(struct eia_slice_attr), 1, 1, 1, 1,
	   false, slice),
	OP(EIA_OP_CAST, "Cast", sizeof(struct eia_cast_attr), 1, 1, 1, 1, true,
	   cast),
	OP(EIA_OP_CLIP, "Clip", 0, 3, 3, 1, 1, true, clip),
	COMPARE(EIA_OP_EQUAL, "Equal"),
	COMPARE(EIA_OP_LESS, "Less"),
	COMPARE(EIA_OP_GREATER, "Greater"),
	COMPARE(EIA_OP_LESS_OR_EQUAL, "LessOrEqual"),
	COMPARE(EIA_OP_GREATER_OR_EQUAL, "GreaterOrEqual"),
	OP(EIA_OP_NOT, "Not", 0, 1, 1, 1, 1, true, logic_not),
	COMPARE(EIA_OP_AND, "And"),
	COMPARE(EIA_OP_OR, "Or"),
	COMPARE(EIA_OP_XOR, "Xor"),
	OP(EIA_OP_LOG_SOFTMAX, "LogSoftmax", sizeof(struct eia_axis_attr), 1, 1,
	   1, 1, false, softmax),
	REDUCE(EIA_OP_REDUCE_SUM, "ReduceSum"),
	REDUCE(EIA_OP_REDUCE_MAX, "ReduceMax"),
	REDUCE(EIA_OP_REDUCE_MIN, "ReduceMin"),
	REDUCE(EIA_OP_REDUCE_PROD, "ReduceProd"),
	REDUCE(EIA_OP_REDUCE_L1, "ReduceL1"),
	REDUCE(EIA_OP_REDUCE_L2, "ReduceL2"),
	REDUCE(EIA_OP_REDUCE_SUM_SQUARE, "ReduceSumSquare"),
	REDUCE(EIA_OP_REDUCE_LOG_SUM, "ReduceLogSum"),
	REDUCE(EIA_OP_REDUCE_LOG_SUM_EXP, "ReduceLogSumExp"),
	UNARY(EIA_OP_NEG, "Neg"),
	UNARY(EIA_OP_ABS, "Abs"),
	UNARY(EIA_OP_RECIPROCAL, "Reciprocal"),
	UNARY(EIA_OP_LOG, "Log"),
	UNARY(EIA_OP_SIN, "Sin"),
	UNARY(EIA_OP_COS, "Cos"),
	UNARY(EIA_OP_FLOOR, "Floor"),
	UNARY(EIA_OP_CEIL, "Ceil"),
	UNARY(EIA_OP_SIGN, "Sign"),
	BINARY(EIA_OP_MIN, "Min"),
	BINARY(EIA_OP_MAX, "Max"),
	ACTIVATION(EIA_OP_LEAKY_RELU, "LeakyRelu"),
	ACTIVATION(EIA_OP_HARD_SIGMOID, "HardSigmoid"),
	UNARY(EIA_OP_HARD_SWISH, "HardSwish"),
	ACTIVATION(EIA_OP_ELU, "Elu"),
	UNARY(EIA_OP_SOFTPLUS, "Softplus"),
	OP(EIA_OP_CONV3D, "Conv", sizeof(struct eia_conv3d_attr), 2, 3, 1, 1,
	   false, conv3d),
	OP(EIA_OP_ARGMAX, "ArgMax", sizeof(struct eia_arg_attr), 1, 1, 1, 1,
	   false, arg),
	OP(EIA_OP_ARGMIN, "ArgMin", sizeof(struct eia_arg_attr), 1, 1, 1, 1,
	   false, arg),
	OP(EIA_OP_CUMSUM, "CumSum", sizeof(struct eia_cumsum_attr), 1, 1, 1, 1,
	   false, cumsum),
	OP(EIA_OP_TILE, "Tile", sizeof(struct eia_tile_attr), 1, 1, 1, 1, false,
	   tile),
	OP(EIA_OP_MAXPOOL3D, "MaxPool", sizeof(struct eia_pool3d_attr), 1, 1, 1,
	   1, false, pool3d),
	OP(EIA_OP_AVGPOOL3D, "AveragePool", sizeof(struct eia_pool3d_attr), 1, 1,
	   1, 1, false, pool3d),
	OP(EIA_OP_RESIZE, "Resize", sizeof(struct eia_resize_attr), 1, 1, 1, 1,
	   false, resize),
	OP(EIA_OP_CONV_TRANSPOSE, "ConvTranspose",
	   sizeof(struct eia_conv_transpose_attr), 2, 3, 1, 1, false,
	   conv_transpose),
};

static const struct op_def *lookup(uint32_t op)
{
	if (op >= sizeof(op_table) / sizeof(op_table[0]) || !op_table[op].name)
		return NULL;
	return &op_table[op];
}

const char *eia_op_name(uint32_t op)
{
	const struct op_def *def = lookup(op);

	return def ? def->name : NULL;
}

bool eia_op_in_place(uint32_t op)
{
	const struct op_def *def = lookup(op);

	return def && def->in_place;
}

static int check_call(const struct op_def *def, const struct op_call *c,
		      size_t attr_size, struct eia_tensor *expect)
{
	int ret;

	if (attr_size != def->attr_size || (attr_size && !c->attr))
		return -EINVAL;
	if (c->n_in < def->min_in || c->n_in > def->max_in || !c->in ||
	    c->n_out < def->min_out || c->n_out > def->max_out)
		return -EINVAL;
	for (unsigned int i = 0; i < c->n_in; i++) {
		ret = eia_tensor_check(&c->in[i], NULL);
		if (ret)
			return ret;
	}
	ret = def->infer(c, expect);
	if (ret)
		return ret;
	/* Inferred shapes are bounded like given ones (Concat sums dims). */
	for (unsigned int i = 0; i < c->n_out; i++) {
		uint64_t bytes;

		ret = shape_check(expect[i].dtype, expect[i].ndim,
				  expect[i].dims, &bytes);
		if (ret)
			return ret;
	}
	return 0;
}

int eia_op_infer(uint32_t op, const void *attr, size_t attr_size,
		 const struct eia_tensor *in, unsigned int n_in,
		 struct eia_tensor *out, unsigned int n_out)
{
	const struct op_def *def = lookup(op);
	struct op_call c = {
		.op = op, .attr = attr, .in = in, .n_in = n_in, .n_out = n_out,
	};

	if (!def || !out)
		return -EINVAL;
	return check_call(def, &c, attr_size, out);
}

static bool overlaps(const struct eia_tensor *a, uint64_t a_bytes,
		     const struct eia_tensor *b, uint64_t b_bytes)
{
	uintptr_t pa = (uintptr_t)a->data, pb = (uintptr_t)b->data;

	if (!a_bytes || !b_bytes)
		return false;
	return pa < pb + b_bytes && pb < pa + a_bytes;
}

static int check_outputs(const struct op_def *def, const struct op_call *c,
			 const struct eia_tensor *expect)
{
	uint64_t in_bytes[EIA_OP_MAX_IO], out_bytes[EIA_OP_MAX_IO];
	int ret;

	for (unsigned int i = 0; i < c->n_in; i++)
		eia_tensor_check(&c->in[i], &in_bytes[i]);
	for (unsigned int i = 0; i < c->n_out; i++) {
		const struct eia_tensor *o = &c->out[i];

		ret = eia_tensor_check(o, &out_bytes[i]);
		if (ret)
			return ret;
		if (o->dtype != expect[i].dtype || !same_shape(o, &expect[i]))
			return -EINVAL;
	}
	for (unsigned int i = 0; i < c->n_out; i++) {
		const struct eia_tensor *o = &c->out[i];

		for (unsigned int j = 0; j < c->n_in; j++) {
			const struct eia_tensor *in = &c->in[j];

			if (!overlaps(o, out_bytes[i], in, in_bytes[j]))
				continue;
			if (!def->in_place || o->data != in->data ||
			    o->dtype != in->dtype || !same_shape(o, in))
				return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++)
			if (overlaps(o, out_bytes[i], &c->out[j], out_bytes[j]))
				return -EINVAL;
	}
	return 0;
}

int eia_op_run(struct eia_pool *pool, uint32_t op, const void *attr,
	       size_t attr_size, const struct eia_tensor *in, unsigned int n_in,
	       const struct eia_tensor *out, unsigned int n_out)
{
	const struct op_def *def = lookup(op);
	struct eia_tensor expect[EIA_OP_MAX_IO];
	struct op_call c = {
		.op = op, .attr = attr, .in = in, .n_in = n_in,
		.out = out, .n_out = n_out,
	};
	int ret;

	if (!def || !pool || !out)
		return -EINVAL;
	memset(expect, 0, sizeof(expect));
	ret = check_call(def, &c, attr_size, expect);
	if (ret)
		return ret;
	ret = check_outputs(def, &c, expect);
	if (ret)
		return ret;
	return def->exec(pool, &c);
}

/* Typed entry points. */

static int run1(struct eia_pool *pool, uint32_t op, const void *attr,
		size_t attr_size, const struct eia_tensor *const *in,
		unsigned int n_in, const struct eia_tensor *y)
{
	struct eia_tensor args[3];
	unsigned int n = 0;

	if (!y)
		return -EINVAL;
	/* Required inputs must be there; a NULL optional one ends the list. */
	for (; n < n_in && in[n]; n++)
		args[n] = *in[n];
	for (unsigned int i = n; i < n_in; i++)
		if (in[i])
			return -EINVAL;
	return eia_op_run(pool, op, attr, attr_size, args, n, y, 1);
}

int eia_op_gemm(struct eia_pool *pool, const struct eia_gemm_attr *attr,
		const struct eia_tensor *a, const struct eia_tensor *b,
		const struct eia_tensor *c, const struct eia_tensor *y)
{
	const struct eia_tensor *in[] = { a, b, c };

	return run1(pool, EIA_OP_GEMM, attr, sizeof(*attr), in, 3, y);
}

int eia_op_matmul(struct eia_pool *pool, const struct eia_tensor *a,
		  const struct eia_tensor *b, const struct eia_tensor *y)
{
	const struct eia_tensor *in[] = { a, b };

	return run1(pool, EIA_OP_MATMUL, NULL, 0, in, 2, y);
}

int eia_op_conv2d(struct eia_pool *pool, const struct eia_conv2d_attr *attr,
		  const struct eia_tensor *x, const struct eia_tensor *w,
		  const struct eia_tensor *b, const struct eia_tensor *y)
{
	const struct eia_tensor *in[] = { x, w, b };

	return run1(pool, EIA_OP_CONV2D, attr, sizeof(*attr), in, 3, y);
}

int eia_op_conv3d(struct eia_pool *pool, const struct eia_conv3d_attr *attr,
		  const struct eia_tensor *x, const struct eia_tensor *w,
		  const struct eia_tensor *b, const struct eia_tensor *y)
{
	const struct eia_tensor *in[] = { x, w, b };

	return run1(pool, EIA_OP_CONV3D, attr, sizeof(*attr), in, 3, y);
}

int eia_op_maxpool2d(struct eia_pool *pool, const struct eia_pool2d_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_MAXPOOL2D, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_avgpool2d(struct eia_pool *pool, const struct eia_pool2d_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_AVGPOOL2D, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_pool3d(struct eia_pool *pool, uint32_t op,
		  const struct eia_pool3d_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y)
{
	if (op != EIA_OP_MAXPOOL3D && op != EIA_OP_AVGPOOL3D)
		return -EINVAL;
	return run1(pool, op, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_global_avgpool(struct eia_pool *pool, const struct eia_tensor *x,
			  const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_GLOBAL_AVGPOOL, NULL, 0, &x, 1, y);
}

int eia_op_binary(struct eia_pool *pool, uint32_t op, const struct eia_tensor *a,
		  const struct eia_tensor *b, const struct eia_tensor *c)
{
	const struct eia_tensor *in[] = { a, b };

	if ((op < EIA_OP_ADD || op > EIA_OP_POW) && op != EIA_OP_MIN &&
	    op != EIA_OP_MAX)
		return -EINVAL;
	return run1(pool, op, NULL, 0, in, 2, c);
}

int eia_op_unary(struct eia_pool *pool, uint32_t op, const struct eia_tensor *x,
		 const struct eia_tensor *y)
{
	const struct op_def *def = lookup(op);

	/* The unary operators without attributes. */
	if (!def || def->infer != unary_infer || def->attr_size)
		return -EINVAL;
	return run1(pool, op, NULL, 0, &x, 1, y);
}

int eia_op_activation(struct eia_pool *pool, uint32_t op,
		      const struct eia_activation_attr *attr,
		      const struct eia_tensor *x, const struct eia_tensor *y)
{
	if (op != EIA_OP_LEAKY_RELU && op != EIA_OP_HARD_SIGMOID &&
	    op != EIA_OP_ELU)
		return -EINVAL;
	return run1(pool, op, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_gelu(struct eia_pool *pool, const struct eia_gelu_attr *attr,
		const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_GELU, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_softmax(struct eia_pool *pool, const struct eia_axis_attr *attr,
		   const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_SOFTMAX, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_log_softmax(struct eia_pool *pool, const struct eia_axis_attr *attr,
		       const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_LOG_SOFTMAX, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_layernorm(struct eia_pool *pool,
		     const struct eia_layernorm_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *scale,
		     const struct eia_tensor *bias, const struct eia_tensor *y)
{
	const struct eia_tensor *in[] = { x, scale, bias };

	return run1(pool, EIA_OP_LAYERNORM, attr, sizeof(*attr), in, 3, y);
}

int eia_op_reduce_mean(struct eia_pool *pool,
		       const struct eia_reduce_attr *attr,
		       const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_REDUCE_MEAN, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_reduce(struct eia_pool *pool, uint32_t op,
		  const struct eia_reduce_attr *attr, const struct eia_tensor *x,
		  const struct eia_tensor *y)
{
	if (op != EIA_OP_REDUCE_MEAN &&
	    (op < EIA_OP_REDUCE_SUM || op > EIA_OP_REDUCE_LOG_SUM_EXP))
		return -EINVAL;
	return run1(pool, op, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_transpose(struct eia_pool *pool,
		     const struct eia_transpose_attr *attr,
		     const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_TRANSPOSE, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_gather(struct eia_pool *pool, const struct eia_axis_attr *attr,
		  const struct eia_tensor *data, const struct eia_tensor *indices,
		  const struct eia_tensor *y)
{
	const struct eia_tensor *in[] = { data, indices };

	return run1(pool, EIA_OP_GATHER, attr, sizeof(*attr), in, 2, y);
}

int eia_op_where(struct eia_pool *pool, const struct eia_tensor *cond,
		 const struct eia_tensor *x, const struct eia_tensor *y,
		 const struct eia_tensor *z)
{
	const struct eia_tensor *in[] = { cond, x, y };

	return run1(pool, EIA_OP_WHERE, NULL, 0, in, 3, z);
}

int eia_op_concat(struct eia_pool *pool, const struct eia_axis_attr *attr,
		  const struct eia_tensor *in, unsigned int n_in,
		  const struct eia_tensor *y)
{
	return eia_op_run(pool, EIA_OP_CONCAT, attr, sizeof(*attr), in, n_in,
			  y, 1);
}

int eia_op_split(struct eia_pool *pool, const struct eia_split_attr *attr,
		 const struct eia_tensor *x, const struct eia_tensor *out,
		 unsigned int n_out)
{
	return eia_op_run(pool, EIA_OP_SPLIT, attr, sizeof(*attr), x, 1, out,
			  n_out);
}

int eia_op_slice(struct eia_pool *pool, const struct eia_slice_attr *attr,
		 const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_SLICE, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_cast(struct eia_pool *pool, const struct eia_cast_attr *attr,
		const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_CAST, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_compare(struct eia_pool *pool, uint32_t op,
		   const struct eia_tensor *a, const struct eia_tensor *b,
		   const struct eia_tensor *c)
{
	const struct eia_tensor *in[] = { a, b };

	if ((op < EIA_OP_EQUAL || op > EIA_OP_XOR) || op == EIA_OP_NOT)
		return -EINVAL;
	return run1(pool, op, NULL, 0, in, 2, c);
}

int eia_op_not(struct eia_pool *pool, const struct eia_tensor *x,
	       const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_NOT, NULL, 0, &x, 1, y);
}

int eia_op_clip(struct eia_pool *pool, const struct eia_tensor *x,
		const struct eia_tensor *min, const struct eia_tensor *max,
		const struct eia_tensor *y)
{
	const struct eia_tensor *in[] = { x, min, max };

	return run1(pool, EIA_OP_CLIP, NULL, 0, in, 3, y);
}

int eia_op_arg(struct eia_pool *pool, uint32_t op,
	       const struct eia_arg_attr *attr, const struct eia_tensor *x,
	       const struct eia_tensor *y)
{
	if (op != EIA_OP_ARGMAX && op != EIA_OP_ARGMIN)
		return -EINVAL;
	return run1(pool, op, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_cumsum(struct eia_pool *pool, const struct eia_cumsum_attr *attr,
		  const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_CUMSUM, attr, sizeof(*attr), &x, 1, y);
}

int eia_op_tile(struct eia_pool *pool, const struct eia_tile_attr *attr,
		const struct eia_tensor *x, const struct eia_tensor *y)
{
	return run1(pool, EIA_OP_TILE, attr, sizeof(*attr), &x, 1, y);
}
