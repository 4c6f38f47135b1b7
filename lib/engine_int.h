/* engine_int: what the rooms of the engine share, and nothing else sees:
 * the state of one running case (struct engine) and the functions each room
 * offers the others. The rooms, as packetdrill splits its runner around one
 * state:
 *   engine.c         setup, teardown and the step loop
 *   engine_pump.c    the event pump (captures, queue, timers), the timeline,
 *                    the harness's own lateness
 *   engine_flow.c    what the wire shows of each connection; socket probing
 *   engine_action.c  actions: sockets, injections, processes, programs
 *   engine_expect_seg.c  segment expectations: what the wire showed
 *   engine_expect.c  the other expectations: states, values, box, log
 *   engine_fail.c    failure evidence: expected vs actual, last segments,
 *                    socket states
 *   engine_many.c    groups of connections (connections: N), their state
 *                    census, the port maps (a segment's flow and connection)
 * engine.h is the module's public face; include this only from those files. */
#ifndef FW_ENGINE_INT_H
#define FW_ENGINE_INT_H

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
#include "kmsg.h"
#include "counters.h"
#include "dut.h"
#include "inject.h"
#include "intercept.h"
#include "netns.h"
#include "proc.h"
#include "program.h"
#include "sockev.h"
#include "sockprobe.h"
#include "util.h"

#define ENGINE_MAX_SOCKS 32
#define ENGINE_MAX_FLOWS 16
#define ENGINE_MAX_PENDING_INJECT 16
#define ENGINE_MAX_PROCS 8
/* At most this many reads of the box's conntrack table per case to find
 * where a SYN with an unknown ISN came from (flow_learn_nat): each is a
 * dump of the whole table. */
#define ENGINE_CT_FLOW_LOOKUPS 64
/* A box's program must listen within this (a proxy starts in milliseconds). */
#define ENGINE_DUT_READY_NS (5 * FW_NS_PER_SEC)
/* How long a case waits for another to give an external box's interfaces
 * back: within the scheduler's margin for a case (30 s), so a long wait ends
 * in this message, not in the case being killed as over its budget. */
#define ENGINE_IF_LOCK_NS (25 * FW_NS_PER_SEC)
/* Without socket events (sockev.h: BPF unavailable), a wait on a state
 * re-probes sock_diag on every segment seen and at least this often; with
 * them, only what no tracepoint reports is polled (timers, a minisocket's
 * leaving) at this period. */
#define ENGINE_STATE_POLL_NS (2 * FW_NS_PER_MS)
/* With socket events, a wait re-reads sock_diag this often all the same: a
 * change no tracepoint reports (a socket in CLOSE whose application closes
 * it) must not make the wait last to its deadline. */
#define ENGINE_EVENT_RESYNC_NS (50 * FW_NS_PER_MS)
/* Sockets closing at once whose sock_diag view is read after the events. */
#define ENGINE_MAX_CLOSE_HINTS 8
/* How many segments and states a failure message shows. */
#define ENGINE_CONTEXT_SEGMENTS 8
/* Harness lateness from which a failed timing expectation is not trusted:
 * a quiet run stays well below (measured: 0.1 to 4 ms; 5-15 ms at load 25
 * on 2 CPUs), while the windows a case relies on are tens of ms or more
 * (a 30 ms held ACK makes FIN_WAIT_2 visible). */
#define ENGINE_LATE_EXPLAINS_NS (20 * FW_NS_PER_MS)
/* How long a missed segment is waited for, at most, to measure the miss. */
#define ENGINE_LATE_GRACE_MAX_NS FW_NS_PER_SEC
/* Segments let through recently, remembered until their copy arrives, so
 * the arrival shows how long the segment waited in the queue. */
#define ENGINE_DWELL_RING 64
/* Lateness shown in the text of an event from this much on. */
#define ENGINE_LATE_SHOWN_NS FW_NS_PER_MS

#define ENGINE_CAP_BOX 2
#define ENGINE_CAPS (ENGINE_CAP_BOX + FAULT_LEG_COUNT)

enum epoll_tag {
	TAG_CAPTURE_CLIENT = 1,
	TAG_CAPTURE_SERVER,
	TAG_CAPTURE_BOX,
	TAG_INTERCEPT,
	TAG_INTERCEPT_TIMER,
	TAG_SOCKET,
	TAG_SOCKEV,
};
/* A connection of a group being opened: its tag is this plus its index in
 * E->conns (engine_many.c). */
#define TAG_CONN_BASE 0x100u

struct esock {
	enum fw_host host;
	char name[32];
	int fd;   /* a group: its first connection's, -1 once closed */
	bool listener;
	bool has_tuple;
	uint16_t lport, rport;
	uint32_t first, n; /* a group (connections: N): E->conns[first .. first+n-1] */
};

/* A map from (host, local port, remote port) to an index, open addressing:
 * the connection a segment or a socket belongs to, in O(1) (engine_many.c). */
struct portmap {
	uint64_t *keys; /* 0: empty */
	uint32_t *vals;
	size_t cap;     /* a power of two, at least twice the entries */
	size_t n;
};

/* One socket the case opened by connect, or one of a group accept opened. */
struct econn {
	int fd;
	enum fw_host host;
	uint16_t lport, rport;
	uint32_t sock;   /* index in E->socks */
	uint32_t number; /* connect: the case's connection number (from 1), else 0 */
	bool pending;    /* a group connect still waits for it */
	int err;         /* its connect's result */
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
	/* How each host sees its peer (the source of what reached it): across
	 * a NAT, the translated address and port an injection from that host
	 * must aim at for the box to translate it back */
	bool has_seen[HOST_COUNT];
	struct fw_addr seen_addr[HOST_COUNT];
	uint16_t seen_port[HOST_COUNT];
	bool has_fin[HOST_COUNT];
	uint32_t fin_seq[HOST_COUNT], fin_ack[HOST_COUNT];
	int64_t fin_acked_ns[HOST_COUNT];
	/* The opening SYN as its sender put it on the wire, and as it left the
	 * box when the box translated its ports (flow_learn_nat): the two views
	 * of one connection; the translated ports are an alias in flow_map. */
	enum fw_host opener;
	struct fw_addr orig_src, orig_dst;
	uint16_t orig_sport, orig_dport;
	bool has_xlat;
	struct fw_addr xlat_src, xlat_dst;
	uint16_t xlat_sport, xlat_dport;
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
	size_t n, cap;
	/* (local port, remote port) -> index in socks, for the socket events
	 * of 20,000 sockets (a linear search each made the ring overflow) */
	struct portmap idx;
};

struct engine {
	const struct fw_case *c;
	struct case_result *res;
	struct topo *topo;
	/* [HOST_CLIENT], [HOST_SERVER] legs, and with a box [ENGINE_CAP_BOX +
	 * leg]: where wire-a and wire-b meet it (each wire's interface toward it) */
	struct capture *cap[ENGINE_CAPS];
	size_t ncaps; /* how many of cap[] this case opens */
	struct fault_set *faults;
	struct intercept *ic[FAULT_LEG_COUNT]; /* one per leg some fault acts on */
	struct inject *inj[2];
	struct inject *inj_wire[FAULT_LEG_COUNT]; /* in a wire's namespace, for inject's leg */
	/* the endpoints', and a proxy's (HOST_DUT) when a step reads its sockets */
	struct sockprobe *probe[HOST_COUNT];
	struct host_snapshot snap[HOST_COUNT];
	/* A dump walks the host's whole listening and bind tables for a
	 * namespace's listeners and bound sockets in CLOSE (sockprobe_dump_some()):
	 * it does so unless these are known to be as the last walk found them.
	 * They change by the case's own calls (an action; with a program of its
	 * own in the namespace, at any time: wild) or with an event (a move to
	 * CLOSE). */
	bool outside_known[HOST_COUNT];
	bool outside_wild[HOST_COUNT];
	bool acting; /* in do_action(): every dump walks */
	bool dut_socks; /* a step reads the proxy's sockets (host: dut, conn:) */
	/* Socket events (sockev.h): NULL when states are polled. Keyed by each
	 * endpoint's namespace. */
	struct sockev_sub *sev;
	/* after engine_stop(): still filed under the namespaces until
	 * engine_release() (taking it out waits for an RCU grace period) */
	struct sockev_sub *sev_done;
	char sev_err[FW_ERRLEN]; /* why a subscription failed (states polled) */
	uint32_t netns_id[HOST_COUNT]; /* the endpoints', and the proxy's when read */
	/* A socket's move to CLOSE, read from the events: sock_diag then says
	 * whether a TIME_WAIT minisocket took its place or it is gone, dated
	 * by the kernel's time of the event. */
	struct {
		enum fw_host h;
		struct sock_info key;
		int64_t t;
	} close_hint[ENGINE_MAX_CLOSE_HINTS];
	size_t nclose_hints;
	uint64_t sev_lost;   /* events the kernel dropped (a full ring): polled from then on */
	uint64_t sev_missed; /* sockev_missed() when the run began */
	/* Each retransmission the kernel reported (tcp:tcp_retransmit_skb). */
	struct engine_rtx {
		enum fw_host h;
		uint16_t sport, dport;
		int64_t t; /* absolute, the kernel's clock */
	} *rtx;
	size_t nrtx, rtx_cap;
	struct counter_set counters0[HOST_COUNT]; /* each namespace's counters when the case began */
	struct fw_addr addr[HOST_COUNT]; /* the box's: its client-facing address */
	struct dut *dut;                 /* the device under test's program, if any */
	struct conntrack *ct;            /* its conntrack table, if a step reads it */
	bool ct_done;                    /* the box is down: its table is not read again */
	unsigned ct_flow_lookups;        /* conntrack reads that looked for a flow's translation */
	struct kmsg_log kmsg;            /* the kernel log since the case began, if a step reads it */
	bool kmsg_open;
	bool setup_failed; /* engine_prepare() left res an ERROR: engine_go() keeps it */
	int if_lock[2];                  /* an external box: its interfaces, one case at a time */
	int epfd;
	struct esock socks[ENGINE_MAX_SOCKS];
	size_t nsocks;
	struct eproc procs[ENGINE_MAX_PROCS];
	size_t nprocs;
	struct flow *flows; /* ENGINE_MAX_FLOWS plus the case's connections */
	size_t nflows, flows_cap;
	struct portmap flow_map; /* (client port, server port) -> flow, translated ports too */
	struct portmap isn_map;  /* (opener, ISN of its SYN) -> flow: finds a translated SYN */
	struct econn *conns;     /* connected sockets and group members */
	size_t nconns, conns_cap;
	struct portmap conn_map; /* (host, local port, remote port) -> conns index */
	uint32_t nconnected;     /* connection numbers given so far */
	size_t conns_pending;    /* a group connect: members not yet writable */
	bool many;               /* a step opens a group: probe less often */
	uint32_t max_group;      /* the largest group: the listen backlog */
	int64_t probe_next;      /* many: no capture-driven probe before this */
	int cur_flow; /* the connection the latest SYN opened, -1 before any */
	/* The flow of the latest SYN seen on each endpoint's leg, -1 before any:
	 * through a proxy, its front (client's leg) and back (server's leg)
	 * connections; otherwise both are the one flow. */
	int leg_flow[2];
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
	char action_note[96]; /* what the running action adds to its timeline line */
	int64_t *step_started; /* when each step of the run began (absolute), for 'since' */
	/* the segment each step matched (segment) or sent (inject), for tsval(MARK) */
	struct step_seg {
		bool set;
		struct seg seg;
	} *step_seg;
	/* counters at the start of each marked step a 'counter ... since' names */
	struct counter_set (*mark_counters)[HOST_COUNT];
	const struct counter_set *counter_base; /* a since's, while it runs; else counters0 */
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
	bool fail_measured; /* fail_margin_ns is the measured size of the miss */
	int64_t wire_dwell_run; /* the run's longest dwell of a segment let through */
	struct {
		enum fw_host from;
		struct seg seg;
		int64_t dwell_ns;
	} dwell[ENGINE_DWELL_RING];
	size_t ndwell; /* entries written; the ring keeps the last ENGINE_DWELL_RING */
	char err[FW_ERRLEN];
};

enum late_kind {
	LATE_DWELL,
	LATE_RELEASE,
	LATE_WAKE,
	LATE_STEP,
};

/* ---- what each room offers the others ---- */

void late_note(struct engine *E, enum late_kind k, int64_t v);
/* The whole run's lateness that reached the wire: a let-through segment's
 * dwell in the queue (not a dropped one's) and a release after its time. */
int64_t late_wire_run(const struct engine *E);
void late_suffix(struct fw_event *ev, const char *what);
struct fw_event *add_event(struct engine *E, enum ev_kind kind, int64_t t_abs,
				  enum fw_host host, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
enum fw_host other(enum fw_host h);
struct flow *flow_for(struct engine *E, enum fw_host sender, const struct seg *s,
			     bool create);
void flow_learn_fin(struct flow *f, enum fw_host h, const struct seg *s);
void flow_learn_arrival(struct engine *E, enum fw_host sender, const struct seg *s,
			       int64_t t_abs);
void flow_learn(struct engine *E, enum fw_host h, const struct seg *s);
void flow_learn_nat(struct engine *E, enum fw_host sender, const struct seg *s, int64_t t_abs,
		    const char *where);
void seg_text(struct engine *E, enum fw_host sender, const struct seg *s,
		     struct fw_event *ev, const char *prefix);
struct esock *sock_find(struct engine *E, enum fw_host h, const char *name);
const char *sock_label(struct engine *E, enum fw_host h, const struct sock_info *si);
void release_on_state(struct engine *E, enum fw_host h, int state, int64_t now);
int probe_host(struct engine *E, enum fw_host h);
int events_drain(struct engine *E);
int events_open_begin(struct engine *E);
int events_open_end(struct engine *E);
bool events_cover(const struct engine *E);
int probe_all(struct engine *E);
const struct sock_info *sock_state(struct engine *E, const struct esock *s);
/* Is some leg's interceptor open? */
bool engine_intercepting(const struct engine *E);
void engine_release_rule(struct engine *E, size_t i, int64_t before_ns);
void on_intercept(void *ctx, const struct intercept_event *iev);
/* engine_many.c: groups of connections and the maps behind them */
int portmap_put(struct portmap *m, uint64_t key, uint32_t val);
bool portmap_get(const struct portmap *m, uint64_t key, uint32_t *val);
void portmap_free(struct portmap *m);
uint64_t conn_key(enum fw_host h, uint16_t lport, uint16_t rport);
int engine_many_setup(struct engine *E);
void engine_many_teardown(struct engine *E);
int conn_add(struct engine *E, enum fw_host h, int fd, uint32_t sock, uint16_t rport,
	     bool numbered);
unsigned conn_number_of(struct engine *E, enum fw_host from, const struct seg *s);
const struct esock *conn_sock(struct engine *E, enum fw_host h, uint16_t lport, uint16_t rport);
void conn_ready(struct engine *E, uint32_t tag);
int act_connect_many(struct engine *E, const struct fw_step *st, struct esock *s,
		     int64_t deadline, int *result);
int act_accept_many(struct engine *E, const struct fw_step *st, struct esock *listener,
		    int64_t deadline, int *result);
int act_each_conn(struct engine *E, const struct fw_step *st, struct esock *s, int *result);
int probe_paced(struct engine *E);
void many_census_append(struct engine *E, enum fw_host h, char *buf, size_t len);
int expect_state_count(struct engine *E, const struct fw_step *st, const struct esock *s);
struct esock *sock_new(struct engine *E, const struct fw_step *st, int fd);
int sock_options(const struct fw_step *st, int fd);
void step_sockaddr(struct engine *E, const struct fw_step *st, enum fw_host h, uint16_t port,
		   struct sockaddr_storage *ss, socklen_t *len);
int pump_fd(struct engine *E, uint32_t tag);
int pump(struct engine *E, int64_t deadline);
int drain(struct engine *E);
int watch_socket(struct engine *E, int fd, uint32_t events, bool on);
void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void append_context(struct engine *E);
int step_fail(struct engine *E, const struct fw_step *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int step_error(struct engine *E, const struct fw_step *s, int ret, const char *what);
void fail_explained(struct engine *E, const char *why);
void expect_pass(struct engine *E, const struct fw_step *s);
int wait_socket(struct engine *E, int fd, uint32_t events, int64_t deadline);
struct eproc *proc_find(struct engine *E, const char *name);
void engine_proc_end(struct engine *E, struct eproc *p);
int do_action(struct engine *E, const struct fw_step *st, int *result);
int expr_value(struct engine *E, const struct flow *f, const struct fw_expr *x,
		      enum fw_host sender, enum fw_host target, uint32_t number_base,
		      uint32_t *out);
int do_inject(struct engine *E, const struct fw_step *st);
int expect_segment(struct engine *E, const struct fw_step *st);
int expect_no_segment(struct engine *E, const struct fw_step *st);
int expect_state(struct engine *E, const struct fw_step *st);
int expect_counter(struct engine *E, const struct fw_step *st);
int expect_sysctl(struct engine *E, const struct fw_step *st);
int expect_conntrack(struct engine *E, const struct fw_step *st);
int expect_kmsg(struct engine *E, const struct fw_step *st);
int expect_tcp_info(struct engine *E, const struct fw_step *st);
int expect_retransmits(struct engine *E, const struct fw_step *st);
int expect_exit(struct engine *E, const struct fw_step *st);

#endif
