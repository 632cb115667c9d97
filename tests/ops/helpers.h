/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the operator tests: tensors backed by exactly-sized heap
 * buffers (so ASan sees any overrun), element access in double through
 * fp16 and bf16 codecs of the tests' own (independent of the library's), a
 * seeded generator, multi-index helpers for the naive references, and a
 * tolerance check that reports the first mismatch.
 */
#ifndef EIA_TESTS_OPS_HELPERS_H
#define EIA_TESTS_OPS_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "ops.h"

#define NDIMS(...) (sizeof((const int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t))
/* A tensor of @dtype with the given dims (at least one), zero-filled. */
#define T(dtype, ...) \
	tnew(dtype, (uint32_t)NDIMS(__VA_ARGS__), (const int64_t[]){ __VA_ARGS__ })
/* The same as a pointer, for arguments. */
#define TP(dtype, ...) (&(struct eia_tensor[]){ T(dtype, __VA_ARGS__) }[0])

/*
 * Tolerances: fp32 kernels vs double references, and fp16 and bf16 storage
 * (one rounding is at most 2^-11 and 2^-8 relative).
 */
#define TOL_F32 1e-5
#define TOL_F32_BLAS 1e-4
#define TOL_F16 2e-3
#define TOL_BF16 1e-2

struct eia_tensor tnew(uint32_t dtype, uint32_t ndim, const int64_t *dims);
struct eia_tensor tscalar(uint32_t dtype);
/* A copy of @t's shape and dtype with fresh zeroed storage. */
struct eia_tensor tlike(const struct eia_tensor *t);
/* Scratch for references, freed with the tensors. */
double *ralloc(int64_t n);
/* Free everything tnew()/ralloc() handed out. */
void tfree_all(void);

int64_t tcount(const struct eia_tensor *t);
double tget(const struct eia_tensor *t, int64_t i);
/* fp16 and bf16: the nearest value, ties to even. */
void tset(struct eia_tensor *t, int64_t i, double v);
/*
 * Random values in [lo, hi]: fp32 uniform, fp16 multiples of 1/256 (exact in
 * half precision), bf16 uniform rounded to bf16, integers uniform, bool 0/1.
 */
void tfill(struct eia_tensor *t, double lo, double hi);
void tseed(uint64_t seed);
uint64_t trand(void);

/* Independent binary16 codec: by arithmetic, and by search for encoding. */
double ref_f16_decode(uint16_t h);
uint16_t ref_f16_encode(double v);
/* The same for bfloat16. */
double ref_bf16_decode(uint16_t b);
uint16_t ref_bf16_encode(double v);
/* The tolerance of a float dtype's results: TOL_F16, TOL_BF16 or @f32. */
double tol_of(uint32_t dtype, double f32);

/* Multi-index helpers for naive loops. */
void unravel(int64_t i, uint32_t ndim, const int64_t *dims, int64_t *idx);
/* @t read at output index @oidx (rank @ondim) under numpy broadcasting. */
double bget(const struct eia_tensor *t, uint32_t ondim, const int64_t *oidx);
int64_t ravel(uint32_t ndim, const int64_t *dims, const int64_t *idx);

/*
 * Number of elements where got differs from @ref by more than
 * atol + rtol * |ref| (NaN must meet NaN, infinities must match). The first
 * few mismatches are printed as TAP comments. Shape is @got's.
 */
int64_t tcompare(const struct eia_tensor *got, const double *ref, double atol,
		 double rtol);
/* Exact comparison of two tensors' bytes and shapes. */
bool tequal(const struct eia_tensor *a, const struct eia_tensor *b);

#endif
