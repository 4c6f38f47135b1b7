/* requires: what a case needs from the kernel it runs on, and whether this
 * kernel has it. A run whose requirement is missing is SKIPped with the reason
 * instead of failing, so one catalog runs on every kernel a lab has.
 *
 * A case states requirements under `requires:` (sysctls, counters, a minimum
 * kernel version, socket options, modules); every sysctl it sets and every
 * counter it reads counts as an implicit requirement. A kernel option
 * (config:) is read from /proc/config.gz or /boot/config-RELEASE; when
 * neither exists the run is skipped, saying so, rather than guessed. */
#ifndef FW_REQUIRES_H
#define FW_REQUIRES_H

#include <stdbool.h>
#include <stddef.h>

#include "counters.h"

#define REQUIRES_MAX 16 /* as many as a case-file list holds (CASE_MAX_LIST) */

struct fw_requires {
	char sysctls[REQUIRES_MAX][96];  /* "net.ipv4.tcp_tw_reuse_delay" */
	size_t nsysctls;
	char counters[REQUIRES_MAX][64]; /* "TcpExt.PAWSTimewait" */
	size_t ncounters;
	char modules[REQUIRES_MAX][48];  /* "nf_conntrack": loaded, built in or loadable */
	size_t nmodules;
	char configs[REQUIRES_MAX][64]; /* "CONFIG_NF_CONNTRACK": =y or =m in the kernel's config */
	size_t nconfigs;
	char programs[REQUIRES_MAX][64]; /* "haproxy": found in PATH or the sbin directories */
	size_t nprograms;
	struct {
		char name[32]; /* "TCP_USER_TIMEOUT" */
		int level, opt;
	} sockopts[REQUIRES_MAX];
	size_t nsockopts;
	unsigned kernel[3]; /* minimum version, {0,0,0} = any */
	char kernel_text[24];
};

/* What the running kernel offers, read once per harness run: its release,
 * its counters and its modules. Every sysctl and socket-option probe happens
 * in the scratch network namespace ns_fd, because many sysctls exist only per
 * namespace and a namespace may lack what the host has. */
struct requires_probe;

/* Returns 0 or -errno with err saying what could not be read. Caller frees
 * with requires_probe_free(). ns_fd stays the caller's. */
int requires_probe_open(struct requires_probe **out, int ns_fd, char *err, size_t errlen);
void requires_probe_free(struct requires_probe *p); /* accepts NULL */

struct fw_case;
/* Does this kernel have what run c needs? Returns 0 when it does, 1 with
 * why = "needs sysctl net.x (this kernel has none)" when it does not, -errno
 * when a probe itself failed (err says why). */
int requires_check(struct requires_probe *p, const struct fw_case *c, char *why, size_t len,
		   char *err, size_t errlen);

/* Add a program to r (once); 0, or -ENOSPC when the list is full. */
int requires_add_program(struct fw_requires *r, const char *name);

/* "6.1.0-26-amd64" -> {6, 1, 0}; 0, or -EINVAL when it starts with no number. */
int requires_parse_version(const char *s, unsigned out[3]);

#endif
