// SPDX-License-Identifier: MIT
/*
 * eia-bench-share: how devices share one gpud backend (issue 5's figures).
 *
 *   eia-bench-share [--gpud PATH] [--backend auto|cpu|cuda] [--seconds S]
 *                   [--size N] [--concurrency N] [--threads N]
 *                   [--isolation auto|process|thread]
 *
 * It starts its own gpud on 127.0.0.1 (a free port) and runs tenants in
 * threads of its own, each a tcp:// device of libeia with one stream that
 * runs an N x N x N fp32 MatMul per command buffer, one buffer in flight
 * (a tcp:// stream waits for each buffer). Phases of S seconds each:
 *
 *   1. one eia2.medium alone, flat out: its throughput;
 *   2. four eia2.medium flat out: their aggregate throughput, against 1
 *      (goal >= 90%);
 *   3. a paced eia2.medium (a buffer, then 7 times that buffer's time
 *      alone to think: an eighth of the backend, half of its fair share)
 *      alone, then while three eia2.medium run flat out: its P50, P90 and
 *      P99 latency, and the ratio of the P90s (goal <= 1.2x);
 *   4. an eia2.medium and an eia2.xlarge flat out: the share of buffers
 *      each got, against their weights (1:4).
 *
 * Figures are printed, never judged: the exit status only says whether
 * every operation worked (1: an eia call failed, 2: gpud did not start).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eia.h"

#define MAX_TENANTS	4
#define WARMUP		5
/* The paced tenant thinks this many times its buffer's time alone. */
#define THINK_FACTOR	7
#define LINE_MAX_LEN	512

struct opts {
	const char *gpud;
	const char *backend;
	double seconds;
	int size;
	const char *concurrency;
	const char *threads;
	const char *isolation;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "eia-bench-share: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void __attribute__((noreturn)) die_eia(const char *what, eiaError_t err)
{
	eiaFailure f;

	eiaGetLastFailure(&f);
	die("%s: %s: %s", what, eiaGetErrorName(err), f.message);
}

/* The gpud this benchmark runs, and the thread that drains its log. */
struct gpud {
	pid_t pid;
	int port;
	FILE *log;
	pthread_t drain;
};

/* gpud's log after "listening on" is of no interest, but must be read. */
static void *drain_main(void *arg)
{
	struct gpud *g = arg;
	char line[LINE_MAX_LEN];

	while (fgets(line, sizeof(line), g->log))
		;
	return NULL;
}

/*
 * Start gpud on 127.0.0.1 with a free port; echo its start-up lines (the
 * backend, its capacity, how it is shared) and return once it listens.
 */
static void gpud_start(struct gpud *g, const struct opts *o)
{
	const char *argv[16];
	char line[LINE_MAX_LEN];
	int fds[2], n = 0;
	char *p;

	argv[n++] = o->gpud;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--backend";
	argv[n++] = o->backend;
	if (o->concurrency) {
		argv[n++] = "--concurrency";
		argv[n++] = o->concurrency;
	}
	if (o->threads) {
		argv[n++] = "--threads";
		argv[n++] = o->threads;
	}
	if (o->isolation) {
		argv[n++] = "--isolation";
		argv[n++] = o->isolation;
	}
	argv[n] = NULL;
	if (pipe(fds))
		die("pipe: %s", strerror(errno));
	g->pid = fork();
	if (g->pid < 0)
		die("fork: %s", strerror(errno));
	if (!g->pid) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(o->gpud, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", o->gpud, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	g->log = fdopen(fds[0], "r");
	if (!g->log)
		die("fdopen: %s", strerror(errno));
	while (fgets(line, sizeof(line), g->log)) {
		p = strstr(line, "gpud: ");
		printf("#   %s", p ? p : line);
		p = strstr(line, "listening on 127.0.0.1:");
		if (p) {
			g->port = atoi(p + strlen("listening on 127.0.0.1:"));
			break;
		}
	}
	if (!g->port) {
		fprintf(stderr, "eia-bench-share: %s did not start\n", o->gpud);
		exit(2);
	}
	if (pthread_create(&g->drain, NULL, drain_main, g))
		die("cannot start a thread");
}

static void gpud_stop(struct gpud *g)
{
	int status;

	kill(g->pid, SIGTERM);
	waitpid(g->pid, &status, 0);
	pthread_join(g->drain, NULL);
	fclose(g->log);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("gpud did not exit cleanly (wait status %#x)", status);
}

/* One tenant: a tcp:// device with its stream and its MatMul's operands. */
struct tenant {
	const char *type;
	double think_s;		/* pause after each buffer; 0: flat out */
	eiaDevice_t dev;
	eiaStream_t stream;
	eiaDeviceptr mem;
	eiaTensor in[2], out;
	/* Results of a phase. */
	unsigned long jobs;
	double *lat;		/* seconds, per buffer */
	size_t nlat, cap;
};

struct phase {
	double end;
	pthread_barrier_t start;
};

static void tenant_open(struct tenant *t, int port, int size)
{
	size_t bytes = (size_t)size * size * sizeof(float);
	char url[128];
	float *host;
	eiaError_t err;
	size_t i;
	int k;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d?type=%s", port, t->type);
	err = eiaDeviceOpen(&t->dev, url);
	if (err)
		die_eia(url, err);
	err = eiaStreamCreate(&t->stream, t->dev, EIA_STREAM_DEFAULT);
	if (!err)
		err = eiaMemAlloc(t->dev, &t->mem, 3 * bytes);
	if (err)
		die_eia("eiaStreamCreate/eiaMemAlloc", err);
	host = malloc(2 * bytes);
	if (!host)
		die("out of memory");
	for (i = 0; i < 2 * (size_t)size * size; i++)
		host[i] = (float)(i % 17) / 16.0f - 0.5f;
	err = eiaMemcpyHtoD(t->dev, t->mem, 0, host, 2 * bytes);
	free(host);
	if (err)
		die_eia("eiaMemcpyHtoD", err);
	for (k = 0; k < 3; k++) {
		eiaTensor *x = k < 2 ? &t->in[k] : &t->out;

		*x = (eiaTensor){ .ptr = t->mem, .offset = (size_t)k * bytes,
				  .dtype = EIA_DTYPE_F32, .ndim = 2, .dims = { size, size } };
	}
}

static void tenant_close(struct tenant *t)
{
	eiaError_t err = eiaStreamDestroy(t->stream);

	if (!err)
		err = eiaMemFree(t->dev, t->mem);
	if (!err)
		err = eiaDeviceClose(t->dev);
	if (err)
		die_eia("closing a device", err);
	free(t->lat);
	t->lat = NULL;
}

/* One buffer: the MatMul, waited for. Returns its latency in seconds. */
static double tenant_job(struct tenant *t)
{
	double start = now_s();
	eiaError_t err;

	err = eiaLaunchOp(t->stream, EIA_OP_MATMUL, t->in, 2, &t->out, 1, NULL, 0);
	if (!err)
		err = eiaStreamSynchronize(t->stream);
	if (err)
		die_eia("MatMul", err);
	return now_s() - start;
}

static void record(struct tenant *t, double lat)
{
	if (t->nlat == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		double *p = realloc(t->lat, cap * sizeof(*p));

		if (!p)
			die("out of memory");
		t->lat = p;
		t->cap = cap;
	}
	t->lat[t->nlat++] = lat;
	t->jobs++;
}

struct worker_arg {
	struct phase *ph;
	struct tenant *t;
};

static void *tenant_main(void *arg)
{
	struct worker_arg *w = arg;
	struct tenant *t = w->t;

	pthread_barrier_wait(&w->ph->start);
	while (now_s() < w->ph->end) {
		record(t, tenant_job(t));
		if (t->think_s > 0) {
			struct timespec ts = { .tv_sec = (time_t)t->think_s,
					       .tv_nsec = (long)(fmod(t->think_s, 1) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* Open @n tenants, warm them up, run them together for @seconds, close them. */
static double run_phase(struct tenant *t, unsigned int n, const struct gpud *g,
			const struct opts *o)
{
	struct worker_arg w[MAX_TENANTS];
	pthread_t th[MAX_TENANTS];
	struct phase ph;
	double start;
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		tenant_open(&t[i], g->port, o->size);
		for (k = 0; k < WARMUP; k++)
			tenant_job(&t[i]);
		t[i].jobs = 0;
		t[i].nlat = 0;
	}
	pthread_barrier_init(&ph.start, NULL, n + 1);
	for (i = 0; i < n; i++) {
		w[i] = (struct worker_arg){ .ph = &ph, .t = &t[i] };
		if (pthread_create(&th[i], NULL, tenant_main, &w[i]))
			die("cannot start a thread");
	}
	start = now_s();
	ph.end = start + o->seconds;
	pthread_barrier_wait(&ph.start);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&ph.start);
	return now_s() - start;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @p-th percentile (nearest rank) of @t's latencies, in ms. */
static double pct_ms(struct tenant *t, double p)
{
	size_t rank;

	if (!t->nlat)
		return NAN;
	qsort(t->lat, t->nlat, sizeof(*t->lat), cmp_double);
	rank = (size_t)ceil(p / 100 * (double)t->nlat);
	return t->lat[rank ? rank - 1 : 0] * 1e3;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eia-bench-share [--gpud PATH] [--backend auto|cpu|cuda] [--seconds S]\n"
		"                       [--size N] [--concurrency N] [--threads N]\n"
		"                       [--isolation auto|process|thread]\n"
		"Starts gpud on 127.0.0.1 and measures how devices share its backend.\n"
		"  --gpud PATH        the gpud to run (default: gpud next to this program)\n"
		"  --backend NAME     gpud's --backend (default auto)\n"
		"  --seconds S        length of each phase (default 5)\n"
		"  --size N           N x N x N fp32 MatMul per buffer (default 768)\n"
		"  --concurrency N    gpud's --concurrency (default gpud's: 1)\n"
		"  --threads N        gpud's --threads (default gpud's: the CPUs)\n"
		"  --isolation MODE   gpud's --isolation (default gpud's: auto)\n");
}

/* gpud in the directory of this program, where the build puts both. */
static const char *default_gpud(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	char *slash;

	if (n <= 0)
		return "gpud";
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "gpud");
	return path;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "gpud", required_argument, NULL, 'g' },
		{ "backend", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 't' },
		{ "isolation", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (struct opts){ .gpud = default_gpud(), .backend = "auto", .seconds = 5,
			    .size = 768 };
	while ((opt = getopt_long(argc, argv, "g:b:s:n:j:t:i:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'g':
			o->gpud = optarg;
			break;
		case 'b':
			o->backend = optarg;
			break;
		case 's':
			o->seconds = atof(optarg);
			break;
		case 'n':
			o->size = atoi(optarg);
			break;
		case 'j':
			o->concurrency = optarg;
			break;
		case 't':
			o->threads = optarg;
			break;
		case 'i':
			o->isolation = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	if (optind < argc || o->seconds <= 0 || o->size < 1 || o->size > 8192) {
		usage(stderr);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct tenant t[MAX_TENANTS];
	double secs, alone_rate, shared_rate, p90_alone, p90_shared, think;
	unsigned long total;
	struct gpud g = { 0 };
	struct opts o;
	eiaError_t err;
	unsigned int i;

	parse_args(argc, argv, &o);
	err = eiaInit(0);
	if (err)
		die_eia("eiaInit", err);
	printf("# eia-bench-share: %dx%dx%d fp32 MatMul per buffer, %.1f s per phase\n",
	       o.size, o.size, o.size, o.seconds);
	gpud_start(&g, &o);

	memset(t, 0, sizeof(t));
	t[0].type = "eia2.medium";
	secs = run_phase(t, 1, &g, &o);
	alone_rate = t[0].jobs / secs;
	printf("1 eia2.medium alone:              %8.1f buffers/s  (P50 %.2f ms, P90 %.2f ms)\n",
	       alone_rate, pct_ms(&t[0], 50), pct_ms(&t[0], 90));
	tenant_close(&t[0]);

	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++)
		t[i].type = "eia2.medium";
	secs = run_phase(t, 4, &g, &o);
	total = 0;
	for (i = 0; i < 4; i++)
		total += t[i].jobs;
	shared_rate = total / secs;
	printf("4 eia2.medium flat out:           %8.1f buffers/s  (%lu %lu %lu %lu)\n",
	       shared_rate, t[0].jobs, t[1].jobs, t[2].jobs, t[3].jobs);
	printf("  aggregate against 1 alone:      %8.1f %%      (goal >= 90 %%)\n",
	       100 * shared_rate / alone_rate);
	for (i = 0; i < 4; i++)
		tenant_close(&t[i]);

	/* The paced tenant's buffer time alone sets its think time. */
	memset(t, 0, sizeof(t));
	t[0].type = "eia2.medium";
	think = THINK_FACTOR / alone_rate;
	t[0].think_s = think;
	run_phase(t, 1, &g, &o);
	p90_alone = pct_ms(&t[0], 90);
	printf("paced eia2.medium alone:          P50 %.2f ms, P90 %.2f ms, P99 %.2f ms  (%lu buffers, %.1f ms apart)\n",
	       pct_ms(&t[0], 50), p90_alone, pct_ms(&t[0], 99), t[0].jobs, think * 1e3);
	tenant_close(&t[0]);

	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++)
		t[i].type = "eia2.medium";
	t[0].think_s = think;
	run_phase(t, 4, &g, &o);
	p90_shared = pct_ms(&t[0], 90);
	printf("paced, 3 others flat out:         P50 %.2f ms, P90 %.2f ms, P99 %.2f ms  (%lu buffers)\n",
	       pct_ms(&t[0], 50), p90_shared, pct_ms(&t[0], 99), t[0].jobs);
	printf("  P90 against alone:              %8.2f x      (goal <= 1.2 x)\n",
	       p90_shared / p90_alone);
	for (i = 0; i < 4; i++)
		tenant_close(&t[i]);

	memset(t, 0, sizeof(t));
	t[0].type = "eia2.medium";
	t[1].type = "eia2.xlarge";
	secs = run_phase(t, 2, &g, &o);
	total = t[0].jobs + t[1].jobs;
	printf("eia2.medium + eia2.xlarge flat out: %lu + %lu buffers in %.1f s\n", t[0].jobs,
	       t[1].jobs, secs);
	printf("  shares:                         %5.1f %% : %5.1f %%  (weights 1:4 = 20 %% : 80 %%), xlarge/medium %.2f\n",
	       100.0 * t[0].jobs / total, 100.0 * t[1].jobs / total,
	       t[0].jobs ? (double)t[1].jobs / t[0].jobs : NAN);
	for (i = 0; i < 2; i++)
		tenant_close(&t[i]);

	gpud_stop(&g);
	return 0;
}
