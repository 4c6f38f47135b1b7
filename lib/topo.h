/* topo: the network a case runs on, built from scratch for every case.
 *
 *   client ns                 wire ns                      server ns
 *   eth0 198.18.1.2/24 ---- cl0 198.18.1.1  sv0 198.18.2.1 ---- eth0 198.18.2.2/24
 *        2001:2:0:1::2/64       2001:2:0:1::1  2001:2:0:2::1         2001:2:0:2::2/64
 *
 * Three anonymous namespaces held by fd (see netns.h), two veth pairs, all
 * configured over rtnetlink (libmnl), lo up everywhere, forwarding on in the
 * wire namespace. The wire namespace is the network between the hosts: the
 * interceptor sits in its FORWARD path, so a dropped segment was really sent
 * by one kernel and really never reached the other.
 * Nothing is ever written in the namespace the caller runs in. */
#ifndef FW_TOPO_H
#define FW_TOPO_H

#include <stddef.h>

#include "seg.h"

enum fw_host {
	HOST_CLIENT,
	HOST_SERVER,
	HOST_WIRE,
};
#define HOST_COUNT 3

const char *fw_host_name(enum fw_host h);        /* "client", "server", "wire" */
int fw_host_parse(const char *name, enum fw_host *out); /* 0 or -EINVAL */

struct topo;

/* Build the whole topology. Returns 0 or -errno with err filled; on failure
 * nothing is left behind. Caller frees with topo_free(). */
int topo_create(struct topo **out, char *err, size_t errlen);
void topo_free(struct topo *t); /* accepts NULL; closes the namespace fds */

int topo_ns_fd(const struct topo *t, enum fw_host h);
/* The host's interface toward the wire ("eth0"); for HOST_WIRE, NULL. */
const char *topo_ifname(const struct topo *t, enum fw_host h);
/* The wire namespace's interface facing host h ("cl0" or "sv0"). */
const char *topo_wire_ifname(const struct topo *t, enum fw_host h);
/* Address of a host (client or server) in the given family. */
void topo_addr(const struct topo *t, enum fw_host h, int family, struct fw_addr *out);

/* Write / read a sysctl inside the host's namespace. name is dotted
 * ("net.ipv4.tcp_rfc1337"). Unknown name: -ENOENT, read-only: -EACCES/-EPERM,
 * rejected value: -EINVAL; err names the sysctl. */
int topo_sysctl_set(struct topo *t, enum fw_host h, const char *name, const char *value,
		    char *err, size_t errlen);
int topo_sysctl_get(struct topo *t, enum fw_host h, const char *name, char *value,
		    size_t vlen, char *err, size_t errlen);

#endif
