// SPDX-License-Identifier: GPL-2.0
/*
 * gpud going away under attached devices: killed (the connection closes) or
 * stopped (it stays open and silent). The device must turn impaired within its
 * timeout, say so on the events group, fail requests in flight and new ones
 * fast with ENOLINK, and come back healthy, with the same accelerator id, when
 * reattached to a restarted gpud. These tests stop the local gpud and start
 * it again; they are skipped when gpud runs elsewhere (tests/vm/run --host-gpud).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "eia_test_lib.h"
#include "eia_test_main.h"

FIXTURE(link) {
	struct eia_nl nl;
	struct eia_events ev;
	struct eia_dev dev;
	int fd;
};

/* Every test here starts with one device (timeout 2 s) open and watched. */
FIXTURE_SETUP(link)
{
	self->fd = -1;
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
	ASSERT_EQ(0, eia_events_open(&self->ev));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 2000, &self->dev));
	self->fd = eia_open_dev(self->dev.name);
	ASSERT_LE(0, self->fd);
}

/* Whatever a test did to gpud, the next one finds it running. */
FIXTURE_TEARDOWN(link)
{
	eia_gpud_kill(SIGCONT);
	if (self->fd >= 0)
		close(self->fd);
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
	eia_events_close(&self->ev);
	eia_gpud_ensure();
}

#define NEED_LOCAL_GPUD() do {						\
	if (!eia_gpud_local())						\
		SKIP(return, "gpud is not on this machine (%s)", eia_server()); \
} while (0)

TEST_F(link, gpud_killed_device_impaired)
{
	struct eia_dev_info info;
	struct eia_dev g, e;
	int64_t killed;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	killed = eia_now_ms();
	/* Within the 2 s request timeout, even with no request going. */
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", 2000));
	TH_LOG("impaired %lld ms after the kill", (long long)(eia_now_ms() - killed));
	ASSERT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_LINK_DEAD, self->dev.index,
				     3000, &e));
	EXPECT_STREQ(self->dev.name, e.name);
	EXPECT_STREQ(self->dev.accel_id, e.accel_id);
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(EIA_STATUS_IMPAIRED, g.status);
	/* INFO needs no gpud. */
	ASSERT_EQ(0, ioctl(self->fd, EIA_IOCTL_INFO, &info));
	EXPECT_EQ(EIA_STATUS_IMPAIRED, info.status);
	EXPECT_STREQ(self->dev.accel_id, info.accel_id);
}

TEST_F(link, request_in_flight_fails_fast)
{
	struct eia_bg_ping bg;
	int64_t killed;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_bg_ping_start(&bg, self->fd, 5000));
	ASSERT_EQ(0, eia_wait_requests(&self->nl, self->dev.index, self->dev.requests, 3000));
	eia_sleep_ms(100);	/* let gpud read it */
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	killed = eia_now_ms();
	/* ENOLINK: neither the 5 s delay's reply nor the 2 s timeout's ETIMEDOUT. */
	EXPECT_EQ(-ENOLINK, eia_bg_ping_join(&bg));
	TH_LOG("failed %lld ms after the kill", (long long)(bg.done_ms - killed));
}

TEST_F(link, new_requests_fail_fast)
{
	struct eia_dev before, after;
	int64_t start;
	int i;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", 3000));
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &before));
	start = eia_now_ms();
	for (i = 0; i < 10; i++)
		EXPECT_EQ(-ENOLINK, eia_ping(self->fd, (uint64_t)i, 0, NULL));
	TH_LOG("10 refused requests took %lld ms", (long long)(eia_now_ms() - start));
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &after));
	EXPECT_LE(before.errors + 10, after.errors);
	/* Even with gpud back, the dead connection stays dead until a reattach. */
	ASSERT_EQ(0, eia_gpud_start());
	EXPECT_EQ(-ENOLINK, eia_ping(self->fd, 99, 0, NULL));
}

TEST_F(link, reattach_after_gpud_restart)
{
	struct eia_dev g, e;
	struct eia_ping p;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", 3000));
	ASSERT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_LINK_DEAD, self->dev.index,
				     3000, NULL));
	/* No gpud: reattach cannot even connect. */
	EXPECT_EQ(-ECONNREFUSED, eia_reattach(&self->nl, self->dev.index));

	ASSERT_EQ(0, eia_gpud_start());
	ASSERT_EQ(0, eia_reattach(&self->nl, self->dev.index)) {
		TH_LOG("reattach: %s", self->nl.errmsg);
	}
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
	EXPECT_STREQ(self->dev.accel_id, g.accel_id);
	EXPECT_STREQ(self->dev.type, g.type);
	EXPECT_EQ(self->dev.index, g.index);
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "healthy", 1000));
	ASSERT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_LINK_RESTORED, self->dev.index,
				     3000, &e));
	EXPECT_STREQ(self->dev.accel_id, e.accel_id);
	ASSERT_EQ(0, eia_ping(self->fd, 1234, 0, &p));
	EXPECT_EQ(1234, p.cookie);
	EXPECT_EQ(1, eia_wait_sessions(1, 5000));
}

/* gpud alive but silent: only the timeouts and health checks can tell. */
TEST_F(link, gpud_stopped_times_out)
{
	struct eia_ping p;
	int64_t start;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));
	start = eia_now_ms();
	EXPECT_EQ(-ETIMEDOUT, eia_ping(self->fd, 1, 0, NULL));
	/* Not before the 2 s timeout: a lower bound only. */
	EXPECT_LE(1900, eia_now_ms() - start);
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", 1000));
	EXPECT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_LINK_DEAD, self->dev.index,
				     3000, NULL));
	EXPECT_EQ(-ENOLINK, eia_ping(self->fd, 2, 0, NULL));

	ASSERT_EQ(0, eia_gpud_kill(SIGCONT));
	ASSERT_EQ(0, eia_reattach(&self->nl, self->dev.index));
	ASSERT_EQ(0, eia_ping(self->fd, 3, 0, &p));
	EXPECT_EQ(3, p.cookie);
}

/*
 * Health checks find a silent gpud with no request from us at all: within
 * one interval and one request timeout (2 s here), plus scheduling slack.
 */
TEST_F_TIMEOUT(link, health_check_finds_silent_gpud, 120)
{
	uint64_t interval;
	int64_t stopped;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_module_param("health_interval_ms", &interval));
	if (!interval)
		SKIP(return, "health checks are off (health_interval_ms=0)");
	ASSERT_GT(60000, interval);
	ASSERT_EQ(0, eia_gpud_kill(SIGSTOP));
	stopped = eia_now_ms();
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", (int)interval + 2000 + 2000));
	TH_LOG("impaired %lld ms after gpud stopped (health checks every %llu ms)",
	       (long long)(eia_now_ms() - stopped), (unsigned long long)interval);
	EXPECT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_LINK_DEAD, self->dev.index,
				     3000, NULL));
}

TEST_F(link, two_devices_one_gpud)
{
	struct eia_dev b, g;
	int fd;

	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.large", 2000, &b));
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_LINK_DEAD, self->dev.index,
				     3000, NULL));
	ASSERT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_LINK_DEAD, b.index, 3000, NULL));
	ASSERT_EQ(0, eia_gpud_start());
	ASSERT_EQ(0, eia_reattach(&self->nl, b.index));
	ASSERT_EQ(0, eia_reattach(&self->nl, self->dev.index));
	ASSERT_EQ(0, eia_get(&self->nl, b.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
	EXPECT_STREQ(b.accel_id, g.accel_id);
	ASSERT_EQ(0, eia_get(&self->nl, self->dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
	EXPECT_STREQ(self->dev.accel_id, g.accel_id);
	fd = eia_open_dev(b.name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, eia_ping(fd, 1, 0, NULL));
	EXPECT_EQ(0, eia_ping(self->fd, 2, 0, NULL));
	close(fd);
	EXPECT_EQ(2, eia_wait_sessions(2, 5000));
}

TEST_F(link, detach_impaired_device)
{
	NEED_LOCAL_GPUD();
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_wait_status(self->dev.name, "impaired", 3000));
	ASSERT_EQ(0, eia_detach(&self->nl, self->dev.index));
	EXPECT_EQ(0, eia_events_wait(&self->ev, EIA_CMD_EVENT_DETACHED, self->dev.index,
				     3000, NULL));
	EXPECT_EQ(0, eia_sysfs_count());
	EXPECT_EQ(-ENODEV, eia_ping(self->fd, 1, 0, NULL));
}

EIA_TEST_MAIN
