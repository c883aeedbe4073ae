/* The C half of xmlcrash: only what cgo cannot do itself. No bug logic lives here: every
 * crash of the suite comes from Go code calling libxml2's real API. */
#ifndef XMLCRASH_SHIM_H
#define XMLCRASH_SHIM_H

#include <stdint.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <libxml/encoding.h>
#include <libxml/xmlmemory.h>

/* Requested thread stack size (glibc's default attribute) for the stack-overflow case. */
#define XC_THREAD_STACK (512 * 1024)

void xc_init(void);
/* xmlFree is a variable (a function pointer), which cgo cannot call. */
void xc_xmlFree(void *p);
/* xmlParserVersion is a macro around __xmlParserVersion() in a threaded build. */
const char *xc_parser_version(void);
/* The calling thread's stack (pthread_getattr_np). */
void xc_thread_stack(uintptr_t *lo, uintptr_t *hi, uintptr_t *guard);
/* The stack size glibc gives new threads (pthread_getattr_default_np). */
size_t xc_default_stacksize(void);
void xc_block_ms(int ms);
/* mincore() on the page of addr: 1 mapped, 0 unmapped (ENOMEM), -1 other error */
int xc_mapped(uintptr_t addr);

#endif
