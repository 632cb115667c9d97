// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading eia.ko: refused while a /dev/eiaN file is open (the file holds a
 * reference on the module), otherwise it detaches every device, closes every
 * connection, and a reload starts from nothing. Runs last: it unloads and
 * reloads the module.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "eia_test_lib.h"
#include "eia_test_main.h"

FIXTURE(module) {
	struct eia_nl nl;
};

FIXTURE_SETUP(module)
{
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
}

/* The tests after this one get a loaded module and a running gpud. */
FIXTURE_TEARDOWN(module)
{
	eia_nl_close(&self->nl);
	if (!eia_module_loaded())
		eia_module_load();
	eia_gpud_ensure();
}

/* Unloads, then checks that nothing of the module is left. */
static int unload_and_check(struct __test_metadata *_metadata)
{
	int ret = eia_module_unload();

	if (ret)
		return ret;
	EXPECT_FALSE(eia_module_loaded());
	EXPECT_NE(0, access("/sys/class/eia", F_OK));
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));
	return 0;
}

/* Reloads and reopens the netlink socket (the family id may change). */
static int reload(struct eia_nl *nl)
{
	int ret = eia_module_load();

	eia_nl_close(nl);
	return ret ? ret : eia_nl_open(nl);
}

TEST_F(module, rmmod_refused_while_file_open)
{
	struct eia_dev dev;
	int fd;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	fd = eia_open_dev(dev.name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, eia_module_unload());
	EXPECT_TRUE(eia_module_loaded());
	EXPECT_EQ(0, eia_ping(fd, 1, 0, NULL));
	close(fd);

	ASSERT_EQ(0, unload_and_check(_metadata));
	EXPECT_NE(0, access("/dev/eia0", F_OK));
	ASSERT_EQ(0, reload(&self->nl));
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
}

/* A detached device's file still pins the module until it is closed. */
TEST_F(module, rmmod_refused_while_detached_file_open)
{
	struct eia_dev dev;
	int fd;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	fd = eia_open_dev(dev.name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eia_detach(&self->nl, dev.index));
	EXPECT_EQ(-EWOULDBLOCK, eia_module_unload());
	EXPECT_EQ(-ENODEV, eia_ping(fd, 1, 0, NULL));
	close(fd);
	ASSERT_EQ(0, unload_and_check(_metadata));
	ASSERT_EQ(0, reload(&self->nl));
}

TEST_F(module, rmmod_with_devices_attached)
{
	struct eia_dev devs[3];
	int i, tcp_base;

	tcp_base = eia_tcp_inuse();
	ASSERT_LE(0, tcp_base);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, eia_attach(&self->nl, eia_default_types[i].name, 0, &devs[i]));
	EXPECT_EQ(3, eia_wait_sessions(3, 5000));
	ASSERT_EQ(0, unload_and_check(_metadata));
	EXPECT_GE(tcp_base, eia_wait_tcp_inuse(tcp_base, 15000));

	ASSERT_EQ(0, reload(&self->nl));
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
	EXPECT_EQ(0, eia_sysfs_count());
	/* And the reloaded module works. */
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &devs[0]));
	EXPECT_EQ(EIA_STATUS_HEALTHY, devs[0].status);
}

TEST_F(module, rmmod_with_impaired_device)
{
	struct eia_dev dev;

	if (!eia_gpud_local())
		SKIP(return, "gpud is not on this machine (%s)", eia_server());
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 1000, &dev));
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_wait_status(dev.name, "impaired", 3000));
	ASSERT_EQ(0, eia_module_unload());
	EXPECT_FALSE(eia_module_loaded());
	ASSERT_EQ(0, eia_gpud_start());
	ASSERT_EQ(0, reload(&self->nl));
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
}

/* rmmod while a request waits at gpud: refused, the request still completes. */
TEST_F(module, rmmod_with_request_in_flight)
{
	struct eia_bg_ping bg;
	struct eia_dev dev;
	int fd;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	fd = eia_open_dev(dev.name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eia_bg_ping_start(&bg, fd, 1000));
	ASSERT_EQ(0, eia_wait_requests(&self->nl, dev.index, dev.requests, 3000));
	EXPECT_EQ(-EWOULDBLOCK, eia_module_unload());
	EXPECT_EQ(0, eia_bg_ping_join(&bg));
	close(fd);
	ASSERT_EQ(0, unload_and_check(_metadata));
	ASSERT_EQ(0, reload(&self->nl));
}

/* max_devices bounds the devices attached at once; gpud is not even asked. */
TEST_F(module, max_devices_parameter)
{
	struct eia_dev dev;
	uint64_t max;
	int i;

	ASSERT_EQ(0, unload_and_check(_metadata));
	ASSERT_EQ(0, eia_module_load_params("max_devices=2"));
	ASSERT_EQ(0, reload(&self->nl));
	ASSERT_EQ(0, eia_module_param("max_devices", &max));
	EXPECT_EQ(2, max);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, eia_attach(&self->nl, "eia1.medium", 0, &dev));
	EXPECT_EQ(-ENOSPC, eia_attach(&self->nl, "eia1.medium", 0, &dev));
	EXPECT_EQ(2, eia_sysfs_count());
	EXPECT_EQ(2, eia_wait_sessions(2, 5000));
	/* A free slot is usable again. */
	ASSERT_EQ(0, eia_detach(&self->nl, dev.index));
	EXPECT_EQ(0, eia_attach(&self->nl, "eia1.medium", 0, &dev));
	ASSERT_EQ(0, unload_and_check(_metadata));
	ASSERT_EQ(0, reload(&self->nl));
	ASSERT_EQ(0, eia_module_param("max_devices", &max));
	EXPECT_LT(2, max);
}

TEST_F_TIMEOUT(module, load_unload_cycles, 120)
{
	struct eia_dev dev;
	int i;

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, eia_attach(&self->nl, "eia1.medium", 0, &dev)) {
			TH_LOG("cycle %d: %s", i, self->nl.errmsg);
		}
		ASSERT_EQ(0, unload_and_check(_metadata));
		ASSERT_EQ(0, reload(&self->nl));
	}
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
}

EIA_TEST_MAIN
