// SPDX-License-Identifier: MIT
/*
 * eia-bench-transport: what a round trip and a copy cost through each eia
 * path, next to raw TCP on the same loopback.
 *
 *   eia-bench-transport [--device eia0|tcp://HOST:PORT] [--seconds S]
 *                       [--rounds N] [--batch N] [--copy-mib N]
 *
 * Rows:
 *   - raw TCP ping-pong of 32-byte messages with a child process (the floor),
 *     and on eia0 the same ping-pong through io_uring (a linked send and
 *     receive per round trip): what io_uring itself adds, for reference;
 *   - an empty command buffer (one FENCE): EIA_IOCTL_SUBMIT, io_uring one at
 *     a time, io_uring in batches of N, each straight on the uapi and through
 *     libeia (an EIA_STREAM_SYNC stream, a default stream);
 *   - host-to-device and device-to-host copies of N MiB through libeia,
 *     synchronous (ioctl) and on a stream (io_uring), next to a raw TCP
 *     stream of the same size with a small answer.
 * The rows are measured in N rounds, each row for S seconds per round, in
 * slices taken one row after the other, so that a machine busy with other
 * work slows every row alike; a figure is the median over the rounds, and a ratio the median
 * of the ratios within each round. A single round trip is also timed on
 * its own: its row's median is the typical round trip, which a stall of
 * the VM (a host thread preempting a vCPU for milliseconds) cannot move
 * the way it moves the mean. Figures are printed, never judged: the
 * exit status only says whether every operation worked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eia.h"
#include "eia_cmdbuf.h"
#include "eia_ioctl.h"

#define PING_BYTES	32
#define WARMUP		10
#define MAX_BATCH	128
#define MAX_ROUNDS	31
#define MAX_SAMPLES	(1 << 16)	/* round trips timed one by one per round */
#define SLICES		10		/* a round interleaves the rows this finely */

struct opts {
	const char *device;
	double seconds;
	unsigned int rounds;
	unsigned int batch;
	size_t copy_bytes;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "eia-bench-transport: %s\n", what);
	exit(1);
}

static void die_eia(const char *what, eiaError_t err)
{
	eiaFailure f;

	eiaGetLastFailure(&f);
	fprintf(stderr, "eia-bench-transport: %s: %s: %s\n", what, eiaGetErrorName(err),
		f.message);
	exit(1);
}

typedef int (*step_fn)(void *ctx);

/*
 * One row: @step runs @per_step operations (a round trip, a batch of them,
 * copies) moving @bytes in all; @per_op holds the seconds per operation of
 * each round (the mean). A row of single round trips also times each one:
 * @typical holds each round's median round trip.
 */
struct row {
	char name[80];
	step_fn step;
	void *ctx;
	unsigned int per_step;
	size_t bytes;
	bool used;
	double per_op[MAX_ROUNDS];
	double typical[MAX_ROUNDS];
	double time;		/* of the round so far */
	unsigned long ops;
	unsigned int nsamples;
	double *samples;
};

enum row_id {
	R_PING, R_PING_URING, R_IOCTL_RAW, R_IOCTL_LIB, R_U1_RAW, R_U1_LIB, R_UB_RAW, R_UB_LIB,
	R_TCP_SINK, R_H2D, R_H2D_ASYNC, R_TCP_SOURCE, R_D2H, R_D2H_ASYNC, R_COUNT
};

static struct row rows[R_COUNT];

/* Single round trips, whose typical time is a median of their own. */
static bool timed_one_by_one(const struct row *r)
{
	return r->per_step == 1 && !r->bytes;
}

static void __attribute__((format(printf, 6, 7)))
add_row(enum row_id id, step_fn step, void *ctx, unsigned int per_step, size_t bytes,
	const char *fmt, ...)
{
	struct row *r = &rows[id];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->name, sizeof(r->name), fmt, ap);
	va_end(ap);
	r->step = step;
	r->ctx = ctx;
	r->per_step = per_step;
	r->bytes = bytes;
	r->used = true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Run @r's step for about @seconds (at least once), adding to its round. */
static void measure(struct row *r, double seconds)
{
	double start = now_s(), t = 0, last = 0;
	unsigned long n = 0;

	do {
		if (r->step(r->ctx))
			die(r->name);
		t = now_s() - start;
		if (r->samples && r->nsamples < MAX_SAMPLES)
			r->samples[r->nsamples++] = t - last;
		last = t;
		n++;
	} while (t < seconds);
	r->time += t;
	r->ops += n * r->per_step;
}

/* Round @round's figures of @r, from what measure() added up. */
static void end_round(struct row *r, unsigned int round)
{
	r->per_op[round] = r->time / (double)r->ops;
	if (r->samples)
		r->typical[round] = median(r->samples, r->nsamples);
	r->time = 0;
	r->ops = 0;
	r->nsamples = 0;
}

/* Median over the rounds of @fig (seconds per operation), and the best. */
static double row_median(const double *fig, unsigned int rounds, double *best)
{
	double v[MAX_ROUNDS];

	double m;

	memcpy(v, fig, rounds * sizeof(v[0]));
	m = median(v, rounds);
	*best = v[0];		/* sorted by median() */
	return m;
}

/*
 * Median over the rounds of @num's time per operation over @den's (a
 * latency ratio); its inverse is a rate or bandwidth ratio.
 */
static double ratio(const double *num, const double *den, unsigned int rounds)
{
	double v[MAX_ROUNDS];
	unsigned int i;

	for (i = 0; i < rounds; i++)
		v[i] = num[i] / den[i];
	return median(v, rounds);
}

/* The raw TCP peer: a child process answering a tiny protocol. */

enum peer_op { PEER_PING = 1, PEER_SINK = 2, PEER_SOURCE = 3 };

struct peer_req {
	uint32_t op;
	uint32_t pad;
	uint64_t bytes;
	char fill[PING_BYTES - 16];
};

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void peer_main(int lfd, size_t max_bytes)
{
	char *buf = malloc(max_bytes);
	struct peer_req req;
	int fd = accept(lfd, NULL, NULL), one = 1;

	if (fd < 0 || !buf)
		_exit(1);
	memset(buf, 0x5a, max_bytes);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (!read_all(fd, &req, sizeof(req))) {
		if (req.bytes > max_bytes)
			_exit(1);
		if (req.op == PEER_SINK && read_all(fd, buf, req.bytes))
			break;
		if (req.op == PEER_SOURCE) {
			if (write_all(fd, buf, req.bytes))
				break;
			continue;
		}
		if (write_all(fd, &req, sizeof(req)))
			break;
	}
	_exit(0);
}

struct peer {
	pid_t pid;
	int fd;
	char *buf;
	size_t bytes;
};

static void peer_start(struct peer *p, size_t max_bytes)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sin, &len))
		die("raw TCP: cannot listen on 127.0.0.1");
	p->pid = fork();
	if (p->pid < 0)
		die("fork");
	if (!p->pid)
		peer_main(lfd, max_bytes);
	close(lfd);
	p->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("raw TCP: cannot connect to the peer");
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->buf = malloc(max_bytes);
	if (!p->buf)
		die("out of memory");
	memset(p->buf, 0xa5, max_bytes);
	p->bytes = max_bytes;
}

static void peer_stop(struct peer *p)
{
	close(p->fd);
	waitpid(p->pid, NULL, 0);
	free(p->buf);
}

static int step_ping(void *ctx)
{
	struct peer *p = ctx;
	struct peer_req req = { .op = PEER_PING };

	return write_all(p->fd, &req, sizeof(req)) || read_all(p->fd, &req, sizeof(req));
}

/*
 * The ping-pong through io_uring, on the same connection: a send linked to
 * a receive of the answer, both submitted with one io_uring_enter() that
 * waits for both, as a uring_cmd's round trip takes one.
 */
struct uping {
	struct peer *peer;
	struct io_uring ring;
};

static int step_ping_uring(void *ctx)
{
	struct uping *u = ctx;
	struct peer_req req = { .op = PEER_PING };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int ret = 0;

	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_send(sqe, u->peer->fd, &req, sizeof(req), MSG_NOSIGNAL);
	sqe->flags |= IOSQE_IO_LINK;
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_recv(sqe, u->peer->fd, &req, sizeof(req), MSG_WAITALL);
	if (io_uring_submit_and_wait(&u->ring, 2) != 2)
		return -1;
	while (seen < 2) {
		unsigned int got = 0;

		if (io_uring_wait_cqe(&u->ring, &cqe))
			return -1;
		io_uring_for_each_cqe(&u->ring, head, cqe) {
			if (cqe->res != (int)sizeof(req))
				ret = -1;
			got++;
		}
		io_uring_cq_advance(&u->ring, got);
		seen += got;
	}
	return ret;
}

/* Like a COPY_H2D: a request with the data, a small answer. */
static int step_sink(void *ctx)
{
	struct peer *p = ctx;
	struct peer_req req = { .op = PEER_SINK, .bytes = p->bytes };

	return write_all(p->fd, &req, sizeof(req)) || write_all(p->fd, p->buf, p->bytes) ||
	       read_all(p->fd, &req, sizeof(req));
}

/* Like a COPY_D2H: a small request, an answer with the data. */
static int step_source(void *ctx)
{
	struct peer *p = ctx;
	struct peer_req req = { .op = PEER_SOURCE, .bytes = p->bytes };

	return write_all(p->fd, &req, sizeof(req)) || read_all(p->fd, p->buf, p->bytes);
}

/* The uapi directly: one FENCE per buffer, on a file of its own. */

struct raw {
	int fd;
	struct io_uring ring;
	unsigned int batch;
	struct eia_cb_fence fence[MAX_BATCH];
	struct eia_cb_result result[MAX_BATCH];
};

static void raw_submit_args(struct raw *r, unsigned int i, struct eia_submit *sub)
{
	memset(sub, 0, sizeof(*sub));
	r->fence[i].hdr.op = EIA_CB_FENCE;
	r->fence[i].hdr.size = sizeof(r->fence[i]);
	r->fence[i].value = i;
	sub->cmds = (uintptr_t)&r->fence[i];
	sub->cmds_bytes = sizeof(r->fence[i]);
	sub->ncmds = 1;
	sub->results = (uintptr_t)&r->result[i];
}

static int step_raw_ioctl(void *ctx)
{
	struct raw *r = ctx;
	struct eia_submit sub;

	raw_submit_args(r, 0, &sub);
	return ioctl(r->fd, EIA_IOCTL_SUBMIT, &sub) ? -1 : 0;
}

/* Queue @n FENCE buffers, submit them with one io_uring_enter(), reap them. */
static int raw_uring(struct raw *r, unsigned int n)
{
	struct io_uring_cqe *cqe;
	struct eia_submit sub;
	unsigned int i, head, seen = 0;
	int ret;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

		if (!sqe)
			return -1;
		memset(sqe, 0, 2 * sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = r->fd;
		sqe->cmd_op = EIA_URING_CMD_SUBMIT;
		raw_submit_args(r, i, &sub);
		memcpy(sqe->cmd, &sub, sizeof(sub));
	}
	ret = io_uring_submit_and_wait(&r->ring, n);
	if (ret != (int)n)
		return -1;
	while (seen < n) {
		unsigned int got = 0;

		ret = io_uring_wait_cqe(&r->ring, &cqe);
		if (ret)
			return -1;
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			if (cqe->res)
				ret = -1;
			got++;
		}
		io_uring_cq_advance(&r->ring, got);
		seen += got;
	}
	return ret;
}

static int step_raw_uring1(void *ctx)
{
	return raw_uring(ctx, 1);
}

static int step_raw_uring_batch(void *ctx)
{
	struct raw *r = ctx;

	return raw_uring(r, r->batch);
}

/* The same through libeia. */

struct lib {
	eiaDevice_t dev;
	eiaStream_t stream;
	eiaEvent_t ev[MAX_BATCH];
	unsigned int batch;
	eiaDeviceptr mem;
	void *host;
	size_t bytes;
	unsigned int copies;	/* per step, for the asynchronous copies */
};

static int step_lib_event(void *ctx)
{
	struct lib *l = ctx;

	return eiaEventRecord(l->ev[0], l->stream) || eiaEventSynchronize(l->ev[0]);
}

static int step_lib_batch(void *ctx)
{
	struct lib *l = ctx;
	unsigned int i;

	for (i = 0; i < l->batch; i++)
		if (eiaEventRecord(l->ev[i], l->stream))
			return -1;
	return eiaStreamSynchronize(l->stream) ? -1 : 0;
}

static int step_lib_h2d(void *ctx)
{
	struct lib *l = ctx;

	return eiaMemcpyHtoD(l->dev, l->mem, 0, l->host, l->bytes) ? -1 : 0;
}

static int step_lib_d2h(void *ctx)
{
	struct lib *l = ctx;

	return eiaMemcpyDtoH(l->dev, l->host, l->mem, 0, l->bytes) ? -1 : 0;
}

static int step_lib_h2d_async(void *ctx)
{
	struct lib *l = ctx;
	unsigned int i;

	for (i = 0; i < l->copies; i++)
		if (eiaMemcpyHtoDAsync(l->stream, l->mem, 0, l->host, l->bytes))
			return -1;
	return eiaStreamSynchronize(l->stream) ? -1 : 0;
}

static int step_lib_d2h_async(void *ctx)
{
	struct lib *l = ctx;
	unsigned int i;

	for (i = 0; i < l->copies; i++)
		if (eiaMemcpyDtoHAsync(l->stream, l->host, l->mem, 0, l->bytes))
			return -1;
	return eiaStreamSynchronize(l->stream) ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: eia-bench-transport [--device eia0|/dev/eiaN|tcp://HOST:PORT]\n"
		"                           [--seconds S] [--rounds N] [--batch N] [--copy-mib N]\n"
		"  --seconds S   time per row and round (default 0.5)\n"
		"  --rounds N    rounds over all rows, 1..%d (default 5)\n"
		"  --batch N     command buffers per io_uring batch, 1..%d (default 64)\n"
		"  --copy-mib N  size of each copy in MiB, 1..256 (default 8)\n",
		MAX_ROUNDS, MAX_BATCH);
	exit(2);
}

/* A whole decimal number in [min, max], or usage(). */
static long num_arg(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage();
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "copy-mib", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*o = (struct opts){ .device = "eia0", .seconds = 0.5, .rounds = 5, .batch = 64,
			    .copy_bytes = 8u << 20 };
	while ((c = getopt_long(argc, argv, "d:s:r:b:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 60))
				usage();
			break;
		case 'r':
			o->rounds = (unsigned int)num_arg(optarg, 1, MAX_ROUNDS);
			break;
		case 'b':
			o->batch = (unsigned int)num_arg(optarg, 1, MAX_BATCH);
			break;
		case 'c':
			o->copy_bytes = (size_t)num_arg(optarg, 1, 256) << 20;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* The /dev path of a kernel device name, or NULL for tcp://. */
static const char *dev_path(const char *name, char *buf, size_t len)
{
	if (!strncmp(name, "tcp://", 6))
		return NULL;
	if (name[0] == '/')
		return name;
	snprintf(buf, len, "/dev/%s", name);
	return buf;
}

static void setup_raw(struct raw *r, const char *path, const struct opts *o)
{
	/*
	 * A ring used by one thread, as Documentation/userspace-api.rst
	 * advises: completions' task work runs when the thread waits, not
	 * by interrupting it.
	 */
	struct io_uring_params params = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 |
			 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	};

	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		die("cannot open the device for the uapi rows");
	if (io_uring_queue_init_params(MAX_BATCH, &r->ring, &params))
		die("io_uring with SQE128 and CQE32 is not available");
	r->batch = o->batch;
	add_row(R_IOCTL_RAW, step_raw_ioctl, r, 1, 0, "empty buffer, EIA_IOCTL_SUBMIT (uapi)");
	add_row(R_U1_RAW, step_raw_uring1, r, 1, 0, "empty buffer, io_uring one at a time (uapi)");
	add_row(R_UB_RAW, step_raw_uring_batch, r, o->batch, 0,
		"empty buffer, io_uring batches of %u (uapi)", o->batch);
}

static void teardown_raw(struct raw *r)
{
	io_uring_queue_exit(&r->ring);
	close(r->fd);
}

/*
 * libeia's rows. @sync runs its buffers at flush (ioctl, or tcp://), @async
 * is a default stream (io_uring; only on devices of eia.ko).
 */
static void setup_lib(struct lib *sync, struct lib *async, const struct opts *o,
		      bool kernel)
{
	eiaError_t err;
	unsigned int i;

	*sync = (struct lib){ .batch = o->batch, .bytes = o->copy_bytes, .copies = 1 };
	if ((err = eiaDeviceOpen(&sync->dev, o->device)))
		die_eia("eiaDeviceOpen", err);
	for (i = 0; i < o->batch; i++)
		if ((err = eiaEventCreate(&sync->ev[i], 0)))
			die_eia("eiaEventCreate", err);
	if ((err = eiaStreamCreate(&sync->stream, sync->dev, EIA_STREAM_SYNC)))
		die_eia("eiaStreamCreate", err);
	sync->host = malloc(sync->bytes);
	if (!sync->host)
		die("out of memory");
	memset(sync->host, 0x3c, sync->bytes);
	if ((err = eiaMemAlloc(sync->dev, &sync->mem, sync->bytes)))
		die_eia("eiaMemAlloc", err);
	add_row(R_IOCTL_LIB, step_lib_event, sync, 1, 0, kernel ?
		"empty buffer, EIA_IOCTL_SUBMIT (libeia)" : "empty buffer, tcp:// SUBMIT (libeia)");
	add_row(R_H2D, step_lib_h2d, sync, 1, sync->bytes, "host to device, %zu MiB, eiaMemcpyHtoD",
		sync->bytes >> 20);
	add_row(R_D2H, step_lib_d2h, sync, 1, sync->bytes, "device to host, %zu MiB, eiaMemcpyDtoH",
		sync->bytes >> 20);
	if (!kernel)
		return;

	/* The same device and memory; an io_uring stream and events of its own. */
	*async = *sync;
	async->copies = 4;
	for (i = 0; i < o->batch; i++)
		if ((err = eiaEventCreate(&async->ev[i], 0)))
			die_eia("eiaEventCreate", err);
	if ((err = eiaStreamCreate(&async->stream, async->dev, EIA_STREAM_DEFAULT)))
		die_eia("eiaStreamCreate", err);
	add_row(R_U1_LIB, step_lib_event, async, 1, 0,
		"empty buffer, io_uring one at a time (libeia)");
	add_row(R_UB_LIB, step_lib_batch, async, o->batch, 0,
		"empty buffer, io_uring batches of %u (libeia)", o->batch);
	add_row(R_H2D_ASYNC, step_lib_h2d_async, async, async->copies,
		async->bytes * async->copies, "host to device, %u x %zu MiB, io_uring stream",
		async->copies, async->bytes >> 20);
	add_row(R_D2H_ASYNC, step_lib_d2h_async, async, async->copies,
		async->bytes * async->copies, "device to host, %u x %zu MiB, io_uring stream",
		async->copies, async->bytes >> 20);
}

static void teardown_lib(struct lib *sync, struct lib *async, bool kernel)
{
	eiaError_t err;
	unsigned int i;

	if (kernel) {
		if ((err = eiaStreamDestroy(async->stream)))
			die_eia("eiaStreamDestroy", err);
		for (i = 0; i < async->batch; i++)
			eiaEventDestroy(async->ev[i]);
	}
	if ((err = eiaStreamDestroy(sync->stream)) || (err = eiaMemFree(sync->dev, sync->mem)))
		die_eia("teardown", err);
	for (i = 0; i < sync->batch; i++)
		eiaEventDestroy(sync->ev[i]);
	if ((err = eiaDeviceClose(sync->dev)))
		die_eia("eiaDeviceClose", err);
	free(sync->host);
}

/*
 * A round trip's typical time (median of the single ones) where each was
 * timed, and the mean per operation, whose inverse is the rate.
 */
static void print_latency(enum row_id id, unsigned int rounds)
{
	const struct row *r = &rows[id];
	double best, mean;

	if (!r->used)
		return;
	mean = row_median(r->per_op, rounds, &best);
	printf("  %-48s", r->name);
	if (timed_one_by_one(r))
		printf(" %9.1f", row_median(r->typical, rounds, &best) * 1e6);
	else
		printf(" %9s", "");
	printf(" %9.1f %10.0f", mean * 1e6, 1 / mean);
	if (id != R_PING && timed_one_by_one(r))
		printf("   %6.2fx %6.2fx", ratio(r->typical, rows[R_PING].typical, rounds),
		       ratio(r->per_op, rows[R_PING].per_op, rounds));
	printf("\n");
}

static void print_bandwidth(enum row_id id, enum row_id raw, unsigned int rounds)
{
	const struct row *r = &rows[id];
	double per_op = (double)r->bytes / r->per_step, best, m;

	if (!r->used)
		return;
	m = row_median(r->per_op, rounds, &best);
	printf("  %-48s %9.1f %9.1f MB/s", r->name, per_op / m / 1e6, per_op / best / 1e6);
	if (id != raw)
		printf("   %5.1f%% of raw TCP", 100 / ratio(r->per_op, rows[raw].per_op, rounds));
	printf("\n");
}

static void goal(const char *what, double value, const char *unit, const char *cmp,
		 double target, bool met)
{
	printf("  %-52s %8.2f%s  (goal %s %.2f%s: %s)\n", what, value, unit, cmp, target,
	       unit, met ? "met" : "NOT met");
}

static void goal_latency(const char *what, enum row_id id, unsigned int rounds)
{
	double r;

	if (!rows[id].used)
		return;
	r = ratio(rows[id].typical, rows[R_PING].typical, rounds);
	goal(what, r, "x", "<=", 1.3, r <= 1.3);
}

static void goal_batch(const char *what, enum row_id batch, enum row_id one,
		       unsigned int rounds)
{
	double r;

	if (!rows[batch].used)
		return;
	r = ratio(rows[one].per_op, rows[batch].per_op, rounds);
	goal(what, r, "x", ">=", 10, r >= 10);
}

static void goal_bandwidth(const char *what, enum row_id id, enum row_id raw,
			   unsigned int rounds)
{
	double r;

	if (!rows[id].used)
		return;
	r = 1 / ratio(rows[id].per_op, rows[raw].per_op, rounds);
	goal(what, 100 * r, "%", ">=", 85, r >= 0.85);
}

static void print_results(unsigned int rounds)
{
	printf("\nRound trips (median: of the single round trips, each timed; mean: per\n"
	       "operation, of a batch its time / its size; ratios to the ping-pong's)\n");
	printf("  %-48s %9s %9s %10s   %s\n", "", "median us", "mean us", "ops/s",
	       "median   mean");
	for (enum row_id id = R_PING; id <= R_UB_LIB; id++)
		print_latency(id, rounds);
	printf("\nBandwidth\n");
	printf("  %-48s %9s %9s\n", "", "median", "best");
	print_bandwidth(R_TCP_SINK, R_TCP_SINK, rounds);
	print_bandwidth(R_H2D, R_TCP_SINK, rounds);
	print_bandwidth(R_H2D_ASYNC, R_TCP_SINK, rounds);
	print_bandwidth(R_TCP_SOURCE, R_TCP_SOURCE, rounds);
	print_bandwidth(R_D2H, R_TCP_SOURCE, rounds);
	print_bandwidth(R_D2H_ASYNC, R_TCP_SOURCE, rounds);

	printf("\nGoals (medians of per-round ratios; round trips: median over median;\n"
	       "figures only, never asserted)\n");
	goal_latency("round trip, ioctl (uapi) / ping-pong", R_IOCTL_RAW, rounds);
	goal_latency(rows[R_IOCTL_RAW].used ? "round trip, ioctl (libeia) / ping-pong" :
					      "round trip, tcp:// (libeia) / ping-pong",
		     R_IOCTL_LIB, rounds);
	goal_latency("round trip, io_uring (uapi) / ping-pong", R_U1_RAW, rounds);
	goal_latency("round trip, io_uring (libeia) / ping-pong", R_U1_LIB, rounds);
	goal_batch("batched / one-at-a-time rate, io_uring (uapi)", R_UB_RAW, R_U1_RAW, rounds);
	goal_batch("batched / one-at-a-time rate, io_uring (libeia)", R_UB_LIB, R_U1_LIB,
		   rounds);
	goal_bandwidth("host to device, eiaMemcpyHtoD / raw TCP", R_H2D, R_TCP_SINK, rounds);
	goal_bandwidth("host to device, io_uring stream / raw TCP", R_H2D_ASYNC, R_TCP_SINK,
		       rounds);
	goal_bandwidth("device to host, eiaMemcpyDtoH / raw TCP", R_D2H, R_TCP_SOURCE, rounds);
	goal_bandwidth("device to host, io_uring stream / raw TCP", R_D2H_ASYNC, R_TCP_SOURCE,
		       rounds);
	if (!rows[R_PING_URING].used)
		return;
	printf("\nFor reference, against the ping-pong through io_uring (median over median)\n");
	printf("  %-52s %8.2fx\n", "ping-pong through io_uring / ping-pong",
	       ratio(rows[R_PING_URING].typical, rows[R_PING].typical, rounds));
	printf("  %-52s %8.2fx\n", "round trip, io_uring (uapi) / io_uring ping-pong",
	       ratio(rows[R_U1_RAW].typical, rows[R_PING_URING].typical, rounds));
	printf("  %-52s %8.2fx\n", "round trip, io_uring (libeia) / io_uring ping-pong",
	       ratio(rows[R_U1_LIB].typical, rows[R_PING_URING].typical, rounds));
}

int main(int argc, char **argv)
{
	struct lib sync, async;
	struct raw *raw = NULL;
	struct uping uping = { .peer = NULL };
	struct peer peer;
	struct opts o;
	char pathbuf[300];
	const char *path;
	unsigned int round, i;
	eiaError_t err;
	int id;

	parse_opts(argc, argv, &o);
	if ((err = eiaInit(0)))
		die_eia("eiaInit", err);
	path = dev_path(o.device, pathbuf, sizeof(pathbuf));

	printf("eia-bench-transport: device %s, %u rounds of %.2f s per row in %d slices, batches of %u, %zu MiB copies\n",
	       o.device, o.rounds, o.seconds, SLICES, o.batch, o.copy_bytes >> 20);

	peer_start(&peer, o.copy_bytes);
	add_row(R_PING, step_ping, &peer, 1, 0, "raw TCP ping-pong, 32 bytes, two processes");
	add_row(R_TCP_SINK, step_sink, &peer, 1, o.copy_bytes, "raw TCP, %zu MiB out, 32 bytes back",
		o.copy_bytes >> 20);
	add_row(R_TCP_SOURCE, step_source, &peer, 1, o.copy_bytes,
		"raw TCP, 32 bytes out, %zu MiB back", o.copy_bytes >> 20);
	if (path) {
		uping.peer = &peer;
		if (io_uring_queue_init(4, &uping.ring, 0))
			die("io_uring_queue_init");
		add_row(R_PING_URING, step_ping_uring, &uping, 1, 0,
			"the same ping-pong through io_uring");
		raw = calloc(1, sizeof(*raw));
		if (!raw)
			die("out of memory");
		setup_raw(raw, path, &o);
	}
	setup_lib(&sync, &async, &o, path != NULL);

	for (id = 0; id < R_COUNT; id++)
		for (i = 0; rows[id].used && i < WARMUP; i++)
			if (rows[id].step(rows[id].ctx))
				die(rows[id].name);
	for (id = 0; id < R_COUNT; id++) {
		if (!rows[id].used || !timed_one_by_one(&rows[id]))
			continue;
		rows[id].samples = malloc(MAX_SAMPLES * sizeof(double));
		if (!rows[id].samples)
			die("out of memory");
	}
	/*
	 * Each round goes over the rows SLICES times, so that its figures of
	 * every row come from the same seconds: under TCG the machine's speed
	 * drifts within seconds, and a ratio of rows measured apart would
	 * measure the drift.
	 */
	for (round = 0; round < o.rounds; round++) {
		for (i = 0; i < SLICES; i++)
			for (id = 0; id < R_COUNT; id++)
				if (rows[id].used)
					measure(&rows[id], o.seconds / SLICES);
		for (id = 0; id < R_COUNT; id++)
			if (rows[id].used)
				end_round(&rows[id], round);
	}
	for (id = 0; id < R_COUNT; id++)
		free(rows[id].samples);

	teardown_lib(&sync, &async, path != NULL);
	if (raw) {
		teardown_raw(raw);
		free(raw);
		io_uring_queue_exit(&uping.ring);
	}
	peer_stop(&peer);
	print_results(o.rounds);
	return 0;
}
