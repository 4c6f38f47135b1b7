/* sockprobe: every TCP socket of a namespace, TIME_WAIT included, read with
 * sock_diag (inet_diag over NETLINK_SOCK_DIAG). A TIME_WAIT socket has no file
 * descriptor, so this is the only way to see it and its timer. */
#ifndef FW_SOCKPROBE_H
#define FW_SOCKPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "seg.h"
#include "vocab.h"

struct sock_info {
	struct fw_addr src, dst;
	uint16_t sport, dport; /* host order */
	uint8_t state;         /* enum fw_tcp_state (vocab.h) */
	uint8_t timer;         /* enum fw_sock_timer (vocab.h) */
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

/* The names of states and timers: vocab.h. */

#endif
