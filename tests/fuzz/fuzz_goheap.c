/* Harness (b): the Go heap model (arena index → span → slot, allocation and
 * mark bits, the allspans census) and the goroutine/M lists, over a memory
 * image recorded from a real sample core (mkseed goheap) with the fuzzer's
 * changes, and the real executable's DWARF.
 *
 * Input: u8 exe index | u64 load bias | u8 n | n x u64 address | image records
 * (fuzz_common.h). */
#include "fuzz_common.h"

#include "census.h"
#include "goheap.h"
#include "goroutine.h"
#include "goruntime.h"

static struct fz_exes exes;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_exes_open(&exes);
	fz_record_init();
	return 0;
}

static void check_span(const struct go_heap *h, const struct go_span *span, uint64_t addr)
{
	struct go_slot slot;
	struct ct_error *err = go_span_slot(h, span, addr, &slot);
	if (err) {
		FZ_DROP(err);
		return;
	}
	if (!slot.beyond && (slot.base > addr || addr - slot.base != slot.offset))
		abort(); /* the slot must hold the address */
	bool a;
	for (uint64_t i = 0; i < 4; i++) {
		err = go_span_allocated(h, span, slot.index + i, &a);
		FZ_DROP(err);
	}
	uint64_t n;
	err = go_span_count_allocated(h, span, &n);
	if (!err && n > span->nelems)
		abort(); /* more allocated slots than the span has */
	FZ_DROP(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t exe = fz_u8(&in);
	const struct dw *dw = fz_exe(&exes, exe);
	uint64_t bias = fz_u64(&in);
	uint64_t addrs[16];
	size_t naddrs = fz_u8(&in) % 17;
	for (size_t i = 0; i < naddrs; i++)
		addrs[i] = fz_u64(&in);
	if (!dw)
		return 0;
	struct fz_image img;
	fz_image_parse(&in, &img);
	struct mem mem = fz_mem(&img);
	if (fz_rec)
		bias = fz_rec->t->bias;

	struct go_rt *rt = NULL;
	struct ct_error *err = go_rt_open(dw, &mem, bias, &rt);
	FZ_DROP(err);
	if (!rt)
		goto out;

	struct go_heap *h = NULL;
	err = go_heap_open(rt, &h);
	FZ_DROP(err);
	if (h) {
		for (size_t i = 0; i < naddrs; i++) {
			enum go_span_kind kind;
			struct go_span span;
			err = go_heap_span_of(h, addrs[i], &kind, &span);
			if (err) {
				FZ_DROP(err);
				continue;
			}
			if (kind == GO_SPAN_INUSE) {
				if (addrs[i] < span.start || addrs[i] >= span.limit)
					abort(); /* span_of must not hand out a span that misses addr */
				check_span(h, &span, addrs[i]);
			}
		}
		struct census c;
		err = census_run(h, &c);
		FZ_DROP(err);
		go_heap_close(h);
	}

	struct go_sched *s = NULL;
	err = go_sched_open(rt, &s);
	FZ_DROP(err);
	if (s) {
		for (size_t i = 0; i < s->ngs; i++)
			(void)go_g_status_name(s, s->gs[i].status);
		for (size_t i = 0; i < naddrs; i++) {
			const struct go_g *g = go_sched_g_of_stack(s, addrs[i]);
			if (g && (addrs[i] < g->stack_lo || addrs[i] >= g->stack_hi))
				abort();
			go_sched_m_of_tid(s, (int64_t)addrs[i]);
			go_sched_g_at(s, addrs[i]);
		}
		go_sched_close(s);
	}
	go_rt_close(rt);
out:
	if (fz_rec) {
		struct fz_buf b = { 0 };
		fz_buf_put(&b, exe, 1);
		fz_buf_put(&b, bias, 8);
		fz_buf_put(&b, naddrs, 1);
		for (size_t i = 0; i < naddrs; i++)
			fz_buf_put(&b, addrs[i], 8);
		fz_record_write(b.p, b.n, 64);
		free(b.p);
	}
	fz_image_free(&img);
	return 0;
}
