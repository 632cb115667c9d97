// SPDX-License-Identifier: MIT
#include "modelgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mg {
	Onnx__ModelProto model;
	Onnx__GraphProto graph;
	Onnx__OperatorSetIdProto opset;
	Onnx__OperatorSetIdProto *opsets[1];
	void **allocs;
	size_t nallocs, cap;
};

static void *mg_alloc(struct mg *g, size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p || (g->nallocs == g->cap &&
		   !(g->allocs = realloc(g->allocs, (g->cap = g->cap * 2 + 16) * sizeof(void *))))) {
		fprintf(stderr, "modelgen: out of memory\n");
		abort();
	}
	g->allocs[g->nallocs++] = p;
	return p;
}

static char *mg_strdup(struct mg *g, const char *s)
{
	char *p = mg_alloc(g, strlen(s) + 1);

	memcpy(p, s, strlen(s));
	return p;
}

/* Append @item to the protobuf array @arr of @n entries. */
static void mg_push(struct mg *g, void ***arr, size_t *n, void *item)
{
	void **a = mg_alloc(g, (*n + 1) * sizeof(void *));

	if (*n)
		memcpy(a, *arr, *n * sizeof(void *));
	a[(*n)++] = item;
	*arr = a;
}

struct mg *mg_new(int64_t opset)
{
	struct mg *g = calloc(1, sizeof(*g));

	if (!g)
		abort();
	onnx__model_proto__init(&g->model);
	onnx__graph_proto__init(&g->graph);
	onnx__operator_set_id_proto__init(&g->opset);
	g->model.has_ir_version = 1;
	g->model.ir_version = 8;
	g->opset.has_version = 1;
	g->opset.version = opset;
	g->opset.domain = "";
	g->opsets[0] = &g->opset;
	g->model.n_opset_import = 1;
	g->model.opset_import = g->opsets;
	g->model.graph = &g->graph;
	g->graph.name = "test";
	return g;
}

void mg_free(struct mg *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->nallocs; i++)
		free(g->allocs[i]);
	free(g->allocs);
	free(g);
}

static Onnx__ValueInfoProto *mg_value_info(struct mg *g, const char *name, int32_t type,
					   int ndim, const int64_t *dims)
{
	Onnx__ValueInfoProto *vi = mg_alloc(g, sizeof(*vi));
	Onnx__TypeProto *tp = mg_alloc(g, sizeof(*tp));
	Onnx__TypeProto__Tensor *tt = mg_alloc(g, sizeof(*tt));
	Onnx__TensorShapeProto *sp = mg_alloc(g, sizeof(*sp));
	int i;

	onnx__value_info_proto__init(vi);
	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	onnx__tensor_shape_proto__init(sp);
	vi->name = mg_strdup(g, name);
	vi->type = tp;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = type;
	if (ndim < 0)
		return vi;
	tt->shape = sp;
	for (i = 0; i < ndim; i++) {
		Onnx__TensorShapeProto__Dimension *d = mg_alloc(g, sizeof(*d));

		onnx__tensor_shape_proto__dimension__init(d);
		if (dims[i] == MG_SYM) {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			d->dim_param = mg_strdup(g, "sym");
		} else {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i];
		}
		mg_push(g, (void ***)&sp->dim, &sp->n_dim, d);
	}
	return vi;
}

void mg_input(struct mg *g, const char *name, int32_t type, int ndim, const int64_t *dims)
{
	mg_push(g, (void ***)&g->graph.input, &g->graph.n_input,
		mg_value_info(g, name, type, ndim, dims));
}

void mg_output(struct mg *g, const char *name)
{
	mg_push(g, (void ***)&g->graph.output, &g->graph.n_output,
		mg_value_info(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, -1, NULL));
}

Onnx__TensorProto *mg_tensor(struct mg *g, int32_t type, int ndim, const int64_t *dims,
			     const void *data, size_t bytes)
{
	Onnx__TensorProto *t = mg_alloc(g, sizeof(*t));

	onnx__tensor_proto__init(t);
	t->has_data_type = 1;
	t->data_type = type;
	t->n_dims = (size_t)ndim;
	t->dims = mg_alloc(g, (size_t)ndim * sizeof(int64_t) + 1);
	if (ndim)
		memcpy(t->dims, dims, (size_t)ndim * sizeof(int64_t));
	t->has_raw_data = 1;
	t->raw_data.len = bytes;
	t->raw_data.data = mg_alloc(g, bytes);
	if (data)
		memcpy(t->raw_data.data, data, bytes);
	return t;
}

Onnx__TensorProto *mg_init(struct mg *g, const char *name, int32_t type, int ndim,
			   const int64_t *dims, const void *data, size_t bytes)
{
	Onnx__TensorProto *t = mg_tensor(g, type, ndim, dims, data, bytes);

	t->name = mg_strdup(g, name);
	mg_push(g, (void ***)&g->graph.initializer, &g->graph.n_initializer, t);
	return t;
}

static size_t mg_count(int ndim, const int64_t *dims)
{
	size_t n = 1;
	int i;

	for (i = 0; i < ndim; i++)
		n *= (size_t)dims[i];
	return n;
}

Onnx__TensorProto *mg_init_f32(struct mg *g, const char *name, int ndim,
			       const int64_t *dims, const float *data)
{
	return mg_init(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, ndim, dims, data,
		       mg_count(ndim, dims) * sizeof(float));
}

Onnx__TensorProto *mg_init_i64(struct mg *g, const char *name, int ndim,
			       const int64_t *dims, const int64_t *data)
{
	return mg_init(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, ndim, dims, data,
		       mg_count(ndim, dims) * sizeof(int64_t));
}

/* Split "a,b,,c" into a protobuf string array; empty names stay empty. */
static void mg_names(struct mg *g, const char *list, char ***arr, size_t *n)
{
	const char *p = list;

	*n = 0;
	*arr = NULL;
	if (!*list)
		return;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *s = mg_alloc(g, len + 1);

		memcpy(s, p, len);
		mg_push(g, (void ***)arr, n, s);
		if (!e)
			return;
		p = e + 1;
	}
}

Onnx__NodeProto *mg_node(struct mg *g, const char *op, const char *name,
			 const char *ins, const char *outs)
{
	Onnx__NodeProto *n = mg_alloc(g, sizeof(*n));

	onnx__node_proto__init(n);
	n->op_type = mg_strdup(g, op);
	n->name = mg_strdup(g, name);
	mg_names(g, ins, &n->input, &n->n_input);
	mg_names(g, outs, &n->output, &n->n_output);
	mg_push(g, (void ***)&g->graph.node, &g->graph.n_node, n);
	return n;
}

static Onnx__AttributeProto *mg_attr(struct mg *g, Onnx__NodeProto *n, const char *name,
				     Onnx__AttributeProto__AttributeType type)
{
	Onnx__AttributeProto *a = mg_alloc(g, sizeof(*a));

	onnx__attribute_proto__init(a);
	a->name = mg_strdup(g, name);
	a->has_type = 1;
	a->type = type;
	mg_push(g, (void ***)&n->attribute, &n->n_attribute, a);
	return a;
}

void mg_attr_int(struct mg *g, Onnx__NodeProto *n, const char *name, int64_t v)
{
	Onnx__AttributeProto *a = mg_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

	a->has_i = 1;
	a->i = v;
}

void mg_attr_float(struct mg *g, Onnx__NodeProto *n, const char *name, float v)
{
	Onnx__AttributeProto *a = mg_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

	a->has_f = 1;
	a->f = v;
}

void mg_attr_ints(struct mg *g, Onnx__NodeProto *n, const char *name, int cnt,
		  const int64_t *v)
{
	Onnx__AttributeProto *a = mg_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

	a->n_ints = (size_t)cnt;
	a->ints = mg_alloc(g, (size_t)cnt * sizeof(int64_t));
	memcpy(a->ints, v, (size_t)cnt * sizeof(int64_t));
}

void mg_attr_str(struct mg *g, Onnx__NodeProto *n, const char *name, const char *v)
{
	Onnx__AttributeProto *a = mg_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);

	a->has_s = 1;
	a->s.len = strlen(v);
	a->s.data = (uint8_t *)mg_strdup(g, v);
}

void mg_attr_tensor(struct mg *g, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t)
{
	Onnx__AttributeProto *a = mg_attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);

	a->t = t;
}

void *mg_pack(struct mg *g, size_t *len)
{
	void *buf;

	*len = onnx__model_proto__get_packed_size(&g->model);
	buf = malloc(*len + 1);
	if (!buf)
		abort();
	onnx__model_proto__pack(&g->model, buf);
	return buf;
}
