/* topo: the network as data, and building it (see topo.h). Its rtnetlink
 * requests are in topo_nl.c, its sysctl reads and writes in topo_sysctl.c. */
#include "topo_int.h"

#include <pthread.h>

static void topo_move_out(struct topo *t);
static int topo_move_in(struct topo *t, char *err, size_t errlen);

/* ---- descriptions ------------------------------------------------------- */

/* client -- wire -- server: what every case runs on today (see topo.h). */
static const struct topo_node_desc classic_nodes[] = {
	{ "client", TOPO_ROLE_ENDPOINT },
	{ "server", TOPO_ROLE_ENDPOINT },
	{ "wire", TOPO_ROLE_WIRE },
};
static const struct topo_link_desc classic_links[] = {
	{ { "wire", "cl0", "198.18.1.1", "2001:2:0:1::1" },
	  { "client", "eth0", "198.18.1.2", "2001:2:0:1::2" }, false },
	{ { "wire", "sv0", "198.18.2.1", "2001:2:0:2::1" },
	  { "server", "eth0", "198.18.2.2", "2001:2:0:2::2" }, false },
};
static const struct topo_route_desc classic_routes[] = {
	{ "client", NULL, NULL, "198.18.1.1", "2001:2:0:1::1" },
	{ "server", NULL, NULL, "198.18.2.1", "2001:2:0:2::1" },
};
const struct topo_desc topo_desc_classic = {
	"client-wire-server", classic_nodes, 3, classic_links, 2, classic_routes, 2, NULL,
};

/* client -- wire-a -- dut -- wire-b -- server: a device under test between
 * two wires, routed. The endpoints keep their classic addresses, so a case
 * reads the same with or without a box; the box's legs are 198.18.3.0/24
 * and 198.18.4.0/24 (2001:2:0:3::/64, 2001:2:0:4::/64). */
static const struct topo_node_desc dut_nodes[] = {
	{ "client", TOPO_ROLE_ENDPOINT }, { "server", TOPO_ROLE_ENDPOINT },
	{ "wire-a", TOPO_ROLE_WIRE },     { "dut", TOPO_ROLE_DUT },
	{ "wire-b", TOPO_ROLE_WIRE },
};
static const struct topo_link_desc dut_links[] = {
	{ { "wire-a", "cl0", "198.18.1.1", "2001:2:0:1::1" },
	  { "client", "eth0", "198.18.1.2", "2001:2:0:1::2" }, false },
	{ { "wire-a", "dt0", "198.18.3.1", "2001:2:0:3::1" },
	  { "dut", "a0", "198.18.3.2", "2001:2:0:3::2" }, false },
	{ { "wire-b", "dt0", "198.18.4.1", "2001:2:0:4::1" },
	  { "dut", "b0", "198.18.4.2", "2001:2:0:4::2" }, false },
	{ { "wire-b", "sv0", "198.18.2.1", "2001:2:0:2::1" },
	  { "server", "eth0", "198.18.2.2", "2001:2:0:2::2" }, false },
};
static const struct topo_route_desc dut_routes[] = {
	{ "client", NULL, NULL, "198.18.1.1", "2001:2:0:1::1" },
	{ "server", NULL, NULL, "198.18.2.1", "2001:2:0:2::1" },
	{ "wire-a", NULL, NULL, "198.18.3.2", "2001:2:0:3::2" },
	{ "wire-b", NULL, NULL, "198.18.4.2", "2001:2:0:4::2" },
	{ "dut", "198.18.1.0/24", "2001:2:0:1::/64", "198.18.3.1", "2001:2:0:3::1" },
	{ "dut", "198.18.2.0/24", "2001:2:0:2::/64", "198.18.4.1", "2001:2:0:4::1" },
};
const struct topo_desc topo_desc_dut = {
	"client-wire-a-dut-wire-b-server", dut_nodes, 5, dut_links, 4, dut_routes, 6, NULL,
};

/* client -- wire-a -- dut (bridge) -- wire-b -- server: the box forwards at
 * layer 2, a transparent firewall or IPS; the two wires route, as the
 * client's and the server's gateways on one subnet through the box. */
static const struct topo_link_desc bridge_links[] = {
	{ { "wire-a", "cl0", "198.18.1.1", "2001:2:0:1::1" },
	  { "client", "eth0", "198.18.1.2", "2001:2:0:1::2" }, false },
	{ { "wire-a", "dt0", "198.18.3.1", "2001:2:0:3::1" }, { "dut", "a0", NULL, NULL }, false },
	{ { "wire-b", "dt0", "198.18.3.2", "2001:2:0:3::2" }, { "dut", "b0", NULL, NULL }, false },
	{ { "wire-b", "sv0", "198.18.2.1", "2001:2:0:2::1" },
	  { "server", "eth0", "198.18.2.2", "2001:2:0:2::2" }, false },
};
static const struct topo_route_desc bridge_routes[] = {
	{ "client", NULL, NULL, "198.18.1.1", "2001:2:0:1::1" },
	{ "server", NULL, NULL, "198.18.2.1", "2001:2:0:2::1" },
	{ "wire-a", NULL, NULL, "198.18.3.2", "2001:2:0:3::2" },
	{ "wire-b", NULL, NULL, "198.18.3.1", "2001:2:0:3::1" },
};
static const struct topo_bridge_desc bridge_br0 = { "dut", "br0", { "a0", "b0" } };
const struct topo_desc topo_desc_dut_bridge = {
	"client-wire-a-dut-bridge-wire-b-server", dut_nodes, 5, bridge_links, 4, bridge_routes, 4,
	&bridge_br0,
};

/* The same addresses as topo_desc_dut, with the box outside the machine. */
static const struct topo_node_desc external_nodes[] = {
	{ "client", TOPO_ROLE_ENDPOINT }, { "server", TOPO_ROLE_ENDPOINT },
	{ "wire-a", TOPO_ROLE_WIRE },     { "wire-b", TOPO_ROLE_WIRE },
};
static const struct topo_link_desc external_links[] = {
	{ { "wire-a", "cl0", "198.18.1.1", "2001:2:0:1::1" },
	  { "client", "eth0", "198.18.1.2", "2001:2:0:1::2" }, false },
	{ { "wire-a", "(a)", "198.18.3.1", "2001:2:0:3::1" },
	  { "wire-b", "(b)", "198.18.4.1", "2001:2:0:4::1" }, true },
	{ { "wire-b", "sv0", "198.18.2.1", "2001:2:0:2::1" },
	  { "server", "eth0", "198.18.2.2", "2001:2:0:2::2" }, false },
};
static const struct topo_route_desc external_routes[] = {
	{ "client", NULL, NULL, "198.18.1.1", "2001:2:0:1::1" },
	{ "server", NULL, NULL, "198.18.2.1", "2001:2:0:2::1" },
	{ "wire-a", NULL, NULL, "198.18.3.2", "2001:2:0:3::2" },
	{ "wire-b", NULL, NULL, "198.18.4.2", "2001:2:0:4::2" },
};
const struct topo_desc topo_desc_external = {
	"client-wire-a-external-box-wire-b-server", external_nodes, 4, external_links, 3,
	external_routes, 4, NULL,
};

/* The external box bridged (a transparent firewall cabled in): wire-a's
 * and wire-b's ends are one subnet through it, each the other's gateway;
 * no neighbour entries (the path's MACs are learned through the box). */
static const struct topo_link_desc external_bridge_links[] = {
	{ { "wire-a", "cl0", "198.18.1.1", "2001:2:0:1::1" },
	  { "client", "eth0", "198.18.1.2", "2001:2:0:1::2" }, false },
	{ { "wire-a", "(a)", "198.18.3.1", "2001:2:0:3::1" },
	  { "wire-b", "(b)", "198.18.3.2", "2001:2:0:3::2" }, true },
	{ { "wire-b", "sv0", "198.18.2.1", "2001:2:0:2::1" },
	  { "server", "eth0", "198.18.2.2", "2001:2:0:2::2" }, false },
};
const struct topo_desc topo_desc_external_bridge = {
	"client-wire-a-external-bridge-wire-b-server", external_nodes, 4, external_bridge_links, 3,
	bridge_routes, 4, NULL,
};

static const struct {
	enum fw_host host;
	const char *name;
} host_names[] = {
	{ HOST_CLIENT, "client" },
	{ HOST_SERVER, "server" },
	{ HOST_WIRE, "wire" },
	{ HOST_DUT, "dut" },
};
#define HOST_NAME_COUNT (sizeof(host_names) / sizeof(host_names[0]))

const char *fw_host_name(enum fw_host h)
{
	size_t i;

	for (i = 0; i < HOST_NAME_COUNT; i++)
		if (host_names[i].host == h)
			return host_names[i].name;
	return "?";
}

int fw_host_parse(const char *name, enum fw_host *out)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < HOST_NAME_COUNT; i++) {
		if (strcmp(host_names[i].name, name) == 0) {
			*out = host_names[i].host;
			return 0;
		}
	}
	return -EINVAL;
}

static int node_index(const struct topo_desc *d, const char *name)
{
	size_t i;

	for (i = 0; name && i < d->nnodes; i++)
		if (strcmp(d->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The end of a link on node (an endpoint has one link), and the other end. */
static const struct topo_end *end_on(const struct topo_desc *d, const char *node,
				     const struct topo_end **other)
{
	size_t i;

	for (i = 0; i < d->nlinks; i++) {
		if (strcmp(d->links[i].a.node, node) == 0) {
			*other = &d->links[i].b;
			return &d->links[i].a;
		}
		if (strcmp(d->links[i].b.node, node) == 0) {
			*other = &d->links[i].a;
			return &d->links[i].b;
		}
	}
	return NULL;
}

/* strerror() is not thread-safe and cases may run in parallel threads. */
const char *errstr(int err)
{
	const char *s = strerrordesc_np(err < 0 ? -err : err);

	return s ? s : "unknown error";
}

/* ---- topology ---------------------------------------------------------- */

/* Sysctls written before any link exists, so that new links inherit the
 * "default" values. accept_dad=0 covers the link-local addresses the kernel
 * adds by itself (NODAD only covers ours). A wire or a box forwards. */
static const struct {
	int forwarders_only;
	const char *name, *value;
} topo_sysctls[] = {
	{ 0, "net.ipv6.conf.all.accept_dad", "0" },
	{ 0, "net.ipv6.conf.default.accept_dad", "0" },
	{ 1, "net.ipv4.ip_forward", "1" },
	{ 1, "net.ipv6.conf.all.forwarding", "1" },
};
#define TOPO_SYSCTL_COUNT (sizeof(topo_sysctls) / sizeof(topo_sysctls[0]))

/* ---- the parent namespace ------------------------------------------------ */

/* Case namespaces are created from a namespace of finwave's own in which
 * net.ipv4.tcp_child_ehash_entries is set, so that each gets a TCP hash
 * table of its own of TOPO_CHILD_EHASH buckets instead of sharing the
 * host's (262,144 buckets on a 23 GiB machine): a sock_diag dump walks every
 * bucket of its namespace's table, and a namespace's exit purges its
 * TIME_WAIT sockets from it. The host's own sysctls are never written. The
 * kernel derives two defaults from the table's size (tcp_set_hashinfo());
 * they are set back to what a namespace sharing the host's table gets,
 * which is what the parent itself got, so that no case sees the change.
 * Without the sysctl (kernels before 6.1) namespaces share the host's. */
#define TOPO_CHILD_EHASH "4096"
static const char *const topo_hash_derived[] = {
	"net.ipv4.tcp_max_tw_buckets",
	"net.ipv4.tcp_max_syn_backlog",
};
#define TOPO_HASH_DERIVED 2

static struct {
	pthread_once_t once;
	bool shared;           /* topo_child_hash(false): the caller's tables */
	int fd;                /* -1: none, namespaces come from the caller's */
	char derived[TOPO_HASH_DERIVED][24];
	char note[FW_ERRLEN];
} topo_parent = { PTHREAD_ONCE_INIT, false, -1, { "", "" }, "" };

static void topo_parent_init(void)
{
	char err[FW_ERRLEN] = "";
	int fd = netns_create(), ret = fd;
	size_t i;

	if (fd >= 0)
		ret = sysctl_io(fd, "parent", "net.ipv4.tcp_child_ehash_entries", TOPO_CHILD_EHASH,
				NULL, 0, err, sizeof(err));
	for (i = 0; ret >= 0 && i < TOPO_HASH_DERIVED; i++)
		ret = sysctl_io(fd, "parent", topo_hash_derived[i], NULL, topo_parent.derived[i],
				sizeof(topo_parent.derived[i]), err, sizeof(err));
	if (ret < 0) {
		if (fd >= 0)
			close(fd);
		snprintf(topo_parent.note, sizeof(topo_parent.note), "shared with the host's (%s)",
			 err[0] ? err : errstr(ret));
		return;
	}
	topo_parent.fd = fd;
	snprintf(topo_parent.note, sizeof(topo_parent.note), "%s buckets per namespace",
		 TOPO_CHILD_EHASH);
}

/* The namespace to create case namespaces from, -1 for the caller's. */
static int topo_parent_fd(void)
{
	if (topo_parent.shared)
		return -1;
	pthread_once(&topo_parent.once, topo_parent_init);
	return topo_parent.fd;
}

void topo_child_hash(bool own)
{
	topo_parent.shared = !own;
	if (own)
		pthread_once(&topo_parent.once, topo_parent_init);
}

const char *topo_child_hash_note(void)
{
	if (topo_parent.shared)
		return "shared with the host's (asked)";
	pthread_once(&topo_parent.once, topo_parent_init);
	return topo_parent.note;
}

/* Explicit, distinct ifindexes: when both ends of a veth have the same index
 * (2 and 2 in fresh namespaces), linkwatch treats the carrier change as not
 * urgent and delays it up to a second, and IPv6 neighbour discovery waits
 * for it. Link i's ends are 10i+10 and 10i+11. */
static int end_ifindex(size_t link, int b_end)
{
	return 10 + 10 * (int)link + b_end;
}

/* One end of a link: up, its addresses (none for a bridge port), permanent
 * neighbour entries for its peer (its MAC is known: topo_mac of its
 * ifindex). */
static int topo_end_build(struct nl *nl, const struct topo_end *e, const struct topo_end *peer,
			  int peer_index, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int idx = 0, ret;
	size_t f;

	ret = nl_link_up(nl, e->ifname, &idx, err, errlen);
	for (f = 0; ret == 0 && e->v4 && f < 2; f++)
		ret = nl_addr_add(nl, idx, e->ifname, families[f], f ? e->v6 : e->v4, err, errlen);
	for (f = 0; ret == 0 && e->v4 && peer && f < 2; f++)
		ret = nl_neigh_add(nl, idx, families[f], f ? peer->v6 : peer->v4, peer_index, err,
				   errlen);
	return ret;
}

/* The layer-3 peer of end b_end of link i, and its ifindex: the other end,
 * or, when that is a bridge port, the end across the bridge (the other
 * port's link's far end). NULL when there is none. */
static const struct topo_end *l3_peer(const struct topo_desc *d, size_t i, int b_end,
				      int *peer_index)
{
	const struct topo_end *other = b_end ? &d->links[i].a : &d->links[i].b;
	size_t j;

	*peer_index = end_ifindex(i, !b_end);
	if (other->v4 || !d->bridge)
		return other;
	for (j = 0; j < d->nlinks; j++) {
		const struct topo_link_desc *l = &d->links[j];

		if (j == i || l->a.v4 == NULL)
			continue;
		if (l->b.v4 == NULL && strcmp(l->b.node, d->bridge->node) == 0) {
			*peer_index = end_ifindex(j, 0);
			return &l->a;
		}
	}
	return NULL;
}

/* A node's own IPv6 addresses, usable as destinations (nl_v6_wait_local()). */
static int topo_v6_wait_local(const struct topo_desc *d, const char *node, struct nl *nl,
			      char *err, size_t errlen)
{
	const char *addrs[2 * TOPO_MAX_LINKS];
	size_t i, n = 0;

	for (i = 0; i < d->nlinks; i++) {
		const struct topo_end *ends[2] = { &d->links[i].a, &d->links[i].b };
		int e;

		for (e = 0; e < 2; e++)
			if (ends[e]->v6 && ends[e]->node && strcmp(ends[e]->node, node) == 0)
				addrs[n++] = ends[e]->v6;
	}
	return nl_v6_wait_local(nl, addrs, n, fw_now_ns() + TOPO_LINKS_UP_S * FW_NS_PER_SEC, err,
				errlen);
}

/* Links up, then addresses, then routes: IPv4 only installs the prefix route
 * of an address on a link that is up, and the routes need their gateways
 * reachable through those prefix routes. */
static int topo_wire_up(struct topo *t, struct nl *nl, char *err, size_t errlen)
{
	const struct topo_desc *d = t->desc;
	size_t i;
	int ret = 0;

	for (i = 0; ret == 0 && i < d->nlinks; i++) {
		const struct topo_link_desc *l = &d->links[i];

		if (l->external)
			continue; /* its ends were moved in: topo_move_in() */
		/* created in a's namespace with the peer born directly in b's: a
		 * veth moved afterwards would first appear in a's namespace under
		 * the peer's name and could clash there */
		ret = nl_veth_create(&nl[node_index(d, l->a.node)], l->a.ifname, end_ifindex(i, 0),
				     l->b.ifname, t->ns[node_index(d, l->b.node)],
				     end_ifindex(i, 1), err, errlen);
	}
	if (ret == 0 && d->bridge)
		ret = nl_bridge_create(&nl[node_index(d, d->bridge->node)], d->bridge->name,
				       d->bridge->ports, err, errlen);
	for (i = 0; ret == 0 && i < d->nlinks; i++) {
		const struct topo_link_desc *l = &d->links[i];
		const struct topo_end *pa, *pb;
		int ia = 0, ib = 0; /* no peer (external): unused */

		/* an external link's ends face the box, whose MACs we do not know */
		pa = l->external ? NULL : l3_peer(d, i, 0, &ia);
		pb = l->external ? NULL : l3_peer(d, i, 1, &ib);
		ret = topo_end_build(&nl[node_index(d, l->a.node)], &l->a, pa, ia, err, errlen);
		if (ret == 0)
			ret = topo_end_build(&nl[node_index(d, l->b.node)], &l->b, pb, ib, err, errlen);
	}
	for (i = 0; ret == 0 && i < d->nroutes; i++) {
		const struct topo_route_desc *r = &d->routes[i];
		struct nl *n = &nl[node_index(d, r->node)];

		ret = nl_route_add(n, AF_INET, r->dst_v4, r->via_v4, err, errlen);
		if (ret == 0)
			ret = nl_route_add(n, AF_INET6, r->dst_v6, r->via_v6, err, errlen);
	}
	return ret;
}

/* Every name a link or route uses is a node, and no more nodes than fit. */
static int topo_desc_check(const struct topo_desc *d, char *err, size_t errlen)
{
	size_t i;

	if (d->nnodes > TOPO_MAX_NODES)
		return fw_err(err, errlen, -EINVAL, "topology %s: %zu nodes, at most %d", d->name,
			      d->nnodes, TOPO_MAX_NODES);
	for (i = 0; i < d->nlinks; i++)
		if (node_index(d, d->links[i].a.node) < 0 || node_index(d, d->links[i].b.node) < 0)
			return fw_err(err, errlen, -EINVAL, "topology %s: link %zu names no node",
				      d->name, i);
	if (d->bridge && node_index(d, d->bridge->node) < 0)
		return fw_err(err, errlen, -EINVAL, "topology %s: the bridge names no node", d->name);
	for (i = 0; i < d->nroutes; i++)
		if (node_index(d, d->routes[i].node) < 0)
			return fw_err(err, errlen, -EINVAL, "topology %s: route %zu names no node",
				      d->name, i);
	return 0;
}

/* t's own copy of d, the external link's ends named after ext. */
static int topo_own_desc(struct topo *t, const struct topo_desc *d, const char *const ext[2],
			 char *err, size_t errlen)
{
	size_t i;

	if (d->nlinks > TOPO_MAX_LINKS)
		return fw_err(err, errlen, -EINVAL, "topology %s: %zu links, at most %d", d->name,
			      d->nlinks, TOPO_MAX_LINKS);
	t->own = *d;
	memcpy(t->links, d->links, d->nlinks * sizeof(*d->links));
	t->own.links = t->links;
	t->desc = &t->own;
	for (i = 0; i < d->nlinks; i++) {
		if (!d->links[i].external)
			continue;
		if (!ext || !ext[0] || !ext[1] || !ext[0][0] || !ext[1][0] ||
		    strlen(ext[0]) >= IF_NAMESIZE || strlen(ext[1]) >= IF_NAMESIZE)
			return fw_err(err, errlen, -EINVAL,
				      "topology %s: name the two interfaces of the external box", d->name);
		snprintf(t->ext_names[0], sizeof(t->ext_names[0]), "%s", ext[0]);
		snprintf(t->ext_names[1], sizeof(t->ext_names[1]), "%s", ext[1]);
		t->links[i].a.ifname = t->ext_names[0];
		t->links[i].b.ifname = t->ext_names[1];
	}
	return 0;
}


/* A process that holds the wire namespaces and, when this one ends however
 * it ends (its pipe reaches EOF: even SIGKILL), moves the external
 * interfaces back before the namespaces can go: the kernel would return a
 * physical interface to the initial namespace, not ours, and would delete a
 * veth stand-in. Started before anything may fail after the move. */
static int topo_keeper_start(struct topo *t, char *err, size_t errlen)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return fw_err(err, errlen, -errno, "keeper pipe: %s", errstr(errno));
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return fw_err(err, errlen, -errno, "keeper: %s", errstr(errno));
	}
	if (pid == 0) {
		char c;

		close(p[1]);
		/* no other thread exists while a topology is built (capture opens
		 * later), so the libraries are safe to use in this child */
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		t->moved = 2; /* whatever got moved: a name not found is no harm */
		topo_move_out(t);
		_exit(0);
	}
	close(p[0]);
	t->keeper = pid;
	t->keeper_pipe = p[1];
	return 0;
}

/* The external link's interfaces, from the caller's namespace into their
 * wires'. */
static int topo_move_in(struct topo *t, char *err, size_t errlen)
{
	const struct topo_desc *d = t->desc;
	struct nl home;
	size_t i;
	int k, ret = 0;

	memset(&home, 0, sizeof(home));
	for (i = 0; i < d->nlinks && !d->links[i].external; i++)
		;
	if (i == d->nlinks)
		return 0;
	t->home_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->home_ns < 0)
		return fw_err(err, errlen, -errno, "cannot hold this namespace: %s", errstr(errno));
	/* the keeper first: the process may be killed between two moves */
	ret = topo_keeper_start(t, err, errlen);
	if (ret == 0)
		ret = nl_open(&home, t->home_ns, "finwave's", err, errlen);
	for (k = 0; k < 2 && ret == 0; k++) {
		const struct topo_end *e = k ? &d->links[i].b : &d->links[i].a;
		int ns = t->ns[node_index(d, e->node)];
		char dad[96];

		ret = nl_link_move(&home, e->ifname, ns, e->node, err, errlen);
		if (ret < 0)
			break;
		t->moved++;
		/* not a new link, so the wire's default accept_dad=0 does not
		 * reach it: without this its addresses wait a second of DAD (a
		 * dotted VLAN name cannot be spelled as a sysctl: it keeps DAD) */
		snprintf(dad, sizeof(dad), "net.ipv6.conf.%s.accept_dad", e->ifname);
		if (!strchr(e->ifname, '.'))
			ret = sysctl_io(ns, e->node, dad, "0", NULL, 0, err, errlen);
	}
	nl_close(&home);
	return ret;
}

/* Give the external interfaces back to the caller's namespace. */
static void topo_move_out(struct topo *t)
{
	const struct topo_desc *d = t->desc;
	char err[FW_ERRLEN];
	size_t i;
	int k;

	for (i = 0; i < d->nlinks && !d->links[i].external; i++)
		;
	for (k = 0; i < d->nlinks && k < t->moved; k++) {
		const struct topo_end *e = k ? &d->links[i].b : &d->links[i].a;
		struct nl wire;

		memset(&wire, 0, sizeof(wire));
		if (nl_open(&wire, t->ns[node_index(d, e->node)], e->node, err, sizeof(err)) == 0)
			nl_link_move(&wire, e->ifname, t->home_ns, "finwave's", err, sizeof(err));
		nl_close(&wire);
	}
	t->moved = 0;
}

int topo_build(struct topo **out, const struct topo_desc *d, char *err, size_t errlen)
{
	return topo_build_ext(out, d, NULL, err, errlen);
}

int topo_build_ext(struct topo **out, const struct topo_desc *d, const char *const ext[2],
		   char *err, size_t errlen)
{
	struct nl nl[TOPO_MAX_NODES];
	struct topo *t = NULL;
	size_t h, i;
	int lo_idx, ret;

	memset(nl, 0, sizeof(nl));
	*out = NULL;
	ret = topo_desc_check(d, err, errlen);
	if (ret < 0)
		goto out;
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = fw_err(err, errlen, -ENOMEM, "topology: out of memory");
		goto out;
	}
	t->home_ns = -1;
	t->keeper_pipe = -1;
	for (h = 0; h < TOPO_MAX_NODES; h++)
		t->ns[h] = -1;
	ret = topo_own_desc(t, d, ext, err, errlen);
	if (ret < 0)
		goto out;
	d = t->desc;
	for (h = 0; h < d->nnodes; h++) {
		const struct topo_node_desc *n = &d->nodes[h];

		ret = netns_create_in(topo_parent_fd());
		if (ret < 0) {
			ret = fw_err(err, errlen, ret, "create the %s namespace: %s", n->name,
				     errstr(ret));
			goto out;
		}
		t->ns[h] = ret;
		for (i = 0; topo_parent_fd() >= 0 && i < TOPO_HASH_DERIVED; i++) {
			ret = sysctl_io(t->ns[h], n->name, topo_hash_derived[i],
					topo_parent.derived[i], NULL, 0, err, errlen);
			if (ret < 0)
				goto out;
		}
		for (i = 0; i < TOPO_SYSCTL_COUNT; i++) {
			if (topo_sysctls[i].forwarders_only && n->role == TOPO_ROLE_ENDPOINT)
				continue;
			ret = sysctl_io(t->ns[h], n->name, topo_sysctls[i].name,
					topo_sysctls[i].value, NULL, 0, err, errlen);
			if (ret < 0)
				goto out;
		}
		ret = nl_open(&nl[h], t->ns[h], n->name, err, errlen);
		if (ret < 0)
			goto out;
		ret = nl_link_up(&nl[h], "lo", &lo_idx, err, errlen);
		if (ret < 0)
			goto out;
	}
	ret = topo_move_in(t, err, errlen);
	if (ret == 0)
		ret = topo_wire_up(t, nl, err, errlen);
	for (h = 0; ret == 0 && h < d->nnodes; h++)
		ret = nl_links_wait_up(&nl[h], fw_now_ns() + TOPO_LINKS_UP_S * FW_NS_PER_SEC, err,
				       errlen);
	for (h = 0; ret == 0 && h < d->nnodes; h++)
		ret = topo_v6_wait_local(d, d->nodes[h].name, &nl[h], err, errlen);
	if (ret < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	for (h = TOPO_MAX_NODES; h-- > 0;)
		nl_close(&nl[h]);
	/* Closing the namespace fds is the whole teardown: the kernel destroys
	 * each namespace with its last reference, veths and addresses included. */
	topo_free(t);
	return ret;
}

int topo_create(struct topo **out, char *err, size_t errlen)
{
	return topo_build(out, &topo_desc_classic, err, errlen);
}

void topo_free(struct topo *t)
{
	size_t h;

	if (!t)
		return;
	topo_move_out(t);
	if (t->keeper > 0) { /* it finds nothing left to move and ends */
		close(t->keeper_pipe);
		while (waitpid(t->keeper, NULL, 0) < 0 && errno == EINTR)
			;
	}
	for (h = 0; h < TOPO_MAX_NODES; h++)
		if (t->ns[h] >= 0)
			close(t->ns[h]);
	if (t->home_ns >= 0)
		close(t->home_ns);
	free(t);
}

size_t topo_node_count(const struct topo *t)
{
	return t ? t->desc->nnodes : 0;
}

const struct topo_node_desc *topo_node(const struct topo *t, size_t i)
{
	return t && i < t->desc->nnodes ? &t->desc->nodes[i] : NULL;
}

int topo_node_ns_fd(const struct topo *t, const char *name)
{
	int i = t ? node_index(t->desc, name) : -1;

	return i < 0 ? -EINVAL : t->ns[i];
}

/* HOST_WIRE: the first node of role wire; any other host: by its name. */
static int host_node(const struct topo *t, enum fw_host h)
{
	size_t i;

	if (!t)
		return -1;
	if (h != HOST_WIRE)
		return node_index(t->desc, fw_host_name(h));
	for (i = 0; i < t->desc->nnodes; i++)
		if (t->desc->nodes[i].role == TOPO_ROLE_WIRE)
			return (int)i;
	return -1;
}

int topo_ns_fd(const struct topo *t, enum fw_host h)
{
	int i = host_node(t, h);

	return i < 0 ? -EINVAL : t->ns[i];
}

/* The first link on the way from node `from` to node `to` (breadth first
 * over at most TOPO_MAX_NODES nodes): its end on `from`. */
static const struct topo_end *first_hop(const struct topo_desc *d, int from, int to)
{
	int prev[TOPO_MAX_NODES], queue[TOPO_MAX_NODES], head = 0, tail = 0, n;
	const struct topo_end *hop = NULL;
	size_t i;

	for (n = 0; n < TOPO_MAX_NODES; n++)
		prev[n] = -2;
	prev[from] = -1;
	queue[tail++] = from;
	while (head < tail && prev[to] == -2) {
		int cur = queue[head++];

		for (i = 0; i < d->nlinks; i++) {
			int a = node_index(d, d->links[i].a.node), b = node_index(d, d->links[i].b.node);
			int next = a == cur ? b : b == cur ? a : -1;

			if (next >= 0 && prev[next] == -2) {
				prev[next] = cur;
				queue[tail++] = next;
			}
		}
	}
	if (prev[to] == -2 || to == from)
		return NULL;
	for (n = to; prev[n] != from; n = prev[n])
		;
	for (i = 0; i < d->nlinks && !hop; i++) { /* the link between from and n */
		const struct topo_link_desc *l = &d->links[i];

		if (node_index(d, l->a.node) == from && node_index(d, l->b.node) == n)
			hop = &l->a;
		else if (node_index(d, l->b.node) == from && node_index(d, l->a.node) == n)
			hop = &l->b;
	}
	return hop;
}

const char *topo_ifname(const struct topo *t, enum fw_host h)
{
	const struct topo_end *other, *e;

	if (!t || h == HOST_WIRE)
		return NULL;
	e = end_on(t->desc, fw_host_name(h), &other);
	return e ? e->ifname : NULL;
}

const char *topo_wire_ifname(const struct topo *t, enum fw_host h)
{
	int wire = host_node(t, HOST_WIRE), node = host_node(t, h);
	const struct topo_end *hop;

	if (wire < 0 || node < 0 || h == HOST_WIRE)
		return NULL;
	hop = first_hop(t->desc, wire, node);
	return hop ? hop->ifname : NULL;
}

const char *topo_node_ifname_toward(const struct topo *t, const char *node, enum fw_host h)
{
	int from = t ? node_index(t->desc, node) : -1, to = host_node(t, h);
	const struct topo_end *hop;

	if (from < 0 || to < 0)
		return NULL;
	hop = first_hop(t->desc, from, to);
	return hop ? hop->ifname : NULL;
}

void topo_addr(const struct topo *t, enum fw_host h, int family, struct fw_addr *out)
{
	const struct topo_end *other, *e = NULL;

	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (t && h != HOST_WIRE)
		e = end_on(t->desc, fw_host_name(h), &other);
	if (!e || !e->v4 || (family != AF_INET && family != AF_INET6))
		return; /* a bridge port has no address */
	if (addr_parse(family, family == AF_INET ? e->v4 : e->v6, out->bytes) == 0)
		out->family = family;
}
