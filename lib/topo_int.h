/* topo_int: what the files of the topology module share (topo.c, topo_nl.c, topo_sysctl.c). */
#ifndef FW_TOPO_INT_H
#define FW_TOPO_INT_H

#include "topo.h"

#include "netns.h"
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

/* Answers to our requests are small, but RTM_GETLINK replies carry every
 * per-family attribute of the link (IPv6 devconf alone is ~1 KiB); 32 KiB
 * keeps the receive from being truncated (MSG_TRUNC -> ENOSPC in libmnl). */
#define TOPO_NL_BUFSZ 32768
/* One request normally answers in microseconds, but every namespace and
 * link change of the machine takes the same lock (rtnl): with a hundred
 * cases setting up at once a request waited over 2 s and the case ERRORed
 * (issue 12). The bound is only for a kernel that never answers (a bug), so
 * it is far above any wait the lock causes. */
#define TOPO_NL_TIMEOUT_MS 30000
/* how long links may take to become operational (linkwatch; a real NIC: its carrier) */
#define TOPO_LINKS_UP_S 10
#define TOPO_V4_PREFIXLEN 24
#define TOPO_V6_PREFIXLEN 64
#define TOPO_SYSCTL_PATHLEN 256

#define TOPO_MAX_NODES 8

#define TOPO_MAX_LINKS 8

struct topo {
	const struct topo_desc *desc; /* &own: the description with real interface names */
	struct topo_desc own;
	struct topo_link_desc links[TOPO_MAX_LINKS];
	char ext_names[2][IF_NAMESIZE];
	int ns[TOPO_MAX_NODES]; /* by index in desc->nodes; -1 when not created */
	int home_ns;            /* the caller's namespace, to give external interfaces back */
	int moved;              /* external interfaces moved in so far (0-2) */
	pid_t keeper;           /* gives them back should this process die first */
	int keeper_pipe;        /* closing it tells the keeper to finish */
};

/* A NETLINK_ROUTE socket bound to one namespace: requests sent on it act on
 * the namespace it was created in, whichever namespace the thread is in. */
struct nl {
	struct mnl_socket *sock;
	char *buf; /* request, then reply: a request is not needed once sent */
	uint32_t seq;
	const char *host; /* the node's name, for messages */
};

typedef void (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data);

enum sysctl_stage {
	SYSCTL_OPEN,
	SYSCTL_READ,
	SYSCTL_WRITE,
};

/* ---- shared between the files of the module ---- */

const char *errstr(int err);
int sysctl_io(int ns_fd, const char *node, const char *name, const char *value,
		     char *buf, size_t blen, char *err, size_t errlen);
void nl_close(struct nl *nl);
int nl_open(struct nl *nl, int ns_fd, const char *h, char *err, size_t errlen);
void topo_mac(int ifindex, uint8_t mac[6]);
int nl_neigh_add(struct nl *nl, int ifindex, int family, const char *addr_text,
			int peer_ifindex, char *err, size_t errlen);
int nl_veth_create(struct nl *nl, const char *name, int index, const char *peer_name,
			  int peer_ns, int peer_index, char *err, size_t errlen);
int nl_link_up(struct nl *nl, const char *name, int *ifindex, char *err, size_t errlen);
int nl_links_wait_up(struct nl *nl, int64_t deadline, char *err, size_t errlen);
int nl_v6_wait_local(struct nl *nl, const char *const *addrs, size_t n, int64_t deadline,
		     char *err, size_t errlen);
int nl_bridge_create(struct nl *nl, const char *name, const char *const ports[2], char *err,
		     size_t errlen);
int nl_link_move(struct nl *nl, const char *name, int to_ns, const char *to, char *err,
			size_t errlen);
int addr_parse(int family, const char *text, uint8_t *bytes);
int nl_addr_add(struct nl *nl, int ifindex, const char *ifname, int family,
		       const char *text, char *err, size_t errlen);
int nl_route_add(struct nl *nl, int family, const char *dst, const char *gw, char *err,
			size_t errlen);

#endif
