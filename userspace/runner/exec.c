// SPDX-License-Identifier: MIT
/*
 * Running a prepared model through libeia. A session owns two device
 * allocations, the constants (uploaded once, at creation) and the arena,
 * and one stream. An inference queues the input copies, one launch per
 * step and the output copies on that stream and waits once: libeia packs
 * them into as few command buffers as fit.
 *
 * A failure on the device is reported by libeia with the number of the
 * stream call that failed; the session remembers which step each call of
 * the current inference was, so the error names the node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct eia_session {
	struct eia_model *m;
	eiaDevice_t dev;
	eiaStream_t stream;
	eiaDeviceptr weights;
	eiaDeviceptr arena;
	unsigned long long calls;	/* calls queued on @stream so far */
	int *call_step;			/* per call of a run: step, or -1 */
	int ncalls_max;
	eiaTensor *io;			/* scratch for one launch's tensors */
};

static int rt_dev_fail(struct eia_runner_error *err, const char *what,
		       eiaError_t e)
{
	eiaFailure f;

	eiaGetLastFailure(&f);
	return rt_fail(err, EREMOTEIO, "%s: %s (%s)", what,
		       f.error == e ? f.message : eiaGetErrorString(e),
		       eiaGetErrorName(e));
}

static eiaDeviceptr rt_region_ptr(const struct eia_session *s, const struct rt_tensor *t)
{
	return t->region == RT_REGION_WEIGHTS ? s->weights : s->arena;
}

static int rt_upload_constants(struct eia_session *s, struct eia_runner_error *err)
{
	const struct eia_model *m = s->m;
	eiaError_t e;
	int i;

	for (i = 0; i < m->nt; i++) {
		const struct rt_tensor *t = &m->t[i];

		if (t->region != RT_REGION_WEIGHTS || !t->nbytes)
			continue;
		e = eiaMemcpyHtoDAsync(s->stream, s->weights, t->offset, t->data, t->nbytes);
		s->calls++;
		if (e)
			return rt_dev_fail(err, "uploading constants", e);
	}
	e = eiaStreamSynchronize(s->stream);
	if (e)
		return rt_dev_fail(err, "uploading constants", e);
	return 0;
}

int eia_session_create(struct eia_model *m, eiaDevice_t dev,
		       struct eia_session **session, struct eia_runner_error *err)
{
	struct eia_session *s;
	eiaError_t e;
	int ret;

	*session = NULL;
	if (!m->prepared)
		return rt_fail(err, EINVAL, "the model is not prepared");
	s = calloc(1, sizeof(*s));
	if (!s)
		return rt_fail(err, ENOMEM, "out of memory");
	s->m = m;
	s->dev = dev;
	s->ncalls_max = m->ninputs + m->nsteps + m->noutputs;
	s->call_step = calloc((size_t)s->ncalls_max + 1, sizeof(int));
	s->io = calloc(2 * EIA_OP_MAX_IO, sizeof(*s->io));
	if (!s->call_step || !s->io) {
		eia_session_destroy(s);
		return rt_fail(err, ENOMEM, "out of memory");
	}
	e = eiaStreamCreate(&s->stream, dev, EIA_STREAM_DEFAULT);
	if (e == EIA_ERROR_NOT_SUPPORTED)
		e = eiaStreamCreate(&s->stream, dev, EIA_STREAM_SYNC);
	/* Empty tensors still need a valid handle to point into. */
	if (!e && m->nconstants)
		e = eiaMemAlloc(dev, &s->weights, m->weights_bytes ? m->weights_bytes : RT_ALIGN);
	if (!e && m->nintervals)
		e = eiaMemAlloc(dev, &s->arena, m->arena_bytes ? m->arena_bytes : RT_ALIGN);
	if (e) {
		ret = rt_dev_fail(err, "allocating the model's device memory", e);
		eia_session_destroy(s);
		return ret;
	}
	ret = rt_upload_constants(s, err);
	if (ret) {
		eia_session_destroy(s);
		return ret;
	}
	*session = s;
	return 0;
}

void eia_session_destroy(struct eia_session *s)
{
	if (!s)
		return;
	if (s->stream)
		eiaStreamDestroy(s->stream);
	if (s->weights)
		eiaMemFree(s->dev, s->weights);
	if (s->arena)
		eiaMemFree(s->dev, s->arena);
	free(s->call_step);
	free(s->io);
	free(s);
}

static const struct eia_host_tensor *rt_find_given(const struct rt_tensor *t,
						   const struct eia_host_tensor *in,
						   int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (in[i].name && !strcmp(in[i].name, t->name))
			return &in[i];
	return NULL;
}

static int rt_check_inputs(const struct eia_model *m, const struct eia_host_tensor *in,
			   int n, struct eia_runner_error *err)
{
	int i, j, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < m->ninputs; k++)
			if (in[i].name && !strcmp(in[i].name, m->t[m->inputs[k]].name))
				break;
		if (k == m->ninputs)
			return rt_fail(err, EINVAL, "the model has no input '%s'",
				       in[i].name ? in[i].name : "(null)");
		if (m->t[m->inputs[k]].kind == RT_CONST)
			return rt_fail(err, EINVAL, "input '%s' was bound to a constant",
				       in[i].name);
		for (j = 0; j < i; j++)
			if (!strcmp(in[i].name, in[j].name))
				return rt_fail(err, EINVAL, "input '%s' given twice", in[i].name);
	}
	for (k = 0; k < m->ninputs; k++) {
		const struct rt_tensor *t = &m->t[m->inputs[k]];
		const struct eia_host_tensor *h = rt_find_given(t, in, n);
		struct rt_shape hs;
		char want[160], got[160];

		if (!t->needed || t->kind == RT_CONST)
			continue;
		if (!h)
			return rt_fail(err, EINVAL, "input '%s' is missing", t->name);
		hs.ndim = h->ndim;
		if (h->ndim < 0 || h->ndim > EIA_MAX_DIMS)
			return rt_fail(err, EINVAL, "input '%s': rank %d", t->name, h->ndim);
		memcpy(hs.d, h->dims, sizeof(hs.d));
		if (h->dtype != t->dtype || !rt_shape_eq(&hs, &t->shape))
			return rt_fail(err, EINVAL,
				       "input '%s' is %s %s; the model was prepared for %s %s",
				       t->name, eia_dtype_name(h->dtype),
				       rt_shape_str(&hs, got, sizeof(got)),
				       eia_dtype_name(t->dtype),
				       rt_shape_str(&t->shape, want, sizeof(want)));
		if (h->size != rt_bytes_of(t) || (h->size && !h->data))
			return rt_fail(err, EINVAL, "input '%s': %zu bytes of data, not %llu",
				       t->name, h->size, (unsigned long long)rt_bytes_of(t));
	}
	return 0;
}

static void rt_tensor_desc(const struct eia_session *s, int idx, eiaTensor *d)
{
	const struct eia_model *m = s->m;
	const struct rt_tensor *t = &m->t[idx], *r = &m->t[rt_root(m, idx)];
	int i;

	memset(d, 0, sizeof(*d));
	d->ptr = rt_region_ptr(s, r);
	d->offset = r->offset;
	d->dtype = t->dtype;
	d->ndim = t->shape.ndim;
	for (i = 0; i < t->shape.ndim; i++)
		d->dims[i] = t->shape.d[i];
}

/* Queue one call and remember what it was; @step is -1 for copies. */
static void rt_note_call(struct eia_session *s, unsigned long long base, int step)
{
	unsigned long long k = ++s->calls - base - 1;

	if (k < (unsigned long long)s->ncalls_max)
		s->call_step[k] = step;
}

static int rt_run_failed(struct eia_session *s, unsigned long long base, eiaError_t e,
			 struct eia_runner_error *err)
{
	const struct eia_model *m = s->m;
	eiaFailure f;
	int step = -1;

	eiaGetLastFailure(&f);
	if (f.error == e && f.call > base && f.call - base - 1 < (unsigned long long)s->ncalls_max)
		step = s->call_step[f.call - base - 1];
	if (step >= 0) {
		const struct rt_node *nd = &m->n[m->steps[step].node];

		return rt_fail(err, EREMOTEIO, "node '%s' (%s) failed on the device: %s",
			       nd->label, nd->op, f.message);
	}
	return rt_dev_fail(err, "inference", e);
}

static int rt_queue_inputs(struct eia_session *s, unsigned long long base,
			   const struct eia_host_tensor *in, int n)
{
	const struct eia_model *m = s->m;
	int k;

	for (k = 0; k < m->ninputs; k++) {
		const struct rt_tensor *t = &m->t[m->inputs[k]];
		const struct eia_host_tensor *h;
		eiaError_t e;

		if (!t->needed || t->kind != RT_INPUT || !rt_bytes_of(t))
			continue;
		h = rt_find_given(t, in, n);
		e = eiaMemcpyHtoDAsync(s->stream, s->arena, t->offset, h->data, h->size);
		rt_note_call(s, base, -1);
		if (e)
			return e;
	}
	return 0;
}

static int rt_queue_steps(struct eia_session *s, unsigned long long base)
{
	const struct eia_model *m = s->m;
	int i, j;

	for (i = 0; i < m->nsteps; i++) {
		const struct rt_step *st = &m->steps[i];
		eiaError_t e;

		for (j = 0; j < st->nin; j++)
			rt_tensor_desc(s, st->in[j], &s->io[j]);
		for (j = 0; j < st->nout; j++)
			rt_tensor_desc(s, st->out[j], &s->io[EIA_OP_MAX_IO + j]);
		e = eiaLaunchOp(s->stream, st->op, s->io, st->nin, &s->io[EIA_OP_MAX_IO],
				st->nout, st->attr, st->attr_size);
		rt_note_call(s, base, i);
		if (e)
			return e;
	}
	return 0;
}

static int rt_queue_outputs(struct eia_session *s, unsigned long long base,
			    struct eia_host_tensor *out, struct eia_runner_error *err)
{
	const struct eia_model *m = s->m;
	int k, i;

	for (k = 0; k < m->noutputs; k++) {
		const struct rt_tensor *t = &m->t[m->outputs[k]];
		const struct rt_tensor *r = &m->t[rt_root(m, m->outputs[k])];
		struct eia_host_tensor *h = &out[k];
		eiaError_t e;

		h->name = rt_strdup(t->name);
		h->size = rt_bytes_of(t);
		h->data = malloc(h->size + 1);
		if (!h->name || !h->data)
			return rt_fail(err, ENOMEM, "out of memory");
		h->dtype = t->dtype;
		h->ndim = t->shape.ndim;
		for (i = 0; i < t->shape.ndim; i++)
			h->dims[i] = t->shape.d[i];
		if (!h->size)
			continue;
		if (r->kind == RT_CONST) {
			memcpy(h->data, r->data, h->size);
			continue;
		}
		e = eiaMemcpyDtoHAsync(s->stream, h->data, rt_region_ptr(s, r), r->offset,
				       h->size);
		rt_note_call(s, base, -1);
		if (e)
			return rt_dev_fail(err, "reading the outputs", e);
	}
	return 0;
}

int eia_session_run(struct eia_session *s, const struct eia_host_tensor *inputs,
		    int ninputs, struct eia_host_tensor *outputs, int noutputs,
		    struct eia_runner_error *err)
{
	const struct eia_model *m = s->m;
	unsigned long long base = s->calls;
	eiaError_t e;
	int k, ret;

	if (ninputs < 0 || (ninputs && !inputs) || noutputs < m->noutputs || !outputs)
		return rt_fail(err, EINVAL, "%d outputs needed", m->noutputs);
	ret = rt_check_inputs(m, inputs, ninputs, err);
	if (ret)
		return ret;
	memset(outputs, 0, (size_t)m->noutputs * sizeof(*outputs));
	e = rt_queue_inputs(s, base, inputs, ninputs);
	if (!e)
		e = rt_queue_steps(s, base);
	if (e) {
		/* Whatever was queued must finish before the caller's memory goes. */
		eiaStreamSynchronize(s->stream);
		return rt_dev_fail(err, "queueing the inference", e);
	}
	ret = rt_queue_outputs(s, base, outputs, err);
	e = eiaStreamSynchronize(s->stream);
	if (!ret && e)
		ret = rt_run_failed(s, base, e, err);
	if (ret)
		for (k = 0; k < m->noutputs; k++)
			eia_host_tensor_free(&outputs[k]);
	return ret;
}
