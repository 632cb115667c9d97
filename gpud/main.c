// SPDX-License-Identifier: MIT
/*
 * gpud: the eia GPU daemon. Grants each client connection an accelerator of
 * the type it asks for, from the capacity of its backend, and runs the
 * command buffers of its contexts.
 *
 * Exit status: 0 after a clean shutdown (SIGTERM, SIGINT) or --help and
 * --version; 1 when it cannot run (cannot listen, no backend capacity,
 * --backend cuda without a usable GPU);
 * 2 for a bad command line or config file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "fair.h"
#include "log.h"
#include "pool.h"
#include "server.h"
#include "session.h"
#include "tenant.h"

#define GPUD_VERSION	"0.1.0"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct options {
	const char *config;
	const char *listen;
	const char *backend;
	const char *max_connections;
	const char *threads;
	const char *concurrency;
	const char *isolation;
	const char *pidfile;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gpud [OPTION]...\n"
		"The eia GPU daemon: grants remote accelerators to eia clients.\n"
		"\n"
		"  -l, --listen ADDR:PORT      listen here (default %s;\n"
		"                              [IPV6]:PORT; port 0 picks a free port)\n"
		"  -c, --config FILE           read types, capacity and settings from FILE\n"
		"  -b, --backend NAME          auto, cpu or cuda (default auto: cuda when\n"
		"                              a GPU is usable, else cpu)\n"
		"  -m, --max-connections N     serve at most N clients at once (default %u)\n"
		"  -t, --threads N             run operators on N threads (1..%u;\n"
		"                              default: the online CPUs)\n"
		"  -j, --concurrency N         run the work of up to N devices at once\n"
		"                              (1..%u; default 1)\n"
		"  -i, --isolation MODE        auto, process or thread: serve each tenant\n"
		"                              in a process of its own, or on gpud's\n"
		"                              threads (default auto: process on cuda)\n"
		"  -p, --pidfile FILE          write the process id to FILE\n"
		"  -v, --verbose               log every request\n"
		"  -h, --help                  show this help and exit\n"
		"  -V, --version               show the version and exit\n"
		"\n"
		"Options given here override the config file. See gpud(8).\n",
		GPUD_DEFAULT_LISTEN, GPUD_DEFAULT_MAX_CONNECTIONS, EIA_POOL_MAX_THREADS,
		GPUD_FAIR_MAX_CONCURRENCY);
}

/* Returns -1 to exit 0 (--help, --version), 0 to run, EXIT_USAGE on error. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'b' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "concurrency", required_argument, NULL, 'j' },
		{ "isolation", required_argument, NULL, 'i' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "l:c:b:m:t:j:i:p:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			o->listen = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'b':
			o->backend = optarg;
			break;
		case 'm':
			o->max_connections = optarg;
			break;
		case 't':
			o->threads = optarg;
			break;
		case 'j':
			o->concurrency = optarg;
			break;
		case 'i':
			o->isolation = optarg;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("gpud (eia) %s, wire protocol version %u, backends: %s\n",
			       GPUD_VERSION, EIA_WIRE_VERSION, gpud_backend_list());
			return -1;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gpud: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* Defaults, then the config file, then the command line. */
static int build_config(const struct options *o, struct gpud_config *cfg)
{
	char err[GPUD_ERR_MAX];

	gpud_config_defaults(cfg);
	if ((o->config && gpud_config_load(cfg, o->config, err, sizeof(err))) ||
	    (o->listen && gpud_config_set_listen(cfg, o->listen, err, sizeof(err))) ||
	    (o->backend && gpud_config_set_backend(cfg, o->backend, err, sizeof(err))) ||
	    (o->max_connections &&
	     gpud_config_set_max_connections(cfg, o->max_connections, err, sizeof(err))) ||
	    (o->threads && gpud_config_set_threads(cfg, o->threads, err, sizeof(err))) ||
	    (o->concurrency &&
	     gpud_config_set_concurrency(cfg, o->concurrency, err, sizeof(err))) ||
	    (o->isolation && gpud_config_set_isolation(cfg, o->isolation, err, sizeof(err)))) {
		gpud_err("%s", err);
		return -1;
	}
	return 0;
}

/* One descriptor per connection: allow as many as the hard limit does. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * SIGTERM and SIGINT arrive on a signalfd that the accept loop polls; they
 * are blocked before any thread starts, so every thread inherits that.
 */
static int stop_signals_fd(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f);
}

static void log_stop_signal(int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) == sizeof(si))
		gpud_info("SIG%s received, stopping", sigabbrev_np((int)si.ssi_signo));
}

static void log_capacity(struct gpud_engine *eng, const struct gpud_capacity *cap,
			 unsigned int ntypes)
{
	char mem[32], fp32[32], fp16[32];

	gpud_format_bytes(mem, sizeof(mem), cap->memory_bytes);
	gpud_format_tflops(fp32, sizeof(fp32), cap->fp32_mtflops);
	gpud_format_tflops(fp16, sizeof(fp16), cap->fp16_mtflops);
	gpud_info("backend %s: capacity %s memory, %s FP32 / %s FP16 TFLOPS; %u types; %u threads",
		  eng->be->name, mem, fp32, fp16, ntypes, eia_pool_size(eng->pool));
}

/*
 * OpenBLAS (pthreads build) starts its own threads when it is loaded, before
 * main(), unless OPENBLAS_NUM_THREADS is 1. gpud never gives them work: every
 * BLAS call runs on the operator pool (Documentation/operators.rst). Rather
 * than keep them idle, gpud executes itself again, once, with the variable
 * set. Without /proc, it goes on with the idle threads.
 */
static void reexec_without_blas_threads(char **argv)
{
	const char *v = getenv("OPENBLAS_NUM_THREADS");

	if ((v && !strcmp(v, "1")) || setenv("OPENBLAS_NUM_THREADS", "1", 1))
		return;
	execv("/proc/self/exe", argv);
}

/*
 * A program executed through /proc/self/exe (above, and tenant workers) is
 * named "exe" in ps, top and pidof: give it back the name it was started
 * by.
 */
static void keep_name(void)
{
	prctl(PR_SET_NAME, program_invocation_short_name);
}

static int serve(const struct options *o, const struct gpud_config *cfg,
		 struct gpud_engine *eng, const struct gpud_capacity *cap)
{
	struct gpud_registry reg;
	struct gpud_server *srv;
	char err[GPUD_ERR_MAX];
	bool pidfile = false;
	int sigfd, ret = 0;

	sigfd = stop_signals_fd();
	if (sigfd < 0) {
		gpud_err("signalfd: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	raise_fd_limit();
	gpud_registry_init(&reg, eng->be->name, cfg->types, cfg->ntypes, cap);
	srv = gpud_server_listen(cfg->listen, &reg, eng, cfg->max_connections, err,
				 sizeof(err));
	if (!srv) {
		gpud_err("%s", err);
		ret = EXIT_RUNTIME;
		goto out;
	}
	/* The pidfile first: whoever sees "listening" may rely on it. */
	if (o->pidfile && write_pidfile(o->pidfile)) {
		gpud_err("cannot write pidfile %s: %s", o->pidfile, strerror(errno));
		ret = EXIT_RUNTIME;
	} else {
		pidfile = o->pidfile != NULL;
		log_capacity(eng, cap, cfg->ntypes);
		gpud_info("sharing: backend time by FP32 TFLOPS, %u device%s at a time",
			  cfg->concurrency, cfg->concurrency == 1 ? "" : "s");
		gpud_server_isolate(srv, gpud_config_isolate(cfg, eng->be->name));
		gpud_info("isolation: each tenant %s",
			  gpud_config_isolate(cfg, eng->be->name) ?
			  "in a worker process of its own" : "on gpud's threads");
		gpud_info("listening on %s (backend %s)", gpud_server_address(srv),
			  eng->be->name);
		if (gpud_server_run(srv, sigfd))
			ret = EXIT_RUNTIME;
		else
			log_stop_signal(sigfd);
	}
	gpud_info("shutting down (%u sessions closed)", gpud_server_shutdown(srv));
	if (atomic_load(&eng->mem_in_use))
		gpud_err("%llu bytes of device memory still allocated at exit",
			 (unsigned long long)atomic_load(&eng->mem_in_use));
	if (pidfile)
		unlink(o->pidfile);
out:
	gpud_registry_destroy(&reg);
	close(sigfd);
	return ret;
}

/* The operator pool; exits like gpud_backend_capacity() failing. */
static int start_pool(const struct gpud_config *cfg, struct gpud_engine *eng)
{
	unsigned int n = gpud_config_threads(cfg);
	int ret = eia_pool_create(n, &eng->pool);

	if (ret == -ENOTSUP)
		gpud_err("the operator pool needs OpenBLAS's pthreads build (libopenblas-pthread-dev)");
	else if (ret)
		gpud_err("cannot start %u operator threads: %s", n, strerror(-ret));
	return ret;
}

/*
 * The arbiter of backend time between devices, one slot per connection, in
 * a memfd: processes that gpud starts can map it (eng->fair_fd) and share
 * it as gpud's threads do.
 */
static int start_fair(const struct gpud_config *cfg, struct gpud_engine *eng)
{
	size_t size = gpud_fair_size(cfg->max_connections);
	void *mem = MAP_FAILED;
	int fd, ret;

	fd = memfd_create("gpud-fair", MFD_CLOEXEC);
	if (fd >= 0 && !ftruncate(fd, (off_t)size))
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		gpud_err("cannot map %zu bytes of shared memory for the scheduler: %s", size,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ret = gpud_fair_init(mem, cfg->max_connections, cfg->concurrency,
			     GPUD_FAIR_HOLD_NS);
	if (ret) {
		gpud_err("cannot set up the scheduler: %s", strerror(-ret));
		munmap(mem, size);
		close(fd);
		return -1;
	}
	eng->fair = mem;
	eng->fair_fd = fd;
	return 0;
}

static void stop_fair(const struct gpud_config *cfg, struct gpud_engine *eng)
{
	gpud_fair_destroy(eng->fair);
	munmap(eng->fair, gpud_fair_size(cfg->max_connections));
	close(eng->fair_fd);
	eng->fair = NULL;
	eng->fair_fd = -1;
}

int main(int argc, char **argv)
{
	struct options opts = { 0 };
	struct gpud_engine eng = { 0 };
	struct gpud_config cfg;
	struct gpud_capacity cap;
	char err[GPUD_ERR_MAX];
	int ret;

	reexec_without_blas_threads(argv);
	keep_name();
	if (argc == 2 && !strcmp(argv[1], GPUD_TENANT_ARG))
		return gpud_tenant_main();
	ret = parse_args(argc, argv, &opts);
	if (ret)
		return ret < 0 ? 0 : ret;
	gpud_log_init(opts.verbose);
	if (build_config(&opts, &cfg))
		return EXIT_USAGE;
	ret = gpud_backend_open(&eng, cfg.backend, err, sizeof(err));
	if (ret) {
		gpud_err("%s", err);
		return ret == GPUD_BACKEND_EUSAGE ? EXIT_USAGE : EXIT_RUNTIME;
	}
	if (gpud_backend_capacity(&eng, &cfg.capacity, &cap, err, sizeof(err))) {
		gpud_err("%s", err);
		ret = EXIT_RUNTIME;
	} else if (start_pool(&cfg, &eng)) {
		ret = EXIT_RUNTIME;
	} else if (start_fair(&cfg, &eng)) {
		ret = EXIT_RUNTIME;
		eia_pool_destroy(eng.pool);
	} else {
		ret = serve(&opts, &cfg, &eng, &cap);
		stop_fair(&cfg, &eng);
		eia_pool_destroy(eng.pool);
	}
	gpud_backend_close(&eng);
	return ret;
}
