/* SPDX-License-Identifier: MIT */
/*
 * IEEE binary16 and bfloat16 <-> binary32 conversion (round to nearest even,
 * NaN kept quiet, overflow to infinity) and element access for float tensors
 * that may hold any of them. Inline because the elementwise kernels call them
 * per element.
 */
#ifndef EIA_OPS_F16_H
#define EIA_OPS_F16_H

#include <stdint.h>
#include <string.h>

#include "ops.h"

static inline float f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;
	uint32_t bits;
	float f;

	if (exp == 0x1f) {
		bits = sign | 0x7f800000 | (man << 13);
	} else if (exp) {
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else if (!man) {
		bits = sign;
	} else {
		/* Subnormal: shift the leading one into the implicit bit. */
		uint32_t e = 113;

		while (!(man & 0x400)) {
			man <<= 1;
			e--;
		}
		bits = sign | (e << 23) | ((man & 0x3ff) << 13);
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

static inline uint16_t f32_to_f16(float f)
{
	uint32_t x, ax, sign, h, rem;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000;
	ax = x & 0x7fffffff;
	if (ax >= 0x7f800000)		/* inf, or NaN made quiet */
		return (uint16_t)(sign | 0x7c00 |
				  (ax > 0x7f800000 ? 0x200 | ((ax >> 13) & 0x3ff) : 0));
	if (ax >= 0x477ff000)		/* >= 65520 rounds to inf */
		return (uint16_t)(sign | 0x7c00);
	if (ax < 0x38800000) {		/* below 2^-14: subnormal or zero */
		uint32_t e = ax >> 23, shift, m, half;

		if (e < 102)		/* below 2^-25 */
			return (uint16_t)sign;
		m = (ax & 0x7fffff) | 0x800000;
		shift = 126 - e;
		h = m >> shift;
		rem = m & ((1u << shift) - 1);
		half = 1u << (shift - 1);
		if (rem > half || (rem == half && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	ax -= 0x38000000;		/* rebias the exponent from 127 to 15 */
	h = ax >> 13;
	rem = ax & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;
	return (uint16_t)(sign | h);
}

/* bfloat16 is the upper half of a binary32: widening is exact. */
static inline float bf16_to_f32(uint16_t b)
{
	uint32_t bits = (uint32_t)b << 16;
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

static inline uint16_t f32_to_bf16(float f)
{
	uint32_t x;

	memcpy(&x, &f, sizeof(x));
	/*
	 * NaN: truncated, a payload in the low bits only would leave an
	 * infinity, and rounding could carry out of it; the quiet bit keeps it
	 * NaN.
	 */
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40);
	/*
	 * Add just under half of the dropped part's unit, one more when the
	 * kept part is odd: ties go to even. A carry into the exponent is the
	 * rounded result, up to infinity for what is past the largest finite.
	 */
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

/* Element @i of a float tensor's data as fp32. */
static inline float load_f(const void *p, uint32_t dtype, int64_t i)
{
	switch (dtype) {
	case EIA_DTYPE_F16:
		return f16_to_f32(((const uint16_t *)p)[i]);
	case EIA_DTYPE_BF16:
		return bf16_to_f32(((const uint16_t *)p)[i]);
	default:
		return ((const float *)p)[i];
	}
}

static inline void store_f(void *p, uint32_t dtype, int64_t i, float v)
{
	switch (dtype) {
	case EIA_DTYPE_F16:
		((uint16_t *)p)[i] = f32_to_f16(v);
		break;
	case EIA_DTYPE_BF16:
		((uint16_t *)p)[i] = f32_to_bf16(v);
		break;
	default:
		((float *)p)[i] = v;
	}
}

#endif
