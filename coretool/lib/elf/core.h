/* An ELF core file of an x86-64 Linux process: its memory segments, threads,
 * signal information and file mappings. The file is mmapped: opening a 10 GB core
 * costs a few system calls; pages are read only when an address is. */
#ifndef CT_CORE_H
#define CT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_error.h"
#include "mem.h"
#include "origin.h"
#include "unpack.h"

/* x86-64 general registers in the kernel's user_regs_struct order (NT_PRSTATUS). */
enum core_reg {
	CORE_REG_R15, CORE_REG_R14, CORE_REG_R13, CORE_REG_R12, CORE_REG_RBP, CORE_REG_RBX, CORE_REG_R11, CORE_REG_R10,
	CORE_REG_R9, CORE_REG_R8, CORE_REG_RAX, CORE_REG_RCX, CORE_REG_RDX, CORE_REG_RSI, CORE_REG_RDI, CORE_REG_ORIG_RAX,
	CORE_REG_RIP, CORE_REG_CS, CORE_REG_EFLAGS, CORE_REG_RSP, CORE_REG_SS, CORE_REG_FS_BASE, CORE_REG_GS_BASE,
	CORE_REG_DS, CORE_REG_ES, CORE_REG_FS, CORE_REG_GS, CORE_NREGS
};
extern const char *const core_reg_names[CORE_NREGS];

struct core_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz; /* filesz already cut to what the file really holds */
	uint32_t flags;          /* PF_R | PF_W | PF_X */
	bool truncated;          /* the file ends before p_offset + p_filesz */
	/* No program header: a file mapping (NT_FILE, or a module's PT_LOAD)
	 * the core's writer left out altogether (gdb's gcore and Delve's dump
	 * omit read-only file-backed memory). Nothing of it is saved (filesz 0):
	 * its bytes are the file's. flags are the file's program header's once
	 * known (core_add_mapping), PF_R until then. */
	bool from_file;
};

struct core_thread {
	int32_t tid;
	int cursig;
	uint64_t regs[CORE_NREGS];
	bool fpvalid;
};

/* A file-backed mapping (NT_FILE). */
struct core_file_map {
	uint64_t start, end, pgoff; /* pgoff in bytes */
	const char *path;
};

struct core_siginfo {
	bool present;
	int signo, errnum, code;
	uint64_t addr; /* si_addr, meaningful for SIGSEGV/SIGBUS/SIGFPE/SIGILL */
	int32_t pid;   /* sender, for kill()/tgkill() (core_siginfo_has_sender) */
	uint32_t uid;  /* the sender's real uid, likewise */
};
/* A signal sent by a process (kill, tgkill, sigqueue, mq_notify: SI_USER,
 * SI_TKILL, SI_QUEUE, SI_MESGQ), whose siginfo carries the sender's pid and
 * uid where a fault's carries si_addr. */
bool core_siginfo_has_sender(const struct core_siginfo *si);
/* "SI_USER", "SI_TKILL", ... for the codes any signal may carry, else NULL. */
const char *core_si_code_name(int code);

/* Who wrote the core, from what the writer leaves in it: gdb its "GDB"
 * notes (NT_GDB_TDESC, gdb 10 on) or BFD's section headers ("note0",
 * "load"), Delve its "Delve Header" note; the kernel writes neither. */
enum core_writer { CORE_WRITER_KERNEL, CORE_WRITER_GDB, CORE_WRITER_DELVE };
const char *core_writer_name(enum core_writer w); /* "kernel", "gdb", "delve" */

struct core {
	char *path;
	int fd;
	struct unpack unpacked; /* a compressed or zipped core: how it was unpacked
				 * (format UNPACK_RAW: it was not) */
	struct origin origin;   /* what its collector recorded beside it */
	const unsigned char *data; /* the whole file, mmapped */
	uint64_t size;
	void *elf; /* Elf * of the core, for libdwfl */

	struct core_segment *segs; /* sorted by vaddr, non-overlapping */
	size_t nsegs;
	size_t seg_hint; /* the segment of the last lookup (core_segment_of) */
	size_t phnum;       /* program headers in the file */
	size_t segs_dropped; /* PT_LOADs dropped: unreadable or overlapping (damage) */
	struct core_thread *threads; /* threads[0] is the one that received the signal */
	size_t nthreads, cap_threads;
	struct core_file_map *files;
	size_t nfiles;
	char *file_strings;
	struct core_siginfo siginfo;

	int32_t pid, ppid, uid;
	char fname[17];   /* command name */
	char psargs[81];  /* start of the command line */
	uint64_t auxv_entry, auxv_phdr, auxv_execfn, auxv_phnum, auxv_phent;
	char *execfn; /* the string AT_EXECFN points at, if saved */
	/* The executable's own notes, read from the core's saved bytes (the
	 * kernel dumps the first page of each ELF mapping, where they are):
	 * who the process was, independently of any file given for it. */
	bool exe_notes;                  /* its program headers and notes were in the core */
	unsigned char exe_build_id[64];  /* NT_GNU_BUILD_ID */
	size_t exe_build_id_len;
	char exe_go_build_id[256];       /* Go's build ID note ("Go", type 4), or "" */
	uint64_t bytes_missing; /* readable mapped bytes not saved in the file */
	uint64_t bytes_unlisted; /* ... of them in from_file segments (no program header) */
	bool truncated;
	enum core_writer writer;
	bool has_nt_file;      /* the writer gave NT_FILE (Delve does not) */
	char **added_paths;    /* paths of the mappings core_add_mapping added */
	size_t nadded_paths;
	/* A live process seen through a memory callback (core_open_live): no
	 * file, no notes; segments, files and threads are what its debugger
	 * handed over, every mapped byte readable (filesz = memsz) through the
	 * target's callback, never through data (NULL). */
	bool live;
	char *live_maps; /* the /proc/PID/maps text it was made from */
};

/* Opens and indexes a core. A file that is not an ELF core, or not x86-64, is
 * CT_ERR_FORMAT; damaged notes are skipped (what remains is still usable). */
struct ct_error *core_open(const char *path, struct core **ret);
void core_close(struct core *core); /* NULL allowed */

/* Reads through the segment table (all or nothing). */
enum mem_status core_read(const struct core *core, uint64_t addr, void *buf, size_t len);
/* Whether addr is in a segment (MEM_OK: saved, MEM_NOT_SAVED: beyond its
 * bytes in the file) or in none (MEM_UNMAPPED), without reading it. */
enum mem_status core_probe(const struct core *core, uint64_t addr);
/* Where the segment holding addr saved it: *p in the core's own mapping,
 * *n bytes from there to the end of what the segment saved. MEM_UNMAPPED
 * (no segment), MEM_NOT_SAVED (past its p_filesz; or a live process). */
enum mem_status core_saved_at(const struct core *core, uint64_t addr, const unsigned char **p,
			       uint64_t *n);
/* The len bytes at addr inside the core's own mapping, when one segment
 * saved all of them; else NULL (read them with core_read). */
const void *core_view(const struct core *core, uint64_t addr, size_t len);
struct mem core_mem(const struct core *core);
/* Tells the kernel how the saved bytes of [addr, addr + len) will be read
 * (madvise on the mapped file; the whole file is MADV_RANDOM from open). */
void core_advise(const struct core *core, uint64_t addr, uint64_t len, enum mem_access how);

/* Says that [start, end) maps path at pgoff (bytes) with flags, as a
 * module's program header does (libdwfl found the module; the core's notes
 * may not name the file: Delve writes no NT_FILE). The parts of the range no
 * segment covers become from_file segments, and from_file segments inside
 * it take flags; an NT_FILE entry is added for the range unless one covers
 * its start. Damaged or absurd ranges are ignored. */
struct ct_error *core_add_mapping(struct core *core, uint64_t start, uint64_t end, uint64_t pgoff,
				  const char *path, uint32_t flags);

/* A core without a file for a live process: its mappings from maps, text in
 * /proc/PID/maps format ("lo-hi perms offset dev inode [path]" per line), as
 * the segments (permissions from perms) and file maps (paths) of a core.
 * Lines that do not parse, or overlap or go back, are skipped; bounded to
 * CORE_LIVE_MAX_MAPS mappings. */
#define CORE_LIVE_MAX_MAPS 1000000
struct ct_error *core_open_live(const char *maps, int32_t pid, struct core **ret);
/* Adds a thread of the live process with its registers (the others zero). */
struct ct_error *core_add_live_thread(struct core *core, int32_t tid, uint64_t sp, uint64_t pc,
				      uint64_t fp);

/* Program headers too damaged to hand to libdwfl: overlapping or unreadable
 * PT_LOADs among thousands of headers (its core report is quadratic in them:
 * 65,535 garbage headers take it minutes). */
bool core_phdrs_suspect(const struct core *core);

/* The segment containing addr, or NULL. */
const struct core_segment *core_segment_of(const struct core *core, uint64_t addr);
/* The NT_FILE mapping containing addr, or NULL. */
const struct core_file_map *core_file_of(const struct core *core, uint64_t addr);

/* Best guess at the executable's path from the notes (NT_FILE entry mapped at the
 * program headers' address, else AT_EXECFN), or NULL. */
const char *core_exe_path(const struct core *core);

const char *core_signal_name(int signo);


/* Gives back the pages of the core's mapping this process touched (they stay
 * in the page cache): a walk over the whole heap would otherwise hold the
 * core's scanned bytes in its resident set. Reads go on as before. */
void core_drop_pages(struct core *c);

#endif
