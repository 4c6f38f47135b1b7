/* case: load and validate a case file (see case.h for the why of libyaml):
 * the top level, requires:, dut:, and the expansion into runs. The rest of
 * the loader: case_yaml.c (keys, scalars, expressions), case_step.c (step
 * kinds and their words), case_step_load.c (steps), case_fault.c (faults,
 * sysctls, matrices). */
#include "case_int.h"

/* ---- the case -------------------------------------------------------------- */

static const char *const case_keys[] = {"name",	     "summary", "claims",   "refs",   "verdict",
					"condition", "family",	"slow",	    "sysctl", "matrix",
					"faults",    "steps",	"requires", "dut",    NULL};

static int load_list(struct loader *L, yaml_node_t *n, const char *key, char *out, size_t width,
		     size_t *count)
{
	yaml_node_item_t *it;
	int ret;

	if (n->type != YAML_SEQUENCE_NODE)
		return load_fail(L, n, "'%s' must be a list ([a, b] or one '- item' per line)",
				 key);
	*count = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		if (*count == CASE_MAX_LIST)
			return load_fail(L, node_at(L, *it), "'%s' has more than %d entries", key,
					 CASE_MAX_LIST);
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
	static const char *const keys[] = {"kernel",  "sysctls", "counters", "sockopts",
					   "modules", "config",	 "programs", NULL};
	static const struct keyset ks = {"requires", keys};
	char names[REQUIRES_MAX][32];
	yaml_node_t *n;
	size_t i;
	int ret;

	if ((ret = check_keys(L, map, &ks)) < 0)
		return ret;
	if ((n = map_get(L, map, "kernel"))) {
		if ((ret = get_str(L, n, "kernel", r->kernel_text, sizeof(r->kernel_text))) < 0)
			return ret;
		if (requires_parse_version(r->kernel_text, r->kernel) < 0 || !r->kernel[0])
			return load_fail(L, n,
					 "'kernel' must be a version like 6.12 or 6.1.0, not '%s'",
					 r->kernel_text);
	}
	if ((n = map_get(L, map, "sysctls"))) {
		if ((ret = load_list(L, n, "sysctls", &r->sysctls[0][0], sizeof(r->sysctls[0]),
				     &r->nsysctls)) < 0)
			return ret;
		for (i = 0; i < r->nsysctls; i++)
			if (strncmp(r->sysctls[i], "net.", 4) != 0 || strstr(r->sysctls[i], "..") ||
			    strchr(r->sysctls[i], '/'))
				return load_fail(L, node_at(L, n->data.sequence.items.start[i]),
						 "required sysctl '%s' must be a net.* name",
						 r->sysctls[i]);
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
				return load_fail(L, node_at(L, n->data.sequence.items.start[i]),
						 "'config' lists kernel options like "
						 "CONFIG_NF_CONNTRACK, not '%s'",
						 r->configs[i]);
	}
	if ((n = map_get(L, map, "sockopts"))) {
		if ((ret = load_list(L, n, "sockopts", &names[0][0], sizeof(names[0]),
				     &r->nsockopts)) < 0)
			return ret;
		for (i = 0; i < r->nsockopts; i++) {
			const struct sockopt_name *so = case_sockopt_lookup(names[i]);

			if (!so)
				return load_fail(
				    L, node_at(L, n->data.sequence.items.start[i]),
				    "unknown socket option '%s' (the ones a setsockopt step takes)",
				    names[i]);
			snprintf(r->sockopts[i].name, sizeof(r->sockopts[i].name), "%s", names[i]);
			r->sockopts[i].level = so->level;
			r->sockopts[i].opt = so->opt;
		}
	}
	return 0;
}

/* dut: {ruleset: FILE, setup: COMMAND, run: COMMAND, ready_port: N,
 * mode: routed|bridge}: the device under test. Files are relative to the
 * case file's directory. What it runs (nft, the program run starts) is a
 * requirement: without it the case is skipped, saying so. */
static int load_dut(struct loader *L, yaml_node_t *map, struct fw_case *c)
{
	static const char *const keys[] = {"ruleset",	 "setup",      "run",
					   "ready_port", "interfaces", "mode", NULL};
	static const struct keyset ks = {"dut", keys};
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
			return load_fail(L, n, "'ruleset' path is too long");
		if (access(d->ruleset, R_OK) < 0)
			return load_fail(L, n, "ruleset %s: %s", d->ruleset, strerror(errno));
		if (requires_add_program(&c->requires, "nft") < 0)
			return load_fail(L, n, "too many requirements");
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
			return load_fail(L, n, "'run' must start with the program's name");
	}
	if ((n = map_get(L, map, "ready_port"))) {
		if ((ret = get_uint(L, n, "ready_port", 65535, &v)) < 0)
			return ret;
		if (!v || !d->run[0])
			return load_fail(
			    L, n,
			    "'ready_port' is a port from 1 to 65535 the 'run' program listens on");
		d->ready_port = (uint16_t)v;
	}
	if ((n = map_get(L, map, "mode"))) {
		char mode[16];

		if ((ret = get_str(L, n, "mode", mode, sizeof(mode))) < 0)
			return ret;
		if (strcmp(mode, "routed") == 0)
			d->mode = DUT_ROUTED;
		else if (strcmp(mode, "bridge") == 0)
			d->mode = DUT_BRIDGE;
		else
			return load_fail(L, n, "'mode' is routed (the default) or bridge, not '%s'",
					 mode);
	}
	if ((n = map_get(L, map, "interfaces"))) {
		char names[CASE_MAX_LIST][sizeof(d->interfaces[0])];

		size_t count = 0;

		if (d->ruleset[0] || d->setup[0] || d->run[0])
			return load_fail(
			    L, n,
			    "an external box ('interfaces') has no ruleset, setup or run of ours");
		if ((ret = load_list(L, n, "interfaces", &names[0][0], sizeof(names[0]), &count)) <
		    0)
			return ret;
		memcpy(d->interfaces, names, sizeof(d->interfaces));
		if (count != 2 || !strcmp(d->interfaces[0], d->interfaces[1]))
			return load_fail(L, n,
					 "'interfaces' names two different interfaces: [toward the "
					 "client, toward the server]");
	}
	return 0;
}

/* family: ipv4 | ipv6 | both | [ipv4, ipv6] */
static int load_families(struct loader *L, yaml_node_t *n, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bits;
	} names[] = {{"ipv4", CASE_FAMILY_IPV4},
		     {"ipv6", CASE_FAMILY_IPV6},
		     {"both", CASE_FAMILY_IPV4 | CASE_FAMILY_IPV6}};
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
			return load_fail(L, n, "'family' lists no family");
		return 0;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (scalar(n) && strcmp(scalar(n), names[i].name) == 0) {
			*out = names[i].bits;
			return 0;
		}
	return load_fail(L, n, "unknown family '%s' (expected ipv4, ipv6, both, or a list)",
			 scalar(n) ? scalar(n) : "?");
}

/* Every matrix row must run something: steps whose 'when' leaves a row out
 * would otherwise make that row a run with no steps, which proves nothing. */
static int rows_have_steps(struct loader *L, const struct fw_case *c, yaml_node_t *matrix)
{
	size_t r, i;

	for (r = 0; r < c->nrows; r++) {
		for (i = 0; i < c->nsteps; i++)
			if (!c->steps[i].when || (c->steps[i].when & (1u << r)))
				break;
		if (i == c->nsteps)
			return load_fail(L, node_at(L, matrix->data.sequence.items.start[r]),
					 "matrix row '%s' has no steps: every step's 'when' leaves it out",
					 c->rows[r].name);
	}
	return 0;
}

/* What a case says about itself: name, summary, verdict, condition, claims, refs. */
static int load_case_words(struct loader *L, yaml_node_t *root, struct fw_case *c,
			   const char *default_name)
{
	yaml_node_t *n;
	size_t i;
	int ret;

	snprintf(c->name, sizeof(c->name), "%s", default_name ? default_name : "");
	if ((ret = opt_str(L, root, "name", c->name, sizeof(c->name))) < 0)
		return ret;
	n = map_get(L, root, "name");
	if (!c->name[0])
		return load_fail(L, root, "the case needs a 'name'");
	for (i = 0; c->name[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=[]",
			    c->name[i]) ||
		    strstr(c->name, ".."))
			return load_fail(L, n ? n : root,
					 "name '%s' may use only letters, digits, - _ . / = [ ]",
					 c->name);
	if ((ret = opt_str(L, root, "summary", c->summary, sizeof(c->summary))) <= 0)
		return ret < 0 ? ret : load_fail(L, root, "the case needs a one-line 'summary'");
	if (!c->summary[0]) /* "summary:" alone, or only a comment after it */
		return load_fail(L, map_get(L, root, "summary"),
				 "the 'summary' is empty: say in one line what the case shows");
	if ((ret = opt_str(L, root, "verdict", c->verdict, sizeof(c->verdict))) < 0 ||
	    (ret = opt_str(L, root, "condition", c->condition, sizeof(c->condition))) < 0)
		return ret;
	if ((n = map_get(L, root, "claims"))) {
		if ((ret = load_list(L, n, "claims", &c->claims[0][0], sizeof(c->claims[0]),
				     &c->nclaims)) < 0)
			return ret;
		for (i = 0; i < c->nclaims; i++)
			if (!claim_id_valid(c->claims[i]))
				return load_fail(
				    L, node_at(L, n->data.sequence.items.start[i]),
				    "claim '%s' is not an id like C16 (see docs/claims.md)",
				    c->claims[i]);
	}
	if ((n = map_get(L, root, "refs")) &&
	    (ret = load_list(L, n, "refs", &c->refs[0][0], sizeof(c->refs[0]), &c->nrefs)) < 0)
		return ret;
	return 0;
}

static int load_faults(struct loader *L, yaml_node_t *n, struct fw_case *c)
{
	long count = n->type == YAML_SEQUENCE_NODE
			 ? (long)(n->data.sequence.items.top - n->data.sequence.items.start)
			 : -1;
	int ret;

	if (count < 0)
		return load_fail(L, n, "'faults' must be a list of faults");
	if (count > CASE_MAX_FAULTS)
		return load_fail(L, n, "'faults' has more than %d entries", CASE_MAX_FAULTS);
	c->faults = calloc((size_t)count + 1, sizeof(*c->faults));
	if (!c->faults)
		return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
	for (; c->nfaults < (size_t)count; c->nfaults++) {
		yaml_node_t *f = node_at(L, n->data.sequence.items.start[c->nfaults]);

		if ((ret = load_fault(L, c, f, &c->faults[c->nfaults])) < 0)
			return ret;
	}
	return 0;
}

static int load_steps(struct loader *L, yaml_node_t *root, struct fw_case *c)
{
	yaml_node_t *n = map_get(L, root, "steps");
	long count;
	int ret;

	if (!n)
		return load_fail(L, root, "the case needs 'steps'");
	count = n->type == YAML_SEQUENCE_NODE
		    ? (long)(n->data.sequence.items.top - n->data.sequence.items.start)
		    : 0;
	if (count == 0)
		return load_fail(L, n, "'steps' must be a non-empty list of steps");
	if (count > CASE_MAX_STEPS)
		return load_fail(L, n, "'steps' has %ld entries, more than %d", count,
				 CASE_MAX_STEPS);
	c->steps = calloc((size_t)count, sizeof(*c->steps));
	if (!c->steps)
		return fw_err(L->err, L->errlen, -ENOMEM, "out of memory");
	for (; c->nsteps < (size_t)count; c->nsteps++) {
		yaml_node_t *sn = node_at(L, n->data.sequence.items.start[c->nsteps]);
		const struct fw_step *s = &c->steps[c->nsteps];

		if ((ret = load_step(L, c, sn, &c->steps[c->nsteps])) < 0)
			return ret;
		if (c->dut.interfaces[0][0] && (s->host == HOST_DUT || s->peer == HOST_DUT))
			return load_fail(
			    L, sn,
			    "an external box has no namespace of ours: no conntrack table, "
			    "counters or sysctls to read, nor an address to connect to");
	}
	return 0;
}

static int load_case(struct loader *L, struct fw_case *c, const char *default_name)
{
	static const struct keyset ks = {"case", case_keys};
	yaml_node_t *root = yaml_document_get_root_node(&L->doc), *n;
	size_t i;
	int ret;

	if (!root)
		return load_fail(L, NULL, "the file is empty");
	if ((ret = check_keys(L, root, &ks)) < 0 ||
	    (ret = load_case_words(L, root, c, default_name)) < 0)
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
			return load_fail(L, map_get(L, root, "sysctl"),
					 "sysctls for 'dut' need a device under test in a "
					 "namespace of ours: 'dut:' with a ruleset, setup or run");
	if ((ret = opt_bool(L, root, "slow", &c->slow)) < 0)
		return ret;
	if ((n = map_get(L, root, "faults")) && (ret = load_faults(L, n, c)) < 0)
		return ret;
	if ((ret = load_steps(L, root, c)) < 0)
		return ret;
	return rows_have_steps(L, c, map_get(L, root, "matrix"));
}

/* libyaml keeps an alias as a second reference to its anchor's node: every
 * reference beyond the first is one alias use. Bounded, so a small file
 * cannot make the loader walk (and copy) the same nodes without end. */
static int alias_count(struct loader *L, unsigned char *seen, size_t nodes, int id, size_t *uses)
{
	if (id < 1 || (size_t)id > nodes || !seen[id]++ || ++*uses <= CASE_MAX_ALIASES)
		return 0;
	return load_fail(L, node_at(L, id), "more than %d uses of YAML aliases (*name) in the file",
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
			for (it = n->data.sequence.items.start;
			     it < n->data.sequence.items.top && !ret; it++)
				ret = alias_count(L, seen, nodes, *it, &uses);
			break;
		case YAML_MAPPING_NODE:
			for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && !ret;
			     p++)
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
	struct loader L = {.label = label, .err = err, .errlen = errlen};
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
			      "%s: not a regular file (a FIFO, socket or device): give a case file",
			      path);
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
		size_t room =
		    sizeof(v->name) - 3 > strlen(suffix) ? sizeof(v->name) - 3 - strlen(suffix) : 0;
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
	/* a fault of other rows stays declared (steps name faults by index)
	 * but never acts here, and its silence is no failure */
	for (i = 0; i < c->nfaults; i++)
		if (c->faults[i].when && !(row >= 0 && (c->faults[i].when & (1u << row)))) {
			v->faults[i].armed = false;
			v->faults[i].optional = true;
		}
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
	} fams[] = {{CASE_FAMILY_IPV4, AF_INET, "ipv4"}, {CASE_FAMILY_IPV6, AF_INET6, "ipv6"}};
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
