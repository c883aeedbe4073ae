#define _GNU_SOURCE
#include "ct_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ct_error ct_error_nomem = { CT_ERR_NOMEM, "out of memory" };

struct ct_error *ct_error_vfmt(enum ct_errcode code, const char *fmt, va_list ap)
{
	struct ct_error *err = malloc(sizeof(*err));
	if (!err)
		return &ct_error_nomem;
	if (vasprintf(&err->msg, fmt, ap) < 0) {
		free(err);
		return &ct_error_nomem;
	}
	err->code = code;
	return err;
}

struct ct_error *ct_error_fmt(enum ct_errcode code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ct_error *err = ct_error_vfmt(code, fmt, ap);
	va_end(ap);
	return err;
}

struct ct_error *ct_error_wrap(struct ct_error *err, const char *fmt, ...)
{
	if (!err || err == &ct_error_nomem)
		return err;
	char *prefix, *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err;
	if (asprintf(&msg, "%s: %s", prefix, err->msg) >= 0) {
		free(err->msg);
		err->msg = msg;
	}
	free(prefix);
	return err;
}

void ct_error_destroy(struct ct_error *err)
{
	if (!err || err == &ct_error_nomem)
		return;
	free(err->msg);
	free(err);
}

const char *ct_errcode_name(enum ct_errcode code)
{
	switch (code) {
#define CT_ERRCODE_CASE(c, name) \
	case c:                  \
		return name;
		CT_ERRCODES(CT_ERRCODE_CASE)
#undef CT_ERRCODE_CASE
	case CT_ERR_NONE_:
		break;
	}
	return "error";
}

void ct_vwarn(const struct ct_warn_sink *sink, const char *fmt, va_list ap)
{
	char *msg;
	if (!sink || !sink->fn || vasprintf(&msg, fmt, ap) < 0)
		return;
	sink->fn(sink->arg, msg);
	free(msg);
}

void ct_warn(const struct ct_warn_sink *sink, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ct_vwarn(sink, fmt, ap);
	va_end(ap);
}
