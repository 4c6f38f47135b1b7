/* engine_expect_seg: the segment expectations (segment, no_segment): what
 * was seen on the wire, with its flags, numbers, options and timestamps,
 * decided as soon as the timeline has it, or at the window's end. */
#include "engine_int.h"

/* ---- expectations ------------------------------------------------------------ */

/* The TCP options a segment expectation asks for (-1: any). */
static bool seg_options_match(const struct fw_step *st, const struct seg *s)
{
	if (st->kind != STEP_EXPECT_SEGMENT)
		return true;
	return (st->opt_mss < 0 || (s->has_mss && s->mss == st->opt_mss)) &&
	       (st->opt_wscale < 0 || s->wscale == st->opt_wscale) &&
	       (st->opt_sack_ok < 0 || s->sack_ok == st->opt_sack_ok) &&
	       (st->opt_ts < 0 || s->has_ts == st->opt_ts) &&
	       (st->opt_dsack < 0 || seg_has_dsack(s) == st->opt_dsack) &&
	       (st->opt_sack_blocks < 0 || s->nsack == st->opt_sack_blocks);
}

/* isn: the segment's absolute seq against the sender's numbers in the
 * 4-tuple's previous incarnation. */
static bool seg_isn_matches(struct engine *E, const struct fw_step *st, const struct fw_event *e)
{
	const struct flow *f;
	uint32_t want;
	char err[FW_ERRLEN];

	if (!st->isn.set)
		return true;
	f = flow_for(E, e->host, &e->seg, false);
	memcpy(err, E->err, sizeof(err)); /* a miss is no error: the segment just does not match */
	if (!f || expr_value(E, f, &st->isn, e->host, e->host, 0, &want) < 0) {
		memcpy(E->err, err, sizeof(err));
		return false;
	}
	return e->seg.seq == want;
}

/* Is a the segment of b's connection (either direction)? */
static bool same_conn(const struct seg *a, const struct seg *b)
{
	return (a->sport == b->sport && a->dport == b->dport) ||
	       (a->sport == b->dport && a->dport == b->sport);
}

/* The last TSval `who`'s kernel put on the wire on e's connection before
 * e (by capture time; injected segments are not its kernel's). */
static bool last_tsval_before(struct engine *E, const struct fw_event *e, enum fw_host who,
			      uint32_t *out)
{
	const struct fw_event *best = NULL, *x;
	size_t i;

	for (i = 0; i < E->res->tl.n; i++) {
		x = &E->res->tl.ev[i];
		if (x == e || x->kind != EV_SEGMENT || !x->sent || x->injected || x->host != who ||
		    !x->seg.has_ts || !same_conn(&x->seg, &e->seg))
			continue;
		/* e's own sent copy, when e is the arrived one (arrived: true) */
		if (x->host == e->host && x->seg.seq == e->seg.seq && x->seg.ack == e->seg.ack &&
		    x->seg.flags == e->seg.flags && x->seg.tsval == e->seg.tsval)
			continue;
		if (x->t_ns > e->t_ns || (x->t_ns == e->t_ns && x > e))
			continue;
		if (!best || x->t_ns >= best->t_ns)
			best = x;
	}
	if (best)
		*out = best->seg.tsval;
	return best != NULL;
}

/* What a tsval/tsecr expectation compares e's value with; false when the
 * reference does not exist (no earlier TSval, a mark without one). */
static bool ts_reference(struct engine *E, const struct fw_expr *x, const struct fw_event *e,
			 uint32_t *out)
{
	char err[FW_ERRLEN];
	bool ok = true;

	switch (x->base) {
	case EXPR_NUMBER: /* absolute */
		*out = 0;
		break;
	case EXPR_OWN_TSVAL:
		ok = last_tsval_before(E, e, e->host, out);
		break;
	case EXPR_PEER_TSVAL:
		ok = last_tsval_before(E, e, other(e->host), out);
		break;
	case EXPR_MARK_TSVAL:
		memcpy(err, E->err, sizeof(err)); /* a miss is no error: it just does not match */
		ok = expr_value(E, NULL, x, e->host, other(e->host), 0, out) == 0;
		memcpy(E->err, err, sizeof(err));
		if (ok)
			*out -= (uint32_t)x->offset; /* the reference alone; the offset is added below */
		break;
	case EXPR_RCV_NXT:
	case EXPR_SND_NXT:
	case EXPR_TSVAL:
	case EXPR_TSECR:
	case EXPR_RCV_WND_END:
	case EXPR_PREV_SND_NXT:
	case EXPR_PREV_RCV_NXT:
		ok = false; /* the loader refuses these here */
		break;
	}
	return ok;
}

/* A timestamp against its expectation, in TS arithmetic (RFC 7323 5.2:
 * signed 32-bit differences), as PAWS compares. */
static bool ts_matches(struct engine *E, const struct fw_expr *x, const struct fw_event *e,
		       uint32_t value)
{
	uint32_t ref;
	int32_t d;

	if (!x->set)
		return true;
	if (!e->seg.has_ts || !ts_reference(E, x, e, &ref))
		return false;
	d = (int32_t)(value - (ref + (uint32_t)x->offset));
	switch (x->cmp) {
	case EXPR_EQ:
		return d == 0;
	case EXPR_GE:
		return d >= 0;
	case EXPR_GT:
		return d > 0;
	case EXPR_LE:
		return d <= 0;
	case EXPR_LT:
		return d < 0;
	}
	return false;
}

/* Evidence for a timestamp expectation: the value, absolute, and where it
 * stands against the reference ("TSecr 4000 = peer_tsval-3, peer_tsval 4003"). */
static void ts_explain(struct engine *E, const char *field, const struct fw_expr *x,
		       const struct fw_event *e, uint32_t value, char *buf, size_t len)
{
	char want[64];
	uint32_t ref;

	if (!x->set)
		return;
	expr_format(x, want, sizeof(want));
	if (!e->seg.has_ts) {
		append(buf, len, "; no timestamp option (expected %s %s)", field, want);
		return;
	}
	if (x->base == EXPR_NUMBER) {
		append(buf, len, "; %s %u (expected %s)", field, value, want);
		return;
	}
	if (!ts_reference(E, x, e, &ref)) {
		append(buf, len, "; %s %u, and nothing to compare it with (expected %s)", field,
		       value, want);
		return;
	}
	append(buf, len, "; %s %u = %s%+d, where that is %u (expected %s)", field, value,
	       x->base == EXPR_OWN_TSVAL ? "own_tsval" :
	       x->base == EXPR_PEER_TSVAL ? "peer_tsval" : "the mark's TSval",
	       (int32_t)(value - ref), ref, want);
}

/* A step with 'at' looks where the wire meets the box: a host's segments
 * going into the box on its own side, or out of it on the far side (not
 * made by the box); the box's own (from: dut), out of it on either side. */
static bool seg_at_matches(struct engine *E, const struct fw_step *st, const struct fw_event *e)
{
	enum fw_host near = st->at == FAULT_LEG_A ? HOST_CLIENT : HOST_SERVER;
	size_t i = (size_t)(e - E->res->tl.ev);

	if (e->kind != EV_SEGMENT || e->leg != HOST_DUT || e->side != st->at)
		return false;
	if (st->host == HOST_DUT)
		return !e->into_box && timeline_box_made(&E->res->tl, i);
	if (e->host != st->host || e->into_box != (st->host == near))
		return false;
	return e->into_box || !timeline_box_made(&E->res->tl, i);
}

/* A step with 'conn' looks at one of a proxy's connections, on the leg of
 * its endpoint (front: the client's, back: the server's): the endpoint's
 * segments as sent, the proxy's (from: dut) as they reached the endpoint. */
static bool seg_conn_matches(struct engine *E, const struct fw_step *st, const struct fw_event *e)
{
	enum fw_host leg = st->conn == CONN_FRONT ? HOST_CLIENT : HOST_SERVER;
	int fi = E->leg_flow[leg];

	if (e->kind != EV_SEGMENT || e->leg != leg || e->injected || fi < 0 ||
	    e->flow != (uint32_t)fi + 1)
		return false;
	if (st->host == HOST_DUT)
		return !e->sent && e->host == other(leg);
	return e->sent && e->host == st->host;
}

static bool seg_matches(struct engine *E, const struct fw_step *st, const struct fw_event *e)
{
	/* as sent on the sender's leg, or as it reached the other host's */
	if (st->conn != CONN_ANY ? !seg_conn_matches(E, st, e) :
	    st->at_box ? !seg_at_matches(E, st, e) :
			 (e->kind != EV_SEGMENT || e->leg == HOST_DUT || e->sent == st->arrived ||
			  e->injected || e->host != st->host))
		return false;
	if (st->has_flags && (e->seg.flags & st->flags_mask) != st->flags_value)
		return false;
	if (st->len >= 0 && e->seg.len != (uint32_t)st->len)
		return false;
	/* the loader allows only plain (relative) numbers here */
	if (st->seq.set && e->rel_seq != (uint32_t)st->seq.offset)
		return false;
	if (st->ack.set && (!(e->seg.flags & SEG_ACK) || e->rel_ack != (uint32_t)st->ack.offset))
		return false;
	if (st->kind == STEP_EXPECT_SEGMENT && st->win >= 0 && e->seg.win != st->win)
		return false;
	if (st->kind == STEP_EXPECT_SEGMENT &&
	    (!ts_matches(E, &st->tsval, e, e->seg.tsval) ||
	     !ts_matches(E, &st->tsecr, e, e->seg.tsecr)))
		return false;
	return seg_options_match(st, &e->seg) && seg_isn_matches(E, st, e);
}

/* Segments from the host since the last action, for "actual:" lines. */
static void describe_seen(struct engine *E, const struct fw_step *st, char *buf, size_t len)
{
	size_t i, n = 0;
	char t[32];

	buf[0] = '\0';
	for (i = E->cursor_idx; i < E->res->tl.n; i++) {
		const struct fw_event *e = &E->res->tl.ev[i];

		/* with 'at': everything seen on that side of the box; with
		 * 'conn': everything on that connection's leg */
		if (e->kind != EV_SEGMENT || e->t_ns < E->cursor_t - E->t0 ||
		    (st->conn != CONN_ANY ? e->leg != (st->conn == CONN_FRONT ? HOST_CLIENT : HOST_SERVER) ||
						    e->injected :
		     st->at_box ? e->leg != HOST_DUT || e->side != st->at :
				  !e->sent || e->host != st->host))
			continue;
		fw_duration_format(e->t_ns, t, sizeof(t));
		append(buf, len, "%s%s%s at %s", n++ ? "; " : "",
		       st->at_box && timeline_box_made(&E->res->tl, i) ? "made by the box, " : "",
		       e->text, t);
		if (st->isn.set) { /* the numbers behind the relative ones */
			const struct flow *f = flow_for(E, e->host, &e->seg, false);

			append(buf, len, " (absolute seq %u", e->seg.seq);
			if (f && f->has_prev_nxt[e->host])
				append(buf, len, "; the old snd_nxt was %u, the old rcv_nxt %u",
				       f->prev_snd_nxt[e->host], f->prev_ack[e->host]);
			append(buf, len, ")");
		}
		if (st->kind == STEP_EXPECT_SEGMENT && (st->tsval.set || st->tsecr.set)) {
			char ts[256] = "";

			ts_explain(E, "TSval", &st->tsval, e, e->seg.tsval, ts, sizeof(ts));
			ts_explain(E, "TSecr", &st->tsecr, e, e->seg.tsecr, ts, sizeof(ts));
			append(buf, len, " (%s)", ts + 2); /* past the first "; " */
		}
	}
	if (!n && st->conn != CONN_ANY)
		snprintf(buf, len, "no segment on the %s's leg", st->conn == CONN_FRONT ? "client" : "server");
	else if (!n && st->at_box)
		snprintf(buf, len, "no segment at the box on %s", fault_leg_name(st->at));
	else if (!n)
		snprintf(buf, len, "no segment from %s", fw_host_name(st->host));
}

/* Find a matching segment after the cursor; returns its index or -1. */
static long find_segment(struct engine *E, const struct fw_step *st, int64_t until_abs)
{
	size_t i;

	for (i = E->cursor_idx; i < E->res->tl.n; i++) {
		const struct fw_event *e = &E->res->tl.ev[i];

		if (e->t_ns < E->cursor_t - E->t0 || e->t_ns > until_abs - E->t0)
			continue;
		if (seg_matches(E, st, e))
			return (long)i;
	}
	return -1;
}

/* count: every matching segment of the whole window, so it waits the window out. */
static int expect_segment_count(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	size_t i, first = 0; /* the whole window, earlier matches included */
	int n = 0, ret = 0;

	while (ret >= 0 && fw_now_ns() < deadline)
		ret = pump(E, deadline);
	if (ret >= 0)
		ret = drain(E); /* a segment stamped before the deadline may still wait */
	if (ret < 0)
		return ret;
	for (i = first; i < E->res->tl.n; i++) {
		const struct fw_event *e = &E->res->tl.ev[i];

		if (e->t_ns >= E->cursor_t - E->t0 && e->t_ns <= deadline - E->t0 &&
		    seg_matches(E, st, e))
			n++;
	}
	if (n < st->count_min || n > st->count_max)
		return step_fail(E, st, "%d such segment(s) in the window", n);
	expect_pass(E, st);
	return 0;
}

/* The segment did not come in its window. When the harness was late
 * enough in this run to have stretched the kernels' timers, wait as long
 * again to measure the miss: a segment that came within that is a doubt
 * (its lateness is the margin), one that did not come is a kernel
 * difference (INT64_MAX). Bounded by ENGINE_LATE_GRACE_MAX_NS. */
static int segment_miss_measure(struct engine *E, const struct fw_step *st, int64_t deadline)
{
	int64_t grace = late_wire_run(E), until;
	long idx;
	int ret = 0;

	if (grace < ENGINE_LATE_EXPLAINS_NS)
		return 0;
	if (grace > ENGINE_LATE_GRACE_MAX_NS)
		grace = ENGINE_LATE_GRACE_MAX_NS;
	until = deadline + grace;
	while (ret >= 0 && fw_now_ns() < until)
		ret = pump(E, until);
	if (ret >= 0)
		ret = drain(E);
	if (ret < 0)
		return ret;
	idx = find_segment(E, st, until);
	E->fail_measured = true;
	E->fail_margin_ns = idx >= 0 ? E->res->tl.ev[idx].t_ns + E->t0 - deadline : INT64_MAX;
	return 0;
}

int expect_segment(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	char seen[1024];
	long idx;
	int ret;

	if (st->count_min >= 0)
		return expect_segment_count(E, st);
	for (;;) {
		idx = find_segment(E, st, deadline);
		if (idx >= 0)
			break;
		if (fw_now_ns() >= deadline) {
			ret = drain(E); /* a segment stamped before the deadline may still wait */
			if (ret < 0)
				return ret;
			idx = find_segment(E, st, deadline);
			break;
		}
		ret = pump(E, deadline);
		if (ret < 0)
			return ret;
	}
	if (idx < 0) {
		ret = segment_miss_measure(E, st, deadline);
		if (ret < 0)
			return ret;
		describe_seen(E, st, seen, sizeof(seen));
		return step_fail(E, st, "%s", seen);
	}
	E->cursor_idx = (size_t)idx + 1;
	E->step_end = E->res->tl.ev[idx].t_ns + E->t0;
	E->step_seg[E->step].set = true; /* for a later tsval(MARK) */
	E->step_seg[E->step].seg = E->res->tl.ev[idx].seg;
	expect_pass(E, st);
	return 0;
}

int expect_no_segment(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	long idx;
	int ret;

	for (;;) {
		idx = find_segment(E, st, deadline);
		if (idx >= 0) {
			char t[32];

			fw_duration_format(E->res->tl.ev[idx].t_ns - (E->cursor_t - E->t0), t, sizeof(t));
			return step_fail(E, st, "%s, %s after the last action", E->res->tl.ev[idx].text, t);
		}
		if (fw_now_ns() >= deadline)
			break;
		ret = pump(E, deadline);
		if (ret < 0)
			return ret;
	}
	ret = drain(E);
	if (ret < 0)
		return ret;
	idx = find_segment(E, st, deadline);
	if (idx >= 0)
		return step_fail(E, st, "%s", E->res->tl.ev[idx].text);
	E->step_end = deadline;
	expect_pass(E, st);
	return 0;
}

