/* SPDX-License-Identifier: MIT */
/*
 * libeia: run work on an eia accelerator from C.
 *
 * An accelerator is opened by name ("eia0", "/dev/eia0": a device of eia.ko)
 * or by address ("tcp://HOST:PORT?type=TYPE": gpud spoken to directly, where
 * the module is not loaded). It has device memory, allocated as opaque
 * handles (eiaDeviceptr) addressed with byte offsets; streams that queue
 * copies, memsets and operator launches into command buffers and run them in
 * order; and events that mark points in a stream.
 *
 * Every function returns an eiaError_t. When it is not EIA_SUCCESS,
 * eiaGetLastFailure() in the same thread says more: the errno behind it, a
 * message, and, for work that failed on the device, which command of which
 * call failed.
 *
 * Threads: a device may be shared by threads; every stream and event has its
 * own lock, so each thread may use its own stream (the fast case) or share
 * one. Calls on one stream from several threads are serialised.
 *
 * Link with -leia -luring -lpthread. The operator codes, data types and
 * attribute structs come from eia_ops.h, included here.
 *
 * See Documentation/libeia.rst for a guide and a complete example.
 */
#ifndef EIA_H
#define EIA_H

#include <stddef.h>
#include <stdint.h>

#include "eia_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum eiaError_enum - what a call returns
 *
 * The values are stable. Each has a name (eiaGetErrorName()) and a
 * sentence (eiaGetErrorString()); the errno behind an error, where there is
 * one, is in eiaFailure.sysErrno.
 */
typedef enum eiaError_enum {
	EIA_SUCCESS = 0,
	/* A bad argument, or a malformed command refused by the device (EINVAL). */
	EIA_ERROR_INVALID_VALUE = 1,
	/* Host memory ran out, or gpud could not allocate (ENOMEM). */
	EIA_ERROR_OUT_OF_MEMORY = 2,
	/* eiaInit() was not called. */
	EIA_ERROR_NOT_INITIALIZED = 3,
	/* No such device or accelerator type, or the device was detached (ENODEV). */
	EIA_ERROR_NO_DEVICE = 4,
	/* Over the device's memory quota (EDQUOT). */
	EIA_ERROR_QUOTA_EXCEEDED = 5,
	/* Not a live device memory handle of this device: unknown, freed, or
	 * another context's (ENOENT).
	 */
	EIA_ERROR_INVALID_HANDLE = 6,
	/* A device memory range outside its allocation (ERANGE). */
	EIA_ERROR_OUT_OF_RANGE = 7,
	/* Operator, attribute or request not supported (EOPNOTSUPP, ENOTTY). */
	EIA_ERROR_NOT_SUPPORTED = 8,
	/* The accelerator's connection is down; the device is impaired (ENOLINK). */
	EIA_ERROR_LINK_DOWN = 9,
	/* The device's context was lost with an earlier connection: close and
	 * reopen the device (ESTALE).
	 */
	EIA_ERROR_CONTEXT_LOST = 10,
	/* gpud did not answer in time (ETIMEDOUT). */
	EIA_ERROR_TIMEOUT = 11,
	/* Not run because an earlier command of its buffer failed (ECANCELED). */
	EIA_ERROR_CANCELLED = 12,
	/* A malformed or unexpected message from the other side (EPROTO,
	 * EBADMSG, EPROTONOSUPPORT).
	 */
	EIA_ERROR_PROTOCOL = 13,
	/* gpud failed the request (EIO). */
	EIA_ERROR_REMOTE = 14,
	/* A request larger than the device accepts (EMSGSIZE). */
	EIA_ERROR_TOO_LARGE = 15,
	/* A host address the kernel could not read or write (EFAULT). */
	EIA_ERROR_BAD_ADDRESS = 16,
	/* Nothing listens at the tcp:// address (ECONNREFUSED). */
	EIA_ERROR_CONNECTION_REFUSED = 17,
	/* The tcp:// address cannot be reached (ENETUNREACH, EHOSTUNREACH). */
	EIA_ERROR_CONNECTION_FAILED = 18,
	/* The connection to gpud was closed or reset (ECONNRESET, EPIPE); the
	 * device must be reopened.
	 */
	EIA_ERROR_CONNECTION_LOST = 19,
	/* The tcp:// host name does not resolve. */
	EIA_ERROR_UNKNOWN_HOST = 20,
	/* Not allowed (EPERM, EACCES). */
	EIA_ERROR_PERMISSION_DENIED = 21,
	/* gpud has no capacity left for the accelerator type (ENOSPC). */
	EIA_ERROR_NO_CAPACITY = 22,
	/* Too many open files, contexts or connections (EMFILE, ENFILE). */
	EIA_ERROR_OUT_OF_RESOURCES = 23,
	/* eiaStreamQuery(), eiaEventQuery(): work still running. Not a failure. */
	EIA_ERROR_NOT_READY = 24,
	/* Still in use: a device with open streams (EBUSY). */
	EIA_ERROR_BUSY = 25,
	/* A kernel faulted on the device (an illegal address or instruction):
	 * the device's context is lost; reopen the device (ENOTRECOVERABLE).
	 */
	EIA_ERROR_DEVICE_FAULT = 26,
	/* Any other errno; see eiaFailure.sysErrno. */
	EIA_ERROR_UNKNOWN = 999,
} eiaError_t;

/* A device memory allocation: an opaque handle issued by gpud, never 0. */
typedef uint64_t eiaDeviceptr;

typedef struct eiaDevice *eiaDevice_t;
typedef struct eiaStream *eiaStream_t;
typedef struct eiaEvent *eiaEvent_t;

/* Longest eiaFailure.message, including the NUL. */
#define EIA_FAILURE_MESSAGE_MAX 384

/**
 * struct eiaFailure - what the last failed call of a thread did wrong
 * @error: what the call returned
 * @sysErrno: the errno behind it (positive), 0 where there is none
 * @command: index of the failed command in its command buffer, -1 when the
 *	failure was not one command's (a refused buffer, a bad argument)
 * @commandType: the failed command's kind (EIA_CB_* of eia_cmdbuf.h:
 *	1 MEM_ALLOC ... 12 LAUNCH_KERNEL), 0 when @command is -1
 * @op: for an operator launch, its enum eia_op; else 0
 * @call: which call on its stream queued the failed command, counting
 *	every call that queues work (copies, memsets, launches, event
 *	records): 1 for the stream's first; 0 for synchronous device calls
 * @function: the libeia function that queued the failed command, or that
 *	failed itself ("eiaLaunchOp"); never NULL
 * @message: all of the above as one sentence, with gpud's own explanation
 *	where it gave one
 */
typedef struct eiaFailure {
	eiaError_t error;
	int sysErrno;
	int command;
	int commandType;
	int op;
	unsigned long long call;
	const char *function;
	char message[EIA_FAILURE_MESSAGE_MAX];
} eiaFailure;

/* Library and errors */

/**
 * eiaInit() - initialise libeia
 * @flags: must be 0
 *
 * Must be called once before any other function except the error-string
 * ones; further calls do nothing. Thread-safe.
 *
 * Return: EIA_SUCCESS, or EIA_ERROR_INVALID_VALUE for unknown flags.
 */
eiaError_t eiaInit(unsigned int flags);

/**
 * eiaGetErrorName() - the name of an error code ("EIA_ERROR_QUOTA_EXCEEDED")
 * @error: any value
 *
 * Return: a static string; "EIA_ERROR_UNKNOWN" for values not in the enum.
 */
const char *eiaGetErrorName(eiaError_t error);

/**
 * eiaGetErrorString() - what an error code means ("device memory quota
 * exceeded")
 * @error: any value
 *
 * Return: a static string, never NULL.
 */
const char *eiaGetErrorString(eiaError_t error);

/**
 * eiaGetLastFailure() - details of the last call that failed in this thread
 * @failure: Out: filled in (all zero and "no failure" when none failed yet)
 *
 * Successful calls leave it alone, as they leave errno alone.
 *
 * Return: @failure->error (EIA_SUCCESS when no call failed yet);
 * EIA_ERROR_INVALID_VALUE when @failure is NULL.
 */
eiaError_t eiaGetLastFailure(eiaFailure *failure);

/* Devices */

/**
 * eiaDeviceGetCount() - how many eia.ko devices are attached
 * @count: Out: the number of /sys/class/eia/eiaN directories (0 when the
 *	module is not loaded). tcp:// devices are not counted.
 *
 * Return: EIA_SUCCESS, EIA_ERROR_INVALID_VALUE, EIA_ERROR_NOT_INITIALIZED.
 */
eiaError_t eiaDeviceGetCount(int *count);

/**
 * eiaDeviceGetName() - name of the device with an ordinal
 * @name: Out: "eiaN", NUL-terminated
 * @len: size of @name (16 is always enough); @name is left alone when it
 *	is too short
 * @ordinal: 0..count-1; devices are ordered by N
 *
 * Return: EIA_SUCCESS; EIA_ERROR_NO_DEVICE for an ordinal out of range;
 * EIA_ERROR_INVALID_VALUE when @name is NULL or too short.
 */
eiaError_t eiaDeviceGetName(char *name, size_t len, int ordinal);

/**
 * eiaDeviceOpen() - open an accelerator, creating a context on it
 * @dev: Out: the device
 * @name: "eiaN" or a path ("/dev/eiaN") for a device of eia.ko; or
 *	"tcp://HOST[:PORT][?type=TYPE][&timeout_ms=MS]" to speak to gpud
 *	directly (PORT defaults to 8443, TYPE to eia2.medium, MS, the time gpud
 *	has to answer each request, to 60000; an IPv6 HOST is bracketed)
 *
 * Each open is a context of its own: device memory allocated through @dev
 * belongs to it and is freed by eiaDeviceClose(). A tcp:// open connects,
 * says HELLO asking for an accelerator of TYPE and creates a context.
 *
 * Return: EIA_SUCCESS; EIA_ERROR_INVALID_VALUE for a malformed name or URL;
 * EIA_ERROR_NO_DEVICE when the device or the type does not exist;
 * EIA_ERROR_PERMISSION_DENIED; EIA_ERROR_CONNECTION_REFUSED,
 * EIA_ERROR_CONNECTION_FAILED, EIA_ERROR_UNKNOWN_HOST, EIA_ERROR_TIMEOUT,
 * EIA_ERROR_NO_CAPACITY, EIA_ERROR_PROTOCOL for tcp://.
 */
eiaError_t eiaDeviceOpen(eiaDevice_t *dev, const char *name);

/**
 * eiaDeviceClose() - close a device and free everything its context owns
 * @dev: the device; NULL is accepted and ignored
 *
 * Every stream of the device must have been destroyed (events may remain,
 * but are unusable once their stream is gone).
 *
 * Return: EIA_SUCCESS; EIA_ERROR_BUSY (nothing done) while streams remain.
 */
eiaError_t eiaDeviceClose(eiaDevice_t dev);

/* How a device is reached. */
enum eiaTransport {
	EIA_TRANSPORT_KERNEL = 1,	/* /dev/eiaN, eia.ko */
	EIA_TRANSPORT_TCP = 2,		/* tcp://, gpud directly */
};

/**
 * struct eiaDeviceProp - what a device is
 * @name: as given to eiaDeviceOpen()
 * @type: accelerator type ("eia2.medium")
 * @accelId: accelerator id granted by gpud ("eia-" and 32 hex digits)
 * @transport: enum eiaTransport
 * @healthy: 1 when the connection to gpud works (kernel: status healthy);
 *	0 when impaired or lost
 * @memoryTotal: device memory quota, bytes
 * @memoryUsed: device memory in use over all the accelerator's contexts,
 *	bytes (for tcp://, as of the last command buffer)
 * @fp32Tflops: FP32 compute share
 * @fp16Tflops: FP16 compute share
 * @maxRequestBytes: largest request gpud accepts (command buffer and
 *	host-to-device data); libeia splits copies to fit
 */
typedef struct eiaDeviceProp {
	char name[256];
	char type[32];
	char accelId[40];
	int transport;
	int healthy;
	unsigned long long memoryTotal;
	unsigned long long memoryUsed;
	double fp32Tflops;
	double fp16Tflops;
	unsigned int maxRequestBytes;
} eiaDeviceProp;

/**
 * eiaDeviceGetProperties() - describe a device
 * @prop: Out: filled in
 * @dev: the device
 *
 * Return: EIA_SUCCESS, EIA_ERROR_INVALID_VALUE, EIA_ERROR_NO_DEVICE (detached).
 */
eiaError_t eiaDeviceGetProperties(eiaDeviceProp *prop, eiaDevice_t dev);

/* Device memory (synchronous calls) */

/*
 * The synchronous calls below each run as command buffers of their own and
 * return when gpud has finished them. They are not ordered against work
 * queued on streams: synchronize a stream before a synchronous call that
 * depends on its work (as with CUDA's non-blocking streams).
 */

/**
 * eiaMemAlloc() - allocate device memory
 * @dev: the device
 * @ptr: Out: the new handle
 * @bytes: size, 1..the device's memory quota
 *
 * The contents are undefined. The quota is shared by every context of the
 * accelerator.
 *
 * Return: EIA_SUCCESS; EIA_ERROR_QUOTA_EXCEEDED; EIA_ERROR_INVALID_VALUE
 * (0 bytes); transport errors (EIA_ERROR_LINK_DOWN, ...).
 */
eiaError_t eiaMemAlloc(eiaDevice_t dev, eiaDeviceptr *ptr, size_t bytes);

/**
 * eiaMemFree() - free device memory
 * @dev: the device
 * @ptr: a handle from eiaMemAlloc() on @dev, not yet freed
 *
 * Return: EIA_SUCCESS; EIA_ERROR_INVALID_HANDLE for anything else.
 */
eiaError_t eiaMemFree(eiaDevice_t dev, eiaDeviceptr ptr);

/**
 * eiaMemcpyHtoD() - copy host memory to device memory
 * @dev: the device
 * @dst: destination allocation
 * @dstOffset: byte offset into @dst
 * @src: host source
 * @bytes: bytes to copy (0: nothing happens); any size: copies larger than
 *	one command buffer carries are split
 *
 * Return: EIA_SUCCESS; EIA_ERROR_INVALID_HANDLE, EIA_ERROR_OUT_OF_RANGE,
 * EIA_ERROR_BAD_ADDRESS, transport errors.
 */
eiaError_t eiaMemcpyHtoD(eiaDevice_t dev, eiaDeviceptr dst, size_t dstOffset,
			 const void *src, size_t bytes);

/**
 * eiaMemcpyDtoH() - copy device memory to host memory
 * @dev: the device
 * @dst: host destination
 * @src: source allocation
 * @srcOffset: byte offset into @src
 * @bytes: bytes to copy (0: nothing happens); split as needed
 *
 * Return: as eiaMemcpyHtoD().
 */
eiaError_t eiaMemcpyDtoH(eiaDevice_t dev, void *dst, eiaDeviceptr src,
			 size_t srcOffset, size_t bytes);

/**
 * eiaMemcpyDtoD() - copy between device memory ranges
 * @dev: the device
 * @dst: destination allocation
 * @dstOffset: byte offset into @dst
 * @src: source allocation (may be @dst; overlapping ranges copy as memmove)
 * @srcOffset: byte offset into @src
 * @bytes: bytes to copy (0: nothing happens)
 *
 * Return: as eiaMemcpyHtoD().
 */
eiaError_t eiaMemcpyDtoD(eiaDevice_t dev, eiaDeviceptr dst, size_t dstOffset,
			 eiaDeviceptr src, size_t srcOffset, size_t bytes);

/**
 * eiaMemsetD8() - fill device memory with a byte
 * @dev: the device
 * @dst: destination allocation
 * @dstOffset: byte offset into @dst
 * @value: the byte
 * @bytes: bytes to fill (0: nothing happens)
 *
 * Return: as eiaMemcpyHtoD().
 */
eiaError_t eiaMemsetD8(eiaDevice_t dev, eiaDeviceptr dst, size_t dstOffset,
		       unsigned char value, size_t bytes);

/* Streams */

/*
 * A stream queues work into command buffers and runs it in order. Streams
 * run side by side, each on a queue of its own on gpud, so one stream's
 * copies overlap another's compute; order them among themselves with
 * events. A buffer is submitted ("flushed") when it is full, at
 * eiaStreamFlush(), eiaStreamSynchronize(), eiaStreamQuery() and
 * eiaEventRecord(); several may be in flight. On a device of eia.ko a
 * stream owns an io_uring ring and submits its buffers asynchronously; with
 * EIA_STREAM_SYNC, or on a tcp:// device, each buffer runs synchronously
 * when it is flushed (the calling thread waits for gpud; on tcp:// the
 * buffers of threads flushing their own streams are in flight at once on
 * the device's connection).
 *
 * Host memory given to an asynchronous copy must stay valid, and a copy's
 * source unchanged, until the stream has been synchronized (or an event
 * recorded after the copy has completed).
 *
 * Errors of queued work are reported by the next call that waits for the
 * stream: eiaStreamSynchronize(), eiaStreamQuery(), eiaEventSynchronize() or
 * eiaEventQuery() of an event recorded on it; the first failure is kept
 * until it is reported, then cleared. The calls that queue work only report
 * their own bad arguments. Within a command buffer, the commands after a
 * failed one are not run; buffers already in flight still run.
 */

/* eiaStreamCreate() flags */
#define EIA_STREAM_DEFAULT	0u
/* Run every command buffer synchronously at flush: EIA_IOCTL_SUBMIT on a
 * device of eia.ko instead of io_uring.
 */
#define EIA_STREAM_SYNC		(1u << 0)

/**
 * eiaStreamCreate() - create a stream
 * @stream: Out: the stream
 * @dev: its device
 * @flags: EIA_STREAM_DEFAULT or EIA_STREAM_SYNC
 *
 * Return: EIA_SUCCESS; EIA_ERROR_INVALID_VALUE (unknown flags);
 * EIA_ERROR_OUT_OF_MEMORY; EIA_ERROR_NOT_SUPPORTED when io_uring is not
 * available (create the stream with EIA_STREAM_SYNC then).
 */
eiaError_t eiaStreamCreate(eiaStream_t *stream, eiaDevice_t dev,
			   unsigned int flags);

/**
 * eiaStreamDestroy() - wait for a stream's work, then destroy it
 * @stream: the stream; NULL is accepted and ignored
 *
 * Events recorded on it become complete.
 *
 * Return: the stream's pending failure, if any (it is destroyed anyway).
 */
eiaError_t eiaStreamDestroy(eiaStream_t stream);

/**
 * eiaStreamFlush() - submit the commands queued so far, without waiting
 * @stream: the stream
 *
 * A buffer the device refuses is the stream's failure, reported when the
 * stream is waited for.
 *
 * Return: EIA_SUCCESS; an error waiting for room among the buffers in
 * flight (a failed io_uring).
 */
eiaError_t eiaStreamFlush(eiaStream_t stream);

/**
 * eiaStreamSynchronize() - flush and wait until all of a stream's work ran
 * @stream: the stream
 *
 * Return: EIA_SUCCESS, or the first failure of the stream's work since it
 * was last reported (see eiaGetLastFailure() for the failing command).
 */
eiaError_t eiaStreamSynchronize(eiaStream_t stream);

/**
 * eiaStreamQuery() - flush and tell whether all of a stream's work ran
 * @stream: the stream
 *
 * Return: EIA_SUCCESS when it did; EIA_ERROR_NOT_READY when some is still
 * running; or its first failure, as eiaStreamSynchronize().
 */
eiaError_t eiaStreamQuery(eiaStream_t stream);

/**
 * eiaStreamWaitEvent() - make later work of a stream wait for an event
 * @stream: the stream
 * @event: an event recorded on any stream of the same device
 * @flags: must be 0
 *
 * Implemented on the host: flushes @stream, then waits for @event.
 *
 * Return: EIA_SUCCESS, or a failure of @event's stream (as
 * eiaEventSynchronize()).
 */
eiaError_t eiaStreamWaitEvent(eiaStream_t stream, eiaEvent_t event,
			      unsigned int flags);

/* Asynchronous memory operations: as their synchronous forms, queued on a
 * stream.
 */

/* Queue eiaMemcpyHtoD() on @stream. */
eiaError_t eiaMemcpyHtoDAsync(eiaStream_t stream, eiaDeviceptr dst,
			      size_t dstOffset, const void *src, size_t bytes);

/* Queue eiaMemcpyDtoH() on @stream. */
eiaError_t eiaMemcpyDtoHAsync(eiaStream_t stream, void *dst, eiaDeviceptr src,
			      size_t srcOffset, size_t bytes);

/* Queue eiaMemcpyDtoD() on @stream. */
eiaError_t eiaMemcpyDtoDAsync(eiaStream_t stream, eiaDeviceptr dst,
			      size_t dstOffset, eiaDeviceptr src,
			      size_t srcOffset, size_t bytes);

/* Queue eiaMemsetD8() on @stream. */
eiaError_t eiaMemsetD8Async(eiaStream_t stream, eiaDeviceptr dst,
			    size_t dstOffset, unsigned char value, size_t bytes);

/* Operators */

/**
 * struct eiaTensor - a dense row-major tensor in device memory
 * @ptr: the allocation holding it
 * @offset: byte offset of its first element in @ptr
 * @dtype: enum eia_dtype (EIA_DTYPE_F32, EIA_DTYPE_F16, EIA_DTYPE_BF16, ...;
 *	F16 and BF16 are storage, computed in fp32: Documentation/operators.rst)
 * @ndim: 0..EIA_MAX_DIMS
 * @dims: its dimensions; entries past @ndim are ignored
 */
typedef struct eiaTensor {
	eiaDeviceptr ptr;
	size_t offset;
	int dtype;
	int ndim;
	int64_t dims[EIA_MAX_DIMS];
} eiaTensor;

/* Largest attribute struct eiaLaunchOp() takes. */
#define EIA_ATTR_MAX_BYTES 4096

/**
 * eiaLaunchOp() - queue a built-in operator on a stream
 * @stream: the stream
 * @op: enum eia_op (EIA_OP_GEMM, ...)
 * @inputs: the input tensors, in ONNX order
 * @ninputs: their number (an optional trailing input is left out)
 * @outputs: the output tensors, in ONNX order, with their shapes
 * @noutputs: their number
 * @attr: the operator's attribute struct (eia_ops.h), or NULL
 * @attrSize: sizeof the attribute struct, or 0 when @attr is NULL
 *
 * The operators follow the ONNX specification (Documentation/operators.rst);
 * gpud checks shapes, types and attributes when it runs the command, and a
 * mismatch is reported as the stream's failure (EIA_ERROR_INVALID_VALUE,
 * or EIA_ERROR_NOT_SUPPORTED).
 *
 * Return: EIA_SUCCESS; EIA_ERROR_INVALID_VALUE for arguments no launch can
 * take (NULL arrays, counts over EIA_OP_MAX_IO, ndim over EIA_MAX_DIMS,
 * @attrSize over EIA_ATTR_MAX_BYTES).
 */
eiaError_t eiaLaunchOp(eiaStream_t stream, int op, const eiaTensor *inputs,
		       int ninputs, const eiaTensor *outputs, int noutputs,
		       const void *attr, size_t attrSize);

/*
 * Raw CUDA modules: the application's own kernels (PTX, cubin or fatbin,
 * as nvcc or NVRTC make them) loaded into the device and launched by
 * name, as with the CUDA driver API's cuModuleLoadData(),
 * cuModuleGetFunction() and cuLaunchKernel(). Only gpud's CUDA backend runs
 * them; on the CPU backend each call fails with EIA_ERROR_NOT_SUPPORTED.
 * A kernel that faults (an illegal address) fails its command buffer with
 * EIA_ERROR_DEVICE_FAULT; the device's context is then lost and the device
 * must be reopened. Other devices sharing the GPU are not affected
 * (Documentation/cuda-backend.rst).
 */

/* A loaded module and a kernel of it: opaque handles issued by gpud, never 0. */
typedef uint64_t eiaModule_t;
typedef uint64_t eiaFunction_t;

/* Longest kernel name, most parameter bytes and device pointers of a launch. */
#define EIA_KERNEL_NAME_MAX 1024
#define EIA_KERNEL_PARAMS_MAX 4096
#define EIA_KERNEL_PTRS_MAX 64

/**
 * eiaModuleLoadData() - load a module into the device
 * @dev: the device
 * @module: Out: the module
 * @image: PTX text (a terminating NUL is optional), a cubin or a fatbin
 * @bytes: size of @image
 *
 * The image counts against the device's memory quota while it is loaded.
 *
 * Return: EIA_SUCCESS; EIA_ERROR_NOT_SUPPORTED (not a CUDA device),
 * EIA_ERROR_INVALID_VALUE (an image the GPU's driver refuses, or no code
 * for this GPU), EIA_ERROR_QUOTA_EXCEEDED, EIA_ERROR_TOO_LARGE (over the
 * device's largest request, eiaDeviceProp.maxRequestBytes).
 */
eiaError_t eiaModuleLoadData(eiaDevice_t dev, eiaModule_t *module, const void *image,
			     size_t bytes);

/**
 * eiaModuleUnload() - unload a module, once the work queued before is done
 * @dev: the device
 * @module: the module; its functions die with it
 *
 * Return: EIA_SUCCESS, EIA_ERROR_INVALID_HANDLE, EIA_ERROR_NOT_SUPPORTED.
 */
eiaError_t eiaModuleUnload(eiaDevice_t dev, eiaModule_t module);

/**
 * eiaModuleGetFunction() - find a kernel of a module by name
 * @dev: the device
 * @function: Out: the kernel
 * @module: the module
 * @name: the kernel's name as the module has it (extern "C", or mangled)
 *
 * Return: EIA_SUCCESS; EIA_ERROR_INVALID_HANDLE (no such module, or no
 * kernel of that name in it), EIA_ERROR_NOT_SUPPORTED,
 * EIA_ERROR_INVALID_VALUE (an empty name or one over EIA_KERNEL_NAME_MAX).
 */
eiaError_t eiaModuleGetFunction(eiaDevice_t dev, eiaFunction_t *function,
				eiaModule_t module, const char *name);

/**
 * struct eiaKernelPtr - a device pointer among a kernel's parameters
 * @paramOffset: where the 8-byte pointer sits in the parameter blob, a
 *	multiple of 8
 * @ptr: the allocation it points into
 * @offset: byte offset into @ptr
 */
typedef struct eiaKernelPtr {
	size_t paramOffset;
	eiaDeviceptr ptr;
	size_t offset;
} eiaKernelPtr;

/**
 * eiaLaunchKernel() - queue a kernel launch on a stream
 * @stream: the stream
 * @function: the kernel
 * @grid: blocks in x, y and z, each at least 1
 * @block: threads per block in x, y and z, each at least 1
 * @sharedMemBytes: dynamic shared memory per block
 * @params: the kernel's parameters packed as the kernel declares them, each
 *	at its natural alignment (as cuLaunchKernel()'s
 *	CU_LAUNCH_PARAM_BUFFER_POINTER takes them); pointer parameters may
 *	hold anything, gpud overwrites them from @ptrs
 * @paramsSize: bytes of @params, at most EIA_KERNEL_PARAMS_MAX
 * @ptrs: the device pointers among the parameters
 * @nptrs: their number, at most EIA_KERNEL_PTRS_MAX
 *
 * Device memory has no address the application can see: each pointer
 * parameter is named by its allocation and offset, and gpud writes the
 * address in before the launch. A launch the GPU refuses (too many threads
 * per block, too much shared memory) fails the stream with
 * EIA_ERROR_INVALID_VALUE.
 *
 * Return: EIA_SUCCESS, or EIA_ERROR_INVALID_VALUE for arguments no launch
 * can take (a dimension of 0, limits exceeded, a pointer outside @params).
 */
eiaError_t eiaLaunchKernel(eiaStream_t stream, eiaFunction_t function,
			   const unsigned int grid[3], const unsigned int block[3],
			   unsigned int sharedMemBytes, const void *params, size_t paramsSize,
			   const eiaKernelPtr *ptrs, int nptrs);

/* Events: a FENCE command in a stream. */

/**
 * eiaEventCreate() - create an event
 * @event: Out: the event, complete until first recorded
 * @flags: must be 0
 *
 * Return: EIA_SUCCESS, EIA_ERROR_INVALID_VALUE, EIA_ERROR_OUT_OF_MEMORY.
 */
eiaError_t eiaEventCreate(eiaEvent_t *event, unsigned int flags);

/**
 * eiaEventDestroy() - destroy an event
 * @event: the event; NULL is accepted and ignored
 *
 * Return: EIA_SUCCESS.
 */
eiaError_t eiaEventDestroy(eiaEvent_t event);

/**
 * eiaEventRecord() - mark the current end of a stream's work
 * @event: the event (recording it again moves it)
 * @stream: the stream
 *
 * Queues a FENCE and flushes the stream: the event completes when all work
 * queued on @stream before it has run. An event must not be recorded while
 * another thread waits for it or records it.
 *
 * Return: EIA_SUCCESS, or an error as eiaStreamFlush().
 */
eiaError_t eiaEventRecord(eiaEvent_t event, eiaStream_t stream);

/**
 * eiaEventSynchronize() - wait until an event completed
 * @event: the event
 *
 * Return: EIA_SUCCESS, or the pending failure of the event's stream.
 */
eiaError_t eiaEventSynchronize(eiaEvent_t event);

/**
 * eiaEventQuery() - whether an event completed
 * @event: the event
 *
 * Return: EIA_SUCCESS, EIA_ERROR_NOT_READY, or the pending failure of the
 * event's stream.
 */
eiaError_t eiaEventQuery(eiaEvent_t event);

#ifdef __cplusplus
}
#endif

#endif /* EIA_H */
