/* SPDX-License-Identifier: MIT */
/*
 * A connection's work queue and its executor threads.
 *
 * The reader thread (conn.c) queues jobs, SUBMITs and CTX_DESTROYs, in the
 * order they arrive; up to GPUD_EXECUTORS executors (started as work needs
 * them) run them with these guarantees:
 *
 * - the jobs of one queue of a context (a lane; uapi/eia_cmdbuf.h) run one
 *   at a time, in arrival order; lanes run at once on different executors;
 * - a barrier job (a SUBMIT that changes what its context owns, or a
 *   CTX_DESTROY) runs alone in its context: only after every job of the
 *   context that arrived before it has finished, and the context's later
 *   jobs wait until it has;
 * - a CTX_DESTROY runs only after every job that arrived before it, of any
 *   context, has finished (uapi/eia_wire.h);
 * - lanes with work take turns, one job each, so one lane's long queue
 *   delays another's work by at most one job.
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
 * proportion to their types' FP32 TFLOPS. Executors of one connection share
 * its seat: the first to need it waits for it, the last to finish gives it
 * back.
 *
 * Locking: @lock protects the queue, the scheduling fields of struct
 * gpud_ctx and struct gpud_lane, and the flags; it is never held while a job
 * runs or any I/O. @seat_lock guards @seat_users, and is held while the
 * first user waits for the seat (the others need it too).
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
/* Most executor threads of one connection: lanes that may run at once. */
#define GPUD_EXECUTORS		4

enum gpud_job_kind {
	GPUD_JOB_SUBMIT,
	GPUD_JOB_DESTROY,
};

struct gpud_job {
	enum gpud_job_kind kind;
	struct gpud_ctx *ctx;
	unsigned int queue;		/* SUBMIT: its lane; DESTROY: 0 */
	uint64_t tag;
	uint64_t cost;			/* bytes charged to the queue */
	void *payload;			/* SUBMIT: the request, owned */
	struct gpud_cmdbuf cb;		/* SUBMIT: checked, into @payload */
	/* Below: set by gpud_sched_queue(). */
	bool barrier;
	uint64_t seq;			/* arrival order in its context */
	struct gpud_job *lane_next;	/* its lane's waiting jobs */
	struct gpud_job *ctx_prev, *ctx_next;	/* its context's unfinished jobs */
	struct gpud_job *barrier_next;	/* its context's unfinished barriers */
	struct gpud_job *prev, *next;	/* every unfinished job, arrival order */
};

/*
 * Runs @job (and answers it) on an executor thread. With @discard, the
 * client is gone: free what the job must free, send nothing. Returns 0, or
 * -1 when the connection failed (later jobs are then discarded). A DESTROY
 * job frees its context.
 */
typedef int (*gpud_job_fn)(void *arg, struct gpud_job *job, bool discard);

struct gpud_sched {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a lane became runnable, or closing */
	pthread_cond_t room;		/* charged bytes dropped, or broken */
	struct gpud_lane *run_head, *run_tail;	/* runnable lanes */
	struct gpud_job *first, *last;		/* unfinished jobs */
	uint64_t charged;
	bool started;
	bool closing;			/* the reader is done: drain and stop */
	bool broken;			/* a response could not be sent */
	const pthread_attr_t *attr;	/* the executors' */
	pthread_t threads[GPUD_EXECUTORS];
	unsigned int nthreads;
	unsigned int nidle;		/* executors waiting for work */
	unsigned int nrunnable;		/* lanes in the run list */
	gpud_job_fn run;
	void *arg;
	struct gpud_fair *fair;		/* once joined: the backend's arbiter */
	unsigned int fair_slot;
	pthread_mutex_t seat_lock;
	unsigned int seat_users;	/* executors using the seat */
};

void gpud_sched_init(struct gpud_sched *s, gpud_job_fn run, void *arg);

/*
 * Start the first executor unless it runs; more start as lanes need them.
 * Returns 0 or a negative errno.
 */
int gpud_sched_start(struct gpud_sched *s, const pthread_attr_t *attr);

/* True when the queue holds more than GPUD_QUEUE_BYTES: the reader would wait. */
bool gpud_sched_full(struct gpud_sched *s);

/*
 * Wait while the queue holds more than GPUD_QUEUE_BYTES and the connection
 * works. Returns true when it had to wait.
 */
bool gpud_sched_wait_room(struct gpud_sched *s);

/*
 * True when @ctx has no job queued or running, on any lane: the reader may
 * run its next one.
 */
bool gpud_sched_ctx_idle(struct gpud_sched *s, const struct gpud_ctx *ctx);

/* True when no job is queued or running at all. */
bool gpud_sched_idle(struct gpud_sched *s);

/* Queue @job (filled in but for the links); the executor owns it from here. */
void gpud_sched_queue(struct gpud_sched *s, struct gpud_job *job);

/* Free a job that was not queued, or has run. */
void gpud_job_free(struct gpud_job *job);

/*
 * The reader is done: let the executors run (or, once the connection is
 * broken, discard) every queued job, then join them.
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
 * between. On an executor thread; executors running at once share the turn.
 */
void gpud_sched_backend_get(struct gpud_sched *s);
void gpud_sched_backend_put(struct gpud_sched *s);

#endif /* GPUD_SCHED_H */
