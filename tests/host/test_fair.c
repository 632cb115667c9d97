// SPDX-License-Identifier: MIT
/*
 * gpud's backend arbiter (gpud/fair.c), and the backend shared by devices
 * of a real gpud.
 *
 * The policy is tested without threads or timing: devices are simulated on
 * an injected clock (each job's end, each request and each hold's end is an
 * event), so every figure is exact and every run the same. Shares of 1:2:4
 * devices, a quiet device arriving among busy ones, idle time not banked,
 * holds and their end, several seats. Then threads and processes on the
 * real clock: mutual exclusion of the seats, and processes that die holding
 * the lock or a seat, in a MAP_SHARED region as gpud's worker processes
 * would share it. Last, gpud itself: devices of two types flooding the
 * backend with pipelined buffers all get correct results.
 */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cb_util.h"
#include "fair.h"
#include "gpud_util.h"
#include "kselftest_harness.h"

#define MS		(1000 * 1000ull)
#define MAX_DEVS	8
#define NONE		EIA_WIRE_NONE_FAILED

/* An arbiter in a MAP_SHARED region, as gpud maps it. */
static struct gpud_fair *fair_new(unsigned int nslots, unsigned int concurrency,
				  uint64_t hold_ns)
{
	size_t size = gpud_fair_size(nslots);
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	if (gpud_fair_init(mem, nslots, concurrency, hold_ns)) {
		munmap(mem, size);
		return NULL;
	}
	return mem;
}

static void fair_free(struct gpud_fair *f)
{
	size_t size = gpud_fair_size(f->nslots);

	gpud_fair_destroy(f);
	munmap(f, size);
}

static enum gpud_fair_state state_of(struct gpud_fair *f, int slot)
{
	struct gpud_fair_stats st;

	gpud_fair_stats(f, (unsigned int)slot, &st);
	return st.state;
}

static uint64_t service_of(struct gpud_fair *f, int slot)
{
	struct gpud_fair_stats st;

	gpud_fair_stats(f, (unsigned int)slot, &st);
	return st.service_ns;
}

/*
 * A simulated device: jobs of @len ns; after each, it asks again @think ns
 * later (0: at once, as a backlogged device does).
 */
struct dev {
	int slot;
	uint64_t len, think;
	enum { OFF, ASKING, RUN } st;
	uint64_t t;		/* OFF: when it asks next; RUN: when its job ends */
	uint64_t asked_at;
	uint64_t max_wait;	/* longest from asking to a seat */
	unsigned int done;
	unsigned int done_at_ask;	/* jobs of all devices done when it asked */
	unsigned int max_jobs_waited;	/* most jobs that ended while it waited */
	bool paused;		/* asks no more */
};

struct sim {
	struct gpud_fair *f;
	struct dev d[MAX_DEVS];
	unsigned int n;
	uint64_t now;
	unsigned int done;	/* jobs completed, all devices */
	unsigned int max_busy;	/* most seats taken at once */
};

static void sim_add(struct sim *s, uint32_t weight, uint64_t len, uint64_t think,
		    uint64_t first_ask)
{
	struct dev *d = &s->d[s->n++];

	memset(d, 0, sizeof(*d));
	d->slot = gpud_fair_join(s->f, weight);
	d->len = len;
	d->think = think;
	d->st = OFF;
	d->t = first_ask;
}

static void sim_leave(struct sim *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		gpud_fair_leave(s->f, (unsigned int)s->d[i].slot, s->now);
}

/* Devices that got a seat since the last look start their job. */
static void sim_started(struct sim *s)
{
	unsigned int i, busy = 0;

	for (i = 0; i < s->n; i++) {
		struct dev *d = &s->d[i];
		enum gpud_fair_state st = state_of(s->f, d->slot);

		if (st == GPUD_FAIR_RUNNING || st == GPUD_FAIR_HELD)
			busy++;
		if (d->st != ASKING || st != GPUD_FAIR_RUNNING)
			continue;
		d->st = RUN;
		d->t = s->now + d->len;
		if (s->now - d->asked_at > d->max_wait)
			d->max_wait = s->now - d->asked_at;
		if (s->done - d->done_at_ask > d->max_jobs_waited)
			d->max_jobs_waited = s->done - d->done_at_ask;
	}
	if (busy > s->max_busy)
		s->max_busy = busy;
}

/* The next event: a job's end, a request, or a hold's end. */
static uint64_t sim_next(struct sim *s)
{
	uint64_t next = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		struct dev *d = &s->d[i];
		struct gpud_fair_stats st;

		if ((d->st == RUN || (d->st == OFF && !d->paused)) && d->t < next)
			next = d->t;
		gpud_fair_stats(s->f, (unsigned int)d->slot, &st);
		if (st.state == GPUD_FAIR_HELD && st.hold_until_ns < next)
			next = st.hold_until_ns;
	}
	return next;
}

/* Run until @jobs more jobs are done (or nothing is left to happen). */
static void sim_run(struct sim *s, unsigned int jobs)
{
	unsigned int target = s->done + jobs, i;

	while (s->done < target) {
		uint64_t next = sim_next(s);

		if (next == UINT64_MAX)
			return;
		if (next > s->now)
			s->now = next;
		for (i = 0; i < s->n; i++) {
			struct dev *d = &s->d[i];

			if (d->st != RUN || d->t > s->now)
				continue;
			gpud_fair_release(s->f, (unsigned int)d->slot, s->now);
			d->done++;
			s->done++;
			d->st = OFF;
			d->t = s->now + d->think;
		}
		/* Those in line wake, as at a hold's end. */
		for (i = 0; i < s->n; i++)
			if (s->d[i].st == ASKING)
				gpud_fair_poll(s->f, (unsigned int)s->d[i].slot, s->now);
		for (i = 0; i < s->n; i++) {
			struct dev *d = &s->d[i];

			if (d->st != OFF || d->paused || d->t > s->now)
				continue;
			d->st = ASKING;
			d->asked_at = s->now;
			d->done_at_ask = s->done;
			gpud_fair_request(s->f, (unsigned int)d->slot, s->now);
		}
		sim_started(s);
	}
}

/* Service of @a against @b, against the ratio @want: within @tol of it. */
static bool ratio_near(uint64_t a, uint64_t b, double want, double tol)
{
	double r = (double)a / (double)b;

	return fabs(r / want - 1) <= tol;
}

TEST(init_checks_arguments)
{
	size_t size = gpud_fair_size(4);
	void *mem = malloc(size);

	ASSERT_NE(NULL, mem);
	EXPECT_EQ(-EINVAL, gpud_fair_init(mem, 0, 1, 0));
	EXPECT_EQ(-EINVAL, gpud_fair_init(mem, 4, 0, 0));
	EXPECT_EQ(-EINVAL, gpud_fair_init(mem, 4, GPUD_FAIR_MAX_CONCURRENCY + 1, 0));
	ASSERT_EQ(0, gpud_fair_init(mem, 4, GPUD_FAIR_MAX_CONCURRENCY, 0));
	EXPECT_EQ(-EINVAL, gpud_fair_join(mem, 0));
	gpud_fair_destroy(mem);
	free(mem);
}

TEST(slots_run_out_and_come_back)
{
	struct gpud_fair *f = fair_new(2, 1, 0);
	int a, b;

	ASSERT_NE(NULL, f);
	a = gpud_fair_join(f, 1000);
	b = gpud_fair_join(f, 1000);
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	EXPECT_NE(a, b);
	EXPECT_EQ(-ENOSPC, gpud_fair_join(f, 1000));
	gpud_fair_leave(f, (unsigned int)a, 0);
	EXPECT_EQ(a, gpud_fair_join(f, 1000));
	gpud_fair_leave(f, (unsigned int)a, 0);
	gpud_fair_leave(f, (unsigned int)b, 0);
	fair_free(f);
}

/* A device alone never waits and gets the whole backend. */
TEST(lone_device_uses_everything)
{
	struct gpud_fair *f = fair_new(4, 1, GPUD_FAIR_HOLD_NS);
	struct sim s = { .f = f };

	ASSERT_NE(NULL, f);
	sim_add(&s, 1000, 2 * MS, 0, 0);
	sim_run(&s, 500);
	EXPECT_EQ(500, s.d[0].done);
	EXPECT_EQ(0, s.d[0].max_wait);
	EXPECT_EQ(500 * 2 * MS, s.now);
	/* Its service is the whole elapsed time. */
	EXPECT_EQ(s.now, service_of(f, s.d[0].slot));
	sim_leave(&s);
	fair_free(f);
}

/* Weights 1:2:4, all backlogged, jobs of 1 ms: jobs and time in proportion. */
TEST(weights_1_2_4_share_in_proportion)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	struct sim s = { .f = f };
	uint64_t a, b, c;

	ASSERT_NE(NULL, f);
	sim_add(&s, 1000, MS, 0, 0);
	sim_add(&s, 2000, MS, 0, 0);
	sim_add(&s, 4000, MS, 0, 0);
	sim_run(&s, 7000);
	a = service_of(f, s.d[0].slot);
	b = service_of(f, s.d[1].slot);
	c = service_of(f, s.d[2].slot);
	TH_LOG("jobs %u:%u:%u, service %.1f:%.1f:%.1f ms", s.d[0].done, s.d[1].done,
	       s.d[2].done, a / 1e6, b / 1e6, c / 1e6);
	EXPECT_EQ(7000 * MS, a + b + c);	/* work-conserving: never idle */
	EXPECT_TRUE(ratio_near(b, a, 2.0, 0.01));
	EXPECT_TRUE(ratio_near(c, a, 4.0, 0.01));
	EXPECT_EQ(1, s.max_busy);
	sim_leave(&s);
	fair_free(f);
}

/* The shares are of time, not of jobs: long jobs count for more. */
TEST(shares_are_time_not_jobs)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	struct sim s = { .f = f };
	uint64_t a, b, c;

	ASSERT_NE(NULL, f);
	sim_add(&s, 1000, 3 * MS, 0, 0);
	sim_add(&s, 2000, MS, 0, 0);
	sim_add(&s, 4000, MS / 2, 0, 0);
	sim_run(&s, 20000);
	a = service_of(f, s.d[0].slot);
	b = service_of(f, s.d[1].slot);
	c = service_of(f, s.d[2].slot);
	TH_LOG("jobs %u:%u:%u, service %.1f:%.1f:%.1f ms", s.d[0].done, s.d[1].done,
	       s.d[2].done, a / 1e6, b / 1e6, c / 1e6);
	EXPECT_TRUE(ratio_near(b, a, 2.0, 0.01));
	EXPECT_TRUE(ratio_near(c, a, 4.0, 0.01));
	sim_leave(&s);
	fair_free(f);
}

/*
 * Closed-loop clients (one buffer in flight, 200 us between a response and
 * the next request) still get their shares: the owed device's seat is held
 * for it, and charged to it.
 */
TEST(closed_loop_devices_share_by_weight)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	struct sim s = { .f = f };
	uint64_t a, b;

	ASSERT_NE(NULL, f);
	sim_add(&s, 1000, 2 * MS, MS / 5, 0);
	sim_add(&s, 4000, 2 * MS, MS / 5, 0);
	sim_run(&s, 5000);
	a = service_of(f, s.d[0].slot);
	b = service_of(f, s.d[1].slot);
	TH_LOG("jobs %u:%u, charged %.1f:%.1f ms of %.1f", s.d[0].done, s.d[1].done, a / 1e6,
	       b / 1e6, s.now / 1e6);
	EXPECT_TRUE(ratio_near(b, a, 4.0, 0.02));
	/* Holding costs only the clients' round trips: 200 us per 2 ms job. */
	EXPECT_TRUE(ratio_near(s.d[1].done, s.d[0].done, 4.0, 0.12));
	sim_leave(&s);
	fair_free(f);
}

/*
 * Three heavy devices keep the backend busy; a quiet one (a quarter of
 * their weight) asks now and then: each time it runs right after the job
 * running when it asked, never later.
 */
TEST(quiet_device_runs_next)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	struct sim s = { .f = f };
	unsigned int i, rounds = 0;

	ASSERT_NE(NULL, f);
	for (i = 0; i < 3; i++)
		sim_add(&s, 4000, MS, 0, 0);
	sim_run(&s, 3000);
	/* It asks 20.3 ms after each of its jobs, so at every phase of theirs. */
	sim_add(&s, 1000, MS, 20 * MS + MS / 3, s.now + MS / 7);
	while (rounds < 50) {
		unsigned int before = s.d[3].done;

		sim_run(&s, 1);
		if (s.d[3].done != before)
			rounds++;
	}
	TH_LOG("quiet device: %u jobs, longest wait %.3f ms, %u jobs", s.d[3].done,
	       s.d[3].max_wait / 1e6, s.d[3].max_jobs_waited);
	/* It never waits for more than the job running when it asked. */
	EXPECT_EQ(1, s.d[3].max_jobs_waited);
	EXPECT_LT(s.d[3].max_wait, MS);
	sim_leave(&s);
	fair_free(f);
}

/* A device idle for a long time gets no burst: it takes turns at once. */
TEST(idle_time_is_not_banked)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	struct sim s = { .f = f };
	unsigned int a0, b0;

	ASSERT_NE(NULL, f);
	sim_add(&s, 1000, MS, 0, 0);
	sim_add(&s, 1000, MS, 0, 0);
	s.d[1].paused = true;
	sim_run(&s, 500);	/* A alone: 500 ms of work */
	EXPECT_EQ(500, s.d[0].done);
	s.d[1].paused = false;
	s.d[1].t = s.now;
	a0 = s.d[0].done;
	b0 = s.d[1].done;
	sim_run(&s, 100);
	TH_LOG("after B came back: A %u jobs, B %u jobs", s.d[0].done - a0,
	       s.d[1].done - b0);
	/* Equal weights take turns: B is at most one job ahead. */
	EXPECT_LE(s.d[1].done - b0, 51);
	EXPECT_GE(s.d[0].done - a0, 49);
	EXPECT_LE(s.d[1].max_wait, MS);
	sim_leave(&s);
	fair_free(f);
}

/*
 * A held seat whose device does not come back within the hold goes to the
 * device in line when the hold ends; the holder is charged the hold, and
 * its next release holds nothing.
 */
TEST(hold_ends_and_is_charged)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	struct gpud_fair_stats st;
	int a, b;

	ASSERT_NE(NULL, f);
	a = gpud_fair_join(f, 4000);
	b = gpud_fair_join(f, 1000);
	ASSERT_TRUE(gpud_fair_request(f, (unsigned int)b, 0));
	ASSERT_FALSE(gpud_fair_request(f, (unsigned int)a, 0));
	gpud_fair_release(f, (unsigned int)b, MS);
	EXPECT_EQ(GPUD_FAIR_RUNNING, state_of(f, a));
	ASSERT_FALSE(gpud_fair_request(f, (unsigned int)b, MS));
	/* 1 ms at weight 4 against B's 1 ms at weight 1: A's seat is held for it. */
	gpud_fair_release(f, (unsigned int)a, 2 * MS);
	gpud_fair_stats(f, (unsigned int)a, &st);
	ASSERT_EQ(GPUD_FAIR_HELD, st.state);
	EXPECT_EQ(3 * MS, st.hold_until_ns);
	EXPECT_FALSE(gpud_fair_poll(f, (unsigned int)b, 3 * MS - 1));
	EXPECT_TRUE(gpud_fair_poll(f, (unsigned int)b, 3 * MS));
	EXPECT_EQ(GPUD_FAIR_IDLE, state_of(f, a));
	EXPECT_EQ(2 * MS, service_of(f, a));	/* its job and the hold */
	/* B, alone now, is held for; A comes back long after that hold. */
	gpud_fair_release(f, (unsigned int)b, 4 * MS);
	EXPECT_EQ(GPUD_FAIR_HELD, state_of(f, b));
	ASSERT_TRUE(gpud_fair_request(f, (unsigned int)a, 10 * MS));
	EXPECT_EQ(GPUD_FAIR_IDLE, state_of(f, b));
	EXPECT_EQ(3 * MS, service_of(f, b));	/* two jobs and a hold */
	ASSERT_FALSE(gpud_fair_request(f, (unsigned int)b, 10 * MS));
	/* Both let a hold run out: their next release holds nothing. */
	gpud_fair_release(f, (unsigned int)a, 11 * MS);
	EXPECT_EQ(GPUD_FAIR_IDLE, state_of(f, a));
	EXPECT_EQ(GPUD_FAIR_RUNNING, state_of(f, b));
	gpud_fair_release(f, (unsigned int)b, 12 * MS);
	EXPECT_EQ(GPUD_FAIR_IDLE, state_of(f, b));
	gpud_fair_leave(f, (unsigned int)a, 12 * MS);
	gpud_fair_leave(f, (unsigned int)b, 12 * MS);
	fair_free(f);
}

/*
 * A device whose client never comes back within the hold: after each
 * unused hold, 1, 2, 4, 8... releases hold nothing.
 */
TEST(unused_holds_back_off)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	unsigned int i, held = 0, at[8];
	uint64_t now = 0;
	int a;

	ASSERT_NE(NULL, f);
	a = gpud_fair_join(f, 1000);
	for (i = 0; i < 40; i++) {
		ASSERT_TRUE(gpud_fair_request(f, (unsigned int)a, now));
		now += MS;
		gpud_fair_release(f, (unsigned int)a, now);
		if (state_of(f, a) == GPUD_FAIR_HELD && held < 8)
			at[held++] = i;
		now += 5 * MS;
	}
	ASSERT_EQ(6, held);
	EXPECT_EQ(0, at[0]);
	EXPECT_EQ(2, at[1]);
	EXPECT_EQ(5, at[2]);
	EXPECT_EQ(10, at[3]);
	EXPECT_EQ(19, at[4]);
	EXPECT_EQ(36, at[5]);
	/* Charged its 40 jobs and its 6 holds, all run out. */
	EXPECT_EQ(46 * MS, service_of(f, a));
	gpud_fair_leave(f, (unsigned int)a, now);
	fair_free(f);
}

/* A device that arrives with a lower virtual time breaks a hold at once. */
TEST(arrival_breaks_a_hold)
{
	struct gpud_fair *f = fair_new(8, 1, GPUD_FAIR_HOLD_NS);
	int a, q;

	ASSERT_NE(NULL, f);
	a = gpud_fair_join(f, 4000);
	q = gpud_fair_join(f, 1000);
	ASSERT_TRUE(gpud_fair_request(f, (unsigned int)a, 0));
	gpud_fair_release(f, (unsigned int)a, MS);
	ASSERT_EQ(GPUD_FAIR_HELD, state_of(f, a));	/* alone: held for itself */
	EXPECT_TRUE(gpud_fair_request(f, (unsigned int)q, MS + 1000));
	EXPECT_EQ(GPUD_FAIR_IDLE, state_of(f, a));
	EXPECT_EQ(MS + 1000, service_of(f, a));
	gpud_fair_release(f, (unsigned int)q, 2 * MS);
	gpud_fair_leave(f, (unsigned int)a, 2 * MS);
	gpud_fair_leave(f, (unsigned int)q, 2 * MS);
	fair_free(f);
}

/*
 * Two seats, weights 1:2:4 backlogged: never more than two at once, both
 * always busy; the 4 saturates a seat of its own (one job at a time), the 1
 * and the 2 share the other 1:2.
 */
TEST(two_seats)
{
	struct gpud_fair *f = fair_new(8, 2, GPUD_FAIR_HOLD_NS);
	struct sim s = { .f = f };
	uint64_t a, b, c;

	ASSERT_NE(NULL, f);
	sim_add(&s, 1000, MS, 0, 0);
	sim_add(&s, 2000, MS, 0, 0);
	sim_add(&s, 4000, MS, 0, 0);
	sim_run(&s, 6000);
	a = service_of(f, s.d[0].slot);
	b = service_of(f, s.d[1].slot);
	c = service_of(f, s.d[2].slot);
	TH_LOG("jobs %u:%u:%u in %.1f ms", s.d[0].done, s.d[1].done, s.d[2].done,
	       s.now / 1e6);
	EXPECT_EQ(2, s.max_busy);
	/* Both seats always busy (but for the jobs still running). */
	EXPECT_GE(a + b + c, 2 * s.now - 2 * MS);
	EXPECT_TRUE(ratio_near(c, s.now, 1.0, 0.02));
	EXPECT_TRUE(ratio_near(b, a, 2.0, 0.05));
	sim_leave(&s);
	fair_free(f);
}

/* Real threads on the real clock: a seat is never shared, nothing wedges. */
struct worker {
	struct gpud_fair *f;
	uint32_t weight;
	atomic_int *inside;
	atomic_int *most;
	unsigned int jobs;
	int err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int slot = gpud_fair_join(w->f, w->weight);
	unsigned int i;

	if (slot < 0) {
		w->err = slot;
		return NULL;
	}
	for (i = 0; i < w->jobs; i++) {
		struct timespec ts = { .tv_nsec = 100 * 1000 };
		int in, most;

		w->err = gpud_fair_acquire(w->f, (unsigned int)slot);
		if (w->err)
			break;
		in = atomic_fetch_add(w->inside, 1) + 1;
		most = atomic_load(w->most);
		while (in > most && !atomic_compare_exchange_weak(w->most, &most, in))
			;
		nanosleep(&ts, NULL);
		atomic_fetch_sub(w->inside, 1);
		gpud_fair_release(w->f, (unsigned int)slot, gpud_fair_now());
	}
	gpud_fair_leave(w->f, (unsigned int)slot, gpud_fair_now());
	return NULL;
}

static void run_threads(struct __test_metadata *_metadata, unsigned int concurrency,
			unsigned int nthreads)
{
	struct gpud_fair *f = fair_new(8, concurrency, GPUD_FAIR_HOLD_NS);
	struct worker w[MAX_DEVS];
	pthread_t t[MAX_DEVS];
	atomic_int inside = 0, most = 0;
	unsigned int i;

	ASSERT_NE(NULL, f);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .f = f, .weight = 1000u << (i % 3), .inside = &inside,
					.most = &most, .jobs = 300 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_main, &w[i]));
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].err);
	}
	TH_LOG("%u threads, %u seats: at most %d inside at once", nthreads, concurrency,
	       atomic_load(&most));
	EXPECT_LE(atomic_load(&most), (int)concurrency);
	EXPECT_GE(atomic_load(&most), 1);
	fair_free(f);
}

TEST(threads_one_seat)
{
	run_threads(_metadata, 1, 4);
}

TEST(threads_two_seats)
{
	run_threads(_metadata, 2, 5);
}

/* A child process joins, then dies holding the lock or a seat. */
enum death { DIE_HOLDING_LOCK, DIE_HOLDING_SEAT };

static pid_t child_dies(struct gpud_fair *f, enum death what)
{
	pid_t pid = fork();
	int slot;

	if (pid)
		return pid;
	slot = gpud_fair_join(f, 1000);
	if (slot < 0)
		_exit(2);
	if (what == DIE_HOLDING_LOCK)
		pthread_mutex_lock(&f->lock);
	else if (gpud_fair_acquire(f, (unsigned int)slot))
		_exit(3);
	_exit(0);
}

static bool slot_free(struct gpud_fair *f, unsigned int nslots, int alive)
{
	unsigned int i;

	for (i = 0; i < nslots; i++)
		if ((int)i != alive && state_of(f, (int)i) != GPUD_FAIR_FREE)
			return false;
	return true;
}

/* A process that dies holding the lock wedges no one; its slot is freed. */
TEST(death_holding_the_lock)
{
	struct gpud_fair *f = fair_new(2, 1, GPUD_FAIR_HOLD_NS);
	int me, status;
	pid_t pid;

	ASSERT_NE(NULL, f);
	me = gpud_fair_join(f, 1000);
	ASSERT_GE(me, 0);
	pid = child_dies(f, DIE_HOLDING_LOCK);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* Its owner is dead: the next locker recovers. */
	ASSERT_EQ(0, gpud_fair_acquire(f, (unsigned int)me));
	gpud_fair_release(f, (unsigned int)me, gpud_fair_now());
	EXPECT_TRUE(slot_free(f, 2, me));
	/* And the slot can be taken again. */
	EXPECT_EQ(1 - me, gpud_fair_join(f, 1000));
	gpud_fair_leave(f, (unsigned int)(1 - me), gpud_fair_now());
	gpud_fair_leave(f, (unsigned int)me, gpud_fair_now());
	fair_free(f);
}

/*
 * A process that dies holding the only seat: the waiting device finds it
 * dead at its next check and gets the seat; the dead one's slot is freed.
 */
TEST(death_holding_the_seat)
{
	struct gpud_fair *f = fair_new(2, 1, GPUD_FAIR_HOLD_NS);
	long long start;
	int me, status;
	pid_t pid;

	ASSERT_NE(NULL, f);
	me = gpud_fair_join(f, 1000);
	ASSERT_GE(me, 0);
	pid = child_dies(f, DIE_HOLDING_SEAT);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(GPUD_FAIR_RUNNING, state_of(f, 1 - me));
	start = now_ms();
	ASSERT_EQ(0, gpud_fair_acquire(f, (unsigned int)me));
	/* One check period, with room for a loaded machine. */
	EXPECT_LT(now_ms() - start, (long long)(10 * GPUD_FAIR_CHECK_NS / MS));
	EXPECT_TRUE(slot_free(f, 2, me));
	gpud_fair_release(f, (unsigned int)me, gpud_fair_now());
	gpud_fair_leave(f, (unsigned int)me, gpud_fair_now());
	fair_free(f);
}

/*
 * gpud end to end: devices of two types, each with several buffers in
 * flight from its own thread, share the backend; every result is right.
 */
#define MM		48	/* MatMul of MM x MM */
#define IN_FLIGHT	8
#define ROUNDS		40

struct tenant {
	uint16_t port;
	const char *type;
	float seed;
	int failures;
	unsigned int checked;
};

static float val(int i, float seed)
{
	return (float)((i * 7 + 3) % 23) / 11.0f - 1.0f + seed;
}

static void build_matmul(struct cb *b, uint64_t h, uint32_t round)
{
	struct eia_cb_tensor t[3];

	cb_reset(b);
	t[0] = tensor(h, 0, EIA_DTYPE_F32, 2, (int64_t[]){ MM, MM });
	t[1] = tensor(h, MM * MM * 4, EIA_DTYPE_F32, 2, (int64_t[]){ MM, MM });
	t[2] = tensor(h, 2 * MM * MM * 4 + (round % IN_FLIGHT) * MM * MM * 4, EIA_DTYPE_F32,
		      2, (int64_t[]){ MM, MM });
	cb_launch(b, EIA_OP_MATMUL, t, 2, 1, NULL, 0);
	cb_d2h(b, h, t[2].offset, MM * MM * 4);
	cb_fence(b, round);
}

/* Submit ROUNDS MatMuls, IN_FLIGHT at a time, and check every product. */
static void *tenant_main(void *arg)
{
	struct tenant *t = arg;
	float a[MM * MM], bm[MM * MM], want[MM * MM];
	uint64_t ctx, h, tag = 1;
	struct sresp r;
	struct cb b;
	uint32_t sent = 0, got = 0;
	int fd, i, j, k;

	for (i = 0; i < MM * MM; i++) {
		a[i] = val(i, t->seed);
		bm[i] = val(i * 3, -t->seed);
	}
	for (i = 0; i < MM; i++)
		for (j = 0; j < MM; j++) {
			double s = 0;

			for (k = 0; k < MM; k++)
				s += (double)a[i * MM + k] * bm[k * MM + j];
			want[i * MM + j] = (float)s;
		}
	fd = attach(t->port, t->type);
	if (fd < 0 || ctx_create(fd, tag++, &ctx)) {
		t->failures++;
		return NULL;
	}
	cb_init(&b);
	cb_alloc(&b, (2 + IN_FLIGHT) * MM * MM * 4);
	if (submit(fd, ctx, &b, tag++, &r) || r.status || r.failed != NONE) {
		t->failures++;
		goto out;
	}
	h = r.res[0].value;
	sresp_release(&r);
	cb_reset(&b);
	cb_h2d(&b, h, 0, a, sizeof(a));
	cb_h2d(&b, h, sizeof(a), bm, sizeof(bm));
	if (submit(fd, ctx, &b, tag++, &r) || r.status || r.failed != NONE) {
		t->failures++;
		goto out;
	}
	sresp_release(&r);
	while (got < ROUNDS) {
		struct msg m;

		while (sent < ROUNDS && sent - got < IN_FLIGHT) {
			build_matmul(&b, h, sent);
			if (send_submit(fd, ctx, &b, 1000 + sent)) {
				t->failures++;
				goto out;
			}
			sent++;
		}
		if (recv_msg(fd, &m) || sresp_decode(&m, &r)) {
			t->failures++;
			goto out;
		}
		if (r.status || r.failed != NONE || r.tag != 1000 + got ||
		    r.data_len != sizeof(want)) {
			t->failures++;
		} else {
			float y[MM * MM];

			memcpy(y, r.data, sizeof(y));
			for (i = 0; i < MM * MM; i++)
				if (fabsf(y[i] - want[i]) > 1e-3f * (1 + fabsf(want[i])))
					break;
			if (i < MM * MM)
				t->failures++;
			else
				t->checked++;
		}
		sresp_release(&r);
		got++;
	}
out:
	cb_release(&b);
	close(fd);
	return NULL;
}

static void share_run(struct __test_metadata *_metadata, const char *const *args)
{
	struct tenant t[4] = {
		{ .type = "eia2.medium", .seed = 0.25f },
		{ .type = "eia2.xlarge", .seed = -0.5f },
		{ .type = "eia2.medium", .seed = 0.75f },
		{ .type = "eia2.large", .seed = 0.125f },
	};
	struct gpud_proc g;
	pthread_t th[4];
	int status, i;

	ASSERT_EQ(0, gpud_start(&g, "capacity memory=64G\n", args));
	for (i = 0; i < 4; i++) {
		t[i].port = g.port;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, tenant_main, &t[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, t[i].failures);
		EXPECT_EQ(ROUNDS, t[i].checked);
	}
	EXPECT_TRUE(wait_counts(g.port, 0, 0, 10000));
	status = gpud_stop(&g);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(gpud_sanitizer_clean(&g));
	EXPECT_FALSE(gpud_log_has(&g, "still allocated at exit"));
	if (!_metadata->passed && g.log)
		TH_LOG("gpud's log (last 4000 bytes):\n%s",
		       g.log + (g.len > 4000 ? g.len - 4000 : 0));
	gpud_free(&g);
}

TEST(gpud_devices_share_one_seat)
{
	static const char *const args[] = { "--threads", "2", NULL };

	share_run(_metadata, args);
}

TEST(gpud_devices_share_two_seats)
{
	static const char *const args[] = { "--threads", "2", "--concurrency", "2", NULL };

	share_run(_metadata, args);
}

TEST(gpud_concurrency_option)
{
	static const char *const two[] = { "--concurrency", "2", NULL };
	static const char *const bad[][3] = {
		{ "--concurrency", "0", NULL },
		{ "--concurrency", "65", NULL },
		{ "-j", "x", NULL },
	};
	struct gpud_proc g;
	unsigned int i;
	int status;

	ASSERT_EQ(0, gpud_start(&g, NULL, two));
	EXPECT_TRUE(gpud_log_has(&g, "sharing: backend time by FP32 TFLOPS, 2 devices at a time"));
	status = gpud_stop(&g);
	EXPECT_EQ(0, WEXITSTATUS(status));
	gpud_free(&g);
	ASSERT_EQ(0, gpud_start(&g, NULL, NULL));
	EXPECT_TRUE(gpud_log_has(&g, "sharing: backend time by FP32 TFLOPS, 1 device at a time"));
	status = gpud_stop(&g);
	EXPECT_EQ(0, WEXITSTATUS(status));
	gpud_free(&g);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(0, gpud_spawn(&g, NULL, bad[i]));
		status = gpud_wait(&g, 10000);
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(2, WEXITSTATUS(status));
		gpud_stop(&g);
		EXPECT_TRUE(gpud_log_has(&g, "invalid concurrency"));
		gpud_free(&g);
	}
	ASSERT_EQ(0, gpud_start(&g, "concurrency 3\n", NULL));
	EXPECT_TRUE(gpud_log_has(&g, "3 devices at a time"));
	status = gpud_stop(&g);
	EXPECT_EQ(0, WEXITSTATUS(status));
	gpud_free(&g);
}

TEST_HARNESS_MAIN
