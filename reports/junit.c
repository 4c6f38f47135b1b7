/* junit: JUnit XML as Ant's formatter writes it and Jenkins, GitLab and
 * GitHub importers read it: <testsuites><testsuite> with one <testcase> per
 * case; classname is the case's directory, name the rest. A FAIL is a
 * <failure> whose message is expected vs actual, an ERROR an <error>, a SKIP
 * <skipped>; <system-out> holds the case's timeline. The totals head the
 * document, so cases are collected in memory and written at the end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

struct junit {
	struct report_out out;
	char *body; /* the <testcase> elements so far */
	size_t body_len;
	FILE *mem;
};

static int junit_open(const struct report_ctx *ctx, void **state, bool to_file)
{
	struct junit *j = calloc(1, sizeof(*j));
	int ret = -ENOMEM;

	if (!j)
		goto out;
	j->mem = open_memstream(&j->body, &j->body_len);
	if (!j->mem)
		goto out;
	ret = report_open(ctx, to_file, "results.xml", &j->out);
	if (ret < 0)
		goto out;
	*state = j;
	j = NULL;
out:
	if (j && j->mem)
		fclose(j->mem);
	if (j)
		free(j->body);
	free(j);
	return ret;
}

static int junit_begin_out(const struct report_ctx *ctx, void **state)
{
	return junit_open(ctx, state, false);
}

static int junit_begin_file(const struct report_ctx *ctx, void **state)
{
	return junit_open(ctx, state, true);
}

/* The message attribute is one line for a CI's summary view: the expected
 * line and, when the engine gave one, the "actual:" line after it. */
static void short_message(FILE *f, const char *msg)
{
	size_t first = strcspn(msg, "\n");
	const char *second = msg[first] ? msg + first + 1 : "";
	char line[1024];

	snprintf(line, sizeof(line), "%.*s", (int)first, msg);
	second += strspn(second, " ");
	if (strncmp(second, "actual:", 7) == 0) {
		size_t n = strlen(line);

		snprintf(line + n, sizeof(line) - n, "; %.*s", (int)strcspn(second, "\n"), second);
	}
	report_xml_puts(f, line);
}

/* The timeline as the console shows it, escaped: a step text may hold '<'. */
static int timeline_xml(FILE *f, const struct timeline *tl)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct report_view v;
	int ret = -ENOMEM;

	if (!m)
		return ret;
	(void)report_view_make(tl, &v); /* without memory: all of it */
	report_view_note(m, &v, "");
	report_timeline_print(m, v.tl, "");
	report_view_free(&v);
	if (fclose(m) == 0) {
		report_xml_puts(f, text);
		ret = 0;
	}
	free(text);
	return ret;
}

static const char *const outcome_element[] = {
    [CASE_PASS] = NULL,
    [CASE_FAIL] = "failure",
    [CASE_SKIP] = "skipped",
    [CASE_ERROR] = "error",
    [CASE_INCONCLUSIVE] = "error", /* the harness, not the kernel, is in doubt */
};

static int junit_case(void *state, const struct case_result *r, size_t index)
{
	struct junit *j = state;
	const char *base = strrchr(r->name, '/');
	const char *el = outcome_element[r->status];
	char dir[CASE_MAX_NAME];
	size_t i;

	(void)index;
	report_case_dir(r->name, dir, sizeof(dir));
	fputs("    <testcase name=\"", j->mem);
	report_xml_puts(j->mem, base ? base + 1 : r->name);
	fputs("\" classname=\"", j->mem);
	report_xml_puts(j->mem, dir);
	fprintf(j->mem, "\" time=\"%.3f\" file=\"", (double)r->duration_ns / FW_NS_PER_SEC);
	report_xml_puts(j->mem, r->path);
	fputs("\">\n", j->mem);
	if (el) {
		fprintf(j->mem, "      <%s message=\"", el);
		short_message(j->mem, r->message);
		fprintf(j->mem, "\" type=\"%s\">", case_status_name(r->status));
		report_xml_puts(j->mem, r->message);
		fprintf(j->mem, "</%s>\n", el);
	}
	fputs("      <system-out>", j->mem);
	fputs("summary: ", j->mem);
	report_xml_puts(j->mem, r->summary);
	fputs("\nclaims:", j->mem);
	for (i = 0; i < r->nclaims; i++) {
		fputc(' ', j->mem);
		report_xml_puts(j->mem, r->claims[i]);
	}
	fputs("\ntimeline:\n", j->mem);
	if (timeline_xml(j->mem, &r->tl) < 0)
		return -ENOMEM;
	fputs("</system-out>\n    </testcase>\n", j->mem);
	return ferror(j->mem) ? -ENOMEM : 0;
}

static int junit_end(void *state, const struct report_summary *sum)
{
	struct junit *j = state;
	size_t tests = 0;
	char totals[256];
	int ret, k;

	ret = fclose(j->mem) != 0 ? -ENOMEM : 0;
	for (k = CASE_PASS; k < CASE_STATUS_COUNT; k++)
		tests += sum->counts[k];
	snprintf(totals, sizeof(totals),
		 "tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\"",
		 tests, sum->counts[CASE_FAIL],
		 sum->counts[CASE_ERROR] + sum->counts[CASE_INCONCLUSIVE], sum->counts[CASE_SKIP],
		 (double)sum->wall_ns / FW_NS_PER_SEC);
	fprintf(j->out.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(j->out.f, "<testsuites name=\"finwave\" %s>\n", totals);
	fprintf(j->out.f, "  <testsuite name=\"finwave\" %s>\n", totals);
	if (ret == 0 && j->body)
		fwrite(j->body, 1, j->body_len, j->out.f);
	if (sum->interrupted)
		fputs("    <system-err>interrupted: the runs that did not finish are skipped, marked not run</system-err>\n",
		      j->out.f);
	fputs("  </testsuite>\n</testsuites>\n", j->out.f);
	if (ret == 0)
		ret = report_close(&j->out);
	else
		report_abort(&j->out);
	free(j->body);
	free(j);
	return ret;
}

const struct report_ops report_junit = {"junit", false, junit_begin_out, junit_case, junit_end};
const struct report_ops report_junit_file = {"junit-file", true, junit_begin_file, junit_case,
					     junit_end};
