// SPDX-License-Identifier: MIT
/*
 * Numpy-style broadcasting and the strided iterator behind every operator
 * that walks tensors by strides: elementwise, Where, Transpose, Slice, and the
 * fp32 expansion of Gemm's C and LayerNormalization's scale and bias.
 */
#include <errno.h>
#include <string.h>

#include "f16.h"
#include "internal.h"

int bcast_shape(const struct eia_tensor *const *ts, unsigned int n,
		uint32_t *ndim, int64_t *dims)
{
	uint32_t rank = 0;

	for (unsigned int k = 0; k < n; k++)
		if (ts[k]->ndim > rank)
			rank = ts[k]->ndim;
	for (uint32_t i = 0; i < rank; i++) {
		int64_t d = 1;

		for (unsigned int k = 0; k < n; k++) {
			const struct eia_tensor *t = ts[k];
			int64_t td;

			if (i + t->ndim < rank)		/* missing leading dim */
				continue;
			td = t->dims[i + t->ndim - rank];
			if (td == 1 || td == d)
				continue;
			if (d != 1)
				return -EINVAL;
			d = td;
		}
		dims[i] = d;
	}
	*ndim = rank;
	return 0;
}

bool bcast_to_ok(const struct eia_tensor *t, uint32_t ndim, const int64_t *dims)
{
	if (t->ndim > ndim)
		return false;
	for (uint32_t i = 0; i < t->ndim; i++) {
		int64_t td = t->dims[i], d = dims[ndim - t->ndim + i];

		if (td != d && td != 1)
			return false;
	}
	return true;
}

void bcast_strides(const struct eia_tensor *t, uint32_t ndim,
		   const int64_t *dims, int64_t *strides)
{
	int64_t own[EIA_MAX_DIMS];
	uint32_t lead = ndim - t->ndim;

	contig_strides(t->ndim, t->dims, own);
	for (uint32_t i = 0; i < ndim; i++) {
		if (i < lead || (t->dims[i - lead] == 1 && dims[i] != 1))
			strides[i] = 0;
		else
			strides[i] = own[i - lead];
	}
}

void nd_iter_init(struct nd_iter *it, uint32_t ndim, const int64_t *dims,
		  unsigned int nops, const int64_t (*strides)[EIA_MAX_DIMS])
{
	unsigned int n = 0;

	memset(it, 0, sizeof(*it));
	it->nops = nops;
	for (uint32_t i = 0; i < ndim; i++) {
		bool merge = n > 0;

		if (dims[i] == 1)		/* contributes nothing */
			continue;
		/* Fold into the previous kept dim when every operand allows. */
		for (unsigned int k = 0; merge && k < nops; k++)
			merge = it->strides[k][n - 1] == strides[k][i] * dims[i];
		if (merge) {
			it->dims[n - 1] *= dims[i];
			for (unsigned int k = 0; k < nops; k++)
				it->strides[k][n - 1] = strides[k][i];
			continue;
		}
		it->dims[n] = dims[i];
		for (unsigned int k = 0; k < nops; k++)
			it->strides[k][n] = strides[k][i];
		n++;
	}
	if (!n) {
		it->dims[0] = 1;
		n = 1;
	}
	it->ndim = n;
}

void nd_iter_range(const struct nd_iter *it, int64_t begin, int64_t end,
		   nd_span_fn fn, void *ctx)
{
	int64_t idx[EIA_MAX_DIMS], offs[ND_MAX_OPS] = { 0 };
	int64_t inner[ND_MAX_OPS], rest = begin;
	unsigned int last = it->ndim - 1;

	if (begin >= end)	/* also keeps 0-sized dims out of the % below */
		return;
	for (unsigned int i = it->ndim; i-- > 0;) {
		idx[i] = rest % it->dims[i];
		rest /= it->dims[i];
		for (unsigned int k = 0; k < it->nops; k++)
			offs[k] += idx[i] * it->strides[k][i];
	}
	for (unsigned int k = 0; k < it->nops; k++)
		inner[k] = it->strides[k][last];

	while (begin < end) {
		int64_t n = it->dims[last] - idx[last];
		unsigned int d = last;

		if (n > end - begin)
			n = end - begin;
		fn(ctx, offs, n, inner);
		begin += n;
		idx[last] += n;
		for (unsigned int k = 0; k < it->nops; k++)
			offs[k] += n * inner[k];
		/* Carry into the outer dimensions. */
		while (d > 0 && idx[d] == it->dims[d]) {
			for (unsigned int k = 0; k < it->nops; k++)
				offs[k] += it->strides[k][d - 1] -
					   idx[d] * it->strides[k][d];
			idx[d] = 0;
			idx[--d]++;
		}
	}
}

struct expand_ctx {
	struct nd_iter it;
	const void *src;
	uint32_t dtype;
	float scale;
	float *dst;
};

static void expand_span(void *arg, const int64_t *offs, int64_t n,
			const int64_t *st)
{
	const struct expand_ctx *e = arg;
	float *d = e->dst + offs[0];

	for (int64_t i = 0; i < n; i++)
		d[i] = e->scale * load_f(e->src, e->dtype, offs[1] + i * st[1]);
}

static int expand_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	struct expand_ctx *e = arg;

	(void)worker;
	nd_iter_range(&e->it, begin, end, expand_span, e);
	return 0;
}

int expand_f32(struct eia_pool *pool, const struct eia_tensor *src,
	       uint32_t ndim, const int64_t *dims, float scale, float *dst)
{
	struct expand_ctx e = {
		.src = src->data, .dtype = src->dtype, .scale = scale, .dst = dst,
	};
	int64_t strides[2][EIA_MAX_DIMS];

	contig_strides(ndim, dims, strides[0]);
	bcast_strides(src, ndim, dims, strides[1]);
	nd_iter_init(&e.it, ndim, dims, 2, strides);
	return pool_for(pool, shape_count(ndim, dims), 1 << 14, expand_range, &e);
}

struct copy_ctx {
	struct nd_iter it;
	const char *src;
	char *dst;
	size_t esize;
};

#define COPY_SPAN(type) do { \
	const type *s = (const type *)c->src + offs[1]; \
	type *d = (type *)c->dst + offs[0]; \
	for (int64_t i = 0; i < n; i++) \
		d[i] = s[i * st[1]]; \
} while (0)

static void copy_span(void *arg, const int64_t *offs, int64_t n,
		      const int64_t *st)
{
	const struct copy_ctx *c = arg;

	switch (c->esize) {
	case 1:
		COPY_SPAN(uint8_t);
		break;
	case 2:
		COPY_SPAN(uint16_t);
		break;
	case 4:
		COPY_SPAN(uint32_t);
		break;
	default:
		COPY_SPAN(uint64_t);
		break;
	}
}

static int copy_range(void *arg, int64_t begin, int64_t end,
		      unsigned int worker)
{
	struct copy_ctx *c = arg;

	(void)worker;
	nd_iter_range(&c->it, begin, end, copy_span, c);
	return 0;
}

int strided_copy(struct eia_pool *pool, size_t esize, uint32_t ndim,
		 const int64_t *dims, const void *src, const int64_t *strides,
		 void *dst)
{
	struct copy_ctx c = { .src = src, .dst = dst, .esize = esize };
	int64_t st[2][EIA_MAX_DIMS];

	contig_strides(ndim, dims, st[0]);
	memcpy(st[1], strides, ndim * sizeof(strides[0]));
	nd_iter_init(&c.it, ndim, dims, 2, st);
	return pool_for(pool, shape_count(ndim, dims), 1 << 15, copy_range, &c);
}
