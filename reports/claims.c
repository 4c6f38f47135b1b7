#include "claims.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

static const char *const claim_status_names[] = {
	[CLAIM_HOLDS] = "holds",
	[CLAIM_HOLDS_IF] = "holds if",
	[CLAIM_DOES_NOT_HOLD] = "DOES NOT HOLD",
	[CLAIM_UNCONFIRMED] = "unconfirmed",
	[CLAIM_NOT_RUN] = "not testable",
	[CLAIM_NOT_COVERED] = "not covered",
};

const char *claim_status_name(enum claim_status s)
{
	return (size_t)s < sizeof(claim_status_names) / sizeof(claim_status_names[0]) ?
		       claim_status_names[s] :
		       "?";
}

/* "| C16 | An RST ... | 002 |" -> id and text, cells trimmed. */
static int claims_parse_row(const char *line, struct claim *c)
{
	const char *p = line, *cell, *end;
	size_t len;

	if (*p++ != '|')
		return -1;
	while (*p == ' ')
		p++;
	if (p[0] != 'C' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' || p[3] != ' ')
		return -1;
	memcpy(c->id, p, 3);
	c->id[3] = '\0';
	cell = strchr(p, '|');
	if (!cell)
		return -1;
	cell++;
	while (*cell == ' ')
		cell++;
	end = strchr(cell, '|');
	if (!end)
		return -1;
	while (end > cell && end[-1] == ' ')
		end--;
	len = (size_t)(end - cell) < sizeof(c->text) - 1 ? (size_t)(end - cell) : sizeof(c->text) - 1;
	memcpy(c->text, cell, len);
	c->text[len] = '\0';
	return 0;
}

int claims_load(const char *path, struct claim **out, size_t *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct claim *v = NULL, c, *grown;
	char line[2048];
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!f)
		return fw_err(err, errlen, -errno, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (claims_parse_row(line, &c) < 0)
			continue;
		grown = realloc(v, (*n + 1) * sizeof(*v));
		if (!grown) {
			ret = fw_err(err, errlen, -ENOMEM, "out of memory");
			break;
		}
		v = grown;
		v[(*n)++] = c;
	}
	fclose(f);
	if (ret == 0 && *n == 0)
		ret = fw_err(err, errlen, -EINVAL, "%s: no claim rows (| C01 | text | notes |)", path);
	if (ret < 0) {
		free(v);
		*n = 0;
		return ret;
	}
	*out = v;
	return 0;
}

int claims_read_results(const char *path, struct case_result **out, size_t *n, char *err,
			size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *cases, *item;
	struct case_result *v = NULL;
	size_t i;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!root)
		return fw_err(err, errlen, -EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	cases = json_object_get(root, "cases");
	if (!json_is_array(cases)) {
		ret = fw_err(err, errlen, -EINVAL,
			     "%s: no \"cases\" array (expected the results.json of --report-dir)", path);
		goto out;
	}
	v = calloc(json_array_size(cases) + 1, sizeof(*v));
	if (!v) {
		ret = fw_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(cases, i, item) {
		char *text = json_dumps(item, JSON_COMPACT);
		char why[FW_ERRLEN];

		ret = text ? result_from_json(text, &v[i], why, sizeof(why)) : -ENOMEM;
		free(text);
		if (ret < 0) {
			fw_err(err, errlen, ret, "%s: case %zu: %s", path, i + 1,
			       ret == -ENOMEM ? "out of memory" : why);
			break;
		}
		(*n)++;
	}
out:
	json_decref(root);
	if (ret < 0) {
		for (i = 0; v && i < *n; i++)
			result_clear(&v[i]);
		free(v);
		*n = 0;
		return ret;
	}
	*out = v;
	return 0;
}

static bool result_covers(const struct case_result *r, const char *id)
{
	size_t k;

	for (k = 0; k < r->nclaims; k++)
		if (strcmp(r->claims[k], id) == 0)
			return true;
	return false;
}

/* Does a case's verdict speak about this claim? A verdict that names claim
 * ids ("C19 does not hold when ...") is about those only; one that names
 * none is about every claim of its case. */
static bool verdict_about(const char *verdict, const char *id)
{
	bool names_any = false;
	const char *p;

	for (p = verdict; *p; p++) {
		if (p[0] != 'C' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
		    (p[3] >= '0' && p[3] <= '9') || (p > verdict && ((p[-1] >= 'A' && p[-1] <= 'Z') ||
								     (p[-1] >= 'a' && p[-1] <= 'z'))))
			continue;
		names_any = true;
		if (strncmp(p, id, 3) == 0)
			return true;
	}
	return !names_any;
}

/* A failed run leaves the claim open whatever the others say: the catalog
 * could not confirm what this kernel does. */
enum claim_status claims_judge(const char *id, const struct case_result *res, size_t nres,
			       const char **reason)
{
	bool covered = false, passed = false;
	const char *contradiction = NULL, *condition = NULL;
	size_t i;

	*reason = NULL;
	for (i = 0; i < nres; i++) {
		const struct case_result *r = &res[i];

		if (!result_covers(r, id))
			continue;
		covered = true;
		switch (r->status) {
		case CASE_FAIL:
		case CASE_ERROR:
		case CASE_INCONCLUSIVE:
			*reason = r->name;
			return CLAIM_UNCONFIRMED;
		case CASE_SKIP: /* the first skipped run says why */
			if (!*reason)
				*reason = r->message;
			break;
		case CASE_PASS:
			passed = true;
			if (r->verdict[0] && !contradiction && verdict_about(r->verdict, id))
				contradiction = r->verdict;
			if (r->condition[0] && !condition && verdict_about(r->condition, id))
				condition = r->condition;
			break;
		}
	}
	if (!covered)
		return CLAIM_NOT_COVERED;
	if (!passed)
		return CLAIM_NOT_RUN;
	*reason = NULL;
	if (contradiction) {
		*reason = contradiction;
		return CLAIM_DOES_NOT_HOLD;
	}
	if (condition) {
		*reason = condition;
		return CLAIM_HOLDS_IF;
	}
	return CLAIM_HOLDS;
}

/* "<prefix><text><suffix>", the text as a terminal may safely get it. */
static void line_put(FILE *f, const char *prefix, const char *text, const char *suffix)
{
	fputs(prefix, f);
	report_text_puts(f, text, false);
	fputs(suffix, f);
}

/* A claim that holds: the first passing run covering it says what it showed. */
static void claims_print_holds_why(FILE *f, const char *id, const struct case_result *res,
				   size_t nres)
{
	size_t i;

	for (i = 0; i < nres; i++)
		if (res[i].status == CASE_PASS && result_covers(&res[i], id)) {
			line_put(f, "      why: ", res[i].name, ": ");
			line_put(f, "", res[i].summary, "\n");
			return;
		}
}

size_t claims_print(FILE *f, const struct claim *claims, size_t n, const struct case_result *res,
		    size_t nres)
{
	size_t i, j, not_holding = 0;

	for (i = 0; i < n; i++) {
		const char *reason;
		enum claim_status st = claims_judge(claims[i].id, res, nres, &reason);
		size_t runs = 0;

		if (st == CLAIM_DOES_NOT_HOLD)
			not_holding++;
		fprintf(f, "%s  %-13s %s\n", claims[i].id, claim_status_name(st), claims[i].text);
		if (st == CLAIM_DOES_NOT_HOLD)
			line_put(f, "      why: ", reason, "\n");
		else if (st == CLAIM_HOLDS_IF)
			line_put(f, "      condition: ", reason, "\n");
		else if (st == CLAIM_HOLDS)
			claims_print_holds_why(f, claims[i].id, res, nres);
		else if (st == CLAIM_UNCONFIRMED)
			line_put(f, "      ", reason, " did not pass\n");
		else if (st == CLAIM_NOT_RUN)
			line_put(f, "      not testable on this kernel: ", reason, "\n");
		for (j = 0; j < nres; j++) {
			if (!result_covers(&res[j], claims[i].id))
				continue;
			line_put(f, runs ? ", " : "      cases: ", res[j].name, " ");
			fputs(case_status_name(res[j].status), f);
			runs++;
		}
		if (runs)
			fputc('\n', f);
	}
	return not_holding;
}

/* ---- the claims table as a stdout writer (--format claims) ------------------ */

struct claims_writer {
	FILE *out;
	struct claim *claims;
	size_t nclaims;
	struct case_result *res; /* without timelines: names, claims, status, verdict */
	size_t nres;
};

static int claims_begin(const struct report_ctx *ctx, void **state)
{
	struct claims_writer *w = calloc(1, sizeof(*w));
	const char *path = ctx->claims_file ? ctx->claims_file : "docs/claims.md";
	char err[FW_ERRLEN];
	int ret;

	if (!w)
		return -ENOMEM;
	w->out = ctx->out;
	ret = claims_load(path, &w->claims, &w->nclaims, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "finwave: %s (give the claims list with --claims FILE)\n", err);
		free(w);
		return ret;
	}
	*state = w;
	return 0;
}

static int claims_case_done(void *state, const struct case_result *r, size_t index)
{
	struct claims_writer *w = state;
	struct case_result *grown = realloc(w->res, (w->nres + 1) * sizeof(*grown));

	(void)index;
	if (!grown)
		return -ENOMEM;
	w->res = grown;
	w->res[w->nres] = *r;
	memset(&w->res[w->nres].tl, 0, sizeof(w->res[w->nres].tl)); /* not ours */
	w->nres++;
	return 0;
}

static int claims_end(void *state, const struct report_summary *sum)
{
	struct claims_writer *w = state;
	size_t against;
	int ret;

	if (!w)
		return 0;
	against = claims_print(w->out, w->claims, w->nclaims, w->res, w->nres);
	fprintf(w->out, "%zu claim(s), %zu do not hold on this kernel; %zu run(s): %zu passed, %zu failed, %zu errors%s\n",
		w->nclaims, against, w->nres, sum->counts[CASE_PASS], sum->counts[CASE_FAIL],
		sum->counts[CASE_ERROR], sum->interrupted ? " (interrupted)" : "");
	free(w->res);
	free(w->claims);
	ret = report_flush(w->out);
	free(w);
	return ret;
}

const struct report_ops report_claims = {
	.name = "claims",
	.to_file = false,
	.begin = claims_begin,
	.case_done = claims_case_done,
	.end = claims_end,
};
