// SPDX-License-Identifier: MIT
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ALLOCS 4096

static void *allocs[MAX_ALLOCS];
static int nallocs;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static void *track(void *p)
{
	if (!p || nallocs == MAX_ALLOCS) {
		fprintf(stderr, "# helpers: out of memory or slots\n");
		abort();
	}
	allocs[nallocs++] = p;
	return p;
}

void tfree_all(void)
{
	while (nallocs)
		free(allocs[--nallocs]);
}

struct eia_tensor tnew(uint32_t dtype, uint32_t ndim, const int64_t *dims)
{
	struct eia_tensor t = { .dtype = dtype, .ndim = ndim };
	int64_t n = 1;

	for (uint32_t i = 0; i < ndim; i++) {
		t.dims[i] = dims[i];
		n *= dims[i];
	}
	t.size = (uint64_t)n * eia_dtype_size(dtype);
	/* Exactly sized, so that ASan catches a read or write past the end. */
	t.data = track(calloc(1, t.size ? t.size : 1));
	return t;
}

struct eia_tensor tscalar(uint32_t dtype)
{
	return tnew(dtype, 0, NULL);
}

struct eia_tensor tlike(const struct eia_tensor *t)
{
	return tnew(t->dtype, t->ndim, t->dims);
}

double *ralloc(int64_t n)
{
	return track(calloc((size_t)(n ? n : 1), sizeof(double)));
}

int64_t tcount(const struct eia_tensor *t)
{
	int64_t n = 1;

	for (uint32_t i = 0; i < t->ndim; i++)
		n *= t->dims[i];
	return n;
}

double ref_f16_decode(uint16_t h)
{
	int e = (h >> 10) & 31, m = h & 1023;
	double v;

	if (e == 31)
		v = m ? NAN : INFINITY;
	else if (!e)
		v = ldexp(m, -24);
	else
		v = ldexp(1024 + m, e - 25);
	return (h & 0x8000) ? -v : v;
}

/*
 * Positive halves sort like their bit patterns, so the nearest one is found
 * by bisection over 0x0000..0x7bff, then ties go to the even pattern.
 */
uint16_t ref_f16_encode(double v)
{
	uint16_t sign = signbit(v) ? 0x8000 : 0;
	double a = fabs(v);
	unsigned int lo = 0, hi = 0x7bff;

	if (isnan(v))
		return 0x7e00;
	if (a >= 65520.0)
		return sign | 0x7c00;
	while (lo < hi) {		/* largest pattern with value <= a */
		unsigned int mid = (lo + hi + 1) / 2;

		if (ref_f16_decode((uint16_t)mid) <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	/* Above 65504 and below the midpoint to 65536: stays 65504. */
	if (lo < 0x7bff) {
		double below = a - ref_f16_decode((uint16_t)lo);
		double above = ref_f16_decode((uint16_t)(lo + 1)) - a;

		if (above < below || (above == below && (lo & 1)))
			lo++;
	}
	return sign | (uint16_t)lo;
}

double ref_bf16_decode(uint16_t b)
{
	int e = (b >> 7) & 255, m = b & 127;
	double v;

	if (e == 255)
		v = m ? NAN : INFINITY;
	else if (!e)
		v = ldexp(m, -133);
	else
		v = ldexp(128 + m, e - 134);
	return (b & 0x8000) ? -v : v;
}

/* As ref_f16_encode(): bisection over the finite patterns 0x0000..0x7f7f. */
uint16_t ref_bf16_encode(double v)
{
	uint16_t sign = signbit(v) ? 0x8000 : 0;
	double a = fabs(v);
	unsigned int lo = 0, hi = 0x7f7f;

	if (isnan(v))
		return 0x7fc0;
	/* The largest finite plus half its unit ties to even: infinity. */
	if (a >= 511 * 0x1p119)
		return sign | 0x7f80;
	while (lo < hi) {
		unsigned int mid = (lo + hi + 1) / 2;

		if (ref_bf16_decode((uint16_t)mid) <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (lo < 0x7f7f) {
		double below = a - ref_bf16_decode((uint16_t)lo);
		double above = ref_bf16_decode((uint16_t)(lo + 1)) - a;

		if (above < below || (above == below && (lo & 1)))
			lo++;
	}
	return sign | (uint16_t)lo;
}

double tol_of(uint32_t dtype, double f32)
{
	return dtype == EIA_DTYPE_F16 ? TOL_F16 :
	       dtype == EIA_DTYPE_BF16 ? TOL_BF16 : f32;
}

double tget(const struct eia_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case EIA_DTYPE_F32:
		return ((const float *)t->data)[i];
	case EIA_DTYPE_F16:
		return ref_f16_decode(((const uint16_t *)t->data)[i]);
	case EIA_DTYPE_BF16:
		return ref_bf16_decode(((const uint16_t *)t->data)[i]);
	case EIA_DTYPE_I64:
		return (double)((const int64_t *)t->data)[i];
	case EIA_DTYPE_I32:
		return ((const int32_t *)t->data)[i];
	default:
		return ((const uint8_t *)t->data)[i];
	}
}

void tset(struct eia_tensor *t, int64_t i, double v)
{
	switch (t->dtype) {
	case EIA_DTYPE_F32:
		((float *)t->data)[i] = (float)v;
		break;
	case EIA_DTYPE_F16:
		((uint16_t *)t->data)[i] = ref_f16_encode(v);
		break;
	case EIA_DTYPE_BF16:
		((uint16_t *)t->data)[i] = ref_bf16_encode(v);
		break;
	case EIA_DTYPE_I64:
		((int64_t *)t->data)[i] = (int64_t)v;
		break;
	case EIA_DTYPE_I32:
		((int32_t *)t->data)[i] = (int32_t)v;
		break;
	default:
		((uint8_t *)t->data)[i] = v != 0.0;
		break;
	}
}

void tseed(uint64_t seed)
{
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
}

uint64_t trand(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static double unit(void)
{
	return (double)(trand() >> 11) / (double)(1ull << 53);
}

void tfill(struct eia_tensor *t, double lo, double hi)
{
	int64_t n = tcount(t);

	for (int64_t i = 0; i < n; i++) {
		double v = lo + (hi - lo) * unit();

		switch (t->dtype) {
		case EIA_DTYPE_F16:
			v = ceil(lo * 256) + floor(((hi - lo) * 256 + 1) * unit());
			v /= 256;
			break;
		case EIA_DTYPE_I64:
		case EIA_DTYPE_I32:
			v = floor(lo + (hi - lo + 1) * unit());
			break;
		case EIA_DTYPE_BOOL:
			v = trand() & 1;
			break;
		}
		tset(t, i, v);
	}
}

void unravel(int64_t i, uint32_t ndim, const int64_t *dims, int64_t *idx)
{
	for (uint32_t d = ndim; d-- > 0;) {
		idx[d] = dims[d] ? i % dims[d] : 0;
		i = dims[d] ? i / dims[d] : 0;
	}
}

int64_t ravel(uint32_t ndim, const int64_t *dims, const int64_t *idx)
{
	int64_t off = 0;

	for (uint32_t d = 0; d < ndim; d++)
		off = off * dims[d] + idx[d];
	return off;
}

double bget(const struct eia_tensor *t, uint32_t ondim, const int64_t *oidx)
{
	int64_t idx[EIA_MAX_DIMS];
	uint32_t lead = ondim - t->ndim;

	for (uint32_t d = 0; d < t->ndim; d++)
		idx[d] = t->dims[d] == 1 ? 0 : oidx[d + lead];
	return tget(t, ravel(t->ndim, t->dims, idx));
}

int64_t tcompare(const struct eia_tensor *got, const double *ref, double atol,
		 double rtol)
{
	int64_t n = tcount(got), bad = 0;

	for (int64_t i = 0; i < n; i++) {
		double g = tget(got, i), r = ref[i];
		bool ok;

		if (isnan(r) || isnan(g))
			ok = isnan(r) && isnan(g);
		else if (isinf(r) || isinf(g))
			ok = g == r;
		else
			ok = fabs(g - r) <= atol + rtol * fabs(r);
		if (!ok && bad++ < 5)
			printf("# mismatch at %lld: got %.9g want %.9g\n",
			       (long long)i, g, r);
	}
	return bad;
}

bool tequal(const struct eia_tensor *a, const struct eia_tensor *b)
{
	if (a->dtype != b->dtype || a->ndim != b->ndim ||
	    memcmp(a->dims, b->dims, a->ndim * sizeof(a->dims[0])))
		return false;
	return !memcmp(a->data, b->data,
		       (size_t)tcount(a) * eia_dtype_size(a->dtype));
}
