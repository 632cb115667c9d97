/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * eia wire protocol: what eia.ko (and libeia over tcp://) and gpud say to each
 * other over one TCP (optionally kTLS) connection.
 *
 * Every message is a fixed 32-byte header followed by payload_len bytes of
 * payload. All integers are little-endian. Requests carry a tag chosen by the
 * client; the response to a request carries the same tag and opcode with
 * EIA_WIRE_F_RESPONSE set, so a client may pipeline requests and a server may
 * answer them out of order. Status values are positive Linux errno numbers
 * (both peers are Linux); a response with a non-zero status carries either an
 * empty payload or a NUL-terminated human-readable message of at most
 * EIA_WIRE_ERRMSG_MAX bytes.
 *
 * A receiver must check, before reading a payload: magic, version, that flags
 * has no unknown bits, that reserved is zero and that payload_len does not
 * exceed the limit for the opcode (and never EIA_WIRE_MAX_PAYLOAD). A message
 * failing those checks is a protocol error: the receiver answers (if it is
 * the server and the header was readable) and may close the connection.
 *
 * See Documentation/wire-protocol.rst.
 */
#ifndef _UAPI_EIA_WIRE_H
#define _UAPI_EIA_WIRE_H

#include <linux/errno.h>
#include <linux/types.h>

/* "EIA1" as bytes on the wire: 'E' 'I' 'A' '1'. */
#define EIA_WIRE_MAGIC			0x31414945u
#define EIA_WIRE_VERSION		1
#define EIA_WIRE_DEFAULT_PORT		8443

/* Largest payload of any message, whatever the opcode. */
#define EIA_WIRE_MAX_PAYLOAD		(16u << 20)
/* Longest error message in a failed response, including the NUL. */
#define EIA_WIRE_ERRMSG_MAX		256

/* Accelerator type names ("eia2.medium"), including the NUL. */
#define EIA_TYPE_NAME_MAX		32
/* Accelerator ids: "eia-" and 32 lowercase hex digits (36 chars), NUL-padded. */
#define EIA_ACCEL_ID_LEN		36
#define EIA_ACCEL_ID_MAX		40

/**
 * enum eia_wire_opcode - what a message asks for
 * @EIA_MSG_HELLO: first request on a connection: protocol version, requested
 *	type; the response grants an accelerator (struct eia_wire_hello_req,
 *	struct eia_wire_hello_resp). Every other opcode except
 *	EIA_MSG_SERVER_STATUS is refused with EPERM before a successful HELLO; a
 *	second HELLO is refused with EALREADY.
 * @EIA_MSG_PING: liveness and round-trip probe (struct eia_wire_ping both
 *	ways); the response echoes the cookie.
 * @EIA_MSG_SERVER_STATUS: the server's sessions and per-type capacity
 *	(empty request; struct eia_wire_server_status in the response). Allowed
 *	before HELLO, so operators can query a server without attaching. A gpud
 *	that serves tenants in worker processes answers it after HELLO with
 *	EOPNOTSUPP: ask on a connection of its own.
 * @EIA_MSG_CTX_CREATE: create a context on the granted accelerator (empty
 *	request; struct eia_wire_ctx in the response). A context owns device
 *	memory handles; at most EIA_WIRE_MAX_CTXS per connection (else EMFILE).
 * @EIA_MSG_CTX_DESTROY: destroy a context and free everything it owns
 *	(struct eia_wire_ctx; struct eia_wire_mem_status in the response), after
 *	every SUBMIT sent before it on the connection has finished. Closing the
 *	connection destroys all of its contexts.
 * @EIA_MSG_SUBMIT: run a command buffer in a context (struct
 *	eia_wire_submit; response struct eia_wire_submit_resp).
 */
enum eia_wire_opcode {
	EIA_MSG_HELLO		= 1,
	EIA_MSG_PING		= 2,
	EIA_MSG_SERVER_STATUS	= 3,
	EIA_MSG_CTX_CREATE	= 4,
	EIA_MSG_CTX_DESTROY	= 5,
	EIA_MSG_SUBMIT		= 6,
};

/* Set in every response; clear in every request. */
#define EIA_WIRE_F_RESPONSE		(1u << 0)
#define EIA_WIRE_F_ALL			EIA_WIRE_F_RESPONSE

/**
 * struct eia_wire_hdr - header of every message (32 bytes)
 * @magic: EIA_WIRE_MAGIC
 * @version: EIA_WIRE_VERSION of the sender. A server that does not speak
 *	the version of a HELLO answers EPROTONOSUPPORT with its own version here.
 * @opcode: enum eia_wire_opcode
 * @flags: EIA_WIRE_F_*; unknown bits are a protocol error
 * @status: 0 in requests; in responses 0 or a positive errno
 * @tag: chosen by the requester, echoed in the response
 * @payload_len: bytes of payload following the header
 * @reserved: must be zero
 */
struct eia_wire_hdr {
	__le32 magic;
	__le16 version;
	__le16 opcode;
	__le32 flags;
	__le32 status;
	__le64 tag;
	__le32 payload_len;
	__le32 reserved;
};

/**
 * struct eia_wire_hello_req - EIA_MSG_HELLO request payload
 * @type: requested accelerator type, NUL-terminated and NUL-padded
 * @resume_id: empty, or the id the client held before (on reattach): the
 *	server grants that same id when it is not in use, a fresh one otherwise
 * @flags: must be zero
 * @reserved: must be zero
 */
struct eia_wire_hello_req {
	char type[EIA_TYPE_NAME_MAX];
	char resume_id[EIA_ACCEL_ID_MAX];
	__le32 flags;
	__le32 reserved;
};

/**
 * struct eia_wire_hello_resp - EIA_MSG_HELLO response payload
 * @accel_id: the granted accelerator's id, NUL-terminated
 * @type: the granted type (equal to the requested one), NUL-terminated
 * @memory_bytes: device memory quota
 * @fp32_mtflops: FP32 compute share, in thousandths of a TFLOPS
 * @fp16_mtflops: FP16 compute share, in thousandths of a TFLOPS
 * @max_payload: largest request payload the server accepts
 *	(at most EIA_WIRE_MAX_PAYLOAD)
 * @reserved: zero
 */
struct eia_wire_hello_resp {
	char accel_id[EIA_ACCEL_ID_MAX];
	char type[EIA_TYPE_NAME_MAX];
	__le64 memory_bytes;
	__le32 fp32_mtflops;
	__le32 fp16_mtflops;
	__le32 max_payload;
	__le32 reserved;
};

/* Longest server-side delay a PING may ask for. */
#define EIA_WIRE_PING_MAX_DELAY_MS	10000

/**
 * struct eia_wire_ping - EIA_MSG_PING request and response payload
 * @cookie: any value; the response carries it back unchanged
 * @delay_ms: the server waits this long before answering (at most
 *	EIA_WIRE_PING_MAX_DELAY_MS, else EINVAL): lets tests and operators
 *	observe timeouts and requests in flight. 0 in responses.
 * @reserved: must be zero
 */
struct eia_wire_ping {
	__le64 cookie;
	__le32 delay_ms;
	__le32 reserved;
};

/**
 * struct eia_wire_type_status - one accelerator type a server offers
 * @type: type name, NUL-terminated
 * @memory_bytes: memory quota of one accelerator of this type
 * @fp32_mtflops: FP32 share in thousandths of a TFLOPS
 * @fp16_mtflops: FP16 share in thousandths of a TFLOPS
 * @in_use: accelerators of this type granted now
 * @available: how many more the backend's remaining capacity could grant
 */
struct eia_wire_type_status {
	char type[EIA_TYPE_NAME_MAX];
	__le64 memory_bytes;
	__le32 fp32_mtflops;
	__le32 fp16_mtflops;
	__le32 in_use;
	__le32 available;
};

/* At most this many types in a server status. */
#define EIA_WIRE_MAX_TYPES		64

/**
 * struct eia_wire_server_status - EIA_MSG_SERVER_STATUS response payload
 * @sessions: accelerators granted now, over all connections
 * @connections: client connections open now (including the asking one)
 * @backend: backend name ("cpu", "cuda"), NUL-terminated
 * @ntypes: number of entries in @types (at most EIA_WIRE_MAX_TYPES)
 * @reserved: zero
 * @types: one entry per offered type
 */
struct eia_wire_server_status {
	__le32 sessions;
	__le32 connections;
	char backend[16];
	__le32 ntypes;
	__le32 reserved;
	struct eia_wire_type_status types[];
};

/* Contexts one connection may hold at once. */
#define EIA_WIRE_MAX_CTXS		4096

/**
 * struct eia_wire_ctx - EIA_MSG_CTX_CREATE response, EIA_MSG_CTX_DESTROY request
 * @ctx: context id, chosen by the server, never 0
 */
struct eia_wire_ctx {
	__le64 ctx;
};

/**
 * struct eia_wire_mem_status - EIA_MSG_CTX_DESTROY response payload
 * @memory_used: the accelerator's device memory in use, over all contexts
 */
struct eia_wire_mem_status {
	__le64 memory_used;
};

/**
 * struct eia_wire_submit - EIA_MSG_SUBMIT request payload
 * @ctx: the context the commands run in
 * @ncmds: commands in the buffer (1..EIA_CB_MAX_CMDS)
 * @queue: the context's queue that runs it, 0 .. EIA_CB_QUEUES - 1
 *	(eia_cmdbuf.h says how queues order buffers)
 * @flags: must be zero
 *
 * Followed by the command buffer (eia_cmdbuf.h) as the application built it,
 * except that user addresses are 0 and each EIA_CB_COPY_H2D command is
 * followed by its bytes of data, padded with zeros to EIA_CB_ALIGN. The
 * buffer without the data is at most EIA_CB_MAX_BYTES; the whole payload at
 * most the max_payload granted in HELLO.
 */
struct eia_wire_submit {
	__le64 ctx;
	__le32 ncmds;
	__le16 queue;
	__le16 flags;
};

/* eia_wire_submit_resp.failed when every command succeeded. */
#define EIA_WIRE_NONE_FAILED		0xffffffffu

/**
 * struct eia_wire_submit_resp - EIA_MSG_SUBMIT response payload
 * @ncmds: equal to the request's ncmds
 * @failed: index of the first command that failed, or EIA_WIRE_NONE_FAILED
 * @memory_used: the accelerator's device memory in use after this buffer,
 *	over all its contexts
 *
 * Followed by @ncmds struct eia_cb_result (little-endian), then the data of
 * each EIA_CB_COPY_D2H whose result is 0, in command order, unpadded. A
 * header status other than 0 means the buffer was not run at all (unknown
 * context: ENOENT; malformed buffer: EINVAL); then the payload is empty or
 * an error message.
 */
struct eia_wire_submit_resp {
	__le32 ncmds;
	__le32 failed;
	__le64 memory_used;
};

/**
 * eia_wire_check_hdr() - validate a header whose fields were converted to CPU order
 * @magic: header magic
 * @version: header version
 * @flags: header flags
 * @payload_len: header payload length
 * @reserved: header reserved field
 *
 * Shared by every receiver so that all of them refuse the same messages.
 *
 * Return: 0, -EBADMSG (bad magic, flags or reserved), -EPROTONOSUPPORT
 * (version) or -EMSGSIZE (payload too large).
 */
static inline int eia_wire_check_hdr(__u32 magic, __u16 version, __u32 flags,
				     __u32 payload_len, __u32 reserved)
{
	if (magic != EIA_WIRE_MAGIC || (flags & ~EIA_WIRE_F_ALL) || reserved)
		return -EBADMSG;
	if (version != EIA_WIRE_VERSION)
		return -EPROTONOSUPPORT;
	if (payload_len > EIA_WIRE_MAX_PAYLOAD)
		return -EMSGSIZE;
	return 0;
}

#endif /* _UAPI_EIA_WIRE_H */
