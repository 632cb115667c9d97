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
 * EIA_CB_MAX_CMDS commands. Commands of one buffer run in order. The first
 * command that fails stops its buffer: the ones after it report -ECANCELED.
 *
 * A context has EIA_CB_QUEUES queues (a submit names one; libeia gives each
 * stream one). Buffers of one queue run in the order they were submitted;
 * buffers of different queues may run at the same time, so that copies on
 * one overlap compute on another. A buffer that changes what the context
 * owns (MEM_ALLOC, MEM_FREE, MODULE_LOAD, MODULE_UNLOAD,
 * MODULE_GET_FUNCTION) is a barrier across its queues: it starts once every
 * buffer of the context submitted before it has finished, and buffers
 * submitted after it wait until it has. Memory, modules and functions are
 * the context's, usable from any of its queues.
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
/* Queues per context (struct eia_submit's @queue: 0 .. EIA_CB_QUEUES - 1). */
#define EIA_CB_QUEUES		8

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
 * @EIA_CB_MODULE_LOAD: load a raw CUDA module, PTX or cubin/fatbin
 *	(struct eia_cb_module_load); the result's value is the module's
 *	handle. Its image is host data, carried like a COPY_H2D's and charged
 *	to the memory quota while the module is loaded. Backends without raw
 *	modules (the CPU backend) answer -EOPNOTSUPP.
 * @EIA_CB_MODULE_UNLOAD: unload a module and its functions
 *	(struct eia_cb_module_unload), once the work queued before it is done
 * @EIA_CB_MODULE_GET_FUNCTION: look up a kernel of a module by name
 *	(struct eia_cb_module_get_function); the result's value is the
 *	function's handle. No such kernel: -ENOENT.
 * @EIA_CB_LAUNCH_KERNEL: launch a function (struct eia_cb_launch_kernel)
 *
 * Handles of memory, modules and functions are distinct: one of the wrong
 * kind is refused with -ENOENT like a freed one.
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
	EIA_CB_MODULE_LOAD	= 9,
	EIA_CB_MODULE_UNLOAD	= 10,
	EIA_CB_MODULE_GET_FUNCTION = 11,
	EIA_CB_LAUNCH_KERNEL	= 12,
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
 * struct eia_cb_module_load - EIA_CB_MODULE_LOAD
 * @hdr: command header
 * @image: user address of the module image (the driver copies it at submit;
 *	on the wire: 0, and @bytes of image follow the command, padded to
 *	EIA_CB_ALIGN, as a COPY_H2D's data do)
 * @bytes: size of the image, 1..the device's max_payload. PTX need not end
 *	with a NUL: gpud adds one.
 */
struct eia_cb_module_load {
	struct eia_cb_hdr hdr;
	__u64 image;
	__u64 bytes;
};

/**
 * struct eia_cb_module_unload - EIA_CB_MODULE_UNLOAD
 * @hdr: command header
 * @module: a module handle of this context's
 */
struct eia_cb_module_unload {
	struct eia_cb_hdr hdr;
	__u64 module;
};

/* Longest kernel name, without a terminating NUL. */
#define EIA_CB_KERNEL_NAME_MAX	1024

/**
 * struct eia_cb_module_get_function - EIA_CB_MODULE_GET_FUNCTION
 * @hdr: command header; size = sizeof(this) + @name_len rounded up to
 *	EIA_CB_ALIGN
 * @module: a module handle of this context's
 * @name_len: bytes of the name, 1..EIA_CB_KERNEL_NAME_MAX
 * @pad: must be zero
 *
 * Followed by the kernel's (mangled, for C++) name, without a NUL, padded
 * with zeros; the name holds no NUL byte.
 */
struct eia_cb_module_get_function {
	struct eia_cb_hdr hdr;
	__u64 module;
	__u32 name_len;
	__u32 pad;
};

/* Most bytes of kernel parameters, and most device pointers among them. */
#define EIA_CB_KERNEL_PARAMS_MAX	4096
#define EIA_CB_KERNEL_PTRS_MAX		64

/**
 * struct eia_cb_kernel_ptr - a device pointer among a kernel's parameters
 * @param_offset: byte offset of the 8-byte pointer in the parameter blob,
 *	a multiple of 8
 * @pad: must be zero
 * @handle: a memory handle of this context's
 * @offset: byte offset into the allocation, at most its size
 *
 * Applications never see device addresses: gpud writes the address of
 * @handle + @offset into the blob at @param_offset before the launch.
 */
struct eia_cb_kernel_ptr {
	__u32 param_offset;
	__u32 pad;
	__u64 handle;
	__u64 offset;
};

/**
 * struct eia_cb_launch_kernel - EIA_CB_LAUNCH_KERNEL
 * @hdr: command header; size = sizeof(this) + @nptrs * sizeof(struct
 *	eia_cb_kernel_ptr) + @params_size rounded up to EIA_CB_ALIGN
 * @function: a function handle of this context's
 * @grid: blocks in x, y and z, each >= 1
 * @block: threads per block in x, y and z, each >= 1
 * @shared_bytes: dynamic shared memory per block
 * @params_size: bytes of the parameter blob, 0..EIA_CB_KERNEL_PARAMS_MAX
 * @nptrs: device pointers in the blob, 0..EIA_CB_KERNEL_PTRS_MAX
 * @pad: must be zero
 *
 * Followed by @nptrs struct eia_cb_kernel_ptr, then the parameter blob laid
 * out as the kernel's parameters are (each at its natural alignment, as
 * for cuLaunchKernel()'s CU_LAUNCH_PARAM_BUFFER_POINTER), padded with
 * zeros. Limits the GPU puts on the grid, the block and shared memory are
 * gpud's to check (-EINVAL).
 */
struct eia_cb_launch_kernel {
	struct eia_cb_hdr hdr;
	__u64 function;
	__u32 grid[3];
	__u32 block[3];
	__u32 shared_bytes;
	__u32 params_size;
	__u32 nptrs;
	__u32 pad;
};

/**
 * eia_cb_size() - the size a command of @op must have
 * @op: enum eia_cb_op
 *
 * Shared by every checker so that all refuse the same buffers.
 *
 * Return: the exact size of a fixed-size command; for a variable-size one
 * (eia_cb_variable()) its least, the struct before what follows it; 0 for
 * an unknown op.
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
	case EIA_CB_MODULE_LOAD:
		return sizeof(struct eia_cb_module_load);
	case EIA_CB_MODULE_UNLOAD:
		return sizeof(struct eia_cb_module_unload);
	case EIA_CB_MODULE_GET_FUNCTION:
		return sizeof(struct eia_cb_module_get_function);
	case EIA_CB_LAUNCH_KERNEL:
		return sizeof(struct eia_cb_launch_kernel);
	default:
		return 0;
	}
}

/**
 * eia_cb_variable() - whether a command of @op has a size of its own
 * @op: enum eia_cb_op
 *
 * Return: 1 for the commands whose struct is followed by more (their size
 * follows from their fields), 0 for the others.
 */
static inline int eia_cb_variable(__u16 op)
{
	return op == EIA_CB_LAUNCH_OP || op == EIA_CB_MODULE_GET_FUNCTION ||
	       op == EIA_CB_LAUNCH_KERNEL;
}

/**
 * struct eia_cb_result - what one command did
 * @status: 0 or a negative errno (-ECANCELED: an earlier command failed)
 * @pad: zero
 * @value: MEM_ALLOC, MODULE_LOAD, MODULE_GET_FUNCTION: the new handle;
 *	FENCE: its value; otherwise 0
 */
struct eia_cb_result {
	__s32 status;
	__u32 pad;
	__u64 value;
};

#endif /* _UAPI_EIA_CMDBUF_H */
