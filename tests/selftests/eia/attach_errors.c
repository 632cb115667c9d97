// SPDX-License-Identifier: GPL-2.0
/*
 * Every way to get ATTACH (and DETACH, RECONFIGURE, GET) wrong: sockets that
 * are not a connected TCP stream, missing and malformed attributes, unknown
 * types and indexes, callers without CAP_NET_ADMIN. Each must fail with the
 * errno of Documentation/userspace-api.rst and leave nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "kselftest_harness.h"

#include "eia_test_lib.h"
#include "eia_test_main.h"

FIXTURE(errors) {
	struct eia_nl nl;
};

FIXTURE_SETUP(errors)
{
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
}

FIXTURE_TEARDOWN(errors)
{
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
}

/* A refused request must leave no device and no session behind. */
#define EXPECT_NOTHING_LEFT() do {					\
	EXPECT_EQ(0, eia_sysfs_count());				\
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));			\
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));			\
} while (0)

static int attach_sock(struct eia_nl *nl, int fd)
{
	return eia_attach_fd(nl, fd, "eia2.medium", 0, NULL, NULL);
}

/* Sends ATTACH with exactly the attributes that @put adds. */
static int attach_raw(struct eia_nl *nl, int (*put)(struct nl_msg *msg, void *arg), void *arg)
{
	struct nl_msg *msg = eia_nl_msg(nl, EIA_CMD_ATTACH, 0);

	if (!msg)
		return -ENOMEM;
	if (put(msg, arg)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return eia_nl_request(nl, msg, NULL, 0);
}

static int tcp_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

TEST_F(errors, udp_socket)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(8443),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	/* Connected, so only its protocol is wrong. */
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(-EINVAL, attach_sock(&self->nl, fd));
	close(fd);
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, unix_stream_socket)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	EXPECT_EQ(-EINVAL, attach_sock(&self->nl, sv[0]));
	close(sv[0]);
	close(sv[1]);
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, listening_tcp_socket)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = tcp_socket();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(fd, 1));
	EXPECT_EQ(-EINVAL, attach_sock(&self->nl, fd));
	close(fd);
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, unconnected_tcp_socket)
{
	int fd = tcp_socket();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, attach_sock(&self->nl, fd));
	close(fd);
	EXPECT_NOTHING_LEFT();
}

/* Connected once, but the peer has closed: not a usable stream either. */
TEST_F(errors, tcp_socket_shut_down)
{
	int fd = eia_connect(eia_server());

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shutdown(fd, SHUT_RDWR));
	EXPECT_NE(0, attach_sock(&self->nl, fd));
	close(fd);
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, closed_fd)
{
	int fd = eia_connect(eia_server());

	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-EBADF, attach_sock(&self->nl, fd));
	EXPECT_EQ(-EBADF, attach_sock(&self->nl, -1));
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, pipe_is_not_a_socket)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-ENOTSOCK, attach_sock(&self->nl, p[0]));
	close(p[0]);
	close(p[1]);
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, dev_null_is_not_a_socket)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTSOCK, attach_sock(&self->nl, fd));
	close(fd);
	EXPECT_NOTHING_LEFT();
}

/* ---- attributes ---------------------------------------------------------- */

struct raw_attach {
	int fd;			/* -1: no SOCK_FD */
	const char *type;	/* NULL: no TYPE */
	int extra_attr;		/* 0, or an attribute type to add as a u32 */
	const void *extra;	/* with extra_len bytes, instead of a u32 */
	int extra_len;
};

static int put_raw(struct nl_msg *msg, void *arg)
{
	const struct raw_attach *r = arg;
	uint32_t zero = 0;

	if (r->fd >= 0 && nla_put_u32(msg, EIA_ATTR_SOCK_FD, (uint32_t)r->fd))
		return -1;
	if (r->type && nla_put_string(msg, EIA_ATTR_TYPE, r->type))
		return -1;
	if (r->extra_attr)
		return nla_put(msg, r->extra_attr, r->extra ? r->extra_len : 4,
			       r->extra ? r->extra : &zero);
	return 0;
}

FIXTURE(attrs) {
	struct eia_nl nl;
	int fd;		/* connected to gpud */
};

FIXTURE_SETUP(attrs)
{
	self->fd = -1;
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
	self->fd = eia_connect(eia_server());
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(attrs)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
}

TEST_F(attrs, missing_sock_fd)
{
	struct raw_attach r = { .fd = -1, .type = "eia2.medium" };

	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, missing_type)
{
	struct raw_attach r = { .fd = self->fd };

	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, sock_fd_wrong_size)
{
	uint16_t fd16 = (uint16_t)self->fd;
	uint64_t fd64 = (uint64_t)self->fd;
	struct raw_attach r = { .fd = -1, .type = "eia2.medium",
				.extra_attr = EIA_ATTR_SOCK_FD,
				.extra = &fd16, .extra_len = sizeof(fd16) };

	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	r.extra = &fd64;
	r.extra_len = sizeof(fd64);
	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, timeout_wrong_size)
{
	uint8_t t8 = 200;
	struct raw_attach r = { .fd = self->fd, .type = "eia2.medium",
				.extra_attr = EIA_ATTR_TIMEOUT_MS,
				.extra = &t8, .extra_len = sizeof(t8) };

	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, type_too_long)
{
	char type[EIA_TYPE_NAME_MAX + 8];
	struct raw_attach r = { .fd = self->fd, .type = type };

	memset(type, 'x', sizeof(type) - 1);
	type[sizeof(type) - 1] = '\0';
	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	/* Exactly one byte too long: EIA_TYPE_NAME_MAX characters. */
	type[EIA_TYPE_NAME_MAX] = '\0';
	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, server_too_long)
{
	char server[EIA_SERVER_NAME_MAX + 1];

	memset(server, 's', sizeof(server) - 1);
	server[sizeof(server) - 1] = '\0';
	EXPECT_EQ(-EINVAL, eia_attach_fd(&self->nl, self->fd, "eia2.medium", 0, server, NULL));
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, unknown_attribute)
{
	struct raw_attach r = { .fd = self->fd, .type = "eia2.medium",
				.extra_attr = EIA_ATTR_MAX + 1 };

	EXPECT_EQ(-EINVAL, attach_raw(&self->nl, put_raw, &r));
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, unknown_type)
{
	EXPECT_EQ(-ENOENT, eia_attach_fd(&self->nl, self->fd, "eia9.enormous", 0, NULL, NULL)) {
		TH_LOG("extack: %s", self->nl.errmsg);
	}
	EXPECT_NOTHING_LEFT();
}

TEST_F(attrs, timeout_out_of_range)
{
	struct eia_dev dev;

	EXPECT_EQ(-EINVAL, eia_attach_fd(&self->nl, self->fd, "eia2.medium",
					 EIA_TIMEOUT_MS_MIN - 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, eia_attach_fd(&self->nl, self->fd, "eia2.medium",
					 EIA_TIMEOUT_MS_MAX + 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, eia_attach_fd(&self->nl, self->fd, "eia2.medium",
					 0xffffffffu, NULL, NULL));
	EXPECT_NOTHING_LEFT();

	/* Both ends of the range are fine. */
	ASSERT_EQ(0, eia_attach_fd(&self->nl, self->fd, "eia2.medium",
				   EIA_TIMEOUT_MS_MIN, NULL, &dev));
	EXPECT_EQ(EIA_TIMEOUT_MS_MIN, dev.timeout_ms);
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", EIA_TIMEOUT_MS_MAX, &dev));
	EXPECT_EQ(EIA_TIMEOUT_MS_MAX, dev.timeout_ms);
}

/* gpud out of capacity for a type: ENOSPC, and nothing is left half-made. */
TEST_F(errors, gpud_capacity_exhausted)
{
	const char *type = "eia2.xlarge";
	struct eia_server_status st;
	struct eia_dev dev;
	uint32_t i, avail;

	ASSERT_EQ(0, eia_server_status(&st));
	ASSERT_NE(NULL, eia_server_type(&st, type));
	avail = eia_server_type(&st, type)->available;
	if (avail > 32)
		SKIP(return, "gpud can grant %u x %s: too many to use up", avail, type);
	for (i = 0; i < avail; i++)
		ASSERT_EQ(0, eia_attach(&self->nl, type, 0, &dev));
	EXPECT_EQ(-ENOSPC, eia_attach(&self->nl, type, 0, &dev)) {
		TH_LOG("extack: %s", self->nl.errmsg);
	}
	EXPECT_EQ((int)avail, eia_sysfs_count());
	ASSERT_EQ(0, eia_server_status(&st));
	EXPECT_EQ(0, eia_server_type(&st, type)->available);
	EXPECT_EQ(avail, eia_server_type(&st, type)->in_use);

	ASSERT_EQ((int)avail, eia_detach_all(&self->nl));
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));
	ASSERT_EQ(0, eia_server_status(&st));
	EXPECT_EQ(avail, eia_server_type(&st, type)->available);
}

/* ---- indexes ------------------------------------------------------------- */

static int detach_without_index(struct eia_nl *nl)
{
	struct nl_msg *msg = eia_nl_msg(nl, EIA_CMD_DETACH, 0);

	return msg ? eia_nl_request(nl, msg, NULL, 0) : -ENOMEM;
}

TEST_F(errors, detach_missing_index)
{
	EXPECT_EQ(-ENODEV, eia_detach(&self->nl, 4242));
	EXPECT_EQ(-ENODEV, eia_detach(&self->nl, 0));
	EXPECT_EQ(-EINVAL, detach_without_index(&self->nl));
}

TEST_F(errors, detach_twice)
{
	struct eia_dev dev;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	EXPECT_EQ(0, eia_detach(&self->nl, dev.index));
	EXPECT_EQ(-ENODEV, eia_detach(&self->nl, dev.index));
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, get_missing_index)
{
	struct eia_dev dev;

	EXPECT_EQ(-ENODEV, eia_get(&self->nl, 4242, &dev));
}

TEST_F(errors, reconfigure_missing_index)
{
	int fd = eia_connect(eia_server());

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENODEV, eia_reconfigure_fd(&self->nl, 4242, fd));
	close(fd);
	EXPECT_NOTHING_LEFT();
}

/* A bad socket in RECONFIGURE leaves the device as it was. */
TEST_F(errors, reconfigure_bad_socket)
{
	struct eia_dev dev, g;
	int fd, p[2];

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, eia_reconfigure_fd(&self->nl, dev.index, fd));
	close(fd);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-ENOTSOCK, eia_reconfigure_fd(&self->nl, dev.index, p[0]));
	close(p[0]);
	close(p[1]);

	ASSERT_EQ(0, eia_get(&self->nl, dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
	EXPECT_STREQ(dev.accel_id, g.accel_id);
	fd = eia_open_dev(dev.name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, eia_ping(fd, 5, 0, NULL));
	close(fd);
}

/* ---- permissions --------------------------------------------------------- */

enum who { NO_CAP_NET_ADMIN, NOBODY };

enum op { OP_ATTACH, OP_DETACH, OP_DUMP };

/*
 * Runs @op in a child that has dropped its privileges the @who way; returns
 * the child's result (0, a count, or a negative errno).
 */
static int run_unprivileged(enum who who, enum op op, uint32_t index)
{
	int status, ret;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct eia_nl nl;
		int fd;

		ret = who == NOBODY ? eia_become_nobody() : eia_drop_cap_net_admin();
		if (!ret)
			ret = eia_nl_open(&nl);
		if (ret)
			_exit(100);
		switch (op) {
		case OP_ATTACH:
			fd = eia_connect(eia_server());
			ret = fd < 0 ? fd : eia_attach_fd(&nl, fd, "eia2.medium", 0, NULL, NULL);
			break;
		case OP_DETACH:
			ret = eia_detach(&nl, index);
			break;
		case OP_DUMP:
			ret = eia_dump(&nl, NULL, 0);
			break;
		}
		/* Exit codes: 0..99 a count, 101.. an errno. */
		_exit(ret < 0 ? 100 - ret : ret);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 100)
		return -ECHILD;
	ret = WEXITSTATUS(status);
	return ret > 100 ? -(ret - 100) : ret;
}

TEST_F(errors, attach_without_cap_net_admin)
{
	EXPECT_EQ(-EPERM, run_unprivileged(NO_CAP_NET_ADMIN, OP_ATTACH, 0));
	EXPECT_NOTHING_LEFT();
}

TEST_F(errors, attach_as_nobody)
{
	EXPECT_EQ(-EPERM, run_unprivileged(NOBODY, OP_ATTACH, 0));
	EXPECT_NOTHING_LEFT();
}

/* GET is open to everyone; DETACH is not. */
TEST_F(errors, nobody_may_look_not_detach)
{
	struct eia_dev dev, g;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	EXPECT_EQ(1, run_unprivileged(NOBODY, OP_DUMP, 0));
	EXPECT_EQ(-EPERM, run_unprivileged(NOBODY, OP_DETACH, dev.index));
	EXPECT_EQ(-EPERM, run_unprivileged(NO_CAP_NET_ADMIN, OP_DETACH, dev.index));
	ASSERT_EQ(0, eia_get(&self->nl, dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
}

EIA_TEST_MAIN
