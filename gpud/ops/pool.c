// SPDX-License-Identifier: MIT
/*
 * A fixed set of worker threads running one job at a time. A job is a number
 * of independent tasks claimed with an atomic counter; the submitting thread
 * sleeps until the last worker leaves the job, so no thread other than the
 * pool's own ever runs operator work.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

struct eia_pool_worker {
	struct eia_pool *pool;
	unsigned int index;
	pthread_t thread;
};

/*
 * Lock order: run_lock (held by the submitter for a whole job), then lock.
 * Job fields are written under lock before the generation bump and read by
 * workers after they see it; the task counter and error are atomics.
 */
struct eia_pool {
	pthread_mutex_t run_lock;
	pthread_mutex_t lock;
	pthread_cond_t start;		/* generation changed or stop */
	pthread_cond_t done;		/* busy dropped to 0 */
	unsigned int nthreads;
	unsigned int busy;		/* workers inside the current job */
	uint64_t generation;
	bool stop;
	eia_pool_fn fn;
	void *ctx;
	size_t ntasks;
	atomic_size_t next;
	atomic_int err;
	struct eia_pool_worker *workers;
};

static void run_tasks(struct eia_pool *pool, unsigned int worker)
{
	for (;;) {
		size_t task = atomic_fetch_add(&pool->next, 1);
		int ret;

		if (task >= pool->ntasks || atomic_load(&pool->err))
			return;
		ret = pool->fn(pool->ctx, task, worker);
		if (ret) {
			int zero = 0;

			atomic_compare_exchange_strong(&pool->err, &zero, ret);
		}
	}
}

static void *worker_main(void *arg)
{
	struct eia_pool_worker *w = arg;
	struct eia_pool *pool = w->pool;
	uint64_t seen = 0;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->stop && pool->generation == seen)
			pthread_cond_wait(&pool->start, &pool->lock);
		if (pool->stop)
			break;
		seen = pool->generation;
		pthread_mutex_unlock(&pool->lock);

		run_tasks(pool, w->index);

		pthread_mutex_lock(&pool->lock);
		if (--pool->busy == 0)
			pthread_cond_signal(&pool->done);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static void stop_workers(struct eia_pool *pool, unsigned int started)
{
	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	pthread_cond_broadcast(&pool->start);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(pool->workers[i].thread, NULL);
}

/* Workers never take signals: gpud handles them on its own threads. */
static int start_workers(struct eia_pool *pool)
{
	sigset_t all, old;
	unsigned int i;
	int ret = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < pool->nthreads; i++) {
		struct eia_pool_worker *w = &pool->workers[i];

		w->pool = pool;
		w->index = i;
		ret = -pthread_create(&w->thread, NULL, worker_main, w);
		if (ret)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		stop_workers(pool, i);
	return ret;
}

int eia_pool_create(unsigned int nthreads, struct eia_pool **out)
{
	struct eia_pool *pool;
	int ret;

	*out = NULL;
	if (nthreads < 1 || nthreads > EIA_POOL_MAX_THREADS)
		return -EINVAL;
	ret = blas_init();
	if (ret)
		return ret;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->workers = calloc(nthreads, sizeof(*pool->workers));
	if (!pool->workers) {
		free(pool);
		return -ENOMEM;
	}
	pool->nthreads = nthreads;
	pthread_mutex_init(&pool->run_lock, NULL);
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->start, NULL);
	pthread_cond_init(&pool->done, NULL);
	ret = start_workers(pool);
	if (ret) {
		eia_pool_destroy(pool);
		return ret;
	}
	*out = pool;
	return 0;
}

void eia_pool_destroy(struct eia_pool *pool)
{
	if (!pool)
		return;
	if (!pool->stop)
		stop_workers(pool, pool->nthreads);
	pthread_cond_destroy(&pool->done);
	pthread_cond_destroy(&pool->start);
	pthread_mutex_destroy(&pool->lock);
	pthread_mutex_destroy(&pool->run_lock);
	free(pool->workers);
	free(pool);
}

unsigned int eia_pool_size(const struct eia_pool *pool)
{
	return pool->nthreads;
}

int eia_pool_run(struct eia_pool *pool, size_t ntasks, eia_pool_fn fn, void *ctx)
{
	int ret;

	if (!ntasks)
		return 0;
	pthread_mutex_lock(&pool->run_lock);
	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->ctx = ctx;
	pool->ntasks = ntasks;
	atomic_store(&pool->next, 0);
	atomic_store(&pool->err, 0);
	pool->busy = pool->nthreads;
	pool->generation++;
	pthread_cond_broadcast(&pool->start);
	while (pool->busy)
		pthread_cond_wait(&pool->done, &pool->lock);
	ret = atomic_load(&pool->err);
	pthread_mutex_unlock(&pool->lock);
	pthread_mutex_unlock(&pool->run_lock);
	return ret;
}

struct for_ctx {
	range_fn fn;
	void *ctx;
	int64_t total;
	size_t ntasks;
};

static int for_task(void *arg, size_t task, unsigned int worker)
{
	const struct for_ctx *f = arg;
	/* Balanced split; no term exceeds total, so nothing overflows. */
	int64_t begin = f->total / (int64_t)f->ntasks * (int64_t)task +
			f->total % (int64_t)f->ntasks * (int64_t)task /
			(int64_t)f->ntasks;
	int64_t end = f->total / (int64_t)f->ntasks * (int64_t)(task + 1) +
		      f->total % (int64_t)f->ntasks * (int64_t)(task + 1) /
		      (int64_t)f->ntasks;

	if (begin == end)
		return 0;
	return f->fn(f->ctx, begin, end, worker);
}

int pool_for(struct eia_pool *pool, int64_t total, int64_t grain, range_fn fn,
	     void *ctx)
{
	struct for_ctx f = { .fn = fn, .ctx = ctx, .total = total };
	int64_t max_tasks = 4 * (int64_t)pool->nthreads;
	int64_t n;

	if (total <= 0)
		return 0;
	if (grain < 1)
		grain = 1;
	n = total / grain;
	if (n < 1)
		n = 1;
	if (n > max_tasks)
		n = max_tasks;
	f.ntasks = (size_t)n;
	return eia_pool_run(pool, f.ntasks, for_task, &f);
}
