#include "intercept.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netfilter.h> /* NF_ACCEPT, NF_DROP */
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include "mangle.h"
#include "netns.h"
#include "proc.h"
#include "util.h"

/* IPv6 (40) + the longest TCP header (60) fit with room to spare; a teardown
 * needs headers only, and copying less keeps each queued segment cheap. Same
 * figure as the capture snap length so both views of a segment agree. */
#define INTERCEPT_COPY_RANGE 256
/* Duplicates and rewrites need the whole packet: the kernel has already
 * split GSO packets (NFQA_CFG_F_GSO is never set with them), so one MTU is
 * enough, but a veth MTU can be up to 64 KiB. */
#define INTERCEPT_COPY_FULL 0xffff
/* Delayed segments stay in the kernel queue until their verdict, so the queue
 * must hold a case's worth of them besides those in flight. */
#define INTERCEPT_QUEUE_MAXLEN 4096
/* A burst that outruns us overflows the socket and the kernel drops those
 * segments (ENOBUFS): a teardown case must never lose one by accident. */
#define INTERCEPT_RCVBUF (8u << 20)
/* Datagrams handled per intercept_process() call, so a flood cannot starve
 * the rest of the event loop; the fd stays readable for the next round. */
#define INTERCEPT_RECV_BATCH 1024
/* One iptables run: -w waits for the xtables lock, the kill comes after. */
#define INTERCEPT_CMD_LOCK_WAIT "5"
#define INTERCEPT_CMD_TIMEOUT_NS (10 * FW_NS_PER_SEC)
#define INTERCEPT_CMD_OUTLEN 512

enum intercept_family {
	INTERCEPT_V4,
	INTERCEPT_V6,
};
#define INTERCEPT_FAMILIES 2

/* Per family: the nft-backed tool first, then the legacy one. */
static const char *const intercept_tools[INTERCEPT_FAMILIES][2] = {
	[INTERCEPT_V4] = { "iptables", "iptables-legacy" },
	[INTERCEPT_V6] = { "ip6tables", "ip6tables-legacy" },
};

/* One kernel pre-filter rule: every TCP segment arriving from a host. */
struct intercept_filter {
	enum fw_host from;
	bool installed[INTERCEPT_FAMILIES];
};

/* A delayed or held segment: the kernel keeps the packet, we keep its
 * verdict. Or the copy of a duplicated one: then we keep the bytes. */
struct intercept_held {
	uint32_t id;
	int64_t queued_ns, read_ns, release_ns;
	enum fw_host from;
	struct seg seg;
	struct fault_decision decision;
	uint8_t *copy; /* malloc'd packet for a pending duplicate, else NULL */
	size_t copy_len;
};

struct intercept {
	int ns_fd; /* our own dup of the wire namespace, for iptables at free time */
	struct fault_set *faults;
	uint16_t queue_num;
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	int fd, timer_fd;
	int raw_fd[INTERCEPT_FAMILIES]; /* duplicates leave through these, -1 unused */
	int stamp_fd; /* asks the kernel to stamp every received packet, -1 none */
	void (*view)(void *ctx, enum fw_host from, const struct seg *s, int64_t sent_ns,
		     struct fault_view *out);
	void *view_ctx;
	char ifname[HOST_COUNT][IF_NAMESIZE];
	unsigned ifindex[HOST_COUNT]; /* 0: no interface for that host */
	int backend[INTERCEPT_FAMILIES]; /* index into intercept_tools, -1 unknown yet */
	char tool_path[INTERCEPT_FAMILIES][PATH_MAX];
	struct intercept_filter *filters;
	size_t nfilters;
	struct intercept_held *held; /* sorted by release_ns, FIFO among equals */
	size_t nheld, held_cap;
	bool realtime; /* we raised the thread to SCHED_FIFO for a timed one */
	int64_t real_to_mono; /* the queue stamps packets on CLOCK_REALTIME */
	/* Passes not yet told to the kernel: one nfq_set_verdict_batch() accepts
	 * every queued packet up to batch_id, so it is used only while no packet
	 * is held back in the kernel queue. */
	bool batch_pending;
	uint32_t batch_id;
	/* Valid during intercept_process() only: where the callback reports. */
	intercept_fn fn;
	void *ctx;
	int cb_err;
	bool closing; /* intercept_free(): accept whatever is still queued */
	bool namespace_dies; /* intercept_free() leaves the rules to die with it */
	char buf[65536] __attribute__((aligned(8)));
};

/* ---- running iptables inside the wire namespace: proc_run_ns() ---- */

/* iptables -w 5 -A FORWARD -i cl0 -p tcp -j NFQUEUE --queue-num N, run
 * with the given tool. */
static int intercept_filter_run(struct intercept *ic, const char *tool,
				const struct intercept_filter *f, const char *op, char *out,
				size_t outlen)
{
	char qnum[8];
	char *argv[20];
	int argc = 0;

	snprintf(qnum, sizeof(qnum), "%u", ic->queue_num);
	argv[argc++] = (char *)tool;
	argv[argc++] = "-w";
	argv[argc++] = INTERCEPT_CMD_LOCK_WAIT;
	argv[argc++] = (char *)op;
	argv[argc++] = "FORWARD";
	argv[argc++] = "-i";
	argv[argc++] = ic->ifname[f->from];
	argv[argc++] = "-p";
	argv[argc++] = "tcp";
	argv[argc++] = "-j";
	argv[argc++] = "NFQUEUE";
	argv[argc++] = "--queue-num";
	argv[argc++] = qnum;
	argv[argc] = NULL;
	return proc_run_ns(ic->ns_fd, argv, NULL, INTERCEPT_CMD_TIMEOUT_NS, out, outlen);
}

static void intercept_filter_describe(const struct intercept *ic, const struct intercept_filter *f,
				      const char *tool, char *buf, size_t len)
{
	snprintf(buf, len, "%s -A FORWARD -i %s -p tcp -j NFQUEUE --queue-num %u", tool,
		 ic->ifname[f->from], ic->queue_num);
}

/* Install one filter for one family. The first command of a family picks the
 * backend: the nft-backed tool, else the legacy one; later commands stick to
 * it, since rules split over two backends would be hard to reason about. */
static int intercept_filter_install(struct intercept *ic, enum intercept_family fam,
				    struct intercept_filter *f, char *err, size_t errlen)
{
	char out[2][INTERCEPT_CMD_OUTLEN], line[2][160], cmd[256];
	int b, first, last, ret = -ENOTSUP;

	first = ic->backend[fam] >= 0 ? ic->backend[fam] : 0;
	last = ic->backend[fam] >= 0 ? ic->backend[fam] : 1;
	for (b = first; b <= last; b++) {
		const char *name = intercept_tools[fam][b];

		line[b][0] = '\0';
		if (proc_tool_find(name, ic->tool_path[fam], sizeof(ic->tool_path[fam])) < 0) {
			snprintf(line[b], sizeof(line[b]), "not found in PATH or /usr/sbin, /sbin");
			ret = -ENOENT;
			continue;
		}
		ret = intercept_filter_run(ic, ic->tool_path[fam], f, "-A", out[b],
					   sizeof(out[b]));
		if (ret == 0) {
			ic->backend[fam] = b;
			f->installed[fam] = true;
			goto out;
		}
		proc_first_line(out[b], line[b], sizeof(line[b]));
	}
	if (ic->backend[fam] < 0) {
		ret = fw_err(err, errlen, -ENOTSUP,
			     "wire: NFQUEUE unavailable in a network namespace: %s failed: %s; "
			     "%s failed: %s; install iptables and load xt_NFQUEUE/nfnetlink_queue",
			     intercept_tools[fam][0], line[0], intercept_tools[fam][1], line[1]);
		goto out;
	}
	intercept_filter_describe(ic, f, intercept_tools[fam][ic->backend[fam]], cmd, sizeof(cmd));
	ret = fw_err(err, errlen, ret == -ETIMEDOUT ? -ETIMEDOUT : -EIO, "wire: %s: %s", cmd,
		     line[ic->backend[fam]]);
out:
	return ret;
}

/* Best effort: used at free time and after a failed open, when there is
 * nobody left to report to. */
static void intercept_filters_remove(struct intercept *ic)
{
	char out[INTERCEPT_CMD_OUTLEN];
	size_t i;
	int fam;

	for (i = 0; i < ic->nfilters; i++) {
		for (fam = 0; fam < INTERCEPT_FAMILIES; fam++) {
			if (!ic->filters[i].installed[fam])
				continue;
			intercept_filter_run(ic, ic->tool_path[fam], &ic->filters[i], "-D", out,
					     sizeof(out));
			ic->filters[i].installed[fam] = false;
		}
	}
}

/* One filter per sender that some rule names, queueing every TCP segment
 * of that sender: a flags-only pre-filter let the segments no rule wanted
 * pass straight through while matching ones waited for the consumer, so on
 * a busy machine the harness itself reordered the sender's stream (a pure
 * ACK overtaken by the FIN behind it). All through one queue, they leave in
 * the order they came unless a fault holds one back. Disarmed rules are
 * included: a case may arm them mid-run and the interceptor is not told. */
static int intercept_filters_build(struct intercept *ic, char *err, size_t errlen)
{
	size_t i, j, n = fault_set_count(ic->faults);
	int ret = 0;

	ic->filters = calloc(n + 1, sizeof(*ic->filters));
	if (!ic->filters) {
		ret = fw_err(err, errlen, -ENOMEM, "wire: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct fault_rule *r = fault_set_rule(ic->faults, i);
		struct intercept_filter f = { .from = r->from };

		/* The wire namespace sends nothing through FORWARD itself. */
		if (r->from != HOST_CLIENT && r->from != HOST_SERVER)
			continue;
		/* (flags & mask) == value cannot hold: the rule never matches. */
		if (r->flags_value & ~r->flags_mask)
			continue;
		if (!ic->ifname[r->from][0]) {
			ret = fw_err(err, errlen, -EINVAL,
				     "wire: fault rule '%s': no wire interface given for its sender",
				     r->name);
			goto out;
		}
		for (j = 0; j < ic->nfilters; j++)
			if (ic->filters[j].from == f.from)
				break;
		if (j == ic->nfilters)
			ic->filters[ic->nfilters++] = f;
	}
out:
	return ret;
}

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

static void intercept_batch_flush(struct intercept *ic)
{
	if (!ic->batch_pending)
		return;
	ic->batch_pending = false;
	if (nfq_set_verdict_batch(ic->qh, ic->batch_id, NF_ACCEPT) < 0 && !ic->cb_err)
		ic->cb_err = errno ? -errno : -EIO;
}

/* The kernel forwards a packet when it reads its verdict: passes waiting
 * for their batch go first, or a later segment (a rewritten FIN) would
 * overtake earlier ones on the wire. */
static void intercept_verdict_with(struct intercept *ic, uint32_t id, uint32_t verdict,
				   uint32_t len, const uint8_t *pkt)
{
	intercept_batch_flush(ic);
	if (nfq_set_verdict(ic->qh, id, verdict, len, pkt) < 0 && !ic->cb_err)
		ic->cb_err = errno ? -errno : -EIO;
}

static void intercept_verdict(struct intercept *ic, uint32_t id, uint32_t verdict)
{
	intercept_verdict_with(ic, id, verdict, 0, NULL);
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
 * instead of one per segment. */
static void intercept_pass(struct intercept *ic, uint32_t id)
{
	if (intercept_holds_packet(ic)) {
		intercept_verdict(ic, id, NF_ACCEPT);
		return;
	}
	ic->batch_pending = true;
	ic->batch_id = id;
}

/* A delay is only as precise as the wake-up after its timer fires: on a busy
 * machine a normal thread may wait milliseconds for a CPU. While some
 * segment is due at a set time (a delay, a duplicate's copy) the thread runs
 * SCHED_FIFO (lowest priority; children reset on fork), and is normal again
 * when none is: real-time for the whole case starved the kernel's own work
 * at high --jobs. Without the privilege delays are just less precise. */
static void intercept_realtime_update(struct intercept *ic)
{
	struct sched_param sp = { .sched_priority = 0 };
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
		its.it_value.tv_sec = ic->held[0].release_ns / FW_NS_PER_SEC;
		its.it_value.tv_nsec = ic->held[0].release_ns % FW_NS_PER_SEC;
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
static void intercept_release_due(struct intercept *ic, int64_t now, bool all)
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
			intercept_verdict(ic, h->id, NF_ACCEPT);
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

size_t intercept_release_rule(struct intercept *ic, int rule, int64_t before_ns,
			      intercept_fn fn, void *ctx)
{
	size_t k = 0, kept = 0, released = 0;

	if (!ic)
		return 0;
	ic->fn = fn;
	ic->ctx = ctx;
	for (k = 0; k < ic->nheld; k++) {
		struct intercept_held *h = &ic->held[k];

		if (!h->copy && h->decision.rule == rule && h->queued_ns < before_ns) {
			intercept_verdict(ic, h->id, NF_ACCEPT);
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
static void intercept_rewrite(struct intercept *ic, const struct intercept_held *h,
			      uint8_t *pkt, size_t len)
{
	const struct fault_rule *r = fault_set_rule(ic->faults, (size_t)h->decision.rule);
	struct seg after;
	int ret = r ? mangle_rewrite(pkt, len, &r->rewrite) : -EINVAL;

	if (ret == 0)
		ret = seg_parse_ip(pkt, len, &after);
	if (ret < 0) {
		intercept_verdict(ic, h->id, NF_ACCEPT);
		intercept_emit_full(ic, INTERCEPT_ACTED, h, NULL, ret, 0);
		return;
	}
	intercept_verdict_with(ic, h->id, NF_ACCEPT, (uint32_t)len, pkt);
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

static int intercept_on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg,
			       struct nfq_data *nfad, void *data)
{
	struct intercept *ic = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfad);
	struct intercept_held h;
	unsigned char *payload = NULL;
	int plen;

	(void)qh;
	(void)nfmsg;
	if (!ph)
		return 0; /* no packet id: nothing we could give a verdict to */
	memset(&h, 0, sizeof(h));
	h.id = ntohl(ph->packet_id);
	h.read_ns = fw_now_ns();
	h.queued_ns = intercept_queued_ns(ic, nfad, h.read_ns);
	if (ic->closing) {
		intercept_pass(ic, h.id);
		return 0;
	}
	plen = nfq_get_payload(nfad, &payload);
	/* A segment we cannot read is not one any rule could have meant: let it go. */
	if (plen < 0 || seg_parse_ip(payload, (size_t)plen, &h.seg) < 0) {
		intercept_pass(ic, h.id);
		return 0;
	}
	h.from = intercept_host_of(ic, nfq_get_indev(nfad));
	if (ic->view) {
		struct fault_view view = { .state = -1 };

		ic->view(ic->view_ctx, h.from, &h.seg, h.queued_ns, &view);
		h.decision = fault_set_decide(ic->faults, h.from, &h.seg, &view);
	} else {
		h.decision = fault_set_decide(ic->faults, h.from, &h.seg, NULL);
	}
	switch (h.decision.action) {
	case FAULT_PASS:
		intercept_pass(ic, h.id);
		intercept_emit(ic, INTERCEPT_PASSED, &h);
		break;
	case FAULT_DROP:
		intercept_verdict(ic, h.id, NF_DROP);
		intercept_emit(ic, INTERCEPT_ACTED, &h);
		break;
	case FAULT_DELAY:
	case FAULT_HOLD:
	case FAULT_REORDER:
		h.release_ns = h.queued_ns + (h.decision.delay_ns > 0 ? h.decision.delay_ns : 0);
		if (intercept_hold(ic, &h) < 0) {
			/* Better an undelayed segment than one stuck in the kernel. */
			intercept_verdict(ic, h.id, NF_ACCEPT);
			if (!ic->cb_err)
				ic->cb_err = -ENOMEM;
			break;
		}
		intercept_emit(ic, INTERCEPT_ACTED, &h);
		break;
	case FAULT_DUPLICATE:
		intercept_verdict(ic, h.id, NF_ACCEPT);
		intercept_emit(ic, INTERCEPT_ACTED, &h);
		intercept_duplicate(ic, &h, payload, (size_t)plen);
		break;
	case FAULT_REWRITE:
		intercept_rewrite(ic, &h, payload, (size_t)plen);
		break;
	}
	return 0;
}

/* ---- open / process / free ---- */

/* Errors that mean "this machine cannot queue here" rather than a fault of
 * ours: no capability, no nfnetlink, no nfnetlink_queue. */
static int intercept_unavailable_errno(int e)
{
	return e == EPERM || e == EACCES || e == EPROTONOSUPPORT || e == EAFNOSUPPORT ||
	       e == EOPNOTSUPP || e == ENOENT;
}

/* Everything that must happen inside the wire namespace: the queue socket
 * and the interface indexes belong to it. */
static int intercept_queue_open(struct intercept *ic, char *err, size_t errlen)
{
	static const uint16_t pfs[] = { AF_INET, AF_INET6 };
	size_t i;
	int h, flags, ret = 0;

	ic->h = nfq_open();
	if (!ic->h) {
		int e = errno ? errno : EIO;

		ret = fw_err(err, errlen, intercept_unavailable_errno(e) ? -ENOTSUP : -e,
			     "wire: NFQUEUE unavailable: nfq_open: %s (need CAP_NET_ADMIN and "
			     "nfnetlink_queue)", strerror(e));
		goto out;
	}
	for (i = 0; i < sizeof(pfs) / sizeof(pfs[0]); i++) {
		/* Since Linux 3.8 both are no-ops; older kernels want the unbind
		 * first and may fail it harmlessly. */
		nfq_unbind_pf(ic->h, pfs[i]);
		if (nfq_bind_pf(ic->h, pfs[i]) < 0) {
			int e = errno ? errno : EIO;

			ret = fw_err(err, errlen, intercept_unavailable_errno(e) ? -ENOTSUP : -e,
				     "wire: NFQUEUE unavailable: nfq_bind_pf(%s): %s (need "
				     "CAP_NET_ADMIN and nfnetlink_queue)",
				     pfs[i] == AF_INET ? "AF_INET" : "AF_INET6", strerror(e));
			goto out;
		}
	}
	ic->qh = nfq_create_queue(ic->h, ic->queue_num, intercept_on_packet, ic);
	if (!ic->qh) {
		int e = errno ? errno : EIO;

		/* The capability was checked when binding; here the kernel answers
		 * EPERM when another socket owns the queue (nfqnl_recv_config). */
		if (e == EPERM || e == EBUSY)
			ret = fw_err(err, errlen, -EBUSY,
				     "wire: NFQUEUE queue %u already has a listener in this namespace",
				     ic->queue_num);
		else
			ret = fw_err(err, errlen, -e, "wire: NFQUEUE queue %u: %s", ic->queue_num,
				     strerror(e));
		goto out;
	}
	if (nfq_set_mode(ic->qh, NFQNL_COPY_PACKET,
			 fault_set_needs_payload(ic->faults) ? INTERCEPT_COPY_FULL :
							       INTERCEPT_COPY_RANGE) < 0) {
		ret = fw_err(err, errlen, errno ? -errno : -EIO, "wire: NFQUEUE copy mode: %s",
			     strerror(errno));
		goto out;
	}
	/* A bulk transfer's GSO packets then reach us whole, not cut in the
	 * kernel into MTU segments each needing a round trip. Without the flag
	 * (kernels before 3.10) the kernel cuts them: slower, just as correct. */
	if (!fault_set_needs_payload(ic->faults) && fault_set_gso_safe(ic->faults))
		(void)nfq_set_queue_flags(ic->qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
	if (nfq_set_queue_maxlen(ic->qh, INTERCEPT_QUEUE_MAXLEN) < 0) {
		ret = fw_err(err, errlen, errno ? -errno : -EIO, "wire: NFQUEUE queue length: %s",
			     strerror(errno));
		goto out;
	}
	ic->fd = nfq_fd(ic->h);
	/* Uses SO_RCVBUFFORCE (we are root), so rmem_max does not cap it. */
	nfnl_rcvbufsiz(nfq_nfnlh(ic->h), INTERCEPT_RCVBUF);
	/* Non-blocking only now: the setup above waits for the kernel's acks. */
	flags = fcntl(ic->fd, F_GETFL);
	if (flags < 0 || fcntl(ic->fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(ic->fd, F_SETFD, FD_CLOEXEC) < 0) {
		ret = fw_err(err, errlen, -errno, "wire: NFQUEUE socket flags: %s", strerror(errno));
		goto out;
	}
	/* IPPROTO_RAW: we give the whole IP header (IPv4: IP_HDRINCL implied;
	 * IPv6: the same since Linux 4.5). */
	for (i = 0; fault_set_needs_payload(ic->faults) && i < INTERCEPT_FAMILIES; i++) {
		ic->raw_fd[i] = socket(pfs[i], SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (ic->raw_fd[i] < 0) {
			ret = fw_err(err, errlen, -errno, "wire: raw socket for duplicates: %s",
				     strerror(errno));
			goto out;
		}
	}
	for (h = 0; h < HOST_COUNT; h++) {
		if (!ic->ifname[h][0])
			continue;
		ic->ifindex[h] = if_nametoindex(ic->ifname[h]);
		if (!ic->ifindex[h]) {
			ret = fw_err(err, errlen, -ENODEV, "wire: no interface %s: %s", ic->ifname[h],
				     strerror(errno));
			goto out;
		}
	}
out:
	return ret;
}

int intercept_open(struct intercept **out, const struct intercept_config *cfg, char *err,
		   size_t errlen)
{
	struct intercept *ic = NULL;
	int saved = -1, ret, lret, h;
	size_t i;
	int fam;

	*out = NULL;
	if (!cfg || cfg->wire_ns_fd < 0 || !cfg->faults) {
		ret = fw_err(err, errlen, -EINVAL, "wire: interceptor needs a namespace and faults");
		goto out;
	}
	ic = calloc(1, sizeof(*ic));
	if (!ic) {
		ret = fw_err(err, errlen, -ENOMEM, "wire: out of memory");
		goto out;
	}
	ic->fd = ic->timer_fd = ic->ns_fd = ic->stamp_fd = -1;
	ic->raw_fd[INTERCEPT_V4] = ic->raw_fd[INTERCEPT_V6] = -1;
	ic->view = cfg->view;
	ic->view_ctx = cfg->view_ctx;
	ic->backend[INTERCEPT_V4] = ic->backend[INTERCEPT_V6] = -1;
	ic->faults = cfg->faults;
	ic->queue_num = cfg->queue_num;
	ic->namespace_dies = cfg->namespace_dies;
	/* Our own reference: intercept_free() still needs the namespace to take
	 * the rules out, whatever the caller closed by then. */
	ic->ns_fd = fcntl(cfg->wire_ns_fd, F_DUPFD_CLOEXEC, 0);
	if (ic->ns_fd < 0) {
		ret = fw_err(err, errlen, -errno, "wire: namespace fd: %s", strerror(errno));
		goto out;
	}
	for (h = 0; h < HOST_COUNT; h++) {
		const char *name = cfg->in_ifname[h];

		if (!name)
			continue;
		if (!*name || strlen(name) >= IF_NAMESIZE) {
			ret = fw_err(err, errlen, -EINVAL, "wire: bad interface name '%s'", name);
			goto out;
		}
		strcpy(ic->ifname[h], name);
	}
	ret = intercept_filters_build(ic, err, errlen);
	if (ret < 0)
		goto out;

	ret = netns_enter(ic->ns_fd, &saved);
	if (ret < 0) {
		fw_err(err, errlen, ret, "wire: cannot enter namespace: %s", strerror(-ret));
		goto out;
	}
	ret = intercept_queue_open(ic, err, errlen);
	lret = netns_leave(saved);
	saved = -1;
	if (ret < 0)
		goto out;
	if (lret < 0) {
		ret = fw_err(err, errlen, lret, "wire: cannot return from namespace: %s",
			     strerror(-lret));
		goto out;
	}

	/* The queue reports when a packet arrived only if the kernel stamped it,
	 * which it does (machine-wide) while some socket wants timestamps: this
	 * one does, so each segment's dwell in the queue is known. Best effort. */
	ic->stamp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ic->stamp_fd >= 0) {
		int one = 1;

		(void)setsockopt(ic->stamp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	}
	ic->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ic->timer_fd < 0) {
		ret = fw_err(err, errlen, -errno, "wire: timerfd: %s", strerror(errno));
		goto out;
	}

	/* Rules last: the queue already has its listener, so no segment meets a
	 * queue nobody reads (the kernel would drop it). */
	for (fam = 0; fam < INTERCEPT_FAMILIES; fam++) {
		for (i = 0; i < ic->nfilters; i++) {
			ret = intercept_filter_install(ic, (enum intercept_family)fam,
						       &ic->filters[i], err, errlen);
			if (ret < 0)
				goto out;
		}
	}
	*out = ic;
	ic = NULL;
	ret = 0;
out:
	intercept_free(ic);
	return ret;
}

int intercept_fd(const struct intercept *ic)
{
	return ic ? ic->fd : -1;
}

int intercept_timer_fd(const struct intercept *ic)
{
	return ic ? ic->timer_fd : -1;
}

size_t intercept_pending(const struct intercept *ic)
{
	return ic ? ic->nheld : 0;
}

/* Read and handle up to INTERCEPT_RECV_BATCH datagrams. */
static int intercept_drain(struct intercept *ic)
{
	int i, ret = 0;

	for (i = 0; i < INTERCEPT_RECV_BATCH; i++) {
		ssize_t n = recv(ic->fd, ic->buf, sizeof(ic->buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* The socket overflowed and the kernel dropped the segments it
			 * could not deliver: a case must hear of it, but the segments
			 * behind them still wait for verdicts. */
			if (errno == ENOBUFS) {
				ret = -ENOBUFS;
				continue;
			}
			if (!ret)
				ret = -errno;
			break;
		}
		nfq_handle_packet(ic->h, ic->buf, (int)n);
	}
	intercept_batch_flush(ic);
	return ret;
}

/* Returns 0, or -ENOBUFS when the kernel dropped segments because the queue
 * socket overflowed (everything else was still handled), or another -errno
 * (a verdict the kernel refused, no memory to hold a delayed segment). */
int intercept_process(struct intercept *ic, intercept_fn fn, void *ctx)
{
	uint64_t expirations;
	int ret;

	if (!ic)
		return -EINVAL;
	ic->fn = fn;
	ic->ctx = ctx;
	ic->cb_err = 0;
	ret = intercept_drain(ic);
	/* Only to clear readiness: the held list, not the count, says what is due. */
	(void)!read(ic->timer_fd, &expirations, sizeof(expirations));
	intercept_release_due(ic, fw_now_ns(), false);
	if (!ret)
		ret = ic->cb_err;
	ic->fn = NULL;
	ic->ctx = NULL;
	return ret;
}

void intercept_free(struct intercept *ic)
{
	int i;

	if (!ic)
		return;
	/* The rules would outlive us in a namespace the caller keeps, and a queue
	 * with no listener drops what they match: take them out (a -D costs
	 * ~12 ms with the nft backend) unless the namespace dies with us. Stop
	 * queueing first, then let through what is queued or held: a destroyed
	 * queue would drop them. */
	if (!ic->namespace_dies)
		intercept_filters_remove(ic);
	ic->fn = NULL;
	ic->closing = true;
	if (ic->h && ic->qh && ic->fd >= 0)
		intercept_drain(ic);
	if (ic->qh)
		intercept_release_due(ic, 0, true);
	if (ic->qh)
		nfq_destroy_queue(ic->qh);
	if (ic->h)
		nfq_close(ic->h);
	if (ic->timer_fd >= 0)
		close(ic->timer_fd);
	if (ic->stamp_fd >= 0)
		close(ic->stamp_fd);
	for (i = 0; i < INTERCEPT_FAMILIES; i++)
		if (ic->raw_fd[i] >= 0)
			close(ic->raw_fd[i]);
	if (ic->ns_fd >= 0)
		close(ic->ns_fd);
	free(ic->held);
	free(ic->filters);
	free(ic);
}
