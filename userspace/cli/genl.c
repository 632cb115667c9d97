// SPDX-License-Identifier: MIT
#include "genl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>

#include "cli.h"
#include "eia_wire.h"

/* Socket receive buffer for the event monitor: room for bursts of events. */
#define EIA_NL_EVENT_RCVBUF	(1 << 20)

/* Device names are "eiaN" with N a u32. */
#define EIA_DEV_NAME_MAX	16

static const struct nla_policy eia_nl_policy[EIA_ATTR_MAX + 1] = {
	[EIA_ATTR_INDEX]		= { .type = NLA_U32, .maxlen = sizeof(uint32_t) },
	[EIA_ATTR_DEV_NAME]		= { .type = NLA_STRING, .maxlen = EIA_DEV_NAME_MAX },
	[EIA_ATTR_SOCK_FD]		= { .type = NLA_U32, .maxlen = sizeof(uint32_t) },
	[EIA_ATTR_TYPE]			= { .type = NLA_STRING, .maxlen = EIA_TYPE_NAME_MAX },
	[EIA_ATTR_ACCEL_ID]		= { .type = NLA_STRING, .maxlen = EIA_ACCEL_ID_MAX },
	[EIA_ATTR_SERVER]		= { .type = NLA_STRING, .maxlen = EIA_SERVER_NAME_MAX },
	[EIA_ATTR_STATUS]		= { .type = NLA_U32, .maxlen = sizeof(uint32_t) },
	[EIA_ATTR_TIMEOUT_MS]		= { .type = NLA_U32, .maxlen = sizeof(uint32_t) },
	[EIA_ATTR_MEMORY_TOTAL]		= { .type = NLA_U64, .maxlen = sizeof(uint64_t) },
	[EIA_ATTR_MEMORY_USED]		= { .type = NLA_U64, .maxlen = sizeof(uint64_t) },
	[EIA_ATTR_FP32_MTFLOPS]		= { .type = NLA_U32, .maxlen = sizeof(uint32_t) },
	[EIA_ATTR_FP16_MTFLOPS]		= { .type = NLA_U32, .maxlen = sizeof(uint32_t) },
	[EIA_ATTR_REQUESTS]		= { .type = NLA_U64, .maxlen = sizeof(uint64_t) },
	[EIA_ATTR_ERRORS]		= { .type = NLA_U64, .maxlen = sizeof(uint64_t) },
	[EIA_ATTR_BYTES_SENT]		= { .type = NLA_U64, .maxlen = sizeof(uint64_t) },
	[EIA_ATTR_BYTES_RECEIVED]	= { .type = NLA_U64, .maxlen = sizeof(uint64_t) },
};

static const struct nla_policy extack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG]		= { .type = NLA_STRING },
};

int eia_nl_try_open(struct eia_nl *nl)
{
	const int one = 1;
	int ret;

	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		cli_err("out of memory");
		return -ENOMEM;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		cli_err("cannot open a generic netlink socket: %s", nl_geterror(ret));
		goto fail;
	}
	/* Ask for the kernel's error messages, and not for a copy of our own
	 * request in every error. Kernels without these options (older than
	 * 4.12) just give bare errnos, so failing here is not fatal.
	 */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

	ret = genl_ctrl_resolve(nl->sk, EIA_GENL_NAME);
	if (ret < 0) {
		if (ret == -NLE_OBJ_NOTFOUND) {
			nl_socket_free(nl->sk);
			nl->sk = NULL;
			return -ENOENT;
		}
		cli_err("cannot look up the generic netlink family '%s': %s",
			EIA_GENL_NAME, nl_geterror(ret));
		goto fail;
	}
	nl->family = ret;
	return 0;
fail:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return -EIO;
}

int eia_nl_open(struct eia_nl *nl)
{
	int ret = eia_nl_try_open(nl);

	if (ret == -ENOENT)
		cli_err("the eia kernel module is not loaded (modprobe eia)");
	return ret;
}

void eia_nl_close(struct eia_nl *nl)
{
	nl_socket_free(nl->sk);
	nl->sk = NULL;
}

int eia_nl_fd(const struct eia_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

struct nl_msg *eia_nl_msg(const struct eia_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
			 EIA_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/**
 * struct call_state - one request in progress
 * @fn: the caller's handler for replies
 * @arg: its argument
 * @family: our family id: other message types are not replies to us
 * @done: the ack, the end of the dump, or an error has arrived
 * @malformed: a reply failed the attribute policy
 * @err: the outcome so far
 */
struct call_state {
	eia_nl_handler fn;
	void *arg;
	int family;
	bool done;
	bool malformed;
	struct eia_nl_error *err;
};

/*
 * Copies NLMSGERR_ATTR_MSG out of an error or done message. The attributes
 * follow @fixed bytes of payload: struct nlmsgerr (plus, unless the kernel
 * capped it, our request echoed back) or the int of NLMSG_DONE.
 */
static void take_extack(struct nlmsghdr *nlh, size_t fixed, char *buf, size_t cap)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off > nlh->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      (int)(nlh->nlmsg_len - off), extack_policy) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(buf, cap, "%s", nla_get_string(tb[NLMSGERR_ATTR_MSG]));
}

static void set_error(struct call_state *st, int err, bool from_kernel)
{
	st->err->err = err < 0 ? err : -err;
	st->err->from_kernel = from_kernel;
	st->done = true;
}

/*
 * NL_CB_MSG_IN sees every message with its full length before libnl
 * dispatches it: the only place the extended-ack attributes can be reached,
 * since the error callback gets just the struct nlmsgerr.
 */
static int on_msg_in(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	size_t payload = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (nlh->nlmsg_type == NLMSG_ERROR && payload >= sizeof(struct nlmsgerr)) {
		const struct nlmsgerr *e = nlmsg_data(nlh);
		size_t fixed = sizeof(*e);

		if (!e->error)
			return NL_OK;
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= NLMSG_HDRLEN)
			fixed += e->msg.nlmsg_len - NLMSG_HDRLEN;
		take_extack(nlh, fixed, st->err->msg, sizeof(st->err->msg));
	} else if (nlh->nlmsg_type == NLMSG_DONE && payload >= sizeof(int)) {
		/* A dump that failed part-way ends with its errno here. */
		int error;

		memcpy(&error, nlmsg_data(nlh), sizeof(error));
		if (error < 0) {
			take_extack(nlh, sizeof(error), st->err->msg, sizeof(st->err->msg));
			set_error(st, error, true);
		}
	}
	return NL_OK;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[EIA_ATTR_MAX + 1];
	int ret;

	if (nlh->nlmsg_type != st->family || !st->fn)
		return NL_SKIP;
	if (genlmsg_parse(nlh, 0, tb, EIA_ATTR_MAX, eia_nl_policy) < 0) {
		st->malformed = true;
		return NL_SKIP;
	}
	ret = st->fn(genlmsg_hdr(nlh)->cmd, tb, st->arg);
	if (ret < 0) {
		set_error(st, ret, false);
		return NL_STOP;
	}
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct call_state *st = arg;

	(void)nla;
	set_error(st, e->error, true);
	return NL_STOP;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;

	(void)msg;
	st->done = true;
	return NL_STOP;
}

int eia_nl_call(struct eia_nl *nl, struct nl_msg *msg, eia_nl_handler fn,
		void *arg, struct eia_nl_error *err)
{
	struct call_state st = { .fn = fn, .arg = arg, .family = nl->family, .err = err };
	struct nl_cb *cb;
	int ret;

	memset(err, 0, sizeof(*err));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		set_error(&st, -ENOMEM, false);
		return err->err;
	}
	nl_cb_set(cb, NL_CB_MSG_IN, NL_CB_CUSTOM, on_msg_in, &st);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &st);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, &st);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, &st);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &st);

	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		snprintf(err->msg, sizeof(err->msg), "sending the request: %s", nl_geterror(ret));
		set_error(&st, -EIO, false);
	}
	while (!st.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !st.done) {
			snprintf(err->msg, sizeof(err->msg), "receiving the answer: %s",
				 nl_geterror(ret));
			set_error(&st, -EIO, false);
		}
	}
	nl_cb_put(cb);
	if (!err->err && st.malformed) {
		snprintf(err->msg, sizeof(err->msg), "malformed message from the kernel");
		err->err = -EPROTO;
	}
	return err->err;
}

void eia_nl_report(const char *what, const struct eia_nl_error *err)
{
	const char *verdict = err->from_kernel ? "refused" : "failed";

	if (err->msg[0])
		cli_err("%s %s: %s (%s)", what, verdict, err->msg, strerror(-err->err));
	else
		cli_err("%s %s: %s", what, verdict, strerror(-err->err));
}

int eia_nl_subscribe_events(struct eia_nl *nl)
{
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sk, EIA_GENL_NAME, EIA_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		cli_err("cannot find the '%s' multicast group: %s", EIA_GENL_MCGRP_EVENTS,
			nl_geterror(grp));
		return -ENOENT;
	}
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret < 0) {
		cli_err("cannot join the '%s' multicast group: %s", EIA_GENL_MCGRP_EVENTS,
			nl_geterror(ret));
		return -EIO;
	}
	/* Best effort: a smaller buffer only means overflows come sooner, and
	 * those are reported.
	 */
	nl_socket_set_buffer_size(nl->sk, EIA_NL_EVENT_RCVBUF, 0);
	return 0;
}

/* Events are not answers to a request of ours: any sequence number goes. */
static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int eia_nl_recv_events(struct eia_nl *nl, eia_nl_handler fn, void *arg)
{
	struct eia_nl_error err = { 0 };
	struct call_state st = { .fn = fn, .arg = arg, .family = nl->family, .err = &err };
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		cli_err("out of memory");
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &st);
	ret = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (err.err) {
		cli_err("handling an event: %s", strerror(-err.err));
		return err.err;
	}
	if (ret < 0) {
		/* libnl folds ENOBUFS into NLE_NOMEM; errno still tells. */
		if (ret == -NLE_NOMEM && errno == ENOBUFS)
			return -ENOBUFS;
		cli_err("receiving events: %s", nl_geterror(ret));
		return -EIO;
	}
	if (st.malformed)
		cli_err("ignored a malformed event from the kernel");
	return 0;
}
