#define _GNU_SOURCE
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "target.h"

struct ct_session {
	struct target *t;
	ct_read_fn read;
	void *arg;
};

static char *api_strdup_err(struct ct_error *err)
{
	char *m = strdup(err->msg ? err->msg : "error");
	ct_error_destroy(err);
	return m;
}

ct_session *ct_open_core(const char *core, const char *exe, const char *sysroot, char **errmsg)
{
	ct_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct target_options opt = { .exe = exe, .sysroot = sysroot };
	struct ct_error *err = target_open_core(core, &opt, &s->t);
	if (err) {
		if (errmsg)
			*errmsg = api_strdup_err(err);
		else
			ct_error_destroy(err);
		free(s);
		return NULL;
	}
	return s;
}

static enum mem_status api_mem_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	ct_session *s = arg;
	int rc = s->read(s->arg, addr, buf, len);
	return rc == 0 ? MEM_OK : rc == 2 ? MEM_NOT_SAVED : MEM_UNMAPPED;
}

ct_session *ct_open_memory(ct_read_fn read, void *arg, const char *exe, uint64_t bias,
			   char **errmsg)
{
	ct_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->read = read;
	s->arg = arg;
	struct mem m = { api_mem_read, s };
	struct ct_error *err = target_open_mem(&m, exe, bias, &s->t);
	if (err) {
		if (errmsg)
			*errmsg = api_strdup_err(err);
		else
			ct_error_destroy(err);
		free(s);
		return NULL;
	}
	return s;
}

void ct_close(ct_session *s)
{
	if (!s)
		return;
	target_close(s->t);
	free(s);
}

int ct_run(ct_session *s, int argc, const char *const *argv, int json, char **out, char **err)
{
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	FILE *of = open_memstream(&obuf, &olen), *ef = open_memstream(&ebuf, &elen);
	if (!of || !ef || argc < 1) {
		if (of)
			fclose(of);
		if (ef)
			fclose(ef);
		free(obuf);
		free(ebuf);
		return CT_EXIT_FATAL;
	}
	/* The verbs take the core as their first argument: put a placeholder
	 * there; cli_open hands back the session's target instead. */
	char **av = calloc(argc + 2, sizeof(*av));
	int ac = 0;
	av[ac++] = (char *)argv[0];
	av[ac++] = "(session)";
	for (int i = 1; i < argc; i++)
		av[ac++] = (char *)argv[i];
	struct cli cli = { 0 };
	cli.err = ef;
	cli.json = json != 0;
	cli.preopened = s->t;
	out_init(&cli.out, of, cli.json);
	cli.out.pretty = true;
	int rc = cli_run_verb(&cli, ac, av);
	free(av);
	fclose(of);
	fclose(ef);
	if (out)
		*out = obuf;
	else
		free(obuf);
	if (err)
		*err = ebuf;
	else
		free(ebuf);
	return rc;
}

void ct_free(void *p)
{
	free(p);
}

const char *ct_version(void)
{
	return "0.1";
}
