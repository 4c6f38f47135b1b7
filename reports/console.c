/* console: one line per case, the failure evidence indented under it. */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

struct console {
	struct report_ctx ctx;
};

static const char *const status_colors[] = {
	[CASE_PASS] = "\033[32m", [CASE_FAIL] = "\033[31m", [CASE_SKIP] = "\033[33m",
	[CASE_ERROR] = "\033[35m",
};

static int console_begin(const struct report_ctx *ctx, void **state)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->ctx = *ctx;
	*state = c;
	return 0;
}

static void print_indented(FILE *out, const char *text)
{
	const char *line = text, *nl;

	while (*line) {
		nl = strchr(line, '\n');
		fprintf(out, "    %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
		if (!nl)
			break;
		line = nl + 1;
	}
}

static int console_case(void *state, const struct case_result *r, size_t index)
{
	struct console *c = state;
	char dur[32], t[32];
	size_t i;

	(void)index;
	if (c->ctx.quiet && r->status == CASE_PASS)
		return 0;
	fw_duration_format(r->duration_ns, dur, sizeof(dur));
	fprintf(c->ctx.out, "%s%-5s%s %s (%s)\n", c->ctx.color ? status_colors[r->status] : "",
		case_status_name(r->status), c->ctx.color ? "\033[0m" : "", r->name, dur);
	if (r->status != CASE_PASS && r->message[0])
		print_indented(c->ctx.out, r->message);
	if (c->ctx.verbose) {
		for (i = 0; i < r->tl.n; i++) {
			const struct fw_event *e = &r->tl.ev[i];

			if (e->kind == EV_SEGMENT && !e->sent)
				continue;
			fw_duration_format(e->t_ns, t, sizeof(t));
			fprintf(c->ctx.out, "    %10s %-7s %s\n", t, ev_kind_name(e->kind), e->text);
		}
	}
	fflush(c->ctx.out);
	return 0;
}

static int console_end(void *state, const struct report_summary *sum)
{
	struct console *c = state;
	char wall[32];

	fw_duration_format(sum->wall_ns, wall, sizeof(wall));
	fprintf(c->ctx.out, "%s%zu passed, %zu failed, %zu skipped, %zu errors in %s\n",
		sum->interrupted ? "interrupted: " : "", sum->counts[CASE_PASS],
		sum->counts[CASE_FAIL], sum->counts[CASE_SKIP], sum->counts[CASE_ERROR], wall);
	free(c);
	return 0;
}

const struct report_ops report_console = { "console", false, console_begin, console_case,
					   console_end };
