/* sockev: TCP socket state changes, retransmissions and resets as events,
 * from the kernel's tracepoints (bpf/sockev.bpf.c), instead of sock_diag
 * polls. A state that lives under a millisecond (LAST_ACK over a veth) is
 * seen, with the kernel's own CLOCK_MONOTONIC timestamp, and a wait on a
 * state wakes on the transition itself.
 *
 * The programs are loaded and attached once per process (sockev_load());
 * processes forked after that share them. Each case then subscribes its
 * namespaces (sockev_sub_open()): its own ring buffer, whose fd goes into the
 * case's event loop, receives the events of those namespaces and no others.
 *
 * Not covered by any tracepoint, so still read with sock_diag (sockprobe.h):
 * timers, TIME_WAIT and request minisockets, and a closed socket's leaving.
 * Where BPF is unavailable (no privilege, no BTF, a load that fails, or
 * FINWAVE_NO_BPF=1 in the environment), sockev_load() says why and the
 * engine polls as before. */
#ifndef FW_SOCKEV_H
#define FW_SOCKEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg.h"

enum sockev_what {
	SOCKEV_WHAT_STATE,
	SOCKEV_WHAT_RETRANSMIT,
	SOCKEV_WHAT_SEND_RESET,
	SOCKEV_WHAT_RECEIVE_RESET,
};

struct sockev_ev {
	enum sockev_what what;
	int64_t t_ns;        /* CLOCK_MONOTONIC, taken in the kernel */
	uint64_t sk;         /* the socket (its kernel address): 0 for a reset sent for none */
	uint32_t netns;      /* the namespace's inode number (sockev_netns_id()) */
	int oldstate, newstate; /* enum fw_tcp_state, STATE only */
	struct fw_addr src, dst;
	uint16_t sport, dport; /* host order */
};

struct sockev_sub;

/* Load and attach the programs in this process, once: later calls return
 * the first call's result (and its message in err). 0 or -errno. */
int sockev_load(char *err, size_t errlen);
/* Whether sockev_load() succeeded (false before it is called). */
bool sockev_loaded(void);

/* The identifier the kernel keys a namespace by: its inode number. */
int sockev_netns_id(int ns_fd, uint32_t *id);

/* A ring buffer receiving the events of namespaces ids[0..n). Needs
 * sockev_load() to have succeeded. 0 or -errno. */
int sockev_sub_open(struct sockev_sub **out, const uint32_t *ids, size_t n, char *err,
		    size_t errlen);
/* The same in two halves: begin creates the ring and starts filing it under
 * the namespaces on a thread (each update of the kernel's map of rings waits
 * for an RCU grace period, 5-20 ms), so that the caller opens its other
 * handles meanwhile; end waits for it and returns what sockev_sub_open()
 * would have (on error *s is freed and NULL). Every begun subscription is
 * ended or freed. */
int sockev_sub_open_begin(struct sockev_sub **out, const uint32_t *ids, size_t n, char *err,
			  size_t errlen);
int sockev_sub_open_end(struct sockev_sub **s, char *err, size_t errlen);
/* Readable (EPOLLIN) when events wait. */
int sockev_sub_fd(const struct sockev_sub *s);
/* Hand every waiting event to cb, in the order the kernel wrote them; a
 * socket's events before it had its ports come with its first one that
 * has them. Returns the number handled or -errno. */
int sockev_sub_read(struct sockev_sub *s, void (*cb)(void *ctx, const struct sockev_ev *ev),
		    void *ctx);
/* Events the kernel dropped for these namespaces because the ring was full. */
uint64_t sockev_sub_lost(const struct sockev_sub *s);
void sockev_sub_free(struct sockev_sub *s); /* accepts NULL */
/* Events the kernel skipped in every namespace since the programs were
 * loaded (a program already running on that CPU): such a run may lack one. */
uint64_t sockev_missed(void);

#endif
