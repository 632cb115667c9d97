// SPDX-License-Identifier: MIT
/*
 * Conv's AVX-512 kernel (see conv.h for the staged layout it reads).
 *
 * A tile is up to 8 filters by up to 48 consecutive grid positions (three
 * vectors), its sums kept in 24 registers over the whole patch: every patch
 * row costs one offset, three vector loads of staged input and eight
 * broadcast weights for 24 fused multiply-adds, and nothing but the finished
 * tile is ever stored. Debian's OpenBLAS 0.3.21 does not know the newest
 * AVX-512 CPUs and runs its AVX2 kernels there, at half the rate.
 *
 * Built for AVX-512F by function attribute only, so the rest of the library
 * keeps the baseline ISA; conv_avx512_usable() gates every call.
 */
#include <pthread.h>
#include <stdlib.h>

#include "conv.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define LANES 16
#define MR 8		/* filters per tile */
#define NV 3		/* vectors per tile */
#define TILE (NV * LANES)

struct tile {
	int64_t k;			/* patch rows */
	const float *a;			/* filter i, row k: a[i * lda + k] */
	int64_t lda;
	const float *b;			/* row k, lane l: b[off[k] + 16 v + l] */
	const int64_t *off;
	const float *bias;		/* per filter, or NULL */
	float *y;			/* filter i: y + i * ldy */
	int64_t ldy;
	__mmask16 load[NV];		/* lanes inside the grid */
	__mmask16 keep[NV];		/* lanes at real outputs */
	__mmask16 store[NV];		/* as many low lanes as @keep has */
	int64_t dst[NV];		/* output index of the first kept lane */
};

/*
 * One function per tile shape, generated with the shape as literals: both
 * compilers then keep the sums in registers. (An always_inline helper that
 * takes the shape as arguments leaves them in memory under clang, which
 * simplifies the helper on its own before inlining its several callers.)
 * Only the last vector of a tile can be partial.
 */
#define TILE_FN(mr, nv) \
static AVX512 void tile_##mr##x##nv(const struct tile *t) \
{ \
	const float *a = t->a; \
	int64_t lda = t->lda; \
	__mmask16 last = t->load[nv - 1]; \
	__m512 acc[mr][nv]; \
	\
	_Pragma("GCC unroll 8") \
	for (int i = 0; i < mr; i++) \
		_Pragma("GCC unroll 3") \
		for (int v = 0; v < nv; v++) \
			acc[i][v] = t->bias ? _mm512_set1_ps(t->bias[i]) : \
					      _mm512_setzero_ps(); \
	for (int64_t k = 0; k < t->k; k++) { \
		const float *b = t->b + t->off[k]; \
		__m512 bv[nv]; \
		\
		_Pragma("GCC unroll 3") \
		for (int v = 0; v < nv - 1; v++) \
			bv[v] = _mm512_loadu_ps(b + v * LANES); \
		bv[nv - 1] = _mm512_maskz_loadu_ps(last, b + (nv - 1) * LANES); \
		_Pragma("GCC unroll 8") \
		for (int i = 0; i < mr; i++) { \
			__m512 av = _mm512_set1_ps(a[i * lda + k]); \
			\
			_Pragma("GCC unroll 3") \
			for (int v = 0; v < nv; v++) \
				acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]); \
		} \
	} \
	_Pragma("GCC unroll 8") \
	for (int i = 0; i < mr; i++) \
		_Pragma("GCC unroll 3") \
		for (int v = 0; v < nv; v++) \
			_mm512_mask_storeu_ps(t->y + i * t->ldy + t->dst[v], \
					      t->store[v], \
					      _mm512_maskz_compress_ps(t->keep[v], \
								       acc[i][v])); \
}
#define TILE_ROW(mr) TILE_FN(mr, 1) TILE_FN(mr, 2) TILE_FN(mr, 3)
TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4)
TILE_ROW(5) TILE_ROW(6) TILE_ROW(7) TILE_ROW(8)

#define TILE_FNS(mr) { tile_##mr##x1, tile_##mr##x2, tile_##mr##x3 }
static void (*const tile_fns[MR][NV])(const struct tile *) = {
	TILE_FNS(1), TILE_FNS(2), TILE_FNS(3), TILE_FNS(4),
	TILE_FNS(5), TILE_FNS(6), TILE_FNS(7), TILE_FNS(8),
};

/*
 * Which lanes of the vector at grid position @pos (lanes in @load) are real
 * outputs, and where the first of them goes: kept lanes are consecutive
 * outputs once the dropped ends of grid rows are squeezed out.
 */
static void vec_outputs(const struct conv_job *j, int64_t pos,
			__mmask16 load, __mmask16 *keep, __mmask16 *store,
			int64_t *dst)
{
	int64_t ow = j->win[1].out, col = pos % j->wq;
	unsigned int kept = 0, n = 0;

	*dst = pos / j->wq * ow + (col < ow ? col : ow);
	for (int l = 0; l < LANES; l++) {
		if ((load >> l & 1) && col < ow) {
			kept |= 1u << l;
			n++;
		}
		if (++col == j->wq)
			col = 0;
	}
	*keep = (__mmask16)kept;
	*store = (__mmask16)((1u << n) - 1);
}

AVX512 void conv_avx512_block(const struct conv_job *j, int64_t n, int64_t g,
			      int64_t m0, int64_t m1, int64_t g0, int64_t g1)
{
	const float *w = j->w + g * j->mg * j->kdim;
	float *y = j->y + (n * j->m + g * j->mg) * j->ohw;
	struct tile t = {
		.k = j->kdim, .lda = j->kdim, .off = j->off, .ldy = j->ohw,
	};

	for (int64_t p = g0; p < g1; p += TILE) {
		int64_t width = g1 - p < TILE ? g1 - p : TILE;
		int nv = (int)((width + LANES - 1) / LANES);

		for (int v = 0; v < nv; v++) {
			int64_t lanes = width - v * LANES;

			t.load[v] = lanes >= LANES ? (__mmask16)0xffff :
				    (__mmask16)((1u << lanes) - 1);
			vec_outputs(j, p + v * LANES, t.load[v], &t.keep[v],
				    &t.store[v], &t.dst[v]);
		}
		t.b = j->src + n * j->src_img + g * j->src_grp + p;
		for (int64_t m = m0; m < m1; m += MR) {
			int mr = (int)(m1 - m < MR ? m1 - m : MR);

			t.a = w + m * j->kdim;
			t.bias = j->bias ? j->bias + g * j->mg + m : NULL;
			t.y = y + m * j->ohw;
			tile_fns[mr - 1][nv - 1](&t);
		}
	}
}

static pthread_once_t usable_once = PTHREAD_ONCE_INIT;
static bool usable;

/* EIA_OPS_NO_AVX512 lets the tests (and comparisons) take the other path. */
static void check_usable(void)
{
	usable = __builtin_cpu_supports("avx512f") &&
		 !getenv("EIA_OPS_NO_AVX512");
}

bool conv_avx512_usable(void)
{
	pthread_once(&usable_once, check_usable);
	return usable;
}

#else

bool conv_avx512_usable(void)
{
	return false;
}

void conv_avx512_block(const struct conv_job *j, int64_t n, int64_t g,
		       int64_t m0, int64_t m1, int64_t g0, int64_t g1)
{
	(void)j, (void)n, (void)g, (void)m0, (void)m1, (void)g0, (void)g1;
	abort();
}

#endif
