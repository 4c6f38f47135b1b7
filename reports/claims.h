/* claims: the table a sysctl lab hands to its users. For each claim of
 * docs/claims.md: the runs that cover it, whether it holds on this kernel,
 * and why in one sentence: the case's `verdict` when it does not hold, its
 * `condition` when it holds only under one, else what the deciding case
 * shows. Built from case results: a fresh run, or a results.json. */
#ifndef FW_CLAIMS_H
#define FW_CLAIMS_H

#include <stddef.h>
#include <stdio.h>

#include "result.h"

struct claim {
	char id[8];
	char text[512];
};

enum claim_status {
	CLAIM_HOLDS,
	CLAIM_HOLDS_IF,      /* holds, under the condition a passing run names */
	CLAIM_DOES_NOT_HOLD, /* a passing run says the kernel does otherwise */
	CLAIM_UNCONFIRMED,   /* a covering run failed or errored */
	CLAIM_NOT_RUN,       /* covered, but every run was skipped: not testable on this kernel */
	CLAIM_NOT_COVERED,
};

/* Read the "| C01 | claim | notes |" rows of a claims file. Returns 0 with
 * *out malloc'd (caller frees), or -errno with err set. */
int claims_load(const char *path, struct claim **out, size_t *n, char *err, size_t errlen);
/* Read the "cases" of a results.json written by --report-dir (or
 * --format json). Returns 0 with *out malloc'd: clear each with
 * result_clear(), then free(). */
int claims_read_results(const char *path, struct case_result **out, size_t *n, char *err,
			size_t errlen);
/* *reason: the verdict (does not hold), the condition (holds if), the
 * failing run's name (unconfirmed), the first skip's reason (not testable). */
enum claim_status claims_judge(const char *id, const struct case_result *res, size_t nres,
			       const char **reason);
const char *claim_status_name(enum claim_status s);
/* The table, one claim per block; returns how many claims do not hold. */
size_t claims_print(FILE *f, const struct claim *claims, size_t n, const struct case_result *res,
		    size_t nres);

#endif
