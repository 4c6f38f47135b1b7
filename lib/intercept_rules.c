/* intercept_rules: the iptables NFQUEUE rules in the wire namespace (iptables run there with
 * proc_run_ns()), and which segments they send to the queue. */
#include "intercept_int.h"

/* Per family: the nft-backed tool first, then the legacy one. */
static const char *const intercept_tools[INTERCEPT_FAMILIES][2] = {
    [INTERCEPT_V4] = {"iptables", "iptables-legacy"},
    [INTERCEPT_V6] = {"ip6tables", "ip6tables-legacy"},
};

/* ---- running iptables inside the wire namespace: proc_run_ns() ---- */

/* iptables -w 5 -A FORWARD -i cl0 -p tcp -j NFQUEUE --queue-num N, run
 * with the given tool. */
static int intercept_filter_run(struct intercept *ic, const char *tool,
				const struct intercept_filter *f, const char *op, char *out,
				size_t outlen)
{
	char qnum[8];
	char *argv[20];
	int argc = 0;

	snprintf(qnum, sizeof(qnum), "%u", ic->queue_num);
	argv[argc++] = (char *)tool;
	argv[argc++] = "-w";
	argv[argc++] = INTERCEPT_CMD_LOCK_WAIT;
	argv[argc++] = (char *)op;
	argv[argc++] = "FORWARD";
	argv[argc++] = "-i";
	argv[argc++] = ic->ifname[f->from];
	argv[argc++] = "-p";
	argv[argc++] = "tcp";
	argv[argc++] = "-j";
	argv[argc++] = "NFQUEUE";
	argv[argc++] = "--queue-num";
	argv[argc++] = qnum;
	argv[argc] = NULL;
	return proc_run_ns(ic->ns_fd, argv, NULL, INTERCEPT_CMD_TIMEOUT_NS, out, outlen);
}

static void intercept_filter_describe(const struct intercept *ic, const struct intercept_filter *f,
				      const char *tool, char *buf, size_t len)
{
	snprintf(buf, len, "%s -A FORWARD -i %s -p tcp -j NFQUEUE --queue-num %u", tool,
		 ic->ifname[f->from], ic->queue_num);
}

/* Install one filter for one family. The first command of a family picks the
 * backend: the nft-backed tool, else the legacy one; later commands stick to
 * it, since rules split over two backends would be hard to reason about. */
int intercept_filter_install(struct intercept *ic, enum intercept_family fam,
			     struct intercept_filter *f, char *err, size_t errlen)
{
	char out[2][INTERCEPT_CMD_OUTLEN], line[2][160], cmd[256];
	int b, first, last, ret = -ENOTSUP;

	first = ic->backend[fam] >= 0 ? ic->backend[fam] : 0;
	last = ic->backend[fam] >= 0 ? ic->backend[fam] : 1;
	for (b = first; b <= last; b++) {
		const char *name = intercept_tools[fam][b];

		line[b][0] = '\0';
		if (proc_tool_find(name, ic->tool_path[fam], sizeof(ic->tool_path[fam])) < 0) {
			snprintf(line[b], sizeof(line[b]), "not found in PATH or /usr/sbin, /sbin");
			ret = -ENOENT;
			continue;
		}
		ret = intercept_filter_run(ic, ic->tool_path[fam], f, "-A", out[b], sizeof(out[b]));
		if (ret == 0) {
			ic->backend[fam] = b;
			f->installed[fam] = true;
			goto out;
		}
		proc_first_line(out[b], line[b], sizeof(line[b]));
	}
	if (ic->backend[fam] < 0) {
		ret = fw_err(err, errlen, -ENOTSUP,
			     "wire: NFQUEUE unavailable in a network namespace: %s failed: %s; "
			     "%s failed: %s; install iptables and load xt_NFQUEUE/nfnetlink_queue",
			     intercept_tools[fam][0], line[0], intercept_tools[fam][1], line[1]);
		goto out;
	}
	intercept_filter_describe(ic, f, intercept_tools[fam][ic->backend[fam]], cmd, sizeof(cmd));
	ret = fw_err(err, errlen, ret == -ETIMEDOUT ? -ETIMEDOUT : -EIO, "wire: %s: %s", cmd,
		     line[ic->backend[fam]]);
out:
	return ret;
}

/* Best effort: used at free time and after a failed open, when there is
 * nobody left to report to. */
void intercept_filters_remove(struct intercept *ic)
{
	char out[INTERCEPT_CMD_OUTLEN];
	size_t i;
	int fam;

	for (i = 0; i < ic->nfilters; i++) {
		for (fam = 0; fam < INTERCEPT_FAMILIES; fam++) {
			if (!ic->filters[i].installed[fam])
				continue;
			intercept_filter_run(ic, ic->tool_path[fam], &ic->filters[i], "-D", out,
					     sizeof(out));
			ic->filters[i].installed[fam] = false;
		}
	}
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
