/* SPDX-License-Identifier: MIT */
/*
 * One client connection: its socket, its grant, its contexts, and two
 * threads. The reader (the connection's own thread) reads requests in order
 * and answers the quick ones itself; command buffers and context
 * destruction go to the connection's executor (sched.c), so the reader
 * keeps reading, and answering PINGs, while they run (uapi/eia_wire.h).
 * A slow or silent client holds up no one else.
 *
 * Responses are written whole under @write_lock, by whichever thread
 * produced them; a client that does not read them stalls only its own
 * connection. The reader reads through @in and may hold its responses back
 * in @out while more requests are buffered (conn.c).
 */
#ifndef GPUD_CONN_H
#define GPUD_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "backend.h"
#include "eia_wire.h"
#include "ctx.h"
#include "sched.h"
#include "session.h"

/* Executors call into the operator library, which checks shapes on their stack. */
#define GPUD_EXEC_STACK_SIZE	(2 * 1024 * 1024)

/* The reader's input buffer, and its held-back output. */
#define GPUD_CONN_IN	(64u << 10)
#define GPUD_CONN_OUT	(64u << 10)
/* Most memory-status fields held responses can carry (smallest such reply). */
#define GPUD_CONN_HELD_MEM \
	(GPUD_CONN_OUT / (sizeof(struct eia_wire_hdr) + sizeof(struct eia_wire_mem_status)))

struct gpud_server;

struct gpud_conn {
	int fd;
	char peer[INET6_ADDRSTRLEN + 8];	/* "1.2.3.4:5" or "[::1]:5" */
	struct gpud_server *srv;
	struct gpud_registry *reg;
	struct gpud_engine *eng;
	const pthread_attr_t *exec_attr;	/* for the executor thread */
	int stop_fd;		/* readable once gpud shuts down */
	/*
	 * Process isolation (tenant.h): in gpud, hand the connection to a
	 * worker once attached; in a worker, @preload holds what gpud read
	 * past the HELLO, and @reg is NULL.
	 */
	bool isolate;
	const void *preload;
	size_t preload_len;
	/* A fault ruined the backend's context: the connection is closed. */
	atomic_bool device_lost;
	bool attached;
	struct gpud_grant grant;
	struct gpud_mem_account acct;	/* the grant's quota */
	struct gpud_ctx_table ctxs;	/* reader thread only */
	struct gpud_sched sched;
	pthread_mutex_t write_lock;
	/* Reader thread only. */
	unsigned char *in, *out;
	size_t in_start, in_end, out_len;
	/* Where in @out held responses carry memory_used, filled in at send. */
	uint32_t held_mem[GPUD_CONN_HELD_MEM];
	unsigned int held_mem_n;
	/* Owned by server.c: the thread and the server's lists. */
	pthread_t thread;
	struct gpud_conn *prev, *next;
};

/*
 * Serve requests until the client closes, breaks the protocol beyond repair
 * or gpud shuts down; then finish or drop the queued work, free every
 * context and release the grant. Does not close the socket.
 */
void gpud_conn_serve(struct gpud_conn *c);

#endif /* GPUD_CONN_H */
