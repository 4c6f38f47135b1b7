/* timeline: everything that happened in one case, in order of time.
 * Segments on both legs, fault actions, injections, syscalls, socket state
 * changes and expectation verdicts. Expectations are judged on it, reports
 * are drawn from it, and it crosses from the case process to the harness as
 * JSON (result.h). Times are nanoseconds since the case started. */
#ifndef FW_TIMELINE_H
#define FW_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "fault.h"
#include "seg.h"
#include "topo.h"

enum ev_kind {
	EV_STEP,    /* an action ran: text, err = its result (0 or errno) */
	EV_SEGMENT, /* a segment seen by capture on one leg */
	EV_FAULT,   /* the interceptor dropped / delayed / released a segment */
	EV_INJECT,  /* the injector sent a segment */
	EV_STATE,   /* a socket changed state (sock_diag) */
	EV_EXPECT,  /* an expectation was decided: pass or fail */
};

struct fw_event {
	enum ev_kind kind;
	int64_t t_ns;
	int step; /* step index (0-based) it belongs to, -1 for none */
	enum fw_host host; /* STEP/STATE: the host; SEGMENT/FAULT/INJECT: the sender */
	/* SEGMENT, FAULT, INJECT */
	struct seg seg;
	uint32_t rel_seq, rel_ack; /* relative to the ISNs, as printed */
	enum fw_host leg;  /* SEGMENT: capture point (client or server leg; dut: at the box) */
	/* SEGMENT with leg dut: captured where wire `side` meets the box (the
	 * wire's interface toward it), going into the box or leaving it;
	 * FAULT: the wire it acted in */
	enum fault_leg side;
	bool into_box;
	bool sent;         /* SEGMENT: the copy on the sender's own leg */
	bool injected;     /* SEGMENT: crafted by the injector, not the kernel */
	/* SEGMENT: the connection it belongs to, from 1 in the order they
	 * opened, under any ports a box translated; 0: none known */
	uint32_t flow;
	enum fault_action action; /* FAULT */
	int rule;          /* FAULT: rule index */
	bool released;     /* FAULT: a delayed segment let through */
	int64_t held_ns;   /* FAULT released: how long it was held */
	/* STATE */
	int state;
	uint8_t timer;
	uint32_t expires_ms;
	/* STEP */
	int err;
	/* EXPECT */
	bool pass;
	/* The harness's own lateness attached to this event, ns: SEGMENT (the
	 * copy arriving through the interceptor) and FAULT acted: its dwell in
	 * the queue; FAULT released on a timer or by an event: how long after
	 * it was due; STEP (an action): how late it started after the previous
	 * step ended. 0 for everything else. */
	int64_t late_ns;
	/* SEGMENT raw frame (sent copies only), for pcap */
	uint8_t *raw;
	uint32_t caplen, len;
	int64_t t_real_ns;
	char text[320];
};

struct timeline {
	struct fw_event *ev;
	size_t n, cap;
};

/* Append a copy of ev (raw is duplicated). Returns the new event or NULL. */
struct fw_event *timeline_add(struct timeline *tl, const struct fw_event *ev);
void timeline_clear(struct timeline *tl);
/* Did the box make segment event i itself (leg dut, leaving the box): no
 * segment went into it on the other side, from the other sender, with the
 * same flags, sequence, acknowledgment and length in the second before?
 * (A box that translates ports or addresses still passes these; one that
 * shifts sequence numbers, a SYNPROXY, makes every segment look its own.)
 * Both of one flow, when both flows are known. */
bool timeline_box_made(const struct timeline *tl, size_t i);
/* Order events by time, keeping the order of equal times (stable). */
void timeline_sort(struct timeline *tl);
const char *ev_kind_name(enum ev_kind k);

#endif
