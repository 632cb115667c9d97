// SPDX-License-Identifier: MIT
/*
 * eia-test-raw-modules: raw CUDA modules end to end on a gpud with the CUDA
 * backend, through libeia over tcp://: a PTX and a fatbin of
 * raw_kernels.cu loaded, a kernel found by name and launched with pointer
 * parameters, results checked; refusals (unknown name, garbage image, too
 * many threads, an unloaded module's function); and fault isolation: a
 * kernel that writes to an illegal address fails its own device with
 * EIA_ERROR_DEVICE_FAULT while another device on the same gpud goes on.
 * Prints TAP; exits 1 when a check fails, 2 when it cannot run.
 *
 *	eia-test-raw-modules tcp://127.0.0.1:PORT KERNELS.ptx KERNELS.fatbin
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eia.h"

#define N	1000

static int failures, tests;

static void check(int ok, const char *what)
{
	eiaFailure f;

	tests++;
	if (ok) {
		printf("ok %d %s\n", tests, what);
		return;
	}
	failures++;
	eiaGetLastFailure(&f);
	printf("not ok %d %s\n# last failure: %s\n", tests, what, f.message);
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	if (f)
		fclose(f);
	return buf;
}

/* The kernel's parameters, as vadd declares them. */
struct vadd_params {
	uint64_t a, b, c;
	int32_t n;
	int32_t pad;
};

/* Launch @fn (vadd) on fresh data and check c = a + b. */
static int run_vadd(eiaDevice_t dev, eiaFunction_t fn)
{
	static float a[N], b[N], c[N];
	struct vadd_params p = { .n = N };
	const eiaKernelPtr ptrs[] = {
		{ offsetof(struct vadd_params, a), 0, 0 },
		{ offsetof(struct vadd_params, b), 0, N * sizeof(float) },
		{ offsetof(struct vadd_params, c), 0, 2 * N * sizeof(float) },
	};
	eiaKernelPtr k[3];
	const unsigned int grid[3] = { (N + 127) / 128, 1, 1 }, block[3] = { 128, 1, 1 };
	eiaDeviceptr m;
	eiaStream_t s;
	int i, ok;

	for (i = 0; i < N; i++) {
		a[i] = (float)i * 0.5f;
		b[i] = 3.0f - (float)i;
	}
	if (eiaMemAlloc(dev, &m, 3 * N * sizeof(float)))
		return 0;
	memcpy(k, ptrs, sizeof(k));
	for (i = 0; i < 3; i++)
		k[i].ptr = m;
	ok = !eiaStreamCreate(&s, dev, 0) &&
	     !eiaMemcpyHtoDAsync(s, m, 0, a, sizeof(a)) &&
	     !eiaMemcpyHtoDAsync(s, m, sizeof(a), b, sizeof(b)) &&
	     !eiaLaunchKernel(s, fn, grid, block, 0, &p, offsetof(struct vadd_params, pad), k, 3) &&
	     !eiaMemcpyDtoHAsync(s, c, m, 2 * sizeof(a), sizeof(c)) &&
	     !eiaStreamSynchronize(s);
	for (i = 0; ok && i < N; i++)
		ok = c[i] == a[i] + b[i];
	eiaStreamDestroy(s);
	eiaMemFree(dev, m);
	return ok;
}

static void images(eiaDevice_t dev, const char *what, const void *image, size_t len)
{
	char name[128];
	eiaFunction_t fn = 0, gone;
	eiaModule_t mod = 0;

	snprintf(name, sizeof(name), "%s: loads", what);
	check(!eiaModuleLoadData(dev, &mod, image, len) && mod, name);
	snprintf(name, sizeof(name), "%s: vadd found and runs", what);
	check(!eiaModuleGetFunction(dev, &fn, mod, "vadd") && run_vadd(dev, fn), name);
	snprintf(name, sizeof(name), "%s: an unknown kernel name is an invalid handle", what);
	check(eiaModuleGetFunction(dev, &gone, mod, "no_such_kernel") ==
	      EIA_ERROR_INVALID_HANDLE, name);
	snprintf(name, sizeof(name), "%s: unloads", what);
	check(!eiaModuleUnload(dev, mod), name);
	snprintf(name, sizeof(name), "%s: its function is gone with it", what);
	check(!run_vadd(dev, fn) && eiaModuleUnload(dev, mod) == EIA_ERROR_INVALID_HANDLE, name);
}

static void refusals(eiaDevice_t dev, const void *ptx, size_t len)
{
	const unsigned int grid[3] = { 1, 1, 1 }, huge[3] = { 4096, 1, 1 };
	static const char garbage[] = "this is not a module";
	struct vadd_params p = { .n = 0 };
	eiaFunction_t fn;
	eiaModule_t mod;
	eiaStream_t s;

	check(eiaModuleLoadData(dev, &mod, garbage, sizeof(garbage)) == EIA_ERROR_INVALID_VALUE,
	      "a garbage image is refused");
	check(!eiaModuleLoadData(dev, &mod, ptx, len) &&
	      !eiaModuleGetFunction(dev, &fn, mod, "vadd") && !eiaStreamCreate(&s, dev, 0),
	      "set up for the launch limits");
	check(!eiaLaunchKernel(s, fn, grid, huge, 0, &p, sizeof(p), NULL, 0) &&
	      eiaStreamSynchronize(s) == EIA_ERROR_INVALID_VALUE,
	      "4096 threads per block are refused");
	check(!eiaLaunchKernel(s, fn, grid, grid, 0, &p, sizeof(p), NULL, 0) &&
	      !eiaStreamSynchronize(s), "the stream works after a refusal");
	eiaStreamDestroy(s);
	eiaModuleUnload(dev, mod);
}

/* Device @bad faults; device @good, on the same gpud, must not notice. */
static void fault_isolation(eiaDevice_t good, eiaDevice_t bad, const void *ptx, size_t len)
{
	const unsigned int one[3] = { 1, 1, 1 };
	uint64_t illegal = 0x10;	/* no allocation lives at the first page */
	eiaFunction_t vadd, poke;
	eiaModule_t mg, mb;
	eiaStream_t s;
	eiaDeviceptr m;

	check(!eiaModuleLoadData(good, &mg, ptx, len) &&
	      !eiaModuleGetFunction(good, &vadd, mg, "vadd") && run_vadd(good, vadd),
	      "isolation: the good device runs");
	check(!eiaModuleLoadData(bad, &mb, ptx, len) &&
	      !eiaModuleGetFunction(bad, &poke, mb, "poke") && !eiaStreamCreate(&s, bad, 0),
	      "isolation: set up the faulting device");
	check(!eiaLaunchKernel(s, poke, one, one, 0, &illegal, sizeof(illegal), NULL, 0) &&
	      eiaStreamSynchronize(s) == EIA_ERROR_DEVICE_FAULT,
	      "isolation: an illegal address is EIA_ERROR_DEVICE_FAULT");
	check(eiaMemAlloc(bad, &m, 64) != EIA_SUCCESS,
	      "isolation: the faulted device is closed");
	eiaStreamDestroy(s);
	check(run_vadd(good, vadd), "isolation: the good device still runs, results intact");
	eiaModuleUnload(good, mg);
}

int main(int argc, char **argv)
{
	eiaDevice_t dev, other;
	void *ptx, *fatbin;
	size_t ptx_len = 0, fatbin_len = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s tcp://HOST:PORT KERNELS.ptx KERNELS.fatbin\n", argv[0]);
		return 2;
	}
	ptx = read_file(argv[2], &ptx_len);
	fatbin = read_file(argv[3], &fatbin_len);
	if (!ptx || !fatbin || eiaInit(0) || eiaDeviceOpen(&dev, argv[1]) ||
	    eiaDeviceOpen(&other, argv[1])) {
		fprintf(stderr, "%s: cannot read the kernels or open %s\n", argv[0], argv[1]);
		return 2;
	}
	images(dev, "PTX", ptx, ptx_len);
	images(dev, "fatbin", fatbin, fatbin_len);
	refusals(dev, ptx, ptx_len);
	fault_isolation(dev, other, ptx, ptx_len);
	eiaDeviceClose(other);
	eiaDeviceClose(dev);
	printf("1..%d\n", tests);
	free(ptx);
	free(fatbin);
	return failures ? 1 : 0;
}
