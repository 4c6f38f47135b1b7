/* inject: segments built by libnet leave one namespace over a veth and are
 * read back byte by byte in the other, over IPv4 and IPv6; a listening socket
 * answering an injected SYN proves the kernel accepted the checksum.
 * Needs root: makes two namespaces ("A" sends, "B" receives) and a veth
 * between them, all gone when the namespace fds are closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "inject.h"
#include "netns.h"
#include "util.h"

#define IF_A "fwinj0"
#define IF_B "fwinj1"
#define ADDR4_A "198.18.7.1"
#define ADDR4_B "198.18.7.2"
#define ADDR6_A "2001:2:0:7::1"
#define ADDR6_B "2001:2:0:7::2"
#define LISTEN_PORT 8080

struct env {
	int ns_a, ns_b;
	int ifindex_b;
};

/* ---- topology helpers (test-local; lib/topo is another module) ---- */

static int nl_request(int ns, struct nlmsghdr *nlh, char *why, size_t whylen)
{
	struct timeval tv = { .tv_sec = 2 };
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = NULL;
	int fd, ret = -1;
	ssize_t n;

	fd = netns_socket(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0) {
		snprintf(why, whylen, "netlink socket: %s", strerror(-fd));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl = mnl_socket_fdopen(fd);
	if (!nl) {
		close(fd);
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		goto out;
	if (mnl_cb_run(buf, n, 1, mnl_socket_get_portid(nl), NULL, NULL) < 0) {
		snprintf(why, whylen, "rtnetlink: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

static void veth_create(int ns_a, int ns_b)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], why[128] = "";
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, IF_A);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow an ifinfomsg of their own. */
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	memset(ifm, 0, sizeof(*ifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, IF_B);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)ns_b);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	if (nl_request(ns_a, nlh, why, sizeof(why)) < 0)
		fail_msg("create veth: %s", why);
}

static void addr_add(int ns, int ifindex, int family, const char *text, int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], why[128] = "";
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	uint8_t a[16];

	assert_int_equal(inet_pton(family, text, a), 1);
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = plen;
	/* No duplicate address detection: the address is usable at once
	 * instead of tentative for a second or more. */
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, family == AF_INET ? 4 : 16, a);
	mnl_attr_put(nlh, IFA_ADDRESS, family == AF_INET ? 4 : 16, a);
	if (nl_request(ns, nlh, why, sizeof(why)) < 0)
		fail_msg("add address %s: %s", text, why);
}

static int link_up(int ns, const char *name)
{
	struct ifreq ifr;
	int fd = netns_socket(ns, AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	assert_int_equal(ioctl(fd, SIOCGIFINDEX, &ifr), 0);
	close(fd);
	return ifr.ifr_ifindex;
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	int ia;

	assert_non_null(e);
	e->ns_a = netns_create();
	e->ns_b = netns_create();
	assert_true(e->ns_a >= 0 && e->ns_b >= 0);
	veth_create(e->ns_a, e->ns_b);
	link_up(e->ns_a, "lo");
	link_up(e->ns_b, "lo");
	ia = link_up(e->ns_a, IF_A);
	e->ifindex_b = link_up(e->ns_b, IF_B);
	addr_add(e->ns_a, ia, AF_INET, ADDR4_A, 24);
	addr_add(e->ns_b, e->ifindex_b, AF_INET, ADDR4_B, 24);
	addr_add(e->ns_a, ia, AF_INET6, ADDR6_A, 64);
	addr_add(e->ns_b, e->ifindex_b, AF_INET6, ADDR6_B, 64);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	/* The veth and every socket in them go with the last namespace fd. */
	close(e->ns_a);
	close(e->ns_b);
	free(e);
	return 0;
}

/* ---- receiving and checking ---- */

struct rx_tcp {
	int family;
	uint8_t src[16], dst[16];
	uint8_t ttl;
	uint16_t sport, dport, win;
	uint32_t seq, ack;
	uint8_t flags, doff;
	bool sum_ok;
	uint8_t opts[40];
	size_t optlen;
	uint8_t payload[64];
	size_t paylen;
};

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

/* RFC 9293 3.1: the ones' complement sum over pseudo-header and segment,
 * checksum field included, is all ones when the checksum is right. */
static bool tcp_sum_ok(int family, const uint8_t *src, const uint8_t *dst, const uint8_t *tcp,
		       size_t len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t acc = 0;

	acc = sum16(src, alen, acc);
	acc = sum16(dst, alen, acc);
	acc += IPPROTO_TCP;
	acc += (uint32_t)len;
	acc = sum16(tcp, len, acc);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc == 0xffff;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Parse an IP packet (no link header); false unless it is a whole TCP segment. */
static bool rx_parse(const uint8_t *pkt, size_t n, struct rx_tcp *r)
{
	const uint8_t *tcp;
	size_t tlen;

	memset(r, 0, sizeof(*r));
	if (n < 20)
		return false;
	if (pkt[0] >> 4 == 4) {
		size_t ihl = (size_t)(pkt[0] & 0xf) * 4, tot = be16(pkt + 2);

		if (pkt[9] != IPPROTO_TCP || tot > n || ihl < 20 || tot < ihl + 20)
			return false;
		r->family = AF_INET;
		memcpy(r->src, pkt + 12, 4);
		memcpy(r->dst, pkt + 16, 4);
		r->ttl = pkt[8];
		tcp = pkt + ihl;
		tlen = tot - ihl;
	} else if (pkt[0] >> 4 == 6) {
		size_t plen;

		if (n < 40 || pkt[6] != IPPROTO_TCP)
			return false;
		plen = be16(pkt + 4);
		if (40 + plen > n || plen < 20)
			return false;
		r->family = AF_INET6;
		memcpy(r->src, pkt + 8, 16);
		memcpy(r->dst, pkt + 24, 16);
		r->ttl = pkt[7];
		tcp = pkt + 40;
		tlen = plen;
	} else {
		return false;
	}
	r->sport = be16(tcp);
	r->dport = be16(tcp + 2);
	r->seq = be32(tcp + 4);
	r->ack = be32(tcp + 8);
	r->doff = tcp[12] >> 4;
	r->flags = tcp[13];
	r->win = be16(tcp + 14);
	if (r->doff < 5 || (size_t)r->doff * 4 > tlen)
		return false;
	r->optlen = (size_t)r->doff * 4 - 20;
	memcpy(r->opts, tcp + 20, r->optlen);
	r->paylen = tlen - (size_t)r->doff * 4;
	memcpy(r->payload, tcp + r->doff * 4, r->paylen < sizeof(r->payload) ? r->paylen : 0);
	r->sum_ok = tcp_sum_ok(r->family, r->src, r->dst, tcp, tlen);
	return true;
}

/* A packet socket on B's end of the veth, both directions, from IP up. */
static int rx_open(const struct env *e)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = e->ifindex_b };
	int fd = netns_socket(e->ns_b, AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* Wait (at most 2 s) for a TCP segment sport -> dport; false on timeout. */
static bool rx_wait(int fd, uint16_t sport, uint16_t dport, struct rx_tcp *r)
{
	int64_t deadline = fw_now_ns() + 2 * FW_NS_PER_SEC;
	uint8_t pkt[2048];

	for (;;) {
		int64_t left = deadline - fw_now_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)(left / FW_NS_PER_MS) + 1) <= 0)
			continue;
		n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n <= 0)
			continue;
		if (rx_parse(pkt, (size_t)n, r) && r->sport == sport && r->dport == dport)
			return true;
	}
}

static void spec_addrs(struct inject_spec *s, int family)
{
	s->src.family = s->dst.family = family;
	assert_int_equal(inet_pton(family, family == AF_INET ? ADDR4_A : ADDR6_A, s->src.bytes), 1);
	assert_int_equal(inet_pton(family, family == AF_INET ? ADDR4_B : ADDR6_B, s->dst.bytes), 1);
}

static void check_ts(const struct rx_tcp *r, uint32_t tsval, uint32_t tsecr)
{
	static const uint8_t head[4] = { 1, 1, 8, 10 };

	assert_int_equal(r->doff, 8);
	assert_int_equal(r->optlen, 12);
	assert_memory_equal(r->opts, head, 4);
	assert_int_equal(be32(r->opts + 4), tsval);
	assert_int_equal(be32(r->opts + 8), tsecr);
}

/* RST, SYN with TS, and data with TS, each checked byte by byte. */
static void wire_check(struct env *e, int family)
{
	struct inject_spec s;
	struct inject *inj = NULL;
	char err[FW_ERRLEN] = "";
	struct rx_tcp r;
	uint16_t sport = family == AF_INET ? 40100 : 40600;
	int fd, ret;

	fd = rx_open(e);
	ret = inject_open(&inj, e->ns_a, family, err, sizeof(err));
	if (ret < 0)
		fail_msg("inject_open: %s", err);

	memset(&s, 0, sizeof(s));
	spec_addrs(&s, family);
	s.sport = sport;
	s.dport = 9;
	s.seq = 0x01020304;
	s.ack = 0xa0b0c0d0;
	s.flags = SEG_RST | SEG_ACK;
	s.win = 1234;
	ret = inject_send(inj, &s, err, sizeof(err));
	if (ret < 0)
		fail_msg("inject_send RST: %s", err);
	assert_true(rx_wait(fd, sport, 9, &r));
	assert_int_equal(r.family, family);
	assert_memory_equal(r.src, s.src.bytes, family == AF_INET ? 4 : 16);
	assert_memory_equal(r.dst, s.dst.bytes, family == AF_INET ? 4 : 16);
	assert_int_equal(r.ttl, 64);
	assert_int_equal(r.flags, 0x14);
	assert_int_equal(r.seq, 0x01020304);
	assert_int_equal(r.ack, 0xa0b0c0d0);
	assert_int_equal(r.win, 1234);
	assert_int_equal(r.doff, 5);
	assert_int_equal(r.paylen, 0);
	assert_true(r.sum_ok);

	s.sport = sport + 1;
	s.flags = SEG_SYN;
	s.seq = 0xfffffff0;
	s.ack = 0;
	s.win = 64240;
	s.has_ts = true;
	s.tsval = 0x11223344;
	s.tsecr = 0;
	ret = inject_send(inj, &s, err, sizeof(err));
	if (ret < 0)
		fail_msg("inject_send SYN: %s", err);
	assert_true(rx_wait(fd, sport + 1, 9, &r));
	assert_int_equal(r.flags, 0x02);
	assert_int_equal(r.seq, 0xfffffff0);
	assert_int_equal(r.win, 64240);
	check_ts(&r, 0x11223344, 0);
	assert_int_equal(r.paylen, 0);
	assert_true(r.sum_ok);

	/* Odd-length payload: the checksum's trailing pad byte and the IP
	 * length must both account for it. */
	s.sport = sport + 2;
	s.flags = SEG_PSH | SEG_ACK;
	s.seq = 7;
	s.ack = 8;
	s.tsval = 0xdeadbeef;
	s.tsecr = 0x01020304;
	s.payload_len = 5;
	ret = inject_send(inj, &s, err, sizeof(err));
	if (ret < 0)
		fail_msg("inject_send data: %s", err);
	assert_true(rx_wait(fd, sport + 2, 9, &r));
	assert_int_equal(r.flags, 0x18);
	check_ts(&r, 0xdeadbeef, 0x01020304);
	assert_int_equal(r.paylen, 5);
	assert_memory_equal(r.payload, "xxxxx", 5);
	assert_true(r.sum_ok);

	/* A SYN with every option Linux offers, in its order and padding
	 * (tcp_options_write): MSS, SACK-permitted in the TS's NOPs, NOP WS. */
	{
		static const uint8_t want[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 42,
						  0, 0, 0, 0, 1, 3, 3, 9 };

		memset(&s, 0, sizeof(s));
		spec_addrs(&s, family);
		s.sport = sport + 3;
		s.dport = 9;
		s.flags = SEG_SYN;
		s.has_mss = true;
		s.mss = 1460;
		s.sack_ok = true;
		s.has_ts = true;
		s.tsval = 42;
		s.has_wscale = true;
		s.wscale = 9;
		ret = inject_send(inj, &s, err, sizeof(err));
		if (ret < 0)
			fail_msg("inject_send SYN with options: %s", err);
		assert_true(rx_wait(fd, sport + 3, 9, &r));
		assert_int_equal(r.doff, 10);
		assert_int_equal(r.optlen, 20);
		assert_memory_equal(r.opts, want, 20);
		assert_true(r.sum_ok);
	}
	/* Two SACK blocks and a given payload, no timestamp: NOP NOP SACK. */
	{
		static const uint8_t want[20] = { 1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20,
						  0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 5 };

		memset(&s, 0, sizeof(s));
		spec_addrs(&s, family);
		s.sport = sport + 4;
		s.dport = 9;
		s.flags = SEG_ACK;
		s.nsack = 2;
		s.sack[0][0] = 10;
		s.sack[0][1] = 20;
		s.sack[1][0] = 0xfffffff0;
		s.sack[1][1] = 5;
		s.payload = (const uint8_t *)"GET /\r\n";
		s.payload_len = 7;
		ret = inject_send(inj, &s, err, sizeof(err));
		if (ret < 0)
			fail_msg("inject_send SACK: %s", err);
		assert_true(rx_wait(fd, sport + 4, 9, &r));
		assert_int_equal(r.optlen, 20);
		assert_memory_equal(r.opts, want, 20);
		assert_int_equal(r.paylen, 7);
		assert_memory_equal(r.payload, "GET /\r\n", 7);
		assert_true(r.sum_ok);
	}

	inject_free(inj);
	close(fd);
}

static void test_wire_ipv4(void **state) { wire_check(*state, AF_INET); }
static void test_wire_ipv6(void **state) { wire_check(*state, AF_INET6); }

/* A listener in B answers the injected SYN: the kernel verified the checksum
 * (tcp_v4_rcv / tcp_v6_rcv drop bad ones silently) and parsed the TS option,
 * which the SYN-ACK echoes (RFC 7323 4.3). */
static void synack_check(struct env *e, int family)
{
	struct sockaddr_storage ss;
	struct inject_spec s;
	struct inject *inj = NULL;
	char err[FW_ERRLEN] = "";
	struct rx_tcp r;
	uint16_t port = LISTEN_PORT + (family == AF_INET6), sport = 40200 + (family == AF_INET6);
	socklen_t sl;
	int fd, lfd, ret, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, ADDR4_B, &sin->sin_addr);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, ADDR6_B, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	}
	lfd = netns_socket(e->ns_b, family, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(listen(lfd, 4), 0);
	fd = rx_open(e);
	ret = inject_open(&inj, e->ns_a, family, err, sizeof(err));
	if (ret < 0)
		fail_msg("inject_open: %s", err);

	memset(&s, 0, sizeof(s));
	spec_addrs(&s, family);
	s.sport = sport;
	s.dport = port;
	s.seq = 1000;
	s.flags = SEG_SYN;
	s.win = 65535;
	s.has_ts = true;
	s.tsval = 0x11223344;
	/* the kernel offers SACK and window scaling only to a SYN that did */
	s.sack_ok = true;
	s.has_wscale = true;
	s.wscale = 7;
	s.has_mss = true;
	s.mss = 1000;
	ret = inject_send(inj, &s, err, sizeof(err));
	if (ret < 0)
		fail_msg("inject_send: %s", err);
	assert_true(rx_wait(fd, port, sport, &r));
	assert_int_equal(r.flags, 0x12);
	assert_int_equal(r.ack, 1001);
	/* Find TS among the kernel's options and check it echoes our tsval. */
	{
		size_t i = 0;
		bool seen = false, sack_ok = false, ws = false;

		while (i < r.optlen) {
			if (r.opts[i] == 0)
				break;
			if (r.opts[i] == 1) {
				i++;
				continue;
			}
			if (i + 1 >= r.optlen || r.opts[i + 1] < 2)
				break;
			if (r.opts[i] == 8 && r.opts[i + 1] == 10 && i + 10 <= r.optlen) {
				assert_int_equal(be32(r.opts + i + 6), 0x11223344);
				seen = true;
			}
			sack_ok |= r.opts[i] == 4;
			ws |= r.opts[i] == 3;
			i += r.opts[i + 1];
		}
		assert_true(seen);
		assert_true(sack_ok);
		assert_true(ws);
	}

	inject_free(inj);
	close(fd);
	close(lfd);
}

static void test_synack_ipv4(void **state) { synack_check(*state, AF_INET); }
static void test_synack_ipv6(void **state) { synack_check(*state, AF_INET6); }

static void test_errors(void **state)
{
	struct env *e = *state;
	struct inject *inj = (struct inject *)1;
	struct inject_spec s;
	char err[FW_ERRLEN] = "";

	inject_free(NULL);
	assert_int_equal(inject_open(&inj, e->ns_a, AF_UNIX, err, sizeof(err)), -EAFNOSUPPORT);
	assert_null(inj);
	assert_true(strlen(err) > 0);
	assert_true(inject_open(&inj, -1, AF_INET, err, sizeof(err)) < 0);
	assert_null(inj);

	assert_int_equal(inject_open(&inj, e->ns_a, AF_INET, err, sizeof(err)), 0);
	memset(&s, 0, sizeof(s));
	spec_addrs(&s, AF_INET6);
	err[0] = '\0';
	assert_int_equal(inject_send(inj, &s, err, sizeof(err)), -EAFNOSUPPORT);
	assert_true(strlen(err) > 0);
	spec_addrs(&s, AF_INET);
	s.payload_len = 70000;
	assert_int_equal(inject_send(inj, &s, err, sizeof(err)), -EMSGSIZE);
	/* a timestamp and four SACK blocks take 48 bytes: no header holds them */
	s.payload_len = 0;
	s.has_ts = true;
	s.nsack = 4;
	err[0] = '\0';
	assert_int_equal(inject_send(inj, &s, err, sizeof(err)), -EMSGSIZE);
	assert_non_null(strstr(err, "40"));
	s.has_ts = false;
	s.nsack = 0;
	s.has_wscale = true;
	s.wscale = 15;
	assert_int_equal(inject_send(inj, &s, err, sizeof(err)), -EINVAL);
	inject_free(inj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_wire_ipv4),
		cmocka_unit_test(test_wire_ipv6),
		cmocka_unit_test(test_synack_ipv4),
		cmocka_unit_test(test_synack_ipv6),
	};

	return cmocka_run_group_tests(tests, env_setup, env_teardown);
}
