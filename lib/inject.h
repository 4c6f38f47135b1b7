/* inject: one crafted TCP segment, sent with libnet from a raw socket opened
 * inside the sending host's namespace, so it leaves that host's interface as
 * if its kernel had sent it and crosses the wire like any other segment. */
#ifndef FW_INJECT_H
#define FW_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg.h"

struct inject_spec {
	struct fw_addr src, dst; /* same family */
	uint16_t sport, dport;
	uint32_t seq, ack; /* absolute */
	uint8_t flags;     /* SEG_* */
	uint16_t win;
	bool has_ts;
	uint32_t tsval, tsecr;
	/* more options, each only when asked for (a zeroed spec carries none) */
	bool has_mss;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale;      /* shift count, 0..14 (RFC 7323 2.3) */
	bool sack_ok;        /* SACK-permitted */
	uint8_t nsack;       /* SACK blocks, at most 4 (3 beside a timestamp) */
	uint32_t sack[4][2]; /* [left, right) of each, absolute */
	uint32_t payload_len;
	const uint8_t *payload; /* payload_len bytes to carry; NULL: bytes of 'x' */
};

#define INJECT_MAX_OPTLEN 40 /* data offset 15 words minus the 5 of the header */

struct inject;

/* Open a libnet context for family (AF_INET / AF_INET6) inside ns_fd. */
int inject_open(struct inject **out, int ns_fd, int family, char *err, size_t errlen);
int inject_send(struct inject *inj, const struct inject_spec *spec, char *err, size_t errlen);
/* The TCP option bytes spec asks for, laid out as Linux writes them
 * (tcp_options_write(): MSS, SACK-permitted folded into the timestamp's
 * padding, window scale, SACK blocks), each padded with NOPs to 32 bits.
 * out holds INJECT_MAX_OPTLEN bytes; *len gets the count. -EMSGSIZE when
 * they do not fit in 40 bytes (TS and four SACK blocks), -EINVAL for a
 * window scale above 14. */
int inject_options_build(const struct inject_spec *spec, uint8_t *out, uint32_t *len, char *err,
			 size_t errlen);
void inject_free(struct inject *inj); /* accepts NULL */

#endif
