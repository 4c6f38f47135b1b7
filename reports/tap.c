/* tap: TAP version 13, one test point per case; the failure evidence goes
 * in a YAML diagnostic block, as TAP 13 allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

struct tap {
	FILE *f;
	bool own;
	size_t total;
};

static int tap_open(const struct report_ctx *ctx, void **state, bool to_file)
{
	struct tap *t = calloc(1, sizeof(*t));
	char path[1024];

	if (!t)
		return -ENOMEM;
	t->f = ctx->out;
	if (to_file) {
		int ret = report_mkdirs(ctx->dir, "results.tap");

		snprintf(path, sizeof(path), "%s/results.tap", ctx->dir);
		t->f = ret < 0 ? NULL : fopen(path, "w");
		if (!t->f) {
			free(t);
			return ret < 0 ? ret : -errno;
		}
		t->own = true;
	}
	t->total = ctx->total;
	fprintf(t->f, "TAP version 13\n1..%zu\n", ctx->total);
	*state = t;
	return 0;
}

static int tap_begin_out(const struct report_ctx *ctx, void **state)
{
	return tap_open(ctx, state, false);
}

static int tap_begin_file(const struct report_ctx *ctx, void **state)
{
	return tap_open(ctx, state, true);
}

static int tap_case(void *state, const struct case_result *r, size_t index)
{
	struct tap *t = state;
	const char *line, *nl;
	char dur[32];

	fw_duration_format(r->duration_ns, dur, sizeof(dur));
	fprintf(t->f, "%s %zu - %s", r->status == CASE_FAIL || r->status == CASE_ERROR ? "not ok" : "ok",
		index + 1, r->name);
	if (r->status == CASE_SKIP)
		fprintf(t->f, " # SKIP %s", r->message);
	fputc('\n', t->f);
	if (r->status == CASE_FAIL || r->status == CASE_ERROR) {
		fprintf(t->f, "  ---\n  status: %s\n  duration: %s\n  message: |\n",
			case_status_name(r->status), dur);
		for (line = r->message; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			fprintf(t->f, "    %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
			if (!nl)
				break;
		}
		fprintf(t->f, "  ...\n");
	}
	fflush(t->f);
	return 0;
}

static int tap_end(void *state, const struct report_summary *sum)
{
	struct tap *t = state;
	int ret = 0;

	if (sum->interrupted)
		fprintf(t->f, "Bail out! interrupted\n");
	if (t->own && fclose(t->f) != 0)
		ret = -errno;
	free(t);
	return ret;
}

const struct report_ops report_tap = { "tap", false, tap_begin_out, tap_case, tap_end };
const struct report_ops report_tap_file = { "tap-file", true, tap_begin_file, tap_case, tap_end };
