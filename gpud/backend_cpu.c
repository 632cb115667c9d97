// SPDX-License-Identifier: MIT
/*
 * The CPU backend: runs the work on the daemon's own processors, for machines
 * without a GPU (the demo, the tests). Its capacity is notional: half of RAM
 * for device memory, so that gpud and the host keep the rest, and a fixed
 * compute pool of 64 FP32 TFLOPS-share units (8 x for FP16) that the types'
 * shares are carved from, so that a CPU host offers a GPU-like number of
 * accelerators.
 *
 * Device memory is gpud's own memory. Small allocations come from malloc and
 * are cleared; large ones are anonymous mappings, which the kernel hands out
 * zeroed and commits only when touched, so a large MEM_ALLOC costs no time.
 */
#include "backend.h"
#include "devmem_race.h"

/* Device memory is host memory of gpud's, this aligned. */
#define GPUD_CPU_MEM_ALIGN	64
/* Copies and fills up to this size run on the caller; larger ones on the pool. */
#define GPUD_CPU_INLINE_BYTES	(64u << 10)

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CPU_FP32_MTFLOPS	(64 * 1000)
#define CPU_FP16_MTFLOPS	(8 * CPU_FP32_MTFLOPS)
/* One pool task of a bulk copy or fill. */
#define CPU_CHUNK_BYTES		(256u << 10)

static int cpu_probe(struct gpud_engine *eng, struct gpud_capacity *cap,
		     char *err, size_t errlen)
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
	(void)eng;
	return 0;
}

static bool mapped(uint64_t bytes)
{
	return bytes >= GPUD_CPU_INLINE_BYTES;
}

/* Never another client's old data: the memory comes zeroed. */
static int cpu_mem_alloc(struct gpud_engine *eng, struct gpud_queue *q,
			 uint64_t bytes, void **dev)
{
	void *p;

	(void)eng;
	(void)q;
	if (!bytes || bytes > SIZE_MAX - GPUD_CPU_MEM_ALIGN)
		return -ENOMEM;
	if (mapped(bytes)) {
		p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
	} else {
		/* aligned_alloc() wants a multiple of the alignment. */
		size_t size = ((size_t)bytes + GPUD_CPU_MEM_ALIGN - 1) &
			      ~(size_t)(GPUD_CPU_MEM_ALIGN - 1);

		p = aligned_alloc(GPUD_CPU_MEM_ALIGN, size);
		if (!p)
			return -ENOMEM;
		memset(p, 0, size);
	}
	*dev = p;
	return 0;
}

static void cpu_mem_free(struct gpud_engine *eng, struct gpud_queue *q,
			 void *p, uint64_t bytes)
{
	(void)eng;
	(void)q;
	if (mapped(bytes))
		munmap(p, (size_t)bytes);
	else
		free(p);
}

struct bulk {
	unsigned char *dst;
	const unsigned char *src;	/* NULL: fill with @value */
	int value;
	uint64_t bytes;
};

static int bulk_task(void *arg, size_t task, unsigned int worker)
{
	const struct bulk *b = arg;
	uint64_t off = (uint64_t)task * CPU_CHUNK_BYTES;
	uint64_t n = b->bytes - off < CPU_CHUNK_BYTES ? b->bytes - off : CPU_CHUNK_BYTES;

	(void)worker;
	if (b->src)
		memcpy(b->dst + off, b->src + off, (size_t)n);
	else
		memset(b->dst + off, b->value, (size_t)n);
	return 0;
}

static int move_task(void *arg, size_t task, unsigned int worker)
{
	const struct bulk *b = arg;

	(void)task;
	(void)worker;
	memmove(b->dst, b->src, (size_t)b->bytes);
	return 0;
}

static bool overlap(const void *a, const void *b, uint64_t n)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return x < y + n && y < x + n;
}

/*
 * memmove() and memset() of device memory. Sizes over GPUD_CPU_INLINE_BYTES
 * are split over the pool's workers (an overlapping move runs as one task),
 * so that bulk data work stays within gpud's share of cores. The tasks
 * cannot fail: eia_pool_run() returns 0.
 */
static void cpu_copy(struct eia_pool *pool, void *dst, const void *src, uint64_t bytes)
{
	struct bulk b = { .dst = dst, .src = src, .bytes = bytes };

	if (bytes <= GPUD_CPU_INLINE_BYTES) {
		gpud_devmem_begin();
		memmove(dst, src, (size_t)bytes);
		gpud_devmem_end();
	} else if (overlap(b.dst, b.src, bytes))
		eia_pool_run(pool, 1, move_task, &b);
	else
		eia_pool_run(pool, (size_t)((bytes + CPU_CHUNK_BYTES - 1) / CPU_CHUNK_BYTES),
			     bulk_task, &b);
}

static int cpu_fill(struct gpud_engine *eng, struct gpud_queue *q, void *dst,
		    uint8_t value, uint64_t bytes)
{
	struct eia_pool *pool = eng->pool;
	struct bulk b = { .dst = dst, .value = value, .bytes = bytes };

	if (bytes <= GPUD_CPU_INLINE_BYTES) {
		gpud_devmem_begin();
		memset(dst, value, (size_t)bytes);
		gpud_devmem_end();
	} else
		eia_pool_run(pool, (size_t)((bytes + CPU_CHUNK_BYTES - 1) / CPU_CHUNK_BYTES),
			     bulk_task, &b);
	(void)q;
	return 0;
}

static int cpu_copy_h2d(struct gpud_engine *eng, struct gpud_queue *q,
			void *dev, const void *host, uint64_t bytes)
{
	(void)q;
	cpu_copy(eng->pool, dev, host, bytes);
	return 0;
}

static int cpu_copy_d2h(struct gpud_engine *eng, struct gpud_queue *q,
			void *host, const void *dev, uint64_t bytes)
{
	(void)q;
	cpu_copy(eng->pool, host, dev, bytes);
	return 0;
}

static int cpu_queue_open(struct gpud_engine *eng, struct gpud_queue **q)
{
	(void)eng;
	*q = NULL;	/* work runs when it is submitted */
	return 0;
}

static void cpu_queue_close(struct gpud_engine *eng, struct gpud_queue *q)
{
	(void)eng;
	(void)q;
}

static int cpu_run_op(struct gpud_engine *eng, struct gpud_queue *q, uint32_t op,
		      const void *attr, size_t attr_size,
		      const struct eia_tensor *in, unsigned int n_in,
		      const struct eia_tensor *out, unsigned int n_out)
{
	(void)q;
	return eia_op_run(eng->pool, op, attr, attr_size, in, n_in, out, n_out);
}

static int cpu_sync(struct gpud_engine *eng, struct gpud_queue *q)
{
	(void)eng;
	(void)q;
	return 0;
}

const struct gpud_backend gpud_backend_cpu = {
	.name = "cpu",
	.host_visible = true,
	.probe = cpu_probe,
	.queue_open = cpu_queue_open,
	.queue_close = cpu_queue_close,
	.mem_alloc = cpu_mem_alloc,
	.mem_free = cpu_mem_free,
	.copy_h2d = cpu_copy_h2d,
	.copy_d2h = cpu_copy_d2h,
	.copy_d2d = cpu_copy_h2d,
	.fill = cpu_fill,
	.run_op = cpu_run_op,
	.sync = cpu_sync,
};
