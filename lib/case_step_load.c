/* case_step_load: one step loaded and validated, with its keys' loaders. */
#include "case_int.h"

/* Which keys each step kind accepts, besides do/expect. One table, so the
 * validator, the error messages and docs/case-file.md agree. */
static const struct {
	const char *const keys[20];
	const char *required; /* one key that must be present, or NULL */
	int64_t default_within_ns;
} step_rules[STEP_KIND_COUNT] = {
    [STEP_LISTEN] = {{"host", "sock", "port", "address", "reuseaddr", "reuseport", "result", NULL},
		     "port",
		     0},
    [STEP_CONNECT] = {{"host", "to", "address", "sock", "port", "from_port", "reuseaddr", "reuseport",
		       "linger", "result", "within", NULL},
		      "port",
		      2 * FW_NS_PER_SEC},
    [STEP_ACCEPT] = {{"host", "sock", "listener", "result", "within", NULL}, NULL, 2 * FW_NS_PER_SEC},
    [STEP_SEND] = {{"host", "sock", "bytes", "result", NULL}, "bytes", 0},
    [STEP_RECV] = {{"host", "sock", "bytes", "eof", "result", "within", NULL},
		   NULL,
		   2 * FW_NS_PER_SEC},
    [STEP_SHUTDOWN] = {{"host", "sock", "result", NULL}, NULL, 0},
    [STEP_CLOSE] = {{"host", "sock", "result", NULL}, NULL, 0},
    [STEP_SETSOCKOPT] = {{"host", "sock", "linger", "reuseaddr", "opt", "value", "result", NULL},
			 NULL,
			 0},
    [STEP_INJECT] = {{"from", "to", "flags", "seq", "ack", "win", "ts", "tsval", "tsecr", "len",
		      NULL},
		     "flags",
		     0},
    [STEP_ARM] = {{"fault", NULL}, "fault", 0},
    [STEP_DISARM] = {{"fault", NULL}, "fault", 0},
    [STEP_RELEASE] = {{"fault", NULL}, "fault", 0},
    [STEP_FORK] = {{"host", "proc", "result", NULL}, "proc", 0},
    [STEP_KILL] = {{"proc", "signal", "result", "within", NULL}, "proc", 2 * FW_NS_PER_SEC},
    [STEP_WAIT] = {{"for", NULL}, "for", 0},
    [STEP_START] = {{"host", "proc", "run", "ready_port", "result", "within", NULL},
		    "run",
		    5 * FW_NS_PER_SEC},
    [STEP_EXPECT_SEGMENT] = {{"from", "flags", "has", "seq", "ack", "len", "win", "mss", "wscale",
			      "sack_ok", "ts", "dsack", "sack_blocks", "arrived", "count", "isn",
			      "within", NULL},
			     "from",
			     FW_NS_PER_SEC},
    [STEP_EXPECT_NO_SEGMENT] = {{"from", "flags", "has", "arrived", "within", NULL}, "within", 0},
    [STEP_EXPECT_STATE] = {{"host", "sock", "port", "state", "timer", "timer_min", "timer_max",
			    "within", NULL},
			   "state",
			   2 * FW_NS_PER_SEC},
    [STEP_EXPECT_GONE] = {{"host", "sock", "port", "within", NULL}, NULL, 2 * FW_NS_PER_SEC},
    [STEP_EXPECT_COUNTER] = {{"host", "counter", "delta", "delta_min", "within", NULL},
			     "counter",
			     FW_NS_PER_SEC},
    [STEP_EXPECT_SYSCTL] = {{"host", "sysctl", "equals", "absent", NULL}, "sysctl", 0},
    [STEP_EXPECT_CONNTRACK] = {{"host", "state", "gone", "status", "timeout_min", "timeout_max",
				"within", NULL},
			       NULL,
			       FW_NS_PER_SEC},
    [STEP_EXPECT_EXIT] = {{"proc", "status", "signal", "output", "within", NULL},
			  "proc",
			  2 * FW_NS_PER_SEC},
    [STEP_EXPECT_KMSG] = {{"message", "absent", "within", NULL}, "message", FW_NS_PER_SEC},
    [STEP_EXPECT_TCP_INFO] = {{"host", "sock", "field", "value", "within", NULL},
			      "field",
			      FW_NS_PER_SEC},
};

static const char *const step_all_keys[] = {
    "do",	 "expect",	"host",	    "from",    "to",	      "sock",
    "port",	 "from_port",	"bytes",    "eof",     "result",      "linger",
    "reuseaddr", "flags",	"has",	    "seq",     "ack",	      "win",
    "ts",	 "tsval",	"tsecr",    "len",     "state",	      "timer",
    "timer_min", "timer_max",	"within",   "fault",   "opt",	      "value",
    "proc",	 "signal",	"when",	    "counter", "delta",	      "delta_min",
    "reuseport", "sysctl",	"equals",   "absent",  "arrived",     "for",
    "run",	 "ready_port",	"output",   "mark",    "since",	      "count",
    "isn",	 "on",		"together", "mss",     "wscale",      "sack_ok",
    "dsack",	 "sack_blocks", "gone",	    "status",  "timeout_min", "timeout_max",
    "message",	 "listener",	"address", "field", NULL,
};

/* ---- step loaders ---------------------------------------------------------- */

/* The hosts a step kind may name in 'host': a box has no sockets the case
 * drives, only counters, sysctls and its conntrack table. */
static unsigned step_hosts(enum step_kind k)
{
	switch (k) {
	case STEP_EXPECT_COUNTER:
	case STEP_EXPECT_SYSCTL:
		return HOSTS_WITH_DUT;
	case STEP_EXPECT_CONNTRACK:
		return 1u << HOST_DUT;
	case STEP_LISTEN:
	case STEP_CONNECT:
	case STEP_ACCEPT:
	case STEP_SEND:
	case STEP_RECV:
	case STEP_SHUTDOWN:
	case STEP_CLOSE:
	case STEP_SETSOCKOPT:
	case STEP_INJECT:
	case STEP_ARM:
	case STEP_DISARM:
	case STEP_RELEASE:
	case STEP_FORK:
	case STEP_KILL:
	case STEP_WAIT:
	case STEP_START:
	case STEP_EXPECT_EXIT:
	case STEP_EXPECT_KMSG: /* the log is the machine's, no host's */
	case STEP_EXPECT_TCP_INFO:
	case STEP_EXPECT_SEGMENT:
	case STEP_EXPECT_NO_SEGMENT:
	case STEP_EXPECT_STATE:
	case STEP_EXPECT_GONE:
		break;
	}
	return HOSTS_ENDPOINTS;
}

/* mark: a name for this step; since: an expectation's window starts at the
 * start of the earlier step marked so (not at the last action); count: how
 * many matching segments the window holds ("3" or "3..5"). Any step may be
 * marked; only expectations count from a mark. */
static int load_clock(struct loader *L, const struct fw_case *c, yaml_node_t *map,
		      struct fw_step *s)
{
	yaml_node_t *n;
	size_t i;
	int ret;

	s->count_min = s->count_max = -1;
	if ((n = map_get(L, map, "mark")) &&
	    (ret = get_str(L, n, "mark", s->mark, sizeof(s->mark))) < 0)
		return ret;
	for (i = 0; s->mark[0] && i < c->nsteps; i++)
		if (strcmp(c->steps[i].mark, s->mark) == 0)
			return load_fail(L, n, "mark '%s' is already used by the step on line %d",
					 s->mark, c->steps[i].line);
	if ((n = map_get(L, map, "since"))) {
		if (!step_kind_is_expect(s->kind))
			return load_fail(
			    L, n,
			    "'since' belongs to expectations (an action's clock starts with it)");
		if ((ret = get_str(L, n, "since", s->since, sizeof(s->since))) < 0)
			return ret;
		for (i = 0; i < c->nsteps && strcmp(c->steps[i].mark, s->since) != 0; i++)
			;
		if (i == c->nsteps)
			return load_fail(L, n,
					 "no earlier step is marked '%s' (add 'mark: %s' to it)",
					 s->since, s->since);
	}
	if ((n = map_get(L, map, "count"))) {
		const char *v = scalar(n);
		char *end = NULL;
		long lo = v ? strtol(v, &end, 10) : -1, hi = lo;

		if (end && end[0] == '.' && end[1] == '.')
			hi = strtol(end + 2, &end, 10);
		if (!v || !end || *end || lo < 0 || hi < lo || hi > 1000)
			return load_fail(L, n,
					 "'count' must be a number or a range like 3..5, not '%s'",
					 v ? v : "a list");
		s->count_min = (int)lo;
		s->count_max = (int)hi;
	}
	return 0;
}

/* on: {from: client, flags: F.}: the action waits (within its 'within', 2 s
 * by default) until such a segment has reached its host, then runs at once.
 * together: true: the next action starts right after this one, with no
 * probe or capture work between the two calls. */
static int load_trigger(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	static const char *const keys[] = {"from", "flags", "has", NULL};
	static const struct keyset ks = {"trigger ('on')", keys};
	yaml_node_t *n, *f;
	bool has;
	int ret;

	if ((n = map_get(L, map, "together")) &&
	    (ret = get_bool(L, n, "together", &s->together)) < 0)
		return ret;
	if (!(n = map_get(L, map, "on")))
		return 0;
	if ((ret = check_keys(L, n, &ks)) < 0)
		return ret;
	if (!(f = map_get(L, n, "from")))
		return load_fail(L, n, "'on' needs 'from' (whose segment the action waits for)");
	if ((ret = get_host(L, f, "from", HOSTS_ENDPOINTS, &s->trig_from)) < 0)
		return ret;
	if (s->trig_from == s->host)
		return load_fail(
		    L, f, "'on' waits for a segment reaching %s, so 'from' must be the other host",
		    fw_host_name(s->host));
	if ((ret = get_flags(L, n, true, &has, &s->trig_mask, &s->trig_value)) < 0)
		return ret;
	s->has_trigger = true;
	if (!s->within_ns)
		s->within_ns = 2 * FW_NS_PER_SEC;
	return 0;
}

/* start: run (the command), ready_port; exit: status, signal, output. */
static int load_program(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *n;
	unsigned long v;
	int ret;

	s->exit_status = -1;
	if ((n = map_get(L, map, "run")) &&
	    (ret = get_str(L, n, "run", s->run, sizeof(s->run))) < 0)
		return ret;
	if ((n = map_get(L, map, "ready_port"))) {
		if ((ret = get_uint(L, n, "ready_port", 65535, &v)) < 0)
			return ret;
		if (!v)
			return load_fail(L, n, "'ready_port' must be from 1 to 65535");
		s->port = (uint16_t)v;
	}
	if (s->kind == STEP_EXPECT_EXIT && (n = map_get(L, map, "status"))) {
		if ((ret = get_uint(L, n, "status", 255, &v)) < 0)
			return ret;
		s->exit_status = (int)v;
	}
	if (s->kind == STEP_EXPECT_EXIT && (n = map_get(L, map, "signal")) &&
	    (ret = load_signal(L, n, &s->exit_signal)) < 0)
		return ret;
	if (s->exit_signal && s->exit_status >= 0)
		return load_fail(L, map,
				 "give 'status' (it exited) or 'signal' (it was killed), not both");
	if ((n = map_get(L, map, "output")) &&
	    (ret = get_str(L, n, "output", s->output, sizeof(s->output))) < 0)
		return ret;
	if (s->kind == STEP_START && !s->proc[0])
		snprintf(s->proc, sizeof(s->proc), "program");
	return 0;
}

/* expect segment: the options it must carry. Numbers (mss, wscale,
 * sack_blocks) must equal; booleans (sack_ok, ts, dsack) must be as given. */
static int load_segment_options(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	static const struct {
		const char *key;
		unsigned long max; /* 0: a boolean */
		size_t off;
	} opts[] = {
	    {"mss", 65535, offsetof(struct fw_step, opt_mss)},
	    {"wscale", 14, offsetof(struct fw_step, opt_wscale)},
	    {"sack_blocks", 4, offsetof(struct fw_step, opt_sack_blocks)},
	    {"sack_ok", 0, offsetof(struct fw_step, opt_sack_ok)},
	    {"ts", 0, offsetof(struct fw_step, opt_ts)},
	    {"dsack", 0, offsetof(struct fw_step, opt_dsack)},
	};
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		int *field = (int *)((char *)s + opts[i].off);
		yaml_node_t *n = map_get(L, map, opts[i].key);
		unsigned long v;
		bool b;
		int ret;

		*field = -1;
		if (!n || s->kind != STEP_EXPECT_SEGMENT)
			continue;
		if (opts[i].max && (ret = get_uint(L, n, opts[i].key, opts[i].max, &v)) < 0)
			return ret;
		if (!opts[i].max && (ret = get_bool(L, n, opts[i].key, &b)) < 0)
			return ret;
		*field = opts[i].max ? (int)v : b;
	}
	return 0;
}

/* expect conntrack: state (a conntrack state), gone, status: [ASSURED, ...],
 * timeout_min / timeout_max (the entry's time left). */
static int load_conntrack(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *n;
	int ret;

	s->ct_state = -1;
	s->ct_timeout_min_ns = s->ct_timeout_max_ns = -1;
	if ((n = map_get(L, map, "state"))) {
		s->ct_state = conntrack_state_parse(scalar(n));
		if (s->ct_state < 0)
			return load_fail(L, n,
					 "unknown conntrack state '%s' (expected NONE, SYN_SENT, "
					 "SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, "
					 "TIME_WAIT, CLOSE, SYN_SENT2)",
					 scalar(n) ? scalar(n) : "?");
	}
	if ((n = map_get(L, map, "gone")) && (ret = get_bool(L, n, "gone", &s->ct_gone)) < 0)
		return ret;
	if ((n = map_get(L, map, "status"))) {
		yaml_node_item_t *it;

		if (n->type != YAML_SEQUENCE_NODE)
			return load_fail(L, n,
					 "'status' must be a list of conntrack status bits "
					 "([ASSURED, SEEN_REPLY])");
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			uint32_t bit = conntrack_status_parse(scalar(node_at(L, *it)));

			if (!bit)
				return load_fail(
				    L, node_at(L, *it),
				    "unknown conntrack status '%s' (expected SEEN_REPLY, ASSURED, "
				    "CONFIRMED, SRC_NAT, DST_NAT, DYING)",
				    scalar(node_at(L, *it)) ? scalar(node_at(L, *it)) : "?");
			s->ct_status |= bit;
		}
	}
	if ((n = map_get(L, map, "timeout_min")) &&
	    (ret = get_duration(L, n, "timeout_min", &s->ct_timeout_min_ns)) < 0)
		return ret;
	if ((n = map_get(L, map, "timeout_max")) &&
	    (ret = get_duration(L, n, "timeout_max", &s->ct_timeout_max_ns)) < 0)
		return ret;
	if (s->ct_gone && (s->ct_state >= 0 || s->ct_status || s->ct_timeout_min_ns >= 0 ||
			   s->ct_timeout_max_ns >= 0))
		return load_fail(L, map, "'gone: true' takes no state, status or timeout");
	return 0;
}

int load_step(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	static const struct keyset ks = {"step", step_all_keys};
	yaml_node_t *kind_node, *n;
	yaml_node_pair_t *p;
	unsigned long v;
	bool expect;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = check_keys(L, map, &ks);
	if (ret < 0)
		return ret;
	s->line = (int)map->start_mark.line + 1;
	kind_node = map_get(L, map, "do");
	expect = false;
	if (map_get(L, map, "expect")) {
		if (kind_node)
			return load_fail(L, map, "a step has either 'do' or 'expect', not both");
		kind_node = map_get(L, map, "expect");
		expect = true;
	}
	if (!kind_node)
		return load_fail(L, map, "a step needs 'do: <action>' or 'expect: <expectation>'");
	ret = step_kind_lookup(L, kind_node, expect, &s->kind);
	if (ret < 0)
		return ret;

	/* Keys that do not apply to this kind are errors, not silently ignored. */
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(L, p->key));

		/* do/expect, when (matrix rows), mark and since (clocks) go with any
		 * step; on and together with any action */
		if (strcmp(k, "do") && strcmp(k, "expect") && strcmp(k, "when") &&
		    strcmp(k, "mark") && strcmp(k, "since") &&
		    (step_kind_is_expect(s->kind) || (strcmp(k, "on") && strcmp(k, "together"))) &&
		    !key_known(step_rules[s->kind].keys, k))
			return load_fail(L, node_at(L, p->key), "'%s' does not apply to %s '%s'", k,
					 expect ? "expectation" : "action",
					 step_kind_name(s->kind));
	}
	if (step_rules[s->kind].required && !map_get(L, map, step_rules[s->kind].required))
		return load_fail(L, map, "%s '%s' needs '%s'", expect ? "expectation" : "action",
				 step_kind_name(s->kind), step_rules[s->kind].required);

	s->host = s->kind == STEP_EXPECT_CONNTRACK ? HOST_DUT : HOST_CLIENT;
	s->linger = -1;
	s->reuseaddr = -1;
	s->reuseport = -1;
	s->len = -1;
	s->win = -1;
	s->fault = -1;
	s->within_ns = step_rules[s->kind].default_within_ns;
	strcpy(s->sock, s->kind == STEP_LISTEN ? "listen" : "conn");

	if ((n = map_get(L, map, "host")) &&
	    (ret = get_host(L, n, "host", step_hosts(s->kind), &s->host)) < 0)
		return ret;
	if ((n = map_get(L, map, "from")) &&
	    (ret = get_host(L, n, "from", HOSTS_ENDPOINTS, &s->host)) < 0)
		return ret;
	s->peer = other_host(s->host);
	if ((n = map_get(L, map, "to")) &&
	    (ret = get_host(L, n, "to", s->kind == STEP_CONNECT ? HOSTS_WITH_DUT : HOSTS_ENDPOINTS,
			    &s->peer)) < 0)
		return ret;
	if (s->peer == s->host)
		return load_fail(L, map_get(L, map, "to"), "'to' must name the other host, not %s",
				 fw_host_name(s->host));
	if ((s->host == HOST_DUT || (map_get(L, map, "to") && s->peer == HOST_DUT)) &&
	    !c->dut.present)
		return load_fail(
		    L, map, "this step names the device under test, but the case has no 'dut:'");
	if ((n = map_get(L, map, "sock")) &&
	    (ret = get_str(L, n, "sock", s->sock, sizeof(s->sock))) < 0)
		return ret;
	if ((n = map_get(L, map, "port"))) {
		if ((ret = get_uint(L, n, "port", 65535, &v)) < 0)
			return ret;
		if (v == 0)
			return load_fail(L, n, "'port' must be from 1 to 65535");
		s->port = (uint16_t)v;
	}
	if ((n = map_get(L, map, "from_port"))) {
		if ((ret = get_uint(L, n, "from_port", 65535, &v)) < 0)
			return ret;
		s->from_port = (uint16_t)v;
	}
	if ((n = map_get(L, map, "bytes"))) {
		if ((ret = get_uint(L, n, "bytes", 1 << 20, &v)) < 0)
			return ret;
		s->bytes = (uint32_t)v;
	}
	if ((n = map_get(L, map, "eof")) && (ret = get_bool(L, n, "eof", &s->eof)) < 0)
		return ret;
	if (s->kind == STEP_RECV && !s->eof && s->bytes == 0)
		return load_fail(L, map, "action 'recv' needs 'bytes: N' or 'eof: true'");
	if ((n = map_get(L, map, "result"))) {
		s->expect_errno = scalar(n) ? fw_errno_parse(scalar(n)) : -1;
		if (s->expect_errno < 0)
			return load_fail(
			    L, n, "unknown result '%s' (OK or an errno name such as ECONNREFUSED)",
			    scalar(n) ? scalar(n) : "?");
	}
	if ((n = map_get(L, map, "linger"))) {
		if ((ret = get_uint(L, n, "linger", 3600, &v)) < 0)
			return ret;
		s->linger = (int)v;
	}
	if ((n = map_get(L, map, "reuseaddr"))) {
		bool b;

		if ((ret = get_bool(L, n, "reuseaddr", &b)) < 0)
			return ret;
		s->reuseaddr = b;
	}
	if (s->kind == STEP_SETSOCKOPT && (ret = load_sockopt(L, map, s)) < 0)
		return ret;
	if ((n = map_get(L, map, "reuseport"))) {
		bool b;

		if ((ret = get_bool(L, n, "reuseport", &b)) < 0)
			return ret;
		s->reuseport = b;
	}
	if (s->kind == STEP_EXPECT_SYSCTL) {
		yaml_node_t *eq = map_get(L, map, "equals"), *ab = map_get(L, map, "absent");
		const char *name = scalar(map_get(L, map, "sysctl"));

		if (!name || strncmp(name, "net.", 4) != 0 || strstr(name, "..") ||
		    strchr(name, '/'))
			return load_fail(L, map_get(L, map, "sysctl"),
					 "'sysctl' must be a net.* name, not '%s'",
					 name ? name : "a list");
		if ((ret = get_str(L, map_get(L, map, "sysctl"), "sysctl", s->sysctl,
				   sizeof(s->sysctl))) < 0)
			return ret;
		if (ab && (ret = get_bool(L, ab, "absent", &s->absent)) < 0)
			return ret;
		if (!!eq == s->absent || (!eq && !ab))
			return load_fail(
			    L, map, "expectation 'sysctl' needs 'equals: VALUE' or 'absent: true'");
		if (eq && (ret = get_str(L, eq, "equals", s->equals, sizeof(s->equals))) < 0)
			return ret;
	}
	if (s->kind == STEP_EXPECT_TCP_INFO) {
		yaml_node_t *fn = map_get(L, map, "field"), *vn = map_get(L, map, "value");
		const char *v = scalar(vn);
		char *end = NULL;
		long long lo = v ? strtoll(v, &end, 10) : -1, hi = lo;

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
					 "expectation 'tcp_info' needs 'value', a number or a range "
					 "like 1..3, not '%s'",
					 v ? v : "nothing");
		s->info_min = lo;
		s->info_max = hi;
	}
	if (s->kind == STEP_EXPECT_KMSG) {
		yaml_node_t *ab = map_get(L, map, "absent");

		if ((ret = get_str(L, map_get(L, map, "message"), "message", s->kmsg,
				   sizeof(s->kmsg))) < 0)
			return ret;
		if (!s->kmsg[0])
			return load_fail(L, map_get(L, map, "message"),
					 "'message' is text the kernel's message contains, not empty");
		if (ab && (ret = get_bool(L, ab, "absent", &s->absent)) < 0)
			return ret;
		/* absent without a window: what the kernel logged up to now */
		if (s->absent && !map_get(L, map, "within"))
			s->within_ns = 0;
	}
	if ((n = map_get(L, map, "address"))) {
		static const char *const names[] = {
		    [ADDRESS_HOST] = "host", [ADDRESS_ANY] = "any", [ADDRESS_LOOPBACK] = "loopback"};
		const char *a = scalar(n);
		int i;

		for (i = 0; i < 3; i++)
			if (a && strcmp(a, names[i]) == 0)
				break;
		if (i == 3 || (s->kind == STEP_CONNECT && i == ADDRESS_ANY))
			return load_fail(L, n, "'address' is %s, not '%s'",
					 s->kind == STEP_CONNECT
					     ? "host (the peer's) or loopback (the host's own 127.0.0.1 or ::1)"
					     : "host, any or loopback",
					 a ? a : "a list");
		s->address = (enum step_address)i;
		if (s->kind == STEP_CONNECT && s->address == ADDRESS_LOOPBACK && map_get(L, map, "to"))
			return load_fail(L, n, "a loopback connect goes to its own host: leave out 'to'");
	}
	if (s->kind == STEP_ACCEPT) {
		const struct fw_step *p;

		strcpy(s->listener, "listen");
		if ((n = map_get(L, map, "listener")) &&
		    (ret = get_str(L, n, "listener", s->listener, sizeof(s->listener))) < 0)
			return ret;
		/* the listener is an earlier listen step's socket on the same host */
		for (p = c->steps; p < s; p++)
			if (p->kind == STEP_LISTEN && p->host == s->host &&
			    strcmp(p->sock, s->listener) == 0)
				break;
		if (p == s)
			return load_fail(L, n ? n : map,
					 "no earlier listen step on %s names its socket '%s' "
					 "(give the listen step 'sock: %s')",
					 fw_host_name(s->host), s->listener, s->listener);
	}
	if (s->kind == STEP_SETSOCKOPT && s->linger < 0 && s->reuseaddr < 0 && !s->has_opt)
		return load_fail(
		    L, map, "action 'setsockopt' needs 'opt' and 'value', 'linger' or 'reuseaddr'");
	if ((n = map_get(L, map, "proc")) &&
	    (ret = get_str(L, n, "proc", s->proc, sizeof(s->proc))) < 0)
		return ret;
	/* state/gone by port: a socket of a program the case started, which the
	 * engine knows only by its local port */
	if ((s->kind == STEP_EXPECT_STATE || s->kind == STEP_EXPECT_GONE) && s->port &&
	    !map_get(L, map, "sock"))
		s->sock[0] = '\0';
	s->signal = SIGKILL;
	if ((n = map_get(L, map, "signal")) && (ret = load_signal(L, n, &s->signal)) < 0)
		return ret;
	if ((ret = load_timer(L, map, s)) < 0)
		return ret;
	if ((n = map_get(L, map, "when")) && (ret = load_when(L, c, n, &s->when)) < 0)
		return ret;
	if ((n = map_get(L, map, "counter")) &&
	    (ret = get_str(L, n, "counter", s->counter, sizeof(s->counter))) < 0)
		return ret;
	if (s->kind == STEP_EXPECT_COUNTER) {
		yaml_node_t *d = map_get(L, map, "delta"), *dm = map_get(L, map, "delta_min");

		if (!!d == !!dm)
			return load_fail(L, d ? d : map,
					 "expectation 'counter' needs one of 'delta' (exactly) or "
					 "'delta_min' (at least)");
		if ((ret = get_uint(L, d ? d : dm, d ? "delta" : "delta_min", 1UL << 40, &v)) < 0)
			return ret;
		s->delta = (int64_t)v;
		s->delta_is_min = dm != NULL;
	}
	ret = get_flags(L, map, s->kind == STEP_INJECT, &s->has_flags, &s->flags_mask,
			&s->flags_value);
	if (ret < 0)
		return ret;
	if (s->kind == STEP_INJECT && s->flags_mask != 0xff)
		return load_fail(L, map_get(L, map, "has"),
				 "inject needs the exact 'flags', not 'has'");
	if ((ret = get_expr(L, map, "seq", &s->seq)) < 0 ||
	    (ret = get_expr(L, map, "ack", &s->ack)) < 0 ||
	    (ret = get_expr(L, map, "tsval", &s->tsval)) < 0 ||
	    (ret = get_expr(L, map, "tsecr", &s->tsecr)) < 0)
		return ret;
	/* An expectation compares against what was seen: it takes plain
	 * relative numbers; rcv_nxt and friends only aim injected segments. */
	if ((ret = get_expr(L, map, "isn", &s->isn)) < 0)
		return ret;
	if (s->isn.set &&
	    (s->isn.base == EXPR_NUMBER || !s->has_flags || !(s->flags_value & SEG_SYN)))
		return load_fail(L, map_get(L, map, "isn"),
				 "'isn' is a SYN's number in the previous incarnation's terms "
				 "(prev_snd_nxt+N, prev_rcv_nxt-N): give it with flags S or S.");
	if (s->kind == STEP_EXPECT_SEGMENT) {
		if (s->seq.set && s->seq.base != EXPR_NUMBER)
			return load_fail(L, map_get(L, map, "seq"),
					 "'seq' of an expectation must be a number (relative to "
					 "the sender's ISN)");
		if (s->ack.set && s->ack.base != EXPR_NUMBER)
			return load_fail(L, map_get(L, map, "ack"),
					 "'ack' of an expectation must be a number (relative to "
					 "the receiver's ISN)");
	}
	if ((n = map_get(L, map, "ts")) && (ret = get_bool(L, n, "ts", &s->ts)) < 0)
		return ret;
	if ((s->tsval.set || s->tsecr.set) && s->kind == STEP_INJECT)
		s->ts = true;
	if ((n = map_get(L, map, "len"))) {
		if ((ret = get_uint(L, n, "len", 65535, &v)) < 0)
			return ret;
		s->len = (int64_t)v;
	}
	if ((n = map_get(L, map, "win"))) {
		if ((ret = get_uint(L, n, "win", 65535, &v)) < 0)
			return ret;
		s->win = (int)v;
	}
	if (s->kind == STEP_EXPECT_CONNTRACK) {
		if ((ret = load_conntrack(L, map, s)) < 0)
			return ret;
	} else if ((n = map_get(L, map, "state"))) {
		s->state = scalar(n) ? tcp_state_parse(scalar(n)) : -1;
		if (s->state < 0)
			return load_fail(L, n,
					 "unknown TCP state '%s' (expected ESTABLISHED, SYN_SENT, "
					 "SYN_RECV, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSE_WAIT, "
					 "LAST_ACK, CLOSING, LISTEN)",
					 scalar(n) ? scalar(n) : "?");
	}
	if ((n = map_get(L, map, "within")) &&
	    (ret = get_duration(L, n, "within", &s->within_ns)) < 0)
		return ret;
	if ((n = map_get(L, map, "arrived")) && (ret = get_bool(L, n, "arrived", &s->arrived)) < 0)
		return ret;
	if ((ret = load_segment_options(L, map, s)) < 0)
		return ret;
	if ((ret = load_program(L, map, s)) < 0)
		return ret;
	if ((ret = load_clock(L, c, map, s)) < 0)
		return ret;
	if ((ret = load_trigger(L, map, s)) < 0)
		return ret;
	if (s->kind == STEP_START) {
		char prog[64];

		snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(s->run, " \t"), s->run);
		if (!prog[0] || requires_add_program(&c->requires, prog) < 0)
			return load_fail(L, map_get(L, map, "run"),
					 "'run' must start with the program's name");
	}

	/* wait: its duration is its window (so budgets and reports count it) */
	if ((n = map_get(L, map, "for")) && (ret = get_duration(L, n, "for", &s->within_ns)) < 0)
		return ret;
	if ((n = map_get(L, map, "fault"))) {
		s->fault = scalar(n) ? fault_index(c->faults, c->nfaults, scalar(n)) : -1;
		if (s->fault < 0)
			return load_fail(
			    L, n,
			    "unknown fault '%s' (no fault of that name is declared under 'faults')",
			    scalar(n) ? scalar(n) : "?");
		if (s->kind == STEP_RELEASE && (c->faults[s->fault].action != FAULT_HOLD ||
						c->faults[s->fault].until != FAULT_UNTIL_STEP))
			return load_fail(L, n,
					 "fault '%s' is not released by a step (give it 'action: "
					 "hold, until: step')",
					 c->faults[s->fault].name);
		/* a step cannot arm a fault in a row the fault is not part of */
		if (c->faults[s->fault].when &&
		    (!s->when || (s->when & ~c->faults[s->fault].when)))
			return load_fail(L, n,
					 "fault '%s' has 'when' rows this step is not limited to "
					 "(give the step a 'when' among the fault's rows)",
					 c->faults[s->fault].name);
	}
	step_describe(c, s);
	return 0;
}
