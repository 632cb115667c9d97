/* SPDX-License-Identifier: MIT */
/*
 * Talking to eia.ko's generic netlink family through libnl-genl: resolve the
 * family, send a request and collect its replies, its ack or its error with
 * the kernel's extended-ack message, dump, and receive multicast events.
 *
 * Every message handed to a caller has passed genlmsg_parse() with the
 * family's attribute policy: integers have their size and strings are
 * NUL-terminated and bounded. Whether an attribute is present is still for
 * the caller to check.
 */
#ifndef EIA_CLI_GENL_H
#define EIA_CLI_GENL_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/genl/genl.h>

#include "eia_netlink.h"

struct eia_nl {
	struct nl_sock *sk;
	int family;
};

/* Longest extended-ack message kept, including the NUL. */
#define EIA_NL_MSG_MAX	256

/**
 * struct eia_nl_error - why a request failed
 * @err: negative errno
 * @from_kernel: the kernel refused the request (else it failed here)
 * @msg: the kernel's extended-ack message, or a local explanation; may be ""
 */
struct eia_nl_error {
	int err;
	bool from_kernel;
	char msg[EIA_NL_MSG_MAX];
};

/*
 * Gets each message of the family: its command and its attributes, indexed
 * by enum eia_attr. Returns 0, or a negative errno to stop.
 */
typedef int (*eia_nl_handler)(uint8_t cmd, struct nlattr **attrs, void *arg);

/*
 * Opens a socket and resolves the family. Returns 0, or -ENOENT when the
 * family does not exist (eia.ko is not loaded), or another negative errno
 * after printing why.
 */
int eia_nl_try_open(struct eia_nl *nl);

/* eia_nl_try_open(), and a missing module is reported too. */
int eia_nl_open(struct eia_nl *nl);

void eia_nl_close(struct eia_nl *nl);

/* A new request of the family; @flags adds to NLM_F_REQUEST (NLM_F_DUMP). */
struct nl_msg *eia_nl_msg(const struct eia_nl *nl, uint8_t cmd, int flags);

/*
 * Sends @msg (and frees it), then passes every reply to @fn (which may be
 * NULL) until the ack, the end of a dump, or an error.
 * Returns 0, or a negative errno with @err filled.
 */
int eia_nl_call(struct eia_nl *nl, struct nl_msg *msg, eia_nl_handler fn,
		void *arg, struct eia_nl_error *err);

/*
 * Prints "eia: WHAT refused: MESSAGE (ERRNO TEXT)" when the kernel refused,
 * "eia: WHAT failed: ..." otherwise; without a message just the errno text.
 */
void eia_nl_report(const char *what, const struct eia_nl_error *err);

/* Joins the multicast group of events. Returns 0 or a negative errno. */
int eia_nl_subscribe_events(struct eia_nl *nl);

/* The descriptor to poll() for events. */
int eia_nl_fd(const struct eia_nl *nl);

/*
 * Reads what is waiting on the socket and passes each event to @fn.
 * Returns 0, -ENOBUFS when the kernel dropped events because the socket's
 * buffer was full, or another negative errno after printing why.
 */
int eia_nl_recv_events(struct eia_nl *nl, eia_nl_handler fn, void *arg);

#endif /* EIA_CLI_GENL_H */
