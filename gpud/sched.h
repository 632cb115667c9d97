/* SPDX-License-Identifier: MIT */
/*
 * A connection's work queue and its executor thread.
 *
 * The reader thread (conn.c) queues jobs, SUBMITs and CTX_DESTROYs, in the
 * order they arrive; the executor runs them with these guarantees:
 *
 * - a context's jobs run one at a time, in arrival order;
 * - a CTX_DESTROY runs only after every job that arrived before it, of any
 *   context, has finished (uapi/eia_wire.h);
 * - contexts with work take turns, one job each, so one context's long
 *   queue delays another's work by at most one job.
 *
 * Back-pressure: every job is charged its request and response bytes until
 * it finishes; the reader stops reading the socket while more than
 * GPUD_QUEUE_BYTES are charged, so a client can make gpud hold at most that
 * plus one largest request and response.
 *
 * Between connections, the backend is shared by the arbiter of fair.h: the
 * connection's device joins it with its grant, and the executor holds a seat
 * from before a SUBMIT's commands run until the backend has completed them
 * (never while the response is sent), so devices get backend time in
 * proportion to their types' FP32 TFLOPS.
 *
 * Locking: @lock protects the queue, the scheduling fields of struct
 * gpud_ctx and the flags; it is never held while a job runs or any I/O.
 */
#ifndef GPUD_SCHED_H
#define GPUD_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmdbuf.h"
#include "ctx.h"
#include "fair.h"

#define GPUD_QUEUE_BYTES	(32u << 20)

enum gpud_job_kind {
	GPUD_JOB_SUBMIT,
	GPUD_JOB_DESTROY,
};

struct gpud_job {
	enum gpud_job_kind kind;
	struct gpud_ctx *ctx;
	uint64_t tag;
	uint64_t cost;			/* bytes charged to the queue */
	void *payload;			/* SUBMIT: the request, owned */
	struct gpud_cmdbuf cb;		/* SUBMIT: checked, into @payload */
	struct gpud_job *ctx_next;	/* the context's queue */
	struct gpud_job *prev, *next;	/* every unfinished job, arrival order */
};

/*
 * Runs @job (and answers it) on the executor thread. With @discard, the
 * client is gone: free what the job must free, send nothing. Returns 0, or
 * -1 when the connection failed (later jobs are then discarded). A DESTROY
 * job frees its context.
 */
typedef int (*gpud_job_fn)(void *arg, struct gpud_job *job, bool discard);

struct gpud_sched {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a context became runnable, or closing */
	pthread_cond_t room;		/* charged bytes dropped, or broken */
	struct gpud_ctx *run_head, *run_tail;	/* runnable contexts */
	struct gpud_job *first, *last;		/* unfinished jobs */
	uint64_t charged;
	bool started;
	bool closing;			/* the reader is done: drain and stop */
	bool broken;			/* a response could not be sent */
	pthread_t thread;
	gpud_job_fn run;
	void *arg;
	struct gpud_fair *fair;		/* once joined: the backend's arbiter */
	unsigned int fair_slot;
};

void gpud_sched_init(struct gpud_sched *s, gpud_job_fn run, void *arg);

/* Start the executor unless it runs. Returns 0 or a negative errno. */
int gpud_sched_start(struct gpud_sched *s, const pthread_attr_t *attr);

/* True when the queue holds more than GPUD_QUEUE_BYTES: the reader would wait. */
bool gpud_sched_full(struct gpud_sched *s);

/*
 * Wait while the queue holds more than GPUD_QUEUE_BYTES and the connection
 * works. Returns true when it had to wait.
 */
bool gpud_sched_wait_room(struct gpud_sched *s);

/* True when @ctx has no job queued or running: the reader may run its next one. */
bool gpud_sched_ctx_idle(struct gpud_sched *s, const struct gpud_ctx *ctx);

/* True when no job is queued or running at all. */
bool gpud_sched_idle(struct gpud_sched *s);

/* Queue @job (filled in but for the links); the executor owns it from here. */
void gpud_sched_queue(struct gpud_sched *s, struct gpud_job *job);

/* Free a job that was not queued, or has run. */
void gpud_job_free(struct gpud_job *job);

/*
 * The reader is done: let the executor run (or, once the connection is
 * broken, discard) every queued job, then join it.
 */
void gpud_sched_finish(struct gpud_sched *s);

void gpud_sched_destroy(struct gpud_sched *s);

/*
 * The connection's device, of @weight (its type's FP32 mTFLOPS), joins the
 * backend's arbiter @fair; NULL: the backend is not arbitrated. Returns 0,
 * or -ENOSPC when the arbiter has no slot left.
 */
int gpud_sched_join(struct gpud_sched *s, struct gpud_fair *fair, uint32_t weight);

/*
 * Leave the arbiter, logging (debug) the backend time @peer's device was
 * charged: after gpud_sched_finish(), on the thread that joined.
 */
void gpud_sched_leave(struct gpud_sched *s, const char *peer);

/*
 * Wait for the device's turn on the backend, and give it back once the
 * work has completed there (after the backend's sync): charged the time
 * between. On the executor thread.
 */
void gpud_sched_backend_get(struct gpud_sched *s);
void gpud_sched_backend_put(struct gpud_sched *s);

#endif /* GPUD_SCHED_H */
