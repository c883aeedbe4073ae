#include "goroutine.h"
#include "ct_util.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Bounds against damaged lists: far above real programs. */
#define GO_MAX_GS (1u << 24)
#define GO_MAX_MS (1u << 20)

struct go_g_layout {
	uint64_t size;
	struct dw_field stack_lo, stack_hi, sched_sp, sched_pc, sched_bp, syscallsp, syscallpc,
		status, goid, m, waitreason, gopc, sig, sigcode0, sigcode1, sigpc, panic;
	bool has_waitreason, has_gopc, has_sig, has_panic;
};

struct go_m_layout {
	uint64_t size;
	struct dw_field g0, gsignal, curg, procid, id, alllink;
};

static struct ct_error *go_g_layout(const struct dw *dw, struct go_g_layout *l)
{
	struct ct_error *err;
	struct dw_field stack, sched;
	uint64_t lo, hi, sp, pc, bp;
	if ((err = dw_struct_size(dw, "runtime.g", &l->size)) ||
	    (err = dw_field(dw, "runtime.g", "stack", &stack)) ||
	    (err = dw_field(dw, "runtime.g", "sched", &sched)) ||
	    (err = dw_member_offset(dw, "runtime.stack", "lo", &lo)) ||
	    (err = dw_member_offset(dw, "runtime.stack", "hi", &hi)) ||
	    (err = dw_member_offset(dw, "runtime.gobuf", "sp", &sp)) ||
	    (err = dw_member_offset(dw, "runtime.gobuf", "pc", &pc)) ||
	    (err = dw_member_offset(dw, "runtime.gobuf", "bp", &bp)) ||
	    (err = dw_field(dw, "runtime.g", "syscallsp", &l->syscallsp)) ||
	    (err = dw_field(dw, "runtime.g", "syscallpc", &l->syscallpc)) ||
	    (err = dw_field(dw, "runtime.g", "atomicstatus", &l->status)) ||
	    (err = dw_field(dw, "runtime.g", "goid", &l->goid)) ||
	    (err = dw_field(dw, "runtime.g", "m", &l->m)))
		return err;
	struct ct_error *opt;
	if (!(opt = dw_field(dw, "runtime.g", "waitreason", &l->waitreason)))
		l->has_waitreason = true;
	ct_error_destroy(opt);
	if (!(opt = dw_field(dw, "runtime.g", "gopc", &l->gopc)))
		l->has_gopc = true;
	ct_error_destroy(opt);
	if (!(opt = dw_field(dw, "runtime.g", "_panic", &l->panic)))
		l->has_panic = true;
	ct_error_destroy(opt);
	if (!(opt = dw_field(dw, "runtime.g", "sig", &l->sig)) &&
	    !(opt = dw_field(dw, "runtime.g", "sigcode0", &l->sigcode0)) &&
	    !(opt = dw_field(dw, "runtime.g", "sigcode1", &l->sigcode1)) &&
	    !(opt = dw_field(dw, "runtime.g", "sigpc", &l->sigpc)))
		l->has_sig = true;
	ct_error_destroy(opt);
	l->stack_lo = (struct dw_field){ stack.off + lo, 8 };
	l->stack_hi = (struct dw_field){ stack.off + hi, 8 };
	l->sched_sp = (struct dw_field){ sched.off + sp, 8 };
	l->sched_pc = (struct dw_field){ sched.off + pc, 8 };
	l->sched_bp = (struct dw_field){ sched.off + bp, 8 };
	/* atomicstatus is an atomic.Uint32 struct in 1.20+: its value is the first 4 bytes. */
	l->status.size = 4;
	if (l->goid.size > 8)
		l->goid.size = 8;
	return NULL;
}

static struct ct_error *go_m_layout(const struct dw *dw, struct go_m_layout *l)
{
	struct ct_error *err;
	if ((err = dw_struct_size(dw, "runtime.m", &l->size)) ||
	    (err = dw_field(dw, "runtime.m", "g0", &l->g0)) ||
	    (err = dw_field(dw, "runtime.m", "gsignal", &l->gsignal)) ||
	    (err = dw_field(dw, "runtime.m", "curg", &l->curg)) ||
	    (err = dw_field(dw, "runtime.m", "procid", &l->procid)) ||
	    (err = dw_field(dw, "runtime.m", "id", &l->id)) ||
	    (err = dw_field(dw, "runtime.m", "alllink", &l->alllink)))
		return err;
	return NULL;
}

static struct ct_error *go_g_read(const struct go_rt *rt, const struct go_g_layout *l,
				  uint64_t addr, unsigned char *buf, struct go_g *g)
{
	struct ct_error *err = mem_read_err(rt->mem, addr, buf, l->size, "goroutine (runtime.g)");
	if (err)
		return err;
#define F(f) mem_load(buf + l->f.off, l->f.size)
	g->addr = addr;
	g->stack_lo = F(stack_lo);
	g->stack_hi = F(stack_hi);
	g->sched_sp = F(sched_sp);
	g->sched_pc = F(sched_pc);
	g->sched_bp = F(sched_bp);
	g->syscallsp = F(syscallsp);
	g->syscallpc = F(syscallpc);
	g->status = (uint32_t)F(status);
	g->goid = F(goid);
	g->m = F(m);
	g->waitreason = l->has_waitreason ? (int)F(waitreason) : -1;
	g->gopc = l->has_gopc ? F(gopc) : 0;
	g->panic = l->has_panic ? F(panic) : 0;
	if (l->has_sig) {
		g->sig = (uint32_t)F(sig);
		g->sigcode0 = F(sigcode0);
		g->sigcode1 = F(sigcode1);
		g->sigpc = F(sigpc);
	}
#undef F
	return NULL;
}

static int go_g_cmp(const void *a, const void *b)
{
	const struct go_g *x = a, *y = b;
	return x->stack_lo < y->stack_lo ? -1 : x->stack_lo > y->stack_lo;
}

struct go_status_walk {
	const struct dw *dw;
	struct go_sched *s;
};

static bool go_status_name_cb(const struct dw_entry *e, void *arg)
{
	struct go_status_walk *w = arg;
	if (strncmp(e->name, "runtime._G", 10) || !strncmp(e->name, "runtime._Gscan", 14) ||
	    w->s->nst_names >= sizeof(w->s->st_names) / sizeof(w->s->st_names[0]))
		return true;
	int64_t v;
	struct ct_error *err = dw_const(w->dw, e->name, &v);
	if (err) {
		ct_error_destroy(err);
		return true;
	}
	/* "runtime._Gdeadextra" -> "deadextra" */
	w->s->st_names[w->s->nst_names].value = (uint32_t)v;
	snprintf(w->s->st_names[w->s->nst_names].name, sizeof(w->s->st_names[0].name), "%s", e->name + 10);
	for (char *p = w->s->st_names[w->s->nst_names].name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	w->s->nst_names++;
	return true;
}

/* The goroutine status values (runtime2.go), the same since Go 1.0: used where
 * the executable's DWARF lacks the constant. */
static const struct {
	const char *name;
	uint32_t value;
	size_t field;
} go_status_fallback[] = {
	{ "runtime._Gidle", 0, offsetof(struct go_sched, st_idle) },
	{ "runtime._Grunnable", 1, offsetof(struct go_sched, st_runnable) },
	{ "runtime._Grunning", 2, offsetof(struct go_sched, st_running) },
	{ "runtime._Gsyscall", 3, offsetof(struct go_sched, st_syscall) },
	{ "runtime._Gwaiting", 4, offsetof(struct go_sched, st_waiting) },
	{ "runtime._Gdead", 6, offsetof(struct go_sched, st_dead) },
	{ "runtime._Gcopystack", 8, offsetof(struct go_sched, st_copystack) },
	{ "runtime._Gpreempted", 9, offsetof(struct go_sched, st_preempted) },
	{ "runtime._Gscan", 0x1000, offsetof(struct go_sched, scan_bit) },
};

void go_sched_fallbacks(ct_fallback_fn fn, void *arg)
{
	for (size_t i = 0; i < sizeof(go_status_fallback) / sizeof(go_status_fallback[0]); i++)
		fn(arg, go_status_fallback[i].name, go_status_fallback[i].value);
}

static uint32_t go_status_const(const struct dw *dw, const char *name, uint32_t fallback)
{
	int64_t v;
	struct ct_error *err = dw_const(dw, name, &v);
	if (err) {
		ct_error_destroy(err);
		return fallback;
	}
	return (uint32_t)v;
}

struct ct_error *go_sched_open(const struct go_rt *rt, struct go_sched **ret)
{
	struct ct_error *err;
	const struct dw *dw = rt->dw;
	struct go_g_layout gl;
	struct go_m_layout ml;
	if ((err = go_g_layout(dw, &gl)) || (err = go_m_layout(dw, &ml)))
		return ct_error_wrap(err, "goroutine model");
	if (gl.size > 65536 || ml.size > 65536)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "runtime.g or runtime.m too large");
	struct go_sched *s = calloc(1, sizeof(*s));
	unsigned char *buf = malloc(gl.size > ml.size ? gl.size : ml.size);
	if (!s || !buf) {
		free(s);
		free(buf);
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	}
	/* Status values from DWARF, the table's where absent. */
	for (size_t i = 0; i < sizeof(go_status_fallback) / sizeof(go_status_fallback[0]); i++)
		*(uint32_t *)((char *)s + go_status_fallback[i].field) =
			go_status_const(dw, go_status_fallback[i].name, go_status_fallback[i].value);
	struct go_status_walk sw = { dw, s };
	dw_foreach(dw, DW_TAG_constant, go_status_name_cb, &sw);

	uint64_t allgs, arr = 0, len = 0;
	if ((err = go_var_addr(rt, "runtime.allgs", &allgs)) ||
	    (err = mem_read_u64(rt->mem, allgs, &arr, "runtime.allgs")) ||
	    (err = mem_read_u64(rt->mem, allgs + 8, &len, "runtime.allgs length")))
		goto fail;
	if (len > GO_MAX_GS) {
		err = ct_error_fmt(CT_ERR_CORRUPT, "runtime.allgs claims %" PRIu64 " goroutines", len);
		goto fail;
	}
	/* Grown as goroutines are read: a damaged length must not cost its
	 * claimed size in memory, nor one failed read per entry in time. */
	size_t cap = 0;
	for (uint64_t i = 0; i < len; i++) {
		unsigned char b8[8];
		if (mem_read(rt->mem, arr + i * 8, b8, 8) != MEM_OK) {
			/* not in the core: skip to the array's next page */
			uint64_t next = ((arr + i * 8) | 4095) + 1;
			i = (next - arr + 7) / 8 - 1; /* arr may be unaligned: round up */
			s->partial = true;
			continue;
		}
		uint64_t gp = mem_load(b8, 8);
		if (!gp)
			continue;
		if (s->ngs == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			struct go_g *ng = realloc(s->gs, ncap * sizeof(*ng));
			if (!ng) {
				err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
				goto fail;
			}
			s->gs = ng;
			cap = ncap;
		}
		struct ct_error *e = go_g_read(rt, &gl, gp, buf, &s->gs[s->ngs]);
		if (e) {
			ct_error_destroy(e);
			s->partial = true;
			continue;
		}
		s->gs[s->ngs].status &= ~s->scan_bit;
		s->ngs++;
	}
	if (s->ngs)
		qsort(s->gs, s->ngs, sizeof(*s->gs), go_g_cmp);

	uint64_t allm, mp;
	if ((err = go_var_addr(rt, "runtime.allm", &allm)) ||
	    (err = mem_read_u64(rt->mem, allm, &mp, "runtime.allm")))
		goto fail;
	/* Brent's cycle check: a damaged alllink that loops back must not list
	 * the same Ms again and again up to the bound. */
	uint64_t cycle_mark = mp, cycle_power = 1, cycle_len = 0;
	for (size_t n = 0; mp && n < GO_MAX_MS; n++) {
		if (n > 0 && mp == cycle_mark) {
			s->partial = true;
			break;
		}
		if (++cycle_len == cycle_power) {
			cycle_mark = mp;
			cycle_power *= 2;
			cycle_len = 0;
		}
		if (mem_read(rt->mem, mp, buf, ml.size) != MEM_OK) {
			s->partial = true;
			break;
		}
		struct go_m *m = CT_PUSH(s->ms, s->nms, s->cap_ms);
		if (!m) {
			err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
			goto fail;
		}
		m->addr = mp;
#define F(f) mem_load(buf + ml.f.off, ml.f.size)
		m->g0 = F(g0);
		m->gsignal = F(gsignal);
		m->curg = F(curg);
		m->procid = (int64_t)F(procid);
		m->id = (int64_t)F(id);
		uint64_t next = F(alllink);
#undef F
		unsigned char *gbuf = malloc(gl.size);
		struct go_g g;
		struct ct_error *e0 = NULL, *e1 = NULL;
		if (gbuf && m->g0 && !(e0 = go_g_read(rt, &gl, m->g0, gbuf, &g))) {
			m->g0_lo = g.stack_lo;
			m->g0_hi = g.stack_hi;
			m->g0_sched_sp = g.sched_sp;
		}
		if (gbuf && m->gsignal && !(e1 = go_g_read(rt, &gl, m->gsignal, gbuf, &g))) {
			m->gsignal_lo = g.stack_lo;
			m->gsignal_hi = g.stack_hi;
		}
		ct_error_destroy(e0);
		ct_error_destroy(e1);
		free(gbuf);
		mp = next;
	}
	free(buf);
	*ret = s;
	return NULL;
fail:
	free(buf);
	go_sched_close(s);
	return err;
}

void go_sched_close(struct go_sched *s)
{
	if (!s)
		return;
	free(s->gs);
	free(s->ms);
	free(s);
}

const char *go_g_status_name(const struct go_sched *s, uint32_t st)
{
	if (st == s->st_idle) return "idle";
	if (st == s->st_runnable) return "runnable";
	if (st == s->st_running) return "running";
	if (st == s->st_syscall) return "syscall";
	if (st == s->st_waiting) return "waiting";
	if (st == s->st_dead) return "dead";
	if (st == s->st_copystack) return "copystack";
	if (st == s->st_preempted) return "preempted";
	for (size_t i = 0; i < s->nst_names; i++)
		if (s->st_names[i].value == st)
			return s->st_names[i].name;
	return "unknown";
}

const struct go_g *go_sched_g_of_stack(const struct go_sched *s, uint64_t addr)
{
	/* Stacks do not overlap, but dead goroutines keep stale bounds: prefer a
	 * live owner, and scan the few candidates whose lo is at or below addr. */
	size_t lo = CT_UPPER_BOUND(s->gs, s->ngs, stack_lo, addr);
	const struct go_g *dead = NULL;
	for (size_t i = lo; i-- > 0 && lo - i <= 64;) {
		const struct go_g *g = &s->gs[i];
		if (addr >= g->stack_lo && addr < g->stack_hi) {
			if (g->status != s->st_dead)
				return g;
			if (!dead)
				dead = g;
		}
	}
	return dead;
}

const struct go_m *go_sched_m_of_tid(const struct go_sched *s, int64_t tid)
{
	for (size_t i = 0; i < s->nms; i++)
		if (s->ms[i].procid == tid)
			return &s->ms[i];
	return NULL;
}

const struct go_g *go_sched_g_at(const struct go_sched *s, uint64_t gaddr)
{
	for (size_t i = 0; i < s->ngs; i++)
		if (s->gs[i].addr == gaddr)
			return &s->gs[i];
	return NULL;
}

const char *go_g_waitreason(const struct go_rt *rt, int reason, char *buf, size_t n)
{
	uint64_t arr, len;
	struct ct_error *err;
	if (reason < 0 || reason > 255)
		return NULL;
	if ((err = go_var_addr(rt, "runtime.waitReasonStrings", &arr))) {
		ct_error_destroy(err);
		return NULL;
	}
	/* [N]string: each element is a string header (ptr, len). */
	uint64_t elem = rt->string_len_off + 8;
	if ((err = go_read_string(rt, arr + (uint64_t)reason * elem, buf, n, &len))) {
		ct_error_destroy(err);
		return NULL;
	}
	return buf[0] ? buf : NULL;
}
