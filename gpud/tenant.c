// SPDX-License-Identifier: MIT
#include "tenant.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "conn.h"
#include "log.h"
#include "pool.h"
#include "wire.h"

#define SPEC_MAGIC	0x74656e31u	/* "ten1" */

extern char **environ;

/*
 * Start the worker with @sock as its descriptor 3 and @spec_rd as its 4.
 * The sources are close-on-exec copies above 4, so that dup2() in the
 * child always makes a new, inheritable descriptor and no other worker
 * started at the same time inherits them.
 */
static int spawn_worker(int sock, int spec_rd, int fair_fd, pid_t *pid)
{
	char *const argv[] = { "gpud", GPUD_TENANT_ARG, NULL };
	posix_spawn_file_actions_t fa;
	int s = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	int p = fcntl(spec_rd, F_DUPFD_CLOEXEC, 10);
	int f = fair_fd >= 0 ? fcntl(fair_fd, F_DUPFD_CLOEXEC, 10) : -1;
	int ret;

	if (s < 0 || p < 0 || (fair_fd >= 0 && f < 0)) {
		ret = errno;
	} else {
		ret = posix_spawn_file_actions_init(&fa);
		if (!ret)
			ret = posix_spawn_file_actions_adddup2(&fa, s, GPUD_TENANT_SOCK_FD);
		if (!ret)
			ret = posix_spawn_file_actions_adddup2(&fa, p, GPUD_TENANT_SPEC_FD);
		if (!ret && f >= 0)
			ret = posix_spawn_file_actions_adddup2(&fa, f, GPUD_TENANT_FAIR_FD);
		if (!ret)
			ret = posix_spawn(pid, "/proc/self/exe", &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	if (s >= 0)
		close(s);
	if (p >= 0)
		close(p);
	if (f >= 0)
		close(f);
	return ret;
}

static void log_exit(const struct gpud_conn *c, pid_t pid, int status)
{
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		gpud_debug("tenant id=%s: worker pid %d exited", c->grant.id, (int)pid);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == GPUD_TENANT_EXIT_FAULT)
		gpud_err("tenant id=%s: worker pid %d ended after a fault on the device; other tenants are unaffected",
			 c->grant.id, (int)pid);
	else if (WIFSIGNALED(status))
		gpud_err("tenant id=%s: worker pid %d killed by SIG%s; other tenants are unaffected",
			 c->grant.id, (int)pid, sigabbrev_np(WTERMSIG(status)));
	else
		gpud_err("tenant id=%s: worker pid %d exited with status %d", c->grant.id,
			 (int)pid, WEXITSTATUS(status));
}

/* Wait for @pid; once gpud stops (@stop_fd readable), tell it to stop too. */
static int wait_worker(int stop_fd, pid_t pid)
{
	struct pollfd pfd[2] = { { .fd = pidfd_open(pid, 0), .events = POLLIN },
				 { .fd = stop_fd, .events = POLLIN } };
	bool told = false;
	int status = 0;

	while (pfd[0].fd >= 0 && !told) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents) {
			kill(pid, SIGTERM);
			told = true;
		}
	}
	if (pfd[0].fd >= 0)
		close(pfd[0].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

int gpud_tenant_run(struct gpud_conn *c, const void *preload, size_t preload_len)
{
	struct gpud_tenant_spec spec = { .magic = SPEC_MAGIC };
	int sv[2], ret;
	pid_t pid;

	memcpy(spec.id, c->grant.id, sizeof(spec.id));
	spec.type = *c->grant.type;
	snprintf(spec.peer, sizeof(spec.peer), "%s", c->peer);
	snprintf(spec.backend, sizeof(spec.backend), "%s", c->eng->be->name);
	spec.threads = eia_pool_size(c->eng->pool);
	spec.verbose = gpud_log_verbose();
	spec.preload_len = (uint32_t)preload_len;
	/* A socket pair rather than a pipe: eia_write_full() sends. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		gpud_err("tenant id=%s: socketpair: %s", c->grant.id, strerror(errno));
		return -1;
	}
	spec.has_fair = c->eng->fair != NULL;
	ret = spawn_worker(c->fd, sv[0], c->eng->fair ? c->eng->fair_fd : -1, &pid);
	close(sv[0]);
	if (ret) {
		close(sv[1]);
		gpud_err("tenant id=%s: cannot start a worker: %s", c->grant.id, strerror(ret));
		return -1;
	}
	/* A worker that died before reading shows in its exit status. */
	if (!eia_write_full(sv[1], &spec, sizeof(spec)))
		eia_write_full(sv[1], preload, preload_len);
	close(sv[1]);
	gpud_info("tenant id=%s: worker pid %d serves peer=%s", c->grant.id, (int)pid, c->peer);
	log_exit(c, pid, wait_worker(c->stop_fd, pid));
	return 0;
}

/* The worker's connection, served on a thread while main() waits for signals. */
struct worker {
	struct gpud_conn conn;
	struct gpud_engine eng;
	pthread_attr_t exec_attr;
	int done_efd;
};

static void *serve_thread(void *arg)
{
	struct worker *w = arg;

	gpud_conn_serve(&w->conn);
	eventfd_write(w->done_efd, 1);
	return NULL;
}

/* Like gpud's own stop: the running buffer stops at its next command. */
static void wait_done_or_stop(struct worker *w, int sigfd)
{
	struct pollfd pfd[2] = { { .fd = w->done_efd, .events = POLLIN },
				 { .fd = sigfd, .events = POLLIN } };

	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return;
		if (pfd[0].revents)
			return;
		if (pfd[1].revents) {
			atomic_store(&w->eng.stopping, true);
			eventfd_write(w->conn.stop_fd, 1);
			shutdown(w->conn.fd, SHUT_RDWR);
			return;
		}
	}
}

/* gpud's arbiter, shared: the worker's device takes its turns there. */
static int map_fair(struct worker *w, const struct gpud_tenant_spec *spec)
{
	struct stat st;
	void *mem;

	if (!spec->has_fair)
		return 0;
	if (fstat(GPUD_TENANT_FAIR_FD, &st) || st.st_size <= 0)
		return -1;
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   GPUD_TENANT_FAIR_FD, 0);
	if (mem == MAP_FAILED)
		return -1;
	w->eng.fair = mem;
	w->eng.fair_fd = GPUD_TENANT_FAIR_FD;
	return 0;
}

static int worker_setup(struct worker *w, const struct gpud_tenant_spec *spec)
{
	char err[GPUD_ERR_MAX];
	int ret;

	if (map_fair(w, spec)) {
		gpud_err("tenant id=%s: cannot map the scheduler's shared memory: %s", spec->id,
			 strerror(errno));
		return -1;
	}

	ret = gpud_backend_open(&w->eng, spec->backend, err, sizeof(err));
	if (ret) {
		gpud_err("tenant id=%s: %s", spec->id, err);
		return -1;
	}
	ret = eia_pool_create(spec->threads, &w->eng.pool);
	if (ret) {
		gpud_err("tenant id=%s: cannot start %u operator threads: %s", spec->id,
			 spec->threads, strerror(-ret));
		gpud_backend_close(&w->eng);
		return -1;
	}
	return 0;
}

int gpud_tenant_main(void)
{
	struct gpud_tenant_spec spec;
	struct worker *w = calloc(1, sizeof(*w));
	void *preload = NULL;
	pthread_t thread;
	sigset_t set;
	int sigfd, status = 1;

	if (!w || eia_read_full(GPUD_TENANT_SPEC_FD, &spec, sizeof(spec)) ||
	    spec.magic != SPEC_MAGIC || spec.preload_len > GPUD_CONN_IN ||
	    !memchr(spec.id, 0, sizeof(spec.id)) || !memchr(spec.backend, 0, sizeof(spec.backend)) ||
	    !memchr(spec.peer, 0, sizeof(spec.peer))) {
		gpud_err("tenant worker: no valid spec on descriptor %d", GPUD_TENANT_SPEC_FD);
		free(w);
		return 1;
	}
	gpud_log_init(spec.verbose);
	gpud_log_worker();
	preload = malloc(spec.preload_len ? spec.preload_len : 1);
	if (!preload || eia_read_full(GPUD_TENANT_SPEC_FD, preload, spec.preload_len)) {
		gpud_err("tenant id=%s: the spec's data did not arrive", spec.id);
		goto out;
	}
	close(GPUD_TENANT_SPEC_FD);
	/* Inherited blocked from gpud; here they arrive on a signalfd too. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	w->done_efd = eventfd(0, EFD_CLOEXEC);
	w->conn.stop_fd = eventfd(0, EFD_CLOEXEC);
	if (sigfd < 0 || w->done_efd < 0 || w->conn.stop_fd < 0) {
		gpud_err("tenant id=%s: cannot set up: %s", spec.id, strerror(errno));
		goto out;
	}
	if (worker_setup(w, &spec))
		goto out;
	pthread_attr_init(&w->exec_attr);
	pthread_attr_setstacksize(&w->exec_attr, GPUD_EXEC_STACK_SIZE);
	w->conn.fd = GPUD_TENANT_SOCK_FD;
	snprintf(w->conn.peer, sizeof(w->conn.peer), "%s", spec.peer);
	w->conn.eng = &w->eng;
	w->conn.exec_attr = &w->exec_attr;
	w->conn.attached = true;
	memcpy(w->conn.grant.id, spec.id, sizeof(spec.id));
	w->conn.grant.type = &spec.type;
	w->conn.acct.limit = spec.type.memory_bytes;
	w->conn.preload = preload;
	w->conn.preload_len = spec.preload_len;
	if (pthread_create(&thread, &w->exec_attr, serve_thread, w)) {
		gpud_err("tenant id=%s: cannot start its thread", spec.id);
	} else {
		wait_done_or_stop(w, sigfd);
		pthread_join(thread, NULL);
		status = w->conn.device_lost ? GPUD_TENANT_EXIT_FAULT : 0;
	}
	pthread_attr_destroy(&w->exec_attr);
	eia_pool_destroy(w->eng.pool);
	gpud_backend_close(&w->eng);
out:
	free(preload);
	free(w);
	return status;
}
