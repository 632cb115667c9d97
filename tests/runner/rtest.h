/* SPDX-License-Identifier: MIT */
/* What the runner's tests share: loading models and checking errors. */
#ifndef EIA_TESTS_RUNNER_RTEST_H
#define EIA_TESTS_RUNNER_RTEST_H

#include <stdbool.h>

#include "eia_runner.h"
#include "modelgen.h"

#define T_FLOAT	ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define T_INT64	ONNX__TENSOR_PROTO__DATA_TYPE__INT64
#define T_BOOL	ONNX__TENSOR_PROTO__DATA_TYPE__BOOL
#define T_INT32	ONNX__TENSOR_PROTO__DATA_TYPE__INT32
#define T_FLOAT16 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16

#define DIMS(...) ((const int64_t[]){ __VA_ARGS__ })
#define NDIMS(...) ((int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)))
/* An input or initializer with the dims listed. */
#define INPUT(g, name, ...) mg_input(g, name, T_FLOAT, NDIMS(__VA_ARGS__), DIMS(__VA_ARGS__))
#define INIT_I64(g, name, ...) \
	mg_init_i64(g, name, 1, DIMS(NDIMS(__VA_ARGS__)), DIMS(__VA_ARGS__))

/*
 * Pack @g, open and prepare it. Returns 0 with *@m set (close it), or the
 * error with *@m NULL and @err filled; never both.
 */
int rt_load(struct mg *g, struct eia_model **m, struct eia_runner_error *err);

/* rt_load() expected to fail with @code and a message holding @needle. */
bool rt_fails(struct mg *g, int code, const char *needle);

/* Output @i of a prepared model has @ndim dims equal to @dims. */
bool rt_out_shape(struct eia_model *m, int i, int ndim, const int64_t *dims);

/*
 * The plan is sound: every interval inside the arena, and no two intervals
 * that are live at once share a byte. Logs the first offender.
 */
bool rt_plan_sound(struct eia_model *m);

/* Directory of the exported models (build/models), from $EIA_MODELS. */
const char *rt_models_dir(void);

/* @path under rt_models_dir(), into @buf. */
const char *rt_model_path(char *buf, size_t len, const char *name, const char *file);

#endif
