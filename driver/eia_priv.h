/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eia.ko private header: the device, the connection to gpud and the
 * functions the parts of the driver call in each other.
 *
 * Lock order (outermost first; see Documentation/driver.rst):
 *
 *   eia_devs_lock          (mutex, eia_drv.c) the index -> device registry
 *   eia_device.cfg_lock    (mutex) attach/reconfigure/detach of one device
 *   eia_file.lock          (mutex) the submits of one file, its context
 *   eia_conn.tx_lock       (mutex) one message on the socket at a time
 *   eia_device.lock,
 *   eia_conn.lock          (spinlocks) never held together
 *
 * Workers (receive work, health check, timeouts, the end of an interrupted
 * send, context destruction) never take a mutex above tx_lock, so the
 * configuration paths may wait for them while holding cfg_lock.
 */
#ifndef _EIA_PRIV_H
#define _EIA_PRIV_H

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/sizes.h>
#include <linux/uio.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/netlink.h>

#include "eia_netlink.h"
#include "eia_wire.h"

/* Requests one connection may have in flight at once. */
#define EIA_MAX_INFLIGHT	1024
/* A health-check PING waits at most this long (less if timeout_ms is less). */
#define EIA_HEALTH_TIMEOUT_MS	5000
/* A server granting less than this cannot carry future command buffers. */
#define EIA_MIN_MAX_PAYLOAD	4096
/* Largest response payload a request receives inline (error messages too). */
#define EIA_RESP_MAX		EIA_WIRE_ERRMSG_MAX

/* Bytes one read of the socket brings in at most, for many small responses. */
#define EIA_RXBUF_SIZE		SZ_16K

/* Module parameters (eia_drv.c). */
extern unsigned int eia_request_timeout_ms;
extern unsigned int eia_health_interval_ms;

/* Runs every receive worker and health check (eia_drv.c). */
extern struct workqueue_struct *eia_wq;

/* What gpud granted in a HELLO, and the traffic the exchange cost. */
struct eia_grant {
	char accel_id[EIA_ACCEL_ID_MAX];
	char type[EIA_TYPE_NAME_MAX];
	u64 memory_bytes;
	u32 fp32_mtflops;
	u32 fp16_mtflops;
	u32 max_payload;
	u64 bytes_sent;
	u64 bytes_received;
};

/**
 * struct eia_conn - one TCP (or kTLS) connection to gpud
 * @kref: held by the device while the connection is its current one, by
 *	the receive side from eia_conn_start() until it stops (@rx_on), by
 *	@rx_work and @timeout_work while queued, and by every request being
 *	submitted or waited for
 * @sock: the socket; the connection holds a reference to its file from
 *	creation to release, so the socket outlives every user of @conn
 * @edev: the device, set by eia_conn_bind() with a device reference that
 *	the connection drops on release; NULL during the HELLO
 * @gen: generation, the upper 32 bits of every tag; new on every connection
 *	so that a reply meant for an older one is recognised
 * @saved_sndtimeo: the socket's send timeout before we took it
 * @saved_rcvtimeo: the socket's receive timeout before we took it
 * @tx_lock: serialises whole messages on @sock, and protects @corks
 * @corks: io_uring submissions in progress holding the socket corked, so
 *	that a batch of command buffers leaves in few segments
 * @lock: protects @reqs, @used, @next_slot, @nreqs and @dead, and the
 *	arming of @timeout_work
 * @reqs: slot -> struct eia_req in flight, where @used has the slot's bit
 * @used: the slots in use
 * @next_slot: where the search for a free slot starts: slots go round, so
 *	that a tag is not reused at once
 * @nreqs: slots in use, at most EIA_MAX_INFLIGHT
 * @dead: set once, when the connection fails or is stopped; no request is
 *	added afterwards and all that were in the table have been failed (the
 *	one whose response the receive worker is reading, it fails itself)
 * @room_wait: submitters waiting for @nreqs to drop below EIA_MAX_INFLIGHT
 * @rx_lock: held by the one reader of the socket: @rx_work, or a submitter
 *	reading its own response (eia_conn_wait()); protects @rxbuf,
 *	@rx_pos and @rx_len
 * @rx_wait: on the socket's wait queue while @rx_on: queues @rx_work when
 *	data comes and nobody holds @rx_lock
 * @rx_kick_lock: protects @rx_on, so that nothing queues @rx_work once the
 *	receive side has stopped, and @rx_reader; taken with interrupts off
 *	(wake-ups)
 * @rx_reader: a request in the table whose submitter's task reads the
 *	socket when nobody else does, instead of @rx_work; set under @lock
 *	too, and cleared when the request leaves the table
 * @rx_on: the receive side runs: from eia_conn_start() to the first failed
 *	read or eia_conn_stop()
 * @rx_missed: data came while @rx_lock was held; whoever releases it looks
 *	at this flag after the release (see eia_rx_unlock())
 * @rxbuf: what was read from the socket and not yet taken, at
 *	[@rx_pos, @rx_len): one read brings in many small responses
 * @rx_pos: first byte not yet taken
 * @rx_len: bytes in @rxbuf
 * @rx_work: reads what arrives when no submitter is reading
 * @timeout_work: fails the link when a request outlives its deadline; holds
 *	a connection reference while queued; armed only while not @dead
 * @node: in the list of all connections (one socket, one connection)
 */
struct eia_conn {
	struct kref kref;
	struct socket *sock;
	struct eia_device *edev;
	u32 gen;
	long saved_sndtimeo;
	long saved_rcvtimeo;
	struct mutex tx_lock;	/* see the kernel-doc above */
	unsigned int corks;
	spinlock_t lock;	/* see the kernel-doc above */
	struct eia_req *reqs[EIA_MAX_INFLIGHT];
	DECLARE_BITMAP(used, EIA_MAX_INFLIGHT);
	unsigned int next_slot;
	unsigned int nreqs;
	bool dead;
	wait_queue_head_t room_wait;
	struct mutex rx_lock;	/* see the kernel-doc above */
	wait_queue_entry_t rx_wait;
	spinlock_t rx_kick_lock;	/* see the kernel-doc above */
	bool rx_on;
	bool rx_missed;
	struct eia_req *rx_reader;
	u8 *rxbuf;
	u32 rx_pos;
	u32 rx_len;
	struct work_struct rx_work;
	struct delayed_work timeout_work;
	struct list_head node;
};

struct eia_req;

/**
 * struct eia_req_ops - what differs between kinds of request
 * @recv: read the payload of a successful response (status 0), @len bytes,
 *	by the socket's reader (the receive worker or a waiting submitter,
 *	maybe another request's), which has taken the request out of the table.
 *	Returns 0, or a negative errno with @why set: the connection is then
 *	dead and the request fails with -ENOLINK.
 * @read_in_task: optional; have the submitter's task read the socket (see
 *	eia_conn_set_reader()). Called from wake-ups, with interrupts off and
 *	the request still in the table; returns false when it cannot.
 * @done: optional; the request has its result. Called exactly once, by
 *	whoever took the request out of the table, in process context with no
 *	lock held, before the request's completion is signalled.
 * @release: free the request, on its last reference; process context
 */
struct eia_req_ops {
	int (*recv)(struct eia_conn *conn, struct eia_req *req, u32 len,
		    const char **why);
	bool (*read_in_task)(struct eia_conn *conn, struct eia_req *req);
	void (*done)(struct eia_req *req);
	void (*release)(struct eia_req *req);
};

/**
 * struct eia_req - one request to gpud
 * @kref: the submitter's reference, and the request table's while the
 *	request is in it. Whoever removes the request from the table (the
 *	receive worker, as soon as the response's header names it; a
 *	submitter giving up; the timeout work; the link-death path) sets
 *	@result, calls ->done, completes @done and drops the table's
 *	reference. The last reference may be dropped by any of them, so
 *	->release must not need the submitter.
 * @done: completed once, with @result set
 * @ops: the kind of request
 * @node: on a list of requests being failed together
 * @deadline: jiffies by which the response must have come; runs only once
 *	the request is on the wire (@on_wire), so that a request queued behind
 *	other large requests is not taken for a silent gpud
 * @timeo: how long the response may take once the request is on the wire
 * @on_wire: the whole request has been written to the socket
 * @slot: index in the table, the low half of the tag
 * @opcode: what the response must echo
 * @status: gpud's status when @result is -EIO
 * @result: 0 or a negative errno
 *
 * A request lives on the heap so that a submitter killed by a signal can
 * leave it in the table: its late response is then read and dropped (and
 * any user pages it holds released) instead of looking like an unknown tag.
 */
struct eia_req {
	struct kref kref;
	struct completion done;
	const struct eia_req_ops *ops;
	struct list_head node;
	unsigned long deadline;
	long timeo;
	bool on_wire;
	u32 slot;
	u16 opcode;
	u32 status;
	int result;
};

/**
 * struct eia_call - one synchronous request with a small fixed response
 * @health: a health check (its timeout says so in the log)
 * @wait: wait for room in the request table (killable) rather than fail
 *	with -EBUSY
 * @opcode: enum eia_wire_opcode
 * @payload: request payload
 * @payload_len: its length
 * @resp: where the response payload goes
 * @resp_cap: longest response payload accepted (at most EIA_RESP_MAX)
 * @resp_len: Out: length of the response payload
 * @status: Out: gpud's status when the call returned -EIO
 * @timeout_ms: how long to wait for the response
 */
struct eia_call {
	bool health;
	bool wait;
	u16 opcode;
	const void *payload;
	u32 payload_len;
	void *resp;
	u32 resp_cap;
	u32 resp_len;
	u32 status;
	u32 timeout_ms;
};

/**
 * struct eia_device - one attached accelerator, /dev/eiaN
 * @dev: the device in class "eia"; its reference count decides the life of
 *	the whole struct (released by eia_dev_release()). References: the
 *	registry (from attach to the end of detach), every open file, every
 *	connection started on it, the health check while queued or running,
 *	and the cdev while it is in use.
 * @cdev: the character device
 * @index: N of eiaN, also its minor number
 * @cfg_lock: serialises reconfigure and detach of this device
 * @lock: protects @conn, @detached and every field below them up to the
 *	counters. After attach, writers hold @cfg_lock too, except for the
 *	link-death path, which only sets @status to impaired.
 * @conn: the current connection, possibly dead; NULL once detached
 * @detached: detach has begun: no new file, request or connection
 * @status: enum eia_status
 * @timeout_ms: per-request timeout
 * @type: accelerator type
 * @accel_id: accelerator id granted by gpud
 * @server: how the server was named at attach or the last reconfigure
 * @memory_total: memory quota granted
 * @fp32_mtflops: FP32 share granted
 * @fp16_mtflops: FP16 share granted
 * @max_payload: largest request payload gpud accepts
 * @memory_used: device memory in use, as gpud last reported it (atomic)
 * @health_work: the periodic health check
 * @requests: requests sent, health checks included
 * @errors: requests that failed
 * @bytes_sent: bytes written to the connection(s)
 * @bytes_received: bytes read from the connection(s)
 */
struct eia_device {
	struct device dev;
	struct cdev cdev;
	u32 index;
	struct mutex cfg_lock;	/* see the kernel-doc above */
	spinlock_t lock;	/* see the kernel-doc above */
	struct eia_conn *conn;
	bool detached;
	enum eia_status status;
	u32 timeout_ms;
	char type[EIA_TYPE_NAME_MAX];
	char accel_id[EIA_ACCEL_ID_MAX];
	char server[EIA_SERVER_NAME_MAX];
	u64 memory_total;
	u32 fp32_mtflops;
	u32 fp16_mtflops;
	u32 max_payload;
	atomic64_t memory_used;
	struct delayed_work health_work;
	atomic64_t requests;
	atomic64_t errors;
	atomic64_t bytes_sent;
	atomic64_t bytes_received;
};

static inline struct eia_device *to_eia_device(struct device *dev)
{
	return container_of(dev, struct eia_device, dev);
}

/**
 * struct eia_file - one open file of /dev/eiaN: a context
 * @edev: the device, with a reference held until release
 * @lock: serialises the file's submits, so that they reach the wire in the
 *	order they were made, and the creation of its context
 * @ctx: the context's id on gpud; 0 until the first submit creates it
 * @ctx_gen: generation of the connection the context lives on: the context
 *	dies with that connection
 */
struct eia_file {
	struct eia_device *edev;
	struct mutex lock;	/* see the kernel-doc above */
	u64 ctx;
	u32 ctx_gen;
};

/* A consistent copy of a device's state, for sysfs, netlink and ioctls. */
struct eia_snapshot {
	enum eia_status status;
	u32 timeout_ms;
	u64 memory_total;
	u64 memory_used;
	u32 fp32_mtflops;
	u32 fp16_mtflops;
	u32 max_payload;
	char type[EIA_TYPE_NAME_MAX];
	char accel_id[EIA_ACCEL_ID_MAX];
	char server[EIA_SERVER_NAME_MAX];
};

/* eia_drv.c: the registry of devices */
void eia_dev_snapshot(struct eia_device *edev, struct eia_snapshot *snap);
bool eia_dev_detached(struct eia_device *edev);
struct eia_device *eia_dev_create(struct eia_conn *conn,
				  const struct eia_grant *grant,
				  const char *server, u32 timeout_ms,
				  struct netlink_ext_ack *extack);
struct eia_device *eia_dev_get(u32 index);
struct eia_device *eia_dev_get_next(u32 *index);
void eia_dev_put(struct eia_device *edev);
int eia_dev_detach(struct eia_device *edev);
int eia_dev_reconfigure(struct eia_device *edev, struct eia_conn *conn,
			const char *server, u32 timeout_ms,
			struct netlink_ext_ack *extack);

/* eia_conn.c: the transport */
struct socket *eia_sock_lookup(u32 fd, const struct nlattr *attr,
			       struct netlink_ext_ack *extack);
void eia_sock_peer_name(struct socket *sock, char *buf, size_t len);
struct eia_conn *eia_conn_create(struct socket *sock,
				 struct netlink_ext_ack *extack);
int eia_conn_hello(struct eia_conn *conn, const char *type,
		   const char *resume_id, u32 timeout_ms,
		   struct eia_grant *grant, struct netlink_ext_ack *extack);
void eia_conn_bind(struct eia_conn *conn, struct eia_device *edev);
void eia_conn_start(struct eia_conn *conn);
void eia_conn_stop(struct eia_conn *conn, int err);
bool eia_conn_is_dead(struct eia_conn *conn);
void eia_conn_put(struct eia_conn *conn);
struct eia_conn *eia_dev_conn_get(struct eia_device *edev, bool healthy_only,
				  u32 *timeout_ms);
void eia_req_init(struct eia_req *req, const struct eia_req_ops *ops,
		  u16 opcode);
void eia_req_get(struct eia_req *req);
void eia_req_put(struct eia_req *req);
void eia_conn_cork_plugged(struct eia_conn *conn);
int eia_conn_send(struct eia_conn *conn, struct eia_req *req,
		  struct kvec *vec, unsigned int nvec, u32 payload_len,
		  u32 timeout_ms, bool wait);
long eia_conn_wait(struct eia_conn *conn, struct eia_req *req, long timeout);
void eia_conn_set_reader(struct eia_conn *conn, struct eia_req *req);
void eia_conn_read(struct eia_conn *conn);
int eia_conn_call(struct eia_conn *conn, struct eia_call *call);
int eia_conn_recv(struct eia_conn *conn, const struct eia_req *req,
		  struct iov_iter *iter, const char **why);
int eia_conn_bad_resp(struct eia_conn *conn, const char *what,
		      const char **why);
int eia_dev_ping(struct eia_device *edev, u64 cookie, u32 delay_ms,
		 u64 *rtt_ns);
void eia_health_work(struct work_struct *work);
void eia_health_arm(struct eia_device *edev, unsigned long delay);

/* eia_netlink.c */
int eia_nl_register(void);
void eia_nl_unregister(void);
int eia_nl_fill_dev(struct sk_buff *skb, struct eia_device *edev, u32 portid,
		    u32 seq, int flags, u8 cmd);
void eia_nl_event(struct eia_device *edev, u8 cmd);

/* eia_cdev.c */
extern const struct file_operations eia_fops;

/* eia_submit.c: contexts and the submit core */
struct eia_submit;
struct io_uring_cmd;
void eia_file_destroy_ctx(struct eia_file *efile);
int eia_submit_ioctl(struct eia_file *efile, struct eia_submit *args);
int eia_submit_uring(struct eia_file *efile, struct io_uring_cmd *ioucmd,
		     unsigned int issue_flags);

/* eia_sysfs.c */
extern const struct attribute_group *eia_dev_groups[];

#endif /* _EIA_PRIV_H */
