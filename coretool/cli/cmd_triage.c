/* coretool triage CORE...: the crash report, for one core or a batch. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "render.h"
#include "triage.h"



struct triage_result {
	char *core;
	char *text;       /* the rendered report */
	size_t len;
	char signature[17];
	char klass[32];
	char verdict[768];
	char file[512];   /* where the crash is, for SARIF: the program's own frame */
	int line;
	char func[256];
	int rc;
};

/* One core, in this process: renders into a memory buffer with a header line
 * carrying what the summary needs. */
static int triage_one(struct cli *cli, const char *path, FILE *f)
{
	struct target *t;
	struct ct_error *err = cli_open(cli, path, &t);
	if (err) {
		fprintf(f, "#\t\terror\t%s\n", err->msg);
		struct out o;
		out_init(&o, f, cli->json);
		if (cli->json) {
			out_obj_begin(&o);
			out_kstr(&o, "core", path);
			out_kstr(&o, "error", err->msg);
			out_kstr(&o, "kind", ct_errcode_name(err->code));
			out_obj_end(&o);
			out_end_line(&o);
		} else {
			fprintf(f, "core:      %s\nerror:     %s\n", path, err->msg);
		}
		int rc = err->code == CT_ERR_USAGE ? CT_EXIT_USAGE : CT_EXIT_FATAL;
		ct_error_destroy(err);
		return rc;
	}
	struct triage *tr = malloc(sizeof(*tr));
	if (!tr) {
		cli_close(cli, t);
		return CT_EXIT_FATAL;
	}
	triage_run(t, tr);
	/* The program's own frame: the first in its executable's own code (not
	 * a library's, not the runtime's). */
	const struct frame *own = tr->own;
	fprintf(f, "#\t%s\t%s\t%s\t%s\t%d\t%s\n", tr->signature, tr->klass, tr->verdict,
		own && own->file ? own->file : "", own ? own->line : 0,
		own && own->func ? own->func : "");
	struct out o;
	out_init(&o, f, cli->json);
	triage_out(&o, t, tr);
	if (cli->json)
		out_end_line(&o);
	/* Exit 1 is "partial, said on stderr": say what is missing. */
	int rc = cli_warnings(cli, t);
	free(tr);
	cli_close(cli, t);
	return rc;
}

/* Splits a rendered result into the header fields and the report. */
static void triage_parse(struct triage_result *r, char *buf, size_t len)
{
	r->text = buf;
	r->len = len;
	if (len < 2 || buf[0] != '#')
		return;
	char *nl = memchr(buf, '\n', len);
	if (!nl)
		return;
	*nl = 0;
	char *fields[6] = { 0 };
	char *p = buf + 2;
	for (int i = 0; i < 6 && p; i++) {
		fields[i] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = 0;
	}
	snprintf(r->signature, sizeof(r->signature), "%s", fields[0] ? fields[0] : "");
	snprintf(r->klass, sizeof(r->klass), "%s", fields[1] ? fields[1] : "");
	snprintf(r->verdict, sizeof(r->verdict), "%s", fields[2] ? fields[2] : "");
	snprintf(r->file, sizeof(r->file), "%s", fields[3] ? fields[3] : "");
	r->line = fields[4] ? atoi(fields[4]) : 0;
	snprintf(r->func, sizeof(r->func), "%s", fields[5] ? fields[5] : "");
	r->text = nl + 1;
	r->len = len - (size_t)(nl + 1 - buf);
}

struct triage_job {
	pid_t pid;
	int fd;
	size_t idx;
	char *buf;
	size_t len, cap;
};

static void triage_job_read(struct triage_job *j)
{
	for (;;) {
		if (j->cap - j->len < 65536) {
			size_t ncap = j->cap ? j->cap * 2 : 131072;
			char *n = realloc(j->buf, ncap);
			if (!n)
				return;
			j->buf = n;
			j->cap = ncap;
		}
		ssize_t k = read(j->fd, j->buf + j->len, j->cap - j->len);
		if (k > 0) {
			j->len += k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		return;
	}
}

/* Each core in a child process: a core that crashes or hangs the analysis
 * becomes an error result, and the batch goes on. */
static void triage_batch(struct cli *cli, char **cores, size_t n, int jobs,
			 struct triage_result *res, bool quiet)
{
	struct triage_job *running = calloc(jobs, sizeof(*running));
	size_t next = 0, done = 0;
	int nrun = 0;
	bool progress = isatty(2) && n > 1 && !cli->quiet;
	while (done < n) {
		while (nrun < jobs && next < n) {
			int fds[2];
			if (pipe(fds) < 0)
				break;
			fflush(NULL);
			pid_t pid = fork();
			if (pid == 0) {
				close(fds[0]);
				FILE *f = fdopen(fds[1], "w");
				int rc = f ? triage_one(cli, cores[next], f) : CT_EXIT_FATAL;
				if (f)
					fclose(f);
				_exit(rc);
			}
			close(fds[1]);
			if (pid < 0) {
				close(fds[0]);
				break;
			}
			for (int k = 0; k < jobs; k++)
				if (!running[k].pid) {
					running[k] = (struct triage_job){ pid, fds[0], next, NULL, 0, 0 };
					break;
				}
			next++;
			nrun++;
		}
		/* Drain whichever child has output, reap whichever ended. */
		struct pollfd pfd[jobs];
		int map[jobs], np = 0;
		for (int k = 0; k < jobs; k++)
			if (running[k].pid) {
				pfd[np] = (struct pollfd){ running[k].fd, POLLIN, 0 };
				map[np++] = k;
			}
		if (np == 0)
			break;
		poll(pfd, np, 1000);
		for (int q = 0; q < np; q++) {
			if (!(pfd[q].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct triage_job *j = &running[map[q]];
			triage_job_read(j);
			if (!(pfd[q].revents & POLLHUP) && !(pfd[q].revents & POLLERR)) {
				char c;
				if (read(j->fd, &c, 0) != 0)
					continue;
			}
			int status;
			if (waitpid(j->pid, &status, 0) < 0)
				continue;
			triage_job_read(j);
			close(j->fd);
			struct triage_result *r = &res[j->idx];
			r->core = cores[j->idx];
			char *owned; /* the buffer r->text points into, freed once printed */
			if (WIFEXITED(status)) {
				r->rc = WEXITSTATUS(status);
				owned = j->buf ? j->buf : strdup("");
				triage_parse(r, owned, owned ? j->len : 0);
			} else {
				/* The analysis itself died: say so as this core's result. */
				int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
				r->rc = CT_EXIT_FATAL;
				snprintf(r->klass, sizeof(r->klass), "error");
				free(j->buf);
				size_t len = 0;
				owned = NULL;
				FILE *mf = open_memstream(&owned, &len);
				if (mf) {
					char why[64];
					snprintf(why, sizeof(why), "coretool died on this core (signal %d)", sig);
					if (cli->json) {
						struct out eo;
						out_init(&eo, mf, true);
						out_obj_begin(&eo);
						out_kstr(&eo, "core", cores[j->idx]);
						out_kstr(&eo, "error", why);
						out_obj_end(&eo);
						out_end_line(&eo);
					} else {
						fprintf(mf, "core:      %s\nerror:     %s\n", cores[j->idx], why);
					}
					fclose(mf);
				}
				r->text = owned;
				r->len = owned ? len : 0;
			}
			j->buf = NULL;
			/* Print as results come: reports are independent (JSON Lines). */
			if (r->text && !quiet)
				fwrite(r->text, 1, r->len, cli->out.f);
			if (!cli->json && n > 1 && !quiet)
				fputc('\n', cli->out.f);
			fflush(cli->out.f);
			free(owned);
			r->text = NULL;
			r->len = 0;
			j->pid = 0;
			nrun--;
			done++;
			if (progress)
				fprintf(cli->err, "\rtriage: %zu/%zu cores", done, n);
		}
	}
	if (progress)
		fputc('\n', cli->err);
	free(running);
}

static int triage_sig_cmp(const void *a, const void *b)
{
	const struct triage_result *x = *(struct triage_result *const *)a;
	const struct triage_result *y = *(struct triage_result *const *)b;
	int c = strcmp(x->signature, y->signature);
	return c ? c : strcmp(x->core, y->core);
}

/* The results ordered by signature (then core): groups are runs. Free the array. */
static struct triage_result **triage_by_signature(struct triage_result *res, size_t n)
{
	struct triage_result **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = &res[i];
	qsort(v, n, sizeof(*v), triage_sig_cmp);
	return v;
}

static void triage_summary(struct cli *cli, struct triage_result *res, size_t n)
{
	struct triage_result **v = triage_by_signature(res, n);
	if (!v)
		return;
	struct out *o = &cli->out;
	if (cli->json) {
		o->pretty = false;
		out_obj_begin(o);
		out_key(o, "summary");
		out_arr_begin(o);
	} else {
		fprintf(cli->out.f, "summary: %zu cores\n", n);
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strcmp(v[j]->signature, v[i]->signature))
			j++;
		const char *sig = v[i]->signature[0] ? v[i]->signature : "(error)";
		if (cli->json) {
			out_obj_begin(o);
			out_kstr(o, "signature", sig);
			out_kstr(o, "class", v[i]->klass);
			out_kuint(o, "count", j - i);
			out_kstr(o, "example", v[i]->core);
			out_kstr(o, "verdict", v[i]->verdict);
			out_obj_end(o);
		} else {
			fprintf(cli->out.f, "  %5zu  %-16s %-22s e.g. %s\n         %s\n", j - i, sig, v[i]->klass,
			       v[i]->core, v[i]->verdict);
		}
		i = j;
	}
	if (cli->json) {
		out_arr_end(o);
		out_obj_end(o);
		out_end_line(o);
	}
	free(v);
}

/* SARIF 2.1.0: one rule per crash class, one result per signature (with its
 * count and an example core), located at the program's own frame. */
static void triage_sarif(struct cli *cli, struct triage_result *res, size_t n)
{
	struct triage_result **v = triage_by_signature(res, n);
	if (!v)
		return;
	struct out o;
	out_init(&o, cli->out.f, true);
	o.pretty = true;
	out_obj_begin(&o);
	out_kstr(&o, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	out_kstr(&o, "version", "2.1.0");
	out_key(&o, "runs");
	out_arr_begin(&o);
	out_obj_begin(&o);
	out_key(&o, "tool");
	out_obj_begin(&o);
	out_key(&o, "driver");
	out_obj_begin(&o);
	out_kstr(&o, "name", "coretool");
	out_kstr(&o, "informationUri", "README.md");
	out_key(&o, "rules");
	out_arr_begin(&o);
	size_t nclasses;
	const struct triage_class *classes = triage_classes(&nclasses);
	for (size_t i = 0; i < nclasses; i++) {
		out_obj_begin(&o);
		out_kstr(&o, "id", classes[i].name);
		out_key(&o, "shortDescription");
		out_obj_begin(&o);
		out_kstr(&o, "text", classes[i].description);
		out_obj_end(&o);
		out_obj_end(&o);
	}
	out_arr_end(&o);
	out_obj_end(&o);
	out_obj_end(&o);
	out_key(&o, "results");
	out_arr_begin(&o);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strcmp(v[j]->signature, v[i]->signature))
			j++;
		const struct triage_result *r = v[i];
		if (!r->signature[0]) { /* cores that could not be read */
			i = j;
			continue;
		}
		out_obj_begin(&o);
		out_kstr(&o, "ruleId", r->klass);
		out_kstr(&o, "level", "error");
		out_key(&o, "message");
		out_obj_begin(&o);
		char *text;
		if (asprintf(&text, "%s (%zu core%s, e.g. %s)", r->verdict, j - i, j - i > 1 ? "s" : "",
			     r->core) < 0)
			text = NULL;
		out_kstr(&o, "text", text ? text : r->verdict);
		free(text);
		out_obj_end(&o);
		if (r->file[0]) {
			out_key(&o, "locations");
			out_arr_begin(&o);
			out_obj_begin(&o);
			out_key(&o, "physicalLocation");
			out_obj_begin(&o);
			out_key(&o, "artifactLocation");
			out_obj_begin(&o);
			out_kstr(&o, "uri", r->file);
			out_obj_end(&o);
			if (r->line > 0) {
				out_key(&o, "region");
				out_obj_begin(&o);
				out_kint(&o, "startLine", r->line);
				out_obj_end(&o);
			}
			out_obj_end(&o);
			if (r->func[0]) {
				out_key(&o, "logicalLocations");
				out_arr_begin(&o);
				out_obj_begin(&o);
				out_kstr(&o, "fullyQualifiedName", r->func);
				out_kstr(&o, "kind", "function");
				out_obj_end(&o);
				out_arr_end(&o);
			}
			out_obj_end(&o);
			out_arr_end(&o);
		}
		out_key(&o, "partialFingerprints");
		out_obj_begin(&o);
		out_kstr(&o, "coretoolSignature/v1", r->signature);
		out_obj_end(&o);
		out_key(&o, "properties");
		out_obj_begin(&o);
		out_kuint(&o, "count", j - i);
		out_key(&o, "cores");
		out_arr_begin(&o);
		for (size_t k = i; k < j; k++)
			out_str(&o, v[k]->core);
		out_arr_end(&o);
		out_obj_end(&o);
		out_obj_end(&o);
		i = j;
	}
	out_arr_end(&o);
	out_obj_end(&o);
	out_arr_end(&o);
	out_obj_end(&o);
	out_end_line(&o);
	free(v);
}

int cmd_triage(struct cli *cli, const struct cli_args *a)
{
	int jobs = (int)cli_num(a, "--jobs");
	bool summary = cli_flag(a, "--summary"), sarif = cli_flag(a, "--sarif");
	char **cores = a->pos;
	size_t n = (size_t)a->npos;
	int rc = CT_EXIT_OK;
	if (n == 1 && !summary && !sarif) {
		/* One core: in this process, the report straight to stdout. */
		char *buf = NULL;
		size_t len = 0;
		FILE *mf = open_memstream(&buf, &len);
		if (!mf)
			return CT_EXIT_FATAL;
		rc = triage_one(cli, cores[0], mf);
		fclose(mf);
		struct triage_result r = { 0 };
		triage_parse(&r, buf, len);
		fwrite(r.text, 1, r.len, cli->out.f);
		if (r.klass[0] == 'e' && !strcmp(r.klass, "error"))
			fprintf(cli->err, "coretool: %s\n", r.verdict);
		free(buf);
	} else {
		struct triage_result *res = calloc(n, sizeof(*res));
		if (!res)
			return CT_EXIT_FATAL;
		triage_batch(cli, cores, n, jobs, res, sarif);
		for (size_t i = 0; i < n; i++) {
			if (!res[i].core)
				res[i].core = cores[i];
			if (res[i].rc != CT_EXIT_OK)
				rc = CT_EXIT_PARTIAL;
		}
		if (sarif)
			triage_sarif(cli, res, n);
		else if (summary)
			triage_summary(cli, res, n);
		/* The result texts were printed as they came; the buffers are freed with the process. */
		free(res);
	}
	return rc;
}
