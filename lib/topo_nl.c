/* topo_nl: the rtnetlink requests a topology is built with (libmnl): links,
 * veths, addresses, neighbours, routes, moves between namespaces. */
#include "topo_int.h"

#include <linux/if.h> /* IF_OPER_*: after <net/if.h>, whose names it then leaves alone */
#include <poll.h>

/* ---- rtnetlink --------------------------------------------------------- */


void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	nl->sock = NULL;
	nl->buf = NULL;
}

int nl_open(struct nl *nl, int ns_fd, const char *h, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = TOPO_NL_TIMEOUT_MS / 1000,
			      .tv_usec = (TOPO_NL_TIMEOUT_MS % 1000) * 1000 };
	int fd = -1, one = 1, ret;

	nl->host = h;
	nl->seq = (uint32_t)time(NULL);
	nl->buf = malloc(TOPO_NL_BUFSZ);
	if (!nl->buf) {
		ret = fw_err(err, errlen, -ENOMEM, "rtnetlink buffer: out of memory");
		goto out;
	}
	fd = netns_socket(ns_fd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0) {
		ret = fw_err(err, errlen, fd, "open rtnetlink in the %s namespace: %s", h,
			     errstr(fd));
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = fw_err(err, errlen, -errno, "rtnetlink receive timeout: %s", errstr(errno));
		goto out;
	}
	nl->sock = mnl_socket_fdopen(fd);
	if (!nl->sock) {
		ret = fw_err(err, errlen, -ENOMEM, "rtnetlink socket: out of memory");
		goto out;
	}
	fd = -1; /* owned by nl->sock now */
	/* Extended ACKs carry the kernel's reason ("Invalid prefix for given
	 * prefix length"); capped ACKs keep our request out of the error.
	 * Both are best effort: old kernels just give the bare errno. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = fw_err(err, errlen, -errno, "bind rtnetlink in the %s namespace: %s", h,
			     errstr(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		nl_close(nl);
	return ret;
}

static struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	/* libmnl leaves attribute padding as it finds it: start from zeros so
	 * no stale bytes go to the kernel. */
	memset(nl->buf, 0, TOPO_NL_BUFSZ);
	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* The kernel's own words from an extended ACK, or NULL. */
static const char *nl_ack_text(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t payload = mnl_nlmsg_get_payload_len(nlh);
	size_t off = sizeof(*e), tlv_len;
	const struct nlattr *attr;
	const void *tlvs;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	/* Uncapped, the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (off >= payload)
		return NULL;
	tlvs = (const char *)e + off;
	tlv_len = payload - off;
	mnl_attr_for_each_payload(tlvs, tlv_len) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}


/* Send the request built in nl->buf and wait for its ACK. Replies other than
 * the ACK go to fn. Errors name the request: "create veth cl0/eth0: File exists". */
static int nl_talk(struct nl *nl, nl_reply_fn fn, void *data, const char *what, char *err,
		   size_t errlen)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)nl->buf;
	int64_t deadline = fw_now_ns() + TOPO_NL_TIMEOUT_MS * FW_NS_PER_MS;
	uint32_t seq = req->nlmsg_seq;
	int ret = 1; /* > 0: ACK not seen yet */

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
		ret = fw_err(err, errlen, -errno, "%s: send: %s", what, errstr(errno));
		goto out;
	}
	while (ret > 0) {
		const struct nlmsghdr *nlh;
		ssize_t n;
		int left;

		if (fw_now_ns() > deadline) {
			ret = fw_err(err, errlen, -ETIMEDOUT, "%s: no answer from the kernel in %d ms",
				     what, TOPO_NL_TIMEOUT_MS);
			goto out;
		}
		n = mnl_socket_recvfrom(nl->sock, nl->buf, TOPO_NL_BUFSZ);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				ret = fw_err(err, errlen, -ETIMEDOUT,
					     "%s: no answer from the kernel in %d ms", what,
					     TOPO_NL_TIMEOUT_MS);
			else
				ret = fw_err(err, errlen, -errno, "%s: receive: %s", what,
					     errstr(errno));
			goto out;
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)nl->buf; ret > 0 && mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			/* A late answer to an earlier request is not ours. */
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				const char *text;

				if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
					ret = fw_err(err, errlen, -EBADMSG, "%s: truncated ACK",
						     what);
					goto out;
				}
				if (e->error == 0) {
					ret = 0;
					goto out;
				}
				text = nl_ack_text(nlh);
				ret = fw_err(err, errlen, e->error < 0 ? e->error : -EPROTO,
					     "%s: %s%s%s%s", what, errstr(e->error),
					     text ? " (" : "", text ? text : "", text ? ")" : "");
				goto out;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				ret = 0;
				goto out;
			}
			if (fn)
				fn(nlh, data);
		}
	}
out:
	return ret;
}

/* Fixed, locally administered MACs, so each end's neighbour entry for the
 * other can be written before any packet flows (see topo_neigh_add). */
void topo_mac(int ifindex, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0xf1;
	mac[2] = 0x5a;
	mac[3] = 0x7e;
	mac[4] = 0;
	mac[5] = (uint8_t)ifindex;
}

/* A permanent neighbour entry: the first packet to a peer leaves at once,
 * with no ARP or neighbour solicitation. Measured without it: under load a
 * case's first IPv6 SYN sometimes waited a full second for neighbour
 * discovery (the solicitation lost while the peer's addrconf work had not
 * yet joined the solicited-node group), which made the connection's RTO
 * 3 s and moved every timer derived from it. */
int nl_neigh_add(struct nl *nl, int ifindex, int family, const char *addr_text,
			int peer_ifindex, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	struct ndmsg *nd;
	uint8_t addr[16], mac[6];
	char what[96];

	if (inet_pton(family, addr_text, addr) != 1)
		return fw_err(err, errlen, -EINVAL, "bad address %s", addr_text);
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (uint8_t)family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, addr);
	topo_mac(peer_ifindex, mac);
	mnl_attr_put(nlh, NDA_LLADDR, sizeof(mac), mac);
	snprintf(what, sizeof(what), "neighbour %s", addr_text);
	return nl_talk(nl, NULL, NULL, what, err, errlen);
}

/* RTM_NEWLINK kind veth, created in nl's namespace (the wire) with the peer
 * born directly in peer_ns: a veth moved afterwards would first appear in
 * the wire namespace under the peer's name and could clash there. */
int nl_veth_create(struct nl *nl, const char *name, int index, const char *peer_name,
			  int peer_ns, int peer_index, char *err, size_t errlen)
{
	uint8_t mac[6];
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi;
	struct nlattr *linkinfo, *infodata, *peer;
	char what[64];

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	topo_mac(index, mac);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	infodata = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* VETH_INFO_PEER holds a whole ifinfomsg then IFLA_* attributes; the
	 * extra-header helper just appends zeroed room at the tail, which is
	 * inside the open nest here. */
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = peer_index;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	topo_mac(peer_index, mac);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, infodata);
	mnl_attr_nest_end(nlh, linkinfo);
	snprintf(what, sizeof(what), "create veth %s/%s", name, peer_name);
	return nl_talk(nl, NULL, NULL, what, err, errlen);
}

static void nl_ifindex_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return;
	ifi = mnl_nlmsg_get_payload(nlh);
	*(int *)data = ifi->ifi_index;
}

/* The index of the link called name in nl's namespace. */
static int nl_link_index(struct nl *nl, const char *name, int *ifindex, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifi;
	char what[96];
	int idx = 0, ret;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* Only the index is wanted: skip the per-VF and stats blobs. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	snprintf(what, sizeof(what), "find %s in the %s namespace", name, nl->host);
	ret = nl_talk(nl, nl_ifindex_reply, &idx, what, err, errlen);
	if (ret == 0 && idx <= 0)
		ret = fw_err(err, errlen, -ENODEV, "%s: no link in the reply", what);
	if (ret == 0)
		*ifindex = idx;
	return ret;
}

/* Look the link up by name, then set it up by index; returns the index. */
int nl_link_up(struct nl *nl, const char *name, int *ifindex, char *err, size_t errlen)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	char what[96];
	int idx = 0, ret;

	ret = nl_link_index(nl, name, &idx, err, errlen);
	if (ret < 0)
		return ret;
	nlh = nl_msg(nl, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	snprintf(what, sizeof(what), "set %s up in the %s namespace", name, nl->host);
	ret = nl_talk(nl, NULL, NULL, what, err, errlen);
	if (ret == 0)
		*ifindex = idx;
	return ret;
}

/* A bridge called name in nl's namespace, up, with the two links ports[]
 * as its ports (they are set up with their ends later). STP stays off (the
 * kernel's default), so a port forwards as soon as it is up. */
int nl_bridge_create(struct nl *nl, const char *name, const char *const ports[2], char *err,
		     size_t errlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi;
	struct nlattr *linkinfo;
	char what[96];
	int br = 0, port, k, ret;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, linkinfo);
	snprintf(what, sizeof(what), "create bridge %s in the %s namespace", name, nl->host);
	ret = nl_talk(nl, NULL, NULL, what, err, errlen);
	if (ret == 0)
		ret = nl_link_up(nl, name, &br, err, errlen);
	for (k = 0; ret == 0 && k < 2; k++) {
		ret = nl_link_index(nl, ports[k], &port, err, errlen);
		if (ret < 0)
			break;
		nlh = nl_msg(nl, RTM_NEWLINK, 0);
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = port;
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)br);
		snprintf(what, sizeof(what), "make %s a port of %s in the %s namespace", ports[k],
			 name, nl->host);
		ret = nl_talk(nl, NULL, NULL, what, err, errlen);
	}
	return ret;
}

/* Move the link called name from nl's namespace into to_ns. The kernel
 * brings it down and drops its addresses on the way. */
int nl_link_move(struct nl *nl, const char *name, int to_ns, const char *to, char *err,
			size_t errlen)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	char what[128];
	int idx = 0, ret;

	ret = nl_link_index(nl, name, &idx, err, errlen);
	if (ret < 0)
		return ret;
	nlh = nl_msg(nl, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)to_ns);
	snprintf(what, sizeof(what), "move %s from the %s namespace to the %s one", name, nl->host,
		 to);
	return nl_talk(nl, NULL, NULL, what, err, errlen);
}

int addr_parse(int family, const char *text, uint8_t *bytes)
{
	return inet_pton(family, text, bytes) == 1 ? 0 : -EINVAL;
}

/* Addresses go in with IFA_F_NODAD: a fresh IPv6 address is otherwise
 * "tentative" for about a second of DAD, and a connect() in that window
 * fails with EADDRNOTAVAIL or picks no source at all. */
int nl_addr_add(struct nl *nl, int ifindex, const char *ifname, int family,
		       const char *text, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa;
	uint8_t bytes[16];
	size_t alen = family == AF_INET ? 4 : 16;
	int plen = family == AF_INET ? TOPO_V4_PREFIXLEN : TOPO_V6_PREFIXLEN;
	char what[128];

	snprintf(what, sizeof(what), "add %s/%d to %s in the %s namespace", text, plen, ifname,
		 nl->host);
	if (addr_parse(family, text, bytes) < 0)
		return fw_err(err, errlen, -EINVAL, "%s: bad address", what);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)plen;
	ifa->ifa_flags = IFA_F_NODAD | IFA_F_PERMANENT;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* IPv4 needs IFA_LOCAL (IFA_ADDRESS is the peer on p2p links); IPv6
	 * takes either. Setting both to the same value is what iproute2 does. */
	mnl_attr_put(nlh, IFA_LOCAL, alen, bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, bytes);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_PERMANENT);
	return nl_talk(nl, NULL, NULL, what, err, errlen);
}

/* A route to dst ("198.18.2.0/24"; NULL: the default route) via gw. */
int nl_route_add(struct nl *nl, int family, const char *dst, const char *gw, char *err,
			size_t errlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm;
	uint8_t bytes[16], dbytes[16];
	char what[160], prefix[64] = "";
	const char *slash = dst ? strchr(dst, '/') : NULL;
	size_t alen = family == AF_INET ? 4 : 16;

	snprintf(what, sizeof(what), "add route to %s via %s in the %s namespace",
		 dst ? dst : "default", gw, nl->host);
	if (addr_parse(family, gw, bytes) < 0)
		return fw_err(err, errlen, -EINVAL, "%s: bad gateway", what);
	if (dst && (!slash || (size_t)(slash - dst) >= sizeof(prefix)))
		return fw_err(err, errlen, -EINVAL, "%s: bad prefix", what);
	if (dst) {
		memcpy(prefix, dst, (size_t)(slash - dst));
		if (addr_parse(family, prefix, dbytes) < 0)
			return fw_err(err, errlen, -EINVAL, "%s: bad prefix", what);
	}
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = dst ? (uint8_t)atoi(slash + 1) : 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	if (dst)
		mnl_attr_put(nlh, RTA_DST, alen, dbytes);
	mnl_attr_put(nlh, RTA_GATEWAY, alen, bytes);
	return nl_talk(nl, NULL, NULL, what, err, errlen);
}

/* ---- operational state --------------------------------------------------- */

/* Until check() says done (0), re-run on every notification of the
 * namespace's multicast group, up to deadline: each change is announced, so
 * nothing is polled. check() returns > 0 while not done (then timed_out()
 * writes the error at the deadline), or -errno. */
typedef int nl_check_fn(struct nl *nl, void *ctx, char *err, size_t errlen);
typedef void nl_timeout_fn(struct nl *nl, void *ctx, char *err, size_t errlen);

static int nl_wait_until(struct nl *nl, unsigned group, nl_check_fn *check,
			 nl_timeout_fn *timed_out, void *ctx, int64_t deadline, char *err,
			 size_t errlen)
{
	int ret;

	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return fw_err(err, errlen, -errno, "watch the %s namespace: %s", nl->host,
			      errstr(errno));
	for (;;) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl->sock), .events = POLLIN };
		int64_t left;

		ret = check(nl, ctx, err, errlen);
		if (ret <= 0)
			break;
		left = deadline - fw_now_ns();
		if (left <= 0) {
			timed_out(nl, ctx, err, errlen);
			ret = -ETIMEDOUT;
			break;
		}
		/* a notification: something changed, look again; what it says is
		 * read (and skipped) by the next exchange */
		if (poll(&pfd, 1, (int)(left / FW_NS_PER_MS) + 1) < 0 && errno != EINTR) {
			ret = fw_err(err, errlen, -errno, "watch the %s namespace: %s", nl->host,
				     errstr(errno));
			break;
		}
	}
	mnl_socket_setsockopt(nl->sock, NETLINK_DROP_MEMBERSHIP, &group, sizeof(group));
	return ret;
}

struct links_down {
	int n;           /* links not operational yet */
	char name[IFNAMSIZ]; /* one of them, for the error */
	uint8_t state;
};

static void nl_link_state_reply(const struct nlmsghdr *nlh, void *data)
{
	struct links_down *d = data;
	const struct nlattr *attr;
	const char *name = "?";
	uint8_t state = IF_OPER_UNKNOWN;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return;
	mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg)) {
		if (mnl_attr_get_type(attr) == IFLA_OPERSTATE)
			state = mnl_attr_get_u8(attr);
		else if (mnl_attr_get_type(attr) == IFLA_IFNAME)
			name = mnl_attr_get_str(attr);
	}
	/* lo and links without carrier reporting say UNKNOWN: they pass */
	if (state == IF_OPER_UP || state == IF_OPER_UNKNOWN)
		return;
	d->n++;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->state = state;
}

static int nl_links_down(struct nl *nl, void *ctx, char *err, size_t errlen)
{
	struct links_down *d = ctx;
	struct nlmsghdr *nlh = nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	char what[96];
	int ret;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	memset(d, 0, sizeof(*d));
	snprintf(what, sizeof(what), "list the links of the %s namespace", nl->host);
	ret = nl_talk(nl, nl_link_state_reply, d, what, err, errlen);
	return ret < 0 ? ret : d->n;
}

static void nl_links_timed_out(struct nl *nl, void *ctx, char *err, size_t errlen)
{
	const struct links_down *d = ctx;

	fw_err(err, errlen, -ETIMEDOUT,
	       "link %s in the %s namespace is not operational (RFC 2863 state %u; no carrier?) "
	       "within %d s",
	       d->name, nl->host, d->state, TOPO_LINKS_UP_S);
}

/* Until every link of the namespace is operational: a veth's carrier comes
 * on at once, but its queueing discipline is attached later, by linkwatch
 * work the kernel schedules; until then what it sends goes to noop_qdisc
 * and is dropped. Under load that took long enough to lose a case's first
 * SYN (7 of 120 runs through a box at load 6-10), moving its RTO and every
 * timer after it. Each change of a link's state is announced (RTNLGRP_LINK). */
int nl_links_wait_up(struct nl *nl, int64_t deadline, char *err, size_t errlen)
{
	struct links_down d;

	return nl_wait_until(nl, RTNLGRP_LINK, nl_links_down, nl_links_timed_out, &d, deadline,
			     err, errlen);
}

/* The type of the route an RTM_GETROUTE answered: RTN_LOCAL once the kernel
 * delivers to the address. */
static void nl_route_type_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	unsigned char *type = data;

	if (nlh->nlmsg_type == RTM_NEWROUTE && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*rtm))
		*type = rtm->rtm_type;
}

/* The addresses not yet local routes, the first of them for the error. */
struct v6_pending {
	const char *const *addrs;
	size_t n;
	const char *first;
};

static int nl_v6_not_local(struct nl *nl, void *ctx, char *err, size_t errlen)
{
	struct v6_pending *p = ctx;
	size_t i;
	int ret, pending = 0;

	for (i = 0; i < p->n; i++) {
		struct nlmsghdr *nlh = nl_msg(nl, RTM_GETROUTE, 0);
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		unsigned char type = RTN_UNSPEC;
		uint8_t bytes[16];
		char what[128];

		if (addr_parse(AF_INET6, p->addrs[i], bytes) < 0)
			return fw_err(err, errlen, -EINVAL, "%s: bad address", p->addrs[i]);
		rtm->rtm_family = AF_INET6;
		rtm->rtm_dst_len = 128;
		mnl_attr_put(nlh, RTA_DST, sizeof(bytes), bytes);
		snprintf(what, sizeof(what), "look up the route to %s in the %s namespace",
			 p->addrs[i], nl->host);
		ret = nl_talk(nl, nl_route_type_reply, &type, what, err, errlen);
		if (ret < 0 && ret != -ENETUNREACH && ret != -EHOSTUNREACH)
			return ret;
		if (type != RTN_LOCAL && !pending++)
			p->first = p->addrs[i];
	}
	return pending;
}

static void nl_v6_timed_out(struct nl *nl, void *ctx, char *err, size_t errlen)
{
	const struct v6_pending *p = ctx;

	fw_err(err, errlen, -ETIMEDOUT,
	       "address %s in the %s namespace is not a local route within %d s (the kernel's "
	       "ipv6_addrconf work did not run)",
	       p->first, nl->host, TOPO_LINKS_UP_S);
}

/* Until the node's own IPv6 addresses are local routes. IFA_F_NODAD spares
 * the second of DAD, but the kernel still finishes an address on its
 * "ipv6_addrconf" work queue (addrconf_dad_work -> addrconf_dad_completed),
 * one queue for the whole machine, and only then inserts the address's
 * route in the local table: until that work runs, a segment to the address
 * is routed as if it were another host's and dropped (ip6_forward,
 * IP_INADDRERRORS). Under load that lost a case's first SYN or SYN-ACK
 * (1 in 120-300 IPv6 runs beside stress-ng --cpu 4: the SYN captured at the
 * server, no answer, the RTO 1 s later). IPv4 inserts its local routes at
 * once. Each insertion is announced (RTNLGRP_IPV6_ROUTE). */
int nl_v6_wait_local(struct nl *nl, const char *const *addrs, size_t n, int64_t deadline,
		     char *err, size_t errlen)
{
	struct v6_pending p = { .addrs = addrs, .n = n };

	return n ? nl_wait_until(nl, RTNLGRP_IPV6_ROUTE, nl_v6_not_local, nl_v6_timed_out, &p,
				 deadline, err, errlen)
		 : 0;
}
