// SPDX-License-Identifier: MIT
/*
 * A fixed set of worker threads running one job at a time. A job is a number
 * of independent tasks claimed with an atomic counter; the submitting thread
 * waits until the last worker leaves the job, so no thread other than the
 * pool's own ever runs operator work.
 *
 * Waking a sleeping thread costs tens of microseconds (more in a VM), as
 * much as a small operator takes, and a model runs one job after another.
 * So a worker that finished a job, and a submitter whose job is under way,
 * poll for a while before sleeping on a condition variable, yielding the
 * CPU as they poll: a pool of N workers on N cores must not keep the
 * submitter (which prepares the next job) off them. Where other programs
 * compete for the cores, a yield can hand one of them a whole time slice,
 * while a thread woken from sleep gets the CPU back at once; so a yield
 * that took long stops all polling for a while.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

struct eia_pool_worker {
	struct eia_pool *pool;
	unsigned int index;
	pthread_t thread;
	/* Kept from job to job: allocating it per call costs page faults. */
	void *scratch;
	size_t scratch_size;
};

/*
 * How long an idle worker polls for the next job, and a submitter for the
 * end of its own, before sleeping. The submitter's is short: it covers the
 * small operators (tens of microseconds), and every poll it makes takes CPU
 * time from the workers it waits for.
 */
#define POOL_IDLE_SPIN_NS 100000
#define POOL_WAIT_SPIN_NS 20000
/*
 * An idle worker whose yield lasted longer than this most likely gave its
 * core to another program, which can keep it for a time slice at every
 * yield (a woken thread preempts it instead): then no thread of the pool
 * polls for POOL_NO_SPIN_NS. The submitter's yields do not count: they
 * hand the core to the pool's own workers.
 */
#define POOL_SLOW_YIELD_NS 1000000
#define POOL_NO_SPIN_NS 10000000

/*
 * The submitter whose turn it is (take_turn()) owns the job fields for the
 * whole job; turn_lock is held only to take or end a turn, never with lock.
 * Job fields are written before the generation bump (a release) and read by
 * workers after they see it (an acquire); the task counter and error are
 * atomics. A thread going to sleep counts itself in sleepers or sets
 * waiting under lock after checking its condition there, and whoever
 * changes that condition checks them under lock, so no wake-up is lost and
 * none is sent to a thread that is only polling.
 */
struct eia_pool {
	/*
	 * Submitters take turns in arrival order (a ticket each): a mutex
	 * would let one that submits job after job starve the others.
	 */
	pthread_mutex_t turn_lock;
	pthread_cond_t turn;		/* now_serving moved on */
	uint64_t next_ticket, now_serving;
	pthread_mutex_t lock;
	pthread_cond_t start;		/* generation changed or stop */
	pthread_cond_t done;		/* busy dropped to 0 */
	unsigned int nthreads;
	atomic_uint busy;		/* workers inside the current job */
	atomic_uint_least64_t generation;
	atomic_bool stop;
	atomic_uint_least64_t spin_from;	/* no polling before (now_ns()) */
	unsigned int sleepers;		/* workers waiting on start */
	bool waiting;			/* the submitter waits on done */
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Poll @done(@pool, @arg) for @ns; whether it became true. @watch: treat a
 * slow yield as a sign of competition (POOL_SLOW_YIELD_NS).
 */
static bool spin_until(struct eia_pool *pool, uint64_t ns, bool watch,
		       uint64_t arg, bool (*done)(struct eia_pool *, uint64_t))
{
	uint64_t now = now_ns(), end = now + ns, then;

	if (now < atomic_load_explicit(&pool->spin_from, memory_order_relaxed))
		return done(pool, arg);
	while (!done(pool, arg)) {
		if (now >= end)
			return false;
		sched_yield();
		then = now;
		now = now_ns();
		if (watch && now - then > POOL_SLOW_YIELD_NS)
			atomic_store_explicit(&pool->spin_from,
					      now + POOL_NO_SPIN_NS,
					      memory_order_relaxed);
	}
	return true;
}

static bool job_posted(struct eia_pool *pool, uint64_t seen)
{
	return atomic_load(&pool->stop) ||
	       atomic_load_explicit(&pool->generation, memory_order_acquire) != seen;
}

static bool job_finished(struct eia_pool *pool, uint64_t unused)
{
	(void)unused;
	return !atomic_load(&pool->busy);
}

static void *worker_main(void *arg)
{
	struct eia_pool_worker *w = arg;
	struct eia_pool *pool = w->pool;
	uint64_t seen = 0;

	for (;;) {
		if (!spin_until(pool, POOL_IDLE_SPIN_NS, true, seen,
				job_posted)) {
			pthread_mutex_lock(&pool->lock);
			while (!job_posted(pool, seen)) {
				pool->sleepers++;
				pthread_cond_wait(&pool->start, &pool->lock);
				pool->sleepers--;
			}
			pthread_mutex_unlock(&pool->lock);
		}
		if (atomic_load(&pool->stop))
			break;
		seen = atomic_load_explicit(&pool->generation,
					    memory_order_acquire);

		run_tasks(pool, w->index);

		if (atomic_fetch_sub(&pool->busy, 1) == 1) {
			pthread_mutex_lock(&pool->lock);
			if (pool->waiting)
				pthread_cond_signal(&pool->done);
			pthread_mutex_unlock(&pool->lock);
		}
	}
	return NULL;
}

static void stop_workers(struct eia_pool *pool, unsigned int started)
{
	pthread_mutex_lock(&pool->lock);
	atomic_store(&pool->stop, true);
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
	pthread_mutex_init(&pool->turn_lock, NULL);
	pthread_cond_init(&pool->turn, NULL);
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
	pthread_cond_destroy(&pool->turn);
	pthread_mutex_destroy(&pool->turn_lock);
	for (unsigned int i = 0; i < pool->nthreads; i++)
		free(pool->workers[i].scratch);
	free(pool->workers);
	free(pool);
}

unsigned int eia_pool_size(const struct eia_pool *pool)
{
	return pool->nthreads;
}

void *pool_scratch(struct eia_pool *pool, unsigned int worker, size_t size)
{
	struct eia_pool_worker *w = &pool->workers[worker];
	size_t rounded = (size + POOL_SCRATCH_ALIGN - 1) & ~(size_t)(POOL_SCRATCH_ALIGN - 1);

	if (w->scratch && size <= w->scratch_size)
		return w->scratch;
	free(w->scratch);
	w->scratch = aligned_alloc(POOL_SCRATCH_ALIGN, rounded);
	w->scratch_size = w->scratch ? rounded : 0;
	return w->scratch;
}

/* Wait until it is the caller's turn to run a job. */
static void take_turn(struct eia_pool *pool)
{
	uint64_t ticket;

	pthread_mutex_lock(&pool->turn_lock);
	ticket = pool->next_ticket++;
	while (ticket != pool->now_serving)
		pthread_cond_wait(&pool->turn, &pool->turn_lock);
	pthread_mutex_unlock(&pool->turn_lock);
}

static void end_turn(struct eia_pool *pool)
{
	pthread_mutex_lock(&pool->turn_lock);
	pool->now_serving++;
	pthread_cond_broadcast(&pool->turn);
	pthread_mutex_unlock(&pool->turn_lock);
}

int eia_pool_run(struct eia_pool *pool, size_t ntasks, eia_pool_fn fn, void *ctx)
{
	int ret;

	if (!ntasks)
		return 0;
	take_turn(pool);
	pool->fn = fn;
	pool->ctx = ctx;
	pool->ntasks = ntasks;
	atomic_store(&pool->next, 0);
	atomic_store(&pool->err, 0);
	atomic_store(&pool->busy, pool->nthreads);
	pthread_mutex_lock(&pool->lock);
	atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
	if (pool->sleepers)
		pthread_cond_broadcast(&pool->start);
	pthread_mutex_unlock(&pool->lock);
	if (!spin_until(pool, POOL_WAIT_SPIN_NS, false, 0, job_finished)) {
		pthread_mutex_lock(&pool->lock);
		pool->waiting = true;
		while (!job_finished(pool, 0))
			pthread_cond_wait(&pool->done, &pool->lock);
		pool->waiting = false;
		pthread_mutex_unlock(&pool->lock);
	}
	ret = atomic_load(&pool->err);
	end_turn(pool);
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
