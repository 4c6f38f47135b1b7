/* json: one JSON document for the run (docs/results.schema.json, described
 * in docs/reports.md): the run's totals and every case's full result,
 * timeline included, exactly as result_to_json() gives it (result_json()), so a tool can
 * read a case back with result_from_json(). Written with jansson at the end,
 * when the totals are known. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "report.h"
#include "util.h"

struct jsonw {
	struct report_out out;
	json_t *cases;
	size_t total;
};

static int jsonw_open(const struct report_ctx *ctx, void **state, bool to_file)
{
	struct jsonw *w = calloc(1, sizeof(*w));
	int ret = -ENOMEM;

	if (!w)
		goto out;
	w->total = ctx->total;
	w->cases = json_array();
	if (!w->cases)
		goto out;
	ret = report_open(ctx, to_file, "results.json", &w->out);
	if (ret < 0)
		goto out;
	*state = w;
	w = NULL;
out:
	if (w)
		json_decref(w->cases);
	free(w);
	return ret;
}

static int jsonw_begin_out(const struct report_ctx *ctx, void **state)
{
	return jsonw_open(ctx, state, false);
}

static int jsonw_begin_file(const struct report_ctx *ctx, void **state)
{
	return jsonw_open(ctx, state, true);
}

static int jsonw_case(void *state, const struct case_result *r, size_t index)
{
	struct jsonw *w = state;
	json_t *o = result_json(r);
	int ret = -ENOMEM;

	(void)index;
	if (o && json_array_append_new(w->cases, o) == 0)
		ret = 0;
	return ret;
}

/* json_dumpf() writes each token with its own fwrite(): 14% of a
 * --format json run at 10,000 connections (perf). Tokens gather here and go
 * out 64 KB at a time. */
struct chunk {
	FILE *f;
	size_t len;
	char buf[65536];
};

static int chunk_flush(struct chunk *c)
{
	int ret = c->len && fwrite(c->buf, 1, c->len, c->f) != c->len ? -1 : 0;

	c->len = 0;
	return ret;
}

static int chunk_add(const char *s, size_t n, void *data)
{
	struct chunk *c = data;

	if (c->len + n > sizeof(c->buf) && chunk_flush(c) < 0)
		return -1;
	if (n > sizeof(c->buf))
		return fwrite(s, 1, n, c->f) == n ? 0 : -1;
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	return 0;
}

static int jsonw_end(void *state, const struct report_summary *sum)
{
	struct jsonw *w = state;
	struct chunk *chunk;
	json_t *doc;
	struct utsname un;
	int ret = -ENOMEM;

	/* the kernel names a column when reports of several kernels are merged */
	if (uname(&un) < 0)
		memset(&un, 0, sizeof(un));
	doc = json_pack(
	    "{s:s,s:i,s:i,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:{s:s,s:s}},s:O}", "generator", "finwave", "version",
	    REPORT_JSON_VERSION, "result_schema", RESULT_SCHEMA_VERSION, "run", "total",
	    (json_int_t)w->total, "passed", (json_int_t)sum->counts[CASE_PASS], "failed",
	    (json_int_t)sum->counts[CASE_FAIL], "skipped", (json_int_t)sum->counts[CASE_SKIP],
	    "errors", (json_int_t)sum->counts[CASE_ERROR], "inconclusive",
	    (json_int_t)sum->counts[CASE_INCONCLUSIVE], "wall_ns", (json_int_t)sum->wall_ns,
	    "interrupted", sum->interrupted, "kernel", "release",
	    sum->kernel_release ? sum->kernel_release : un.release, "version",
	    sum->kernel_version ? sum->kernel_version : un.version,
	    "cases", w->cases);
	chunk = malloc(sizeof(*chunk));
	if (chunk) {
		chunk->f = w->out.f;
		chunk->len = 0;
	}
	if (doc && chunk && json_dump_callback(doc, chunk_add, chunk, JSON_INDENT(1)) == 0 &&
	    chunk_flush(chunk) == 0) {
		fputc('\n', w->out.f);
		ret = 0;
	}
	free(chunk);
	if (ret == 0)
		ret = report_close(&w->out);
	else
		report_abort(&w->out);
	json_decref(doc);
	json_decref(w->cases);
	free(w);
	return ret;
}

const struct report_ops report_json = {"json", false, jsonw_begin_out, jsonw_case, jsonw_end};
const struct report_ops report_json_file = {"json-file", true, jsonw_begin_file, jsonw_case,
					    jsonw_end};
