// SPDX-License-Identifier: MIT
#include "backend.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#ifdef GPUD_HAVE_CUDA
static int open_auto(struct gpud_engine *eng)
{
	char why[GPUD_ERR_MAX];

	if (!gpud_cuda_open(eng, why, sizeof(why))) {
		gpud_info("backend auto: using cuda");
		return 0;
	}
	gpud_info("backend auto: using cpu (%s)", why);
	eng->be = &gpud_backend_cpu;
	return 0;
}

static int open_cuda(struct gpud_engine *eng, char *err, size_t errlen)
{
	char why[GPUD_ERR_MAX];

	if (!gpud_cuda_open(eng, why, sizeof(why)))
		return 0;
	snprintf(err, errlen, "backend cuda: %s", why);
	return GPUD_BACKEND_ERUNTIME;
}

const char *gpud_backend_list(void)
{
	return "cpu, cuda";
}
#else
static int open_auto(struct gpud_engine *eng)
{
	gpud_info("backend auto: using cpu (this gpud was built without CUDA support)");
	eng->be = &gpud_backend_cpu;
	return 0;
}

static int open_cuda(struct gpud_engine *eng, char *err, size_t errlen)
{
	(void)eng;
	snprintf(err, errlen,
		 "backend cuda: this gpud was built without CUDA support (available: cpu)");
	return GPUD_BACKEND_EUSAGE;
}

const char *gpud_backend_list(void)
{
	return "cpu";
}
#endif

int gpud_backend_open(struct gpud_engine *eng, const char *name, char *err,
		      size_t errlen)
{
	if (!strcmp(name, "auto"))
		return open_auto(eng);
	if (!strcmp(name, "cpu")) {
		eng->be = &gpud_backend_cpu;
		return 0;
	}
	if (!strcmp(name, "cuda"))
		return open_cuda(eng, err, errlen);
	snprintf(err, errlen, "unknown backend '%.32s'", name);
	return GPUD_BACKEND_EUSAGE;
}

void gpud_backend_close(struct gpud_engine *eng)
{
	if (eng->be && eng->be->close)
		eng->be->close(eng);
	eng->priv = NULL;
}

int gpud_backend_capacity(struct gpud_engine *eng,
			  const struct gpud_capacity *configured,
			  struct gpud_capacity *out, char *err, size_t errlen)
{
	if (eng->be->probe(eng, out, err, errlen))
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

int gpud_dev_alloc(struct gpud_engine *eng, struct gpud_queue *q,
		   uint64_t bytes, void **dev)
{
	int ret = eng->be->mem_alloc(eng, q, bytes, dev);

	if (!ret)
		atomic_fetch_add(&eng->mem_in_use, bytes);
	return ret;
}

void gpud_dev_free(struct gpud_engine *eng, struct gpud_queue *q, void *dev,
		   uint64_t bytes)
{
	eng->be->mem_free(eng, q, dev, bytes);
	atomic_fetch_sub(&eng->mem_in_use, bytes);
}
