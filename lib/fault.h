/* fault: which segment to break, and how. Pure logic, no I/O, so it is unit
 * tested without root: the interceptor asks fault_set_decide() for every
 * queued segment and carries out the answer.
 *
 * A rule matches a segment by sender, TCP flags ((flags & mask) == value),
 * payload (any / none / some) and, where the case asks, the sequence number
 * relative to the sender's ISN and the state of the sending socket at the
 * moment the segment reached the wire. Every armed rule counts the segments
 * it matches; it acts on occurrences nth .. nth+count-1 (count 0: all from
 * nth). The first rule, in case-file order, whose window holds the occurrence
 * acts; all armed matching rules still count the segment. */
#ifndef FW_FAULT_H
#define FW_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg.h"
#include "topo.h"

enum fault_action {
	FAULT_PASS,
	FAULT_DROP,
	FAULT_DELAY,     /* let through after delay_ns */
	FAULT_HOLD,      /* keep until an event (segment, state, step) or max_ns */
	FAULT_REORDER,   /* keep until the sender's next segment has passed */
	FAULT_DUPLICATE, /* let through, and a copy gap_ns later */
	FAULT_REWRITE,   /* change header fields, recompute checksums, let through */
};
#define FAULT_ACTION_COUNT (FAULT_REWRITE + 1)

enum fault_payload {
	FAULT_PAYLOAD_ANY,
	FAULT_PAYLOAD_NONE,
	FAULT_PAYLOAD_SOME,
};

/* What releases a held segment (besides its deadline, max_ns). */
enum fault_until {
	FAULT_UNTIL_DEADLINE, /* only the deadline */
	FAULT_UNTIL_SEGMENT,  /* a matching segment has crossed the wire */
	FAULT_UNTIL_STATE,    /* a host's socket reached a state */
	FAULT_UNTIL_STEP,     /* a "release" step names this fault */
};

/* Where a rule acts: the wire before the device under test (wire-a, between
 * the client and the box; the only wire when a case has no box) or after it
 * (wire-b, between the box and the server). Either direction crosses both. */
enum fault_leg {
	FAULT_LEG_A,
	FAULT_LEG_B,
};
#define FAULT_LEG_COUNT (FAULT_LEG_B + 1)

/* Field changes of a rewrite; deltas are added modulo 2^32. */
struct fault_rewrite {
	bool set_flags;
	uint8_t flags;
	bool set_win;
	uint16_t win;
	int64_t seq_delta, ack_delta;
	int64_t tsval_delta, tsecr_delta; /* only where the segment has a TS option */
};

struct fault_rule {
	char name[64];
	enum fw_host from;
	enum fault_leg leg; /* the wire it acts in */
	uint8_t flags_mask, flags_value;
	enum fault_payload payload;
	bool match_seq;
	uint32_t seq;     /* relative to the sender's ISN */
	int state;        /* of the sending socket (TCP_* from 1); 0 = any */
	/* Which of the case's connections (numbered from 1 in the order its
	 * connect steps open them): only the conn_nth-th, or every
	 * conn_every-th (conn_every, 2*conn_every, ...); 0 = any. */
	unsigned conn_nth, conn_every;
	unsigned nth;     /* 1-based */
	unsigned count;   /* 0 = every occurrence from nth on */
	enum fault_action action;
	int64_t delay_ns; /* DELAY: the delay; DUPLICATE: gap before the copy */
	int64_t max_ns;   /* HOLD, REORDER: released at the latest after this */
	enum fault_until until; /* HOLD */
	enum fw_host until_host; /* SEGMENT: sender; STATE: the host */
	uint8_t until_mask, until_value; /* SEGMENT: flags */
	int until_state;                 /* STATE */
	struct fault_rewrite rewrite;    /* REWRITE */
	bool armed;       /* armed when the case starts */
	bool optional;    /* a case does not fail when this rule never acted */
	uint32_t when;    /* the case's matrix rows it belongs to (bit i = row i); 0 = all */
};

/* What the matcher may need beyond the segment itself; the interceptor asks
 * its owner (who knows the ISNs and can probe sockets) to fill it. */
struct fault_view {
	bool seq_known;
	uint32_t rel_seq; /* seq - sender's ISN */
	int state;        /* sending socket's state, -1 unknown */
	unsigned conn;    /* the segment's connection number, 0 unknown */
};

struct fault_decision {
	enum fault_action action; /* FAULT_PASS when no rule acts */
	int rule;                 /* index of the acting rule, -1 for none */
	unsigned occurrence;      /* the acting rule's occurrence number */
	int64_t delay_ns;         /* DELAY: delay; DUPLICATE: gap; HOLD/REORDER: max */
};

struct fault_set;

/* Copies the rules. Returns 0 or -ENOMEM. Caller frees with fault_set_free(). */
int fault_set_create(struct fault_set **out, const struct fault_rule *rules, size_t n);
void fault_set_free(struct fault_set *fs); /* accepts NULL */

/* view may be NULL: rules that need the relative seq or the state then
 * do not match. */
struct fault_decision fault_set_decide(struct fault_set *fs, enum fw_host from,
				       const struct seg *s, const struct fault_view *view);
/* The same for the interceptor on one leg: only that leg's rules count
 * and act (a segment crosses each leg once). */
struct fault_decision fault_set_decide_leg(struct fault_set *fs, enum fault_leg leg,
					   enum fw_host from, const struct seg *s,
					   const struct fault_view *view);
/* Does some rule act on this leg (an interceptor there is needed)? */
bool fault_set_uses_leg(const struct fault_set *fs, enum fault_leg leg);
size_t fault_set_count(const struct fault_set *fs);
const struct fault_rule *fault_set_rule(const struct fault_set *fs, size_t idx);
int fault_set_find(const struct fault_set *fs, const char *name); /* index or -1 */
void fault_set_arm(struct fault_set *fs, size_t idx, bool armed);
unsigned fault_set_matched(const struct fault_set *fs, size_t idx); /* segments counted */
unsigned fault_set_fired(const struct fault_set *fs, size_t idx);   /* segments acted on */
/* Does some rule match on the sending socket's state (worth a probe)? */
bool fault_set_needs_state(const struct fault_set *fs);
/* Does some rule need whole packets (duplicate, rewrite), not headers only? */
bool fault_set_needs_payload(const struct fault_set *fs);
/* Which GSO packets must be cut into segments before the rules see them
 * (the others the kernel may queue whole, NFQA_CFG_F_GSO): 0 none, when no
 * rule could tell a whole packet from its pieces (every rule either never
 * matches a GSO packet: it wants SYN, RST, no ACK or no payload; or passes
 * every such segment alike: no count, nth, seq or FIN/PSH/URG/ECE/CWR test);
 * FAULT_GSO_CUT_ALL every one; else the TCP flags (SEG_*) of those to cut, a
 * packet carrying any of them. A rule that needs FIN (PSH, URG, ECE, CWR)
 * set matches no GSO packet without it, so only those carrying it need
 * cutting, which gives the flag to one segment as on the wire; the others,
 * a bulk transfer's data, may come whole. */
#define FAULT_GSO_CUT_ALL 0x100u
unsigned fault_set_gso_cut(const struct fault_set *fs);

/* Does a segment that crossed the wire release a segment held by rule r? */
bool fault_rule_released_by_segment(const struct fault_rule *r, enum fw_host from,
				    const struct seg *s);
/* Does a socket of host reaching state release what rule r holds? (A hold
 * until a step is released by that step: 'release' in the case.) */
bool fault_rule_released_by_state(const struct fault_rule *r, enum fw_host host, int state);

/* "pass", "drop", "delay", "hold", "reorder", "duplicate", "rewrite" */
const char *fault_action_name(enum fault_action a);
int fault_action_parse(const char *name); /* action, or -1 */
/* "wire-a", "wire-b" */
const char *fault_leg_name(enum fault_leg leg);
int fault_leg_parse(const char *name); /* leg, or -1 */

#endif
