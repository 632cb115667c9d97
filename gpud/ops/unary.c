// SPDX-License-Identifier: MIT
/*
 * The unary operators: Relu, Gelu (exact or tanh), Erf, Tanh, Sigmoid, Exp,
 * Sqrt, Neg, Abs, Reciprocal, Log, Sin, Cos, Floor, Ceil, Sign, LeakyRelu,
 * HardSigmoid, HardSwish, Elu and Softplus on floats; Neg, Abs and Sign on
 * integers too.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "f16.h"
#include "internal.h"

static inline float relu(float x)
{
	return x < 0.0f ? 0.0f : x;	/* NaN stays NaN */
}

/*
 * fp32 Relu four at a time with a mask rather than a branch per element,
 * whose direction (the sign of the input) nothing predicts.
 */
static void relu_f32(const float *x, float *y, int64_t begin, int64_t end)
{
	const v4f zero = { 0 };
	int64_t i = begin;

	for (; i + 4 <= end; i += 4) {
		v4f v;

		memcpy(&v, x + i, sizeof(v));
		/* x < 0 is false for NaN and -0: both are kept, as relu() does. */
		v = (v4f)((v4i)v & ~(v4i)(v < zero));
		memcpy(y + i, &v, sizeof(v));
	}
	for (; i < end; i++)
		y[i] = relu(x[i]);
}

static inline float gelu_erf(float x)
{
	return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
}

static inline float gelu_tanh(float x)
{
	const float k = 0.7978845608028654f;	/* sqrt(2 / pi) */

	return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

/* exp() of a non-positive number only, so that nothing overflows. */
static inline float sigmoid(float x)
{
	float e;

	if (x >= 0.0f)
		return 1.0f / (1.0f + expf(-x));
	e = expf(x);
	return e / (1.0f + e);
}

/* -1, 1, or x itself for zeros and NaN. */
static inline float sign(float x)
{
	return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;
}

/* max(0, min(1, alpha x + beta)), comparisons keeping NaN. */
static inline float hard_sigmoid(float x, float alpha, float beta)
{
	float v = alpha * x + beta;

	v = v < 0.0f ? 0.0f : v;
	return v > 1.0f ? 1.0f : v;
}

/* log(1 + exp(x)) without overflow: exp() of non-positive numbers only. */
static inline float softplus(float x)
{
	return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

enum unary_fn { U_RELU, U_GELU_ERF, U_GELU_TANH, U_ERF, U_TANH, U_SIGMOID,
		U_EXP, U_SQRT, U_NEG, U_ABS, U_RECIPROCAL, U_LOG, U_SIN, U_COS,
		U_FLOOR, U_CEIL, U_SIGN, U_LEAKY_RELU, U_HARD_SIGMOID,
		U_HARD_SWISH, U_ELU, U_SOFTPLUS };

#define UNARY_CASE(tag, expr) \
	case tag: \
		for (int64_t i = begin; i < end; i++) { \
			float x = load_f(j->x, j->dtype, i); \
			store_f(j->y, j->dtype, i, (expr)); \
		} \
		break

struct unary_job {
	const void *x;
	void *y;
	uint32_t dtype;
	enum unary_fn fn;
	float alpha, beta;
};

static int64_t int_unary(enum unary_fn fn, int64_t v)
{
	switch (fn) {
	case U_NEG:
		return (int64_t)(0 - (uint64_t)v);	/* the minimum wraps */
	case U_ABS:
		return v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
	default:
		return (v > 0) - (v < 0);
	}
}

static void int_range(const struct unary_job *j, int64_t begin, int64_t end)
{
	for (int64_t i = begin; i < end; i++) {
		if (j->dtype == EIA_DTYPE_I64)
			((int64_t *)j->y)[i] =
				int_unary(j->fn, ((const int64_t *)j->x)[i]);
		else
			((int32_t *)j->y)[i] = (int32_t)(uint32_t)(uint64_t)
				int_unary(j->fn, ((const int32_t *)j->x)[i]);
	}
}

static int unary_range(void *arg, int64_t begin, int64_t end,
		       unsigned int worker)
{
	const struct unary_job *j = arg;
	const float a = j->alpha, b = j->beta;

	(void)worker;
	if (!is_float_dtype(j->dtype)) {
		int_range(j, begin, end);
		return 0;
	}
	if (j->fn == U_RELU && j->dtype == EIA_DTYPE_F32) {
		relu_f32(j->x, j->y, begin, end);
		return 0;
	}
	switch (j->fn) {
	UNARY_CASE(U_RELU, relu(x));
	UNARY_CASE(U_GELU_ERF, gelu_erf(x));
	UNARY_CASE(U_GELU_TANH, gelu_tanh(x));
	UNARY_CASE(U_ERF, erff(x));
	UNARY_CASE(U_TANH, tanhf(x));
	UNARY_CASE(U_SIGMOID, sigmoid(x));
	UNARY_CASE(U_EXP, expf(x));
	UNARY_CASE(U_SQRT, sqrtf(x));
	UNARY_CASE(U_NEG, -x);
	UNARY_CASE(U_ABS, fabsf(x));
	UNARY_CASE(U_RECIPROCAL, 1.0f / x);
	UNARY_CASE(U_LOG, logf(x));
	UNARY_CASE(U_SIN, sinf(x));
	UNARY_CASE(U_COS, cosf(x));
	UNARY_CASE(U_FLOOR, floorf(x));
	UNARY_CASE(U_CEIL, ceilf(x));
	UNARY_CASE(U_SIGN, sign(x));
	UNARY_CASE(U_LEAKY_RELU, x < 0.0f ? a * x : x);
	UNARY_CASE(U_HARD_SIGMOID, hard_sigmoid(x, a, b));
	UNARY_CASE(U_HARD_SWISH, x * hard_sigmoid(x, 1.0f / 6.0f, 0.5f));
	UNARY_CASE(U_ELU, x < 0.0f ? a * expm1f(x) : x);
	UNARY_CASE(U_SOFTPLUS, softplus(x));
	}
	return 0;
}

int unary_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	bool ints = c->op == EIA_OP_NEG || c->op == EIA_OP_ABS ||
		    c->op == EIA_OP_SIGN;

	if (c->op == EIA_OP_GELU) {
		const struct eia_gelu_attr *attr = c->attr;

		if (attr->approximate > EIA_GELU_TANH || attr->reserved)
			return -EINVAL;
	}
	if (c->op == EIA_OP_LEAKY_RELU || c->op == EIA_OP_ELU) {
		const struct eia_activation_attr *attr = c->attr;

		if (attr->beta != 0.0f)
			return -EINVAL;
	}
	if (!is_float_dtype(x->dtype) &&
	    (!ints || (x->dtype != EIA_DTYPE_I64 && x->dtype != EIA_DTYPE_I32)))
		return -EINVAL;
	set_shape(out, x->dtype, x->ndim, x->dims);
	return 0;
}

static enum unary_fn unary_fn_of(const struct op_call *c)
{
	static const enum unary_fn fns[] = {
		[EIA_OP_RELU] = U_RELU, [EIA_OP_ERF] = U_ERF,
		[EIA_OP_TANH] = U_TANH, [EIA_OP_SIGMOID] = U_SIGMOID,
		[EIA_OP_EXP] = U_EXP, [EIA_OP_SQRT] = U_SQRT,
		[EIA_OP_NEG] = U_NEG, [EIA_OP_ABS] = U_ABS,
		[EIA_OP_RECIPROCAL] = U_RECIPROCAL, [EIA_OP_LOG] = U_LOG,
		[EIA_OP_SIN] = U_SIN, [EIA_OP_COS] = U_COS,
		[EIA_OP_FLOOR] = U_FLOOR, [EIA_OP_CEIL] = U_CEIL,
		[EIA_OP_SIGN] = U_SIGN, [EIA_OP_LEAKY_RELU] = U_LEAKY_RELU,
		[EIA_OP_HARD_SIGMOID] = U_HARD_SIGMOID,
		[EIA_OP_HARD_SWISH] = U_HARD_SWISH, [EIA_OP_ELU] = U_ELU,
		[EIA_OP_SOFTPLUS] = U_SOFTPLUS,
	};
	const struct eia_gelu_attr *gelu = c->attr;

	if (c->op == EIA_OP_GELU)
		return gelu->approximate == EIA_GELU_TANH ? U_GELU_TANH :
							     U_GELU_ERF;
	return fns[c->op];
}

int unary_exec(struct eia_pool *pool, const struct op_call *c)
{
	struct unary_job j = {
		.x = c->in[0].data, .y = c->out[0].data,
		.dtype = c->in[0].dtype, .fn = unary_fn_of(c),
	};

	if (c->op == EIA_OP_LEAKY_RELU || c->op == EIA_OP_HARD_SIGMOID ||
	    c->op == EIA_OP_ELU) {
		const struct eia_activation_attr *attr = c->attr;

		j.alpha = attr->alpha;
		j.beta = attr->beta;
	}
	return pool_for(pool, tensor_count(&c->in[0]), 1 << 14, unary_range,
			&j);
}
