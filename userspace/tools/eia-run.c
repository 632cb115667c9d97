// SPDX-License-Identifier: MIT
/*
 * eia-run: run one inference of an ONNX model on an eia accelerator, inputs
 * and outputs as ONNX TensorProto files (the .pb files of ONNX's tests).
 * See eia-run(1).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "version.h"

struct run_opts {
	const char *device;
	const char *model;
	const char *inputs[TOOL_MAX_TENSORS];
	int ninputs;
	const char *outputs[TOOL_MAX_TENSORS];
	int noutputs;
	const char *expects[TOOL_MAX_TENSORS];
	int nexpects;
	bool quiet;
};

/* --expect tolerance for float outputs: |got - want| <= ATOL + RTOL * |want|. */
#define EXPECT_ATOL	1e-4
#define EXPECT_RTOL	1e-3

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eia-run --device DEV --model M.onnx --input IN.pb [--input ...]\n"
		"               --output OUT.pb [--output ...] | --expect REF.pb [...]\n"
		"Run one inference of an ONNX model on an eia accelerator.\n"
		"\n"
		"  -d, --device DEV    eia0, /dev/eia0, or tcp://HOST:PORT[?type=TYPE]\n"
		"  -m, --model FILE    the .onnx model\n"
		"  -i, --input FILE    an input as a TensorProto (.pb); one per model\n"
		"                      input, matched by name, else in the model's order\n"
		"  -o, --output FILE   where to write an output (TensorProto); the Nth\n"
		"                      --output gets the model's Nth output\n"
		"  -e, --expect FILE   compare the Nth output with this reference\n"
		"                      (TensorProto): float32 within 1e-4 absolute +\n"
		"                      1e-3 relative, other types exactly\n"
		"  -q, --quiet         print nothing on success\n"
		"  -h, --help          this help\n"
		"  -V, --version       the version\n"
		"\n"
		"Exit status: 0 done, 1 the model or the device failed or an output\n"
		"differs from its --expect reference, 2 bad usage.\n"
		"See eia-run(1).\n");
}

static void parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "model", required_argument, NULL, 'm' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "expect", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:m:i:o:e:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 'm': o->model = optarg; break;
		case 'i':
			if (o->ninputs == TOOL_MAX_TENSORS)
				tool_usage_error("more than %d --input files", TOOL_MAX_TENSORS);
			o->inputs[o->ninputs++] = optarg;
			break;
		case 'o':
			if (o->noutputs == TOOL_MAX_TENSORS)
				tool_usage_error("more than %d --output files", TOOL_MAX_TENSORS);
			o->outputs[o->noutputs++] = optarg;
			break;
		case 'e':
			if (o->nexpects == TOOL_MAX_TENSORS)
				tool_usage_error("more than %d --expect files", TOOL_MAX_TENSORS);
			o->expects[o->nexpects++] = optarg;
			break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("eia-run %s\n", EIA_VERSION); exit(0);
		case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
		default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		tool_usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->device)
		tool_usage_error("--device is required (eia0 or tcp://HOST:PORT)");
	if (!o->model)
		tool_usage_error("--model is required");
	if (!o->noutputs && !o->nexpects)
		tool_usage_error("--output is required (or --expect)");
}

/* Write the outputs that have a file; say what went where. */
static int write_outputs(const struct run_opts *o, struct eia_host_tensor *outs)
{
	struct eia_runner_error err = { 0 };
	char desc[128];
	int i;

	for (i = 0; i < o->noutputs; i++) {
		if (eia_tensor_write_pb(o->outputs[i], &outs[i], &err)) {
			tool_err("--output: %s", err.msg);
			return -1;
		}
		if (!o->quiet)
			printf("%s %s -> %s\n", outs[i].name, tool_describe(&outs[i], desc, sizeof(desc)),
			       o->outputs[i]);
	}
	return 0;
}

/* Compare @got with @want; print the verdict. Returns 0 when they match. */
static int compare_output(const char *path, const struct eia_host_tensor *got,
			  const struct eia_host_tensor *want)
{
	size_t i, n, bad = 0;
	double worst = 0;
	int d;

	if (got->dtype != want->dtype || got->ndim != want->ndim ||
	    got->size != want->size) {
		tool_err("%s: shape or type differs from %s", got->name, path);
		return -1;
	}
	for (d = 0; d < got->ndim; d++) {
		if (got->dims[d] != want->dims[d]) {
			tool_err("%s: dimension %d is %lld, %s has %lld", got->name, d,
				 (long long)got->dims[d], path, (long long)want->dims[d]);
			return -1;
		}
	}
	if (got->dtype != EIA_DTYPE_F32) {
		bad = memcmp(got->data, want->data, got->size) != 0;
		n = got->size;
	} else {
		const float *g = got->data, *w = want->data;

		n = got->size / sizeof(float);
		for (i = 0; i < n; i++) {
			double diff = fabs((double)g[i] - (double)w[i]);

			if (!(diff <= EXPECT_ATOL + EXPECT_RTOL * fabs((double)w[i])))
				bad++;
			if (diff > worst || isnan(diff))
				worst = diff;
		}
	}
	if (bad) {
		tool_err("%s: %zu of %zu values differ from %s (largest difference %.3g)",
			 got->name, bad, n, path, worst);
		return -1;
	}
	printf("%s matches %s (%zu values, largest difference %.3g)\n", got->name, path, n,
	       worst);
	return 0;
}

/* Compare the outputs that have an --expect reference. */
static int check_outputs(const struct run_opts *o, struct eia_host_tensor *outs)
{
	struct eia_runner_error err = { 0 };
	int i, ret = 0;

	for (i = 0; i < o->nexpects; i++) {
		struct eia_host_tensor want = { 0 };

		if (eia_tensor_read_pb(o->expects[i], &want, &err)) {
			tool_err("--expect: %s", err.msg);
			return -1;
		}
		if (compare_output(o->expects[i], &outs[i], &want))
			ret = -1;
		eia_host_tensor_free(&want);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct eia_host_tensor outs[TOOL_MAX_TENSORS] = { 0 };
	struct eia_runner_error err = { 0 };
	struct eia_session *session = NULL;
	struct run_opts o = { 0 };
	struct tool_model tm;
	eiaDevice_t dev = NULL;
	int status = TOOL_EXIT_FAIL, nout, i;

	tool_name = "eia-run";
	parse_args(argc, argv, &o);
	if (tool_model_load(&tm, o.model, o.inputs, o.ninputs, NULL, 0, false))
		goto out;
	nout = eia_model_num_outputs(tm.model);
	if (o.noutputs > nout || o.nexpects > nout) {
		tool_err("%d --output or --expect files, but %s has %d output%s",
			 o.noutputs > o.nexpects ? o.noutputs : o.nexpects, o.model, nout,
			 nout == 1 ? "" : "s");
		goto out;
	}
	if (nout > TOOL_MAX_TENSORS) {
		tool_err("%s: %d outputs; at most %d are supported", o.model, nout,
			 TOOL_MAX_TENSORS);
		goto out;
	}
	if (tool_device_open(o.device, &dev))
		goto out;
	if (eia_session_create(tm.model, dev, &session, &err)) {
		tool_err("%s on %s: %s", o.model, o.device, err.msg);
		goto out;
	}
	if (eia_session_run(session, tm.inputs, tm.ninputs, outs, nout, &err)) {
		tool_err("%s: %s", o.model, err.msg);
		goto out;
	}
	if (!write_outputs(&o, outs) && !check_outputs(&o, outs))
		status = 0;
out:
	for (i = 0; i < TOOL_MAX_TENSORS; i++)
		eia_host_tensor_free(&outs[i]);
	eia_session_destroy(session);
	eiaDeviceClose(dev);
	tool_model_free(&tm);
	return status;
}
