/* requires: see requires.h. */
#include "requires.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "case.h"
#include "netns.h"
#include "proc.h"
#include "util.h"

struct requires_probe {
	int ns_fd;
	struct utsname uts;
	unsigned version[3];
	struct counter_set counters;
};

int requires_parse_version(const char *s, unsigned out[3])
{
	char *end;
	int i;

	out[0] = out[1] = out[2] = 0;
	for (i = 0; i < 3; i++) {
		unsigned long v;

		if (*s < '0' || *s > '9')
			return i ? 0 : -EINVAL; /* "6.1" is 6.1.0 */
		v = strtoul(s, &end, 10);
		if (v > 100000)
			return -EINVAL;
		out[i] = (unsigned)v;
		if (*end != '.')
			return 0;
		s = end + 1;
	}
	return 0;
}

static int version_cmp(const unsigned a[3], const unsigned b[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

int requires_probe_open(struct requires_probe **out, int ns_fd, char *err, size_t errlen)
{
	struct requires_probe *p = calloc(1, sizeof(*p));
	int ret;

	*out = NULL;
	if (!p)
		return fw_err(err, errlen, -ENOMEM, "out of memory");
	p->ns_fd = ns_fd;
	if (uname(&p->uts) < 0 || requires_parse_version(p->uts.release, p->version) < 0) {
		free(p);
		return fw_err(err, errlen, -EIO, "cannot read this kernel's version (uname)");
	}
	ret = counters_read(ns_fd, &p->counters, err, errlen);
	if (ret < 0) {
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void requires_probe_free(struct requires_probe *p)
{
	if (!p)
		return;
	counter_set_clear(&p->counters);
	free(p);
}

/* net.ipv4.tcp_fin_timeout exists in the scratch namespace? */
static int sysctl_exists(struct requires_probe *p, const char *name, bool *exists)
{
	char path[160];
	size_t k;
	int saved, ret;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (k = strlen("/proc/sys/"); path[k]; k++)
		if (path[k] == '.')
			path[k] = '/';
	/* /proc/sys/net follows the reading task's network namespace */
	ret = netns_enter(p->ns_fd, &saved);
	if (ret < 0)
		return ret;
	*exists = access(path, F_OK) == 0;
	ret = netns_leave(saved);
	return ret;
}

/* The kernel knows the option when getsockopt() on a TCP socket does not
 * answer ENOPROTOOPT (EINVAL and friends still mean "known"). */
static int sockopt_exists(struct requires_probe *p, int level, int opt, bool *exists)
{
	int fd = netns_socket(p->ns_fd, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	char buf[256];
	socklen_t len = sizeof(buf);

	if (fd < 0)
		return fd;
	*exists = getsockopt(fd, level, opt, buf, &len) == 0 || errno != ENOPROTOOPT;
	close(fd);
	return 0;
}

/* Loaded (/sys/module), built in (modules.builtin) or loadable (modules.dep). */
static bool module_exists(const struct requires_probe *p, const char *name)
{
	static const char *const lists[] = {"modules.builtin", "modules.dep"};
	char want[64], path[320];
	size_t i, k;
	bool found = false;

	snprintf(want, sizeof(want), "%s", name);
	for (k = 0; want[k]; k++) /* the kernel spells module names with '_' */
		if (want[k] == '-')
			want[k] = '_';
	snprintf(path, sizeof(path), "/sys/module/%s", want);
	if (access(path, F_OK) == 0)
		return true;
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]) && !found; i++) {
		char *line = NULL;
		size_t cap = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/lib/modules/%s/%s", p->uts.release, lists[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!found && getline(&line, &cap, f) > 0) {
			/* "kernel/net/netfilter/nf_conntrack.ko.xz: deps" -> nf_conntrack */
			char *name = strtok(line, ":\n"), *base, *dot;

			if (!name)
				continue;
			base = strrchr(name, '/');
			base = base ? base + 1 : name;
			if ((dot = strstr(base, ".ko")))
				*dot = '\0';
			for (k = 0; base[k]; k++)
				if (base[k] == '-')
					base[k] = '_';
			found = strcmp(base, want) == 0;
		}
		free(line);
		fclose(f);
	}
	return found;
}

/* Fill why and return 1: the run is skipped for this reason. */
static int missing(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int missing(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return 1;
}

/* A counter this kernel has: netfilter's statistics (nf_conntrack.invalid,
 * synproxy.cookie_invalid) appear when their module loads (a box's ruleset
 * loads it), so a module this kernel can load is enough for them. */
static bool counter_exists(const struct requires_probe *p, const char *name)
{
	static const struct {
		const char *group, *module;
	} from_modules[] = {
		{ "nf_conntrack.", "nf_conntrack" },
		{ "synproxy.", "nf_synproxy_core" },
	};
	int64_t v;
	size_t i;

	if (counters_get(&p->counters, name, &v) == 0)
		return true;
	for (i = 0; i < sizeof(from_modules) / sizeof(from_modules[0]); i++)
		if (strncmp(name, from_modules[i].group, strlen(from_modules[i].group)) == 0)
			return module_exists(p, from_modules[i].module);
	return false;
}

/* CONFIG_X=y or =m in the running kernel's config? 1 yes, 0 no, -ENOENT when
 * this kernel publishes no config. gzopen() reads plain files too. */
static int config_has(const struct requires_probe *p, const char *name)
{
	char path[320], line[512];
	size_t n = strlen(name);
	gzFile f = gzopen("/proc/config.gz", "rb");
	int found = 0;

	if (!f) {
		snprintf(path, sizeof(path), "/boot/config-%s", p->uts.release);
		f = gzopen(path, "rb");
	}
	if (!f)
		return -ENOENT;
	while (!found && gzgets(f, line, sizeof(line)))
		found = strncmp(line, name, n) == 0 && line[n] == '=' &&
			(line[n + 1] == 'y' || line[n + 1] == 'm');
	gzclose(f);
	return found;
}

int requires_add_program(struct fw_requires *r, const char *name)
{
	size_t i;

	/* a path or a variable (${FW_CASE_DIR}/srv, ./srv) names the case's own
	 * program, not an installed one: nothing to require */
	if (strpbrk(name, "/$"))
		return 0;
	for (i = 0; i < r->nprograms; i++)
		if (strcmp(r->programs[i], name) == 0)
			return 0;
	if (r->nprograms == REQUIRES_MAX)
		return -ENOSPC;
	snprintf(r->programs[r->nprograms++], sizeof(r->programs[0]), "%s", name);
	return 0;
}

int requires_check(struct requires_probe *p, const struct fw_case *c, char *why, size_t len,
		   char *err, size_t errlen)
{
	const struct fw_requires *r = &c->requires;
	bool ok;
	size_t i;
	int ret;

	if (r->kernel[0] && version_cmp(p->version, r->kernel) < 0)
		return missing(why, len, "needs Linux %s or later (this is %s)", r->kernel_text,
			       p->uts.release);
	for (i = 0; i < r->nsysctls + c->nsysctls; i++) {
		const char *name =
		    i < r->nsysctls ? r->sysctls[i] : c->sysctls[i - r->nsysctls].name;

		if ((ret = sysctl_exists(p, name, &ok)) < 0)
			return fw_err(err, errlen, ret, "cannot probe sysctl %s: %s", name,
				      strerror(-ret));
		/* net.netfilter.nf_conntrack_* appear when the module loads (a box's
		 * ruleset loads it): a module this kernel can load is enough */
		if (!ok && !strncmp(name, "net.netfilter.nf_conntrack_", 27))
			ok = module_exists(p, "nf_conntrack");
		if (!ok)
			return missing(why, len, "needs sysctl %s (Linux %s has none)", name,
				       p->uts.release);
	}
	for (i = 0; i < r->ncounters; i++)
		if (!counter_exists(p, r->counters[i]))
			return missing(why, len, "needs counter %s (Linux %s has none)",
				       r->counters[i], p->uts.release);
	for (i = 0; i < c->nsteps; i++)
		if (c->steps[i].kind == STEP_EXPECT_COUNTER &&
		    !counter_exists(p, c->steps[i].counter))
			return missing(why, len, "reads counter %s (Linux %s has none)",
				       c->steps[i].counter, p->uts.release);
	for (i = 0; i < r->nsockopts; i++) {
		if ((ret = sockopt_exists(p, r->sockopts[i].level, r->sockopts[i].opt, &ok)) < 0)
			return fw_err(err, errlen, ret, "cannot probe %s: %s", r->sockopts[i].name,
				      strerror(-ret));
		if (!ok)
			return missing(why, len, "needs socket option %s (Linux %s has none)",
				       r->sockopts[i].name, p->uts.release);
	}
	for (i = 0; i < r->nmodules; i++)
		if (!module_exists(p, r->modules[i]))
			return missing(
			    why, len,
			    "needs module %s (not loaded, built in or installed for Linux %s)",
			    r->modules[i], p->uts.release);
	for (i = 0; i < r->nprograms; i++) {
		char path[512];

		if (proc_tool_find(r->programs[i], path, sizeof(path)) < 0)
			return missing(why, len, "needs program %s (not installed: scripts/install-deps.sh installs the catalog's)",
				       r->programs[i]);
	}
	for (i = 0; i < r->nconfigs; i++) {
		ret = config_has(p, r->configs[i]);
		if (ret == -ENOENT)
			return missing(why, len,
				       "needs %s, and Linux %s publishes no config to tell (no "
				       "/proc/config.gz or /boot/config-%s)",
				       r->configs[i], p->uts.release, p->uts.release);
		if (ret == 0)
			return missing(why, len, "needs %s (Linux %s is built without it)",
				       r->configs[i], p->uts.release);
	}
	return 0;
}
