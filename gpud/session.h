/* SPDX-License-Identifier: MIT */
/*
 * Sessions: the accelerators granted now. The registry owns the backend's
 * capacity, what is reserved of it, the ids in use and the per-type counts,
 * all under one mutex (never held across I/O). A connection holds at most
 * one grant, from its HELLO until it closes.
 */
#ifndef GPUD_SESSION_H
#define GPUD_SESSION_H

#include <pthread.h>
#include <stddef.h>

#include "config.h"

/* One granted accelerator; owned by its connection, linked into the registry. */
struct gpud_grant {
	char id[EIA_ACCEL_ID_MAX];
	const struct gpud_type *type;
	struct gpud_grant *prev, *next;
};

struct gpud_registry {
	pthread_mutex_t lock;
	const char *backend;			/* name, for SERVER_STATUS */
	const struct gpud_type *types;		/* the config's; never change */
	unsigned int ntypes;
	struct gpud_capacity capacity;
	/* Below: under @lock. */
	struct gpud_capacity used;
	unsigned int in_use[EIA_WIRE_MAX_TYPES];
	unsigned int sessions;
	struct gpud_grant *grants;
};

void gpud_registry_init(struct gpud_registry *reg, const char *backend,
			const struct gpud_type *types, unsigned int ntypes,
			const struct gpud_capacity *capacity);
void gpud_registry_destroy(struct gpud_registry *reg);

/*
 * Grant an accelerator of type @type into @g: reserve its memory and compute
 * shares and pick its id: @resume_id when it is non-empty and not in use,
 * else a fresh random one. Returns 0; -ENOENT (unknown type), -ENOSPC (not
 * enough capacity left) or -EIO (no random numbers), with a message for
 * the client in @msg.
 */
int gpud_registry_grant(struct gpud_registry *reg, const char *type,
			const char *resume_id, struct gpud_grant *g, char *msg,
			size_t msglen);

/* Give back what gpud_registry_grant() reserved. */
void gpud_registry_release(struct gpud_registry *reg, struct gpud_grant *g);

/* Accelerators granted now. */
unsigned int gpud_registry_sessions(struct gpud_registry *reg);

/* Bytes of a SERVER_STATUS payload for this registry's types. */
size_t gpud_registry_status_size(const struct gpud_registry *reg);

/*
 * Fill a SERVER_STATUS payload (wire byte order) into @buf, which holds
 * gpud_registry_status_size() bytes; @connections is the server's count.
 */
void gpud_registry_status(struct gpud_registry *reg, unsigned int connections,
			  void *buf);

/* True for "eia-" followed by 32 lowercase hex digits. */
int gpud_accel_id_ok(const char *id);

#endif /* GPUD_SESSION_H */
