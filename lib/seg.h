/* seg: one TCP segment as finwave sees it on the wire.
 * Parsing (Ethernet / IPv4 / IPv6 frames into struct seg), the TCP flag
 * notation tcpdump uses ("S", "S.", "F.", "R", ".", "FP."), and sequence
 * arithmetic modulo 2^32 (RFC 9293 3.4: comparisons are signed differences). */
#ifndef FW_SEG_H
#define FW_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SEG_FIN = 0x01,
	SEG_SYN = 0x02,
	SEG_RST = 0x04,
	SEG_PSH = 0x08,
	SEG_ACK = 0x10,
	SEG_URG = 0x20,
	SEG_ECE = 0x40,
	SEG_CWR = 0x80,
};

struct fw_addr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t bytes[16]; /* network order; IPv4 uses the first 4 */
};

struct seg {
	struct fw_addr src, dst;
	uint16_t sport, dport; /* host order */
	uint32_t seq, ack;     /* absolute, host order */
	uint8_t flags;         /* SEG_* bits */
	uint16_t win;          /* raw window field (unscaled) */
	uint32_t len;          /* TCP payload length (from the IP length, not caplen) */
	bool has_ts;
	uint32_t tsval, tsecr;
	bool has_mss;
	uint16_t mss;
	int8_t wscale;         /* -1 when absent */
	bool sack_ok;
	uint8_t nsack;         /* SACK blocks carried (at most 4) */
	uint32_t sack[4][2];   /* [left, right) of each, absolute, as sent */
	uint8_t ttl;           /* IPv4 TTL or IPv6 hop limit */
};

/* Parse a frame starting at the IP header (NFQUEUE payload) or at the
 * Ethernet header (pcap DLT_EN10MB). Returns 0, or -EINVAL when it is not a
 * complete IPv4/IPv6 TCP header, -EPROTONOSUPPORT when it is not TCP. */
int seg_parse_ip(const uint8_t *pkt, size_t caplen, struct seg *out);
int seg_parse_ether(const uint8_t *frame, size_t caplen, struct seg *out);

/* Flags <-> tcpdump notation: letters in the order F S R P U E W, then '.'
 * for ACK; "." alone is a bare ACK. Parsing is exact: every letter must be
 * known and appear once; returns 0 or -EINVAL. */
int seg_flags_parse(const char *s, uint8_t *flags);
void seg_flags_format(uint8_t flags, char *buf, size_t len); /* len >= 10 */

/* Sequence space (mod 2^32). */
static inline int32_t seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline bool seq_before(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
static inline bool seq_after(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
/* Relative number as tcpdump shows it: seq - isn, wrapping. */
static inline uint32_t seq_rel(uint32_t seq, uint32_t isn) { return seq - isn; }
/* Sequence space the segment occupies: payload + 1 for SYN + 1 for FIN. */
uint32_t seg_seq_len(const struct seg *s);
/* A D-SACK (RFC 2883 4): the first SACK block reports data already
 * acknowledged, i.e. it ends at or below the cumulative ACK. */
bool seg_has_dsack(const struct seg *s);

bool fw_addr_equal(const struct fw_addr *a, const struct fw_addr *b);
/* An address as the kernel reports a socket's (sock_diag, tracepoints): 16
 * bytes, of which an AF_INET one uses 4. A dual-stack socket's
 * ::ffff:a.b.c.d becomes the plain IPv4 address the wire carries, so
 * sockets and segments compare with fw_addr_equal(). */
void fw_addr_from_socket(struct fw_addr *a, int family, const void *raw16);
void fw_addr_format(const struct fw_addr *a, char *buf, size_t len);

/* "client > server F. seq 1001 ack 1 win 502 length 0 [TS 123 456]" with
 * sequence numbers relative to the given ISNs (pass has_isn false to print
 * absolute numbers, as tcpdump -S). */
struct seg_names {
	const char *src, *dst;
	bool has_src_isn, has_dst_isn;
	uint32_t src_isn, dst_isn;
};
void seg_format(const struct seg *s, const struct seg_names *names, char *buf, size_t len);

#endif
