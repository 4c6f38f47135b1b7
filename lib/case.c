/* case: load and validate a case file. See case.h for the why of libyaml. */
#include "case.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "conntrack.h"
#include "sockprobe.h"
#include "util.h"

struct loader {
	const char *label; /* path shown in messages */
	yaml_document_t doc;
	char *err;
	size_t errlen;
};

/* Every error goes through here: "label:line:col: message", -EINVAL. */
static int fail(struct loader *L, const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct loader *L, const yaml_node_t *node, const char *fmt, ...)
{
	char msg[FW_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node)
		return fw_err(L->err, L->errlen, -EINVAL, "%s:%zu:%zu: %s", L->label,
			      node->start_mark.line + 1, node->start_mark.column + 1, msg);
	/* No node (an empty file): point at its start, so every message keeps
	 * the "path:line:col: " form case.h promises and editors can jump to. */
	return fw_err(L->err, L->errlen, -EINVAL, "%s:1:1: %s", L->label, msg);
}

static yaml_node_t *node_at(struct loader *L, int id)
{
	return yaml_document_get_node(&L->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* ---- key tables ------------------------------------------------------- */

struct keyset {
	const char *what; /* "case", "fault", "step" */
	const char *const *keys;
};

static void keys_join(const char *const *keys, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; *keys && used < len; keys++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *keys);
}

static bool key_known(const char *const *keys, const char *k)
{
	for (; *keys; keys++)
		if (strcmp(*keys, k) == 0)
			return true;
	return false;
}

/* Reject keys outside the set and duplicate keys. */
static int check_keys(struct loader *L, yaml_node_t *map, const struct keyset *ks)
{
	yaml_node_pair_t *p, *q;
	char list[400];

	if (!map || map->type != YAML_MAPPING_NODE)
		return fail(L, map, "a %s must be a mapping of key: value", ks->what);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(L, p->key);
		const char *k = scalar(kn);

		if (!k)
			return fail(L, kn, "%s keys must be plain words", ks->what);
		if (!key_known(ks->keys, k)) {
			keys_join(ks->keys, list, sizeof(list));
			return fail(L, kn, "unknown %s key '%s' (expected %s)", ks->what, k, list);
		}
		for (q = map->data.mapping.pairs.start; q < p; q++)
			if (strcmp(scalar(node_at(L, q->key)), k) == 0)
				return fail(L, kn, "duplicate key '%s'", k);
	}
	return 0;
}

static yaml_node_t *map_get(struct loader *L, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(L, p->key));

		if (k && strcmp(k, key) == 0)
			return node_at(L, p->value);
	}
	return NULL;
}

/* ---- scalar converters (each names the key in its message) ----------- */

static int get_str(struct loader *L, yaml_node_t *n, const char *key, char *out, size_t len)
{
	const char *s = scalar(n);

	if (!s)
		return fail(L, n, "'%s' must be a single value, not a list or mapping", key);
	if (strlen(s) >= len)
		return fail(L, n, "'%s' is too long (at most %zu characters)", key, len - 1);
	strcpy(out, s);
	return 0;
}

static int get_uint(struct loader *L, yaml_node_t *n, const char *key, unsigned long max,
		    unsigned long *out)
{
	const char *s = scalar(n);
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return fail(L, n, "'%s' must be a number from 0 to %lu", key, max);
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return fail(L, n, "'%s' must be a number from 0 to %lu, not '%s'", key, max, s);
	*out = v;
	return 0;
}

static int get_bool(struct loader *L, yaml_node_t *n, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	const char *s = scalar(n);

	if (s && key_known(yes, s)) {
		*out = true;
		return 0;
	}
	if (s && key_known(no, s)) {
		*out = false;
		return 0;
	}
	return fail(L, n, "'%s' must be true or false", key);
}

static int get_duration(struct loader *L, yaml_node_t *n, const char *key, int64_t *out)
{
	const char *s = scalar(n);

	if (!s || fw_duration_parse(s, out) < 0)
		return fail(L, n, "'%s' must be a duration such as 200ms or 2s, not '%s'", key,
			    s ? s : "a list");
	return 0;
}

#define HOSTS_ENDPOINTS ((1u << HOST_CLIENT) | (1u << HOST_SERVER))
#define HOSTS_WITH_DUT (HOSTS_ENDPOINTS | (1u << HOST_DUT))

/* A host name among those allowed (bit i = enum fw_host i). */
static int get_host(struct loader *L, yaml_node_t *n, const char *key, unsigned allowed,
		    enum fw_host *out)
{
	const char *s = scalar(n);
	char names[64] = "";
	size_t used = 0;
	int h;

	if (s && fw_host_parse(s, out) == 0 && (allowed & (1u << *out)))
		return 0;
	for (h = 0; h < HOST_COUNT; h++)
		if (allowed & (1u << h))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 used ? ", " : "", fw_host_name((enum fw_host)h));
	return fail(L, n, "unknown host '%s' in '%s' (expected %s)", s ? s : "?", key, names);
}

/* flags: exact set "F."; has: at least these "F". */
static int get_flags(struct loader *L, yaml_node_t *map, bool required, bool *has,
		     uint8_t *mask, uint8_t *value)
{
	yaml_node_t *exact = map_get(L, map, "flags"), *some = map_get(L, map, "has");
	uint8_t f;

	*has = false;
	if (exact && some)
		return fail(L, some, "give either 'flags' (the exact set) or 'has' (flags that must be set), not both");
	if (!exact && !some) {
		if (required)
			return fail(L, map, "missing 'flags' (tcpdump notation: S, S., F., R, ., P.)");
		return 0;
	}
	if (!scalar(exact ? exact : some) || seg_flags_parse(scalar(exact ? exact : some), &f) < 0)
		return fail(L, exact ? exact : some,
			    "bad TCP flags '%s' (tcpdump notation: letters F S R P U E W, then '.' for ACK; 'none' for no flags)",
			    scalar(exact ? exact : some) ? scalar(exact ? exact : some) : "?");
	*has = true;
	*mask = exact ? 0xff : f;
	*value = f;
	return 0;
}

/* ---- expressions ------------------------------------------------------ */

static const struct {
	const char *name;
	enum expr_base base;
} expr_bases[] = {
	{ "prev_snd_nxt", EXPR_PREV_SND_NXT },
	{ "prev_rcv_nxt", EXPR_PREV_RCV_NXT },
	{ "rcv_wnd_end", EXPR_RCV_WND_END },
	{ "rcv_nxt", EXPR_RCV_NXT },
	{ "snd_nxt", EXPR_SND_NXT },
	{ "tsval", EXPR_TSVAL },
	{ "tsecr", EXPR_TSECR },
};

static int expr_number(const char *s, int64_t *out)
{
	char *end;
	unsigned long long v;

	while (*s == ' ')
		s++;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	if (*end == '^') { /* 2^30 */
		char *end2;
		unsigned long e = strtoul(end + 1, &end2, 10);

		if (v != 2 || e > 32 || end2 == end + 1)
			return -EINVAL;
		v = 1ULL << e;
		end = end2;
	}
	while (*end == ' ')
		end++;
	if (*end || v > 0xffffffffULL)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

int expr_parse(const char *s, struct fw_expr *out)
{
	size_t i, n;
	int64_t v;

	memset(out, 0, sizeof(*out));
	while (*s == ' ')
		s++;
	for (i = 0; i < sizeof(expr_bases) / sizeof(expr_bases[0]); i++) {
		n = strlen(expr_bases[i].name);
		if (strncmp(s, expr_bases[i].name, n) != 0)
			continue;
		s += n;
		while (*s == ' ')
			s++;
		out->base = expr_bases[i].base;
		out->set = true;
		if (!*s)
			return 0;
		if ((*s != '+' && *s != '-') || expr_number(s + 1, &v) < 0)
			return -EINVAL;
		out->offset = *s == '-' ? -v : v;
		return 0;
	}
	if (expr_number(s, &v) < 0)
		return -EINVAL;
	out->set = true;
	out->base = EXPR_NUMBER;
	out->offset = v;
	return 0;
}

static int get_expr(struct loader *L, yaml_node_t *map, const char *key, struct fw_expr *out)
{
	yaml_node_t *n = map_get(L, map, key);

	out->set = false;
	if (!n)
		return 0;
	if (!scalar(n) || expr_parse(scalar(n), out) < 0)
		return fail(L, n,
			    "bad value '%s' for '%s' (a number, or rcv_nxt, rcv_wnd_end, snd_nxt, tsval, tsecr, prev_snd_nxt, prev_rcv_nxt with an optional +N / -N)",
			    scalar(n) ? scalar(n) : "?", key);
	return 0;
}

static int fault_index(const struct fault_rule *rules, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(rules[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- steps -------------------------------------------------------------- */

static const char *const step_names[STEP_KIND_COUNT] = {
	[STEP_LISTEN] = "listen",	[STEP_CONNECT] = "connect",
	[STEP_ACCEPT] = "accept",	[STEP_SEND] = "send",
	[STEP_RECV] = "recv",		[STEP_SHUTDOWN] = "shutdown",
	[STEP_CLOSE] = "close",		[STEP_SETSOCKOPT] = "setsockopt",
	[STEP_INJECT] = "inject",	[STEP_ARM] = "arm",
	[STEP_DISARM] = "disarm",	[STEP_RELEASE] = "release",
	[STEP_FORK] = "fork",		[STEP_KILL] = "kill", [STEP_WAIT] = "wait",
	[STEP_START] = "start",
	[STEP_EXPECT_SEGMENT] = "segment",
	[STEP_EXPECT_NO_SEGMENT] = "no_segment", [STEP_EXPECT_STATE] = "state",
	[STEP_EXPECT_GONE] = "gone", [STEP_EXPECT_COUNTER] = "counter",
	[STEP_EXPECT_SYSCTL] = "sysctl", [STEP_EXPECT_CONNTRACK] = "conntrack",
	[STEP_EXPECT_EXIT] = "exit",
};

const char *step_kind_name(enum step_kind k)
{
	return k < STEP_KIND_COUNT ? step_names[k] : "?";
}

bool step_kind_is_expect(enum step_kind k)
{
	return k >= STEP_EXPECT_SEGMENT;
}

/* Which keys each step kind accepts, besides do/expect. One table, so the
 * validator, the error messages and docs/case-file.md agree. */
static const struct {
	const char *const keys[20];
	const char *required; /* one key that must be present, or NULL */
	int64_t default_within_ns;
} step_rules[STEP_KIND_COUNT] = {
	[STEP_LISTEN] = { { "host", "sock", "port", "reuseaddr", "reuseport", "result", NULL },
			  "port", 0 },
	[STEP_CONNECT] = { { "host", "to", "sock", "port", "from_port", "reuseaddr", "reuseport", "linger",
			     "result", "within", NULL }, "port", 2 * FW_NS_PER_SEC },
	[STEP_ACCEPT] = { { "host", "sock", "result", "within", NULL }, NULL, 2 * FW_NS_PER_SEC },
	[STEP_SEND] = { { "host", "sock", "bytes", "result", NULL }, "bytes", 0 },
	[STEP_RECV] = { { "host", "sock", "bytes", "eof", "result", "within", NULL }, NULL,
			2 * FW_NS_PER_SEC },
	[STEP_SHUTDOWN] = { { "host", "sock", "result", NULL }, NULL, 0 },
	[STEP_CLOSE] = { { "host", "sock", "result", NULL }, NULL, 0 },
	[STEP_SETSOCKOPT] = { { "host", "sock", "linger", "reuseaddr", "opt", "value", "result",
				NULL }, NULL, 0 },
	[STEP_INJECT] = { { "from", "to", "flags", "seq", "ack", "win", "ts", "tsval", "tsecr",
			    "len", NULL }, "flags", 0 },
	[STEP_ARM] = { { "fault", NULL }, "fault", 0 },
	[STEP_DISARM] = { { "fault", NULL }, "fault", 0 },
	[STEP_RELEASE] = { { "fault", NULL }, "fault", 0 },
	[STEP_FORK] = { { "host", "proc", "result", NULL }, "proc", 0 },
	[STEP_KILL] = { { "proc", "signal", "result", "within", NULL }, "proc", 2 * FW_NS_PER_SEC },
	[STEP_WAIT] = { { "for", NULL }, "for", 0 },
	[STEP_START] = { { "host", "proc", "run", "ready_port", "result", "within", NULL }, "run",
			 5 * FW_NS_PER_SEC },
	[STEP_EXPECT_SEGMENT] = { { "from", "flags", "has", "seq", "ack", "len", "win", "mss",
				    "wscale", "sack_ok", "ts", "dsack", "sack_blocks", "arrived",
				    "count", "isn", "within", NULL },
				  "from", FW_NS_PER_SEC },
	[STEP_EXPECT_NO_SEGMENT] = { { "from", "flags", "has", "arrived", "within", NULL }, "within", 0 },
	[STEP_EXPECT_STATE] = { { "host", "sock", "port", "state", "timer", "timer_min", "timer_max",
				  "within", NULL }, "state", 2 * FW_NS_PER_SEC },
	[STEP_EXPECT_GONE] = { { "host", "sock", "port", "within", NULL }, NULL, 2 * FW_NS_PER_SEC },
	[STEP_EXPECT_COUNTER] = { { "host", "counter", "delta", "delta_min", "within", NULL },
				  "counter", FW_NS_PER_SEC },
	[STEP_EXPECT_SYSCTL] = { { "host", "sysctl", "equals", "absent", NULL }, "sysctl", 0 },
	[STEP_EXPECT_CONNTRACK] = { { "host", "state", "gone", "status", "timeout_min",
				      "timeout_max", "within", NULL }, NULL, FW_NS_PER_SEC },
	[STEP_EXPECT_EXIT] = { { "proc", "status", "signal", "output", "within", NULL }, "proc",
			       2 * FW_NS_PER_SEC },
};

static int step_kind_lookup(struct loader *L, yaml_node_t *n, bool expect, enum step_kind *out)
{
	const char *s = scalar(n);
	char list[200];
	size_t used = 0;
	int k;

	for (k = 0; k < STEP_KIND_COUNT; k++) {
		if (step_kind_is_expect(k) != expect)
			continue;
		if (s && strcmp(s, step_names[k]) == 0) {
			*out = k;
			return 0;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
					 step_names[k]);
	}
	return fail(L, n, "unknown %s '%s' (expected %s)", expect ? "expectation" : "action",
		    s ? s : "?", list);
}

static const char *const step_all_keys[] = {
	"do", "expect", "host", "from", "to", "sock", "port", "from_port", "bytes", "eof",
	"result", "linger", "reuseaddr", "flags", "has", "seq", "ack", "win", "ts", "tsval",
	"tsecr", "len", "state", "timer", "timer_min", "timer_max", "within", "fault", "opt",
	"value", "proc", "signal", "when", "counter", "delta", "delta_min", "reuseport", "sysctl",
	"equals", "absent", "arrived", "for", "run", "ready_port", "output", "mark", "since", "count", "isn", "on", "together", "mss", "wscale", "sack_ok", "dsack", "sack_blocks", "gone", "status", "timeout_min", "timeout_max", NULL,
};

/* Socket options a setsockopt step may name: the ones that change how a
 * connection ends or notices a dead peer. */
static const struct {
	const char *name;
	int level, opt;
	int max;
} sockopt_names[] = {
	{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1 },
	{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1 },
	{ "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 1 },
	{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 1 << 24 },
	{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 1 << 24 },
	{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1 },
	{ "TCP_CORK", IPPROTO_TCP, TCP_CORK, 1 },
	{ "TCP_QUICKACK", IPPROTO_TCP, TCP_QUICKACK, 1 },
	{ "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 32767 },
	{ "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 32767 },
	{ "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 127 },
	{ "TCP_LINGER2", IPPROTO_TCP, TCP_LINGER2, 3600 },
	{ "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 3600000 },
	{ "TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, 65535 },
};

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
	{ "KILL", SIGKILL }, { "TERM", SIGTERM }, { "INT", SIGINT },
	{ "HUP", SIGHUP },   { "SEGV", SIGSEGV }, { "ABRT", SIGABRT },
};

static int load_sockopt(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *on = map_get(L, map, "opt"), *vn = map_get(L, map, "value");
	const char *name = scalar(on);
	unsigned long v;
	size_t i;
	int ret;

	if (!on && !vn)
		return 0;
	if (!on || !vn)
		return fail(L, on ? on : vn, "'opt' and 'value' go together (opt: TCP_KEEPIDLE, value: 1)");
	for (i = 0; i < sizeof(sockopt_names) / sizeof(sockopt_names[0]); i++)
		if (name && strcmp(name, sockopt_names[i].name) == 0)
			break;
	if (i == sizeof(sockopt_names) / sizeof(sockopt_names[0])) {
		char list[400];
		size_t used = 0, k;

		for (k = 0; k < sizeof(sockopt_names) / sizeof(sockopt_names[0]); k++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 k ? ", " : "", sockopt_names[k].name);
		return fail(L, on, "unknown socket option '%s' (expected %s)", name ? name : "?", list);
	}
	if (sockopt_names[i].max == 1 && scalar(vn) &&
	    (!strcmp(scalar(vn), "true") || !strcmp(scalar(vn), "false"))) {
		v = strcmp(scalar(vn), "true") == 0;
	} else if ((ret = get_uint(L, vn, "value", (unsigned long)sockopt_names[i].max, &v)) < 0) {
		return ret;
	}
	s->has_opt = true;
	s->opt_level = sockopt_names[i].level;
	s->opt_name = sockopt_names[i].opt;
	s->opt_value = (int)v;
	snprintf(s->opt_text, sizeof(s->opt_text), "%s", sockopt_names[i].name);
	return 0;
}

static int load_signal(struct loader *L, yaml_node_t *n, int *out)
{
	const char *name = scalar(n);
	size_t i;

	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (name && strcmp(name, signal_names[i].name) == 0) {
			*out = signal_names[i].sig;
			return 0;
		}
	return fail(L, n, "unknown signal '%s' (expected KILL, TERM, INT, HUP, SEGV, ABRT)",
		    name ? name : "?");
}

static int load_timer(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *n;
	int t;
	int ret;

	s->timer = -1;
	s->timer_min_ns = s->timer_max_ns = -1;
	if ((n = map_get(L, map, "timer"))) {
		t = sock_timer_parse(scalar(n));
		if (t < 0)
			return fail(L, n, "unknown timer '%s' (expected off, on, keepalive, timewait, probe)",
				    scalar(n) ? scalar(n) : "?");
		s->timer = t;
	}
	if ((n = map_get(L, map, "timer_min")) &&
	    (ret = get_duration(L, n, "timer_min", &s->timer_min_ns)) < 0)
		return ret;
	if ((n = map_get(L, map, "timer_max")) &&
	    (ret = get_duration(L, n, "timer_max", &s->timer_max_ns)) < 0)
		return ret;
	if (s->timer_min_ns >= 0 && s->timer_max_ns >= 0 && s->timer_min_ns > s->timer_max_ns)
		return fail(L, map_get(L, map, "timer_min"), "'timer_min' is larger than 'timer_max'");
	return 0;
}

static enum fw_host other_host(enum fw_host h)
{
	return h == HOST_CLIENT ? HOST_SERVER : HOST_CLIENT;
}

/* Append the options a segment expectation asks for to its flags: "F. with dsack, mss 1460" */
static void seg_options_text(const struct fw_step *s, char *buf, size_t len)
{
	size_t used = strlen(buf);
	const char *sep = " with ";

#define SEG_OPT_ADD(cond, ...)                                                                      \
	do {                                                                                        \
		if ((cond) && used < len) {                                                         \
			used += (size_t)snprintf(buf + used, len - used, "%s", sep);               \
			if (used < len)                                                             \
				used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__);     \
			sep = ", ";                                                                 \
		}                                                                                   \
	} while (0)
	SEG_OPT_ADD(s->win >= 0, "win %d", s->win);
	SEG_OPT_ADD(s->opt_mss >= 0, "mss %d", s->opt_mss);
	SEG_OPT_ADD(s->opt_wscale >= 0, "wscale %d", s->opt_wscale);
	SEG_OPT_ADD(s->opt_sack_ok >= 0, "%ssackOK", s->opt_sack_ok ? "" : "no ");
	SEG_OPT_ADD(s->opt_ts >= 0, "%stimestamps", s->opt_ts ? "" : "no ");
	SEG_OPT_ADD(s->opt_dsack >= 0, "%sD-SACK", s->opt_dsack ? "a " : "no ");
	SEG_OPT_ADD(s->opt_sack_blocks >= 0, "%d SACK block(s)", s->opt_sack_blocks);
	SEG_OPT_ADD(s->isn.set, "ISN %s%+lld",
		    s->isn.base == EXPR_PREV_SND_NXT ? "prev_snd_nxt" : "prev_rcv_nxt",
		    (long long)s->isn.offset);
#undef SEG_OPT_ADD
}

/* "the box's conntrack entry is TIME_WAIT with ASSURED, 100s-120s left, within 1s" */
static void step_describe_conntrack(struct fw_step *s, const char *within)
{
	char status[96] = "", lo[32], hi[32], left[80] = "";

	if (s->ct_gone) {
		snprintf(s->text, sizeof(s->text), "the box's conntrack entry is gone within %s",
			 within);
		return;
	}
	if (s->ct_status)
		conntrack_status_format(s->ct_status, status, sizeof(status));
	fw_duration_format(s->ct_timeout_min_ns, lo, sizeof(lo));
	fw_duration_format(s->ct_timeout_max_ns, hi, sizeof(hi));
	if (s->ct_timeout_min_ns >= 0 || s->ct_timeout_max_ns >= 0)
		snprintf(left, sizeof(left), ", timeout%s%s%s%s", s->ct_timeout_min_ns >= 0 ? " >= " : "",
			 s->ct_timeout_min_ns >= 0 ? lo : "", s->ct_timeout_max_ns >= 0 ? " <= " : "",
			 s->ct_timeout_max_ns >= 0 ? hi : "");
	snprintf(s->text, sizeof(s->text), "the box's conntrack entry is %s%s%s%s within %s",
		 s->ct_state >= 0 ? conntrack_state_name(s->ct_state) : "there",
		 status[0] ? " with " : "", status, left, within);
}

static void step_describe(const struct fw_case *c, struct fw_step *s)
{
	char sock_label[48]; /* 'conn', or "on port 8080" for a program's socket */
	char within[32], flags[160] = "any";
	const char *h = fw_host_name(s->host);

	fw_duration_format(s->within_ns, within, sizeof(within));
	if (s->has_flags)
		seg_flags_format(s->flags_value, flags, sizeof(flags));
	if (s->sock[0])
		snprintf(sock_label, sizeof(sock_label), "'%s'", s->sock);
	else
		snprintf(sock_label, sizeof(sock_label), "on port %u", s->port);
	switch (s->kind) {
	case STEP_LISTEN:
		snprintf(s->text, sizeof(s->text), "%s listens on port %u", h, s->port);
		break;
	case STEP_CONNECT:
		snprintf(s->text, sizeof(s->text), "%s connects to %s port %u", h,
			 fw_host_name(s->peer), s->port);
		break;
	case STEP_ACCEPT:
		snprintf(s->text, sizeof(s->text), "%s accepts a connection", h);
		break;
	case STEP_SEND:
		snprintf(s->text, sizeof(s->text), "%s sends %u bytes", h, s->bytes);
		break;
	case STEP_RECV:
		if (s->eof)
			snprintf(s->text, sizeof(s->text), "%s reads until end of stream within %s",
				 h, within);
		else
			snprintf(s->text, sizeof(s->text), "%s reads %u bytes within %s", h,
				 s->bytes, within);
		break;
	case STEP_SHUTDOWN:
		snprintf(s->text, sizeof(s->text), "%s calls shutdown(SHUT_WR)", h);
		break;
	case STEP_CLOSE:
		snprintf(s->text, sizeof(s->text), "%s calls close()", h);
		break;
	case STEP_SETSOCKOPT:
		if (s->has_opt)
			snprintf(s->text, sizeof(s->text), "%s sets %s=%d on '%s'", h, s->opt_text,
				 s->opt_value, s->sock);
		else
			snprintf(s->text, sizeof(s->text), "%s sets socket options on '%s'", h,
				 s->sock);
		break;
	case STEP_RELEASE:
		snprintf(s->text, sizeof(s->text), "release what fault '%s' holds",
			 c->faults[s->fault].name);
		break;
	case STEP_FORK:
		snprintf(s->text, sizeof(s->text),
			 "%s forks child '%s', which shares its sockets", h, s->proc);
		break;
	case STEP_KILL:
		snprintf(s->text, sizeof(s->text), "kill child '%s' with SIG%s", s->proc,
			 sigabbrev_np(s->signal) ? sigabbrev_np(s->signal) : "?");
		break;
	case STEP_INJECT:
		snprintf(s->text, sizeof(s->text), "inject %s from %s to %s", flags, h,
			 fw_host_name(s->peer));
		break;
	case STEP_ARM:
	case STEP_DISARM:
		snprintf(s->text, sizeof(s->text), "%s fault '%s'",
			 s->kind == STEP_ARM ? "arm" : "disarm", c->faults[s->fault].name);
		break;
	case STEP_EXPECT_SEGMENT:
		seg_options_text(s, flags, sizeof(flags));
		if (s->count_min >= 0) {
			char n[32];

			if (s->count_min == s->count_max)
				snprintf(n, sizeof(n), "%d", s->count_min);
			else
				snprintf(n, sizeof(n), "%d to %d", s->count_min, s->count_max);
			snprintf(s->text, sizeof(s->text), "%s %s %s %s segment(s) in %s", h,
				 s->arrived ? "has delivered" : "sends", n, flags, within);
			break;
		}
		snprintf(s->text, sizeof(s->text), "%s %s %s%s%s within %s",
			 s->arrived ? fw_host_name(other_host(s->host)) : h,
			 s->arrived ? "receives" : "sends",
			 s->has_flags && s->flags_mask != 0xff ? "a segment with " : "", flags,
			 s->arrived ? " from the other host" : "", within);
		break;
	case STEP_EXPECT_NO_SEGMENT:
		snprintf(s->text, sizeof(s->text), "%s %s no %s%ssegment%s for %s",
			 s->arrived ? fw_host_name(other_host(s->host)) : h,
			 s->arrived ? "receives" : "sends", s->has_flags ? flags : "",
			 s->has_flags ? " " : "", s->arrived ? " from the other host" : "", within);
		break;
	case STEP_EXPECT_STATE: {
		char timer[96] = "", lo[32], hi[32];

		fw_duration_format(s->timer_min_ns, lo, sizeof(lo));
		fw_duration_format(s->timer_max_ns, hi, sizeof(hi));
		if (s->timer >= 0 || s->timer_min_ns >= 0 || s->timer_max_ns >= 0)
			snprintf(timer, sizeof(timer), " with timer %s%s%s%s%s",
				 s->timer >= 0 ? sock_timer_name(s->timer) : "on",
				 s->timer_min_ns >= 0 ? " >= " : "", s->timer_min_ns >= 0 ? lo : "",
				 s->timer_max_ns >= 0 ? " <= " : "", s->timer_max_ns >= 0 ? hi : "");
		snprintf(s->text, sizeof(s->text), "%s's socket %s reaches %s%s within %s", h,
			 sock_label, tcp_state_name(s->state), timer, within);
		break;
	}
	case STEP_EXPECT_GONE:
		snprintf(s->text, sizeof(s->text), "%s's socket %s is gone within %s", h, sock_label,
			 within);
		break;
	case STEP_EXPECT_SYSCTL:
		if (s->absent)
			snprintf(s->text, sizeof(s->text), "%s has no sysctl %s", h, s->sysctl);
		else
			snprintf(s->text, sizeof(s->text), "%s's sysctl %s reads %s", h, s->sysctl,
				 s->equals);
		break;
	case STEP_EXPECT_COUNTER:
		snprintf(s->text, sizeof(s->text), "%s's counter %s grows by %s%lld within %s", h,
			 s->counter, s->delta_is_min ? "at least " : "", (long long)s->delta, within);
		break;
	case STEP_EXPECT_CONNTRACK:
		step_describe_conntrack(s, within);
		break;
	case STEP_WAIT:
		snprintf(s->text, sizeof(s->text), "wait %s", within);
		break;
	case STEP_START:
		snprintf(s->text, sizeof(s->text), "%s starts '%s' (%.160s)%s", h, s->proc, s->run,
			 s->port ? ", which must listen" : "");
		break;
	case STEP_EXPECT_EXIT: {
		char how[48] = "ends";


		if (s->exit_signal)
			snprintf(how, sizeof(how), "is killed by SIG%s",
				 sigabbrev_np(s->exit_signal) ? sigabbrev_np(s->exit_signal) : "?");
		else if (s->exit_status >= 0)
			snprintf(how, sizeof(how), "exits with status %d", s->exit_status);
		snprintf(s->text, sizeof(s->text), "'%s' %s%s%.60s%s within %s", s->proc, how,
			 s->output[0] ? " having written '" : "", s->output, s->output[0] ? "'" : "",
			 within);
		break;
	}
	}
	if (s->has_trigger) {
		char f[16];
		size_t used = strlen(s->text);

		seg_flags_format(s->trig_value, f, sizeof(f));
		snprintf(s->text + used, sizeof(s->text) - used, " as soon as %s from %s arrives", f,
			 fw_host_name(s->trig_from));
	}
	if (s->together) {
		size_t used = strlen(s->text);

		snprintf(s->text + used, sizeof(s->text) - used, ", together with the next action");
	}
}

static int load_when(struct loader *L, const struct fw_case *c, yaml_node_t *n, uint32_t *out);

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
	if ((n = map_get(L, map, "mark")) && (ret = get_str(L, n, "mark", s->mark, sizeof(s->mark))) < 0)
		return ret;
	for (i = 0; s->mark[0] && i < c->nsteps; i++)
		if (strcmp(c->steps[i].mark, s->mark) == 0)
			return fail(L, n, "mark '%s' is already used by the step on line %d", s->mark,
				    c->steps[i].line);
	if ((n = map_get(L, map, "since"))) {
		if (!step_kind_is_expect(s->kind))
			return fail(L, n, "'since' belongs to expectations (an action's clock starts with it)");
		if ((ret = get_str(L, n, "since", s->since, sizeof(s->since))) < 0)
			return ret;
		for (i = 0; i < c->nsteps && strcmp(c->steps[i].mark, s->since) != 0; i++)
			;
		if (i == c->nsteps)
			return fail(L, n, "no earlier step is marked '%s' (add 'mark: %s' to it)", s->since,
				    s->since);
	}
	if ((n = map_get(L, map, "count"))) {
		const char *v = scalar(n);
		char *end = NULL;
		long lo = v ? strtol(v, &end, 10) : -1, hi = lo;

		if (end && end[0] == '.' && end[1] == '.')
			hi = strtol(end + 2, &end, 10);
		if (!v || !end || *end || lo < 0 || hi < lo || hi > 1000)
			return fail(L, n, "'count' must be a number or a range like 3..5, not '%s'",
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
	static const char *const keys[] = { "from", "flags", "has", NULL };
	static const struct keyset ks = { "trigger ('on')", keys };
	yaml_node_t *n, *f;
	bool has;
	int ret;

	if ((n = map_get(L, map, "together")) && (ret = get_bool(L, n, "together", &s->together)) < 0)
		return ret;
	if (!(n = map_get(L, map, "on")))
		return 0;
	if ((ret = check_keys(L, n, &ks)) < 0)
		return ret;
	if (!(f = map_get(L, n, "from")))
		return fail(L, n, "'on' needs 'from' (whose segment the action waits for)");
	if ((ret = get_host(L, f, "from", HOSTS_ENDPOINTS, &s->trig_from)) < 0)
		return ret;
	if (s->trig_from == s->host)
		return fail(L, f, "'on' waits for a segment reaching %s, so 'from' must be the other host",
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
	if ((n = map_get(L, map, "run")) && (ret = get_str(L, n, "run", s->run, sizeof(s->run))) < 0)
		return ret;
	if ((n = map_get(L, map, "ready_port"))) {
		if ((ret = get_uint(L, n, "ready_port", 65535, &v)) < 0)
			return ret;
		if (!v)
			return fail(L, n, "'ready_port' must be from 1 to 65535");
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
		return fail(L, map, "give 'status' (it exited) or 'signal' (it was killed), not both");
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
		{ "mss", 65535, offsetof(struct fw_step, opt_mss) },
		{ "wscale", 14, offsetof(struct fw_step, opt_wscale) },
		{ "sack_blocks", 4, offsetof(struct fw_step, opt_sack_blocks) },
		{ "sack_ok", 0, offsetof(struct fw_step, opt_sack_ok) },
		{ "ts", 0, offsetof(struct fw_step, opt_ts) },
		{ "dsack", 0, offsetof(struct fw_step, opt_dsack) },
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
			return fail(L, n, "unknown conntrack state '%s' (expected NONE, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE, SYN_SENT2)",
				    scalar(n) ? scalar(n) : "?");
	}
	if ((n = map_get(L, map, "gone")) && (ret = get_bool(L, n, "gone", &s->ct_gone)) < 0)
		return ret;
	if ((n = map_get(L, map, "status"))) {
		yaml_node_item_t *it;

		if (n->type != YAML_SEQUENCE_NODE)
			return fail(L, n, "'status' must be a list of conntrack status bits ([ASSURED, SEEN_REPLY])");
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			uint32_t bit = conntrack_status_parse(scalar(node_at(L, *it)));

			if (!bit)
				return fail(L, node_at(L, *it), "unknown conntrack status '%s' (expected SEEN_REPLY, ASSURED, CONFIRMED, SRC_NAT, DST_NAT, DYING)",
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
		return fail(L, map, "'gone: true' takes no state, status or timeout");
	return 0;
}

static int load_step(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s)
{
	static const struct keyset ks = { "step", step_all_keys };
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
			return fail(L, map, "a step has either 'do' or 'expect', not both");
		kind_node = map_get(L, map, "expect");
		expect = true;
	}
	if (!kind_node)
		return fail(L, map, "a step needs 'do: <action>' or 'expect: <expectation>'");
	ret = step_kind_lookup(L, kind_node, expect, &s->kind);
	if (ret < 0)
		return ret;

	/* Keys that do not apply to this kind are errors, not silently ignored. */
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(L, p->key));

		/* do/expect, when (matrix rows), mark and since (clocks) go with any
		 * step; on and together with any action */
		if (strcmp(k, "do") && strcmp(k, "expect") && strcmp(k, "when") && strcmp(k, "mark") &&
		    strcmp(k, "since") &&
		    (step_kind_is_expect(s->kind) || (strcmp(k, "on") && strcmp(k, "together"))) &&
		    !key_known(step_rules[s->kind].keys, k))
			return fail(L, node_at(L, p->key), "'%s' does not apply to %s '%s'", k,
				    expect ? "expectation" : "action", step_names[s->kind]);
	}
	if (step_rules[s->kind].required && !map_get(L, map, step_rules[s->kind].required))
		return fail(L, map, "%s '%s' needs '%s'", expect ? "expectation" : "action",
			    step_names[s->kind], step_rules[s->kind].required);

	s->host = s->kind == STEP_EXPECT_CONNTRACK ? HOST_DUT : HOST_CLIENT;
	s->linger = -1;
	s->reuseaddr = -1;
	s->reuseport = -1;
	s->len = -1;
	s->win = -1;
	s->fault = -1;
	s->within_ns = step_rules[s->kind].default_within_ns;
	strcpy(s->sock, s->kind == STEP_LISTEN ? "listen" : "conn");

	if ((n = map_get(L, map, "host")) && (ret = get_host(L, n, "host", step_hosts(s->kind), &s->host)) < 0)
		return ret;
	if ((n = map_get(L, map, "from")) && (ret = get_host(L, n, "from", HOSTS_ENDPOINTS, &s->host)) < 0)
		return ret;
	s->peer = other_host(s->host);
	if ((n = map_get(L, map, "to")) && (ret = get_host(L, n, "to", s->kind == STEP_CONNECT ? HOSTS_WITH_DUT : HOSTS_ENDPOINTS, &s->peer)) < 0)
		return ret;
	if (s->peer == s->host)
		return fail(L, map_get(L, map, "to"), "'to' must name the other host, not %s",
			    fw_host_name(s->host));
	if ((s->host == HOST_DUT || (map_get(L, map, "to") && s->peer == HOST_DUT)) && !c->dut.present)
		return fail(L, map, "this step names the device under test, but the case has no 'dut:'");
	if ((n = map_get(L, map, "sock")) && (ret = get_str(L, n, "sock", s->sock, sizeof(s->sock))) < 0)
		return ret;
	if ((n = map_get(L, map, "port"))) {
		if ((ret = get_uint(L, n, "port", 65535, &v)) < 0)
			return ret;
		if (v == 0)
			return fail(L, n, "'port' must be from 1 to 65535");
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
		return fail(L, map, "action 'recv' needs 'bytes: N' or 'eof: true'");
	if ((n = map_get(L, map, "result"))) {
		s->expect_errno = scalar(n) ? fw_errno_parse(scalar(n)) : -1;
		if (s->expect_errno < 0)
			return fail(L, n, "unknown result '%s' (OK or an errno name such as ECONNREFUSED)",
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
	if ((ret = load_sockopt(L, map, s)) < 0)
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

		if (!name || strncmp(name, "net.", 4) != 0 || strstr(name, "..") || strchr(name, '/'))
			return fail(L, map_get(L, map, "sysctl"), "'sysctl' must be a net.* name, not '%s'",
				    name ? name : "a list");
		if ((ret = get_str(L, map_get(L, map, "sysctl"), "sysctl", s->sysctl, sizeof(s->sysctl))) < 0)
			return ret;
		if (ab && (ret = get_bool(L, ab, "absent", &s->absent)) < 0)
			return ret;
		if (!!eq == s->absent || (!eq && !ab))
			return fail(L, map, "expectation 'sysctl' needs 'equals: VALUE' or 'absent: true'");
		if (eq && (ret = get_str(L, eq, "equals", s->equals, sizeof(s->equals))) < 0)
			return ret;
	}
	if (s->kind == STEP_SETSOCKOPT && s->linger < 0 && s->reuseaddr < 0 && !s->has_opt)
		return fail(L, map, "action 'setsockopt' needs 'opt' and 'value', 'linger' or 'reuseaddr'");
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
			return fail(L, d ? d : map, "expectation 'counter' needs one of 'delta' (exactly) or 'delta_min' (at least)");
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
		return fail(L, map_get(L, map, "has"), "inject needs the exact 'flags', not 'has'");
	if ((ret = get_expr(L, map, "seq", &s->seq)) < 0 || (ret = get_expr(L, map, "ack", &s->ack)) < 0 ||
	    (ret = get_expr(L, map, "tsval", &s->tsval)) < 0 ||
	    (ret = get_expr(L, map, "tsecr", &s->tsecr)) < 0)
		return ret;
	/* An expectation compares against what was seen: it takes plain
	 * relative numbers; rcv_nxt and friends only aim injected segments. */
	if ((ret = get_expr(L, map, "isn", &s->isn)) < 0)
		return ret;
	if (s->isn.set && (s->isn.base == EXPR_NUMBER || !s->has_flags || !(s->flags_value & SEG_SYN)))
		return fail(L, map_get(L, map, "isn"),
			    "'isn' is a SYN's number in the previous incarnation's terms (prev_snd_nxt+N, prev_rcv_nxt-N): give it with flags S or S.");
	if (s->kind == STEP_EXPECT_SEGMENT) {
		if (s->seq.set && s->seq.base != EXPR_NUMBER)
			return fail(L, map_get(L, map, "seq"),
				    "'seq' of an expectation must be a number (relative to the sender's ISN)");
		if (s->ack.set && s->ack.base != EXPR_NUMBER)
			return fail(L, map_get(L, map, "ack"),
				    "'ack' of an expectation must be a number (relative to the receiver's ISN)");
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
			return fail(L, n,
				    "unknown TCP state '%s' (expected ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING, LISTEN)",
				    scalar(n) ? scalar(n) : "?");
	}
	if ((n = map_get(L, map, "within")) && (ret = get_duration(L, n, "within", &s->within_ns)) < 0)
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
			return fail(L, map_get(L, map, "run"), "'run' must start with the program's name");
	}

	/* wait: its duration is its window (so budgets and reports count it) */
	if ((n = map_get(L, map, "for")) && (ret = get_duration(L, n, "for", &s->within_ns)) < 0)
		return ret;
	if ((n = map_get(L, map, "fault"))) {
		s->fault = scalar(n) ? fault_index(c->faults, c->nfaults, scalar(n)) : -1;
		if (s->fault < 0)
			return fail(L, n, "unknown fault '%s' (no fault of that name is declared under 'faults')",
				    scalar(n) ? scalar(n) : "?");
		if (s->kind == STEP_RELEASE && (c->faults[s->fault].action != FAULT_HOLD ||
						c->faults[s->fault].until != FAULT_UNTIL_STEP))
			return fail(L, n, "fault '%s' is not released by a step (give it 'action: hold, until: step')",
				    c->faults[s->fault].name);
	}
	step_describe(c, s);
	return 0;
}

/* ---- faults --------------------------------------------------------------- */

static const char *const fault_keys[] = { "name", "from", "flags", "has", "payload", "seq",
					  "state", "nth", "count", "action", "delay", "until",
					  "max", "gap", "set", "armed", "optional", NULL };

/* Keys that belong to one action only: given with another, they are errors. */
static const struct {
	const char *key;
	enum fault_action action;
	enum fault_action also; /* a second action it applies to, or the same */
} fault_action_keys[] = {
	{ "delay", FAULT_DELAY, FAULT_DELAY },
	{ "until", FAULT_HOLD, FAULT_HOLD },
	{ "max", FAULT_HOLD, FAULT_REORDER },
	{ "gap", FAULT_DUPLICATE, FAULT_DUPLICATE },
	{ "set", FAULT_REWRITE, FAULT_REWRITE },
};

/* A hold or reorder that nothing releases still lets go after this long. */
#define CASE_DEFAULT_HOLD_MAX_NS (5 * FW_NS_PER_SEC)

static const struct {
	const char *name;
	enum fault_payload value;
} payload_names[] = { { "any", FAULT_PAYLOAD_ANY }, { "none", FAULT_PAYLOAD_NONE },
		      { "some", FAULT_PAYLOAD_SOME } };

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
		return fail(L, n, "'%s' of a rewrite is an offset such as +1000 or -1, not '%s'", key,
			    s ? s : "a list");
	*out = s[0] == '-' ? -v : v;
	return 0;
}

/* set: {flags: R., seq: +1000, ack: -1, win: 0, tsval: +100, tsecr: -1} */
static int load_rewrite(struct loader *L, yaml_node_t *map, struct fault_rewrite *rw)
{
	static const char *const keys[] = { "flags", "seq", "ack", "win", "tsval", "tsecr", NULL };
	static const struct keyset ks = { "rewrite", keys };
	yaml_node_t *n;
	unsigned long v;
	int ret;

	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	if (map->data.mapping.pairs.top == map->data.mapping.pairs.start)
		return fail(L, map, "'set' must change at least one of flags, seq, ack, win, tsval, tsecr");
	if ((n = map_get(L, map, "flags"))) {
		if (!scalar(n) || seg_flags_parse(scalar(n), &rw->flags) < 0)
			return fail(L, n, "bad TCP flags '%s' (tcpdump notation: S, S., F., R, R., .)",
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
	static const char *const keys[] = { "from", "flags", "has", "host", "state", NULL };
	static const struct keyset ks = { "until", keys };
	yaml_node_t *k;
	bool has;
	int ret;

	if (scalar(n)) {
		if (strcmp(scalar(n), "step") != 0)
			return fail(L, n, "'until' is step, {from: HOST, flags: F.} (a segment crossed the wire) or {host: HOST, state: STATE}, not '%s'",
				    scalar(n));
		f->until = FAULT_UNTIL_STEP;
		return 0;
	}
	if ((ret = check_keys(L, n, &ks)) < 0)
		return ret;
	if ((k = map_get(L, n, "state"))) {
		if (map_get(L, n, "from") || map_get(L, n, "flags") || map_get(L, n, "has"))
			return fail(L, n, "'until' waits either for a segment (from, flags) or for a state (host, state), not both");
		f->until = FAULT_UNTIL_STATE;
		f->until_state = scalar(k) ? tcp_state_parse(scalar(k)) : -1;
		if (f->until_state <= 0)
			return fail(L, k, "unknown TCP state '%s'", scalar(k) ? scalar(k) : "?");
		if (!(k = map_get(L, n, "host")))
			return fail(L, n, "'until' a state needs the 'host' whose socket reaches it");
		return get_host(L, k, "host", HOSTS_ENDPOINTS, &f->until_host);
	}
	if (map_get(L, n, "host"))
		return fail(L, map_get(L, n, "host"), "'until' a segment names its sender with 'from', not 'host'");
	if (!(k = map_get(L, n, "from")))
		return fail(L, n, "'until' a segment needs 'from' (its sender)");
	f->until = FAULT_UNTIL_SEGMENT;
	if ((ret = get_host(L, k, "from", HOSTS_ENDPOINTS, &f->until_host)) < 0)
		return ret;
	return get_flags(L, n, false, &has, &f->until_mask, &f->until_value);
}

static int load_fault(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fault_rule *f)
{
	static const struct keyset ks = { "fault", fault_keys };
	yaml_node_t *n, *action_node;
	unsigned long v;
	bool has, silence;
	size_t i;
	int ret, a;

	memset(f, 0, sizeof(*f));
	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	if (!(n = map_get(L, map, "name")))
		return fail(L, map, "a fault needs a 'name'");
	if ((ret = get_str(L, n, "name", f->name, sizeof(f->name))) < 0)
		return ret;
	if (!f->name[0])
		return fail(L, n, "a fault's 'name' may not be empty (steps and the timeline refer to it)");
	if (fault_index(c->faults, c->nfaults, f->name) >= 0)
		return fail(L, n, "a fault named '%s' is already declared", f->name);
	if (!(n = map_get(L, map, "from")))
		return fail(L, map, "fault '%s' needs 'from' (the host whose segments it breaks)", f->name);
	if ((ret = get_host(L, n, "from", HOSTS_ENDPOINTS, &f->from)) < 0)
		return ret;

	if (!(action_node = map_get(L, map, "action")))
		return fail(L, map, "fault '%s' needs an 'action' (drop, delay, hold, reorder, duplicate, rewrite, silence, pass)",
			    f->name);
	/* silence: the host vanished; every segment it sends is dropped. */
	silence = scalar(action_node) && strcmp(scalar(action_node), "silence") == 0;
	a = silence ? FAULT_DROP : fault_action_parse(scalar(action_node));
	if (a < 0)
		return fail(L, action_node,
			    "unknown action '%s' (expected drop, delay, hold, reorder, duplicate, rewrite, silence, pass)",
			    scalar(action_node) ? scalar(action_node) : "?");
	f->action = (enum fault_action)a;
	if (silence) {
		static const char *const selectors[] = { "flags", "has", "payload", "seq", "state",
							 "nth", "count", NULL };

		for (i = 0; selectors[i]; i++)
			if ((n = map_get(L, map, selectors[i])))
				return fail(L, n, "'%s' does not apply to 'silence' (it drops every segment the host sends)",
					    selectors[i]);
	}
	for (i = 0; i < sizeof(fault_action_keys) / sizeof(fault_action_keys[0]); i++) {
		n = map_get(L, map, fault_action_keys[i].key);
		if (n && (silence || (f->action != fault_action_keys[i].action &&
				      f->action != fault_action_keys[i].also)))
			return fail(L, n, "'%s' does not apply to action '%s'", fault_action_keys[i].key,
				    scalar(action_node));
	}

	if ((ret = get_flags(L, map, false, &has, &f->flags_mask, &f->flags_value)) < 0)
		return ret;
	f->payload = FAULT_PAYLOAD_ANY;
	if ((n = map_get(L, map, "payload"))) {
		const char *s = scalar(n);

		for (i = 0; i < sizeof(payload_names) / sizeof(payload_names[0]); i++)
			if (s && strcmp(s, payload_names[i].name) == 0)
				break;
		if (i == sizeof(payload_names) / sizeof(payload_names[0]))
			return fail(L, n, "unknown payload '%s' (expected any, none, some)", s ? s : "?");
		f->payload = payload_names[i].value;
	}
	if ((n = map_get(L, map, "seq"))) {
		if ((ret = get_uint(L, n, "seq", 0xffffffffUL, &v)) < 0)
			return ret;
		f->match_seq = true;
		f->seq = (uint32_t)v;
	}
	if ((n = map_get(L, map, "state"))) {
		f->state = scalar(n) ? tcp_state_parse(scalar(n)) : -1;
		if (f->state <= 0)
			return fail(L, n, "unknown TCP state '%s' for the sending socket",
				    scalar(n) ? scalar(n) : "?");
	}
	f->nth = 1;
	f->count = silence ? 0 : 1;
	if ((n = map_get(L, map, "nth"))) {
		if ((ret = get_uint(L, n, "nth", 1000000, &v)) < 0)
			return ret;
		if (v == 0)
			return fail(L, n, "'nth' counts from 1 (the first matching segment)");
		f->nth = (unsigned)v;
	}
	if ((n = map_get(L, map, "count"))) {
		if ((ret = get_uint(L, n, "count", 1000000, &v)) < 0)
			return ret;
		f->count = (unsigned)v;
	}

	switch (f->action) {
	case FAULT_DELAY:
		if (!(n = map_get(L, map, "delay")))
			return fail(L, map, "fault '%s': action 'delay' needs 'delay: <duration>'", f->name);
		if ((ret = get_duration(L, n, "delay", &f->delay_ns)) < 0)
			return ret;
		break;
	case FAULT_HOLD:
		if (!(n = map_get(L, map, "until")))
			return fail(L, map, "fault '%s': action 'hold' needs 'until' (step, {from: HOST, flags: F.} or {host: HOST, state: STATE})",
				    f->name);
		if ((ret = load_until(L, n, f)) < 0)
			return ret;
		break;
	case FAULT_REORDER:
		break;
	case FAULT_DUPLICATE:
		if ((n = map_get(L, map, "gap")) && (ret = get_duration(L, n, "gap", &f->delay_ns)) < 0)
			return ret;
		break;
	case FAULT_REWRITE:
		if (!(n = map_get(L, map, "set")))
			return fail(L, map, "fault '%s': action 'rewrite' needs 'set: {flags, seq, ack, win, tsval, tsecr}'",
				    f->name);
		if ((ret = load_rewrite(L, n, &f->rewrite)) < 0)
			return ret;
		break;
	case FAULT_PASS:
	case FAULT_DROP:
		break;
	}
	if (f->action == FAULT_HOLD || f->action == FAULT_REORDER) {
		f->max_ns = CASE_DEFAULT_HOLD_MAX_NS;
		if ((n = map_get(L, map, "max")) && (ret = get_duration(L, n, "max", &f->max_ns)) < 0)
			return ret;
	}
	f->armed = true;
	if ((n = map_get(L, map, "armed")) && (ret = get_bool(L, n, "armed", &f->armed)) < 0)
		return ret;
	if ((n = map_get(L, map, "optional")) && (ret = get_bool(L, n, "optional", &f->optional)) < 0)
		return ret;
	return 0;
}

/* ---- sysctls: "sysctl: {server: {net.ipv4.tcp_rfc1337: 1}}" ------------ */

static int load_sysctls(struct loader *L, struct fw_sysctl **arr, size_t *count, yaml_node_t *top)
{
	static const char *const host_keys[] = { "client", "server", "wire", "dut", NULL };
	static const struct keyset ks = { "sysctl block", host_keys };
	yaml_node_pair_t *hp, *p;
	int ret;

	if ((ret = check_keys(L, top, &ks)) < 0)
		return ret;
	for (hp = top->data.mapping.pairs.start; hp < top->data.mapping.pairs.top; hp++) {
		yaml_node_t *hmap = node_at(L, hp->value);
		enum fw_host host;

		fw_host_parse(scalar(node_at(L, hp->key)), &host);
		if (hmap->type != YAML_MAPPING_NODE)
			return fail(L, hmap, "sysctls of %s must be a mapping of name: value",
				    fw_host_name(host));
		for (p = hmap->data.mapping.pairs.start; p < hmap->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = node_at(L, p->key), *vn = node_at(L, p->value);
			struct fw_sysctl *s, *grown;
			const char *name = scalar(kn);

			/* Only net.* sysctls are per network namespace: anything else
			 * written from inside a case would change the host itself. */
			if (!name || strncmp(name, "net.", 4) != 0 || strstr(name, "..") ||
			    strchr(name, '/'))
				return fail(L, kn, "sysctl '%s' is not a net.* name (only per-namespace net.* sysctls can be set)",
					    name ? name : "?");
			for (size_t k = 0; k < *count; k++)
				if ((*arr)[k].host == host && strcmp((*arr)[k].name, name) == 0)
					return fail(L, kn, "sysctl '%s' is set twice for %s", name,
						    fw_host_name(host));
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

static int load_matrix(struct loader *L, struct fw_case *c, yaml_node_t *n)
{
	static const char *const row_keys[] = { "name", "sysctl", NULL };
	static const struct keyset ks = { "matrix row", row_keys };
	yaml_node_item_t *it;
	size_t i;
	int ret;

	if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start)
		return fail(L, n, "'matrix' must be a list of rows, each {sysctl: {HOST: {NAME: VALUE}}}");
	if (n->data.sequence.items.top - n->data.sequence.items.start > CASE_MAX_ROWS)
		return fail(L, n, "'matrix' has more than %d rows", CASE_MAX_ROWS);
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
			return fail(L, row, "a matrix row needs 'sysctl' (what this row changes)");
		if ((ret = load_sysctls(L, &r->sysctls, &r->nsysctls, k)) < 0)
			return ret;
		if (!r->nsysctls)
			return fail(L, k, "a matrix row must set at least one sysctl");
		if (!map_get(L, row, "name") && row_default_name(r) < 0)
			return fail(L, row, "this row's sysctls make a name longer than %zu characters: give the row a 'name'",
				    sizeof(r->name) - 1);
		if ((k = map_get(L, row, "name")) &&
		    (ret = get_str(L, k, "name", r->name, sizeof(r->name))) < 0)
			return ret;
		if (strpbrk(r->name, "[]/ ") || !r->name[0])
			return fail(L, k ? k : row, "row name '%s' may not be empty or contain [ ] / or spaces",
				    r->name);
		for (i = 0; i + 1 < c->nrows; i++)
			if (strcmp(c->rows[i].name, r->name) == 0)
				return fail(L, k ? k : row, "two matrix rows are named '%s' (give one a 'name')",
					    r->name);
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
static int load_when(struct loader *L, const struct fw_case *c, yaml_node_t *n, uint32_t *out)
{
	yaml_node_item_t *it;
	int r;

	*out = 0;
	if (!c->nrows)
		return fail(L, n, "'when' names matrix rows, and this case has no 'matrix'");
	if (scalar(n)) {
		if ((r = row_index(c, scalar(n))) < 0)
			return fail(L, n, "no matrix row is named '%s'", scalar(n));
		*out = 1u << r;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(L, n, "'when' is a row name or a list of row names");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = node_at(L, *it);

		if (!scalar(e) || (r = row_index(c, scalar(e))) < 0)
			return fail(L, e, "no matrix row is named '%s'", scalar(e) ? scalar(e) : "?");
		*out |= 1u << r;
	}
	return 0;
}

/* ---- the case -------------------------------------------------------------- */

static const char *const case_keys[] = { "name", "summary", "claims", "refs", "verdict", "condition",
					 "family", "slow", "sysctl", "matrix", "faults", "steps",
					 "requires", "dut", NULL };

static int load_list(struct loader *L, yaml_node_t *n, const char *key, char *out, size_t width,
		     size_t *count)
{
	yaml_node_item_t *it;
	int ret;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(L, n, "'%s' must be a list ([a, b] or one '- item' per line)", key);
	*count = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		if (*count == CASE_MAX_LIST)
			return fail(L, node_at(L, *it), "'%s' has more than %d entries", key, CASE_MAX_LIST);
		ret = get_str(L, node_at(L, *it), key, out + *count * width, width);
		if (ret < 0)
			return ret;
		(*count)++;
	}
	return 0;
}

static int claim_id_valid(const char *s)
{
	return s[0] == 'C' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && !s[3];
}

_Static_assert(REQUIRES_MAX == CASE_MAX_LIST, "load_list() fills up to CASE_MAX_LIST entries");

/* requires: {kernel: "6.12", sysctls: [...], counters: [...], sockopts: [...],
 * modules: [...], config: [CONFIG_...]}: what the kernel must have, or the run is skipped. */
static int load_requires(struct loader *L, yaml_node_t *map, struct fw_requires *r)
{
	static const char *const keys[] = { "kernel", "sysctls", "counters", "sockopts",
					    "modules", "config", "programs", NULL };
	static const struct keyset ks = { "requires", keys };
	char names[REQUIRES_MAX][32];
	yaml_node_t *n;
	size_t i, k;
	int ret;

	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	if ((n = map_get(L, map, "kernel"))) {
		if ((ret = get_str(L, n, "kernel", r->kernel_text, sizeof(r->kernel_text))) < 0)
			return ret;
		if (requires_parse_version(r->kernel_text, r->kernel) < 0 || !r->kernel[0])
			return fail(L, n, "'kernel' must be a version like 6.12 or 6.1.0, not '%s'",
				    r->kernel_text);
	}
	if ((n = map_get(L, map, "sysctls"))) {
		if ((ret = load_list(L, n, "sysctls", &r->sysctls[0][0], sizeof(r->sysctls[0]),
				     &r->nsysctls)) < 0)
			return ret;
		for (i = 0; i < r->nsysctls; i++)
			if (strncmp(r->sysctls[i], "net.", 4) != 0 || strstr(r->sysctls[i], "..") ||
			    strchr(r->sysctls[i], '/'))
				return fail(L, node_at(L, n->data.sequence.items.start[i]),
					    "required sysctl '%s' must be a net.* name", r->sysctls[i]);
	}
	if ((n = map_get(L, map, "counters")) &&
	    (ret = load_list(L, n, "counters", &r->counters[0][0], sizeof(r->counters[0]),
			     &r->ncounters)) < 0)
		return ret;
	if ((n = map_get(L, map, "modules")) &&
	    (ret = load_list(L, n, "modules", &r->modules[0][0], sizeof(r->modules[0]),
			     &r->nmodules)) < 0)
		return ret;
	if ((n = map_get(L, map, "programs")) &&
	    (ret = load_list(L, n, "programs", &r->programs[0][0], sizeof(r->programs[0]),
			     &r->nprograms)) < 0)
		return ret;
	if ((n = map_get(L, map, "config"))) {
		if ((ret = load_list(L, n, "config", &r->configs[0][0], sizeof(r->configs[0]),
				     &r->nconfigs)) < 0)
			return ret;
		for (i = 0; i < r->nconfigs; i++)
			if (strncmp(r->configs[i], "CONFIG_", 7) != 0 || !r->configs[i][7])
				return fail(L, node_at(L, n->data.sequence.items.start[i]),
					    "'config' lists kernel options like CONFIG_NF_CONNTRACK, not '%s'",
					    r->configs[i]);
	}
	if ((n = map_get(L, map, "sockopts"))) {
		if ((ret = load_list(L, n, "sockopts", &names[0][0], sizeof(names[0]),
				     &r->nsockopts)) < 0)
			return ret;
		for (i = 0; i < r->nsockopts; i++) {
			for (k = 0; k < sizeof(sockopt_names) / sizeof(sockopt_names[0]); k++)
				if (strcmp(names[i], sockopt_names[k].name) == 0)
					break;
			if (k == sizeof(sockopt_names) / sizeof(sockopt_names[0]))
				return fail(L, node_at(L, n->data.sequence.items.start[i]),
					    "unknown socket option '%s' (the ones a setsockopt step takes)",
					    names[i]);
			snprintf(r->sockopts[i].name, sizeof(r->sockopts[i].name), "%s", names[i]);
			r->sockopts[i].level = sockopt_names[k].level;
			r->sockopts[i].opt = sockopt_names[k].opt;
		}
	}
	return 0;
}

/* dut: {ruleset: FILE, setup: COMMAND, run: COMMAND, ready_port: N}: the
 * device under test. Files are relative to the case file's directory. What
 * it runs (nft, the program run starts) is a requirement: without it the
 * case is skipped, saying so. */
static int load_dut(struct loader *L, yaml_node_t *map, struct fw_case *c)
{
	static const char *const keys[] = { "ruleset", "setup", "run", "ready_port", "interfaces",
					    NULL };
	static const struct keyset ks = { "dut", keys };
	struct fw_dut *d = &c->dut;
	char rel[CASE_MAX_PATH];
	const char *slash = strrchr(L->label, '/');
	unsigned long v;
	yaml_node_t *n;
	int ret;

	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	d->present = true;
	d->line = (int)map->start_mark.line + 1;
	snprintf(d->dir, sizeof(d->dir), "%.*s", slash ? (int)(slash - L->label) : 1,
		 slash ? L->label : ".");
	if ((n = map_get(L, map, "ruleset"))) {
		if ((ret = get_str(L, n, "ruleset", rel, sizeof(rel))) < 0)
			return ret;
		if (rel[0] == '/')
			snprintf(d->ruleset, sizeof(d->ruleset), "%s", rel);
		else if ((size_t)snprintf(d->ruleset, sizeof(d->ruleset), "%s/%s", d->dir, rel) >=
			 sizeof(d->ruleset))
			return fail(L, n, "'ruleset' path is too long");
		if (access(d->ruleset, R_OK) < 0)
			return fail(L, n, "ruleset %s: %s", d->ruleset, strerror(errno));
		if (requires_add_program(&c->requires, "nft") < 0)
			return fail(L, n, "too many requirements");
	}
	if ((n = map_get(L, map, "setup")) &&
	    (ret = get_str(L, n, "setup", d->setup, sizeof(d->setup))) < 0)
		return ret;
	if ((n = map_get(L, map, "run"))) {
		char prog[64];

		if ((ret = get_str(L, n, "run", d->run, sizeof(d->run))) < 0)
			return ret;
		snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(d->run, " \t"), d->run);
		if (!prog[0] || requires_add_program(&c->requires, prog) < 0)
			return fail(L, n, "'run' must start with the program's name");
	}
	if ((n = map_get(L, map, "ready_port"))) {
		if ((ret = get_uint(L, n, "ready_port", 65535, &v)) < 0)
			return ret;
		if (!v || !d->run[0])
			return fail(L, n, "'ready_port' is a port from 1 to 65535 the 'run' program listens on");
		d->ready_port = (uint16_t)v;
	}
	if ((n = map_get(L, map, "interfaces"))) {
		char names[CASE_MAX_LIST][sizeof(d->interfaces[0])];
		size_t count = 0;

		if (d->ruleset[0] || d->setup[0] || d->run[0])
			return fail(L, n, "an external box ('interfaces') has no ruleset, setup or run of ours");
		if ((ret = load_list(L, n, "interfaces", &names[0][0], sizeof(names[0]), &count)) < 0)
			return ret;
		memcpy(d->interfaces, names, sizeof(d->interfaces));
		if (count != 2 || !strcmp(d->interfaces[0], d->interfaces[1]))
			return fail(L, n, "'interfaces' names two different interfaces: [toward the client, toward the server]");
	}
	return 0;
}

/* family: ipv4 | ipv6 | both | [ipv4, ipv6] */
static int load_families(struct loader *L, yaml_node_t *n, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bits;
	} names[] = { { "ipv4", CASE_FAMILY_IPV4 },
		      { "ipv6", CASE_FAMILY_IPV6 },
		      { "both", CASE_FAMILY_IPV4 | CASE_FAMILY_IPV6 } };
	yaml_node_item_t *it;
	size_t i;

	*out = 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			unsigned bits;

			if (load_families(L, node_at(L, *it), &bits) < 0)
				return -EINVAL;
			*out |= bits;
		}
		if (!*out)
			return fail(L, n, "'family' lists no family");
		return 0;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (scalar(n) && strcmp(scalar(n), names[i].name) == 0) {
			*out = names[i].bits;
			return 0;
		}
	return fail(L, n, "unknown family '%s' (expected ipv4, ipv6, both, or a list)",
		    scalar(n) ? scalar(n) : "?");
}

static int load_case(struct loader *L, struct fw_case *c, const char *default_name)
{
	static const struct keyset ks = { "case", case_keys };
	yaml_node_t *root = yaml_document_get_root_node(&L->doc), *n;
	yaml_node_item_t *it;
	size_t i;
	int ret;

	if (!root)
		return fail(L, NULL, "the file is empty");
	if ((ret = check_keys(L, root, &ks)) < 0)
		return ret;
	snprintf(c->name, sizeof(c->name), "%s", default_name ? default_name : "");
	if ((n = map_get(L, root, "name")) && (ret = get_str(L, n, "name", c->name, sizeof(c->name))) < 0)
		return ret;
	if (!c->name[0])
		return fail(L, root, "the case needs a 'name'");
	for (i = 0; c->name[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=[]",
			    c->name[i]) || strstr(c->name, ".."))
			return fail(L, n ? n : root, "name '%s' may use only letters, digits, - _ . / = [ ]",
				    c->name);
	if (!(n = map_get(L, root, "summary")))
		return fail(L, root, "the case needs a one-line 'summary'");
	if ((ret = get_str(L, n, "summary", c->summary, sizeof(c->summary))) < 0)
		return ret;
	if (!c->summary[0]) /* "summary:" alone, or only a comment after it */
		return fail(L, n, "the 'summary' is empty: say in one line what the case shows");
	if ((n = map_get(L, root, "verdict")) &&
	    (ret = get_str(L, n, "verdict", c->verdict, sizeof(c->verdict))) < 0)
		return ret;
	if ((n = map_get(L, root, "condition")) &&
	    (ret = get_str(L, n, "condition", c->condition, sizeof(c->condition))) < 0)
		return ret;
	if ((n = map_get(L, root, "claims"))) {
		if ((ret = load_list(L, n, "claims", &c->claims[0][0], sizeof(c->claims[0]), &c->nclaims)) < 0)
			return ret;
		for (i = 0; i < c->nclaims; i++)
			if (!claim_id_valid(c->claims[i]))
				return fail(L, node_at(L, n->data.sequence.items.start[i]),
					    "claim '%s' is not an id like C16 (see docs/claims.md)",
					    c->claims[i]);
	}
	if ((n = map_get(L, root, "refs")) &&
	    (ret = load_list(L, n, "refs", &c->refs[0][0], sizeof(c->refs[0]), &c->nrefs)) < 0)
		return ret;
	c->families = CASE_FAMILY_IPV4 | CASE_FAMILY_IPV6;
	if ((n = map_get(L, root, "family")) && (ret = load_families(L, n, &c->families)) < 0)
		return ret;
	c->family = c->families & CASE_FAMILY_IPV4 ? AF_INET : AF_INET6;
	if ((n = map_get(L, root, "sysctl")) &&
	    (ret = load_sysctls(L, &c->sysctls, &c->nsysctls, n)) < 0)
		return ret;
	if ((n = map_get(L, root, "matrix")) && (ret = load_matrix(L, c, n)) < 0)
		return ret;
	if ((n = map_get(L, root, "requires")) && (ret = load_requires(L, n, &c->requires)) < 0)
		return ret;
	if ((n = map_get(L, root, "dut")) && (ret = load_dut(L, n, c)) < 0)
		return ret;
	for (i = 0; i < c->nsysctls; i++)
		if (c->sysctls[i].host == HOST_DUT && (!c->dut.present || c->dut.interfaces[0][0]))
			return fail(L, map_get(L, root, "sysctl"),
				    "sysctls for 'dut' need a device under test in a namespace of ours: 'dut:' with a ruleset, setup or run");
	if ((n = map_get(L, root, "slow")) && (ret = get_bool(L, n, "slow", &c->slow)) < 0)
		return ret;
	if ((n = map_get(L, root, "faults"))) {
		if (n->type != YAML_SEQUENCE_NODE)
			return fail(L, n, "'faults' must be a list of faults");
		if (n->data.sequence.items.top - n->data.sequence.items.start > CASE_MAX_FAULTS)
			return fail(L, n, "'faults' has more than %d entries", CASE_MAX_FAULTS);
		c->faults = calloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1,
				   sizeof(*c->faults));
		if (!c->faults)
			return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			if ((ret = load_fault(L, c, node_at(L, *it), &c->faults[c->nfaults])) < 0)
				return ret;
			c->nfaults++;
		}
	}
	if (!(n = map_get(L, root, "steps")))
		return fail(L, root, "the case needs 'steps'");
	if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start)
		return fail(L, n, "'steps' must be a non-empty list of steps");
	if (n->data.sequence.items.top - n->data.sequence.items.start > CASE_MAX_STEPS)
		return fail(L, n, "'steps' has %ld entries, more than %d",
			    (long)(n->data.sequence.items.top - n->data.sequence.items.start),
			    CASE_MAX_STEPS);
	c->steps = calloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start),
			  sizeof(*c->steps));
	if (!c->steps)
		return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		if ((ret = load_step(L, c, node_at(L, *it), &c->steps[c->nsteps])) < 0)
			return ret;
		if (c->dut.interfaces[0][0] && (c->steps[c->nsteps].host == HOST_DUT ||
						c->steps[c->nsteps].peer == HOST_DUT))
			return fail(L, node_at(L, *it), "an external box has no namespace of ours: no conntrack table, counters or sysctls to read, nor an address to connect to");
		c->nsteps++;
	}
	return 0;
}

/* libyaml keeps an alias as a second reference to its anchor's node: every
 * reference beyond the first is one alias use. Bounded, so a small file
 * cannot make the loader walk (and copy) the same nodes without end. */
static int alias_count(struct loader *L, unsigned char *seen, size_t nodes, int id, size_t *uses)
{
	if (id < 1 || (size_t)id > nodes || !seen[id]++ || ++*uses <= CASE_MAX_ALIASES)
		return 0;
	return fail(L, node_at(L, id), "more than %d uses of YAML aliases (*name) in the file",
		    CASE_MAX_ALIASES);
}

static int aliases_check(struct loader *L)
{
	yaml_node_t *n, *first = L->doc.nodes.start;
	size_t nodes = (size_t)(L->doc.nodes.top - first), uses = 0;
	unsigned char *seen = calloc(nodes + 1, 1);
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	int ret = 0;

	if (!seen)
		return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
	for (n = first; n < L->doc.nodes.top && ret == 0; n++) {
		switch (n->type) {
		case YAML_SEQUENCE_NODE:
			for (it = n->data.sequence.items.start; it < n->data.sequence.items.top && !ret; it++)
				ret = alias_count(L, seen, nodes, *it, &uses);
			break;
		case YAML_MAPPING_NODE:
			for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && !ret; p++)
				if (!(ret = alias_count(L, seen, nodes, p->key, &uses)))
					ret = alias_count(L, seen, nodes, p->value, &uses);
			break;
		case YAML_SCALAR_NODE:
		case YAML_NO_NODE:
			break;
		}
	}
	free(seen);
	return ret;
}

int case_load_string(const char *yaml, size_t len, const char *label, const char *default_name,
		     struct fw_case **out, char *err, size_t errlen)
{
	struct loader L = { .label = label, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	struct fw_case *c = NULL;
	bool have_doc = false;
	int ret;

	*out = NULL;
	if (!yaml_parser_initialize(&parser))
		return fw_err(err, errlen, -ENOMEM, "%s: cannot initialise the YAML parser", label);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &L.doc)) {
		ret = fw_err(err, errlen, -EINVAL, "%s:%zu:%zu: YAML syntax error: %s%s%s", label,
			     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			     parser.problem ? parser.problem : "unreadable",
			     parser.context ? " " : "", parser.context ? parser.context : "");
		goto out;
	}
	have_doc = true;
	ret = aliases_check(&L);
	if (ret < 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = fw_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(c->path, sizeof(c->path), "%s", label);
	ret = load_case(&L, c, default_name);
	if (ret < 0)
		goto out;
	*out = c;
	c = NULL;
out:
	case_free(c);
	if (have_doc)
		yaml_document_delete(&L.doc);
	yaml_parser_delete(&parser);
	return ret;
}

int case_load(const char *path, const char *default_name, struct fw_case **out, char *err,
	      size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char *buf = NULL;
	struct stat st;
	FILE *f;
	long size;
	int ret;

	*out = NULL;
	if (fd < 0)
		return fw_err(err, errlen, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fw_err(err, errlen, -EINVAL,
			      "%s: not a regular file (a FIFO, socket or device): give a case file", path);
	}
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return fw_err(err, errlen, -ENOMEM, "out of memory");
	}
	/* Case files are small: read whole, and refuse absurd ones. */
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		ret = fw_err(err, errlen, -EIO, "%s: cannot read", path);
		goto out;
	}
	if (size > 1 << 20) {
		ret = fw_err(err, errlen, -EFBIG, "%s: larger than 1 MiB, not a case file", path);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		ret = fw_err(err, errlen, -EIO, "%s: cannot read", path);
		goto out;
	}
	ret = case_load_string(buf, (size_t)size, path, default_name, out, err, errlen);
out:
	free(buf);
	fclose(f);
	return ret;
}

void case_free(struct fw_case *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrows; i++)
		free(c->rows[i].sysctls);
	free(c->rows);
	free(c->sysctls);
	free(c->faults);
	free(c->steps);
	free(c);
}

/* One run: family, row (-1 for none), and the name suffix. */
static struct fw_case *case_variant(const struct fw_case *c, int family, int row,
				    const char *suffix)
{
	const struct fw_matrix_row *r = row >= 0 ? &c->rows[row] : NULL;
	struct fw_case *v = calloc(1, sizeof(*v));
	size_t i, k;

	if (!v)
		return NULL;
	*v = *c;
	v->rows = NULL;
	v->nrows = 0;
	v->family = family;
	v->families = family == AF_INET ? CASE_FAMILY_IPV4 : CASE_FAMILY_IPV6;
	if (suffix[0]) {
		/* the base name gives way to the suffix when both do not fit */
		size_t room = sizeof(v->name) - 3 > strlen(suffix) ? sizeof(v->name) - 3 - strlen(suffix) : 0;
		int used = snprintf(v->name, sizeof(v->name), "%.*s[", (int)room, c->name);

		if (used > 0 && (size_t)used < sizeof(v->name))
			snprintf(v->name + used, sizeof(v->name) - (size_t)used, "%s]", suffix);
	}
	v->sysctls = calloc(c->nsysctls + (r ? r->nsysctls : 0) + 1, sizeof(*v->sysctls));
	v->faults = calloc(c->nfaults + 1, sizeof(*v->faults));
	v->steps = calloc(c->nsteps + 1, sizeof(*v->steps));
	if (!v->sysctls || !v->faults || !v->steps) {
		case_free(v);
		return NULL;
	}
	if (c->nsysctls) /* memcpy from NULL, even of 0 bytes, is undefined (UBSan) */
		memcpy(v->sysctls, c->sysctls, c->nsysctls * sizeof(*v->sysctls));
	for (i = 0; r && i < r->nsysctls; i++) {
		for (k = 0; k < v->nsysctls; k++)
			if (v->sysctls[k].host == r->sysctls[i].host &&
			    strcmp(v->sysctls[k].name, r->sysctls[i].name) == 0)
				break;
		v->sysctls[k] = r->sysctls[i]; /* k == nsysctls: appended */
		if (k == v->nsysctls)
			v->nsysctls++;
	}
	if (c->nfaults)
		memcpy(v->faults, c->faults, c->nfaults * sizeof(*v->faults));
	v->nsteps = 0;
	for (i = 0; i < c->nsteps; i++)
		if (!c->steps[i].when || (row >= 0 && (c->steps[i].when & (1u << row))))
			v->steps[v->nsteps++] = c->steps[i];
	return v;
}

int case_expand(const struct fw_case *c, struct fw_case ***out, size_t *n)
{
	static const struct {
		unsigned bit;
		int family;
		const char *name;
	} fams[] = { { CASE_FAMILY_IPV4, AF_INET, "ipv4" }, { CASE_FAMILY_IPV6, AF_INET6, "ipv6" } };
	bool both = (c->families & CASE_FAMILY_IPV4) && (c->families & CASE_FAMILY_IPV6);
	size_t rows = c->nrows ? c->nrows : 1, f, r, count = 0;
	struct fw_case **v = calloc(2 * rows, sizeof(*v));
	char suffix[128];

	*out = NULL;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (f = 0; f < 2; f++) {
		if (!(c->families & fams[f].bit))
			continue;
		for (r = 0; r < rows; r++) {
			snprintf(suffix, sizeof(suffix), "%s%s%s", both ? fams[f].name : "",
				 both && c->nrows ? "," : "", c->nrows ? c->rows[r].name : "");
			v[count] = case_variant(c, fams[f].family, c->nrows ? (int)r : -1, suffix);
			if (!v[count]) {
				while (count)
					case_free(v[--count]);
				free(v);
				return -ENOMEM;
			}
			count++;
		}
	}
	*out = v;
	*n = count;
	return 0;
}
