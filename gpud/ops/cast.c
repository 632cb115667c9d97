// SPDX-License-Identifier: MIT
/*
 * Cast (ONNX Cast-13) between every pair of eia's dtypes. Floats become
 * integers by truncation toward zero, saturated at the integer's range, NaN
 * as 0 (ONNX leaves these undefined; the model runner folds constant Casts
 * the same way). I64 becomes I32 modulo 2^32, as numpy's astype does.
 * Anything non-zero (NaN included) becomes true; true becomes 1. Every
 * conversion to a float dtype rounds once, to nearest even.
 */
#include <errno.h>
#include <math.h>

#include "f16.h"
#include "internal.h"

static int64_t load_i(const void *p, uint32_t dtype, int64_t i)
{
	switch (dtype) {
	case EIA_DTYPE_I64:
		return ((const int64_t *)p)[i];
	case EIA_DTYPE_I32:
		return ((const int32_t *)p)[i];
	default:
		return ((const uint8_t *)p)[i] != 0;
	}
}

static void store_from_f(void *p, uint32_t dtype, int64_t i, float f)
{
	switch (dtype) {
	case EIA_DTYPE_I64:
		((int64_t *)p)[i] = eia_cast_to_i64(f);
		break;
	case EIA_DTYPE_I32:
		((int32_t *)p)[i] = eia_cast_to_i32(f);
		break;
	case EIA_DTYPE_BOOL:
		((uint8_t *)p)[i] = f != 0.0f;
		break;
	default:
		store_f(p, dtype, i, f);
	}
}

/*
 * @v in fp32 rounded to odd: truncated to 24 significant bits, the last one
 * set when anything was dropped. Rounding that to bf16's 8 bits gives what
 * rounding @v itself would, where going through fp32's nearest could make a
 * tie that @v is not (2^24 + 2^16 + 1 would become 2^24).
 */
static float i64_to_f32_odd(int64_t v)
{
	uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	int drop = a >> 24 ? 40 - __builtin_clzll(a) : 0;
	float f;

	if (drop)
		a = a >> drop | ((a & ((1ull << drop) - 1)) != 0);
	f = ldexpf((float)a, drop);	/* exact: a < 2^24 */
	return v < 0 ? -f : f;
}

static void store_from_i(void *p, uint32_t dtype, int64_t i, int64_t v)
{
	switch (dtype) {
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
		((uint16_t *)p)[i] = f32_to_bf16(i64_to_f32_odd(v));
		break;
	default:
		/*
		 * One rounding to fp32; to fp16 a second one is harmless: every
		 * integer that does not overflow fp16 is exact in fp32.
		 */
		store_f(p, dtype, i, (float)v);
	}
}

struct cast_job {
	const void *x;
	void *y;
	uint32_t from, to;
};

static int cast_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	const struct cast_job *j = arg;

	(void)worker;
	if (is_float_dtype(j->from)) {
		for (int64_t i = begin; i < end; i++)
			store_from_f(j->y, j->to, i, load_f(j->x, j->from, i));
	} else {
		for (int64_t i = begin; i < end; i++)
			store_from_i(j->y, j->to, i, load_i(j->x, j->from, i));
	}
	return 0;
}

int cast_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_cast_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];

	if (attr->reserved || !eia_dtype_size(attr->to))
		return -EINVAL;
	set_shape(out, attr->to, x->ndim, x->dims);
	return 0;
}

int cast_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0];
	struct cast_job j = {
		.x = x->data, .y = c->out[0].data, .from = x->dtype,
		.to = c->out[0].dtype,
	};

	return pool_for(pool, tensor_count(x), 1 << 15, cast_range, &j);
}
