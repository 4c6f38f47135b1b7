/* engine_flow: what the wire has shown of each connection (ISNs, next
 * numbers, incarnations) and the sockets sock_diag shows. */
#include "engine_int.h"
#include "conntrack.h"

/* ---- flows ------------------------------------------------------------------ */

/* A flow's key in flow_map: the client host's port and the server host's,
 * and whether the server side is the box's own address (a proxy's front
 * connection): a proxy's two connections can have the same two ports (each
 * namespace picks its ephemeral ports on its own), and must not be one flow.
 * One address comparison per segment. */
static uint64_t flow_key(const struct engine *E, enum fw_host sender, const struct seg *s)
{
	uint16_t cport = sender == HOST_CLIENT ? s->sport : s->dport;
	uint16_t sport = sender == HOST_CLIENT ? s->dport : s->sport;
	const struct fw_addr *saddr = sender == HOST_CLIENT ? &s->dst : &s->src;
	uint64_t to_box = E->c->dut.present && fw_addr_equal(saddr, &E->addr[HOST_DUT]);

	return conn_key(HOST_CLIENT, cport, sport) | to_box << 40;
}

struct flow *flow_for(struct engine *E, enum fw_host sender, const struct seg *s,
			     bool create)
{
	uint16_t cport = sender == HOST_CLIENT ? s->sport : s->dport;
	uint16_t sport = sender == HOST_CLIENT ? s->dport : s->sport;
	uint64_t key = flow_key(E, sender, s);
	uint32_t i;

	if (portmap_get(&E->flow_map, key, &i))
		return &E->flows[i];
	if (!create || E->nflows == E->flows_cap ||
	    portmap_put(&E->flow_map, key, (uint32_t)E->nflows) < 0)
		return NULL;
	memset(&E->flows[E->nflows], 0, sizeof(E->flows[0]));
	E->flows[E->nflows].port[HOST_CLIENT] = cport;
	E->flows[E->nflows].port[HOST_SERVER] = sport;
	return &E->flows[E->nflows++];
}

/* A key of isn_map: never 0, the empty slot. */
static uint64_t isn_key(enum fw_host opener, uint32_t isn)
{
	return ((uint64_t)(opener + 1) << 32) | isn;
}

/* A client's SYN under ports no flow has and an ISN no endpoint sent
 * (something on the way shifted it): the flow whose original tuple the box's
 * conntrack entry with this SYN as its reply direction's mirror holds. Only
 * a Linux box of ours, no proxy (its SYNs are its own), and at most
 * ENGINE_CT_FLOW_LOOKUPS dumps a case. */
static bool flow_nat_from_conntrack(struct engine *E, enum fw_host sender, const struct seg *s,
				    uint32_t *idx)
{
	struct ct_entry *v = NULL;
	struct seg orig;
	char err[FW_ERRLEN];
	size_t n = 0, i;
	bool found = false;

	if (sender != HOST_CLIENT || !E->c->dut.present || E->c->dut.run[0] || E->ct_done ||
	    topo_ns_fd(E->topo, HOST_DUT) < 0 || E->ct_flow_lookups >= ENGINE_CT_FLOW_LOOKUPS)
		return false;
	E->ct_flow_lookups++;
	if ((!E->ct && conntrack_open(&E->ct, topo_ns_fd(E->topo, HOST_DUT), err, sizeof(err)) < 0) ||
	    conntrack_dump(E->ct, E->c->family, &v, &n, err, sizeof(err)) < 0)
		return false; /* no table to read: the far side stays a flow of its own */
	for (i = 0; i < n && !found; i++) {
		const struct ct_entry *e = &v[i];

		/* the reply goes from where this SYN went to where it came from */
		if (e->reply_sport != s->dport || e->reply_dport != s->sport ||
		    !fw_addr_equal(&e->reply_src, &s->dst) || !fw_addr_equal(&e->reply_dst, &s->src))
			continue;
		memset(&orig, 0, sizeof(orig));
		orig.src = e->orig_src;
		orig.dst = e->orig_dst;
		orig.sport = e->orig_sport;
		orig.dport = e->orig_dport;
		found = portmap_get(&E->flow_map, flow_key(E, HOST_CLIENT, &orig), idx);
	}
	free(v);
	return found;
}

/* A SYN that opens a connection, seen where it arrives or leaving the box,
 * under ports the box translated (a source NAT that changes the client's
 * port, a DNAT to another port): the same SYN as one the opener sent (same
 * ISN, same window scale; a NAT changes neither, and a SYNPROXY's SYN to the
 * server carries the client's ISN too), so it is the same connection. Its
 * translated ports become an alias of that flow: whatever is seen under them
 * (the far host's segments, its leg's arrivals, the box's other side) is
 * the one flow. One lookup per SYN; a flow found under its own ports with
 * this ISN returns at once (no translation, or already learned). A 4-tuple
 * the NAT gives again to another connection moves to that one. A client's
 * SYN whose ISN no endpoint sent (shifted on the way) under unknown ports
 * is looked up in the box's conntrack instead (flow_nat_from_conntrack). */
void flow_learn_nat(struct engine *E, enum fw_host sender, const struct seg *s, int64_t t_abs,
		    const char *where)
{
	struct flow *f, *o;
	bool by_ct = false;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	uint32_t i;

	if ((s->flags & (SEG_SYN | SEG_ACK | SEG_RST)) != SEG_SYN)
		return;
	f = flow_for(E, sender, s, false);
	if (f && f->has_isn[sender] && f->isn[sender] == s->seq)
		return;
	if (!portmap_get(&E->isn_map, isn_key(sender, s->seq), &i)) {
		/* the ISN changed on the way: the box's conntrack may know */
		if (f || !flow_nat_from_conntrack(E, sender, s, &i))
			return;
		by_ct = true;
		where = "conntrack's reply tuple, the ISN shifted on the way";
	}
	o = &E->flows[i];
	if (o == f || !o->has_isn[sender] ||
	    (!by_ct && (o->isn[sender] != s->seq || o->wscale[sender] != s->wscale)))
		return;
	if (portmap_put(&E->flow_map, flow_key(E, sender, s), i) < 0)
		return; /* out of memory: the translated view stays a flow of its own */
	o->has_xlat = true;
	o->xlat_src = s->src;
	o->xlat_dst = s->dst;
	o->xlat_sport = s->sport;
	o->xlat_dport = s->dport;
	fw_addr_format(&o->orig_src, a, sizeof(a));
	fw_addr_format(&o->orig_dst, b, sizeof(b));
	fw_addr_format(&s->src, c, sizeof(c));
	fw_addr_format(&s->dst, d, sizeof(d));
	add_event(E, EV_STEP, t_abs, other(sender),
		  "flow %u translated by the box (%s): %s:%u > %s:%u is %s:%u > %s:%u", i + 1, where,
		  a, o->orig_sport, b, o->orig_dport, c, s->sport, d, s->dport);
}

/* A host's first FIN, from whichever view of the wire saw it first (the
 * queue sees a sender's segments in order, capture may come later). */
void flow_learn_fin(struct flow *f, enum fw_host h, const struct seg *s)
{
	if (!(s->flags & SEG_FIN) || f->has_fin[h])
		return;
	f->has_fin[h] = true;
	f->fin_seq[h] = s->seq + s->len;
	f->fin_ack[h] = s->ack;
}

/* A segment from `sender` reached the other side at t_abs: did it
 * acknowledge that side's FIN? */
void flow_learn_arrival(struct engine *E, enum fw_host sender, const struct seg *s,
			       int64_t t_abs)
{
	struct flow *f = flow_for(E, sender, s, false);
	enum fw_host rcv = other(sender);

	if (f) {
		f->has_seen[rcv] = true;
		f->seen_addr[rcv] = s->src;
		f->seen_port[rcv] = s->sport;
	}
	if (f && f->has_fin[rcv] && !f->fin_acked_ns[rcv] && (s->flags & SEG_ACK) &&
	    seq_after(s->ack, f->fin_seq[rcv]))
		f->fin_acked_ns[rcv] = t_abs;
}

/* Learn from a segment the sender really put on the wire. */
void flow_learn(struct engine *E, enum fw_host h, const struct seg *s)
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
			/* the box's translation of the 4-tuple, which usually holds */
			f->has_xlat = prev.has_xlat;
			f->xlat_src = prev.xlat_src;
			f->xlat_dst = prev.xlat_dst;
			f->xlat_sport = prev.xlat_sport;
			f->xlat_dport = prev.xlat_dport;
		}
		if (!(s->flags & SEG_ACK)) {
			/* the opening SYN: how a box's translation of it is found */
			f->opener = h;
			f->orig_src = s->src;
			f->orig_dst = s->dst;
			f->orig_sport = s->sport;
			f->orig_dport = s->dport;
			if (portmap_put(&E->isn_map, isn_key(h, s->seq), (uint32_t)(f - E->flows)) < 0)
				return; /* out of memory: the flow is not found under translation */
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

void seg_text(struct engine *E, enum fw_host sender, const struct seg *s,
		     struct fw_event *ev, const char *prefix)
{
	struct flow *f = flow_for(E, sender, s, false);
	struct seg_names names = { fw_host_name(sender), fw_host_name(other(sender)), false, false,
				   0, 0 };
	char line[256];

	ev->flow = f ? (uint32_t)(f - E->flows) + 1 : 0;
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

struct esock *sock_find(struct engine *E, enum fw_host h, const char *name)
{
	size_t i;

	for (i = 0; i < E->nsocks; i++)
		if (E->socks[i].host == h && strcmp(E->socks[i].name, name) == 0)
			return &E->socks[i];
	return NULL;
}

const char *sock_label(struct engine *E, enum fw_host h, const struct sock_info *si)
{
	if (h == HOST_DUT) /* a proxy's: which of its connections, by its peer */
		return si->state == FW_TCP_LISTEN		     ? "listener" :
		       fw_addr_equal(&si->dst, &E->addr[HOST_CLIENT]) ? "front" :
		       fw_addr_equal(&si->dst, &E->addr[HOST_SERVER]) ? "back" :
									"socket";

	const struct esock *g = si->state == FW_TCP_LISTEN ? NULL :
							    conn_sock(E, h, si->sport, si->dport);
	size_t i;

	if (g)
		return g->name;

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

/* When a change sock_diag finds happened: the kernel's time of the event
 * that announced it (a move to CLOSE), else now. */
static int64_t probe_change_time(struct engine *E, enum fw_host h, const struct sock_info *si,
				 int64_t now)
{
	size_t i;

	for (i = 0; i < E->nclose_hints; i++)
		if (E->close_hint[i].h == h && sock_same(&E->close_hint[i].key, si))
			return E->close_hint[i].t;
	return now;
}

/* sock_info by 4-tuple, for the sorted indexes probe_host searches. */
static int sock_cmp(const struct sock_info *a, const struct sock_info *b)
{
	int d = (int)a->sport - (int)b->sport;

	if (!d)
		d = (int)a->dport - (int)b->dport;
	if (!d)
		d = memcmp(&a->src, &b->src, sizeof(a->src));
	return d ? d : memcmp(&a->dst, &b->dst, sizeof(a->dst));
}

static int sock_ptr_cmp(const void *a, const void *b)
{
	return sock_cmp(*(const struct sock_info *const *)a, *(const struct sock_info *const *)b);
}

/* socks sorted by 4-tuple (an index: the dump's own order is kept) */
static const struct sock_info **sock_index(const struct sock_info *socks, size_t n)
{
	const struct sock_info **idx = malloc((n ? n : 1) * sizeof(*idx));
	size_t i;

	for (i = 0; idx && i < n; i++)
		idx[i] = &socks[i];
	if (idx && n)
		qsort(idx, n, sizeof(*idx), sock_ptr_cmp);
	return idx;
}

static const struct sock_info *sock_lookup(const struct sock_info **idx, size_t n,
					   const struct sock_info *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = sock_cmp(idx[mid], key);

		if (!d)
			return idx[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whether si is a socket the case has closed (an orphan, freed when it
 * leaves: never left behind in the bind table) and none of its open ones.
 * Anything else (an open socket, a group's, a connection still in a
 * listener's queue, a program's) may stay bound in CLOSE. */
static bool sock_orphaned(const struct engine *E, enum fw_host h, const struct sock_info *si)
{
	bool closed = false;
	size_t i;

	for (i = 0; i < E->nsocks; i++) {
		const struct esock *s = &E->socks[i];

		if (s->host != h || !s->has_tuple || s->listener || s->lport != si->sport ||
		    s->rport != si->dport)
			continue;
		if (s->fd >= 0 || s->n)
			return false;
		closed = true;
	}
	return closed;
}

/* Whether a socket of the last dump that may be held open is not in this
 * one. */
static bool probe_any_gone(const struct engine *E, enum fw_host h,
			   const struct sock_info **now_idx, size_t n)
{
	const struct host_snapshot *old = &E->snap[h];
	size_t i;

	for (i = 0; i < old->n; i++)
		if (!sock_lookup(now_idx, n, &old->socks[i]) && !sock_orphaned(E, h, &old->socks[i]))
			return true;
	return false;
}

/* Dump the host's sockets; record every appearance, change and
 * disappearance, in the dumps' order. Each side is looked up in a sorted
 * index of the other: O(n log n), for a case of 10,000 connections. */
static int probe_host_dump(struct engine *E, enum fw_host h)
{
	struct host_snapshot *old = &E->snap[h];
	struct sock_info *now_socks = NULL;
	const struct sock_info **old_idx = NULL, **now_idx = NULL;
	int64_t now;
	size_t n = 0, i;
	/* Polled states (no events) say nothing of a move to CLOSE; a proxy's
	 * namespace runs its program. */
	bool walk = !E->sev || E->acting || !E->outside_known[h] || E->outside_wild[h] ||
		    h == HOST_DUT;
	int ret;

	old_idx = sock_index(old->socks, old->n);
	if (!old_idx) {
		ret = fw_err(E->err, sizeof(E->err), -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		now = fw_now_ns();
		ret = sockprobe_dump_some(E->probe[h], walk, &now_socks, &n, E->err,
					  sizeof(E->err));
		if (ret < 0)
			goto out;
		now_idx = sock_index(now_socks, n);
		if (!now_idx) {
			ret = fw_err(E->err, sizeof(E->err), -ENOMEM, "out of memory");
			free(now_socks);
			goto out;
		}
		if (walk || !probe_any_gone(E, h, now_idx, n))
			break;
		/* A socket left the established hash, perhaps into the bind
		 * table (held open in CLOSE) before its event came: walk it. */
		free(now_idx);
		now_idx = NULL;
		free(now_socks);
		now_socks = NULL;
		walk = true;
	}
	E->outside_known[h] = true;
	for (i = 0; i < n; i++) {
		const struct sock_info *was = sock_lookup(old_idx, old->n, &now_socks[i]);

		if (!was || was->state != now_socks[i].state)
			state_event(E, h, &now_socks[i], now_socks[i].state,
				    probe_change_time(E, h, &now_socks[i], now));
	}
	for (i = 0; i < old->n; i++)
		if (!sock_lookup(now_idx, n, &old->socks[i]))
			state_event(E, h, &old->socks[i], 0,
				    probe_change_time(E, h, &old->socks[i], now));
	free(old->socks);
	old->socks = now_socks;
	old->n = old->cap = n;
	portmap_free(&old->idx);
	for (i = 0; i < n && ret >= 0; i++)
		ret = portmap_put(&old->idx, conn_key(HOST_CLIENT, now_socks[i].sport,
						      now_socks[i].dport), (uint32_t)i);
	if (ret < 0)
		ret = fw_err(E->err, sizeof(E->err), ret, "out of memory");
out:
	free(old_idx);
	free(now_idx);
	return ret;
}

/* Events first: what they announce is dated by the kernel, not by the dump. */
int probe_host(struct engine *E, enum fw_host h)
{
	int ret = events_drain(E);

	return ret < 0 ? ret : probe_host_dump(E, h);
}

/* ---- socket events (sockev.h) --------------------------------------------------- */

/* The endpoint whose namespace the event came from, or the proxy's when
 * its sockets are read (HOST_COUNT: none of these). */
static enum fw_host events_host(const struct engine *E, uint32_t netns)
{
	int h;

	for (h = HOST_CLIENT; h <= HOST_SERVER; h++)
		if (E->netns_id[h] == netns)
			return (enum fw_host)h;
	return E->dut_socks && E->netns_id[HOST_DUT] == netns ? HOST_DUT : HOST_COUNT;
}

/* The snapshot's entry for the event's socket, added when new. Found by
 * its ports in the snapshot's index; two sockets with the same ports (other
 * addresses) share a key, and the index holds the later one: then a scan. */
static struct sock_info *events_snap_entry(struct engine *E, enum fw_host h,
					   const struct sock_info *key)
{
	struct host_snapshot *snap = &E->snap[h];
	uint64_t k = conn_key(HOST_CLIENT, key->sport, key->dport);
	struct sock_info *v = NULL;
	uint32_t at;
	size_t i;

	if (portmap_get(&snap->idx, k, &at)) {
		if (sock_same(&snap->socks[at], key))
			return &snap->socks[at];
		for (i = 0; i < snap->n; i++)
			if (sock_same(&snap->socks[i], key))
				return &snap->socks[i];
	}
	if (snap->n == snap->cap) {
		size_t cap = snap->cap ? 2 * snap->cap : 64;

		v = realloc(snap->socks, cap * sizeof(*v));
		if (!v)
			return NULL;
		snap->socks = v;
		snap->cap = cap;
	}
	if (portmap_put(&snap->idx, k, (uint32_t)snap->n) < 0)
		return NULL;
	v = &snap->socks[snap->n++];
	*v = *key;
	v->state = FW_TCP_CLOSED; /* not seen before: every state is a change */
	return v;
}

static void events_note_rtx(struct engine *E, enum fw_host h, const struct sockev_ev *ev)
{
	if (E->nrtx == E->rtx_cap) {
		size_t cap = E->rtx_cap ? 2 * E->rtx_cap : 64;
		struct engine_rtx *v = realloc(E->rtx, cap * sizeof(*v));

		if (!v)
			return; /* counted short: expect_retransmits says how many it saw */
		E->rtx = v;
		E->rtx_cap = cap;
	}
	E->rtx[E->nrtx].h = h;
	E->rtx[E->nrtx].sport = ev->sport;
	E->rtx[E->nrtx].dport = ev->dport;
	E->rtx[E->nrtx].t = ev->t_ns;
	E->nrtx++;
}

static void events_on(void *ctx, const struct sockev_ev *ev)
{
	struct engine *E = ctx;
	enum fw_host h = events_host(E, ev->netns);
	struct sock_info key, *si;

	if (h == HOST_COUNT)
		return;
	if (ev->what == SOCKEV_WHAT_RETRANSMIT) {
		events_note_rtx(E, h, ev);
		return;
	}
	if (ev->what != SOCKEV_WHAT_STATE)
		return;
	memset(&key, 0, sizeof(key));
	key.src = ev->src;
	key.dst = ev->dst;
	key.sport = ev->sport;
	key.dport = ev->dport;
	if (ev->newstate == FW_TCP_CLOSE) {
		/* Gone, in TIME_WAIT or still held open in CLOSE: sock_diag says
		 * which (events_drain() reads it once the batch is in), walking
		 * the bind table for the last unless the case closed it (and
		 * the listening one: a listener closes this way too). */
		if (!sock_orphaned(E, h, &key))
			E->outside_known[h] = false;
		if (E->nclose_hints < ENGINE_MAX_CLOSE_HINTS) {
			E->close_hint[E->nclose_hints].h = h;
			E->close_hint[E->nclose_hints].key = key;
			E->close_hint[E->nclose_hints].t = ev->t_ns;
			E->nclose_hints++;
		}
		return;
	}
	si = events_snap_entry(E, h, &key);
	if (!si || si->state == ev->newstate)
		return; /* already seen by a dump that came first */
	si->state = (uint8_t)ev->newstate;
	si->timer = 0; /* what sock_diag said of its timer was of the old state */
	si->expires_ms = 0;
	state_event(E, h, si, ev->newstate, ev->t_ns);
}

/* Take every event waiting; then read sock_diag for the sockets that moved
 * to CLOSE. */
int events_drain(struct engine *E)
{
	bool close_on[HOST_COUNT] = { false };
	int64_t t;
	size_t i;
	int h, ret;

	if (!E->sev)
		return 0;
	ret = sockev_sub_read(E->sev, events_on, E);
	if (ret < 0)
		return fw_err(E->err, sizeof(E->err), ret, "reading socket events: %s", strerror(-ret));
	if (E->sev_lost != sockev_sub_lost(E->sev)) {
		/* The kernel dropped some: from here on states are polled. */
		E->sev_lost = sockev_sub_lost(E->sev);
		add_event(E, EV_STEP, fw_now_ns(), HOST_CLIENT,
			  "%llu socket events lost (ring full): socket states are polled from here on",
			  (unsigned long long)E->sev_lost);
		epoll_ctl(E->epfd, EPOLL_CTL_DEL, sockev_sub_fd(E->sev), NULL);
		sockev_sub_free(E->sev);
		E->sev = NULL;
	}
	if (!E->nclose_hints)
		return 0;
	/* Every orphaned socket entering FIN_WAIT_2 is a CLOSE here (a
	 * minisocket takes its place): closing 10,000 made 94 dumps of 10,000
	 * sockets. A case with groups dumps at most a fifth of its time
	 * (probe_paced()); the hints wait for the next dump. */
	t = fw_now_ns();
	if (E->many && t < E->probe_next)
		return 0;
	for (i = 0; i < E->nclose_hints; i++)
		close_on[E->close_hint[i].h] = true;
	for (h = 0; h < HOST_COUNT && ret >= 0; h++)
		if (close_on[h])
			ret = probe_host_dump(E, (enum fw_host)h);
	E->nclose_hints = 0;
	if (E->many)
		E->probe_next = fw_now_ns() + 4 * (fw_now_ns() - t);
	return ret < 0 ? ret : 0;
}

/* Subscribe the endpoints' namespaces to socket events, when the programs
 * are loaded (sockev_load(): the harness loads them once for every case);
 * else states are polled, which the harness has said once already. Begun
 * before the case's other handles open, ended (events_open_end()) after:
 * the subscription waits for an RCU grace period, beside the captures'. */
int events_open_begin(struct engine *E)
{
	static const enum fw_host hosts[] = { HOST_CLIENT, HOST_SERVER, HOST_DUT };
	uint32_t ids[3]; /* copied by sockev_sub_open_begin() */
	size_t i, n = E->dut_socks ? 3 : 2; /* the proxy's too, when its sockets are read */
	int ret;

	if (!sockev_loaded())
		return 0;
	for (i = 0; i < n; i++) {
		ret = sockev_netns_id(topo_ns_fd(E->topo, hosts[i]), &E->netns_id[hosts[i]]);
		if (ret < 0)
			return fw_err(E->err, sizeof(E->err), ret, "fstat namespace: %s", strerror(-ret));
		ids[i] = E->netns_id[hosts[i]];
	}
	/* a failure is said by events_open_end() */
	(void)sockev_sub_open_begin(&E->sev, ids, n, E->sev_err, sizeof(E->sev_err));
	return 0;
}

int events_open_end(struct engine *E)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_SOCKEV };
	int ret;

	if (!sockev_loaded())
		return 0;
	ret = E->sev ? sockev_sub_open_end(&E->sev, E->sev_err, sizeof(E->sev_err)) : -1;
	if (ret < 0) { /* never a reason to fail the case: poll instead */
		add_event(E, EV_STEP, fw_now_ns(), HOST_CLIENT,
			  "socket states are polled (sock_diag): %s", E->sev_err);
		return 0;
	}
	if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, sockev_sub_fd(E->sev), &ev) < 0)
		return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
	E->sev_missed = sockev_missed();
	return 0;
}

/* Do events announce this host's socket changes (so a wait may sleep
 * until one comes instead of polling)? */
bool events_cover(const struct engine *E)
{
	return E->sev != NULL;
}

int probe_all(struct engine *E)
{
	int ret = probe_host(E, HOST_CLIENT);

	if (ret >= 0)
		ret = probe_host(E, HOST_SERVER);
	if (ret >= 0 && E->dut_socks) /* a proxy's, when a step reads them */
		ret = probe_host(E, HOST_DUT);
	return ret;
}

/* State of a named socket in the last snapshot: 0 when it is gone. */
const struct sock_info *sock_state(struct engine *E, const struct esock *s)
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
