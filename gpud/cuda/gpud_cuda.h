/* SPDX-License-Identifier: MIT */
/*
 * The CUDA backend's internals, shared by backend_cuda.c (driver, memory,
 * copies, queues) and ops_cuda.c (operators). gpud never links libcuda or
 * cuBLAS: both are dlopen()ed when the backend starts, so one gpud binary
 * runs on machines without a GPU; the headers give the types and the
 * prototypes that the function pointers below take.
 */
#ifndef GPUD_CUDA_H
#define GPUD_CUDA_H

#include <cublas_v2.h>
#include <cuda.h>
#include <stdbool.h>

#include "backend.h"
#include "kernels.h"

/* A function pointer of @fn's type (the prototype from cuda.h / cublas_v2.h). */
#define GPUD_CU_FN(fn)	__typeof__(fn) *fn

struct gpud_cu_driver {
	void *lib;
	GPUD_CU_FN(cuInit);
	GPUD_CU_FN(cuDriverGetVersion);
	GPUD_CU_FN(cuGetErrorName);
	GPUD_CU_FN(cuGetErrorString);
	GPUD_CU_FN(cuDeviceGetCount);
	GPUD_CU_FN(cuDeviceGet);
	GPUD_CU_FN(cuDeviceGetName);
	GPUD_CU_FN(cuDeviceGetAttribute);
	GPUD_CU_FN(cuDeviceTotalMem);
	GPUD_CU_FN(cuDevicePrimaryCtxRetain);
	GPUD_CU_FN(cuDevicePrimaryCtxRelease);
	GPUD_CU_FN(cuCtxSetCurrent);
	GPUD_CU_FN(cuStreamCreate);
	GPUD_CU_FN(cuStreamDestroy);
	GPUD_CU_FN(cuStreamSynchronize);
	GPUD_CU_FN(cuMemAlloc);
	GPUD_CU_FN(cuMemFree);
	GPUD_CU_FN(cuMemcpyHtoDAsync);
	GPUD_CU_FN(cuMemcpyDtoHAsync);
	GPUD_CU_FN(cuMemcpyDtoDAsync);
	GPUD_CU_FN(cuMemsetD8Async);
	GPUD_CU_FN(cuModuleLoadData);
	GPUD_CU_FN(cuModuleUnload);
	GPUD_CU_FN(cuModuleGetFunction);
	GPUD_CU_FN(cuLaunchKernel);
};

struct gpud_cu_blas {
	void *lib;
	GPUD_CU_FN(cublasCreate);
	GPUD_CU_FN(cublasDestroy);
	GPUD_CU_FN(cublasSetStream);
	GPUD_CU_FN(cublasGemmEx);
	GPUD_CU_FN(cublasGemmStridedBatchedEx);
	GPUD_CU_FN(cublasGetStatusName);
};

/* The kernels of the embedded fatbin, by name (kernels.h). */
struct gpud_cu_kernels {
#define GPUD_CU_KERNEL_FIELD(name) CUfunction name;
	GPUD_CU_KERNELS(GPUD_CU_KERNEL_FIELD)
#undef GPUD_CU_KERNEL_FIELD
};

/* The backend's state (struct gpud_engine's priv). */
struct gpud_cu {
	struct gpud_cu_driver drv;
	struct gpud_cu_blas blas;
	CUdevice dev;
	CUcontext ctx;		/* the device's primary context */
	CUmodule module;
	struct gpud_cu_kernels k;
	char name[128];
	int cc_major, cc_minor, sms, clock_khz;
};

/*
 * A gpud context's queue: its stream, its cuBLAS handle on that stream, and
 * a scratch word for kernels that report to the host (Gather's index check).
 */
struct gpud_queue {
	CUstream stream;
	cublasHandle_t blas;
	CUdeviceptr scratch;
};

/* Make @cu's context current on the calling thread (once per thread). */
int gpud_cu_enter(struct gpud_cu *cu);

/* A negative errno for @r, logging @what with the CUDA error's name. */
int gpud_cu_err(struct gpud_cu *cu, CUresult r, const char *what);

/* Launch @f over enough blocks of GPUD_CU_BLOCK threads for @n elements. */
int gpud_cu_launch(struct gpud_cu *cu, struct gpud_queue *q, CUfunction f,
		   int64_t n, void **args, const char *what);

/* ops.c: the backend's run_op. */
int gpud_cu_run_op(struct gpud_engine *eng, struct gpud_queue *q, uint32_t op,
		   const void *attr, size_t attr_size,
		   const struct eia_tensor *in, unsigned int n_in,
		   const struct eia_tensor *out, unsigned int n_out);

/* modules_cuda.c: the backend's raw modules (backend.h). */
int gpud_cu_module_load(struct gpud_engine *eng, struct gpud_queue *q,
			const void *image, uint64_t bytes, void **module);
void gpud_cu_module_unload(struct gpud_engine *eng, struct gpud_queue *q, void *module);
int gpud_cu_module_function(struct gpud_engine *eng, void *module, const char *name,
			    void **fn);
int gpud_cu_launch_kernel(struct gpud_engine *eng, struct gpud_queue *q, void *fn,
			  const uint32_t grid[3], const uint32_t block[3],
			  uint32_t shared_bytes, void *params, size_t params_size);

#endif /* GPUD_CUDA_H */
