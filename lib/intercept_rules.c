/* intercept_rules: the NFQUEUE rules in the wire namespace, and which segments they send to the
 * queue. One nf_tables batch by netlink (libnftnl) per interceptor: a table "finwave" per family
 * with a FORWARD base chain, and per intercepted sender
 *     meta iifname "<its wire interface>" meta l4proto tcp <xt NFQUEUE --queue-num N>
 * preceded, when GSO packets carrying some flags must come cut (ic->qh_cut), by
 *     meta iifname "<...>" meta l4proto tcp tcp flags & <those> != 0 <xt NFQUEUE --queue-num N+1>
 * nftables' own queue expression (nft_queue) is not in every kernel (not in the 6.18 finwave is
 * developed on), the xt NFQUEUE target through nft_compat is in every Debian kernel: it is what
 * iptables-nft installs for "-j NFQUEUE". Building it here, rather than running iptables twice
 * (v4, v6) per sender, saves a process of about 2 ms of CPU and 5-20 ms of wall time each. */
#include "intercept_int.h"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#define RULES_TABLE "finwave"
#define RULES_CHAIN "forward"
/* A batch: begin, per family a table, a chain and a rule per sender, end. */
#define RULES_BUFSZ 16384
/* The kernel answers a batch in microseconds; the bound is for a kernel that never does. */
#define RULES_TIMEOUT_MS 30000

static const uint8_t rules_nfproto[INTERCEPT_FAMILIES] = {
    [INTERCEPT_V4] = NFPROTO_IPV4,
    [INTERCEPT_V6] = NFPROTO_IPV6,
};

/* What each message of a batch did, for the error that names the one the kernel refused. */
struct rules_batch {
	struct mnl_nlmsg_batch *b;
	char buf[RULES_BUFSZ];
	uint32_t first_seq, seq;
	char what[64][96]; /* by seq - first_seq */
};

static struct nlmsghdr *rules_msg(struct rules_batch *rb, uint16_t type, uint16_t family,
				  uint16_t flags, const char *what)
{
	uint32_t i = rb->seq - rb->first_seq;

	if (i < sizeof(rb->what) / sizeof(rb->what[0]))
		snprintf(rb->what[i], sizeof(rb->what[i]), "%s", what);
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(rb->b), type, family,
				     flags | NLM_F_ACK, rb->seq++);
}

/* Payload builders (libnftnl objects), one per message kind. 0 or -ENOMEM. */
static int rules_add_table(struct rules_batch *rb, uint8_t family, uint16_t type, const char *what)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, RULES_TABLE);
	nftnl_table_nlmsg_build_payload(
	    rules_msg(rb, type, family, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, what), t);
	nftnl_table_free(t);
	mnl_nlmsg_batch_next(rb->b);
	return 0;
}

static int rules_add_chain(struct rules_batch *rb, uint8_t family)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, RULES_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, RULES_CHAIN);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_nlmsg_build_payload(
	    rules_msg(rb, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE, "create the forward chain"), c);
	nftnl_chain_free(c);
	mnl_nlmsg_batch_next(rb->b);
	return 0;
}

/* meta KEY -> reg 1, then reg 1 == data */
static int rules_add_meta_eq(struct nftnl_rule *r, uint32_t key, const void *data, uint32_t len)
{
	struct nftnl_expr *meta = nftnl_expr_alloc("meta"), *cmp = nftnl_expr_alloc("cmp");

	if (!meta || !cmp) {
		nftnl_expr_free(meta);
		nftnl_expr_free(cmp);
		return -ENOMEM;
	}
	nftnl_expr_set_u32(meta, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(meta, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, meta);
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, cmp);
	return 0;
}

/* tcp flags & mask != 0: the flags byte of the TCP header (offset 13) -> reg 1, masked,
 * compared with zero. */
static int rules_add_tcp_flags_any(struct nftnl_rule *r, uint8_t mask)
{
	struct nftnl_expr *load = nftnl_expr_alloc("payload"), *and = nftnl_expr_alloc("bitwise"),
			  *cmp = nftnl_expr_alloc("cmp");
	const uint8_t zero = 0;

	if (!load || !and || !cmp) {
		nftnl_expr_free(load);
		nftnl_expr_free(and);
		nftnl_expr_free(cmp);
		return -ENOMEM;
	}
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_OFFSET, 13);
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_LEN, 1);
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, load);
	nftnl_expr_set_u32(and, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(and, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(and, NFTNL_EXPR_BITWISE_LEN, 1);
	nftnl_expr_set(and, NFTNL_EXPR_BITWISE_MASK, &mask, 1);
	nftnl_expr_set(and, NFTNL_EXPR_BITWISE_XOR, &zero, 1);
	nftnl_rule_add_expr(r, and);
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
	nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &zero, 1);
	nftnl_rule_add_expr(r, cmp);
	return 0;
}

/* The xt target through nft_compat: revision 0 carries only the queue number. libnftnl frees
 * the info it is given. */
static int rules_add_nfqueue(struct nftnl_rule *r, uint16_t queue_num)
{
	struct nftnl_expr *tg = nftnl_expr_alloc("target");
	struct xt_NFQ_info *info = calloc(1, sizeof(*info));

	if (!tg || !info) {
		nftnl_expr_free(tg);
		free(info);
		return -ENOMEM;
	}
	info->queuenum = queue_num;
	nftnl_expr_set_str(tg, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(tg, NFTNL_EXPR_TG_REV, 0);
	nftnl_expr_set(tg, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
	nftnl_rule_add_expr(r, tg);
	return 0;
}

/* flags: 0 for every TCP segment of the sender, else only those carrying one of them (to
 * queue_num). */
static int rules_add_rule(struct rules_batch *rb, uint8_t family, const struct intercept *ic,
			  const struct intercept_filter *f, uint8_t flags, uint16_t queue_num)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	const uint8_t tcp = IPPROTO_TCP;
	const char *ifname = ic->ifname[f->from];
	char what[96];
	int ret;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, RULES_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, RULES_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
	/* the name with its NUL: "cl0" and never "cl01" */
	if ((ret = rules_add_meta_eq(r, NFT_META_IIFNAME, ifname, (uint32_t)strlen(ifname) + 1)) <
		0 ||
	    (ret = rules_add_meta_eq(r, NFT_META_L4PROTO, &tcp, sizeof(tcp))) < 0 ||
	    (flags && (ret = rules_add_tcp_flags_any(r, flags)) < 0) ||
	    (ret = rules_add_nfqueue(r, queue_num)) < 0)
		goto out;
	snprintf(what, sizeof(what), "queue what comes in by %s (xt NFQUEUE --queue-num %u)",
		 ifname, queue_num);
	nftnl_rule_nlmsg_build_payload(
	    rules_msg(rb, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND, what), r);
	mnl_nlmsg_batch_next(rb->b);
out:
	nftnl_rule_free(r);
	return ret;
}

/* Send the batch and wait until the kernel has acknowledged every message, or refused one
 * (then it applied none of them). */
static int rules_batch_send(int ns_fd, struct rules_batch *rb, char *err, size_t errlen)
{
	int64_t deadline = fw_now_ns() + RULES_TIMEOUT_MS * FW_NS_PER_MS;
	uint32_t acked = 0, want = rb->seq - rb->first_seq;
	struct mnl_socket *nl = NULL;
	char reply[MNL_SOCKET_BUFFER_SIZE];
	int fd, ret;

	fd = netns_socket(ns_fd, AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_NETFILTER);
	if (fd < 0) {
		ret = fw_err(err, errlen, fd, "wire: nf_tables netlink socket: %s", strerror(-fd));
		goto out;
	}
	nl = mnl_socket_fdopen(fd);
	if (!nl) {
		close(fd);
		ret = fw_err(err, errlen, -ENOMEM, "wire: out of memory");
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, mnl_nlmsg_batch_head(rb->b), mnl_nlmsg_batch_size(rb->b)) < 0) {
		ret = fw_err(err, errlen, -errno, "wire: nf_tables netlink: %s", strerror(errno));
		goto out;
	}
	ret = 0;
	while (acked < want && ret == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - fw_now_ns();
		const struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		if (left <= 0) {
			ret = fw_err(err, errlen, -ETIMEDOUT,
				     "wire: nf_tables: no answer from the kernel in %d ms",
				     RULES_TIMEOUT_MS);
			break;
		}
		if (poll(&p, 1, (int)(left / FW_NS_PER_MS) + 1) < 0 && errno != EINTR) {
			ret = fw_err(err, errlen, -errno, "wire: nf_tables: poll: %s", strerror(errno));
			break;
		}
		n = mnl_socket_recvfrom(nl, reply, sizeof(reply));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				ret = fw_err(err, errlen, -errno, "wire: nf_tables: receive: %s",
					     strerror(errno));
			continue;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)reply; ret == 0 && mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			uint32_t i = nlh->nlmsg_seq - rb->first_seq;

			if (nlh->nlmsg_type != NLMSG_ERROR || i >= want)
				continue;
			if (e->error == 0) {
				acked++;
				continue;
			}
			ret = fw_err(err, errlen, e->error,
				     "wire: nf_tables refused to %s: %s; this needs nf_tables, "
				     "nft_compat and xt_NFQUEUE (modprobe them, or a kernel with them)",
				     i < sizeof(rb->what) / sizeof(rb->what[0]) ? rb->what[i] : "?",
				     strerror(-e->error));
		}
	}
out:
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

static void rules_batch_start(struct rules_batch *rb)
{
	rb->seq = rb->first_seq = 1;
	rb->b = mnl_nlmsg_batch_start(rb->buf, sizeof(rb->buf));
	/* begin and end are never acknowledged: they take sequence 0 */
	nftnl_batch_begin(mnl_nlmsg_batch_current(rb->b), 0);
	mnl_nlmsg_batch_next(rb->b);
}

static void rules_batch_end(struct rules_batch *rb)
{
	nftnl_batch_end(mnl_nlmsg_batch_current(rb->b), 0);
	mnl_nlmsg_batch_next(rb->b);
}

/* Every filter of both families, in one batch: all or nothing. */
int intercept_filters_install(struct intercept *ic, char *err, size_t errlen)
{
	struct rules_batch *rb = calloc(1, sizeof(*rb));
	size_t i;
	int fam, ret = 0;

	if (!rb)
		return fw_err(err, errlen, -ENOMEM, "wire: out of memory");
	if (!ic->nfilters)
		goto out;
	rules_batch_start(rb);
	for (fam = 0; fam < INTERCEPT_FAMILIES && ret == 0; fam++) {
		ret = rules_add_table(rb, rules_nfproto[fam], NFT_MSG_NEWTABLE,
				      "create the table " RULES_TABLE);
		if (ret == 0)
			ret = rules_add_chain(rb, rules_nfproto[fam]);
		for (i = 0; i < ic->nfilters && ret == 0; i++) {
			/* first match wins: the segments to cut go to the other queue */
			if (ic->qh_cut)
				ret = rules_add_rule(rb, rules_nfproto[fam], ic, &ic->filters[i],
						     (uint8_t)ic->gso_cut, ic->queue_num + 1);
			if (ret == 0)
				ret = rules_add_rule(rb, rules_nfproto[fam], ic, &ic->filters[i], 0,
						     ic->queue_num);
		}
	}
	if (ret < 0) {
		ret = fw_err(err, errlen, ret, "wire: out of memory");
		goto out;
	}
	rules_batch_end(rb);
	ret = rules_batch_send(ic->ns_fd, rb, err, errlen);
	ic->rules_installed = ret == 0;
out:
	if (rb->b)
		mnl_nlmsg_batch_stop(rb->b);
	free(rb);
	return ret;
}

/* Best effort: used at free time and after a failed open, when there is nobody left to report
 * to. Deleting the tables takes their chains and rules with them. */
void intercept_filters_remove(struct intercept *ic)
{
	struct rules_batch *rb;
	char err[FW_ERRLEN];
	int fam;

	if (!ic->rules_installed || !(rb = calloc(1, sizeof(*rb))))
		return;
	rules_batch_start(rb);
	for (fam = 0; fam < INTERCEPT_FAMILIES; fam++)
		if (rules_add_table(rb, rules_nfproto[fam], NFT_MSG_DELTABLE,
				    "delete the table " RULES_TABLE) < 0)
			goto out;
	rules_batch_end(rb);
	if (rules_batch_send(ic->ns_fd, rb, err, sizeof(err)) == 0)
		ic->rules_installed = false;
out:
	mnl_nlmsg_batch_stop(rb->b);
	free(rb);
}

/* One filter per sender that some rule names, queueing every TCP segment
 * of that sender: a flags-only pre-filter let the segments no rule wanted
 * pass straight through while matching ones waited for the consumer, so on
 * a busy machine the harness itself reordered the sender's stream (a pure
 * ACK overtaken by the FIN behind it). All through one queue, they leave in
 * the order they came unless a fault holds one back. Disarmed rules are
 * included: a case may arm them mid-run and the interceptor is not told. */
int intercept_filters_build(struct intercept *ic, char *err, size_t errlen)
{
	size_t i, j, n = fault_set_count(ic->faults);
	int ret = 0;

	ic->filters = calloc(n + 1, sizeof(*ic->filters));
	if (!ic->filters) {
		ret = fw_err(err, errlen, -ENOMEM, "wire: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct fault_rule *r = fault_set_rule(ic->faults, i);
		struct intercept_filter f = {.from = r->from};

		/* The wire namespace sends nothing through FORWARD itself; a rule
		 * of the other leg is the other interceptor's. */
		if ((r->from != HOST_CLIENT && r->from != HOST_SERVER) || r->leg != ic->leg)
			continue;
		/* (flags & mask) == value cannot hold: the rule never matches. */
		if (r->flags_value & ~r->flags_mask)
			continue;
		if (!ic->ifname[r->from][0]) {
			ret =
			    fw_err(err, errlen, -EINVAL,
				   "wire: fault rule '%s': no wire interface given for its sender",
				   r->name);
			goto out;
		}
		for (j = 0; j < ic->nfilters; j++)
			if (ic->filters[j].from == f.from)
				break;
		if (j == ic->nfilters)
			ic->filters[ic->nfilters++] = f;
	}
out:
	return ret;
}
