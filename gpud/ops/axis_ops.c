// SPDX-License-Identifier: MIT
/*
 * Operators along one axis: ArgMax and ArgMin (ONNX-13), CumSum (ONNX-14).
 * The tensor is seen as (outer, len, inner); each (outer, inner) lane is
 * walked along the axis, inner elements apart.
 */
#include <errno.h>

#include "f16.h"
#include "internal.h"

struct lanes {
	int64_t outer, len, inner;
};

static void lanes_of(const struct eia_tensor *x, uint32_t axis, struct lanes *l)
{
	l->outer = shape_count(axis, x->dims);
	l->len = x->dims[axis];
	l->inner = shape_count(x->ndim - axis - 1, &x->dims[axis + 1]);
}

static bool numeric(uint32_t dtype)
{
	return is_float_dtype(dtype) || dtype == EIA_DTYPE_I64 ||
	       dtype == EIA_DTYPE_I32;
}

static int64_t load_int(const void *p, uint32_t dtype, int64_t i)
{
	return dtype == EIA_DTYPE_I64 ? ((const int64_t *)p)[i] :
					((const int32_t *)p)[i];
}

/* ArgMax, ArgMin */

int arg_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_arg_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	int64_t dims[EIA_MAX_DIMS];
	uint32_t axis, n = 0;

	if (attr->keepdims > 1 || attr->select_last_index > 1 ||
	    !numeric(x->dtype) || norm_axis(attr->axis, x->ndim, &axis))
		return -EINVAL;
	/* Lanes of nothing have no index to give. */
	if (!x->dims[axis] && shape_count(axis, x->dims) &&
	    shape_count(x->ndim - axis - 1, &x->dims[axis + 1]))
		return -EINVAL;
	for (uint32_t i = 0; i < x->ndim; i++) {
		if (i != axis)
			dims[n++] = x->dims[i];
		else if (attr->keepdims)
			dims[n++] = 1;
	}
	set_shape(out, EIA_DTYPE_I64, n, dims);
	return 0;
}

struct arg_job {
	const void *x;
	int64_t *y;
	uint32_t dtype;
	bool max, last;
	struct lanes l;
};

/*
 * A NaN is the extreme both ways, the first one winning (numpy's argmax
 * and argmin), the last with select_last_index, as for ties.
 */
static bool arg_better_f(const struct arg_job *j, float v, float best)
{
	if (best != best)
		return j->last && v != v;
	if (v != v)
		return true;
	if (v == best)
		return j->last;
	return j->max ? v > best : v < best;
}

static bool arg_better_i(const struct arg_job *j, int64_t v, int64_t best)
{
	if (v == best)
		return j->last;
	return j->max ? v > best : v < best;
}

static int arg_range(void *arg, int64_t begin, int64_t end, unsigned int worker)
{
	const struct arg_job *j = arg;
	bool fl = is_float_dtype(j->dtype);

	(void)worker;
	for (int64_t r = begin; r < end; r++) {
		int64_t base = r / j->l.inner * j->l.len * j->l.inner + r % j->l.inner;
		int64_t best = 0;

		if (fl) {
			float bv = load_f(j->x, j->dtype, base);

			for (int64_t k = 1; k < j->l.len; k++) {
				float v = load_f(j->x, j->dtype, base + k * j->l.inner);

				if (arg_better_f(j, v, bv)) {
					best = k;
					bv = v;
				}
			}
		} else {
			int64_t bv = load_int(j->x, j->dtype, base);

			for (int64_t k = 1; k < j->l.len; k++) {
				int64_t v = load_int(j->x, j->dtype, base + k * j->l.inner);

				if (arg_better_i(j, v, bv)) {
					best = k;
					bv = v;
				}
			}
		}
		j->y[r] = best;
	}
	return 0;
}

int arg_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_arg_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct arg_job j = {
		.x = x->data, .y = c->out[0].data, .dtype = x->dtype,
		.max = c->op == EIA_OP_ARGMAX, .last = attr->select_last_index,
	};
	uint32_t axis;

	norm_axis(attr->axis, x->ndim, &axis);
	lanes_of(x, axis, &j.l);
	return pool_for(pool, j.l.outer * j.l.inner, 1 + (1 << 14) / (j.l.len + 1),
			arg_range, &j);
}

/* CumSum */

int cumsum_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_cumsum_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	uint32_t axis;

	if (attr->exclusive > 1 || attr->reverse > 1 || !numeric(x->dtype) ||
	    norm_axis(attr->axis, x->ndim, &axis))
		return -EINVAL;
	set_shape(out, x->dtype, x->ndim, x->dims);
	return 0;
}

struct cumsum_job {
	const void *x;
	void *y;
	uint32_t dtype;
	bool exclusive, reverse;
	struct lanes l;
};

/* Element @n of the lane at @base, in the order the sums run. */
static int64_t cumsum_at(const struct cumsum_job *j, int64_t base, int64_t n)
{
	return base + (j->reverse ? j->l.len - 1 - n : n) * j->l.inner;
}

/* Floats add up in double. */
static void cumsum_lane_f(const struct cumsum_job *j, int64_t base)
{
	double sum = 0.0;

	for (int64_t n = 0; n < j->l.len; n++) {
		int64_t k = cumsum_at(j, base, n);
		double v = load_f(j->x, j->dtype, k);

		if (!j->exclusive)
			sum += v;
		store_f(j->y, j->dtype, k, (float)sum);
		if (j->exclusive)
			sum += v;
	}
}

/* Integers in 64 bits, wrapping. */
static void cumsum_lane_i(const struct cumsum_job *j, int64_t base)
{
	uint64_t sum = 0;

	for (int64_t n = 0; n < j->l.len; n++) {
		int64_t k = cumsum_at(j, base, n);
		uint64_t v = (uint64_t)load_int(j->x, j->dtype, k);

		if (!j->exclusive)
			sum += v;
		if (j->dtype == EIA_DTYPE_I64)
			((int64_t *)j->y)[k] = (int64_t)sum;
		else
			((int32_t *)j->y)[k] = (int32_t)(uint32_t)sum;
		if (j->exclusive)
			sum += v;
	}
}

static int cumsum_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	const struct cumsum_job *j = arg;

	(void)worker;
	for (int64_t r = begin; r < end; r++) {
		int64_t base = r / j->l.inner * j->l.len * j->l.inner + r % j->l.inner;

		if (is_float_dtype(j->dtype))
			cumsum_lane_f(j, base);
		else
			cumsum_lane_i(j, base);
	}
	return 0;
}

int cumsum_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_cumsum_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	struct cumsum_job j = {
		.x = x->data, .y = c->out[0].data, .dtype = x->dtype,
		.exclusive = attr->exclusive, .reverse = attr->reverse,
	};
	uint32_t axis;

	norm_axis(attr->axis, x->ndim, &axis);
	lanes_of(x, axis, &j.l);
	return pool_for(pool, j.l.outer * j.l.inner, 1 + (1 << 14) / (j.l.len + 1),
			cumsum_range, &j);
}
