// SPDX-License-Identifier: MIT
#include "cmdbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "eia_ops.h"
#include "eia_wire.h"

/* A light buffer moves at most this much data and runs no operator. */
#define LIGHT_BYTES	(64u << 10)

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "command buffers are used in place: little-endian hosts only");
_Static_assert(sizeof(struct eia_cb_hdr) == 8 && sizeof(struct eia_cb_copy) == 48 &&
	       sizeof(struct eia_cb_memset) == 40 && sizeof(struct eia_cb_tensor) == 88 &&
	       sizeof(struct eia_cb_launch_op) == 24 && sizeof(struct eia_cb_result) == 16 &&
	       sizeof(struct eia_cb_module_load) == 24 &&
	       sizeof(struct eia_cb_module_get_function) == 24 &&
	       sizeof(struct eia_cb_kernel_ptr) == 24 &&
	       sizeof(struct eia_cb_launch_kernel) == 56,
	       "the command buffer ABI");

static const char *const names[] = {
	[EIA_CB_MEM_ALLOC] = "MEM_ALLOC",
	[EIA_CB_MEM_FREE] = "MEM_FREE",
	[EIA_CB_COPY_H2D] = "COPY_H2D",
	[EIA_CB_COPY_D2H] = "COPY_D2H",
	[EIA_CB_COPY_D2D] = "COPY_D2D",
	[EIA_CB_MEMSET] = "MEMSET",
	[EIA_CB_LAUNCH_OP] = "LAUNCH_OP",
	[EIA_CB_FENCE] = "FENCE",
	[EIA_CB_MODULE_LOAD] = "MODULE_LOAD",
	[EIA_CB_MODULE_UNLOAD] = "MODULE_UNLOAD",
	[EIA_CB_MODULE_GET_FUNCTION] = "MODULE_GET_FUNCTION",
	[EIA_CB_LAUNCH_KERNEL] = "LAUNCH_KERNEL",
};

const char *gpud_cmd_name(uint16_t op)
{
	return op < sizeof(names) / sizeof(names[0]) && names[op] ? names[op] : "?";
}

static uint64_t align8(uint64_t n)
{
	return (n + EIA_CB_ALIGN - 1) & ~(uint64_t)(EIA_CB_ALIGN - 1);
}

/* Sums of client-chosen sizes: saturate rather than wrap. */
static void add_sat(uint64_t *sum, uint64_t n)
{
	if (__builtin_add_overflow(*sum, n, sum))
		*sum = UINT64_MAX;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* What the walk over the buffer carries from one command to the next. */
struct walk {
	struct gpud_cmdbuf *cb;
	uint32_t index;
	uint64_t cmd_bytes;	/* commands without H2D data */
	uint64_t light_bytes;
	uint64_t d2h_pending;	/* D2H bytes since the last write */
	uint32_t nd2h_pending;
	char *msg;
	size_t msglen;
};

static int __attribute__((format(printf, 2, 3)))
bad(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg, w->msglen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A command that writes or frees device memory. */
static void wrote(struct walk *w)
{
	w->cb->last_write = w->index;
	w->cb->d2h_copied += w->d2h_pending;
	w->d2h_pending = 0;
	w->nd2h_pending = 0;
}

static int check_tensor(struct walk *w, const struct eia_cb_tensor *t, unsigned int k)
{
	if (t->ndim > EIA_CB_MAX_DIMS)
		return bad(w, "command %u (LAUNCH_OP): tensor %u has %u dims, at most %u",
			   w->index, k, t->ndim, EIA_CB_MAX_DIMS);
	if (!all_zero(&t->dims[t->ndim], (EIA_CB_MAX_DIMS - t->ndim) * sizeof(t->dims[0])))
		return bad(w, "command %u (LAUNCH_OP): tensor %u has dims past ndim %u",
			   w->index, k, t->ndim);
	return 0;
}

/* LAUNCH_OP's size follows from its counts: check them before trusting it. */
static int check_launch(struct walk *w, const struct eia_cb_launch_op *l, size_t avail)
{
	const struct eia_cb_tensor *t = gpud_cmd_tensors(l);
	unsigned int k, n;
	uint64_t size;
	int ret;

	if (avail < sizeof(*l))
		return bad(w, "command %u (LAUNCH_OP) is truncated", w->index);
	if (l->pad)
		return bad(w, "command %u (LAUNCH_OP): pad must be 0", w->index);
	if (l->ninputs > EIA_OP_MAX_IO || l->noutputs > EIA_OP_MAX_IO)
		return bad(w, "command %u (LAUNCH_OP): %u inputs and %u outputs, at most %u each",
			   w->index, l->ninputs, l->noutputs, EIA_OP_MAX_IO);
	if (l->attr_size > GPUD_CB_MAX_ATTR)
		return bad(w, "command %u (LAUNCH_OP): attr_size %u over %u", w->index,
			   l->attr_size, GPUD_CB_MAX_ATTR);
	n = l->ninputs + l->noutputs;
	size = sizeof(*l) + (uint64_t)n * sizeof(*t) + align8(l->attr_size);
	if (l->hdr.size != size)
		return bad(w, "command %u (LAUNCH_OP): size is %u, expected %llu for %u tensors and %u attribute bytes",
			   w->index, l->hdr.size, (unsigned long long)size, n, l->attr_size);
	if (size > avail)
		return bad(w, "command %u (LAUNCH_OP) runs past the end of the buffer", w->index);
	for (k = 0; k < n; k++) {
		ret = check_tensor(w, &t[k], k);
		if (ret)
			return ret;
	}
	if (!all_zero((const unsigned char *)gpud_cmd_attr(l) + l->attr_size,
		      align8(l->attr_size) - l->attr_size))
		return bad(w, "command %u (LAUNCH_OP): attribute padding must be 0", w->index);
	w->cb->light = false;
	wrote(w);
	return 0;
}

/* A MODULE_LOAD's image: within the buffer, padded with zeros. Sets *@data. */
static int check_module_load(struct walk *w, const struct eia_cb_module_load *ml,
			     size_t avail, uint64_t *data)
{
	uint64_t room = avail - sizeof(*ml);

	if (ml->image)
		return bad(w, "command %u (MODULE_LOAD): image must be 0 on the wire", w->index);
	if (!ml->bytes)
		return bad(w, "command %u (MODULE_LOAD): an empty image", w->index);
	if (ml->bytes > room || align8(ml->bytes) > room)
		return bad(w, "command %u (MODULE_LOAD): %llu bytes of image, only %llu left in the buffer",
			   w->index, (unsigned long long)ml->bytes, (unsigned long long)room);
	if (!all_zero((const unsigned char *)gpud_cmd_module_image(ml) + ml->bytes,
		      align8(ml->bytes) - ml->bytes))
		return bad(w, "command %u (MODULE_LOAD): image padding must be 0", w->index);
	*data = align8(ml->bytes);
	w->cb->light = false;
	return 0;
}

static int check_get_function(struct walk *w, const struct eia_cb_module_get_function *g,
			      size_t avail)
{
	const char *name = gpud_cmd_function_name(g);
	uint64_t size;

	if (avail < sizeof(*g))
		return bad(w, "command %u (MODULE_GET_FUNCTION) is truncated", w->index);
	if (g->pad)
		return bad(w, "command %u (MODULE_GET_FUNCTION): pad must be 0", w->index);
	if (!g->name_len || g->name_len > EIA_CB_KERNEL_NAME_MAX)
		return bad(w, "command %u (MODULE_GET_FUNCTION): name of %u bytes, 1..%u allowed",
			   w->index, g->name_len, EIA_CB_KERNEL_NAME_MAX);
	size = sizeof(*g) + align8(g->name_len);
	if (g->hdr.size != size)
		return bad(w, "command %u (MODULE_GET_FUNCTION): size is %u, expected %llu for a name of %u bytes",
			   w->index, g->hdr.size, (unsigned long long)size, g->name_len);
	if (size > avail)
		return bad(w, "command %u (MODULE_GET_FUNCTION) runs past the end of the buffer",
			   w->index);
	if (memchr(name, 0, g->name_len))
		return bad(w, "command %u (MODULE_GET_FUNCTION): the name holds a NUL", w->index);
	if (!all_zero(name + g->name_len, align8(g->name_len) - g->name_len))
		return bad(w, "command %u (MODULE_GET_FUNCTION): name padding must be 0", w->index);
	w->cb->light = false;
	return 0;
}

static int check_launch_kernel(struct walk *w, const struct eia_cb_launch_kernel *k,
			       size_t avail)
{
	const struct eia_cb_kernel_ptr *p = gpud_cmd_kernel_ptrs(k);
	uint64_t size;
	unsigned int j;

	if (avail < sizeof(*k))
		return bad(w, "command %u (LAUNCH_KERNEL) is truncated", w->index);
	if (k->pad)
		return bad(w, "command %u (LAUNCH_KERNEL): pad must be 0", w->index);
	for (j = 0; j < 3; j++)
		if (!k->grid[j] || !k->block[j])
			return bad(w, "command %u (LAUNCH_KERNEL): grid %ux%ux%u, block %ux%ux%u: each at least 1",
				   w->index, k->grid[0], k->grid[1], k->grid[2], k->block[0],
				   k->block[1], k->block[2]);
	if (k->params_size > EIA_CB_KERNEL_PARAMS_MAX || k->nptrs > EIA_CB_KERNEL_PTRS_MAX)
		return bad(w, "command %u (LAUNCH_KERNEL): %u parameter bytes and %u pointers, at most %u and %u",
			   w->index, k->params_size, k->nptrs, EIA_CB_KERNEL_PARAMS_MAX,
			   EIA_CB_KERNEL_PTRS_MAX);
	size = sizeof(*k) + (uint64_t)k->nptrs * sizeof(*p) + align8(k->params_size);
	if (k->hdr.size != size)
		return bad(w, "command %u (LAUNCH_KERNEL): size is %u, expected %llu for %u pointers and %u parameter bytes",
			   w->index, k->hdr.size, (unsigned long long)size, k->nptrs,
			   k->params_size);
	if (size > avail)
		return bad(w, "command %u (LAUNCH_KERNEL) runs past the end of the buffer", w->index);
	for (j = 0; j < k->nptrs; j++)
		if (p[j].pad || p[j].param_offset % 8 || p[j].param_offset > k->params_size ||
		    k->params_size - p[j].param_offset < sizeof(uint64_t))
			return bad(w, "command %u (LAUNCH_KERNEL): pointer %u at parameter offset %u: must be 8-aligned, inside %u bytes of parameters, pad 0",
				   w->index, j, p[j].param_offset, k->params_size);
	if (!all_zero((const unsigned char *)gpud_cmd_kernel_params(k) + k->params_size,
		      align8(k->params_size) - k->params_size))
		return bad(w, "command %u (LAUNCH_KERNEL): parameter padding must be 0", w->index);
	w->cb->light = false;
	wrote(w);
	return 0;
}

/*
 * A COPY_H2D's data: within the buffer, padded with zeros. Sets *@data. Reads
 * nothing but the command when the data needs no padding.
 */
static int check_h2d(struct walk *w, const struct eia_cb_copy *c, size_t avail,
		     uint64_t *data)
{
	uint64_t room = avail - sizeof(*c);

	if (c->src || c->src_offset)
		return bad(w, "command %u (COPY_H2D): src and src_offset must be 0 on the wire",
			   w->index);
	if (c->bytes > room || align8(c->bytes) > room)
		return bad(w, "command %u (COPY_H2D): %llu bytes of data, only %llu left in the buffer",
			   w->index, (unsigned long long)c->bytes, (unsigned long long)room);
	if (align8(c->bytes) != c->bytes &&
	    !all_zero((const unsigned char *)gpud_cmd_h2d_data(c) + c->bytes,
		      align8(c->bytes) - c->bytes))
		return bad(w, "command %u (COPY_H2D): data padding must be 0", w->index);
	*data = align8(c->bytes);
	add_sat(&w->light_bytes, c->bytes);
	wrote(w);
	return 0;
}

static int check_d2h(struct walk *w, const struct eia_cb_copy *c)
{
	struct gpud_cmdbuf *cb = w->cb;

	if (c->dst || c->dst_offset)
		return bad(w, "command %u (COPY_D2H): dst and dst_offset must be 0 on the wire",
			   w->index);
	add_sat(&cb->d2h_bytes, c->bytes);
	add_sat(&w->d2h_pending, c->bytes);
	w->nd2h_pending++;
	add_sat(&w->light_bytes, c->bytes);
	return 0;
}

/* Everything after the common header checks; sets *@data to the H2D bytes following. */
static int check_cmd(struct walk *w, const struct eia_cb_hdr *h, size_t avail,
		     uint64_t *data)
{
	const struct eia_cb_copy *c = (const void *)h;

	switch (h->op) {
	case EIA_CB_MEM_ALLOC:
	case EIA_CB_MEM_FREE:
	case EIA_CB_MODULE_LOAD:
	case EIA_CB_MODULE_UNLOAD:
	case EIA_CB_MODULE_GET_FUNCTION:
		w->cb->barrier = true;
		break;
	}
	switch (h->op) {
	case EIA_CB_MEM_ALLOC:
		add_sat(&w->light_bytes, ((const struct eia_cb_mem_alloc *)h)->bytes);
		return 0;
	case EIA_CB_MEM_FREE:
		w->cb->light = false;
		wrote(w);
		return 0;
	case EIA_CB_COPY_H2D:
		return check_h2d(w, c, avail, data);
	case EIA_CB_COPY_D2H:
		return check_d2h(w, c);
	case EIA_CB_COPY_D2D:
		add_sat(&w->light_bytes, c->bytes);
		wrote(w);
		return 0;
	case EIA_CB_MEMSET:
		if (((const struct eia_cb_memset *)h)->pad)
			return bad(w, "command %u (MEMSET): pad must be 0", w->index);
		add_sat(&w->light_bytes, ((const struct eia_cb_memset *)h)->bytes);
		wrote(w);
		return 0;
	case EIA_CB_LAUNCH_OP:
		return check_launch(w, (const void *)h, avail);
	case EIA_CB_MODULE_LOAD:
		return check_module_load(w, (const void *)h, avail, data);
	case EIA_CB_MODULE_UNLOAD:
		w->cb->light = false;
		wrote(w);
		return 0;
	case EIA_CB_MODULE_GET_FUNCTION:
		return check_get_function(w, (const void *)h, avail);
	case EIA_CB_LAUNCH_KERNEL:
		return check_launch_kernel(w, (const void *)h, avail);
	}
	return 0;	/* FENCE */
}

static bool known_op(uint16_t op)
{
	return eia_cb_size(op) != 0;
}

static int check_hdr(struct walk *w, const struct eia_cb_hdr *h, size_t avail)
{
	const char *name = gpud_cmd_name(h->op);

	if (!known_op(h->op))
		return bad(w, "command %u: unknown op %u", w->index, h->op);
	if (h->flags)
		return bad(w, "command %u (%s): flags must be 0", w->index, name);
	if (h->size % EIA_CB_ALIGN)
		return bad(w, "command %u (%s): size %u is not a multiple of %u", w->index,
			   name, h->size, EIA_CB_ALIGN);
	if (eia_cb_variable(h->op))
		return 0;	/* its size depends on its fields */
	if (h->size != eia_cb_size(h->op))
		return bad(w, "command %u (%s): size is %u, expected %u", w->index, name,
			   h->size, eia_cb_size(h->op));
	if (h->size > avail)
		return bad(w, "command %u (%s) runs past the end of the buffer", w->index,
			   name);
	return 0;
}

static void walk_start(struct walk *w, struct gpud_cmdbuf *cb, const void *cmds,
		       uint32_t ncmds, char *msg, size_t msglen)
{
	*w = (struct walk){ .cb = cb, .msg = msg, .msglen = msglen };
	memset(cb, 0, sizeof(*cb));
	cb->first = cmds;
	cb->ncmds = ncmds;
	cb->last_write = -1;
	cb->light = true;
}

/* What follows from the whole buffer, once every command passed. */
static int walk_end(struct walk *w, uint32_t max_resp)
{
	struct gpud_cmdbuf *cb = w->cb;
	uint64_t resp;

	if (w->light_bytes > LIGHT_BYTES)
		cb->light = false;
	cb->nd2h_direct = w->nd2h_pending;

	resp = sizeof(struct eia_wire_submit_resp) +
	       (uint64_t)cb->ncmds * sizeof(struct eia_cb_result);
	if (cb->d2h_bytes > max_resp || resp + cb->d2h_bytes > max_resp) {
		snprintf(w->msg, w->msglen,
			 "COPY_D2H data of %llu bytes: the response would exceed %u bytes",
			 (unsigned long long)cb->d2h_bytes, max_resp);
		return -EMSGSIZE;
	}
	cb->resp_len = (uint32_t)(resp + cb->d2h_bytes);
	return 0;
}

int gpud_cmdbuf_check(struct gpud_cmdbuf *cb, const void *cmds, size_t len,
		      uint32_t ncmds, uint32_t max_resp, char *msg, size_t msglen)
{
	const unsigned char *p = cmds, *end = p + len;
	struct walk w;
	int ret;

	walk_start(&w, cb, cmds, ncmds, msg, msglen);
	for (w.index = 0; w.index < ncmds; w.index++) {
		const struct eia_cb_hdr *h = (const void *)p;
		size_t avail = (size_t)(end - p);
		uint64_t data = 0;

		if (avail < sizeof(*h))
			return bad(&w, "the buffer ends after %u of %u commands", w.index, ncmds);
		ret = check_hdr(&w, h, avail);
		if (!ret)
			ret = check_cmd(&w, h, avail, &data);
		if (ret)
			return ret;
		w.cmd_bytes += h->size;
		if (w.cmd_bytes > EIA_CB_MAX_BYTES)
			return bad(&w, "commands exceed %u bytes (data not counted)",
				   EIA_CB_MAX_BYTES);
		p += h->size + data;
	}
	if (p != end)
		return bad(&w, "%zu bytes after the last of %u commands", (size_t)(end - p), ncmds);
	return walk_end(&w, max_resp);
}

int gpud_cmdbuf_check_placed(struct gpud_cmdbuf *cb, const void *cmd, size_t len,
			     uint64_t data_len, uint32_t max_resp, char *msg, size_t msglen)
{
	const struct eia_cb_copy *c = cmd;
	struct walk w;
	uint64_t data = 0;
	int ret;

	if (len != sizeof(*c) || c->hdr.op != EIA_CB_COPY_H2D || c->bytes != data_len ||
	    data_len % EIA_CB_ALIGN || data_len > SIZE_MAX - len)
		return -EAGAIN;
	walk_start(&w, cb, cmd, 1, msg, msglen);
	ret = check_hdr(&w, &c->hdr, len);
	/* As the buffer will be once its data arrived: unpadded, none of it is read. */
	if (!ret)
		ret = check_h2d(&w, c, len + (size_t)data_len, &data);
	if (!ret)
		ret = walk_end(&w, max_resp);
	if (!ret)
		cb->placed = true;
	return ret;
}

const struct eia_cb_hdr *gpud_cmd_next(const struct eia_cb_hdr *h)
{
	const unsigned char *p = (const unsigned char *)h + h->size;

	if (h->op == EIA_CB_COPY_H2D)
		p += align8(((const struct eia_cb_copy *)h)->bytes);
	else if (h->op == EIA_CB_MODULE_LOAD)
		p += align8(((const struct eia_cb_module_load *)h)->bytes);
	return (const void *)p;
}
