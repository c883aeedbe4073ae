#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "shim.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Runs before the Go runtime starts (and before any thread exists): glibc calls init_array
 * entries with (argc, argv, envp).
 *  - mallopt(M_MMAP_THRESHOLD, 128 KiB) pins the mmap threshold (no dynamic adjustment), so
 *    every chunk > 128 KiB is its own mapping and free() munmaps it.
 *  - For the stack-overflow case only, every thread created from now on (all of the Go
 *    runtime's Ms: Go's cgo thread start asks pthread_attr_getstacksize of a fresh attribute,
 *    which is glibc's default) gets a 512 KiB stack instead of RLIMIT_STACK (8 MiB): the
 *    recursion needs 16 times fewer nodes and the core stays small. */
__attribute__((constructor)) static void xc_ctor(int argc, char **argv, char **envp)
{
	(void)envp;
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (argc >= 2 && strcmp(argv[1], "deep-tree-overflow") == 0) {
		pthread_attr_t a;
		if (pthread_attr_init(&a) == 0) {
			pthread_attr_setstacksize(&a, XC_THREAD_STACK);
			pthread_setattr_default_np(&a);
			pthread_attr_destroy(&a);
		}
	}
}

void xc_init(void) { xmlInitParser(); }

void xc_xmlFree(void *p) { xmlFree(p); }

const char *xc_parser_version(void) { return xmlParserVersion; }

void xc_thread_stack(uintptr_t *lo, uintptr_t *hi, uintptr_t *guard)
{
	pthread_attr_t a;
	void *addr = NULL;
	size_t size = 0, g = 0;
	*lo = *hi = *guard = 0;
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	pthread_attr_getstack(&a, &addr, &size);
	pthread_attr_getguardsize(&a, &g);
	pthread_attr_destroy(&a);
	*lo = (uintptr_t)addr;
	*hi = (uintptr_t)addr + size;
	*guard = g;
}

size_t xc_default_stacksize(void)
{
	pthread_attr_t a;
	size_t size = 0;
	if (pthread_getattr_default_np(&a) != 0)
		return 0;
	pthread_attr_getstacksize(&a, &size);
	pthread_attr_destroy(&a);
	return size;
}

void xc_block_ms(int ms) { usleep((useconds_t)ms * 1000); }

int xc_mapped(uintptr_t addr)
{
	unsigned char v;
	long pg = sysconf(_SC_PAGESIZE);
	if (mincore((void *)(addr & ~(uintptr_t)(pg - 1)), 1, &v) == 0)
		return 1;
	return errno == ENOMEM ? 0 : -1;
}
