// SPDX-License-Identifier: MIT
/*
 * eia-bench: the benchmark of the PyTorch Elastic Inference article. One
 * inference is run and discarded (it warms gpud's caches and buffers), then
 * --runs inferences are timed one after another, each from its inputs on
 * the host to its outputs on the host. It prints the mean, P50, P90 and P95
 * latencies, the throughput, and what 100,000 inferences cost at an hourly
 * price. See eia-bench(1).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"
#include "version.h"

#define DEFAULT_RUNS 1000
#define MAX_RUNS 10000000L

/*
 * Hourly on-demand prices (USD, us-east-1, as Amazon published them for
 * Elastic Inference): the client instance the article ran on and each
 * accelerator type. The price of a benchmark is the client's plus the
 * accelerator's; --price-per-hour replaces the sum.
 */
#define CLIENT_INSTANCE "c5.large"
#define CLIENT_PRICE 0.085

static const struct {
	const char *type;
	double price;
} accel_prices[] = {
	{ "eia1.medium", 0.130 },
	{ "eia1.large", 0.260 },
	{ "eia1.xlarge", 0.520 },
	{ "eia2.medium", 0.120 },
	{ "eia2.large", 0.240 },
	{ "eia2.xlarge", 0.340 },
};

struct bench_opts {
	const char *device;
	const char *model;
	const char *inputs[TOOL_MAX_TENSORS];
	int ninputs;
	struct tool_shape shapes[TOOL_MAX_TENSORS];
	int nshapes;
	long runs;
	double price;		/* 0: from the table */
	bool json;
};

/* What the runs measured, in milliseconds. */
struct bench_stats {
	double mean, p50, p90, p95, min, max, stddev, throughput;
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: eia-bench [--device DEV] --model M.onnx [--runs N] [--input IN.pb ...]\n"
		"                 [--shape [NAME=]DIMS] [--price-per-hour X] [--json]\n"
		"Benchmark an ONNX model on an eia accelerator: one inference discarded,\n"
		"then N timed; mean, P50, P90 and P95 latency, throughput, and the cost\n"
		"of 100,000 inferences.\n"
		"\n"
		"  -d, --device DEV         eia0 (default), /dev/eiaN, or\n"
		"                           tcp://HOST:PORT[?type=TYPE]\n"
		"  -m, --model FILE         the .onnx model\n"
		"  -n, --runs N             timed inferences (default %d)\n"
		"  -i, --input FILE         an input as a TensorProto (.pb); inputs no\n"
		"                           file gives are made up from a fixed seed\n"
		"  -s, --shape [NAME=]DIMS  dims of a made-up input with symbolic dims\n"
		"                           (such as 1x7; default 1 then 7s: 7 tokens)\n"
		"  -p, --price-per-hour X   the hourly price in USD (default: the client\n"
		"                           instance's plus the accelerator type's)\n"
		"  -j, --json               print one JSON object, no progress\n"
		"  -h, --help               this help\n"
		"  -V, --version            the version\n"
		"\n"
		"Default prices per hour (USD): client %s %.3f, plus\n",
		DEFAULT_RUNS, CLIENT_INSTANCE, CLIENT_PRICE);
	for (i = 0; i < sizeof(accel_prices) / sizeof(accel_prices[0]); i++)
		fprintf(f, "  %-12s %.3f\n", accel_prices[i].type, accel_prices[i].price);
	fprintf(f, "\nExit status: 0 done, 1 the model or the device failed, 2 bad usage.\n"
		"See eia-bench(1).\n");
}

static double parse_price(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !isfinite(v) || v <= 0 || v > 1e6)
		tool_usage_error("--price-per-hour: '%s' is not a price in USD above 0", arg);
	return v;
}

static void parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "model", required_argument, NULL, 'm' },
		{ "runs", required_argument, NULL, 'n' },
		{ "input", required_argument, NULL, 'i' },
		{ "shape", required_argument, NULL, 's' },
		{ "price-per-hour", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->device = "eia0";
	o->runs = DEFAULT_RUNS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:m:n:i:s:p:jhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 'm': o->model = optarg; break;
		case 'n': o->runs = tool_parse_count("--runs", optarg, MAX_RUNS); break;
		case 'i':
			if (o->ninputs == TOOL_MAX_TENSORS)
				tool_usage_error("more than %d --input files", TOOL_MAX_TENSORS);
			o->inputs[o->ninputs++] = optarg;
			break;
		case 's':
			if (o->nshapes == TOOL_MAX_TENSORS)
				tool_usage_error("more than %d --shape options", TOOL_MAX_TENSORS);
			tool_parse_shape(optarg, &o->shapes[o->nshapes++]);
			break;
		case 'p': o->price = parse_price(optarg); break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("eia-bench %s\n", EIA_VERSION); exit(0);
		case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
		default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		tool_usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->model)
		tool_usage_error("--model is required");
}

/* The table's price for @type, client included; 0 when the type is not in it. */
static double table_price(const char *type, double *accel)
{
	size_t i;

	for (i = 0; i < sizeof(accel_prices) / sizeof(accel_prices[0]); i++)
		if (!strcmp(type, accel_prices[i].type)) {
			*accel = accel_prices[i].price;
			return CLIENT_PRICE + accel_prices[i].price;
		}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Where the runs stand: a bar redrawn in place on a terminal, a line at
 * every tenth otherwise (logs, serial consoles with TERM=dumb).
 */
struct progress {
	bool bar, lines;
	long total, shown;
};

static void progress_init(struct progress *p, long total, bool quiet)
{
	const char *term = getenv("TERM");

	p->total = total;
	p->shown = -1;
	p->bar = !quiet && isatty(STDERR_FILENO) && term && *term && strcmp(term, "dumb");
	p->lines = !quiet && !p->bar;
}

static void progress_update(struct progress *p, long done)
{
	enum { WIDTH = 40 };
	char bar[WIDTH + 1];
	long fill, step;

	if (p->bar) {
		step = p->total / 200 ? p->total / 200 : 1;
		if (done != p->total && done - p->shown < step)
			return;
		fill = done * WIDTH / p->total;
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(WIDTH - fill));
		bar[WIDTH] = '\0';
		fprintf(stderr, "\r[%s] %ld/%ld", bar, done, p->total);
		if (done == p->total)
			fputc('\n', stderr);
		fflush(stderr);
		p->shown = done;
	} else if (p->lines) {
		step = p->total / 10 ? p->total / 10 : 1;
		if (done % step && done != p->total)
			return;
		fprintf(stderr, "%s: %ld/%ld inferences\n", tool_name, done, p->total);
		p->shown = done;
	}
}

/* One inference, outputs dropped; its latency in ms, or -1 after printing why. */
static double run_once(struct eia_session *s, struct tool_model *tm, int nout,
		       struct eia_host_tensor *outs)
{
	struct eia_runner_error err = { 0 };
	double start = now_ms(), end;
	int i;

	if (eia_session_run(s, tm->inputs, tm->ninputs, outs, nout, &err)) {
		tool_err("inference failed: %s", err.msg);
		return -1;
	}
	end = now_ms();
	for (i = 0; i < nout; i++)
		eia_host_tensor_free(&outs[i]);
	return end - start;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v. */
static double percentile(const double *v, long n, double pct)
{
	long rank = (long)ceil(pct / 100.0 * (double)n);

	return v[rank < 1 ? 0 : rank - 1];
}

static void compute_stats(double *lat, long n, struct bench_stats *st)
{
	double sum = 0, sq = 0;
	long i;

	for (i = 0; i < n; i++)
		sum += lat[i];
	st->mean = sum / (double)n;
	for (i = 0; i < n; i++)
		sq += (lat[i] - st->mean) * (lat[i] - st->mean);
	st->stddev = sqrt(sq / (double)n);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	st->min = lat[0];
	st->max = lat[n - 1];
	st->p50 = percentile(lat, n, 50);
	st->p90 = percentile(lat, n, 90);
	st->p95 = percentile(lat, n, 95);
	st->throughput = 1000.0 / st->mean;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

struct bench_result {
	const struct bench_opts *o;
	const char *type;
	double price;		/* 0: unknown */
	const char *price_from;
	double load_s, upload_s;	/* open and prepare; session (upload) */
	uint64_t weights_bytes;
	struct bench_stats st;
};

static void print_json(const struct bench_result *r)
{
	const struct bench_stats *st = &r->st;

	printf("{\"model\": ");
	json_string(r->o->model);
	printf(", \"device\": ");
	json_string(r->o->device);
	printf(", \"type\": ");
	json_string(r->type);
	printf(", \"runs\": %ld, \"discarded\": 1", r->o->runs);
	printf(", \"load_s\": %.3f, \"upload_s\": %.3f, \"weights_bytes\": %llu", r->load_s,
	       r->upload_s, (unsigned long long)r->weights_bytes);
	printf(", \"mean_ms\": %.6f, \"p50_ms\": %.6f, \"p90_ms\": %.6f, \"p95_ms\": %.6f",
	       st->mean, st->p50, st->p90, st->p95);
	printf(", \"min_ms\": %.6f, \"max_ms\": %.6f, \"stddev_ms\": %.6f", st->min, st->max,
	       st->stddev);
	printf(", \"throughput_per_s\": %.6f", st->throughput);
	if (r->price > 0) {
		printf(", \"price_per_hour\": %.6f, \"price_from\": ", r->price);
		json_string(r->price_from);
		printf(", \"cost_per_100k\": %.8f}\n", st->mean / 3.6e6 * r->price * 1e5);
	} else {
		printf(", \"price_per_hour\": null, \"price_from\": null, \"cost_per_100k\": null}\n");
	}
}

/*
 * The cost is computed from the mean and the price exactly as they are
 * printed, so that anyone can check the line from the two above it.
 */
static void print_text(const struct bench_result *r)
{
	const struct bench_stats *st = &r->st;
	char mean[32], price[32];

	snprintf(mean, sizeof(mean), "%.3f", st->mean);
	printf("Mean latency (ms): %s\n", mean);
	printf("P50 latency (ms): %.3f\n", st->p50);
	printf("P90 latency (ms): %.3f\n", st->p90);
	printf("P95 latency (ms): %.3f\n", st->p95);
	printf("Min latency (ms): %.3f\n", st->min);
	printf("Max latency (ms): %.3f\n", st->max);
	printf("Throughput (inferences/s): %.2f\n", st->throughput);
	if (r->price > 0) {
		snprintf(price, sizeof(price), "%.6g", r->price);
		printf("Price per hour (USD): %s (%s)\n", price, r->price_from);
		printf("Cost per 100,000 inferences (USD): %.5f\n",
		       strtod(mean, NULL) / 3.6e6 * strtod(price, NULL) * 1e5);
	} else {
		printf("Price per hour (USD): unknown (no price for type %s; give --price-per-hour)\n",
		       r->type);
		printf("Cost per 100,000 inferences (USD): unknown\n");
	}
}

/* The discarded inference, then the timed ones into @lat. */
static int run_all(const struct bench_opts *o, struct eia_session *s, struct tool_model *tm,
		   double *lat)
{
	struct eia_host_tensor outs[TOOL_MAX_TENSORS] = { 0 };
	int nout = eia_model_num_outputs(tm->model);
	struct progress prog;
	long i;

	if (nout > TOOL_MAX_TENSORS) {
		tool_err("%s: %d outputs; at most %d are supported", o->model, nout,
			 TOOL_MAX_TENSORS);
		return -1;
	}
	if (run_once(s, tm, nout, outs) < 0)
		return -1;
	progress_init(&prog, o->runs, o->json);
	for (i = 0; i < o->runs; i++) {
		lat[i] = run_once(s, tm, nout, outs);
		if (lat[i] < 0)
			return -1;
		progress_update(&prog, i + 1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct eia_runner_error err = { 0 };
	struct eia_session *session = NULL;
	struct bench_opts o = { 0 };
	struct bench_result r = { 0 };
	char price_from[128];
	eiaDeviceProp prop;
	eiaDevice_t dev = NULL;
	struct tool_model tm;
	double *lat = NULL, accel = 0, t0, t1;
	struct eia_plan_stats stats;
	int status = TOOL_EXIT_FAIL, i;
	eiaError_t e;

	tool_name = "eia-bench";
	parse_args(argc, argv, &o);
	lat = calloc((size_t)o.runs, sizeof(*lat));
	if (!lat) {
		tool_err("out of memory for %ld runs", o.runs);
		goto out_opts;
	}
	t0 = now_ms();
	if (tool_model_load(&tm, o.model, o.inputs, o.ninputs, o.shapes, o.nshapes, true))
		goto out;
	t1 = now_ms();
	if (tool_device_open(o.device, &dev))
		goto out;
	e = eiaDeviceGetProperties(&prop, dev);
	if (e != EIA_SUCCESS) {
		tool_eia_err(o.device, e);
		goto out;
	}
	if (eia_session_create(tm.model, dev, &session, &err)) {
		tool_err("%s on %s: %s", o.model, o.device, err.msg);
		goto out;
	}
	r.load_s = (t1 - t0) / 1e3;
	r.upload_s = (now_ms() - t1) / 1e3;
	eia_model_stats(tm.model, &stats);
	r.weights_bytes = stats.weights_bytes;
	r.o = &o;
	r.type = prop.type;
	if (o.price > 0) {
		r.price = o.price;
		r.price_from = "--price-per-hour";
	} else {
		r.price = table_price(prop.type, &accel);
		snprintf(price_from, sizeof(price_from), "%s client %.3f + %s %.3f",
			 CLIENT_INSTANCE, CLIENT_PRICE, prop.type, accel);
		r.price_from = price_from;
	}
	if (!o.json) {
		printf("%s: %s on %s (%s), %ld inferences after 1 discarded\n", tool_name,
		       o.model, o.device, prop.type, o.runs);
		printf("%s: model loaded and planned in %.1f s; %.1f MiB of constants uploaded in %.1f s\n",
		       tool_name, r.load_s, (double)r.weights_bytes / 1048576.0, r.upload_s);
	}
	fflush(stdout);
	if (run_all(&o, session, &tm, lat))
		goto out;
	compute_stats(lat, o.runs, &r.st);
	if (o.json)
		print_json(&r);
	else
		print_text(&r);
	status = 0;
out:
	eia_session_destroy(session);
	eiaDeviceClose(dev);
	tool_model_free(&tm);
	free(lat);
out_opts:
	for (i = 0; i < o.nshapes; i++)
		free(o.shapes[i].name);
	return status;
}
