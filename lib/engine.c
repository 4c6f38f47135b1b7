/* engine: one case, end to end (see engine.h): setup, teardown and the
 * step loop. The other rooms of the engine are listed in engine_int.h. */
#include "engine_int.h"

#include <pthread.h>

static int run_step(struct engine *E, const struct fw_step *st);

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
	out->conn = conn_number_of(E, from, s);
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
	E->ct_done = true;
}

/* The topology a case runs on: no box, or a box that routes or bridges. */
static const struct topo_desc *engine_topology(const struct fw_dut *dut)
{
	if (!dut->present)
		return &topo_desc_classic;
	switch (dut->mode) {
	case DUT_ROUTED:
		return &topo_desc_dut;
	case DUT_BRIDGE:
		return &topo_desc_dut_bridge;
	}
	return &topo_desc_dut;
}

/* The interceptor in one leg's wire namespace, when some fault acts there:
 * wire-a is the first wire node (the only one without a box), wire-b the
 * one between the box and the server. */
static int engine_intercept_open(struct engine *E, enum fault_leg leg)
{
	const char *node = leg == FAULT_LEG_A ? NULL : "wire-b";
	struct intercept_config icfg;
	struct epoll_event ev;
	int h, ret;

	if (!fault_set_uses_leg(E->faults, leg))
		return 0;
	memset(&icfg, 0, sizeof(icfg));
	icfg.wire_ns_fd = node ? topo_node_ns_fd(E->topo, node) : topo_ns_fd(E->topo, HOST_WIRE);
	for (h = HOST_CLIENT; h <= HOST_SERVER; h++)
		icfg.in_ifname[h] = node ? topo_node_ifname_toward(E->topo, node, (enum fw_host)h) :
					   topo_wire_ifname(E->topo, (enum fw_host)h);
	icfg.faults = E->faults;
	icfg.leg = leg;
	icfg.view = engine_view;
	icfg.view_ctx = E;
	icfg.namespace_dies = true; /* topo_free() right after intercept_free() */
	ret = intercept_open(&E->ic[leg], &icfg, E->err, sizeof(E->err));
	if (ret < 0)
		return ret;
	ev.events = EPOLLIN;
	ev.data.u32 = TAG_INTERCEPT;
	if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, intercept_fd(E->ic[leg]), &ev) < 0)
		return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
	ev.data.u32 = TAG_INTERCEPT_TIMER;
	if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, intercept_timer_fd(E->ic[leg]), &ev) < 0)
		return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
	return 0;
}

/* A ring of this size holds some 700 headers-only frames: ample for a case
 * whose steps send a few segments' worth, at a fraction of the 2 MiB ring's
 * cost (the kernel allocates and zeroes every page of it, 1.8 ms of a
 * case's CPU). Cases that may move many segments keep the default: a box
 * or a program of their own (traffic the steps do not say), connection
 * groups, or a send of more than ENGINE_SMALL_SEND bytes. A ring that
 * overflowed anyway fails the run as the harness's (check_capture_drops()). */
#define ENGINE_SMALL_RING (256 * 1024)
#define ENGINE_SMALL_SEND (64 * 1024)

static size_t engine_ring_size(const struct engine *E)
{
	size_t i;

	if (E->c->dut.present)
		return 0;
	for (i = 0; i < E->c->nsteps; i++) {
		const struct fw_step *st = &E->c->steps[i];

		if (st->kind == STEP_START || st->kind == STEP_FORK ||
		    ((st->kind == STEP_CONNECT || st->kind == STEP_ACCEPT) && st->connections > 1) ||
		    (st->kind == STEP_SEND && st->bytes > ENGINE_SMALL_SEND))
			return 0;
	}
	return ENGINE_SMALL_RING;
}

/* Capture on each endpoint's interface and, with a box, where each wire
 * meets it: what went into the box and what left it, on both sides. The
 * handles open on threads of their own (mostly waiting for the kernel's RCU
 * grace periods, capture.h) while the caller opens everything else;
 * engine_captures_end() waits for them. */
static int engine_captures_begin(struct engine *E, struct capture_opening **opening)
{
	int ns_fds[ENGINE_CAPS];
	const char *ifnames[ENGINE_CAPS];
	size_t n = 2;

	ns_fds[HOST_CLIENT] = topo_ns_fd(E->topo, HOST_CLIENT);
	ns_fds[HOST_SERVER] = topo_ns_fd(E->topo, HOST_SERVER);
	ifnames[HOST_CLIENT] = topo_ifname(E->topo, HOST_CLIENT);
	ifnames[HOST_SERVER] = topo_ifname(E->topo, HOST_SERVER);
	if (E->c->dut.present) {
		/* wire-a's way to the server and wire-b's to the client go
		 * through the box: the same for a namespace box, a bridge and
		 * an external one */
		ns_fds[ENGINE_CAP_BOX + FAULT_LEG_A] = topo_node_ns_fd(E->topo, "wire-a");
		ifnames[ENGINE_CAP_BOX + FAULT_LEG_A] =
		    topo_node_ifname_toward(E->topo, "wire-a", HOST_SERVER);
		ns_fds[ENGINE_CAP_BOX + FAULT_LEG_B] = topo_node_ns_fd(E->topo, "wire-b");
		ifnames[ENGINE_CAP_BOX + FAULT_LEG_B] =
		    topo_node_ifname_toward(E->topo, "wire-b", HOST_CLIENT);
		n = ENGINE_CAPS;
	}
	E->ncaps = n;
	return capture_open_begin(opening, E->cap, ns_fds, ifnames, n, engine_ring_size(E), E->err,
				  sizeof(E->err));
}

/* ret: how the rest of the setup went (its error, in E->err, comes first). */
static int engine_captures_end(struct engine *E, struct capture_opening *opening, int ret)
{
	static const uint32_t tags[ENGINE_CAPS] = { TAG_CAPTURE_CLIENT, TAG_CAPTURE_SERVER,
						    TAG_CAPTURE_BOX, TAG_CAPTURE_BOX };
	struct epoll_event ev;
	char err[FW_ERRLEN];
	size_t i;
	int cret;

	cret = capture_open_end(opening, err, sizeof(err));
	if (ret < 0)
		return ret;
	if (cret < 0)
		return fw_err(E->err, sizeof(E->err), cret, "%s", err);
	for (i = 0; i < E->ncaps; i++) {
		ev.events = EPOLLIN;
		ev.data.u32 = tags[i];
		if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, capture_fd(E->cap[i]), &ev) < 0)
			return fw_err(E->err, sizeof(E->err), -errno, "epoll: %s", strerror(errno));
	}
	return 0;
}

/* Everything a case holds besides its namespaces and captures: injectors,
 * socket probes, the interceptors, the counters' baseline, the kernel log.
 * Runs while the captures open. */
static int engine_open_handles(struct engine *E)
{
	size_t i;
	int h, leg, ret;

	/* An injector where an inject step sends from, and nowhere else: libnet
	 * opens its raw socket with some 6,500 setsockopt(SO_SNDBUF) calls
	 * (libnet_open_raw4() raising the buffer 128 bytes at a time), 1.4-1.7
	 * ms of CPU each, and most cases inject nothing. */
	for (i = 0; i < E->c->nsteps; i++) {
		const struct fw_step *st = &E->c->steps[i];
		struct inject **inj;
		int ns_fd;

		if (st->kind != STEP_INJECT)
			continue;
		inj = st->at_box ? &E->inj_wire[st->at] : &E->inj[st->host];
		ns_fd = st->at_box ? topo_node_ns_fd(E->topo, fault_leg_name(st->at)) :
				     topo_ns_fd(E->topo, st->host);
		if (*inj)
			continue;
		ret = inject_open(inj, ns_fd, E->c->family, E->err, sizeof(E->err));
		if (ret < 0)
			return ret;
	}
	for (h = HOST_CLIENT; h <= HOST_SERVER; h++) {
		ret = sockprobe_open(&E->probe[h], topo_ns_fd(E->topo, (enum fw_host)h), E->err,
				     sizeof(E->err));
		if (ret < 0)
			return ret;
		/* an endpoint's namespace is the case's own, just made; its
		 * programs start with steps (do_action()) */
		sockprobe_assume_new(E->probe[h]);
		E->outside_known[h] = true;
	}
	ret = fault_set_create(&E->faults, E->c->faults, E->c->nfaults);
	if (ret < 0)
		return fw_err(E->err, sizeof(E->err), ret, "out of memory");
	for (leg = 0; leg < FAULT_LEG_COUNT; leg++) {
		ret = engine_intercept_open(E, (enum fault_leg)leg);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < E->c->nsteps; i++)
		if (E->c->steps[i].kind == STEP_EXPECT_TCP_INFO)
			sockprobe_want_info(E->probe[E->c->steps[i].host], true);
	if (E->dut_socks) { /* engine_setup() said whether a step reads them */
		ret = sockprobe_open(&E->probe[HOST_DUT], topo_ns_fd(E->topo, HOST_DUT), E->err,
				     sizeof(E->err));
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* What "since the case began" is measured from: the counters and the
 * kernel log as the case starts, not as it was prepared (a prepared case
 * may wait for its turn while others run). */
static int engine_baseline(struct engine *E)
{
	size_t i;
	int h, ret;

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
	for (i = 0; i < E->c->nsteps && !E->kmsg_open; i++) {
		if (E->c->steps[i].kind != STEP_EXPECT_KMSG)
			continue;
		ret = kmsg_open(&E->kmsg, E->err, sizeof(E->err));
		if (ret < 0)
			return ret;
		E->kmsg_open = true;
	}
	return 0;
}

static int engine_setup(struct engine *E)
{
	struct capture_opening *opening;
	size_t i;
	int h, ret;

	if (E->c->dut.interfaces[0][0]) { /* an external box on two real interfaces */
		const char *const ext[2] = { E->c->dut.interfaces[0], E->c->dut.interfaces[1] };

		ret = engine_lock_interfaces(E);
		if (ret == 0)
			ret = topo_build_ext(&E->topo,
					     E->c->dut.mode == DUT_BRIDGE ? &topo_desc_external_bridge
									  : &topo_desc_external,
					     ext, E->err, sizeof(E->err));
	} else {
		ret = topo_build(&E->topo, engine_topology(&E->c->dut), E->err, sizeof(E->err));
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
	/* a proxy's own sockets (a box namespace of ours), read only when a
	 * step asks about them: their events are subscribed to from here */
	for (i = 0; i < E->c->nsteps; i++)
		if (E->c->steps[i].host == HOST_DUT && E->c->steps[i].conn != CONN_ANY)
			E->dut_socks = topo_ns_fd(E->topo, HOST_DUT) >= 0;
	ret = engine_captures_begin(E, &opening);
	if (ret < 0)
		return ret;
	ret = events_open_begin(E);
	ret = engine_captures_end(E, opening, ret < 0 ? ret : engine_open_handles(E));
	if (ret == 0)
		ret = events_open_end(E);
	return ret < 0 ? ret : probe_all(E);
}

/* The end of a case as far as its result goes: stop watching before the
 * sockets close (their final RSTs are not part of the case), then the box
 * and the case's programs, whose reports go into the timeline. */
static void engine_stop(struct engine *E)
{
	size_t i;
	int leg;

	/* nothing reads it from here on; taken out in engine_release() */
	E->sev_done = E->sev;
	E->sev = NULL;
	free(E->rtx);
	E->rtx = NULL;
	for (leg = 0; leg < FAULT_LEG_COUNT; leg++) {
		intercept_free(E->ic[leg]);
		E->ic[leg] = NULL;
	}
	engine_dut_down(E);
	if (E->kmsg_open)
		kmsg_close(&E->kmsg);
	E->kmsg_open = false;
	for (i = 0; i < E->nprocs; i++)
		engine_proc_end(E, &E->procs[i]);
	E->nprocs = 0;
}

/* What is left changes nothing in the result and is mostly waiting: each
 * capture's close waits for RCU grace periods, and the namespaces go with
 * their last fd. Nothing is read from here on, so no segment of the
 * sockets' last moments reaches the result. */
static void *engine_sev_free(void *sub)
{
	sockev_sub_free(sub);
	return NULL;
}

void engine_release(struct engine *E)
{
	pthread_t sev_th;
	bool sev_freeing;
	size_t i;
	int h;

	if (!E)
		return;
	/* Taking the ring out waits for a grace period, as closing a capture
	 * does: on a thread, both wait for the same ones. */
	sev_freeing = E->sev_done &&
		      pthread_create(&sev_th, NULL, engine_sev_free, E->sev_done) == 0;
	if (!sev_freeing)
		sockev_sub_free(E->sev_done);
	sockev_sub_free(E->sev);
	capture_free_all(E->cap, ENGINE_CAPS);
	for (h = 0; h < FAULT_LEG_COUNT; h++)
		inject_free(E->inj_wire[h]);
	for (h = HOST_CLIENT; h <= HOST_SERVER; h++)
		inject_free(E->inj[h]);
	for (h = 0; h < HOST_COUNT; h++) {
		sockprobe_free(E->probe[h]);
		free(E->snap[h].socks);
		portmap_free(&E->snap[h].idx);
	}
	for (h = 0; h < HOST_COUNT; h++)
		counter_set_clear(&E->counters0[h]);
	engine_many_teardown(E); /* a group's descriptors */
	for (i = 0; i < E->nsocks; i++)
		if (E->socks[i].fd >= 0)
			close(E->socks[i].fd);
	fault_set_free(E->faults);
	if (E->epfd >= 0)
		close(E->epfd);
	/* before the namespaces go: a new one may get the same number */
	if (sev_freeing)
		pthread_join(sev_th, NULL);
	topo_free(E->topo); /* an external box's interfaces go back first... */
	for (i = 0; i < 2; i++) /* ...then another case may take them */
		if (E->if_lock[i] >= 0)
			close(E->if_lock[i]);
	free(E->step_started);
	free(E->step_seg);
	free(E->flows);
	if (E->mark_counters)
		for (i = 0; i < E->c->nsteps; i++)
			for (h = 0; h < HOST_COUNT; h++)
				counter_set_clear(&E->mark_counters[i][h]);
	free(E->mark_counters);
	free(E);
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

/* n segments the harness lost (said in the timeline): whatever the run
 * concluded, it is not the kernels' verdict: failed, with the harness to
 * blame, so it is run again and ends INCONCLUSIVE if it keeps happening. */
static void fail_segments_lost(struct engine *E, unsigned long n, const char *event,
			       const char *passed, const char *why)
{
	add_event(E, EV_STEP, fw_now_ns(), HOST_WIRE, "%s: %lu segment(s)", event, n);
	if (E->res->status == CASE_PASS) {
		E->res->status = CASE_FAIL;
		snprintf(E->res->message, sizeof(E->res->message),
			 "%s: every expectation passed, but %s: %lu segment(s)", E->c->path, passed,
			 n);
	}
	if (E->res->status == CASE_FAIL)
		fail_explained(E, why);
}

/* The kernel drops what it cannot queue to us (a full queue or socket
 * buffer): a loss no fault asked for, which changes what the endpoints saw. */
static void check_queue_drops(struct engine *E)
{
	unsigned long dropped, total = 0;
	size_t leg;

	for (leg = 0; leg < FAULT_LEG_COUNT; leg++)
		if (E->ic[leg] && intercept_dropped(E->ic[leg], &dropped) == 0)
			total += dropped;
	if (total)
		fail_segments_lost(E, total,
				   "the interceptor's queue overflowed: the kernel dropped",
				   "the kernel dropped what it could not queue to the interceptor",
				   "the interceptor's queue overflowed (segments lost that no "
				   "fault dropped)");
}

/* A capture ring that overflowed (engine_ring_size()): the timeline lacks
 * segments the expectations were judged on. The same verdict as a queue
 * that overflowed: failed, the harness to blame. */
static void check_capture_drops(struct engine *E)
{
	unsigned long total = 0;
	size_t i;

	for (i = 0; i < E->ncaps; i++)
		total += capture_dropped(E->cap[i]);
	if (total)
		fail_segments_lost(E, total, "a capture ring overflowed: not recorded",
				   "the capture missed what its ring could not hold",
				   "a capture ring overflowed (segments not recorded)");
}

/* A socket event the kernel skipped (sockev_missed()) may be this run's: a
 * retransmission not counted, a state never seen. A failure then is not
 * surely the kernels' verdict: it is run again. (Misses are counted for
 * every namespace at once, so a pass is left alone.) */
static void check_events_missed(struct engine *E)
{
	uint64_t missed = E->sev ? sockev_missed() - E->sev_missed : 0;

	if (!missed)
		return;
	add_event(E, EV_STEP, fw_now_ns(), HOST_CLIENT,
		  "the kernel skipped %llu socket event(s) while this run ran (a tracing program "
		  "already running on that CPU)", (unsigned long long)missed);
	if (E->res->status == CASE_FAIL)
		fail_explained(E, "the kernel skipped socket events while it ran");
}

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

			if (e->kind == EV_SEGMENT && !e->sent && e->leg != HOST_DUT &&
			    e->host == st->trig_from &&
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
/* A marked step that a later 'counter ... since' names: the counters of
 * every host we own, as the step begins, are that expectation's baseline. */
static int mark_counters_take(struct engine *E, size_t at)
{
	const struct fw_step *st = &E->c->steps[at];
	size_t j;
	int h, ret;

	if (!st->mark[0] || !E->mark_counters)
		return 0;
	for (j = at + 1; j < E->c->nsteps; j++)
		if (E->c->steps[j].kind == STEP_EXPECT_COUNTER &&
		    strcmp(E->c->steps[j].since, st->mark) == 0)
			break;
	if (j == E->c->nsteps)
		return 0;
	for (h = 0; h < HOST_COUNT; h++) {
		if ((h != HOST_CLIENT && h != HOST_SERVER && h != HOST_DUT) ||
		    topo_ns_fd(E->topo, (enum fw_host)h) < 0)
			continue;
		ret = counters_read(topo_ns_fd(E->topo, (enum fw_host)h), &E->mark_counters[at][h],
				    E->err, sizeof(E->err));
		if (ret < 0)
			return ret;
	}
	return 0;
}

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
	if (st->kind == STEP_EXPECT_COUNTER && E->mark_counters)
		E->counter_base = E->mark_counters[i];
	ret = run_step(E, st);
	E->counter_base = NULL;
	if (st->kind == STEP_EXPECT_SEGMENT || st->kind == STEP_EXPECT_NO_SEGMENT)
		E->cursor_idx = saved_idx; /* its match does not move the others' search */
	else
		E->cursor_idx = E->cursor_idx > saved_idx ? E->cursor_idx : saved_idx;
	E->cursor_t = saved_t;
	return ret;
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

/* wait: everything keeps being recorded; the clock of the next expectations
 * starts when the wait ends. */
static int run_wait(struct engine *E, const struct fw_step *st)
{
	int64_t until = fw_now_ns() + st->within_ns;
	int ret = 0;

	add_event(E, EV_STEP, fw_now_ns(), st->host, "%s", st->text);
	while (ret >= 0 && fw_now_ns() < until)
		ret = pump(E, until);
	E->cursor_t = fw_now_ns();
	E->cursor_idx = E->res->tl.n;
	memset(&E->win_late, 0, sizeof(E->win_late));
	return ret < 0 ? ret : 0;
}

static int run_inject(struct engine *E, const struct fw_step *st)
{
	struct fw_event *ev;
	int ret;

	E->cursor_t = fw_now_ns();
	memset(&E->win_late, 0, sizeof(E->win_late));
	ret = do_inject(E, st);
	if (ret < 0)
		return step_error(E, st, ret, "cannot inject");
	ev = add_event(E, EV_STEP, E->cursor_t, st->host, "%s", st->text);
	step_late(E, ev, E->cursor_t);
	return drain(E);
}

/* An action on sockets, faults or processes: its result is the kernel's
 * errno, judged against the step's 'result'. */
static int run_action(struct engine *E, const struct fw_step *st)
{
	int64_t started;
	struct fw_event *ev;
	int result = 0, ret;

	if (st->has_trigger) {
		ret = wait_trigger(E, st);
		if (ret != 0)
			return ret;
	}
	started = fw_now_ns();
	E->cursor_t = started;
	memset(&E->win_late, 0, sizeof(E->win_late));
	E->action_note[0] = '\0';
	ret = do_action(E, st, &result);
	if (ret < 0)
		return step_error(E, st, ret, "cannot run the action");
	ev = add_event(E, EV_STEP, started, st->host, "%s: %s%s", st->text, fw_errno_name(result),
		       E->action_note);
	if (ev)
		ev->err = result;
	step_late(E, ev, started);
	/* Probe right away: transient states (FIN_WAIT_1) live only until the
	 * peer's answer arrives; but not between two actions that must start
	 * together. */
	ret = st->together ? 0 : drain(E);
	if (ret == 0 && result != st->expect_errno)
		ret = step_fail(E, st, "the call returned %s, expected %s", fw_errno_name(result),
				fw_errno_name(st->expect_errno));
	return ret;
}

/* How each kind of step runs: 0 passed, > 0 failed (decided), < 0 the
 * engine's own error. */
typedef int step_runner(struct engine *E, const struct fw_step *st);
static step_runner *const step_runners[STEP_KIND_COUNT] = {
    [STEP_LISTEN] = run_action,
    [STEP_CONNECT] = run_action,
    [STEP_ACCEPT] = run_action,
    [STEP_SEND] = run_action,
    [STEP_RECV] = run_action,
    [STEP_SHUTDOWN] = run_action,
    [STEP_CLOSE] = run_action,
    [STEP_SETSOCKOPT] = run_action,
    [STEP_INJECT] = run_inject,
    [STEP_ARM] = run_action,
    [STEP_DISARM] = run_action,
    [STEP_RELEASE] = run_action,
    [STEP_FORK] = run_action,
    [STEP_KILL] = run_action,
    [STEP_WAIT] = run_wait,
    [STEP_START] = run_action,
    [STEP_EXPECT_SEGMENT] = expect_segment,
    [STEP_EXPECT_NO_SEGMENT] = expect_no_segment,
    [STEP_EXPECT_STATE] = expect_state,
    [STEP_EXPECT_GONE] = expect_state,
    [STEP_EXPECT_COUNTER] = expect_counter,
    [STEP_EXPECT_SYSCTL] = expect_sysctl,
    [STEP_EXPECT_CONNTRACK] = expect_conntrack,
    [STEP_EXPECT_EXIT] = expect_exit,
    [STEP_EXPECT_KMSG] = expect_kmsg,
    [STEP_EXPECT_TCP_INFO] = expect_tcp_info,
    [STEP_EXPECT_RETRANSMITS] = expect_retransmits,
};

static int run_step(struct engine *E, const struct fw_step *st)
{
	return step_runners[st->kind](E, st);
}

static int run_steps(struct engine *E)
{
	size_t i;
	int ret;

	for (i = 0; i < E->c->nsteps; i++) {
		const struct fw_step *st = &E->c->steps[i];

		E->step = (int)i;
		E->err[0] = '\0';
		/* Steps decided at once (a state already seen) do not wait on the
		 * event loop: serve the queue between them, or every segment of a
		 * sender with a rule would wait for the next wait. Not after an
		 * action marked together: nothing may come between the two. */
		if (engine_intercepting(E) && !(i > 0 && E->c->steps[i - 1].together)) {
			ret = pump_fd(E, TAG_INTERCEPT);
			if (ret < 0)
				return step_error(E, st, ret, "engine failure");
		}
		if (E->step_started)
			E->step_started[i] = fw_now_ns();
		ret = mark_counters_take(E, i);
		if (ret < 0)
			return step_error(E, st, ret, "cannot read the counters");
		ret = st->since[0] ? run_since(E, st, i) : run_step(E, st);
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

int engine_prepare(const struct fw_case *c, struct case_result *res, struct engine **out)
{
	struct engine *E = calloc(1, sizeof(*E));
	int ret;

	*out = NULL;
	result_init(res, c);
	if (!E)
		return -ENOMEM;
	E->c = c;
	E->res = res;
	E->epfd = -1;
	E->if_lock[0] = E->if_lock[1] = -1;
	E->cur_flow = -1;
	E->leg_flow[0] = E->leg_flow[1] = -1;
	E->step = -1;
	E->t0 = fw_now_ns();
	E->cursor_t = E->t0;
	{
		const char *stall = getenv("FINWAVE_TEST_QUEUE_STALL_MS");

		if (stall && atoi(stall) > 0 && atoi(stall) <= 1000)
			E->test_stall_ns = atoi(stall) * FW_NS_PER_MS;
	}
	E->step_started = calloc(c->nsteps + 1, sizeof(*E->step_started));
	E->mark_counters = calloc(c->nsteps + 1, sizeof(*E->mark_counters));
	E->step_seg = calloc(c->nsteps + 1, sizeof(*E->step_seg));
	ret = E->step_started && E->step_seg ? engine_many_setup(E) : -ENOMEM;
	if (ret == 0)
		ret = engine_setup(E);
	if (ret < 0) {
		res->status = CASE_ERROR;
		snprintf(res->message, sizeof(res->message), "%s: setup failed: %s", c->path, E->err);
		E->setup_failed = true;
	}
	*out = E;
	return 0;
}

/* The case's clock starts now, however long the prepared case waited for
 * its turn: what the setup recorded (a box's listener) is how things stood
 * at the start, dated 0 (times are never negative: results.schema.json). */
static void engine_clock_start(struct engine *E)
{
	size_t i;

	for (i = 0; i < E->res->tl.n; i++)
		E->res->tl.ev[i].t_ns = 0;
	E->t0 = E->cursor_t = fw_now_ns();
}

void engine_go(struct engine *E)
{
	struct case_result *res = E->res;
	int ret;

	engine_clock_start(E);
	if (E->setup_failed)
		goto out;
	ret = engine_baseline(E);
	if (ret < 0) {
		res->status = CASE_ERROR;
		snprintf(res->message, sizeof(res->message), "%s: setup failed: %s", E->c->path,
			 E->err);
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
	if (res->status == CASE_PASS || res->status == CASE_FAIL) {
		check_queue_drops(E);
		check_capture_drops(E);
		check_events_missed(E);
	}
out:
	engine_stop(E);
	timeline_sort(&res->tl);
	res->duration_ns = fw_now_ns() - E->t0;
}

int engine_run_keep(const struct fw_case *c, struct case_result *res, struct engine **rest)
{
	int ret = engine_prepare(c, res, rest);

	if (ret == 0)
		engine_go(*rest);
	return ret;
}

int engine_run(const struct fw_case *c, struct case_result *res)
{
	struct engine *rest;
	int ret = engine_run_keep(c, res, &rest);

	engine_release(rest);
	return ret;
}
