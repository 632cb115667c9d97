// SPDX-License-Identifier: MIT
/*
 * ONNX's own backend node tests (Debian's libonnx-testdata) through the
 * runner and a real gpud: each test directory holds a one-node model.onnx
 * and test_data_set_0/{input,output}_N.pb. A case the runner refuses as
 * unsupported (-EOPNOTSUPP: an operator, attribute or dtype it does not
 * map) is counted apart, as is one whose data set contradicts its model
 * (an input of another rank or dims than the model declares); every other
 * case must load, run and match.
 *
 *   onnx_node_tests [--data DIR] [--expect FILE] [--list] [-v] [NAME...]
 *
 * Prints TAP: one line per supported case, then how many pass. With
 * --expect, FILE lists (one per line) the cases that must pass: the run
 * fails when one of them does not, so a regression cannot pass unnoticed.
 * --list prints the names of the cases that passed (to refresh FILE).
 * -v also says why each unsupported or contradictory case is. NAMEs
 * restrict the run to those cases.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpud_util.h"
#include "rtest.h"

#define DEFAULT_DATA "/usr/share/libonnx-testdata/data/node"
#define MAX_IO 16

enum outcome { PASS, FAIL, UNSUPPORTED, CONTRADICTORY };

static size_t elem_size(int dtype)
{
	return dtype == EIA_DTYPE_I64 ? 8 :
	       dtype == EIA_DTYPE_F16 || dtype == EIA_DTYPE_BF16 ? 2 :
	       dtype == EIA_DTYPE_BOOL ? 1 : 4;
}

/* IEEE binary16, decoded here rather than by the code under test. */
static double half(uint16_t h)
{
	int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	double v;

	if (!exp)
		v = ldexp(mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexp(mant | 0x400, exp - 25);
	return h & 0x8000 ? -v : v;
}

/* bfloat16: the upper half of a binary32. */
static double bfloat(uint16_t b)
{
	uint32_t x = (uint32_t)b << 16;
	float f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

static double value(const struct eia_host_tensor *t, size_t i)
{
	switch (t->dtype) {
	case EIA_DTYPE_F32:
		return ((const float *)t->data)[i];
	case EIA_DTYPE_F16:
		return half(((const uint16_t *)t->data)[i]);
	case EIA_DTYPE_BF16:
		return bfloat(((const uint16_t *)t->data)[i]);
	case EIA_DTYPE_I64:
		return (double)((const int64_t *)t->data)[i];
	case EIA_DTYPE_I32:
		return ((const int32_t *)t->data)[i];
	case EIA_DTYPE_BOOL:
		return ((const uint8_t *)t->data)[i];
	}
	return NAN;
}

/* ONNX's backend tests compare with rtol 1e-3, atol 1e-7; fp32 kernels here
 * use 1e-4 absolute as well (as the runner's model tests do), and so do
 * F16 outputs, decoded to their values. BF16 outputs may be one unit in
 * their last place (2^-7 relative) off: ONNX 1.12's reference truncates
 * float to bfloat16 where eia rounds to nearest even. */
static bool same(const struct eia_host_tensor *got, const struct eia_host_tensor *want,
		 char *why, size_t len)
{
	double rtol;
	size_t n, i;
	int k;

	if (got->dtype != want->dtype || got->ndim != want->ndim || got->size != want->size) {
		snprintf(why, len, "got %s rank %d (%zu bytes), want %s rank %d (%zu bytes)",
			 eia_dtype_name(got->dtype), got->ndim, got->size,
			 eia_dtype_name(want->dtype), want->ndim, want->size);
		return false;
	}
	for (k = 0; k < got->ndim; k++)
		if (got->dims[k] != want->dims[k]) {
			snprintf(why, len, "dim %d is %lld, want %lld", k,
				 (long long)got->dims[k], (long long)want->dims[k]);
			return false;
		}
	n = want->size / (want->size ? elem_size(want->dtype) : 1);
	rtol = want->dtype == EIA_DTYPE_BF16 ? 0x1p-7 : 1e-3;
	for (i = 0; i < n; i++) {
		double g = value(got, i), w = value(want, i);

		if ((isnan(w) && isnan(g)) || (isinf(w) && g == w))
			continue;
		if (!(fabs(g - w) <= 1e-4 + rtol * fabs(w))) {
			snprintf(why, len, "element %zu is %.9g, want %.9g", i, g, w);
			return false;
		}
	}
	return true;
}

/*
 * ONNX 1.12 saves its bfloat16 test data as UINT16 tensors of the bit
 * patterns (numpy has no bfloat16; the models declare BFLOAT16): @path's
 * tensor read as BF16 when it is UINT16, -EOPNOTSUPP else.
 */
static int read_bf16_bits(const char *path, struct eia_host_tensor *t)
{
	Onnx__TensorProto *tp = NULL;
	FILE *f = fopen(path, "rb");
	size_t len, numel = 1, i;
	uint8_t *buf = NULL;
	long end;
	int ret = -EOPNOTSUPP;

	if (!f)
		return ret;
	if (!fseek(f, 0, SEEK_END) && (end = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)end + 1)) &&
	    (len = fread(buf, 1, (size_t)end, f)) == (size_t)end)
		tp = onnx__tensor_proto__unpack(NULL, len, buf);
	free(buf);
	fclose(f);
	if (!tp || tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__UINT16 ||
	    tp->n_dims > EIA_MAX_DIMS)
		goto out;
	for (i = 0; i < tp->n_dims; i++)
		numel *= (size_t)tp->dims[i];
	if (tp->raw_data.len != 2 * numel && tp->n_int32_data != numel)
		goto out;
	memset(t, 0, sizeof(*t));
	t->name = strdup(tp->name ? tp->name : "");
	t->data = malloc(2 * numel + 1);
	if (!t->name || !t->data)
		abort();
	t->dtype = EIA_DTYPE_BF16;
	t->ndim = (int)tp->n_dims;
	memcpy(t->dims, tp->dims, tp->n_dims * sizeof(t->dims[0]));
	t->size = 2 * numel;
	/* raw_data is little-endian; int32_data holds one pattern each. */
	for (i = 0; i < numel; i++)
		((uint16_t *)t->data)[i] = tp->raw_data.len ?
			(uint16_t)(tp->raw_data.data[2 * i] | tp->raw_data.data[2 * i + 1] << 8) :
			(uint16_t)tp->int32_data[i];
	ret = 0;
out:
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return ret;
}

static int read_set(const char *dir, const char *kind, struct eia_host_tensor *t,
		    int *n, struct eia_runner_error *err)
{
	char path[1100];
	int ret;

	for (*n = 0; *n < MAX_IO; (*n)++) {
		snprintf(path, sizeof(path), "%s/test_data_set_0/%s_%d.pb", dir, kind, *n);
		if (access(path, R_OK))
			return 0;
		ret = eia_tensor_read_pb(path, &t[*n], err);
		if (ret == -EOPNOTSUPP)
			ret = read_bf16_bits(path, &t[*n]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Which inputs a case binds to constants, tried in this order. */
enum binding { BIND_NONE, BIND_INTS, BIND_ALL_BUT_FIRST, BIND_ALL };

static bool bound(enum binding b, const struct eia_host_tensor *t, int i)
{
	switch (b) {
	case BIND_NONE:
		return false;
	case BIND_INTS:
		return t->dtype == EIA_DTYPE_I64 || t->dtype == EIA_DTYPE_I32;
	case BIND_ALL_BUT_FIRST:
		return i > 0;
	case BIND_ALL:
		break;
	}
	return true;
}

/* Whether the data set's @t has the shape the model declares (@info). */
static bool fits(const struct eia_host_tensor *info, const struct eia_host_tensor *t)
{
	int d;

	if (info->ndim < 0)		/* no shape declared */
		return true;
	if (info->ndim != t->ndim)
		return false;
	for (d = 0; d < t->ndim; d++)
		if (info->dims[d] >= 0 && info->dims[d] != t->dims[d])
			return false;
	return true;
}

/*
 * Open, bind the input shapes and prepare @dir's model. Node tests pass as
 * inputs what a model holds as constants (a Reshape's shape, Pad's pads,
 * BatchNormalization's statistics); when the runner asks for a constant,
 * the case is loaded again with more inputs bound to their values (@b).
 * The inputs to give at run time are copied (shallow) to @run; returns
 * their count, or the error.
 */
static int load_case(const char *dir, struct eia_host_tensor *in, int nin,
		     enum binding b, struct eia_host_tensor *run, struct eia_model **m,
		     struct eia_runner_error *err)
{
	char path[1100];
	int i, given = 0, ret;

	snprintf(path, sizeof(path), "%s/model.onnx", dir);
	ret = eia_model_open(path, m, err);
	if (ret)
		return ret;
	if (nin != eia_model_num_inputs(*m)) {
		snprintf(err->msg, sizeof(err->msg), "%d inputs in the data set", nin);
		ret = -EINVAL;
	}
	for (i = 0; !ret && i < nin; i++) {
		struct eia_host_tensor info;

		eia_model_input(*m, i, &info);
		if (!fits(&info, &in[i])) {
			snprintf(err->msg, sizeof(err->msg),
				 "input '%s' of the data set has another shape than the model's",
				 info.name);
			ret = -EBADMSG;
			break;
		}
		free(in[i].name);
		in[i].name = strdup(info.name);
		if (bound(b, &in[i], i)) {
			ret = eia_model_set_input_constant(*m, &in[i], err);
			continue;
		}
		ret = eia_model_set_input_shape(*m, info.name, in[i].ndim, in[i].dims, err);
		run[given++] = in[i];
	}
	if (!ret)
		ret = eia_model_prepare(*m, err);
	if (ret) {
		eia_model_close(*m);
		*m = NULL;
		return ret;
	}
	return given;
}

static enum outcome run_case(eiaDevice_t dev, const char *dir, char *why, size_t len)
{
	struct eia_host_tensor in[MAX_IO] = { 0 }, want[MAX_IO] = { 0 }, got[MAX_IO] = { 0 };
	struct eia_host_tensor run[MAX_IO];
	struct eia_runner_error err = { 0 };
	struct eia_session *s = NULL;
	struct eia_model *m = NULL;
	int nin = 0, nwant = 0, given = 0, i, ret;
	enum outcome o = FAIL;
	enum binding b;

	ret = read_set(dir, "input", in, &nin, &err);
	if (!ret)
		ret = read_set(dir, "output", want, &nwant, &err);
	for (b = BIND_NONE; !ret && b <= BIND_ALL; b++) {
		ret = load_case(dir, in, nin, b, run, &m, &err);
		if (ret != -EOPNOTSUPP || !strstr(err.msg, "constant"))
			break;
		if (b < BIND_ALL)
			ret = 0;
	}
	if (ret >= 0 && nwant != eia_model_num_outputs(m)) {
		snprintf(err.msg, sizeof(err.msg), "%d outputs in the data set", nwant);
		ret = -EINVAL;
	}
	if (ret >= 0) {
		given = ret;
		ret = eia_session_create(m, dev, &s, &err);
	}
	if (!ret)
		ret = eia_session_run(s, run, given, got, MAX_IO, &err);
	if (ret) {
		o = ret == -EOPNOTSUPP ? UNSUPPORTED : ret == -EBADMSG ? CONTRADICTORY : FAIL;
		snprintf(why, len, "%s", err.msg);
	} else {
		o = PASS;
		for (i = 0; i < nwant && o == PASS; i++)
			if (!same(&got[i], &want[i], why, len))
				o = FAIL;
	}
	for (i = 0; i < MAX_IO; i++) {
		eia_host_tensor_free(&in[i]);
		eia_host_tensor_free(&want[i]);
		eia_host_tensor_free(&got[i]);
	}
	eia_session_destroy(s);
	eia_model_close(m);
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case names under @data, sorted. */
static char **list_cases(const char *data, int *n)
{
	DIR *d = opendir(data);
	struct dirent *e;
	char **names = NULL;
	int cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "test_", 5))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, (size_t)cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)*n, sizeof(*names), by_name);
	return names;
}

static bool listed(char **list, int n, const char *name)
{
	return bsearch(&name, list, (size_t)n, sizeof(*list), by_name) != NULL;
}

/* The non-empty lines of @path, sorted; NULL when it cannot be read. */
static char **read_list(const char *path, int *n)
{
	FILE *f = fopen(path, "r");
	char line[512], **names = NULL;
	int cap = 0;

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line || *line == '#')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, (size_t)cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[(*n)++] = strdup(line);
	}
	fclose(f);
	qsort(names, (size_t)*n, sizeof(*names), by_name);
	return names;
}

int main(int argc, char **argv)
{
	static const char *const gpud_args[] = { "--threads", "2", NULL };
	const char *data = DEFAULT_DATA, *expect_path = NULL;
	char **cases, **only = argv + argc, **expect = NULL, url[64], why[512], dir[768];
	int ncases, nonly = 0, nexpect = 0, i, tap = 0, pass = 0, fail = 0, unsup = 0, bad = 0;
	int regressions = 0;
	bool list = false, verbose = false;
	struct gpud_proc gpud;
	eiaDevice_t dev;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			data = argv[++i];
		} else if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			expect_path = argv[++i];
		} else if (!strcmp(argv[i], "--list")) {
			list = true;
		} else if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [--data DIR] [--expect FILE] [--list] [-v] [NAME...]\n",
				argv[0]);
			return 2;
		} else {
			only = argv + i;
			nonly = argc - i;
			break;
		}
	}
	cases = list_cases(data, &ncases);
	if (!ncases) {
		fprintf(stderr, "no test cases under %s (install libonnx-testdata)\n", data);
		return 1;
	}
	if (expect_path && !(expect = read_list(expect_path, &nexpect))) {
		fprintf(stderr, "%s: cannot read\n", expect_path);
		return 1;
	}
	if (gpud_start(&gpud, NULL, gpud_args) ||
	    eiaInit(0) != EIA_SUCCESS) {
		fprintf(stderr, "gpud did not start: %s\n", gpud_path());
		return 1;
	}
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u?type=eia2.medium", gpud.port);
	if (eiaDeviceOpen(&dev, url) != EIA_SUCCESS) {
		fprintf(stderr, "cannot open %s\n", url);
		gpud_stop(&gpud);
		return 1;
	}
	printf("TAP version 13\n");
	for (i = 0; i < ncases; i++) {
		const char *name = cases[i];
		enum outcome o;
		int k;

		for (k = 0; k < nonly && strcmp(only[k], name); k++)
			;
		if (nonly && k == nonly)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", data, name);
		why[0] = '\0';
		o = run_case(dev, dir, why, sizeof(why));
		if (o == UNSUPPORTED || o == CONTRADICTORY) {
			if (o == UNSUPPORTED)
				unsup++;
			else
				bad++;
			if (verbose)
				printf("# %s: %s: %s\n",
				       o == UNSUPPORTED ? "unsupported" : "data contradict the model",
				       name, why);
			if (expect && listed(expect, nexpect, name)) {
				regressions++;
				printf("not ok %d %s # expected to pass: %s\n", ++tap, name, why);
			}
			continue;
		}
		if (o == PASS) {
			pass++;
			printf("ok %d %s\n", ++tap, name);
			if (list)
				fprintf(stderr, "%s\n", name);
		} else {
			fail++;
			if (expect && listed(expect, nexpect, name))
				regressions++;
			printf("not ok %d %s # %s\n", ++tap, name, why);
		}
	}
	printf("1..%d\n", tap);
	printf("# ONNX node tests: %d of %d supported cases pass (%d unsupported, %d whose data contradict their model, %d cases in all)\n",
	       pass, pass + fail, unsup, bad, pass + fail + unsup + bad);
	if (expect)
		printf("# %d of the %d expected passes regressed\n", regressions, nexpect);
	eiaDeviceClose(dev);
	gpud_stop(&gpud);
	if (!gpud_sanitizer_clean(&gpud)) {
		fprintf(stderr, "%s", gpud.log);
		regressions++;
	}
	gpud_free(&gpud);
	for (i = 0; i < ncases; i++)
		free(cases[i]);
	free(cases);
	for (i = 0; i < nexpect; i++)
		free(expect[i]);
	free(expect);
	return expect ? regressions != 0 : 0;
}
