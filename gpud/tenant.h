/* SPDX-License-Identifier: MIT */
/*
 * Tenant workers: with process isolation, each attached accelerator's work
 * runs in a process of its own, so that a fault that ruins a GPU context
 * (an illegal address in a raw kernel: CUDA's "sticky" errors, which only
 * the end of the owning process clears) ends that tenant alone.
 *
 * The connection's thread in the main gpud process reads the HELLO, grants
 * the accelerator from the registry and answers, exactly as without
 * isolation; then it starts a worker (gpud itself, executed again with
 * --tenant-worker) that inherits the socket and serves everything after the
 * HELLO, with a backend, operator pool and GPU context of its own. The
 * thread waits for the worker to exit, then releases the grant as it would
 * for a connection of its own: whatever the worker held on the GPU went
 * with its process.
 *
 * The worker gets, on descriptor 3, the client's socket; on descriptor 4, a
 * socket carrying struct gpud_tenant_spec and then the bytes the main process
 * had read past the HELLO (a client may pipeline its first requests behind
 * it); and on descriptor 5 the memfd of the backend's arbiter (fair.h),
 * which the worker maps and joins with its own thread, so that its death
 * frees its place there as any dead holder's.
 */
#ifndef GPUD_TENANT_H
#define GPUD_TENANT_H

#include <netinet/in.h>
#include <stdint.h>

#include "config.h"
#include "eia_wire.h"

#define GPUD_TENANT_ARG		"--tenant-worker"
#define GPUD_TENANT_SOCK_FD	3
#define GPUD_TENANT_SPEC_FD	4
/* The backend's arbiter (fair.h), shared with gpud, when there is one. */
#define GPUD_TENANT_FAIR_FD	5

/* Exit status of a worker whose GPU context a fault ruined. */
#define GPUD_TENANT_EXIT_FAULT	3

struct gpud_conn;

/* What the worker needs to serve the grant; plain bytes through a socket. */
struct gpud_tenant_spec {
	uint32_t magic;
	uint32_t preload_len;		/* bytes that follow the spec */
	char id[EIA_ACCEL_ID_MAX];
	struct gpud_type type;
	char peer[INET6_ADDRSTRLEN + 8];	/* as struct gpud_conn has it */
	char backend[16];		/* the backend gpud runs: "cpu", "cuda" */
	uint32_t threads;		/* operator threads */
	uint32_t verbose;
	uint32_t has_fair;		/* GPUD_TENANT_FAIR_FD is open */
};

/*
 * Main process: serve the attached connection @c through a worker, @preload
 * being what was read past the HELLO, and wait until the worker exits (or,
 * once gpud stops, stop it). Logs how the worker ended. Returns 0, or -1
 * when the worker could not be started (the connection is then dropped).
 */
int gpud_tenant_run(struct gpud_conn *c, const void *preload, size_t preload_len);

/* Worker process: main() for GPUD_TENANT_ARG. Returns the exit status. */
int gpud_tenant_main(void);

#endif /* GPUD_TENANT_H */
