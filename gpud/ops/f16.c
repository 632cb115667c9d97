// SPDX-License-Identifier: MIT
/*
 * fp32 views of float tensors for the operators that hand whole matrices to
 * BLAS (Gemm, MatMul, Conv): fp16 and bf16 tensors are converted into
 * scratch memory on the pool, computed in fp32 and rounded back once at the
 * end.
 */
#include <errno.h>
#include <stdlib.h>

#include "f16.h"
#include "internal.h"

struct cvt_ctx {
	const void *src;
	void *dst;
	uint32_t dtype;		/* the 16-bit side's */
};

static int to_f32_range(void *arg, int64_t begin, int64_t end,
			unsigned int worker)
{
	const struct cvt_ctx *c = arg;
	float *d = c->dst;

	(void)worker;
	for (int64_t i = begin; i < end; i++)
		d[i] = load_f(c->src, c->dtype, i);
	return 0;
}

static int from_f32_range(void *arg, int64_t begin, int64_t end,
			  unsigned int worker)
{
	const struct cvt_ctx *c = arg;
	const float *s = c->src;

	(void)worker;
	for (int64_t i = begin; i < end; i++)
		store_f(c->dst, c->dtype, i, s[i]);
	return 0;
}

/* Scratch for @n floats; at least one so that empty tensors get a pointer. */
static float *scratch(int64_t n)
{
	return malloc((size_t)(n ? n : 1) * sizeof(float));
}

int fview_in(struct eia_pool *pool, const struct eia_tensor *t, struct fview *v)
{
	int64_t n = tensor_count(t);
	struct cvt_ctx c;

	v->owned = NULL;
	if (t->dtype == EIA_DTYPE_F32) {
		v->p = t->data;
		return 0;
	}
	v->owned = v->p = scratch(n);
	if (!v->p)
		return -ENOMEM;
	c.src = t->data;
	c.dst = v->p;
	c.dtype = t->dtype;
	return pool_for(pool, n, 1 << 15, to_f32_range, &c);
}

int fview_out(const struct eia_tensor *t, struct fview *v)
{
	v->owned = NULL;
	if (t->dtype == EIA_DTYPE_F32) {
		v->p = t->data;
		return 0;
	}
	v->owned = v->p = scratch(tensor_count(t));
	return v->p ? 0 : -ENOMEM;
}

int fview_commit(struct eia_pool *pool, const struct eia_tensor *t,
		 const struct fview *v)
{
	struct cvt_ctx c = { .src = v->p, .dst = t->data, .dtype = t->dtype };

	if (!v->owned)
		return 0;
	return pool_for(pool, tensor_count(t), 1 << 15, from_f32_range, &c);
}

void fview_free(struct fview *v)
{
	free(v->owned);
	v->owned = NULL;
	v->p = NULL;
}
