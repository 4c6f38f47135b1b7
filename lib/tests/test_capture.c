/* Unit tests of capture (root: they make namespaces).
 * Two private namespaces joined by a veth, a real TCP handshake over IPv4
 * and IPv6, and the capture on one end must see SYN, SYN-ACK and ACK with
 * CLOCK_MONOTONIC stamps inside the test's own time window. The namespaces
 * are anonymous: closing their fds (teardown, or process exit however it
 * happens) removes them and the veth with them. The host namespace is never
 * touched: every `ip` command runs in a child that first joins a private one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "netns.h"
#include "seg.h"
#include "util.h"

#define IF_A "fwcap0"
#define IF_B "fwcap1"
#define ADDR4_A "198.18.0.1"
#define ADDR4_B "198.18.0.2"
#define ADDR6_A "2001:2::1"
#define ADDR6_B "2001:2::2"
#define CMD_TIMEOUT_NS (5 * FW_NS_PER_SEC)
/* A lost first SYN (carrier not up yet) is retransmitted after 1 s. */
#define STEP_TIMEOUT_NS (5 * FW_NS_PER_SEC)
/* The realtime->monotonic offset is measured once at open; NTP slewing can
 * move the clocks apart by up to 500 ppm, i.e. well under this over a test. */
#define CLOCK_SLACK_NS (5 * FW_NS_PER_MS)
#define PAYLOAD_LEN 1000

struct topo_state {
	int ns_a, ns_b;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Run argv inside ns_fd; keep_fd (or -1) is left open across exec so the
 * command can name it as /proc/self/fd/N. Returns the exit status, or -1. */
static int ns_run(int ns_fd, int keep_fd, const char *const argv[])
{
	int64_t deadline = fw_now_ns() + CMD_TIMEOUT_NS;
	int status = -1;
	pid_t pid, w;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		/* Only the child switches namespace; on any failure it exits
		 * before running anything, never acting on the host namespace. */
		if (setns(ns_fd, CLONE_NEWNET) < 0)
			_exit(126);
		if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
			_exit(126);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 || fw_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(5);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Wait until ifname in ns_fd is operationally up (IFF_RUNNING). "ip link set
 * up" returns before linkwatch has propagated the veth carrier; until it has,
 * IPv6 leaves the addresses unusable and ignores neighbor solicitations, so
 * the first SYN waits a full 1 s ND retransmit. Returns 0 or -1 on timeout. */
static int link_wait_running(int ns_fd, const char *ifname)
{
	int64_t deadline = fw_now_ns() + CMD_TIMEOUT_NS;
	struct ifreq ifr;
	int fd, ret = -1;

	fd = netns_socket(ns_fd, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	while (fw_now_ns() < deadline) {
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
			break;
		if (ifr.ifr_flags & IFF_RUNNING) {
			ret = 0;
			break;
		}
		sleep_ms(5);
	}
	close(fd);
	return ret;
}

#define NS_RUN(ns, keep, ...)                                                  \
	do {                                                                   \
		const char *const argv_[] = { __VA_ARGS__, NULL };             \
		if (ns_run((ns), (keep), argv_) != 0) {                        \
			fprintf(stderr, "command failed: %s\n", #__VA_ARGS__); \
			goto fail;                                             \
		}                                                              \
	} while (0)

static int topo_setup(void **state)
{
	struct topo_state *t;
	char peer_ns[64];

	*state = NULL;
	if (geteuid() != 0)
		return 0; /* each test skips */
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->ns_a = netns_create();
	t->ns_b = netns_create();
	if (t->ns_a < 0 || t->ns_b < 0)
		goto fail;
	snprintf(peer_ns, sizeof(peer_ns), "/proc/self/fd/%d", t->ns_b);
	/* Distinct ifindexes: each end would otherwise be ifindex 2 in its own
	 * namespace, equal to its peer's iflink, and linkwatch_urgent_event()
	 * would then batch the carrier change for up to a second. */
	NS_RUN(t->ns_a, t->ns_b, "ip", "link", "add", IF_A, "index", "10", "type", "veth", "peer",
	       "name", IF_B, "index", "11", "netns", peer_ns);
	NS_RUN(t->ns_a, -1, "ip", "addr", "add", ADDR4_A "/24", "dev", IF_A);
	NS_RUN(t->ns_a, -1, "ip", "-6", "addr", "add", ADDR6_A "/64", "dev", IF_A, "nodad");
	NS_RUN(t->ns_a, -1, "ip", "link", "set", IF_A, "up");
	NS_RUN(t->ns_b, -1, "ip", "addr", "add", ADDR4_B "/24", "dev", IF_B);
	NS_RUN(t->ns_b, -1, "ip", "-6", "addr", "add", ADDR6_B "/64", "dev", IF_B, "nodad");
	NS_RUN(t->ns_b, -1, "ip", "link", "set", IF_B, "up");
	if (link_wait_running(t->ns_a, IF_A) < 0 || link_wait_running(t->ns_b, IF_B) < 0)
		goto fail;
	*state = t;
	return 0;
fail:
	if (t->ns_a >= 0)
		close(t->ns_a);
	if (t->ns_b >= 0)
		close(t->ns_b);
	free(t);
	return -1;
}

static int topo_teardown(void **state)
{
	struct topo_state *t = *state;

	if (t) {
		close(t->ns_a);
		close(t->ns_b);
		free(t);
	}
	return 0;
}

/* What the capture saw of one connection. */
struct seen {
	int family;
	uint16_t cport, sport;
	int64_t t_syn, t_synack, t_ack, t_data;
	uint32_t client_isn, server_isn;
	uint32_t data_caplen;
	unsigned packets, unparsed, foreign, bad_len;
};

static void on_packet(void *ctx, const struct capture_packet *p)
{
	struct seen *sn = ctx;
	struct seg s;
	bool from_client;

	sn->packets++;
	if (p->caplen > CAPTURE_SNAPLEN || p->caplen > p->len)
		sn->bad_len++;
	if (seg_parse_ether(p->data, p->caplen, &s) < 0) {
		sn->unparsed++;
		return;
	}
	if (s.src.family != sn->family ||
	    !((s.sport == sn->cport && s.dport == sn->sport) ||
	      (s.sport == sn->sport && s.dport == sn->cport))) {
		sn->foreign++; /* not this connection */
		return;
	}
	from_client = s.sport == sn->cport;
	if (from_client && s.flags == SEG_SYN && !sn->t_syn) {
		sn->t_syn = p->t_ns;
		sn->client_isn = s.seq;
	} else if (!from_client && s.flags == (SEG_SYN | SEG_ACK) && sn->t_syn && !sn->t_synack &&
		   s.ack == sn->client_isn + 1) {
		sn->t_synack = p->t_ns;
		sn->server_isn = s.seq;
	} else if (from_client && s.flags == SEG_ACK && sn->t_synack && !sn->t_ack &&
		   s.seq == sn->client_isn + 1 && s.ack == sn->server_isn + 1 && s.len == 0) {
		sn->t_ack = p->t_ns;
	} else if (from_client && (s.flags & SEG_ACK) && s.len == PAYLOAD_LEN && !sn->t_data &&
		   s.seq == sn->client_isn + 1) {
		/* Far bigger than the snap length: the length must come from IP. */
		sn->t_data = p->t_ns;
		sn->data_caplen = p->caplen;
	}
}

/* Poll and dispatch until done(sn) or the deadline. */
static void capture_until(struct capture *c, struct seen *sn, bool (*done)(const struct seen *))
{
	int64_t deadline = fw_now_ns() + STEP_TIMEOUT_NS;

	while (!done(sn)) {
		struct pollfd pfd = { capture_fd(c), POLLIN, 0 };
		int64_t left = deadline - fw_now_ns();

		if (left <= 0)
			break;
		assert_true(poll(&pfd, 1, (int)(left / FW_NS_PER_MS) + 1) >= 0);
		assert_true(capture_dispatch(c, on_packet, sn) >= 0);
	}
}

static bool handshake_seen(const struct seen *sn)
{
	return sn->t_ack != 0;
}

static bool data_seen(const struct seen *sn)
{
	return sn->t_data != 0;
}

static void wait_fd(int fd, short events)
{
	struct pollfd pfd = { fd, events, 0 };

	assert_int_equal(poll(&pfd, 1, (int)(STEP_TIMEOUT_NS / FW_NS_PER_MS)), 1);
}

static socklen_t sockaddr_make(int family, const char *addr, uint16_t port,
			       struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
	return sizeof(*sin6);
}

static uint16_t sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void handshake_check(void **state, int family, const char *caddr, const char *saddr,
			    uint16_t port)
{
	struct topo_state *t = *state;
	struct sockaddr_storage ss;
	struct capture *c = NULL;
	struct seen sn;
	char err[FW_ERRLEN] = "", payload[PAYLOAD_LEN];
	int lfd, cfd, afd, one = 1, soerr = -1;
	socklen_t sl;
	int64_t t0, t1;

	if (!t)
		skip();
	memset(&sn, 0, sizeof(sn));
	sn.family = family;
	sn.sport = port;

	assert_int_equal(capture_open(&c, t->ns_a, IF_A, err, sizeof(err)), 0);
	assert_non_null(c);
	assert_true(capture_fd(c) >= 0);

	lfd = netns_socket(t->ns_b, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sl = sockaddr_make(family, saddr, port, &ss);
	assert_int_equal(bind(lfd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(listen(lfd, 4), 0);

	cfd = netns_socket(t->ns_a, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(cfd >= 0);
	/* Bind the client address so the 4-tuple is known before the SYN. */
	sl = sockaddr_make(family, caddr, 0, &ss);
	assert_int_equal(bind(cfd, (struct sockaddr *)&ss, sl), 0);
	sl = sizeof(ss);
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&ss, &sl), 0);
	sn.cport = sockaddr_port(&ss);

	t0 = fw_now_ns();
	sl = sockaddr_make(family, saddr, port, &ss);
	assert_int_equal(connect(cfd, (struct sockaddr *)&ss, sl), -1);
	assert_int_equal(errno, EINPROGRESS);
	wait_fd(cfd, POLLOUT);
	sl = sizeof(soerr);
	assert_int_equal(getsockopt(cfd, SOL_SOCKET, SO_ERROR, &soerr, &sl), 0);
	assert_int_equal(soerr, 0);
	wait_fd(lfd, POLLIN);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);

	capture_until(c, &sn, handshake_seen);
	t1 = fw_now_ns();
	assert_int_equal(sn.unparsed, 0);
	assert_int_equal(sn.bad_len, 0);
	assert_true(sn.t_syn != 0);
	assert_true(sn.t_synack != 0);
	assert_true(sn.t_ack != 0);
	assert_true(sn.t_syn >= t0 - CLOCK_SLACK_NS);
	assert_true(sn.t_syn <= sn.t_synack);
	assert_true(sn.t_synack <= sn.t_ack);
	assert_true(sn.t_ack <= t1 + CLOCK_SLACK_NS);

	/* A payload longer than the snap length still reports its true size. */
	memset(payload, 'x', sizeof(payload));
	assert_int_equal(send(cfd, payload, sizeof(payload), 0), (ssize_t)sizeof(payload));
	capture_until(c, &sn, data_seen);
	assert_true(sn.t_data >= sn.t_ack);
	assert_true(sn.t_data <= fw_now_ns() + CLOCK_SLACK_NS);
	assert_int_equal(sn.data_caplen, CAPTURE_SNAPLEN);
	assert_int_equal(capture_dropped(c), 0);

	close(afd);
	close(cfd);
	close(lfd);
	capture_free(c);
}

static void test_handshake_ipv4(void **state)
{
	handshake_check(state, AF_INET, ADDR4_A, ADDR4_B, 8080);
}

static void test_handshake_ipv6(void **state)
{
	handshake_check(state, AF_INET6, ADDR6_A, ADDR6_B, 8081);
}

static ino_t thread_netns_ino(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static void test_open_errors(void **state)
{
	struct topo_state *t = *state;
	struct capture *c = (struct capture *)&c; /* must be reset to NULL */
	char err[FW_ERRLEN] = "";
	ino_t before;

	if (!t)
		skip();
	before = thread_netns_ino();
	/* The interface exists in ns_b only: looked up inside ns_a, it is not there. */
	assert_int_equal(capture_open(&c, t->ns_a, IF_B, err, sizeof(err)), -ENODEV);
	assert_null(c);
	assert_non_null(strstr(err, IF_B));
	/* Whatever happened, the thread is back where it was. */
	assert_true(thread_netns_ino() == before);

	err[0] = '\0';
	assert_true(capture_open(&c, -1, IF_A, err, sizeof(err)) < 0);
	assert_true(err[0] != '\0');
	assert_int_equal(capture_open(&c, t->ns_a, "", err, sizeof(err)), -EINVAL);
	assert_int_equal(capture_open(NULL, t->ns_a, IF_A, err, sizeof(err)), -EINVAL);
	/* A NULL error buffer is allowed. */
	assert_int_equal(capture_open(&c, t->ns_a, "nosuchif0", NULL, 0), -ENODEV);

	assert_int_equal(capture_open(&c, t->ns_a, IF_A, err, sizeof(err)), 0);
	assert_true(thread_netns_ino() == before);
	assert_int_equal(capture_dispatch(c, NULL, NULL), -EINVAL);
	capture_free(c);

	capture_free(NULL);
	assert_int_equal(capture_dispatch(NULL, on_packet, NULL), -EINVAL);
	assert_int_equal(capture_dropped(NULL), 0);
	assert_true(capture_fd(NULL) < 0);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static bool syn_seen(const struct seen *sn)
{
	return sn->t_syn != 0;
}

/* Both ends of the veth opened side by side: each handle is in its own
 * namespace and sees the same SYN; a failed open leaves nothing open, and
 * the calling thread stays in its namespace either way. */
static void test_open_all(void **state)
{
	struct topo_state *t = *state;
	struct capture *c[2] = { NULL, NULL };
	const char *const ifs[2] = { IF_A, IF_B }, *const wrong[2] = { IF_A, IF_A };
	struct sockaddr_storage ss;
	struct seen sn[2];
	char err[FW_ERRLEN] = "";
	int ns_fds[2], fds_before, cfd, i;
	ino_t before;
	socklen_t sl;

	if (!t)
		skip();
	ns_fds[0] = t->ns_a;
	ns_fds[1] = t->ns_b;
	before = thread_netns_ino();
	fds_before = count_fds();
	/* IF_A is not in ns_b: the handle that did open is closed again. */
	assert_int_equal(capture_open_all(c, ns_fds, wrong, 2, err, sizeof(err)), -ENODEV);
	assert_null(c[0]);
	assert_null(c[1]);
	assert_non_null(strstr(err, IF_A));
	assert_int_equal(count_fds(), fds_before);
	assert_true(thread_netns_ino() == before);

	assert_int_equal(capture_open_all(c, ns_fds, ifs, 2, err, sizeof(err)), 0);
	assert_true(thread_netns_ino() == before);
	memset(sn, 0, sizeof(sn));
	cfd = netns_socket(t->ns_a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(cfd >= 0);
	sl = sockaddr_make(AF_INET, ADDR4_A, 0, &ss);
	assert_int_equal(bind(cfd, (struct sockaddr *)&ss, sl), 0);
	sl = sizeof(ss);
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&ss, &sl), 0);
	for (i = 0; i < 2; i++) {
		sn[i].family = AF_INET;
		sn[i].cport = sockaddr_port(&ss);
		sn[i].sport = 8090;
	}
	sl = sockaddr_make(AF_INET, ADDR4_B, 8090, &ss);
	assert_int_equal(connect(cfd, (struct sockaddr *)&ss, sl), -1);
	assert_int_equal(errno, EINPROGRESS);
	for (i = 0; i < 2; i++) {
		capture_until(c[i], &sn[i], syn_seen);
		assert_true(sn[i].t_syn != 0);
	}
	assert_int_equal(sn[0].client_isn, sn[1].client_isn);
	close(cfd);
	capture_free_all(c, 2);
	assert_null(c[0]);
	assert_null(c[1]);
	assert_int_equal(count_fds(), fds_before);
	assert_int_equal(capture_open_all(c, ns_fds, ifs, CAPTURE_MAX_AT_ONCE + 1, err,
					  sizeof(err)),
			 -EINVAL);
}

/* Refused connects (a SYN and its RST each) into a ring opened with the
 * given size and never read: what did not fit is counted as dropped. */
static unsigned refused_into_ring(struct topo_state *t, size_t bufsize, int connects)
{
	const int ns_fds[1] = { t->ns_a };
	const char *const ifs[1] = { IF_A };
	struct capture_opening *o = NULL;
	struct capture *c[1] = { NULL };
	struct sockaddr_storage ss;
	char err[FW_ERRLEN] = "";
	socklen_t sl = sockaddr_make(AF_INET, ADDR4_B, 9, &ss);
	int i, fd, soerr = 0;
	unsigned dropped;

	assert_int_equal(capture_open_begin(&o, c, ns_fds, ifs, 1, bufsize, err, sizeof(err)), 0);
	assert_int_equal(capture_open_end(o, err, sizeof(err)), 0);
	for (i = 0; i < connects; i++) {
		fd = netns_socket(t->ns_a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fd >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), -1);
		assert_int_equal(errno, EINPROGRESS);
		wait_fd(fd, POLLOUT); /* the RST came back: both segments passed IF_A */
		sl = sizeof(soerr);
		assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl), 0);
		assert_int_equal(soerr, ECONNREFUSED);
		sl = sockaddr_make(AF_INET, ADDR4_B, 9, &ss);
		close(fd);
	}
	dropped = capture_dropped(c[0]);
	capture_free_all(c, 1);
	return dropped;
}

static void test_ring_size(void **state)
{
	struct topo_state *t = *state;

	if (!t)
		skip();
	/* 400 segments: far more than a 16 KiB ring's 44 frames, far fewer
	 * than the default's thousands */
	assert_true(refused_into_ring(t, 16 * 1024, 200) > 0);
	assert_int_equal(refused_into_ring(t, 0, 200), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_errors, topo_setup, topo_teardown),
		cmocka_unit_test_setup_teardown(test_open_all, topo_setup, topo_teardown),
		cmocka_unit_test_setup_teardown(test_ring_size, topo_setup, topo_teardown),
		cmocka_unit_test_setup_teardown(test_handshake_ipv4, topo_setup, topo_teardown),
		cmocka_unit_test_setup_teardown(test_handshake_ipv6, topo_setup, topo_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
