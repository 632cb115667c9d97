// SPDX-License-Identifier: GPL-2.0
/*
 * Attach and detach over generic netlink: what the device looks like
 * afterwards (reply, GET, sysfs, /dev, events), that it matches what gpud
 * granted, and that attach/detach cycles leak nothing in the module, in gpud
 * or in the TCP stack.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <netlink/attr.h>

#include "kselftest_harness.h"

#include "eia_test_lib.h"
#include "eia_test_main.h"

FIXTURE(attach) {
	struct eia_nl nl;
};

FIXTURE_SETUP(attach)
{
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
}

FIXTURE_TEARDOWN(attach)
{
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
}

static bool accel_id_ok(const char *id)
{
	int i;

	if (strlen(id) != EIA_ACCEL_ID_LEN || strncmp(id, "eia-", 4))
		return false;
	for (i = 4; i < EIA_ACCEL_ID_LEN; i++)
		if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			return false;
	return true;
}

static bool path_exists(const char *fmt, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), fmt, name);
	return access(path, F_OK) == 0;
}

/* sysfs "fp32_tflops" and the like, compared in thousandths. */
static long sysfs_mtflops(const char *dev, const char *attr)
{
	char buf[64];
	double v;

	if (eia_sysfs_read(dev, attr, buf, sizeof(buf)) || sscanf(buf, "%lf", &v) != 1)
		return -1;
	return (long)(v * 1000.0 + 0.5);
}

TEST_F(attach, basic)
{
	struct eia_dev dev;
	char name[EIA_DEV_NAME_MAX], buf[64], devno[32];
	struct stat st;
	int fd;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev)) {
		TH_LOG("attach: %s", self->nl.errmsg);
	}
	ASSERT_TRUE(eia_dev_has(&dev, EIA_ATTR_INDEX));
	ASSERT_TRUE(eia_dev_has(&dev, EIA_ATTR_DEV_NAME));
	ASSERT_TRUE(eia_dev_has(&dev, EIA_ATTR_ACCEL_ID));
	snprintf(name, sizeof(name), "eia%u", dev.index);
	EXPECT_STREQ(name, dev.name);
	EXPECT_STREQ("eia2.medium", dev.type);
	EXPECT_TRUE(accel_id_ok(dev.accel_id)) {
		TH_LOG("accelerator id '%s'", dev.accel_id);
	}
	EXPECT_EQ(EIA_STATUS_HEALTHY, dev.status);

	/* The device node and the sysfs directory exist... */
	snprintf(buf, sizeof(buf), "/dev/%s", dev.name);
	ASSERT_EQ(0, stat(buf, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_TRUE(path_exists("/sys/class/eia/%s", dev.name));
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "dev", buf, sizeof(buf)));
	snprintf(devno, sizeof(devno), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	EXPECT_STREQ(devno, buf);
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "status", buf, sizeof(buf)));
	EXPECT_STREQ("healthy", buf);
	EXPECT_EQ(1, eia_sysfs_count());
	EXPECT_EQ(1, eia_wait_sessions(1, 5000));

	/* ...and the device works although our socket fd is closed. */
	fd = eia_open_dev(dev.name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, eia_ping(fd, 42, 0, NULL));
	close(fd);

	ASSERT_EQ(0, eia_detach(&self->nl, dev.index));
	EXPECT_FALSE(path_exists("/dev/%s", dev.name));
	EXPECT_FALSE(path_exists("/sys/class/eia/%s", dev.name));
	EXPECT_EQ(-ENODEV, eia_get(&self->nl, dev.index, &dev));
	EXPECT_EQ(0, eia_sysfs_count());
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));
}

TEST_F(attach, reply_matches_get)
{
	struct eia_dev a, g;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.large", 0, &a));
	ASSERT_EQ(0, eia_get(&self->nl, a.index, &g));
	EXPECT_EQ(EIA_CMD_ATTACH, a.cmd);
	EXPECT_EQ(EIA_CMD_GET, g.cmd);
	EXPECT_EQ(a.index, g.index);
	EXPECT_STREQ(a.name, g.name);
	EXPECT_STREQ(a.type, g.type);
	EXPECT_STREQ(a.accel_id, g.accel_id);
	EXPECT_STREQ(a.server, g.server);
	EXPECT_EQ(a.status, g.status);
	EXPECT_EQ(a.timeout_ms, g.timeout_ms);
	EXPECT_EQ(a.memory_total, g.memory_total);
	EXPECT_EQ(a.fp32_mtflops, g.fp32_mtflops);
	EXPECT_EQ(a.fp16_mtflops, g.fp16_mtflops);
	/* Every documented GET attribute is there. */
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_SERVER));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_STATUS));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_TIMEOUT_MS));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_MEMORY_TOTAL));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_MEMORY_USED));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_FP32_MTFLOPS));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_FP16_MTFLOPS));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_REQUESTS));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_ERRORS));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_BYTES_SENT));
	EXPECT_TRUE(eia_dev_has(&g, EIA_ATTR_BYTES_RECEIVED));
}

/* One test per default type of DESIGN.md. */
FIXTURE(types) {
	struct eia_nl nl;
};

FIXTURE_VARIANT(types) {
	int type;
};

FIXTURE_VARIANT_ADD(types, eia1_medium) { .type = 0 };
FIXTURE_VARIANT_ADD(types, eia1_large) { .type = 1 };
FIXTURE_VARIANT_ADD(types, eia1_xlarge) { .type = 2 };
FIXTURE_VARIANT_ADD(types, eia2_medium) { .type = 3 };
FIXTURE_VARIANT_ADD(types, eia2_large) { .type = 4 };
FIXTURE_VARIANT_ADD(types, eia2_xlarge) { .type = 5 };

FIXTURE_SETUP(types)
{
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
}

FIXTURE_TEARDOWN(types)
{
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
}

/* sysfs, GET and gpud's own table all say what gpud granted. */
TEST_F(types, sysfs_matches_granted)
{
	const struct eia_default_type *want = &eia_default_types[variant->type];
	const struct eia_type_info *ti;
	struct eia_server_status before, after;
	struct eia_dev dev, g;
	char buf[EIA_SERVER_NAME_MAX];
	uint64_t v;

	ASSERT_EQ(0, eia_server_status(&before));
	ti = eia_server_type(&before, want->name);
	ASSERT_NE(NULL, ti) {
		TH_LOG("gpud does not offer %s", want->name);
	}
	EXPECT_EQ(want->memory_bytes, ti->memory_bytes);
	EXPECT_EQ(want->fp32_mtflops, ti->fp32_mtflops);
	EXPECT_EQ(want->fp16_mtflops, ti->fp16_mtflops);

	ASSERT_EQ(0, eia_attach(&self->nl, want->name, 0, &dev));
	ASSERT_EQ(0, eia_get(&self->nl, dev.index, &g));
	EXPECT_STREQ(want->name, g.type);
	EXPECT_EQ(want->memory_bytes, g.memory_total);
	EXPECT_EQ(want->fp32_mtflops, g.fp32_mtflops);
	EXPECT_EQ(want->fp16_mtflops, g.fp16_mtflops);
	EXPECT_EQ(0, g.memory_used);

	ASSERT_EQ(0, eia_sysfs_read(dev.name, "type", buf, sizeof(buf)));
	EXPECT_STREQ(want->name, buf);
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "accelerator_id", buf, sizeof(buf)));
	EXPECT_STREQ(g.accel_id, buf);
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "status", buf, sizeof(buf)));
	EXPECT_STREQ("healthy", buf);
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "server", buf, sizeof(buf)));
	EXPECT_STREQ(g.server, buf);
	ASSERT_EQ(0, eia_sysfs_u64(dev.name, "memory_total_bytes", &v));
	EXPECT_EQ(want->memory_bytes, v);
	ASSERT_EQ(0, eia_sysfs_u64(dev.name, "memory_used_bytes", &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(want->fp32_mtflops, sysfs_mtflops(dev.name, "fp32_tflops"));
	EXPECT_EQ(want->fp16_mtflops, sysfs_mtflops(dev.name, "fp16_tflops"));

	/* gpud counts it against the type. */
	ASSERT_EQ(0, eia_server_status(&after));
	ti = eia_server_type(&after, want->name);
	ASSERT_NE(NULL, ti);
	EXPECT_EQ(before.sessions + 1, after.sessions);
	EXPECT_EQ(eia_server_type(&before, want->name)->in_use + 1, ti->in_use);
	EXPECT_EQ(eia_server_type(&before, want->name)->available - 1, ti->available);
}

TEST_F(attach, two_devices)
{
	struct eia_dev a, b, devs[4];
	char buf[32];
	int fa, fb;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &a));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.xlarge", 0, &b));
	EXPECT_NE(a.index, b.index);
	EXPECT_STRNE(a.name, b.name);
	EXPECT_STRNE(a.accel_id, b.accel_id);
	EXPECT_EQ(2, eia_dump(&self->nl, devs, 4));
	EXPECT_EQ(2, eia_sysfs_count());
	EXPECT_EQ(2, eia_wait_sessions(2, 5000));
	ASSERT_EQ(0, eia_sysfs_read(a.name, "status", buf, sizeof(buf)));
	EXPECT_STREQ("healthy", buf);
	ASSERT_EQ(0, eia_sysfs_read(b.name, "status", buf, sizeof(buf)));
	EXPECT_STREQ("healthy", buf);
	ASSERT_EQ(0, eia_sysfs_read(b.name, "type", buf, sizeof(buf)));
	EXPECT_STREQ("eia1.xlarge", buf);

	fa = eia_open_dev(a.name);
	fb = eia_open_dev(b.name);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	EXPECT_EQ(0, eia_ping(fa, 1, 0, NULL));
	EXPECT_EQ(0, eia_ping(fb, 2, 0, NULL));

	/* Detaching one leaves the other alone. */
	close(fa);
	ASSERT_EQ(0, eia_detach(&self->nl, a.index));
	EXPECT_EQ(0, eia_ping(fb, 3, 0, NULL));
	ASSERT_EQ(0, eia_sysfs_read(b.name, "status", buf, sizeof(buf)));
	EXPECT_STREQ("healthy", buf);
	EXPECT_EQ(1, eia_dump(&self->nl, devs, 4));
	EXPECT_EQ(b.index, devs[0].index);
	EXPECT_EQ(1, eia_wait_sessions(1, 5000));
	close(fb);
}

#define CYCLES 100

/* Nothing leaks over many attach/detach cycles: devices, gpud sessions, sockets. */
TEST_F_TIMEOUT(attach, cycles_leak_nothing, 300)
{
	struct eia_server_status st;
	struct eia_dev dev;
	int64_t start;
	int i, tcp_base;

	ASSERT_EQ(0, eia_wait_sessions(0, 5000));
	ASSERT_EQ(0, eia_sysfs_count());
	tcp_base = eia_tcp_inuse();
	ASSERT_LE(0, tcp_base);

	start = eia_now_ms();
	for (i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, eia_attach(&self->nl, "eia1.medium", 0, &dev)) {
			TH_LOG("cycle %d: %s", i, self->nl.errmsg);
		}
		if (i % 10 == 0) {
			int fd = eia_open_dev(dev.name);

			ASSERT_LE(0, fd);
			EXPECT_EQ(0, eia_ping(fd, (uint64_t)i, 0, NULL));
			close(fd);
		}
		ASSERT_EQ(0, eia_detach(&self->nl, dev.index));
	}
	TH_LOG("%d attach/detach cycles in %lld ms", CYCLES,
	       (long long)(eia_now_ms() - start));

	EXPECT_EQ(0, eia_sysfs_count());
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
	EXPECT_EQ(0, eia_wait_sessions(0, 10000));
	ASSERT_EQ(0, eia_server_status(&st));
	EXPECT_EQ(0, eia_server_type(&st, "eia1.medium")->in_use);
	/* Closed connections drain out of the TCP tables (the server's side too). */
	EXPECT_GE(tcp_base, eia_wait_tcp_inuse(tcp_base, 15000));
}

TEST_F(attach, server_attribute_shown)
{
	const char *name = "gpu-test.example:8443";
	struct eia_dev dev, g;
	char buf[EIA_SERVER_NAME_MAX];
	int fd = eia_connect(eia_server());

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eia_attach_fd(&self->nl, fd, "eia2.medium", 0, name, &dev));
	close(fd);
	ASSERT_EQ(0, eia_get(&self->nl, dev.index, &g));
	EXPECT_STREQ(name, g.server);
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "server", buf, sizeof(buf)));
	EXPECT_STREQ(name, buf);
}

/* Without SERVER the kernel names the socket's peer. */
TEST_F(attach, server_defaults_to_peer)
{
	char host[64], buf[EIA_SERVER_NAME_MAX], *colon;
	struct eia_dev dev;

	snprintf(host, sizeof(host), "%s", eia_server());
	colon = strrchr(host, ':');
	ASSERT_NE(NULL, colon);
	*colon = '\0';
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	ASSERT_EQ(0, eia_sysfs_read(dev.name, "server", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, host)) {
		TH_LOG("server '%s' does not name %s", buf, host);
	}
	EXPECT_NE(NULL, strstr(buf, colon + 1));
}

TEST_F(attach, timeout_attribute)
{
	struct eia_dev dev, g;
	struct eia_dev_info info;
	struct nl_msg *msg;
	uint64_t param;
	int fd;

	/* Default: the module parameter. */
	ASSERT_EQ(0, eia_module_param("request_timeout_ms", &param));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	EXPECT_EQ(param, dev.timeout_ms);
	ASSERT_EQ(0, eia_detach(&self->nl, dev.index));

	/* Given at attach. */
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 1234, &dev));
	EXPECT_EQ(1234, dev.timeout_ms);
	fd = eia_open_dev(dev.name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, EIA_IOCTL_INFO, &info));
	EXPECT_EQ(1234, info.timeout_ms);

	/* Changed by RECONFIGURE alone, the connection untouched. */
	msg = eia_nl_msg(&self->nl, EIA_CMD_RECONFIGURE, 0);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put_u32(msg, EIA_ATTR_INDEX, dev.index));
	ASSERT_EQ(0, nla_put_u32(msg, EIA_ATTR_TIMEOUT_MS, 4321));
	ASSERT_EQ(0, eia_nl_request(&self->nl, msg, NULL, 0)) {
		TH_LOG("reconfigure: %s", self->nl.errmsg);
	}
	ASSERT_EQ(0, eia_get(&self->nl, dev.index, &g));
	EXPECT_EQ(4321, g.timeout_ms);
	EXPECT_STREQ(dev.accel_id, g.accel_id);
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
	ASSERT_EQ(0, ioctl(fd, EIA_IOCTL_INFO, &info));
	EXPECT_EQ(4321, info.timeout_ms);
	EXPECT_EQ(0, eia_ping(fd, 7, 0, NULL));
	close(fd);
}

TEST_F(attach, events_attached_detached)
{
	struct eia_events ev;
	struct eia_dev dev, e;

	ASSERT_EQ(0, eia_events_open(&ev));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.large", 0, &dev));
	ASSERT_EQ(0, eia_events_wait(&ev, EIA_CMD_EVENT_ATTACHED, dev.index, 5000, &e));
	EXPECT_STREQ(dev.name, e.name);
	EXPECT_STREQ("eia2.large", e.type);
	EXPECT_STREQ(dev.accel_id, e.accel_id);
	EXPECT_STREQ(dev.server, e.server);

	ASSERT_EQ(0, eia_detach(&self->nl, dev.index));
	ASSERT_EQ(0, eia_events_wait(&ev, EIA_CMD_EVENT_DETACHED, dev.index, 5000, &e));
	EXPECT_STREQ(dev.name, e.name);
	eia_events_close(&ev);
}

TEST_F(attach, nothing_attached)
{
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
	EXPECT_EQ(0, eia_sysfs_count());
	EXPECT_EQ(-ENODEV, eia_get(&self->nl, 0, NULL));
}

EIA_TEST_MAIN
