#include "matrix.h"

#include <errno.h>
#include <stdint.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "claims.h"
#include "report.h"
#include "util.h"

/* What one cell says. The JSON word is the stable name; the console word
 * fits a column. */
enum cell_status {
	CELL_PASS,
	CELL_FAIL,
	CELL_ERROR,
	CELL_SKIPPED,
	CELL_HOLDS,
	CELL_HOLDS_IF,
	CELL_DOES_NOT_HOLD,
	CELL_UNCONFIRMED,
	CELL_NOT_TESTABLE, /* a claim whose every run was skipped on this kernel */
	CELL_NOT_COVERED,
	CELL_MISSING, /* no result from this kernel (the guest hung, finwave stopped early) */
};

static const struct {
	const char *json, *console, *css;
} cell_names[] = {
	[CELL_PASS] = { "pass", "PASS", "pass" },
	[CELL_FAIL] = { "fail", "FAIL", "fail" },
	[CELL_ERROR] = { "error", "ERROR", "fail" },
	[CELL_SKIPPED] = { "skipped", "skipped", "skip" },
	[CELL_HOLDS] = { "holds", "holds", "pass" },
	[CELL_HOLDS_IF] = { "holds-if", "holds if", "pass" },
	[CELL_DOES_NOT_HOLD] = { "does-not-hold", "DOES NOT HOLD", "nohold" },
	[CELL_UNCONFIRMED] = { "unconfirmed", "unconfirmed", "fail" },
	[CELL_NOT_TESTABLE] = { "not-testable", "not testable", "skip" },
	[CELL_NOT_COVERED] = { "not-covered", "not covered", "skip" },
	[CELL_MISSING] = { "missing", "no result", "missing" },
};

struct cell {
	enum cell_status st;
	const char *reason; /* points into a result or a column's note; may be "" */
	char partial[320];  /* a claim judged on part of its runs: which, and why ("" if all) */
};

/* What a cell says beyond its status. */
static const char *cell_reason(const struct cell *c)
{
	return c->partial[0] ? c->partial : c->reason;
}

struct row {
	char name[CASE_MAX_NAME]; /* case name, or claim id */
	const char *text;         /* the claim's text; NULL for a case */
	struct cell *cells;       /* one per column */
	bool differs;
};

/* ---- columns -------------------------------------------------------------- */

struct matrix_kernel *matrix_kernel_get(struct matrix *m, const char *label)
{
	struct matrix_kernel *grown;
	size_t i;

	for (i = 0; i < m->nk; i++)
		if (strcmp(m->k[i].label, label) == 0)
			return &m->k[i];
	grown = realloc(m->k, (m->nk + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	m->k = grown;
	memset(&m->k[m->nk], 0, sizeof(m->k[m->nk]));
	snprintf(m->k[m->nk].label, sizeof(m->k[m->nk].label), "%s", label);
	return &m->k[m->nk++];
}

static const struct case_result *kernel_find(const struct matrix_kernel *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->nres; i++)
		if (strcmp(k->res[i].name, name) == 0)
			return &k->res[i];
	return NULL;
}

/* The kernel and the run's wall time from the "run" object of results.json
 * (written since the kernel field exists; older files name no kernel). */
static int read_run(const char *path, char *release, size_t rlen, char *version, size_t vlen,
		    int64_t *wall_ns, bool *interrupted, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *run, *kernel;
	int ret = 0;

	release[0] = version[0] = '\0';
	if (!root)
		return fw_err(err, errlen, -EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	run = json_object_get(root, "run");
	if (!json_is_object(run)) {
		ret = fw_err(err, errlen, -EINVAL, "%s: no \"run\" object (not a finwave results.json)",
			     path);
		goto out;
	}
	*wall_ns = json_integer_value(json_object_get(run, "wall_ns"));
	*interrupted = json_is_true(json_object_get(run, "interrupted"));
	kernel = json_object_get(run, "kernel");
	if (json_is_string(json_object_get(kernel, "release")))
		snprintf(release, rlen, "%s", json_string_value(json_object_get(kernel, "release")));
	if (json_is_string(json_object_get(kernel, "version")))
		snprintf(version, vlen, "%s", json_string_value(json_object_get(kernel, "version")));
out:
	json_decref(root);
	return ret;
}

int matrix_add_dir(struct matrix *m, const char *dir, const char *label, char *err, size_t errlen)
{
	char path[4096], release[128], version[256];
	struct case_result *res = NULL, *grown;
	struct matrix_kernel *k;
	size_t nres = 0, i, taken = 0;
	bool interrupted = false;
	int64_t wall_ns = 0;
	char **dirs;
	int ret;

	if (snprintf(path, sizeof(path), "%s/results.json", dir) >= (int)sizeof(path))
		return fw_err(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	if (access(path, R_OK) < 0)
		return fw_err(err, errlen, -errno,
			      "%s: no results.json (give directories written by 'finwave run --report-dir')",
			      dir);
	ret = read_run(path, release, sizeof(release), version, sizeof(version), &wall_ns,
		       &interrupted, err, errlen);
	if (ret < 0)
		return ret;
	if (!label) {
		const char *slash = strrchr(dir, '/');

		/* a results.json from before the kernel field: the directory names it */
		label = release[0] ? release : (slash && slash[1] ? slash + 1 : dir);
	}
	ret = claims_read_results(path, &res, &nres, err, errlen);
	if (ret < 0)
		return ret;
	k = matrix_kernel_get(m, label);
	grown = k ? realloc(k->res, (k->nres + nres + 1) * sizeof(*grown)) : NULL;
	dirs = grown ? realloc(k->dirs, (k->ndirs + 1) * sizeof(*dirs)) : NULL;
	if (!grown || !dirs) {
		ret = fw_err(err, errlen, -ENOMEM, "out of memory");
		if (grown)
			k->res = grown;
		goto out;
	}
	k->res = grown;
	k->dirs = dirs;
	k->dirs[k->ndirs] = strdup(dir);
	if (!k->dirs[k->ndirs]) {
		ret = fw_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	k->ndirs++;
	for (i = 0; i < nres; i++) {
		if (kernel_find(k, res[i].name)) {
			ret = fw_err(err, errlen, -EEXIST,
				     "%s: case %s is already in another directory of kernel %s (overlapping shards, or the same run twice)",
				     path, res[i].name, k->label);
			goto out;
		}
		k->res[k->nres++] = res[i];
		taken = i + 1;
	}
	if (!k->version[0])
		snprintf(k->version, sizeof(k->version), "%s", version);
	if (wall_ns > k->wall_ns) /* shards run side by side on CI machines */
		k->wall_ns = wall_ns;
	k->interrupted |= interrupted;
out:
	for (i = taken; i < nres; i++)
		result_clear(&res[i]);
	free(res);
	return ret;
}

/* A result and its rank in the catalog its case files make. */
struct ranked {
	struct case_result r;
	size_t rank;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->r.name, y->r.name); /* "name", "name#2" (--repeat), ... */
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rank every result of a column as 'finwave run' orders its cases when
 * given the case files in path order: the files are loaded again (the
 * paths in the results), so the runs of one file keep their order (its
 * family and matrix rows). A result whose file cannot be read goes after
 * the others, by name. */
static void kernel_sort(struct matrix_kernel *k)
{
	struct ranked *v = calloc(k->nres + 1, sizeof(*v));
	char **paths = calloc(k->nres + 1, sizeof(*paths));
	struct catalog cat = { 0 };
	char err[FW_ERRLEN];
	size_t i, j, np = 0;

	if (!v || !paths)
		goto out;
	for (i = 0; i < k->nres; i++)
		paths[np++] = k->res[i].path;
	qsort(paths, np, sizeof(*paths), cmp_cstr);
	for (i = 0, j = 0; i < np; i++)
		if (j == 0 || strcmp(paths[i], paths[j - 1]) != 0)
			paths[j++] = paths[i];
	np = j;
	/* one unreadable file must not cost the others their order */
	for (i = 0; i < np; i++)
		if (access(paths[i], R_OK) < 0)
			paths[i] = NULL;
	for (i = 0, j = 0; i < np; i++)
		if (paths[i])
			paths[j++] = paths[i];
	np = j;
	if (np && catalog_load(&cat, paths, np, err, sizeof(err)) < 0)
		memset(&cat, 0, sizeof(cat));
	for (i = 0; i < k->nres; i++) {
		size_t base = strcspn(k->res[i].name, "#");

		v[i].r = k->res[i];
		v[i].rank = SIZE_MAX;
		for (j = 0; j < cat.n; j++)
			if (strlen(cat.cases[j]->name) == base &&
			    strncmp(cat.cases[j]->name, k->res[i].name, base) == 0) {
				v[i].rank = j;
				break;
			}
	}
	qsort(v, k->nres, sizeof(*v), cmp_ranked);
	for (i = 0; i < k->nres; i++)
		k->res[i] = v[i].r;
out:
	catalog_free(&cat);
	free(paths);
	free(v);
}

void matrix_sort(struct matrix *m)
{
	size_t i;

	for (i = 0; i < m->nk; i++)
		if (m->k[i].nres)
			kernel_sort(&m->k[i]);
}

bool matrix_failed(const struct matrix *m)
{
	size_t i, j;

	for (i = 0; i < m->nk; i++) {
		if (m->k[i].note[0] || m->k[i].interrupted)
			return true;
		for (j = 0; j < m->k[i].nres; j++)
			if (m->k[i].res[j].status == CASE_FAIL || m->k[i].res[j].status == CASE_ERROR ||
			    m->k[i].res[j].status == CASE_INCONCLUSIVE)
				return true;
	}
	return false;
}

void matrix_free(struct matrix *m)
{
	size_t i, j;

	for (i = 0; i < m->nk; i++) {
		for (j = 0; j < m->k[i].nres; j++)
			result_clear(&m->k[i].res[j]);
		free(m->k[i].res);
		for (j = 0; j < m->k[i].ndirs; j++)
			free(m->k[i].dirs[j]);
		free(m->k[i].dirs);
	}
	free(m->k);
	memset(m, 0, sizeof(*m));
}

int matrix_dir_make(const char *path)
{
	char buf[4096];
	struct stat st;
	size_t i;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (i = 1; buf[i]; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* what the reports go into must be a directory of ours, not a link to one */
	if (lstat(buf, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return st.st_uid == geteuid() ? 0 : -EPERM;
}

static void reason_line(const char *s, char *buf, size_t len, size_t max);

/* ---- cells ------------------------------------------------------------------ */

static const char *missing_reason(const struct matrix_kernel *k)
{
	return k->note[0] ? k->note : "not in this kernel's results";
}

static struct cell case_cell(const struct matrix_kernel *k, const char *name)
{
	const struct case_result *r = kernel_find(k, name);
	struct cell c = { .st = CELL_MISSING, .reason = missing_reason(k) };

	if (!r)
		return c;
	c.reason = r->message;
	switch (r->status) {
	case CASE_PASS:
		c.st = CELL_PASS;
		c.reason = "";
		break;
	case CASE_FAIL:
		c.st = CELL_FAIL;
		break;
	case CASE_SKIP:
		c.st = CELL_SKIPPED;
		break;
	case CASE_ERROR:
	case CASE_INCONCLUSIVE: /* no verdict about the kernel either */
		c.st = CELL_ERROR;
		break;
	}
	return c;
}

/* A claim that holds (or not) on a kernel where some of its runs were
 * skipped was judged on the others only: say so, or a kernel lacking the
 * very runs that contradict a claim would read 'holds' without a word. */
static void claim_partial(struct cell *c, const struct matrix_kernel *k, const char *id)
{
	const char *why = NULL;
	size_t i, j, total = 0, skipped = 0;
	char line[200];

	if (c->st != CELL_HOLDS && c->st != CELL_HOLDS_IF && c->st != CELL_DOES_NOT_HOLD)
		return;
	for (i = 0; i < k->nres; i++)
		for (j = 0; j < k->res[i].nclaims; j++)
			if (strcmp(k->res[i].claims[j], id) == 0) {
				total++;
				if (k->res[i].status == CASE_SKIP) {
					skipped++;
					why = why ? why : k->res[i].message;
				}
				break;
			}
	if (!skipped)
		return;
	reason_line(why, line, sizeof(line), 150);
	snprintf(c->partial, sizeof(c->partial), "judged on %zu of %zu runs (%zu skipped: %s)%s%s",
		 total - skipped, total, skipped, line, c->reason[0] ? "; " : "", c->reason);
}

static struct cell claim_cell(const struct matrix_kernel *k, const char *id)
{
	struct cell c = { .st = CELL_MISSING, .reason = missing_reason(k) };
	const char *reason;

	if (k->nres == 0)
		return c;
	c.reason = "";
	switch (claims_judge(id, k->res, k->nres, &reason)) {
	case CLAIM_HOLDS:
		c.st = CELL_HOLDS;
		break;
	case CLAIM_HOLDS_IF: /* the condition a passing run names */
		c.st = CELL_HOLDS_IF;
		c.reason = reason ? reason : "";
		break;
	case CLAIM_DOES_NOT_HOLD:
		c.st = CELL_DOES_NOT_HOLD;
		c.reason = reason;
		break;
	case CLAIM_UNCONFIRMED:
		c.st = CELL_UNCONFIRMED;
		c.reason = reason; /* the case that did not pass */
		break;
	case CLAIM_NOT_RUN: /* every covering run was skipped: why */
		c.st = CELL_NOT_TESTABLE;
		c.reason = reason ? reason : "";
		break;
	case CLAIM_NOT_COVERED:
		c.st = CELL_NOT_COVERED;
		break;
	}
	claim_partial(&c, k, id);
	return c;
}

static bool row_differs(const struct row *r, size_t ncols)
{
	size_t i;

	for (i = 1; i < ncols; i++)
		if (r->cells[i].st != r->cells[0].st)
			return true;
	return false;
}

static void rows_free(struct row *rows, size_t n)
{
	size_t i;

	for (i = 0; rows && i < n; i++)
		free(rows[i].cells);
	free(rows);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One row per case that any kernel ran, in name order. */
static int case_rows(const struct matrix *m, struct row **out, size_t *n)
{
	const char **names;
	struct row *rows = NULL;
	size_t total = 0, i, j, nrows = 0;
	int ret = -ENOMEM;

	for (i = 0; i < m->nk; i++)
		total += m->k[i].nres;
	names = malloc((total + 1) * sizeof(*names));
	if (!names)
		goto out;
	for (i = 0, j = 0; i < m->nk; i++) {
		size_t r;

		for (r = 0; r < m->k[i].nres; r++)
			names[j++] = m->k[i].res[r].name;
	}
	if (total)
		qsort(names, total, sizeof(*names), cmp_str);
	rows = calloc(total + 1, sizeof(*rows));
	if (!rows)
		goto out;
	for (i = 0; i < total; i++) {
		if (i && strcmp(names[i], names[i - 1]) == 0)
			continue;
		snprintf(rows[nrows].name, sizeof(rows[nrows].name), "%s", names[i]);
		rows[nrows].cells = calloc(m->nk + 1, sizeof(struct cell));
		if (!rows[nrows].cells)
			goto out;
		for (j = 0; j < m->nk; j++)
			rows[nrows].cells[j] = case_cell(&m->k[j], names[i]);
		rows[nrows].differs = row_differs(&rows[nrows], m->nk);
		nrows++;
	}
	ret = 0;
out:
	free(names);
	if (ret < 0) {
		rows_free(rows, nrows + 1);
		return ret;
	}
	*out = rows;
	*n = nrows;
	return 0;
}

static int claim_rows(const struct matrix *m, const struct claim *claims, size_t nclaims,
		      struct row **out)
{
	struct row *rows = calloc(nclaims + 1, sizeof(*rows));
	size_t i, j;

	if (!rows)
		return -ENOMEM;
	for (i = 0; i < nclaims; i++) {
		snprintf(rows[i].name, sizeof(rows[i].name), "%s", claims[i].id);
		rows[i].text = claims[i].text;
		rows[i].cells = calloc(m->nk + 1, sizeof(struct cell));
		if (!rows[i].cells) {
			rows_free(rows, nclaims);
			return -ENOMEM;
		}
		for (j = 0; j < m->nk; j++)
			rows[i].cells[j] = claim_cell(&m->k[j], claims[i].id);
		rows[i].differs = row_differs(&rows[i], m->nk);
	}
	*out = rows;
	return 0;
}

/* ---- console -------------------------------------------------------------------- */

/* The first line of a reason, at most max characters. */
static void reason_line(const char *s, char *buf, size_t len, size_t max)
{
	size_t n = strcspn(s, "\n");

	if (n > max)
		n = max;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

static void console_table(FILE *f, const struct matrix *m, const char *title, const struct row *rows,
			  size_t n, size_t namew, bool quiet)
{
	size_t i, j, shown = 0, differ = 0;

	for (i = 0; i < n; i++)
		differ += rows[i].differs;
	fprintf(f, "%s (%zu row(s), %zu differ between kernels, marked *)\n", title, n, differ);
	fprintf(f, "  %-*s", (int)namew, "");
	for (j = 0; j < m->nk; j++)
		fprintf(f, " %-22.22s", m->k[j].label);
	fputc('\n', f);
	for (i = 0; i < n; i++) {
		bool all_good = true;

		for (j = 0; j < m->nk; j++)
			all_good &= rows[i].cells[j].st == CELL_PASS || rows[i].cells[j].st == CELL_HOLDS ||
				    rows[i].cells[j].st == CELL_HOLDS_IF;
		if (quiet && all_good && !rows[i].differs)
			continue;
		shown++;
		fprintf(f, "%c %-*s", rows[i].differs ? '*' : ' ', (int)namew, rows[i].name);
		for (j = 0; j < m->nk; j++)
			fprintf(f, " %-22s", cell_names[rows[i].cells[j].st].console);
		fputc('\n', f);
	}
	if (quiet && shown < n)
		fprintf(f, "  (%zu row(s) that pass or hold on every kernel not shown)\n", n - shown);
}

static void console_differences(FILE *f, const struct matrix *m, const struct row *rows, size_t n)
{
	char why[160];
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!rows[i].differs)
			continue;
		fprintf(f, "  %s:\n", rows[i].name);
		for (j = 0; j < m->nk; j++) {
			reason_line(cell_reason(&rows[i].cells[j]), why, sizeof(why), 150);
			fprintf(f, "    %-22s %s%s%s\n", m->k[j].label, cell_names[rows[i].cells[j].st].console,
				why[0] ? ": " : "", why);
		}
	}
}

static void console_write(FILE *f, const struct matrix *m, const struct row *claims, size_t nclaims,
			  const struct row *cases, size_t ncases, bool quiet)
{
	char wall[32];
	size_t i, j, namew = 10, counts[CASE_STATUS_COUNT];

	for (i = 0; i < ncases; i++)
		if (strlen(cases[i].name) > namew)
			namew = strlen(cases[i].name);
	if (claims)
		console_table(f, m, "claims x kernels", claims, nclaims, namew, quiet);
	console_table(f, m, "cases x kernels", cases, ncases, namew, quiet);
	fprintf(f, "differences between kernels:\n");
	console_differences(f, m, claims, nclaims);
	console_differences(f, m, cases, ncases);
	fprintf(f, "kernels:\n");
	for (i = 0; i < m->nk; i++) {
		const struct matrix_kernel *k = &m->k[i];

		memset(counts, 0, sizeof(counts));
		for (j = 0; j < k->nres; j++)
			counts[k->res[j].status]++;
		fw_duration_format(k->wall_ns, wall, sizeof(wall));
		fprintf(f, "  %s%s%s%s: %zu passed, %zu failed, %zu skipped, %zu errors in %s%s%s%s\n",
			k->label, k->accel[0] ? " [" : "", k->accel, k->accel[0] ? "]" : "",
			counts[CASE_PASS], counts[CASE_FAIL], counts[CASE_SKIP], counts[CASE_ERROR], wall,
			k->source[0] ? "; " : "", k->source, k->interrupted ? " (interrupted)" : "");
		if (k->note[0])
			fprintf(f, "    %s\n", k->note);
	}
}

/* ---- JSON ---------------------------------------------------------------------------- */

static json_t *json_rows(const struct row *rows, size_t n, size_t ncols, bool claims)
{
	json_t *arr = json_array();
	size_t i, j;

	for (i = 0; arr && i < n; i++) {
		json_t *cells = json_array(), *row;

		for (j = 0; cells && j < ncols; j++)
			json_array_append_new(cells, json_pack("{s:s,s:s}", "status",
							       cell_names[rows[i].cells[j].st].json,
							       "reason", cell_reason(&rows[i].cells[j])));
		row = claims ? json_pack("{s:s,s:s,s:b,s:o}", "id", rows[i].name, "text", rows[i].text,
					 "differs", rows[i].differs, "cells", cells) :
			       json_pack("{s:s,s:b,s:o}", "name", rows[i].name, "differs",
					 rows[i].differs, "cells", cells);
		if (!row || json_array_append_new(arr, row) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static int json_write(struct report_dir *rd, const struct matrix *m, const struct row *claims,
		      size_t nclaims, const struct row *cases, size_t ncases)
{
	json_t *kernels = json_array(), *doc = NULL;
	struct report_file rf;
	size_t i, j;
	int ret = -ENOMEM;

	for (i = 0; kernels && i < m->nk; i++) {
		const struct matrix_kernel *k = &m->k[i];
		json_t *dirs = json_array();

		for (j = 0; dirs && j < k->ndirs; j++)
			json_array_append_new(dirs, json_string(k->dirs[j]));
		json_array_append_new(kernels,
				      json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:o}", "label", k->label,
						"version", k->version, "source", k->source, "accel",
						k->accel, "note", k->note, "wall_ns",
						(json_int_t)k->wall_ns, "interrupted", k->interrupted,
						"dirs", dirs ? dirs : json_array()));
	}
	if (kernels)
		doc = json_pack("{s:s,s:i,s:o,s:o,s:o}", "generator", "finwave", "matrix_version", 1,
				"kernels", kernels, "claims",
				claims ? json_rows(claims, nclaims, m->nk, true) : json_array(), "cases",
				json_rows(cases, ncases, m->nk, false));
	if (!doc)
		goto out;
	ret = report_file_create(rd, "matrix.json", &rf);
	if (ret < 0)
		goto out;
	if (json_dumpf(doc, rf.f, JSON_INDENT(1)) == 0) {
		fputc('\n', rf.f);
		ret = report_file_commit(&rf);
	} else {
		report_file_abort(&rf);
		ret = -EIO;
	}
out:
	json_decref(doc);
	return ret;
}

/* ---- HTML ------------------------------------------------------------------------------- */

static void html_table(FILE *f, const struct matrix *m, const char *title, const struct row *rows,
		       size_t n, const char *dir)
{
	char link[4096];
	size_t i, j;

	fprintf(f, "<h2>%s</h2>\n<table>\n<tr><th></th>", title);
	for (j = 0; j < m->nk; j++) {
		fputs("<th>", f);
		snprintf(link, sizeof(link), "%s/kernels/%s/index.html", dir, m->k[j].label);
		if (access(link, R_OK) == 0) {
			fputs("<a href=\"kernels/", f);
			report_xml_puts(f, m->k[j].label);
			fputs("/index.html\">", f);
			report_xml_puts(f, m->k[j].label);
			fputs("</a>", f);
		} else {
			report_xml_puts(f, m->k[j].label);
		}
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	for (i = 0; i < n; i++) {
		fprintf(f, "<tr%s><th>", rows[i].differs ? " class=\"differs\"" : "");
		report_xml_puts(f, rows[i].name);
		if (rows[i].text) {
			fputs("<br><small>", f);
			report_xml_puts(f, rows[i].text);
			fputs("</small>", f);
		}
		fputs("</th>", f);
		for (j = 0; j < m->nk; j++) {
			const struct cell *c = &rows[i].cells[j];
			char why[400];

			reason_line(cell_reason(c), why, sizeof(why), 300);
			fprintf(f, "<td class=\"%s\">%s", cell_names[c->st].css, cell_names[c->st].console);
			if (why[0]) {
				fputs("<br><small>", f);
				report_xml_puts(f, why);
				fputs("</small>", f);
			}
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static int html_write(struct report_dir *rd, const char *dir, const struct matrix *m,
		      const struct row *claims, size_t nclaims, const struct row *cases, size_t ncases)
{
	struct report_file rf;
	char wall[32];
	FILE *f;
	size_t i;
	int ret = report_file_create(rd, "matrix.html", &rf);

	if (ret < 0)
		return ret;
	f = rf.f;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>finwave: claims and cases by kernel</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}\n"
	      "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\n"
	      "small{color:#555}tr.differs th{background:#ffe08a}tr.differs{outline:2px solid #e0a000}\n"
	      ".pass{background:#e3f6e3}.fail{background:#f9d6d6}.nohold{background:#fde2c0}\n"
	      ".skip{background:#eee}.missing{background:#ddd;color:#700}\n"
	      "</style></head><body>\n<h1>Claims and cases by kernel</h1>\n"
	      "<p>Rows outlined in orange do not have the same outcome on every kernel.</p>\n<ul>\n",
	      f);
	for (i = 0; i < m->nk; i++) {
		fw_duration_format(m->k[i].wall_ns, wall, sizeof(wall));
		fputs("<li><b>", f);
		report_xml_puts(f, m->k[i].label);
		fputs("</b> ", f);
		report_xml_puts(f, m->k[i].version);
		fprintf(f, "%s%s: %s", m->k[i].accel[0] ? ", " : "", m->k[i].accel, wall);
		if (m->k[i].source[0]) {
			fputs("; ", f);
			report_xml_puts(f, m->k[i].source);
		}
		if (m->k[i].note[0]) {
			fputs(" <b>", f);
			report_xml_puts(f, m->k[i].note);
			fputs("</b>", f);
		}
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
	if (claims)
		html_table(f, m, "Claims", claims, nclaims, dir);
	html_table(f, m, "Cases", cases, ncases, dir);
	fputs("</body></html>\n", f);
	return report_file_commit(&rf);
}

int matrix_write(const struct matrix *m, const char *claims_file, bool claims_given, FILE *out,
		 bool quiet, const char *dir, char *err, size_t errlen)
{
	struct claim *claims = NULL;
	struct row *crows = NULL, *krows = NULL;
	struct report_dir *rd = NULL;
	size_t nclaims = 0, ncases = 0;
	char cerr[FW_ERRLEN];
	int ret;

	ret = claims_file ? claims_load(claims_file, &claims, &nclaims, cerr, sizeof(cerr)) :
			    fw_err(cerr, sizeof(cerr), -ENOENT, "no claims list found");
	if (ret < 0 && claims_given) {
		fw_err(err, errlen, ret, "%s", cerr);
		goto out;
	}
	if (ret < 0) /* no claims list installed: the cases alone */
		fprintf(stderr, "finwave: no claims table: %s (--claims FILE names the list)\n", cerr);
	ret = claims ? claim_rows(m, claims, nclaims, &krows) : 0;
	if (ret == 0)
		ret = case_rows(m, &crows, &ncases);
	if (ret < 0) {
		fw_err(err, errlen, ret, "out of memory");
		goto out;
	}
	if (out)
		console_write(out, m, krows, nclaims, crows, ncases, quiet);
	if (dir) {
		ret = report_dir_open(dir, &rd, err, errlen);
		if (ret == 0)
			ret = json_write(rd, m, krows, nclaims, crows, ncases);
		if (ret == 0)
			ret = html_write(rd, dir, m, krows, nclaims, crows, ncases);
		if (ret < 0 && rd)
			fw_err(err, errlen, ret, "%s: cannot write matrix.json/matrix.html: %s", dir,
			       report_dir_error(rd)[0] ? report_dir_error(rd) : strerror(-ret));
		report_dir_close(rd);
	}
out:
	rows_free(krows, nclaims);
	rows_free(crows, ncases);
	free(claims);
	return ret;
}
