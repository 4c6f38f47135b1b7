/* sockev: the tracepoint programs on the real kernel. Two namespaces with
 * the same addresses and ports: each subscription sees its own sockets'
 * transitions, LAST_ACK of a loopback close included, with the kernel's
 * CLOCK_MONOTONIC times, and nothing of the other's. And FINWAVE_NO_BPF:
 * the load says why it did not happen. Needs root (namespaces, BPF). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "netns.h"
#include "sockev.h"
#include "util.h"
#include "vocab.h"

#define TEST_PORT 5557
#define TEST_MAX_EVENTS 256

struct seen {
	struct sockev_ev ev[TEST_MAX_EVENTS];
	size_t n;
};

static void on_ev(void *ctx, const struct sockev_ev *ev)
{
	struct seen *s = ctx;

	if (s->n < TEST_MAX_EVENTS)
		s->ev[s->n++] = *ev;
}

static void lo_up(int ns)
{
	struct ifreq ifr;
	int fd = netns_socket(ns, AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
}

/* A whole connection over loopback in ns: the client closes first, the
 * server reads the end and closes (LAST_ACK, for microseconds). */
static void connection(int ns)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(TEST_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 2 };
	int lfd, cfd, sfd, one = 1;
	char c;

	lfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	cfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	close(cfd);
	assert_int_equal(read(sfd, &c, 1), 0); /* the client's FIN */
	close(sfd);
	close(lfd);
}

/* Read the subscription until an event of the server's socket enters
 * `until` or the deadline passes (no fixed sleep: poll on its fd). */
static void read_until(struct sockev_sub *sub, struct seen *s, int until, int64_t deadline)
{
	struct pollfd p = { .fd = sockev_sub_fd(sub), .events = POLLIN };
	size_t i;

	for (;;) {
		assert_true(sockev_sub_read(sub, on_ev, s) >= 0);
		for (i = 0; i < s->n; i++)
			if (s->ev[i].what == SOCKEV_WHAT_STATE && s->ev[i].sport == TEST_PORT &&
			    s->ev[i].newstate == until)
				return;
		if (fw_now_ns() >= deadline)
			return;
		(void)poll(&p, 1, (int)((deadline - fw_now_ns()) / FW_NS_PER_MS) + 1);
	}
}

/* The server's connected socket went through these states, in order. */
static void check_server_path(const struct seen *s, int64_t t_before, int64_t t_after)
{
	static const int path[] = { FW_TCP_ESTABLISHED, FW_TCP_CLOSE_WAIT, FW_TCP_LAST_ACK,
				    FW_TCP_CLOSE };
	size_t i, k = 0;
	int64_t last = 0;

	for (i = 0; i < s->n; i++) {
		const struct sockev_ev *e = &s->ev[i];

		if (e->what != SOCKEV_WHAT_STATE || e->sport != TEST_PORT || e->dport == 0)
			continue;
		assert_true(e->t_ns >= t_before && e->t_ns <= t_after); /* CLOCK_MONOTONIC */
		assert_true(e->t_ns >= last);
		last = e->t_ns;
		assert_int_equal(e->src.family, AF_INET);
		assert_int_equal(e->src.bytes[0], 127);
		assert_int_equal(e->dst.bytes[3], 1);
		if (k < 4 && e->newstate == path[k])
			k++;
	}
	for (i = 0; k != 4 && i < s->n; i++) /* what it saw, for the failure */
		print_message("event %d: %d -> %d :%u > :%u\n", s->ev[i].what, s->ev[i].oldstate,
			      s->ev[i].newstate, s->ev[i].sport, s->ev[i].dport);
	if (k != 4)
		fail_msg("the server socket's path stopped after %zu of ESTABLISHED, CLOSE_WAIT, "
			 "LAST_ACK, CLOSE (%zu events)", k, s->n);
}

static void test_namespaces_apart(void **state)
{
	struct sockev_sub *a = NULL, *b = NULL;
	static struct seen sa, sb;
	char err[FW_ERRLEN] = "";
	uint32_t ida, idb;
	int nsa, nsb, ret;
	int64_t t0, t1;

	(void)state;
	ret = sockev_load(err, sizeof(err));
	if (ret < 0)
		fail_msg("the BPF programs do not load here: %s", err);
	assert_true(sockev_loaded());
	nsa = netns_create();
	nsb = netns_create();
	assert_true(nsa >= 0 && nsb >= 0);
	lo_up(nsa);
	lo_up(nsb);
	assert_int_equal(sockev_netns_id(nsa, &ida), 0);
	assert_int_equal(sockev_netns_id(nsb, &idb), 0);
	assert_int_not_equal(ida, idb);
	assert_int_equal(sockev_sub_open(&a, &ida, 1, err, sizeof(err)), 0);
	assert_int_equal(sockev_sub_open(&b, &idb, 1, err, sizeof(err)), 0);

	/* The same addresses and ports in A, then in B. */
	t0 = fw_now_ns();
	connection(nsa);
	t1 = fw_now_ns();
	read_until(a, &sa, FW_TCP_CLOSE, fw_now_ns() + 2 * FW_NS_PER_SEC);
	check_server_path(&sa, t0, t1);
	assert_int_equal(sockev_sub_read(b, on_ev, &sb), 0);
	assert_int_equal(sb.n, 0); /* nothing of A's reached B */
	assert_true(sa.ev[0].netns == ida);

	sa.n = 0;
	t0 = fw_now_ns();
	connection(nsb);
	t1 = fw_now_ns();
	read_until(b, &sb, FW_TCP_CLOSE, fw_now_ns() + 2 * FW_NS_PER_SEC);
	check_server_path(&sb, t0, t1);
	assert_int_equal(sockev_sub_read(a, on_ev, &sa), 0);
	assert_int_equal(sa.n, 0);
	assert_true(sb.ev[0].netns == idb);
	assert_int_equal(sockev_sub_lost(a) + sockev_sub_lost(b), 0);

	/* Unsubscribed: B's namespace delivers nothing anywhere (the ring is
	 * gone; a new one for A still sees only A). */
	sockev_sub_free(b);
	sockev_sub_free(a);
	close(nsa);
	close(nsb);
}

/* FINWAVE_NO_BPF: no load, a reason, the same answer again, and no
 * subscription. In a fresh process (the load is once per process). */
static void test_not_loaded_says_why(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	/* In a child: the load is once per process and this one loaded. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("FINWAVE_NO_BPF", "1", 1);
		execl("/proc/self/exe", "test_sockev_root", "--child-no-bpf", (char *)NULL);
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int child_no_bpf(void)
{
	char err[FW_ERRLEN] = "", err2[FW_ERRLEN] = "";
	struct sockev_sub *s = NULL;
	uint32_t id = 1;

	if (sockev_load(err, sizeof(err)) != -ECANCELED || !strstr(err, "FINWAVE_NO_BPF"))
		return 1;
	if (sockev_loaded())
		return 2;
	/* again: the first answer, not a second attempt */
	if (sockev_load(err2, sizeof(err2)) != -ECANCELED || strcmp(err, err2) != 0)
		return 3;
	if (sockev_sub_open(&s, &id, 1, err, sizeof(err)) != -ENODEV || s)
		return 4;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_namespaces_apart),
		cmocka_unit_test(test_not_loaded_says_why),
	};

	if (argc > 1 && strcmp(argv[1], "--child-no-bpf") == 0)
		return child_no_bpf();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
