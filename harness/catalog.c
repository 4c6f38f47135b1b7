#include "catalog.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

struct pathlist {
	char **v;
	size_t n, cap;
};

static int pathlist_add(struct pathlist *pl, const char *p)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 32;
		char **grown = realloc(pl->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		pl->v = grown;
		pl->cap = cap;
	}
	pl->v[pl->n] = strdup(p);
	return pl->v[pl->n++] ? 0 : -ENOMEM;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_yaml(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

/* Recursive walk, bounded in depth so a symlink loop cannot run away. */
static int walk(const char *dir, struct pathlist *pl, int depth)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (depth > 16)
		return -ELOOP;
	d = opendir(dir);
	if (!d)
		return -errno;
	while (ret == 0 && (de = readdir(d))) {
		char path[1024];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			ret = walk(path, pl, depth + 1);
		else if (S_ISREG(st.st_mode) && is_yaml(de->d_name))
			ret = pathlist_add(pl, path);
	}
	closedir(d);
	return ret;
}

/* A run's name must not depend on how its file was named on the command
 * line ("cases/lab/x.yaml" or "cases/lab/"): filters, pcaps and report
 * history key on it. So it is the file's path below the nearest directory
 * called "cases" of its real path; outside such a tree, its path below the
 * directory given (or its file name, for a file given itself). */
static void default_name(const char *path, const char *root, char *out, size_t len)
{
	char real[PATH_MAX];
	const char *full = realpath(path, real) ? real : path, *rel = NULL, *p;
	size_t n;

	for (p = strstr(full, "/cases/"); p; p = strstr(p + 1, "/cases/"))
		rel = p + strlen("/cases/");
	if (!rel && strncmp(full, "cases/", 6) == 0)
		rel = full + 6;
	if (!rel && root && strncmp(path, root, strlen(root)) == 0 && path[strlen(root)] == '/')
		rel = path + strlen(root) + 1;
	if (!rel)
		rel = (p = strrchr(path, '/')) ? p + 1 : path;
	n = strlen(rel);
	if (n > 5)
		n -= 5;
	snprintf(out, len, "%.*s", (int)n, rel);
}

static int add_run(struct catalog *cat, struct fw_case *c, char *err, size_t errlen)
{
	struct fw_case **grown;
	size_t i;

	/* "<name>#10000" (--repeat) must fit whole: a cut name could end inside
	 * a UTF-8 character, or two long names cut alike share one pcap. */
	if (strlen(c->name) > CATALOG_MAX_RUN_NAME)
		return fw_err(err, errlen, -EINVAL,
			      "%s: the run name '%s' is %zu bytes long, at most %d (room for --repeat's #N)",
			      c->path, c->name, strlen(c->name), CATALOG_MAX_RUN_NAME);
	for (i = 0; i < cat->n; i++)
		if (strcmp(cat->cases[i]->name, c->name) == 0)
			return fw_err(err, errlen, -EINVAL, "%s: case name '%s' is already used by %s",
				      c->path, c->name, cat->cases[i]->path);
	grown = realloc(cat->cases, (cat->n + 1) * sizeof(*grown));
	if (!grown)
		return fw_err(err, errlen, -ENOMEM, "out of memory");
	cat->cases = grown;
	cat->cases[cat->n++] = c;
	return 0;
}

/* A file becomes one run per family and matrix row (case_expand). */
static int add_case(struct catalog *cat, const char *path, const char *root, char *err,
		    size_t errlen)
{
	char name[CASE_MAX_NAME];
	struct fw_case *c, **runs = NULL;
	size_t i, n = 0;
	int ret;

	default_name(path, root, name, sizeof(name));
	ret = case_load(path, name, &c, err, errlen);
	if (ret < 0)
		return ret;
	ret = case_expand(c, &runs, &n);
	case_free(c);
	if (ret < 0)
		return fw_err(err, errlen, ret, "out of memory");
	for (i = 0; i < n; i++) {
		if (ret == 0)
			ret = add_run(cat, runs[i], err, errlen);
		if (ret < 0)
			case_free(runs[i]); /* not taken by the catalog */
	}
	free(runs);
	return ret;
}

int catalog_load(struct catalog *cat, char *const *paths, size_t npaths, char *err, size_t errlen)
{
	size_t i, j;
	int ret = 0;

	memset(cat, 0, sizeof(*cat));
	for (i = 0; i < npaths && ret == 0; i++) {
		char root[1024];
		struct pathlist pl = { 0 };
		struct stat st;
		size_t len;

		if (stat(paths[i], &st) < 0) {
			ret = fw_err(err, errlen, -ENOENT, "%s: no such file or directory", paths[i]);
			break;
		}
		/* a FIFO would block the read for ever, a device read without end */
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			ret = fw_err(err, errlen, -EINVAL,
				     "%s: not a regular file (a FIFO, socket or device): give a case file or a directory",
				     paths[i]);
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			ret = add_case(cat, paths[i], NULL, err, errlen);
			continue;
		}
		snprintf(root, sizeof(root), "%s", paths[i]);
		len = strlen(root);
		while (len > 1 && root[len - 1] == '/')
			root[--len] = '\0';
		ret = walk(root, &pl, 0);
		if (ret < 0)
			fw_err(err, errlen, ret, "%s: cannot read the directory: %s", root, strerror(-ret));
		if (pl.n) /* qsort(NULL, 0, ...) is undefined (an empty directory) */
			qsort(pl.v, pl.n, sizeof(*pl.v), cmp_str);
		for (j = 0; j < pl.n && ret == 0; j++)
			ret = add_case(cat, pl.v[j], root, err, errlen);
		for (j = 0; j < pl.n; j++)
			free(pl.v[j]);
		free(pl.v);
	}
	if (ret == 0 && cat->n == 0)
		ret = fw_err(err, errlen, -ENOENT, "no case files (*.yaml) found in the given paths");
	if (ret < 0)
		catalog_free(cat);
	return ret;
}

void catalog_filter(struct catalog *cat, const char *glob)
{
	size_t i, kept = 0;

	for (i = 0; i < cat->n; i++) {
		if (fnmatch(glob, cat->cases[i]->name, 0) == 0)
			cat->cases[kept++] = cat->cases[i];
		else
			case_free(cat->cases[i]);
	}
	cat->n = kept;
}

/* A whole decimal number from 1 to max, nothing else (no sign, no blanks). */
static int parse_count(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 9)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int catalog_shard_parse(const char *s, unsigned *k, unsigned *n, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');

	if (!slash || parse_count(slash + 1, strlen(slash + 1), CATALOG_MAX_SHARDS, n) < 0 ||
	    parse_count(s, (size_t)(slash - s), CATALOG_MAX_SHARDS, k) < 0)
		return fw_err(err, errlen, -EINVAL,
			      "--shard needs K/N with 1 <= K <= N <= %d (e.g. 2/4), not '%s'",
			      CATALOG_MAX_SHARDS, s);
	if (*k > *n)
		return fw_err(err, errlen, -EINVAL,
			      "--shard %s: shard %u does not exist, there are only %u (K counts from 1)",
			      s, *k, *n);
	return 0;
}

static int cmp_case_name(const void *a, const void *b)
{
	return strcmp((*(struct fw_case *const *)a)->name, (*(struct fw_case *const *)b)->name);
}

int catalog_shard(struct catalog *cat, unsigned k, unsigned n)
{
	struct fw_case **by_name = NULL;
	bool *keep = NULL;
	size_t i, kept = 0;
	int ret = 0;

	if (n <= 1 || cat->n == 0)
		goto out;
	by_name = malloc(cat->n * sizeof(*by_name));
	keep = calloc(cat->n, sizeof(*keep));
	if (!by_name || !keep) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(by_name, cat->cases, cat->n * sizeof(*by_name));
	qsort(by_name, cat->n, sizeof(*by_name), cmp_case_name);
	/* Decide for every case before freeing any: the search reads names. */
	for (i = 0; i < cat->n; i++) {
		/* Names are unique in a catalog: the match is the case itself. */
		struct fw_case **at = bsearch(&cat->cases[i], by_name, cat->n, sizeof(*by_name),
					      cmp_case_name);

		keep[i] = (size_t)(at - by_name) % n == k - 1;
	}
	for (i = 0; i < cat->n; i++) {
		if (keep[i])
			cat->cases[kept++] = cat->cases[i];
		else
			case_free(cat->cases[i]);
	}
	cat->n = kept;
out:
	free(keep);
	free(by_name);
	return ret;
}

size_t catalog_drop_slow(struct catalog *cat)
{
	size_t i, kept = 0;

	for (i = 0; i < cat->n; i++) {
		if (cat->cases[i]->slow)
			case_free(cat->cases[i]);
		else
			cat->cases[kept++] = cat->cases[i];
	}
	i = cat->n - kept;
	cat->n = kept;
	return i;
}

void catalog_free(struct catalog *cat)
{
	size_t i;

	for (i = 0; i < cat->n; i++)
		case_free(cat->cases[i]);
	free(cat->cases);
	memset(cat, 0, sizeof(*cat));
}
