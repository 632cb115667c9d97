/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels eia.ko builds on: Debian's 6.1, its
 * target, and later ones up to Debian's 6.12. Every such difference lives
 * here, so that the rest of the driver reads as code for one kernel.
 */
#ifndef _EIA_COMPAT_H
#define _EIA_COMPAT_H

/*
 * TLS_RECORD_TYPE_DATA is a macro of <net/tls.h> on 6.1; 6.6 moved the TLS
 * protocol constants to <net/tls_prot.h>, as an enum that #ifdef cannot see.
 */
#if __has_include("net/tls_prot.h")
#include <net/tls_prot.h>
#else
#include <net/tls.h>
#endif

/*
 * uring_cmd: 6.8 moved struct io_uring_cmd and its helpers to
 * <linux/io_uring/cmd.h>. Debian's 6.1 already has the four-argument
 * io_uring_cmd_done(cmd, ret, res2, issue_flags) and task-work callbacks
 * taking (struct io_uring_cmd *, unsigned int), as 6.12 has.
 *
 * The SQE's command area (80 bytes on an SQE128 ring) is ioucmd->cmd on
 * 6.1; 6.4 replaced it with io_uring_sqe_cmd(ioucmd->sqe). The header's
 * move tells the two apart for the kernels eia targets (6.1 and 6.12;
 * 6.4..6.7 are not among them).
 */
#if __has_include("linux/io_uring/cmd.h")
#include <linux/io_uring/cmd.h>

static inline const void *eia_uring_cmd_area(const struct io_uring_cmd *ioucmd)
{
	return io_uring_sqe_cmd(ioucmd->sqe);
}
#else
#include <linux/io_uring.h>

static inline const void *eia_uring_cmd_area(const struct io_uring_cmd *ioucmd)
{
	return ioucmd->cmd;
}
#endif

#endif /* _EIA_COMPAT_H */
