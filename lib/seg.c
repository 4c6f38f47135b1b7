/* seg: parse TCP segments off the wire and show them the way tcpdump does.
 * Every field is read through the byte accessors below: a pcap or NFQUEUE
 * buffer gives no alignment guarantee (an Ethernet header leaves the IP
 * header at offset 14, a VLAN tag at 18), so casting to struct iphdr would be
 * undefined behaviour and traps on strict-alignment CPUs. */
#include "seg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define SEG_ETH_HLEN 14
#define SEG_ETHERTYPE_IPV4 0x0800
#define SEG_ETHERTYPE_IPV6 0x86DD
#define SEG_ETHERTYPE_VLAN 0x8100
#define SEG_VLAN_HLEN 4

#define SEG_IPV4_HLEN_MIN 20
#define SEG_IPV6_HLEN 40
#define SEG_TCP_HLEN_MIN 20
#define SEG_IPPROTO_TCP 6

/* IPv6 extension headers that may sit between the fixed header and TCP and
 * share the generic (next header, length in 8-octet units minus one) layout
 * (RFC 8200 4.3, 4.4, 4.6). */
#define SEG_IPV6_NH_HOPOPTS 0
#define SEG_IPV6_NH_ROUTING 43
#define SEG_IPV6_NH_DSTOPTS 60
/* RFC 8200 4.1 allows each at most once (dest options twice): a longer chain
 * is garbage, and the bound keeps a crafted packet from looping us. */
#define SEG_IPV6_EXT_MAX 8

/* TCP option kinds (RFC 9293 3.2, RFC 7323, RFC 2018). */
#define SEG_TCPOPT_EOL 0
#define SEG_TCPOPT_NOP 1
#define SEG_TCPOPT_MSS 2
#define SEG_TCPOPT_WS 3
#define SEG_TCPOPT_SACK_PERM 4
#define SEG_TCPOPT_SACK 5
#define SEG_TCPOPT_TS 8
#define SEG_TCPOLEN_MSS 4
#define SEG_TCPOLEN_WS 3
#define SEG_TCPOLEN_SACK_PERM 2
#define SEG_TCPOLEN_TS 10
/* RFC 7323 2.3: a shift above 14 is treated as 14 (tcp_parse_options() does
 * the same), and it keeps the value inside int8_t. */
#define SEG_TCP_WSCALE_MAX 14

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Mirrors tcp_parse_options() (net/ipv4/tcp_input.c): a length below 2 or
 * past the header ends the walk, a known kind with the wrong length is
 * skipped. Each step advances at least one byte, so the walk is bounded by
 * the 40 bytes of option space. */
static void tcp_options_parse(const uint8_t *opt, size_t n, struct seg *out)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = opt[i], olen;

		if (kind == SEG_TCPOPT_EOL)
			break;
		if (kind == SEG_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			break;
		olen = opt[i + 1];
		if (olen < 2 || olen > n - i)
			break;
		switch (kind) {
		case SEG_TCPOPT_MSS:
			if (olen == SEG_TCPOLEN_MSS) {
				out->has_mss = true;
				out->mss = get_be16(opt + i + 2);
			}
			break;
		case SEG_TCPOPT_WS:
			if (olen == SEG_TCPOLEN_WS)
				out->wscale = (int8_t)(opt[i + 2] > SEG_TCP_WSCALE_MAX ? SEG_TCP_WSCALE_MAX
										  : opt[i + 2]);
			break;
		case SEG_TCPOPT_SACK_PERM:
			if (olen == SEG_TCPOLEN_SACK_PERM)
				out->sack_ok = true;
			break;
		case SEG_TCPOPT_TS:
			if (olen == SEG_TCPOLEN_TS) {
				out->has_ts = true;
				out->tsval = get_be32(opt + i + 2);
				out->tsecr = get_be32(opt + i + 6);
			}
			break;
		case SEG_TCPOPT_SACK: /* 2 + 8 per block, at most 4 blocks */
			for (out->nsack = 0; out->nsack < 4 && 2 + 8u * (out->nsack + 1u) <= olen;
			     out->nsack++) {
				out->sack[out->nsack][0] = get_be32(opt + i + 2 + 8 * out->nsack);
				out->sack[out->nsack][1] = get_be32(opt + i + 6 + 8 * out->nsack);
			}
			break;
		default:
			break; /* MD5, MPTCP, ...: not needed for a teardown */
		}
		i += olen;
	}
}

/* pkt points at the TCP header; ip_avail is what the IP length says follows
 * it, cap_avail what was captured. Payload length comes from the former so a
 * truncated capture (snaplen) still reports the true segment length. */
static int tcp_parse(const uint8_t *pkt, size_t ip_avail, size_t cap_avail, struct seg *out)
{
	size_t doff;

	if (ip_avail < SEG_TCP_HLEN_MIN || cap_avail < SEG_TCP_HLEN_MIN)
		return -EINVAL;
	doff = (size_t)(pkt[12] >> 4) * 4;
	if (doff < SEG_TCP_HLEN_MIN || doff > ip_avail || doff > cap_avail)
		return -EINVAL;
	out->sport = get_be16(pkt);
	out->dport = get_be16(pkt + 2);
	out->seq = get_be32(pkt + 4);
	out->ack = get_be32(pkt + 8);
	/* The low bit of byte 12 is AE (RFC 9768, accurate ECN); struct seg has
	 * eight flag bits, matching byte 13. */
	out->flags = pkt[13];
	out->win = get_be16(pkt + 14);
	out->len = (uint32_t)(ip_avail - doff);
	tcp_options_parse(pkt + SEG_TCP_HLEN_MIN, doff - SEG_TCP_HLEN_MIN, out);
	return 0;
}

static int ipv4_parse(const uint8_t *pkt, size_t caplen, struct seg *out)
{
	size_t ihl, tot;
	uint16_t frag;

	if (caplen < SEG_IPV4_HLEN_MIN)
		return -EINVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = get_be16(pkt + 2);
	/* tot == 0 is how BIG TCP / TSO super-packets look; their length is not
	 * in the header, so refuse rather than guess from caplen. */
	if (ihl < SEG_IPV4_HLEN_MIN || ihl > caplen || tot < ihl)
		return -EINVAL;
	if (pkt[9] != SEG_IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	/* A non-first fragment carries no TCP header, only payload bytes. */
	frag = get_be16(pkt + 6);
	if (frag & 0x1fff)
		return -EINVAL;
	out->src.family = AF_INET;
	out->dst.family = AF_INET;
	memcpy(out->src.bytes, pkt + 12, 4);
	memcpy(out->dst.bytes, pkt + 16, 4);
	out->ttl = pkt[8];
	return tcp_parse(pkt + ihl, tot - ihl, caplen - ihl, out);
}

static int ipv6_parse(const uint8_t *pkt, size_t caplen, struct seg *out)
{
	size_t off = SEG_IPV6_HLEN, end;
	uint8_t nh;
	int i;

	if (caplen < SEG_IPV6_HLEN)
		return -EINVAL;
	/* payload 0 with a jumbo option (RFC 2675) or BIG TCP: length unknown. */
	end = SEG_IPV6_HLEN + (size_t)get_be16(pkt + 4);
	if (end == SEG_IPV6_HLEN)
		return -EINVAL;
	nh = pkt[6];
	for (i = 0; nh != SEG_IPPROTO_TCP; i++) {
		size_t hlen;

		if (nh != SEG_IPV6_NH_HOPOPTS && nh != SEG_IPV6_NH_ROUTING && nh != SEG_IPV6_NH_DSTOPTS)
			return -EPROTONOSUPPORT; /* fragment, ESP, ICMPv6, no next header... */
		if (i >= SEG_IPV6_EXT_MAX || off + 2 > caplen || off + 2 > end)
			return -EINVAL;
		hlen = ((size_t)pkt[off + 1] + 1) * 8;
		if (off + hlen > caplen || off + hlen > end)
			return -EINVAL;
		nh = pkt[off];
		off += hlen;
	}
	out->src.family = AF_INET6;
	out->dst.family = AF_INET6;
	memcpy(out->src.bytes, pkt + 8, 16);
	memcpy(out->dst.bytes, pkt + 24, 16);
	out->ttl = pkt[7];
	return tcp_parse(pkt + off, end - off, caplen - off, out);
}

/* version 0 accepts either; the link layer's ethertype pins one. */
static int ip_parse(const uint8_t *pkt, size_t caplen, int version, struct seg *out)
{
	int v;

	if (!pkt || caplen < 1)
		return -EINVAL;
	v = pkt[0] >> 4;
	if (version && v != version)
		return -EINVAL;
	if (v == 4)
		return ipv4_parse(pkt, caplen, out);
	if (v == 6)
		return ipv6_parse(pkt, caplen, out);
	return -EINVAL;
}

/* A failed parse leaves *out zeroed (wscale -1), never half-filled garbage
 * from a previous packet. */
static void seg_reset(struct seg *out)
{
	memset(out, 0, sizeof(*out));
	out->wscale = -1;
}

int seg_parse_ip(const uint8_t *pkt, size_t caplen, struct seg *out)
{
	int ret;

	seg_reset(out);
	ret = ip_parse(pkt, caplen, 0, out);
	if (ret < 0)
		seg_reset(out);
	return ret;
}

static int ether_parse(const uint8_t *frame, size_t caplen, struct seg *out)
{
	size_t off = SEG_ETH_HLEN;
	uint16_t type;

	if (!frame || caplen < SEG_ETH_HLEN)
		return -EINVAL;
	type = get_be16(frame + 12);
	if (type == SEG_ETHERTYPE_VLAN) {
		/* One 802.1Q tag: the real ethertype follows the 2-byte TCI. */
		if (caplen < SEG_ETH_HLEN + SEG_VLAN_HLEN)
			return -EINVAL;
		type = get_be16(frame + 16);
		off += SEG_VLAN_HLEN;
	}
	if (type == SEG_ETHERTYPE_IPV4)
		return ip_parse(frame + off, caplen - off, 4, out);
	if (type == SEG_ETHERTYPE_IPV6)
		return ip_parse(frame + off, caplen - off, 6, out);
	return -EPROTONOSUPPORT;
}

int seg_parse_ether(const uint8_t *frame, size_t caplen, struct seg *out)
{
	int ret;

	seg_reset(out);
	ret = ether_parse(frame, caplen, out);
	if (ret < 0)
		seg_reset(out);
	return ret;
}

/* The one table of flag letters, in display order (tcpdump's tcp_flag_values,
 * with ACK moved last as this project's notation puts it). */
static const struct {
	uint8_t bit;
	char letter;
} seg_flag_names[] = {
	{ SEG_FIN, 'F' }, { SEG_SYN, 'S' }, { SEG_RST, 'R' }, { SEG_PSH, 'P' },
	{ SEG_URG, 'U' }, { SEG_ECE, 'E' }, { SEG_CWR, 'W' }, { SEG_ACK, '.' },
};
#define SEG_NFLAGS (sizeof(seg_flag_names) / sizeof(seg_flag_names[0]))
#define SEG_FLAGS_NONE "none"

int seg_flags_parse(const char *s, uint8_t *flags)
{
	uint8_t acc = 0;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, SEG_FLAGS_NONE) == 0) {
		*flags = 0;
		return 0;
	}
	for (; *s; s++) {
		for (i = 0; i < SEG_NFLAGS; i++)
			if (seg_flag_names[i].letter == *s)
				break;
		if (i == SEG_NFLAGS || (acc & seg_flag_names[i].bit))
			return -EINVAL;
		acc |= seg_flag_names[i].bit;
	}
	*flags = acc;
	return 0;
}

void seg_flags_format(uint8_t flags, char *buf, size_t len)
{
	char tmp[SEG_NFLAGS + 1];
	size_t i, n = 0;

	if (!buf || !len)
		return;
	for (i = 0; i < SEG_NFLAGS; i++)
		if (flags & seg_flag_names[i].bit)
			tmp[n++] = seg_flag_names[i].letter;
	tmp[n] = '\0';
	snprintf(buf, len, "%s", n ? tmp : SEG_FLAGS_NONE);
}

uint32_t seg_seq_len(const struct seg *s)
{
	return s->len + !!(s->flags & SEG_SYN) + !!(s->flags & SEG_FIN);
}

static size_t addr_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool seg_has_dsack(const struct seg *s)
{
	return s->nsack > 0 && (s->flags & SEG_ACK) && !seq_after(s->sack[0][1], s->ack);
}

void fw_addr_from_socket(struct fw_addr *a, int family, const void *raw16)
{
	static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *raw = raw16;

	memset(a, 0, sizeof(*a));
	if (family == AF_INET6 && memcmp(raw, v4mapped_prefix, sizeof(v4mapped_prefix)) != 0) {
		a->family = AF_INET6;
		memcpy(a->bytes, raw, 16);
	} else {
		a->family = AF_INET;
		memcpy(a->bytes, family == AF_INET6 ? raw + 12 : raw, 4);
	}
}

bool fw_addr_equal(const struct fw_addr *a, const struct fw_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, addr_size(a->family)) == 0;
}

void fw_addr_format(const struct fw_addr *a, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* Append to buf at *off, never past len; output is simply cut when full. */
__attribute__((format(printf, 4, 5))) static void buf_add(char *buf, size_t len, size_t *off,
							  const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

/* An endpoint without a name is shown as addr:port, [v6]:port (tcpdump's
 * addr.port is ambiguous to read back for IPv6). */
static void endpoint_add(char *buf, size_t len, size_t *off, const char *name,
			 const struct fw_addr *a, uint16_t port)
{
	char ab[INET6_ADDRSTRLEN];

	if (name) {
		buf_add(buf, len, off, "%s", name);
		return;
	}
	fw_addr_format(a, ab, sizeof(ab));
	if (a->family == AF_INET6)
		buf_add(buf, len, off, "[%s]:%u", ab, port);
	else
		buf_add(buf, len, off, "%s:%u", ab, port);
}

/* Options in the order Linux writes them on a SYN (tcp_options_write()). */
static void options_add(char *buf, size_t len, size_t *off, const struct seg *s,
			const struct seg_names *names)
{
	const char *sep = " [";
	uint32_t base = names->has_dst_isn ? names->dst_isn : 0; /* SACKs are the peer's numbers */
	uint8_t i;

	if (s->has_mss) {
		buf_add(buf, len, off, "%smss %u", sep, s->mss);
		sep = ",";
	}
	if (s->sack_ok) {
		buf_add(buf, len, off, "%ssackOK", sep);
		sep = ",";
	}
	if (s->has_ts) {
		buf_add(buf, len, off, "%sTS val %u ecr %u", sep, s->tsval, s->tsecr);
		sep = ",";
	}
	if (s->wscale >= 0) {
		buf_add(buf, len, off, "%swscale %d", sep, s->wscale);
		sep = ",";
	}
	if (s->nsack) { /* as tcpdump: "sack 1 {2:3}" */
		buf_add(buf, len, off, "%ssack %u", sep, s->nsack);
		for (i = 0; i < s->nsack; i++)
			buf_add(buf, len, off, " {%u:%u}", seq_rel(s->sack[i][0], base),
				seq_rel(s->sack[i][1], base));
		sep = ",";
	}
	if (sep[0] == ',')
		buf_add(buf, len, off, "]");
}

void seg_format(const struct seg *s, const struct seg_names *names, char *buf, size_t len)
{
	static const struct seg_names none;
	char fl[SEG_NFLAGS + 2];
	uint32_t seq;
	size_t off = 0;

	if (!buf || !len)
		return;
	buf[0] = '\0';
	if (!names)
		names = &none;
	seq = names->has_src_isn ? seq_rel(s->seq, names->src_isn) : s->seq;
	seg_flags_format(s->flags, fl, sizeof(fl));

	endpoint_add(buf, len, &off, names->src, &s->src, s->sport);
	buf_add(buf, len, &off, " > ");
	endpoint_add(buf, len, &off, names->dst, &s->dst, s->dport);
	buf_add(buf, len, &off, " %s seq %u", fl, seq);
	/* tcpdump shows the range first:last+1 when the segment carries data. */
	if (s->len)
		buf_add(buf, len, &off, ":%u", seq + s->len);
	if (s->flags & SEG_ACK)
		buf_add(buf, len, &off, " ack %u",
			names->has_dst_isn ? seq_rel(s->ack, names->dst_isn) : s->ack);
	buf_add(buf, len, &off, " win %u length %u", s->win, s->len);
	options_add(buf, len, &off, s, names);
}
