/* SPDX-License-Identifier: MIT */
/*
 * Device memory is the clients': two queues of a context that write one
 * buffer with no event between them race on it, as two CUDA streams would,
 * and gpud keeps none of its own data there. On the CPU backend device
 * memory is gpud's heap, so ThreadSanitizer would report such a client's
 * race as gpud's. Under it, the accesses gpud's threads make to device
 * memory outside the operator pool (small copies and fills, responses sent
 * straight from device memory) are left untracked: the pool orders every
 * job after the one before, so with one side of each such pair untracked,
 * what ThreadSanitizer still reports is gpud's own.
 */
#ifndef GPUD_DEVMEM_RACE_H
#define GPUD_DEVMEM_RACE_H

#if defined(__SANITIZE_THREAD__)
#define GPUD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GPUD_TSAN 1
#endif
#endif

#ifdef GPUD_TSAN
/* ThreadSanitizer's runtime implements these dynamic annotations. */
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);

static inline void gpud_devmem_begin(void)
{
	AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
	AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
}

static inline void gpud_devmem_end(void)
{
	AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
	AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
}
#else
static inline void gpud_devmem_begin(void)
{
}

static inline void gpud_devmem_end(void)
{
}
#endif

#endif /* GPUD_DEVMEM_RACE_H */
