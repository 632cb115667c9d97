/* SPDX-License-Identifier: MIT */
/*
 * The kernels' fatbin (kernels.cu built by nvcc for sm_80, sm_90 and
 * compute_90 PTX), embedded read-only in gpud for cuModuleLoadData. The
 * Makefile passes the file's directory with -Wa,-I.
 */
	.section .rodata
	.balign 64
	.globl gpud_cuda_fatbin
	.type gpud_cuda_fatbin, @object
gpud_cuda_fatbin:
	.incbin "kernels.fatbin"
	.size gpud_cuda_fatbin, . - gpud_cuda_fatbin

	.section .note.GNU-stack, "", @progbits
