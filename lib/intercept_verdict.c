/* intercept_verdict: what happens to a queued segment: the fault set decides, and kept, delayed,
 * copied or rewritten segments are let go on time. */
#include "intercept_int.h"

static void intercept_verdict(struct intercept *ic, const struct intercept_held *h,
			      uint32_t verdict);

/* ---- verdicts ---- */

static void intercept_emit_full(struct intercept *ic, enum intercept_event_kind kind,
				const struct intercept_held *h, const struct seg *after, int err,
				int64_t due_ns)
{
	struct intercept_event ev = {
	    .kind = kind,
	    .t_ns = fw_now_ns(),
	    .from = h->from,
	    .seg = h->seg,
	    .decision = h->decision,
	    .queued_ns = h->queued_ns,
	    .read_ns = h->read_ns,
	    .due_ns = due_ns,
	    .err = err,
	};

	if (after) {
		ev.rewritten = true;
		ev.after = *after;
	}
	if (ic->fn)
		ic->fn(ic->ctx, &ev);
}

static void intercept_emit(struct intercept *ic, enum intercept_event_kind kind,
			   const struct intercept_held *h)
{
	intercept_emit_full(ic, kind, h, NULL, 0, 0);
}

/* Send the copy of a duplicated packet from the wire namespace itself: it
 * is routed out of the far leg like a forwarded one, and never meets the
 * FORWARD chain (so it is not queued again). Returns 0 or -errno. */
static int intercept_send_copy(struct intercept *ic, const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (len >= 20 && pkt[0] >> 4 == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		fd = ic->raw_fd[INTERCEPT_V4];
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, pkt + 16, 4);
		sl = sizeof(*sin);
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		fd = ic->raw_fd[INTERCEPT_V6];
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, pkt + 24, 16);
		sl = sizeof(*sin6);
	} else {
		return -EINVAL;
	}
	if (fd < 0)
		return -EBADF;
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sl) < 0)
		return -errno;
	return 0;
}

void intercept_batch_flush(struct intercept *ic)
{
	if (!ic->batch_pending)
		return;
	ic->batch_pending = false;
	if (nfq_set_verdict_batch(ic->batch_qh, ic->batch_id, NF_ACCEPT) < 0 && !ic->cb_err)
		ic->cb_err = errno ? -errno : -EIO;
}

/* The kernel forwards a packet when it reads its verdict: passes waiting
 * for their batch go first, or a later segment (a rewritten FIN) would
 * overtake earlier ones on the wire. */
static void intercept_verdict_with(struct intercept *ic, const struct intercept_held *h,
				   uint32_t verdict, uint32_t len, const uint8_t *pkt)
{
	intercept_batch_flush(ic);
	if (nfq_set_verdict(h->qh, h->id, verdict, len, pkt) < 0 && !ic->cb_err)
		ic->cb_err = errno ? -errno : -EIO;
}

static void intercept_verdict(struct intercept *ic, const struct intercept_held *h,
			      uint32_t verdict)
{
	intercept_verdict_with(ic, h, verdict, 0, NULL);
}

/* Is some packet held back in the kernel queue (not a copy of ours)? */
static bool intercept_holds_packet(const struct intercept *ic)
{
	size_t k;

	for (k = 0; k < ic->nheld; k++)
		if (!ic->held[k].copy)
			return true;
	return false;
}

/* Accept a packet now or with the next batch: one message for a burst
 * instead of one per segment. A batch is one queue's: the other queue's
 * packet flushes it first, so the two leave in the order they came. */
static void intercept_pass(struct intercept *ic, const struct intercept_held *h)
{
	if (intercept_holds_packet(ic)) {
		intercept_verdict(ic, h, NF_ACCEPT);
		return;
	}
	if (ic->batch_pending && ic->batch_qh != h->qh)
		intercept_batch_flush(ic);
	ic->batch_pending = true;
	ic->batch_qh = h->qh;
	ic->batch_id = h->id;
}

/* A delay is only as precise as the wake-up after its timer fires: on a busy
 * machine a normal thread may wait milliseconds for a CPU. While some
 * segment is due at a set time (a delay, a duplicate's copy) the thread runs
 * SCHED_FIFO (lowest priority; children reset on fork), and is normal again
 * when none is: real-time for the whole case starved the kernel's own work
 * at high --jobs. Without the privilege delays are just less precise. */
static void intercept_realtime_update(struct intercept *ic)
{
	struct sched_param sp = {.sched_priority = 0};
	bool want = false;
	size_t k;

	for (k = 0; k < ic->nheld && !ic->closing && !want; k++)
		want = ic->held[k].copy || ic->held[k].decision.action == FAULT_DELAY;
	if (want == ic->realtime)
		return;
	if (want) {
		sp.sched_priority = sched_get_priority_min(SCHED_FIFO);
		if (sched_getscheduler(0) == SCHED_OTHER &&
		    sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0)
			ic->realtime = true;
	} else {
		sched_setscheduler(0, SCHED_OTHER, &sp);
		ic->realtime = false;
	}
}

/* After every change to the held list: the timer for the earliest release,
 * and the thread's priority for the timed ones. */
static void intercept_timer_arm(struct intercept *ic)
{
	struct itimerspec its;

	intercept_realtime_update(ic);
	if (ic->timer_fd < 0)
		return;
	/* An all-zero it_value disarms; an absolute time already past fires at once. */
	memset(&its, 0, sizeof(its));
	if (ic->nheld) {
		int64_t at = ic->held[0].release_ns - INTERCEPT_SPIN_NS;

		at = at > 0 ? at : 1; /* 0 would disarm */
		its.it_value.tv_sec = at / FW_NS_PER_SEC;
		its.it_value.tv_nsec = at % FW_NS_PER_SEC;
	}
	if (timerfd_settime(ic->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 && !ic->cb_err)
		ic->cb_err = -errno;
}

static int intercept_hold(struct intercept *ic, const struct intercept_held *h)
{
	size_t pos;

	if (ic->nheld == ic->held_cap) {
		size_t cap = ic->held_cap ? ic->held_cap * 2 : 16;
		struct intercept_held *n = realloc(ic->held, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ic->held = n;
		ic->held_cap = cap;
	}
	/* Delays are short and few: insertion keeps the earliest release first. */
	for (pos = ic->nheld; pos > 0 && ic->held[pos - 1].release_ns > h->release_ns; pos--)
		;
	memmove(&ic->held[pos + 1], &ic->held[pos], (ic->nheld - pos) * sizeof(*ic->held));
	ic->held[pos] = *h;
	ic->nheld++;
	intercept_timer_arm(ic);
	return 0;
}

/* Accept every held segment due by now (all of them when all is set), in
 * release order; the kernel takes verdicts in any order. Each event says
 * when it was due, so its lateness is known. */
void intercept_release_due(struct intercept *ic, int64_t now, bool all)
{
	size_t k = 0;

	while (k < ic->nheld && (all || ic->held[k].release_ns <= now)) {
		struct intercept_held *h = &ic->held[k];

		if (h->copy) {
			/* At free time the namespace may be going: no late copies. */
			if (!ic->closing)
				intercept_emit_full(ic, INTERCEPT_COPY_SENT, h, NULL,
						    intercept_send_copy(ic, h->copy, h->copy_len),
						    h->release_ns);
			free(h->copy);
		} else {
			intercept_verdict(ic, h, NF_ACCEPT);
			intercept_emit_full(ic, INTERCEPT_RELEASED, h, NULL, 0,
					    all ? 0 : h->release_ns);
		}
		k++;
	}
	if (!k)
		return;
	memmove(&ic->held[0], &ic->held[k], (ic->nheld - k) * sizeof(*ic->held));
	ic->nheld -= k;
	intercept_timer_arm(ic);
}

size_t intercept_release_rule(struct intercept *ic, int rule, int64_t before_ns, intercept_fn fn,
			      void *ctx)
{
	size_t k = 0, kept = 0, released = 0;

	if (!ic)
		return 0;
	ic->fn = fn;
	ic->ctx = ctx;
	for (k = 0; k < ic->nheld; k++) {
		struct intercept_held *h = &ic->held[k];

		if (!h->copy && h->decision.rule == rule && h->queued_ns < before_ns) {
			intercept_verdict(ic, h, NF_ACCEPT);
			intercept_emit(ic, INTERCEPT_RELEASED, h);
			released++;
			continue;
		}
		ic->held[kept++] = *h; /* keeps release order */
	}
	ic->nheld = kept;
	if (released)
		intercept_timer_arm(ic);
	ic->fn = NULL;
	ic->ctx = NULL;
	return released;
}

static enum fw_host intercept_host_of(const struct intercept *ic, uint32_t ifindex)
{
	int h;

	for (h = 0; h < HOST_COUNT; h++)
		if (ic->ifindex[h] && ic->ifindex[h] == ifindex)
			return (enum fw_host)h;
	/* Not from a host interface: no client/server rule may claim it. */
	return HOST_WIRE;
}

/* Keep a copy of the packet to send gap_ns from now (at once for 0). */
static void intercept_duplicate(struct intercept *ic, const struct intercept_held *orig,
				const uint8_t *pkt, size_t len)
{
	struct intercept_held h = *orig;
	int ret;

	if (h.decision.delay_ns <= 0) {
		intercept_emit_full(ic, INTERCEPT_COPY_SENT, &h, NULL,
				    intercept_send_copy(ic, pkt, len), 0);
		return;
	}
	h.copy = malloc(len);
	if (!h.copy) {
		intercept_emit_full(ic, INTERCEPT_COPY_SENT, &h, NULL, -ENOMEM, 0);
		return;
	}
	memcpy(h.copy, pkt, len);
	h.copy_len = len;
	h.release_ns = h.queued_ns + h.decision.delay_ns;
	ret = intercept_hold(ic, &h);
	if (ret < 0) {
		free(h.copy);
		intercept_emit_full(ic, INTERCEPT_COPY_SENT, &h, NULL, ret, 0);
	}
}

/* Change the fields in the queue's copy and hand it back with the verdict;
 * when that is impossible (a truncated copy) the segment passes unchanged
 * and the event says why. */
static void intercept_rewrite(struct intercept *ic, const struct intercept_held *h, uint8_t *pkt,
			      size_t len)
{
	const struct fault_rule *r = fault_set_rule(ic->faults, (size_t)h->decision.rule);
	struct seg after;
	int ret = r ? mangle_rewrite(pkt, len, &r->rewrite) : -EINVAL;

	if (ret == 0)
		ret = seg_parse_ip(pkt, len, &after);
	if (ret < 0) {
		intercept_verdict(ic, h, NF_ACCEPT);
		intercept_emit_full(ic, INTERCEPT_ACTED, h, NULL, ret, 0);
		return;
	}
	intercept_verdict_with(ic, h, NF_ACCEPT, (uint32_t)len, pkt);
	intercept_emit_full(ic, INTERCEPT_ACTED, h, &after, 0, 0);
}

/* When the kernel queued the packet, on CLOCK_MONOTONIC: its receive stamp
 * (set on the wire's veth while some socket asks for timestamps; our pcap
 * handles do), else when we read it. Never later than the read: a stamp
 * from before a clock step must not make the dwell negative. */
static int64_t intercept_queued_ns(struct intercept *ic, struct nfq_data *nfad, int64_t read_ns)
{
	struct timeval tv;
	int64_t t;

	if (nfq_get_timestamp(nfad, &tv) < 0 || (tv.tv_sec == 0 && tv.tv_usec == 0))
		return read_ns;
	if (!ic->real_to_mono)
		ic->real_to_mono = fw_realtime_to_mono_offset();
	t = (int64_t)tv.tv_sec * FW_NS_PER_SEC + (int64_t)tv.tv_usec * 1000 + ic->real_to_mono;
	return t > read_ns || t < read_ns - 60 * FW_NS_PER_SEC ? read_ns : t;
}

int intercept_on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfad,
			void *data)
{
	struct intercept *ic = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfad);
	struct intercept_held h;
	unsigned char *payload = NULL;
	int plen;

	(void)nfmsg;
	if (!ph)
		return 0; /* no packet id: nothing we could give a verdict to */
	memset(&h, 0, sizeof(h));
	h.qh = qh;
	h.id = ntohl(ph->packet_id);
	h.read_ns = fw_now_ns();
	h.queued_ns = intercept_queued_ns(ic, nfad, h.read_ns);
	if (ic->closing) {
		intercept_pass(ic, &h);
		return 0;
	}
	plen = nfq_get_payload(nfad, &payload);
	/* A segment we cannot read is not one any rule could have meant: let it go. */
	if (plen < 0 || seg_parse_ip(payload, (size_t)plen, &h.seg) < 0) {
		intercept_pass(ic, &h);
		return 0;
	}
	h.from = intercept_host_of(ic, nfq_get_indev(nfad));
	if (ic->view) {
		struct fault_view view = {.state = -1};

		ic->view(ic->view_ctx, h.from, &h.seg, h.queued_ns, &view);
		h.decision = fault_set_decide_leg(ic->faults, ic->leg, h.from, &h.seg, &view);
	} else {
		h.decision = fault_set_decide_leg(ic->faults, ic->leg, h.from, &h.seg, NULL);
	}
	switch (h.decision.action) {
	case FAULT_PASS:
		intercept_pass(ic, &h);
		intercept_emit(ic, INTERCEPT_PASSED, &h);
		break;
	case FAULT_DROP:
		intercept_verdict(ic, &h, NF_DROP);
		intercept_emit(ic, INTERCEPT_ACTED, &h);
		break;
	case FAULT_DELAY:
	case FAULT_HOLD:
	case FAULT_REORDER:
		h.release_ns = h.queued_ns + (h.decision.delay_ns > 0 ? h.decision.delay_ns : 0);
		if (intercept_hold(ic, &h) < 0) {
			/* Better an undelayed segment than one stuck in the kernel. */
			intercept_verdict(ic, &h, NF_ACCEPT);
			if (!ic->cb_err)
				ic->cb_err = -ENOMEM;
			break;
		}
		intercept_emit(ic, INTERCEPT_ACTED, &h);
		break;
	case FAULT_DUPLICATE:
		intercept_verdict(ic, &h, NF_ACCEPT);
		intercept_emit(ic, INTERCEPT_ACTED, &h);
		intercept_duplicate(ic, &h, payload, (size_t)plen);
		break;
	case FAULT_REWRITE:
		intercept_rewrite(ic, &h, payload, (size_t)plen);
		break;
	}
	return 0;
}
