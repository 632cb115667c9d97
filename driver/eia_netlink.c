// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "eia" (uapi/eia_netlink.h): attach, detach,
 * reconfigure and list devices, and the "events" multicast group.
 *
 * Commands run in parallel (parallel_ops): an ATTACH waiting for gpud's
 * HELLO must not hold the global genetlink mutex. The registry and the
 * per-device cfg_lock serialise what needs it.
 */

#include <linux/err.h>
#include <linux/stringify.h>
#include <net/genetlink.h>

#include "eia_priv.h"

static const struct nla_policy eia_nl_policy[EIA_ATTR_MAX + 1] = {
	[EIA_ATTR_INDEX]	= { .type = NLA_U32 },
	[EIA_ATTR_SOCK_FD]	= { .type = NLA_U32 },
	[EIA_ATTR_TYPE]		= { .type = NLA_NUL_STRING,
				    .len = EIA_TYPE_NAME_MAX - 1 },
	[EIA_ATTR_SERVER]	= { .type = NLA_NUL_STRING,
				    .len = EIA_SERVER_NAME_MAX - 1 },
	[EIA_ATTR_TIMEOUT_MS]	= { .type = NLA_U32 },
};

static struct genl_family eia_genl_family;

/**
 * eia_nl_fill_dev() - put one message describing a device
 * @skb: the message buffer
 * @edev: the device
 * @portid: destination port (0 for multicast)
 * @seq: sequence number
 * @flags: netlink flags (NLM_F_MULTI in dumps)
 * @cmd: the command of the message
 *
 * Return: 0 or -EMSGSIZE.
 */
int eia_nl_fill_dev(struct sk_buff *skb, struct eia_device *edev, u32 portid,
		    u32 seq, int flags, u8 cmd)
{
	struct eia_snapshot snap;
	void *hdr;

	eia_dev_snapshot(edev, &snap);
	hdr = genlmsg_put(skb, portid, seq, &eia_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, EIA_ATTR_INDEX, edev->index) ||
	    nla_put_string(skb, EIA_ATTR_DEV_NAME, dev_name(&edev->dev)) ||
	    nla_put_string(skb, EIA_ATTR_TYPE, snap.type) ||
	    nla_put_string(skb, EIA_ATTR_ACCEL_ID, snap.accel_id) ||
	    nla_put_u32(skb, EIA_ATTR_STATUS, snap.status) ||
	    nla_put_string(skb, EIA_ATTR_SERVER, snap.server) ||
	    nla_put_u32(skb, EIA_ATTR_TIMEOUT_MS, snap.timeout_ms) ||
	    nla_put_u64_64bit(skb, EIA_ATTR_MEMORY_TOTAL, snap.memory_total,
			      EIA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, EIA_ATTR_MEMORY_USED, snap.memory_used,
			      EIA_ATTR_PAD) ||
	    nla_put_u32(skb, EIA_ATTR_FP32_MTFLOPS, snap.fp32_mtflops) ||
	    nla_put_u32(skb, EIA_ATTR_FP16_MTFLOPS, snap.fp16_mtflops) ||
	    nla_put_u64_64bit(skb, EIA_ATTR_REQUESTS,
			      atomic64_read(&edev->requests), EIA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, EIA_ATTR_ERRORS,
			      atomic64_read(&edev->errors), EIA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, EIA_ATTR_BYTES_SENT,
			      atomic64_read(&edev->bytes_sent), EIA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, EIA_ATTR_BYTES_RECEIVED,
			      atomic64_read(&edev->bytes_received), EIA_ATTR_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/**
 * eia_nl_event() - multicast an event about a device to the "events" group
 * @edev: the device
 * @cmd: EIA_CMD_EVENT_*
 *
 * Events carry the same attributes as EIA_CMD_GET. A listener that cannot
 * keep up loses events (the socket reports ENOBUFS); none is fatal here.
 */
void eia_nl_event(struct eia_device *edev, u8 cmd)
{
	struct sk_buff *skb;

	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return;
	if (eia_nl_fill_dev(skb, edev, 0, 0, 0, cmd)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_multicast(&eia_genl_family, skb, 0, 0, GFP_KERNEL);
}

/* The request timeout attribute, range-checked, or @dflt without one. */
static int eia_nl_timeout(struct genl_info *info, u32 dflt, u32 *timeout_ms)
{
	struct nlattr *attr = info->attrs[EIA_ATTR_TIMEOUT_MS];

	*timeout_ms = dflt;
	if (!attr)
		return 0;
	*timeout_ms = nla_get_u32(attr);
	if (*timeout_ms < EIA_TIMEOUT_MS_MIN || *timeout_ms > EIA_TIMEOUT_MS_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "timeout must be within "
				    __stringify(EIA_TIMEOUT_MS_MIN) ".."
				    __stringify(EIA_TIMEOUT_MS_MAX) " ms");
		return -EINVAL;
	}
	return 0;
}

/* The device named by the required EIA_ATTR_INDEX, with a reference. */
static struct eia_device *eia_nl_dev(struct genl_info *info)
{
	struct eia_device *edev;

	if (GENL_REQ_ATTR_CHECK(info, EIA_ATTR_INDEX)) {
		NL_SET_ERR_MSG(info->extack, "missing device index");
		return ERR_PTR(-EINVAL);
	}
	edev = eia_dev_get(nla_get_u32(info->attrs[EIA_ATTR_INDEX]));
	if (!edev) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[EIA_ATTR_INDEX],
				    "no such device");
		return ERR_PTR(-ENODEV);
	}
	return edev;
}

/* A connection for the socket in EIA_ATTR_SOCK_FD, not started yet. */
static struct eia_conn *eia_nl_conn(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[EIA_ATTR_SOCK_FD];
	struct eia_conn *conn;
	struct socket *sock;

	sock = eia_sock_lookup(nla_get_u32(attr), attr, info->extack);
	if (IS_ERR(sock))
		return ERR_CAST(sock);
	conn = eia_conn_create(sock, info->extack);
	if (IS_ERR(conn))
		sockfd_put(sock);
	return conn;
}

static int eia_nl_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	char server[EIA_SERVER_NAME_MAX];
	struct eia_device *edev;
	struct eia_grant grant;
	struct eia_conn *conn;
	struct sk_buff *reply;
	const char *type;
	u32 timeout_ms;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, EIA_ATTR_SOCK_FD)) {
		NL_SET_ERR_MSG(info->extack, "missing socket file descriptor");
		return -EINVAL;
	}
	if (GENL_REQ_ATTR_CHECK(info, EIA_ATTR_TYPE)) {
		NL_SET_ERR_MSG(info->extack, "missing accelerator type");
		return -EINVAL;
	}
	err = eia_nl_timeout(info, eia_request_timeout_ms, &timeout_ms);
	if (err)
		return err;
	type = nla_data(attrs[EIA_ATTR_TYPE]);
	if (!*type) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[EIA_ATTR_TYPE],
				    "accelerator type is empty");
		return -EINVAL;
	}

	conn = eia_nl_conn(info);
	if (IS_ERR(conn))
		return PTR_ERR(conn);
	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply) {
		err = -ENOMEM;
		goto out_conn;
	}
	err = eia_conn_hello(conn, type, "", timeout_ms, &grant, info->extack);
	if (err)
		goto out_reply;
	if (attrs[EIA_ATTR_SERVER])
		nla_strscpy(server, attrs[EIA_ATTR_SERVER], sizeof(server));
	else
		eia_sock_peer_name(conn->sock, server, sizeof(server));

	edev = eia_dev_create(conn, &grant, server, timeout_ms, info->extack);
	if (IS_ERR(edev)) {
		err = PTR_ERR(edev);
		goto out_reply;
	}
	err = eia_nl_fill_dev(reply, edev, info->snd_portid, info->snd_seq, 0,
			      EIA_CMD_ATTACH);
	eia_dev_put(edev);
	if (err)
		goto out_reply;
	eia_conn_put(conn);
	return genlmsg_reply(reply, info);

out_reply:
	nlmsg_free(reply);
out_conn:
	eia_conn_put(conn);
	return err;
}

static int eia_nl_detach(struct sk_buff *skb, struct genl_info *info)
{
	struct eia_device *edev;
	int err;

	edev = eia_nl_dev(info);
	if (IS_ERR(edev))
		return PTR_ERR(edev);
	err = eia_dev_detach(edev);
	if (err)
		NL_SET_ERR_MSG(info->extack, "device is already being detached");
	eia_dev_put(edev);
	return err;
}

static int eia_nl_reconfigure(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	char server[EIA_SERVER_NAME_MAX];
	struct eia_conn *conn = NULL;
	struct eia_device *edev;
	u32 timeout_ms;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, EIA_ATTR_INDEX)) {
		NL_SET_ERR_MSG(info->extack, "missing device index");
		return -EINVAL;
	}
	err = eia_nl_timeout(info, 0, &timeout_ms);
	if (err)
		return err;
	if (!attrs[EIA_ATTR_SOCK_FD] && !attrs[EIA_ATTR_SERVER] &&
	    !attrs[EIA_ATTR_TIMEOUT_MS]) {
		NL_SET_ERR_MSG(info->extack,
			       "nothing to change: give a socket, a server or a timeout");
		return -EINVAL;
	}
	if (attrs[EIA_ATTR_SERVER])
		nla_strscpy(server, attrs[EIA_ATTR_SERVER], sizeof(server));

	edev = eia_nl_dev(info);
	if (IS_ERR(edev))
		return PTR_ERR(edev);
	if (attrs[EIA_ATTR_SOCK_FD]) {
		conn = eia_nl_conn(info);
		if (IS_ERR(conn)) {
			err = PTR_ERR(conn);
			goto out_dev;
		}
	}
	err = eia_dev_reconfigure(edev, conn,
				  attrs[EIA_ATTR_SERVER] ? server : NULL,
				  timeout_ms, info->extack);
	if (conn)
		eia_conn_put(conn);
out_dev:
	eia_dev_put(edev);
	return err;
}

static int eia_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct eia_device *edev;
	struct sk_buff *reply;
	int err;

	edev = eia_nl_dev(info);
	if (IS_ERR(edev))
		return PTR_ERR(edev);
	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply) {
		err = -ENOMEM;
		goto out_dev;
	}
	err = eia_nl_fill_dev(reply, edev, info->snd_portid, info->snd_seq, 0,
			      EIA_CMD_GET);
	if (err) {
		nlmsg_free(reply);
		goto out_dev;
	}
	err = genlmsg_reply(reply, info);
out_dev:
	eia_dev_put(edev);
	return err;
}

/* Every device, in index order; cb->args[0] is where the next part starts. */
static int eia_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct eia_device *edev;
	u32 index = cb->args[0];
	int err;

	while ((edev = eia_dev_get_next(&index))) {
		err = eia_nl_fill_dev(skb, edev, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      EIA_CMD_GET);
		eia_dev_put(edev);
		if (err)
			break;
		index++;
	}
	cb->args[0] = index;
	return skb->len;
}

static const struct genl_small_ops eia_nl_ops[] = {
	{
		.cmd = EIA_CMD_ATTACH,
		.flags = GENL_ADMIN_PERM,
		.doit = eia_nl_attach,
	},
	{
		.cmd = EIA_CMD_DETACH,
		.flags = GENL_ADMIN_PERM,
		.doit = eia_nl_detach,
	},
	{
		.cmd = EIA_CMD_RECONFIGURE,
		.flags = GENL_ADMIN_PERM,
		.doit = eia_nl_reconfigure,
	},
	{
		.cmd = EIA_CMD_GET,
		.doit = eia_nl_get,
		.dumpit = eia_nl_dump,
	},
};

static const struct genl_multicast_group eia_nl_mcgrps[] = {
	{ .name = EIA_GENL_MCGRP_EVENTS },
};

static struct genl_family eia_genl_family __ro_after_init = {
	.name		= EIA_GENL_NAME,
	.version	= EIA_GENL_VERSION,
	.maxattr	= EIA_ATTR_MAX,
	.policy		= eia_nl_policy,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.small_ops	= eia_nl_ops,
	.n_small_ops	= ARRAY_SIZE(eia_nl_ops),
	.resv_start_op	= 0,
	.mcgrps		= eia_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(eia_nl_mcgrps),
};

int __init eia_nl_register(void)
{
	return genl_register_family(&eia_genl_family);
}

void eia_nl_unregister(void)
{
	genl_unregister_family(&eia_genl_family);
}
