/* sockprobe: TCP sockets of one namespace through sock_diag.
 * One netlink socket per probe, opened inside the namespace (a netlink socket
 * answers for the namespace it was created in, net/core/sock_diag.c), and one
 * SOCK_DIAG_BY_FAMILY dump per address family per call: the inet_diag handler
 * is registered for AF_INET and AF_INET6 separately, so AF_UNSPEC is refused. */
#include "sockprobe.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "netns.h"
#include "util.h"

/* The kernel sizes a dump skb by the largest buffer recvmsg() has been given,
 * capped at 32 KiB (netlink_recvmsg(), max_recvmsg_len): a buffer this size
 * lets each read carry the most sockets; a larger one would never fill. */
#define SOCKPROBE_BUF_SIZE 32768
/* A dump is a handful of reads; this only stops a kernel that never says DONE. */
#define SOCKPROBE_DUMP_DEADLINE_NS (5 * FW_NS_PER_SEC)

/* The states a dump finds outside the namespace's established hash: LISTEN
 * (the listening hash) and TCP_BOUND_INACTIVE (13, the bind hash: bound
 * sockets in CLOSE, since Linux 6.8; older kernels ignore the bit). Both
 * tables are the host's whole ones in every namespace (only the established
 * hash is a namespace's own), 65,536 buckets each here, and a dump that asks
 * for these states walks them: 135 of a dump's 145 us (fw_bench sockdiag). */
#define SOCKPROBE_OUTSIDE_EHASH ((1U << FW_TCP_LISTEN) | (1U << 13))

struct dump_ctx {
	struct sock_info *v;
	size_t n, cap;
};

struct sockprobe {
	struct mnl_socket *nl;
	unsigned int portid;
	uint32_t seq;
	uint8_t *buf;
	bool want_info;
	/* per family (IPv4, IPv6): the sockets of SOCKPROBE_OUTSIDE_EHASH the
	 * last dump that walked those tables found, in the kernel's order */
	struct dump_ctx outside[2];
	bool outside_known;
};

void sockprobe_want_info(struct sockprobe *p, bool want)
{
	p->want_info = want;
}

void sockprobe_assume_new(struct sockprobe *p)
{
	p->outside_known = true;
}

static const struct {
	int num;
	const char *name;
} tcp_state_table[] = {
	{ FW_TCP_CLOSED, "CLOSED" },
	{ FW_TCP_ESTABLISHED, "ESTABLISHED" },
	{ FW_TCP_SYN_SENT, "SYN_SENT" },
	{ FW_TCP_SYN_RECV, "SYN_RECV" },
	{ FW_TCP_FIN_WAIT_1, "FIN_WAIT_1" },
	{ FW_TCP_FIN_WAIT_2, "FIN_WAIT_2" },
	{ FW_TCP_TIME_WAIT, "TIME_WAIT" },
	{ FW_TCP_CLOSE, "CLOSE" },
	{ FW_TCP_CLOSE_WAIT, "CLOSE_WAIT" },
	{ FW_TCP_LAST_ACK, "LAST_ACK" },
	{ FW_TCP_LISTEN, "LISTEN" },
	{ FW_TCP_CLOSING, "CLOSING" },
	{ FW_TCP_NEW_SYN_RECV, "NEW_SYN_RECV" },
};

static const char *const sock_timer_table[SOCK_TIMER_COUNT] = {
	[SOCK_TIMER_OFF] = "off",	      [SOCK_TIMER_ON] = "on",
	[SOCK_TIMER_KEEPALIVE] = "keepalive", [SOCK_TIMER_TIMEWAIT] = "timewait",
	[SOCK_TIMER_PROBE] = "probe",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *tcp_state_name(int state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(tcp_state_table); i++)
		if (tcp_state_table[i].num == state)
			return tcp_state_table[i].name;
	return "?";
}

int tcp_state_parse(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < ARRAY_LEN(tcp_state_table); i++)
		if (strcmp(tcp_state_table[i].name, name) == 0)
			return tcp_state_table[i].num;
	return -1;
}

const char *sock_timer_name(int timer)
{
	if (timer < 0 || (size_t)timer >= ARRAY_LEN(sock_timer_table))
		return "?";
	return sock_timer_table[timer];
}

int sock_timer_parse(const char *name)
{
	int t;

	for (t = 0; name && t < SOCK_TIMER_COUNT; t++)
		if (strcmp(sock_timer_table[t], name) == 0)
			return t;
	return -1;
}

static const char *const tcp_info_field_table[TCP_INFO_FIELD_COUNT] = {
	[TCP_INFO_RETRANSMITS] = "retransmits", [TCP_INFO_PROBES] = "probes",
	[TCP_INFO_BACKOFF] = "backoff",		[TCP_INFO_RTO_MS] = "rto_ms",
	[TCP_INFO_UNACKED] = "unacked",		[TCP_INFO_LOST] = "lost",
	[TCP_INFO_TOTAL_RETRANS] = "total_retrans",
};

const char *tcp_info_field_name(int field)
{
	return field >= 0 && field < TCP_INFO_FIELD_COUNT ? tcp_info_field_table[field] : "?";
}

int tcp_info_field_parse(const char *name)
{
	int f;

	for (f = 0; name && f < TCP_INFO_FIELD_COUNT; f++)
		if (strcmp(tcp_info_field_table[f], name) == 0)
			return f;
	return -1;
}

int64_t sock_tcp_info_get(const struct sock_tcp_info *ti, int field)
{
	switch ((enum fw_tcp_info_field)field) {
	case TCP_INFO_RETRANSMITS:
		return ti->retransmits;
	case TCP_INFO_PROBES:
		return ti->probes;
	case TCP_INFO_BACKOFF:
		return ti->backoff;
	case TCP_INFO_RTO_MS:
		return ti->rto_ms;
	case TCP_INFO_UNACKED:
		return ti->unacked;
	case TCP_INFO_LOST:
		return ti->lost;
	case TCP_INFO_TOTAL_RETRANS:
		return ti->total_retrans;
	}
	return -1;
}

int sockprobe_open(struct sockprobe **out, int ns_fd, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = 1 };
	struct sockprobe *p = NULL;
	int fd = -1, ret;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		ret = fw_err(err, errlen, -ENOMEM, "sockprobe: out of memory");
		goto out;
	}
	p->buf = malloc(SOCKPROBE_BUF_SIZE);
	if (!p->buf) {
		ret = fw_err(err, errlen, -ENOMEM, "sockprobe: out of memory");
		goto out;
	}
	fd = netns_socket(ns_fd, AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		ret = fw_err(err, errlen, fd, "sockprobe: NETLINK_SOCK_DIAG socket in netns: %s",
			     strerror(-fd));
		goto out;
	}
	/* A reply that never comes must fail the step, not hang the case. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		fw_err(err, errlen, ret, "sockprobe: SO_RCVTIMEO: %s", strerror(-ret));
		goto out;
	}
	p->nl = mnl_socket_fdopen(fd);
	if (!p->nl) {
		ret = -errno;
		fw_err(err, errlen, ret, "sockprobe: mnl_socket_fdopen: %s", strerror(-ret));
		goto out;
	}
	fd = -1; /* owned by p->nl now */
	if (mnl_socket_bind(p->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		fw_err(err, errlen, ret, "sockprobe: bind netlink socket: %s", strerror(-ret));
		goto out;
	}
	p->portid = mnl_socket_get_portid(p->nl);
	p->seq = (uint32_t)fw_now_ns();
	*out = p;
	p = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	sockprobe_free(p);
	return ret;
}

void sockprobe_free(struct sockprobe *p)
{
	if (!p)
		return;
	if (p->nl)
		mnl_socket_close(p->nl);
	free(p->outside[0].v);
	free(p->outside[1].v);
	free(p->buf);
	free(p);
}


/* INET_DIAG_INFO: the fields of struct tcp_info a case may ask about. An
 * older kernel sends a shorter struct; what it lacks stays 0. */
static int info_attr(const struct nlattr *a, void *data)
{
	struct sock_tcp_info *ti = data;
	struct tcp_info t;
	size_t len;

	if (mnl_attr_get_type(a) != INET_DIAG_INFO)
		return MNL_CB_OK;
	memset(&t, 0, sizeof(t));
	len = mnl_attr_get_payload_len(a);
	memcpy(&t, mnl_attr_get_payload(a), len < sizeof(t) ? len : sizeof(t));
	ti->valid = true;
	ti->retransmits = t.tcpi_retransmits;
	ti->probes = t.tcpi_probes;
	ti->backoff = t.tcpi_backoff;
	ti->rto_ms = t.tcpi_rto / 1000;
	ti->unacked = t.tcpi_unacked;
	ti->lost = t.tcpi_lost;
	ti->total_retrans = t.tcpi_total_retrans;
	return MNL_CB_OK;
}

static int dump_ctx_add(struct dump_ctx *c, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct sock_info *si;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct sock_info *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	si = &c->v[c->n++];
	memset(si, 0, sizeof(*si));
	fw_addr_from_socket(&si->src, m->idiag_family, m->id.idiag_src);
	fw_addr_from_socket(&si->dst, m->idiag_family, m->id.idiag_dst);
	si->sport = ntohs(m->id.idiag_sport);
	si->dport = ntohs(m->id.idiag_dport);
	si->state = m->idiag_state;
	si->timer = m->idiag_timer;
	si->retrans = m->idiag_retrans;
	si->expires_ms = m->idiag_expires;
	si->inode = m->idiag_inode;
	mnl_attr_parse(nlh, sizeof(*m), info_attr, &si->info);
	return 0;
}

/* One dump request for one family and the states in the bit mask states;
 * appends to c. */
static int sockprobe_dump_family(struct sockprobe *p, int family, uint32_t states,
				 struct dump_ctx *c, char *err, size_t errlen)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	int64_t deadline;
	uint32_t seq;
	int ret;

	memset(req_buf, 0, sizeof(req_buf));
	nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = ++p->seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	/* TIME_WAIT and NEW_SYN_RECV are walked only when their bits are
	 * asked for, listeners and bound sockets likewise. */
	req->idiag_states = states;
	if (p->want_info)
		req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	if (mnl_socket_sendto(p->nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		fw_err(err, errlen, ret, "sockprobe: send %s dump request: %s", fam, strerror(-ret));
		goto out;
	}

	deadline = fw_now_ns() + SOCKPROBE_DUMP_DEADLINE_NS;
	for (;;) {
		ssize_t len;
		int rem;

		if (fw_now_ns() > deadline) {
			ret = fw_err(err, errlen, -ETIMEDOUT, "sockprobe: %s dump did not end", fam);
			goto out;
		}
		len = mnl_socket_recvfrom(p->nl, p->buf, SOCKPROBE_BUF_SIZE);
		if (len < 0) {
			ret = -errno;
			if (ret == -EAGAIN || ret == -EWOULDBLOCK)
				ret = -ETIMEDOUT;
			fw_err(err, errlen, ret, "sockprobe: read %s dump: %s", fam, strerror(-ret));
			goto out;
		}
		/* Walk by hand rather than with mnl_cb_run(): a dump abandoned
		 * after a timeout leaves replies with an older sequence number
		 * behind, and those must be skipped, not fail this dump. */
		rem = (int)len;
		for (nlh = (struct nlmsghdr *)p->buf; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int32_t status = 0;

				/* netlink_dump_done() puts the dump's error, if any, here. */
				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(status))
					memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof(status));
				if (status < 0) {
					ret = fw_err(err, errlen, status, "sockprobe: %s dump: %s",
						     fam, strerror(-status));
					goto out;
				}
				ret = 0;
				goto out;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				ret = e->error ? e->error : -EPROTO;
				fw_err(err, errlen, ret, "sockprobe: %s dump refused: %s", fam,
				       strerror(-ret));
				goto out;
			}
			if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
				continue;
			ret = dump_ctx_add(c, nlh);
			if (ret < 0) {
				fw_err(err, errlen, ret, "sockprobe: out of memory");
				goto out;
			}
		}
	}
out:
	return ret;
}

/* Appends n entries of v to c. */
static int dump_ctx_append(struct dump_ctx *c, const struct sock_info *v, size_t n)
{
	size_t cap = c->cap ? c->cap : 64;
	struct sock_info *grown;

	while (cap < c->n + n)
		cap *= 2;
	if (cap != c->cap) {
		grown = realloc(c->v, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->v = grown;
		c->cap = cap;
	}
	if (n)
		memcpy(&c->v[c->n], v, n * sizeof(*v));
	c->n += n;
	return 0;
}

/* One family: the sockets outside the established hash (walked, or as last
 * walked), then the others; in one dump of every state the kernel gives
 * them in this order too (the listening and bind walks come first). */
static int sockprobe_dump_one(struct sockprobe *p, size_t fi, bool walk, struct dump_ctx *c,
			      char *err, size_t errlen)
{
	int family = fi == 0 ? AF_INET : AF_INET6;
	struct dump_ctx outside = { 0 };
	int ret = 0;

	if (walk) {
		ret = sockprobe_dump_family(p, family, SOCKPROBE_OUTSIDE_EHASH, &outside, err, errlen);
		if (ret < 0)
			goto out;
		free(p->outside[fi].v);
		p->outside[fi] = outside;
		outside.v = NULL;
	}
	ret = dump_ctx_append(c, p->outside[fi].v, p->outside[fi].n);
	if (ret < 0) {
		fw_err(err, errlen, ret, "sockprobe: out of memory");
		goto out;
	}
	ret = sockprobe_dump_family(p, family, ~SOCKPROBE_OUTSIDE_EHASH, c, err, errlen);
out:
	free(outside.v);
	return ret;
}

int sockprobe_dump_some(struct sockprobe *p, bool walk_all, struct sock_info **out, size_t *n,
			char *err, size_t errlen)
{
	struct dump_ctx c = { 0 };
	/* tcp_info of a listener counts its accept queue: never as last seen */
	bool walk = walk_all || !p->outside_known || p->want_info;
	size_t fi;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (walk)
		p->outside_known = false; /* until both families are walked */
	for (fi = 0; fi < 2 && ret >= 0; fi++)
		ret = sockprobe_dump_one(p, fi, walk, &c, err, errlen);
	if (ret < 0)
		goto out;
	p->outside_known = true;
	*out = c.v;
	*n = c.n;
	c.v = NULL;
out:
	free(c.v);
	return ret;
}

int sockprobe_dump(struct sockprobe *p, struct sock_info **out, size_t *n, char *err,
		   size_t errlen)
{
	return sockprobe_dump_some(p, true, out, n, err, errlen);
}
