/* case_yaml: the loader's YAML vocabulary: key tables, scalar converters
 * that name the key in their message, and injection expressions. */
#include "case_int.h"

int load_fail(struct loader *L, const yaml_node_t *node, const char *fmt, ...)
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

/* ---- key tables ------------------------------------------------------- */

static void keys_join(const char *const *keys, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; *keys && used < len; keys++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *keys);
}

bool key_known(const char *const *keys, const char *k)
{
	for (; *keys; keys++)
		if (strcmp(*keys, k) == 0)
			return true;
	return false;
}

/* Reject keys outside the set and duplicate keys. */
int check_keys(struct loader *L, yaml_node_t *map, const struct keyset *ks)
{
	yaml_node_pair_t *p, *q;
	char list[400];

	if (!map || map->type != YAML_MAPPING_NODE)
		return load_fail(L, map, "a %s must be a mapping of key: value", ks->what);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(L, p->key);
		const char *k = scalar(kn);

		if (!k)
			return load_fail(L, kn, "%s keys must be plain words", ks->what);
		if (!key_known(ks->keys, k)) {
			keys_join(ks->keys, list, sizeof(list));
			return load_fail(L, kn, "unknown %s key '%s' (expected %s)", ks->what, k,
					 list);
		}
		for (q = map->data.mapping.pairs.start; q < p; q++)
			if (strcmp(scalar(node_at(L, q->key)), k) == 0)
				return load_fail(L, kn, "duplicate key '%s'", k);
	}
	return 0;
}

yaml_node_t *map_get(struct loader *L, yaml_node_t *map, const char *key)
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

int get_str(struct loader *L, yaml_node_t *n, const char *key, char *out, size_t len)
{
	const char *s = scalar(n);

	if (!s)
		return load_fail(L, n, "'%s' must be a single value, not a list or mapping", key);
	if (strlen(s) >= len)
		return load_fail(L, n, "'%s' is too long (at most %zu characters)", key, len - 1);
	strcpy(out, s);
	return 0;
}

int get_uint(struct loader *L, yaml_node_t *n, const char *key, unsigned long max,
	     unsigned long *out)
{
	const char *s = scalar(n);
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return load_fail(L, n, "'%s' must be a number from 0 to %lu", key, max);
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return load_fail(L, n, "'%s' must be a number from 0 to %lu, not '%s'", key, max,
				 s);
	*out = v;
	return 0;
}

int get_bool(struct loader *L, yaml_node_t *n, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};
	const char *s = scalar(n);

	if (s && key_known(yes, s)) {
		*out = true;
		return 0;
	}
	if (s && key_known(no, s)) {
		*out = false;
		return 0;
	}
	return load_fail(L, n, "'%s' must be true or false", key);
}

int get_duration(struct loader *L, yaml_node_t *n, const char *key, int64_t *out)
{
	const char *s = scalar(n);

	if (!s || fw_duration_parse(s, out) < 0)
		return load_fail(L, n, "'%s' must be a duration such as 200ms or 2s, not '%s'", key,
				 s ? s : "a list");
	return 0;
}

/* Optional keys, named once: 1 when the key is there and was read, 0 when
 * it is absent (out keeps its default), < 0 when its value is bad. */
int opt_str(struct loader *L, yaml_node_t *map, const char *key, char *out, size_t len)
{
	yaml_node_t *n = map_get(L, map, key);
	int ret = n ? get_str(L, n, key, out, len) : 0;

	return ret < 0 ? ret : n != NULL;
}

int opt_uint(struct loader *L, yaml_node_t *map, const char *key, unsigned long min,
	     unsigned long max, unsigned long *out)
{
	yaml_node_t *n = map_get(L, map, key);
	int ret;

	if (!n)
		return 0;
	if ((ret = get_uint(L, n, key, max, out)) < 0)
		return ret;
	if (*out < min)
		return load_fail(L, n, "'%s' must be from %lu to %lu", key, min, max);
	return 1;
}

int opt_bool(struct loader *L, yaml_node_t *map, const char *key, bool *out)
{
	yaml_node_t *n = map_get(L, map, key);
	int ret = n ? get_bool(L, n, key, out) : 0;

	return ret < 0 ? ret : n != NULL;
}

int opt_duration(struct loader *L, yaml_node_t *map, const char *key, int64_t *out)
{
	yaml_node_t *n = map_get(L, map, key);
	int ret = n ? get_duration(L, n, key, out) : 0;

	return ret < 0 ? ret : n != NULL;
}

/* A host name among those allowed (bit i = enum fw_host i). */
int get_host(struct loader *L, yaml_node_t *n, const char *key, unsigned allowed, enum fw_host *out)
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
	return load_fail(L, n, "unknown host '%s' in '%s' (expected %s)", s ? s : "?", key, names);
}

/* flags: exact set "F."; has: at least these "F". */
int get_flags(struct loader *L, yaml_node_t *map, bool required, bool *has, uint8_t *mask,
	      uint8_t *value)
{
	yaml_node_t *exact = map_get(L, map, "flags"), *some = map_get(L, map, "has");
	uint8_t f;

	*has = false;
	if (exact && some)
		return load_fail(L, some,
				 "give either 'flags' (the exact set) or 'has' (flags that must be "
				 "set), not both");
	if (!exact && !some) {
		if (required)
			return load_fail(L, map,
					 "missing 'flags' (tcpdump notation: S, S., F., R, ., P.)");
		return 0;
	}
	if (!scalar(exact ? exact : some) || seg_flags_parse(scalar(exact ? exact : some), &f) < 0)
		return load_fail(L, exact ? exact : some,
				 "bad TCP flags '%s' (tcpdump notation: letters F S R P U E W, "
				 "then '.' for ACK; 'none' for no flags)",
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
    {"prev_snd_nxt", EXPR_PREV_SND_NXT},
    {"prev_rcv_nxt", EXPR_PREV_RCV_NXT},
    {"rcv_wnd_end", EXPR_RCV_WND_END},
    {"rcv_nxt", EXPR_RCV_NXT},
    {"snd_nxt", EXPR_SND_NXT},
    {"own_tsval", EXPR_OWN_TSVAL},
    {"peer_tsval", EXPR_PEER_TSVAL},
    {"tsval(", EXPR_MARK_TSVAL}, /* before "tsval": tsval(NAME) */
    {"tsval", EXPR_TSVAL},
    {"tsecr", EXPR_TSECR},
};

/* A comparison in front of an expression: ">= own_tsval+1". */
static const struct {
	const char *op;
	enum expr_cmp cmp;
} expr_cmps[] = {
    {">=", EXPR_GE}, {"<=", EXPR_LE}, {">", EXPR_GT}, {"<", EXPR_LT}, {"=", EXPR_EQ},
};

int expr_number(const char *s, int64_t *out)
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

/* tsval(NAME): the mark's name, up to the closing parenthesis. */
static int expr_mark(const char **s, struct fw_expr *out)
{
	size_t n = strcspn(*s, ")");

	if (!n || (*s)[n] != ')' || n >= sizeof(out->mark))
		return -EINVAL;
	memcpy(out->mark, *s, n);
	out->mark[n] = '\0';
	*s += n + 1;
	return 0;
}

int expr_parse(const char *s, struct fw_expr *out)
{
	size_t i, n;
	int64_t v;

	memset(out, 0, sizeof(*out));
	while (*s == ' ')
		s++;
	for (i = 0; i < sizeof(expr_cmps) / sizeof(expr_cmps[0]); i++) {
		n = strlen(expr_cmps[i].op);
		if (strncmp(s, expr_cmps[i].op, n) == 0) {
			out->cmp = expr_cmps[i].cmp;
			s += n;
			break;
		}
	}
	while (*s == ' ')
		s++;
	for (i = 0; i < sizeof(expr_bases) / sizeof(expr_bases[0]); i++) {
		n = strlen(expr_bases[i].name);
		if (strncmp(s, expr_bases[i].name, n) != 0)
			continue;
		s += n;
		if (expr_bases[i].base == EXPR_MARK_TSVAL && expr_mark(&s, out) < 0)
			return -EINVAL;
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

void expr_format(const struct fw_expr *x, char *buf, size_t len)
{
	const char *op = "", *base = NULL;
	char off[24] = "";
	size_t i;

	for (i = 0; i < sizeof(expr_cmps) / sizeof(expr_cmps[0]); i++)
		if (x->cmp != EXPR_EQ && expr_cmps[i].cmp == x->cmp)
			op = expr_cmps[i].op;
	for (i = 0; i < sizeof(expr_bases) / sizeof(expr_bases[0]) && !base; i++)
		if (expr_bases[i].base == x->base)
			base = expr_bases[i].name;
	if (x->offset)
		snprintf(off, sizeof(off), "%+lld", (long long)x->offset);
	if (x->base == EXPR_NUMBER)
		snprintf(buf, len, "%s%s%lld", op, op[0] ? " " : "", (long long)x->offset);
	else if (x->base == EXPR_MARK_TSVAL)
		snprintf(buf, len, "%s%stsval(%s)%s", op, op[0] ? " " : "", x->mark, off);
	else
		snprintf(buf, len, "%s%s%s%s", op, op[0] ? " " : "", base ? base : "?", off);
}

int get_expr(struct loader *L, yaml_node_t *n, const char *key, struct fw_expr *out)
{
	out->set = false;
	if (!scalar(n) || expr_parse(scalar(n), out) < 0)
		return load_fail(
		    L, n,
		    "bad value '%s' for '%s' (a number, or rcv_nxt, rcv_wnd_end, snd_nxt, tsval, "
		    "tsecr, prev_snd_nxt, prev_rcv_nxt, own_tsval, peer_tsval, tsval(MARK) with "
		    "an optional +N / -N)",
		    scalar(n) ? scalar(n) : "?", key);
	return 0;
}

int fault_index(const struct fault_rule *rules, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(rules[i].name, name) == 0)
			return (int)i;
	return -1;
}
