/* SPDX-License-Identifier: MIT */
/*
 * The runner's private header: the graph the model becomes (tensors and
 * nodes, by index), the steps it is lowered to, and the helpers every stage
 * shares.
 *
 * Stages and who owns what:
 *   model.c   parse, build the graph, check it, sort it (model->order)
 *   shape.c   rt_infer_node(): dtypes and shapes of a node's outputs
 *   fold.c    rt_fold_node(): host computation of constant nodes;
 *             rt_merge_nodes(): BatchNormalization and Pad merged into Conv
 *   lower.c   rt_lower(): nodes -> steps (eia operators) and views
 *   plan.c    rt_plan_memory(): lifetimes, arena offsets, constant layout
 *   exec.c    sessions: upload, launch, download
 * Tensors and nodes are referred to by index: lowering adds tensors, so
 * pointers into model->t do not survive it.
 */
#ifndef EIA_RUNNER_INTERNAL_H
#define EIA_RUNNER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eia_runner.h"
#include "onnx.pb-c.h"

/* Anything larger than this is an absurd tensor, whatever its dims say. */
#define RT_MAX_TENSOR_BYTES	(1ull << 40)
/* Larger results are left to the device instead of being folded. */
#define RT_MAX_FOLD_BYTES	(64ull << 20)
/* Arena and constants are placed at multiples of this. */
#define RT_ALIGN		64
/* Opsets of the ai.onnx domain the runner knows. */
#define RT_OPSET_MIN		1
#define RT_OPSET_MAX		18

struct rt_shape {
	int ndim;
	int64_t d[EIA_MAX_DIMS];
};

enum rt_kind {
	RT_VALUE,	/* computed by a node */
	RT_INPUT,	/* a graph input, given at each run */
	RT_CONST,	/* an initializer or folded: host data known */
};

enum rt_region {
	RT_REGION_NONE,		/* not on the device (folded away, unused) */
	RT_REGION_ARENA,	/* inputs, intermediates, outputs */
	RT_REGION_WEIGHTS,	/* constants, uploaded once */
};

/**
 * struct rt_tensor - a value of the graph
 * @name: unique name (owned)
 * @kind: see enum rt_kind
 * @dtype: enum eia_dtype, 0 until known
 * @shaped: @shape is known (inputs: every dim bound)
 * @shape: dims; for an input with symbolic dims, unknown ones are -1
 * @data: RT_CONST: @nbytes of host data
 * @owns_data: free @data with the model (else it points into the protobuf
 *	or another tensor's data)
 * @producer: node index, -1 for inputs and initializers
 * @is_output: a graph output
 * @needed: read by a live node or a graph output
 * @on_device: read by a step (constants: must be uploaded)
 * @alias: tensor whose storage this one is a view of, -1 if its own
 * @first: step that writes it (-1: before the first)
 * @last: last step reading it, through any view
 * @region: where its storage is
 * @offset: byte offset in @region
 */
struct rt_tensor {
	char *name;
	enum rt_kind kind;
	int dtype;
	bool shaped;
	struct rt_shape shape;
	void *data;
	size_t nbytes;
	bool owns_data;
	int producer;
	bool is_output;
	bool needed;
	bool on_device;
	int alias;
	int first, last;
	enum rt_region region;
	uint64_t offset;
};

/**
 * struct rt_node - an ONNX node
 * @proto: the NodeProto (attributes)
 * @label: its name, or "#index" when it has none (owned)
 * @op: its op_type
 * @nin, @nout: input and output counts as written, trailing empty ones kept
 * @in, @out: tensor indices, -1 for an omitted optional one (owned)
 * @live: some graph output depends on it
 * @folded: computed on the host at prepare time
 * @merged: merged into another node (its output now comes from that one)
 * @extra_pads: Conv: pads of a Pad merged into it, added to its own
 */
struct rt_node {
	const Onnx__NodeProto *proto;
	char *label;
	const char *op;
	int nin, nout;
	int *in, *out;
	bool live, folded, merged;
	int64_t extra_pads[4];
};

/**
 * struct rt_step - one operator launch
 * @op: enum eia_op
 * @node: the node it implements (for messages)
 * @nin, @nout: tensor counts
 * @in, @out: tensor indices (owned)
 * @attr: the attribute struct, @attr_size bytes (owned; NULL when 0)
 */
struct rt_step {
	int op;
	int node;
	int nin, nout;
	int *in, *out;
	void *attr;
	size_t attr_size;
};

struct rt_map_entry {
	const char *key;
	int value;
};

/* Name -> tensor index, open addressing; keys point at tensor names. */
struct rt_map {
	struct rt_map_entry *slots;
	size_t cap, len;
};

struct eia_model {
	Onnx__ModelProto *proto;
	int64_t opset;
	struct rt_tensor *t;
	int nt, capt;
	struct rt_node *n;
	int nn;
	int *order;		/* node indices, topologically sorted */
	int *inputs, ninputs;
	int *outputs, noutputs;
	struct rt_map map;
	struct rt_step *steps;
	int nsteps, capsteps;
	bool prepared, prepare_failed;
	int nfolded, nviews, nmerged, ndead;
	uint64_t arena_bytes, weights_bytes, naive_bytes;
	int nconstants;
	struct eia_plan_interval *intervals;
	int nintervals;
};

/* util.c */
int rt_fail(struct eia_runner_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rt_node_fail(struct eia_runner_error *err, int code,
		 const struct rt_node *nd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
size_t rt_dtype_size(int dtype);
bool rt_dtype_float(int dtype);
int rt_dtype_from_onnx(int32_t onnx_type);	/* 0 when unsupported */
int32_t rt_dtype_to_onnx(int dtype);
const char *rt_onnx_type_name(int32_t onnx_type);
/* Element count; -1 when a dim is negative or the bytes pass the bound. */
int64_t rt_shape_numel(const struct rt_shape *s, int dtype);
/* Bytes of a tensor with a known shape (0 when absurd). */
uint64_t rt_bytes_of(const struct rt_tensor *t);
bool rt_shape_eq(const struct rt_shape *a, const struct rt_shape *b);
/* "[1, 3, 224, 224]" into @buf. */
const char *rt_shape_str(const struct rt_shape *s, char *buf, size_t len);
char *rt_strdup(const char *s);
int rt_map_put(struct rt_map *m, const char *key, int value);
int rt_map_get(const struct rt_map *m, const char *key);
void rt_map_free(struct rt_map *m);
/* Element @i of F32, F16 or BF16 data, as fp32. */
float rt_float_at(const void *p, int dtype, size_t i);
/* Store @v as element @i of F32, F16 or BF16 data, rounded to nearest even. */
void rt_float_set(void *p, int dtype, size_t i, float v);
/* @v as BF16, rounded once to nearest even. */
uint16_t rt_int_to_bfloat(int64_t v);

/* Attributes of a node. */
const Onnx__AttributeProto *rt_attr(const struct rt_node *nd, const char *name);
/* -EOPNOTSUPP naming the first attribute not in the NULL-terminated @known. */
int rt_attr_check(const struct rt_node *nd, const char *const *known,
		  struct eia_runner_error *err);
int rt_attr_int(const struct rt_node *nd, const char *name, int64_t def,
		int64_t *val, struct eia_runner_error *err);
int rt_attr_float(const struct rt_node *nd, const char *name, float def,
		  float *val, struct eia_runner_error *err);
/* Up to @max ints; *@n is -1 when the attribute is absent. */
int rt_attr_ints(const struct rt_node *nd, const char *name, int64_t *vals,
		 int max, int *n, struct eia_runner_error *err);
/* The string, or @def when absent. */
int rt_attr_string(const struct rt_node *nd, const char *name,
		   const char *def, char *buf, size_t len,
		   struct eia_runner_error *err);

/* model.c */
int rt_tensor_add(struct eia_model *m, const char *name, int *index);
/* A new RT_CONST tensor owning @data (taken even on failure). */
int rt_const_add(struct eia_model *m, const char *base, int dtype,
		 const struct rt_shape *shape, void *data, int *index,
		 struct eia_runner_error *err);
/* Tensor of node input @i, or NULL when omitted or past the end. */
struct rt_tensor *rt_in(struct eia_model *m, const struct rt_node *nd, int i);
struct rt_tensor *rt_out(struct eia_model *m, const struct rt_node *nd, int i);

/* tensor.c: a whole file into memory (freed by the caller). */
int rt_read_file(const char *path, void **buf, size_t *len,
		 struct eia_runner_error *err);
/* tensor.c: TensorProto -> dtype, shape and data (pointing into @tp). */
int rt_tensor_proto_decode(const Onnx__TensorProto *tp, const char *what,
			   int *dtype, struct rt_shape *shape,
			   const void **data, size_t *nbytes, void **owned,
			   struct eia_runner_error *err);

/* shape.c */
int rt_infer_node(struct eia_model *m, struct rt_node *nd,
		  struct eia_runner_error *err);
/* Integer values of constant input @i (I64 or I32), at most @max. */
int rt_const_ints(struct eia_model *m, const struct rt_node *nd, int i,
		  const char *what, int64_t *vals, int max, int *n,
		  struct eia_runner_error *err);
/* ONNX broadcasting of @a and @b into @out (may be either); false if not. */
bool rt_broadcast(const struct rt_shape *a, const struct rt_shape *b,
		  struct rt_shape *out);
/* Axis in [-rank, rank) made non-negative; -1 when out of range. */
int rt_axis(int64_t axis, int rank);
/* Resolved Slice parameters: per-dim start and step, output dims. */
struct rt_slice {
	int64_t start[EIA_MAX_DIMS];
	int64_t step[EIA_MAX_DIMS];
};
int rt_slice_params(struct eia_model *m, const struct rt_node *nd,
		    struct rt_slice *sl, struct eia_slice_attr *attr,
		    struct rt_shape *out, struct eia_runner_error *err);
/* Split sizes of each output along the resolved axis. */
int rt_split_params(struct eia_model *m, const struct rt_node *nd, int *axis,
		    int64_t *sizes, struct eia_runner_error *err);
/* Attributes decoded and checked as the operators want them. */
int rt_transpose_perm(const struct rt_node *nd, int rank, int64_t *perm,
		      struct eia_runner_error *err);
int rt_reduce_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_reduce_attr *attr, struct eia_runner_error *err);
/* 1-D (as 2-D over a unit height) and 2-D Conv and pools. */
int rt_conv_attr(struct eia_model *m, const struct rt_node *nd,
		 struct eia_conv2d_attr *attr, struct eia_runner_error *err);
int rt_conv3d_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_conv3d_attr *attr, struct eia_runner_error *err);
int rt_pool_attr(struct eia_model *m, const struct rt_node *nd,
		 struct eia_pool2d_attr *attr, struct eia_runner_error *err);
int rt_pool3d_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_pool3d_attr *attr, struct eia_runner_error *err);
/* CumSum's axis (input 1), resolved; Tile's repeats (input 1), one per dim. */
int rt_cumsum_axis(struct eia_model *m, const struct rt_node *nd, int *axis,
		   struct eia_runner_error *err);
int rt_tile_repeats(struct eia_model *m, const struct rt_node *nd, int64_t *repeats,
		    struct eia_runner_error *err);
/* Resize and Upsample: scales or sizes (constants) and modes, resolved. */
int rt_resize_attr(struct eia_model *m, const struct rt_node *nd,
		   struct eia_resize_attr *attr, struct eia_runner_error *err);
/* ConvTranspose: auto_pad and output_shape resolved into pads. */
int rt_conv_transpose_attr(struct eia_model *m, const struct rt_node *nd,
			   struct eia_conv_transpose_attr *attr,
			   struct eia_runner_error *err);
/* Trilu's diagonal offset (input 1), 0 when absent. */
int rt_trilu_k(struct eia_model *m, const struct rt_node *nd, int64_t *k,
	       struct eia_runner_error *err);
/* Pad's pads, per dim (begins then ends, 2 * rank), and its mode. */
int rt_pad_params(struct eia_model *m, const struct rt_node *nd, int64_t *pads,
		  char *mode, size_t mode_len, struct eia_runner_error *err);

/* fold.c */
bool rt_foldable(struct eia_model *m, const struct rt_node *nd);
int rt_fold_node(struct eia_model *m, struct rt_node *nd,
		 struct eia_runner_error *err);
/* BatchNormalization into the Conv before it, zero Pad into the Conv after. */
int rt_merge_nodes(struct eia_model *m, struct eia_runner_error *err);

/* lower.c */
int rt_lower(struct eia_model *m, struct eia_runner_error *err);

/* plan.c */
int rt_plan_memory(struct eia_model *m, struct eia_runner_error *err);
/* The tensor owning @t's storage (following views). */
int rt_root(const struct eia_model *m, int t);

#endif /* EIA_RUNNER_INTERNAL_H */
