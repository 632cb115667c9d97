// SPDX-License-Identifier: MIT
/*
 * gpud's own CUDA kernels, compiled by nvcc into one fatbin (sm_80, sm_90
 * and compute_90 PTX for newer GPUs) that gpud embeds and loads with
 * cuModuleLoadData. Semantics are those of the CPU operators (gpud/ops,
 * Documentation/operators.rst): fp16 and bf16 are storage only, computed in
 * fp32 and rounded once, to nearest even, on store. The host side checks
 * every shape before a kernel runs; the kernels trust their parameters.
 */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "kernels.h"

namespace {

__device__ float load(const float *p, int64_t i) { return p[i]; }
__device__ float load(const __half *p, int64_t i) { return __half2float(p[i]); }
__device__ void store(float *p, int64_t i, float v) { p[i] = v; }
__device__ void store(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }
__device__ float load(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }
__device__ void store(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

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

/* Min and Max: a NaN operand wins, as on the CPU (numpy's semantics). */
template <typename T>
__device__ T min_max(int op, T a, T b)
{
	if (op == GPUD_CU_MIN)
		return a < b || a != a ? a : b;
	return a > b || a != a ? a : b;
}

__device__ float binop(int op, float a, float b)
{
	switch (op) {
	case GPUD_CU_ADD: return a + b;
	case GPUD_CU_SUB: return a - b;
	case GPUD_CU_MUL: return a * b;
	case GPUD_CU_DIV: return a / b;
	case GPUD_CU_POW: return powf(a, b);
	}
	return min_max(op, a, b);
}

/* max(0, min(1, alpha x + beta)), comparisons keeping NaN. */
__device__ float hard_sigmoid(float x, float alpha, float beta)
{
	float v = alpha * x + beta;

	v = v < 0.0f ? 0.0f : v;
	return v > 1.0f ? 1.0f : v;
}

__device__ float unop(int op, float x, float alpha, float beta)
{
	switch (op) {
	case GPUD_CU_NEG: return -x;
	case GPUD_CU_ABS: return fabsf(x);
	case GPUD_CU_RECIPROCAL: return 1.0f / x;
	case GPUD_CU_LOG: return logf(x);
	case GPUD_CU_SIN: return sinf(x);
	case GPUD_CU_COS: return cosf(x);
	case GPUD_CU_FLOOR: return floorf(x);
	case GPUD_CU_CEIL: return ceilf(x);
	case GPUD_CU_SIGN: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;
	case GPUD_CU_LEAKY_RELU: return x < 0.0f ? alpha * x : x;
	case GPUD_CU_HARD_SIGMOID: return hard_sigmoid(x, alpha, beta);
	case GPUD_CU_HARD_SWISH: return x * hard_sigmoid(x, 1.0f / 6.0f, 0.5f);
	case GPUD_CU_ELU: return x < 0.0f ? alpha * expm1f(x) : x;
	/* exp() of non-positive arguments only: never overflows */
	case GPUD_CU_SOFTPLUS: return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
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
__device__ void unary(const T *x, T *y, int64_t n, int op, float alpha, float beta)
{
	for (int64_t i = thread_index(); i < n; i += grid_size())
		store(y, i, unop(op, load(x, i), alpha, beta));
}

/* Neg, Abs and Sign; the minimum wraps, as on the CPU. */
template <typename T>
__device__ void unary_int(const T *x, T *y, int64_t n, int op)
{
	for (int64_t i = thread_index(); i < n; i += grid_size()) {
		int64_t v = x[i];
		uint64_t neg = 0 - (uint64_t)v;

		switch (op) {
		case GPUD_CU_NEG: y[i] = (T)neg; break;
		case GPUD_CU_ABS: y[i] = v < 0 ? (T)neg : (T)v; break;
		default: y[i] = (T)((v > 0) - (v < 0));
		}
	}
}

/*
 * Integer Add, Sub, Mul, Div, Min and Max as on the CPU: wrapping, Div
 * truncating toward zero, a zero divisor giving 0, the minimum over -1
 * itself.
 */
template <typename T, typename U>
__device__ T int_binop(int op, T a, T b)
{
	switch (op) {
	case GPUD_CU_ADD: return (T)((U)a + (U)b);
	case GPUD_CU_SUB: return (T)((U)a - (U)b);
	case GPUD_CU_MUL: return (T)((U)a * (U)b);
	case GPUD_CU_DIV: return b == 0 ? 0 : b == -1 ? (T)((U)0 - (U)a) : a / b;
	}
	return min_max(op, a, b);
}

template <typename T, typename U>
__device__ void binary_int(const T *a, const T *b, T *y, const gpud_cu_walk &w, int op)
{
	int64_t off[4];

	for (int64_t i = thread_index(); i < w.n; i += grid_size()) {
		walk_offsets(w, i, off);
		y[off[2]] = int_binop<T, U>(op, a[off[0]], b[off[1]]);
	}
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
__device__ void softmax(const T *x, T *y, int64_t outer, int64_t len, int64_t inner,
			int log_softmax)
{
	for (int64_t lane = thread_index(); lane < outer * inner; lane += grid_size()) {
		int64_t base = lane / inner * len * inner + lane % inner;
		float m = load(x, base);
		double sum = 0.0;

		for (int64_t j = 1; j < len; j++)
			m = fmaxf(m, load(x, base + j * inner));
		for (int64_t j = 0; j < len; j++)
			sum += expf(load(x, base + j * inner) - m);
		if (log_softmax) {
			float lse = (float)::log(sum);

			for (int64_t j = 0; j < len; j++)
				store(y, base + j * inner, load(x, base + j * inner) - m - lse);
			continue;
		}
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

/* Taps [lo, hi) of output @o along axis @i of a 3-D window landing in [a, b). */
__device__ void taps3(const gpud_cu_window3 &w, int i, int64_t o, int64_t a, int64_t b,
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
__device__ void conv3d(const T *x, const T *wt, const T *b, T *y, const gpud_cu_window3 &w)
{
	int64_t per = w.out[0] * w.out[1] * w.out[2];
	int64_t n_out = w.n * w.m * per, plane = w.in[0] * w.in[1] * w.in[2];

	for (int64_t i = thread_index(); i < n_out; i += grid_size()) {
		int64_t o[3] = { i / (w.out[1] * w.out[2]) % w.out[0], i / w.out[2] % w.out[1],
				 i % w.out[2] };
		int64_t m = i / per % w.m, n = i / per / w.m, g = m / w.mg;
		int64_t lo[3], hi[3];
		float acc = w.has_bias ? load(b, m) : 0.0f;

		for (int a = 0; a < 3; a++)
			taps3(w, a, o[a], 0, w.in[a], &lo[a], &hi[a]);
		for (int64_t c = 0; c < w.cg; c++) {
			const int64_t base = (n * w.c + g * w.cg + c) * plane;
			const int64_t filt = (m * w.cg + c) * w.k[0] * w.k[1] * w.k[2];

			for (int64_t kz = lo[0]; kz < hi[0]; kz++) {
				int64_t iz = o[0] * w.s[0] - w.p[0] + kz * w.d[0];

				for (int64_t ky = lo[1]; ky < hi[1]; ky++) {
					int64_t iy = o[1] * w.s[1] - w.p[1] + ky * w.d[1];
					int64_t row = base + (iz * w.in[1] + iy) * w.in[2];
					int64_t frow = filt + (kz * w.k[1] + ky) * w.k[2];

					for (int64_t kx = lo[2]; kx < hi[2]; kx++)
						acc += load(x, row + o[2] * w.s[2] - w.p[2] +
							       kx * w.d[2]) *
						       load(wt, frow + kx);
				}
			}
		}
		store(y, i, acc);
	}
}

/* 3-D MaxPool (@avg false) or AveragePool, as gpud/ops/pool3d.c computes. */
template <typename T>
__device__ void pool3d(const T *x, T *y, const gpud_cu_window3 &w, bool avg)
{
	int64_t per = w.out[0] * w.out[1] * w.out[2];
	int64_t n_out = w.n * w.c * per, plane = w.in[0] * w.in[1] * w.in[2];

	for (int64_t i = thread_index(); i < n_out; i += grid_size()) {
		int64_t o[3] = { i % per / (w.out[1] * w.out[2]),
				 i % (w.out[1] * w.out[2]) / w.out[2], i % w.out[2] };
		int64_t base = i / per * plane, lo[3], hi[3], count = 1;
		float m = -INFINITY;
		double sum = 0.0;

		for (int a = 0; a < 3; a++)
			taps3(w, a, o[a], 0, w.in[a], &lo[a], &hi[a]);
		for (int64_t kz = lo[0]; kz < hi[0]; kz++) {
			int64_t iz = o[0] * w.s[0] - w.p[0] + kz * w.d[0];

			for (int64_t ky = lo[1]; ky < hi[1]; ky++) {
				int64_t iy = o[1] * w.s[1] - w.p[1] + ky * w.d[1];
				int64_t row = base + (iz * w.in[1] + iy) * w.in[2];

				for (int64_t kx = lo[2]; kx < hi[2]; kx++) {
					float v = load(x, row + o[2] * w.s[2] - w.p[2] +
							  kx * w.d[2]);

					m = v > m ? v : m;
					sum += v;
				}
			}
		}
		if (!avg) {
			store(y, i, m);
			continue;
		}
		for (int a = 0; a < 3; a++) {
			taps3(w, a, o[a], w.lo[a], w.hi[a], &lo[a], &hi[a]);
			count *= hi[a] - lo[a];
		}
		store(y, i, (float)(sum / (double)count));
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

/* gpud/ops/reduce.c's accumulations: floats in double, integers wrapping. */
template <typename T>
__device__ void reduce_float(const T *x, T *y, const gpud_cu_walk &kept,
			     const gpud_cu_walk &red, int op)
{
	int64_t ko[4], ro[4];

	for (int64_t i = thread_index(); i < kept.n; i += grid_size()) {
		double d = 0.0, mx = 0.0, r;

		walk_offsets(kept, i, ko);
		if (op == GPUD_CU_RED_LOG_SUM_EXP) {
			mx = -INFINITY;
			for (int64_t j = 0; j < red.n; j++) {
				double v;

				walk_offsets(red, j, ro);
				v = load(x, ko[0] + ro[0]);
				if (v > mx || v != v)
					mx = v;
			}
		}
		if (op == GPUD_CU_RED_MAX)
			d = -INFINITY;
		else if (op == GPUD_CU_RED_MIN)
			d = INFINITY;
		else if (op == GPUD_CU_RED_PROD)
			d = 1.0;
		for (int64_t j = 0; j < red.n && (op != GPUD_CU_RED_LOG_SUM_EXP || isfinite(mx));
		     j++) {
			double v;

			walk_offsets(red, j, ro);
			v = load(x, ko[0] + ro[0]);
			switch (op) {
			case GPUD_CU_RED_MAX:
				if (v > d || v != v)
					d = v;
				break;
			case GPUD_CU_RED_MIN:
				if (v < d || v != v)
					d = v;
				break;
			case GPUD_CU_RED_PROD: d *= v; break;
			case GPUD_CU_RED_L1: d += fabs(v); break;
			case GPUD_CU_RED_L2:
			case GPUD_CU_RED_SUM_SQUARE: d += v * v; break;
			case GPUD_CU_RED_LOG_SUM_EXP: d += exp(v - mx); break;
			default: d += v;
			}
		}
		switch (op) {
		case GPUD_CU_RED_MEAN: r = d / (double)red.n; break;	/* 0 / 0: NaN */
		case GPUD_CU_RED_L2: r = sqrt(d); break;
		case GPUD_CU_RED_LOG_SUM: r = log(d); break;
		case GPUD_CU_RED_LOG_SUM_EXP: r = isfinite(mx) ? mx + log(d) : mx; break;
		default: r = d;
		}
		store(y, i, (float)r);
	}
}

template <typename T>
__device__ void reduce_int(const T *x, T *y, const gpud_cu_walk &kept, const gpud_cu_walk &red,
			   int op, int64_t lo, int64_t hi)
{
	int64_t ko[4], ro[4];

	for (int64_t i = thread_index(); i < kept.n; i += grid_size()) {
		uint64_t u = op == GPUD_CU_RED_PROD ? 1 : 0;
		int64_t m = op == GPUD_CU_RED_MAX ? lo : hi;

		walk_offsets(kept, i, ko);
		for (int64_t j = 0; j < red.n; j++) {
			int64_t v;

			walk_offsets(red, j, ro);
			v = x[ko[0] + ro[0]];
			switch (op) {
			case GPUD_CU_RED_MAX: m = v > m ? v : m; break;
			case GPUD_CU_RED_MIN: m = v < m ? v : m; break;
			case GPUD_CU_RED_PROD: u *= (uint64_t)v; break;
			case GPUD_CU_RED_L1: u += v < 0 ? 0 - (uint64_t)v : (uint64_t)v; break;
			case GPUD_CU_RED_SUM_SQUARE: u += (uint64_t)v * (uint64_t)v; break;
			default: u += (uint64_t)v;
			}
		}
		y[i] = op == GPUD_CU_RED_MAX || op == GPUD_CU_RED_MIN ? (T)m : (T)u;
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

/* Cast's conversions, those of gpud/ops/cast.c. */
__device__ int64_t f_to_i64(float f)
{
	if (f != f)
		return 0;
	if (f >= 0x1p63f)
		return INT64_MAX;
	if (f <= -0x1p63f)
		return INT64_MIN;
	return (int64_t)f;
}

__device__ int32_t f_to_i32(float f)
{
	if (f != f)
		return 0;
	if (f >= 0x1p31f)
		return INT32_MAX;
	if (f <= -0x1p31f)
		return INT32_MIN;
	return (int32_t)f;
}

__device__ void store_from_f(void *y, int to, int64_t i, float f)
{
	switch (to) {
	case GPUD_CU_F32: ((float *)y)[i] = f; break;
	case GPUD_CU_F16: ((__half *)y)[i] = __float2half_rn(f); break;
	case GPUD_CU_BF16: ((__nv_bfloat16 *)y)[i] = __float2bfloat16_rn(f); break;
	case GPUD_CU_I64: ((int64_t *)y)[i] = f_to_i64(f); break;
	case GPUD_CU_I32: ((int32_t *)y)[i] = f_to_i32(f); break;
	default: ((uint8_t *)y)[i] = f != 0.0f;
	}
}

/*
 * @v in fp32 rounded to odd (truncated, the last bit set when anything was
 * dropped), as gpud/ops/cast.c does: bf16 then rounds it as it would @v,
 * where fp32's nearest could make a tie that @v is not.
 */
__device__ float i64_to_f32_odd(int64_t v)
{
	uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	int drop = a >> 24 ? 40 - __clzll((long long)a) : 0;
	float f;

	if (drop)
		a = a >> drop | ((a & ((1ull << drop) - 1)) != 0);
	f = ldexpf((float)a, drop);	/* exact: a < 2^24 */
	return v < 0 ? -f : f;
}

__device__ void store_from_i(void *y, int to, int64_t i, int64_t v)
{
	switch (to) {
	case GPUD_CU_F32: ((float *)y)[i] = (float)v; break;
	/* Through fp32, as on the CPU: integers that fit fp16 are exact there. */
	case GPUD_CU_F16: ((__half *)y)[i] = __float2half_rn((float)v); break;
	case GPUD_CU_BF16:
		((__nv_bfloat16 *)y)[i] = __float2bfloat16_rn(i64_to_f32_odd(v));
		break;
	case GPUD_CU_I64: ((int64_t *)y)[i] = v; break;
	case GPUD_CU_I32: ((int32_t *)y)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
	default: ((uint8_t *)y)[i] = v != 0;
	}
}

/* Comparisons are false for NaN, which stays; Max wins when Min > Max. */
template <typename T>
__device__ T clip(T v, T lo, T hi)
{
	v = v < lo ? lo : v;
	return v > hi ? hi : v;
}

template <typename T>
__device__ bool compare(int op, T a, T b)
{
	switch (op) {
	case GPUD_CU_EQ: return a == b;
	case GPUD_CU_LT: return a < b;
	case GPUD_CU_GT: return a > b;
	case GPUD_CU_LE: return a <= b;
	}
	return a >= b;
}

/* BOOL operands as 0/1: Equal and the logic operators. */
__device__ bool logic(int op, bool a, bool b)
{
	switch (op) {
	case GPUD_CU_EQ: return a == b;
	case GPUD_CU_AND: return a && b;
	case GPUD_CU_OR: return a || b;
	}
	return a != b;
}

/*
 * ArgMax and ArgMin as on the CPU: a NaN is the extreme both ways, the first
 * winning, the last with @last, as for ties.
 */
__device__ bool arg_better(float v, float best, bool max, bool last)
{
	if (best != best)
		return last && v != v;
	if (v != v)
		return true;
	if (v == best)
		return last;
	return max ? v > best : v < best;
}

__device__ bool arg_better(int64_t v, int64_t best, bool max, bool last)
{
	if (v == best)
		return last;
	return max ? v > best : v < best;
}

__device__ float value(const float *p, int64_t i) { return p[i]; }
__device__ float value(const __half *p, int64_t i) { return __half2float(p[i]); }
__device__ float value(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }
__device__ int64_t value(const int64_t *p, int64_t i) { return p[i]; }
__device__ int64_t value(const int32_t *p, int64_t i) { return p[i]; }

template <typename T>
__device__ void arg(const T *x, int64_t *y, int64_t outer, int64_t len, int64_t inner,
		    int max, int last)
{
	for (int64_t r = thread_index(); r < outer * inner; r += grid_size()) {
		int64_t base = r / inner * len * inner + r % inner, best = 0;
		auto bv = value(x, base);

		for (int64_t k = 1; k < len; k++) {
			auto v = value(x, base + k * inner);

			if (arg_better(v, bv, max, last)) {
				best = k;
				bv = v;
			}
		}
		y[r] = best;
	}
}

/* Floats add up in double, integers in 64 bits (wrapping), as on the CPU. */
__device__ void add(double &d, uint64_t &, float v) { d += v; }
__device__ void add(double &, uint64_t &u, int64_t v) { u += (uint64_t)v; }
__device__ void put_sum(float *y, int64_t k, double s, uint64_t) { y[k] = (float)s; }
__device__ void put_sum(__half *y, int64_t k, double s, uint64_t) { store(y, k, (float)s); }
__device__ void put_sum(__nv_bfloat16 *y, int64_t k, double s, uint64_t) { store(y, k, (float)s); }
__device__ void put_sum(int64_t *y, int64_t k, double, uint64_t u) { y[k] = (int64_t)u; }
__device__ void put_sum(int32_t *y, int64_t k, double, uint64_t u) { y[k] = (int32_t)(uint32_t)u; }

template <typename T>
__device__ void cumsum(const T *x, T *y, int64_t outer, int64_t len, int64_t inner,
		       int exclusive, int reverse)
{
	for (int64_t r = thread_index(); r < outer * inner; r += grid_size()) {
		int64_t base = r / inner * len * inner + r % inner;
		double d = 0.0;
		uint64_t u = 0;

		for (int64_t n = 0; n < len; n++) {
			int64_t k = base + (reverse ? len - 1 - n : n) * inner;
			auto v = value(x, k);

			if (!exclusive)
				add(d, u, v);
			put_sum(y, k, d, u);
			if (exclusive)
				add(d, u, v);
		}
	}
}

template <typename E>
__device__ void tile(const E *x, E *y, const gpud_cu_tile &t)
{
	for (int64_t i = thread_index(); i < t.n; i += grid_size()) {
		int64_t rest = i, src = 0, stride = 1;

		for (int d = t.ndim - 1; d >= 0; d--) {
			src += rest % t.out[d] % t.in[d] * stride;
			rest /= t.out[d];
			stride *= t.in[d];
		}
		y[i] = x[src];
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

__global__ void eia_binary_bf16(const __nv_bfloat16 *a, const __nv_bfloat16 *b,
				__nv_bfloat16 *y, gpud_cu_walk w, int op)
{
	binary(a, b, y, w, op);
}

__global__ void eia_binary_i64(const int64_t *a, const int64_t *b, int64_t *y,
			       gpud_cu_walk w, int op)
{
	binary_int<int64_t, uint64_t>(a, b, y, w, op);
}

__global__ void eia_binary_i32(const int32_t *a, const int32_t *b, int32_t *y,
			       gpud_cu_walk w, int op)
{
	binary_int<int32_t, uint32_t>(a, b, y, w, op);
}

__global__ void eia_unary_f32(const float *x, float *y, int64_t n, int op, float alpha,
			      float beta)
{
	unary(x, y, n, op, alpha, beta);
}

__global__ void eia_unary_f16(const __half *x, __half *y, int64_t n, int op, float alpha,
			      float beta)
{
	unary(x, y, n, op, alpha, beta);
}

__global__ void eia_unary_bf16(const __nv_bfloat16 *x, __nv_bfloat16 *y, int64_t n, int op,
			       float alpha, float beta)
{
	unary(x, y, n, op, alpha, beta);
}

__global__ void eia_unary_i64(const int64_t *x, int64_t *y, int64_t n, int op)
{
	unary_int(x, y, n, op);
}

__global__ void eia_unary_i32(const int32_t *x, int32_t *y, int64_t n, int op)
{
	unary_int(x, y, n, op);
}

__global__ void eia_scale_f32(const float *x, float *y, gpud_cu_walk w, float s)
{
	scale(x, y, w, s);
}

__global__ void eia_scale_f16(const __half *x, __half *y, gpud_cu_walk w, float s)
{
	scale(x, y, w, s);
}

__global__ void eia_scale_bf16(const __nv_bfloat16 *x, __nv_bfloat16 *y, gpud_cu_walk w,
			       float s)
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
				int64_t inner, int log_softmax)
{
	softmax(x, y, outer, len, inner, log_softmax);
}

__global__ void eia_softmax_f16(const __half *x, __half *y, int64_t outer, int64_t len,
				int64_t inner, int log_softmax)
{
	softmax(x, y, outer, len, inner, log_softmax);
}

__global__ void eia_softmax_bf16(const __nv_bfloat16 *x, __nv_bfloat16 *y, int64_t outer,
				 int64_t len, int64_t inner, int log_softmax)
{
	softmax(x, y, outer, len, inner, log_softmax);
}

#define FLOAT_KERNELS(sfx, T) \
__global__ void eia_conv2d_##sfx(const T *x, const T *w, const T *b, T *y, \
				 gpud_cu_window win) \
{ \
	conv2d(x, w, b, y, win); \
} \
__global__ void eia_conv3d_##sfx(const T *x, const T *w, const T *b, T *y, \
				 gpud_cu_window3 win) \
{ \
	conv3d(x, w, b, y, win); \
} \
__global__ void eia_maxpool3d_##sfx(const T *x, T *y, gpud_cu_window3 win) \
{ \
	pool3d(x, y, win, false); \
} \
__global__ void eia_avgpool3d_##sfx(const T *x, T *y, gpud_cu_window3 win) \
{ \
	pool3d(x, y, win, true); \
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
__global__ void eia_reduce_##sfx(const T *x, T *y, gpud_cu_walk kept, gpud_cu_walk red, \
				 int op) \
{ \
	reduce_float(x, y, kept, red, op); \
}

FLOAT_KERNELS(f32, float)
FLOAT_KERNELS(f16, __half)
FLOAT_KERNELS(bf16, __nv_bfloat16)

__global__ void eia_reduce_i64(const int64_t *x, int64_t *y, gpud_cu_walk kept, gpud_cu_walk red,
			       int op)
{
	reduce_int(x, y, kept, red, op, INT64_MIN, INT64_MAX);
}

__global__ void eia_reduce_i32(const int32_t *x, int32_t *y, gpud_cu_walk kept, gpud_cu_walk red,
			       int op)
{
	reduce_int(x, y, kept, red, op, INT32_MIN, INT32_MAX);
}

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

__global__ void eia_cast(const void *x, void *y, int64_t n, int from, int to)
{
	for (int64_t i = thread_index(); i < n; i += grid_size()) {
		switch (from) {
		case GPUD_CU_F32: store_from_f(y, to, i, ((const float *)x)[i]); break;
		case GPUD_CU_F16: store_from_f(y, to, i, __half2float(((const __half *)x)[i])); break;
		case GPUD_CU_BF16:
			store_from_f(y, to, i, __bfloat162float(((const __nv_bfloat16 *)x)[i]));
			break;
		case GPUD_CU_I64: store_from_i(y, to, i, ((const int64_t *)x)[i]); break;
		case GPUD_CU_I32: store_from_i(y, to, i, ((const int32_t *)x)[i]); break;
		default: store_from_i(y, to, i, ((const uint8_t *)x)[i] != 0);
		}
	}
}

__global__ void eia_clip(const void *x, const void *lo, const void *hi, void *y, int64_t n,
			 int dtype)
{
	for (int64_t i = thread_index(); i < n; i += grid_size()) {
		switch (dtype) {
		case GPUD_CU_F32:
			((float *)y)[i] = clip(((const float *)x)[i], *(const float *)lo,
					       *(const float *)hi);
			break;
		case GPUD_CU_F16:
			store((__half *)y, i, clip(load((const __half *)x, i),
						   load((const __half *)lo, 0),
						   load((const __half *)hi, 0)));
			break;
		case GPUD_CU_BF16:
			store((__nv_bfloat16 *)y, i, clip(load((const __nv_bfloat16 *)x, i),
							  load((const __nv_bfloat16 *)lo, 0),
							  load((const __nv_bfloat16 *)hi, 0)));
			break;
		case GPUD_CU_I64:
			((int64_t *)y)[i] = clip(((const int64_t *)x)[i], *(const int64_t *)lo,
						 *(const int64_t *)hi);
			break;
		default:
			((int32_t *)y)[i] = clip(((const int32_t *)x)[i], *(const int32_t *)lo,
						 *(const int32_t *)hi);
		}
	}
}

__global__ void eia_compare(const void *a, const void *b, uint8_t *y, gpud_cu_walk w, int op,
			    int dtype)
{
	int64_t off[4];

	for (int64_t i = thread_index(); i < w.n; i += grid_size()) {
		int64_t ia, ib;
		bool r;

		walk_offsets(w, i, off);
		ia = off[0];
		ib = off[1];
		switch (dtype) {
		case GPUD_CU_F32:
			r = compare(op, ((const float *)a)[ia], ((const float *)b)[ib]);
			break;
		case GPUD_CU_F16:
			r = compare(op, load((const __half *)a, ia), load((const __half *)b, ib));
			break;
		case GPUD_CU_BF16:
			r = compare(op, load((const __nv_bfloat16 *)a, ia),
				    load((const __nv_bfloat16 *)b, ib));
			break;
		case GPUD_CU_I64:
			r = compare(op, ((const int64_t *)a)[ia], ((const int64_t *)b)[ib]);
			break;
		case GPUD_CU_I32:
			r = compare(op, ((const int32_t *)a)[ia], ((const int32_t *)b)[ib]);
			break;
		default:
			r = logic(op, ((const uint8_t *)a)[ia] != 0, ((const uint8_t *)b)[ib] != 0);
		}
		y[off[2]] = r;
	}
}

__global__ void eia_not(const uint8_t *x, uint8_t *y, int64_t n)
{
	for (int64_t i = thread_index(); i < n; i += grid_size())
		y[i] = !x[i];
}

#define AXIS_KERNELS(sfx, T) \
__global__ void eia_arg_##sfx(const T *x, int64_t *y, int64_t outer, int64_t len, \
			      int64_t inner, int max, int last) \
{ \
	arg(x, y, outer, len, inner, max, last); \
} \
__global__ void eia_cumsum_##sfx(const T *x, T *y, int64_t outer, int64_t len, \
				 int64_t inner, int exclusive, int reverse) \
{ \
	cumsum(x, y, outer, len, inner, exclusive, reverse); \
}

AXIS_KERNELS(f32, float)
AXIS_KERNELS(f16, __half)
AXIS_KERNELS(bf16, __nv_bfloat16)
AXIS_KERNELS(i64, int64_t)
AXIS_KERNELS(i32, int32_t)

__global__ void eia_tile_e1(const uint8_t *x, uint8_t *y, gpud_cu_tile t) { tile(x, y, t); }
__global__ void eia_tile_e2(const uint16_t *x, uint16_t *y, gpud_cu_tile t) { tile(x, y, t); }
__global__ void eia_tile_e4(const uint32_t *x, uint32_t *y, gpud_cu_tile t) { tile(x, y, t); }
__global__ void eia_tile_e8(const uint64_t *x, uint64_t *y, gpud_cu_tile t) { tile(x, y, t); }

} /* extern "C" */

/*
 * Resize and ConvTranspose, step by step as gpud/ops/resize.c and
 * conv_transpose.c compute them.
 */
namespace {

__device__ int64_t clamp_index(double v, int64_t in)
{
	return !(v >= 0.0) ? 0 : v > (double)(in - 1) ? in - 1 : (int64_t)v;
}

__device__ double resize_coord(const gpud_cu_resize &r, int d, int64_t o)
{
	double scale = r.scales[d], in = (double)r.in[d];
	double s = scale != 0.0 ? scale : (double)r.out[d] / in;
	double len = scale != 0.0 ? scale * in : (double)r.out[d];
	double x = (double)o;

	switch (r.coord) {
	case GPUD_CU_PYTORCH_HALF_PIXEL:
		return len > 1.0 ? (x + 0.5) / s - 0.5 : 0.0;
	case GPUD_CU_ALIGN_CORNERS:
		return len == 1.0 ? 0.0 : x * (double)(r.in[d] - 1) / (len - 1.0);
	case GPUD_CU_ASYMMETRIC:
		return x / s;
	case GPUD_CU_TF_HALF_PIXEL_FOR_NN:
		return (x + 0.5) / s;
	default:
		return (x + 0.5) / s - 0.5;
	}
}

/* Taps of output index @o along dim @d: weight-0 taps left out; 1..4. */
__device__ int resize_taps(const gpud_cu_resize &r, int d, int64_t o, int64_t *idx, float *w)
{
	double x = resize_coord(r, d, o), f = floor(x), t = x - f;
	double c[4], sum = 0.0, A = r.a;
	int64_t in = r.in[d];
	int n = 0;

	if (r.mode == GPUD_CU_NEAREST) {
		if (r.nearest == GPUD_CU_ROUND_PREFER_CEIL)
			x = floor(x + 0.5);
		else if (r.nearest == GPUD_CU_NEAREST_FLOOR)
			x = f;
		else if (r.nearest == GPUD_CU_NEAREST_CEIL)
			x = ceil(x);
		else
			x = ceil(x - 0.5);
		idx[0] = clamp_index(x, in);
		w[0] = 1.0f;
		return 1;
	}
	if (r.mode == GPUD_CU_LINEAR) {
		c[0] = 1.0 - t;
		c[1] = t;
		for (int k = 0; k < 2; k++) {
			if (c[k] == 0.0)
				continue;
			idx[n] = clamp_index(f + k, in);
			w[n++] = (float)c[k];
		}
		return n;
	}
	c[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
	c[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
	c[2] = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
	c[3] = ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A;
	for (int k = 0; k < 4; k++) {
		if (r.exclude && (f + k - 1 < 0 || f + k - 1 >= (double)in))
			c[k] = 0.0;
		sum += c[k];
	}
	for (int k = 0; k < 4; k++) {
		if (c[k] == 0.0)
			continue;
		idx[n] = clamp_index(f + k - 1, in);
		w[n++] = (float)(r.exclude && sum != 0.0 ? c[k] / sum : c[k]);
	}
	if (!n) {
		idx[0] = clamp_index(f, in);
		w[0] = 0.0f;
		n = 1;
	}
	return n;
}

template <typename T>
__device__ void resize(const T *x, T *y, const gpud_cu_resize &r)
{
	for (int64_t i = thread_index(); i < r.n; i += grid_size()) {
		int64_t idx[GPUD_CU_MAX_DIMS][4], o = i;
		float w[GPUD_CU_MAX_DIMS][4], sum = 0.0f;
		int k[GPUD_CU_MAX_DIMS], cnt[GPUD_CU_MAX_DIMS], d;

		for (d = r.ndim - 1; d >= 0; d--) {
			cnt[d] = resize_taps(r, d, o % r.out[d], idx[d], w[d]);
			k[d] = 0;
			o /= r.out[d];
		}
		for (;;) {
			int64_t off = 0;
			float wt = 1.0f;

			for (d = 0; d < r.ndim; d++) {
				off = off * r.in[d] + idx[d][k[d]];
				wt *= w[d][k[d]];
			}
			sum += wt * load(x, off);
			for (d = r.ndim - 1; d >= 0 && ++k[d] == cnt[d]; d--)
				k[d] = 0;
			if (d < 0)
				break;
		}
		store(y, i, sum);
	}
}

template <typename T>
__device__ void conv_transpose(const T *x, const T *wt, const T *b, T *y, const gpud_cu_convt &c)
{
	int64_t out_plane = c.out[0] * c.out[1] * c.out[2];
	int64_t in_plane = c.in[0] * c.in[1] * c.in[2], k_plane = c.k[0] * c.k[1] * c.k[2];
	int64_t n_out = c.n * c.m * out_plane;

	for (int64_t i = thread_index(); i < n_out; i += grid_size()) {
		int64_t at[3] = { i / (c.out[1] * c.out[2]) % c.out[0],
				  i / c.out[2] % c.out[1], i % c.out[2] };
		int64_t ch = i / out_plane % c.m, img = i / out_plane / c.m, g = ch / c.mg;
		int64_t xg = (img * c.c + g * c.cg) * in_plane;
		int64_t wg = (g * c.cg * c.mg + ch % c.mg) * k_plane;
		float sum = c.has_bias ? load(b, ch) : 0.0f;

		for (int64_t kz = 0; kz < c.k[0]; kz++) {
			int64_t tz = at[0] + c.p[0] - kz * c.d[0];

			if (tz < 0)
				break;
			if (tz % c.s[0] || tz / c.s[0] >= c.in[0])
				continue;
			for (int64_t ky = 0; ky < c.k[1]; ky++) {
				int64_t ty = at[1] + c.p[1] - ky * c.d[1];

				if (ty < 0)
					break;
				if (ty % c.s[1] || ty / c.s[1] >= c.in[1])
					continue;
				for (int64_t kx = 0; kx < c.k[2]; kx++) {
					int64_t tx = at[2] + c.p[2] - kx * c.d[2];
					int64_t xi, wi;

					if (tx < 0)
						break;
					if (tx % c.s[2] || tx / c.s[2] >= c.in[2])
						continue;
					xi = (tz / c.s[0] * c.in[1] + ty / c.s[1]) * c.in[2] +
					     tx / c.s[2];
					wi = (kz * c.k[1] + ky) * c.k[2] + kx;
					for (int64_t ci = 0; ci < c.cg; ci++)
						sum += load(x, xg + ci * in_plane + xi) *
						       load(wt, wg + ci * c.mg * k_plane + wi);
				}
			}
		}
		store(y, i, sum);
	}
}

} /* namespace */

extern "C" {

#define RESIZE_KERNELS(sfx, T) \
__global__ void eia_resize_##sfx(const T *x, T *y, gpud_cu_resize r) \
{ \
	resize(x, y, r); \
} \
__global__ void eia_conv_transpose_##sfx(const T *x, const T *w, const T *b, T *y, \
					 gpud_cu_convt c) \
{ \
	conv_transpose(x, w, b, y, c); \
}

RESIZE_KERNELS(f32, float)
RESIZE_KERNELS(f16, __half)
RESIZE_KERNELS(bf16, __nv_bfloat16)

} /* extern "C" */
