/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * eia character device ioctls (/dev/eiaN).
 *
 * Every struct has explicit padding that must be zero on input; unknown
 * flags are refused with EINVAL. Errors: EINVAL bad argument, ENOTTY unknown
 * ioctl, EFAULT bad user pointer, ENODEV device detached, ENOLINK connection
 * to gpud is dead (device impaired), ETIMEDOUT gpud did not answer within
 * the device's request timeout, EPROTO malformed reply, EIO gpud refused.
 *
 * See Documentation/userspace-api.rst.
 */
#ifndef _UAPI_EIA_IOCTL_H
#define _UAPI_EIA_IOCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#include "eia_cmdbuf.h"
#include "eia_wire.h"

#define EIA_IOCTL_MAGIC			0xE1

/**
 * struct eia_dev_info - EIA_IOCTL_INFO: what the device is (all Out)
 * @index: N of /dev/eiaN
 * @status: enum eia_status
 * @memory_total: device memory quota in bytes
 * @memory_used: device memory in use in bytes
 * @fp32_mtflops: FP32 share in thousandths of a TFLOPS
 * @fp16_mtflops: FP16 share in thousandths of a TFLOPS
 * @wire_version: wire protocol version spoken with gpud
 * @timeout_ms: per-request timeout
 * @type: accelerator type, NUL-terminated
 * @accel_id: accelerator id, NUL-terminated
 * @max_payload: largest wire payload gpud accepts (granted in HELLO);
 *	struct eia_submit says what must fit in it
 * @reserved: zero
 */
struct eia_dev_info {
	__u32 index;
	__u32 status;
	__u64 memory_total;
	__u64 memory_used;
	__u32 fp32_mtflops;
	__u32 fp16_mtflops;
	__u32 wire_version;
	__u32 timeout_ms;
	char type[EIA_TYPE_NAME_MAX];
	char accel_id[EIA_ACCEL_ID_MAX];
	__u32 max_payload;
	__u32 reserved;
};

/**
 * struct eia_ping - EIA_IOCTL_PING: one round trip to gpud
 * @cookie: In: any value. Out: the value gpud echoed (equal on success).
 * @delay_ms: In: ask gpud to wait this long before answering
 *	(at most EIA_WIRE_PING_MAX_DELAY_MS)
 * @pad: In: must be zero
 * @rtt_ns: Out: measured round-trip time in nanoseconds
 */
struct eia_ping {
	__u64 cookie;
	__u32 delay_ms;
	__u32 pad;
	__u64 rtt_ns;
};

/* eia_submit.failed when every command succeeded. */
#define EIA_SUBMIT_NONE_FAILED	0xffffffffu

/**
 * struct eia_submit - run a command buffer (eia_cmdbuf.h) in the file's context
 * @cmds: In: user address of the command buffer (EIA_CB_ALIGN-aligned)
 * @cmds_bytes: In: its size, at most EIA_CB_MAX_BYTES
 * @ncmds: In: the number of commands it holds, 1..EIA_CB_MAX_CMDS
 * @flags: In: must be zero
 * @results: In: user address of an array of @ncmds struct eia_cb_result
 *	that receives each command's outcome, or 0
 * @failed: Out (EIA_IOCTL_SUBMIT only): index of the first command that
 *	failed, or EIA_SUBMIT_NONE_FAILED
 * @queue: In: the context's queue that runs the buffer, 0 .. EIA_CB_QUEUES
 *	- 1 (eia_cmdbuf.h says how queues order buffers); 0 when unused
 * @reserved: In: must be zero
 *
 * The source of every COPY_H2D is read, and the destination of every
 * COPY_D2H pinned, when the buffer is submitted; D2H data is in place when
 * the submit completes. H2D data and D2H data together must fit in the
 * max_payload gpud granted (EMSGSIZE otherwise).
 *
 * Return (ioctl return value, or io_uring CQE res): 0 when every command
 * succeeded; the failing command's negative errno otherwise (see @failed
 * and @results); or a negative errno for the submission itself (EINVAL
 * malformed buffer, EFAULT bad address, EMSGSIZE too much data, ENOLINK
 * link dead, ESTALE the context was lost with an earlier connection:
 * reopen the device, ENODEV detached, ETIMEDOUT no answer in time).
 */
struct eia_submit {
	__u64 cmds;
	__u32 cmds_bytes;
	__u32 ncmds;
	__u32 flags;
	__u32 failed;
	__u64 results;
	__u32 queue;
	__u32 reserved;
};

#define EIA_IOCTL_INFO		_IOR(EIA_IOCTL_MAGIC, 0x00, struct eia_dev_info)
#define EIA_IOCTL_PING		_IOWR(EIA_IOCTL_MAGIC, 0x01, struct eia_ping)
#define EIA_IOCTL_SUBMIT	_IOWR(EIA_IOCTL_MAGIC, 0x02, struct eia_submit)

/*
 * Asynchronous submit through io_uring: an IORING_OP_URING_CMD on a ring set
 * up with IORING_SETUP_SQE128 (else EINVAL), with cmd_op
 * EIA_URING_CMD_SUBMIT and a struct eia_submit at the start of the SQE's
 * command area (the rest zero). @failed is not written: the CQE's res is
 * the submit's return value, and on rings with IORING_SETUP_CQE32 the
 * CQE's first extra word is the failed index. Submits to one queue of a
 * file run in the order they were issued.
 */
#define EIA_URING_CMD_SUBMIT	_IOW(EIA_IOCTL_MAGIC, 0x02, struct eia_submit)

#endif /* _UAPI_EIA_IOCTL_H */
