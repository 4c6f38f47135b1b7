/* conntrack: the device under test's connection tracking table, read with
 * libnetfilter_conntrack in the box's namespace: what the box believes about
 * a connection (its TCP state, how long it will keep the entry, whether it
 * saw a reply, what NAT did), to set beside what the endpoints believe.
 *
 * The table fills only while a rule in the box uses conntrack (ct state, NAT,
 * synproxy): since Linux 5.x a namespace tracks nothing until one does. */
#ifndef FW_CONNTRACK_H
#define FW_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg.h"

/* The TCP states of nf_conntrack_proto_tcp.c, as the kernel numbers them
 * (enum tcp_conntrack); "SYN_SENT2" is the simultaneous-open state. */
const char *conntrack_state_name(int state);
int conntrack_state_parse(const char *name); /* number, or -1 */
/* Status bits by name ("ASSURED", "SEEN_REPLY", "SRC_NAT", "DST_NAT",
 * "CONFIRMED", "DYING"); 0 when unknown. */
uint32_t conntrack_status_parse(const char *name);
/* "ASSURED,SEEN_REPLY" of the known bits set in status. */
void conntrack_status_format(uint32_t status, char *buf, size_t len);

/* One TCP entry: its original direction, its reply direction (what NAT made
 * of it), state, seconds left, status bits. */
struct ct_entry {
	struct fw_addr orig_src, orig_dst, reply_src, reply_dst;
	uint16_t orig_sport, orig_dport, reply_sport, reply_dport;
	int state;
	uint32_t timeout_s;
	uint32_t status;
};

struct conntrack;

/* Open a conntrack handle bound to the namespace ns_fd. 0 or -errno (err). */
int conntrack_open(struct conntrack **out, int ns_fd, char *err, size_t errlen);
void conntrack_free(struct conntrack *ct); /* accepts NULL */
/* Every TCP entry of family (AF_INET, AF_INET6). *out malloc'd (free()),
 * *n may be 0. 0 or -errno (err). */
int conntrack_dump(struct conntrack *ct, int family, struct ct_entry **out, size_t *n, char *err,
		   size_t errlen);
/* The entry whose original direction is src:sport -> dport; else the one
 * from src whose reply direction is dport -> sport (a source NAT gave the
 * connection port sport); or NULL. */
const struct ct_entry *conntrack_find(const struct ct_entry *v, size_t n,
				      const struct fw_addr *src, uint16_t sport, uint16_t dport);
/* "ESTABLISHED 431999s ASSURED,SEEN_REPLY 198.18.1.2:40000 > 198.18.2.2:8080 (reply 198.18.2.2:8080 > 198.18.4.2:40000)" */
void conntrack_describe(const struct ct_entry *e, char *buf, size_t len);

#endif
