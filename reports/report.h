/* report: every output format behind one ops table (console, TAP, JUnit,
 * JSON, pcap, HTML). The harness calls begin() once, case_done() for each
 * finished case in catalog order, and end() once; a writer keeps its own
 * state. Writers of whole documents (JUnit, JSON, HTML index) collect in
 * case_done() and write in end(), when the run's totals are known. */
#ifndef FW_REPORT_H
#define FW_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "report_dir.h"
#include "result.h"

struct report_ctx {
	FILE *out;       /* stdout, for writers that print */
	const char *dir; /* --report-dir, or NULL */
	struct report_dir *rdir; /* dir, opened (report_dir.h): files go through it */
	bool color;      /* colour escapes on out (a terminal) */
	bool progress;   /* a live "[3/48] name…" line on out (a terminal) */
	const char *const *names; /* the run's case names in catalog order, or NULL */
	bool verbose;    /* print every case's timeline */
	bool quiet;      /* print only failures and the summary */
	size_t total;    /* cases in this run */
	const char *claims_file; /* the claims list (docs/claims.md) for the claims table */
};

struct report_summary {
	size_t counts[CASE_STATUS_COUNT]; /* by status */
	int64_t wall_ns;
	bool interrupted;
	/* the kernel the cases ran on; NULL: this one (uname). 'finwave merge'
	 * writes reports of other machines' kernels */
	const char *kernel_release, *kernel_version;
};

struct report_ops {
	const char *name;
	bool to_file; /* writes into --report-dir (else prints to out) */
	int (*begin)(const struct report_ctx *ctx, void **state);
	int (*case_done)(void *state, const struct case_result *r, size_t index);
	int (*end)(void *state, const struct report_summary *sum);
};

extern const struct report_ops report_console;
extern const struct report_ops report_tap;      /* prints TAP to out */
extern const struct report_ops report_tap_file; /* DIR/results.tap */
extern const struct report_ops report_pcap;     /* DIR/<case-name>.pcap */
extern const struct report_ops report_junit;      /* prints JUnit XML to out */
extern const struct report_ops report_junit_file; /* DIR/results.xml */
extern const struct report_ops report_json;       /* prints the JSON document to out */
extern const struct report_ops report_json_file;  /* DIR/results.json */
extern const struct report_ops report_html;       /* DIR/index.html, DIR/cases/<name>.html */

/* What --format may name (writers to stdout), and every writer that
 * --report-dir adds; both NULL-terminated. */
extern const struct report_ops report_claims; /* the claims table on out */
extern const struct report_ops *const report_stdout_writers[];
extern const struct report_ops *const report_dir_writers[];
/* The stdout writer called name, or NULL. */
const struct report_ops *report_stdout_find(const char *name);

/* Version of the JSON report document (docs/results.schema.json). */
#define REPORT_JSON_VERSION 1

/* A writer's output: ctx->out, or DIR/relpath (created with its parents,
 * written under a temporary name, report_dir.h) when to_file. Returns 0 or
 * -errno. Close with report_close(), which returns 0 or -errno (any failed
 * write, ENOSPC at the last flush too) and only then names the file. */
struct report_out {
	FILE *f;
	bool own;
	struct report_file file;
};
int report_open(const struct report_ctx *ctx, bool to_file, const char *relpath,
		struct report_out *o);
int report_close(struct report_out *o);
/* Drop the output of a writer that failed (a file being written is removed). */
void report_abort(struct report_out *o);
/* Everything printed on f reached it: 0, or -errno of the failed write. */
int report_flush(FILE *f);
/* One line on stderr: which report could not be written, and why. */
void report_error_print(const struct report_ops *ops, const struct report_ctx *ctx, int ret);

/* Text escaped for XML/HTML character data and double-quoted attributes. Characters
 * XML 1.0 forbids (control characters other than tab and newline, U+FFFE,
 * U+FFFF) become '?', bytes that are no UTF-8 U+FFFD. */
void report_xml_puts(FILE *f, const char *s);
/* Text from a case file for a terminal or a line-based format (console,
 * TAP): no control character (no escape sequence, no '\r'; no '\n' unless
 * newlines) and valid UTF-8, as fw_text_clean() makes it. */
void report_text_puts(FILE *f, const char *s, bool newlines);
/* The timeline as the console prints it with --verbose, one event a line
 * (received copies of segments left out: the sent copy says it all). */
void report_timeline_print(FILE *f, const struct timeline *tl, const char *indent);
/* What a report shows of a timeline. Up to REPORT_VIEW_FULL events, all of
 * it; a case of many connections has ~16 events per connection (157,000 at
 * 10,000), which made a 66 MB case page and a 9 MB JUnit file: then every
 * event that is no connection's (steps, expectations, listeners), and the
 * segments and states of the connections a fault or an injection touched
 * (the first REPORT_VIEW_FAULTED of them) and of the first REPORT_VIEW_FIRST
 * connections; the rest is counted, and stays in results.json and the pcap.
 * v->tl is the timeline to draw: tl itself or v's own shallow copy.
 * report_view_make returns 0, or -ENOMEM with v->tl = tl. */
#define REPORT_VIEW_FULL 2000
#define REPORT_VIEW_FIRST 3
#define REPORT_VIEW_FAULTED 20
struct report_view {
	const struct timeline *tl;
	struct timeline own;
	size_t left_out;            /* events not in the view */
	size_t conns, conns_shown;  /* connections in the timeline, and in the view */
};
int report_view_make(const struct timeline *tl, struct report_view *v);
/* One line saying what the view leaves out (nothing when it leaves nothing). */
void report_view_note(FILE *f, const struct report_view *v, const char *indent);
void report_view_free(struct report_view *v);
/* The ladder diagram of a timeline as one inline <svg> element (ladder.c).
 * Every segment sent is one <g class="seg ..."> group. Returns 0 or -errno. */
int report_ladder_write(FILE *f, const struct timeline *tl);
/* Fill colour of a socket-state band, by TCP state number. */
const char *report_state_color(int state);

/* Case name split as JUnit wants it: "time_wait/rst" -> "time_wait" (the
 * directory; "finwave" at the top level). */
void report_case_dir(const char *name, char *buf, size_t len);

#endif
