// SPDX-License-Identifier: MIT
/*
 * Device memory: alloc and free, copies and memset, synchronous (a private
 * stream that runs its buffers at flush) and queued on a stream. Copies
 * larger than a command buffer carries are split into page-aligned chunks.
 */
#include <errno.h>
#include <string.h>

#include "libeia.h"

#define EIA_CHUNK_ALIGN	4096u

/* A copy or memset as the commands see it; host addresses as integers. */
struct xfer {
	uint16_t op;
	uint64_t dst;
	uint64_t dst_offset;
	uint64_t src;
	uint64_t src_offset;
	uint64_t bytes;
};

static eiaError_t check_range(const char *fn, uint64_t offset, uint64_t bytes)
{
	uint64_t end;

	if (__builtin_add_overflow(offset, bytes, &end))
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"offset %llu + %llu bytes overflows", (unsigned long long)offset,
				(unsigned long long)bytes);
	return EIA_SUCCESS;
}

/* Queue a copy, split to fit; in a synchronous stream, stop at a failure. */
static eiaError_t queue_copy(struct eiaStream *s, const char *fn, struct xfer x)
{
	struct eia_cb_copy *c;
	uint64_t chunk, data;
	eiaError_t err;

	err = check_range(fn, x.dst_offset, x.bytes);
	if (!err)
		err = check_range(fn, x.src_offset, x.bytes);
	while (!err && x.bytes && !(s->sync && s->failed)) {
		chunk = x.bytes;
		data = 0;
		if (x.op != EIA_CB_COPY_D2D) {
			err = eia_stream_copy_room(s, fn, x.bytes, &chunk);
			if (err)
				break;
			if (chunk < x.bytes && chunk > EIA_CHUNK_ALIGN)
				chunk &= ~(uint64_t)(EIA_CHUNK_ALIGN - 1);
			data = x.op == EIA_CB_COPY_H2D ?
			       (chunk + EIA_CB_ALIGN - 1) & ~(uint64_t)(EIA_CB_ALIGN - 1) : chunk;
		}
		err = eia_stream_add(s, fn, x.op, sizeof(*c), data, 0, NULL, (void **)&c);
		if (err)
			break;
		c->dst = x.dst;
		c->dst_offset = x.dst_offset;
		c->src = x.src;
		c->src_offset = x.src_offset;
		c->bytes = chunk;
		/* Host addresses advance themselves; device ones by offset. */
		if (x.op == EIA_CB_COPY_D2H)
			x.dst += chunk;
		else
			x.dst_offset += chunk;
		if (x.op == EIA_CB_COPY_H2D)
			x.src += chunk;
		else
			x.src_offset += chunk;
		x.bytes -= chunk;
	}
	return err;
}

static eiaError_t queue_memset(struct eiaStream *s, const char *fn, eiaDeviceptr dst,
			       size_t offset, unsigned char value, size_t bytes)
{
	struct eia_cb_memset *m;
	eiaError_t err = check_range(fn, offset, bytes);

	if (err || !bytes)
		return err;
	err = eia_stream_add(s, fn, EIA_CB_MEMSET, sizeof(*m), 0, 0, NULL, (void **)&m);
	if (err)
		return err;
	m->dst = dst;
	m->dst_offset = offset;
	m->bytes = bytes;
	m->value = value;
	return EIA_SUCCESS;
}

eiaError_t eia_sync_begin(struct eiaStream *s, eiaDevice_t dev, const char *fn)
{
	eiaError_t err = eia_check_entry(fn, dev, "dev");

	if (!err)
		eia_stream_init_sync(s, dev);
	return err;
}

eiaError_t eia_sync_end(struct eiaStream *s, const char *fn, eiaError_t err)
{
	if (!err)
		err = eia_stream_flush_locked(s, fn);
	if (!err)
		err = eia_stream_take_failure(s);
	eia_stream_fini(s);
	return err;
}

eiaError_t eiaMemAlloc(eiaDevice_t dev, eiaDeviceptr *ptr, size_t bytes)
{
	static const char fn[] = "eiaMemAlloc";
	struct eia_cb_mem_alloc *a;
	struct eiaStream s;
	uint64_t handle = 0;
	eiaError_t err;

	if (!ptr)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "ptr is NULL");
	if (!bytes)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "0 bytes");
	err = eia_sync_begin(&s, dev, fn);
	if (err)
		return err;
	err = eia_stream_add(&s, fn, EIA_CB_MEM_ALLOC, sizeof(*a), 0, 0, &handle,
			     (void **)&a);
	if (!err)
		a->bytes = bytes;
	err = eia_sync_end(&s, fn, err);
	if (!err && !handle)
		err = eia_fail(fn, EIA_ERROR_PROTOCOL, EPROTO, "gpud returned handle 0");
	if (!err)
		*ptr = handle;
	return err;
}

eiaError_t eiaMemFree(eiaDevice_t dev, eiaDeviceptr ptr)
{
	static const char fn[] = "eiaMemFree";
	struct eia_cb_mem_free *f;
	struct eiaStream s;
	eiaError_t err;

	err = eia_sync_begin(&s, dev, fn);
	if (err)
		return err;
	err = eia_stream_add(&s, fn, EIA_CB_MEM_FREE, sizeof(*f), 0, 0, NULL, (void **)&f);
	if (!err)
		f->handle = ptr;
	return eia_sync_end(&s, fn, err);
}

static eiaError_t sync_copy(eiaDevice_t dev, const char *fn, struct xfer x)
{
	struct eiaStream s;
	eiaError_t err = eia_sync_begin(&s, dev, fn);

	if (err)
		return err;
	return eia_sync_end(&s, fn, queue_copy(&s, fn, x));
}

eiaError_t eiaMemcpyHtoD(eiaDevice_t dev, eiaDeviceptr dst, size_t dstOffset,
			 const void *src, size_t bytes)
{
	struct xfer x = { EIA_CB_COPY_H2D, dst, dstOffset, (uintptr_t)src, 0, bytes };

	if (!src && bytes)
		return eia_fail("eiaMemcpyHtoD", EIA_ERROR_INVALID_VALUE, EINVAL, "src is NULL");
	return sync_copy(dev, "eiaMemcpyHtoD", x);
}

eiaError_t eiaMemcpyDtoH(eiaDevice_t dev, void *dst, eiaDeviceptr src,
			 size_t srcOffset, size_t bytes)
{
	struct xfer x = { EIA_CB_COPY_D2H, (uintptr_t)dst, 0, src, srcOffset, bytes };

	if (!dst && bytes)
		return eia_fail("eiaMemcpyDtoH", EIA_ERROR_INVALID_VALUE, EINVAL, "dst is NULL");
	return sync_copy(dev, "eiaMemcpyDtoH", x);
}

eiaError_t eiaMemcpyDtoD(eiaDevice_t dev, eiaDeviceptr dst, size_t dstOffset,
			 eiaDeviceptr src, size_t srcOffset, size_t bytes)
{
	struct xfer x = { EIA_CB_COPY_D2D, dst, dstOffset, src, srcOffset, bytes };

	return sync_copy(dev, "eiaMemcpyDtoD", x);
}

eiaError_t eiaMemsetD8(eiaDevice_t dev, eiaDeviceptr dst, size_t dstOffset,
		       unsigned char value, size_t bytes)
{
	static const char fn[] = "eiaMemsetD8";
	struct eiaStream s;
	eiaError_t err = eia_sync_begin(&s, dev, fn);

	if (err)
		return err;
	return eia_sync_end(&s, fn, queue_memset(&s, fn, dst, dstOffset, value, bytes));
}

static eiaError_t async_copy(eiaStream_t stream, const char *fn, struct xfer x)
{
	eiaError_t err = eia_stream_begin(stream, fn);

	if (err)
		return err;
	return eia_stream_end(stream, queue_copy(stream, fn, x));
}

eiaError_t eiaMemcpyHtoDAsync(eiaStream_t stream, eiaDeviceptr dst, size_t dstOffset,
			      const void *src, size_t bytes)
{
	struct xfer x = { EIA_CB_COPY_H2D, dst, dstOffset, (uintptr_t)src, 0, bytes };

	if (!src && bytes)
		return eia_fail("eiaMemcpyHtoDAsync", EIA_ERROR_INVALID_VALUE, EINVAL,
				"src is NULL");
	return async_copy(stream, "eiaMemcpyHtoDAsync", x);
}

eiaError_t eiaMemcpyDtoHAsync(eiaStream_t stream, void *dst, eiaDeviceptr src,
			      size_t srcOffset, size_t bytes)
{
	struct xfer x = { EIA_CB_COPY_D2H, (uintptr_t)dst, 0, src, srcOffset, bytes };

	if (!dst && bytes)
		return eia_fail("eiaMemcpyDtoHAsync", EIA_ERROR_INVALID_VALUE, EINVAL,
				"dst is NULL");
	return async_copy(stream, "eiaMemcpyDtoHAsync", x);
}

eiaError_t eiaMemcpyDtoDAsync(eiaStream_t stream, eiaDeviceptr dst, size_t dstOffset,
			      eiaDeviceptr src, size_t srcOffset, size_t bytes)
{
	struct xfer x = { EIA_CB_COPY_D2D, dst, dstOffset, src, srcOffset, bytes };

	return async_copy(stream, "eiaMemcpyDtoDAsync", x);
}

eiaError_t eiaMemsetD8Async(eiaStream_t stream, eiaDeviceptr dst, size_t dstOffset,
			    unsigned char value, size_t bytes)
{
	static const char fn[] = "eiaMemsetD8Async";
	eiaError_t err = eia_stream_begin(stream, fn);

	if (err)
		return err;
	return eia_stream_end(stream, queue_memset(stream, fn, dst, dstOffset, value, bytes));
}
