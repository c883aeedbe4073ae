/* The C heap model over a core target: hands glibc's model the process's
 * mappings and the modules where malloc's state may be (libc.so.6, or the
 * executable of a static binary). The model itself knows nothing of targets. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

static struct cheap_module target_cheap_module(const struct target_module *m)
{
	return (struct cheap_module){ .name = m->name, .dwmod = m->dwmod, .start = m->start,
				      .end = m->end, .build_id = m->build_id,
				      .build_id_len = m->build_id_len };
}

struct ct_error *target_cheap_open(struct target *t, struct cheap **ret)
{
	*ret = NULL;
	if (!t->core)
		return ct_error_fmt(CT_ERR_UNSUPPORTED, "the C heap model needs a core (mappings)");
	struct cheap_region *regions = calloc(t->core->nsegs ? t->core->nsegs : 1, sizeof(*regions));
	if (!regions)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < t->core->nsegs; i++) {
		const struct core_segment *s = &t->core->segs[i];
		regions[i] = (struct cheap_region){ s->vaddr, s->vaddr + s->memsz, (s->flags & PF_W) != 0,
						    core_file_of(t->core, s->vaddr) != NULL };
	}
	const struct target_module *libc = NULL, *exe = NULL;
	for (size_t i = 0; i < t->nmodules; i++) {
		if (!libc && cheap_is_libc(t->modules[i].name))
			libc = &t->modules[i];
		if (t->modules[i].is_exe)
			exe = &t->modules[i];
	}
	/* libdwfl may name libc by its soname's target; the core's file list has the path. */
	if (!libc) {
		for (size_t i = 0; i < t->core->nfiles && !libc; i++)
			if (cheap_is_libc(t->core->files[i].path))
				for (size_t j = 0; j < t->nmodules; j++)
					if (t->core->files[i].start >= t->modules[j].start &&
					    t->core->files[i].start < t->modules[j].end)
						libc = &t->modules[j];
	}
	struct cheap_module libc_m, exe_m;
	if (libc)
		libc_m = target_cheap_module(libc);
	if (exe)
		exe_m = target_cheap_module(exe);
	const char *nodbg = getenv(CHEAP_ENV_NO_DEBUGINFO);
	struct cheap_process p = { .mem = t->mem, .regions = regions, .nregions = t->core->nsegs,
				   .libc = libc ? &libc_m : NULL, .exe = exe ? &exe_m : NULL,
				   .warn = target_warn_sink(t),
				   .glibc_version = getenv(CHEAP_ENV_GLIBC_VERSION),
				   .no_debuginfo = nodbg && *nodbg && strcmp(nodbg, "0") != 0 };
	struct ct_error *err = cheap_open_process(&p, ret);
	free(regions);
	return err;
}
