/* case_fault: faults, sysctl blocks and matrix rows. */
#include "case_int.h"

/* ---- faults --------------------------------------------------------------- */

static const char *const fault_keys[] = {"name",  "from", "flags", "has",    "payload",	 "seq",
					 "state", "nth",  "count", "action", "delay",	 "until",
					 "max",	  "gap",  "set",   "armed",  "optional", "when", "leg",
					 "connection", "every", NULL};

/* Keys that belong to one action only: given with another, they are errors. */
static const struct {
	const char *key;
	enum fault_action action;
	enum fault_action also; /* a second action it applies to, or the same */
} fault_action_keys[] = {
    {"delay", FAULT_DELAY, FAULT_DELAY},   {"until", FAULT_HOLD, FAULT_HOLD},
    {"max", FAULT_HOLD, FAULT_REORDER},	   {"gap", FAULT_DUPLICATE, FAULT_DUPLICATE},
    {"set", FAULT_REWRITE, FAULT_REWRITE},
};

/* A hold or reorder that nothing releases still lets go after this long. */
#define CASE_DEFAULT_HOLD_MAX_NS (5 * FW_NS_PER_SEC)

static const struct {
	const char *name;
	enum fault_payload value;
} payload_names[] = {
    {"any", FAULT_PAYLOAD_ANY}, {"none", FAULT_PAYLOAD_NONE}, {"some", FAULT_PAYLOAD_SOME}};

/* A signed offset "+1000" / "-1" (added modulo 2^32), or 0. */
static int get_delta(struct loader *L, yaml_node_t *map, const char *key, int64_t *out)
{
	yaml_node_t *n = map_get(L, map, key);
	const char *s = scalar(n);
	int64_t v;

	*out = 0;
	if (!n)
		return 0;
	if (!s || (s[0] != '+' && s[0] != '-') || expr_number(s + 1, &v) < 0)
		return load_fail(L, n,
				 "'%s' of a rewrite is an offset such as +1000 or -1, not '%s'",
				 key, s ? s : "a list");
	*out = s[0] == '-' ? -v : v;
	return 0;
}

/* set: {flags: R., seq: +1000, ack: -1, win: 0, tsval: +100, tsecr: -1} */
static int load_rewrite(struct loader *L, yaml_node_t *map, struct fault_rewrite *rw)
{
	static const char *const keys[] = {"flags", "seq", "ack", "win", "tsval", "tsecr", NULL};
	static const struct keyset ks = {"rewrite", keys};
	yaml_node_t *n;
	unsigned long v;
	int ret;

	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	if (map->data.mapping.pairs.top == map->data.mapping.pairs.start)
		return load_fail(
		    L, map, "'set' must change at least one of flags, seq, ack, win, tsval, tsecr");
	if ((n = map_get(L, map, "flags"))) {
		if (!scalar(n) || seg_flags_parse(scalar(n), &rw->flags) < 0)
			return load_fail(
			    L, n, "bad TCP flags '%s' (tcpdump notation: S, S., F., R, R., .)",
			    scalar(n) ? scalar(n) : "?");
		rw->set_flags = true;
	}
	if ((n = map_get(L, map, "win"))) {
		if ((ret = get_uint(L, n, "win", 65535, &v)) < 0)
			return ret;
		rw->set_win = true;
		rw->win = (uint16_t)v;
	}
	if ((ret = get_delta(L, map, "seq", &rw->seq_delta)) < 0 ||
	    (ret = get_delta(L, map, "ack", &rw->ack_delta)) < 0 ||
	    (ret = get_delta(L, map, "tsval", &rw->tsval_delta)) < 0 ||
	    (ret = get_delta(L, map, "tsecr", &rw->tsecr_delta)) < 0)
		return ret;
	return 0;
}

/* until: step | {from: server, flags: F.} | {host: client, state: TIME_WAIT} */
static int load_until(struct loader *L, yaml_node_t *n, struct fault_rule *f)
{
	static const char *const keys[] = {"from", "flags", "has", "host", "state", NULL};
	static const struct keyset ks = {"until", keys};
	yaml_node_t *k;
	bool has;
	int ret;

	if (scalar(n)) {
		if (strcmp(scalar(n), "step") != 0)
			return load_fail(
			    L, n,
			    "'until' is step, {from: HOST, flags: F.} (a segment crossed the wire) "
			    "or {host: HOST, state: STATE}, not '%s'",
			    scalar(n));
		f->until = FAULT_UNTIL_STEP;
		return 0;
	}
	if ((ret = check_keys(L, n, &ks)) < 0)
		return ret;
	if ((k = map_get(L, n, "state"))) {
		if (map_get(L, n, "from") || map_get(L, n, "flags") || map_get(L, n, "has"))
			return load_fail(L, n,
					 "'until' waits either for a segment (from, flags) or for "
					 "a state (host, state), not both");
		f->until = FAULT_UNTIL_STATE;
		f->until_state = scalar(k) ? tcp_state_parse(scalar(k)) : -1;
		if (f->until_state <= 0)
			return load_fail(L, k, "unknown TCP state '%s'",
					 scalar(k) ? scalar(k) : "?");
		if (!(k = map_get(L, n, "host")))
			return load_fail(
			    L, n, "'until' a state needs the 'host' whose socket reaches it");
		return get_host(L, k, "host", HOSTS_ENDPOINTS, &f->until_host);
	}
	if (map_get(L, n, "host"))
		return load_fail(L, map_get(L, n, "host"),
				 "'until' a segment names its sender with 'from', not 'host'");
	if (!(k = map_get(L, n, "from")))
		return load_fail(L, n, "'until' a segment needs 'from' (its sender)");
	f->until = FAULT_UNTIL_SEGMENT;
	if ((ret = get_host(L, k, "from", HOSTS_ENDPOINTS, &f->until_host)) < 0)
		return ret;
	return get_flags(L, n, false, &has, &f->until_mask, &f->until_value);
}

/* name: unique and not empty; from: the host whose segments it breaks */
static int load_fault_name(struct loader *L, struct fw_case *c, yaml_node_t *map,
			   struct fault_rule *f)
{
	yaml_node_t *n = map_get(L, map, "name");
	int ret;

	if (!n)
		return load_fail(L, map, "a fault needs a 'name'");
	if ((ret = get_str(L, n, "name", f->name, sizeof(f->name))) < 0)
		return ret;
	if (!f->name[0])
		return load_fail(
		    L, n, "a fault's 'name' may not be empty (steps and the timeline refer to it)");
	if (fault_index(c->faults, c->nfaults, f->name) >= 0)
		return load_fail(L, n, "a fault named '%s' is already declared", f->name);
	if (!(n = map_get(L, map, "from")))
		return load_fail(
		    L, map, "fault '%s' needs 'from' (the host whose segments it breaks)", f->name);
	return get_host(L, n, "from", HOSTS_ENDPOINTS, &f->from);
}

/* action, and which keys it takes (silence: the host vanished; every
 * segment it sends is dropped, so it takes no selectors) */
static int load_fault_action(struct loader *L, yaml_node_t *map, struct fault_rule *f,
			     bool *silence)
{
	static const char *const selectors[] = {"flags", "has", "payload", "seq",
						"state", "nth",	"count",   "connection", "every", NULL};
	yaml_node_t *an = map_get(L, map, "action"), *n;
	size_t i;
	int a;

	if (!an)
		return load_fail(L, map,
				 "fault '%s' needs an 'action' (drop, delay, hold, reorder, "
				 "duplicate, rewrite, silence, pass)",
				 f->name);
	*silence = scalar(an) && strcmp(scalar(an), "silence") == 0;
	a = *silence ? FAULT_DROP : fault_action_parse(scalar(an));
	if (a < 0)
		return load_fail(L, an,
				 "unknown action '%s' (expected drop, delay, hold, reorder, "
				 "duplicate, rewrite, silence, pass)",
				 scalar(an) ? scalar(an) : "?");
	f->action = (enum fault_action)a;
	for (i = 0; *silence && selectors[i]; i++)
		if ((n = map_get(L, map, selectors[i])))
			return load_fail(L, n,
					 "'%s' does not apply to 'silence' (it drops every segment "
					 "the host sends)",
					 selectors[i]);
	for (i = 0; i < sizeof(fault_action_keys) / sizeof(fault_action_keys[0]); i++) {
		n = map_get(L, map, fault_action_keys[i].key);
		if (n && (*silence || (f->action != fault_action_keys[i].action &&
				       f->action != fault_action_keys[i].also)))
			return load_fail(L, n, "'%s' does not apply to action '%s'",
					 fault_action_keys[i].key, scalar(an));
	}
	return 0;
}

/* connection: K (only the K-th connection the case opens) or every: K (the
 * K-th, 2K-th, ...): numbered from 1 in the order connect steps open them. */
static int load_fault_connection(struct loader *L, yaml_node_t *map, struct fault_rule *f)
{
	yaml_node_t *cn = map_get(L, map, "connection"), *en = map_get(L, map, "every");
	unsigned long v;
	int ret;

	if (cn && en)
		return load_fail(L, en,
				 "give 'connection' (one connection) or 'every' (every K-th), not "
				 "both");
	if ((ret = opt_uint(L, map, cn ? "connection" : "every", 1, CASE_MAX_CONNECTIONS, &v)) < 0)
		return ret;
	if (cn)
		f->conn_nth = (unsigned)v;
	else if (en)
		f->conn_every = (unsigned)v;
	return 0;
}

/* Which segments it takes: flags/has, payload, seq, the sender's state, and
 * the nth matching one onwards, count of them. */
static int load_fault_selectors(struct loader *L, yaml_node_t *map, struct fault_rule *f,
				bool silence)
{
	yaml_node_t *n;
	unsigned long v;
	bool has;
	size_t i;
	int ret;

	if ((ret = get_flags(L, map, false, &has, &f->flags_mask, &f->flags_value)) < 0)
		return ret;
	f->payload = FAULT_PAYLOAD_ANY;
	if ((n = map_get(L, map, "payload"))) {
		const char *s = scalar(n);

		for (i = 0; i < sizeof(payload_names) / sizeof(payload_names[0]); i++)
			if (s && strcmp(s, payload_names[i].name) == 0)
				break;
		if (i == sizeof(payload_names) / sizeof(payload_names[0]))
			return load_fail(L, n, "unknown payload '%s' (expected any, none, some)",
					 s ? s : "?");
		f->payload = payload_names[i].value;
	}
	if ((ret = opt_uint(L, map, "seq", 0, 0xffffffffUL, &v)) < 0)
		return ret;
	f->match_seq = ret == 1;
	f->seq = f->match_seq ? (uint32_t)v : 0;
	if ((n = map_get(L, map, "state"))) {
		f->state = scalar(n) ? tcp_state_parse(scalar(n)) : -1;
		if (f->state <= 0)
			return load_fail(L, n, "unknown TCP state '%s' for the sending socket",
					 scalar(n) ? scalar(n) : "?");
	}
	f->nth = 1;
	if ((ret = opt_uint(L, map, "nth", 0, 1000000, &v)) < 0)
		return ret;
	if (ret && v == 0)
		return load_fail(L, map_get(L, map, "nth"),
				 "'nth' counts from 1 (the first matching segment)");
	if (ret)
		f->nth = (unsigned)v;
	v = silence ? 0 : 1;
	if ((ret = opt_uint(L, map, "count", 0, 1000000, &v)) < 0)
		return ret;
	f->count = (unsigned)v;
	return load_fault_connection(L, map, f);
}

/* What the action itself needs: delay's duration, hold's until, rewrite's
 * set, duplicate's gap, and how long hold/reorder may keep a segment. */
static int load_fault_action_keys(struct loader *L, yaml_node_t *map, struct fault_rule *f)
{
	yaml_node_t *n;
	int ret = 0;

	switch (f->action) {
	case FAULT_DELAY:
		if (!(n = map_get(L, map, "delay")))
			return load_fail(L, map,
					 "fault '%s': action 'delay' needs 'delay: <duration>'",
					 f->name);
		ret = get_duration(L, n, "delay", &f->delay_ns);
		break;
	case FAULT_HOLD:
		if (!(n = map_get(L, map, "until")))
			return load_fail(L, map,
					 "fault '%s': action 'hold' needs 'until' (step, {from: "
					 "HOST, flags: F.} or {host: HOST, state: STATE})",
					 f->name);
		ret = load_until(L, n, f);
		break;
	case FAULT_DUPLICATE:
		ret = opt_duration(L, map, "gap", &f->delay_ns);
		break;
	case FAULT_REWRITE:
		if (!(n = map_get(L, map, "set")))
			return load_fail(L, map,
					 "fault '%s': action 'rewrite' needs 'set: {flags, seq, "
					 "ack, win, tsval, tsecr}'",
					 f->name);
		ret = load_rewrite(L, n, &f->rewrite);
		break;
	case FAULT_REORDER:
	case FAULT_PASS:
	case FAULT_DROP:
		break;
	}
	if (ret < 0)
		return ret;
	if (f->action == FAULT_HOLD || f->action == FAULT_REORDER) {
		f->max_ns = CASE_DEFAULT_HOLD_MAX_NS;
		if ((ret = opt_duration(L, map, "max", &f->max_ns)) < 0)
			return ret;
	}
	return 0;
}

/* leg: the wire before the box (wire-a, the default) or after it (wire-b);
 * only a case with a box has two. */
static int load_fault_leg(struct loader *L, const struct fw_case *c, yaml_node_t *map,
			  struct fault_rule *f)
{
	yaml_node_t *n = map_get(L, map, "leg");
	int leg;

	if (!n)
		return 0;
	if (!c->dut.present)
		return load_fail(L, n,
				 "fault '%s': 'leg' names a side of a device under test, and this "
				 "case has no 'dut:' (its one wire is where every fault acts)",
				 f->name);
	leg = fault_leg_parse(scalar(n));
	if (leg < 0)
		return load_fail(L, n,
				 "fault '%s': leg '%s': say wire-a (client to box) or wire-b (box to "
				 "server)",
				 f->name, scalar(n) ? scalar(n) : "a list");
	f->leg = (enum fault_leg)leg;
	return 0;
}

int load_fault(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fault_rule *f)
{
	static const struct keyset ks = {"fault", fault_keys};
	yaml_node_t *n;
	bool silence = false;
	int ret;

	memset(f, 0, sizeof(*f));
	f->armed = true;
	if ((ret = check_keys(L, map, &ks)) < 0 || (ret = load_fault_name(L, c, map, f)) < 0 ||
	    (ret = load_fault_leg(L, c, map, f)) < 0 ||
	    (ret = load_fault_action(L, map, f, &silence)) < 0 ||
	    (ret = load_fault_selectors(L, map, f, silence)) < 0 ||
	    (ret = load_fault_action_keys(L, map, f)) < 0 ||
	    (ret = opt_bool(L, map, "armed", &f->armed)) < 0 ||
	    (ret = opt_bool(L, map, "optional", &f->optional)) < 0)
		return ret;
	if ((n = map_get(L, map, "when")) && (ret = load_when(L, c, n, &f->when)) < 0)
		return ret;
	return 0;
}

/* ---- sysctls: "sysctl: {server: {net.ipv4.tcp_rfc1337: 1}}" ------------ */

int load_sysctls(struct loader *L, struct fw_sysctl **arr, size_t *count, yaml_node_t *top)
{
	static const char *const host_keys[] = {"client", "server", "wire", "dut", NULL};
	static const struct keyset ks = {"sysctl block", host_keys};
	yaml_node_pair_t *hp, *p;
	int ret;

	if ((ret = check_keys(L, top, &ks)) < 0)
		return ret;
	for (hp = top->data.mapping.pairs.start; hp < top->data.mapping.pairs.top; hp++) {
		yaml_node_t *hmap = node_at(L, hp->value);
		enum fw_host host;

		fw_host_parse(scalar(node_at(L, hp->key)), &host);
		if (hmap->type != YAML_MAPPING_NODE)
			return load_fail(L, hmap, "sysctls of %s must be a mapping of name: value",
					 fw_host_name(host));
		for (p = hmap->data.mapping.pairs.start; p < hmap->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = node_at(L, p->key), *vn = node_at(L, p->value);
			struct fw_sysctl *s, *grown;
			const char *name = scalar(kn);

			/* Only net.* sysctls are per network namespace: anything else
			 * written from inside a case would change the host itself. */
			if (!name || strncmp(name, "net.", 4) != 0 || strstr(name, "..") ||
			    strchr(name, '/'))
				return load_fail(L, kn,
						 "sysctl '%s' is not a net.* name (only "
						 "per-namespace net.* sysctls can be set)",
						 name ? name : "?");
			for (size_t k = 0; k < *count; k++)
				if ((*arr)[k].host == host && strcmp((*arr)[k].name, name) == 0)
					return load_fail(L, kn, "sysctl '%s' is set twice for %s",
							 name, fw_host_name(host));
			grown = realloc(*arr, (*count + 1) * sizeof(*grown));
			if (!grown)
				return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
			*arr = grown;
			s = &(*arr)[(*count)++];
			memset(s, 0, sizeof(*s));
			s->host = host;
			s->line = (int)kn->start_mark.line + 1;
			if ((ret = get_str(L, kn, "sysctl name", s->name, sizeof(s->name))) < 0 ||
			    (ret = get_str(L, vn, name, s->value, sizeof(s->value))) < 0)
				return ret;
		}
	}
	return 0;
}

/* ---- matrix: rows of sysctls, each a run of its own ----------------------- */

/* "tcp_rfc1337=1" from net.ipv4.tcp_rfc1337: 1; several joined with ",";
 * the host goes in front when a name is set for two hosts in one row. */
static int row_default_name(struct fw_matrix_row *r)
{
	size_t i, k, used = 0;

	r->name[0] = '\0';
	for (i = 0; i < r->nsysctls; i++) {
		const char *dot = strrchr(r->sysctls[i].name, '.');
		bool twice = false;
		int n;

		for (k = 0; k < r->nsysctls; k++)
			if (k != i && strcmp(r->sysctls[k].name, r->sysctls[i].name) == 0)
				twice = true;
		n = snprintf(r->name + used, sizeof(r->name) - used, "%s%s%s%s=%s", used ? "," : "",
			     twice ? fw_host_name(r->sysctls[i].host) : "", twice ? "." : "",
			     dot ? dot + 1 : r->sysctls[i].name, r->sysctls[i].value);
		if (n < 0 || (size_t)n >= sizeof(r->name) - used)
			return -1; /* does not fit: the row needs a name of its own */
		used += (size_t)n;
	}
	return 0;
}

int load_matrix(struct loader *L, struct fw_case *c, yaml_node_t *n)
{
	static const char *const row_keys[] = {"name", "sysctl", NULL};
	static const struct keyset ks = {"matrix row", row_keys};
	yaml_node_item_t *it;
	size_t i;
	int ret;

	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return load_fail(
		    L, n, "'matrix' must be a list of rows, each {sysctl: {HOST: {NAME: VALUE}}}");
	if (n->data.sequence.items.top - n->data.sequence.items.start > CASE_MAX_ROWS)
		return load_fail(L, n, "'matrix' has more than %d rows", CASE_MAX_ROWS);
	c->rows = calloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start),
			 sizeof(*c->rows));
	if (!c->rows)
		return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *row = node_at(L, *it), *k;
		struct fw_matrix_row *r = &c->rows[c->nrows];

		if ((ret = check_keys(L, row, &ks)) < 0)
			return ret;
		r->line = (int)row->start_mark.line + 1;
		c->nrows++;
		if (!(k = map_get(L, row, "sysctl")))
			return load_fail(L, row,
					 "a matrix row needs 'sysctl' (what this row changes)");
		if ((ret = load_sysctls(L, &r->sysctls, &r->nsysctls, k)) < 0)
			return ret;
		if (!r->nsysctls)
			return load_fail(L, k, "a matrix row must set at least one sysctl");
		if (!map_get(L, row, "name") && row_default_name(r) < 0)
			return load_fail(L, row,
					 "this row's sysctls make a name longer than %zu "
					 "characters: give the row a 'name'",
					 sizeof(r->name) - 1);
		if ((k = map_get(L, row, "name")) &&
		    (ret = get_str(L, k, "name", r->name, sizeof(r->name))) < 0)
			return ret;
		if (strpbrk(r->name, "[]/ ") || !r->name[0])
			return load_fail(
			    L, k ? k : row,
			    "row name '%s' may not be empty or contain [ ] / or spaces", r->name);
		for (i = 0; i + 1 < c->nrows; i++)
			if (strcmp(c->rows[i].name, r->name) == 0)
				return load_fail(
				    L, k ? k : row,
				    "two matrix rows are named '%s' (give one a 'name')", r->name);
	}
	return 0;
}

static int row_index(const struct fw_case *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nrows; i++)
		if (strcmp(c->rows[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* when: tcp_rfc1337=1  |  when: [a, b] */
int load_when(struct loader *L, const struct fw_case *c, yaml_node_t *n, uint32_t *out)
{
	yaml_node_item_t *it;
	int r;

	*out = 0;
	if (!c->nrows)
		return load_fail(L, n, "'when' names matrix rows, and this case has no 'matrix'");
	if (scalar(n)) {
		if ((r = row_index(c, scalar(n))) < 0)
			return load_fail(L, n, "no matrix row is named '%s'", scalar(n));
		*out = 1u << r;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return load_fail(L, n, "'when' is a row name or a list of row names");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = node_at(L, *it);

		if (!scalar(e) || (r = row_index(c, scalar(e))) < 0)
			return load_fail(L, e, "no matrix row is named '%s'",
					 scalar(e) ? scalar(e) : "?");
		*out |= 1u << r;
	}
	return 0;
}
