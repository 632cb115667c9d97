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

#endif /* _EIA_COMPAT_H */
