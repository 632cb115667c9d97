// SPDX-License-Identifier: MIT
/*
 * Models run end to end: libeia-runner over libeia's tcp:// transport
 * against a real gpud (CPU backend) on 127.0.0.1. The exported models must
 * match torch's own outputs within 1e-4 absolute + 1e-3 relative; small
 * graphs built here check the runner's compositions (Pad, Expand, Cast,
 * BatchNormalization, ...) and what ONNX's node tests leave out (1-D and
 * 3-D Conv, run-time Cast, Clip-6, CumSum, Tile, ...) against references
 * computed in the test; and device failures come back naming the node.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "gpud_util.h"
#include "rtest.h"

#define ATOL 1e-4
#define RTOL 1e-3

FIXTURE(dev) {
	struct gpud_proc gpud;
	eiaDevice_t dev;
};

FIXTURE_SETUP(dev)
{
	static const char *const args[] = { "--threads", "2", NULL };
	char url[64];

	ASSERT_EQ(0, gpud_start(&self->gpud, NULL, args)) TH_LOG("gpud did not start: %s",
								  gpud_path());
	ASSERT_EQ(EIA_SUCCESS, eiaInit(0));
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u?type=eia2.medium", self->gpud.port);
	ASSERT_EQ(EIA_SUCCESS, eiaDeviceOpen(&self->dev, url));
}

FIXTURE_TEARDOWN(dev)
{
	eiaDeviceClose(self->dev);
	gpud_stop(&self->gpud);
	EXPECT_TRUE(gpud_sanitizer_clean(&self->gpud)) TH_LOG("%s", self->gpud.log);
	gpud_free(&self->gpud);
}

/* Elements of @got outside the tolerance around @want; logs the worst. */
static size_t mismatches(const struct eia_host_tensor *got,
			 const struct eia_host_tensor *want, const char *what)
{
	size_t n = want->size / sizeof(float), i, bad = 0, worst = 0;
	double worst_d = -1;

	if (got->dtype != EIA_DTYPE_F32 || want->dtype != EIA_DTYPE_F32 ||
	    got->size != want->size) {
		fprintf(stderr, "# %s: got %s of %zu bytes, want %s of %zu\n", what,
			eia_dtype_name(got->dtype), got->size, eia_dtype_name(want->dtype),
			want->size);
		return SIZE_MAX;
	}
	for (i = 0; i < n; i++) {
		double g = ((const float *)got->data)[i], w = ((const float *)want->data)[i];
		double d = fabs(g - w);

		if (!(d <= ATOL + RTOL * fabs(w)))
			bad++;
		if (!(d <= worst_d)) {
			worst_d = d;
			worst = i;
		}
	}
	fprintf(stderr, "# %s: %zu values, %zu outside tolerance, largest difference %.3g (at %zu: %.7g vs %.7g)\n",
		what, n, bad, worst_d, worst, ((const float *)got->data)[worst],
		((const float *)want->data)[worst]);
	return bad;
}

/* Run exported model @name on its reference input; compare with torch. */
static int run_exported(eiaDevice_t dev, const char *name, size_t *bad)
{
	struct eia_host_tensor in, want, got[1], info;
	struct eia_runner_error err;
	struct eia_session *s = NULL;
	struct eia_model *m;
	char path[512];
	int ret, r;

	*bad = SIZE_MAX;
	ret = eia_model_open(rt_model_path(path, sizeof(path), name, "model.onnx"), &m, &err);
	if (ret)
		goto fail;
	ret = eia_tensor_read_pb(rt_model_path(path, sizeof(path), name,
					       "test_data_set_0/input_0.pb"), &in, &err);
	if (!ret)
		ret = eia_tensor_read_pb(rt_model_path(path, sizeof(path), name,
						       "test_data_set_0/output_0.pb"), &want, &err);
	if (ret) {
		eia_model_close(m);
		goto fail;
	}
	eia_model_input(m, 0, &info);
	ret = eia_model_set_input_shape(m, info.name, in.ndim, in.dims, &err);
	if (!ret)
		ret = eia_model_prepare(m, &err);
	if (!ret)
		ret = eia_session_create(m, dev, &s, &err);
	/* Twice: the second run reuses the arena and must give the same. */
	for (r = 0; !ret && r < 2; r++) {
		ret = eia_session_run(s, &in, 1, got, 1, &err);
		if (!ret) {
			*bad = mismatches(got, &want, name);
			eia_host_tensor_free(got);
		}
	}
	eia_session_destroy(s);
	eia_model_close(m);
	eia_host_tensor_free(&in);
	eia_host_tensor_free(&want);
	if (!ret)
		return 0;
fail:
	fprintf(stderr, "# %s: %s\n", name, err.msg);
	return ret;
}

TEST_F(dev, cnn_mix_matches_torch)
{
	size_t bad;

	ASSERT_EQ(0, run_exported(self->dev, "cnn-mix", &bad));
	EXPECT_EQ(0, bad);
}

TEST_F(dev, resnet18_matches_torch)
{
	size_t bad;

	ASSERT_EQ(0, run_exported(self->dev, "resnet18", &bad));
	EXPECT_EQ(0, bad);
}

TEST_F(dev, gpt_small_matches_torch)
{
	size_t bad;

	ASSERT_EQ(0, run_exported(self->dev, "gpt-small", &bad));
	EXPECT_EQ(0, bad);
}

TEST_F(dev, gpt_small_op13_matches_torch)
{
	size_t bad;

	ASSERT_EQ(0, run_exported(self->dev, "gpt-small-op13", &bad));
	EXPECT_EQ(0, bad);
}

/* Prepare @g, run it on the F32 inputs @in, compare output 0 with @want. */
static int run_graph(eiaDevice_t dev, struct mg *g, const struct eia_host_tensor *in,
		     int nin, const float *want, size_t n, const char *what)
{
	struct eia_runner_error err;
	struct eia_host_tensor got, ref = { .dtype = EIA_DTYPE_F32 };
	struct eia_session *s = NULL;
	struct eia_model *m;
	int ret = rt_load(g, &m, &err);

	if (!ret) {
		ret = eia_session_create(m, dev, &s, &err);
		if (!ret)
			ret = eia_session_run(s, in, nin, &got, 1, &err);
		eia_session_destroy(s);
		eia_model_close(m);
	}
	mg_free(g);
	if (ret) {
		fprintf(stderr, "# %s: %s\n", what, err.msg);
		return ret;
	}
	ref.data = (void *)want;
	ref.size = n * sizeof(float);
	ret = mismatches(&got, &ref, what) ? -EDOM : 0;
	eia_host_tensor_free(&got);
	return ret;
}

static struct eia_host_tensor f32_input(const char *name, float *data, int ndim,
					const int64_t *dims)
{
	struct eia_host_tensor t = { .name = (char *)name, .dtype = EIA_DTYPE_F32,
				     .ndim = ndim, .data = data, .size = sizeof(float) };
	int i;

	for (i = 0; i < ndim; i++) {
		t.dims[i] = dims[i];
		t.size *= (size_t)dims[i];
	}
	return t;
}

/* X (2, 3) = 0..5 padded: H by (1, 1), W by (2, 1). */
TEST_F(dev, pad_modes)
{
	float x[6] = { 0, 1, 2, 3, 4, 5 };
	struct eia_host_tensor in = f32_input("X", x, 2, DIMS(2, 3));
	static const char *const modes[] = { "constant", "reflect", "edge" };
	static const float want[3][4 * 6] = {
		{ 7, 7, 7, 7, 7, 7,  7, 7, 0, 1, 2, 7,  7, 7, 3, 4, 5, 7,  7, 7, 7, 7, 7, 7 },
		{ 5, 4, 3, 4, 5, 4,  2, 1, 0, 1, 2, 1,  5, 4, 3, 4, 5, 4,  2, 1, 0, 1, 2, 1 },
		{ 0, 0, 0, 1, 2, 2,  0, 0, 0, 1, 2, 2,  3, 3, 3, 4, 5, 5,  3, 3, 3, 4, 5, 5 },
	};
	int i;

	for (i = 0; i < 3; i++) {
		struct mg *g = mg_new(13);
		float seven = 7;
		Onnx__NodeProto *nd;

		INPUT(g, "X", 2, 3);
		INIT_I64(g, "pads", 1, 2, 1, 1);
		mg_init_f32(g, "v", 0, NULL, &seven);
		nd = mg_node(g, "Pad", "pad", i ? "X,pads" : "X,pads,v", "Y");
		mg_attr_str(g, nd, "mode", modes[i]);
		mg_output(g, "Y");
		EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want[i], 24, modes[i]));
	}
}

TEST_F(dev, compositions)
{
	float x[6] = { -1.5f, 0.f, 2.f, -3.f, 4.5f, 1.f };
	struct eia_host_tensor in = f32_input("X", x, 2, DIMS(2, 3));
	float want[24];
	Onnx__NodeProto *nd;
	struct mg *g;
	int i, j, k;

	/* Expand (2, 3) to (2, 2, 3) */
	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	INIT_I64(g, "shape", 2, 1, 1);
	mg_node(g, "Expand", "ex", "X,shape", "Y");
	mg_output(g, "Y");
	for (i = 0; i < 12; i++)
		want[i] = x[i % 6];
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 12, "Expand"));

	/* Neg, and Pow with an integer exponent */
	g = mg_new(15);
	INPUT(g, "X", 2, 3);
	mg_node(g, "Neg", "neg", "X", "N");
	mg_init_i64(g, "two", 0, NULL, DIMS(2));
	mg_node(g, "Pow", "pow", "N,two", "P");
	mg_node(g, "Add", "add", "P,N", "Y");
	mg_output(g, "Y");
	for (i = 0; i < 6; i++)
		want[i] = x[i] * x[i] - x[i];
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "Neg, Pow"));

	/* Cast of a run-time BOOL to F32: Where(C, 1, 0) */
	{
		uint8_t c[6] = { 1, 0, 0, 1, 1, 0 };
		struct eia_host_tensor ins[2] = {
			in, { .name = "C", .dtype = EIA_DTYPE_BOOL, .ndim = 2,
			      .dims = { 2, 3 }, .data = c, .size = 6 },
		};

		g = mg_new(13);
		INPUT(g, "X", 2, 3);
		mg_input(g, "C", T_BOOL, 2, DIMS(2, 3));
		nd = mg_node(g, "Cast", "cast", "C", "CF");
		mg_attr_int(g, nd, "to", T_FLOAT);
		mg_node(g, "Add", "add", "X,CF", "Y");
		mg_output(g, "Y");
		for (i = 0; i < 6; i++)
			want[i] = x[i] + c[i];
		EXPECT_EQ(0, run_graph(self->dev, g, ins, 2, want, 6, "Cast BOOL"));
	}

	/* Softmax-11 over dims 1.. of (2, 3): flattened, then viewed back */
	g = mg_new(11);
	INPUT(g, "X", 2, 3);
	nd = mg_node(g, "Softmax", "sm", "X", "Y");
	mg_attr_int(g, nd, "axis", 0);
	mg_output(g, "Y");
	{
		double sum = 0;

		for (i = 0; i < 6; i++)
			sum += exp(x[i]);
		for (i = 0; i < 6; i++)
			want[i] = (float)(exp(x[i]) / sum);
	}
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "Softmax-11 axis 0"));

	/* BatchNormalization that follows no Conv: Mul + Add per channel */
	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	mg_init_f32(g, "s", 1, DIMS(3), (float[]){ 1, 2, 3 });
	mg_init_f32(g, "b", 1, DIMS(3), (float[]){ 0.5f, 0, -1 });
	mg_init_f32(g, "mu", 1, DIMS(3), (float[]){ 0, 1, 2 });
	mg_init_f32(g, "var", 1, DIMS(3), (float[]){ 1, 4, 0.25f });
	nd = mg_node(g, "BatchNormalization", "bn", "X,s,b,mu,var", "Y");
	mg_attr_float(g, nd, "epsilon", 0);
	mg_output(g, "Y");
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++) {
			static const float s[3] = { 1, 2, 3 }, b[3] = { 0.5f, 0, -1 },
					   mu[3] = { 0, 1, 2 }, var[3] = { 1, 4, 0.25f };

			want[i * 3 + j] = (x[i * 3 + j] - mu[j]) / sqrtf(var[j]) * s[j] + b[j];
		}
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "BatchNormalization"));

	/* Gemm with transposes, alpha, beta and a broadcast C */
	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	mg_init_f32(g, "B", 2, DIMS(4, 2), (float[]){ 1, 2, 3, 4, 5, 6, 7, 8 });
	mg_init_f32(g, "C", 1, DIMS(1), (float[]){ 10 });
	nd = mg_node(g, "Gemm", "gemm", "X,B,C", "Y");
	mg_attr_int(g, nd, "transA", 1);
	mg_attr_int(g, nd, "transB", 1);
	mg_attr_float(g, nd, "alpha", 0.5f);
	mg_attr_float(g, nd, "beta", 2);
	mg_output(g, "Y");
	for (i = 0; i < 3; i++)
		for (j = 0; j < 4; j++) {
			float acc = 0;

			for (k = 0; k < 2; k++)
				acc += x[k * 3 + i] * (float)(j * 2 + k + 1);
			want[i * 4 + j] = 0.5f * acc + 20;
		}
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 12, "Gemm"));
}

/* Conv over 1 or 3 spatial dims (@n), Y against a direct loop over the taps. */
static void conv_ref(int n, const int64_t *in, const int64_t *k, const int64_t *st,
		     const int64_t *pads, const int64_t *out, int64_t c, int64_t m,
		     const float *x, const float *w, const float *b, float *y)
{
	int64_t ocount = 1, kcount = 1, icount = 1, o, t, i, a;

	for (a = 0; a < n; a++) {
		ocount *= out[a];
		kcount *= k[a];
		icount *= in[a];
	}
	for (o = 0; o < m * ocount; o++) {
		double s = b[o / ocount];

		for (i = 0; i < c; i++)
			for (t = 0; t < kcount; t++) {
				int64_t xo = 0, wo = t, rest_o = o % ocount, rest_t = t, ok = 1;
				int64_t idx[3], tap[3];

				for (a = n - 1; a >= 0; a--) {
					idx[a] = rest_o % out[a];
					rest_o /= out[a];
					tap[a] = rest_t % k[a];
					rest_t /= k[a];
				}
				for (a = 0; a < n; a++) {
					int64_t pos = idx[a] * st[a] - pads[a] + tap[a];

					ok = ok && pos >= 0 && pos < in[a];
					xo = xo * in[a] + pos;
				}
				if (ok)
					s += (double)x[i * icount + xo] * w[(o / ocount * c + i) * kcount + wo];
			}
		y[o] = (float)s;
	}
}

TEST_F(dev, conv_1d_and_3d)
{
	float x[2 * 4 * 5 * 6], w[3 * 2 * 2 * 3 * 3], b[3] = { 0.5f, -1, 2 }, want[3 * 100];
	int64_t i;
	Onnx__NodeProto *nd;
	struct mg *g;

	for (i = 0; i < (int64_t)(sizeof(x) / sizeof(x[0])); i++)
		x[i] = (float)((i * 37) % 23 - 11) / 8;
	for (i = 0; i < (int64_t)(sizeof(w) / sizeof(w[0])); i++)
		w[i] = (float)((i * 17) % 13 - 6) / 8;
	/* 1-D: X (1, 2, 11), W (3, 2, 3), stride 2, pads (2, 1): Y (1, 3, 6) */
	{
		struct eia_host_tensor in = f32_input("X", x, 3, DIMS(1, 2, 11));

		conv_ref(1, DIMS(11), DIMS(3), DIMS(2), DIMS(2, 1), DIMS(6), 2, 3, x, w, b, want);
		g = mg_new(13);
		INPUT(g, "X", 1, 2, 11);
		mg_init_f32(g, "W", 3, DIMS(3, 2, 3), w);
		mg_init_f32(g, "B", 1, DIMS(3), b);
		nd = mg_node(g, "Conv", "conv1d", "X,W,B", "Y");
		mg_attr_ints(g, nd, "strides", 1, DIMS(2));
		mg_attr_ints(g, nd, "pads", 2, DIMS(2, 1));
		mg_output(g, "Y");
		EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 18, "Conv 1-D"));
	}
	/* 3-D: X (1, 2, 4, 5, 6), W (3, 2, 2, 3, 3), pads (0, 1, 1, 1, 1, 0) */
	{
		struct eia_host_tensor in = f32_input("X", x, 5, DIMS(1, 2, 4, 5, 6));

		conv_ref(3, DIMS(4, 5, 6), DIMS(2, 3, 3), DIMS(1, 1, 1), DIMS(0, 1, 1),
			 DIMS(4, 5, 5), 2, 3, x, w, b, want);
		g = mg_new(13);
		INPUT(g, "X", 1, 2, 4, 5, 6);
		mg_init_f32(g, "W", 5, DIMS(3, 2, 2, 3, 3), w);
		mg_init_f32(g, "B", 1, DIMS(3), b);
		nd = mg_node(g, "Conv", "conv3d", "X,W,B", "Y");
		mg_attr_ints(g, nd, "pads", 6, DIMS(0, 1, 1, 1, 1, 0));
		mg_output(g, "Y");
		EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 300, "Conv 3-D"));
	}
}

/* Run-time Cast and Clip, with Clip's bounds as attributes and as inputs. */
TEST_F(dev, cast_and_clip)
{
	float x[6] = { -7.5f, -0.5f, 0.25f, 2.75f, 6.5f, 100.f };
	struct eia_host_tensor in = f32_input("X", x, 2, DIMS(2, 3));
	float want[6];
	Onnx__NodeProto *nd;
	struct mg *g;
	int i;

	/* F32 -> I32 -> F16 -> F32: truncation toward zero, exact after */
	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	mg_attr_int(g, mg_node(g, "Cast", "to_i32", "X", "I"), "to", T_INT32);
	mg_attr_int(g, mg_node(g, "Cast", "to_f16", "I", "H"), "to", T_FLOAT16);
	mg_attr_int(g, mg_node(g, "Cast", "to_f32", "H", "Y"), "to", T_FLOAT);
	mg_output(g, "Y");
	for (i = 0; i < 6; i++)
		want[i] = truncf(x[i]);
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "Cast chain"));

	/* Clip-6 with attributes: ReLU6 */
	g = mg_new(6);
	INPUT(g, "X", 2, 3);
	nd = mg_node(g, "Clip", "relu6", "X", "Y");
	mg_attr_float(g, nd, "min", 0);
	mg_attr_float(g, nd, "max", 6);
	mg_output(g, "Y");
	for (i = 0; i < 6; i++)
		want[i] = fminf(fmaxf(x[i], 0), 6);
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "Clip-6"));

	/* Clip-13 with only a constant max: no lower bound */
	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	mg_init_f32(g, "hi", 0, NULL, (float[]){ 1 });
	mg_node(g, "Clip", "clip", "X,,hi", "Y");
	mg_output(g, "Y");
	for (i = 0; i < 6; i++)
		want[i] = fminf(x[i], 1);
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "Clip-13 max only"));
}

/*
 * CumSum (its axis a constant), Tile (its repeats too) and integer
 * arithmetic at run time.
 */
TEST_F(dev, cumsum_tile_integers)
{
	float x[6] = { -1.5f, 0.f, 2.f, -3.f, 4.5f, 1.f };
	struct eia_host_tensor in = f32_input("X", x, 2, DIMS(2, 3));
	float want[24];
	Onnx__NodeProto *nd;
	struct mg *g;
	int i, j;

	/* Exclusive reverse sums along the rows: y[i][j] = sum of x[i][j+1..] */
	g = mg_new(14);
	INPUT(g, "X", 2, 3);
	mg_init_i64(g, "axis", 0, NULL, DIMS(-1));
	nd = mg_node(g, "CumSum", "cs", "X,axis", "Y");
	mg_attr_int(g, nd, "exclusive", 1);
	mg_attr_int(g, nd, "reverse", 1);
	mg_output(g, "Y");
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++) {
			int k;

			want[i * 3 + j] = 0;
			for (k = j + 1; k < 3; k++)
				want[i * 3 + j] += x[i * 3 + k];
		}
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "CumSum"));

	/* Tile (2, 3) by (2, 2) */
	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	INIT_I64(g, "repeats", 2, 2);
	mg_node(g, "Tile", "tile", "X,repeats", "Y");
	mg_output(g, "Y");
	for (i = 0; i < 4; i++)
		for (j = 0; j < 6; j++)
			want[i * 6 + j] = x[i % 2 * 3 + j % 3];
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 24, "Tile"));

	/* Position ids from an I64 mask, as transformers export them:
	 * (CumSum(mask) - 1) * mask + (1 - mask) * Max(..., 1) via Where */
	{
		int64_t mask[6] = { 1, 1, 0, 0, 1, 1 };
		struct eia_host_tensor mi = { .name = "M", .dtype = EIA_DTYPE_I64, .ndim = 2,
					      .dims = { 2, 3 }, .data = mask,
					      .size = sizeof(mask) };

		g = mg_new(14);
		mg_input(g, "M", T_INT64, 2, DIMS(2, 3));
		mg_init_i64(g, "axis", 0, NULL, DIMS(1));
		mg_init_i64(g, "one", 0, NULL, DIMS(1));
		mg_node(g, "CumSum", "cs", "M,axis", "C");
		mg_node(g, "Sub", "sub", "C,one", "P");
		mg_node(g, "Mul", "mul", "P,M", "Q");
		mg_node(g, "Equal", "eq", "M,one", "K");
		mg_node(g, "Where", "w", "K,Q,one", "R");
		mg_node(g, "Div", "div", "R,M", "S");
		mg_attr_int(g, mg_node(g, "Cast", "f", "S", "Y"), "to", T_FLOAT);
		mg_output(g, "Y");
		for (i = 0; i < 2; i++) {
			int64_t c = 0;

			for (j = 0; j < 3; j++) {
				int64_t m = mask[i * 3 + j], r;

				c += m;
				r = m == 1 ? (c - 1) * m : 1;
				want[i * 3 + j] = (float)(m ? r / m : 0);
			}
		}
		EXPECT_EQ(0, run_graph(self->dev, g, &mi, 1, want, 6, "I64 arithmetic"));
	}
}

/* Variadic Max and Mean whose broadcast shape grows along the chain. */
TEST_F(dev, variadic)
{
	float x[6] = { -1.5f, 0.f, 2.f, -3.f, 4.5f, 1.f }, c[3] = { 1, -2, 3 }, k = 0.5f;
	struct eia_host_tensor in = f32_input("X", x, 2, DIMS(2, 3));
	float want[6];
	struct mg *g;
	int i;

	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	mg_init_f32(g, "c", 1, DIMS(3), c);
	mg_init_f32(g, "k", 0, NULL, &k);
	mg_node(g, "Max", "max", "c,X,k", "Y");
	mg_output(g, "Y");
	for (i = 0; i < 6; i++)
		want[i] = fmaxf(fmaxf(c[i % 3], x[i]), k);
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "Max of 3"));

	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	mg_init_f32(g, "c", 1, DIMS(3), c);
	mg_init_f32(g, "k", 0, NULL, &k);
	mg_node(g, "Mean", "mean", "k,c,X", "Y");
	mg_output(g, "Y");
	for (i = 0; i < 6; i++)
		want[i] = (k + c[i % 3] + x[i]) / 3;
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 6, "Mean of 3"));
}

/* A graph output that is a folded constant comes back from the host. */
TEST_F(dev, constant_output)
{
	float x[2] = { 1, 2 };
	struct eia_host_tensor in = f32_input("X", x, 1, DIMS(2));
	static const float want[3] = { 0, 2, 4 };
	struct mg *g = mg_new(13);

	INPUT(g, "X", 2);
	mg_init_f32(g, "start", 0, NULL, (float[]){ 0 });
	mg_init_f32(g, "limit", 0, NULL, (float[]){ 5 });
	mg_init_f32(g, "delta", 0, NULL, (float[]){ 2 });
	mg_node(g, "Range", "range", "start,limit,delta", "Y");
	mg_node(g, "Relu", "relu", "X", "Z");
	mg_output(g, "Y");
	EXPECT_EQ(0, run_graph(self->dev, g, &in, 1, want, 3, "constant output"));
}

TEST_F(dev, bad_inputs_and_device_failures)
{
	struct eia_host_tensor in, out[1], info;
	struct eia_runner_error err;
	struct eia_session *s;
	struct eia_model *m;
	char path[512];

	ASSERT_EQ(0, eia_model_open(rt_model_path(path, sizeof(path), "gpt-small", "model.onnx"),
				    &m, &err));
	ASSERT_EQ(0, eia_model_prepare(m, &err));
	ASSERT_EQ(0, eia_session_create(m, self->dev, &s, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, eia_tensor_read_pb(rt_model_path(path, sizeof(path), "gpt-small",
						      "test_data_set_0/input_0.pb"), &in, &err));
	eia_model_input(m, 0, &info);
	free(in.name);
	in.name = strdup("tokens");
	EXPECT_EQ(-EINVAL, eia_session_run(s, &in, 1, out, 1, &err));
	EXPECT_NE(NULL, strstr(err.msg, "no input 'tokens'"));
	EXPECT_EQ(-EINVAL, eia_session_run(s, NULL, 0, out, 1, &err));
	EXPECT_NE(NULL, strstr(err.msg, "input 'input' is missing"));
	free(in.name);
	in.name = strdup(info.name);
	in.dims[1] = 6;
	in.size -= sizeof(int64_t);
	EXPECT_EQ(-EINVAL, eia_session_run(s, &in, 1, out, 1, &err));
	EXPECT_NE(NULL, strstr(err.msg, "the model was prepared for I64 [1, 7]"));
	in.dims[1] = 7;
	in.size += sizeof(int64_t);
	/* A token past the vocabulary: gpud's Gather refuses it. */
	((int64_t *)in.data)[3] = 50000;
	EXPECT_EQ(-EREMOTEIO, eia_session_run(s, &in, 1, out, 1, &err));
	TH_LOG("%s", err.msg);
	EXPECT_NE(NULL, strstr(err.msg, "node '/tokens/Gather' (Gather) failed on the device"));
	/* The session still works afterwards. */
	((int64_t *)in.data)[3] = 5;
	EXPECT_EQ(0, eia_session_run(s, &in, 1, out, 1, &err)) TH_LOG("%s", err.msg);
	eia_host_tensor_free(out);
	eia_host_tensor_free(&in);
	eia_session_destroy(s);
	eia_model_close(m);
}

TEST_HARNESS_MAIN
