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
 */

#include <linux/err.h>
#include <linux/file.h>
#include <linux/in.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <net/sock.h>
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
 * struct eia_req - one request waiting for its response
 * @kref: the submitter's reference, and the request table's while the
 *	request is in it. Whoever removes the request from the table (the
 *	receive worker, a timed-out submitter or the link-death path) sets
 *	@result, completes @done and drops the table's reference.
 * @done: completed once, with @result and @resp_len set
 * @opcode: what the response must echo
 * @resp_cap: longest successful response payload accepted
 * @resp_len: length of the response payload in @resp
 * @result: 0 or a negative errno
 * @resp: response payload (or gpud's error message)
 *
 * The request lives on the heap so that a submitter killed by a signal can
 * leave it in the table: its late response is then read and dropped instead
 * of looking like an unknown tag.
 */
struct eia_req {
	struct kref kref;
	struct completion done;
	u16 opcode;
	u32 resp_cap;
	u32 resp_len;
	int result;
	u8 resp[EIA_RESP_MAX];
};

/* One request to send and the response it expects. */
struct eia_call {
	bool health;
	u16 opcode;
	const void *payload;
	u32 payload_len;
	void *resp;
	u32 resp_cap;
	u32 resp_len;
	u32 timeout_ms;
};

/* Every connection, so that one socket never serves two of them. */
static LIST_HEAD(eia_conns);
static DEFINE_SPINLOCK(eia_conns_lock);
static atomic_t eia_conn_gen = ATOMIC_INIT(0);

static void eia_conn_rx_work(struct work_struct *work);

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

/*
 * Send one whole message. Returns 0; -EINTR when a signal came before any
 * byte left (the stream is intact); -ETIMEDOUT when the send buffer stayed
 * full for @timeo; another negative errno otherwise. After any error but
 * -EINTR the stream may hold a partial message and the connection is lost.
 */
static int eia_sock_send(struct socket *sock, u16 opcode, u64 tag,
			 const void *payload, u32 len, long timeo, u64 *sent)
{
	struct eia_wire_hdr hdr = {
		.magic = cpu_to_le32(EIA_WIRE_MAGIC),
		.version = cpu_to_le16(EIA_WIRE_VERSION),
		.opcode = cpu_to_le16(opcode),
		.tag = cpu_to_le64(tag),
		.payload_len = cpu_to_le32(len),
	};
	struct kvec vec[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr msg = {};
	size_t done = 0;
	int ret = 0;

	WRITE_ONCE(sock->sk->sk_sndtimeo, timeo);
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, vec, len ? 2 : 1,
		      sizeof(hdr) + len);
	while (msg_data_left(&msg)) {
		msg.msg_flags = MSG_NOSIGNAL;
		ret = sock_sendmsg(sock, &msg);
		if (ret <= 0)
			break;
		done += ret;
	}
	*sent += done;
	if (!msg_data_left(&msg))
		return 0;
	if (ret == 0)
		return -EPIPE;
	if (ret == -EAGAIN)
		return -ETIMEDOUT;
	if ((ret == -ERESTARTSYS || ret == -EINTR) && !done)
		return -EINTR;
	return ret;
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
 * Read exactly @len bytes with sock_recvmsg(), never ->read_sock, so that it
 * works on a kTLS socket too: a control buffer receives the TLS record type,
 * and a record that is not application data (an alert, a post-handshake
 * message) is a protocol error. On plain TCP no control message arrives.
 *
 * With a @deadline (in jiffies) each read waits at most until then; without
 * one (0) it waits for as long as the socket's receive timeout says.
 *
 * Returns 0, -ECONNRESET on end of stream, -ETIMEDOUT past the deadline,
 * -EBADMSG for a non-data TLS record, or the socket's error.
 */
static int eia_sock_recv(struct socket *sock, void *buf, size_t len,
			 unsigned long deadline, u64 *received)
{
	union {
		struct cmsghdr hdr;
		u8 space[CMSG_SPACE(sizeof(u8))];
	} ctl;
	struct kvec vec = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};
	long left;
	int ret;

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &vec, 1, len);
	while (msg_data_left(&msg)) {
		if (deadline) {
			left = (long)(deadline - jiffies);
			if (left <= 0)
				return -ETIMEDOUT;
			WRITE_ONCE(sock->sk->sk_rcvtimeo, left);
		}
		msg.msg_control = &ctl;
		msg.msg_controllen = sizeof(ctl);
		msg.msg_control_is_user = false;
		msg.msg_flags = 0;
		ret = sock_recvmsg(sock, &msg, MSG_NOSIGNAL);
		if (ret == -EAGAIN)
			return -ETIMEDOUT;
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -ECONNRESET;
		*received += ret;
		if (msg.msg_flags & MSG_CTRUNC)
			return -EBADMSG;
		if (msg.msg_controllen != sizeof(ctl) &&
		    !eia_tls_data_record(&ctl.hdr))
			return -EBADMSG;
	}
	return 0;
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

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return ERR_PTR(-ENOMEM);
	kref_init(&conn->kref);
	conn->sock = sock;
	conn->gen = atomic_inc_return(&eia_conn_gen);
	mutex_init(&conn->tx_lock);
	spin_lock_init(&conn->lock);
	idr_init(&conn->reqs);
	INIT_WORK(&conn->rx_work, eia_conn_rx_work);

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
		mutex_destroy(&conn->tx_lock);
		kfree(conn);
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
	idr_destroy(&conn->reqs);
	mutex_destroy(&conn->tx_lock);
	kfree(conn);
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

static void eia_req_release(struct kref *kref)
{
	kfree(container_of(kref, struct eia_req, kref));
}

static void eia_req_put(struct eia_req *req)
{
	kref_put(&req->kref, eia_req_release);
}

/* Put @req in the table; the table takes a reference. Returns the slot. */
static int eia_req_add(struct eia_conn *conn, struct eia_req *req)
{
	int slot;

	idr_preload(GFP_KERNEL);
	spin_lock(&conn->lock);
	if (conn->dead) {
		slot = -ENOLINK;
	} else {
		slot = idr_alloc_cyclic(&conn->reqs, req, 0, EIA_MAX_INFLIGHT,
					GFP_NOWAIT);
		if (slot >= 0)
			kref_get(&req->kref);
		else if (slot == -ENOSPC)
			slot = -EBUSY;
	}
	spin_unlock(&conn->lock);
	idr_preload_end();
	return slot;
}

/* The request in flight under @tag, with a reference, or NULL. */
static struct eia_req *eia_req_lookup(struct eia_conn *conn, u64 tag)
{
	struct eia_req *req;

	if (upper_32_bits(tag) != conn->gen)
		return NULL;
	spin_lock(&conn->lock);
	req = idr_find(&conn->reqs, lower_32_bits(tag));
	if (req)
		kref_get(&req->kref);
	spin_unlock(&conn->lock);
	return req;
}

/* Take @req out of the table unless someone else did. */
static bool eia_req_claim(struct eia_conn *conn, struct eia_req *req, u32 slot)
{
	bool claimed;

	spin_lock(&conn->lock);
	claimed = idr_find(&conn->reqs, slot) == req;
	if (claimed)
		idr_remove(&conn->reqs, slot);
	spin_unlock(&conn->lock);
	return claimed;
}

static void eia_req_finish(struct eia_conn *conn, struct eia_req *req,
			   u32 slot, int result, u32 resp_len)
{
	if (!eia_req_claim(conn, req, slot))
		return;
	req->resp_len = resp_len;
	req->result = result;
	complete(&req->done);
	eia_req_put(req);
}

/*
 * The submitter gives up on @req with @err. Returns @err when it got the
 * request out of the table first; otherwise the request is being completed
 * right now and its result is returned.
 */
static int eia_req_abort(struct eia_conn *conn, struct eia_req *req, u32 slot,
			 int err)
{
	if (eia_req_claim(conn, req, slot)) {
		eia_req_put(req);
		return err;
	}
	wait_for_completion(&req->done);
	return req->result;
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

/* Fail every request in flight; call only once the connection is dead. */
static void eia_conn_fail_reqs(struct eia_conn *conn, int err)
{
	struct eia_req *req;
	int slot;

	spin_lock(&conn->lock);
	idr_for_each_entry(&conn->reqs, req, slot) {
		idr_remove(&conn->reqs, slot);
		req->result = err;
		complete(&req->done);
		eia_req_put(req);
	}
	spin_unlock(&conn->lock);
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

/**
 * eia_conn_stop() - close a connection on purpose (detach, replacement)
 * @conn: the connection
 * @err: what requests still in flight fail with
 *
 * Fails what is in flight, shuts the socket down and waits for the receive
 * worker to finish. No event: the caller tells userspace what happened.
 */
void eia_conn_stop(struct eia_conn *conn, int err)
{
	if (eia_conn_mark_dead(conn)) {
		kernel_sock_shutdown(conn->sock, SHUT_RDWR);
		eia_conn_fail_reqs(conn, err);
	}
	flush_work(&conn->rx_work);
}

static int eia_rx_error(int err, const char **why)
{
	switch (err) {
	case -ECONNRESET:
		*why = "gpud closed the connection";
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

static int eia_rx_garbage(struct eia_conn *conn, const char *what,
			  const char **why)
{
	dev_dbg_ratelimited(&conn->edev->dev, "protocol error: %s\n", what);
	*why = what;
	return -EPROTO;
}

/* Read one response and complete its request. Returns 0 or why it failed. */
static int eia_rx_one(struct eia_conn *conn, const char **why)
{
	struct eia_device *edev = conn->edev;
	struct eia_wire_hdr whdr;
	struct eia_req *req;
	struct eia_hdr hdr;
	u64 received = 0;
	u32 cap;
	int err;

	err = eia_sock_recv(conn->sock, &whdr, sizeof(whdr), 0, &received);
	atomic64_add(received, &edev->bytes_received);
	if (err)
		return eia_rx_error(err, why);
	if (eia_hdr_unpack(&whdr, &hdr))
		return eia_rx_garbage(conn, "malformed header", why);
	if (!(hdr.flags & EIA_WIRE_F_RESPONSE))
		return eia_rx_garbage(conn, "gpud sent a request", why);

	req = eia_req_lookup(conn, hdr.tag);
	if (!req)
		return eia_rx_garbage(conn, "response with an unknown tag", why);
	if (req->opcode != hdr.opcode) {
		err = eia_rx_garbage(conn, "response opcode differs from the request", why);
		goto out_put;
	}
	cap = hdr.status ? EIA_WIRE_ERRMSG_MAX : req->resp_cap;
	if (hdr.payload_len > cap) {
		err = eia_rx_garbage(conn, "response payload too long", why);
		goto out_put;
	}

	received = 0;
	err = eia_sock_recv(conn->sock, req->resp, hdr.payload_len, 0, &received);
	atomic64_add(received, &edev->bytes_received);
	if (err) {
		eia_rx_error(err, why);
		goto out_put;
	}
	if (hdr.status) {
		if (hdr.payload_len && !memchr(req->resp, 0, hdr.payload_len)) {
			err = eia_rx_garbage(conn, "unterminated error message", why);
			goto out_put;
		}
		dev_dbg_ratelimited(&edev->dev, "gpud failed opcode %u: status %u: %s\n",
				    hdr.opcode, hdr.status,
				    hdr.payload_len ? (char *)req->resp : "");
	}
	eia_req_finish(conn, req, lower_32_bits(hdr.tag),
		       hdr.status ? -EIO : 0, hdr.payload_len);
out_put:
	eia_req_put(req);
	return err;
}

/* The receive worker: one per connection, holding a connection reference. */
static void eia_conn_rx_work(struct work_struct *work)
{
	struct eia_conn *conn = container_of(work, struct eia_conn, rx_work);
	const char *why = NULL;
	int err;

	do {
		err = eia_rx_one(conn, &why);
	} while (!err);
	eia_conn_fail(conn, err, why);
	eia_conn_put(conn);
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
 * eia_conn_start() - start the receive worker of a bound connection
 * @conn: the connection, already published as its device's connection, so
 *	that a failure the worker sees at once marks the device impaired
 *
 * The worker holds a connection reference while it runs.
 */
void eia_conn_start(struct eia_conn *conn)
{
	/* The worker blocks until data, end of stream or shutdown. */
	WRITE_ONCE(conn->sock->sk->sk_rcvtimeo, MAX_SCHEDULE_TIMEOUT);
	kref_get(&conn->kref);
	queue_work(eia_wq, &conn->rx_work);
}

/*
 * Send one request on @conn and wait for its response. A timeout declares
 * the link dead; a fatal signal leaves the request to the receive worker.
 */
static int __eia_conn_call(struct eia_conn *conn, struct eia_call *call)
{
	struct eia_device *edev = conn->edev;
	long timeo = msecs_to_jiffies(call->timeout_ms);
	unsigned long deadline = jiffies + timeo;
	struct eia_req *req;
	u64 sent = 0;
	long left;
	int slot;
	int err;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	kref_init(&req->kref);
	init_completion(&req->done);
	req->opcode = call->opcode;
	req->resp_cap = call->resp_cap;

	slot = eia_req_add(conn, req);
	if (slot < 0) {
		err = slot;
		goto out_put;
	}

	atomic64_inc(&edev->requests);
	if (mutex_lock_killable(&conn->tx_lock)) {
		err = eia_req_abort(conn, req, slot, -EINTR);
		goto out_put;
	}
	err = eia_sock_send(conn->sock, call->opcode, eia_tag(conn, slot),
			    call->payload, call->payload_len, timeo, &sent);
	mutex_unlock(&conn->tx_lock);
	atomic64_add(sent, &edev->bytes_sent);
	if (err == -EINTR) {
		err = eia_req_abort(conn, req, slot, -EINTR);
		goto out_put;
	}
	if (err) {
		err = eia_req_abort(conn, req, slot,
				    err == -ETIMEDOUT ? -ETIMEDOUT : -ENOLINK);
		eia_conn_fail(conn, err, err == -ETIMEDOUT ?
			      "gpud stopped reading requests" : "send failed");
		goto out_put;
	}

	left = wait_for_completion_killable_timeout(&req->done,
						    max_t(long, deadline - jiffies, 1));
	if (left > 0) {
		err = req->result;
	} else if (left == 0) {
		err = eia_req_abort(conn, req, slot, -ETIMEDOUT);
		if (err == -ETIMEDOUT)
			eia_conn_fail(conn, err, call->health ?
				      "gpud did not answer a health check in time" :
				      "gpud did not answer within the request timeout");
	} else {
		/* Killed: the table keeps the request for its late response. */
		err = -EINTR;
	}
	if (!err) {
		memcpy(call->resp, req->resp, req->resp_len);
		call->resp_len = req->resp_len;
	}
out_put:
	eia_req_put(req);
	return err;
}

static int eia_conn_call(struct eia_conn *conn, struct eia_call *call)
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
static struct eia_conn *eia_dev_conn_get(struct eia_device *edev,
					 bool healthy_only, u32 *timeout_ms)
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
