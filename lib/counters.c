#include "counters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "util.h"

#define COUNTERS_FILE_MAX (64 * 1024)

static int counters_add(struct counter_set *cs, const char *group, size_t glen, const char *name,
			size_t nlen, int64_t value)
{
	struct counter *grown;

	if (glen + 1 + nlen >= sizeof(grown->name))
		return 0; /* no real counter name is that long: skip it */
	grown = realloc(cs->v, (cs->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	cs->v = grown;
	snprintf(cs->v[cs->n].name, sizeof(cs->v[cs->n].name), "%.*s.%.*s", (int)glen, group,
		 (int)nlen, name);
	cs->v[cs->n++].value = value;
	return 0;
}

/* Lines come in pairs: "Group: Name1 Name2 ..." then "Group: v1 v2 ...". */
int counters_parse(const char *text, struct counter_set *out)
{
	const char *names = text;

	while (names && *names) {
		const char *names_end = strchr(names, '\n'), *values, *colon = strchr(names, ':');
		const char *n, *v;
		size_t glen;
		int ret;

		if (!names_end || !colon || colon > names_end)
			break;
		values = names_end + 1;
		glen = (size_t)(colon - names);
		if (strncmp(values, names, glen + 1) != 0)
			return -EINVAL; /* the values line must repeat the group */
		n = colon + 1;
		v = values + glen + 1;
		for (;;) {
			size_t nl, vl;
			char *end;
			long long val;

			while (*n == ' ')
				n++;
			while (*v == ' ')
				v++;
			if (*n == '\n' || !*n || *v == '\n' || !*v)
				break;
			nl = strcspn(n, " \n");
			vl = strcspn(v, " \n");
			val = strtoll(v, &end, 10);
			if (end != v + vl)
				return -EINVAL;
			ret = counters_add(out, names, glen, n, nl, val);
			if (ret < 0)
				return ret;
			n += nl;
			v += vl;
		}
		names = strchr(values, '\n');
		if (names)
			names++;
	}
	return 0;
}

/* /proc/net/stat/NAME: a line of names, then one line of hex values per
 * CPU, summed (except "entries", the namespace's table size, which every
 * line repeats). */
int counters_parse_stat(const char *text, const char *group, struct counter_set *out)
{
	const char *names_end = strchr(text, '\n'), *line, *n = text;
	size_t first = out->n, col, ncols = 0;
	int ret;

	if (!names_end)
		return -EINVAL;
	while (n < names_end) { /* blanks are spaces (nf_conntrack) or tabs (synproxy) */
		size_t nl;

		n += strspn(n, " \t");
		nl = strcspn(n, " \t\n");
		if (!nl)
			break;
		if ((ret = counters_add(out, group, strlen(group), n, nl, 0)) < 0)
			return ret;
		ncols++;
		n += nl;
	}
	for (line = names_end + 1; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		const char *v = line;

		for (col = 0; col < ncols; col++) {
			char *end;
			long long val;

			v += strspn(v, " \t");
			if (*v == '\n' || !*v)
				return col ? -EINVAL : 0; /* a short row, or the end */
			val = strtoll(v, &end, 16);
			if (end == v || !strchr(" \t\n", *end))
				return -EINVAL;
			if (strcmp(strchr(out->v[first + col].name, '.') + 1, "entries") == 0)
				out->v[first + col].value = val;
			else
				out->v[first + col].value += val;
			v = end;
		}
	}
	return 0;
}

static int counters_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t got;

	if (!f)
		return -errno;
	got = fread(buf, 1, len - 1, f);
	buf[got] = '\0';
	fclose(f);
	return 0;
}

int counters_read(int ns_fd, struct counter_set *out, char *err, size_t errlen)
{
	static const char *const files[] = { "/proc/thread-self/net/snmp",
					     "/proc/thread-self/net/netstat" };
	static const char *const stat_files[] = { "nf_conntrack", "synproxy" };
	char *buf = malloc(COUNTERS_FILE_MAX);
	size_t i;
	int saved, ret;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return fw_err(err, errlen, -ENOMEM, "out of memory");
	ret = netns_enter(ns_fd, &saved);
	if (ret < 0) {
		free(buf);
		return fw_err(err, errlen, ret, "counters: cannot enter the namespace: %s",
			      strerror(-ret));
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]) && ret == 0; i++) {
		ret = counters_slurp(files[i], buf, COUNTERS_FILE_MAX);
		if (ret < 0)
			fw_err(err, errlen, ret, "counters: %s: %s", files[i], strerror(-ret));
		else if ((ret = counters_parse(buf, out)) < 0)
			fw_err(err, errlen, ret, "counters: %s: unexpected format", files[i]);
	}
	/* a netfilter module's statistics: there once the module is loaded */
	for (i = 0; i < sizeof(stat_files) / sizeof(stat_files[0]) && ret == 0; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/thread-self/net/stat/%s", stat_files[i]);
		if (counters_slurp(path, buf, COUNTERS_FILE_MAX) < 0)
			continue;
		if ((ret = counters_parse_stat(buf, stat_files[i], out)) < 0)
			fw_err(err, errlen, ret, "counters: %s: unexpected format", path);
	}
	if (netns_leave(saved) < 0 && ret == 0)
		ret = fw_err(err, errlen, -EIO, "counters: cannot leave the namespace");
	free(buf);
	if (ret < 0)
		counter_set_clear(out);
	return ret;
}

int counters_get(const struct counter_set *cs, const char *name, int64_t *value)
{
	size_t i;

	for (i = 0; i < cs->n; i++) {
		const char *dot = strchr(cs->v[i].name, '.');

		if (strcmp(cs->v[i].name, name) == 0 || (dot && strcmp(dot + 1, name) == 0)) {
			*value = cs->v[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

void counter_set_clear(struct counter_set *cs)
{
	if (!cs)
		return;
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}
