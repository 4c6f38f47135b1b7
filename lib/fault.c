#include "fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fault_set {
	size_t n;
	struct fault_rule *rules;
	unsigned *matched; /* per rule: armed matches counted so far */
	unsigned *fired;   /* per rule: occurrences it acted on */
};

static const char *const fault_action_names[] = {
	[FAULT_PASS] = "pass",
	[FAULT_DROP] = "drop",
	[FAULT_DELAY] = "delay",
	[FAULT_HOLD] = "hold",
	[FAULT_REORDER] = "reorder",
	[FAULT_DUPLICATE] = "duplicate",
	[FAULT_REWRITE] = "rewrite",
};

const char *fault_action_name(enum fault_action a)
{
	if ((size_t)a >= sizeof(fault_action_names) / sizeof(fault_action_names[0]) ||
	    !fault_action_names[a])
		return "?";
	return fault_action_names[a];
}

int fault_action_parse(const char *name)
{
	int a;

	for (a = 0; name && a < FAULT_ACTION_COUNT; a++)
		if (strcmp(name, fault_action_names[a]) == 0)
			return a;
	return -1;
}

static const char *const fault_leg_names[] = {
	[FAULT_LEG_A] = "wire-a",
	[FAULT_LEG_B] = "wire-b",
};

const char *fault_leg_name(enum fault_leg leg)
{
	if ((size_t)leg >= FAULT_LEG_COUNT)
		return "?";
	return fault_leg_names[leg];
}

int fault_leg_parse(const char *name)
{
	int l;

	for (l = 0; name && l < FAULT_LEG_COUNT; l++)
		if (strcmp(name, fault_leg_names[l]) == 0)
			return l;
	return -1;
}

int fault_set_create(struct fault_set **out, const struct fault_rule *rules, size_t n)
{
	struct fault_set *fs;
	int ret = -ENOMEM;

	*out = NULL;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		goto out;
	fs->n = n;
	/* n + 1: calloc(0) may return NULL, which must not read as ENOMEM. */
	fs->rules = calloc(n + 1, sizeof(*fs->rules));
	fs->matched = calloc(n + 1, sizeof(*fs->matched));
	fs->fired = calloc(n + 1, sizeof(*fs->fired));
	if (!fs->rules || !fs->matched || !fs->fired)
		goto out;
	if (n)
		memcpy(fs->rules, rules, n * sizeof(*rules));
	*out = fs;
	fs = NULL;
	ret = 0;
out:
	fault_set_free(fs);
	return ret;
}

void fault_set_free(struct fault_set *fs)
{
	if (!fs)
		return;
	free(fs->fired);
	free(fs->matched);
	free(fs->rules);
	free(fs);
}

static bool fault_rule_match(const struct fault_rule *r, enum fw_host from, const struct seg *s,
			     const struct fault_view *view)
{
	if (r->from != from)
		return false;
	if ((s->flags & r->flags_mask) != r->flags_value)
		return false;
	if (r->match_seq && (!view || !view->seq_known || view->rel_seq != r->seq))
		return false;
	if (r->state > 0 && (!view || view->state != r->state))
		return false;
	if ((r->conn_nth || r->conn_every) && (!view || !view->conn))
		return false;
	if (r->conn_nth && view->conn != r->conn_nth)
		return false;
	if (r->conn_every && view->conn % r->conn_every != 0)
		return false;
	switch (r->payload) {
	case FAULT_PAYLOAD_ANY:
		return true;
	case FAULT_PAYLOAD_NONE:
		return s->len == 0;
	case FAULT_PAYLOAD_SOME:
		return s->len > 0;
	}
	return false;
}

static bool fault_rule_window_holds(const struct fault_rule *r, unsigned occurrence)
{
	/* nth is 1-based; a rule written with nth 0 means "from the first". */
	unsigned nth = r->nth ? r->nth : 1;

	if (occurrence < nth)
		return false;
	/* Subtract instead of computing nth + count, which could wrap. */
	return r->count == 0 || occurrence - nth < r->count;
}

/* leg < 0: every rule, wherever it acts */
static struct fault_decision decide(struct fault_set *fs, int leg, enum fw_host from,
				    const struct seg *s, const struct fault_view *view)
{
	struct fault_decision d = { .action = FAULT_PASS, .rule = -1 };
	size_t i;

	if (!fs || !s)
		return d;
	/* Every armed matching rule counts the segment, even after one has acted:
	 * a later rule's "nth" means the nth such segment on the wire, not the nth
	 * one that an earlier rule happened to leave alone. */
	for (i = 0; i < fs->n; i++) {
		const struct fault_rule *r = &fs->rules[i];
		unsigned occ;

		if (!r->armed || (leg >= 0 && (int)r->leg != leg) ||
		    !fault_rule_match(r, from, s, view))
			continue;
		occ = ++fs->matched[i];
		if (d.rule >= 0 || !fault_rule_window_holds(r, occ))
			continue;
		fs->fired[i]++;
		d.action = r->action;
		d.rule = (int)i;
		d.occurrence = occ;
		switch (r->action) {
		case FAULT_DELAY:
		case FAULT_DUPLICATE:
			d.delay_ns = r->delay_ns;
			break;
		case FAULT_HOLD:
		case FAULT_REORDER:
			d.delay_ns = r->max_ns;
			break;
		case FAULT_PASS:
		case FAULT_DROP:
		case FAULT_REWRITE:
			d.delay_ns = 0;
			break;
		}
	}
	return d;
}

struct fault_decision fault_set_decide(struct fault_set *fs, enum fw_host from,
				       const struct seg *s, const struct fault_view *view)
{
	return decide(fs, -1, from, s, view);
}

struct fault_decision fault_set_decide_leg(struct fault_set *fs, enum fault_leg leg,
					   enum fw_host from, const struct seg *s,
					   const struct fault_view *view)
{
	return decide(fs, (int)leg, from, s, view);
}

bool fault_set_uses_leg(const struct fault_set *fs, enum fault_leg leg)
{
	size_t i;

	for (i = 0; fs && i < fs->n; i++)
		if (fs->rules[i].leg == leg)
			return true;
	return false;
}

size_t fault_set_count(const struct fault_set *fs)
{
	return fs ? fs->n : 0;
}

const struct fault_rule *fault_set_rule(const struct fault_set *fs, size_t idx)
{
	if (!fs || idx >= fs->n)
		return NULL;
	return &fs->rules[idx];
}

int fault_set_find(const struct fault_set *fs, const char *name)
{
	size_t i;

	if (!fs || !name)
		return -1;
	/* name[] may fill its array without a terminator: compare bounded. */
	for (i = 0; i < fs->n; i++)
		if (strnlen(fs->rules[i].name, sizeof(fs->rules[i].name)) == strlen(name) &&
		    memcmp(fs->rules[i].name, name, strlen(name)) == 0)
			return (int)i;
	return -1;
}

void fault_set_arm(struct fault_set *fs, size_t idx, bool armed)
{
	if (fs && idx < fs->n)
		fs->rules[idx].armed = armed;
}

unsigned fault_set_matched(const struct fault_set *fs, size_t idx)
{
	return fs && idx < fs->n ? fs->matched[idx] : 0;
}

unsigned fault_set_fired(const struct fault_set *fs, size_t idx)
{
	return fs && idx < fs->n ? fs->fired[idx] : 0;
}

bool fault_set_needs_state(const struct fault_set *fs)
{
	size_t i;

	for (i = 0; fs && i < fs->n; i++)
		if (fs->rules[i].state > 0)
			return true;
	return false;
}

bool fault_set_needs_payload(const struct fault_set *fs)
{
	size_t i;

	for (i = 0; fs && i < fs->n; i++)
		if (fs->rules[i].action == FAULT_DUPLICATE || fs->rules[i].action == FAULT_REWRITE)
			return true;
	return false;
}

/* A GSO packet carries data and ACK, never SYN or RST. */
static bool fault_rule_may_match_gso(const struct fault_rule *r)
{
	if (r->payload == FAULT_PAYLOAD_NONE)
		return false;
	if ((r->flags_mask & (SEG_SYN | SEG_RST)) & r->flags_value)
		return false;
	if ((r->flags_mask & SEG_ACK) && !(r->flags_value & SEG_ACK))
		return false;
	return true;
}

unsigned fault_set_gso_cut(const struct fault_set *fs)
{
	/* Cutting a GSO packet gives the FIN, PSH (and CWR, on the first) to one
	 * segment only, so a test on them sees the pieces differently. */
	const uint8_t per_piece = SEG_FIN | SEG_PSH | SEG_URG | SEG_ECE | SEG_CWR;
	unsigned cut = 0;
	size_t i;

	for (i = 0; fs && i < fs->n; i++) {
		const struct fault_rule *r = &fs->rules[i];
		uint8_t needs = r->flags_mask & r->flags_value & per_piece;

		if (!fault_rule_may_match_gso(r))
			continue;
		if (r->action == FAULT_PASS && r->nth <= 1 && !r->count && !r->match_seq &&
		    !(r->flags_mask & per_piece))
			continue; /* alike for every piece */
		/* matches only packets carrying all of needs: those are cut */
		if (!needs)
			return FAULT_GSO_CUT_ALL;
		cut |= needs;
	}
	return cut;
}

bool fault_rule_released_by_segment(const struct fault_rule *r, enum fw_host from,
				    const struct seg *s)
{
	if (!r || !s)
		return false;
	switch (r->action) {
	case FAULT_REORDER:
		/* Any later segment of the same sender overtakes the held one. */
		return from == r->from;
	case FAULT_HOLD:
		return r->until == FAULT_UNTIL_SEGMENT && from == r->until_host &&
		       (s->flags & r->until_mask) == r->until_value;
	case FAULT_PASS:
	case FAULT_DROP:
	case FAULT_DELAY:
	case FAULT_DUPLICATE:
	case FAULT_REWRITE:
		return false;
	}
	return false;
}

bool fault_rule_released_by_state(const struct fault_rule *r, enum fw_host host, int state)
{
	return r && r->action == FAULT_HOLD && r->until == FAULT_UNTIL_STATE &&
	       r->until_host == host && r->until_state == state;
}
