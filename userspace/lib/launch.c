// SPDX-License-Identifier: MIT
/*
 * Operator launches: one EIA_CB_LAUNCH_OP command with its tensors and
 * attributes. libeia checks only what no launch may carry; gpud checks the
 * operator's own rules when it runs it.
 */
#include <errno.h>
#include <string.h>

#include "libeia.h"

static eiaError_t check_tensors(const char *fn, const char *what,
				const eiaTensor *t, int n)
{
	int i;

	if (n < 0 || n > EIA_OP_MAX_IO)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"%d %s: at most %d", n, what, EIA_OP_MAX_IO);
	if (n && !t)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"%d %s but the array is NULL", n, what);
	for (i = 0; i < n; i++)
		if (t[i].ndim < 0 || t[i].ndim > EIA_MAX_DIMS)
			return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
					"%s[%d] has %d dimensions: at most %d", what, i,
					t[i].ndim, EIA_MAX_DIMS);
	return EIA_SUCCESS;
}

static void put_tensor(struct eia_cb_tensor *dst, const eiaTensor *t)
{
	int d;

	dst->handle = t->ptr;
	dst->offset = t->offset;
	dst->dtype = (uint32_t)t->dtype;
	dst->ndim = (uint32_t)t->ndim;
	/* The command was zeroed: dimensions past ndim stay 0. */
	for (d = 0; d < t->ndim; d++)
		dst->dims[d] = t->dims[d];
}

eiaError_t eiaLaunchOp(eiaStream_t stream, int op, const eiaTensor *inputs,
		       int ninputs, const eiaTensor *outputs, int noutputs,
		       const void *attr, size_t attrSize)
{
	static const char fn[] = "eiaLaunchOp";
	struct eia_cb_launch_op *l;
	struct eia_cb_tensor *t;
	uint32_t size;
	eiaError_t err;
	int i;

	err = check_tensors(fn, "inputs", inputs, ninputs);
	if (!err)
		err = check_tensors(fn, "outputs", outputs, noutputs);
	if (err)
		return err;
	if (op <= 0)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "operator code %d", op);
	if (attrSize > EIA_ATTR_MAX_BYTES || (attrSize && !attr))
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"attributes of %zu bytes%s: at most %d, not NULL", attrSize,
				attr ? "" : " at NULL", EIA_ATTR_MAX_BYTES);
	size = (uint32_t)(sizeof(*l) + (size_t)(ninputs + noutputs) * sizeof(*t) +
			  ((attrSize + EIA_CB_ALIGN - 1) & ~(size_t)(EIA_CB_ALIGN - 1)));
	err = eia_stream_begin(stream, fn);
	if (err)
		return err;
	err = eia_stream_add(stream, fn, EIA_CB_LAUNCH_OP, size, 0, (uint32_t)op, NULL,
			     (void **)&l);
	if (err)
		return eia_stream_end(stream, err);
	l->op = (uint32_t)op;
	l->ninputs = (uint16_t)ninputs;
	l->noutputs = (uint16_t)noutputs;
	l->attr_size = (uint32_t)attrSize;
	t = (struct eia_cb_tensor *)(l + 1);
	for (i = 0; i < ninputs; i++)
		put_tensor(t++, &inputs[i]);
	for (i = 0; i < noutputs; i++)
		put_tensor(t++, &outputs[i]);
	if (attrSize)
		memcpy(t, attr, attrSize);
	return eia_stream_end(stream, EIA_SUCCESS);
}
