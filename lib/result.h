/* result: the outcome of one case, and its JSON form.
 * A case runs in its own process; its result travels to the harness as one
 * JSON document (jansson), which is also what the JSON report is made of. */
#ifndef FW_RESULT_H
#define FW_RESULT_H

#include <stdint.h>

#include "case.h"
#include "timeline.h"

#define RESULT_SCHEMA_VERSION 1

enum case_status {
	CASE_PASS,
	CASE_FAIL,
	CASE_SKIP,
	CASE_ERROR,
	/* A timing expectation failed in every attempt while the harness itself
	 * ran late enough to explain it: neither PASS nor a kernel FAIL. */
	CASE_INCONCLUSIVE,
};
#define CASE_STATUS_COUNT (CASE_INCONCLUSIVE + 1)

/* "PASS", "FAIL", "SKIP", "ERROR", "INCONCLUSIVE" */
const char *case_status_name(enum case_status s);

/* How late the harness itself was in one run, ns (each the worst seen). */
struct run_lateness {
	int64_t dwell_max_ns;   /* a segment's wait in the interceptor's queue */
	uint32_t queued;        /* segments that went through the queue */
	int64_t release_max_ns; /* a delayed/held segment or a copy let go after it was due */
	int64_t wake_max_ns;    /* the event loop after a deadline or a captured segment */
	int64_t step_max_ns;    /* an action step's start after the previous step ended */
};

int64_t run_lateness_max(const struct run_lateness *l);

struct case_result {
	char name[CASE_MAX_NAME];
	char path[512];
	char summary[CASE_MAX_TEXT];
	char verdict[CASE_MAX_TEXT];
	char condition[CASE_MAX_TEXT]; /* the case's condition for its claims (case.h) */
	char claims[CASE_MAX_LIST][8];
	size_t nclaims;
	enum case_status status;
	int64_t duration_ns;
	char message[4096]; /* FAIL/ERROR/SKIP/INCONCLUSIVE: expected vs actual and the context */
	struct run_lateness late;
	/* The failure was a timing expectation and the lateness above could
	 * explain it: the scheduler runs the case again (bounded). */
	bool late_explains;
	unsigned attempts; /* runs made for this verdict, >= 1 */
	struct timeline tl;
	/* SKIP because the run was interrupted before it finished (the harness's
	 * own note, not serialised: the message says "not run: ..." to readers) */
	bool not_run;
};

/* Fill the descriptive fields from the case. */
void result_init(struct case_result *r, const struct fw_case *c);
void result_clear(struct case_result *r); /* frees the timeline */

/* Serialise to a malloc'd JSON string (caller frees) / parse one back.
 * result_from_json returns 0 or -EINVAL. */
char *result_to_json(const struct case_result *r);
/* The same as a jansson object (a new reference, or NULL): a report that
 * gathers cases into one document takes it without a dump and a parse. */
struct json_t;
struct json_t *result_json(const struct case_result *r);
int result_from_json(const char *json, struct case_result *r, char *err, size_t errlen);

/* The same result in binary (result_wire.c), from a case process to the
 * harness that forked it: every field, and ~100 times cheaper than JSON for
 * a timeline of many connections. result_to_wire returns a malloc'd buffer
 * of *len bytes or NULL; result_from_wire returns 0, -EINVAL for anything
 * cut short or malformed (err says what), -ENOMEM. */
char *result_to_wire(const struct case_result *r, size_t *len);
int result_from_wire(const char *buf, size_t len, struct case_result *r, char *err,
		     size_t errlen);
/* Which bytes of a struct fw_event the binary form carries (covered[i] = 1,
 * sizeof(struct fw_event) of them): test_result checks that every byte
 * that is not padding is one, so a field added to the event and not to the
 * binary form's list fails a test instead of vanishing on the way. */
void result_wire_event_cover(uint8_t *covered);

#endif
