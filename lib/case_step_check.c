/* case_step_check: what a step's keys say together, kind by kind (each
 * kind's row in case_step.c names its check), and whether a step may use a
 * socket name that stands for many connections. Each key alone is read in
 * case_step_load.c. */
#include "case_int.h"

/* ---- what keys say together, by kind ---------------------------------------- */

/* The step before s that last opened host's socket 'name' (connect, accept or
 * listen), or NULL: with 'connections: N' that name stands for N sockets. */
static const struct fw_step *sock_opener(const struct fw_case *c, const struct fw_step *s,
					 enum fw_host h, const char *name)
{
	const struct fw_step *p, *found = NULL;

	for (p = c->steps; p < s; p++)
		if ((p->kind == STEP_CONNECT || p->kind == STEP_ACCEPT || p->kind == STEP_LISTEN) &&
		    p->host == h && strcmp(p->sock, name) == 0)
			found = p;
	return found;
}

static uint32_t opener_connections(const struct fw_step *p)
{
	return p && p->kind != STEP_LISTEN && p->connections > 1 ? p->connections : 1;
}

/* A name that stands for many connections (connections: N) is closed, shut
 * down or counted (state with count) as a whole; a call on one socket, a
 * timer or a fork of the host's sockets cannot say which of them it means. */
int check_group_use(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	const struct fw_step *p = sock_opener(c, s, s->host, s->sock);
	yaml_node_t *at = map_get(L, map, "sock") ? map_get(L, map, "sock") : map;
	uint32_t n = opener_connections(p);

	if (s->kind == STEP_FORK) {
		for (p = c->steps; p < s; p++)
			if (p->host == s->host && opener_connections(p) > 1)
				return load_fail(L, map,
						 "fork shares the host's sockets one by one; '%s' "
						 "(line %d) is %u connections",
						 p->sock, p->line, p->connections);
		return 0;
	}
	if (s->kind == STEP_EXPECT_STATE && s->nsock_min >= 0) {
		if (!s->sock[0])
			return load_fail(L, map_get(L, map, "count"),
					 "'count' counts the connections of a named socket "
					 "('sock'), not a port");
		if (s->timer >= 0 || s->timer_min_ns >= 0 || s->timer_max_ns >= 0)
			return load_fail(L, map_get(L, map, "count"),
					 "'count' counts states; check timers on one connection");
		if ((uint32_t)s->nsock_max > n)
			return load_fail(L, map_get(L, map, "count"),
					 "'count' goes up to %d, but '%s' is %u connection(s)",
					 s->nsock_max, s->sock, n);
		return 0;
	}
	if (n == 1)
		return 0;
	if (s->kind == STEP_EXPECT_STATE)
		return load_fail(L, map,
				 "'%s' is %u connections (line %d): say how many of them with "
				 "'count' (count: %u for all)",
				 s->sock, n, p->line, n);
	if (s->kind == STEP_SEND || s->kind == STEP_RECV || s->kind == STEP_SETSOCKOPT ||
	    s->kind == STEP_EXPECT_GONE || s->kind == STEP_EXPECT_TCP_INFO)
		return load_fail(L, at,
				 "'%s' is %u connections (line %d): %s '%s' works on one socket "
				 "(close, shutdown and state with count take the whole group)",
				 s->sock, n, p->line,
				 step_kind_is_expect(s->kind) ? "expectation" : "action",
				 step_kind_name(s->kind));
	return 0;
}

int check_connect(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	(void)c;
	if (s->connections > 1 && s->from_port)
		return load_fail(L, map_get(L, map, "from_port"),
				 "one 'from_port' cannot serve %u connections: leave it out",
				 s->connections);
	return 0;
}

/* accept takes from an earlier listen step's socket on the same host */
int check_accept(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	const struct fw_step *p;

	for (p = c->steps; p < s; p++)
		if (p->kind == STEP_LISTEN && p->host == s->host &&
		    strcmp(p->sock, s->listener) == 0)
			return 0;
	return load_fail(L, map_get(L, map, "listener") ? map_get(L, map, "listener") : map,
			 "no earlier listen step on %s names its socket '%s' (give the listen "
			 "step 'sock: %s')",
			 fw_host_name(s->host), s->listener, s->listener);
}

int check_recv(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	(void)c;
	if (!s->eof && s->bytes == 0)
		return load_fail(L, map, "action 'recv' needs 'bytes: N' or 'eof: true'");
	return 0;
}

int check_setsockopt(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	int ret;

	(void)c;
	if ((ret = load_sockopt(L, map, s)) < 0)
		return ret;
	if (s->linger < 0 && s->reuseaddr < 0 && !s->has_opt)
		return load_fail(
		    L, map, "action 'setsockopt' needs 'opt' and 'value', 'linger' or 'reuseaddr'");
	return 0;
}

/* What an expression may say where it stands: the bases a key takes (bit
 * per enum expr_base), whether it may compare, and a mark it names must be
 * an earlier inject or single segment expectation. */
static int check_expr(struct loader *L, struct fw_case *c, yaml_node_t *map, const char *key,
		      struct fw_expr *x, unsigned bases, bool cmp, const char *usage)
{
	yaml_node_t *n = map_get(L, map, key);
	size_t i;

	if (!x->set)
		return 0;
	if (!(bases & (1u << x->base)) || (!cmp && x->cmp != EXPR_EQ))
		return load_fail(L, n, "'%s' here %s", key, usage);
	if (x->base != EXPR_MARK_TSVAL)
		return 0;
	for (i = 0; i < c->nsteps && strcmp(c->steps[i].mark, x->mark) != 0; i++)
		;
	if (i == c->nsteps)
		return load_fail(L, n, "no earlier step is marked '%s' (add 'mark: %s' to it)",
				 x->mark, x->mark);
	if (c->steps[i].kind != STEP_INJECT &&
	    (c->steps[i].kind != STEP_EXPECT_SEGMENT || c->steps[i].count_min >= 0))
		return load_fail(L, n,
				 "tsval(%s) is the TSval of a segment: mark an inject or a "
				 "segment expectation without 'count' (line %d is neither)",
				 x->mark, c->steps[i].line);
	x->mark_step = (int)i;
	return 0;
}

#define EXPR_BIT(b) (1u << (b))

/* Each endpoint has one of a proxy's connections: the client the front,
 * the server the back (segment, no_segment, inject). */
static int check_conn_host(struct loader *L, yaml_node_t *map, const struct fw_step *s)
{
	if ((s->conn == CONN_FRONT && s->host == HOST_SERVER) ||
	    (s->conn == CONN_BACK && s->host == HOST_CLIENT))
		return load_fail(L, map_get(L, map, "conn"),
				 "the %s has no segment on the %s connection (front: client and "
				 "proxy, back: proxy and server)", fw_host_name(s->host),
				 fw_conn_name(s->conn));
	return 0;
}

int check_inject(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	static const char seq_usage[] =
	    "is a number or rcv_nxt, snd_nxt, rcv_wnd_end, prev_snd_nxt, prev_rcv_nxt, "
	    "tsval or tsecr with +N / -N, no comparison";
	static const char ts_usage[] =
	    "is a number, tsval (the sender's last), tsecr (the target's last) or tsval(MARK) "
	    "with +N / -N, no comparison";
	const unsigned seq_bases = ~(EXPR_BIT(EXPR_OWN_TSVAL) | EXPR_BIT(EXPR_PEER_TSVAL) |
				     EXPR_BIT(EXPR_MARK_TSVAL));
	const unsigned ts_bases = EXPR_BIT(EXPR_NUMBER) | EXPR_BIT(EXPR_TSVAL) |
				  EXPR_BIT(EXPR_TSECR) | EXPR_BIT(EXPR_MARK_TSVAL);
	unsigned optlen;
	int ret;

	if ((ret = get_flags(L, map, true, &s->has_flags, &s->flags_mask, &s->flags_value)) < 0)
		return ret;
	if (s->flags_mask != 0xff)
		return load_fail(L, map_get(L, map, "has"), "inject needs the exact 'flags', not 'has'");
	if ((ret = check_expr(L, c, map, "seq", &s->seq, seq_bases, false, seq_usage)) < 0 ||
	    (ret = check_expr(L, c, map, "ack", &s->ack, seq_bases, false, seq_usage)) < 0 ||
	    (ret = check_expr(L, c, map, "tsval", &s->tsval, ts_bases, false, ts_usage)) < 0 ||
	    (ret = check_expr(L, c, map, "tsecr", &s->tsecr, ts_bases, false, ts_usage)) < 0)
		return ret;
	if (s->tsval.set || s->tsecr.set)
		s->ts = true;
	/* the option bytes inject_options_build lays out: MSS 4, TS 12 (or
	 * SACK-permitted alone 4), window scale 4, SACK 4 + 8 a block */
	optlen = (s->opt_mss >= 0 ? 4u : 0u) + (s->ts ? 12u : s->opt_sack_ok > 0 ? 4u : 0u) +
		 (s->opt_wscale >= 0 ? 4u : 0u) + (s->nsack ? 4u + 8u * s->nsack : 0u);
	if (optlen > 40)
		return load_fail(L, map_get(L, map, "sack") ? map_get(L, map, "sack") : map,
				 "these options take %u bytes, more than the 40 a TCP header holds "
				 "(a timestamp leaves room for 3 SACK blocks)",
				 optlen);
	return check_conn_host(L, map, s);
}

int check_start(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	char prog[64];

	snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(s->run, " \t"), s->run);
	if (!prog[0] || requires_add_program(&c->requires, prog) < 0)
		return load_fail(L, map_get(L, map, "run"),
				 "'run' must start with the program's name");
	return 0;
}

/* An expectation compares against what was seen: it takes plain relative
 * numbers; rcv_nxt and friends only aim injected segments. */
int check_segment(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	static const char ts_usage[] =
	    "is a number (absolute), own_tsval (the sender's last TSval before it), "
	    "peer_tsval (the other host's last) or tsval(MARK) (that step's segment's), with "
	    "+N / -N and an optional comparison in front (>=, >, <=, <)";
	const unsigned ts_bases = EXPR_BIT(EXPR_NUMBER) | EXPR_BIT(EXPR_OWN_TSVAL) |
				  EXPR_BIT(EXPR_PEER_TSVAL) | EXPR_BIT(EXPR_MARK_TSVAL);
	int ret;

	if ((ret = get_flags(L, map, false, &s->has_flags, &s->flags_mask, &s->flags_value)) < 0)
		return ret;
	if (s->isn.set &&
	    (s->isn.base == EXPR_NUMBER || !s->has_flags || !(s->flags_value & SEG_SYN)))
		return load_fail(L, map_get(L, map, "isn"),
				 "'isn' is a SYN's number in the previous incarnation's terms "
				 "(prev_snd_nxt+N, prev_rcv_nxt-N): give it with flags S or S.");
	if (s->seq.set && (s->seq.base != EXPR_NUMBER || s->seq.cmp != EXPR_EQ))
		return load_fail(L, map_get(L, map, "seq"),
				 "'seq' of an expectation must be a number (relative to the "
				 "sender's ISN)");
	if (s->ack.set && (s->ack.base != EXPR_NUMBER || s->ack.cmp != EXPR_EQ))
		return load_fail(L, map_get(L, map, "ack"),
				 "'ack' of an expectation must be a number (relative to the "
				 "receiver's ISN)");
	if (s->isn.set && s->isn.cmp != EXPR_EQ)
		return load_fail(L, map_get(L, map, "isn"), "'isn' takes no comparison");
	if ((ret = check_expr(L, c, map, "tsval", &s->tsval, ts_bases, true, ts_usage)) < 0 ||
	    (ret = check_expr(L, c, map, "tsecr", &s->tsecr, ts_bases, true, ts_usage)) < 0)
		return ret;
	if ((s->tsval.set || s->tsecr.set) && s->opt_ts == 0)
		return load_fail(L, map_get(L, map, "ts"),
				 "'ts: false' says there is no timestamp, so no 'tsval' or 'tsecr'");
	return check_conn_host(L, map, s);
}

int check_state(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	(void)c;
	/* the box's own sockets: a proxy's, named by which connection */
	if ((s->host == HOST_DUT) != (s->conn != CONN_ANY))
		return load_fail(L, map_get(L, map, s->conn != CONN_ANY ? "conn" : "host"),
				 s->conn != CONN_ANY ? "'conn' names a proxy's own socket: give it "
						       "with 'host: dut'" :
						       "'host: dut' is a proxy's socket: say which "
						       "connection with 'conn: front' or 'conn: back'");
	if (s->host == HOST_DUT && (map_get(L, map, "sock") || map_get(L, map, "port")))
		return load_fail(L, map_get(L, map, map_get(L, map, "sock") ? "sock" : "port"),
				 "a proxy's socket is named by 'conn', not by 'sock' or 'port'");
	if (s->host == HOST_DUT && (s->never || s->nsock_min >= 0))
		return load_fail(L, map_get(L, map, s->never ? "never" : "count"),
				 "'%s' is not said of a proxy's socket", s->never ? "never" : "count");
	/* by port: a socket of a program the case started, which the engine
	 * knows only by its local port */
	if (s->port && !map_get(L, map, "sock"))
		s->sock[0] = '\0';
	if (s->timer_min_ns >= 0 && s->timer_max_ns >= 0 && s->timer_min_ns > s->timer_max_ns)
		return load_fail(L, map_get(L, map, "timer_min"),
				 "'timer_min' is larger than 'timer_max'");
	/* never: the whole window is watched; a timer is of one moment */
	if (s->never && s->nsock_min >= 0)
		return load_fail(L, map_get(L, map, "never"),
				 "'never' is said of one connection, not with 'count'");
	if (s->never && (s->timer >= 0 || s->timer_min_ns >= 0 || s->timer_max_ns >= 0))
		return load_fail(L, map_get(L, map, "never"),
				 "'never' takes no timer: it says the state was not entered in the "
				 "window, a timer is read at one moment");
	return 0;
}

int check_counter(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *d = map_get(L, map, "delta"), *dm = map_get(L, map, "delta_min");
	unsigned long v;
	int ret;

	(void)c;
	if (!!d == !!dm)
		return load_fail(L, d ? d : map,
				 "expectation 'counter' needs one of 'delta' (exactly) or "
				 "'delta_min' (at least)");
	if ((ret = get_uint(L, d ? d : dm, d ? "delta" : "delta_min", 1UL << 40, &v)) < 0)
		return ret;
	s->delta = (int64_t)v;
	s->delta_is_min = dm != NULL;
	return 0;
}

int check_sysctl(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *name_node = map_get(L, map, "sysctl"), *eq = map_get(L, map, "equals");
	const char *name = scalar(name_node);
	int ret;

	(void)c;
	if (!name || strncmp(name, "net.", 4) != 0 || strstr(name, "..") || strchr(name, '/'))
		return load_fail(L, name_node, "'sysctl' must be a net.* name, not '%s'",
				 name ? name : "a list");
	if ((ret = get_str(L, name_node, "sysctl", s->sysctl, sizeof(s->sysctl))) < 0)
		return ret;
	if (!!eq == s->absent || (!eq && !map_get(L, map, "absent")))
		return load_fail(L, map,
				 "expectation 'sysctl' needs 'equals: VALUE' or 'absent: true'");
	if (eq && (ret = get_str(L, eq, "equals", s->equals, sizeof(s->equals))) < 0)
		return ret;
	return 0;
}

int check_conntrack(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	(void)c;
	if (s->ct_gone && (s->ct_state >= 0 || s->ct_status || s->ct_timeout_min_ns >= 0 ||
			   s->ct_timeout_max_ns >= 0))
		return load_fail(L, map, "'gone: true' takes no state, status or timeout");
	return 0;
}

int check_exit(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	(void)c;
	if (s->exit_signal && s->exit_status >= 0)
		return load_fail(L, map,
				 "give 'status' (it exited) or 'signal' (it was killed), not both");
	return 0;
}

int check_kmsg(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	(void)c;
	/* absent without a window: what the kernel logged up to now */
	if (s->absent && !map_get(L, map, "within"))
		s->within_ns = 0;
	return 0;
}

int check_tcp_info(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *fn = map_get(L, map, "field"), *vn = map_get(L, map, "value");
	const char *v = scalar(vn);
	char *end = NULL;
	long long lo = v ? strtoll(v, &end, 10) : -1, hi = lo;

	(void)c;
	s->info_field = tcp_info_field_parse(scalar(fn));
	if (s->info_field < 0) {
		char list[200];
		size_t used = 0;
		int f;

		for (f = 0; f < TCP_INFO_FIELD_COUNT; f++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 f ? ", " : "", tcp_info_field_name(f));
		return load_fail(L, fn, "unknown tcp_info field '%s' (expected %s)",
				 scalar(fn) ? scalar(fn) : "?", list);
	}
	if (end && end[0] == '.' && end[1] == '.')
		hi = strtoll(end + 2, &end, 10);
	if (!v || !end || *end || lo < 0 || hi < lo)
		return load_fail(L, vn ? vn : map,
				 "expectation 'tcp_info' needs 'value', a number or a range like "
				 "1..3, not '%s'",
				 v ? v : "nothing");
	s->info_min = lo;
	s->info_max = hi;
	return 0;
}
