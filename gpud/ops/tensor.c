// SPDX-License-Identifier: MIT
/* Tensor view checks and small shape helpers. */
#include <errno.h>
#include <string.h>

#include "internal.h"

size_t eia_dtype_size(uint32_t dtype)
{
	switch (dtype) {
	case EIA_DTYPE_F32:
	case EIA_DTYPE_I32:
		return 4;
	case EIA_DTYPE_F16:
	case EIA_DTYPE_BF16:
		return 2;
	case EIA_DTYPE_I64:
		return 8;
	case EIA_DTYPE_BOOL:
		return 1;
	default:
		return 0;
	}
}

int shape_check(uint32_t dtype, uint32_t ndim, const int64_t *dims,
		uint64_t *bytes)
{
	size_t esize = eia_dtype_size(dtype);
	bool empty = false;
	int64_t prod;

	if (!esize || ndim > EIA_MAX_DIMS)
		return -EINVAL;
	/*
	 * Bound the product of the non-zero dimensions, not just the count:
	 * strides are computed from it even when some dimension is 0.
	 */
	prod = (int64_t)esize;
	for (uint32_t i = 0; i < ndim; i++) {
		if (dims[i] < 0)
			return -EINVAL;
		if (!dims[i])
			empty = true;
		else if (__builtin_mul_overflow(prod, dims[i], &prod))
			return -EINVAL;
	}
	*bytes = empty ? 0 : (uint64_t)prod;
	return 0;
}

int eia_tensor_check(const struct eia_tensor *t, uint64_t *bytes)
{
	uint64_t n;
	int ret;

	if (!t)
		return -EINVAL;
	ret = shape_check(t->dtype, t->ndim, t->dims, &n);
	if (ret)
		return ret;
	if (n > t->size)
		return -EINVAL;
	if (n && !t->data)
		return -EINVAL;
	if ((uintptr_t)t->data % eia_dtype_size(t->dtype) ||
	    (uintptr_t)t->data + n < (uintptr_t)t->data)
		return -EINVAL;
	if (bytes)
		*bytes = n;
	return 0;
}

bool is_float_dtype(uint32_t dtype)
{
	return dtype == EIA_DTYPE_F32 || dtype == EIA_DTYPE_F16 ||
	       dtype == EIA_DTYPE_BF16;
}

int64_t shape_count(uint32_t ndim, const int64_t *dims)
{
	int64_t n = 1;

	for (uint32_t i = 0; i < ndim; i++)
		n *= dims[i];
	return n;
}

bool same_shape(const struct eia_tensor *a, const struct eia_tensor *b)
{
	return a->ndim == b->ndim &&
	       !memcmp(a->dims, b->dims, a->ndim * sizeof(a->dims[0]));
}

void set_shape(struct eia_tensor *t, uint32_t dtype, uint32_t ndim,
	       const int64_t *dims)
{
	t->dtype = dtype;
	t->ndim = ndim;
	memset(t->dims, 0, sizeof(t->dims));
	if (ndim)
		memcpy(t->dims, dims, ndim * sizeof(dims[0]));
}

int norm_axis(int64_t axis, uint32_t rank, uint32_t *out)
{
	if (axis < -(int64_t)rank || axis >= (int64_t)rank)
		return -EINVAL;
	*out = (uint32_t)(axis < 0 ? axis + rank : axis);
	return 0;
}

bool all_zero(const int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i])
			return false;
	return true;
}

void contig_strides(uint32_t ndim, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;

	for (uint32_t i = ndim; i-- > 0;) {
		strides[i] = s;
		/* A 0 dimension must not zero the outer strides' products. */
		s *= dims[i] ? dims[i] : 1;
	}
}
