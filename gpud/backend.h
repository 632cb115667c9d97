/* SPDX-License-Identifier: MIT */
/*
 * A backend is what runs the clients' work: the CPU backend (always built)
 * or, in builds that have it, CUDA (gpud/cuda/, loaded at run time). The
 * executor (exec.c) and the contexts (ctx.c) reach device memory and
 * operators only through this interface, so either backend serves the same
 * protocol with the same results.
 *
 * Device addresses are opaque to the executor: host pointers on the CPU
 * backend, CUdeviceptr values on CUDA, carried in a void * either way. Work
 * is queued on a context's queue (a CUDA stream; nothing on the CPU, which
 * runs it at once) and is complete after gpud_backend_sync().
 */
#ifndef GPUD_BACKEND_H
#define GPUD_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ops.h"
#include "pool.h"

struct gpud_engine;
struct gpud_fair;
/* A context's in-order work queue on the backend. */
struct gpud_queue;

struct gpud_backend {
	const char *name;
	/*
	 * Device memory is gpud's own memory: the data of a COPY_D2H may be
	 * sent straight from it (exec.h) instead of being copied first.
	 */
	bool host_visible;
	/*
	 * What the hardware behind the backend offers, before any "capacity"
	 * line of the config. Returns 0, or -1 with the reason in @err.
	 */
	int (*probe)(struct gpud_engine *eng, struct gpud_capacity *cap,
		     char *err, size_t errlen);
	/* A new queue in *@q (may be NULL on a backend without queues). */
	int (*queue_open)(struct gpud_engine *eng, struct gpud_queue **q);
	/* Wait for @q's work, then release it. */
	void (*queue_close)(struct gpud_engine *eng, struct gpud_queue *q);
	/* @bytes (>= 1) of zeroed device memory. 0 or -ENOMEM. */
	int (*mem_alloc)(struct gpud_engine *eng, struct gpud_queue *q,
			 uint64_t bytes, void **dev);
	/* Free it once @q's work on it is done. */
	void (*mem_free)(struct gpud_engine *eng, struct gpud_queue *q,
			 void *dev, uint64_t bytes);
	/*
	 * Copies and fills, queued on @q. The host side of an H2D may be
	 * reused when the call returns; that of a D2H is valid after sync.
	 * Returns 0 or a negative errno.
	 */
	int (*copy_h2d)(struct gpud_engine *eng, struct gpud_queue *q,
			void *dev, const void *host, uint64_t bytes);
	int (*copy_d2h)(struct gpud_engine *eng, struct gpud_queue *q,
			void *host, const void *dev, uint64_t bytes);
	/* The ranges may overlap (memmove). */
	int (*copy_d2d)(struct gpud_engine *eng, struct gpud_queue *q,
			void *dst, const void *src, uint64_t bytes);
	int (*fill)(struct gpud_engine *eng, struct gpud_queue *q, void *dev,
		    uint8_t value, uint64_t bytes);
	/*
	 * An operator (gpud/ops/ops.h; tensor data are device addresses) with
	 * the checks and results of eia_op_run(). -EOPNOTSUPP for an operator
	 * the backend does not implement.
	 */
	int (*run_op)(struct gpud_engine *eng, struct gpud_queue *q, uint32_t op,
		      const void *attr, size_t attr_size,
		      const struct eia_tensor *in, unsigned int n_in,
		      const struct eia_tensor *out, unsigned int n_out);
	/*
	 * Raw modules (uapi/eia_cmdbuf.h); all NULL on a backend without
	 * them, which then answers -EOPNOTSUPP. @image is NUL-terminated past
	 * its @bytes. -EINVAL for an image the backend refuses.
	 */
	int (*module_load)(struct gpud_engine *eng, struct gpud_queue *q,
			   const void *image, uint64_t bytes, void **module);
	/* Once @q's work is done, which may use it. */
	void (*module_unload)(struct gpud_engine *eng, struct gpud_queue *q,
			      void *module);
	/* -ENOENT when @module has no kernel @name. */
	int (*module_function)(struct gpud_engine *eng, void *module,
			       const char *name, void **fn);
	/*
	 * Queue @fn on @q with the parameter blob @params (device pointers
	 * already in place). -EINVAL for a launch the GPU refuses (too many
	 * threads, too much shared memory, a blob not the kernel's size).
	 */
	int (*launch_kernel)(struct gpud_engine *eng, struct gpud_queue *q, void *fn,
			     const uint32_t grid[3], const uint32_t block[3],
			     uint32_t shared_bytes, void *params, size_t params_size);
	/* Wait for @q's work. 0, or a negative errno for a fault in it. */
	int (*sync)(struct gpud_engine *eng, struct gpud_queue *q);
	/* Release what gpud_backend_open() set up (NULL: nothing). */
	void (*close)(struct gpud_engine *eng);
};

extern const struct gpud_backend gpud_backend_cpu;

/*
 * What the executor needs to run work: the backend, its state, the
 * operator pool and the arbiter that shares the backend between devices
 * (fair.h; NULL: not shared out). @stopping is set at shutdown: buffers then
 * stop between commands. @mem_in_use counts device memory over all clients.
 */
struct gpud_engine {
	const struct gpud_backend *be;
	void *priv;			/* the backend's own state */
	struct eia_pool *pool;
	struct gpud_fair *fair;
	int fair_fd;			/* a memfd holding @fair, to map elsewhere */
	atomic_bool stopping;
	atomic_uint_fast64_t mem_in_use;
};

/* How gpud_backend_open() failed: the exit status main() uses. */
enum gpud_backend_err {
	GPUD_BACKEND_EUSAGE = 2,	/* unknown, or not in this build */
	GPUD_BACKEND_ERUNTIME = 1,	/* in this build, but unusable here */
};

/*
 * Set up @eng->be (and its state) for a --backend value: "cpu"; "cuda",
 * which must work; or "auto", CUDA when a GPU is usable and the CPU
 * otherwise, logging which and why. Returns 0 or an enum gpud_backend_err
 * with the reason in @err.
 */
int gpud_backend_open(struct gpud_engine *eng, const char *name, char *err,
		      size_t errlen);

/* Undo gpud_backend_open(). */
void gpud_backend_close(struct gpud_engine *eng);

/* "cpu" or "cpu, cuda": the backends this build has (for --version). */
const char *gpud_backend_list(void);

/*
 * The capacity grants are accounted against: the backend's probe, with each
 * configured figure (non-zero in @configured) in its place. A configured FP32
 * capacity without an FP16 one implies FP16 = 8 x FP32, the ratio of every
 * default type. Returns 0, or -1 with the reason in @err.
 */
int gpud_backend_capacity(struct gpud_engine *eng,
			  const struct gpud_capacity *configured,
			  struct gpud_capacity *out, char *err, size_t errlen);

/* Device memory, counted in @eng->mem_in_use. */
int gpud_dev_alloc(struct gpud_engine *eng, struct gpud_queue *q,
		   uint64_t bytes, void **dev);
void gpud_dev_free(struct gpud_engine *eng, struct gpud_queue *q, void *dev,
		   uint64_t bytes);

#ifdef GPUD_HAVE_CUDA
/*
 * gpud/cuda: load libcuda and cuBLAS, take device 0's primary context and
 * load the kernels. Returns 0 and sets @eng->be and @eng->priv, or -1 with
 * the reason, naming the library or the CUDA error, in @err.
 */
int gpud_cuda_open(struct gpud_engine *eng, char *err, size_t errlen);
#endif

#endif /* GPUD_BACKEND_H */
