/* intercept_int: the state shared by the interceptor's files (intercept.c, intercept_rules.c,
 * intercept_verdict.c) */
#ifndef FW_INTERCEPT_INT_H
#define FW_INTERCEPT_INT_H

#include "intercept.h"

#include "mangle.h"
#include "netns.h"
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
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

/* IPv6 (40) + the longest TCP header (60) fit with room to spare; a teardown
 * needs headers only, and copying less keeps each queued segment cheap. Same
 * figure as the capture snap length so both views of a segment agree. */
#define INTERCEPT_COPY_RANGE 256
/* Duplicates and rewrites need the whole packet: the kernel has already
 * split GSO packets (NFQA_CFG_F_GSO is never set with them), so one MTU is
 * enough, but a veth MTU can be up to 64 KiB. */
#define INTERCEPT_COPY_FULL 0xffff
/* Delayed segments stay in the kernel queue until their verdict, so the queue
 * must hold a case's worth of them besides those in flight, and a group of
 * 10,000 connections sends 10,000 SYNs or FINs at once (4096 overflowed). */
#define INTERCEPT_QUEUE_MAXLEN 65536
/* A burst that outruns us overflows the socket and the kernel drops those
 * segments (ENOBUFS): a teardown case must never lose one by accident. */
#define INTERCEPT_RCVBUF (8u << 20)
/* A timed release (a delay, a duplicate's copy) wakes this early and spins
 * to its time: waking from a timer on this VM takes 0.05-0.3 ms, and more
 * on a busy machine, which was most of a 100 ms delay's error. */
#define INTERCEPT_SPIN_NS (200 * 1000)
/* Attempts at unbinding a queue at free time (intercept_free()). */
#define INTERCEPT_UNBIND_TRIES 4
/* Datagrams handled per intercept_process() call, so a flood cannot starve
 * the rest of the event loop; the fd stays readable for the next round. */
#define INTERCEPT_RECV_BATCH 1024

enum intercept_family {
	INTERCEPT_V4,
	INTERCEPT_V6,
};
#define INTERCEPT_FAMILIES 2

/* One kernel pre-filter rule: every TCP segment arriving from a host. */
struct intercept_filter {
	enum fw_host from;
};

/* A delayed or held segment: the kernel keeps the packet, we keep its
 * verdict. Or the copy of a duplicated one: then we keep the bytes. */
struct intercept_held {
	struct nfq_q_handle *qh; /* the queue that holds it */
	uint32_t id;
	int64_t queued_ns, read_ns, release_ns;
	enum fw_host from;
	struct seg seg;
	struct fault_decision decision;
	uint8_t *copy; /* malloc'd packet for a pending duplicate, else NULL */
	size_t copy_len;
};

struct intercept {
	int ns_fd; /* our own dup of the wire namespace, for the rules at free time */
	struct fault_set *faults;
	enum fault_leg leg; /* only this leg's rules act here */
	uint16_t queue_num;
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	/* With a FIN (PSH...) rule, GSO packets carrying the flag come cut by the
	 * kernel through this second queue (queue_num + 1), and the others whole
	 * through qh: fault_set_gso_cut(). NULL when one queue does. */
	struct nfq_q_handle *qh_cut;
	unsigned gso_cut; /* fault_set_gso_cut(), FAULT_GSO_CUT_ALL with payload rules */
	int fd, timer_fd;
	int raw_fd[INTERCEPT_FAMILIES]; /* duplicates leave through these, -1 unused */
	int stamp_fd; /* asks the kernel to stamp every received packet, -1 none */
	void (*view)(void *ctx, enum fw_host from, const struct seg *s, int64_t sent_ns,
		     struct fault_view *out);
	void *view_ctx;
	char ifname[HOST_COUNT][IF_NAMESIZE];
	unsigned ifindex[HOST_COUNT];	 /* 0: no interface for that host */
	struct intercept_filter *filters;
	size_t nfilters;
	struct intercept_held *held; /* sorted by release_ns, FIFO among equals */
	size_t nheld, held_cap;
	bool realtime;	      /* we raised the thread to SCHED_FIFO for a timed one */
	int64_t real_to_mono; /* the queue stamps packets on CLOCK_REALTIME */
	/* Passes not yet told to the kernel: one nfq_set_verdict_batch() accepts
	 * every queued packet up to batch_id, so it is used only while no packet
	 * is held back in the kernel queue. */
	bool batch_pending;
	struct nfq_q_handle *batch_qh;
	uint32_t batch_id;
	/* Valid during intercept_process() only: where the callback reports. */
	intercept_fn fn;
	void *ctx;
	int cb_err;
	bool closing;	     /* intercept_free(): accept whatever is still queued */
	bool namespace_dies; /* intercept_free() leaves the rules to die with it */
	bool rules_installed; /* our nf_tables tables are in the wire namespace */
	char buf[65536] __attribute__((aligned(8)));
};

/* ---- shared between the files of the module ---- */

int intercept_filters_install(struct intercept *ic, char *err, size_t errlen);
void intercept_filters_remove(struct intercept *ic);
int intercept_filters_build(struct intercept *ic, char *err, size_t errlen);
void intercept_batch_flush(struct intercept *ic);
void intercept_release_due(struct intercept *ic, int64_t now, bool all);
int intercept_on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfad,
			void *data);

#endif
