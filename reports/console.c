/* console: one line per case, the failure evidence indented under it. On a
 * terminal a live progress line "[3/48] next/case…" sits under the last
 * result and is erased before the next one is printed; a pipe or a file
 * never sees it, nor colour. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

struct console {
	struct report_ctx ctx;
	size_t done;
	size_t not_run; /* interrupted: counted, said once at the end */
};

static const char *const status_colors[] = {
    [CASE_PASS] = "\033[32m",
    [CASE_FAIL] = "\033[31m",
    [CASE_SKIP] = "\033[33m",
    [CASE_ERROR] = "\033[35m",
    [CASE_INCONCLUSIVE] = "\033[36m",
};

/* Cases finish in any order but are reported in catalog order, so the
 * next one in the catalog is the one being waited for. */
static void progress_show(struct console *c)
{
	if (!c->ctx.progress || c->ctx.quiet || c->done >= c->ctx.total)
		return;
	const char *name = c->ctx.names ? c->ctx.names[c->done] : "";
	char *clean = fw_text_clean(name, false);
	size_t cut = 0, n;

	/* Short enough not to wrap, or "\r\033[K" would erase only its tail;
	 * cut between characters, never inside one. */
	while (clean && clean[cut] && (fw_utf8_next(clean + cut, &n), cut + n <= 56))
		cut += n;
	fprintf(c->ctx.out, "[%zu/%zu] %.*s\xe2\x80\xa6", c->done + 1, c->ctx.total, (int)cut,
		clean ? clean : "");
	free(clean);
	fflush(c->ctx.out);
}

static void progress_erase(const struct console *c)
{
	if (c->ctx.progress && !c->ctx.quiet)
		fputs("\r\033[K", c->ctx.out);
}

static int console_begin(const struct report_ctx *ctx, void **state)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->ctx = *ctx;
	*state = c;
	progress_show(c);
	return 0;
}

static void print_indented(FILE *out, const char *text)
{
	const char *line = text, *nl;

	while (*line) {
		char *one;

		nl = strchr(line, '\n');
		one = strndup(line, nl ? (size_t)(nl - line) : strlen(line));
		fputs("    ", out);
		report_text_puts(out, one ? one : "", false);
		fputc('\n', out);
		free(one);
		if (!nl)
			break;
		line = nl + 1;
	}
}

static int console_case(void *state, const struct case_result *r, size_t index)
{
	struct console *c = state;
	char dur[32];

	c->done = index + 1;
	progress_erase(c);
	c->not_run += r->not_run;
	if (!r->not_run && (!c->ctx.quiet || r->status != CASE_PASS)) {
		fw_duration_format(r->duration_ns, dur, sizeof(dur));
		fprintf(c->ctx.out, "%s%-5s%s ", c->ctx.color ? status_colors[r->status] : "",
			case_status_name(r->status), c->ctx.color ? "\033[0m" : "");
		report_text_puts(c->ctx.out, r->name, false); /* no escape from a case file */
		fprintf(c->ctx.out, " (%s)\n", dur);
		if (r->status != CASE_PASS && r->message[0])
			print_indented(c->ctx.out, r->message);
		if (c->ctx.verbose) {
			struct report_view v;

			(void)report_view_make(&r->tl, &v); /* without memory: all of it */
			report_view_note(c->ctx.out, &v, "    ");
			report_timeline_print(c->ctx.out, v.tl, "    ");
			report_view_free(&v);
		}
	}
	progress_show(c);
	return report_flush(c->ctx.out);
}

static int console_end(void *state, const struct report_summary *sum)
{
	struct console *c = state;
	char wall[32];
	int ret;

	if (c->done < c->ctx.total)
		progress_erase(c);
	if (c->not_run)
		fprintf(c->ctx.out, "%zu run(s) not run: interrupted before they finished\n",
			c->not_run);
	fw_duration_format(sum->wall_ns, wall, sizeof(wall));
	fprintf(c->ctx.out, "%s%zu passed, %zu failed, %zu skipped, %zu errors",
		sum->interrupted ? "interrupted: " : "", sum->counts[CASE_PASS],
		sum->counts[CASE_FAIL], sum->counts[CASE_SKIP], sum->counts[CASE_ERROR]);
	if (sum->counts[CASE_INCONCLUSIVE])
		fprintf(c->ctx.out, ", %zu inconclusive", sum->counts[CASE_INCONCLUSIVE]);
	fprintf(c->ctx.out, " in %s\n", wall);
	ret = report_flush(c->ctx.out);
	free(c);
	return ret;
}

const struct report_ops report_console = {"console", false, console_begin, console_case,
					  console_end};
