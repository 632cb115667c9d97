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

static void eia_snap(struct device *dev, struct eia_snapshot *snap)
{
	eia_dev_snapshot(to_eia_device(dev), snap);
}

static ssize_t type_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return sysfs_emit(buf, "%s\n", snap.type);
}
static DEVICE_ATTR_RO(type);

static ssize_t accelerator_id_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return sysfs_emit(buf, "%s\n", snap.accel_id);
}
static DEVICE_ATTR_RO(accelerator_id);

static ssize_t status_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return sysfs_emit(buf, "%s\n", eia_status_names[snap.status]);
}
static DEVICE_ATTR_RO(status);

static ssize_t server_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return sysfs_emit(buf, "%s\n", snap.server);
}
static DEVICE_ATTR_RO(server);

static ssize_t timeout_ms_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return sysfs_emit(buf, "%u\n", snap.timeout_ms);
}
static DEVICE_ATTR_RO(timeout_ms);

static ssize_t memory_total_bytes_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return sysfs_emit(buf, "%llu\n", snap.memory_total);
}
static DEVICE_ATTR_RO(memory_total_bytes);

static ssize_t memory_used_bytes_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return sysfs_emit(buf, "%llu\n", snap.memory_used);
}
static DEVICE_ATTR_RO(memory_used_bytes);

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

static ssize_t fp32_tflops_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return eia_emit_tflops(buf, snap.fp32_mtflops);
}
static DEVICE_ATTR_RO(fp32_tflops);

static ssize_t fp16_tflops_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct eia_snapshot snap;

	eia_snap(dev, &snap);
	return eia_emit_tflops(buf, snap.fp16_mtflops);
}
static DEVICE_ATTR_RO(fp16_tflops);

static ssize_t eia_emit_counter(char *buf, atomic64_t *counter)
{
	return sysfs_emit(buf, "%llu\n", (u64)atomic64_read(counter));
}

static ssize_t requests_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return eia_emit_counter(buf, &to_eia_device(dev)->requests);
}
static DEVICE_ATTR_RO(requests);

static ssize_t errors_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return eia_emit_counter(buf, &to_eia_device(dev)->errors);
}
static DEVICE_ATTR_RO(errors);

static ssize_t bytes_sent_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return eia_emit_counter(buf, &to_eia_device(dev)->bytes_sent);
}
static DEVICE_ATTR_RO(bytes_sent);

static ssize_t bytes_received_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return eia_emit_counter(buf, &to_eia_device(dev)->bytes_received);
}
static DEVICE_ATTR_RO(bytes_received);

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
