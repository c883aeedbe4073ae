/* Harness (a): an ELF core's header, program headers, notes and segments
 * (core.c). The input is the core file itself (seeds: sample cores with their
 * memory cut to a few bytes per segment, mkseeds.py). Whatever it holds,
 * core_open must fail cleanly or give a table whose every read stays inside
 * the file. Packed inputs (zstd, lz4, xz, gzip, zip: seeds of each) go
 * through unpack.c first, uncached, into a nameless temporary file, at most
 * 1 GiB of it. */
#include "fuzz_common.h"

#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

static int fz_fd = -1;
static char fz_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("CORETOOL_CACHE_DIR", "off", 1);
	setenv("CORETOOL_UNPACK_MAX_GB", "1", 1);
	fz_fd = memfd_create("fuzz-core", 0);
	if (fz_fd < 0)
		abort();
	snprintf(fz_path, sizeof(fz_path), "/proc/self/fd/%d", fz_fd);
	return 0;
}

static void touch(const struct core *core, uint64_t addr, size_t len)
{
	unsigned char buf[256];
	if (len > sizeof(buf))
		len = sizeof(buf);
	enum mem_status st = core_read(core, addr, buf, len);
	if (st != MEM_OK && st != MEM_UNMAPPED && st != MEM_NOT_SAVED)
		abort();
	struct mem m = core_mem(core);
	mem_read(&m, addr, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(fz_fd, 0) != 0 || pwrite(fz_fd, data, size, 0) != (ssize_t)size)
		abort();
	struct core *core = NULL;
	struct ct_error *err = core_open(fz_path, &core);
	if (err) {
		if (!err->msg || !*err->msg)
			abort(); /* an error must say what is wrong */
		ct_error_destroy(err);
		return 0;
	}
	for (size_t i = 0; i < core->nsegs; i++) {
		const struct core_segment *s = &core->segs[i];
		if (s->filesz > s->memsz || (s->filesz && (s->offset > core->size ||
							     core->size - s->offset < s->filesz)))
			abort(); /* the table must never point outside the file */
		if (i && s->vaddr < core->segs[i - 1].vaddr + core->segs[i - 1].memsz)
			abort();
		touch(core, s->vaddr, 64);
		touch(core, s->vaddr + s->memsz - 1, 2);
		if (s->filesz)
			touch(core, s->vaddr + s->filesz - 8, 16);
		if (core_segment_of(core, s->vaddr) != s)
			abort();
	}
	for (size_t i = 0; i < core->nthreads; i++) {
		const struct core_thread *t = &core->threads[i];
		touch(core, t->regs[CORE_REG_RSP], 128);
		touch(core, t->regs[CORE_REG_RIP], 16);
	}
	for (size_t i = 0; i < core->nfiles; i++) {
		const struct core_file_map *f = &core->files[i];
		if (!f->path || strlen(f->path) > core->size)
			abort();
		core_file_of(core, f->start);
		touch(core, f->start, 32);
	}
	const char *exe = core_exe_path(core);
	if (exe)
		(void)strlen(exe);
	if (core->siginfo.present)
		(void)core_signal_name(core->siginfo.signo);
	touch(core, core->siginfo.addr, 8);
	touch(core, core->auxv_phdr, 64);
	core_close(core);
	return 0;
}
