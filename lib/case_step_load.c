/* case_step_load: one step loaded and validated. Every key a step may carry
 * has one row below saying what it is and where it goes, so each is parsed
 * once; what a kind takes is its row in case_step.c; what keys say together
 * is the kind's check function at the end of this file. */
#include "case_int.h"

/* ---- keys ------------------------------------------------------------------- */

enum key_type {
	KEY_TEXT,     /* a string into a char array */
	KEY_UINT,     /* a number from min to max into an integer field */
	KEY_BOOL,     /* true/false into a bool */
	KEY_TRI,      /* true/false into an int whose -1 means "not given" */
	KEY_DURATION, /* "200ms", "2s" into int64 nanoseconds */
	KEY_EXPR,     /* "rcv_nxt+1" into a struct fw_expr */
	KEY_FN,       /* its own loader */
	KEY_WITH,     /* read together with another key, by the kind's check */
};

typedef int key_load_fn(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
			struct fw_step *s);

struct step_key {
	const char *name;
	enum key_type type;
	size_t off, size; /* the field it fills */
	unsigned long min, max;
	key_load_fn *load;
};

static int key_result(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		      struct fw_step *s)
{
	(void)c;
	(void)map;
	s->expect_errno = scalar(n) ? fw_errno_parse(scalar(n)) : -1;
	if (s->expect_errno < 0)
		return load_fail(L, n,
				 "unknown result '%s' (OK or an errno name such as ECONNREFUSED)",
				 scalar(n) ? scalar(n) : "?");
	return 0;
}

/* exit: the signal that killed it; kill: the signal to send */
static int key_signal(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		      struct fw_step *s)
{
	(void)c;
	(void)map;
	return load_signal(L, n, s->kind == STEP_EXPECT_EXIT ? &s->exit_signal : &s->signal);
}

static int key_timer(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		     struct fw_step *s)
{
	(void)c;
	(void)map;
	s->timer = sock_timer_parse(scalar(n));
	if (s->timer < 0)
		return load_fail(L, n,
				 "unknown timer '%s' (expected off, on, keepalive, timewait, probe)",
				 scalar(n) ? scalar(n) : "?");
	return 0;
}

static int key_when(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		    struct fw_step *s)
{
	(void)map;
	return load_when(L, c, n, &s->when);
}

/* segment expectations: whether a timestamp option is there; inject: add one */
static int key_ts(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		  struct fw_step *s)
{
	bool b;
	int ret;

	(void)c;
	(void)map;
	if ((ret = get_bool(L, n, "ts", &b)) < 0)
		return ret;
	if (s->kind == STEP_INJECT)
		s->ts = b;
	else
		s->opt_ts = b;
	return 0;
}

/* at: where a wire meets the box (segment, no_segment) */
static int key_at(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		  struct fw_step *s)
{
	int leg = fault_leg_parse(scalar(n));

	if (!c->dut.present)
		return load_fail(L, n, "'at' is a side of the device under test, and this case "
				       "has no 'dut:'");
	if (leg < 0)
		return load_fail(L, n, "'at' is wire-a (the box's client side) or wire-b (its "
				       "server side), not '%s'", scalar(n) ? scalar(n) : "a list");
	if (s->arrived)
		return load_fail(L, map_get(L, map, "arrived"),
				 "'arrived' is at the other host, 'at' at the box: give one");
	s->at_box = true;
	s->at = (enum fault_leg)leg;
	return 0;
}

const char *fw_conn_name(enum fw_conn c)
{
	switch (c) {
	case CONN_ANY:
		return "any";
	case CONN_FRONT:
		return "front";
	case CONN_BACK:
		return "back";
	}
	return "?";
}

/* conn: which of a proxy's two connections (segment, no_segment, state, gone) */
static int key_conn(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		    struct fw_step *s)
{
	const char *v = scalar(n);

	(void)map;
	if (!c->dut.present || !c->dut.run[0])
		return load_fail(L, n, "'conn' names one of a proxy's two connections, and this "
				       "case has no proxy ('dut:' with 'run:')");
	if (v && strcmp(v, "front") == 0)
		s->conn = CONN_FRONT;
	else if (v && strcmp(v, "back") == 0)
		s->conn = CONN_BACK;
	else
		return load_fail(L, n, "'conn' is front (client to the proxy) or back (the proxy to "
				       "the server), not '%s'", v ? v : "a list");
	if ((s->kind == STEP_EXPECT_SEGMENT || s->kind == STEP_EXPECT_NO_SEGMENT) &&
	    (s->at_box || s->arrived))
		return load_fail(L, n, "'conn' names the connection, '%s' where it was seen: "
				       "give one", s->at_box ? "at" : "arrived");
	return 0;
}

/* inject's leg: sent from that wire's namespace, not the sender's */
static int key_leg(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		   struct fw_step *s)
{
	int leg = fault_leg_parse(scalar(n));

	(void)map;
	if (!c->dut.present)
		return load_fail(L, n, "'leg' names a side of a device under test, and this case "
				       "has no 'dut:'");
	if (leg < 0)
		return load_fail(L, n, "'leg' is wire-a (client to box) or wire-b (box to "
				       "server), not '%s'", scalar(n) ? scalar(n) : "a list");
	s->at_box = true;
	s->at = (enum fault_leg)leg;
	return 0;
}

/* a TCP state, or the box's conntrack state */
static int key_state(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		     struct fw_step *s)
{
	(void)c;
	(void)map;
	if (s->kind == STEP_EXPECT_CONNTRACK) {
		s->ct_state = conntrack_state_parse(scalar(n));
		if (s->ct_state < 0)
			return load_fail(L, n,
					 "unknown conntrack state '%s' (expected NONE, SYN_SENT, "
					 "SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, "
					 "TIME_WAIT, CLOSE, SYN_SENT2)",
					 scalar(n) ? scalar(n) : "?");
		return 0;
	}
	s->state = scalar(n) ? tcp_state_parse(scalar(n)) : -1;
	if (s->state < 0)
		return load_fail(L, n,
				 "unknown TCP state '%s' (expected ESTABLISHED, SYN_SENT, "
				 "SYN_RECV, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSE_WAIT, "
				 "LAST_ACK, CLOSING, LISTEN)",
				 scalar(n) ? scalar(n) : "?");
	return 0;
}

/* exit: its exit status; conntrack: status bits [ASSURED, SEEN_REPLY] */
static int key_status(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		      struct fw_step *s)
{
	yaml_node_item_t *it;
	unsigned long v;
	int ret;

	(void)c;
	(void)map;
	if (s->kind == STEP_EXPECT_EXIT) {
		if ((ret = get_uint(L, n, "status", 255, &v)) < 0)
			return ret;
		s->exit_status = (int)v;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return load_fail(L, n,
				 "'status' must be a list of conntrack status bits "
				 "([ASSURED, SEEN_REPLY])");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		const char *name = scalar(node_at(L, *it));
		uint32_t bit = conntrack_status_parse(name);

		if (!bit)
			return load_fail(L, node_at(L, *it),
					 "unknown conntrack status '%s' (expected SEEN_REPLY, "
					 "ASSURED, CONFIRMED, SRC_NAT, DST_NAT, DYING)",
					 name ? name : "?");
		s->ct_status |= bit;
	}
	return 0;
}

static int key_message(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		       struct fw_step *s)
{
	int ret;

	(void)c;
	(void)map;
	if ((ret = get_str(L, n, "message", s->kmsg, sizeof(s->kmsg))) < 0)
		return ret;
	if (!s->kmsg[0])
		return load_fail(L, n, "'message' is text the kernel's message contains, not empty");
	return 0;
}

static int key_address(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		       struct fw_step *s)
{
	static const char *const names[] = {
	    [ADDRESS_HOST] = "host", [ADDRESS_ANY] = "any", [ADDRESS_LOOPBACK] = "loopback"};
	bool connect = s->kind == STEP_CONNECT;
	const char *a = scalar(n);
	int i;

	(void)c;
	for (i = 0; i < 3; i++)
		if (a && strcmp(a, names[i]) == 0)
			break;
	if (i == 3 || (connect && i == ADDRESS_ANY))
		return load_fail(L, n, "'address' is %s, not '%s'",
				 connect ? "host (the peer's) or loopback (the host's own "
					   "127.0.0.1 or ::1)"
					 : "host, any or loopback",
				 a ? a : "a list");
	s->address = (enum step_address)i;
	if (connect && s->address == ADDRESS_LOOPBACK && map_get(L, map, "to"))
		return load_fail(L, n, "a loopback connect goes to its own host: leave out 'to'");
	return 0;
}

static int key_fault(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		     struct fw_step *s)
{
	const struct fault_rule *f;

	(void)map;
	s->fault = scalar(n) ? fault_index(c->faults, c->nfaults, scalar(n)) : -1;
	if (s->fault < 0)
		return load_fail(L, n,
				 "unknown fault '%s' (no fault of that name is declared under "
				 "'faults')",
				 scalar(n) ? scalar(n) : "?");
	f = &c->faults[s->fault];
	if (s->kind == STEP_RELEASE && (f->action != FAULT_HOLD || f->until != FAULT_UNTIL_STEP))
		return load_fail(L, n,
				 "fault '%s' is not released by a step (give it 'action: hold, "
				 "until: step')",
				 f->name);
	/* a step cannot arm a fault in a row the fault is not part of */
	if (f->when && (!s->when || (s->when & ~f->when)))
		return load_fail(L, n,
				 "fault '%s' has 'when' rows this step is not limited to (give the "
				 "step a 'when' among the fault's rows)",
				 f->name);
	return 0;
}

/* mark: a name for this step; since: an expectation's window starts at the
 * start of the earlier step marked so (not at the last action). Any step may
 * be marked; only expectations count from a mark. */
static int key_mark(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		    struct fw_step *s)
{
	size_t i;
	int ret;

	(void)map;
	if ((ret = get_str(L, n, "mark", s->mark, sizeof(s->mark))) < 0)
		return ret;
	for (i = 0; s->mark[0] && i < c->nsteps; i++)
		if (strcmp(c->steps[i].mark, s->mark) == 0)
			return load_fail(L, n, "mark '%s' is already used by the step on line %d",
					 s->mark, c->steps[i].line);
	return 0;
}

static int key_since(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		     struct fw_step *s)
{
	size_t i;
	int ret;

	(void)map;
	if (!step_kind_is_expect(s->kind))
		return load_fail(L, n,
				 "'since' belongs to expectations (an action's clock starts with it)");
	if ((ret = get_str(L, n, "since", s->since, sizeof(s->since))) < 0)
		return ret;
	for (i = 0; i < c->nsteps && strcmp(c->steps[i].mark, s->since) != 0; i++)
		;
	if (i == c->nsteps)
		return load_fail(L, n, "no earlier step is marked '%s' (add 'mark: %s' to it)",
				 s->since, s->since);
	return 0;
}

/* count: how many matching segments the window holds ("3" or "3..5");
 * state: how many of the socket's connections are in the state */
static int key_count(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		     struct fw_step *s)
{
	bool state = s->kind == STEP_EXPECT_STATE;
	long most = state ? CASE_MAX_CONNECTIONS : 1000;
	const char *v = scalar(n);
	char *end = NULL;
	long lo = v ? strtol(v, &end, 10) : -1, hi = lo;

	(void)c;
	(void)map;
	if (end && end[0] == '.' && end[1] == '.')
		hi = strtol(end + 2, &end, 10);
	if (!v || !end || *end || lo < 0 || hi < lo || hi > most)
		return load_fail(L, n,
				 "'count' must be a number or a range like 3..5, not '%s' (at most "
				 "%ld)",
				 v ? v : "a list", most);
	*(state ? &s->nsock_min : &s->count_min) = (int)lo;
	*(state ? &s->nsock_max : &s->count_max) = (int)hi;
	return 0;
}

/* on: {from: client, flags: F.}: the action waits (within its 'within', 2 s
 * by default) until such a segment has reached its host, then runs at once. */
static int key_on(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		  struct fw_step *s)
{
	static const char *const keys[] = {"from", "flags", "has", NULL};
	static const struct keyset ks = {"trigger ('on')", keys};
	yaml_node_t *f;
	bool has;
	int ret;

	(void)c;
	(void)map;
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
	if (!s->within_ns) /* an action with no window of its own */
		s->within_ns = 2 * FW_NS_PER_SEC;
	return 0;
}

/* inject: payload: "GET / HTTP/1.0\r\n\r\n": the bytes it carries (YAML's
 * double-quoted escapes make any byte) */
static int key_payload(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		       struct fw_step *s)
{
	(void)c;
	if (map_get(L, map, "len"))
		return load_fail(L, n, "give 'payload' (the bytes) or 'len' (that many 'x'), not both");
	if (!scalar(n) || !n->data.scalar.length ||
	    n->data.scalar.length >= sizeof(s->payload))
		return load_fail(L, n, "'payload' is text of 1 to %zu bytes", sizeof(s->payload) - 1);
	memcpy(s->payload, n->data.scalar.value, n->data.scalar.length);
	s->payload_len = (uint32_t)n->data.scalar.length;
	return 0;
}

/* inject: sack: [[1001, 2001], [snd_nxt-100, snd_nxt]]: the blocks, in the
 * target's sequence space (plain numbers are relative to its ISN) */
static int key_sack(struct loader *L, struct fw_case *c, yaml_node_t *map, yaml_node_t *n,
		    struct fw_step *s)
{
	static const char usage[] =
	    "'sack' is a list of at most 4 blocks [left, right] (numbers relative to the "
	    "target's ISN, or snd_nxt+N / snd_nxt-N)";
	yaml_node_item_t *it, *e;
	int i;

	(void)c;
	(void)map;
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top - n->data.sequence.items.start > 4)
		return load_fail(L, n, "%s", usage);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *b = node_at(L, *it);

		if (!b || b->type != YAML_SEQUENCE_NODE ||
		    b->data.sequence.items.top - b->data.sequence.items.start != 2)
			return load_fail(L, b ? b : n, "%s", usage);
		for (e = b->data.sequence.items.start, i = 0; i < 2; e++, i++) {
			struct fw_expr *x = &s->sack[s->nsack][i];
			const char *v = scalar(node_at(L, *e));

			if (!v || expr_parse(v, x) < 0 || x->cmp != EXPR_EQ ||
			    (x->base != EXPR_NUMBER && x->base != EXPR_SND_NXT))
				return load_fail(L, node_at(L, *e) ? node_at(L, *e) : b, "%s", usage);
		}
		s->nsack++;
	}
	return 0;
}

#define FIELD(f) .off = offsetof(struct fw_step, f), .size = sizeof(((struct fw_step *)0)->f)
#define KEY_STRING(n, f) {.name = n, .type = KEY_TEXT, FIELD(f)}
#define KEY_NUMBER(n, f, lo, hi) {.name = n, .type = KEY_UINT, FIELD(f), .min = lo, .max = hi}
#define KEY_FLAG(n, f) {.name = n, .type = KEY_BOOL, FIELD(f)}
#define KEY_TRISTATE(n, f) {.name = n, .type = KEY_TRI, FIELD(f)}
#define KEY_TIME(n, f) {.name = n, .type = KEY_DURATION, FIELD(f)}
#define KEY_EXPRESSION(n, f) {.name = n, .type = KEY_EXPR, FIELD(f)}
#define KEY_LOADER(n, fn) {.name = n, .type = KEY_FN, .load = fn}
#define KEY_WITH_OTHER(n) {.name = n, .type = KEY_WITH}
/* In the order they are read: a key's loader may use what an earlier row set
 * (host, from and to are read first, by load_hosts). */
static const struct step_key step_keys[] = {
    KEY_WITH_OTHER("host"),
    KEY_WITH_OTHER("from"),
    KEY_WITH_OTHER("to"),
    KEY_LOADER("when", key_when),
    KEY_STRING("sock", sock),
    KEY_NUMBER("port", port, 1, 65535),
    KEY_NUMBER("from_port", from_port, 0, 65535),
    KEY_NUMBER("connections", connections, 1, CASE_MAX_CONNECTIONS),
    KEY_NUMBER("bytes", bytes, 0, 1 << 30),
    KEY_FLAG("eof", eof),
    KEY_LOADER("result", key_result),
    KEY_NUMBER("linger", linger, 0, 3600),
    KEY_TRISTATE("reuseaddr", reuseaddr),
    KEY_TRISTATE("reuseport", reuseport),
    KEY_LOADER("address", key_address),
    KEY_STRING("listener", listener),
    KEY_WITH_OTHER("opt"),   /* and value: check_setsockopt */
    KEY_WITH_OTHER("value"), /* setsockopt's, or tcp_info's range */
    KEY_STRING("proc", proc),
    KEY_LOADER("signal", key_signal),
    KEY_STRING("run", run),
    KEY_NUMBER("ready_port", port, 1, 65535),
    KEY_LOADER("status", key_status),
    KEY_STRING("output", output),
    KEY_WITH_OTHER("flags"), /* and has: check_segment, check_inject */
    KEY_WITH_OTHER("has"),
    KEY_EXPRESSION("seq", seq),
    KEY_EXPRESSION("ack", ack),
    KEY_EXPRESSION("tsval", tsval),
    KEY_EXPRESSION("tsecr", tsecr),
    KEY_EXPRESSION("isn", isn),
    KEY_LOADER("ts", key_ts),
    KEY_NUMBER("len", len, 0, 65535),
    KEY_NUMBER("win", win, 0, 65535),
    KEY_NUMBER("mss", opt_mss, 0, 65535),
    KEY_NUMBER("wscale", opt_wscale, 0, 14),
    KEY_NUMBER("sack_blocks", opt_sack_blocks, 0, 4),
    KEY_TRISTATE("sack_ok", opt_sack_ok),
    KEY_LOADER("sack", key_sack),
    KEY_LOADER("payload", key_payload),
    KEY_TRISTATE("dsack", opt_dsack),
    KEY_FLAG("arrived", arrived),
    KEY_LOADER("at", key_at), /* after arrived: they exclude each other */
    KEY_LOADER("leg", key_leg),
    KEY_LOADER("conn", key_conn), /* after arrived and at: it excludes them */
    KEY_LOADER("count", key_count),
    KEY_LOADER("state", key_state),
    KEY_LOADER("timer", key_timer),
    KEY_TIME("timer_min", timer_min_ns),
    KEY_TIME("timer_max", timer_max_ns),
    KEY_FLAG("never", never),
    KEY_STRING("counter", counter),
    KEY_WITH_OTHER("delta"), /* or delta_min: check_counter */
    KEY_WITH_OTHER("delta_min"),
    KEY_WITH_OTHER("sysctl"), /* and equals: check_sysctl */
    KEY_WITH_OTHER("equals"),
    KEY_FLAG("absent", absent),
    KEY_FLAG("gone", ct_gone),
    KEY_TIME("timeout_min", ct_timeout_min_ns),
    KEY_TIME("timeout_max", ct_timeout_max_ns),
    KEY_LOADER("message", key_message),
    KEY_WITH_OTHER("field"), /* and value: check_tcp_info */
    KEY_TIME("within", within_ns),
    KEY_TIME("for", within_ns), /* wait: its duration is its window */
    KEY_LOADER("fault", key_fault),
    KEY_LOADER("mark", key_mark),
    KEY_LOADER("since", key_since),
    KEY_FLAG("together", together),
    KEY_LOADER("on", key_on),
};
#undef FIELD
#undef KEY_STRING
#undef KEY_NUMBER
#undef KEY_FLAG
#undef KEY_TRISTATE
#undef KEY_TIME
#undef KEY_EXPRESSION
#undef KEY_LOADER
#undef KEY_WITH_OTHER
#define NKEYS (sizeof(step_keys) / sizeof(step_keys[0]))


/* Keys any step takes (any action: on, together), besides its kind's. */
static const char *const keys_every_step[] = {"do", "expect", "when", "mark", "since", NULL};
static const char *const keys_every_action[] = {"on", "together", NULL};

static void store_uint(void *field, size_t size, unsigned long v)
{
	switch (size) {
	case sizeof(uint16_t):
		*(uint16_t *)field = (uint16_t)v;
		break;
	case sizeof(uint32_t):
		*(uint32_t *)field = (uint32_t)v;
		break;
	default:
		*(uint64_t *)field = v;
		break;
	}
}

/* One key's value into its field, as its row says. */
static int load_key(struct loader *L, struct fw_case *c, yaml_node_t *map,
		    const struct step_key *k, yaml_node_t *n, struct fw_step *s)
{
	void *field = (char *)s + k->off;
	unsigned long v;
	bool b;
	int ret = 0;

	switch (k->type) {
	case KEY_TEXT:
		return get_str(L, n, k->name, field, k->size);
	case KEY_UINT:
		if ((ret = get_uint(L, n, k->name, k->max, &v)) < 0)
			return ret;
		if (v < k->min)
			return load_fail(L, n, "'%s' must be from %lu to %lu", k->name, k->min,
					 k->max);
		store_uint(field, k->size, v);
		return 0;
	case KEY_BOOL:
		return get_bool(L, n, k->name, field);
	case KEY_TRI:
		if ((ret = get_bool(L, n, k->name, &b)) == 0)
			*(int *)field = b;
		return ret;
	case KEY_DURATION:
		return get_duration(L, n, k->name, field);
	case KEY_EXPR:
		return get_expr(L, n, k->name, field);
	case KEY_FN:
		return k->load(L, c, map, n, s);
	case KEY_WITH:
		break;
	}
	return 0;
}

/* Unknown and duplicate keys, then keys that do not apply to this kind: all
 * errors, never silently ignored. */
static int check_step_keys(struct loader *L, yaml_node_t *map, struct fw_step *s, bool expect)
{
	const char *all[NKEYS + 3];
	const struct keyset ks = {"step", all};
	const struct step_kind_info *kind;
	yaml_node_pair_t *p;
	size_t i, n = 0;
	int ret;

	all[n++] = "do";
	all[n++] = "expect";
	for (i = 0; i < NKEYS; i++)
		all[n++] = step_keys[i].name;
	all[n] = NULL;
	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	if ((ret = step_kind_lookup(L, map_get(L, map, expect ? "expect" : "do"), expect,
				    &s->kind)) < 0)
		return ret;
	kind = &step_kinds[s->kind];
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(L, p->key));

		if (!key_known(keys_every_step, k) &&
		    (kind->expect || !key_known(keys_every_action, k)) && !key_known(kind->keys, k))
			return load_fail(L, node_at(L, p->key), "'%s' does not apply to %s '%s'", k,
					 kind->expect ? "expectation" : "action", kind->name);
	}
	if (kind->required && !map_get(L, map, kind->required))
		return load_fail(L, map, "%s '%s' needs '%s'",
				 kind->expect ? "expectation" : "action", kind->name,
				 kind->required);
	return 0;
}

/* host (the actor), from (a segment's sender, the same thing), to (the
 * peer: connect's server, inject's target); the peer defaults to the other
 * endpoint. */
static int load_hosts(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	const struct step_kind_info *kind = &step_kinds[s->kind];
	yaml_node_t *to = map_get(L, map, "to"), *n;
	int ret;

	s->host = kind->hosts == 1u << HOST_DUT ? HOST_DUT : HOST_CLIENT;
	if ((n = map_get(L, map, "host")) &&
	    (ret = get_host(L, n, "host", kind->hosts ? kind->hosts : HOSTS_ENDPOINTS,
			    &s->host)) < 0)
		return ret;
	/* a segment seen at the box may be the box's own */
	if ((n = map_get(L, map, "from")) &&
	    (ret = get_host(L, n, "from",
			    map_get(L, map, "at") || map_get(L, map, "conn") ? HOSTS_WITH_DUT :
									     HOSTS_ENDPOINTS,
			    &s->host)) < 0)
		return ret;
	s->peer = other_host(s->host);
	if (to && (ret = get_host(L, to, "to",
				  s->kind == STEP_CONNECT ? HOSTS_WITH_DUT : HOSTS_ENDPOINTS,
				  &s->peer)) < 0)
		return ret;
	if (s->peer == s->host)
		return load_fail(L, to, "'to' must name the other host, not %s",
				 fw_host_name(s->host));
	if ((s->host == HOST_DUT || (to && s->peer == HOST_DUT)) && !c->dut.present)
		return load_fail(
		    L, map, "this step names the device under test, but the case has no 'dut:'");
	return 0;
}

int load_step(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	static const struct keyset mapping = {"step", keys_every_step};
	const struct step_kind_info *kind;
	yaml_node_t *n;
	bool expect;
	size_t i;
	int ret;

	memset(s, 0, sizeof(*s));
	if (map->type != YAML_MAPPING_NODE)
		return check_keys(L, map, &mapping); /* says a step is a mapping */
	s->line = (int)map->start_mark.line + 1;
	expect = map_get(L, map, "expect") != NULL;
	if (expect && map_get(L, map, "do"))
		return load_fail(L, map, "a step has either 'do' or 'expect', not both");
	if (!expect && !map_get(L, map, "do"))
		return load_fail(L, map, "a step needs 'do: <action>' or 'expect: <expectation>'");
	if ((ret = check_step_keys(L, map, s, expect)) < 0)
		return ret;
	kind = &step_kinds[s->kind];
	s->fault = -1;
	s->within_ns = kind->within;
	strcpy(s->sock, s->kind == STEP_LISTEN ? "listen" : "conn");
	kind->init(s);
	if ((ret = load_hosts(L, c, map, s)) < 0)
		return ret;
	for (i = 0; i < NKEYS; i++)
		if ((n = map_get(L, map, step_keys[i].name)) &&
		    (ret = load_key(L, c, map, &step_keys[i], n, s)) < 0)
			return ret;
	if (kind->check && (ret = kind->check(L, c, map, s)) < 0)
		return ret;
	if ((ret = check_group_use(L, c, map, s)) < 0)
		return ret;
	step_describe(c, s);
	return 0;
}
