// SPDX-License-Identifier: GPL-2.0
/*
 * eia.ko: Elastic Inference for Linux. Remote GPU slices served by gpud over
 * TCP appear as /dev/eiaN. This file holds the module: its parameters, the
 * class, the char region, and the registry of devices with their creation,
 * reconfiguration and detach. See Documentation/driver.rst.
 */

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "eia_priv.h"

/* Upper bound for max_devices: minors we are ready to reserve. */
#define EIA_MAX_DEVICES_LIMIT	4096

unsigned int eia_request_timeout_ms = 30000;
module_param_named(request_timeout_ms, eia_request_timeout_ms, uint, 0444);
MODULE_PARM_DESC(request_timeout_ms,
		 "Default per-request timeout in ms, 100..600000 (default 30000); netlink may set one per device");

unsigned int eia_health_interval_ms = 5000;
module_param_named(health_interval_ms, eia_health_interval_ms, uint, 0444);
MODULE_PARM_DESC(health_interval_ms,
		 "Interval between health-check PINGs in ms, 100..600000, 0 = off (default 5000)");

static unsigned int eia_max_devices = 64;
module_param_named(max_devices, eia_max_devices, uint, 0444);
MODULE_PARM_DESC(max_devices, "Most devices attached at once, 1..4096 (default 64)");

struct workqueue_struct *eia_wq;

static struct class eia_class = {
	.name = "eia",
};

static dev_t eia_devt;

/*
 * The registry: index -> device. An index maps to NULL while its device is
 * being detached (it cannot be found, but its name is still taken).
 * eia_unloading stops attaches once module exit has begun.
 */
static DEFINE_MUTEX(eia_devs_lock);
static DEFINE_IDR(eia_devs);
static bool eia_unloading;

static void eia_dev_release(struct device *dev)
{
	struct eia_device *edev = to_eia_device(dev);

	mutex_destroy(&edev->cfg_lock);
	kfree(edev);
}

void eia_dev_snapshot(struct eia_device *edev, struct eia_snapshot *snap)
{
	spin_lock(&edev->lock);
	snap->status = edev->status;
	snap->timeout_ms = edev->timeout_ms;
	snap->memory_total = edev->memory_total;
	snap->fp32_mtflops = edev->fp32_mtflops;
	snap->fp16_mtflops = edev->fp16_mtflops;
	snap->max_payload = edev->max_payload;
	memcpy(snap->type, edev->type, sizeof(snap->type));
	memcpy(snap->accel_id, edev->accel_id, sizeof(snap->accel_id));
	memcpy(snap->server, edev->server, sizeof(snap->server));
	spin_unlock(&edev->lock);
	snap->memory_used = atomic64_read(&edev->memory_used);
}

bool eia_dev_detached(struct eia_device *edev)
{
	bool detached;

	spin_lock(&edev->lock);
	detached = edev->detached;
	spin_unlock(&edev->lock);
	return detached;
}

/* Called with edev->lock held. */
static void eia_dev_set_grant(struct eia_device *edev,
			      const struct eia_grant *grant)
{
	strscpy(edev->accel_id, grant->accel_id, sizeof(edev->accel_id));
	edev->memory_total = grant->memory_bytes;
	edev->fp32_mtflops = grant->fp32_mtflops;
	edev->fp16_mtflops = grant->fp16_mtflops;
	edev->max_payload = grant->max_payload;
}

/* A HELLO is a request too: count it and its traffic. */
static void eia_dev_count_hello(struct eia_device *edev,
				const struct eia_grant *grant, int err)
{
	atomic64_inc(&edev->requests);
	if (err)
		atomic64_inc(&edev->errors);
	atomic64_add(grant->bytes_sent, &edev->bytes_sent);
	atomic64_add(grant->bytes_received, &edev->bytes_received);
}

static struct eia_device *eia_dev_alloc(const struct eia_grant *grant,
					const char *server, u32 timeout_ms)
{
	struct eia_device *edev;

	edev = kzalloc(sizeof(*edev), GFP_KERNEL);
	if (!edev)
		return NULL;
	mutex_init(&edev->cfg_lock);
	spin_lock_init(&edev->lock);
	INIT_DELAYED_WORK(&edev->health_work, eia_health_work);
	edev->status = EIA_STATUS_HEALTHY;
	edev->timeout_ms = timeout_ms;
	strscpy(edev->type, grant->type, sizeof(edev->type));
	strscpy(edev->server, server, sizeof(edev->server));
	eia_dev_set_grant(edev, grant);
	eia_dev_count_hello(edev, grant, 0);

	device_initialize(&edev->dev);
	edev->dev.class = &eia_class;
	edev->dev.groups = eia_dev_groups;
	edev->dev.release = eia_dev_release;
	cdev_init(&edev->cdev, &eia_fops);
	edev->cdev.owner = THIS_MODULE;
	return edev;
}

/**
 * eia_dev_create() - create /dev/eiaN for a connection that passed its HELLO
 * @conn: the connection; the device takes its own reference
 * @grant: what gpud granted
 * @server: server name for sysfs
 * @timeout_ms: per-request timeout
 * @extack: where the reason for a failure goes
 *
 * Takes the lowest free index, adds the char device and its sysfs group in
 * one step, starts the receive worker and the health check, publishes the
 * device and multicasts EVENT_ATTACHED, all under eia_devs_lock so that
 * module exit sees either no device or a complete one.
 *
 * Return: the device with a reference for the caller, or ERR_PTR(-ENOSPC)
 * (every index in use), ERR_PTR(-ENODEV) (module unloading), ERR_PTR(-ENOMEM).
 */
struct eia_device *eia_dev_create(struct eia_conn *conn,
				  const struct eia_grant *grant,
				  const char *server, u32 timeout_ms,
				  struct netlink_ext_ack *extack)
{
	struct eia_device *edev;
	int index;
	int err;

	edev = eia_dev_alloc(grant, server, timeout_ms);
	if (!edev)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&eia_devs_lock);
	if (eia_unloading) {
		NL_SET_ERR_MSG(extack, "eia is being unloaded");
		err = -ENODEV;
		goto out_unlock;
	}
	index = idr_alloc(&eia_devs, NULL, 0, eia_max_devices, GFP_KERNEL);
	if (index < 0) {
		if (index == -ENOSPC)
			NL_SET_ERR_MSG(extack,
				       "all max_devices device indexes are in use");
		err = index;
		goto out_unlock;
	}
	edev->index = index;
	edev->dev.devt = MKDEV(MAJOR(eia_devt), index);
	err = dev_set_name(&edev->dev, "eia%d", index);
	if (err)
		goto out_remove;

	eia_conn_bind(conn, edev);
	kref_get(&conn->kref);
	edev->conn = conn;
	err = cdev_device_add(&edev->cdev, &edev->dev);
	if (err) {
		edev->conn = NULL;
		eia_conn_put(conn);
		goto out_remove;
	}
	eia_conn_start(conn);
	if (eia_health_interval_ms)
		eia_health_arm(edev, msecs_to_jiffies(eia_health_interval_ms));

	idr_replace(&eia_devs, edev, index);
	eia_nl_event(edev, EIA_CMD_EVENT_ATTACHED);
	get_device(&edev->dev);
	mutex_unlock(&eia_devs_lock);
	dev_info(&edev->dev, "attached %s %s from %s\n", grant->type,
		 grant->accel_id, server);
	return edev;

out_remove:
	idr_remove(&eia_devs, index);
out_unlock:
	mutex_unlock(&eia_devs_lock);
	put_device(&edev->dev);
	return ERR_PTR(err);
}

/* The attached device with this index, with a reference, or NULL. */
struct eia_device *eia_dev_get(u32 index)
{
	struct eia_device *edev;

	mutex_lock(&eia_devs_lock);
	edev = idr_find(&eia_devs, index);
	if (edev)
		get_device(&edev->dev);
	mutex_unlock(&eia_devs_lock);
	return edev;
}

/* The attached device with the lowest index >= *@index, with a reference. */
struct eia_device *eia_dev_get_next(u32 *index)
{
	struct eia_device *edev;
	int id = *index;

	if (*index > INT_MAX)
		return NULL;
	mutex_lock(&eia_devs_lock);
	edev = idr_get_next(&eia_devs, &id);
	if (edev) {
		get_device(&edev->dev);
		*index = id;
	}
	mutex_unlock(&eia_devs_lock);
	return edev;
}

void eia_dev_put(struct eia_device *edev)
{
	put_device(&edev->dev);
}

/**
 * eia_dev_detach() - detach a device
 * @edev: the device (the caller holds a reference)
 *
 * Multicasts EVENT_DETACHED, removes /dev/eiaN and its sysfs directory (no
 * new opens), fails requests in flight with -ENODEV, stops the receive
 * worker and the health check and releases the socket. Files still open keep
 * the struct alive and get -ENODEV from then on.
 *
 * Return: 0, or -ENODEV when the device is already being detached.
 */
int eia_dev_detach(struct eia_device *edev)
{
	struct eia_conn *conn;

	mutex_lock(&eia_devs_lock);
	if (idr_find(&eia_devs, edev->index) != edev) {
		mutex_unlock(&eia_devs_lock);
		return -ENODEV;
	}
	idr_replace(&eia_devs, NULL, edev->index);
	eia_nl_event(edev, EIA_CMD_EVENT_DETACHED);
	mutex_unlock(&eia_devs_lock);

	mutex_lock(&edev->cfg_lock);
	spin_lock(&edev->lock);
	edev->detached = true;
	conn = edev->conn;
	edev->conn = NULL;
	spin_unlock(&edev->lock);

	cdev_device_del(&edev->cdev, &edev->dev);
	eia_conn_stop(conn, -ENODEV);
	eia_conn_put(conn);
	if (cancel_delayed_work_sync(&edev->health_work))
		put_device(&edev->dev);
	mutex_unlock(&edev->cfg_lock);
	dev_info(&edev->dev, "detached\n");

	mutex_lock(&eia_devs_lock);
	idr_remove(&eia_devs, edev->index);
	mutex_unlock(&eia_devs_lock);
	put_device(&edev->dev);
	return 0;
}

/* Swap in a new connection. Called with cfg_lock held. */
static int eia_dev_reconnect(struct eia_device *edev, struct eia_conn *conn,
			     const char *server, u32 timeout_ms,
			     struct netlink_ext_ack *extack)
{
	char type[EIA_TYPE_NAME_MAX];
	char old_id[EIA_ACCEL_ID_MAX];
	char peer[EIA_SERVER_NAME_MAX];
	struct eia_grant grant;
	struct eia_conn *old;
	bool old_dead;
	int err;

	spin_lock(&edev->lock);
	strscpy(type, edev->type, sizeof(type));
	strscpy(old_id, edev->accel_id, sizeof(old_id));
	if (!timeout_ms)
		timeout_ms = edev->timeout_ms;
	edev->status = EIA_STATUS_UNKNOWN;
	old = edev->conn;
	spin_unlock(&edev->lock);

	err = eia_conn_hello(conn, type, old_id, timeout_ms, &grant, extack);
	eia_dev_count_hello(edev, &grant, err);
	if (err) {
		old_dead = eia_conn_is_dead(old);
		spin_lock(&edev->lock);
		/* Unless the old link died meanwhile, which said so already. */
		if (edev->status == EIA_STATUS_UNKNOWN)
			edev->status = old_dead ? EIA_STATUS_IMPAIRED :
						  EIA_STATUS_HEALTHY;
		spin_unlock(&edev->lock);
		return err;
	}
	if (!server) {
		eia_sock_peer_name(conn->sock, peer, sizeof(peer));
		server = peer;
	}

	eia_conn_bind(conn, edev);
	kref_get(&conn->kref);
	spin_lock(&edev->lock);
	edev->conn = conn;
	eia_dev_set_grant(edev, &grant);
	strscpy(edev->server, server, sizeof(edev->server));
	edev->timeout_ms = timeout_ms;
	edev->status = EIA_STATUS_HEALTHY;
	spin_unlock(&edev->lock);
	eia_conn_start(conn);
	eia_conn_stop(old, -ENOLINK);
	eia_conn_put(old);
	/* gpud frees the old connection's contexts; the new one has none. */
	atomic64_set(&edev->memory_used, 0);

	if (strcmp(old_id, grant.accel_id))
		dev_info(&edev->dev, "gpud granted accelerator %s in place of %s\n",
			 grant.accel_id, old_id);
	dev_info(&edev->dev, "link restored to %s\n", server);
	eia_nl_event(edev, EIA_CMD_EVENT_LINK_RESTORED);
	return 0;
}

/**
 * eia_dev_reconfigure() - give a device a new connection, server name or timeout
 * @edev: the device (the caller holds a reference)
 * @conn: a new connection not started yet, or NULL to keep the current one
 * @server: new server name, or NULL (with a new connection: its peer address)
 * @timeout_ms: new request timeout, or 0 to keep it
 * @extack: where the reason for a failure goes
 *
 * With a connection, the HELLO asks for the device's type and its current id;
 * on success the old connection is stopped and the device is healthy again,
 * whatever its state was. On failure nothing changes.
 *
 * Return: 0, -ENODEV (detached), or what eia_conn_hello() returned.
 */
int eia_dev_reconfigure(struct eia_device *edev, struct eia_conn *conn,
			const char *server, u32 timeout_ms,
			struct netlink_ext_ack *extack)
{
	int err = 0;

	mutex_lock(&edev->cfg_lock);
	if (eia_dev_detached(edev)) {
		NL_SET_ERR_MSG(extack, "device is being detached");
		err = -ENODEV;
	} else if (conn) {
		err = eia_dev_reconnect(edev, conn, server, timeout_ms, extack);
	} else {
		spin_lock(&edev->lock);
		if (server)
			strscpy(edev->server, server, sizeof(edev->server));
		if (timeout_ms)
			edev->timeout_ms = timeout_ms;
		spin_unlock(&edev->lock);
	}
	mutex_unlock(&edev->cfg_lock);
	return err;
}

static int __init eia_check_params(void)
{
	if (eia_request_timeout_ms < EIA_TIMEOUT_MS_MIN ||
	    eia_request_timeout_ms > EIA_TIMEOUT_MS_MAX) {
		pr_err("eia: request_timeout_ms must be within %u..%u\n",
		       EIA_TIMEOUT_MS_MIN, EIA_TIMEOUT_MS_MAX);
		return -EINVAL;
	}
	if (eia_health_interval_ms &&
	    (eia_health_interval_ms < EIA_TIMEOUT_MS_MIN ||
	     eia_health_interval_ms > EIA_TIMEOUT_MS_MAX)) {
		pr_err("eia: health_interval_ms must be 0 or within %u..%u\n",
		       EIA_TIMEOUT_MS_MIN, EIA_TIMEOUT_MS_MAX);
		return -EINVAL;
	}
	if (!eia_max_devices || eia_max_devices > EIA_MAX_DEVICES_LIMIT) {
		pr_err("eia: max_devices must be within 1..%u\n",
		       EIA_MAX_DEVICES_LIMIT);
		return -EINVAL;
	}
	return 0;
}

static int __init eia_init(void)
{
	int err;

	err = eia_check_params();
	if (err)
		return err;
	err = class_register(&eia_class);
	if (err)
		return err;
	err = alloc_chrdev_region(&eia_devt, 0, eia_max_devices, "eia");
	if (err)
		goto out_class;
	eia_wq = alloc_workqueue("eia", WQ_UNBOUND, 0);
	if (!eia_wq) {
		err = -ENOMEM;
		goto out_region;
	}
	err = eia_nl_register();
	if (err)
		goto out_wq;
	return 0;

out_wq:
	destroy_workqueue(eia_wq);
out_region:
	unregister_chrdev_region(eia_devt, eia_max_devices);
out_class:
	class_unregister(&eia_class);
	return err;
}

/*
 * No file is open (each holds a module reference), so detaching everything
 * frees everything. Devices go first, while the family can still multicast
 * their EVENT_DETACHED; unregistering the family then waits for commands in
 * progress, which can no longer create devices.
 */
static void __exit eia_exit(void)
{
	struct eia_device *edev;
	u32 index = 0;

	mutex_lock(&eia_devs_lock);
	eia_unloading = true;
	mutex_unlock(&eia_devs_lock);

	while ((edev = eia_dev_get_next(&index))) {
		eia_dev_detach(edev);
		eia_dev_put(edev);
	}
	eia_nl_unregister();
	destroy_workqueue(eia_wq);
	unregister_chrdev_region(eia_devt, eia_max_devices);
	class_unregister(&eia_class);
	idr_destroy(&eia_devs);
}

module_init(eia_init);
module_exit(eia_exit);

MODULE_DESCRIPTION("Elastic Inference: remote GPU accelerators as /dev/eiaN");
MODULE_AUTHOR("The eia authors");
MODULE_LICENSE("GPL");
