/* capture: a libpcap handle opened inside one namespace.
 * The packet socket behind pcap belongs to the namespace that was current
 * when pcap_activate() created it, so only create+activate run between
 * netns_enter() and netns_leave(); everything after works from any namespace. */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "util.h"

/* Enough for a few thousand headers-only records between two dispatches;
 * a teardown case moves a handful of segments, bulk cases must not pin MiBs
 * per interface when many cases run at once. The default of
 * capture_open_begin()'s bufsize. */
#define CAPTURE_BUFSIZE (2 * 1024 * 1024)
/* BPF "tcp" matches TCP over both IPv4 and IPv6. VLAN-tagged frames would
 * need "vlan and tcp"; the topology never tags, so plain "tcp" it is. */
#define CAPTURE_FILTER "tcp"

struct capture {
	pcap_t *pcap;
	int fd;
	/* CLOCK_REALTIME -> CLOCK_MONOTONIC, measured once at open: a timeline
	 * must not jump if the wall clock is stepped during a case. */
	int64_t real_to_mono;
	unsigned dropped; /* last value pcap_stats() gave */
};

struct capture_dispatch_ctx {
	const struct capture *c;
	capture_fn fn;
	void *ctx;
};

/* pcap status codes to -errno, for the error classes callers may tell apart. */
static int capture_pcap_errno(int status)
{
	switch (status) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return -ENODEV;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return -EPERM;
	case PCAP_ERROR_IFACE_NOT_UP:
		return -ENETDOWN;
	case PCAP_ERROR_TSTAMP_PRECISION_NOTSUP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

/* Create and activate ifname in the current namespace. */
static int capture_activate(struct capture *c, const char *ifname, size_t bufsize, char *err,
			    size_t errlen)
{
	char pe[PCAP_ERRBUF_SIZE] = "";
	int ret = 0, st;

	c->pcap = pcap_create(ifname, pe);
	if (!c->pcap) {
		ret = fw_err(err, errlen, -ENOMEM, "capture %s: pcap_create: %s", ifname, pe);
		goto out;
	}
	if ((st = pcap_set_snaplen(c->pcap, CAPTURE_SNAPLEN)) != 0 ||
	    (st = pcap_set_immediate_mode(c->pcap, 1)) != 0 ||
	    (st = pcap_set_buffer_size(c->pcap, (int)bufsize)) != 0 ||
	    (st = pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO)) != 0) {
		ret = fw_err(err, errlen, capture_pcap_errno(st), "capture %s: setting options: %s",
			     ifname, pcap_statustostr(st));
		goto out;
	}
	st = pcap_activate(c->pcap);
	/* A positive value is a warning (e.g. PCAP_WARNING_TSTAMP_TYPE_NOTSUP)
	 * and the handle works. */
	if (st < 0) {
		ret = fw_err(err, errlen, capture_pcap_errno(st), "capture %s: activate: %s: %s",
			     ifname, pcap_statustostr(st), pcap_geterr(c->pcap));
		goto out;
	}
out:
	return ret;
}

static int capture_open_sized(struct capture **out, int ns_fd, const char *ifname, size_t bufsize,
			      char *err, size_t errlen)
{
	char pe[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct capture *c = NULL;
	bool compiled = false;
	int ret, saved, lret, dlt;

	if (!out || !ifname || !*ifname) {
		ret = fw_err(err, errlen, -EINVAL, "capture: no interface name");
		goto out;
	}
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = fw_err(err, errlen, -ENOMEM, "capture %s: out of memory", ifname);
		goto out;
	}
	c->fd = -1;

	ret = netns_enter(ns_fd, &saved);
	if (ret < 0) {
		fw_err(err, errlen, ret, "capture %s: entering namespace: %s", ifname, strerror(-ret));
		goto out;
	}
	ret = capture_activate(c, ifname, bufsize ? bufsize : CAPTURE_BUFSIZE, err, errlen);
	lret = netns_leave(saved);
	if (ret < 0)
		goto out;
	if (lret < 0) {
		/* The thread is stuck in the case's namespace: report it loudly
		 * rather than let later sockets open in the wrong place. */
		ret = fw_err(err, errlen, lret, "capture %s: leaving namespace: %s", ifname,
			     strerror(-lret));
		goto out;
	}

	dlt = pcap_datalink(c->pcap);
	if (dlt != DLT_EN10MB) {
		ret = fw_err(err, errlen, -EPROTONOSUPPORT,
			     "capture %s: link type %s, only Ethernet (EN10MB) is parsed", ifname,
			     pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		goto out;
	}
	if (pcap_compile(c->pcap, &prog, CAPTURE_FILTER, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		ret = fw_err(err, errlen, -EINVAL, "capture %s: filter \"%s\": %s", ifname,
			     CAPTURE_FILTER, pcap_geterr(c->pcap));
		goto out;
	}
	compiled = true;
	if (pcap_setfilter(c->pcap, &prog) < 0) {
		ret = fw_err(err, errlen, -EIO, "capture %s: setfilter: %s", ifname,
			     pcap_geterr(c->pcap));
		goto out;
	}
	if (pcap_setnonblock(c->pcap, 1, pe) < 0) {
		ret = fw_err(err, errlen, -EIO, "capture %s: setnonblock: %s", ifname, pe);
		goto out;
	}
	c->fd = pcap_get_selectable_fd(c->pcap);
	if (c->fd < 0) {
		ret = fw_err(err, errlen, -EOPNOTSUPP, "capture %s: no selectable fd", ifname);
		goto out;
	}
	c->real_to_mono = fw_realtime_to_mono_offset();
	*out = c;
	c = NULL;
	ret = 0;
out:
	if (compiled)
		pcap_freecode(&prog);
	capture_free(c);
	return ret;
}

int capture_open(struct capture **out, int ns_fd, const char *ifname, char *err, size_t errlen)
{
	return capture_open_sized(out, ns_fd, ifname, 0, err, errlen);
}

int capture_fd(const struct capture *c)
{
	return c ? c->fd : -EINVAL;
}

static void capture_handler(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	const struct capture_dispatch_ctx *d = (const struct capture_dispatch_ctx *)user;
	struct capture_packet p;

	/* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds. */
	p.t_real_ns = (int64_t)h->ts.tv_sec * FW_NS_PER_SEC + (int64_t)h->ts.tv_usec;
	p.t_ns = p.t_real_ns + d->c->real_to_mono;
	p.data = bytes;
	p.caplen = h->caplen;
	p.len = h->len;
	d->fn(d->ctx, &p);
}

int capture_dispatch(struct capture *c, capture_fn fn, void *ctx)
{
	struct capture_dispatch_ctx d = { c, fn, ctx };
	int n;

	if (!c || !fn)
		return -EINVAL;
	/* -1: everything the ring holds now. Non-blocking, so 0 when empty;
	 * packets that land meanwhile keep the fd readable for the next round. */
	n = pcap_dispatch(c->pcap, -1, capture_handler, (u_char *)&d);
	if (n == PCAP_ERROR_BREAK)
		return 0;
	return n < 0 ? -EIO : n;
}

unsigned capture_dropped(struct capture *c)
{
	struct pcap_stat st;

	/* libpcap accumulates the kernel's PACKET_STATISTICS (which reset on
	 * every read), so ps_drop counts since open. Keep the last good value
	 * if the query fails. */
	if (c && pcap_stats(c->pcap, &st) == 0)
		c->dropped = st.ps_drop;
	return c ? c->dropped : 0;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	/* pcap_close() also closes the selectable fd. */
	if (c->pcap)
		pcap_close(c->pcap);
	free(c);
}

/* ---- several handles side by side ---- */

struct capture_job {
	struct capture **out;
	int ns_fd;
	const char *ifname;
	size_t bufsize;
	int ret;
	char err[FW_ERRLEN];
};

static void *capture_open_job(void *arg)
{
	struct capture_job *j = arg;

	j->ret = capture_open_sized(j->out, j->ns_fd, j->ifname, j->bufsize, j->err,
				    sizeof(j->err));
	return NULL;
}

static void *capture_free_job(void *arg)
{
	capture_free(arg);
	return NULL;
}

/* Run fn(arg[i]) for every i, all but the first on threads of their own (in
 * the caller when a thread cannot be had), and wait for all of them. */
static void capture_side_by_side(void *(*fn)(void *), void **args, size_t n)
{
	pthread_t th[CAPTURE_MAX_AT_ONCE];
	bool started[CAPTURE_MAX_AT_ONCE] = { false };
	size_t i;

	for (i = 1; i < n; i++)
		started[i] = pthread_create(&th[i], NULL, fn, args[i]) == 0;
	if (n)
		fn(args[0]);
	for (i = 1; i < n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			fn(args[i]);
	}
}

/* Handles being opened on threads of their own (capture_open_begin()). */
struct capture_opening {
	struct capture **out;
	size_t n;
	pthread_t th[CAPTURE_MAX_AT_ONCE];
	bool started[CAPTURE_MAX_AT_ONCE];
	struct capture_job jobs[CAPTURE_MAX_AT_ONCE];
};

int capture_open_begin(struct capture_opening **op, struct capture **out, const int *ns_fds,
		       const char *const *ifnames, size_t n, size_t bufsize, char *err,
		       size_t errlen)
{
	struct capture_opening *o;
	size_t i;

	*op = NULL;
	if (n > CAPTURE_MAX_AT_ONCE)
		return fw_err(err, errlen, -EINVAL, "capture: %zu handles at once, at most %d", n,
			      CAPTURE_MAX_AT_ONCE);
	o = calloc(1, sizeof(*o));
	if (!o)
		return fw_err(err, errlen, -ENOMEM, "capture: out of memory");
	o->out = out;
	o->n = n;
	for (i = 0; i < n; i++) {
		out[i] = NULL;
		o->jobs[i] = (struct capture_job){ .out = &out[i], .ns_fd = ns_fds[i],
						   .ifname = ifnames[i], .bufsize = bufsize };
		/* without a thread it opens in capture_open_end() */
		o->started[i] = pthread_create(&o->th[i], NULL, capture_open_job, &o->jobs[i]) == 0;
	}
	*op = o;
	return 0;
}

int capture_open_end(struct capture_opening *o, char *err, size_t errlen)
{
	size_t i;
	int ret = 0;

	if (!o)
		return fw_err(err, errlen, -EINVAL, "capture: no opening to end");
	for (i = 0; i < o->n; i++) {
		if (o->started[i])
			pthread_join(o->th[i], NULL);
		else
			capture_open_job(&o->jobs[i]);
	}
	for (i = 0; i < o->n && ret == 0; i++)
		if (o->jobs[i].ret < 0)
			ret = fw_err(err, errlen, o->jobs[i].ret, "%s", o->jobs[i].err);
	if (ret < 0) {
		capture_free_all(o->out, o->n);
		goto out;
	}
	/* One clock offset for all: segments seen on different legs must sort
	 * in the order they crossed, however the offsets were read. */
	for (i = 1; i < o->n; i++)
		o->out[i]->real_to_mono = o->out[0]->real_to_mono;
out:
	free(o);
	return ret;
}

int capture_open_all(struct capture **out, const int *ns_fds, const char *const *ifnames,
		     size_t n, char *err, size_t errlen)
{
	struct capture_opening *o;
	int ret;

	ret = capture_open_begin(&o, out, ns_fds, ifnames, n, 0, err, errlen);
	if (ret == 0)
		ret = capture_open_end(o, err, errlen);
	return ret;
}

void capture_free_all(struct capture **c, size_t n)
{
	void *args[CAPTURE_MAX_AT_ONCE];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (c[i] && k < CAPTURE_MAX_AT_ONCE)
			args[k++] = c[i];
		else if (c[i])
			capture_free(c[i]);
		c[i] = NULL;
	}
	capture_side_by_side(capture_free_job, args, k);
}
