// SPDX-License-Identifier: MIT
/*
 * eia_model_prepare(): shape inference, constant folding, merging, lowering
 * and the memory plan, on the models scripts/make-models exports and on
 * small graphs built here. Nothing runs on a device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "rtest.h"

/* Open an exported model, bind its input to @ndim/@dims if given, prepare. */
static int load_exported(const char *name, int ndim, const int64_t *dims,
			 struct eia_model **m, struct eia_plan_stats *st)
{
	struct eia_runner_error err;
	struct eia_host_tensor info;
	char path[512];
	int ret;

	ret = eia_model_open(rt_model_path(path, sizeof(path), name, "model.onnx"), m, &err);
	if (ret) {
		fprintf(stderr, "# %s (run scripts/make-models)\n", err.msg);
		return ret;
	}
	eia_model_input(*m, 0, &info);
	ret = ndim >= 0 ? eia_model_set_input_shape(*m, info.name, ndim, dims, &err) : 0;
	if (!ret)
		ret = eia_model_prepare(*m, &err);
	if (!ret)
		ret = eia_model_stats(*m, st);
	if (ret) {
		fprintf(stderr, "# %s: %s\n", name, err.msg);
		eia_model_close(*m);
		*m = NULL;
	}
	return ret;
}

static void log_stats(const char *name, const struct eia_plan_stats *st)
{
	fprintf(stderr,
		"# %s: opset %lld, %d nodes: %d folded, %d views, %d merged, %d dead; %d steps; %d constants (%llu bytes); arena %llu bytes, %llu without reuse\n",
		name, (long long)st->opset, st->nodes, st->folded, st->views, st->merged,
		st->dead, st->steps, st->constants, (unsigned long long)st->weights_bytes,
		(unsigned long long)st->arena_bytes, (unsigned long long)st->naive_bytes);
}

TEST(resnet18)
{
	struct eia_plan_stats st;
	struct eia_model *m;
	int i, op;
	const char *node;

	ASSERT_EQ(0, load_exported("resnet18", -1, NULL, &m, &st));
	log_stats("resnet18", &st);
	EXPECT_TRUE(rt_out_shape(m, 0, 2, DIMS(1, 1000)));
	/* torch folds BatchNormalization into the convolutions itself. */
	EXPECT_EQ(49, st.nodes);
	EXPECT_EQ(1, st.views);
	EXPECT_EQ(48, st.steps);
	EXPECT_EQ(0, eia_model_step(m, 0, &op, &node));
	EXPECT_EQ(EIA_OP_CONV2D, op);
	for (i = 0; i < st.steps; i++)
		ASSERT_EQ(0, eia_model_step(m, i, &op, &node));
	EXPECT_EQ(EIA_OP_GEMM, op);
	EXPECT_EQ(-ENOENT, eia_model_step(m, st.steps, &op, &node));
	EXPECT_TRUE(rt_plan_sound(m));
	EXPECT_LT(st.arena_bytes * 3, st.naive_bytes);
	eia_model_close(m);
}

TEST(cnn_mix)
{
	struct eia_plan_stats st;
	struct eia_model *m;

	ASSERT_EQ(0, load_exported("cnn-mix", -1, NULL, &m, &st));
	log_stats("cnn-mix", &st);
	EXPECT_TRUE(rt_out_shape(m, 0, 2, DIMS(1, 10)));
	/* The zero Pad merged into the 1x1 Conv after it; the pads' own shape
	 * arithmetic folded; the BatchNormalization after a Relu stays. */
	EXPECT_EQ(1, st.merged);
	EXPECT_GE(st.folded, 25);
	EXPECT_TRUE(rt_plan_sound(m));
	EXPECT_LT(st.arena_bytes, st.naive_bytes);
	eia_model_close(m);
}

TEST(gpt_small)
{
	struct eia_plan_stats st;
	struct eia_model *m;

	ASSERT_EQ(0, load_exported("gpt-small", -1, NULL, &m, &st));
	log_stats("gpt-small", &st);
	EXPECT_EQ(17, st.opset);
	EXPECT_TRUE(rt_out_shape(m, 0, 3, DIMS(1, 7, 40478)));
	/* Per layer: MatMul+Add (qkv), Split, 3 Transposes, MatMul, Div, Where,
	 * Softmax, MatMul, Transpose, MatMul+Add, Add, LayerNorm, MLP (2
	 * MatMul+Add, 8 GELU ops), Add, LayerNorm = 30. Then the token Gather
	 * and the Add of the position embeddings (their Gather of constant
	 * positions folds), and the head's MatMul. */
	EXPECT_EQ(4 * 30 + 2 + 1, st.steps);
	EXPECT_TRUE(rt_plan_sound(m));
	EXPECT_LT(st.arena_bytes * 4, st.naive_bytes);
	eia_model_close(m);
}

/* Exported with symbolic batch and sequence: the shape chains fold. */
TEST(gpt_small_op13_dynamic)
{
	struct eia_plan_stats st, st2;
	struct eia_model *m;

	ASSERT_EQ(0, load_exported("gpt-small-op13", 2, DIMS(1, 7), &m, &st));
	log_stats("gpt-small-op13 [1, 7]", &st);
	EXPECT_TRUE(rt_out_shape(m, 0, 3, DIMS(1, 7, 40478)));
	EXPECT_GE(st.folded, 250);
	EXPECT_TRUE(rt_plan_sound(m));
	eia_model_close(m);

	ASSERT_EQ(0, load_exported("gpt-small-op13", 2, DIMS(2, 3), &m, &st2));
	EXPECT_TRUE(rt_out_shape(m, 0, 3, DIMS(2, 3, 40478)));
	EXPECT_EQ(st.steps, st2.steps);
	EXPECT_LT(st2.arena_bytes, st.arena_bytes);
	EXPECT_TRUE(rt_plan_sound(m));
	eia_model_close(m);

	/* Longer than the model's 512 positions: the position Gather refuses. */
	EXPECT_NE(0, load_exported("gpt-small-op13", 2, DIMS(1, 600), &m, &st));
}

/* One node on input X; returns the prepared model or NULL. */
static struct eia_model *one_node(struct mg *g)
{
	struct eia_runner_error err;
	struct eia_model *m;

	if (rt_load(g, &m, &err)) {
		fprintf(stderr, "# %s\n", err.msg);
		return NULL;
	}
	return m;
}

#define SHAPE_IS(g, ...) ({ \
	struct eia_model *_m = one_node(g); \
	bool _ok = _m && rt_out_shape(_m, 0, NDIMS(__VA_ARGS__), DIMS(__VA_ARGS__)) && \
		   rt_plan_sound(_m); \
	eia_model_close(_m); \
	mg_free(g); \
	_ok; })

static struct mg *conv(const int64_t *w, const char *attr, int n, const int64_t *v,
		       int64_t group)
{
	struct mg *g = mg_new(13);
	Onnx__NodeProto *nd;

	INPUT(g, "X", 1, 8, 10, 9);
	mg_init_f32(g, "W", 4, w, NULL);
	nd = mg_node(g, "Conv", "c", "X,W", "Y");
	if (attr)
		mg_attr_ints(g, nd, attr, n, v);
	if (group > 1)
		mg_attr_int(g, nd, "group", group);
	mg_output(g, "Y");
	return g;
}

TEST(conv_shapes)
{
	struct mg *g;
	Onnx__NodeProto *nd;

	EXPECT_TRUE(SHAPE_IS(conv(DIMS(4, 8, 3, 3), NULL, 0, NULL, 1), 1, 4, 8, 7));
	EXPECT_TRUE(SHAPE_IS(conv(DIMS(4, 8, 3, 3), "pads", 4, DIMS(1, 1, 1, 1), 1), 1, 4, 10, 9));
	EXPECT_TRUE(SHAPE_IS(conv(DIMS(4, 8, 3, 3), "strides", 2, DIMS(2, 3), 1), 1, 4, 4, 3));
	EXPECT_TRUE(SHAPE_IS(conv(DIMS(4, 8, 3, 3), "dilations", 2, DIMS(2, 3), 1), 1, 4, 6, 3));
	EXPECT_TRUE(SHAPE_IS(conv(DIMS(8, 1, 3, 3), NULL, 0, NULL, 8), 1, 8, 8, 7));
	EXPECT_TRUE(SHAPE_IS(conv(DIMS(6, 4, 1, 1), NULL, 0, NULL, 2), 1, 6, 10, 9));
	g = mg_new(13);
	INPUT(g, "X", 1, 8, 10, 9);
	mg_init_f32(g, "W", 4, DIMS(4, 8, 3, 3), NULL);
	nd = mg_node(g, "Conv", "c", "X,W", "Y");
	mg_attr_str(g, nd, "auto_pad", "SAME_UPPER");
	mg_attr_ints(g, nd, "strides", 2, DIMS(2, 2));
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 1, 4, 5, 5));
	/* group must divide the channels */
	EXPECT_TRUE(rt_fails(conv(DIMS(4, 3, 3, 3), NULL, 0, NULL, 3), -EINVAL, "group 3"));

	/* 1-D: one CONV2D over views with a unit height */
	g = mg_new(13);
	INPUT(g, "X", 2, 8, 50);
	mg_init_f32(g, "W", 3, DIMS(4, 4, 5), NULL);
	nd = mg_node(g, "Conv", "c", "X,W", "Y");
	mg_attr_ints(g, nd, "strides", 1, DIMS(3));
	mg_attr_ints(g, nd, "dilations", 1, DIMS(2));
	mg_attr_ints(g, nd, "pads", 2, DIMS(4, 0));
	mg_attr_int(g, nd, "group", 2);
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 4, 16));
	/* 3-D, SAME_LOWER */
	g = mg_new(13);
	INPUT(g, "X", 1, 3, 9, 8, 7);
	mg_init_f32(g, "W", 5, DIMS(6, 3, 3, 2, 3), NULL);
	nd = mg_node(g, "Conv", "c", "X,W", "Y");
	mg_attr_str(g, nd, "auto_pad", "SAME_LOWER");
	mg_attr_ints(g, nd, "strides", 3, DIMS(2, 1, 3));
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 1, 6, 5, 8, 3));
	/* Attributes of the wrong length for the rank */
	g = mg_new(13);
	INPUT(g, "X", 1, 3, 9, 8, 7);
	mg_init_f32(g, "W", 5, DIMS(6, 3, 3, 2, 3), NULL);
	nd = mg_node(g, "Conv", "c", "X,W", "Y");
	mg_attr_ints(g, nd, "strides", 2, DIMS(2, 1));
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "strides has 2 values for 3 spatial dims"));
}

static struct mg *pool(const char *op, const int64_t *k, const int64_t *s, const int64_t *p,
		       int64_t ceil_mode)
{
	struct mg *g = mg_new(13);
	Onnx__NodeProto *nd;

	INPUT(g, "X", 1, 3, 112, 111);
	nd = mg_node(g, op, "p", "X", "Y");
	mg_attr_ints(g, nd, "kernel_shape", 2, k);
	mg_attr_ints(g, nd, "strides", 2, s);
	mg_attr_ints(g, nd, "pads", 4, p);
	mg_attr_int(g, nd, "ceil_mode", ceil_mode);
	mg_output(g, "Y");
	return g;
}

TEST(pool_shapes)
{
	struct mg *g;
	Onnx__NodeProto *nd;

	EXPECT_TRUE(SHAPE_IS(pool("MaxPool", DIMS(3, 3), DIMS(2, 2), DIMS(1, 1, 1, 1), 0),
			     1, 3, 56, 56));
	EXPECT_TRUE(SHAPE_IS(pool("MaxPool", DIMS(3, 3), DIMS(2, 2), DIMS(0, 0, 0, 0), 1),
			     1, 3, 56, 55));
	EXPECT_TRUE(SHAPE_IS(pool("AveragePool", DIMS(2, 2), DIMS(2, 2), DIMS(0, 0, 0, 0), 1),
			     1, 3, 56, 56));
	g = mg_new(13);
	INPUT(g, "X", 2, 5, 7, 3);
	mg_node(g, "GlobalAveragePool", "gap", "X", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 5, 1, 1));
	/* 1-D, ceil_mode */
	g = mg_new(13);
	INPUT(g, "X", 2, 5, 10);
	nd = mg_node(g, "MaxPool", "p", "X", "Y");
	mg_attr_ints(g, nd, "kernel_shape", 1, DIMS(3));
	mg_attr_ints(g, nd, "strides", 1, DIMS(2));
	mg_attr_int(g, nd, "ceil_mode", 1);
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 5, 5));
}

TEST(data_movement_shapes)
{
	struct mg *g;
	Onnx__NodeProto *nd;

	g = mg_new(13);
	INPUT(g, "X", 10, 20, 30);
	INIT_I64(g, "s", -1, 0);
	INIT_I64(g, "e", INT64_MIN, 10);
	INIT_I64(g, "a", 0, 2);
	INIT_I64(g, "st", -3, 4);
	mg_node(g, "Slice", "sl", "X,s,e,a,st", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 4, 20, 3));

	g = mg_new(13);
	INPUT(g, "X", 2, 12);
	INIT_I64(g, "split", 3, 4, 5);
	nd = mg_node(g, "Split", "sp", "X,split", "A,B,C");
	mg_attr_int(g, nd, "axis", 1);
	nd = mg_node(g, "Concat", "cat", "C,A", "Y");
	mg_attr_int(g, nd, "axis", -1);
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 8));

	g = mg_new(13);
	INPUT(g, "X", 2, 3, 4, 5);
	nd = mg_node(g, "Transpose", "t", "X", "T");
	mg_attr_ints(g, nd, "perm", 4, DIMS(0, 2, 3, 1));
	nd = mg_node(g, "Flatten", "f", "T", "Y");
	mg_attr_int(g, nd, "axis", 2);
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 8, 15));

	g = mg_new(13);
	mg_init_f32(g, "E", 2, DIMS(100, 16), NULL);
	mg_input(g, "I", T_INT64, 3, DIMS(2, 3, 4));
	mg_node(g, "Gather", "g", "E,I", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 3, 4, 16));

	g = mg_new(13);
	INPUT(g, "X", 3, 1, 4);
	INIT_I64(g, "ax", 1);
	mg_node(g, "Squeeze", "sq", "X,ax", "S");
	INIT_I64(g, "ax2", 0, -1);
	mg_node(g, "Unsqueeze", "us", "S,ax2", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 1, 3, 4, 1));

	g = mg_new(11);
	INPUT(g, "X", 3, 1, 4);
	nd = mg_node(g, "Unsqueeze", "us", "X", "Y");
	mg_attr_ints(g, nd, "axes", 1, DIMS(1));
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 3, 1, 1, 4));

	g = mg_new(13);
	INPUT(g, "X", 3, 1);
	INIT_I64(g, "shape", 2, 1, 5);
	mg_node(g, "Expand", "ex", "X,shape", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 3, 5));

	g = mg_new(13);
	INPUT(g, "X", 1, 3, 4, 5);
	INIT_I64(g, "pads", 0, 0, 1, 2, 0, 0, 3, -1);
	nd = mg_node(g, "Pad", "pad", "X,pads", "Y");
	mg_attr_str(g, nd, "mode", "reflect");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "reflect pads must be positive"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 1, 3, 4, 5);
	INIT_I64(g, "pads", 0, 0, 1, 2, 0, 0, 3, -1);
	mg_node(g, "Pad", "pad", "X,pads", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 1, 3, 8, 6));
}

TEST(math_shapes)
{
	struct mg *g;
	Onnx__NodeProto *nd;

	g = mg_new(13);
	INPUT(g, "A", 5, 1, 7, 3);
	INPUT(g, "B", 4, 3, 6);
	mg_node(g, "MatMul", "mm", "A,B", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 5, 4, 7, 6));

	g = mg_new(13);
	INPUT(g, "A", 3);
	INPUT(g, "B", 2, 3, 4);
	mg_node(g, "MatMul", "mm", "A,B", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 4));

	g = mg_new(13);
	INPUT(g, "A", 7, 5);
	mg_init_f32(g, "B", 2, DIMS(9, 7), NULL);
	mg_init_f32(g, "C", 1, DIMS(9), NULL);
	nd = mg_node(g, "Gemm", "gemm", "A,B,C", "Y");
	mg_attr_int(g, nd, "transA", 1);
	mg_attr_int(g, nd, "transB", 1);
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 5, 9));

	g = mg_new(13);
	INPUT(g, "X", 2, 3, 4);
	nd = mg_node(g, "ReduceMean", "rm", "X", "Y");
	mg_attr_ints(g, nd, "axes", 2, DIMS(-1, 0));
	mg_attr_int(g, nd, "keepdims", 0);
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 3));

	g = mg_new(17);
	INPUT(g, "X", 2, 3, 8);
	mg_init_f32(g, "S", 1, DIMS(8), NULL);
	mg_node(g, "LayerNormalization", "ln", "X,S", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 3, 8));

	g = mg_new(13);
	mg_input(g, "C", T_BOOL, 2, DIMS(1, 4));
	INPUT(g, "X", 3, 1);
	mg_init_f32(g, "Z", 0, DIMS(0), NULL);
	mg_node(g, "Where", "w", "C,X,Z", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 3, 4));

	/* ReduceSum-13 takes its axes as an input, which must be constant */
	g = mg_new(13);
	INPUT(g, "X", 2, 3, 4);
	INIT_I64(g, "axes", 1);
	mg_node(g, "ReduceSum", "rs", "X,axes", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 1, 4));

	g = mg_new(13);
	INPUT(g, "X", 2, 3, 4);
	nd = mg_node(g, "ArgMax", "am", "X", "Y");
	mg_attr_int(g, nd, "axis", -2);
	mg_attr_int(g, nd, "keepdims", 0);
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 2, 4));

	g = mg_new(13);
	INPUT(g, "X", 2, 3, 4);
	INIT_I64(g, "r", 3, 1, 2);
	mg_node(g, "Tile", "t", "X,r", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(SHAPE_IS(g, 6, 3, 8));

	g = mg_new(13);
	INPUT(g, "X", 2, 3, 4);
	INIT_I64(g, "r", 3, 1);
	mg_node(g, "Tile", "t", "X,r", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "node 't' (Tile): 2 repeats for rank 3"));

	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	INPUT(g, "Y", 3);
	INPUT(g, "Z", 4, 1, 1);
	mg_node(g, "Min", "min", "X,Y,Z", "M");
	mg_output(g, "M");
	EXPECT_TRUE(SHAPE_IS(g, 4, 2, 3));
}

/* Shape -> Gather -> Unsqueeze -> Concat -> Reshape of a run-time input. */
TEST(shape_chain_folds)
{
	struct eia_runner_error err;
	struct eia_plan_stats st;
	struct eia_model *m;
	struct mg *g = mg_new(13);
	Onnx__NodeProto *nd;

	INPUT(g, "X", 2, 3, 4);
	mg_node(g, "Shape", "shape", "X", "S");
	mg_init_i64(g, "zero", 0, NULL, DIMS(0));
	mg_node(g, "Gather", "batch", "S,zero", "N");
	INIT_I64(g, "axes", 0);
	mg_node(g, "Unsqueeze", "unsq", "N,axes", "N1");
	INIT_I64(g, "rest", -1);
	nd = mg_node(g, "Concat", "cat", "N1,rest", "NS");
	mg_attr_int(g, nd, "axis", 0);
	mg_node(g, "Reshape", "flat", "X,NS", "F");
	mg_node(g, "Relu", "relu", "F", "Y");
	/* Nothing needs this one: it is dropped, not computed. */
	nd = mg_node(g, "Cast", "cast", "N", "NF");
	mg_attr_int(g, nd, "to", T_FLOAT);
	mg_output(g, "Y");
	ASSERT_EQ(0, rt_load(g, &m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, eia_model_stats(m, &st));
	EXPECT_EQ(4, st.folded);
	EXPECT_EQ(1, st.views);
	EXPECT_EQ(1, st.dead);
	EXPECT_EQ(1, st.steps);
	EXPECT_TRUE(rt_out_shape(m, 0, 2, DIMS(2, 12)));
	eia_model_close(m);
	mg_free(g);
}

TEST(batchnorm_merges_into_conv)
{
	struct eia_runner_error err;
	struct eia_plan_stats st;
	struct eia_model *m;
	struct mg *g = mg_new(13);
	static const float one[4] = { 1, 1, 1, 1 };
	int op;
	const char *node;

	INPUT(g, "X", 1, 2, 5, 5);
	mg_init_f32(g, "W", 4, DIMS(4, 2, 3, 3), NULL);
	mg_init_f32(g, "g", 1, DIMS(4), one);
	mg_init_f32(g, "b", 1, DIMS(4), NULL);
	mg_init_f32(g, "mu", 1, DIMS(4), NULL);
	mg_init_f32(g, "var", 1, DIMS(4), one);
	mg_node(g, "Conv", "conv", "X,W", "C");
	mg_node(g, "BatchNormalization", "bn", "C,g,b,mu,var", "B");
	mg_node(g, "Relu", "relu", "B", "R");
	mg_node(g, "BatchNormalization", "bn2", "R,g,b,mu,var", "Y");
	mg_output(g, "Y");
	ASSERT_EQ(0, rt_load(g, &m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, eia_model_stats(m, &st));
	EXPECT_EQ(1, st.merged);
	/* Conv (with the first BN), Relu, then Mul + Add for the second. */
	EXPECT_EQ(4, st.steps);
	ASSERT_EQ(0, eia_model_step(m, 0, &op, &node));
	EXPECT_EQ(EIA_OP_CONV2D, op);
	ASSERT_EQ(0, eia_model_step(m, 2, &op, &node));
	EXPECT_EQ(EIA_OP_MUL, op);
	EXPECT_STREQ("bn2", node);
	EXPECT_TRUE(rt_out_shape(m, 0, 4, DIMS(1, 4, 3, 3)));
	eia_model_close(m);
	mg_free(g);
}

TEST(pad_lowering)
{
	struct eia_runner_error err;
	struct eia_plan_stats st;
	struct eia_model *m;
	struct mg *g = mg_new(13);
	Onnx__NodeProto *nd;

	/* A zero Pad of H and W before a Conv becomes the Conv's pads. */
	INPUT(g, "X", 1, 2, 5, 5);
	INIT_I64(g, "pads", 0, 0, 1, 2, 0, 0, 3, 4);
	mg_node(g, "Pad", "pad", "X,pads", "P");
	mg_init_f32(g, "W", 4, DIMS(4, 2, 3, 3), NULL);
	mg_node(g, "Conv", "conv", "P,W", "Y");
	mg_output(g, "Y");
	ASSERT_EQ(0, rt_load(g, &m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, eia_model_stats(m, &st));
	EXPECT_EQ(1, st.merged);
	EXPECT_EQ(1, st.steps);
	EXPECT_TRUE(rt_out_shape(m, 0, 4, DIMS(1, 4, 7, 9)));
	eia_model_close(m);
	mg_free(g);

	/* Reflect on two axes: two Slices and a Concat per axis. */
	g = mg_new(13);
	INPUT(g, "X", 1, 2, 5, 5);
	INIT_I64(g, "pads", 0, 0, 1, 2, 0, 0, 3, 4);
	nd = mg_node(g, "Pad", "pad", "X,pads", "Y");
	mg_attr_str(g, nd, "mode", "reflect");
	mg_output(g, "Y");
	ASSERT_EQ(0, rt_load(g, &m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, eia_model_stats(m, &st));
	EXPECT_EQ(6, st.steps);
	EXPECT_TRUE(rt_out_shape(m, 0, 4, DIMS(1, 2, 9, 11)));
	EXPECT_TRUE(rt_plan_sound(m));
	eia_model_close(m);
	mg_free(g);
}

/* A chain of N steps on one shape needs two buffers, not N + 1. */
TEST(plan_reuses_memory)
{
	struct eia_runner_error err;
	struct eia_plan_stats st;
	struct eia_model *m;
	struct mg *g = mg_new(13);
	const struct eia_plan_interval *iv;
	char in[16], out[16];
	int i, n;

	INPUT(g, "X", 256, 256);
	for (i = 0; i < 10; i++) {
		snprintf(in, sizeof(in), i ? "T%d" : "X", i);
		snprintf(out, sizeof(out), i == 9 ? "Y" : "T%d", i + 1);
		mg_node(g, i % 2 ? "Relu" : "Tanh", out, in, out);
	}
	mg_output(g, "Y");
	ASSERT_EQ(0, rt_load(g, &m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, eia_model_stats(m, &st));
	EXPECT_EQ(10, st.steps);
	EXPECT_EQ(11ull * 256 * 256 * 4, st.naive_bytes);
	EXPECT_EQ(2ull * 256 * 256 * 4, st.arena_bytes);
	iv = eia_model_plan(m, &n);
	ASSERT_EQ(11, n);
	for (i = 0; i < n; i++) {
		if (!strcmp(iv[i].name, "X")) {
			EXPECT_EQ(-1, iv[i].first);
			EXPECT_EQ(0, iv[i].last);
		}
		if (!strcmp(iv[i].name, "Y")) {
			EXPECT_EQ(9, iv[i].first);
			EXPECT_EQ(10, iv[i].last);
		}
	}
	EXPECT_TRUE(rt_plan_sound(m));
	eia_model_close(m);
	mg_free(g);
}

TEST_HARNESS_MAIN
