// SPDX-License-Identifier: MIT
/*
 * Raw CUDA modules: load, look up a kernel, launch it, unload. Module and
 * function handles are gpud's, checked there like memory handles; libeia
 * checks only what no command may carry. gpud's CPU backend refuses all
 * of them with EIA_ERROR_NOT_SUPPORTED.
 */
#include <errno.h>
#include <string.h>

#include "libeia.h"

#define ALIGN8(n)	(((n) + EIA_CB_ALIGN - 1) & ~(size_t)(EIA_CB_ALIGN - 1))

/* A command that makes a handle: 0 from gpud would be a broken promise. */
static eiaError_t take_handle(const char *fn, eiaError_t err, uint64_t handle,
			      uint64_t *out)
{
	if (!err && !handle)
		err = eia_fail(fn, EIA_ERROR_PROTOCOL, EPROTO, "gpud returned handle 0");
	if (!err)
		*out = handle;
	return err;
}

eiaError_t eiaModuleLoadData(eiaDevice_t dev, eiaModule_t *module, const void *image,
			     size_t bytes)
{
	static const char fn[] = "eiaModuleLoadData";
	struct eia_cb_module_load *ml;
	struct eiaStream s;
	uint64_t handle = 0;
	eiaError_t err;

	if (!module || !image || !bytes)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"module, image and bytes must be non-NULL and non-zero");
	err = eia_sync_begin(&s, dev, fn);
	if (err)
		return err;
	err = eia_stream_add(&s, fn, EIA_CB_MODULE_LOAD, sizeof(*ml), ALIGN8(bytes), 0,
			     &handle, (void **)&ml);
	if (!err) {
		ml->image = (uintptr_t)image;
		ml->bytes = bytes;
	}
	return take_handle(fn, eia_sync_end(&s, fn, err), handle, module);
}

eiaError_t eiaModuleUnload(eiaDevice_t dev, eiaModule_t module)
{
	static const char fn[] = "eiaModuleUnload";
	struct eia_cb_module_unload *mu;
	struct eiaStream s;
	eiaError_t err;

	err = eia_sync_begin(&s, dev, fn);
	if (err)
		return err;
	err = eia_stream_add(&s, fn, EIA_CB_MODULE_UNLOAD, sizeof(*mu), 0, 0, NULL,
			     (void **)&mu);
	if (!err)
		mu->module = module;
	return eia_sync_end(&s, fn, err);
}

eiaError_t eiaModuleGetFunction(eiaDevice_t dev, eiaFunction_t *function,
				eiaModule_t module, const char *name)
{
	static const char fn[] = "eiaModuleGetFunction";
	struct eia_cb_module_get_function *g;
	struct eiaStream s;
	uint64_t handle = 0;
	eiaError_t err;
	size_t len;

	if (!function || !name)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"function and name must not be NULL");
	len = strlen(name);
	if (!len || len > EIA_CB_KERNEL_NAME_MAX)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"a kernel name of %zu bytes: 1 to %d allowed", len,
				EIA_CB_KERNEL_NAME_MAX);
	err = eia_sync_begin(&s, dev, fn);
	if (err)
		return err;
	err = eia_stream_add(&s, fn, EIA_CB_MODULE_GET_FUNCTION,
			     (uint32_t)(sizeof(*g) + ALIGN8(len)), 0, 0, &handle, (void **)&g);
	if (!err) {
		g->module = module;
		g->name_len = (uint32_t)len;
		memcpy(g + 1, name, len);
	}
	return take_handle(fn, eia_sync_end(&s, fn, err), handle, function);
}

static eiaError_t check_launch(const char *fn, const unsigned int grid[3],
			       const unsigned int block[3], const void *params,
			       size_t paramsSize, const eiaKernelPtr *ptrs, int nptrs)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!grid[i] || !block[i])
			return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
					"grid %ux%ux%u, block %ux%ux%u: every dimension must be at least 1",
					grid[0], grid[1], grid[2], block[0], block[1], block[2]);
	if (paramsSize > EIA_CB_KERNEL_PARAMS_MAX || (paramsSize && !params))
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"%zu bytes of parameters%s: at most %d, not NULL", paramsSize,
				params ? "" : " at NULL", EIA_CB_KERNEL_PARAMS_MAX);
	if (nptrs < 0 || nptrs > EIA_CB_KERNEL_PTRS_MAX || (nptrs && !ptrs))
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"%d device pointers: 0 to %d, in a non-NULL array", nptrs,
				EIA_CB_KERNEL_PTRS_MAX);
	for (i = 0; i < nptrs; i++)
		if (ptrs[i].paramOffset % 8 || ptrs[i].paramOffset > paramsSize ||
		    paramsSize - ptrs[i].paramOffset < sizeof(uint64_t))
			return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
					"ptrs[%d] at parameter offset %zu: must be 8-aligned and inside the %zu bytes of parameters",
					i, ptrs[i].paramOffset, paramsSize);
	return EIA_SUCCESS;
}

eiaError_t eiaLaunchKernel(eiaStream_t stream, eiaFunction_t function,
			   const unsigned int grid[3], const unsigned int block[3],
			   unsigned int sharedMemBytes, const void *params, size_t paramsSize,
			   const eiaKernelPtr *ptrs, int nptrs)
{
	static const char fn[] = "eiaLaunchKernel";
	struct eia_cb_launch_kernel *k;
	struct eia_cb_kernel_ptr *p;
	eiaError_t err;
	int i;

	if (!grid || !block)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "grid or block is NULL");
	err = check_launch(fn, grid, block, params, paramsSize, ptrs, nptrs);
	if (err)
		return err;
	err = eia_stream_begin(stream, fn);
	if (err)
		return err;
	err = eia_stream_add(stream, fn, EIA_CB_LAUNCH_KERNEL,
			     (uint32_t)(sizeof(*k) + (size_t)nptrs * sizeof(*p) +
					ALIGN8(paramsSize)),
			     0, 0, NULL, (void **)&k);
	if (err)
		return eia_stream_end(stream, err);
	k->function = function;
	for (i = 0; i < 3; i++) {
		k->grid[i] = grid[i];
		k->block[i] = block[i];
	}
	k->shared_bytes = sharedMemBytes;
	k->params_size = (uint32_t)paramsSize;
	k->nptrs = (uint32_t)nptrs;
	p = (struct eia_cb_kernel_ptr *)(k + 1);
	for (i = 0; i < nptrs; i++, p++) {
		p->param_offset = (uint32_t)ptrs[i].paramOffset;
		p->handle = ptrs[i].ptr;
		p->offset = ptrs[i].offset;
	}
	if (paramsSize)
		memcpy(p, params, paramsSize);
	return eia_stream_end(stream, EIA_SUCCESS);
}
