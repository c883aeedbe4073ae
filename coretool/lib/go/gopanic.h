/* A running Go panic, read post mortem: the goroutine's g._panic chain
 * (runtime._panic: arg, link), its value rendered as Go's printpanicval
 * would show it where the value says so without running code (a string, an
 * error whose message is a string field), else the value itself. */
#ifndef CT_GOPANIC_H
#define CT_GOPANIC_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_error.h"
#include "govalue.h"

struct go_panic {
	uint64_t addr;          /* the *runtime._panic */
	char type[128];         /* dynamic type of the value: "string", "*fmt.wrapError" */
	char msg[512];          /* the message, or the value rendered as text */
	bool msg_exact;         /* msg is the string Go printed (a string or an error's text field) */
	unsigned depth;         /* panics in the chain (a panic during a deferred call adds one) */
};

/* Reads the panic at addr (g._panic). The innermost panic is at addr; Go
 * prints the chain from the outermost, and its last line is this one. */
struct ct_error *go_panic_read(const struct go_rt *rt, struct govalue *gv, uint64_t addr,
			       struct go_panic *ret);

#endif
