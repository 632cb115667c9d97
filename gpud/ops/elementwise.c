// SPDX-License-Identifier: MIT
/*
 * Add, Sub, Mul, Div, Pow and Where with multidirectional broadcasting. The
 * output is walked in order; each innermost run reads its operands with a
 * stride of 1 (same shape) or 0 (broadcast), which the kernels specialise.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "f16.h"
#include "internal.h"

/*
 * @vec4 is VEC4 where @expr holds for v4f operands too (all but Pow): the
 * unit-stride and scalar-operand loops then take four lanes at a time,
 * which -O2 does not do by itself. The results are the same, lane by lane.
 */
#define VEC4(...) __VA_ARGS__
#define SCALAR_ONLY(...)

#define BINARY_KERNELS(name, expr, vec4) \
static void name##_f32(int64_t n, const float *a, int64_t sa, \
		       const float *b, int64_t sb, float *y) \
{ \
	int64_t i = 0; \
	\
	if (sa == 1 && sb == 1) { \
		vec4(for (; i + 4 <= n; i += 4) { \
			v4f x0, x1, r; \
			\
			memcpy(&x0, a + i, sizeof(x0)); \
			memcpy(&x1, b + i, sizeof(x1)); \
			r = (expr); \
			memcpy(y + i, &r, sizeof(r)); \
		}) \
		for (; i < n; i++) { \
			float x0 = a[i], x1 = b[i]; \
			y[i] = (expr); \
		} \
	} else if (sa == 1 && sb == 0) { \
		float x1 = b[0]; \
		\
		vec4(for (; i + 4 <= n; i += 4) { \
			v4f x0, r; \
			\
			memcpy(&x0, a + i, sizeof(x0)); \
			r = (expr); \
			memcpy(y + i, &r, sizeof(r)); \
		}) \
		for (; i < n; i++) { \
			float x0 = a[i]; \
			y[i] = (expr); \
		} \
	} else { \
		for (; i < n; i++) { \
			float x0 = a[i * sa], x1 = b[i * sb]; \
			y[i] = (expr); \
		} \
	} \
} \
static void name##_f16(int64_t n, const uint16_t *a, int64_t sa, \
		       const uint16_t *b, int64_t sb, uint16_t *y) \
{ \
	for (int64_t i = 0; i < n; i++) { \
		float x0 = f16_to_f32(a[i * sa]), x1 = f16_to_f32(b[i * sb]); \
		y[i] = f32_to_f16(expr); \
	} \
}

BINARY_KERNELS(add, x0 + x1, VEC4)
BINARY_KERNELS(sub, x0 - x1, VEC4)
BINARY_KERNELS(mul, x0 * x1, VEC4)
BINARY_KERNELS(div, x0 / x1, VEC4)
BINARY_KERNELS(pow, powf(x0, x1), SCALAR_ONLY)

typedef void (*bin_f32_fn)(int64_t, const float *, int64_t, const float *,
			   int64_t, float *);
typedef void (*bin_f16_fn)(int64_t, const uint16_t *, int64_t,
			   const uint16_t *, int64_t, uint16_t *);

static const struct {
	bin_f32_fn f32;
	bin_f16_fn f16;
} bin_kernels[] = {
	[EIA_OP_ADD - EIA_OP_ADD] = { add_f32, add_f16 },
	[EIA_OP_SUB - EIA_OP_ADD] = { sub_f32, sub_f16 },
	[EIA_OP_MUL - EIA_OP_ADD] = { mul_f32, mul_f16 },
	[EIA_OP_DIV - EIA_OP_ADD] = { div_f32, div_f16 },
	[EIA_OP_POW - EIA_OP_ADD] = { pow_f32, pow_f16 },
};

/* Operands in nd_iter order: 0 the output, then the inputs. */
struct ew_job {
	struct nd_iter it;
	const void *in[3];
	void *out;
	uint32_t dtype;
	bin_f32_fn f32;
	bin_f16_fn f16;
};

static void binary_span(void *arg, const int64_t *offs, int64_t n,
			const int64_t *st)
{
	const struct ew_job *j = arg;

	if (j->dtype == EIA_DTYPE_F16)
		j->f16(n, (const uint16_t *)j->in[0] + offs[1], st[1],
		       (const uint16_t *)j->in[1] + offs[2], st[2],
		       (uint16_t *)j->out + offs[0]);
	else
		j->f32(n, (const float *)j->in[0] + offs[1], st[1],
		       (const float *)j->in[1] + offs[2], st[2],
		       (float *)j->out + offs[0]);
}

static int binary_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	struct ew_job *j = arg;

	(void)worker;
	nd_iter_range(&j->it, begin, end, binary_span, j);
	return 0;
}

/* Set up the walk of @out over @n broadcast inputs. */
static void ew_setup(struct ew_job *j, const struct eia_tensor *out,
		     const struct eia_tensor *in, unsigned int n)
{
	int64_t strides[ND_MAX_OPS][EIA_MAX_DIMS];

	contig_strides(out->ndim, out->dims, strides[0]);
	for (unsigned int k = 0; k < n; k++) {
		bcast_strides(&in[k], out->ndim, out->dims, strides[k + 1]);
		j->in[k] = in[k].data;
	}
	j->out = out->data;
	nd_iter_init(&j->it, out->ndim, out->dims, n + 1, strides);
}

int binary_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *ts[2] = { &c->in[0], &c->in[1] };
	int64_t dims[EIA_MAX_DIMS];
	uint32_t ndim;
	int ret;

	if (!is_float_dtype(ts[0]->dtype) || ts[1]->dtype != ts[0]->dtype)
		return -EINVAL;
	ret = bcast_shape(ts, 2, &ndim, dims);
	if (ret)
		return ret;
	set_shape(out, ts[0]->dtype, ndim, dims);
	return 0;
}

int binary_exec(struct eia_pool *pool, const struct op_call *c)
{
	struct ew_job j = {
		.dtype = c->in[0].dtype,
		.f32 = bin_kernels[c->op - EIA_OP_ADD].f32,
		.f16 = bin_kernels[c->op - EIA_OP_ADD].f16,
	};

	ew_setup(&j, &c->out[0], c->in, 2);
	return pool_for(pool, tensor_count(&c->out[0]), 1 << 15, binary_range,
			&j);
}

#define WHERE_SPAN(type) do { \
	const uint8_t *cond = (const uint8_t *)j->in[0] + offs[1]; \
	const type *x = (const type *)j->in[1] + offs[2]; \
	const type *y = (const type *)j->in[2] + offs[3]; \
	type *z = (type *)j->out + offs[0]; \
	for (int64_t i = 0; i < n; i++) \
		z[i] = cond[i * st[1]] ? x[i * st[2]] : y[i * st[3]]; \
} while (0)

static void where_span(void *arg, const int64_t *offs, int64_t n,
		       const int64_t *st)
{
	const struct ew_job *j = arg;

	switch (eia_dtype_size(j->dtype)) {
	case 1:
		WHERE_SPAN(uint8_t);
		break;
	case 2:
		WHERE_SPAN(uint16_t);
		break;
	case 4:
		WHERE_SPAN(uint32_t);
		break;
	default:
		WHERE_SPAN(uint64_t);
		break;
	}
}

static int where_range(void *arg, int64_t begin, int64_t end,
		       unsigned int worker)
{
	struct ew_job *j = arg;

	(void)worker;
	nd_iter_range(&j->it, begin, end, where_span, j);
	return 0;
}

int where_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *ts[3] = { &c->in[0], &c->in[1], &c->in[2] };
	int64_t dims[EIA_MAX_DIMS];
	uint32_t ndim;
	int ret;

	if (ts[0]->dtype != EIA_DTYPE_BOOL || ts[2]->dtype != ts[1]->dtype)
		return -EINVAL;
	ret = bcast_shape(ts, 3, &ndim, dims);
	if (ret)
		return ret;
	set_shape(out, ts[1]->dtype, ndim, dims);
	return 0;
}

int where_exec(struct eia_pool *pool, const struct op_call *c)
{
	struct ew_job j = { .dtype = c->in[1].dtype };

	ew_setup(&j, &c->out[0], c->in, 3);
	return pool_for(pool, tensor_count(&c->out[0]), 1 << 15, where_range,
			&j);
}
