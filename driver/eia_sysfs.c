// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/class/eia/eiaN: what the device is and how it is doing. Every file is
 * read-only and documented in Documentation/ABI/testing/sysfs-class-eia. The
 * group is attached when the device is added (device.groups), so userspace
 * never sees the directory without its files.
 */

#include <linux/device.h>
#include <linux/sysfs.h>

#include "eia_priv.h"

static const char *const eia_status_names[] = {
	[EIA_STATUS_UNKNOWN]	= "unknown",
	[EIA_STATUS_HEALTHY]	= "healthy",
	[EIA_STATUS_IMPAIRED]	= "impaired",
};

/* Thousandths of a TFLOPS as a decimal: "1", "1.5", "0.125". */
static ssize_t eia_emit_tflops(char *buf, u32 mtflops)
{
	unsigned int frac = mtflops % 1000;
	int digits = 3;

	if (!frac)
		return sysfs_emit(buf, "%u\n", mtflops / 1000);
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	return sysfs_emit(buf, "%u.%0*u\n", mtflops / 1000, digits, frac);
}

/*
 * An attribute shown from a consistent snapshot of the device: @emit is
 * evaluated with @snap in scope.
 */
#define EIA_SNAP_ATTR(_name, _emit)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct eia_snapshot snap;					\
									\
	eia_dev_snapshot(to_eia_device(dev), &snap);			\
	return _emit;							\
}									\
static DEVICE_ATTR_RO(_name)

EIA_SNAP_ATTR(type, sysfs_emit(buf, "%s\n", snap.type));
EIA_SNAP_ATTR(accelerator_id, sysfs_emit(buf, "%s\n", snap.accel_id));
EIA_SNAP_ATTR(status, sysfs_emit(buf, "%s\n", eia_status_names[snap.status]));
EIA_SNAP_ATTR(server, sysfs_emit(buf, "%s\n", snap.server));
EIA_SNAP_ATTR(timeout_ms, sysfs_emit(buf, "%u\n", snap.timeout_ms));
EIA_SNAP_ATTR(memory_total_bytes, sysfs_emit(buf, "%llu\n", snap.memory_total));
EIA_SNAP_ATTR(memory_used_bytes, sysfs_emit(buf, "%llu\n", snap.memory_used));
EIA_SNAP_ATTR(fp32_tflops, eia_emit_tflops(buf, snap.fp32_mtflops));
EIA_SNAP_ATTR(fp16_tflops, eia_emit_tflops(buf, snap.fp16_mtflops));

/* A traffic counter, read without the snapshot's lock. */
#define EIA_COUNTER_ATTR(_name)						\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n",				\
			  (u64)atomic64_read(&to_eia_device(dev)->_name)); \
}									\
static DEVICE_ATTR_RO(_name)

EIA_COUNTER_ATTR(requests);
EIA_COUNTER_ATTR(errors);
EIA_COUNTER_ATTR(bytes_sent);
EIA_COUNTER_ATTR(bytes_received);

static struct attribute *eia_dev_attrs[] = {
	&dev_attr_type.attr,
	&dev_attr_accelerator_id.attr,
	&dev_attr_status.attr,
	&dev_attr_server.attr,
	&dev_attr_memory_total_bytes.attr,
	&dev_attr_memory_used_bytes.attr,
	&dev_attr_fp32_tflops.attr,
	&dev_attr_fp16_tflops.attr,
	&dev_attr_timeout_ms.attr,
	&dev_attr_requests.attr,
	&dev_attr_errors.attr,
	&dev_attr_bytes_sent.attr,
	&dev_attr_bytes_received.attr,
	NULL,
};

static const struct attribute_group eia_dev_group = {
	.attrs = eia_dev_attrs,
};

const struct attribute_group *eia_dev_groups[] = {
	&eia_dev_group,
	NULL,
};
