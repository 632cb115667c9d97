/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * eia command buffers: the unit of work an application submits to an
 * accelerator, through EIA_IOCTL_SUBMIT (synchronous) or an io_uring
 * URING_CMD (asynchronous), or over tcp:// by libeia. The same bytes travel
 * to gpud (see EIA_MSG_SUBMIT in eia_wire.h): the driver checks them, appends
 * the host data of each COPY_H2D, and lands the data of each COPY_D2H in the
 * user pages it pinned at submit.
 *
 * A command buffer is a sequence of commands, each starting with struct
 * eia_cb_hdr and EIA_CB_ALIGN-aligned, at most EIA_CB_MAX_BYTES in all and
 * EIA_CB_MAX_CMDS commands. Commands of one buffer run in order; buffers of
 * one context run in the order they were submitted. The first command that
 * fails stops its buffer: the ones after it report -ECANCELED.
 *
 * All integers are little-endian on the wire; the structs below are used
 * as they are on little-endian hosts (the only ones eia supports, checked at
 * build time). Every reserved or pad field must be zero and unknown flags
 * are refused with EINVAL.
 *
 * See Documentation/userspace-api.rst.
 */
#ifndef _UAPI_EIA_CMDBUF_H
#define _UAPI_EIA_CMDBUF_H

#include <linux/types.h>

#define EIA_CB_ALIGN		8
#define EIA_CB_MAX_BYTES	(1u << 20)
#define EIA_CB_MAX_CMDS		4096

/**
 * enum eia_cb_op - what a command does
 * @EIA_CB_MEM_ALLOC: allocate device memory (struct eia_cb_mem_alloc);
 *	the result's value is the new handle. Over the device's memory quota:
 *	-EDQUOT.
 * @EIA_CB_MEM_FREE: free a handle (struct eia_cb_mem_free)
 * @EIA_CB_COPY_H2D: host to device (struct eia_cb_copy)
 * @EIA_CB_COPY_D2H: device to host (struct eia_cb_copy)
 * @EIA_CB_COPY_D2D: device to device (struct eia_cb_copy)
 * @EIA_CB_MEMSET: fill device memory with a byte (struct eia_cb_memset)
 * @EIA_CB_LAUNCH_OP: run a built-in operator (struct eia_cb_launch_op)
 * @EIA_CB_FENCE: marks a point in the stream; the result's value is the
 *	fence's value (struct eia_cb_fence). libeia's events are fences.
 */
enum eia_cb_op {
	EIA_CB_MEM_ALLOC	= 1,
	EIA_CB_MEM_FREE		= 2,
	EIA_CB_COPY_H2D		= 3,
	EIA_CB_COPY_D2H		= 4,
	EIA_CB_COPY_D2D		= 5,
	EIA_CB_MEMSET		= 6,
	EIA_CB_LAUNCH_OP	= 7,
	EIA_CB_FENCE		= 8,
};

/**
 * struct eia_cb_hdr - start of every command
 * @op: enum eia_cb_op
 * @flags: must be zero
 * @size: bytes of the command including this header; a multiple of
 *	EIA_CB_ALIGN, exactly the size its op defines
 */
struct eia_cb_hdr {
	__u16 op;
	__u16 flags;
	__u32 size;
};

/**
 * struct eia_cb_mem_alloc - EIA_CB_MEM_ALLOC
 * @hdr: command header
 * @bytes: size, 1..the device's memory quota
 */
struct eia_cb_mem_alloc {
	struct eia_cb_hdr hdr;
	__u64 bytes;
};

/**
 * struct eia_cb_mem_free - EIA_CB_MEM_FREE
 * @hdr: command header
 * @handle: a handle of this context's, not yet freed
 */
struct eia_cb_mem_free {
	struct eia_cb_hdr hdr;
	__u64 handle;
};

/**
 * struct eia_cb_copy - EIA_CB_COPY_H2D, _D2H and _D2D
 * @hdr: command header
 * @dst: H2D and D2D: destination handle. D2H: user address of the
 *	destination (the driver pins it at submit; on the wire: 0).
 * @dst_offset: byte offset into @dst (device memory only; else 0)
 * @src: D2H and D2D: source handle. H2D: user address of the source (the
 *	driver copies it at submit; on the wire: 0, and @bytes of data follow
 *	the command, padded to EIA_CB_ALIGN).
 * @src_offset: byte offset into @src (device memory only; else 0)
 * @bytes: bytes to copy; the range must lie inside the allocation(s)
 */
struct eia_cb_copy {
	struct eia_cb_hdr hdr;
	__u64 dst;
	__u64 dst_offset;
	__u64 src;
	__u64 src_offset;
	__u64 bytes;
};

/**
 * struct eia_cb_memset - EIA_CB_MEMSET
 * @hdr: command header
 * @dst: destination handle
 * @dst_offset: byte offset into @dst
 * @bytes: bytes to fill
 * @value: the byte value, 0..255
 * @pad: must be zero
 */
struct eia_cb_memset {
	struct eia_cb_hdr hdr;
	__u64 dst;
	__u64 dst_offset;
	__u64 bytes;
	__u32 value;
	__u32 pad;
};

#define EIA_CB_MAX_DIMS		8

/**
 * struct eia_cb_tensor - a dense row-major tensor in device memory
 * @handle: the allocation holding it
 * @offset: byte offset of its first element in the allocation
 * @dtype: enum eia_dtype (eia_ops.h)
 * @ndim: 0..EIA_CB_MAX_DIMS
 * @dims: dimensions; entries past @ndim must be zero
 */
struct eia_cb_tensor {
	__u64 handle;
	__u64 offset;
	__u32 dtype;
	__u32 ndim;
	__s64 dims[EIA_CB_MAX_DIMS];
};

/**
 * struct eia_cb_launch_op - EIA_CB_LAUNCH_OP
 * @hdr: command header; size = sizeof(this) + (ninputs + noutputs) *
 *	sizeof(struct eia_cb_tensor) + attr_size rounded up to EIA_CB_ALIGN
 * @op: enum eia_op (eia_ops.h)
 * @ninputs: inputs, in ONNX order
 * @noutputs: outputs, in ONNX order
 * @attr_size: bytes of the operator's attribute struct, exactly its size
 * @pad: must be zero
 *
 * Followed by the input tensors, the output tensors and the attributes.
 */
struct eia_cb_launch_op {
	struct eia_cb_hdr hdr;
	__u32 op;
	__u16 ninputs;
	__u16 noutputs;
	__u32 attr_size;
	__u32 pad;
};

/**
 * struct eia_cb_fence - EIA_CB_FENCE
 * @hdr: command header
 * @value: any value, reported back in the result
 */
struct eia_cb_fence {
	struct eia_cb_hdr hdr;
	__u64 value;
};

/**
 * eia_cb_size() - the size a command of @op must have
 * @op: enum eia_cb_op
 *
 * Shared by every checker so that all refuse the same buffers.
 *
 * Return: the exact size of a fixed-size command; for EIA_CB_LAUNCH_OP its
 * least (its header, before tensors and attributes); 0 for an unknown op.
 */
static inline __u32 eia_cb_size(__u16 op)
{
	switch (op) {
	case EIA_CB_MEM_ALLOC:
		return sizeof(struct eia_cb_mem_alloc);
	case EIA_CB_MEM_FREE:
		return sizeof(struct eia_cb_mem_free);
	case EIA_CB_COPY_H2D:
	case EIA_CB_COPY_D2H:
	case EIA_CB_COPY_D2D:
		return sizeof(struct eia_cb_copy);
	case EIA_CB_MEMSET:
		return sizeof(struct eia_cb_memset);
	case EIA_CB_LAUNCH_OP:
		return sizeof(struct eia_cb_launch_op);
	case EIA_CB_FENCE:
		return sizeof(struct eia_cb_fence);
	default:
		return 0;
	}
}

/**
 * struct eia_cb_result - what one command did
 * @status: 0 or a negative errno (-ECANCELED: an earlier command failed)
 * @pad: zero
 * @value: MEM_ALLOC: the new handle; FENCE: its value; otherwise 0
 */
struct eia_cb_result {
	__s32 status;
	__u32 pad;
	__u64 value;
};

#endif /* _UAPI_EIA_CMDBUF_H */
