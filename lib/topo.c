/* topo: three anonymous namespaces joined by two veth pairs, configured over
 * rtnetlink (libmnl) so that building a case's network costs a few hundred
 * microseconds of netlink round trips instead of a dozen `ip` processes.
 * The layout is fixed (see topo.h); it lives in topo_legs[] below. */
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
/* One request normally answers in microseconds; 2 s only bounds a kernel that
 * never answers (a bug), so no caller can hang on us. */
#define TOPO_NL_TIMEOUT_MS 2000
#define TOPO_HOST_IFNAME "eth0"
#define TOPO_V4_PREFIXLEN 24
#define TOPO_V6_PREFIXLEN 64
#define TOPO_SYSCTL_PATHLEN 256

struct topo {
	int ns[HOST_COUNT]; /* indexed by enum fw_host; -1 when not created */
};

/* One leg of the picture in topo.h: a host and the wire interface facing it. */
static const struct topo_leg {
	enum fw_host host;
	const char *wire_ifname;
	const char *host_v4, *wire_v4;
	const char *host_v6, *wire_v6;
} topo_legs[] = {
	{ HOST_CLIENT, "cl0", "198.18.1.2", "198.18.1.1", "2001:2:0:1::2", "2001:2:0:1::1" },
	{ HOST_SERVER, "sv0", "198.18.2.2", "198.18.2.1", "2001:2:0:2::2", "2001:2:0:2::1" },
};
#define TOPO_LEG_COUNT (sizeof(topo_legs) / sizeof(topo_legs[0]))

static const struct {
	enum fw_host host;
	const char *name;
} host_names[] = {
	{ HOST_CLIENT, "client" },
	{ HOST_SERVER, "server" },
	{ HOST_WIRE, "wire" },
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

static int host_valid(enum fw_host h)
{
	return (int)h >= 0 && (int)h < HOST_COUNT;
}

static const struct topo_leg *leg_of(enum fw_host h)
{
	size_t i;

	for (i = 0; i < TOPO_LEG_COUNT; i++)
		if (topo_legs[i].host == h)
			return &topo_legs[i];
	return NULL;
}

/* strerror() is not thread-safe and cases may run in parallel threads. */
static const char *errstr(int err)
{
	const char *s = strerrordesc_np(err < 0 ? -err : err);

	return s ? s : "unknown error";
}

/* ---- sysctl ------------------------------------------------------------ */

/* "net.ipv4.tcp_fin_timeout" -> "/proc/sys/net/ipv4/tcp_fin_timeout".
 * Refuse anything that could climb out of /proc/sys or name no sysctl. */
static int sysctl_path(const char *name, char *path, size_t len)
{
	size_t n, i;
	int w;

	if (!name || !*name || name[0] == '.' || strstr(name, "..") || strchr(name, '/'))
		return -EINVAL;
	n = strlen(name);
	if (name[n - 1] == '.')
		return -EINVAL;
	w = snprintf(path, len, "/proc/sys/%s", name);
	if (w < 0 || (size_t)w >= len)
		return -EINVAL;
	for (i = strlen("/proc/sys/"); path[i]; i++)
		if (path[i] == '.')
			path[i] = '/';
	return 0;
}

enum sysctl_stage {
	SYSCTL_OPEN,
	SYSCTL_READ,
	SYSCTL_WRITE,
};

/* Map an errno to the contract's codes and a message naming the sysctl.
 * Where it happened matters: ENOENT from open() is an unknown name, but from
 * write() it is the handler refusing the value (tcp_congestion_control
 * "nosuch"); EPERM from open() is a read-only file, from write() a value this
 * namespace may not use (tcp_congestion_control "cubic" when cubic is not in
 * the host's tcp_allowed_congestion_control). The contract's "rejected
 * value" is -EINVAL, so every refusal of a value becomes -EINVAL with the
 * kernel's reason in the message. */
static int sysctl_err(int ret, enum sysctl_stage stage, const char *name, const char *path,
		      enum fw_host h, const char *value, char *err, size_t errlen)
{
	const char *ns = fw_host_name(h);

	/* A directory opens fine for reading and only read() says EISDIR. */
	if (ret == -EISDIR)
		return fw_err(err, errlen, -ENOENT,
			      "unknown sysctl '%s' (%s is a directory in the %s namespace)", name,
			      path, ns);
	switch (stage) {
	case SYSCTL_OPEN:
		if (ret == -ENOENT)
			return fw_err(err, errlen, ret,
				      "unknown sysctl '%s' (no %s in the %s namespace)", name, path,
				      ns);
		if ((ret == -EACCES || ret == -EPERM) && value)
			return fw_err(err, errlen, ret, "sysctl '%s' is read-only in the %s namespace",
				      name, ns);
		if (ret == -EACCES || ret == -EPERM)
			return fw_err(err, errlen, ret,
				      "sysctl '%s' is write-only in the %s namespace", name, ns);
		break;
	case SYSCTL_READ:
		break;
	case SYSCTL_WRITE:
		if (ret == -EINVAL || ret == -ENOENT || ret == -ERANGE || ret == -EPERM ||
		    ret == -EACCES || ret == -EOVERFLOW || ret == -EBUSY)
			return fw_err(err, errlen, -EINVAL,
				      "sysctl '%s': value '%s' rejected in the %s namespace (%s)%s",
				      name, value, ns, errstr(ret),
				      ret == -EPERM && strstr(name, "congestion_control")
					      ? "; a child namespace may only pick algorithms "
						"listed in the host's "
						"net.ipv4.tcp_allowed_congestion_control"
					      : "");
		break;
	}
	return fw_err(err, errlen, ret, "sysctl '%s' in the %s namespace: %s", name, ns,
		      errstr(ret));
}

/* Open, transfer and close all while the thread is inside the namespace:
 * /proc/sys/net resolves to the opener's netns, and a few handlers look at
 * current's netns again at read/write time rather than at the file's. */
static int sysctl_io(int ns_fd, enum fw_host h, const char *name, const char *value,
		     char *buf, size_t blen, char *err, size_t errlen)
{
	char path[TOPO_SYSCTL_PATHLEN];
	int saved = -1, fd = -1, ret;
	char *tmp = NULL;
	ssize_t n;

	ret = sysctl_path(name, path, sizeof(path));
	if (ret < 0) {
		ret = fw_err(err, errlen, ret, "invalid sysctl name '%s'", name ? name : "(null)");
		goto out;
	}
	if (value && !*value) {
		ret = fw_err(err, errlen, -EINVAL, "sysctl '%s': empty value", name);
		goto out;
	}
	ret = netns_enter(ns_fd, &saved);
	if (ret < 0) {
		saved = -1;
		ret = fw_err(err, errlen, ret, "sysctl '%s': enter the %s namespace: %s", name,
			     fw_host_name(h), errstr(ret));
		goto out;
	}
	fd = open(path, (value ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		ret = sysctl_err(-errno, SYSCTL_OPEN, name, path, h, value, err, errlen);
		goto out;
	}
	if (value) {
		size_t len = strlen(value);

		n = write(fd, value, len);
		if (n < 0) {
			ret = sysctl_err(-errno, SYSCTL_WRITE, name, path, h, value, err, errlen);
			goto out;
		}
		if ((size_t)n != len) {
			ret = fw_err(err, errlen, -EIO,
				     "sysctl '%s': value '%s' only partly written (%zd of %zu bytes)",
				     name, value, n, len);
			goto out;
		}
	} else {
		/* A single read of vlen bytes, one more than the value may hold:
		 * the integer handlers (do_proc_dointvec) answer a read at a
		 * non-zero offset with EOF, so a value read in pieces would be
		 * cut silently. A full read that does not end in the newline the
		 * handlers append means the value did not fit. */
		tmp = malloc(blen);
		if (!tmp) {
			ret = fw_err(err, errlen, -ENOMEM, "sysctl '%s': out of memory", name);
			goto out;
		}
		n = read(fd, tmp, blen);
		if (n < 0) {
			ret = sysctl_err(-errno, SYSCTL_READ, name, path, h, NULL, err, errlen);
			goto out;
		}
		while (n > 0 && tmp[n - 1] == '\n')
			n--;
		if ((size_t)n >= blen) {
			ret = fw_err(err, errlen, -ENOSPC,
				     "sysctl '%s': value longer than %zu bytes", name, blen - 1);
			goto out;
		}
		memcpy(buf, tmp, (size_t)n);
		buf[n] = '\0';
	}
	ret = 0;
out:
	free(tmp);
	if (fd >= 0)
		close(fd);
	if (saved >= 0) {
		int lret = netns_leave(saved);

		/* Staying in the case's namespace would silently move every later
		 * socket of this thread there: that outranks any other error. */
		if (lret < 0)
			ret = fw_err(err, errlen, lret, "sysctl '%s': leave the %s namespace: %s",
				     name, fw_host_name(h), errstr(lret));
	}
	return ret;
}

int topo_sysctl_set(struct topo *t, enum fw_host h, const char *name, const char *value,
		    char *err, size_t errlen)
{
	if (!t || !host_valid(h) || t->ns[h] < 0 || !value)
		return fw_err(err, errlen, -EINVAL, "sysctl '%s': no such host or value",
			      name ? name : "(null)");
	return sysctl_io(t->ns[h], h, name, value, NULL, 0, err, errlen);
}

int topo_sysctl_get(struct topo *t, enum fw_host h, const char *name, char *value,
		    size_t vlen, char *err, size_t errlen)
{
	if (!t || !host_valid(h) || t->ns[h] < 0 || !value || vlen < 2)
		return fw_err(err, errlen, -EINVAL, "sysctl '%s': no such host or no room",
			      name ? name : "(null)");
	return sysctl_io(t->ns[h], h, name, NULL, value, vlen, err, errlen);
}

/* ---- rtnetlink --------------------------------------------------------- */

/* A NETLINK_ROUTE socket bound to one namespace: requests sent on it act on
 * the namespace it was created in, whichever namespace the thread is in. */
struct nl {
	struct mnl_socket *sock;
	char *buf; /* request, then reply: a request is not needed once sent */
	uint32_t seq;
	enum fw_host host;
};

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	nl->sock = NULL;
	nl->buf = NULL;
}

static int nl_open(struct nl *nl, int ns_fd, enum fw_host h, char *err, size_t errlen)
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
		ret = fw_err(err, errlen, fd, "open rtnetlink in the %s namespace: %s",
			     fw_host_name(h), errstr(fd));
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
		ret = fw_err(err, errlen, -errno, "bind rtnetlink in the %s namespace: %s",
			     fw_host_name(h), errstr(errno));
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

typedef void (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data);

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
static void topo_mac(int ifindex, uint8_t mac[6])
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
static int nl_neigh_add(struct nl *nl, int ifindex, int family, const char *addr_text,
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
static int nl_veth_create(struct nl *nl, const char *name, int index, const char *peer_name,
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

/* Look the link up by name, then set it up by index; returns the index. */
static int nl_link_up(struct nl *nl, const char *name, int *ifindex, char *err, size_t errlen)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	char what[96];
	int idx = 0, ret;

	nlh = nl_msg(nl, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* Only the index is wanted: skip the per-VF and stats blobs. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	snprintf(what, sizeof(what), "find %s in the %s namespace", name, fw_host_name(nl->host));
	ret = nl_talk(nl, nl_ifindex_reply, &idx, what, err, errlen);
	if (ret < 0)
		goto out;
	if (idx <= 0) {
		ret = fw_err(err, errlen, -ENODEV, "%s: no link in the reply", what);
		goto out;
	}
	nlh = nl_msg(nl, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	snprintf(what, sizeof(what), "set %s up in the %s namespace", name,
		 fw_host_name(nl->host));
	ret = nl_talk(nl, NULL, NULL, what, err, errlen);
	if (ret < 0)
		goto out;
	*ifindex = idx;
out:
	return ret;
}

static int addr_parse(int family, const char *text, uint8_t *bytes)
{
	return inet_pton(family, text, bytes) == 1 ? 0 : -EINVAL;
}

/* Addresses go in with IFA_F_NODAD: a fresh IPv6 address is otherwise
 * "tentative" for about a second of DAD, and a connect() in that window
 * fails with EADDRNOTAVAIL or picks no source at all. */
static int nl_addr_add(struct nl *nl, int ifindex, const char *ifname, int family,
		       const char *text, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa;
	uint8_t bytes[16];
	size_t alen = family == AF_INET ? 4 : 16;
	int plen = family == AF_INET ? TOPO_V4_PREFIXLEN : TOPO_V6_PREFIXLEN;
	char what[128];

	snprintf(what, sizeof(what), "add %s/%d to %s in the %s namespace", text, plen, ifname,
		 fw_host_name(nl->host));
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

static int nl_default_route_add(struct nl *nl, int ifindex, int family, const char *gw,
				char *err, size_t errlen)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm;
	uint8_t bytes[16];
	char what[128];

	snprintf(what, sizeof(what), "add default route via %s in the %s namespace", gw,
		 fw_host_name(nl->host));
	if (addr_parse(family, gw, bytes) < 0)
		return fw_err(err, errlen, -EINVAL, "%s: bad gateway", what);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_talk(nl, NULL, NULL, what, err, errlen);
}

/* ---- topology ---------------------------------------------------------- */

/* Sysctls written before any link exists, so that new links inherit the
 * "default" values. accept_dad=0 covers the link-local addresses the kernel
 * adds by itself (NODAD only covers ours). */
static const struct {
	int wire_only;
	const char *name, *value;
} topo_sysctls[] = {
	{ 0, "net.ipv6.conf.all.accept_dad", "0" },
	{ 0, "net.ipv6.conf.default.accept_dad", "0" },
	{ 1, "net.ipv4.ip_forward", "1" },
	{ 1, "net.ipv6.conf.all.forwarding", "1" },
};
#define TOPO_SYSCTL_COUNT (sizeof(topo_sysctls) / sizeof(topo_sysctls[0]))

/* Links up, then addresses, then routes: IPv4 only installs the prefix route
 * of an address on a link that is up, and the default routes need the
 * gateways reachable through those prefix routes. */
static int topo_leg_build(struct nl *wire, struct nl *host, const struct topo_leg *leg,
			  char *err, size_t errlen)
{
	int wire_idx = 0, host_idx = 0, ret;

	ret = nl_link_up(wire, leg->wire_ifname, &wire_idx, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_link_up(host, TOPO_HOST_IFNAME, &host_idx, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_addr_add(wire, wire_idx, leg->wire_ifname, AF_INET, leg->wire_v4, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_addr_add(wire, wire_idx, leg->wire_ifname, AF_INET6, leg->wire_v6, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_addr_add(host, host_idx, TOPO_HOST_IFNAME, AF_INET, leg->host_v4, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_addr_add(host, host_idx, TOPO_HOST_IFNAME, AF_INET6, leg->host_v6, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_neigh_add(wire, wire_idx, AF_INET, leg->host_v4, host_idx, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_neigh_add(wire, wire_idx, AF_INET6, leg->host_v6, host_idx, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_neigh_add(host, host_idx, AF_INET, leg->wire_v4, wire_idx, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_neigh_add(host, host_idx, AF_INET6, leg->wire_v6, wire_idx, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_default_route_add(host, host_idx, AF_INET, leg->wire_v4, err, errlen);
	if (ret < 0)
		goto out;
	ret = nl_default_route_add(host, host_idx, AF_INET6, leg->wire_v6, err, errlen);
out:
	return ret;
}

int topo_create(struct topo **out, char *err, size_t errlen)
{
	struct nl nl[HOST_COUNT];
	struct topo *t;
	size_t i;
	int h, lo_idx, ret;

	memset(nl, 0, sizeof(nl));
	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = fw_err(err, errlen, -ENOMEM, "topology: out of memory");
		goto out;
	}
	for (h = 0; h < HOST_COUNT; h++)
		t->ns[h] = -1;
	for (h = 0; h < HOST_COUNT; h++) {
		ret = netns_create();
		if (ret < 0) {
			ret = fw_err(err, errlen, ret, "create the %s namespace: %s",
				     fw_host_name(h), errstr(ret));
			goto out;
		}
		t->ns[h] = ret;
	}
	for (h = 0; h < HOST_COUNT; h++) {
		for (i = 0; i < TOPO_SYSCTL_COUNT; i++) {
			if (topo_sysctls[i].wire_only && h != HOST_WIRE)
				continue;
			ret = sysctl_io(t->ns[h], h, topo_sysctls[i].name, topo_sysctls[i].value,
					NULL, 0, err, errlen);
			if (ret < 0)
				goto out;
		}
		ret = nl_open(&nl[h], t->ns[h], h, err, errlen);
		if (ret < 0)
			goto out;
		ret = nl_link_up(&nl[h], "lo", &lo_idx, err, errlen);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < TOPO_LEG_COUNT; i++) {
		/* Explicit, distinct ifindexes: when both ends of a veth have the
		 * same index (2 and 2 in fresh namespaces), linkwatch treats the
		 * carrier change as not urgent and delays it up to a second, and
		 * IPv6 neighbour discovery waits for it. */
		ret = nl_veth_create(&nl[HOST_WIRE], topo_legs[i].wire_ifname, 10 + 10 * (int)i,
				     TOPO_HOST_IFNAME, t->ns[topo_legs[i].host], 11 + 10 * (int)i,
				     err, errlen);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < TOPO_LEG_COUNT; i++) {
		ret = topo_leg_build(&nl[HOST_WIRE], &nl[topo_legs[i].host], &topo_legs[i], err,
				     errlen);
		if (ret < 0)
			goto out;
	}
	*out = t;
	t = NULL;
	ret = 0;
out:
	for (h = HOST_COUNT - 1; h >= 0; h--)
		nl_close(&nl[h]);
	/* Closing the namespace fds is the whole teardown: the kernel destroys
	 * each namespace with its last reference, veths and addresses included. */
	topo_free(t);
	return ret;
}

void topo_free(struct topo *t)
{
	int h;

	if (!t)
		return;
	for (h = 0; h < HOST_COUNT; h++)
		if (t->ns[h] >= 0)
			close(t->ns[h]);
	free(t);
}

int topo_ns_fd(const struct topo *t, enum fw_host h)
{
	if (!t || !host_valid(h))
		return -EINVAL;
	return t->ns[h];
}

const char *topo_ifname(const struct topo *t, enum fw_host h)
{
	if (!t || !leg_of(h))
		return NULL;
	return TOPO_HOST_IFNAME;
}

const char *topo_wire_ifname(const struct topo *t, enum fw_host h)
{
	const struct topo_leg *leg = leg_of(h);

	if (!t || !leg)
		return NULL;
	return leg->wire_ifname;
}

void topo_addr(const struct topo *t, enum fw_host h, int family, struct fw_addr *out)
{
	const struct topo_leg *leg = leg_of(h);

	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (!t || !leg || (family != AF_INET && family != AF_INET6))
		return;
	if (addr_parse(family, family == AF_INET ? leg->host_v4 : leg->host_v6, out->bytes) == 0)
		out->family = family;
}
