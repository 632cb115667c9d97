// SPDX-License-Identifier: MIT
/*
 * gpud's own CUDA kernels, compiled by nvcc into one fatbin (sm_80, sm_90
 * and compute_90 PTX for newer GPUs) that gpud embeds and loads with
 * cuModuleLoadData. Semantics are those of the CPU operators (gpud/ops,
 * Documentation/operators.rst): fp16 is storage only, computed in fp32 and
 * rounded once, to nearest even, on store. The host side checks every shape
 * before a kernel runs; the kernels trust their parameters.
 */
#include <cuda_fp16.h>
#include <stdint.h>

#include "kernels.h"

namespace {

__device__ float load(const float *p, int64_t i) { return p[i]; }
__device__ float load(const __half *p, int64_t i) { return __half2float(p[i]); }
__device__ void store(float *p, int64_t i, float v) { p[i] = v; }
__device__ void store(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }

__device__ int64_t thread_index()
{
	return (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ int64_t grid_size()
{
	return (int64_t)gridDim.x * blockDim.x;
}

/* Offsets of element @i in each of @w's operands. */
__device__ void walk_offsets(const gpud_cu_walk &w, int64_t i, int64_t *off)
{
	for (int k = 0; k < w.nops; k++)
		off[k] = 0;
	for (int d = w.ndim - 1; d >= 0; d--) {
		int64_t c = i % w.dims[d];

		i /= w.dims[d];
		for (int k = 0; k < w.nops; k++)
			off[k] += c * w.stride[k][d];
	}
}

__device__ float binop(int op, float a, float b)
{
	switch (op) {
	case GPUD_CU_ADD: return a + b;
	case GPUD_CU_SUB: return a - b;
	case GPUD_CU_MUL: return a * b;
	case GPUD_CU_DIV: return a / b;
	}
	return powf(a, b);
}

__device__ float unop(int op, float x)
{
	switch (op) {
	case GPUD_CU_RELU: return x < 0.0f ? 0.0f : x;	/* NaN stays NaN */
	case GPUD_CU_ERF: return erff(x);
	case GPUD_CU_TANH: return tanhf(x);
	case GPUD_CU_SIGMOID:
		/* exp() of non-positive arguments only: never overflows */
		if (x >= 0.0f)
			return 1.0f / (1.0f + expf(-x));
		return expf(x) / (1.0f + expf(x));
	case GPUD_CU_EXP: return expf(x);
	case GPUD_CU_SQRT: return sqrtf(x);
	case GPUD_CU_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
	}
	/* GPUD_CU_GELU_TANH */
	return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

template <typename T>
__device__ void binary(const T *a, const T *b, T *y, const gpud_cu_walk &w, int op)
{
	int64_t off[4];

	for (int64_t i = thread_index(); i < w.n; i += grid_size()) {
		walk_offsets(w, i, off);
		store(y, off[2], binop(op, load(a, off[0]), load(b, off[1])));
	}
}

template <typename T>
__device__ void unary(const T *x, T *y, int64_t n, int op)
{
	for (int64_t i = thread_index(); i < n; i += grid_size())
		store(y, i, unop(op, load(x, i)));
}

template <typename T>
__device__ void scale(const T *x, T *y, const gpud_cu_walk &w, float s)
{
	int64_t off[4];

	for (int64_t i = thread_index(); i < w.n; i += grid_size()) {
		walk_offsets(w, i, off);
		store(y, off[1], s * load(x, off[0]));
	}
}

template <typename E>
__device__ void copy(const E *src, E *dst, const gpud_cu_walk &w)
{
	int64_t off[4];

	for (int64_t i = thread_index(); i < w.n; i += grid_size()) {
		walk_offsets(w, i, off);
		dst[off[1]] = src[off[0]];
	}
}

template <typename E>
__device__ void where(const uint8_t *cond, const E *x, const E *y, E *z,
		      const gpud_cu_walk &w)
{
	int64_t off[4];

	for (int64_t i = thread_index(); i < w.n; i += grid_size()) {
		walk_offsets(w, i, off);
		z[off[3]] = cond[off[0]] ? x[off[1]] : y[off[2]];
	}
}

/* The maximum first, then exp and a sum in double, as the CPU does. */
template <typename T>
__device__ void softmax(const T *x, T *y, int64_t outer, int64_t len, int64_t inner)
{
	for (int64_t lane = thread_index(); lane < outer * inner; lane += grid_size()) {
		int64_t base = lane / inner * len * inner + lane % inner;
		float m = load(x, base);
		double sum = 0.0;

		for (int64_t j = 1; j < len; j++)
			m = fmaxf(m, load(x, base + j * inner));
		for (int64_t j = 0; j < len; j++)
			sum += expf(load(x, base + j * inner) - m);
		for (int64_t j = 0; j < len; j++)
			store(y, base + j * inner,
			      (float)(expf(load(x, base + j * inner) - m) / sum));
	}
}

/* Taps [lo, hi) of output @o's window along one axis landing in [a, b). */
__device__ void taps(const gpud_cu_window &w, int i, int64_t o, int64_t a, int64_t b,
		     int64_t *lo, int64_t *hi)
{
	int64_t start = o * w.s[i] - w.p[i];
	int64_t x = a - start, y = b - start;
	int64_t l = x >= 0 ? (x + w.d[i] - 1) / w.d[i] : -(-x / w.d[i]);
	int64_t h = y >= 0 ? (y + w.d[i] - 1) / w.d[i] : -(-y / w.d[i]);

	*lo = l > 0 ? l : 0;
	*hi = h < w.k[i] ? h : w.k[i];
	if (*hi < *lo)
		*hi = *lo;
}

template <typename T>
__device__ void conv2d(const T *x, const T *wt, const T *b, T *y, const gpud_cu_window &w)
{
	int64_t n_out = w.n * w.m * w.oh * w.ow;

	for (int64_t i = thread_index(); i < n_out; i += grid_size()) {
		int64_t ox = i % w.ow, oy = i / w.ow % w.oh, m = i / (w.ow * w.oh) % w.m;
		int64_t n = i / (w.ow * w.oh * w.m), g = m / w.mg;
		int64_t hlo, hhi, wlo, whi;
		float acc = w.has_bias ? load(b, m) : 0.0f;

		taps(w, 0, oy, 0, w.h, &hlo, &hhi);
		taps(w, 1, ox, 0, w.w, &wlo, &whi);
		for (int64_t c = 0; c < w.cg; c++) {
			const int64_t plane = (n * w.c + g * w.cg + c) * w.h * w.w;
			const int64_t filt = (m * w.cg + c) * w.k[0] * w.k[1];

			for (int64_t kh = hlo; kh < hhi; kh++) {
				int64_t row = plane + (oy * w.s[0] - w.p[0] + kh * w.d[0]) * w.w;

				for (int64_t kw = wlo; kw < whi; kw++)
					acc += load(x, row + ox * w.s[1] - w.p[1] + kw * w.d[1]) *
					       load(wt, filt + kh * w.k[1] + kw);
			}
		}
		store(y, i, acc);
	}
}

/* MaxPool (@avg false) or AveragePool, the CPU's order of operations. */
template <typename T>
__device__ void pool2d(const T *x, T *y, const gpud_cu_window &w, bool avg)
{
	int64_t n_out = w.n * w.c * w.oh * w.ow;

	for (int64_t i = thread_index(); i < n_out; i += grid_size()) {
		int64_t ox = i % w.ow, oy = i / w.ow % w.oh, plane = i / (w.ow * w.oh);
		int64_t hlo, hhi, wlo, whi;
		float m = -INFINITY;
		double sum = 0.0;

		taps(w, 0, oy, 0, w.h, &hlo, &hhi);
		taps(w, 1, ox, 0, w.w, &wlo, &whi);
		for (int64_t kh = hlo; kh < hhi; kh++) {
			int64_t row = (plane * w.h + oy * w.s[0] - w.p[0] + kh * w.d[0]) * w.w;

			for (int64_t kw = wlo; kw < whi; kw++) {
				float v = load(x, row + ox * w.s[1] - w.p[1] + kw * w.d[1]);

				m = v > m ? v : m;
				sum += v;
			}
		}
		if (!avg) {
			store(y, i, m);
			continue;
		}
		taps(w, 0, oy, w.lo[0], w.hi[0], &hlo, &hhi);
		taps(w, 1, ox, w.lo[1], w.hi[1], &wlo, &whi);
		store(y, i, (float)(sum / (double)((hhi - hlo) * (whi - wlo))));
	}
}

template <typename T>
__device__ void gavgpool(const T *x, T *y, int64_t planes, int64_t size)
{
	for (int64_t p = thread_index(); p < planes; p += grid_size()) {
		double sum = 0.0;

		for (int64_t j = 0; j < size; j++)
			sum += load(x, p * size + j);
		store(y, p, (float)(sum / (double)size));
	}
}

template <typename T>
__device__ void layernorm(const T *x, const T *sc, const T *b, T *y, int64_t rows,
			  int64_t cols, const gpud_cu_walk &w, float eps, int has_bias)
{
	int64_t off[4];

	for (int64_t r = thread_index(); r < rows; r += grid_size()) {
		int64_t base = r * cols;
		double mean = 0.0, var = 0.0;
		float inv;

		for (int64_t j = 0; j < cols; j++)
			mean += load(x, base + j);
		mean /= (double)cols;
		for (int64_t j = 0; j < cols; j++) {
			double t = load(x, base + j) - mean;

			var += t * t;
		}
		var /= (double)cols;
		inv = (float)(1.0 / sqrt(var + eps));
		for (int64_t j = 0; j < cols; j++) {
			float v;

			walk_offsets(w, j, off);
			v = (float)(load(x, base + j) - mean) * inv * load(sc, off[0]);
			if (has_bias)
				v += load(b, off[1]);
			store(y, base + j, v);
		}
	}
}

template <typename T>
__device__ void reduce_mean(const T *x, T *y, const gpud_cu_walk &kept,
			    const gpud_cu_walk &red)
{
	int64_t ko[4], ro[4];

	for (int64_t i = thread_index(); i < kept.n; i += grid_size()) {
		double sum = 0.0;

		walk_offsets(kept, i, ko);
		for (int64_t j = 0; j < red.n; j++) {
			walk_offsets(red, j, ro);
			sum += load(x, ko[0] + ro[0]);
		}
		store(y, i, (float)(sum / (double)red.n));	/* 0 / 0: NaN */
	}
}

template <typename I>
__device__ void gather_check(const I *idx, int64_t n, int64_t dim, int *bad)
{
	for (int64_t i = thread_index(); i < n; i += grid_size())
		if (idx[i] < -dim || idx[i] >= dim)
			*bad = 1;
}

template <typename I, typename E>
__device__ void gather(const E *data, const I *idx, E *y, int64_t outer, int64_t dim,
		       int64_t nidx, int64_t inner)
{
	int64_t n = outer * nidx * inner;

	for (int64_t i = thread_index(); i < n; i += grid_size()) {
		int64_t in = i % inner, j = i / inner % nidx, o = i / (inner * nidx);
		int64_t k = idx[j] < 0 ? idx[j] + dim : idx[j];

		y[i] = data[(o * dim + k) * inner + in];
	}
}

} /* namespace */

extern "C" {

__global__ void eia_binary_f32(const float *a, const float *b, float *y,
			       gpud_cu_walk w, int op)
{
	binary(a, b, y, w, op);
}

__global__ void eia_binary_f16(const __half *a, const __half *b, __half *y,
			       gpud_cu_walk w, int op)
{
	binary(a, b, y, w, op);
}

__global__ void eia_unary_f32(const float *x, float *y, int64_t n, int op)
{
	unary(x, y, n, op);
}

__global__ void eia_unary_f16(const __half *x, __half *y, int64_t n, int op)
{
	unary(x, y, n, op);
}

__global__ void eia_scale_f32(const float *x, float *y, gpud_cu_walk w, float s)
{
	scale(x, y, w, s);
}

__global__ void eia_scale_f16(const __half *x, __half *y, gpud_cu_walk w, float s)
{
	scale(x, y, w, s);
}

__global__ void eia_copy_e1(const uint8_t *s, uint8_t *d, gpud_cu_walk w) { copy(s, d, w); }
__global__ void eia_copy_e2(const uint16_t *s, uint16_t *d, gpud_cu_walk w) { copy(s, d, w); }
__global__ void eia_copy_e4(const uint32_t *s, uint32_t *d, gpud_cu_walk w) { copy(s, d, w); }
__global__ void eia_copy_e8(const uint64_t *s, uint64_t *d, gpud_cu_walk w) { copy(s, d, w); }

__global__ void eia_where_e1(const uint8_t *c, const uint8_t *x, const uint8_t *y,
			     uint8_t *z, gpud_cu_walk w)
{
	where(c, x, y, z, w);
}

__global__ void eia_where_e2(const uint8_t *c, const uint16_t *x, const uint16_t *y,
			     uint16_t *z, gpud_cu_walk w)
{
	where(c, x, y, z, w);
}

__global__ void eia_where_e4(const uint8_t *c, const uint32_t *x, const uint32_t *y,
			     uint32_t *z, gpud_cu_walk w)
{
	where(c, x, y, z, w);
}

__global__ void eia_where_e8(const uint8_t *c, const uint64_t *x, const uint64_t *y,
			     uint64_t *z, gpud_cu_walk w)
{
	where(c, x, y, z, w);
}

__global__ void eia_softmax_f32(const float *x, float *y, int64_t outer, int64_t len,
				int64_t inner)
{
	softmax(x, y, outer, len, inner);
}

__global__ void eia_softmax_f16(const __half *x, __half *y, int64_t outer, int64_t len,
				int64_t inner)
{
	softmax(x, y, outer, len, inner);
}

#define FLOAT_KERNELS(sfx, T) \
__global__ void eia_conv2d_##sfx(const T *x, const T *w, const T *b, T *y, \
				 gpud_cu_window win) \
{ \
	conv2d(x, w, b, y, win); \
} \
__global__ void eia_maxpool_##sfx(const T *x, T *y, gpud_cu_window win) \
{ \
	pool2d(x, y, win, false); \
} \
__global__ void eia_avgpool_##sfx(const T *x, T *y, gpud_cu_window win) \
{ \
	pool2d(x, y, win, true); \
} \
__global__ void eia_gavgpool_##sfx(const T *x, T *y, int64_t planes, int64_t size) \
{ \
	gavgpool(x, y, planes, size); \
} \
__global__ void eia_layernorm_##sfx(const T *x, const T *s, const T *b, T *y, \
				    int64_t rows, int64_t cols, gpud_cu_walk w, \
				    float eps, int has_bias) \
{ \
	layernorm(x, s, b, y, rows, cols, w, eps, has_bias); \
} \
__global__ void eia_reduce_mean_##sfx(const T *x, T *y, gpud_cu_walk kept, \
				      gpud_cu_walk red) \
{ \
	reduce_mean(x, y, kept, red); \
}

FLOAT_KERNELS(f32, float)
FLOAT_KERNELS(f16, __half)

__global__ void eia_gather_check_i32(const int32_t *idx, int64_t n, int64_t dim, int *bad)
{
	gather_check(idx, n, dim, bad);
}

__global__ void eia_gather_check_i64(const int64_t *idx, int64_t n, int64_t dim, int *bad)
{
	gather_check(idx, n, dim, bad);
}

#define GATHER_KERNEL(isfx, I, esfx, E) \
__global__ void eia_gather_##isfx##_##esfx(const E *data, const I *idx, E *y, \
					   int64_t outer, int64_t dim, int64_t nidx, \
					   int64_t inner) \
{ \
	gather(data, idx, y, outer, dim, nidx, inner); \
}

GATHER_KERNEL(i32, int32_t, e1, uint8_t)
GATHER_KERNEL(i32, int32_t, e2, uint16_t)
GATHER_KERNEL(i32, int32_t, e4, uint32_t)
GATHER_KERNEL(i32, int32_t, e8, uint64_t)
GATHER_KERNEL(i64, int64_t, e1, uint8_t)
GATHER_KERNEL(i64, int64_t, e2, uint16_t)
GATHER_KERNEL(i64, int64_t, e4, uint32_t)
GATHER_KERNEL(i64, int64_t, e8, uint64_t)

} /* extern "C" */
