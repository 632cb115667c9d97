/* SPDX-License-Identifier: MIT */
/*
 * The backend's arbiter: a weighted-fair share of backend time between the
 * devices (granted accelerators) of one gpud, so that a busy tenant cannot
 * starve a quiet one. See Documentation/gpud.rst, "Sharing the backend".
 *
 * Policy: start-time fair queueing, charged after the fact.
 *
 * - Each device joins with a weight, its type's FP32 mTFLOPS. Admission
 *   (session.c) keeps the weights' sum within the backend's capacity, so a
 *   device is guaranteed weight / capacity of the backend's time whenever it
 *   has work; what others leave unused is lent to whoever has work.
 * - A device has a virtual time, @vtime: the backend time it was charged,
 *   scaled by 1000 / weight (a 1-TFLOPS device's virtual time advances as
 *   fast as real time, a 4-TFLOPS one's a quarter as fast).
 * - Up to @concurrency devices hold a *seat* at once (default 1: the backend
 *   is time-sliced at command-buffer granularity). When a seat frees, it goes
 *   to the waiting device with the lowest virtual time; ties go to the one
 *   served least recently. A command buffer that runs is never preempted:
 *   one long buffer delays the others by its whole length.
 * - A device is charged the time it held its seat: from the grant to the
 *   release, after its work completed (the backend's sync). Sending the
 *   response to the client happens after the release.
 * - No banking: a device that asks for a seat starts no lower than @vnow, the
 *   system's virtual time (the highest virtual time a seat was granted at, or
 *   where the last device left off when the backend fell idle). Time spent
 *   idle thus earns nothing; a lone device is never made to wait, so it uses
 *   the whole backend (work conservation: unused shares are lent).
 * - Anticipation: a device whose clients answer every response with the next
 *   request (one buffer in flight, as over libeia's tcp://) has no work
 *   queued for the moment between them; granting its seat to another device
 *   then would turn any weights into turn-taking. So a device released with
 *   the lowest virtual time of all keeps its seat *held* for up to @hold_ns.
 *   It is charged for the hold as for running, so holding never gains it
 *   more than its share; a waiting device with a lower virtual time (a quiet
 *   one that just arrived) breaks the hold at once. A hold that runs out
 *   unused frees the seat, and the device's next 1, 2, 4, ... up to
 *   GPUD_FAIR_MAX_BACKOFF releases hold nothing (back to 0 once a hold is
 *   used), so a device that does not come back costs little idle time.
 *
 * Memory and locking: struct gpud_fair lives in memory handed in by the
 * caller, holds no pointers (indices only) and synchronises with
 * process-shared primitives, so it may be a shared mapping (gpud's is a
 * memfd) used by worker processes as well as by threads.
 *
 * - @lock (robust, process-shared) protects everything but the slots' @alive
 *   mutexes; it is held for bookkeeping only, never while work runs.
 * - A slot's @alive mutex (robust, process-shared) is held by the thread
 *   that joined the slot until it leaves, so that the death of its process
 *   shows: locking it then fails with EOWNERDEAD. Lock order: @lock, then
 *   @alive, which under @lock is only tried, or locked while its slot is
 *   free (so nobody holds it): never waited for.
 * - A slot's @turn condition variable (process-shared, CLOCK_MONOTONIC) is
 *   waited on by that slot's owner only, and signalled when it gets a seat.
 *   Waits are timed, so a lost signal costs at most GPUD_FAIR_CHECK_NS.
 *
 * Recovery: when a process dies holding @lock, the next locker gets
 * EOWNERDEAD; it marks @lock consistent, frees every slot whose @alive owner
 * is dead (its seat, its place in line) and rebuilds the derived state
 * (seats, heap, free list) from the slots' own states. A device that dies
 * holding a seat is found by the waiters, which check the seats' @alive
 * mutexes every GPUD_FAIR_CHECK_NS; where a process joins a slot for work
 * that another process runs, it frees the slot itself (gpud_fair_leave())
 * once that process is gone. glibc's condition variables are not
 * robust: a process killed inside pthread_cond_signal() could leave that one
 * slot's @turn unusable; a freed slot's @turn is initialised again.
 *
 * Rules for callers: a slot is used by one device; request/wait/release are
 * called by one thread at a time for it, and the thread that joined leaves
 * before it exits.
 */
#ifndef GPUD_FAIR_H
#define GPUD_FAIR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most devices that may run at once (--concurrency). */
#define GPUD_FAIR_MAX_CONCURRENCY	64
/* Anticipation window: how long a seat may be held for its device. */
#define GPUD_FAIR_HOLD_NS		(1000 * 1000ull)
/* Most releases without a hold after holds ran out unused. */
#define GPUD_FAIR_MAX_BACKOFF		64
/* How often a waiting device looks for dead seat holders. */
#define GPUD_FAIR_CHECK_NS		(200 * 1000 * 1000ull)

enum gpud_fair_state {
	GPUD_FAIR_FREE,		/* no device */
	GPUD_FAIR_IDLE,		/* joined, not asking for a seat */
	GPUD_FAIR_WAITING,	/* in line for a seat (in the heap) */
	GPUD_FAIR_RUNNING,	/* holds a seat, its work runs */
	GPUD_FAIR_HELD,		/* holds a seat kept for its next work */
};

struct gpud_fair_slot {
	pthread_mutex_t alive;
	pthread_cond_t turn;
	uint32_t state;		/* enum gpud_fair_state */
	uint32_t weight;	/* FP32 mTFLOPS, > 0 */
	uint32_t heap_pos;	/* WAITING: index in the heap */
	uint32_t seat;		/* RUNNING, HELD: index in @seats */
	uint32_t next_free;	/* FREE: the free list */
	uint32_t skip_holds;	/* releases left to go without a hold */
	uint32_t backoff;	/* @skip_holds set by the last unused hold */
	uint64_t vtime;
	uint64_t vrem;		/* remainder of the division, so no drift */
	uint64_t served;	/* order of its last grant (0: never) */
	uint64_t since_ns;	/* RUNNING, HELD: charged from */
	uint64_t hold_until_ns;	/* HELD */
	uint64_t service_ns;	/* charged in all */
	uint64_t grants;
};

struct gpud_fair {
	pthread_mutex_t lock;
	uint32_t nslots;
	uint32_t concurrency;
	uint64_t hold_ns;
	/* Below: under @lock. */
	uint64_t vnow;
	uint64_t next_served;
	uint32_t nseats;	/* seats taken: @seats[0 .. nseats) */
	uint32_t nwaiting;	/* heap size */
	uint32_t free_head;
	uint32_t seats[GPUD_FAIR_MAX_CONCURRENCY];	/* slot of each seat */
	/* @nslots slots, then the heap: @nslots uint32_t slot indices. */
	struct gpud_fair_slot slots[];
};

/* Bytes of memory a gpud_fair of @nslots slots takes. */
size_t gpud_fair_size(unsigned int nslots);

/*
 * Set up an arbiter in @f (gpud_fair_size(@nslots) bytes, which may be
 * shared between processes) for up to @nslots devices, @concurrency
 * (1..GPUD_FAIR_MAX_CONCURRENCY) running at once, holding seats up to
 * @hold_ns (0: never). Returns 0 or a negative errno.
 */
int gpud_fair_init(struct gpud_fair *f, unsigned int nslots, unsigned int concurrency,
		   uint64_t hold_ns);

/* Undo gpud_fair_init(), once no device is joined. */
void gpud_fair_destroy(struct gpud_fair *f);

/* CLOCK_MONOTONIC in ns: the @now of the calls below. */
uint64_t gpud_fair_now(void);

/*
 * A device of @weight (> 0) joins, starting at the system's virtual time.
 * Returns its slot, or -ENOSPC when every slot is taken, -EINVAL.
 */
int gpud_fair_join(struct gpud_fair *f, uint32_t weight);

/* The device leaves (giving up any seat it holds); the slot is free. */
void gpud_fair_leave(struct gpud_fair *f, unsigned int slot, uint64_t now);

/*
 * Ask for a seat at @now. Returns true when @slot got one at once; else it
 * is in line, and gpud_fair_wait() waits for its turn.
 */
bool gpud_fair_request(struct gpud_fair *f, unsigned int slot, uint64_t now);

/*
 * For @slot, in line: end the holds that ran out by @now, as a waiting
 * thread does when it wakes. Returns true once @slot has a seat.
 */
bool gpud_fair_poll(struct gpud_fair *f, unsigned int slot, uint64_t now);

/*
 * Wait until @slot, in line, gets a seat. Returns 0, or -ENOENT when the
 * slot was taken from it (its joining thread died).
 */
int gpud_fair_wait(struct gpud_fair *f, unsigned int slot);

/* gpud_fair_request() now, and gpud_fair_wait() if need be. */
int gpud_fair_acquire(struct gpud_fair *f, unsigned int slot);

/*
 * @slot's work completed at @now: charge it the time since its grant and
 * hold or free its seat.
 */
void gpud_fair_release(struct gpud_fair *f, unsigned int slot, uint64_t now);

/* Where a slot stands and what it was given, for tests and logs. */
struct gpud_fair_stats {
	enum gpud_fair_state state;
	uint64_t service_ns;
	uint64_t grants;
	uint64_t hold_until_ns;	/* HELD */
};

void gpud_fair_stats(struct gpud_fair *f, unsigned int slot, struct gpud_fair_stats *st);

#endif /* GPUD_FAIR_H */
