/* SPDX-License-Identifier: MIT */
/*
 * Conv's two ways of computing, shared by conv.c (checks, planning, the
 * staged input, the portable im2col + BLAS path) and conv_avx512.c (the
 * AVX-512 kernel).
 *
 * The AVX-512 path never unfolds patches. For each channel and each stride
 * phase the kernel's taps fall on (the padded input's rows and columns whose
 * index is congruent to a given value modulo the stride) it stages one
 * zero-padded plane with rows wq floats long, so that every tap becomes a
 * unit-stride shift: the output at (oh, ow) reads, for patch row k (channel,
 * tap), the staged float at off[k] + oh * wq + ow. The outputs of an (image,
 * group) thus form a grid of rows wq long whose first ow entries are real;
 * the other (kW - 1) * dW / sW are computed and dropped. A unit-stride,
 * unpadded input needs no staging: X itself is laid out so.
 */
#ifndef EIA_OPS_CONV_H
#define EIA_OPS_CONV_H

#include "internal.h"

/* Largest stride the staged layout takes; larger ones use im2col + BLAS. */
#define CONV_STAGE_MAX_STRIDE 4

struct conv_job {
	const float *x, *w, *bias;
	float *y;
	int64_t n, c, h, wd;		/* images; input channels, height, width */
	int64_t m, group, cg, mg;	/* output channels; per group */
	struct win_axis win[2];
	int64_t kdim;			/* patch rows: cg * kh * kw */
	int64_t ohw;
	int64_t mblock, mparts;		/* filters per task, parts of a group */

	/* AVX-512 path: see above. */
	const float *src;		/* staged input, or X */
	int64_t src_img, src_grp;	/* floats per image, per group */
	const int64_t *off;		/* per patch row */
	int64_t wq;			/* staged row length */
	int64_t len;			/* grid positions: (oh - 1) * wq + ow */
	int64_t gblock, gparts;		/* grid positions per task, parts */

	/* im2col + BLAS path. */
	struct eia_pool *pool;
	int64_t chunk, nchunks;		/* output positions per task */
	bool direct;			/* 1x1, unit stride, no pads */
};

/* Whether this CPU runs conv_avx512_block() (checked once). */
bool conv_avx512_usable(void);

/*
 * Rows [m0, m1) of group @g's filters over grid positions [g0, g1) of image
 * @n: Y = W * patches + B, written at the real positions only.
 */
void conv_avx512_block(const struct conv_job *j, int64_t n, int64_t g,
		       int64_t m0, int64_t m1, int64_t g0, int64_t g1);

#endif
