// SPDX-License-Identifier: MIT
/*
 * Raw CUDA modules: the clients' own PTX, cubin or fatbin, loaded into the
 * device's context and launched on the context's stream. The handles that
 * name them are ctx.c's; this file only speaks to the driver.
 */
#include <errno.h>

#include "gpud_cuda.h"

/* Images the driver refuses are the client's mistake, not gpud's. */
static int module_err(struct gpud_cu *cu, CUresult r, const char *what)
{
	switch (r) {
	case CUDA_ERROR_INVALID_IMAGE:
	case CUDA_ERROR_INVALID_PTX:
	case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
	case CUDA_ERROR_NO_BINARY_FOR_GPU:
	case CUDA_ERROR_INVALID_SOURCE:
	case CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND:
		gpud_cu_err(cu, r, what);
		return -EINVAL;
	case CUDA_ERROR_NOT_FOUND:
		return -ENOENT;
	case CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES:
		gpud_cu_err(cu, r, what);
		return -EINVAL;
	default:
		return gpud_cu_err(cu, r, what);
	}
}

int gpud_cu_module_load(struct gpud_engine *eng, struct gpud_queue *q,
			const void *image, uint64_t bytes, void **module)
{
	struct gpud_cu *cu = eng->priv;
	CUmodule mod;
	int ret = gpud_cu_enter(cu);

	(void)q;
	(void)bytes;	/* the driver finds the end of every format itself */
	if (ret)
		return ret;
	ret = module_err(cu, cu->drv.cuModuleLoadData(&mod, image), "cuModuleLoadData");
	if (!ret)
		*module = mod;
	return ret;
}

void gpud_cu_module_unload(struct gpud_engine *eng, struct gpud_queue *q, void *module)
{
	struct gpud_cu *cu = eng->priv;

	if (gpud_cu_enter(cu))
		return;
	/* Launches still queued on the stream may use the module's code. */
	if (q)
		cu->drv.cuStreamSynchronize(q->stream);
	gpud_cu_err(cu, cu->drv.cuModuleUnload(module), "cuModuleUnload");
}

int gpud_cu_module_function(struct gpud_engine *eng, void *module, const char *name,
			    void **fn)
{
	struct gpud_cu *cu = eng->priv;
	CUfunction f;
	int ret = gpud_cu_enter(cu);

	if (ret)
		return ret;
	ret = module_err(cu, cu->drv.cuModuleGetFunction(&f, module, name),
			 "cuModuleGetFunction");
	if (!ret)
		*fn = f;
	return ret;
}

int gpud_cu_launch_kernel(struct gpud_engine *eng, struct gpud_queue *q, void *fn,
			  const uint32_t grid[3], const uint32_t block[3],
			  uint32_t shared_bytes, void *params, size_t params_size)
{
	struct gpud_cu *cu = eng->priv;
	void *extra[] = {
		CU_LAUNCH_PARAM_BUFFER_POINTER, params,
		CU_LAUNCH_PARAM_BUFFER_SIZE, &params_size,
		CU_LAUNCH_PARAM_END,
	};
	int ret = gpud_cu_enter(cu);

	if (ret)
		return ret;
	return module_err(cu, cu->drv.cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0],
						     block[1], block[2], shared_bytes,
						     q->stream, NULL,
						     params_size ? extra : NULL),
			  "cuLaunchKernel");
}
