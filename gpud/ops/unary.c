// SPDX-License-Identifier: MIT
/* Relu, Gelu (exact or tanh), Erf, Tanh, Sigmoid, Exp and Sqrt. */
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

enum unary_fn { U_RELU, U_GELU_ERF, U_GELU_TANH, U_ERF, U_TANH, U_SIGMOID,
		U_EXP, U_SQRT };

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
};

static int unary_range(void *arg, int64_t begin, int64_t end,
		       unsigned int worker)
{
	const struct unary_job *j = arg;

	(void)worker;
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
	}
	return 0;
}

int unary_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];

	if (c->op == EIA_OP_GELU) {
		const struct eia_gelu_attr *attr = c->attr;

		if (attr->approximate > EIA_GELU_TANH || attr->reserved)
			return -EINVAL;
	}
	if (!is_float_dtype(x->dtype))
		return -EINVAL;
	set_shape(out, x->dtype, x->ndim, x->dims);
	return 0;
}

static enum unary_fn unary_fn_of(const struct op_call *c)
{
	const struct eia_gelu_attr *gelu = c->attr;

	switch (c->op) {
	case EIA_OP_RELU:
		return U_RELU;
	case EIA_OP_GELU:
		return gelu->approximate == EIA_GELU_TANH ? U_GELU_TANH :
							     U_GELU_ERF;
	case EIA_OP_ERF:
		return U_ERF;
	case EIA_OP_TANH:
		return U_TANH;
	case EIA_OP_SIGMOID:
		return U_SIGMOID;
	case EIA_OP_EXP:
		return U_EXP;
	default:
		return U_SQRT;
	}
}

int unary_exec(struct eia_pool *pool, const struct op_call *c)
{
	struct unary_job j = {
		.x = c->in[0].data, .y = c->out[0].data,
		.dtype = c->in[0].dtype, .fn = unary_fn_of(c),
	};

	return pool_for(pool, tensor_count(&c->in[0]), 1 << 14, unary_range,
			&j);
}
