// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls of /dev/eiaN: INFO and PING, their argument checks, request
 * timeouts, counters, concurrent requests, and files that outlive a detach.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "eia_test_lib.h"
#include "eia_test_main.h"

FIXTURE(dev) {
	struct eia_nl nl;
	struct eia_dev dev;
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = -1;
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &self->dev)) {
		TH_LOG("attach: %s", self->nl.errmsg);
	}
	self->fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
}

TEST_F(dev, info_matches_get)
{
	struct eia_dev_info info;
	struct eia_dev g;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, ioctl(self->fd, EIA_IOCTL_INFO, &info));
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(g.index, info.index);
	EXPECT_EQ(EIA_STATUS_HEALTHY, info.status);
	EXPECT_EQ(g.memory_total, info.memory_total);
	EXPECT_EQ(g.memory_used, info.memory_used);
	EXPECT_EQ(g.fp32_mtflops, info.fp32_mtflops);
	EXPECT_EQ(g.fp16_mtflops, info.fp16_mtflops);
	EXPECT_EQ(EIA_WIRE_VERSION, info.wire_version);
	EXPECT_EQ(g.timeout_ms, info.timeout_ms);
	/* NUL-terminated within their fields. */
	ASSERT_NE(NULL, memchr(info.type, '\0', sizeof(info.type)));
	ASSERT_NE(NULL, memchr(info.accel_id, '\0', sizeof(info.accel_id)));
	EXPECT_STREQ("eia2.medium", info.type);
	EXPECT_STREQ(g.accel_id, info.accel_id);
	/* What gpud grants (Documentation/gpud.rst), and the reserved word zeroed. */
	EXPECT_EQ(EIA_WIRE_MAX_PAYLOAD, info.max_payload);
	EXPECT_EQ(0, info.reserved);
}

TEST_F(dev, ping_echoes_cookie)
{
	const uint64_t cookies[] = { 0, 1, 0xdeadbeefcafef00dull, ~0ull };
	struct eia_ping p;
	unsigned int i;

	for (i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++) {
		ASSERT_EQ(0, eia_ping(self->fd, cookies[i], 0, &p));
		EXPECT_EQ(cookies[i], p.cookie);
		EXPECT_LT(0, p.rtt_ns);
		EXPECT_EQ(0, p.pad);
	}
}

TEST_F(dev, ping_with_delay)
{
	int64_t start = eia_now_ms();
	struct eia_ping p;

	ASSERT_EQ(0, eia_ping(self->fd, 77, 300, &p));
	EXPECT_EQ(77, p.cookie);
	EXPECT_LE(300000000ull, p.rtt_ns);
	EXPECT_LE(300, eia_now_ms() - start);
}

TEST_F(dev, ping_nonzero_pad)
{
	struct eia_ping p = { .cookie = 1, .pad = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, EIA_IOCTL_PING, &p));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, ping_delay_over_limit)
{
	EXPECT_EQ(-EINVAL, eia_ping(self->fd, 1, EIA_WIRE_PING_MAX_DELAY_MS + 1, NULL));
	EXPECT_EQ(-EINVAL, eia_ping(self->fd, 1, 0xffffffffu, NULL));
	/* Refused before anything was sent: the device is still healthy. */
	EXPECT_EQ(0, eia_ping(self->fd, 2, 0, NULL));
}

TEST_F(dev, unknown_ioctl)
{
	char buf[256] = "";

	EXPECT_EQ(-1, ioctl(self->fd, _IO(EIA_IOCTL_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(EIA_IOCTL_MAGIC, 0x02, struct eia_ping), buf));
	EXPECT_EQ(ENOTTY, errno);
	/* Another driver's magic. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('T', 0x01, int), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, EIA_IOCTL_INFO, (void *)16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, EIA_IOCTL_PING, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, eia_ping(self->fd, 3, 0, NULL));
}

TEST_F(dev, counters)
{
	struct eia_dev before, after;
	const uint64_t msg = sizeof(struct eia_wire_hdr) + sizeof(struct eia_wire_ping);
	uint64_t v;

	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &before));
	ASSERT_EQ(0, eia_ping(self->fd, 9, 0, NULL));
	ASSERT_EQ(0, eia_ping(self->fd, 10, 0, NULL));
	ASSERT_EQ(-EINVAL, eia_ping(self->fd, 11, EIA_WIRE_PING_MAX_DELAY_MS + 1, NULL));
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &after));
	/* Health checks may add their own traffic, never less. */
	EXPECT_LE(before.requests + 2, after.requests);
	EXPECT_LE(before.bytes_sent + 2 * msg, after.bytes_sent);
	EXPECT_LE(before.bytes_received + 2 * msg, after.bytes_received);
	EXPECT_EQ(before.errors, after.errors);

	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "requests", &v));
	EXPECT_LE(after.requests, v);
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "errors", &v));
	EXPECT_EQ(after.errors, v);
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "bytes_sent", &v));
	EXPECT_LE(after.bytes_sent, v);
	ASSERT_EQ(0, eia_sysfs_u64(self->dev.name, "bytes_received", &v));
	EXPECT_LE(after.bytes_received, v);
}

/* A request gpud answers too late times out, and the device is impaired. */
TEST_F(dev, request_timeout)
{
	struct eia_events ev;
	struct eia_dev dev, g;
	struct eia_dev_info info;
	char buf[32];
	int64_t start, took;
	int fd;

	ASSERT_EQ(0, eia_events_open(&ev));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.medium", 500, &dev));
	fd = eia_open_dev(dev.name);
	ASSERT_LE(0, fd);

	start = eia_now_ms();
	EXPECT_EQ(-ETIMEDOUT, eia_ping(fd, 1, 1500, NULL));
	took = eia_now_ms() - start;
	/* Not before the timeout: a lower bound only, tests assert no speed. */
	EXPECT_LE(450, took);

	ASSERT_EQ(0, eia_wait_status(dev.name, "impaired", 2000));
	ASSERT_EQ(0, ioctl(fd, EIA_IOCTL_INFO, &info));
	EXPECT_EQ(EIA_STATUS_IMPAIRED, info.status);
	EXPECT_EQ(0, eia_events_wait(&ev, EIA_CMD_EVENT_LINK_DEAD, dev.index, 3000, NULL));
	ASSERT_EQ(0, eia_get(&self->nl, dev.index, &g));
	EXPECT_EQ(EIA_STATUS_IMPAIRED, g.status);
	EXPECT_LE(1, g.errors);
	/* Until a reattach, requests fail at once. */
	EXPECT_EQ(-ENOLINK, eia_ping(fd, 2, 0, NULL));
	/* The other device has its own connection and is fine. */
	EXPECT_EQ(0, eia_ping(self->fd, 3, 0, NULL));

	ASSERT_EQ(0, eia_reattach(&self->nl, dev.index)) {
		TH_LOG("reattach: %s", self->nl.errmsg);
	}
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "status", buf, sizeof(buf)));
	EXPECT_STREQ("healthy", buf);
	EXPECT_EQ(0, eia_events_wait(&ev, EIA_CMD_EVENT_LINK_RESTORED, dev.index, 3000, NULL));
	EXPECT_EQ(0, eia_ping(fd, 4, 0, NULL));
	close(fd);
	eia_events_close(&ev);
}

/* Detach with the file still open: the file stays valid, ioctls get ENODEV. */
TEST_F(dev, detach_with_file_open)
{
	struct eia_dev_info info;
	char path[64];

	ASSERT_EQ(0, eia_detach(&self->nl, self->dev.index));
	snprintf(path, sizeof(path), "/dev/%s", self->dev.name);
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_EQ(-1, ioctl(self->fd, EIA_IOCTL_INFO, &info));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-ENODEV, eia_ping(self->fd, 1, 0, NULL));
	EXPECT_EQ(-ENODEV, eia_ping(self->fd, 1, 0, NULL));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));
}

/* A request in flight when the device is detached ends at once. */
TEST_F(dev, detach_with_request_in_flight)
{
	struct eia_dev g;
	struct eia_bg_ping bg;
	int64_t detached;

	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	ASSERT_EQ(0, eia_bg_ping_start(&bg, self->fd, 5000));
	ASSERT_EQ(0, eia_wait_requests(&self->nl, self->dev.index, g.requests, 3000));
	ASSERT_EQ(0, eia_detach(&self->nl, self->dev.index));
	detached = eia_now_ms();
	/* ENODEV, not the reply that comes after the 5 s delay. */
	EXPECT_EQ(-ENODEV, eia_bg_ping_join(&bg));
	TH_LOG("ended %lld ms after the detach", (long long)(bg.done_ms - detached));
	EXPECT_EQ(-ENODEV, eia_ping(self->fd, 1, 0, NULL));
}

#define THREADS 4
#define PINGS_PER_THREAD 25

struct pinger {
	int fd;
	unsigned int id;
	int failures;
	pthread_t thread;
};

static void *pinger_main(void *arg)
{
	struct pinger *p = arg;
	unsigned int i;

	for (i = 0; i < PINGS_PER_THREAD; i++) {
		uint64_t cookie = ((uint64_t)p->id << 32) | i;
		struct eia_ping ping;

		/* Some wait at the server, so answers come back out of order. */
		if (eia_ping(p->fd, cookie, (i % 5 == 0) ? 20 : 0, &ping) || ping.cookie != cookie)
			p->failures++;
	}
	return NULL;
}

/* Requests from many threads share one connection; each gets its own answer. */
TEST_F(dev, concurrent_pings)
{
	struct pinger p[THREADS];
	struct eia_dev before, after;
	unsigned int i;

	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &before));
	for (i = 0; i < THREADS; i++) {
		p[i] = (struct pinger){ .fd = self->fd, .id = i + 1 };
		ASSERT_EQ(0, pthread_create(&p[i].thread, NULL, pinger_main, &p[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(p[i].thread, NULL);
		EXPECT_EQ(0, p[i].failures);
	}
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &after));
	EXPECT_LE(before.requests + THREADS * PINGS_PER_THREAD, after.requests);
	EXPECT_EQ(EIA_STATUS_HEALTHY, after.status);
}

TEST_F(dev, two_files_one_device)
{
	int fd2 = eia_open_dev(self->dev.name);
	struct eia_dev_info a, b;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioctl(self->fd, EIA_IOCTL_INFO, &a));
	ASSERT_EQ(0, ioctl(fd2, EIA_IOCTL_INFO, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
	EXPECT_EQ(0, eia_ping(fd2, 1, 0, NULL));
	close(fd2);
	EXPECT_EQ(0, eia_ping(self->fd, 2, 0, NULL));
}

EIA_TEST_MAIN
