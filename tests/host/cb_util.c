// SPDX-License-Identifier: MIT
#include "cb_util.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpud_util.h"

void cb_init(struct cb *b)
{
	memset(b, 0, sizeof(*b));
}

void cb_reset(struct cb *b)
{
	b->len = 0;
	b->ncmds = 0;
}

void cb_release(struct cb *b)
{
	free(b->buf);
	cb_init(b);
}

void *cb_put(struct cb *b, const void *p, size_t n)
{
	void *at;

	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		unsigned char *nb = realloc(b->buf, cap);

		if (!nb)
			abort();
		b->buf = nb;
		b->cap = cap;
	}
	at = b->buf + b->len;
	if (p)
		memcpy(at, p, n);
	else
		memset(at, 0, n);
	b->len += n;
	return at;
}

void *cb_at(struct cb *b, size_t off)
{
	return b->buf + off;
}

static size_t put_cmd(struct cb *b, const void *cmd, size_t n)
{
	size_t off = b->len;

	cb_put(b, cmd, n);
	b->ncmds++;
	return off;
}

size_t cb_alloc(struct cb *b, uint64_t bytes)
{
	struct eia_cb_mem_alloc c = {
		.hdr = { EIA_CB_MEM_ALLOC, 0, sizeof(c) }, .bytes = bytes,
	};

	return put_cmd(b, &c, sizeof(c));
}

size_t cb_free(struct cb *b, uint64_t handle)
{
	struct eia_cb_mem_free c = {
		.hdr = { EIA_CB_MEM_FREE, 0, sizeof(c) }, .handle = handle,
	};

	return put_cmd(b, &c, sizeof(c));
}

static void put_padded(struct cb *b, const void *data, uint64_t n)
{
	cb_put(b, data, (size_t)n);
	cb_put(b, NULL, (size_t)((8 - n % 8) % 8));
}

static size_t put_copy(struct cb *b, uint16_t op, uint64_t dst, uint64_t doff,
		       uint64_t src, uint64_t soff, uint64_t n)
{
	struct eia_cb_copy c = {
		.hdr = { op, 0, sizeof(c) },
		.dst = dst, .dst_offset = doff, .src = src, .src_offset = soff, .bytes = n,
	};

	return put_cmd(b, &c, sizeof(c));
}

size_t cb_h2d(struct cb *b, uint64_t dst, uint64_t off, const void *data, uint64_t n)
{
	size_t at = put_copy(b, EIA_CB_COPY_H2D, dst, off, 0, 0, n);

	put_padded(b, data, n);
	return at;
}

size_t cb_d2h(struct cb *b, uint64_t src, uint64_t off, uint64_t n)
{
	return put_copy(b, EIA_CB_COPY_D2H, 0, 0, src, off, n);
}

size_t cb_d2d(struct cb *b, uint64_t dst, uint64_t doff, uint64_t src, uint64_t soff,
	      uint64_t n)
{
	return put_copy(b, EIA_CB_COPY_D2D, dst, doff, src, soff, n);
}

size_t cb_memset(struct cb *b, uint64_t dst, uint64_t off, uint64_t n, uint32_t value)
{
	struct eia_cb_memset c = {
		.hdr = { EIA_CB_MEMSET, 0, sizeof(c) },
		.dst = dst, .dst_offset = off, .bytes = n, .value = value,
	};

	return put_cmd(b, &c, sizeof(c));
}

size_t cb_fence(struct cb *b, uint64_t value)
{
	struct eia_cb_fence c = { .hdr = { EIA_CB_FENCE, 0, sizeof(c) }, .value = value };

	return put_cmd(b, &c, sizeof(c));
}

size_t cb_module_load(struct cb *b, const void *image, uint64_t n)
{
	struct eia_cb_module_load c = {
		.hdr = { EIA_CB_MODULE_LOAD, 0, sizeof(c) }, .bytes = n,
	};
	size_t at = put_cmd(b, &c, sizeof(c));

	put_padded(b, image, n);
	return at;
}

size_t cb_module_unload(struct cb *b, uint64_t module)
{
	struct eia_cb_module_unload c = {
		.hdr = { EIA_CB_MODULE_UNLOAD, 0, sizeof(c) }, .module = module,
	};

	return put_cmd(b, &c, sizeof(c));
}

size_t cb_get_function(struct cb *b, uint64_t module, const char *name, uint32_t len)
{
	struct eia_cb_module_get_function c = {
		.hdr = { EIA_CB_MODULE_GET_FUNCTION, 0,
			 (uint32_t)(sizeof(c) + len + (8 - len % 8) % 8) },
		.module = module, .name_len = len,
	};
	size_t at = put_cmd(b, &c, sizeof(c));

	put_padded(b, name, len);
	return at;
}

size_t cb_launch_kernel(struct cb *b, uint64_t fn, const struct eia_cb_kernel_ptr *p,
			uint32_t nptrs, const void *params, uint32_t params_size)
{
	struct eia_cb_launch_kernel c = {
		.hdr = { EIA_CB_LAUNCH_KERNEL, 0,
			 (uint32_t)(sizeof(c) + nptrs * sizeof(*p) + params_size +
				    (8 - params_size % 8) % 8) },
		.function = fn, .grid = { 1, 1, 1 }, .block = { 32, 1, 1 },
		.params_size = params_size, .nptrs = nptrs,
	};
	size_t at = put_cmd(b, &c, sizeof(c));

	cb_put(b, p, nptrs * sizeof(*p));
	put_padded(b, params, params_size);
	return at;
}

size_t cb_launch(struct cb *b, uint32_t op, const struct eia_cb_tensor *t, uint16_t nin,
		 uint16_t nout, const void *attr, uint32_t attr_size)
{
	size_t pad = (8 - attr_size % 8) % 8;
	struct eia_cb_launch_op c = {
		.hdr = { EIA_CB_LAUNCH_OP, 0,
			 (uint32_t)(sizeof(c) + (nin + nout) * sizeof(*t) + attr_size + pad) },
		.op = op, .ninputs = nin, .noutputs = nout, .attr_size = attr_size,
	};
	size_t at = put_cmd(b, &c, sizeof(c));

	cb_put(b, t, (nin + nout) * sizeof(*t));
	cb_put(b, attr, attr_size);
	cb_put(b, NULL, pad);
	return at;
}

struct eia_cb_tensor tensor(uint64_t handle, uint64_t offset, uint32_t dtype,
			    uint32_t ndim, const int64_t *dims)
{
	struct eia_cb_tensor t = {
		.handle = handle, .offset = offset, .dtype = dtype, .ndim = ndim,
	};

	memcpy(t.dims, dims, ndim * sizeof(t.dims[0]));
	return t;
}

int recv_msg(int fd, struct msg *m)
{
	struct eia_wire_hdr raw;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = eia_read_full(fd, &raw, sizeof(raw));
	if (ret)
		return ret;
	ret = eia_wire_hdr_unpack(&raw, &m->hdr);
	if (ret)
		return ret;
	m->payload = malloc(m->hdr.payload_len + 1);
	if (!m->payload)
		return -ENOMEM;
	m->payload[m->hdr.payload_len] = 0;
	ret = eia_read_full(fd, m->payload, m->hdr.payload_len);
	if (ret)
		msg_release(m);
	return ret;
}

void msg_release(struct msg *m)
{
	free(m->payload);
	m->payload = NULL;
}

int send_submit_raw(int fd, uint64_t ctx, uint32_t ncmds, uint16_t queue, uint16_t flags,
		    const void *cmds, size_t len, uint64_t tag)
{
	struct eia_wire_submit s = {
		.ctx = htole64(ctx), .ncmds = htole32(ncmds), .queue = htole16(queue),
		.flags = htole16(flags),
	};
	struct eia_wire_hdr h;
	int ret;

	eia_wire_hdr_pack(&h, EIA_MSG_SUBMIT, 0, 0, tag, (uint32_t)(sizeof(s) + len));
	ret = eia_write_full(fd, &h, sizeof(h));
	if (!ret)
		ret = eia_write_full(fd, &s, sizeof(s));
	if (!ret && len)
		ret = eia_write_full(fd, cmds, len);
	return ret;
}

int send_submit(int fd, uint64_t ctx, const struct cb *b, uint64_t tag)
{
	return send_submit_raw(fd, ctx, b->ncmds, 0, 0, b->buf, b->len, tag);
}

int sresp_decode(struct msg *m, struct sresp *r)
{
	struct eia_wire_submit_resp sr;
	size_t fixed;

	memset(r, 0, sizeof(*r));
	r->m = *m;
	m->payload = NULL;
	r->tag = r->m.hdr.tag;
	r->status = r->m.hdr.status;
	if (r->m.hdr.opcode != EIA_MSG_SUBMIT || r->m.hdr.flags != EIA_WIRE_F_RESPONSE)
		return -EPROTO;
	if (r->status) {
		if (r->m.hdr.payload_len > EIA_WIRE_ERRMSG_MAX)
			return -EPROTO;
		memcpy(r->err, r->m.payload, r->m.hdr.payload_len);
		return 0;
	}
	if (r->m.hdr.payload_len < sizeof(sr))
		return -EPROTO;
	memcpy(&sr, r->m.payload, sizeof(sr));
	r->ncmds = le32toh(sr.ncmds);
	r->failed = le32toh(sr.failed);
	r->memory_used = le64toh(sr.memory_used);
	fixed = sizeof(sr) + (size_t)r->ncmds * sizeof(struct eia_cb_result);
	if (r->m.hdr.payload_len < fixed)
		return -EPROTO;
	r->res = (struct eia_cb_result *)(r->m.payload + sizeof(sr));
	r->data = r->m.payload + fixed;
	r->data_len = r->m.hdr.payload_len - fixed;
	return 0;
}

void sresp_release(struct sresp *r)
{
	msg_release(&r->m);
	r->res = NULL;
	r->data = NULL;
}

int recv_for(int fd, uint16_t op, uint64_t tag, struct msg *m)
{
	int ret = recv_msg(fd, m);

	if (ret)
		return ret;
	if (m->hdr.opcode != op || m->hdr.tag != tag || m->hdr.flags != EIA_WIRE_F_RESPONSE) {
		msg_release(m);
		return -EPROTO;
	}
	return 0;
}

int submit(int fd, uint64_t ctx, const struct cb *b, uint64_t tag, struct sresp *r)
{
	struct msg m;
	int ret = send_submit(fd, ctx, b, tag);

	if (!ret)
		ret = recv_for(fd, EIA_MSG_SUBMIT, tag, &m);
	if (!ret)
		ret = sresp_decode(&m, r);
	return ret;
}

int ctx_create(int fd, uint64_t tag, uint64_t *ctx)
{
	struct eia_wire_ctx c;
	struct msg m;
	int ret = eia_wire_send(fd, EIA_MSG_CTX_CREATE, 0, 0, tag, NULL, 0);

	if (!ret)
		ret = recv_for(fd, EIA_MSG_CTX_CREATE, tag, &m);
	if (ret)
		return ret;
	ret = (int)m.hdr.status;
	if (!ret) {
		if (m.hdr.payload_len != sizeof(c)) {
			ret = -EPROTO;
		} else {
			memcpy(&c, m.payload, sizeof(c));
			*ctx = le64toh(c.ctx);
		}
	}
	msg_release(&m);
	return ret;
}

int ctx_destroy(int fd, uint64_t ctx, uint64_t tag, uint64_t *memory_used)
{
	struct eia_wire_ctx c = { .ctx = htole64(ctx) };
	struct eia_wire_mem_status st;
	struct msg m;
	int ret = eia_wire_send(fd, EIA_MSG_CTX_DESTROY, 0, 0, tag, &c, sizeof(c));

	if (!ret)
		ret = recv_for(fd, EIA_MSG_CTX_DESTROY, tag, &m);
	if (ret)
		return ret;
	ret = (int)m.hdr.status;
	if (!ret) {
		if (m.hdr.payload_len != sizeof(st)) {
			ret = -EPROTO;
		} else {
			memcpy(&st, m.payload, sizeof(st));
			*memory_used = le64toh(st.memory_used);
		}
	}
	msg_release(&m);
	return ret;
}

int attach(uint16_t port, const char *type)
{
	struct eia_wire_hello_resp resp;
	struct reply *r = malloc(sizeof(*r));
	int fd = client_connect(port);

	if (!r || fd < 0 || do_hello(fd, type, NULL, 1, r, &resp)) {
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(r);
	return fd;
}
