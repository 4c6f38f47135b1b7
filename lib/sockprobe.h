/* sockprobe: every TCP socket of a namespace, TIME_WAIT included, read with
 * sock_diag (inet_diag over NETLINK_SOCK_DIAG). A TIME_WAIT socket has no file
 * descriptor, so this is the only way to see it and its timer. */
#ifndef FW_SOCKPROBE_H
#define FW_SOCKPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "seg.h"

struct sock_info {
	struct fw_addr src, dst;
	uint16_t sport, dport; /* host order */
	uint8_t state;         /* TCP_ESTABLISHED ... as in include/net/tcp_states.h */
	uint8_t timer;         /* 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe */
	uint8_t retrans;
	uint32_t expires_ms;
	uint32_t inode;
};

struct sockprobe;

int sockprobe_open(struct sockprobe **out, int ns_fd, char *err, size_t errlen);
/* Dump IPv4 and IPv6 TCP sockets in every state. *out is malloc'd (caller
 * frees with free()); *n may be 0. Returns 0 or -errno. */
int sockprobe_dump(struct sockprobe *p, struct sock_info **out, size_t *n, char *err,
		   size_t errlen);
void sockprobe_free(struct sockprobe *p); /* accepts NULL */

/* "ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT", ... ; "CLOSED" for 0 / gone. */
const char *tcp_state_name(int state);
int tcp_state_parse(const char *name); /* state number, or -1 when unknown */
const char *sock_timer_name(int timer); /* "off", "on", "keepalive", "timewait", "probe" */

#endif
