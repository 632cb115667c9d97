// SPDX-License-Identifier: MIT
/*
 * eia-run: run one inference of an ONNX model on an eia accelerator, inputs
 * and outputs as ONNX TensorProto files (the .pb files of ONNX's tests).
 * See eia-run(1).
 */
#include <getopt.h>
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
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eia-run --device DEV --model M.onnx --input IN.pb [--input ...]\n"
		"               --output OUT.pb [--output ...]\n"
		"Run one inference of an ONNX model on an eia accelerator.\n"
		"\n"
		"  -d, --device DEV    eia0, /dev/eia0, or tcp://HOST:PORT[?type=TYPE]\n"
		"  -m, --model FILE    the .onnx model\n"
		"  -i, --input FILE    an input as a TensorProto (.pb); one per model\n"
		"                      input, matched by name, else in the model's order\n"
		"  -o, --output FILE   where to write an output (TensorProto); the Nth\n"
		"                      --output gets the model's Nth output\n"
		"  -q, --quiet         print nothing on success\n"
		"  -h, --help          this help\n"
		"  -V, --version       the version\n"
		"\n"
		"Exit status: 0 done, 1 the model or the device failed, 2 bad usage.\n"
		"See eia-run(1).\n");
}

static void parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "model", required_argument, NULL, 'm' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:m:i:o:qhV", longopts, NULL)) != -1) {
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
	if (!o->noutputs)
		tool_usage_error("--output is required");
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
	if (o.noutputs > nout) {
		tool_err("%d --output files, but %s has %d output%s", o.noutputs, o.model, nout,
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
	if (!write_outputs(&o, outs))
		status = 0;
out:
	for (i = 0; i < TOOL_MAX_TENSORS; i++)
		eia_host_tensor_free(&outs[i]);
	eia_session_destroy(session);
	eiaDeviceClose(dev);
	tool_model_free(&tm);
	return status;
}
