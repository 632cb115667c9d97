// SPDX-License-Identifier: MIT
/*
 * The CPU backend: runs the work on the daemon's own processors, for machines
 * without a GPU (the demo, the tests). Its capacity is notional: half of RAM
 * for device memory, so that gpud and the host keep the rest, and a fixed
 * compute pool of 64 FP32 TFLOPS-share units (8 x for FP16) that the types'
 * shares are carved from, so that a CPU host offers a GPU-like number of
 * accelerators.
 */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CPU_FP32_MTFLOPS	(64 * 1000)
#define CPU_FP16_MTFLOPS	(8 * CPU_FP32_MTFLOPS)

static int cpu_probe(struct gpud_capacity *cap, char *err, size_t errlen)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long pagesize = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || pagesize <= 0) {
		snprintf(err, errlen, "backend cpu: cannot read the memory size: %s",
			 strerror(errno ? errno : EINVAL));
		return -1;
	}
	cap->memory_bytes = (uint64_t)pages * (uint64_t)pagesize / 2;
	cap->fp32_mtflops = CPU_FP32_MTFLOPS;
	cap->fp16_mtflops = CPU_FP16_MTFLOPS;
	return 0;
}

const struct gpud_backend gpud_backend_cpu = {
	.name = "cpu",
	.probe = cpu_probe,
};
