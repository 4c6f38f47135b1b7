/* sockprobe: every TCP socket of a namespace, TIME_WAIT included, read with
 * sock_diag (inet_diag over NETLINK_SOCK_DIAG). A TIME_WAIT socket has no file
 * descriptor, so this is the only way to see it and its timer. */
#ifndef FW_SOCKPROBE_H
#define FW_SOCKPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg.h"
#include "vocab.h"

/* What INET_DIAG_INFO (struct tcp_info) says of a full socket; a
 * TIME_WAIT or request minisocket has none. */
struct sock_tcp_info {
	bool valid;
	uint8_t retransmits;    /* RTO retransmissions in a row (icsk_retransmits) */
	uint8_t probes;         /* zero-window or keepalive probes unanswered */
	uint8_t backoff;        /* the RTO's exponential backoff */
	uint32_t rto_ms;        /* the retransmission timeout now */
	uint32_t unacked, lost; /* segments in flight, and of them thought lost */
	uint32_t total_retrans; /* every retransmission of the connection */
};

struct sock_info {
	struct fw_addr src, dst;
	uint16_t sport, dport; /* host order */
	uint8_t state;         /* enum fw_tcp_state (vocab.h) */
	uint8_t timer;         /* enum fw_sock_timer (vocab.h) */
	uint8_t retrans;
	uint32_t expires_ms;
	uint32_t inode;
	struct sock_tcp_info info; /* only when sockprobe_want_info() */
};

struct sockprobe;

int sockprobe_open(struct sockprobe **out, int ns_fd, char *err, size_t errlen);
/* Dump IPv4 and IPv6 TCP sockets in every state. *out is malloc'd (caller
 * frees with free()); *n may be 0. Returns 0 or -errno. */
int sockprobe_dump(struct sockprobe *p, struct sock_info **out, size_t *n, char *err,
		   size_t errlen);
/* The same, but unless walk_all (or the probe has not walked them yet, or
 * reads tcp_info) the listeners and the bound sockets in CLOSE are those the
 * last walk found: the kernel walks the host's whole listening and bind
 * tables for them, whatever the namespace. For a caller that knows none
 * were made or closed since (sockets enter CLOSE with an event, sockev.h;
 * listen(), bind() and close() are calls of its own). */
int sockprobe_dump_some(struct sockprobe *p, bool walk_all, struct sock_info **out, size_t *n,
			char *err, size_t errlen);
/* The namespace is new and nothing but the caller runs in it: no listener
 * nor bound socket yet, the first sockprobe_dump_some() need not walk. */
void sockprobe_assume_new(struct sockprobe *p);
void sockprobe_free(struct sockprobe *p); /* accepts NULL */
/* Ask every later dump for struct tcp_info too (it costs a socket lock
 * per socket, so only cases that read it ask). */
void sockprobe_want_info(struct sockprobe *p, bool want);
/* One field (enum fw_tcp_info_field) of what the dump read. */
int64_t sock_tcp_info_get(const struct sock_tcp_info *ti, int field);

/* The names of states and timers: vocab.h. */

#endif
