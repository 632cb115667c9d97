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

#define EIA_IOCTL_INFO		_IOR(EIA_IOCTL_MAGIC, 0x00, struct eia_dev_info)
#define EIA_IOCTL_PING		_IOWR(EIA_IOCTL_MAGIC, 0x01, struct eia_ping)

#endif /* _UAPI_EIA_IOCTL_H */
