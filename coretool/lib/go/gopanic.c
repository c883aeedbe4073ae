#define _GNU_SOURCE
#include "gopanic.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bound on the _panic chain (nested panics in deferred calls). */
#define GO_PANIC_MAX_CHAIN 64

/* The error types whose Error() is one of their string fields, so the text
 * Go printed can be read without calling it (errors.New, fmt.Errorf). */
static const struct {
	const char *type, *field;
} go_panic_text_errors[] = {
	{ "*errors.errorString", "s" },
	{ "*fmt.wrapError", "msg" },
	{ "*fmt.wrapErrors", "msg" },
	{ "runtime.plainError", NULL }, /* a string type itself */
	{ "*runtime.plainError", NULL },
};

static void go_panic_render_text(struct govalue *gv, Dwarf_Die *type, uint64_t addr, char *buf, size_t n)
{
	char *text = govalue_text(gv, type, addr);
	snprintf(buf, n, "%s", text ? text : "");
	free(text);
}

struct ct_error *go_panic_read(const struct go_rt *rt, struct govalue *gv, uint64_t addr,
			       struct go_panic *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->addr = addr;
	Dwarf_Die pt, argm, argt, under;
	uint64_t arg_off, link_off;
	if (!dw_type(rt->dw, "runtime._panic", &pt) || !dw_member(&pt, "arg", &arg_off, &argm) ||
	    !dw_type_of(&argm, &argt) || !dw_member(&pt, "link", &link_off, NULL))
		return ct_error_fmt(CT_ERR_NOTFOUND, "runtime._panic has no arg or link in the DWARF");
	for (uint64_t p = addr; p && ret->depth < GO_PANIC_MAX_CHAIN; ret->depth++) {
		struct ct_error *err = mem_read_u64(rt->mem, p + link_off, &p, "runtime._panic.link");
		if (err) {
			ct_error_destroy(err);
			break;
		}
	}
	govalue_kind(&argt, &under);
	struct govalue_iface iv;
	enum mem_status st = govalue_iface(gv, &under, addr + arg_off, &iv);
	if (st != MEM_OK)
		return mem_error(st, addr + arg_off, 16, "the panic's value (runtime._panic.arg)");
	if (iv.nil) {
		snprintf(ret->type, sizeof(ret->type), "nil");
		snprintf(ret->msg, sizeof(ret->msg), "nil");
		return NULL;
	}
	if (!iv.known) {
		snprintf(ret->type, sizeof(ret->type), "<type 0x%" PRIx64 ">", iv.rtype);
		return NULL;
	}
	const char *tn = govalue_type_name(&iv.type);
	snprintf(ret->type, sizeof(ret->type), "%s", tn ? tn : "?");
	Dwarf_Die vt;
	int kind = govalue_kind(&iv.type, &vt);
	uint64_t len;
	struct ct_error *err;
	if (kind == GO_KIND_STRING) {
		if (!(err = go_read_string(rt, iv.value_addr, ret->msg, sizeof(ret->msg), &len)))
			ret->msg_exact = true;
		ct_error_destroy(err);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(go_panic_text_errors) / sizeof(go_panic_text_errors[0]); i++) {
		if (!tn || strcmp(tn, go_panic_text_errors[i].type) != 0 || !go_panic_text_errors[i].field)
			continue;
		/* A pointer type: the struct is where the data word points. */
		Dwarf_Die st_die;
		uint64_t foff, obj;
		if (!dw_type_of(&vt, &st_die) || !dw_member(&st_die, go_panic_text_errors[i].field, &foff, NULL))
			break;
		if ((err = mem_read_u64(rt->mem, iv.value_addr, &obj, "the panic's error value"))) {
			ct_error_destroy(err);
			break;
		}
		if (!(err = go_read_string(rt, obj + foff, ret->msg, sizeof(ret->msg), &len)))
			ret->msg_exact = true;
		ct_error_destroy(err);
		if (ret->msg_exact)
			return NULL;
	}
	go_panic_render_text(gv, &iv.type, iv.value_addr, ret->msg, sizeof(ret->msg));
	return NULL;
}
