// SPDX-License-Identifier: MIT
/*
 * Data movement: Transpose, Gather, Concat, Split, Slice and Tile, for every
 * dtype. Transpose and Slice are strided copies; Gather, Concat and Split
 * move contiguous blocks of the dimensions after their axis; Tile repeats
 * rows of X.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Transpose */

static int transpose_perm(const struct eia_transpose_attr *attr,
			  const struct eia_tensor *x, uint32_t *perm)
{
	bool seen[EIA_MAX_DIMS] = { false };

	if (attr->reserved || (attr->n_perm && attr->n_perm != x->ndim) ||
	    attr->n_perm > EIA_MAX_DIMS ||
	    !all_zero(&attr->perm[attr->n_perm], EIA_MAX_DIMS - attr->n_perm))
		return -EINVAL;
	for (uint32_t i = 0; i < x->ndim; i++) {
		int64_t p = attr->n_perm ? attr->perm[i] : x->ndim - 1 - i;

		if (p < 0 || p >= x->ndim || seen[p])
			return -EINVAL;
		seen[p] = true;
		perm[i] = (uint32_t)p;
	}
	return 0;
}

int transpose_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	uint32_t perm[EIA_MAX_DIMS];
	int64_t dims[EIA_MAX_DIMS];
	int ret;

	ret = transpose_perm(c->attr, x, perm);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < x->ndim; i++)
		dims[i] = x->dims[perm[i]];
	set_shape(out, x->dtype, x->ndim, dims);
	return 0;
}

int transpose_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0], *y = &c->out[0];
	int64_t xs[EIA_MAX_DIMS], st[EIA_MAX_DIMS];
	uint32_t perm[EIA_MAX_DIMS];

	transpose_perm(c->attr, x, perm);
	contig_strides(x->ndim, x->dims, xs);
	for (uint32_t i = 0; i < x->ndim; i++)
		st[i] = xs[perm[i]];
	return strided_copy(pool, eia_dtype_size(x->dtype), y->ndim, y->dims,
			    x->data, st, y->data);
}

/* Gather */

int gather_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_axis_attr *attr = c->attr;
	const struct eia_tensor *data = &c->in[0], *idx = &c->in[1];
	int64_t dims[EIA_MAX_DIMS];
	uint32_t axis, n = 0;

	if (idx->dtype != EIA_DTYPE_I64 && idx->dtype != EIA_DTYPE_I32)
		return -EINVAL;
	if (norm_axis(attr->axis, data->ndim, &axis) ||
	    data->ndim - 1 + idx->ndim > EIA_MAX_DIMS)
		return -EINVAL;
	for (uint32_t i = 0; i < axis; i++)
		dims[n++] = data->dims[i];
	for (uint32_t i = 0; i < idx->ndim; i++)
		dims[n++] = idx->dims[i];
	for (uint32_t i = axis + 1; i < data->ndim; i++)
		dims[n++] = data->dims[i];
	set_shape(out, data->dtype, n, dims);
	return 0;
}

struct gather_job {
	const char *data;
	char *out;
	const void *idx;
	bool idx64;
	int64_t nidx, dim, block;	/* block: bytes after the axis */
};

static int64_t gather_index(const struct gather_job *j, int64_t i)
{
	return j->idx64 ? ((const int64_t *)j->idx)[i] :
			  ((const int32_t *)j->idx)[i];
}

/* Every index is checked before anything is written. */
static int gather_check(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	const struct gather_job *j = arg;

	(void)worker;
	for (int64_t i = begin; i < end; i++) {
		int64_t v = gather_index(j, i);

		if (v < -j->dim || v >= j->dim)
			return -EINVAL;
	}
	return 0;
}

/* Rows are numbered over (outer, index). */
static int gather_copy(void *arg, int64_t begin, int64_t end,
		       unsigned int worker)
{
	const struct gather_job *j = arg;

	(void)worker;
	for (int64_t r = begin; r < end; r++) {
		int64_t o = r / j->nidx, v = gather_index(j, r % j->nidx);

		if (v < 0)
			v += j->dim;
		memcpy(j->out + r * j->block,
		       j->data + (o * j->dim + v) * j->block, (size_t)j->block);
	}
	return 0;
}

int gather_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_axis_attr *attr = c->attr;
	const struct eia_tensor *data = &c->in[0], *idx = &c->in[1];
	struct gather_job j = {
		.data = data->data, .out = c->out[0].data, .idx = idx->data,
		.idx64 = idx->dtype == EIA_DTYPE_I64, .nidx = tensor_count(idx),
	};
	uint32_t axis;
	int ret;

	norm_axis(attr->axis, data->ndim, &axis);
	j.dim = data->dims[axis];
	j.block = shape_count(data->ndim - axis - 1, &data->dims[axis + 1]) *
		  (int64_t)eia_dtype_size(data->dtype);
	ret = pool_for(pool, j.nidx, 1 << 16, gather_check, &j);
	if (ret || !j.block)
		return ret;
	return pool_for(pool, shape_count(axis, data->dims) * j.nidx,
			1 + (1 << 16) / j.block, gather_copy, &j);
}

/* Concat and Split share the block walk: outer rows of per-part blocks. */

struct parts_job {
	unsigned int n;
	const struct eia_tensor *parts;	/* the inputs (Concat) or outputs */
	int64_t block[EIA_OP_MAX_IO];	/* bytes per outer row of each part */
	int64_t offset[EIA_OP_MAX_IO];	/* their place in the whole's row */
	int64_t row;			/* bytes per outer row of the whole */
	char *whole;
	bool concat;
};

/* Units are numbered over (outer, part). */
static int parts_range(void *arg, int64_t begin, int64_t end,
		       unsigned int worker)
{
	const struct parts_job *j = arg;

	(void)worker;
	for (int64_t u = begin; u < end; u++) {
		int64_t o = u / j->n;
		unsigned int k = (unsigned int)(u % j->n);
		char *part = (char *)j->parts[k].data + o * j->block[k];
		char *whole = j->whole + o * j->row + j->offset[k];

		if (!j->block[k])
			continue;
		if (j->concat)
			memcpy(whole, part, (size_t)j->block[k]);
		else
			memcpy(part, whole, (size_t)j->block[k]);
	}
	return 0;
}

static int parts_run(struct eia_pool *pool, const struct eia_tensor *whole,
		     const struct eia_tensor *parts, unsigned int n,
		     uint32_t axis, bool concat)
{
	struct parts_job j = {
		.n = n, .parts = parts, .whole = whole->data, .concat = concat,
	};
	int64_t inner = shape_count(whole->ndim - axis - 1,
				    &whole->dims[axis + 1]) *
			(int64_t)eia_dtype_size(whole->dtype);

	for (unsigned int k = 0; k < n; k++) {
		j.block[k] = parts[k].dims[axis] * inner;
		j.offset[k] = j.row;
		j.row += j.block[k];
	}
	if (!j.row)
		return 0;
	return pool_for(pool, shape_count(axis, whole->dims) * n,
			1 + (1 << 16) / (j.row / n + 1), parts_range, &j);
}

int concat_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_axis_attr *attr = c->attr;
	const struct eia_tensor *x = &c->in[0];
	int64_t dims[EIA_MAX_DIMS];
	uint32_t axis;

	if (norm_axis(attr->axis, x->ndim, &axis))
		return -EINVAL;
	memcpy(dims, x->dims, sizeof(dims));
	for (unsigned int k = 1; k < c->n_in; k++) {
		const struct eia_tensor *t = &c->in[k];

		if (t->dtype != x->dtype || t->ndim != x->ndim)
			return -EINVAL;
		for (uint32_t i = 0; i < x->ndim; i++)
			if (i != axis && t->dims[i] != x->dims[i])
				return -EINVAL;
		if (__builtin_add_overflow(dims[axis], t->dims[axis],
					   &dims[axis]))
			return -EINVAL;
	}
	set_shape(out, x->dtype, x->ndim, dims);
	return 0;
}

int concat_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_axis_attr *attr = c->attr;
	uint32_t axis;

	norm_axis(attr->axis, c->in[0].ndim, &axis);
	return parts_run(pool, &c->out[0], c->in, c->n_in, axis, true);
}

/* Split */

static int split_sizes(const struct eia_split_attr *attr,
		       const struct eia_tensor *x, unsigned int n,
		       uint32_t *axis, int64_t *sizes)
{
	int64_t dim, sum = 0;

	if (attr->reserved || norm_axis(attr->axis, x->ndim, axis))
		return -EINVAL;
	if (attr->n_split > EIA_OP_MAX_IO ||
	    !all_zero(&attr->split[attr->n_split],
		      EIA_OP_MAX_IO - attr->n_split))
		return -EINVAL;
	dim = x->dims[*axis];
	if (!attr->n_split) {
		/* Equal parts of ceil(dim / n), the last one smaller. */
		int64_t part = dim / n + (dim % n != 0);

		if (dim && part * (n - 1) >= dim)
			return -EINVAL;
		for (unsigned int k = 0; k < n; k++)
			sizes[k] = k + 1 < n ? part : dim - part * (n - 1);
		return 0;
	}
	if (attr->n_split != n)
		return -EINVAL;
	for (unsigned int k = 0; k < n; k++) {
		sizes[k] = attr->split[k];
		if (sizes[k] < 0 || __builtin_add_overflow(sum, sizes[k], &sum))
			return -EINVAL;
	}
	return sum == dim ? 0 : -EINVAL;
}

int split_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	int64_t sizes[EIA_OP_MAX_IO];
	uint32_t axis;
	int ret;

	ret = split_sizes(c->attr, x, c->n_out, &axis, sizes);
	if (ret)
		return ret;
	for (unsigned int k = 0; k < c->n_out; k++) {
		set_shape(&out[k], x->dtype, x->ndim, x->dims);
		out[k].dims[axis] = sizes[k];
	}
	return 0;
}

int split_exec(struct eia_pool *pool, const struct op_call *c)
{
	int64_t sizes[EIA_OP_MAX_IO];
	uint32_t axis;

	split_sizes(c->attr, &c->in[0], c->n_out, &axis, sizes);
	return parts_run(pool, &c->in[0], c->out, c->n_out, axis, false);
}

/* Slice */

/* Output dims, and per input dim the first element and the step. */
static int slice_plan(const struct eia_slice_attr *attr,
		      const struct eia_tensor *x, int64_t *dims,
		      int64_t *start, int64_t *step)
{
	bool seen[EIA_MAX_DIMS] = { false };
	uint32_t n = attr->n;

	if (attr->reserved || n > x->ndim ||
	    !all_zero(&attr->starts[n], EIA_MAX_DIMS - n) ||
	    !all_zero(&attr->ends[n], EIA_MAX_DIMS - n) ||
	    !all_zero(&attr->axes[n], EIA_MAX_DIMS - n) ||
	    !all_zero(&attr->steps[n], EIA_MAX_DIMS - n))
		return -EINVAL;
	for (uint32_t i = 0; i < x->ndim; i++) {
		dims[i] = x->dims[i];
		start[i] = 0;
		step[i] = 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		int64_t s = attr->starts[i], e = attr->ends[i];
		int64_t st = attr->steps[i], d, len;
		uint32_t a;

		if (norm_axis(attr->axes[i], x->ndim, &a) || seen[a] || !st ||
		    st == INT64_MIN)
			return -EINVAL;
		seen[a] = true;
		d = x->dims[a];
		if (s < 0)
			s += d;
		if (e < 0)
			e += d;
		/* ONNX clamping: [0, d] forwards, [0, d-1] / [-1, d-1] back. */
		if (st > 0) {
			s = s < 0 ? 0 : s > d ? d : s;
			e = e < 0 ? 0 : e > d ? d : e;
			len = e > s ? (e - s) / st + ((e - s) % st != 0) : 0;
		} else {
			s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
			e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
			len = s > e ? (s - e) / -st + ((s - e) % -st != 0) : 0;
		}
		dims[a] = d ? len : 0;
		start[a] = len ? s : 0;
		step[a] = st;
	}
	return 0;
}

int slice_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	int64_t dims[EIA_MAX_DIMS], start[EIA_MAX_DIMS], step[EIA_MAX_DIMS];
	int ret;

	ret = slice_plan(c->attr, x, dims, start, step);
	if (ret)
		return ret;
	set_shape(out, x->dtype, x->ndim, dims);
	return 0;
}

int slice_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0], *y = &c->out[0];
	int64_t dims[EIA_MAX_DIMS], start[EIA_MAX_DIMS], step[EIA_MAX_DIMS];
	int64_t xs[EIA_MAX_DIMS], st[EIA_MAX_DIMS], base = 0;
	size_t esize = eia_dtype_size(x->dtype);

	slice_plan(c->attr, x, dims, start, step);
	if (!tensor_count(y))
		return 0;
	contig_strides(x->ndim, x->dims, xs);
	for (uint32_t i = 0; i < x->ndim; i++) {
		base += start[i] * xs[i];
		/* |step| <= dim whenever two elements are taken. */
		st[i] = dims[i] > 1 ? step[i] * xs[i] : 0;
	}
	return strided_copy(pool, esize, x->ndim, dims,
			    (const char *)x->data + base * (int64_t)esize, st,
			    y->data);
}

/* Tile */

static int tile_dims(const struct eia_tile_attr *attr,
		     const struct eia_tensor *x, int64_t *dims)
{
	if (!all_zero(&attr->repeats[x->ndim], EIA_MAX_DIMS - x->ndim))
		return -EINVAL;
	for (uint32_t i = 0; i < x->ndim; i++)
		if (attr->repeats[i] < 0 ||
		    __builtin_mul_overflow(x->dims[i], attr->repeats[i], &dims[i]))
			return -EINVAL;
	return 0;
}

int tile_infer(const struct op_call *c, struct eia_tensor *out)
{
	const struct eia_tensor *x = &c->in[0];
	int64_t dims[EIA_MAX_DIMS];
	int ret;

	ret = tile_dims(c->attr, x, dims);
	if (ret)
		return ret;
	set_shape(out, x->dtype, x->ndim, dims);
	return 0;
}

struct tile_job {
	const char *x;
	char *y;
	size_t esize;
	uint32_t ndim;
	const int64_t *in, *out;	/* X's dims, Y's */
};

/*
 * Output rows (all dims but the last) numbered in order: each is X's row
 * at the coordinates modulo X's dims, repeated along the last dim.
 */
static int tile_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	const struct tile_job *j = arg;
	uint32_t last = j->ndim - 1;
	size_t row = (size_t)j->in[last] * j->esize;

	(void)worker;
	for (int64_t r = begin; r < end; r++) {
		int64_t rest = r, src = 0, stride = 1;
		char *dst = j->y + (size_t)(r * j->out[last]) * j->esize;

		for (uint32_t i = last; i-- > 0;) {
			src += rest % j->out[i] % j->in[i] * stride;
			rest /= j->out[i];
			stride *= j->in[i];
		}
		for (int64_t k = 0; k < j->out[last]; k += j->in[last])
			memcpy(dst + (size_t)k * j->esize,
			       j->x + (size_t)(src * j->in[last]) * j->esize, row);
	}
	return 0;
}

int tile_exec(struct eia_pool *pool, const struct op_call *c)
{
	const struct eia_tensor *x = &c->in[0], *y = &c->out[0];
	struct tile_job j = {
		.x = x->data, .y = y->data, .esize = eia_dtype_size(x->dtype),
		.ndim = x->ndim, .in = x->dims, .out = y->dims,
	};

	if (!tensor_count(y))
		return 0;
	if (!x->ndim) {		/* a scalar: nothing to repeat */
		memcpy(y->data, x->data, j.esize);
		return 0;
	}
	return pool_for(pool, tensor_count(y) / y->dims[x->ndim - 1],
			1 + (1 << 16) / ((int64_t)j.esize * y->dims[x->ndim - 1]),
			tile_range, &j);
}
