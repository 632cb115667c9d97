// SPDX-License-Identifier: MIT
/* Shared by eia-run and eia-bench: see tool.h. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

const char *tool_name = "eia-tool";

static void tool_verr(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", tool_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_verr(fmt, ap);
	va_end(ap);
}

void tool_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_verr(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", tool_name);
	exit(TOOL_EXIT_USAGE);
}

long tool_parse_count(const char *opt, const char *arg, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > max)
		tool_usage_error("%s: '%s' is not a whole number between 1 and %ld",
				 opt, arg, max);
	return v;
}

void tool_parse_shape(const char *arg, struct tool_shape *shape)
{
	const char *eq = strchr(arg, '='), *p = eq ? eq + 1 : arg;
	char *end;

	memset(shape, 0, sizeof(*shape));
	if (eq) {
		if (eq == arg)
			tool_usage_error("--shape '%s': the input name before '=' is empty", arg);
		shape->name = strndup(arg, (size_t)(eq - arg));
		if (!shape->name)
			tool_usage_error("out of memory");
	}
	for (;;) {
		long long d;

		if (shape->ndim == EIA_MAX_DIMS)
			tool_usage_error("--shape '%s': more than %d dims", arg, EIA_MAX_DIMS);
		errno = 0;
		d = strtoll(p, &end, 10);
		if (errno || end == p || d < 1 || d > INT32_MAX || (*end && *end != 'x'))
			tool_usage_error("--shape '%s': want [NAME=]DIMS such as 1x7, each dim a positive number",
					 arg);
		shape->dims[shape->ndim++] = d;
		if (!*end)
			break;
		p = end + 1;
	}
}

const char *tool_describe(const struct eia_host_tensor *t, char *buf, size_t len)
{
	size_t used;
	int i;

	used = (size_t)snprintf(buf, len, "%s[", eia_dtype_name(t->dtype));
	for (i = 0; i < t->ndim && used < len; i++) {
		if (t->dims[i] < 0)
			used += (size_t)snprintf(buf + used, len - used, "%s?", i ? "," : "");
		else
			used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64,
						 i ? "," : "", t->dims[i]);
	}
	if (used < len)
		snprintf(buf + used, len - used, "]");
	return buf;
}

static void runner_err(const char *what, const struct eia_runner_error *err)
{
	tool_err("%s: %s", what, err->msg);
}

/* The graph input a file named @name goes to: by name, else the first free. */
static int pick_input(const struct tool_model *tm, const bool *taken, const char *name)
{
	struct eia_host_tensor info;
	int i;

	for (i = 0; i < tm->ninputs; i++)
		if (!taken[i] && !eia_model_input(tm->model, i, &info) &&
		    name && !strcmp(name, info.name))
			return i;
	for (i = 0; i < tm->ninputs; i++)
		if (!taken[i])
			return i;
	return -1;
}

/* Read @path into input slot @i, named as the graph input, shape bound. */
static int load_input_file(struct tool_model *tm, const char *path, bool *taken)
{
	struct eia_runner_error err = { 0 };
	struct eia_host_tensor t, info;
	char got[128], want[128];
	int i;

	if (eia_tensor_read_pb(path, &t, &err)) {
		runner_err("--input", &err);
		return -1;
	}
	i = pick_input(tm, taken, t.name);
	if (i < 0) {
		tool_err("--input %s: the model has only %d input%s", path, tm->ninputs,
			 tm->ninputs == 1 ? "" : "s");
		eia_host_tensor_free(&t);
		return -1;
	}
	eia_model_input(tm->model, i, &info);
	if (t.dtype != info.dtype) {
		tool_err("--input %s: a %s tensor, but model input '%s' is %s", path,
			 tool_describe(&t, got, sizeof(got)), info.name,
			 tool_describe(&info, want, sizeof(want)));
		eia_host_tensor_free(&t);
		return -1;
	}
	free(t.name);
	t.name = strdup(info.name);
	tm->inputs[i] = t;
	taken[i] = true;
	if (!t.name) {
		tool_err("out of memory");
		return -1;
	}
	if (eia_model_set_input_shape(tm->model, info.name, t.ndim, t.dims, &err)) {
		tool_err("--input %s (%s): %s", path, tool_describe(&t, got, sizeof(got)),
			 err.msg);
		return -1;
	}
	return 0;
}

static const struct tool_shape *find_shape(const struct tool_shape *shapes, int nshapes,
					   const char *name, int ninputs)
{
	int i;

	for (i = 0; i < nshapes; i++)
		if (shapes[i].name ? !strcmp(shapes[i].name, name) : ninputs == 1)
			return &shapes[i];
	return NULL;
}

static bool has_input(const struct tool_model *tm, const char *name)
{
	struct eia_host_tensor info;
	int i;

	for (i = 0; i < tm->ninputs; i++)
		if (!eia_model_input(tm->model, i, &info) && !strcmp(info.name, name))
			return true;
	return false;
}

/* A fixed-seed generator, so that every run feeds the same numbers. */
static uint64_t next_random(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

static void fill_synthetic(struct eia_host_tensor *t, uint64_t *seed)
{
	size_t n, i;

	switch (t->dtype) {
	case EIA_DTYPE_F32:
		n = t->size / sizeof(float);
		for (i = 0; i < n; i++)
			((float *)t->data)[i] = (float)(next_random(seed) % 2001) / 1000.0f - 1.0f;
		break;
	case EIA_DTYPE_I64:
		n = t->size / sizeof(int64_t);
		for (i = 0; i < n; i++)
			((int64_t *)t->data)[i] = (int64_t)(next_random(seed) % 1000);
		break;
	case EIA_DTYPE_I32:
		n = t->size / sizeof(int32_t);
		for (i = 0; i < n; i++)
			((int32_t *)t->data)[i] = (int32_t)(next_random(seed) % 1000);
		break;
	default:
		/* F16 bit patterns and BOOL bytes: zero is a valid value of both. */
		memset(t->data, 0, t->size);
		break;
	}
}

/* Make up input @i: dims from the model, @shapes or the defaults. */
static int synthesize_input(struct tool_model *tm, int i, const struct tool_shape *shapes,
			    int nshapes, uint64_t *seed)
{
	struct eia_runner_error err = { 0 };
	struct eia_host_tensor info, *t = &tm->inputs[i];
	const struct tool_shape *shape;
	size_t numel = 1, esize;
	char desc[128];
	int d;

	eia_model_input(tm->model, i, &info);
	shape = find_shape(shapes, nshapes, info.name, tm->ninputs);
	if (shape && shape->ndim != info.ndim) {
		tool_err("--shape: input '%s' has %d dims, not %d", info.name, info.ndim,
			 shape->ndim);
		return -1;
	}
	*t = info;
	for (d = 0; d < t->ndim; d++) {
		if (shape)
			t->dims[d] = shape->dims[d];
		else if (t->dims[d] < 0)
			t->dims[d] = d == 0 ? 1 : 7;
		numel *= (size_t)t->dims[d];
	}
	if (eia_model_set_input_shape(tm->model, info.name, t->ndim, t->dims, &err)) {
		tool_err("input '%s' as %s: %s", info.name, tool_describe(t, desc, sizeof(desc)),
			 err.msg);
		t->name = NULL;
		return -1;
	}
	esize = t->dtype == EIA_DTYPE_F32 || t->dtype == EIA_DTYPE_I32 ? 4 :
		t->dtype == EIA_DTYPE_I64 ? 8 :
		t->dtype == EIA_DTYPE_F16 || t->dtype == EIA_DTYPE_BF16 ? 2 : 1;
	t->size = numel * esize;
	t->name = strdup(info.name);
	t->data = malloc(t->size + 1);
	if (!t->name || !t->data) {
		tool_err("input '%s': out of memory", info.name);
		return -1;
	}
	fill_synthetic(t, seed);
	return 0;
}

int tool_model_load(struct tool_model *tm, const char *path,
		    const char *const *files, int nfiles,
		    const struct tool_shape *shapes, int nshapes, bool synthesize)
{
	struct eia_runner_error err = { 0 };
	bool taken[TOOL_MAX_TENSORS] = { false };
	uint64_t seed = 42;
	char desc[128];
	int i;

	memset(tm, 0, sizeof(*tm));
	if (eia_model_open(path, &tm->model, &err)) {
		tool_err("%s", err.msg);
		return -1;
	}
	tm->ninputs = eia_model_num_inputs(tm->model);
	if (tm->ninputs > TOOL_MAX_TENSORS) {
		tool_err("%s: %d inputs; at most %d are supported", path, tm->ninputs,
			 TOOL_MAX_TENSORS);
		tm->ninputs = 0;
		return -1;
	}
	for (i = 0; i < nfiles; i++)
		if (load_input_file(tm, files[i], taken))
			return -1;
	for (i = 0; i < nshapes; i++)
		if (shapes[i].name && !has_input(tm, shapes[i].name)) {
			tool_err("--shape: %s has no input named '%s'", path, shapes[i].name);
			return -1;
		}
	for (i = 0; i < tm->ninputs; i++) {
		struct eia_host_tensor info;

		if (taken[i])
			continue;
		if (!synthesize) {
			eia_model_input(tm->model, i, &info);
			tool_err("%s: model input '%s' (%s) has no --input file", path, info.name,
				 tool_describe(&info, desc, sizeof(desc)));
			return -1;
		}
		if (synthesize_input(tm, i, shapes, nshapes, &seed))
			return -1;
	}
	if (eia_model_prepare(tm->model, &err)) {
		tool_err("%s: %s", path, err.msg);
		return -1;
	}
	return 0;
}

void tool_model_free(struct tool_model *tm)
{
	int i;

	for (i = 0; i < tm->ninputs; i++)
		eia_host_tensor_free(&tm->inputs[i]);
	eia_model_close(tm->model);
	memset(tm, 0, sizeof(*tm));
}

void tool_eia_err(const char *what, eiaError_t e)
{
	eiaFailure f;

	if (eiaGetLastFailure(&f) == e && f.message[0])
		tool_err("%s: %s", what, f.message);
	else
		tool_err("%s: %s", what, eiaGetErrorString(e));
}

int tool_device_open(const char *name, eiaDevice_t *dev)
{
	char what[300];
	eiaError_t e;

	e = eiaInit(0);
	if (e != EIA_SUCCESS) {
		tool_eia_err("libeia", e);
		return -1;
	}
	e = eiaDeviceOpen(dev, name);
	if (e != EIA_SUCCESS) {
		snprintf(what, sizeof(what), "device %.256s", name);
		tool_eia_err(what, e);
		return -1;
	}
	return 0;
}
