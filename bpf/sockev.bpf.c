// SPDX-License-Identifier: GPL-2.0
/* sockev.bpf.c: every TCP state change, retransmission and reset of the
 * kernel, as events in a ring buffer, for the namespaces that asked.
 *
 * The kernel types below are the few fields read, declared locally with
 * preserve_access_index: libbpf relocates each access against the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) when it loads the program, so the
 * build needs no vmlinux.h and no kernel headers of the running kernel.
 *
 * Events are keyed by network namespace (net->ns.inum, the inode number
 * fstat() gives for /proc/<pid>/ns/net): `rings` maps a namespace to the
 * ring buffer of the case that owns it, so cases running side by side with
 * the same addresses each see their own sockets and nothing else. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "sockev_event.h"

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

/* Read whole: its fields are a union the kernel names in6_u. */
struct in6_addr {
	__u8 bytes[16];
};

/* Only named fields: libbpf finds them inside the kernel's anonymous unions. */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
} __attribute__((preserve_access_index));

/* inet_sport, not skc_num: a socket moving to CLOSE gives its port back
 * (inet_put_port() zeroes skc_num) before the tracepoint fires, while
 * inet_sport keeps it, as the classic tracepoint's own sport does. */
struct inet_sock {
	__be16 inet_sport;
} __attribute__((preserve_access_index));

struct net_device {
	possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct sk_buff {
	struct net_device *dev;
} __attribute__((preserve_access_index));

#define SOCKEV_AF_INET 2
#define SOCKEV_AF_INET6 10
#define SOCKEV_IPPROTO_TCP 6

/* The template of each case's ring buffer (user space creates its own with
 * the same size and puts it here under its namespaces). */
struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SOCKEV_RING_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, SOCKEV_MAX_NETNS);
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

/* A case's other namespaces, each to the one its ring is filed under: a
 * plain hash costs nothing to update, while each update of `rings` waits
 * for an RCU grace period (maps of maps, kernel/bpf/syscall.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKEV_MAX_NETNS);
	__type(key, __u32);
	__type(value, __u32);
} alias SEC(".maps");

/* Events a full ring had to drop, per namespace: user space says so. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKEV_MAX_NETNS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(__u32 ns)
{
	__u64 one = 1, *n = bpf_map_lookup_elem(&lost, &ns);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&lost, &ns, &one, BPF_NOEXIST);
}

static __always_inline int emit(const struct sock *sk, __u32 ns, __u16 kind, int oldstate,
				int newstate)
{
	struct sockev_event *e;
	__u32 *key = bpf_map_lookup_elem(&alias, &ns);
	void *ring;

	ring = bpf_map_lookup_elem(&rings, key ? key : &ns);
	if (!ring)
		return 0; /* not a namespace any case watches: the common path */
	e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
	if (!e) {
		count_lost(ns);
		return 0;
	}
	e->t_ns = bpf_ktime_get_ns();
	e->sk = (__u64)(unsigned long)sk;
	e->netns = ns;
	e->kind = kind;
	e->oldstate = (__s16)oldstate;
	e->newstate = (__s16)newstate;
	e->family = 0;
	e->sport = 0;
	e->dport = 0;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (sk) {
		e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		e->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
		e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (e->family == SOCKEV_AF_INET6) {
			BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr);
		} else {
			__be32 src = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
			__be32 dst = BPF_CORE_READ(sk, __sk_common.skc_daddr);

			__builtin_memcpy(e->saddr, &src, sizeof(src));
			__builtin_memcpy(e->daddr, &dst, sizeof(dst));
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sockev_state, const struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != SOCKEV_IPPROTO_TCP)
		return 0;
	return emit(sk, sk_netns(sk), SOCKEV_STATE, oldstate, newstate);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(sockev_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	return emit(sk, sk_netns(sk), SOCKEV_RETRANSMIT, -1, -1);
}

/* Newer kernels (6.18 here) pass the attempt's result as a third argument
 * and fire for failed attempts too (-EBUSY: the original still in one of
 * this host's queues; -ENOMEM): only a segment that left is counted. One of
 * the two is loaded, as the kernel's BTF says (sockev.c). */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(sockev_retransmit_err, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (err)
		return 0;
	return emit(sk, sk_netns(sk), SOCKEV_RETRANSMIT, -1, -1);
}

/* A reset for no socket (sk NULL) belongs to the namespace of the device
 * the offending segment came in on. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(sockev_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	__u32 ns;

	if (sk)
		ns = sk_netns(sk);
	else if (skb)
		ns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	else
		return 0;
	return emit(sk, ns, SOCKEV_SEND_RESET, -1, -1);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(sockev_receive_reset, const struct sock *sk)
{
	return emit(sk, sk_netns(sk), SOCKEV_RECEIVE_RESET, -1, -1);
}

char LICENSE[] SEC("license") = "GPL";
