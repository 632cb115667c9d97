/* SPDX-License-Identifier: MIT */
/*
 * Running a checked command buffer in a context, on the engine's backend: commands
 * in order, each with its result, the first failure cancelling the rest
 * (uapi/eia_cmdbuf.h). Work queued on the backend is waited for before
 * the response is built.
 */
#ifndef GPUD_EXEC_H
#define GPUD_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend.h"
#include "cmdbuf.h"
#include "ctx.h"

/*
 * The response to one SUBMIT, laid out to be sent as it is: @iov[0] is a
 * block holding room for the wire header, struct eia_wire_submit_resp, the
 * results and the data of the COPY_D2Hs that had to be copied; the data of
 * the others (after the buffer's last write, see struct gpud_cmdbuf) is sent
 * straight from device memory by @iov[1..]. That memory stays valid and
 * unchanged until the context runs its next work, which comes after the
 * response is sent.
 */
struct gpud_resp {
	unsigned char *head;
	struct iovec *iov;
	unsigned int niov;
	uint32_t payload_len;
	/* A command failed with -ENOTRECOVERABLE: the backend's context is lost. */
	bool device_lost;
};

/*
 * Room for the response of @cb. With @direct (a host-visible backend), the
 * COPY_D2Hs after the last write are sent from device memory; otherwise all
 * D2H data is copied into @r->head. Returns 0 or -ENOMEM.
 */
int gpud_resp_init(struct gpud_resp *r, const struct gpud_cmdbuf *cb, bool direct);

void gpud_resp_free(struct gpud_resp *r);

/*
 * Run @cb on @ctx's queue @queue (< EIA_CB_QUEUES), charging its
 * allocations to @acct, and fill @r (all but the wire header, which the
 * sender packs into the first sizeof(struct eia_wire_hdr) bytes of
 * @r->head). The COPY_H2D of a placed buffer copies nothing: its data was
 * received into its destination. sched.c sees to it that a barrier buffer
 * runs alone in @ctx.
 */
void gpud_exec(struct gpud_engine *eng, struct gpud_ctx *ctx, unsigned int queue,
	       struct gpud_mem_account *acct, const struct gpud_cmdbuf *cb,
	       struct gpud_resp *r);

#endif /* GPUD_EXEC_H */
