/* Tests of intercept against real kernels: three namespaces of its own,
 * client -- wire -- server, a real TCP connection across the wire's FORWARD
 * path, and faults carried out on its FIN. Needs root (CAP_NET_ADMIN and
 * CAP_SYS_ADMIN for namespaces); everything lives in namespaces held by fd,
 * so nothing is left behind however the test ends. Timing is printed, never
 * bounded from above. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "intercept.h"
#include "netns.h"
#include "util.h"

#define TEST_PORT 5001
#define TEST_QUEUE 7
#define TEST_WAIT_NS (3 * FW_NS_PER_SEC)
#define TEST_DELAY_NS (150 * FW_NS_PER_MS)
#define TEST_PEER_FD 10 /* where a child finds the peer namespace for `ip ... netns` */

struct test_net {
	int ns[HOST_COUNT];
	bool ready; /* false: setup failed and said why on stderr */
};

/* ---- running ip / nft inside our namespaces ---- */

static int test_tool_path(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, len, "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Run a NULL-terminated argument list inside ns_fd (peer_fd, when >= 0, is
 * visible to it as /proc/self/fd/TEST_PEER_FD). Output goes to out. Returns
 * the exit status, or -1 when it could not run or took over 5 s. */
static int test_run_in(int ns_fd, int peer_fd, char *out, size_t outlen, const char *tool, ...)
{
	char path[256], *argv[24];
	int pipefd[2], status = -1, argc = 0;
	int64_t deadline = fw_now_ns() + 5 * FW_NS_PER_SEC;
	size_t used = 0;
	va_list ap;
	pid_t pid;

	if (test_tool_path(tool, path, sizeof(path)) < 0)
		return -1;
	argv[argc++] = path;
	va_start(ap, tool);
	while (argc < 23 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (out && outlen)
		out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (peer_fd >= 0 && dup2(peer_fd, TEST_PEER_FD) < 0)
			_exit(126);
		if (setns(ns_fd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		char tmp[512];
		int64_t left = deadline - fw_now_ns();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)(left / FW_NS_PER_MS) + 1) <= 0)
			break;
		r = read(pipefd[0], tmp, sizeof(tmp));
		if (r <= 0)
			break;
		if (out && used + 1 < outlen) {
			size_t take = (size_t)r < outlen - 1 - used ? (size_t)r : outlen - 1 - used;

			memcpy(out + used, tmp, take);
			used += take;
			out[used] = '\0';
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct timespec nap = { 0, 1000000 };

		if (fw_now_ns() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	if (!WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) && out)
		fprintf(stderr, "%s failed: %s\n", tool, out);
	return WEXITSTATUS(status);
}

#define IP_OK(ns, ...)                                                                      \
	do {                                                                                \
		char ip_out_[512];                                                          \
		if (test_run_in(ns, -1, ip_out_, sizeof(ip_out_), "ip", __VA_ARGS__,         \
				(char *)NULL) != 0)                                         \
			return 0;                                                           \
	} while (0)

/* client eth0 198.18.1.2/24 -- cl0 198.18.1.1 [wire] sv0 198.18.2.1 -- eth0 198.18.2.2/24 server.
 * Always returns 0 so teardown runs; a failure leaves ready false and the
 * test fails there, naming the cause. */
static int test_net_setup(void **state)
{
	struct test_net *net = calloc(1, sizeof(*net));
	char out[512];
	int h, saved, fd;

	if (!net)
		return -1;
	for (h = 0; h < HOST_COUNT; h++)
		net->ns[h] = -1;
	*state = net;
	if (geteuid() != 0)
		return 0; /* each test skips */
	for (h = 0; h < HOST_COUNT; h++) {
		net->ns[h] = netns_create();
		if (net->ns[h] < 0)
			return 0;
	}
	if (test_run_in(net->ns[HOST_WIRE], net->ns[HOST_CLIENT], out, sizeof(out), "ip", "link",
			"add", "cl0", "type", "veth", "peer", "name", "eth0", "netns",
			"/proc/self/fd/10", (char *)NULL) != 0 ||
	    test_run_in(net->ns[HOST_WIRE], net->ns[HOST_SERVER], out, sizeof(out), "ip", "link",
			"add", "sv0", "type", "veth", "peer", "name", "eth0", "netns",
			"/proc/self/fd/10", (char *)NULL) != 0)
		return 0;
	IP_OK(net->ns[HOST_WIRE], "link", "set", "lo", "up");
	IP_OK(net->ns[HOST_WIRE], "addr", "add", "198.18.1.1/24", "dev", "cl0");
	IP_OK(net->ns[HOST_WIRE], "addr", "add", "198.18.2.1/24", "dev", "sv0");
	IP_OK(net->ns[HOST_WIRE], "link", "set", "cl0", "up");
	IP_OK(net->ns[HOST_WIRE], "link", "set", "sv0", "up");
	IP_OK(net->ns[HOST_CLIENT], "link", "set", "lo", "up");
	IP_OK(net->ns[HOST_CLIENT], "addr", "add", "198.18.1.2/24", "dev", "eth0");
	IP_OK(net->ns[HOST_CLIENT], "link", "set", "eth0", "up");
	IP_OK(net->ns[HOST_CLIENT], "route", "add", "default", "via", "198.18.1.1");
	IP_OK(net->ns[HOST_SERVER], "link", "set", "lo", "up");
	IP_OK(net->ns[HOST_SERVER], "addr", "add", "198.18.2.2/24", "dev", "eth0");
	IP_OK(net->ns[HOST_SERVER], "link", "set", "eth0", "up");
	IP_OK(net->ns[HOST_SERVER], "route", "add", "default", "via", "198.18.2.1");

	/* /proc/sys/net follows the opening thread's namespace: enter first. */
	if (netns_enter(net->ns[HOST_WIRE], &saved) < 0)
		return 0;
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1) {
			close(fd);
			fd = -1;
		} else {
			close(fd);
		}
	}
	if (netns_leave(saved) < 0 || fd < 0)
		return 0;
	net->ready = true;
	return 0;
}

static int test_net_teardown(void **state)
{
	struct test_net *net = *state;
	int h;

	for (h = 0; h < HOST_COUNT; h++)
		if (net->ns[h] >= 0)
			close(net->ns[h]);
	free(net);
	return 0;
}

static struct test_net *test_net_get(void **state)
{
	struct test_net *net = *state;

	if (geteuid() != 0) {
		fprintf(stderr, "needs root: skipped\n");
		skip();
	}
	if (!net->ready)
		fail_msg("could not build the client--wire--server namespaces (see above)");
	return net;
}

/* ---- one connection through the interceptor ---- */

struct test_conn {
	struct intercept *ic;
	int lsn, srv, cli;
	size_t srv_rx, cli_rx;
	bool eof;      /* the server's stream ended: EOF, or an error */
	int srv_err;   /* the error that ended it (ECONNRESET), 0 for EOF */
	int64_t eof_ns;
	struct intercept_event ev[32]; /* every event but PASSED */
	size_t nev;
	size_t passed;      /* PASSED events: segments let through as they came */
	uint32_t max_passed_len; /* the longest payload passed: over one MSS, a GSO packet */
	int64_t max_dwell;  /* the longest any segment waited in the queue */
	size_t pending_at_acted;
	unsigned released_before_eof;
};

static void test_on_event(void *ctx, const struct intercept_event *ev)
{
	struct test_conn *c = ctx;

	assert_true(ev->read_ns >= ev->queued_ns);
	if (ev->read_ns - ev->queued_ns > c->max_dwell)
		c->max_dwell = ev->read_ns - ev->queued_ns;
	if (ev->kind == INTERCEPT_PASSED) {
		c->passed++;
		if (ev->seg.len > c->max_passed_len)
			c->max_passed_len = ev->seg.len;
		return;
	}
	if (c->nev < sizeof(c->ev) / sizeof(c->ev[0]))
		c->ev[c->nev++] = *ev;
	switch (ev->kind) {
	case INTERCEPT_PASSED:
		break;
	case INTERCEPT_ACTED:
		c->pending_at_acted = intercept_pending(c->ic);
		break;
	case INTERCEPT_RELEASED:
		if (!c->eof)
			c->released_before_eof++;
		break;
	case INTERCEPT_COPY_SENT:
		break;
	}
}

enum test_until {
	UNTIL_ACCEPTED,
	UNTIL_SRV_RX,
	UNTIL_CLI_RX,
	UNTIL_EOF,
};

static bool test_done(const struct test_conn *c, enum test_until until, size_t want)
{
	switch (until) {
	case UNTIL_ACCEPTED:
		return c->srv >= 0;
	case UNTIL_SRV_RX:
		return c->srv_rx >= want;
	case UNTIL_CLI_RX:
		return c->cli_rx >= want;
	case UNTIL_EOF:
		return c->eof;
	}
	return true;
}

/* The case's event loop in miniature: poll the queue, its timer and the
 * sockets, and let intercept_process() give verdicts. Bounded by TEST_WAIT_NS. */
static bool test_pump(struct test_conn *c, enum test_until until, size_t want)
{
	int64_t deadline = fw_now_ns() + TEST_WAIT_NS;

	while (!test_done(c, until, want) && fw_now_ns() < deadline) {
		struct pollfd pfd[5] = {
			{ .fd = intercept_fd(c->ic), .events = POLLIN },
			{ .fd = intercept_timer_fd(c->ic), .events = POLLIN },
			{ .fd = c->srv < 0 ? c->lsn : -1, .events = POLLIN },
			{ .fd = c->eof ? -1 : c->srv, .events = POLLIN },
			{ .fd = c->cli, .events = POLLIN },
		};
		char buf[2048];
		ssize_t n;

		assert_true(poll(pfd, 5, 10) >= 0 || errno == EINTR);
		assert_int_equal(intercept_process(c->ic, test_on_event, c), 0);
		if (c->srv < 0 && c->lsn >= 0) {
			c->srv = accept4(c->lsn, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (c->srv < 0)
				assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		}
		if (c->srv >= 0 && !c->eof) {
			n = recv(c->srv, buf, sizeof(buf), 0);
			if (n == 0) {
				c->eof = true;
				c->eof_ns = fw_now_ns();
			} else if (n > 0) {
				c->srv_rx += (size_t)n;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				c->eof = true;
				c->srv_err = errno;
				c->eof_ns = fw_now_ns();
			}
		}
		if (c->cli >= 0) {
			n = recv(c->cli, buf, sizeof(buf), 0);
			if (n > 0)
				c->cli_rx += (size_t)n;
		}
	}
	return test_done(c, until, want);
}

/* Open the interceptor, connect, exchange a few bytes each way. Returns false
 * (after printing why) when NFQUEUE is unusable here, so the test can skip. */
static bool test_conn_start(struct test_conn *c, struct test_net *net, struct fault_set *fs)
{
	struct intercept_config cfg = {
		.wire_ns_fd = net->ns[HOST_WIRE],
		.in_ifname = { [HOST_CLIENT] = "cl0", [HOST_SERVER] = "sv0" },
		.faults = fs,
		.queue_num = TEST_QUEUE,
	};
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(TEST_PORT) };
	char err[FW_ERRLEN] = "";
	int one = 1, ret;

	memset(c, 0, sizeof(*c));
	c->lsn = c->srv = c->cli = -1;
	ret = intercept_open(&c->ic, &cfg, err, sizeof(err));
	if (ret == -ENOTSUP) {
		fprintf(stderr, "intercept_open: %s\n", err);
		return false;
	}
	if (ret < 0)
		fprintf(stderr, "intercept_open: %s\n", err);
	assert_int_equal(ret, 0);

	inet_pton(AF_INET, "198.18.2.2", &sa.sin_addr);
	c->lsn = netns_socket(net->ns[HOST_SERVER], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->lsn >= 0);
	assert_int_equal(setsockopt(c->lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(c->lsn, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(c->lsn, 4), 0);

	c->cli = netns_socket(net->ns[HOST_CLIENT], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->cli >= 0);
	ret = connect(c->cli, (struct sockaddr *)&sa, sizeof(sa));
	assert_true(ret == 0 || errno == EINPROGRESS);
	assert_true(test_pump(c, UNTIL_ACCEPTED, 0));

	assert_int_equal(send(c->cli, "hello", 5, 0), 5);
	assert_true(test_pump(c, UNTIL_SRV_RX, 5));
	assert_int_equal(send(c->srv, "world!", 6, 0), 6);
	assert_true(test_pump(c, UNTIL_CLI_RX, 6));
	return true;
}

static void test_conn_end(struct test_conn *c)
{
	if (c->cli >= 0)
		close(c->cli);
	if (c->srv >= 0)
		close(c->srv);
	if (c->lsn >= 0)
		close(c->lsn);
	intercept_free(c->ic);
	c->ic = NULL;
}

static struct fault_rule test_fin_rule(enum fault_action action, unsigned count)
{
	struct fault_rule r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "client-fin");
	r.from = HOST_CLIENT;
	r.flags_mask = SEG_FIN;
	r.flags_value = SEG_FIN;
	r.payload = FAULT_PAYLOAD_ANY;
	r.nth = 1;
	r.count = count;
	r.action = action;
	r.armed = true;
	return r;
}

/* ---- the tests ---- */

/* Drop the client's first FIN: the interceptor acts once, and the server still
 * reaches EOF because the client's kernel retransmits the FIN after an RTO
 * (tcp_retransmit_timer; RTO is at least TCP_RTO_MIN, 200 ms). */
static void test_drop_first_fin(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_DROP, 1);
	struct fault_set *fs = NULL;
	struct test_conn c;
	size_t i, acted = 0;
	int64_t t_drop = 0;

	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	close(c.cli);
	c.cli = -1;
	assert_true(test_pump(&c, UNTIL_EOF, 0));

	for (i = 0; i < c.nev; i++) {
		const struct intercept_event *ev = &c.ev[i];

		assert_int_equal(ev->kind, INTERCEPT_ACTED);
		assert_int_equal(ev->decision.action, FAULT_DROP);
		assert_int_equal(ev->decision.rule, 0);
		assert_int_equal(ev->decision.occurrence, 1);
		assert_int_equal(ev->from, HOST_CLIENT);
		assert_true(ev->seg.flags & SEG_FIN);
		assert_int_equal(ev->seg.src.family, AF_INET);
		t_drop = ev->t_ns;
		acted++;
	}
	assert_int_equal(acted, 1);
	assert_int_equal(fault_set_fired(fs, 0), 1);
	assert_true(fault_set_matched(fs, 0) >= 2); /* the retransmitted FIN passed */
	assert_int_equal(intercept_pending(c.ic), 0);
	printf("# drop: server EOF %.1f ms after the first FIN was dropped (FIN retransmit)\n",
	       (double)(c.eof_ns - t_drop) / FW_NS_PER_MS);
	test_conn_end(&c);
	fault_set_free(fs);
}

/* Delay the client's first FIN by 150 ms: released no earlier than that, and
 * the server sees EOF only after the release. */
static void test_delay_fin(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_DELAY, 1);
	struct fault_set *fs = NULL;
	const struct intercept_event *acted = NULL, *released = NULL;
	struct test_conn c;
	int64_t held, err_ns;
	size_t i;

	r.delay_ns = TEST_DELAY_NS;
	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	close(c.cli);
	c.cli = -1;
	assert_true(test_pump(&c, UNTIL_EOF, 0));

	for (i = 0; i < c.nev; i++) {
		switch (c.ev[i].kind) {
		case INTERCEPT_ACTED:
			assert_null(acted);
			acted = &c.ev[i];
			break;
		case INTERCEPT_RELEASED:
			assert_null(released);
			released = &c.ev[i];
			break;
		case INTERCEPT_COPY_SENT:
			fail_msg("a delay never sends a copy");
			break;
		case INTERCEPT_PASSED:
			fail_msg("test_on_event keeps no PASSED event");
			break;
		}
	}
	assert_non_null(acted);
	assert_non_null(released);
	assert_int_equal(acted->decision.action, FAULT_DELAY);
	assert_int_equal(acted->decision.delay_ns, TEST_DELAY_NS);
	assert_true(acted->seg.flags & SEG_FIN);
	assert_int_equal(acted->from, HOST_CLIENT);
	assert_int_equal(c.pending_at_acted, 1);
	assert_int_equal(released->decision.action, FAULT_DELAY);
	assert_true(released->seg.flags & SEG_FIN);
	assert_int_equal(released->queued_ns, acted->queued_ns);

	held = released->t_ns - released->queued_ns;
	assert_true(held >= TEST_DELAY_NS);
	/* timed: due when the delay, counted from entering the queue, ran out */
	assert_int_equal(released->due_ns, released->queued_ns + TEST_DELAY_NS);
	assert_true(released->t_ns >= released->due_ns);
	assert_int_equal(c.released_before_eof, 1);
	assert_true(c.eof_ns >= released->t_ns);
	assert_int_equal(intercept_pending(c.ic), 0);
	err_ns = held - TEST_DELAY_NS;
	printf("# delay: requested %.3f ms, held %.3f ms, |error| %.3f ms; EOF %.3f ms after release\n",
	       (double)TEST_DELAY_NS / FW_NS_PER_MS, (double)held / FW_NS_PER_MS,
	       (double)(err_ns < 0 ? -err_ns : err_ns) / FW_NS_PER_MS,
	       (double)(c.eof_ns - released->t_ns) / FW_NS_PER_MS);
	test_conn_end(&c);
	fault_set_free(fs);
}

/* Read our queues' lines of /proc/net/netfilter/nfnetlink_queue in the wire
 * namespace: id_sequence counts every packet the kernel ever queued to one. */
static void test_queue_stats(int ns_fd, unsigned *queued, unsigned *dropped,
			     unsigned *user_dropped)
{
	unsigned qnum, portid, total, mode, range, d, ud, idseq;
	char line[256];
	bool found = false;
	FILE *f;
	int saved;

	*queued = *dropped = *user_dropped = 0;
	assert_int_equal(netns_enter(ns_fd, &saved), 0);
	/* thread-self: /proc/self/net would follow the thread group leader. */
	f = fopen("/proc/thread-self/net/netfilter/nfnetlink_queue", "re");
	assert_int_equal(netns_leave(saved), 0);
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %u %u %u %u %u %u", &qnum, &portid, &total, &mode, &range,
			   &d, &ud, &idseq) == 8 &&
		    (qnum == TEST_QUEUE || qnum == TEST_QUEUE + 1)) {
			/* + 1: segments carrying FIN come cut through a queue of their own */
			found = true;
			*queued += idseq;
			*dropped += d;
			*user_dropped += ud;
		}
	}
	fclose(f);
	assert_true(found);
}

/* With only a client-FIN rule, every client segment is queued (one path per
 * sender keeps its order) and no server segment is: each packet the kernel
 * queued came from the client, and the rule counted exactly the FINs. */
static void test_prefilter_one_sender(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_PASS, 0);
	struct fault_set *fs = NULL;
	unsigned queued = 0, dropped = 0, user_dropped = 0;
	struct test_conn c;

	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	close(c.cli);
	c.cli = -1;
	assert_true(test_pump(&c, UNTIL_EOF, 0));
	/* Server's FIN and final ACKs too: let them cross before counting. */
	close(c.srv);
	c.srv = -1;
	{
		struct test_conn *cp = &c;
		int64_t until = fw_now_ns() + 100 * FW_NS_PER_MS;

		while (fw_now_ns() < until) {
			struct pollfd pfd = { .fd = intercept_fd(cp->ic), .events = POLLIN };

			poll(&pfd, 1, 10);
			assert_int_equal(intercept_process(cp->ic, test_on_event, cp), 0);
		}
	}
	test_queue_stats(net->ns[HOST_WIRE], &queued, &dropped, &user_dropped);
	printf("# prefilter: %u client segment(s) queued, %u FIN(s) matched; longest dwell %.3f ms\n",
	       queued, fault_set_matched(fs, 0), (double)c.max_dwell / FW_NS_PER_MS);
	/* SYN, ACK, data, ACKs of the server's data, FIN, final ACK */
	assert_true(queued >= 6);
	assert_int_equal(queued, c.passed);
	assert_true(fault_set_matched(fs, 0) >= 1);
	assert_true(fault_set_matched(fs, 0) < queued);
	assert_int_equal(dropped, 0);
	assert_int_equal(user_dropped, 0);
	assert_int_equal(c.nev, 0); /* a pass rule acts on nothing */
	test_conn_end(&c);
	fault_set_free(fs);
}

static size_t test_count_lines(const char *text, const char *needle)
{
	size_t n = 0;
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[512];

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (strstr(line, needle))
			n++;
		p = eol ? eol + 1 : NULL;
	}
	return n;
}

/* Rules as the kernel holds them, every table of both families, as nft
 * prints them: Debian's nft translates the xt NFQUEUE target through
 * libxtables ("queue num 7"). */
static void test_list_rules(int ns_fd, char *out, size_t len)
{
	out[0] = '\0';
	if (test_run_in(ns_fd, -1, out, len, "nft", "list", "ruleset", (char *)NULL) != 0)
		out[0] = '\0';
}

/* The pre-filter's rule text: one all-TCP rule per sender some rule names
 * (whatever its flags), never-matching and wire rules skipped, disarmed
 * rules included; and gone after free. */
static void test_prefilter_rules(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule rules[7];
	struct fault_set *fs = NULL;
	struct intercept *ic = NULL;
	struct intercept_config cfg = {
		.wire_ns_fd = net->ns[HOST_WIRE],
		.in_ifname = { [HOST_CLIENT] = "cl0", [HOST_SERVER] = "sv0" },
		.queue_num = TEST_QUEUE,
	};
	char err[FW_ERRLEN] = "", rules_text[8192];
	int64_t t0, t1, t2;
	int ret;

	rules[0] = test_fin_rule(FAULT_DROP, 1);
	rules[1] = test_fin_rule(FAULT_DELAY, 0); /* same filter as rules[0] */
	rules[2] = test_fin_rule(FAULT_DROP, 0);
	rules[2].from = HOST_SERVER;
	rules[2].flags_mask = rules[2].flags_value = 0;
	rules[3] = test_fin_rule(FAULT_DROP, 0);
	rules[3].flags_mask = SEG_FIN | SEG_SYN | SEG_RST | SEG_PSH | SEG_ACK | SEG_URG | SEG_ECE |
			      SEG_CWR;
	rules[3].flags_value = SEG_ECE; /* kernel: FIN,...,URG NONE */
	rules[4] = test_fin_rule(FAULT_DROP, 0);
	rules[4].flags_value = SEG_FIN | SEG_ACK; /* outside the mask: never */
	rules[5] = test_fin_rule(FAULT_DROP, 0);
	rules[5].from = HOST_WIRE;
	rules[6] = test_fin_rule(FAULT_DROP, 0);
	rules[6].flags_mask = SEG_SYN | SEG_ACK;
	rules[6].flags_value = SEG_SYN;
	rules[6].armed = false;
	assert_int_equal(fault_set_create(&fs, rules, 7), 0);
	cfg.faults = fs;

	t0 = fw_now_ns();
	ret = intercept_open(&ic, &cfg, err, sizeof(err));
	t1 = fw_now_ns();
	if (ret == -ENOTSUP) {
		fprintf(stderr, "intercept_open: %s\n", err);
		fault_set_free(fs);
		skip();
	}
	if (ret < 0)
		fprintf(stderr, "intercept_open: %s\n", err);
	assert_int_equal(ret, 0);
	test_list_rules(net->ns[HOST_WIRE], rules_text, sizeof(rules_text));
	/* 2 senders x 2 families, every TCP segment: no flags matched */
	assert_int_equal(test_count_lines(rules_text, "queue num 7"), 4);
	assert_int_equal(test_count_lines(rules_text, "iifname \"cl0\" meta l4proto tcp queue num 7"), 2);
	assert_int_equal(test_count_lines(rules_text, "iifname \"sv0\" meta l4proto tcp queue num 7"), 2);
	assert_int_equal(test_count_lines(rules_text, "tcp flags"), 0);
	assert_int_equal(test_count_lines(rules_text, "table ip finwave {"), 1);
	assert_int_equal(test_count_lines(rules_text, "table ip6 finwave {"), 1);

	t2 = fw_now_ns();
	intercept_free(ic);
	printf("# 4 kernel rules: intercept_open %.1f ms, intercept_free %.1f ms\n",
	       (double)(t1 - t0) / FW_NS_PER_MS, (double)(fw_now_ns() - t2) / FW_NS_PER_MS);
	test_list_rules(net->ns[HOST_WIRE], rules_text, sizeof(rules_text));
	assert_int_equal(test_count_lines(rules_text, "queue num"), 0);
	assert_int_equal(test_count_lines(rules_text, "finwave"), 0);
	fault_set_free(fs);
}

/* Configuration errors say what is wrong and leave no rule behind. */
static void test_open_errors(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_DROP, 1);
	struct fault_set *fs = NULL;
	struct intercept *ic = NULL;
	struct intercept_config cfg = {
		.wire_ns_fd = net->ns[HOST_WIRE],
		.in_ifname = { [HOST_SERVER] = "sv0" },
		.queue_num = TEST_QUEUE,
	};
	char err[FW_ERRLEN] = "", rules_text[8192];

	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	cfg.faults = fs;
	/* a client rule, but no client interface */
	assert_int_equal(intercept_open(&ic, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(ic);
	assert_non_null(strstr(err, "client-fin"));

	cfg.in_ifname[HOST_CLIENT] = "nosuch0";
	assert_int_equal(intercept_open(&ic, &cfg, err, sizeof(err)), -ENODEV);
	assert_null(ic);
	assert_non_null(strstr(err, "nosuch0"));

	/* Two listeners on one queue number in one namespace. */
	cfg.in_ifname[HOST_CLIENT] = "cl0";
	assert_int_equal(intercept_open(&ic, &cfg, err, sizeof(err)), 0);
	{
		struct intercept *ic2 = NULL;
		int ret = intercept_open(&ic2, &cfg, err, sizeof(err));

		assert_int_equal(ret, -EBUSY);
		assert_non_null(strstr(err, "listener"));
		assert_null(ic2);
	}
	intercept_free(ic);
	test_list_rules(net->ns[HOST_WIRE], rules_text, sizeof(rules_text));
	assert_int_equal(test_count_lines(rules_text, "queue num"), 0);
	assert_int_equal(test_count_lines(rules_text, "finwave"), 0);
	intercept_free(NULL);
	fault_set_free(fs);
}

/* Handle queue events for a while, whatever happens (bounded by `ns`). */
static void test_pump_for(struct test_conn *c, int64_t ns)
{
	int64_t until = fw_now_ns() + ns;

	while (fw_now_ns() < until) {
		struct pollfd pfd[2] = {
			{ .fd = intercept_fd(c->ic), .events = POLLIN },
			{ .fd = intercept_timer_fd(c->ic), .events = POLLIN },
		};

		assert_true(poll(pfd, 2, 5) >= 0 || errno == EINTR);
		assert_int_equal(intercept_process(c->ic, test_on_event, c), 0);
	}
}

/* One TcpExt counter of the namespace ns (/proc/net/netstat is per netns:
 * read from a thread that entered it). */
static long test_netstat(int ns, const char *name)
{
	char names[4096], values[4096], *n, *v, *sn = NULL, *sv = NULL;
	long found = -1;
	int saved;
	FILE *f;

	assert_int_equal(netns_enter(ns, &saved), 0);
	f = fopen("/proc/thread-self/net/netstat", "r");
	assert_int_equal(netns_leave(saved), 0);
	assert_non_null(f);
	while (found < 0 && fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, "TcpExt:", 7) != 0)
			continue;
		for (n = strtok_r(names, " \n", &sn), v = strtok_r(values, " \n", &sv); n && v;
		     n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
			if (strcmp(n, name) == 0)
				found = strtol(v, NULL, 10);
	}
	fclose(f);
	assert_true(found >= 0);
	return found;
}

/* Hold the client's FIN until released by hand: the server sees nothing
 * meanwhile, and EOF right after intercept_release_rule(). */
static void test_hold_until_released(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_HOLD, 1);
	struct fault_set *fs = NULL;
	struct test_conn c;

	r.until = FAULT_UNTIL_STEP;
	r.max_ns = TEST_WAIT_NS; /* the deadline must not be what lets it go */
	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	close(c.cli);
	c.cli = -1;
	/* well under the client's RTO (200 ms), which would send a second FIN */
	test_pump_for(&c, 80 * FW_NS_PER_MS);
	assert_int_equal(intercept_pending(c.ic), 1);
	assert_int_equal(c.nev, 1);
	assert_int_equal(c.ev[0].decision.action, FAULT_HOLD);
	{
		char b;

		/* no EOF yet: the FIN is still at the wire */
		assert_int_equal(recv(c.srv, &b, 1, 0), -1);
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	/* released only by segments queued before the given time */
	assert_int_equal(intercept_release_rule(c.ic, 0, c.ev[0].queued_ns, test_on_event, &c), 0);
	assert_int_equal(intercept_release_rule(c.ic, 0, INT64_MAX, test_on_event, &c), 1);
	assert_int_equal(intercept_pending(c.ic), 0);
	assert_int_equal(c.ev[1].kind, INTERCEPT_RELEASED);
	assert_true(test_pump(&c, UNTIL_EOF, 0));
	assert_int_equal(c.srv_err, 0);
	test_conn_end(&c);
	fault_set_free(fs);
}

/* A rule that queues and passes every other segment of the client, so
 * the rule before it acts amid batched passes. */
static struct fault_rule test_client_all_rule(void)
{
	struct fault_rule r = test_fin_rule(FAULT_PASS, 0);

	snprintf(r.name, sizeof(r.name), "client-all");
	r.flags_mask = r.flags_value = 0;
	return r;
}

/* Both test segments are in the queue, unread (idseq counts what the
 * kernel queued). No event says "n queued": the count is polled, bounded
 * by TEST_WAIT_NS. */
static void test_wait_queued(int wire_ns, unsigned since, unsigned n)
{
	int64_t deadline = fw_now_ns() + TEST_WAIT_NS;
	unsigned q, d, ud;

	do {
		struct timespec nap = { 0, FW_NS_PER_MS };

		test_queue_stats(wire_ns, &q, &d, &ud);
		if (q >= since + n)
			return;
		nanosleep(&nap, NULL);
	} while (fw_now_ns() < deadline);
	fail_msg("%u segment(s) queued, %u expected", q - since, n);
}

/* Passes are told to the kernel in batches ("accept everything up to id
 * N"), which must never let a held segment go: hold the client's FIN, then
 * let data flow both ways through the same queue; the server sees no EOF
 * until the release. */
static void test_batch_never_releases_held(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r[2] = { test_fin_rule(FAULT_HOLD, 1), test_client_all_rule() };
	struct fault_set *fs = NULL;
	struct test_conn c;
	char b;
	int i;

	r[0].until = FAULT_UNTIL_STEP;
	r[0].max_ns = TEST_WAIT_NS;
	assert_int_equal(fault_set_create(&fs, r, 2), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	assert_int_equal(shutdown(c.cli, SHUT_WR), 0);
	test_pump_for(&c, 20 * FW_NS_PER_MS);
	assert_int_equal(intercept_pending(c.ic), 1);
	/* the server's data draws the client's ACKs, queued after the FIN */
	for (i = 0; i < 5; i++) {
		assert_int_equal(send(c.srv, "more", 4, 0), 4);
		assert_true(test_pump(&c, UNTIL_CLI_RX, 6 + 4 * (size_t)(i + 1)));
	}
	test_pump_for(&c, 20 * FW_NS_PER_MS);
	assert_int_equal(intercept_pending(c.ic), 1);
	assert_int_equal(recv(c.srv, &b, 1, 0), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_int_equal(intercept_release_rule(c.ic, 0, INT64_MAX, test_on_event, &c), 1);
	assert_true(test_pump(&c, UNTIL_EOF, 0));
	assert_int_equal(c.srv_err, 0);
	test_conn_end(&c);
	fault_set_free(fs);
}

/* Verdicts leave in the order their segments came: data waiting for its
 * batched pass must not be overtaken by the FIN behind it, which a rule
 * rewrites (an individual verdict). Both are queued before one
 * intercept_process() call; a FIN that overtook its data would reach the
 * server out of order, counted in TcpExt TCPOFOQueue. */
static void test_verdicts_keep_order(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r[2] = { test_fin_rule(FAULT_REWRITE, 1), test_client_all_rule() };
	struct fault_set *fs = NULL;
	struct test_conn c;
	unsigned q0, d, ud;
	long ofo_before;
	size_t i, rewritten = 0;

	r[0].rewrite.set_win = true;
	r[0].rewrite.win = 1000;
	assert_int_equal(fault_set_create(&fs, r, 2), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	ofo_before = test_netstat(net->ns[HOST_SERVER], "TCPOFOQueue");
	test_queue_stats(net->ns[HOST_WIRE], &q0, &d, &ud);
	assert_int_equal(send(c.cli, "data", 4, 0), 4);
	assert_int_equal(shutdown(c.cli, SHUT_WR), 0);
	/* both wait in the queue before the one call that reads them */
	test_wait_queued(net->ns[HOST_WIRE], q0, 2);
	assert_true(test_pump(&c, UNTIL_EOF, 0));
	assert_int_equal(c.srv_err, 0);
	assert_int_equal(c.srv_rx, 5 + 4);
	for (i = 0; i < c.nev; i++)
		rewritten += c.ev[i].kind == INTERCEPT_ACTED && c.ev[i].rewritten;
	assert_int_equal(rewritten, 1);
	assert_int_equal(test_netstat(net->ns[HOST_SERVER], "TCPOFOQueue"), ofo_before);
	test_conn_end(&c);
	fault_set_free(fs);
}

/* A sender's segments reach the far side in the order they were sent when a
 * rule names only some of them (issue 12): a rule for the client's data
 * segments (PSH), which passes them, and data followed at once by the FIN
 * (no PSH). Both wait until the consumer reads the queue; a FIN that took
 * another path (a pre-filter on the rule's flags) would overtake the waiting
 * data and reach the server out of order (TcpExt TCPOFOQueue). The wait is
 * for either event, polled, bounded by TEST_WAIT_NS. */
static void test_sender_order_kept(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_PASS, 0);
	struct fault_set *fs = NULL;
	int64_t deadline;
	struct test_conn c;
	unsigned q0, q = 0, d, ud;
	long ofo_before;

	snprintf(r.name, sizeof(r.name), "client-data");
	r.flags_mask = r.flags_value = SEG_PSH;
	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	ofo_before = test_netstat(net->ns[HOST_SERVER], "TCPOFOQueue");
	test_queue_stats(net->ns[HOST_WIRE], &q0, &d, &ud);
	assert_int_equal(send(c.cli, "data", 4, 0), 4);
	assert_int_equal(shutdown(c.cli, SHUT_WR), 0);
	deadline = fw_now_ns() + TEST_WAIT_NS;
	while (fw_now_ns() < deadline) {
		struct timespec nap = { 0, FW_NS_PER_MS };

		test_queue_stats(net->ns[HOST_WIRE], &q, &d, &ud);
		if (q >= q0 + 2 || test_netstat(net->ns[HOST_SERVER], "TCPOFOQueue") > ofo_before)
			break;
		nanosleep(&nap, NULL);
	}
	assert_true(test_pump(&c, UNTIL_EOF, 0));
	assert_int_equal(c.srv_err, 0);
	assert_int_equal(c.srv_rx, 5 + 4);
	printf("# order: %u segment(s) queued after the data was sent\n", q - q0);
	assert_int_equal(test_netstat(net->ns[HOST_SERVER], "TCPOFOQueue"), ofo_before);
	assert_true(q >= q0 + 2); /* the FIN took the queue path too */
	test_conn_end(&c);
	fault_set_free(fs);
}

/* A FIN rule with bulk data before the FIN: the data's GSO packets reach the
 * queue whole (one verdict per 64 KB, not per 1.4 KB), while the packet that
 * carries the FIN comes cut through the second queue, so the rule drops the
 * FIN's segment alone, as on the wire; the bytes arrive whole and in order. */
static void test_fin_rule_takes_data_whole(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_DROP, 1);
	const size_t total = 1 << 20;
	struct fault_set *fs = NULL;
	static char chunk[65536];
	int64_t deadline;
	struct test_conn c;
	size_t sent = 0;
	long ofo_before;

	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	ofo_before = test_netstat(net->ns[HOST_SERVER], "TCPOFOQueue");
	memset(chunk, 'x', sizeof(chunk));
	deadline = fw_now_ns() + TEST_WAIT_NS;
	while (sent < total && fw_now_ns() < deadline) {
		size_t want = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);
		ssize_t n = send(c.cli, chunk, want, 0);

		if (n > 0)
			sent += (size_t)n;
		else
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		(void)test_pump(&c, UNTIL_SRV_RX, 5 + sent);
	}
	assert_int_equal(sent, total);
	assert_int_equal(shutdown(c.cli, SHUT_WR), 0);
	assert_true(test_pump(&c, UNTIL_EOF, 0)); /* after the FIN's retransmission */
	printf("# fin rule, 1 MiB of data: %zu segment(s) passed, the longest %u bytes; "
	       "%u FIN(s) dropped\n",
	       c.passed, c.max_passed_len, fault_set_fired(fs, 0));
	assert_int_equal(c.srv_err, 0);
	assert_int_equal(c.srv_rx, 5 + total);
	assert_int_equal(fault_set_fired(fs, 0), 1);
	assert_true(c.max_passed_len > 1500); /* whole GSO packets, not MTU pieces */
	assert_int_equal(test_netstat(net->ns[HOST_SERVER], "TCPOFOQueue"), ofo_before);
	test_conn_end(&c);
	fault_set_free(fs);
}

/* Duplicate the client's data: the copy leaves the wire namespace and the
 * server's kernel sees the same bytes twice (it answers with a D-SACK,
 * counted in TcpExt TCPDSACKOldSent); the application reads them once. */
static void test_duplicate_data(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_DUPLICATE, 1);
	struct fault_set *fs = NULL;
	struct test_conn c;
	long dsack_before;
	size_t i, copies = 0;

	r.flags_mask = 0;
	r.flags_value = 0;
	r.payload = FAULT_PAYLOAD_SOME;
	r.nth = 2; /* the data after the handshake exchange */
	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	dsack_before = test_netstat(net->ns[HOST_SERVER], "TCPDSACKOldSent");
	assert_int_equal(send(c.cli, "again", 5, 0), 5);
	assert_true(test_pump(&c, UNTIL_SRV_RX, 5 + 5));
	test_pump_for(&c, 50 * FW_NS_PER_MS);
	for (i = 0; i < c.nev; i++)
		if (c.ev[i].kind == INTERCEPT_COPY_SENT) {
			assert_int_equal(c.ev[i].err, 0);
			copies++;
		}
	assert_int_equal(copies, 1);
	assert_int_equal(c.srv_rx, 10); /* "hello" + "again", each once */
	assert_int_equal(test_netstat(net->ns[HOST_SERVER], "TCPDSACKOldSent"), dsack_before + 1);
	test_conn_end(&c);
	fault_set_free(fs);
}

/* Rewrite the client's FIN into an RST: the server's kernel accepts it (so
 * the recomputed checksum is right) and recv() fails with ECONNRESET
 * instead of reading EOF. */
static void test_rewrite_fin_to_rst(void **state)
{
	struct test_net *net = test_net_get(state);
	struct fault_rule r = test_fin_rule(FAULT_REWRITE, 1);
	struct fault_set *fs = NULL;
	struct test_conn c;

	r.rewrite.set_flags = true;
	r.rewrite.flags = SEG_RST | SEG_ACK;
	assert_int_equal(fault_set_create(&fs, &r, 1), 0);
	if (!test_conn_start(&c, net, fs)) {
		fault_set_free(fs);
		skip();
	}
	close(c.cli);
	c.cli = -1;
	assert_true(test_pump(&c, UNTIL_EOF, 0));
	assert_int_equal(c.srv_err, ECONNRESET);
	assert_int_equal(c.nev, 1);
	assert_true(c.ev[0].rewritten);
	assert_int_equal(c.ev[0].err, 0);
	assert_int_equal(c.ev[0].seg.flags & (SEG_FIN | SEG_RST), SEG_FIN);
	assert_int_equal(c.ev[0].after.flags, SEG_RST | SEG_ACK);
	assert_int_equal(c.ev[0].after.seq, c.ev[0].seg.seq);
	test_conn_end(&c);
	fault_set_free(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drop_first_fin, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_delay_fin, test_net_setup, test_net_teardown),
		cmocka_unit_test_setup_teardown(test_hold_until_released, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_data, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_fin_to_rst, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_batch_never_releases_held, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_verdicts_keep_order, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_fin_rule_takes_data_whole, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_sender_order_kept, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_one_sender, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_rules, test_net_setup,
						test_net_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, test_net_setup,
						test_net_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
