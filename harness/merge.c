/* finwave merge [--report-dir OUT] [--claims FILE] [--quiet] DIR...
 * One report from several --report-dirs: the shards of one kernel (--shard
 * K/N runs on several CI machines) join into one column, different kernels
 * become columns side by side. With OUT: the merged report of each kernel
 * (OUT itself for one kernel, OUT/kernels/RELEASE for several) and
 * OUT/matrix.json, OUT/matrix.html. The matrix goes to stdout.
 * Exit: 0 every case passed or was skipped, 1 a case failed, errored or a
 * kernel has no results, 2 bad usage or an unreadable directory. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath.h"
#include "lab.h"
#include "matrix.h"
#include "report.h"
#include "util.h"

/* Every --report-dir writer fed with one column's results, as a run would. */
static int merge_report_write(const struct matrix_kernel *k, const char *dir,
			      const char *claims_file)
{
	const struct report_ops *const *w = report_dir_writers;
	void *state[16];
	const char **names = calloc(k->nres + 1, sizeof(*names));
	struct report_ctx ctx = { .out = stdout, .dir = dir, .total = k->nres,
				  .claims_file = claims_file };
	struct report_summary sum = { .wall_ns = k->wall_ns, .interrupted = k->interrupted,
				      .kernel_release = k->label, .kernel_version = k->version };
	struct report_dir *rd = NULL;
	char err[FW_ERRLEN];
	size_t i, n = 0, started = 0;
	int ret = names ? 0 : -ENOMEM;

	if (ret == 0)
		ret = report_dir_open(dir, &rd, err, sizeof(err));
	if (ret < 0 && rd == NULL && names)
		fprintf(stderr, "finwave: %s\n", err);
	ctx.rdir = rd;

	for (i = 0; names && i < k->nres; i++) {
		names[i] = k->res[i].name;
		sum.counts[k->res[i].status]++;
	}
	ctx.names = names;
	while (ret == 0 && w[n]) {
		ret = w[n]->begin(&ctx, &state[n]);
		if (ret == 0)
			started = ++n;
	}
	for (i = 0; ret == 0 && i < k->nres; i++) {
		size_t j;

		for (j = 0; j < started && ret == 0; j++)
			ret = w[j]->case_done(state[j], &k->res[i], i);
	}
	for (i = 0; i < started; i++)
		if (w[i]->end(state[i], &sum) < 0 && ret == 0)
			ret = -EIO;
	if (rd && report_dir_error(rd)[0])
		fprintf(stderr, "finwave: %s\n", report_dir_error(rd));
	report_dir_close(rd);
	free(names);
	return ret;
}

static void merge_usage(FILE *f)
{
	fprintf(f, "usage: finwave merge [--report-dir OUT] [--claims FILE] [--quiet] DIR...\n"
		   "  joins the results.json of several 'finwave run --report-dir DIR' runs: the\n"
		   "  shards of one kernel into one report, several kernels into one matrix\n"
		   "  (claims x kernels, cases x kernels). OUT gets each kernel's merged report\n"
		   "  (OUT/kernels/RELEASE when there are several) and matrix.json, matrix.html.\n");
}

int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "report-dir", required_argument, NULL, 'r' },
		{ "claims", required_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *claims_file = NULL;
	struct matrix m = { 0 };
	char err[FW_ERRLEN], sub[4096], outreal[PATH_MAX], inreal[PATH_MAX];
	bool quiet = false;
	int opt, code = 2, i, ret = 0;
	size_t k;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			out = optarg;
			break;
		case 'C':
			claims_file = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			merge_usage(stdout);
			return 0;
		default:
			merge_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "finwave: merge needs at least one report directory (written by 'finwave run --report-dir DIR')\n");
		return 2;
	}
	if (out && matrix_dir_make(out) < 0) {
		fprintf(stderr, "finwave: %s: cannot create the directory: %s\n", out, strerror(errno));
		return 2;
	}
	if (out && !realpath(out, outreal))
		outreal[0] = '\0';
	for (i = optind; i < argc && ret == 0; i++) {
		if (out && realpath(argv[i], inreal) && strcmp(inreal, outreal) == 0) {
			fprintf(stderr, "finwave: %s is both an input and --report-dir: merge into another directory\n",
				argv[i]);
			goto out;
		}
		ret = matrix_add_dir(&m, argv[i], NULL, err, sizeof(err));
	}
	if (ret < 0) {
		fprintf(stderr, "finwave: %s\n", err);
		goto out;
	}
	matrix_sort(&m);
	for (k = 0; out && k < m.nk; k++) {
		if (m.nk == 1)
			snprintf(sub, sizeof(sub), "%s", out);
		else if (snprintf(sub, sizeof(sub), "%s/kernels/%s", out, m.k[k].label) >=
			     (int)sizeof(sub) ||
			 matrix_dir_make(sub) < 0) {
			fprintf(stderr, "finwave: %s: cannot create the directory\n", sub);
			code = 1;
			goto out;
		}
		if (merge_report_write(&m.k[k], sub,
				       claims_file ? claims_file : datapath_find("claims.md")) < 0) {
			fprintf(stderr, "finwave: %s: the merged report could not be written\n", sub);
			code = 1;
			goto out;
		}
	}
	if (matrix_write(&m, claims_file ? claims_file : datapath_find("claims.md"),
			 claims_file != NULL, stdout, quiet, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "finwave: %s\n", err);
		goto out;
	}
	code = matrix_failed(&m) ? 1 : 0;
out:
	matrix_free(&m);
	return code;
}
