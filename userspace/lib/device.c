// SPDX-License-Identifier: MIT
/*
 * Devices: discovery through sysfs (/sys/class/eia/eiaN, one directory per
 * attached accelerator), open by name or tcp:// URL, properties.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libeia.h"

#define EIA_SYSFS_CLASS		"/sys/class/eia"
/* Most devices discovery lists; eia.ko's max_devices is far below. */
#define EIA_MAX_ORDINALS	1024

/* N when @name is "eiaN" (N decimal, no leading zeros but "eia0"), else -1. */
static long eia_index(const char *name)
{
	const char *p = name + 3;
	long n = 0;

	if (strncmp(name, "eia", 3) || !*p || (p[0] == '0' && p[1]))
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000000)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * The indices of the attached devices, sorted, into @idx (at most
 * EIA_MAX_ORDINALS). Returns their number or a negative errno.
 */
static int list_devices(long *idx)
{
	DIR *d = opendir(EIA_SYSFS_CLASS);
	struct dirent *e;
	int n = 0;
	long i;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) && n < EIA_MAX_ORDINALS) {
		i = eia_index(e->d_name);
		if (i >= 0)
			idx[n++] = i;
	}
	closedir(d);
	qsort(idx, (size_t)n, sizeof(*idx), cmp_long);
	return n;
}

eiaError_t eiaDeviceGetCount(int *count)
{
	static const char fn[] = "eiaDeviceGetCount";
	eiaError_t err = eia_check_entry(fn, count, "count");
	long idx[EIA_MAX_ORDINALS];
	int n;

	if (err)
		return err;
	n = list_devices(idx);
	if (n < 0)
		return eia_fail_errno(fn, n, "cannot read %s: %s", EIA_SYSFS_CLASS,
				      strerror(-n));
	*count = n;
	return EIA_SUCCESS;
}

eiaError_t eiaDeviceGetName(char *name, size_t len, int ordinal)
{
	static const char fn[] = "eiaDeviceGetName";
	eiaError_t err = eia_check_entry(fn, name, "name");
	long idx[EIA_MAX_ORDINALS];
	char buf[32];
	int n;

	if (err)
		return err;
	n = list_devices(idx);
	if (n < 0)
		return eia_fail_errno(fn, n, "cannot read %s: %s", EIA_SYSFS_CLASS,
				      strerror(-n));
	if (ordinal < 0 || ordinal >= n)
		return eia_fail(fn, EIA_ERROR_NO_DEVICE, ENODEV,
				"no device with ordinal %d (%d attached)", ordinal, n);
	snprintf(buf, sizeof(buf), "eia%ld", idx[ordinal]);
	if (strlen(buf) >= len)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"a name buffer of %zu bytes is too short for %s", len, buf);
	memcpy(name, buf, strlen(buf) + 1);
	return EIA_SUCCESS;
}

static eiaError_t kernel_open(struct eiaDevice *dev, const char *name)
{
	static const char fn[] = "eiaDeviceOpen";
	char path[sizeof(dev->name) + 8];
	int ret;

	if (name[0] == '/') {
		snprintf(path, sizeof(path), "%s", name);
	} else if (eia_index(name) >= 0) {
		snprintf(path, sizeof(path), "/dev/%s", name);
	} else {
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"'%s' is not a device name: expected eiaN, /dev/eiaN or tcp://HOST[:PORT]",
				name);
	}
	ret = eia_kernel_open(dev, path);
	if (ret == -ENOENT || ret == -ENXIO)
		return eia_fail(fn, EIA_ERROR_NO_DEVICE, -ret,
				"%s does not exist: no such accelerator is attached (see eia list)",
				path);
	if (ret == -ENODEV)
		return eia_fail(fn, EIA_ERROR_NO_DEVICE, -ret,
				"%s is not an attached eia device", path);
	if (ret)
		return eia_fail_errno(fn, ret, "cannot open %s: %s", path, strerror(-ret));
	return EIA_SUCCESS;
}

eiaError_t eiaDeviceOpen(eiaDevice_t *devp, const char *name)
{
	static const char fn[] = "eiaDeviceOpen";
	eiaError_t err = eia_check_entry(fn, devp, "dev");
	struct eiaDevice *dev;

	if (err)
		return err;
	if (!name || !*name)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "no device name");
	if (strlen(name) >= sizeof(dev->name))
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"device name of %zu characters is too long", strlen(name));
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return eia_fail(fn, EIA_ERROR_OUT_OF_MEMORY, ENOMEM, "no memory for a device");
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->fd = -1;
	dev->sock = -1;
	if (!strncmp(name, "tcp://", 6)) {
		dev->kind = EIA_DEV_TCP;
		err = eia_tcp_open(dev, name);
	} else {
		dev->kind = EIA_DEV_KERNEL;
		err = kernel_open(dev, name);
	}
	if (err) {
		free(dev);
		return err;
	}
	*devp = dev;
	return EIA_SUCCESS;
}

eiaError_t eiaDeviceClose(eiaDevice_t dev)
{
	static const char fn[] = "eiaDeviceClose";
	eiaError_t err;
	int n;

	if (!dev)
		return EIA_SUCCESS;
	err = eia_check_entry(fn, dev, "dev");
	if (err)
		return err;
	n = atomic_load(&dev->nstreams);
	if (n)
		return eia_fail(fn, EIA_ERROR_BUSY, EBUSY,
				"%s still has %d stream(s): destroy them first", dev->name, n);
	if (dev->kind == EIA_DEV_TCP)
		eia_tcp_close(dev);
	else
		eia_kernel_close(dev);
	free(dev);
	return EIA_SUCCESS;
}

eiaError_t eiaDeviceGetProperties(eiaDeviceProp *prop, eiaDevice_t dev)
{
	static const char fn[] = "eiaDeviceGetProperties";
	eiaError_t err = eia_check_entry(fn, prop, "prop");

	if (err)
		return err;
	if (!dev)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "dev is NULL");
	memset(prop, 0, sizeof(*prop));
	memcpy(prop->name, dev->name, sizeof(prop->name));
	prop->transport = dev->kind;
	prop->maxRequestBytes = dev->max_payload;
	if (dev->kind == EIA_DEV_TCP)
		return eia_tcp_props(dev, prop);
	return eia_kernel_props(dev, prop);
}
