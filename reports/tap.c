/* tap: TAP version 13, one test point per case; the failure evidence goes
 * in a YAML diagnostic block, as TAP 13 allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

struct tap {
	struct report_out out;
};

static int tap_open(const struct report_ctx *ctx, void **state, bool to_file)
{
	struct tap *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	ret = report_open(ctx, to_file, "results.tap", &t->out);
	if (ret < 0) {
		free(t);
		return ret;
	}
	fprintf(t->out.f, "TAP version 13\n1..%zu\n", ctx->total);
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
	/* a newline or escape in a case's text must not make a TAP line of its own */
	char *name = fw_text_clean(r->name, false), *msg = fw_text_clean(r->message, true);
	const char *line, *nl, *p;
	char dur[32];

	if (!name || !msg) {
		free(name);
		free(msg);
		return -ENOMEM;
	}
	fw_duration_format(r->duration_ns, dur, sizeof(dur));
	bool bad = r->status == CASE_FAIL || r->status == CASE_ERROR ||
		   r->status == CASE_INCONCLUSIVE;

	fprintf(t->out.f, "%s %zu - ", bad ? "not ok" : "ok", index + 1);
	/* A '#' in a description would start a directive: TAP 13 escapes it. */
	for (p = name; *p; p++) {
		if (*p == '#')
			fputc('\\', t->out.f);
		fputc(*p, t->out.f);
	}
	if (r->status == CASE_SKIP) /* a directive ends at the line's end */
		fprintf(t->out.f, " # SKIP %.*s", (int)strcspn(msg, "\n"), msg);
	fputc('\n', t->out.f);
	if (bad) {
		fprintf(t->out.f, "  ---\n  status: %s\n  duration: %s\n  message: |\n",
			case_status_name(r->status), dur);
		for (line = msg; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			fprintf(t->out.f, "    %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
			if (!nl)
				break;
		}
		fprintf(t->out.f, "  ...\n");
	}
	free(name);
	free(msg);
	/* the file is flushed whole at the end; stdout line by line, as it goes */
	return t->out.own ? 0 : report_flush(t->out.f);
}

static int tap_end(void *state, const struct report_summary *sum)
{
	struct tap *t = state;
	int ret;

	if (sum->interrupted)
		fprintf(t->out.f, "Bail out! interrupted\n");
	ret = report_close(&t->out);
	free(t);
	return ret;
}

const struct report_ops report_tap = { "tap", false, tap_begin_out, tap_case, tap_end };
const struct report_ops report_tap_file = { "tap-file", true, tap_begin_file, tap_case, tap_end };
