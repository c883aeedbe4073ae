/* Go channels: the runtime's hchan (go src/runtime/chan.go) read from memory
 * with every field's offset and size from the DWARF of runtime.hchan,
 * runtime.waitq and runtime.sudog. A channel value is a pointer to its hchan
 * (0: a nil channel); its buffer is a ring of dataqsiz slots of elemsize
 * bytes, the qcount queued ones starting at slot recvx. */
#ifndef CT_GOCHAN_H
#define CT_GOCHAN_H
#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>
#include "ct_error.h"
#include "goruntime.h"

/* Goroutines counted per wait queue at most: a damaged or cyclic list stops
 * there (the count is then marked partial). */
#define GOCHAN_MAX_WAITERS 100000u

struct gochan {
	uint64_t addr;          /* the hchan; 0: a nil channel */
	uint64_t qcount, dataqsiz, buf, elemsize, sendx, recvx;
	bool closed;
	uint64_t nrecvq, nsendq; /* goroutines blocked receiving / sending */
	bool waiters_partial;    /* a wait queue was unreadable or longer than the limit */
	Dwarf_Die elem;          /* T of chan T (DW_AT_go_elem) */
	bool elem_ok;
	char bad[128];           /* "" or why the header is inconsistent (slots not trusted) */
};

/* The channel of DWARF type chan_type (typedefs allowed) whose hchan is at
 * addr (0: nil). Unreadable memory: CT_ERR_FAULT / CT_ERR_NOT_SAVED; a
 * runtime without the hchan layout in DWARF: CT_ERR_UNSUPPORTED. An
 * inconsistent header is returned with ret->bad set. */
struct ct_error *gochan_read(const struct go_rt *rt, Dwarf_Die *chan_type, uint64_t addr,
			     struct gochan *ret);
/* Where the i-th queued element is (queue order: the next receive first);
 * 0 when i >= qcount or the header is bad. */
uint64_t gochan_slot(const struct gochan *c, uint64_t i);
#endif
