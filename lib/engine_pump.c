/* engine_pump: the event loop of a running case: captures, the queue and
 * its timers, sockets; the timeline; the harness's own lateness. */
#include "engine_int.h"

/* ---- the harness's own lateness ----------------------------------------- */


static int64_t *late_field(struct run_lateness *l, enum late_kind k)
{
	switch (k) {
	case LATE_DWELL:
		return &l->dwell_max_ns;
	case LATE_RELEASE:
		return &l->release_max_ns;
	case LATE_WAKE:
		return &l->wake_max_ns;
	case LATE_STEP:
		return &l->step_max_ns;
	}
	return &l->wake_max_ns;
}

static void late_note_run(struct engine *E, enum late_kind k, int64_t v)
{
	int64_t *run = late_field(&E->res->late, k);

	if (v > *run)
		*run = v;
}

/* Worst lateness of the run (reported) and since the last action began
 * (what may explain a failure of the expectations that follow it). */
int64_t late_wire_run(const struct engine *E)
{
	const struct run_lateness *l = &E->res->late;

	return l->release_max_ns > E->wire_dwell_run ? l->release_max_ns : E->wire_dwell_run;
}

void late_note(struct engine *E, enum late_kind k, int64_t v)
{
	int64_t *win = late_field(&E->win_late, k);

	late_note_run(E, k, v);
	if (v > *win)
		*win = v;
}

/* " [queued 12.3ms]": lateness shown in an event's text, when it counts. */
void late_suffix(struct fw_event *ev, const char *what)
{
	size_t used = strlen(ev->text);
	char d[32];

	if (ev->late_ns < ENGINE_LATE_SHOWN_NS || used + 8 >= sizeof(ev->text))
		return;
	fw_duration_format(ev->late_ns, d, sizeof(d));
	snprintf(ev->text + used, sizeof(ev->text) - used, " [%s %s]", what, d);
}

static void dwell_remember(struct engine *E, enum fw_host from, const struct seg *s, int64_t dwell)
{
	size_t k = E->ndwell++ % ENGINE_DWELL_RING;

	E->dwell[k].from = from;
	E->dwell[k].seg = *s;
	E->dwell[k].dwell_ns = dwell;
}

/* The queue dwell of a segment that just arrived, if it went through the
 * queue (newest first: a retransmission is the same segment again). */
static int64_t dwell_of(const struct engine *E, enum fw_host from, const struct seg *s)
{
	size_t n = E->ndwell < ENGINE_DWELL_RING ? E->ndwell : ENGINE_DWELL_RING, i;

	for (i = 0; i < n; i++) {
		size_t k = (E->ndwell - 1 - i) % ENGINE_DWELL_RING;
		const struct seg *q = &E->dwell[k].seg;

		if (E->dwell[k].from == from && q->seq == s->seq && q->ack == s->ack &&
		    q->flags == s->flags && q->sport == s->sport && q->dport == s->dport &&
		    q->len == s->len)
			return E->dwell[k].dwell_ns;
	}
	return 0;
}

/* ---- timeline helpers ---------------------------------------------------- */

struct fw_event *add_event(struct engine *E, enum ev_kind kind, int64_t t_abs,
				  enum fw_host host, const char *fmt, ...)
{
	struct fw_event ev;
	va_list ap;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.t_ns = t_abs - E->t0;
	ev.step = E->step;
	ev.host = host;
	ev.rule = -1;
	va_start(ap, fmt);
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	va_end(ap);
	return timeline_add(&E->res->tl, &ev);
}

enum fw_host other(enum fw_host h)
{
	return h == HOST_CLIENT ? HOST_SERVER : HOST_CLIENT;
}

/* ---- event pump ----------------------------------------------------------- */


bool engine_intercepting(const struct engine *E)
{
	int leg;

	for (leg = 0; leg < FAULT_LEG_COUNT; leg++)
		if (E->ic[leg])
			return true;
	return false;
}

/* Let go what rule i holds (in its leg's interceptor) queued before before_ns. */
void engine_release_rule(struct engine *E, size_t i, int64_t before_ns)
{
	const struct fault_rule *r = fault_set_rule(E->faults, i);

	if (r && E->ic[r->leg])
		intercept_release_rule(E->ic[r->leg], (int)i, before_ns, on_intercept, E);
}

/* A segment crossed the wire (seen arriving at its receiver at t_abs): let
 * go what a hold waits for, and what a reorder held behind it. Only
 * segments queued before it count, so nothing releases itself. */
static void release_on_segment(struct engine *E, enum fw_host sender, const struct seg *s,
			       int64_t t_abs)
{
	size_t i;

	E->release_trigger = t_abs;
	for (i = 0; i < fault_set_count(E->faults); i++)
		if (fault_rule_released_by_segment(fault_set_rule(E->faults, i), sender, s))
			engine_release_rule(E, i, t_abs);
	E->release_trigger = 0;
}

void release_on_state(struct engine *E, enum fw_host h, int state, int64_t now)
{
	size_t i;

	E->release_trigger = now;
	for (i = 0; i < fault_set_count(E->faults); i++)
		if (fault_rule_released_by_state(fault_set_rule(E->faults, i), h, state))
			engine_release_rule(E, i, INT64_MAX);
	E->release_trigger = 0;
}

/* Packets of both legs are gathered and handled in time order, so that
 * ISNs and sequence knowledge are learned in the order things happened. */
struct captured {
	int leg; /* index in E->cap */
	struct capture_packet p;
	uint8_t data[CAPTURE_SNAPLEN];
};

struct capture_batch {
	struct captured *v;
	size_t n, cap;
	int leg;
};

static void batch_add(void *ctx, const struct capture_packet *p)
{
	struct capture_batch *b = ctx;
	struct captured *c;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct captured *grown = realloc(b->v, cap * sizeof(*grown));

		if (!grown)
			return;
		b->v = grown;
		b->cap = cap;
	}
	c = &b->v[b->n++];
	c->leg = b->leg;
	c->p = *p;
	c->p.caplen = p->caplen < CAPTURE_SNAPLEN ? p->caplen : CAPTURE_SNAPLEN;
	memcpy(c->data, p->data, c->p.caplen);
	c->p.data = NULL; /* set when handled: the array may still move */
}

static int cmp_captured(const void *a, const void *b)
{
	const struct captured *x = a, *y = b;

	return (x->p.t_ns > y->p.t_ns) - (x->p.t_ns < y->p.t_ns);
}

static void on_packet(struct engine *E, enum fw_host leg, const struct capture_packet *p)
{
	struct fw_event ev;
	enum fw_host sender;
	struct seg s;
	size_t i;

	/* How long the segment waited for the event loop to handle it. */
	late_note(E, LATE_WAKE, fw_now_ns() - p->t_ns);
	if (seg_parse_ether(p->data, p->caplen, &s) < 0)
		return;
	/* The leg says who sent it, not the address: a box between may have
	 * translated the peer's address. A host's own address is its own. */
	sender = fw_addr_equal(&s.src, &E->addr[leg]) ? leg : other(leg);
	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_SEGMENT;
	ev.t_ns = p->t_ns - E->t0;
	ev.step = E->step;
	ev.host = sender;
	ev.leg = leg;
	ev.sent = leg == sender;
	ev.rule = -1;
	ev.seg = s;
	for (i = 0; i < E->npending_inject; i++) {
		const struct seg *q = &E->pending_inject[i].seg;
		bool *seen = ev.sent ? &E->pending_inject[i].seen_sent :
				       &E->pending_inject[i].seen_arrived;

		/* one port may be a NAT's on the way (the other endpoint's stays) */
		if (!*seen && q->seq == s.seq && q->ack == s.ack && q->flags == s.flags &&
		    (q->sport == s.sport || q->dport == s.dport)) {
			ev.injected = true;
			*seen = true;
			if (E->pending_inject[i].seen_sent && E->pending_inject[i].seen_arrived)
				E->pending_inject[i] = E->pending_inject[--E->npending_inject];
			break;
		}
	}
	if (ev.sent) {
		/* Only what the kernel itself sent teaches us its numbers. */
		if (!ev.injected)
			flow_learn(E, sender, &s);
		ev.raw = (uint8_t *)p->data;
		ev.caplen = p->caplen;
		ev.len = p->len;
		ev.t_real_ns = p->t_real_ns;
	}
	if (!ev.sent && !ev.injected)
		flow_learn_nat(E, sender, &s, p->t_ns,
			       sender == HOST_CLIENT ? "seen on the server's leg" : "seen on the client's leg");
	/* A proxy's own segment (not the far endpoint's address): the proxy's
	 * kernel sent it, and nothing but the wire was between, so it teaches
	 * the numbers of the proxy's side of this connection. */
	if (!ev.sent && !ev.injected && E->c->dut.run[0] && !fw_addr_equal(&s.src, &E->addr[sender]))
		flow_learn(E, sender, &s);
	if (s.flags & SEG_SYN) { /* the connection this leg saw open last */
		struct flow *f = flow_for(E, sender, &s, false);

		if (f)
			E->leg_flow[leg] = (int)(f - E->flows);
	}
	seg_text(E, sender, &s, &ev,
		 ev.sent ? (ev.injected ? "injected " : "") : (ev.injected ? "injected, arrived " : "arrived "));
	if (!ev.sent && engine_intercepting(E)) {
		ev.late_ns = dwell_of(E, sender, &s);
		late_suffix(&ev, "queued");
	}
	timeline_add(&E->res->tl, &ev);
	if (!ev.sent && !ev.injected)
		flow_learn_arrival(E, sender, &s, p->t_ns);
	if (!ev.sent)
		release_on_segment(E, sender, &s, p->t_ns);
}

/* A segment where a wire meets the box. Which way it goes is told by the
 * endpoint address no box translates on that side: on wire-a the client's
 * (its segments carry it as source before any source NAT), on wire-b the
 * server's (before any destination NAT undoes it). A segment leaving the
 * box is attributed to the far endpoint here; timeline_box_made() says
 * when the box made it itself. */
static void on_box_packet(struct engine *E, enum fault_leg side, const struct capture_packet *p)
{
	enum fw_host near = side == FAULT_LEG_A ? HOST_CLIENT : HOST_SERVER;
	struct fw_event ev;
	struct seg s;

	late_note(E, LATE_WAKE, fw_now_ns() - p->t_ns);
	if (seg_parse_ether(p->data, p->caplen, &s) < 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_SEGMENT;
	ev.t_ns = p->t_ns - E->t0;
	ev.step = E->step;
	ev.leg = HOST_DUT;
	ev.side = side;
	ev.into_box = fw_addr_equal(&s.src, &E->addr[near]);
	ev.host = ev.into_box ? near : other(near);
	ev.rule = -1;
	ev.seg = s;
	if (!ev.into_box)
		flow_learn_nat(E, ev.host, &s, p->t_ns,
			       side == FAULT_LEG_A ? "out of the box on wire-a" : "out of the box on wire-b");
	seg_text(E, ev.host, &s, &ev, ev.into_box ? (side == FAULT_LEG_A ? "into the box on wire-a: " : "into the box on wire-b: ") :
		 (side == FAULT_LEG_A ? "out of the box on wire-a: " : "out of the box on wire-b: "));
	timeline_add(&E->res->tl, &ev);
}

/* The queue's lateness: how long each segment waited for us to read it. */
static void intercept_lateness(struct engine *E, const struct intercept_event *iev)
{
	int64_t dwell = iev->read_ns - iev->queued_ns;

	if (iev->kind != INTERCEPT_ACTED && iev->kind != INTERCEPT_PASSED)
		return;
	E->res->late.queued++;
	/* A dropped segment's wait changes nothing on the wire. */
	if (iev->kind == INTERCEPT_ACTED && iev->decision.action == FAULT_DROP) {
		late_note_run(E, LATE_DWELL, dwell);
	} else {
		late_note(E, LATE_DWELL, dwell);
		if (dwell > E->wire_dwell_run)
			E->wire_dwell_run = dwell;
	}
}

/* What the fault did, in words before the segment ("fault 'x' drop #2: "),
 * and when a kept segment went (its lateness). */
static void intercept_words(struct engine *E, const struct intercept_event *iev,
			    const struct fault_rule *rule, struct fw_event *ev, char *prefix,
			    size_t len)
{
	prefix[0] = '\0';
	switch (iev->kind) {
	case INTERCEPT_RELEASED:
	case INTERCEPT_COPY_SENT: {
		char held[32];

		ev->released = true;
		ev->held_ns = iev->t_ns - iev->queued_ns;
		/* Due on its timer, or when the event that releases it happened. */
		if (iev->due_ns)
			ev->late_ns = iev->t_ns - iev->due_ns;
		else if (E->release_trigger)
			ev->late_ns = iev->t_ns - E->release_trigger;
		late_note(E, LATE_RELEASE, ev->late_ns);
		fw_duration_format(ev->held_ns, held, sizeof(held));
		if (iev->kind == INTERCEPT_RELEASED)
			snprintf(prefix, len, "fault '%s' released after %s: ",
				 rule ? rule->name : "?", held);
		else if (iev->err)
			snprintf(prefix, len, "fault '%s' could not send the copy (%s): ",
				 rule ? rule->name : "?", fw_errno_name(-iev->err));
		else
			snprintf(prefix, len, "fault '%s' sent the copy %s later: ",
				 rule ? rule->name : "?", held);
		break;
	}
	case INTERCEPT_PASSED:
		break;
	case INTERCEPT_ACTED:
		ev->late_ns = iev->read_ns - iev->queued_ns;
		if (iev->decision.action == FAULT_REWRITE && iev->err)
			snprintf(prefix, len, "fault '%s' could not rewrite #%u (%s), passed: ",
				 rule ? rule->name : "?", iev->decision.occurrence,
				 fw_errno_name(-iev->err));
		else
			snprintf(prefix, len, "fault '%s' %s #%u: ", rule ? rule->name : "?",
				 fault_action_name(ev->action), iev->decision.occurrence);
		break;
	}
	if (rule && rule->leg != FAULT_LEG_A) { /* "...: " -> "... on wire-b: " */
		size_t used = strlen(prefix);

		if (used >= 2 && used + 12 < len)
			snprintf(prefix + used - 2, len - used + 2, " on %s: ",
				 fault_leg_name(rule->leg));
	}
}

void on_intercept(void *ctx, const struct intercept_event *iev)
{
	struct engine *E = ctx;
	const struct fault_rule *rule = fault_set_rule(E->faults, (size_t)iev->decision.rule);
	struct fw_event ev;
	char prefix[160];

	intercept_lateness(E, iev);
	if (iev->kind == INTERCEPT_PASSED) {
		dwell_remember(E, iev->from, &iev->seg, iev->read_ns - iev->queued_ns);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_FAULT;
	ev.t_ns = iev->t_ns - E->t0;
	ev.step = E->step;
	ev.host = iev->from;
	ev.seg = iev->seg;
	ev.action = iev->decision.action;
	ev.rule = iev->decision.rule;
	ev.side = rule ? rule->leg : FAULT_LEG_A;
	ev.err = iev->err;
	intercept_words(E, iev, rule, &ev, prefix, sizeof(prefix));
	seg_text(E, iev->from, &iev->seg, &ev, prefix);
	if (iev->rewritten) {
		struct fw_event after = ev;
		size_t used = strlen(ev.text);

		/* Same ISNs: the new numbers print relative like the old ones. */
		seg_text(E, iev->from, &iev->after, &after, "");
		if (used + 4 < sizeof(ev.text))
			snprintf(ev.text + used, sizeof(ev.text) - used, " => %.*s",
				 (int)(sizeof(ev.text) - used - 5), after.text);
	}
	late_suffix(&ev, ev.released ? "late" : "queued");
	timeline_add(&E->res->tl, &ev);
}

static int capture_both(struct engine *E)
{
	struct capture_batch b = { 0 };
	size_t i;
	int h, ret = 0;

	for (h = 0; h < ENGINE_CAPS && ret >= 0; h++) {
		b.leg = h;
		if (E->cap[h])
			ret = capture_dispatch(E->cap[h], batch_add, &b);
	}
	/* The box's sides once more: a segment read leaving the box on one
	 * side went in on the other before, maybe after that side was read;
	 * now it is there, and timeline_box_made() does not take a forwarded
	 * segment for the box's own. */
	for (h = ENGINE_CAP_BOX; h < ENGINE_CAPS && ret >= 0; h++) {
		b.leg = h;
		if (E->cap[h])
			ret = capture_dispatch(E->cap[h], batch_add, &b);
	}
	if (b.n) /* qsort(NULL, 0, ...) is undefined behaviour (UBSan) */
		qsort(b.v, b.n, sizeof(*b.v), cmp_captured);
	for (i = 0; i < b.n; i++) {
		b.v[i].p.data = b.v[i].data;
		if (b.v[i].leg >= ENGINE_CAP_BOX)
			on_box_packet(E, (enum fault_leg)(b.v[i].leg - ENGINE_CAP_BOX), &b.v[i].p);
		else
			on_packet(E, (enum fw_host)b.v[i].leg, &b.v[i].p);
	}
	free(b.v);
	/* Without events, a probe after every batch is how a state change is
	 * seen; with them, the events that came with the segments. */
	if (ret < 0)
		return ret;
	return events_cover(E) ? events_drain(E) : probe_paced(E);
}

int pump_fd(struct engine *E, uint32_t tag)
{
	int ret = 0, leg;

	if (tag >= TAG_CONN_BASE) { /* a group connect's member: connected */
		conn_ready(E, tag);
		return 0;
	}
	switch ((enum epoll_tag)tag) {
	case TAG_CAPTURE_CLIENT:
	case TAG_CAPTURE_SERVER:
	case TAG_CAPTURE_BOX:
		ret = capture_both(E);
		break;
	case TAG_INTERCEPT:
	case TAG_INTERCEPT_TIMER:
		if (E->test_stall_ns && E->ic[FAULT_LEG_A]) {
			struct pollfd q = { .fd = intercept_fd(E->ic[FAULT_LEG_A]), .events = POLLIN };
			struct timespec nap = { E->test_stall_ns / FW_NS_PER_SEC,
						E->test_stall_ns % FW_NS_PER_SEC };

			if (poll(&q, 1, 0) > 0) /* only when a segment waits */
				nanosleep(&nap, NULL);
		}
		/* What capture holds happened before what the queue holds: the
		 * matcher's view (ISNs, FINs and their ACKs) must include it. */
		ret = capture_both(E);
		for (leg = 0; ret == 0 && leg < FAULT_LEG_COUNT; leg++)
			if (E->ic[leg])
				ret = intercept_process(E->ic[leg], on_intercept, E);
		if (ret == -ENOBUFS)
			ret = 0; /* reported by intercept in err; the case goes on */
		break;
	case TAG_SOCKET:
		E->socket_ready = 1;
		break;
	case TAG_SOCKEV:
		ret = events_drain(E);
		break;
	}
	return ret < 0 ? ret : 0;
}

/* Wait for events until deadline (absolute) or until something was handled;
 * returns 0 or -errno. Callers loop, re-checking what they wait for. */
int pump(struct engine *E, int64_t deadline)
{
	struct epoll_event evs[8];
	int64_t wait = deadline - fw_now_ns();
	struct timespec ts;
	int n, i, ret;

	if (wait < 0)
		wait = 0;
	ts.tv_sec = wait / FW_NS_PER_SEC;
	ts.tv_nsec = wait % FW_NS_PER_SEC;
	n = epoll_pwait2(E->epfd, evs, 8, &ts, NULL);
	if (n < 0 && errno == ENOSYS) /* before Linux 5.11, or under valgrind */
		n = epoll_wait(E->epfd, evs, 8, (int)((wait + FW_NS_PER_MS - 1) / FW_NS_PER_MS));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/* A timed wait that ran out: how long after its deadline we woke. */
	if (n == 0 && wait > 0)
		late_note(E, LATE_WAKE, fw_now_ns() - deadline);
	for (i = 0; i < n; i++) {
		ret = pump_fd(E, evs[i].data.u32);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Drain whatever is already waiting, without blocking. */
int drain(struct engine *E)
{
	int ret = pump(E, 0);

	return ret < 0 ? ret : capture_both(E);
}

int watch_socket(struct engine *E, int fd, uint32_t events, bool on)
{
	struct epoll_event ev = { .events = events, .data.u32 = TAG_SOCKET };

	E->socket_ready = 0;
	if (epoll_ctl(E->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, on ? &ev : NULL) < 0)
		return -errno;
	return 0;
}
