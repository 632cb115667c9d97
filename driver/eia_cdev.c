// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/eiaN: every open() is a context (struct eia_file) holding a device
 * reference; ioctls (uapi/eia_ioctl.h) go through one table indexed by
 * _IOC_NR, and uring_cmds (EIA_URING_CMD_SUBMIT) join the ioctl's submit in
 * one submit core (eia_submit.c). A file outlives its device's detach: from
 * then on every ioctl and uring_cmd fails with -ENODEV, and the device
 * struct is freed on the last close.
 */

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "eia_compat.h"
#include "eia_ioctl.h"
#include "eia_priv.h"

/* Room for the argument of any ioctl in the table. */
union eia_ioctl_arg {
	struct eia_dev_info info;
	struct eia_ping ping;
	struct eia_submit submit;
};

typedef int eia_ioctl_fn(struct eia_file *efile, void *arg);

/**
 * struct eia_ioctl_desc - one ioctl of the table
 * @cmd: the ioctl number as we define it
 * @func: what it does
 * @min_size: the caller's struct must be at least this long (the first
 *	version of a struct added later); smaller sizes are another ioctl
 * @out_on_error: copy the argument back even when @func fails (SUBMIT's
 *	failed index)
 */
struct eia_ioctl_desc {
	unsigned int cmd;
	eia_ioctl_fn *func;
	unsigned int min_size;
	bool out_on_error;
};

static int eia_open(struct inode *inode, struct file *filp)
{
	struct eia_device *edev = container_of(inode->i_cdev,
					       struct eia_device, cdev);
	struct eia_file *efile;

	if (eia_dev_detached(edev))
		return -ENODEV;
	efile = kzalloc(sizeof(*efile), GFP_KERNEL);
	if (!efile)
		return -ENOMEM;
	get_device(&edev->dev);
	efile->edev = edev;
	mutex_init(&efile->lock);
	filp->private_data = efile;
	return nonseekable_open(inode, filp);
}

/*
 * No submit of this file is running (each holds the file), though buffers
 * of a killed submitter may still be in flight: gpud destroys the context
 * after them.
 */
static int eia_release(struct inode *inode, struct file *filp)
{
	struct eia_file *efile = filp->private_data;

	eia_file_destroy_ctx(efile);
	put_device(&efile->edev->dev);
	mutex_destroy(&efile->lock);
	kfree(efile);
	return 0;
}

static int eia_ioctl_info(struct eia_file *efile, void *arg)
{
	struct eia_device *edev = efile->edev;
	struct eia_dev_info *info = arg;
	struct eia_snapshot snap;

	eia_dev_snapshot(edev, &snap);
	info->index = edev->index;
	info->status = snap.status;
	info->memory_total = snap.memory_total;
	info->memory_used = snap.memory_used;
	info->fp32_mtflops = snap.fp32_mtflops;
	info->fp16_mtflops = snap.fp16_mtflops;
	info->wire_version = EIA_WIRE_VERSION;
	info->timeout_ms = snap.timeout_ms;
	strscpy_pad(info->type, snap.type, sizeof(info->type));
	strscpy_pad(info->accel_id, snap.accel_id, sizeof(info->accel_id));
	info->max_payload = snap.max_payload;
	return 0;
}

static int eia_ioctl_ping(struct eia_file *efile, void *arg)
{
	struct eia_ping *ping = arg;

	if (ping->pad || ping->delay_ms > EIA_WIRE_PING_MAX_DELAY_MS)
		return -EINVAL;
	/* A wrong echo fails with -EPROTO: on success the cookie is unchanged. */
	return eia_dev_ping(efile->edev, ping->cookie, ping->delay_ms,
			    &ping->rtt_ns);
}

static int eia_ioctl_submit(struct eia_file *efile, void *arg)
{
	return eia_submit_ioctl(efile, arg);
}

static const struct eia_ioctl_desc eia_ioctls[] = {
	[_IOC_NR(EIA_IOCTL_INFO)] = { EIA_IOCTL_INFO, eia_ioctl_info },
	[_IOC_NR(EIA_IOCTL_PING)] = { EIA_IOCTL_PING, eia_ioctl_ping },
	[_IOC_NR(EIA_IOCTL_SUBMIT)] = {
		EIA_IOCTL_SUBMIT, eia_ioctl_submit,
		.min_size = sizeof(struct eia_submit),
		.out_on_error = true,
	},
};

/*
 * Sizes may differ between the caller's and our view of a struct (older or
 * newer uapi headers): copy the common prefix in and out, zero the rest. The
 * direction comes from our table, never from the caller.
 */
static long eia_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct eia_file *efile = filp->private_data;
	void __user *uarg = (void __user *)arg;
	const struct eia_ioctl_desc *desc;
	unsigned int nr = _IOC_NR(cmd);
	union eia_ioctl_arg kdata;
	size_t size;
	int err;

	if (_IOC_TYPE(cmd) != EIA_IOCTL_MAGIC || nr >= ARRAY_SIZE(eia_ioctls))
		return -ENOTTY;
	desc = &eia_ioctls[array_index_nospec(nr, ARRAY_SIZE(eia_ioctls))];
	if (!desc->func || _IOC_SIZE(cmd) < desc->min_size)
		return -ENOTTY;
	if (eia_dev_detached(efile->edev))
		return -ENODEV;

	size = min(_IOC_SIZE(cmd), _IOC_SIZE(desc->cmd));
	memset(&kdata, 0, sizeof(kdata));
	if ((_IOC_DIR(desc->cmd) & _IOC_WRITE) &&
	    copy_from_user(&kdata, uarg, size))
		return -EFAULT;
	err = desc->func(efile, &kdata);
	if (err && !desc->out_on_error)
		return err;
	if ((_IOC_DIR(desc->cmd) & _IOC_READ) && copy_to_user(uarg, &kdata, size))
		return err ? err : -EFAULT;
	return err;
}

static int eia_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	return eia_submit_uring(ioucmd->file->private_data, ioucmd,
				issue_flags);
}

const struct file_operations eia_fops = {
	.owner		= THIS_MODULE,
	.open		= eia_open,
	.release	= eia_release,
	.unlocked_ioctl	= eia_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= eia_uring_cmd,
};
