// SPDX-License-Identifier: MIT
/*
 * The CUDA backend: device 0's primary context, one stream per queue of a
 * gpud context, device memory from cuMemAlloc (never managed memory), copies
 * and fills queued on the stream, operators as our kernels (kernels.cu,
 * embedded as a fatbin) or cuBLAS (ops_cuda.c).
 *
 * libcuda.so.1 and libcublas.so.13 are dlopen()ed here, at start-up, so the
 * same gpud runs where neither exists; every failure on the way names the
 * library or the CUDA error, for "--backend cuda" to report and "auto" to
 * log before it falls back to the CPU.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpud_cuda.h"
#include "log.h"

#define XSTR(s)		STR(s)
#define STR(s)		#s

/* The embedded fatbin (fatbin.S). */
extern const unsigned char gpud_cuda_fatbin[];

struct sym {
	const char *name;
	size_t off;
};

#define DRV_SYM(fn)	{ XSTR(fn), offsetof(struct gpud_cu_driver, fn) }
static const struct sym driver_syms[] = {
	DRV_SYM(cuInit), DRV_SYM(cuDriverGetVersion), DRV_SYM(cuGetErrorName),
	DRV_SYM(cuGetErrorString), DRV_SYM(cuDeviceGetCount), DRV_SYM(cuDeviceGet),
	DRV_SYM(cuDeviceGetName), DRV_SYM(cuDeviceGetAttribute),
	DRV_SYM(cuDeviceTotalMem), DRV_SYM(cuDevicePrimaryCtxRetain),
	DRV_SYM(cuDevicePrimaryCtxRelease), DRV_SYM(cuCtxSetCurrent),
	DRV_SYM(cuStreamCreate), DRV_SYM(cuStreamDestroy),
	DRV_SYM(cuStreamSynchronize), DRV_SYM(cuMemAlloc), DRV_SYM(cuMemFree),
	DRV_SYM(cuMemcpyHtoDAsync), DRV_SYM(cuMemcpyDtoHAsync),
	DRV_SYM(cuMemcpyDtoDAsync), DRV_SYM(cuMemsetD8Async),
	DRV_SYM(cuModuleLoadData), DRV_SYM(cuModuleUnload),
	DRV_SYM(cuModuleGetFunction), DRV_SYM(cuLaunchKernel),
};

#define BLAS_SYM(fn)	{ XSTR(fn), offsetof(struct gpud_cu_blas, fn) }
static const struct sym blas_syms[] = {
	BLAS_SYM(cublasCreate), BLAS_SYM(cublasDestroy), BLAS_SYM(cublasSetStream),
	BLAS_SYM(cublasGemmEx), BLAS_SYM(cublasGemmStridedBatchedEx),
	BLAS_SYM(cublasGetStatusName),
};

static const char *const kernel_names[] = {
#define GPUD_CU_KERNEL_NAME(name) #name,
	GPUD_CU_KERNELS(GPUD_CU_KERNEL_NAME)
#undef GPUD_CU_KERNEL_NAME
};

/* The context current on this thread, so that entering costs one compare. */
static _Thread_local CUcontext current;

/* dlopen @file and fill the function pointers of @table at @base. */
static void *load_lib(const char *file, const struct sym *syms, size_t nsyms,
		      void *base, char *err, size_t errlen)
{
	void *lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!lib) {
		snprintf(err, errlen, "cannot load %s: %s", file, dlerror());
		return NULL;
	}
	for (i = 0; i < nsyms; i++) {
		void *fn = dlsym(lib, syms[i].name);

		if (!fn) {
			snprintf(err, errlen, "%s has no %s", file, syms[i].name);
			dlclose(lib);
			return NULL;
		}
		memcpy((char *)base + syms[i].off, &fn, sizeof(fn));
	}
	return lib;
}

/*
 * "NAME (description)" for @r. The driver names its errors, except where it
 * cannot (the toolkit's stub libcuda answers everything with
 * CUDA_ERROR_STUB_LIBRARY): then the few that mean "no GPU here" by our
 * table, and the others by number.
 */
static const char *cu_describe(struct gpud_cu *cu, CUresult r, char *buf, size_t len)
{
	const char *name = NULL, *desc = NULL;

	if (cu->drv.cuGetErrorName(r, &name) == CUDA_SUCCESS && name &&
	    cu->drv.cuGetErrorString(r, &desc) == CUDA_SUCCESS && desc) {
		snprintf(buf, len, "%s (%s)", name, desc);
		return buf;
	}
	switch (r) {
	case CUDA_ERROR_STUB_LIBRARY:
		snprintf(buf, len, "CUDA_ERROR_STUB_LIBRARY (libcuda is the toolkit's stub, not a driver)");
		break;
	case CUDA_ERROR_NO_DEVICE:
		snprintf(buf, len, "CUDA_ERROR_NO_DEVICE (no CUDA-capable device)");
		break;
	default:
		snprintf(buf, len, "CUDA error %d", (int)r);
	}
	return buf;
}

/* Format @what failing with @r into @err; returns -1. */
static int cu_fail(struct gpud_cu *cu, CUresult r, const char *what, char *err,
		   size_t errlen)
{
	char buf[160];

	snprintf(err, errlen, "%s: %s", what, cu_describe(cu, r, buf, sizeof(buf)));
	return -1;
}

int gpud_cu_err(struct gpud_cu *cu, CUresult r, const char *what)
{
	char buf[160];

	if (r == CUDA_SUCCESS)
		return 0;
	gpud_err("cuda: %s: %s", what, cu_describe(cu, r, buf, sizeof(buf)));
	switch (r) {
	case CUDA_ERROR_OUT_OF_MEMORY:
		return -ENOMEM;
	case CUDA_ERROR_INVALID_VALUE:
		return -EINVAL;
	/* A kernel faulted: the context is lost (Documentation/cuda-backend.rst). */
	case CUDA_ERROR_ILLEGAL_ADDRESS:
	case CUDA_ERROR_MISALIGNED_ADDRESS:
	case CUDA_ERROR_ILLEGAL_INSTRUCTION:
	case CUDA_ERROR_INVALID_PC:
	case CUDA_ERROR_HARDWARE_STACK_ERROR:
	case CUDA_ERROR_ASSERT:
	case CUDA_ERROR_LAUNCH_FAILED:
	case CUDA_ERROR_LAUNCH_TIMEOUT:
		return -ENOTRECOVERABLE;
	default:
		return -EIO;
	}
}

int gpud_cu_enter(struct gpud_cu *cu)
{
	CUresult r;

	if (current == cu->ctx)
		return 0;
	r = cu->drv.cuCtxSetCurrent(cu->ctx);
	if (r != CUDA_SUCCESS)
		return gpud_cu_err(cu, r, "cuCtxSetCurrent");
	current = cu->ctx;
	return 0;
}

int gpud_cu_launch(struct gpud_cu *cu, struct gpud_queue *q, CUfunction f,
		   int64_t n, void **args, const char *what)
{
	/* Grid-stride loops: enough blocks to fill the GPU, never more than needed. */
	int64_t blocks = (n + GPUD_CU_BLOCK - 1) / GPUD_CU_BLOCK;
	int64_t most = (int64_t)cu->sms * 32;

	if (n <= 0)
		return 0;
	if (blocks > most)
		blocks = most;
	return gpud_cu_err(cu, cu->drv.cuLaunchKernel(f, (unsigned int)blocks, 1, 1,
						      GPUD_CU_BLOCK, 1, 1, 0, q->stream,
						      args, NULL),
			   what);
}

static int device_attrs(struct gpud_cu *cu, char *err, size_t errlen)
{
	static const struct {
		CUdevice_attribute attr;
		size_t off;
	} attrs[] = {
		{ CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, offsetof(struct gpud_cu, cc_major) },
		{ CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, offsetof(struct gpud_cu, cc_minor) },
		{ CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, offsetof(struct gpud_cu, sms) },
		{ CU_DEVICE_ATTRIBUTE_CLOCK_RATE, offsetof(struct gpud_cu, clock_khz) },
	};
	CUresult r;
	size_t i;

	r = cu->drv.cuDeviceGetName(cu->name, sizeof(cu->name), cu->dev);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "cuDeviceGetName", err, errlen);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		r = cu->drv.cuDeviceGetAttribute((int *)((char *)cu + attrs[i].off),
						 attrs[i].attr, cu->dev);
		if (r != CUDA_SUCCESS)
			return cu_fail(cu, r, "cuDeviceGetAttribute", err, errlen);
	}
	return 0;
}

/* cuInit, then device 0: "no GPU" is CUDA_ERROR_NO_DEVICE or a count of 0. */
static int open_device(struct gpud_cu *cu, char *err, size_t errlen)
{
	int count = 0;
	CUresult r;

	r = cu->drv.cuInit(0);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "cuInit", err, errlen);
	r = cu->drv.cuDeviceGetCount(&count);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "cuDeviceGetCount", err, errlen);
	if (count < 1) {
		snprintf(err, errlen, "cuDeviceGetCount: no CUDA device");
		return -1;
	}
	r = cu->drv.cuDeviceGet(&cu->dev, 0);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "cuDeviceGet", err, errlen);
	if (device_attrs(cu, err, errlen))
		return -1;
	r = cu->drv.cuDevicePrimaryCtxRetain(&cu->ctx, cu->dev);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "cuDevicePrimaryCtxRetain", err, errlen);
	r = cu->drv.cuCtxSetCurrent(cu->ctx);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "cuCtxSetCurrent", err, errlen);
	current = cu->ctx;
	return 0;
}

static int load_kernels(struct gpud_cu *cu, char *err, size_t errlen)
{
	CUfunction *f = (CUfunction *)&cu->k;
	CUresult r;
	size_t i;

	_Static_assert(sizeof(cu->k) == sizeof(kernel_names) / sizeof(kernel_names[0]) *
					 sizeof(CUfunction),
		       "one CUfunction per kernel name");
	r = cu->drv.cuModuleLoadData(&cu->module, gpud_cuda_fatbin);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "cuModuleLoadData (the embedded kernels)", err, errlen);
	for (i = 0; i < sizeof(kernel_names) / sizeof(kernel_names[0]); i++) {
		r = cu->drv.cuModuleGetFunction(&f[i], cu->module, kernel_names[i]);
		if (r != CUDA_SUCCESS)
			return cu_fail(cu, r, kernel_names[i], err, errlen);
	}
	return 0;
}

static void cu_close(struct gpud_engine *eng)
{
	struct gpud_cu *cu = eng->priv;

	if (!cu)
		return;
	if (cu->module)
		cu->drv.cuModuleUnload(cu->module);
	if (cu->ctx)
		cu->drv.cuDevicePrimaryCtxRelease(cu->dev);
	if (cu->blas.lib)
		dlclose(cu->blas.lib);
	if (cu->drv.lib)
		dlclose(cu->drv.lib);
	free(cu);
	eng->priv = NULL;
}

/*
 * Nominal throughput from the device's own figures: SMs x clock x the
 * per-SM, per-clock rate of its architecture (FMA = 2 FLOPs). FP32: 64
 * lanes per SM on sm_80, 128 on sm_86 and later. FP16 with tensor cores,
 * dense, fp32 accumulation: 1024 FMA per SM per clock on sm_80, 2048 on
 * sm_90, 4096 on sm_100, 512 on the others (sm_86, sm_89, ...). Nothing
 * older than sm_80 gets here: the fatbin has no code for it.
 */
static void nominal_tflops(const struct gpud_cu *cu, uint64_t *fp32, uint64_t *fp16)
{
	uint64_t fp32_lanes = cu->cc_major == 8 && cu->cc_minor == 0 ? 64 : 128;
	uint64_t clocks = (uint64_t)cu->sms * (uint64_t)cu->clock_khz;	/* kHz x SMs */
	uint64_t fp16_fma;

	switch (cu->cc_major * 10 + cu->cc_minor) {
	case 80:
		fp16_fma = 1024;
		break;
	case 90:
		fp16_fma = 2048;
		break;
	case 100:
		fp16_fma = 4096;
		break;
	default:
		fp16_fma = 512;
	}
	/* kHz x FLOPs = 1e3 FLOP/s; milli-TFLOPS = 1e9 FLOP/s. */
	*fp32 = clocks * fp32_lanes * 2 / 1000000;
	*fp16 = clocks * fp16_fma * 2 / 1000000;
}

/*
 * The measured capacity: square GEMMs through cuBLAS, large enough to fill
 * any GPU gpud runs on (2 x 8192^3 FLOPs each: about 20 ms of FP32 on an
 * H100), repeated for about PROBE_NS so that clocks settle and launch costs
 * vanish in the total. FP32 as the operators run it (CUBLAS_COMPUTE_32F, no
 * TF32); FP16 on tensor cores with fp32 accumulation, the nominal figure's
 * definition.
 */
#define PROBE_N		8192
#define PROBE_NS	(100 * 1000 * 1000ull)
#define PROBE_MAX_REPS	1000u

static int cu_queue_open(struct gpud_engine *eng, struct gpud_queue **out);
static void cu_queue_close(struct gpud_engine *eng, struct gpud_queue *q);

static uint64_t probe_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* @reps GEMMs of @type on @m (A, B, C), waited for: the ns they took, or 0. */
static uint64_t probe_run(struct gpud_cu *cu, struct gpud_queue *q, cudaDataType_t type,
			  const CUdeviceptr m[3], unsigned int reps)
{
	static const float one = 1.0f, zero = 0.0f;
	uint64_t start = probe_clock_ns(), ns;
	unsigned int i;

	for (i = 0; i < reps; i++)
		if (cu->blas.cublasGemmEx(q->blas, CUBLAS_OP_N, CUBLAS_OP_N, PROBE_N, PROBE_N,
					  PROBE_N, &one, (const void *)(uintptr_t)m[0], type,
					  PROBE_N, (const void *)(uintptr_t)m[1], type, PROBE_N,
					  &zero, (void *)(uintptr_t)m[2], type, PROBE_N,
					  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) !=
		    CUBLAS_STATUS_SUCCESS)
			return 0;
	if (cu->drv.cuStreamSynchronize(q->stream) != CUDA_SUCCESS)
		return 0;
	ns = probe_clock_ns() - start;
	return ns ? ns : 1;
}

/* Sustained mTFLOPS of @type GEMMs, or 0 when they cannot be measured. */
static uint64_t probe_mtflops(struct gpud_cu *cu, struct gpud_queue *q,
			      cudaDataType_t type, const CUdeviceptr m[3])
{
	const double flops = 2.0 * PROBE_N * PROBE_N * PROBE_N;
	unsigned int reps;
	uint64_t ns;

	/* The first call chooses and loads the kernels: not timed. */
	if (!probe_run(cu, q, type, m, 1))
		return 0;
	ns = probe_run(cu, q, type, m, 1);
	if (!ns)
		return 0;
	reps = ns >= PROBE_NS ? 1 : (unsigned int)(PROBE_NS / ns) + 1;
	if (reps > PROBE_MAX_REPS)
		reps = PROBE_MAX_REPS;
	ns = probe_run(cu, q, type, m, reps);
	/* FLOPs per ns are GFLOPS: thousandths of a TFLOPS. */
	return ns ? (uint64_t)(flops * reps / (double)ns) : 0;
}

/*
 * Measure FP32 and FP16 GEMM throughput into @fp32 and @fp16 (0: not
 * measured). Returns NULL, or why nothing could be measured.
 */
static const char *measure_tflops(struct gpud_engine *eng, uint64_t *fp32, uint64_t *fp16)
{
	const size_t bytes = (size_t)PROBE_N * PROBE_N * sizeof(float);
	struct gpud_cu *cu = eng->priv;
	CUdeviceptr m[3] = { 0 };
	struct gpud_queue *q;
	const char *why = NULL;
	int i;

	*fp32 = *fp16 = 0;
	if (cu_queue_open(eng, &q))
		return "no stream or cuBLAS handle";
	/*
	 * Bytes of 0x3c are finite, non-zero values in both formats (0.0115 in
	 * fp32, 1.06 in fp16): zeros would spare the GPU power and flatter it.
	 */
	for (i = 0; i < 3 && !why; i++) {
		if (cu->drv.cuMemAlloc(&m[i], bytes) != CUDA_SUCCESS)
			why = "no device memory for the matrices";
		else if (cu->drv.cuMemsetD8Async(m[i], 0x3c, bytes, q->stream) != CUDA_SUCCESS)
			why = "cuMemsetD8Async failed";
	}
	if (!why) {
		*fp32 = probe_mtflops(cu, q, CUDA_R_32F, m);
		*fp16 = probe_mtflops(cu, q, CUDA_R_16F, m);
		if (!*fp32 && !*fp16)
			why = "cuBLAS GEMMs failed";
	}
	cu->drv.cuStreamSynchronize(q->stream);
	for (i = 0; i < 3; i++)
		if (m[i])
			cu->drv.cuMemFree(m[i]);
	cu_queue_close(eng, q);
	return why;
}

/* "51.2 TFLOPS (nominal 66.9)", or the nominal figure when none was measured. */
static void format_figure(char *buf, size_t len, uint64_t measured, uint64_t nominal)
{
	char m[32], n[32];

	gpud_format_tflops(m, sizeof(m), measured);
	gpud_format_tflops(n, sizeof(n), nominal);
	if (measured)
		snprintf(buf, len, "%s TFLOPS (nominal %s)", m, n);
	else
		snprintf(buf, len, "not measured, nominal %s TFLOPS", n);
}

/*
 * Memory is the device's. Compute is measured (measure_tflops()), each
 * figure falling back to the nominal one when it could not be.
 */
static int cu_probe(struct gpud_engine *eng, struct gpud_capacity *cap, char *err,
		    size_t errlen)
{
	struct gpud_cu *cu = eng->priv;
	char nom32[32], nom16[32], got32[96], got16[96];
	uint64_t fp32, fp16;
	const char *why;
	size_t total = 0;
	CUresult r;

	r = cu->drv.cuDeviceTotalMem(&total, cu->dev);
	if (r != CUDA_SUCCESS)
		return cu_fail(cu, r, "backend cuda: cuDeviceTotalMem", err, errlen);
	cap->memory_bytes = total;
	nominal_tflops(cu, &cap->fp32_mtflops, &cap->fp16_mtflops);
	gpud_format_tflops(nom32, sizeof(nom32), cap->fp32_mtflops);
	gpud_format_tflops(nom16, sizeof(nom16), cap->fp16_mtflops);
	why = measure_tflops(eng, &fp32, &fp16);
	if (why) {
		gpud_err("backend cuda: cannot measure the GPU (%s): using the nominal %s FP32 / %s FP16 TFLOPS",
			 why, nom32, nom16);
		return 0;
	}
	format_figure(got32, sizeof(got32), fp32, cap->fp32_mtflops);
	format_figure(got16, sizeof(got16), fp16, cap->fp16_mtflops);
	gpud_info("backend cuda: measured with cuBLAS %ux%ux%u GEMMs: FP32 %s, FP16 %s",
		  PROBE_N, PROBE_N, PROBE_N, got32, got16);
	if (fp32)
		cap->fp32_mtflops = fp32;
	if (fp16)
		cap->fp16_mtflops = fp16;
	return 0;
}

static int cu_queue_open(struct gpud_engine *eng, struct gpud_queue **out)
{
	struct gpud_cu *cu = eng->priv;
	struct gpud_queue *q;
	cublasStatus_t st;
	int ret = gpud_cu_enter(cu);

	if (ret)
		return ret;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	ret = gpud_cu_err(cu, cu->drv.cuMemAlloc(&q->scratch, sizeof(int)), "cuMemAlloc");
	if (ret) {
		free(q);
		return ret;
	}
	ret = gpud_cu_err(cu, cu->drv.cuStreamCreate(&q->stream, CU_STREAM_NON_BLOCKING),
			  "cuStreamCreate");
	if (ret) {
		cu->drv.cuMemFree(q->scratch);
		free(q);
		return ret;
	}
	st = cu->blas.cublasCreate(&q->blas);
	if (st == CUBLAS_STATUS_SUCCESS)
		st = cu->blas.cublasSetStream(q->blas, q->stream);
	if (st != CUBLAS_STATUS_SUCCESS) {
		gpud_err("cuda: cublasCreate: %s", cu->blas.cublasGetStatusName(st));
		if (q->blas)
			cu->blas.cublasDestroy(q->blas);
		cu->drv.cuStreamDestroy(q->stream);
		cu->drv.cuMemFree(q->scratch);
		free(q);
		return st == CUBLAS_STATUS_ALLOC_FAILED ? -ENOMEM : -EIO;
	}
	*out = q;
	return 0;
}

static void cu_queue_close(struct gpud_engine *eng, struct gpud_queue *q)
{
	struct gpud_cu *cu = eng->priv;

	if (gpud_cu_enter(cu))
		return;
	gpud_cu_err(cu, cu->drv.cuStreamSynchronize(q->stream), "cuStreamSynchronize");
	cu->blas.cublasDestroy(q->blas);
	cu->drv.cuStreamDestroy(q->stream);
	cu->drv.cuMemFree(q->scratch);
	free(q);
}

/* Zeroed on the stream before anything else there can read it. */
static int cu_mem_alloc(struct gpud_engine *eng, struct gpud_queue *q, uint64_t bytes,
			void **dev)
{
	struct gpud_cu *cu = eng->priv;
	CUdeviceptr p = 0;
	CUresult r;
	int ret = gpud_cu_enter(cu);

	if (ret)
		return ret;
	r = cu->drv.cuMemAlloc(&p, (size_t)bytes);
	if (r == CUDA_ERROR_OUT_OF_MEMORY)
		return -ENOMEM;
	ret = gpud_cu_err(cu, r, "cuMemAlloc");
	if (ret)
		return ret;
	ret = gpud_cu_err(cu, cu->drv.cuMemsetD8Async(p, 0, (size_t)bytes, q->stream),
			  "cuMemsetD8Async");
	if (ret) {
		cu->drv.cuMemFree(p);
		return ret;
	}
	*dev = (void *)(uintptr_t)p;
	return 0;
}

/* Once the stream is done with it: work queued before the free may use it. */
static void cu_mem_free(struct gpud_engine *eng, struct gpud_queue *q, void *dev,
			uint64_t bytes)
{
	struct gpud_cu *cu = eng->priv;

	(void)bytes;
	if (gpud_cu_enter(cu))
		return;
	if (q)
		gpud_cu_err(cu, cu->drv.cuStreamSynchronize(q->stream), "cuStreamSynchronize");
	gpud_cu_err(cu, cu->drv.cuMemFree((CUdeviceptr)(uintptr_t)dev), "cuMemFree");
}

static int cu_copy_h2d(struct gpud_engine *eng, struct gpud_queue *q, void *dev,
		       const void *host, uint64_t bytes)
{
	struct gpud_cu *cu = eng->priv;
	int ret = gpud_cu_enter(cu);

	/* From pageable memory: the data is staged before the call returns. */
	return ret ? ret : gpud_cu_err(cu, cu->drv.cuMemcpyHtoDAsync(
				(CUdeviceptr)(uintptr_t)dev, host, (size_t)bytes, q->stream),
				"cuMemcpyHtoDAsync");
}

static int cu_copy_d2h(struct gpud_engine *eng, struct gpud_queue *q, void *host,
		       const void *dev, uint64_t bytes)
{
	struct gpud_cu *cu = eng->priv;
	int ret = gpud_cu_enter(cu);

	return ret ? ret : gpud_cu_err(cu, cu->drv.cuMemcpyDtoHAsync(
				host, (CUdeviceptr)(uintptr_t)dev, (size_t)bytes, q->stream),
				"cuMemcpyDtoHAsync");
}

/*
 * cuMemcpyDtoD does not promise memmove() semantics: overlapping ranges go
 * through a scratch allocation (not charged to the quota: it lives only for
 * this copy).
 */
static int cu_copy_d2d(struct gpud_engine *eng, struct gpud_queue *q, void *dst,
		       const void *src, uint64_t bytes)
{
	struct gpud_cu *cu = eng->priv;
	CUdeviceptr d = (CUdeviceptr)(uintptr_t)dst, s = (CUdeviceptr)(uintptr_t)src;
	CUdeviceptr tmp = 0;
	int ret = gpud_cu_enter(cu);

	if (ret)
		return ret;
	if (!(d < s + bytes && s < d + bytes))
		return gpud_cu_err(cu, cu->drv.cuMemcpyDtoDAsync(d, s, (size_t)bytes,
								 q->stream),
				   "cuMemcpyDtoDAsync");
	if (d == s)
		return 0;
	ret = gpud_cu_err(cu, cu->drv.cuMemAlloc(&tmp, (size_t)bytes), "cuMemAlloc");
	if (ret)
		return ret;
	ret = gpud_cu_err(cu, cu->drv.cuMemcpyDtoDAsync(tmp, s, (size_t)bytes, q->stream),
			  "cuMemcpyDtoDAsync");
	if (!ret)
		ret = gpud_cu_err(cu, cu->drv.cuMemcpyDtoDAsync(d, tmp, (size_t)bytes,
								q->stream),
				  "cuMemcpyDtoDAsync");
	gpud_cu_err(cu, cu->drv.cuStreamSynchronize(q->stream), "cuStreamSynchronize");
	cu->drv.cuMemFree(tmp);
	return ret;
}

static int cu_fill(struct gpud_engine *eng, struct gpud_queue *q, void *dev,
		   uint8_t value, uint64_t bytes)
{
	struct gpud_cu *cu = eng->priv;
	int ret = gpud_cu_enter(cu);

	return ret ? ret : gpud_cu_err(cu, cu->drv.cuMemsetD8Async(
				(CUdeviceptr)(uintptr_t)dev, value, (size_t)bytes, q->stream),
				"cuMemsetD8Async");
}

static int cu_sync(struct gpud_engine *eng, struct gpud_queue *q)
{
	struct gpud_cu *cu = eng->priv;
	int ret = gpud_cu_enter(cu);

	return ret ? ret : gpud_cu_err(cu, cu->drv.cuStreamSynchronize(q->stream),
				       "cuStreamSynchronize");
}

static const struct gpud_backend gpud_backend_cuda = {
	.name = "cuda",
	.host_visible = false,
	.probe = cu_probe,
	.queue_open = cu_queue_open,
	.queue_close = cu_queue_close,
	.mem_alloc = cu_mem_alloc,
	.mem_free = cu_mem_free,
	.copy_h2d = cu_copy_h2d,
	.copy_d2h = cu_copy_d2h,
	.copy_d2d = cu_copy_d2d,
	.fill = cu_fill,
	.run_op = gpud_cu_run_op,
	.module_load = gpud_cu_module_load,
	.module_unload = gpud_cu_module_unload,
	.module_function = gpud_cu_module_function,
	.launch_kernel = gpud_cu_launch_kernel,
	.sync = cu_sync,
	.close = cu_close,
};

int gpud_cuda_open(struct gpud_engine *eng, char *err, size_t errlen)
{
	struct gpud_cu *cu = calloc(1, sizeof(*cu));
	char why[GPUD_ERR_MAX] = "";
	int driver = 0;

	if (!cu) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	eng->priv = cu;
	cu->drv.lib = load_lib("libcuda.so.1", driver_syms,
			       sizeof(driver_syms) / sizeof(driver_syms[0]), &cu->drv,
			       why, sizeof(why));
	if (!cu->drv.lib || open_device(cu, why, sizeof(why)) ||
	    load_kernels(cu, why, sizeof(why)))
		goto fail;
	cu->blas.lib = load_lib("libcublas.so.13", blas_syms,
				sizeof(blas_syms) / sizeof(blas_syms[0]), &cu->blas,
				why, sizeof(why));
	if (!cu->blas.lib)
		goto fail;
	cu->drv.cuDriverGetVersion(&driver);
	gpud_info("backend cuda: %s (sm_%d%d, %d SMs at %d MHz), driver %d.%d",
		  cu->name, cu->cc_major, cu->cc_minor, cu->sms, cu->clock_khz / 1000,
		  driver / 1000, driver % 1000 / 10);
	eng->be = &gpud_backend_cuda;
	return 0;
fail:
	snprintf(err, errlen, "no usable GPU: %s", why);
	cu_close(eng);
	return -1;
}
