// SPDX-License-Identifier: MIT
/*
 * libeia over tcp:// against a real gpud (the ASan build) on 127.0.0.1:
 * devices, memory, copies, streams, events, operators, errors, threads.
 * Every test starts its own gpud, so none depends on another.
 *
 * With EIA_TEST_DEVICE set (e.g. "eia0", in the test VM), the tests of the
 * gpud fixture run on that device of eia.ko instead, through EIA_IOCTL_SUBMIT
 * and io_uring; those that need a gpud of their own are skipped.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eia.h"
#include "eia_cmdbuf.h"
#include "gpud_util.h"
#include "kselftest_harness.h"
#include "last_failure.h"

/* A tiny type, so that quota tests need little memory. */
#define TINY_MIB	4
static const char gpud_conf[] = "type tiny memory=4M fp32=0.5 fp16=2\n";

#define MIB		(1024u * 1024u)

FIXTURE(gpud) {
	struct gpud_proc g;
	bool kernel;		/* EIA_TEST_DEVICE: no gpud of our own */
	char url[128];
	eiaDevice_t dev;
};

static void make_url(char *buf, size_t len, uint16_t port, const char *type)
{
	snprintf(buf, len, "tcp://127.0.0.1:%u%s%s", port, type ? "?type=" : "",
		 type ? type : "");
}

/* Every test runs against a gpud serving tenants on its threads, and in workers. */
FIXTURE_VARIANT(gpud) {
	const char *const *args;
};

static const char *const process_args[] = { "--isolation", "process", NULL };

FIXTURE_VARIANT_ADD(gpud, thread) {
	.args = NULL,
};

FIXTURE_VARIANT_ADD(gpud, process) {
	.args = process_args,
};

FIXTURE_SETUP(gpud)
{
	const char *dev = getenv("EIA_TEST_DEVICE");

	self->dev = NULL;
	self->kernel = dev && *dev;
	if (self->kernel) {
		snprintf(self->url, sizeof(self->url), "%s", dev);
	} else {
		ASSERT_EQ(0, gpud_start(&self->g, gpud_conf, variant->args));
		make_url(self->url, sizeof(self->url), self->g.port, "eia2.medium");
	}
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, self->url));
}

FIXTURE_TEARDOWN(gpud)
{
	if (self->dev)
		EXPECT_EQ(EIA_SUCCESS, eiaDeviceClose(self->dev));
	if (self->kernel)
		return;
	gpud_stop(&self->g);
	EXPECT_TRUE(gpud_sanitizer_clean(&self->g));
	gpud_free(&self->g);
}

/* 6.1's harness runs the body even after a SKIP in the setup: skip here. */
#define NEEDS_OWN_GPUD() do { \
	if (self->kernel) \
		SKIP(return, "needs a gpud of its own, not %s", self->url); \
} while (0)

static void fill_pattern(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 12)) & 0xff);
}

static eiaTensor tensor(eiaDeviceptr p, size_t off, int ndim, const int64_t *dims)
{
	eiaTensor t = { .ptr = p, .offset = off, .dtype = EIA_DTYPE_F32, .ndim = ndim };
	int i;

	for (i = 0; i < ndim; i++)
		t.dims[i] = dims[i];
	return t;
}

/* A port nothing listens on: bound, then closed. */
static uint16_t dead_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
	    !getsockname(fd, (struct sockaddr *)&sin, &len))
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

TEST(calls_before_init_fail)
{
	eiaDevice_t dev;
	eiaFailure f;
	int n;

	ASSERT_EQ(EIA_ERROR_NOT_INITIALIZED, eiaDeviceGetCount(&n));
	ASSERT_EQ(EIA_ERROR_NOT_INITIALIZED, eiaDeviceOpen(&dev, "eia0"));
	ASSERT_EQ(EIA_ERROR_NOT_INITIALIZED, eiaGetLastFailure(&f));
	ASSERT_TRUE(has(&f, "eiaInit"));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaInit(1));
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
}

TEST(error_names_and_strings)
{
	static const eiaError_t all[] = {
		EIA_SUCCESS, EIA_ERROR_INVALID_VALUE, EIA_ERROR_OUT_OF_MEMORY,
		EIA_ERROR_NOT_INITIALIZED, EIA_ERROR_NO_DEVICE, EIA_ERROR_QUOTA_EXCEEDED,
		EIA_ERROR_INVALID_HANDLE, EIA_ERROR_OUT_OF_RANGE, EIA_ERROR_NOT_SUPPORTED,
		EIA_ERROR_LINK_DOWN, EIA_ERROR_CONTEXT_LOST, EIA_ERROR_TIMEOUT,
		EIA_ERROR_CANCELLED, EIA_ERROR_PROTOCOL, EIA_ERROR_REMOTE,
		EIA_ERROR_TOO_LARGE, EIA_ERROR_BAD_ADDRESS, EIA_ERROR_CONNECTION_REFUSED,
		EIA_ERROR_CONNECTION_FAILED, EIA_ERROR_CONNECTION_LOST,
		EIA_ERROR_UNKNOWN_HOST, EIA_ERROR_PERMISSION_DENIED, EIA_ERROR_NO_CAPACITY,
		EIA_ERROR_OUT_OF_RESOURCES, EIA_ERROR_NOT_READY, EIA_ERROR_BUSY,
		EIA_ERROR_UNKNOWN,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ASSERT_EQ(0, strncmp(eiaGetErrorName(all[i]), "EIA_", 4));
		ASSERT_NE('\0', eiaGetErrorString(all[i])[0]);
	}
	ASSERT_STREQ("EIA_ERROR_QUOTA_EXCEEDED", eiaGetErrorName(EIA_ERROR_QUOTA_EXCEEDED));
	ASSERT_STREQ("device memory quota exceeded",
		     eiaGetErrorString(EIA_ERROR_QUOTA_EXCEEDED));
	ASSERT_STREQ("invalid device memory handle",
		     eiaGetErrorString(EIA_ERROR_INVALID_HANDLE));
	ASSERT_STREQ("accelerator link is down", eiaGetErrorString(EIA_ERROR_LINK_DOWN));
	ASSERT_STREQ("EIA_ERROR_UNKNOWN", eiaGetErrorName((eiaError_t)12345));
	ASSERT_STREQ("unknown error", eiaGetErrorString((eiaError_t)-1));
}

TEST(device_names)
{
	eiaDevice_t dev;
	char name[16];
	int n = -1;

	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetCount(&n));
	ASSERT_LE(0, n);
	if (n > 0) {
		/* In the VM: the attached devices open by their names. */
		ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetName(name, sizeof(name), 0));
		ASSERT_EQ(0, strncmp(name, "eia", 3));
		ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceGetName(name, 3, 0));
		ASSERT_EQ(0, strncmp(name, "eia", 3));
		ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&dev, name));
		ASSERT_EQ(EIA_SUCCESS, eiaDeviceClose(dev));
	}
	ASSERT_EQ(EIA_ERROR_NO_DEVICE, eiaDeviceGetName(name, sizeof(name), n));
	ASSERT_EQ(EIA_ERROR_NO_DEVICE, eiaDeviceGetName(name, sizeof(name), -1));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceGetName(NULL, 16, 0));
}

TEST(bad_names_and_urls)
{
	static const struct {
		const char *name;
		const char *why;
	} bad[] = {
		{ "eia", "not a device name" },
		{ "eia01", "not a device name" },
		{ "gpu0", "not a device name" },
		{ "tcp://", "the host must have" },
		{ "tcp://:8443", "the host must have" },
		{ "tcp://127.0.0.1:", "the port must be" },
		{ "tcp://127.0.0.1:0", "the port must be" },
		{ "tcp://127.0.0.1:65536", "the port must be" },
		{ "tcp://127.0.0.1:84x3", "the port must be" },
		{ "tcp://127.0.0.1/path", "unexpected '/path'" },
		{ "tcp://[::1", "unterminated '['" },
		{ "tcp://127.0.0.1:8443?", "unknown parameter ''" },
		{ "tcp://127.0.0.1:8443?color=red", "unknown parameter 'color'" },
		{ "tcp://127.0.0.1:8443?type=", "type must be" },
		{ "tcp://127.0.0.1:8443?type=EIA2", "type must be" },
		{ "tcp://127.0.0.1:8443?timeout_ms=5", "timeout_ms must be" },
		{ "tcp://127.0.0.1:8443?type=eia2.medium&", "unknown parameter ''" },
	};
	eiaDevice_t dev = NULL;
	eiaFailure f;
	size_t i;

	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceOpen(&dev, bad[i].name))
			TH_LOG("%s", bad[i].name);
		f = last();
		EXPECT_TRUE(has(&f, bad[i].why));
		EXPECT_STREQ("eiaDeviceOpen", f.function);
		EXPECT_EQ(-1, f.command);
	}
	ASSERT_EQ(NULL, dev);
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceOpen(&dev, ""));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceOpen(&dev, NULL));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceOpen(NULL, "eia0"));
}

TEST(missing_devices)
{
	eiaDevice_t dev = NULL;
	eiaFailure f;

	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	ASSERT_EQ(EIA_ERROR_NO_DEVICE, eiaDeviceOpen(&dev, "eia9999"));
	f = last();
	ASSERT_TRUE(has(&f, "/dev/eia9999 does not exist"));
	/* A file that is no eia device. */
	ASSERT_EQ(EIA_ERROR_NO_DEVICE, eiaDeviceOpen(&dev, "/dev/null"));
	f = last();
	ASSERT_TRUE(has(&f, "not an attached eia device"));
	ASSERT_EQ(NULL, dev);
}

TEST(connection_refused)
{
	char url[64];
	eiaDevice_t dev = NULL;
	uint16_t port = dead_port();
	eiaFailure f;

	ASSERT_NE(0, port);
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	make_url(url, sizeof(url), port, NULL);
	ASSERT_EQ(EIA_ERROR_CONNECTION_REFUSED, eiaDeviceOpen(&dev, url));
	f = last();
	ASSERT_EQ(ECONNREFUSED, f.sysErrno);
	ASSERT_TRUE(has(&f, "cannot connect to 127.0.0.1 port"));
	ASSERT_TRUE(has(&f, "EIA_ERROR_CONNECTION_REFUSED"));
	ASSERT_EQ(NULL, dev);
}

TEST_F(gpud, properties)
{
	eiaDeviceProp p;

	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_STREQ(self->url, p.name);
	ASSERT_STREQ("eia2.medium", p.type);
	ASSERT_EQ(0, strncmp(p.accelId, "eia-", 4));
	ASSERT_EQ(36, strlen(p.accelId));
	ASSERT_EQ(self->kernel ? EIA_TRANSPORT_KERNEL : EIA_TRANSPORT_TCP, p.transport);
	ASSERT_EQ(1, p.healthy);
	ASSERT_EQ(2ull << 30, p.memoryTotal);
	ASSERT_EQ(0, p.memoryUsed);
	ASSERT_EQ(1.0, p.fp32Tflops);
	ASSERT_EQ(8.0, p.fp16Tflops);
	ASSERT_LE(4096, p.maxRequestBytes);
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceGetProperties(NULL, self->dev));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaDeviceGetProperties(&p, NULL));
}

TEST_F(gpud, default_and_unknown_types)
{
	eiaDevice_t dev = NULL;
	eiaDeviceProp p;
	char url[128];
	eiaFailure f;

	NEEDS_OWN_GPUD();
	make_url(url, sizeof(url), self->g.port, NULL);
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&dev, url));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, dev));
	ASSERT_STREQ("eia2.medium", p.type);
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceClose(dev));

	make_url(url, sizeof(url), self->g.port, "tiny");
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&dev, url));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, dev));
	ASSERT_EQ(0.5, p.fp32Tflops);
	ASSERT_EQ((unsigned long long)TINY_MIB * MIB, p.memoryTotal);
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceClose(dev));

	dev = NULL;
	make_url(url, sizeof(url), self->g.port, "eia9.huge");
	ASSERT_EQ(EIA_ERROR_NO_DEVICE, eiaDeviceOpen(&dev, url));
	f = last();
	ASSERT_TRUE(has(&f, "gpud refused HELLO"));
	ASSERT_TRUE(has(&f, "eia9.huge"));
	ASSERT_EQ(NULL, dev);
}

TEST_F(gpud, alloc_and_free)
{
	eiaDeviceptr a = 0, b = 0;
	eiaDeviceProp p;
	eiaFailure f;

	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &a, MIB));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &b, 3));
	ASSERT_NE(0, a);
	ASSERT_NE(a, b);
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_LE(MIB + 3, p.memoryUsed);
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, a));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, b));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_EQ(0, p.memoryUsed);

	ASSERT_EQ(EIA_ERROR_INVALID_HANDLE, eiaMemFree(self->dev, a));
	f = last();
	ASSERT_EQ(ENOENT, f.sysErrno);
	ASSERT_EQ(0, f.command);
	ASSERT_EQ(2, f.commandType);	/* EIA_CB_MEM_FREE */
	ASSERT_STREQ("eiaMemFree", f.function);
	ASSERT_TRUE(has(&f, "MEM_FREE"));
	ASSERT_TRUE(has(&f, "invalid device memory handle"));
	ASSERT_EQ(EIA_ERROR_INVALID_HANDLE, eiaMemFree(self->dev, 0x123456789ull));

	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaMemAlloc(self->dev, &a, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaMemAlloc(self->dev, NULL, 8));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaMemAlloc(NULL, &a, 8));
}

/* H2D then D2H of @n bytes at @off into an allocation of @size. */
static int round_trip(eiaDevice_t dev, size_t size, size_t off, size_t n)
{
	unsigned char *in = malloc(n + 1), *out = malloc(n + 1);
	eiaDeviceptr p;
	int ret = -1;

	if (!in || !out || eiaMemAlloc(dev, &p, size))
		goto out;
	/* Unaligned host addresses too. */
	fill_pattern(in + 1, n, (unsigned int)n);
	memset(out, 0xee, n + 1);
	if (!eiaMemcpyHtoD(dev, p, off, in + 1, n) && !eiaMemcpyDtoH(dev, out + 1, p, off, n))
		ret = memcmp(in + 1, out + 1, n) || out[0] != 0xee;
	eiaMemFree(dev, p);
out:
	free(in);
	free(out);
	return ret;
}

TEST_F(gpud, copies_small_and_unaligned)
{
	ASSERT_EQ(0, round_trip(self->dev, 1, 0, 1));
	ASSERT_EQ(0, round_trip(self->dev, 64, 3, 13));
	ASSERT_EQ(0, round_trip(self->dev, 4096, 4095, 1));
	ASSERT_EQ(0, round_trip(self->dev, 100000, 7, 99993));
	/* 0 bytes: nothing happens, nothing fails. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoD(self->dev, 0x1, 0, NULL, 0));
}

TEST_F(gpud, copies_that_split)
{
	eiaDeviceProp p;

	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	/* Over two command buffers' worth each way, not a multiple of a page. */
	ASSERT_EQ(0, round_trip(self->dev, 2 * (size_t)p.maxRequestBytes + 12345, 5,
				2 * (size_t)p.maxRequestBytes + 12340));
}

TEST_F(gpud, copy_out_of_range_stops)
{
	size_t n = 40 * MIB;
	unsigned char *buf = calloc(1, n);
	eiaDeviceptr p;
	eiaFailure f;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &p, 1 * MIB));
	ASSERT_EQ(EIA_ERROR_OUT_OF_RANGE, eiaMemcpyHtoD(self->dev, p, 0, buf, n));
	f = last();
	ASSERT_EQ(ERANGE, f.sysErrno);
	ASSERT_STREQ("eiaMemcpyHtoD", f.function);
	ASSERT_EQ(3, f.commandType);	/* EIA_CB_COPY_H2D */
	ASSERT_TRUE(has(&f, "COPY_H2D"));
	ASSERT_TRUE(has(&f, "device memory range outside its allocation"));
	ASSERT_EQ(EIA_ERROR_OUT_OF_RANGE, eiaMemcpyDtoH(self->dev, buf, p, 1, MIB));
	ASSERT_EQ(EIA_ERROR_OUT_OF_RANGE, eiaMemsetD8(self->dev, p, MIB, 0, 1));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaMemcpyHtoD(self->dev, p, SIZE_MAX, buf, 2));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaMemcpyHtoD(self->dev, p, 0, NULL, 2));
	/* The allocation is still there and usable. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoD(self->dev, p, 0, buf, MIB));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, p));
	free(buf);
}

/*
 * A synchronous copy lands whole or not at all: one that does not fit its
 * destination leaves it as it was (gpud may receive copy data straight into
 * device memory; not then).
 */
TEST_F(gpud, copies_land_whole_or_not_at_all)
{
	size_t n = 8 * MIB;
	unsigned char *a = malloc(n + 8), *b = malloc(n + 8);
	eiaDeviceptr p;
	eiaFailure f;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	/* 8 MiB at an aligned offset, and an odd size at an odd one. */
	ASSERT_EQ(0, round_trip(self->dev, n + 64, 64, n));
	ASSERT_EQ(0, round_trip(self->dev, n, 3, n - 5));

	fill_pattern(a, n + 8, 11);
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &p, n));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoD(self->dev, p, 0, a, n));
	memset(b, 0x77, n + 8);
	ASSERT_EQ(EIA_ERROR_OUT_OF_RANGE, eiaMemcpyHtoD(self->dev, p, 0, b, n + 8));
	f = last();
	ASSERT_EQ(ERANGE, f.sysErrno);
	ASSERT_EQ(0, f.command);
	ASSERT_EQ(3, f.commandType);	/* EIA_CB_COPY_H2D */
	ASSERT_STREQ("eiaMemcpyHtoD", f.function);
	ASSERT_EQ(EIA_ERROR_OUT_OF_RANGE, eiaMemcpyHtoD(self->dev, p, 8, b, n));
	ASSERT_EQ(EIA_ERROR_OUT_OF_RANGE, eiaMemcpyHtoD(self->dev, p, 7, b, n - 5));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoH(self->dev, b, p, 0, n));
	ASSERT_EQ(0, memcmp(a, b, n));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, p));
	free(a);
	free(b);
}

TEST_F(gpud, memset_and_dtod)
{
	unsigned char in[1000], out[1000], want[1000];
	eiaDeviceptr a, b;

	fill_pattern(in, sizeof(in), 1);
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &a, sizeof(in)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &b, sizeof(in)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoD(self->dev, a, 0, in, sizeof(in)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8(self->dev, b, 0, 0x5a, sizeof(in)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoD(self->dev, b, 100, a, 17, 500));
	ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8(self->dev, b, 990, 0, 10));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoH(self->dev, out, b, 0, sizeof(out)));
	memset(want, 0x5a, sizeof(want));
	memcpy(want + 100, in + 17, 500);
	memset(want + 990, 0, 10);
	ASSERT_EQ(0, memcmp(want, out, sizeof(out)));
	/* Overlapping ranges of one allocation copy as memmove. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoD(self->dev, a, 10, a, 0, 100));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoH(self->dev, out, a, 0, 110));
	ASSERT_EQ(0, memcmp(out + 10, in, 100));
	ASSERT_EQ(EIA_ERROR_INVALID_HANDLE, eiaMemcpyDtoD(self->dev, b, 0, 0x42, 0, 1));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, a));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, b));
}

TEST_F(gpud, over_quota_is_refused)
{
	eiaDeviceptr m = 0;
	eiaDeviceProp p;
	eiaFailure f;

	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_EQ(EIA_ERROR_QUOTA_EXCEEDED, eiaMemAlloc(self->dev, &m, p.memoryTotal + 1));
	f = last();
	ASSERT_EQ(EDQUOT, f.sysErrno);
	ASSERT_TRUE(has(&f, "eiaMemAlloc: MEM_ALLOC, command 0 of 1"));
	ASSERT_TRUE(has(&f, "device memory quota exceeded"));
	ASSERT_EQ(0, m);
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m, 1));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, m));
}

TEST_F(gpud, quota_exceeded_disturbs_nothing)
{
	unsigned char in[256], out[256];
	eiaDevice_t tiny, other;
	eiaDeviceptr a, b, c;
	eiaDeviceProp p;
	char url[128];
	eiaFailure f;

	NEEDS_OWN_GPUD();
	make_url(url, sizeof(url), self->g.port, "tiny");
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&tiny, url));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(tiny, &a, 3 * MIB));
	fill_pattern(in, sizeof(in), 9);
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoD(tiny, a, 1000, in, sizeof(in)));

	ASSERT_EQ(EIA_ERROR_QUOTA_EXCEEDED, eiaMemAlloc(tiny, &b, 2 * MIB));
	f = last();
	ASSERT_EQ(EDQUOT, f.sysErrno);
	ASSERT_STREQ("eiaMemAlloc", f.function);
	ASSERT_EQ(1, f.commandType);	/* EIA_CB_MEM_ALLOC */
	ASSERT_TRUE(has(&f, "device memory quota exceeded"));
	ASSERT_STREQ("device memory quota exceeded", eiaGetErrorString(f.error));
	ASSERT_EQ(EIA_ERROR_QUOTA_EXCEEDED, eiaMemAlloc(tiny, &b, 1ull << 40));

	/* What was there is intact, and the rest of the quota can be used. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoH(tiny, out, a, 1000, sizeof(out)));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(tiny, &b, MIB));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, tiny));
	ASSERT_EQ(4ull * MIB, p.memoryUsed);
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(tiny, b));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(tiny, a));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(tiny, &c, 4 * MIB));
	/* A handle of another context is refused. */
	make_url(url, sizeof(url), self->g.port, "tiny");
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&other, url));
	ASSERT_EQ(EIA_ERROR_INVALID_HANDLE, eiaMemFree(other, c));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceClose(other));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceClose(tiny));
}

/* Y = alpha * A * B^T + beta * C, A MxK, B NxK, C MxN. */
static void gemm_ref(const float *a, const float *b, const float *c, float *y, int m,
		     int n, int k, float alpha, float beta)
{
	int i, j, l;

	for (i = 0; i < m; i++) {
		for (j = 0; j < n; j++) {
			double s = 0;

			for (l = 0; l < k; l++)
				s += (double)a[i * k + l] * b[j * k + l];
			y[i * n + j] = (float)(alpha * s + beta * c[i * n + j]);
		}
	}
}

TEST_F(gpud, gemm_matches_reference)
{
	enum { M = 7, N = 5, K = 11 };
	float a[M * K], b[N * K], c[M * N], y[M * N], want[M * N];
	struct eia_gemm_attr attr = { .alpha = 2.0f, .beta = 0.5f, .trans_b = 1 };
	const int64_t da[] = { M, K }, db[] = { N, K }, dc[] = { M, N };
	eiaTensor in[3], out[1];
	eiaDeviceptr mem;
	eiaStream_t s;
	int i;

	for (i = 0; i < M * K; i++)
		a[i] = (float)((i * 7) % 13) / 4.0f - 1.5f;
	for (i = 0; i < N * K; i++)
		b[i] = (float)((i * 5) % 11) / 3.0f - 1.0f;
	for (i = 0; i < M * N; i++)
		c[i] = (float)i / 10.0f;
	gemm_ref(a, b, c, want, M, N, K, attr.alpha, attr.beta);

	/* One allocation, the four tensors at offsets in it. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &mem, 4096));
	in[0] = tensor(mem, 0, 2, da);
	in[1] = tensor(mem, 1024, 2, db);
	in[2] = tensor(mem, 2048, 2, dc);
	out[0] = tensor(mem, 3072, 2, dc);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, EIA_STREAM_DEFAULT));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, mem, 0, a, sizeof(a)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, mem, 1024, b, sizeof(b)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, mem, 2048, c, sizeof(c)));
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchOp(s, EIA_OP_GEMM, in, 3, out, 1, &attr, sizeof(attr)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, y, mem, 3072, sizeof(y)));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	for (i = 0; i < M * N; i++)
		if (fabsf(y[i] - want[i]) > 1e-4f * (1.0f + fabsf(want[i])))
			break;
	ASSERT_EQ(M * N, i) TH_LOG("y[%d] = %g, want %g", i, y[i], want[i]);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, mem));
}

TEST_F(gpud, add_broadcasts_and_relu)
{
	float x[2 * 3] = { -1, 2, -3, 4, -5, 6 }, bias[3] = { 0.5f, 1, 10 }, y[6];
	const int64_t dx[] = { 2, 3 }, db[] = { 3 };
	eiaTensor in[2], out[1];
	eiaDeviceptr mx, mb, my;
	eiaStream_t s;
	int i;

	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &mx, sizeof(x)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &mb, sizeof(bias)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &my, sizeof(y)));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, EIA_STREAM_SYNC));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, mx, 0, x, sizeof(x)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, mb, 0, bias, sizeof(bias)));
	in[0] = tensor(mx, 0, 2, dx);
	in[1] = tensor(mb, 0, 1, db);
	out[0] = tensor(my, 0, 2, dx);
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchOp(s, EIA_OP_ADD, in, 2, out, 1, NULL, 0));
	/* Relu in place, on the output. */
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchOp(s, EIA_OP_RELU, out, 1, out, 1, NULL, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, y, my, 0, sizeof(y)));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	for (i = 0; i < 6; i++) {
		float want = x[i] + bias[i % 3];

		ASSERT_EQ(want > 0 ? want : 0, y[i]);
	}
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
}

TEST_F(gpud, stream_order_and_events)
{
	enum { N = 300 };
	unsigned char in[N], out[N], mid[N];
	eiaEvent_t e1, e2, never;
	eiaDeviceptr a, b;
	eiaStream_t s;
	int i;

	fill_pattern(in, N, 3);
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &a, N));
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &b, N));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaEventCreate(&e1, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaEventCreate(&e2, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaEventCreate(&never, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaEventCreate(&never, 1));
	/* Complete until recorded. */
	ASSERT_EQ(EIA_SUCCESS, eiaEventQuery(never));
	ASSERT_EQ(EIA_SUCCESS, eiaEventSynchronize(never));

	/* Each step depends on the one before: they must run in order. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, a, 0, in, N));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoDAsync(s, b, 0, a, 0, N));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, mid, b, 0, N));
	ASSERT_EQ(EIA_SUCCESS, eiaEventRecord(e1, s));
	ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8Async(s, a, 0, 0x11, N / 2));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoDAsync(s, b, 0, a, 0, N));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, out, b, 0, N));
	ASSERT_EQ(EIA_SUCCESS, eiaEventRecord(e2, s));
	ASSERT_EQ(EIA_SUCCESS, eiaEventSynchronize(e1));
	ASSERT_EQ(0, memcmp(in, mid, N));
	ASSERT_EQ(EIA_SUCCESS, eiaEventSynchronize(e2));
	ASSERT_EQ(EIA_SUCCESS, eiaEventQuery(e2));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamQuery(s));
	for (i = 0; i < N; i++)
		ASSERT_EQ(i < N / 2 ? 0x11 : in[i], out[i]);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamWaitEvent(s, e2, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaStreamWaitEvent(s, e2, 1));

	/* An event outlives its stream, and is then complete. */
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
	ASSERT_EQ(EIA_SUCCESS, eiaEventQuery(e2));
	ASSERT_EQ(EIA_SUCCESS, eiaEventDestroy(e1));
	ASSERT_EQ(EIA_SUCCESS, eiaEventDestroy(e2));
	ASSERT_EQ(EIA_SUCCESS, eiaEventDestroy(never));
	ASSERT_EQ(EIA_SUCCESS, eiaEventDestroy(NULL));
}

/* A stream synchronised on a thread of its own; @order: when it returned. */
struct syncer {
	eiaStream_t s;
	eiaError_t err;
	atomic_int *clock;
	int order;
	long long ms;		/* when it returned */
};

static void *syncer_main(void *arg)
{
	struct syncer *y = arg;

	y->err = eiaStreamSynchronize(y->s);
	y->ms = now_ms();
	if (y->clock)
		y->order = atomic_fetch_add(y->clock, 1);
	return NULL;
}

/* Queue @reps MatMuls of ones (N x N, in @m) on @s, then C's first floats into @y. */
#define SIDE_N	192
/* MatMuls that fit one command buffer (EIA_CB_MAX_BYTES), with room to spare. */
#define SIDE_REPS_MAX	3000
static void queue_matmuls(eiaStream_t s, eiaDeviceptr m, int reps, float *y, size_t ny)
{
	const size_t mat = (size_t)SIDE_N * SIDE_N * sizeof(float);
	const int64_t dims[] = { SIDE_N, SIDE_N };
	eiaTensor in[2], out[1];
	int k;

	in[0] = tensor(m, 0, 2, dims);
	in[1] = tensor(m, mat, 2, dims);
	out[0] = tensor(m, 2 * mat, 2, dims);
	for (k = 0; k < reps; k++)
		eiaLaunchOp(s, EIA_OP_MATMUL, in, 2, out, 1, NULL, 0);
	eiaMemcpyDtoHAsync(s, y, m, 2 * mat, ny * sizeof(float));
}

/*
 * Streams of one device run side by side on gpud (each on a queue of the
 * context), on eia.ko and on tcp:// alike (where the buffers of threads
 * are in flight at once on the connection): a short stream, started while
 * a long one runs, finishes first. Were they run one after the other, the
 * short one, a thirty-second of the long one's work, would finish after.
 */
TEST_F(gpud, streams_run_side_by_side)
{
	const size_t mat = (size_t)SIDE_N * SIDE_N * sizeof(float);
	struct syncer slow = { 0 }, quick = { 0 };
	atomic_int clock = 0;
	eiaDeviceptr m[2];
	float *ones, out[2][16];
	long long ms = 0, ms0, quick_ms;
	pthread_t thread;
	int reps = 4, i, k;

	ones = malloc(mat);
	ASSERT_NE(NULL, ones);
	for (k = 0; k < SIDE_N * SIDE_N; k++)
		ones[k] = 1.0f;
	slow.clock = &clock;
	quick.clock = &clock;
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&slow.s, self->dev, EIA_STREAM_DEFAULT));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&quick.s, self->dev, EIA_STREAM_DEFAULT));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m[i], 3 * mat));
		ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoD(self->dev, m[i], 0, ones, mat));
		ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoD(self->dev, m[i], mat, ones, mat));
	}
	/* As many MatMuls as take about 800 ms here, in one command buffer. */
	while (ms < 800 && reps < SIDE_REPS_MAX) {
		reps = ms < 1 ? reps * 8 : (int)(reps * 1000LL / ms) + 1;
		reps = reps < SIDE_REPS_MAX ? reps : SIDE_REPS_MAX;
		ms = now_ms();
		queue_matmuls(slow.s, m[0], reps, out[0], 16);
		ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(slow.s));
		ms = now_ms() - ms;
	}
	TH_LOG("%d MatMuls of %d x %d take %lld ms", reps, SIDE_N, SIDE_N, ms);

	queue_matmuls(slow.s, m[0], reps, out[0], 16);
	ms0 = now_ms();
	ASSERT_EQ(0, pthread_create(&thread, NULL, syncer_main, &slow));
	usleep((useconds_t)(ms * 1000 / 4));	/* the long buffer is on its way */
	queue_matmuls(quick.s, m[1], reps / 32, out[1], 16);
	quick_ms = now_ms();
	syncer_main(&quick);
	pthread_join(thread, NULL);
	TH_LOG("quick: sent at %lld ms, done at %lld ms; slow done at %lld ms",
	       quick_ms - ms0, quick.ms - ms0, slow.ms - ms0);
	ASSERT_EQ(EIA_SUCCESS, quick.err);
	ASSERT_EQ(EIA_SUCCESS, slow.err);
	EXPECT_LT(quick.order, slow.order);
	for (i = 0; i < 2; i++)
		for (k = 0; k < 16; k++)
			ASSERT_EQ((float)SIDE_N, out[i][k]);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(quick.s));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(slow.s));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, m[i]));
	free(ones);
}

TEST_F(gpud, failed_command_is_named)
{
	float x[4] = { 1, 2, 3, 4 }, y[4];
	const int64_t d4[] = { 4 }, d3[] = { 3 };
	eiaTensor in[2], out[1];
	eiaDeviceptr m;
	eiaStream_t s;
	eiaFailure f;

	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m, 64));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	in[0] = tensor(m, 0, 1, d4);
	in[1] = tensor(m, 16, 1, d3);	/* 4 and 3 do not broadcast */
	out[0] = tensor(m, 32, 1, d4);
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, m, 0, x, sizeof(x)));
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchOp(s, EIA_OP_ADD, in, 2, out, 1, NULL, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, y, m, 32, sizeof(y)));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaStreamSynchronize(s));
	f = last();
	ASSERT_EQ(EINVAL, f.sysErrno);
	ASSERT_EQ(1, f.command);
	ASSERT_EQ(7, f.commandType);	/* EIA_CB_LAUNCH_OP */
	ASSERT_EQ(EIA_OP_ADD, f.op);
	ASSERT_EQ(2, f.call);
	ASSERT_STREQ("eiaLaunchOp", f.function);
	ASSERT_TRUE(has(&f, "eiaLaunchOp (call 2 on its stream): LAUNCH_OP Add"));
	ASSERT_TRUE(has(&f, "command 1 of 3"));
	/* Reported once; the stream works again afterwards. */
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, y, m, 0, sizeof(y)));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	ASSERT_EQ(0, memcmp(x, y, sizeof(x)));

	/* A freed handle, an unknown operator: named the same way. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, m));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, y, m, 0, sizeof(y)));
	ASSERT_EQ(EIA_ERROR_INVALID_HANDLE, eiaStreamSynchronize(s));
	f = last();
	ASSERT_EQ(0, f.command);
	ASSERT_EQ(4, f.commandType);	/* EIA_CB_COPY_D2H */
	ASSERT_TRUE(has(&f, "eiaMemcpyDtoHAsync (call 5 on its stream): COPY_D2H"));
	ASSERT_TRUE(has(&f, "invalid device memory handle"));
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchOp(s, 999, in, 1, out, 1, NULL, 0));
	ASSERT_EQ(EIA_ERROR_NOT_SUPPORTED, eiaStreamSynchronize(s));
	f = last();
	ASSERT_EQ(999, f.op);
	ASSERT_TRUE(has(&f, "unknown operator 999"));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
}

TEST_F(gpud, bad_launch_arguments)
{
	eiaTensor t[EIA_OP_MAX_IO + 1];
	char attr[EIA_ATTR_MAX_BYTES + 1];
	eiaStream_t s;

	memset(t, 0, sizeof(t));
	memset(attr, 0, sizeof(attr));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE,
		  eiaLaunchOp(s, EIA_OP_CONCAT, t, EIA_OP_MAX_IO + 1, t, 1, NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchOp(s, EIA_OP_RELU, NULL, 1, t, 1, NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchOp(s, EIA_OP_RELU, t, -1, t, 1, NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE,
		  eiaLaunchOp(s, EIA_OP_RELU, t, 1, t, 1, attr, sizeof(attr)));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchOp(s, EIA_OP_RELU, t, 1, t, 1, NULL, 8));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchOp(s, 0, t, 1, t, 1, NULL, 0));
	t[0].ndim = EIA_MAX_DIMS + 1;
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchOp(s, EIA_OP_RELU, t, 1, t + 1, 1, NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchOp(NULL, EIA_OP_RELU, t + 1, 1, t + 1, 1,
						       NULL, 0));
	/* Nothing was queued. */
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaStreamCreate(&s, self->dev, 2));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
}

/* A real module (PTX of a vector add); only the CUDA backend could run it. */
static const char vadd_ptx[] =
	".version 7.0\n.target sm_80\n.address_size 64\n"
	".visible .entry vadd(.param .u64 a, .param .u64 b, .param .u32 n)\n"
	"{\n\tret;\n}\n";

TEST_F(gpud, raw_modules_need_the_cuda_backend)
{
	const unsigned int one[3] = { 1, 1, 1 };
	unsigned char params[16] = { 0 };
	eiaKernelPtr ptr = { .paramOffset = 0 };
	eiaFunction_t fn = 0;
	eiaModule_t mod = 0;
	eiaDeviceptr m;
	eiaStream_t s;
	eiaFailure f;
	float x = 3.5f, y = 0;

	/* This gpud runs the CPU backend: every raw-module command says why it fails. */
	ASSERT_EQ(EIA_ERROR_NOT_SUPPORTED,
		  eiaModuleLoadData(self->dev, &mod, vadd_ptx, sizeof(vadd_ptx) - 1));
	f = last();
	ASSERT_EQ(0, mod);
	ASSERT_EQ(EOPNOTSUPP, f.sysErrno);
	ASSERT_EQ(EIA_CB_MODULE_LOAD, f.commandType);
	ASSERT_STREQ("eiaModuleLoadData", f.function);
	ASSERT_TRUE(has(&f, "MODULE_LOAD"));
	ASSERT_TRUE(has(&f, "raw CUDA modules run only on gpud's CUDA backend"));
	ASSERT_EQ(EIA_ERROR_NOT_SUPPORTED, eiaModuleGetFunction(self->dev, &fn, 1, "vadd"));
	ASSERT_EQ(0, fn);
	ASSERT_EQ(EIA_CB_MODULE_GET_FUNCTION, last().commandType);
	ASSERT_EQ(EIA_ERROR_NOT_SUPPORTED, eiaModuleUnload(self->dev, 1));
	ASSERT_EQ(EIA_CB_MODULE_UNLOAD, last().commandType);

	/* A launch fails its stream, not the device: later work runs. */
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m, 64));
	ptr.ptr = m;
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchKernel(s, 1, one, one, 0, params, sizeof(params),
					       &ptr, 1));
	ASSERT_EQ(EIA_ERROR_NOT_SUPPORTED, eiaStreamSynchronize(s));
	f = last();
	ASSERT_EQ(EIA_CB_LAUNCH_KERNEL, f.commandType);
	ASSERT_STREQ("eiaLaunchKernel", f.function);
	ASSERT_TRUE(has(&f, "LAUNCH_KERNEL"));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyHtoDAsync(s, m, 0, &x, sizeof(x)));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, &y, m, 0, sizeof(y)));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	ASSERT_EQ(x, y);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, m));
}

TEST_F(gpud, bad_raw_module_arguments)
{
	const unsigned int one[3] = { 1, 1, 1 }, zero_y[3] = { 1, 0, 1 };
	char name[EIA_KERNEL_NAME_MAX + 2];
	unsigned char params[EIA_KERNEL_PARAMS_MAX + 8] = { 0 };
	eiaKernelPtr ptrs[EIA_KERNEL_PTRS_MAX + 1];
	eiaDeviceProp prop;
	eiaFunction_t fn;
	eiaModule_t mod;
	eiaStream_t s;
	void *big;

	memset(ptrs, 0, sizeof(ptrs));
	memset(name, 'k', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaModuleLoadData(self->dev, NULL, vadd_ptx, 8));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaModuleLoadData(self->dev, &mod, NULL, 8));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaModuleLoadData(self->dev, &mod, vadd_ptx, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaModuleLoadData(NULL, &mod, vadd_ptx, 8));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaModuleGetFunction(self->dev, &fn, 1, ""));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaModuleGetFunction(self->dev, &fn, 1, name));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaModuleGetFunction(self->dev, NULL, 1, "f"));

	/* An image larger than any request the device takes. */
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&prop, self->dev));
	big = calloc(1, prop.maxRequestBytes);
	ASSERT_NE(NULL, big);
	ASSERT_EQ(EIA_ERROR_TOO_LARGE,
		  eiaModuleLoadData(self->dev, &mod, big, prop.maxRequestBytes));
	free(big);

	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE,
		  eiaLaunchKernel(s, 1, zero_y, one, 0, NULL, 0, NULL, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchKernel(s, 1, one, one, 0, NULL, 0, NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchKernel(s, 1, NULL, one, 0, NULL, 0, NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE,
		  eiaLaunchKernel(s, 1, one, one, 0, params, sizeof(params), NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchKernel(s, 1, one, one, 0, NULL, 8, NULL, 0));
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE,
		  eiaLaunchKernel(s, 1, one, one, 0, params, 64, ptrs, EIA_KERNEL_PTRS_MAX + 1));
	ptrs[0].paramOffset = 4;	/* not 8-aligned */
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchKernel(s, 1, one, one, 0, params, 64, ptrs, 1));
	ptrs[0].paramOffset = 64;	/* past the parameters */
	ASSERT_EQ(EIA_ERROR_INVALID_VALUE, eiaLaunchKernel(s, 1, one, one, 0, params, 64, ptrs, 1));
	ASSERT_EQ(EIA_SUCCESS, eiaLaunchKernel(s, 1, one, one, 0, params, 60, ptrs, 0));
	/* Only the two well-formed launches were queued; the CPU backend refuses them. */
	ASSERT_EQ(EIA_ERROR_NOT_SUPPORTED, eiaStreamSynchronize(s));
	ASSERT_EQ(0, last().command);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
}

TEST_F(gpud, many_commands_fill_several_buffers)
{
	enum { N = 10000 };
	unsigned char *out = malloc(N);
	eiaDeviceptr m;
	eiaStream_t s;
	int i;

	ASSERT_NE(NULL, out);
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m, N));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	/* More commands than one buffer holds (EIA_CB_MAX_CMDS). */
	for (i = 0; i < N; i++)
		ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8Async(s, m, (size_t)i, (unsigned char)(i * 3), 1));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoHAsync(s, out, m, 0, N));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamSynchronize(s));
	for (i = 0; i < N; i++)
		ASSERT_EQ((unsigned char)(i * 3), out[i]);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
	free(out);
}

TEST_F(gpud, many_buffers_in_flight)
{
	enum { N = 400 };
	eiaEvent_t ev[N];
	unsigned char out[N];
	eiaDeviceptr m;
	eiaStream_t s;
	int i;

	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m, N));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	/* Each record flushes a buffer: more than a ring holds in flight. */
	for (i = 0; i < N; i++) {
		ASSERT_EQ(EIA_SUCCESS, eiaEventCreate(&ev[i], 0));
		ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8Async(s, m, (size_t)i, (unsigned char)i, 1));
		ASSERT_EQ(EIA_SUCCESS, eiaEventRecord(ev[i], s));
	}
	ASSERT_EQ(EIA_SUCCESS, eiaEventSynchronize(ev[N - 1]));
	/* Completion is in order: every earlier event is complete too. */
	for (i = 0; i < N; i++)
		ASSERT_EQ(EIA_SUCCESS, eiaEventQuery(ev[i]));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoH(self->dev, out, m, 0, N));
	for (i = 0; i < N; i++) {
		ASSERT_EQ((unsigned char)i, out[i]);
		eiaEventDestroy(ev[i]);
	}
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, m));
}

/*
 * A caller that polls and never waits sees its buffers complete. On eia0
 * a completion is task work in the polling thread, which runs it when
 * interrupted in user space, or reads the socket itself from the kernel.
 */
TEST_F(gpud, polling_sees_completion)
{
	enum { N = 64 };
	unsigned char out[N];
	long long give_up;
	eiaDeviceptr m;
	eiaStream_t s;
	eiaEvent_t ev;
	eiaError_t r;
	int i;

	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m, N));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	ASSERT_EQ(EIA_SUCCESS, eiaEventCreate(&ev, 0));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(EIA_SUCCESS, eiaMemsetD8Async(s, m, (size_t)i, (unsigned char)i, 1));
		ASSERT_EQ(EIA_SUCCESS, eiaStreamFlush(s));
	}
	ASSERT_EQ(EIA_SUCCESS, eiaEventRecord(ev, s));
	give_up = now_ms() + 60000;
	do
		r = eiaEventQuery(ev);
	while (r == EIA_ERROR_NOT_READY && now_ms() < give_up);
	ASSERT_EQ(EIA_SUCCESS, r);
	ASSERT_EQ(EIA_SUCCESS, eiaStreamQuery(s));
	ASSERT_EQ(EIA_SUCCESS, eiaMemcpyDtoH(self->dev, out, m, 0, N));
	for (i = 0; i < N; i++)
		ASSERT_EQ((unsigned char)i, out[i]);
	ASSERT_EQ(EIA_SUCCESS, eiaEventDestroy(ev));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
	ASSERT_EQ(EIA_SUCCESS, eiaMemFree(self->dev, m));
}

struct worker {
	eiaDevice_t dev;
	unsigned int seed;
	int errors;
};

/* Its own stream and memory: Add of two vectors, many times over. */
static void *worker_main(void *arg)
{
	enum { N = 1000, ROUNDS = 30 };
	struct worker *w = arg;
	float *a = malloc(N * sizeof(float)), *b = malloc(N * sizeof(float));
	float *y = malloc(N * sizeof(float));
	const int64_t d[] = { N };
	eiaTensor in[2], out[1];
	eiaDeviceptr m;
	eiaStream_t s;
	int r, i;

	if (!a || !b || !y || eiaMemAlloc(w->dev, &m, 3 * N * sizeof(float)) ||
	    eiaStreamCreate(&s, w->dev, 0)) {
		w->errors++;
		goto out;
	}
	in[0] = tensor(m, 0, 1, d);
	in[1] = tensor(m, N * sizeof(float), 1, d);
	out[0] = tensor(m, 2 * N * sizeof(float), 1, d);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < N; i++) {
			a[i] = (float)(w->seed * 1000 + r);
			b[i] = (float)i;
		}
		if (eiaMemcpyHtoDAsync(s, m, 0, a, N * sizeof(float)) ||
		    eiaMemcpyHtoDAsync(s, m, N * sizeof(float), b, N * sizeof(float)) ||
		    eiaLaunchOp(s, EIA_OP_ADD, in, 2, out, 1, NULL, 0) ||
		    eiaMemcpyDtoHAsync(s, y, m, 2 * N * sizeof(float), N * sizeof(float)) ||
		    eiaStreamSynchronize(s)) {
			w->errors++;
			break;
		}
		for (i = 0; i < N; i++)
			if (y[i] != a[i] + b[i])
				w->errors++;
	}
	if (eiaStreamDestroy(s) || eiaMemFree(w->dev, m))
		w->errors++;
out:
	free(a);
	free(b);
	free(y);
	return NULL;
}

TEST_F(gpud, threads_with_own_streams)
{
	struct worker w[4];
	pthread_t t[4];
	eiaDeviceProp p;
	int i;

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .dev = self->dev, .seed = (unsigned int)i + 1 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_main, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, w[i].errors) TH_LOG("worker %d", i);
	}
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_EQ(0, p.memoryUsed);
}

TEST_F(gpud, close_with_streams_is_refused)
{
	eiaStream_t s;
	eiaFailure f;

	ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&s, self->dev, 0));
	ASSERT_EQ(EIA_ERROR_BUSY, eiaDeviceClose(self->dev));
	f = last();
	ASSERT_TRUE(has(&f, "still has 1 stream(s)"));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(s));
	ASSERT_EQ(EIA_SUCCESS, eiaStreamDestroy(NULL));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceClose(self->dev));
	self->dev = NULL;
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceClose(NULL));
}

TEST_F(gpud, gpud_gone_is_connection_lost)
{
	eiaDeviceptr m;
	eiaDeviceProp p;
	eiaFailure f;

	NEEDS_OWN_GPUD();
	ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m, 64));
	gpud_stop(&self->g);
	ASSERT_EQ(EIA_ERROR_CONNECTION_LOST, eiaMemFree(self->dev, m));
	f = last();
	ASSERT_TRUE(has(&f, "connection to gpud"));
	/* And stays so, without touching the socket again. */
	ASSERT_EQ(EIA_ERROR_CONNECTION_LOST, eiaMemAlloc(self->dev, &m, 64));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_EQ(0, p.healthy);
}

/*
 * gpud goes away with the buffers of two threads in flight on one tcp://
 * connection: both threads get their failure, neither hangs, and the
 * device stays lost.
 */
TEST_F(gpud, gpud_gone_with_buffers_in_flight)
{
	const size_t mat = (size_t)SIDE_N * SIDE_N * sizeof(float);
	struct syncer y[2] = { { 0 }, { 0 } };
	pthread_t thread[2];
	eiaDeviceptr m[2];
	eiaDeviceProp p;
	float out[2][16];
	int i;

	NEEDS_OWN_GPUD();
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(EIA_SUCCESS, eiaMemAlloc(self->dev, &m[i], 3 * mat));
		ASSERT_EQ(EIA_SUCCESS, eiaStreamCreate(&y[i].s, self->dev, EIA_STREAM_DEFAULT));
		queue_matmuls(y[i].s, m[i], SIDE_REPS_MAX, out[i], 16);
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&thread[i], NULL, syncer_main, &y[i]));
	usleep(50 * 1000);
	gpud_stop(&self->g);
	for (i = 0; i < 2; i++) {
		pthread_join(thread[i], NULL);
		EXPECT_EQ(EIA_ERROR_CONNECTION_LOST, y[i].err);
	}
	ASSERT_EQ(EIA_ERROR_CONNECTION_LOST, eiaMemFree(self->dev, m[0]));
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceGetProperties(&p, self->dev));
	ASSERT_EQ(0, p.healthy);
	for (i = 0; i < 2; i++)
		eiaStreamDestroy(y[i].s);
}

TEST_HARNESS_MAIN
