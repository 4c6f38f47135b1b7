/* fault: which segment to break, and how. Pure logic, no I/O, so it is unit
 * tested without root: the interceptor asks fault_set_decide() for every
 * queued segment and carries out the answer.
 *
 * A rule matches a segment by sender, TCP flags ((flags & mask) == value)
 * and payload (any / none / some). Every armed rule counts the segments it
 * matches; it acts on occurrences nth .. nth+count-1 (count 0: all from nth).
 * The first rule, in case-file order, whose window holds the occurrence acts;
 * all armed matching rules still count the segment. */
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
	FAULT_DELAY,
};

enum fault_payload {
	FAULT_PAYLOAD_ANY,
	FAULT_PAYLOAD_NONE,
	FAULT_PAYLOAD_SOME,
};

struct fault_rule {
	char name[64];
	enum fw_host from;
	uint8_t flags_mask, flags_value;
	enum fault_payload payload;
	unsigned nth;   /* 1-based */
	unsigned count; /* 0 = every occurrence from nth on */
	enum fault_action action;
	int64_t delay_ns; /* FAULT_DELAY */
	bool armed;       /* armed when the case starts */
	bool optional;    /* a case does not fail when this rule never acted */
};

struct fault_decision {
	enum fault_action action; /* FAULT_PASS when no rule acts */
	int rule;                 /* index of the acting rule, -1 for none */
	unsigned occurrence;      /* the acting rule's occurrence number */
	int64_t delay_ns;
};

struct fault_set;

/* Copies the rules. Returns 0 or -ENOMEM. Caller frees with fault_set_free(). */
int fault_set_create(struct fault_set **out, const struct fault_rule *rules, size_t n);
void fault_set_free(struct fault_set *fs); /* accepts NULL */

struct fault_decision fault_set_decide(struct fault_set *fs, enum fw_host from,
				       const struct seg *s);
size_t fault_set_count(const struct fault_set *fs);
const struct fault_rule *fault_set_rule(const struct fault_set *fs, size_t idx);
int fault_set_find(const struct fault_set *fs, const char *name); /* index or -1 */
void fault_set_arm(struct fault_set *fs, size_t idx, bool armed);
unsigned fault_set_matched(const struct fault_set *fs, size_t idx); /* segments counted */
unsigned fault_set_fired(const struct fault_set *fs, size_t idx);   /* segments acted on */

const char *fault_action_name(enum fault_action a); /* "pass", "drop", "delay" */

#endif
