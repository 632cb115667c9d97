// SPDX-License-Identifier: MIT
/*
 * Memory planning. Every tensor the steps touch gets a place:
 *
 *   constants read by a step   the weights region, uploaded once, each at
 *                              its own 64-byte aligned offset (views of a
 *                              constant share it)
 *   everything else            the arena: graph inputs, intermediates and
 *                              graph outputs, which are rewritten at every
 *                              inference
 *
 * A view (Reshape, ...) has no storage of its own: it uses its root's. A
 * root in the arena is live from the step that writes it (-1 for graph
 * inputs, written before the first step) to the last step that reads it or
 * any view of it (the step count for graph outputs, read after the last
 * step). Roots whose live ranges intersect must not share bytes; the others
 * may. Offsets are assigned greedily, largest first, each at the lowest
 * offset that fits between the ones already placed that it overlaps in
 * time: the "greedy by size" plan of TensorFlow Lite's arena planner.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rt_root(const struct eia_model *m, int t)
{
	int hops = 0;

	/* Views form chains, never cycles (each points to an older tensor). */
	while (m->t[t].alias >= 0 && hops++ < m->nt)
		t = m->t[t].alias;
	return t;
}

static uint64_t rt_aligned(uint64_t n)
{
	return (n + RT_ALIGN - 1) & ~(uint64_t)(RT_ALIGN - 1);
}

static int rt_layout_constants(struct eia_model *m, struct eia_runner_error *err)
{
	uint64_t off = 0;
	int i, j;

	for (i = 0; i < m->nsteps; i++) {
		const struct rt_step *s = &m->steps[i];

		for (j = 0; j < s->nin; j++) {
			int r = rt_root(m, s->in[j]);
			struct rt_tensor *t = &m->t[r];

			if (t->kind != RT_CONST || t->region == RT_REGION_WEIGHTS)
				continue;
			t->region = RT_REGION_WEIGHTS;
			t->offset = off;
			if (__builtin_add_overflow(off, rt_aligned(t->nbytes), &off) ||
			    off > RT_MAX_TENSOR_BYTES)
				return rt_fail(err, EFBIG, "constants exceed %llu bytes",
					       (unsigned long long)RT_MAX_TENSOR_BYTES);
			m->nconstants++;
		}
	}
	m->weights_bytes = off;
	return 0;
}

/* Live ranges of the arena roots; returns how many there are. */
static int rt_lifetimes(struct eia_model *m, int *roots)
{
	int n = 0, i, j;

	for (i = 0; i < m->nt; i++) {
		m->t[i].first = m->nsteps + 1;
		m->t[i].last = -2;
	}
	for (i = 0; i < m->ninputs; i++) {
		struct rt_tensor *t = &m->t[m->inputs[i]];

		if (t->needed && t->kind == RT_INPUT) {
			t->first = -1;
			t->last = -1;
		}
	}
	for (i = 0; i < m->nsteps; i++) {
		const struct rt_step *s = &m->steps[i];

		for (j = 0; j < s->nin; j++) {
			struct rt_tensor *t = &m->t[rt_root(m, s->in[j])];

			if (t->last < i)
				t->last = i;
		}
		for (j = 0; j < s->nout; j++) {
			struct rt_tensor *t = &m->t[rt_root(m, s->out[j])];

			if (t->first > i)
				t->first = i;
			if (t->last < i)
				t->last = i;
		}
	}
	for (i = 0; i < m->noutputs; i++) {
		struct rt_tensor *t = &m->t[rt_root(m, m->outputs[i])];

		if (t->kind != RT_CONST)
			t->last = m->nsteps;
	}
	for (i = 0; i < m->nt; i++) {
		struct rt_tensor *t = &m->t[i];

		if (t->alias < 0 && t->kind != RT_CONST && t->last >= -1 &&
		    t->first <= m->nsteps) {
			t->region = RT_REGION_ARENA;
			roots[n++] = i;
		}
	}
	return n;
}

/* An arena root as the planner sees it. */
struct rt_slot {
	uint64_t size;		/* aligned bytes */
	uint64_t offset;
	int first, last;
	int t;
};

static int rt_by_size(const void *a, const void *b)
{
	const struct rt_slot *sa = a, *sb = b;

	if (sa->size != sb->size)
		return sa->size < sb->size ? 1 : -1;
	if (sa->first != sb->first)
		return sa->first < sb->first ? -1 : 1;
	return sa->t - sb->t;
}

static int rt_by_offset(const void *a, const void *b)
{
	const struct rt_slot *sa = *(const struct rt_slot *const *)a;
	const struct rt_slot *sb = *(const struct rt_slot *const *)b;

	if (sa->offset != sb->offset)
		return sa->offset < sb->offset ? -1 : 1;
	return 0;
}

static int rt_assign_offsets(struct eia_model *m, const int *roots, int n,
			     struct eia_runner_error *err)
{
	struct rt_slot *slots = calloc((size_t)n + 1, sizeof(*slots));
	struct rt_slot **clash = malloc(((size_t)n + 1) * sizeof(*clash));
	int i, j;

	if (!slots || !clash) {
		free(slots);
		free(clash);
		return rt_fail(err, ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		const struct rt_tensor *t = &m->t[roots[i]];

		slots[i].size = rt_aligned(rt_bytes_of(t));
		slots[i].first = t->first;
		slots[i].last = t->last;
		slots[i].t = roots[i];
	}
	qsort(slots, (size_t)n, sizeof(*slots), rt_by_size);
	m->arena_bytes = 0;
	m->naive_bytes = 0;
	for (i = 0; i < n; i++) {
		struct rt_slot *s = &slots[i];
		uint64_t off = 0;
		int nc = 0;

		/* Slots before this one are placed; those live with it clash. */
		for (j = 0; j < i; j++)
			if (slots[j].size && slots[j].first <= s->last &&
			    s->first <= slots[j].last)
				clash[nc++] = &slots[j];
		qsort(clash, (size_t)nc, sizeof(*clash), rt_by_offset);
		for (j = 0; j < nc && s->size; j++) {
			if (clash[j]->offset >= off + s->size)
				break;
			if (clash[j]->offset + clash[j]->size > off)
				off = clash[j]->offset + clash[j]->size;
		}
		s->offset = off;
		m->t[s->t].offset = off;
		m->naive_bytes += s->size;
		if (off + s->size > m->arena_bytes)
			m->arena_bytes = off + s->size;
	}
	free(slots);
	free(clash);
	if (m->naive_bytes > RT_MAX_TENSOR_BYTES)
		return rt_fail(err, EFBIG, "the arena would exceed %llu bytes",
			       (unsigned long long)RT_MAX_TENSOR_BYTES);
	return 0;
}

static int rt_export_intervals(struct eia_model *m, const int *roots, int n,
			       struct eia_runner_error *err)
{
	int i;

	m->intervals = calloc((size_t)n + 1, sizeof(*m->intervals));
	if (!m->intervals)
		return rt_fail(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const struct rt_tensor *t = &m->t[roots[i]];

		m->intervals[i].name = t->name;
		m->intervals[i].offset = t->offset;
		m->intervals[i].size = rt_bytes_of(t);
		m->intervals[i].first = t->first;
		m->intervals[i].last = t->last;
	}
	m->nintervals = n;
	return 0;
}

int rt_plan_memory(struct eia_model *m, struct eia_runner_error *err)
{
	int *roots, n, ret;

	ret = rt_layout_constants(m, err);
	if (ret)
		return ret;
	roots = malloc(((size_t)m->nt + 1) * sizeof(int));
	if (!roots)
		return rt_fail(err, ENOMEM, "out of memory");
	n = rt_lifetimes(m, roots);
	ret = rt_assign_offsets(m, roots, n, err);
	if (!ret)
		ret = rt_export_intervals(m, roots, n, err);
	free(roots);
	return ret;
}
