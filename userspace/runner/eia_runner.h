/* SPDX-License-Identifier: MIT */
/*
 * libeia-runner: run ONNX models on an eia accelerator.
 *
 * A model goes through three stages:
 *
 *   eia_model_open()      parse the .onnx file and check its graph: every
 *                         tensor defined once, every input defined, no
 *                         cycle, initializers of a supported type whose data
 *                         matches their dims;
 *   eia_model_prepare()   infer every shape, fold what is constant on the
 *                         host (Shape/Reshape/Constant/... chains), map the
 *                         remaining nodes onto eia's built-in operators
 *                         (eia_ops.h) and plan one arena of device memory in
 *                         which tensors whose lifetimes do not overlap share
 *                         space;
 *   eia_session_create()  upload the constants to a device once; then
 *   eia_session_run()     as often as needed: inputs in, outputs out.
 *
 * Symbolic input dims ("batch", "tokens") are bound with
 * eia_model_set_input_shape() before eia_model_prepare(). An operator or
 * attribute the runner cannot map is a load-time error naming the node.
 *
 * Every function that can fail returns 0 or a negative errno and, when
 * @err is not NULL, fills it with a sentence that names the file, node or
 * tensor at fault. Nothing here asserts on its input: a malformed model is
 * an error, never a crash.
 *
 * Link with libeia-runner.a -lprotobuf-c -lm, and libeia for sessions.
 * See Documentation/runner.rst.
 */
#ifndef EIA_RUNNER_H
#define EIA_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "eia.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EIA_RUNNER_ERROR_MAX 512

/**
 * struct eia_runner_error - why a call failed
 * @code: the negative errno the call returned: -EINVAL (malformed model or
 *	tensor file), -EOPNOTSUPP (an operator, attribute or dtype the runner
 *	cannot map), -EFBIG (a tensor or plan too large), -ENOMEM, -EIO (a file
 *	could not be read or written), -ENOENT (no such input), -EREMOTEIO (the
 *	device failed; libeia's error is in the message)
 * @msg: what went wrong, as a sentence
 */
struct eia_runner_error {
	int code;
	char msg[EIA_RUNNER_ERROR_MAX];
};

/**
 * struct eia_host_tensor - a tensor in host memory
 * @name: its name (for files: the TensorProto's name; may be empty)
 * @dtype: enum eia_dtype
 * @ndim: 0..EIA_MAX_DIMS
 * @dims: its dimensions
 * @data: @size bytes, dense and row-major
 * @size: bytes at @data: the element count times the element size
 *
 * eia_tensor_read_pb() and eia_session_run()'s outputs allocate @name and
 * @data; eia_host_tensor_free() frees them.
 */
struct eia_host_tensor {
	char *name;
	int dtype;
	int ndim;
	int64_t dims[EIA_MAX_DIMS];
	void *data;
	size_t size;
};

struct eia_model;
struct eia_session;

/**
 * eia_model_open() - read and check an ONNX model
 * @path: the .onnx file
 * @model: Out: the model
 * @err: Out: why it failed (may be NULL)
 *
 * Return: 0; -EIO when the file cannot be read; -EINVAL for a file that is
 * not a well-formed ONNX model (truncated, a cycle, a tensor used but never
 * defined, an initializer whose data does not match its dims, absurd dims);
 * -EOPNOTSUPP for an unsupported dtype, opset or external data; -ENOMEM.
 */
int eia_model_open(const char *path, struct eia_model **model,
		   struct eia_runner_error *err);

/* eia_model_open() of a model already in memory (@len bytes at @buf). */
int eia_model_open_buffer(const void *buf, size_t len, struct eia_model **model,
			  struct eia_runner_error *err);

/* Free a model; NULL is accepted. Its sessions must be destroyed first. */
void eia_model_close(struct eia_model *model);

/**
 * eia_model_set_input_shape() - fix the shape of a graph input
 * @model: an opened model, not yet prepared
 * @name: the input's name
 * @ndim: its rank, as declared by the model
 * @dims: the dims; each must equal the declared dim where that one is fixed
 * @err: Out: why it failed
 *
 * Return: 0; -ENOENT for no such input; -EINVAL for a shape the model's
 * declaration refuses; -EBUSY once the model is prepared.
 */
int eia_model_set_input_shape(struct eia_model *model, const char *name,
			      int ndim, const int64_t *dims,
			      struct eia_runner_error *err);

/**
 * eia_model_set_input_constant() - fix a graph input's value for good
 * @model: an opened model, not yet prepared
 * @value: the value, named as the input, of its dtype and declared shape
 * @err: Out: why it failed
 *
 * The input becomes a constant (its data is copied): it folds like an
 * initializer, so that an input that decides shapes (a Reshape's shape, a
 * Slice's starts) can be planned, and it is no longer given to
 * eia_session_run().
 *
 * Return: 0; as eia_model_set_input_shape(); -EINVAL when the dtype or the
 * size differ; -ENOMEM.
 */
int eia_model_set_input_constant(struct eia_model *model,
				 const struct eia_host_tensor *value,
				 struct eia_runner_error *err);

/**
 * eia_model_prepare() - infer shapes, fold constants, map and plan
 * @model: an opened model; every input dim known by now
 * @err: Out: why it failed
 *
 * After a failure the model can only be closed.
 *
 * Return: 0 (calling it again does nothing); -EINVAL for an inconsistent
 * model (shapes that do not fit an operator, a symbolic dim left unbound);
 * -EOPNOTSUPP naming the first node the runner cannot map; -EFBIG; -ENOMEM.
 */
int eia_model_prepare(struct eia_model *model, struct eia_runner_error *err);

/*
 * The graph's inputs and outputs, in the model's order. eia_model_input()
 * fills @info's name, dtype, ndim and dims (data NULL, size the bytes it
 * takes); a dim not known yet is -1. The name points into the model.
 * Return 0 or -ENOENT for an index out of range.
 */
int eia_model_num_inputs(const struct eia_model *model);
int eia_model_num_outputs(const struct eia_model *model);
int eia_model_input(const struct eia_model *model, int index,
		    struct eia_host_tensor *info);
int eia_model_output(const struct eia_model *model, int index,
		     struct eia_host_tensor *info);

/**
 * struct eia_plan_stats - what eia_model_prepare() made of a model
 * @opset: the model's ai.onnx opset
 * @nodes: nodes in the graph
 * @folded: nodes computed on the host at prepare time
 * @views: nodes that became views of another tensor (Reshape, Flatten, ...)
 * @merged: nodes merged into another (BatchNormalization into Conv, Pad
 *	into Conv's pads)
 * @dead: nodes whose outputs no graph output needs
 * @steps: operator launches per inference
 * @constants: tensors uploaded once
 * @weights_bytes: their bytes on the device
 * @arena_bytes: the arena holding inputs, outputs and intermediates
 * @naive_bytes: what the arena would be without reuse (every tensor its own)
 */
struct eia_plan_stats {
	int64_t opset;
	int nodes, folded, views, merged, dead, steps, constants;
	uint64_t weights_bytes, arena_bytes, naive_bytes;
};

/* Fill @stats; 0, or -EINVAL when the model is not prepared. */
int eia_model_stats(const struct eia_model *model, struct eia_plan_stats *stats);

/**
 * struct eia_plan_interval - one tensor's place in the arena
 * @name: the tensor (points into the model)
 * @offset: byte offset in the arena
 * @size: bytes
 * @first: the step that writes it (-1: a graph input, written before step 0)
 * @last: the last step that reads it (the step count: a graph output, read
 *	after the last step)
 *
 * Two intervals whose [first, last] ranges intersect never share bytes.
 */
struct eia_plan_interval {
	const char *name;
	uint64_t offset;
	uint64_t size;
	int first;
	int last;
};

/* The arena plan of a prepared model; NULL (and *@count 0) before. */
const struct eia_plan_interval *eia_model_plan(const struct eia_model *model,
					       int *count);

/*
 * The operator launches, for tools that show them: step @index's eia_op
 * code and the node it comes from. 0 or -ENOENT.
 */
int eia_model_step(const struct eia_model *model, int index, int *op,
		   const char **node);

/**
 * eia_tensor_read_pb() - read a serialized ONNX TensorProto (.pb)
 * @path: the file
 * @tensor: Out: the tensor (free with eia_host_tensor_free())
 * @err: Out: why it failed
 *
 * Return: 0; -EIO; -EINVAL for a malformed file or data that does not match
 * its dims; -EOPNOTSUPP for a dtype eia lacks; -ENOMEM.
 */
int eia_tensor_read_pb(const char *path, struct eia_host_tensor *tensor,
		       struct eia_runner_error *err);

/* Write @tensor as a TensorProto (raw_data) to @path. 0, -EIO, -EINVAL. */
int eia_tensor_write_pb(const char *path, const struct eia_host_tensor *tensor,
			struct eia_runner_error *err);

/* Free what a tensor owns and clear it; NULL is accepted. */
void eia_host_tensor_free(struct eia_host_tensor *tensor);

/* Name of an enum eia_dtype ("F32"), "?" for others. */
const char *eia_dtype_name(int dtype);

/**
 * eia_session_create() - make a prepared model ready to run on a device
 * @model: a prepared model; it must outlive the session
 * @dev: an open libeia device
 * @session: Out: the session
 * @err: Out: why it failed
 *
 * Allocates the constants and the arena on @dev, uploads the constants and
 * creates the stream the inferences run on.
 *
 * Return: 0; -EINVAL when @model is not prepared; -EREMOTEIO when libeia
 * fails (quota, link); -ENOMEM.
 */
int eia_session_create(struct eia_model *model, eiaDevice_t dev,
		       struct eia_session **session,
		       struct eia_runner_error *err);

/**
 * eia_session_run() - run one inference
 * @session: the session
 * @inputs: one tensor per graph input, matched by name (any order), each of
 *	the prepared dtype and shape; none for inputs bound to constants
 * @ninputs: their number
 * @outputs: Out: the graph outputs in the model's order (eia_model_output()),
 *	allocated; free each with eia_host_tensor_free()
 * @noutputs: room in @outputs: at least eia_model_num_outputs()
 * @err: Out: why it failed; a device failure names the node whose operator
 *	failed
 *
 * Return: 0; -EINVAL for missing, unknown or mismatched inputs; -EREMOTEIO
 * when the device failed; -ENOMEM.
 */
int eia_session_run(struct eia_session *session,
		    const struct eia_host_tensor *inputs, int ninputs,
		    struct eia_host_tensor *outputs, int noutputs,
		    struct eia_runner_error *err);

/* Free the device memory and stream of a session; NULL is accepted. */
void eia_session_destroy(struct eia_session *session);

#ifdef __cplusplus
}
#endif

#endif /* EIA_RUNNER_H */
