// SPDX-License-Identifier: MIT
/*
 * eiaInit(), error codes and their strings, and each thread's last failure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "eia_ops.h"
#include "libeia.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static atomic_bool initialized;
static _Thread_local eiaFailure last_failure;

eiaError_t eiaInit(unsigned int flags)
{
	if (flags)
		return eia_fail("eiaInit", EIA_ERROR_INVALID_VALUE, EINVAL,
				"unknown flags %#x", flags);
	atomic_store(&initialized, true);
	return EIA_SUCCESS;
}

bool eia_initialized(void)
{
	return atomic_load(&initialized);
}

static const struct {
	const char *name;
	const char *string;
} errors[] = {
	[EIA_SUCCESS] = { "EIA_SUCCESS", "no error" },
	[EIA_ERROR_INVALID_VALUE] = { "EIA_ERROR_INVALID_VALUE", "invalid argument" },
	[EIA_ERROR_OUT_OF_MEMORY] = { "EIA_ERROR_OUT_OF_MEMORY", "out of memory" },
	[EIA_ERROR_NOT_INITIALIZED] = { "EIA_ERROR_NOT_INITIALIZED",
					"libeia is not initialised: call eiaInit() first" },
	[EIA_ERROR_NO_DEVICE] = { "EIA_ERROR_NO_DEVICE",
				  "no such device or accelerator type, or the device was detached" },
	[EIA_ERROR_QUOTA_EXCEEDED] = { "EIA_ERROR_QUOTA_EXCEEDED",
				       "device memory quota exceeded" },
	[EIA_ERROR_INVALID_HANDLE] = { "EIA_ERROR_INVALID_HANDLE",
				       "invalid device memory handle" },
	[EIA_ERROR_OUT_OF_RANGE] = { "EIA_ERROR_OUT_OF_RANGE",
				     "device memory range outside its allocation" },
	[EIA_ERROR_NOT_SUPPORTED] = { "EIA_ERROR_NOT_SUPPORTED", "operation not supported" },
	[EIA_ERROR_LINK_DOWN] = { "EIA_ERROR_LINK_DOWN", "accelerator link is down" },
	[EIA_ERROR_CONTEXT_LOST] = { "EIA_ERROR_CONTEXT_LOST",
				     "context lost with an earlier connection: reopen the device" },
	[EIA_ERROR_TIMEOUT] = { "EIA_ERROR_TIMEOUT", "gpud did not answer in time" },
	[EIA_ERROR_CANCELLED] = { "EIA_ERROR_CANCELLED",
				  "not run: an earlier command of its buffer failed" },
	[EIA_ERROR_PROTOCOL] = { "EIA_ERROR_PROTOCOL", "malformed message from the other side" },
	[EIA_ERROR_REMOTE] = { "EIA_ERROR_REMOTE", "gpud failed the request" },
	[EIA_ERROR_TOO_LARGE] = { "EIA_ERROR_TOO_LARGE", "request too large for the device" },
	[EIA_ERROR_BAD_ADDRESS] = { "EIA_ERROR_BAD_ADDRESS", "bad host memory address" },
	[EIA_ERROR_CONNECTION_REFUSED] = { "EIA_ERROR_CONNECTION_REFUSED",
					   "connection refused: is gpud listening there?" },
	[EIA_ERROR_CONNECTION_FAILED] = { "EIA_ERROR_CONNECTION_FAILED",
					  "gpud's address cannot be reached" },
	[EIA_ERROR_CONNECTION_LOST] = { "EIA_ERROR_CONNECTION_LOST",
					"connection to gpud lost: reopen the device" },
	[EIA_ERROR_UNKNOWN_HOST] = { "EIA_ERROR_UNKNOWN_HOST", "host name does not resolve" },
	[EIA_ERROR_PERMISSION_DENIED] = { "EIA_ERROR_PERMISSION_DENIED", "permission denied" },
	[EIA_ERROR_NO_CAPACITY] = { "EIA_ERROR_NO_CAPACITY",
				    "gpud has no capacity left for the accelerator type" },
	[EIA_ERROR_OUT_OF_RESOURCES] = { "EIA_ERROR_OUT_OF_RESOURCES",
					 "too many open files, contexts or connections" },
	[EIA_ERROR_NOT_READY] = { "EIA_ERROR_NOT_READY", "work still running" },
	[EIA_ERROR_BUSY] = { "EIA_ERROR_BUSY", "still in use" },
	[EIA_ERROR_DEVICE_FAULT] = { "EIA_ERROR_DEVICE_FAULT",
				     "a kernel faulted on the device: its context is lost, reopen the device" },
};

static const char unknown_name[] = "EIA_ERROR_UNKNOWN";
static const char unknown_string[] = "unknown error";

const char *eiaGetErrorName(eiaError_t error)
{
	size_t i = (size_t)error;

	if (i < ARRAY_SIZE(errors) && errors[i].name)
		return errors[i].name;
	return unknown_name;
}

const char *eiaGetErrorString(eiaError_t error)
{
	size_t i = (size_t)error;

	if (i < ARRAY_SIZE(errors) && errors[i].string)
		return errors[i].string;
	return unknown_string;
}

eiaError_t eia_error_from_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return EIA_SUCCESS;
	case EINVAL:
		return EIA_ERROR_INVALID_VALUE;
	case ENOMEM:
		return EIA_ERROR_OUT_OF_MEMORY;
	case ENODEV:
	case ENXIO:
		return EIA_ERROR_NO_DEVICE;
	case EDQUOT:
		return EIA_ERROR_QUOTA_EXCEEDED;
	case ENOENT:
		return EIA_ERROR_INVALID_HANDLE;
	case ERANGE:
		return EIA_ERROR_OUT_OF_RANGE;
	case EOPNOTSUPP:
	case ENOTTY:
		return EIA_ERROR_NOT_SUPPORTED;
	case ENOLINK:
		return EIA_ERROR_LINK_DOWN;
	case ESTALE:
		return EIA_ERROR_CONTEXT_LOST;
	case ETIMEDOUT:
		return EIA_ERROR_TIMEOUT;
	case ECANCELED:
		return EIA_ERROR_CANCELLED;
	case EPROTO:
	case EBADMSG:
	case EPROTONOSUPPORT:
		return EIA_ERROR_PROTOCOL;
	case EIO:
		return EIA_ERROR_REMOTE;
	case EMSGSIZE:
		return EIA_ERROR_TOO_LARGE;
	case EFAULT:
		return EIA_ERROR_BAD_ADDRESS;
	case ECONNREFUSED:
		return EIA_ERROR_CONNECTION_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EADDRNOTAVAIL:
		return EIA_ERROR_CONNECTION_FAILED;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return EIA_ERROR_CONNECTION_LOST;
	case EPERM:
	case EACCES:
		return EIA_ERROR_PERMISSION_DENIED;
	case ENOSPC:
		return EIA_ERROR_NO_CAPACITY;
	case EMFILE:
	case ENFILE:
		return EIA_ERROR_OUT_OF_RESOURCES;
	case EBUSY:
		return EIA_ERROR_BUSY;
	case ENOTRECOVERABLE:
		return EIA_ERROR_DEVICE_FAULT;
	}
	return EIA_ERROR_UNKNOWN;
}

eiaError_t eia_fail_set(const eiaFailure *f)
{
	last_failure = *f;
	return f->error;
}

/* Append printf-style text to @buf (size @cap), truncating quietly. */
static void __attribute__((format(printf, 3, 0)))
vappend(char *buf, size_t cap, const char *fmt, va_list ap)
{
	size_t len = strnlen(buf, cap);

	if (len + 1 < cap)
		vsnprintf(buf + len, cap - len, fmt, ap);
}

static void __attribute__((format(printf, 3, 4)))
append(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(buf, cap, fmt, ap);
	va_end(ap);
}

eiaError_t eia_fail(const char *function, eiaError_t error, int err,
		    const char *fmt, ...)
{
	eiaFailure *f = &last_failure;
	va_list ap;

	memset(f, 0, sizeof(*f));
	f->error = error;
	f->sysErrno = err < 0 ? -err : err;
	f->command = -1;
	f->function = function;
	append(f->message, sizeof(f->message), "%s: ", function);
	va_start(ap, fmt);
	vappend(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	append(f->message, sizeof(f->message), " (%s)", eiaGetErrorName(error));
	return error;
}

eiaError_t eiaGetLastFailure(eiaFailure *failure)
{
	if (!failure)
		return EIA_ERROR_INVALID_VALUE;
	*failure = last_failure;
	if (!failure->function) {
		failure->command = -1;
		failure->function = "";
		snprintf(failure->message, sizeof(failure->message), "no failure");
	}
	return failure->error;
}

eiaError_t eia_check_entry(const char *function, const void *arg,
			   const char *argname)
{
	if (!eia_initialized())
		return eia_fail(function, EIA_ERROR_NOT_INITIALIZED, 0,
				"eiaInit() was not called");
	if (!arg)
		return eia_fail(function, EIA_ERROR_INVALID_VALUE, EINVAL,
				"%s is NULL", argname);
	return EIA_SUCCESS;
}

static const char *const op_names[] = {
	[EIA_OP_GEMM] = "Gemm",
	[EIA_OP_MATMUL] = "MatMul",
	[EIA_OP_CONV2D] = "Conv",
	[EIA_OP_MAXPOOL2D] = "MaxPool",
	[EIA_OP_AVGPOOL2D] = "AveragePool",
	[EIA_OP_GLOBAL_AVGPOOL] = "GlobalAveragePool",
	[EIA_OP_ADD] = "Add",
	[EIA_OP_SUB] = "Sub",
	[EIA_OP_MUL] = "Mul",
	[EIA_OP_DIV] = "Div",
	[EIA_OP_POW] = "Pow",
	[EIA_OP_RELU] = "Relu",
	[EIA_OP_GELU] = "Gelu",
	[EIA_OP_ERF] = "Erf",
	[EIA_OP_TANH] = "Tanh",
	[EIA_OP_SIGMOID] = "Sigmoid",
	[EIA_OP_EXP] = "Exp",
	[EIA_OP_SQRT] = "Sqrt",
	[EIA_OP_SOFTMAX] = "Softmax",
	[EIA_OP_LAYERNORM] = "LayerNormalization",
	[EIA_OP_REDUCE_MEAN] = "ReduceMean",
	[EIA_OP_TRANSPOSE] = "Transpose",
	[EIA_OP_GATHER] = "Gather",
	[EIA_OP_WHERE] = "Where",
	[EIA_OP_CONCAT] = "Concat",
	[EIA_OP_SPLIT] = "Split",
	[EIA_OP_SLICE] = "Slice",
	[EIA_OP_CAST] = "Cast",
	[EIA_OP_CLIP] = "Clip",
	[EIA_OP_EQUAL] = "Equal",
	[EIA_OP_LESS] = "Less",
	[EIA_OP_GREATER] = "Greater",
	[EIA_OP_LESS_OR_EQUAL] = "LessOrEqual",
	[EIA_OP_GREATER_OR_EQUAL] = "GreaterOrEqual",
	[EIA_OP_NOT] = "Not",
	[EIA_OP_AND] = "And",
	[EIA_OP_OR] = "Or",
	[EIA_OP_XOR] = "Xor",
	[EIA_OP_LOG_SOFTMAX] = "LogSoftmax",
	[EIA_OP_REDUCE_SUM] = "ReduceSum",
	[EIA_OP_REDUCE_MAX] = "ReduceMax",
	[EIA_OP_REDUCE_MIN] = "ReduceMin",
	[EIA_OP_REDUCE_PROD] = "ReduceProd",
	[EIA_OP_REDUCE_L1] = "ReduceL1",
	[EIA_OP_REDUCE_L2] = "ReduceL2",
	[EIA_OP_REDUCE_SUM_SQUARE] = "ReduceSumSquare",
	[EIA_OP_REDUCE_LOG_SUM] = "ReduceLogSum",
	[EIA_OP_REDUCE_LOG_SUM_EXP] = "ReduceLogSumExp",
	[EIA_OP_NEG] = "Neg",
	[EIA_OP_ABS] = "Abs",
	[EIA_OP_RECIPROCAL] = "Reciprocal",
	[EIA_OP_LOG] = "Log",
	[EIA_OP_SIN] = "Sin",
	[EIA_OP_COS] = "Cos",
	[EIA_OP_FLOOR] = "Floor",
	[EIA_OP_CEIL] = "Ceil",
	[EIA_OP_SIGN] = "Sign",
	[EIA_OP_MIN] = "Min",
	[EIA_OP_MAX] = "Max",
	[EIA_OP_LEAKY_RELU] = "LeakyRelu",
	[EIA_OP_HARD_SIGMOID] = "HardSigmoid",
	[EIA_OP_HARD_SWISH] = "HardSwish",
	[EIA_OP_ELU] = "Elu",
	[EIA_OP_SOFTPLUS] = "Softplus",
	[EIA_OP_CONV3D] = "Conv",
	[EIA_OP_ARGMAX] = "ArgMax",
	[EIA_OP_ARGMIN] = "ArgMin",
	[EIA_OP_CUMSUM] = "CumSum",
	[EIA_OP_TILE] = "Tile",
	[EIA_OP_MAXPOOL3D] = "MaxPool",
	[EIA_OP_AVGPOOL3D] = "AveragePool",
	[EIA_OP_RESIZE] = "Resize",
	[EIA_OP_CONV_TRANSPOSE] = "ConvTranspose",
};

const char *eia_op_name(uint32_t op)
{
	return op < ARRAY_SIZE(op_names) ? op_names[op] : NULL;
}

static const char *const cb_op_names[] = {
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

const char *eia_cb_op_name(uint32_t op)
{
	if (op < ARRAY_SIZE(cb_op_names) && cb_op_names[op])
		return cb_op_names[op];
	return "command";
}

/* The header of command @index, found by walking the buffer. */
static const struct eia_cb_hdr *cmd_at(const struct eia_cmdbuf *cb, uint32_t index)
{
	const char *p = cb->cmds;
	uint32_t i;

	for (i = 0; i < index; i++)
		p += ((const struct eia_cb_hdr *)p)->size;
	return (const struct eia_cb_hdr *)p;
}

void eia_failure_from_cmdbuf(eiaFailure *f, const struct eia_cmdbuf *cb)
{
	int err = cb->ret < 0 ? -cb->ret : cb->ret;
	const char *ename = strerrorname_np(err);
	const struct eia_origin *o;
	const char *opname;

	memset(f, 0, sizeof(*f));
	f->error = eia_error_from_errno(err);
	f->sysErrno = err;
	f->command = -1;
	if (!ename)
		ename = "unknown errno";
	if (cb->failed >= cb->ncmds) {
		/* The buffer was refused as a whole: name its first call. */
		f->function = cb->ncmds ? cb->origin[0].function : "eiaStreamFlush";
		append(f->message, sizeof(f->message),
		       "%s: a command buffer of %u commands was refused: %s (%s, %s)",
		       f->function, cb->ncmds, eiaGetErrorString(f->error),
		       eiaGetErrorName(f->error), ename);
		if (cb->msg[0])
			append(f->message, sizeof(f->message), ": %s", cb->msg);
		return;
	}
	o = &cb->origin[cb->failed];
	f->command = (int)cb->failed;
	f->commandType = cmd_at(cb, cb->failed)->op;
	f->op = (int)o->op;
	f->call = o->call;
	f->function = o->function;
	append(f->message, sizeof(f->message), "%s", o->function);
	if (o->call)
		append(f->message, sizeof(f->message), " (call %llu on its stream)",
		       (unsigned long long)o->call);
	append(f->message, sizeof(f->message), ": %s",
	       eia_cb_op_name((uint32_t)f->commandType));
	if (f->commandType == EIA_CB_LAUNCH_OP) {
		opname = eia_op_name(o->op);
		if (opname)
			append(f->message, sizeof(f->message), " %s", opname);
		else
			append(f->message, sizeof(f->message), " of unknown operator %u", o->op);
	}
	append(f->message, sizeof(f->message),
	       ", command %u of %u in its buffer, failed: %s (%s, %s)", cb->failed,
	       cb->ncmds, eiaGetErrorString(f->error), eiaGetErrorName(f->error), ename);
	if (f->error == EIA_ERROR_NOT_SUPPORTED && f->commandType >= EIA_CB_MODULE_LOAD &&
	    f->commandType <= EIA_CB_LAUNCH_KERNEL)
		append(f->message, sizeof(f->message),
		       ": raw CUDA modules run only on gpud's CUDA backend");
}
