/* sockev_event.h: one event of bpf/sockev.bpf.c as it sits in the ring
 * buffer; shared by the BPF program and lib/sockev.c. Fixed-width fields
 * only, laid out without padding, so both compilers agree. */
#ifndef FW_SOCKEV_EVENT_H
#define FW_SOCKEV_EVENT_H

/* Each case's ring: 256 KiB holds ~3,600 events, more than a case's
 * sockets make between two reads of the event loop. */
#define SOCKEV_RING_BYTES (256 * 1024)
/* Namespaces watched at once, by every case of every finwave on the machine. */
#define SOCKEV_MAX_NETNS 1024

enum sockev_kind {
	SOCKEV_STATE = 1,          /* sock:inet_sock_set_state */
	SOCKEV_RETRANSMIT = 2,     /* tcp:tcp_retransmit_skb */
	SOCKEV_SEND_RESET = 3,     /* tcp:tcp_send_reset */
	SOCKEV_RECEIVE_RESET = 4,  /* tcp:tcp_receive_reset */
};

struct sockev_event {
	__u64 t_ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sk;          /* the socket's address: one socket across its events */
	__u32 netns;       /* net->ns.inum */
	__u16 kind;        /* enum sockev_kind */
	__u16 family;      /* AF_INET or AF_INET6; 0 for a reset sent for no socket */
	__s16 oldstate, newstate; /* SOCKEV_STATE only, else -1 */
	__u16 sport, dport; /* host order; 0 before the socket has its ports */
	__u8 saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
};

#endif
