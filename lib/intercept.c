/* intercept: the NFQUEUE consumer of the wire namespace: open, the event loop hooks (process,
 * timer), free. */
#include "intercept_int.h"

/* ---- open / process / free ---- */

/* Errors that mean "this machine cannot queue here" rather than a fault of
 * ours: no capability, no nfnetlink, no nfnetlink_queue. */
static int intercept_unavailable_errno(int e)
{
	return e == EPERM || e == EACCES || e == EPROTONOSUPPORT || e == EAFNOSUPPORT ||
	       e == EOPNOTSUPP || e == ENOENT;
}

/* One queue on our handle: both deliver through its one socket, in the
 * order the kernel queued their packets. gso: take GSO packets whole. */
static int intercept_queue_create(struct intercept *ic, struct nfq_q_handle **qh, uint16_t num,
				  bool gso, char *err, size_t errlen)
{
	uint32_t maxlen;
	int ret = 0;

	*qh = nfq_create_queue(ic->h, num, intercept_on_packet, ic);
	if (!*qh) {
		int e = errno ? errno : EIO;

		/* The capability was checked when binding; here the kernel answers
		 * EPERM when another socket owns the queue (nfqnl_recv_config). */
		if (e == EPERM || e == EBUSY)
			ret = fw_err(
			    err, errlen, -EBUSY,
			    "wire: NFQUEUE queue %u already has a listener in this namespace",
			    num);
		else
			ret = fw_err(err, errlen, -e, "wire: NFQUEUE queue %u: %s", num, strerror(e));
		goto out;
	}
	if (nfq_set_mode(*qh, NFQNL_COPY_PACKET,
			 fault_set_needs_payload(ic->faults) ? INTERCEPT_COPY_FULL
							     : INTERCEPT_COPY_RANGE) < 0) {
		ret = fw_err(err, errlen, errno ? -errno : -EIO, "wire: NFQUEUE copy mode: %s",
			     strerror(errno));
		goto out;
	}
	/* A bulk transfer's GSO packets then reach us whole, not cut in the
	 * kernel into MTU segments each needing a round trip. Without the flag
	 * (kernels before 3.10) the kernel cuts them: slower, just as correct. */
	if (gso)
		(void)nfq_set_queue_flags(*qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
	/* tests/e2e_load.sh makes the queue overflow with a tiny one */
	maxlen = INTERCEPT_QUEUE_MAXLEN;
	if (getenv("FINWAVE_TEST_QUEUE_MAXLEN") && atoi(getenv("FINWAVE_TEST_QUEUE_MAXLEN")) > 0 &&
	    atoi(getenv("FINWAVE_TEST_QUEUE_MAXLEN")) < INTERCEPT_QUEUE_MAXLEN)
		maxlen = (uint32_t)atoi(getenv("FINWAVE_TEST_QUEUE_MAXLEN"));
	if (nfq_set_queue_maxlen(*qh, maxlen) < 0) {
		ret = fw_err(err, errlen, errno ? -errno : -EIO, "wire: NFQUEUE queue length: %s",
			     strerror(errno));
		goto out;
	}
out:
	return ret;
}

/* Everything that must happen inside the wire namespace: the queue socket
 * and the interface indexes belong to it. */
static int intercept_queue_open(struct intercept *ic, char *err, size_t errlen)
{
	static const uint16_t pfs[] = {AF_INET, AF_INET6};
	size_t i;
	int flags, ret = 0;

	ic->h = nfq_open();
	if (!ic->h) {
		int e = errno ? errno : EIO;

		ret = fw_err(err, errlen, intercept_unavailable_errno(e) ? -ENOTSUP : -e,
			     "wire: NFQUEUE unavailable: nfq_open: %s (need CAP_NET_ADMIN and "
			     "nfnetlink_queue)",
			     strerror(e));
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
	ic->gso_cut = fault_set_needs_payload(ic->faults) ? FAULT_GSO_CUT_ALL
							   : fault_set_gso_cut(ic->faults);
	ret = intercept_queue_create(ic, &ic->qh, ic->queue_num,
				     ic->gso_cut != FAULT_GSO_CUT_ALL, err, errlen);
	if (ret == 0 && ic->gso_cut && ic->gso_cut != FAULT_GSO_CUT_ALL)
		ret = intercept_queue_create(ic, &ic->qh_cut, ic->queue_num + 1, false, err, errlen);
	if (ret < 0)
		goto out;
	ic->fd = nfq_fd(ic->h);
	/* Uses SO_RCVBUFFORCE (we are root), so rmem_max does not cap it. */
	nfnl_rcvbufsiz(nfq_nfnlh(ic->h), INTERCEPT_RCVBUF);
	/* Non-blocking only now: the setup above waits for the kernel's acks. */
	flags = fcntl(ic->fd, F_GETFL);
	if (flags < 0 || fcntl(ic->fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(ic->fd, F_SETFD, FD_CLOEXEC) < 0) {
		ret =
		    fw_err(err, errlen, -errno, "wire: NFQUEUE socket flags: %s", strerror(errno));
		goto out;
	}
out:
	return ret;
}

/* What else lives in the wire's namespace: raw sockets for duplicates
 * (IPPROTO_RAW: we give the whole IP header; IPv4: IP_HDRINCL implied,
 * IPv6: the same since Linux 4.5) and the indexes of the interfaces
 * segments come in by. */
static int intercept_ns_handles(struct intercept *ic, char *err, size_t errlen)
{
	static const uint16_t pfs[] = {AF_INET, AF_INET6};
	size_t i;
	int h;

	for (i = 0; fault_set_needs_payload(ic->faults) && i < INTERCEPT_FAMILIES; i++) {
		ic->raw_fd[i] = socket(pfs[i], SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (ic->raw_fd[i] < 0)
			return fw_err(err, errlen, -errno, "wire: raw socket for duplicates: %s",
				      strerror(errno));
	}
	for (h = 0; h < HOST_COUNT; h++) {
		if (!ic->ifname[h][0])
			continue;
		ic->ifindex[h] = if_nametoindex(ic->ifname[h]);
		if (!ic->ifindex[h])
			return fw_err(err, errlen, -ENODEV, "wire: no interface %s: %s",
				      ic->ifname[h], strerror(errno));
	}
	return 0;
}

/* The interceptor's state from its configuration: faults, leg, queue, the
 * interfaces segments come in by, and our own reference to the wire's
 * namespace (intercept_free() still needs it to take the rules out, whatever
 * the caller closed by then). On error, what was made is in *out. */
static int intercept_new(struct intercept **out, const struct intercept_config *cfg, char *err,
			 size_t errlen)
{
	struct intercept *ic = calloc(1, sizeof(*ic));
	int h;

	*out = ic;
	if (!ic)
		return fw_err(err, errlen, -ENOMEM, "wire: out of memory");
	ic->fd = ic->timer_fd = ic->ns_fd = ic->stamp_fd = -1;
	ic->raw_fd[INTERCEPT_V4] = ic->raw_fd[INTERCEPT_V6] = -1;
	ic->view = cfg->view;
	ic->view_ctx = cfg->view_ctx;
	ic->faults = cfg->faults;
	ic->leg = cfg->leg;
	ic->queue_num = cfg->queue_num;
	ic->namespace_dies = cfg->namespace_dies;
	ic->ns_fd = fcntl(cfg->wire_ns_fd, F_DUPFD_CLOEXEC, 0);
	if (ic->ns_fd < 0)
		return fw_err(err, errlen, -errno, "wire: namespace fd: %s", strerror(errno));
	for (h = 0; h < HOST_COUNT; h++) {
		const char *name = cfg->in_ifname[h];

		if (!name)
			continue;
		if (!*name || strlen(name) >= IF_NAMESIZE)
			return fw_err(err, errlen, -EINVAL, "wire: bad interface name '%s'", name);
		strcpy(ic->ifname[h], name);
	}
	return 0;
}

/* The queue is bound from inside the wire's namespace (nfnetlink follows
 * the thread's). */
static int intercept_queue_open_in_ns(struct intercept *ic, char *err, size_t errlen)
{
	int saved, ret, lret;

	ret = netns_enter(ic->ns_fd, &saved);
	if (ret < 0)
		return fw_err(err, errlen, ret, "wire: cannot enter namespace: %s", strerror(-ret));
	ret = intercept_queue_open(ic, err, errlen);
	if (ret == 0)
		ret = intercept_ns_handles(ic, err, errlen);
	lret = netns_leave(saved);
	if (ret == 0 && lret < 0)
		ret = fw_err(err, errlen, lret, "wire: cannot return from namespace: %s",
			     strerror(-lret));
	return ret;
}

int intercept_open(struct intercept **out, const struct intercept_config *cfg, char *err,
		   size_t errlen)
{
	struct intercept *ic = NULL;
	int ret;

	*out = NULL;
	if (!cfg || cfg->wire_ns_fd < 0 || !cfg->faults) {
		ret =
		    fw_err(err, errlen, -EINVAL, "wire: interceptor needs a namespace and faults");
		goto out;
	}
	if ((ret = intercept_new(&ic, cfg, err, errlen)) < 0 ||
	    (ret = intercept_filters_build(ic, err, errlen)) < 0 ||
	    (ret = intercept_queue_open_in_ns(ic, err, errlen)) < 0)
		goto out;
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
	ret = intercept_filters_install(ic, err, errlen);
	if (ret < 0)
		goto out;
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

/* /proc/net/netfilter/nfnetlink_queue, read in the wire's namespace (it
 * follows the reading thread's): "queue portid total copy_mode copy_range
 * queue_dropped user_dropped id_seq 1" per queue. */
int intercept_dropped(const struct intercept *ic, unsigned long *dropped)
{
	char line[256];
	FILE *f = NULL;
	int saved, ret;

	*dropped = 0;
	ret = netns_enter(ic->ns_fd, &saved);
	if (ret < 0)
		return ret;
	f = fopen("/proc/thread-self/net/netfilter/nfnetlink_queue", "re");
	ret = f ? 0 : -errno;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long q, full, user;

		if (sscanf(line, "%lu %*u %*u %*u %*u %lu %lu", &q, &full, &user) == 3 &&
		    (q == ic->queue_num || (ic->qh_cut && q == ic->queue_num + 1u)))
			*dropped += full + user;
	}
	if (f)
		fclose(f);
	if (netns_leave(saved) < 0 && ret == 0)
		ret = -EIO;
	return ret;
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
	int64_t now;
	int ret;

	if (!ic)
		return -EINVAL;
	ic->fn = fn;
	ic->ctx = ctx;
	ic->cb_err = 0;
	ret = intercept_drain(ic);
	/* Only to clear readiness: the held list, not the count, says what is due. */
	(void)!read(ic->timer_fd, &expirations, sizeof(expirations));
	now = fw_now_ns();
	/* the timer fired INTERCEPT_SPIN_NS early: the rest is spun, not slept */
	if (ic->nheld && ic->held[0].release_ns > now &&
	    ic->held[0].release_ns - now <= INTERCEPT_SPIN_NS)
		while ((now = fw_now_ns()) < ic->held[0].release_ns)
			;
	intercept_release_due(ic, now, false);
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
	 * with no listener drops what they match: take them out (deleting our
	 * tables costs ~15 ms) unless the namespace dies with us. Stop
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
	/* The first unbind of a handle here fails with EAGAIN (seen on 6.18,
	 * with one queue or two, the socket blocking or not; the cause was not
	 * found), and libnetfilter_queue then keeps the handle, which leaked:
	 * try again, bounded (the second try succeeds). */
	for (i = 0; ic->qh_cut && i < INTERCEPT_UNBIND_TRIES; i++)
		if (nfq_destroy_queue(ic->qh_cut) == 0)
			ic->qh_cut = NULL;
	for (i = 0; ic->qh && i < INTERCEPT_UNBIND_TRIES; i++)
		if (nfq_destroy_queue(ic->qh) == 0)
			ic->qh = NULL;
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
