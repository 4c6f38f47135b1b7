/* mangle: rewrite TCP header fields of a whole IP packet in place (the
 * interceptor's "rewrite" action) and recompute the TCP checksum.
 * The checksum is computed from scratch, not patched: a queued packet from a
 * veth may carry only the pseudo-header sum (checksum offload), and the
 * kernel trusts a mangled packet's checksum as given (nfqnl_mangle() sets
 * CHECKSUM_NONE). RFC 9293 3.1 defines the sum. */
#ifndef FW_MANGLE_H
#define FW_MANGLE_H

#include <stddef.h>
#include <stdint.h>

#include "fault.h"

/* pkt starts at the IP header and holds the whole packet (len >= the IP
 * length). Returns 0, or -EINVAL when it is not a complete IPv4/IPv6 TCP
 * packet (IPv6 extension headers are not followed). */
int mangle_rewrite(uint8_t *pkt, size_t len, const struct fault_rewrite *rw);
/* Recompute the TCP checksum only; same contract. */
int mangle_tcp_checksum(uint8_t *pkt, size_t len);

#endif
