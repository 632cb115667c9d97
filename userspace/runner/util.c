// SPDX-License-Identifier: MIT
/*
 * Helpers every stage of the runner shares: errors, dtypes, shapes, the
 * name map, fp16 conversion and node attributes.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int rt_vfail(struct eia_runner_error *err, int code, const char *prefix,
		    const char *fmt, va_list ap)
{
	size_t off = 0;

	if (!err)
		return -code;
	err->code = -code;
	if (prefix) {
		snprintf(err->msg, sizeof(err->msg), "%s", prefix);
		off = strlen(err->msg);
	}
	vsnprintf(err->msg + off, sizeof(err->msg) - off, fmt, ap);
	return -code;
}

int rt_fail(struct eia_runner_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = rt_vfail(err, code, NULL, fmt, ap);
	va_end(ap);
	return ret;
}

int rt_node_fail(struct eia_runner_error *err, int code,
		 const struct rt_node *nd, const char *fmt, ...)
{
	char prefix[192];
	va_list ap;
	int ret;

	snprintf(prefix, sizeof(prefix), "node '%s' (%s): ", nd->label, nd->op);
	va_start(ap, fmt);
	ret = rt_vfail(err, code, prefix, fmt, ap);
	va_end(ap);
	return ret;
}

size_t rt_dtype_size(int dtype)
{
	switch (dtype) {
	case EIA_DTYPE_F32:
	case EIA_DTYPE_I32:
		return 4;
	case EIA_DTYPE_F16:
	case EIA_DTYPE_BF16:
		return 2;
	case EIA_DTYPE_I64:
		return 8;
	case EIA_DTYPE_BOOL:
		return 1;
	}
	return 0;
}

bool rt_dtype_float(int dtype)
{
	return dtype == EIA_DTYPE_F32 || dtype == EIA_DTYPE_F16 || dtype == EIA_DTYPE_BF16;
}

const char *eia_dtype_name(int dtype)
{
	switch (dtype) {
	case EIA_DTYPE_F32:
		return "F32";
	case EIA_DTYPE_F16:
		return "F16";
	case EIA_DTYPE_BF16:
		return "BF16";
	case EIA_DTYPE_I64:
		return "I64";
	case EIA_DTYPE_I32:
		return "I32";
	case EIA_DTYPE_BOOL:
		return "BOOL";
	}
	return "?";
}

int rt_dtype_from_onnx(int32_t onnx_type)
{
	switch (onnx_type) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		return EIA_DTYPE_F32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
		return EIA_DTYPE_F16;
	case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
		return EIA_DTYPE_BF16;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		return EIA_DTYPE_I64;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
		return EIA_DTYPE_I32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
		return EIA_DTYPE_BOOL;
	}
	return 0;
}

int32_t rt_dtype_to_onnx(int dtype)
{
	switch (dtype) {
	case EIA_DTYPE_F32:
		return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	case EIA_DTYPE_F16:
		return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
	case EIA_DTYPE_BF16:
		return ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
	case EIA_DTYPE_I64:
		return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	case EIA_DTYPE_I32:
		return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
	case EIA_DTYPE_BOOL:
		return ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
	}
	return ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED;
}

const char *rt_onnx_type_name(int32_t onnx_type)
{
	static const char *const names[] = {
		"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16",
		"INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE",
		"UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
	};

	if (onnx_type >= 0 && onnx_type < (int32_t)(sizeof(names) / sizeof(names[0])))
		return names[onnx_type];
	return "unknown";
}

int64_t rt_shape_numel(const struct rt_shape *s, int dtype)
{
	uint64_t n = 1, bytes;
	size_t esize = rt_dtype_size(dtype);
	int i;

	if (s->ndim < 0 || s->ndim > EIA_MAX_DIMS)
		return -1;
	for (i = 0; i < s->ndim; i++)
		if (s->d[i] < 0)
			return -1;
	/* A zero dim empties the tensor, but the others must still be sane. */
	for (i = 0; i < s->ndim; i++) {
		uint64_t d = s->d[i] ? (uint64_t)s->d[i] : 1;

		if (__builtin_mul_overflow(n, d, &n) || n > RT_MAX_TENSOR_BYTES)
			return -1;
	}
	if (__builtin_mul_overflow(n, esize ? esize : 1, &bytes) ||
	    bytes > RT_MAX_TENSOR_BYTES)
		return -1;
	for (i = 0; i < s->ndim; i++)
		if (!s->d[i])
			return 0;
	return (int64_t)n;
}

uint64_t rt_bytes_of(const struct rt_tensor *t)
{
	int64_t n = rt_shape_numel(&t->shape, t->dtype);

	return n < 0 ? 0 : (uint64_t)n * rt_dtype_size(t->dtype);
}

bool rt_shape_eq(const struct rt_shape *a, const struct rt_shape *b)
{
	int i;

	if (a->ndim != b->ndim)
		return false;
	for (i = 0; i < a->ndim; i++)
		if (a->d[i] != b->d[i])
			return false;
	return true;
}

const char *rt_shape_str(const struct rt_shape *s, char *buf, size_t len)
{
	size_t off;
	int i;

	off = (size_t)snprintf(buf, len, "[");
	for (i = 0; i < s->ndim && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%lld",
					i ? ", " : "", (long long)s->d[i]);
	if (off < len)
		snprintf(buf + off, len - off, "]");
	return buf;
}

char *rt_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = malloc(len);

	if (p)
		memcpy(p, s, len);
	return p;
}

static uint64_t rt_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

static int rt_map_grow(struct rt_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64, i, j;
	struct rt_map_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		j = rt_hash(m->slots[i].key) & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int rt_map_put(struct rt_map *m, const char *key, int value)
{
	size_t j;

	if ((m->len + 1) * 2 > m->cap && rt_map_grow(m))
		return -ENOMEM;
	j = rt_hash(key) & (m->cap - 1);
	while (m->slots[j].key) {
		if (!strcmp(m->slots[j].key, key))
			return -EEXIST;
		j = (j + 1) & (m->cap - 1);
	}
	m->slots[j].key = key;
	m->slots[j].value = value;
	m->len++;
	return 0;
}

int rt_map_get(const struct rt_map *m, const char *key)
{
	size_t j;

	if (!m->cap)
		return -1;
	j = rt_hash(key) & (m->cap - 1);
	while (m->slots[j].key) {
		if (!strcmp(m->slots[j].key, key))
			return m->slots[j].value;
		j = (j + 1) & (m->cap - 1);
	}
	return -1;
}

void rt_map_free(struct rt_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static float rt_half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, x;
	float f;

	if (exp == 0x1f) {
		x = sign | 0x7f800000u | (man << 13);
	} else if (exp) {
		x = sign | ((exp + 112) << 23) | (man << 13);
	} else {
		f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	memcpy(&f, &x, sizeof(f));
	return f;
}

/* Round to nearest, ties to even, as the operators store fp16. */
static uint16_t rt_float_to_half(float f)
{
	uint32_t x, sign, man, half, rem, mid;
	int32_t e;
	int shift;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000;
	man = x & 0x7fffff;
	e = (int32_t)((x >> 23) & 0xff);
	if (e == 0xff)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
	e = e - 127 + 15;
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (e <= 0) {
		if (e < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		shift = 14 - e;
		half = man >> shift;
		rem = man & ((1u << shift) - 1);
		mid = 1u << (shift - 1);
	} else {
		half = ((uint32_t)e << 10) | (man >> 13);
		rem = man & 0x1fff;
		mid = 0x1000;
	}
	/* A carry out of the mantissa correctly bumps the exponent. */
	if (rem > mid || (rem == mid && (half & 1)))
		half++;
	return (uint16_t)(sign | half);
}

/* As the operators store bf16: to nearest, ties to even; NaN made quiet. */
static uint16_t rt_float_to_bfloat(float f)
{
	uint32_t x;

	memcpy(&x, &f, sizeof(x));
	if ((x & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((x >> 16) | 0x40);
	/* A carry into the exponent is the rounded result, up to infinity. */
	x += 0x7fffu + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

float rt_float_at(const void *p, int dtype, size_t i)
{
	uint32_t x;
	float f;

	switch (dtype) {
	case EIA_DTYPE_F16:
		return rt_half_to_float(((const uint16_t *)p)[i]);
	case EIA_DTYPE_BF16:
		x = (uint32_t)((const uint16_t *)p)[i] << 16;
		memcpy(&f, &x, sizeof(f));
		return f;
	}
	return ((const float *)p)[i];
}

void rt_float_set(void *p, int dtype, size_t i, float v)
{
	switch (dtype) {
	case EIA_DTYPE_F16:
		((uint16_t *)p)[i] = rt_float_to_half(v);
		break;
	case EIA_DTYPE_BF16:
		((uint16_t *)p)[i] = rt_float_to_bfloat(v);
		break;
	default:
		((float *)p)[i] = v;
	}
}

/*
 * Through fp32 rounded to odd (truncated to 24 significant bits, the last
 * one set when anything was dropped), so that bf16 rounds once, as gpud's
 * Cast does: fp32's nearest could make a tie that @v is not.
 */
uint16_t rt_int_to_bfloat(int64_t v)
{
	uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	int drop = a >> 24 ? 40 - __builtin_clzll(a) : 0;
	float f;

	if (drop)
		a = a >> drop | ((a & ((1ull << drop) - 1)) != 0);
	f = ldexpf((float)a, drop);	/* exact: a < 2^24 */
	return rt_float_to_bfloat(v < 0 ? -f : f);
}

const Onnx__AttributeProto *rt_attr(const struct rt_node *nd, const char *name)
{
	size_t i;

	for (i = 0; i < nd->proto->n_attribute; i++)
		if (nd->proto->attribute[i]->name &&
		    !strcmp(nd->proto->attribute[i]->name, name))
			return nd->proto->attribute[i];
	return NULL;
}

int rt_attr_check(const struct rt_node *nd, const char *const *known,
		  struct eia_runner_error *err)
{
	const char *const *k;
	size_t i;

	for (i = 0; i < nd->proto->n_attribute; i++) {
		const char *name = nd->proto->attribute[i]->name;

		if (!name)
			return rt_node_fail(err, EINVAL, nd, "attribute without a name");
		for (k = known; *k; k++)
			if (!strcmp(*k, name))
				break;
		if (!*k)
			return rt_node_fail(err, EOPNOTSUPP, nd,
					    "attribute '%s' is not supported", name);
	}
	return 0;
}

/* Older exporters leave the type out; the field that is set says it. */
static bool rt_attr_is(const Onnx__AttributeProto *a,
		       Onnx__AttributeProto__AttributeType type, bool present)
{
	return a->type == type ||
	       (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED && present);
}

int rt_attr_int(const struct rt_node *nd, const char *name, int64_t def,
		int64_t *val, struct eia_runner_error *err)
{
	const Onnx__AttributeProto *a = rt_attr(nd, name);

	*val = def;
	if (!a)
		return 0;
	if (!rt_attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_i))
		return rt_node_fail(err, EINVAL, nd, "attribute '%s' is not an int", name);
	*val = a->i;
	return 0;
}

int rt_attr_float(const struct rt_node *nd, const char *name, float def,
		  float *val, struct eia_runner_error *err)
{
	const Onnx__AttributeProto *a = rt_attr(nd, name);

	*val = def;
	if (!a)
		return 0;
	if (!rt_attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, a->has_f))
		return rt_node_fail(err, EINVAL, nd, "attribute '%s' is not a float", name);
	*val = a->f;
	return 0;
}

int rt_attr_ints(const struct rt_node *nd, const char *name, int64_t *vals,
		 int max, int *n, struct eia_runner_error *err)
{
	const Onnx__AttributeProto *a = rt_attr(nd, name);

	*n = -1;
	if (!a)
		return 0;
	if (!rt_attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, a->n_ints))
		return rt_node_fail(err, EINVAL, nd, "attribute '%s' is not a list of ints",
				    name);
	if (a->n_ints > (size_t)max)
		return rt_node_fail(err, EOPNOTSUPP, nd,
				    "attribute '%s' has %zu values, at most %d supported",
				    name, a->n_ints, max);
	memcpy(vals, a->ints, a->n_ints * sizeof(*vals));
	*n = (int)a->n_ints;
	return 0;
}

int rt_attr_string(const struct rt_node *nd, const char *name,
		   const char *def, char *buf, size_t len,
		   struct eia_runner_error *err)
{
	const Onnx__AttributeProto *a = rt_attr(nd, name);

	if (!a) {
		snprintf(buf, len, "%s", def);
		return 0;
	}
	if (!rt_attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, a->has_s))
		return rt_node_fail(err, EINVAL, nd, "attribute '%s' is not a string", name);
	if (a->s.len >= len || memchr(a->s.data, 0, a->s.len))
		return rt_node_fail(err, EINVAL, nd, "attribute '%s' is not a short string",
				    name);
	memcpy(buf, a->s.data, a->s.len);
	buf[a->s.len] = '\0';
	return 0;
}
