// SPDX-License-Identifier: MIT
#include "session.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define ID_PREFIX	"eia-"
#define ID_RANDOM_BYTES	16

void gpud_registry_init(struct gpud_registry *reg, const char *backend,
			const struct gpud_type *types, unsigned int ntypes,
			const struct gpud_capacity *capacity)
{
	memset(reg, 0, sizeof(*reg));
	pthread_mutex_init(&reg->lock, NULL);
	reg->backend = backend;
	reg->types = types;
	reg->ntypes = ntypes;
	reg->capacity = *capacity;
}

void gpud_registry_destroy(struct gpud_registry *reg)
{
	pthread_mutex_destroy(&reg->lock);
}

int gpud_accel_id_ok(const char *id)
{
	return strlen(id) == EIA_ACCEL_ID_LEN &&
	       !strncmp(id, ID_PREFIX, strlen(ID_PREFIX)) &&
	       strspn(id + strlen(ID_PREFIX), "0123456789abcdef") ==
		       EIA_ACCEL_ID_LEN - strlen(ID_PREFIX);
}

static int random_id(char id[EIA_ACCEL_ID_MAX])
{
	unsigned char r[ID_RANDOM_BYTES];
	ssize_t n;
	int i;

	do
		n = getrandom(r, sizeof(r), 0);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(r))
		return -EIO;
	memset(id, 0, EIA_ACCEL_ID_MAX);
	memcpy(id, ID_PREFIX, strlen(ID_PREFIX));
	for (i = 0; i < ID_RANDOM_BYTES; i++)
		snprintf(id + strlen(ID_PREFIX) + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static bool id_in_use(const struct gpud_registry *reg, const char *id)
{
	const struct gpud_grant *g;

	for (g = reg->grants; g; g = g->next)
		if (!strcmp(g->id, id))
			return true;
	return false;
}

static const struct gpud_type *find_type(const struct gpud_registry *reg,
					 const char *name)
{
	unsigned int i;

	for (i = 0; i < reg->ntypes; i++)
		if (!strcmp(reg->types[i].name, name))
			return &reg->types[i];
	return NULL;
}

/* How many more of @t the capacity left could hold. */
static uint64_t available(const struct gpud_registry *reg, const struct gpud_type *t)
{
	uint64_t mem = (reg->capacity.memory_bytes - reg->used.memory_bytes) /
		       t->memory_bytes;
	uint64_t fp32 = (reg->capacity.fp32_mtflops - reg->used.fp32_mtflops) /
			t->fp32_mtflops;
	uint64_t fp16 = (reg->capacity.fp16_mtflops - reg->used.fp16_mtflops) /
			t->fp16_mtflops;

	if (fp32 < mem)
		mem = fp32;
	return fp16 < mem ? fp16 : mem;
}

/* Printable copy of a client's string, for messages. */
static void sanitize(char *out, size_t len, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

static void no_space_msg(const struct gpud_registry *reg, const struct gpud_type *t,
			 char *msg, size_t msglen)
{
	char need_mem[32], need_fp32[32], need_fp16[32];
	char free_mem[32], free_fp32[32], free_fp16[32];

	gpud_format_bytes(need_mem, sizeof(need_mem), t->memory_bytes);
	gpud_format_tflops(need_fp32, sizeof(need_fp32), t->fp32_mtflops);
	gpud_format_tflops(need_fp16, sizeof(need_fp16), t->fp16_mtflops);
	gpud_format_bytes(free_mem, sizeof(free_mem),
			  reg->capacity.memory_bytes - reg->used.memory_bytes);
	gpud_format_tflops(free_fp32, sizeof(free_fp32),
			   reg->capacity.fp32_mtflops - reg->used.fp32_mtflops);
	gpud_format_tflops(free_fp16, sizeof(free_fp16),
			   reg->capacity.fp16_mtflops - reg->used.fp16_mtflops);
	snprintf(msg, msglen,
		 "no capacity left for %s (needs %s, %s FP32 / %s FP16 TFLOPS; free %s, %s / %s)",
		 t->name, need_mem, need_fp32, need_fp16, free_mem, free_fp32, free_fp16);
}

int gpud_registry_grant(struct gpud_registry *reg, const char *type,
			const char *resume_id, struct gpud_grant *g, char *msg,
			size_t msglen)
{
	const struct gpud_type *t = find_type(reg, type);
	int ret = 0;

	if (!t) {
		char name[EIA_TYPE_NAME_MAX];

		sanitize(name, sizeof(name), type);
		snprintf(msg, msglen, "unknown accelerator type '%s'", name);
		return -ENOENT;
	}
	pthread_mutex_lock(&reg->lock);
	if (!available(reg, t)) {
		no_space_msg(reg, t, msg, msglen);
		ret = -ENOSPC;
		goto out;
	}
	if (resume_id[0] && gpud_accel_id_ok(resume_id) && !id_in_use(reg, resume_id)) {
		memset(g->id, 0, sizeof(g->id));
		memcpy(g->id, resume_id, EIA_ACCEL_ID_LEN);
	} else {
		/* A collision is all but impossible; checking costs nothing. */
		do
			ret = random_id(g->id);
		while (!ret && id_in_use(reg, g->id));
		if (ret) {
			snprintf(msg, msglen, "cannot generate an accelerator id");
			goto out;
		}
	}
	g->type = t;
	g->prev = NULL;
	g->next = reg->grants;
	if (reg->grants)
		reg->grants->prev = g;
	reg->grants = g;
	reg->used.memory_bytes += t->memory_bytes;
	reg->used.fp32_mtflops += t->fp32_mtflops;
	reg->used.fp16_mtflops += t->fp16_mtflops;
	reg->in_use[t - reg->types]++;
	reg->sessions++;
out:
	pthread_mutex_unlock(&reg->lock);
	return ret;
}

void gpud_registry_release(struct gpud_registry *reg, struct gpud_grant *g)
{
	const struct gpud_type *t = g->type;

	pthread_mutex_lock(&reg->lock);
	if (g->prev)
		g->prev->next = g->next;
	else
		reg->grants = g->next;
	if (g->next)
		g->next->prev = g->prev;
	reg->used.memory_bytes -= t->memory_bytes;
	reg->used.fp32_mtflops -= t->fp32_mtflops;
	reg->used.fp16_mtflops -= t->fp16_mtflops;
	reg->in_use[t - reg->types]--;
	reg->sessions--;
	pthread_mutex_unlock(&reg->lock);
}

unsigned int gpud_registry_sessions(struct gpud_registry *reg)
{
	unsigned int n;

	pthread_mutex_lock(&reg->lock);
	n = reg->sessions;
	pthread_mutex_unlock(&reg->lock);
	return n;
}

size_t gpud_registry_status_size(const struct gpud_registry *reg)
{
	return sizeof(struct eia_wire_server_status) +
	       reg->ntypes * sizeof(struct eia_wire_type_status);
}

void gpud_registry_status(struct gpud_registry *reg, unsigned int connections,
			  void *buf)
{
	struct eia_wire_server_status *st = buf;
	unsigned int i;

	memset(buf, 0, gpud_registry_status_size(reg));
	st->connections = htole32(connections);
	snprintf(st->backend, sizeof(st->backend), "%s", reg->backend);
	st->ntypes = htole32(reg->ntypes);
	pthread_mutex_lock(&reg->lock);
	st->sessions = htole32(reg->sessions);
	for (i = 0; i < reg->ntypes; i++) {
		const struct gpud_type *t = &reg->types[i];
		struct eia_wire_type_status *ts = &st->types[i];
		uint64_t avail = available(reg, t);

		memcpy(ts->type, t->name, sizeof(ts->type));
		ts->memory_bytes = htole64(t->memory_bytes);
		ts->fp32_mtflops = htole32(t->fp32_mtflops);
		ts->fp16_mtflops = htole32(t->fp16_mtflops);
		ts->in_use = htole32(reg->in_use[i]);
		ts->available = htole32(avail > UINT32_MAX ? UINT32_MAX : (uint32_t)avail);
	}
	pthread_mutex_unlock(&reg->lock);
}
