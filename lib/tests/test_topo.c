/* Unit tests of topo: host names, building the three-namespace network,
 * TCP across the wire over IPv4 and IPv6, per-namespace sysctls, and that
 * nothing is left behind in the namespace the test runs in. Needs root
 * (CAP_NET_ADMIN and CAP_SYS_ADMIN for the namespaces). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "counters.h"
#include "netns.h"
#include "topo.h"
#include "util.h"

#define POLL_BOUND_MS 2000

/* ---- helpers ----------------------------------------------------------- */

/* The host namespace's links as "index:name" lines, to compare before/after. */
static char *host_links(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	size_t len = 1;
	char *s;

	assert_non_null(ifs);
	for (i = ifs; i->if_index; i++)
		len += strlen(i->if_name) + 16;
	s = calloc(1, len);
	assert_non_null(s);
	for (i = ifs; i->if_index; i++)
		snprintf(s + strlen(s), len - strlen(s), "%u:%s\n", i->if_index, i->if_name);
	if_freenameindex(ifs);
	return s;
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void to_sockaddr(const struct fw_addr *a, uint16_t port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		*len = sizeof(*sin6);
	}
}

static int poll_one(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, POLL_BOUND_MS);

	return n == 1 ? p.revents : 0;
}

/* ---- fixtures ---------------------------------------------------------- */

static int group_setup(void **state)
{
	char err[FW_ERRLEN] = "";
	struct topo *t = NULL;
	int ret = topo_create(&t, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "topo_create: %s\n", err);
		return -1;
	}
	*state = t;
	return 0;
}

static int group_teardown(void **state)
{
	topo_free(*state);
	return 0;
}

/* ---- tests ------------------------------------------------------------- */

static void test_host_names(void **state)
{
	static const char *names[] = { "client", "server", "wire" };
	static const char *bad[] = { "", "Client", "clients", "clie", "wire ", " server", "host" };
	enum fw_host h;
	size_t i;

	(void)state;
	assert_string_equal(fw_host_name(HOST_CLIENT), "client");
	assert_string_equal(fw_host_name(HOST_SERVER), "server");
	assert_string_equal(fw_host_name(HOST_WIRE), "wire");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(fw_host_parse(names[i], &h), 0);
		assert_string_equal(fw_host_name(h), names[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fw_host_parse(bad[i], &h), -EINVAL);
	assert_int_equal(fw_host_parse(NULL, &h), -EINVAL);
	assert_non_null(fw_host_name((enum fw_host)HOST_COUNT));
}

static void test_topo_accessors(void **state)
{
	struct topo *t = *state;
	struct stat self, st[HOST_COUNT];
	struct fw_addr a;
	int h, g;

	assert_int_equal(stat("/proc/thread-self/ns/net", &self), 0);
	assert_int_equal(topo_ns_fd(t, HOST_DUT), -EINVAL); /* no box on the classic topology */
	for (h = 0; h <= HOST_WIRE; h++) {
		assert_true(topo_ns_fd(t, h) >= 0);
		assert_int_equal(fstat(topo_ns_fd(t, h), &st[h]), 0);
		assert_true(st[h].st_ino != self.st_ino);
		for (g = 0; g < h; g++)
			assert_true(st[h].st_ino != st[g].st_ino);
	}
	assert_string_equal(topo_ifname(t, HOST_CLIENT), "eth0");
	assert_string_equal(topo_ifname(t, HOST_SERVER), "eth0");
	assert_null(topo_ifname(t, HOST_WIRE));
	assert_string_equal(topo_wire_ifname(t, HOST_CLIENT), "cl0");
	assert_string_equal(topo_wire_ifname(t, HOST_SERVER), "sv0");
	assert_null(topo_wire_ifname(t, HOST_WIRE));

	topo_addr(t, HOST_CLIENT, AF_INET, &a);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, ((uint8_t[]){ 198, 18, 1, 2 }), 4);
	topo_addr(t, HOST_SERVER, AF_INET, &a);
	assert_memory_equal(a.bytes, ((uint8_t[]){ 198, 18, 2, 2 }), 4);
	topo_addr(t, HOST_SERVER, AF_INET6, &a);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.bytes,
			    ((uint8_t[]){ 0x20, 0x01, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2 }), 16);
	topo_addr(t, HOST_WIRE, AF_INET, &a);
	assert_int_equal(a.family, AF_UNSPEC);
}

/* The namespaces are configured the way the header promises. */
static void test_topo_sysctls_of_build(void **state)
{
	struct topo *t = *state;
	char v[64], err[FW_ERRLEN];
	int h;

	assert_int_equal(topo_sysctl_get(t, HOST_WIRE, "net.ipv4.ip_forward", v, sizeof(v), err,
					 sizeof(err)), 0);
	assert_string_equal(v, "1");
	assert_int_equal(topo_sysctl_get(t, HOST_WIRE, "net.ipv6.conf.all.forwarding", v,
					 sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1");
	for (h = 0; h <= HOST_WIRE; h++) {
		assert_int_equal(topo_sysctl_get(t, h, "net.ipv6.conf.all.accept_dad", v,
						 sizeof(v), err, sizeof(err)), 0);
		assert_string_equal(v, "0");
	}
	assert_int_equal(topo_sysctl_get(t, HOST_CLIENT, "net.ipv6.conf.eth0.accept_dad", v,
					 sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "0");
}

/* Connect from the client namespace to a listener in the server namespace,
 * right after topo_create (no settle time: IPv6 must not be tentative), and
 * move one byte each way: the wire namespace forwards both directions. */
static void tcp_across(struct topo *t, int family)
{
	struct sockaddr_storage ss, peer;
	socklen_t len, plen = sizeof(peer);
	struct fw_addr srv, cli;
	int lfd, cfd, afd, soerr = -1;
	socklen_t elen = sizeof(soerr);
	char c = 'x';

	topo_addr(t, HOST_SERVER, family, &srv);
	topo_addr(t, HOST_CLIENT, family, &cli);
	lfd = netns_socket(topo_ns_fd(t, HOST_SERVER), family, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	to_sockaddr(&srv, 0, &ss, &len);
	assert_int_equal(bind(lfd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);

	cfd = netns_socket(topo_ns_fd(t, HOST_CLIENT), family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(cfd >= 0);
	if (connect(cfd, (struct sockaddr *)&ss, len) < 0)
		assert_int_equal(errno, EINPROGRESS);
	assert_true(poll_one(cfd, POLLOUT) & POLLOUT);
	assert_int_equal(getsockopt(cfd, SOL_SOCKET, SO_ERROR, &soerr, &elen), 0);
	assert_int_equal(soerr, 0);

	assert_true(poll_one(lfd, POLLIN) & POLLIN);
	afd = accept(lfd, (struct sockaddr *)&peer, &plen);
	assert_true(afd >= 0);
	/* No NAT anywhere: the server sees the client's own address. */
	if (family == AF_INET)
		assert_memory_equal(&((struct sockaddr_in *)&peer)->sin_addr, cli.bytes, 4);
	else
		assert_memory_equal(&((struct sockaddr_in6 *)&peer)->sin6_addr, cli.bytes, 16);

	assert_int_equal(send(cfd, &c, 1, 0), 1);
	assert_true(poll_one(afd, POLLIN) & POLLIN);
	assert_int_equal(recv(afd, &c, 1, 0), 1);
	assert_int_equal(send(afd, "y", 1, 0), 1);
	assert_true(poll_one(cfd, POLLIN) & POLLIN);
	assert_int_equal(recv(cfd, &c, 1, 0), 1);
	assert_int_equal(c, 'y');
	close(afd);
	close(cfd);
	close(lfd);
}

static void test_tcp_ipv4(void **state)
{
	tcp_across(*state, AF_INET);
}

static void test_tcp_ipv6(void **state)
{
	tcp_across(*state, AF_INET6);
}

static void test_sysctl_per_namespace(void **state)
{
	struct topo *t = *state;
	char before[64], after[64], v[64], err[FW_ERRLEN];
	struct stat self, now;

	assert_int_equal(stat("/proc/thread-self/ns/net", &self), 0);
	read_file("/proc/sys/net/ipv4/tcp_fin_timeout", before, sizeof(before));
	assert_int_equal(topo_sysctl_set(t, HOST_CLIENT, "net.ipv4.tcp_fin_timeout", "17", err,
					 sizeof(err)), 0);
	assert_int_equal(topo_sysctl_get(t, HOST_CLIENT, "net.ipv4.tcp_fin_timeout", v, sizeof(v),
					 err, sizeof(err)), 0);
	assert_string_equal(v, "17");
	/* Neither the other namespaces nor the caller's own see it. */
	assert_int_equal(topo_sysctl_get(t, HOST_SERVER, "net.ipv4.tcp_fin_timeout", v, sizeof(v),
					 err, sizeof(err)), 0);
	assert_string_not_equal(v, "17");
	read_file("/proc/sys/net/ipv4/tcp_fin_timeout", after, sizeof(after));
	assert_string_equal(before, after);
	/* And the thread is back in its own namespace. */
	assert_int_equal(stat("/proc/thread-self/ns/net", &now), 0);
	assert_true(now.st_ino == self.st_ino && now.st_dev == self.st_dev);
}

/* The host's net.ipv4.tcp_child_ehash_entries, read before any topology. */
static char host_child_ehash[32];

/* A sysctl of a namespace made straight from this one (sharing the host's
 * TCP hash), read from inside it. */
static void plain_ns_sysctl(const char *path, char *buf, size_t len)
{
	int ns = netns_create(), saved;

	assert_true(ns >= 0);
	assert_int_equal(netns_enter(ns, &saved), 0);
	read_file(path, buf, len);
	assert_int_equal(netns_leave(saved), 0);
	close(ns);
}

/* Case namespaces get a TCP hash table of their own, from a parent namespace
 * that is finwave's: the host's sysctl is left as it was, and the defaults
 * the kernel derives from a table's size are those of a namespace sharing
 * the host's, so no case sees a difference but the table. */
static void test_own_tcp_hash(void **state)
{
	static const char *const derived[] = { "net.ipv4.tcp_max_tw_buckets",
					       "net.ipv4.tcp_max_syn_backlog" };
	struct topo *t = *state;
	char v[64], want[64], path[96], err[FW_ERRLEN];
	size_t i;
	char *p;

	if (access("/proc/sys/net/ipv4/tcp_child_ehash_entries", F_OK) != 0) {
		/* before Linux 6.1: namespaces share the host's, and say so */
		assert_non_null(strstr(topo_child_hash_note(), "shared"));
		return;
	}
	assert_non_null(strstr(topo_child_hash_note(), "buckets per namespace"));
	assert_int_equal(topo_sysctl_get(t, HOST_CLIENT, "net.ipv4.tcp_ehash_entries", v, sizeof(v),
					 err, sizeof(err)), 0);
	assert_true(atoi(v) > 0); /* negative: the host's table */
	assert_int_equal(topo_sysctl_get(t, HOST_WIRE, "net.ipv4.tcp_ehash_entries", v, sizeof(v),
					 err, sizeof(err)), 0);
	assert_true(atoi(v) > 0);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/sys/%s", derived[i]);
		for (p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		plain_ns_sysctl(path, want, sizeof(want));
		want[strcspn(want, "\n")] = '\0';
		assert_int_equal(topo_sysctl_get(t, HOST_SERVER, derived[i], v, sizeof(v), err,
						 sizeof(err)), 0);
		assert_string_equal(v, want);
	}
	read_file("/proc/sys/net/ipv4/tcp_child_ehash_entries", v, sizeof(v));
	assert_string_equal(v, host_child_ehash);
}

static void test_sysctl_errors(void **state)
{
	static const char *bad_names[] = { "", ".net.ipv4.ip_forward", "net.ipv4.",
					   "net..ipv4.ip_forward", "net/ipv4/ip_forward",
					   "net.ipv4.../../etc" };
	struct topo *t = *state;
	char v[64], err[FW_ERRLEN];
	size_t i;

	err[0] = '\0';
	assert_int_equal(topo_sysctl_set(t, HOST_CLIENT, "net.ipv4.tcp_foo", "1", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "'net.ipv4.tcp_foo'"));
	assert_non_null(strstr(err, "/proc/sys/net/ipv4/tcp_foo"));
	assert_non_null(strstr(err, "client"));
	err[0] = '\0';
	assert_int_equal(topo_sysctl_get(t, HOST_SERVER, "net.ipv4.tcp_foo", v, sizeof(v), err,
					 sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "server"));

	/* A directory of sysctls is not a sysctl. */
	assert_int_equal(topo_sysctl_get(t, HOST_CLIENT, "net.ipv4", v, sizeof(v), err,
					 sizeof(err)), -ENOENT);
	assert_int_equal(topo_sysctl_set(t, HOST_CLIENT, "net.ipv4", "1", err, sizeof(err)),
			 -ENOENT);

	/* Read-only inside a child namespace (writable only in init_net). */
	err[0] = '\0';
	assert_int_equal(topo_sysctl_set(t, HOST_CLIENT, "net.ipv4.tcp_available_congestion_control",
					 "reno", err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "read-only"));

	err[0] = '\0';
	assert_int_equal(topo_sysctl_set(t, HOST_CLIENT, "net.ipv4.tcp_fin_timeout", "abc", err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'abc'"));
	assert_non_null(strstr(err, "net.ipv4.tcp_fin_timeout"));
	/* The file is writable; the handler refuses the value with ENOENT. That
	 * is a rejected value, not an unknown sysctl. */
	err[0] = '\0';
	assert_int_equal(topo_sysctl_set(t, HOST_CLIENT, "net.ipv4.tcp_congestion_control",
					 "no_such_cc", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'no_such_cc'"));

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		err[0] = '\0';
		assert_int_equal(topo_sysctl_get(t, HOST_CLIENT, bad_names[i], v, sizeof(v), err,
						 sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	/* Multi-field values come whole; one longer than the caller's buffer is
	 * an error, not a silent cut. */
	assert_int_equal(topo_sysctl_get(t, HOST_CLIENT, "net.ipv4.tcp_rmem", v, sizeof(v), err,
					 sizeof(err)), 0);
	assert_non_null(strchr(v, '\t'));
	assert_true(strlen(v) > 4);
	assert_int_equal(topo_sysctl_get(t, HOST_CLIENT, "net.ipv4.tcp_rmem", v, 4, err,
					 sizeof(err)), -ENOSPC);
	assert_int_equal(topo_sysctl_get(NULL, HOST_CLIENT, "net.ipv4.ip_forward", v, sizeof(v),
					 err, sizeof(err)), -EINVAL);
}

/* Build and free: the host namespace sees no new link at any point, and no
 * file descriptor stays open. */
static void test_topo_leaves_nothing(void **state)
{
	char err[FW_ERRLEN];
	struct topo *t = NULL;
	char *before, *during, *after;
	int fds = count_open_fds();

	(void)state;
	before = host_links();
	assert_int_equal(topo_create(&t, err, sizeof(err)), 0);
	during = host_links();
	topo_free(t);
	after = host_links();
	assert_string_equal(before, during);
	assert_string_equal(before, after);
	assert_int_equal(count_open_fds(), fds);
	topo_free(NULL);
	free(before);
	free(during);
	free(after);
}

/* Fail topo_create at every point that needs a file descriptor by lowering
 * RLIMIT_NOFILE one step at a time: each failure must return -errno with a
 * message and leave no fd and no link behind. */
static void test_topo_create_failure_cleans_up(void **state)
{
	struct rlimit saved, lim;
	char err[FW_ERRLEN];
	char *before = host_links(), *after;
	int fds = count_open_fds(), extra, failures = 0, ret;
	struct topo *t;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	for (extra = 0; extra < 16; extra++) {
		lim = saved;
		/* The lowest fd numbers are taken (fds open); the next extra are free. */
		lim.rlim_cur = (rlim_t)(fds + extra);
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
		err[0] = '\0';
		t = (struct topo *)&lim; /* must be reset to NULL on failure */
		ret = topo_create(&t, err, sizeof(err));
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
		if (ret == 0) {
			topo_free(t);
			break;
		}
		failures++;
		assert_int_equal(ret, -EMFILE);
		assert_null(t);
		assert_true(err[0] != '\0');
		assert_int_equal(count_open_fds(), fds);
	}
	assert_true(failures > 0);
	assert_true(extra < 16);
	after = host_links();
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* The box topology (client -- wire-a -- dut -- wire-b -- server) is real:
 * five namespaces, TCP from client to server over both families with the
 * endpoints' own addresses, and every IPv4 segment forwarded by both wires
 * and the box (each one's Ip.ForwDatagrams counts them). */
static void test_dut_topology_carries_tcp(void **state)
{
	static const char *const forwarders[] = { "wire-a", "dut", "wire-b" };
	char err[FW_ERRLEN] = "";
	struct counter_set cs = { 0 };
	struct topo *t = NULL;
	int fds = count_open_fds();
	int64_t fwd;
	size_t i;

	(void)state;
	if (topo_build(&t, &topo_desc_dut, err, sizeof(err)) < 0)
		fail_msg("topo_build(dut): %s", err);
	assert_int_equal(topo_node_count(t), 5);
	assert_int_equal(topo_node(t, 3)->role, TOPO_ROLE_DUT);
	assert_string_equal(topo_node(t, 3)->name, "dut");
	assert_null(topo_node(t, 5));
	assert_int_equal(topo_node_ns_fd(t, "wire"), -EINVAL); /* no plain wire here */
	/* the interceptor sits on wire-a: the server's segments reach it from the box */
	assert_int_equal(topo_ns_fd(t, HOST_WIRE), topo_node_ns_fd(t, "wire-a"));
	assert_int_equal(topo_ns_fd(t, HOST_DUT), topo_node_ns_fd(t, "dut"));
	assert_string_equal(topo_wire_ifname(t, HOST_CLIENT), "cl0");
	assert_string_equal(topo_wire_ifname(t, HOST_SERVER), "dt0");
	assert_string_equal(topo_wire_ifname(t, HOST_DUT), "dt0");
	assert_string_equal(topo_ifname(t, HOST_SERVER), "eth0");
	tcp_across(t, AF_INET);
	tcp_across(t, AF_INET6);
	for (i = 0; i < sizeof(forwarders) / sizeof(forwarders[0]); i++) {
		assert_int_equal(counters_read(topo_node_ns_fd(t, forwarders[i]), &cs, err, sizeof(err)), 0);
		assert_int_equal(counters_get(&cs, "Ip.ForwDatagrams", &fwd), 0);
		if (fwd < 3) /* SYN, ACK, data at least, one way */
			fail_msg("%s forwarded %lld IPv4 datagrams", forwarders[i], (long long)fwd);
		counter_set_clear(&cs);
	}
	topo_free(t);
	assert_int_equal(count_open_fds(), fds);
}

/* The bridged box is real: TCP from client to server over both families
 * through br0, which has no address; the wires route (Ip.ForwDatagrams) and
 * the box does not (its IPv4 forwarding counter stays 0: it bridges). */
static void test_dut_bridge_topology_carries_tcp(void **state)
{
	char err[FW_ERRLEN] = "";
	struct counter_set cs = { 0 };
	struct topo *t = NULL;
	struct fw_addr a;
	int fds = count_open_fds();
	int64_t fwd;

	(void)state;
	if (topo_build(&t, &topo_desc_dut_bridge, err, sizeof(err)) < 0)
		fail_msg("topo_build(dut bridge): %s", err);
	assert_int_equal(topo_ns_fd(t, HOST_DUT), topo_node_ns_fd(t, "dut"));
	assert_string_equal(topo_wire_ifname(t, HOST_SERVER), "dt0");
	topo_addr(t, HOST_DUT, AF_INET, &a);
	assert_int_equal(a.family, AF_UNSPEC); /* a bridge port has no address */
	topo_addr(t, HOST_SERVER, AF_INET, &a);
	assert_int_equal(a.family, AF_INET);
	tcp_across(t, AF_INET);
	tcp_across(t, AF_INET6);
	assert_int_equal(counters_read(topo_node_ns_fd(t, "wire-b"), &cs, err, sizeof(err)), 0);
	assert_int_equal(counters_get(&cs, "Ip.ForwDatagrams", &fwd), 0);
	if (fwd < 3)
		fail_msg("wire-b forwarded %lld IPv4 datagrams", (long long)fwd);
	counter_set_clear(&cs);
	assert_int_equal(counters_read(topo_node_ns_fd(t, "dut"), &cs, err, sizeof(err)), 0);
	assert_int_equal(counters_get(&cs, "Ip.ForwDatagrams", &fwd), 0);
	assert_int_equal(fwd, 0);
	counter_set_clear(&cs);
	topo_free(t);
	assert_int_equal(count_open_fds(), fds);
}

/* A description naming a node that does not exist is refused before any
 * namespace is made, in one line. */
static void test_bad_description_refused(void **state)
{
	static const struct topo_node_desc nodes[] = { { "client", TOPO_ROLE_ENDPOINT } };
	static const struct topo_link_desc links[] = {
		{ { "client", "eth0", "198.18.1.2", "2001:2:0:1::2" },
		  { "nowhere", "x0", "198.18.1.1", "2001:2:0:1::1" }, false },
	};
	static const struct topo_desc bad = { "bad", nodes, 1, links, 1, NULL, 0, NULL };
	char err[FW_ERRLEN] = "";
	struct topo *t = (struct topo *)&err;
	int fds = count_open_fds();

	(void)state;
	assert_int_equal(topo_build(&t, &bad, err, sizeof(err)), -EINVAL);
	assert_null(t);
	assert_string_equal(err, "topology bad: link 0 names no node");
	assert_int_equal(count_open_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest standalone[] = {
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_topo_leaves_nothing),
		cmocka_unit_test(test_topo_create_failure_cleans_up),
		cmocka_unit_test(test_dut_topology_carries_tcp),
		cmocka_unit_test(test_dut_bridge_topology_carries_tcp),
		cmocka_unit_test(test_bad_description_refused),
	};
	const struct CMUnitTest shared[] = {
		cmocka_unit_test(test_tcp_ipv4),
		cmocka_unit_test(test_tcp_ipv6),
		cmocka_unit_test(test_topo_accessors),
		cmocka_unit_test(test_topo_sysctls_of_build),
		cmocka_unit_test(test_sysctl_per_namespace),
		cmocka_unit_test(test_sysctl_errors),
		cmocka_unit_test(test_own_tcp_hash),
	};
	int failed;

	if (access("/proc/sys/net/ipv4/tcp_child_ehash_entries", F_OK) == 0)
		read_file("/proc/sys/net/ipv4/tcp_child_ehash_entries", host_child_ehash,
			  sizeof(host_child_ehash));
	/* The parent namespace case namespaces are made from is one fd for the
	 * life of the process (topo.h): made first, so that the tests counting
	 * fds count it among those open before. */
	topo_child_hash(true);
	failed = cmocka_run_group_tests_name("topo", standalone, NULL, NULL);
	failed += cmocka_run_group_tests_name("topo_shared", shared, group_setup, group_teardown);
	return failed ? 1 : 0;
}
