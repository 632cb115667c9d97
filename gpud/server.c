// SPDX-License-Identifier: MIT
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

/* Connection threads do little but block on a socket: a small stack will do. */
#define CONN_STACK_SIZE		(512 * 1024)
/* How often "connection refused" kinds of lines may appear. */
#define RATELIMIT_SEC		1
/* After accept() fails for want of resources, before trying again. */
#define ACCEPT_BACKOFF_MS	100

/* At most one line per RATELIMIT_SEC; counts what it swallowed. Accept thread only. */
struct ratelimit {
	time_t last;
	unsigned int suppressed;
};

/*
 * Locking: @lock protects @live, @done and @nlive; it is never held across
 * I/O other than shutdown() and never together with the registry's lock.
 */
struct gpud_server {
	int lfd;
	int stop_efd;		/* readable once shutdown starts: wakes PING delays */
	int reap_efd;		/* a connection thread finished: join it */
	struct gpud_registry *reg;
	struct gpud_engine *eng;
	unsigned int max_connections;
	bool isolate;		/* tenant workers (tenant.h) */
	char address[INET6_ADDRSTRLEN + 8];
	struct ratelimit limit_rl, accept_rl;
	pthread_attr_t attr;
	pthread_attr_t exec_attr;
	pthread_mutex_t lock;
	pthread_cond_t finished;
	struct gpud_conn *live;		/* serving */
	struct gpud_conn *done;		/* thread ending or ended, not joined */
	unsigned int nlive;
};

/* True when a line may be logged now; *@suppressed gets how many were not. */
static bool ratelimit_ok(struct ratelimit *rl, unsigned int *suppressed)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (rl->last && now.tv_sec - rl->last < RATELIMIT_SEC) {
		rl->suppressed++;
		return false;
	}
	rl->last = now.tv_sec ? now.tv_sec : 1;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	}
}

static int open_listener(const char *addr, char *bound, size_t boundlen,
			 char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (gpud_parse_addr(addr, &ss, &len, err, errlen))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* A restarted gpud must get its port back despite old TIME_WAITs. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, SOMAXCONN)) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	format_addr(&ss, bound, boundlen);
	return fd;
}

struct gpud_server *gpud_server_listen(const char *addr, struct gpud_registry *reg,
				       struct gpud_engine *eng,
				       unsigned int max_connections, char *err,
				       size_t errlen)
{
	struct gpud_server *srv = calloc(1, sizeof(*srv));

	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->reg = reg;
	srv->eng = eng;
	srv->max_connections = max_connections;
	srv->stop_efd = eventfd(0, EFD_CLOEXEC);
	srv->reap_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->stop_efd < 0 || srv->reap_efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	srv->lfd = open_listener(addr, srv->address, sizeof(srv->address), err, errlen);
	if (srv->lfd < 0)
		goto fail;
	pthread_attr_init(&srv->attr);
	pthread_attr_setstacksize(&srv->attr, CONN_STACK_SIZE);
	pthread_attr_init(&srv->exec_attr);
	pthread_attr_setstacksize(&srv->exec_attr, GPUD_EXEC_STACK_SIZE);
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->finished, NULL);
	return srv;
fail:
	if (srv->stop_efd >= 0)
		close(srv->stop_efd);
	if (srv->reap_efd >= 0)
		close(srv->reap_efd);
	free(srv);
	return NULL;
}

void gpud_server_isolate(struct gpud_server *srv, bool process)
{
	srv->isolate = process;
}

const char *gpud_server_address(const struct gpud_server *srv)
{
	return srv->address;
}

unsigned int gpud_server_connections(struct gpud_server *srv)
{
	unsigned int n;

	pthread_mutex_lock(&srv->lock);
	n = srv->nlive;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

static void list_add(struct gpud_conn **head, struct gpud_conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void list_del(struct gpud_conn **head, struct gpud_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void *conn_thread(void *arg)
{
	struct gpud_conn *c = arg;
	struct gpud_server *srv = c->srv;
	int fd = c->fd;

	gpud_conn_serve(c);
	/* Off the live list before close(), so shutdown never touches a reused fd. */
	pthread_mutex_lock(&srv->lock);
	list_del(&srv->live, c);
	srv->nlive--;
	list_add(&srv->done, c);
	pthread_cond_signal(&srv->finished);
	pthread_mutex_unlock(&srv->lock);
	close(fd);
	eventfd_write(srv->reap_efd, 1);
	return NULL;
}

/* Join finished threads; with @all, wait for every thread to finish. */
static void reap(struct gpud_server *srv, bool all)
{
	struct gpud_conn *c;

	pthread_mutex_lock(&srv->lock);
	while (srv->done || (all && srv->live)) {
		if (!srv->done) {
			pthread_cond_wait(&srv->finished, &srv->lock);
			continue;
		}
		c = srv->done;
		list_del(&srv->done, c);
		pthread_mutex_unlock(&srv->lock);
		pthread_join(c->thread, NULL);
		free(c);
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
}

static void start_conn(struct gpud_server *srv, int fd, const char *peer)
{
	struct gpud_conn *c = calloc(1, sizeof(*c));
	unsigned int suppressed;
	int one = 1, ret;

	if (!c) {
		gpud_err("out of memory, dropping %s", peer);
		close(fd);
		return;
	}
	/* PINGs and HELLOs are small and latency matters. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->srv = srv;
	c->reg = srv->reg;
	c->eng = srv->eng;
	c->exec_attr = &srv->exec_attr;
	c->stop_fd = srv->stop_efd;
	c->isolate = srv->isolate;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);

	pthread_mutex_lock(&srv->lock);
	if (srv->nlive >= srv->max_connections) {
		pthread_mutex_unlock(&srv->lock);
		if (ratelimit_ok(&srv->limit_rl, &suppressed))
			gpud_info("connection limit (%u) reached, refusing %s (%u more refused before)",
				  srv->max_connections, peer, suppressed);
		close(fd);
		free(c);
		return;
	}
	list_add(&srv->live, c);
	srv->nlive++;
	/* Under the lock: a reaper must not see @c before c->thread is set. */
	ret = pthread_create(&c->thread, &srv->attr, conn_thread, c);
	if (ret) {
		list_del(&srv->live, c);
		srv->nlive--;
	}
	pthread_mutex_unlock(&srv->lock);
	if (ret) {
		gpud_err("cannot start a thread for %s: %s", peer, strerror(ret));
		close(fd);
		free(c);
	}
}

static void accept_one(struct gpud_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[INET6_ADDRSTRLEN + 8];
	unsigned int suppressed;
	int fd;

	fd = accept4(srv->lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
			return;
		if (ratelimit_ok(&srv->accept_rl, &suppressed))
			gpud_err("accept: %s (%u similar errors before)", strerror(errno),
				 suppressed);
		/* Out of descriptors or memory: the backlog stays readable, so wait. */
		poll(NULL, 0, ACCEPT_BACKOFF_MS);
		return;
	}
	format_addr(&ss, peer, sizeof(peer));
	start_conn(srv, fd, peer);
}

int gpud_server_run(struct gpud_server *srv, int stop_fd)
{
	struct pollfd pfd[3] = {
		{ .fd = stop_fd, .events = POLLIN },
		{ .fd = srv->reap_efd, .events = POLLIN },
		{ .fd = srv->lfd, .events = POLLIN },
	};
	eventfd_t count;

	for (;;) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			gpud_err("poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[0].revents)
			return 0;
		if (pfd[1].revents && !eventfd_read(srv->reap_efd, &count))
			reap(srv, false);
		if (pfd[2].revents)
			accept_one(srv);
	}
}

unsigned int gpud_server_shutdown(struct gpud_server *srv)
{
	unsigned int sessions;
	struct gpud_conn *c;

	close(srv->lfd);
	sessions = gpud_registry_sessions(srv->reg);
	/* Running buffers stop at their next command; nothing will read them. */
	atomic_store(&srv->eng->stopping, true);
	eventfd_write(srv->stop_efd, 1);
	pthread_mutex_lock(&srv->lock);
	for (c = srv->live; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv->lock);
	reap(srv, true);

	pthread_cond_destroy(&srv->finished);
	pthread_mutex_destroy(&srv->lock);
	pthread_attr_destroy(&srv->attr);
	pthread_attr_destroy(&srv->exec_attr);
	close(srv->stop_efd);
	close(srv->reap_efd);
	free(srv);
	return sessions;
}
