// SPDX-License-Identifier: MIT
#include "gpud_util.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS	10000
#define STOP_TIMEOUT_MS		10000
#define LISTENING		"gpud: listening on 127.0.0.1:"

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

const char *gpud_path(void)
{
	const char *env = getenv("EIA_GPUD");

	return env && *env ? env : GPUD_SAN_PATH;
}

static void *reader_main(void *arg)
{
	struct gpud_proc *g = arg;
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(g->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&g->lock);
		if (n <= 0) {
			g->eof = true;
			pthread_cond_broadcast(&g->grew);
			pthread_mutex_unlock(&g->lock);
			return NULL;
		}
		if (g->len + (size_t)n + 1 > g->cap) {
			size_t cap = (g->len + (size_t)n + 1) * 2;
			char *p = realloc(g->log, cap);

			if (!p) {
				pthread_mutex_unlock(&g->lock);
				continue;
			}
			g->log = p;
			g->cap = cap;
		}
		memcpy(g->log + g->len, buf, (size_t)n);
		g->len += (size_t)n;
		g->log[g->len] = '\0';
		pthread_cond_broadcast(&g->grew);
		pthread_mutex_unlock(&g->lock);
	}
}

static int write_conf(struct gpud_proc *g, const char *conf)
{
	size_t len = strlen(conf);
	int fd;

	snprintf(g->conf, sizeof(g->conf), "/tmp/eia-gpud-test-XXXXXX");
	fd = mkstemp(g->conf);
	if (fd < 0) {
		g->conf[0] = '\0';
		return -1;
	}
	if (write(fd, conf, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int gpud_spawn(struct gpud_proc *g, const char *conf, const char *const *args)
{
	const char *argv[32];
	int pipefd[2], n = 0;

	memset(g, 0, sizeof(*g));
	g->out_fd = -1;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->grew, NULL);
	if (conf && write_conf(g, conf))
		return -1;

	argv[n++] = gpud_path();
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	/* The CPU backend's figures are what the tests expect, GPU or not. */
	argv[n++] = "--backend";
	argv[n++] = "cpu";
	if (conf) {
		argv[n++] = "--config";
		argv[n++] = g->conf;
	}
	while (args && *args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	g->pid = fork();
	if (g->pid < 0)
		return -1;
	if (g->pid == 0) {
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	g->out_fd = pipefd[0];
	if (pthread_create(&g->reader, NULL, reader_main, g))
		return -1;
	g->reader_started = true;
	return 0;
}

bool gpud_log_wait(struct gpud_proc *g, const char *needle, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct timespec ts;
	bool found;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		found = g->log && strstr(g->log, needle);
		if (found || g->eof || now_ms() >= deadline)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->grew, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	return found;
}

int gpud_start(struct gpud_proc *g, const char *conf, const char *const *args)
{
	unsigned long port;

	if (gpud_spawn(g, conf, args) ||
	    !gpud_log_wait(g, LISTENING, START_TIMEOUT_MS))
		return -1;
	/* Read by now: gone even if the test dies before gpud_stop(). */
	if (g->conf[0]) {
		unlink(g->conf);
		g->conf[0] = '\0';
	}
	port = gpud_log_number(g, LISTENING);
	if (!port || port > 65535)
		return -1;
	g->port = (uint16_t)port;
	return 0;
}

int gpud_wait(struct gpud_proc *g, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	pid_t ret;

	if (g->reaped)
		return g->status;
	if (g->pid <= 0)
		return -1;
	for (;;) {
		ret = waitpid(g->pid, &g->status, WNOHANG);
		if (ret == g->pid) {
			g->reaped = true;
			return g->status;
		}
		if (ret < 0 || now_ms() >= deadline)
			return -1;
		usleep(5000);
	}
}

int gpud_stop(struct gpud_proc *g)
{
	int status = -1;

	if (g->pid > 0) {
		if (!g->reaped)
			kill(g->pid, SIGTERM);
		status = gpud_wait(g, STOP_TIMEOUT_MS);
		if (status == -1 && !g->reaped) {
			kill(g->pid, SIGKILL);
			waitpid(g->pid, NULL, 0);
			g->reaped = true;
			g->status = -1;
		}
	}
	if (g->reader_started) {
		pthread_join(g->reader, NULL);
		g->reader_started = false;
	}
	if (g->out_fd >= 0) {
		close(g->out_fd);
		g->out_fd = -1;
	}
	if (g->conf[0]) {
		unlink(g->conf);
		g->conf[0] = '\0';
	}
	return status;
}

void gpud_free(struct gpud_proc *g)
{
	free(g->log);
	g->log = NULL;
	g->len = g->cap = 0;
	pthread_cond_destroy(&g->grew);
	pthread_mutex_destroy(&g->lock);
	g->pid = 0;
}

bool gpud_log_has(struct gpud_proc *g, const char *needle)
{
	return gpud_log_count(g, needle) > 0;
}

unsigned long gpud_log_number(struct gpud_proc *g, const char *needle)
{
	unsigned long n = 0;
	const char *p;

	pthread_mutex_lock(&g->lock);
	p = g->log ? strstr(g->log, needle) : NULL;
	if (p)
		n = strtoul(p + strlen(needle), NULL, 10);
	pthread_mutex_unlock(&g->lock);
	return n;
}

unsigned int gpud_log_count(struct gpud_proc *g, const char *needle)
{
	unsigned int n = 0;
	const char *p;

	pthread_mutex_lock(&g->lock);
	for (p = g->log; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	pthread_mutex_unlock(&g->lock);
	return n;
}

bool gpud_sanitizer_clean(struct gpud_proc *g)
{
	bool clean;

	pthread_mutex_lock(&g->lock);
	clean = !g->log || (!strstr(g->log, "Sanitizer") &&
			    !strstr(g->log, "runtime error"));
	pthread_mutex_unlock(&g->lock);
	return clean;
}

int client_connect(uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = {
		.tv_sec = CLIENT_TIMEOUT_MS / 1000,
		.tv_usec = (CLIENT_TIMEOUT_MS % 1000) * 1000,
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, err;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int send_raw(int fd, const struct eia_wire_hdr *h, const void *payload, size_t len)
{
	int ret = eia_write_full(fd, h, sizeof(*h));

	if (!ret && len)
		ret = eia_write_full(fd, payload, len);
	return ret;
}

int recv_reply(int fd, struct reply *r)
{
	memset(&r->hdr, 0, sizeof(r->hdr));
	return eia_wire_recv(fd, &r->hdr, r->payload, sizeof(r->payload));
}

void hello_req(struct eia_wire_hello_req *req, const char *type, const char *resume_id)
{
	memset(req, 0, sizeof(*req));
	snprintf(req->type, sizeof(req->type), "%s", type);
	if (resume_id)
		snprintf(req->resume_id, sizeof(req->resume_id), "%s", resume_id);
}

/* Send one request and receive the reply to it; status or -errno. */
static int transact(int fd, uint16_t op, uint64_t tag, const void *payload,
		    uint32_t len, struct reply *r)
{
	int ret = eia_wire_send(fd, op, 0, 0, tag, payload, len);

	if (!ret)
		ret = recv_reply(fd, r);
	if (ret)
		return ret;
	if (r->hdr.opcode != op || r->hdr.tag != tag ||
	    r->hdr.flags != EIA_WIRE_F_RESPONSE)
		return -EPROTO;
	return (int)r->hdr.status;
}

int do_hello(int fd, const char *type, const char *resume_id, uint64_t tag,
	     struct reply *r, struct eia_wire_hello_resp *resp)
{
	struct eia_wire_hello_req req;
	int ret;

	hello_req(&req, type, resume_id);
	ret = transact(fd, EIA_MSG_HELLO, tag, &req, sizeof(req), r);
	if (ret == 0) {
		if (r->hdr.payload_len != sizeof(*resp))
			return -EPROTO;
		memcpy(resp, r->payload, sizeof(*resp));
	}
	return ret;
}

int do_ping(int fd, uint64_t cookie, uint32_t delay_ms, uint64_t tag,
	    struct reply *r)
{
	struct eia_wire_ping p = {
		.cookie = htole64(cookie),
		.delay_ms = htole32(delay_ms),
	};

	return transact(fd, EIA_MSG_PING, tag, &p, sizeof(p), r);
}

int do_status(int fd, struct server_status *st)
{
	struct eia_wire_server_status head;
	struct eia_wire_type_status ts;
	struct reply *r = malloc(sizeof(*r));
	uint32_t i;
	int ret;

	if (!r)
		return -ENOMEM;
	ret = transact(fd, EIA_MSG_SERVER_STATUS, 77, NULL, 0, r);
	if (ret)
		goto out;
	ret = -EPROTO;
	if (r->hdr.payload_len < sizeof(head))
		goto out;
	memcpy(&head, r->payload, sizeof(head));
	memset(st, 0, sizeof(*st));
	st->sessions = le32toh(head.sessions);
	st->connections = le32toh(head.connections);
	st->ntypes = le32toh(head.ntypes);
	memcpy(st->backend, head.backend, sizeof(st->backend));
	if (st->ntypes > EIA_WIRE_MAX_TYPES ||
	    r->hdr.payload_len != sizeof(head) + st->ntypes * sizeof(ts) ||
	    !eia_wire_str_ok(st->backend, sizeof(st->backend)))
		goto out;
	for (i = 0; i < st->ntypes; i++) {
		memcpy(&ts, r->payload + sizeof(head) + i * sizeof(ts), sizeof(ts));
		if (!eia_wire_str_ok(ts.type, sizeof(ts.type)))
			goto out;
		memcpy(st->types[i].type, ts.type, sizeof(ts.type));
		st->types[i].memory_bytes = le64toh(ts.memory_bytes);
		st->types[i].fp32_mtflops = le32toh(ts.fp32_mtflops);
		st->types[i].fp16_mtflops = le32toh(ts.fp16_mtflops);
		st->types[i].in_use = le32toh(ts.in_use);
		st->types[i].available = le32toh(ts.available);
	}
	ret = 0;
out:
	free(r);
	return ret;
}

int query_status(uint16_t port, struct server_status *st)
{
	int fd = client_connect(port), ret;

	if (fd < 0)
		return fd;
	ret = do_status(fd, st);
	close(fd);
	return ret;
}

int status_find(const struct server_status *st, const char *type)
{
	uint32_t i;

	for (i = 0; i < st->ntypes; i++)
		if (!strcmp(st->types[i].type, type))
			return (int)i;
	return -1;
}

bool wait_counts(uint16_t port, uint32_t sessions, uint32_t others, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct server_status *st = malloc(sizeof(*st));
	bool ok = false;

	while (st && !ok && now_ms() < deadline) {
		ok = !query_status(port, st) && st->sessions == sessions &&
		     st->connections == others + 1;
		if (!ok)
			usleep(10000);
	}
	free(st);
	return ok;
}

bool peer_closed(int fd)
{
	char c;
	ssize_t n;

	do
		n = recv(fd, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}
