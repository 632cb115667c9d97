// SPDX-License-Identifier: MIT
/*
 * gpud, the real daemon (its ASan/UBSan build), over real TCP sockets on
 * 127.0.0.1: grants, every malformed message the wire protocol names,
 * capacity accounting, the config file, concurrency, a bounded fuzz and a
 * clean shutdown. Every test ends by checking that gpud exits 0 on SIGTERM
 * and that its sanitizers reported nothing.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpud_util.h"
#include "kselftest_harness.h"

#define GIB		(1ull << 30)
#define WAIT_MS		5000
#define RESUME_ID	"eia-0123456789abcdef0123456789abcdef"
/* Capacity far beyond what the tests attach, whatever the host's RAM. */
#define BIG_CAPACITY	"capacity memory=1T fp32=1000\n"

static const struct {
	const char *name;
	uint64_t memory_bytes;
	uint32_t fp32_mtflops, fp16_mtflops;
} default_types[] = {
	{ "eia1.medium", 1 * GIB, 1000, 8000 },
	{ "eia1.large", 2 * GIB, 2000, 16000 },
	{ "eia1.xlarge", 4 * GIB, 4000, 32000 },
	{ "eia2.medium", 2 * GIB, 1000, 8000 },
	{ "eia2.large", 4 * GIB, 2000, 16000 },
	{ "eia2.xlarge", 8 * GIB, 4000, 32000 },
};

#define NTYPES (sizeof(default_types) / sizeof(default_types[0]))

static bool id_ok(const char *id)
{
	return strlen(id) == EIA_ACCEL_ID_LEN && !strncmp(id, "eia-", 4) &&
	       strspn(id + 4, "0123456789abcdef") == 32;
}

/* gpud exits 0 on SIGTERM, says so, and its sanitizers found nothing. */
static void check_clean_exit(struct __test_metadata *_metadata, struct gpud_proc *g)
{
	int status;

	if (g->pid <= 0)
		return;
	status = gpud_stop(g);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(gpud_log_has(g, "gpud: shutting down ("));
	EXPECT_TRUE(gpud_sanitizer_clean(g));
	if (!_metadata->passed && g->log)
		TH_LOG("gpud's log (last 6000 bytes):\n%s",
		       g->log + (g->len > 6000 ? g->len - 6000 : 0));
	gpud_free(g);
}

/*
 * Receive a failed response to (@op, @tag) and check it: status @err and a
 * NUL-terminated message of at most EIA_WIRE_ERRMSG_MAX bytes holding @msg.
 */
static void expect_error(struct __test_metadata *_metadata, int fd, uint16_t op,
			 uint64_t tag, int err, const char *msg)
{
	struct reply *r = malloc(sizeof(*r));

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, recv_reply(fd, r));
	EXPECT_EQ(EIA_WIRE_F_RESPONSE, r->hdr.flags);
	EXPECT_EQ(op, r->hdr.opcode);
	EXPECT_EQ(tag, r->hdr.tag);
	EXPECT_EQ(EIA_WIRE_VERSION, r->hdr.version);
	EXPECT_EQ(err, r->hdr.status);
	ASSERT_GT(r->hdr.payload_len, 1);
	ASSERT_LE(r->hdr.payload_len, EIA_WIRE_ERRMSG_MAX);
	EXPECT_EQ(0, r->payload[r->hdr.payload_len - 1]);
	EXPECT_EQ(r->hdr.payload_len - 1, strlen((char *)r->payload));
	if (msg && !strstr((char *)r->payload, msg))
		TH_LOG("message '%s' lacks '%s'", r->payload, msg);
	EXPECT_TRUE(!msg || strstr((char *)r->payload, msg));
	free(r);
}

/* Waits until @needle occurs @n times in gpud's log. */
static bool wait_log_count(struct gpud_proc *g, const char *needle, unsigned int n)
{
	long long deadline = now_ms() + WAIT_MS;

	while (gpud_log_count(g, needle) < n && now_ms() < deadline)
		usleep(10000);
	return gpud_log_count(g, needle) == n;
}

FIXTURE(gpud) {
	struct gpud_proc g;
	struct reply r;
};

FIXTURE_SETUP(gpud)
{
	ASSERT_EQ(0, gpud_start(&self->g, BIG_CAPACITY, NULL));
}

FIXTURE_TEARDOWN(gpud)
{
	check_clean_exit(_metadata, &self->g);
}

TEST_F(gpud, hello_grants_every_default_type)
{
	struct eia_wire_hello_resp resp[NTYPES];
	struct server_status st;
	int fd[NTYPES], i, j;
	char line[160];

	for (i = 0; i < (int)NTYPES; i++) {
		fd[i] = client_connect(self->g.port);
		ASSERT_GE(fd[i], 0);
		ASSERT_EQ(0, do_hello(fd[i], default_types[i].name, NULL, 100 + i,
				      &self->r, &resp[i]));
		EXPECT_TRUE(id_ok(resp[i].accel_id));
		EXPECT_STREQ(default_types[i].name, resp[i].type);
		EXPECT_EQ(default_types[i].memory_bytes, le64toh(resp[i].memory_bytes));
		EXPECT_EQ(default_types[i].fp32_mtflops, le32toh(resp[i].fp32_mtflops));
		EXPECT_EQ(default_types[i].fp16_mtflops, le32toh(resp[i].fp16_mtflops));
		EXPECT_EQ(EIA_WIRE_MAX_PAYLOAD, le32toh(resp[i].max_payload));
		EXPECT_EQ(0, resp[i].reserved);
		for (j = 0; j < i; j++)
			EXPECT_STRNE(resp[j].accel_id, resp[i].accel_id);
		snprintf(line, sizeof(line), "gpud: attach id=%s type=%s peer=127.0.0.1:",
			 resp[i].accel_id, default_types[i].name);
		EXPECT_TRUE(gpud_log_wait(&self->g, line, WAIT_MS));
	}

	ASSERT_EQ(0, query_status(self->g.port, &st));
	EXPECT_EQ(NTYPES, st.sessions);
	EXPECT_EQ(NTYPES + 1, st.connections);
	EXPECT_STREQ("cpu", st.backend);
	ASSERT_EQ(NTYPES, st.ntypes);
	for (i = 0; i < (int)NTYPES; i++) {
		j = status_find(&st, default_types[i].name);
		ASSERT_GE(j, 0);
		EXPECT_EQ(default_types[i].memory_bytes, st.types[j].memory_bytes);
		EXPECT_EQ(default_types[i].fp32_mtflops, st.types[j].fp32_mtflops);
		EXPECT_EQ(default_types[i].fp16_mtflops, st.types[j].fp16_mtflops);
		EXPECT_EQ(1, st.types[j].in_use);
	}

	for (i = 0; i < (int)NTYPES; i++)
		close(fd[i]);
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
	for (i = 0; i < (int)NTYPES; i++) {
		snprintf(line, sizeof(line), "gpud: detach id=%s type=%s peer=127.0.0.1:",
			 resp[i].accel_id, default_types[i].name);
		EXPECT_TRUE(gpud_log_wait(&self->g, line, WAIT_MS));
	}
}

TEST_F(gpud, resume_id_honoured_when_free)
{
	struct eia_wire_hello_resp resp;
	int a, b, c;

	a = client_connect(self->g.port);
	ASSERT_GE(a, 0);
	ASSERT_EQ(0, do_hello(a, "eia2.medium", RESUME_ID, 1, &self->r, &resp));
	EXPECT_STREQ(RESUME_ID, resp.accel_id);

	/* Held by a: b gets a fresh id. */
	b = client_connect(self->g.port);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, do_hello(b, "eia2.medium", RESUME_ID, 2, &self->r, &resp));
	EXPECT_TRUE(id_ok(resp.accel_id));
	EXPECT_STRNE(RESUME_ID, resp.accel_id);

	/* a goes away: a reattach gets the id back, even with another type. */
	close(a);
	ASSERT_TRUE(wait_counts(self->g.port, 1, 1, WAIT_MS));
	c = client_connect(self->g.port);
	ASSERT_GE(c, 0);
	ASSERT_EQ(0, do_hello(c, "eia1.large", RESUME_ID, 3, &self->r, &resp));
	EXPECT_STREQ(RESUME_ID, resp.accel_id);
	EXPECT_STREQ("eia1.large", resp.type);
	close(b);
	close(c);
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
}

TEST_F(gpud, malformed_resume_id_einval)
{
	static const char *const bad[] = {
		"eia-0123456789ABCDEF0123456789abcdef",	/* uppercase */
		"eia-0123456789abcdef0123456789abcde",	/* short */
		"eia-0123456789abcdef0123456789abcdef0",	/* long */
		"xyz-0123456789abcdef0123456789abcdef",
		"eia-0123456789abcdef0123456789abcdeg",
	};
	struct eia_wire_hello_resp resp;
	unsigned int i;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(EINVAL, do_hello(fd, "eia1.medium", bad[i], i, &self->r, &resp));
	/* Refusals grant nothing, and the connection still works. */
	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 9, &self->r, &resp));
	close(fd);
}

TEST_F(gpud, unknown_type_enoent)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_hello_req req;
	struct eia_wire_hdr h;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	hello_req(&req, "eia9.huge", NULL);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 41, sizeof(req));
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
	expect_error(_metadata, fd, EIA_MSG_HELLO, 41, ENOENT,
		     "unknown accelerator type 'eia9.huge'");

	/* Names are exact: no case folding, no prefixes, not empty. */
	EXPECT_EQ(ENOENT, do_hello(fd, "EIA1.MEDIUM", NULL, 42, &self->r, &resp));
	EXPECT_EQ(ENOENT, do_hello(fd, "eia1", NULL, 43, &self->r, &resp));
	EXPECT_EQ(ENOENT, do_hello(fd, "", NULL, 44, &self->r, &resp));
	/* Control characters do not reach the message. */
	EXPECT_EQ(ENOENT, do_hello(fd, "a\nb\x1b", NULL, 45, &self->r, &resp));
	EXPECT_STREQ("unknown accelerator type 'a?b?'", (char *)self->r.payload);

	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 46, &self->r, &resp));
	close(fd);
}

TEST_F(gpud, other_version_eprotonosupport_then_close)
{
	static const uint16_t versions[] = { 0, 2, 0xffff };
	struct eia_wire_hello_req req;
	struct eia_wire_hdr h;
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		fd = client_connect(self->g.port);
		ASSERT_GE(fd, 0);
		hello_req(&req, "eia1.medium", NULL);
		eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 50 + i, sizeof(req));
		h.version = htole16(versions[i]);
		ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
		/* The reply carries gpud's own version (checked in expect_error). */
		expect_error(_metadata, fd, EIA_MSG_HELLO, 50 + i, EPROTONOSUPPORT,
			     "gpud speaks version 1");
		EXPECT_TRUE(peer_closed(fd));
		close(fd);
	}
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
}

TEST_F(gpud, malformed_header_ebadmsg_then_close)
{
	struct eia_wire_hello_req req;
	struct eia_wire_hdr h;
	int fd, i;

	for (i = 0; i < 4; i++) {
		fd = client_connect(self->g.port);
		ASSERT_GE(fd, 0);
		hello_req(&req, "eia1.medium", NULL);
		eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 60 + i, sizeof(req));
		if (i == 0)
			h.magic = htole32(0x32414945);		/* "EIA2" */
		else if (i == 1)
			h.flags = htole32(1u << 5);		/* unknown flag */
		else if (i == 2)
			h.reserved = htole32(1);
		else
			h.magic = htole32(0x45494131);		/* byte-swapped */
		ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
		expect_error(_metadata, fd, EIA_MSG_HELLO, 60 + i, EBADMSG,
			     "malformed header");
		EXPECT_TRUE(peer_closed(fd));
		close(fd);
	}
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
}

TEST_F(gpud, error_reply_survives_unread_input)
{
	static char junk[32 * 1024];
	struct eia_wire_hdr h;
	int fd;

	/*
	 * A bad header followed by more than gpud will read: its reply must
	 * still arrive, not be lost to a reset from closing with unread input.
	 */
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 65, 0);
	h.magic = htole32(0);
	ASSERT_EQ(0, send_raw(fd, &h, junk, sizeof(junk)));
	usleep(200 * 1000);
	expect_error(_metadata, fd, EIA_MSG_HELLO, 65, EBADMSG, "malformed header");
	EXPECT_TRUE(peer_closed(fd));
	close(fd);
}

TEST_F(gpud, unknown_opcode_eopnotsupp_keeps_connection)
{
	static char junk[100 * 1024];
	struct eia_wire_hello_resp resp;
	struct eia_wire_hdr h;
	int fd;

	memset(junk, 0xa5, sizeof(junk));
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	/* Before HELLO, with a payload that must be read and dropped. */
	eia_wire_hdr_pack(&h, 99, 0, 0, 70, 1000);
	ASSERT_EQ(0, send_raw(fd, &h, junk, 1000));
	expect_error(_metadata, fd, 99, 70, EOPNOTSUPP, "unknown opcode 99");
	eia_wire_hdr_pack(&h, 0, 0, 0, 71, 0);
	ASSERT_EQ(0, send_raw(fd, &h, NULL, 0));
	expect_error(_metadata, fd, 0, 71, EOPNOTSUPP, "unknown opcode 0");

	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 72, &self->r, &resp));
	eia_wire_hdr_pack(&h, 0xffff, 0, 0, 73, sizeof(junk));
	ASSERT_EQ(0, send_raw(fd, &h, junk, sizeof(junk)));
	expect_error(_metadata, fd, 0xffff, 73, EOPNOTSUPP, "unknown opcode 65535");

	/* Still in step: a PING right after is answered. */
	ASSERT_EQ(0, do_ping(fd, 0x1122, 0, 74, &self->r));
	close(fd);
}

TEST_F(gpud, wrong_payload_size_einval)
{
	static const uint32_t sizes[] = { 0, 1, 79, 81, 4096, 200000 };
	static char buf[200000];
	struct eia_wire_hello_resp resp;
	struct eia_wire_hdr h;
	unsigned int i;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, "eia1.medium", 11);
		eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 80 + i, sizes[i]);
		ASSERT_EQ(0, send_raw(fd, &h, buf, sizes[i]));
		expect_error(_metadata, fd, EIA_MSG_HELLO, 80 + i, EINVAL,
			     "HELLO payload is");
	}
	eia_wire_hdr_pack(&h, EIA_MSG_SERVER_STATUS, 0, 0, 90, 1);
	ASSERT_EQ(0, send_raw(fd, &h, buf, 1));
	expect_error(_metadata, fd, EIA_MSG_SERVER_STATUS, 90, EINVAL, "no payload");

	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 91, &self->r, &resp));
	eia_wire_hdr_pack(&h, EIA_MSG_PING, 0, 0, 92, 15);
	ASSERT_EQ(0, send_raw(fd, &h, buf, 15));
	expect_error(_metadata, fd, EIA_MSG_PING, 92, EINVAL, "PING payload is 15 bytes");
	eia_wire_hdr_pack(&h, EIA_MSG_PING, 0, 0, 93, 17);
	ASSERT_EQ(0, send_raw(fd, &h, buf, 17));
	expect_error(_metadata, fd, EIA_MSG_PING, 93, EINVAL, "PING payload is 17 bytes");
	ASSERT_EQ(0, do_ping(fd, 5, 0, 94, &self->r));
	close(fd);
}

TEST_F(gpud, hello_strings_without_nul_einval)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_hello_req req;
	struct eia_wire_hdr h;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	hello_req(&req, "", NULL);
	memset(req.type, 'a', sizeof(req.type));
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 100, sizeof(req));
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
	expect_error(_metadata, fd, EIA_MSG_HELLO, 100, EINVAL, "NUL");

	hello_req(&req, "eia1.medium", NULL);
	memset(req.resume_id, '1', sizeof(req.resume_id));
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 101, sizeof(req));
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
	expect_error(_metadata, fd, EIA_MSG_HELLO, 101, EINVAL, "NUL");

	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 102, &self->r, &resp));
	close(fd);
}

TEST_F(gpud, hello_flags_or_reserved_einval)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_hello_req req;
	struct eia_wire_hdr h;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	hello_req(&req, "eia1.medium", NULL);
	req.flags = htole32(1);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 110, sizeof(req));
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
	expect_error(_metadata, fd, EIA_MSG_HELLO, 110, EINVAL, "must be zero");

	hello_req(&req, "eia1.medium", NULL);
	req.reserved = htole32(0x80000000u);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 111, sizeof(req));
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
	expect_error(_metadata, fd, EIA_MSG_HELLO, 111, EINVAL, "must be zero");

	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 112, &self->r, &resp));
	close(fd);
}

TEST_F(gpud, response_flag_or_status_on_request_einval)
{
	struct eia_wire_hello_req req;
	struct eia_wire_hdr h;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	hello_req(&req, "eia1.medium", NULL);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, EIA_WIRE_F_RESPONSE, 0, 120, sizeof(req));
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
	expect_error(_metadata, fd, EIA_MSG_HELLO, 120, EINVAL, "RESPONSE flag");

	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, EIO, 121, sizeof(req));
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req)));
	expect_error(_metadata, fd, EIA_MSG_HELLO, 121, EINVAL, "status 0");

	/* Neither attached: a PING is still refused as before HELLO. */
	EXPECT_EQ(EPERM, do_ping(fd, 1, 0, 122, &self->r));
	close(fd);
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
}

TEST_F(gpud, oversize_payload_emsgsize_then_close)
{
	static const uint32_t lens[] = { EIA_WIRE_MAX_PAYLOAD + 1, UINT32_MAX };
	struct eia_wire_hdr h;
	unsigned int i;
	int fd;

	for (i = 0; i < 2; i++) {
		fd = client_connect(self->g.port);
		ASSERT_GE(fd, 0);
		eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 130 + i, 0);
		h.payload_len = htole32(lens[i]);
		/* No payload follows: gpud must answer without waiting for it. */
		ASSERT_EQ(0, send_raw(fd, &h, NULL, 0));
		expect_error(_metadata, fd, EIA_MSG_HELLO, 130 + i, EMSGSIZE, "exceeds");
		EXPECT_TRUE(peer_closed(fd));
		close(fd);
	}
}

TEST_F(gpud, truncated_messages_then_close)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_hello_req req;
	struct eia_wire_hdr h;
	char line[128];
	int fd;

	/* Part of a header. */
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 140, sizeof(req));
	ASSERT_EQ(0, eia_write_full(fd, &h, 10));
	close(fd);

	/* A whole header, half its payload. */
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	hello_req(&req, "eia1.medium", NULL);
	ASSERT_EQ(0, send_raw(fd, &h, &req, sizeof(req) / 2));
	close(fd);

	/* Attached, then half a PING: the grant is released all the same. */
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia2.large", NULL, 141, &self->r, &resp));
	eia_wire_hdr_pack(&h, EIA_MSG_PING, 0, 0, 142, 16);
	ASSERT_EQ(0, send_raw(fd, &h, "12345678", 8));
	close(fd);

	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
	snprintf(line, sizeof(line), "gpud: detach id=%s type=eia2.large", resp.accel_id);
	EXPECT_TRUE(gpud_log_wait(&self->g, line, WAIT_MS));
}

TEST_F(gpud, ping_before_hello_eperm)
{
	struct server_status st;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(EPERM, do_ping(fd, 7, 0, 150, &self->r));
	EXPECT_STREQ("PING before HELLO", (char *)self->r.payload);
	/* SERVER_STATUS is the one request allowed before HELLO. */
	ASSERT_EQ(0, do_status(fd, &st));
	EXPECT_EQ(0, st.sessions);
	EXPECT_EQ(1, st.connections);
	close(fd);
}

TEST_F(gpud, second_hello_ealready)
{
	struct eia_wire_hello_resp resp, again;
	struct server_status st;
	int fd, i;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia1.xlarge", NULL, 160, &self->r, &resp));
	EXPECT_EQ(EALREADY, do_hello(fd, "eia1.xlarge", NULL, 161, &self->r, &again));
	EXPECT_TRUE(strstr((char *)self->r.payload, resp.accel_id) != NULL);
	EXPECT_EQ(EALREADY, do_hello(fd, "eia2.medium", NULL, 162, &self->r, &again));
	ASSERT_EQ(0, do_status(fd, &st));
	EXPECT_EQ(1, st.sessions);
	i = status_find(&st, "eia1.xlarge");
	ASSERT_GE(i, 0);
	EXPECT_EQ(1, st.types[i].in_use);
	i = status_find(&st, "eia2.medium");
	ASSERT_GE(i, 0);
	EXPECT_EQ(0, st.types[i].in_use);
	close(fd);
}

TEST_F(gpud, ping_echoes_cookie_in_order)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_ping p;
	int fd, i;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 1, &self->r, &resp));
	/* Pipelined: all sent before any answer is read. */
	for (i = 0; i < 10; i++) {
		memset(&p, 0, sizeof(p));
		p.cookie = htole64(0xfeedface00000000ull + (uint64_t)i);
		ASSERT_EQ(0, eia_wire_send(fd, EIA_MSG_PING, 0, 0, 1000 + i, &p, sizeof(p)));
	}
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, recv_reply(fd, &self->r));
		EXPECT_EQ(EIA_MSG_PING, self->r.hdr.opcode);
		EXPECT_EQ(EIA_WIRE_F_RESPONSE, self->r.hdr.flags);
		EXPECT_EQ(0, self->r.hdr.status);
		EXPECT_EQ(1000 + i, self->r.hdr.tag);
		ASSERT_EQ(sizeof(p), self->r.hdr.payload_len);
		memcpy(&p, self->r.payload, sizeof(p));
		EXPECT_EQ(0xfeedface00000000ull + (uint64_t)i, le64toh(p.cookie));
		EXPECT_EQ(0, p.delay_ms);
		EXPECT_EQ(0, p.reserved);
	}
	close(fd);
}

TEST_F(gpud, ping_delay_honoured_and_bounded)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_ping p = { 0 };
	struct eia_wire_hdr h;
	long long start, took;
	int fd;

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 1, &self->r, &resp));
	start = now_ms();
	ASSERT_EQ(0, do_ping(fd, 42, 300, 2, &self->r));
	took = now_ms() - start;
	/* A lower bound only: the delay was really waited; tests assert no speed. */
	EXPECT_GE(took, 300);

	EXPECT_EQ(EINVAL, do_ping(fd, 42, EIA_WIRE_PING_MAX_DELAY_MS + 1, 3, &self->r));
	EXPECT_TRUE(strstr((char *)self->r.payload, "exceeds 10000") != NULL);
	EXPECT_EQ(EINVAL, do_ping(fd, 42, UINT32_MAX, 4, &self->r));

	p.reserved = htole32(1);
	eia_wire_hdr_pack(&h, EIA_MSG_PING, 0, 0, 5, sizeof(p));
	ASSERT_EQ(0, send_raw(fd, &h, &p, sizeof(p)));
	expect_error(_metadata, fd, EIA_MSG_PING, 5, EINVAL, "reserved");
	close(fd);
}

TEST_F(gpud, server_status_counts_return_to_zero)
{
	struct eia_wire_hello_resp resp;
	struct server_status st;
	int fd[3], i, m, x;

	ASSERT_EQ(0, query_status(self->g.port, &st));
	EXPECT_EQ(0, st.sessions);
	EXPECT_EQ(1, st.connections);
	EXPECT_STREQ("cpu", st.backend);
	EXPECT_EQ(NTYPES, st.ntypes);
	m = status_find(&st, "eia1.medium");
	x = status_find(&st, "eia2.xlarge");
	ASSERT_GE(m, 0);
	ASSERT_GE(x, 0);
	/* 1 TiB and 1000 FP32 TFLOPS: FP32 is what limits. */
	EXPECT_EQ(1000, st.types[m].available);
	EXPECT_EQ(128, st.types[x].available);	/* 1 TiB / 8 GiB */

	for (i = 0; i < 3; i++) {
		fd[i] = client_connect(self->g.port);
		ASSERT_GE(fd[i], 0);
		ASSERT_EQ(0, do_hello(fd[i], i < 2 ? "eia1.medium" : "eia2.xlarge", NULL,
				      i, &self->r, &resp));
	}
	/*
	 * 3 sessions on 3 connections plus the asking one. A query's own
	 * connection may still be counted just after it closes, so the exact
	 * connection count is waited for, not read once.
	 */
	ASSERT_TRUE(wait_counts(self->g.port, 3, 3, WAIT_MS));
	ASSERT_EQ(0, query_status(self->g.port, &st));
	EXPECT_EQ(3, st.sessions);
	EXPECT_EQ(2, st.types[m].in_use);
	EXPECT_EQ(1, st.types[x].in_use);
	EXPECT_EQ(1000 - 6, st.types[m].available);	/* 1 + 1 + 4 TFLOPS used */
	EXPECT_EQ((1024 - 10) / 8, st.types[x].available);

	for (i = 0; i < 3; i++)
		close(fd[i]);
	ASSERT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
	ASSERT_EQ(0, query_status(self->g.port, &st));
	EXPECT_EQ(0, st.types[m].in_use);
	EXPECT_EQ(0, st.types[x].in_use);
	EXPECT_EQ(1000, st.types[m].available);
	EXPECT_EQ(128, st.types[x].available);
}

TEST_F(gpud, slow_client_blocks_no_one)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_ping p = { .cookie = htole64(9), .delay_ms = htole32(1500) };
	struct eia_wire_hdr h;
	long long start;
	int stalled, sleeper, fast;

	/* Half a header, then silence. */
	stalled = client_connect(self->g.port);
	ASSERT_GE(stalled, 0);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 1, 80);
	ASSERT_EQ(0, eia_write_full(stalled, &h, 16));

	/* A request that takes 1.5 s to answer. */
	sleeper = client_connect(self->g.port);
	ASSERT_GE(sleeper, 0);
	ASSERT_EQ(0, do_hello(sleeper, "eia1.medium", NULL, 2, &self->r, &resp));
	start = now_ms();
	ASSERT_EQ(0, eia_wire_send(sleeper, EIA_MSG_PING, 0, 0, 3, &p, sizeof(p)));

	fast = client_connect(self->g.port);
	ASSERT_GE(fast, 0);
	ASSERT_EQ(0, do_hello(fast, "eia1.medium", NULL, 4, &self->r, &resp));
	ASSERT_EQ(0, do_ping(fast, 10, 0, 5, &self->r));
	/* The fast client was answered while the sleeper's reply is still due. */
	EXPECT_EQ(0, poll(&(struct pollfd){ .fd = sleeper, .events = POLLIN }, 1, 0));

	ASSERT_EQ(0, recv_reply(sleeper, &self->r));
	EXPECT_EQ(3, self->r.hdr.tag);
	EXPECT_EQ(0, self->r.hdr.status);
	EXPECT_GE(now_ms() - start, 1500);
	close(stalled);
	close(sleeper);
	close(fast);
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
}

/* xorshift64*: reproducible garbage. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * One fuzz connection's bytes: pure noise, or well-framed messages with
 * random opcodes, flags, sizes and payloads, so both the header checks and
 * the handlers behind them get exercised.
 */
static size_t fuzz_bytes(uint64_t *s, unsigned char *buf, size_t cap)
{
	size_t len = 0, n, i;
	struct eia_wire_hdr h;

	if (rnd(s) % 3 == 0) {
		n = rnd(s) % 300;
		for (i = 0; i < n; i++)
			buf[i] = (unsigned char)rnd(s);
		return n;
	}
	while (len + sizeof(h) + 128 <= cap && rnd(s) % 4) {
		/* Mostly 0..3 (0 is unknown), now and then 4..7 (7 is unknown). */
		uint16_t op = (uint16_t)(rnd(s) % 4 ? rnd(s) % 4 : 4 + rnd(s) % 4);
		uint32_t plen = rnd(s) % 2 ? (op == EIA_MSG_HELLO ? 80 : 16) :
					      (uint32_t)(rnd(s) % 128);

		eia_wire_hdr_pack(&h, op, rnd(s) % 8 ? 0 : (uint32_t)rnd(s),
				  rnd(s) % 8 ? 0 : (uint32_t)rnd(s), rnd(s), plen);
		if (rnd(s) % 10 == 0)
			((unsigned char *)&h)[rnd(s) % sizeof(h)] = (unsigned char)rnd(s);
		memcpy(buf + len, &h, sizeof(h));
		len += sizeof(h);
		for (i = 0; i < plen; i++)
			buf[len + i] = rnd(s) % 2 ? 0 : (unsigned char)rnd(s);
		/* Mostly well-formed HELLOs, for known and unknown types. */
		if (op == EIA_MSG_HELLO && plen == 80 && rnd(s) % 4) {
			memset(buf + len, 0, plen);
			strcpy((char *)buf + len, rnd(s) % 2 ? "eia1.medium" : "eia9.x");
		}
		/* Short delays only: the test must not wait seconds per PING. */
		if (op == EIA_MSG_PING && plen == 16)
			memset(buf + len + 9, 0, 3);
		len += plen;
	}
	return len;
}

TEST_F_TIMEOUT(gpud, random_garbage_fuzz, 120)
{
	static const int statuses[] = { 0, EBADMSG, EINVAL, EOPNOTSUPP, EPERM,
					EPROTONOSUPPORT, ENOENT, EALREADY };
	unsigned int seen[sizeof(statuses) / sizeof(statuses[0])] = { 0 };
	struct eia_wire_hello_resp resp;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned char buf[4096];
	unsigned int k;
	size_t len;
	int i, fd, ret;

	for (i = 0; i < 300; i++) {
		fd = client_connect(self->g.port);
		ASSERT_GE(fd, 0);
		len = fuzz_bytes(&seed, buf, sizeof(buf));
		/* gpud may close first (a fatal error): then the write fails. */
		eia_write_full(fd, buf, len);
		shutdown(fd, SHUT_WR);
		/*
		 * Whatever it answers must be well-formed responses, and then
		 * gpud must close: no hang.
		 */
		while ((ret = recv_reply(fd, &self->r)) == 0) {
			EXPECT_EQ(EIA_WIRE_F_RESPONSE, self->r.hdr.flags);
			for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
				if ((int)self->r.hdr.status == statuses[k])
					seen[k]++;
		}
		EXPECT_EQ(-ECONNRESET, ret);
		close(fd);
	}
	/* The fuzz got past the header checks into every kind of handling. */
	for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++) {
		if (!seen[k])
			TH_LOG("no reply with status %d", statuses[k]);
		EXPECT_GT(seen[k], 0);
	}
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, 10000));
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia2.xlarge", NULL, 1, &self->r, &resp));
	ASSERT_EQ(0, do_ping(fd, 3, 0, 2, &self->r));
	close(fd);
}

TEST_F(gpud, sigterm_closes_every_connection)
{
	struct eia_wire_ping p = { .cookie = htole64(1), .delay_ms = htole32(10000) };
	struct eia_wire_hello_resp resp;
	int fd[4], i, status;

	for (i = 0; i < 4; i++) {
		fd[i] = client_connect(self->g.port);
		ASSERT_GE(fd[i], 0);
		if (i < 3)
			ASSERT_EQ(0, do_hello(fd[i], "eia1.large", NULL, i, &self->r, &resp));
	}
	/* One client waits on a 10 s PING: shutdown must not wait for it. */
	ASSERT_EQ(0, eia_wire_send(fd[0], EIA_MSG_PING, 0, 0, 9, &p, sizeof(p)));
	usleep(100 * 1000);

	/* WAIT_MS is shorter than the PING's delay, and fd[0] must see no reply. */
	ASSERT_EQ(0, kill(self->g.pid, SIGTERM));
	status = gpud_wait(&self->g, WAIT_MS);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(gpud_log_wait(&self->g, "gpud: shutting down (3 sessions closed)", WAIT_MS));
	EXPECT_EQ(3, gpud_log_count(&self->g, "gpud: detach id="));
	for (i = 0; i < 4; i++) {
		EXPECT_TRUE(peer_closed(fd[i]));
		close(fd[i]);
	}
}

TEST_F(gpud, sigint_stops_too)
{
	int status;

	ASSERT_EQ(0, kill(self->g.pid, SIGINT));
	status = gpud_wait(&self->g, WAIT_MS);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(gpud_log_wait(&self->g, "gpud: shutting down (0 sessions closed)", WAIT_MS));
}

/* gpud started by each test with its own config and options. */
FIXTURE(custom) {
	struct gpud_proc g;
	struct reply r;
};

FIXTURE_SETUP(custom)
{
}

FIXTURE_TEARDOWN(custom)
{
	check_clean_exit(_metadata, &self->g);
}

TEST_F(custom, default_capacity_half_ram_64_tflops)
{
	uint64_t half = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) / 2;
	uint64_t want_m = half / GIB < 64 ? half / GIB : 64;
	uint64_t want_x = half / (8 * GIB) < 16 ? half / (8 * GIB) : 16;
	struct server_status st;
	int m, x;

	ASSERT_EQ(0, gpud_start(&self->g, NULL, NULL));
	ASSERT_EQ(0, query_status(self->g.port, &st));
	m = status_find(&st, "eia1.medium");
	x = status_find(&st, "eia2.xlarge");
	ASSERT_GE(m, 0);
	ASSERT_GE(x, 0);
	EXPECT_EQ(want_m, st.types[m].available);
	EXPECT_EQ(want_x, st.types[x].available);
	EXPECT_TRUE(gpud_log_has(&self->g, "64 FP32 / 512 FP16 TFLOPS"));
}

TEST_F(custom, memory_capacity_enospc_then_reusable)
{
	struct eia_wire_hello_resp resp;
	struct eia_wire_hello_req req;
	struct server_status st;
	struct eia_wire_hdr h;
	int big, fd[5], i;

	ASSERT_EQ(0, gpud_start(&self->g, "capacity memory=4G fp32=100\n", NULL));
	ASSERT_EQ(0, query_status(self->g.port, &st));
	EXPECT_EQ(1, st.types[status_find(&st, "eia2.large")].available);
	EXPECT_EQ(4, st.types[status_find(&st, "eia1.medium")].available);
	EXPECT_EQ(0, st.types[status_find(&st, "eia2.xlarge")].available);

	big = client_connect(self->g.port);
	ASSERT_GE(big, 0);
	ASSERT_EQ(0, do_hello(big, "eia2.large", NULL, 1, &self->r, &resp));
	fd[0] = client_connect(self->g.port);
	ASSERT_GE(fd[0], 0);
	hello_req(&req, "eia1.medium", NULL);
	eia_wire_hdr_pack(&h, EIA_MSG_HELLO, 0, 0, 2, sizeof(req));
	ASSERT_EQ(0, send_raw(fd[0], &h, &req, sizeof(req)));
	expect_error(_metadata, fd[0], EIA_MSG_HELLO, 2, ENOSPC,
		     "no capacity left for eia1.medium");
	ASSERT_EQ(0, do_status(fd[0], &st));
	EXPECT_EQ(0, st.types[status_find(&st, "eia1.medium")].available);

	/* Freed capacity is granted again. */
	close(big);
	ASSERT_TRUE(wait_counts(self->g.port, 0, 1, WAIT_MS));
	ASSERT_EQ(0, do_hello(fd[0], "eia1.medium", NULL, 3, &self->r, &resp));
	for (i = 1; i < 5; i++) {
		fd[i] = client_connect(self->g.port);
		ASSERT_GE(fd[i], 0);
		EXPECT_EQ(i < 4 ? 0 : ENOSPC,
			  do_hello(fd[i], "eia1.medium", NULL, 3, &self->r, &resp));
	}
	for (i = 0; i < 5; i++)
		close(fd[i]);
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
}

TEST_F(custom, compute_capacity_enospc)
{
	struct eia_wire_hello_resp resp;
	int fd[4], i;

	/* FP32 5 TFLOPS: an xlarge (4) and a medium (1) fill it. */
	ASSERT_EQ(0, gpud_start(&self->g, "capacity memory=1T fp32=5\n", NULL));
	for (i = 0; i < 4; i++) {
		fd[i] = client_connect(self->g.port);
		ASSERT_GE(fd[i], 0);
	}
	EXPECT_EQ(0, do_hello(fd[0], "eia1.xlarge", NULL, 1, &self->r, &resp));
	EXPECT_EQ(ENOSPC, do_hello(fd[1], "eia1.large", NULL, 2, &self->r, &resp));
	EXPECT_EQ(0, do_hello(fd[2], "eia1.medium", NULL, 3, &self->r, &resp));
	EXPECT_EQ(ENOSPC, do_hello(fd[3], "eia2.medium", NULL, 4, &self->r, &resp));
	for (i = 0; i < 4; i++)
		close(fd[i]);
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, WAIT_MS));
	check_clean_exit(_metadata, &self->g);

	/* FP16 counts too: 10 FP16 TFLOPS hold one 8-TFLOPS medium. */
	ASSERT_EQ(0, gpud_start(&self->g, "capacity memory=1T fp32=100 fp16=10\n", NULL));
	for (i = 0; i < 2; i++) {
		fd[i] = client_connect(self->g.port);
		ASSERT_GE(fd[i], 0);
	}
	EXPECT_EQ(0, do_hello(fd[0], "eia1.medium", NULL, 1, &self->r, &resp));
	EXPECT_EQ(ENOSPC, do_hello(fd[1], "eia1.medium", NULL, 2, &self->r, &resp));
	close(fd[0]);
	close(fd[1]);
}

TEST_F(custom, config_adds_and_overrides_types)
{
	static const char conf[] =
		"# a config with comments\n"
		"\n"
		"  type tiny.1-a memory=512M fp32=0.5 fp16=4   # half a medium\n"
		"type eia1.medium memory=3G fp32=1.25 fp16=10\n"
		"capacity memory=64G fp32=64\n";
	struct eia_wire_hello_resp resp;
	struct server_status st;
	int fd, i;

	ASSERT_EQ(0, gpud_start(&self->g, conf, NULL));
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_status(fd, &st));
	EXPECT_EQ(NTYPES + 1, st.ntypes);
	i = status_find(&st, "tiny.1-a");
	ASSERT_GE(i, 0);
	EXPECT_EQ(128, st.types[i].available);		/* 64 G / 512 M */

	ASSERT_EQ(0, do_hello(fd, "tiny.1-a", NULL, 1, &self->r, &resp));
	EXPECT_EQ(512ull << 20, le64toh(resp.memory_bytes));
	EXPECT_EQ(500, le32toh(resp.fp32_mtflops));
	EXPECT_EQ(4000, le32toh(resp.fp16_mtflops));
	close(fd);

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 2, &self->r, &resp));
	EXPECT_EQ(3 * GIB, le64toh(resp.memory_bytes));
	EXPECT_EQ(1250, le32toh(resp.fp32_mtflops));
	EXPECT_EQ(10000, le32toh(resp.fp16_mtflops));
	close(fd);

	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia2.xlarge", NULL, 3, &self->r, &resp));
	EXPECT_EQ(8 * GIB, le64toh(resp.memory_bytes));
	close(fd);
}

/* Runs gpud with @conf, expects exit 2 and "CONF:LINE: @msg" in its log. */
static void expect_config_error(struct __test_metadata *_metadata,
				struct gpud_proc *g, const char *conf,
				unsigned int line, const char *msg)
{
	char needle[256];
	int status;

	ASSERT_EQ(0, gpud_spawn(g, conf, NULL));
	snprintf(needle, sizeof(needle), "gpud: error: %s:%u: %s", g->conf, line, msg);
	status = gpud_wait(g, WAIT_MS);
	gpud_stop(g);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(2, WEXITSTATUS(status));
	if (!gpud_log_has(g, needle))
		TH_LOG("config:\n%s\nwanted: %s\nlog: %s", conf, needle, g->log);
	EXPECT_TRUE(gpud_log_has(g, needle));
	EXPECT_FALSE(gpud_log_has(g, "listening on"));
	EXPECT_TRUE(gpud_sanitizer_clean(g));
	gpud_free(g);
}

TEST_F(custom, config_errors_exit_2_with_file_and_line)
{
	static const struct {
		const char *conf;
		unsigned int line;
		const char *msg;
	} bad[] = {
		{ "bogus\n", 1, "unknown keyword 'bogus'" },
		{ "isolation none\n", 1, "unknown isolation 'none'" },
		{ "# fine\n\ntype BIG memory=1G fp32=1 fp16=8\n", 3, "invalid type name 'BIG'" },
		{ "type a_b memory=1G fp32=1 fp16=8\n", 1, "invalid type name" },
		{ "type abcdefghijabcdefghijabcdefghijab memory=1G fp32=1 fp16=8\n", 1,
		  "invalid type name" },
		{ "type\n", 1, "invalid type name ''" },
		{ "type a memory=1G fp32=1\n", 1, "type a needs memory=, fp32= and fp16=" },
		{ "type a memory=1X fp32=1 fp16=8\n", 1, "invalid memory '1X'" },
		{ "type a memory=0 fp32=1 fp16=8\n", 1, "invalid memory '0'" },
		{ "type a memory=99999999999T fp32=1 fp16=8\n", 1, "invalid memory" },
		{ "type a memory=1G fp32=1.2345 fp16=8\n", 1, "invalid fp32 '1.2345'" },
		{ "type a memory=1G fp32=-1 fp16=8\n", 1, "invalid fp32" },
		{ "type a memory=1G fp32=1 fp16=8 fp16=8\n", 1, "fp16= given twice" },
		{ "type a memory=1G fp32=1 fp16=8 speed=3\n", 1, "unknown setting 'speed'" },
		{ "capacity\n", 1, "capacity needs" },
		{ "capacity memory=1G memory=2G\n", 1, "memory= given twice" },
		{ "capacity fp32\n", 1, "unknown setting 'fp32'" },
		{ "listen 127.0.0.1\n", 1, "invalid listen address" },
		{ "listen 127.0.0.1:65536\n", 1, "invalid listen address" },
		{ "listen localhost:8443\n", 1, "invalid listen address" },
		{ "listen\n", 1, "listen takes exactly one value" },
		{ "backend gpu\n", 1, "unknown backend 'gpu'" },
		{ "max-connections 0\n", 1, "invalid max-connections" },
		{ "max-connections 10 20\n", 1, "max-connections takes exactly one value" },
		{ "a b c d e f g h i\n", 1, "too many words" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_config_error(_metadata, &self->g, bad[i].conf, bad[i].line, bad[i].msg);
}

TEST_F(custom, config_type_table_bounded)
{
	char *conf = malloc(64 * 64);
	size_t len = 0;
	int i;

	/* 6 defaults + 58 new = EIA_WIRE_MAX_TYPES; one more is an error. */
	ASSERT_NE(NULL, conf);
	for (i = 0; i < 59; i++)
		len += (size_t)sprintf(conf + len, "type t%d memory=1G fp32=1 fp16=8\n", i);
	expect_config_error(_metadata, &self->g, conf, 59, "too many types (at most 64)");

	conf[len - strlen("type t58 memory=1G fp32=1 fp16=8\n")] = '\0';
	ASSERT_EQ(0, gpud_start(&self->g, conf, NULL));
	free(conf);
	{
		struct server_status st;

		ASSERT_EQ(0, query_status(self->g.port, &st));
		EXPECT_EQ(EIA_WIRE_MAX_TYPES, st.ntypes);
		EXPECT_GE(status_find(&st, "t57"), 0);
	}
}

/* Runs gpud with @args; expects exit status @code and @msg in its output. */
static void expect_exit(struct __test_metadata *_metadata, struct gpud_proc *g,
			const char *const *args, int code, const char *msg)
{
	int status;

	ASSERT_EQ(0, gpud_spawn(g, NULL, args));
	status = gpud_wait(g, WAIT_MS);
	gpud_stop(g);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(code, WEXITSTATUS(status));
	if (!gpud_log_has(g, msg))
		TH_LOG("wanted '%s' in: %s", msg, g->log);
	EXPECT_TRUE(gpud_log_has(g, msg));
	EXPECT_TRUE(gpud_sanitizer_clean(g));
	gpud_free(g);
}

TEST_F(custom, command_line_errors)
{
	static const char *const bogus_backend[] = { "--backend", "tpu", NULL };
	static const char *const isolation[] = { "--isolation", "vm", NULL };
	static const char *const maxconn[] = { "--max-connections", "0", NULL };
	static const char *const listen[] = { "--listen", "1.2.3:80", NULL };
	static const char *const listen6[] = { "--listen", "[::1:80", NULL };
	static const char *const option[] = { "--frobnicate", NULL };
	static const char *const extra[] = { "extra", NULL };
	static const char *const noconf[] = { "--config", "/nonexistent/gpud.conf", NULL };
	static const char *const help[] = { "--help", NULL };
	static const char *const version[] = { "--version", NULL };

	expect_exit(_metadata, &self->g, bogus_backend, 2, "unknown backend 'tpu'");
	expect_exit(_metadata, &self->g, isolation, 2,
		    "unknown isolation 'vm' (expected auto, process or thread)");
	expect_exit(_metadata, &self->g, maxconn, 2, "invalid max-connections '0'");
	expect_exit(_metadata, &self->g, listen, 2, "invalid listen address '1.2.3:80'");
	expect_exit(_metadata, &self->g, listen6, 2, "invalid listen address '[::1:80'");
	expect_exit(_metadata, &self->g, option, 2, "Usage: gpud");
	expect_exit(_metadata, &self->g, extra, 2, "unexpected argument 'extra'");
	expect_exit(_metadata, &self->g, noconf, 2,
		    "/nonexistent/gpud.conf: No such file or directory");
	expect_exit(_metadata, &self->g, help, 0, "--max-connections N");
	expect_exit(_metadata, &self->g, version, 0, "wire protocol version 1");
}

/* The CUDA toolkit's stub libcuda: loads, but every call fails. */
#ifndef CUDA_STUB_LIBCUDA
#define CUDA_STUB_LIBCUDA "/usr/local/cuda/lib64/stubs/libcuda.so"
#endif

/* True when the gpud under test has the CUDA backend (its --version says so). */
static bool built_with_cuda(struct __test_metadata *_metadata, struct gpud_proc *g)
{
	static const char *const version[] = { "--version", NULL };
	bool cuda;

	EXPECT_EQ(0, gpud_spawn(g, NULL, version));
	gpud_wait(g, WAIT_MS);
	gpud_stop(g);
	EXPECT_TRUE(gpud_log_has(g, "wire protocol version"));
	cuda = gpud_log_has(g, "backends: cpu, cuda");
	gpud_free(g);
	return cuda;
}

/* A real driver is installed: a GPU may be there, so "no GPU" cannot be tested. */
static bool have_driver(void)
{
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);

	if (lib)
		dlclose(lib);
	return lib != NULL;
}

static const char *const backend_auto[] = { "--backend", "auto", NULL };

TEST_F(custom, backend_auto_without_gpu_uses_cpu)
{
	ASSERT_EQ(0, gpud_start(&self->g, NULL, backend_auto));
	if (gpud_log_has(&self->g, "backend auto: using cuda"))
		SKIP(return, "this machine has a usable GPU");
	EXPECT_TRUE(gpud_log_has(&self->g, "gpud: backend auto: using cpu ("));
	EXPECT_TRUE(gpud_log_has(&self->g, "listening on 127.0.0.1:"));
	EXPECT_TRUE(gpud_log_has(&self->g, "(backend cpu)"));
}

/* Exit 2 when the build has no CUDA, 1 when it has but the machine has no GPU. */
TEST_F(custom, backend_cuda_without_gpu_fails)
{
	static const char *const cuda[] = { "--backend", "cuda", NULL };

	if (!built_with_cuda(_metadata, &self->g)) {
		expect_exit(_metadata, &self->g, cuda, 2,
			    "backend cuda: this gpud was built without CUDA support");
		return;
	}
	if (have_driver())
		SKIP(return, "a CUDA driver is installed");
	expect_exit(_metadata, &self->g, cuda, 1,
		    "error: backend cuda: no usable GPU: cannot load libcuda.so.1");
}

/* With a libcuda that loads but cannot initialise, the CUDA error is named. */
TEST_F(custom, backend_cuda_names_the_cuda_error)
{
	static const char *const cuda[] = { "--backend", "cuda", NULL };
	char dir[] = "/tmp/eia-stub-XXXXXX", link[64];

	if (!built_with_cuda(_metadata, &self->g))
		SKIP(return, "gpud is built without CUDA");
	if (access(CUDA_STUB_LIBCUDA, R_OK))
		SKIP(return, "no stub libcuda at " CUDA_STUB_LIBCUDA);
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/libcuda.so.1", dir);
	ASSERT_EQ(0, symlink(CUDA_STUB_LIBCUDA, link));
	ASSERT_EQ(0, setenv("LD_LIBRARY_PATH", dir, 1));
	expect_exit(_metadata, &self->g, cuda, 1,
		    "error: backend cuda: no usable GPU: cuInit: CUDA_ERROR_STUB_LIBRARY");
	ASSERT_EQ(0, gpud_start(&self->g, NULL, backend_auto));
	EXPECT_TRUE(gpud_log_has(&self->g,
				 "backend auto: using cpu (no usable GPU: cuInit: CUDA_ERROR_STUB_LIBRARY"));
	unlink(link);
	rmdir(dir);
}

TEST_F(custom, port_in_use_exit_1)
{
	struct gpud_proc other;
	char addr[32];
	const char *args[] = { "--listen", addr, NULL };

	ASSERT_EQ(0, gpud_start(&self->g, NULL, NULL));
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", self->g.port);
	expect_exit(_metadata, &other, args, 1, "cannot listen on 127.0.0.1:");
}

TEST_F(custom, connection_limit)
{
	static const char *const args[] = { "--max-connections", "2", "--backend", "cpu", NULL };
	struct eia_wire_hello_resp resp;
	struct server_status st;
	int a, b, c, ret;
	long long deadline;

	ASSERT_EQ(0, gpud_start(&self->g, NULL, args));
	a = client_connect(self->g.port);
	b = client_connect(self->g.port);
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, do_hello(a, "eia1.medium", NULL, 1, &self->r, &resp));
	ASSERT_EQ(0, do_hello(b, "eia1.medium", NULL, 2, &self->r, &resp));

	/* The third is accepted by TCP, then closed at once. */
	c = client_connect(self->g.port);
	ASSERT_GE(c, 0);
	EXPECT_TRUE(peer_closed(c));
	close(c);
	EXPECT_TRUE(gpud_log_wait(&self->g, "connection limit (2) reached", WAIT_MS));

	/* One leaves: room for one more, and the other is unaffected. */
	close(a);
	deadline = now_ms() + WAIT_MS;
	while ((ret = query_status(self->g.port, &st)) && now_ms() < deadline)
		usleep(10000);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(1, st.sessions);
	ASSERT_EQ(0, do_ping(b, 1, 0, 3, &self->r));
	close(b);
}

TEST_F(custom, listens_on_ipv6)
{
	static const char *const args[] = { "--listen", "[::1]:0", NULL };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct timeval tv = { .tv_sec = 5 };
	struct server_status st;
	unsigned long port;
	char line[64];
	int fd;

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin6, sizeof(sin6))) {
		if (fd >= 0)
			close(fd);
		SKIP(return, "no IPv6 loopback here");
	}
	close(fd);

	ASSERT_EQ(0, gpud_spawn(&self->g, NULL, args));
	ASSERT_TRUE(gpud_log_wait(&self->g, "gpud: listening on [::1]:", WAIT_MS));
	port = gpud_log_number(&self->g, "gpud: listening on [::1]:");
	ASSERT_GT(port, 0);
	snprintf(line, sizeof(line), "listening on [::1]:%lu (backend cpu)", port);
	EXPECT_TRUE(gpud_log_has(&self->g, line));

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_GE(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sin6.sin6_port = htons((uint16_t)port);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)));
	ASSERT_EQ(0, do_status(fd, &st));
	EXPECT_EQ(1, st.connections);
	close(fd);
}

TEST_F(custom, pidfile_written_and_removed)
{
	char path[] = "/tmp/eia-gpud-pid-XXXXXX", buf[32] = "";
	const char *args[] = { "--pidfile", path, NULL };
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(0, gpud_start(&self->g, NULL, args));
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_EQ(self->g.pid, atoi(buf));
	check_clean_exit(_metadata, &self->g);
	EXPECT_NE(0, access(path, F_OK));
	unlink(path);
}

TEST_F(custom, verbose_logs_requests)
{
	static const char *const args[] = { "--verbose", NULL };
	struct eia_wire_hello_resp resp;
	int fd;

	ASSERT_EQ(0, gpud_start(&self->g, NULL, args));
	fd = client_connect(self->g.port);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, do_hello(fd, "eia1.medium", NULL, 1, &self->r, &resp));
	EXPECT_EQ(0, do_ping(fd, 1, 0, 4242, &self->r));
	EXPECT_TRUE(gpud_log_wait(&self->g, "gpud: debug: peer=127.0.0.1:", WAIT_MS));
	EXPECT_TRUE(gpud_log_wait(&self->g, "op=2 tag=4242 len=16", WAIT_MS));
	close(fd);
}

/* One of the concurrent clients. */
struct client {
	uint16_t port;
	const char *type;
	pthread_barrier_t *attached, *release;
	char id[EIA_ACCEL_ID_MAX];
	int err;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct eia_wire_hello_resp resp;
	struct reply *r = malloc(sizeof(*r));
	int fd = client_connect(c->port);

	if (!r || fd < 0)
		c->err = -1;
	else if ((c->err = do_hello(fd, c->type, NULL, 1, r, &resp)) == 0)
		c->err = do_ping(fd, (uint64_t)(uintptr_t)c, 0, 2, r);
	if (!c->err)
		memcpy(c->id, resp.accel_id, sizeof(c->id));
	pthread_barrier_wait(c->attached);
	pthread_barrier_wait(c->release);
	if (fd >= 0)
		close(fd);
	free(r);
	return NULL;
}

#define NCLIENTS 100

TEST_F_TIMEOUT(custom, hundred_concurrent_clients, 90)
{
	static struct client clients[NCLIENTS];
	static pthread_t threads[NCLIENTS];
	pthread_barrier_t attached, release;
	struct server_status st;
	unsigned int i, j, in_use = 0;

	ASSERT_EQ(0, gpud_start(&self->g, BIG_CAPACITY, NULL));
	ASSERT_EQ(0, pthread_barrier_init(&attached, NULL, NCLIENTS + 1));
	ASSERT_EQ(0, pthread_barrier_init(&release, NULL, NCLIENTS + 1));
	for (i = 0; i < NCLIENTS; i++) {
		clients[i] = (struct client){
			.port = self->g.port,
			.type = default_types[i % NTYPES].name,
			.attached = &attached,
			.release = &release,
		};
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, client_main, &clients[i]));
	}
	pthread_barrier_wait(&attached);

	/* All 100 hold their accelerator now. */
	EXPECT_EQ(0, query_status(self->g.port, &st));
	EXPECT_EQ(NCLIENTS, st.sessions);
	EXPECT_EQ(NCLIENTS + 1, st.connections);
	for (i = 0; i < st.ntypes; i++)
		in_use += st.types[i].in_use;
	EXPECT_EQ(NCLIENTS, in_use);

	pthread_barrier_wait(&release);
	for (i = 0; i < NCLIENTS; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&attached);
	pthread_barrier_destroy(&release);
	for (i = 0; i < NCLIENTS; i++) {
		EXPECT_EQ(0, clients[i].err);
		EXPECT_TRUE(id_ok(clients[i].id));
		for (j = 0; j < i; j++)
			EXPECT_STRNE(clients[j].id, clients[i].id);
	}
	EXPECT_TRUE(wait_counts(self->g.port, 0, 0, 10000));
	EXPECT_EQ(NCLIENTS, gpud_log_count(&self->g, "gpud: attach id="));
	/* Released before logged: the last detach lines may still be on their way. */
	EXPECT_TRUE(wait_log_count(&self->g, "gpud: detach id=", NCLIENTS));
}

TEST_HARNESS_MAIN
