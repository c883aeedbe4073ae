#include "goruntime.h"

#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *go_map_impl_name(enum go_map_impl impl)
{
	switch (impl) {
	case GO_MAP_CLASSIC: return "classic";
	case GO_MAP_SWISS: return "swiss";
	default: return "unknown";
	}
}

struct ct_error *go_var_addr(const struct go_rt *rt, const char *name, uint64_t *ret)
{
	struct ct_error *err = dw_var_addr(rt->dw, name, ret);
	if (!err)
		*ret += rt->bias;
	return err;
}

struct ct_error *go_read_string(const struct go_rt *rt, uint64_t addr, char *buf, size_t cap,
				uint64_t *len)
{
	uint64_t ptr, n;
	struct ct_error *err;
	if ((err = mem_read_u64(rt->mem, addr + rt->string_ptr_off, &ptr, "Go string pointer")) ||
	    (err = mem_read_u64(rt->mem, addr + rt->string_len_off, &n, "Go string length")))
		return err;
	*len = n;
	size_t want = n < cap - 1 ? (size_t)n : cap - 1;
	if (want && (err = mem_read_err(rt->mem, ptr, buf, want, "Go string bytes")))
		return err;
	buf[want] = 0;
	return NULL;
}

struct ct_error *go_rt_open(const struct dw *dw, const struct mem *mem, uint64_t bias,
			    struct go_rt **ret)
{
	Dwarf_Die d;
	if (!dw_lookup(dw, "runtime.buildVersion", DW_TAG_variable, &d))
		return ct_error_fmt(CT_ERR_NOTFOUND, "not a Go program (no runtime.buildVersion in DWARF)");
	struct go_rt *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	rt->dw = dw;
	rt->mem = mem;
	rt->bias = bias;
	/* Detect the map implementation from DWARF, not from the version: Go 1.24 and
	 * 1.25 have both, chosen by GOEXPERIMENT at build time. */
	if (dw_type(dw, "internal/runtime/maps.Map", &d))
		rt->map_impl = GO_MAP_SWISS;
	else if (dw_type(dw, "runtime.hmap", &d))
		rt->map_impl = GO_MAP_CLASSIC;
	struct ct_error *err;
	if ((err = dw_member_offset(dw, "string", "str", &rt->string_ptr_off)) ||
	    (err = dw_member_offset(dw, "string", "len", &rt->string_len_off))) {
		free(rt);
		return err;
	}
	uint64_t addr, len;
	if ((err = go_var_addr(rt, "runtime.buildVersion", &addr)) ||
	    (err = go_read_string(rt, addr, rt->version, sizeof(rt->version), &len))) {
		*ret = rt;
		return ct_error_wrap(err, "reading runtime.buildVersion");
	}
	if (sscanf(rt->version, "go%d.%d", &rt->major, &rt->minor) != 2)
		rt->major = rt->minor = 0;
	*ret = rt;
	return NULL;
}

void go_rt_close(struct go_rt *rt)
{
	free(rt);
}

/* How a function name is recognized, first match wins. */
static const struct {
	enum { ROLE_PREFIX, ROLE_SUBSTR, ROLE_EXACT } how;
	const char *text;
	enum go_func_role role;
} go_func_roles[] = {
	{ ROLE_PREFIX, "runtime.", GO_FUNC_RUNTIME },
	{ ROLE_PREFIX, "runtime/", GO_FUNC_RUNTIME_PKG },   /* runtime/cgo, runtime/internal/... */
	{ ROLE_PREFIX, "internal/", GO_FUNC_RUNTIME_PKG },  /* internal/runtime/maps (1.24+), ... */
	{ ROLE_SUBSTR, "_Cfunc_", GO_FUNC_CGO },            /* main._Cfunc_f, the cgo call stub */
	{ ROLE_SUBSTR, "_cgo_", GO_FUNC_CGO },              /* _cgo_<hash>_Cfunc_f, the C side */
	{ ROLE_EXACT, "crosscall2", GO_FUNC_CGO },          /* C calling back into Go */
	{ ROLE_PREFIX, "__restore_rt", GO_FUNC_SIGRETURN }, /* glibc's sa_restorer */
};

enum go_func_role go_func_role(const char *func)
{
	if (!func)
		return GO_FUNC_USER;
	for (size_t i = 0; i < sizeof(go_func_roles) / sizeof(go_func_roles[0]); i++) {
		const char *t = go_func_roles[i].text;
		bool hit = go_func_roles[i].how == ROLE_PREFIX ? !strncmp(func, t, strlen(t)) :
			   go_func_roles[i].how == ROLE_SUBSTR ? strstr(func, t) != NULL :
								 !strcmp(func, t);
		if (hit)
			return go_func_roles[i].role;
	}
	return GO_FUNC_USER;
}
