// SPDX-License-Identifier: MIT
#include "sched.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

void gpud_sched_init(struct gpud_sched *s, gpud_job_fn run, void *arg)
{
	*s = (struct gpud_sched){ .run = run, .arg = arg };
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->room, NULL);
	pthread_mutex_init(&s->seat_lock, NULL);
}

void gpud_sched_destroy(struct gpud_sched *s)
{
	pthread_mutex_destroy(&s->seat_lock);
	pthread_cond_destroy(&s->room);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
}

void gpud_job_free(struct gpud_job *job)
{
	if (!job)
		return;
	free(job->payload);
	free(job);
}

/*
 * A DESTROY waits for every job that arrived before it: it must be the
 * oldest. A barrier must be the oldest of its context's; any other job
 * must have arrived before its context's oldest unfinished barrier.
 */
static bool may_run(const struct gpud_sched *s, const struct gpud_job *job)
{
	const struct gpud_ctx *ctx = job->ctx;

	if (job->kind == GPUD_JOB_DESTROY)
		return job == s->first;
	if (job->barrier)
		return job == ctx->first;
	return !ctx->barrier_head || job->seq < ctx->barrier_head->seq;
}

static void *executor_main(void *arg);

/*
 * Start one more executor when runnable lanes outnumber the idle ones. A
 * failure to start one only means less running at once. Under the lock.
 */
static void add_executor(struct gpud_sched *s)
{
	if (!s->started || s->nrunnable <= s->nidle || s->nthreads >= GPUD_EXECUTORS)
		return;
	if (!pthread_create(&s->threads[s->nthreads], s->attr, executor_main, s))
		s->nthreads++;
}

/* Put @lane in the run list when it has work that may run now. Under the lock. */
static void schedule(struct gpud_sched *s, struct gpud_lane *lane)
{
	if (lane->running || lane->runnable || !lane->job_head || !may_run(s, lane->job_head))
		return;
	lane->runnable = true;
	lane->run_next = NULL;
	if (s->run_tail)
		s->run_tail->run_next = lane;
	else
		s->run_head = lane;
	s->run_tail = lane;
	s->nrunnable++;
	add_executor(s);
	pthread_cond_signal(&s->work);
}

static void schedule_ctx(struct gpud_sched *s, struct gpud_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < EIA_CB_QUEUES; i++)
		schedule(s, &ctx->lanes[i]);
}

/* Take the next lane's oldest job and mark the lane running. Under the lock. */
static struct gpud_job *next_job(struct gpud_sched *s)
{
	struct gpud_lane *lane = s->run_head;
	struct gpud_job *job;

	s->run_head = lane->run_next;
	if (!s->run_head)
		s->run_tail = NULL;
	s->nrunnable--;
	lane->runnable = false;
	lane->running = true;
	job = lane->job_head;
	lane->job_head = job->lane_next;
	if (!lane->job_head)
		lane->job_tail = NULL;
	return job;
}

/* @job has run: unlink it and let what waited on it go. Under the lock. */
static void finished(struct gpud_sched *s, struct gpud_job *job)
{
	struct gpud_ctx *ctx = job->ctx;

	if (job->prev)
		job->prev->next = job->next;
	else
		s->first = job->next;
	if (job->next)
		job->next->prev = job->prev;
	else
		s->last = job->prev;
	s->charged -= job->cost;
	/* A DESTROY freed its context, which had no other jobs. */
	if (job->kind != GPUD_JOB_DESTROY) {
		if (job->ctx_prev)
			job->ctx_prev->ctx_next = job->ctx_next;
		else
			ctx->first = job->ctx_next;
		if (job->ctx_next)
			job->ctx_next->ctx_prev = job->ctx_prev;
		else
			ctx->last = job->ctx_prev;
		/* Barriers run in arrival order: this one is the oldest. */
		if (job->barrier) {
			ctx->barrier_head = job->barrier_next;
			if (!ctx->barrier_head)
				ctx->barrier_tail = NULL;
		}
		ctx->lanes[job->queue].running = false;
		schedule_ctx(s, ctx);
	}
	if (s->first)
		schedule(s, &s->first->ctx->lanes[s->first->queue]);
	if (s->closing && !s->first)
		pthread_cond_broadcast(&s->work);
	pthread_cond_broadcast(&s->room);
}

static void *executor_main(void *arg)
{
	struct gpud_sched *s = arg;
	struct gpud_job *job;
	bool discard;
	int ret;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->run_head && !(s->closing && !s->first)) {
			s->nidle++;
			pthread_cond_wait(&s->work, &s->lock);
			s->nidle--;
		}
		if (!s->run_head)
			break;
		job = next_job(s);
		discard = s->broken;
		pthread_mutex_unlock(&s->lock);

		ret = s->run(s->arg, job, discard);

		pthread_mutex_lock(&s->lock);
		if (ret)
			s->broken = true;
		finished(s, job);
		pthread_mutex_unlock(&s->lock);
		gpud_job_free(job);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int gpud_sched_start(struct gpud_sched *s, const pthread_attr_t *attr)
{
	int ret;

	if (s->started)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->attr = attr;
	ret = pthread_create(&s->threads[0], attr, executor_main, s);
	if (!ret) {
		s->nthreads = 1;
		s->started = true;
	}
	pthread_mutex_unlock(&s->lock);
	return -ret;
}

bool gpud_sched_full(struct gpud_sched *s)
{
	bool full;

	pthread_mutex_lock(&s->lock);
	full = s->charged > GPUD_QUEUE_BYTES && !s->broken;
	pthread_mutex_unlock(&s->lock);
	return full;
}

bool gpud_sched_wait_room(struct gpud_sched *s)
{
	bool waited = false;

	pthread_mutex_lock(&s->lock);
	while (s->charged > GPUD_QUEUE_BYTES && !s->broken) {
		waited = true;
		pthread_cond_wait(&s->room, &s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return waited;
}

bool gpud_sched_ctx_idle(struct gpud_sched *s, const struct gpud_ctx *ctx)
{
	bool idle;

	pthread_mutex_lock(&s->lock);
	idle = !ctx->first;
	pthread_mutex_unlock(&s->lock);
	return idle;
}

bool gpud_sched_idle(struct gpud_sched *s)
{
	bool idle;

	pthread_mutex_lock(&s->lock);
	idle = !s->first;
	pthread_mutex_unlock(&s->lock);
	return idle;
}

void gpud_sched_queue(struct gpud_sched *s, struct gpud_job *job)
{
	struct gpud_ctx *ctx = job->ctx;
	struct gpud_lane *lane = &ctx->lanes[job->queue];

	job->barrier = job->kind == GPUD_JOB_DESTROY || job->cb.barrier;
	job->lane_next = NULL;
	job->ctx_next = NULL;
	job->barrier_next = NULL;
	job->next = NULL;
	pthread_mutex_lock(&s->lock);
	job->seq = ++ctx->seq;
	job->prev = s->last;
	if (s->last)
		s->last->next = job;
	else
		s->first = job;
	s->last = job;
	job->ctx_prev = ctx->last;
	if (ctx->last)
		ctx->last->ctx_next = job;
	else
		ctx->first = job;
	ctx->last = job;
	if (job->barrier) {
		if (ctx->barrier_tail)
			ctx->barrier_tail->barrier_next = job;
		else
			ctx->barrier_head = job;
		ctx->barrier_tail = job;
	}
	if (lane->job_tail)
		lane->job_tail->lane_next = job;
	else
		lane->job_head = job;
	lane->job_tail = job;
	s->charged += job->cost;
	schedule(s, lane);
	pthread_mutex_unlock(&s->lock);
}

void gpud_sched_finish(struct gpud_sched *s)
{
	unsigned int i, n;

	pthread_mutex_lock(&s->lock);
	s->closing = true;
	pthread_cond_broadcast(&s->work);
	n = s->nthreads;
	pthread_mutex_unlock(&s->lock);
	/* Executors may start more while they drain, never once it is done. */
	for (i = 0; i < n; i++)
		pthread_join(s->threads[i], NULL);
	/* Those started while the first drained the queue: all done by now. */
	for (; n < s->nthreads; n++)
		pthread_join(s->threads[n], NULL);
	s->nthreads = 0;
	s->started = false;
}

int gpud_sched_join(struct gpud_sched *s, struct gpud_fair *fair, uint32_t weight)
{
	int slot;

	if (!fair)
		return 0;
	slot = gpud_fair_join(fair, weight);
	if (slot < 0)
		return slot;
	s->fair = fair;
	s->fair_slot = (unsigned int)slot;
	return 0;
}

void gpud_sched_leave(struct gpud_sched *s, const char *peer)
{
	struct gpud_fair_stats st;

	if (!s->fair)
		return;
	gpud_fair_stats(s->fair, s->fair_slot, &st);
	gpud_debug("peer=%s: %.3f s of backend time in %llu turns", peer,
		   (double)st.service_ns / 1e9, (unsigned long long)st.grants);
	gpud_fair_leave(s->fair, s->fair_slot, gpud_fair_now());
	s->fair = NULL;
}

void gpud_sched_backend_get(struct gpud_sched *s)
{
	if (!s->fair)
		return;
	pthread_mutex_lock(&s->seat_lock);
	/* -ENOENT: the slot was taken back (its joiner died); run unarbitrated. */
	if (!s->seat_users++)
		gpud_fair_acquire(s->fair, s->fair_slot);
	pthread_mutex_unlock(&s->seat_lock);
}

void gpud_sched_backend_put(struct gpud_sched *s)
{
	if (!s->fair)
		return;
	pthread_mutex_lock(&s->seat_lock);
	if (!--s->seat_users)
		gpud_fair_release(s->fair, s->fair_slot, gpud_fair_now());
	pthread_mutex_unlock(&s->seat_lock);
}
