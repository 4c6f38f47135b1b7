/* report: every output format behind one ops table (console, TAP, pcap, ...).
 * The harness calls begin() once, case_done() for each finished case in
 * catalog order, and end() once; a writer keeps its own state. */
#ifndef FW_REPORT_H
#define FW_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "result.h"

struct report_ctx {
	FILE *out;       /* stdout, for writers that print */
	const char *dir; /* --report-dir, or NULL */
	bool color;      /* out is a terminal */
	bool verbose;    /* print every case's timeline */
	bool quiet;      /* print only failures and the summary */
	size_t total;    /* cases in this run */
};

struct report_summary {
	size_t counts[CASE_ERROR + 1]; /* by status */
	int64_t wall_ns;
	bool interrupted;
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

/* Create dir and every parent of path inside it ("a/b/c.pcap" -> a/b/). */
int report_mkdirs(const char *dir, const char *relpath);

#endif
