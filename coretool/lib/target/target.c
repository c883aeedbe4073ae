#define _GNU_SOURCE
#include "target.h"
#include "ct_file.h"
#include "ct_util.h"


#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* libdwfl's find_elf has no argument of ours: the target whose files are
 * looked up is handed over in a thread-local (cores of a batch may be read in
 * parallel threads). */
static _Thread_local const struct target *target_reporting;

void target_dwfl_begin_use(const struct target *t)
{
	target_reporting = t;
}

static void target_warn_add(void *arg, const char *msg)
{
	struct target *t = arg;
	char *copy = strdup(msg);
	char **w = copy ? realloc(t->warnings, (t->nwarnings + 1) * sizeof(*w)) : NULL;
	if (!w) {
		free(copy);
		return;
	}
	t->warnings = w;
	w[t->nwarnings++] = copy;
}

struct ct_warn_sink target_warn_sink(struct target *t)
{
	return (struct ct_warn_sink){ target_warn_add, t };
}

void target_warn(struct target *t, const char *fmt, ...)
{
	struct ct_warn_sink sink = target_warn_sink(t);
	va_list ap;
	va_start(ap, fmt);
	ct_vwarn(&sink, fmt, ap);
	va_end(ap);
}


/* Is mod the executable? The module the core names by the executable's
 * path, or the one with the program's build ID (libdwfl may name it
 * otherwise). */
static bool target_is_exe_module(const struct target *t, Dwfl_Module *mod, const char *modname)
{
	const char *exe_named = t->core ? core_exe_path(t->core) : NULL;
	if (modname && exe_named && !strcmp(modname, exe_named))
		return true;
	const unsigned char *id;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &id, &vaddr);
	return t->core && n > 0 && (size_t)n == t->core->exe_build_id_len &&
	       !memcmp(id, t->core->exe_build_id, (size_t)n);
}

/* libdwfl's find_elf: the executable is the file found (or given) for it;
 * every other module is looked up by target_find.h's one rule, with the
 * build ID libdwfl read from the core. A name that is no path (the vDSO) is
 * no file: libdwfl reads it from the core. */
static int target_find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
			   Dwarf_Addr base, char **file_name, Elf **elfp)
{
	(void)base;
	(void)elfp;
	const struct target *t = target_reporting;
	*userdata = NULL;
	if (!t || !t->find)
		return -1;
	if (t->exe_path && target_is_exe_module(t, mod, modname)) {
		int fd = ct_open_regular(t->exe_path);
		if (fd >= 0)
			*file_name = strdup(t->exe_path);
		return fd;
	}
	if (!modname || modname[0] != '/')
		return -1;
	const unsigned char *id = NULL;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &id, &vaddr);
	const struct target_lookup *l = target_finder_find(t->find, modname, id, n > 0 ? (size_t)n : 0);
	if (!l)
		return -1;
	*userdata = (void *)l; /* for target_add_module: where it was found, or why not */
	/* A library of another build is not the one the process ran: libdwfl
	 * would refuse it by its build ID too; the warning says why. */
	if (!l->path || l->mismatch)
		return -1;
	int fd = ct_open_regular(l->path);
	if (fd >= 0)
		*file_name = strdup(l->path);
	return fd;
}

/* libdwfl's find_debuginfo: its own search (the module's directory, the
 * trees of target_find.h by build ID and debuglink, then debuginfod through
 * the Dwfl's client), whose debuginfod part gets a deadline of its own. */
static int target_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				 GElf_Addr base, const char *file_name, const char *debuglink_file,
				 GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const struct target *t = target_reporting;
	if (t && t->find) {
		const unsigned char *id = NULL;
		GElf_Addr vaddr;
		int n = dwfl_module_build_id(mod, &id, &vaddr);
		target_finder_begin_external(t->find, id, n > 0 ? (size_t)n : 0);
	}
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					    debuglink_crc, debuginfo_file_name);
}

Dwfl *target_dwfl_begin(const struct target *t)
{
	Dwfl *d = dwfl_begin(&t->dwfl_cb);
	if (d && t->find)
		target_finder_attach(t->find, d);
	return d;
}

/* The file found for a path the core names, when target_find.h's search
 * was asked for it: the executable, or a library found by build ID ("" for
 * one of another build, whose bytes are not the process's); NULL: not asked. */
static const char *target_found_file(const struct target *t, const char *named)
{
	const char *exe_named = core_exe_path(t->core);
	if (exe_named && !strcmp(named, exe_named))
		return t->exe_path; /* --exe stands for the file the core names */
	for (size_t i = 0; t->find && i < t->find->nlookups; i++) {
		const struct target_lookup *l = &t->find->lookups[i];
		if (l->name && !strcmp(l->name, named))
			return l->path && !l->mismatch ? l->path : "";
	}
	return NULL;
}

static void target_file_load(const struct target *t, struct target_file *f)
{
	f->tried = true;
	char *path = NULL;
	const char *found = target_found_file(t, f->path);
	if (found)
		path = found[0] ? strdup(found) : NULL;
	else if (asprintf(&path, "%s%s", t->sysroot ? t->sysroot : "", f->path) < 0)
		path = NULL;
	if (!path)
		return;
	int fd = ct_open_regular(path);
	free(path);
	struct stat sb;
	if (fd < 0)
		return;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
		void *p = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			f->data = p;
			f->size = sb.st_size;
		}
	}
	close(fd);
}

static enum mem_status target_mem_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct target *t = arg;
	enum mem_status st = core_read(t->core, addr, buf, len);
	if (st != MEM_NOT_SAVED || !t->files)
		return st;
	/* Piecewise: a read may span saved and unsaved pages. */
	unsigned char *out = buf;
	while (len > 0) {
		const unsigned char *saved;
		uint64_t n;
		enum mem_status here = core_saved_at(t->core, addr, &saved, &n);
		if (here == MEM_UNMAPPED)
			return here;
		if (here == MEM_OK) {
			if (n > len)
				n = len;
			memcpy(out, saved, n);
		} else {
			const struct core_segment *s = core_segment_of(t->core, addr);
			uint64_t off = addr - s->vaddr;
			const struct core_file_map *fm = core_file_of(t->core, addr);
			if (!fm)
				return MEM_NOT_SAVED;
			struct target_file *f = &t->files[fm - t->core->files];
			if (!f->tried)
				target_file_load(t, f);
			uint64_t foff = fm->pgoff + (addr - fm->start);
			n = s->memsz - off < len ? s->memsz - off : len;
			if (fm->end - addr < n)
				n = fm->end - addr;
			if (!f->data || foff > f->size || f->size - foff < n)
				return MEM_NOT_SAVED;
			memcpy(out, f->data + foff, n);
		}
		out += n;
		addr += n;
		len -= n;
	}
	return MEM_OK;
}

static const void *target_mem_view(void *arg, uint64_t addr, size_t len)
{
	const struct target *t = arg;
	return core_view(t->core, addr, len);
}

/* Mapped or not, as target_mem_read would find it, without reading: a
 * segment, or a file the core maps there. */
static enum mem_status target_mem_probe(void *arg, uint64_t addr)
{
	struct target *t = arg;
	enum mem_status st = core_probe(t->core, addr);
	if (st == MEM_UNMAPPED && core_file_of(t->core, addr))
		st = MEM_NOT_SAVED;
	return st;
}

/* t->files follows core->files (core_add_mapping may add to it). */
static struct ct_error *target_files_sync(struct target *t, size_t had)
{
	size_t n = t->core->nfiles;
	if (n == had)
		return NULL;
	struct target_file *f = realloc(t->files, n * sizeof(*f));
	if (!f)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	t->files = f;
	for (size_t i = had; i < n; i++)
		f[i] = (struct target_file){ .path = t->core->files[i].path };
	return NULL;
}

/* Every module's file-backed PT_LOADs, as libdwfl found the module: where
 * the core's writer left them out (gdb's gcore, and Delve's dump, which also
 * writes no NT_FILE), they are mapped-but-not-saved memory read from that
 * file, with the permissions its program header gives. The kernel lists
 * every mapping: nothing is added to its cores. */
static struct ct_error *target_add_module_mappings(struct target *t)
{
	struct ct_error *err = NULL;
	size_t had = t->core->nfiles;
	for (size_t i = 0; i < t->nmodules && !err; i++) {
		const struct target_module *m = &t->modules[i];
		/* The path as the process had it (target_file_load adds the sysroot):
		 * NT_FILE's, else the executable's, else the file found less the sysroot. */
		const struct core_file_map *fm = core_file_of(t->core, m->start);
		const char *path = fm ? fm->path : m->is_exe ? core_exe_path(t->core) : m->file;
		size_t sl = t->sysroot ? strlen(t->sysroot) : 0;
		if (!fm && !m->is_exe && path && sl && !strncmp(path, t->sysroot, sl))
			path += sl;
		if (!path)
			continue;
		Dwarf_Addr bias;
		Elf *elf = m->dwmod && path[0] == '/' ? dwfl_module_getelf(m->dwmod, &bias) : NULL;
		size_t n;
		if (!elf || elf_getphdrnum(elf, &n) != 0)
			continue;
		for (size_t k = 0; k < n && k < 4096 && !err; k++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)k, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz)
				continue;
			const uint64_t pg = 4096;
			uint64_t lo = (bias + ph.p_vaddr) & ~(pg - 1), hi = bias + ph.p_vaddr + ph.p_filesz;
			if (hi < lo || hi > UINT64_MAX - pg)
				continue;
			hi = (hi + pg - 1) & ~(pg - 1);
			err = core_add_mapping(t->core, lo, hi, ph.p_offset & ~(pg - 1), path, ph.p_flags);
		}
	}
	struct ct_error *e2 = target_files_sync(t, had);
	if (!err)
		err = e2;
	else
		ct_error_destroy(e2);
	return err;
}

uint64_t target_file_bytes(struct target *t, uint64_t *unsaved)
{
	uint64_t got = 0, all = 0;
	const struct core *c = t->core;
	for (size_t i = 0; c && t->files && i < c->nfiles; i++) {
		const struct core_file_map *fm = &c->files[i];
		/* The segments overlapping the mapping, from the first ending after its start. */
		size_t lo = 0, hi = c->nsegs;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c->segs[mid].vaddr + c->segs[mid].memsz <= fm->start)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < c->nsegs && c->segs[k].vaddr < fm->end; k++) {
			const struct core_segment *s = &c->segs[k];
			uint64_t a = s->vaddr + s->filesz, b = s->vaddr + s->memsz;
			if (a < fm->start)
				a = fm->start;
			if (b > fm->end)
				b = fm->end;
			if (a >= b || !s->flags)
				continue;
			all += b - a;
			struct target_file *f = &t->files[i];
			if (!f->tried)
				target_file_load(t, f);
			uint64_t foff = fm->pgoff + (a - fm->start);
			if (f->data && foff < f->size)
				got += f->size - foff < b - a ? f->size - foff : b - a;
		}
	}
	if (unsaved)
		*unsaved = all;
	return got;
}

static void target_mem_advise(void *arg, uint64_t addr, uint64_t len, enum mem_access how)
{
	struct target *t = arg;
	core_advise(t->core, addr, len, how);
}

/* The debug-info directories of targets opened without their own (gdb's
 * debug-file-directory, through ct_set_debug_dirs); NULL: libdwfl's default. */
static char *target_default_debug_dirs = NULL;

void target_set_debug_dirs(const char *dirs)
{
	free(target_default_debug_dirs);
	target_default_debug_dirs = dirs && *dirs ? strdup(dirs) : NULL;
}

/* Each target has its own callbacks and finder: its sysroot, debug-info
 * directories and debuginfod bound are its own. */
static struct ct_error *target_dwfl_setup(struct target *t, const struct target_options *opt)
{
	unsigned timeout = opt && opt->debuginfod_timeout ? opt->debuginfod_timeout
							  : TARGET_DEBUGINFOD_TIMEOUT_DEFAULT;
	struct target_finder_options fo = {
		.sysroot = opt ? opt->sysroot : NULL,
		.debug_dirs = opt && opt->debug_dir ? opt->debug_dir : target_default_debug_dirs,
		.debuginfod_timeout = opt && opt->no_debuginfod ? 0 : timeout,
		.progress = opt ? opt->progress : NULL,
		.progress_arg = opt ? opt->progress_arg : NULL,
	};
	t->find = calloc(1, sizeof(*t->find));
	if (!t->find || target_finder_init(t->find, &fo))
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	t->dwfl_cb = (Dwfl_Callbacks){ .find_elf = target_find_elf,
				       .find_debuginfo = target_find_debuginfo,
				       .debuginfo_path = &t->find->debuginfo_path };
	return NULL;
}

struct target_modlist {
	struct target *t;
	struct ct_error *err;
};

static int target_add_module(Dwfl_Module *mod, void **userdata, const char *name,
			     Dwarf_Addr start, void *arg)
{
	struct target_modlist *ml = arg;
	struct target *t = ml->t;
	struct target_module *m = CT_PUSH(t->modules, t->nmodules, t->cap_modules);
	if (!m) {
		ml->err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		return DWARF_CB_ABORT;
	}
	m->dwmod = mod;
	m->lookup = userdata ? *userdata : NULL; /* target_find_elf's answer, if it was asked */
	m->name = strdup(name ? name : "?");
	Dwarf_Addr end;
	dwfl_module_info(mod, NULL, NULL, &end, NULL, NULL, NULL, NULL);
	m->start = start;
	m->end = end;
	const unsigned char *id;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &id, &vaddr);
	if (n > 0 && (size_t)n <= sizeof(m->build_id)) {
		memcpy(m->build_id, id, n);
		m->build_id_len = n;
	}
	return DWARF_CB_OK;
}

static int target_mod_cmp(const void *a, const void *b)
{
	const struct target_module *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int target_dwfl_report_core(const struct target *t, Dwfl *dwfl)
{
	if (t->core && t->core->live) {
		/* A live process: its ELF files, from the mappings as the kernel lists them. */
		FILE *f = fmemopen(t->core->live_maps, strlen(t->core->live_maps), "r");
		if (!f)
			return -1;
		int rc = dwfl_linux_proc_maps_report(dwfl, f);
		fclose(f);
		return rc == 0 ? 0 : -1;
	}
	if (!t->core || core_phdrs_suspect(t->core))
		return -1;
	/* A file found by build ID has a name of no meaning (a hash, a cache
	 * entry): the module keeps the name the core gives it, and
	 * target_find_elf hands libdwfl the file for that name. */
	const char *named = core_exe_path(t->core);
	bool by_id = t->exe_found == TARGET_FOUND_TREE || t->exe_found == TARGET_FOUND_DEBUGINFOD;
	return dwfl_core_file_report(dwfl, t->core->elf, by_id && named ? named : t->exe_path);
}

/* Reports the modules the core names (libdwfl reads the link_map and NT_FILE),
 * and finds which files are there. A failure here is a warning, not fatal: the
 * Go and C heap models do not need the shared libraries' files. */
static struct ct_error *target_report_modules(struct target *t)
{
	if (core_phdrs_suspect(t->core)) {
		target_warn(t, "program headers damaged (%zu headers, %zu segments dropped): shared "
			       "libraries not identified", t->core->phnum, t->core->segs_dropped);
		return NULL;
	}
	dwfl_report_begin(t->dwfl);
	target_reporting = t;
	int n = target_dwfl_report_core(t, t->dwfl);
	int rc = dwfl_report_end(t->dwfl, NULL, NULL);
	if (rc != 0 || n < 0) {
		target_reporting = NULL;
		target_warn(t, "dwfl_core_file_report: %s", dwfl_errmsg(-1));
		return NULL;
	}
	struct target_modlist ml = { t, NULL };
	dwfl_getmodules(t->dwfl, target_add_module, &ml, 0);
	if (ml.err) {
		target_reporting = NULL;
		return ml.err;
	}
	if (t->nmodules)
		qsort(t->modules, t->nmodules, sizeof(*t->modules), target_mod_cmp);
	for (size_t i = 0; i < t->nmodules; i++) {
		struct target_module *m = &t->modules[i];
		Dwarf_Addr bias;
		const char *mainfile = NULL;
		Elf *elf = dwfl_module_getelf(m->dwmod, &bias);
		void **ud = NULL;
		dwfl_module_info(m->dwmod, &ud, NULL, NULL, NULL, NULL, &mainfile, NULL);
		if (ud && *ud) /* target_find_elf ran (libdwfl asks when the ELF is first needed) */
			m->lookup = *ud;
		if (t->core->auxv_entry >= m->start && t->core->auxv_entry < m->end)
			m->is_exe = true;
		const struct target_lookup *l = m->lookup;
		if (elf && m->is_exe) /* the file target_open_core found (or was given) */
			m->file = strdup(t->exe_path);
		else if (elf && mainfile)
			m->file = strdup(mainfile);
		else if (elf && strstr(m->name, "vdso"))
			m->file = strdup("[vdso: read from the core]");
		else if (elf) /* handed to dwfl_core_file_report as the executable */
			m->file = strdup(t->exe_path);
		else if (l && l->mismatch)
			target_warn(t, "module %s: not the file the process ran: %s", m->name,
				    l->trail ? l->trail : "build-id differs");
		else
			target_warn(t, "module %s: file not found: %s%s", m->name,
				    l && l->trail ? l->trail : "no file by that name",
				    t->sysroot ? "" : " (use --sysroot or --debug-dir)");
		/* Where: the executable as target_open_core found it; a library as
		 * target_find_elf did (libdwfl itself opens a library at the path
		 * the core names when its build ID is the one recorded). */
		if (m->is_exe || (m->file && t->exe_path && !strcmp(m->file, t->exe_path))) {
			m->found = t->exe_found;
			m->found_where = t->exe_found_where;
		} else if (m->file && m->file[0] == '[') {
			m->found = TARGET_FOUND_CORE;
		} else if (m->file && l && l->path && !strcmp(l->path, m->file)) {
			m->found = l->how;
			m->found_where = l->where;
		} else if (m->file) {
			m->found = TARGET_FOUND_PATH;
		}
		if (m->is_exe && m->build_id_len && t->dw->build_id_len &&
		    (m->build_id_len != t->dw->build_id_len ||
		     memcmp(m->build_id, t->dw->build_id, m->build_id_len) != 0)) {
			m->build_id_mismatch = true;
			/* A program read with another build's DWARF and symbols would
			 * get every layout and address wrong: refuse rather than lie
			 * (target_check_exe does it first when the core has the
			 * program's notes). */
			target_reporting = NULL;
			return ct_error_fmt(CT_ERR_FORMAT,
					    "executable %s does not match the core (build-id differs): "
					    "pass the binary that crashed with --exe", t->exe_path);
		}
	}
	target_reporting = NULL;
	return NULL;
}

/* The build IDs the file's own notes carry (PT_NOTE segments, as the core's
 * copy of them is read: core_read_exe_notes): GNU (NT_GNU_BUILD_ID) and Go's
 * ("Go", type 4). */
struct target_ids {
	unsigned char gnu[64];
	size_t gnu_len;
	char go[256];
};

static void target_file_ids(Elf *elf, struct target_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	size_t n;
	if (!elf || elf_getphdrnum(elf, &n) != 0)
		return;
	for (size_t i = 0; i < n && i < 4096; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE || !ph.p_filesz)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while (d && off < d->d_size && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const char *name = (const char *)d->d_buf + name_off;
			const unsigned char *desc = (const unsigned char *)d->d_buf + desc_off;
			if (nh.n_namesz == 4 && !memcmp(name, "GNU", 4) && nh.n_type == NT_GNU_BUILD_ID &&
			    nh.n_descsz && nh.n_descsz <= sizeof(ids->gnu) && !ids->gnu_len) {
				memcpy(ids->gnu, desc, nh.n_descsz);
				ids->gnu_len = nh.n_descsz;
			} else if ((nh.n_namesz == 3 || nh.n_namesz == 4) && !memcmp(name, "Go", 3) &&
				   nh.n_type == 4 &&
				   nh.n_descsz && nh.n_descsz < sizeof(ids->go) && !ids->go[0]) {
				memcpy(ids->go, desc, nh.n_descsz);
				ids->go[nh.n_descsz] = 0;
			}
		}
	}
}

static void target_hex(char *buf, size_t cap, const unsigned char *id, size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; i < len && 2 * i + 2 < cap; i++)
		snprintf(buf + 2 * i, 3, "%02x", id[i]);
}

/* Is the executable the program that crashed? The core's own copy of the
 * program's notes says (core_read_exe_notes): its GNU build ID and its Go
 * build ID must be those of the file, or both absent. Another build of the
 * program, or another program altogether, would get every layout, address
 * and symbol wrong: it is refused, as a mismatched Go build always was, not
 * read with a warning. Without the notes in the core (not saved), the module
 * libdwfl reports is compared instead (target_report_modules). */
static struct ct_error *target_check_exe(struct target *t)
{
	const struct core *c = t->core;
	if (!c || !c->exe_notes)
		return NULL;
	struct target_ids f;
	target_file_ids(t->dw->elf, &f);
	char a[130], b[130], why[400] = "";
	target_hex(a, sizeof(a), c->exe_build_id, c->exe_build_id_len);
	target_hex(b, sizeof(b), f.gnu, f.gnu_len);
	if (c->exe_build_id_len && !f.gnu_len)
		snprintf(why, sizeof(why), "the core's program has build-id %s, this file none", a);
	else if (!c->exe_build_id_len && f.gnu_len)
		snprintf(why, sizeof(why), "this file has build-id %s, the core's program none", b);
	else if (c->exe_build_id_len &&
		 (c->exe_build_id_len != f.gnu_len || memcmp(c->exe_build_id, f.gnu, f.gnu_len) != 0))
		snprintf(why, sizeof(why), "build-id differs: the core's program has %s, this file %s", a, b);
	else if (c->exe_go_build_id[0] && !f.go[0])
		snprintf(why, sizeof(why), "the core's program is a Go program (Go build ID %.80s), this "
			 "file has no Go build ID", c->exe_go_build_id);
	else if (!c->exe_go_build_id[0] && f.go[0])
		snprintf(why, sizeof(why), "this file is a Go program (Go build ID %.80s), the core's "
			 "program is not", f.go);
	else if (strcmp(c->exe_go_build_id, f.go) != 0)
		snprintf(why, sizeof(why), "Go build ID differs: the core's program has %.80s, this file "
			 "%.80s", c->exe_go_build_id, f.go);
	if (!why[0])
		return NULL;
	return ct_error_fmt(CT_ERR_FORMAT, "executable %s does not match the core (%s): pass the "
			    "binary that crashed with --exe", t->exe_path, why);
}

/* Of a live process, where the executable is loaded: the mapping of its
 * file at the page offset of its first PT_LOAD, found by the executable's
 * path as the process names it (or the same file by device and inode, or
 * the same file name when only one mapping has it). The entry point there
 * is what AT_ENTRY says on a core: target_open_exe's one rule does the rest,
 * and core_exe_path names the executable's module by that path. */
static struct ct_error *target_live_bias(struct target *t)
{
	struct core *c = t->core;
	size_t n;
	GElf_Phdr first = { 0 };
	bool have = false;
	if (elf_getphdrnum(t->dw->elf, &n) == 0)
		for (size_t i = 0; i < n && i < 4096 && !have; i++)
			have = gelf_getphdr(t->dw->elf, (int)i, &first) && first.p_type == PT_LOAD;
	if (!have)
		return ct_error_fmt(CT_ERR_FORMAT, "%s: no PT_LOAD program header", t->exe_path);
	const uint64_t pg = 4096;
	uint64_t off0 = first.p_offset & ~(pg - 1), vaddr0 = first.p_vaddr & ~(pg - 1);
	struct stat want;
	bool have_st = stat(t->exe_path, &want) == 0;
	const char *base = strrchr(t->exe_path, '/');
	base = base ? base + 1 : t->exe_path;
	const struct core_file_map *by_path = NULL, *by_file = NULL, *by_name = NULL;
	size_t nnamed = 0;
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct core_file_map *f = &c->files[i];
		if (f->pgoff != off0)
			continue;
		struct stat st;
		const char *b = strrchr(f->path, '/');
		if (!strcmp(f->path, t->exe_path) && !by_path)
			by_path = f;
		else if (have_st && stat(f->path, &st) == 0 && st.st_dev == want.st_dev &&
			 st.st_ino == want.st_ino && !by_file)
			by_file = f;
		else if (b && !strcmp(b + 1, base) && nnamed++ == 0)
			by_name = f;
	}
	const struct core_file_map *f = by_path ? by_path : by_file ? by_file : nnamed == 1 ? by_name : NULL;
	if (!f)
		return ct_error_fmt(CT_ERR_NOTFOUND, "%s is not mapped in process %d (is it the "
				    "program that runs? `file EXE` names it)", t->exe_path, (int)c->pid);
	uint64_t bias = f->start - vaddr0;
	c->auxv_entry = t->dw->entry + bias;
	free(c->execfn);
	c->execfn = strdup(f->path);
	return c->execfn ? NULL : ct_error_fmt(CT_ERR_NOMEM, "out of memory");
}

/* Opens the executable's DWARF once, learns the load bias from it (a PIE is
 * loaded at a bias: where the kernel says the entry point is, minus where the
 * file says it is), then the Go runtime model, which reads through that bias. */
/* A target over a memory callback has no core to report modules from: the
 * executable, at its load bias, is reported alone, so that its frames are
 * symbolized (function, file, line) as on a core. */
static struct ct_error *target_report_exe_mem(struct target *t)
{
	if (!(t->dwfl = target_dwfl_begin(t)))
		return ct_error_fmt(CT_ERR_NOMEM, "dwfl_begin: %s", dwfl_errmsg(-1));
	target_dwfl_begin_use(t);
	dwfl_report_begin(t->dwfl);
	Dwfl_Module *mod = dwfl_report_elf(t->dwfl, t->exe_path, t->exe_path, -1, t->bias, false);
	if (dwfl_report_end(t->dwfl, NULL, NULL) != 0 || !mod) {
		target_warn(t, "%s: not reported to libdwfl (%s): frames without functions",
			    t->exe_path, dwfl_errmsg(-1));
		return NULL;
	}
	struct target_modlist ml = { t, NULL };
	dwfl_getmodules(t->dwfl, target_add_module, &ml, 0);
	if (ml.err)
		return ml.err;
	for (size_t i = 0; i < t->nmodules; i++) {
		t->modules[i].is_exe = true;
		if (!t->modules[i].file && !(t->modules[i].file = strdup(t->exe_path)))
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	}
	return NULL;
}

static struct ct_error *target_open_exe(struct target *t)
{
	struct ct_error *err = dw_open(t->exe_path, &t->dw);
	if (err || (err = target_check_exe(t)))
		return err;
	if (t->core && t->core->live && (err = target_live_bias(t)))
		return err;
	if (t->core && t->core->auxv_entry && t->dw->entry)
		t->bias = t->core->auxv_entry - t->dw->entry;
	if (t->dw->is_go && (err = dw_require(t->dw)))
		return err;
	if (t->dw->dbg) {
		err = go_rt_open(t->dw, &t->mem, t->bias, &t->go);
		if (err && err->code == CT_ERR_NOTFOUND && !t->dw->is_go) {
			ct_error_destroy(err); /* a C program */
			err = NULL;
		} else if (err && t->go) {
			target_warn(t, "%s", err->msg); /* partial: version unreadable */
			ct_error_destroy(err);
			err = NULL;
		}
	}
	return err;
}

/* The executable the core names, by target_find.h's rule: the path under
 * --sysroot, the build-id trees, debuginfod. Not found: the error says the
 * build ID looked for and every place tried; a program without a GNU build
 * ID (Go's own linker writes none by default) can only be found by its path. */
static struct ct_error *target_find_exe(struct target *t, const char *core_path,
					const struct target_lookup **ret)
{
	const struct core *c = t->core;
	const char *p = core_exe_path(c);
	if (!p)
		return ct_error_fmt(CT_ERR_NOTFOUND, "%s: the core does not name its executable; pass "
				    "--exe", core_path);
	const struct target_lookup *l = target_finder_find(t->find, p, c->exe_build_id,
							   c->exe_build_id_len);
	if (!l)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	*ret = l;
	if (l->path) {
		t->exe_path = strdup(l->path);
		t->exe_found = l->how;
		t->exe_found_where = l->where;
		return NULL;
	}
	char id[130];
	target_hex(id, sizeof(id), c->exe_build_id, c->exe_build_id_len);
	const char *why = c->exe_build_id_len ? "" :
		!c->exe_notes ? "; the core did not save the program's notes, so its build ID is unknown" :
		c->exe_go_build_id[0] ? "; the program has no GNU build ID (Go's own linker writes none "
					"unless built with -ldflags=-B=gobuildid or linked externally), "
					"so it cannot be looked up by build ID" :
		"; the program has no GNU build ID, so it cannot be looked up by build ID";
	return ct_error_fmt(CT_ERR_IO, "executable %s%s (named by the core) not found: %s%s%s%s%s; "
			    "pass --exe", t->sysroot ? t->sysroot : "", p,
			    id[0] ? "build-id " : "", id[0] ? id : "", id[0] ? ": " : "",
			    l->trail ? l->trail : "", why);
}

struct ct_error *target_open_core(const char *core_path, const struct target_options *opt,
				  struct target **ret)
{
	struct ct_error *err;
	struct target *t = calloc(1, sizeof(*t));
	if (!t)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	if ((err = core_open(core_path, &t->core)))
		goto fail;
	if (t->core->unpacked.warning) /* a packed core cut short: what came before */
		target_warn(t, "%s", t->core->unpacked.warning);
	t->mem = (struct mem){ target_mem_read, t, target_mem_advise, target_mem_probe, target_mem_view };
	if (t->core->nfiles) {
		t->files = calloc(t->core->nfiles, sizeof(*t->files));
		if (!t->files) {
			err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < t->core->nfiles; i++)
			t->files[i].path = t->core->files[i].path;
	}
	if (opt && opt->sysroot)
		t->sysroot = strdup(opt->sysroot);
	if ((err = target_dwfl_setup(t, opt)))
		goto fail;
	/* The target's Dwfl, begun before the executable is looked up: its
	 * debuginfod client serves both ours and libdwfl's lookups. */
	if (!(t->dwfl = target_dwfl_begin(t))) {
		err = ct_error_fmt(CT_ERR_NOMEM, "dwfl_begin: %s", dwfl_errmsg(-1));
		goto fail;
	}
	const struct target_lookup *exe_l = NULL;
	if (opt && opt->exe) {
		t->exe_path = strdup(opt->exe);
		t->exe_found = TARGET_FOUND_GIVEN;
	} else if ((err = target_find_exe(t, core_path, &exe_l))) {
		goto fail;
	}
	if (!t->exe_path) {
		err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((err = target_open_exe(t))) {
		/* A file of another build at the path the core names, and none
		 * of the program's build anywhere else: say where we looked. */
		if (exe_l && exe_l->mismatch && exe_l->trail) {
			struct ct_error *e = ct_error_fmt(err->code, "%s (looked for the core's build "
							  "ID: %s)", err->msg, exe_l->trail);
			ct_error_destroy(err);
			err = e;
		}
		goto fail;
	}
	if ((err = target_report_modules(t)) || (err = target_add_module_mappings(t)))
		goto fail;
	if (t->core->truncated)
		target_warn(t, "core file is truncated: %" PRIu64 " bytes of memory are not in it",
			    t->core->bytes_missing);
	/* The kernel saves writable memory whole (coredump_filter's defaults):
	 * writable bytes missing mean a filter or damaged program headers, and
	 * answers about heaps and stacks may be missing too. */
	uint64_t wmissing = 0;
	for (size_t i = 0; i < t->core->nsegs; i++)
		if (t->core->segs[i].flags & PF_W)
			wmissing += t->core->segs[i].memsz - t->core->segs[i].filesz;
	if (wmissing && !t->core->truncated)
		target_warn(t, "%" PRIu64 " bytes of writable memory are not in the core "
			       "(coredump_filter, or damaged program headers)", wmissing);
	*ret = t;
	return NULL;
fail:
	target_close(t);
	return err;
}

struct ct_error *target_open_mem(const struct mem *mem, const char *exe_path, uint64_t bias,
				 struct target **ret)
{
	struct ct_error *err;
	struct target *t = calloc(1, sizeof(*t));
	if (!t)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	t->mem = *mem;
	t->bias = bias;
	if ((err = target_dwfl_setup(t, NULL)))
		goto fail;
	t->exe_path = strdup(exe_path);
	if (!t->exe_path) {
		err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((err = target_open_exe(t)) || (err = target_report_exe_mem(t)))
		goto fail;
	*ret = t;
	return NULL;
fail:
	target_close(t);
	return err;
}

const struct core_thread *target_threads(const struct target *t, size_t *n)
{
	if (t->core) {
		*n = t->core->nthreads;
		return t->core->threads;
	}
	*n = t->nmem_threads;
	return t->mem_threads;
}

/* A live process's thread count is bounded by the kernel's threads-max; this
 * bound only keeps a confused caller from asking for gigabytes. */
#define TARGET_MAX_MEM_THREADS (1u << 20)

struct ct_error *target_set_threads(struct target *t, const struct core_thread *th, size_t n)
{
	if (t->core && !t->core->live)
		return ct_error_fmt(CT_ERR_USAGE, "a core has its own threads: none can be handed in");
	if (n > TARGET_MAX_MEM_THREADS)
		return ct_error_fmt(CT_ERR_USAGE, "%zu threads handed in (at most %u)", n,
				    TARGET_MAX_MEM_THREADS);
	struct core_thread *copy = n ? malloc(n * sizeof(*copy)) : NULL;
	if (n && !copy)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	if (n)
		memcpy(copy, th, n * sizeof(*copy));
	if (t->core) {
		/* A live process opened with its mappings (target_open_live): its
		 * threads are its core's, as a core's are; the stacks found from
		 * the old ones are found again. */
		free(t->core->threads);
		t->core->threads = copy;
		t->core->nthreads = t->core->cap_threads = n;
		free(t->tstacks);
		t->tstacks = NULL;
		t->ntstacks = 0;
		t->tstacks_done = false;
		return NULL;
	}
	free(t->mem_threads);
	t->mem_threads = copy;
	t->nmem_threads = n;
	return NULL;
}

struct ct_error *target_open_live(const struct mem *mem, const char *exe_path, int32_t pid,
				  const char *maps, const struct target_live_thread *threads,
				  size_t nthreads, struct target **ret)
{
	struct ct_error *err;
	struct target *t = calloc(1, sizeof(*t));
	if (!t)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	if (!maps || !exe_path) {
		err = ct_error_fmt(CT_ERR_USAGE, "a live process needs its mappings and executable");
		goto fail;
	}
	if ((err = core_open_live(maps, pid, &t->core)))
		goto fail;
	for (size_t i = 0; i < nthreads && !err; i++)
		err = core_add_live_thread(t->core, threads[i].tid, threads[i].sp, threads[i].pc,
					   threads[i].fp);
	if (err)
		goto fail;
	t->mem = *mem;
	if ((err = target_dwfl_setup(t, NULL)))
		goto fail;
	if (!(t->dwfl = target_dwfl_begin(t))) {
		err = ct_error_fmt(CT_ERR_NOMEM, "dwfl_begin: %s", dwfl_errmsg(-1));
		goto fail;
	}
	t->exe_path = strdup(exe_path);
	t->exe_found = TARGET_FOUND_GIVEN;
	if (!t->exe_path) {
		err = ct_error_fmt(CT_ERR_NOMEM, "out of memory");
		goto fail;
	}
	/* The kernel lists every mapping: no module's PT_LOADs are added. */
	if ((err = target_open_exe(t)) || (err = target_report_modules(t)))
		goto fail;
	*ret = t;
	return NULL;
fail:
	target_close(t);
	return err;
}

const struct ct_error *target_go_heap(struct target *t, const struct go_heap **ret)
{
	if (!t->go_heap && !t->go_heap_err) {
		if (!t->go)
			t->go_heap_err = ct_error_fmt(CT_ERR_NOTFOUND, "not a Go program");
		else
			t->go_heap_err = go_heap_open(t->go, &t->go_heap);
	}
	*ret = t->go_heap;
	return t->go_heap_err;
}

const struct ct_error *target_go_sched(struct target *t, const struct go_sched **ret)
{
	if (!t->go_sched && !t->go_sched_err) {
		if (!t->go)
			t->go_sched_err = ct_error_fmt(CT_ERR_NOTFOUND, "not a Go program");
		else if ((t->go_sched_err = go_sched_open(t->go, &t->go_sched)) == NULL &&
			 t->go_sched->partial)
			target_warn(t, "some goroutines or Ms could not be read");
	}
	*ret = t->go_sched;
	return t->go_sched_err;
}

const struct ct_error *target_cheap(struct target *t, struct cheap **ret)
{
	if (!t->cheap && !t->cheap_err)
		t->cheap_err = target_cheap_open(t, &t->cheap);
	*ret = t->cheap;
	return t->cheap_err;
}

static int tstack_cmp(const void *a, const void *b)
{
	const struct target_tstack *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void tstack_add(struct target *t, int64_t tid, int64_t m_id, uint64_t addr, uint64_t sp,
		       bool g0)
{
	if (!t->core)
		return;
	const struct core_segment *s = core_segment_of(t->core, addr);
	if (!s)
		return;
	/* A stack inside the Go heap is a goroutine's (or gsignal's), not a thread's. */
	const struct go_heap *h;
	enum go_span_kind kind;
	struct go_span span;
	if (!target_go_heap(t, &h)) {
		struct ct_error *err = go_heap_span_of(h, addr, &kind, &span);
		/* An arena whose index cannot be read is still the Go heap. */
		bool in_heap = err ? go_heap_in_arena(h, addr) : kind != GO_SPAN_NONE;
		ct_error_destroy(err);
		if (in_heap)
			return;
	}
	for (size_t i = 0; i < t->ntstacks; i++) {
		struct target_tstack *ts = &t->tstacks[i];
		if (ts->lo == s->vaddr) {
			if (tid && !ts->tid)
				ts->tid = tid;
			if (m_id >= 0)
				ts->m_id = m_id;
			ts->g0 |= g0;
			if (sp)
				ts->sp = sp;
			return;
		}
	}
	struct target_tstack *n = realloc(t->tstacks, (t->ntstacks + 1) * sizeof(*n));
	if (!n)
		return;
	t->tstacks = n;
	n[t->ntstacks++] = (struct target_tstack){ tid, m_id, s->vaddr, s->vaddr + s->memsz, sp, g0 };
}

void target_thread_stacks(struct target *t, const struct target_tstack **ret, size_t *n)
{
	if (!t->tstacks_done && t->core) {
		t->tstacks_done = true;
		const struct go_sched *gs = NULL;
		if (t->go)
			target_go_sched(t, &gs);
		for (size_t i = 0; i < t->core->nthreads; i++) {
			const struct core_thread *th = &t->core->threads[i];
			const struct go_m *m = gs ? go_sched_m_of_tid(gs, th->tid) : NULL;
			uint64_t rsp = th->regs[CORE_REG_RSP];
			tstack_add(t, th->tid, m ? m->id : -1, rsp, rsp, false);
			if (m && m->g0_hi > m->g0_lo)
				tstack_add(t, th->tid, m->id, m->g0_hi - 1, 0, true);
		}
		for (size_t i = 0; gs && i < gs->nms; i++)
			if (gs->ms[i].g0_hi > gs->ms[i].g0_lo)
				tstack_add(t, gs->ms[i].procid, gs->ms[i].id, gs->ms[i].g0_hi - 1, 0, true);
		if (t->ntstacks)
			qsort(t->tstacks, t->ntstacks, sizeof(*t->tstacks), tstack_cmp);
	}
	*ret = t->tstacks;
	*n = t->ntstacks;
}

void target_close(struct target *t)
{
	if (!t)
		return;
	free(t->tstacks);
	for (size_t i = 0; i < TARGET_EXT_MAX; i++)
		if (t->ext[i].free)
			t->ext[i].free(t->ext[i].p);
	go_heap_close(t->go_heap);
	go_sched_close(t->go_sched);
	cheap_close(t->cheap);
	ct_error_destroy(t->go_heap_err);
	ct_error_destroy(t->go_sched_err);
	ct_error_destroy(t->cheap_err);
	go_rt_close(t->go);
	if (t->dwfl)
		dwfl_end(t->dwfl);
	free(t->mem_threads);
	for (size_t i = 0; i < t->nmodules; i++) {
		free(t->modules[i].name);
		free(t->modules[i].file);
		symidx_destroy(t->modules[i].syms);
	}
	free(t->modules);
	dw_close(t->dw);
	if (t->files && t->core)
		for (size_t i = 0; i < t->core->nfiles; i++)
			if (t->files[i].data)
				munmap((void *)t->files[i].data, t->files[i].size);
	free(t->files);
	core_close(t->core);
	for (size_t i = 0; i < t->nwarnings; i++)
		free(t->warnings[i]);
	free(t->warnings);
	free(t->exe_path);
	free(t->sysroot);
	if (t->find)
		target_finder_fini(t->find);
	free(t->find);
	free(t);
}

const struct target_module *target_module_of(const struct target *t, uint64_t addr)
{
	size_t i = CT_UPPER_BOUND(t->modules, t->nmodules, start, addr);
	return i && addr < t->modules[i - 1].end ? &t->modules[i - 1] : NULL;
}

const char *target_module_symbol(struct target *t, const struct target_module *m, uint64_t addr,
				 uint64_t *off)
{
	struct target_module *mm = &t->modules[m - t->modules];
	if (!mm->syms_tried) {
		mm->syms_tried = true;
		/* No index (no symbol table, no memory): libdwfl answers each lookup itself. */
		ct_error_destroy(symidx_build(mm->dwmod, &mm->syms));
	}
	return symidx_lookup(mm->syms, mm->dwmod, addr, off);
}
