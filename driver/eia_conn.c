// SPDX-License-Identifier: GPL-2.0
/*
 * The transport to gpud: taking over a connected socket, the HELLO exchange,
 * tagged requests, the receive worker, timeouts, link death and the health
 * check. Modelled on nbd.c (userspace hands over the socket, one blocking
 * receive worker per connection, a generation in every tag) and on
 * nvme/host/tcp.c.
 *
 * gpud is never trusted: every header, tag, opcode, length and string of a
 * response is checked, and any violation kills the connection.
 *
 * A message is never left half-sent: a signal that interrupts a sender
 * hands the rest of its message to a worker (see eia_conn_xmit()), so that
 * killing one process cannot break the link that every user of the device
 * shares.
 */

#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/in.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/nospec.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>
#include <uapi/linux/tls.h>

#include "eia_compat.h"
#include "eia_priv.h"

/* A header converted to CPU byte order. */
struct eia_hdr {
	u32 magic;
	u16 version;
	u16 opcode;
	u32 flags;
	u32 status;
	u64 tag;
	u32 payload_len;
	u32 reserved;
};

/**
 * struct eia_call_req - a request of eia_conn_call()
 * @req: the request
 * @resp_cap: longest successful response payload accepted
 * @resp_len: length of the response payload in @resp
 * @resp: response payload
 */
struct eia_call_req {
	struct eia_req req;
	u32 resp_cap;
	u32 resp_len;
	u8 resp[EIA_RESP_MAX];
};

/**
 * struct eia_rest - the end of a transfer its task could not finish
 * @work: runs eia_rest_work() on eia_wq
 * @sock: the socket
 * @msg: a send: the message, its iterator where the sender stopped
 * @iter: a read (@msg NULL): where the rest goes
 * @timeo: a send's timeout
 * @deadline: a read's deadline, as for eia_sock_recv_iter()
 * @bytes: bytes the worker moved
 * @err: what the worker's transfer returned
 * @done: completed when the worker is done with @msg or @iter
 */
struct eia_rest {
	struct work_struct work;
	struct socket *sock;
	struct msghdr *msg;
	struct iov_iter *iter;
	long timeo;
	unsigned long deadline;
	u64 bytes;
	int err;
	struct completion done;
};

/* Every connection, so that one socket never serves two of them. */
static LIST_HEAD(eia_conns);
static DEFINE_SPINLOCK(eia_conns_lock);
static atomic_t eia_conn_gen = ATOMIC_INIT(0);

static void eia_conn_rx_work(struct work_struct *work);
static void eia_rx_stop(struct eia_conn *conn);
static void eia_conn_timeout_work(struct work_struct *work);

static u64 eia_tag(const struct eia_conn *conn, u32 slot)
{
	return (u64)conn->gen << 32 | slot;
}

/**
 * eia_sock_lookup() - take a reference to a caller's connected TCP socket
 * @fd: the caller's file descriptor
 * @attr: the attribute that carried it, for the error message
 * @extack: where the reason for a refusal goes
 *
 * Return: the socket, holding a reference to its file, or ERR_PTR(-EBADF),
 * ERR_PTR(-ENOTSOCK) or ERR_PTR(-EINVAL) for anything but an established
 * TCP connection over IPv4 or IPv6.
 */
struct socket *eia_sock_lookup(u32 fd, const struct nlattr *attr,
			       struct netlink_ext_ack *extack)
{
	struct socket *sock;
	struct sock *sk;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock) {
		if (err == -ENOTSOCK)
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "file descriptor is not a socket");
		else
			NL_SET_ERR_MSG_ATTR(extack, attr, "bad file descriptor");
		return ERR_PTR(err);
	}
	sk = sock->sk;
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "socket is not an IPv4 or IPv6 socket");
		goto out_inval;
	}
	if (sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "socket is not a TCP socket");
		goto out_inval;
	}
	switch (READ_ONCE(sk->sk_state)) {
	case TCP_ESTABLISHED:
		return sock;
	case TCP_LISTEN:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "socket is listening, not connected");
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "socket is not connected (TCP state is not ESTABLISHED)");
		break;
	}
out_inval:
	sockfd_put(sock);
	return ERR_PTR(-EINVAL);
}

/* The peer's address as "ip:port" ("[ipv6]:port"), the default server name. */
void eia_sock_peer_name(struct socket *sock, char *buf, size_t len)
{
	struct sockaddr_storage addr;

	if (kernel_getpeername(sock, (struct sockaddr *)&addr) < 0)
		strscpy(buf, "unknown", len);
	else
		snprintf(buf, len, "%pISpc", &addr);
}

static void eia_wire_hdr_init(struct eia_wire_hdr *hdr, u16 opcode, u64 tag,
			      u32 payload_len)
{
	*hdr = (struct eia_wire_hdr){
		.magic = cpu_to_le32(EIA_WIRE_MAGIC),
		.version = cpu_to_le16(EIA_WIRE_VERSION),
		.opcode = cpu_to_le16(opcode),
		.tag = cpu_to_le64(tag),
		.payload_len = cpu_to_le32(payload_len),
	};
}

/*
 * Send what is left of @msg, waiting at most @timeo whenever the send buffer
 * is full. Returns 0; -EPIPE; -ETIMEDOUT when the buffer stayed full; or
 * the socket's error, -EINTR and -ERESTARTSYS included (a signal). The
 * iterator of @msg says how far it got.
 */
static int eia_sock_sendmsg(struct socket *sock, struct msghdr *msg,
			    long timeo, u64 *sent)
{
	int ret = 0;

	WRITE_ONCE(sock->sk->sk_sndtimeo, timeo);
	while (msg_data_left(msg)) {
		msg->msg_flags = MSG_NOSIGNAL;
		ret = sock_sendmsg(sock, msg);
		if (ret <= 0)
			break;
		*sent += ret;
	}
	if (!msg_data_left(msg))
		return 0;
	if (ret == 0)
		return -EPIPE;
	if (ret == -EAGAIN)
		return -ETIMEDOUT;
	return ret;
}

/*
 * Send one whole message before the connection has a worker (the HELLO).
 * Returns 0; -EINTR when a signal came (the caller gives the socket up);
 * -ETIMEDOUT when the send buffer stayed full for @timeo; another negative
 * errno otherwise.
 */
static int eia_sock_send(struct socket *sock, u16 opcode, u64 tag,
			 const void *payload, u32 len, long timeo, u64 *sent)
{
	struct eia_wire_hdr hdr;
	struct kvec vec[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr msg = {};
	int err;

	eia_wire_hdr_init(&hdr, opcode, tag, len);
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, vec, len ? 2 : 1,
		      sizeof(hdr) + len);
	err = eia_sock_sendmsg(sock, &msg, timeo, sent);
	return err == -ERESTARTSYS ? -EINTR : err;
}

/* True when a kTLS control message says the record is application data. */
static bool eia_tls_data_record(struct cmsghdr *cmsg)
{
	return cmsg->cmsg_level == SOL_TLS &&
	       cmsg->cmsg_type == TLS_GET_RECORD_TYPE &&
	       cmsg->cmsg_len == CMSG_LEN(sizeof(u8)) &&
	       *(u8 *)CMSG_DATA(cmsg) == TLS_RECORD_TYPE_DATA;
}

/*
 * One sock_recvmsg() into @iter, never ->read_sock, so that it works on a
 * kTLS socket too: a control buffer receives the TLS record type, and a
 * record that is not application data (an alert, a post-handshake message)
 * is a protocol error. On plain TCP no control message arrives.
 *
 * With @nowait the read takes what is there; otherwise it waits until
 * @deadline (in jiffies; 0: no deadline) for at least one byte. @iter
 * advances by what was read.
 *
 * Returns the bytes read; -ECONNRESET on end of stream; -EAGAIN (@nowait,
 * nothing there); -ETIMEDOUT past the deadline; -EINTR when a signal came
 * first (a user task's read); -EBADMSG for a non-data TLS record; or the
 * socket's error.
 */
static int eia_sock_recv_once(struct socket *sock, struct iov_iter *iter,
			      unsigned long deadline, bool nowait)
{
	union {
		struct cmsghdr hdr;
		u8 space[CMSG_SPACE(sizeof(u8))];
	} ctl;
	struct msghdr msg = {
		.msg_iter = *iter,
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
	};
	long left = MAX_SCHEDULE_TIMEOUT;
	int ret;

	if (deadline && !nowait) {
		left = (long)(deadline - jiffies);
		if (left <= 0)
			return -ETIMEDOUT;
	}
	WRITE_ONCE(sock->sk->sk_rcvtimeo, left);
	ret = sock_recvmsg(sock, &msg,
			   MSG_NOSIGNAL | (nowait ? MSG_DONTWAIT : 0));
	if (ret == -EAGAIN)
		return nowait ? -EAGAIN : -ETIMEDOUT;
	if (ret == -ERESTARTSYS)
		return -EINTR;
	if (ret < 0)
		return ret;
	if (ret == 0)
		return -ECONNRESET;
	*iter = msg.msg_iter;
	if (msg.msg_flags & MSG_CTRUNC)
		return -EBADMSG;
	if (msg.msg_controllen != sizeof(ctl) &&
	    !eia_tls_data_record(&ctl.hdr))
		return -EBADMSG;
	return ret;
}

/*
 * Fill @iter, waiting until @deadline (0: none) whenever the socket is
 * empty; see eia_sock_recv_once(). Returns 0 or its error; @iter says how
 * far it got.
 */
static int eia_sock_recv_iter(struct socket *sock, struct iov_iter *iter,
			      unsigned long deadline, u64 *received)
{
	int ret;

	while (iov_iter_count(iter)) {
		ret = eia_sock_recv_once(sock, iter, deadline, false);
		if (ret < 0)
			return ret;
		*received += ret;
	}
	return 0;
}

static void eia_rest_work(struct work_struct *work)
{
	struct eia_rest *rest = container_of(work, struct eia_rest, work);

	if (rest->msg)
		rest->err = eia_sock_sendmsg(rest->sock, rest->msg, rest->timeo,
					     &rest->bytes);
	else
		rest->err = eia_sock_recv_iter(rest->sock, rest->iter,
					       rest->deadline, &rest->bytes);
	complete(&rest->done);
}

/*
 * A task with a signal pending can neither send nor read, and a message cut
 * short would break the stream for every user of the device. So a worker,
 * which no signal interrupts, finishes the transfer while the task waits:
 * uninterruptibly but bounded by the send timeout or the read's deadline
 * (for a header, by the timeout work failing the link), and TASK_IDLE: a
 * long wait is not a hung task. Returns what the transfer did.
 */
static int eia_rest_finish(struct eia_rest *rest)
{
	init_completion(&rest->done);
	INIT_WORK_ONSTACK(&rest->work, eia_rest_work);
	queue_work(eia_wq, &rest->work);
	wait_for_completion_state(&rest->done, TASK_IDLE);
	destroy_work_on_stack(&rest->work);
	return rest->err;
}

/*
 * Send one whole message on @conn; the caller holds tx_lock. A task with a
 * signal pending cannot send (TCP waits for buffer space interruptibly,
 * kTLS takes its lock interruptibly), and a message cut short would break
 * the stream for every user of the device. So when a signal stops the
 * send, a worker finishes the message - unless the signal is fatal and
 * nothing has left yet, when the message is simply not sent.
 *
 * Returns 0; -EINTR (fatal signal, nothing sent: the stream is intact);
 * -ETIMEDOUT when the send buffer stayed full for @timeo; another negative
 * errno otherwise. After any error but -EINTR the stream may hold a partial
 * message and the connection is lost.
 */
static int eia_conn_xmit(struct eia_conn *conn, struct msghdr *msg,
			 long timeo, u64 *sent)
{
	struct eia_rest rest = { .sock = conn->sock, .msg = msg, .timeo = timeo };
	size_t len = msg_data_left(msg);
	int err;

	err = eia_sock_sendmsg(conn->sock, msg, timeo, sent);
	if (err != -EINTR && err != -ERESTARTSYS)
		return err;
	if (msg_data_left(msg) == len && fatal_signal_pending(current))
		return -EINTR;
	err = eia_rest_finish(&rest);
	*sent += rest.bytes;
	return err;
}

/* Read exactly @len bytes into @buf; see eia_sock_recv_iter(). */
static int eia_sock_recv(struct socket *sock, void *buf, size_t len,
			 unsigned long deadline, u64 *received)
{
	struct kvec vec = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_DEST, &vec, 1, len);
	return eia_sock_recv_iter(sock, &iter, deadline, received);
}

/* Convert a received header and check it as every receiver does. */
static int eia_hdr_unpack(const struct eia_wire_hdr *w, struct eia_hdr *h)
{
	h->magic = le32_to_cpu(w->magic);
	h->version = le16_to_cpu(w->version);
	h->opcode = le16_to_cpu(w->opcode);
	h->flags = le32_to_cpu(w->flags);
	h->status = le32_to_cpu(w->status);
	h->tag = le64_to_cpu(w->tag);
	h->payload_len = le32_to_cpu(w->payload_len);
	h->reserved = le32_to_cpu(w->reserved);
	return eia_wire_check_hdr(h->magic, h->version, h->flags,
				  h->payload_len, h->reserved);
}

/**
 * eia_conn_create() - wrap a socket in a connection, before its HELLO
 * @sock: socket from eia_sock_lookup(); on success the connection owns the
 *	reference, on failure it stays the caller's
 * @extack: where the reason for a refusal goes
 *
 * Return: the connection (one reference, the caller's), ERR_PTR(-ENOMEM),
 * or ERR_PTR(-EBUSY) when the socket already serves a connection.
 */
struct eia_conn *eia_conn_create(struct socket *sock,
				 struct netlink_ext_ack *extack)
{
	struct eia_conn *conn, *other;
	bool busy = false;

	conn = kvzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return ERR_PTR(-ENOMEM);
	conn->rxbuf = kvmalloc(EIA_RXBUF_SIZE, GFP_KERNEL);
	if (!conn->rxbuf) {
		kvfree(conn);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&conn->kref);
	conn->sock = sock;
	conn->gen = atomic_inc_return(&eia_conn_gen);
	mutex_init(&conn->tx_lock);
	spin_lock_init(&conn->lock);
	init_waitqueue_head(&conn->room_wait);
	mutex_init(&conn->rx_lock);
	spin_lock_init(&conn->rx_kick_lock);
	INIT_WORK(&conn->rx_work, eia_conn_rx_work);
	INIT_DELAYED_WORK(&conn->timeout_work, eia_conn_timeout_work);

	spin_lock(&eia_conns_lock);
	list_for_each_entry(other, &eia_conns, node) {
		if (other->sock == sock) {
			busy = true;
			break;
		}
	}
	if (!busy)
		list_add(&conn->node, &eia_conns);
	spin_unlock(&eia_conns_lock);
	if (busy) {
		NL_SET_ERR_MSG(extack, "socket is already in use by an eia device");
		mutex_destroy(&conn->rx_lock);
		mutex_destroy(&conn->tx_lock);
		kvfree(conn->rxbuf);
		kvfree(conn);
		return ERR_PTR(-EBUSY);
	}

	conn->saved_sndtimeo = READ_ONCE(sock->sk->sk_sndtimeo);
	conn->saved_rcvtimeo = READ_ONCE(sock->sk->sk_rcvtimeo);
	/* Sends may come from any task, or from a worker during reclaim. */
	sock->sk->sk_use_task_frag = false;
	return conn;
}

static void eia_conn_release(struct kref *kref)
{
	struct eia_conn *conn = container_of(kref, struct eia_conn, kref);

	spin_lock(&eia_conns_lock);
	list_del(&conn->node);
	spin_unlock(&eia_conns_lock);
	/* The caller may still hold the socket: give back its timeouts. */
	WRITE_ONCE(conn->sock->sk->sk_sndtimeo, conn->saved_sndtimeo);
	WRITE_ONCE(conn->sock->sk->sk_rcvtimeo, conn->saved_rcvtimeo);
	sockfd_put(conn->sock);
	if (conn->edev)
		put_device(&conn->edev->dev);
	mutex_destroy(&conn->rx_lock);
	mutex_destroy(&conn->tx_lock);
	kvfree(conn->rxbuf);
	kvfree(conn);
}

void eia_conn_put(struct eia_conn *conn)
{
	kref_put(&conn->kref, eia_conn_release);
}

bool eia_conn_is_dead(struct eia_conn *conn)
{
	bool dead;

	spin_lock(&conn->lock);
	dead = conn->dead;
	spin_unlock(&conn->lock);
	return dead;
}

static int eia_hello_io_error(int err, struct netlink_ext_ack *extack)
{
	switch (err) {
	case -ETIMEDOUT:
		NL_SET_ERR_MSG(extack,
			       "gpud did not answer the HELLO within the request timeout");
		return -ETIMEDOUT;
	case -EINTR:
	case -ERESTARTSYS:
		NL_SET_ERR_MSG(extack, "interrupted by a signal during the HELLO");
		return -EINTR;
	case -EBADMSG:
		NL_SET_ERR_MSG(extack, "gpud sent a TLS record that is not data");
		return -EPROTO;
	default:
		NL_SET_ERR_MSG(extack, "connection to gpud failed during the HELLO");
		return err;
	}
}

static int eia_hello_status(u32 status, struct netlink_ext_ack *extack)
{
	switch (status) {
	case ENOENT:
		NL_SET_ERR_MSG(extack, "gpud does not offer this accelerator type");
		return -ENOENT;
	case ENOSPC:
		NL_SET_ERR_MSG(extack, "gpud has no capacity left for this type");
		return -ENOSPC;
	case EPROTONOSUPPORT:
		NL_SET_ERR_MSG(extack,
			       "gpud does not speak this wire protocol version");
		return -EPROTONOSUPPORT;
	default:
		NL_SET_ERR_MSG(extack, "gpud refused the HELLO");
		return -EIO;
	}
}

static int eia_hello_garbage(struct netlink_ext_ack *extack, const char *why)
{
	pr_debug_ratelimited("eia: bad HELLO response: %s\n", why);
	NL_SET_ERR_MSG(extack, "gpud sent a malformed HELLO response");
	return -EPROTO;
}

/* "eia-" and 32 lowercase hex digits, NUL-terminated inside the field. */
static bool eia_accel_id_valid(const char *id)
{
	size_t i;

	if (strnlen(id, EIA_ACCEL_ID_MAX) != EIA_ACCEL_ID_LEN ||
	    strncmp(id, "eia-", 4))
		return false;
	for (i = 4; i < EIA_ACCEL_ID_LEN; i++) {
		if (!(id[i] >= '0' && id[i] <= '9') &&
		    !(id[i] >= 'a' && id[i] <= 'f'))
			return false;
	}
	return true;
}

static int eia_hello_check(const struct eia_wire_hello_resp *resp,
			   const char *type, struct eia_grant *grant,
			   struct netlink_ext_ack *extack)
{
	u32 max_payload = le32_to_cpu(resp->max_payload);

	if (!eia_accel_id_valid(resp->accel_id))
		return eia_hello_garbage(extack, "malformed accelerator id");
	if (strnlen(resp->type, sizeof(resp->type)) == sizeof(resp->type) ||
	    strcmp(resp->type, type))
		return eia_hello_garbage(extack, "granted another type");
	if (max_payload < EIA_MIN_MAX_PAYLOAD ||
	    max_payload > EIA_WIRE_MAX_PAYLOAD)
		return eia_hello_garbage(extack, "max_payload out of range");
	if (resp->reserved)
		return eia_hello_garbage(extack, "reserved field is not zero");

	strscpy(grant->accel_id, resp->accel_id, sizeof(grant->accel_id));
	strscpy(grant->type, resp->type, sizeof(grant->type));
	grant->memory_bytes = le64_to_cpu(resp->memory_bytes);
	grant->fp32_mtflops = le32_to_cpu(resp->fp32_mtflops);
	grant->fp16_mtflops = le32_to_cpu(resp->fp16_mtflops);
	grant->max_payload = max_payload;
	return 0;
}

/**
 * eia_conn_hello() - the first exchange on a new connection
 * @conn: a connection not started yet
 * @type: accelerator type to ask for
 * @resume_id: "" on attach, the device's id on reattach
 * @timeout_ms: bound on the whole exchange
 * @grant: Out: what gpud granted and the bytes the exchange moved
 * @extack: where the reason for a failure goes
 *
 * Runs in the caller's context, before the receive worker exists.
 *
 * Return: 0; -ENOENT, -ENOSPC, -EPROTONOSUPPORT or -EIO when gpud refuses;
 * -EPROTO for a malformed answer; -ETIMEDOUT; -EINTR; or a socket error.
 */
int eia_conn_hello(struct eia_conn *conn, const char *type,
		   const char *resume_id, u32 timeout_ms,
		   struct eia_grant *grant, struct netlink_ext_ack *extack)
{
	long timeo = msecs_to_jiffies(timeout_ms);
	unsigned long deadline = jiffies + timeo;
	struct eia_wire_hello_req req = {};
	union {
		struct eia_wire_hello_resp resp;
		char errmsg[EIA_WIRE_ERRMSG_MAX];
	} body;
	struct eia_wire_hdr whdr;
	u64 tag = eia_tag(conn, 0);
	struct eia_hdr hdr;
	int err;

	memset(grant, 0, sizeof(*grant));
	strscpy(req.type, type, sizeof(req.type));
	strscpy(req.resume_id, resume_id, sizeof(req.resume_id));
	err = eia_sock_send(conn->sock, EIA_MSG_HELLO, tag, &req, sizeof(req),
			    timeo, &grant->bytes_sent);
	if (err)
		return eia_hello_io_error(err, extack);

	err = eia_sock_recv(conn->sock, &whdr, sizeof(whdr), deadline,
			    &grant->bytes_received);
	if (err)
		return eia_hello_io_error(err, extack);
	err = eia_hdr_unpack(&whdr, &hdr);
	if (err == -EPROTONOSUPPORT)
		return eia_hello_status(EPROTONOSUPPORT, extack);
	if (err)
		return eia_hello_garbage(extack, "bad header");
	if (!(hdr.flags & EIA_WIRE_F_RESPONSE) || hdr.opcode != EIA_MSG_HELLO ||
	    hdr.tag != tag)
		return eia_hello_garbage(extack, "not the answer to the HELLO");

	if (hdr.status) {
		if (hdr.payload_len > EIA_WIRE_ERRMSG_MAX)
			return eia_hello_garbage(extack, "error message too long");
		err = eia_sock_recv(conn->sock, body.errmsg, hdr.payload_len,
				    deadline, &grant->bytes_received);
		if (err)
			return eia_hello_io_error(err, extack);
		if (hdr.payload_len && !memchr(body.errmsg, 0, hdr.payload_len))
			return eia_hello_garbage(extack, "unterminated error message");
		pr_debug_ratelimited("eia: gpud refused HELLO for %s: status %u: %s\n",
				     type, hdr.status,
				     hdr.payload_len ? body.errmsg : "");
		return eia_hello_status(hdr.status, extack);
	}

	if (hdr.payload_len != sizeof(body.resp))
		return eia_hello_garbage(extack, "wrong payload length");
	err = eia_sock_recv(conn->sock, &body.resp, sizeof(body.resp), deadline,
			    &grant->bytes_received);
	if (err)
		return eia_hello_io_error(err, extack);
	return eia_hello_check(&body.resp, type, grant, extack);
}

/**
 * eia_req_init() - prepare a request
 * @req: the request, inside the caller's struct
 * @ops: its kind
 * @opcode: the message it sends
 *
 * The caller holds the one reference; ->release frees the request.
 */
void eia_req_init(struct eia_req *req, const struct eia_req_ops *ops,
		  u16 opcode)
{
	kref_init(&req->kref);
	init_completion(&req->done);
	INIT_LIST_HEAD(&req->node);
	req->ops = ops;
	req->opcode = opcode;
}

static void eia_req_release(struct kref *kref)
{
	struct eia_req *req = container_of(kref, struct eia_req, kref);

	req->ops->release(req);
}

void eia_req_get(struct eia_req *req)
{
	kref_get(&req->kref);
}

/* Never under a spinlock: the last put may unpin pages, which sleeps. */
void eia_req_put(struct eia_req *req)
{
	might_sleep();
	kref_put(&req->kref, eia_req_release);
}

/*
 * Put @req in the table, due within @timeo of being on the wire; the table
 * takes a reference. A fixed array and a bitmap: adding a request allocates
 * nothing. Returns the slot.
 */
static int eia_req_add(struct eia_conn *conn, struct eia_req *req, long timeo)
{
	unsigned int slot;
	int ret;

	spin_lock(&conn->lock);
	if (conn->dead) {
		ret = -ENOLINK;
	} else if (conn->nreqs >= EIA_MAX_INFLIGHT) {
		ret = -EBUSY;
	} else {
		slot = find_next_zero_bit(conn->used, EIA_MAX_INFLIGHT,
					  conn->next_slot);
		if (slot >= EIA_MAX_INFLIGHT)
			slot = find_first_zero_bit(conn->used, EIA_MAX_INFLIGHT);
		__set_bit(slot, conn->used);
		conn->reqs[slot] = req;
		conn->next_slot = (slot + 1) % EIA_MAX_INFLIGHT;
		conn->nreqs++;
		kref_get(&req->kref);
		req->slot = slot;
		req->timeo = timeo;
		req->on_wire = false;
		ret = slot;
	}
	spin_unlock(&conn->lock);
	return ret;
}

/* @req is all on the socket: its deadline starts now. */
static void eia_req_sent(struct eia_conn *conn, struct eia_req *req)
{
	spin_lock(&conn->lock);
	req->deadline = jiffies + req->timeo;
	WRITE_ONCE(req->on_wire, true);
	spin_unlock(&conn->lock);
}

/* The request in @slot, or NULL. Called with conn->lock. */
static struct eia_req *eia_req_at(struct eia_conn *conn, u32 slot)
{
	if (slot >= EIA_MAX_INFLIGHT || !test_bit(slot, conn->used))
		return NULL;
	return conn->reqs[array_index_nospec(slot, EIA_MAX_INFLIGHT)];
}

/* Take the request in @slot out of the table. Called with conn->lock. */
static void eia_req_remove(struct eia_conn *conn, u32 slot)
{
	unsigned long flags;

	if (conn->rx_reader == conn->reqs[slot]) {
		spin_lock_irqsave(&conn->rx_kick_lock, flags);
		conn->rx_reader = NULL;
		spin_unlock_irqrestore(&conn->rx_kick_lock, flags);
	}
	__clear_bit(slot, conn->used);
	conn->reqs[slot] = NULL;
	conn->nreqs--;
}

static bool eia_conn_has_room(struct eia_conn *conn)
{
	bool room;

	spin_lock(&conn->lock);
	room = conn->dead || conn->nreqs < EIA_MAX_INFLIGHT;
	spin_unlock(&conn->lock);
	return room;
}

/*
 * eia_req_add(), waiting while the table is full. Every request in it has
 * a deadline, so the wait is bounded; a fatal signal ends it (-EINTR).
 */
static int eia_req_add_wait(struct eia_conn *conn, struct eia_req *req,
			    long timeo)
{
	int slot;

	while ((slot = eia_req_add(conn, req, timeo)) == -EBUSY) {
		if (wait_event_killable(conn->room_wait,
					eia_conn_has_room(conn)))
			return -EINTR;
	}
	return slot;
}

/*
 * Take the request in flight under @tag out of the table, with the
 * table's reference, or NULL: from then on only the caller completes it.
 */
static struct eia_req *eia_req_take(struct eia_conn *conn, u64 tag)
{
	struct eia_req *req;

	if (upper_32_bits(tag) != conn->gen)
		return NULL;
	spin_lock(&conn->lock);
	req = eia_req_at(conn, lower_32_bits(tag));
	if (req)
		eia_req_remove(conn, req->slot);
	spin_unlock(&conn->lock);
	if (req && wq_has_sleeper(&conn->room_wait))
		wake_up(&conn->room_wait);
	return req;
}

/* Take @req out of the table unless someone else did. */
static bool eia_req_claim(struct eia_conn *conn, struct eia_req *req)
{
	bool claimed;

	spin_lock(&conn->lock);
	claimed = eia_req_at(conn, req->slot) == req;
	if (claimed)
		eia_req_remove(conn, req->slot);
	spin_unlock(&conn->lock);
	if (claimed && wq_has_sleeper(&conn->room_wait))
		wake_up(&conn->room_wait);
	return claimed;
}

/* Give a request taken out of the table its result; drops the table's ref. */
static void eia_req_complete(struct eia_req *req, int result, u32 status)
{
	req->result = result;
	req->status = status;
	if (req->ops->done)
		req->ops->done(req);
	complete(&req->done);
	eia_req_put(req);
}

static void eia_req_finish(struct eia_conn *conn, struct eia_req *req,
			   int result, u32 status)
{
	if (eia_req_claim(conn, req))
		eia_req_complete(req, result, status);
}

/*
 * The submitter gives up on @req. Returns true when it got the request out
 * of the table first; otherwise the request is being completed right now.
 */
static bool eia_req_cancel(struct eia_conn *conn, struct eia_req *req)
{
	if (!eia_req_claim(conn, req))
		return false;
	eia_req_put(req);
	return true;
}

static bool eia_conn_mark_dead(struct eia_conn *conn)
{
	bool was_dead;

	spin_lock(&conn->lock);
	was_dead = conn->dead;
	conn->dead = true;
	spin_unlock(&conn->lock);
	return !was_dead;
}

/*
 * Fail every request in flight; call only once the connection is dead. They
 * are taken out under the lock and completed outside it, where their last
 * reference may go.
 */
static void eia_conn_fail_reqs(struct eia_conn *conn, int err)
{
	struct eia_req *req, *tmp;
	LIST_HEAD(failed);
	unsigned int slot;

	spin_lock(&conn->lock);
	for_each_set_bit(slot, conn->used, EIA_MAX_INFLIGHT) {
		list_add_tail(&conn->reqs[slot]->node, &failed);
		eia_req_remove(conn, slot);
	}
	spin_unlock(&conn->lock);
	wake_up_all(&conn->room_wait);

	list_for_each_entry_safe(req, tmp, &failed, node) {
		list_del_init(&req->node);
		eia_req_complete(req, err, 0);
	}
}

/*
 * The link died: end of stream, socket error, protocol violation or gpud not
 * answering. The first caller marks the device impaired, shuts the socket
 * down (which also wakes the receive worker), fails what is in flight with
 * -ENOLINK, and, if this is still the device's connection, logs it and
 * multicasts one LINK_DEAD event. Later callers do nothing.
 */
static void eia_conn_fail(struct eia_conn *conn, int cause, const char *why)
{
	struct eia_device *edev = conn->edev;
	char server[EIA_SERVER_NAME_MAX];
	bool current_conn;

	if (!eia_conn_mark_dead(conn))
		return;
	spin_lock(&edev->lock);
	current_conn = edev->conn == conn && !edev->detached;
	if (current_conn)
		edev->status = EIA_STATUS_IMPAIRED;
	strscpy(server, edev->server, sizeof(server));
	spin_unlock(&edev->lock);

	kernel_sock_shutdown(conn->sock, SHUT_RDWR);
	eia_conn_fail_reqs(conn, -ENOLINK);
	if (!current_conn)
		return;
	dev_info(&edev->dev, "link to %s dead: %s (%d); impaired until reattached\n",
		 server, why, cause);
	eia_nl_event(edev, EIA_CMD_EVENT_LINK_DEAD);
}

/*
 * Have the timeout work look at the table within @delay, unless it will
 * already. Under conn->lock and only while the connection is alive, so that
 * nothing arms it after eia_conn_stop() cancelled it.
 */
static void eia_conn_arm_timeout(struct eia_conn *conn, unsigned long delay)
{
	spin_lock(&conn->lock);
	if (!conn->dead && !delayed_work_pending(&conn->timeout_work)) {
		kref_get(&conn->kref);
		queue_delayed_work(eia_wq, &conn->timeout_work, delay);
	}
	spin_unlock(&conn->lock);
}

/*
 * Requests whose submitter does not wait (io_uring) or went away (killed)
 * still end in bounded time: the first request found past its deadline
 * fails with -ETIMEDOUT and declares the link dead, as a submitter's own
 * timeout does, which fails all the others. Otherwise the work comes back
 * at the earliest deadline.
 */
static void eia_conn_timeout_work(struct work_struct *work)
{
	struct eia_conn *conn = container_of(to_delayed_work(work),
					     struct eia_conn, timeout_work);
	struct eia_req *req, *late = NULL;
	unsigned long next = 0;
	bool pending = false;
	unsigned int slot;

	spin_lock(&conn->lock);
	for_each_set_bit(slot, conn->used, EIA_MAX_INFLIGHT) {
		req = conn->reqs[slot];
		/* Still being sent: the send itself is bounded. */
		if (!req->on_wire)
			continue;
		if (time_after_eq(jiffies, req->deadline)) {
			late = req;
			kref_get(&late->kref);
			break;
		}
		if (!pending || time_before(req->deadline, next))
			next = req->deadline;
		pending = true;
	}
	spin_unlock(&conn->lock);

	if (late) {
		eia_req_finish(conn, late, -ETIMEDOUT, 0);
		eia_conn_fail(conn, -ETIMEDOUT,
			      "gpud did not answer within the request timeout");
		eia_req_put(late);
	} else if (pending) {
		eia_conn_arm_timeout(conn, max_t(long, next - jiffies, 1));
	}
	eia_conn_put(conn);
}

/**
 * eia_conn_stop() - close a connection on purpose (detach, replacement)
 * @conn: the connection
 * @err: what requests still in flight fail with
 *
 * Fails what is in flight, shuts the socket down and waits for the receive
 * worker and the timeout work to finish. No event: the caller tells
 * userspace what happened.
 */
void eia_conn_stop(struct eia_conn *conn, int err)
{
	if (eia_conn_mark_dead(conn)) {
		kernel_sock_shutdown(conn->sock, SHUT_RDWR);
		eia_conn_fail_reqs(conn, err);
	}
	eia_rx_stop(conn);
	flush_work(&conn->rx_work);
	if (cancel_delayed_work_sync(&conn->timeout_work))
		eia_conn_put(conn);
}

static int eia_rx_error(int err, const char **why)
{
	switch (err) {
	case -ECONNRESET:
		*why = "gpud closed the connection";
		break;
	case -ETIMEDOUT:
		*why = "gpud stopped in the middle of a response";
		break;
	case -EBADMSG:
		*why = "gpud sent a TLS record that is not data";
		break;
	default:
		*why = "receive failed";
		break;
	}
	return err;
}

/**
 * eia_conn_bad_resp() - the receive worker found a protocol violation
 * @conn: the connection
 * @what: what was wrong
 * @why: Out: the reason the link dies
 *
 * Return: -EPROTO, for the receive worker to return.
 */
int eia_conn_bad_resp(struct eia_conn *conn, const char *what,
		      const char **why)
{
	dev_dbg_ratelimited(&conn->edev->dev, "protocol error: %s\n", what);
	*why = what;
	return -EPROTO;
}

/**
 * eia_conn_recv() - the socket's reader reads part of a response
 * @conn: the connection; the caller holds rx_lock
 * @req: the request the response answers: the read waits at most until its
 *	deadline (at least a jiffy: its response has begun); NULL for a
 *	header, which may take as long as it takes
 * @iter: where the bytes go, as many as it holds; first from what an
 *	earlier read brought in, then straight from the socket
 * @why: Out: the reason the link dies, on failure
 *
 * Return: 0 or a negative errno (the link dies).
 */
int eia_conn_recv(struct eia_conn *conn, const struct eia_req *req,
		  struct iov_iter *iter, const char **why)
{
	size_t n = min_t(size_t, conn->rx_len - conn->rx_pos,
			 iov_iter_count(iter));
	unsigned long deadline = 0;
	u64 received = 0;
	int err;

	lockdep_assert_held(&conn->rx_lock);
	if (n) {
		/* Kernel and pinned pages: a short copy is a bug. */
		if (WARN_ON_ONCE(copy_to_iter(conn->rxbuf + conn->rx_pos, n,
					      iter) != n))
			return eia_rx_error(-EFAULT, why);
		conn->rx_pos += n;
	}
	if (!iov_iter_count(iter))
		return 0;
	/*
	 * A response may start before its submitter has seen the send return:
	 * then the request has its whole timeout from now.
	 */
	if (req && !READ_ONCE(req->on_wire))
		deadline = jiffies + req->timeo;
	else if (req)
		deadline = time_after(req->deadline, jiffies) ? req->deadline :
								 jiffies + 1;
	err = eia_sock_recv_iter(conn->sock, iter, deadline, &received);
	/* A submitter reading its own response had a signal: see eia_rest. */
	if (err == -EINTR) {
		struct eia_rest rest = {
			.sock = conn->sock,
			.iter = iter,
			.deadline = deadline,
		};

		err = eia_rest_finish(&rest);
		received += rest.bytes;
	}
	atomic64_add(received, &conn->edev->bytes_received);
	return err ? eia_rx_error(err, why) : 0;
}

/* eia_conn_recv() into a buffer. */
static int eia_conn_recv_buf(struct eia_conn *conn, const struct eia_req *req,
			     void *buf, size_t len, const char **why)
{
	struct kvec vec = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_DEST, &vec, 1, len);
	return eia_conn_recv(conn, req, &iter, why);
}

/*
 * Whether a read may find anything: data queued (on kTLS, a record ready),
 * an error, the end of the stream. Lockless, and so cheaper than the read
 * that would find nothing after the last response of a drain. Data queued
 * after this looked wakes eia_rx_wake(), after the reader's
 * eia_rx_arm_missed(): eia_rx_unlock() then hands it to the worker.
 */
static bool eia_sock_may_read(struct sock *sk)
{
	return !skb_queue_empty_lockless(&sk->sk_receive_queue) ||
	       sk_is_readable(sk) || READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

/*
 * Read a response header. When nothing of it is there yet: with @wait, wait
 * until @deadline; without, return -EAGAIN at once. A read that brings in
 * the header brings whatever follows it too, up to EIA_RXBUF_SIZE.
 *
 * Returns 0; or, with *@why still NULL, nothing was read and the stream is
 * intact: -EAGAIN, -ETIMEDOUT (past @deadline) or -EINTR (a signal); or
 * another negative errno with *@why set: the link dies.
 */
static int eia_rx_hdr(struct eia_conn *conn, bool wait, unsigned long deadline,
		      struct eia_wire_hdr *whdr, const char **why)
{
	struct kvec vec = { .iov_base = conn->rxbuf, .iov_len = EIA_RXBUF_SIZE };
	struct iov_iter iter;
	int ret;

	if (conn->rx_pos == conn->rx_len) {
		if (!wait && !eia_sock_may_read(conn->sock->sk))
			return -EAGAIN;
		iov_iter_kvec(&iter, ITER_DEST, &vec, 1, EIA_RXBUF_SIZE);
		ret = eia_sock_recv_once(conn->sock, &iter, deadline, !wait);
		if (ret == -EAGAIN || ret == -ETIMEDOUT || ret == -EINTR)
			return ret;
		if (ret < 0)
			return eia_rx_error(ret, why);
		atomic64_add(ret, &conn->edev->bytes_received);
		conn->rx_pos = 0;
		conn->rx_len = ret;
	}
	/* Begun: the rest comes whatever it takes, like any payload. */
	return eia_conn_recv_buf(conn, NULL, whdr, sizeof(*whdr), why);
}

/* A refusal's payload: empty or a NUL-terminated message, only logged. */
static int eia_rx_refusal(struct eia_conn *conn, const struct eia_req *req,
			  const struct eia_hdr *hdr, const char **why)
{
	char msg[EIA_WIRE_ERRMSG_MAX];
	int err;

	if (hdr->payload_len > sizeof(msg))
		return eia_conn_bad_resp(conn, "error message too long", why);
	err = eia_conn_recv_buf(conn, req, msg, hdr->payload_len, why);
	if (err)
		return err;
	if (hdr->payload_len && !memchr(msg, 0, hdr->payload_len))
		return eia_conn_bad_resp(conn, "unterminated error message", why);
	dev_dbg_ratelimited(&conn->edev->dev, "gpud failed opcode %u: status %u: %s\n",
			    hdr->opcode, hdr->status,
			    hdr->payload_len ? msg : "");
	return 0;
}

/*
 * Read one response and complete its request; the caller holds rx_lock and
 * has set *@why to NULL. The request leaves the table as soon as its header
 * is read, so that nobody else can complete it while its payload (D2H data
 * in the submitter's pages) is still coming: a submit that completed never
 * has its memory written afterwards. The payload is read within the
 * request's deadline. Returns what eia_rx_hdr() does, or why the link dies.
 */
static int eia_rx_one(struct eia_conn *conn, bool wait, unsigned long deadline,
		      const char **why)
{
	struct eia_wire_hdr whdr;
	struct eia_req *req;
	struct eia_hdr hdr;
	int err;

	err = eia_rx_hdr(conn, wait, deadline, &whdr, why);
	if (err)
		return err;
	if (eia_hdr_unpack(&whdr, &hdr))
		return eia_conn_bad_resp(conn, "malformed header", why);
	if (!(hdr.flags & EIA_WIRE_F_RESPONSE))
		return eia_conn_bad_resp(conn, "gpud sent a request", why);

	req = eia_req_take(conn, hdr.tag);
	if (!req)
		return eia_conn_bad_resp(conn, "response with an unknown tag", why);
	if (req->opcode != hdr.opcode)
		err = eia_conn_bad_resp(conn, "response opcode differs from the request",
					why);
	else if (hdr.status)
		err = eia_rx_refusal(conn, req, &hdr, why);
	else
		err = req->ops->recv(conn, req, hdr.payload_len, why);
	/* Like every request of a dying link, when the response was bad. */
	eia_req_complete(req, err ? -ENOLINK : hdr.status ? -EIO : 0,
			 hdr.status);
	return err;
}

/*
 * Queue the receive worker, unless the receive side has stopped. The
 * worker's reference is taken first; dropping it again cannot free the
 * connection, whose receive side holds one while @rx_on.
 */
static void eia_rx_kick(struct eia_conn *conn)
{
	struct eia_req *reader;
	unsigned long flags;

	spin_lock_irqsave(&conn->rx_kick_lock, flags);
	reader = conn->rx_reader;
	if (conn->rx_on &&
	    (!reader || !reader->ops->read_in_task(conn, reader))) {
		kref_get(&conn->kref);
		if (!queue_work(eia_wq, &conn->rx_work))
			refcount_dec(&conn->kref.refcount);
	}
	spin_unlock_irqrestore(&conn->rx_kick_lock, flags);
}

/*
 * The socket's wait queue calls this when data, end of stream or an error
 * comes (on kTLS: a whole record). Whoever holds rx_lock reads anyway;
 * otherwise the worker does. @rx_missed covers the reader that is just
 * letting go: see eia_rx_unlock().
 */
static int eia_rx_wake(struct wait_queue_entry *wait, unsigned int mode,
		       int sync, void *key)
{
	struct eia_conn *conn = container_of(wait, struct eia_conn, rx_wait);
	__poll_t mask = key_to_poll(key);

	if (mask && !(mask & (EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP |
			      EPOLLERR)))
		return 0;
	WRITE_ONCE(conn->rx_missed, true);
	smp_mb();	/* pairs with eia_rx_unlock() and eia_rx_unlocked_missed() */
	if (!mutex_is_locked(&conn->rx_lock))
		eia_rx_kick(conn);
	return 0;
}

/*
 * Before a read that may find nothing: a wake-up from now on is one the
 * reader may have missed.
 */
static void eia_rx_arm_missed(struct eia_conn *conn)
{
	WRITE_ONCE(conn->rx_missed, false);
	smp_mb();	/* pairs with eia_rx_wake() */
}

/*
 * Stop reading. Data that came after the last read found the socket empty
 * set @rx_missed: either eia_rx_wake() saw rx_lock free and queued the
 * worker, or this sees the flag and does.
 */
static void eia_rx_unlock(struct eia_conn *conn)
{
	mutex_unlock(&conn->rx_lock);
	smp_mb();	/* pairs with eia_rx_wake() */
	if (READ_ONCE(conn->rx_missed))
		eia_rx_kick(conn);
}

/*
 * The receive side stops: no more wake-ups, no more queueing of the worker,
 * and its connection reference goes (never the last: the caller has one).
 */
static void eia_rx_stop(struct eia_conn *conn)
{
	unsigned long flags;
	bool was_on;

	spin_lock_irqsave(&conn->rx_kick_lock, flags);
	was_on = conn->rx_on;
	conn->rx_on = false;
	spin_unlock_irqrestore(&conn->rx_kick_lock, flags);
	if (!was_on)
		return;
	remove_wait_queue(sk_sleep(conn->sock->sk), &conn->rx_wait);
	eia_conn_put(conn);
}

/* A read failed: the link is dead, and nobody reads the socket again. */
static void eia_rx_fail(struct eia_conn *conn, int err, const char *why)
{
	eia_conn_fail(conn, err, why);
	eia_rx_stop(conn);
}

/*
 * Read every response that has arrived, up to the first not yet begun; the
 * caller holds rx_lock. A link that dies here is failed here.
 */
static void eia_rx_drain(struct eia_conn *conn)
{
	const char *why;
	int err;

	do {
		eia_rx_arm_missed(conn);
		why = NULL;
		err = eia_rx_one(conn, false, 0, &why);
	} while (!err);
	if (why)
		eia_rx_fail(conn, err, why);
}

/**
 * eia_conn_read() - read what has arrived, unless somebody else is reading
 * @conn: the connection; the caller holds a reference
 *
 * For the receive worker and for a reader's ->read_in_task. Whoever holds
 * the socket reads the rest too.
 */
void eia_conn_read(struct eia_conn *conn)
{
	if (mutex_trylock(&conn->rx_lock)) {
		eia_rx_drain(conn);
		eia_rx_unlock(conn);
	}
}

/* The receive worker; each queueing holds a connection reference. */
static void eia_conn_rx_work(struct work_struct *work)
{
	struct eia_conn *conn = container_of(work, struct eia_conn, rx_work);

	eia_conn_read(conn);
	eia_conn_put(conn);
}

/**
 * eia_conn_set_reader() - let a request's submitter read the socket
 * @conn: the connection
 * @req: a request it sent, with ->read_in_task
 *
 * An io_uring submitter waits in io_uring_enter(), where the driver cannot
 * reach it, and its completion goes through task work in its task anyway.
 * When data comes and nobody reads, @req's ->read_in_task has that task
 * read the socket instead of the receive worker: the completion then costs
 * one wake-up, not two. One such request per connection, until it leaves
 * the table; a request that already left is not taken.
 */
void eia_conn_set_reader(struct eia_conn *conn, struct eia_req *req)
{
	unsigned long flags;

	spin_lock(&conn->lock);
	if (!conn->rx_reader && eia_req_at(conn, req->slot) == req) {
		spin_lock_irqsave(&conn->rx_kick_lock, flags);
		conn->rx_reader = req;
		spin_unlock_irqrestore(&conn->rx_kick_lock, flags);
	}
	spin_unlock(&conn->lock);
}

/**
 * eia_conn_wait() - wait for the response to a request in flight
 * @conn: the connection; the caller holds a reference
 * @req: the request, put in flight by eia_conn_send()
 * @timeout: in jiffies, or MAX_SCHEDULE_TIMEOUT
 *
 * When nobody else is reading the socket, the waiter reads it, completing
 * what it finds as the receive worker would, until its own response is in:
 * then the response reaches its waiter without a hand-over between tasks,
 * which costs as much as the network round trip itself. Otherwise, or when
 * a signal or @timeout interrupts the reading, it waits for whoever reads.
 *
 * Return: as wait_for_completion_killable_timeout(): the jiffies left (at
 * least 1) once @req is complete, 0 when @timeout passed first, or
 * -ERESTARTSYS on a fatal signal. The request stays in flight unless
 * complete.
 */
long eia_conn_wait(struct eia_conn *conn, struct eia_req *req, long timeout)
{
	bool forever = timeout == MAX_SCHEDULE_TIMEOUT;
	/* Without a timeout of its own, the reader waits until the request's. */
	unsigned long deadline = forever ? req->deadline : jiffies + timeout;
	const char *why = NULL;
	int err = 0;

	if (!completion_done(&req->done) && mutex_trylock(&conn->rx_lock)) {
		do {
			eia_rx_arm_missed(conn);
			err = eia_rx_one(conn, true, deadline, &why);
		} while (!err && !completion_done(&req->done));
		if (why)
			eia_rx_fail(conn, err, why);
		else if (!err)
			eia_rx_drain(conn);
		eia_rx_unlock(conn);
	}
	if (forever)
		return wait_for_completion_killable(&req->done) ? -ERESTARTSYS : 1;
	return wait_for_completion_killable_timeout(&req->done,
						    max_t(long, deadline - jiffies, 0));
}

/**
 * eia_conn_bind() - tie a connection that passed its HELLO to its device
 * @conn: the connection
 * @edev: the device; the connection holds a device reference from now on
 *
 * Must come before the connection is published as edev->conn: requests
 * and the failure path use conn->edev.
 */
void eia_conn_bind(struct eia_conn *conn, struct eia_device *edev)
{
	get_device(&edev->dev);
	conn->edev = edev;
}

/**
 * eia_conn_start() - start the receive side of a bound connection
 * @conn: the connection, already published as its device's connection, so
 *	that a failure seen at once marks the device impaired
 *
 * From now on data arriving on the socket is read by a waiting submitter
 * or by the receive worker; the receive side holds a connection reference
 * until a read fails or eia_conn_stop().
 */
void eia_conn_start(struct eia_conn *conn)
{
	unsigned long flags;

	kref_get(&conn->kref);
	init_waitqueue_func_entry(&conn->rx_wait, eia_rx_wake);
	add_wait_queue(sk_sleep(conn->sock->sk), &conn->rx_wait);
	spin_lock_irqsave(&conn->rx_kick_lock, flags);
	conn->rx_on = true;
	spin_unlock_irqrestore(&conn->rx_kick_lock, flags);
	/* Responses may have come before the wait queue entry. */
	eia_rx_kick(conn);
}

/**
 * struct eia_plug - a corked connection, uncorked when the plug is flushed
 * @cb: on the task's block plug; blk_check_plugged() allocates it
 * @conn: the connection, with a reference; NULL until corked
 * @work: uncorks from a worker when the plug is flushed on schedule()
 */
struct eia_plug {
	struct blk_plug_cb cb;
	struct eia_conn *conn;
	struct work_struct work;
};

static void eia_plug_release(struct eia_plug *plug)
{
	struct eia_conn *conn = plug->conn;

	mutex_lock(&conn->tx_lock);
	if (!--conn->corks)
		tcp_sock_set_cork(conn->sock->sk, false);
	mutex_unlock(&conn->tx_lock);
	eia_conn_put(conn);
	kfree(plug);
}

static void eia_plug_work(struct work_struct *work)
{
	eia_plug_release(container_of(work, struct eia_plug, work));
}

/*
 * The plug is flushed: at the end of io_uring's submission, or when the
 * task is about to sleep, where it must not take a mutex itself.
 */
static void eia_unplug(struct blk_plug_cb *cb, bool from_schedule)
{
	struct eia_plug *plug = container_of(cb, struct eia_plug, cb);

	if (from_schedule) {
		INIT_WORK(&plug->work, eia_plug_work);
		queue_work(eia_wq, &plug->work);
		return;
	}
	eia_plug_release(plug);
}

/**
 * eia_conn_cork_plugged() - hold back sends until the task's plug is flushed
 * @conn: the connection
 *
 * io_uring plugs the task while it issues more than two submissions at
 * once. Corking the socket for that long makes the batch one write on the
 * wire instead of one segment per command buffer, and gpud reads it in one
 * go. A single submission is not plugged and leaves at once. Other senders
 * on the connection meanwhile wait for the flush too: at most until the
 * submitting task finishes the batch or sleeps. Without a plug, or without
 * memory for the callback, nothing is held back.
 */
void eia_conn_cork_plugged(struct eia_conn *conn)
{
	struct blk_plug_cb *cb = blk_check_plugged(eia_unplug, conn,
						   sizeof(struct eia_plug));
	struct eia_plug *plug;

	if (!cb)
		return;
	plug = container_of(cb, struct eia_plug, cb);
	if (plug->conn)
		return;
	kref_get(&conn->kref);
	plug->conn = conn;
	mutex_lock(&conn->tx_lock);
	if (!conn->corks++)
		tcp_sock_set_cork(conn->sock->sk, true);
	mutex_unlock(&conn->tx_lock);
}

/**
 * eia_conn_send() - put a request in flight
 * @conn: the connection
 * @req: the request, from eia_req_init(); the caller keeps its reference
 * @vec: the message: @vec[0] is set here to the wire header, the entries
 *	after it hold the payload
 * @nvec: entries in @vec
 * @payload_len: bytes of payload in @vec[1..]
 * @timeout_ms: the response must come within this, or the link dies
 * @wait: while the connection has EIA_MAX_INFLIGHT requests in flight,
 *	wait (killable) for room instead of failing with -EBUSY
 *
 * The whole message is on the socket when this returns; the caller's
 * buffers are free again.
 *
 * Return: 0 when the request is in flight, or was already failed by
 * someone else: ->done and the completion come exactly once either way.
 * Otherwise the request never was in flight (or is abandoned: the link is
 * dead) and nothing more happens to it: -ENOLINK (link dead), -EBUSY,
 * -EINTR (fatal signal), -ETIMEDOUT (gpud stopped reading) or -ENOMEM.
 */
int eia_conn_send(struct eia_conn *conn, struct eia_req *req,
		  struct kvec *vec, unsigned int nvec, u32 payload_len,
		  u32 timeout_ms, bool wait)
{
	struct eia_device *edev = conn->edev;
	long timeo = msecs_to_jiffies(timeout_ms);
	struct msghdr msg = {};
	struct eia_wire_hdr hdr;
	u64 sent = 0;
	bool mine;
	int slot;
	int err;

	slot = wait ? eia_req_add_wait(conn, req, timeo) :
		      eia_req_add(conn, req, timeo);
	if (slot < 0)
		return slot;

	atomic64_inc(&edev->requests);
	if (mutex_lock_killable(&conn->tx_lock))
		return eia_req_cancel(conn, req) ? -EINTR : 0;
	eia_wire_hdr_init(&hdr, req->opcode, eia_tag(conn, slot), payload_len);
	vec[0].iov_base = &hdr;
	vec[0].iov_len = sizeof(hdr);
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, vec, nvec,
		      sizeof(hdr) + payload_len);
	err = eia_conn_xmit(conn, &msg, timeo, &sent);
	mutex_unlock(&conn->tx_lock);
	atomic64_add(sent, &edev->bytes_sent);

	if (!err) {
		eia_req_sent(conn, req);
		eia_conn_arm_timeout(conn, max_t(long, timeo, 1));
		return 0;
	}
	if (err == -EINTR)
		return eia_req_cancel(conn, req) ? -EINTR : 0;

	/* The stream may hold part of the message: the link is lost. */
	mine = eia_req_cancel(conn, req);
	if (err != -ETIMEDOUT)
		err = -ENOLINK;
	eia_conn_fail(conn, err, err == -ETIMEDOUT ?
		      "gpud stopped reading requests" : "send failed");
	return mine ? err : 0;
}

static int eia_call_recv(struct eia_conn *conn, struct eia_req *req, u32 len,
			 const char **why)
{
	struct eia_call_req *creq = container_of(req, struct eia_call_req, req);
	int err;

	if (len > creq->resp_cap)
		return eia_conn_bad_resp(conn, "response payload too long", why);
	err = eia_conn_recv_buf(conn, req, creq->resp, len, why);
	if (!err)
		creq->resp_len = len;
	return err;
}

static void eia_call_release(struct eia_req *req)
{
	kfree(container_of(req, struct eia_call_req, req));
}

static const struct eia_req_ops eia_call_ops = {
	.recv = eia_call_recv,
	.release = eia_call_release,
};

/*
 * Send one request on @conn and wait for its response. A timeout declares
 * the link dead; a fatal signal leaves the request to the receive worker.
 */
static int __eia_conn_call(struct eia_conn *conn, struct eia_call *call)
{
	struct kvec vec[2] = {
		[1] = { .iov_base = (void *)call->payload,
			.iov_len = call->payload_len },
	};
	struct eia_call_req *creq;
	long left;
	int err;

	if (WARN_ON_ONCE(call->resp_cap > EIA_RESP_MAX))
		return -EINVAL;
	creq = kzalloc(sizeof(*creq), GFP_KERNEL);
	if (!creq)
		return -ENOMEM;
	eia_req_init(&creq->req, &eia_call_ops, call->opcode);
	creq->resp_cap = call->resp_cap;

	err = eia_conn_send(conn, &creq->req, vec, call->payload_len ? 2 : 1,
			    call->payload_len, call->timeout_ms, call->wait);
	if (err)
		goto out_put;

	left = eia_conn_wait(conn, &creq->req,
			     max_t(long, creq->req.deadline - jiffies, 1));
	if (left > 0) {
		err = creq->req.result;
	} else if (left == 0) {
		if (eia_req_cancel(conn, &creq->req)) {
			err = -ETIMEDOUT;
			eia_conn_fail(conn, err, call->health ?
				      "gpud did not answer a health check in time" :
				      "gpud did not answer within the request timeout");
		} else {
			wait_for_completion(&creq->req.done);
			err = creq->req.result;
		}
	} else {
		/* Killed: the table keeps the request for its late response. */
		err = -EINTR;
	}
	if (!err) {
		memcpy(call->resp, creq->resp, creq->resp_len);
		call->resp_len = creq->resp_len;
	}
	call->status = err == -EIO ? creq->req.status : 0;
out_put:
	eia_req_put(&creq->req);
	return err;
}

/**
 * eia_conn_call() - one synchronous request with a small response
 * @conn: the connection
 * @call: the request, and where its response goes
 *
 * Return: 0; -EIO when gpud refused (@call->status says why); -ENOLINK,
 * -ETIMEDOUT, -EBUSY, -EINTR or -ENOMEM. Failures are counted in the
 * device's errors, except -EINTR.
 */
int eia_conn_call(struct eia_conn *conn, struct eia_call *call)
{
	int err = __eia_conn_call(conn, call);

	if (err && err != -EINTR)
		atomic64_inc(&conn->edev->errors);
	return err;
}

/*
 * The device's connection with a reference, and its request timeout. With
 * @healthy_only, NULL unless the device is healthy (for the health check).
 */
struct eia_conn *eia_dev_conn_get(struct eia_device *edev, bool healthy_only,
				  u32 *timeout_ms)
{
	struct eia_conn *conn = NULL;

	spin_lock(&edev->lock);
	if (!edev->detached &&
	    (!healthy_only || edev->status == EIA_STATUS_HEALTHY)) {
		conn = edev->conn;
		kref_get(&conn->kref);
		*timeout_ms = edev->timeout_ms;
	}
	spin_unlock(&edev->lock);
	return conn;
}

/* One PING round trip; the echoed cookie must be the one sent. */
static int eia_conn_ping(struct eia_conn *conn, bool health, u64 cookie,
			 u32 delay_ms, u32 timeout_ms, u64 *rtt_ns)
{
	struct eia_wire_ping ping = {
		.cookie = cpu_to_le64(cookie),
		.delay_ms = cpu_to_le32(delay_ms),
	};
	struct eia_wire_ping pong;
	struct eia_call call = {
		.health = health,
		.opcode = EIA_MSG_PING,
		.payload = &ping,
		.payload_len = sizeof(ping),
		.resp = &pong,
		.resp_cap = sizeof(pong),
		.timeout_ms = timeout_ms,
	};
	u64 start = ktime_get_ns();
	int err;

	err = eia_conn_call(conn, &call);
	if (err)
		return err;
	*rtt_ns = ktime_get_ns() - start;
	if (call.resp_len != sizeof(pong) || le64_to_cpu(pong.cookie) != cookie) {
		dev_dbg_ratelimited(&conn->edev->dev, "PING answered with a wrong cookie or length\n");
		atomic64_inc(&conn->edev->errors);
		return -EPROTO;
	}
	return 0;
}

/**
 * eia_dev_ping() - EIA_IOCTL_PING: one round trip to gpud
 * @edev: the device
 * @cookie: value gpud must echo
 * @delay_ms: how long gpud waits before answering
 * @rtt_ns: Out: round-trip time
 *
 * Return: 0, -ENODEV (detached), -ENOLINK (link dead), -ETIMEDOUT, -EPROTO,
 * -EIO (gpud refused), -EINTR or -ENOMEM.
 */
int eia_dev_ping(struct eia_device *edev, u64 cookie, u32 delay_ms,
		 u64 *rtt_ns)
{
	struct eia_conn *conn;
	u32 timeout_ms;
	int err;

	conn = eia_dev_conn_get(edev, false, &timeout_ms);
	if (!conn)
		return -ENODEV;
	err = eia_conn_ping(conn, false, cookie, delay_ms, timeout_ms, rtt_ns);
	eia_conn_put(conn);
	return err;
}

/* Queue the health check; a queued or running check holds a device reference. */
void eia_health_arm(struct eia_device *edev, unsigned long delay)
{
	get_device(&edev->dev);
	if (!queue_delayed_work(eia_wq, &edev->health_work, delay))
		put_device(&edev->dev);
}

static void eia_health_check(struct eia_device *edev)
{
	struct eia_conn *conn;
	u32 timeout_ms;
	u64 rtt;
	int err;

	conn = eia_dev_conn_get(edev, true, &timeout_ms);
	if (!conn)
		return;
	err = eia_conn_ping(conn, true, get_random_u64(), 0,
			    min_t(u32, timeout_ms, EIA_HEALTH_TIMEOUT_MS), &rtt);
	/* Timeouts and dead links are handled already; gpud answering wrong is not. */
	if (err == -EIO || err == -EPROTO)
		eia_conn_fail(conn, err, "health check failed");
	eia_conn_put(conn);
}

/* The periodic health check: a PING while the device is healthy. */
void eia_health_work(struct work_struct *work)
{
	struct eia_device *edev = container_of(to_delayed_work(work),
					       struct eia_device, health_work);
	bool detached;

	eia_health_check(edev);
	spin_lock(&edev->lock);
	detached = edev->detached;
	spin_unlock(&edev->lock);
	if (!detached)
		eia_health_arm(edev, msecs_to_jiffies(eia_health_interval_ms));
	put_device(&edev->dev);
}
