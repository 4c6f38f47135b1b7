/* counters: the kernel's SNMP/netstat counters of one network namespace
 * (/proc/net/snmp and /proc/net/netstat: Ip, Icmp, Tcp, Udp, TcpExt, IpExt,
 * MPTcpExt ...) and netfilter's statistics of a box (/proc/net/stat/
 * nf_conntrack and synproxy, once their modules are loaded: nf_conntrack.
 * invalid, synproxy.cookie_invalid ...), read from a thread that entered the
 * namespace, since /proc/net follows the reading thread's namespace. A case
 * compares two snapshots: TCPTimeWaitOverflow, TWRecycled, TCPChallengeACK... */
#ifndef FW_COUNTERS_H
#define FW_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

struct counter {
	char name[64]; /* "TcpExt.TCPTimeWaitOverflow" */
	int64_t value;
};

struct counter_set {
	struct counter *v;
	size_t n;
};

/* Read every counter of the namespace ns_fd. Returns 0 or -errno (err says
 * what). Caller frees with counter_set_clear(). */
int counters_read(int ns_fd, struct counter_set *out, char *err, size_t errlen);
/* Parse one file's text ("Tcp: A B\nTcp: 1 2\n..."), appending to out. */
int counters_parse(const char *text, struct counter_set *out);
/* Parse a /proc/net/stat file (a names line, one line of hex values per
 * CPU) into GROUP.name counters, summed over CPUs. */
int counters_parse_stat(const char *text, const char *group, struct counter_set *out);
/* Look a counter up by "Group.Name" or by its bare name ("TWRecycled").
 * Returns 0 with *value, or -ENOENT. */
int counters_get(const struct counter_set *cs, const char *name, int64_t *value);
void counter_set_clear(struct counter_set *cs);

#endif
