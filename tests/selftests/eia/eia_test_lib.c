// SPDX-License-Identifier: GPL-2.0
/*
 * Shared helpers of the eia kselftests; see eia_test_lib.h.
 */
#include "eia_test_lib.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "wire.h"

#define GIB (1ull << 30)

const struct eia_default_type eia_default_types[6] = {
	{ "eia1.medium", 1 * GIB, 1000, 8000 },
	{ "eia1.large", 2 * GIB, 2000, 16000 },
	{ "eia1.xlarge", 4 * GIB, 4000, 32000 },
	{ "eia2.medium", 2 * GIB, 1000, 8000 },
	{ "eia2.large", 4 * GIB, 2000, 16000 },
	{ "eia2.xlarge", 8 * GIB, 4000, 32000 },
};

/* How long a netlink request may take before the kernel is called stuck. */
#define NL_RECV_TIMEOUT_S	30

int64_t eia_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void eia_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- generic netlink ---------------------------------------------------- */

static void set_rcv_timeout(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* libnl reports its own NLE_* codes; the tests want errnos. */
static int nle_to_errno(int nle)
{
	switch (-nle) {
	case NLE_AGAIN:
		return -ETIMEDOUT;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	default:
		return -EIO;
	}
}

static int genl_socket(struct nl_sock **skp, int *family)
{
	const int one = 1;
	struct nl_sock *sk;
	int ret;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	ret = genl_connect(sk);
	if (ret < 0)
		goto fail;
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	set_rcv_timeout(nl_socket_get_fd(sk), NL_RECV_TIMEOUT_S);
	ret = genl_ctrl_resolve(sk, EIA_GENL_NAME);
	if (ret < 0)
		goto fail;
	*family = ret;
	*skp = sk;
	return 0;
fail:
	nl_socket_free(sk);
	return nle_to_errno(ret);
}

int eia_nl_open(struct eia_nl *nl)
{
	memset(nl, 0, sizeof(*nl));
	return genl_socket(&nl->sk, &nl->family);
}

void eia_nl_close(struct eia_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *eia_nl_msg(struct eia_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
				cmd, EIA_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static void copy_str(char *dst, size_t size, const struct nlattr *a)
{
	nla_strlcpy(dst, a, size);
}

static void parse_dev(struct nl_msg *msg, struct eia_dev *d)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[EIA_ATTR_MAX + 1];
	int i;

	memset(d, 0, sizeof(*d));
	d->cmd = gh->cmd;
	if (genlmsg_parse(nlh, 0, tb, EIA_ATTR_MAX, NULL) < 0)
		return;
	for (i = 1; i <= EIA_ATTR_MAX; i++) {
		const struct nlattr *a = tb[i];
		uint32_t *u32 = NULL;
		uint64_t *u64 = NULL;

		if (!a)
			continue;
		switch (i) {
		case EIA_ATTR_INDEX: u32 = &d->index; break;
		case EIA_ATTR_STATUS: u32 = &d->status; break;
		case EIA_ATTR_TIMEOUT_MS: u32 = &d->timeout_ms; break;
		case EIA_ATTR_FP32_MTFLOPS: u32 = &d->fp32_mtflops; break;
		case EIA_ATTR_FP16_MTFLOPS: u32 = &d->fp16_mtflops; break;
		case EIA_ATTR_MEMORY_TOTAL: u64 = &d->memory_total; break;
		case EIA_ATTR_MEMORY_USED: u64 = &d->memory_used; break;
		case EIA_ATTR_REQUESTS: u64 = &d->requests; break;
		case EIA_ATTR_ERRORS: u64 = &d->errors; break;
		case EIA_ATTR_BYTES_SENT: u64 = &d->bytes_sent; break;
		case EIA_ATTR_BYTES_RECEIVED: u64 = &d->bytes_received; break;
		case EIA_ATTR_DEV_NAME: copy_str(d->name, sizeof(d->name), a); break;
		case EIA_ATTR_TYPE: copy_str(d->type, sizeof(d->type), a); break;
		case EIA_ATTR_ACCEL_ID: copy_str(d->accel_id, sizeof(d->accel_id), a); break;
		case EIA_ATTR_SERVER: copy_str(d->server, sizeof(d->server), a); break;
		default: continue;
		}
		/* A number of the wrong size counts as missing. */
		if (u32 && nla_len(a) == sizeof(*u32))
			*u32 = nla_get_u32((struct nlattr *)a);
		else if (u64 && nla_len(a) == sizeof(*u64))
			*u64 = nla_get_u64((struct nlattr *)a);
		else if (u32 || u64)
			continue;
		d->present |= 1ull << i;
	}
}

struct req_ctx {
	struct eia_nl *nl;
	struct eia_dev *devs;
	int max;
	int count;
	int err;
	bool done;
};

static int req_valid(struct nl_msg *msg, void *arg)
{
	struct req_ctx *ctx = arg;

	if (ctx->devs && ctx->count < ctx->max)
		parse_dev(msg, &ctx->devs[ctx->count]);
	ctx->count++;
	return NL_OK;
}

/* Copies the extended-ack message (NLMSGERR_ATTR_MSG) of an error. */
static void save_extack(struct eia_nl *nl, const struct nlmsgerr *e)
{
	const struct nlmsghdr *nlh = (const void *)((const char *)e - NLMSG_HDRLEN);
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	const char *p = (const char *)(e + 1);

	nl->errmsg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		p += e->msg.nlmsg_len - sizeof(e->msg);
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			size_t len = strnlen(p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);

			if (len >= sizeof(nl->errmsg))
				len = sizeof(nl->errmsg) - 1;
			memcpy(nl->errmsg, p + NLA_HDRLEN, len);
			nl->errmsg[len] = '\0';
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

static int req_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct req_ctx *ctx = arg;

	(void)nla;
	ctx->err = e->error;
	save_extack(ctx->nl, e);
	ctx->done = true;
	return NL_STOP;
}

static int req_ack(struct nl_msg *msg, void *arg)
{
	struct req_ctx *ctx = arg;

	(void)msg;
	ctx->done = true;
	return NL_STOP;
}

/* End of a dump: NLMSG_DONE carries the dump's error, if any. */
static int req_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct req_ctx *ctx = arg;
	int err = 0;

	if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (err < 0)
		ctx->err = err;
	ctx->done = true;
	return NL_STOP;
}

int eia_nl_request(struct eia_nl *nl, struct nl_msg *msg, struct eia_dev *devs, int max)
{
	struct req_ctx ctx = { .nl = nl, .devs = devs, .max = max };
	struct nl_cb *cb;
	int ret;

	nl->errmsg[0] = '\0';
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return nle_to_errno(ret);
	cb = nl_cb_alloc(NL_CB_CUSTOM);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, req_valid, &ctx);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, req_ack, &ctx);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, req_finish, &ctx);
	nl_cb_err(cb, NL_CB_CUSTOM, req_error, &ctx);
	while (!ctx.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !ctx.done) {
			nl_cb_put(cb);
			return nle_to_errno(ret);
		}
	}
	nl_cb_put(cb);
	return ctx.err ? ctx.err : ctx.count;
}

int eia_attach_fd(struct eia_nl *nl, int fd, const char *type, uint32_t timeout_ms,
		  const char *server, struct eia_dev *out)
{
	struct nl_msg *msg = eia_nl_msg(nl, EIA_CMD_ATTACH, 0);
	struct eia_dev reply;
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, EIA_ATTR_SOCK_FD, (uint32_t)fd) ||
	    (type && nla_put_string(msg, EIA_ATTR_TYPE, type)) ||
	    (timeout_ms && nla_put_u32(msg, EIA_ATTR_TIMEOUT_MS, timeout_ms)) ||
	    (server && nla_put_string(msg, EIA_ATTR_SERVER, server))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = eia_nl_request(nl, msg, out ? out : &reply, 1);
	if (ret == 0)
		return -EPROTO;		/* ATTACH must reply with the device */
	return ret < 0 ? ret : 0;
}

int eia_attach(struct eia_nl *nl, const char *type, uint32_t timeout_ms, struct eia_dev *out)
{
	int fd = eia_connect(eia_server());
	int ret;

	if (fd < 0)
		return fd;
	ret = eia_attach_fd(nl, fd, type, timeout_ms, NULL, out);
	close(fd);
	return ret;
}

static int index_cmd(struct eia_nl *nl, uint8_t cmd, uint32_t index, struct eia_dev *out)
{
	struct nl_msg *msg = eia_nl_msg(nl, cmd, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, EIA_ATTR_INDEX, index)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return eia_nl_request(nl, msg, out, out ? 1 : 0);
}

int eia_detach(struct eia_nl *nl, uint32_t index)
{
	int ret = index_cmd(nl, EIA_CMD_DETACH, index, NULL);

	return ret < 0 ? ret : 0;
}

int eia_get(struct eia_nl *nl, uint32_t index, struct eia_dev *out)
{
	int ret = index_cmd(nl, EIA_CMD_GET, index, out);

	if (ret == 0)
		return -EPROTO;
	return ret < 0 ? ret : 0;
}

int eia_reconfigure_fd(struct eia_nl *nl, uint32_t index, int fd)
{
	struct nl_msg *msg = eia_nl_msg(nl, EIA_CMD_RECONFIGURE, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, EIA_ATTR_INDEX, index) ||
	    nla_put_u32(msg, EIA_ATTR_SOCK_FD, (uint32_t)fd)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = eia_nl_request(nl, msg, NULL, 0);
	return ret < 0 ? ret : 0;
}

int eia_reattach(struct eia_nl *nl, uint32_t index)
{
	int fd = eia_connect(eia_server());
	int ret;

	if (fd < 0)
		return fd;
	ret = eia_reconfigure_fd(nl, index, fd);
	close(fd);
	return ret;
}

int eia_dump(struct eia_nl *nl, struct eia_dev *devs, int max)
{
	struct nl_msg *msg = eia_nl_msg(nl, EIA_CMD_GET, NLM_F_DUMP);

	if (!msg)
		return -ENOMEM;
	return eia_nl_request(nl, msg, devs, max);
}

int eia_detach_all(struct eia_nl *nl)
{
	struct eia_dev devs[64];
	int n, i, ret, detached = 0;

	do {
		n = eia_dump(nl, devs, 64);
		if (n < 0)
			return n;
		for (i = 0; i < n && i < 64; i++) {
			ret = eia_detach(nl, devs[i].index);
			if (ret < 0 && ret != -ENODEV)
				return ret;
			detached++;
		}
	} while (n > 64);
	return detached;
}

/* ---- events ------------------------------------------------------------- */

int eia_events_open(struct eia_events *ev)
{
	int grp, ret;

	memset(ev, 0, sizeof(*ev));
	ret = genl_socket(&ev->sk, &ev->family);
	if (ret)
		return ret;
	grp = genl_ctrl_resolve_grp(ev->sk, EIA_GENL_NAME, EIA_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		ret = nle_to_errno(grp);
		goto fail;
	}
	ret = nl_socket_add_membership(ev->sk, grp);
	if (ret < 0) {
		ret = nle_to_errno(ret);
		goto fail;
	}
	ret = nl_socket_set_nonblocking(ev->sk);
	if (ret < 0) {
		ret = nle_to_errno(ret);
		goto fail;
	}
	return 0;
fail:
	nl_socket_free(ev->sk);
	ev->sk = NULL;
	return ret;
}

void eia_events_close(struct eia_events *ev)
{
	if (ev->sk)
		nl_socket_free(ev->sk);
	ev->sk = NULL;
}

static int event_valid(struct nl_msg *msg, void *arg)
{
	struct eia_events *ev = arg;

	if (ev->nqueued == (int)(sizeof(ev->queue) / sizeof(ev->queue[0]))) {
		memmove(&ev->queue[0], &ev->queue[1], sizeof(ev->queue) - sizeof(ev->queue[0]));
		ev->nqueued--;
	}
	parse_dev(msg, &ev->queue[ev->nqueued++]);
	return NL_OK;
}

/* Events are not answers to anything we sent: any sequence number goes. */
static int event_seq_ok(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static bool take_event(struct eia_events *ev, uint8_t cmd, uint32_t index, struct eia_dev *out)
{
	int i;

	for (i = 0; i < ev->nqueued; i++) {
		if (ev->queue[i].cmd != cmd || ev->queue[i].index != index)
			continue;
		if (out)
			*out = ev->queue[i];
		memmove(&ev->queue[i], &ev->queue[i + 1],
			(size_t)(ev->nqueued - i - 1) * sizeof(ev->queue[0]));
		ev->nqueued--;
		return true;
	}
	return false;
}

int eia_events_wait(struct eia_events *ev, uint8_t cmd, uint32_t index, int timeout_ms,
		    struct eia_dev *out)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	struct nl_cb *cb = nl_cb_alloc(NL_CB_CUSTOM);
	int ret = -ETIMEDOUT;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, event_valid, ev);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, event_seq_ok, NULL);
	for (;;) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(ev->sk), .events = POLLIN };
		int64_t left;

		if (take_event(ev, cmd, index, out)) {
			ret = 0;
			break;
		}
		left = deadline - eia_now_ms();
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) > 0)
			nl_recvmsgs(ev->sk, cb);
	}
	nl_cb_put(cb);
	return ret;
}

/* ---- gpud over the wire ------------------------------------------------- */

const char *eia_server(void)
{
	const char *s = getenv("EIA_SERVER");

	return s && *s ? s : EIA_DEFAULT_SERVER;
}

/* Splits HOST:PORT into @host and @port. */
static int split_hostport(const char *hostport, char *host, size_t hostlen,
			  char *port, size_t portlen)
{
	const char *colon = strrchr(hostport, ':');
	size_t len;

	if (!colon || colon == hostport || !colon[1])
		return -EINVAL;
	len = (size_t)(colon - hostport);
	if (len >= hostlen || strlen(colon + 1) >= portlen)
		return -ENAMETOOLONG;
	memcpy(host, hostport, len);
	host[len] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

int eia_connect(const char *hostport)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char host[256], port[16];
	int fd = -ECONNREFUSED, ret;

	ret = split_hostport(hostport, host, sizeof(host), port, sizeof(port));
	if (ret)
		return ret;
	if (getaddrinfo(host, port, &hints, &res))
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = ret;
	}
	freeaddrinfo(res);
	return fd;
}

int eia_server_status(struct eia_server_status *st)
{
	static char buf[sizeof(struct eia_wire_server_status) +
			EIA_WIRE_MAX_TYPES * sizeof(struct eia_wire_type_status)];
	const struct eia_wire_server_status *ws = (const void *)buf;
	const uint64_t tag = 0x5e55;
	struct eia_msg_hdr hdr;
	uint32_t i;
	int fd, ret;

	fd = eia_connect(eia_server());
	if (fd < 0)
		return fd;
	set_rcv_timeout(fd, 10);
	ret = eia_wire_send(fd, EIA_MSG_SERVER_STATUS, 0, 0, tag, NULL, 0);
	if (!ret)
		ret = eia_wire_recv(fd, &hdr, buf, sizeof(buf));
	close(fd);
	if (ret)
		return ret;
	if (hdr.opcode != EIA_MSG_SERVER_STATUS || !(hdr.flags & EIA_WIRE_F_RESPONSE) ||
	    hdr.tag != tag)
		return -EPROTO;
	if (hdr.status)
		return -(int)hdr.status;
	if (hdr.payload_len < sizeof(*ws))
		return -EPROTO;
	memset(st, 0, sizeof(*st));
	st->sessions = le32toh(ws->sessions);
	st->connections = le32toh(ws->connections);
	memcpy(st->backend, ws->backend, sizeof(st->backend) - 1);
	st->ntypes = le32toh(ws->ntypes);
	if (st->ntypes > EIA_WIRE_MAX_TYPES ||
	    hdr.payload_len < sizeof(*ws) + st->ntypes * sizeof(ws->types[0]))
		return -EPROTO;
	for (i = 0; i < st->ntypes; i++) {
		const struct eia_wire_type_status *wt = &ws->types[i];
		struct eia_type_info *t = &st->types[i];

		memcpy(t->type, wt->type, sizeof(t->type) - 1);
		t->memory_bytes = le64toh(wt->memory_bytes);
		t->fp32_mtflops = le32toh(wt->fp32_mtflops);
		t->fp16_mtflops = le32toh(wt->fp16_mtflops);
		t->in_use = le32toh(wt->in_use);
		t->available = le32toh(wt->available);
	}
	return 0;
}

const struct eia_type_info *eia_server_type(const struct eia_server_status *st,
					    const char *type)
{
	uint32_t i;

	for (i = 0; i < st->ntypes; i++)
		if (!strcmp(st->types[i].type, type))
			return &st->types[i];
	return NULL;
}

int eia_wait_sessions(uint32_t want, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	struct eia_server_status st;
	int ret;

	for (;;) {
		ret = eia_server_status(&st);
		if (ret)
			return ret;
		if (st.sessions == want || eia_now_ms() >= deadline)
			return (int)st.sessions;
		eia_sleep_ms(50);
	}
}

/* ---- sysfs and /proc ---------------------------------------------------- */

int eia_sysfs_read(const char *dev, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/eia/%s/%s", dev, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int eia_sysfs_u64(const char *dev, const char *attr, uint64_t *val)
{
	char buf[64], *end;
	int ret = eia_sysfs_read(dev, attr, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int eia_sysfs_count(void)
{
	DIR *dir = opendir("/sys/class/eia");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

int eia_wait_status(const char *dev, const char *want, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	char buf[64];

	for (;;) {
		if (!eia_sysfs_read(dev, "status", buf, sizeof(buf)) && !strcmp(buf, want))
			return 0;
		if (eia_now_ms() >= deadline)
			return -ETIMEDOUT;
		eia_sleep_ms(20);
	}
}

int eia_tcp_inuse(void)
{
	FILE *f = fopen("/proc/net/sockstat", "re");
	char line[256];
	int inuse = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TCP: inuse %d", &inuse) == 1)
			break;
	fclose(f);
	return inuse;
}

int eia_wait_tcp_inuse(int max, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	int inuse;

	for (;;) {
		inuse = eia_tcp_inuse();
		if (inuse <= max || eia_now_ms() >= deadline)
			return inuse;
		eia_sleep_ms(50);
	}
}

/* ---- the local gpud ----------------------------------------------------- */

bool eia_gpud_local(void)
{
	char host[256], port[16];

	if (split_hostport(eia_server(), host, sizeof(host), port, sizeof(port)))
		return false;
	return !strncmp(host, "127.", 4) || !strcmp(host, "localhost");
}

static int server_port(void)
{
	char host[256], port[16];

	if (split_hostport(eia_server(), host, sizeof(host), port, sizeof(port)))
		return -EINVAL;
	return atoi(port);
}

/* A TCP socket in LISTEN state on the server's port, any IPv4 address. */
bool eia_gpud_listening(void)
{
	FILE *f = fopen("/proc/net/tcp", "re");
	int port = server_port();
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int addr, lport, state;

		if (sscanf(line, " %*d: %x:%x %*x:%*x %x", &addr, &lport, &state) == 3 &&
		    (int)lport == port && state == 0x0A)
			found = true;
	}
	fclose(f);
	return found;
}

static pid_t gpud_pid(void)
{
	char path[64], argv0[256] = "";
	FILE *f = fopen(EIA_GPUD_PIDFILE, "re");
	const char *base;
	int pid = -1;
	ssize_t n;
	int fd;

	if (!f)
		return -ENOENT;
	if (fscanf(f, "%d", &pid) != 1 || pid <= 0)
		pid = -EINVAL;
	fclose(f);
	if (pid < 0)
		return pid;
	/*
	 * A stale pid file must not make us signal some other process. Its
	 * argv[0], not its comm: gpud may execute itself again through
	 * /proc/self/exe, which names it "exe".
	 */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, argv0, sizeof(argv0) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	argv0[n] = '\0';
	base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (strcmp(base, "gpud"))
		return -ESRCH;
	return pid;
}

/* True when every thread of @pid is stopped (state T in /proc/PID/task/TID/stat). */
static bool all_threads_stopped(pid_t pid)
{
	char path[64], buf[256], *state;
	struct dirent *de;
	bool stopped = true;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (stopped && (de = readdir(dir))) {
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)pid, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* the thread just exited */
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		/* "TID (comm) STATE ...": the comm may hold spaces, not ')' last. */
		state = strrchr(buf, ')');
		stopped = state && state[1] == ' ' && state[2] == 'T';
	}
	closedir(dir);
	return stopped;
}

int eia_gpud_kill(int sig)
{
	pid_t pid = gpud_pid();
	int64_t deadline = eia_now_ms() + 5000;

	if (pid < 0)
		return pid;
	if (kill(pid, sig))
		return -errno;
	/* A stop takes effect in each thread on its own time: wait for all. */
	if (sig == SIGSTOP) {
		while (!all_threads_stopped(pid)) {
			if (eia_now_ms() >= deadline)
				return -ETIMEDOUT;
			eia_sleep_ms(5);
		}
		return 0;
	}
	if (sig != SIGKILL)
		return 0;
	while (eia_gpud_listening()) {
		if (eia_now_ms() >= deadline)
			return -ETIMEDOUT;
		eia_sleep_ms(20);
	}
	waitpid(pid, NULL, WNOHANG);	/* ours when a test started it */
	return 0;
}

int eia_gpud_start(void)
{
	const char *bin = getenv("EIA_GPUD");
	const char *config = getenv("EIA_GPUD_CONFIG");
	int64_t deadline = eia_now_ms() + 10000;
	FILE *f;
	pid_t pid;

	if (!bin || !*bin)
		bin = "gpud";
	if (eia_gpud_listening())
		return -EALREADY;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int log = open(EIA_GPUD_LOG, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int null = open("/dev/null", O_RDONLY);

		/* Its own session: the harness kills a timed-out test's group. */
		setsid();
		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
		}
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		if (config && *config)
			execlp(bin, "gpud", "--listen", eia_server(), "--config", config,
			       (char *)NULL);
		else
			execlp(bin, "gpud", "--listen", eia_server(), (char *)NULL);
		_exit(127);
	}
	f = fopen(EIA_GPUD_PIDFILE, "we");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	while (!eia_gpud_listening()) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		if (eia_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			return -ETIMEDOUT;
		}
		eia_sleep_ms(20);
	}
	return 0;
}

int eia_gpud_ensure(void)
{
	if (!eia_gpud_local() || eia_gpud_listening())
		return 0;
	return eia_gpud_start();
}

/* ---- eia.ko ------------------------------------------------------------- */

bool eia_module_loaded(void)
{
	return access("/sys/module/eia", F_OK) == 0;
}

int eia_module_load(void)
{
	return eia_module_load_params("");
}

int eia_module_load_params(const char *params)
{
	const char *path = getenv("EIA_KO");
	char buf[PATH_MAX];
	struct utsname u;
	int fd, ret;

	if (!path || !*path) {
		uname(&u);
		snprintf(buf, sizeof(buf), "/lib/modules/%s/extra/eia.ko", u.release);
		path = buf;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = (int)syscall(SYS_finit_module, fd, params, 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret == -EEXIST ? 0 : ret;
}

int eia_module_param(const char *name, uint64_t *val)
{
	char path[PATH_MAX], buf[32], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/eia/parameters/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = strtoull(buf, &end, 10);
	return end == buf ? -EINVAL : 0;
}

int eia_module_unload(void)
{
	return syscall(SYS_delete_module, "eia", O_NONBLOCK) ? -errno : 0;
}

int eia_test_prepare(struct eia_nl *nl)
{
	int ret;

	memset(nl, 0, sizeof(*nl));
	if (!eia_module_loaded()) {
		ret = eia_module_load();
		if (ret)
			return ret;
	}
	ret = eia_gpud_ensure();
	if (ret)
		return ret;
	ret = eia_nl_open(nl);
	if (ret)
		return ret;
	ret = eia_detach_all(nl);
	if (ret < 0)
		return ret;
	/*
	 * gpud frees a session when it sees the connection close, which may
	 * be after the previous test ended (later still through a proxy).
	 */
	eia_wait_sessions(0, 5000);
	return 0;
}

/* ---- privileges and processes ------------------------------------------- */

int eia_drop_cap_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const unsigned int i = CAP_TO_INDEX(CAP_NET_ADMIN);
	const uint32_t mask = CAP_TO_MASK(CAP_NET_ADMIN);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[i].effective &= ~mask;
	data[i].permitted &= ~mask;
	data[i].inheritable &= ~mask;
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

int eia_become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

/* Appends what @fd has to @buf (keeping it a C string); false at EOF. */
static bool drain(int fd, char *buf, size_t cap, size_t *used)
{
	char sink[4096];
	char *dst = sink;
	size_t room = sizeof(sink);
	ssize_t n;

	if (buf && *used + 1 < cap) {
		dst = buf + *used;
		room = cap - *used - 1;
	}
	n = read(fd, dst, room);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (dst != sink) {
		*used += (size_t)n;
		buf[*used] = '\0';
	}
	return true;
}

int eia_run(char *const argv[], unsigned int flags, int timeout_ms,
	    char *out, size_t outlen, char *err, size_t errlen)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	int po[2], pe[2], status;
	size_t used_out = 0, used_err = 0;
	bool open_out = true, open_err = true, killed = false;
	pid_t pid;

	if (out && outlen)
		out[0] = '\0';
	if (err && errlen)
		err[0] = '\0';
	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		status = -errno;
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return status;
	}
	if (pid == 0) {
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		if ((flags & EIA_RUN_AS_NOBODY) && eia_become_nobody())
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	while (open_out || open_err) {
		struct pollfd pfd[2] = {
			{ .fd = open_out ? po[0] : -1, .events = POLLIN },
			{ .fd = open_err ? pe[0] : -1, .events = POLLIN },
		};
		int64_t left = deadline - eia_now_ms();

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (poll(pfd, 2, (int)left) <= 0)
			continue;
		if (pfd[0].revents)
			open_out = drain(po[0], out, outlen, &used_out);
		if (pfd[1].revents)
			open_err = drain(pe[0], err, errlen, &used_err);
	}
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (killed)
		return -ETIMEDOUT;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* ---- the character device ----------------------------------------------- */

int eia_open_dev(const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int eia_ping(int fd, uint64_t cookie, uint32_t delay_ms, struct eia_ping *ping)
{
	struct eia_ping p = { .cookie = cookie, .delay_ms = delay_ms };

	if (ioctl(fd, EIA_IOCTL_PING, &p))
		return -errno;
	if (ping)
		*ping = p;
	return 0;
}

static void *bg_ping_main(void *arg)
{
	struct eia_bg_ping *bg = arg;

	bg->ret = eia_ping(bg->fd, 0xb6, bg->delay_ms, NULL);
	bg->done_ms = eia_now_ms();
	return NULL;
}

int eia_bg_ping_start(struct eia_bg_ping *bg, int fd, uint32_t delay_ms)
{
	bg->fd = fd;
	bg->delay_ms = delay_ms;
	bg->ret = -EINPROGRESS;
	bg->done_ms = 0;
	return -pthread_create(&bg->thread, NULL, bg_ping_main, bg);
}

int eia_bg_ping_join(struct eia_bg_ping *bg)
{
	pthread_join(bg->thread, NULL);
	return bg->ret;
}

int eia_wait_requests(struct eia_nl *nl, uint32_t index, uint64_t requests, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	struct eia_dev d;
	int ret;

	for (;;) {
		ret = eia_get(nl, index, &d);
		if (ret)
			return ret;
		if (d.requests > requests)
			return 0;
		if (eia_now_ms() >= deadline)
			return -ETIMEDOUT;
		eia_sleep_ms(10);
	}
}

/* ---- command buffers ------------------------------------------------------ */

int eia_cbuf_init(struct eia_cbuf *cb, size_t cap)
{
	memset(cb, 0, sizeof(*cb));
	cb->buf = aligned_alloc(EIA_CB_ALIGN, (cap + EIA_CB_ALIGN - 1) & ~(size_t)(EIA_CB_ALIGN - 1));
	if (!cb->buf)
		return -ENOMEM;
	cb->cap = cap;
	return 0;
}

void eia_cbuf_fini(struct eia_cbuf *cb)
{
	free(cb->buf);
	memset(cb, 0, sizeof(*cb));
}

void eia_cbuf_reset(struct eia_cbuf *cb)
{
	cb->len = 0;
	cb->ncmds = 0;
}

void *eia_cbuf_add(struct eia_cbuf *cb, uint16_t op, uint32_t size)
{
	struct eia_cb_hdr *hdr;

	if (size % EIA_CB_ALIGN || size > cb->cap - cb->len)
		return NULL;
	hdr = (struct eia_cb_hdr *)((char *)cb->buf + cb->len);
	memset(hdr, 0, size);
	hdr->op = op;
	hdr->size = size;
	cb->len += size;
	cb->ncmds++;
	return hdr;
}

struct eia_cb_mem_alloc *eia_cbuf_alloc(struct eia_cbuf *cb, uint64_t bytes)
{
	struct eia_cb_mem_alloc *c = eia_cbuf_add(cb, EIA_CB_MEM_ALLOC, sizeof(*c));

	if (c)
		c->bytes = bytes;
	return c;
}

struct eia_cb_mem_free *eia_cbuf_free(struct eia_cbuf *cb, uint64_t handle)
{
	struct eia_cb_mem_free *c = eia_cbuf_add(cb, EIA_CB_MEM_FREE, sizeof(*c));

	if (c)
		c->handle = handle;
	return c;
}

static struct eia_cb_copy *cbuf_copy(struct eia_cbuf *cb, uint16_t op, uint64_t dst,
				     uint64_t dst_offset, uint64_t src, uint64_t src_offset,
				     uint64_t bytes)
{
	struct eia_cb_copy *c = eia_cbuf_add(cb, op, sizeof(*c));

	if (c) {
		c->dst = dst;
		c->dst_offset = dst_offset;
		c->src = src;
		c->src_offset = src_offset;
		c->bytes = bytes;
	}
	return c;
}

struct eia_cb_copy *eia_cbuf_h2d(struct eia_cbuf *cb, uint64_t dst, uint64_t dst_offset,
				 const void *src, uint64_t bytes)
{
	return cbuf_copy(cb, EIA_CB_COPY_H2D, dst, dst_offset, (uintptr_t)src, 0, bytes);
}

struct eia_cb_copy *eia_cbuf_d2h(struct eia_cbuf *cb, void *dst, uint64_t src,
				 uint64_t src_offset, uint64_t bytes)
{
	return cbuf_copy(cb, EIA_CB_COPY_D2H, (uintptr_t)dst, 0, src, src_offset, bytes);
}

struct eia_cb_copy *eia_cbuf_d2d(struct eia_cbuf *cb, uint64_t dst, uint64_t dst_offset,
				 uint64_t src, uint64_t src_offset, uint64_t bytes)
{
	return cbuf_copy(cb, EIA_CB_COPY_D2D, dst, dst_offset, src, src_offset, bytes);
}

struct eia_cb_memset *eia_cbuf_memset(struct eia_cbuf *cb, uint64_t dst, uint64_t dst_offset,
				      uint64_t bytes, uint32_t value)
{
	struct eia_cb_memset *c = eia_cbuf_add(cb, EIA_CB_MEMSET, sizeof(*c));

	if (c) {
		c->dst = dst;
		c->dst_offset = dst_offset;
		c->bytes = bytes;
		c->value = value;
	}
	return c;
}

struct eia_cb_fence *eia_cbuf_fence(struct eia_cbuf *cb, uint64_t value)
{
	struct eia_cb_fence *c = eia_cbuf_add(cb, EIA_CB_FENCE, sizeof(*c));

	if (c)
		c->value = value;
	return c;
}

struct eia_cb_launch_op *eia_cbuf_launch(struct eia_cbuf *cb, uint32_t op, uint16_t ninputs,
					 uint16_t noutputs, const struct eia_cb_tensor *tensors,
					 const void *attr, uint32_t attr_size)
{
	size_t ntensors = (size_t)ninputs + noutputs;
	size_t size = sizeof(struct eia_cb_launch_op) + ntensors * sizeof(*tensors) +
		      ((attr_size + EIA_CB_ALIGN - 1) & ~(size_t)(EIA_CB_ALIGN - 1));
	struct eia_cb_launch_op *l;
	char *p;

	if (size > UINT32_MAX)
		return NULL;
	l = eia_cbuf_add(cb, EIA_CB_LAUNCH_OP, (uint32_t)size);
	if (!l)
		return NULL;
	l->op = op;
	l->ninputs = ninputs;
	l->noutputs = noutputs;
	l->attr_size = attr_size;
	p = (char *)(l + 1);
	if (ntensors)
		memcpy(p, tensors, ntensors * sizeof(*tensors));
	if (attr_size)
		memcpy(p + ntensors * sizeof(*tensors), attr, attr_size);
	return l;
}

struct eia_cb_tensor eia_tensor(uint64_t handle, uint64_t offset, uint32_t dtype,
				uint32_t ndim, const int64_t *dims)
{
	struct eia_cb_tensor t = { .handle = handle, .offset = offset, .dtype = dtype,
				   .ndim = ndim };
	uint32_t i;

	for (i = 0; i < ndim && i < EIA_CB_MAX_DIMS; i++)
		t.dims[i] = dims[i];
	return t;
}

struct eia_submit eia_cbuf_submit_args(const struct eia_cbuf *cb, struct eia_cb_result *results)
{
	return (struct eia_submit){
		.cmds = (uintptr_t)cb->buf,
		.cmds_bytes = (uint32_t)cb->len,
		.ncmds = cb->ncmds,
		.results = (uintptr_t)results,
	};
}

int eia_submit_cbuf(int fd, const struct eia_cbuf *cb, struct eia_cb_result *results,
		    uint32_t *failed)
{
	struct eia_submit s = eia_cbuf_submit_args(cb, results);
	int ret = ioctl(fd, EIA_IOCTL_SUBMIT, &s) ? -errno : 0;

	if (failed)
		*failed = s.failed;
	return ret;
}

/* One command through EIA_IOCTL_SUBMIT; its result in @res. */
static int submit_one(int fd, uint16_t op, uint64_t arg, struct eia_cb_result *res)
{
	uint64_t buf[2];
	struct eia_cbuf cb = { .buf = buf, .cap = sizeof(buf) };
	struct eia_cb_mem_alloc *c = eia_cbuf_add(&cb, op, sizeof(buf));

	c->bytes = arg;		/* MEM_ALLOC's bytes, MEM_FREE's handle */
	return eia_submit_cbuf(fd, &cb, res, NULL);
}

int eia_mem_alloc(int fd, uint64_t bytes, uint64_t *handle)
{
	struct eia_cb_result res = { 0 };
	int ret = submit_one(fd, EIA_CB_MEM_ALLOC, bytes, &res);

	if (!ret)
		*handle = res.value;
	return ret;
}

int eia_mem_free(int fd, uint64_t handle)
{
	struct eia_cb_result res;

	return submit_one(fd, EIA_CB_MEM_FREE, handle, &res);
}

int eia_wait_memory_used(const char *dev, uint64_t want, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	uint64_t used;
	int ret;

	for (;;) {
		ret = eia_sysfs_u64(dev, "memory_used_bytes", &used);
		if (ret)
			return ret;
		if (used == want)
			return 0;
		if (eia_now_ms() >= deadline)
			return -ETIMEDOUT;
		eia_sleep_ms(20);
	}
}

int eia_vmstat(const char *name, uint64_t *val)
{
	char line[128], key[64];
	unsigned long long v;
	FILE *f = fopen("/proc/vmstat", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %llu", key, &v) == 2 && !strcmp(key, name)) {
			*val = v;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}
