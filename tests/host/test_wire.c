// SPDX-License-Identifier: MIT
/*
 * The userspace wire codec (userspace/lib/wire.c) against the layout that
 * uapi/eia_wire.h documents, over real socketpairs.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "wire.h"

FIXTURE(pair) {
	int fd[2];
};

FIXTURE_SETUP(pair)
{
	struct timeval tv = { .tv_sec = 5 };

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, self->fd));
	/* Bounded: a codec bug must fail the test, not hang it. */
	ASSERT_EQ(0, setsockopt(self->fd[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, setsockopt(self->fd[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
}

FIXTURE_TEARDOWN(pair)
{
	close(self->fd[0]);
	close(self->fd[1]);
}

/* Writes a buffer in small pieces with pauses, so the reader sees short reads. */
struct trickle {
	int fd;
	const unsigned char *buf;
	size_t len, chunk;
};

static void *trickle_main(void *arg)
{
	struct trickle *t = arg;
	struct timespec pause = { .tv_nsec = 200 * 1000 };
	size_t off, n;

	for (off = 0; off < t->len; off += n) {
		n = t->len - off < t->chunk ? t->len - off : t->chunk;
		if (write(t->fd, t->buf + off, n) != (ssize_t)n)
			break;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/* Interrupts a thread over and over until told to stop. */
struct interrupter {
	pthread_t target;
	atomic_int stop;
};

static void *interrupter_main(void *arg)
{
	struct interrupter *in = arg;

	while (!in->stop) {
		pthread_kill(in->target, SIGUSR1);
		usleep(500);
	}
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* Signals the calling thread every 0.5 ms; without SA_RESTART, so calls fail with EINTR. */
static int start_interrupter(struct interrupter *in, pthread_t *thr)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	in->target = pthread_self();
	in->stop = 0;
	if (sigaction(SIGUSR1, &sa, NULL))
		return -1;
	return pthread_create(thr, NULL, interrupter_main, in);
}

TEST(struct_layout)
{
	ASSERT_EQ(32, sizeof(struct eia_wire_hdr));
	EXPECT_EQ(0, offsetof(struct eia_wire_hdr, magic));
	EXPECT_EQ(4, offsetof(struct eia_wire_hdr, version));
	EXPECT_EQ(6, offsetof(struct eia_wire_hdr, opcode));
	EXPECT_EQ(8, offsetof(struct eia_wire_hdr, flags));
	EXPECT_EQ(12, offsetof(struct eia_wire_hdr, status));
	EXPECT_EQ(16, offsetof(struct eia_wire_hdr, tag));
	EXPECT_EQ(24, offsetof(struct eia_wire_hdr, payload_len));
	EXPECT_EQ(28, offsetof(struct eia_wire_hdr, reserved));
	EXPECT_EQ(80, sizeof(struct eia_wire_hello_req));
	EXPECT_EQ(96, sizeof(struct eia_wire_hello_resp));
	EXPECT_EQ(72, offsetof(struct eia_wire_hello_resp, memory_bytes));
	EXPECT_EQ(16, sizeof(struct eia_wire_ping));
	EXPECT_EQ(56, sizeof(struct eia_wire_type_status));
	EXPECT_EQ(32, sizeof(struct eia_wire_server_status));
}

TEST(hdr_pack_byte_layout)
{
	static const unsigned char want[32] = {
		'E', 'I', 'A', '1',		/* magic */
		0x01, 0x00,			/* version */
		0x03, 0x02,			/* opcode 0x0203 */
		0x01, 0x00, 0x00, 0x00,		/* flags */
		0x44, 0x33, 0x22, 0x11,		/* status */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	/* tag */
		0xd0, 0xc0, 0xb0, 0x00,		/* payload_len */
		0x00, 0x00, 0x00, 0x00,		/* reserved */
	};
	struct eia_wire_hdr h;

	memset(&h, 0xff, sizeof(h));
	eia_wire_hdr_pack(&h, 0x0203, EIA_WIRE_F_RESPONSE, 0x11223344,
			  0x0102030405060708ull, 0xb0c0d0);
	EXPECT_EQ(0, memcmp(&h, want, sizeof(want)));
}

TEST(hdr_pack_unpack_round_trip)
{
	struct eia_wire_hdr raw;
	struct eia_msg_hdr h;

	eia_wire_hdr_pack(&raw, EIA_MSG_PING, 0, 0, UINT64_MAX - 1, EIA_WIRE_MAX_PAYLOAD);
	ASSERT_EQ(0, eia_wire_hdr_unpack(&raw, &h));
	EXPECT_EQ(EIA_WIRE_MAGIC, h.magic);
	EXPECT_EQ(EIA_WIRE_VERSION, h.version);
	EXPECT_EQ(EIA_MSG_PING, h.opcode);
	EXPECT_EQ(0, h.flags);
	EXPECT_EQ(0, h.status);
	EXPECT_EQ(UINT64_MAX - 1, h.tag);
	EXPECT_EQ(EIA_WIRE_MAX_PAYLOAD, h.payload_len);
	EXPECT_EQ(0, h.reserved);
}

TEST(check_hdr_rejections)
{
	const __u32 m = EIA_WIRE_MAGIC;
	unsigned int bit;

	EXPECT_EQ(0, eia_wire_check_hdr(m, 1, 0, 0, 0));
	EXPECT_EQ(0, eia_wire_check_hdr(m, 1, EIA_WIRE_F_RESPONSE, EIA_WIRE_MAX_PAYLOAD, 0));
	EXPECT_EQ(-EBADMSG, eia_wire_check_hdr(0x31414946, 1, 0, 0, 0));
	EXPECT_EQ(-EBADMSG, eia_wire_check_hdr(0x45494131, 1, 0, 0, 0)); /* byte-swapped */
	for (bit = 1; bit < 32; bit++)
		EXPECT_EQ(-EBADMSG, eia_wire_check_hdr(m, 1, 1u << bit, 0, 0));
	EXPECT_EQ(-EBADMSG, eia_wire_check_hdr(m, 1, 0, 0, 1));
	EXPECT_EQ(-EBADMSG, eia_wire_check_hdr(m, 1, 0, 0, 0x80000000u));
	EXPECT_EQ(-EPROTONOSUPPORT, eia_wire_check_hdr(m, 0, 0, 0, 0));
	EXPECT_EQ(-EPROTONOSUPPORT, eia_wire_check_hdr(m, 2, 0, 0, 0));
	EXPECT_EQ(-EMSGSIZE, eia_wire_check_hdr(m, 1, 0, EIA_WIRE_MAX_PAYLOAD + 1, 0));
	EXPECT_EQ(-EMSGSIZE, eia_wire_check_hdr(m, 1, 0, UINT32_MAX, 0));
	/* A broken header is EBADMSG whatever else is wrong with it. */
	EXPECT_EQ(-EBADMSG, eia_wire_check_hdr(0, 2, 0, UINT32_MAX, 0));
	EXPECT_EQ(-EPROTONOSUPPORT, eia_wire_check_hdr(m, 2, 0, UINT32_MAX, 0));
}

TEST(unpack_fills_fields_on_failure)
{
	struct eia_wire_hdr raw;
	struct eia_msg_hdr h;

	eia_wire_hdr_pack(&raw, 42, 0, 0, 0x1234, 8);
	raw.version = htole16(7);
	raw.reserved = htole32(9);
	EXPECT_EQ(-EBADMSG, eia_wire_hdr_unpack(&raw, &h));
	EXPECT_EQ(42, h.opcode);
	EXPECT_EQ(0x1234, h.tag);
	EXPECT_EQ(7, h.version);
	EXPECT_EQ(9, h.reserved);
	EXPECT_EQ(8, h.payload_len);
}

TEST_F(pair, send_recv_round_trip)
{
	char payload[100], got[128];
	struct eia_msg_hdr h;
	unsigned int i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (char)i;
	ASSERT_EQ(0, eia_wire_send(self->fd[0], EIA_MSG_HELLO, 0, 0, 11, payload,
				   sizeof(payload)));
	ASSERT_EQ(0, eia_wire_send(self->fd[0], EIA_MSG_SERVER_STATUS,
				   EIA_WIRE_F_RESPONSE, EPERM, 12, NULL, 0));
	ASSERT_EQ(0, eia_wire_recv(self->fd[1], &h, got, sizeof(got)));
	EXPECT_EQ(EIA_MSG_HELLO, h.opcode);
	EXPECT_EQ(11, h.tag);
	EXPECT_EQ(sizeof(payload), h.payload_len);
	EXPECT_EQ(0, memcmp(payload, got, sizeof(payload)));
	ASSERT_EQ(0, eia_wire_recv(self->fd[1], &h, got, sizeof(got)));
	EXPECT_EQ(EIA_MSG_SERVER_STATUS, h.opcode);
	EXPECT_EQ(EIA_WIRE_F_RESPONSE, h.flags);
	EXPECT_EQ(EPERM, h.status);
	EXPECT_EQ(12, h.tag);
	EXPECT_EQ(0, h.payload_len);
}

TEST_F(pair, read_full_short_reads)
{
	unsigned char buf[300], got[300];
	struct trickle t = { self->fd[0], buf, sizeof(buf), 7 };
	struct interrupter intr;
	pthread_t thr, signaller;
	unsigned int i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 13);
	ASSERT_EQ(0, pthread_create(&thr, NULL, trickle_main, &t));
	/* Reads both come back short and fail with EINTR. */
	ASSERT_EQ(0, start_interrupter(&intr, &signaller));
	EXPECT_EQ(0, eia_read_full(self->fd[1], got, sizeof(got)));
	intr.stop = 1;
	pthread_join(signaller, NULL);
	pthread_join(thr, NULL);
	EXPECT_EQ(0, memcmp(buf, got, sizeof(buf)));
}

TEST_F(pair, recv_message_in_pieces)
{
	unsigned char msg[sizeof(struct eia_wire_hdr) + 5];
	struct trickle t = { self->fd[0], msg, sizeof(msg), 3 };
	struct eia_wire_hdr raw;
	struct eia_msg_hdr h;
	pthread_t thr;
	char got[8];

	eia_wire_hdr_pack(&raw, EIA_MSG_PING, 0, 0, 99, 5);
	memcpy(msg, &raw, sizeof(raw));
	memcpy(msg + sizeof(raw), "abcde", 5);
	ASSERT_EQ(0, pthread_create(&thr, NULL, trickle_main, &t));
	EXPECT_EQ(0, eia_wire_recv(self->fd[1], &h, got, sizeof(got)));
	pthread_join(thr, NULL);
	EXPECT_EQ(99, h.tag);
	EXPECT_EQ(5, h.payload_len);
	EXPECT_EQ(0, memcmp(got, "abcde", 5));
}

TEST_F(pair, read_full_eof)
{
	char buf[16];

	ASSERT_EQ(3, write(self->fd[0], "abc", 3));
	close(self->fd[0]);
	self->fd[0] = -1;
	/* EOF in the middle of what was asked for... */
	EXPECT_EQ(-ECONNRESET, eia_read_full(self->fd[1], buf, sizeof(buf)));
	/* ...and at the very start. */
	EXPECT_EQ(-ECONNRESET, eia_read_full(self->fd[1], buf, 1));
}

TEST_F(pair, read_full_timeout_is_an_error)
{
	char buf[4];
	struct timeval tv = { .tv_usec = 50 * 1000 };

	ASSERT_EQ(0, setsockopt(self->fd[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	EXPECT_EQ(-EAGAIN, eia_read_full(self->fd[1], buf, sizeof(buf)));
}

TEST_F(pair, oversize_payload_discarded_stream_in_step)
{
	static char big[5000];
	struct eia_msg_hdr h;
	char got[100];

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(0, eia_wire_send(self->fd[0], 77, 0, 0, 1, big, sizeof(big)));
	ASSERT_EQ(0, eia_wire_send(self->fd[0], EIA_MSG_PING, 0, 0, 2, "next", 4));
	EXPECT_EQ(-EMSGSIZE, eia_wire_recv(self->fd[1], &h, got, sizeof(got)));
	EXPECT_EQ(77, h.opcode);
	EXPECT_EQ(1, h.tag);
	EXPECT_EQ(sizeof(big), h.payload_len);
	ASSERT_EQ(0, eia_wire_recv(self->fd[1], &h, got, sizeof(got)));
	EXPECT_EQ(2, h.tag);
	EXPECT_EQ(4, h.payload_len);
	EXPECT_EQ(0, memcmp(got, "next", 4));
}

TEST_F(pair, bad_header_reads_nothing_more)
{
	struct eia_wire_hdr raw;
	struct eia_msg_hdr h;
	char got[16];

	eia_wire_hdr_pack(&raw, EIA_MSG_PING, 0, 0, 5, 8);
	raw.magic = htole32(0xdeadbeef);
	ASSERT_EQ(0, eia_write_full(self->fd[0], &raw, sizeof(raw)));
	ASSERT_EQ(0, eia_write_full(self->fd[0], "trailing", 8));
	EXPECT_EQ(-EBADMSG, eia_wire_recv(self->fd[1], &h, got, sizeof(got)));
	EXPECT_EQ(0xdeadbeef, h.magic);
	EXPECT_EQ(5, h.tag);
	ASSERT_EQ(0, eia_read_full(self->fd[1], got, 8));
	EXPECT_EQ(0, memcmp(got, "trailing", 8));

	/* An oversized payload_len: refused before reading a byte of payload. */
	eia_wire_hdr_pack(&raw, EIA_MSG_PING, 0, 0, 6, 0);
	raw.payload_len = htole32(EIA_WIRE_MAX_PAYLOAD + 1);
	ASSERT_EQ(0, eia_write_full(self->fd[0], &raw, sizeof(raw)));
	ASSERT_EQ(0, eia_write_full(self->fd[0], "rest", 4));
	EXPECT_EQ(-EMSGSIZE, eia_wire_recv(self->fd[1], &h, got, sizeof(got)));
	EXPECT_EQ(EIA_WIRE_MAX_PAYLOAD + 1, h.payload_len);
	ASSERT_EQ(0, eia_read_full(self->fd[1], got, 4));
	EXPECT_EQ(0, memcmp(got, "rest", 4));
}

TEST_F(pair, send_refuses_oversize)
{
	char c;

	EXPECT_EQ(-EMSGSIZE, eia_wire_send(self->fd[0], EIA_MSG_PING, 0, 0, 1, &c,
					   EIA_WIRE_MAX_PAYLOAD + 1));
	/* Nothing at all went out. */
	EXPECT_EQ(-1, recv(self->fd[1], &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

/* Reads a whole stream slowly, so that the writer blocks. */
struct slow_reader {
	int fd;
	unsigned char *buf;
	size_t len;
	size_t got;
};

static void *slow_reader_main(void *arg)
{
	struct slow_reader *s = arg;
	ssize_t n;

	while (s->got < s->len) {
		n = read(s->fd, s->buf + s->got,
			 s->len - s->got < 65536 ? s->len - s->got : 65536);
		if (n <= 0)
			break;
		s->got += (size_t)n;
		usleep(5000);
	}
	return NULL;
}

TEST_F(pair, large_message_partial_writes)
{
	const size_t len = 1u << 20;	/* several socket buffers */
	unsigned char *out = malloc(len), *in = malloc(len + 32);
	struct slow_reader s = { .fd = self->fd[1], .buf = in, .len = len + 32 };
	struct interrupter intr;
	pthread_t reader, signaller;
	struct eia_wire_hdr raw;
	struct eia_msg_hdr h;
	size_t i;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(i * 2654435761u >> 24);
	/*
	 * A signal makes a blocked sendmsg() return what it sent so far, or
	 * EINTR: eia_wire_send() must go on from exactly there.
	 */
	ASSERT_EQ(0, pthread_create(&reader, NULL, slow_reader_main, &s));
	ASSERT_EQ(0, start_interrupter(&intr, &signaller));
	EXPECT_EQ(0, eia_wire_send(self->fd[0], EIA_MSG_PING, 0, 0, 3, out, (uint32_t)len));
	intr.stop = 1;
	pthread_join(signaller, NULL);
	pthread_join(reader, NULL);
	ASSERT_EQ(len + 32, s.got);
	memcpy(&raw, in, sizeof(raw));
	ASSERT_EQ(0, eia_wire_hdr_unpack(&raw, &h));
	EXPECT_EQ(3, h.tag);
	EXPECT_EQ(len, h.payload_len);
	EXPECT_EQ(0, memcmp(out, in + 32, len));
	free(out);
	free(in);
}

TEST_F(pair, write_to_closed_peer_is_epipe)
{
	close(self->fd[1]);
	self->fd[1] = -1;
	/* MSG_NOSIGNAL: an error, not a SIGPIPE that kills the test. */
	EXPECT_EQ(-EPIPE, eia_write_full(self->fd[0], "x", 1));
	EXPECT_EQ(-EPIPE, eia_wire_send(self->fd[0], EIA_MSG_PING, 0, 0, 1, NULL, 0));
}

TEST(put_str_edges)
{
	char field[8];
	unsigned int i;

	memset(field, 0x7f, sizeof(field));
	EXPECT_EQ(0, eia_wire_put_str(field, sizeof(field), "abc"));
	EXPECT_EQ(0, memcmp(field, "abc\0\0\0\0\0", 8));

	memset(field, 0x7f, sizeof(field));
	EXPECT_EQ(0, eia_wire_put_str(field, sizeof(field), "1234567"));
	EXPECT_EQ(0, memcmp(field, "1234567", 8));	/* with its NUL */

	memset(field, 0x7f, sizeof(field));
	EXPECT_EQ(-ENAMETOOLONG, eia_wire_put_str(field, sizeof(field), "12345678"));
	for (i = 0; i < sizeof(field); i++)
		EXPECT_EQ(0x7f, field[i]);	/* untouched */

	EXPECT_EQ(0, eia_wire_put_str(field, sizeof(field), ""));
	for (i = 0; i < sizeof(field); i++)
		EXPECT_EQ(0, field[i]);
}

TEST(str_ok_edges)
{
	char field[4];

	memcpy(field, "abc", 4);
	EXPECT_TRUE(eia_wire_str_ok(field, sizeof(field)));
	memcpy(field, "abcd", 4);
	EXPECT_FALSE(eia_wire_str_ok(field, sizeof(field)));
	memset(field, 0, sizeof(field));
	EXPECT_TRUE(eia_wire_str_ok(field, sizeof(field)));
	/* Only the field's own bytes count, not what follows it. */
	memcpy(field, "ab\0", 4);
	EXPECT_FALSE(eia_wire_str_ok(field, 2));
}

TEST_HARNESS_MAIN
