/* finwave: the command. Parses arguments, loads the catalog, checks that
 * this machine can run cases, schedules them and maps outcomes to exit codes:
 *   0 every case passed (or was skipped)   1 a case failed or errored
 *   2 bad usage or an invalid case file    3 this environment cannot run cases
 *   4 a report could not be written        130 interrupted (SIGINT/SIGTERM/SIGHUP)
 * Nothing here touches the host namespace: cases build their own. */
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "envcheck.h"
#include "datapath.h"
#include "listing.h"
#include "version.h"
#include "claims.h"
#include "engine.h"
#include "fault.h"
#include "intercept.h"
#include "lab.h"
#include "netns.h"
#include "proc.h"
#include "report.h"
#include "requires.h"
#include "sockev.h"
#include "scheduler.h"
#include "util.h"

enum exit_code {
	EXIT_ALL_PASSED = 0,
	EXIT_CASE_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_ENVIRONMENT = 3,
	EXIT_REPORT = 4, /* a report was not written (docs/reports.md): the evidence is lost */
	EXIT_INTERRUPTED = 130,
};

#define MAX_WRITERS 8
#define FW_MAX_JOBS 256 /* --jobs at most, and the default's cap */

struct options {
	const char *report_dir;
	const char *format; /* a name in report_stdout_writers */
	const char *filter;
	long jobs;
	bool jobs_given;            /* --jobs: a fixed number, no adaptive admission */
	bool allow_inconclusive;    /* --allow-inconclusive: INCONCLUSIVE does not fail the run */
	long repeat;                /* --repeat: runs of each case */
	bool slow;                  /* --slow: also the cases that wait out long timers */
	const char *claims_file;    /* --claims: the claims list (docs/claims.md) */
	const char *list_format;    /* list --format: text or markdown */
	const char *results;        /* --results: claims from a saved results.json */
	unsigned shard_k, shard_n; /* --shard K/N; 0/0 = the whole catalog */
	bool verbose, quiet;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- run ------------------------------------------------------------------ */

struct run_state {
	const struct report_ops *writers[MAX_WRITERS];
	void *wstate[MAX_WRITERS];
	size_t nwriters;
	struct report_summary sum;
	bool writer_failed;
	const struct report_ctx *ctx;
};

static void on_case_done(void *ctx, size_t index, const struct case_result *r)
{
	struct run_state *rs = ctx;
	size_t i;

	rs->sum.counts[r->status]++;
	for (i = 0; i < rs->nwriters; i++) {
		int ret = rs->writers[i]->case_done(rs->wstate[i], r, index);

		if (ret < 0 && !rs->writer_failed)
			report_error_print(rs->writers[i], rs->ctx, ret);
		rs->writer_failed |= ret < 0;
	}
}

/* Mark the runs this kernel cannot run: SKIP with the reason (requires.h). */
static int mark_skips(const struct catalog *cat, int ns, char *err, size_t errlen)
{
	struct requires_probe *probe = NULL;
	int ret = requires_probe_open(&probe, ns, err, errlen);
	size_t i;

	for (i = 0; i < cat->n && ret == 0; i++) {
		struct fw_case *c = cat->cases[i];

		ret = requires_check(probe, c, c->skip, sizeof(c->skip), err, errlen);
		if (ret > 0)
			ret = 0; /* c->skip says why */
	}
	requires_probe_free(probe);
	return ret;
}

/* A box's ruleset that nft refuses is a broken case file: checked (nft -c)
 * in the scratch namespace before anything runs. */
static int check_rulesets(const struct catalog *cat, int ns, char *err, size_t errlen)
{
	char nft[512], out[1024], line[256];
	size_t i;
	int ret;

	for (i = 0; i < cat->n; i++) {
		const struct fw_case *c = cat->cases[i];

		if (!c->dut.ruleset[0] || c->skip[0] || (i && !strcmp(c->path, cat->cases[i - 1]->path)))
			continue;
		if (proc_tool_find("nft", nft, sizeof(nft)) < 0)
			continue; /* the run is skipped: it needs nft */
		ret = proc_run_ns(ns, (char *const[]){ nft, "-c", "-f", (char *)c->dut.ruleset, NULL },
				  NULL, 10 * FW_NS_PER_SEC, out, sizeof(out));
		if (ret < 0) {
			proc_first_line(out, line, sizeof(line));
			return fw_err(err, errlen, -EINVAL, "%s:%d: ruleset %s does not load: %s", c->path,
				      c->dut.line, c->dut.ruleset, line);
		}
	}
	return 0;
}

/* An external box's interfaces must be here and free: they are moved into
 * the case's namespaces and given back. One that does not exist, is up or
 * has an address (in use by this machine) is refused before anything runs. */
static int check_interfaces(const struct catalog *cat, char *err, size_t errlen)
{
	struct ifaddrs *ifa = NULL, *a;
	size_t i, k;
	int ret = 0;

	for (i = 0; i < cat->n && ret == 0; i++) {
		const struct fw_dut *d = &cat->cases[i]->dut;

		for (k = 0; k < 2 && d->interfaces[0][0] && ret == 0; k++) {
			const char *name = d->interfaces[k];
			struct ifreq ifr;
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

			memset(&ifr, 0, sizeof(ifr));
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
			if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
				ret = fw_err(err, errlen, -ENODEV,
					     "%s:%d: dut interface %s: no such interface here (ip link shows the names)",
					     cat->cases[i]->path, d->line, name);
			else if (ifr.ifr_flags & IFF_UP)
				ret = fw_err(err, errlen, -EBUSY,
					     "%s:%d: dut interface %s is up, so something uses it; free it first: ip link set %s down",
					     cat->cases[i]->path, d->line, name, name);
			if (fd >= 0)
				close(fd);
			if (ret == 0 && !ifa && getifaddrs(&ifa) < 0)
				ifa = NULL;
			for (a = ifa; ret == 0 && a; a = a->ifa_next)
				if (a->ifa_addr && !strcmp(a->ifa_name, name) &&
				    (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6))
					ret = fw_err(err, errlen, -EBUSY,
						     "%s:%d: dut interface %s has an address, so something uses it; free it first: ip addr flush dev %s",
						     cat->cases[i]->path, d->line, name, name);
		}
	}
	if (ifa)
		freeifaddrs(ifa);
	return ret;
}

/* Can this machine run cases at all? Exit code 3 material. */
static int preflight(const struct catalog *cat, char *err, size_t errlen, int *exit_code)
{
	bool need_queue = false;
	int ns, ret;
	size_t i;

	*exit_code = EXIT_ENVIRONMENT;
	ns = netns_create();
	if (ns < 0)
		return fw_err(err, errlen, ns,
			      "cannot create a network namespace (%s): finwave needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); run it as root",
			      strerror(-ns));
	ret = envcheck_sysctl_writable(ns, err, errlen); /* exit 3: a read-only /proc/sys */
	if (ret == 0)
		ret = mark_skips(cat, ns, err, errlen);
	if (ret == 0 && (ret = check_rulesets(cat, ns, err, errlen)) < 0)
		*exit_code = EXIT_USAGE;
	if (ret == 0)
		ret = check_interfaces(cat, err, errlen); /* exit 3: this machine's, not the file's */
	for (i = 0; i < cat->n; i++)
		need_queue |= cat->cases[i]->nfaults > 0 && !cat->cases[i]->skip[0];
	/* not only "the kernel took the rule": a segment must really reach the queue */
	if (ret == 0 && need_queue) {
		ret = intercept_probe(err, errlen);
		if (ret == -EAGAIN) { /* load, not a verdict: the cases meet the same */
			fprintf(stderr, "finwave: preflight: %s; the interceptor is not proven\n", err);
			ret = 0;
		}
	}
	close(ns);
	if (ret == 0)
		*exit_code = EXIT_ALL_PASSED;
	return ret;
}

/* Runs that say what only socket events can decide (a state never
 * entered, a retransmission count) cannot be judged by polling: SKIP,
 * saying why, as for what a kernel lacks. */
static void mark_skips_events(struct catalog *cat, const char *why)
{
	size_t i;

	for (i = 0; i < cat->n; i++)
		if (!cat->cases[i]->skip[0] && case_needs_socket_events(cat->cases[i]))
			snprintf(cat->cases[i]->skip, sizeof(cat->cases[i]->skip),
				 "needs the kernel's socket events (BPF): %.160s", why);
}

/* Start a writer: 0, or the exit code (a report file that cannot be made: 4;
 * a stdout writer that cannot start, e.g. no claims list: 2). */
static int add_writer(struct run_state *rs, const struct report_ops *ops,
		      const struct report_ctx *ctx)
{
	int ret = ops->begin(ctx, &rs->wstate[rs->nwriters]);

	if (ret < 0 && ops->to_file)
		report_error_print(ops, ctx, ret);
	else if (ret < 0)
		fprintf(stderr, "finwave: cannot start the %s report: %s\n", ops->name, strerror(-ret));
	if (ret < 0)
		return ops->to_file ? EXIT_REPORT : EXIT_USAGE;
	rs->writers[rs->nwriters++] = ops;
	return 0;
}

/* --repeat: one stderr line per case whose verdict changed between runs
 * (stdout stays one format). Returns whether any did. */
static bool report_flips(const struct catalog *cat, const struct sched_tally *tally,
			 unsigned repeat)
{
	size_t i, flips = 0;
	int k;

	for (i = 0; i < cat->n; i++) {
		if (!sched_tally_flipped(&tally[i]))
			continue;
		flips++;
		fprintf(stderr, "finwave: verdict changed: %s:", cat->cases[i]->name);
		for (k = CASE_PASS; k < CASE_STATUS_COUNT; k++)
			if (tally[i].counts[k])
				fprintf(stderr, " %s %u/%u", case_status_name((enum case_status)k),
					tally[i].counts[k], repeat);
		fputc('\n', stderr);
	}
	if (flips)
		fprintf(stderr, "finwave: %zu of %zu case(s) changed verdict over %u runs\n", flips,
			cat->n, repeat);
	return flips > 0;
}

/* Every run's name in report order (what the progress line shows): with
 * --repeat, "<case>#2" and so on, as the scheduler names their results.
 * One allocation: free() the array. */
static const char **run_names(const struct catalog *cat, unsigned repeat)
{
	size_t total = cat->n * repeat, i;
	const char **names = malloc((total + 1) * sizeof(*names) + total * CASE_MAX_NAME);
	char *text = (char *)(names + total + 1);

	if (!names)
		return NULL;
	for (i = 0; i < total; i++) {
		names[i] = text + i * CASE_MAX_NAME;
		sched_run_name(cat->cases[i % cat->n]->name, i, cat->n, text + i * CASE_MAX_NAME,
			       CASE_MAX_NAME);
	}
	names[total] = NULL;
	return names;
}

static long default_jobs(void)
{
	cpu_set_t set;
	/* The CPUs we may run on (a CI container's affinity), not the host's. */
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) :
								   sysconf(_SC_NPROCESSORS_ONLN);

	/* Cases mostly sleep on kernel timers (about 40 ms of CPU in a 0.1-4 s
	 * case): 16 per CPU overlap them until the CPUs, not the waits, are the
	 * limit (docs/benchmarks.md); at most what --jobs accepts. */
	long jobs = cpus > 0 ? 16 * cpus : 16;

	return jobs < FW_MAX_JOBS ? jobs : FW_MAX_JOBS;
}

static int cmd_run_reports(struct options *o, struct catalog *cat, struct report_dir *rdir)
{
	bool tty = isatty(STDOUT_FILENO);
	struct report_ctx ctx = { .out = stdout, .dir = o->report_dir, .rdir = rdir, .verbose = o->verbose,
				  .quiet = o->quiet, .color = tty && !getenv("NO_COLOR"),
				  .progress = tty, .claims_file = o->claims_file };
	struct sched_config scfg = { .jobs = (size_t)o->jobs, .repeat = (unsigned)o->repeat,
				     .adaptive = !o->jobs_given };
	const char **names;
	struct run_state rs;
	char err[FW_ERRLEN];
	bool flipped = false;
	int64_t t0 = fw_now_ns();
	int code, ret;
	size_t i;

	if (envcheck_nofile(scfg.jobs, err, sizeof(err)) < 0) {
		fprintf(stderr, "finwave: %s\n", err);
		return EXIT_ENVIRONMENT;
	}
	if (preflight(cat, err, sizeof(err), &code) < 0) {
		fprintf(stderr, "finwave: %s\n", err);
		return code;
	}
	if (stop_requested)
		return EXIT_INTERRUPTED;
	/* Socket states as events: loaded once here, shared by every case
	 * process forked from now on. Without them cases poll, as they always
	 * could: said once, and no case fails for it. */
	if (sockev_load(err, sizeof(err)) < 0) {
		fprintf(stderr, "finwave: socket states are polled with sock_diag, not traced: %s\n",
			err);
		mark_skips_events(cat, err);
	}
	memset(&rs, 0, sizeof(rs));
	rs.ctx = &ctx;
	ctx.total = cat->n * scfg.repeat;
	if (scfg.repeat > 1) {
		scfg.tally = calloc(cat->n, sizeof(*scfg.tally));
		if (!scfg.tally) {
			fprintf(stderr, "finwave: out of memory\n");
			return EXIT_ENVIRONMENT;
		}
	}
	names = run_names(cat, scfg.repeat);
	if (!names) {
		free(scfg.tally);
		return EXIT_ENVIRONMENT;
	}
	ctx.names = names;
	ret = add_writer(&rs, report_stdout_find(o->format), &ctx);
	for (i = 0; o->report_dir && ret == 0 && report_dir_writers[i]; i++)
		ret = add_writer(&rs, report_dir_writers[i], &ctx);
	if (ret > 0) { /* an exit code */
		for (i = 0; i < rs.nwriters; i++)
			rs.writers[i]->end(rs.wstate[i], &rs.sum);
		free(names);
		free(scfg.tally);
		return ret;
	}
	ret = sched_run(cat->cases, cat->n, &scfg, &stop_requested, on_case_done, &rs);
	rs.sum.wall_ns = fw_now_ns() - t0;
	rs.sum.interrupted = ret == -EINTR;
	for (i = 0; i < rs.nwriters; i++) {
		int wret = rs.writers[i]->end(rs.wstate[i], &rs.sum);

		if (wret < 0 && !rs.writer_failed)
			report_error_print(rs.writers[i], &ctx, wret);
		rs.writer_failed |= wret < 0;
	}
	free(names);
	if (ret == 0 && scfg.tally)
		flipped = report_flips(cat, scfg.tally, scfg.repeat);
	free(scfg.tally);
	if (ret == -EINTR)
		return EXIT_INTERRUPTED;
	if (ret < 0) {
		fprintf(stderr, "finwave: cannot run cases: %s\n", strerror(-ret));
		return EXIT_ENVIRONMENT;
	}
	if (rs.writer_failed) /* before FAIL: a verdict whose evidence is lost is no verdict */
		return EXIT_REPORT;
	if (rs.sum.counts[CASE_FAIL] || rs.sum.counts[CASE_ERROR] || flipped ||
	    (rs.sum.counts[CASE_INCONCLUSIVE] && !o->allow_inconclusive))
		return EXIT_CASE_FAILED;
	return EXIT_ALL_PASSED;
}

/* The report directory is opened (and refused) before anything runs. */
static int cmd_run(struct options *o, struct catalog *cat)
{
	struct report_dir *rdir = NULL;
	char err[FW_ERRLEN];
	int code;

	if (o->report_dir && report_dir_open(o->report_dir, &rdir, err, sizeof(err)) < 0) {
		fprintf(stderr, "finwave: %s\n", err);
		return EXIT_REPORT;
	}
	code = cmd_run_reports(o, cat, rdir);
	report_dir_close(rdir);
	return code;
}

/* ---- check / list / claims --------------------------------------------------- */

static int cmd_check(struct options *o, struct catalog *cat)
{
	(void)o;
	printf("valid: %zu run(s) (each file runs once per family and matrix row)\n", cat->n);
	return EXIT_ALL_PASSED;
}

static int cmd_list(struct options *o, struct catalog *cat)
{
	return listing_print(stdout, o->list_format, cat) < 0 ? EXIT_USAGE : EXIT_ALL_PASSED;
}

/* finwave claims --results FILE: the table from a saved run. */
static int cmd_claims_saved(const struct options *o)
{
	struct case_result *res = NULL;
	struct claim *claims = NULL;
	size_t nres = 0, nclaims = 0, i;
	char err[FW_ERRLEN];

	if (claims_load(o->claims_file, &claims, &nclaims, err, sizeof(err)) < 0) {
		fprintf(stderr, "finwave: %s (give the claims list with --claims FILE)\n", err);
		return EXIT_USAGE;
	}
	if (claims_read_results(o->results, &res, &nres, err, sizeof(err)) < 0) {
		fprintf(stderr, "finwave: %s\n", err);
		free(claims);
		return EXIT_USAGE;
	}
	claims_print(stdout, claims, nclaims, res, nres);
	for (i = 0; i < nres; i++)
		result_clear(&res[i]);
	free(res);
	free(claims);
	return EXIT_ALL_PASSED;
}

static int cmd_claims(struct options *o, struct catalog *cat)
{
	o->format = "claims";
	o->quiet = true;
	return cmd_run(o, cat);
}

/* ---- the command table and the options (wireguard-tools' wg.c) --------------- */

enum { CMD_RUN = 1, CMD_CHECK = 2, CMD_LIST = 4, CMD_CLAIMS = 8, CMD_ALL = 15 };

static const struct command {
	const char *name, *args, *help;
	unsigned bit;
	bool runs; /* runs cases: slow ones are left out unless --slow */
	int (*fn)(struct options *o, struct catalog *cat);
} commands[] = {
	{ "run", "[options] [PATH...]", "run the cases (files or directories; default: the catalog)",
	  CMD_RUN, true, cmd_run },
	{ "check", "[--shard K/N] [PATH...]", "validate case files, run nothing", CMD_CHECK, false,
	  cmd_check },
	{ "list", "[--format text|markdown] [--slow] [PATH...]", "case names, summaries and claims",
	  CMD_LIST, false, cmd_list },
	{ "claims", "[options] [PATH... | DIR | --results FILE]",
	  "per claim: whether it holds on this kernel, and why not (runs the cases, or reads DIR/results.json)",
	  CMD_CLAIMS, true, cmd_claims },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option_doc {
	struct option opt;
	const char *arg;
	unsigned cmds; /* the commands it applies to */
	const char *help;
} option_docs[] = {
	{ { "report-dir", required_argument, NULL, 'r' }, "DIR", CMD_RUN | CMD_CLAIMS,
	  "write every report into DIR: results.{tap,xml,json}, <case>.pcap, index.html, cases/<case>.html" },
	{ { "format", required_argument, NULL, 'f' }, "FMT", CMD_RUN | CMD_CLAIMS | CMD_LIST,
	  "what goes to stdout (run: %s; list: %s)" },
	{ { "jobs", required_argument, NULL, 'j' }, "N", CMD_RUN | CMD_CLAIMS,
	  "cases run at once (default: adaptive, 2 per CPU and fewer while the harness measures "
	  "itself running late, up to 16 per CPU; at most 256)" },
	{ { "allow-inconclusive", no_argument, NULL, 'I' }, NULL, CMD_RUN | CMD_CLAIMS,
	  "runs the harness's own lateness spoiled (INCONCLUSIVE) do not fail the run" },
	{ { "filter", required_argument, NULL, 'F' }, "GLOB", CMD_RUN | CMD_CLAIMS | CMD_LIST,
	  "only cases whose name matches (fnmatch)" },
	{ { "shard", required_argument, NULL, 'S' }, "K/N", CMD_ALL,
	  "only the K-th of N disjoint parts of the selection (after --filter)" },
	{ { "repeat", required_argument, NULL, 'R' }, "N", CMD_RUN | CMD_CLAIMS,
	  "run each case N times; a verdict that changes fails the run" },
	{ { "slow", no_argument, NULL, 's' }, NULL, CMD_RUN | CMD_CLAIMS | CMD_LIST,
	  "also the cases marked slow (they wait out 60 s timers)" },
	{ { "claims", required_argument, NULL, 'C' }, "FILE", CMD_RUN | CMD_CLAIMS,
	  "the claims list (default: the installed claims.md)" },
	{ { "results", required_argument, NULL, 'J' }, "FILE", CMD_CLAIMS,
	  "claims: the table from a saved results.json instead of a run" },
	{ { "verbose", no_argument, NULL, 'v' }, NULL, CMD_RUN | CMD_CLAIMS,
	  "print each case's timeline" },
	{ { "quiet", no_argument, NULL, 'q' }, NULL, CMD_RUN, "print only failures and the summary" },
	{ { "version", no_argument, NULL, 'V' }, NULL, CMD_ALL, "print the version and exit" },
	{ { "help", no_argument, NULL, 'h' }, NULL, CMD_ALL, "print this help and exit" },
};
#define NOPTIONS (sizeof(option_docs) / sizeof(option_docs[0]))

/* "console, tap, junit, json, claims": from the writers' table, so a new
 * writer is never missing from --help or an error message. */
static void stdout_format_names(char *buf, size_t len)
{
	size_t used = 0, w;

	buf[0] = '\0';
	for (w = 0; report_stdout_writers[w] && used < len; w++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", w ? ", " : "",
					 report_stdout_writers[w]->name);
}

static void usage(FILE *f)
{
	char formats[128], line[64];
	size_t i;

	stdout_format_names(formats, sizeof(formats));
	fprintf(f, "usage:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  finwave %s %s\n      %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(f, "  finwave merge [--report-dir OUT] DIR...\n      one report from several --report-dirs (shards, kernels): claims/cases x kernels\n"
		   "  finwave lab --kernel K... --report-dir OUT [options] [PATH...]\n      the selection on each kernel K under qemu (finwave lab --help)\n");
	fprintf(f, "  finwave --version | --help\noptions:\n");
	for (i = 0; i < NOPTIONS; i++) {
		const struct option_doc *d = &option_docs[i];

		snprintf(line, sizeof(line), "--%s%s%s", d->opt.name, d->arg ? " " : "",
			 d->arg ? d->arg : "");
		fprintf(f, "  %-18s ", line);
		fprintf(f, d->help, formats, listing_format_names());
		fputc('\n', f);
	}
	fprintf(f, "exit codes: 0 all passed (skips included), 1 a case failed or errored,\n"
		   "            2 bad usage or case file, 3 environment cannot run cases,\n"
		   "            4 a report could not be written (report dir refused, disk or stdout full),\n"
		   "            130 interrupted (SIGINT, SIGTERM, SIGHUP)\n"
		   "PATH defaults to the catalog (%s). More: man finwave, man finwave-case.\n",
		datapath_find("cases") ? datapath_find("cases") : "not found");
}

static void print_version(void)
{
	printf("finwave %s%s%s\n", FW_VERSION, FW_GIT_DESCRIBE[0] ? " (git " : "",
	       FW_GIT_DESCRIBE[0] ? FW_GIT_DESCRIBE ")" : "");
}

/* A whole number from 1 to max for OPT, or a one-line error and -1. */
static int parse_count(const char *opt, const char *arg, long max, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < 1 || v > max) {
		fprintf(stderr, "finwave: %s needs a number from 1 to %ld, not '%s'\n", opt, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* One option; 0, 1 to stop with EXIT_ALL_PASSED (--help, --version), or -1. */
static int take_option(struct options *o, const struct command *cmd, int opt, const char *arg)
{
	char err[FW_ERRLEN], names[128];
	size_t i;

	for (i = 0; i < NOPTIONS && option_docs[i].opt.val != opt; i++)
		;
	if (i == NOPTIONS)
		return -1; /* getopt said what */
	if (!(option_docs[i].cmds & cmd->bit)) {
		fprintf(stderr, "finwave: --%s does not apply to '%s'\n", option_docs[i].opt.name,
			cmd->name);
		return -1;
	}
	switch (opt) {
	case 'r': o->report_dir = arg; return 0;
	case 'F': o->filter = arg; return 0;
	case 'v': o->verbose = true; return 0;
	case 's': o->slow = true; return 0;
	case 'C': o->claims_file = arg; return 0;
	case 'J': o->results = arg; return 0;
	case 'q': o->quiet = true; return 0;
	case 'h': usage(stdout); return 1;
	case 'V': print_version(); return 1;
	case 'j':
		o->jobs_given = true;
		return parse_count("--jobs", arg, FW_MAX_JOBS, &o->jobs);
	case 'I': o->allow_inconclusive = true; return 0;
	case 'R': return parse_count("--repeat", arg, 10000, &o->repeat);
	case 'S':
		if (catalog_shard_parse(arg, &o->shard_k, &o->shard_n, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "finwave: %s\n", err);
		return -1;
	case 'f':
		if (cmd->bit == CMD_LIST) {
			if (listing_find(arg)) {
				o->list_format = arg;
				return 0;
			}
			fprintf(stderr, "finwave: unknown list format '%s' (expected %s)\n", arg,
				listing_format_names());
			return -1;
		}
		if (report_stdout_find(arg)) {
			o->format = arg;
			return 0;
		}
		stdout_format_names(names, sizeof(names));
		fprintf(stderr, "finwave: unknown format '%s' (expected %s)\n", arg, names);
		return -1;
	}
	return -1;
}

/* Options after the command; returns optind, or -1 / -2 (stop, exit 0). */
static int parse_options(struct options *o, const struct command *cmd, int argc, char **argv)
{
	struct option longopts[NOPTIONS + 1];
	size_t i;
	int opt, ret;

	for (i = 0; i < NOPTIONS; i++)
		longopts[i] = option_docs[i].opt;
	memset(&longopts[NOPTIONS], 0, sizeof(longopts[NOPTIONS]));
	optind = 2;
	while ((opt = getopt_long(argc, argv, "hvqV", longopts, NULL)) != -1) {
		ret = opt == '?' ? -1 : take_option(o, cmd, opt, optarg);
		if (ret)
			return ret < 0 ? -1 : -2;
	}
	return optind;
}

/* Take out slow runs, apply --filter and --shard. Returns -1 to go on, or
 * the exit code to end with. */
static int select_runs(const struct options *o, const struct command *cmd, struct catalog *cat)
{
	size_t whole, left;

	if (!o->slow && cmd->bit != CMD_CHECK && (left = catalog_drop_slow(cat))) {
		fprintf(stderr, "finwave: %zu slow run(s) left out (--slow %s them)\n", left,
			cmd->runs ? "runs" : "lists");
		if (cat->n == 0) {
			fprintf(stderr, "finwave: every selected case is slow: add --slow\n");
			return EXIT_USAGE;
		}
	}
	if (o->filter) {
		catalog_filter(cat, o->filter);
		if (cat->n == 0) {
			fprintf(stderr, "finwave: no case matches --filter '%s'\n", o->filter);
			return EXIT_USAGE;
		}
	}
	if (!o->shard_n)
		return -1;
	whole = cat->n;
	if (catalog_shard(cat, o->shard_k, o->shard_n) < 0) {
		fprintf(stderr, "finwave: out of memory\n");
		return EXIT_ENVIRONMENT;
	}
	/* More shards than cases: some machine gets none, and that is no error. */
	if (cat->n == 0) {
		fprintf(stderr, "finwave: shard %u/%u holds no case (the selection has %zu)\n",
			o->shard_k, o->shard_n, whole);
		return EXIT_ALL_PASSED;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct options o = { .format = "console", .list_format = "text", .jobs = default_jobs(),
			     .repeat = 1 };
	char *default_paths[] = { (char *)datapath_find("cases"), NULL };
	char **paths = argv;
	struct sigaction sa;
	struct catalog cat;
	char err[FW_ERRLEN];
	const struct command *cmd = NULL;
	size_t i;
	int first, npaths, code;

	/* First thing: a stop request at any moment must end in an orderly exit
	 * (a background shell job even starts with SIGINT ignored). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a closed terminal or CI step: like SIGTERM */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_ALL_PASSED;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") || !strcmp(argv[1], "version")) {
		print_version();
		return EXIT_ALL_PASSED;
	}
	if (strcmp(argv[1], "merge") == 0)
		return cmd_merge(argc, argv);
	if (strcmp(argv[1], "lab") == 0)
		return cmd_lab(argc, argv);
	for (i = 0; i < NCOMMANDS && !cmd; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "finwave: unknown command '%s' (expected run, check, list, claims, merge, lab; finwave --help)\n",
			argv[1]);
		return EXIT_USAGE;
	}
	first = parse_options(&o, cmd, argc, argv);
	if (first < 0)
		return first == -2 ? EXIT_ALL_PASSED : EXIT_USAGE;
	if (!o.claims_file)
		o.claims_file = datapath_find("claims.md");
	npaths = argc - first;
	paths = argv + first;
	if (cmd->bit == CMD_CLAIMS) {
		static char saved[4096];

		/* "finwave claims out/": a report directory holds the last results */
		if (!o.results && npaths == 1 &&
		    snprintf(saved, sizeof(saved), "%s/results.json", paths[0]) < (int)sizeof(saved) &&
		    access(saved, R_OK) == 0)
			o.results = saved;
		if (o.results)
			return cmd_claims_saved(&o);
	}
	if (npaths == 0) { /* the catalog: installed, or the repository's */
		if (!default_paths[0]) {
			fprintf(stderr, "finwave: %s needs a case file or directory (no installed catalog found)\n",
				cmd->name);
			return EXIT_USAGE;
		}
		paths = default_paths;
		npaths = 1;
	}
	if (catalog_load(&cat, paths, (size_t)npaths, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	code = select_runs(&o, cmd, &cat);
	if (code < 0)
		code = cmd->fn(&o, &cat);
	catalog_free(&cat);
	return code;
}
