/* SPDX-License-Identifier: MIT */
/*
 * Naming and reaching a gpud: HOST[:PORT] parsing and a TCP connect that
 * tries every address the name resolves to, each within a time limit.
 */
#ifndef EIA_CLI_CONNECT_H
#define EIA_CLI_CONNECT_H

#include <netdb.h>

#include "eia_netlink.h"

/* Each address gets this long to accept the connection. */
#define EIA_CONNECT_TIMEOUT_MS	10000

/**
 * struct eia_endpoint - a server as the user named it
 * @host: host name or address, without brackets
 * @port: decimal port, 1..65535
 * @name: "HOST:PORT" as the user wrote it, with the default port added
 *	when none was given and brackets around a bare IPv6 address; this is
 *	what messages show and what the kernel gets as EIA_ATTR_SERVER
 */
struct eia_endpoint {
	char host[NI_MAXHOST];
	char port[NI_MAXSERV];
	char name[EIA_SERVER_NAME_MAX];
};

/*
 * Parses "host", "host:port", "[v6addr]", "[v6addr]:port" or a bare IPv6
 * address (which then has no port). Returns 0, or -EINVAL with *@why
 * saying what is wrong.
 */
int eia_endpoint_parse(const char *spec, struct eia_endpoint *ep, const char **why);

/*
 * Resolves @ep and connects to the first address that accepts within
 * EIA_CONNECT_TIMEOUT_MS. Returns a connected, blocking TCP socket, or -1
 * after printing why it failed ("cannot connect to NAME: REASON").
 */
int eia_connect(const struct eia_endpoint *ep);

#endif /* EIA_CLI_CONNECT_H */
