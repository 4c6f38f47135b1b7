/* engine: one case, end to end. See engine.h. */
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "conntrack.h"
#include "counters.h"
#include "dut.h"
#include "inject.h"
#include "intercept.h"
#include "netns.h"
#include "proc.h"
#include "program.h"
#include "sockprobe.h"
#include "util.h"

#define ENGINE_MAX_SOCKS 32
#define ENGINE_MAX_FLOWS 16
#define ENGINE_MAX_PENDING_INJECT 16
#define ENGINE_MAX_PROCS 8
/* A box's program must listen within this (a proxy starts in milliseconds). */
#define ENGINE_DUT_READY_NS (5 * FW_NS_PER_SEC)
/* How long a case waits for another to give an external box's interfaces
 * back: within the scheduler's margin for a case (30 s), so a long wait ends
 * in this message, not in the case being killed as over its budget. */
#define ENGINE_IF_LOCK_NS (25 * FW_NS_PER_SEC)
/* sock_diag offers no notification of TCP state changes, so a wait on a
 * state re-probes on every segment seen and at least this often. */
#define ENGINE_STATE_POLL_NS (2 * FW_NS_PER_MS)
/* How many segments and states a failure message shows. */
#define ENGINE_CONTEXT_SEGMENTS 8
/* Harness lateness from which a failed timing expectation is not trusted:
 * a quiet run stays well below (measured: 0.1 to 4 ms; 5-15 ms at load 25
 * on 2 CPUs), while the windows a case relies on are tens of ms or more
 * (a 30 ms held ACK makes FIN_WAIT_2 visible). */
#define ENGINE_LATE_EXPLAINS_NS (20 * FW_NS_PER_MS)
/* Segments let through recently, remembered until their copy arrives, so
 * the arrival shows how long the segment waited in the queue. */
#define ENGINE_DWELL_RING 64
/* Lateness shown in the text of an event from this much on. */
#define ENGINE_LATE_SHOWN_NS FW_NS_PER_MS

enum epoll_tag {
	TAG_CAPTURE_CLIENT = 1,
	TAG_CAPTURE_SERVER,
	TAG_INTERCEPT,
	TAG_INTERCEPT_TIMER,
	TAG_SOCKET,
};

struct esock {
	enum fw_host host;
	char name[32];
	int fd;
	bool listener;
	bool has_tuple;
	uint16_t lport, rport;
};

/* What the wire has shown of one connection (keyed by the client host's
 * port and the server host's port): ISNs, next sequence numbers, the last
 * ACK each side sent (its rcv_nxt) and the last TSval each side sent. */
struct flow {
	uint16_t port[HOST_COUNT];
	bool has_isn[HOST_COUNT], has_nxt[HOST_COUNT], has_ack[HOST_COUNT], has_ts[HOST_COUNT];
	uint32_t isn[HOST_COUNT], snd_nxt[HOST_COUNT], ack[HOST_COUNT], tsval[HOST_COUNT];
	uint16_t win[HOST_COUNT];     /* last window field each side sent */
	int8_t wscale[HOST_COUNT];    /* from its SYN, -1 when it offered none */
	/* each side's numbers in the previous incarnation of the 4-tuple */
	bool has_prev_nxt[HOST_COUNT], has_prev_ack[HOST_COUNT];
	uint32_t prev_snd_nxt[HOST_COUNT], prev_ack[HOST_COUNT];
	/* Teardown as the wire saw it, for the state a segment left in: each
	 * side's first FIN (seq, and the ack it carried), and when an ACK of it
	 * reached that side (kernel capture time, 0: not yet). */
	bool has_fin[HOST_COUNT];
	uint32_t fin_seq[HOST_COUNT], fin_ack[HOST_COUNT];
	int64_t fin_acked_ns[HOST_COUNT];
};

/* A forked endpoint child (fork) or a real program (start): prog.child is
 * the process either way; a program also has its output (prog.log_fd). */
struct eproc {
	char name[32];
	enum fw_host host;
	struct program prog;
};

struct host_snapshot {
	struct sock_info *socks;
	size_t n;
};

struct engine {
	const struct fw_case *c;
	struct case_result *res;
	struct topo *topo;
	struct capture *cap[2]; /* [HOST_CLIENT], [HOST_SERVER] legs */
	struct fault_set *faults;
	struct intercept *ic;
	struct inject *inj[2];
	struct sockprobe *probe[2];
	struct host_snapshot snap[2];
	struct counter_set counters0[HOST_COUNT]; /* each namespace's counters when the case began */
	struct fw_addr addr[HOST_COUNT]; /* the box's: its client-facing address */
	struct dut *dut;                 /* the device under test's program, if any */
	struct conntrack *ct;            /* its conntrack table, if a step reads it */
	int if_lock[2];                  /* an external box: its interfaces, one case at a time */
	int epfd;
	struct esock socks[ENGINE_MAX_SOCKS];
	size_t nsocks;
	struct eproc procs[ENGINE_MAX_PROCS];
	size_t nprocs;
	struct flow flows[ENGINE_MAX_FLOWS];
	size_t nflows;
	int cur_flow; /* the connection the latest SYN opened, -1 before any */
	/* Injected segments not yet seen on both legs, so capture can tell
	 * them from what the kernels sent. */
	struct {
		struct seg seg;
		bool seen_sent, seen_arrived;
	} pending_inject[ENGINE_MAX_PENDING_INJECT];
	size_t npending_inject;
	int64_t t0;
	int64_t cursor_t; /* start of the last action step (absolute, monotonic) */
	size_t cursor_idx; /* segment expectations match events after this index */
	int step;         /* step being run */
	int64_t *step_started; /* when each step of the run began (absolute), for 'since' */
	int socket_ready; /* set by the pump when the awaited socket polls ready */
	int64_t step_end; /* when the previous step ended (its awaited event, absolute) */
	int64_t release_trigger; /* when what releases held segments happened, 0: none */
	struct run_lateness win_late; /* lateness since the last action step began */
	/* Tests only (FINWAVE_TEST_QUEUE_STALL_MS): wait this long before each
	 * read of the queue, as a loaded machine would make us. */
	int64_t test_stall_ns;
	/* How far the failing observation was from passing, when that is known
	 * (a timer's time left): lateness explains the failure only if at least
	 * this large. INT64_MAX: no lateness can (a different timer). */
	int64_t fail_margin_ns;
	struct {
		enum fw_host from;
		struct seg seg;
		int64_t dwell_ns;
	} dwell[ENGINE_DWELL_RING];
	size_t ndwell; /* entries written; the ring keeps the last ENGINE_DWELL_RING */
	char err[FW_ERRLEN];
};

/* ---- the harness's own lateness ----------------------------------------- */

enum late_kind {
	LATE_DWELL,
	LATE_RELEASE,
	LATE_WAKE,
	LATE_STEP,
};

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
static void late_note(struct engine *E, enum late_kind k, int64_t v)
{
	int64_t *win = late_field(&E->win_late, k);

	late_note_run(E, k, v);
	if (v > *win)
		*win = v;
}

/* " [queued 12.3ms]": lateness shown in an event's text, when it counts. */
static void late_suffix(struct fw_event *ev, const char *what)
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

static struct fw_event *add_event(struct engine *E, enum ev_kind kind, int64_t t_abs,
				  enum fw_host host, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static struct fw_event *add_event(struct engine *E, enum ev_kind kind, int64_t t_abs,
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

static enum fw_host other(enum fw_host h)
{
	return h == HOST_CLIENT ? HOST_SERVER : HOST_CLIENT;
}

/* ---- flows ------------------------------------------------------------------ */

static struct flow *flow_for(struct engine *E, enum fw_host sender, const struct seg *s,
			     bool create)
{
	uint16_t cport = sender == HOST_CLIENT ? s->sport : s->dport;
	uint16_t sport = sender == HOST_CLIENT ? s->dport : s->sport;
	size_t i;

	for (i = E->nflows; i-- > 0;)
		if (E->flows[i].port[HOST_CLIENT] == cport && E->flows[i].port[HOST_SERVER] == sport)
			return &E->flows[i];
	if (!create || E->nflows == ENGINE_MAX_FLOWS)
		return NULL;
	memset(&E->flows[E->nflows], 0, sizeof(E->flows[0]));
	E->flows[E->nflows].port[HOST_CLIENT] = cport;
	E->flows[E->nflows].port[HOST_SERVER] = sport;
	return &E->flows[E->nflows++];
}

/* A host's first FIN, from whichever view of the wire saw it first (the
 * queue sees a sender's segments in order, capture may come later). */
static void flow_learn_fin(struct flow *f, enum fw_host h, const struct seg *s)
{
	if (!(s->flags & SEG_FIN) || f->has_fin[h])
		return;
	f->has_fin[h] = true;
	f->fin_seq[h] = s->seq + s->len;
	f->fin_ack[h] = s->ack;
}

/* A segment from `sender` reached the other side at t_abs: did it
 * acknowledge that side's FIN? */
static void flow_learn_arrival(struct engine *E, enum fw_host sender, const struct seg *s,
			       int64_t t_abs)
{
	struct flow *f = flow_for(E, sender, s, false);
	enum fw_host rcv = other(sender);

	if (f && f->has_fin[rcv] && !f->fin_acked_ns[rcv] && (s->flags & SEG_ACK) &&
	    seq_after(s->ack, f->fin_seq[rcv]))
		f->fin_acked_ns[rcv] = t_abs;
}

/* Learn from a segment the sender really put on the wire. */
static void flow_learn(struct engine *E, enum fw_host h, const struct seg *s)
{
	struct flow *f = flow_for(E, h, s, (s->flags & SEG_SYN) != 0);
	uint32_t end;

	if (!f)
		return;
	if ((s->flags & SEG_SYN) && (!f->has_isn[h] || f->isn[h] != s->seq)) {
		int x;

		/* what each side had reached, for prev_snd_nxt / prev_rcv_nxt */
		for (x = 0; x < HOST_COUNT && f->has_isn[h]; x++) {
			if (f->has_nxt[x] && (x == (int)h || !(s->flags & SEG_ACK))) {
				f->prev_snd_nxt[x] = f->snd_nxt[x];
				f->has_prev_nxt[x] = true;
			}
			if (f->has_ack[x] && (x == (int)h || !(s->flags & SEG_ACK))) {
				f->prev_ack[x] = f->ack[x];
				f->has_prev_ack[x] = true;
			}
		}
		if (!(s->flags & SEG_ACK) && f->has_isn[h]) {
			/* A new SYN on a known 4-tuple: a new incarnation starts. */
			struct flow prev = *f;

			memset(f, 0, sizeof(*f));
			f->port[HOST_CLIENT] = prev.port[HOST_CLIENT];
			f->port[HOST_SERVER] = prev.port[HOST_SERVER];
			memcpy(f->has_prev_nxt, prev.has_prev_nxt, sizeof(f->has_prev_nxt));
			memcpy(f->has_prev_ack, prev.has_prev_ack, sizeof(f->has_prev_ack));
			memcpy(f->prev_snd_nxt, prev.prev_snd_nxt, sizeof(f->prev_snd_nxt));
			memcpy(f->prev_ack, prev.prev_ack, sizeof(f->prev_ack));
		}
		f->has_isn[h] = true;
		f->isn[h] = s->seq;
		f->wscale[h] = s->wscale;
		f->has_nxt[h] = false;
		E->cur_flow = (int)(f - E->flows);
	}
	flow_learn_fin(f, h, s);
	end = s->seq + seg_seq_len(s);
	if (!f->has_nxt[h] || seq_after(end, f->snd_nxt[h])) {
		f->snd_nxt[h] = end;
		f->has_nxt[h] = true;
	}
	if (s->flags & SEG_ACK) {
		f->ack[h] = s->ack;
		f->has_ack[h] = true;
		f->win[h] = s->win;
	}
	if (s->has_ts) {
		f->tsval[h] = s->tsval;
		f->has_ts[h] = true;
	}
}

static void seg_text(struct engine *E, enum fw_host sender, const struct seg *s,
		     struct fw_event *ev, const char *prefix)
{
	struct flow *f = flow_for(E, sender, s, false);
	struct seg_names names = { fw_host_name(sender), fw_host_name(other(sender)), false, false,
				   0, 0 };
	char line[256];

	if (f) {
		names.has_src_isn = f->has_isn[sender];
		names.src_isn = f->isn[sender];
		names.has_dst_isn = f->has_isn[other(sender)];
		names.dst_isn = f->isn[other(sender)];
	}
	ev->rel_seq = names.has_src_isn ? seq_rel(s->seq, names.src_isn) : s->seq;
	ev->rel_ack = names.has_dst_isn ? seq_rel(s->ack, names.dst_isn) : s->ack;
	seg_format(s, &names, line, sizeof(line));
	snprintf(ev->text, sizeof(ev->text), "%s%s", prefix, line);
}

/* ---- socket probing ---------------------------------------------------------- */

static struct esock *sock_find(struct engine *E, enum fw_host h, const char *name)
{
	size_t i;

	for (i = 0; i < E->nsocks; i++)
		if (E->socks[i].host == h && strcmp(E->socks[i].name, name) == 0)
			return &E->socks[i];
	return NULL;
}

static const char *sock_label(struct engine *E, enum fw_host h, const struct sock_info *si)
{
	size_t i;

	for (i = 0; i < E->nsocks; i++) {
		struct esock *s = &E->socks[i];

		if (s->host == h && s->has_tuple && s->lport == si->sport &&
		    (s->listener ? si->state == FW_TCP_LISTEN : s->rport == si->dport))
			return s->name;
	}
	return si->state == FW_TCP_LISTEN ? "listener" : "socket";
}

static bool sock_same(const struct sock_info *a, const struct sock_info *b)
{
	return a->sport == b->sport && a->dport == b->dport && fw_addr_equal(&a->src, &b->src) &&
	       fw_addr_equal(&a->dst, &b->dst);
}

static void release_on_state(struct engine *E, enum fw_host h, int state, int64_t now);

static void state_event(struct engine *E, enum fw_host h, const struct sock_info *si, int state,
			int64_t now)
{
	struct fw_event *ev;

	ev = add_event(E, EV_STATE, now, h, "%s %s :%u > :%u %s%s%s", fw_host_name(h),
		       sock_label(E, h, si), si->sport, si->dport, tcp_state_name(state),
		       si->timer && state ? " timer " : "",
		       si->timer && state ? sock_timer_name(si->timer) : "");
	if (ev) {
		ev->seg.src = si->src;
		ev->seg.dst = si->dst;
		ev->seg.sport = si->sport;
		ev->seg.dport = si->dport;
		ev->state = state;
		ev->timer = state ? si->timer : 0;
		ev->expires_ms = state ? si->expires_ms : 0;
	}
	if (state)
		release_on_state(E, h, state, now);
}

/* Dump the host's sockets; record every appearance, change and disappearance. */
static int probe_host(struct engine *E, enum fw_host h)
{
	struct host_snapshot *old = &E->snap[h];
	struct sock_info *now_socks = NULL;
	int64_t now = fw_now_ns();
	size_t n = 0, i, j;
	int ret;

	ret = sockprobe_dump(E->probe[h], &now_socks, &n, E->err, sizeof(E->err));
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		for (j = 0; j < old->n; j++)
			if (sock_same(&now_socks[i], &old->socks[j]))
				break;
		if (j == old->n || old->socks[j].state != now_socks[i].state)
			state_event(E, h, &now_socks[i], now_socks[i].state, now);
	}
	for (j = 0; j < old->n; j++) {
		for (i = 0; i < n; i++)
			if (sock_same(&now_socks[i], &old->socks[j]))
				break;
		if (i == n)
			state_event(E, h, &old->socks[j], 0, now);
	}
	free(old->socks);
	old->socks = now_socks;
	old->n = n;
	return 0;
}

static int probe_all(struct engine *E)
{
	int ret = probe_host(E, HOST_CLIENT);

	return ret < 0 ? ret : probe_host(E, HOST_SERVER);
}

/* State of a named socket in the last snapshot: 0 when it is gone. */
static const struct sock_info *sock_state(struct engine *E, const struct esock *s)
{
	const struct host_snapshot *snap = &E->snap[s->host];
	size_t i;

	if (!s->has_tuple)
		return NULL;
	for (i = 0; i < snap->n; i++) {
		const struct sock_info *si = &snap->socks[i];

		if (si->sport != s->lport)
			continue;
		if (s->listener ? si->state == FW_TCP_LISTEN : si->dport == s->rport)
			return si;
	}
	return NULL;
}

/* ---- event pump ----------------------------------------------------------- */

static void on_intercept(void *ctx, const struct intercept_event *iev);

/* A segment crossed the wire (seen arriving at its receiver at t_abs): let
 * go what a hold waits for, and what a reorder held behind it. Only
 * segments queued before it count, so nothing releases itself. */
static void release_on_segment(struct engine *E, enum fw_host sender, const struct seg *s,
			       int64_t t_abs)
{
	size_t i;

	E->release_trigger = t_abs;
	for (i = 0; E->ic && i < fault_set_count(E->faults); i++)
		if (fault_rule_released_by_segment(fault_set_rule(E->faults, i), sender, s))
			intercept_release_rule(E->ic, (int)i, t_abs, on_intercept, E);
	E->release_trigger = 0;
}

static void release_on_state(struct engine *E, enum fw_host h, int state, int64_t now)
{
	size_t i;

	E->release_trigger = now;
	for (i = 0; E->ic && i < fault_set_count(E->faults); i++) {
		const struct fault_rule *r = fault_set_rule(E->faults, i);

		if (r->action == FAULT_HOLD && r->until == FAULT_UNTIL_STATE && r->until_host == h &&
		    r->until_state == state)
			intercept_release_rule(E->ic, (int)i, INT64_MAX, on_intercept, E);
	}
	E->release_trigger = 0;
}

/* Packets of both legs are gathered and handled in time order, so that
 * ISNs and sequence knowledge are learned in the order things happened. */
struct captured {
	enum fw_host leg;
	struct capture_packet p;
	uint8_t data[CAPTURE_SNAPLEN];
};

struct capture_batch {
	struct captured *v;
	size_t n, cap;
	enum fw_host leg;
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

		if (!*seen && q->seq == s.seq && q->ack == s.ack && q->flags == s.flags &&
		    q->sport == s.sport && q->dport == s.dport) {
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
	seg_text(E, sender, &s, &ev,
		 ev.sent ? (ev.injected ? "injected " : "") : (ev.injected ? "injected, arrived " : "arrived "));
	if (!ev.sent && E->ic) {
		ev.late_ns = dwell_of(E, sender, &s);
		late_suffix(&ev, "queued");
	}
	timeline_add(&E->res->tl, &ev);
	if (!ev.sent && !ev.injected)
		flow_learn_arrival(E, sender, &s, p->t_ns);
	if (!ev.sent)
		release_on_segment(E, sender, &s, p->t_ns);
}

static void on_intercept(void *ctx, const struct intercept_event *iev)
{
	struct engine *E = ctx;
	const struct fault_rule *rule = fault_set_rule(E->faults, (size_t)iev->decision.rule);
	struct fw_event ev;
	char prefix[160];

	if (iev->kind == INTERCEPT_ACTED || iev->kind == INTERCEPT_PASSED) {
		int64_t dwell = iev->read_ns - iev->queued_ns;

		E->res->late.queued++;
		/* A dropped segment's wait changes nothing on the wire. */
		if (iev->kind == INTERCEPT_ACTED && iev->decision.action == FAULT_DROP)
			late_note_run(E, LATE_DWELL, dwell);
		else
			late_note(E, LATE_DWELL, dwell);
	}
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
	ev.err = iev->err;
	switch (iev->kind) {
	case INTERCEPT_RELEASED:
	case INTERCEPT_COPY_SENT: {
		char held[32];

		ev.released = true;
		ev.held_ns = iev->t_ns - iev->queued_ns;
		/* Due on its timer, or when the event that releases it happened. */
		if (iev->due_ns)
			ev.late_ns = iev->t_ns - iev->due_ns;
		else if (E->release_trigger)
			ev.late_ns = iev->t_ns - E->release_trigger;
		late_note(E, LATE_RELEASE, ev.late_ns);
		fw_duration_format(ev.held_ns, held, sizeof(held));
		if (iev->kind == INTERCEPT_RELEASED)
			snprintf(prefix, sizeof(prefix), "fault '%s' released after %s: ",
				 rule ? rule->name : "?", held);
		else if (iev->err)
			snprintf(prefix, sizeof(prefix), "fault '%s' could not send the copy (%s): ",
				 rule ? rule->name : "?", fw_errno_name(-iev->err));
		else
			snprintf(prefix, sizeof(prefix), "fault '%s' sent the copy %s later: ",
				 rule ? rule->name : "?", held);
		break;
	}
	case INTERCEPT_PASSED:
		break;
	case INTERCEPT_ACTED:
		ev.late_ns = iev->read_ns - iev->queued_ns;
		if (iev->decision.action == FAULT_REWRITE && iev->err)
			snprintf(prefix, sizeof(prefix), "fault '%s' could not rewrite #%u (%s), passed: ",
				 rule ? rule->name : "?", iev->decision.occurrence,
				 fw_errno_name(-iev->err));
		else
			snprintf(prefix, sizeof(prefix), "fault '%s' %s #%u: ", rule ? rule->name : "?",
				 fault_action_name(ev.action), iev->decision.occurrence);
		break;
	}
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

	for (h = HOST_CLIENT; h <= HOST_SERVER && ret >= 0; h++) {
		b.leg = (enum fw_host)h;
		ret = capture_dispatch(E->cap[h], batch_add, &b);
	}
	if (b.n) /* qsort(NULL, 0, ...) is undefined behaviour (UBSan) */
		qsort(b.v, b.n, sizeof(*b.v), cmp_captured);
	for (i = 0; i < b.n; i++) {
		b.v[i].p.data = b.v[i].data;
		on_packet(E, b.v[i].leg, &b.v[i].p);
	}
	free(b.v);
	return ret < 0 ? ret : probe_all(E);
}

static int pump_fd(struct engine *E, uint32_t tag)
{
	int ret = 0;

	switch ((enum epoll_tag)tag) {
	case TAG_CAPTURE_CLIENT:
	case TAG_CAPTURE_SERVER:
		ret = capture_both(E);
		break;
	case TAG_INTERCEPT:
	case TAG_INTERCEPT_TIMER:
		if (E->test_stall_ns) {
			struct pollfd q = { .fd = intercept_fd(E->ic), .events = POLLIN };
			struct timespec nap = { E->test_stall_ns / FW_NS_PER_SEC,
						E->test_stall_ns % FW_NS_PER_SEC };

			if (poll(&q, 1, 0) > 0) /* only when a segment waits */
				nanosleep(&nap, NULL);
		}
		/* What capture holds happened before what the queue holds: the
		 * matcher's view (ISNs, FINs and their ACKs) must include it. */
		ret = capture_both(E);
		if (ret == 0)
			ret = intercept_process(E->ic, on_intercept, E);
		if (ret == -ENOBUFS)
			ret = 0; /* reported by intercept in err; the case goes on */
		break;
	case TAG_SOCKET:
		E->socket_ready = 1;
		break;
	}
	return ret < 0 ? ret : 0;
}

/* Wait for events until deadline (absolute) or until something was handled;
 * returns 0 or -errno. Callers loop, re-checking what they wait for. */
static int pump(struct engine *E, int64_t deadline)
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
static int drain(struct engine *E)
{
	int ret = pump(E, 0);

	return ret < 0 ? ret : capture_both(E);
}

static int watch_socket(struct engine *E, int fd, uint32_t events, bool on)
{
	struct epoll_event ev = { .events = events, .data.u32 = TAG_SOCKET };

	E->socket_ready = 0;
	if (epoll_ctl(E->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, on ? &ev : NULL) < 0)
		return -errno;
	return 0;
}

/* ---- failure reporting -------------------------------------------------------- */

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void append_context(struct engine *E)
{
	struct case_result *r = E->res;
	size_t i, shown = 0, start = r->tl.n;
	char t[32];
	int h;

	while (start > 0 && shown < ENGINE_CONTEXT_SEGMENTS) {
		const struct fw_event *e = &r->tl.ev[--start];

		if ((e->kind == EV_SEGMENT && e->sent) || e->kind == EV_FAULT || e->kind == EV_INJECT)
			shown++;
	}
	append(r->message, sizeof(r->message), "\n  last segments:");
	if (!shown)
		append(r->message, sizeof(r->message), " none");
	for (i = start; i < r->tl.n; i++) {
		const struct fw_event *e = &r->tl.ev[i];

		if ((e->kind == EV_SEGMENT && e->sent) || e->kind == EV_FAULT || e->kind == EV_INJECT) {
			fw_duration_format(e->t_ns, t, sizeof(t));
			append(r->message, sizeof(r->message), "\n    %9s  %s", t, e->text);
		}
	}
	append(r->message, sizeof(r->message), "\n  socket states:");
	for (h = HOST_CLIENT; h <= HOST_SERVER; h++) {
		if (!E->snap[h].n)
			append(r->message, sizeof(r->message), "\n    %s: no TCP sockets", fw_host_name(h));
		for (i = 0; i < E->snap[h].n; i++) {
			const struct sock_info *si = &E->snap[h].socks[i];

			append(r->message, sizeof(r->message), "\n    %s %s :%u > :%u %s",
			       fw_host_name(h), sock_label(E, (enum fw_host)h, si), si->sport,
			       si->dport, tcp_state_name(si->state));
			if (si->timer)
				append(r->message, sizeof(r->message), " (timer %s, %ums left)",
				       sock_timer_name(si->timer), si->expires_ms);
		}
	}
}

/* Which expectations the harness's own lateness can turn into a failure:
 * those judged against a time window. A late queue or release shifts what
 * the kernels see (an inflated RTT, a retransmission, a missed short-lived
 * state); a late event loop can miss a state between two probes but not a
 * segment, which capture stamps in the kernel. Counters and sysctls are
 * values, and an action's result is the kernel's. */
enum late_sense {
	LATE_NONE,
	LATE_WIRE,      /* lateness that changes what reaches the kernels */
	LATE_WIRE_LOOP, /* that, or the event loop's (a probe's) lateness */
};
static const enum late_sense step_late_sense[STEP_KIND_COUNT] = {
	[STEP_EXPECT_SEGMENT] = LATE_WIRE,
	[STEP_EXPECT_NO_SEGMENT] = LATE_WIRE,
	[STEP_EXPECT_GONE] = LATE_WIRE,
	[STEP_EXPECT_STATE] = LATE_WIRE_LOOP,
};

/* Only lateness since the last action began counts: what an expectation
 * judges is the kernels' answer to that action. */
static bool late_explains(const struct engine *E, const struct fw_step *s)
{
	const struct run_lateness *l = &E->win_late;
	int64_t wire = l->dwell_max_ns, need = ENGINE_LATE_EXPLAINS_NS;

	if (E->fail_margin_ns > need)
		need = E->fail_margin_ns;
	if (l->release_max_ns > wire)
		wire = l->release_max_ns;
	if (l->step_max_ns > wire)
		wire = l->step_max_ns;
	switch (step_late_sense[s->kind]) {
	case LATE_NONE:
		return false;
	case LATE_WIRE:
		return wire >= need;
	case LATE_WIRE_LOOP:
		/* A probe late by L misses only a state that lived less than L:
		 * never TIME_WAIT, which lives its 60 s unless killed. */
		return wire >= need || (l->wake_max_ns >= need && s->state != TCP_TIME_WAIT);
	}
	return false;
}

/* One line of evidence: how late the harness was, at worst, since the
 * action the failed expectation judges, and in the whole run. */
static void append_lateness(struct engine *E)
{
	const struct run_lateness *l = &E->win_late;
	char d[5][32];

	fw_duration_format(l->dwell_max_ns, d[0], sizeof(d[0]));
	fw_duration_format(l->release_max_ns, d[1], sizeof(d[1]));
	fw_duration_format(l->wake_max_ns, d[2], sizeof(d[2]));
	fw_duration_format(l->step_max_ns, d[3], sizeof(d[3]));
	fw_duration_format(run_lateness_max(&E->res->late), d[4], sizeof(d[4]));
	append(E->res->message, sizeof(E->res->message),
	       "\n  harness lateness since the last action (worst): queue dwell %s, release %s, "
	       "event-loop wake-up %s, step start %s (whole run: %s)%s",
	       d[0], d[1], d[2], d[3], d[4],
	       E->res->late_explains ? ": could explain this failure" : "");
}

/* Decide the case as failed at the current step, with expected vs actual. */
static int step_fail(struct engine *E, const struct fw_step *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int step_fail(struct engine *E, const struct fw_step *s, const char *fmt, ...)
{
	struct case_result *r = E->res;
	char actual[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(actual, sizeof(actual), fmt, ap);
	va_end(ap);
	r->status = CASE_FAIL;
	snprintf(r->message, sizeof(r->message), "%s:%d: step %d: expected %s\n  actual: %s",
		 E->c->path, s->line, E->step + 1, s->text, actual);
	if (step_kind_is_expect(s->kind)) {
		struct fw_event *ev = add_event(E, EV_EXPECT, fw_now_ns(), s->host, "FAIL: %s (%s)",
						s->text, actual);

		if (ev)
			ev->pass = false;
	}
	r->late_explains = late_explains(E, s);
	append_lateness(E);
	append_context(E);
	return 1;
}

static int step_error(struct engine *E, const struct fw_step *s, int ret, const char *what)
{
	E->res->status = CASE_ERROR;
	snprintf(E->res->message, sizeof(E->res->message), "%s:%d: step %d (%s): %s: %s",
		 E->c->path, s->line, E->step + 1, s->text, what, E->err[0] ? E->err : strerror(-ret));
	return 1;
}

static void expect_pass(struct engine *E, const struct fw_step *s)
{
	struct fw_event *ev = add_event(E, EV_EXPECT, fw_now_ns(), s->host, "PASS: %s", s->text);

	if (ev)
		ev->pass = true;
}

/* ---- actions ---------------------------------------------------------------- */

static void sockaddr_of(const struct fw_addr *a, uint16_t port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->bytes, 16);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->bytes, 4);
		*len = sizeof(*s4);
	}
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port :
						  ((const struct sockaddr_in *)ss)->sin_port);
}

static void sock_learn_tuple(struct esock *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0)
		s->lport = port_of(&ss);
	len = sizeof(ss);
	if (!s->listener && getpeername(s->fd, (struct sockaddr *)&ss, &len) == 0)
		s->rport = port_of(&ss);
	s->has_tuple = true;
}

static int sock_options(const struct fw_step *st, int fd)
{
	if (st->has_opt &&
	    setsockopt(fd, st->opt_level, st->opt_name, &st->opt_value, sizeof(st->opt_value)) < 0)
		return -errno;
	if (st->reuseaddr >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &st->reuseaddr, sizeof(st->reuseaddr)) < 0)
		return -errno;
	if (st->reuseport >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &st->reuseport, sizeof(st->reuseport)) < 0)
		return -errno;
	if (st->linger >= 0) {
		struct linger l = { .l_onoff = 1, .l_linger = st->linger };

		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0)
			return -errno;
	}
	return 0;
}

static struct esock *sock_new(struct engine *E, const struct fw_step *st, int fd)
{
	struct esock *s = sock_find(E, st->host, st->sock);

	if (!s) {
		if (E->nsocks == ENGINE_MAX_SOCKS)
			return NULL;
		s = &E->socks[E->nsocks++];
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	memset(s, 0, sizeof(*s));
	s->host = st->host;
	snprintf(s->name, sizeof(s->name), "%s", st->sock);
	s->fd = fd;
	return s;
}

/* Wait until fd polls for events or the deadline passes; 1 ready, 0 timeout. */
static int wait_socket(struct engine *E, int fd, uint32_t events, int64_t deadline)
{
	int ret = watch_socket(E, fd, events, true);

	if (ret < 0)
		return ret;
	int ready;

	while (!E->socket_ready && fw_now_ns() < deadline) {
		ret = pump(E, deadline);
		if (ret < 0)
			break;
	}
	ready = E->socket_ready;
	watch_socket(E, fd, 0, false);
	return ret < 0 ? ret : ready;
}

static struct eproc *proc_find(struct engine *E, const char *name)
{
	size_t i;

	for (i = 0; i < E->nprocs; i++)
		if (strcmp(E->procs[i].name, name) == 0)
			return &E->procs[i];
	return NULL;
}

/* The child takes copies of every open socket of the host. */
static int do_fork(struct engine *E, const struct fw_step *st, int *result)
{
	int fds[ENGINE_MAX_SOCKS];
	size_t i, n = 0;
	struct eproc *p;
	int ret;

	if (proc_find(E, st->proc))
		return fw_err(E->err, sizeof(E->err), -EEXIST, "a child named '%s' already exists",
			      st->proc);
	if (E->nprocs == ENGINE_MAX_PROCS)
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many children");
	for (i = 0; i < E->nsocks; i++)
		if (E->socks[i].host == st->host && E->socks[i].fd >= 0)
			fds[n++] = E->socks[i].fd;
	p = &E->procs[E->nprocs];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", st->proc);
	p->host = st->host;
	p->prog.log_fd = -1;
	ret = proc_fork(&p->prog.child, fds, n);
	if (ret < 0) {
		*result = -ret;
		return 0;
	}
	E->nprocs++;
	return 0;
}

/* Signal the child and wait (on its pidfd) until it is gone. */
static int do_kill(struct engine *E, const struct fw_step *st, int64_t deadline, int *result)
{
	struct eproc *p = proc_find(E, st->proc);
	char how[64];
	int ret;

	if (!p)
		return fw_err(E->err, sizeof(E->err), -ESRCH,
			      "no child named '%s' (create it with a fork step)", st->proc);
	if (p->prog.child.reaped || kill(p->prog.child.pid, st->signal) < 0) {
		*result = ESRCH;
		return 0;
	}
	while (!proc_reap(&p->prog.child)) {
		if (fw_now_ns() >= deadline) {
			*result = FW_EDEADLINE;
			return 0;
		}
		ret = wait_socket(E, p->prog.child.pidfd, EPOLLIN, deadline);
		if (ret < 0)
			return ret;
	}
	proc_describe(&p->prog.child, how, sizeof(how));
	add_event(E, EV_STEP, fw_now_ns(), p->host, "child '%s' %s", p->name, how);
	return 0;
}

/* The case file's directory: FW_CASE_DIR for a program. */
static void case_dir(const struct fw_case *c, char *buf, size_t len)
{
	const char *slash = strrchr(c->path, '/');

	snprintf(buf, len, "%.*s", slash ? (int)(slash - c->path) : 1, slash ? c->path : ".");
}

/* start: the user's program in the host's namespace, ready when it listens
 * on its port. A program that dies or never listens is the action's result
 * (ECHILD, ETIMEDOUT), with its own words in the timeline. */
static int do_start(struct engine *E, const struct fw_step *st, int64_t deadline, int *result)
{
	char dir[CASE_MAX_PATH], msg[FW_ERRLEN];
	struct eproc *p;
	int ret;

	if (proc_find(E, st->proc))
		return fw_err(E->err, sizeof(E->err), -EEXIST, "a process named '%s' already exists",
			      st->proc);
	if (E->nprocs == ENGINE_MAX_PROCS)
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many processes");
	p = &E->procs[E->nprocs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", st->proc);
	p->host = st->host;
	case_dir(E->c, dir, sizeof(dir));
	ret = program_start(&p->prog, st->proc, topo_ns_fd(E->topo, st->host), st->run, dir,
			    st->port, deadline, msg, sizeof(msg));
	if (ret < 0) {
		*result = ret == -ETIMEDOUT ? FW_EDEADLINE : ECHILD;
		add_event(E, EV_STEP, fw_now_ns(), st->host, "%s", msg);
	}
	return 0;
}

/* At teardown: a program still running is killed; what it wrote goes into
 * the timeline. */
static void engine_proc_end(struct engine *E, struct eproc *p)
{
	char report[2600];

	program_stop(&p->prog, report, sizeof(report));
	if (report[0] && p->prog.log_fd < 0 && p->prog.name[0])
		add_event(E, EV_STEP, fw_now_ns(), p->host, "'%s' %s", p->name, report);
}

/* Runs an action; returns its errno result (0 = success) in *result, or a
 * negative error of the engine itself. */
static int do_action(struct engine *E, const struct fw_step *st, int *result)
{
	int64_t deadline = fw_now_ns() + st->within_ns;
	struct sockaddr_storage ss;
	socklen_t len;
	struct esock *s = NULL;
	int fd = -1, ret;

	*result = 0;
	if (st->kind != STEP_LISTEN && st->kind != STEP_CONNECT && st->kind != STEP_INJECT &&
	    st->kind != STEP_ARM && st->kind != STEP_DISARM && st->kind != STEP_RELEASE &&
	    st->kind != STEP_FORK && st->kind != STEP_KILL && st->kind != STEP_START) {
		/* accept names the socket it creates; it takes from the listener. */
		s = sock_find(E, st->host, st->kind == STEP_ACCEPT ? "listen" : st->sock);
		if (!s || s->fd < 0)
			return fw_err(E->err, sizeof(E->err), -EBADF,
				      "%s has no open socket '%s' (create it with listen, connect or accept)",
				      fw_host_name(st->host), st->sock);
	}
	switch (st->kind) {
	case STEP_LISTEN:
	case STEP_CONNECT:
		fd = netns_socket(topo_ns_fd(E->topo, st->host), E->c->family,
				  SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return fw_err(E->err, sizeof(E->err), fd, "socket: %s", strerror(-fd));
		ret = sock_options(st, fd);
		if (ret < 0) {
			*result = -ret;
			break;
		}
		s = sock_new(E, st, fd);
		if (!s) {
			close(fd);
			return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many sockets");
		}
		if (st->kind == STEP_LISTEN) {
			s->listener = true;
			sockaddr_of(&E->addr[st->host], st->port, &ss, &len);
			if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0)
				*result = errno;
			else
				sock_learn_tuple(s);
			break;
		}
		if (st->from_port) {
			sockaddr_of(&E->addr[st->host], st->from_port, &ss, &len);
			if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
				*result = errno;
				break;
			}
		}
		sockaddr_of(&E->addr[st->peer], st->port, &ss, &len);
		if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
			*result = errno;
			break;
		}
		ret = wait_socket(E, fd, EPOLLOUT, deadline);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			/* the step's deadline, not the kernel's: the socket stays, still
			 * connecting, for the case to observe */
			*result = FW_EDEADLINE;
			sock_learn_tuple(s);
			s->rport = st->port; /* no peer name before the handshake ends */
			break;
		}
		len = sizeof(*result);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, result, &len);
		if (*result == 0)
			sock_learn_tuple(s);
		break;
	case STEP_ACCEPT:
		ret = wait_socket(E, s->fd, EPOLLIN, deadline);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			*result = FW_EDEADLINE;
			break;
		}
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			*result = errno;
			break;
		}
		s = sock_new(E, st, fd);
		if (!s) {
			close(fd);
			return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many sockets");
		}
		sock_learn_tuple(s);
		break;
	case STEP_SEND: {
		char buf[4096];
		uint32_t sent = 0;

		memset(buf, 'x', sizeof(buf));
		while (sent < st->bytes) {
			size_t chunk = st->bytes - sent < sizeof(buf) ? st->bytes - sent : sizeof(buf);
			ssize_t n = send(s->fd, buf, chunk, MSG_NOSIGNAL);

			if (n >= 0) {
				sent += (uint32_t)n;
				continue;
			}
			if (errno != EAGAIN) {
				*result = errno;
				break;
			}
			ret = wait_socket(E, s->fd, EPOLLOUT, fw_now_ns() + 2 * FW_NS_PER_SEC);
			if (ret <= 0) {
				*result = ret < 0 ? -ret : FW_EDEADLINE;
				break;
			}
		}
		break;
	}
	case STEP_RECV: {
		char buf[4096];
		uint32_t got = 0;

		for (;;) {
			ssize_t n = recv(s->fd, buf, sizeof(buf), 0);

			if (n > 0) {
				got += (uint32_t)n;
				if (!st->eof && got >= st->bytes)
					break;
				continue;
			}
			if (n == 0) {
				if (!st->eof)
					*result = EPIPE; /* the stream ended before the bytes came */
				break;
			}
			if (errno != EAGAIN) {
				*result = errno;
				break;
			}
			ret = wait_socket(E, s->fd, EPOLLIN | EPOLLRDHUP, deadline);
			if (ret < 0)
				return ret;
			if (ret == 0) {
				*result = FW_EDEADLINE;
				break;
			}
		}
		break;
	}
	case STEP_SHUTDOWN:
		if (shutdown(s->fd, SHUT_WR) < 0)
			*result = errno;
		break;
	case STEP_CLOSE:
		if (close(s->fd) < 0)
			*result = errno;
		s->fd = -1;
		break;
	case STEP_SETSOCKOPT:
		ret = sock_options(st, s->fd);
		if (ret < 0)
			*result = -ret;
		break;
	case STEP_INJECT:
		return -ENOSYS; /* handled by do_inject */
	case STEP_ARM:
	case STEP_DISARM:
		fault_set_arm(E->faults, (size_t)st->fault, st->kind == STEP_ARM);
		break;
	case STEP_RELEASE:
		intercept_release_rule(E->ic, st->fault, INT64_MAX, on_intercept, E);
		break;
	case STEP_FORK:
		return do_fork(E, st, result);
	case STEP_KILL:
		return do_kill(E, st, deadline, result);
	case STEP_START:
		return do_start(E, st, deadline, result);
	case STEP_EXPECT_EXIT:
	case STEP_EXPECT_SEGMENT:
	case STEP_EXPECT_NO_SEGMENT:
	case STEP_EXPECT_STATE:
	case STEP_EXPECT_GONE:
	case STEP_WAIT:
	case STEP_EXPECT_COUNTER:
	case STEP_EXPECT_SYSCTL:
	case STEP_EXPECT_CONNTRACK:
		return -EINVAL;
	}
	return 0;
}

/* Value of an injection expression from what the wire has shown. */
static int expr_value(struct engine *E, const struct flow *f, const struct fw_expr *x,
		      enum fw_host sender, enum fw_host target, uint32_t number_base,
		      uint32_t *out)
{
	const char *missing = NULL;

	switch (x->base) {
	case EXPR_NUMBER:
		*out = number_base + (uint32_t)x->offset;
		return 0;
	case EXPR_RCV_NXT:
		if (!f->has_ack[target])
			missing = "rcv_nxt: the target has sent no ACK yet";
		else
			*out = f->ack[target] + (uint32_t)x->offset;
		break;
	case EXPR_SND_NXT:
		if (!f->has_nxt[target])
			missing = "snd_nxt: the target has sent nothing yet";
		else
			*out = f->snd_nxt[target] + (uint32_t)x->offset;
		break;
	case EXPR_TSVAL:
		if (!f->has_ts[sender])
			missing = "tsval: the sender has sent no timestamp option";
		else
			*out = f->tsval[sender] + (uint32_t)x->offset;
		break;
	case EXPR_TSECR:
		if (!f->has_ts[target])
			missing = "tsecr: the target has sent no timestamp option";
		else
			*out = f->tsval[target] + (uint32_t)x->offset;
		break;
	case EXPR_PREV_SND_NXT:
		if (!f->has_prev_nxt[target])
			missing = "prev_snd_nxt: no earlier incarnation of this 4-tuple";
		else
			*out = f->prev_snd_nxt[target] + (uint32_t)x->offset;
		break;
	case EXPR_PREV_RCV_NXT:
		if (!f->has_prev_ack[target])
			missing = "prev_rcv_nxt: no earlier incarnation of this 4-tuple";
		else
			*out = f->prev_ack[target] + (uint32_t)x->offset;
		break;
	case EXPR_RCV_WND_END: {
		/* RFC 7323 2.2: the window of a non-SYN segment is scaled only
		 * when both SYNs carried the option. */
		int shift = f->wscale[target] >= 0 && f->wscale[sender] >= 0 ? f->wscale[target] : 0;

		if (!f->has_ack[target])
			missing = "rcv_wnd_end: the target has sent no ACK yet";
		else
			*out = f->ack[target] + ((uint32_t)f->win[target] << shift) +
			       (uint32_t)x->offset;
		break;
	}
	}
	if (missing)
		return fw_err(E->err, sizeof(E->err), -ENODATA, "%s", missing);
	return 0;
}

/* The target's reaction can only be judged once the injected segment has
 * reached it: wait (bounded) until capture sees it on the target's leg. A
 * fault may drop it on the way; then there is nothing more to wait for. */
static int wait_injected_arrival(struct engine *E, const struct seg *q)
{
	int64_t deadline = fw_now_ns() + FW_NS_PER_SEC;
	size_t i;
	int ret;

	for (;;) {
		bool pending = false;

		for (i = 0; i < E->npending_inject; i++)
			if (E->pending_inject[i].seg.seq == q->seq &&
			    E->pending_inject[i].seg.flags == q->flags &&
			    E->pending_inject[i].seg.sport == q->sport)
				pending = true;
		if (!pending || fw_now_ns() >= deadline)
			return 0;
		ret = pump(E, deadline);
		if (ret < 0)
			return ret;
	}
}

static int do_inject(struct engine *E, const struct fw_step *st)
{
	static const struct fw_expr def_seq = { true, EXPR_RCV_NXT, 0 };
	static const struct fw_expr def_ack = { true, EXPR_SND_NXT, 0 };
	static const struct fw_expr def_tsval = { true, EXPR_TSVAL, 1 };
	static const struct fw_expr def_tsecr = { true, EXPR_TSECR, 0 };
	enum fw_host h = st->host, p = st->peer;
	struct inject_spec spec;
	struct fw_event ev, *added;
	struct flow *f;
	int ret;

	if (E->cur_flow < 0)
		return fw_err(E->err, sizeof(E->err), -ENODATA,
			      "no connection has been seen on the wire to aim at");
	f = &E->flows[E->cur_flow];
	memset(&spec, 0, sizeof(spec));
	spec.src = E->addr[h];
	spec.dst = E->addr[p];
	spec.sport = f->port[h];
	spec.dport = f->port[p];
	spec.flags = st->flags_value;
	spec.win = st->win >= 0 ? (uint16_t)st->win : 65535;
	spec.payload_len = st->len > 0 ? (uint32_t)st->len : 0;
	ret = expr_value(E, f, st->seq.set ? &st->seq : &def_seq, h, p, f->isn[h], &spec.seq);
	if (ret < 0)
		return ret;
	if (spec.flags & SEG_ACK) {
		ret = expr_value(E, f, st->ack.set ? &st->ack : &def_ack, h, p, f->isn[p], &spec.ack);
		if (ret < 0)
			return ret;
	}
	if (st->ts) {
		spec.has_ts = true;
		ret = expr_value(E, f, st->tsval.set ? &st->tsval : &def_tsval, h, p, 0, &spec.tsval);
		if (ret < 0)
			return ret;
		ret = expr_value(E, f, st->tsecr.set ? &st->tsecr : &def_tsecr, h, p, 0, &spec.tsecr);
		if (ret < 0)
			return ret;
	}
	ret = inject_send(E->inj[h], &spec, E->err, sizeof(E->err));
	if (ret < 0)
		return ret;
	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_INJECT;
	ev.t_ns = fw_now_ns() - E->t0;
	ev.step = E->step;
	ev.host = h;
	ev.rule = -1;
	ev.seg.src = spec.src;
	ev.seg.dst = spec.dst;
	ev.seg.sport = spec.sport;
	ev.seg.dport = spec.dport;
	ev.seg.seq = spec.seq;
	ev.seg.ack = spec.ack;
	ev.seg.flags = spec.flags;
	ev.seg.win = spec.win;
	ev.seg.len = spec.payload_len;
	ev.seg.has_ts = spec.has_ts;
	ev.seg.tsval = spec.tsval;
	ev.seg.tsecr = spec.tsecr;
	ev.seg.wscale = -1;
	seg_text(E, h, &ev.seg, &ev, "inject ");
	added = timeline_add(&E->res->tl, &ev);
	if (!added || E->npending_inject == ENGINE_MAX_PENDING_INJECT)
		return 0;
	E->pending_inject[E->npending_inject].seg = ev.seg;
	E->pending_inject[E->npending_inject].seen_sent = false;
	E->pending_inject[E->npending_inject].seen_arrived = false;
	E->npending_inject++;
	return wait_injected_arrival(E, &ev.seg);
}

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

static bool seg_matches(struct engine *E, const struct fw_step *st, const struct fw_event *e)
{
	/* as sent on the sender's leg, or as it reached the other host's */
	if (e->kind != EV_SEGMENT || e->sent == st->arrived || e->injected || e->host != st->host)
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

		if (e->kind != EV_SEGMENT || !e->sent || e->host != st->host ||
		    e->t_ns < E->cursor_t - E->t0)
			continue;
		fw_duration_format(e->t_ns, t, sizeof(t));
		append(buf, len, "%s%s at %s", n++ ? "; " : "", e->text, t);
		if (st->isn.set) { /* the numbers behind the relative ones */
			const struct flow *f = flow_for(E, e->host, &e->seg, false);

			append(buf, len, " (absolute seq %u", e->seg.seq);
			if (f && f->has_prev_nxt[e->host])
				append(buf, len, "; the old snd_nxt was %u, the old rcv_nxt %u",
				       f->prev_snd_nxt[e->host], f->prev_ack[e->host]);
			append(buf, len, ")");
		}
	}
	if (!n)
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

static int expect_segment(struct engine *E, const struct fw_step *st)
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
		describe_seen(E, st, seen, sizeof(seen));
		return step_fail(E, st, "%s", seen);
	}
	E->cursor_idx = (size_t)idx + 1;
	E->step_end = E->res->tl.ev[idx].t_ns + E->t0;
	expect_pass(E, st);
	return 0;
}

static int expect_no_segment(struct engine *E, const struct fw_step *st)
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

static int expect_state(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns;
	const struct esock *s = sock_find(E, st->host, st->sock);
	const struct sock_info *si = NULL;
	struct esock by_port;
	bool want_gone = st->kind == STEP_EXPECT_GONE;
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
	for (;;) {
		ret = probe_host(E, st->host);
		if (ret < 0)
			return ret;
		si = sock_state(E, s);
		if (want_gone ? si == NULL :
		    step_checks_timer(st) ?
				(si && si->state == st->state && timer_ok(st, si)) :
				((si && si->state == st->state) || state_seen_since(E, s, st->state)))
			break;
		if (fw_now_ns() >= deadline) {
			/* It goes when its timer fires at the earliest: lateness must
			 * be that large to explain it (a socket with no timer waits
			 * for its application). */
			if (want_gone)
				E->fail_margin_ns = si->timer ? (int64_t)si->expires_ms * FW_NS_PER_MS :
								INT64_MAX;
			if (want_gone)
				return step_fail(E, st, "still %s (timer %s, %ums left)",
						 tcp_state_name(si->state), sock_timer_name(si->timer),
						 si->expires_ms);
			if (si && step_checks_timer(st)) {
				E->fail_margin_ns = timer_margin(st, si);
				return step_fail(E, st, "%s, timer %s with %ums left",
						 tcp_state_name(si->state), sock_timer_name(si->timer),
						 si->expires_ms);
			}
			return step_fail(E, st, "%s", si ? tcp_state_name(si->state) : "the socket is gone (CLOSED)");
		}
		ret = pump_until_next_poll(E, deadline);
		if (ret < 0)
			return ret;
	}
	expect_pass(E, st);
	return 0;
}

/* A counter's change since the case began, re-read until it matches or the
 * deadline passes (the kernel counts as it handles segments). */
static int expect_counter(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = E->cursor_t + st->within_ns, before, now_v = 0;
	struct counter_set now = { 0 };
	int ret;

	if (counters_get(&E->counters0[st->host], st->counter, &before) < 0) {
		fw_err(E->err, sizeof(E->err), -ENOENT,
		       "this kernel has no counter '%s' in /proc/net/snmp or /proc/net/netstat",
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
static int expect_sysctl(struct engine *E, const struct fw_step *st)
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

static int expect_conntrack(struct engine *E, const struct fw_step *st)
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
static int expect_exit(struct engine *E, const struct fw_step *st)
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

/* ---- setup and teardown ------------------------------------------------------ */

/* The state of the sending socket when it sent s (queued at sent_ns), from
 * the wire alone, for an established connection: whether it had sent its
 * FIN (the queue shows a sender's segments in order, this one included),
 * whether it had received the peer's FIN (s's own ack field says), and
 * whether its FIN was acknowledged before sent_ns (capture time). A probe
 * made when the consumer gets to the segment says what the socket is now,
 * which under load can be several states later. -1: not derivable (a SYN,
 * a connection whose handshake was not seen). */
static int flow_state_at(const struct flow *f, enum fw_host from, const struct seg *s,
			 int64_t sent_ns)
{
	enum fw_host peer = other(from);
	bool rcvd_fin, fin_acked;

	if ((s->flags & SEG_SYN) || !f->has_isn[from] || !f->has_isn[peer])
		return -1;
	rcvd_fin = f->has_fin[peer] && (s->flags & SEG_ACK) && seq_after(s->ack, f->fin_seq[peer]);
	/* After its FIN: the FIN itself, or anything past it (a data segment
	 * retransmitted from before it ends at or before fin_seq). */
	if (!f->has_fin[from] || (!(s->flags & SEG_FIN) && !seq_after(s->seq + s->len, f->fin_seq[from])))
		return rcvd_fin ? FW_TCP_CLOSE_WAIT : FW_TCP_ESTABLISHED;
	/* Its FIN acknowledged the peer's: the passive closer. */
	if (f->has_fin[peer] && seq_after(f->fin_ack[from], f->fin_seq[peer]))
		return FW_TCP_LAST_ACK;
	fin_acked = f->fin_acked_ns[from] && f->fin_acked_ns[from] <= sent_ns;
	if (rcvd_fin)
		return fin_acked ? FW_TCP_TIME_WAIT : FW_TCP_CLOSING;
	return fin_acked ? FW_TCP_FIN_WAIT_2 : FW_TCP_FIN_WAIT_1;
}

/* What the fault matcher needs beyond the segment, as of when it was sent:
 * its sequence number relative to the sender's ISN and (only when a rule
 * asks) the sending socket's state then. The queue hands us a sender's
 * segments in order, so each FIN is learned here before what follows it. */
static void engine_view(void *ctx, enum fw_host from, const struct seg *s, int64_t sent_ns,
			struct fault_view *out)
{
	struct engine *E = ctx;
	struct flow *f;
	struct sock_info *socks = NULL;
	size_t n = 0, i;
	char err[FW_ERRLEN];

	if (from != HOST_CLIENT && from != HOST_SERVER)
		return;
	f = flow_for(E, from, s, false);
	if (f && f->has_isn[from]) {
		out->seq_known = true;
		out->rel_seq = seq_rel(s->seq, f->isn[from]);
		flow_learn_fin(f, from, s);
	}
	if (!fault_set_needs_state(E->faults))
		return;
	out->state = f ? flow_state_at(f, from, s, sent_ns) : -1;
	/* Not derivable from the wire: the socket's state now is the best left. */
	if (out->state >= 0 || sockprobe_dump(E->probe[from], &socks, &n, err, sizeof(err)) < 0)
		return;
	for (i = 0; i < n; i++)
		if (socks[i].sport == s->sport && socks[i].dport == s->dport &&
		    fw_addr_equal(&socks[i].dst, &s->dst))
			out->state = socks[i].state;
	free(socks);
}

/* Real interfaces serve one case at a time, across every finwave on the
 * machine: each is locked by binding an abstract socket named after it (no
 * file to leave behind; it is released when the case process ends, however).
 * A bind has no event to wait on, so the wait re-tries every 10 ms. */
static int engine_lock_interfaces(struct engine *E)
{
	int64_t deadline = fw_now_ns() + ENGINE_IF_LOCK_NS;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		const char *name = E->c->dut.interfaces[i];
		socklen_t len;

		E->if_lock[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (E->if_lock[i] < 0)
			return fw_err(E->err, sizeof(E->err), -errno, "lock %s: %s", name, strerror(errno));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				  (size_t)snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
						   "finwave-dut-if-%s", name));
		while (bind(E->if_lock[i], (struct sockaddr *)&sa, len) < 0) {
			struct timespec nap = { 0, 10 * 1000 * 1000 };

			if (errno != EADDRINUSE || fw_now_ns() >= deadline)
				return fw_err(E->err, sizeof(E->err), -EBUSY,
					      "dut interface %s is in use by another case for over %llds",
					      name, (long long)(ENGINE_IF_LOCK_NS / FW_NS_PER_SEC));
			nanosleep(&nap, NULL);
		}
	}
	return 0;
}

/* The box: its ruleset, setup command and program, then its conntrack
 * table when a step reads it. */
/* The case's sysctls, of the endpoints and wires or of the box. */
static int engine_sysctls(struct engine *E, bool box)
{
	size_t i;
	int ret;

	for (i = 0; i < E->c->nsysctls; i++) {
		const struct fw_sysctl *s = &E->c->sysctls[i];
		char msg[FW_ERRLEN];

		if ((s->host == HOST_DUT) != box)
			continue;
		ret = topo_sysctl_set(E->topo, s->host, s->name, s->value, msg, sizeof(msg));
		if (ret < 0)
			return fw_err(E->err, sizeof(E->err), ret, "%s:%d: %s", E->c->path, s->line,
				      msg);
	}
	return 0;
}

static int engine_dut_up(struct engine *E)
{
	size_t i;
	int ret;

	ret = dut_load_ruleset(&E->c->dut, topo_ns_fd(E->topo, HOST_DUT), E->err, sizeof(E->err));
	if (ret == 0)
		ret = engine_sysctls(E, true);
	if (ret < 0)
		return ret;
	ret = dut_start(&E->dut, &E->c->dut, topo_ns_fd(E->topo, HOST_DUT),
			fw_now_ns() + ENGINE_DUT_READY_NS, E->err, sizeof(E->err));
	if (ret < 0)
		return ret;
	for (i = 0; i < E->c->nsteps; i++)
		if (E->c->steps[i].kind == STEP_EXPECT_CONNTRACK)
			return conntrack_open(&E->ct, topo_ns_fd(E->topo, HOST_DUT), E->err,
					      sizeof(E->err));
	return 0;
}

/* How the box's program ended and what it wrote, into the timeline. */
static void engine_dut_down(struct engine *E)
{
	char report[2600];

	dut_stop(E->dut, report, sizeof(report));
	E->dut = NULL;
	if (report[0])
		add_event(E, EV_STEP, fw_now_ns(), HOST_DUT, "dut %s", report);
	conntrack_free(E->ct);
	E->ct = NULL;
}

static int engine_setup(struct engine *E)
{
	static const uint32_t cap_tags[] = { TAG_CAPTURE_CLIENT, TAG_CAPTURE_SERVER };
	struct intercept_config icfg;
	struct epoll_event ev;
	int h, ret;

	if (E->c->dut.interfaces[0][0]) { /* an external box on two real interfaces */
		const char *const ext[2] = { E->c->dut.interfaces[0], E->c->dut.interfaces[1] };

		ret = engine_lock_interfaces(E);
		if (ret == 0)
			ret = topo_build_ext(&E->topo, &topo_desc_external, ext, E->err,
					     sizeof(E->err));
	} else {
		ret = topo_build(&E->topo, E->c->dut.present ? &topo_desc_dut : &topo_desc_classic,
				 E->err, sizeof(E->err));
	}
	if (ret < 0)
		return ret;
	for (h = 0; h < HOST_COUNT; h++)
		topo_addr(E->topo, (enum fw_host)h, E->c->family, &E->addr[h]);
	/* the box's sysctls once its ruleset is in (engine_dut_up): loading it
	 * is what brings nf_conntrack, and its sysctls, into the namespace */
	ret = engine_sysctls(E, false);
	if (ret < 0)
		return ret;
	if (E->c->dut.present && !E->c->dut.interfaces[0][0]) {
		ret = engine_dut_up(E);
		if (ret < 0)
			return ret;
	}
	E->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (E->epfd < 0)
		return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
	{
		const int ns_fds[2] = { topo_ns_fd(E->topo, HOST_CLIENT),
					topo_ns_fd(E->topo, HOST_SERVER) };
		const char *const ifnames[2] = { topo_ifname(E->topo, HOST_CLIENT),
						 topo_ifname(E->topo, HOST_SERVER) };

		ret = capture_open_all(E->cap, ns_fds, ifnames, 2, E->err, sizeof(E->err));
		if (ret < 0)
			return ret;
	}
	for (h = HOST_CLIENT; h <= HOST_SERVER; h++) {
		ev.events = EPOLLIN;
		ev.data.u32 = cap_tags[h];
		if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, capture_fd(E->cap[h]), &ev) < 0)
			return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
		ret = inject_open(&E->inj[h], topo_ns_fd(E->topo, (enum fw_host)h), E->c->family,
				  E->err, sizeof(E->err));
		if (ret < 0)
			return ret;
		ret = sockprobe_open(&E->probe[h], topo_ns_fd(E->topo, (enum fw_host)h), E->err,
				     sizeof(E->err));
		if (ret < 0)
			return ret;
	}
	ret = fault_set_create(&E->faults, E->c->faults, E->c->nfaults);
	if (ret < 0)
		return fw_err(E->err, sizeof(E->err), ret, "out of memory");
	if (E->c->nfaults) {
		memset(&icfg, 0, sizeof(icfg));
		icfg.wire_ns_fd = topo_ns_fd(E->topo, HOST_WIRE);
		icfg.in_ifname[HOST_CLIENT] = topo_wire_ifname(E->topo, HOST_CLIENT);
		icfg.in_ifname[HOST_SERVER] = topo_wire_ifname(E->topo, HOST_SERVER);
		icfg.faults = E->faults;
		icfg.view = engine_view;
		icfg.view_ctx = E;
		icfg.namespace_dies = true; /* topo_free() right after intercept_free() */
		ret = intercept_open(&E->ic, &icfg, E->err, sizeof(E->err));
		if (ret < 0)
			return ret;
		ev.events = EPOLLIN;
		ev.data.u32 = TAG_INTERCEPT;
		if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, intercept_fd(E->ic), &ev) < 0)
			return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
		ev.data.u32 = TAG_INTERCEPT_TIMER;
		if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, intercept_timer_fd(E->ic), &ev) < 0)
			return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
	}
	for (h = 0; h < HOST_COUNT; h++) {
		/* the endpoints, and the box when it is a namespace of ours */
		if ((h != HOST_CLIENT && h != HOST_SERVER && h != HOST_DUT) ||
		    topo_ns_fd(E->topo, (enum fw_host)h) < 0)
			continue;
		ret = counters_read(topo_ns_fd(E->topo, (enum fw_host)h), &E->counters0[h], E->err,
				    sizeof(E->err));
		if (ret < 0)
			return ret;
	}
	return probe_all(E);
}

static void engine_teardown(struct engine *E)
{
	size_t i;
	int h;

	/* Stop watching before the sockets close: their final RSTs are not
	 * part of the case. */
	intercept_free(E->ic);
	engine_dut_down(E);
	for (i = 0; i < E->nprocs; i++)
		engine_proc_end(E, &E->procs[i]);
	capture_free_all(E->cap, 2);
	for (h = HOST_CLIENT; h <= HOST_SERVER; h++) {
		inject_free(E->inj[h]);
		sockprobe_free(E->probe[h]);
		free(E->snap[h].socks);
	}
	for (h = 0; h < HOST_COUNT; h++)
		counter_set_clear(&E->counters0[h]);
	for (i = 0; i < E->nsocks; i++)
		if (E->socks[i].fd >= 0)
			close(E->socks[i].fd);
	fault_set_free(E->faults);
	if (E->epfd >= 0)
		close(E->epfd);
	topo_free(E->topo); /* an external box's interfaces go back first... */
	for (i = 0; i < 2; i++) /* ...then another case may take them */
		if (E->if_lock[i] >= 0)
			close(E->if_lock[i]);
}

/* Every fault a case declares must act at least once, unless optional:
 * a fault that never fired proves nothing. */
static void check_faults_fired(struct engine *E)
{
	size_t i;

	for (i = 0; i < fault_set_count(E->faults); i++) {
		const struct fault_rule *r = fault_set_rule(E->faults, i);

		if (r->optional || fault_set_fired(E->faults, i) > 0)
			continue;
		E->res->status = CASE_FAIL;
		snprintf(E->res->message, sizeof(E->res->message),
			 "%s: fault '%s' never acted (it matched %u segment(s); its window starts at occurrence %u): the case proves nothing",
			 E->c->path, r->name, fault_set_matched(E->faults, i), r->nth);
		append_context(E);
		return;
	}
}

static int run_step_expectation(struct engine *E, const struct fw_step *st);

/* on: wait until a segment from trig_from with the given flags has reached
 * the action's host (captured arriving on its leg) since the last action
 * began (mark that one 'together' so nothing delays the wait). */
static int wait_trigger(struct engine *E, const struct fw_step *st)
{
	int64_t deadline = fw_now_ns() + st->within_ns;
	size_t from = 0, i;
	char flags[16];
	int ret = 0;

	for (;;) {
		for (i = from; i < E->res->tl.n; i++) {
			const struct fw_event *e = &E->res->tl.ev[i];

			if (e->kind == EV_SEGMENT && !e->sent && e->host == st->trig_from &&
			    e->t_ns >= E->cursor_t - E->t0 &&
			    (e->seg.flags & st->trig_mask) == st->trig_value)
				return 0;
		}
		from = E->res->tl.n;
		if (fw_now_ns() >= deadline)
			break;
		ret = pump(E, deadline);
		if (ret < 0)
			return ret;
	}
	seg_flags_format(st->trig_value, flags, sizeof(flags));
	return step_fail(E, st, "no %s from %s reached %s, so the action never ran", flags,
			 fw_host_name(st->trig_from), fw_host_name(st->host));
}

/* An expectation whose window starts at an earlier marked step: its clock
 * and its search start there, and the run's own clock is left as it was. */
static int run_since(struct engine *E, const struct fw_step *st, size_t at)
{
	int64_t saved_t = E->cursor_t;
	size_t saved_idx = E->cursor_idx, i;
	int ret;

	for (i = 0; i < at && strcmp(E->c->steps[i].mark, st->since) != 0; i++)
		;
	if (i == at || !E->step_started)
		return step_error(E, st, -ENOENT, "the marked step did not run in this run");
	E->cursor_t = E->step_started[i];
	E->cursor_idx = 0;
	ret = run_step_expectation(E, st);
	if (st->kind == STEP_EXPECT_SEGMENT || st->kind == STEP_EXPECT_NO_SEGMENT)
		E->cursor_idx = saved_idx; /* its match does not move the others' search */
	else
		E->cursor_idx = E->cursor_idx > saved_idx ? E->cursor_idx : saved_idx;
	E->cursor_t = saved_t;
	return ret;
}

/* Expectations by kind (the step loop below runs actions itself). */
static int run_step_expectation(struct engine *E, const struct fw_step *st)
{
	switch (st->kind) {
	case STEP_EXPECT_SEGMENT:
		return expect_segment(E, st);
	case STEP_EXPECT_NO_SEGMENT:
		return expect_no_segment(E, st);
	case STEP_EXPECT_STATE:
	case STEP_EXPECT_GONE:
		return expect_state(E, st);
	case STEP_EXPECT_COUNTER:
		return expect_counter(E, st);
	case STEP_EXPECT_SYSCTL:
		return expect_sysctl(E, st);
	case STEP_EXPECT_CONNTRACK:
		return expect_conntrack(E, st);
	case STEP_EXPECT_EXIT:
		return expect_exit(E, st);
	case STEP_LISTEN:
	case STEP_CONNECT:
	case STEP_ACCEPT:
	case STEP_SEND:
	case STEP_RECV:
	case STEP_SHUTDOWN:
	case STEP_CLOSE:
	case STEP_SETSOCKOPT:
	case STEP_INJECT:
	case STEP_ARM:
	case STEP_DISARM:
	case STEP_RELEASE:
	case STEP_FORK:
	case STEP_KILL:
	case STEP_WAIT:
	case STEP_START:
		break;
	}
	return -EINVAL;
}

/* An action step started at `started`: how late after the previous step
 * ended (the first step has nothing before it). */
static void step_late(struct engine *E, struct fw_event *ev, int64_t started)
{
	int64_t late = E->step_end ? started - E->step_end : 0;

	if (late < 0)
		late = 0;
	late_note(E, LATE_STEP, late);
	if (!ev)
		return;
	ev->late_ns = late;
	late_suffix(ev, "started late by");
}

static int run_steps(struct engine *E)
{
	size_t i;
	int ret;

	for (i = 0; i < E->c->nsteps; i++) {
		const struct fw_step *st = &E->c->steps[i];
		int result = 0;

		E->step = (int)i;
		E->err[0] = '\0';
		/* Steps decided at once (a state already seen) do not wait on the
		 * event loop: serve the queue between them, or every segment of a
		 * sender with a rule would wait for the next wait. */
		if (E->ic) {
			ret = pump_fd(E, TAG_INTERCEPT);
			if (ret < 0)
				return step_error(E, st, ret, "engine failure");
		}
		if (E->step_started)
			E->step_started[i] = fw_now_ns();
		if (st->since[0])
			ret = run_since(E, st, i);
		else switch (st->kind) {
		case STEP_EXPECT_SEGMENT:
			ret = expect_segment(E, st);
			break;
		case STEP_EXPECT_NO_SEGMENT:
			ret = expect_no_segment(E, st);
			break;
		case STEP_EXPECT_STATE:
		case STEP_EXPECT_GONE:
			ret = expect_state(E, st);
			break;
		case STEP_EXPECT_COUNTER:
			ret = expect_counter(E, st);
			break;
		case STEP_EXPECT_SYSCTL:
			ret = expect_sysctl(E, st);
			break;
		case STEP_EXPECT_CONNTRACK:
			ret = expect_conntrack(E, st);
			break;
		case STEP_EXPECT_EXIT:
			ret = expect_exit(E, st);
			break;
		case STEP_WAIT: {
			/* everything keeps being recorded; the clock of the next
			 * expectations starts when the wait ends */
			int64_t until = fw_now_ns() + st->within_ns;

			add_event(E, EV_STEP, fw_now_ns(), st->host, "%s", st->text);
			ret = 0;
			while (ret >= 0 && fw_now_ns() < until)
				ret = pump(E, until);
			E->cursor_t = fw_now_ns();
			E->cursor_idx = E->res->tl.n;
			memset(&E->win_late, 0, sizeof(E->win_late));
			break;
		}
		case STEP_INJECT: {
			struct fw_event *ev;

			E->cursor_t = fw_now_ns();
			memset(&E->win_late, 0, sizeof(E->win_late));
			ret = do_inject(E, st);
			if (ret < 0)
				return step_error(E, st, ret, "cannot inject");
			ev = add_event(E, EV_STEP, E->cursor_t, st->host, "%s", st->text);
			step_late(E, ev, E->cursor_t);
			ret = drain(E);
			break;
		}
		case STEP_LISTEN:
		case STEP_CONNECT:
		case STEP_ACCEPT:
		case STEP_SEND:
		case STEP_RECV:
		case STEP_SHUTDOWN:
		case STEP_CLOSE:
		case STEP_SETSOCKOPT:
		case STEP_ARM:
		case STEP_DISARM:
		case STEP_RELEASE:
		case STEP_FORK:
		case STEP_KILL:
		case STEP_START: {
			int64_t started;
			struct fw_event *ev;

			if (st->has_trigger) {
				ret = wait_trigger(E, st);
				if (ret != 0)
					break;
			}
			started = fw_now_ns();
			E->cursor_t = started;
			memset(&E->win_late, 0, sizeof(E->win_late));
			ret = do_action(E, st, &result);
			if (ret < 0)
				return step_error(E, st, ret, "cannot run the action");
			ev = add_event(E, EV_STEP, started, st->host, "%s: %s", st->text,
				       fw_errno_name(result));
			if (ev)
				ev->err = result;
			step_late(E, ev, started);
			/* Probe right away: transient states (FIN_WAIT_1) live only
			 * until the peer's answer arrives; but not between two actions
			 * that must start together. */
			ret = st->together ? 0 : drain(E);
			if (ret == 0 && result != st->expect_errno)
				ret = step_fail(E, st, "the call returned %s, expected %s",
						fw_errno_name(result), fw_errno_name(st->expect_errno));
			break;
		}
		}
		if (ret < 0)
			return step_error(E, st, ret, "engine failure");
		if (ret > 0)
			return ret; /* decided: failed */
		/* A segment expectation ended when its segment (or its window's
		 * end) came, which it set; every other step ends now. */
		if (st->kind != STEP_EXPECT_SEGMENT && st->kind != STEP_EXPECT_NO_SEGMENT)
			E->step_end = fw_now_ns();
	}
	return 0;
}

int engine_run(const struct fw_case *c, struct case_result *res)
{
	struct engine *E = calloc(1, sizeof(*E));
	int ret;

	result_init(res, c);
	if (!E)
		return -ENOMEM;
	E->c = c;
	E->res = res;
	E->epfd = -1;
	E->if_lock[0] = E->if_lock[1] = -1;
	E->cur_flow = -1;
	E->step = -1;
	E->t0 = fw_now_ns();
	E->cursor_t = E->t0;
	{
		const char *stall = getenv("FINWAVE_TEST_QUEUE_STALL_MS");

		if (stall && atoi(stall) > 0 && atoi(stall) <= 1000)
			E->test_stall_ns = atoi(stall) * FW_NS_PER_MS;
	}
	E->step_started = calloc(c->nsteps + 1, sizeof(*E->step_started));
	ret = E->step_started ? engine_setup(E) : -ENOMEM;
	if (ret < 0) {
		res->status = CASE_ERROR;
		snprintf(res->message, sizeof(res->message), "%s: setup failed: %s", c->path, E->err);
		goto out;
	}
	res->status = CASE_PASS;
	res->attempts = 1;
	ret = run_steps(E);
	if (ret == 0) {
		ret = drain(E);
		if (ret == 0)
			check_faults_fired(E);
	}
out:
	engine_teardown(E);
	timeline_sort(&res->tl);
	res->duration_ns = fw_now_ns() - E->t0;
	free(E->step_started);
	free(E);
	return 0;
}
