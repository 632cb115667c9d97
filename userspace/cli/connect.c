// SPDX-License-Identifier: MIT
#include "connect.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "eia_wire.h"
#include "timeutil.h"

static int parse_port(const char *s, char port[NI_MAXSERV])
{
	unsigned long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (!v)
		return -EINVAL;
	snprintf(port, NI_MAXSERV, "%lu", v);
	return 0;
}

int eia_endpoint_parse(const char *spec, struct eia_endpoint *ep, const char **why)
{
	const char *host = spec, *port = NULL;
	size_t hostlen;
	bool brackets = false;
	int len;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close) {
			*why = "missing ']' after the IPv6 address";
			return -EINVAL;
		}
		host = spec + 1;
		hostlen = (size_t)(close - host);
		brackets = true;
		if (close[1] == ':') {
			port = close + 2;
		} else if (close[1]) {
			*why = "expected ':PORT' after ']'";
			return -EINVAL;
		}
	} else {
		const char *colon = strchr(spec, ':');

		/* One colon separates the port; more mean a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			hostlen = (size_t)(colon - spec);
			port = colon + 1;
		} else {
			hostlen = strlen(spec);
			brackets = colon != NULL;
		}
	}
	if (!hostlen) {
		*why = "the host is empty";
		return -EINVAL;
	}
	if (hostlen >= sizeof(ep->host)) {
		*why = "the host name is too long";
		return -EINVAL;
	}
	memcpy(ep->host, host, hostlen);
	ep->host[hostlen] = '\0';

	if (port) {
		if (parse_port(port, ep->port)) {
			*why = "the port must be a number from 1 to 65535";
			return -EINVAL;
		}
		len = snprintf(ep->name, sizeof(ep->name), "%s", spec);
	} else {
		snprintf(ep->port, sizeof(ep->port), "%d", EIA_WIRE_DEFAULT_PORT);
		len = snprintf(ep->name, sizeof(ep->name), brackets ? "[%s]:%s" : "%s:%s",
			       ep->host, ep->port);
	}
	if (len < 0 || (size_t)len >= sizeof(ep->name)) {
		*why = "the server name is too long";
		return -EINVAL;
	}
	return 0;
}

/* Waits for a non-blocking connect to finish. Returns 0 or a negative errno. */
static int wait_connected(int fd, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, n;

	do {
		int64_t left = deadline - eia_now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

/*
 * The kernel reads and writes this socket as a plain blocking stream, so it
 * leaves here blocking. TCP_NODELAY because every request waits for its
 * answer: Nagle would only add latency.
 */
static int finish_socket(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	int one = 1;

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK))
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	return 0;
}

/* Returns a connected socket or a negative errno. */
static int connect_one(const struct addrinfo *ai)
{
	int fd, ret = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen))
		ret = errno == EINPROGRESS ? wait_connected(fd, EIA_CONNECT_TIMEOUT_MS) : -errno;
	if (!ret)
		ret = finish_socket(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int eia_connect(const struct eia_endpoint *ep)
{
	const struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	int ret, fd = -ENOENT;

	ret = getaddrinfo(ep->host, ep->port, &hints, &res);
	if (ret) {
		cli_err("cannot resolve %s: %s", ep->host,
			ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		/* The last address's reason: with one address, the only one. */
		cli_err("cannot connect to %s: %s", ep->name, strerror(-fd));
		return -1;
	}
	return fd;
}
