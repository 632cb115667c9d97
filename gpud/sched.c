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
}

void gpud_sched_destroy(struct gpud_sched *s)
{
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

/* A DESTROY waits for every job that arrived before it: it must be the oldest. */
static bool may_run(const struct gpud_sched *s, const struct gpud_job *job)
{
	return job->kind != GPUD_JOB_DESTROY || job == s->first;
}

/* Put @ctx in the run list when it has work that may run now. Under the lock. */
static void schedule(struct gpud_sched *s, struct gpud_ctx *ctx)
{
	if (ctx->running || ctx->runnable || !ctx->job_head || !may_run(s, ctx->job_head))
		return;
	ctx->runnable = true;
	ctx->run_next = NULL;
	if (s->run_tail)
		s->run_tail->run_next = ctx;
	else
		s->run_head = ctx;
	s->run_tail = ctx;
	pthread_cond_signal(&s->work);
}

/* Take the next context's oldest job and mark the context running. Under the lock. */
static struct gpud_job *next_job(struct gpud_sched *s)
{
	struct gpud_ctx *ctx = s->run_head;
	struct gpud_job *job;

	s->run_head = ctx->run_next;
	if (!s->run_head)
		s->run_tail = NULL;
	ctx->runnable = false;
	ctx->running = true;
	job = ctx->job_head;
	ctx->job_head = job->ctx_next;
	if (!ctx->job_head)
		ctx->job_tail = NULL;
	return job;
}

/* @job has run: unlink it and let what waited on it go. Under the lock. */
static void finished(struct gpud_sched *s, struct gpud_job *job)
{
	if (job->prev)
		job->prev->next = job->next;
	else
		s->first = job->next;
	if (job->next)
		job->next->prev = job->prev;
	else
		s->last = job->prev;
	s->charged -= job->cost;
	/* A DESTROY freed its context, which had no later jobs. */
	if (job->kind != GPUD_JOB_DESTROY) {
		job->ctx->running = false;
		schedule(s, job->ctx);
	}
	if (s->first)
		schedule(s, s->first->ctx);
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
		while (!s->run_head && !(s->closing && !s->first))
			pthread_cond_wait(&s->work, &s->lock);
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
	ret = pthread_create(&s->thread, attr, executor_main, s);
	if (ret)
		return -ret;
	s->started = true;
	return 0;
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
	idle = !ctx->job_head && !ctx->running;
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

	job->ctx_next = NULL;
	job->next = NULL;
	pthread_mutex_lock(&s->lock);
	job->prev = s->last;
	if (s->last)
		s->last->next = job;
	else
		s->first = job;
	s->last = job;
	if (ctx->job_tail)
		ctx->job_tail->ctx_next = job;
	else
		ctx->job_head = job;
	ctx->job_tail = job;
	s->charged += job->cost;
	schedule(s, ctx);
	pthread_mutex_unlock(&s->lock);
}

void gpud_sched_finish(struct gpud_sched *s)
{
	pthread_mutex_lock(&s->lock);
	s->closing = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	if (s->started)
		pthread_join(s->thread, NULL);
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
	/* -ENOENT: the slot was taken back (its joiner died); run unarbitrated. */
	if (s->fair)
		gpud_fair_acquire(s->fair, s->fair_slot);
}

void gpud_sched_backend_put(struct gpud_sched *s)
{
	if (s->fair)
		gpud_fair_release(s->fair, s->fair_slot, gpud_fair_now());
}
