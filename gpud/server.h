/* SPDX-License-Identifier: MIT */
/*
 * The listening socket and the connection threads: accept, bound the number
 * of connections, reap finished threads, and on shutdown close every
 * connection and join every thread.
 */
#ifndef GPUD_SERVER_H
#define GPUD_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "session.h"

/* The largest request payload gpud accepts (HELLO's max_payload). */
#define GPUD_MAX_PAYLOAD	EIA_WIRE_MAX_PAYLOAD

struct gpud_server;

/*
 * Listen on @addr ("A.B.C.D:PORT" or "[IPV6]:PORT"); connections run their
 * work on @eng. Returns the server, or NULL with the reason in @err.
 */
struct gpud_server *gpud_server_listen(const char *addr, struct gpud_registry *reg,
				       struct gpud_engine *eng,
				       unsigned int max_connections, char *err,
				       size_t errlen);

/*
 * Serve each attached connection in a worker process of its own
 * (tenant.h). Call before gpud_server_run().
 */
void gpud_server_isolate(struct gpud_server *srv, bool process);

/* The address actually bound, with the chosen port: "127.0.0.1:41234". */
const char *gpud_server_address(const struct gpud_server *srv);

/*
 * Accept and serve clients until @stop_fd becomes readable (a signalfd).
 * Returns 0, or -1 when waiting fails.
 */
int gpud_server_run(struct gpud_server *srv, int stop_fd);

/*
 * Stop accepting, close every connection, join every thread and free the
 * server. Returns the number of sessions that were open.
 */
unsigned int gpud_server_shutdown(struct gpud_server *srv);

/* Client connections open now. */
unsigned int gpud_server_connections(struct gpud_server *srv);

#endif /* GPUD_SERVER_H */
