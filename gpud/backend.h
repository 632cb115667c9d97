/* SPDX-License-Identifier: MIT */
/*
 * A backend is what runs the clients' work: the CPU backend (always built) or,
 * in builds that have it, CUDA. For now gpud asks a backend only its name and
 * its capacity; grants are accounted against that capacity (session.c).
 */
#ifndef GPUD_BACKEND_H
#define GPUD_BACKEND_H

#include <stddef.h>

#include "config.h"

struct gpud_backend {
	const char *name;
	/*
	 * What the hardware behind the backend offers, before any "capacity"
	 * line of the config. Returns 0, or -1 with the reason in @err.
	 */
	int (*probe)(struct gpud_capacity *cap, char *err, size_t errlen);
};

extern const struct gpud_backend gpud_backend_cpu;

/*
 * The backend for a --backend value ("auto", "cpu", "cuda"), or NULL with
 * the reason in @err when this build does not have it.
 */
const struct gpud_backend *gpud_backend_select(const char *name, char *err,
					       size_t errlen);

/*
 * The capacity grants are accounted against: the backend's probe, with each
 * configured figure (non-zero in @configured) in its place. A configured FP32
 * capacity without an FP16 one implies FP16 = 8 x FP32, the ratio of every
 * default type. Returns 0, or -1 with the reason in @err.
 */
int gpud_backend_capacity(const struct gpud_backend *be,
			  const struct gpud_capacity *configured,
			  struct gpud_capacity *out, char *err, size_t errlen);

#endif /* GPUD_BACKEND_H */
