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
};

const char *case_status_name(enum case_status s); /* "PASS", "FAIL", "SKIP", "ERROR" */

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
	char message[4096]; /* FAIL/ERROR/SKIP: expected vs actual and the context */
	struct timeline tl;
};

/* Fill the descriptive fields from the case. */
void result_init(struct case_result *r, const struct fw_case *c);
void result_clear(struct case_result *r); /* frees the timeline */

/* Serialise to a malloc'd JSON string (caller frees) / parse one back.
 * result_from_json returns 0 or -EINVAL. */
char *result_to_json(const struct case_result *r);
int result_from_json(const char *json, struct case_result *r, char *err, size_t errlen);

#endif
