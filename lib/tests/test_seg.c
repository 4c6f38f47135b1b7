/* Unit tests of seg: parsing real frames, truncation and malformed options,
 * flag notation and sequence arithmetic. No root needed.
 * The fixtures were captured with tcpdump -xx on a veth between two private
 * namespaces (198.18.0.1:55890 -> 198.18.0.2:8080 and the same over
 * 2001:2::1 -> 2001:2::2), so they are what the kernel really sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "seg.h"

/* IPv4 SYN: mss 1460, sackOK, TS val 945305553 ecr 0, nop, wscale 10. */
static const char v4_syn_hex[] =
	"b6dc75490758 2ab7185ed106 0800"
	"4500003c6f11400040063f83c6120001c6120002"
	"da521f90fd808dff00000000a002faf08c560000"
	"020405b4 0402 080a385837d100000000 01 03030a";

/* IPv4 PSH-ACK carrying 100 bytes, nop nop TS. */
static const char v4_data_hex[] =
	"b6dc75490758 2ab7185ed106 0800"
	"450000986f13400040063f25c6120001c6120002"
	"da521f90fd808e0010a7847b8018003f8cb20000"
	"0101080a385837d146aae5da"
	"78787878787878787878787878787878787878787878787878"
	"78787878787878787878787878787878787878787878787878"
	"78787878787878787878787878787878787878787878787878"
	"78787878787878787878787878787878787878787878787878";

/* IPv6 FIN-ACK from the server (2001:2::2.8080 > 2001:2::1.46400). */
static const char v6_finack_hex[] =
	"2ab7185ed106 b6dc75490758 86dd"
	"600f5c1d00200640"
	"20010002000000000000000000000002"
	"20010002000000000000000000000001"
	"1f90b54007bf47a9293083188011003f402f0000"
	"0101080aa742a780730b4dd9";

/* ISNs of the two connections, from their SYNs. */
#define V4_CLIENT_ISN 4253060607u
#define V4_SERVER_ISN 279413882u
#define V6_CLIENT_ISN 691045043u
#define V6_SERVER_ISN 129976232u

#define ETH_LEN 14
#define FRAME_MAX 512

struct frame {
	uint8_t b[FRAME_MAX];
	size_t n;
};

static void frame_load(struct frame *f, const char *hex)
{
	f->n = 0;
	for (; *hex; hex++) {
		unsigned v;

		if (*hex == ' ')
			continue;
		assert_true(hex[1] != '\0');
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		assert_true(f->n < FRAME_MAX);
		f->b[f->n++] = (uint8_t)v;
		hex++;
	}
}

/* Insert n bytes at off (to add VLAN tags or IPv6 extension headers). */
static void frame_insert(struct frame *f, size_t off, const uint8_t *bytes, size_t n)
{
	assert_true(f->n + n <= FRAME_MAX && off <= f->n);
	memmove(f->b + off + n, f->b + off, f->n - off);
	memcpy(f->b + off, bytes, n);
	f->n += n;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Offsets into the IPv4 SYN fixture. */
#define V4_IP 14
#define V4_TCP (V4_IP + 20)
#define V4_OPT (V4_TCP + 20)

static void assert_addr(const struct fw_addr *a, int family, const char *text)
{
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(a->family, family);
	fw_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, text);
}

static void test_ipv4_syn_options(void **state)
{
	struct frame f;
	struct seg s, s2;
	struct seg_names names = { "client", "server", true, false, V4_CLIENT_ISN, 0 };
	char buf[256];

	(void)state;
	frame_load(&f, v4_syn_hex);
	assert_int_equal(f.n, 74);
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_addr(&s.src, AF_INET, "198.18.0.1");
	assert_addr(&s.dst, AF_INET, "198.18.0.2");
	assert_int_equal(s.sport, 55890);
	assert_int_equal(s.dport, 8080);
	assert_int_equal(s.seq, V4_CLIENT_ISN);
	assert_int_equal(s.ack, 0);
	assert_int_equal(s.flags, SEG_SYN);
	assert_int_equal(s.win, 64240);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.ttl, 64);
	assert_true(s.has_mss);
	assert_int_equal(s.mss, 1460);
	assert_true(s.sack_ok);
	assert_true(s.has_ts);
	assert_int_equal(s.tsval, 945305553u);
	assert_int_equal(s.tsecr, 0);
	assert_int_equal(s.wscale, 10);
	assert_int_equal(seg_seq_len(&s), 1);

	/* The same packet as NFQUEUE hands it over: from the IP header on. */
	assert_int_equal(seg_parse_ip(f.b + ETH_LEN, f.n - ETH_LEN, &s2), 0);
	assert_memory_equal(&s, &s2, sizeof(s));

	seg_format(&s, &names, buf, sizeof(buf));
	assert_string_equal(buf, "client > server S seq 0 win 64240 length 0 "
				 "[mss 1460,sackOK,TS val 945305553 ecr 0,wscale 10]");
	/* No names: absolute numbers, as tcpdump -S, and addr:port. */
	seg_format(&s, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.1:55890 > 198.18.0.2:8080 S seq 4253060607 win 64240 "
				 "length 0 [mss 1460,sackOK,TS val 945305553 ecr 0,wscale 10]");
}

static void test_ipv4_data_truncated_capture(void **state)
{
	struct frame f;
	struct seg s;
	struct seg_names names = { "client", "server", true, true, V4_CLIENT_ISN, V4_SERVER_ISN };
	char buf[256];

	(void)state;
	frame_load(&f, v4_data_hex);
	assert_int_equal(f.n, 166);
	/* Only the headers captured (snaplen): length still comes from IP. */
	assert_int_equal(seg_parse_ether(f.b, ETH_LEN + 20 + 32, &s), 0);
	assert_int_equal(s.len, 100);
	assert_int_equal(s.flags, SEG_PSH | SEG_ACK);
	assert_int_equal(seg_seq_len(&s), 100);
	assert_false(s.has_mss);
	assert_false(s.sack_ok);
	assert_int_equal(s.wscale, -1);
	seg_format(&s, &names, buf, sizeof(buf));
	assert_string_equal(buf, "client > server P. seq 1:101 ack 1 win 63 length 100 "
				 "[TS val 945305553 ecr 1185605082]");

	/* Ethernet padding past the IP length must not count as payload. */
	memset(f.b + f.n, 0, 8);
	assert_int_equal(seg_parse_ether(f.b, f.n + 8, &s), 0);
	assert_int_equal(s.len, 100);
}

static void test_ipv6_fin_ack(void **state)
{
	struct frame f;
	struct seg s;
	struct seg_names names = { "server", "client", true, true, V6_SERVER_ISN, V6_CLIENT_ISN };
	char buf[256];

	(void)state;
	frame_load(&f, v6_finack_hex);
	assert_int_equal(f.n, 86);
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_addr(&s.src, AF_INET6, "2001:2::2");
	assert_addr(&s.dst, AF_INET6, "2001:2::1");
	assert_int_equal(s.sport, 8080);
	assert_int_equal(s.dport, 46400);
	assert_int_equal(s.flags, SEG_FIN | SEG_ACK);
	assert_int_equal(s.seq, V6_SERVER_ISN + 1);
	assert_int_equal(s.ack, V6_CLIENT_ISN + 101);
	assert_int_equal(s.win, 63);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.ttl, 64);
	assert_true(s.has_ts);
	assert_int_equal(s.tsval, 2806163328u);
	assert_int_equal(s.tsecr, 1930120665u);
	assert_int_equal(seg_seq_len(&s), 1);
	/* tcpdump showed: Flags [F.], seq 1, ack 101, win 63 */
	seg_format(&s, &names, buf, sizeof(buf));
	assert_string_equal(buf, "server > client F. seq 1 ack 101 win 63 length 0 "
				 "[TS val 2806163328 ecr 1930120665]");
	seg_format(&s, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:2::2]:8080 > [2001:2::1]:46400 F. seq 129976233 "
				 "ack 691045144 win 63 length 0 [TS val 2806163328 ecr 1930120665]");
}

/* Hop-by-hop (PadN) and destination options (PadN) in front of TCP. */
static void v6_add_ext(struct frame *f, uint8_t first, const uint8_t *chain, size_t n)
{
	uint8_t *ip;

	frame_insert(f, ETH_LEN + 40, chain, n);
	ip = f->b + ETH_LEN;
	put_be16(ip + 4, (uint16_t)(be16(ip + 4) + n));
	ip[6] = first;
}

static void test_ipv6_extension_headers(void **state)
{
	static const uint8_t hbh_dst[] = {
		60, 0, 1, 4, 0, 0, 0, 0, /* HBH -> dest opts, PadN */
		6, 0, 1, 4, 0, 0, 0, 0,  /* dest opts -> TCP, PadN */
	};
	static const uint8_t frag[] = { 6, 0, 0, 0, 0, 0, 0, 1 };
	struct frame base, f;
	struct seg ref, s;
	uint8_t chain[10 * 8];
	size_t i;

	(void)state;
	frame_load(&base, v6_finack_hex);
	assert_int_equal(seg_parse_ether(base.b, base.n, &ref), 0);

	f = base;
	v6_add_ext(&f, 0, hbh_dst, sizeof(hbh_dst));
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_memory_equal(&ref, &s, sizeof(s));
	/* Truncated inside the extension headers. */
	for (i = 0; i < ETH_LEN + 40 + sizeof(hbh_dst) + 32; i++)
		assert_int_equal(seg_parse_ether(f.b, i, &s), -EINVAL);

	/* Extension header that claims more than the payload length. */
	f = base;
	v6_add_ext(&f, 60, hbh_dst + 8, 8);
	f.b[ETH_LEN + 40 + 1] = 20;
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), -EINVAL);

	/* A chain longer than RFC 8200 allows is refused, not walked forever. */
	f = base;
	for (i = 0; i < 10; i++) {
		uint8_t *h = chain + i * 8;

		memset(h, 0, 8);
		h[0] = i == 9 ? 6 : 60;
		h[2] = 1;
		h[3] = 4;
	}
	v6_add_ext(&f, 60, chain, sizeof(chain));
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), -EINVAL);

	/* Fragment header: not walked (a fragment is not a whole segment). */
	f = base;
	v6_add_ext(&f, 44, frag, sizeof(frag));
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), -EPROTONOSUPPORT);
}

static void test_vlan(void **state)
{
	static const uint8_t tag[] = { 0x81, 0x00, 0x00, 0x64 };
	struct frame f;
	struct seg ref, s;

	(void)state;
	frame_load(&f, v4_syn_hex);
	assert_int_equal(seg_parse_ether(f.b, f.n, &ref), 0);
	frame_insert(&f, 12, tag, sizeof(tag));
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_memory_equal(&ref, &s, sizeof(s));
	assert_int_equal(seg_parse_ether(f.b, 17, &s), -EINVAL);
	assert_int_equal(seg_parse_ether(f.b, 18, &s), -EINVAL);
}

/* Every prefix shorter than the headers is -EINVAL; each prefix is copied
 * into an exact-size heap block so a sanitizer build catches any over-read. */
static void truncations_check(const char *hex, size_t headers)
{
	struct frame f;
	struct seg s;
	size_t n;

	frame_load(&f, hex);
	for (n = 0; n <= f.n; n++) {
		uint8_t *p = malloc(n ? n : 1);
		int ret, ret_ip = -EINVAL;

		assert_non_null(p);
		memcpy(p, f.b, n);
		ret = seg_parse_ether(p, n, &s);
		if (n >= ETH_LEN)
			ret_ip = seg_parse_ip(p + ETH_LEN, n - ETH_LEN, &s);
		free(p);
		if (n < headers) {
			assert_int_equal(ret, -EINVAL);
			assert_int_equal(ret_ip, -EINVAL);
			/* A failed parse leaves nothing half-filled. */
			assert_int_equal(s.sport, 0);
			assert_int_equal(s.wscale, -1);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(ret_ip, 0);
		}
	}
}

static void test_truncated_every_length(void **state)
{
	(void)state;
	truncations_check(v4_syn_hex, 74);
	truncations_check(v4_data_hex, ETH_LEN + 20 + 32);
	truncations_check(v6_finack_hex, 86);
	assert_int_equal(seg_parse_ip(NULL, 0, &(struct seg){ 0 }), -EINVAL);
	assert_int_equal(seg_parse_ether(NULL, 0, &(struct seg){ 0 }), -EINVAL);
}

static void test_not_tcp_and_garbage(void **state)
{
	struct frame f, g;
	struct seg s;

	(void)state;
	frame_load(&f, v4_syn_hex);

	g = f; /* ARP */
	put_be16(g.b + 12, 0x0806);
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EPROTONOSUPPORT);
	g = f; /* UDP */
	g.b[V4_IP + 9] = 17;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EPROTONOSUPPORT);
	assert_int_equal(seg_parse_ip(g.b + V4_IP, g.n - V4_IP, &s), -EPROTONOSUPPORT);
	g = f; /* version 5 */
	g.b[V4_IP] = 0x55;
	assert_int_equal(seg_parse_ip(g.b + V4_IP, g.n - V4_IP, &s), -EINVAL);
	g = f; /* IPv6 behind an IPv4 ethertype */
	g.b[V4_IP] = 0x65;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* IHL 4 */
	g.b[V4_IP] = 0x44;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* IHL past the capture */
	g.b[V4_IP] = 0x4f;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* total length shorter than the IP header */
	put_be16(g.b + V4_IP + 2, 19);
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* total length 0 (BIG TCP style) */
	put_be16(g.b + V4_IP + 2, 0);
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* total length leaves no room for the TCP options */
	put_be16(g.b + V4_IP + 2, 40);
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* non-first fragment */
	put_be16(g.b + V4_IP + 6, 0x0010);
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* first fragment (MF set, offset 0) still has a TCP header */
	put_be16(g.b + V4_IP + 6, 0x2000);
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), 0);
	g = f; /* data offset 4 */
	g.b[V4_TCP + 12] = 0x40;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* data offset 15: past the segment */
	g.b[V4_TCP + 12] = 0xf0;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
	g = f; /* data offset 5: options ignored, not an error */
	g.b[V4_TCP + 12] = 0x50;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), 0);
	assert_int_equal(s.len, 20);
	assert_false(s.has_mss);

	/* IPv6 carrying UDP; an IPv4 header behind the IPv6 ethertype. */
	frame_load(&g, v6_finack_hex);
	g.b[ETH_LEN + 6] = 17;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EPROTONOSUPPORT);
	g.b[ETH_LEN + 6] = 6;
	g.b[ETH_LEN] = 0x45;
	assert_int_equal(seg_parse_ether(g.b, g.n, &s), -EINVAL);
}

/* Options area of the SYN fixture, 20 bytes at V4_OPT:
 * 02 04 05b4 | 04 02 | 08 0a <8 bytes> | 01 | 03 03 0a */
static void syn_with_options(struct frame *f, const uint8_t opt[20])
{
	frame_load(f, v4_syn_hex);
	memcpy(f->b + V4_OPT, opt, 20);
}

static void test_bad_option_lengths(void **state)
{
	struct frame f;
	struct seg s;
	size_t i;
	unsigned seed;

	(void)state;
	/* Length 0 on the first option: stop, nothing parsed, still a segment. */
	syn_with_options(&f, (const uint8_t[20]){ 2, 0, 5, 180, 4, 2, 8, 10, 0, 0,
						   0, 1, 0, 0, 0, 0, 1, 3, 3, 10 });
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_false(s.has_mss);
	assert_false(s.sack_ok);
	assert_false(s.has_ts);
	assert_int_equal(s.wscale, -1);
	/* Length 1. */
	syn_with_options(&f, (const uint8_t[20]){ 4, 2, 2, 1, 5, 180, 8, 10, 0, 0,
						   0, 1, 0, 0, 0, 0, 1, 3, 3, 10 });
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_true(s.sack_ok);
	assert_false(s.has_mss);
	assert_false(s.has_ts);
	/* Timestamp running past the header: the options before it survive. */
	syn_with_options(&f, (const uint8_t[20]){ 2, 4, 5, 180, 4, 2, 8, 40, 0, 0,
						   0, 1, 0, 0, 0, 0, 1, 3, 3, 10 });
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_true(s.has_mss);
	assert_true(s.sack_ok);
	assert_false(s.has_ts);
	assert_int_equal(s.wscale, -1);
	/* Known kinds with the wrong (in-bounds) length are skipped, the walk
	 * goes on (as tcp_parse_options() does). */
	syn_with_options(&f, (const uint8_t[20]){ 2, 3, 5, 4, 3, 0, 8, 5, 0, 0,
						   0, 1, 1, 1, 1, 1, 1, 3, 3, 10 });
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_false(s.has_mss);
	assert_false(s.sack_ok);
	assert_false(s.has_ts);
	assert_int_equal(s.wscale, 10);
	/* A kind in the last byte with no room for its length; EOL ends early;
	 * an absurd window scale is clamped to 14 (RFC 7323 2.3). */
	syn_with_options(&f, (const uint8_t[20]){ 3, 3, 200, 1, 1, 1, 1, 1, 1, 1,
						   1, 1, 1, 1, 1, 1, 1, 1, 1, 2 });
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_int_equal(s.wscale, 14);
	assert_false(s.has_mss);
	syn_with_options(&f, (const uint8_t[20]){ 4, 2, 0, 2, 4, 5, 180, 1, 1, 1,
						   1, 1, 1, 1, 1, 1, 1, 1, 1, 1 });
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_true(s.sack_ok);
	assert_false(s.has_mss);
	/* Unknown kinds are stepped over. */
	syn_with_options(&f, (const uint8_t[20]){ 30, 4, 0, 0, 2, 4, 5, 180, 1, 1,
						   1, 1, 1, 1, 1, 1, 1, 1, 1, 1 });
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	assert_true(s.has_mss);
	assert_int_equal(s.mss, 1460);

	/* Random option bytes must never crash or fail the segment. */
	seed = 1;
	for (i = 0; i < 20000; i++) {
		uint8_t opt[20];
		size_t k;

		for (k = 0; k < sizeof(opt); k++) {
			seed = seed * 1103515245u + 12345u;
			opt[k] = (uint8_t)(seed >> 16);
			/* Bias towards known kinds and small lengths. */
			if ((seed >> 8) % 3 == 0)
				opt[k] %= 11;
		}
		syn_with_options(&f, opt);
		assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
		assert_true(s.wscale >= -1 && s.wscale <= 14);
	}
}

/* Random bytes anywhere in the headers: only 0, -EINVAL or -EPROTONOSUPPORT,
 * and every length stays inside what was captured. */
static void test_random_mutations(void **state)
{
	const char *fixtures[] = { v4_syn_hex, v4_data_hex, v6_finack_hex };
	unsigned seed = 7;
	size_t i, k;

	(void)state;
	for (i = 0; i < 30000; i++) {
		struct frame f;
		struct seg s;
		size_t hdr, cap;
		int ret;

		frame_load(&f, fixtures[i % 3]);
		hdr = f.n < 100 ? f.n : 100;
		for (k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			f.b[(seed >> 8) % hdr] = (uint8_t)(seed >> 20);
		}
		seed = seed * 1103515245u + 12345u;
		cap = (seed >> 8) % (f.n + 1);
		ret = seg_parse_ether(f.b, cap, &s);
		assert_true(ret == 0 || ret == -EINVAL || ret == -EPROTONOSUPPORT);
		if (ret == 0)
			assert_true(s.len <= 65535);
	}
}

static void test_flags_roundtrip(void **state)
{
	static const struct {
		uint8_t flags;
		const char *text;
	} known[] = {
		{ SEG_SYN, "S" },
		{ SEG_SYN | SEG_ACK, "S." },
		{ SEG_FIN | SEG_ACK, "F." },
		{ SEG_RST, "R" },
		{ SEG_RST | SEG_ACK, "R." },
		{ SEG_ACK, "." },
		{ SEG_PSH | SEG_ACK, "P." },
		{ SEG_FIN | SEG_PSH | SEG_ACK, "FP." },
		{ SEG_SYN | SEG_ECE | SEG_CWR, "SEW" },
		{ 0, "none" },
		{ 0xff, "FSRPUEW." },
	};
	static const char *bad[] = { "", "SS", "..", "X", "s", "S .", "nonE", "none.", "S\n" };
	char buf[16];
	uint8_t f;
	unsigned i;

	(void)state;
	for (i = 0; i < 256; i++) {
		seg_flags_format((uint8_t)i, buf, sizeof(buf));
		assert_true(strlen(buf) <= 8);
		f = 0xaa;
		assert_int_equal(seg_flags_parse(buf, &f), 0);
		assert_int_equal(f, i);
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		seg_flags_format(known[i].flags, buf, sizeof(buf));
		assert_string_equal(buf, known[i].text);
	}
	/* Any order is accepted on input (tcpdump itself prints "S.E"). */
	assert_int_equal(seg_flags_parse("S.E", &f), 0);
	assert_int_equal(f, SEG_SYN | SEG_ACK | SEG_ECE);
	assert_int_equal(seg_flags_parse(".F", &f), 0);
	assert_int_equal(f, SEG_FIN | SEG_ACK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = 0x5a;
		assert_int_equal(seg_flags_parse(bad[i], &f), -EINVAL);
		assert_int_equal(f, 0x5a); /* untouched on failure */
	}
	assert_int_equal(seg_flags_parse(NULL, &f), -EINVAL);
	/* A short buffer is cut, never overrun. */
	memset(buf, 'x', sizeof(buf));
	seg_flags_format(0xff, buf, 4);
	assert_string_equal(buf, "FSR");
	assert_int_equal(buf[4], 'x');
}

static void test_seq_arithmetic(void **state)
{
	struct frame f;
	struct seg s;
	struct seg_names names = { "a", "b", true, true, 0xFFFFFF00u, 0xFFFFFFFFu };
	char buf[256];

	(void)state;
	assert_int_equal(seq_rel(0x00000010u, 0xFFFFFF00u), 0x110);
	assert_int_equal(seq_rel(0xFFFFFF00u, 0xFFFFFF00u), 0);
	assert_int_equal(seq_diff(0x00000010u, 0xFFFFFFF0u), 0x20);
	assert_int_equal(seq_diff(0xFFFFFFF0u, 0x00000010u), -0x20);
	assert_true(seq_before(0xFFFFFFF0u, 0x00000010u));
	assert_false(seq_after(0xFFFFFFF0u, 0x00000010u));
	assert_true(seq_after(0x00000010u, 0xFFFFFFF0u));
	assert_false(seq_before(0x00000010u, 0xFFFFFFF0u));
	assert_false(seq_before(5, 5));
	assert_false(seq_after(5, 5));
	/* Up to 2^31 - 1 ahead is "after"; exactly 2^31 apart is ambiguous and
	 * each side reads as "before" the other (signed difference INT32_MIN). */
	assert_true(seq_after(0x80000000u, 0x00000001u));
	assert_false(seq_after(0x80000001u, 0x00000001u));
	assert_true(seq_before(0x80000001u, 0x00000001u));
	assert_true(seq_before(0x00000001u, 0x80000001u));

	memset(&s, 0, sizeof(s));
	s.flags = SEG_SYN;
	assert_int_equal(seg_seq_len(&s), 1);
	s.flags = SEG_SYN | SEG_FIN;
	assert_int_equal(seg_seq_len(&s), 2);
	s.flags = SEG_FIN | SEG_ACK;
	s.len = 100;
	assert_int_equal(seg_seq_len(&s), 101);
	s.flags = SEG_RST;
	s.len = 0;
	assert_int_equal(seg_seq_len(&s), 0);

	/* Relative numbers across the wrap, with a payload range. */
	frame_load(&f, v4_data_hex);
	assert_int_equal(seg_parse_ether(f.b, f.n, &s), 0);
	s.seq = 0x00000010u;
	s.ack = 0x00000001u;
	seg_format(&s, &names, buf, sizeof(buf));
	assert_string_equal(buf, "a > b P. seq 272:372 ack 2 win 63 length 100 "
				 "[TS val 945305553 ecr 1185605082]");
	/* The range itself wraps past 2^32 when shown absolute. */
	s.seq = 0xFFFFFFF0u;
	seg_format(&s, &(struct seg_names){ "a", "b", false, false, 0, 0 }, buf, sizeof(buf));
	assert_string_equal(buf, "a > b P. seq 4294967280:84 ack 1 win 63 length 100 "
				 "[TS val 945305553 ecr 1185605082]");
}

static void test_format_no_ack_and_truncation(void **state)
{
	struct seg s;
	struct seg_names names = { "client", "server", true, true, 1000, 5000 };
	char buf[256], small[24];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.wscale = -1;
	s.src.family = s.dst.family = AF_INET;
	s.flags = SEG_RST;
	s.seq = 1001;
	s.ack = 7777; /* not shown: ACK is not set */
	seg_format(&s, &names, buf, sizeof(buf));
	assert_string_equal(buf, "client > server R seq 1 win 0 length 0");
	s.flags = SEG_RST | SEG_ACK;
	s.ack = 5001;
	seg_format(&s, &names, buf, sizeof(buf));
	assert_string_equal(buf, "client > server R. seq 1 ack 1 win 0 length 0");
	/* Only the options present, in order. */
	s.wscale = 0;
	seg_format(&s, &names, buf, sizeof(buf));
	assert_string_equal(buf, "client > server R. seq 1 ack 1 win 0 length 0 [wscale 0]");

	memset(small, 'x', sizeof(small));
	seg_format(&s, &names, small, 10);
	assert_string_equal(small, "client > ");
	assert_int_equal(small[10], 'x');
}

static void test_addr(void **state)
{
	struct fw_addr a = { AF_INET, { 198, 18, 0, 1 } }, b = a, c;
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	b.bytes[10] = 7; /* beyond the IPv4 bytes: ignored */
	assert_true(fw_addr_equal(&a, &b));
	b.bytes[3] = 2;
	assert_false(fw_addr_equal(&a, &b));

	memset(&c, 0, sizeof(c));
	c.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:2::1", c.bytes), 1);
	assert_false(fw_addr_equal(&a, &c));
	fw_addr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "2001:2::1");
	b = c;
	assert_true(fw_addr_equal(&b, &c));
	b.bytes[15] = 2;
	assert_false(fw_addr_equal(&b, &c));

	fw_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.1");
	a.family = AF_UNIX;
	fw_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_syn_options),
		cmocka_unit_test(test_ipv4_data_truncated_capture),
		cmocka_unit_test(test_ipv6_fin_ack),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_not_tcp_and_garbage),
		cmocka_unit_test(test_bad_option_lengths),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_flags_roundtrip),
		cmocka_unit_test(test_seq_arithmetic),
		cmocka_unit_test(test_format_no_ack_and_truncation),
		cmocka_unit_test(test_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
