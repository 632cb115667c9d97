// SPDX-License-Identifier: MIT
/*
 * Malformed models: every one is refused with a clear error naming what is
 * wrong, and none crashes (these tests run under ASan and UBSan).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "rtest.h"

/* Y = Relu(X + W), X (2, 3), W an initializer. */
static struct mg *small_model(void)
{
	struct mg *g = mg_new(13);
	float w[6] = { 1, -2, 3, -4, 5, -6 };

	INPUT(g, "X", 2, 3);
	mg_init_f32(g, "W", 2, DIMS(2, 3), w);
	mg_node(g, "Add", "add", "X,W", "S");
	mg_node(g, "Relu", "relu", "S", "Y");
	mg_output(g, "Y");
	return g;
}

TEST(well_formed_model_prepares)
{
	struct eia_runner_error err;
	struct eia_plan_stats st;
	struct eia_model *m;
	struct mg *g = small_model();

	ASSERT_EQ(0, rt_load(g, &m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, eia_model_stats(m, &st));
	EXPECT_EQ(2, st.steps);
	EXPECT_EQ(1, st.constants);
	EXPECT_TRUE(rt_out_shape(m, 0, 2, DIMS(2, 3)));
	eia_model_close(m);
	mg_free(g);
}

TEST(not_a_model)
{
	struct eia_runner_error err;
	struct eia_model *m = (void *)1;
	static const char junk[] = "\xff\xff\xff\xff this is not protobuf";

	EXPECT_EQ(-EINVAL, eia_model_open_buffer(junk, sizeof(junk), &m, &err));
	EXPECT_NE(NULL, strstr(err.msg, "not an ONNX model"));
	EXPECT_EQ(NULL, m);
	EXPECT_EQ(-EINVAL, eia_model_open_buffer(junk, 0, &m, &err));
	EXPECT_EQ(-EIO, eia_model_open("/nonexistent/model.onnx", &m, &err));
	EXPECT_NE(NULL, strstr(err.msg, "/nonexistent/model.onnx"));
	EXPECT_EQ(-EIO, eia_model_open("/", &m, &err));
}

/* Every prefix of a model is refused cleanly or is a (smaller) valid model. */
TEST(truncated_at_every_byte)
{
	struct mg *g = small_model();
	size_t len, cut;
	unsigned char *buf = mg_pack(g, &len);
	int refused = 0;

	for (cut = 0; cut < len; cut++) {
		struct eia_runner_error err = { 0 };
		struct eia_model *m;
		int ret = eia_model_open_buffer(buf, cut, &m, &err);

		if (!ret) {
			ret = eia_model_prepare(m, &err);
			eia_model_close(m);
		}
		if (ret) {
			refused++;
			ASSERT_NE(0, strlen(err.msg));
			ASSERT_EQ(ret, err.code);
		}
	}
	TH_LOG("%d of %zu prefixes refused", refused, len);
	EXPECT_GT(refused, (int)len * 9 / 10);
	free(buf);
	mg_free(g);
}

TEST(truncated_exported_model)
{
	struct eia_runner_error err;
	struct eia_model *m;
	char path[512];
	FILE *f = fopen(rt_model_path(path, sizeof(path), "resnet18", "model.onnx"), "rb");
	unsigned char *buf;
	long len;

	ASSERT_NE(NULL, f) TH_LOG("%s missing: run scripts/make-models", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ((size_t)len, fread(buf, 1, (size_t)len, f));
	fclose(f);
	EXPECT_EQ(-EINVAL, eia_model_open_buffer(buf, (size_t)len / 2, &m, &err));
	EXPECT_NE(NULL, strstr(err.msg, "truncated or corrupt"));
	EXPECT_EQ(-EINVAL, eia_model_open_buffer(buf, (size_t)len - 1, &m, &err));
	EXPECT_EQ(0, eia_model_open_buffer(buf, (size_t)len, &m, &err));
	eia_model_close(m);
	free(buf);
}

TEST(initializer_of_wrong_size)
{
	struct mg *g = mg_new(13);
	float w[5] = { 0 };

	INPUT(g, "X", 2, 3);
	mg_init(g, "W", T_FLOAT, 2, DIMS(2, 3), w, sizeof(w));
	mg_node(g, "Add", "add", "X,W", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "initializer 'W': 20 bytes of data for 6 elements"));
	mg_free(g);
}

TEST(initializer_with_too_few_values)
{
	struct mg *g = mg_new(13);
	Onnx__TensorProto *t;
	float vals[4] = { 1, 2, 3, 4 };

	INPUT(g, "X", 2, 3);
	t = mg_init(g, "W", T_FLOAT, 2, DIMS(2, 3), NULL, 0);
	t->has_raw_data = 0;
	t->n_float_data = 4;
	t->float_data = vals;
	mg_node(g, "Add", "add", "X,W", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "'W': 4 values for 6 elements"));
	mg_free(g);
}

TEST(cycle)
{
	struct mg *g = mg_new(13);

	INPUT(g, "X", 4);
	mg_node(g, "Add", "first", "X,B", "A");
	mg_node(g, "Relu", "second", "A", "B");
	mg_node(g, "Relu", "out", "A", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "the graph has a cycle through this node"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 4);
	mg_node(g, "Add", "self", "X,Y", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "node 'self' (Add): the graph has a cycle"));
	mg_free(g);
}

TEST(missing_initializer)
{
	struct mg *g = mg_new(13);

	INPUT(g, "X", 2, 3);
	mg_node(g, "Add", "add_bias", "X,bias", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL,
			     "node 'add_bias' (Add): input 'bias' is not produced by any node, nor an initializer or graph input"));
	mg_free(g);
}

TEST(absurd_dims)
{
	struct mg *g = mg_new(13);

	INPUT(g, "X", 2);
	mg_init(g, "W", T_FLOAT, 3, DIMS(1ll << 30, 1ll << 30, 1ll << 30), NULL, 0);
	mg_node(g, "Add", "add", "X,W", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "initializer 'W': absurd dims [1073741824, 1073741824"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	mg_init(g, "W", T_FLOAT, 2, DIMS(2, -3), NULL, 0);
	mg_node(g, "Add", "add", "X,W", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "initializer 'W': absurd dims [2, -3]"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 1ll << 50, 1ll << 20);
	mg_node(g, "Relu", "relu", "X", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "input 'X'"));
	mg_free(g);

	/* A shape made at prepare time that no machine could hold. */
	g = mg_new(13);
	INPUT(g, "X", 2);
	INIT_I64(g, "shape", 1ll << 20, 1ll << 20, 1ll << 20);
	mg_node(g, "ConstantOfShape", "huge", "shape", "Z");
	mg_node(g, "Add", "add", "X,Z", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EFBIG, "node 'huge' (ConstantOfShape): output 'Z' would have absurd dims"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	INIT_I64(g, "shape", 1ll << 40, 1ll << 30, 2);
	mg_node(g, "Expand", "grow", "X,shape", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EFBIG, "node 'grow' (Expand)"));
	mg_free(g);
}

TEST(unsupported_dtypes)
{
	struct mg *g = mg_new(13);
	double d[2] = { 1, 2 };

	INPUT(g, "X", 2);
	mg_init(g, "D", ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, 1, DIMS(2), d, sizeof(d));
	mg_node(g, "Add", "add", "X,D", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "initializer 'D': dtype DOUBLE (11) is not supported"));
	mg_free(g);

	g = mg_new(13);
	mg_input(g, "S", ONNX__TENSOR_PROTO__DATA_TYPE__STRING, 1, DIMS(2));
	mg_node(g, "Identity", "id", "S", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "input 'S': dtype STRING is not supported"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	mg_init(g, "U", 99, 1, DIMS(2), d, sizeof(d));
	mg_node(g, "Add", "add", "X,U", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "dtype unknown (99)"));
	mg_free(g);
}

TEST(unsupported_operator)
{
	struct mg *g = mg_new(13);

	INPUT(g, "boxes", 1, 4, 4);
	INPUT(g, "scores", 1, 1, 4);
	mg_node(g, "NonMaxSuppression", "nms", "boxes,scores", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP,
			     "node 'nms' (NonMaxSuppression): operator NonMaxSuppression is not supported"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	mg_node(g, "FusedGelu", "ms", "X", "Y")->domain = "com.microsoft";
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "node 'ms' (FusedGelu): operator domain 'com.microsoft'"));
	mg_free(g);

	/* Supported when its inputs fold; at run time it has no eia operator. */
	g = mg_new(13);
	INPUT(g, "A", 1);
	mg_init_f32(g, "limit", 0, NULL, (float[]){ 5 });
	mg_init_f32(g, "delta", 0, NULL, (float[]){ 1 });
	mg_node(g, "Range", "r", "A,limit,delta", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "node 'r' (Range): input 'A' must be a constant scalar"));
	mg_free(g);

	g = mg_new(13);
	mg_input(g, "I", T_INT64, 1, DIMS(3));
	mg_node(g, "Pow", "square", "I,I", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP,
			     "node 'square' (Pow): I64 Pow at run time needs an integer eia operator"));
	mg_free(g);
}

TEST(unsupported_attribute)
{
	struct mg *g = mg_new(13);
	Onnx__NodeProto *n;

	INPUT(g, "X", 1, 2, 5, 5);
	mg_init_f32(g, "W", 4, DIMS(3, 2, 3, 3), NULL);
	n = mg_node(g, "Conv", "conv1", "X,W", "Y");
	mg_attr_int(g, n, "winograd", 1);
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "node 'conv1' (Conv): attribute 'winograd' is not supported"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 1, 2, 3, 3, 3, 3);
	mg_init_f32(g, "W", 6, DIMS(3, 2, 2, 2, 2, 2), NULL);
	mg_node(g, "Conv", "conv4d", "X,W", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP,
			     "node 'conv4d' (Conv): only 1-D, 2-D and 3-D windows are supported, not 4-D"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 1, 2, 4, 4);
	n = mg_node(g, "MaxPool", "pool", "X", "Y,I");
	mg_attr_ints(g, n, "kernel_shape", 2, DIMS(2, 2));
	mg_output(g, "Y");
	mg_output(g, "I");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "node 'pool' (MaxPool): the Indices output"));
	mg_free(g);
}

TEST(duplicate_definitions)
{
	struct mg *g = mg_new(13);

	INPUT(g, "X", 2);
	mg_node(g, "Relu", "a", "X", "Y");
	mg_node(g, "Relu", "b", "X", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "node 'b' (Relu): output 'Y' is already defined"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	mg_init_f32(g, "W", 1, DIMS(2), NULL);
	mg_init_f32(g, "W", 1, DIMS(2), NULL);
	mg_node(g, "Add", "a", "X,W", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "initializer 'W' is defined twice"));
	mg_free(g);
}

TEST(graph_level_errors)
{
	struct mg *g = mg_new(99);
	Onnx__TensorProto *t;

	INPUT(g, "X", 2);
	mg_node(g, "Relu", "a", "X", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "opset 99 is not supported"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	mg_node(g, "Relu", "a", "X", "Y");
	mg_output(g, "Z");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "graph output 'Z' is not produced by any node"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	t = mg_init_f32(g, "W", 1, DIMS(2), NULL);
	t->has_data_location = 1;
	t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	mg_node(g, "Add", "a", "X,W", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "initializer 'W': external data is not supported"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2);
	mg_node(g, "Relu", "", "X", "Y");
	mg_node(g, "Conv", "", "Y", "Z");
	mg_output(g, "Z");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "node '#1' (Conv): 1 inputs and 1 outputs"));
	mg_free(g);
}

TEST(symbolic_input_dims)
{
	struct eia_runner_error err;
	struct eia_model *m;
	struct mg *g = mg_new(13);
	size_t len;
	void *buf;

	mg_input(g, "X", T_FLOAT, 2, DIMS(MG_SYM, 4));
	mg_node(g, "Relu", "a", "X", "Y");
	mg_output(g, "Y");
	buf = mg_pack(g, &len);
	ASSERT_EQ(0, eia_model_open_buffer(buf, len, &m, &err));
	EXPECT_EQ(-EINVAL, eia_model_prepare(m, &err));
	EXPECT_NE(NULL, strstr(err.msg, "input 'X': dim 0 is symbolic"));
	eia_model_close(m);
	ASSERT_EQ(0, eia_model_open_buffer(buf, len, &m, &err));
	EXPECT_EQ(-ENOENT, eia_model_set_input_shape(m, "nope", 2, DIMS(3, 4), &err));
	EXPECT_EQ(-EINVAL, eia_model_set_input_shape(m, "X", 3, DIMS(3, 4, 1), &err));
	EXPECT_EQ(-EINVAL, eia_model_set_input_shape(m, "X", 2, DIMS(3, 5), &err));
	EXPECT_NE(NULL, strstr(err.msg, "dim 1 is 4 in the model, not 5"));
	EXPECT_EQ(-EINVAL, eia_model_set_input_shape(m, "X", 2, DIMS(-3, 4), &err));
	ASSERT_EQ(0, eia_model_set_input_shape(m, "X", 2, DIMS(3, 4), &err));
	ASSERT_EQ(0, eia_model_prepare(m, &err)) TH_LOG("%s", err.msg);
	EXPECT_TRUE(rt_out_shape(m, 0, 2, DIMS(3, 4)));
	EXPECT_EQ(-EBUSY, eia_model_set_input_shape(m, "X", 2, DIMS(3, 4), &err));
	eia_model_close(m);

	/* Bound to a value, the input folds and is not given at run time. */
	ASSERT_EQ(0, eia_model_open_buffer(buf, len, &m, &err));
	{
		float v[8] = { -1, 2, -3, 4, -5, 6, -7, 8 };
		struct eia_host_tensor c = { .name = "X", .dtype = EIA_DTYPE_F32, .ndim = 2,
					     .dims = { 2, 4 }, .data = v, .size = sizeof(v) };
		struct eia_plan_stats st;

		c.size -= 4;
		EXPECT_EQ(-EINVAL, eia_model_set_input_constant(m, &c, &err));
		c.size += 4;
		ASSERT_EQ(0, eia_model_set_input_constant(m, &c, &err)) TH_LOG("%s", err.msg);
		EXPECT_EQ(-EINVAL, eia_model_set_input_shape(m, "X", 2, DIMS(2, 4), &err));
		EXPECT_NE(NULL, strstr(err.msg, "already bound to a constant"));
		ASSERT_EQ(0, eia_model_prepare(m, &err)) TH_LOG("%s", err.msg);
		ASSERT_EQ(0, eia_model_stats(m, &st));
		EXPECT_EQ(1, st.folded);
		EXPECT_EQ(0, st.steps);
	}
	eia_model_close(m);
	free(buf);
	mg_free(g);
}

TEST(shape_errors_name_the_node)
{
	struct mg *g = mg_new(13);

	INPUT(g, "A", 2, 3);
	INPUT(g, "B", 4, 3);
	mg_node(g, "Add", "bad_add", "A,B", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "node 'bad_add' (Add): shapes [2, 3] and [4, 3] do not broadcast"));
	mg_free(g);

	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	INIT_I64(g, "shape", 4, 2);
	mg_node(g, "Reshape", "bad_reshape", "X,shape", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "node 'bad_reshape' (Reshape): 6 elements cannot become 8"));
	mg_free(g);

	/* A shape that is only known at run time cannot be planned. */
	g = mg_new(13);
	INPUT(g, "X", 2, 3);
	mg_input(g, "S", T_INT64, 1, DIMS(2));
	mg_node(g, "Reshape", "dyn", "X,S", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EOPNOTSUPP, "node 'dyn' (Reshape): input 'S' (shape) must be a constant"));
	mg_free(g);

	g = mg_new(13);
	mg_init_f32(g, "C", 1, DIMS(3), NULL);
	INPUT(g, "X", 3);
	INIT_I64(g, "idx", 5);
	mg_node(g, "Gather", "oob", "C,idx", "G");
	mg_node(g, "Add", "add", "X,G", "Y");
	mg_output(g, "Y");
	EXPECT_TRUE(rt_fails(g, -EINVAL, "node 'oob' (Gather): index 5 out of range for dim 3"));
	mg_free(g);
}

/* Random damage to a model is refused or survives; it never crashes. */
TEST(random_corruption)
{
	struct eia_runner_error err;
	struct eia_model *m;
	struct mg *g = mg_new(13);
	Onnx__NodeProto *n;
	unsigned char *buf, *copy;
	size_t len;
	unsigned int seed = 12345, i, ok = 0;

	INPUT(g, "X", 1, 2, 6, 6);
	mg_init_f32(g, "W", 4, DIMS(4, 2, 3, 3), NULL);
	n = mg_node(g, "Conv", "conv", "X,W", "C");
	mg_attr_ints(g, n, "pads", 4, DIMS(1, 1, 1, 1));
	mg_node(g, "Shape", "shape", "C", "S");
	mg_init_i64(g, "zero", 0, NULL, DIMS(0));
	mg_node(g, "Gather", "batch", "S,zero", "N");
	INIT_I64(g, "axes", 0);
	mg_node(g, "Unsqueeze", "unsq", "N,axes", "N1");
	INIT_I64(g, "rest", -1);
	n = mg_node(g, "Concat", "cat", "N1,rest", "NS");
	mg_attr_int(g, n, "axis", 0);
	mg_node(g, "Reshape", "flat", "C,NS", "F");
	n = mg_node(g, "Softmax", "sm", "F", "Y");
	mg_attr_int(g, n, "axis", -1);
	mg_output(g, "Y");
	ASSERT_EQ(0, rt_load(g, &m, &err)) TH_LOG("%s", err.msg);
	eia_model_close(m);
	buf = mg_pack(g, &len);
	copy = malloc(len);
	ASSERT_NE(NULL, copy);
	for (i = 0; i < 3000; i++) {
		unsigned int k, flips = 1 + rand_r(&seed) % 4;

		memcpy(copy, buf, len);
		for (k = 0; k < flips; k++)
			copy[rand_r(&seed) % len] ^= (unsigned char)(1 + rand_r(&seed) % 255);
		if (!eia_model_open_buffer(copy, len - (i % 7 ? 0 : rand_r(&seed) % len), &m, &err)) {
			ok += !eia_model_prepare(m, &err);
			eia_model_close(m);
		}
	}
	TH_LOG("%u of 3000 damaged models still prepared", ok);
	free(copy);
	free(buf);
	mg_free(g);
}

TEST_HARNESS_MAIN
