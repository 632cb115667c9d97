/* SPDX-License-Identifier: MIT */
/*
 * One client connection: its socket, its grant, and the protocol loop that
 * answers its requests one at a time, in order (uapi/eia_wire.h). Each runs
 * in its own thread, so a slow or silent client holds up no one else.
 */
#ifndef GPUD_CONN_H
#define GPUD_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <netinet/in.h>

#include "session.h"

struct gpud_server;

struct gpud_conn {
	int fd;
	char peer[INET6_ADDRSTRLEN + 8];	/* "1.2.3.4:5" or "[::1]:5" */
	struct gpud_server *srv;
	struct gpud_registry *reg;
	int stop_fd;		/* readable once gpud shuts down */
	bool attached;
	struct gpud_grant grant;
	/* Owned by server.c: the thread and the server's lists. */
	pthread_t thread;
	struct gpud_conn *prev, *next;
};

/*
 * Serve requests until the client closes, breaks the protocol beyond repair
 * or gpud shuts down; then release the grant. Does not close the socket.
 */
void gpud_conn_serve(struct gpud_conn *c);

#endif /* GPUD_CONN_H */
