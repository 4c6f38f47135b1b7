/* finwave: the command. Parses arguments, loads the catalog, checks that
 * this machine can run cases, schedules them and maps outcomes to exit codes:
 *   0 every case passed (or was skipped)   1 a case failed or errored
 *   2 bad usage or an invalid case file    3 this environment cannot run cases
 *   130 interrupted (SIGINT/SIGTERM)
 * Nothing here touches the host namespace: cases build their own. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "claims.h"
#include "engine.h"
#include "fault.h"
#include "intercept.h"
#include "netns.h"
#include "report.h"
#include "requires.h"
#include "scheduler.h"
#include "util.h"

enum exit_code {
	EXIT_ALL_PASSED = 0,
	EXIT_CASE_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_ENVIRONMENT = 3,
	EXIT_INTERRUPTED = 130,
};

#define MAX_WRITERS 8
#define FW_MAX_JOBS 256 /* --jobs at most, and the default's cap */

struct options {
	const char *report_dir;
	const char *format; /* a name in report_stdout_writers */
	const char *filter;
	long jobs;
	long repeat;                /* --repeat: runs of each case */
	bool slow;                  /* --slow: also the cases that wait out long timers */
	const char *claims_file;    /* --claims: the claims list (docs/claims.md) */
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: finwave run   [options] PATH...   run the cases (files or directories)\n"
		"       finwave check [--shard K/N] PATH...  validate case files, run nothing\n"
		"       finwave list  [--shard K/N] PATH...  case names and summaries\n"
		"       finwave claims [options] PATH...     run the cases, then print per claim whether it\n"
		"                                            holds on this kernel, and why not\n"
		"       finwave claims --results FILE        the same from a saved results.json\n"
		"       finwave claims DIR                   ... or from DIR/results.json of --report-dir\n"
		"options for run:\n"
		"  --report-dir DIR   write DIR/results.{tap,xml,json}, DIR/<case>.pcap,\n"
		"                     DIR/index.html and DIR/cases/<case>.html (ladder diagrams)\n"
		"  --format FMT       what goes to stdout: console (default), tap, junit or json\n"
		"  --jobs N           cases run at once (default: 16 x CPUs, at most 256; cases mostly wait)\n"
		"  --filter GLOB      only cases whose name matches (fnmatch)\n"
		"  --shard K/N        only the K-th of N disjoint parts of the catalog (after --filter)\n"
		"  --repeat N         run each case N times; a verdict that changes fails the run\n"
		"  --slow             also run the cases marked slow (they wait out 60 s timers)\n"
		"  --claims FILE      the claims list for 'claims' (default docs/claims.md)\n"
		"  --verbose          print each case's timeline\n"
		"  --quiet            print only failures and the summary\n"
		"exit codes: 0 all passed, 1 a case failed, 2 bad usage or case file,\n"
		"            3 environment cannot run cases, 130 interrupted\n");
}

/* ---- run ------------------------------------------------------------------ */

struct run_state {
	const struct report_ops *writers[MAX_WRITERS];
	void *wstate[MAX_WRITERS];
	size_t nwriters;
	struct report_summary sum;
	bool writer_failed;
};

static void on_case_done(void *ctx, size_t index, const struct case_result *r)
{
	struct run_state *rs = ctx;
	size_t i;

	rs->sum.counts[r->status]++;
	for (i = 0; i < rs->nwriters; i++)
		if (rs->writers[i]->case_done(rs->wstate[i], r, index) < 0 && !rs->writer_failed) {
			fprintf(stderr, "finwave: %s report for %s could not be written\n",
				rs->writers[i]->name, r->name);
			rs->writer_failed = true;
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

/* Can this machine run cases at all? Exit code 3 material. */
static int preflight(const struct catalog *cat, char *err, size_t errlen, int *exit_code)
{
	struct fault_rule probe_rule = { .name = "preflight", .from = HOST_CLIENT,
					 .flags_mask = SEG_FIN, .flags_value = SEG_FIN, .nth = 1,
					 .count = 1, .action = FAULT_DROP, .armed = true };
	struct intercept_config icfg = { 0 };
	struct fault_set *fs = NULL;
	struct intercept *ic = NULL;
	bool need_queue = false;
	int ns, ret;
	size_t i;

	*exit_code = EXIT_ENVIRONMENT;
	ns = netns_create();
	if (ns < 0)
		return fw_err(err, errlen, ns,
			      "cannot create a network namespace (%s): finwave needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); run it as root",
			      strerror(-ns));
	ret = mark_skips(cat, ns, err, errlen);
	for (i = 0; i < cat->n; i++)
		need_queue |= cat->cases[i]->nfaults > 0 && !cat->cases[i]->skip[0];
	if (ret == 0 && need_queue) {
		ret = fault_set_create(&fs, &probe_rule, 1);
		if (ret == 0) {
			icfg.wire_ns_fd = ns;
			icfg.in_ifname[HOST_CLIENT] = "lo";
			icfg.in_ifname[HOST_SERVER] = "lo";
			icfg.faults = fs;
			icfg.namespace_dies = true; /* closed just below */
			ret = intercept_open(&ic, &icfg, err, errlen);
		}
		intercept_free(ic);
		fault_set_free(fs);
	}
	close(ns);
	if (ret == 0)
		*exit_code = EXIT_ALL_PASSED;
	return ret;
}

static int add_writer(struct run_state *rs, const struct report_ops *ops,
		      const struct report_ctx *ctx)
{
	int ret = ops->begin(ctx, &rs->wstate[rs->nwriters]);

	if (ret < 0) {
		fprintf(stderr, "finwave: cannot start the %s report in %s: %s\n", ops->name,
			ctx->dir ? ctx->dir : "stdout", strerror(-ret));
		return ret;
	}
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
		for (k = CASE_PASS; k <= CASE_ERROR; k++)
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
	 * limit (README "Benchmarks"); at most what --jobs accepts. */
	long jobs = cpus > 0 ? 16 * cpus : 16;

	return jobs < FW_MAX_JOBS ? jobs : FW_MAX_JOBS;
}

static int cmd_run(const struct options *o, struct catalog *cat)
{
	bool tty = isatty(STDOUT_FILENO);
	struct report_ctx ctx = { .out = stdout, .dir = o->report_dir, .verbose = o->verbose,
				  .quiet = o->quiet, .color = tty && !getenv("NO_COLOR"),
				  .progress = tty, .claims_file = o->claims_file };
	struct sched_config scfg = { .jobs = (size_t)o->jobs, .repeat = (unsigned)o->repeat };
	const char **names;
	struct run_state rs;
	char err[FW_ERRLEN];
	bool flipped = false;
	int64_t t0 = fw_now_ns();
	int code, ret;
	size_t i;

	if (preflight(cat, err, sizeof(err), &code) < 0) {
		fprintf(stderr, "finwave: %s\n", err);
		return code;
	}
	if (stop_requested)
		return EXIT_INTERRUPTED;
	memset(&rs, 0, sizeof(rs));
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
	if (ret < 0) {
		for (i = 0; i < rs.nwriters; i++)
			rs.writers[i]->end(rs.wstate[i], &rs.sum);
		free(names);
		free(scfg.tally);
		return EXIT_USAGE;
	}
	ret = sched_run(cat->cases, cat->n, &scfg, &stop_requested, on_case_done, &rs);
	rs.sum.wall_ns = fw_now_ns() - t0;
	rs.sum.interrupted = ret == -EINTR;
	for (i = 0; i < rs.nwriters; i++)
		if (rs.writers[i]->end(rs.wstate[i], &rs.sum) < 0) {
			fprintf(stderr, "finwave: the %s report could not be written\n",
				rs.writers[i]->name);
			rs.writer_failed = true;
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
	if (rs.sum.counts[CASE_FAIL] || rs.sum.counts[CASE_ERROR] || rs.writer_failed || flipped)
		return EXIT_CASE_FAILED;
	return EXIT_ALL_PASSED;
}

/* ---- check / list ----------------------------------------------------------- */

static int cmd_check(const struct catalog *cat)
{
	printf("valid: %zu run(s) (each file runs once per family and matrix row)\n", cat->n);
	return EXIT_ALL_PASSED;
}

static int cmd_list(const struct catalog *cat)
{
	size_t i, k;

	for (i = 0; i < cat->n; i++) {
		const struct fw_case *c = cat->cases[i];

		printf("%-40s %s", c->name, c->summary);
		if (c->nclaims) {
			printf(" [");
			for (k = 0; k < c->nclaims; k++)
				printf("%s%s", k ? " " : "", c->claims[k]);
			printf("]");
		}
		putchar('\n');
	}
	return EXIT_ALL_PASSED;
}

/* ---- main ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	bool runs;
} commands[] = { { "run", true }, { "check", false }, { "list", false }, { "claims", true } };

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

/* finwave claims --results FILE: the table from a saved run. */
static int cmd_claims_saved(const struct options *o)
{
	const char *path = o->claims_file ? o->claims_file : "docs/claims.md";
	struct case_result *res = NULL;
	struct claim *claims = NULL;
	size_t nres = 0, nclaims = 0, i;
	char err[FW_ERRLEN];

	if (claims_load(path, &claims, &nclaims, err, sizeof(err)) < 0) {
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "report-dir", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "filter", required_argument, NULL, 'F' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "slow", no_argument, NULL, 's' },
		{ "claims", required_argument, NULL, 'C' },
		{ "results", required_argument, NULL, 'J' },
		{ "shard", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .format = "console", .jobs = default_jobs(), .repeat = 1 };
	struct sigaction sa;
	struct catalog cat;
	char err[FW_ERRLEN];
	const char *cmd;
	size_t ci;
	int opt, code;

	/* First thing: a stop request at any moment must end in an orderly exit
	 * (a background shell job even starts with SIGINT ignored). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_ALL_PASSED;
	}
	cmd = argv[1];
	for (ci = 0; ci < sizeof(commands) / sizeof(commands[0]); ci++)
		if (strcmp(commands[ci].name, cmd) == 0)
			break;
	if (ci == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "finwave: unknown command '%s' (expected run, check, list, claims)\n", cmd);
		return EXIT_USAGE;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "hvq", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o.report_dir = optarg;
			break;
		case 'f':
			if (!report_stdout_find(optarg)) {
				char names[128] = "";
				size_t used = 0, w;

				/* from the table, so a new writer is never missing here */
				for (w = 0; report_stdout_writers[w] && used < sizeof(names); w++)
					used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
								 w ? ", " : "", report_stdout_writers[w]->name);
				fprintf(stderr, "finwave: unknown format '%s' (expected %s)\n", optarg, names);
				return EXIT_USAGE;
			}
			o.format = optarg;
			break;
		case 'j':
			if (parse_count("--jobs", optarg, FW_MAX_JOBS, &o.jobs) < 0)
				return EXIT_USAGE;
			break;
		case 'F':
			o.filter = optarg;
			break;
		case 'R':
			if (parse_count("--repeat", optarg, 10000, &o.repeat) < 0)
				return EXIT_USAGE;
			break;
		case 'S':
			if (catalog_shard_parse(optarg, &o.shard_k, &o.shard_n, err, sizeof(err)) < 0) {
				fprintf(stderr, "finwave: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			o.verbose = true;
			break;
		case 's':
			o.slow = true;
			break;
		case 'C':
			o.claims_file = optarg;
			break;
		case 'J':
			o.results = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_ALL_PASSED;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* --shard also selects for list and check: what will this machine run? */
	if (!commands[ci].runs && (o.report_dir || o.filter || o.verbose || o.quiet ||
				   o.repeat != 1)) {
		fprintf(stderr, "finwave: options apply only to 'run'\n");
		return EXIT_USAGE;
	}
	if (o.results && strcmp(cmd, "claims") != 0) {
		fprintf(stderr, "finwave: --results applies only to 'claims'\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "claims") == 0) {
		static char saved[4096];

		/* "finwave claims out/": a report directory holds the last results */
		if (!o.results && argc - optind == 1 &&
		    snprintf(saved, sizeof(saved), "%s/results.json", argv[optind]) < (int)sizeof(saved) &&
		    access(saved, R_OK) == 0)
			o.results = saved;
		if (o.results)
			return cmd_claims_saved(&o);
		o.format = "claims";
		o.quiet = true;
	}
	if (optind >= argc) {
		fprintf(stderr, "finwave: %s needs at least one case file or directory (e.g. cases/)\n", cmd);
		return EXIT_USAGE;
	}
	if (catalog_load(&cat, argv + optind, (size_t)(argc - optind), err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	/* list shows what run would run; check validates every file */
	if (!o.slow && strcmp(cmd, "check") != 0) {
		size_t left = catalog_drop_slow(&cat);

		if (left && commands[ci].runs)
			fprintf(stderr, "finwave: %zu slow run(s) left out (--slow runs them)\n", left);
		if (cat.n == 0) {
			fprintf(stderr, "finwave: every selected case is slow: add --slow to run them\n");
			catalog_free(&cat);
			return EXIT_USAGE;
		}
	}
	if (o.filter) {
		catalog_filter(&cat, o.filter);
		if (cat.n == 0) {
			fprintf(stderr, "finwave: no case matches --filter '%s'\n", o.filter);
			catalog_free(&cat);
			return EXIT_USAGE;
		}
	}
	if (o.shard_n) {
		size_t whole = cat.n;

		if (catalog_shard(&cat, o.shard_k, o.shard_n) < 0) {
			fprintf(stderr, "finwave: out of memory\n");
			catalog_free(&cat);
			return EXIT_ENVIRONMENT;
		}
		/* More shards than cases: some machine gets none, and that is no error. */
		if (cat.n == 0) {
			fprintf(stderr, "finwave: shard %u/%u holds no case (the selection has %zu)\n",
				o.shard_k, o.shard_n, whole);
			catalog_free(&cat);
			return EXIT_ALL_PASSED;
		}
	}
	if (commands[ci].runs)
		code = cmd_run(&o, &cat);
	else if (strcmp(cmd, "check") == 0)
		code = cmd_check(&cat);
	else
		code = cmd_list(&cat);
	catalog_free(&cat);
	return code;
}
