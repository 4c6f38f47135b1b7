/* intercept: the NFQUEUE consumer in the wire namespace.
 * Installs, inside the wire namespace only, iptables/ip6tables FORWARD rules
 * that queue to NFQUEUE every TCP segment of each host some fault rule names
 * (a kernel pre-filter on the input interface: one path per sender, so the
 * harness never reorders a sender's stream), then gives each queued segment
 * the verdict fault_set_decide() chose, as of when the segment was queued. Delayed and held
 * segments wait (on a timerfd deadline, or until the owner releases them)
 * while others flow: verdicts are given out of order. A duplicate is sent
 * from a raw socket in the wire namespace, so it crosses only the second leg;
 * a rewrite is handed back to the kernel with the verdict.
 * iptables is used because this kernel has the xt NFQUEUE target but no
 * nftables queue expression; "iptables" (nft backend) is tried first, then
 * "iptables-legacy". The rules die with the namespace. */
#ifndef FW_INTERCEPT_H
#define FW_INTERCEPT_H

#include <stddef.h>
#include <stdint.h>

#include "fault.h"
#include "seg.h"
#include "topo.h"

struct intercept_config {
	int wire_ns_fd;
	/* wire-side interface on which each host's segments arrive ("cl0", "sv0");
	 * NULL for HOST_WIRE */
	const char *in_ifname[HOST_COUNT];
	struct fault_set *faults; /* borrowed; must outlive the interceptor */
	/* The leg this wire namespace is: only rules of this leg act here (a
	 * fault set may be shared by one interceptor on each leg). */
	enum fault_leg leg;
	uint16_t queue_num;
	/* Optional: fills what the matcher needs beyond the segment (the
	 * sequence number relative to the sender's ISN, the sending socket's
	 * state) as of sent_ns, when the kernel queued it (CLOCK_MONOTONIC).
	 * Called for every queued segment, in queue order, before the decision. */
	void (*view)(void *ctx, enum fw_host from, const struct seg *s, int64_t sent_ns,
		     struct fault_view *out);
	void *view_ctx;
	/* The caller destroys the wire namespace right after intercept_free(),
	 * and its rules with it: do not spend an iptables run on each. */
	bool namespace_dies;
};

enum intercept_event_kind {
	INTERCEPT_ACTED,     /* a rule acted: dropped, rewrote, started a delay or hold */
	INTERCEPT_RELEASED,  /* a delayed or held segment was let through */
	INTERCEPT_COPY_SENT, /* the copy of a duplicated segment was sent */
	INTERCEPT_PASSED,    /* no rule acted: let through as it came (for its dwell) */
};

struct intercept_event {
	enum intercept_event_kind kind;
	int64_t t_ns; /* CLOCK_MONOTONIC */
	enum fw_host from;
	struct seg seg;
	struct fault_decision decision;
	int64_t queued_ns; /* when the segment entered the queue (the kernel's stamp) */
	int64_t read_ns;   /* when we read it: read_ns - queued_ns is its queue dwell */
	int64_t due_ns;    /* RELEASED/COPY_SENT on its timer (delay, copy gap, a
			    * hold's max): when it was due; 0 when released on request */
	bool rewritten;     /* ACTED by a rewrite: what the segment became */
	struct seg after;
	int err;            /* COPY_SENT / rewrite: 0, or the errno that stopped it */
};

typedef void (*intercept_fn)(void *ctx, const struct intercept_event *ev);

struct intercept;

/* Returns 0; -ENOTSUP when NFQUEUE or iptables is unusable (err says what to
 * install or load); other -errno with err filled. */
int intercept_open(struct intercept **out, const struct intercept_config *cfg, char *err,
		   size_t errlen);
int intercept_fd(const struct intercept *ic);       /* the queue's netlink socket */
int intercept_timer_fd(const struct intercept *ic); /* expires when a delay ends */
/* Segments the kernel dropped instead of queueing them to us: the queue was
 * full (queue_dropped) or our socket's buffer was (user_dropped). A drop the
 * case did not ask for; 0 or -errno. */
int intercept_dropped(const struct intercept *ic, unsigned long *dropped);
/* Handle everything ready on both fds without blocking; reports each action. */
int intercept_process(struct intercept *ic, intercept_fn fn, void *ctx);
/* Segments still held (delayed) right now, and copies not yet sent. */
size_t intercept_pending(const struct intercept *ic);
/* Let through the segments rule `rule` holds that entered the queue before
 * `before_ns` (CLOCK_MONOTONIC; INT64_MAX for all), reporting each through
 * fn. Returns how many were released. */
size_t intercept_release_rule(struct intercept *ic, int rule, int64_t before_ns,
			      intercept_fn fn, void *ctx);
/* Releases anything still held (accept) and closes; accepts NULL. */
void intercept_free(struct intercept *ic);

/* Preflight (intercept_probe.c): build a throwaway topology, open an
 * interceptor on it and send a SYN through the wire; 0 once the queue saw
 * it, -ENOTSUP (err: what to check) when it never did within 5 s (iptables
 * that installs nothing), -EAGAIN when the topology could not be built in
 * three tries for want of netlink answers (a loaded machine: no verdict),
 * or intercept_open()'s error. */
int intercept_probe(char *err, size_t errlen);

#endif
