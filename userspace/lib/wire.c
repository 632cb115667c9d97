// SPDX-License-Identifier: MIT
#include "wire.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

void eia_wire_hdr_pack(struct eia_wire_hdr *out, uint16_t opcode, uint32_t flags,
		       uint32_t status, uint64_t tag, uint32_t payload_len)
{
	memset(out, 0, sizeof(*out));
	out->magic = htole32(EIA_WIRE_MAGIC);
	out->version = htole16(EIA_WIRE_VERSION);
	out->opcode = htole16(opcode);
	out->flags = htole32(flags);
	out->status = htole32(status);
	out->tag = htole64(tag);
	out->payload_len = htole32(payload_len);
}

int eia_wire_hdr_unpack(const struct eia_wire_hdr *in, struct eia_msg_hdr *out)
{
	out->magic = le32toh(in->magic);
	out->version = le16toh(in->version);
	out->opcode = le16toh(in->opcode);
	out->flags = le32toh(in->flags);
	out->status = le32toh(in->status);
	out->tag = le64toh(in->tag);
	out->payload_len = le32toh(in->payload_len);
	out->reserved = le32toh(in->reserved);
	return eia_wire_check_hdr(out->magic, out->version, out->flags,
				  out->payload_len, out->reserved);
}

int eia_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_iov(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (iovcnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int eia_write_full(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return send_iov(fd, &iov, 1);
}

int eia_wire_send(int fd, uint16_t opcode, uint32_t flags, uint32_t status,
		  uint64_t tag, const void *payload, uint32_t payload_len)
{
	struct eia_wire_hdr hdr;
	struct iovec iov[2];

	if (payload_len > EIA_WIRE_MAX_PAYLOAD)
		return -EMSGSIZE;
	eia_wire_hdr_pack(&hdr, opcode, flags, status, tag, payload_len);
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = payload_len;
	return send_iov(fd, iov, payload_len ? 2 : 1);
}

static int discard(int fd, size_t len)
{
	char sink[4096];

	while (len) {
		size_t chunk = len < sizeof(sink) ? len : sizeof(sink);
		int ret = eia_read_full(fd, sink, chunk);

		if (ret)
			return ret;
		len -= chunk;
	}
	return 0;
}

int eia_wire_recv(int fd, struct eia_msg_hdr *hdr, void *payload, size_t cap)
{
	struct eia_wire_hdr raw;
	int ret;

	ret = eia_read_full(fd, &raw, sizeof(raw));
	if (ret)
		return ret;
	ret = eia_wire_hdr_unpack(&raw, hdr);
	if (ret)
		return ret;
	if (hdr->payload_len > cap) {
		ret = discard(fd, hdr->payload_len);
		return ret ? ret : -EMSGSIZE;
	}
	return eia_read_full(fd, payload, hdr->payload_len);
}

int eia_wire_put_str(char *field, size_t field_size, const char *src)
{
	size_t len = strlen(src);

	if (len >= field_size)
		return -ENAMETOOLONG;
	memset(field, 0, field_size);
	memcpy(field, src, len);
	return 0;
}

int eia_wire_str_ok(const char *field, size_t field_size)
{
	return memchr(field, '\0', field_size) != NULL;
}
