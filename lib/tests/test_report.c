/* Unit tests of the report writers, on recorded results
 * (the JSON files in tests/fixtures/reports, real runs saved by the JSON writer):
 * TAP, JUnit and JSON must equal the golden files byte for byte; the ladder
 * draws one arrow per segment sent, a cross per drop, a bar per hold; the
 * HTML pages link where the files are; the console's progress line and
 * colour appear only when asked for. No root, no namespaces.
 *
 * After a deliberate change of a format, regenerate the golden files with
 *   FW_UPDATE_GOLDEN=1 build/lib/tests/test_report
 * and review the diff: it is what every user of that format will see. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "result.h"
#include "util.h"

static const char *const fixture_names[] = {
    "four-way.json",
    "first-fin-lost.json",
    "rfc1337-assassinated.json",
};
#define NFIXTURES (sizeof(fixture_names) / sizeof(fixture_names[0]))
#define NRESULTS (NFIXTURES + 2) /* and a SKIP and an ERROR made here */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void fixture_path(const char *name, char *buf, size_t len)
{
	const char *src = getenv("FW_SOURCE_DIR");

	snprintf(buf, len, "%s/tests/fixtures/reports/%s", src ? src : ".", name);
}

static void load(const char *name, struct case_result *r)
{
	char path[1024], err[FW_ERRLEN] = "";
	char *json;

	fixture_path(name, path, sizeof(path));
	json = slurp(path);
	if (result_from_json(json, r, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	free(json);
}

/* The three recorded cases, then a SKIP and an ERROR with no timeline. */
static struct case_result *results_load(void)
{
	struct case_result *rs = calloc(NRESULTS, sizeof(*rs));
	size_t i;

	assert_non_null(rs);
	for (i = 0; i < NFIXTURES; i++)
		load(fixture_names[i], &rs[i]);
	/* A name that links and TAP must escape. */
	snprintf(rs[3].name, sizeof(rs[3].name), "sysctl/needs knob#2");
	snprintf(rs[3].path, sizeof(rs[3].path), "cases/sysctl/needs-knob.yaml");
	snprintf(rs[3].summary, sizeof(rs[3].summary), "A knob this kernel lacks");
	snprintf(rs[3].message, sizeof(rs[3].message),
		 "this kernel has no net.ipv4.tcp_no_such_knob\nsecond line");
	rs[3].status = CASE_SKIP;
	snprintf(rs[4].name, sizeof(rs[4].name), "top-level");
	snprintf(rs[4].path, sizeof(rs[4].path), "top-level.yaml");
	snprintf(rs[4].summary, sizeof(rs[4].summary), "A case the engine could not run");
	snprintf(rs[4].message, sizeof(rs[4].message),
		 "cannot create a network namespace: Operation not permitted");
	rs[4].status = CASE_ERROR;
	rs[4].duration_ns = 1500000;
	return rs;
}

static void results_free(struct case_result *rs)
{
	size_t i;

	for (i = 0; i < NRESULTS; i++)
		result_clear(&rs[i]);
	free(rs);
}

/* Run one writer over every result; its output (to out) comes back malloc'd. */
static char *run_writer(const struct report_ops *ops, struct report_ctx *ctx,
			const struct case_result *rs, size_t n)
{
	/* a fixed kernel: the golden file is the same on every machine */
	struct report_summary sum = {.wall_ns = 2 * FW_NS_PER_SEC, .kernel_release = "6.1.0-57-amd64",
				     .kernel_version = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)"};
	char *text = NULL;
	size_t len = 0, i;
	void *state = NULL;

	ctx->out = open_memstream(&text, &len);
	assert_non_null(ctx->out);
	ctx->total = n;
	assert_int_equal(ops->begin(ctx, &state), 0);
	for (i = 0; i < n; i++) {
		sum.counts[rs[i].status]++;
		assert_int_equal(ops->case_done(state, &rs[i], i), 0);
	}
	assert_int_equal(ops->end(state, &sum), 0);
	assert_int_equal(fclose(ctx->out), 0);
	return text;
}

static void golden_check(const struct report_ops *ops, const char *golden)
{
	struct case_result *rs = results_load();
	struct report_ctx ctx = {0};
	char path[1024], *got, *want;

	fixture_path(golden, path, sizeof(path));
	got = run_writer(ops, &ctx, rs, NRESULTS);
	if (getenv("FW_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(got, f);
		assert_int_equal(fclose(f), 0);
	}
	want = slurp(path);
	if (strcmp(got, want) != 0) {
		size_t i = 0;

		while (got[i] && got[i] == want[i])
			i++;
		fail_msg("%s output differs from %s at byte %zu: got \"%.60s\", want \"%.60s\"",
			 ops->name, path, i, got + i, want + i);
	}
	free(want);
	free(got);
	results_free(rs);
}

static void test_golden_tap(void **state)
{
	(void)state;
	golden_check(&report_tap, "golden.tap");
}

static void test_golden_junit(void **state)
{
	(void)state;
	golden_check(&report_junit, "golden.xml");
}

/* TAP 13: a '#' in a description is escaped, or it would start a directive. */
static void test_tap_hash(void **state)
{
	struct case_result *rs = results_load();
	struct report_ctx ctx = {0};
	char *text;

	(void)state;
	text = run_writer(&report_tap, &ctx, rs, NRESULTS);
	assert_non_null(strstr(text, "\nok 4 - sysctl/needs knob\\#2 # SKIP this kernel has no "
				     "net.ipv4.tcp_no_such_knob\n"));
	free(text);
	results_free(rs);
}

static void test_golden_json(void **state)
{
	(void)state;
	golden_check(&report_json, "golden.json");
}

/* The JSON report holds each case exactly as the case process sent it: a
 * tool can read a case back with result_from_json and get the same JSON. */
static void test_json_cases_read_back(void **state)
{
	struct case_result *rs = results_load();
	struct report_ctx ctx = {0};
	char *doc, *p, *again, *orig;
	struct case_result back;
	char err[FW_ERRLEN];

	(void)state;
	doc = run_writer(&report_json, &ctx, rs, 1);
	/* The only case object starts after "cases": [ and is the last value. */
	p = strstr(doc, "\"cases\": [");
	assert_non_null(p);
	p = strchr(p, '{');
	assert_non_null(p);
	*strrchr(doc, ']') = '\0';
	assert_int_equal(result_from_json(p, &back, err, sizeof(err)), 0);
	again = result_to_json(&back);
	orig = result_to_json(&rs[0]);
	assert_string_equal(again, orig);
	/* SYN options and a state's ports survive the trip. */
	assert_non_null(strstr(again, "\"mss\":1460"));
	assert_non_null(strstr(again, "\"wscale\":10"));
	assert_non_null(strstr(again, "\"sack_ok\":true"));
	assert_non_null(strstr(again, "\"sport\":8080,\"dport\":0"));
	assert_non_null(strstr(again, "\"state_name\":\"TIME_WAIT\""));
	free(again);
	free(orig);
	result_clear(&back);
	free(doc);
	results_free(rs);
}

/* An errno the name table lacks still comes back as its number. */
static void test_json_unknown_errno(void **state)
{
	struct case_result r, back;
	struct fw_event e;
	char err[FW_ERRLEN], *json;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&e, 0, sizeof(e));
	e.kind = EV_STEP;
	e.err = 133; /* EHWPOISON: in no socket call's vocabulary */
	snprintf(e.text, sizeof(e.text), "a step");
	assert_non_null(timeline_add(&r.tl, &e));
	json = result_to_json(&r);
	assert_non_null(strstr(json, "\"errno\":133"));
	assert_int_equal(result_from_json(json, &back, err, sizeof(err)), 0);
	assert_int_equal(back.tl.ev[0].err, 133);
	free(json);
	result_clear(&back);
	result_clear(&r);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay += strlen(needle))
		n++;
	return n;
}

static size_t sent_segments(const struct case_result *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->tl.n; i++)
		n += r->tl.ev[i].kind == EV_SEGMENT && r->tl.ev[i].sent;
	return n;
}

static char *ladder_of(const struct case_result *r)
{
	char *svg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&svg, &len);

	assert_non_null(f);
	assert_int_equal(report_ladder_write(f, &r->tl), 0);
	assert_int_equal(fclose(f), 0);
	return svg;
}

static void test_ladder_arrows(void **state)
{
	struct case_result *rs = results_load();
	char *svg;
	size_t i;

	(void)state;
	for (i = 0; i < NRESULTS; i++) {
		svg = ladder_of(&rs[i]);
		assert_int_equal(count(svg, "<g class=\"seg"), sent_segments(&rs[i]));
		assert_int_equal(count(svg, "<svg"), 1);
		assert_int_equal(count(svg, "</svg>"), 1);
		free(svg);
	}
	/* four-way: both pure ACKs of the close held 30 ms at the wire. */
	svg = ladder_of(&rs[0]);
	assert_int_equal(count(svg, " held\""), 2);
	assert_int_equal(count(svg, "<rect class=\"hold\""), 2);
	assert_int_equal(count(svg, " dropped"), 0);
	assert_int_equal(count(svg, "class=\"wire\""), 1);
	assert_int_equal(count(svg, "<g class=\"expect pass\">"), 13);
	free(svg);
	/* first-fin-lost: the FIN dropped twice, the third one arrives. */
	svg = ladder_of(&rs[1]);
	assert_int_equal(count(svg, "<g class=\"seg dropped\">"), 2);
	assert_int_equal(count(svg, "<path class=\"cross\""), 2);
	assert_int_equal(count(svg, " held"), 0);
	free(svg);
	/* rfc1337-assassinated: one injected RST, no wire, one failed expectation. */
	svg = ladder_of(&rs[2]);
	assert_int_equal(count(svg, "<g class=\"seg injected\">"), 1);
	assert_int_equal(count(svg, "class=\"wire\""), 0);
	assert_int_equal(count(svg, "<g class=\"expect fail\">"), 1);
	assert_non_null(strstr(svg, "still TIME_WAIT"));
	free(svg);
	results_free(rs);
}

/* A segment that arrived twice (a duplicate) is one arrow and one extra. */
static void test_ladder_duplicate(void **state)
{
	struct case_result r;
	struct fw_event e;
	char *svg;
	size_t i, n;

	(void)state;
	load("four-way.json", &r);
	n = r.tl.n;
	for (i = 0; i < n; i++)
		if (r.tl.ev[i].kind == EV_SEGMENT && !r.tl.ev[i].sent)
			break;
	assert_true(i < n);
	e = r.tl.ev[i];
	e.raw = NULL;
	e.t_ns = r.tl.ev[n - 1].t_ns + 1;
	assert_non_null(timeline_add(&r.tl, &e));
	svg = ladder_of(&r);
	assert_int_equal(count(svg, "<g class=\"seg"), sent_segments(&r));
	assert_int_equal(count(svg, "<g class=\"extra\">"), 1);
	free(svg);
	result_clear(&r);
}

/* A segment a fault rewrote on its way arrives different from what was
 * sent: still one arrow, through the wire, not a drop plus a stray copy. */
static void test_ladder_rewritten(void **state)
{
	struct case_result r;
	char *svg;
	size_t i, fault = 0;

	(void)state;
	load("four-way.json", &r);
	for (i = 0; i < r.tl.n && !fault; i++)
		if (r.tl.ev[i].kind == EV_FAULT && !r.tl.ev[i].released)
			fault = i;
	assert_true(fault > 0);
	for (i = fault; i < r.tl.n; i++)
		if (r.tl.ev[i].kind == EV_SEGMENT && !r.tl.ev[i].sent)
			break;
	assert_true(i < r.tl.n);
	r.tl.ev[i].seg.win ^= 1; /* not compared */
	r.tl.ev[i].seg.seq += 1000;
	svg = ladder_of(&r);
	assert_int_equal(count(svg, "<g class=\"seg"), sent_segments(&r));
	assert_int_equal(count(svg, "<g class=\"extra\">"), 0);
	assert_int_equal(count(svg, " dropped"), 0);
	free(svg);
	result_clear(&r);
}

static void rm_tree(const char *dir)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_html_pages(void **state)
{
	struct case_result *rs = results_load();
	char dir[] = "/tmp/finwave-test-report.XXXXXX", path[1200];
	struct report_ctx ctx = {0};
	char *text, *out;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	ctx.dir = dir;
	assert_int_equal(report_dir_open(dir, &ctx.rdir, NULL, 0), 0);
	out = run_writer(&report_html, &ctx, rs, NRESULTS);
	report_dir_close(ctx.rdir);
	assert_string_equal(out, ""); /* files only */
	snprintf(path, sizeof(path), "%s/index.html", dir);
	text = slurp(path);
	assert_non_null(strstr(text, "<a href=\"cases/close/four-way.html\">close/four-way</a>"));
	assert_non_null(strstr(text, "<a href=\"close/four-way.pcap\">pcap</a>"));
	assert_non_null(
	    strstr(text, "<a href=\"cases/sysctl/needs%20knob%232.html\">sysctl/needs knob#2</a>"));
	assert_non_null(strstr(text, "2 passed, 1 failed, 1 skipped, 1 errors"));
	assert_non_null(strstr(text, "&lt;&quot;&amp;&quot;&gt;")); /* the edited summary */
	assert_null(strstr(text, "<script"));
	assert_null(strstr(text, "http://"));
	free(text);
	snprintf(path, sizeof(path), "%s/cases/close/four-way.html", dir);
	text = slurp(path);
	assert_non_null(strstr(text, "href=\"../../close/four-way.pcap\""));
	assert_non_null(strstr(text, "href=\"../../index.html\""));
	assert_int_equal(count(text, "<svg"), 1);
	free(text);
	snprintf(path, sizeof(path), "%s/cases/top-level.html", dir);
	text = slurp(path);
	assert_non_null(strstr(text, "href=\"../top-level.pcap\""));
	assert_non_null(strstr(text, "Operation not permitted"));
	free(text);
	snprintf(path, sizeof(path), "%s/claims.html", dir);
	assert_int_equal(stat(path, &st), 0);
	text = slurp(path);
	assert_true(strstr(text, ">C01<") < strstr(text, ">C02<"));
	assert_true(strstr(text, ">C02<") < strstr(text, ">C05<"));
	free(text);
	free(out);
	rm_tree(dir);
	results_free(rs);
}

static void test_console_progress(void **state)
{
	struct case_result *rs = results_load();
	struct report_ctx ctx = {0};
	const char *names[NRESULTS + 1];
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < NRESULTS; i++)
		names[i] = rs[i].name;
	ctx.names = names;
	/* Not a terminal: plain lines, no escape, no carriage return. */
	text = run_writer(&report_console, &ctx, rs, NRESULTS);
	assert_null(strchr(text, '\033'));
	assert_null(strchr(text, '\r'));
	assert_non_null(strstr(text, "PASS  close/four-way ("));
	assert_non_null(strstr(text, "FAIL  rfc1337-assassinated ("));
	assert_non_null(strstr(text, "2 passed, 1 failed, 1 skipped, 1 errors in 2.000s\n"));
	free(text);
	/* A terminal: the next case awaited, erased before each result line. */
	ctx.progress = ctx.color = true;
	text = run_writer(&report_console, &ctx, rs, NRESULTS);
	assert_non_null(strstr(text, "[1/5] close/four-way\xe2\x80\xa6\r\033[K\033[32mPASS"));
	assert_non_null(strstr(text, "[3/5] rfc1337-assassinated\xe2\x80\xa6\r\033[K\033[31mFAIL"));
	assert_null(strstr(text, "[6/5]"));
	free(text);
	/* --quiet: failures and the summary only, and no progress. */
	ctx.quiet = true;
	text = run_writer(&report_console, &ctx, rs, NRESULTS);
	assert_null(strstr(text, "close/four-way"));
	assert_null(strchr(text, '\r'));
	assert_non_null(strstr(text, "rfc1337-assassinated"));
	free(text);
	results_free(rs);
}

static void test_xml_escape_and_tables(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	report_xml_puts(f, "a<b&c\"d>e\x01\tf\n");
	fclose(f);
	assert_string_equal(text, "a&lt;b&amp;c&quot;d&gt;e?\tf\n");
	free(text);
	assert_ptr_equal(report_stdout_find("junit"), &report_junit);
	assert_ptr_equal(report_stdout_find("console"), &report_console);
	assert_null(report_stdout_find("html")); /* a directory of files, not a stream */
	assert_null(report_stdout_find("jso"));
}

/* A timeline of many connections is shown through a view: every step and
 * expectation, the connection a fault acted on and the first three in full,
 * the rest counted; a small timeline is shown whole. */
static void test_view_many_connections(void **state)
{
	struct timeline tl = { 0 };
	struct report_view v;
	struct fw_event e;
	size_t i, steps = 0, faulted = 0, first = 0, kept_steps = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	(void)state;
	for (i = 0; i < 3000; i++) {
		uint16_t port = (uint16_t)(40000 + (i % 300)); /* 300 connections, 10 events each */

		memset(&e, 0, sizeof(e));
		e.t_ns = (int64_t)i;
		e.kind = i % 10 == 0 ? EV_STATE : EV_SEGMENT;
		if (i % 500 == 0) {
			e.kind = EV_STEP;
			steps++;
		} else if (port == 40150 && i >= 2000 && i < 2300) {
			e.kind = EV_FAULT; /* the one connection a fault acts on, late in the timeline */
		}
		if (e.kind != EV_STEP) {
			e.seg.sport = i % 2 ? port : 8080; /* both directions: one connection */
			e.seg.dport = i % 2 ? 8080 : port;
		}
		assert_non_null(timeline_add(&tl, &e));
	}
	assert_int_equal(report_view_make(&tl, &v), 0);
	assert_ptr_not_equal(v.tl, &tl);
	assert_int_equal(v.conns, 300);
	assert_int_equal(v.conns_shown, 4);
	assert_int_equal(v.tl->n + v.left_out, tl.n);
	for (i = 0; i < v.tl->n; i++) {
		const struct fw_event *x = &v.tl->ev[i];
		uint16_t port = x->seg.sport == 8080 ? x->seg.dport : x->seg.sport;

		kept_steps += x->kind == EV_STEP;
		faulted += port == 40150;
		first += port >= 40001 && port <= 40003; /* event 0 is a step */
		assert_true(x->kind == EV_STEP || port == 40150 || (port >= 40001 && port <= 40003));
		assert_true(i == 0 || x->t_ns > v.tl->ev[i - 1].t_ns); /* in order */
	}
	assert_int_equal(kept_steps, steps);
	assert_int_equal(faulted, 10);
	assert_int_equal(first, 30);
	m = open_memstream(&text, &len);
	assert_non_null(m);
	report_view_note(m, &v, "");
	fclose(m);
	assert_non_null(strstr(text, "4 of 300 connections shown"));
	assert_non_null(strstr(text, "of the other 296 left out"));
	free(text);
	report_view_free(&v);

	/* small: the timeline itself, nothing said */
	tl.n = REPORT_VIEW_FULL;
	assert_int_equal(report_view_make(&tl, &v), 0);
	assert_ptr_equal(v.tl, &tl);
	assert_int_equal(v.left_out, 0);
	report_view_free(&v);
	tl.n = 3000;
	timeline_clear(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_tap),
	    cmocka_unit_test(test_golden_junit),
	    cmocka_unit_test(test_golden_json),
	    cmocka_unit_test(test_tap_hash),
	    cmocka_unit_test(test_json_cases_read_back),
	    cmocka_unit_test(test_json_unknown_errno),
	    cmocka_unit_test(test_ladder_arrows),
	    cmocka_unit_test(test_ladder_duplicate),
	    cmocka_unit_test(test_ladder_rewritten),
	    cmocka_unit_test(test_html_pages),
	    cmocka_unit_test(test_console_progress),
	    cmocka_unit_test(test_xml_escape_and_tables),
	    cmocka_unit_test(test_view_many_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
