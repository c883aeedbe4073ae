#define _GNU_SOURCE
#include "core.h"
#include "ct_file.h"
#include "ct_util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const core_reg_names[CORE_NREGS] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
	"rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
	"gs_base", "ds", "es", "fs", "gs",
};

/* Bounds on what a note may claim, so a hostile core cannot make us allocate
 * without limit. Real processes stay far below these. */
#define CORE_MAX_THREADS 1000000
#define CORE_MAX_FILES 10000000
/* Delve's "Delve Header" note ("DLVE"). */
#define CORE_NT_DELVE_HEADER 0x444C5645
/* Mappings are in the user half of the address space: an NT_FILE range past
 * it is damage, and would make every address look mapped. */
#define CORE_USER_END (1ULL << 47)
#define CORE_PAGE 4096

static int seg_cmp(const void *a, const void *b)
{
	const struct core_segment *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static struct ct_error *core_add_thread(struct core *core, const unsigned char *desc, size_t sz)
{
	/* struct elf_prstatus of <sys/procfs.h> is the kernel's layout for x86-64 cores. */
	if (sz < sizeof(struct elf_prstatus))
		return NULL; /* damaged note: skip the thread */
	if (core->nthreads >= CORE_MAX_THREADS)
		return NULL;
	struct elf_prstatus st;
	memcpy(&st, desc, sizeof(st));
	struct core_thread *t = CT_PUSH(core->threads, core->nthreads, core->cap_threads);
	if (!t)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory reading threads");
	t->tid = st.pr_pid;
	t->cursig = st.pr_cursig;
	_Static_assert(sizeof(st.pr_reg) == CORE_NREGS * 8, "user_regs_struct size");
	memcpy(t->regs, &st.pr_reg, sizeof(t->regs));
	t->fpvalid = st.pr_fpvalid != 0;
	return NULL;
}

static void core_read_prpsinfo(struct core *core, const unsigned char *desc, size_t sz)
{
	if (sz < sizeof(struct elf_prpsinfo))
		return;
	struct elf_prpsinfo ps;
	memcpy(&ps, desc, sizeof(ps));
	core->pid = ps.pr_pid;
	core->ppid = ps.pr_ppid;
	core->uid = (int32_t)ps.pr_uid;
	memcpy(core->fname, ps.pr_fname, 16);
	core->fname[16] = 0;
	memcpy(core->psargs, ps.pr_psargs, 80);
	core->psargs[80] = 0;
}

static void core_read_siginfo(struct core *core, const unsigned char *desc, size_t sz)
{
	/* siginfo_t: si_signo, si_errno, si_code (ints), then the union at 16; the
	 * fault address (si_addr) and the sender pid (si_pid) both sit at 16. */
	if (sz < 24)
		return;
	int32_t v[3];
	memcpy(v, desc, 12);
	core->siginfo.present = true;
	core->siginfo.signo = v[0];
	core->siginfo.errnum = v[1];
	core->siginfo.code = v[2];
	core->siginfo.addr = mem_load(desc + 16, 8);
	/* _kill: si_pid at 16, si_uid at 20 (also _rt for sigqueue). */
	core->siginfo.pid = (int32_t)mem_load(desc + 16, 4);
	core->siginfo.uid = (uint32_t)mem_load(desc + 20, 4);
}

bool core_siginfo_has_sender(const struct core_siginfo *si)
{
	return si->present && (si->code == SI_USER || si->code == SI_TKILL || si->code == SI_QUEUE ||
			       si->code == SI_MESGQ);
}

const char *core_si_code_name(int code)
{
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TIMER: return "SI_TIMER";
	case SI_MESGQ: return "SI_MESGQ";
	case SI_ASYNCIO: return "SI_ASYNCIO";
	case SI_SIGIO: return "SI_SIGIO";
	case SI_TKILL: return "SI_TKILL";
	}
	return NULL;
}

static struct ct_error *core_read_files(struct core *core, const unsigned char *desc, size_t sz)
{
	/* NT_FILE: count, page size, count x {start, end, file offset in pages}, then
	 * count NUL-terminated paths. */
	if (sz < 16)
		return NULL;
	uint64_t count = mem_load(desc, 8), pagesz = mem_load(desc + 8, 8);
	if (count == 0 || count > CORE_MAX_FILES || (sz - 16) / 24 < count)
		return NULL;
	const unsigned char *names = desc + 16 + count * 24, *end = desc + sz;
	core->files = calloc(count, sizeof(*core->files));
	core->file_strings = malloc(end - names + 1);
	if (!core->files || !core->file_strings)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory reading NT_FILE");
	memcpy(core->file_strings, names, end - names);
	core->file_strings[end - names] = 0;
	const char *s = core->file_strings, *send = core->file_strings + (end - names);
	for (uint64_t i = 0; i < count && s < send; i++) {
		const unsigned char *e = desc + 16 + i * 24;
		struct core_file_map *f = &core->files[core->nfiles++];
		f->start = mem_load(e, 8);
		f->end = mem_load(e + 8, 8);
		f->pgoff = mem_load(e + 16, 8) * pagesz;
		f->path = s;
		s += strlen(s) + 1;
	}
	return NULL;
}

static void core_read_auxv(struct core *core, const unsigned char *desc, size_t sz)
{
	for (size_t off = 0; off + 16 <= sz; off += 16) {
		uint64_t type = mem_load(desc + off, 8), val = mem_load(desc + off + 8, 8);
		if (type == AT_NULL)
			break;
		if (type == AT_ENTRY)
			core->auxv_entry = val;
		else if (type == AT_PHDR)
			core->auxv_phdr = val;
		else if (type == AT_EXECFN)
			core->auxv_execfn = val;
		else if (type == AT_PHNUM)
			core->auxv_phnum = val;
		else if (type == AT_PHENT)
			core->auxv_phent = val;
	}
}

static struct ct_error *core_read_notes(struct core *core, Elf *elf, const GElf_Phdr *ph)
{
	Elf_Data *data = elf_getdata_rawchunk(elf, ph->p_offset, ph->p_filesz, ELF_T_NHDR);
	if (!data)
		return NULL; /* notes outside the file: the core is truncated; keep going */
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	while (off < data->d_size &&
	       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;
		size_t sz = nh.n_descsz;
		const char *name = (const char *)data->d_buf + name_off;
		if (nh.n_namesz == 4 && !memcmp(name, "GDB", 4))
			core->writer = CORE_WRITER_GDB; /* NT_GDB_TDESC, ... */
		else if (nh.n_namesz == 12 && !memcmp(name, "Delve Header", 12) && nh.n_type == CORE_NT_DELVE_HEADER)
			core->writer = CORE_WRITER_DELVE;
		/* Delve names its notes "" (namesz 0) where the kernel says "CORE". */
		bool core_note = (nh.n_namesz == 5 && !memcmp(name, "CORE", 5)) ||
				 (nh.n_namesz == 0 && core->writer == CORE_WRITER_DELVE);
		if (!core_note)
			continue; /* "LINUX" notes (FP state, ...) are not needed */
		struct ct_error *err = NULL;
		switch (nh.n_type) {
		case NT_PRSTATUS: err = core_add_thread(core, desc, sz); break;
		case NT_PRPSINFO: core_read_prpsinfo(core, desc, sz); break;
		/* The kernel writes one, the signalled thread's; gdb one per
		 * thread, the first after the signalled thread's NT_PRSTATUS
		 * (threads[0]), the others the stops gdb itself caused. */
		case NT_SIGINFO: if (!core->siginfo.present) core_read_siginfo(core, desc, sz); break;
		case NT_FILE:
			core->has_nt_file = true;
			if (!core->files)
				err = core_read_files(core, desc, sz);
			break;
		case NT_AUXV: core_read_auxv(core, desc, sz); break;
		}
		if (err)
			return err;
	}
	return NULL;
}

/* The notes of one PT_NOTE segment of the executable (entries aligned to
 * the segment's p_align, 4 or 8): its GNU and Go build IDs. */
static void core_exe_note_seg(struct core *core, const unsigned char *b, size_t len, size_t align)
{
	size_t off = 0;
	while (len - off >= 12) {
		uint32_t namesz = (uint32_t)mem_load(b + off, 4), descsz = (uint32_t)mem_load(b + off + 4, 4);
		uint32_t type = (uint32_t)mem_load(b + off + 8, 4);
		uint64_t name_off = off + 12, desc_off = name_off + ((namesz + align - 1) & ~(uint64_t)(align - 1));
		uint64_t end = desc_off + ((descsz + align - 1) & ~(uint64_t)(align - 1));
		if (desc_off > len || descsz > len - desc_off)
			return;
		const char *name = (const char *)b + name_off;
		if (namesz == 4 && !memcmp(name, "GNU", 4) && type == NT_GNU_BUILD_ID && descsz &&
		    descsz <= sizeof(core->exe_build_id) && !core->exe_build_id_len) {
			memcpy(core->exe_build_id, b + desc_off, descsz);
			core->exe_build_id_len = descsz;
		} else if ((namesz == 3 || namesz == 4) && !memcmp(name, "Go", 3) && type == 4 && descsz &&
			   descsz < sizeof(core->exe_go_build_id) && !core->exe_go_build_id[0]) {
			memcpy(core->exe_go_build_id, b + desc_off, descsz);
			core->exe_go_build_id[descsz] = 0;
		}
		if (end > len)
			return;
		off = (size_t)end;
	}
}

/* The executable's program headers (AT_PHDR, AT_PHNUM) and notes, from the
 * bytes the core saved: never from a file, so that they say which program
 * ran whatever executable is given. The load bias is AT_PHDR minus PT_PHDR's
 * address, else found from the NT_FILE mapping holding the headers. */
static void core_read_exe_notes(struct core *core)
{
	uint64_t n = core->auxv_phnum;
	if (!core->auxv_phdr || !n || n > 4096 ||
	    (core->auxv_phent && core->auxv_phent != sizeof(Elf64_Phdr)))
		return;
	Elf64_Phdr *ph = malloc(n * sizeof(*ph));
	if (!ph || core_read(core, core->auxv_phdr, ph, n * sizeof(*ph)) != MEM_OK) {
		free(ph);
		return;
	}
	bool have_bias = false, all = true;
	uint64_t bias = 0;
	for (uint64_t i = 0; i < n && !have_bias; i++)
		if (ph[i].p_type == PT_PHDR) {
			bias = core->auxv_phdr - ph[i].p_vaddr;
			have_bias = true;
		}
	const struct core_file_map *f = core_file_of(core, core->auxv_phdr);
	for (uint64_t i = 0; i < n && !have_bias && f; i++) {
		uint64_t foff = f->pgoff + (core->auxv_phdr - f->start);
		if (ph[i].p_type == PT_LOAD && foff >= ph[i].p_offset && foff - ph[i].p_offset < ph[i].p_filesz) {
			bias = core->auxv_phdr - (ph[i].p_vaddr + (foff - ph[i].p_offset));
			have_bias = true;
		}
	}
	if (!have_bias) {
		free(ph);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (ph[i].p_type != PT_NOTE || !ph[i].p_filesz)
			continue;
		if (ph[i].p_filesz > 65536) {
			all = false;
			continue;
		}
		unsigned char *b = malloc(ph[i].p_filesz);
		if (b && core_read(core, bias + ph[i].p_vaddr, b, ph[i].p_filesz) == MEM_OK)
			core_exe_note_seg(core, b, ph[i].p_filesz, ph[i].p_align == 8 ? 8 : 4);
		else
			all = false;
		free(b);
	}
	free(ph);
	/* Only notes read whole say what the executable lacks. */
	core->exe_notes = all;
}

const char *core_writer_name(enum core_writer w)
{
	switch (w) {
	case CORE_WRITER_GDB: return "gdb";
	case CORE_WRITER_DELVE: return "delve";
	case CORE_WRITER_KERNEL: break;
	}
	return "kernel";
}

/* Sorts the segments by address and drops overlaps (the first kept), so
 * that lookups stay a binary search. Only program headers count as damage:
 * from_file segments never overlap one (core_gaps) but may overlap each
 * other when the notes name a range twice. */
static void core_sort_segments(struct core *core)
{
	qsort(core->segs, core->nsegs, sizeof(*core->segs), seg_cmp);
	size_t n = 0;
	for (size_t i = 0; i < core->nsegs; i++) {
		if (n && core->segs[i].vaddr < core->segs[n - 1].vaddr + core->segs[n - 1].memsz) {
			if (!core->segs[i].from_file)
				core->segs_dropped++;
			else if (core->segs[i].flags)
				core->bytes_missing -= core->segs[i].memsz;
			if (core->segs[i].from_file)
				core->bytes_unlisted -= core->segs[i].memsz;
			continue;
		}
		core->segs[n++] = core->segs[i];
	}
	core->nsegs = n;
	core->seg_hint = 0;
}

struct core_gap {
	uint64_t lo, hi;
};

/* Appends to gaps the parts of [lo, hi) no segment covers (segments sorted). */
static bool core_gaps(const struct core *core, uint64_t lo, uint64_t hi, struct core_gap **gaps, size_t *n,
		      size_t *cap)
{
	size_t a = 0, b = core->nsegs; /* the first segment ending after lo */
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (core->segs[mid].vaddr + core->segs[mid].memsz <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	uint64_t at = lo;
	for (size_t i = a; i < core->nsegs && at < hi && core->segs[i].vaddr < hi; i++) {
		const struct core_segment *s = &core->segs[i];
		if (s->vaddr > at) {
			struct core_gap *g = CT_PUSH(*gaps, *n, *cap);
			if (!g)
				return false;
			*g = (struct core_gap){ at, s->vaddr };
		}
		if (s->vaddr + s->memsz > at)
			at = s->vaddr + s->memsz;
	}
	if (at < hi) {
		struct core_gap *g = CT_PUSH(*gaps, *n, *cap);
		if (!g)
			return false;
		*g = (struct core_gap){ at, hi };
	}
	return true;
}

/* Adds the gaps as from_file segments with flags. */
static struct ct_error *core_add_gaps(struct core *core, const struct core_gap *gaps, size_t n, uint32_t flags)
{
	if (!n)
		return NULL;
	struct core_segment *segs = realloc(core->segs, (core->nsegs + n) * sizeof(*segs));
	if (!segs)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory adding unsaved file mappings");
	core->segs = segs;
	for (size_t i = 0; i < n; i++) {
		segs[core->nsegs++] = (struct core_segment){ .vaddr = gaps[i].lo, .memsz = gaps[i].hi - gaps[i].lo,
							     .flags = flags, .from_file = true };
		core->bytes_unlisted += gaps[i].hi - gaps[i].lo;
		if (flags)
			core->bytes_missing += gaps[i].hi - gaps[i].lo;
	}
	core_sort_segments(core);
	return NULL;
}

static bool core_range_sane(uint64_t start, uint64_t end)
{
	return start < end && end <= CORE_USER_END;
}

/* The NT_FILE mappings no program header covers (gdb leaves read-only
 * file-backed segments out; the kernel lists every mapping, saved or not):
 * mapped, not saved, read from the file like a kernel core's unsaved
 * file-backed pages. */
static int gap_cmp(const void *a, const void *b)
{
	const struct core_gap *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct ct_error *core_add_file_gaps(struct core *core)
{
	if (!core->nfiles)
		return NULL;
	/* The union of the mappings first: a hostile NT_FILE naming one wide range
	 * a million times must not make a million copies of each gap. Then there
	 * are at most (ranges + segments) gaps. */
	struct core_gap *ranges = malloc(core->nfiles * sizeof(*ranges)), *gaps = NULL;
	if (!ranges)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory reading NT_FILE");
	size_t nr = 0, n = 0, cap = 0;
	for (size_t i = 0; i < core->nfiles; i++)
		if (core_range_sane(core->files[i].start, core->files[i].end))
			ranges[nr++] = (struct core_gap){ core->files[i].start, core->files[i].end };
	qsort(ranges, nr, sizeof(*ranges), gap_cmp);
	size_t m = 0;
	for (size_t i = 0; i < nr; i++) {
		if (m && ranges[i].lo < ranges[m - 1].hi) { /* overlapping: adjacent ones are two mappings */
			if (ranges[i].hi > ranges[m - 1].hi)
				ranges[m - 1].hi = ranges[i].hi;
		} else {
			ranges[m++] = ranges[i];
		}
	}
	struct ct_error *err = NULL;
	for (size_t i = 0; i < m && !err; i++)
		if (!core_gaps(core, ranges[i].lo, ranges[i].hi, &gaps, &n, &cap))
			err = ct_error_fmt(CT_ERR_NOMEM, "out of memory reading NT_FILE");
	if (!err)
		err = core_add_gaps(core, gaps, n, PF_R);
	free(ranges);
	free(gaps);
	return err;
}

struct ct_error *core_add_mapping(struct core *core, uint64_t start, uint64_t end, uint64_t pgoff,
				  const char *path, uint32_t flags)
{
	if (!core_range_sane(start, end) || !path)
		return NULL;
	flags &= PF_R | PF_W | PF_X;
	/* The file's program header says what the loader mapped: it replaces the
	 * guess for the writer's omissions, never what the core itself says. */
	size_t a = 0, b = core->nsegs; /* the first segment ending after start */
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (core->segs[mid].vaddr + core->segs[mid].memsz <= start)
			a = mid + 1;
		else
			b = mid;
	}
	for (size_t i = a; i < core->nsegs && core->segs[i].vaddr < end; i++) {
		struct core_segment *s = &core->segs[i];
		if (!s->from_file)
			continue;
		if (s->flags && !flags)
			core->bytes_missing -= s->memsz;
		else if (!s->flags && flags)
			core->bytes_missing += s->memsz;
		s->flags = flags;
	}
	struct core_gap *gaps = NULL;
	size_t n = 0, cap = 0;
	if (!core_gaps(core, start, end, &gaps, &n, &cap)) {
		free(gaps);
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory adding a mapping");
	}
	struct ct_error *err = NULL;
	/* Also where all is saved: the file's name says what the memory is. */
	if (!core_file_of(core, start)) {
		char *copy = strdup(path);
		char **paths = copy ? realloc(core->added_paths, (core->nadded_paths + 1) * sizeof(*paths)) : NULL;
		struct core_file_map *files = paths ? realloc(core->files, (core->nfiles + 1) * sizeof(*files)) : NULL;
		if (paths)
			core->added_paths = paths;
		if (!files) {
			free(copy);
			free(gaps);
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory adding a mapping");
		}
		core->added_paths[core->nadded_paths++] = copy;
		core->files = files;
		files[core->nfiles++] = (struct core_file_map){ start, end, pgoff, copy };
	}
	err = core_add_gaps(core, gaps, n, flags);
	free(gaps);
	return err;
}

/* gdb's program headers cannot say PROT_NONE: BFD marks every segment it
 * writes readable, and gdb writes the PROT_NONE mappings too (read through
 * ptrace: zeros) as "R". A read-only anonymous mapping is what Go and glibc
 * reserve and guard with (arena reservations, a pthread stack's guard page),
 * so such a segment of a gdb core is taken as PROT_NONE, as the kernel's core
 * would say; its bytes still read. File-backed ones (NT_FILE) keep PF_R.
 * NT_FILE is sorted by address (gdb writes /proc/PID/maps' order); if not,
 * nothing is changed. */
static void core_gdb_prot_none(struct core *core)
{
	for (size_t i = 1; i < core->nfiles; i++)
		if (core->files[i].start < core->files[i - 1].start)
			return;
	size_t f = 0;
	for (size_t i = 0; i < core->nsegs; i++) {
		struct core_segment *s = &core->segs[i];
		while (f < core->nfiles && core->files[f].end <= s->vaddr)
			f++;
		bool file = f < core->nfiles && core->files[f].start < s->vaddr + s->memsz;
		if (s->flags == PF_R && !file && !s->from_file) {
			s->flags = 0;
			core->bytes_missing -= s->memsz - s->filesz;
		}
	}
}

/* Section headers are BFD's (gdb's gcore names them "note0", "load", ...);
 * the kernel writes none. gdb before 10 wrote no "GDB" note. */
static bool core_bfd_sections(Elf *elf)
{
	size_t shstrndx, n = 0;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && n < 64; scn = elf_nextscn(elf, scn), n++) {
		GElf_Shdr sh;
		const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		if (name && !strcmp(name, "note0"))
			return true;
	}
	return false;
}

struct ct_error *core_open(const char *path, struct core **ret)
{
	struct ct_error *err = NULL;
	struct core *core = calloc(1, sizeof(*core));
	if (!core)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	core->fd = -1;
	core->path = strdup(path);
	if (!core->path) {
		err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		goto fail;
	}
	core->fd = ct_open_regular(path);
	struct stat sb;
	if (core->fd < 0 && errno == EINVAL) {
		err = ct_error_fmt(CT_ERR_FORMAT, "%s: not a regular file", path);
		goto fail;
	}
	if (core->fd < 0 || fstat(core->fd, &sb) < 0) {
		err = ct_error_fmt(CT_ERR_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* A compressed or zipped core is unpacked first (unpack.h); the rest
	 * reads the unpacked file. */
	unsigned char head[18];
	ssize_t got = pread(core->fd, head, sizeof(head), 0);
	enum unpack_format fmt = got > 0 ? unpack_sniff(head, (size_t)got) : UNPACK_UNKNOWN;
	if (fmt != UNPACK_RAW && fmt != UNPACK_UNKNOWN) {
		int ufd;
		if ((err = unpack_core(core->fd, path, fmt, &core->unpacked, &ufd)))
			goto fail;
		origin_read(&core->origin, path, core->fd, &core->unpacked);
		close(core->fd);
		core->fd = ufd;
		if (fstat(core->fd, &sb) < 0) {
			err = ct_error_fmt(CT_ERR_IO, "%s (unpacked): %s", path, strerror(errno));
			goto fail;
		}
	} else {
		origin_read(&core->origin, path, core->fd, NULL);
	}
	core->size = (uint64_t)sb.st_size;
	if (core->size < EI_NIDENT) {
		err = ct_error_fmt(CT_ERR_FORMAT, "%s: not an ELF file (%" PRIu64 " bytes)", path,
				   core->size);
		goto fail;
	}
	core->data = mmap(NULL, core->size, PROT_READ, MAP_PRIVATE, core->fd, 0);
	if (core->data == MAP_FAILED) {
		core->data = NULL;
		err = ct_error_fmt(CT_ERR_IO, "%s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	/* Most questions touch a few pages of a multi-GiB file: without this the
	 * kernel reads megabytes around every page fault (read_ahead_kb). Walkers
	 * of large ranges ask for read-ahead with core_advise(). */
	madvise((void *)core->data, core->size, MADV_RANDOM);
	if (memcmp(core->data, ELFMAG, SELFMAG) != 0) {
		err = ct_error_fmt(CT_ERR_FORMAT, "%s: not an ELF file", path);
		goto fail;
	}
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)core->data, core->size);
	core->elf = elf;
	GElf_Ehdr eh;
	if (!elf || !gelf_getehdr(elf, &eh)) {
		err = ct_error_fmt(CT_ERR_FORMAT, "%s: bad ELF header: %s", path, elf_errmsg(-1));
		goto fail;
	}
	if (eh.e_type != ET_CORE) {
		err = ct_error_fmt(CT_ERR_FORMAT, "%s: not a core file (ELF type %s)", path,
				   eh.e_type == ET_EXEC ? "EXEC" : eh.e_type == ET_DYN ? "DYN" :
				   eh.e_type == ET_REL ? "REL" : "unknown");
		goto fail;
	}
	if (gelf_getclass(elf) != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		err = ct_error_fmt(CT_ERR_FORMAT, "%s: unsupported core: only x86-64 is handled (machine %u)",
				   path, eh.e_machine);
		goto fail;
	}
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum) != 0) {
		err = ct_error_fmt(CT_ERR_FORMAT, "%s: elf_getphdrnum: %s", path, elf_errmsg(-1));
		goto fail;
	}
	core->segs = calloc(phnum ? phnum : 1, sizeof(*core->segs));
	if (!core->segs) {
		err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		goto fail;
	}
	core->phnum = phnum;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph)) {
			core->segs_dropped++;
			continue;
		}
		if (ph.p_type == PT_NOTE) {
			if ((err = core_read_notes(core, elf, &ph)))
				goto fail;
		} else if (ph.p_type == PT_LOAD && ph.p_memsz > 0) {
			struct core_segment *s = &core->segs[core->nsegs++];
			s->vaddr = ph.p_vaddr;
			s->memsz = ph.p_memsz;
			/* A damaged p_memsz may wrap past 2^64: the overlap check and the
			 * lookups below assume vaddr + memsz does not. */
			if (s->vaddr + s->memsz < s->vaddr)
				s->memsz = UINT64_MAX - s->vaddr;
			if (s->memsz == 0) { /* nothing left of it */
				core->nsegs--;
				continue;
			}
			s->offset = ph.p_offset;
			s->filesz = ph.p_filesz < s->memsz ? ph.p_filesz : s->memsz;
			s->flags = ph.p_flags;
			if (s->filesz && (s->offset > core->size || core->size - s->offset < s->filesz)) {
				s->filesz = s->offset > core->size ? 0 : core->size - s->offset;
				s->truncated = core->truncated = true;
			}
			/* PROT_NONE reservations (Go's arena hints, guard pages) hold
			 * nothing to save: only count what the process could read. */
			if (s->flags)
				core->bytes_missing += s->memsz - s->filesz;
		}
	}
	/* A hostile core may overlap segments: the first of any overlap is kept. */
	core_sort_segments(core);
	if (core->writer == CORE_WRITER_KERNEL && core_bfd_sections(elf))
		core->writer = CORE_WRITER_GDB;
	if (core->writer == CORE_WRITER_GDB)
		core_gdb_prot_none(core);
	if ((err = core_add_file_gaps(core)))
		goto fail;
	if (core->auxv_execfn) {
		char buf[4096];
		size_t len = 0;
		while (len < sizeof(buf) - 1 &&
		       core_read(core, core->auxv_execfn + len, &buf[len], 1) == MEM_OK && buf[len])
			len++;
		buf[len] = 0;
		if (len)
			core->execfn = strdup(buf);
	}
	core_read_exe_notes(core);
	*ret = core;
	return NULL;
fail:
	core_close(core);
	return err;
}

void core_close(struct core *core)
{
	if (!core)
		return;
	if (core->elf)
		elf_end(core->elf);
	if (core->data)
		munmap((void *)core->data, core->size);
	if (core->fd >= 0)
		close(core->fd);
	free(core->segs);
	free(core->threads);
	free(core->files);
	free(core->file_strings);
	for (size_t i = 0; i < core->nadded_paths; i++)
		free(core->added_paths[i]);
	free(core->added_paths);
	free(core->execfn);
	free(core->live_maps);
	unpack_release(&core->unpacked);
	origin_release(&core->origin);
	free(core->path);
	free(core);
}

bool core_phdrs_suspect(const struct core *core)
{
	return core->segs_dropped > 0 && core->phnum > 1024;
}

const struct core_segment *core_segment_of(const struct core *core, uint64_t addr)
{
	/* Reads come in runs within one segment (a walk, a dump): try the last
	 * one first. The hint is a cache, not state: any value is safe. */
	size_t h = core->seg_hint;
	if (h < core->nsegs && addr - core->segs[h].vaddr < core->segs[h].memsz)
		return &core->segs[h];
	size_t i = CT_UPPER_BOUND(core->segs, core->nsegs, vaddr, addr);
	if (!i || addr - core->segs[i - 1].vaddr >= core->segs[i - 1].memsz)
		return NULL;
	((struct core *)core)->seg_hint = i - 1;
	return &core->segs[i - 1];
}

enum mem_status core_saved_at(const struct core *core, uint64_t addr, const unsigned char **p,
			       uint64_t *n)
{
	const struct core_segment *s = core_segment_of(core, addr);
	if (!s)
		return MEM_UNMAPPED;
	uint64_t off = addr - s->vaddr;
	/* Past p_filesz the kernel did not write the page (filtered by
	 * coredump_filter, or the file was cut short): that is not zeros. */
	if (off >= s->filesz || !core->data) /* !data: live, read by the target's callback */
		return MEM_NOT_SAVED;
	*p = core->data + s->offset + off;
	*n = s->filesz - off;
	return MEM_OK;
}

enum mem_status core_read(const struct core *core, uint64_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;
	while (len > 0) {
		const unsigned char *p;
		uint64_t n;
		enum mem_status st = core_saved_at(core, addr, &p, &n);
		if (st != MEM_OK)
			return st;
		if (n > len)
			n = len;
		memcpy(out, p, n);
		out += n;
		addr += n;
		len -= n;
	}
	return MEM_OK;
}

void core_advise(const struct core *core, uint64_t addr, uint64_t len, enum mem_access how)
{
	if (!core->data) /* a live process: nothing of ours is mapped */
		return;
	const long pg = sysconf(_SC_PAGESIZE);
	uint64_t end = len > UINT64_MAX - addr ? UINT64_MAX : addr + len;
	/* The segments overlapping the range, in order; bounded by their count. */
	size_t lo = 0, hi = core->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (core->segs[mid].vaddr + core->segs[mid].memsz <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < core->nsegs && core->segs[i].vaddr < end; i++) {
		const struct core_segment *s = &core->segs[i];
		uint64_t a = addr > s->vaddr ? addr - s->vaddr : 0;
		uint64_t b = end - s->vaddr < s->filesz ? end - s->vaddr : s->filesz;
		if (a >= b)
			continue;
		uint64_t off = (s->offset + a) & ~(uint64_t)(pg - 1), stop = s->offset + b;
		if (how == MEM_ACCESS_DONE) {
			/* Only whole pages inside the range: a neighbour may still be in use. */
			off = (s->offset + a + pg - 1) & ~(uint64_t)(pg - 1);
			stop &= ~(uint64_t)(pg - 1);
		}
		if (stop <= off)
			continue;
		/* Not MADV_WILLNEED: the kernel reads at most read_ahead_kb of it. */
		void *p = (void *)(core->data + off);
		if (how == MEM_ACCESS_WALK) {
			madvise(p, stop - off, MADV_SEQUENTIAL);
		} else if (how == MEM_ACCESS_MANY) {
			madvise(p, stop - off, MADV_NORMAL);
		} else {
			madvise(p, stop - off, MADV_DONTNEED);
			madvise(p, stop - off, MADV_RANDOM);
		}
	}
}

const void *core_view(const struct core *core, uint64_t addr, size_t len)
{
	const unsigned char *p;
	uint64_t n;
	return len && core_saved_at(core, addr, &p, &n) == MEM_OK && n >= len ? p : NULL;
}

static const void *core_mem_view(void *arg, uint64_t addr, size_t len)
{
	return core_view(arg, addr, len);
}

static void core_mem_advise(void *arg, uint64_t addr, uint64_t len, enum mem_access how)
{
	core_advise(arg, addr, len, how);
}

static enum mem_status core_mem_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	return core_read(arg, addr, buf, len);
}

enum mem_status core_probe(const struct core *core, uint64_t addr)
{
	const struct core_segment *s = core_segment_of(core, addr);
	if (!s)
		return MEM_UNMAPPED;
	return addr - s->vaddr < s->filesz ? MEM_OK : MEM_NOT_SAVED;
}

static enum mem_status core_mem_probe(void *arg, uint64_t addr)
{
	return core_probe(arg, addr);
}

struct mem core_mem(const struct core *core)
{
	return (struct mem){ core_mem_read, (void *)core, core_mem_advise, core_mem_probe, core_mem_view };
}

const struct core_file_map *core_file_of(const struct core *core, uint64_t addr)
{
	for (size_t i = 0; i < core->nfiles; i++)
		if (addr >= core->files[i].start && addr < core->files[i].end)
			return &core->files[i];
	return NULL;
}

const char *core_exe_path(const struct core *core)
{
	/* The executable is the file mapped at the program headers' page. */
	if (core->auxv_phdr) {
		const struct core_file_map *f = core_file_of(core, core->auxv_phdr);
		if (f)
			return f->path;
	}
	if (core->execfn)
		return core->execfn;
	return core->nfiles ? core->files[0].path : NULL;
}

const char *core_signal_name(int signo)
{
	static const char *const names[] = {
		[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
		[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
		[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
		[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
		[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
		[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
		[SIGSYS] = "SIGSYS",
	};
	if (signo > 0 && (size_t)signo < sizeof(names) / sizeof(names[0]) && names[signo])
		return names[signo];
	return NULL;
}

/* One line of /proc/PID/maps: "lo-hi perms offset dev inode [path]". */
static bool core_live_line(const char *line, size_t len, uint64_t *lo, uint64_t *hi, uint32_t *flags,
			   uint64_t *pgoff, const char **path, size_t *path_len)
{
	char buf[64], perms[8];
	unsigned long long a, b, off, inode;
	unsigned maj, min;
	int n = 0;
	size_t head = len < sizeof(buf) * 4 ? len : sizeof(buf) * 4;
	char tmp[sizeof(buf) * 4 + 1];
	memcpy(tmp, line, head);
	tmp[head] = 0;
	if (sscanf(tmp, "%llx-%llx %7s %llx %x:%x %llu%n", &a, &b, perms, &off, &maj, &min, &inode,
		   &n) != 7 || a >= b || strlen(perms) < 3)
		return false;
	*lo = a;
	*hi = b;
	*pgoff = off;
	*flags = (perms[0] == 'r' ? PF_R : 0) | (perms[1] == 'w' ? PF_W : 0) |
		 (perms[2] == 'x' ? PF_X : 0);
	size_t i = (size_t)n;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	*path = line + i;
	*path_len = len - i;
	while (*path_len && ((*path)[*path_len - 1] == ' ' || (*path)[*path_len - 1] == '\r'))
		(*path_len)--;
	return true;
}

struct ct_error *core_open_live(const char *maps, int32_t pid, struct core **ret)
{
	*ret = NULL;
	struct core *core = calloc(1, sizeof(*core));
	if (!core)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	core->fd = -1;
	core->live = true;
	core->pid = pid;
	core->writer = CORE_WRITER_KERNEL;
	core->has_nt_file = true;
	size_t cap_segs = 0, cap_files = 0, cap_paths = 0;
	if (asprintf(&core->path, "process %d", (int)pid) < 0 || !(core->live_maps = strdup(maps)))
		goto nomem;
	uint64_t last_end = 0;
	for (const char *p = maps; *p && core->nsegs < CORE_LIVE_MAX_MAPS;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		uint64_t lo, hi, pgoff;
		uint32_t flags;
		const char *path;
		size_t plen;
		if (core_live_line(p, len, &lo, &hi, &flags, &pgoff, &path, &plen) && lo >= last_end) {
			struct core_segment *s = CT_PUSH(core->segs, core->nsegs, cap_segs);
			if (!s)
				goto nomem;
			*s = (struct core_segment){ .vaddr = lo, .memsz = hi - lo, .filesz = hi - lo,
						    .flags = flags };
			last_end = hi;
			/* A file mapping names an absolute path; "[heap]", "[stack]"
			 * and anonymous memory name none. */
			if (plen && path[0] == '/') {
				char *copy = strndup(path, plen);
				char **slot = copy ? CT_PUSH(core->added_paths, core->nadded_paths, cap_paths) : NULL;
				struct core_file_map *f = slot ? CT_PUSH(core->files, core->nfiles, cap_files) : NULL;
				if (!f) {
					free(copy);
					goto nomem;
				}
				*slot = copy;
				*f = (struct core_file_map){ lo, hi, pgoff, copy };
			}
		}
		p += len + (nl != NULL);
	}
	if (!core->nsegs) {
		core_close(core);
		return ct_error_fmt(CT_ERR_FORMAT, "process %d: no mapping in the mappings given",
				    (int)pid);
	}
	*ret = core;
	return NULL;
nomem:
	core_close(core);
	return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
}

struct ct_error *core_add_live_thread(struct core *core, int32_t tid, uint64_t sp, uint64_t pc,
				      uint64_t fp)
{
	struct core_thread *th = CT_PUSH(core->threads, core->nthreads, core->cap_threads);
	if (!th)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	th->regs[CORE_REG_RSP] = sp;
	th->regs[CORE_REG_RIP] = pc;
	th->regs[CORE_REG_RBP] = fp;
	return NULL;
}

void core_drop_pages(struct core *c)
{
	if (c && c->data && c->size)
		(void)madvise((void *)c->data, c->size, MADV_DONTNEED);
}
