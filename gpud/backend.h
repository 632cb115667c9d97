/* SPDX-License-Identifier: MIT */
/*
 * A backend is what runs the clients' work: the CPU backend (always built) or,
 * in builds that have it, CUDA. gpud asks a backend its name and its capacity
 * (grants are accounted against it, session.c); the CPU backend also provides
 * device memory and bulk copies for the executor (exec.c).
 */
#ifndef GPUD_BACKEND_H
#define GPUD_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pool.h"

struct gpud_backend {
	const char *name;
	/*
	 * What the hardware behind the backend offers, before any "capacity"
	 * line of the config. Returns 0, or -1 with the reason in @err.
	 */
	int (*probe)(struct gpud_capacity *cap, char *err, size_t errlen);
};

extern const struct gpud_backend gpud_backend_cpu;

/*
 * The backend for a --backend value ("auto", "cpu", "cuda"), or NULL with
 * the reason in @err when this build does not have it.
 */
const struct gpud_backend *gpud_backend_select(const char *name, char *err,
					       size_t errlen);

/*
 * The capacity grants are accounted against: the backend's probe, with each
 * configured figure (non-zero in @configured) in its place. A configured FP32
 * capacity without an FP16 one implies FP16 = 8 x FP32, the ratio of every
 * default type. Returns 0, or -1 with the reason in @err.
 */
int gpud_backend_capacity(const struct gpud_backend *be,
			  const struct gpud_capacity *configured,
			  struct gpud_capacity *out, char *err, size_t errlen);

/*
 * What the executor needs to run work: the backend and its operator pool.
 * @stopping is set at shutdown: buffers then stop between commands.
 */
struct gpud_engine {
	const struct gpud_backend *be;
	struct eia_pool *pool;
	atomic_bool stopping;
};

/* CPU backend device memory is host memory of gpud's, this aligned. */
#define GPUD_CPU_MEM_ALIGN	64
/* Copies and fills up to this size run on the caller; larger ones on the pool. */
#define GPUD_CPU_INLINE_BYTES	(64u << 10)

/*
 * Allocate @bytes (>= 1) of zeroed device memory: never another client's
 * old data. Returns NULL when the host is out of memory.
 */
void *gpud_cpu_mem_alloc(uint64_t bytes);

/* Free what gpud_cpu_mem_alloc(@bytes) returned. */
void gpud_cpu_mem_free(void *p, uint64_t bytes);

/* Device memory allocated now, over all clients (for the exit check). */
uint64_t gpud_cpu_mem_in_use(void);

/*
 * memmove() and memset() of device memory. Sizes over GPUD_CPU_INLINE_BYTES
 * are split over @pool's workers (an overlapping move runs as one task), so
 * that bulk data work stays within gpud's share of cores.
 */
void gpud_cpu_copy(struct eia_pool *pool, void *dst, const void *src, uint64_t bytes);
void gpud_cpu_fill(struct eia_pool *pool, void *dst, int value, uint64_t bytes);

#endif /* GPUD_BACKEND_H */
