// SPDX-License-Identifier: MIT
#include "ctx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "backend.h"
#include "eia_cmdbuf.h"
#include "eia_wire.h"

#define NO_SLOT		UINT32_MAX
#define FIRST_CAP	16
#define SLOT_MASK	((1u << GPUD_HANDLE_SLOT_BITS) - 1)
#define GEN_MASK	((1u << GPUD_HANDLE_GEN_BITS) - 1)

_Static_assert(GPUD_MAX_ALLOCS <= SLOT_MASK + 1u,
	       "a context's slots must fit the handle's slot field");

static uint64_t make_handle(const struct gpud_ctx *ctx, uint32_t slot, uint32_t gen)
{
	return (uint64_t)ctx->tag << (GPUD_HANDLE_GEN_BITS + GPUD_HANDLE_SLOT_BITS) |
	       (uint64_t)(gen & GEN_MASK) << GPUD_HANDLE_SLOT_BITS | slot;
}

struct gpud_ctx *gpud_ctx_new(uint64_t id, uint32_t tag)
{
	struct gpud_ctx *ctx = calloc(1, sizeof(*ctx));
	unsigned int i;

	if (!ctx)
		return NULL;
	ctx->id = id;
	ctx->tag = tag;
	ctx->free_head = NO_SLOT;
	for (i = 0; i < EIA_CB_QUEUES; i++)
		ctx->lanes[i].ctx = ctx;
	return ctx;
}

void gpud_ctx_free(struct gpud_engine *eng, struct gpud_ctx *ctx,
		   struct gpud_mem_account *acct)
{
	struct gpud_queue *q = NULL;
	uint32_t i;

	if (!ctx)
		return;
	/* Nothing runs in a context being freed: any of its queues will do. */
	for (i = EIA_CB_QUEUES; i-- > 0;)
		if (ctx->queue_open[i])
			q = ctx->queues[i];
	for (i = 0; i < ctx->nslots; i++) {
		struct gpud_slot *s = &ctx->slots[i];

		if (!s->ptr)
			continue;
		if (s->kind == GPUD_SLOT_MEM)
			gpud_dev_free(eng, q, s->ptr, s->bytes);
		else if (s->kind == GPUD_SLOT_MODULE)
			eng->be->module_unload(eng, q, s->ptr);
	}
	for (i = 0; i < EIA_CB_QUEUES; i++)
		if (ctx->queue_open[i])
			eng->be->queue_close(eng, ctx->queues[i]);
	atomic_fetch_sub(&acct->used, ctx->bytes);
	atomic_fetch_sub(&acct->nallocs, ctx->live);
	free(ctx->slots);
	free(ctx);
}

int gpud_ctx_queue(struct gpud_engine *eng, struct gpud_ctx *ctx, unsigned int index,
		   struct gpud_queue **q)
{
	int ret = 0;

	if (!ctx->queue_open[index]) {
		ret = eng->be->queue_open(eng, &ctx->queues[index]);
		ctx->queue_open[index] = !ret;
	}
	*q = ctx->queues[index];
	return ret;
}

/* Reserve @bytes and one allocation of @acct's quota. */
static int charge(struct gpud_mem_account *acct, uint64_t bytes)
{
	uint_fast64_t used = atomic_load(&acct->used);

	do {
		if (bytes > acct->limit || used > acct->limit - bytes)
			return -EDQUOT;
	} while (!atomic_compare_exchange_weak(&acct->used, &used, used + bytes));
	if (atomic_fetch_add(&acct->nallocs, 1) >= GPUD_MAX_ALLOCS) {
		atomic_fetch_sub(&acct->nallocs, 1);
		atomic_fetch_sub(&acct->used, bytes);
		return -EMFILE;
	}
	return 0;
}

static void uncharge(struct gpud_mem_account *acct, uint64_t bytes)
{
	atomic_fetch_sub(&acct->used, bytes);
	atomic_fetch_sub(&acct->nallocs, 1);
}

/* A free slot's index, growing the table when none is free; NO_SLOT if out of memory. */
static uint32_t take_slot(struct gpud_ctx *ctx)
{
	struct gpud_slot *slots;
	uint32_t i, cap;

	if (ctx->free_head != NO_SLOT) {
		i = ctx->free_head;
		ctx->free_head = ctx->slots[i].next_free;
		return i;
	}
	/* charge() keeps the live slots, hence nslots, within GPUD_MAX_ALLOCS. */
	if (ctx->nslots == ctx->cap) {
		cap = ctx->cap ? 2 * ctx->cap : FIRST_CAP;
		slots = realloc(ctx->slots, cap * sizeof(*slots));
		if (!slots)
			return NO_SLOT;
		ctx->slots = slots;
		ctx->cap = cap;
	}
	i = ctx->nslots++;
	ctx->slots[i] = (struct gpud_slot){ .gen = 1 };
	return i;
}

static void put_slot(struct gpud_ctx *ctx, uint32_t i)
{
	struct gpud_slot *s = &ctx->slots[i];

	s->ptr = NULL;
	s->bytes = 0;
	s->kind = 0;
	s->gen = (s->gen + 1) & GEN_MASK;
	s->next_free = ctx->free_head;
	ctx->free_head = i;
}

int gpud_mem_alloc(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		   struct gpud_mem_account *acct, uint64_t bytes, uint64_t *handle)
{
	struct gpud_slot *s;
	uint32_t i;
	int ret;

	if (!bytes)
		return -EINVAL;
	ret = charge(acct, bytes);
	if (ret)
		return ret;
	i = take_slot(ctx);
	if (i == NO_SLOT) {
		uncharge(acct, bytes);
		return -ENOMEM;
	}
	s = &ctx->slots[i];
	ret = gpud_dev_alloc(eng, q, bytes, &s->ptr);
	if (ret) {
		put_slot(ctx, i);
		uncharge(acct, bytes);
		return ret;
	}
	s->bytes = bytes;
	s->kind = GPUD_SLOT_MEM;
	ctx->live++;
	ctx->bytes += bytes;
	*handle = make_handle(ctx, i, s->gen);
	return 0;
}

static struct gpud_slot *find(const struct gpud_ctx *ctx, uint64_t handle,
			      enum gpud_slot_kind kind)
{
	uint32_t i = (uint32_t)(handle & SLOT_MASK);
	struct gpud_slot *s;

	if (i >= ctx->nslots)
		return NULL;
	s = &ctx->slots[i];
	if (!s->ptr || s->kind != kind || make_handle(ctx, i, s->gen) != handle)
		return NULL;
	return s;
}

/* Give back a live slot and what it was charged. */
static void release_slot(struct gpud_ctx *ctx, struct gpud_mem_account *acct,
			 struct gpud_slot *s)
{
	uint64_t bytes = s->bytes;

	put_slot(ctx, (uint32_t)(s - ctx->slots));
	ctx->live--;
	ctx->bytes -= bytes;
	uncharge(acct, bytes);
}

int gpud_mem_free(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		  struct gpud_mem_account *acct, uint64_t handle)
{
	struct gpud_slot *s = find(ctx, handle, GPUD_SLOT_MEM);

	if (!s)
		return -ENOENT;
	gpud_dev_free(eng, q, s->ptr, s->bytes);
	release_slot(ctx, acct, s);
	return 0;
}

int gpud_module_load(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		     struct gpud_mem_account *acct, const void *image, uint64_t bytes,
		     uint64_t *handle)
{
	struct gpud_slot *s;
	char *text;
	uint32_t i;
	int ret;

	if (!eng->be->module_load)
		return -EOPNOTSUPP;
	ret = charge(acct, bytes);
	if (ret)
		return ret;
	i = take_slot(ctx);
	/* PTX is text the driver reads up to a NUL, which the wire does not carry. */
	text = i == NO_SLOT || bytes > SIZE_MAX - 1 ? NULL : malloc((size_t)bytes + 1);
	if (!text) {
		if (i != NO_SLOT)
			put_slot(ctx, i);
		uncharge(acct, bytes);
		return -ENOMEM;
	}
	memcpy(text, image, (size_t)bytes);
	text[bytes] = '\0';
	s = &ctx->slots[i];
	ret = eng->be->module_load(eng, q, text, bytes, &s->ptr);
	free(text);
	if (ret) {
		put_slot(ctx, i);
		uncharge(acct, bytes);
		return ret;
	}
	s->bytes = bytes;
	s->kind = GPUD_SLOT_MODULE;
	ctx->live++;
	ctx->bytes += bytes;
	*handle = make_handle(ctx, i, s->gen);
	return 0;
}

int gpud_module_unload(struct gpud_engine *eng, struct gpud_ctx *ctx, struct gpud_queue *q,
		       struct gpud_mem_account *acct, uint64_t handle)
{
	struct gpud_slot *s;
	uint32_t i, m;

	if (!eng->be->module_load)
		return -EOPNOTSUPP;
	s = find(ctx, handle, GPUD_SLOT_MODULE);
	if (!s)
		return -ENOENT;
	m = (uint32_t)(s - ctx->slots);
	for (i = 0; i < ctx->nslots; i++)
		if (ctx->slots[i].ptr && ctx->slots[i].kind == GPUD_SLOT_FUNCTION &&
		    ctx->slots[i].module == m)
			release_slot(ctx, acct, &ctx->slots[i]);
	eng->be->module_unload(eng, q, s->ptr);
	release_slot(ctx, acct, s);
	return 0;
}

int gpud_module_function(struct gpud_engine *eng, struct gpud_ctx *ctx,
			 struct gpud_mem_account *acct, uint64_t module,
			 const char *name, uint32_t len, uint64_t *handle)
{
	char cname[EIA_CB_KERNEL_NAME_MAX + 1];
	struct gpud_slot *s;
	void *mod, *fn;
	uint32_t m, i;
	int ret;

	if (!eng->be->module_load)
		return -EOPNOTSUPP;
	s = find(ctx, module, GPUD_SLOT_MODULE);
	if (!s || len > EIA_CB_KERNEL_NAME_MAX)
		return -ENOENT;
	m = (uint32_t)(s - ctx->slots);
	mod = s->ptr;
	memcpy(cname, name, len);
	cname[len] = '\0';
	ret = eng->be->module_function(eng, mod, cname, &fn);
	if (ret)
		return ret;
	ret = charge(acct, 0);
	if (ret)
		return ret;
	i = take_slot(ctx);	/* may move the table: @s is stale from here */
	if (i == NO_SLOT) {
		uncharge(acct, 0);
		return -ENOMEM;
	}
	ctx->slots[i].ptr = fn;
	ctx->slots[i].kind = GPUD_SLOT_FUNCTION;
	ctx->slots[i].module = m;
	ctx->live++;
	*handle = make_handle(ctx, i, ctx->slots[i].gen);
	return 0;
}

int gpud_function_get(const struct gpud_ctx *ctx, uint64_t handle, void **fn)
{
	const struct gpud_slot *s = find(ctx, handle, GPUD_SLOT_FUNCTION);

	if (!s)
		return -ENOENT;
	*fn = s->ptr;
	return 0;
}

int gpud_mem_range(const struct gpud_ctx *ctx, uint64_t handle, uint64_t offset,
		   uint64_t bytes, void **ptr)
{
	const struct gpud_slot *s = find(ctx, handle, GPUD_SLOT_MEM);

	if (!s)
		return -ENOENT;
	if (offset > s->bytes || bytes > s->bytes - offset)
		return -ERANGE;
	*ptr = (unsigned char *)s->ptr + offset;
	return 0;
}

static unsigned int bucket(uint64_t id)
{
	return (unsigned int)(id % GPUD_CTX_BUCKETS);
}

static bool tag_in_use(const struct gpud_ctx_table *t, uint32_t tag)
{
	const struct gpud_ctx *c;
	unsigned int b;

	for (b = 0; b < GPUD_CTX_BUCKETS; b++)
		for (c = t->buckets[b]; c; c = c->hash_next)
			if (c->tag == tag)
				return true;
	return false;
}

static int random_u32(uint32_t *r)
{
	ssize_t n;

	do
		n = getrandom(r, sizeof(*r), 0);
	while (n < 0 && errno == EINTR);
	return n == sizeof(*r) ? 0 : -EIO;
}

static int random_tag(const struct gpud_ctx_table *t, uint32_t *tag)
{
	uint32_t r;
	int ret;

	do {
		ret = random_u32(&r);
		if (ret)
			return ret;
		r &= GPUD_CTX_TAG_MASK;
	} while (!r || tag_in_use(t, r));
	*tag = r;
	return 0;
}

int gpud_ctx_table_create(struct gpud_ctx_table *t, struct gpud_ctx **out)
{
	struct gpud_ctx *ctx;
	uint32_t tag;
	int ret;

	if (t->count >= EIA_WIRE_MAX_CTXS)
		return -EMFILE;
	/*
	 * Ids start at a random point, so that an id from another connection
	 * is unlikely to name one of this connection's contexts.
	 */
	if (!t->last_id) {
		ret = random_u32(&tag);
		if (ret)
			return ret;
		t->last_id = tag;
	}
	ret = random_tag(t, &tag);
	if (ret)
		return ret;
	ctx = gpud_ctx_new(t->last_id + 1, tag);
	if (!ctx)
		return -ENOMEM;
	t->last_id++;
	ctx->hash_next = t->buckets[bucket(ctx->id)];
	t->buckets[bucket(ctx->id)] = ctx;
	t->count++;
	*out = ctx;
	return 0;
}

struct gpud_ctx *gpud_ctx_table_find(const struct gpud_ctx_table *t, uint64_t id)
{
	struct gpud_ctx *c;

	for (c = t->buckets[bucket(id)]; c; c = c->hash_next)
		if (c->id == id)
			return c;
	return NULL;
}

void gpud_ctx_table_remove(struct gpud_ctx_table *t, struct gpud_ctx *ctx)
{
	struct gpud_ctx **p;

	for (p = &t->buckets[bucket(ctx->id)]; *p; p = &(*p)->hash_next) {
		if (*p == ctx) {
			*p = ctx->hash_next;
			ctx->hash_next = NULL;
			t->count--;
			return;
		}
	}
}

struct gpud_ctx *gpud_ctx_table_pop(struct gpud_ctx_table *t)
{
	unsigned int b;

	for (b = 0; b < GPUD_CTX_BUCKETS; b++)
		if (t->buckets[b]) {
			struct gpud_ctx *ctx = t->buckets[b];

			gpud_ctx_table_remove(t, ctx);
			return ctx;
		}
	return NULL;
}
