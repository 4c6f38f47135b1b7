/* vocab: the words every module shares, in one place: the TCP states (as the
 * kernel numbers them in include/net/tcp_states.h, which sock_diag reports)
 * and the socket timers (idiag_timer). The parser names them, the engine
 * compares them, sockprobe reads them and the reports colour them; hosts and
 * nodes are in topo.h. */
#ifndef FW_VOCAB_H
#define FW_VOCAB_H

/* 0 is no kernel state: finwave's word for a socket that is gone. glibc's
 * <netinet/tcp.h> has TCP_ESTABLISHED & co. too, hence the prefix. */
enum fw_tcp_state {
	FW_TCP_CLOSED = 0,
	FW_TCP_ESTABLISHED = 1,
	FW_TCP_SYN_SENT = 2,
	FW_TCP_SYN_RECV = 3,
	FW_TCP_FIN_WAIT_1 = 4,
	FW_TCP_FIN_WAIT_2 = 5,
	FW_TCP_TIME_WAIT = 6,
	FW_TCP_CLOSE = 7,
	FW_TCP_CLOSE_WAIT = 8,
	FW_TCP_LAST_ACK = 9,
	FW_TCP_LISTEN = 10,
	FW_TCP_CLOSING = 11,
	FW_TCP_NEW_SYN_RECV = 12,
};
#define FW_TCP_STATE_COUNT (FW_TCP_NEW_SYN_RECV + 1)

/* idiag_timer, as inet_sk_diag_fill() and inet_twsk_diag_fill() set it. */
enum fw_sock_timer {
	SOCK_TIMER_OFF = 0,
	SOCK_TIMER_ON = 1, /* retransmit (or zero-window probe before 5.x) */
	SOCK_TIMER_KEEPALIVE = 2,
	SOCK_TIMER_TIMEWAIT = 3,
	SOCK_TIMER_PROBE = 4,
};
#define SOCK_TIMER_COUNT (SOCK_TIMER_PROBE + 1)

/* The fields of struct tcp_info (INET_DIAG_INFO) an expectation may read. */
enum fw_tcp_info_field {
	TCP_INFO_RETRANSMITS,   /* "retransmits": RTO retransmissions in a row */
	TCP_INFO_PROBES,        /* "probes": unanswered zero-window/keepalive probes */
	TCP_INFO_BACKOFF,       /* "backoff": the RTO's exponential backoff */
	TCP_INFO_RTO_MS,        /* "rto_ms": the retransmission timeout */
	TCP_INFO_UNACKED,       /* "unacked": segments in flight */
	TCP_INFO_LOST,          /* "lost": of them, thought lost */
	TCP_INFO_TOTAL_RETRANS, /* "total_retrans": every retransmission so far */
};
#define TCP_INFO_FIELD_COUNT (TCP_INFO_TOTAL_RETRANS + 1)

/* "ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT", ... ; "CLOSED" for 0 / gone. */
const char *tcp_state_name(int state);
int tcp_state_parse(const char *name); /* state number, or -1 when unknown */
const char *sock_timer_name(int timer); /* "off", "on", "keepalive", "timewait", "probe" */
int sock_timer_parse(const char *name); /* timer number, or -1 when unknown */
const char *tcp_info_field_name(int field); /* "retransmits", ... */
int tcp_info_field_parse(const char *name); /* field, or -1 when unknown */

#endif
