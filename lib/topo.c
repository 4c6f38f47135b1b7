/* topo: anonymous namespaces joined by veth pairs, configured over
 * rtnetlink (libmnl) so that building a case's network costs a few hundred
 * microseconds of netlink round trips instead of a dozen `ip` processes.
 * What to build is data: a description of nodes, links and routes (topo.h). */
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
	"client-wire-server", classic_nodes, 3, classic_links, 2, classic_routes, 2,
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
	"client-wire-a-dut-wire-b-server", dut_nodes, 5, dut_links, 4, dut_routes, 6,
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
	external_routes, 4,
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
		      const char *ns, const char *value, char *err, size_t errlen)
{
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
static int sysctl_io(int ns_fd, const char *node, const char *name, const char *value,
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
			     node, errstr(ret));
		goto out;
	}
	fd = open(path, (value ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		ret = sysctl_err(-errno, SYSCTL_OPEN, name, path, node, value, err, errlen);
		goto out;
	}
	if (value) {
		size_t len = strlen(value);

		n = write(fd, value, len);
		if (n < 0) {
			ret = sysctl_err(-errno, SYSCTL_WRITE, name, path, node, value, err, errlen);
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
			ret = sysctl_err(-errno, SYSCTL_READ, name, path, node, NULL, err, errlen);
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
				     name, node, errstr(lret));
	}
	return ret;
}

int topo_sysctl_set(struct topo *t, enum fw_host h, const char *name, const char *value,
		    char *err, size_t errlen)
{
	int ns = topo_ns_fd(t, h);

	if (ns < 0 || !value)
		return fw_err(err, errlen, -EINVAL, "sysctl '%s': no such host or value",
			      name ? name : "(null)");
	return sysctl_io(ns, fw_host_name(h), name, value, NULL, 0, err, errlen);
}

int topo_sysctl_get(struct topo *t, enum fw_host h, const char *name, char *value,
		    size_t vlen, char *err, size_t errlen)
{
	int ns = topo_ns_fd(t, h);

	if (ns < 0 || !value || vlen < 2)
		return fw_err(err, errlen, -EINVAL, "sysctl '%s': no such host or no room",
			      name ? name : "(null)");
	return sysctl_io(ns, fw_host_name(h), name, NULL, value, vlen, err, errlen);
}

/* ---- rtnetlink --------------------------------------------------------- */

/* A NETLINK_ROUTE socket bound to one namespace: requests sent on it act on
 * the namespace it was created in, whichever namespace the thread is in. */
struct nl {
	struct mnl_socket *sock;
	char *buf; /* request, then reply: a request is not needed once sent */
	uint32_t seq;
	const char *host; /* the node's name, for messages */
};

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	nl->sock = NULL;
	nl->buf = NULL;
}

static int nl_open(struct nl *nl, int ns_fd, const char *h, char *err, size_t errlen)
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
static int nl_link_up(struct nl *nl, const char *name, int *ifindex, char *err, size_t errlen)
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

/* Move the link called name from nl's namespace into to_ns. The kernel
 * brings it down and drops its addresses on the way. */
static int nl_link_move(struct nl *nl, const char *name, int to_ns, const char *to, char *err,
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
static int nl_route_add(struct nl *nl, int family, const char *dst, const char *gw, char *err,
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

/* Explicit, distinct ifindexes: when both ends of a veth have the same index
 * (2 and 2 in fresh namespaces), linkwatch treats the carrier change as not
 * urgent and delays it up to a second, and IPv6 neighbour discovery waits
 * for it. Link i's ends are 10i+10 and 10i+11. */
static int end_ifindex(size_t link, int b_end)
{
	return 10 + 10 * (int)link + b_end;
}

/* One end of a link: up, its addresses, permanent neighbour entries for
 * the other end (its MAC is known: topo_mac of its ifindex). */
static int topo_end_build(struct nl *nl, const struct topo_end *e, const struct topo_end *peer,
			  int peer_index, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int idx = 0, ret;
	size_t f;

	ret = nl_link_up(nl, e->ifname, &idx, err, errlen);
	for (f = 0; ret == 0 && f < 2; f++)
		ret = nl_addr_add(nl, idx, e->ifname, families[f], f ? e->v6 : e->v4, err, errlen);
	for (f = 0; ret == 0 && peer && f < 2; f++)
		ret = nl_neigh_add(nl, idx, families[f], f ? peer->v6 : peer->v4, peer_index, err,
				   errlen);
	return ret;
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
	for (i = 0; ret == 0 && i < d->nlinks; i++) {
		const struct topo_link_desc *l = &d->links[i];

		/* an external link's ends face the box, whose MACs we do not know */
		ret = topo_end_build(&nl[node_index(d, l->a.node)], &l->a, l->external ? NULL : &l->b,
				     end_ifindex(i, 1), err, errlen);
		if (ret == 0)
			ret = topo_end_build(&nl[node_index(d, l->b.node)], &l->b,
					     l->external ? NULL : &l->a, end_ifindex(i, 0), err, errlen);
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

static void topo_move_out(struct topo *t);

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

		ret = netns_create();
		if (ret < 0) {
			ret = fw_err(err, errlen, ret, "create the %s namespace: %s", n->name,
				     errstr(ret));
			goto out;
		}
		t->ns[h] = ret;
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

void topo_addr(const struct topo *t, enum fw_host h, int family, struct fw_addr *out)
{
	const struct topo_end *other, *e = NULL;

	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (t && h != HOST_WIRE)
		e = end_on(t->desc, fw_host_name(h), &other);
	if (!e || (family != AF_INET && family != AF_INET6))
		return;
	if (addr_parse(family, family == AF_INET ? e->v4 : e->v6, out->bytes) == 0)
		out->family = family;
}
