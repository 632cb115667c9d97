// SPDX-License-Identifier: MIT
/*
 * Loading a model: the protobuf becomes a graph of tensors and nodes, which
 * is checked (every tensor defined once, every input defined, initializers
 * whose data matches their dims, declared shapes within bounds) and sorted
 * topologically, which finds cycles. eia_model_prepare() then runs the
 * later stages in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rt_tensor_add(struct eia_model *m, const char *name, int *index)
{
	struct rt_tensor *t;
	int ret;

	if (m->nt == m->capt) {
		int cap = m->capt ? m->capt * 2 : 256;

		t = realloc(m->t, (size_t)cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		m->t = t;
		m->capt = cap;
	}
	t = &m->t[m->nt];
	memset(t, 0, sizeof(*t));
	t->producer = -1;
	t->alias = -1;
	t->shape.ndim = -1;
	t->name = rt_strdup(name);
	if (!t->name)
		return -ENOMEM;
	ret = rt_map_put(&m->map, t->name, m->nt);
	if (ret) {
		free(t->name);
		return ret;
	}
	*index = m->nt++;
	return 0;
}

/* A fresh tensor named after @base, made unique with a counter. */
static int rt_tensor_add_unique(struct eia_model *m, const char *base, int *index)
{
	char name[256];
	int k, ret;

	for (k = 0;; k++) {
		snprintf(name, sizeof(name), "%.200s#%d", base, k);
		ret = rt_tensor_add(m, name, index);
		if (ret != -EEXIST)
			return ret;
	}
}

int rt_const_add(struct eia_model *m, const char *base, int dtype,
		 const struct rt_shape *shape, void *data, int *index,
		 struct eia_runner_error *err)
{
	struct rt_tensor *t;
	int64_t n = rt_shape_numel(shape, dtype);

	if (n < 0 || rt_tensor_add_unique(m, base, index)) {
		free(data);
		return rt_fail(err, n < 0 ? EFBIG : ENOMEM,
			       "constant for '%s': %s", base,
			       n < 0 ? "too large" : "out of memory");
	}
	t = &m->t[*index];
	t->kind = RT_CONST;
	t->dtype = dtype;
	t->shaped = true;
	t->shape = *shape;
	t->data = data;
	t->owns_data = true;
	t->nbytes = (size_t)n * rt_dtype_size(dtype);
	return 0;
}

struct rt_tensor *rt_in(struct eia_model *m, const struct rt_node *nd, int i)
{
	if (i >= nd->nin || nd->in[i] < 0)
		return NULL;
	return &m->t[nd->in[i]];
}

struct rt_tensor *rt_out(struct eia_model *m, const struct rt_node *nd, int i)
{
	if (i >= nd->nout || nd->out[i] < 0)
		return NULL;
	return &m->t[nd->out[i]];
}

static int rt_load_opset(struct eia_model *m, struct eia_runner_error *err)
{
	const Onnx__ModelProto *p = m->proto;
	size_t i;

	for (i = 0; i < p->n_opset_import; i++) {
		const char *d = p->opset_import[i]->domain;

		if (!d || !*d || !strcmp(d, "ai.onnx"))
			m->opset = p->opset_import[i]->version;
	}
	if (!m->opset && p->n_opset_import && p->opset_import[0]->domain)
		return rt_fail(err, EOPNOTSUPP, "model imports only domain '%s', not ai.onnx",
			       p->opset_import[0]->domain);
	if (!m->opset)
		return rt_fail(err, EINVAL, "model imports no ai.onnx opset");
	if (m->opset < RT_OPSET_MIN || m->opset > RT_OPSET_MAX)
		return rt_fail(err, EOPNOTSUPP,
			       "opset %lld is not supported (%d..%d are)",
			       (long long)m->opset, RT_OPSET_MIN, RT_OPSET_MAX);
	return 0;
}

static int rt_load_initializers(struct eia_model *m, struct eia_runner_error *err)
{
	const Onnx__GraphProto *g = m->proto->graph;
	size_t i;

	if (g->n_sparse_initializer)
		return rt_fail(err, EOPNOTSUPP, "sparse initializers are not supported");
	for (i = 0; i < g->n_initializer; i++) {
		const Onnx__TensorProto *tp = g->initializer[i];
		struct rt_tensor *t;
		const void *data;
		void *owned;
		int idx, ret;

		if (!tp->name || !*tp->name)
			return rt_fail(err, EINVAL, "initializer %zu has no name", i);
		ret = rt_tensor_add(m, tp->name, &idx);
		if (ret == -EEXIST)
			return rt_fail(err, EINVAL, "initializer '%s' is defined twice",
				       tp->name);
		if (ret)
			return rt_fail(err, ENOMEM, "out of memory");
		t = &m->t[idx];
		t->kind = RT_CONST;
		t->shaped = true;
		ret = rt_tensor_proto_decode(tp, "initializer", &t->dtype, &t->shape,
					     &data, &t->nbytes, &owned, err);
		if (ret)
			return ret;
		t->data = (void *)data;
		t->owns_data = owned != NULL;
	}
	return 0;
}

static int rt_load_value_info(struct rt_tensor *t, const Onnx__ValueInfoProto *vi,
			      struct eia_runner_error *err)
{
	const Onnx__TypeProto *tp = vi->type;
	const Onnx__TensorShapeProto *sp;
	size_t i;

	if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
	    !tp->tensor_type)
		return rt_fail(err, EOPNOTSUPP, "input '%s' is not a tensor", t->name);
	t->dtype = rt_dtype_from_onnx(tp->tensor_type->elem_type);
	if (!t->dtype)
		return rt_fail(err, EOPNOTSUPP, "input '%s': dtype %s is not supported",
			       t->name, rt_onnx_type_name(tp->tensor_type->elem_type));
	sp = tp->tensor_type->shape;
	if (!sp)
		return 0;
	if (sp->n_dim > EIA_MAX_DIMS)
		return rt_fail(err, EOPNOTSUPP, "input '%s': rank %zu is above %d",
			       t->name, sp->n_dim, EIA_MAX_DIMS);
	t->shape.ndim = (int)sp->n_dim;
	t->shaped = true;
	for (i = 0; i < sp->n_dim; i++) {
		const Onnx__TensorShapeProto__Dimension *d = sp->dim[i];

		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
			if (d->dim_value < 0 || (uint64_t)d->dim_value > RT_MAX_TENSOR_BYTES)
				return rt_fail(err, EINVAL, "input '%s': absurd dim %lld",
					       t->name, (long long)d->dim_value);
			t->shape.d[i] = d->dim_value;
		} else {
			t->shape.d[i] = -1;
			t->shaped = false;
		}
	}
	if (t->shaped && rt_shape_numel(&t->shape, t->dtype) < 0)
		return rt_fail(err, EINVAL, "input '%s': absurd dims", t->name);
	return 0;
}

static int rt_load_inputs(struct eia_model *m, struct eia_runner_error *err)
{
	const Onnx__GraphProto *g = m->proto->graph;
	size_t i;
	int ret;

	m->inputs = calloc(g->n_input + 1, sizeof(*m->inputs));
	if (!m->inputs)
		return rt_fail(err, ENOMEM, "out of memory");
	for (i = 0; i < g->n_input; i++) {
		const Onnx__ValueInfoProto *vi = g->input[i];
		int idx;

		if (!vi->name || !*vi->name)
			return rt_fail(err, EINVAL, "graph input %zu has no name", i);
		/* An initializer listed as an input (IR < 4) is a constant. */
		if (rt_map_get(&m->map, vi->name) >= 0) {
			if (m->t[rt_map_get(&m->map, vi->name)].kind == RT_CONST)
				continue;
			return rt_fail(err, EINVAL, "graph input '%s' is listed twice",
				       vi->name);
		}
		if (rt_tensor_add(m, vi->name, &idx))
			return rt_fail(err, ENOMEM, "out of memory");
		m->t[idx].kind = RT_INPUT;
		ret = rt_load_value_info(&m->t[idx], vi, err);
		if (ret)
			return ret;
		m->inputs[m->ninputs++] = idx;
	}
	return 0;
}

static int rt_node_label(struct rt_node *nd, size_t index)
{
	char buf[32];

	if (nd->proto->name && *nd->proto->name) {
		nd->label = rt_strdup(nd->proto->name);
	} else {
		snprintf(buf, sizeof(buf), "#%zu", index);
		nd->label = rt_strdup(buf);
	}
	return nd->label ? 0 : -ENOMEM;
}

/* Every node output becomes a tensor first, so inputs may refer forward. */
static int rt_load_node_outputs(struct eia_model *m, struct eia_runner_error *err)
{
	const Onnx__GraphProto *g = m->proto->graph;
	size_t i, j;

	m->n = calloc(g->n_node + 1, sizeof(*m->n));
	if (!m->n)
		return rt_fail(err, ENOMEM, "out of memory");
	for (i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *p = g->node[i];
		struct rt_node *nd = &m->n[i];
		const char *dom = p->domain;

		nd->proto = p;
		m->nn++;
		if (rt_node_label(nd, i))
			return rt_fail(err, ENOMEM, "out of memory");
		nd->op = p->op_type ? p->op_type : "";
		if (!*nd->op)
			return rt_node_fail(err, EINVAL, nd, "node without an op_type");
		if (dom && *dom && strcmp(dom, "ai.onnx"))
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "operator domain '%s' is not supported", dom);
		if (p->n_input > EIA_OP_MAX_IO + 4 || p->n_output > EIA_OP_MAX_IO)
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "%zu inputs and %zu outputs: too many",
					    p->n_input, p->n_output);
		nd->nin = (int)p->n_input;
		nd->nout = (int)p->n_output;
		nd->in = calloc(p->n_input + 1, sizeof(int));
		nd->out = calloc(p->n_output + 1, sizeof(int));
		if (!nd->in || !nd->out)
			return rt_fail(err, ENOMEM, "out of memory");
		for (j = 0; j < p->n_output; j++) {
			const char *name = p->output[j];
			int idx, ret;

			nd->out[j] = -1;
			if (!name || !*name)
				continue;
			ret = rt_tensor_add(m, name, &idx);
			if (ret == -EEXIST)
				return rt_node_fail(err, EINVAL, nd,
						    "output '%s' is already defined (by another node, an initializer or a graph input)",
						    name);
			if (ret)
				return rt_fail(err, ENOMEM, "out of memory");
			m->t[idx].producer = (int)i;
			nd->out[j] = idx;
		}
	}
	return 0;
}

static int rt_load_node_inputs(struct eia_model *m, struct eia_runner_error *err)
{
	int i, j;

	for (i = 0; i < m->nn; i++) {
		struct rt_node *nd = &m->n[i];

		for (j = 0; j < nd->nin; j++) {
			const char *name = nd->proto->input[j];

			nd->in[j] = -1;
			if (!name || !*name)
				continue;
			nd->in[j] = rt_map_get(&m->map, name);
			if (nd->in[j] < 0)
				return rt_node_fail(err, EINVAL, nd,
						    "input '%s' is not produced by any node, nor an initializer or graph input (missing initializer?)",
						    name);
		}
	}
	return 0;
}

static int rt_load_outputs(struct eia_model *m, struct eia_runner_error *err)
{
	const Onnx__GraphProto *g = m->proto->graph;
	size_t i;

	if (!g->n_output)
		return rt_fail(err, EINVAL, "the graph has no outputs");
	m->outputs = calloc(g->n_output, sizeof(*m->outputs));
	if (!m->outputs)
		return rt_fail(err, ENOMEM, "out of memory");
	for (i = 0; i < g->n_output; i++) {
		const char *name = g->output[i]->name;
		int idx = name ? rt_map_get(&m->map, name) : -1;

		if (idx < 0)
			return rt_fail(err, EINVAL,
				       "graph output '%s' is not produced by any node",
				       name ? name : "");
		m->t[idx].is_output = true;
		m->outputs[m->noutputs++] = idx;
	}
	return 0;
}

/* A node on a cycle: walk back through unsorted producers until one repeats. */
static int rt_cycle_node(const struct eia_model *m, const int *indeg)
{
	unsigned char *seen = calloc((size_t)m->nn, 1);
	int cur = 0, j;

	while (cur < m->nn && !indeg[cur])
		cur++;
	if (!seen)
		return cur;
	while (!seen[cur]) {
		const struct rt_node *nd = &m->n[cur];

		seen[cur] = 1;
		for (j = 0; j < nd->nin; j++) {
			int p = nd->in[j] < 0 ? -1 : m->t[nd->in[j]].producer;

			if (p >= 0 && indeg[p]) {
				cur = p;
				break;
			}
		}
	}
	free(seen);
	return cur;
}

/*
 * Kahn's algorithm, taking ready nodes in file order so that an already
 * sorted graph keeps its order.
 */
static int rt_sort(struct eia_model *m, struct eia_runner_error *err)
{
	int *indeg = calloc((size_t)m->nn + 1, sizeof(int));
	int *start = calloc((size_t)m->nt + 1, sizeof(int));
	int *users = NULL, *fill = NULL;
	int i, j, k, head = 0, tail = 0, nedges = 0, ret = 0;

	m->order = calloc((size_t)m->nn + 1, sizeof(int));
	if (!indeg || !start || !m->order)
		goto nomem;
	/* Consumers of each tensor, as a compressed row table. */
	for (i = 0; i < m->nn; i++)
		for (j = 0; j < m->n[i].nin; j++)
			if (m->n[i].in[j] >= 0 && m->t[m->n[i].in[j]].producer >= 0) {
				start[m->n[i].in[j] + 1]++;
				indeg[i]++;
				nedges++;
			}
	for (k = 0; k < m->nt; k++)
		start[k + 1] += start[k];
	users = malloc(((size_t)nedges + 1) * sizeof(int));
	fill = calloc((size_t)m->nt + 1, sizeof(int));
	if (!users || !fill)
		goto nomem;
	for (i = 0; i < m->nn; i++)
		for (j = 0; j < m->n[i].nin; j++) {
			int t = m->n[i].in[j];

			if (t >= 0 && m->t[t].producer >= 0)
				users[start[t] + fill[t]++] = i;
		}
	for (i = 0; i < m->nn; i++)
		if (!indeg[i])
			m->order[tail++] = i;
	while (head < tail) {
		const struct rt_node *nd = &m->n[m->order[head++]];

		for (j = 0; j < nd->nout; j++) {
			int t = nd->out[j];

			if (t < 0)
				continue;
			for (k = start[t]; k < start[t + 1]; k++)
				if (!--indeg[users[k]])
					m->order[tail++] = users[k];
		}
	}
	if (tail < m->nn) {
		const struct rt_node *nd = &m->n[rt_cycle_node(m, indeg)];

		ret = rt_node_fail(err, EINVAL, nd,
				   "the graph has a cycle through this node (%d of %d nodes cannot be ordered)",
				   m->nn - tail, m->nn);
	}
	free(indeg);
	free(start);
	free(users);
	free(fill);
	return ret;
nomem:
	free(indeg);
	free(start);
	free(users);
	free(fill);
	return rt_fail(err, ENOMEM, "out of memory");
}

static int rt_build(struct eia_model *m, struct eia_runner_error *err)
{
	int ret;

	if (!m->proto->graph)
		return rt_fail(err, EINVAL, "model has no graph");
	if (m->proto->n_functions)
		return rt_fail(err, EOPNOTSUPP, "model-local functions are not supported");
	ret = rt_load_opset(m, err);
	if (!ret)
		ret = rt_load_initializers(m, err);
	if (!ret)
		ret = rt_load_inputs(m, err);
	if (!ret)
		ret = rt_load_node_outputs(m, err);
	if (!ret)
		ret = rt_load_node_inputs(m, err);
	if (!ret)
		ret = rt_load_outputs(m, err);
	if (!ret)
		ret = rt_sort(m, err);
	return ret;
}

int eia_model_open_buffer(const void *buf, size_t len, struct eia_model **model,
			  struct eia_runner_error *err)
{
	struct eia_model *m;
	int ret;

	*model = NULL;
	if (!len)
		return rt_fail(err, EINVAL, "empty model");
	m = calloc(1, sizeof(*m));
	if (!m)
		return rt_fail(err, ENOMEM, "out of memory");
	m->proto = onnx__model_proto__unpack(NULL, len, buf);
	if (!m->proto) {
		free(m);
		return rt_fail(err, EINVAL,
			       "not an ONNX model: the protobuf does not parse (truncated or corrupt)");
	}
	ret = rt_build(m, err);
	if (ret) {
		eia_model_close(m);
		return ret;
	}
	*model = m;
	return 0;
}

int eia_model_open(const char *path, struct eia_model **model,
		   struct eia_runner_error *err)
{
	void *buf;
	size_t len;
	int ret;

	*model = NULL;
	ret = rt_read_file(path, &buf, &len, err);
	if (ret)
		return ret;
	ret = eia_model_open_buffer(buf, len, model, err);
	free(buf);
	if (ret && err) {
		char msg[EIA_RUNNER_ERROR_MAX];

		snprintf(msg, sizeof(msg), "%.200s: %.300s", path, err->msg);
		memcpy(err->msg, msg, sizeof(msg));
	}
	return ret;
}

void eia_model_close(struct eia_model *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < m->nt; i++) {
		free(m->t[i].name);
		if (m->t[i].owns_data)
			free(m->t[i].data);
	}
	for (i = 0; i < m->nn; i++) {
		free(m->n[i].label);
		free(m->n[i].in);
		free(m->n[i].out);
	}
	for (i = 0; i < m->nsteps; i++) {
		free(m->steps[i].in);
		free(m->steps[i].out);
		free(m->steps[i].attr);
	}
	free(m->t);
	free(m->n);
	free(m->order);
	free(m->inputs);
	free(m->outputs);
	free(m->steps);
	free(m->intervals);
	rt_map_free(&m->map);
	if (m->proto)
		onnx__model_proto__free_unpacked(m->proto, NULL);
	free(m);
}

static int rt_find_input(const struct eia_model *m, const char *name)
{
	int i;

	for (i = 0; i < m->ninputs; i++)
		if (!strcmp(m->t[m->inputs[i]].name, name))
			return m->inputs[i];
	return -1;
}

int eia_model_set_input_shape(struct eia_model *m, const char *name, int ndim,
			      const int64_t *dims, struct eia_runner_error *err)
{
	struct rt_tensor *t;
	struct rt_shape s;
	int idx, i;

	if (m->prepared)
		return rt_fail(err, EBUSY, "the model is already prepared");
	idx = rt_find_input(m, name);
	if (idx < 0)
		return rt_fail(err, ENOENT, "the model has no input '%s'", name);
	t = &m->t[idx];
	if (t->kind == RT_CONST)
		return rt_fail(err, EINVAL, "input '%s' is already bound to a constant", name);
	if (ndim < 0 || ndim > EIA_MAX_DIMS)
		return rt_fail(err, EINVAL, "input '%s': rank %d out of range", name, ndim);
	if (t->shape.ndim >= 0 && t->shape.ndim != ndim)
		return rt_fail(err, EINVAL, "input '%s' has rank %d, not %d", name,
			       t->shape.ndim, ndim);
	s.ndim = ndim;
	for (i = 0; i < ndim; i++) {
		s.d[i] = dims[i];
		if (t->shape.ndim >= 0 && t->shape.d[i] >= 0 && t->shape.d[i] != dims[i])
			return rt_fail(err, EINVAL,
				       "input '%s': dim %d is %lld in the model, not %lld",
				       name, i, (long long)t->shape.d[i], (long long)dims[i]);
	}
	if (rt_shape_numel(&s, t->dtype) < 0)
		return rt_fail(err, EINVAL, "input '%s': absurd dims", name);
	t->shape = s;
	t->shaped = true;
	return 0;
}

int eia_model_set_input_constant(struct eia_model *m,
				 const struct eia_host_tensor *value,
				 struct eia_runner_error *err)
{
	struct rt_tensor *t;
	void *data;
	int idx, ret;

	if (!value->name)
		return rt_fail(err, EINVAL, "the value has no name");
	ret = eia_model_set_input_shape(m, value->name, value->ndim, value->dims, err);
	if (ret)
		return ret;
	idx = rt_find_input(m, value->name);
	t = &m->t[idx];
	if (value->dtype != t->dtype || value->size != rt_bytes_of(t) ||
	    (value->size && !value->data))
		return rt_fail(err, EINVAL, "input '%s' is %s of %llu bytes, not %s of %zu",
			       t->name, eia_dtype_name(t->dtype),
			       (unsigned long long)rt_bytes_of(t),
			       eia_dtype_name(value->dtype), value->size);
	data = malloc(value->size + 1);
	if (!data)
		return rt_fail(err, ENOMEM, "out of memory");
	if (value->size)
		memcpy(data, value->data, value->size);
	t->kind = RT_CONST;
	t->data = data;
	t->owns_data = true;
	t->nbytes = value->size;
	return 0;
}

static int rt_check_inputs_bound(struct eia_model *m, struct eia_runner_error *err)
{
	int i, j;

	for (i = 0; i < m->ninputs; i++) {
		const struct rt_tensor *t = &m->t[m->inputs[i]];

		if (t->shaped)
			continue;
		if (t->shape.ndim < 0)
			return rt_fail(err, EINVAL,
				       "input '%s' declares no shape: set it with eia_model_set_input_shape()",
				       t->name);
		for (j = 0; j < t->shape.ndim && t->shape.d[j] >= 0; j++)
			;
		return rt_fail(err, EINVAL,
			       "input '%s': dim %d is symbolic: set the shape with eia_model_set_input_shape()",
			       t->name, j);
	}
	return 0;
}

/* Nodes no graph output depends on are dropped, whatever their op. */
static void rt_mark_live(struct eia_model *m)
{
	int i, j;

	for (i = 0; i < m->noutputs; i++)
		m->t[m->outputs[i]].needed = true;
	for (i = m->nn - 1; i >= 0; i--) {
		struct rt_node *nd = &m->n[m->order[i]];

		for (j = 0; j < nd->nout; j++)
			if (nd->out[j] >= 0 && m->t[nd->out[j]].needed)
				nd->live = true;
		if (!nd->live) {
			m->ndead++;
			continue;
		}
		for (j = 0; j < nd->nin; j++)
			if (nd->in[j] >= 0)
				m->t[nd->in[j]].needed = true;
	}
}

int eia_model_prepare(struct eia_model *m, struct eia_runner_error *err)
{
	int i, ret;

	if (m->prepared)
		return 0;
	/* A failed prepare leaves the graph half rewritten. */
	if (m->prepare_failed)
		return rt_fail(err, EINVAL, "an earlier eia_model_prepare() failed");
	m->prepare_failed = true;
	ret = rt_check_inputs_bound(m, err);
	if (ret)
		return ret;
	rt_mark_live(m);
	for (i = 0; i < m->nn; i++) {
		struct rt_node *nd = &m->n[m->order[i]];

		if (!nd->live)
			continue;
		ret = rt_infer_node(m, nd, err);
		if (!ret && rt_foldable(m, nd))
			ret = rt_fold_node(m, nd, err);
		if (ret)
			return ret;
	}
	ret = rt_merge_nodes(m, err);
	if (!ret)
		ret = rt_lower(m, err);
	if (!ret)
		ret = rt_plan_memory(m, err);
	if (!ret) {
		m->prepared = true;
		m->prepare_failed = false;
	}
	return ret;
}

int eia_model_num_inputs(const struct eia_model *m)
{
	return m->ninputs;
}

int eia_model_num_outputs(const struct eia_model *m)
{
	return m->noutputs;
}

static void rt_info(const struct rt_tensor *t, struct eia_host_tensor *info)
{
	int64_t n;
	int i;

	memset(info, 0, sizeof(*info));
	info->name = t->name;
	info->dtype = t->dtype;
	info->ndim = t->shape.ndim;
	for (i = 0; i < t->shape.ndim && i < EIA_MAX_DIMS; i++)
		info->dims[i] = t->shaped ? t->shape.d[i] : -1;
	n = t->shaped ? rt_shape_numel(&t->shape, t->dtype) : -1;
	info->size = n < 0 ? 0 : (size_t)n * rt_dtype_size(t->dtype);
}

int eia_model_input(const struct eia_model *m, int index, struct eia_host_tensor *info)
{
	if (index < 0 || index >= m->ninputs)
		return -ENOENT;
	rt_info(&m->t[m->inputs[index]], info);
	return 0;
}

int eia_model_output(const struct eia_model *m, int index, struct eia_host_tensor *info)
{
	if (index < 0 || index >= m->noutputs)
		return -ENOENT;
	rt_info(&m->t[m->outputs[index]], info);
	return 0;
}

int eia_model_stats(const struct eia_model *m, struct eia_plan_stats *st)
{
	if (!m->prepared)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->opset = m->opset;
	st->nodes = m->nn;
	st->folded = m->nfolded;
	st->views = m->nviews;
	st->merged = m->nmerged;
	st->dead = m->ndead;
	st->steps = m->nsteps;
	st->constants = m->nconstants;
	st->weights_bytes = m->weights_bytes;
	st->arena_bytes = m->arena_bytes;
	st->naive_bytes = m->naive_bytes;
	return 0;
}

const struct eia_plan_interval *eia_model_plan(const struct eia_model *m, int *count)
{
	*count = m->prepared ? m->nintervals : 0;
	return m->prepared ? m->intervals : NULL;
}

int eia_model_step(const struct eia_model *m, int index, int *op, const char **node)
{
	if (!m->prepared || index < 0 || index >= m->nsteps)
		return -ENOENT;
	*op = m->steps[index].op;
	*node = m->n[m->steps[index].node].label;
	return 0;
}
