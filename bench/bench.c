/* fw_bench: figures for docs/benchmarks.md, never a verdict on time.
 *
 *   fw_bench [--rounds N] [--quick] [--cases DIR] [topo|handles|throughput|nfq|rtt|delay|overhead|many|sockdiag]...
 *
 *   topo        namespace setup+teardown per case: topo_create()+topo_free(),
 *               the same network built by spawning ip(8), and bare unshare
 *   handles     the other fixed costs of a case: capture and interceptor
 *               open and free
 *   throughput  bulk TCP client -> server through the wire namespace: no
 *               interceptor, a FIN/RST fault armed (only FIN/RST segments
 *               reach userspace), every segment queued; alternated per round
 *   nfq         bare NFQUEUE consumers queueing every segment: what copy
 *               range, NFQA_CFG_F_GSO and batched verdicts would give
 *   rtt         1-byte ping-pong: round trip with no interceptor, with the
 *               client's segments queued to this process, and queued to
 *               another process; interleaved, with a count of what was queued
 *   delay       |actual - requested| of 100 ms delays, measured between the
 *               sender's and the receiver's capture
 *   overhead    each case of --cases DIR run by the engine in a process of its
 *               own: wall, setup, teardown (to the result), release (after
 *               it), CPU (the time not spent waiting)
 *   many        one case of N = 1, 100, 1000, 10000 connections: the engine's
 *               wall and CPU, and the result's JSON round trip
 *   sockdiag    one sock_diag dump of a case namespace with a connection:
 *               its own small TCP hash table vs the host's, alternated
 *
 * Everything happens inside namespaces this program creates; nothing is
 * written in the namespace it runs in. Exit 0 when the figures were taken,
 * 3 when this machine cannot (not root, no NFQUEUE). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>

#include "capture.h"
#include "catalog.h"
#include "engine.h"
#include "sockev.h"
#include "fault.h"
#include "intercept.h"
#include "netns.h"
#include "result.h"
#include "seg.h"
#include "sockprobe.h"
#include "topo.h"
#include "util.h"

#define BENCH_PORT 5001
#define BENCH_CHUNK (256 * 1024)
#define BENCH_MAX_SAMPLES 8192

struct bench_opts {
	int rounds;
	bool rounds_given; /* --rounds: sections with their own default take it */
	bool quick;
	const char *cases_dir;
};

/* ---- small statistics ------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (0..100) of n values; sorts v. */
static int64_t pct(int64_t *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* "1.23 0.98 0.75\n": the machine's load, printed around a section. */
static const char *loadavg_line(void)
{
	static char line[64];
	double la[3] = { 0, 0, 0 };

	getloadavg(la, 3);
	snprintf(line, sizeof(line), "%.2f %.2f %.2f\n", la[0], la[1], la[2]);
	return line;
}

static double us(int64_t ns)
{
	return (double)ns / 1e3;
}

static void fatal(const char *what, int ret, const char *err)
{
	fprintf(stderr, "fw_bench: %s: %s%s%s\n", what, strerror(-ret), err && *err ? ": " : "",
		err ? err : "");
	exit(ret == -ENOTSUP || ret == -EPERM ? 3 : 1);
}

/* ---- 1. namespace setup and teardown -------------------------------------- */

/* A process that only holds a fresh network namespace until killed. */
static pid_t holder_start(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(p[1], "r", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* Run an ip(8) command inside the namespace of process ns_pid. */
static int ip_in(pid_t ns_pid, const char *cmd)
{
	char path[64], buf[256], *argv[24], *save = NULL, *tok;
	int argc = 0, status;
	pid_t pid;

	snprintf(buf, sizeof(buf), "ip %s", cmd);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 23; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)ns_pid);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY);

		/* Never fall back to our own namespace: no namespace, no command. */
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(126);
		execvp("ip", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The topology of topo.h built the way a shell script would: three holder
 * processes and one ip(8) process per change. Returns the commands run. */
static int ip_topology(int64_t *setup_ns, int64_t *teardown_ns)
{
	pid_t cl, wire, sv;
	char cmd[160];
	int n = 0, bad = 0;
	int64_t t0 = fw_now_ns();

	cl = holder_start();
	wire = holder_start();
	sv = holder_start();
	if (cl < 0 || wire < 0 || sv < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "link add cl0 type veth peer name eth0 netns %d", (int)cl);
	bad |= ip_in(wire, cmd), n++;
	snprintf(cmd, sizeof(cmd), "link add sv0 type veth peer name eth0 netns %d", (int)sv);
	bad |= ip_in(wire, cmd), n++;
	bad |= ip_in(wire, "addr add 198.18.1.1/24 dev cl0"), n++;
	bad |= ip_in(wire, "addr add 198.18.2.1/24 dev sv0"), n++;
	bad |= ip_in(wire, "-6 addr add 2001:2:0:1::1/64 dev cl0 nodad"), n++;
	bad |= ip_in(wire, "-6 addr add 2001:2:0:2::1/64 dev sv0 nodad"), n++;
	bad |= ip_in(wire, "link set cl0 up"), n++;
	bad |= ip_in(wire, "link set sv0 up"), n++;
	bad |= ip_in(wire, "link set lo up"), n++;
	for (int h = 0; h < 2; h++) {
		pid_t p = h ? sv : cl;
		const char *net = h ? "2" : "1";

		snprintf(cmd, sizeof(cmd), "addr add 198.18.%s.2/24 dev eth0", net);
		bad |= ip_in(p, cmd), n++;
		snprintf(cmd, sizeof(cmd), "-6 addr add 2001:2:0:%s::2/64 dev eth0 nodad", net);
		bad |= ip_in(p, cmd), n++;
		bad |= ip_in(p, "link set eth0 up"), n++;
		bad |= ip_in(p, "link set lo up"), n++;
		snprintf(cmd, sizeof(cmd), "route add default via 198.18.%s.1", net);
		bad |= ip_in(p, cmd), n++;
		snprintf(cmd, sizeof(cmd), "-6 route add default via 2001:2:0:%s::1", net);
		bad |= ip_in(p, cmd), n++;
	}
	*setup_ns = fw_now_ns() - t0;
	t0 = fw_now_ns();
	kill(cl, SIGKILL);
	kill(wire, SIGKILL);
	kill(sv, SIGKILL);
	waitpid(cl, NULL, 0);
	waitpid(wire, NULL, 0);
	waitpid(sv, NULL, 0);
	*teardown_ns = fw_now_ns() - t0;
	return bad ? -1 : n;
}

static void bench_topo(const struct bench_opts *o)
{
	int rounds = o->quick ? 10 : 40, i, ncmd = 0;
	int64_t create[200], destroy[200], total[200], one[200], three[200];
	int64_t ipset[200], ipdown[200], iptotal[200];
	char err[FW_ERRLEN];

	for (i = 0; i < rounds; i++) {
		struct topo *t = NULL;
		int64_t t0 = fw_now_ns(), t1, t2;
		int ret = topo_create(&t, err, sizeof(err));

		if (ret < 0)
			fatal("topo_create", ret, err);
		t1 = fw_now_ns();
		topo_free(t);
		t2 = fw_now_ns();
		create[i] = t1 - t0;
		destroy[i] = t2 - t1;
		total[i] = t2 - t0;
	}
	for (i = 0; i < rounds; i++) {
		int64_t t0 = fw_now_ns(), t1;
		int fd[3], k;

		fd[0] = netns_create();
		t1 = fw_now_ns();
		fd[1] = netns_create();
		fd[2] = netns_create();
		for (k = 0; k < 3; k++) {
			if (fd[k] < 0)
				fatal("unshare(CLONE_NEWNET)", fd[k], NULL);
			close(fd[k]);
		}
		one[i] = t1 - t0;
		three[i] = fw_now_ns() - t0;
	}
	for (i = 0; i < rounds / 2; i++) {
		ncmd = ip_topology(&ipset[i], &ipdown[i]);
		if (ncmd < 0) {
			fprintf(stderr, "fw_bench: the ip(8) topology failed (is iproute2 installed?)\n");
			break;
		}
		iptotal[i] = ipset[i] + ipdown[i];
	}
	printf("\n## 1. namespace setup + teardown per case (%d rounds, medians)\n", rounds);
	printf("%-44s %10s\n", "", "median");
	printf("%-44s %8.2f ms\n", "topo_create (3 netns, 2 veth, addrs, routes)", ms(pct(create, rounds, 50)));
	printf("%-44s %8.2f ms\n", "topo_free", ms(pct(destroy, rounds, 50)));
	printf("%-44s %8.2f ms  (p90 %.2f)\n", "topo_create + topo_free", ms(pct(total, rounds, 50)),
	       ms(pct(total, rounds, 90)));
	if (ncmd > 0) {
		printf("%-44s %8.2f ms  (%d ip processes; setup %.2f, kill %.2f)\n",
		       "same network by spawning ip(8)", ms(pct(iptotal, rounds / 2, 50)), ncmd,
		       ms(pct(ipset, rounds / 2, 50)), ms(pct(ipdown, rounds / 2, 50)));
	}
	printf("%-44s %8.3f ms\n", "bare unshare(CLONE_NEWNET), one", ms(pct(one, rounds, 50)));
	printf("%-44s %8.3f ms\n", "bare unshare(CLONE_NEWNET), three + close", ms(pct(three, rounds, 50)));
	printf("(the kernel frees a namespace asynchronously after its last fd: that work is not in these figures)\n");
}

/* The other fixed costs of a case: a capture handle per leg, and the
 * interceptor with one FIN rule (what most fault cases arm). */
static void bench_handles(const struct bench_opts *o)
{
	int rounds = o->quick ? 5 : 15, i;
	int64_t copen[64], cfree[64], iopen[64], ifree[64], ifree_dies[64];
	struct fault_rule fin = { .name = "fin", .from = HOST_CLIENT, .flags_mask = SEG_FIN,
				  .flags_value = SEG_FIN, .nth = 1, .count = 1,
				  .action = FAULT_DROP, .armed = true };
	struct intercept_config cfg;
	char err[FW_ERRLEN] = "";
	struct fault_set *fs = NULL;
	struct topo *t = NULL;
	int ret;

	ret = topo_create(&t, err, sizeof(err));
	if (ret == 0)
		ret = fault_set_create(&fs, &fin, 1);
	if (ret < 0)
		fatal("setup", ret, err);
	memset(&cfg, 0, sizeof(cfg));
	cfg.wire_ns_fd = topo_ns_fd(t, HOST_WIRE);
	cfg.in_ifname[HOST_CLIENT] = topo_wire_ifname(t, HOST_CLIENT);
	cfg.in_ifname[HOST_SERVER] = topo_wire_ifname(t, HOST_SERVER);
	cfg.faults = fs;
	for (i = 0; i < rounds; i++) {
		struct capture *c = NULL;
		struct intercept *ic = NULL;
		int64_t t0 = fw_now_ns(), t1, t2, t3;

		ret = capture_open(&c, topo_ns_fd(t, HOST_CLIENT), topo_ifname(t, HOST_CLIENT), err,
				   sizeof(err));
		if (ret < 0)
			fatal("capture_open", ret, err);
		t1 = fw_now_ns();
		capture_free(c);
		t2 = fw_now_ns();
		ret = intercept_open(&ic, &cfg, err, sizeof(err));
		if (ret < 0)
			fatal("intercept_open", ret, err);
		t3 = fw_now_ns();
		intercept_free(ic);
		copen[i] = t1 - t0;
		cfree[i] = t2 - t1;
		iopen[i] = t3 - t2;
		ifree[i] = fw_now_ns() - t3;
		/* As a case frees it: the rules go with the namespace, so a
		 * namespace of its own for each round. */
		{
			struct intercept_config dies = cfg;
			struct topo *own = NULL;

			ret = topo_create(&own, err, sizeof(err));
			if (ret < 0)
				fatal("topo_create", ret, err);
			dies.wire_ns_fd = topo_ns_fd(own, HOST_WIRE);
			dies.namespace_dies = true;
			ret = intercept_open(&ic, &dies, err, sizeof(err));
			if (ret < 0)
				fatal("intercept_open", ret, err);
			t3 = fw_now_ns();
			intercept_free(ic);
			ifree_dies[i] = fw_now_ns() - t3;
			topo_free(own);
		}
	}
	fault_set_free(fs);
	topo_free(t);
	printf("\n## 1b. other fixed costs of a case (%d rounds, medians)\n", rounds);
	printf("%-44s %8.2f ms, capture_free %.2f ms (a case opens two)\n", "capture_open, one leg",
	       ms(pct(copen, (size_t)rounds, 50)), ms(pct(cfree, (size_t)rounds, 50)));
	printf("%-44s %8.2f ms, intercept_free %.2f ms (rules taken out), %.2f ms (as a case: they die with the namespace)\n",
	       "intercept_open, one FIN rule (v4+v6)", ms(pct(iopen, (size_t)rounds, 50)),
	       ms(pct(ifree, (size_t)rounds, 50)), ms(pct(ifree_dies, (size_t)rounds, 50)));
}

/* ---- shared: a topology with a server socket, an optional interceptor ------ */

enum queue_mode {
	QUEUE_NONE,   /* no interceptor at all */
	QUEUE_FINRST, /* FIN/RST fault rules armed: the kernel pre-filter queues those only */
	QUEUE_ALL,    /* every segment, both directions, goes through userspace */
	QUEUE_CLIENT, /* every segment the client sends */
	QUEUE_DELAY,  /* the client's payload segments delayed */
};
#define QUEUE_MODES 5

static const char *const queue_mode_names[QUEUE_MODES] = {
	[QUEUE_NONE] = "no interceptor",
	[QUEUE_FINRST] = "FIN/RST fault armed",
	[QUEUE_ALL] = "every segment queued",
	[QUEUE_CLIENT] = "client segments queued",
	[QUEUE_DELAY] = "100 ms delay",
};

struct rig {
	struct topo *topo;
	struct fault_set *faults;
	struct intercept *ic;
	int listen_fd;
	/* another consumer to serve instead of ic (the nfq prototypes) */
	int other_fd;
	void (*other_fn)(void *ctx);
	void *other_ctx;
};

static int rig_faults(enum queue_mode m, struct fault_set **fs)
{
	struct fault_rule r[2];
	size_t n = 0;

	memset(r, 0, sizeof(r));
	switch (m) {
	case QUEUE_NONE:
		return 0;
	case QUEUE_FINRST:
		/* What a teardown case arms: the FIN of one side, an RST of the
		 * other; windows far away so the transfer itself is untouched. */
		r[0] = (struct fault_rule){ .name = "fin", .from = HOST_CLIENT, .flags_mask = SEG_FIN,
					    .flags_value = SEG_FIN, .nth = 1000000, .count = 1,
					    .action = FAULT_DROP, .armed = true };
		r[1] = (struct fault_rule){ .name = "rst", .from = HOST_SERVER, .flags_mask = SEG_RST,
					    .flags_value = SEG_RST, .nth = 1000000, .count = 1,
					    .action = FAULT_DROP, .armed = true };
		n = 2;
		break;
	case QUEUE_ALL:
		r[1] = (struct fault_rule){ .name = "all-sv", .from = HOST_SERVER, .nth = 1,
					    .action = FAULT_PASS, .armed = true };
		n = 1;
		/* fall through: the client's too */
		__attribute__((fallthrough));
	case QUEUE_CLIENT:
		r[0] = (struct fault_rule){ .name = "all-cl", .from = HOST_CLIENT, .nth = 1,
					    .action = FAULT_PASS, .armed = true };
		n++;
		break;
	case QUEUE_DELAY:
		r[0] = (struct fault_rule){ .name = "delay", .from = HOST_CLIENT,
					    .payload = FAULT_PAYLOAD_SOME, .nth = 1, .count = 0,
					    .action = FAULT_DELAY, .delay_ns = 100 * FW_NS_PER_MS,
					    .armed = true };
		n = 1;
		break;
	}
	return fault_set_create(fs, r, n);
}

static void rig_close_interceptor(struct rig *rg)
{
	intercept_free(rg->ic);
	fault_set_free(rg->faults);
	rg->ic = NULL;
	rg->faults = NULL;
}

static void rig_open_interceptor(struct rig *rg, enum queue_mode m)
{
	struct intercept_config cfg;
	char err[FW_ERRLEN] = "";
	int ret;

	if (m == QUEUE_NONE)
		return;
	ret = rig_faults(m, &rg->faults);
	if (ret < 0)
		fatal("fault_set_create", ret, NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.wire_ns_fd = topo_ns_fd(rg->topo, HOST_WIRE);
	cfg.in_ifname[HOST_CLIENT] = topo_wire_ifname(rg->topo, HOST_CLIENT);
	cfg.in_ifname[HOST_SERVER] = topo_wire_ifname(rg->topo, HOST_SERVER);
	cfg.faults = rg->faults;
	ret = intercept_open(&rg->ic, &cfg, err, sizeof(err));
	if (ret < 0)
		fatal("intercept_open", ret, err);
}

static void sockaddr_v4(const struct topo *t, enum fw_host h, struct sockaddr_in *sa)
{
	struct fw_addr a;

	topo_addr(t, h, AF_INET, &a);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(BENCH_PORT);
	memcpy(&sa->sin_addr, a.bytes, 4);
}

static void rig_open(struct rig *rg)
{
	struct sockaddr_in sa;
	char err[FW_ERRLEN] = "";
	int one = 1, ret;

	memset(rg, 0, sizeof(*rg));
	rg->other_fd = -1;
	ret = topo_create(&rg->topo, err, sizeof(err));
	if (ret < 0)
		fatal("topo_create", ret, err);
	rg->listen_fd = netns_socket(topo_ns_fd(rg->topo, HOST_SERVER), AF_INET, SOCK_STREAM, 0);
	if (rg->listen_fd < 0)
		fatal("server socket", rg->listen_fd, NULL);
	setsockopt(rg->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_v4(rg->topo, HOST_SERVER, &sa);
	if (bind(rg->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(rg->listen_fd, 16) < 0)
		fatal("server bind/listen", -errno, NULL);
}

static void rig_close(struct rig *rg)
{
	rig_close_interceptor(rg);
	if (rg->listen_fd >= 0)
		close(rg->listen_fd);
	topo_free(rg->topo);
}

/* Give the interceptor its due until fd is readable or the deadline passes.
 * Returns 1 when fd became readable, 0 at the deadline. */
static int rig_pump(struct rig *rg, int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p[4] = { { .fd = fd, .events = events },
				       { .fd = intercept_fd(rg->ic), .events = POLLIN },
				       { .fd = intercept_timer_fd(rg->ic), .events = POLLIN },
				       { .fd = rg->other_fn ? rg->other_fd : -1, .events = POLLIN } };
		int64_t left = deadline - fw_now_ns();
		int n;

		if (left <= 0)
			return 0;
		n = poll(p, 4, (int)(left / FW_NS_PER_MS) + 1);
		if (n < 0 && errno != EINTR)
			fatal("poll", -errno, NULL);
		if (rg->ic && ((p[1].revents | p[2].revents) & POLLIN))
			intercept_process(rg->ic, NULL, NULL);
		if (rg->other_fn && (p[3].revents & POLLIN))
			rg->other_fn(rg->other_ctx);
		if (p[0].revents)
			return 1;
	}
}

static int rig_connect(struct rig *rg)
{
	struct sockaddr_in sa;
	int fd = netns_socket(topo_ns_fd(rg->topo, HOST_CLIENT), AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(int);
	int one = 1, err = 0;

	if (fd < 0)
		fatal("client socket", fd, NULL);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sockaddr_v4(rg->topo, HOST_SERVER, &sa);
	/* Non-blocking: the SYN may have to pass the interceptor this process
	 * serves. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		fatal("connect", -errno, NULL);
	if (!rig_pump(rg, fd, POLLOUT, fw_now_ns() + 5 * FW_NS_PER_SEC) ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
		fatal("connect", err ? -err : -ETIMEDOUT, NULL);
	fcntl(fd, F_SETFL, 0);
	return fd;
}

/* ---- 2. bulk throughput ------------------------------------------------------ */

struct xfer_result {
	uint64_t bytes;
	int64_t ns;
};

/* One transfer of duration_ns: a sender process and a receiver process,
 * this one running the interceptor. Returns Mbit/s seen by the receiver. */
static double xfer_once(struct rig *rg, int64_t duration_ns)
{
	int p[2], status;
	struct xfer_result res = { 0 };
	pid_t rx, tx;
	ssize_t n;

	if (pipe(p) < 0)
		fatal("pipe", -errno, NULL);
	rx = fork();
	if (rx == 0) {
		static char buf[BENCH_CHUNK];
		int fd = accept(rg->listen_fd, NULL, NULL);
		int64_t t0 = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
			if (!t0)
				t0 = fw_now_ns();
			res.bytes += (uint64_t)n;
		}
		res.ns = t0 ? fw_now_ns() - t0 : 0;
		(void)!write(p[1], &res, sizeof(res));
		_exit(0);
	}
	tx = fork();
	if (tx == 0) {
		static char buf[BENCH_CHUNK];
		int fd;
		int64_t end;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = rig_connect(rg);
		end = fw_now_ns() + duration_ns;
		memset(buf, 'x', sizeof(buf));
		while (fw_now_ns() < end && write(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		_exit(0);
	}
	close(p[1]);
	if (!rig_pump(rg, p[0], POLLIN, fw_now_ns() + duration_ns + 20 * FW_NS_PER_SEC) ||
	    read(p[0], &res, sizeof(res)) != sizeof(res))
		res.ns = 0;
	close(p[0]);
	kill(rx, SIGKILL);
	kill(tx, SIGKILL);
	waitpid(rx, &status, 0);
	waitpid(tx, &status, 0);
	return res.ns > 0 ? (double)res.bytes * 8 / ((double)res.ns / 1e9) / 1e6 : 0;
}

struct proto;
struct proto_variant;
static struct proto *proto_open(struct rig *rg, const struct proto_variant *v);
static void proto_close(struct rig *rg, struct proto *pr);
static const struct proto_variant *proto_bare(void);

/* A headline figure on a line of its own, for bench/run.sh --write:
 * "figure KEY VALUE". */
static void figure(const char *key, double value)
{
	printf("figure %s %.4f\n", key, value);
}

static void bench_throughput(const struct bench_opts *o)
{
	/* QUEUE_MODES stands for a bare consumer with intercept.c's techniques
	 * (header copies, whole GSO packets, batched verdicts): the ratio of
	 * "every segment queued" to it is the interceptor's own cost, measured
	 * in the same rounds */
	static const int modes[] = { QUEUE_NONE, QUEUE_FINRST, QUEUE_ALL, QUEUE_MODES };
	enum { NM = sizeof(modes) / sizeof(modes[0]) };
	int rounds = o->rounds, r, k;
	int64_t duration = (o->quick ? 300 : 1000) * FW_NS_PER_MS;
	int64_t mbps[NM][64];
	struct rig rg;

	if (rounds > 64)
		rounds = 64;
	rig_open(&rg);
	printf("\n## 2. interceptor overhead: bulk TCP client -> server, %.1f s per transfer, %d rounds\n",
	       (double)duration / 1e9, rounds);
	printf("round");
	for (k = 0; k < NM; k++)
		printf(" | %22s", modes[k] == QUEUE_MODES ? "bare consumer, all" : queue_mode_names[modes[k]]);
	printf("   (Mbit/s)\n");
	for (r = 0; r < rounds; r++) {
		/* Alternate, and rotate which goes first, so drift hits all alike. */
		for (k = 0; k < NM; k++) {
			int m = (k + r) % NM;

			if (modes[m] == QUEUE_MODES) {
				struct proto *pr = proto_open(&rg, proto_bare());

				mbps[m][r] = (int64_t)xfer_once(&rg, duration);
				proto_close(&rg, pr);
				continue;
			}
			rig_open_interceptor(&rg, (enum queue_mode)modes[m]);
			mbps[m][r] = (int64_t)xfer_once(&rg, duration);
			rig_close_interceptor(&rg);
		}
		printf("%5d", r + 1);
		for (k = 0; k < NM; k++)
			printf(" | %22lld", (long long)mbps[k][r]);
		printf("\n");
	}
	{
		int64_t med[NM];

		for (k = 0; k < NM; k++)
			med[k] = pct(mbps[k], (size_t)rounds, 50);
		printf("median");
		for (k = 0; k < NM; k++)
			printf(" | %22lld", (long long)med[k]);
		printf("\n");
		printf("ratio to no interceptor: FIN/RST fault armed %.3f (goal >= 0.95), "
		       "every segment queued %.3f, a bare consumer %.3f\n",
		       med[0] ? (double)med[1] / (double)med[0] : 0,
		       med[0] ? (double)med[2] / (double)med[0] : 0,
		       med[0] ? (double)med[3] / (double)med[0] : 0);
		printf("every segment queued vs the bare consumer: %.3f (goal >= 0.95)\n",
		       med[3] ? (double)med[2] / (double)med[3] : 0);
		if (med[0] && med[3]) {
			figure("tput_none_mbps", (double)med[0]);
			figure("tput_finrst_vs_none", (double)med[1] / (double)med[0]);
			figure("tput_all_vs_none", (double)med[2] / (double)med[0]);
			figure("tput_bare_vs_none", (double)med[3] / (double)med[0]);
			figure("tput_all_vs_bare", (double)med[2] / (double)med[3]);
		}
	}
	rig_close(&rg);
}

/* ---- 2c. what the interceptor could do: bare NFQUEUE consumers ------------- */

/* Each variant queues every TCP segment both ways (its own iptables rule in
 * the wire namespace, queue BENCH_PROTO_QUEUE), parses every header as
 * intercept.c does, and accepts. They differ in what intercept.c would have
 * to change: copy range, NFQA_CFG_F_GSO, batched verdicts. */
#define BENCH_PROTO_QUEUE 7

struct proto_variant {
	const char *name;
	uint32_t copy_range;
	bool gso;   /* NFQA_CFG_F_GSO: GSO packets queued whole, not segmented */
	bool batch; /* one nfq_set_verdict_batch() per receive batch */
};

static const struct proto_variant proto_variants[] = {
	{ "naive: whole packet, 1 verdict each", 0xffff, false, false },
	{ "headers only (as intercept.c now)", 256, false, false },
	{ "headers + NFQA_CFG_F_GSO", 256, true, false },
	{ "headers + GSO + batched verdicts", 256, true, true },
};
#define NPROTO (sizeof(proto_variants) / sizeof(proto_variants[0]))

/* the one with intercept.c's techniques */
static const struct proto_variant *proto_bare(void)
{
	return &proto_variants[NPROTO - 1];
}

struct proto {
	const struct proto_variant *v;
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	int fd;
	uint32_t last_id;
	bool pending;
	uint64_t packets, verdicts, bytes;
	char buf[256 * 1024];
};

static int proto_cb(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfad,
		    void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfad);
	struct proto *pr = data;
	unsigned char *payload;
	struct seg sg;
	int plen;

	(void)nfmsg;
	if (!ph)
		return 0;
	plen = nfq_get_payload(nfad, &payload);
	if (plen > 0 && seg_parse_ip(payload, (size_t)plen, &sg) == 0)
		pr->bytes += sg.len;
	pr->packets++;
	if (pr->v->batch) {
		pr->last_id = ntohl(ph->packet_id);
		pr->pending = true;
	} else {
		nfq_set_verdict(qh, ntohl(ph->packet_id), NF_ACCEPT, 0, NULL);
		pr->verdicts++;
	}
	return 0;
}

static void proto_process(void *ctx)
{
	struct proto *pr = ctx;
	int i;

	for (i = 0; i < 1024; i++) {
		ssize_t n = recv(pr->fd, pr->buf, sizeof(pr->buf), MSG_DONTWAIT);

		if (n < 0 && errno == ENOBUFS)
			continue;
		if (n <= 0)
			break;
		nfq_handle_packet(pr->h, pr->buf, (int)n);
	}
	if (pr->pending) {
		/* Accepts every packet of this queue up to last_id. */
		nfq_set_verdict_batch(pr->qh, pr->last_id, NF_ACCEPT);
		pr->verdicts++;
		pr->pending = false;
	}
}

/* iptables in the wire namespace (a namespace of ours, never the caller's). */
static int wire_iptables(struct rig *rg, const char *op)
{
	char q[8];
	char *argv[] = { "iptables", "-w", "5", (char *)op, "FORWARD", "-p", "tcp", "-j",
			 "NFQUEUE", "--queue-num", q, NULL };
	int status;
	pid_t pid;

	snprintf(q, sizeof(q), "%d", BENCH_PROTO_QUEUE);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (setns(topo_ns_fd(rg->topo, HOST_WIRE), CLONE_NEWNET) < 0)
			_exit(126);
		execvp("iptables", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static struct proto *proto_open(struct rig *rg, const struct proto_variant *v)
{
	struct proto *pr = calloc(1, sizeof(*pr));
	int saved = -1, flags;

	if (!pr || netns_enter(topo_ns_fd(rg->topo, HOST_WIRE), &saved) < 0)
		fatal("proto: namespace", -EIO, NULL);
	pr->v = v;
	pr->h = nfq_open();
	if (!pr->h || nfq_bind_pf(pr->h, AF_INET) < 0)
		fatal("proto: nfq_open", -errno, NULL);
	pr->qh = nfq_create_queue(pr->h, BENCH_PROTO_QUEUE, proto_cb, pr);
	if (!pr->qh || nfq_set_mode(pr->qh, NFQNL_COPY_PACKET, v->copy_range) < 0 ||
	    nfq_set_queue_maxlen(pr->qh, 4096) < 0)
		fatal("proto: queue", -errno, NULL);
	if (v->gso && nfq_set_queue_flags(pr->qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO) < 0)
		fatal("proto: NFQA_CFG_F_GSO", -errno, NULL);
	pr->fd = nfq_fd(pr->h);
	nfnl_rcvbufsiz(nfq_nfnlh(pr->h), 8u << 20);
	flags = fcntl(pr->fd, F_GETFL);
	fcntl(pr->fd, F_SETFL, flags | O_NONBLOCK);
	netns_leave(saved);
	if (wire_iptables(rg, "-A") < 0)
		fatal("proto: iptables -A in the wire namespace", -EIO, NULL);
	rg->other_fd = pr->fd;
	rg->other_fn = proto_process;
	rg->other_ctx = pr;
	return pr;
}

static void proto_close(struct rig *rg, struct proto *pr)
{
	wire_iptables(rg, "-D");
	proto_process(pr); /* what is still queued */
	nfq_destroy_queue(pr->qh);
	nfq_close(pr->h);
	rg->other_fn = NULL;
	rg->other_fd = -1;
	free(pr);
}

static void bench_nfq(const struct bench_opts *o)
{
	int rounds = o->rounds < 4 ? o->rounds : 4, r, k;
	int64_t duration = (o->quick ? 300 : 1000) * FW_NS_PER_MS;
	int64_t mbps[NPROTO + 1][64], per_verdict[NPROTO][64];
	struct rig rg;

	rig_open(&rg);
	printf("\n## 2c. bare NFQUEUE consumers, every segment queued: what intercept.c could gain (%d rounds, Mbit/s)\n",
	       rounds);
	for (r = 0; r < rounds; r++) {
		for (k = 0; k <= (int)NPROTO; k++) {
			int m = (k + r) % ((int)NPROTO + 1);

			if (m == (int)NPROTO) {
				mbps[m][r] = (int64_t)xfer_once(&rg, duration);
			} else {
				struct proto *pr = proto_open(&rg, &proto_variants[m]);

				mbps[m][r] = (int64_t)xfer_once(&rg, duration);
				per_verdict[m][r] = pr->verdicts ? (int64_t)(pr->packets / pr->verdicts) : 0;
				proto_close(&rg, pr);
			}
		}
	}
	{
		int64_t base = pct(mbps[NPROTO], (size_t)rounds, 50);

		printf("%-40s %8lld Mbit/s\n", "no queue", (long long)base);
		for (k = 0; k < (int)NPROTO; k++) {
			int64_t m = pct(mbps[k], (size_t)rounds, 50);

			printf("%-40s %8lld Mbit/s  ratio %.3f  (%lld packets per verdict message)\n",
			       proto_variants[k].name, (long long)m, base ? (double)m / (double)base : 0,
			       (long long)pct(per_verdict[k], (size_t)rounds, 50));
		}
	}
	rig_close(&rg);
}

/* ---- 2b. round trip of one queued segment --------------------------------- */

/* Three series, interleaved ping-pong by ping-pong on three topologies of the
 * same shape (each its own client, wire and server namespace, echo process
 * and connection), so that every series sees the same machine at the same
 * moment:
 *   RTT_NONE      no interceptor;
 *   RTT_INLINE    the client's segments queued, consumed by this process,
 *                 the one that writes the ping. Its write() carries the
 *                 segment through the veth and the FORWARD hook into the
 *                 queue before it returns, so the consumer is awake when the
 *                 segment arrives: what a case's own step pays;
 *   RTT_SEPARATE  the same, consumed by another process that sleeps in
 *                 poll() until the kernel queues a segment: what a segment
 *                 the consumer did not send itself pays (the kernel's ACKs,
 *                 retransmissions, a peer's segments).
 * The old figure ("under 1 us") was the inline series alone, measured in
 * blocks apart from the unqueued one and compared by their medians. */
enum rtt_series {
	RTT_NONE,
	RTT_INLINE,
	RTT_SEPARATE,
};
#define RTT_SERIES 3
#define RTT_MAX_REPS 16

static const char *const rtt_series_names[RTT_SERIES] = {
	[RTT_NONE] = "no interceptor",
	[RTT_INLINE] = "queued, consumer = the pinging process",
	[RTT_SEPARATE] = "queued, consumer in another process",
};

/* What a consumer saw: the client's data segments (the pings) it was given,
 * and how long each waited in the queue before it read it. */
struct rtt_count {
	uint64_t pings;
	int64_t dwell[BENCH_MAX_SAMPLES];
	size_t ndwell;
};

static void rtt_on_event(void *ctx, const struct intercept_event *ev)
{
	struct rtt_count *c = ctx;

	if (ev->from != HOST_CLIENT || ev->seg.len == 0)
		return;
	switch (ev->kind) {
	case INTERCEPT_ACTED:
	case INTERCEPT_PASSED:
		c->pings++;
		if (c->ndwell < BENCH_MAX_SAMPLES)
			c->dwell[c->ndwell++] = ev->read_ns - ev->queued_ns;
		break;
	case INTERCEPT_RELEASED:
	case INTERCEPT_COPY_SENT:
		break;
	}
}

struct rtt_summary {
	uint64_t pings;
	int64_t dwell_p50;
};

/* One echo process for the three connections, so that every series is
 * answered by the same process: with one each, a series whose echo process
 * shared a CPU with other load was slower for that alone (seen: 72 us
 * against 18 us). The connections are made by rig_connect() afterwards. */
static pid_t rtt_echo_start(struct rig *rg)
{
	pid_t echo = fork();

	if (echo == 0) {
		struct pollfd p[RTT_SERIES];
		int s, one = 1;
		char b;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (s = 0; s < RTT_SERIES; s++) {
			p[s] = (struct pollfd){ .fd = accept(rg[s].listen_fd, NULL, NULL), .events = POLLIN };
			if (p[s].fd < 0)
				_exit(1);
			setsockopt(p[s].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		/* Ends when the parent closes the connections (or dies). */
		while (poll(p, RTT_SERIES, -1) > 0)
			for (s = 0; s < RTT_SERIES; s++)
				if (p[s].revents && (read(p[s].fd, &b, 1) != 1 || write(p[s].fd, &b, 1) != 1))
					_exit(0);
		_exit(0);
	}
	if (echo < 0)
		fatal("fork", -errno, NULL);
	return echo;
}

/* The separate consumer: serves rg's interceptor until stop_fd hangs up,
 * then writes what it counted to res_fd. */
static pid_t rtt_consumer_start(struct rig *rg, int *stop_fd, int *res_fd)
{
	int stop[2], res[2];
	pid_t pid;

	if (pipe(stop) < 0 || pipe(res) < 0)
		fatal("pipe", -errno, NULL);
	pid = fork();
	if (pid == 0) {
		static struct rtt_count c;
		struct rtt_summary out;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(stop[1]);
		close(res[0]);
		for (;;) {
			struct pollfd p[3] = { { .fd = intercept_fd(rg->ic), .events = POLLIN },
					       { .fd = intercept_timer_fd(rg->ic), .events = POLLIN },
					       { .fd = stop[0], .events = POLLIN } };

			/* Bounded: the parent's deadline per ping is 5 s. */
			if (poll(p, 3, 60 * 1000) <= 0 || p[2].revents)
				break;
			intercept_process(rg->ic, rtt_on_event, &c);
		}
		/* Two figures, not the whole count: a pipe holds 64 KiB. */
		out.pings = c.pings;
		out.dwell_p50 = pct(c.dwell, c.ndwell, 50);
		(void)!write(res[1], &out, sizeof(out));
		_exit(0);
	}
	if (pid < 0)
		fatal("fork", -errno, NULL);
	close(stop[0]);
	close(res[1]);
	*stop_fd = stop[1];
	*res_fd = res[0];
	return pid;
}

/* One ping-pong on fd; the inline interceptor (if any) is served while
 * waiting, whichever series this is. Returns the round trip. */
static int64_t rtt_ping(struct rig *inline_rig, int fd, struct rtt_count *c)
{
	int64_t t0 = fw_now_ns(), deadline = t0 + 5 * FW_NS_PER_SEC;
	char b = 'x';

	if (write(fd, &b, 1) != 1)
		fatal("ping-pong", -EIO, "write");
	for (;;) {
		struct pollfd p[3] = { { .fd = fd, .events = POLLIN },
				       { .fd = intercept_fd(inline_rig->ic), .events = POLLIN },
				       { .fd = intercept_timer_fd(inline_rig->ic), .events = POLLIN } };
		int64_t left = deadline - fw_now_ns();

		if (left <= 0)
			fatal("ping-pong", -ETIMEDOUT, "no echo within 5 s");
		if (poll(p, 3, (int)(left / FW_NS_PER_MS) + 1) < 0 && errno != EINTR)
			fatal("poll", -errno, NULL);
		if ((p[1].revents | p[2].revents) & POLLIN)
			intercept_process(inline_rig->ic, rtt_on_event, c);
		if (p[0].revents)
			break;
	}
	if (read(fd, &b, 1) != 1)
		fatal("ping-pong", -EIO, "read");
	return fw_now_ns() - t0;
}

static void bench_rtt(const struct bench_opts *o)
{
	static int64_t rtt[RTT_SERIES][BENCH_MAX_SAMPLES];
	static struct rtt_count inl;
	struct rtt_summary sep;
	int n = o->quick ? 300 : 2000, reps = o->quick ? 3 : 7, r, i, k, s;
	int64_t p50[RTT_SERIES][RTT_MAX_REPS], added[RTT_SERIES][RTT_MAX_REPS];
	uint64_t inl_before = 0;
	struct rig rg[RTT_SERIES];
	int fd[RTT_SERIES], stop_fd, res_fd, status, in_queue = 0, probes = 100;
	pid_t echo, consumer;
	double la0[3], la1[3];
	bool bad = false;

	getloadavg(la0, 3);
	for (s = 0; s < RTT_SERIES; s++)
		rig_open(&rg[s]);
	rig_open_interceptor(&rg[RTT_INLINE], QUEUE_CLIENT);
	rig_open_interceptor(&rg[RTT_SEPARATE], QUEUE_CLIENT);
	/* Connect before the consumer takes the queue over: the SYN needs a
	 * verdict, and rig_connect() gives it from this process. */
	echo = rtt_echo_start(rg);
	for (s = 0; s < RTT_SERIES; s++)
		fd[s] = rig_connect(&rg[s]);
	consumer = rtt_consumer_start(&rg[RTT_SEPARATE], &stop_fd, &res_fd);

	printf("\n## 2b. round trip of a 1-byte ping-pong: %d reps x %d ping-pongs per series, the three "
	       "series interleaved one ping-pong at a time (order rotated), each on its own topology\n",
	       reps, n);
	printf("load average before: %.2f %.2f %.2f\n", la0[0], la0[1], la0[2]);
	printf("rep  p50 none  p50 inline  p50 separate   added inline  added separate (us)\n");
	for (r = 0; r < reps; r++) {
		for (i = 0; i < n; i++)
			for (k = 0; k < RTT_SERIES; k++) {
				s = (i + k) % RTT_SERIES;
				rtt[s][i] = rtt_ping(&rg[RTT_INLINE], fd[s], &inl);
			}
		for (s = 0; s < RTT_SERIES; s++)
			p50[s][r] = pct(rtt[s], (size_t)n, 50);
		for (s = 0; s < RTT_SERIES; s++)
			added[s][r] = p50[s][r] - p50[RTT_NONE][r];
		printf("%3d  %8.1f  %10.1f  %12.1f   %12.1f  %14.1f\n", r + 1, us(p50[RTT_NONE][r]),
		       us(p50[RTT_INLINE][r]), us(p50[RTT_SEPARATE][r]), us(added[RTT_INLINE][r]),
		       us(added[RTT_SEPARATE][r]));
	}
	/* Untimed: was the inline series' ping already queued when write()
	 * returned (the consumer never had to wake up for it)? */
	inl_before = inl.pings;
	for (i = 0; i < probes; i++) {
		struct pollfd p = { .fd = intercept_fd(rg[RTT_INLINE].ic), .events = POLLIN };
		char b = 'x';

		if (write(fd[RTT_INLINE], &b, 1) != 1)
			fatal("probe", -EIO, "write");
		in_queue += poll(&p, 1, 0) == 1;
		if (!rig_pump(&rg[RTT_INLINE], fd[RTT_INLINE], POLLIN, fw_now_ns() + 5 * FW_NS_PER_SEC) ||
		    read(fd[RTT_INLINE], &b, 1) != 1)
			fatal("probe", -EIO, "no echo within 5 s");
	}
	close(stop_fd);
	if (read(res_fd, &sep, sizeof(sep)) != sizeof(sep))
		fatal("separate consumer", -EIO, "no count");
	close(res_fd);
	waitpid(consumer, &status, 0);
	getloadavg(la1, 3);

	printf("over %d reps, p50 of each rep, us:                   min  median     max\n", reps);
	for (s = 0; s < RTT_SERIES; s++)
		printf("  %-47s %7.1f %7.1f %7.1f\n", rtt_series_names[s], us(pct(p50[s], (size_t)reps, 0)),
		       us(pct(p50[s], (size_t)reps, 50)), us(pct(p50[s], (size_t)reps, 100)));
	for (s = RTT_INLINE; s < RTT_SERIES; s++)
		printf("  added, %-40s %7.1f %7.1f %7.1f (goal <= 20 us)\n", rtt_series_names[s],
		       us(pct(added[s], (size_t)reps, 0)), us(pct(added[s], (size_t)reps, 50)),
		       us(pct(added[s], (size_t)reps, 100)));
	/* The check: each queued series' pings really went through the queue. */
	printf("pings the consumers were given: inline %llu, separate %llu, of %d each (+%d untimed "
	       "inline probes)\n",
	       (unsigned long long)inl_before, (unsigned long long)sep.pings, reps * n, probes);
	printf("queue dwell p50 (queued -> read by the consumer): inline %.1f us, separate %.1f us\n",
	       us(pct(inl.dwell, inl.ndwell, 50)), us(sep.dwell_p50));
	printf("inline: ping already in the queue when write() returned: %d of %d\n", in_queue, probes);
	figure("rtt_none_us", us(pct(p50[RTT_NONE], (size_t)reps, 50)));
	figure("rtt_added_inline_us", us(pct(added[RTT_INLINE], (size_t)reps, 50)));
	figure("rtt_added_separate_us", us(pct(added[RTT_SEPARATE], (size_t)reps, 50)));
	printf("load average after: %.2f %.2f %.2f\n", la1[0], la1[1], la1[2]);
	if (inl_before < (uint64_t)reps * n || sep.pings < (uint64_t)reps * n) {
		fprintf(stderr, "fw_bench: rtt: a queued series was not (all) queued: its figures are void\n");
		bad = true;
	}
	for (s = 0; s < RTT_SERIES; s++)
		close(fd[s]);
	kill(echo, SIGKILL);
	waitpid(echo, &status, 0);
	for (s = 0; s < RTT_SERIES; s++)
		rig_close(&rg[s]);
	if (bad)
		exit(1);
}

/* ---- 3. delay precision -------------------------------------------------------- */

struct seen {
	uint32_t seq;
	int64_t sent, arrived; /* capture times, 0 = not seen */
};

struct delay_ctx {
	struct seen *v;
	size_t n, cap;
	const struct fw_addr *client;
	enum fw_host leg;
};

static void delay_on_packet(void *ctx, const struct capture_packet *p)
{
	struct delay_ctx *d = ctx;
	struct seg s;
	size_t i;

	if (seg_parse_ether(p->data, p->caplen, &s) < 0 || s.len == 0 ||
	    !fw_addr_equal(&s.src, d->client))
		return;
	for (i = 0; i < d->n && d->v[i].seq != s.seq; i++)
		;
	if (i == d->n) {
		if (d->n == d->cap)
			return;
		d->v[d->n++] = (struct seen){ .seq = s.seq };
	}
	/* The first copy on each leg: a retransmission is not a new delay. */
	if (d->leg == HOST_CLIENT && !d->v[i].sent)
		d->v[i].sent = p->t_ns;
	if (d->leg == HOST_SERVER && !d->v[i].arrived)
		d->v[i].arrived = p->t_ns;
}

/* How late the interceptor let each delayed segment go, by its own clock:
 * what the kernel path after the verdict adds is not in it. */
struct release_log {
	int64_t late[BENCH_MAX_SAMPLES];
	size_t n;
};

static void delay_on_release(void *ctx, const struct intercept_event *ev)
{
	struct release_log *rl = ctx;

	if (ev->kind == INTERCEPT_RELEASED && rl->n < BENCH_MAX_SAMPLES)
		rl->late[rl->n++] = ev->t_ns - ev->queued_ns - ev->decision.delay_ns;
}

/* One run of count delayed segments; |actual - requested| into err_ns. */
static size_t delay_run(int count, int64_t *err_ns, struct release_log *rl)
{
	static struct seen seen[BENCH_MAX_SAMPLES];
	int sent = 0, fd, status;
	int64_t gap = 10 * FW_NS_PER_MS, next, end;
	struct delay_ctx dc = { .v = seen, .cap = BENCH_MAX_SAMPLES };
	struct capture *cap[2] = { NULL, NULL };
	char err[FW_ERRLEN] = "";
	struct fw_addr client;
	size_t i, n = 0;
	struct rig rg;
	pid_t sink;
	int h, ret;

	rig_open(&rg);
	topo_addr(rg.topo, HOST_CLIENT, AF_INET, &client);
	dc.client = &client;
	for (h = HOST_CLIENT; h <= HOST_SERVER; h++) {
		ret = capture_open(&cap[h], topo_ns_fd(rg.topo, (enum fw_host)h),
				   topo_ifname(rg.topo, (enum fw_host)h), err, sizeof(err));
		if (ret < 0)
			fatal("capture_open", ret, err);
	}
	rig_open_interceptor(&rg, QUEUE_DELAY);
	sink = fork();
	if (sink == 0) {
		char buf[4096];
		int c = accept(rg.listen_fd, NULL, NULL);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		while (c >= 0 && read(c, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	fd = rig_connect(&rg);
	next = fw_now_ns();
	end = next + gap * count + 400 * FW_NS_PER_MS;
	/* One loop, as the engine has: sends on time, verdicts, captures. */
	while (fw_now_ns() < end) {
		struct pollfd p[4] = { { .fd = intercept_fd(rg.ic), .events = POLLIN },
				       { .fd = intercept_timer_fd(rg.ic), .events = POLLIN },
				       { .fd = capture_fd(cap[0]), .events = POLLIN },
				       { .fd = capture_fd(cap[1]), .events = POLLIN } };
		int64_t now = fw_now_ns(), wait = sent < count ? next - now : end - now;

		poll(p, 4, wait > 0 ? (int)((wait + FW_NS_PER_MS - 1) / FW_NS_PER_MS) : 0);
		if ((p[0].revents | p[1].revents) & POLLIN)
			intercept_process(rg.ic, delay_on_release, rl);
		for (h = 0; h < 2; h++) {
			dc.leg = (enum fw_host)h;
			capture_dispatch(cap[h], delay_on_packet, &dc);
		}
		if (sent < count && fw_now_ns() >= next) {
			char b = 'd';

			if (write(fd, &b, 1) == 1)
				sent++;
			next += gap;
		}
	}
	for (i = 0; i < dc.n; i++)
		if (seen[i].sent && seen[i].arrived) {
			int64_t e = seen[i].arrived - seen[i].sent - 100 * FW_NS_PER_MS;

			err_ns[n++] = e < 0 ? -e : e;
		}
	close(fd);
	kill(sink, SIGKILL);
	waitpid(sink, &status, 0);
	capture_free(cap[0]);
	capture_free(cap[1]);
	rig_close(&rg);
	return n;
}

/* Busy loops at normal priority on every CPU, for at most limit_ns: the
 * "shared CI machine" the delay figures are also taken on. Returns how many
 * were started; stop them with hogs_stop(). */
static int hogs_start(pid_t *pids, int max, int64_t limit_ns)
{
	int n = 0, i, cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	for (i = 0; i < cpus && i < max; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			int64_t end = fw_now_ns() + limit_ns;
			volatile uint64_t spin = 0;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			while (fw_now_ns() < end)
				spin++;
			_exit(0);
		}
		if (pid > 0)
			pids[n++] = pid;
	}
	return n;
}

static void hogs_stop(pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

static void bench_delay(const struct bench_opts *o)
{
	static int64_t err_ns[BENCH_MAX_SAMPLES];
	static struct release_log rl;
	int count = o->quick ? 50 : 200, pass;

	/* The interceptor raises itself to SCHED_FIFO while a delay is pending
	 * (intercept.c): the second pass shows what that buys when every CPU
	 * is busy with other work. */
	for (pass = 0; pass < 2; pass++) {
		pid_t hogs[64];
		int nhogs = 0;
		size_t n;

		if (pass == 1)
			nhogs = hogs_start(hogs, 64, (int64_t)count * 20 * FW_NS_PER_MS + 10 * FW_NS_PER_SEC);
		rl.n = 0;
		n = delay_run(count, err_ns, &rl);
		hogs_stop(hogs, nhogs);
		printf("\n## 3%s. delay precision%s: %zu segments delayed 100 ms (one every 10 ms), capture to capture\n",
		       pass ? "b" : "", pass ? ", every CPU busy with a normal-priority loop" : "", n);
		printf("|actual - requested|: p50 %.3f ms  p99 %.3f ms  max %.3f ms (goal p99 <= 0.3 ms)\n",
		       ms(pct(err_ns, n, 50)), ms(pct(err_ns, n, 99)), ms(pct(err_ns, n, 100)));
		printf("release lateness by the interceptor's clock: p50 %.3f ms  p99 %.3f ms\n",
		       ms(pct(rl.late, rl.n, 50)), ms(pct(rl.late, rl.n, 99)));
		figure(pass ? "delay_busy_p99_ms" : "delay_p99_ms", ms(pct(err_ns, n, 99)));
		figure(pass ? "delay_busy_p50_ms" : "delay_p50_ms", ms(pct(err_ns, n, 50)));
		figure(pass ? "delay_busy_late_p99_ms" : "delay_late_p99_ms", ms(pct(rl.late, rl.n, 99)));
	}
}

/* ---- 4. harness overhead per case ---------------------------------------------- */

/* As the harness runs a case (harness/scheduler.c run_child): prepared
 * (engine_prepare()) while the run before it runs, started when that one
 * has handed in its result, and the result handed in before the captures,
 * sockets and namespaces are closed. prepare: engine_prepare(), off the
 * critical path when the run before lasts longer; setup: the go to the
 * first timeline event after it, as the bench's process sees it (a run told
 * to go before its preparation is over waits for it: that wait is setup);
 * teardown: the last event to the result (what a case's verdict waits
 * for); release: the result to the end of engine_release() (what the
 * harness does not wait for, except after the last case); cpu: the whole
 * process. */
struct case_figures {
	int64_t wall, prepare, setup, teardown, release, cpu;
	int status;
};

/* A case process, prepared and waiting for its go. */
struct measured_run {
	pid_t pid;
	int res_fd, go_fd;
};

static void run_case_start(const struct fw_case *c, struct measured_run *m)
{
	int p[2], g[2];

	if (pipe(p) < 0 || pipe(g) < 0)
		fatal("pipe", -errno, NULL);
	fflush(NULL);
	m->pid = fork();
	if (m->pid == 0) {
		struct case_result r;
		struct case_figures cf = { 0 };
		struct engine *rest = NULL;
		int64_t first = -1, last = 0, t;
		size_t i;
		char go;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		close(g[1]);
		t = fw_now_ns();
		if (engine_prepare(c, &r, &rest) < 0)
			_exit(1);
		cf.prepare = fw_now_ns() - t;
		if (read(g[0], &go, 1) != 1)
			_exit(1);
		engine_go(rest);
		t = fw_now_ns();
		engine_release(rest);
		cf.release = fw_now_ns() - t;
		/* Timeline times count from the start (go); the setup's are dated 0. */
		for (i = 0; i < r.tl.n; i++) {
			if (r.tl.ev[i].t_ns > 0 && (first < 0 || r.tl.ev[i].t_ns < first))
				first = r.tl.ev[i].t_ns;
			if (r.tl.ev[i].t_ns > last)
				last = r.tl.ev[i].t_ns;
		}
		cf.wall = r.duration_ns;
		cf.setup = first > 0 ? first : 0;
		cf.teardown = r.duration_ns - last;
		cf.status = (int)r.status;
		result_clear(&r);
		(void)!write(p[1], &cf, sizeof(cf));
		_exit(0);
	}
	close(p[1]);
	close(g[0]);
	m->res_fd = p[0];
	m->go_fd = g[1];
}

static void run_case_finish(struct measured_run *m, struct case_figures *f)
{
	struct rusage ru;
	int64_t go, waited;
	int status;

	memset(f, 0, sizeof(*f));
	f->status = -1;
	go = fw_now_ns();
	(void)!write(m->go_fd, "g", 1);
	close(m->go_fd);
	if (read(m->res_fd, f, sizeof(*f)) != sizeof(*f))
		f->status = -1;
	/* from the go to the result, as this process saw it (the figures come
	 * after the release): whatever of it the case's own clock does not
	 * cover is setup */
	waited = fw_now_ns() - go - f->release;
	if (f->status >= 0 && waited > f->wall) {
		f->setup += waited - f->wall;
		f->wall = waited;
	}
	close(m->res_fd);
	if (wait4(m->pid, &status, 0, &ru) == m->pid)
		f->cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * FW_NS_PER_SEC +
			 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

/* "min / median / max" of v[0..n) in ms. */
static void print_spread(const char *what, int64_t *v, size_t n)
{
	printf("%-52s %7.1f / %7.1f / %7.1f ms\n", what, ms(pct(v, n, 0)), ms(pct(v, n, 50)),
	       ms(pct(v, n, 100)));
}

#define OVERHEAD_MAX_RUNS 2048

static void bench_overhead(const struct bench_opts *o)
{
	char *paths[1] = { (char *)o->cases_dir };
	int rounds = o->rounds_given ? o->rounds : o->quick ? 2 : 5, r;
	/* per run, and per round: the median over the cases of one round, so
	 * that the spread over rounds says how much the figure moves */
	static int64_t all_cpu[OVERHEAD_MAX_RUNS], all_fixed[OVERHEAD_MAX_RUNS],
		all_prep[OVERHEAD_MAX_RUNS],
		all_setup[OVERHEAD_MAX_RUNS], all_down[OVERHEAD_MAX_RUNS],
		all_rel[OVERHEAD_MAX_RUNS], all_total[OVERHEAD_MAX_RUNS];
	int64_t round_fixed[16], round_cpu[16], round_total[16];
	size_t nall = 0, i;
	struct catalog cat;
	struct measured_run cur, next;
	char err[FW_ERRLEN];

	if (rounds > 16)
		rounds = 16;
	if (catalog_load(&cat, paths, 1, err, sizeof(err)) < 0)
		fatal("catalog", -EINVAL, err);
	/* As `finwave run` without --slow: a 60 s wait says nothing of overhead. */
	catalog_drop_slow(&cat);
	printf("\n## 4. harness overhead per case (%d rounds of every case, one at a time, medians per case)\n",
	       rounds);
	printf("load average before: %s", loadavg_line());
	/* As `finwave run`: socket events loaded once, before the case processes. */
	if (sockev_load(err, sizeof(err)) < 0)
		printf("socket states polled with sock_diag (%s)\n", err);
	else
		printf("socket states as events (BPF tracepoints)\n");
	printf("%-40s %9s %9s %9s %9s %9s %9s\n", "case", "wall ms", "setup", "teardown", "release",
	       "cpu ms", "waiting");
	if (cat.n)
		run_case_start(cat.cases[0], &cur);
	for (i = 0; i < cat.n; i++) {
		int64_t wall[16], setup[16], down[16], rel[16], cpu[16];
		int bad = 0;

		for (r = 0; r < rounds; r++) {
			struct case_figures f;

			/* the next run gets ready while this one runs, as in
			 * the harness (SCHED_AHEAD) */
			if (i + 1 < cat.n || r + 1 < rounds)
				run_case_start(r + 1 < rounds ? cat.cases[i] : cat.cases[i + 1],
					       &next);
			run_case_finish(&cur, &f);
			cur = next;
			bad += f.status != CASE_PASS;
			wall[r] = f.wall;
			setup[r] = f.setup;
			down[r] = f.teardown;
			rel[r] = f.release;
			cpu[r] = f.cpu;
			if (nall < OVERHEAD_MAX_RUNS) {
				all_cpu[nall] = f.cpu;
				all_prep[nall] = f.prepare;
				all_setup[nall] = f.setup;
				all_down[nall] = f.teardown;
				all_rel[nall] = f.release;
				all_fixed[nall] = f.setup + f.teardown;
				all_total[nall++] = f.setup + f.teardown + f.release;
			}
		}
		{
			int64_t w = pct(wall, (size_t)rounds, 50), c = pct(cpu, (size_t)rounds, 50);

			printf("%-40s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f%s\n", cat.cases[i]->name,
			       ms(w), ms(pct(setup, (size_t)rounds, 50)),
			       ms(pct(down, (size_t)rounds, 50)), ms(pct(rel, (size_t)rounds, 50)), ms(c),
			       ms(w - c), bad ? "  (not all passed)" : "");
		}
	}
	/* Runs are stored case by case, round by round: run k of case i is at
	 * i * rounds + k while nothing was cut. */
	for (r = 0; r < rounds && nall == cat.n * (size_t)rounds; r++) {
		int64_t fx[OVERHEAD_MAX_RUNS / 2], cp[OVERHEAD_MAX_RUNS / 2], tt[OVERHEAD_MAX_RUNS / 2];
		size_t k;

		for (k = 0; k < cat.n && k < OVERHEAD_MAX_RUNS / 2; k++) {
			fx[k] = all_fixed[k * (size_t)rounds + (size_t)r];
			cp[k] = all_cpu[k * (size_t)rounds + (size_t)r];
			tt[k] = all_total[k * (size_t)rounds + (size_t)r];
		}
		round_fixed[r] = pct(fx, k, 50);
		round_cpu[r] = pct(cp, k, 50);
		round_total[r] = pct(tt, k, 50);
	}
	printf("over all %zu runs, min / median / max:\n", nall);
	print_spread("  prepared ahead (engine_prepare, while the run before ran)", all_prep, nall);
	print_spread("  setup (start to first event)", all_setup, nall);
	print_spread("  teardown (last event to result)", all_down, nall);
	print_spread("  setup + teardown (a case's wait for its result)", all_fixed, nall);
	print_spread("  release after the result (captures, namespaces)", all_rel, nall);
	print_spread("  setup + teardown + release", all_total, nall);
	print_spread("  cpu (user+system, process and its children)", all_cpu, nall);
	if (r == rounds) {
		printf("median per round, min / median / max over %d rounds:\n", rounds);
		print_spread("  setup + teardown", round_fixed, (size_t)rounds);
		print_spread("  setup + teardown + release", round_total, (size_t)rounds);
		print_spread("  cpu", round_cpu, (size_t)rounds);
	}
	printf("(cpu: user+system of the case process, its preparation included; waiting = wall - cpu)\n");
	printf("tcp hash of the case namespaces: %s\n", topo_child_hash_note());
	printf("load average after: %s", loadavg_line());
	catalog_free(&cat);
}

/* ---- 6. many connections in one case ------------------------------------------- */

/* One case, N connections: connect all, state every socket, close all,
 * with a fault dropping every FIN of the middle connection; then the
 * census of every socket again. The server never accepts (its backlog holds
 * them), so N = 10,000 needs 10,000 descriptors, not 20,000. */
static char *many_case(unsigned n)
{
	char *yaml = NULL;

	if (asprintf(&yaml,
		     "summary: %u connections, the middle one's FIN lost\n"
		     "family: ipv4\n"
		     "sysctl:\n"
		     "  server: {net.core.somaxconn: %u}\n"
		     "faults:\n"
		     "  - {name: lose-fin, from: client, flags: F., action: drop, count: 0, "
		     "connection: %u}\n"
		     "steps:\n"
		     "  - {do: listen, host: server, port: 8080}\n"
		     "  - {do: connect, host: client, port: 8080, connections: %u, within: 60s}\n"
		     "  - {expect: state, host: client, state: ESTABLISHED, count: %u, within: 60s}\n"
		     "  - {do: close, host: client}\n"
		     "  - {expect: state, host: client, state: FIN_WAIT_2, count: %u, within: 60s}\n"
		     "  - {expect: state, host: client, state: FIN_WAIT_1, count: 1}\n",
		     n, n > 128 ? n : 128, (n + 1) / 2, n, n, n - 1) < 0)
		fatal("asprintf", -ENOMEM, NULL);
	return yaml;
}

struct many_figures {
	int64_t wall, cpu, to_wire, from_wire, to_json;
	size_t events, wire_bytes, json_bytes;
	int status;
};

/* The engine in a process of its own (wall, CPU), then what the harness
 * does with its result: out of the case process in binary and back in
 * (result_wire.c), and the JSON a --format json report writes of it. */
static void many_run(const struct fw_case *c, struct many_figures *f)
{
	struct rusage ru;
	int p[2], status;
	pid_t pid;

	memset(f, 0, sizeof(*f));
	f->status = -1;
	if (pipe(p) < 0)
		fatal("pipe", -errno, NULL);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct case_result r, back;
		struct many_figures mf = { .status = -1 };
		char err[FW_ERRLEN];
		size_t len = 0;
		int64_t t;
		char *json, *wire;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		engine_run(c, &r);
		/* the engine's CPU: this process and what it waited for (iptables),
		 * before the result is serialised below */
		{
			struct rusage self, kids;

			getrusage(RUSAGE_SELF, &self);
			getrusage(RUSAGE_CHILDREN, &kids);
			mf.cpu = (self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
				  kids.ru_stime.tv_sec) * FW_NS_PER_SEC +
				 (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
				  kids.ru_stime.tv_usec) * 1000LL;
		}
		mf.wall = r.duration_ns;
		mf.status = (int)r.status;
		mf.events = r.tl.n;
		t = fw_now_ns();
		wire = result_to_wire(&r, &len);
		mf.to_wire = fw_now_ns() - t;
		mf.wire_bytes = wire ? len : 0;
		t = fw_now_ns();
		if (wire && result_from_wire(wire, len, &back, err, sizeof(err)) == 0)
			result_clear(&back);
		mf.from_wire = fw_now_ns() - t;
		free(wire);
		t = fw_now_ns();
		json = result_to_json(&r);
		mf.to_json = fw_now_ns() - t;
		mf.json_bytes = json ? strlen(json) : 0;
		free(json);
		if (mf.status == CASE_FAIL || mf.status == CASE_ERROR)
			fprintf(stderr, "  %s\n", r.message);
		result_clear(&r);
		(void)!write(p[1], &mf, sizeof(mf));
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], f, sizeof(*f)) != sizeof(*f))
		f->status = -1;
	close(p[0]);
	(void)wait4(pid, &status, 0, &ru);
}

/* "47.8 MB", "12 KB" */
static const char *size_text(size_t bytes, char *buf, size_t len)
{
	if (bytes >= 1000000)
		snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
	else
		snprintf(buf, len, "%.0f KB", (double)bytes / 1e3);
	return buf;
}

static void bench_many(const struct bench_opts *o)
{
	static const unsigned sizes[] = { 1, 100, 1000, 10000 };
	int rounds = o->quick ? 2 : 3, r;
	char err0[FW_ERRLEN];
	size_t i;

	printf("\n## 6. many connections in one case (%d runs each; min / median / max)\n\n", rounds);
	printf("connect N, every socket's state counted, close N, the middle connection's FIN dropped\n");
	printf("(every client segment queued), every socket's state counted again. engine: the case\n");
	printf("process (wall, CPU user+system to its result); wire: its result out in binary and back in, as the\n");
	printf("harness takes it; JSON: what a JSON report writes of it.\n");
	/* As `finwave run`: socket events loaded once, before the case processes
	 * (without it every state here was polled) */
	if (sockev_load(err0, sizeof(err0)) < 0)
		printf("Socket states polled with sock_diag (%s).\n\n", err0);
	else
		printf("Socket states as events (BPF tracepoints), as in `finwave run`.\n\n");
	printf("| N | engine wall ms | engine CPU ms | timeline events | result, binary | out + back in, ms | as JSON | JSON out, ms |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int64_t wall[16], cpu[16], wire[16], json[16];
		struct many_figures f = { 0 };
		struct fw_case *c = NULL;
		char err[FW_ERRLEN], *yaml = many_case(sizes[i]), wsz[32], jsz[32];
		int bad = 0;

		if (case_load_string(yaml, strlen(yaml), "many.yaml", "many", &c, err, sizeof(err)) < 0)
			fatal("many case", -EINVAL, err);
		for (r = 0; r < rounds; r++) {
			many_run(c, &f);
			bad += f.status != CASE_PASS;
			wall[r] = f.wall;
			cpu[r] = f.cpu;
			wire[r] = f.to_wire + f.from_wire;
			json[r] = f.to_json;
		}
		printf("| %u | %.0f / **%.0f** / %.0f | %.0f / **%.0f** / %.0f | %zu | %s | %.1f | %s | %.0f |%s\n",
		       sizes[i], ms(pct(wall, (size_t)rounds, 0)), ms(pct(wall, (size_t)rounds, 50)),
		       ms(pct(wall, (size_t)rounds, 100)), ms(pct(cpu, (size_t)rounds, 0)),
		       ms(pct(cpu, (size_t)rounds, 50)), ms(pct(cpu, (size_t)rounds, 100)), f.events,
		       size_text(f.wire_bytes, wsz, sizeof(wsz)), ms(pct(wire, (size_t)rounds, 50)),
		       size_text(f.json_bytes, jsz, sizeof(jsz)), ms(pct(json, (size_t)rounds, 50)),
		       bad ? " (not all passed)" : "");
		case_free(c);
		free(yaml);
	}
}

/* ---- 7. sock_diag dump cost: a case namespace's own TCP hash vs the host's ----- */

#define SOCKDIAG_DUMPS 200

/* The median time of one dump of the client namespace of a fresh topology,
 * holding a listener and a connection to it (3 sockets), built with its own
 * hash table or sharing the host's. */
static int64_t sockdiag_round(bool own)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(BENCH_PORT) };
	int64_t t[SOCKDIAG_DUMPS];
	struct sockprobe *p = NULL;
	struct topo *tp = NULL;
	char err[FW_ERRLEN] = "";
	int lfd, cfd, afd, ret, i;

	topo_child_hash(own);
	ret = topo_create(&tp, err, sizeof(err));
	topo_child_hash(true);
	if (ret < 0)
		fatal("topo_create", ret, err);
	inet_pton(AF_INET, "198.18.1.2", &sa.sin_addr);
	lfd = netns_socket(topo_ns_fd(tp, HOST_CLIENT), AF_INET, SOCK_STREAM, 0);
	cfd = netns_socket(topo_ns_fd(tp, HOST_CLIENT), AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || cfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (afd = accept(lfd, NULL, NULL)) < 0)
		fatal("sockets", -errno, NULL);
	ret = sockprobe_open(&p, topo_ns_fd(tp, HOST_CLIENT), err, sizeof(err));
	if (ret < 0)
		fatal("sockprobe_open", ret, err);
	for (i = 0; i < SOCKDIAG_DUMPS; i++) {
		struct sock_info *socks = NULL;
		size_t n = 0;
		int64_t t0 = fw_now_ns();

		ret = sockprobe_dump(p, &socks, &n, err, sizeof(err));
		t[i] = fw_now_ns() - t0;
		free(socks);
		if (ret < 0 || n < 3)
			fatal("sockprobe_dump", ret < 0 ? ret : -EPROTO, ret < 0 ? err : "fewer than 3 sockets");
	}
	sockprobe_free(p);
	close(afd);
	close(cfd);
	close(lfd);
	topo_free(tp);
	return pct(t, SOCKDIAG_DUMPS, 50);
}

static void bench_sockdiag(const struct bench_opts *o)
{
	int rounds = o->rounds > 16 ? 16 : o->rounds, r;
	int64_t own[16], shared[16], ratio[16];

	printf("\n## 7. one sock_diag dump of a case namespace (3 TCP sockets; median of %d dumps per round, %d rounds alternated)\n",
	       SOCKDIAG_DUMPS, rounds);
	printf("load average before: %s", loadavg_line());
	printf("the case namespaces' TCP hash: %s\n", topo_child_hash_note());
	for (r = 0; r < rounds; r++) {
		shared[r] = sockdiag_round(false);
		own[r] = sockdiag_round(true);
		/* per mille, of the same round */
		ratio[r] = shared[r] ? own[r] * 1000 / shared[r] : 0;
	}
	printf("%-40s %8.1f / %8.1f / %8.1f us\n", "sharing the host's table, min/median/max",
	       us(pct(shared, (size_t)rounds, 0)), us(pct(shared, (size_t)rounds, 50)),
	       us(pct(shared, (size_t)rounds, 100)));
	printf("%-40s %8.1f / %8.1f / %8.1f us\n", "its own table", us(pct(own, (size_t)rounds, 0)),
	       us(pct(own, (size_t)rounds, 50)), us(pct(own, (size_t)rounds, 100)));
	printf("%-40s %8.3f / %8.3f / %8.3f\n", "own / shared, same round",
	       (double)pct(ratio, (size_t)rounds, 0) / 1000, (double)pct(ratio, (size_t)rounds, 50) / 1000,
	       (double)pct(ratio, (size_t)rounds, 100) / 1000);
	printf("load average after: %s", loadavg_line());
}

/* ---- main ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	void (*run)(const struct bench_opts *o);
} benches[] = {
	{ "topo", bench_topo },	  { "handles", bench_handles },
	{ "throughput", bench_throughput }, { "nfq", bench_nfq }, { "rtt", bench_rtt },
	{ "delay", bench_delay }, { "overhead", bench_overhead }, { "many", bench_many },
	{ "sockdiag", bench_sockdiag },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

int main(int argc, char **argv)
{
	struct bench_opts o = { .rounds = 8, .cases_dir = "cases" };
	bool chosen[NBENCH] = { false }, any = false;
	size_t b;
	int i;

	signal(SIGPIPE, SIG_IGN);
	/* Line by line: a child forked with unwritten output (the engine's own
	 * children flush stdio before fork) would print it a second time. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o.quick = true;
			o.rounds = 3;
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			o.rounds = atoi(argv[++i]);
			o.rounds_given = true;
			if (o.rounds < 1 || o.rounds > 64) {
				fprintf(stderr, "fw_bench: --rounds from 1 to 64\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--cases") == 0 && i + 1 < argc) {
			o.cases_dir = argv[++i];
		} else {
			for (b = 0; b < NBENCH && strcmp(benches[b].name, argv[i]) != 0; b++)
				;
			if (b == NBENCH) {
				fprintf(stderr,
					"usage: fw_bench [--rounds N] [--quick] [--cases DIR] [topo|handles|throughput|nfq|rtt|delay|overhead|many|sockdiag]...\n");
				return 2;
			}
			chosen[b] = any = true;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "fw_bench: needs root (it creates network namespaces)\n");
		return 3;
	}
	for (b = 0; b < NBENCH; b++)
		if (!any || chosen[b])
			benches[b].run(&o);
	return 0;
}
