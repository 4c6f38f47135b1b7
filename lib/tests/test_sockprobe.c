/* sockprobe: the state table, and a real close sequence over loopback in a
 * namespace of our own, watched through sock_diag until TIME_WAIT shows up.
 * Needs root (CAP_SYS_ADMIN for the namespace). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "netns.h"
#include "sockprobe.h"
#include "util.h"

#define TEST_PORT 5555
#define TEST_PORT6 5556

static void test_state_table(void **state)
{
	static const char *const names[] = {
		"CLOSED",   "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT_1",
		"FIN_WAIT_2", "TIME_WAIT", "CLOSE",      "CLOSE_WAIT", "LAST_ACK",
		"LISTEN",   "CLOSING",     "NEW_SYN_RECV",
	};
	int i;

	(void)state;
	for (i = 0; i <= 12; i++) {
		assert_string_equal(tcp_state_name(i), names[i]);
		assert_int_equal(tcp_state_parse(names[i]), i);
	}
	assert_string_equal(tcp_state_name(6), "TIME_WAIT");
	assert_string_equal(tcp_state_name(99), "?");
	assert_string_equal(tcp_state_name(-1), "?");
	/* Exact and case-sensitive: no prefixes, no lower case. */
	assert_int_equal(tcp_state_parse("time_wait"), -1);
	assert_int_equal(tcp_state_parse("TIME"), -1);
	assert_int_equal(tcp_state_parse("TIME_WAITX"), -1);
	assert_int_equal(tcp_state_parse(""), -1);
	assert_int_equal(tcp_state_parse(NULL), -1);

	assert_string_equal(sock_timer_name(0), "off");
	assert_string_equal(sock_timer_name(1), "on");
	assert_string_equal(sock_timer_name(2), "keepalive");
	assert_string_equal(sock_timer_name(3), "timewait");
	assert_string_equal(sock_timer_name(4), "probe");
	assert_string_equal(sock_timer_name(5), "?");
	assert_string_equal(sock_timer_name(-1), "?");
}

static void test_free_null_and_bad_ns(void **state)
{
	char err[FW_ERRLEN] = "";
	struct sockprobe *p = (struct sockprobe *)1;
	int ret;

	(void)state;
	sockprobe_free(NULL);
	ret = sockprobe_open(&p, -1, err, sizeof(err));
	assert_true(ret < 0);
	assert_null(p);
	assert_true(strlen(err) > 0);
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

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 2 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
}

static const struct sock_info *find_sock(const struct sock_info *v, size_t n, int state,
					 uint16_t sport, uint16_t dport)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].state == state && v[i].sport == sport && (dport == 0 || v[i].dport == dport))
			return &v[i];
	return NULL;
}

static bool has_port(const struct sock_info *v, size_t n, uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].sport == port || v[i].dport == port)
			return true;
	return false;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_time_wait_seen(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(TEST_PORT) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(TEST_PORT6),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 sa6m = { .sin6_family = AF_INET6, .sin6_port = htons(TEST_PORT) };
	struct sockaddr_in local;
	struct sockaddr_in6 local6;
	socklen_t sl = sizeof(local), sl6 = sizeof(local6);
	const struct sock_info *tw = NULL, *si;
	struct sockprobe *p = NULL, *p2 = NULL;
	struct sock_info *v = NULL;
	char err[FW_ERRLEN] = "";
	int ns, ns2, lfd, lfd6, cfd, sfd, mfd, one = 1, i;
	uint16_t cport;
	int64_t deadline, t[100];
	size_t n = 0;
	char c;

	(void)state;
	ns = netns_create();
	assert_true(ns >= 0);
	lo_up(ns);
	assert_int_equal(sockprobe_open(&p, ns, err, sizeof(err)), 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	lfd6 = netns_socket(ns, AF_INET6, SOCK_STREAM, 0);
	assert_true(lfd6 >= 0);
	assert_int_equal(bind(lfd6, (struct sockaddr *)&sa6, sizeof(sa6)), 0);
	assert_int_equal(listen(lfd6, 4), 0);

	cfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	assert_true(cfd >= 0);
	set_timeouts(cfd);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&local, &sl), 0);
	cport = ntohs(local.sin_port);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	set_timeouts(sfd);

	assert_int_equal(sockprobe_dump(p, &v, &n, err, sizeof(err)), 0);
	si = find_sock(v, n, 1, cport, TEST_PORT);
	assert_non_null(si);
	assert_int_equal(si->src.family, AF_INET);
	assert_int_equal(si->src.bytes[0], 127);
	assert_int_equal(si->dst.bytes[3], 1);
	assert_true(si->inode != 0);
	free(v);
	v = NULL;

	/* An AF_INET6 socket talking to an IPv4 peer is reported as IPv4, as the
	 * wire shows it, not as ::ffff:127.0.0.1. */
	mfd = netns_socket(ns, AF_INET6, SOCK_STREAM, 0);
	assert_true(mfd >= 0);
	set_timeouts(mfd);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &sa6m.sin6_addr), 1);
	assert_int_equal(connect(mfd, (struct sockaddr *)&sa6m, sizeof(sa6m)), 0);
	assert_int_equal(getsockname(mfd, (struct sockaddr *)&local6, &sl6), 0);
	assert_int_equal(sockprobe_dump(p, &v, &n, err, sizeof(err)), 0);
	si = find_sock(v, n, 1, ntohs(local6.sin6_port), TEST_PORT);
	assert_non_null(si);
	assert_int_equal(si->src.family, AF_INET);
	assert_int_equal(si->dst.family, AF_INET);
	assert_int_equal(si->dst.bytes[0], 127);
	assert_int_equal(si->dst.bytes[3], 1);
	free(v);
	v = NULL;
	close(mfd);

	/* Client closes first: it ends in TIME_WAIT (RFC 9293 3.6), the server
	 * after reading EOF goes through LAST_ACK to gone. */
	close(cfd);
	assert_int_equal(read(sfd, &c, 1), 0);
	close(sfd);

	deadline = fw_now_ns() + 2 * FW_NS_PER_SEC;
	while (fw_now_ns() < deadline) {
		free(v);
		v = NULL;
		assert_int_equal(sockprobe_dump(p, &v, &n, err, sizeof(err)), 0);
		tw = find_sock(v, n, 6, cport, TEST_PORT);
		if (tw)
			break;
		usleep(10000);
	}
	assert_non_null(tw);
	assert_int_equal(tw->timer, 3);
	assert_true(tw->expires_ms > 0 && tw->expires_ms <= 60000);
	assert_int_equal(tw->inode, 0); /* no file behind a TIME_WAIT socket */
	assert_int_equal(tw->src.family, AF_INET);

	si = find_sock(v, n, 10, TEST_PORT, 0);
	assert_non_null(si);
	assert_int_equal(si->src.family, AF_INET);
	si = find_sock(v, n, 10, TEST_PORT6, 0);
	assert_non_null(si);
	assert_int_equal(si->src.family, AF_INET6);
	assert_int_equal(si->src.bytes[15], 1); /* ::1 */
	assert_int_equal(si->src.bytes[0], 0);
	free(v);
	v = NULL;

	/* Another namespace sees none of this one's sockets (nor the host's). */
	ns2 = netns_create();
	assert_true(ns2 >= 0);
	assert_int_equal(sockprobe_open(&p2, ns2, err, sizeof(err)), 0);
	assert_int_equal(sockprobe_dump(p2, &v, &n, err, sizeof(err)), 0);
	assert_false(has_port(v, n, TEST_PORT));
	assert_false(has_port(v, n, cport));
	assert_int_equal(n, 0);
	free(v);
	v = NULL;

	for (i = 0; i < 100; i++) {
		int64_t t0 = fw_now_ns();

		assert_int_equal(sockprobe_dump(p, &v, &n, err, sizeof(err)), 0);
		t[i] = fw_now_ns() - t0;
		free(v);
		v = NULL;
	}
	qsort(t, 100, sizeof(t[0]), cmp_i64);
	print_message("sockprobe_dump: median %lld us over 100 dumps of %zu sockets\n",
		      (long long)(t[50] / 1000), n);

	sockprobe_free(p2);
	sockprobe_free(p);
	close(lfd6);
	close(lfd);
	close(ns2);
	close(ns);
}

/* sockprobe_dump_some(): without walking, listeners and bound sockets in
 * CLOSE are those of the last walk, in the same order a walk gives; with
 * a walk (or tcp_info asked for), as they are now. */
static bool same_socks(const struct sock_info *a, size_t na, const struct sock_info *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].state != b[i].state || a[i].sport != b[i].sport || a[i].dport != b[i].dport)
			return false;
	return true;
}

static int listener_at(int ns, uint16_t port, bool listening)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void test_outside_as_last_walked(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(TEST_PORT + 3),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sock_info *walked = NULL, *v = NULL;
	size_t nwalked = 0, n = 0;
	struct sockprobe *p = NULL;
	char err[FW_ERRLEN] = "";
	int ns, bfd, lfd, l2fd, cfd, sfd;
	bool bound_seen;

	(void)state;
	ns = netns_create();
	assert_true(ns >= 0);
	lo_up(ns);
	assert_int_equal(sockprobe_open(&p, ns, err, sizeof(err)), 0);
	bfd = listener_at(ns, TEST_PORT + 2, false); /* bound, never used: CLOSE (Linux 6.8+) */
	lfd = listener_at(ns, TEST_PORT + 3, true);
	cfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);

	assert_int_equal(sockprobe_dump_some(p, true, &walked, &nwalked, err, sizeof(err)), 0);
	assert_non_null(find_sock(walked, nwalked, 10, TEST_PORT + 3, 0));
	assert_non_null(find_sock(walked, nwalked, 1, TEST_PORT + 3, 0));
	bound_seen = find_sock(walked, nwalked, 7, TEST_PORT + 2, 0) != NULL;
	/* nothing changed: the same sockets in the same order */
	assert_int_equal(sockprobe_dump_some(p, false, &v, &n, err, sizeof(err)), 0);
	assert_true(same_socks(v, n, walked, nwalked));
	free(v);
	v = NULL;

	/* a new listener, the bound socket closed: not until the next walk */
	l2fd = listener_at(ns, TEST_PORT + 4, true);
	close(bfd);
	assert_int_equal(sockprobe_dump_some(p, false, &v, &n, err, sizeof(err)), 0);
	assert_true(same_socks(v, n, walked, nwalked));
	free(v);
	v = NULL;
	assert_int_equal(sockprobe_dump_some(p, true, &v, &n, err, sizeof(err)), 0);
	assert_non_null(find_sock(v, n, 10, TEST_PORT + 4, 0));
	assert_null(find_sock(v, n, 7, TEST_PORT + 2, 0));
	assert_int_equal(n, nwalked + 1 - (bound_seen ? 1 : 0));
	free(v);
	v = NULL;

	/* reading tcp_info walks every time: a listener's counts its queue */
	close(l2fd);
	sockprobe_want_info(p, true);
	assert_int_equal(sockprobe_dump_some(p, false, &v, &n, err, sizeof(err)), 0);
	assert_null(find_sock(v, n, 10, TEST_PORT + 4, 0));
	free(v);

	/* sockprobe_dump() always walks */
	sockprobe_want_info(p, false);
	l2fd = listener_at(ns, TEST_PORT + 4, true);
	assert_int_equal(sockprobe_dump(p, &v, &n, err, sizeof(err)), 0);
	assert_non_null(find_sock(v, n, 10, TEST_PORT + 4, 0));
	free(v);

	free(walked);
	sockprobe_free(p);
	close(l2fd);
	close(sfd);
	close(cfd);
	close(lfd);
	close(ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_table),
		cmocka_unit_test(test_free_null_and_bad_ns),
		cmocka_unit_test(test_time_wait_seen),
		cmocka_unit_test(test_outside_as_last_walked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
