/* SPDX-License-Identifier: MIT */
/*
 * Command buffers as they arrive in an EIA_MSG_SUBMIT (uapi/eia_cmdbuf.h,
 * uapi/eia_wire.h): checked completely before anything runs, so that a
 * malformed buffer is refused whole. What the check cannot know without
 * running (handles, ranges, quota, operator shapes) is left to exec.c, which
 * reports it per command.
 */
#ifndef GPUD_CMDBUF_H
#define GPUD_CMDBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eia_cmdbuf.h"

/* Largest attribute struct a LAUNCH_OP may carry (the largest is 528 bytes). */
#define GPUD_CB_MAX_ATTR	4096u

/* A checked buffer; the pointers are into the request's payload. */
struct gpud_cmdbuf {
	const struct eia_cb_hdr *first;
	uint32_t ncmds;
	/*
	 * Index of the last command that writes or frees device memory, or -1.
	 * The data of a COPY_D2H after it can be sent straight from device
	 * memory; earlier ones must be copied when they run.
	 */
	int64_t last_write;
	uint64_t d2h_bytes;		/* of every COPY_D2H */
	uint64_t d2h_copied;		/* of the COPY_D2Hs up to last_write */
	uint32_t nd2h_direct;		/* COPY_D2Hs after last_write */
	uint32_t resp_len;		/* the response's payload if all succeed */
	bool light;	/* no operator, little data: fine to run on the reader */
	/*
	 * It changes what its context owns (allocates or frees memory, modules
	 * or functions): a barrier across the context's queues (sched.h).
	 */
	bool barrier;
	/*
	 * A lone COPY_H2D whose data is not in the payload: gpud received it
	 * straight into the destination (gpud_cmdbuf_check_placed()).
	 */
	bool placed;
};

/*
 * Check the @len bytes of commands (and COPY_H2D data) at @cmds, 8-byte
 * aligned, said to hold @ncmds commands, and fill @cb. The response must fit
 * in @max_resp bytes of payload. Returns 0, -EINVAL (malformed) or -EMSGSIZE
 * (the response would not fit) with a message for the client in @msg.
 */
int gpud_cmdbuf_check(struct gpud_cmdbuf *cb, const void *cmds, size_t len,
		      uint32_t ncmds, uint32_t max_resp, char *msg, size_t msglen);

/*
 * gpud_cmdbuf_check() of a buffer of one COPY_H2D, @len bytes at @cmd, whose
 * @data_len bytes of data are not in memory: they follow on the wire. Only
 * data that needs no padding qualifies, so that nothing is left to check
 * once it arrives: a buffer that passes may have its data received straight
 * into device memory, and is then marked @cb->placed. Returns 0, -EAGAIN
 * (not such a buffer: read it whole and use gpud_cmdbuf_check()), or what
 * gpud_cmdbuf_check() would return for the whole buffer.
 */
int gpud_cmdbuf_check_placed(struct gpud_cmdbuf *cb, const void *cmd, size_t len,
			     uint64_t data_len, uint32_t max_resp, char *msg, size_t msglen);

/* The command after @h, in a checked buffer (past a COPY_H2D's data or a module image). */
const struct eia_cb_hdr *gpud_cmd_next(const struct eia_cb_hdr *h);

/* The data of a checked COPY_H2D. */
static inline const void *gpud_cmd_h2d_data(const struct eia_cb_copy *c)
{
	return c + 1;
}

/* The tensors of a checked LAUNCH_OP (inputs, then outputs), and its attributes. */
static inline const struct eia_cb_tensor *gpud_cmd_tensors(const struct eia_cb_launch_op *l)
{
	return (const struct eia_cb_tensor *)(l + 1);
}

static inline const void *gpud_cmd_attr(const struct eia_cb_launch_op *l)
{
	return gpud_cmd_tensors(l) + l->ninputs + l->noutputs;
}

/* The image of a checked MODULE_LOAD. */
static inline const void *gpud_cmd_module_image(const struct eia_cb_module_load *ml)
{
	return ml + 1;
}

/* The name of a checked MODULE_GET_FUNCTION: name_len bytes, no NUL. */
static inline const char *gpud_cmd_function_name(const struct eia_cb_module_get_function *g)
{
	return (const char *)(g + 1);
}

/* The pointers of a checked LAUNCH_KERNEL, and its parameter blob. */
static inline const struct eia_cb_kernel_ptr *
gpud_cmd_kernel_ptrs(const struct eia_cb_launch_kernel *k)
{
	return (const struct eia_cb_kernel_ptr *)(k + 1);
}

static inline const void *gpud_cmd_kernel_params(const struct eia_cb_launch_kernel *k)
{
	return gpud_cmd_kernel_ptrs(k) + k->nptrs;
}

/* "COPY_H2D", ... for messages; "?" for an unknown op. */
const char *gpud_cmd_name(uint16_t op);

#endif /* GPUD_CMDBUF_H */
