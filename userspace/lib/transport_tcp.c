// SPDX-License-Identifier: MIT
/*
 * tcp:// devices: libeia speaks the wire protocol to gpud itself, on a
 * connection of its own: HELLO, CTX_CREATE, then one SUBMIT per command
 * buffer. H2D data is sent from the caller's memory (no staging copy) and
 * D2H data is read straight into it, but for pieces smaller than the
 * receive buffer (struct eiaDevice: rx_buf): responses are read through it,
 * so that a small one (header, fixed part, results) costs one read().
 *
 * Each flush waits for its buffer's response, but the buffers of several
 * threads (each flushing its own stream) are in flight at once, pipelined
 * by tag: gpud runs them on the streams' queues side by side and answers
 * each when it is done. A thread that waits reads whatever response comes
 * next, into the buffer of whichever thread it belongs to (struct
 * tcp_pending), while the others sleep; one thread at a time sends.
 *
 * A connection that failed mid-message is out of step for good: the device
 * then fails every request with the error that broke it.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libeia.h"
#include "wire.h"

#define EIA_TCP_PREFIX		"tcp://"
#define EIA_TCP_TIMEOUT_MIN_MS	100
#define EIA_TCP_TIMEOUT_MAX_MS	3600000
/* The smallest max_payload a HELLO may grant (as eia.ko requires). */
#define EIA_TCP_MIN_MAX_PAYLOAD	4096
/* The largest errno, as the kernel's MAX_ERRNO: statuses are errnos. */
#define EIA_TCP_MAX_ERRNO	4095

static const char fn_open[] = "eiaDeviceOpen";

/* What a tcp:// URL says. */
struct tcp_url {
	char host[256];
	char port[8];
	char type[EIA_TYPE_NAME_MAX];
	int timeout_ms;
};

static bool type_name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len >= EIA_TYPE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* A decimal number in [min, max] spanning exactly @len characters. */
static bool parse_num(const char *s, size_t len, long min, long max, long *out)
{
	long v = 0;
	size_t i;

	if (!len || len > 9)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* One "key=value" of the query, @len characters at @s. */
static eiaError_t parse_param(const char *url, const char *s, size_t len,
			      struct tcp_url *u)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	const char *v = eq ? eq + 1 : s + len;
	size_t vlen = (size_t)(s + len - v);
	long n;

	if (klen == 4 && !memcmp(s, "type", 4)) {
		if (!type_name_ok(v, vlen))
			return eia_fail(fn_open, EIA_ERROR_INVALID_VALUE, EINVAL,
					"%s: type must be 1 to %d characters of a-z, 0-9, '.' and '-'",
					url, EIA_TYPE_NAME_MAX - 1);
		memcpy(u->type, v, vlen);
		u->type[vlen] = '\0';
		return EIA_SUCCESS;
	}
	if (klen == 10 && !memcmp(s, "timeout_ms", 10)) {
		if (!parse_num(v, vlen, EIA_TCP_TIMEOUT_MIN_MS, EIA_TCP_TIMEOUT_MAX_MS, &n))
			return eia_fail(fn_open, EIA_ERROR_INVALID_VALUE, EINVAL,
					"%s: timeout_ms must be %d to %d", url,
					EIA_TCP_TIMEOUT_MIN_MS, EIA_TCP_TIMEOUT_MAX_MS);
		u->timeout_ms = (int)n;
		return EIA_SUCCESS;
	}
	return eia_fail(fn_open, EIA_ERROR_INVALID_VALUE, EINVAL,
			"%s: unknown parameter '%.*s' (known: type, timeout_ms)",
			url, (int)klen, s);
}

/* tcp://HOST[:PORT][?type=TYPE][&timeout_ms=MS]; HOST may be [IPv6]. */
static eiaError_t parse_url(const char *url, struct tcp_url *u)
{
	const char *p = url + strlen(EIA_TCP_PREFIX), *end, *q;
	size_t hlen;
	long port;
	eiaError_t err;

	memset(u, 0, sizeof(*u));
	snprintf(u->port, sizeof(u->port), "%d", EIA_WIRE_DEFAULT_PORT);
	snprintf(u->type, sizeof(u->type), "%s", EIA_TCP_DEFAULT_TYPE);
	u->timeout_ms = EIA_TCP_DEFAULT_TIMEOUT_MS;

	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return eia_fail(fn_open, EIA_ERROR_INVALID_VALUE, EINVAL,
					"%s: unterminated '[' in the host", url);
		hlen = (size_t)(end - p - 1);
		memcpy(u->host, p + 1, hlen < sizeof(u->host) ? hlen : 0);
		p = end + 1;
	} else {
		hlen = strcspn(p, ":?/");
		memcpy(u->host, p, hlen < sizeof(u->host) ? hlen : 0);
		p += hlen;
	}
	if (!hlen || hlen >= sizeof(u->host))
		return eia_fail(fn_open, EIA_ERROR_INVALID_VALUE, EINVAL,
				"%s: the host must have 1 to %zu characters", url,
				sizeof(u->host) - 1);
	u->host[hlen] = '\0';
	if (*p == ':') {
		p++;
		hlen = strcspn(p, "?");
		if (!parse_num(p, hlen, 1, 65535, &port))
			return eia_fail(fn_open, EIA_ERROR_INVALID_VALUE, EINVAL,
					"%s: the port must be a number from 1 to 65535", url);
		snprintf(u->port, sizeof(u->port), "%ld", port);
		p += hlen;
	}
	if (*p && *p != '?')
		return eia_fail(fn_open, EIA_ERROR_INVALID_VALUE, EINVAL,
				"%s: unexpected '%s' after the host (expected tcp://HOST[:PORT][?type=TYPE])",
				url, p);
	if (*p == '?') {
		for (p++; ; p = q + 1) {
			q = p + strcspn(p, "&");
			err = parse_param(url, p, (size_t)(q - p), u);
			if (err)
				return err;
			if (!*q)
				break;
		}
	}
	return EIA_SUCCESS;
}

/* Connect to one address with the device's timeouts; the fd or -errno. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	int one = 1, fd, err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	/* SO_SNDTIMEO also bounds connect(). */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		err = errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
		close(fd);
		return err;
	}
	return fd;
}

static eiaError_t tcp_connect(struct eiaDevice *dev, const char *url,
			      const struct tcp_url *u)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *res, *ai;
	int ret, fd = -ECONNREFUSED;

	ret = getaddrinfo(u->host, u->port, &hints, &res);
	if (ret)
		return eia_fail(fn_open, EIA_ERROR_UNKNOWN_HOST, 0, "%s: cannot resolve '%s': %s",
				url, u->host, gai_strerror(ret));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, u->timeout_ms);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return eia_fail_errno(fn_open, fd, "%s: cannot connect to %s port %s: %s",
				      url, u->host, u->port, strerror(-fd));
	dev->sock = fd;
	return EIA_SUCCESS;
}

/* An I/O error as the device reports it: a receive timeout is ETIMEDOUT. */
static int io_error(int err)
{
	return err == -EAGAIN || err == -EWOULDBLOCK ? -ETIMEDOUT : err;
}

/* One read() of at most @len bytes, retried on EINTR: how many, or -errno. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return io_error(-errno);
	return n ? n : -ECONNRESET;
}

/* Hand out up to @len bytes of the receive buffer; how many. */
static size_t rx_take(struct eiaDevice *dev, char *dst, size_t len)
{
	size_t n = dev->rx_len - dev->rx_pos;

	if (n > len)
		n = len;
	memcpy(dst, dev->rx_buf + dev->rx_pos, n);
	dev->rx_pos += n;
	return n;
}

/* Refill the empty receive buffer with one read(). Returns 0 or -errno. */
static int rx_fill(struct eiaDevice *dev)
{
	ssize_t n = read_some(dev->sock, dev->rx_buf, sizeof(dev->rx_buf));

	if (n < 0)
		return (int)n;
	dev->rx_pos = 0;
	dev->rx_len = (size_t)n;
	return 0;
}

/*
 * Read exactly @len bytes of the connection into @dst, the one way this
 * file reads it: first what the receive buffer holds; a rest smaller than
 * the buffer then through it, one read() of all it holds at a time (so a
 * small response costs one, and what follows it waits there for the next
 * call); a larger rest (D2H data) straight into @dst. Only the connection's
 * reader may call it (struct eiaDevice: rx_buf). Returns 0 or a negative
 * errno: -ETIMEDOUT when gpud was silent for the device's timeout,
 * -ECONNRESET at EOF; the connection is unusable after one.
 */
static int tcp_recv(struct eiaDevice *dev, void *dst, size_t len)
{
	char *p = dst;
	ssize_t n;
	int ret;

	while (len) {
		if (dev->rx_pos == dev->rx_len && len < sizeof(dev->rx_buf)) {
			ret = rx_fill(dev);
			if (ret)
				return ret;
		}
		if (dev->rx_pos < dev->rx_len)
			n = (ssize_t)rx_take(dev, p, len);
		else
			n = read_some(dev->sock, p, len);
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read a response header to an @opcode request and check it (not its tag).
 * Returns 0 or a negative errno; the connection is unusable after one.
 */
static int recv_resp_hdr(struct eiaDevice *dev, uint16_t opcode,
			 struct eia_msg_hdr *h)
{
	struct eia_wire_hdr raw;
	int ret = tcp_recv(dev, &raw, sizeof(raw));

	if (ret)
		return ret;
	ret = eia_wire_hdr_unpack(&raw, h);
	if (ret)
		return ret == -EPROTONOSUPPORT ? ret : -EPROTO;
	if (h->flags != EIA_WIRE_F_RESPONSE || h->opcode != opcode ||
	    h->status > EIA_TCP_MAX_ERRNO ||
	    h->payload_len > dev->max_payload + (uint32_t)EIA_WIRE_ERRMSG_MAX)
		return -EPROTO;
	return 0;
}

/*
 * Read a failed response's message (at most @cap - 1 bytes kept); one that
 * is no C string is malformed, as eia.ko has it.
 */
static int recv_errmsg(struct eiaDevice *dev, const struct eia_msg_hdr *h,
		       char *msg, size_t cap)
{
	char buf[EIA_WIRE_ERRMSG_MAX];
	uint32_t len = h->payload_len;
	int ret;

	msg[0] = '\0';
	if (len > sizeof(buf))
		return -EPROTO;
	ret = tcp_recv(dev, buf, len);
	if (ret)
		return ret;
	if (len && !memchr(buf, '\0', len))
		return -EPROTO;
	if (len)
		snprintf(msg, cap, "%s", buf);
	return 0;
}

/*
 * One request with a small fixed-size answer (HELLO, CTX_CREATE). Returns
 * 0, a positive errno gpud answered (with its message in @msg), or a
 * negative errno of the connection.
 */
static int transact(struct eiaDevice *dev, uint16_t opcode, const void *req,
		    uint32_t req_len, void *resp, uint32_t resp_len, char *msg,
		    size_t msg_cap)
{
	struct eia_msg_hdr h;
	int ret;

	dev->tag++;
	ret = eia_wire_send(dev->sock, opcode, 0, 0, dev->tag, req, req_len);
	if (ret)
		return io_error(ret);
	ret = recv_resp_hdr(dev, opcode, &h);
	if (ret)
		return ret;
	if (h.tag != dev->tag)
		return -EPROTO;
	if (h.status) {
		ret = recv_errmsg(dev, &h, msg, msg_cap);
		return ret ? ret : (int)h.status;
	}
	if (h.payload_len != resp_len)
		return -EPROTO;
	return tcp_recv(dev, resp, resp_len);
}

/* An answer to the open that failed: the error names the step. */
static eiaError_t open_failed(const char *url, const char *step, int ret,
			      const char *msg)
{
	eiaError_t err;

	if (ret > 0) {
		/* gpud's own refusal: ENOENT here is an unknown type. */
		err = ret == ENOENT ? EIA_ERROR_NO_DEVICE : eia_error_from_errno(ret);
		return eia_fail(fn_open, err, ret, "%s: gpud refused %s: %s%s%s", url, step,
				strerrorname_np(ret) ?: "?", msg[0] ? ": " : "", msg);
	}
	return eia_fail_errno(fn_open, ret, "%s: %s failed: %s", url, step,
			      ret == -EPROTO ? "malformed answer from gpud" : strerror(-ret));
}

static eiaError_t tcp_hello(struct eiaDevice *dev, const char *url, const char *type)
{
	struct eia_wire_hello_req req;
	struct eia_wire_hello_resp resp;
	char msg[EIA_WIRE_ERRMSG_MAX];
	uint32_t maxp;
	int ret;

	memset(&req, 0, sizeof(req));
	eia_wire_put_str(req.type, sizeof(req.type), type);
	/* Until HELLO grants one, answers are bounded by the wire maximum. */
	dev->max_payload = EIA_WIRE_MAX_PAYLOAD;
	ret = transact(dev, EIA_MSG_HELLO, &req, sizeof(req), &resp, sizeof(resp),
		       msg, sizeof(msg));
	if (ret)
		return open_failed(url, "HELLO", ret, msg);
	maxp = le32toh(resp.max_payload);
	if (!eia_wire_str_ok(resp.accel_id, sizeof(resp.accel_id)) ||
	    !eia_wire_str_ok(resp.type, sizeof(resp.type)) ||
	    maxp < EIA_TCP_MIN_MAX_PAYLOAD || maxp > EIA_WIRE_MAX_PAYLOAD)
		return open_failed(url, "HELLO", -EPROTO, "");
	memcpy(dev->accel_id, resp.accel_id, sizeof(dev->accel_id));
	memcpy(dev->type, resp.type, sizeof(dev->type));
	dev->memory_total = le64toh(resp.memory_bytes);
	dev->fp32_mtflops = le32toh(resp.fp32_mtflops);
	dev->fp16_mtflops = le32toh(resp.fp16_mtflops);
	dev->max_payload = maxp;
	return EIA_SUCCESS;
}

static eiaError_t tcp_ctx_create(struct eiaDevice *dev, const char *url)
{
	struct eia_wire_ctx ctx;
	char msg[EIA_WIRE_ERRMSG_MAX];
	int ret;

	ret = transact(dev, EIA_MSG_CTX_CREATE, NULL, 0, &ctx, sizeof(ctx), msg,
		       sizeof(msg));
	if (ret)
		return open_failed(url, "CTX_CREATE", ret, msg);
	dev->ctx = le64toh(ctx.ctx);
	if (!dev->ctx)
		return open_failed(url, "CTX_CREATE", -EPROTO, "");
	return EIA_SUCCESS;
}

eiaError_t eia_tcp_open(struct eiaDevice *dev, const char *url)
{
	struct tcp_url u;
	eiaError_t err;

	dev->sock = -1;
	err = parse_url(url, &u);
	if (err)
		return err;
	dev->timeout_ms = u.timeout_ms;
	pthread_mutex_init(&dev->send_lock, NULL);
	pthread_mutex_init(&dev->io_lock, NULL);
	pthread_cond_init(&dev->rx_turn, NULL);
	err = tcp_connect(dev, url, &u);
	if (!err)
		err = tcp_hello(dev, url, u.type);
	if (!err)
		err = tcp_ctx_create(dev, url);
	if (err)
		eia_tcp_close(dev);
	return err;
}

void eia_tcp_close(struct eiaDevice *dev)
{
	/* gpud destroys the connection's contexts when it closes. */
	if (dev->sock >= 0)
		close(dev->sock);
	dev->sock = -1;
	pthread_cond_destroy(&dev->rx_turn);
	pthread_mutex_destroy(&dev->io_lock);
	pthread_mutex_destroy(&dev->send_lock);
}

eiaError_t eia_tcp_props(struct eiaDevice *dev, eiaDeviceProp *prop)
{
	memcpy(prop->type, dev->type, sizeof(prop->type));
	memcpy(prop->accelId, dev->accel_id, sizeof(prop->accelId));
	pthread_mutex_lock(&dev->io_lock);
	prop->healthy = !dev->lost;
	pthread_mutex_unlock(&dev->io_lock);
	prop->memoryTotal = dev->memory_total;
	prop->memoryUsed = atomic_load(&dev->memory_used);
	prop->fp32Tflops = dev->fp32_mtflops / 1000.0;
	prop->fp16Tflops = dev->fp16_mtflops / 1000.0;
	return EIA_SUCCESS;
}

/* sendmsg() of a whole iovec array, IOV_MAX entries at a time. */
static int send_iov(int fd, struct iovec *iov, size_t n)
{
	while (n) {
		struct msghdr m = {
			.msg_iov = iov,
			.msg_iovlen = n < IOV_MAX ? n : IOV_MAX,
		};
		ssize_t sent = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			return io_error(-errno);
		}
		while (n && (size_t)sent >= iov->iov_len) {
			sent -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + sent;
			iov->iov_len -= (size_t)sent;
		}
	}
	return 0;
}

/* Where the data of one D2H command goes. */
struct d2h_dst {
	void *host;
	uint64_t bytes;
	uint32_t index;
};

/* A submit being sent: the iovecs of the request and the D2H destinations. */
struct submit_msg {
	struct eia_wire_hdr hdr;
	struct eia_wire_submit sub;
	struct iovec *iov;
	size_t niov;
	struct d2h_dst *d2h;
	uint32_t nd2h;
	uint64_t payload;
};

static const uint8_t zero_pad[EIA_CB_ALIGN];

static void add_iov(struct submit_msg *m, const void *p, size_t len)
{
	if (!len)
		return;
	/* Commands next to each other in the buffer travel as one piece. */
	if (m->niov && (const char *)m->iov[m->niov - 1].iov_base +
		       m->iov[m->niov - 1].iov_len == (const char *)p) {
		m->iov[m->niov - 1].iov_len += len;
		return;
	}
	m->iov[m->niov].iov_base = (void *)p;
	m->iov[m->niov].iov_len = len;
	m->niov++;
}

/*
 * The host data that follows a command on the wire (a COPY_H2D's source, a
 * MODULE_LOAD's image): the field with its address, and its size; or NULL.
 */
static __u64 *host_data(struct eia_cb_hdr *h, uint64_t *bytes)
{
	struct eia_cb_module_load *ml = (struct eia_cb_module_load *)h;
	struct eia_cb_copy *c = (struct eia_cb_copy *)h;

	if (h->op == EIA_CB_COPY_H2D) {
		*bytes = c->bytes;
		return &c->src;
	}
	if (h->op == EIA_CB_MODULE_LOAD) {
		*bytes = ml->bytes;
		return &ml->image;
	}
	return NULL;
}

/*
 * Lay out the request: the commands with their user addresses replaced by
 * 0, each COPY_H2D or MODULE_LOAD followed by its data and padding.
 * Returns 0 or -ENOMEM.
 */
static int build_submit(struct eiaDevice *dev, struct eia_cmdbuf *cb,
			struct submit_msg *m)
{
	char *p = cb->cmds;
	uint32_t i;

	memset(m, 0, sizeof(*m));
	/* At most 3 pieces per command (command, data, padding), + 2. */
	m->iov = malloc((3 * (size_t)cb->ncmds + 2) * sizeof(*m->iov));
	m->d2h = malloc(cb->ncmds * sizeof(*m->d2h));
	if (!m->iov || !m->d2h)
		return -ENOMEM;
	m->sub.ctx = htole64(dev->ctx);
	m->sub.ncmds = htole32(cb->ncmds);
	m->sub.queue = htole16(cb->queue);
	add_iov(m, &m->hdr, sizeof(m->hdr));
	add_iov(m, &m->sub, sizeof(m->sub));
	m->payload = sizeof(m->sub);
	for (i = 0; i < cb->ncmds; i++) {
		struct eia_cb_hdr *h = (struct eia_cb_hdr *)p;
		struct eia_cb_copy *c = (struct eia_cb_copy *)p;
		uint64_t bytes = 0;

		add_iov(m, p, h->size);
		m->payload += h->size;
		__u64 *host = host_data(h, &bytes);

		if (host) {
			size_t pad = (size_t)(-bytes & (EIA_CB_ALIGN - 1));

			add_iov(m, (const void *)(uintptr_t)*host, bytes);
			add_iov(m, zero_pad, pad);
			m->payload += bytes + pad;
			*host = 0;
		} else if (h->op == EIA_CB_COPY_D2H) {
			m->d2h[m->nd2h].host = (void *)(uintptr_t)c->dst;
			m->d2h[m->nd2h].bytes = c->bytes;
			m->d2h[m->nd2h].index = i;
			m->nd2h++;
			c->dst = 0;
		}
		p += h->size;
	}
	return 0;
}

/*
 * Read a successful SUBMIT response into @cb and the D2H destinations.
 * Returns 0 or a negative errno (the connection is unusable after one).
 */
static int recv_submit(struct eiaDevice *dev, struct eia_cmdbuf *cb,
		       const struct submit_msg *m, uint32_t payload_len)
{
	struct eia_wire_submit_resp resp;
	uint64_t head = sizeof(resp) + (uint64_t)cb->ncmds * sizeof(*cb->results);
	uint64_t data = 0;
	uint32_t i, failed;
	int ret;

	if (payload_len < head)
		return -EPROTO;
	ret = tcp_recv(dev, &resp, sizeof(resp));
	if (!ret)
		ret = tcp_recv(dev, cb->results, cb->ncmds * sizeof(*cb->results));
	if (ret)
		return ret;
	failed = le32toh(resp.failed);
	if (le32toh(resp.ncmds) != cb->ncmds ||
	    (failed != EIA_WIRE_NONE_FAILED && failed >= cb->ncmds))
		return -EPROTO;
	for (i = 0; i < cb->ncmds; i++) {
		int32_t st = cb->results[i].status;

		if (st > 0 || st < -EIA_TCP_MAX_ERRNO || (i < failed && st) ||
		    (i == failed && !st) || (failed == EIA_WIRE_NONE_FAILED && st))
			return -EPROTO;
	}
	for (i = 0; i < m->nd2h; i++)
		if (!cb->results[m->d2h[i].index].status)
			data += m->d2h[i].bytes;
	if (head + data != payload_len)
		return -EPROTO;
	for (i = 0; i < m->nd2h; i++) {
		if (cb->results[m->d2h[i].index].status)
			continue;
		ret = tcp_recv(dev, m->d2h[i].host, m->d2h[i].bytes);
		if (ret)
			return ret;
	}
	atomic_store(&dev->memory_used, le64toh(resp.memory_used));
	cb->failed = failed;
	cb->ret = failed == EIA_WIRE_NONE_FAILED ? 0 : cb->results[failed].status;
	return 0;
}

/*
 * A SUBMIT sent and not answered yet, on its sender's stack; in
 * dev->pending under io_lock. Whoever reads its response fills @cb (and
 * @m's D2H destinations) and sets @done; @ret is then 0, or the error that
 * lost the connection before its response was read whole.
 */
struct tcp_pending {
	uint64_t tag;
	struct eia_cmdbuf *cb;
	const struct submit_msg *m;
	bool done;
	int ret;
	struct tcp_pending *next;
};

/* The connection failed with @err: every request not being read fails. Under io_lock. */
static void tcp_lost(struct eiaDevice *dev, int err)
{
	struct tcp_pending *p;

	if (!dev->lost) {
		dev->lost = -err;
		/* Wakes a reader blocked on the socket; sends fail from now on. */
		shutdown(dev->sock, SHUT_RDWR);
	}
	for (p = dev->pending; p; p = p->next)
		if (!p->done && p != dev->rx_target) {
			p->done = true;
			p->ret = err;
		}
	pthread_cond_broadcast(&dev->rx_turn);
}

/*
 * Read the next SUBMIT response into the request it answers. Called with
 * io_lock held and dev->reading set; drops io_lock while it reads. Returns
 * 0 or a negative errno of the connection.
 */
static int tcp_read_response(struct eiaDevice *dev)
{
	struct tcp_pending *p;
	struct eia_msg_hdr h;
	int ret;

	pthread_mutex_unlock(&dev->io_lock);
	ret = recv_resp_hdr(dev, EIA_MSG_SUBMIT, &h);
	pthread_mutex_lock(&dev->io_lock);
	if (ret)
		return ret;
	for (p = dev->pending; p && p->tag != h.tag; p = p->next)
		;
	if (!p || p->done)
		return -EPROTO;		/* an answer to nothing in flight */
	dev->rx_target = p;
	pthread_mutex_unlock(&dev->io_lock);
	if (h.status) {
		/* The buffer was refused as a whole. */
		ret = recv_errmsg(dev, &h, p->cb->msg, sizeof(p->cb->msg));
		p->cb->ret = -(int)h.status;
	} else {
		ret = recv_submit(dev, p->cb, p->m, h.payload_len);
	}
	pthread_mutex_lock(&dev->io_lock);
	dev->rx_target = NULL;
	p->done = true;
	p->ret = ret;
	return ret;
}

/*
 * Send @p's request, then wait for its response, reading the socket while
 * no other waiter does. Under io_lock, which it drops to send and read.
 */
static void tcp_send_and_wait(struct eiaDevice *dev, struct tcp_pending *p,
			      struct submit_msg *m)
{
	int ret;

	pthread_mutex_unlock(&dev->io_lock);
	pthread_mutex_lock(&dev->send_lock);
	ret = send_iov(dev->sock, m->iov, m->niov);
	pthread_mutex_unlock(&dev->send_lock);
	pthread_mutex_lock(&dev->io_lock);
	if (ret)
		tcp_lost(dev, ret);
	while (!p->done) {
		if (dev->reading) {
			pthread_cond_wait(&dev->rx_turn, &dev->io_lock);
			continue;
		}
		dev->reading = true;
		ret = tcp_read_response(dev);
		dev->reading = false;
		if (ret)
			tcp_lost(dev, ret);
		pthread_cond_broadcast(&dev->rx_turn);
	}
}

void eia_tcp_submit_sync(struct eiaDevice *dev, struct eia_cmdbuf *cb)
{
	struct tcp_pending p = { .cb = cb }, **pp;
	struct submit_msg m;

	cb->ret = 0;
	cb->failed = EIA_SUBMIT_NONE_FAILED;
	if (build_submit(dev, cb, &m)) {
		cb->ret = -ENOMEM;
		goto out;
	}
	if (m.payload > dev->max_payload) {
		/* Never sent: the stream does not build one. */
		cb->ret = -EMSGSIZE;
		goto out;
	}
	pthread_mutex_lock(&dev->io_lock);
	if (dev->lost) {
		cb->ret = -dev->lost;
		snprintf(cb->msg, sizeof(cb->msg), "the connection to gpud failed earlier");
		pthread_mutex_unlock(&dev->io_lock);
		goto out;
	}
	p.tag = ++dev->tag;
	p.m = &m;
	p.next = dev->pending;
	dev->pending = &p;
	eia_wire_hdr_pack(&m.hdr, EIA_MSG_SUBMIT, 0, 0, p.tag, (uint32_t)m.payload);
	tcp_send_and_wait(dev, &p, &m);
	for (pp = &dev->pending; *pp != &p; pp = &(*pp)->next)
		;
	*pp = p.next;
	pthread_mutex_unlock(&dev->io_lock);
	if (p.ret) {
		cb->ret = p.ret;
		cb->failed = EIA_SUBMIT_NONE_FAILED;
		snprintf(cb->msg, sizeof(cb->msg), "the connection to gpud failed: %s",
			 p.ret == -EPROTO ? "malformed answer" : strerror(-p.ret));
	}
out:
	free(m.iov);
	free(m.d2h);
}
