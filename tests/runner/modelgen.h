/* SPDX-License-Identifier: MIT */
/*
 * Building small ONNX models in C for the runner's tests, with the same
 * protobuf-c code the runner parses them with. Everything a builder
 * allocates is freed by mg_free(); the functions never fail (they abort on
 * out-of-memory, which a test cannot recover from anyway).
 */
#ifndef EIA_TESTS_RUNNER_MODELGEN_H
#define EIA_TESTS_RUNNER_MODELGEN_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

/* A dim that is declared symbolic (dim_param) in mg_input(). */
#define MG_SYM	(-1)

struct mg;

struct mg *mg_new(int64_t opset);
void mg_free(struct mg *g);

/* A graph input; a dims entry of MG_SYM is a dim_param. */
void mg_input(struct mg *g, const char *name, int32_t onnx_type, int ndim,
	      const int64_t *dims);
void mg_output(struct mg *g, const char *name);

/* An initializer with raw data (NULL: zeros) of @bytes bytes. */
Onnx__TensorProto *mg_init(struct mg *g, const char *name, int32_t onnx_type,
			   int ndim, const int64_t *dims, const void *data,
			   size_t bytes);
Onnx__TensorProto *mg_init_f32(struct mg *g, const char *name, int ndim,
			       const int64_t *dims, const float *data);
Onnx__TensorProto *mg_init_i64(struct mg *g, const char *name, int ndim,
			       const int64_t *dims, const int64_t *data);

/* A node; @ins and @outs are comma-separated names ("" for none). */
Onnx__NodeProto *mg_node(struct mg *g, const char *op, const char *name,
			 const char *ins, const char *outs);
void mg_attr_int(struct mg *g, Onnx__NodeProto *n, const char *name, int64_t v);
void mg_attr_float(struct mg *g, Onnx__NodeProto *n, const char *name, float v);
void mg_attr_ints(struct mg *g, Onnx__NodeProto *n, const char *name, int cnt,
		  const int64_t *v);
void mg_attr_str(struct mg *g, Onnx__NodeProto *n, const char *name, const char *v);
void mg_attr_tensor(struct mg *g, Onnx__NodeProto *n, const char *name,
		    Onnx__TensorProto *t);
/* A tensor for an attribute (not an initializer). */
Onnx__TensorProto *mg_tensor(struct mg *g, int32_t onnx_type, int ndim,
			     const int64_t *dims, const void *data, size_t bytes);

/* The serialized model (malloc'd; the caller frees it). */
void *mg_pack(struct mg *g, size_t *len);

#endif
