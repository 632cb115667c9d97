/* SPDX-License-Identifier: MIT */
/*
 * What test_exec needs to speak contexts and command buffers to gpud with
 * raw wire messages: a command buffer builder (uapi/eia_cmdbuf.h), whole
 * messages of any size, and decoded SUBMIT responses.
 */
#ifndef EIA_TEST_CB_UTIL_H
#define EIA_TEST_CB_UTIL_H

#include <stdint.h>
#include <stddef.h>

#include "eia_cmdbuf.h"
#include "eia_ops.h"
#include "wire.h"

/* A command buffer being built; H2D data goes inline, as on the wire. */
struct cb {
	unsigned char *buf;
	size_t len, cap;
	uint32_t ncmds;
};

void cb_init(struct cb *b);
void cb_reset(struct cb *b);
void cb_release(struct cb *b);
/* Append @n bytes (zeros when @p is NULL); returns where they went. */
void *cb_put(struct cb *b, const void *p, size_t n);
/* The command at byte @off of the buffer. */
void *cb_at(struct cb *b, size_t off);

size_t cb_alloc(struct cb *b, uint64_t bytes);
size_t cb_free(struct cb *b, uint64_t handle);
size_t cb_h2d(struct cb *b, uint64_t dst, uint64_t off, const void *data, uint64_t n);
size_t cb_d2h(struct cb *b, uint64_t src, uint64_t off, uint64_t n);
size_t cb_d2d(struct cb *b, uint64_t dst, uint64_t doff, uint64_t src, uint64_t soff,
	      uint64_t n);
size_t cb_memset(struct cb *b, uint64_t dst, uint64_t off, uint64_t n, uint32_t value);
size_t cb_fence(struct cb *b, uint64_t value);
size_t cb_launch(struct cb *b, uint32_t op, const struct eia_cb_tensor *t, uint16_t nin,
		 uint16_t nout, const void *attr, uint32_t attr_size);

size_t cb_module_load(struct cb *b, const void *image, uint64_t n);
size_t cb_module_unload(struct cb *b, uint64_t module);
size_t cb_get_function(struct cb *b, uint64_t module, const char *name, uint32_t len);
size_t cb_launch_kernel(struct cb *b, uint64_t fn, const struct eia_cb_kernel_ptr *p,
			uint32_t nptrs, const void *params, uint32_t params_size);

/* A tensor descriptor. */
struct eia_cb_tensor tensor(uint64_t handle, uint64_t offset, uint32_t dtype,
			    uint32_t ndim, const int64_t *dims);

/* A received message with its whole payload (malloc'd, NUL-terminated). */
struct msg {
	struct eia_msg_hdr hdr;
	unsigned char *payload;
};

int recv_msg(int fd, struct msg *m);
void msg_release(struct msg *m);

/* Send a SUBMIT of @b in @ctx. */
int send_submit(int fd, uint64_t ctx, const struct cb *b, uint64_t tag);
/* Send a SUBMIT with the given fields and @len bytes of commands. */
int send_submit_raw(int fd, uint64_t ctx, uint32_t ncmds, uint16_t queue, uint16_t flags,
		    const void *cmds, size_t len, uint64_t tag);

/* A decoded SUBMIT response. */
struct sresp {
	uint64_t tag;
	uint32_t status;		/* header status */
	char err[EIA_WIRE_ERRMSG_MAX];	/* its message, if any */
	uint32_t ncmds, failed;
	uint64_t memory_used;
	struct eia_cb_result *res;
	unsigned char *data;		/* the D2H data */
	size_t data_len;
	struct msg m;
};

/* Decode @m (a SUBMIT response) into @r, taking it over; -EPROTO if malformed. */
int sresp_decode(struct msg *m, struct sresp *r);
void sresp_release(struct sresp *r);

/* Receive the response to (@op, @tag); -EPROTO if something else comes. */
int recv_for(int fd, uint16_t op, uint64_t tag, struct msg *m);

/* SUBMIT and wait for its response; returns 0 or -errno (I/O, protocol). */
int submit(int fd, uint64_t ctx, const struct cb *b, uint64_t tag, struct sresp *r);

/* CTX_CREATE; returns the status (0 or errno) or -errno, and the id. */
int ctx_create(int fd, uint64_t tag, uint64_t *ctx);
/* CTX_DESTROY; returns the status or -errno, and memory_used. */
int ctx_destroy(int fd, uint64_t ctx, uint64_t tag, uint64_t *memory_used);

/* A connection attached as @type; returns the fd or -1. */
int attach(uint16_t port, const char *type);

#endif /* EIA_TEST_CB_UTIL_H */
