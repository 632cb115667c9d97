/* SPDX-License-Identifier: MIT */
/*
 * Userspace side of the eia wire codec (uapi/eia_wire.h): header packing and
 * checking, whole-message send and receive on a blocking stream socket.
 * Shared by gpud, the eia CLI and libeia; the driver has its own in-kernel
 * counterpart built on the same uapi header and eia_wire_check_hdr().
 */
#ifndef EIA_USERSPACE_WIRE_H
#define EIA_USERSPACE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "eia_wire.h"

/* A header in CPU byte order. */
struct eia_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t opcode;
	uint32_t flags;
	uint32_t status;
	uint64_t tag;
	uint32_t payload_len;
	uint32_t reserved;
};

/* Fill a wire header for a message of our own version. */
void eia_wire_hdr_pack(struct eia_wire_hdr *out, uint16_t opcode, uint32_t flags,
		       uint32_t status, uint64_t tag, uint32_t payload_len);

/*
 * Convert a received header to CPU order and check it with
 * eia_wire_check_hdr(). @out is filled even on failure, so a server can
 * still answer with the sender's tag and opcode.
 * Returns 0 or a negative errno.
 */
int eia_wire_hdr_unpack(const struct eia_wire_hdr *in, struct eia_msg_hdr *out);

/*
 * Read exactly @len bytes, retrying on EINTR and short reads.
 * Returns 0, -ECONNRESET on EOF (also EOF in the middle), or a negative errno.
 */
int eia_read_full(int fd, void *buf, size_t len);

/* Write exactly @len bytes (MSG_NOSIGNAL). Returns 0 or a negative errno. */
int eia_write_full(int fd, const void *buf, size_t len);

/*
 * Send one message: header and payload in a single sendmsg where possible.
 * Returns 0 or a negative errno.
 */
int eia_wire_send(int fd, uint16_t opcode, uint32_t flags, uint32_t status,
		  uint64_t tag, const void *payload, uint32_t payload_len);

/*
 * Receive one message. The payload goes to @payload when it fits in @cap;
 * a larger payload is read and discarded and -EMSGSIZE returned, so the
 * stream stays in step. A header failing eia_wire_check_hdr() returns that
 * error with @hdr filled and nothing more read: the stream is then unusable.
 * Returns 0 or a negative errno.
 */
int eia_wire_recv(int fd, struct eia_msg_hdr *hdr, void *payload, size_t cap);

/*
 * Copy a C string into a fixed NUL-padded wire field; fails with -ENAMETOOLONG
 * when it (with its NUL) does not fit.
 */
int eia_wire_put_str(char *field, size_t field_size, const char *src);

/* True when a fixed wire field holds a NUL, i.e. is a safe C string. */
int eia_wire_str_ok(const char *field, size_t field_size);

#endif /* EIA_USERSPACE_WIRE_H */
