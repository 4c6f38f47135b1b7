/* engine_expect: the expectations of a case, each decided as soon as the
 * timeline or the kernel satisfies it, or at its deadline. */
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

static bool seg_matches(struct engine *E, const struct fw_step *st, const struct fw_event *e)
{
	/* as sent on the sender's leg, or as it reached the other host's */
	if (st->at_box ? !seg_at_matches(E, st, e) :
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

		/* with 'at': everything seen on that side of the box */
		if (e->kind != EV_SEGMENT || e->t_ns < E->cursor_t - E->t0 ||
		    (st->at_box ? e->leg != HOST_DUT || e->side != st->at :
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
	if (!n && st->at_box)
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

/* Was the socket in the state at some moment since the last action began?
 * Short-lived states (FIN_WAIT_1 for the round trip of one ACK) may be gone
 * by the time the expectation runs, but the probe that saw them left an
 * event; the state it was in when the action began counts too. */
static bool state_seen_since(struct engine *E, const struct esock *s, int state)
{
	size_t i;

	for (i = E->res->tl.n; i-- > 0;) {
		const struct fw_event *e = &E->res->tl.ev[i];

		if (e->kind != EV_STATE || e->host != s->host || e->seg.sport != s->lport ||
		    (!s->listener && e->seg.dport != s->rport))
			continue;
		if (e->state == state)
			return true;
		if (e->t_ns < E->cursor_t - E->t0)
			break; /* the state it was in when the action began */
	}
	return false;
}

/* Was event i (a state of socket s) still the socket's state at time t,
 * i.e. no later state event of it came before t? */
static bool state_current_at(struct engine *E, const struct esock *s, size_t i, int64_t t)
{
	size_t j;

	for (j = 0; j < E->res->tl.n; j++) {
		const struct fw_event *e = &E->res->tl.ev[j];

		if (j == i || e->kind != EV_STATE || e->host != s->host || e->seg.sport != s->lport ||
		    (!s->listener && e->seg.dport != s->rport))
			continue;
		if (e->t_ns > E->res->tl.ev[i].t_ns && e->t_ns <= t)
			return false;
	}
	return true;
}

/* Between two probes of a polled condition: handle events until the next
 * poll is due or the deadline comes, whichever is first. */
static int pump_until_next_poll(struct engine *E, int64_t deadline)
{
	int64_t next = fw_now_ns() + ENGINE_STATE_POLL_NS;

	return pump(E, next < deadline ? next : deadline);
}

/* A state expectation that names the timer judges the socket as it is now. */
static bool step_checks_timer(const struct fw_step *st)
{
	return st->timer >= 0 || st->timer_min_ns >= 0 || st->timer_max_ns >= 0;
}

static bool timer_ok(const struct fw_step *st, const struct sock_info *si)
{
	int64_t left = (int64_t)si->expires_ms * FW_NS_PER_MS;

	if (st->timer >= 0 && si->timer != st->timer)
		return false;
	if (st->timer_min_ns >= 0 && (!si->timer || left < st->timer_min_ns))
		return false;
	return st->timer_max_ns < 0 || (si->timer && left <= st->timer_max_ns);
}

/* A socket in the expected state whose timer failed the check: by how much
 * its time left missed. Lateness cannot make a timer of another kind, or a
 * socket in another state, look right. */
static int64_t timer_margin(const struct fw_step *st, const struct sock_info *si)
{
	int64_t left = (int64_t)si->expires_ms * FW_NS_PER_MS;

	if (si->state != st->state || (st->timer >= 0 && si->timer != st->timer) || !si->timer)
		return st->state == si->state ? INT64_MAX : 0;
	if (st->timer_min_ns >= 0 && left < st->timer_min_ns)
		return st->timer_min_ns - left;
	if (st->timer_max_ns >= 0 && left > st->timer_max_ns)
		return left - st->timer_max_ns;
	return 0;
}

/* With events, when a wait must read sock_diag next (probed: when it last
 * did). A transition comes as an event; what has none is polled: a timer's
 * time left, a request minisocket, a socket in CLOSE that its application
 * closes. A TIME_WAIT (or orphaned FIN_WAIT_2) minisocket leaves when its
 * timer fires, which sock_diag said: no need to look before. Otherwise the
 * resync period, as a net under the events. */
static int64_t state_next_probe(const struct fw_step *st, const struct sock_info *si,
				int64_t probed)
{
	int64_t poll = fw_now_ns() + ENGINE_STATE_POLL_NS, due;

	if (step_checks_timer(st) || st->state == FW_TCP_NEW_SYN_RECV)
		return poll;
	if (st->kind != STEP_EXPECT_GONE || !si)
		return probed + ENGINE_EVENT_RESYNC_NS;
	if (si->timer == SOCK_TIMER_TIMEWAIT || si->state == FW_TCP_TIME_WAIT) {
		due = probed + (int64_t)si->expires_ms * FW_NS_PER_MS;
		return due > poll ? due : poll;
	}
	if (si->state == FW_TCP_CLOSE || si->state == FW_TCP_NEW_SYN_RECV)
		return poll;
	return probed + ENGINE_EVENT_RESYNC_NS;
}

/* Without events a state can come and go between two polls, and no
 * retransmission is seen: what needs them is an error of the run (the
 * harness SKIPs such runs when it could not load them, so this is a case
 * process whose own subscription failed, which its timeline says). */
static int need_events(struct engine *E, const struct fw_step *st)
{
	if (events_cover(E))
		return 0;
	fw_err(E->err, sizeof(E->err), -ENODEV,
	       "this expectation needs the kernel's socket events, and this run has none");
	return step_error(E, st, -ENODEV, "no socket events");
}

/* never: the socket did not enter the state anywhere in the window (nor
 * was it in it when the window opened). The whole window is waited out. */
static int expect_state_never(struct engine *E, const struct fw_step *st, const struct esock *s)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	size_t i;
	int ret;

	if ((ret = need_events(E, st)) < 0)
		return ret;
	while (fw_now_ns() < deadline)
		if ((ret = pump(E, deadline)) < 0)
			return ret;
	if ((ret = probe_host(E, st->host)) < 0) /* the last events, and TIME_WAIT */
		return ret;
	/* The window runs from the last action to its deadline, or to now when
	 * earlier expectations already waited past it. */
	deadline = fw_now_ns() > deadline ? fw_now_ns() : deadline;
	for (i = 0; i < E->res->tl.n; i++) {
		const struct fw_event *e = &E->res->tl.ev[i];
		char t[32];

		if (e->kind != EV_STATE || e->host != s->host || e->seg.sport != s->lport ||
		    (!s->listener && e->seg.dport != s->rport) || e->state != st->state ||
		    e->t_ns > deadline - E->t0)
			continue;
		if (e->t_ns < E->cursor_t - E->t0 && !state_current_at(E, s, i, E->cursor_t - E->t0))
			continue;
		fw_duration_format(e->t_ns - (E->cursor_t - E->t0), t, sizeof(t));
		return step_fail(E, st, "it entered %s %s after the window opened",
				 tcp_state_name(st->state), e->t_ns < E->cursor_t - E->t0 ? "before" : t);
	}
	expect_pass(E, st);
	return 0;
}

int expect_state(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	const struct esock *s = sock_find(E, st->host, st->sock);
	const struct sock_info *si = NULL;
	struct esock by_port;
	bool want_gone = st->kind == STEP_EXPECT_GONE;
	int64_t next_probe = 0, probed = 0; /* the first look is a dump: timers, minisockets */
	bool judged_at_deadline = false;
	int ret;

	if (!st->sock[0]) { /* a program's socket: by its local port, on the current connection */
		const struct flow *f = E->cur_flow >= 0 ? &E->flows[E->cur_flow] : NULL;

		memset(&by_port, 0, sizeof(by_port));
		by_port.host = st->host;
		by_port.listener = st->state == FW_TCP_LISTEN;
		by_port.has_tuple = by_port.listener || f;
		by_port.lport = st->port;
		by_port.rport = f ? f->port[st->host == HOST_SERVER ? HOST_CLIENT : HOST_SERVER] : 0;
		snprintf(by_port.name, sizeof(by_port.name), ":%u", st->port);
		s = &by_port;
	}
	if (!s || !s->has_tuple) {
		fw_err(E->err, sizeof(E->err), -EBADF, "%s has no socket '%s' to observe",
		       fw_host_name(st->host), st->sock);
		return step_error(E, st, -EBADF, "bad step");
	}
	if (st->never)
		return expect_state_never(E, st, s);
	if (st->kind == STEP_EXPECT_STATE && st->nsock_min >= 0)
		return expect_state_count(E, st, s);
	for (;;) {
		if (fw_now_ns() >= next_probe) {
			ret = probe_host(E, st->host);
			if (ret < 0)
				return ret;
			probed = fw_now_ns();
		}
		si = sock_state(E, s);
		next_probe = state_next_probe(st, si, probed);
		if (want_gone ? si == NULL :
		    step_checks_timer(st) ?
				(si && si->state == st->state && timer_ok(st, si)) :
				((si && si->state == st->state) || state_seen_since(E, s, st->state)))
			break;
		if (fw_now_ns() >= deadline && !judged_at_deadline) {
			judged_at_deadline = true; /* judge on a dump made at the deadline */
			next_probe = 0;
			continue;
		}
		if (fw_now_ns() >= deadline) {
			/* It goes when its timer fires at the earliest: lateness must
			 * be that large to explain it (a socket with no timer waits
			 * for its application). */
			if (want_gone) {
				E->fail_margin_ns = si->timer ? (int64_t)si->expires_ms * FW_NS_PER_MS :
								INT64_MAX;
				E->fail_measured = true;
				return step_fail(E, st, "still %s (timer %s, %ums left)",
						 tcp_state_name(si->state), sock_timer_name(si->timer),
						 si->expires_ms);
			}
			if (si && step_checks_timer(st)) {
				E->fail_margin_ns = timer_margin(st, si);
				return step_fail(E, st, "%s, timer %s with %ums left",
						 tcp_state_name(si->state), sock_timer_name(si->timer),
						 si->expires_ms);
			}
			return step_fail(E, st, "%s", si ? tcp_state_name(si->state) : "the socket is gone (CLOSED)");
		}
		if (events_cover(E)) {
			/* Sleep until an event (the transition itself) or the next look. */
			ret = pump(E, next_probe < deadline ? next_probe : deadline);
		} else {
			ret = pump_until_next_poll(E, deadline);
			next_probe = 0;
		}
		if (ret < 0)
			return ret;
	}
	expect_pass(E, st);
	return 0;
}

/* A counter's change since the case began, re-read until it matches or the
 * deadline passes (the kernel counts as it handles segments). */
int expect_counter(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns, before, now_v = 0;
	struct counter_set now = { 0 };
	int ret;

	const struct counter_set *base =
	    E->counter_base ? &E->counter_base[st->host] : &E->counters0[st->host];

	if (counters_get(base, st->counter, &before) < 0) {
		fw_err(E->err, sizeof(E->err), -ENOENT,
		       "this kernel has no counter '%s' in /proc/net/snmp, netstat or stat/",
		       st->counter);
		return step_error(E, st, -ENOENT, "bad step");
	}
	for (;;) {
		ret = counters_read(topo_ns_fd(E->topo, st->host), &now, E->err, sizeof(E->err));
		if (ret < 0)
			return ret;
		ret = counters_get(&now, st->counter, &now_v);
		counter_set_clear(&now);
		if (ret < 0)
			return ret;
		if (st->delta_is_min ? now_v - before >= st->delta : now_v - before == st->delta)
			break;
		if (fw_now_ns() >= deadline)
			return step_fail(E, st, "%s grew by %lld (from %lld to %lld)", st->counter,
					 (long long)(now_v - before), (long long)before,
					 (long long)now_v);
		ret = pump_until_next_poll(E, deadline);
		if (ret < 0)
			return ret;
	}
	expect_pass(E, st);
	return 0;
}

/* Read a sysctl inside the host's namespace (topo reads it there). */
int expect_sysctl(struct engine *E, const struct fw_step *st)
{
	char value[128], msg[FW_ERRLEN];
	int ret = topo_sysctl_get(E->topo, st->host, st->sysctl, value, sizeof(value), msg,
				  sizeof(msg));

	if (ret == -ENOENT) {
		if (!st->absent)
			return step_fail(E, st, "this kernel has no %s", st->sysctl);
	} else if (ret < 0) {
		fw_err(E->err, sizeof(E->err), ret, "%s", msg);
		return step_error(E, st, ret, "cannot read the sysctl");
	} else if (st->absent) {
		return step_fail(E, st, "%s exists and reads %s", st->sysctl, value);
	} else if (strcmp(value, st->equals) != 0) {
		return step_fail(E, st, "%s reads %s", st->sysctl, value);
	}
	expect_pass(E, st);
	return 0;
}

/* The box's conntrack entry for the current connection (its original
 * direction is the client's view: client:port -> server:port), re-read
 * until it matches or the deadline passes. */
static bool ct_matches(const struct fw_step *st, const struct ct_entry *e)
{
	int64_t left = e ? (int64_t)e->timeout_s * FW_NS_PER_SEC : 0;

	if (st->ct_gone)
		return !e;
	return e && (st->ct_state < 0 || e->state == st->ct_state) &&
	       (e->status & st->ct_status) == st->ct_status &&
	       (st->ct_timeout_min_ns < 0 || left >= st->ct_timeout_min_ns) &&
	       (st->ct_timeout_max_ns < 0 || left <= st->ct_timeout_max_ns);
}

int expect_conntrack(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	const struct flow *f = E->cur_flow >= 0 ? &E->flows[E->cur_flow] : NULL;
	char seen[256];
	int ret;

	if (!f)
		return step_error(E, st, -ENOENT, "no connection to look up in the box");
	for (;;) {
		struct ct_entry *v = NULL;
		const struct ct_entry *e;
		size_t n = 0;
		bool ok;

		ret = conntrack_dump(E->ct, E->c->family, &v, &n, E->err, sizeof(E->err));
		if (ret < 0)
			return step_error(E, st, ret, "cannot read the box's conntrack table");
		e = conntrack_find(v, n, &E->addr[HOST_CLIENT], f->port[HOST_CLIENT],
				   f->port[HOST_SERVER]);
		ok = ct_matches(st, e);
		if (e)
			conntrack_describe(e, seen, sizeof(seen));
		else
			snprintf(seen, sizeof(seen), "no entry for :%u > :%u (%zu TCP entries)",
				 f->port[HOST_CLIENT], f->port[HOST_SERVER], n);
		free(v);
		if (ok)
			break;
		if (fw_now_ns() >= deadline)
			return step_fail(E, st, "the box's conntrack entry: %s", seen);
		ret = pump_until_next_poll(E, deadline);
		if (ret < 0)
			return ret;
	}
	expect_pass(E, st);
	return 0;
}

/* A started program or forked child ended as given: its exit status or the
 * signal that killed it, and what it wrote. Waits on its pidfd. */
int expect_exit(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	struct eproc *p = proc_find(E, st->proc);
	char how[64], out[2048];
	const int *status;
	int ret;

	if (!p)
		return step_error(E, st, -ESRCH, "no process of that name (start it with start or fork)");
	if (!p->prog.child.pid)
		return step_fail(E, st, "'%s' never started", st->proc);
	while (!proc_reap(&p->prog.child)) {
		if (fw_now_ns() >= deadline)
			return step_fail(E, st, "'%s' is still running", st->proc);
		ret = wait_socket(E, p->prog.child.pidfd, EPOLLIN, deadline);
		if (ret < 0)
			return ret;
	}
	proc_describe(&p->prog.child, how, sizeof(how));
	program_output(&p->prog, out, sizeof(out));
	status = &p->prog.child.status;
	if (st->exit_signal ? !(WIFSIGNALED(*status) && WTERMSIG(*status) == st->exit_signal) :
	    st->exit_status >= 0 ? !(WIFEXITED(*status) && WEXITSTATUS(*status) == st->exit_status) :
				   false)
		return step_fail(E, st, "'%s' %s; it wrote: %s", st->proc, how, out[0] ? out : "nothing");
	if (st->output[0] && !strstr(out, st->output))
		return step_fail(E, st, "'%s' %s, but its output lacks '%s'; it wrote: %s", st->proc,
				 how, st->output, out[0] ? out : "nothing");
	expect_pass(E, st);
	return 0;
}

/* The kernel log since the case began: read again until the message shows
 * or the window ends. The log is the machine's, so a message another case
 * provoked counts too (docs/case-file.md says when that matters). */
static int kmsg_missing(struct engine *E, const struct fw_step *st);

int expect_kmsg(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	const char *hit;
	int ret;

	for (;;) {
		ret = kmsg_drain(&E->kmsg, E->err, sizeof(E->err));
		if (ret < 0)
			return step_error(E, st, ret, "cannot read the kernel log");
		hit = kmsg_find(&E->kmsg, st->kmsg);
		if (hit && st->absent)
			return step_fail(E, st, "the kernel logged '%.200s'", hit);
		if (hit || fw_now_ns() >= deadline)
			break;
		ret = pump_until_next_poll(E, deadline);
		if (ret < 0)
			return ret;
	}
	if (!hit && !st->absent)
		return kmsg_missing(E, st);
	expect_pass(E, st);
	return 0;
}

/* The message did not come. If net_ratelimit's machine-wide budget was
 * being used up meanwhile, another program's messages may have taken its
 * place: that failure is the environment's (retried, then INCONCLUSIVE).
 * The notice of a suppression is printed only at the next message that gets
 * through, so wait one rate-limit interval for it before deciding. */
static int kmsg_missing(struct engine *E, const struct fw_step *st)
{
	int64_t until = fw_now_ns() + kmsg_ratelimit_interval_ns();
	int ret;

	while (!E->kmsg.ratelimited && fw_now_ns() < until) {
		ret = pump_until_next_poll(E, until);
		if (ret >= 0)
			ret = kmsg_drain(&E->kmsg, E->err, sizeof(E->err));
		if (ret < 0)
			return step_error(E, st, ret, "cannot read the kernel log");
	}
	ret = step_fail(E, st,
			"no message containing '%s' among the %zu the kernel logged since the "
			"case began%s",
			st->kmsg, E->kmsg.n, E->kmsg.lost ? " (some were lost)" : "");
	if (E->kmsg.ratelimited)
		fail_explained(E, "the kernel's net_ratelimit was suppressing messages (its "
				  "budget is the machine's, shared with every other program)");
	return ret;
}

/* A field of the socket's struct tcp_info, re-read on every probe until it
 * lies in the range or the window ends. Only full sockets have one. */
int expect_tcp_info(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns, v = -1;
	const struct esock *s = sock_find(E, st->host, st->sock);
	const struct sock_info *si;
	int ret;

	if (!s || !s->has_tuple) {
		fw_err(E->err, sizeof(E->err), -EBADF, "%s has no socket '%s' to observe",
		       fw_host_name(st->host), st->sock);
		return step_error(E, st, -EBADF, "bad step");
	}
	if (st->kind == STEP_EXPECT_STATE && st->nsock_min >= 0)
		return expect_state_count(E, st, s);
	for (;;) {
		ret = probe_host(E, st->host);
		if (ret < 0)
			return ret;
		si = sock_state(E, s);
		if (si && si->info.valid) {
			v = sock_tcp_info_get(&si->info, st->info_field);
			if (v >= st->info_min && v <= st->info_max)
				break;
		}
		if (fw_now_ns() >= deadline) {
			if (!si)
				return step_fail(E, st, "the socket is gone");
			if (!si->info.valid)
				return step_fail(E, st, "the socket is in %s, which has no tcp_info",
						 tcp_state_name(si->state));
			return step_fail(E, st, "%s is %lld (in %s)", tcp_info_field_name(st->info_field),
					 (long long)v, tcp_state_name(si->state));
		}
		ret = pump_until_next_poll(E, deadline);
		if (ret < 0)
			return ret;
	}
	expect_pass(E, st);
	return 0;
}

/* retransmits: how often the kernel retransmitted from the socket in the
 * window (tcp:tcp_retransmit_skb: every retransmission, the RTO's and the
 * fast ones, each segment of a burst counted), waited out whole. */
int expect_retransmits(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	const struct esock *s = sock_find(E, st->host, st->sock);
	char times[512] = "";
	size_t i;
	int n = 0, ret;

	if (!s || !s->has_tuple) {
		fw_err(E->err, sizeof(E->err), -EBADF, "%s has no socket '%s' to observe",
		       fw_host_name(st->host), st->sock);
		return step_error(E, st, -EBADF, "bad step");
	}
	if ((ret = need_events(E, st)) < 0)
		return ret;
	while (fw_now_ns() < deadline)
		if ((ret = pump(E, deadline)) < 0)
			return ret;
	if ((ret = events_drain(E)) < 0)
		return ret;
	/* The window runs from the last action to its deadline, or to now when
	 * earlier expectations already waited past it. */
	deadline = fw_now_ns() > deadline ? fw_now_ns() : deadline;
	for (i = 0; i < E->nrtx; i++) {
		const struct engine_rtx *r = &E->rtx[i];
		char t[32];

		if (r->h != st->host || r->sport != s->lport || r->dport != s->rport ||
		    r->t < E->cursor_t || r->t > deadline)
			continue;
		fw_duration_format(r->t - E->t0, t, sizeof(t));
		append(times, sizeof(times), "%s%s", n++ ? ", " : " at ", t);
	}
	if (n < st->count_min || n > st->count_max)
		return step_fail(E, st, "%d retransmission(s) in the window%s", n, times);
	expect_pass(E, st);
	return 0;
}
