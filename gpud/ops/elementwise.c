// SPDX-License-Identifier: MIT
/*
 * Add, Sub, Mul, Div, Pow, Min, Max (all but Pow on integers too), Where,
 * the comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual) and
 * the logic operators (And, Or, Xor, Not) with multidirectional
 * broadcasting. The output is walked in order; each
 * innermost run reads its operands with a stride of 1 (same shape) or 0
 * (broadcast), which the arithmetic kernels specialise.
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

/* Elements at @pa and @pb, @sa and @sb apart, to @py (unit stride). */
typedef void (*bin_fn)(int64_t n, const void *pa, int64_t sa, const void *pb,
		       int64_t sb, void *py);

/* 16-bit floats, widened by @ld, computed in fp32, narrowed by @st. */
#define HALF_KERNEL(name, ld, st, expr) \
static void name(int64_t n, const void *pa, int64_t sa, const void *pb, \
		 int64_t sb, void *py) \
{ \
	const uint16_t *a = pa, *b = pb; \
	uint16_t *y = py; \
	\
	for (int64_t i = 0; i < n; i++) { \
		float x0 = ld(a[i * sa]), x1 = ld(b[i * sb]); \
		y[i] = st(expr); \
	} \
}

#define BINARY_KERNELS(name, expr, vec4) \
static void name##_f32(int64_t n, const void *pa, int64_t sa, \
		       const void *pb, int64_t sb, void *py) \
{ \
	const float *a = pa, *b = pb; \
	float *y = py; \
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
HALF_KERNEL(name##_f16, f16_to_f32, f32_to_f16, expr) \
HALF_KERNEL(name##_bf16, bf16_to_f32, f32_to_bf16, expr)

/*
 * Integers of @type; @expr(@utype) gives the result, computing in the
 * unsigned @utype where it must wrap.
 */
#define INT_KERNEL(name, type, utype, expr) \
static void name(int64_t n, const void *pa, int64_t sa, const void *pb, \
		 int64_t sb, void *py) \
{ \
	const type *a = pa, *b = pb; \
	type *y = py; \
	\
	for (int64_t i = 0; i < n; i++) { \
		type x0 = a[i * sa], x1 = b[i * sb]; \
		y[i] = (type)expr(utype); \
	} \
}

#define INT_KERNELS(name, expr) \
	INT_KERNEL(name##_i64, int64_t, uint64_t, expr) \
	INT_KERNEL(name##_i32, int32_t, uint32_t, expr)

#define IADD(u) ((u)x0 + (u)x1)
#define ISUB(u) ((u)x0 - (u)x1)
#define IMUL(u) ((u)x0 * (u)x1)
/*
 * Integer division truncates toward zero, as C's (and ONNX's reference,
 * through numpy's true division); a zero divisor gives 0 and the minimum
 * over -1 wraps to itself, where C would trap.
 */
#define IDIV(u) (x1 == 0 ? 0 : x1 == -1 ? (u)0 - (u)x0 : (u)(x0 / x1))

/* Min and Max: a NaN operand wins, as in numpy's minimum and maximum. */
#define MIN_EXPR (x0 < x1 || x0 != x0 ? x0 : x1)
#define MAX_EXPR (x0 > x1 || x0 != x0 ? x0 : x1)
#define IMIN(u) MIN_EXPR
#define IMAX(u) MAX_EXPR

BINARY_KERNELS(add, x0 + x1, VEC4)
BINARY_KERNELS(sub, x0 - x1, VEC4)
BINARY_KERNELS(mul, x0 * x1, VEC4)
BINARY_KERNELS(div, x0 / x1, VEC4)
BINARY_KERNELS(pow, powf(x0, x1), SCALAR_ONLY)
BINARY_KERNELS(min, MIN_EXPR, SCALAR_ONLY)
BINARY_KERNELS(max, MAX_EXPR, SCALAR_ONLY)
INT_KERNELS(add, IADD)
INT_KERNELS(sub, ISUB)
INT_KERNELS(mul, IMUL)
INT_KERNELS(div, IDIV)
INT_KERNELS(min, IMIN)
INT_KERNELS(max, IMAX)

#define FLOAT_ROW(name) { [EIA_DTYPE_F32] = name##_f32, \
	[EIA_DTYPE_F16] = name##_f16, [EIA_DTYPE_BF16] = name##_bf16 }
#define NUMERIC_ROW(name) { [EIA_DTYPE_F32] = name##_f32, \
	[EIA_DTYPE_F16] = name##_f16, [EIA_DTYPE_BF16] = name##_bf16, \
	[EIA_DTYPE_I64] = name##_i64, [EIA_DTYPE_I32] = name##_i32 }

/* By operator code and dtype; NULL: refused. */
static const bin_fn bin_kernels[][DTYPE_END] = {
	[EIA_OP_ADD] = NUMERIC_ROW(add),
	[EIA_OP_SUB] = NUMERIC_ROW(sub),
	[EIA_OP_MUL] = NUMERIC_ROW(mul),
	[EIA_OP_DIV] = NUMERIC_ROW(div),
	[EIA_OP_POW] = FLOAT_ROW(pow),
	[EIA_OP_MIN] = NUMERIC_ROW(min),
	[EIA_OP_MAX] = NUMERIC_ROW(max),
};

/*
 * Comparisons and logic: two inputs of one dtype (@pa, @pb, element
 * strides @sa, @sb) to BOOL. Each element is read as fp32 (F16 and BF16
 * too), as itself (integers) or as 0/1 (BOOL).
 */
typedef void (*cmp_fn)(int64_t n, const void *pa, int64_t sa, const void *pb,
		       int64_t sb, uint8_t *y);

#define LD_SAME(v) (v)
#define LD_BOOL(v) ((v) != 0)

/* Elements of @type, read by @ld into @vtype values x0 and x1. */
#define CMP_KERNEL(name, type, vtype, ld, expr) \
static void name(int64_t n, const void *pa, int64_t sa, const void *pb, \
		 int64_t sb, uint8_t *y) \
{ \
	const type *a = pa, *b = pb; \
	\
	for (int64_t i = 0; i < n; i++) { \
		vtype x0 = ld(a[i * sa]), x1 = ld(b[i * sb]); \
		y[i] = (expr); \
	} \
}

/* Every numeric dtype; BOOL for Equal only (ONNX takes it nowhere else). */
#define CMP_NUMERIC(name, expr) \
	CMP_KERNEL(name##_f32, float, float, LD_SAME, expr) \
	CMP_KERNEL(name##_f16, uint16_t, float, f16_to_f32, expr) \
	CMP_KERNEL(name##_bf16, uint16_t, float, bf16_to_f32, expr) \
	CMP_KERNEL(name##_i64, int64_t, int64_t, LD_SAME, expr) \
	CMP_KERNEL(name##_i32, int32_t, int32_t, LD_SAME, expr)

CMP_NUMERIC(eq, x0 == x1)
CMP_NUMERIC(lt, x0 < x1)
CMP_NUMERIC(gt, x0 > x1)
CMP_NUMERIC(le, x0 <= x1)
CMP_NUMERIC(ge, x0 >= x1)
CMP_KERNEL(eq_bool, uint8_t, bool, LD_BOOL, x0 == x1)
CMP_KERNEL(and_bool, uint8_t, bool, LD_BOOL, x0 && x1)
CMP_KERNEL(or_bool, uint8_t, bool, LD_BOOL, x0 || x1)
CMP_KERNEL(xor_bool, uint8_t, bool, LD_BOOL, x0 != x1)

/* By operator (from EIA_OP_EQUAL) and input dtype; NULL: refused. */
static const cmp_fn cmp_kernels[][DTYPE_END] = {
	[EIA_OP_EQUAL - EIA_OP_EQUAL] = { [EIA_DTYPE_F32] = eq_f32,
		[EIA_DTYPE_F16] = eq_f16, [EIA_DTYPE_BF16] = eq_bf16,
		[EIA_DTYPE_I64] = eq_i64, [EIA_DTYPE_I32] = eq_i32,
		[EIA_DTYPE_BOOL] = eq_bool },
	[EIA_OP_LESS - EIA_OP_EQUAL] = NUMERIC_ROW(lt),
	[EIA_OP_GREATER - EIA_OP_EQUAL] = NUMERIC_ROW(gt),
	[EIA_OP_LESS_OR_EQUAL - EIA_OP_EQUAL] = NUMERIC_ROW(le),
	[EIA_OP_GREATER_OR_EQUAL - EIA_OP_EQUAL] = NUMERIC_ROW(ge),
	[EIA_OP_AND - EIA_OP_EQUAL] = { [EIA_DTYPE_BOOL] = and_bool },
	[EIA_OP_OR - EIA_OP_EQUAL] = { [EIA_DTYPE_BOOL] = or_bool },
	[EIA_OP_XOR - EIA_OP_EQUAL] = { [EIA_DTYPE_BOOL] = xor_bool },
};

/* Operands in nd_iter order: 0 the output, then the inputs. */
struct ew_job {
	struct nd_iter it;
	const void *in[3];
	void *out;
	uint32_t dtype;		/* the inputs' */
	bin_fn bin;
	cmp_fn cmp;
};

static void binary_span(void *arg, const int64_t *offs, int64_t n,
			const int64_t *st)
{
	const struct ew_job *j = arg;
	int64_t es = (int64_t)eia_dtype_size(j->dtype);

	j->bin(n, (const char *)j->in[0] + offs[1] * es, st[1],
	       (const char *)j->in[1] + offs[2] * es, st[2],
	       (char *)j->out + offs[0] * es);
}

static bin_fn binary_kernel(uint32_t op, uint32_t dtype)
{
	return dtype < DTYPE_END ? bin_kernels[op][dtype] : NULL;
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

	if (ts[1]->dtype != ts[0]->dtype || !binary_kernel(c->op, ts[0]->dtype))
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
		.bin = binary_kernel(c->op, c->in[0].dtype),
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

static void compare_span(void *arg, const int64_t *offs, int64_t n,
			 const int64_t *st)
{
	const struct ew_job *j = arg;
	size_t es = eia_dtype_size(j->dtype);

	j->cmp(n, (const char *)j->in[0] + offs[1] * (int64_t)es, st[1],
	       (const char *)j->in[1] + offs[2] * (int64_t)es, st[2],
	       (uint8_t *)j->out + offs[0]);
}

static int compare_range(void *arg, int64_t begin, int64_t end,
			 unsigned int worker)
{
	struct ew_job *j = arg;

	(void)worker;
	nd_iter_range(&j->it, begin, end, compare_span, j);
	return 0;
}

static cmp_fn compare_kernel(uint32_t op, uint32_t dtype)
{
	return dtype < DTYPE_END ? cmp_kernels[op - EIA_OP_EQUAL][dtype] : NULL;
}

int compare_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *ts[2] = { &c->in[0], &c->in[1] };
	int64_t dims[EIA_MAX_DIMS];
	uint32_t ndim;
	int ret;

	if (ts[1]->dtype != ts[0]->dtype || !compare_kernel(c->op, ts[0]->dtype))
		return -EINVAL;
	ret = bcast_shape(ts, 2, &ndim, dims);
	if (ret)
		return ret;
	set_shape(out, EIA_DTYPE_BOOL, ndim, dims);
	return 0;
}

int compare_exec(struct eia_pool *pool, const struct op_call *c)
{
	struct ew_job j = {
		.dtype = c->in[0].dtype,
		.cmp = compare_kernel(c->op, c->in[0].dtype),
	};

	ew_setup(&j, &c->out[0], c->in, 2);
	return pool_for(pool, tensor_count(&c->out[0]), 1 << 15, compare_range,
			&j);
}

struct not_job {
	const uint8_t *x;
	uint8_t *y;
};

static int not_range(void *arg, int64_t begin, int64_t end, unsigned int worker)
{
	const struct not_job *j = arg;

	(void)worker;
	for (int64_t i = begin; i < end; i++)
		j->y[i] = !j->x[i];
	return 0;
}

int logic_not_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];

	if (x->dtype != EIA_DTYPE_BOOL)
		return -EINVAL;
	set_shape(out, EIA_DTYPE_BOOL, x->ndim, x->dims);
	return 0;
}

int logic_not_exec(struct eia_pool *pool, const struct op_call *c)
{
	struct not_job j = { .x = c->in[0].data, .y = c->out[0].data };

	return pool_for(pool, tensor_count(&c->out[0]), 1 << 16, not_range, &j);
}
