/* intercept_probe: proof that the interceptor really sees packets on this
 * machine (intercept.h). A rule the kernel took but that queues nothing, or
 * a queue the kernel never feeds, passed every check before and then made
 * cases FAIL as if the kernel misbehaved. Uses only the interceptor's public
 * calls and a throwaway topology, so the interceptor itself is untouched. */
#include "intercept.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"
#include "util.h"

#define PROBE_PORT 9 /* discard: nothing listens, the SYN is ours to drop */
#define PROBE_DEADLINE_NS (5 * FW_NS_PER_SEC)
#define PROBE_TOPO_ATTEMPTS 3

static void probe_seen(void *ctx, const struct intercept_event *ev)
{
	bool *seen = ctx;

	if (ev->kind == INTERCEPT_ACTED && ev->from == HOST_CLIENT && (ev->seg.flags & SEG_SYN))
		*seen = true;
}

int intercept_probe(char *err, size_t errlen)
{
	struct fault_rule rule = { .name = "probe", .from = HOST_CLIENT,
				   .flags_mask = SEG_SYN | SEG_ACK, .flags_value = SEG_SYN, .nth = 1,
				   .count = 0, .action = FAULT_DROP, .armed = true };
	struct intercept_config icfg = { 0 };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PROBE_PORT) };
	struct fault_set *fs = NULL;
	struct intercept *ic = NULL;
	struct topo *t = NULL;
	struct fw_addr a;
	bool seen = false;
	int64_t deadline;
	int sock = -1, ret, attempt;

	/* A loaded machine may leave netlink unanswered for a while: that is
	 * no verdict on the interceptor, so try again, then say so (-EAGAIN). */
	for (attempt = 0, ret = -ETIMEDOUT; attempt < PROBE_TOPO_ATTEMPTS && ret == -ETIMEDOUT;
	     attempt++)
		ret = topo_create(&t, err, errlen);
	if (ret == -ETIMEDOUT)
		ret = -EAGAIN;
	if (ret < 0)
		goto out;
	ret = fault_set_create(&fs, &rule, 1);
	if (ret < 0) {
		fw_err(err, errlen, ret, "out of memory");
		goto out;
	}
	icfg.wire_ns_fd = topo_ns_fd(t, HOST_WIRE);
	icfg.in_ifname[HOST_CLIENT] = topo_wire_ifname(t, HOST_CLIENT);
	icfg.in_ifname[HOST_SERVER] = topo_wire_ifname(t, HOST_SERVER);
	icfg.faults = fs;
	icfg.namespace_dies = true; /* topo_free() below */
	ret = intercept_open(&ic, &icfg, err, errlen);
	if (ret < 0)
		goto out;
	sock = netns_socket(topo_ns_fd(t, HOST_CLIENT), AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (sock < 0) {
		ret = fw_err(err, errlen, sock, "preflight: client socket: %s", strerror(-sock));
		goto out;
	}
	topo_addr(t, HOST_SERVER, AF_INET, &a);
	memcpy(&dst.sin_addr, a.bytes, 4);
	if (connect(sock, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS) {
		ret = fw_err(err, errlen, -errno, "preflight: connect through the wire: %s",
			     strerror(errno));
		goto out;
	}
	/* The SYN (and its retransmissions) must reach the queue: an event with a
	 * deadline, not a sleep. */
	deadline = fw_now_ns() + PROBE_DEADLINE_NS;
	while (!seen && fw_now_ns() < deadline) {
		struct pollfd p = { .fd = intercept_fd(ic), .events = POLLIN };
		int left_ms = (int)((deadline - fw_now_ns()) / FW_NS_PER_MS) + 1;

		if (poll(&p, 1, left_ms) < 0 && errno != EINTR) {
			ret = fw_err(err, errlen, -errno, "preflight: poll: %s", strerror(errno));
			goto out;
		}
		ret = intercept_process(ic, probe_seen, &seen);
		if (ret < 0) {
			fw_err(err, errlen, ret, "preflight: reading the queue: %s", strerror(-ret));
			goto out;
		}
	}
	if (!seen)
		ret = fw_err(err, errlen, -ENOTSUP,
			     "the interceptor saw no segment: the kernel took the NFQUEUE rule but a SYN sent through the wire namespace never reached the queue in %lld s; check that nfnetlink_queue, nft_compat and xt_NFQUEUE are loaded ('nft list ruleset' in a namespace after 'iptables -A FORWARD -j NFQUEUE' shows what the kernel kept)",
			     (long long)(PROBE_DEADLINE_NS / FW_NS_PER_SEC));
out:
	if (sock >= 0)
		close(sock);
	intercept_free(ic);
	fault_set_free(fs);
	topo_free(t);
	return ret;
}
