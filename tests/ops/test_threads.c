// SPDX-License-Identifier: MIT
/*
 * The pool's thread bound: every task runs once, on at most N distinct
 * threads, none of them the caller; and while real operators run, OpenBLAS
 * included, no thread is created and at most N threads use CPU time.
 * (OpenBLAS's pthreads build keeps server threads of its own; with its
 * thread count set to 1 they must stay asleep.)
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define NTASKS 2000

struct record {
	pid_t tid[NTASKS];
	atomic_int runs[NTASKS];
};

static int record_task(void *arg, size_t task, unsigned int worker)
{
	struct record *r = arg;
	volatile double x = 0;

	(void)worker;
	for (int i = 0; i < 2000; i++)	/* long enough for workers to meet */
		x += i;
	r->tid[task] = gettid();
	atomic_fetch_add(&r->runs[task], 1);
	return x < 0 ? -EIO : 0;
}

static int distinct(const pid_t *tids, int n)
{
	int count = 0;

	for (int i = 0; i < n; i++) {
		int j = 0;

		while (j < i && tids[j] != tids[i])
			j++;
		count += j == i;
	}
	return count;
}

TEST(tasks_run_once_on_at_most_n_threads)
{
	for (unsigned int n = 1; n <= 4; n++) {
		struct record *r = calloc(1, sizeof(*r));
		struct eia_pool *pool;

		ASSERT_NE(NULL, r);
		ASSERT_EQ(0, eia_pool_create(n, &pool));
		ASSERT_EQ(n, eia_pool_size(pool));
		ASSERT_EQ(0, eia_pool_run(pool, NTASKS, record_task, r));
		for (int i = 0; i < NTASKS; i++) {
			ASSERT_EQ(1, atomic_load(&r->runs[i]));
			ASSERT_NE(gettid(), r->tid[i]);
		}
		TH_LOG("pool of %u: %d threads ran tasks", n,
		       distinct(r->tid, NTASKS));
		ASSERT_LE(distinct(r->tid, NTASKS), (int)n);
		ASSERT_GE(distinct(r->tid, NTASKS), 1);
		eia_pool_destroy(pool);
		free(r);
	}
}

static int fail_at_5(void *arg, size_t task, unsigned int worker)
{
	(void)arg;
	(void)worker;
	return task == 5 ? -EIO : 0;
}

TEST(task_error_is_returned)
{
	struct eia_pool *pool;

	ASSERT_EQ(-EINVAL, eia_pool_create(0, &pool));
	ASSERT_EQ(-EINVAL, eia_pool_create(EIA_POOL_MAX_THREADS + 1, &pool));
	ASSERT_EQ(0, eia_pool_create(3, &pool));
	ASSERT_EQ(-EIO, eia_pool_run(pool, 100, fail_at_5, NULL));
	ASSERT_EQ(0, eia_pool_run(pool, 5, fail_at_5, NULL));
	ASSERT_EQ(0, eia_pool_run(pool, 0, fail_at_5, NULL));
	eia_pool_destroy(pool);
	eia_pool_destroy(NULL);
}

struct submitter {
	struct eia_pool *pool;
	atomic_long *sum;
	int ret;
};

static int add_one(void *arg, size_t task, unsigned int worker)
{
	(void)task;
	(void)worker;
	atomic_fetch_add((atomic_long *)arg, 1);
	return 0;
}

static void *submit_many(void *arg)
{
	struct submitter *s = arg;

	for (int i = 0; i < 200 && !s->ret; i++)
		s->ret = eia_pool_run(s->pool, 50, add_one, s->sum);
	return NULL;
}

TEST(concurrent_submitters_are_serialised)
{
	struct submitter s[3];
	pthread_t th[3];
	atomic_long sum = 0;
	struct eia_pool *pool;

	ASSERT_EQ(0, eia_pool_create(2, &pool));
	for (int i = 0; i < 3; i++) {
		s[i] = (struct submitter){ .pool = pool, .sum = &sum };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, submit_many, &s[i]));
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ASSERT_EQ(0, s[i].ret);
	}
	ASSERT_EQ(3 * 200 * 50, atomic_load(&sum));
	eia_pool_destroy(pool);
}

/* The order jobs ran in: each job appends its submitter's mark. */
struct turns {
	char log[4096];
	atomic_int len;
	atomic_bool stop;
	struct eia_pool *pool;
};

struct mark {
	struct turns *t;
	char who;
};

/* A job of some length (about 100 us), which ends by leaving its mark. */
static int append_mark(void *arg, size_t task, unsigned int worker)
{
	const struct mark *m = arg;
	struct timespec a, b;
	int at;

	(void)worker;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 100000);
	if (task)
		return 0;
	at = atomic_fetch_add(&m->t->len, 1);
	if (at < (int)sizeof(m->t->log))
		m->t->log[at] = m->who;
	return 0;
}

static void *hog(void *arg)
{
	struct turns *t = arg;
	struct mark m = { .t = t, .who = 'A' };

	while (!atomic_load(&t->stop))
		eia_pool_run(t->pool, 2, append_mark, &m);
	return NULL;
}

/*
 * Submitters take turns in arrival order: one that submits job after job
 * makes another wait for at most one of its jobs per job.
 */
TEST(submitters_take_turns)
{
	enum { N = 50 };
	struct turns *t = calloc(1, sizeof(*t));
	struct mark m = { .t = t, .who = 'B' };
	int first = -1, last = -1, between = 0, i;
	pthread_t th;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, eia_pool_create(2, &t->pool));
	ASSERT_EQ(0, pthread_create(&th, NULL, hog, t));
	while (atomic_load(&t->len) < 20)
		sched_yield();
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, eia_pool_run(t->pool, 2, append_mark, &m));
	atomic_store(&t->stop, true);
	pthread_join(th, NULL);
	ASSERT_GT((int)sizeof(t->log), atomic_load(&t->len));
	for (i = 0; i < atomic_load(&t->len); i++)
		if (t->log[i] == 'B') {
			if (first < 0)
				first = i;
			last = i;
		}
	for (i = first; i <= last; i++)
		between += t->log[i] == 'A';
	TH_LOG("%d jobs of the other submitter ran during %d of ours", between, N);
	ASSERT_LE(between, N);
	eia_pool_destroy(t->pool);
	free(t);
}

/* Thread ids of this process and their CPU time so far, in ns. */
struct threads {
	int n;
	pid_t tid[64];
	uint64_t cpu_ns[64];
};

static uint64_t thread_cpu_ns(pid_t tid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
		return ns;
	}
	/* Without schedstat: utime + stime in clock ticks from stat. */
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (f) {
		unsigned long long ut = 0, st = 0;

		if (fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u "
			      "%*u %*u %llu %llu", &ut, &st) == 2)
			ns = (ut + st) * (1000000000ull /
					  (unsigned long long)sysconf(_SC_CLK_TCK));
		fclose(f);
	}
	return ns;
}

static char thread_state(pid_t tid)
{
	char path[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = '?';
		fclose(f);
	}
	return state;
}

static void snapshot(struct threads *t)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	t->n = 0;
	while (d && (e = readdir(d)) && t->n < 64) {
		if (e->d_name[0] == '.')
			continue;
		t->tid[t->n] = atoi(e->d_name);
		t->cpu_ns[t->n] = thread_cpu_ns(t->tid[t->n]);
		t->n++;
	}
	if (d)
		closedir(d);
}

static uint64_t cpu_before(const struct threads *t, pid_t tid)
{
	for (int i = 0; i < t->n; i++)
		if (t->tid[i] == tid)
			return t->cpu_ns[i];
	return 0;
}

/* Gemm, batched MatMul and Conv: BLAS-heavy work for the pool. */
struct work {
	struct eia_tensor a, b, y, ba, bb, by, x, w, cy;
};

static void work_init(struct work *k)
{
	k->a = T(EIA_DTYPE_F32, 384, 384);
	k->b = T(EIA_DTYPE_F32, 384, 384);
	k->y = T(EIA_DTYPE_F32, 384, 384);
	k->ba = T(EIA_DTYPE_F32, 8, 64, 256);
	k->bb = T(EIA_DTYPE_F32, 8, 256, 64);
	k->by = T(EIA_DTYPE_F32, 8, 64, 64);
	k->x = T(EIA_DTYPE_F32, 2, 32, 32, 32);
	k->w = T(EIA_DTYPE_F32, 32, 32, 3, 3);
	k->cy = T(EIA_DTYPE_F32, 2, 32, 32, 32);
	tfill(&k->a, -1, 1);
	tfill(&k->b, -1, 1);
	tfill(&k->ba, -1, 1);
	tfill(&k->bb, -1, 1);
	tfill(&k->x, -1, 1);
	tfill(&k->w, -1, 1);
}

static int work_run(struct eia_pool *pool, struct work *k)
{
	struct eia_gemm_attr g = EIA_GEMM_ATTR_INIT;
	struct eia_conv2d_attr c = EIA_CONV2D_ATTR_INIT;
	int ret = 0;

	c.pads[0] = c.pads[1] = c.pads[2] = c.pads[3] = 1;
	for (int i = 0; i < 20 && !ret; i++) {
		ret = eia_op_gemm(pool, &g, &k->a, &k->b, NULL, &k->y);
		if (!ret)
			ret = eia_op_matmul(pool, &k->ba, &k->bb, &k->by);
		if (!ret)
			ret = eia_op_conv2d(pool, &c, &k->x, &k->w, NULL, &k->cy);
	}
	return ret;
}

/*
 * Wait until every thread but the caller sleeps: idle pool workers do, and
 * OpenBLAS's server threads once their start-up spin (a fixed number of
 * cycles) has passed.
 */
static bool others_asleep(void)
{
	for (int tries = 0; tries < 100; tries++) {
		struct threads t;
		bool all = true;

		snapshot(&t);
		for (int i = 0; i < t.n; i++)
			if (t.tid[i] != gettid() && thread_state(t.tid[i]) != 'S')
				all = false;
		if (all)
			return true;
		usleep(50000);
	}
	return false;
}

static void check_cpu_bound(struct __test_metadata *_metadata, unsigned int n)
{
	struct threads before, after;
	uint64_t caller = 0, workers = 0;
	struct eia_pool *pool;
	struct work k;
	int busy = 0;

	ASSERT_EQ(0, eia_pool_create(n, &pool));
	work_init(&k);
	/* A first run loads OpenBLAS's kernels before measuring. */
	ASSERT_EQ(0, work_run(pool, &k));
	ASSERT_TRUE(others_asleep());
	snapshot(&before);
	ASSERT_EQ(0, work_run(pool, &k));
	snapshot(&after);
	/* No thread appeared: OpenBLAS computed on the pool's workers. */
	ASSERT_GE(before.n, (int)n + 1);
	ASSERT_EQ(before.n, after.n);
	for (int i = 0; i < after.n; i++) {
		uint64_t used = after.cpu_ns[i] - cpu_before(&before, after.tid[i]);

		TH_LOG("pool of %u: thread %d used %llu ms", n, after.tid[i],
		       (unsigned long long)(used / 1000000));
		if (after.tid[i] == gettid()) {
			caller = used;
			continue;
		}
		workers += used;
		busy += used > 20000000;
	}
	/* The caller only validated and waited; the workers did the work. */
	ASSERT_GE(busy, 1);
	ASSERT_LE(busy, (int)n);
	ASSERT_LT(caller * 10, workers);
	eia_pool_destroy(pool);
	tfree_all();
}

TEST(operators_use_only_the_pool_threads)
{
	check_cpu_bound(_metadata, 1);
	check_cpu_bound(_metadata, 2);
}

TEST_HARNESS_MAIN
