/* coretool triage CORE...: the crash report, for one core or a batch. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "corelist.h"
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
	char *owned;      /* the buffer text points into, freed once printed */
	bool said;        /* an error said on stderr already */
};

/* One core, in this process: renders into a memory buffer with a header line
 * carrying what the summary needs. */
/* --retain, set by cmd_triage for this run (batches fork: children see it). */
static bool triage_retain_asked;

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
	if (triage_retain_asked)
		triage_retain(t, tr);
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

/* ---- the batch: each core in a child process, under a budget ----
 *
 * A core that crashes the analysis, or hangs it, or makes it eat memory,
 * becomes an error result of its own and the batch goes on: the parent reads
 * each child's output without blocking, kills a child past its time
 * (--timeout), and the child's address space is limited (--max-mem,
 * RLIMIT_AS, beyond the core's own mapping). */

/* ASan reserves terabytes of shadow memory that no address-space limit
 * admits: there the memory budget is not applied (the time budget is). */
#if defined(__SANITIZE_ADDRESS__)
#define TRIAGE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRIAGE_ASAN 1
#endif
#endif

/* Test-only: a child whose core is the path in CORETOOL_TEST_TRIAGE_HANG
 * writes part of a result and then sleeps for ever instead of analysing it,
 * so that the tests of --timeout have a core that hangs deterministically.
 * Not for use outside tests/test_hostile_misc.py. */
#define TRIAGE_ENV_TEST_HANG "CORETOOL_TEST_TRIAGE_HANG"
/* Test-only likewise: a child whose core is the path in
 * CORETOOL_TEST_TRIAGE_EAT first takes memory until its budget refuses it
 * (at most 1 GB), for the tests of --max-mem. */
#define TRIAGE_ENV_TEST_EAT "CORETOOL_TEST_TRIAGE_EAT"

struct triage_limits {
	uint64_t timeout;   /* seconds; 0: none */
	uint64_t max_mem;   /* MB; 0: none */
};

struct triage_job {
	pid_t pid;
	int fd;           /* -1 once the child closed its end */
	size_t idx;
	char *buf;
	size_t len, cap;
	double start;     /* CLOCK_MONOTONIC seconds */
};

static double triage_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads what the child wrote so far (the fd is non-blocking). true: the
 * child closed its end (end of file, or an error). */
static bool triage_job_read(struct triage_job *j)
{
	for (;;) {
		if (j->cap - j->len < 65536) {
			size_t ncap = j->cap ? j->cap * 2 : 131072;
			char *n = realloc(j->buf, ncap);
			if (!n)
				return true;
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
		return !(k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	}
}

/* A field of /proc/self/status in kB ("VmPeak", "VmSize"), or 0. With
 * read(2) into the stack: the heap may be what ran out. */
static uint64_t triage_vm_kb(const char *field)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t len = 0, k;
	while (fd >= 0 && len < (ssize_t)sizeof(buf) - 1 &&
	       ((k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0 || (k < 0 && errno == EINTR)))
		len += k > 0 ? k : 0;
	if (fd >= 0)
		close(fd);
	buf[len] = 0;
	size_t n = strlen(field);
	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, field, n) && p[n] == ':')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

/* In the child, before the analysis: the memory budget, no core dumps of
 * our own, and the test hooks. The budget is address space (RLIMIT_AS) on
 * top of what the process holds when it starts and of the core, which is
 * mapped whole; returns the limit set, in kB (0: none). */
static uint64_t triage_child_setup(const struct triage_limits *lim, const char *core, FILE *f)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);
	uint64_t limit_kb = 0;
#ifndef TRIAGE_ASAN
	struct stat sb;
	if (lim->max_mem) {
		uint64_t core_kb = stat(core, &sb) == 0 ? ((uint64_t)sb.st_size + 4095) >> 10 : 0;
		limit_kb = triage_vm_kb("VmSize") + core_kb + (lim->max_mem << 10);
		rl.rlim_cur = rl.rlim_max = (rlim_t)(limit_kb << 10);
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			limit_kb = 0;
	}
#else
	(void)lim;
#endif
	const char *hang = getenv(TRIAGE_ENV_TEST_HANG);
	if (hang && *hang && !strcmp(hang, core)) {
		fputs("#\t", f);
		fflush(f);
		for (;;)
			pause();
	}
	/* Test-only as well: memory taken (and touched) 1 MB at a time until
	 * the budget refuses it, at most 1 GB, then given back; the analysis
	 * runs after. */
	const char *eat = getenv(TRIAGE_ENV_TEST_EAT);
	if (eat && *eat && !strcmp(eat, core)) {
		char *volatile chunks[1024];
		size_t n = 0;
		for (; n < 1024 && (chunks[n] = malloc(1 << 20)); n++)
			for (size_t k = 0; k < (1 << 20); k += 4096)
				((volatile char *)chunks[n])[k] = 1;
		while (n)
			free(chunks[--n]);
	}
	return limit_kb;
}

/* The child's exit status when its analysis did not fit the memory budget:
 * the parent reports kind "memory" instead of what the analysis said. */
#define TRIAGE_EXIT_MEMORY 3

/* Did the analysis run into the memory budget? A library may turn a refused
 * allocation into any failure, or into a silently poorer answer (libdw says
 * "no such DIE"), so no result is believed whose process came near the
 * limit: its peak address space (VmPeak, what RLIMIT_AS bounds) within a
 * margin of it, half the budget from 8 MB to 64 MB (an allocation refused
 * is one that would have gone past the limit; a larger one is an "out of
 * memory" error the analysis reports). */
static bool triage_over_budget(const struct triage_limits *lim, uint64_t limit_kb)
{
	if (!limit_kb)
		return false;
	uint64_t slack = (lim->max_mem << 10) / 2;
	slack = slack < (8u << 10) ? (8u << 10) : slack > (64u << 10) ? (64u << 10) : slack;
	return triage_vm_kb("VmPeak") + slack >= limit_kb;
}

/* The result of a core the child gave no result for: an error object (JSON)
 * or lines (text) of our own, said on stderr too. */
static void triage_error_result(struct cli *cli, struct triage_result *r, const char *core,
				const char *why, const char *kind)
{
	r->rc = CT_EXIT_FATAL;
	snprintf(r->klass, sizeof(r->klass), "error");
	snprintf(r->verdict, sizeof(r->verdict), "%s", why);
	r->signature[0] = 0;
	char *owned = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&owned, &len);
	if (mf) {
		if (cli->json) {
			struct out eo;
			out_init(&eo, mf, true);
			out_obj_begin(&eo);
			out_kstr(&eo, "core", core);
			out_kstr(&eo, "error", why);
			out_kstr(&eo, "kind", kind);
			out_obj_end(&eo);
			out_end_line(&eo);
		} else {
			fprintf(mf, "core:      %s\nerror:     %s\n", core, why);
		}
		fclose(mf);
	}
	r->text = owned;
	r->len = owned ? len : 0;
	fprintf(cli->err, "coretool: %s: %s\n", core, why);
	r->said = true;
}

/* A child that ended: its result, as it wrote it or as we say it. */
static void triage_job_result(struct cli *cli, struct triage_job *j, int status, char **cores,
			      const struct triage_limits *lim, struct triage_result *r)
{
	r->core = cores[j->idx];
	char why[160];
	if (WIFEXITED(status) && WEXITSTATUS(status) == TRIAGE_EXIT_MEMORY) {
		free(j->buf);
		j->buf = NULL;
		snprintf(why, sizeof(why), "out of memory: over the memory budget of %" PRIu64
			 " MB per core (--max-mem)", lim->max_mem);
		triage_error_result(cli, r, cores[j->idx], why, "memory");
		return;
	}
	if (WIFEXITED(status) && j->len > 1 && j->buf[0] == '#' && memchr(j->buf, '\n', j->len)) {
		r->rc = WEXITSTATUS(status);
		triage_parse(r, j->buf, j->len);
		/* An allocation the memory budget refused: say it was the budget. */
		if (lim->max_mem && !strcmp(r->klass, "error") && strstr(r->verdict, "out of memory")) {
			snprintf(why, sizeof(why), "out of memory: over the memory budget of %" PRIu64
				 " MB per core (--max-mem)", lim->max_mem);
			free(j->buf);
			triage_error_result(cli, r, cores[j->idx], why, "memory");
		} else {
			/* r->text points into buf: handed over. */
			r->owned = j->buf;
		}
		j->buf = NULL;
		return;
	}
	free(j->buf);
	j->buf = NULL;
	const char *budget = "";
	char bud[64] = "";
	if (lim->max_mem) {
		snprintf(bud, sizeof(bud), " (memory budget %" PRIu64 " MB)", lim->max_mem);
		budget = bud;
	}
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "coretool died on this core (signal %d)%s", WTERMSIG(status), budget);
	else
		snprintf(why, sizeof(why), "coretool ended on this core without a result (exit status %d)%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, budget);
	triage_error_result(cli, r, cores[j->idx], why, "crash");
}

static void triage_emit(struct cli *cli, struct triage_result *r, size_t n, bool quiet)
{
	/* A core that could not be read is said on stderr too (exit status 1). */
	if (!r->said && !strcmp(r->klass, "error")) {
		bool named = r->core && strstr(r->verdict, r->core);
		fprintf(cli->err, "coretool: %s%s%s\n", named ? "" : r->core, named ? "" : ": ", r->verdict);
		r->said = true;
	}
	/* Print as results come: reports are independent (JSON Lines). */
	if (r->text && !quiet)
		fwrite(r->text, 1, r->len, cli->out.f);
	if (!cli->json && n > 1 && !quiet)
		fputc('\n', cli->out.f);
	fflush(cli->out.f);
	/* text points into owned (a child's output), or is its own buffer. */
	if (r->owned)
		free(r->owned);
	else
		free(r->text);
	r->owned = NULL;
	r->text = NULL;
	r->len = 0;
}

/* The batch's progress line on a terminal: counts, rate, time left. */
static void triage_progress(FILE *f, size_t done, size_t n, size_t errors, double took)
{
	double rate = took > 0 ? (double)done / took : 0;
	fprintf(f, "\rtriage: %zu/%zu cores (%zu errors), %.1f cores/s", done, n, errors, rate);
	if (rate > 0 && done < n) {
		unsigned long left = (unsigned long)((double)(n - done) / rate + 0.5);
		fprintf(f, ", %lum%02lus left", left / 60, left % 60);
	}
	fprintf(f, "\033[K");
	fflush(f);
}

/* Each core in a child process: a core that crashes, hangs (past
 * lim->timeout) or runs out of its memory budget becomes an error result,
 * and the batch goes on. */
static void triage_batch(struct cli *cli, char **cores, size_t n, int jobs,
			 struct triage_result *res, bool quiet, const struct triage_limits *lim)
{
	struct triage_job *running = calloc(jobs, sizeof(*running));
	struct pollfd *pfd = calloc(jobs, sizeof(*pfd));
	int *map = calloc(jobs, sizeof(*map));
	if (!running || !pfd || !map) {
		free(running);
		free(pfd);
		free(map);
		for (size_t i = 0; i < n; i++) {
			res[i].core = cores[i];
			triage_error_result(cli, &res[i], cores[i], "out of memory", "nomem");
			triage_emit(cli, &res[i], n, quiet);
		}
		return;
	}
	size_t next = 0, done = 0, errors = 0;
	int nrun = 0;
	bool progress = isatty(2) && n > 1 && !cli->quiet;
	double t0 = triage_now();
	while (done < n) {
		while (nrun < jobs && next < n) {
			int fds[2];
			if (pipe(fds) < 0)
				break;
			fflush(NULL);
			pid_t pid = fork();
			if (pid == 0) {
				close(fds[0]);
				/* A buffer of its own: the first write must not need the
				 * heap the budget may refuse. */
				static char obuf[1 << 16];
				FILE *f = fdopen(fds[1], "w");
				if (f)
					setvbuf(f, obuf, _IOFBF, sizeof(obuf));
				uint64_t limit_kb = f ? triage_child_setup(lim, cores[next], f) : 0;
				int rc = f ? triage_one(cli, cores[next], f) : CT_EXIT_FATAL;
				if (f)
					fclose(f);
				if (triage_over_budget(lim, limit_kb))
					rc = TRIAGE_EXIT_MEMORY;
				_exit(rc);
			}
			close(fds[1]);
			if (pid < 0) {
				close(fds[0]);
				break;
			}
			fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
			for (int k = 0; k < jobs; k++)
				if (!running[k].pid) {
					running[k] = (struct triage_job){ pid, fds[0], next, NULL, 0, 0, triage_now() };
					break;
				}
			next++;
			nrun++;
		}
		if (nrun == 0) {
			/* No child could be started (out of processes or pipes): the
			 * cores left are errors, not silence. */
			for (; next < n; next++, done++) {
				triage_error_result(cli, &res[next], cores[next],
						    "cannot start a process for this core", "crash");
				res[next].core = cores[next];
				triage_emit(cli, &res[next], n, quiet);
			}
			break;
		}
		/* Wait for output, an end, or the nearest deadline. */
		double now = triage_now(), wait = 1.0;
		int np = 0;
		bool exiting = false;
		for (int k = 0; k < jobs; k++) {
			struct triage_job *j = &running[k];
			if (!j->pid)
				continue;
			if (lim->timeout) {
				double left = j->start + (double)lim->timeout - now;
				wait = left < wait ? left : wait;
			}
			if (j->fd >= 0) {
				pfd[np] = (struct pollfd){ j->fd, POLLIN, 0 };
				map[np++] = k;
			} else {
				exiting = true; /* closed its end: reaped below */
			}
		}
		if (exiting && wait > 0.01)
			wait = 0.01;
		poll(pfd, np, wait > 0 ? (int)(wait * 1000) + 1 : 0); /* EINTR: look again */
		for (int q = 0; q < np; q++) {
			struct triage_job *j = &running[map[q]];
			if ((pfd[q].revents & (POLLIN | POLLHUP | POLLERR)) && triage_job_read(j)) {
				close(j->fd);
				j->fd = -1;
			}
		}
		now = triage_now();
		for (int k = 0; k < jobs; k++) {
			struct triage_job *j = &running[k];
			if (!j->pid)
				continue;
			struct triage_result *r = &res[j->idx];
			int status;
			pid_t w = waitpid(j->pid, &status, WNOHANG);
			if (w == j->pid && j->fd >= 0) {
				/* Ended: what is left in the pipe is all of it. */
				triage_job_read(j);
				close(j->fd);
				j->fd = -1;
			}
			if (w == j->pid) {
				triage_job_result(cli, j, status, cores, lim, r);
			} else if (lim->timeout && now - j->start >= (double)lim->timeout) {
				kill(j->pid, SIGKILL);
				waitpid(j->pid, &status, 0);
				if (j->fd >= 0)
					close(j->fd);
				j->fd = -1;
				free(j->buf);
				j->buf = NULL;
				char why[96];
				snprintf(why, sizeof(why), "timed out after %" PRIu64 " s", lim->timeout);
				r->core = cores[j->idx];
				triage_error_result(cli, r, cores[j->idx], why, "timeout");
			} else {
				continue;
			}
			if (progress) /* the report may go to the same terminal */
				fputs("\r\033[K", cli->err);
			triage_emit(cli, r, n, quiet);
			j->pid = 0;
			nrun--;
			done++;
			if (!strcmp(r->klass, "error"))
				errors++;
			if (progress)
				triage_progress(cli->err, done, n, errors, triage_now() - t0);
		}
	}
	if (progress) {
		double took = triage_now() - t0;
		fprintf(cli->err, "\rtriage: %zu cores in %.1f s: %zu reports, %zu errors\033[K\n", n, took,
			n - errors, errors);
	}
	free(running);
	free(pfd);
	free(map);
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

/* Was the option given on the command line (not only its default)? */
static bool triage_opt_given(const struct cli_args *a, const char *name)
{
	for (int k = 0; a->verb->opts[k].name && k < CLI_MAX_OPTS; k++)
		if (!strcmp(a->verb->opts[k].name, name))
			return a->set[k];
	return false;
}

int cmd_triage(struct cli *cli, const struct cli_args *a)
{
	int jobs = (int)cli_num(a, "--jobs");
	bool summary = cli_flag(a, "--summary"), sarif = cli_flag(a, "--sarif");
	struct triage_limits lim = { cli_num(a, "--timeout"), cli_num(a, "--max-mem") };
	const char *from = cli_str(a, "--from");
	triage_retain_asked = cli_flag(a, "--retain");
	if (!a->npos && !from)
		return cli_usage(cli, "no cores: name core files or directories, or --from FILE");
	struct corelist list = { 0 };
	struct ct_error *lerr = corelist_add(&list, a->pos, (size_t)a->npos, from,
					     isatty(2) && !cli->quiet ? cli->err : NULL);
	if (lerr) {
		corelist_free(&list);
		return cli_fail(cli, lerr);
	}
	if (!list.n) {
		fprintf(cli->err, "coretool: no cores found (%zu other files searched)\n", list.skipped);
		corelist_free(&list);
		return CT_EXIT_FATAL;
	}
	char **cores = list.paths;
	size_t n = list.n;
	int rc = CT_EXIT_OK;
	/* One core is analysed in this process (also in a session), unless a
	 * budget is asked for: then in a child like a batch's. */
	bool budget = triage_opt_given(a, "--timeout") || triage_opt_given(a, "--max-mem");
	/* A directory or list names a batch, even of one core. */
	bool batch = n > 1 || list.dirs || from;
	if (!batch && !summary && !sarif && (!budget || cli->preopened)) {
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
		triage_batch(cli, cores, n, jobs, res, sarif, &lim);
		for (size_t i = 0; i < n; i++) {
			if (!res[i].core)
				res[i].core = cores[i];
			if (res[i].rc != CT_EXIT_OK)
				rc = CT_EXIT_PARTIAL;
		}
		/* One core under a budget: its own status, as in this process (a
		 * core past its budget has no result: fatal). */
		if (!batch && !summary && !sarif)
			rc = res[0].rc;
		if (sarif)
			triage_sarif(cli, res, n);
		else if (summary)
			triage_summary(cli, res, n);
		free(res);
	}
	corelist_free(&list);
	return rc;
}
