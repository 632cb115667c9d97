/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * eia generic netlink family: attach remote accelerators, detach them, give
 * them a new connection, list them, and hear about their state.
 *
 * Family EIA_GENL_NAME, version EIA_GENL_VERSION, multicast group
 * EIA_GENL_MCGRP_EVENTS. Commands that change state (ATTACH, DETACH,
 * RECONFIGURE) need CAP_NET_ADMIN in the netlink socket's user namespace;
 * GET is open to everyone. Errors come back as a negative errno in the ack,
 * with an extended-ack message saying what was wrong.
 *
 * See Documentation/userspace-api.rst.
 */
#ifndef _UAPI_EIA_NETLINK_H
#define _UAPI_EIA_NETLINK_H

#define EIA_GENL_NAME			"eia"
#define EIA_GENL_VERSION		1
#define EIA_GENL_MCGRP_EVENTS		"events"

/**
 * enum eia_cmd - generic netlink commands of the eia family
 * @EIA_CMD_UNSPEC: never used
 * @EIA_CMD_ATTACH: attach an accelerator over a connected TCP socket.
 *	In: %EIA_ATTR_SOCK_FD and %EIA_ATTR_TYPE (required), %EIA_ATTR_SERVER
 *	and %EIA_ATTR_TIMEOUT_MS (optional). The kernel takes its own reference
 *	to the socket (the caller may close its fd afterwards), performs the
 *	HELLO exchange and creates /dev/eiaN. Reply: an %EIA_CMD_ATTACH message
 *	with the device's attributes (as for %EIA_CMD_GET).
 * @EIA_CMD_DETACH: detach a device. In: %EIA_ATTR_INDEX.
 * @EIA_CMD_RECONFIGURE: change a device. In: %EIA_ATTR_INDEX, and any of
 *	%EIA_ATTR_SOCK_FD (replace the connection: HELLO with the device's type
 *	and id, status back to healthy), %EIA_ATTR_SERVER, %EIA_ATTR_TIMEOUT_MS.
 * @EIA_CMD_GET: one device (doit, In: %EIA_ATTR_INDEX) or all (dumpit).
 *	Reply attributes: INDEX, DEV_NAME, TYPE, ACCEL_ID, STATUS, SERVER,
 *	TIMEOUT_MS, MEMORY_TOTAL, MEMORY_USED, FP32_MTFLOPS, FP16_MTFLOPS,
 *	REQUESTS, ERRORS, BYTES_SENT, BYTES_RECEIVED.
 * @EIA_CMD_EVENT_ATTACHED: multicast: a device appeared (INDEX, DEV_NAME,
 *	TYPE, ACCEL_ID, SERVER)
 * @EIA_CMD_EVENT_DETACHED: multicast: a device went away (INDEX, DEV_NAME)
 * @EIA_CMD_EVENT_LINK_DEAD: multicast: a device's connection failed or timed
 *	out; its status is now impaired (INDEX, DEV_NAME, ACCEL_ID)
 * @EIA_CMD_EVENT_LINK_RESTORED: multicast: a device has a working connection
 *	again after RECONFIGURE (INDEX, DEV_NAME, ACCEL_ID, SERVER)
 */
enum eia_cmd {
	EIA_CMD_UNSPEC,
	EIA_CMD_ATTACH,
	EIA_CMD_DETACH,
	EIA_CMD_RECONFIGURE,
	EIA_CMD_GET,
	EIA_CMD_EVENT_ATTACHED,
	EIA_CMD_EVENT_DETACHED,
	EIA_CMD_EVENT_LINK_DEAD,
	EIA_CMD_EVENT_LINK_RESTORED,

	__EIA_CMD_MAX,
	EIA_CMD_MAX = __EIA_CMD_MAX - 1
};

/**
 * enum eia_attr - attributes of the eia family
 * @EIA_ATTR_UNSPEC: never used
 * @EIA_ATTR_PAD: padding for 64-bit attributes
 * @EIA_ATTR_INDEX: u32, N of /dev/eiaN
 * @EIA_ATTR_DEV_NAME: string, "eiaN"
 * @EIA_ATTR_SOCK_FD: u32, a connected TCP socket of the caller
 * @EIA_ATTR_TYPE: string, accelerator type ("eia2.medium"), shorter than
 *	EIA_TYPE_NAME_MAX
 * @EIA_ATTR_ACCEL_ID: string, accelerator id granted by gpud
 * @EIA_ATTR_SERVER: string, how the caller names the server ("gpu1:8443"),
 *	shorter than EIA_SERVER_NAME_MAX; shown in sysfs. Without it the kernel
 *	uses the socket's peer address.
 * @EIA_ATTR_STATUS: u32, enum eia_status
 * @EIA_ATTR_TIMEOUT_MS: u32, per-request timeout in milliseconds
 *	(EIA_TIMEOUT_MS_MIN..EIA_TIMEOUT_MS_MAX); default: module parameter
 *	request_timeout_ms
 * @EIA_ATTR_MEMORY_TOTAL: u64, device memory quota in bytes
 * @EIA_ATTR_MEMORY_USED: u64, device memory in use in bytes
 * @EIA_ATTR_FP32_MTFLOPS: u32, FP32 share in thousandths of a TFLOPS
 * @EIA_ATTR_FP16_MTFLOPS: u32, FP16 share in thousandths of a TFLOPS
 * @EIA_ATTR_REQUESTS: u64, requests sent to gpud
 * @EIA_ATTR_ERRORS: u64, requests that failed (remote error, timeout, dead link)
 * @EIA_ATTR_BYTES_SENT: u64, bytes written to the connection(s)
 * @EIA_ATTR_BYTES_RECEIVED: u64, bytes read from the connection(s)
 */
enum eia_attr {
	EIA_ATTR_UNSPEC,
	EIA_ATTR_PAD,
	EIA_ATTR_INDEX,
	EIA_ATTR_DEV_NAME,
	EIA_ATTR_SOCK_FD,
	EIA_ATTR_TYPE,
	EIA_ATTR_ACCEL_ID,
	EIA_ATTR_SERVER,
	EIA_ATTR_STATUS,
	EIA_ATTR_TIMEOUT_MS,
	EIA_ATTR_MEMORY_TOTAL,
	EIA_ATTR_MEMORY_USED,
	EIA_ATTR_FP32_MTFLOPS,
	EIA_ATTR_FP16_MTFLOPS,
	EIA_ATTR_REQUESTS,
	EIA_ATTR_ERRORS,
	EIA_ATTR_BYTES_SENT,
	EIA_ATTR_BYTES_RECEIVED,

	__EIA_ATTR_MAX,
	EIA_ATTR_MAX = __EIA_ATTR_MAX - 1
};

/* Server names in EIA_ATTR_SERVER, including the NUL. */
#define EIA_SERVER_NAME_MAX		128

#define EIA_TIMEOUT_MS_MIN		100
#define EIA_TIMEOUT_MS_MAX		600000

/**
 * enum eia_status - health of a device, as in sysfs "status"
 * @EIA_STATUS_UNKNOWN: no verdict yet: a HELLO (attach or reattach) is in
 *	progress
 * @EIA_STATUS_HEALTHY: connected, gpud answers
 * @EIA_STATUS_IMPAIRED: the connection died or gpud stopped answering;
 *	requests fail with ENOLINK until a RECONFIGURE gives a new connection
 */
enum eia_status {
	EIA_STATUS_UNKNOWN	= 0,
	EIA_STATUS_HEALTHY	= 1,
	EIA_STATUS_IMPAIRED	= 2,
};

#endif /* _UAPI_EIA_NETLINK_H */
