/* SPDX-License-Identifier: MIT */
/*
 * Contexts and their device memory handles.
 *
 * A context belongs to one connection and owns the device memory it
 * allocated, in a table of slots. A handle is 64 bits:
 *
 *	63           40 39          16 15        0
 *	+--------------+--------------+-----------+
 *	| context tag  |  generation  |   slot    |
 *	+--------------+--------------+-----------+
 *
 * The tag is random, never 0 and unique among the live contexts of the
 * connection, so a handle is never 0 and another context's handle never
 * names one of this context's slots; the generation changes each time a slot
 * is freed, so a freed handle stays dead after its slot is reused. A handle
 * resolves only when all 64 bits equal those of a live slot: anything else
 * (unknown, freed, another context's) is -ENOENT.
 *
 * Raw modules and their functions (uapi/eia_cmdbuf.h) take slots too. A
 * module's image size is charged like memory, standing for the device
 * memory its code takes; a function is an allocation of 0 bytes that lives
 * until its module is unloaded.
 *
 * Memory is charged to the connection's grant (struct gpud_mem_account),
 * whose quota all its contexts share.
 *
 * A context has EIA_CB_QUEUES queues (uapi/eia_cmdbuf.h), each with a queue
 * of its own on the backend, opened at its first work: buffers of different
 * queues may run at once, on the executors of sched.h.
 *
 * Locking: the table changes only in a barrier buffer (one that allocates
 * or frees), which sched.c runs alone in its context; other buffers, which
 * may run at once on several queues, only read it. The account is atomic.
 */
#ifndef GPUD_CTX_H
#define GPUD_CTX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "eia_cmdbuf.h"

/* Live allocations per connection, over all its contexts (then -EMFILE). */
#define GPUD_MAX_ALLOCS		65536u
#define GPUD_HANDLE_SLOT_BITS	16
#define GPUD_HANDLE_GEN_BITS	24
#define GPUD_HANDLE_TAG_BITS	24
#define GPUD_CTX_TAG_MASK	((1u << GPUD_HANDLE_TAG_BITS) - 1)

/* A connection's grant: its quota and what its contexts use of it. */
struct gpud_mem_account {
	uint64_t limit;			/* the type's memory_bytes */
	atomic_uint_fast64_t used;	/* bytes allocated now */
	atomic_uint nallocs;		/* live allocations */
};

/* What a handle names; a handle of one kind never resolves as another. */
enum gpud_slot_kind {
	GPUD_SLOT_MEM = 1,
	GPUD_SLOT_MODULE,	/* a raw module; @bytes: its image, charged */
	GPUD_SLOT_FUNCTION,	/* a module's kernel; @module: its slot */
};

struct gpud_slot {
	void *ptr;		/* the backend's address or object; NULL: free */
	uint64_t bytes;
	uint32_t gen;
	uint32_t next_free;	/* free list, while free */
	uint32_t kind;		/* enum gpud_slot_kind */
	uint32_t module;
};

struct gpud_job;
struct gpud_engine;
struct gpud_queue;
struct gpud_ctx;

/* One of a context's queues, as sched.c sees it (under its lock). */
struct gpud_lane {
	struct gpud_ctx *ctx;
	struct gpud_job *job_head, *job_tail;	/* waiting to run, in order */
	struct gpud_lane *run_next;		/* the executors' run list */
	bool running;
	bool runnable;				/* in the run list */
};

struct gpud_ctx {
	uint64_t id;
	uint32_t tag;
	struct gpud_slot *slots;
	uint32_t nslots;	/* used so far (the table only grows) */
	uint32_t cap;
	uint32_t free_head;	/* GPUD_NO_SLOT: none */
	uint32_t live;
	uint64_t bytes;		/* sum of the live allocations */
	/*
	 * The backend's queue of each of the context's queues, once opened:
	 * each by the thread running that queue's work (sched.c).
	 */
	struct gpud_queue *queues[EIA_CB_QUEUES];
	bool queue_open[EIA_CB_QUEUES];
	/* The connection's table of contexts by id (conn.c, reader only). */
	struct gpud_ctx *hash_next;
	/* Scheduling (sched.c), under the connection's queue lock. */
	struct gpud_lane lanes[EIA_CB_QUEUES];
	struct gpud_job *first, *last;		/* unfinished jobs, arrival order */
	struct gpud_job *barrier_head, *barrier_tail;	/* unfinished barriers */
	uint64_t seq;				/* jobs that arrived */
};

/* A new, empty context; NULL when out of memory. */
struct gpud_ctx *gpud_ctx_new(uint64_t id, uint32_t tag);

/*
 * Free every allocation of @ctx (uncharging @acct) and its queue on @eng's
 * backend, then @ctx itself.
 */
void gpud_ctx_free(struct gpud_engine *eng, struct gpud_ctx *ctx,
		   struct gpud_mem_account *acct);

/*
 * The backend's queue for @ctx's queue @index (< EIA_CB_QUEUES) in *@q,
 * opened unless it is. Returns 0 or a negative errno.
 */
int gpud_ctx_queue(struct gpud_engine *eng, struct gpud_ctx *ctx, unsigned int index,
		   struct gpud_queue **q);

/*
 * The functions below change @ctx's table: they run in barrier buffers
 * (ctx.h), with @q the backend queue of the buffer's queue.
 *
 * MEM_ALLOC: @bytes of zeroed device memory, charged to @acct. Returns 0 and
 * the handle, -EINVAL (0 bytes), -EDQUOT (over the quota), -EMFILE (too many
 * allocations) or -ENOMEM (the host or the device is out of memory).
 */
int gpud_mem_alloc(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		   struct gpud_mem_account *acct, uint64_t bytes, uint64_t *handle);

/* MEM_FREE. Returns 0 or -ENOENT. */
int gpud_mem_free(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		  struct gpud_mem_account *acct, uint64_t handle);

/*
 * The address of [@offset, @offset + @bytes) of @handle's allocation.
 * Returns 0, -ENOENT (not a live handle of @ctx) or -ERANGE (outside the
 * allocation, overflow included). @bytes may be 0 with @offset at the end.
 */
int gpud_mem_range(const struct gpud_ctx *ctx, uint64_t handle, uint64_t offset,
		   uint64_t bytes, void **ptr);

/*
 * MODULE_LOAD: load the @bytes of image at @image on the backend, charged
 * to @acct. Returns 0 and the module's handle; -EOPNOTSUPP (a backend
 * without raw modules), -EINVAL (an image the backend refuses), -EDQUOT,
 * -EMFILE or -ENOMEM.
 */
int gpud_module_load(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		     struct gpud_mem_account *acct, const void *image, uint64_t bytes,
		     uint64_t *handle);

/* MODULE_UNLOAD, with its functions. Returns 0, -EOPNOTSUPP or -ENOENT. */
int gpud_module_unload(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		       struct gpud_mem_account *acct, uint64_t handle);

/*
 * MODULE_GET_FUNCTION: the kernel @name (@len bytes, no NUL) of module
 * @module. Returns 0 and the function's handle; -EOPNOTSUPP, -ENOENT (no
 * such module, or no such kernel in it), -EMFILE or -ENOMEM.
 */
int gpud_module_function(struct gpud_engine *eng, struct gpud_ctx *ctx,
			 struct gpud_mem_account *acct, uint64_t module,
			 const char *name, uint32_t len, uint64_t *handle);

/* The backend's function for @handle. Returns 0 or -ENOENT. */
int gpud_function_get(const struct gpud_ctx *ctx, uint64_t handle, void **fn);

#define GPUD_CTX_BUCKETS	256

/*
 * A connection's live contexts by id, at most EIA_WIRE_MAX_CTXS. Used by the
 * connection's reader thread only. Ids count up from a random 32-bit start,
 * so they are never 0 and never reused on the connection.
 */
struct gpud_ctx_table {
	struct gpud_ctx *buckets[GPUD_CTX_BUCKETS];
	unsigned int count;
	uint64_t last_id;
};

/*
 * Create a context with a fresh id and tag and add it. Returns 0 and the
 * context, -EMFILE (EIA_WIRE_MAX_CTXS reached), -ENOMEM or -EIO (no
 * random numbers).
 */
int gpud_ctx_table_create(struct gpud_ctx_table *t, struct gpud_ctx **ctx);

/* The context with @id, or NULL. */
struct gpud_ctx *gpud_ctx_table_find(const struct gpud_ctx_table *t, uint64_t id);

/* Take @ctx out of the table (it lives on until freed). */
void gpud_ctx_table_remove(struct gpud_ctx_table *t, struct gpud_ctx *ctx);

/* Take any context out of the table; NULL when it is empty. */
struct gpud_ctx *gpud_ctx_table_pop(struct gpud_ctx_table *t);

#endif /* GPUD_CTX_H */
