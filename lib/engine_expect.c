/* engine_expect: the expectations of a case on sockets and values (state,
 * gone, counter, sysctl, conntrack, exit, kmsg, tcp_info, retransmits), each
 * decided as soon as the kernel satisfies it, or at its deadline. The
 * segment expectations are in engine_expect_seg.c. */
#include "engine_int.h"

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

	if (st->host == HOST_DUT) { /* a proxy's socket: of the connection the step names */
		bool front = st->conn == CONN_FRONT;
		int fi = E->leg_flow[front ? HOST_CLIENT : HOST_SERVER];
		const struct flow *f = fi >= 0 ? &E->flows[fi] : NULL;

		if (!f)
			return step_fail(E, st, "the proxy has no %s connection: no SYN was seen on "
					 "the %s's leg", fw_conn_name(st->conn),
					 front ? "client" : "server");
		memset(&by_port, 0, sizeof(by_port));
		by_port.host = HOST_DUT;
		by_port.has_tuple = true;
		by_port.lport = f->port[front ? HOST_SERVER : HOST_CLIENT];
		by_port.rport = f->port[front ? HOST_CLIENT : HOST_SERVER];
		snprintf(by_port.name, sizeof(by_port.name), "%s", fw_conn_name(st->conn));
		s = &by_port;
	} else if (!st->sock[0]) { /* a program's socket: by its local port, on the current connection */
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

/* Segments the socket sent again in the window, as its own leg's capture
 * saw them: a SYN, payload or FIN that ends at or before the furthest end it
 * had sent. A second view, to tell a kernel's verdict from a missed event. */
static int wire_retransmits(const struct engine *E, enum fw_host h, const struct esock *s,
			    int64_t until)
{
	const struct timeline *tl = &E->res->tl;
	uint32_t furthest = 0;
	bool any = false;
	int n = 0;
	size_t i;

	for (i = 0; i < tl->n; i++) {
		const struct fw_event *e = &tl->ev[i];
		uint32_t end = e->seg.seq + seg_seq_len(&e->seg);

		if (e->kind != EV_SEGMENT || e->host != h || !e->sent || e->injected ||
		    e->seg.sport != s->lport || e->seg.dport != s->rport || end == e->seg.seq)
			continue;
		if (any && !seq_after(end, furthest) && e->t_ns >= E->cursor_t - E->t0 &&
		    e->t_ns <= until - E->t0)
			n++;
		if (!any || seq_after(end, furthest))
			furthest = end;
		any = true;
	}
	return n;
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
	if (n < st->count_min || n > st->count_max) {
		int on_wire = wire_retransmits(E, st->host, s, deadline);

		ret = step_fail(E, st, "%d retransmission(s) in the window%s", n, times);
		/* the wire saw more than the kernel's events said: some were missed */
		if (on_wire > n)
			fail_explained(E, "the wire shows more retransmissions than socket events reported");
		return ret;
	}
	expect_pass(E, st);
	return 0;
}
