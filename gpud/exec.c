// SPDX-License-Identifier: MIT
#include "exec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "wire.h"

#define HEAD_FIXED	(sizeof(struct eia_wire_hdr) + sizeof(struct eia_wire_submit_resp))

/* Where one buffer's run stands. */
struct run {
	struct gpud_engine *eng;
	struct gpud_ctx *ctx;
	struct gpud_queue *q;		/* the backend's, of the buffer's queue */
	struct gpud_mem_account *acct;
	const struct gpud_cmdbuf *cb;
	struct gpud_resp *r;
	uint32_t index;
	size_t head_used;	/* bytes of r->head filled */
};

int gpud_resp_init(struct gpud_resp *r, const struct gpud_cmdbuf *cb, bool direct)
{
	size_t head = HEAD_FIXED + (size_t)cb->ncmds * sizeof(struct eia_cb_result) +
		      (size_t)(direct ? cb->d2h_copied : cb->d2h_bytes);

	memset(r, 0, sizeof(*r));
	r->head = malloc(head);
	/* Each entry is set before use; not calloc(): see new_job() in conn.c. */
	r->iov = malloc((1 + (size_t)(direct ? cb->nd2h_direct : 0)) * sizeof(*r->iov));
	if (!r->head || !r->iov) {
		gpud_resp_free(r);
		return -ENOMEM;
	}
	return 0;
}

void gpud_resp_free(struct gpud_resp *r)
{
	free(r->head);
	free(r->iov);
	memset(r, 0, sizeof(*r));
}

static int run_copy(struct run *x, const struct eia_cb_copy *c)
{
	struct gpud_engine *eng = x->eng;
	struct gpud_queue *q = x->q;
	void *dst, *src;
	int ret;

	switch (c->hdr.op) {
	case EIA_CB_COPY_H2D:
		ret = gpud_mem_range(x->ctx, c->dst, c->dst_offset, c->bytes, &dst);
		if (!ret && c->bytes && !x->cb->placed)
			ret = eng->be->copy_h2d(eng, q, dst, gpud_cmd_h2d_data(c), c->bytes);
		return ret;
	case EIA_CB_COPY_D2H:
		ret = gpud_mem_range(x->ctx, c->src, c->src_offset, c->bytes, &src);
		if (ret || !c->bytes)
			return ret;
		if (eng->be->host_visible && x->index > x->cb->last_write) {
			x->r->iov[x->r->niov].iov_base = src;
			x->r->iov[x->r->niov++].iov_len = (size_t)c->bytes;
		} else {
			ret = eng->be->copy_d2h(eng, q, x->r->head + x->head_used, src,
						c->bytes);
			if (ret)
				return ret;
			x->head_used += (size_t)c->bytes;
		}
		x->r->payload_len += (uint32_t)c->bytes;
		return 0;
	}
	ret = gpud_mem_range(x->ctx, c->dst, c->dst_offset, c->bytes, &dst);
	if (!ret)
		ret = gpud_mem_range(x->ctx, c->src, c->src_offset, c->bytes, &src);
	if (!ret && c->bytes)
		ret = eng->be->copy_d2d(eng, q, dst, src, c->bytes);
	return ret;
}

static int run_memset(struct run *x, const struct eia_cb_memset *m)
{
	void *dst;
	int ret;

	if (m->value > 255)
		return -EINVAL;
	ret = gpud_mem_range(x->ctx, m->dst, m->dst_offset, m->bytes, &dst);
	if (!ret && m->bytes)
		ret = x->eng->be->fill(x->eng, x->q, dst, (uint8_t)m->value,
				       m->bytes);
	return ret;
}

/* A tensor's bytes: -EINVAL for an unknown dtype or a shape that overflows. */
static int tensor_bytes(const struct eia_cb_tensor *t, uint64_t *bytes)
{
	uint64_t n = eia_dtype_size(t->dtype);
	uint32_t i;

	if (!n)
		return -EINVAL;
	for (i = 0; i < t->ndim; i++)
		if (t->dims[i] < 0 || __builtin_mul_overflow(n, (uint64_t)t->dims[i], &n))
			return -EINVAL;
	*bytes = n;
	return 0;
}

/* The view of @ct in device memory: its handle, then its shape, then its range. */
static int resolve(const struct gpud_ctx *ctx, const struct eia_cb_tensor *ct,
		   struct eia_tensor *t)
{
	uint64_t bytes;
	void *p;
	int ret;

	ret = gpud_mem_range(ctx, ct->handle, 0, 0, &p);
	if (!ret)
		ret = tensor_bytes(ct, &bytes);
	if (!ret)
		ret = gpud_mem_range(ctx, ct->handle, ct->offset, bytes, &p);
	if (ret)
		return ret;
	t->data = p;
	t->size = bytes;
	t->dtype = ct->dtype;
	t->ndim = ct->ndim;
	memcpy(t->dims, ct->dims, sizeof(t->dims));
	return 0;
}

static int run_launch(struct run *x, const struct eia_cb_launch_op *l)
{
	const struct eia_cb_tensor *ct = gpud_cmd_tensors(l);
	struct eia_tensor in[EIA_OP_MAX_IO], out[EIA_OP_MAX_IO];
	unsigned int k;
	int ret;

	if (!eia_op_name(l->op))
		return -EOPNOTSUPP;
	for (k = 0; k < l->ninputs; k++) {
		ret = resolve(x->ctx, &ct[k], &in[k]);
		if (ret)
			return ret;
	}
	for (k = 0; k < l->noutputs; k++) {
		ret = resolve(x->ctx, &ct[l->ninputs + k], &out[k]);
		if (ret)
			return ret;
	}
	return x->eng->be->run_op(x->eng, x->q, l->op,
				  l->attr_size ? gpud_cmd_attr(l) : NULL, l->attr_size,
				  in, l->ninputs, out, l->noutputs);
}

/* The parameter blob with each pointer's device address written in. */
static int run_launch_kernel(struct run *x, const struct eia_cb_launch_kernel *k)
{
	const struct eia_cb_kernel_ptr *p = gpud_cmd_kernel_ptrs(k);
	unsigned char params[EIA_CB_KERNEL_PARAMS_MAX];
	void *fn, *dev;
	uint64_t addr;
	uint32_t j;
	int ret;

	if (!x->eng->be->launch_kernel)
		return -EOPNOTSUPP;
	ret = gpud_function_get(x->ctx, k->function, &fn);
	if (ret)
		return ret;
	memcpy(params, gpud_cmd_kernel_params(k), k->params_size);
	for (j = 0; j < k->nptrs; j++) {
		ret = gpud_mem_range(x->ctx, p[j].handle, p[j].offset, 0, &dev);
		if (ret)
			return ret;
		addr = (uint64_t)(uintptr_t)dev;
		memcpy(params + p[j].param_offset, &addr, sizeof(addr));
	}
	return x->eng->be->launch_kernel(x->eng, x->q, fn, k->grid, k->block,
					 k->shared_bytes, params, k->params_size);
}

static int run_cmd(struct run *x, const struct eia_cb_hdr *h, uint64_t *value)
{
	const struct eia_cb_module_get_function *g = (const void *)h;
	const struct eia_cb_module_load *ml = (const void *)h;

	switch (h->op) {
	case EIA_CB_MEM_ALLOC:
		return gpud_mem_alloc(x->eng, x->ctx, x->q, x->acct,
				      ((const struct eia_cb_mem_alloc *)h)->bytes, value);
	case EIA_CB_MEM_FREE:
		return gpud_mem_free(x->eng, x->ctx, x->q, x->acct,
				     ((const struct eia_cb_mem_free *)h)->handle);
	case EIA_CB_COPY_H2D:
	case EIA_CB_COPY_D2H:
	case EIA_CB_COPY_D2D:
		return run_copy(x, (const void *)h);
	case EIA_CB_MEMSET:
		return run_memset(x, (const void *)h);
	case EIA_CB_LAUNCH_OP:
		return run_launch(x, (const void *)h);
	case EIA_CB_MODULE_LOAD:
		return gpud_module_load(x->eng, x->ctx, x->q, x->acct, gpud_cmd_module_image(ml),
					ml->bytes, value);
	case EIA_CB_MODULE_UNLOAD:
		return gpud_module_unload(x->eng, x->ctx, x->q, x->acct,
					  ((const struct eia_cb_module_unload *)h)->module);
	case EIA_CB_MODULE_GET_FUNCTION:
		return gpud_module_function(x->eng, x->ctx, x->acct, g->module,
					    gpud_cmd_function_name(g), g->name_len, value);
	case EIA_CB_LAUNCH_KERNEL:
		return run_launch_kernel(x, (const void *)h);
	}
	*value = ((const struct eia_cb_fence *)h)->value;	/* FENCE */
	return 0;
}

/*
 * Wait for the buffer's queued work. A fault found only now (an operator's
 * kernel on CUDA) fails the last command that ran, when none failed before:
 * the client learns that the buffer did not complete, and its D2H data is
 * not to be trusted.
 */
static void finish(struct run *x, struct eia_cb_result *res, uint32_t *failed)
{
	int ret = x->eng->be->sync(x->eng, x->q);

	if (ret && *failed == EIA_WIRE_NONE_FAILED && x->cb->ncmds) {
		*failed = x->cb->ncmds - 1;
		res[*failed].status = ret;
	}
}

void gpud_exec(struct gpud_engine *eng, struct gpud_ctx *ctx, unsigned int queue,
	       struct gpud_mem_account *acct, const struct gpud_cmdbuf *cb,
	       struct gpud_resp *r)
{
	struct run x = { .eng = eng, .ctx = ctx, .acct = acct, .cb = cb, .r = r };
	struct eia_wire_submit_resp *sr = (void *)(r->head + sizeof(struct eia_wire_hdr));
	struct eia_cb_result *res = (void *)(sr + 1);
	const struct eia_cb_hdr *h = cb->first;
	uint32_t failed = EIA_WIRE_NONE_FAILED;
	int queued = gpud_ctx_queue(eng, ctx, queue, &x.q);

	r->niov = 1;
	r->payload_len = (uint32_t)(sizeof(*sr) + cb->ncmds * sizeof(*res));
	x.head_used = HEAD_FIXED + cb->ncmds * sizeof(*res);
	for (x.index = 0; x.index < cb->ncmds; x.index++, h = gpud_cmd_next(h)) {
		uint64_t value = 0;
		int status = -ECANCELED;

		if (queued && !x.index) {
			status = queued;
			failed = 0;
		} else if (failed == EIA_WIRE_NONE_FAILED) {
			/* Placed data is in device memory already: that copy was done. */
			status = atomic_load(&eng->stopping) && !cb->placed ? -ECANCELED :
									      run_cmd(&x, h, &value);
			if (status)
				failed = x.index;
		}
		res[x.index] = (struct eia_cb_result){ .status = status, .value = value };
	}
	if (!queued)
		finish(&x, res, &failed);
	r->device_lost = failed != EIA_WIRE_NONE_FAILED &&
			 res[failed].status == -ENOTRECOVERABLE;
	sr->ncmds = cb->ncmds;
	sr->failed = failed;
	/* memory_used is filled in as the response goes out (conn.c). */
	r->iov[0].iov_base = r->head;
	r->iov[0].iov_len = x.head_used;
}
