// SPDX-License-Identifier: MIT
/* Kernels an application might write, for eia-test-raw-modules. */

extern "C" __global__ void vadd(const float *a, const float *b, float *c, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		c[i] = a[i] + b[i];
}

/* Writes through a pointer it was given: an illegal address, on purpose. */
extern "C" __global__ void poke(int *p)
{
	*p = 42;
}
