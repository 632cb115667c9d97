// SPDX-License-Identifier: MIT
#include "backend.h"

#include <stdio.h>
#include <string.h>

const struct gpud_backend *gpud_backend_select(const char *name, char *err,
					       size_t errlen)
{
	if (!strcmp(name, "auto") || !strcmp(name, "cpu"))
		return &gpud_backend_cpu;
	if (!strcmp(name, "cuda"))
		snprintf(err, errlen,
			 "backend cuda: this gpud was built without CUDA support (available: cpu)");
	else
		snprintf(err, errlen, "unknown backend '%.32s'", name);
	return NULL;
}

int gpud_backend_capacity(const struct gpud_backend *be,
			  const struct gpud_capacity *configured,
			  struct gpud_capacity *out, char *err, size_t errlen)
{
	if (be->probe(out, err, errlen))
		return -1;
	if (configured->memory_bytes)
		out->memory_bytes = configured->memory_bytes;
	if (configured->fp32_mtflops) {
		out->fp32_mtflops = configured->fp32_mtflops;
		out->fp16_mtflops = 8 * configured->fp32_mtflops;
	}
	if (configured->fp16_mtflops)
		out->fp16_mtflops = configured->fp16_mtflops;
	return 0;
}
