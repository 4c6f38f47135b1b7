/* case: load and validate a case file. See case.h for the why of libyaml. */
#include "case.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <yaml.h>

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

static int get_host(struct loader *L, yaml_node_t *n, const char *key, bool allow_wire,
		    enum fw_host *out)
{
	const char *s = scalar(n);

	if (!s || fw_host_parse(s, out) < 0 || (!allow_wire && *out == HOST_WIRE))
		return fail(L, n, "unknown host '%s' in '%s' (expected client, server%s)",
			    s ? s : "?", key, allow_wire ? ", wire" : "");
	return 0;
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
			    "bad value '%s' for '%s' (a number, or rcv_nxt, snd_nxt, tsval, tsecr with an optional +N / -N)",
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
	[STEP_DISARM] = "disarm",	[STEP_EXPECT_SEGMENT] = "segment",
	[STEP_EXPECT_NO_SEGMENT] = "no_segment", [STEP_EXPECT_STATE] = "state",
	[STEP_EXPECT_GONE] = "gone",
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
 * validator, the error messages and the README agree. */
static const struct {
	const char *const keys[16];
	const char *required; /* one key that must be present, or NULL */
	int64_t default_within_ns;
} step_rules[STEP_KIND_COUNT] = {
	[STEP_LISTEN] = { { "host", "sock", "port", "reuseaddr", "result", NULL }, "port", 0 },
	[STEP_CONNECT] = { { "host", "to", "sock", "port", "from_port", "reuseaddr", "linger",
			     "result", "within", NULL }, "port", 2 * FW_NS_PER_SEC },
	[STEP_ACCEPT] = { { "host", "sock", "result", "within", NULL }, NULL, 2 * FW_NS_PER_SEC },
	[STEP_SEND] = { { "host", "sock", "bytes", "result", NULL }, "bytes", 0 },
	[STEP_RECV] = { { "host", "sock", "bytes", "eof", "result", "within", NULL }, NULL,
			2 * FW_NS_PER_SEC },
	[STEP_SHUTDOWN] = { { "host", "sock", "result", NULL }, NULL, 0 },
	[STEP_CLOSE] = { { "host", "sock", "result", NULL }, NULL, 0 },
	[STEP_SETSOCKOPT] = { { "host", "sock", "linger", "reuseaddr", "result", NULL }, NULL, 0 },
	[STEP_INJECT] = { { "from", "to", "flags", "seq", "ack", "win", "ts", "tsval", "tsecr",
			    "len", NULL }, "flags", 0 },
	[STEP_ARM] = { { "fault", NULL }, "fault", 0 },
	[STEP_DISARM] = { { "fault", NULL }, "fault", 0 },
	[STEP_EXPECT_SEGMENT] = { { "from", "flags", "has", "seq", "ack", "len", "within", NULL },
				  "from", FW_NS_PER_SEC },
	[STEP_EXPECT_NO_SEGMENT] = { { "from", "flags", "has", "within", NULL }, "within", 0 },
	[STEP_EXPECT_STATE] = { { "host", "sock", "state", "within", NULL }, "state",
				2 * FW_NS_PER_SEC },
	[STEP_EXPECT_GONE] = { { "host", "sock", "within", NULL }, NULL, 2 * FW_NS_PER_SEC },
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
	"tsecr", "len", "state", "within", "fault", NULL,
};

static enum fw_host other_host(enum fw_host h)
{
	return h == HOST_CLIENT ? HOST_SERVER : HOST_CLIENT;
}

static void step_describe(const struct fw_case *c, struct fw_step *s)
{
	char within[32], flags[16] = "any";
	const char *h = fw_host_name(s->host);

	fw_duration_format(s->within_ns, within, sizeof(within));
	if (s->has_flags)
		seg_flags_format(s->flags_value, flags, sizeof(flags));
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
		snprintf(s->text, sizeof(s->text), "%s sets socket options", h);
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
		snprintf(s->text, sizeof(s->text), "%s sends %s%s within %s", h,
			 s->has_flags && s->flags_mask != 0xff ? "a segment with " : "", flags,
			 within);
		break;
	case STEP_EXPECT_NO_SEGMENT:
		snprintf(s->text, sizeof(s->text), "%s sends no %s%ssegment for %s", h,
			 s->has_flags ? flags : "", s->has_flags ? " " : "", within);
		break;
	case STEP_EXPECT_STATE:
		snprintf(s->text, sizeof(s->text), "%s's socket '%s' reaches %s within %s", h,
			 s->sock, tcp_state_name(s->state), within);
		break;
	case STEP_EXPECT_GONE:
		snprintf(s->text, sizeof(s->text), "%s's socket '%s' is gone within %s", h,
			 s->sock, within);
		break;
	}
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

		if (strcmp(k, "do") && strcmp(k, "expect") && !key_known(step_rules[s->kind].keys, k))
			return fail(L, node_at(L, p->key), "'%s' does not apply to %s '%s'", k,
				    expect ? "expectation" : "action", step_names[s->kind]);
	}
	if (step_rules[s->kind].required && !map_get(L, map, step_rules[s->kind].required))
		return fail(L, map, "%s '%s' needs '%s'", expect ? "expectation" : "action",
			    step_names[s->kind], step_rules[s->kind].required);

	s->host = HOST_CLIENT;
	s->linger = -1;
	s->reuseaddr = -1;
	s->len = -1;
	s->win = -1;
	s->fault = -1;
	s->within_ns = step_rules[s->kind].default_within_ns;
	strcpy(s->sock, s->kind == STEP_LISTEN ? "listen" : "conn");

	if ((n = map_get(L, map, "host")) && (ret = get_host(L, n, "host", false, &s->host)) < 0)
		return ret;
	if ((n = map_get(L, map, "from")) && (ret = get_host(L, n, "from", false, &s->host)) < 0)
		return ret;
	s->peer = other_host(s->host);
	if ((n = map_get(L, map, "to")) && (ret = get_host(L, n, "to", false, &s->peer)) < 0)
		return ret;
	if (s->peer == s->host)
		return fail(L, map_get(L, map, "to"), "'to' must name the other host, not %s",
			    fw_host_name(s->host));
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
	if (s->kind == STEP_SETSOCKOPT && s->linger < 0 && s->reuseaddr < 0)
		return fail(L, map, "action 'setsockopt' needs 'linger' or 'reuseaddr'");
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
	if ((n = map_get(L, map, "state"))) {
		s->state = scalar(n) ? tcp_state_parse(scalar(n)) : -1;
		if (s->state < 0)
			return fail(L, n,
				    "unknown TCP state '%s' (expected ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING, LISTEN)",
				    scalar(n) ? scalar(n) : "?");
	}
	if ((n = map_get(L, map, "within")) && (ret = get_duration(L, n, "within", &s->within_ns)) < 0)
		return ret;
	if ((n = map_get(L, map, "fault"))) {
		s->fault = scalar(n) ? fault_index(c->faults, c->nfaults, scalar(n)) : -1;
		if (s->fault < 0)
			return fail(L, n, "unknown fault '%s' (no fault of that name is declared under 'faults')",
				    scalar(n) ? scalar(n) : "?");
	}
	step_describe(c, s);
	return 0;
}

/* ---- faults --------------------------------------------------------------- */

static const char *const fault_keys[] = { "name", "from", "flags", "has", "payload", "nth",
					  "count", "action", "delay", "armed", "optional", NULL };

static const struct {
	const char *name;
	enum fault_payload value;
} payload_names[] = { { "any", FAULT_PAYLOAD_ANY }, { "none", FAULT_PAYLOAD_NONE },
		      { "some", FAULT_PAYLOAD_SOME } };

static int load_fault(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fault_rule *f)
{
	static const struct keyset ks = { "fault", fault_keys };
	yaml_node_t *n;
	unsigned long v;
	bool has;
	size_t i;
	int ret;

	memset(f, 0, sizeof(*f));
	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	if (!(n = map_get(L, map, "name")))
		return fail(L, map, "a fault needs a 'name'");
	if ((ret = get_str(L, n, "name", f->name, sizeof(f->name))) < 0)
		return ret;
	if (fault_index(c->faults, c->nfaults, f->name) >= 0)
		return fail(L, n, "a fault named '%s' is already declared", f->name);
	if (!(n = map_get(L, map, "from")))
		return fail(L, map, "fault '%s' needs 'from' (the host whose segments it breaks)", f->name);
	if ((ret = get_host(L, n, "from", false, &f->from)) < 0)
		return ret;
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
	f->nth = 1;
	f->count = 1;
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
	if (!(n = map_get(L, map, "action")))
		return fail(L, map, "fault '%s' needs an 'action' (drop, delay, pass)", f->name);
	for (i = 0; i <= FAULT_DELAY; i++)
		if (scalar(n) && strcmp(scalar(n), fault_action_name((enum fault_action)i)) == 0)
			break;
	if (i > FAULT_DELAY)
		return fail(L, n, "unknown action '%s' (expected drop, delay, pass)",
			    scalar(n) ? scalar(n) : "?");
	f->action = (enum fault_action)i;
	n = map_get(L, map, "delay");
	if (f->action == FAULT_DELAY && !n)
		return fail(L, map, "fault '%s': action 'delay' needs 'delay: <duration>'", f->name);
	if (f->action != FAULT_DELAY && n)
		return fail(L, n, "'delay' applies only to action 'delay'");
	if (n && (ret = get_duration(L, n, "delay", &f->delay_ns)) < 0)
		return ret;
	f->armed = true;
	if ((n = map_get(L, map, "armed")) && (ret = get_bool(L, n, "armed", &f->armed)) < 0)
		return ret;
	if ((n = map_get(L, map, "optional")) && (ret = get_bool(L, n, "optional", &f->optional)) < 0)
		return ret;
	return 0;
}

/* ---- sysctls: "sysctl: {server: {net.ipv4.tcp_rfc1337: 1}}" ------------ */

static int load_sysctls(struct loader *L, struct fw_case *c, yaml_node_t *top)
{
	static const char *const host_keys[] = { "client", "server", "wire", NULL };
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
			for (size_t k = 0; k < c->nsysctls; k++)
				if (c->sysctls[k].host == host && strcmp(c->sysctls[k].name, name) == 0)
					return fail(L, kn, "sysctl '%s' is set twice for %s", name,
						    fw_host_name(host));
			grown = realloc(c->sysctls, (c->nsysctls + 1) * sizeof(*grown));
			if (!grown)
				return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
			c->sysctls = grown;
			s = &c->sysctls[c->nsysctls++];
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

/* ---- the case -------------------------------------------------------------- */

static const char *const case_keys[] = { "name", "summary", "claims", "refs", "verdict",
					 "family", "sysctl", "faults", "steps", NULL };

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
	if ((n = map_get(L, root, "claims"))) {
		if ((ret = load_list(L, n, "claims", &c->claims[0][0], sizeof(c->claims[0]), &c->nclaims)) < 0)
			return ret;
		for (i = 0; i < c->nclaims; i++)
			if (!claim_id_valid(c->claims[i]))
				return fail(L, node_at(L, n->data.sequence.items.start[i]),
					    "claim '%s' is not an id like C16 (see shared/claims.md)",
					    c->claims[i]);
	}
	if ((n = map_get(L, root, "refs")) &&
	    (ret = load_list(L, n, "refs", &c->refs[0][0], sizeof(c->refs[0]), &c->nrefs)) < 0)
		return ret;
	c->family = AF_INET;
	if ((n = map_get(L, root, "family"))) {
		const char *f = scalar(n);

		if (f && strcmp(f, "ipv6") == 0)
			c->family = AF_INET6;
		else if (!f || strcmp(f, "ipv4") != 0)
			return fail(L, n, "unknown family '%s' (expected ipv4, ipv6)", f ? f : "?");
	}
	if ((n = map_get(L, root, "sysctl")) && (ret = load_sysctls(L, c, n)) < 0)
		return ret;
	if ((n = map_get(L, root, "faults"))) {
		if (n->type != YAML_SEQUENCE_NODE)
			return fail(L, n, "'faults' must be a list of faults");
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
	c->steps = calloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start),
			  sizeof(*c->steps));
	if (!c->steps)
		return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		if ((ret = load_step(L, c, node_at(L, *it), &c->steps[c->nsteps])) < 0)
			return ret;
		c->nsteps++;
	}
	return 0;
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
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;
	int ret;

	*out = NULL;
	if (!f)
		return fw_err(err, errlen, -errno, "%s: cannot open: %s", path, strerror(errno));
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
	free(c->sysctls);
	free(c->faults);
	free(c->steps);
	free(c);
}
