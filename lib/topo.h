/* topo: the network a case runs on, built from scratch for every case.
 *
 * The network is data: a description (struct topo_desc) lists nodes, each a
 * namespace with a role, the veth links between them with each end's
 * addresses, and the routes; topo_build() makes any such description. Code
 * that needs "every namespace" loops over the nodes. Two descriptions ship:
 * topo_desc_classic, below, which every case runs on today, and
 * topo_desc_dut, client -- wire-a -- dut -- wire-b -- server, for a device
 * under test between two wires (routed; the endpoints keep their addresses).
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

#include <stdbool.h>
#include <stddef.h>

#include "seg.h"

enum fw_host {
	HOST_CLIENT,
	HOST_SERVER,
	HOST_WIRE,
	HOST_DUT, /* the device under test, when a case has one */
};
#define HOST_COUNT 4

const char *fw_host_name(enum fw_host h);        /* "client", "server", "wire" */
int fw_host_parse(const char *name, enum fw_host *out); /* 0 or -EINVAL */

struct topo;

enum topo_role {
	TOPO_ROLE_ENDPOINT, /* a host whose sockets the case drives */
	TOPO_ROLE_WIRE,     /* the network: interceptor and captures; forwards */
	TOPO_ROLE_DUT,      /* a device under test; forwards unless told otherwise */
};

struct topo_node_desc {
	const char *name; /* "client", "wire-a", "dut" */
	enum topo_role role;
};

struct topo_end {
	const char *node, *ifname;
	const char *v4, *v6; /* the end's addresses (/24 and /64) */
};

/* A veth pair: created in a's namespace, b's end born in b's. An external
 * link is the path through a box outside the machine: its two ends are real
 * interfaces (named at build time) moved from the caller's namespace into a's
 * and b's, given back at topo_free(); no permanent neighbour entries (the
 * box's addresses are its own). */
struct topo_link_desc {
	struct topo_end a, b;
	bool external;
};

/* A route in node's namespace: to dst ("198.18.2.0/24", NULL = default) via a
 * gateway on one of its links, for each family. */
struct topo_route_desc {
	const char *node;
	const char *dst_v4, *dst_v6;
	const char *via_v4, *via_v6;
};

/* A Linux bridge in node's namespace with two ports (ends of links whose
 * addresses are NULL): the node forwards at layer 2. The ends facing the
 * ports are one subnet, and each one's neighbour is the end across the
 * bridge. */
struct topo_bridge_desc {
	const char *node, *name;
	const char *ports[2];
};

struct topo_desc {
	const char *name;
	const struct topo_node_desc *nodes;
	size_t nnodes;
	const struct topo_link_desc *links;
	size_t nlinks;
	const struct topo_route_desc *routes;
	size_t nroutes;
	const struct topo_bridge_desc *bridge; /* NULL: none */
};

extern const struct topo_desc topo_desc_classic; /* client -- wire -- server */
extern const struct topo_desc topo_desc_dut;     /* client -- wire-a -- dut -- wire-b -- server */
/* The same with the box a bridge (br0 over a0 and b0, no addresses of its
 * own): wire-a's dt0 198.18.3.1 and wire-b's dt0 198.18.3.2 are one subnet
 * through it (2001:2:0:3::1 and ::2); the endpoints keep their addresses. */
extern const struct topo_desc topo_desc_dut_bridge;
/* client -- wire-a == an external box == wire-b -- server: wire-a's end is
 * 198.18.3.1 (the box's 198.18.3.2), wire-b's 198.18.4.1 (the box's 198.18.4.2). */
extern const struct topo_desc topo_desc_external;
/* The same with a bridged external box: wire-a's end 198.18.3.1 and
 * wire-b's 198.18.3.2 (2001:2:0:3::1, ::2) are one subnet through it. */
extern const struct topo_desc topo_desc_external_bridge;

/* Build the network d describes. Returns 0 or -errno with err filled; on
 * failure nothing is left behind. Caller frees with topo_free(). d must
 * outlive the topology. */
int topo_build(struct topo **out, const struct topo_desc *d, char *err, size_t errlen);
/* The same, with the real interfaces (ext[0] on the a side, ext[1] on the b
 * side) of d's external link; they must exist in the caller's namespace.
 * topo_free() moves them back; if the process dies, the kernel returns a
 * physical interface to the initial namespace when its namespace goes. */
int topo_build_ext(struct topo **out, const struct topo_desc *d, const char *const ext[2],
		   char *err, size_t errlen);
size_t topo_node_count(const struct topo *t);
const struct topo_node_desc *topo_node(const struct topo *t, size_t i); /* NULL past the end */
int topo_node_ns_fd(const struct topo *t, const char *name);            /* -EINVAL: no such node */

/* topo_build() of topo_desc_classic. The functions taking enum fw_host look
 * the node up by its name ("client", "server", "dut"); HOST_WIRE is the first
 * node of role wire (the one the interceptor sits in). */
int topo_create(struct topo **out, char *err, size_t errlen);
void topo_free(struct topo *t); /* accepts NULL; closes the namespace fds */

/* Whether the namespaces built from now on get a small TCP hash table of
 * their own (the default, where the kernel can: topo.c) or share the
 * caller's namespace's; and a line saying which, for figures. Calling
 * topo_child_hash(true) before fork() makes the children share one parent
 * namespace instead of making one each. */
void topo_child_hash(bool own);
const char *topo_child_hash_note(void);

int topo_ns_fd(const struct topo *t, enum fw_host h);
/* The host's interface toward the wire ("eth0"); for HOST_WIRE, NULL. */
const char *topo_ifname(const struct topo *t, enum fw_host h);
/* The interface through which host h's segments enter the interceptor's
 * wire node (the first node of role wire): "cl0" or "sv0" on the classic
 * topology, "cl0" or "dt0" (from the box) on wire-a of the box topology. */
const char *topo_wire_ifname(const struct topo *t, enum fw_host h);
/* The same from any node by name: the interface of `node` through which
 * host h's segments arrive ("dt0" on wire-b for the client's); NULL when
 * there is no such node or path. */
const char *topo_node_ifname_toward(const struct topo *t, const char *node, enum fw_host h);
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
