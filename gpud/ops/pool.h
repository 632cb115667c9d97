/* SPDX-License-Identifier: MIT */
/*
 * The thread pool the CPU operators run on. A pool owns exactly the number of
 * worker threads it was created with (gpud sizes it to the accelerator's
 * compute share); every operator's work, BLAS calls included, runs on those
 * workers and nowhere else. The calling thread only validates and waits.
 */
#ifndef EIA_OPS_POOL_H
#define EIA_OPS_POOL_H

#include <stddef.h>

/* Upper bound on a pool's size (OpenBLAS keeps 128 buffer slots in all). */
#define EIA_POOL_MAX_THREADS 64

struct eia_pool;

/*
 * One unit of a parallel job: @task is in [0, ntasks), @worker identifies the
 * executing worker in [0, pool size) (for per-worker scratch memory).
 * Returns 0 or a negative errno, which ends the job early.
 */
typedef int (*eia_pool_fn)(void *ctx, size_t task, unsigned int worker);

/*
 * Start @nthreads workers (1..EIA_POOL_MAX_THREADS). Also puts OpenBLAS into
 * single-threaded mode on first use and refuses a BLAS that cannot be called
 * from several threads at once. Returns 0 and sets *@pool, or -EINVAL,
 * -ENOMEM, -EAGAIN (thread creation failed) or -ENOTSUP (unsuitable BLAS).
 */
int eia_pool_create(unsigned int nthreads, struct eia_pool **pool);

/* Stop and join the workers, free the pool. NULL is ignored. */
void eia_pool_destroy(struct eia_pool *pool);

/* The number of workers the pool was created with. */
unsigned int eia_pool_size(const struct eia_pool *pool);

/*
 * Run @fn for every task in [0, @ntasks) on the workers and wait for all of
 * them. Callers from several threads are served one job at a time; a task
 * must not call it on its own pool (it would wait for itself). Returns 0,
 * or the first negative errno a task returned (the remaining tasks are then
 * skipped).
 */
int eia_pool_run(struct eia_pool *pool, size_t ntasks, eia_pool_fn fn, void *ctx);

#endif
