#include "gochan.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dw.h"
#include "mem.h"

/* Buffers beyond this are not a real channel (make(chan T, n) with n*size
 * past any address space): the header is damaged. */
#define GOCHAN_MAX_BUF (1ull << 40)

static struct ct_error *chan_load(const struct go_rt *rt, const char *type, const char *member,
				  uint64_t base, uint64_t *ret)
{
	struct dw_field f;
	struct ct_error *err = dw_field(rt->dw, type, member, &f);
	if (err)
		return err;
	if (f.size == 0 || f.size > 8)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "%s.%s: %" PRIu64 " bytes", type, member,
				    f.size);
	unsigned char b[8];
	enum mem_status s = mem_read(rt->mem, base + f.off, b, f.size);
	if (s != MEM_OK)
		return ct_error_fmt(s == MEM_NOT_SAVED ? CT_ERR_NOT_SAVED : CT_ERR_FAULT,
				    "%s.%s at 0x%" PRIx64 ": %s", type, member, base + f.off,
				    s == MEM_NOT_SAVED ? "not saved in the core" : "not mapped");
	*ret = mem_load(b, f.size);
	return NULL;
}

/* Goroutines on a wait queue (runtime.waitq at q): first, then sudog.next,
 * bounded. */
static uint64_t chan_waiters(const struct go_rt *rt, uint64_t q, bool *partial)
{
	uint64_t p = 0, n = 0;
	struct ct_error *err = chan_load(rt, "runtime.waitq", "first", q, &p);
	while (!err && p && n < GOCHAN_MAX_WAITERS) {
		n++;
		err = chan_load(rt, "runtime.sudog", "next", p, &p);
	}
	if (err || p)
		*partial = true;
	ct_error_destroy(err);
	return n;
}

static bool chan_elem(Dwarf_Die *type, Dwarf_Die *ret)
{
	Dwarf_Die cur = *type;
	Dwarf_Attribute a;
	/* Go puts DW_AT_go_elem on the chan type; a named channel type is a
	 * typedef of it. */
	for (int i = 0; i < 8; i++) {
		if (dwarf_attr(&cur, DW_AT_go_elem, &a) && dwarf_formref_die(&a, ret))
			return true;
		if (dwarf_tag(&cur) != DW_TAG_typedef || !dw_type_of(&cur, &cur))
			return false;
	}
	return false;
}

struct ct_error *gochan_read(const struct go_rt *rt, Dwarf_Die *chan_type, uint64_t addr,
			     struct gochan *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->addr = addr;
	ret->elem_ok = chan_type && chan_elem(chan_type, &ret->elem);
	if (!addr)
		return NULL;
	static const char *const hchan = "runtime.hchan";
	uint64_t closed = 0;
	struct ct_error *err;
	if ((err = chan_load(rt, hchan, "qcount", addr, &ret->qcount)) ||
	    (err = chan_load(rt, hchan, "dataqsiz", addr, &ret->dataqsiz)) ||
	    (err = chan_load(rt, hchan, "buf", addr, &ret->buf)) ||
	    (err = chan_load(rt, hchan, "elemsize", addr, &ret->elemsize)) ||
	    (err = chan_load(rt, hchan, "closed", addr, &closed)) ||
	    (err = chan_load(rt, hchan, "sendx", addr, &ret->sendx)) ||
	    (err = chan_load(rt, hchan, "recvx", addr, &ret->recvx)))
		return err;
	ret->closed = closed != 0;
	/* The wait queues only add counts: a queue we cannot walk marks them
	 * partial instead of failing the channel. */
	static const char *const queues[2] = { "recvq", "sendq" };
	uint64_t *counts[2] = { &ret->nrecvq, &ret->nsendq };
	for (int q = 0; q < 2; q++) {
		uint64_t off;
		if ((err = dw_member_offset(rt->dw, hchan, queues[q], &off))) {
			ct_error_destroy(err);
			ret->waiters_partial = true;
			continue;
		}
		*counts[q] = chan_waiters(rt, addr + off, &ret->waiters_partial);
	}

	uint64_t esize = 0;
	if (ret->elem_ok && dw_size(&ret->elem, &esize) && esize != ret->elemsize)
		snprintf(ret->bad, sizeof(ret->bad), "elemsize %" PRIu64 " but %s is %" PRIu64
			 " bytes", ret->elemsize, dwarf_diename(&ret->elem) ?
			 dwarf_diename(&ret->elem) : "?", esize);
	else if (ret->qcount > ret->dataqsiz)
		snprintf(ret->bad, sizeof(ret->bad), "qcount %" PRIu64 " > dataqsiz %" PRIu64,
			 ret->qcount, ret->dataqsiz);
	else if (ret->dataqsiz && (ret->recvx >= ret->dataqsiz || ret->sendx >= ret->dataqsiz))
		snprintf(ret->bad, sizeof(ret->bad), "recvx %" PRIu64 "/sendx %" PRIu64
			 " outside dataqsiz %" PRIu64, ret->recvx, ret->sendx, ret->dataqsiz);
	else if (ret->dataqsiz && ret->elemsize &&
		 ret->dataqsiz > GOCHAN_MAX_BUF / ret->elemsize)
		snprintf(ret->bad, sizeof(ret->bad), "dataqsiz %" PRIu64 " too large",
			 ret->dataqsiz);
	else if (ret->qcount && ret->elemsize && !ret->buf)
		snprintf(ret->bad, sizeof(ret->bad), "qcount %" PRIu64 " with no buffer",
			 ret->qcount);
	return NULL;
}

uint64_t gochan_slot(const struct gochan *c, uint64_t i)
{
	if (c->bad[0] || i >= c->qcount || !c->dataqsiz)
		return 0;
	return c->buf + ((c->recvx + i) % c->dataqsiz) * c->elemsize;
}
